/*
 * cmd_garbage.c - `pyheap garbage`: objects alive but unreachable from any
 * root (an_garbage), by type.
 */
#include "cmd.h"

int cmd_garbage(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	an_garbage_result *r;
	char n1[32], n2[32], b[32];
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (an_garbage(&r, hg) < 0) {
		hg_free(hg);
		return cmd_oom();
	}
	const an_type_row *rows = r->types->rows;
	size_t n = r->types->n;
	size_t top = cmd_rows(ctx, 30);
	size_t shown = top == 0 || top > n ? n : top;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		cmd_json_type_rows(&w, "types", h, rows, shown);
		json_ku64(&w, "objects", r->count);
		json_ku64(&w, "size", r->size);
		json_kbool(&w, "gc_enabled", r->gc->enabled);
		/* the addresses, for show and path: at most a hundred thousand */
		size_t listed = r->count < 100000 ? (size_t)r->count : 100000;
		cmd_json_objects(&w, "garbage_objects", h, r->ids, listed);
		json_kbool(&w, "garbage_objects_truncated", listed < r->count);
		cmd_json_end(ctx, &w);
	} else {
		printf("%s objects (%s) are alive but unreachable from any root%s\n\n",
		       cmd_num(n1, sizeof n1, r->count), cmd_bytes(b, sizeof b, r->size),
		       r->gc->known && !r->gc->enabled ? " (the collector was DISABLED)" : "");
		if (n)
			printf("%14s %14s  %s\n", "count", "bytes", "type");
		for (size_t i = 0; i < shown; i++)
			printf("%14s %14s  %s\n", cmd_num(n1, sizeof n1, rows[i].count),
			       cmd_num(n2, sizeof n2, rows[i].size), ph_type_name(h, rows[i].type));
		if (shown < n)
			printf("%14s %14s  (%zu more types; --top 0 shows all)\n", "", "", n - shown);
		if (ctx->list && r->count) {
			printf("\nthe objects:\n");
			cmd_print_objects("  ", h, r->ids, r->count);
		}
	}
	an_garbage_free(r);
	hg_free(hg);
	return EXIT_OK;
}
