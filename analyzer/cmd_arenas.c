/* cmd_arenas.c - `pyheap arenas`: pymalloc usage per size class. */
#include "cmd.h"

/* Bytes a class wastes: its free blocks, plus each pool's header and the
 * tail too small for a block. */
static uint64_t wasted(const ph_arena_stats *a, int i)
{
	uint64_t bs = (uint64_t)(i + 1) * 16;
	uint64_t nb = (a->pool_size - a->pool_overhead) / bs;
	uint64_t tail = a->pool_size - a->pool_overhead - nb * bs;
	return a->cls[i].free * bs + a->cls[i].pools * (a->pool_overhead + tail);
}

int cmd_arenas(cmd_ctx *ctx)
{
	const ph_arena_stats *a = ph_arenas(ctx->heap);
	uint64_t total_waste = 0;
	for (int i = 0; i < PH_SIZE_CLASSES; i++)
		total_waste += wasted(a, i);
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
			json_ku64(&w, "wasted", wasted(a, i));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "wasted", total_waste);
		json_ku64(&w, "nearly_empty_arenas", a->nearly_empty_arenas);
		json_ku64(&w, "nearly_empty_bytes", a->nearly_empty_bytes);
		cmd_json_end(ctx, &w);
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
		       cmd_num(f, sizeof f, a->cls[i].free), cmd_bytes(wst, sizeof wst, wasted(a, i)));
	}
	printf("\nwasted in used pools: %s\n", cmd_bytes(b, sizeof b, total_waste));
	printf("nearly empty arenas (<= 10%% of pools used): %s, keeping %s resident\n",
	       cmd_num(n1, sizeof n1, a->nearly_empty_arenas),
	       cmd_bytes(n2, sizeof n2, a->nearly_empty_bytes));
	return EXIT_OK;
}
