/*
 * cmd_top.c - `pyheap top`: what retains the most memory (an_top), by
 * object with the chain from its root, and by type.
 */
#include "cmd.h"

int cmd_top(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	an_top_result *r;
	an_chain c;
	char t[160], v[160], b1[32];
	int rc = EXIT_UNUSABLE;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (an_top(&r, hg, ctx->top < 0 ? 20 : (size_t)ctx->top) < 0) {
		hg_free(hg);
		return cmd_oom();
	}
	size_t ttop = r->nobjects < r->ntypes ? r->nobjects : r->ntypes;
	json_w w;
	if (ctx->json) {
		cmd_json_begin(&w);
		json_ku64(&w, "total_size", r->total_size);
		json_key(&w, "objects");
		json_arr(&w);
	} else {
		printf("biggest retainers (total heap %s):\n\n", cmd_bytes(b1, sizeof b1, r->total_size));
	}
	for (size_t i = 0; i < r->nobjects; i++) {
		rg_id id = r->objects[i].id;
		if (an_chain_get(&c, hg, r->parent, id) < 0) {
			cmd_oom();
			goto out;
		}
		if (ctx->json) {
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", hg_node_type(hg, id, t, sizeof t));
			json_ku64(&w, "size", ph_object_size(h, id));
			json_ku64(&w, "retained", r->objects[i].retained);
			json_kstr(&w, "value", ph_object_repr(h, id, v, sizeof v));
			cmd_chain_json(&w, &c);
			json_obj_end(&w);
		} else {
			printf("%12s  %s 0x%llx %s\n", cmd_bytes(b1, sizeof b1, r->objects[i].retained),
			       hg_node_type(hg, id, t, sizeof t), (unsigned long long)ph_object_addr(h, id),
			       ph_object_repr(h, id, v, sizeof v));
			cmd_chain_print(&c, "              ");
		}
		an_chain_clear(&c);
	}
	if (ctx->json) {
		json_arr_end(&w);
		json_key(&w, "types");
		json_arr(&w);
		for (size_t i = 0; i < ttop; i++) {
			json_obj(&w);
			json_kstr(&w, "type", ph_type_name(h, r->types[i].type));
			json_ku64(&w, "count", r->types[i].count);
			json_ku64(&w, "retained", r->types[i].retained);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("\nretained size by type (objects not inside another of their type):\n\n");
		for (size_t i = 0; i < ttop; i++)
			printf("%12s  %10llu  %s\n", cmd_bytes(b1, sizeof b1, r->types[i].retained),
			       (unsigned long long)r->types[i].count, ph_type_name(h, r->types[i].type));
	}
	rc = EXIT_OK;
out:
	an_top_free(r);
	hg_free(hg);
	return rc;
}
