/* cmd_show.c - `pyheap show CORE ADDR`: one object, its referents and referrers. */
#include "cmd.h"
#include "heapgraph.h"

#include <string.h>

#define SHOW_MAX 200     /* edges listed each way; the rest are counted */

int cmd_show(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	char t[160], v[200], l[200];
	uint64_t addr = 0;
	cmd_parse_addr(ctx->addr, &addr);
	uint32_t id = ph_object_find(h, addr);
	if (id == PH_NOLABEL) {
		fprintf(stderr, "pyheap: %s: no live object at %s\n", ctx->core_path, ctx->addr);
		return EXIT_UNUSABLE;
	}
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	rg_edge b, e;
	rg_out(hg_graph(hg), id, &b, &e);
	const rg_edge *in = NULL;
	size_t nin = 0;
	if (rg_in(hg_graph(hg), id, &in, &nin) < 0) {
		hg_free(hg);
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	unsigned flags = ph_object_flags(h, id);
	const char *root = hg_root_of(hg, id) ? hg_root_of(hg, id)->kind : NULL;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_khex(&w, "addr", addr);
		json_kstr(&w, "type", hg_node_type(hg, id, t, sizeof t));
		json_ku64(&w, "size", ph_object_size(h, id));
		json_ki64(&w, "refcount", ph_object_refcnt(h, id));
		json_kbool(&w, "immortal", ph_object_immortal(h, id));
		json_ku64(&w, "found", hg_found(hg, id));
		json_ki64(&w, "external", hg_external(hg, id));
		json_kstr(&w, "value", ph_object_repr(h, id, v, sizeof v));
		json_kbool(&w, "gc_tracked", !!(flags & PH_OBJ_GC));
		json_kbool(&w, "in_arena", !!(flags & PH_OBJ_ARENA));
		json_kstr(&w, "root", root ? root : "");
		json_key(&w, "referents");
		json_arr(&w);
		for (rg_edge x = b; x < e && x - b < SHOW_MAX; x++) {
			rg_id d = rg_edge_dst(hg_graph(hg), x);
			json_obj(&w);
			json_kstr(&w, "edge", hg_edge_text(hg, x, l, sizeof l));
			if (d < hg_object_count(hg))
				json_khex(&w, "addr", hg_node_addr(hg, d));
			else
				json_kstr(&w, "addr", "");
			json_kstr(&w, "type", hg_node_type(hg, d, t, sizeof t));
			json_kbool(&w, "weak", rg_edge_flags(hg_graph(hg), x) & RG_WEAK);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "referent_count", e - b);
		json_key(&w, "referrers");
		json_arr(&w);
		for (size_t i = 0; i < nin && i < SHOW_MAX; i++) {
			rg_id s = rg_edge_src(hg_graph(hg), in[i]);
			json_obj(&w);
			json_kstr(&w, "edge", hg_edge_text(hg, in[i], l, sizeof l));
			if (s < hg_object_count(hg))
				json_khex(&w, "addr", hg_node_addr(hg, s));
			else
				json_kstr(&w, "addr", "");
			json_kstr(&w, "type", hg_node_type(hg, s, t, sizeof t));
			if (s >= hg_object_count(hg))
				json_kstr(&w, "name", ph_node_name(h, s, v, sizeof v));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "referrer_count", nin);
		cmd_json_end(ctx, &w);
		hg_free(hg);
		return EXIT_OK;
	}
	printf("0x%llx %s\n", (unsigned long long)addr, hg_node_type(hg, id, t, sizeof t));
	printf("  value:     %s\n", ph_object_repr(h, id, v, sizeof v));
	printf("  size:      %llu bytes\n", (unsigned long long)ph_object_size(h, id));
	if (ph_object_immortal(h, id))
		printf("  refcount:  immortal\n");
	else
		printf("  refcount:  %lld (%u found in the heap, %lld from outside)\n",
		       (long long)ph_object_refcnt(h, id), hg_found(hg, id), (long long)hg_external(hg, id));
	printf("  found in:  %s%s%s\n", flags & PH_OBJ_ARENA ? "a pymalloc block " : "",
	       flags & PH_OBJ_GC ? "the GC lists " : "", flags & PH_OBJ_REF ? "a reference only" : "");
	if (root)
		printf("  root:      %s\n", root);
	printf("\nreferents (%llu):\n", (unsigned long long)(e - b));
	for (rg_edge x = b; x < e && x - b < SHOW_MAX; x++) {
		rg_id d = rg_edge_dst(hg_graph(hg), x);
		printf("  %-28s -> %s 0x%llx %s%s\n", hg_edge_text(hg, x, l, sizeof l),
		       hg_node_type(hg, d, t, sizeof t), (unsigned long long)hg_node_addr(hg, d),
		       ph_object_repr(h, d, v, sizeof v), rg_edge_flags(hg_graph(hg), x) & RG_WEAK ? " (weak)" : "");
	}
	printf("\nreferrers (%zu):\n", nin);
	for (size_t i = 0; i < nin && i < SHOW_MAX; i++) {
		rg_id s = rg_edge_src(hg_graph(hg), in[i]);
		if (s < hg_object_count(hg))
			printf("  %s 0x%llx %-28s\n", hg_node_type(hg, s, t, sizeof t),
			       (unsigned long long)hg_node_addr(hg, s), hg_edge_text(hg, in[i], l, sizeof l));
		else
			printf("  %s %-28s\n", ph_node_name(h, s, v, sizeof v),
			       hg_edge_text(hg, in[i], l, sizeof l));
	}
	hg_free(hg);
	return EXIT_OK;
}
