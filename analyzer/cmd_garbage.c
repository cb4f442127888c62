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

int cmd_garbage(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	char n1[32], n2[32], b[32];
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	rg_id *roots = malloc((hg_root_count(hg) ? hg_root_count(hg) : 1) * sizeof *roots);
	uint8_t *sel = calloc(hg_object_count(hg) ? hg_object_count(hg) : 1, 1);
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	cmd_trow *rows = NULL;
	long nr = -1;
	uint64_t count = 0, size = 0;
	if (roots && sel) {
		for (size_t i = 0; i < hg_root_count(hg); i++)
			roots[i] = hg_root_at(hg, i)->node;
		if (rg_bfs(hg_graph(hg), roots, hg_root_count(hg), NULL, NULL, &parent, &dist) == 0) {
			for (rg_id id = 0; id < hg_object_count(hg); id++)
				if (dist[id] == UINT32_MAX) {
					sel[id] = 1;
					count++;
					size += ph_object_size(h, id);
				}
			nr = cmd_type_rows(h, sel, 0, &rows);
		}
	}
	if (nr < 0) {
		free(rows);
		free(roots);
		free(sel);
		free(parent);
		free(dist);
		hg_free(hg);
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	size_t n = (size_t)nr;
	size_t top = ctx->top < 0 ? (ctx->json ? 0 : 30) : (size_t)ctx->top;
	size_t shown = top == 0 || top > n ? n : top;
	const ph_gc_state *g = ph_gc(h);
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		cmd_json_type_rows(&w, "types", h, rows, shown);
		json_ku64(&w, "objects", count);
		json_ku64(&w, "size", size);
		json_kbool(&w, "gc_enabled", g->enabled);
		cmd_json_end(ctx, &w);
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
	free(sel);
	free(parent);
	free(dist);
	hg_free(hg);
	return EXIT_OK;
}
