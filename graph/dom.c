/*
 * dom.c - dominator tree from the roots.
 *
 * Lengauer & Tarjan, "A Fast Algorithm for Finding Dominators in a
 * Flowgraph" (TOPLAS 1979), the simple version (path compression, no
 * balanced linking: O(m log n)), with the depth-first search and COMPRESS
 * made iterative.  Chosen over Cooper-Harvey-Kennedy because CHK's
 * intersection walks up the dominator tree, which is quadratic on shapes
 * heaps do have: a long linked list whose elements are also held by one
 * dict makes each intersection walk the list back to its head.
 *
 * A virtual root, number 0, has an edge to every root.  Weak edges are not
 * followed.  Vertices are renumbered in depth-first preorder 1..N-1 and
 * every array below is indexed by that number; predecessors are a CSR of
 * preorder numbers (edges from unreached nodes never enter it).
 *
 * idom[i] is RG_NONE both for a node whose only dominator is the virtual
 * root (a root, or a node reachable from two roots' disjoint paths) and
 * for a node no root reaches: rg_bfs() over the same roots tells them apart
 * (dist[i] == UINT32_MAX exactly for the unreachable ones, as long as no
 * skip callback is given).
 *
 * Memory: about 44 bytes a node and 4 an edge while it runs.  Arrays done
 * with are reused for the next step's rather than freed and allocated
 * again: fresh memory costs a page fault and zeroing per page.
 */
#include <stdlib.h>
#include <string.h>

#include "graphInt.h"

#define NO_ANC UINT32_MAX

/* COMPRESS(v) of the paper, iteratively: the chain of ancestors is pushed,
 * then updated from the top (nearest the forest root) down. */
static void compress(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi,
		     uint32_t *stack)
{
	size_t sp = 0;
	uint32_t x = v;
	while (ancestor[ancestor[x]] != NO_ANC) {
		stack[sp++] = x;
		x = ancestor[x];
	}
	while (sp > 0) {
		x = stack[--sp];
		uint32_t a = ancestor[x];
		if (semi[label[a]] < semi[label[x]])
			label[x] = label[a];
		ancestor[x] = ancestor[a];
	}
}

static inline uint32_t eval(uint32_t v, uint32_t *ancestor, uint32_t *label,
			    const uint32_t *semi, uint32_t *stack)
{
	if (ancestor[v] == NO_ANC)
		return v;
	compress(v, ancestor, label, semi, stack);
	return label[v];
}

int rg_dominators(const rg_graph *g, const rg_id *roots, size_t nroots, rg_id **idom)
{
	return rg_dominators_order(g, roots, nroots, idom, NULL, NULL);
}

int rg_dominators_order(const rg_graph *g, const rg_id *roots, size_t nroots, rg_id **idom,
			rg_id **order, uint32_t *norder)
{
	*idom = NULL;
	if (order) {
		*order = NULL;
		*norder = 0;
	}
	uint32_t n = g->nnodes;
	uint64_t n1 = (uint64_t)n + 1;
	uint32_t *num = rg_zalloc(n1, sizeof *num);      /* node -> preorder, 0 unreached */
	uint32_t *vertex = rg_alloc(n1, sizeof *vertex); /* preorder -> node */
	uint32_t *parent = rg_alloc(n1, sizeof *parent);
	uint32_t *stack = rg_alloc(n1, sizeof *stack);
	uint64_t *cursor = rg_alloc(n1 + 1, sizeof *cursor); /* then pidx: N + 1 <= n + 2 */
	uint64_t *pidx = NULL;
	uint32_t *preds = NULL, *semi = NULL, *label = NULL, *ancestor = NULL, *dom = NULL;
	uint32_t *head = NULL, *next = NULL;
	rg_id *out = NULL;
	int rc = -1;
	if (!num || !vertex || !parent || !stack || !cursor)
		goto done;

	/* Depth-first preorder from the virtual root. */
	uint32_t N = 1;
	vertex[0] = RG_NONE;
	parent[0] = 0;
	for (size_t r = 0; r < nroots; r++) {
		rg_id rv = roots[r];
		if (rv >= n || num[rv])
			continue;
		size_t sp = 0;
		num[rv] = N;
		vertex[N] = rv;
		parent[N] = 0;
		cursor[N] = g->idx[rv];
		stack[sp++] = N++;
		while (sp > 0) {
			uint32_t w = stack[sp - 1];
			uint64_t end = g->idx[vertex[w] + 1];
			uint64_t e = cursor[w];
			for (; e < end; e++) {
				if (g->flags[e] & RG_WEAK)
					continue;
				rg_id u = g->dst[e];
				if (!num[u])
					break;
			}
			if (e == end) {
				cursor[w] = e;
				sp--;
				continue;
			}
			cursor[w] = e + 1;
			rg_id u = g->dst[e];
			num[u] = N;
			vertex[N] = u;
			parent[N] = w;
			cursor[N] = g->idx[u];
			stack[sp++] = N++;
		}
	}
	/* Predecessors in preorder numbers: counted, then filled (in the
	 * depth-first search's cursors) */
	pidx = cursor;
	cursor = NULL;
	memset(pidx, 0, ((size_t)N + 1) * sizeof *pidx);
	for (size_t r = 0; r < nroots; r++)
		if (roots[r] < n)
			pidx[num[roots[r]] + 1]++;
	/* By node id, not preorder: the edge arrays are then read in order. */
	for (rg_id v = 0; v < n; v++) {
		if (!num[v])
			continue;
		for (uint64_t e = g->idx[v]; e < g->idx[v + 1]; e++)
			if (!(g->flags[e] & RG_WEAK))
				pidx[num[g->dst[e]] + 1]++;
	}
	for (uint32_t w = 0; w < N; w++)
		pidx[w + 1] += pidx[w];
	preds = rg_alloc(pidx[N], sizeof *preds);
	if (!preds)
		goto done;
	for (size_t r = 0; r < nroots; r++)
		if (roots[r] < n)
			preds[pidx[num[roots[r]]]++] = 0;
	for (rg_id v = 0; v < n; v++) {
		uint32_t w = num[v];
		if (!w)
			continue;
		for (uint64_t e = g->idx[v]; e < g->idx[v + 1]; e++)
			if (!(g->flags[e] & RG_WEAK))
				preds[pidx[num[g->dst[e]]]++] = w;
	}
	for (uint32_t w = N; w > 0; w--)
		pidx[w] = pidx[w - 1];
	pidx[0] = 0;
	semi = num;                  /* N of n + 1 */
	num = NULL;
	label = rg_alloc(N, sizeof *label);
	ancestor = rg_alloc(N, sizeof *ancestor);
	dom = rg_alloc(N, sizeof *dom);
	head = rg_alloc(N, sizeof *head);
	next = rg_alloc(N, sizeof *next);
	if (!label || !ancestor || !dom || !head || !next)
		goto done;
	for (uint32_t w = 0; w < N; w++) {
		semi[w] = label[w] = w;
		ancestor[w] = NO_ANC;
		head[w] = NO_ANC;
		dom[w] = 0;
	}

	for (uint32_t w = N - 1; w >= 1; w--) {
		for (uint64_t k = pidx[w]; k < pidx[w + 1]; k++) {
			uint32_t u = eval(preds[k], ancestor, label, semi, stack);
			if (semi[u] < semi[w])
				semi[w] = semi[u];
		}
		next[w] = head[semi[w]];
		head[semi[w]] = w;
		uint32_t p = parent[w];
		ancestor[w] = p;
		for (uint32_t v = head[p]; v != NO_ANC; v = next[v]) {
			uint32_t u = eval(v, ancestor, label, semi, stack);
			dom[v] = semi[u] < semi[v] ? u : p;
		}
		head[p] = NO_ANC;
	}
	for (uint32_t w = 1; w < N; w++)
		if (dom[w] != semi[w])
			dom[w] = dom[dom[w]];

	/* in place of parent (n + 1), which the loop above was the last to use */
	out = parent;
	parent = NULL;
	for (uint32_t i = 0; i < n; i++)
		out[i] = RG_NONE;
	for (uint32_t w = 1; w < N; w++)
		out[vertex[w]] = dom[w] ? vertex[dom[w]] : RG_NONE;
	*idom = out;
	if (order) {
		/* the preorder, without the virtual root */
		memmove(vertex, vertex + 1, (size_t)(N - 1) * sizeof *vertex);
		*order = vertex;
		*norder = N - 1;
		vertex = NULL;
	}
	rc = 0;
done:
	free(num);
	free(vertex);
	free(parent);
	free(stack);
	free(cursor);
	free(pidx);
	free(preds);
	free(semi);
	free(label);
	free(ancestor);
	free(dom);
	free(head);
	free(next);
	return rc;
}
