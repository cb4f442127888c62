/*
 * layout.c - which struct layout the build in the core has, and whether the
 * core agrees.
 *
 * With DWARF the layout is read from it.  Without, the release's built-in
 * layouts (version.c) are candidates: each is tried in turn, with
 * _Py_DebugOffsets laid over it on 3.13+, and the first one that the core
 * validates is used.  Validation reads what each layout claims and checks
 * that the memory agrees: the interpreter list ends and its threads point
 * back at it; the static type objects have the sizes the layout gives their
 * instances; each GC generation's list head is a closed ring; the arena
 * table and the current frames look as they must.  A layout the core does
 * not confirm is not used: pyheap then refuses the core, naming the
 * structure that did not check out, rather than give numbers read through
 * a wrong layout.
 *
 * The checks read raw words only: the type cache is not filled through a
 * layout that may be wrong.
 */
#include "walk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "debug_offsets.h"

/* Formats a reason into why (cap bytes); returns false for `return fail(...)`. */
static bool fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return false;
}

/* A user-space pointer: nonzero, 8-aligned, below the 47-bit limit. */
static bool plausible_ptr(uint64_t p)
{
	return p && !(p & 7) && p < (1ull << 47);
}

/* The interpreters: a list that ends, states that are readable, threads
 * that point back at their interpreter, and the dicts every interpreter
 * has. */
static bool check_interps(ph_heap *h, char *why, size_t cap)
{
	if (!h->ninterps)
		return fail(why, cap, "interpreter list: empty or unreadable at _PyRuntime+0x%llx",
			    (unsigned long long)h->off.rt_interpreters_head);
	uint64_t is = h->interps[0], ts = 0, back = 0, d, tp;
	if (rdf(h, is, h->off.is_threads_head, &ts) && ts) {
		if (!plausible_ptr(ts) || !rdf(h, ts, h->off.ts_interp, &back) || back != is)
			return fail(why, cap, "thread state 0x%llx does not point back at its "
				    "interpreter 0x%llx", (unsigned long long)ts, (unsigned long long)is);
	}
	const int64_t dicts[] = {h->off.is_sysdict, h->off.is_builtins, h->off.is_modules};
	const char *names[] = {"sys.__dict__", "builtins", "sys.modules"};
	for (int i = 0; i < 3 && h->kind_types[K_DICT]; i++)
		if (!rdf(h, is, dicts[i], &d) || !plausible_ptr(d) || !rd64(h, d + 8, &tp) ||
		    tp != h->kind_types[K_DICT])
			return fail(why, cap, "interpreter 0x%llx: %s at +0x%llx is not a dict",
				    (unsigned long long)is, names[i], (unsigned long long)dicts[i]);
	return true;
}

/* The static type objects: each has the size the layout gives its
 * instances (tp_basicsize is sizeof or offsetof of the very fields read). */
static bool check_types(ph_heap *h, char *why, size_t cap)
{
	const struct { int kind; int64_t basic; const char *what; } want[] = {
		{K_TYPE, h->off.ht_size, "type (sizeof PyHeapTypeObject)"},
		{K_TUPLE, h->off.tuple_ob_item, "tuple (items at)"},
		{K_LIST, h->off.list_allocated + 8, "list (sizeof PyListObject)"},
		{K_DICT, h->off.dict_ma_values + 8, "dict (sizeof PyDictObject)"},
		{K_INT, h->off.long_digit, "int (digits at)"},
		{K_STR, h->off.unicode_data + 8, "str (sizeof PyUnicodeObject)"},
	};
	uint64_t t = h->kind_types[K_TYPE], meta;
	if (t && (!rd64(h, t + 8, &meta) || meta != t))
		return fail(why, cap, "type object 'type' at 0x%llx is not its own type",
			    (unsigned long long)t);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		uint64_t a = h->kind_types[want[i].kind], basic = 0, flags = 0;
		if (!a)
			continue;
		if (!rdf(h, a, h->off.tp_basicsize, &basic) || !rdf(h, a, h->off.tp_flags, &flags) ||
		    !(flags & TPF_READY) || (int64_t)basic != want[i].basic)
			return fail(why, cap, "type object %s: tp_basicsize %llu, the layout says %lld",
				    want[i].what, (unsigned long long)basic, (long long)want[i].basic);
	}
	return true;
}

/* One GC list head: its ends point back at it. */
static bool ring_closed(ph_heap *h, uint64_t head)
{
	uint64_t next, prev, back;
	if (!rd64(h, head, &next) || !rd64(h, head + 8, &prev))
		return false;
	next &= ~3ull;
	prev &= ~3ull;
	/* an empty list points at itself (a head need not be 8-aligned:
	 * Debian's 3.13 packs the generations 4 bytes off) */
	if (next == head || prev == head)
		return next == head && prev == head;
	if (!plausible_ptr(next) || !plausible_ptr(prev))
		return false;
	/* the first's prev and the last's next lead back to the head */
	return rd64(h, next + 8, &back) && (back & ~3ull) == head &&
	       rd64(h, prev, &back) && (back & ~3ull) == head;
}

/* The collector: every list head a closed ring, thresholds and counts in
 * range, the flags 0 or 1. */
static bool check_gc(ph_heap *h, char *why, size_t cap)
{
	struct ph_gc_list lists[PH_GC_LISTS_MAX];
	size_t n = ph_gc_lists(h, lists);
	if (!n)
		return fail(why, cap, "GC state: the layout has no generation lists");
	for (size_t i = 0; i < n; i++)
		if (!ring_closed(h, lists[i].head))
			return fail(why, cap, "GC state at 0x%llx: the list head at +0x%llx is "
				    "not a closed ring", (unsigned long long)lists[i].state,
				    (unsigned long long)(lists[i].head - lists[i].state));
	uint32_t enabled = 2, collecting = 2;
	rd32(h, lists[0].state + (uint64_t)h->off.gc_enabled, &enabled);
	rd32(h, lists[0].state + (uint64_t)h->off.gc_collecting, &collecting);
	if (enabled > 1 || collecting > 1)
		return fail(why, cap, "GC state at 0x%llx: enabled %u, collecting %u",
			    (unsigned long long)lists[0].state, enabled, collecting);
	ph_gc_state g = {0};
	ph_gc_thresholds(h, lists[0].state, &g);
	if (g.gen[0].threshold <= 0 || g.gen[0].threshold > (1 << 30))
		return fail(why, cap, "GC state at 0x%llx: threshold %d", (unsigned long long)lists[0].state,
			    g.gen[0].threshold);
	for (int i = 0; i < 3; i++)
		if (g.gen[i].threshold < 0 || g.gen[i].threshold > (1 << 30) ||
		    g.gen[i].count < -(1 << 30) || g.gen[i].count > (1 << 30))
			return fail(why, cap, "GC state at 0x%llx: generation %d threshold %d count %d",
				    (unsigned long long)lists[0].state, i, g.gen[i].threshold,
				    g.gen[i].count);
	return true;
}

/* pymalloc's state in the interpreter (3.12+): a table pointer and sizes
 * that agree. */
static bool check_obmalloc(ph_heap *h, char *why, size_t cap)
{
	if (h->tr->arenas == PH_ARENAS_STATIC || h->off.is_obmalloc < 0)
		return true;
	uint64_t state = h->interps[0] + (uint64_t)h->off.is_obmalloc, table = 0;
	uint32_t max = 0, cur = 0;
	if (h->tr->arenas == PH_ARENAS_INTERP_PTR && (!rd64(h, state, &state) || !plausible_ptr(state)))
		return fail(why, cap, "obmalloc state pointer unreadable at interpreter+0x%llx",
			    (unsigned long long)h->off.is_obmalloc);
	if (!rdf(h, state, h->off.om_arenas, &table) ||
	    !rd32(h, state + (uint64_t)h->off.om_maxarenas, &max) ||
	    !rd32(h, state + (uint64_t)h->off.om_narenas_current, &cur) ||
	    max > (1u << 24) || cur > max || (max && !plausible_ptr(table)))
		return fail(why, cap, "obmalloc state at 0x%llx: arena table 0x%llx, %u slots, "
			    "%u arenas", (unsigned long long)state, (unsigned long long)table, max, cur);
	return true;
}

/* The current frame of each thread (3.11+): its code is a code object (or,
 * for an entry frame, None). */
static bool check_frames(ph_heap *h, char *why, size_t cap)
{
	if (h->tr->frames == PH_FRAMES_OBJECTS || !h->kind_types[K_CODE])
		return true;
	uint64_t ts = 0;
	if (!rdf(h, h->interps[0], h->off.is_threads_head, &ts))
		return true;
	for (int k = 0; ts && k < 64; k++) {
		uint64_t f = ph_thread_frame(h, ts), co = 0, tp = 0;
		if (f && (!rdf(h, f, h->off.iframe_code, &co) ||
			  !rd64(h, ph_stackref(h, co) + 8, &tp) ||
			  (tp != h->kind_types[K_CODE] && ph_stackref(h, co) != h->none_addr)))
			return fail(why, cap, "thread state 0x%llx: its frame 0x%llx has no code "
				    "object at +0x%llx", (unsigned long long)ts, (unsigned long long)f,
				    (unsigned long long)h->off.iframe_code);
		if (!rdf(h, ts, h->off.ts_next, &ts))
			break;
	}
	return true;
}

/* ---- the one-character caches (3.11+) ---- */

static uint64_t round8(uint64_t n) { return (n + 7) & ~7ull; }

/* Strides of the static arrays: struct { PyBytesObject ob; char eos; },
 * struct { PyASCIIObject _ascii; uint8_t _data[2]; }, struct {
 * PyCompactUnicodeObject _latin1; uint8_t _data[2]; }. */
static uint64_t stride_bytes(const ph_heap *h)
{
	return round8(round8((uint64_t)h->off.bytes_sval + 1) + 1);
}
static uint64_t stride_ascii(const ph_heap *h) { return round8((uint64_t)h->off.ascii_size + 2); }
static uint64_t stride_latin1(const ph_heap *h) { return round8((uint64_t)h->off.compact_size + 2); }

/* Whether a is the cached one-character object of character c: bytes
 * (kind 0), an ASCII str (1) or a Latin-1 str (2). */
static bool is_char(ph_heap *h, int kind, uint64_t a, unsigned c)
{
	uint64_t tp = 0, len = 0;
	uint8_t ch = 0;
	if (!rd64(h, a + 8, &tp) || !rd64(h, a + 16, &len) || len != 1)
		return false;
	if (kind == 0)
		return tp == h->kind_types[K_BYTES] &&
		       core_read(h->core, a + (uint64_t)h->off.bytes_sval, &ch, 1) == 1 && ch == c;
	uint64_t data = a + (uint64_t)(kind == 1 ? h->off.ascii_size : h->off.compact_size);
	return tp == h->kind_types[K_STR] && core_read(h->core, data, &ch, 1) == 1 && ch == c;
}

/* The array of kind at base holds the right characters (a sample). */
static bool chars_at(ph_heap *h, int kind, uint64_t base, uint64_t stride)
{
	static const unsigned sample[3][3] = {{'0', 'A', 'z'}, {'0', 'A', 'z'}, {0xc0, 0xe9, 0xff}};
	unsigned first = kind == 2 ? 128 : 0;
	for (int i = 0; i < 3; i++)
		if (!is_char(h, kind, base + (sample[kind][i] - first) * stride, sample[kind][i]))
			return false;
	return true;
}

/* The static caches at the layout's offsets, or found in _PyRuntime by
 * their contents (their place moves with every identifier a patch release
 * adds).  false when one is in neither place. */
static bool fit_caches(ph_heap *h, char *why, size_t cap, bool *searched)
{
	int64_t *off[3] = {&h->off.rt_bytes_chars, &h->off.rt_str_ascii, &h->off.rt_str_latin1};
	uint64_t stride[3] = {stride_bytes(h), stride_ascii(h), stride_latin1(h)};
	const char *what[3] = {"bytes", "ASCII str", "Latin-1 str"};
	uint64_t limit = h->off.rt_size > 0 && h->off.rt_size < (64 << 20) ? (uint64_t)h->off.rt_size
									   : (1u << 20);
	*searched = false;
	for (int k = 0; k < 3; k++) {
		if (*off[k] < 0)
			continue;
		if ((k == 0 && !h->kind_types[K_BYTES]) || (k > 0 && !h->kind_types[K_STR]))
			continue;     /* nothing to check against */
		if (chars_at(h, k, h->runtime + (uint64_t)*off[k], stride[k]))
			continue;
		/* the element of 'A' (or 0xe9) has a type pointer at +8 */
		unsigned c = k == 2 ? 0xe9 : 'A', first = k == 2 ? 128 : 0;
		bool found = false;
		for (uint64_t o = 0; o + 64 <= limit && !found; o += 8) {
			if (!is_char(h, k, h->runtime + o, c))
				continue;
			uint64_t base = o - (c - first) * stride[k];
			if (o >= (c - first) * stride[k] && chars_at(h, k, h->runtime + base, stride[k])) {
				*off[k] = (int64_t)base;
				found = true;
			}
		}
		if (!found)
			return fail(why, cap, "the static one-character %s objects are neither at "
				    "_PyRuntime+0x%llx nor anywhere else in _PyRuntime", what[k],
				    (unsigned long long)*off[k]);
		*searched = true;
	}
	return true;
}

/* Whether the core agrees with h->off; why says what does not. */
static bool validate(ph_heap *h, char *why, size_t cap, bool *searched)
{
	ph_walk_interpreters(h);
	return check_interps(h, why, cap) && check_types(h, why, cap) && check_gc(h, why, cap) &&
	       check_obmalloc(h, why, cap) && check_frames(h, why, cap) &&
	       fit_caches(h, why, cap, searched);
}

/* Appends to h->layout_note. */
static void note(ph_heap *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ph_heap *h, const char *fmt, ...)
{
	size_t n = strlen(h->layout_note);
	va_list ap;
	va_start(ap, fmt);
	if (n + 1 < sizeof h->layout_note)
		vsnprintf(h->layout_note + n, sizeof h->layout_note - n, fmt, ap);
	va_end(ap);
}

int ph_layout_choose(ph_heap *h, bool use_dwarf, const uint8_t *dbg, size_t dbglen,
		     char *err, size_t errlen)
{
	char why[256];
	bool searched = false;
	h->layout_note[0] = 0;
	if (use_dwarf) {
		h->offsets_source = "dwarf";
		h->layout_name = "DWARF";
		if (validate(h, why, sizeof why, &searched))
			note(h, "read from the interpreter's DWARF; the core agrees");
		else {
			note(h, "read from the interpreter's DWARF; the core disagrees: %s", why);
			ph_warn(h, W_OFFSETS, "the DWARF layout does not fit the core: %s", why);
		}
		return 0;
	}
	/* the built-in layouts, the core's patch release first */
	const char *order[8];
	size_t n = 0;
	char prefix[16];
	snprintf(prefix, sizeof prefix, "3.%d.%d", h->minor, h->micro);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < 4 && h->tr->layouts[i]; i++) {
			const char *l = h->tr->layouts[i];
			size_t pl = strlen(prefix);
			bool match = h->micro >= 0 && strncmp(l, prefix, pl) == 0 &&
				     (l[pl] == 0 || l[pl] == '-');
			if (match == (pass == 0))
				order[n++] = l;
		}
	char first_why[256] = "";
	const char *first_name = NULL;
	for (size_t i = 0; i < n; i++) {
		const ph_offsets *table = ph_offsets_layout_of(order[i]);
		if (!table)
			continue;
		h->off = *table;
		h->offsets_source = "builtin";
		if (dbg && ph_offsets_apply_debug(&h->off, h->tr->debug_offsets, dbg, dbglen) > 0)
			h->offsets_source = "builtin+debug_offsets";
		if (validate(h, why, sizeof why, &searched)) {
			h->layout_name = order[i];
			note(h, "built-in, validated against the core (interpreters, threads, type "
			     "objects, GC lists%s)%s",
			     h->tr->frames != PH_FRAMES_OBJECTS ? ", frames" : "",
			     searched ? "; the one-character caches found by their contents" : "");
			if (first_name)
				note(h, "; %s did not fit: %s", first_name, first_why);
			return 0;
		}
		if (!first_name) {
			first_name = order[i];
			snprintf(first_why, sizeof first_why, "%s", why);
		}
	}
	snprintf(err, errlen, "%s: Python %s without debug info: no built-in layout fits this "
		 "core (%s: %s); give pyheap the interpreter's debug info: --debug-dir DIR "
		 "(e.g. from the python3.%d-dbg package), DEBUGINFOD_URLS, or --sysroot",
		 core_path(h->core), h->version, first_name ? first_name : "none",
		 first_name ? first_why : "no layout built in", h->minor);
	return -1;
}
