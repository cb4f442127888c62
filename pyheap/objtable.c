/*
 * objtable.c - the object table: the objects found, by dense id.
 *
 * Objects get dense uint32 ids in the order the scan hands them over; their
 * address, type, size and flags live in flat arrays.  An address is found
 * by a hash (objects outside the arenas) or by its pool (the pool walk's
 * objects, most of the heap), see struct ph_blockix.  This module reads no
 * memory of the core and decides nothing about what an object is: the scan
 * (scan.c) does that and hands objects over.
 */
#include "phInt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Fresh pages of the object arrays, faulted in one call per 64K objects
 * instead of one page fault per 4 KiB: in a VM a fault costs microseconds,
 * and the arrays of a 20M-object heap are 100,000 pages.  Only the pages the
 * next objects will use, so the resident size does not grow.  (Linux 5.14+
 * MADV_POPULATE_WRITE; elsewhere madvise fails and nothing changes.) */
#define POPULATE_STEP 65536
static void populate(void *base, size_t elem, size_t from, size_t to)
{
#ifdef __linux__
	uintptr_t a = ((uintptr_t)base + from * elem) & ~(uintptr_t)4095;
	uintptr_t e = ((uintptr_t)base + to * elem) & ~(uintptr_t)4095;
	if (e > a)
		madvise((void *)a, e - a, 23 /* MADV_POPULATE_WRITE */);
#else
	(void)base; (void)elem; (void)from; (void)to;
#endif
}

static void populate_ahead(ph_heap *h, size_t id)
{
	if (id & (POPULATE_STEP - 1) || id < POPULATE_STEP)
		return;
	size_t to = id + POPULATE_STEP < h->objs.cap ? id + POPULATE_STEP : h->objs.cap;
	populate(h->objs.addr, sizeof *h->objs.addr, id, to);
	populate(h->objs.type, sizeof *h->objs.type, id, to);
	populate(h->objs.size, sizeof *h->objs.size, id, to);
	populate(h->objs.flags, sizeof *h->objs.flags, id, to);
}

/*
 * The object arrays are reserved once, for as many objects as the core could
 * hold (one per 8 bytes of its segments), and never move.  Growing them with
 * realloc would move tens of millions of entries' pages with mremap, and in
 * a VM the first touch of each moved page costs microseconds (measured: a
 * strided read of a 160 MB array 100 times slower after its realloc).  The
 * reservation costs address space only; pages are faulted in as the scan
 * reaches them, as huge pages where the kernel allows.  If the address space
 * is limited (ulimit -v), the arrays grow by realloc instead.
 */
#define HUGE_ALIGN (2u << 20)

static size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static int reserve_objects(ph_heap *h)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < core_segment_count(h->core); i++)
		bytes += core_segment_at(h->core, i)->filesz;
	uint64_t cap = bytes / 8 + (1u << 16);
	if (cap > UINT32_MAX - 2)
		cap = UINT32_MAX - 2;
	size_t o_size = align_up((size_t)cap * 8, HUGE_ALIGN);
	size_t o_type = o_size + align_up((size_t)cap * sizeof *h->objs.size, HUGE_ALIGN);
	size_t o_flags = o_type + align_up((size_t)cap * 4, HUGE_ALIGN);
	size_t len = o_flags + align_up((size_t)cap, HUGE_ALIGN);
	void *m = mmap(NULL, len + HUGE_ALIGN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	uint8_t *base = (uint8_t *)align_up((size_t)m, HUGE_ALIGN);
#ifdef MADV_HUGEPAGE
	madvise(base, len, MADV_HUGEPAGE);
#endif
	h->objs.mem = m;
	h->objs.mem_len = len + HUGE_ALIGN;
	h->objs.addr = (uint64_t *)base;
	h->objs.size = (uint16_t *)(base + o_size);
	h->objs.type = (uint32_t *)(base + o_type);
	h->objs.flags = base + o_flags;
	h->objs.cap = (size_t)cap;
	return 0;
}

void ph_objects_free(ph_heap *h)
{
	if (h->objs.mem) {
		munmap(h->objs.mem, h->objs.mem_len);
	} else {
		free(h->objs.addr);
		free(h->objs.type);
		free(h->objs.size);
		free(h->objs.flags);
	}
	h->objs.mem = NULL;
	free(h->objs.big);
	h->objs.big = NULL;
	h->objs.nbig = h->objs.big_cap = 0;
	h->objs.addr = NULL;
	h->objs.size = NULL;
	h->objs.type = NULL;
	h->objs.flags = NULL;
	h->objs.n = h->objs.cap = 0;
}

static int grow_objects(ph_heap *h)
{
	if (!h->objs.cap && !h->objs.addr && reserve_objects(h) == 0)
		return 0;
	if (h->objs.mem)
		return -1;               /* the reservation is an upper bound */
	size_t cap = h->objs.cap ? 2 * h->objs.cap : 1 << 16;
	if (cap > UINT32_MAX - 2)
		return -1;
	uint64_t *a = realloc(h->objs.addr, cap * sizeof *a);
	if (!a)
		return -1;
	h->objs.addr = a;
	uint32_t *t = realloc(h->objs.type, cap * sizeof *t);
	if (!t)
		return -1;
	h->objs.type = t;
	uint8_t *f = realloc(h->objs.flags, cap * sizeof *f);
	if (!f)
		return -1;
	h->objs.flags = f;
	uint16_t *z = realloc(h->objs.size, cap * sizeof *z);
	if (!z)
		return -1;
	h->objs.size = z;
	h->objs.cap = cap;
	return 0;
}

/*
 * Objects of pymalloc blocks are most of the heap, and an address -> id hash
 * of tens of millions of them costs more than the rest of the scan (a cache
 * miss per insert and per lookup, rehashing, 12-24 bytes a slot).  So the
 * pool walk numbers them without one: a pool visited for the first time
 * cannot hold an object found before, so its blocks' objects are appended
 * without a lookup, in address order, and after the walk each pool slot of
 * the (sorted) arena ranges records its first id and count.  An address in
 * an arena is then found by its pool and a binary search among that pool's
 * few objects.  Everything else (objects outside the arenas, GC-list objects
 * the pool walk did not find) stays in obj_map.  Should the walk visit a
 * pool twice (a corrupt arena table), or anything else break the pattern,
 * the block objects go into obj_map too and the hash answers for all.
 */
struct ph_blockix {
	ph_map pools;            /* pools visited (walk time) */
	bool slow;               /* block objects are in obj_map */
	bool ready;              /* slot tables built */
	size_t begin, end;       /* ids [begin, end) were added by ph_add_block */
	uint64_t *slot_base;     /* per arena range: index of its first slot */
	uint32_t *first, *count; /* per slot */
	uint64_t nslots;
	unsigned pool_shift;     /* log2(pool_size) */
	uint32_t *pfirst;        /* walk time: per fresh pool, the id of its first object */
	size_t np, pcap;
	/* per slot, a bit for each 16 bytes of the pool where an object starts
	 * (objects in blocks are 16-byte aligned), and per 64-bit word the
	 * objects in the words before it: an object's id is then its pool's
	 * first plus a popcount, with no search through obj_addr */
	uint64_t *bits;
	uint16_t *before;
	unsigned words;          /* per slot */
};

void ph_blockix_free(ph_heap *h)
{
	struct ph_blockix *x = h->objs.blockix;
	if (!x)
		return;
	ph_map_free(&x->pools);
	free(x->pfirst);
	free(x->slot_base);
	free(x->first);
	free(x->count);
	free(x->bits);
	free(x->before);
	free(x);
	h->objs.blockix = NULL;
}

static struct ph_blockix *blockix(ph_heap *h)
{
	if (!h->objs.blockix)
		h->objs.blockix = calloc(1, sizeof *h->objs.blockix);
	return h->objs.blockix;
}

/* Puts the block objects into obj_map: the hash answers for everything. */
static void blocks_to_map(ph_heap *h)
{
	struct ph_blockix *x = h->objs.blockix;
	if (!x || x->slow)
		return;
	x->slow = true;
	x->ready = false;
	if (x->end > x->begin)
		ph_map_reserve(&h->objs.map, h->objs.map.len + (x->end - x->begin));
	for (size_t id = x->begin; id < x->end; id++)
		ph_map_put(&h->objs.map, h->objs.addr[id], (uint32_t)id);
}

static long range_of(const ph_heap *h, uint64_t addr)
{
	return ph_arena_range(h, addr);
}

static inline uint64_t slot_of_addr(const ph_heap *h, const struct ph_blockix *x, long r,
				    uint64_t addr)
{
	/* pool sizes are powers of two: a shift, not a division */
	return x->slot_base[r] + ((addr >> x->pool_shift) - (h->arena_lo[r] >> x->pool_shift));
}

bool ph_pool_begin(ph_heap *h, uint64_t pool)
{
	struct ph_blockix *x = blockix(h);
	if (!x || x->slow)
		return false;
	if (x->pools.cap == 0)
		ph_map_reserve(&x->pools, 1024);
	size_t before = x->pools.len;
	if (ph_map_put(&x->pools, pool, 1) == PH_NONE || x->pools.len == before) {
		blocks_to_map(h);            /* out of memory, or seen before */
		return false;
	}
	uint32_t *n = ph_grow(x->pfirst, x->np, &x->pcap, sizeof *n, 4096);
	if (!n) {
		blocks_to_map(h);
		return false;
	}
	x->pfirst = n;
	x->pfirst[x->np++] = (uint32_t)h->objs.n;
	return true;
}

uint32_t ph_add_block(ph_heap *h, uint64_t addr, uint32_t type)
{
	struct ph_blockix *x = h->objs.blockix;
	if (!x || x->slow || x->ready || (x->end != x->begin && x->end != h->objs.n)) {
		blocks_to_map(h);
		return ph_add_object(h, addr, type, PH_OBJ_ARENA);
	}
	if (h->objs.n == h->objs.cap && grow_objects(h) < 0)
		return PH_NONE;
	uint32_t id = (uint32_t)h->objs.n;
	populate_ahead(h, id);
	if (x->end == x->begin)
		x->begin = id;
	h->objs.addr[id] = addr;
	h->objs.type[id] = type;
	h->objs.flags[id] = PH_OBJ_ARENA;
	h->objs.n++;
	x->end = h->objs.n;
	return id;
}

/* The bitmaps of the slots (see struct ph_blockix); without them (out of
 * memory, an object not 16-byte aligned) the binary search answers. */
static void index_bits(ph_heap *h, struct ph_blockix *x)
{
	if (h->pool_size < 1024 || h->pool_size > (1u << 20))
		return;
	unsigned words = (unsigned)(h->pool_size >> 10);
	uint64_t *bits = calloc(x->nslots * words, sizeof *bits);
	uint16_t *before = malloc(x->nslots * words * sizeof *before);
	if (!bits || !before)
		goto fail;
	/* a slot's objects are ids first .. first + count - 1, all in its pool
	 * (ph_index_blocks checked) */
	for (uint64_t sl = 0; sl < x->nslots; sl++) {
		for (uint32_t k = 0; k < x->count[sl]; k++) {
			uint64_t a = h->objs.addr[x->first[sl] + k];
			if (a & 15)
				goto fail;
			uint64_t g = (a & (h->pool_size - 1)) >> 4;
			bits[sl * words + g / 64] |= 1ull << (g % 64);
		}
	}
	for (uint64_t sl = 0; sl < x->nslots; sl++) {
		uint16_t n = 0;
		for (unsigned w = 0; w < words; w++) {
			before[sl * words + w] = n;
			n = (uint16_t)(n + __builtin_popcountll(bits[sl * words + w]));
		}
		if (n != x->count[sl])
			goto fail;
	}
	x->bits = bits;
	x->before = before;
	x->words = words;
	return;
fail:
	free(bits);
	free(before);
}

void ph_index_blocks(ph_heap *h)
{
	struct ph_blockix *x = h->objs.blockix;
	if (!x || x->slow || x->ready)
		return;
	ph_map_free(&x->pools);
	if (x->end == x->begin || !h->ranges_sorted || !h->pool_size ||
	    (h->pool_size & (h->pool_size - 1))) {
		x->ready = x->end == x->begin;
		if (!x->ready)
			blocks_to_map(h);
		return;
	}
	/* slots: every pool-aligned address of each range */
	uint64_t total = 0;
	x->slot_base = malloc((h->narenas ? h->narenas : 1) * sizeof *x->slot_base);
	if (!x->slot_base) {
		blocks_to_map(h);
		return;
	}
	uint64_t mask = ~(h->pool_size - 1);
	x->pool_shift = (unsigned)__builtin_ctzll(h->pool_size);
	for (size_t r = 0; r < h->narenas; r++) {
		x->slot_base[r] = total;
		if (h->arena_hi[r] > h->arena_lo[r])
			total += (((h->arena_hi[r] - 1) & mask) - (h->arena_lo[r] & mask)) /
				 h->pool_size + 1;
	}
	/* ranges that are not arenas (a corrupt table) could ask for a huge
	 * table: then the hash is cheaper */
	if (total > 4 * (uint64_t)(x->end - x->begin) + (1u << 20)) {
		blocks_to_map(h);
		return;
	}
	x->nslots = total;
	x->first = malloc((total ? total : 1) * sizeof *x->first);
	x->count = calloc(total ? total : 1, sizeof *x->count);
	if (!x->first || !x->count) {
		blocks_to_map(h);
		return;
	}
	/* pool by pool: its objects are the ids from its first to the next
	 * pool's first, appended in block (address) order.  The first and the
	 * last must fall in the same range and slot as ph_object_id will look
	 * them up (then so does every one between); anything else, and the
	 * hash answers. */
	if (x->np == 0 || x->pfirst[0] != x->begin) {
		blocks_to_map(h);
		return;
	}
	for (size_t i = 0; i < x->np; i++) {
		size_t f = x->pfirst[i];
		size_t e = i + 1 < x->np ? x->pfirst[i + 1] : x->end;
		if (e < f || e > x->end) {
			blocks_to_map(h);
			return;
		}
		if (e == f)
			continue;
		uint64_t a0 = h->objs.addr[f], a1 = h->objs.addr[e - 1];
		long r = range_of(h, a0);
		if (r < 0 || range_of(h, a1) != r || a1 < a0 ||
		    slot_of_addr(h, x, r, a1) != slot_of_addr(h, x, r, a0) ||
		    x->count[slot_of_addr(h, x, r, a0)] != 0) {
			blocks_to_map(h);
			return;
		}
		uint64_t s = slot_of_addr(h, x, r, a0);
		x->first[s] = (uint32_t)f;
		x->count[s] = (uint32_t)(e - f);
	}
	x->ready = true;
	free(x->pfirst);
	x->pfirst = NULL;
	x->np = x->pcap = 0;
	index_bits(h, x);
}

uint32_t ph_object_id(const ph_heap *h, uint64_t addr)
{
	const struct ph_blockix *x = h->objs.blockix;
	/* ready without slot tables: the walk numbered no block objects */
	if (x && x->ready && x->slot_base) {
		long r = range_of(h, addr);
		if (r >= 0) {
			uint64_t s = slot_of_addr(h, x, r, addr);
			uint32_t n = x->count[s];
			if (n && x->bits) {
				if (addr & 15)
					return ph_map_get(&h->objs.map, addr);
				uint64_t g = (addr & (h->pool_size - 1)) >> 4;
				size_t w = (size_t)(s * x->words + g / 64);
				uint64_t word = x->bits[w], bit = 1ull << (g % 64);
				if (word & bit)
					return x->first[s] + x->before[w] +
					       (uint32_t)__builtin_popcountll(word & (bit - 1));
			} else if (n) {
				const uint64_t *a = h->objs.addr + x->first[s];
				uint32_t lo = 0, hi = n;
				while (lo < hi) {
					uint32_t mid = (lo + hi) / 2;
					if (a[mid] < addr)
						lo = mid + 1;
					else
						hi = mid;
				}
				if (lo < n && a[lo] == addr)
					return x->first[s] + lo;
			}
		}
	}
	return ph_map_get(&h->objs.map, addr);
}

/*
 * totals_only (`types`, `info`, `arenas`): the pool walk's objects, most of
 * the heap, are counted and visited but not kept: no id, no entry in the
 * object arrays.  Those arrays are 15 bytes an object of fresh memory, and
 * in a VM fresh memory costs more than the walk's reading of the core
 * (bench/notes.txt).  What the rest of the scan needs to know of these
 * objects is whether an address is one (a GC list's object is counted once)
 * and whether a GC list had it already (a list that meets it twice is cut):
 * two bits per 16 bytes of each pool, found through a hash on the pool's
 * address.  For a 1 GB heap that is 8 MB instead of 300.
 */
uint64_t *ph_lean_pool(ph_heap *h, uint64_t pool)
{
	struct ph_lean *L = h->objs.lean;
	if (!L) {
		if (!h->pool_size || (h->pool_size & (h->pool_size - 1)) ||
		    h->pool_size > (1u << 24) || !(L = calloc(1, sizeof *L)))
			return NULL;
		L->words = (unsigned)((h->pool_size / 16 + 63) / 64);
		L->pool_mask = ~(h->pool_size - 1);
		h->objs.lean = L;
	}
	size_t rec = 2 * (size_t)L->words;
	uint32_t i = ph_map_get(&L->pools, pool);
	if (i != PH_NONE)
		return L->bits + i * rec;
	if (L->n >= UINT32_MAX - 2)
		return NULL;
	uint64_t *n = ph_grow(L->bits, L->n, &L->cap, rec * sizeof *n, 4096);
	if (!n)
		return NULL;
	L->bits = n;
	if (ph_map_put(&L->pools, pool, (uint32_t)L->n) != L->n)
		return NULL;
	uint64_t *b = L->bits + L->n++ * rec;
	memset(b, 0, rec * sizeof *b);
	return b;
}

uint64_t *ph_lean_bits(const ph_heap *h, uint64_t addr, uint64_t *word, uint64_t *bit)
{
	const struct ph_lean *L = h->objs.lean;
	if (!L || (addr & 15))
		return NULL;
	uint64_t pool = addr & L->pool_mask;
	uint32_t i = ph_map_get(&L->pools, pool);
	if (i == PH_NONE)
		return NULL;
	uint64_t g = (addr - pool) >> 4;
	*word = g / 64;
	*bit = 1ull << (g % 64);
	return L->bits + (size_t)i * 2 * L->words;
}

/* Whether the pool walk counted an object at addr (totals_only). */
static bool lean_counted(const ph_heap *h, uint64_t addr)
{
	uint64_t w, bit;
	const uint64_t *b = ph_lean_bits(h, addr, &w, &bit);
	return b && (b[w] & bit);
}

void ph_lean_free(ph_heap *h)
{
	if (!h->objs.lean)
		return;
	ph_map_free(&h->objs.lean->pools);
	free(h->objs.lean->bits);
	free(h->objs.lean);
	h->objs.lean = NULL;
}

uint32_t ph_add_object(ph_heap *h, uint64_t addr, uint32_t type, unsigned flags)
{
	if (h->objs.lean && lean_counted(h, addr))
		return PH_NONE;      /* counted by the pool walk, without an id */
	/* block objects not yet indexed are invisible to ph_object_id */
	if (h->objs.blockix && !h->objs.blockix->ready && h->objs.blockix->end > h->objs.blockix->begin)
		blocks_to_map(h);
	uint32_t id = ph_object_id(h, addr);
	if (id != PH_NONE) {
		h->objs.flags[id] |= (uint8_t)flags;
		return id;
	}
	if (h->objs.n == h->objs.cap && grow_objects(h) < 0)
		return PH_NONE;
	id = (uint32_t)h->objs.n;
	if (ph_map_put(&h->objs.map, addr, id) != id)
		return PH_NONE;
	h->objs.addr[id] = addr;
	h->objs.type[id] = type;
	h->objs.flags[id] = (uint8_t)flags;
	h->objs.n++;
	return id;
}


void ph_object_set_size(ph_heap *h, uint32_t id, uint64_t size)
{
	h->objs.size[id] = size < UINT16_MAX ? (uint16_t)size : UINT16_MAX;
	if (size >= UINT16_MAX) {
		/* 64 KiB and up (few: big containers, long strs): kept aside,
		 * in id order */
		struct ph_big_size *n = ph_grow(h->objs.big, h->objs.nbig, &h->objs.big_cap, sizeof *n, 16);
		if (n) {
			h->objs.big = n;
			h->objs.big[h->objs.nbig++] = (struct ph_big_size){id, size};
		}
	}
}

size_t ph_object_count(const ph_heap *h) { return h->objs.n + h->objs.nlean; }
uint64_t ph_object_addr(const ph_heap *h, ph_id id) { return h->objs.addr[id]; }
uint32_t ph_object_type(const ph_heap *h, ph_id id) { return h->objs.type[id]; }
uint64_t ph_object_size(const ph_heap *h, ph_id id)
{
	if (!h->objs.size)
		return 0;
	if (h->objs.size[id] != UINT16_MAX)
		return h->objs.size[id];
	size_t lo = 0, hi = h->objs.nbig;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->objs.big[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->objs.nbig && h->objs.big[lo].id == id ? h->objs.big[lo].size : UINT16_MAX;
}
unsigned ph_object_flags(const ph_heap *h, ph_id id) { return h->objs.flags[id]; }
uint64_t ph_gc_object_count(const ph_heap *h) { return h->gc_objects; }
uint64_t ph_total_size(const ph_heap *h) { return h->total_size; }
