/*
 * cmd_refs.c - `pyheap refs`: refcounts rebuilt from the references found.
 *
 * ob_refcnt minus the references the heap accounts for is what C holds:
 * stacks, statics, extension modules.  An object with a refcount and no
 * referrer at all is an orphan, which is what a missing Py_DECREF in a C
 * extension looks like.
 */
#include "cmd.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

#define OVER_LISTED 1000   /* overcounted objects listed by --json */

typedef struct ext { rg_id id; int64_t refs; } ext;

static int by_refs_desc(const void *a, const void *b)
{
	const ext *x = a, *y = b;
	return x->refs < y->refs ? 1 : x->refs > y->refs ? -1 : 0;
}

int cmd_refs(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	ext *exts = malloc((hg_object_count(hg) ? hg_object_count(hg) : 1) * sizeof *exts);
	uint8_t *sel = calloc(hg_object_count(hg) ? hg_object_count(hg) : 1, 1);   /* orphans */
	rg_id *overs = malloc(OVER_LISTED * sizeof *overs);
	size_t nover = 0;
	cmd_trow *orph = NULL;
	if (!exts || !sel || !overs) {
		fprintf(stderr, "pyheap: out of memory\n");
		free(exts);
		free(sel);
		free(overs);
		hg_free(hg);
		return EXIT_UNUSABLE;
	}
	uint64_t explained = 0, external = 0, external_refs = 0, immortal = 0;
	uint64_t over = 0, over_cons = 0, orphans = 0, orphan_size = 0;
	size_t nexts = 0;
	for (rg_id id = 0; id < hg_object_count(hg); id++) {
		if (ph_object_immortal(h, id)) {
			immortal++;
			continue;
		}
		int64_t rc = ph_object_refcnt(h, id);
		int64_t precise = (int64_t)(hg_found(hg, id) - hg_found_cons(hg, id));
		int64_t d = rc - (int64_t)hg_found(hg, id);
		if (precise > rc) {
			/* listed in the report: there should be none */
			if (nover < OVER_LISTED)
				overs[nover++] = id;
			over++;
		} else if (d < 0)
			over_cons++;             /* only guessed references make it exceed */
		if (d == 0)
			explained++;
		if (d > 0) {
			external++;
			external_refs += (uint64_t)d;
			exts[nexts++] = (ext){id, d};
		}
		if (hg_orphan(hg, id)) {
			sel[id] = 1;
			orphans++;
			orphan_size += ph_object_size(h, id);
		}
	}
	long nr = cmd_type_rows(h, sel, 0, &orph);
	if (nr < 0) {
		fprintf(stderr, "pyheap: out of memory\n");
		free(orph); free(exts); free(sel); free(overs);
		hg_free(hg);
		return EXIT_UNUSABLE;
	}
	size_t norph = (size_t)nr;
	qsort(exts, nexts, sizeof *exts, by_refs_desc);
	size_t top = ctx->top < 0 ? (ctx->json ? 0 : 20) : (size_t)ctx->top;
	size_t show_o = top == 0 || top > norph ? norph : top;
	size_t show_e = top == 0 || top > nexts ? nexts : top;
	if (ctx->json && top == 0 && show_e > 1000)
		show_e = 1000;        /* a list, not a dump: the biggest thousand */

	char t[160], v[160], n1[32], n2[32];
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_ku64(&w, "objects", hg_object_count(hg));
		json_ku64(&w, "edges", rg_edge_count(hg_graph(hg)));
		json_ku64(&w, "explained", explained);
		json_ku64(&w, "external", external);
		json_ku64(&w, "external_refs", external_refs);
		json_ku64(&w, "immortal", immortal);
		json_ku64(&w, "overcounted", over);
		json_ku64(&w, "overcounted_conservative", over_cons);
		json_ku64(&w, "orphan_count", orphans);
		json_ku64(&w, "orphan_size", orphan_size);
		cmd_json_type_rows(&w, "orphans", h, orph, show_o);
		json_key(&w, "overcounted_objects");
		json_arr(&w);
		for (size_t i = 0; i < nover; i++) {
			rg_id id = overs[i];
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
			rg_id id = exts[i].id;
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", ph_type_name(h, ph_object_type(h, id)));
			json_ki64(&w, "refcount", ph_object_refcnt(h, id));
			json_ku64(&w, "found", hg_found(hg, id));
			json_ki64(&w, "external", exts[i].refs);
			json_kstr(&w, "value", ph_object_repr(h, id, v, sizeof v));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("objects:      %s, %s references between them\n", cmd_num(n1, sizeof n1, hg_object_count(hg)),
		       cmd_num(n2, sizeof n2, rg_edge_count(hg_graph(hg))));
		printf("explained:    %s (refcount fully accounted for by references found)\n",
		       cmd_num(n1, sizeof n1, explained));
		printf("external:     %s objects hold %s references from outside the heap "
		       "(C stacks, C statics, extensions)\n", cmd_num(n1, sizeof n1, external),
		       cmd_num(n2, sizeof n2, external_refs));
		printf("immortal:     %s\n", cmd_num(n1, sizeof n1, immortal));
		printf("overcounted:  %s (more references found than ob_refcnt)", cmd_num(n1, sizeof n1, over));
		if (over_cons)
			printf(", %s more through guessed references", cmd_num(n2, sizeof n2, over_cons));
		printf("\norphans:      %s objects, %s (a refcount, but no referrer at all)\n",
		       cmd_num(n1, sizeof n1, orphans), cmd_bytes(n2, sizeof n2, orphan_size));
		for (size_t i = 0; i < show_o; i++)
			printf("  %12s %12s  %s\n", cmd_num(n1, sizeof n1, orph[i].count),
			       cmd_bytes(n2, sizeof n2, orph[i].size), ph_type_name(h, orph[i].type));
		if (show_e)
			printf("\nmost references from outside:\n");
		for (size_t i = 0; i < show_e; i++) {
			rg_id id = exts[i].id;
			printf("  %8lld of %-8lld 0x%llx %s %s\n", (long long)exts[i].refs,
			       (long long)ph_object_refcnt(h, id),
			       (unsigned long long)ph_object_addr(h, id), hg_node_type(hg, id, t, sizeof t),
			       ph_object_repr(h, id, v, sizeof v));
		}
	}
	free(orph);
	free(exts);
	free(sel);
	free(overs);
	hg_free(hg);
	return EXIT_OK;
}
