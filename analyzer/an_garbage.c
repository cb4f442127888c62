/*
 * an_garbage.c - objects alive but unreachable from any root; see
 * analysis.h.  With the collector disabled (or between collections)
 * reference cycles stay in memory: their refcounts are all explained by
 * the cycle, so nothing outside holds them.
 */
#include "analysis.h"

#include <stdlib.h>

int an_garbage(an_garbage_result **out, const heapgraph *hg)
{
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	an_garbage_result *r = calloc(1, sizeof *r);
	uint8_t *sel = calloc(nobj ? nobj : 1, 1);
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	*out = NULL;
	if (!r || !sel || hg_reach_tiers(hg, 0, &parent, &dist) < 0)
		goto oom;
	for (rg_id id = 0; id < nobj; id++)
		if (dist[id] == UINT32_MAX) {
			sel[id] = 1;
			r->count++;
			r->size += ph_object_size(h, id);
		}
	if (an_types(&r->types, h, sel, 0) < 0 ||
	    !(r->ids = malloc((r->count ? r->count : 1) * sizeof *r->ids)))
		goto oom;
	for (rg_id id = 0, k = 0; id < nobj; id++)
		if (sel[id])
			r->ids[k++] = id;
	r->gc = ph_gc(h);
	free(sel);
	free(parent);
	free(dist);
	*out = r;
	return 0;
oom:
	free(sel);
	free(parent);
	free(dist);
	an_garbage_free(r);
	return -1;
}

void an_garbage_free(an_garbage_result *r)
{
	if (!r)
		return;
	an_types_free(r->types);
	free(r->ids);
	free(r);
}
