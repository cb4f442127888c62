/*
 * an_refs.c - refcounts rebuilt from the references found; see analysis.h.
 *
 * ob_refcnt minus the references the heap accounts for is what C holds:
 * stacks, statics, extension modules.  An object with a refcount and no
 * referrer at all is an orphan, which is what a missing Py_DECREF in a C
 * extension looks like.
 */
#include "analysis.h"

#include <stdlib.h>

static int by_refs_desc(const void *a, const void *b)
{
	const an_external *x = a, *y = b;
	return x->refs < y->refs ? 1 : x->refs > y->refs ? -1 : 0;
}

int an_refs(an_refs_result **out, const heapgraph *hg)
{
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	an_refs_result *r = calloc(1, sizeof *r);
	uint8_t *sel = calloc(nobj ? nobj : 1, 1);   /* orphans */
	*out = NULL;
	if (!r || !sel)
		goto oom;
	r->ext = malloc((nobj ? nobj : 1) * sizeof *r->ext);
	r->over = malloc(AN_OVER_LISTED * sizeof *r->over);
	r->over_cons = malloc(AN_OVER_LISTED * sizeof *r->over_cons);
	if (!r->ext || !r->over || !r->over_cons)
		goto oom;
	r->objects = nobj;
	r->edges = rg_edge_count(hg_graph(hg));
	for (rg_id id = 0; id < nobj; id++) {
		if (ph_object_immortal(h, id)) {
			r->immortal++;
			continue;
		}
		int64_t rc = ph_object_refcnt(h, id);
		uint32_t found = hg_found(hg, id);
		int64_t precise = (int64_t)(found - hg_found_cons(hg, id));
		int64_t d = rc - (int64_t)found;
		if (precise > rc) {
			/* listed in the report: there should be none */
			if (r->nover < AN_OVER_LISTED)
				r->over[r->nover++] = id;
			r->overcounted++;
		} else if (d < 0) {
			r->overcounted_conservative++;  /* only guessed references make it exceed */
			if (r->nover_cons < AN_OVER_LISTED)
				r->over_cons[r->nover_cons++] = id;
		}
		if (d == 0)
			r->explained++;
		if (d > 0) {
			r->external++;
			r->external_refs += (uint64_t)d;
			r->ext[r->next++] = (an_external){id, d};
		}
		if (hg_orphan(hg, id)) {
			sel[id] = 1;
			r->orphan_count++;
			r->orphan_size += ph_object_size(h, id);
		}
	}
	if (an_types(&r->orphans, h, sel, 0) < 0 ||
	    !(r->orphan_ids = malloc((r->orphan_count ? r->orphan_count : 1) * sizeof *r->orphan_ids)))
		goto oom;
	for (rg_id id = 0, k = 0; id < nobj; id++)
		if (sel[id])
			r->orphan_ids[k++] = id;
	/* which of them a thread's C stack points at: held by C code that was
	 * running, not leaked */
	an_cstack cs;
	if (an_cstack_read(&cs, h) < 0 ||
	    !(r->orphan_cstack = calloc(r->orphan_count ? r->orphan_count : 1, 1))) {
		an_cstack_free(&cs);
		goto oom;
	}
	for (size_t i = 0; i < r->orphan_count; i++)
		if (an_cstack_holds(&cs, ph_object_addr(h, r->orphan_ids[i]))) {
			r->orphan_cstack[i] = 1;
			r->cstack_count++;
			r->cstack_size += ph_object_size(h, r->orphan_ids[i]);
		}
	an_cstack_free(&cs);
	qsort(r->ext, r->next, sizeof *r->ext, by_refs_desc);
	free(sel);
	*out = r;
	return 0;
oom:
	free(sel);
	an_refs_free(r);
	return -1;
}

void an_refs_free(an_refs_result *r)
{
	if (!r)
		return;
	an_types_free(r->orphans);
	free(r->orphan_ids);
	free(r->orphan_cstack);
	free(r->over);
	free(r->over_cons);
	free(r->ext);
	free(r);
}
