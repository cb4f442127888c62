/*
 * graph.h - the reference graph: dense object ids, labelled edges in CSR
 * form, roots, shortest paths, reachability and dominators.
 *
 * Layer 3 of pyheap.  It never sees libelf or addresses: nodes are dense
 * uint32 ids 0..n-1 handed out by the layer below, and an edge carries an
 * opaque 32-bit label plus a kind byte that only the caller interprets,
 * and flags that the graph does (RG_WEAK edges never retain anything).
 *
 * Built in two steps: an rg_builder collects edges in any order (flat
 * arrays, no allocation per edge), then rg_build() lays them out by source
 * (count, then fill: two passes; edges added in source order are laid out
 * already and only counted).  Reverse edges are built on first use, in
 * the same layout: the edges into node i are rin_edge[rin_idx[i] ..
 * rin_idx[i+1]).  Every walk is iterative.
 *
 * Sizes: 14 bytes an edge (source, destination, label, kind, flags) and 8 a
 * node forward; reverse edges add 8 bytes an edge and 8 a node (edge
 * numbers are 64-bit).  20 million nodes and 50 million edges: about 1.3 GiB
 * with reverse edges.
 *
 * Ownership: rg_build() consumes the builder (freed, success or not) and
 * gives the caller an rg_graph, freed with rg_free().  Arrays returned
 * through **out belong to the caller (free()); pointers returned by value
 * are borrowed from the graph.
 */
#ifndef PYHEAP_GRAPH_H
#define PYHEAP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t rg_id;
#define RG_NONE UINT32_MAX

/* Edge flags. */
enum {
	RG_WEAK = 1,          /* does not keep its target alive (weakref) */
	RG_CONSERVATIVE = 2,  /* found by scanning an unknown object's words */
	RG_UNCOUNTED = 4,     /* for the caller only: the graph ignores it */
};

typedef struct rg_builder rg_builder;
typedef struct rg_graph rg_graph;

/* ---- building ---- */

int rg_builder_new(rg_builder **out, uint32_t nnodes);
/* Room for nedges edges from the start, so that the arrays are not moved
 * while they grow (the number need not be exact).  -1 when out of memory. */
int rg_builder_reserve(rg_builder *b, uint64_t nedges);
/* Adds src -> dst.  -1 when out of memory or an id is out of range. */
int rg_builder_add(rg_builder *b, rg_id src, rg_id dst, uint8_t kind, uint8_t flags,
		   uint32_t label);
void rg_builder_free(rg_builder *b);
/* Lays the edges out by source, keeping each source's edges in the order
 * they were added. */
int rg_build(rg_graph **out, rg_builder *b);
void rg_free(rg_graph *g);

uint32_t rg_node_count(const rg_graph *g);
/* A zeroed array of n elements of size sz for per-node or per-edge data
 * (huge pages for big ones); NULL on overflow or failure; free() it. */
void *rg_zalloc(uint64_t n, size_t sz);
uint64_t rg_edge_count(const rg_graph *g);

/* ---- edges ---- */

/* Edges are numbered 0..edge_count-1, grouped by source. */
typedef uint64_t rg_edge;

/* Outgoing edges of n: the range [*begin, *end). */
void rg_out(const rg_graph *g, rg_id n, rg_edge *begin, rg_edge *end);
rg_id rg_edge_src(const rg_graph *g, rg_edge e);
rg_id rg_edge_dst(const rg_graph *g, rg_edge e);
uint8_t rg_edge_kind(const rg_graph *g, rg_edge e);
uint8_t rg_edge_flags(const rg_graph *g, rg_edge e);
uint32_t rg_edge_label(const rg_graph *g, rg_edge e);

/* Incoming edges of n (built on first call; -1 when out of memory):
 * *edges points at *count edge numbers, borrowed. */
int rg_in(rg_graph *g, rg_id n, const rg_edge **edges, size_t *count);

/* ---- walks ---- */

/* Breadth-first search from the given roots over non-weak edges.
 * parent_edge[i] is the edge by which i was first reached (RG_EDGE_NONE
 * for roots and unreached nodes), dist[i] the number of edges from the
 * nearest root (UINT32_MAX unreached).  Both arrays are nnodes long and
 * belong to the caller.  skip, when non-NULL, is consulted for each node
 * before it is entered (non-zero: do not enter or pass through it). */
#define RG_EDGE_NONE UINT64_MAX
typedef int (*rg_skip_fn)(rg_id n, void *payload);
int rg_bfs(const rg_graph *g, const rg_id *roots, size_t nroots, rg_skip_fn skip,
	   void *payload, rg_edge **parent_edge, uint32_t **dist);

/* Goes on with a search rg_bfs left in parent_edge and dist: from the
 * roots not reached yet, over nodes not reached yet, whose dist becomes
 * base plus their distance from these roots.  -1 when out of memory. */
int rg_bfs_more(const rg_graph *g, const rg_id *roots, size_t nroots, rg_edge *parent_edge,
		uint32_t *dist, uint32_t base);
/* The chain of edges from a root to target after rg_bfs: *count edges,
 * root-most first, in *out (caller frees).  A root and an unreached node
 * both give 0 edges: tell them apart with rg_bfs's dist.  -1 when target is
 * out of range, the parent chain is broken, or memory ran out. */
int rg_path(const rg_graph *g, const rg_edge *parent_edge, rg_id target,
	    rg_edge **out, size_t *count);

/* Dominator tree from a virtual root holding every root, over non-weak
 * edges (Lengauer & Tarjan, "A Fast Algorithm for Finding Dominators in a
 * Flowgraph", 1979, the simple version, with an iterative DFS; Cooper-
 * Harvey-Kennedy goes quadratic on long lists whose items a dict also
 * holds, a shape Python heaps have).  idom[i] is i's immediate dominator;
 * RG_NONE when that is the virtual root, and for unreachable nodes (tell
 * them apart with rg_bfs's dist on the same roots).  Caller frees. */
int rg_dominators(const rg_graph *g, const rg_id *roots, size_t nroots, rg_id **idom);
/* The same, and the nodes the roots reach in depth-first preorder (*order,
 * *norder of them; caller frees): a node's immediate dominator comes before
 * it, which is all rg_retain_sizes needs. */
int rg_dominators_order(const rg_graph *g, const rg_id *roots, size_t nroots, rg_id **idom,
			rg_id **order, uint32_t *norder);

/* In place, without work arrays: each node's size in sizes becomes its
 * retained size, summing along order (from rg_dominators_order) backwards.
 * Nodes not in order keep their own size.  -1 when an idom is out of range. */
int rg_retain_sizes(const rg_graph *g, const rg_id *idom, const rg_id *order, uint32_t norder,
		    uint64_t *sizes);
/* Retained size of every node: its own size plus all nodes it dominates.
 * sizes and idom are nnodes long; unreachable nodes retain only themselves.
 * Caller frees *retained. */
int rg_retained(const rg_graph *g, const rg_id *idom, const uint64_t *sizes,
		uint64_t **retained);

/* Backward neighbourhood of the targets for drawing: breadth-first over
 * incoming edges (weak ones included; they are drawn dashed) up to depth
 * edges away, at most max_nodes nodes.  stop(n) non-zero: include n but do
 * not go past it (a module, say); hide(n) non-zero: leave n out entirely.
 * *nodes gets the node list (targets first) and *edges the edges among
 * them; caller frees both. */
int rg_backrefs(rg_graph *g, const rg_id *targets, size_t ntargets, unsigned depth,
		size_t max_nodes, rg_skip_fn stop, rg_skip_fn hide, void *payload,
		rg_id **nodes, size_t *nnodes, rg_edge **edges, size_t *nedges);

#endif
