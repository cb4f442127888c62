/*
 * cmd_refs.c - `pyheap refs`: refcounts rebuilt from the references found
 * (an_refs), what C holds from outside the heap, and the orphans.
 */
#include "cmd.h"

#include <stdlib.h>

int cmd_refs(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	an_refs_result *r;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (an_refs(&r, hg) < 0) {
		hg_free(hg);
		return cmd_oom();
	}
	const an_types_result *orph = r->orphans;
	size_t top = cmd_rows(ctx, 20);
	size_t show_o = top == 0 || top > orph->n ? orph->n : top;
	size_t show_e = top == 0 || top > r->next ? r->next : top;
	if (ctx->json && top == 0 && show_e > 1000)
		show_e = 1000;        /* a list, not a dump: the biggest thousand */

	char t[160], v[160], n1[32], n2[32];
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_ku64(&w, "objects", r->objects);
		json_ku64(&w, "edges", r->edges);
		json_ku64(&w, "explained", r->explained);
		json_ku64(&w, "external", r->external);
		json_ku64(&w, "external_refs", r->external_refs);
		json_ku64(&w, "immortal", r->immortal);
		json_ku64(&w, "overcounted", r->overcounted);
		json_ku64(&w, "overcounted_conservative", r->overcounted_conservative);
		json_ku64(&w, "orphan_count", r->orphan_count);
		json_ku64(&w, "orphan_size", r->orphan_size);
		cmd_json_type_rows(&w, "orphans", h, orph->rows, show_o);
		/* every one: a missing Py_DECREF leaves few, and show and path
		 * need their addresses */
		cmd_json_objects(&w, "orphan_objects", h, r->orphan_ids, r->orphan_count);
		/* those a thread's live C stack points at: running C code holds them */
		json_ku64(&w, "orphan_c_stack_count", r->cstack_count);
		json_ku64(&w, "orphan_c_stack_size", r->cstack_size);
		json_key(&w, "orphan_c_stack_objects");
		json_arr(&w);
		for (size_t i = 0; i < r->orphan_count; i++)
			if (r->orphan_cstack[i])
				json_hex(&w, ph_object_addr(h, r->orphan_ids[i]));
		json_arr_end(&w);
		json_key(&w, "overcounted_objects");
		json_arr(&w);
		for (size_t i = 0; i < r->nover; i++) {
			rg_id id = r->over[i];
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", ph_type_name(h, ph_object_type(h, id)));
			json_ki64(&w, "refcount", ph_object_refcnt(h, id));
			json_ku64(&w, "found", hg_found(hg, id));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "overcounted_conservative_objects");
		json_arr(&w);
		for (size_t i = 0; i < r->nover_cons; i++) {
			rg_id id = r->over_cons[i];
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", ph_type_name(h, ph_object_type(h, id)));
			json_ki64(&w, "refcount", ph_object_refcnt(h, id));
			json_ku64(&w, "found", hg_found(hg, id));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "external_objects");
		json_arr(&w);
		for (size_t i = 0; i < show_e; i++) {
			rg_id id = r->ext[i].id;
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", ph_type_name(h, ph_object_type(h, id)));
			json_ki64(&w, "refcount", ph_object_refcnt(h, id));
			json_ku64(&w, "found", hg_found(hg, id));
			json_ki64(&w, "external", r->ext[i].refs);
			json_kstr(&w, "value", ph_object_repr(h, id, v, sizeof v));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("objects:      %s, %s references between them\n",
		       cmd_num(n1, sizeof n1, r->objects), cmd_num(n2, sizeof n2, r->edges));
		printf("explained:    %s (refcount fully accounted for by references found)\n",
		       cmd_num(n1, sizeof n1, r->explained));
		printf("external:     %s objects hold %s references from outside the heap "
		       "(C stacks, C statics, extensions)\n", cmd_num(n1, sizeof n1, r->external),
		       cmd_num(n2, sizeof n2, r->external_refs));
		printf("immortal:     %s\n", cmd_num(n1, sizeof n1, r->immortal));
		printf("overcounted:  %s (more references found than ob_refcnt)",
		       cmd_num(n1, sizeof n1, r->overcounted));
		if (r->overcounted_conservative)
			printf(", %s more through guessed references",
			       cmd_num(n2, sizeof n2, r->overcounted_conservative));
		printf("\norphans:      %s objects, %s (a refcount, but no referrer at all)\n",
		       cmd_num(n1, sizeof n1, r->orphan_count), cmd_bytes(n2, sizeof n2, r->orphan_size));
		if (r->cstack_count)
			printf("              %s of them (%s) on a thread's C stack: held by the C code "
			       "that was running\n", cmd_num(n1, sizeof n1, r->cstack_count),
			       cmd_bytes(n2, sizeof n2, r->cstack_size));
		for (size_t i = 0; i < show_o; i++)
			printf("  %12s %12s  %s\n", cmd_num(n1, sizeof n1, orph->rows[i].count),
			       cmd_bytes(n2, sizeof n2, orph->rows[i].size),
			       ph_type_name(h, orph->rows[i].type));
		if (ctx->list && r->orphan_count) {
			printf("\nthe orphans (* on a thread's C stack):\n");
			for (size_t i = 0; i < r->orphan_count; i++) {
				rg_id id = r->orphan_ids[i];
				printf(" %c0x%llx %s %s\n", r->orphan_cstack[i] ? '*' : ' ',
				       (unsigned long long)ph_object_addr(h, id),
				       ph_type_name(h, ph_object_type(h, id)),
				       ph_object_repr(h, id, v, sizeof v));
			}
		}
		if (show_e)
			printf("\nmost references from outside:\n");
		for (size_t i = 0; i < show_e; i++) {
			rg_id id = r->ext[i].id;
			printf("  %8lld of %-8lld 0x%llx %s %s\n", (long long)r->ext[i].refs,
			       (long long)ph_object_refcnt(h, id),
			       (unsigned long long)ph_object_addr(h, id), hg_node_type(hg, id, t, sizeof t),
			       ph_object_repr(h, id, v, sizeof v));
		}
	}
	an_refs_free(r);
	hg_free(hg);
	return EXIT_OK;
}
