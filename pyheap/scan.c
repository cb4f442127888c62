/*
 * scan.c - the scan: which memory holds live objects.
 *
 * The order is: used pymalloc blocks (obmalloc.c), then the GC lists
 * (gc.c), then the references of everything found, which bring in what
 * lives outside the arenas and off the GC lists (str, bytes and int over
 * 512 bytes, untracked big tuples, static objects).  Each object has its
 * references followed and its size taken once, by ph_object_visit: the pool
 * walk visits each block's object as it finds it, while the block is in the
 * cache, and a loop over the ids found later (a worklist that grows as it
 * goes, so no recursion) does the rest.  Found objects go to the object
 * table (objtable.c); what only the scan needs (h->scan) is released when
 * it ends.
 */
#include "walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void discover(ph_heap *h, uint64_t target)
{
	/* Most references point into the arenas, whose objects the pool walk
	 * finds: a binary search over a few hundred arenas is cheaper than a
	 * cache miss in the object hash. */
	if (!target || (target & 7))
		return;
	if (h->ranges_sorted) {
		/* an object's references often lead into the arena of the last
		 * one: two compares instead of a hash probe */
		if (target - h->scan.near_lo < h->scan.near_len)
			return;
		long r = ph_arena_range(h, target);
		if (r >= 0) {
			h->scan.near_lo = h->arena_lo[r];
			h->scan.near_len = h->arena_hi[r] - h->arena_lo[r];
			return;
		}
	}
	if (h->scan.deferring) {
		/* During the pool walk an object cannot be added out of turn
		 * (the blocks are numbered by pool): keep the address for later.
		 * The same few targets (classes, None, small ints) come up again
		 * and again; a small cache keeps them out of the list. */
		size_t slot = (size_t)(target >> 3) & 255;
		if (h->scan.pending_seen[slot] == target)
			return;
		h->scan.pending_seen[slot] = target;
		uint64_t *n = ph_grow(h->scan.pending, h->scan.npending, &h->scan.pending_cap, sizeof *n, 4096);
		if (!n)
			return;
		h->scan.pending = n;
		h->scan.pending[h->scan.npending++] = target;
		return;
	}
	if (ph_map_get(&h->objs.map, target) != PH_NONE)
		return;
	uint32_t ti = ph_object_check(h, target, 0);
	if (ti != PH_NONE)
		ph_add_object(h, target, ti, PH_OBJ_REF);
}

static void discover_cb(ph_heap *h, uint64_t target, uint8_t kind, uint8_t flags,
			uint32_t label, void *payload)
{
	(void)kind; (void)flags; (void)label; (void)payload;
	discover(h, target);
}

/* Follows an object's references and takes its size into the totals. */
static uint64_t visit(ph_heap *h, uint64_t addr, uint32_t ti)
{
	h->scan_refs += ph_object_edges_raw(h, addr, ti, discover_cb, NULL);
	uint64_t size = ph_object_sizeof(h, addr, &h->types[ti]);
	h->total_size += size;
	h->types[ti].count++;
	h->types[ti].bytes += size;
	if (h->opts.buffers)
		ph_buffers_count(h, addr, ti, size);
	if (h->opts.visit)
		h->opts.visit(h, addr, ti, size, h->opts.visit_payload);
	return size;
}

void ph_lean_visit(ph_heap *h, uint64_t addr, uint32_t ti)
{
	visit(h, addr, ti);
	h->objs.nlean++;
}

void ph_object_visit(ph_heap *h, uint32_t id)
{
	if (id != h->scan.walked)
		return;                  /* seen before, or left for ph_scan's loop */
	uint32_t ti = h->objs.type[id];
	uint64_t addr = h->objs.addr[id], refcnt = 0;
	if (rd64(h, addr, &refcnt) && ph_refcnt_immortal(h, refcnt, h->objs.flags[id]))
		h->objs.flags[id] |= PH_OBJ_IMMORTAL;
	ph_object_set_size(h, id, visit(h, addr, ti));
	h->scan.walked++;
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
			discover(h, base + i * (uint64_t)arr[a].stride);
	}
}

int ph_scan(ph_heap *h, ph_progress_fn progress, void *payload, char *err, size_t errlen)
{
	/* Objects are numbered as they are found, and each has its references
	 * followed once (ph_object_visit): the pool walk visits its objects as
	 * it adds them, everything found later is visited by the loop below. */
	h->total_size = 0;
	h->scan.walked = 0;
	h->scan_refs = 0;
	ph_gc_chase_start(h);
	h->scan.deferring = true;
	ph_walk_arenas(h, progress, payload);
	h->scan.deferring = false;
	if (ph_walk_gc(h) < 0)
		ph_warn(h, W_OFFSETS, "GC lists not walked: no offsets for the GC state");
	for (size_t i = 0; i < h->scan.npending; i++)
		discover(h, h->scan.pending[i]);
	free(h->scan.pending);
	h->scan.pending = NULL;
	h->scan.npending = h->scan.pending_cap = 0;

	/* roots the interpreter holds directly, in case its lists were lost */
	for (size_t i = 0; i < h->ninterps; i++) {
		const int64_t roots[] = {h->off.is_modules, h->off.is_sysdict, h->off.is_builtins};
		for (size_t r = 0; r < 3; r++) {
			uint64_t v;
			if (rdf(h, h->interps[i], roots[r], &v) && v)
				discover(h, v);
		}
	}
	static_caches(h);
	/* frame objects (3.8-3.10): a thread's executing frames are objects off
	 * the GC lists, and big ones come from malloc: only the thread state
	 * points at the innermost one (f_back leads on to the rest) */
	for (size_t i = 0; h->tr->frames == PH_FRAMES_OBJECTS && i < h->nthreads; i++) {
		uint64_t f = 0;
		if (rdf(h, h->threads[i].tstate, h->off.ts_frame, &f) && f)
			discover(h, f);
	}
	/* interpreter frames (3.11+): what only their locals and stacks hold
	 * (a string passed down from call to call) is in no object, and a big
	 * one comes from malloc */
	for (size_t i = 0; h->tr->frames != PH_FRAMES_OBJECTS && i < h->nthreads; i++) {
		ph_walk w = {discover_cb, NULL, 0};
		uint64_t f = ph_thread_frame(h, h->threads[i].tstate), next;
		for (int k = 0; f && k < 100000; k++, f = next) {   /* a corrupt chain can loop */
			ph_walk_iframe(h, &w, f);
			if (!rdf(h, f, h->off.iframe_previous, &next) || next == f)
				break;
		}
	}
	/* the rest, over a worklist that grows as it goes */
	while (h->scan.walked < h->objs.n) {
		size_t id = h->scan.walked;
		ph_object_visit(h, (uint32_t)id);
		if (progress && (id & 0xfffff) == 0)
			progress("references", id, h->objs.n, payload);
	}
	if (!h->objs.size && !(h->objs.size = malloc(sizeof *h->objs.size))) {
		snprintf(err, errlen, "%s: out of memory", core_path(h->core));
		return -1;
	}
	if (h->objs.n + h->objs.nlean == 0) {
		snprintf(err, errlen, "%s: no Python objects found (is the heap in the core?)",
			 core_path(h->core));
		return -1;
	}
	h->scanned = true;
	/* what only the scan needed */
	ph_gc_chase_free(h);
	free(h->scan.pending);
	memset(&h->scan, 0, sizeof h->scan);
	return 0;
}

