/*
 * cmd_garbage.c - `pyheap garbage`: objects alive but unreachable from any
 * root.  With the collector disabled (or between collections) reference
 * cycles stay in memory: their refcounts are all explained by the cycle, so
 * nothing outside holds them.
 */
#include "cmd.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

typedef struct grow { uint32_t type; uint64_t count, size; } grow;

static const ph_heap *sort_heap;

static int by_size_desc(const void *a, const void *b)
{
	const grow *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(ph_type_name(sort_heap, x->type), ph_type_name(sort_heap, y->type));
}

int cmd_garbage(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph hg;
	char err[256], n1[32], n2[32], b[32];
	if (hg_build(&hg, h, err, sizeof err) < 0) {
		fprintf(stderr, "pyheap: %s: %s\n", ctx->core_path, err);
		return EXIT_UNUSABLE;
	}
	size_t nt = ph_type_count(h);
	grow *rows = calloc(nt ? nt : 1, sizeof *rows);
	rg_id *roots = malloc((hg.nroots ? hg.nroots : 1) * sizeof *roots);
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	if (!rows || !roots) {
		free(rows);
		free(roots);
		hg_free(&hg);
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	for (size_t i = 0; i < hg.nroots; i++)
		roots[i] = hg.roots[i].node;
	if (rg_bfs(hg.g, roots, hg.nroots, NULL, NULL, &parent, &dist) < 0) {
		free(rows);
		free(roots);
		hg_free(&hg);
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	uint64_t count = 0, size = 0;
	for (size_t i = 0; i < nt; i++)
		rows[i].type = (uint32_t)i;
	for (rg_id id = 0; id < hg.nobj; id++) {
		if (dist[id] != UINT32_MAX)
			continue;
		grow *r = &rows[ph_object_type(h, id)];
		r->count++;
		r->size += ph_object_size(h, id);
		count++;
		size += ph_object_size(h, id);
	}
	size_t n = 0;
	for (size_t i = 0; i < nt; i++)
		if (rows[i].count)
			rows[n++] = rows[i];
	sort_heap = h;
	qsort(rows, n, sizeof *rows, by_size_desc);
	size_t top = ctx->top < 0 ? (ctx->json ? 0 : 30) : (size_t)ctx->top;
	size_t shown = top == 0 || top > n ? n : top;
	const ph_gc_state *g = ph_gc(h);
	if (ctx->json) {
		json_w w;
		json_init(&w, stdout);
		json_obj(&w);
		json_key(&w, "types");
		json_arr(&w);
		for (size_t i = 0; i < shown; i++) {
			json_obj(&w);
			json_kstr(&w, "type", ph_type_name(h, rows[i].type));
			json_ku64(&w, "count", rows[i].count);
			json_ku64(&w, "size", rows[i].size);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "objects", count);
		json_ku64(&w, "size", size);
		json_kbool(&w, "gc_enabled", g->enabled);
		cmd_json_warnings(ctx, &w);
		json_obj_end(&w);
		json_end(&w);
	} else {
		printf("%s objects (%s) are alive but unreachable from any root%s\n\n",
		       cmd_num(n1, sizeof n1, count), cmd_bytes(b, sizeof b, size),
		       g->known && !g->enabled ? " (the collector was DISABLED)" : "");
		if (n)
			printf("%14s %14s  %s\n", "count", "bytes", "type");
		for (size_t i = 0; i < shown; i++)
			printf("%14s %14s  %s\n", cmd_num(n1, sizeof n1, rows[i].count),
			       cmd_num(n2, sizeof n2, rows[i].size), ph_type_name(h, rows[i].type));
		if (shown < n)
			printf("%14s %14s  (%zu more types; --top 0 shows all)\n", "", "", n - shown);
	}
	free(rows);
	free(roots);
	free(parent);
	free(dist);
	hg_free(&hg);
	return EXIT_OK;
}
