/*
 * analysis.h - pyheap's analyses: what the commands (and the coming HTML
 * report) show, computed from a scanned heap and its reference graph into
 * result structs.  Nothing here prints, parses argv or exits; the command
 * files (cmd_*.c) render the results as text or JSON.
 *
 *   an_types      live objects by type name (all, or a selection)
 *   an_refs       refcounts rebuilt: explained, external, overcounted, orphans
 *   an_path       the shortest chain from a root to the nearest of some objects
 *   an_garbage    objects no root reaches
 *   an_show       one object: refcount accounting, referents and referrers
 *   an_backrefs   the backward neighbourhood of some objects, for drawing
 *
 * Ownership: each an_X() gives the caller a result through **out, freed
 * with an_X_free() (which takes NULL); on failure it returns -1 and *out
 * is NULL.  A result borrows the ph_heap and the heapgraph it was computed
 * from (ids, type indexes, the gc state): they must outlive it.  Arrays and
 * strings inside a result belong to it.
 */
#ifndef PYHEAP_ANALYSIS_H
#define PYHEAP_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "heapgraph.h"
#include "pyheap.h"

/* ---- chains ---- */

#define AN_LABEL_MAX 200     /* bytes of an edge label, NUL included */

/* The chain of references that holds an object, root-most first. */
typedef struct an_chain {
	rg_id root;              /* the node it starts at: the object itself when
				  * it is a root or no root reaches it */
	const char *root_kind;   /* the root's kind ("module", "frame", ...), or
				  * NULL when root is no root; borrowed */
	char root_name[96];      /* its name ("__main__"), "" when none */
	size_t n;                /* references */
	rg_id *nodes;            /* n + 1 nodes: root .. the object */
	char (*labels)[AN_LABEL_MAX]; /* n labels: labels[i] names the
				  * reference from nodes[i] to nodes[i + 1] */
} an_chain;

/* The chain to id in the breadth-first tree parent (hg_reach's, or any
 * rg_bfs over hg's graph) into *out, whose arrays an_chain_clear() frees.
 * -1 when out of memory (*out empty). */
int an_chain_get(an_chain *out, const heapgraph *hg, const rg_edge *parent, rg_id id);
void an_chain_clear(an_chain *c);

/* ---- types ---- */

typedef struct an_type_row {
	uint32_t type;           /* a type index: the first of those with its name */
	uint64_t count, size;    /* objects and their bytes (getsizeof) */
} an_type_row;

typedef struct an_types_result {
	an_type_row *rows;       /* one per type name with objects, by size (or by
				  * count), then count (or size), ties by name */
	size_t n;
	uint64_t total_count, total_size;
} an_types_result;

/* Live objects by type name: those with sel[id] set, or all of them when
 * sel is NULL (then from the scan's totals: a totals-only scan will do).
 * Types of one name (a class defined twice) are one row.  -1 when out of
 * memory. */
int an_types(an_types_result **out, ph_heap *h, const uint8_t *sel, int by_count);
void an_types_free(an_types_result *r);

/* ---- refs ---- */

#define AN_OVER_LISTED 1000  /* overcounted objects listed */

typedef struct an_external {
	rg_id id;
	int64_t refs;            /* references from outside the heap (> 0) */
} an_external;

typedef struct an_refs_result {
	uint64_t objects, edges;
	uint64_t explained;      /* refcount equals the references found */
	uint64_t external;       /* objects with references from outside ... */
	uint64_t external_refs;  /* ... and how many */
	uint64_t immortal;
	uint64_t overcounted;    /* more precise references found than ob_refcnt */
	uint64_t overcounted_conservative; /* more only with guessed references */
	uint64_t orphan_count, orphan_size;
	an_types_result *orphans; /* orphans by type, biggest first */
	rg_id *over;             /* the first AN_OVER_LISTED overcounted objects, */
	size_t nover;            /* in id order */
	an_external *ext;        /* every object held from outside, most */
	size_t next;             /* references first */
} an_refs_result;

int an_refs(an_refs_result **out, const heapgraph *hg);
void an_refs_free(an_refs_result *r);

/* ---- path ---- */

/* Every object whose type is named type, in id order: *out (caller frees)
 * and *n (0 when there is none).  -1 when out of memory. */
int an_objects_of_type(rg_id **out, size_t *n, const heapgraph *hg, const char *type);

typedef struct an_path_result {
	rg_id target;            /* the candidate nearest to a root */
	size_t candidates;
	int reached;             /* 0: no root reaches any candidate (garbage) */
	an_chain chain;          /* when reached: from its root to target */
} an_path_result;

/* The shortest chain to the nearest of the targets (ntargets >= 1).  The
 * interpreter's own roots (modules, frames, its state) explain an object
 * better than "something in C holds it": they are tried first, and the
 * external roots only when they reach no target.  -1 when out of memory. */
int an_path(an_path_result **out, const heapgraph *hg, const rg_id *targets, size_t ntargets);
void an_path_free(an_path_result *r);

/* ---- garbage ---- */

typedef struct an_garbage_result {
	uint64_t count, size;    /* objects no root reaches, and their bytes */
	an_types_result *types;  /* those by type, biggest first */
	const ph_gc_state *gc;   /* the collector's state; borrowed from the heap */
} an_garbage_result;

int an_garbage(an_garbage_result **out, const heapgraph *hg);
void an_garbage_free(an_garbage_result *r);

/* ---- show ---- */

#define AN_SHOW_MAX 200      /* references listed each way; the rest counted */

typedef struct an_link {
	rg_id node;              /* the other end */
	uint8_t flags;           /* RG_WEAK, RG_CONSERVATIVE */
	char label[AN_LABEL_MAX];
} an_link;

typedef struct an_show_result {
	rg_id id;
	int64_t refcount;
	int immortal;
	uint32_t found;          /* references found in the heap */
	int64_t external;        /* refcount minus those */
	unsigned flags;          /* PH_OBJ_* */
	const char *root_kind;   /* when the object is a root; else NULL */
	an_link *referents;      /* the first AN_SHOW_MAX, */
	size_t nreferents;
	uint64_t referent_count; /* of all */
	an_link *referrers;
	size_t nreferrers;
	uint64_t referrer_count;
} an_show_result;

int an_show(an_show_result **out, const heapgraph *hg, rg_id id);
void an_show_free(an_show_result *r);

/* ---- backrefs ---- */

typedef struct an_backrefs_opts {
	unsigned depth;          /* referrers at most this many references away */
	size_t max_nodes;
	const char *const *hide; /* type names left out */
	size_t nhide;
	int stop_at_modules;     /* do not go past module objects */
} an_backrefs_opts;

typedef struct an_backrefs_result {
	size_t targets;          /* targets drawn (a sample when many) */
	size_t candidates;       /* targets given */
	rg_id *nodes;            /* targets first */
	size_t nnodes;
	rg_edge *edges;          /* the references among them */
	size_t nedges;
} an_backrefs_result;

/* Who refers to the targets, and who to those.  Many targets would fill
 * the drawing with themselves: a quarter of max_nodes at most are drawn.
 * -1 when out of memory. */
int an_backrefs(an_backrefs_result **out, const heapgraph *hg, const rg_id *targets,
		size_t ntargets, const an_backrefs_opts *o);
void an_backrefs_free(an_backrefs_result *r);

#endif
