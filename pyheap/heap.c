/*
 * heap.c - the object table and the scan that fills it.
 *
 * Objects get dense uint32 ids in the order they are found; their address,
 * type and size live in flat arrays.  The scan is: used pymalloc blocks,
 * then the GC lists, then the references of everything found, which bring
 * in what lives outside the arenas and off the GC lists (str, bytes and int
 * over 512 bytes, untracked big tuples, static objects).  Each object has
 * its references followed and its size taken once, by ph_object_visit: the
 * pool walk visits each block's object as it finds it, while the block is
 * in the cache, and a loop over the ids found later (a worklist that grows
 * as it goes, so no recursion) does the rest.
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
	size_t to = id + POPULATE_STEP < h->obj_cap ? id + POPULATE_STEP : h->obj_cap;
	populate(h->obj_addr, sizeof *h->obj_addr, id, to);
	populate(h->obj_type, sizeof *h->obj_type, id, to);
	populate(h->obj_size, sizeof *h->obj_size, id, to);
	populate(h->obj_flags, sizeof *h->obj_flags, id, to);
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
	size_t o_type = o_size + align_up((size_t)cap * sizeof *h->obj_size, HUGE_ALIGN);
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
	h->obj_mem = m;
	h->obj_mem_len = len + HUGE_ALIGN;
	h->obj_addr = (uint64_t *)base;
	h->obj_size = (uint16_t *)(base + o_size);
	h->obj_type = (uint32_t *)(base + o_type);
	h->obj_flags = base + o_flags;
	h->obj_cap = (size_t)cap;
	return 0;
}

void ph_objects_free(ph_heap *h)
{
	if (h->obj_mem) {
		munmap(h->obj_mem, h->obj_mem_len);
	} else {
		free(h->obj_addr);
		free(h->obj_type);
		free(h->obj_size);
		free(h->obj_flags);
	}
	h->obj_mem = NULL;
	free(h->big_sizes);
	h->big_sizes = NULL;
	h->nbig = h->big_cap = 0;
	h->obj_addr = NULL;
	h->obj_size = NULL;
	h->obj_type = NULL;
	h->obj_flags = NULL;
	h->nobj = h->obj_cap = 0;
}

static int grow_objects(ph_heap *h)
{
	if (!h->obj_cap && !h->obj_addr && reserve_objects(h) == 0)
		return 0;
	if (h->obj_mem)
		return -1;               /* the reservation is an upper bound */
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
	uint16_t *z = realloc(h->obj_size, cap * sizeof *z);
	if (!z)
		return -1;
	h->obj_size = z;
	h->obj_cap = cap;
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
	struct ph_blockix *x = h->blockix;
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
	h->blockix = NULL;
}

static struct ph_blockix *blockix(ph_heap *h)
{
	if (!h->blockix)
		h->blockix = calloc(1, sizeof *h->blockix);
	return h->blockix;
}

/* Puts the block objects into obj_map: the hash answers for everything. */
static void blocks_to_map(ph_heap *h)
{
	struct ph_blockix *x = h->blockix;
	if (!x || x->slow)
		return;
	x->slow = true;
	x->ready = false;
	if (x->end > x->begin)
		ph_map_reserve(&h->obj_map, h->obj_map.len + (x->end - x->begin));
	for (size_t id = x->begin; id < x->end; id++)
		ph_map_put(&h->obj_map, h->obj_addr[id], (uint32_t)id);
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
	if (ph_map_put(&x->pools, pool, 1) == PH_MAP_NONE || x->pools.len == before) {
		blocks_to_map(h);            /* out of memory, or seen before */
		return false;
	}
	uint32_t *n = ph_grow(x->pfirst, x->np, &x->pcap, sizeof *n, 4096);
	if (!n) {
		blocks_to_map(h);
		return false;
	}
	x->pfirst = n;
	x->pfirst[x->np++] = (uint32_t)h->nobj;
	return true;
}

uint32_t ph_add_block(ph_heap *h, uint64_t addr, uint32_t type)
{
	struct ph_blockix *x = h->blockix;
	if (!x || x->slow || x->ready || (x->end != x->begin && x->end != h->nobj)) {
		blocks_to_map(h);
		return ph_add_object(h, addr, type, PH_OBJ_ARENA);
	}
	if (h->nobj == h->obj_cap && grow_objects(h) < 0)
		return PH_MAP_NONE;
	uint32_t id = (uint32_t)h->nobj;
	populate_ahead(h, id);
	if (x->end == x->begin)
		x->begin = id;
	h->obj_addr[id] = addr;
	h->obj_type[id] = type;
	h->obj_flags[id] = PH_OBJ_ARENA;
	h->nobj++;
	x->end = h->nobj;
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
			uint64_t a = h->obj_addr[x->first[sl] + k];
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
	struct ph_blockix *x = h->blockix;
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
		uint64_t a0 = h->obj_addr[f], a1 = h->obj_addr[e - 1];
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
	const struct ph_blockix *x = h->blockix;
	/* ready without slot tables: the walk numbered no block objects */
	if (x && x->ready && x->slot_base) {
		long r = range_of(h, addr);
		if (r >= 0) {
			uint64_t s = slot_of_addr(h, x, r, addr);
			uint32_t n = x->count[s];
			if (n && x->bits) {
				if (addr & 15)
					return ph_map_get(&h->obj_map, addr);
				uint64_t g = (addr & (h->pool_size - 1)) >> 4;
				size_t w = (size_t)(s * x->words + g / 64);
				uint64_t word = x->bits[w], bit = 1ull << (g % 64);
				if (word & bit)
					return x->first[s] + x->before[w] +
					       (uint32_t)__builtin_popcountll(word & (bit - 1));
			} else if (n) {
				const uint64_t *a = h->obj_addr + x->first[s];
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
	return ph_map_get(&h->obj_map, addr);
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
	struct ph_lean *L = h->lean;
	if (!L) {
		if (!h->pool_size || (h->pool_size & (h->pool_size - 1)) ||
		    h->pool_size > (1u << 24) || !(L = calloc(1, sizeof *L)))
			return NULL;
		L->words = (unsigned)((h->pool_size / 16 + 63) / 64);
		L->pool_mask = ~(h->pool_size - 1);
		h->lean = L;
	}
	size_t rec = 2 * (size_t)L->words;
	uint32_t i = ph_map_get(&L->pools, pool);
	if (i != PH_MAP_NONE)
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
	const struct ph_lean *L = h->lean;
	if (!L || (addr & 15))
		return NULL;
	uint64_t pool = addr & L->pool_mask;
	uint32_t i = ph_map_get(&L->pools, pool);
	if (i == PH_MAP_NONE)
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
	if (!h->lean)
		return;
	ph_map_free(&h->lean->pools);
	free(h->lean->bits);
	free(h->lean);
	h->lean = NULL;
}

uint32_t ph_add_object(ph_heap *h, uint64_t addr, uint32_t type, unsigned flags)
{
	if (h->lean && lean_counted(h, addr))
		return PH_MAP_NONE;      /* counted by the pool walk, without an id */
	/* block objects not yet indexed are invisible to ph_object_id */
	if (h->blockix && !h->blockix->ready && h->blockix->end > h->blockix->begin)
		blocks_to_map(h);
	uint32_t id = ph_object_id(h, addr);
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
		if (target - h->near_lo < h->near_len)
			return;
		long r = ph_arena_range(h, target);
		if (r >= 0) {
			h->near_lo = h->arena_lo[r];
			h->near_len = h->arena_hi[r] - h->arena_lo[r];
			return;
		}
	}
	if (h->deferring) {
		/* During the pool walk an object cannot be added out of turn
		 * (the blocks are numbered by pool): keep the address for later.
		 * The same few targets (classes, None, small ints) come up again
		 * and again; a small cache keeps them out of the list. */
		size_t slot = (size_t)(target >> 3) & 255;
		if (h->pending_seen[slot] == target)
			return;
		h->pending_seen[slot] = target;
		uint64_t *n = ph_grow(h->pending, h->npending, &h->pending_cap, sizeof *n, 4096);
		if (!n)
			return;
		h->pending = n;
		h->pending[h->npending++] = target;
		return;
	}
	if (ph_map_get(&h->obj_map, target) != PH_MAP_NONE)
		return;
	uint32_t ti = ph_object_check(h, target, 0);
	if (ti != TYPE_INVALID)
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
	return size;
}

void ph_lean_visit(ph_heap *h, uint64_t addr, uint32_t ti)
{
	visit(h, addr, ti);
	h->nlean++;
}

void ph_object_visit(ph_heap *h, uint32_t id)
{
	if (id != h->walked)
		return;                  /* seen before, or left for ph_scan's loop */
	uint32_t ti = h->obj_type[id];
	uint64_t addr = h->obj_addr[id], refcnt = 0;
	if (rd64(h, addr, &refcnt) && ph_refcnt_immortal(h, refcnt, h->obj_flags[id]))
		h->obj_flags[id] |= PH_OBJ_IMMORTAL;
	uint64_t size = visit(h, addr, ti);
	h->obj_size[id] = size < UINT16_MAX ? (uint16_t)size : UINT16_MAX;
	if (size >= UINT16_MAX) {
		/* 64 KiB and up (few: big containers, long strs): kept aside,
		 * in id order */
		struct ph_big_size *n = ph_grow(h->big_sizes, h->nbig, &h->big_cap, sizeof *n, 16);
		if (n) {
			h->big_sizes = n;
			h->big_sizes[h->nbig++] = (struct ph_big_size){id, size};
		}
	}
	h->walked++;
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
	h->walked = 0;
	h->scan_refs = 0;
	ph_walk_threads(h);
	ph_gc_chase_start(h);
	h->deferring = true;
	ph_walk_arenas(h, progress, payload);
	h->deferring = false;
	if (ph_walk_gc(h) < 0)
		ph_warn(h, W_OFFSETS, "GC lists not walked: no offsets for the GC state");
	for (size_t i = 0; i < h->npending; i++)
		discover(h, h->pending[i]);
	free(h->pending);
	h->pending = NULL;
	h->npending = h->pending_cap = 0;

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
	/* the rest, over a worklist that grows as it goes */
	while (h->walked < h->nobj) {
		size_t id = h->walked;
		ph_object_visit(h, (uint32_t)id);
		if (progress && (id & 0xfffff) == 0)
			progress("references", id, h->nobj, payload);
	}
	if (!h->obj_size && !(h->obj_size = malloc(sizeof *h->obj_size))) {
		snprintf(err, errlen, "%s: out of memory", core_path(h->core));
		return -1;
	}
	if (h->nobj + h->nlean == 0) {
		snprintf(err, errlen, "%s: no Python objects found (is the heap in the core?)",
			 core_path(h->core));
		return -1;
	}
	h->scanned = true;
	return 0;
}

size_t ph_object_count(const ph_heap *h) { return h->nobj + h->nlean; }
uint64_t ph_object_addr(const ph_heap *h, ph_id id) { return h->obj_addr[id]; }
uint32_t ph_object_type(const ph_heap *h, ph_id id) { return h->obj_type[id]; }
uint64_t ph_object_size(const ph_heap *h, ph_id id)
{
	if (!h->obj_size)
		return 0;
	if (h->obj_size[id] != UINT16_MAX)
		return h->obj_size[id];
	size_t lo = 0, hi = h->nbig;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->big_sizes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->nbig && h->big_sizes[lo].id == id ? h->big_sizes[lo].size : UINT16_MAX;
}
unsigned ph_object_flags(const ph_heap *h, ph_id id) { return h->obj_flags[id]; }
uint64_t ph_gc_object_count(const ph_heap *h) { return h->gc_objects; }
uint64_t ph_total_size(const ph_heap *h) { return h->total_size; }
