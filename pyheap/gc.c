/*
 * gc.c - the cyclic collector's lists and the interpreter's threads.
 *
 * Generation lists are doubly linked through PyGC_Head (16 bytes before
 * the object).  A corrupt list can loop or leave the heap, so each walk is
 * bounded and stops at the first object it has already taken from a list.
 */
#include "phInt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A list longer than this is corrupt: more objects than 32-byte slots in
 * the whole core. */
static uint64_t walk_bound(const ph_heap *h)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < core_segment_count(h->core); i++)
		bytes += core_segment_at(h->core, i)->filesz;
	return bytes / 32 + 1024;
}

#define gc_list ph_gc_list
#define GC_LISTS_MAX PH_GC_LISTS_MAX

size_t ph_gc_lists(const ph_heap *h, struct ph_gc_list *out)
{
	bool in_runtime = h->tr->gc == PH_GC_RUNTIME;
	bool incremental = h->tr->gc_shape == PH_GC_INCREMENTAL;
	size_t n = 0, ni = in_runtime ? 1 : h->ninterps;
	if ((in_runtime && h->off.rt_gc < 0) || (!in_runtime && h->off.is_gc < 0) ||
	    (incremental ? h->off.gc_young < 0 || h->off.gc_old < 0 : h->off.gc_generations < 0) ||
	    h->off.gc_permanent < 0 || h->off.gen_size <= 0)
		return 0;
	for (size_t i = 0; i < ni && n + 4 <= PH_GC_LISTS_MAX; i++) {
		uint64_t gcs = in_runtime ? h->runtime + (uint64_t)h->off.rt_gc
					  : h->interps[i] + (uint64_t)h->off.is_gc;
		uint64_t gsz = (uint64_t)h->off.gen_size;
		if (incremental) {
			/* young is generation 0; both old spaces are what
			 * gc.get_objects(2) lists */
			uint64_t old = gcs + (uint64_t)h->off.gc_old;
			out[n++] = (struct ph_gc_list){gcs, gcs + (uint64_t)h->off.gc_young, 0, i == 0};
			out[n++] = (struct ph_gc_list){gcs, old, 2, i == 0};
			out[n++] = (struct ph_gc_list){gcs, old + gsz, 2, i == 0};
		} else {
			uint64_t gen0 = gcs + (uint64_t)h->off.gc_generations;
			for (int g = 0; g < 3; g++)
				out[n++] = (struct ph_gc_list){gcs, gen0 + (uint64_t)g * gsz, g, i == 0};
		}
		out[n++] = (struct ph_gc_list){gcs, gcs + (uint64_t)h->off.gc_permanent, 3, i == 0};
	}
	return n;
}

/*
 * Chasing a list's links is one dependent cache miss per object (millions
 * of them, a few tenths of a second on a big heap), and it needs nothing
 * the pool walk computes.  So a helper thread chases them while the pool
 * walk runs, and records each list's nodes; ph_walk_gc then only looks the
 * nodes up.  The thread reads the core's mapped segments and nothing else
 * (core_segment_find is pure; core_read keeps a cache and is not used).  A
 * list it cannot finish cleanly (a link it cannot read, NULL, a cycle, no
 * room) is walked again by ph_walk_gc the careful way, with its warnings.
 */
struct ph_gcchase {
	pthread_t thread;
	bool running;
	const core_t *core;
	struct gc_list lists[GC_LISTS_MAX];
	size_t nlists;
	uint64_t bound;
	uint64_t *nodes;                 /* all lists' nodes, one after another */
	size_t cap, len, mapped;
	size_t begin[GC_LISTS_MAX], end[GC_LISTS_MAX];
	bool complete[GC_LISTS_MAX];
};

static bool chase_read(const core_t *core, const core_segment **seg, uint64_t addr, uint64_t *out)
{
	const core_segment *s = *seg;
	if (!s || addr < s->vaddr || addr - s->vaddr + 8 > s->filesz) {
		s = core_segment_find(core, addr);
		if (!s || addr - s->vaddr + 8 > s->filesz)
			return false;
		*seg = s;
	}
	memcpy(out, s->data + (addr - s->vaddr), 8);
	return true;
}

static void *chase(void *arg)
{
	struct ph_gcchase *c = arg;
	const core_segment *seg = NULL;
	for (size_t l = 0; l < c->nlists; l++) {
		uint64_t head = c->lists[l].head, p;
		c->begin[l] = c->end[l] = c->len;
		if (!chase_read(c->core, &seg, head, &p))
			continue;
		p &= ~3ull;
		bool ok = true;
		/* Brent's cycle detection: a corrupt list that loops is left to
		 * ph_walk_gc at once, not chased up to the bound */
		uint64_t tort = p, power = 1, lam = 0;
		for (uint64_t steps = 0; p != head; steps++) {
			if (!p || steps > c->bound || c->len == c->cap ||
			    !chase_read(c->core, &seg, p, &c->nodes[c->len])) {
				ok = false;
				break;
			}
			uint64_t next = c->nodes[c->len] & ~3ull;
			c->nodes[c->len++] = p;
			p = next;
			if (p == tort) {
				ok = false;
				break;
			}
			if (++lam == power) {
				tort = p;
				power <<= 1;
				lam = 0;
			}
		}
		c->end[l] = c->len;
		c->complete[l] = ok;
	}
	return NULL;
}

void ph_gc_chase_start(ph_heap *h)
{
	struct ph_gcchase *c = calloc(1, sizeof *c);
	if (!c)
		return;
	c->core = h->core;
	c->nlists = ph_gc_lists(h, c->lists);
	c->bound = walk_bound(h);
	/* room for every object the core could hold on a list; address space
	 * only, faulted in as the nodes come */
	c->cap = (size_t)(c->bound < (1ull << 32) ? c->bound : (1ull << 32));
	c->mapped = c->cap * sizeof *c->nodes;
	void *m = c->nlists ? mmap(NULL, c->mapped, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) : MAP_FAILED;
	if (m == MAP_FAILED) {
		free(c);
		return;
	}
	c->nodes = m;
#ifdef MADV_HUGEPAGE
	madvise(m, c->mapped, MADV_HUGEPAGE);   /* fewer faults for millions of nodes */
#endif
	if (pthread_create(&c->thread, NULL, chase, c) != 0) {
		munmap(m, c->mapped);
		free(c);
		return;
	}
	c->running = true;
	h->scan.gcchase = c;
}

/* Waits for the thread; the lists are then ready (or the chase is gone). */
static struct ph_gcchase *chase_join(ph_heap *h)
{
	struct ph_gcchase *c = h->scan.gcchase;
	if (c && c->running) {
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	return c;
}

void ph_gc_chase_free(ph_heap *h)
{
	struct ph_gcchase *c = chase_join(h);
	if (!c)
		return;
	munmap(c->nodes, c->mapped);
	free(c);
	h->scan.gcchase = NULL;
}

/* One object of a list: counted, flagged, added if the pool walk did not
 * find it.  false: stop the list (an object on it twice). */
static bool take(ph_heap *h, uint64_t p, bool count, uint64_t *n)
{
	uint64_t obj = p + GC_HEAD_SIZE;
	/* totals_only: block objects have bits, not ids */
	uint64_t w, bit, *lb = ph_lean_bits(h, obj, &w, &bit);
	if (lb && (lb[w] & bit)) {
		uint64_t *gcw = lb + h->objs.lean->words + w;
		if (*gcw & bit) {
			ph_warn(h, W_GC_LIST, "GC lists cut short: an object is on a list "
				"twice (0x%llx)", (unsigned long long)obj);
			return false;
		}
		*gcw |= bit;
		h->gc_objects += count;
		(*n)++;
		return true;
	}
	/* most were found in their blocks, checked already (with their block
	 * size: more strictly than here) */
	uint32_t id = ph_object_id(h, obj);
	uint32_t ti = id != PH_NONE ? h->objs.type[id] : ph_object_check(h, obj, 0);
	if (ti == PH_NONE) {
		ph_warn(h, W_GC_OBJECT, "GC list entries skipped: invalid object "
			"(first at 0x%llx)", (unsigned long long)obj);
		return true;
	}
	if (id == PH_NONE)
		id = ph_add_object(h, obj, ti, 0);
	if (id == PH_NONE)
		return true;
	if (h->objs.flags[id] & PH_OBJ_GC) {
		ph_warn(h, W_GC_LIST, "GC lists cut short: an object is on a list "
			"twice (0x%llx)", (unsigned long long)obj);
		return false;
	}
	h->objs.flags[id] |= PH_OBJ_GC;
	h->gc_objects += count;
	(*n)++;
	return true;
}

/* Walks one list; `count` says whether its objects count as gc_objects. */
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
		if (!take(h, p, count, &n))
			break;
		if (!rd64(h, p, &p)) {
			ph_warn(h, W_GC_LIST, "GC lists cut short: unreadable link at 0x%llx",
				(unsigned long long)p);
			break;
		}
		p &= ~3ull;
	}
	return n;
}

void ph_gc_thresholds(const ph_heap *h, uint64_t gcs, ph_gc_state *out)
{
	uint32_t v;
	uint64_t gsz = (uint64_t)h->off.gen_size;
	if (h->tr->gc_shape == PH_GC_INCREMENTAL) {
		/* gc.get_threshold() is (young, old[0], 0); gc.get_count() is
		 * (young, the old space being visited, the other) */
		uint64_t young = gcs + (uint64_t)h->off.gc_young, old = gcs + (uint64_t)h->off.gc_old;
		uint32_t visited = 0;
		if (h->off.gc_visited_space >= 0)
			rd32(h, gcs + (uint64_t)h->off.gc_visited_space, &visited);
		visited &= 1;
		const uint64_t th[3] = {young, old, 0}, cnt[3] = {young, old + visited * gsz,
								  old + (visited ^ 1) * gsz};
		for (int g = 0; g < 3; g++) {
			out->gen[g].threshold = 0;
			if (th[g] && rd32(h, th[g] + (uint64_t)h->off.gen_threshold, &v))
				out->gen[g].threshold = (int)v;
			if (rd32(h, cnt[g] + (uint64_t)h->off.gen_count, &v))
				out->gen[g].count = (int)v;
		}
		return;
	}
	for (int g = 0; g < 3; g++) {
		uint64_t gen = gcs + (uint64_t)h->off.gc_generations + (uint64_t)g * gsz;
		if (rd32(h, gen + (uint64_t)h->off.gen_threshold, &v))
			out->gen[g].threshold = (int)v;
		if (rd32(h, gen + (uint64_t)h->off.gen_count, &v))
			out->gen[g].count = (int)v;
	}
}

int ph_walk_gc(ph_heap *h)
{
	/* the lists the helper chased, or found now when there is no helper */
	struct ph_gcchase *c = chase_join(h);
	struct gc_list found[GC_LISTS_MAX];
	const struct gc_list *lists = c ? c->lists : found;
	size_t nl = c ? c->nlists : ph_gc_lists(h, found);
	if (!nl)
		return -1;
	uint64_t bound = walk_bound(h);
	uint64_t gcs0 = lists[0].state;
	uint32_t v;
	h->gc.known = 1;
	if (rd32(h, gcs0 + (uint64_t)h->off.gc_enabled, &v))
		h->gc.enabled = (int)v;
	if (rd32(h, gcs0 + (uint64_t)h->off.gc_collecting, &v))
		h->gc.collecting = (int)v;
	ph_gc_thresholds(h, gcs0, &h->gc);
	for (size_t l = 0; l < nl; l++) {
		int g = lists[l].gen;
		bool count = g < 3;
		uint64_t n = 0;
		if (c && c->complete[l]) {
			for (size_t i = c->begin[l]; i < c->end[l]; i++)
				if (!take(h, c->nodes[i], count, &n))
					break;
		} else {
			n = walk_list(h, lists[l].head, bound, count);
		}
		if (g < 3)
			h->gc.gen[g].objects += n;
		else
			h->gc.permanent_objects += n;
	}
	ph_gc_chase_free(h);
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
			ph_thread *n = ph_grow(h->threads, h->nthreads, &h->threads_cap,
					       sizeof *n, 8);
			if (!n)
				return;
			h->threads = n;
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
