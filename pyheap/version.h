/*
 * version.h - what differs between CPython builds, as data.
 *
 * One ph_traits entry per layout of the interpreter: a minor version, or a
 * patch range of one where a layout changed inside a minor release.  The
 * model asks for a trait (`T(h)->managed_dict`), never for a version
 * number; this table is the one place that knows which releases pyheap
 * supports and how each one keeps its heap.  Adding a release is adding an
 * entry (and its offset table, scripts/gen-offsets.sh); tests/README.md
 * says how.
 */
#ifndef PYHEAP_VERSION_H
#define PYHEAP_VERSION_H

#include <stdbool.h>
#include <stdint.h>

#include "offsets.h"

/* Where the cyclic collector's state lives. */
enum ph_gc_home {
	PH_GC_RUNTIME,        /* one state in _PyRuntime (rt_gc) */
	PH_GC_INTERP,         /* one per interpreter (is_gc) */
};

/* Where pymalloc's arena table is found. */
enum ph_arena_home {
	PH_ARENAS_STATIC,     /* the statics `arenas` and `maxarenas` (.symtab only) */
	PH_ARENAS_INTERP,     /* the interpreter's embedded _obmalloc_state */
	PH_ARENAS_INTERP_PTR, /* a pointer to it in the interpreter */
};

/* What the collector's state holds. */
enum ph_gc_shape {
	PH_GC_GENERATIONS,    /* generations[3] and permanent_generation */
	PH_GC_INCREMENTAL,    /* young, old[2], permanent_generation, visited_space
			       * (3.14.0 - 3.14.4) */
};

/* How the first word of an object counts references. */
enum ph_refcnt {
	PH_REFCNT_WORD,       /* all of ob_refcnt (Py_ssize_t) */
	PH_REFCNT_LOW32,      /* the low 32 bits; then ob_overflow (u16, 0) and
			       * ob_flags (u16: 1 immortal, 4 static) (3.14+) */
};

/* What marks an object immortal. */
enum ph_immortal {
	PH_IMMORTAL_NONE,
	PH_IMMORTAL_DEEP_FROZEN, /* 3.11's deep-frozen statics: refcount 999999999 and up */
	PH_IMMORTAL_REFCNT_32,   /* the low 32 bits of ob_refcnt, as a signed int, < 0 */
};

/* How an instance's managed dict and values are kept (Py_TPFLAGS_MANAGED_DICT). */
enum ph_managed_dict {
	PH_MD_NONE,           /* no managed dicts: tp_dictoffset says */
	PH_MD_PAIR,           /* dict at -24, values array at -32 (3.11) */
	PH_MD_TAGGED,         /* one word at -24: the dict, or the values + 1 (3.12) */
	PH_MD_INLINE,         /* dict at -24; values inline after the object (3.13) */
};

/* The size sys.getsizeof gives a split dict's values. */
enum ph_values_size {
	PH_VALUES_BY_KEYS,    /* two thirds of dk_size, 8 bytes each (3.8-3.10) */
	PH_VALUES_BY_ENTRIES, /* entries + usable slots (3.11, 3.12) */
	PH_VALUES_PREFIXED,   /* a header byte each, then the slots; none when embedded (3.13) */
};

/* How a thread's frames are kept. */
enum ph_frames {
	PH_FRAMES_OBJECTS,    /* frame objects linked by f_back from ts->frame (3.8-3.10) */
	PH_FRAMES_CFRAME,     /* interpreter frames from ts->cframe->current_frame (3.11, 3.12) */
	PH_FRAMES_CURRENT,    /* interpreter frames from ts->current_frame (3.13) */
};

/* How a code object maps instructions to lines. */
enum ph_linetable {
	PH_LT_LNOTAB,         /* co_lnotab: (bytes, line) delta pairs (3.8, 3.9) */
	PH_LT_310,            /* co_linetable: (bytes, line or -128) pairs, f_lasti in
			       * code units (3.10) */
	PH_LT_LOCATIONS,      /* the location table of code units (3.11+) */
};

/* Where static builtin types keep their __dict__. */
enum ph_static_dicts {
	PH_SDICT_TYPE,        /* in tp_dict, like any type */
	PH_SDICT_INTERP,      /* in the interpreter's table, index in tp_subclasses (3.12+) */
};

/* Where the interned-strings dict is. */
enum ph_interned {
	PH_INTERNED_STATIC,   /* a static `interned` (symtab), else found by its shape */
	PH_INTERNED_STATE,    /* the interpreter's, else the runtime's cached_objects */
};

/* The layout of _Py_DebugOffsets at the start of _PyRuntime. */
enum ph_debug_offsets {
	PH_DO_NONE,           /* the build has none */
	PH_DO_3_13,           /* 3.13's */
	PH_DO_3_14,           /* 3.14's: more sections, thread state before frames */
	PH_DO_3_15,           /* 3.15's: thread state, type and GC sections grew */
};

/* What sys.getsizeof adds to an object's __sizeof__ (_PySys_GetSizeOf). */
enum ph_sizeof_prefix {
	/* 0: not set (tests/check_offsets.c fails on an entry without it) */
	PH_SIZEOF_GC_HEAD = 1, /* the GC head of a GC object, which a type is when
			       * it is a heap type (tp_is_gc) (3.8 - 3.10) */
	PH_SIZEOF_PREHEADER,  /* the whole pre-header of the object's type, to
			       * every object: a static type too, which has
			       * none (3.11, 3.12: getsizeof(int) is 424) */
	PH_SIZEOF_PREHEADER_NOT_STATIC, /* the same, but nothing to a static
			       * type whose type is `type` itself (3.13+) */
};

/* Where ctypes keeps the C description of a ctypes type (Modules/_ctypes/
 * ctypes.h), whose PEP 3118 format, shape and ffi element array
 * sys.getsizeof counts.  _ctypes is a shared module: its layouts are not in
 * libpython's DWARF; objects.c has them, by this value. */
enum ph_ctypes {
	/* 0: not set (tests/check_offsets.c fails on an entry without it) */
	PH_CTYPES_STGDICT = 1, /* a StgDict, the type's __dict__ (3.8 - 3.12) */
	PH_CTYPES_STGINFO_313, /* a StgInfo in the type object, after its
				* PyHeapTypeObject (3.13) */
	PH_CTYPES_STGINFO_314, /* the same, grown by pointer_type and
				* dict_final (3.14+) */
};

typedef struct ph_traits {
	int minor;                    /* 3.<minor> */
	int micro_lo, micro_hi;       /* patch releases this layout is for */
	const char *verified;         /* the build(s) it was checked on, and how */
	/* Its built-in layouts (ph_offsets_layout_of), for builds without
	 * DWARF: tried in this order (one whose name starts with the core's
	 * patch release first), the first one the core validates is used.
	 * Distributions patch the interpreter: Debian's 3.13 packs the GC
	 * state differently from upstream's. */
	const char *layouts[4];

	uint64_t arena_size, pool_size;
	enum ph_arena_home arenas;
	enum ph_gc_home gc;
	enum ph_gc_shape gc_shape;

	/* A live object's refcount is below this: larger words are pointers
	 * (a freed block's free-list link) or garbage. */
	uint64_t refcnt_limit;
	enum ph_refcnt refcnt;
	enum ph_immortal immortal;
	/* 3.11: the deep-frozen statics refer to each other without counting */
	bool frozen_refs_uncounted;

	/* Type flags that put 16 bytes (dict and weakref pointers) before an
	 * object, after the GC head. */
	uint64_t preheader_flags;
	/* what sys.getsizeof adds to __sizeof__ */
	enum ph_sizeof_prefix sizeof_prefix;
	enum ph_managed_dict managed_dict;
	bool dict_owns_values;        /* PH_MD_INLINE: once a __dict__ is made it
				       * holds the inline values, the object holds
				       * the dict (3.13.3+, gh-130327) */

	unsigned dict_keys_header;    /* sizeof(PyDictKeysObject) before the indices */
	enum ph_values_size values_size;
	unsigned values_prefix;       /* bytes before a split table's first value */

	bool int_one_digit;           /* 0 takes one digit in sys.getsizeof */

	enum ph_frames frames;
	enum ph_linetable linetable;
	/* the first frame owner value that is no Python frame: an entry frame
	 * on the C stack (3.12, 3.13: 3) or the interpreter's own (3.14+: 3,
	 * and the C stack 4), which borrow their code and leave their
	 * function slot unset; -1: none */
	int frame_owner_cstack;
	/* frames hold _PyStackRef, tagged pointers: the low two bits are
	 * flags (3.14+) */
	bool stackrefs;
	/* the value stack's top: stacktop (an index, 3.11-3.13) or
	 * stackpointer (a pointer, 3.14+) */
	bool stackpointer;
	/* a generator's frame is alive (walked) while gi_frame_state, signed,
	 * is below this: created, suspended or running, not completed or
	 * cleared (1 on 3.11-3.14; 3.15 numbers the states from 0: 5) */
	int gen_live_below;

	enum ph_static_dicts static_dicts;
	enum ph_interned interned;
	enum ph_ctypes ctypes;
	enum ph_debug_offsets debug_offsets;
} ph_traits;

/* Every entry, oldest first; n gets the count. */
const ph_traits *ph_traits_all(size_t *n);

/* The entry for 3.<minor>.<micro> (micro < 0: not known, the minor's
 * first entry), or NULL when the release is not supported. */
const ph_traits *ph_traits_find(int minor, int micro);

/* Whether some entry is for 3.<minor>. */
bool ph_minor_supported(int minor);

/* The supported range as people read it: "3.8 to 3.13". */
const char *ph_supported_range(void);

#endif
