/*
 * heap.c - the object table and the scan that fills it.
 *
 * Objects get dense uint32 ids in the order they are found; their address,
 * type and size live in flat arrays, and an address -> id hash answers
 * "seen already?".  The scan is: used pymalloc blocks, then the GC lists,
 * then a pass over the references of everything found so far, which brings
 * in what lives outside the arenas and off the GC lists (str, bytes and int
 * over 512 bytes, untracked big tuples, static objects).  That pass runs
 * over a worklist that grows as it goes, so it needs no recursion.
 */
#include "phInt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow_objects(ph_heap *h)
{
	size_t cap = h->obj_cap ? 2 * h->obj_cap : 1 << 16;
	if (cap > UINT32_MAX - 2)
		return -1;
	uint64_t *a = realloc(h->obj_addr, cap * sizeof *a);
	if (!a)
		return -1;
	h->obj_addr = a;
	uint32_t *t = realloc(h->obj_type, cap * sizeof *t);
	if (!t)
		return -1;
	h->obj_type = t;
	uint8_t *f = realloc(h->obj_flags, cap * sizeof *f);
	if (!f)
		return -1;
	h->obj_flags = f;
	h->obj_cap = cap;
	return 0;
}

uint32_t ph_add_object(ph_heap *h, uint64_t addr, uint32_t type, unsigned flags)
{
	uint32_t id = ph_map_get(&h->obj_map, addr);
	if (id != PH_MAP_NONE) {
		h->obj_flags[id] |= (uint8_t)flags;
		return id;
	}
	if (h->nobj == h->obj_cap && grow_objects(h) < 0)
		return PH_MAP_NONE;
	id = (uint32_t)h->nobj;
	if (ph_map_put(&h->obj_map, addr, id) != id)
		return PH_MAP_NONE;
	h->obj_addr[id] = addr;
	h->obj_type[id] = type;
	h->obj_flags[id] = (uint8_t)flags;
	h->nobj++;
	return id;
}

static void discover_cb(ph_heap *h, uint64_t target, void *payload)
{
	(void)payload;
	/* Most references point into the arenas, whose objects the pool walk
	 * already found: a binary search over a few hundred arenas is cheaper
	 * than a cache miss in the object hash. */
	if (!target || (target & 7) || ph_in_arena(h, target) ||
	    ph_map_get(&h->obj_map, target) != PH_MAP_NONE)
		return;
	uint32_t ti = ph_object_check(h, target, 0);
	if (ti != TYPE_INVALID)
		ph_add_object(h, target, ti, PH_OBJ_REF);
}

static uint64_t round8(uint64_t n) { return (n + 7) & ~7ull; }

/* 3.11+ keep the one-character bytes (256) and str (128 ASCII, 128 Latin-1)
 * caches as static objects inside _PyRuntime; before 3.11 they are pointers
 * to heap objects, which the arena walk finds.  The runtime holds them even
 * when no object refers to them, so they are roots.  Each element is the
 * object plus its 2-byte payload, padded: struct { PyBytesObject ob; char
 * eos; }, struct { PyASCIIObject _ascii; uint8_t _data[2]; }, struct {
 * PyCompactUnicodeObject _latin1; uint8_t _data[2]; }. */
static void static_caches(ph_heap *h)
{
	if (!h->runtime)
		return;
	const struct { int64_t off, stride; uint64_t n; } arr[] = {
		{h->off.rt_bytes_chars,
		 h->off.bytes_sval >= 0 ? (int64_t)round8(round8((uint64_t)h->off.bytes_sval + 1) + 1) : -1, 256},
		{h->off.rt_str_ascii,
		 h->off.ascii_size > 0 ? (int64_t)round8((uint64_t)h->off.ascii_size + 2) : -1, 128},
		{h->off.rt_str_latin1,
		 h->off.compact_size > 0 ? (int64_t)round8((uint64_t)h->off.compact_size + 2) : -1, 128},
	};
	for (size_t a = 0; a < sizeof arr / sizeof arr[0]; a++) {
		if (arr[a].off < 0 || arr[a].stride <= 0)
			continue;
		uint64_t base = h->runtime + (uint64_t)arr[a].off;
		for (uint64_t i = 0; i < arr[a].n; i++)
			discover_cb(h, base + i * (uint64_t)arr[a].stride, NULL);
	}
}

int ph_scan(ph_heap *h, ph_progress_fn progress, void *payload, char *err, size_t errlen)
{
	ph_walk_threads(h);
	ph_walk_arenas(h, progress, payload);
	if (ph_walk_gc(h) < 0)
		ph_warn(h, W_OFFSETS, "GC lists not walked: no offsets for the GC state");

	/* roots the interpreter holds directly, in case its lists were lost */
	for (size_t i = 0; i < h->ninterps; i++) {
		const int64_t roots[] = {h->off.is_modules, h->off.is_sysdict, h->off.is_builtins};
		for (size_t r = 0; r < 3; r++) {
			uint64_t v;
			if (rdf(h, h->interps[i], roots[r], &v) && v)
				discover_cb(h, v, NULL);
		}
	}
	static_caches(h);
	for (size_t id = 0; id < h->nobj; id++) {
		uint32_t ti = h->obj_type[id];
		ph_object_referents(h, h->obj_addr[id], &h->types[ti], discover_cb, NULL);
		if (progress && (id & 0xfffff) == 0)
			progress("references", id, h->nobj, payload);
	}

	h->obj_size = malloc((h->nobj ? h->nobj : 1) * sizeof *h->obj_size);
	if (!h->obj_size) {
		snprintf(err, errlen, "%s: out of memory", core_path(h->core));
		return -1;
	}
	h->total_size = 0;
	for (size_t id = 0; id < h->nobj; id++) {
		h->obj_size[id] = ph_object_sizeof(h, h->obj_addr[id], &h->types[h->obj_type[id]]);
		h->total_size += h->obj_size[id];
	}
	if (h->nobj == 0) {
		snprintf(err, errlen, "%s: no Python objects found (is the heap in the core?)",
			 core_path(h->core));
		return -1;
	}
	ph_build_roots(h);
	return 0;
}

size_t ph_object_count(const ph_heap *h) { return h->nobj; }
uint64_t ph_object_addr(const ph_heap *h, ph_id id) { return h->obj_addr[id]; }
uint32_t ph_object_type(const ph_heap *h, ph_id id) { return h->obj_type[id]; }
uint64_t ph_object_size(const ph_heap *h, ph_id id) { return h->obj_size ? h->obj_size[id] : 0; }
unsigned ph_object_flags(const ph_heap *h, ph_id id) { return h->obj_flags[id]; }
uint64_t ph_gc_object_count(const ph_heap *h) { return h->gc_objects; }
uint64_t ph_total_size(const ph_heap *h) { return h->total_size; }
