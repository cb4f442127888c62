/*
 * an_top.c - what retains the most memory; see analysis.h.
 *
 * The dominator tree of the reference graph, from a virtual root holding
 * every root, gives each object its retained size: its own bytes plus
 * everything only reachable through it.  A type's retained size counts each
 * object of that type that has no ancestor of the same type in the tree, so
 * nested objects of one type are not counted twice.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

int an_retained(uint64_t **out, rg_id **idom, const heapgraph *hg)
{
	/* kept by the graph from an earlier call (hg_keep_results) */
	int kept = hg_kept_retained(hg, out, idom);
	if (kept != 0)
		return kept > 0 ? 0 : -1;
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	rg_id *roots = NULL, *order = NULL;
	uint32_t norder = 0;
	uint64_t *retained = rg_zalloc(hg_node_count(hg), sizeof *retained);
	long nroots = hg_root_nodes(hg, &roots);
	if (!retained || nroots < 0)
		goto oom;
	/* sizes, then (in place) retained sizes; an object's own bytes are
	 * its getsizeof and the buffers it owns that getsizeof leaves out */
	for (rg_id i = 0; i < nobj; i++)
		retained[i] = ph_object_size(h, i) + ph_object_extra(h, i);
	if (rg_dominators_order(hg_graph(hg), roots, (size_t)nroots, idom, &order, &norder) < 0 ||
	    rg_retain_sizes(hg_graph(hg), *idom, order, norder, retained) < 0)
		goto oom;
	free(order);
	free(roots);
	hg_keep_retained(hg, retained, *idom);
	*out = retained;
	return 0;
oom:
	free(order);
	free(roots);
	free(retained);
	free(*idom);
	*idom = NULL;
	return -1;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const an_retainer *x = a, *y = b;
	return x->retained < y->retained ? 1 : x->retained > y->retained ? -1 :
	       (x->id > y->id) - (x->id < y->id);
}

static int by_retained_desc(const void *a, const void *b)
{
	const an_type_retained *x = a, *y = b;
	return x->retained < y->retained ? 1 : x->retained > y->retained ? -1 : 0;
}

/* Sums, per type, the retained size of objects with no same-type
 * ancestor in the dominator tree: an iterative walk over the tree that
 * keeps, per type, how many of its objects are on the current path. */
static int type_retained(const heapgraph *hg, const rg_id *idom, const uint64_t *retained,
			 an_type_retained *rows)
{
	ph_heap *h = hg_heap(hg);
	uint32_t n = hg_node_count(hg), nobj = hg_object_count(hg);
	uint32_t *first = calloc((size_t)n + 1, sizeof *first), *kids = malloc((n ? n : 1) * sizeof *kids);
	uint32_t *onpath = calloc(ph_type_count(h) + 1, sizeof *onpath);
	rg_id *stack = malloc(((size_t)n + 1) * sizeof *stack);
	uint8_t *state = calloc(n ? n : 1, 1);
	if (!first || !kids || !onpath || !stack || !state) {
		free(first); free(kids); free(onpath); free(stack); free(state);
		return -1;
	}
	/* children lists in CSR: count, prefix sums, fill */
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			first[idom[i] + 1]++;
	for (uint32_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	uint32_t *fill = stack;          /* (free until the walk below) */
	memcpy(fill, first, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			kids[fill[idom[i]]++] = i;
	/* tops of the tree: nodes whose idom is the virtual root */
	for (uint32_t top = 0; top < n; top++) {
		if (idom[top] != RG_NONE || state[top])
			continue;
		size_t sp = 0;
		stack[sp++] = top;
		while (sp) {
			rg_id v = stack[sp - 1];
			uint32_t t = v < nobj ? ph_object_type(h, v) : UINT32_MAX;
			if (!state[v]) {
				state[v] = 1;
				if (t != UINT32_MAX) {
					if (onpath[t] == 0) {
						rows[t].retained += retained[v];
						rows[t].count++;
					}
					onpath[t]++;
				}
				for (uint32_t k = first[v]; k < first[v + 1]; k++)
					if (!state[kids[k]])
						stack[sp++] = kids[k];
			} else {
				sp--;
				if (state[v] == 1 && t != UINT32_MAX)
					onpath[t]--;
				state[v] = 2;
			}
		}
	}
	free(first); free(kids); free(onpath); free(stack); free(state);
	return 0;
}

int an_top(an_top_result **out, const heapgraph *hg, size_t top)
{
	ph_heap *h = hg_heap(hg);
	uint32_t nobj = hg_object_count(hg);
	size_t nt = ph_type_count(h);
	an_top_result *r = calloc(1, sizeof *r);
	uint64_t *retained = NULL;
	rg_id *idom = NULL;
	*out = NULL;
	if (top == 0 || top > nobj)
		top = nobj;
	if (!r)
		return -1;
	r->total_size = ph_total_size(h);
	/* a window of the biggest few, or every object sorted */
	int window = top <= 4096 && top < nobj;
	size_t cap = window ? top : nobj;
	r->objects = malloc((cap ? cap : 1) * sizeof *r->objects);
	r->types = calloc(nt + 1, sizeof *r->types);
	if (!r->objects || !r->types || an_retained(&retained, &idom, hg) < 0 ||
	    hg_reach(hg, &r->parent, &r->dist) < 0)
		goto oom;
	an_retainer *rs = r->objects;
	if (window) {
		/* the biggest few: not a sort of every object */
		size_t k = 0;
		for (rg_id i = 0; i < nobj; i++) {
			an_retainer x = {i, retained[i]};
			if (k == top && by_bytes_desc(&x, &rs[k - 1]) >= 0)
				continue;
			size_t pos = k < top ? k++ : top - 1;
			while (pos > 0 && by_bytes_desc(&x, &rs[pos - 1]) < 0) {
				rs[pos] = rs[pos - 1];
				pos--;
			}
			rs[pos] = x;
		}
	} else {
		for (rg_id i = 0; i < nobj; i++)
			rs[i] = (an_retainer){i, retained[i]};
		qsort(rs, nobj, sizeof *rs, by_bytes_desc);
	}
	r->nobjects = top;
	for (size_t i = 0; i < nt; i++)
		r->types[i].type = (uint32_t)i;
	if (type_retained(hg, idom, retained, r->types) < 0)
		goto oom;
	qsort(r->types, nt, sizeof *r->types, by_retained_desc);
	/* the types with objects counted come first (up to ties at 0 bytes) */
	while (r->ntypes < nt && r->types[r->ntypes].count)
		r->ntypes++;
	free(retained);
	free(idom);
	*out = r;
	return 0;
oom:
	free(retained);
	free(idom);
	an_top_free(r);
	return -1;
}

void an_top_free(an_top_result *r)
{
	if (!r)
		return;
	free(r->objects);
	free(r->types);
	free(r->parent);
	free(r->dist);
	free(r);
}
