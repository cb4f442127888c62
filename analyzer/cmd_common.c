/*
 * cmd_common.c - what the commands share: opening and scanning a core (or
 * a snapshot), the reference graph's error, warnings and exit codes, the
 * JSON document's frame, number formats, targets, and the chain that
 * holds an object in text and JSON.
 */
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char first_error[1024];

void cmd_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "pyheap: %s\n", msg);
	if (!first_error[0])
		snprintf(first_error, sizeof first_error, "%s", msg);
}

const char *cmd_first_error(void)
{
	return first_error;
}

#define MAX_SNAPSHOT (256u << 20)   /* a types snapshot is small; refuse huge files */

/* ---- opening ---- */

typedef struct progress {
	int on;
	const char *last_phase;
	int last_pct;
} progress;

static void show_progress(const char *phase, uint64_t done, uint64_t total, void *payload)
{
	progress *p = payload;
	int pct = total ? (int)(done * 100 / total) : 0;
	if (p->last_phase == phase && p->last_pct == pct)
		return;
	p->last_phase = phase;
	p->last_pct = pct;
	fprintf(stderr, "\rpyheap: %s %3d%%   ", phase, pct);
}

int cmd_load(cmd_ctx *ctx)
{
	return cmd_open_core(ctx, ctx->core_path, &ctx->core, &ctx->heap);
}

int cmd_open_core(cmd_ctx *ctx, const char *path, core_t **core, ph_heap **heap)
{
	char err[512];
	/* live mode: the process's core taken into memory now */
	if (ctx->pid > 0 && path == ctx->live_label ?
	    core_open_pid(core, ctx->pid, &ctx->copts, NULL, err, sizeof err) < 0 :
	    core_open(core, path, &ctx->copts, err, sizeof err) < 0) {
		cmd_error("%s", err);
		return EXIT_UNUSABLE;
	}
	ph_options o = {.no_dwarf = ctx->no_dwarf, .pool_scan = ctx->pool_scan,
			.totals_only = ctx->totals_only, .buffers = ctx->buffers,
			.visit = ctx->visit, .visit_payload = ctx->visit_payload};
	if (ph_open(heap, *core, &o, err, sizeof err) < 0) {
		cmd_error("%s", err);
		return EXIT_UNUSABLE;
	}
	if (ctx->no_scan)
		return 0;
	struct stat st;
	progress p = {0};
	p.on = !ctx->no_progress && isatty(2) && stat(path, &st) == 0 &&
	       st.st_size > (256ll << 20);
	int rc = ph_scan(*heap, p.on ? show_progress : NULL, &p, err, sizeof err);
	if (p.on)
		fprintf(stderr, "\r%40s\r", "");
	if (rc < 0) {
		cmd_error("%s", err);
		return EXIT_UNUSABLE;
	}
	return 0;
}

/* A file is a snapshot when it starts (after white space) with '{'. */
static int looks_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	int c = EOF;
	if (!f)
		return 0;
	do
		c = fgetc(f);
	while (c == ' ' || c == '\n' || c == '\t' || c == '\r');
	fclose(f);
	return c == '{';
}

static int load_json(const char *path, jr_doc *doc)
{
	struct stat st;
	char err[256];
	FILE *f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		cmd_error("%s: cannot read", path);
		if (f)
			fclose(f);
		return EXIT_UNUSABLE;
	}
	if ((uint64_t)st.st_size > MAX_SNAPSHOT) {
		cmd_error("%s: too big for a types snapshot", path);
		fclose(f);
		return EXIT_UNUSABLE;
	}
	char *text = malloc((size_t)st.st_size + 1);
	size_t n = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!text)
		return cmd_oom();
	text[n] = 0;
	int rc = jr_parse(doc, text, n, err, sizeof err);
	free(text);
	if (rc < 0) {
		cmd_error("%s: %s", path, err);
		return EXIT_UNUSABLE;
	}
	const jr_node *types = jr_get(doc, &doc->nodes[0], "types");
	if (!types || types->type != JR_ARR) {
		cmd_error("%s: not a types snapshot (no \"types\" list; "
			"make one with `pyheap types --json CORE`)", path);
		return EXIT_UNUSABLE;
	}
	return 0;
}

int cmd_open_dump(cmd_ctx *ctx, const char *path, cmd_dump *out)
{
	memset(out, 0, sizeof *out);
	out->dump.path = path;
	if (path != ctx->live_label && looks_json(path)) {
		int rc = load_json(path, &out->doc);
		if (rc == 0)
			out->dump.snapshot = &out->doc;
		return rc;
	}
	int rc = cmd_open_core(ctx, path, &out->core, &out->heap);
	if (rc == 0)
		out->dump.heap = out->heap;
	return rc;
}

void cmd_close_dump(cmd_dump *d)
{
	jr_free(&d->doc);
	ph_free(d->heap);
	core_free(d->core);
	memset(d, 0, sizeof *d);
}

int cmd_build_graph(heapgraph **out, cmd_ctx *ctx)
{
	char err[256];
	if (hg_build(out, ctx->heap, err, sizeof err) == 0)
		return 0;
	cmd_error("%s: %s", ctx->core_path, err);
	return -1;
}

/* ---- errors, warnings, exit codes ---- */

int cmd_oom(void)
{
	cmd_error("out of memory");
	return EXIT_UNUSABLE;
}

unsigned long long cmd_warning_count(const cmd_ctx *ctx)
{
	unsigned long long n = 0;
	if (ctx->core)
		n += core_warning_count(ctx->core);
	if (ctx->heap)
		n += ph_warning_total(ctx->heap);
	return n;
}

int cmd_finish(cmd_ctx *ctx, int rc)
{
	unsigned long long n = cmd_warning_count(ctx);
	if (!ctx->quiet) {
		char num[32];
		for (size_t i = 0; ctx->core && i < core_warning_count(ctx->core); i++)
			fprintf(stderr, "pyheap: warning: %s\n", core_warning(ctx->core, i));
		for (size_t i = 0; ctx->heap && i < ph_warning_kinds(ctx->heap); i++)
			fprintf(stderr, "pyheap: warning: %s %s\n",
				cmd_num(num, sizeof num, ph_warning_count(ctx->heap, i)),
				ph_warning_text(ctx->heap, i));
		if (n)
			fprintf(stderr, "pyheap: %s warning%s: results may be partial\n",
				cmd_num(num, sizeof num, n), n == 1 ? "" : "s");
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("error writing output: %s", strerror(errno));
		return EXIT_UNUSABLE;
	}
	return rc == EXIT_OK && n ? EXIT_PARTIAL : rc;
}

/* ---- JSON ---- */

void cmd_json_begin(json_w *w)
{
	json_init(w, stdout);
	json_obj(w);
}

void cmd_json_end(const cmd_ctx *ctx, json_w *w)
{
	char buf[600];
	json_key(w, "warnings");
	json_arr(w);
	for (size_t i = 0; ctx->core && i < core_warning_count(ctx->core); i++)
		json_str(w, core_warning(ctx->core, i));
	for (size_t i = 0; ctx->heap && i < ph_warning_kinds(ctx->heap); i++) {
		snprintf(buf, sizeof buf, "%llu %s",
			 (unsigned long long)ph_warning_count(ctx->heap, i), ph_warning_text(ctx->heap, i));
		json_str(w, buf);
	}
	json_arr_end(w);
	json_ku64(w, "warning_count", cmd_warning_count(ctx));
	json_obj_end(w);
	json_end(w);
}

void cmd_json_type_rows(json_w *w, const char *key, ph_heap *h, const an_type_row *rows,
			size_t n)
{
	json_key(w, key);
	json_arr(w);
	for (size_t i = 0; i < n; i++) {
		json_obj(w);
		json_kstr(w, "type", ph_type_name(h, rows[i].type));
		json_ku64(w, "count", rows[i].count);
		json_ku64(w, "size", rows[i].size);
		json_obj_end(w);
	}
	json_arr_end(w);
}

void cmd_chain_json(json_w *w, const an_chain *c)
{
	json_key(w, "root");
	json_obj(w);
	json_kstr(w, "kind", c->root_kind ? c->root_kind : "none");
	json_kstr(w, "name", c->root_kind ? c->root_name : "");
	json_obj_end(w);
	json_key(w, "chain");
	json_arr(w);
	for (size_t k = 0; k < c->n; k++)
		json_str(w, c->labels[k]);
	json_arr_end(w);
}

/* ---- text ---- */

/* What owns a chunk, in words, into buf. */
const char *cmd_mem_owner_text(ph_heap *h, const an_mem_chunk *c, char *buf, size_t cap)
{
	switch (c->owner) {
	case AN_OWN_OBJECT:
		snprintf(buf, cap, "%s 0x%llx", ph_type_name(h, c->owner_type),
			 (unsigned long long)c->owner_addr);
		break;
	case AN_OWN_BUFFER:
		snprintf(buf, cap, "%s of %s 0x%llx", ph_buffer_kind_name(c->buffer_kind),
			 ph_type_name(h, c->owner_type), (unsigned long long)c->owner_addr);
		break;
	case AN_OWN_EXTOBJ:
		snprintf(buf, cap, "native, held by %s 0x%llx", ph_type_name(h, c->owner_type),
			 (unsigned long long)c->owner_addr);
		break;
	case AN_OWN_STATIC:
		snprintf(buf, cap, "native, held by %s", c->holder);
		break;
	case AN_OWN_ARENA:
		snprintf(buf, cap, "pymalloc arena 0x%llx", (unsigned long long)c->owner_addr);
		break;
	case AN_OWN_TSTATE:
		snprintf(buf, cap, "thread state 0x%llx", (unsigned long long)c->owner_addr);
		break;
	default:
		snprintf(buf, cap, "%s", an_mem_owner_name(c->owner));
		break;
	}
	return buf;
}


void cmd_chain_print(const an_chain *c, const char *indent)
{
	printf("%sheld by %s root %s:", indent, c->root_kind ? c->root_kind : "no",
	       c->root_kind ? c->root_name : "");
	for (size_t k = 0; k < c->n; k++)
		printf(" %s", c->labels[k]);
	printf("%s\n", c->n ? "" : " (itself)");
}

size_t cmd_rows(const cmd_ctx *ctx, size_t text_default)
{
	return ctx->top < 0 ? (ctx->json ? 0 : text_default) : (size_t)ctx->top;
}

const char *cmd_num(char *buf, size_t cap, unsigned long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%llu", v);
	size_t o = 0;
	for (int i = 0; i < n && o + 1 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0 && o + 2 < cap)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

const char *cmd_bytes(char *buf, size_t cap, unsigned long long v)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int u = 0;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%llu B", v);
	else
		snprintf(buf, cap, "%.1f %s", d, units[u]);
	return buf;
}

/* ---- targets ---- */

int cmd_parse_addr(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

size_t cmd_targets(cmd_ctx *ctx, const heapgraph *hg, rg_id **out)
{
	size_t n = 0;
	*out = NULL;
	if (ctx->addr) {
		uint64_t a = 0;
		cmd_parse_addr(ctx->addr, &a);
		uint32_t id = ph_object_find(ctx->heap, a);
		if (id == PH_NONE) {
			cmd_error("%s: no live object at %s", ctx->core_path, ctx->addr);
			return 0;
		}
		*out = malloc(sizeof **out);
		if (!*out) {
			cmd_oom();
			return 0;
		}
		(*out)[n++] = id;
		return n;
	}
	const char *which[2];
	if (an_objects_of_type(out, &n, hg, ctx->type, which) < 0) {
		cmd_oom();
		return 0;
	}
	if (which[1])
		cmd_error("%s: type %s is ambiguous: %s, %s, ... (give the qualified name)",
			  ctx->core_path, ctx->type, which[0], which[1]);
	else if (!n)
		cmd_error("%s: no live object of type %s", ctx->core_path, ctx->type);
	else
		ctx->type = which[0];
	return n;
}

void cmd_json_objects(json_w *w, const char *key, ph_heap *h, const rg_id *ids, size_t n)
{
	char v[160];
	json_key(w, key);
	json_arr(w);
	for (size_t i = 0; i < n; i++) {
		json_obj(w);
		json_khex(w, "addr", ph_object_addr(h, ids[i]));
		json_kstr(w, "type", ph_type_name(h, ph_object_type(h, ids[i])));
		json_kstr(w, "value", ph_object_repr(h, ids[i], v, sizeof v));
		json_obj_end(w);
	}
	json_arr_end(w);
}

void cmd_print_objects(const char *indent, ph_heap *h, const rg_id *ids, size_t n)
{
	char v[160];
	for (size_t i = 0; i < n; i++)
		printf("%s0x%llx %s %s\n", indent, (unsigned long long)ph_object_addr(h, ids[i]),
		       ph_type_name(h, ph_object_type(h, ids[i])), ph_object_repr(h, ids[i], v, sizeof v));
}
