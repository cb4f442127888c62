/*
 * pyheap.h - the CPython model: what a dead interpreter's heap held.
 *
 * Layer 2 of pyheap.  Reads memory only through the process image
 * (image/core.h) and interprets it with per-version struct offsets
 * (pyheap/offsets.h).  Two steps:
 *
 *   ph_open()  finds _PyRuntime, detects the version and picks the offsets
 *              (DWARF when the binary has it, the built-in table otherwise,
 *              corrected by _Py_DebugOffsets on 3.13+).  Cheap.
 *   ph_scan()  finds every live object: used pymalloc blocks, the GC lists
 *              (every generation and the permanent one), and objects outside
 *              the arenas reached by references from those (big str, bytes,
 *              int; static objects).  Each object gets a dense uint32 id.
 *
 * Nothing here prints or exits.  Problems found in the heap are counted as
 * warnings (ph_warning_*); a scan with warnings still gives every object it
 * could establish.
 *
 * Ownership: ph_open() gives the caller a ph_heap, freed with ph_free(); it
 * borrows the core_t, which must outlive it.  Strings returned by value are
 * borrowed from the ph_heap.
 */
#ifndef PYHEAP_PYHEAP_H
#define PYHEAP_PYHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

typedef struct ph_heap ph_heap;

typedef struct ph_options {
	int no_dwarf;          /* ignore DWARF, use the built-in tables */
	int pool_scan;         /* find pools by scanning memory even with symbols */
	/* Keep totals only: object and GC counts, sizes, per-type totals, the
	 * arenas and the warnings, as exactly as a full scan, but no object
	 * table: ph_object_count() counts the objects, and the per-object
	 * calls (ph_object_*(id), references, nodes, roots) are not to be
	 * used.  What `types`, `info` and `arenas` need, in less memory and
	 * time. */
	int totals_only;
	/* Per type, the bytes of the buffers its objects own besides
	 * themselves (ph_type_buffers): a few more reads per object. */
	int buffers;
	/* When set, called once for each object the scan finds, as it
	 * visits it: its address, type index and size (sys.getsizeof).  What
	 * an analysis needs of every object when the scan keeps totals only. */
	void (*visit)(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size, void *payload);
	void *visit_payload;
} ph_options;

/* Called now and then during ph_scan(); done <= total, both in "units" of
 * the phase (bytes of arena memory, objects). */
typedef void (*ph_progress_fn)(const char *phase, uint64_t done, uint64_t total,
			       void *payload);

/* Finds the runtime.  -1 with a one-line message in err when the core is not
 * of a CPython process this model understands. */
int ph_open(ph_heap **out, core_t *core, const ph_options *opts, char *err, size_t errlen);
void ph_free(ph_heap *h);

/* Walks the heap.  Returns 0, or -1 (message in err) when nothing usable was
 * found; partial results come with warnings, not -1. */
int ph_scan(ph_heap *h, ph_progress_fn progress, void *payload, char *err, size_t errlen);

/* ---- the releases this model reads ---- */

/* One layout of one release: 3.<minor>.<micro_lo> to 3.<minor>.<micro_hi>,
 * the built-in layout used without debug info (named by the build it was
 * read from) and how it was verified. */
typedef struct ph_release {
	int minor, micro_lo, micro_hi;
	const char *layout, *verified;   /* layout: the first of its layouts */
} ph_release;
size_t ph_release_count(void);
void ph_release_at(size_t i, ph_release *out);

/* ---- the interpreter ---- */

const char *ph_version(const ph_heap *h);          /* "3.11.7" */
int ph_version_minor(const ph_heap *h);            /* 11 */
const char *ph_version_found_by(const ph_heap *h); /* "Py_Version", "debug_offsets", "soname", "version_string" */
uint64_t ph_runtime_addr(const ph_heap *h);
const char *ph_runtime_found_by(const ph_heap *h); /* "symbol", "section", "cookie" */
const char *ph_runtime_module(const ph_heap *h);   /* file holding _PyRuntime */
const char *ph_offsets_source(const ph_heap *h);   /* "dwarf", "builtin", "builtin+debug_offsets" */
/* The struct layout used: "DWARF", or the built-in layout's name
 * ("3.13.5-debian"), and a sentence on why: how it was validated against
 * the core, which candidates did not fit. */
const char *ph_layout_name(const ph_heap *h);
const char *ph_layout_note(const ph_heap *h);
/* Where the interpreter's debug info came from: "in the file", "build-id",
 * "debuglink", "debuginfod", or NULL when it has none (or --no-dwarf);
 * *file gets the debug file (NULL when in the binary itself). */
const char *ph_debug_info(ph_heap *h, const char **file);
const char *ph_arenas_found_by(const ph_heap *h);  /* "symtab", "obmalloc_state", "pool_scan", "none" */

typedef struct ph_thread {
	uint64_t tstate;       /* address of the PyThreadState */
	uint64_t thread_id;    /* pthread_t */
	uint64_t native_id;    /* OS tid (3.11+), 0 when unknown */
	int64_t interp_id;
} ph_thread;
size_t ph_thread_count(const ph_heap *h);
const ph_thread *ph_thread_at(const ph_heap *h, size_t i);

/* One frame of a thread's Python stack. */
typedef struct ph_frame {
	uint64_t addr;         /* the frame (a frame object on 3.8-3.10) */
	uint64_t code;         /* its code object */
	uint64_t function;     /* its function object (3.11+), 0 when unknown */
	char name[128];        /* co_qualname (3.11+) or co_name */
	char file[256];        /* co_filename */
	int line;              /* the line it is at, 0 when unknown */
	int first_line;        /* co_firstlineno */
	int entry;             /* an entry frame the C stack owns (3.12+): no code of its own */
} ph_frame;
/* The Python frames of thread i (ph_thread_at), innermost first, into out
 * (at most cap); returns how many it has (may exceed cap). */
size_t ph_thread_frames(ph_heap *h, size_t i, ph_frame *out, size_t cap);
/* The same for one frame: a frame object (3.8-3.10) or an interpreter frame
 * (3.11+) at addr.  0, or -1 when addr is no frame with a code object. */
int ph_frame_at(ph_heap *h, uint64_t addr, ph_frame *out);
/* The fast locals of a frame (cells and free variables included): fn(name,
 * value) for each one that is set; name is the local's name, "?" when
 * unknown. */
typedef void (*ph_local_fn)(const char *name, uint64_t value, void *payload);
void ph_frame_locals(ph_heap *h, const ph_frame *f, ph_local_fn fn, void *payload);

typedef struct ph_gc_state {
	int known;             /* 0 when the GC state could not be read */
	int enabled;
	int collecting;
	struct { int threshold, count; uint64_t objects; } gen[3];
	uint64_t permanent_objects;
} ph_gc_state;
const ph_gc_state *ph_gc(const ph_heap *h);

/* ---- objects and types (valid after ph_scan) ---- */

typedef uint32_t ph_id;
/* No object, no type, no label: the one "none" of ids and indexes (the
 * graph's RG_NONE has the same value). */
#define PH_NONE UINT32_MAX
enum {
	PH_OBJ_ARENA = 1,      /* found in a used pymalloc block */
	PH_OBJ_GC = 2,         /* on a GC generation list */
	PH_OBJ_REF = 4,        /* found only through a reference */
	PH_OBJ_IMMORTAL = 8,   /* immortal (3.12+), or 3.11 deep-frozen static */
};

size_t ph_object_count(const ph_heap *h);
uint64_t ph_object_addr(const ph_heap *h, ph_id id);
uint32_t ph_object_type(const ph_heap *h, ph_id id);   /* a type index */
uint64_t ph_object_size(const ph_heap *h, ph_id id);   /* sys.getsizeof */
unsigned ph_object_flags(const ph_heap *h, ph_id id);
uint64_t ph_gc_object_count(const ph_heap *h);
uint64_t ph_total_size(const ph_heap *h);

size_t ph_type_count(const ph_heap *h);
const char *ph_type_name(const ph_heap *h, uint32_t type);  /* "dict", "__main__.Request" */
/* How many objects of the type the scan found, and their bytes (getsizeof). */
void ph_type_totals(const ph_heap *h, uint32_t type, uint64_t *count, uint64_t *bytes);
uint64_t ph_type_addr(const ph_heap *h, uint32_t type);

/* ---- references (valid after ph_scan) ----
 *
 * Nodes are the objects (ids 0 .. object_count-1) followed by virtual nodes
 * for what holds references without being an object: each interpreter
 * (sys, builtins, sys.modules, the interned strings), each thread, and on
 * 3.11+ each interpreter frame, whose locals live on the thread's stack.
 * The virtual nodes and the roots are found by ph_build_roots (what they
 * read can add warnings), not by ph_scan: a scan for totals only has none,
 * and its warnings are the full scan's.  Before it, the calls below see the
 * objects alone. */

/* Finds the virtual nodes and the roots, once; 0, or -1 when the scan was
 * for totals only (or has not run). */
int ph_build_roots(ph_heap *h);

enum ph_edge_kind {
	PH_E_INDEX = 1,    /* [N]: an item of a tuple, list or deque; label N */
	PH_E_DICT_VALUE,   /* [key]: label is the key's object id (PH_NONE: unknown) */
	PH_E_DICT_KEY,     /* (key): the key object itself */
	PH_E_ATTR,         /* .name: an attribute kept in an instance's values; label: key id */
	PH_E_SLOT,         /* .name: a __slots__ member; label: depth << 16 | member index */
	PH_E_FIELD,        /* a named field (__dict__, __closure__, ...): ph_field_name(label) */
	PH_E_SET_ITEM,     /* an element of a set or frozenset */
	PH_E_LOCAL,        /* f_locals['name']; label: the name's object id */
	PH_E_STACK,        /* an entry of a frame's value stack; label: depth */
	PH_E_FRAME,        /* a thread's frame; label: 0 for the innermost */
	PH_E_CONSERVATIVE, /* a word at +label of an object pyheap cannot decode */
	PH_E_STATE,        /* a field of the interpreter's or a thread's state; label:
			    * the field (ph_edge_label names it) */
};
enum {
	PH_EF_WEAK = 1,         /* keeps nothing alive and adds no refcount */
	PH_EF_CONSERVATIVE = 2, /* a guess: any word that points at an object */
	PH_EF_UNCOUNTED = 4,    /* keeps alive, but adds no refcount (static data) */
};

typedef void (*ph_edge_fn)(uint32_t src, uint32_t dst, uint8_t kind, uint8_t flags,
			   uint32_t label, void *payload);
/* Calls fn for every reference between nodes, node by node in id order
 * (sources never decrease); returns the number of edges. */
uint64_t ph_edges(ph_heap *h, ph_edge_fn fn, void *payload);
/* About how many edges ph_edges will give: the references the scan saw
 * (some lead nowhere and are no edge), plus room for the virtual nodes'. */
uint64_t ph_edge_estimate(ph_heap *h);
/* Only those of one node (an object id or a virtual node). */
uint64_t ph_node_edges(ph_heap *h, uint32_t node, ph_edge_fn fn, void *payload);

size_t ph_node_count(ph_heap *h);
/* "object", "interpreter", "thread" or "frame". */
const char *ph_node_kind(ph_heap *h, uint32_t node);
/* Virtual nodes: "thread 1234", "frame handle (thread 1234)"; objects: the type name. */
const char *ph_node_name(ph_heap *h, uint32_t node, char *buf, size_t cap);
/* The text of an edge label: "['_CACHE']", ".path", "[3]", "__closure__". */
const char *ph_edge_label(ph_heap *h, uint32_t src, uint8_t kind, uint32_t label,
			  char *buf, size_t cap);
const char *ph_field_name(uint32_t field);

typedef struct ph_root {
	uint32_t node;
	const char *kind;        /* "module", "frame", "interpreter" */
	char name[96];           /* "__main__", "thread 1234", "sys.modules" */
} ph_root;
size_t ph_root_count(ph_heap *h);
const ph_root *ph_root_at(ph_heap *h, size_t i);

/* ob_refcnt as stored; immortal objects (3.12+) say so. */
int64_t ph_object_refcnt(ph_heap *h, ph_id id);
int ph_object_immortal(ph_heap *h, ph_id id);
/* A type object that is not a heap type (it lives in a binary's data). */
int ph_object_static_type(ph_heap *h, ph_id id);
/* The id of the object at addr, or PH_NONE. */
uint32_t ph_object_find(const ph_heap *h, uint64_t addr);
/* The number of items of a container (tuple, list, deque, dict, set); -1
 * for other objects. */
int64_t ph_object_len(ph_heap *h, ph_id id);
/* A short value for display: 'abc...', 42, b'..', len=3. */
const char *ph_object_repr(ph_heap *h, ph_id id, char *buf, size_t cap);

/* ---- pymalloc ---- */

#define PH_SIZE_CLASSES 32
typedef struct ph_arena_stats {
	uint64_t arena_size, pool_size, pool_overhead;
	uint64_t arenas;               /* in use */
	uint64_t pools_used, pools_full, pools_empty, pools_total;
	uint64_t blocks_used;
	struct {
		uint64_t pools, used, free;
	} cls[PH_SIZE_CLASSES];
	uint64_t nearly_empty_arenas;  /* <= 10% of pools in use, but in use */
	uint64_t nearly_empty_bytes;   /* arena bytes those keep resident */
} ph_arena_stats;
const ph_arena_stats *ph_arenas(const ph_heap *h);
/* The nearly empty arenas (the first PH_PINNED_MAX): each from its first
 * pool in use (what a pool scan knows of it too) to its end.  Borrowed. */
#define PH_PINNED_MAX 64
typedef struct ph_arena_span { uint64_t addr, end; } ph_arena_span;
size_t ph_pinned_arenas(const ph_heap *h, const ph_arena_span **arenas);
/* One pool of an arena, as its header says (ph_arena_pools). */
enum { PH_POOL_FREE, PH_POOL_USED, PH_POOL_BAD };
typedef struct ph_pool_use {
	uint16_t used;         /* blocks allocated */
	uint16_t blocks;       /* blocks its size class fits in a pool; 0 unless used */
	uint8_t szidx;         /* size class: blocks of (szidx + 1) * 16 bytes */
	uint8_t state;         /* PH_POOL_FREE (empty, or never carved), PH_POOL_USED,
				* PH_POOL_BAD (unreadable, or a header pymalloc
				* would not write) */
} ph_pool_use;
/* The pools of arena i, the arenas in address order (i < ph_arenas()'s
 * arenas), for a picture of how full each is: *base gets the arena's
 * address (its pools start at the first pool_size boundary from there),
 * out its first cap pools; returns how many pools it spans, 0 when there
 * is no arena i.  Reads the pool headers again; no warnings. */
size_t ph_arena_pools(ph_heap *h, size_t i, uint64_t *base, ph_pool_use *out, size_t cap);
/* The live objects in the used blocks of the pools in [lo, hi) (an arena):
 * fn(addr, type index) for each, as the scan found them; returns how
 * many.  For the objects of a few arenas when the scan kept totals only. */
typedef void (*ph_object_fn)(ph_heap *h, uint64_t addr, uint32_t type, void *payload);
size_t ph_arena_objects(ph_heap *h, uint64_t lo, uint64_t hi, ph_object_fn fn, void *payload);
/* Whether an lru_cache wrapper is unbounded (maxsize=None); -1 when id is
 * not an lru_cache wrapper.  *cache gets its cache dict's id (PH_NONE if none). */
int ph_lru_unbounded(ph_heap *h, ph_id id, uint32_t *cache);

/* ---- the memory objects own (buffers.c) ---- */

/* What an object keeps in an allocation of its own. */
enum ph_buffer_kind {
	PH_BUF_LIST_ITEMS,       /* a list's item table */
	PH_BUF_DICT_KEYS,        /* a dict's keys object (unless shared) */
	PH_BUF_DICT_VALUES,      /* a split dict's values */
	PH_BUF_INSTANCE_VALUES,  /* 3.11, 3.12: an instance's values, no dict made */
	PH_BUF_SHARED_KEYS,      /* a class's keys shared by its instances */
	PH_BUF_SET_TABLE,        /* a set's or frozenset's hash table */
	PH_BUF_STR_DATA,         /* a str's characters, when not compact */
	PH_BUF_STR_UTF8,         /* a str's UTF-8 copy */
	PH_BUF_BYTEARRAY,        /* a bytearray's bytes */
	PH_BUF_ARRAY,            /* an array.array's items */
	PH_BUF_NDARRAY,          /* a numpy array's data, when it owns it */
	PH_BUF_NDARRAY_SHAPE,    /* a numpy array's dimensions and strides */
	PH_BUF_DEQUE_BLOCKS,     /* a deque's blocks of 64 items */
	PH_BUF_NKINDS
};
/* "list items", "dict keys", ... */
const char *ph_buffer_kind_name(unsigned kind);

typedef struct ph_buffer {
	uint64_t addr;           /* where its allocation starts */
	uint64_t bytes;          /* its size, as its owner sizes it */
	uint8_t kind;            /* enum ph_buffer_kind */
	uint8_t in_size;         /* ph_object_size() (sys.getsizeof) counts it */
} ph_buffer;
typedef void (*ph_buffer_fn)(ph_heap *h, const ph_buffer *b, void *payload);

/* Calls fn (when not NULL) for each buffer the object at addr, of type
 * index type, owns: allocated apart from it, freed with it.  Returns how
 * many.  Buffers pointing outside the core's memory are left out. */
size_t ph_object_buffers(ph_heap *h, uint64_t addr, uint32_t type, ph_buffer_fn fn,
			 void *payload);
/* Whether objects of the type can own buffers (cheap: decided once). */
int ph_type_owns_buffers(ph_heap *h, uint32_t type);
/* Whether the type is a C extension's that pyheap has no rule for, or one
 * whose objects have C fields no slot names: its objects' fields are read
 * as guesses, and may point at native memory.  0 no, 1 yes, 2 yes and its
 * objects are classes (a C metaclass's: their fields hold less of their
 * own). */
int ph_type_native(ph_heap *h, uint32_t type);
/* Per type, when the scan had ph_options.buffers: the bytes of the
 * buffers its objects own, and of those the bytes ph_type_totals' bytes
 * (sys.getsizeof) leave out. */
void ph_type_buffers(const ph_heap *h, uint32_t type, uint64_t *owned, uint64_t *extra);
/* The owned bytes ph_object_size leaves out, for object id: what a size
 * counting every buffer adds to it. */
uint64_t ph_object_extra(ph_heap *h, ph_id id);
/* sys.getsizeof of the object at addr, of type index type (for objects
 * met without an id: ph_arena_objects, the visit hook). */
uint64_t ph_object_sizeof_at(ph_heap *h, uint64_t addr, uint32_t type);
/* Where the object's allocation starts: addr less its pre-header (GC
 * head, managed dict and weakref pointers). */
uint64_t ph_object_start(ph_heap *h, uint64_t addr, uint32_t type);
/* Whether addr lies in one of pymalloc's arenas. */
int ph_in_pymalloc(const ph_heap *h, uint64_t addr);
/* The arenas' memory, sorted, into lo[] and hi[] (ph_arena_range_count()
 * entries each); returns the count.  Exact from the arena table; for
 * arenas found by a pool scan, from the first pool back over untouched
 * pages to where the arena's mmap must have started. */
size_t ph_arena_range_count(const ph_heap *h);
/* Arena i's pools as the walk found them (from the table: the whole
 * arena); 0, or -1 past the last. */
int ph_arena_pool_range(const ph_heap *h, size_t i, uint64_t *lo, uint64_t *hi);
size_t ph_arena_extents(const ph_heap *h, uint64_t *lo, uint64_t *hi);
/* The image the heap was read from. */
core_t *ph_core(const ph_heap *h);

/* ---- warnings: counted by kind, with one example each ---- */

size_t ph_warning_kinds(const ph_heap *h);
/* Kind i: how many times, and a message such as "blocks skipped: invalid
 * type pointer (first at 0x7f...)". */
uint64_t ph_warning_count(const ph_heap *h, size_t i);
const char *ph_warning_text(const ph_heap *h, size_t i);
uint64_t ph_warning_total(const ph_heap *h);

#endif
