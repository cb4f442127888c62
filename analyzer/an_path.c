/*
 * an_path.c - the shortest chain of references from a root to an object;
 * see analysis.h.  Weak references never retain, so no chain runs through
 * one.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

int an_objects_of_type(rg_id **out, size_t *n, const heapgraph *hg, const char *type)
{
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	*n = 0;
	*out = malloc((nobj ? nobj : 1) * sizeof **out);
	if (!*out)
		return -1;
	for (rg_id id = 0; id < nobj; id++)
		if (strcmp(ph_type_name(h, ph_object_type(h, id)), type) == 0)
			(*out)[(*n)++] = id;
	return 0;
}

int an_path(an_path_result **out, const heapgraph *hg, const rg_id *targets, size_t ntargets)
{
	an_path_result *r = calloc(1, sizeof *r);
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	*out = NULL;
	if (!r)
		goto oom;
	r->candidates = ntargets;
	/* the interpreter's own roots first; C statics, what is held from
	 * outside and the C stacks only for what those cannot reach */
	if (hg_reach_tiers(hg, 1, &parent, &dist) < 0)
		goto oom;
	rg_id best = targets[0];
	for (size_t i = 1; i < ntargets; i++)
		if (dist[targets[i]] < dist[best])
			best = targets[i];
	r->target = best;
	r->reached = dist[best] != UINT32_MAX;
	if (r->reached && an_chain_get(&r->chain, hg, parent, best) < 0)
		goto oom;
	free(parent);
	free(dist);
	*out = r;
	return 0;
oom:
	free(parent);
	free(dist);
	an_path_free(r);
	return -1;
}

void an_path_free(an_path_result *r)
{
	if (!r)
		return;
	an_chain_clear(&r->chain);
	free(r);
}
