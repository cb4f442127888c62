/*
 * heapgraph.h - the reference graph of a scanned heap, for the analyses
 * that need one (refs, path, garbage, show, top, suspects, diff, backrefs).
 *
 * Built from pyheap's edges into graph/'s CSR; adds what only the two
 * together know: the refcount each object's referrers account for, the
 * objects held from outside (external roots), and the roots by kind.
 * Nodes 0 .. hg_object_count()-1 are the heap's objects (ph_id), the
 * rest its virtual nodes (interpreters, threads, frames).
 *
 * Nothing here prints or exits.
 *
 * Ownership: hg_build() gives the caller a heapgraph, freed with
 * hg_free(); it borrows the ph_heap, which must outlive it.  The rg_graph,
 * the roots and strings returned by value are borrowed from the heapgraph;
 * arrays returned through **out belong to the caller (free()).
 */
#ifndef PYHEAP_HEAPGRAPH_H
#define PYHEAP_HEAPGRAPH_H

#include <stdint.h>

#include "graph.h"
#include "pyheap.h"

typedef struct heapgraph heapgraph;

typedef struct hg_root {
	rg_id node;
	const char *kind;        /* "module", "frame", "interpreter", "external" */
	char name[96];
} hg_root;

/* ---- building ---- */

/* Builds the graph of h's references and finds its roots: the
 * interpreter's own (pyheap's), then immortal objects and static types,
 * then every object held from outside the heap.  -1 with a one-line
 * message in err (out of memory). */
int hg_build(heapgraph **out, ph_heap *h, char *err, size_t errlen);
void hg_free(heapgraph *hg);

/* ---- the graph ---- */

ph_heap *hg_heap(const heapgraph *hg);
rg_graph *hg_graph(const heapgraph *hg);
uint32_t hg_object_count(const heapgraph *hg);
uint32_t hg_node_count(const heapgraph *hg);

/* ---- refcounts ---- */

/* Counted (non-weak, not uncounted) references into node id, and of those
 * the conservative ones (guessed from an undecodable object's words). */
uint32_t hg_found(const heapgraph *hg, rg_id id);
uint32_t hg_found_cons(const heapgraph *hg, rg_id id);
/* ob_refcnt minus the references found; 0 for immortal objects. */
int64_t hg_external(const heapgraph *hg, rg_id id);
/* An orphan: a refcount, no referrer at all, and not a root of the
 * interpreter's own (a module); what a missing Py_DECREF leaves. */
int hg_orphan(const heapgraph *hg, rg_id id);

/* ---- roots ---- */

size_t hg_root_count(const heapgraph *hg);
/* Root i (0 <= i < hg_root_count), in the order described at hg_build. */
const hg_root *hg_root_at(const heapgraph *hg, size_t i);
/* The root at node n, or NULL when n is none. */
const hg_root *hg_root_of(const heapgraph *hg, rg_id n);
/* Every root's node, in root order: *out (caller frees) and the count;
 * -1 when out of memory. */
long hg_root_nodes(const heapgraph *hg, rg_id **out);
/* rg_bfs from every root: *parent and *dist, nodes long (caller frees
 * both); -1 when out of memory. */
int hg_reach(const heapgraph *hg, rg_edge **parent, uint32_t **dist);
/* The same, tier by tier (the interpreter's roots, C statics, held from
 * outside, and with with_stacks the C stacks last): a node gets the chain
 * of the first tier that reaches it; dist grows by 2^24 a tier. */
int hg_reach_tiers(const heapgraph *hg, int with_stacks, rg_edge **parent, uint32_t **dist);

/* ---- results kept for the analyses that follow ----
 *
 * A caller that runs several analyses on one graph (`pyheap report`)
 * calls hg_keep_results() first: then the costly results that depend on
 * the graph alone, the dominator tree with the retained sizes
 * (an_retained) and the breadth-first trees from the roots (hg_reach,
 * hg_reach_tiers), are computed once, kept until hg_free, and copied out
 * on later calls (their callers still own and free what they get).  Off by
 * default: a command running one analysis keeps nothing.  -1 when out of
 * memory. */
int hg_keep_results(heapgraph *hg);
/* For an_retained: copies of kept retained sizes and dominator tree into
 * *retained and *idom (hg_node_count() long; caller frees): 1, or 0 when
 * none are kept (both NULL), -1 when out of memory.  hg_keep_retained
 * keeps copies of them, when keeping and none are kept yet. */
int hg_kept_retained(const heapgraph *hg, uint64_t **retained, rg_id **idom);
void hg_keep_retained(const heapgraph *hg, const uint64_t *retained, const rg_id *idom);

/* ---- text ---- */

/* A node's address (0 for a virtual node), its type name (or virtual
 * kind), and the text of an edge's label, into buf. */
uint64_t hg_node_addr(const heapgraph *hg, rg_id n);
const char *hg_node_type(const heapgraph *hg, rg_id n, char *buf, size_t cap);
const char *hg_edge_text(const heapgraph *hg, rg_edge e, char *buf, size_t cap);

#endif
