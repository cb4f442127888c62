/*
 * phInt.h - private to pyheap/: the ph_heap struct and the helpers its
 * files share.  Nothing outside pyheap/ includes this.
 */
#ifndef PYHEAP_PHINT_H
#define PYHEAP_PHINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core.h"
#include "map.h"
#include "offsets.h"
#include "pyheap.h"
#include "version.h"
#include "kinds.h"

/* Type-object flag bits (Include/object.h). */
#define TPF_STATIC_BUILTIN   (1ull << 1)   /* 3.12+ */
#define TPF_INLINE_VALUES    (1ull << 2)   /* 3.13 */
#define TPF_MANAGED_WEAKREF  (1ull << 3)   /* 3.12+ */
#define TPF_MANAGED_DICT     (1ull << 4)   /* 3.11+ */
#define TPF_HEAPTYPE         (1ull << 9)
#define TPF_READY            (1ull << 12)
#define TPF_HAVE_GC          (1ull << 14)
#define TPF_TYPE_SUBCLASS    (1ull << 31)

#define GC_HEAD_SIZE 16

/* A node that holds references without being an object. */
typedef struct ph_vnode {
	const char *kind;        /* "interpreter", "thread", "frame" */
	uint64_t addr;           /* the PyInterpreterState, PyThreadState or frame */
	uint64_t aux;            /* thread: its interpreter index; frame: its thread node */
	char name[80];
} ph_vnode;

typedef struct ph_type {
	uint64_t addr;
	uint64_t flags;          /* tp_flags */
	int64_t basicsize, itemsize, dictoffset;
	uint64_t members;        /* tp_members (heap types: slot descriptors) */
	enum ph_kind kind;
	uint64_t kind_base;      /* the type on the tp_base chain that gave the kind */
	int preheader;           /* bytes before the PyObject */
	char *name;              /* "module.qualname", or bare for builtins */
	struct ph_iplan *plan;   /* how its instances are walked (refs.c), built on first use */
	uint64_t count, bytes;   /* its objects and their sizes (the scan's visits) */
} ph_type;

/* refs.c: frees the instance plans of all types */
void ph_plans_free(ph_heap *h);

/* Room for element n of arr (cap of them, each elem bytes): arr itself, or
 * arr grown by doubling (first, the first time), with *cap updated; NULL
 * when out of memory, arr then unchanged and still the caller's. */
static inline void *ph_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return arr;
	size_t c = *cap ? 2 * *cap : first;
	if (c > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

/* Warning kinds: counted, each with its first example. */
enum ph_warn {
	W_BAD_POOL, W_POOL_COUNT, W_BAD_FREELIST, W_BAD_BLOCK, W_BAD_TYPE,
	W_GC_LIST, W_GC_OBJECT, W_UNREADABLE, W_ARENA_TABLE, W_REF_TARGET,
	W_THREADS, W_OFFSETS, W_NKINDS
};

typedef struct ph_pool_class { uint64_t pools, used, free; } ph_pool_class;

struct ph_heap {
	core_t *core;
	core_module_t *pymod;            /* module holding _PyRuntime */
	ph_offsets off;
	const ph_traits *tr;             /* what this release does (version.h) */
	ph_options opts;
	int minor, micro;                /* for display; the code asks tr */
	char version[32];
	const char *version_found_by, *runtime_found_by, *offsets_source, *arenas_found_by;
	uint64_t runtime;
	uint64_t interps[16];            /* interpreter states, main first */
	size_t ninterps;

	/* pymalloc geometry of this version */
	uint64_t arena_size, pool_size;

	/* static objects, by symbol (0 when absent) */
	uint64_t type_type, object_type, none_addr, set_dummy;
	uint64_t kind_types[K_NKINDS];   /* the static type of each family */

	/* types: addr -> index into types[], PH_MAP_NONE-1 (INVALID) for rejects */
	ph_map type_map;
	/* valid types by address, in front of type_map (types.c) */
#define PH_TCACHE 256
	uint64_t tcache_key[PH_TCACHE];
	uint32_t tcache_val[PH_TCACHE];
	bool tcache_on;
	ph_type *types;
	size_t ntypes, types_cap;
	int naming_depth;                /* types.c: bounds type_name recursion */

	/* objects: dense ids, flat arrays */
	ph_map obj_map;                  /* address -> id, except pool-walk blocks (heap.c) */
	struct ph_blockix *blockix;      /* pool-walk blocks: id by pool (heap.c) */
	struct ph_lean *lean;            /* totals_only: pool-walk blocks as bits (heap.c) */
	size_t nlean;                    /* ... how many (they have no id) */
	struct ph_gcchase *gcchase;      /* the GC lists' links, chased meanwhile (gc.c) */
	size_t walked;                   /* ids below this had their references followed */
	uint64_t scan_refs;              /* references seen doing so */
	bool deferring;                  /* the pool walk: references out of the arenas wait */
	uint64_t *pending;               /* ... here (heap.c) */
	size_t npending, pending_cap;
	uint64_t pending_seen[256];      /* recent pending targets (types, None, small ints) */
	uint64_t *obj_addr;
	uint32_t *obj_type;
	uint16_t *obj_size;              /* sys.getsizeof; UINT16_MAX: see big_sizes */
	struct ph_big_size { uint32_t id; uint64_t size; } *big_sizes;   /* by id */
	size_t nbig, big_cap;
	uint8_t *obj_flags;
	size_t nobj, obj_cap;
	void *obj_mem;                   /* their reservation, or NULL (heap.c) */
	size_t obj_mem_len;
	uint64_t gc_objects, total_size;

	/* arena address ranges, sorted, for "is this inside pymalloc?" */
	uint64_t *arena_lo, *arena_hi;
	size_t narenas, arenas_cap;
	struct ph_chunk *chunks;         /* arena-sized chunk -> ranges (obmalloc.c) */
	uint64_t near_lo, near_len;      /* the range of the last reference found in one */
	unsigned chunk_bits, chunk_shift;
	bool ranges_sorted;              /* ph_in_arena() may be used */

	ph_thread *threads;
	size_t nthreads, threads_cap;

	/* reference graph: virtual nodes after the objects, and the roots */
	ph_vnode *vnodes;
	size_t nvnodes, vnodes_cap;
	ph_root *roots;
	size_t nroots, roots_cap;
	uint64_t interned;               /* the interned-strings dict, 0 if unknown */
	bool scanned;                    /* ph_scan is done: every object has its id */
	bool roots_built;                /* virtual nodes and roots (refs.c, on first use) */
	ph_gc_state gc;
	ph_arena_stats arenas;
	uint64_t pinned[PH_PINNED_MAX];  /* nearly empty arenas' base addresses */
	size_t npinned;

	uint64_t warn_count[W_NKINDS];
	char *warn_text[W_NKINDS];
	size_t warn_order[W_NKINDS];     /* kinds in order of first occurrence */
	size_t nwarn_kinds;
};

#define TYPE_INVALID (PH_MAP_NONE - 1)

/* warn.c */
void ph_warn(ph_heap *h, enum ph_warn kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Memory, through the image (read.c). */
static inline bool rd64(const ph_heap *h, uint64_t addr, uint64_t *out)
{
	return core_read_u64(h->core, addr, out) == 0;
}
static inline bool rd32(const ph_heap *h, uint64_t addr, uint32_t *out)
{
	return core_read_u32(h->core, addr, out) == 0;
}
/* A field read: *out = word at base+off; false when off is -1 or unreadable. */
static inline bool rdf(const ph_heap *h, uint64_t base, int64_t off, uint64_t *out)
{
	return off >= 0 && rd64(h, base + (uint64_t)off, out);
}

/* types.c */
int ph_types_init(ph_heap *h);
/* The type index of the type object at addr, validating it on first sight;
 * TYPE_INVALID when addr is not a type object. */
uint32_t ph_type_lookup(ph_heap *h, uint64_t addr);
/* Reads a Python str into buf as UTF-8 (truncated to cap); false when addr
 * is not a readable str. */
bool ph_str_read(ph_heap *h, uint64_t addr, char *buf, size_t cap);

/* objects.c */
/* Validates the object at addr; returns its type index or TYPE_INVALID.
 * alloc_cap, when nonzero, is the room the allocation has (block size minus
 * the pre-header) and must hold the object. */
uint32_t ph_object_check(ph_heap *h, uint64_t addr, uint64_t alloc_cap);
/* The same with the object's first two words already read. */
uint32_t ph_object_check_words(ph_heap *h, uint64_t addr, uint64_t refcnt, uint64_t type,
			       uint64_t alloc_cap);
/* sys.getsizeof of a valid object. */
uint64_t ph_object_sizeof(ph_heap *h, uint64_t addr, const ph_type *t);
/* Dict iteration over every layout: fn(key, value) for each live entry.
 * `owner` is the object whose split values may live inline (3.13), or 0. */
typedef bool (*ph_dict_fn)(ph_heap *h, uint64_t key, uint64_t value, void *payload);
void ph_dict_foreach(ph_heap *h, uint64_t dict, ph_dict_fn fn, void *payload);
/* Keys of a keys object alone (the shared keys of split tables): fn(key, 0). */
void ph_keys_foreach(ph_heap *h, uint64_t keys, ph_dict_fn fn, void *payload);
uint64_t ph_keys_nentries(ph_heap *h, uint64_t keys);
/* Whether the dict is a split table (its keys are held by the shared keys
 * object, not by the dict). */
bool ph_dict_split(ph_heap *h, uint64_t dict);
/* Looks up a str key in a dict; 0 when absent. */
uint64_t ph_dict_get_str(ph_heap *h, uint64_t dict, const char *key);

/* refs.c */
/* Labelled references of one object at addr (of type ti): fn(target, kind,
 * flags, label).  Targets may be invalid; callers check.  Labels that name
 * objects (dict keys) are ids when the key is known, else PH_NOLABEL. */
typedef void (*ph_lref_fn)(ph_heap *h, uint64_t target, uint8_t kind, uint8_t flags,
			   uint32_t label, void *payload);
size_t ph_object_edges_raw(ph_heap *h, uint64_t addr, uint32_t ti, ph_lref_fn fn,
			   void *payload);
bool ph_refcnt_immortal(const ph_heap *h, uint64_t refcnt, unsigned flags);
/* Builds the virtual nodes and the roots (end of ph_scan). */
/* The object at addr is a live object of any kind found by the scan. */
uint32_t ph_object_id(const ph_heap *h, uint64_t addr);   /* heap.c */
static inline uint32_t ph_id_of(const ph_heap *h, uint64_t addr)
{
	return ph_object_id(h, addr);
}

/* heap.c */
/* Adds an object (dedup by address); returns its id or PH_MAP_NONE. */
uint32_t ph_add_object(ph_heap *h, uint64_t addr, uint32_t type, unsigned flags);
/* The id of the object at addr, or PH_MAP_NONE.  Objects of pymalloc blocks
 * are not in obj_map: use this, never obj_map, to find an object. */
uint32_t ph_object_id(const ph_heap *h, uint64_t addr);
/* The pool walk (obmalloc.c): ph_pool_begin() before a pool's blocks are
 * added says whether they may go through ph_add_block() (first visit of
 * the pool: no dedup lookup) or must go through ph_add_object();
 * ph_index_blocks() after the walk indexes them by pool. */
bool ph_pool_begin(ph_heap *h, uint64_t pool);
uint32_t ph_add_block(ph_heap *h, uint64_t addr, uint32_t type);
void ph_index_blocks(ph_heap *h);
/* Frees the object arrays. */
void ph_objects_free(ph_heap *h);
/* The pool walk calls this for each object it adds: a new one has its
 * references followed and its size taken while its memory is in the cache. */
void ph_object_visit(ph_heap *h, uint32_t id);
void ph_blockix_free(ph_heap *h);
/* totals_only (heap.c): the bits of a pool's blocks, two halves of
 * h->lean->words words, a bit per 16 bytes: objects the walk counted, and
 * those a GC list had.  ph_lean_pool adds the pool when new (NULL: out of
 * memory); ph_lean_bits finds the pool of an object's address (NULL: not a
 * pool the walk counted objects of, or addr not 16-aligned). */
struct ph_lean {
	ph_map pools;            /* pool address -> index of its bits */
	uint64_t *bits;          /* per pool: 2 * words */
	size_t n, cap;
	unsigned words;          /* per half */
	uint64_t pool_mask;
};
uint64_t *ph_lean_pool(ph_heap *h, uint64_t pool);
uint64_t *ph_lean_bits(const ph_heap *h, uint64_t addr, uint64_t *word, uint64_t *bit);
/* Counts and visits a pool-walk object that gets no id. */
void ph_lean_visit(ph_heap *h, uint64_t addr, uint32_t ti);
void ph_lean_free(ph_heap *h);
bool ph_in_arena(const ph_heap *h, uint64_t addr);
/* The index of the arena range holding addr, or -1. */
long ph_arena_range(const ph_heap *h, uint64_t addr);
/* The pre-header size of the object at addr of type ti (objects.c). */
int ph_object_preheader(ph_heap *h, uint64_t addr, uint32_t ti);

/* obmalloc.c, gc.c, runtime.c */
int ph_walk_arenas(ph_heap *h, ph_progress_fn progress, void *payload);
int ph_walk_gc(ph_heap *h);
/* Starts chasing the GC lists' links in a helper thread (gc.c), for
 * ph_walk_gc to use; ph_gc_chase_free stops and frees it. */
void ph_gc_chase_start(ph_heap *h);
void ph_gc_chase_free(ph_heap *h);
void ph_walk_threads(ph_heap *h);
int ph_offsets_from_dwarf(core_module_t *m, ph_offsets *out);

#endif
