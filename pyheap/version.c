/*
 * version.c - the releases pyheap supports, and how each keeps its heap.
 *
 * The only place that knows version numbers.  Each entry was checked
 * against the DWARF of the build it names (tests/check_offsets.c reads the
 * layouts back from those builds) and against real cores of it
 * (tests/check_integration.c and the other real-core suites).
 */
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

static const ph_traits traits[] = {
	{
		.minor = 8, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.8.18 (pyenv, DWARF)", .layout = "3.8.18",
		.arena_size = 256 * KiB, .pool_size = 4 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_RUNTIME,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_preheader = false, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
	},
	{
		.minor = 9, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.9.18 (pyenv, DWARF)", .layout = "3.9.18",
		.arena_size = 256 * KiB, .pool_size = 4 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_preheader = false, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
	},
	{
		.minor = 10, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.10.13 (pyenv, DWARF)", .layout = "3.10.13",
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_NONE,
		.preheader_flags = 0, .sizeof_preheader = false, .managed_dict = PH_MD_NONE,
		.dict_keys_header = 40, .values_size = PH_VALUES_BY_KEYS, .values_prefix = 0,
		.int_one_digit = false,
		.frames = PH_FRAMES_OBJECTS, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
	},
	{
		.minor = 11, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.11.7 (pyenv, DWARF); 3.11.2 (Debian 12, stripped)", .layout = "3.11.7",
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_STATIC,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 40, .immortal = PH_IMMORTAL_DEEP_FROZEN,
		.frozen_refs_uncounted = true,
		.preheader_flags = MANAGED_DICT, .sizeof_preheader = true, .managed_dict = PH_MD_PAIR,
		.dict_keys_header = 32, .values_size = PH_VALUES_BY_ENTRIES, .values_prefix = 0,
		.int_one_digit = true,
		.frames = PH_FRAMES_CFRAME, .frame_owner_cstack = -1,
		.static_dicts = PH_SDICT_TYPE, .interned = PH_INTERNED_STATIC,
		.debug_offsets = PH_DO_NONE,
	},
	{
		.minor = 12, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.12.1 (pyenv, DWARF)", .layout = "3.12.1",
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_INTERP,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 32, .immortal = PH_IMMORTAL_REFCNT_32,
		.preheader_flags = MANAGED_DICT | MANAGED_WEAKREF, .sizeof_preheader = true,
		.managed_dict = PH_MD_TAGGED,
		.dict_keys_header = 32, .values_size = PH_VALUES_BY_ENTRIES, .values_prefix = 0,
		.int_one_digit = true,
		.frames = PH_FRAMES_CFRAME, .frame_owner_cstack = 3,
		.static_dicts = PH_SDICT_INTERP, .interned = PH_INTERNED_STATE,
		.debug_offsets = PH_DO_NONE,
	},
	{
		.minor = 13, .micro_lo = 0, .micro_hi = 99,
		.verified = "3.13.0 (pyenv, DWARF)", .layout = "3.13.0",
		.arena_size = 1 * MiB, .pool_size = 16 * KiB, .arenas = PH_ARENAS_INTERP_PTR,
		.gc = PH_GC_INTERP,
		.refcnt_limit = 1ull << 32, .immortal = PH_IMMORTAL_REFCNT_32,
		.preheader_flags = MANAGED_DICT | MANAGED_WEAKREF, .sizeof_preheader = true,
		.managed_dict = PH_MD_INLINE,
		.dict_keys_header = 32, .values_size = PH_VALUES_PREFIXED, .values_prefix = 8,
		.int_one_digit = true,
		.frames = PH_FRAMES_CURRENT, .frame_owner_cstack = 3,
		.static_dicts = PH_SDICT_INTERP, .interned = PH_INTERNED_STATE,
		.debug_offsets = PH_DO_3_13,
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

const ph_offsets *ph_offsets_layout_of(const char *build)
{
	for (size_t i = 0; build && i < ph_offsets_layout_count; i++)
		if (strcmp(ph_offsets_layouts[i].build, build) == 0)
			return ph_offsets_layouts[i].offsets;
	return NULL;
}

size_t ph_release_count(void)
{
	return NTRAITS;
}

void ph_release_at(size_t i, ph_release *out)
{
	const ph_traits *t = &traits[i < NTRAITS ? i : NTRAITS - 1];
	*out = (ph_release){t->minor, t->micro_lo, t->micro_hi, t->layout, t->verified};
}
