/*
 * version.c - the releases pyheap supports, and how each keeps its heap.
 *
 * The only place that knows version numbers.  Each entry was checked
 * against the DWARF of the build it names (tests/check_offsets.c reads the
 * layouts back from those builds) and against real cores of it
 * (tests/check_integration.c and the other real-core suites).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pyheap.h"
#include "version.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

/* Type flags (Include/object.h) that put dict and weakref pointers before
 * an object. */
#define MANAGED_DICT    (1ull << 4)
#define MANAGED_WEAKREF (1ull << 3)

/* The fields shared by 3.12 - 3.15 that do not change. */
#define MODERN \
	.arena_size = 1 * MiB, .pool_size = 16 * KiB, \
	.gc = PH_GC_INTERP, \
	.refcnt_limit = 1ull << 32, .immortal = PH_IMMORTAL_REFCNT_32, \
	.preheader_flags = MANAGED_DICT | MANAGED_WEAKREF, \
	.dict_keys_header = 32, .int_one_digit = true, \
	.frame_owner_cstack = 3, .linetable = PH_LT_LOCATIONS, \
	.static_dicts = PH_SDICT_INTERP, .interned = PH_INTERNED_STATE

static const ph_traits traits[] = {
	{
		.minor = 8, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.8.18 (pyenv, DWARF)", .layouts = {"3.8.18"},
		.arena_size = 256 * KiB, .pool_size = 4 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_RUNTIME,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_prefix = PH_SIZEOF_GC_HEAD, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
		.ctypes = PH_CTYPES_STGDICT,
	},
	{
		.minor = 9, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.9.18 (pyenv, DWARF)", .layouts = {"3.9.18"},
		.arena_size = 256 * KiB, .pool_size = 4 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_prefix = PH_SIZEOF_GC_HEAD, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
		.ctypes = PH_CTYPES_STGDICT,
	},
	{
		.minor = 10, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.10.13 (pyenv, DWARF)", .layouts = {"3.10.13"},
		.linetable = PH_LT_310,
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_prefix = PH_SIZEOF_GC_HEAD, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
		.ctypes = PH_CTYPES_STGDICT,
	},
	{
		.minor = 11, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.11.7 (pyenv, DWARF); 3.11.2 (Debian 12: DWARF of python3.11-dbg, "
			    "the same layout)",
		.layouts = {"3.11.7"},
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_DEEP_FROZEN,
		.frozen_refs_uncounted = true,
		.preheader_flags = MANAGED_DICT, .sizeof_prefix = PH_SIZEOF_PREHEADER, .managed_dict = PH_MD_PAIR,
		.dict_keys_header = 32, .values_size = PH_VALUES_BY_ENTRIES, .values_prefix = 0,
		.int_one_digit = true,
		.frames = PH_FRAMES_CFRAME, .frame_owner_cstack = -1, .gen_live_below = 1,
		.linetable = PH_LT_LOCATIONS,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
		.ctypes = PH_CTYPES_STGDICT,
	},
	{
		.minor = 12, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.12.1 (pyenv, DWARF)", .layouts = {"3.12.1"},
		MODERN, .arenas = PH_ARENAS_INTERP, .sizeof_prefix = PH_SIZEOF_PREHEADER,
		.managed_dict = PH_MD_TAGGED, .values_size = PH_VALUES_BY_ENTRIES,
		.frames = PH_FRAMES_CFRAME, .gen_live_below = 1,
		.debug_offsets = PH_DO_NONE,
		.ctypes = PH_CTYPES_STGDICT,
	},
	{
		.minor = 13, .micro_lo = 0, .micro_hi = 2,
		.verified = "3.13.0 (pyenv, DWARF)",
		.layouts = {"3.13.0", "3.13.18-debian", "3.13.5-debian"},
		MODERN, .arenas = PH_ARENAS_INTERP_PTR, .sizeof_prefix = PH_SIZEOF_PREHEADER_NOT_STATIC,
		.managed_dict = PH_MD_INLINE, .values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.frames = PH_FRAMES_CURRENT, .gen_live_below = 1,
		.debug_offsets = PH_DO_3_13,
		.ctypes = PH_CTYPES_STGINFO_313,
	},
	{
		.minor = 13, .micro_lo = 3, .micro_hi = 99,
		.verified = "3.13.5 (Debian 13) and 3.13.18 (Debian sid): DWARF of "
			    "python3.13-dbg (Debian packs the GC state 4 bytes tighter: "
			    "PyGC_Head aligned to 4, gh-127545); a made __dict__ holds the "
			    "inline values from 3.13.3 (gh-130327), as gc.get_referents shows",
		.layouts = {"3.13.5-debian", "3.13.18-debian", "3.13.0"},
		MODERN, .arenas = PH_ARENAS_INTERP_PTR, .sizeof_prefix = PH_SIZEOF_PREHEADER_NOT_STATIC,
		.managed_dict = PH_MD_INLINE, .dict_owns_values = true,
		.values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.frames = PH_FRAMES_CURRENT, .gen_live_below = 1,
		.debug_offsets = PH_DO_3_13,
		.ctypes = PH_CTYPES_STGINFO_313,
	},
	{
		.minor = 14, .micro_lo = 0, .micro_hi = 4,
		.verified = "CPython's sources (3.14.0: the incremental collector, young and "
			    "old[2]); the rest as 3.14.10; no 3.14.0-3.14.4 binary checked",
		.layouts = {"3.14.0-source"},
		MODERN, .arenas = PH_ARENAS_INTERP_PTR, .gc_shape = PH_GC_INCREMENTAL,
		.sizeof_prefix = PH_SIZEOF_PREHEADER_NOT_STATIC,
		.refcnt = PH_REFCNT_LOW32,
		.managed_dict = PH_MD_INLINE, .dict_owns_values = true,
		.values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.frames = PH_FRAMES_CURRENT, .stackrefs = true, .stackpointer = true,
		.gen_live_below = 1,
		.debug_offsets = PH_DO_3_14,
		.ctypes = PH_CTYPES_STGINFO_314,
	},
	{
		.minor = 14, .micro_lo = 5, .micro_hi = 99,
		.verified = "3.14.10 (Debian sid, DWARF of python3.14-dbg); the generational "
			    "collector again from 3.14.5 (gh-142516)",
		.layouts = {"3.14.10-debian"},
		MODERN, .arenas = PH_ARENAS_INTERP_PTR, .sizeof_prefix = PH_SIZEOF_PREHEADER_NOT_STATIC,
		.refcnt = PH_REFCNT_LOW32,
		.managed_dict = PH_MD_INLINE, .dict_owns_values = true,
		.values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.frames = PH_FRAMES_CURRENT, .stackrefs = true, .stackpointer = true,
		.gen_live_below = 1,
		.debug_offsets = PH_DO_3_14,
		.ctypes = PH_CTYPES_STGINFO_314,
	},
	{
		.minor = 15, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.15.2 (Debian sid, DWARF of python3.15-dbg)",
		.layouts = {"3.15.2-debian"},
		MODERN, .arenas = PH_ARENAS_INTERP_PTR, .sizeof_prefix = PH_SIZEOF_PREHEADER_NOT_STATIC,
		.refcnt = PH_REFCNT_LOW32,
		.managed_dict = PH_MD_INLINE, .dict_owns_values = true,
		.values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.frames = PH_FRAMES_CURRENT, .stackrefs = true, .stackpointer = true,
		.gen_live_below = 5,
		.debug_offsets = PH_DO_3_15,
		.ctypes = PH_CTYPES_STGINFO_314,
	},
};

#define NTRAITS (sizeof traits / sizeof traits[0])

const ph_traits *ph_traits_all(size_t *n)
{
	*n = NTRAITS;
	return traits;
}

const ph_traits *ph_traits_find(int minor, int micro)
{
	for (size_t i = 0; i < NTRAITS; i++)
		if (traits[i].minor == minor &&
		    (micro < 0 || (micro >= traits[i].micro_lo && micro <= traits[i].micro_hi)))
			return &traits[i];
	return NULL;
}

bool ph_minor_supported(int minor)
{
	return ph_traits_find(minor, -1) != NULL;
}

const char *ph_supported_range(void)
{
	static char buf[32];
	if (!buf[0])
		snprintf(buf, sizeof buf, "3.%d to 3.%d", traits[0].minor, traits[NTRAITS - 1].minor);
	return buf;
}

/* Layouts no build here has: one that a build has, with the fields that
 * CPython's sources say differ.  Only the core can tell whether they fit
 * (runtime.c validates every built-in layout before using it). */
typedef struct ph_derived {
	const char *name, *base;
	struct { size_t field; int64_t value; } set[8];
} ph_derived;

#define SET(f, v) { offsetof(ph_offsets, f) / sizeof(int64_t), (v) }

static const ph_derived derived[] = {
	/* 3.14.0 - 3.14.4: struct _gc_runtime_state of the incremental
	 * collector (Include/internal/pycore_interp_structs.h at v3.14.0):
	 * trash 0, enabled 0xc, debug 0x10, young 0x18, old[2] 0x30,
	 * permanent 0x60, stats 0x78, collecting 0xc0, ..., visited_space 0xe8 */
	{ "3.14.0-source", "3.14.10-debian", {
		SET(gc_generations, -1), SET(gc_young, 0x18), SET(gc_old, 0x30),
		SET(gc_permanent, 0x60), SET(gc_collecting, 0xc0), SET(gc_visited_space, 0xe8),
		SET(gc_enabled, 0xc), SET(gen_size, 0x18),
	} },
};

#define NDERIVED (sizeof derived / sizeof derived[0])

static const ph_offsets *built_layout(const char *build)
{
	for (size_t i = 0; build && i < ph_offsets_layout_count; i++)
		if (strcmp(ph_offsets_layouts[i].build, build) == 0)
			return ph_offsets_layouts[i].offsets;
	return NULL;
}

const ph_offsets *ph_offsets_layout_of(const char *build)
{
	static ph_offsets made[NDERIVED];
	static bool done[NDERIVED];
	const ph_offsets *o = built_layout(build);
	for (size_t i = 0; !o && build && i < NDERIVED; i++) {
		if (strcmp(derived[i].name, build) != 0)
			continue;
		if (!done[i]) {
			const ph_offsets *base = built_layout(derived[i].base);
			if (!base)
				return NULL;
			made[i] = *base;
			for (size_t k = 0; k < 8 && derived[i].set[k].field; k++)
				((int64_t *)&made[i])[derived[i].set[k].field] = derived[i].set[k].value;
			done[i] = true;
		}
		o = &made[i];
	}
	return o;
}

size_t ph_release_count(void)
{
	return NTRAITS;
}

void ph_release_at(size_t i, ph_release *out)
{
	const ph_traits *t = &traits[i < NTRAITS ? i : NTRAITS - 1];
	*out = (ph_release){t->minor, t->micro_lo, t->micro_hi, t->layouts[0], t->verified};
}
