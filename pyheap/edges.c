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
	} else if (strcmp(v->kind, "thread") == 0) {
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
