/*
 * an_path.c - the shortest chain of references from a root to an object;
 * see analysis.h.  Weak references never retain, so no chain runs through
 * one.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

/* name is type, or ends in "." type */
static int names_type(const char *name, const char *type, int qualified)
{
	if (!qualified)
		return strcmp(name, type) == 0;
	size_t ln = strlen(name), lt = strlen(type);
	return ln > lt + 1 && name[ln - lt - 1] == '.' && strcmp(name + ln - lt, type) == 0;
}

int an_objects_of_type(rg_id **out, size_t *n, const heapgraph *hg, const char *type,
		       const char *which[2])
{
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	*n = 0;
	which[0] = which[1] = NULL;
	*out = malloc((nobj ? nobj : 1) * sizeof **out);
	if (!*out)
		return -1;
	for (int qualified = 0; qualified < 2 && !*n; qualified++) {
		for (rg_id id = 0; id < nobj; id++) {
			const char *name = ph_type_name(h, ph_object_type(h, id));
			if (!names_type(name, type, qualified))
				continue;
			if (!which[0])
				which[0] = name;
			else if (!which[1] && strcmp(name, which[0]) != 0)
				which[1] = name;
			(*out)[(*n)++] = id;
		}
	}
	if (which[1])
		*n = 0;
	return 0;
}

static int by_count_desc(const void *a, const void *b)
{
	const an_holder *x = a, *y = b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : (x->node > y->node) - (x->node < y->node);
}

/* Who holds most of the targets.  Each target's chain is walked up once,
 * counting at every node the targets below it; a target's holder is the
 * first node above it that holds at least max(2, 1%) of them: the
 * dictionary of a cache rather than each of its entries, and rather than
 * the module that holds the cache. */
static int holders(an_path_result *r, const heapgraph *hg, const rg_edge *parent,
		   const uint32_t *dist, const rg_id *targets, size_t nt)
{
	const rg_graph *g = hg_graph(hg);
	uint32_t nn = hg_node_count(hg);
	uint32_t *count = calloc(nn ? nn : 1, sizeof *count);
	rg_id *of = malloc(nt * sizeof *of);
	an_holder *all = NULL;
	size_t nall = 0;
	int rc = -1;
	if (!count || !of)
		goto out;
	for (size_t i = 0; i < nt; i++) {
		rg_id v = targets[i];
		if (dist[v] == UINT32_MAX)
			continue;
		r->reached_count++;
		uint32_t len = dist[v] & 0xffffff;   /* (dist[] of the target, not of v) */
		for (uint32_t steps = 0; steps <= len; steps++) {
			count[v]++;
			if (parent[v] == RG_EDGE_NONE)
				break;
			v = rg_edge_src(g, parent[v]);
		}
	}
	size_t want = r->reached_count / 100 > 2 ? r->reached_count / 100 : 2;
	for (size_t i = 0; i < nt; i++) {
		rg_id v = targets[i];
		of[i] = RG_NONE;
		if (dist[v] == UINT32_MAX)
			continue;
		while (count[v] < want && parent[v] != RG_EDGE_NONE)
			v = rg_edge_src(g, parent[v]);
		of[i] = count[v] >= want ? v : RG_NONE;
	}
	/* one entry per holder: counted again in place, the first target kept */
	uint32_t *slot = calloc(nn ? nn : 1, sizeof *slot);   /* holder -> index + 1 */
	if (!slot || !(all = calloc(nt, sizeof *all))) {
		free(slot);
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		if (of[i] == RG_NONE)
			continue;
		if (!slot[of[i]]) {
			all[nall] = (an_holder){.node = of[i], .example = targets[i]};
			slot[of[i]] = (uint32_t)++nall;
		}
		all[slot[of[i]] - 1].count++;
	}
	free(slot);
	qsort(all, nall, sizeof *all, by_count_desc);
	r->nholders = nall < AN_HOLDERS ? nall : AN_HOLDERS;
	for (size_t i = 0; i < r->nholders; i++) {
		if (an_chain_get(&all[i].chain, hg, parent, all[i].example) < 0) {
			while (i-- > 0)
				an_chain_clear(&all[i].chain);
			r->nholders = 0;
			goto out;
		}
		for (size_t k = 0; k <= all[i].chain.n; k++)
			if (all[i].chain.nodes[k] == all[i].node)
				all[i].at = k;
	}
	r->holder_min = want;
	r->held_elsewhere = r->reached_count;
	for (size_t i = 0; i < r->nholders; i++)
		r->held_elsewhere -= all[i].count;
	r->holders = all;
	all = NULL;
	rc = 0;
out:
	free(all);
	free(count);
	free(of);
	return rc;
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
	if (ntargets > 1 && holders(r, hg, parent, dist, targets, ntargets) < 0)
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
	for (size_t i = 0; r && i < r->nholders; i++)
		an_chain_clear(&r->holders[i].chain);
	if (r)
		free(r->holders);
	if (!r)
		return;
	an_chain_clear(&r->chain);
	free(r);
}
