/*
 * heapgraph.h - the reference graph of a scanned heap, for the commands
 * that need one (refs, path, garbage, show, backrefs).
 *
 * Built from pyheap's edges into graph/'s CSR; adds what only the two
 * together know: the refcount each object's referrers account for, the
 * objects held from outside (external roots), and the roots by kind.
 */
#ifndef PYHEAP_HEAPGRAPH_H
#define PYHEAP_HEAPGRAPH_H

#include <stdint.h>

#include "graph.h"
#include "json.h"
#include "pyheap.h"

typedef struct hg_root {
	rg_id node;
	const char *kind;        /* "module", "frame", "interpreter", "external" */
	char name[96];
} hg_root;

typedef struct heapgraph {
	ph_heap *heap;
	rg_graph *g;
	uint32_t nobj, nnodes;
	uint32_t *found;         /* counted (non-weak) references into each node */
	uint32_t *found_cons;    /* of which conservative (NULL while there are none) */
	uint64_t *referred;      /* bit per node: has an incoming edge, weak included */
	hg_root *roots;
	size_t nroots, roots_cap;
	uint32_t *root_of;       /* node -> index into roots + 1, 0 if not a root */
} heapgraph;

/* Builds the graph; -1 with a message in err. */
int hg_build(heapgraph *hg, ph_heap *h, char *err, size_t errlen);
void hg_free(heapgraph *hg);

/* Conservative references among found[id]. */
static inline uint32_t hg_found_cons(const heapgraph *hg, uint32_t id)
{
	return hg->found_cons ? hg->found_cons[id] : 0;
}

/* ob_refcnt minus the references found; 0 for immortal objects. */
int64_t hg_external(heapgraph *hg, rg_id id);

/* An orphan: a refcount, no referrer at all, and not a root of the
 * interpreter's own (a module); what a missing Py_DECREF leaves. */
int hg_orphan(heapgraph *hg, rg_id id);

/* Describes a node for output: address, type (or virtual kind) and a label. */
uint64_t hg_node_addr(const heapgraph *hg, rg_id n);
const char *hg_node_type(heapgraph *hg, rg_id n, char *buf, size_t cap);
const char *hg_edge_text(heapgraph *hg, rg_edge e, char *buf, size_t cap);

/* The root and the chain of labels that hold id, after rg_bfs gave
 * parent: as "root" and "chain" members of the current JSON object, or as
 * one text line "<indent>held by KIND root NAME: labels...". */
void hg_chain_json(heapgraph *hg, const rg_edge *parent, rg_id id, json_w *w);
void hg_chain_print(heapgraph *hg, const rg_edge *parent, rg_id id, const char *indent);
/* The chain after rg_bfs; returns its length, *root the node it starts at
 * (id itself when id is a root or unreached).  *out belongs to the caller. */
size_t hg_chain_of(heapgraph *hg, const rg_edge *parent, rg_id id, rg_edge **out, rg_id *root);
/* The root at node n, or NULL. */
const hg_root *hg_root_at(const heapgraph *hg, rg_id n);

/* Parses "0x7f..." or a decimal address; -1 when it is not a number. */
int hg_parse_addr(const char *s, uint64_t *out);

#endif
