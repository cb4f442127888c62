/*
 * walk.c - breadth-first walks: shortest paths from the roots, retained
 * sizes over a dominator tree, and the backward neighbourhood of a set of
 * nodes for drawing.  All iterative, with one flat queue each.
 */
#include <stdlib.h>
#include <string.h>

#include "graphInt.h"

/* ---- rg_bfs ---- */

/*
 * Each node is offered to skip at most once, when it is first met (a root,
 * or the target of a non-weak edge from an entered node).  A skipped node
 * keeps dist UINT32_MAX and parent RG_EDGE_NONE, and is never entered.
 * Duplicate roots and out-of-range roots are ignored.
 */
int rg_bfs(const rg_graph *g, const rg_id *roots, size_t nroots, rg_skip_fn skip,
	   void *payload, rg_edge **parent_edge, uint32_t **dist)
{
	*parent_edge = NULL;
	*dist = NULL;
	uint32_t n = g->nnodes;
	rg_edge *pe = rg_alloc(n, sizeof *pe);
	uint32_t *d = rg_alloc(n, sizeof *d);
	rg_id *queue = rg_alloc(n, sizeof *queue);
	uint8_t *seen = skip ? rg_zalloc(((uint64_t)n + 7) / 8, 1) : NULL;
	if (!pe || !d || !queue || (skip && !seen)) {
		free(pe);
		free(d);
		free(queue);
		free(seen);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		pe[i] = RG_EDGE_NONE;
		d[i] = UINT32_MAX;
	}
	size_t head = 0, tail = 0;
#define OFFER(v)                                                                \
	(d[v] == UINT32_MAX &&                                                  \
	 (!skip || (!(seen[(v) >> 3] & (1u << ((v) & 7))) &&                    \
		    (seen[(v) >> 3] |= (uint8_t)(1u << ((v) & 7)), !skip(v, payload)))))
	for (size_t r = 0; r < nroots; r++) {
		rg_id v = roots[r];
		if (v < n && OFFER(v)) {
			d[v] = 0;
			queue[tail++] = v;
		}
	}
	while (head < tail) {
		rg_id u = queue[head++];
		uint32_t du = d[u] + 1;
		for (uint64_t e = g->idx[u]; e < g->idx[u + 1]; e++) {
			if (g->flags[e] & RG_WEAK)
				continue;
			rg_id v = g->dst[e];
			if (OFFER(v)) {
				d[v] = du;
				pe[v] = e;
				queue[tail++] = v;
			}
		}
	}
#undef OFFER
	free(queue);
	free(seen);
	*parent_edge = pe;
	*dist = d;
	return 0;
}


int rg_bfs_more(const rg_graph *g, const rg_id *roots, size_t nroots, rg_edge *parent_edge,
		uint32_t *dist, uint32_t base)
{
	uint32_t n = g->nnodes;
	rg_id *queue = rg_alloc(n ? n : 1, sizeof *queue);   /* touched as it fills */
	if (!queue)
		return -1;
	size_t head = 0, tail = 0;
	for (size_t r = 0; r < nroots; r++) {
		rg_id v = roots[r];
		if (v < n && dist[v] == UINT32_MAX) {
			dist[v] = base;
			queue[tail++] = v;
		}
	}
	while (head < tail) {
		rg_id u = queue[head++];
		uint32_t du = dist[u] + 1 < UINT32_MAX ? dist[u] + 1 : UINT32_MAX - 1;
		for (uint64_t e = g->idx[u]; e < g->idx[u + 1]; e++) {
			rg_id v = g->dst[e];
			if ((g->flags[e] & RG_WEAK) || dist[v] != UINT32_MAX)
				continue;
			dist[v] = du;
			parent_edge[v] = e;
			queue[tail++] = v;
		}
	}
	free(queue);
	return 0;
}

/*
 * parent_edge alone cannot tell a root (no parent edge, path of 0 edges)
 * from a node the walk never reached: both give 0 with an empty path
 * (*out NULL, *count 0), so check dist[target] != UINT32_MAX first.  -1
 * when target is out of range, when the parent chain is broken (not from
 * this graph: an edge not into the node, or longer than the node count)
 * and when out of memory.
 */
int rg_path(const rg_graph *g, const rg_edge *parent_edge, rg_id target,
	    rg_edge **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (target >= g->nnodes)
		return -1;
	size_t len = 0;
	rg_id v = target;
	while (parent_edge[v] != RG_EDGE_NONE) {
		rg_edge e = parent_edge[v];
		if (e >= g->nedges || g->dst[e] != v || len >= g->nnodes)
			return -1;
		len++;
		v = g->src[e];
	}
	if (len == 0)
		return 0;
	rg_edge *p = rg_alloc(len, sizeof *p);
	if (!p)
		return -1;
	v = target;
	for (size_t i = len; i > 0; i--) {
		p[i - 1] = parent_edge[v];
		v = g->src[parent_edge[v]];
	}
	*out = p;
	*count = len;
	return 0;
}

/* ---- rg_retained ---- */

/*
 * Children lists of the dominator tree (counting sort by idom), a
 * breadth-first order from the tree's roots (nodes whose idom is RG_NONE),
 * then sizes added into each idom in reverse of that order, so every node
 * is complete before it is added to its parent.  Sums saturate at
 * UINT64_MAX.  Unreachable nodes have idom RG_NONE and no children, so they
 * retain their own size.  -1 when an idom is out of range or out of memory;
 * nodes on an idom cycle (not a tree: never from rg_dominators) keep their
 * own size.
 */
int rg_retained(const rg_graph *g, const rg_id *idom, const uint64_t *sizes,
		uint64_t **retained)
{
	*retained = NULL;
	uint32_t n = g->nnodes;
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE && (idom[i] >= n || idom[i] == i))
			return -1;
	uint64_t *ret = rg_alloc(n, sizeof *ret);
	uint32_t *cidx = rg_zalloc((uint64_t)n + 1, sizeof *cidx);
	rg_id *child = rg_alloc(n, sizeof *child);
	rg_id *order = rg_alloc(n, sizeof *order);
	if (!ret || !cidx || !child || !order) {
		free(ret);
		free(cidx);
		free(child);
		free(order);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			cidx[idom[i] + 1]++;
	for (uint32_t i = 0; i < n; i++)
		cidx[i + 1] += cidx[i];
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			child[cidx[idom[i]]++] = i;
	for (uint32_t i = n; i > 0; i--)
		cidx[i] = cidx[i - 1];
	cidx[0] = 0;

	size_t tail = 0;
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] == RG_NONE)
			order[tail++] = i;
	for (size_t head = 0; head < tail; head++) {
		rg_id u = order[head];
		for (uint32_t c = cidx[u]; c < cidx[u + 1]; c++)
			order[tail++] = child[c];
	}
	free(child);
	free(cidx);

	for (uint32_t i = 0; i < n; i++)
		ret[i] = sizes[i];
	for (size_t k = tail; k > 0; k--) {
		rg_id v = order[k - 1];
		rg_id p = idom[v];
		if (p != RG_NONE) {
			uint64_t s = ret[p] + ret[v];
			ret[p] = s < ret[p] ? UINT64_MAX : s;
		}
	}
	free(order);
	*retained = ret;
	return 0;
}

int rg_retain_sizes(const rg_graph *g, const rg_id *idom, const rg_id *order, uint32_t norder,
		    uint64_t *sizes)
{
	uint32_t n = g->nnodes;
	for (uint32_t k = 0; k < norder; k++)
		if (order[k] >= n || (idom[order[k]] != RG_NONE && idom[order[k]] >= n))
			return -1;
	/* a node's dominated nodes all come after it in the preorder, so going
	 * backwards each node is complete before it is added to its idom */
	for (uint32_t k = norder; k > 0; k--) {
		rg_id v = order[k - 1], p = idom[v];
		if (p != RG_NONE) {
			uint64_t s = sizes[p] + sizes[v];
			sizes[p] = s < sizes[p] ? UINT64_MAX : s;
		}
	}
	return 0;
}

/* ---- rg_backrefs ---- */

/*
 * Breadth-first over incoming edges (weak ones too) from the targets.
 *
 * Nodes: the targets first, in the order given (duplicates and ids out of
 * range dropped), then the other nodes in the order they were met.  Targets
 * are always included and expanded: stop and hide are not asked about them.
 * Any other node is offered to hide once, when first met (as the source of
 * an incoming edge of an expanded node); hidden nodes are never included.
 * A node that is included is at distance d <= depth from the nearest
 * target, and is expanded (its incoming edges examined) when d < depth and
 * it is a target or stop(n) was zero.  max_nodes caps the node list (0: no
 * cap); when it is reached, no further nodes are added but the nodes
 * already queued are still expanded.
 *
 * Edges: exactly the incoming edges examined while expanding whose source
 * is included (possibly added right then), each once, in the order
 * examined: nodes in expansion order, each one's incoming edges in edge
 * number order.  So an edge u -> v between included nodes is listed iff v
 * was expanded; edges into stop nodes and into nodes at the depth limit are
 * not (nothing was traversed past them).
 */
int rg_backrefs(rg_graph *g, const rg_id *targets, size_t ntargets, unsigned depth,
		size_t max_nodes, rg_skip_fn stop, rg_skip_fn hide, void *payload,
		rg_id **nodes, size_t *nnodes, rg_edge **edges, size_t *nedges)
{
	*nodes = NULL;
	*edges = NULL;
	*nnodes = 0;
	*nedges = 0;
	if (rg_build_reverse(g) < 0)
		return -1;
	uint32_t n = g->nnodes;
	size_t cap = max_nodes && max_nodes < n ? max_nodes : n;
	/* mark[v]: 0 unseen, HIDDEN hidden, else 1 + distance from the targets. */
	const uint32_t HIDDEN = UINT32_MAX;
	if (depth > UINT32_MAX - 3)
		depth = UINT32_MAX - 3;
	uint32_t *mark = rg_zalloc(n, sizeof *mark);
	rg_id *list = rg_alloc(cap, sizeof *list);
	size_t ecap = 64, ecount = 0;
	rg_edge *elist = malloc(ecap * sizeof *elist);
	if (!mark || !list || !elist)
		goto fail;

	size_t count = 0, ntgt;
	for (size_t t = 0; t < ntargets && count < cap; t++) {
		rg_id v = targets[t];
		if (v < n && !mark[v]) {
			mark[v] = 1;
			list[count++] = v;
		}
	}
	ntgt = count;
	for (size_t head = 0; head < count; head++) {
		rg_id v = list[head];
		uint32_t dv = mark[v] - 1;
		if (dv >= depth)
			continue;
		if (head >= ntgt && stop && stop(v, payload))
			continue;
		for (uint64_t k = g->rin_idx[v]; k < g->rin_idx[v + 1]; k++) {
			rg_edge e = g->rin_edge[k];
			rg_id u = g->src[e];
			if (mark[u] == HIDDEN)
				continue;
			if (!mark[u]) {
				if (count == cap)
					continue;
				if (hide && hide(u, payload)) {
					mark[u] = HIDDEN;
					continue;
				}
				mark[u] = dv + 2;
				list[count++] = u;
			}
			if (ecount == ecap) {
				if (ecap > SIZE_MAX / 2 / sizeof *elist)
					goto fail;
				rg_edge *p = realloc(elist, 2 * ecap * sizeof *elist);
				if (!p)
					goto fail;
				elist = p;
				ecap *= 2;
			}
			elist[ecount++] = e;
		}
	}
	free(mark);
	*nodes = list;
	*nnodes = count;
	*edges = elist;
	*nedges = ecount;
	return 0;
fail:
	free(mark);
	free(list);
	free(elist);
	return -1;
}
