/*
 * gc.c - the cyclic collector's lists and the interpreter's threads.
 *
 * Generation lists are doubly linked through PyGC_Head (16 bytes before
 * the object).  A corrupt list can loop or leave the heap, so each walk is
 * bounded and stops at the first object it has already taken from a list.
 */
#include "phInt.h"

#include <stdlib.h>

/* A list longer than this is corrupt: more objects than 32-byte slots in
 * the whole core. */
static uint64_t walk_bound(const ph_heap *h)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < core_segment_count(h->core); i++)
		bytes += core_segment_at(h->core, i)->filesz;
	return bytes / 32 + 1024;
}

/* Walks one list; `count` says whether its objects count as gc_objects
 * (generations 0-2, as gc.get_objects() counts them; not the permanent
 * generation). */
static uint64_t walk_list(ph_heap *h, uint64_t head, uint64_t bound, bool count)
{
	uint64_t n = 0, p;
	if (!rd64(h, head, &p)) {
		ph_warn(h, W_GC_LIST, "GC list head unreadable at 0x%llx", (unsigned long long)head);
		return 0;
	}
	p &= ~3ull;
	for (uint64_t steps = 0; p != head; steps++) {
		if (!p || steps > bound) {
			ph_warn(h, W_GC_LIST, "GC lists cut short: %s (list at 0x%llx)",
				p ? "too long (a cycle?)" : "NULL link", (unsigned long long)head);
			break;
		}
		uint64_t obj = p + GC_HEAD_SIZE;
		/* most were found in their blocks, checked already (with their
		 * block size: more strictly than here) */
		uint32_t id = ph_object_id(h, obj);
		uint32_t ti = id != PH_MAP_NONE ? h->obj_type[id] : ph_object_check(h, obj, 0);
		if (ti == TYPE_INVALID) {
			ph_warn(h, W_GC_OBJECT, "GC list entries skipped: invalid object "
				"(first at 0x%llx)", (unsigned long long)obj);
		} else {
			if (id == PH_MAP_NONE)
				id = ph_add_object(h, obj, ti, 0);
			if (id != PH_MAP_NONE) {
				if (h->obj_flags[id] & PH_OBJ_GC) {
					ph_warn(h, W_GC_LIST, "GC lists cut short: an object is on a list "
						"twice (0x%llx)", (unsigned long long)obj);
					break;
				}
				h->obj_flags[id] |= PH_OBJ_GC;
				h->gc_objects += count;
				n++;
			}
		}
		if (!rd64(h, p, &p)) {
			ph_warn(h, W_GC_LIST, "GC lists cut short: unreadable link at 0x%llx",
				(unsigned long long)p);
			break;
		}
		p &= ~3ull;
	}
	return n;
}

int ph_walk_gc(ph_heap *h)
{
	uint64_t bound = walk_bound(h);
	size_t n = h->minor == 8 ? 1 : h->ninterps;
	for (size_t i = 0; i < n; i++) {
		uint64_t gcs = h->minor == 8 ? h->runtime + (uint64_t)h->off.rt_gc
					     : h->interps[i] + (uint64_t)h->off.is_gc;
		if ((h->minor == 8 && h->off.rt_gc < 0) || (h->minor > 8 && h->off.is_gc < 0))
			return -1;
		bool main_interp = i == 0;
		uint32_t v;
		if (main_interp) {
			h->gc.known = 1;
			if (rd32(h, gcs + (uint64_t)h->off.gc_enabled, &v))
				h->gc.enabled = (int)v;
			if (rd32(h, gcs + (uint64_t)h->off.gc_collecting, &v))
				h->gc.collecting = (int)v;
		}
		for (int g = 0; g < 3; g++) {
			uint64_t gen = gcs + (uint64_t)h->off.gc_generations + (uint64_t)(g * h->off.gen_size);
			if (main_interp) {
				if (rd32(h, gen + (uint64_t)h->off.gen_threshold, &v))
					h->gc.gen[g].threshold = (int)v;
				if (rd32(h, gen + (uint64_t)h->off.gen_count, &v))
					h->gc.gen[g].count = (int)v;
			}
			h->gc.gen[g].objects += walk_list(h, gen, bound, true);
		}
		h->gc.permanent_objects += walk_list(h, gcs + (uint64_t)h->off.gc_permanent, bound, false);
	}
	if (h->gc.collecting)
		ph_warn(h, W_GC_LIST, "the collector was running when the core was taken: "
			"objects being collected may be missing from the GC lists");
	return 0;
}

void ph_walk_threads(ph_heap *h)
{
	for (size_t i = 0; i < h->ninterps; i++) {
		uint64_t ts = 0, id = 0;
		rdf(h, h->interps[i], h->off.is_id, &id);
		if (!rdf(h, h->interps[i], h->off.is_threads_head, &ts))
			continue;
		for (int steps = 0; ts && steps < 4096; steps++) {
			bool dup = false;
			for (size_t j = 0; j < h->nthreads; j++)
				dup |= h->threads[j].tstate == ts;
			if (dup) {
				ph_warn(h, W_THREADS, "thread list has a cycle (interpreter 0x%llx)",
					(unsigned long long)h->interps[i]);
				break;
			}
			if (h->nthreads == h->threads_cap) {
				size_t cap = h->threads_cap ? 2 * h->threads_cap : 8;
				ph_thread *n = realloc(h->threads, cap * sizeof *n);
				if (!n)
					return;
				h->threads = n;
				h->threads_cap = cap;
			}
			ph_thread *t = &h->threads[h->nthreads++];
			*t = (ph_thread){.tstate = ts, .interp_id = (int64_t)id};
			rdf(h, ts, h->off.ts_thread_id, &t->thread_id);
			rdf(h, ts, h->off.ts_native_thread_id, &t->native_id);
			if (!rdf(h, ts, h->off.ts_next, &ts))
				break;
		}
	}
}

size_t ph_thread_count(const ph_heap *h) { return h->nthreads; }
const ph_thread *ph_thread_at(const ph_heap *h, size_t i) { return &h->threads[i]; }
const ph_gc_state *ph_gc(const ph_heap *h) { return &h->gc; }
