/*
 * edges.c - the reference graph as pyheap gives it: nodes (objects, then
 * virtual nodes), their edges, and questions about single objects.
 */
#include "walk.h"

#include <stdio.h>
#include <string.h>

/* ---- edges as the graph sees them ---- */

struct emit_ctx { ph_edge_fn fn; void *payload; uint32_t src; uint64_t n; uint8_t extra; };

static void to_node(ph_heap *h, uint64_t target, uint8_t kind, uint8_t flags, uint32_t label,
		    void *payload)
{
	struct emit_ctx *e = payload;
	uint32_t dst = ph_id_of(h, target);
	if (dst == PH_NONE)
		return;
	e->fn(e->src, dst, kind, flags | e->extra, label, e->payload);
	e->n++;
}

/* The type attribute cache owns a reference to each entry's name (the
 * value is borrowed): the interpreter's (3.10+), or the static
 * method_cache of 3.8 and 3.9 (in .symtab only), given to the main one. */
static void type_cache_edges(ph_heap *h, ph_walk *w, const ph_vnode *v)
{
	uint64_t base = 0, n = 0, esz = h->off.tce_size > 0 ? (uint64_t)h->off.tce_size : 0;
	if (!esz || h->off.tce_name < 0)
		return;
	if (h->off.is_type_cache >= 0 && h->off.type_cache_size > 0) {
		base = v->addr + (uint64_t)h->off.is_type_cache;
		n = (uint64_t)h->off.type_cache_size / esz;
	} else if (v->aux == 0 && h->pymod) {
		uint64_t size = 0;
		if (core_module_symbol(h->pymod, "method_cache", &base, &size) == 0)
			n = size / esz;
	}
	if (n > (1u << 16))
		return;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t name = 0;
		if (rd64(h, base + i * esz + (uint64_t)h->off.tce_name, &name) && name &&
		    name != h->none_addr)
			ph_emit(h, w, name, PH_E_FIELD, 0, F_TYPE_CACHE);
	}
}

/* ---- what C holds: statics, and the interpreter's and threads' own
 * fields, read conservatively ---- */

static int excl_cmp(const void *a, const void *b)
{
	const struct ph_excl *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool excl_add(struct ph_excl **arr, size_t *n, size_t *cap, uint64_t lo, uint64_t hi)
{
	struct ph_excl *a = ph_grow(*arr, *n, cap, sizeof *a, 64);
	if (!a)
		return false;
	*arr = a;
	a[(*n)++] = (struct ph_excl){lo, hi};
	return true;
}

/* Sorts and merges intervals in place; returns the new count. */
static size_t excl_merge(struct ph_excl *a, size_t n)
{
	if (!n)
		return 0;
	qsort(a, n, sizeof *a, excl_cmp);
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {
		if (a[i].lo <= a[k].hi) {
			if (a[i].hi > a[k].hi)
				a[k].hi = a[i].hi;
		} else {
			a[++k] = a[i];
		}
	}
	return k + 1;
}

static bool in_sranges(const ph_heap *h, uint64_t a)
{
	for (size_t i = 0; i < h->nsranges; i++)
		if (a >= h->sranges[i].lo && a < h->sranges[i].hi)
			return true;
	return false;
}

struct excl_syms { ph_heap *h; size_t *cap; };

/* Statics that are no references of their own: free lists keep pointers
 * to objects they once held (a freed object is put there, and when it is
 * handed out again the stale slot stays; 3.8-3.10 keep them in C
 * statics), and the statics read precisely elsewhere (3.8-3.11's interned
 * dict and 3.8/3.9's type cache) would count twice. */
static void excluded_sym(const char *name, uint64_t addr, uint64_t size, void *payload)
{
	struct excl_syms *x = payload;
	size_t n = strcspn(name, ".");       /* "interned.lto_priv.0" */
	if (size && size < (1u << 20) &&
	    (strstr(name, "free_list") || strstr(name, "freelist") || strstr(name, "numfree") ||
	     (n == 8 && strncmp(name, "interned", 8) == 0) ||
	     (n == 12 && strncmp(name, "method_cache", 12) == 0)))
		excl_add(&x->h->sexcl, &x->h->nsexcl, x->cap, addr, addr + size);
}

/* What the statics scan leaves out: the objects that live in the modules'
 * data (static types, singletons, deep-frozen code, the runtime's static
 * strings and ints) and the interpreter and thread states kept there (3.12+
 * keeps the main interpreter inside _PyRuntime), walked precisely; and the
 * free lists, which hold no references. */
static void build_statics_excl(ph_heap *h)
{
	size_t cap = 0;
	struct excl_syms x = {h, &cap};
	for (size_t i = 0; i < h->nvnodes; i++)
		if (strcmp(h->vnodes[i].kind, "statics") == 0)
			core_module_symbol_each(core_module_at(h->core, h->vnodes[i].aux),
						excluded_sym, &x);
	h->sexcl_built = true;
	if (!h->nsranges)
		return;
	for (size_t id = 0; id < h->objs.n; id++) {
		if (h->objs.flags[id] & PH_OBJ_ARENA)
			continue;
		uint64_t a = h->objs.addr[id], size = ph_object_size(h, (ph_id)id);
		if (!in_sranges(h, a))
			continue;
		/* (a static object has no GC header before it: the word there
		 * may be the end of another static, such as an argument
		 * parser's keyword tuple) */
		if (size < 16)
			size = 16;
		if (!excl_add(&h->sexcl, &h->nsexcl, &cap, a, a + size))
			return;
	}
	for (size_t i = 0; i < h->ninterps && h->off.is_size > 0; i++)
		excl_add(&h->sexcl, &h->nsexcl, &cap, h->interps[i],
			 h->interps[i] + (uint64_t)h->off.is_size);
	for (size_t i = 0; i < h->nthreads && h->off.ts_size > 0; i++)
		excl_add(&h->sexcl, &h->nsexcl, &cap, h->threads[i].tstate,
			 h->threads[i].tstate + (uint64_t)h->off.ts_size);
	h->nsexcl = excl_merge(h->sexcl, h->nsexcl);
}

/* Every aligned word of [lo, hi) outside the intervals ex (sorted) that
 * points at an object: a guessed reference, labelled by its offset from
 * base. */
static void scan_words(ph_heap *h, ph_walk *w, uint64_t lo, uint64_t hi, uint64_t base,
		       const struct ph_excl *ex, size_t nex)
{
	size_t k = 0;
	uint64_t buf[512];
	lo = (lo + 7) & ~7ull;
	while (lo + 8 <= hi) {
		while (k < nex && ex[k].hi <= lo)
			k++;
		if (k < nex && ex[k].lo <= lo) {
			lo = (ex[k].hi + 7) & ~7ull;
			continue;
		}
		uint64_t end = k < nex && ex[k].lo < hi ? ex[k].lo : hi;
		uint64_t n = (end - lo) / 8;
		if (n > 512)
			n = 512;
		if (!n) {
			lo = end;
			continue;
		}
		size_t got = core_read(h->core, lo, buf, (size_t)n * 8) / 8;
		for (size_t i = 0; i < got; i++)
			if (buf[i] && !(buf[i] & 7) && buf[i] - (lo + 8 * i) != 0)
				ph_emit(h, w, buf[i], PH_E_CONSERVATIVE, PH_EF_CONSERVATIVE,
					(uint32_t)(lo + 8 * i - base));
		lo += (got ? got : 1) * 8;
	}
}

/* The references a state owns, as offsets.h lists them: its fields named
 * PREFIX "own_" (a reference each) and PREFIX "ownall_" (a struct of
 * nothing but references, whose size is the field named after it plus
 * "_size"), read at base.  Labelled by the field's index in the
 * catalogue (repr.c names it). */
static void owned_fields(ph_heap *h, ph_walk *w, uint64_t base, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < ph_offset_desc_count; i++) {
		const ph_offset_desc *d = &ph_offset_descs[i];
		int64_t off = ph_offsets_get(&h->off, d->index);
		if (off < 0 || strncmp(d->name, prefix, pl) != 0)
			continue;
		const char *rest = d->name + pl;
		if (strncmp(rest, "own_", 4) == 0) {
			uint64_t v;
			if (rd64(h, base + (uint64_t)off, &v) && v)
				ph_emit(h, w, v, PH_E_STATE, 0, (uint32_t)i);
		} else if (strncmp(rest, "ownall_", 7) == 0) {
			char szname[64];
			int64_t size = -1;
			snprintf(szname, sizeof szname, "%s_size", rest + 7);
			for (size_t k = 0; k < ph_offset_desc_count; k++)
				if (strcmp(ph_offset_descs[k].name, szname) == 0)
					size = ph_offsets_get(&h->off, ph_offset_descs[k].index);
			uint64_t buf[512];
			if (size <= 0 || size > (int64_t)sizeof buf)
				continue;
			size_t got = core_read(h->core, base + (uint64_t)off, buf, (size_t)size) / 8;
			for (size_t k = 0; k < got; k++)
				if (buf[k] && !(buf[k] & 7))
					ph_emit(h, w, buf[k], PH_E_STATE, 0, (uint32_t)i);
		}
	}
}

static void vnode_edges(ph_heap *h, uint32_t node, struct emit_ctx *e)
{
	const ph_vnode *v = &h->vnodes[node - h->objs.n];
	ph_walk w = {to_node, e, 0};
	if (strcmp(v->kind, "interpreter") == 0) {
		ph_field(h, &w, v->addr, h->off.is_sysdict, F_SYS);
		ph_field(h, &w, v->addr, h->off.is_builtins, F_BUILTINS);
		ph_field(h, &w, v->addr, h->off.is_modules, F_SYS_MODULES);
		if (v->aux == 0 && h->interned)
			/* the runtime owns the dict; the dict does not own its strings */
			ph_emit(h, &w, h->interned, PH_E_FIELD, 0, F_INTERNED);
		type_cache_edges(h, &w, v);
		owned_fields(h, &w, v->addr, "is_");
		if (h->tr->gc == PH_GC_INTERP && h->off.is_gc >= 0)
			owned_fields(h, &w, v->addr + (uint64_t)h->off.is_gc, "gc_");
		else if (v->aux == 0 && h->off.rt_gc >= 0)
			owned_fields(h, &w, h->runtime + (uint64_t)h->off.rt_gc, "gc_");
	} else if (strcmp(v->kind, "statics") == 0) {
		if (!h->sexcl_built)
			build_statics_excl(h);
		for (size_t i = 0; i < h->nsranges; i++)
			if (h->sranges[i].node == node)
				scan_words(h, &w, h->sranges[i].lo, h->sranges[i].hi, v->addr,
					   h->sexcl, h->nsexcl);
	} else if (strcmp(v->kind, "thread") == 0) {
		owned_fields(h, &w, v->addr, "ts_");
		if (h->tr->frames == PH_FRAMES_OBJECTS) {
			uint64_t f = ph_thread_frame(h, v->addr);
			if (f)
				ph_emit(h, &w, f, PH_E_FRAME, 0, 0);
			return;
		}
		/* its frames are the virtual nodes that follow it */
		uint32_t k = 0;
		for (uint32_t n = node + 1; n < h->objs.n + h->nvnodes; n++) {
			const ph_vnode *f = &h->vnodes[n - h->objs.n];
			if (strcmp(f->kind, "frame") != 0 || f->aux != node)
				break;
			e->fn(node, n, PH_E_FRAME, 0, k++, e->payload);
			e->n++;
		}
	} else {
		/* a frame: walk it unless an object owns it (generator, frame
		 * object), in which case point at that object */
		uint8_t owner = 0;
		core_read(h->core, v->addr + (uint64_t)h->off.iframe_owner, &owner, 1);
		if (owner == 1)
			ph_emit(h, &w, v->addr - (uint64_t)h->off.gen_iframe, PH_E_FIELD, 0, F_GI_FRAME);
		else if (owner == 2)
			ph_emit(h, &w, v->addr - (uint64_t)h->off.frame_data, PH_E_FIELD, 0, F_FRAME_OBJ);
		else if (owner == 0 || h->tr->frame_owner_cstack < 0)
			ph_walk_iframe(h, &w, v->addr);
		/* else an entry frame on the C stack (3.12+: owner 3); it borrows
		 * its code and leaves its function slot uninitialised */
	}
}

uint64_t ph_node_edges(ph_heap *h, uint32_t node, ph_edge_fn fn, void *payload)
{
	struct emit_ctx e = {fn, payload, node, 0, 0};
	/* 3.11's deep-frozen statics point at each other without counting */
	if (node < h->objs.n && h->tr->frozen_refs_uncounted && ph_object_immortal(h, node))
		e.extra = PH_EF_UNCOUNTED;
	if (node < h->objs.n)
		ph_object_edges_raw(h, h->objs.addr[node], h->objs.type[node], to_node, &e);
	else if (node < h->objs.n + h->nvnodes)
		vnode_edges(h, node, &e);
	return e.n;
}

uint64_t ph_edges(ph_heap *h, ph_edge_fn fn, void *payload)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < h->objs.n + h->nvnodes; i++)
		n += ph_node_edges(h, i, fn, payload);
	return n;
}

size_t ph_node_count(ph_heap *h)
{
	return h->objs.n + h->nvnodes;
}

uint64_t ph_edge_estimate(ph_heap *h)
{
	return h->scan_refs + 1024 * (h->nvnodes + 64);
}

size_t ph_root_count(ph_heap *h)
{
	return h->nroots;
}

const ph_root *ph_root_at(ph_heap *h, size_t i)
{
	return &h->roots[i];
}

const char *ph_node_kind(ph_heap *h, uint32_t node)
{
	return node < h->objs.n ? "object" : node < h->objs.n + h->nvnodes ?
		h->vnodes[node - h->objs.n].kind : "?";
}

const char *ph_node_name(ph_heap *h, uint32_t node, char *buf, size_t cap)
{
	if (node < h->objs.n)
		snprintf(buf, cap, "%s", h->types[h->objs.type[node]].name);
	else if (node < h->objs.n + h->nvnodes)
		snprintf(buf, cap, "%s", h->vnodes[node - h->objs.n].name);
	else
		snprintf(buf, cap, "?");
	return buf;
}

uint32_t ph_object_find(const ph_heap *h, uint64_t addr)
{
	uint32_t id = ph_object_id(h, addr);
	return id == PH_NONE ? PH_NONE : id;
}

int64_t ph_object_refcnt(ph_heap *h, ph_id id)
{
	uint64_t v = 0;
	rd64(h, h->objs.addr[id], &v);
	if (h->tr->refcnt == PH_REFCNT_LOW32)
		return (int64_t)(uint32_t)v;
	return (int64_t)v;
}

/* Whether the object is immortal, from its refcount (the scan sets
 * PH_OBJ_IMMORTAL with this while the object is in the cache). */
bool ph_refcnt_immortal(const ph_heap *h, uint64_t refcnt, unsigned flags)
{
	switch (h->tr->immortal) {
	case PH_IMMORTAL_DEEP_FROZEN:
		/* deep-frozen statics start at 999999999 (_PyObject_IMMORTAL_INIT) */
		return refcnt >= 999999999ull && (flags & PH_OBJ_REF);
	case PH_IMMORTAL_REFCNT_32:
		return (int32_t)(uint32_t)refcnt < 0;
	case PH_IMMORTAL_NONE:
		break;
	}
	return false;
}

int ph_object_immortal(ph_heap *h, ph_id id)
{
	return (h->objs.flags[id] & PH_OBJ_IMMORTAL) != 0;
}

int ph_object_static_type(ph_heap *h, ph_id id)
{
	uint64_t f = 0;
	if (!h->types || h->types[h->objs.type[id]].kind != K_TYPE)
		return 0;
	return rdf(h, h->objs.addr[id], h->off.tp_flags, &f) && !(f & TPF_HEAPTYPE);
}

int ph_lru_unbounded(ph_heap *h, ph_id id, uint32_t *cache)
{
	uint64_t a = h->objs.addr[id], max = 0, c = 0;
	*cache = PH_NONE;
	if (h->types[h->objs.type[id]].kind != K_LRU)
		return -1;
	if (rdf(h, a, h->off.lru_cache, &c) && c)
		*cache = ph_object_find(h, c);
	/* maxsize=None is stored as -1 */
	return rdf(h, a, h->off.lru_maxsize, &max) && (int64_t)max < 0;
}
