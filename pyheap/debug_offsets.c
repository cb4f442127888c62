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

/* 3.13 (Include/internal/pycore_runtime.h), 0x248 bytes, all u64 after the
 * cookie: runtime_state 0x18, interpreter_state 0x30, thread_state 0x98,
 * interpreter_frame 0xe8, code_object 0x110, pyobject 0x160, type_object
 * 0x170, tuple 0x190, list 0x1a8, dict 0x1c0, float 0x1d8, long 0x1e8,
 * bytes 0x200, unicode 0x218, gc 0x238. */
static const ph_do_map map_3_13[] = {
	SZ(rt_size, 0x18),
	OFF(rt_interpreters_head, 0x18, 2),

	SZ(is_size, 0x30),
	OFF(is_id, 0x30, 1),
	OFF(is_next, 0x30, 2),
	OFF(is_threads_head, 0x30, 3),
	OFF(is_gc, 0x30, 4),
	OFF(is_modules, 0x30, 5),
	OFF(is_sysdict, 0x30, 6),
	OFF(is_builtins, 0x30, 7),

	/* thread_state.prev (index 1) has no ph_offsets field. */
	SZ(ts_size, 0x98),
	OFF(ts_next, 0x98, 2),
	OFF(ts_interp, 0x98, 3),
	OFF(ts_current_frame, 0x98, 4),
	OFF(ts_thread_id, 0x98, 5),
	OFF(ts_native_thread_id, 0x98, 6),

	SZ(tp_size, 0x170),
	OFF(tp_name, 0x170, 1),
	OFF(tp_flags, 0x170, 3),

	OFF(tuple_ob_item, 0x190, 1),
	OFF(list_ob_item, 0x1a8, 1),
	OFF(dict_ma_keys, 0x1c0, 1),
	OFF(dict_ma_values, 0x1c0, 2),
	OFF(long_lv_tag, 0x1e8, 1),
	OFF(long_digit, 0x1e8, 2),
	OFF(bytes_sval, 0x200, 2),

	/* unicode_object.size is sizeof(PyUnicodeObject); the ASCII header is a
	 * prefix of it. */
	OFF(ascii_state, 0x218, 1),
	OFF(ascii_length, 0x218, 2),
	SUB(ascii_size, 0x218, 3),

	OFF(gc_collecting, 0x238, 1),
};

/* 3.14 (Include/internal/pycore_debug_offsets.h), 0x2f8 bytes: the
 * interpreter section grew (threads_main ... tlbc_generation), the frame
 * and code sections came before the objects, set_object, gen_object and
 * more were added. */
#define DO14_RT 0x18
#define DO14_IS 0x30
#define DO14_TS 0xb0
#define DO14_FRAME 0xf8
#define DO14_CODE 0x138
#define DO14_TYPE 0x1a0
#define DO14_TUPLE 0x1c0
#define DO14_LIST 0x1d8
#define DO14_SET 0x1f0
#define DO14_DICT 0x210
#define DO14_LONG 0x238
#define DO14_BYTES 0x250
#define DO14_UNICODE 0x268
#define DO14_GC 0x288
#define DO14_GEN 0x298

/* The sections 3.14 and 3.15 share, by their base addresses. */
#define DO_MODERN(rt, is, ts, tsthr, frame, code, type, tuple, list, set, dict, lng, bytes, \
		  uni, gc, gen) \
	SZ(rt_size, rt), \
	OFF(rt_interpreters_head, rt, 2), \
	SZ(is_size, is), \
	OFF(is_id, is, 1), \
	OFF(is_next, is, 2), \
	OFF(is_threads_head, is, 3), \
	OFF(is_gc, is, 5), \
	OFF(is_modules, is, 6), \
	OFF(is_sysdict, is, 7), \
	OFF(is_builtins, is, 8), \
	SZ(ts_size, ts), \
	OFF(ts_next, ts, 2), \
	OFF(ts_interp, ts, 3), \
	OFF(ts_current_frame, ts, 4), \
	OFF(ts_thread_id, ts, tsthr), \
	OFF(ts_native_thread_id, ts, tsthr + 1), \
	SZ(iframe_size, frame), \
	OFF(iframe_previous, frame, 1), \
	OFF(iframe_code, frame, 2), \
	OFF(iframe_instr_ptr, frame, 3), \
	OFF(iframe_localsplus, frame, 4), \
	OFF(iframe_owner, frame, 5), \
	OFF(iframe_stackpointer, frame, 6), \
	OFF(co_filename, code, 1), \
	OFF(co_name, code, 2), \
	OFF(co_qualname, code, 3), \
	OFF(co_linetable, code, 4), \
	OFF(co_firstlineno, code, 5), \
	OFF(co_localsplusnames, code, 7), \
	OFF(co_localspluskinds, code, 8), \
	OFF(co_code_adaptive, code, 9), \
	SZ(tp_size, type), \
	OFF(tp_name, type, 1), \
	OFF(tp_flags, type, 3), \
	OFF(tuple_ob_item, tuple, 1), \
	OFF(list_ob_item, list, 1), \
	OFF(set_used, set, 1), \
	OFF(set_table, set, 2), \
	OFF(set_mask, set, 3), \
	OFF(dict_ma_keys, dict, 1), \
	OFF(dict_ma_values, dict, 2), \
	OFF(long_lv_tag, lng, 1), \
	OFF(long_digit, lng, 2), \
	OFF(bytes_sval, bytes, 2), \
	OFF(ascii_state, uni, 1), \
	OFF(ascii_length, uni, 2), \
	SUB(ascii_size, uni, 3), \
	OFF(gc_collecting, gc, 1), \
	OFF(gen_name, gen, 1), \
	OFF(gen_iframe, gen, 2), \
	OFF(gen_frame_state, gen, 3)

static const ph_do_map map_3_14[] = {
	DO_MODERN(DO14_RT, DO14_IS, DO14_TS, 5, DO14_FRAME, DO14_CODE, DO14_TYPE, DO14_TUPLE,
		  DO14_LIST, DO14_SET, DO14_DICT, DO14_LONG, DO14_BYTES, DO14_UNICODE, DO14_GC,
		  DO14_GEN),
};

/* 3.15, 0x378 bytes: the thread state section grew (base_frame ...
 * exc_state), err_stackitem and heap_type_object were added, the type,
 * unicode and gc sections grew. */
static const ph_do_map map_3_15[] = {
	DO_MODERN(0x18, 0x30, 0xb0, 8, 0x138, 0x178, 0x1e0, 0x220, 0x238, 0x250, 0x270, 0x298,
		  0x2b0, 0x2c8, 0x2f0, 0x318),
	OFF(tp_basicsize, 0x1e0, 4),
	OFF(tp_dictoffset, 0x1e0, 5),
	SZ(ht_size, 0x210),
	OFF(ht_cached_keys, 0x210, 1),
	SUB(compact_size, 0x2c8, 4),
};

/* Each layout: its map and the bytes it needs. */
static const struct {
	enum ph_debug_offsets kind;
	const ph_do_map *map;
	size_t n, size;
} layouts[] = {
	{PH_DO_3_13, map_3_13, sizeof map_3_13 / sizeof map_3_13[0], PH_DEBUG_OFFSETS_SIZE_3_13},
	{PH_DO_3_14, map_3_14, sizeof map_3_14 / sizeof map_3_14[0], 0x2f8},
	{PH_DO_3_15, map_3_15, sizeof map_3_15 / sizeof map_3_15[0], 0x378},
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

/* The header every layout shares. */
enum { DO_COOKIE = 0x00, DO_VERSION = 0x08, DO_FREE_THREADED = 0x10 };

uint64_t ph_debug_offsets_version(const uint8_t *buf, size_t len)
{
	if (!buf || len < DO_VERSION + 8 || memcmp(buf + DO_COOKIE, "xdebugpy", 8) != 0)
		return 0;
	return ph_do_u64(buf + DO_VERSION);
}

bool ph_debug_offsets_free_threaded(const uint8_t *buf, size_t len)
{
	return ph_debug_offsets_version(buf, len) && len >= DO_FREE_THREADED + 8 &&
	       ph_do_u64(buf + DO_FREE_THREADED) != 0;
}

int ph_offsets_apply_debug(ph_offsets *o, enum ph_debug_offsets kind, const uint8_t *buf,
			   size_t len)
{
	ph_offsets tmp;
	size_t li, i;

	if (!o || ph_debug_offsets_version(buf, len) == 0)
		return -1;
	for (li = 0; li < sizeof layouts / sizeof layouts[0]; li++)
		if (layouts[li].kind == kind)
			break;
	/* a layout not known here: a wrong one would be worse than the table */
	if (li == sizeof layouts / sizeof layouts[0] || len < layouts[li].size)
		return -1;

	tmp = *o;
	for (i = 0; i < layouts[li].n; i++) {
		const ph_do_map *mp = &layouts[li].map[i];
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
