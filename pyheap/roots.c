/*
 * roots.c - what holds references without being an object (virtual nodes:
 * each interpreter, each thread, and on 3.11+ each interpreter frame, whose
 * locals live on the thread's stack), and the roots a chain starts from
 * (modules, threads, interpreters).  Built once, by ph_build_roots, after a
 * full scan.
 */
#include "walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAX_FRAMES 100000       /* frames in one thread's chain */

/* ---- virtual nodes and roots ---- */

static ph_vnode *add_vnode(ph_heap *h, const char *kind, uint64_t addr, uint64_t aux)
{
	ph_vnode *v = ph_grow(h->vnodes, h->nvnodes, &h->vnodes_cap, sizeof *v, 16);
	if (!v)
		return NULL;
	h->vnodes = v;
	ph_vnode *n = &h->vnodes[h->nvnodes++];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->addr = addr;
	n->aux = aux;
	return n;
}

static ph_root *add_root(ph_heap *h, uint32_t node, const char *kind)
{
	ph_root *n = ph_grow(h->roots, h->nroots, &h->roots_cap, sizeof *n, 64);
	if (!n)
		return NULL;
	h->roots = n;
	ph_root *r = &h->roots[h->nroots++];
	memset(r, 0, sizeof *r);
	r->node = node;
	r->kind = kind;
	return r;
}

struct mod_walk { ph_heap *h; };

static bool module_root_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	(void)payload;
	uint32_t id = ph_id_of(h, v);
	if (id == PH_NONE || h->types[h->objs.type[id]].kind != K_MODULE)
		return true;
	ph_root *r = add_root(h, id, "module");
	if (r && !ph_str_read(h, k, r->name, sizeof r->name))
		snprintf(r->name, sizeof r->name, "?");
	return true;
}

/* 3.8-3.11 without symbols: the interned dict is the one whose every entry
 * maps an interned str to itself; it is the largest such dict by far. */
struct interned_check { bool ok; uint64_t n; };

static bool interned_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct interned_check *c = payload;
	uint32_t state = 0;
	if (k != v || !rd32(h, k + (uint64_t)h->off.ascii_state, &state) || !(state & 3)) {
		c->ok = false;
		return false;
	}
	return ++c->n < 16;   /* a sample is enough */
}

static void find_interned(ph_heap *h)
{
	uint64_t best = 0, best_n = 0;
	if (h->interned)
		return;
	if (h->tr->interned == PH_INTERNED_STATE) {
		uint64_t d = 0;
		if (h->ninterps && rdf(h, h->interps[0], h->off.is_interned, &d) && d)
			h->interned = d;
		else if (rdf(h, h->runtime, h->off.rt_interned, &d) && d)
			h->interned = d;
		return;
	}
	for (size_t id = 0; id < h->objs.n; id++) {
		const ph_type *t = &h->types[h->objs.type[id]];
		if (t->addr != h->kind_types[K_DICT] || (h->objs.flags[id] & PH_OBJ_GC))
			continue;
		uint64_t used = 0;
		if (!rdf(h, h->objs.addr[id], h->off.dict_ma_used, &used) || used < 1000 || used <= best_n)
			continue;
		struct interned_check c = {true, 0};
		ph_dict_foreach(h, h->objs.addr[id], interned_cb, &c);
		if (c.ok && c.n > 0) {
			best = h->objs.addr[id];
			best_n = used;
		}
	}
	h->interned = best;
}

/* Whether module m is Python's: the interpreter's binary, libpython, or an
 * extension module (its C statics may hold objects). */
static bool python_module(ph_heap *h, core_module_t *m)
{
	if (m == h->pymod || m == core_module_exe(h->core))
		return true;
	const char *n = core_module_name(m), *b = strrchr(n, '/');
	b = b ? b + 1 : n;
	return strstr(b, ".cpython-") || strstr(b, "python3") || strstr(b, ".abi3.so");
}

/* A statics node for module i, with its writable ranges, and a root: a C
 * static holding an object keeps it alive. */
static void add_statics(ph_heap *h, size_t i)
{
	core_module_t *m = core_module_at(h->core, i);
	uint64_t lo, size;
	if (!python_module(h, m) || !core_module_data_count(m))
		return;
	ph_vnode *n = add_vnode(h, "statics", core_module_base(m), i);
	if (!n)
		return;
	uint32_t node = (uint32_t)(h->objs.n + h->nvnodes - 1);
	const char *name = core_module_name(m), *b = strrchr(name, '/');
	snprintf(n->name, sizeof n->name, "C statics of %.60s", b ? b + 1 : name);
	ph_root *r = add_root(h, node, "static");
	if (r)
		snprintf(r->name, sizeof r->name, "%.80s", b ? b + 1 : name);
	for (size_t k = 0; core_module_data_at(m, k, &lo, &size) == 0; k++) {
		if (!size || size > (256u << 20) || lo + size < lo)
			continue;
		struct ph_srange *s = ph_grow(h->sranges, h->nsranges, &h->sranges_cap,
					      sizeof *s, 16);
		if (!s)
			return;
		h->sranges = s;
		h->sranges[h->nsranges++] = (struct ph_srange){lo, lo + size, node};
	}
}

static void build_roots(ph_heap *h)
{
	find_interned(h);
	for (size_t i = 0; i < h->ninterps; i++) {
		ph_vnode *n = add_vnode(h, "interpreter", h->interps[i], i);
		if (!n)
			return;
		snprintf(n->name, sizeof n->name, "interpreter %zu", i);
		ph_root *r = add_root(h, (uint32_t)(h->objs.n + h->nvnodes - 1), "interpreter");
		if (r)
			snprintf(r->name, sizeof r->name, "interpreter %zu", i);
	}
	for (size_t i = 0; i < h->nthreads; i++) {
		uint64_t ts = h->threads[i].tstate;
		ph_vnode *n = add_vnode(h, "thread", ts, i);
		if (!n)
			return;
		uint32_t tnode = (uint32_t)(h->objs.n + h->nvnodes - 1);
		uint64_t tid = h->threads[i].native_id;
		snprintf(n->name, sizeof n->name, "thread %" PRIu64, tid ? tid : h->threads[i].thread_id);
		ph_root *r = add_root(h, tnode, "frame");
		if (r)
			snprintf(r->name, sizeof r->name, "%s", n->name);
		if (h->tr->frames == PH_FRAMES_OBJECTS)
			continue;
		/* interpreter frames: one node each, on this thread's stack */
		uint64_t f = ph_thread_frame(h, ts);
		for (int k = 0; f && k < MAX_FRAMES; k++) {
			uint8_t owner = 0;
			core_read(h->core, f + (uint64_t)h->off.iframe_owner, &owner, 1);
			ph_vnode *fn = add_vnode(h, "frame", f, tnode);
			if (!fn)
				return;
			/* "frame check (lint.py:712)": its function and where it is */
			ph_frame fr;
			if (ph_frame_at(h, f, &fr) == 0 && !fr.entry) {
				const char *b = strrchr(fr.file, '/');
				snprintf(fn->name, sizeof fn->name, "frame %.30s (%.30s:%d)", fr.name,
					 b ? b + 1 : fr.file, fr.line);
			} else {
				snprintf(fn->name, sizeof fn->name, "frame (entry)");
			}
			if (!rdf(h, f, h->off.iframe_previous, &f))
				break;
		}
	}
	for (size_t i = 0; i < core_module_count(h->core); i++)
		add_statics(h, i);
	/* (C stacks are not read: words past the live frames are stale, and
	 * one stale pointer would hide an orphan or keep a whole garbage cycle
	 * "reachable") */
	for (size_t i = 0; i < h->ninterps; i++) {
		uint64_t mods = 0;
		if (rdf(h, h->interps[i], h->off.is_modules, &mods) && mods)
			ph_dict_foreach(h, mods, module_root_cb, NULL);
	}
}

int ph_build_roots(ph_heap *h)
{
	if (h->roots_built)
		return 0;
	if (!h->scanned || h->opts.totals_only)
		return -1;
	h->roots_built = true;
	build_roots(h);
	return 0;
}
