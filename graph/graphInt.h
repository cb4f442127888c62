/*
 * graphInt.h - private layout of the reference graph (graph/ only).
 *
 * Forward edges, CSR by source: the edges of node i are idx[i] .. idx[i+1]
 * of the per-edge arrays src, dst, kind, flags, label (4+4+1+1+4 = 14 bytes
 * an edge, 8 bytes a node).  src is kept so that rg_edge_src() is O(1).
 *
 * Reverse edges (built on first rg_in()/rg_backrefs()): the edges into
 * node i are the edge numbers rin_edge[rin_idx[i] .. rin_idx[i+1]), in
 * increasing edge number.  Both arrays are 64-bit because rg_in() hands out
 * a borrowed `const rg_edge *` and rg_edge is uint64_t: 8 bytes an edge and
 * 8 a node.
 */
#ifndef PYHEAP_GRAPH_INT_H
#define PYHEAP_GRAPH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* Largest node count: ids must stay below RG_NONE, and the dominator code
 * numbers a virtual root on top of them. */
#define RG_MAX_NODES (UINT32_MAX - 2u)

struct rg_builder {
	uint32_t nnodes;
	uint64_t count, cap;
	int unsorted;           /* some edge came with a smaller source than the one before */
	uint32_t *src, *dst, *label;
	uint8_t *kind, *flags;
};

struct rg_graph {
	uint32_t nnodes;
	uint64_t nedges;
	uint64_t *idx;          /* nnodes + 1 */
	uint32_t *src, *dst, *label;
	uint8_t *kind, *flags;
	uint64_t *rin_idx;      /* nnodes + 1, NULL until built */
	rg_edge *rin_edge;      /* nedges */
};

/* malloc/calloc of n elements of size sz, NULL on overflow or failure.
 * Big arrays are asked of the kernel as huge pages (see build.c); free()
 * releases them as usual. */
void *rg_alloc(uint64_t n, size_t sz);

/* Builds the reverse edges if not yet there; -1 when out of memory. */
int rg_build_reverse(rg_graph *g);

#endif
