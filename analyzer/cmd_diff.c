/*
 * cmd_diff.c - `pyheap diff OLD NEW`: objgraph.show_growth between two
 * dumps.  Either side is a core or a snapshot written by `types --json`, so
 * a small JSON file can stand in for a 10 GB core; types are matched by
 * name, so the two may come from different processes and Python versions.
 *
 * When both sides are cores it also finds the containers that grew: the
 * same address holding a container of the same type in both dumps (one
 * long-lived process), ranked by items added, each with the chain that
 * holds it in the new dump.
 */
#include "cmd.h"
#include "heapgraph.h"
#include "jsonread.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SNAPSHOT (256u << 20)   /* a types snapshot is small; refuse huge files */

typedef struct trow {
	char *name;
	uint64_t oc, nc, os, ns;    /* old/new count and size */
} trow;

typedef struct side {
	const char *path;
	core_t *core;
	ph_heap *heap;
	jr_doc doc;
	int is_json;
} side;

typedef struct table {
	trow *rows;
	size_t n, cap;
} table;

static trow *row_for(table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)    /* linear: a few thousand types */
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		trow *r = realloc(t->rows, cap * sizeof *r);
		if (!r)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	trow *r = &t->rows[t->n];
	memset(r, 0, sizeof *r);
	r->name = strdup(name);
	if (!r->name)
		return NULL;
	t->n++;
	return r;
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

static int load_json(side *s)
{
	struct stat st;
	char err[256];
	FILE *f = fopen(s->path, "rb");
	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "pyheap: %s: cannot read\n", s->path);
		if (f)
			fclose(f);
		return EXIT_UNUSABLE;
	}
	if ((uint64_t)st.st_size > MAX_SNAPSHOT) {
		fprintf(stderr, "pyheap: %s: too big for a types snapshot\n", s->path);
		fclose(f);
		return EXIT_UNUSABLE;
	}
	char *text = malloc((size_t)st.st_size + 1);
	size_t n = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!text) {
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	text[n] = 0;
	int rc = jr_parse(&s->doc, text, n, err, sizeof err);
	free(text);
	if (rc < 0) {
		fprintf(stderr, "pyheap: %s: %s\n", s->path, err);
		return EXIT_UNUSABLE;
	}
	const jr_node *types = jr_get(&s->doc, &s->doc.nodes[0], "types");
	if (!types || types->type != JR_ARR) {
		fprintf(stderr, "pyheap: %s: not a types snapshot (no \"types\" list; "
			"make one with `pyheap types --json CORE`)\n", s->path);
		return EXIT_UNUSABLE;
	}
	s->is_json = 1;
	return 0;
}

static int add_side(table *t, side *s, int is_new)
{
	if (s->is_json) {
		const jr_node *types = jr_get(&s->doc, &s->doc.nodes[0], "types");
		for (const jr_node *r = jr_first(&s->doc, types); r; r = jr_next(&s->doc, r)) {
			const jr_node *name = jr_get(&s->doc, r, "type");
			const jr_node *count = jr_get(&s->doc, r, "count");
			const jr_node *size = jr_get(&s->doc, r, "size");
			if (!name || name->type != JR_STR || !count || count->type != JR_NUM ||
			    !size || size->type != JR_NUM || count->num < 0 || size->num < 0) {
				fprintf(stderr, "pyheap: %s: a row of \"types\" lacks type, count or size\n",
					s->path);
				return EXIT_UNUSABLE;
			}
			trow *row = row_for(t, name->str);
			if (!row)
				return EXIT_UNUSABLE;
			*(is_new ? &row->nc : &row->oc) += (uint64_t)count->num;
			*(is_new ? &row->ns : &row->os) += (uint64_t)size->num;
		}
		return 0;
	}
	/* per type first (ids are dense), then by name */
	size_t ntypes = ph_type_count(s->heap);
	uint64_t *c = calloc(ntypes + 1, sizeof *c), *z = calloc(ntypes + 1, sizeof *z);
	if (!c || !z) {
		free(c);
		free(z);
		return EXIT_UNUSABLE;
	}
	for (size_t id = 0; id < ph_object_count(s->heap); id++) {
		c[ph_object_type(s->heap, (ph_id)id)]++;
		z[ph_object_type(s->heap, (ph_id)id)] += ph_object_size(s->heap, (ph_id)id);
	}
	for (size_t i = 0; i < ntypes; i++) {
		if (!c[i])
			continue;
		trow *row = row_for(t, ph_type_name(s->heap, (uint32_t)i));
		if (!row) {
			free(c);
			free(z);
			return EXIT_UNUSABLE;
		}
		*(is_new ? &row->nc : &row->oc) += c[i];
		*(is_new ? &row->ns : &row->os) += z[i];
	}
	free(c);
	free(z);
	return 0;
}

static int by_growth(const void *a, const void *b, void *by_count)
{
	const trow *x = a, *y = b;
	int sort_by_count = *(const int *)by_count;
	int64_t dx = sort_by_count ? (int64_t)(x->nc - x->oc) : (int64_t)(x->ns - x->os);
	int64_t dy = sort_by_count ? (int64_t)(y->nc - y->oc) : (int64_t)(y->ns - y->os);
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

typedef cmd_grown grown;

size_t cmd_find_grown(ph_heap *oh, ph_heap *nh, cmd_grown *out)
{
	size_t k = 0;
	for (size_t id = 0; id < ph_object_count(nh); id++) {
		int64_t nl = ph_object_len(nh, (ph_id)id);
		if (nl <= 0)
			continue;
		uint32_t oid = ph_object_find(oh, ph_object_addr(nh, (ph_id)id));
		if (oid == PH_NOLABEL || strcmp(ph_type_name(oh, ph_object_type(oh, oid)),
						ph_type_name(nh, ph_object_type(nh, (ph_id)id))) != 0)
			continue;
		int64_t ol = ph_object_len(oh, oid);
		if (ol < 0 || nl <= ol)
			continue;
		grown g = {(ph_id)id, ol, nl};
		/* keep the top GROWN_MAX by insertion */
		size_t pos = k < GROWN_MAX ? k++ : GROWN_MAX;
		if (pos == GROWN_MAX) {
			if (nl - ol <= out[GROWN_MAX - 1].new_len - out[GROWN_MAX - 1].old_len)
				continue;
			pos = GROWN_MAX - 1;
		}
		while (pos > 0 && out[pos - 1].new_len - out[pos - 1].old_len < nl - ol) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = g;
	}
	return k;
}

int cmd_diff(cmd_ctx *ctx)
{
	side s[2] = {{.path = ctx->core_path}, {.path = ctx->file2}};
	table t = {0};
	int rc = EXIT_UNUSABLE;
	for (int i = 0; i < 2; i++) {
		int r = looks_json(s[i].path) ? load_json(&s[i]) :
			cmd_open_core(ctx, s[i].path, &s[i].core, &s[i].heap);
		if (r)
			goto out;
	}
	/* the new side's warnings are the command's (cmd_finish reports them) */
	ctx->core = s[1].core;
	ctx->heap = s[1].heap;
	if (add_side(&t, &s[0], 0) || add_side(&t, &s[1], 1)) {
		fprintf(stderr, "pyheap: out of memory\n");
		goto out;
	}
	int by_count = strcmp(ctx->sort, "count") == 0;
	qsort_r(t.rows, t.n, sizeof *t.rows, by_growth, &by_count);
	grown g[GROWN_MAX];
	size_t ng = s[0].heap && s[1].heap ? cmd_find_grown(s[0].heap, s[1].heap, g) : 0;
	heapgraph *hg = NULL;
	int have_graph = ng && hg_build(&hg, s[1].heap, (char[128]){0}, 128) == 0;
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	rg_id *roots = have_graph ? malloc((hg_root_count(hg) ? hg_root_count(hg) : 1) * sizeof *roots) : NULL;
	if (roots) {
		for (size_t i = 0; i < hg_root_count(hg); i++)
			roots[i] = hg_root_at(hg, i)->node;
		if (rg_bfs(hg_graph(hg), roots, hg_root_count(hg), NULL, NULL, &parent, &dist) < 0)
			have_graph = 0;
	} else {
		have_graph = 0;
	}

	size_t top = ctx->top < 0 ? (ctx->json ? 0 : 30) : (size_t)ctx->top;
	size_t changed = 0;
	for (size_t i = 0; i < t.n; i++)
		changed += t.rows[i].oc != t.rows[i].nc || t.rows[i].os != t.rows[i].ns;
	char n1[32], n2[32], n3[32], v[160];
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_kstr(&w, "old", s[0].path);
		json_kstr(&w, "new", s[1].path);
		json_key(&w, "types");
		json_arr(&w);
		for (size_t i = 0, shown = 0; i < t.n && (!top || shown < top); i++) {
			trow *r = &t.rows[i];
			if (r->oc == r->nc && r->os == r->ns)
				continue;
			shown++;
			json_obj(&w);
			json_kstr(&w, "type", r->name);
			json_ku64(&w, "old_count", r->oc);
			json_ku64(&w, "new_count", r->nc);
			json_ki64(&w, "count_delta", (int64_t)(r->nc - r->oc));
			json_ku64(&w, "old_size", r->os);
			json_ku64(&w, "new_size", r->ns);
			json_ki64(&w, "size_delta", (int64_t)(r->ns - r->os));
			json_kbool(&w, "new_type", r->oc == 0);
			json_kbool(&w, "vanished", r->nc == 0);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "new_types");
		json_arr(&w);
		for (size_t i = 0; i < t.n; i++)
			if (!t.rows[i].oc)
				json_str(&w, t.rows[i].name);
		json_arr_end(&w);
		json_key(&w, "vanished_types");
		json_arr(&w);
		for (size_t i = 0; i < t.n; i++)
			if (!t.rows[i].nc)
				json_str(&w, t.rows[i].name);
		json_arr_end(&w);
		json_key(&w, "containers");
		json_arr(&w);
		for (size_t i = 0; i < ng; i++) {
			ph_id id = g[i].id;
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(s[1].heap, id));
			json_kstr(&w, "type", ph_type_name(s[1].heap, ph_object_type(s[1].heap, id)));
			json_ki64(&w, "old_len", g[i].old_len);
			json_ki64(&w, "new_len", g[i].new_len);
			json_ki64(&w, "len_delta", g[i].new_len - g[i].old_len);
			json_ku64(&w, "size", ph_object_size(s[1].heap, id));
			if (have_graph)
				cmd_chain_json_at(&w, hg, parent, id);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("%-44s %12s %12s %14s\n", "type", "count", "delta", "bytes delta");
		size_t shown = 0;
		for (size_t i = 0; i < t.n && (!top || shown < top); i++) {
			trow *r = &t.rows[i];
			if (r->oc == r->nc && r->os == r->ns)
				continue;
			shown++;
			char d1[40], d2[40];
			snprintf(d1, sizeof d1, "%s%s", r->nc >= r->oc ? "+" : "-",
				 cmd_num(n2, sizeof n2, r->nc >= r->oc ? r->nc - r->oc : r->oc - r->nc));
			snprintf(d2, sizeof d2, "%s%s", r->ns >= r->os ? "+" : "-",
				 cmd_num(n3, sizeof n3, r->ns >= r->os ? r->ns - r->os : r->os - r->ns));
			printf("%-44s %12s %12s %14s%s\n", r->name, cmd_num(n1, sizeof n1, r->nc), d1, d2,
			       r->oc == 0 ? "  (new)" : r->nc == 0 ? "  (vanished)" : "");
		}
		if (shown < changed)
			printf("(%zu more changed types; --top 0 shows all)\n", changed - shown);
		if (ng) {
			printf("\ncontainers that grew (same address in both dumps):\n");
			for (size_t i = 0; i < ng; i++) {
				ph_id id = g[i].id;
				printf("  +%-10lld %s 0x%llx (%lld -> %lld items) %s\n",
				       (long long)(g[i].new_len - g[i].old_len),
				       ph_type_name(s[1].heap, ph_object_type(s[1].heap, id)),
				       (unsigned long long)ph_object_addr(s[1].heap, id),
				       (long long)g[i].old_len, (long long)g[i].new_len,
				       ph_object_repr(s[1].heap, id, v, sizeof v));
				if (have_graph)
					cmd_chain_print_at(hg, parent, id, "               ");
			}
		}
	}
	rc = EXIT_OK;
	free(roots);
	free(parent);
	free(dist);
	hg_free(hg);
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.rows[i].name);
	free(t.rows);
	for (int i = 0; i < 2; i++) {
		jr_free(&s[i].doc);
		if (i == 0 || ctx->heap != s[i].heap) {
			ph_free(s[i].heap);
			core_free(s[i].core);
		}
	}
	return rc;
}

int cmd_growth(cmd_ctx *ctx, const char *path, ph_heap *cur, core_t **old_core,
	       ph_heap **old_heap, cmd_typegrowth *rows, size_t max)
{
	side o = {.path = path}, n = {.heap = cur};
	table t = {0};
	int r = looks_json(path) ? load_json(&o) : cmd_open_core(ctx, path, &o.core, &o.heap);
	size_t k = 0;
	*old_core = o.core;
	*old_heap = o.heap;
	if (r) {
		jr_free(&o.doc);
		return -1;
	}
	if (add_side(&t, &o, 0) || add_side(&t, &n, 1)) {
		fprintf(stderr, "pyheap: out of memory\n");
		k = (size_t)-1;
	} else {
		int by_count = 0;
		qsort_r(t.rows, t.n, sizeof *t.rows, by_growth, &by_count);
		for (size_t i = 0; i < t.n && k < max; i++) {
			if (t.rows[i].ns <= t.rows[i].os)
				break;
			snprintf(rows[k].name, sizeof rows[k].name, "%s", t.rows[i].name);
			rows[k].count_delta = (int64_t)(t.rows[i].nc - t.rows[i].oc);
			rows[k].size_delta = (int64_t)(t.rows[i].ns - t.rows[i].os);
			rows[k].new_count = t.rows[i].nc;
			k++;
		}
	}
	for (size_t i = 0; i < t.n; i++)
		free(t.rows[i].name);
	free(t.rows);
	jr_free(&o.doc);
	return (int)k;
}
