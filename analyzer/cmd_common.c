/*
 * cmd_common.c - what the commands share: opening and scanning a core,
 * the reference graph's error, warnings and exit codes, the
 * JSON document's frame, number formats, targets, and the chain that
 * holds an object in text and JSON.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (core_open(core, path, &ctx->copts, err, sizeof err) < 0) {
		fprintf(stderr, "pyheap: %s\n", err);
		return EXIT_UNUSABLE;
	}
	ph_options o = {.no_dwarf = ctx->no_dwarf, .pool_scan = ctx->pool_scan,
			.totals_only = ctx->totals_only};
	if (ph_open(heap, *core, &o, err, sizeof err) < 0) {
		fprintf(stderr, "pyheap: %s\n", err);
		return EXIT_UNUSABLE;
	}
	struct stat st;
	progress p = {0};
	p.on = !ctx->no_progress && isatty(2) && stat(path, &st) == 0 &&
	       st.st_size > (256ll << 20);
	int rc = ph_scan(*heap, p.on ? show_progress : NULL, &p, err, sizeof err);
	if (p.on)
		fprintf(stderr, "\r%40s\r", "");
	if (rc < 0) {
		fprintf(stderr, "pyheap: %s\n", err);
		return EXIT_UNUSABLE;
	}
	return 0;
}

int cmd_build_graph(heapgraph **out, cmd_ctx *ctx)
{
	char err[256];
	if (hg_build(out, ctx->heap, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "pyheap: %s: %s\n", ctx->core_path, err);
	return -1;
}

/* ---- errors, warnings, exit codes ---- */

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
		fprintf(stderr, "pyheap: error writing output: %s\n", strerror(errno));
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

/* ---- text ---- */

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
	ph_heap *h = ctx->heap;
	size_t n = 0;
	*out = NULL;
	if (ctx->addr) {
		uint64_t a = 0;
		cmd_parse_addr(ctx->addr, &a);
		uint32_t id = ph_object_find(h, a);
		if (id == PH_NOLABEL) {
			fprintf(stderr, "pyheap: %s: no live object at %s\n", ctx->core_path, ctx->addr);
			return 0;
		}
		*out = malloc(sizeof **out);
		if (*out)
			(*out)[n++] = id;
		return n;
	}
	uint32_t nobj = hg_object_count(hg);
	*out = malloc((nobj ? nobj : 1) * sizeof **out);
	if (!*out)
		return 0;
	for (rg_id id = 0; id < nobj; id++)
		if (strcmp(ph_type_name(h, ph_object_type(h, id)), ctx->type) == 0)
			(*out)[n++] = id;
	if (!n)
		fprintf(stderr, "pyheap: %s: no live object of type %s\n", ctx->core_path, ctx->type);
	return n;
}

/* ---- chains ---- */

/* The chain after rg_bfs; returns its length, *root the node it starts at
 * (id itself when id is a root or unreached).  *out belongs to the caller. */
static size_t chain_of(const heapgraph *hg, const rg_edge *parent, rg_id id, rg_edge **out,
		       rg_id *root)
{
	size_t n = 0;
	*out = NULL;
	rg_path(hg_graph(hg), parent, id, out, &n);
	*root = n ? rg_edge_src(hg_graph(hg), (*out)[0]) : id;
	return n;
}

void cmd_chain_json(const heapgraph *hg, const rg_edge *parent, rg_id id, json_w *w)
{
	rg_edge *c;
	rg_id root;
	char l[200];
	size_t n = chain_of(hg, parent, id, &c, &root);
	const hg_root *r = hg_root_of(hg, root);
	json_key(w, "root");
	json_obj(w);
	json_kstr(w, "kind", r ? r->kind : "none");
	json_kstr(w, "name", r ? r->name : "");
	json_obj_end(w);
	json_key(w, "chain");
	json_arr(w);
	for (size_t k = 0; k < n; k++)
		json_str(w, hg_edge_text(hg, c[k], l, sizeof l));
	json_arr_end(w);
	free(c);
}

void cmd_chain_print(const heapgraph *hg, const rg_edge *parent, rg_id id, const char *indent)
{
	rg_edge *c;
	rg_id root;
	char l[200];
	size_t n = chain_of(hg, parent, id, &c, &root);
	const hg_root *r = hg_root_of(hg, root);
	printf("%sheld by %s root %s:", indent, r ? r->kind : "no", r ? r->name : "");
	for (size_t k = 0; k < n; k++)
		printf(" %s", hg_edge_text(hg, c[k], l, sizeof l));
	printf("%s\n", n ? "" : " (itself)");
	free(c);
}
