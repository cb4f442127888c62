/*
 * debug_offsets.c - apply CPython 3.13's _Py_DebugOffsets to a ph_offsets.
 *
 * The block comes from a core, so it is untrusted input: every value is
 * range-checked against the struct size the block itself gives, and nothing
 * is applied unless everything is plausible.
 */
#include <stddef.h>
#include <string.h>

#include "debug_offsets.h"

/* Layout of the 3.13 struct (Include/internal/pycore_runtime.h), all u64. */
enum {
	DO_COOKIE = 0x00, DO_VERSION = 0x08, DO_FREE_THREADED = 0x10,
	DO_RT = 0x18,          /* size, finalizing, interpreters_head */
	DO_IS = 0x30,          /* size, id, next, threads_head, gc, imports_modules,
				  sysdict, builtins, ceval_gil, gil_runtime_state, ... */
	DO_TS = 0x98,          /* size, prev, next, interp, current_frame, thread_id,
				  native_thread_id, datastack_chunk, status */
	DO_TYPE = 0x170,       /* size, tp_name, tp_repr, tp_flags */
	DO_TUPLE = 0x190,      /* size, ob_item, ob_size */
	DO_LIST = 0x1a8,       /* size, ob_item, ob_size */
	DO_DICT = 0x1c0,       /* size, ma_keys, ma_values */
	DO_LONG = 0x1e8,       /* size, lv_tag, ob_digit */
	DO_BYTES = 0x200,      /* size, ob_size, ob_sval */
	DO_UNICODE = 0x218,    /* size, state, length, asciiobject_size */
	DO_GC = 0x238,         /* size, collecting */
};

/* Anything larger than this is not a struct size but garbage (the biggest
 * real one, _PyRuntimeState in 3.12, is under 0.5 MiB). */
#define PH_DO_MAX_SIZE ((uint64_t)64 << 20)

enum ph_do_kind {
	PH_DO_SIZE,    /* a struct size: 0 < v <= PH_DO_MAX_SIZE */
	PH_DO_OFF,     /* a member offset: v < size of its struct */
	PH_DO_SUBSIZE, /* the size of a prefix of its struct: 0 < v <= size */
};

typedef struct ph_do_map {
	size_t dst;         /* offsetof(ph_offsets, field) */
	uint16_t src;       /* where the value sits in the block */
	uint16_t owner;     /* where the size of the value's struct sits */
	enum ph_do_kind kind;
} ph_do_map;

#define SZ(field, at)          { offsetof(ph_offsets, field), (at), (at), PH_DO_SIZE }
#define OFF(field, base, i)    { offsetof(ph_offsets, field), (base) + 8 * (i), (base), PH_DO_OFF }
#define SUB(field, base, i)    { offsetof(ph_offsets, field), (base) + 8 * (i), (base), PH_DO_SUBSIZE }

static const ph_do_map ph_do_maps[] = {
	SZ(rt_size, DO_RT),
	OFF(rt_interpreters_head, DO_RT, 2),

	SZ(is_size, DO_IS),
	OFF(is_id, DO_IS, 1),
	OFF(is_next, DO_IS, 2),
	OFF(is_threads_head, DO_IS, 3),
	OFF(is_gc, DO_IS, 4),
	OFF(is_modules, DO_IS, 5),
	OFF(is_sysdict, DO_IS, 6),
	OFF(is_builtins, DO_IS, 7),

	/* thread_state.prev (index 1) has no ph_offsets field. */
	SZ(ts_size, DO_TS),
	OFF(ts_next, DO_TS, 2),
	OFF(ts_interp, DO_TS, 3),
	OFF(ts_current_frame, DO_TS, 4),
	OFF(ts_thread_id, DO_TS, 5),
	OFF(ts_native_thread_id, DO_TS, 6),

	SZ(tp_size, DO_TYPE),
	OFF(tp_name, DO_TYPE, 1),
	OFF(tp_flags, DO_TYPE, 3),

	OFF(tuple_ob_item, DO_TUPLE, 1),
	OFF(list_ob_item, DO_LIST, 1),
	OFF(dict_ma_keys, DO_DICT, 1),
	OFF(dict_ma_values, DO_DICT, 2),
	OFF(long_lv_tag, DO_LONG, 1),
	OFF(long_digit, DO_LONG, 2),
	OFF(bytes_sval, DO_BYTES, 2),

	/* unicode_object.size is sizeof(PyUnicodeObject); the ASCII header is a
	 * prefix of it. */
	OFF(ascii_state, DO_UNICODE, 1),
	OFF(ascii_length, DO_UNICODE, 2),
	SUB(ascii_size, DO_UNICODE, 3),

	OFF(gc_collecting, DO_GC, 1),
};

#undef SZ
#undef OFF
#undef SUB

/* Cores come from the same (little-endian x86-64) machine family; decode
 * explicitly anyway so the result does not depend on the host. */
static uint64_t ph_do_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t ph_debug_offsets_version(const uint8_t *buf, size_t len)
{
	if (!buf || len < DO_VERSION + 8 || memcmp(buf + DO_COOKIE, "xdebugpy", 8) != 0)
		return 0;
	return ph_do_u64(buf + DO_VERSION);
}

int ph_offsets_apply_debug(ph_offsets *o, const uint8_t *buf, size_t len)
{
	uint64_t version = ph_debug_offsets_version(buf, len);
	ph_offsets tmp;
	size_t i;

	if (!o || version == 0 || len < PH_DEBUG_OFFSETS_SIZE_3_13)
		return -1;
	/* The struct grew and was reordered in 3.14; only the 3.13 layout is
	 * known here, and a wrong layout would be worse than the table. */
	if ((version >> 24) != 3 || ((version >> 16) & 0xff) != 13)
		return -1;

	tmp = *o;
	for (i = 0; i < sizeof ph_do_maps / sizeof ph_do_maps[0]; i++) {
		const ph_do_map *mp = &ph_do_maps[i];
		uint64_t v = ph_do_u64(buf + mp->src);
		uint64_t size = ph_do_u64(buf + mp->owner);

		if (size == 0 || size > PH_DO_MAX_SIZE)
			return -1;
		switch (mp->kind) {
		case PH_DO_SIZE:
			break;
		case PH_DO_OFF:
			if (v >= size)
				return -1;
			break;
		case PH_DO_SUBSIZE:
			if (v == 0 || v > size)
				return -1;
			break;
		}
		/* v <= PH_DO_MAX_SIZE here, so it fits an int64_t */
		((int64_t *)&tmp)[mp->dst / sizeof(int64_t)] = (int64_t)v;
	}
	*o = tmp;
	return (int)i;
}
