/* cmd_arenas.c - `pyheap arenas`: pymalloc usage per size class, and the
 * objects that keep nearly empty arenas resident (an_pinned). */
#include "cmd.h"

#include <stdlib.h>

/* "22 str, 28 bytes, 17 tuple" for the objects of one arena. */
static void arena_types(ph_heap *h, const an_pinned_arena *p, char *out, size_t cap)
{
	uint8_t *sel = calloc(ph_object_count(h) ? ph_object_count(h) : 1, 1);
	an_types_result *t = NULL;
	out[0] = 0;
	if (!sel)
		return;
	for (size_t i = 0; i < p->n; i++)
		sel[p->ids[i]] = 1;
	if (an_types(&t, h, sel, 1) == 0) {
		size_t o = 0;
		char num[32];
		for (size_t i = 0; i < t->n && i < 4 && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s %s", i ? ", " : "",
					      cmd_num(num, sizeof num, t->rows[i].count),
					      ph_type_name(h, t->rows[i].type));
		if (t->n > 4 && o < cap)
			snprintf(out + o, cap - o, ", ...");
	}
	an_types_free(t);
	free(sel);
}

/* Bytes a class wastes: its free blocks, plus each pool's header and the
 * tail too small for a block. */
uint64_t cmd_arena_wasted(const ph_arena_stats *a, int i)
{
	uint64_t bs = (uint64_t)(i + 1) * 16;
	uint64_t nb = (a->pool_size - a->pool_overhead) / bs;
	uint64_t tail = a->pool_size - a->pool_overhead - nb * bs;
	return a->cls[i].free * bs + a->cls[i].pools * (a->pool_overhead + tail);
}

int cmd_arenas(cmd_ctx *ctx)
{
	const ph_arena_stats *a = ph_arenas(ctx->heap);
	an_pinned_result *pinned = NULL;
	uint64_t total_waste = 0;
	if (!ctx->totals_only && an_pinned(&pinned, ctx->heap) < 0) {
		cmd_oom();
		return EXIT_UNUSABLE;
	}
	for (int i = 0; i < PH_SIZE_CLASSES; i++)
		total_waste += cmd_arena_wasted(a, i);
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_ku64(&w, "arena_size", a->arena_size);
		json_ku64(&w, "pool_size", a->pool_size);
		json_ku64(&w, "arenas", a->arenas);
		json_ku64(&w, "pools", a->pools_used);
		json_ku64(&w, "pools_full", a->pools_full);
		json_ku64(&w, "pools_empty", a->pools_empty);
		json_ku64(&w, "blocks", a->blocks_used);
		json_kstr(&w, "found_by", ph_arenas_found_by(ctx->heap));
		json_key(&w, "classes");
		json_arr(&w);
		for (int i = 0; i < PH_SIZE_CLASSES; i++) {
			json_obj(&w);
			json_ku64(&w, "size", (uint64_t)(i + 1) * 16);
			json_ku64(&w, "pools", a->cls[i].pools);
			json_ku64(&w, "used", a->cls[i].used);
			json_ku64(&w, "free", a->cls[i].free);
			json_ku64(&w, "wasted", cmd_arena_wasted(a, i));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "wasted", total_waste);
		json_ku64(&w, "nearly_empty_arenas", a->nearly_empty_arenas);
		json_ku64(&w, "nearly_empty_bytes", a->nearly_empty_bytes);
		if (pinned) {
			json_key(&w, "pinned_arenas");
			json_arr(&w);
			for (size_t i = 0; i < pinned->n; i++) {
				const an_pinned_arena *p = &pinned->arenas[i];
				json_obj(&w);
				json_khex(&w, "addr", p->base);
				json_ku64(&w, "count", p->n);
				cmd_json_objects(&w, "objects", ctx->heap, p->ids, p->n);
				json_obj_end(&w);
			}
			json_arr_end(&w);
		}
		cmd_json_end(ctx, &w);
		an_pinned_free(pinned);
		return EXIT_OK;
	}
	char n1[32], n2[32], n3[32], n4[32], b[32];
	printf("arena size %s, pool size %s (found by %s)\n", cmd_bytes(n1, sizeof n1, a->arena_size),
	       cmd_bytes(n2, sizeof n2, a->pool_size), ph_arenas_found_by(ctx->heap));
	printf("%s arenas in use (%s), %s pools used (%s full), %s empty pools\n\n",
	       cmd_num(n1, sizeof n1, a->arenas), cmd_bytes(b, sizeof b, a->arenas * a->arena_size),
	       cmd_num(n2, sizeof n2, a->pools_used), cmd_num(n3, sizeof n3, a->pools_full),
	       cmd_num(n4, sizeof n4, a->pools_empty));
	printf("%5s %5s %10s %14s %14s %12s\n", "class", "size", "pools", "used blocks", "free blocks", "wasted");
	for (int i = 0; i < PH_SIZE_CLASSES; i++) {
		if (!a->cls[i].pools)
			continue;
		char p[32], u[32], f[32], wst[32];
		printf("%5d %5d %10s %14s %14s %12s\n", i, (i + 1) * 16,
		       cmd_num(p, sizeof p, a->cls[i].pools), cmd_num(u, sizeof u, a->cls[i].used),
		       cmd_num(f, sizeof f, a->cls[i].free), cmd_bytes(wst, sizeof wst, cmd_arena_wasted(a, i)));
	}
	printf("\nwasted in used pools: %s\n", cmd_bytes(b, sizeof b, total_waste));
	printf("nearly empty arenas (<= 10%% of pools used): %s, keeping %s resident\n",
	       cmd_num(n1, sizeof n1, a->nearly_empty_arenas),
	       cmd_bytes(n2, sizeof n2, a->nearly_empty_bytes));
	for (size_t i = 0; pinned && i < pinned->n; i++) {
		const an_pinned_arena *p = &pinned->arenas[i];
		char types[200];
		arena_types(ctx->heap, p, types, sizeof types);
		printf("  arena 0x%llx: %s objects%s%s%s\n", (unsigned long long)p->base,
		       cmd_num(n1, sizeof n1, p->n), p->n ? " (" : "", types,
		       p->n ? ")" : " (its used blocks are no objects: small buffers, C data)");
		for (size_t k = 0; ctx->list && k < p->n; k++) {
			char v[160];
			printf("    0x%llx %s %s\n", (unsigned long long)ph_object_addr(ctx->heap, p->ids[k]),
			       ph_type_name(ctx->heap, ph_object_type(ctx->heap, p->ids[k])),
			       ph_object_repr(ctx->heap, p->ids[k], v, sizeof v));
		}
	}
	if (a->nearly_empty_arenas && !ctx->list)
		printf("(`--list` names the objects in them)\n");
	an_pinned_free(pinned);
	return EXIT_OK;
}
