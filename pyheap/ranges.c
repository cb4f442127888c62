/*
 * ranges.c - the arenas' address ranges: "which arena holds this address?",
 * asked for every reference and every object lookup.  A leaf: it reads
 * nothing of the core.
 */
#include "phInt.h"

#include <stdlib.h>
#include <string.h>

static void chunks_free(ph_heap *h);
static void chunks_build(ph_heap *h);

int ph_ranges_add(ph_heap *h, uint64_t lo, uint64_t hi)
{
	if (h->narenas == h->arenas_cap) {
		size_t cap = h->arenas_cap ? 2 * h->arenas_cap : 64;
		uint64_t *l = realloc(h->arena_lo, cap * sizeof *l);
		if (!l)
			return -1;
		h->arena_lo = l;
		uint64_t *u = realloc(h->arena_hi, cap * sizeof *u);
		if (!u)
			return -1;
		h->arena_hi = u;
		h->arenas_cap = cap;
	}
	h->arena_lo[h->narenas] = lo;
	h->arena_hi[h->narenas++] = hi;
	h->tcache_on = false;            /* ph_in_arena's answers may change */
	h->ranges_sorted = false;
	h->scan.near_len = 0;
	chunks_free(h);
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts the ranges (lo and hi together). */
void ph_ranges_sort(ph_heap *h)
{
	uint64_t *pairs = malloc(h->narenas * 2 * sizeof *pairs);
	if (!pairs)
		return;
	for (size_t i = 0; i < h->narenas; i++) {
		pairs[2 * i] = h->arena_lo[i];
		pairs[2 * i + 1] = h->arena_hi[i];
	}
	qsort(pairs, h->narenas, 2 * sizeof *pairs, cmp_range);
	for (size_t i = 0; i < h->narenas; i++) {
		h->arena_lo[i] = pairs[2 * i];
		h->arena_hi[i] = pairs[2 * i + 1];
	}
	free(pairs);
	h->ranges_sorted = true;
	h->scan.near_len = 0;
	chunks_build(h);
	memset(h->tcache_key, 0, sizeof h->tcache_key);
	h->tcache_on = true;
}

/*
 * Which arena range holds an address is asked for every reference and every
 * object lookup: tens of millions of times.  A binary search over a
 * thousand ranges is a dozen dependent steps; instead, a hash on the
 * address's arena-sized chunk says which ranges touch that chunk.  Arenas
 * are arena-sized but not aligned, so a chunk meets at most two: one that
 * covers its start up to lo_end, one that covers hi_start to its end.  A
 * chunk met otherwise (ranges smaller than an arena, from a pool scan) is
 * marked and answered by the binary search.
 */
struct ph_chunk {
	uint64_t key;                    /* chunk number + 1; 0: empty slot */
	uint32_t lo_end, hi_start;       /* offsets in the chunk */
	int32_t r_lo, r_hi;              /* their ranges, -1 for none */
	bool mixed;                      /* ask the binary search */
};

static long range_search(const ph_heap *h, uint64_t addr)
{
	/* the last range starting at or below addr; branch-free */
	size_t n = h->narenas;
	if (n == 0)
		return -1;
	const uint64_t *b = h->arena_lo;
	while (n > 1) {
		size_t half = n / 2;
		b = b[half] <= addr ? b + half : b;
		n -= half;
	}
	size_t i = (size_t)(b - h->arena_lo);
	return *b <= addr && addr < h->arena_hi[i] ? (long)i : -1;
}

static inline size_t chunk_slot(const ph_heap *h, uint64_t c)
{
	return (size_t)((c * 0x9E3779B97F4A7C15ull) >> (64 - h->chunk_bits));
}

static struct ph_chunk *chunk_get(ph_heap *h, uint64_t c)
{
	size_t mask = ((size_t)1 << h->chunk_bits) - 1;
	for (size_t i = chunk_slot(h, c);; i = (i + 1) & mask) {
		struct ph_chunk *e = &h->chunks[i];
		if (e->key == c + 1)
			return e;
		if (!e->key) {
			*e = (struct ph_chunk){.key = c + 1, .lo_end = 0, .r_lo = -1, .r_hi = -1,
					       .hi_start = 1u << h->chunk_shift};
			return e;
		}
	}
}

static void chunks_free(ph_heap *h)
{
	free(h->chunks);
	h->chunks = NULL;
}

/* Builds the chunk table over the sorted ranges; without it (out of memory,
 * no power-of-two arena size, ranges far bigger than an arena) every
 * question goes to the binary search. */
static void chunks_build(ph_heap *h)
{
	chunks_free(h);
	if (!h->narenas || !h->arena_size || (h->arena_size & (h->arena_size - 1)))
		return;
	unsigned shift = (unsigned)__builtin_ctzll(h->arena_size);
	uint64_t n = 0;
	for (size_t r = 0; r < h->narenas; r++)
		n += ((h->arena_hi[r] - 1) >> shift) - (h->arena_lo[r] >> shift) + 1;
	if (n > 16 * (uint64_t)h->narenas + 1024)
		return;
	unsigned bits = 4;
	while (((uint64_t)1 << bits) < 2 * n)
		bits++;
	h->chunks = calloc((size_t)1 << bits, sizeof *h->chunks);
	if (!h->chunks)
		return;
	h->chunk_bits = bits;
	h->chunk_shift = shift;
	uint64_t size = (uint64_t)1 << shift;
	for (size_t r = 0; r < h->narenas; r++) {
		uint64_t lo = h->arena_lo[r], hi = h->arena_hi[r];
		for (uint64_t c = lo >> shift; c <= (hi - 1) >> shift; c++) {
			struct ph_chunk *e = chunk_get(h, c);
			uint64_t cs = c << shift, a = lo > cs ? lo - cs : 0;
			uint64_t b = hi - cs < size ? hi - cs : size;
			if (a == 0 && e->r_lo < 0 && b <= e->hi_start) {
				e->lo_end = (uint32_t)b;
				e->r_lo = (int32_t)r;
			} else if (b == size && e->r_hi < 0 && a >= e->lo_end) {
				e->hi_start = (uint32_t)a;
				e->r_hi = (int32_t)r;
			} else {
				e->mixed = true;
			}
		}
	}
}

long ph_arena_range(const ph_heap *h, uint64_t addr)
{
	if (!h->chunks)
		return range_search(h, addr);
	uint64_t c = addr >> h->chunk_shift;
	size_t mask = ((size_t)1 << h->chunk_bits) - 1;
	for (size_t i = chunk_slot(h, c);; i = (i + 1) & mask) {
		const struct ph_chunk *e = &h->chunks[i];
		if (e->key == c + 1) {
			if (e->mixed)
				return range_search(h, addr);
			uint32_t off = (uint32_t)(addr & (((uint64_t)1 << h->chunk_shift) - 1));
			return off < e->lo_end ? e->r_lo : off >= e->hi_start ? e->r_hi : -1;
		}
		if (!e->key)
			return -1;
	}
}

bool ph_in_arena(const ph_heap *h, uint64_t addr)
{
	return ph_arena_range(h, addr) >= 0;
}

