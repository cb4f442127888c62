/*
 * malloc.c - glibc's allocator in a core: its arenas, their heaps and every
 * chunk in them, the mmapped chunks, and the free lists (bins, fastbins,
 * tcache, top), with the figures glibc's mallinfo2() would have given.
 *
 * What glibc keeps (malloc/malloc.c, malloc/arena.c; x86-64):
 *   - main_arena, a struct malloc_state in libc's .data: its chunks lie in
 *     the brk heap, from mp_.sbrk_base to the end of its top chunk;
 *   - per-thread arenas, each a malloc_state just after the heap_info that
 *     starts its first heap; heaps are 64 MiB-aligned (HEAP_MAX_SIZE) and
 *     start with heap_info {ar_ptr, prev, size, mprotect_size[, pagesize]};
 *     the arenas form a ring through malloc_state.next, main_arena in it;
 *   - mmapped chunks, standing alone, their size field flagged IS_MMAPPED;
 *     mp_.n_mmaps and mp_.mmapped_mem count them;
 *   - free chunks in the arena's bins (doubly linked: unsorted, small,
 *     large) and fastbins (singly linked), and in each thread's tcache (a
 *     tcache_perthread_struct chunk: counts[64], then entries[64]; from
 *     glibc 2.42 num_slots[76], then entries[76], where num_slots is the
 *     room left, mp_.tcache_count less the list's length, and bins 64-75
 *     hold chunks of 1 KiB << (bin - 64) up to twice that, in use only
 *     when the tunable glibc.malloc.tcache_max is raised); from glibc
 *     2.32 the singly linked next pointers are "safe-linked", stored as
 *     (address of the field >> 12) ^ pointer.
 *
 * All of it is found through libc's symbols (main_arena, mp_) and DWARF
 * when libc's debug info is at hand, and otherwise by structure, as
 * vmware's chap does: main_arena by its bins, every one of which is empty
 * (pointing at itself) or linked both ways, in libc's writable data;
 * thread arenas through the ring and by heap_info headers at 64 MiB
 * alignment; the layouts (malloc_state with or without have_fastchunks,
 * heap_info of 32 or 48 bytes, mp_ before or after glibc 2.35's huge page
 * fields, tcache counts of one or two bytes) voted on by what the core
 * holds.  mmapped chunks are found by their headers at the page starts of
 * anonymous memory that no heap holds.
 *
 * The figures follow int_mallinfo: fordblks is every arena's top chunk,
 * fastbins and bins; uordblks is system_mem less that, so tcache chunks
 * count as in use there (they are free to the program).
 *
 * Nothing here prints.  Walks are bounded; a chunk that breaks the heap's
 * invariants ends its heap's walk with a warning, the bytes after it
 * counted as not walked.
 */
#include "coreInt.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_MAX (64ull << 20)       /* HEAP_MAX_SIZE on 64-bit */
#define NBINS 128
#define NFASTBINS 10
#define MAX_ARENAS 4096
#define MAX_HEAPS_PER_ARENA 4096
#define SIZE_BITS 7ull
#define PREV_INUSE 1ull
#define IS_MMAPPED 2ull
#define NONCONTIGUOUS 2u             /* malloc_state.flags */

/* struct malloc_state, by release: where its fields are. */
typedef struct ms_layout {
	const char *name;
	uint32_t flags, fastbins, top, bins, next, system_mem, size;
	unsigned nfastbins;
} ms_layout;

static const ms_layout ms_layouts[] = {
	/* 2.27 - 2.41: int have_fastchunks after flags, then a hole */
	{"2.27+", 4, 16, 96, 112, 2160, 2184, 2200, NFASTBINS},
	/* 2.26 and before: no have_fastchunks */
	{"2.26-", 4, 8, 88, 104, 2152, 2176, 2192, NFASTBINS},
	/* later releases (Debian sid's 2.43): no fastbins */
	{"no fastbins", 4, 0, 8, 24, 2072, 2096, 2112, 0},
};

/* struct malloc_par (mp_), by release; with tcache (2.26+). */
typedef struct mp_layout {
	const char *name;
	uint32_t mmap_threshold, n_mmaps, n_mmaps_max, mmapped_mem, sbrk_base, tcache_bins,
		 tcache_count;
} mp_layout;

static const mp_layout mp_layouts[] = {
	/* 2.35+: thp_pagesize, hp_pagesize, hp_flags before n_mmaps */
	{"2.35+", 16, 60, 64, 80, 96, 104, 120},
	{"2.26-2.34", 16, 40, 44, 56, 72, 80, 96},
};

/* tcache lists: 64 of chunks 32 + 16 * i bytes; 2.42+ 12 more of larger ones */
#define TCACHE_SMALL_BINS 64
#define TCACHE_BINS_MAX 76

typedef struct heap_rec {
	uint64_t addr, size, mprotect_size, prev;
	int arena;
} heap_rec;

struct core_malloc {
	core_t *core;
	core_module_t *libc;
	const char *found_by;
	char version[24];
	int safe_linking;            /* 1, 0, or -1 when no list told */
	ms_layout ms;
	uint64_t heap_info_size;     /* 32 or 48 */
	uint64_t tcache_struct;      /* chunk size of a tcache_perthread_struct */
	unsigned tcache_count_bytes; /* 2 (2.30+) or 1 */
	unsigned tcache_nbins;       /* 64, or 76 (2.42+) */
	int tcache_slots;            /* 2.42+: the counts are the room left */
	uint64_t page;

	core_malloc_arena *arenas;
	size_t narenas, arenas_cap;
	heap_rec *heaps;
	size_t nheaps, heaps_cap;
	core_malloc_region *regions;
	size_t nregions, regions_cap;
	core_chunk *chunks;
	size_t nchunks, chunks_cap;

	int have_mp;
	uint64_t mp_n_mmaps, mp_mmapped_mem, mp_sbrk_base, mp_mmap_threshold, mp_tcache_count;
	uint64_t scan_mmaps, scan_mmapped;
	core_mallinfo mi;
	size_t tcaches;
	uint64_t walk_problems;
};

/* ---- small helpers ---- */

static int rd(const core_malloc *m, uint64_t a, uint64_t *v)
{
	return core_read_u64(m->core, a, v) == 0;
}

static void *grow(void *arr, size_t n, size_t *cap, size_t elem)
{
	if (n < *cap)
		return arr;
	size_t c = *cap ? 2 * *cap : 64;
	if (c > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

static int add_chunk(core_malloc *m, uint64_t addr, uint64_t size, unsigned state)
{
	core_chunk *c = grow(m->chunks, m->nchunks, &m->chunks_cap, sizeof *c);
	if (!c)
		return -1;
	m->chunks = c;
	c[m->nchunks++] = (core_chunk){addr, (size & ~15ull) | state};
	return 0;
}

static int add_region(core_malloc *m, uint64_t lo, uint64_t hi, int kind, int arena)
{
	core_malloc_region *r = grow(m->regions, m->nregions, &m->regions_cap, sizeof *r);
	if (!r)
		return -1;
	m->regions = r;
	r[m->nregions++] = (core_malloc_region){lo, hi, kind, arena};
	return 0;
}

/* The region holding addr among the first n regions (sorted, not
 * overlapping), or NULL. */
static const core_malloc_region *region_in(const core_malloc *m, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->regions[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= m->regions[lo - 1].hi)
		return NULL;
	return &m->regions[lo - 1];
}

static const core_malloc_region *region_of(const core_malloc *m, uint64_t addr)
{
	return region_in(m, m->nregions, addr);
}

static int region_cmp(const void *a, const void *b)
{
	const core_malloc_region *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

static void sort_regions(core_malloc *m)
{
	if (m->nregions)
		qsort(m->regions, m->nregions, sizeof *m->regions, region_cmp);
	/* overlapping regions (a corrupt heap_info): keep the first */
	size_t out = 0;
	for (size_t i = 0; i < m->nregions; i++) {
		if (out && m->regions[i].lo < m->regions[out - 1].hi) {
			core_warn(m->core, "glibc malloc: heap at 0x%llx overlaps another, ignored",
				  (unsigned long long)m->regions[i].lo);
			continue;
		}
		m->regions[out++] = m->regions[i];
	}
	m->nregions = out;
}

/* The glibc release from the version string in libc's read-only data
 * ("... release version 2.36."), for display and for safe-linking. */
static void find_version(core_malloc *m)
{
	uint64_t a, sz;
	static const char key[] = "release version ";
	if (core_module_section(m->libc, ".rodata", &a, &sz) < 0 || sz > (64u << 20))
		return;
	for (uint64_t off = 0; off < sz; off += 65536) {
		char buf[65536 + 64];
		size_t want = sz - off > sizeof buf ? sizeof buf : (size_t)(sz - off);
		size_t got = core_read(m->core, a + off, buf, want);
		const char *p = memmem(buf, got, key, sizeof key - 1);
		if (p && (size_t)(p - buf) + sizeof key + 8 <= got) {
			p += sizeof key - 1;
			size_t n = 0;
			while (n < sizeof m->version - 1 && ((p[n] >= '0' && p[n] <= '9') ||
			       (p[n] == '.' && p[n + 1] >= '0' && p[n + 1] <= '9')))
				n++;
			memcpy(m->version, p, n);
			m->version[n] = 0;
			return;
		}
		if (got < want)
			return;
	}
}

/* The glibc minor version (36 for "2.36"), 0 when unknown. */
static int glibc_minor(const core_malloc *m)
{
	if (strncmp(m->version, "2.", 2) != 0)
		return 0;
	return atoi(m->version + 2);
}

/* ---- malloc_state ---- */

static uint64_t bin_at(const core_malloc *m, uint64_t st, unsigned i)
{
	/* the bin's fd/bk pair posing as a chunk's: 16 bytes before it */
	return st + m->ms.bins + (uint64_t)(i - 1) * 16 - 16;
}

/* Whether st has every bin empty (pointing at itself) or linked both ways
 * (its first chunk's bk and its last chunk's fd lead back), under layout
 * L: malloc_state's signature. */
static int bins_valid(const core_malloc *m, uint64_t st, const ms_layout *L)
{
	uint64_t words[254];
	if (core_read(m->core, st + L->bins, words, sizeof words) != sizeof words)
		return 0;
	for (unsigned i = 1; i < NBINS; i++) {
		uint64_t b = st + L->bins + (uint64_t)(i - 1) * 16 - 16;
		uint64_t fd = words[2 * (i - 1)], bk = words[2 * (i - 1) + 1], v;
		if (fd == b && bk == b)
			continue;
		if (!fd || !bk || (fd & 15) || (bk & 15) || !rd(m, fd + 24, &v) || v != b ||
		    !rd(m, bk + 16, &v) || v != b)
			return 0;
	}
	return 1;
}

/* A malloc_state's top chunk and system_mem are sane. */
static int state_sane(const core_malloc *m, uint64_t st, const ms_layout *L)
{
	uint64_t top, sm, sz;
	return rd(m, st + L->top, &top) && top && !(top & 15) && rd(m, st + L->system_mem, &sm) &&
	       sm && !(sm & 15) && sm < (1ull << 46) && rd(m, top + 8, &sz) &&
	       (sz & ~SIZE_BITS) >= 16 && (sz & ~SIZE_BITS) <= sm;
}

/* Whether following next from st, through sane states, leads back to it
 * (a layout that reads the bins of a neighbouring one would not). */
static int ring_closes(const core_malloc *m, uint64_t st, const ms_layout *L)
{
	uint64_t p = st;
	for (int n = 0; n < MAX_ARENAS; n++) {
		if (!rd(m, p + L->next, &p) || !p)
			return 0;
		if (p == st)
			return 1;
		if (!state_sane(m, p, L))
			return 0;
	}
	return 0;
}

/* main_arena in libc's writable data, by its shape; the layout too. */
static uint64_t find_main_arena(core_malloc *m)
{
	size_t nd = core_module_data_count(m->libc);
	for (size_t d = 0; d < nd; d++) {
		uint64_t a, sz;
		if (core_module_data_at(m->libc, d, &a, &sz) < 0)
			continue;
		for (uint64_t st = (a + 7) & ~7ull; st + 2200 <= a + sz; st += 8) {
			for (size_t l = 0; l < sizeof ms_layouts / sizeof ms_layouts[0]; l++) {
				const ms_layout *L = &ms_layouts[l];
				uint64_t b = st + L->bins - 16, w[2];
				/* cheap test first: the unsorted bin */
				if (core_read(m->core, st + L->bins, w, 16) != 16 || !w[0] || !w[1] ||
				    ((w[0] != b || w[1] != b) && ((w[0] & 15) || (w[1] & 15))))
					continue;
				if (bins_valid(m, st, L) && state_sane(m, st, L) &&
				    ring_closes(m, st, L)) {
					m->ms = *L;
					return st;
				}
			}
		}
	}
	return 0;
}

/* A tcache_perthread_struct of nbins lists, its counts (the room left
 * when slots) of cb bytes each: the chunk holding it is the struct's size,
 * with its 8-byte header, rounded up to 16. */
static void set_tcache_layout(core_malloc *m, unsigned cb, unsigned nbins, int slots)
{
	m->tcache_count_bytes = cb;
	m->tcache_nbins = nbins;
	m->tcache_slots = slots;
	m->tcache_struct = ((uint64_t)nbins * (cb + 8) + 8 + 15) & ~15ull;
}

/* Layout from libc's DWARF; 0 on success. */
static int ms_from_dwarf(core_malloc *m)
{
	uint64_t v[6], size;
	unsigned nfast = NFASTBINS;
	static const char *const f[] = {"flags", "fastbinsY", "top", "bins", "next", "system_mem"};
	for (int i = 0; i < 6; i++)
		if (core_module_member_offset(m->libc, "malloc_state", f[i], &v[i]) < 0) {
			if (i != 1)
				return -1;
			v[1] = 0;         /* a release without fastbins */
			nfast = 0;
		}
	if (core_module_type_size(m->libc, "malloc_state", &size) < 0)
		return -1;
	m->ms = (ms_layout){"dwarf", (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2],
			    (uint32_t)v[3], (uint32_t)v[4], (uint32_t)v[5], (uint32_t)size, nfast};
	uint64_t hs;
	if (core_module_type_size(m->libc, "heap_info", &hs) == 0 && (hs == 32 || hs == 48))
		m->heap_info_size = hs;
	uint64_t ts, off;
	if (core_module_type_size(m->libc, "tcache_perthread_struct", &ts) == 0) {
		if (ts == 640 || ts == 576)
			set_tcache_layout(m, ts == 640 ? 2 : 1, 64, 0);
		else if (ts == TCACHE_BINS_MAX * 10 &&
			 core_module_member_offset(m->libc, "tcache_perthread_struct",
						   "num_slots", &off) == 0 && off == 0)
			set_tcache_layout(m, 2, TCACHE_BINS_MAX, 1);
	}
	return 0;
}

/* ---- mp_ ---- */

static void read_mp(core_malloc *m, uint64_t mp, const mp_layout *L)
{
	uint32_t n = 0;
	core_read_u32(m->core, mp + L->n_mmaps, &n);
	m->mp_n_mmaps = n;
	rd(m, mp + L->mmapped_mem, &m->mp_mmapped_mem);
	rd(m, mp + L->sbrk_base, &m->mp_sbrk_base);
	rd(m, mp + L->mmap_threshold, &m->mp_mmap_threshold);
	if (!rd(m, mp + L->tcache_count, &m->mp_tcache_count) || m->mp_tcache_count > 65535)
		m->mp_tcache_count = 0;
	m->have_mp = 1;
}

static int mp_from_dwarf(core_malloc *m, uint64_t mp)
{
	uint64_t v[7];
	static const char *const f[] = {"mmap_threshold", "n_mmaps", "n_mmaps_max", "mmapped_mem",
					"sbrk_base", "tcache_bins", "tcache_count"};
	for (int i = 0; i < 7; i++)
		if (core_module_member_offset(m->libc, "malloc_par", f[i], &v[i]) < 0)
			return -1;
	mp_layout L = {"dwarf", (uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], (uint32_t)v[3],
		       (uint32_t)v[4], (uint32_t)v[5], (uint32_t)v[6]};
	read_mp(m, mp, &L);
	return 0;
}

/* mp_ by shape: in libc's data, its sbrk_base is the brk heap's start, and
 * the tunables around it have their ranges. */
static void find_mp(core_malloc *m, uint64_t sbrk_base)
{
	size_t nd = core_module_data_count(m->libc);
	for (size_t d = 0; d < nd && sbrk_base; d++) {
		uint64_t a, sz;
		if (core_module_data_at(m->libc, d, &a, &sz) < 0)
			continue;
		for (uint64_t p = (a + 7) & ~7ull; p + 8 <= a + sz; p += 8) {
			uint64_t v;
			if (!rd(m, p, &v) || v != sbrk_base)
				continue;
			for (size_t l = 0; l < sizeof mp_layouts / sizeof mp_layouts[0]; l++) {
				const mp_layout *L = &mp_layouts[l];
				uint64_t mp = p - L->sbrk_base, bins, cnt, thr;
				uint32_t nmax = 0;
				if (p < a + L->sbrk_base || !rd(m, mp + L->tcache_bins, &bins) ||
				    !rd(m, mp + L->tcache_count, &cnt) ||
				    !rd(m, mp + L->mmap_threshold, &thr) ||
				    core_read_u32(m->core, mp + L->n_mmaps_max, &nmax) < 0)
					continue;
				if (bins > TCACHE_BINS_MAX || cnt > 65535 || thr > (32u << 20) || nmax == 0 ||
				    nmax > (1u << 24))
					continue;
				read_mp(m, mp, L);
				return;
			}
		}
	}
}

/* ---- arenas and heaps ---- */

static int add_arena(core_malloc *m, uint64_t st, int is_main)
{
	for (size_t i = 0; i < m->narenas; i++)
		if (m->arenas[i].state == st)
			return (int)i;
	if (m->narenas >= MAX_ARENAS)
		return -1;
	core_malloc_arena *a = grow(m->arenas, m->narenas, &m->arenas_cap, sizeof *a);
	if (!a)
		return -1;
	m->arenas = a;
	memset(&a[m->narenas], 0, sizeof *a);
	a[m->narenas].state = st;
	a[m->narenas].main = is_main;
	rd(m, st + m->ms.system_mem, &a[m->narenas].system_mem);
	rd(m, st + m->ms.top, &a[m->narenas].top);
	uint64_t sz = 0;
	rd(m, a[m->narenas].top + 8, &sz);
	a[m->narenas].top_size = sz & ~SIZE_BITS;
	return (int)m->narenas++;
}

/* Whether a heap_info can be at h (64 MiB-aligned). */
static int heap_info_at(const core_malloc *m, uint64_t h, heap_rec *out)
{
	uint64_t w[4];
	if ((h & (HEAP_MAX - 1)) || core_read(m->core, h, w, sizeof w) != sizeof w)
		return 0;
	if (!w[0] || (w[0] & 7) || (w[1] & (HEAP_MAX - 1)) || w[1] == h || !w[2] ||
	    (w[2] & (m->page - 1)) || w[2] > HEAP_MAX || w[3] < w[2] || w[3] > HEAP_MAX ||
	    (w[3] & (m->page - 1)))
		return 0;
	/* a first heap holds its arena's state right after the header */
	if (!w[1] && w[0] != h + 32 && w[0] != h + 48)
		return 0;
	*out = (heap_rec){h, w[2], w[3], w[1], -1};
	return 1;
}

static int add_heap(core_malloc *m, const heap_rec *r)
{
	for (size_t i = 0; i < m->nheaps; i++)
		if (m->heaps[i].addr == r->addr)
			return 0;
	heap_rec *n = grow(m->heaps, m->nheaps, &m->heaps_cap, sizeof *n);
	if (!n)
		return -1;
	m->heaps = n;
	m->heaps[m->nheaps++] = *r;
	return 0;
}

/* Every heap_info at 64 MiB alignment in anonymous writable memory. */
static void scan_heap_infos(core_malloc *m)
{
	size_t ns = core_segment_count(m->core);
	for (size_t i = 0; i < ns; i++) {
		const core_segment *s = core_segment_at(m->core, i);
		if (s->file || !(s->flags & CORE_SEG_W))
			continue;
		for (uint64_t h = (s->vaddr + HEAP_MAX - 1) & ~(HEAP_MAX - 1);
		     h >= s->vaddr && h < s->vaddr + s->filesz; h += HEAP_MAX) {
			heap_rec r;
			if (heap_info_at(m, h, &r))
				add_heap(m, &r);
			if (h + HEAP_MAX < h)
				break;
		}
	}
}

/* The heaps of thread arena ai: from the one holding its top back along
 * prev. */
static void arena_heaps(core_malloc *m, int ai)
{
	uint64_t h = m->arenas[ai].top & ~(HEAP_MAX - 1);
	for (int n = 0; h && n < MAX_HEAPS_PER_ARENA; n++) {
		heap_rec r;
		if (!heap_info_at(m, h, &r)) {
			core_warn(m->core, "glibc malloc: arena 0x%llx: no heap_info at 0x%llx",
				  (unsigned long long)m->arenas[ai].state, (unsigned long long)h);
			break;
		}
		uint64_t ar = 0;
		rd(m, h, &ar);
		if (ar != m->arenas[ai].state)
			break;
		r.arena = ai;
		add_heap(m, &r);
		h = r.prev;
	}
}

/* ---- the chunk walk ---- */

/* Walks the chunks of [start, end) of arena ai; top ends it.  Returns the
 * bytes the walk could not account for (a broken chunk on). */
static uint64_t walk_chunks(core_malloc *m, int ai, uint64_t start, uint64_t end)
{
	core_malloc_arena *a = &m->arenas[ai];
	uint64_t p = start;
	while (p + 16 <= end) {
		uint64_t w, sz, nw = 0;
		if (!rd(m, p + 8, &w))
			goto broken;
		sz = w & ~SIZE_BITS;
		if (p == a->top) {
			if (p + sz != end)
				goto broken;
			add_chunk(m, p, sz, CORE_CHUNK_TOP);
			return 0;
		}
		if (sz == 16 || sz == 0) {
			/* fenceposts: a heap that grew into a new one ends so */
			a->headers += end - p;
			return 0;
		}
		if (sz < 32 || (sz & 15) || sz > end - p)
			goto broken;
		if (p + sz + 16 <= end && !rd(m, p + sz + 8, &nw))
			goto broken;
		add_chunk(m, p, sz, (nw & PREV_INUSE) ? CORE_CHUNK_USED : CORE_CHUNK_FREE);
		p += sz;
	}
	a->headers += end - p;
	return 0;
broken:
	m->walk_problems++;
	if (m->walk_problems == 1)
		core_warn(m->core, "glibc malloc: chunk walk stopped at an invalid chunk "
			  "(first at 0x%llx)", (unsigned long long)p);
	return end - p;
}

static void walk_main(core_malloc *m, int ai)
{
	core_malloc_arena *a = &m->arenas[ai];
	uint32_t flags = 0;
	uint64_t end = a->top + a->top_size;
	core_read_u32(m->core, a->state + m->ms.flags, &flags);
	uint64_t base = m->have_mp && m->mp_sbrk_base ? m->mp_sbrk_base : end - a->system_mem;
	if (flags & NONCONTIGUOUS) {
		core_warn(m->core, "glibc malloc: the main arena is not contiguous "
			  "(sbrk failed): only its top chunk and free lists are read");
		add_region(m, a->top, end, CORE_MREGION_HEAP, ai);
		add_chunk(m, a->top, a->top_size, CORE_CHUNK_TOP);
		a->nheaps = 1;
		a->heap_bytes = a->top_size;
		return;
	}
	if (base > a->top || end - base > (1ull << 46)) {
		core_warn(m->core, "glibc malloc: the main arena's heap start 0x%llx is past its top",
			  (unsigned long long)base);
		base = a->top;
	}
	uint64_t first = (base + 15) & ~15ull;
	add_region(m, base, end, CORE_MREGION_HEAP, ai);
	a->nheaps = 1;
	a->heap_bytes = end - base;
	a->headers += first - base;
	a->unwalked += walk_chunks(m, ai, first, end);
}

static void walk_thread_heaps(core_malloc *m)
{
	for (size_t i = 0; i < m->nheaps; i++) {
		heap_rec *r = &m->heaps[i];
		if (r->arena < 0)
			continue;
		core_malloc_arena *a = &m->arenas[r->arena];
		uint64_t start, end = r->addr + r->size;
		if (r->prev == 0) {
			start = (a->state + m->ms.size + 15) & ~15ull;
			if (a->state != r->addr + m->heap_info_size)
				m->heap_info_size = a->state - r->addr;
		} else {
			start = r->addr + m->heap_info_size;
		}
		if (a->top >= r->addr && a->top < end)
			end = a->top + a->top_size;
		if (end > r->addr + r->size || start >= end) {
			core_warn(m->core, "glibc malloc: heap 0x%llx: its top chunk runs past its end",
				  (unsigned long long)r->addr);
			end = r->addr + r->size;
		}
		add_region(m, r->addr, r->addr + r->mprotect_size, CORE_MREGION_HEAP, r->arena);
		if (r->mprotect_size < HEAP_MAX)
			add_region(m, r->addr + r->mprotect_size, r->addr + HEAP_MAX,
				   CORE_MREGION_RESERVED, r->arena);
		a->nheaps++;
		a->heap_bytes += r->mprotect_size;
		a->released += r->mprotect_size - r->size;
		a->headers += start - r->addr;
		a->unwalked += walk_chunks(m, r->arena, start, end);
		a->headers += r->addr + r->size - end;
	}
}

/* ---- mmapped chunks ---- */

static void scan_mmapped(core_malloc *m)
{
	size_t ns = core_segment_count(m->core), nheap = m->nregions;
	uint64_t min = m->page;
	sort_regions(m);
	nheap = m->nregions;
	for (size_t i = 0; i < ns; i++) {
		const core_segment *s = core_segment_at(m->core, i);
		if (s->file || !(s->flags & CORE_SEG_W) || !s->filesz)
			continue;
		uint64_t p = (s->vaddr + m->page - 1) & ~(m->page - 1);
		while (p + 16 <= s->vaddr + s->filesz) {
			const core_malloc_region *r = region_in(m, nheap, p);
			if (r) {
				p = (r->hi + m->page - 1) & ~(m->page - 1);
				continue;
			}
			const uint64_t *w = core_ptr(m->core, p, 16);
			uint64_t sz = w ? w[1] & ~SIZE_BITS : 0;
			/* the mapping is the chunk rounded up to pages (later
			 * releases leave its last 16 bytes out of the size) */
			uint64_t len = (sz + m->page - 1) & ~(m->page - 1);
			if (w && w[0] == 0 && (w[1] & SIZE_BITS) == IS_MMAPPED && sz >= min &&
			    len - sz <= 16 && !(sz & 15) && p + len > p && core_span(m->core, p, len)) {
				add_region(m, p, p + len, CORE_MREGION_MMAPPED, -1);
				add_chunk(m, p, len, CORE_CHUNK_MMAPPED);
				m->scan_mmaps++;
				m->scan_mmapped += len;
				p += len;
				continue;
			}
			p += m->page;
		}
	}
}

/* ---- free lists ---- */

static int chunk_cmp(const void *a, const void *b)
{
	const core_chunk *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

long core_malloc_chunk_find(const core_malloc *m, uint64_t addr)
{
	size_t lo = 0, hi = m ? m->nchunks : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->chunks[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const core_chunk *c = &m->chunks[lo - 1];
	return addr - c->addr < CORE_CHUNK_SIZE(c) ? (long)(lo - 1) : -1;
}

/* The chunk whose header is exactly at p, or -1. */
static long chunk_at(const core_malloc *m, uint64_t p)
{
	long i = core_malloc_chunk_find(m, p);
	return i >= 0 && m->chunks[i].addr == p ? i : -1;
}

static void set_state(core_malloc *m, long i, unsigned state)
{
	m->chunks[i].size_state = (m->chunks[i].size_state & ~15ull) | state;
}

/* A singly linked next pointer as stored at field address pos. */
static uint64_t reveal(const core_malloc *m, uint64_t pos, uint64_t v, int safe)
{
	(void)m;
	return safe ? (pos >> 12) ^ v : v;
}

/* Whether the lists are safe-linked: the release says so, else the first
 * fastbin or tcache link that tells the two readings apart. */
static int decide_safe(core_malloc *m, uint64_t pos, uint64_t v)
{
	if (m->safe_linking >= 0)
		return m->safe_linking;
	uint64_t plain = v, safe = (pos >> 12) ^ v;
	int ok_plain = plain == 0 || chunk_at(m, plain & ~15ull) >= 0 ||
		       chunk_at(m, plain - 16) >= 0;
	int ok_safe = safe == 0 || chunk_at(m, safe & ~15ull) >= 0 || chunk_at(m, safe - 16) >= 0;
	if (ok_plain != ok_safe)
		m->safe_linking = ok_safe;
	return m->safe_linking > 0;
}

static void read_bins(core_malloc *m, int ai)
{
	core_malloc_arena *a = &m->arenas[ai];
	uint64_t limit = m->nchunks + 1;
	for (unsigned i = 1; i < NBINS; i++) {
		uint64_t b = bin_at(m, a->state, i), p = 0, sz;
		uint64_t n = 0;
		if (!rd(m, b + 24, &p))
			continue;
		while (p != b && p && n++ < limit) {
			if (!rd(m, p + 8, &sz)) {
				core_warn(m->core, "glibc malloc: bin %u of arena 0x%llx unreadable",
					  i, (unsigned long long)a->state);
				break;
			}
			a->bins += sz & ~SIZE_BITS;
			a->bin_chunks++;
			long c = chunk_at(m, p);
			if (c >= 0)
				set_state(m, c, CORE_CHUNK_BIN);
			if (!rd(m, p + 24, &p))
				break;
		}
		if (n > limit)
			core_warn(m->core, "glibc malloc: bin %u of arena 0x%llx loops",
				  i, (unsigned long long)a->state);
	}
}

static void read_fastbins(core_malloc *m, int ai)
{
	core_malloc_arena *a = &m->arenas[ai];
	uint64_t limit = m->nchunks + 1;
	for (unsigned i = 0; i < m->ms.nfastbins; i++) {
		uint64_t p = 0, sz, v;
		uint64_t n = 0;
		if (!rd(m, a->state + m->ms.fastbins + 8ull * i, &p))
			continue;
		while (p && n++ < limit) {
			if ((p & 15) || !rd(m, p + 8, &sz) || !rd(m, p + 16, &v)) {
				core_warn(m->core, "glibc malloc: fastbin %u of arena 0x%llx broken",
					  i, (unsigned long long)a->state);
				break;
			}
			a->fast += sz & ~SIZE_BITS;
			a->fast_chunks++;
			long c = chunk_at(m, p);
			if (c >= 0)
				set_state(m, c, CORE_CHUNK_FAST);
			p = reveal(m, p + 16, v, decide_safe(m, p + 16, v));
		}
	}
}

/* The chunk sizes tcache list i holds: one size for the small lists;
 * [1 KiB << j, 2 KiB << j) for list 64 + j (past the small ones). */
static void tcache_bin_sizes(unsigned i, uint64_t *lo, uint64_t *hi)
{
	if (i < TCACHE_SMALL_BINS) {
		*lo = 32 + 16ull * i;
		*hi = *lo + 1;
		return;
	}
	unsigned j = i - TCACHE_SMALL_BINS;
	*lo = 1024ull << j;
	*hi = 2048ull << j;
	if (*lo < 32 + 16ull * TCACHE_SMALL_BINS)
		*lo = 32 + 16ull * TCACHE_SMALL_BINS;
}

/* Count i of a tcache_perthread_struct read into buf, as stored (the
 * length of list i, or from 2.42 the room left in it). */
static uint64_t tcache_count(const core_malloc *m, const uint8_t *buf, unsigned i)
{
	return m->tcache_count_bytes == 2 ? (uint64_t)(buf[2 * i] | buf[2 * i + 1] << 8) : buf[i];
}

/* How many chunks list i of a tcache holds, from its count; -1 when the
 * count cannot be one (more room left than a list has). */
static int64_t tcache_len(const core_malloc *m, const uint8_t *buf, unsigned i, uint64_t room)
{
	uint64_t cnt = tcache_count(m, buf, i);
	if (!m->tcache_slots)
		return (int64_t)cnt;
	return cnt > room ? -1 : (int64_t)(room - cnt);
}

/* Whether chunk c is a thread's tcache_perthread_struct: its counts say
 * how long each entry's list is, and every list holds chunks of its bin's
 * size.  With mark, the lists' chunks are marked as tcache. */
static int tcache_check(core_malloc *m, const core_chunk *c, int mark, uint64_t *bytes,
			uint64_t *nchunks)
{
	unsigned cb = m->tcache_count_bytes, nb = m->tcache_nbins;
	uint8_t buf[TCACHE_BINS_MAX * 10];
	uint64_t user = c->addr + 16, any = 0, room = 0;
	size_t len = (size_t)nb * (cb + 8);
	if (len > sizeof buf || core_read(m->core, user, buf, len) != len)
		return 0;
	if (m->tcache_slots) {
		/* the room of an empty list is mp_.tcache_count; without mp_,
		 * the most any list has (the large lists are empty unless the
		 * tunable is raised) */
		room = m->mp_tcache_count;
		for (unsigned i = 0; i < nb && !m->mp_tcache_count; i++) {
			uint64_t cnt = tcache_count(m, buf, i);
			room = cnt > room ? cnt : room;
		}
		if (!room)
			return 0;
	}
	for (unsigned i = 0; i < nb; i++) {
		int64_t cnt = tcache_len(m, buf, i, room);
		uint64_t e, lo, hi;
		if (cnt < 0)
			return 0;
		memcpy(&e, buf + (size_t)nb * cb + 8 * i, 8);
		if (!cnt != !e)
			return 0;
		any |= (uint64_t)cnt;
		tcache_bin_sizes(i, &lo, &hi);
		for (int64_t k = 0; k < cnt; k++) {
			uint64_t sz, v;
			long ci;
			if (!e || (e & 15) || !rd(m, e - 8, &sz) || (sz & ~SIZE_BITS) < lo ||
			    (sz & ~SIZE_BITS) >= hi || !rd(m, e, &v) || (ci = chunk_at(m, e - 16)) < 0)
				return 0;
			if (mark) {
				set_state(m, ci, CORE_CHUNK_TCACHE);
				*bytes += sz & ~SIZE_BITS;
				(*nchunks)++;
			}
			e = reveal(m, e, v, decide_safe(m, e, v));
		}
		if (e)
			return 0;       /* longer than its count */
	}
	return any ? 1 : 2;     /* 2: empty, as a fresh tcache is */
}

static void find_tcaches(core_malloc *m)
{
	if (!m->tcache_struct) {
		/* no DWARF: by the release, or by the arena's shape (2.43 has
		 * no fastbins) when the release is not known */
		int minor = glibc_minor(m);
		if (minor && minor < 26)
			return;     /* no tcache */
		if (minor >= 42 || (!minor && !m->ms.nfastbins))
			set_tcache_layout(m, 2, TCACHE_BINS_MAX, 1);
		else if (!m->ms.nfastbins)
			return;     /* an arena laid out as pyheap does not know */
		else
			set_tcache_layout(m, minor && minor < 30 ? 1 : 2, TCACHE_SMALL_BINS, 0);
	}
	for (size_t i = 0; i < m->nchunks; i++) {
		core_chunk *c = &m->chunks[i];
		if (CORE_CHUNK_STATE(c) != CORE_CHUNK_USED || CORE_CHUNK_SIZE(c) != m->tcache_struct)
			continue;
		int k = tcache_check(m, c, 0, NULL, NULL);
		/* an empty one only where tcache_init puts it: the first chunk of
		 * a heap (any zeroed buffer of that size would pass) */
		const core_malloc_region *r;
		if (k == 2 && !((r = region_of(m, c->addr)) && r->kind == CORE_MREGION_HEAP &&
				(c->addr - r->lo) <= 2304))
			continue;
		if (!k)
			continue;
		uint64_t bytes = 0, n = 0;
		tcache_check(m, c, 1, &bytes, &n);
		set_state(m, (long)i, CORE_CHUNK_TCACHE_STRUCT);
		m->tcaches++;
		m->mi.tcache += bytes;
		m->mi.tcache_chunks += n;
	}
}

/* ---- the whole ---- */

static void finish_arena_totals(core_malloc *m)
{
	for (size_t i = 0; i < m->nchunks; i++) {
		const core_chunk *c = &m->chunks[i];
		const core_malloc_region *r = NULL;
		unsigned st = CORE_CHUNK_STATE(c);
		if (st == CORE_CHUNK_MMAPPED)
			continue;
		r = region_of(m, c->addr);
		if (!r || r->arena < 0)
			continue;
		core_malloc_arena *a = &m->arenas[r->arena];
		uint64_t sz = CORE_CHUNK_SIZE(c);
		switch (st) {
		case CORE_CHUNK_USED: a->used += sz; a->used_chunks++; break;
		case CORE_CHUNK_BIN: a->free_bins += sz; break;
		case CORE_CHUNK_FAST: a->free_fast += sz; break;
		case CORE_CHUNK_TCACHE: a->free_tcache += sz; a->tcache_chunks++; break;
		case CORE_CHUNK_TCACHE_STRUCT: a->tcache_structs += sz; break;
		case CORE_CHUNK_FREE: a->free_unbinned += sz; break;
		case CORE_CHUNK_TOP: a->top_walked += sz; break;
		default: break;
		}
	}
}

int core_malloc_open(core_malloc **out, core_t *core, unsigned flags, char *err, size_t errlen)
{
	*out = NULL;
	if (!core_malloc_glibc(core)) {
		snprintf(err, errlen, "the process does not allocate with glibc's malloc");
		return -1;
	}
	core_malloc *m = calloc(1, sizeof *m);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->core = core;
	m->safe_linking = -1;
	m->heap_info_size = 0;
	m->page = core_auxv(core, AT_PAGESZ);
	if (m->page < 4096 || (m->page & (m->page - 1)))
		m->page = 4096;
	m->libc = core_module_find(core, "libc.so");
	if (!m->libc)
		m->libc = core_module_find(core, "libc-");
	if (!m->libc) {
		snprintf(err, errlen, "libc is not among the core's modules");
		free(m);
		return -1;
	}
	find_version(m);
	int minor = glibc_minor(m);
	if (minor)
		m->safe_linking = minor >= 32;

	/* main_arena: by symbol, else by shape */
	uint64_t main_st = 0, mp = 0;
	if (!(flags & CORE_MALLOC_BY_STRUCTURE) &&
	    core_module_symbol(m->libc, "main_arena", &main_st, NULL) == 0 && main_st) {
		if (ms_from_dwarf(m) < 0) {
			/* symbols without DWARF: vote on the layout */
			m->ms = ms_layouts[0];
			for (size_t l = 0; l < sizeof ms_layouts / sizeof ms_layouts[0]; l++)
				if (bins_valid(m, main_st, &ms_layouts[l])) {
					m->ms = ms_layouts[l];
					break;
				}
		}
		m->found_by = "symbols";
		if (core_module_symbol(m->libc, "mp_", &mp, NULL) == 0 && mp &&
		    mp_from_dwarf(m, mp) < 0) {
			for (size_t l = 0; l < sizeof mp_layouts / sizeof mp_layouts[0]; l++) {
				uint64_t bins;
				if (rd(m, mp + mp_layouts[l].tcache_bins, &bins) && bins &&
				    bins <= TCACHE_BINS_MAX) {
					read_mp(m, mp, &mp_layouts[l]);
					break;
				}
			}
		}
	} else {
		main_st = find_main_arena(m);
		m->found_by = "structure";
	}
	if (!main_st) {
		snprintf(err, errlen, "glibc's main_arena not found in %s", core_module_name(m->libc));
		free(m);
		return -1;
	}
	/* the ring of arenas, main first */
	add_arena(m, main_st, 1);
	uint64_t st = main_st;
	for (int n = 0; n < MAX_ARENAS; n++) {
		if (!rd(m, st + m->ms.next, &st) || !st || st == main_st)
			break;
		if (!state_sane(m, st, &m->ms)) {
			core_warn(m->core, "glibc malloc: the arena ring leads to 0x%llx, "
				  "no malloc_state", (unsigned long long)st);
			break;
		}
		if (add_arena(m, st, 0) < 0)
			break;
	}
	if (!m->heap_info_size)
		m->heap_info_size = minor && minor < 35 ? 32 : 48;
	for (size_t i = 1; i < m->narenas; i++)
		arena_heaps(m, (int)i);
	/* heaps at 64 MiB alignment the ring did not lead to */
	size_t known = m->nheaps;
	scan_heap_infos(m);
	for (size_t i = known; i < m->nheaps; i++) {
		heap_rec *r = &m->heaps[i];
		uint64_t ar = 0;
		rd(m, r->addr, &ar);
		int ai = -1;
		for (size_t k = 0; k < m->narenas; k++)
			if (m->arenas[k].state == ar)
				ai = (int)k;
		if (ai < 0 && r->prev == 0 && state_sane(m, ar, &m->ms) &&
		    bins_valid(m, ar, &m->ms)) {
			core_warn(m->core, "glibc malloc: arena 0x%llx is not on the ring of arenas",
				  (unsigned long long)ar);
			ai = add_arena(m, ar, 0);
		}
		r->arena = ai;
	}
	/* first heaps say how big heap_info is */
	for (size_t i = 0; i < m->nheaps; i++)
		if (m->heaps[i].prev == 0 && m->heaps[i].arena >= 0) {
			uint64_t d = m->arenas[m->heaps[i].arena].state - m->heaps[i].addr;
			if (d == 32 || d == 48)
				m->heap_info_size = d;
		}

	walk_main(m, 0);
	if (!m->have_mp) {
		uint64_t end = m->arenas[0].top + m->arenas[0].top_size;
		find_mp(m, end - m->arenas[0].system_mem);
	}
	walk_thread_heaps(m);
	scan_mmapped(m);
	sort_regions(m);
	if (m->nchunks)
		qsort(m->chunks, m->nchunks, sizeof *m->chunks, chunk_cmp);
	for (size_t i = 0; i < m->narenas; i++) {
		read_bins(m, (int)i);
		read_fastbins(m, (int)i);
	}
	find_tcaches(m);
	finish_arena_totals(m);

	/* int_mallinfo, over every arena */
	core_mallinfo *mi = &m->mi;
	for (size_t i = 0; i < m->narenas; i++) {
		const core_malloc_arena *a = &m->arenas[i];
		uint64_t avail = a->top_size + a->fast + a->bins;
		mi->arena += a->system_mem;
		mi->ordblks += 1 + a->bin_chunks;
		mi->smblks += a->fast_chunks;
		mi->fsmblks += a->fast;
		mi->fordblks += avail;
		mi->uordblks += a->system_mem - avail;
		if (a->main)
			mi->keepcost = a->top_size;
	}
	mi->hblks = m->have_mp ? m->mp_n_mmaps : m->scan_mmaps;
	mi->hblkhd = m->have_mp ? m->mp_mmapped_mem : m->scan_mmapped;
	mi->mmapped_found = m->scan_mmapped;
	mi->mmaps_found = m->scan_mmaps;
	/* (later releases count a little more per chunk in mmapped_mem than
	 * the chunk's pages: only a count or a page's difference is news) */
	uint64_t diff = m->mp_mmapped_mem > m->scan_mmapped ? m->mp_mmapped_mem - m->scan_mmapped :
			m->scan_mmapped - m->mp_mmapped_mem;
	if (m->have_mp && (m->mp_n_mmaps != m->scan_mmaps || diff > m->page))
		core_warn(m->core, "glibc malloc: mp_ counts %llu mmapped chunks (%llu bytes), "
			  "the scan found %llu (%llu bytes)", (unsigned long long)m->mp_n_mmaps,
			  (unsigned long long)m->mp_mmapped_mem, (unsigned long long)m->scan_mmaps,
			  (unsigned long long)m->scan_mmapped);
	*out = m;
	return 0;
}

void core_malloc_free(core_malloc *m)
{
	if (!m)
		return;
	free(m->arenas);
	free(m->heaps);
	free(m->regions);
	free(m->chunks);
	free(m);
}

const char *core_malloc_found_by(const core_malloc *m) { return m->found_by; }
const char *core_malloc_version(const core_malloc *m) { return m->version; }
int core_malloc_safe_linking(const core_malloc *m) { return m->safe_linking; }
const core_mallinfo *core_malloc_info(const core_malloc *m) { return &m->mi; }
size_t core_malloc_arena_count(const core_malloc *m) { return m->narenas; }
const core_malloc_arena *core_malloc_arena_at(const core_malloc *m, size_t i)
{
	return i < m->narenas ? &m->arenas[i] : NULL;
}
size_t core_malloc_region_count(const core_malloc *m) { return m->nregions; }
const core_malloc_region *core_malloc_region_at(const core_malloc *m, size_t i)
{
	return i < m->nregions ? &m->regions[i] : NULL;
}
size_t core_malloc_chunk_count(const core_malloc *m) { return m->nchunks; }
const core_chunk *core_malloc_chunks(const core_malloc *m) { return m->chunks; }
size_t core_malloc_tcache_count(const core_malloc *m) { return m->tcaches; }
