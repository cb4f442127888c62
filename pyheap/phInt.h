/*
 * phInt.h - private to pyheap/: the ph_heap struct and the helpers its
 * files share.  Nothing outside pyheap/ includes this.
 *
 * The files of the model:
 *   runtime.c          ph_open: _PyRuntime, the version, the offsets
 *   version.c          what each release does (version.h): the only place
 *                      that knows version numbers
 *   offsets_tables.c   built-in struct layouts (generated), debug_offsets.c
 *                      3.13's _Py_DebugOffsets
 *   types.c            type objects: validation, families, names
 *   kinds.c            one row per family of objects (kinds.h)
 *   objects.c          one object: validation, sys.getsizeof, dicts
 *   decode.c           an object's references; decode_frames.c: code,
 *                      frames, generators, a thread's frames
 *   scan.c             ph_scan, the driver: obmalloc.c (arenas, pools,
 *                      blocks) and gc.c (GC lists, threads) find objects,
 *                      and objtable.c numbers them; objtable.c and
 *                      ranges.c (the arenas' address ranges) are leaves
 *   roots.c            virtual nodes and roots (ph_build_roots)
 *   edges.c            the reference graph's nodes and edges; repr.c:
 *                      values and labels for display
 *   map.c, warn.c      the address hash, the warnings
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
	const char *kind;        /* "interpreter", "thread", "frame", "statics" */
	uint64_t addr;           /* the PyInterpreterState, PyThreadState or frame;
				  * statics: the module's base address */
	uint64_t aux;            /* thread: its interpreter index; frame: its thread
				  * node; statics: the module's index */
	char name[80];
} ph_vnode;

typedef struct ph_type {
	uint64_t addr;
	uint64_t flags;          /* tp_flags */
	int64_t basicsize, itemsize, dictoffset;
	uint64_t members;        /* tp_members (heap types: slot descriptors) */
	enum ph_kind kind;
	uint64_t kind_base;      /* the type on the tp_base chain that gave the kind */
	enum ph_kind sizer;      /* a sizes_only row on the chain below it, or K_OTHER */
	int preheader;           /* bytes before the PyObject */
	char *name;              /* "module.qualname", or bare for builtins */
	struct ph_iplan *plan;   /* how its instances are walked (decode.c), built on first use */
	uint64_t count, bytes;   /* its objects and their sizes (the scan's visits) */
	uint64_t owned, extra;   /* their buffers, and those bytes leaves out (buffers.c) */
	uint8_t owns;            /* how its objects own buffers (buffers.c), 0: undecided */
	uint8_t native;          /* ph_type_native + 1 (buffers.c), 0: undecided */
	uint32_t vslots;         /* its instances' values slots + 1 (buffers.c), 0: unread */
} ph_type;


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

/* The object table (objtable.c): the objects found, by dense id, in flat
 * arrays.  A leaf: it reads nothing and calls nothing of the model. */
typedef struct ph_objtable {
	ph_map map;                      /* address -> id, except pool-walk blocks */
	struct ph_blockix *blockix;      /* pool-walk blocks: id by pool */
	struct ph_lean *lean;            /* totals_only: pool-walk blocks as bits */
	size_t nlean;                    /* ... how many (they have no id) */
	uint64_t *addr;
	uint32_t *type;
	uint16_t *size;                  /* sys.getsizeof; UINT16_MAX: see big */
	struct ph_big_size { uint32_t id; uint64_t size; } *big;   /* by id */
	size_t nbig, big_cap;
	uint8_t *flags;
	size_t n, cap;
	void *mem;                       /* their reservation, or NULL */
	size_t mem_len;
} ph_objtable;

/* What only ph_scan uses (scan.c, obmalloc.c, gc.c), released when it ends. */
typedef struct ph_scratch {
	struct ph_gcchase *gcchase;      /* the GC lists' links, chased meanwhile (gc.c) */
	size_t walked;                   /* ids below this had their references followed */
	bool deferring;                  /* the pool walk: references out of the arenas wait */
	uint64_t *pending;               /* ... here */
	size_t npending, pending_cap;
	uint64_t pending_seen[256];      /* recent pending targets (types, None, small ints) */
	uint64_t near_lo, near_len;      /* the arena range of the last reference into one */
} ph_scratch;

struct ph_heap {
	/* the interpreter: found by ph_open (runtime.c) */
	core_t *core;
	core_module_t *pymod;            /* module holding _PyRuntime */
	ph_offsets off;
	const ph_traits *tr;             /* what this release does (version.h) */
	ph_options opts;
	int minor, micro;                /* for display; the code asks tr */
	char version[32];
	const char *version_found_by, *runtime_found_by, *offsets_source, *arenas_found_by;
	const char *layout_name;         /* "DWARF", or the built-in layout used */
	char layout_note[768];           /* why (layout.c) */
	uint64_t runtime;
	uint64_t interps[16];            /* interpreter states, main first */
	size_t ninterps;
	uint64_t arena_size, pool_size;  /* pymalloc's geometry */
	uint64_t max_refcnt;             /* words of memory in the core: no mortal
					  * object has more references */

	/* static objects, by symbol (0 when absent) */
	uint64_t type_type, object_type, none_addr, set_dummy;
	uint64_t kind_types[K_NKINDS];   /* the static type of each family */

	/* types (types.c): addr -> index into types[], PH_NONE for rejects */
	ph_map type_map;
	/* valid types by address, in front of type_map */
#define PH_TCACHE 256
	uint64_t tcache_key[PH_TCACHE];
	uint32_t tcache_val[PH_TCACHE];
	bool tcache_on;
	ph_type *types;
	size_t ntypes, types_cap;
	int naming_depth;                /* bounds type_name recursion */

	/* the scan's results */
	ph_objtable objs;
	ph_scratch scan;
	uint64_t scan_refs;              /* references the scan followed */
	uint64_t gc_objects, total_size;
	bool scanned;                    /* ph_scan is done: every object has its id */

	/* arena address ranges, sorted, for "is this inside pymalloc?" (obmalloc.c) */
	uint64_t *arena_lo, *arena_hi;
	size_t narenas, arenas_cap;
	struct ph_chunk *chunks;         /* arena-sized chunk -> ranges */
	unsigned chunk_bits, chunk_shift;
	bool ranges_sorted;              /* ph_in_arena() may be used */
	ph_arena_stats arenas;
	ph_arena_span pinned[PH_PINNED_MAX];  /* nearly empty arenas */
	size_t npinned;

	/* threads and the collector (gc.c) */
	ph_thread *threads;
	size_t nthreads, threads_cap;
	ph_gc_state gc;

	/* reference graph: virtual nodes after the objects, and the roots
	 * (roots.c, ph_build_roots) */
	ph_vnode *vnodes;
	size_t nvnodes, vnodes_cap;
	ph_root *roots;
	size_t nroots, roots_cap;
	uint64_t interned;               /* the interned-strings dict, 0 if unknown */
	bool roots_built;
	/* C statics (roots.c): the writable data of the interpreter's binary
	 * and of the extension modules, each range with its statics node,
	 * and the parts of them that are objects or interpreter and thread
	 * states, walked precisely instead (sorted, merged) */
	struct ph_srange { uint64_t lo, hi; uint32_t node; } *sranges;
	size_t nsranges, sranges_cap;
	struct ph_excl { uint64_t lo, hi; } *sexcl;
	size_t nsexcl;
	bool sexcl_built;

	/* warnings (warn.c) */
	uint64_t warn_count[W_NKINDS];
	char *warn_text[W_NKINDS];
	size_t warn_order[W_NKINDS];     /* kinds in order of first occurrence */
	size_t nwarn_kinds;
};

/* warn.c */
void ph_warn(ph_heap *h, enum ph_warn kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Memory, through the image: true when all 8 (4) bytes could be read. */
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

/* ---- types.c ---- */
int ph_types_init(ph_heap *h);
/* The type index of the type object at addr, validating it on first sight;
 * PH_NONE when addr is not a type object. */
uint32_t ph_type_lookup(ph_heap *h, uint64_t addr);
/* Reads a Python str into buf as UTF-8 (truncated to cap); false when addr
 * is not a readable str. */
bool ph_str_read(ph_heap *h, uint64_t addr, char *buf, size_t cap);

/* ---- objects.c: single objects and dicts ---- */
/* Validates the object at addr; returns its type index or PH_NONE.
 * alloc_cap, when nonzero, is the room the allocation has (block size minus
 * the pre-header) and must hold the object. */
uint32_t ph_object_check(ph_heap *h, uint64_t addr, uint64_t alloc_cap);
/* The same with the object's first two words already read. */
uint32_t ph_object_check_words(ph_heap *h, uint64_t addr, uint64_t refcnt, uint64_t type,
			       uint64_t alloc_cap);
/* ph_object_check_words' first test, inline for the pool walk's every
 * block: a refcount word is positive and far below any pointer (3.14+:
 * low 32 bits nonzero, ob_overflow 0, ob_flags at most immortal|static). */
static inline bool ph_refcnt_word_ok(const ph_heap *h, uint64_t refcnt)
{
	if (h->tr->refcnt == PH_REFCNT_LOW32)
		return (uint32_t)refcnt != 0 && !(refcnt >> 32 & 0xffff) && !(refcnt >> 48 & ~5ull);
	return (int64_t)refcnt > 0 && refcnt < h->tr->refcnt_limit;
}
/* The pre-header size of the object at addr of type ti. */
int ph_object_preheader(ph_heap *h, uint64_t addr, uint32_t ti);
/* sys.getsizeof of a valid object. */
uint64_t ph_object_sizeof(ph_heap *h, uint64_t addr, const ph_type *t);
/* Dict iteration over every layout: fn(key, value) for each live entry,
 * until fn returns false. */
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
/* What sys.getsizeof adds to an object's __sizeof__ (objects.c). */
uint64_t ph_getsizeof_prefix_read(ph_heap *h, uint64_t addr, const ph_type *t);
static inline uint64_t ph_getsizeof_prefix(ph_heap *h, uint64_t addr, const ph_type *t)
{
	/* (inline: once or twice per object of the scan; the type alone
	 * tells, but for the traits that read a type object's flags) */
	if (h->tr->sizeof_prefix == PH_SIZEOF_PREHEADER ||
	    (h->tr->sizeof_prefix == PH_SIZEOF_PREHEADER_NOT_STATIC && t->addr != h->type_type))
		return (uint64_t)t->preheader;
	return ph_getsizeof_prefix_read(h, addr, t);
}
/* An int object's value when it fits two digits (repr.c). */
bool ph_int_value(ph_heap *h, uint64_t addr, int64_t *out);
/* The parts of an object allocated apart from it, as sys.getsizeof counts
 * them (addr 0 / bytes 0 when absent or unreadable): a dict's keys object
 * when it owns it (not a split table's shared keys) and its values (none
 * when embedded in an object; prefix: 3.11's and 3.12's bytes in front of
 * the slots, which getsizeof leaves out, and addr is where they start), a
 * list's items, a set's table, a str's data when not compact and its
 * UTF-8 copy, a bytearray's bytes.  ph_keys_bytes: a keys object's size. */
typedef struct ph_part { uint64_t addr, bytes; unsigned prefix; } ph_part;
bool ph_dict_parts(ph_heap *h, uint64_t dict, ph_part *keys, ph_part *values);
uint64_t ph_keys_bytes(ph_heap *h, uint64_t keys);
void ph_list_part(ph_heap *h, uint64_t addr, ph_part *items);
void ph_set_part(ph_heap *h, uint64_t addr, ph_part *table);
void ph_str_parts(ph_heap *h, uint64_t addr, ph_part *data, ph_part *utf8);
void ph_bytearray_part(ph_heap *h, uint64_t addr, ph_part *bytes);

/* ---- decode.c: references ---- */
/* Labelled references of one object at addr (of type ti): fn(target, kind,
 * flags, label).  Targets may be invalid; callers check.  Labels that name
 * objects (dict keys) are ids when the key is known, else PH_NONE. */
typedef void (*ph_lref_fn)(ph_heap *h, uint64_t target, uint8_t kind, uint8_t flags,
			   uint32_t label, void *payload);
size_t ph_object_edges_raw(ph_heap *h, uint64_t addr, uint32_t ti, ph_lref_fn fn,
			   void *payload);
/* Frees the instance plans of all types. */
void ph_plans_free(ph_heap *h);
/* The words of type ti's instances that no slot, dict or weakref names:
 * a C (or mypyc) type's own fields, read as guesses. */
uint32_t ph_type_guess_count(ph_heap *h, uint32_t ti);

/* ---- edges.c ---- */
/* Whether a refcount as stored marks the object immortal. */
bool ph_refcnt_immortal(const ph_heap *h, uint64_t refcnt, unsigned flags);

/* ---- objtable.c: the object table ---- */
/* The id of the object at addr, or PH_NONE.  Objects of pymalloc blocks
 * are not in objs.map: use this, never the map, to find an object. */
uint32_t ph_object_id(const ph_heap *h, uint64_t addr);
static inline uint32_t ph_id_of(const ph_heap *h, uint64_t addr)
{
	return ph_object_id(h, addr);
}
/* Adds an object (dedup by address); returns its id or PH_NONE. */
uint32_t ph_add_object(ph_heap *h, uint64_t addr, uint32_t type, unsigned flags);
/* The pool walk (obmalloc.c): ph_pool_begin() before a pool's blocks are
 * added says whether they may go through ph_add_block() (first visit of
 * the pool: no dedup lookup) or must go through ph_add_object();
 * ph_index_blocks() after the walk indexes them by pool. */
bool ph_pool_begin(ph_heap *h, uint64_t pool);
uint32_t ph_add_block(ph_heap *h, uint64_t addr, uint32_t type);
void ph_index_blocks(ph_heap *h);
/* Records sys.getsizeof of object id. */
void ph_object_set_size(ph_heap *h, uint32_t id, uint64_t size);
/* Frees the object arrays and the block index. */
void ph_objects_free(ph_heap *h);
void ph_blockix_free(ph_heap *h);
/* totals_only: the bits of a pool's blocks, two halves of h->objs.lean->words
 * words, a bit per 16 bytes: objects the walk counted, and those a GC list
 * had.  ph_lean_pool adds the pool when new (NULL: out of memory);
 * ph_lean_bits finds the pool of an object's address (NULL: not a pool the
 * walk counted objects of, or addr not 16-aligned). */
struct ph_lean {
	ph_map pools;            /* pool address -> index of its bits */
	uint64_t *bits;          /* per pool: 2 * words */
	size_t n, cap;
	unsigned words;          /* per half */
	uint64_t pool_mask;
};
uint64_t *ph_lean_pool(ph_heap *h, uint64_t pool);
uint64_t *ph_lean_bits(const ph_heap *h, uint64_t addr, uint64_t *word, uint64_t *bit);
void ph_lean_free(ph_heap *h);

/* ---- scan.c: the scan ---- */
/* The pool walk calls this for each object it adds: a new one has its
 * references followed and its size taken while its memory is in the cache. */
void ph_object_visit(ph_heap *h, uint32_t id);
/* Counts and visits a pool-walk object that gets no id (totals_only). */
void ph_lean_visit(ph_heap *h, uint64_t addr, uint32_t ti);

/* ---- buffers.c ---- */
/* Adds the object's buffers to its type's owned and extra bytes; size is
 * its sys.getsizeof. */
void ph_buffers_count(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size);

/* ---- obmalloc.c: the arenas ---- */
int ph_walk_arenas(ph_heap *h, ph_progress_fn progress, void *payload);

/* ---- ranges.c: the arenas' address ranges ---- */
/* Adds [lo, hi); the ranges are then unsorted until ph_ranges_sort.  -1
 * when out of memory. */
int ph_ranges_add(ph_heap *h, uint64_t lo, uint64_t hi);
void ph_ranges_sort(ph_heap *h);
bool ph_in_arena(const ph_heap *h, uint64_t addr);
/* The index of the arena range holding addr, or -1. */
long ph_arena_range(const ph_heap *h, uint64_t addr);

/* ---- gc.c: the collector's lists, the threads ---- */
int ph_walk_gc(ph_heap *h);
/* The lists to walk: per interpreter (one state in _PyRuntime on 3.8) the
 * generations, whose objects gc.get_objects() lists, then the permanent
 * generation, whose objects it does not.  gen: 0-2 as gc.get_objects(gen)
 * counts them, 3 permanent. */
struct ph_gc_list { uint64_t state, head; int gen; bool main; };
#define PH_GC_LISTS_MAX (16 * 4)
size_t ph_gc_lists(const ph_heap *h, struct ph_gc_list *out);
/* gc.get_threshold() and gc.get_count() of the GC state at gcs into out. */
void ph_gc_thresholds(const ph_heap *h, uint64_t gcs, ph_gc_state *out);
/* Starts chasing the GC lists' links in a helper thread, for ph_walk_gc to
 * use; ph_gc_chase_free stops and frees it. */
void ph_gc_chase_start(ph_heap *h);
void ph_gc_chase_free(ph_heap *h);
void ph_walk_threads(ph_heap *h);

/* ---- runtime.c ---- */
int ph_offsets_from_dwarf(core_module_t *m, ph_offsets *out);
/* Reads the interpreter list with the current offsets, main first. */
void ph_walk_interpreters(ph_heap *h);

/* ---- layout.c ---- */
/* Sets h->off: from DWARF (already in h->off) when use_dwarf, else the
 * first built-in layout of the release that the core validates, with the
 * debug offsets (dbg, or NULL) laid over it.  -1 with a message naming what
 * did not fit when none does. */
int ph_layout_choose(ph_heap *h, bool use_dwarf, const uint8_t *dbg, size_t dbglen,
		     char *err, size_t errlen);

/* A reference as a frame slot holds it: a pointer, or on 3.14+ a
 * _PyStackRef whose low bits are flags (1: NULL; 3: a tagged int, no
 * object). */
static inline uint64_t ph_stackref(const ph_heap *h, uint64_t v)
{
	if (!h->tr->stackrefs)
		return v;
	return (v & 3) == 3 ? 0 : v & ~3ull;
}

#endif
