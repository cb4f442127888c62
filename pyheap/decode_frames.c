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

