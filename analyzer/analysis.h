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
 *   an_top        dominators: the biggest retainers, retained size by type
 *   an_suspects   the leak rules, each finding with its evidence and chain
 *   an_diff       type growth between two dumps, containers that grew
 *   an_show       one object: refcount accounting, referents and referrers
 *   an_backrefs   the backward neighbourhood of some objects, for drawing
 *   an_stacks     every thread's Python stack, with its locals
 *   an_memory     every byte of the core in a ledger: mappings, pymalloc,
 *                 glibc's malloc and who owns its chunks, fragmentation
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
#include "jsonread.h"
#include "pyheap.h"

/* ---- chains ---- */

#define AN_LABEL_MAX 200     /* bytes of an edge label, NUL included */

/* The chain of references that holds an object, root-most first. */
typedef struct an_chain {
	rg_id root;              /* the node it starts at: the object itself when
				  * it is a root or no root reaches it */
	const char *root_kind;   /* the root's kind ("module", "frame", ...), or
				  * NULL when root is no root; borrowed from the
				  * heap (it outlives the graph) */
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
	/* when the scan counted them (ph_options.buffers): the bytes of the
	 * buffers the objects own (ph_object_buffers), and the part of those
	 * size leaves out */
	uint64_t owned, extra;
} an_type_row;

typedef struct an_types_result {
	an_type_row *rows;       /* one per type name with objects, by size (or by
				  * count), then count (or size), ties by name */
	size_t n;
	uint64_t total_count, total_size;
	uint64_t total_owned, total_extra;   /* (see an_type_row) */
} an_types_result;

/* Live objects by type name: those with sel[id] set, or all of them when
 * sel is NULL (then from the scan's totals: a totals-only scan will do).
 * Types of one name (a class defined twice) are one row.  -1 when out of
 * memory. */
int an_types(an_types_result **out, ph_heap *h, const uint8_t *sel, int by_count);
void an_types_free(an_types_result *r);

/* ---- arenas ---- */

typedef struct an_pinned_arena {
	uint64_t base, end;      /* its first pool in use, and its end */
	ph_id *ids;              /* the objects in it, in id order */
	size_t n;
} an_pinned_arena;

typedef struct an_pinned_result {
	an_pinned_arena *arenas; /* the nearly empty arenas, by address (at */
	size_t n;                /* most PH_PINNED_MAX) */
	uint64_t objects;        /* in all of them */
} an_pinned_result;

/* The objects that keep each nearly empty arena resident.  -1 when out
 * of memory. */
int an_pinned(an_pinned_result **out, ph_heap *h);
void an_pinned_free(an_pinned_result *r);

/* ---- C stacks ---- */

/* The words of every thread's live C stack (stack pointer to the end of
 * its memory), sorted: what running C code may hold (an_cstack.c). */
typedef struct an_cstack { uint64_t *words; size_t n; } an_cstack;
int an_cstack_read(an_cstack *out, ph_heap *h);     /* -1: out of memory */
int an_cstack_holds(const an_cstack *s, uint64_t addr);
void an_cstack_free(an_cstack *s);

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
	rg_id *orphan_ids;       /* every orphan, in id order */
	uint8_t *orphan_cstack;  /* per orphan_ids[i]: a thread's live C stack
				  * points at it (running C code holds it) */
	uint64_t cstack_count, cstack_size; /* such orphans */
	rg_id *over;             /* the first AN_OVER_LISTED overcounted objects, */
	size_t nover;            /* in id order */
	rg_id *over_cons;        /* the same for those over only through guesses */
	size_t nover_cons;
	an_external *ext;        /* every object held from outside, most */
	size_t next;             /* references first */
} an_refs_result;

int an_refs(an_refs_result **out, const heapgraph *hg);
void an_refs_free(an_refs_result *r);

/* ---- path ---- */

/* Every object whose type is named type, in id order: *out (caller frees)
 * and *n (0 when there is none).  A name no type has exactly may be the
 * last part of one qualified name ("Name" for "astroid.nodes.Name"):
 * which[0] gets the name matched; when two qualified names end so,
 * which[1] gets the second and *n is 0.  -1 when out of memory. */
int an_objects_of_type(rg_id **out, size_t *n, const heapgraph *hg, const char *type,
		       const char *which[2]);

/* A holder of many of the targets: the first node above them, on their
 * chains from the roots, that holds at least a hundredth of them. */
typedef struct an_holder {
	rg_id node;
	size_t count;            /* targets it holds (through it on their chains) */
	rg_id example;           /* one of them */
	an_chain chain;          /* from its root to the example, through node */
	size_t at;               /* the index of node in chain.nodes */
} an_holder;
#define AN_HOLDERS 10

typedef struct an_path_result {
	rg_id target;            /* the candidate nearest to a root */
	size_t candidates;
	int reached;             /* 0: no root reaches any candidate (garbage) */
	an_chain chain;          /* when reached: from its root to target */
	an_holder *holders;      /* the biggest holders, most targets first (at most */
	size_t nholders;         /* AN_HOLDERS), with more than one target */
	size_t reached_count;    /* targets some root reaches */
	size_t holder_min;       /* what a holder holds at least */
	size_t held_elsewhere;   /* reached targets no listed holder holds */
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
	rg_id *ids;              /* every one of them, in id order (count) */
	const ph_gc_state *gc;   /* the collector's state; borrowed from the heap */
} an_garbage_result;

int an_garbage(an_garbage_result **out, const heapgraph *hg);
void an_garbage_free(an_garbage_result *r);

/* ---- top ---- */

typedef struct an_retainer { rg_id id; uint64_t retained; } an_retainer;
typedef struct an_type_retained { uint32_t type; uint64_t count, retained; } an_type_retained;

typedef struct an_top_result {
	uint64_t total_size;     /* the heap's bytes */
	an_retainer *objects;    /* the biggest retainers, most bytes first, ties */
	size_t nobjects;         /* by id */
	an_type_retained *types; /* by type, most bytes first: the objects with no
				  * ancestor of their type in the dominator tree */
	size_t ntypes;           /* (up to the first type without one) */
	rg_edge *parent;         /* the breadth-first tree from every root, for */
	uint32_t *dist;          /* an_chain_get; hg_node_count() long */
} an_top_result;

/* Each node's retained size (its own bytes: sys.getsizeof, which counts
 * a list's item table, a dict's keys and an ndarray's data, plus the
 * buffers it owns that getsizeof leaves out, ph_object_extra; 0 for a
 * virtual node; plus those of every node it dominates) into *out, and the dominator tree
 * into *idom (rg_dominators' meaning): hg_node_count() long each, the
 * caller frees both.  -1 when out of memory. */
int an_retained(uint64_t **out, rg_id **idom, const heapgraph *hg);

/* Retained sizes from the dominator tree (from a virtual root holding
 * every root): the nobjects biggest retainers (0: every object) and the
 * retained size by type.  -1 when out of memory. */
int an_top(an_top_result **out, const heapgraph *hg, size_t nobjects);
void an_top_free(an_top_result *r);

/* ---- diff ---- */

/* One side of a comparison: a scanned core, or a `types --json` snapshot. */
typedef struct an_dump {
	const char *path;        /* for messages */
	ph_heap *heap;           /* a core's heap, or NULL */
	const jr_doc *snapshot;  /* a parsed snapshot (its "types" list checked
				  * to be one), or NULL */
} an_dump;

typedef struct an_type_delta {
	char *name;
	uint64_t old_count, new_count, old_size, new_size;
} an_type_delta;

/* Every type on either side, most growth first (bytes, or count), ties
 * by name: *out (free with an_type_deltas_free) and *n.  -1 when out of
 * memory, or with a message in err (err[0] non-zero) when a snapshot's row
 * lacks its type, count or size. */
int an_type_deltas(an_type_delta **out, size_t *n, const an_dump *old, const an_dump *cur,
		   int by_count, char *err, size_t errlen);
void an_type_deltas_free(an_type_delta *rows, size_t n);

#define AN_GROWN_MAX 10

/* A container at the same address, of the same type, in both dumps, that
 * gained items. */
typedef struct an_grown { ph_id id; int64_t old_len, new_len; } an_grown;

/* Containers of cur that grew since old, biggest growth first, at most
 * AN_GROWN_MAX into out; returns how many. */
size_t an_grown_containers(an_grown *out, ph_heap *old, ph_heap *cur);

typedef struct an_diff_result {
	an_type_delta *types;    /* every type on either side, most growth first
				  * (bytes, or count), ties by name */
	size_t ntypes;
	size_t changed;          /* types whose count or bytes changed */
	an_grown grown[AN_GROWN_MAX]; /* when both sides are cores */
	size_t ngrown;
	int have_chains;         /* the new heap's graph was built: */
	an_chain chains[AN_GROWN_MAX]; /* chains[i] holds grown[i] */
} an_diff_result;

/* Type growth from old to cur, and the containers that grew (with the
 * chain that holds each in cur; a graph that cannot be built leaves
 * have_chains 0).  -1 when out of memory, or with a message in err (err[0]
 * non-zero) when a snapshot's row lacks its type, count or size. */
int an_diff(an_diff_result **out, const an_dump *old, const an_dump *cur, int by_count,
	    char *err, size_t errlen);
void an_diff_free(an_diff_result *r);

/* ---- memory ---- */

#define AN_MEM_NAME 96
#define AN_MEM_ADDRS 8       /* addresses quoted per pinned arena */
#define AN_MEM_PINNED 64     /* pinned arenas described (ph_pinned_arenas' most) */
#define AN_MEM_TYPES 3       /* types quoted per pinned arena */

/* One line of a ledger.  Lines are in pre-order, each after its parent;
 * a line's children (the lines after it one level deeper, up to the next
 * line at its own depth or above) add up to it. */
typedef struct an_mem_line {
	char name[AN_MEM_NAME];
	uint64_t bytes;
	int depth;               /* 0: a top-level line */
} an_mem_line;

/* Who an in-use malloc chunk belongs to. */
enum an_mem_owner {
	AN_OWN_NONE,             /* native, no holder known */
	AN_OWN_OBJECT,           /* a Python object (over 512 bytes) */
	AN_OWN_BUFFER,           /* a buffer an object owns (buffer_kind) */
	AN_OWN_ARENA,            /* a pymalloc arena */
	AN_OWN_TSTATE,           /* the interpreter: a thread state */
	AN_OWN_STATIC,           /* native, pointed at by a C static */
	AN_OWN_EXTOBJ,           /* native, pointed at by an extension object */
	AN_OWN_MALLOC,           /* malloc's own (a thread's tcache) */
	AN_OWN_NKINDS
};
/* "Python objects (over 512 bytes)", "buffers of objects", ... */
const char *an_mem_owner_name(unsigned owner);

/* One of the biggest chunks in use. */
typedef struct an_mem_chunk {
	uint64_t addr;           /* the program's pointer to it */
	uint64_t size;           /* the chunk's bytes, header included */
	int mmapped;
	unsigned owner;          /* enum an_mem_owner */
	unsigned buffer_kind;    /* AN_OWN_BUFFER: enum ph_buffer_kind */
	uint64_t owner_addr;     /* the object (or the buffer's owner, the
				  * extension object, the C static); 0 if none */
	uint32_t owner_type;     /* its type index; PH_NONE when no object */
	char holder[AN_MEM_NAME]; /* AN_OWN_STATIC: "symbol+off in module" */
} an_mem_chunk;

/* A nearly empty pymalloc arena and what keeps it. */
typedef struct an_mem_pinned {
	uint64_t lo, hi;         /* the arena */
	uint64_t objects, bytes; /* the live objects in it, and their sizes */
	an_type_row types[AN_MEM_TYPES]; /* by bytes, most first */
	size_t ntypes;
	uint64_t addrs[AN_MEM_ADDRS];   /* the first few objects' addresses */
	size_t naddrs;
} an_mem_pinned;

#define AN_MEM_GAPS 16        /* unexplained ranges listed */
typedef struct an_mem_range { uint64_t lo, hi; } an_mem_range;

/* One glibc arena, as the ledger reads it. */
typedef struct an_mem_arena {
	uint64_t state;
	int main;
	size_t heaps;
	uint64_t bytes;          /* its heaps as mapped */
	uint64_t system_mem, in_use, free, top;
} an_mem_arena;

typedef struct an_memory_result {
	uint64_t total;          /* the core's memory: the size of every mapping */
	uint64_t unexplained;    /* writable anonymous memory no structure claims */
	an_mem_range gaps[AN_MEM_GAPS]; /* the biggest unexplained ranges, */
	size_t ngaps;            /* biggest first */
	an_mem_line *lines;      /* the ledger: lines + unexplained == total */
	size_t nlines;
	an_mem_line *mappings;   /* the same memory by kind of mapping */
	size_t nmappings;

	/* glibc's malloc */
	int have_malloc;
	char malloc_note[256];   /* without: why */
	const char *malloc_found_by;  /* "symbols" or "structure" */
	char malloc_version[24];
	int malloc_safe_linking;
	core_mallinfo mallinfo;  /* mallinfo2()'s fields */
	an_mem_arena *arenas;
	size_t narenas;
	size_t tcaches;

	/* Python's memory against the rest */
	uint64_t python_bytes;   /* pymalloc's used blocks, and malloc chunks of
				  * objects and of their buffers */
	uint64_t native_bytes;   /* malloc chunks in use, no object's */

	/* fragmentation: memory held but free */
	struct {
		uint64_t pymalloc_free_blocks, pymalloc_empty_pools, pymalloc_untouched;
		uint64_t malloc_bins, malloc_fast, malloc_tcache, malloc_unbinned, malloc_top;
		uint64_t total;          /* all of the above */
		uint64_t nearly_empty_arenas, nearly_empty_bytes;
	} frag;
	an_mem_pinned *pinned;   /* the nearly empty arenas (at most AN_MEM_PINNED) */
	size_t npinned;
	uint64_t pinners;        /* objects in all of them */
	uint64_t largest_pinner; /* the biggest of those objects (0: none); after
				  * an_memory_chain, the biggest a root reaches */
	uint32_t largest_pinner_type;
	uint64_t largest_pinner_size;
	int have_chain;          /* an_memory_chain found its chain: */
	an_chain largest_chain;
	struct an_mem_pinner { uint64_t addr, size; uint32_t type; } *pinner_list;
	size_t npinner_list;     /* the pinners, biggest first (at most 65536) */

	an_mem_chunk *chunks;    /* the biggest chunks in use, most bytes first */
	size_t nchunks;
	size_t nthreads;         /* thread stacks found */
} an_memory_result;

/* The ledger is made in three steps, so that a scan keeping totals only
 * can feed it: an_memory_begin() makes a collector, an_memory_visit() is
 * the scan's ph_options.visit hook (payload: the collector), and
 * an_memory_end() walks glibc's malloc (malloc_flags: CORE_MALLOC_*) and
 * makes the result, with the nchunks biggest chunks listed (0: all).  A
 * heap scanned with an object table needs no hook: an_memory() does the
 * three.  The collector is freed by an_memory_end (even on failure).
 * -1 when out of memory. */
typedef struct an_memory_ctx an_memory_ctx;
int an_memory_begin(an_memory_ctx **out, unsigned malloc_flags);
void an_memory_visit(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size, void *payload);
int an_memory_end(an_memory_result **out, an_memory_ctx *c, ph_heap *h, size_t nchunks);
int an_memory(an_memory_result **out, ph_heap *h, unsigned malloc_flags, size_t nchunks);
/* The chain that holds the largest pinner a root reaches, from hg (a
 * graph of a heap of the same core): sets largest_pinner* and have_chain.
 * -1 when out of memory. */
int an_memory_chain(an_memory_result *r, const heapgraph *hg);
void an_memory_free(an_memory_result *r);

/* ---- suspects ---- */

#define AN_BIG_SHARE 5       /* a big container retains >= 5% of the heap */
#define AN_CACHE_PERMILLE 1  /* an unbounded cache retains >= 0.1% of it */
#define AN_GARBAGE_SHARE 1   /* garbage while the collector runs: >= 1% */
#define AN_PINNED_SHARE 10   /* pinned arenas: >= 2, >= 10% of the arenas */
#define AN_NATIVE_SHARE 50   /* native memory is >= 50% of the memory in use */
#define AN_FREE_SHARE 50     /* free memory is >= 50% of the allocators' */
#define AN_SUSPECTS_MAX 64
#define AN_EXAMPLES 3        /* types quoted, type growths taken, per rule */

enum an_suspect_kind {
	AN_UNBOUNDED_CACHE,      /* an lru_cache with maxsize=None */
	AN_BIG_CONTAINER,        /* a container retaining a large share */
	AN_GROWTH,               /* a type, or a container, grew since the baseline */
	AN_GARBAGE,              /* cyclic garbage */
	AN_ORPHANS,              /* refcounts no referrer explains */
	AN_PINNED_ARENAS,        /* nearly empty arenas kept by a few blocks */
	AN_NATIVE_MEMORY,        /* memory in use mostly outside Python objects */
	AN_FRAGMENTATION,        /* the allocators' memory mostly free */
};
/* "unbounded_cache", "big_container", "growth", "garbage", "orphans",
 * "pinned_arenas", "native_memory", "fragmentation". */
const char *an_suspect_kind_name(enum an_suspect_kind k);

typedef struct an_suspect {
	enum an_suspect_kind kind;
	uint64_t weight;         /* the rank: its bytes (the share of the heap) */
	uint64_t bytes;          /* what it keeps: the retained size of an object,
				  * a group's bytes, pinned arenas' resident bytes */
	rg_id id;                /* the object, or RG_NONE for a group */
	/* for an object (id != RG_NONE): */
	uint64_t retained;       /* its retained size */
	int64_t items;           /* its items, or its cache's for an lru_cache;
				  * -1 when not a container */
	an_chain chain;          /* what holds it */
	/* the evidence, by kind: */
	union {
		struct { int64_t entries; } cache;     /* -1: no cache dict */
		struct { int module_level; int64_t items; uint64_t percent; } big;
		struct {                               /* growth of a type */
			char name[128];
			int64_t count_delta, size_delta;
			uint64_t new_count;
		} type_growth;
		struct { int64_t old_len, new_len; } grown; /* growth of a container */
		struct { uint64_t count, size; int gc_disabled; } garbage;
		struct { uint64_t count, retained, on_c_stack; } orphans;
		struct {
			uint64_t arenas, resident, objects;
			const ph_arena_span *bases;    /* the arenas, borrowed */
			size_t nbases;                 /* from the heap */
		} pinned;
		struct {                               /* native memory */
			uint64_t python, native;       /* in use (an_memory_result) */
			an_mem_chunk holders[AN_EXAMPLES]; /* the biggest native chunks */
			size_t nholders;
		} native;
		struct {                               /* fragmentation */
			uint64_t free, in_use;         /* free: held by the allocators */
			uint64_t pymalloc, malloc;     /* of free: pymalloc's, malloc's */
			uint64_t pinned_arenas;
		} frag;
	} e;
	/* for a group: its types, most bytes first */
	an_type_row examples[AN_EXAMPLES];
	size_t nexamples;
} an_suspect;

typedef struct an_suspects_result {
	uint64_t total_size, objects;
	uint64_t pinned_free;    /* bytes of nearly empty arenas no object uses */
	uint64_t heap_size;      /* what shares are of: total_size + pinned_free */
	const ph_gc_state *gc;   /* borrowed from the heap */
	an_suspect s[AN_SUSPECTS_MAX]; /* heaviest first */
	size_t n;
} an_suspects_result;

/* Every leak rule on hg's heap, and growth since baseline when it is not
 * NULL.  -1 when out of memory, or with a message in err (err[0] non-zero)
 * when the baseline snapshot's row lacks its type, count or size. */
int an_suspects(an_suspects_result **out, const heapgraph *hg, const an_dump *baseline,
		char *err, size_t errlen);
void an_suspects_free(an_suspects_result *r);

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
	size_t max_nodes;        /* drawn nodes (a group is one) */
	const char *const *hide; /* type names left out */
	size_t nhide;
	int through_modules;     /* go past module objects (else they end it) */
	size_t width;            /* referrer classes drawn per node; 0: all */
	size_t merge;            /* a class of this many is one node; 0: never */
} an_backrefs_opts;

enum {
	AN_BR_TARGET = 1,        /* one of the objects asked about, or a group */
	AN_BR_GROUP = 2,         /* stands for count objects of one type, held
				  * by the same kind of reference */
	AN_BR_MORE = 4,          /* the rest of a node's referrers, beyond the
				  * width: count objects of `classes` kinds */
	AN_BR_END = 8,           /* not followed further */
};

typedef struct an_br_node {
	rg_id node;              /* the object, or the first of the group */
	uint64_t count;          /* objects it stands for */
	unsigned flags;          /* AN_BR_* */
	unsigned depth;          /* references from the targets */
	size_t classes;          /* AN_BR_MORE: kinds of referrers in it */
} an_br_node;

typedef struct an_br_edge {
	size_t from, to;         /* drawn nodes: from refers to to */
	rg_edge example;         /* one of the references it stands for */
	uint64_t count;          /* how many */
} an_br_edge;

typedef struct an_backrefs_result {
	size_t candidates;       /* targets given */
	uint64_t targets;        /* targets drawn (in target nodes) */
	size_t target_nodes;     /* the first nodes are the targets' */
	uint64_t objects;        /* objects the drawn nodes stand for */
	an_br_node *nodes;
	size_t nnodes;
	an_br_edge *edges;
	size_t nedges;
} an_backrefs_result;

/* Who refers to the targets, and who to those, breadth-first, grouped
 * and limited to fit a screen (see an_backrefs.c).  -1 when out of memory. */
int an_backrefs(an_backrefs_result **out, const heapgraph *hg, const rg_id *targets,
		size_t ntargets, const an_backrefs_opts *o);
void an_backrefs_free(an_backrefs_result *r);

/* ---- stacks ---- */

typedef struct an_local {
	char name[64];
	uint64_t addr;           /* the value */
	rg_id id;                /* its id, RG_NONE when it is no object found */
	uint64_t size, retained; /* sys.getsizeof, and what it keeps alive (with a
				  * graph; else its size) */
} an_local;

typedef struct an_stack_frame {
	ph_frame frame;
	an_local *locals;        /* with locals only */
	size_t nlocals;
} an_stack_frame;

typedef struct an_stack {
	const ph_thread *thread; /* borrowed from the heap */
	an_stack_frame *frames;  /* innermost first */
	size_t nframes;
} an_stack;

typedef struct an_stacks_result {
	an_stack *threads;
	size_t nthreads;
} an_stacks_result;

/* The stacks of every Python thread; with hg (a graph of the same heap),
 * also each frame's locals and their retained sizes. */
int an_stacks(an_stacks_result **out, ph_heap *h, const heapgraph *hg);
void an_stacks_free(an_stacks_result *r);

#endif
