/*
 * decode_frames.c - code objects, frames and generators: the references of
 * each, the frames of a thread, and the names of code.
 *
 * Frames changed most between releases: 3.8-3.10 keep frame objects linked
 * from the thread state; 3.11+ keep interpreter frames on a per-thread
 * stack, which a frame object or a generator may own (version.h, ph_frames).
 */
#include "walk.h"

#include <stdio.h>
#include <string.h>


void ph_decode_code(ph_heap *h, ph_walk *w, uint64_t co, uint32_t ti)
{
	const struct { int64_t off; int f; } f[] = {
		{h->off.co_consts, F_CO_CONSTS}, {h->off.co_names, F_CO_NAMES},
		{h->off.co_varnames, F_CO_VARNAMES}, {h->off.co_freevars, F_CO_FREEVARS},
		{h->off.co_cellvars, F_CO_CELLVARS}, {h->off.co_code, F_CO_CODE},
		{h->off.co_filename, F_CO_FILENAME}, {h->off.co_name, F_CO_NAME},
		{h->off.co_qualname, F_CO_QUALNAME}, {h->off.co_linetable, F_CO_LINETABLE},
		{h->off.co_exceptiontable, F_CO_EXCTABLE},
		{h->off.co_localsplusnames, F_CO_LPNAMES},
		{h->off.co_localspluskinds, F_CO_LPKINDS},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		ph_field(h, w, co, f[i].off, f[i].f);
}

/* The names of a code object's fast locals, in localsplus order: one tuple
 * on 3.11+, three before.  Returns how many names; ids into names[]. */
static size_t local_names(ph_heap *h, uint64_t co, uint64_t *names, size_t cap)
{
	size_t n = 0;
	const int64_t tuples[] = {h->off.co_localsplusnames, h->off.co_varnames,
				  h->off.co_cellvars, h->off.co_freevars};
	for (size_t t = 0; t < 4; t++) {
		uint64_t tup = 0, len = 0;
		if (!rdf(h, co, tuples[t], &tup) || !tup || !rd64(h, tup + 16, &len))
			continue;
		for (uint64_t i = 0; i < len && n < cap; i++)
			if (!rd64(h, tup + (uint64_t)h->off.tuple_ob_item + 8 * i, &names[n++]))
				names[n - 1] = 0;
		if (t == 0)
			break;               /* 3.11+: the one tuple has them all */
	}
	return n;
}

/* A frame slot: a pointer, or on 3.14+ a _PyStackRef, whose bit 0 says the
 * slot holds no reference of its own (an immortal object, or one borrowed
 * from elsewhere in the frame): it keeps the object alive, but its
 * refcount does not count it. */
static void emit_slot(ph_heap *h, ph_walk *w, uint64_t v, uint8_t kind, uint32_t label)
{
	uint64_t p = ph_stackref(h, v);
	uint8_t flags = h->tr->stackrefs && (v & 1) ? PH_EF_UNCOUNTED : 0;
	ph_emit(h, w, p, kind, flags, label);
}

static void walk_locals(ph_heap *h, ph_walk *w, uint64_t co, uint64_t slots, uint64_t nslots,
			uint64_t stack, uint64_t nstack)
{
	uint64_t names[512];
	size_t nn = co ? local_names(h, co, names, 512) : 0;
	if (nslots > PH_MAX_SLOTS * 64)
		nslots = 0;
	for (uint64_t i = 0; i < nslots; i++) {
		uint64_t v;
		if (rd64(h, slots + 8 * i, &v) && v)
			emit_slot(h, w, v, PH_E_LOCAL, i < nn ? ph_id_of(h, names[i]) : PH_NONE);
	}
	if (nstack > 4096)
		return;
	if (!h->tr->stackrefs) {
		ph_walk_array(h, w, stack, nstack, PH_E_STACK, 0);
		return;
	}
	for (uint64_t i = 0; i < nstack; i++) {
		uint64_t v;
		if (!rd64(h, stack + 8 * i, &v))
			break;
		emit_slot(h, w, v, PH_E_STACK, (uint32_t)i);
	}
}

/* A field of a frame that is a _PyStackRef on 3.14+ (f_executable,
 * f_funcobj), a pointer before. */
static void frame_ref(ph_heap *h, ph_walk *w, uint64_t f, int64_t off, int label)
{
	uint64_t v;
	if (rdf(h, f, off, &v) && v)
		emit_slot(h, w, v, PH_E_FIELD, (uint32_t)label);
}

/* A 3.11+ interpreter frame: code, function, locals, stack.  f_globals and
 * f_builtins are borrowed from the function and not counted. */
void ph_walk_iframe(ph_heap *h, ph_walk *w, uint64_t f)
{
	uint64_t co = 0, nlp = 0;
	frame_ref(h, w, f, h->off.iframe_code, F_F_CODE);
	frame_ref(h, w, f, h->off.iframe_func, F_FUNCOBJ);
	ph_field(h, w, f, h->off.iframe_locals, F_F_LOCALS);
	ph_field(h, w, f, h->off.iframe_frame_obj, F_FRAME_OBJ);
	if (!rdf(h, f, h->off.iframe_code, &co) || !(co = ph_stackref(h, co)))
		return;
	uint64_t tp = 0;
	if (!rd64(h, co + 8, &tp) || tp != h->kind_types[K_CODE])
		return;                  /* 3.13+: None for C-stack entry frames */
	int32_t n32 = 0;
	if (!rd32(h, co + (uint64_t)h->off.co_nlocalsplus, (uint32_t *)&n32) || n32 < 0)
		return;
	nlp = (uint64_t)n32;
	uint64_t lp = f + (uint64_t)h->off.iframe_localsplus, nstack = 0;
	/* the executing frame keeps its stack pointer in a register: the
	 * frame's copy may be unset or stale, so trust only the locals then */
	if (h->tr->stackpointer) {
		uint64_t sp = 0, base = lp + 8 * nlp;
		if (rdf(h, f, h->off.iframe_stackpointer, &sp) && sp > base && sp - base < 8 * 4096 &&
		    !((sp - base) & 7))
			nstack = (sp - base) / 8;
	} else {
		uint32_t top = 0;
		rd32(h, f + (uint64_t)h->off.iframe_stacktop, &top);
		nstack = (int32_t)top > (int32_t)nlp && top < nlp + 4096 ? top - nlp : 0;
	}
	walk_locals(h, w, co, lp, nlp, lp + 8 * nlp, nstack);
}

void ph_decode_frame(ph_heap *h, ph_walk *w, uint64_t fr, uint32_t ti)
{
	ph_field(h, w, fr, h->off.frame_back, F_F_BACK);
	ph_field(h, w, fr, h->off.frame_trace, F_F_TRACE);
	if (h->tr->frames != PH_FRAMES_OBJECTS) {
		/* only the frame's own data; a live frame belongs to its thread or
		 * generator, which walk it */
		uint64_t iframe = 0;
		if (rdf(h, fr, h->off.frame_frame, &iframe) &&
		    iframe == fr + (uint64_t)h->off.frame_data)
			ph_walk_iframe(h, w, iframe);
		return;
	}
	ph_field(h, w, fr, h->off.frame_code, F_F_CODE);
	ph_field(h, w, fr, h->off.frame_builtins, F_F_BUILTINS);
	ph_field(h, w, fr, h->off.frame_globals, F_F_GLOBALS);
	ph_field(h, w, fr, h->off.frame_locals, F_F_LOCALS);
	uint64_t co = 0, nlocals = 0, vs = 0, top = 0;
	rdf(h, fr, h->off.frame_code, &co);
	/* localsplus = nlocals + cells + frees; the value stack follows */
	uint64_t names[512];
	size_t nn = co ? local_names(h, co, names, 512) : 0;
	uint32_t nl32 = 0;
	if (co && rd32(h, co + (uint64_t)h->off.co_nlocals, &nl32))
		nlocals = nl32;
	uint64_t nslots = nn > nlocals ? nn : nlocals;
	uint64_t nstack = 0;
	rdf(h, fr, h->off.frame_valuestack, &vs);
	if (h->off.frame_stacktop >= 0 && rdf(h, fr, h->off.frame_stacktop, &top) && top > vs)
		nstack = (top - vs) / 8;
	else if (h->off.frame_stackdepth >= 0) {
		uint32_t d = 0;
		if (rd32(h, fr + (uint64_t)h->off.frame_stackdepth, &d))
			nstack = d;
	}
	walk_locals(h, w, co, fr + (uint64_t)h->off.frame_localsplus, nslots, vs, vs ? nstack : 0);
}

void ph_decode_gen(ph_heap *h, ph_walk *w, uint64_t g, uint32_t ti)
{
	ph_field(h, w, g, h->off.gen_name, F_NAME);
	ph_field(h, w, g, h->off.gen_qualname, F_QUALNAME);
	ph_field(h, w, g, h->off.gen_code, F_GI_CODE);
	if (h->tr->frames == PH_FRAMES_OBJECTS) {
		ph_field(h, w, g, h->off.gen_frame, F_GI_FRAME);
		return;
	}
	int8_t state = 127;
	if (core_read(h->core, g + (uint64_t)h->off.gen_frame_state, &state, 1) == 1 &&
	    state < h->tr->gen_live_below)
		ph_walk_iframe(h, w, g + (uint64_t)h->off.gen_iframe);
}

/* A generator's size (3.11+): its frame is part of it, one slot for each
 * local and each stack entry of its code (_PyFrame_NumSlotsForCodeObject);
 * ob_size is no count here (3.11 keeps gi_code where it would be).  The
 * code is gi_code (3.11), else the frame's. */
uint64_t ph_body_gen(ph_heap *h, uint64_t g, const ph_type *t)
{
	uint64_t co = 0;
	uint32_t nlp = 0, stack = 0;
	if (h->tr->frames == PH_FRAMES_OBJECTS || t->itemsize <= 0)
		return (uint64_t)t->basicsize;
	if (h->off.gen_code >= 0)
		rdf(h, g, h->off.gen_code, &co);
	else if (h->off.gen_iframe >= 0 && rdf(h, g + (uint64_t)h->off.gen_iframe,
						   h->off.iframe_code, &co))
		co = ph_stackref(h, co);
	uint64_t tp = 0;
	if (!co || !rd64(h, co + 8, &tp) || tp != h->kind_types[K_CODE] ||
	    !rd32(h, co + (uint64_t)h->off.co_nlocalsplus, &nlp) ||
	    !rd32(h, co + (uint64_t)h->off.co_stacksize, &stack) ||
	    nlp > (1u << 20) || stack > (1u << 20))
		return UINT64_MAX;     /* no claim: not checked against its block */
	return (uint64_t)t->basicsize + ((uint64_t)nlp + stack) * (uint64_t)t->itemsize;
}

/* The current frame of a thread state, as each version keeps it. */
uint64_t ph_thread_frame(ph_heap *h, uint64_t ts)
{
	uint64_t f = 0, cf = 0;
	switch (h->tr->frames) {
	case PH_FRAMES_CURRENT:
		rdf(h, ts, h->off.ts_current_frame, &f);
		break;
	case PH_FRAMES_CFRAME:
		if (rdf(h, ts, h->off.ts_cframe, &cf) && cf)
			rdf(h, cf, h->off.cframe_current_frame, &f);
		break;
	case PH_FRAMES_OBJECTS:                          /* an object */
		rdf(h, ts, h->off.ts_frame, &f);
		break;
	}
	return f;
}

void ph_code_name(ph_heap *h, uint64_t co, char *buf, size_t cap)
{
	uint64_t s = 0;
	buf[0] = 0;
	if (rdf(h, co, h->off.co_qualname >= 0 ? h->off.co_qualname : h->off.co_name, &s) && s)
		ph_str_read(h, s, buf, cap);
	if (!*buf)
		snprintf(buf, cap, "?");
}


/* ---- where a frame is: its code's line for an instruction ---- */

/* A varint of the 3.11+ location table: 6-bit chunks, bit 6 = more. */
static bool lt_varint(const uint8_t *t, size_t n, size_t *i, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; *i < n && shift < 64; shift += 6) {
		uint8_t b = t[(*i)++];
		v |= (uint64_t)(b & 63) << shift;
		if (!(b & 64)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static bool lt_svarint(const uint8_t *t, size_t n, size_t *i, int64_t *out)
{
	uint64_t v;
	if (!lt_varint(t, n, i, &v))
		return false;
	*out = (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
	return true;
}

/* The line of code unit (2-byte instruction) `unit` in a 3.11+ location
 * table (Objects/locations.md): entries of a marker byte (1, code: 4 bits,
 * length - 1: 3 bits) and the code's data. */
static int line_311(const uint8_t *t, size_t n, int first, uint64_t unit)
{
	int64_t line = first;
	uint64_t at = 0;
	size_t i = 0;
	while (i < n) {
		uint8_t b = t[i++];
		if (!(b & 128))
			return 0;
		unsigned code = (b >> 3) & 15, len = (b & 7) + 1;
		int64_t d = 0, has = 1;
		uint64_t skip;
		switch (code) {
		case 15: has = 0; break;                         /* no location */
		case 14:                                          /* long form */
			if (!lt_svarint(t, n, &i, &d) || !lt_varint(t, n, &i, &skip) ||
			    !lt_varint(t, n, &i, &skip) || !lt_varint(t, n, &i, &skip))
				return 0;
			break;
		case 13:                                          /* no column */
			if (!lt_svarint(t, n, &i, &d))
				return 0;
			break;
		case 10: case 11: case 12:                        /* one line */
			d = code - 10;
			i += 2;
			break;
		default:                                          /* short form */
			i += 1;
			break;
		}
		if (has)
			line += d;
		if (unit < at + len)
			return has ? (int)line : 0;
		at += len;
	}
	return 0;
}

/* 3.10's table: (bytes, line delta; -128: no line) pairs. */
static int line_310(const uint8_t *t, size_t n, int first, uint64_t byte)
{
	int64_t line = first, end = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int8_t ld = (int8_t)t[i + 1];
		int64_t start = end;
		end += t[i];
		int64_t here = ld == -128 ? -1 : (line += ld);
		if ((int64_t)byte >= start && (int64_t)byte < end)
			return here < 0 ? 0 : (int)here;
	}
	return 0;
}

/* 3.8 and 3.9's co_lnotab: (bytes, line delta) pairs. */
static int line_lnotab(const uint8_t *t, size_t n, int first, uint64_t byte)
{
	int64_t line = first;
	uint64_t addr = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		addr += t[i];
		if (addr > byte)
			break;
		line += (int8_t)t[i + 1];
	}
	return (int)line;
}

/* The bytes object at b into buf (at most cap); its length, or -1. */
static long read_bytes(ph_heap *h, uint64_t b, uint8_t *buf, size_t cap)
{
	uint64_t n = 0;
	if (!b || !rd64(h, b + 16, &n) || n > (1u << 24))
		return -1;
	if (n > cap)
		n = cap;
	return (long)core_read(h->core, b + (uint64_t)h->off.bytes_sval, buf, (size_t)n);
}

/* The line of code object co at position pos: a code unit index (3.11+),
 * else a byte offset. */
static int code_line(ph_heap *h, uint64_t co, uint64_t pos)
{
	uint64_t tab = 0;
	uint32_t first = 0;
	static uint8_t buf[1 << 16];
	if (!rd32(h, co + (uint64_t)h->off.co_firstlineno, &first) ||
	    !rdf(h, co, h->off.co_linetable, &tab))
		return 0;
	long n = read_bytes(h, tab, buf, sizeof buf);
	if (n < 0)
		return (int)first;
	switch (h->tr->linetable) {
	case PH_LT_LOCATIONS:
		return line_311(buf, (size_t)n, (int)first, pos);
	case PH_LT_310:
		return line_310(buf, (size_t)n, (int)first, pos);
	case PH_LT_LNOTAB:
		break;
	}
	return line_lnotab(buf, (size_t)n, (int)first, pos);
}

/* The str object at s into buf, or "?" when it is none. */
static void str_field(ph_heap *h, uint64_t obj, int64_t off, char *buf, size_t cap)
{
	uint64_t s = 0;
	buf[0] = 0;
	if (rdf(h, obj, off, &s) && s)
		ph_str_read(h, s, buf, cap);
	if (!buf[0])
		snprintf(buf, cap, "?");
}

int ph_frame_at(ph_heap *h, uint64_t f, ph_frame *out)
{
	uint64_t co = 0, tp = 0, pos = 0;
	memset(out, 0, sizeof *out);
	out->addr = f;
	if (h->tr->frames == PH_FRAMES_OBJECTS) {
		uint32_t lasti = 0;
		if (!rdf(h, f, h->off.frame_code, &co) || !co)
			return -1;
		rd32(h, f + (uint64_t)h->off.frame_lasti, &lasti);
		/* f_lasti counts bytes on 3.8 and 3.9, code units on 3.10; -1
		 * before the first instruction */
		pos = (int32_t)lasti < 0 ? 0 : h->tr->linetable == PH_LT_310 ? 2ull * lasti : lasti;
	} else {
		uint8_t owner = 0;
		if (!rdf(h, f, h->off.iframe_code, &co))
			return -1;
		co = ph_stackref(h, co);
		core_read(h->core, f + (uint64_t)h->off.iframe_owner, &owner, 1);
		if (h->tr->frame_owner_cstack >= 0 && owner >= h->tr->frame_owner_cstack) {
			out->entry = 1;
			return 0;
		}
		uint64_t func = 0, ip = 0;
		if (rdf(h, f, h->off.iframe_func, &func))
			out->function = ph_stackref(h, func);
		/* the instruction: prev_instr (3.11, 3.12), instr_ptr (3.13+),
		 * in code units from the start of the code's bytecode */
		if (rdf(h, f, h->off.iframe_instr_ptr, &ip) && h->off.co_code_adaptive >= 0 &&
		    ip >= co + (uint64_t)h->off.co_code_adaptive)
			pos = (ip - co - (uint64_t)h->off.co_code_adaptive) / 2;
	}
	if (!co || !rd64(h, co + 8, &tp) || tp != h->kind_types[K_CODE])
		return -1;
	out->code = co;
	uint32_t first = 0;
	rd32(h, co + (uint64_t)h->off.co_firstlineno, &first);
	out->first_line = (int)first;
	ph_code_name(h, co, out->name, sizeof out->name);
	str_field(h, co, h->off.co_filename, out->file, sizeof out->file);
	out->line = code_line(h, co, pos);
	/* an interpreter's shim (3.13's __init__ cleanup, 3.12's trampoline):
	 * a code object in the binary's data with no line, not the program's */
	const core_segment *s = core_segment_find(h->core, co);
	if (out->line == 0 && s && s->file)
		out->entry = 1;
	return 0;
}

size_t ph_thread_frames(ph_heap *h, size_t i, ph_frame *out, size_t cap)
{
	if (i >= h->nthreads)
		return 0;
	uint64_t f = ph_thread_frame(h, h->threads[i].tstate);
	size_t n = 0;
	/* bounded: a corrupt chain can loop */
	for (int k = 0; f && k < 100000; k++) {
		ph_frame fr;
		if (ph_frame_at(h, f, &fr) == 0 && !fr.entry) {
			if (n < cap)
				out[n] = fr;
			n++;
		}
		int64_t back = h->tr->frames == PH_FRAMES_OBJECTS ? h->off.frame_back
								 : h->off.iframe_previous;
		uint64_t next = 0;
		if (!rdf(h, f, back, &next) || next == f)
			break;
		f = next;
	}
	return n;
}

void ph_frame_locals(ph_heap *h, const ph_frame *f, ph_local_fn fn, void *payload)
{
	uint64_t names[512], slots, n = 0;
	char name[128];
	if (!f->code || f->entry)
		return;
	size_t nn = local_names(h, f->code, names, 512);
	if (h->tr->frames == PH_FRAMES_OBJECTS) {
		slots = f->addr + (uint64_t)h->off.frame_localsplus;
		n = nn;
	} else {
		int32_t n32 = 0;
		slots = f->addr + (uint64_t)h->off.iframe_localsplus;
		if (rd32(h, f->code + (uint64_t)h->off.co_nlocalsplus, (uint32_t *)&n32) && n32 > 0)
			n = (uint64_t)n32;
	}
	if (n > 512)
		n = 512;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = 0;
		if (!rd64(h, slots + 8 * i, &v) || !(v = ph_stackref(h, v)))
			continue;
		if (i >= nn || !ph_str_read(h, names[i], name, sizeof name))
			snprintf(name, sizeof name, "?");
		fn(name, v, payload);
	}
}
