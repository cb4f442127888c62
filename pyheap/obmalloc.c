/*
 * obmalloc.c - pymalloc: arenas, pools and the objects in their blocks.
 *
 * The arena table comes from the static `arenas` (3.8-3.11, .symtab only),
 * from the interpreter's obmalloc state (3.12, 3.13), or, for stripped
 * 3.8-3.11 builds, from a scan of anonymous memory for pool headers that pass
 * every invariant pymalloc keeps (cpython-internals.md 2.4).
 *
 * In each used pool the free list tells free blocks from allocated ones: a
 * free block still holds its old object's bytes, so only the list can tell.
 */
#include "phInt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define POOL_OVERHEAD 48
#define MAX_ARENAS (1u << 24)        /* 16 TiB of 1 MiB arenas */
/* past the largest user-space address of x86-64 (5-level paging): an arena
 * record there is garbage, and its end would wrap */
#define PH_USER_ADDR_END (1ull << 57)
#define MAX_BLOCKS_IN_POOL 1024      /* 16 KiB / 16 */

typedef struct arena_rec {
	uint64_t address, pool_address;
	uint32_t nfreepools, ntotalpools;
} arena_rec;

/* A GC object's head holds two links (or zeros while untracked): user-space
 * addresses, 8-aligned once the flag bits are masked.  A data block that
 * happens to start with a type pointer at the right place (a 3.11 values
 * array whose second value is a class, say) fails this. */
static bool gc_words_plausible(const void *head)
{
	uint64_t w[2];
	memcpy(w, head, sizeof w);
	for (int i = 0; i < 2; i++) {
		uint64_t p = w[i] & ~3ull;
		if (p >= (1ull << 47) || (p & 7))
			return false;
	}
	return true;
}

static bool gc_head_plausible(const ph_heap *h, uint64_t obj)
{
	uint64_t w[2];
	if (core_read(h->core, obj - GC_HEAD_SIZE, w, sizeof w) != sizeof w)
		return false;
	return gc_words_plausible(w);
}

/* The object in a used block at b (its bytes at bp, when mapped), of bs
 * bytes: past no pre-header, a GC head, or a GC head and the managed dict
 * and weakref words.  Its type index, and *off its offset; PH_NONE when
 * the block holds no object (a buffer, or a freed object's remains).
 * Inlined: it runs for every block of every pool. */
static inline __attribute__((always_inline)) uint32_t
block_object(ph_heap *h, uint64_t b, const uint8_t *bp, uint32_t bs, uint32_t *off)
{
	for (uint32_t o = 0; o <= 32 && o < bs; o += 16) {
		uint32_t ti;
		if (bp) {
			uint64_t w[2];
			memcpy(w, bp + o, 16);
			if (!ph_refcnt_word_ok(h, w[0]))
				continue;       /* (a GC head's link, a buffer's bytes) */
			ti = ph_object_check_words(h, b + o, w[0], w[1], bs - o);
		} else {
			ti = ph_object_check(h, b + o, bs - o);
		}
		if (ti != PH_NONE &&
		    (ph_kinds[h->types[ti].kind].gc_if_heap_type ? ph_object_preheader(h, b + o, ti)
								  : h->types[ti].preheader) == (int)o &&
		    (o == 0 || (bp ? gc_words_plausible(bp + o - GC_HEAD_SIZE)
				   : gc_head_plausible(h, b + o)))) {
			*off = o;
			return ti;
		}
	}
	return PH_NONE;
}

/* Per pool: validate the header, mark free blocks, find objects in the rest.
 * Returns 1 for a used pool, 0 for an empty one, -1 for a bad header. */
static int walk_pool(ph_heap *h, uint64_t pool, bool add_objects)
{
	uint8_t hdr[POOL_OVERHEAD];
	if (core_read(h->core, pool, hdr, sizeof hdr) != sizeof hdr) {
		ph_warn(h, W_UNREADABLE, "pools unreadable (first at 0x%llx)", (unsigned long long)pool);
		return -1;
	}
	uint32_t count, szidx, nextoffset, maxnext;
	uint64_t freeblock;
	memcpy(&count, hdr + (size_t)h->off.pool_ref, 4);
	memcpy(&freeblock, hdr + (size_t)h->off.pool_freeblock, 8);
	memcpy(&szidx, hdr + (size_t)h->off.pool_szidx, 4);
	memcpy(&nextoffset, hdr + (size_t)h->off.pool_nextoffset, 4);
	memcpy(&maxnext, hdr + (size_t)h->off.pool_maxnextoffset, 4);
	if (count == 0) {
		h->arenas.pools_empty++;
		return 0;
	}
	uint32_t bs = (szidx + 1) * 16;
	if (szidx >= PH_SIZE_CLASSES || maxnext != h->pool_size - bs ||
	    nextoffset < POOL_OVERHEAD + bs || nextoffset > h->pool_size ||
	    (nextoffset - POOL_OVERHEAD) % bs != 0) {
		ph_warn(h, W_BAD_POOL, "pools skipped: invalid pool header (first at 0x%llx)",
			(unsigned long long)pool);
		return -1;
	}
	uint32_t nb = (uint32_t)((h->pool_size - POOL_OVERHEAD) / bs);
	uint32_t carved = (nextoffset - POOL_OVERHEAD) / bs;
	if (carved > nb)
		carved = nb;
	if (count > nb) {
		ph_warn(h, W_BAD_POOL, "pools skipped: invalid pool header (first at 0x%llx)",
			(unsigned long long)pool);
		return -1;
	}

	/* the whole pool, mapped, when it lies in one segment (it nearly
	 * always does): free-list links without a read call each, and
	 * prefetching ahead of the block checks */
	const uint8_t *hp = core_ptr(h->core, pool, (size_t)h->pool_size);
	uint8_t isfree[MAX_BLOCKS_IN_POOL];
	memset(isfree, 0, nb);
	uint32_t nfree = 0;
	uint64_t p = freeblock;
	/* the list has at most nb entries; anything longer is a cycle */
	for (uint32_t steps = 0; p && steps <= nb; steps++) {
		uint64_t off = p - pool;
		if (p < pool + POOL_OVERHEAD || off >= h->pool_size ||
		    (off - POOL_OVERHEAD) % bs != 0) {
			ph_warn(h, W_BAD_FREELIST, "pool free lists cut short: link out of the pool "
				"(first in pool 0x%llx)", (unsigned long long)pool);
			break;
		}
		uint32_t bi = (uint32_t)((off - POOL_OVERHEAD) / bs);
		if (bi >= carved)
			break;                 /* the lazily carved tail: never used */
		if (isfree[bi]) {
			ph_warn(h, W_BAD_FREELIST, "pool free lists cut short: cycle (first in pool 0x%llx)",
				(unsigned long long)pool);
			break;
		}
		isfree[bi] = 1;
		nfree++;
		if (hp)                        /* the link lies inside the pool */
			memcpy(&p, hp + off, 8);
		else if (!rd64(h, p, &p))
			break;
	}
	if (carved - nfree != count)
		ph_warn(h, W_POOL_COUNT, "pools whose allocated-block count disagrees with their "
			"free list (first at 0x%llx: count %u, carved %u, free %u)",
			(unsigned long long)pool, count, carved, nfree);

	h->arenas.cls[szidx].pools++;
	h->arenas.cls[szidx].used += count;
	h->arenas.cls[szidx].free += nb - count;
	h->arenas.pools_used++;
	h->arenas.blocks_used += count;
	if (count == nb)
		h->arenas.pools_full++;

	if (!add_objects)
		return 1;
	/* totals_only: the pool's objects are bits, not ids */
	uint64_t *lean = h->opts.totals_only ? ph_lean_pool(h, pool) : NULL;
	/* first visit of this pool: its objects are new, no lookup needed */
	bool fresh = !lean && ph_pool_begin(h, pool);
	for (uint32_t bi = 0; bi < carved; bi++) {
		if (hp && bi + 8 < carved)
			__builtin_prefetch(hp + POOL_OVERHEAD + (size_t)(bi + 8) * bs);
		if (isfree[bi])
			continue;
		uint64_t b = pool + POOL_OVERHEAD + (uint64_t)bi * bs;
		const uint8_t *bp = hp ? hp + POOL_OVERHEAD + (size_t)bi * bs : NULL;
		uint32_t off, ti = block_object(h, b, bp, bs, &off);
		if (ti == PH_NONE)
			continue;
		if (lean) {
			uint64_t g = (bi * (uint64_t)bs + POOL_OVERHEAD + off) >> 4;
			if (!(lean[g / 64] & (1ull << (g % 64)))) {
				lean[g / 64] |= 1ull << (g % 64);
				ph_lean_visit(h, b + off, ti);
			}
			continue;
		}
		uint32_t id = fresh ? ph_add_block(h, b + off, ti)
				    : ph_add_object(h, b + off, ti, PH_OBJ_ARENA);
		if (id != PH_NONE)
			ph_object_visit(h, id);
	}
	return 1;
}

size_t ph_arena_objects(ph_heap *h, uint64_t lo, uint64_t hi, ph_object_fn fn, void *payload)
{
	size_t found = 0;
	uint8_t isfree[MAX_BLOCKS_IN_POOL];
	for (uint64_t pool = (lo + h->pool_size - 1) & ~(h->pool_size - 1);
	     pool + h->pool_size <= hi && pool >= lo; pool += h->pool_size) {
		uint8_t hdr[POOL_OVERHEAD];
		uint32_t count, szidx, nextoffset;
		uint64_t freeblock;
		if (core_read(h->core, pool, hdr, sizeof hdr) != sizeof hdr)
			continue;
		memcpy(&count, hdr + (size_t)h->off.pool_ref, 4);
		memcpy(&freeblock, hdr + (size_t)h->off.pool_freeblock, 8);
		memcpy(&szidx, hdr + (size_t)h->off.pool_szidx, 4);
		memcpy(&nextoffset, hdr + (size_t)h->off.pool_nextoffset, 4);
		uint32_t bs = (szidx + 1) * 16;
		if (count == 0 || szidx >= PH_SIZE_CLASSES || nextoffset < POOL_OVERHEAD ||
		    nextoffset > h->pool_size)
			continue;
		uint32_t nb = (uint32_t)((h->pool_size - POOL_OVERHEAD) / bs);
		uint32_t carved = (nextoffset - POOL_OVERHEAD) / bs;
		if (carved > nb)
			carved = nb;
		memset(isfree, 0, nb);
		uint64_t p = freeblock;
		for (uint32_t steps = 0; p && steps <= nb; steps++) {
			uint64_t off = p - pool;
			if (p < pool + POOL_OVERHEAD || off >= h->pool_size ||
			    (off - POOL_OVERHEAD) % bs != 0)
				break;
			uint32_t bi = (uint32_t)((off - POOL_OVERHEAD) / bs);
			if (bi >= carved || isfree[bi])
				break;
			isfree[bi] = 1;
			if (!rd64(h, p, &p))
				break;
		}
		const uint8_t *hp = core_ptr(h->core, pool, (size_t)h->pool_size);
		for (uint32_t bi = 0; bi < carved; bi++) {
			if (isfree[bi])
				continue;
			uint64_t b = pool + POOL_OVERHEAD + (uint64_t)bi * bs;
			uint32_t off, ti = block_object(h, b, hp ? hp + POOL_OVERHEAD + (size_t)bi * bs : NULL,
						       bs, &off);
			if (ti == PH_NONE)
				continue;
			found++;
			if (fn)
				fn(h, b + off, ti, payload);
		}
	}
	return found;
}

/* The walk reads nearly every page of an arena's pools.  Faulting them in
 * one call instead of one page fault per few pages saves a tenth of the
 * scan (Linux 5.14+; elsewhere madvise fails and nothing changes). */
static void prefault(ph_heap *h, uint64_t lo, uint64_t hi)
{
#ifdef __linux__
	if (hi <= lo || hi - lo > (64u << 20))
		return;
	const uint8_t *p = core_ptr(h->core, lo, (size_t)(hi - lo));
	if (!p)
		return;
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)p + (size_t)(hi - lo) + 4095) & ~(uintptr_t)4095;
	madvise((void *)a, e - a, 22 /* MADV_POPULATE_READ */);
#else
	(void)h; (void)lo; (void)hi;
#endif
}

/* Remembers a nearly empty arena by its first pool in use, which a pool
 * scan knows of it too (at most PH_PINNED_MAX of them). */
static void note_pinned(ph_heap *h, uint64_t first_used, uint64_t end)
{
	if (h->npinned < PH_PINNED_MAX)
		h->pinned[h->npinned++] = (ph_arena_span){first_used, end};
}

size_t ph_pinned_arenas(const ph_heap *h, const ph_arena_span **arenas)
{
	*arenas = h->pinned;
	return h->npinned;
}

static void walk_arena(ph_heap *h, const arena_rec *a)
{
	uint64_t first = (a->address + h->pool_size - 1) & ~(h->pool_size - 1);
	uint64_t end = a->pool_address;
	uint64_t used = 0, total = 0;
	if (end < first || end > a->address + h->arena_size) {
		ph_warn(h, W_ARENA_TABLE, "arenas with an invalid pool_address (first at 0x%llx)",
			(unsigned long long)a->address);
		end = a->address + h->arena_size;
	}
	prefault(h, first, end);
	uint64_t first_used = 0;
	/* (at most an arena's pools, whatever a corrupt record says) */
	uint64_t most = h->arena_size / h->pool_size;
	for (uint64_t pool = first; pool + h->pool_size <= end && total < most; pool += h->pool_size) {
		total++;
		if (walk_pool(h, pool, true) == 1 && !used++)
			first_used = pool;
	}
	h->arenas.arenas++;
	uint64_t npools = a->ntotalpools ? a->ntotalpools : total;
	if (used > 0 && used * 10 <= npools) {
		h->arenas.nearly_empty_arenas++;
		h->arenas.nearly_empty_bytes += h->arena_size;
		note_pinned(h, first_used, a->address + h->arena_size);
	}
}

/* Reads the table at `table` with `max` slots and walks the arenas in use. */
static int walk_table(ph_heap *h, uint64_t table, uint64_t max,
		      ph_progress_fn progress, void *payload)
{
	if (max > MAX_ARENAS) {
		ph_warn(h, W_ARENA_TABLE, "arena table claims %llu slots; reading %u",
			(unsigned long long)max, MAX_ARENAS);
		max = MAX_ARENAS;
	}
	uint64_t esz = h->off.ao_size > 0 ? (uint64_t)h->off.ao_size : 48;
	/* First the table, so that the arena ranges are known (and sorted)
	 * before any block is classified: a word pointing into an arena is
	 * then rejected as a type pointer without a lookup. */
	arena_rec *recs = NULL;
	size_t nrecs = 0, cap = 0;
	int rc = 0;
	for (uint64_t i = 0; i < max; i++) {
		uint8_t e[64];
		if (esz > sizeof e || core_read(h->core, table + i * esz, e, (size_t)esz) != esz) {
			ph_warn(h, W_ARENA_TABLE, "arena table unreadable at slot %llu",
				(unsigned long long)i);
			rc = -1;
			break;
		}
		arena_rec a = {0};
		memcpy(&a.address, e + h->off.ao_address, 8);
		memcpy(&a.pool_address, e + h->off.ao_pool_address, 8);
		memcpy(&a.nfreepools, e + h->off.ao_nfreepools, 4);
		memcpy(&a.ntotalpools, e + h->off.ao_ntotalpools, 4);
		if (!a.address)
			continue;
		/* pymalloc's invariants for an arena in use; garbage slots (a
		 * corrupt table or maxarenas) would otherwise add arena ranges
		 * that swallow the type objects */
		if (a.address >= PH_USER_ADDR_END || a.pool_address < a.address ||
		    a.pool_address > a.address + h->arena_size ||
		    a.ntotalpools > h->arena_size / h->pool_size || a.nfreepools > a.ntotalpools) {
			ph_warn(h, W_ARENA_TABLE, "arena table slots skipped: invalid arena record "
				"(first at slot %llu)", (unsigned long long)i);
			continue;
		}
		if (nrecs == cap) {
			cap = cap ? 2 * cap : 64;
			arena_rec *n = realloc(recs, cap * sizeof *n);
			if (!n) {
				free(recs);
				return -1;
			}
			recs = n;
		}
		recs[nrecs++] = a;
		ph_ranges_add(h, a.address, a.address + h->arena_size);
	}
	ph_ranges_sort(h);
	for (size_t i = 0; i < nrecs; i++) {
		walk_arena(h, &recs[i]);
		if (progress && (i & 15) == 0)
			progress("arenas", i, nrecs, payload);
	}
	free(recs);
	return rc;
}

/* Stripped 3.8-3.11: no symbol leads to the table, so find the pools.  Two
 * passes: the pool headers first, which give the arena ranges (one per
 * arena index, grown to cover its pools), then the walk of those pools with
 * the ranges known and sorted, as the table's walk has them: references
 * into the arenas are then told apart at once instead of waiting in the
 * pending list, and words pointing into arenas are no type candidates. */
static int scan_pools(ph_heap *h, ph_progress_fn progress, void *payload)
{
	size_t nseg = core_segment_count(h->core);
	ph_map seen = {0};      /* arenaindex -> range index */
	uint64_t *pools = NULL; /* the pools found, in address order */
	size_t npools = 0, pools_cap = 0;
	for (size_t si = 0; si < nseg; si++) {
		const core_segment *s = core_segment_at(h->core, si);
		if (!(s->flags & CORE_SEG_W) || s->file)
			continue;
		uint64_t start = (s->vaddr + h->pool_size - 1) & ~(h->pool_size - 1);
		for (uint64_t pool = start; pool + h->pool_size <= s->vaddr + s->filesz;
		     pool += h->pool_size) {
			const uint8_t *hdr = s->data + (pool - s->vaddr);
			uint32_t count, szidx, nextoffset, maxnext, ai;
			uint64_t freeblock;
			memcpy(&count, hdr + h->off.pool_ref, 4);
			memcpy(&freeblock, hdr + h->off.pool_freeblock, 8);
			memcpy(&ai, hdr + h->off.pool_arenaindex, 4);
			memcpy(&szidx, hdr + h->off.pool_szidx, 4);
			memcpy(&nextoffset, hdr + h->off.pool_nextoffset, 4);
			memcpy(&maxnext, hdr + h->off.pool_maxnextoffset, 4);
			if (szidx >= PH_SIZE_CLASSES || ai >= MAX_ARENAS)
				continue;
			uint32_t bs = (szidx + 1) * 16;
			if (maxnext != h->pool_size - bs || nextoffset < POOL_OVERHEAD + bs ||
			    nextoffset > h->pool_size || (nextoffset - POOL_OVERHEAD) % bs ||
			    count > (h->pool_size - POOL_OVERHEAD) / bs ||
			    (freeblock && (freeblock < pool + POOL_OVERHEAD ||
					   freeblock >= pool + h->pool_size)))
				continue;
			/* An empty pool (count 0) keeps its old header: it still tells
			 * which arena is there.  pymalloc keeps one wholly empty arena
			 * rather than unmapping it, and only such pools show it. */
			uint64_t *n = ph_grow(pools, npools, &pools_cap, sizeof *n, 1024);
			if (!n)
				continue;
			pools = n;
			pools[npools++] = pool;
			uint32_t r = ph_map_get(&seen, (uint64_t)ai + 1);
			if (r == PH_NONE) {
				ph_map_put(&seen, (uint64_t)ai + 1, (uint32_t)h->narenas);
				ph_ranges_add(h, pool, pool + h->pool_size);
				h->arenas.arenas++;
			} else {
				if (pool < h->arena_lo[r])
					h->arena_lo[r] = pool;
				if (pool + h->pool_size > h->arena_hi[r])
					h->arena_hi[r] = pool + h->pool_size;
			}
		}
	}
	ph_map_free(&seen);
	ph_ranges_sort(h);
	uint32_t *used = calloc(h->narenas ? h->narenas : 1, sizeof *used);  /* per range */
	uint64_t *first_used = calloc(h->narenas ? h->narenas : 1, sizeof *first_used);
	for (size_t i = 0; i < npools; i++) {
		int pr = walk_pool(h, pools[i], true);
		long r = ph_arena_range(h, pools[i]);
		if (used && first_used && pr == 1 && r >= 0) {
			used[r]++;
			if (!first_used[r] || pools[i] < first_used[r])
				first_used[r] = pools[i];
		}
		if (progress && (i & 1023) == 0)
			progress("pool scan", i, npools, payload);
	}
	free(pools);
	/* nearly empty: at most a tenth of an arena's pools in use */
	uint64_t npools_arena = h->arena_size / h->pool_size;
	for (size_t r = 0; used && first_used && r < h->narenas; r++)
		if (used[r] > 0 && used[r] * 10 <= npools_arena) {
			h->arenas.nearly_empty_arenas++;
			h->arenas.nearly_empty_bytes += h->arena_size;
			note_pinned(h, first_used[r], h->arena_hi[r]);
		}
	free(used);
	free(first_used);
	return 0;
}

int ph_walk_arenas(ph_heap *h, ph_progress_fn progress, void *payload)
{
	h->arenas.arena_size = h->arena_size;
	h->arenas.pool_size = h->pool_size;
	h->arenas.pool_overhead = POOL_OVERHEAD;
	uint64_t sym, table = 0, max = 0;
	uint32_t max32 = 0;
	int rc = -1;

	if (h->opts.pool_scan) {
		h->arenas_found_by = "pool_scan";
		rc = scan_pools(h, progress, payload);
	} else if (h->tr->arenas == PH_ARENAS_STATIC) {
		if (h->pymod && core_module_symbol(h->pymod, "arenas", &sym, NULL) == 0 &&
		    rd64(h, sym, &table) &&
		    core_module_symbol(h->pymod, "maxarenas", &sym, NULL) == 0 && rd32(h, sym, &max32)) {
			h->arenas_found_by = "symtab";
			rc = table ? walk_table(h, table, max32, progress, payload) : 0;
			if (!table && max32) {
				/* slots but no table: the pointer was lost; scan instead */
				ph_warn(h, W_ARENA_TABLE, "arena table pointer is NULL but maxarenas "
					"is %u", max32);
				rc = -1;
			}
		} else {
			h->arenas_found_by = "pool_scan";
			rc = scan_pools(h, progress, payload);
		}
	} else if (h->off.is_obmalloc >= 0 && h->off.om_arenas >= 0) {
		uint64_t seen[16];
		size_t nseen = 0;
		h->arenas_found_by = "obmalloc_state";
		for (size_t i = 0; i < h->ninterps; i++) {
			uint64_t state = h->interps[i] + (uint64_t)h->off.is_obmalloc;
			if (h->tr->arenas == PH_ARENAS_INTERP_PTR && !rd64(h, state, &state))
				continue;
			bool dup = false;
			for (size_t j = 0; j < nseen; j++)
				dup |= seen[j] == state;
			if (dup || !state)
				continue;
			seen[nseen++] = state;
			if (!rd64(h, state + (uint64_t)h->off.om_arenas, &table) || !table ||
			    !rd32(h, state + (uint64_t)h->off.om_maxarenas, &max32))
				continue;
			max = max32;
			rc = walk_table(h, table, max, progress, payload);
		}
	}
	if (rc < 0 && h->arenas.arenas == 0) {
		h->arenas_found_by = "pool_scan";
		rc = scan_pools(h, progress, payload);
	}
	ph_ranges_sort(h);
	ph_index_blocks(h);
	for (int i = 0; i < PH_SIZE_CLASSES; i++)
		h->arenas.pools_total += h->arenas.cls[i].pools;
	h->arenas.pools_total += h->arenas.pools_empty;
	return rc;
}

const ph_arena_stats *ph_arenas(const ph_heap *h) { return &h->arenas; }

size_t ph_arena_pools(ph_heap *h, size_t i, uint64_t *base, ph_pool_use *out, size_t cap)
{
	if (i >= h->narenas || !h->pool_size)
		return 0;
	uint64_t first = (h->arena_lo[i] + h->pool_size - 1) & ~(h->pool_size - 1);
	size_t n = 0;
	*base = h->arena_lo[i];
	for (uint64_t pool = first; pool + h->pool_size <= h->arena_hi[i]; pool += h->pool_size, n++) {
		if (n >= cap)
			continue;
		ph_pool_use *u = &out[n];
		uint8_t hdr[POOL_OVERHEAD];
		uint32_t count, szidx, nextoffset, maxnext;
		memset(u, 0, sizeof *u);
		u->state = PH_POOL_BAD;
		if (core_read(h->core, pool, hdr, sizeof hdr) != sizeof hdr)
			continue;
		memcpy(&count, hdr + (size_t)h->off.pool_ref, 4);
		memcpy(&szidx, hdr + (size_t)h->off.pool_szidx, 4);
		memcpy(&nextoffset, hdr + (size_t)h->off.pool_nextoffset, 4);
		memcpy(&maxnext, hdr + (size_t)h->off.pool_maxnextoffset, 4);
		if (count == 0) {
			u->state = PH_POOL_FREE;
			continue;
		}
		/* walk_pool's checks of the header */
		uint32_t bs = (szidx + 1) * 16;
		if (szidx >= PH_SIZE_CLASSES || maxnext != h->pool_size - bs ||
		    nextoffset < POOL_OVERHEAD + bs || nextoffset > h->pool_size ||
		    (nextoffset - POOL_OVERHEAD) % bs != 0 ||
		    count > (h->pool_size - POOL_OVERHEAD) / bs)
			continue;
		u->state = PH_POOL_USED;
		u->szidx = (uint8_t)szidx;
		u->used = (uint16_t)count;
		u->blocks = (uint16_t)((h->pool_size - POOL_OVERHEAD) / bs);
	}
	return n;
}
