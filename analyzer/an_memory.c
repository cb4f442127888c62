/*
 * an_memory.c - where the core's memory went: a ledger of every byte;
 * see analysis.h.
 *
 * The total is the size of every mapping the core describes; the image
 * classifies them (core_mappings: modules' .data and .bss, thread stacks
 * and TLS, guard pages, other file and anonymous mappings, what the core
 * left out).  Each byte goes to the first structure that claims it, in
 * this order: a module's .data and .bss, a glibc malloc heap or mmapped
 * chunk (core_malloc_open), a pymalloc arena, a thread's stack, the
 * inaccessible rest of a thread heap's reservation or a guard page; what
 * no structure claims is ledgered by its mapping: file-backed, read-only
 * anonymous, left out of the core, and, for anonymous writable memory,
 * unexplained.
 *
 * Inside the structures:
 *   pymalloc  used blocks per size class, free blocks, pool headers and
 *             tails, empty pools, and the rest (pools never used, arena
 *             alignment), as sys._debugmallocstats() adds them up;
 *   malloc    per arena: chunks in use, free (top, bins, fastbins, tcache),
 *             malloc's own (tcache structs, heap headers, fenceposts), and
 *             memory given back; mmapped chunks apart.  Each chunk in use
 *             gets an owner: a Python object (an object over 512 bytes),
 *             a buffer an object owns (ph_object_buffers), a pymalloc
 *             arena, a thread state, or native memory, which is named by
 *             what points at it: a C static, an object of a C extension
 *             type, or nothing pyheap knows.
 *
 * The objects come from the scan: through an_memory_visit, the scan's
 * hook, when it keeps totals only, else from the object table.  Only the
 * objects outside pymalloc and the buffers outside it are kept (they are
 * the malloc chunks to own), with the objects of C extension types (whose
 * fields may hold native memory).
 */
#include "analysis.h"
#include "grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define EXT_SCAN_MAX 4096       /* bytes of an extension object searched */
#define TOP_LINES 6             /* children named before "other ..." */

enum { REC_OBJECT, REC_BUFFER, REC_EXTOBJ };

typedef struct rec {
	uint64_t addr;           /* the allocation (object start, buffer) */
	uint64_t owner;          /* the object; REC_EXTOBJ: its size */
	uint32_t type;
	uint8_t kind, bkind;
} rec;

struct an_memory_ctx {
	unsigned malloc_flags;
	rec *recs;
	size_t nrecs, cap;
	uint64_t *alo, *ahi;     /* the arenas' extents */
	size_t narenas, near;
	int arenas_ready, oom;
	uint64_t visited;
};

static const char *const owner_names[AN_OWN_NKINDS] = {
	[AN_OWN_NONE] = "native, no holder found",
	[AN_OWN_OBJECT] = "Python objects (over 512 bytes)",
	[AN_OWN_BUFFER] = "buffers of objects",
	[AN_OWN_ARENA] = "pymalloc arenas",
	[AN_OWN_TSTATE] = "interpreter thread states",
	[AN_OWN_STATIC] = "native, pointed at by a C static",
	[AN_OWN_EXTOBJ] = "native, pointed at by an extension object",
	[AN_OWN_MALLOC] = "malloc's own",
};

const char *an_mem_owner_name(unsigned owner)
{
	return owner < AN_OWN_NKINDS ? owner_names[owner] : "?";
}

/* ---- collecting ---- */

int an_memory_begin(an_memory_ctx **out, unsigned malloc_flags)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return -1;
	(*out)->malloc_flags = malloc_flags;
	return 0;
}

static void ctx_free(an_memory_ctx *c)
{
	if (!c)
		return;
	free(c->recs);
	free(c->alo);
	free(c->ahi);
	free(c);
}

static void add_rec(an_memory_ctx *c, uint64_t addr, uint64_t owner, uint32_t type, int kind,
		    int bkind)
{
	rec *n = an_grow(c->recs, c->nrecs + 1, &c->cap, sizeof *n, 4096);
	if (!n) {
		c->oom = 1;
		return;
	}
	c->recs = n;
	c->recs[c->nrecs++] = (rec){addr, owner, type, (uint8_t)kind, (uint8_t)bkind};
}

static void load_arenas(an_memory_ctx *c, ph_heap *h)
{
	c->arenas_ready = 1;
	size_t n = ph_arena_range_count(h);
	c->alo = malloc((n ? n : 1) * sizeof *c->alo);
	c->ahi = malloc((n ? n : 1) * sizeof *c->ahi);
	if (!c->alo || !c->ahi) {
		c->oom = 1;
		return;
	}
	c->narenas = ph_arena_extents(h, c->alo, c->ahi);
}

/* Whether addr is in an arena: objects come pool by pool, so the last
 * arena found answers most. */
static int in_arena(an_memory_ctx *c, uint64_t addr)
{
	if (c->near < c->narenas && addr >= c->alo[c->near] && addr < c->ahi[c->near])
		return 1;
	size_t lo = 0, hi = c->narenas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->alo[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= c->ahi[lo - 1])
		return 0;
	c->near = lo - 1;
	return 1;
}

struct buf_ctx { an_memory_ctx *c; uint64_t owner; uint32_t type; };

static void buf_cb(ph_heap *h, const ph_buffer *b, void *payload)
{
	struct buf_ctx *x = payload;
	(void)h;
	if (!in_arena(x->c, b->addr))
		add_rec(x->c, b->addr, x->owner, x->type, REC_BUFFER, b->kind);
}

void an_memory_visit(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size, void *payload)
{
	an_memory_ctx *c = payload;
	c->visited++;
	if (!c->arenas_ready)
		load_arenas(c, h);
	if (!in_arena(c, addr))
		add_rec(c, ph_object_start(h, addr, type), addr, type, REC_OBJECT, 0);
	if (ph_type_owns_buffers(h, type)) {
		struct buf_ctx x = {c, addr, type};
		ph_object_buffers(h, addr, type, buf_cb, &x);
	}
	int native = ph_type_native(h, type);
	if (native)
		add_rec(c, addr, size, type, REC_EXTOBJ, native);
}

/* ---- ledger lines ---- */

typedef struct lines {
	an_mem_line *v;
	size_t n, cap;
	int oom;
} lines;

static size_t line(lines *L, int depth, uint64_t bytes, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t line(lines *L, int depth, uint64_t bytes, const char *fmt, ...)
{
	an_mem_line *n = an_grow(L->v, L->n + 1, &L->cap, sizeof *n, 64);
	if (!n) {
		L->oom = 1;
		return L->n ? L->n - 1 : 0;
	}
	L->v = n;
	an_mem_line *l = &L->v[L->n];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->name, sizeof l->name, fmt, ap);
	va_end(ap);
	l->bytes = bytes;
	l->depth = depth;
	return L->n++;
}

/* Makes the children of line p add up to it: what they leave, as a child
 * named other; what they exceed it by, taken from the last children. */
static void close_line(lines *L, size_t p, const char *other)
{
	if (p >= L->n)
		return;
	int d = L->v[p].depth;
	uint64_t sum = 0;
	size_t last = p, nkids = 0;
	for (size_t i = p + 1; i < L->n && L->v[i].depth > d; i++)
		if (L->v[i].depth == d + 1) {
			sum += L->v[i].bytes;
			last = i;
			nkids++;
		}
	if (!nkids)
		return;
	if (sum < L->v[p].bytes && other) {
		line(L, d + 1, L->v[p].bytes - sum, "%s", other);
	} else if (sum > L->v[p].bytes) {
		/* (the structures claim more than the mappings hold: trim) */
		uint64_t over = sum - L->v[p].bytes;
		for (size_t i = last; i > p && over; i--) {
			if (L->v[i].depth != d + 1)
				continue;
			uint64_t t = L->v[i].bytes < over ? L->v[i].bytes : over;
			L->v[i].bytes -= t;
			over -= t;
		}
	}
}

/* ---- the address space ---- */

enum { CL_MALLOC, CL_ARENA, CL_RESERVED, CL_N };
enum { RS_HEAPS, RS_GUARDS, RS_N };     /* CL_RESERVED's kinds */

typedef struct claim { uint64_t lo, hi; uint32_t idx; } claim;

typedef struct claims {
	claim *v[CL_N];
	size_t n[CL_N], cap[CL_N];
	int oom;
} claims;

static void claim_add(claims *C, int cls, uint64_t lo, uint64_t hi, uint32_t idx)
{
	if (hi <= lo)
		return;
	claim *n = an_grow(C->v[cls], C->n[cls] + 1, &C->cap[cls], sizeof *n, 64);
	if (!n) {
		C->oom = 1;
		return;
	}
	C->v[cls] = n;
	C->v[cls][C->n[cls]++] = (claim){lo, hi, idx};
}

static int claim_cmp(const void *a, const void *b)
{
	const claim *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts a class's claims and trims overlaps (the first keeps its bytes). */
static void claims_sort(claims *C)
{
	for (int k = 0; k < CL_N; k++) {
		if (C->n[k])
			qsort(C->v[k], C->n[k], sizeof *C->v[k], claim_cmp);
		size_t out = 0;
		for (size_t i = 0; i < C->n[k]; i++) {
			claim x = C->v[k][i];
			if (out && x.lo < C->v[k][out - 1].hi)
				x.lo = C->v[k][out - 1].hi;
			if (x.lo < x.hi)
				C->v[k][out++] = x;
		}
		C->n[k] = out;
	}
}

static const claim *claim_of(const claims *C, int cls, uint64_t a)
{
	size_t lo = 0, hi = C->n[cls];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (C->v[cls][mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || a >= C->v[cls][lo - 1].hi)
		return NULL;
	return &C->v[cls][lo - 1];
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Unclaimed memory, by its mapping. */
enum { UN_FILE_RO, UN_FILE_W, UN_ANON_RO, UN_ANON_W, UN_LEFT_OUT, UN_N };
/* The mappings' view. */
enum { MK_MODULE, MK_STACK, MK_ANON_W, MK_FILE_W, MK_FILE_RO, MK_ANON_RO, MK_LEFT_OUT, MK_N };
static const char *const mk_names[MK_N] = {
	[MK_MODULE] = "module data and bss (writable file mappings and what follows them)",
	[MK_STACK] = "thread stacks and TLS",
	[MK_ANON_W] = "other anonymous writable memory",
	[MK_FILE_W] = "other writable file mappings",
	[MK_FILE_RO] = "read-only and executable file mappings",
	[MK_ANON_RO] = "read-only or inaccessible anonymous mappings",
	[MK_LEFT_OUT] = "left out of the core",
};

typedef struct paint {
	an_mem_range gaps[AN_MEM_GAPS];   /* the biggest unexplained ranges */
	size_t ngaps;
	uint64_t *module, *region, *arena, *stack;   /* claimed bytes, by idx */
	uint64_t reserved[RS_N];
	uint64_t unclaimed[UN_N];
	uint64_t kinds[MK_N];
	uint64_t *file_ro;       /* UN_FILE_RO by module index (+1: no module) */
} paint;

/* Keeps the biggest unexplained ranges, adjacent pieces joined. */
static void add_gap(paint *P, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < P->ngaps; i++)
		if (P->gaps[i].hi == lo) {
			lo = P->gaps[i].lo;
			P->gaps[i] = P->gaps[--P->ngaps];
			break;
		}
	if (P->ngaps < AN_MEM_GAPS) {
		P->gaps[P->ngaps++] = (an_mem_range){lo, hi};
		return;
	}
	size_t small = 0;
	for (size_t i = 1; i < P->ngaps; i++)
		if (P->gaps[i].hi - P->gaps[i].lo < P->gaps[small].hi - P->gaps[small].lo)
			small = i;
	if (hi - lo > P->gaps[small].hi - P->gaps[small].lo)
		P->gaps[small] = (an_mem_range){lo, hi};
}

static int range_size_cmp(const void *a, const void *b)
{
	const an_mem_range *x = a, *y = b;
	uint64_t sx = x->hi - x->lo, sy = y->hi - y->lo;
	return sx < sy ? 1 : sx > sy ? -1 : (x->lo > y->lo) - (x->lo < y->lo);
}

/* The module a file mapping belongs to, by the file's name. */
static size_t module_of_file(core_t *core, const char *file)
{
	size_t nm = core_module_count(core);
	for (size_t i = 0; file && i < nm; i++)
		if (strcmp(core_module_name(core_module_at(core, i)), file) == 0)
			return i;
	return nm;
}

static int do_paint(core_t *core, const core_map_range *R, size_t nr, claims *C, paint *P)
{
	size_t np = 0, cap = 2 * nr + 1;
	for (int k = 0; k < CL_N; k++)
		cap += 2 * C->n[k];
	uint64_t *pts = malloc(cap * sizeof *pts);
	if (!pts)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		pts[np++] = R[i].lo;
		pts[np++] = R[i].hi;
	}
	for (int k = 0; k < CL_N; k++)
		for (size_t i = 0; i < C->n[k]; i++) {
			pts[np++] = C->v[k][i].lo;
			pts[np++] = C->v[k][i].hi;
		}
	qsort(pts, np, sizeof *pts, u64_cmp);
	size_t ri = 0;
	for (size_t k = 0; k + 1 < np; k++) {
		uint64_t a = pts[k], b = pts[k + 1];
		if (a == b)
			continue;
		while (ri < nr && R[ri].hi <= a)
			ri++;
		if (ri == nr)
			break;
		const core_map_range *m = &R[ri];
		if (a < m->lo)
			continue;         /* between mappings */
		uint64_t len = b - a;
		/* by mapping */
		static const uint8_t mk[] = {
			[CORE_MAP_MODULE_DATA] = MK_MODULE, [CORE_MAP_STACK] = MK_STACK,
			[CORE_MAP_GUARD] = MK_ANON_RO, [CORE_MAP_FILE_RO] = MK_FILE_RO,
			[CORE_MAP_FILE_W] = MK_FILE_W, [CORE_MAP_ANON_RO] = MK_ANON_RO,
			[CORE_MAP_ANON_W] = MK_ANON_W,
		};
		P->kinds[m->present ? mk[m->kind] : MK_LEFT_OUT] += len;
		/* by structure: a module's data, then malloc, then pymalloc,
		 * then a stack; then what the mapping is */
		const claim *c;
		if (m->kind == CORE_MAP_MODULE_DATA)
			P->module[m->idx] += len;
		else if ((c = claim_of(C, CL_MALLOC, a)))
			P->region[c->idx] += len;
		else if ((c = claim_of(C, CL_ARENA, a)))
			P->arena[c->idx] += len;
		else if (m->kind == CORE_MAP_STACK)
			P->stack[m->idx] += len;
		else if (claim_of(C, CL_RESERVED, a))
			P->reserved[RS_HEAPS] += len;
		else if (m->kind == CORE_MAP_GUARD)
			P->reserved[RS_GUARDS] += len;
		else if (!m->present)
			P->unclaimed[UN_LEFT_OUT] += len;
		else if (m->kind == CORE_MAP_FILE_RO) {
			P->unclaimed[UN_FILE_RO] += len;
			P->file_ro[module_of_file(core, core_segment_at(core, m->seg)->file)] += len;
		} else if (m->kind == CORE_MAP_FILE_W)
			P->unclaimed[UN_FILE_W] += len;
		else if (m->kind == CORE_MAP_ANON_RO)
			P->unclaimed[UN_ANON_RO] += len;
		else {
			P->unclaimed[UN_ANON_W] += len;
			add_gap(P, a, b);
		}
	}
	free(pts);
	return 0;
}

/* ---- malloc's chunks and their owners ---- */

typedef struct owners {
	uint8_t *own, *bkind;
	uint32_t *type;
	uint64_t *oaddr;
} owners;

static int rec_cmp(const void *a, const void *b)
{
	const rec *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* The chunk in use that the program's pointer p starts (or, for an
 * mmapped chunk, lies in: memalign leaves its header behind); -1. */
static long chunk_in_use(const core_malloc *m, uint64_t p, int exact)
{
	long i = core_malloc_chunk_find(m, p);
	if (i < 0)
		return -1;
	const core_chunk *c = &core_malloc_chunks(m)[i];
	unsigned st = CORE_CHUNK_STATE(c);
	if (st == CORE_CHUNK_MMAPPED)
		return exact && p - c->addr >= PAGE ? -1 : i;
	if (st != CORE_CHUNK_USED)
		return -1;
	return !exact || c->addr + 16 == p ? i : -1;
}

static void set_owner(owners *O, long i, unsigned own, unsigned bkind, uint32_t type, uint64_t addr)
{
	O->own[i] = (uint8_t)own;
	O->bkind[i] = (uint8_t)bkind;
	O->type[i] = type;
	O->oaddr[i] = addr;
}

/* Native chunks that the words at [lo, lo + len) point at exactly get
 * owner own (holder: the word's address, or obj). */
static void holders_in(const core_malloc *m, core_t *core, owners *O, uint64_t lo, uint64_t len,
		       unsigned own, uint64_t obj, uint32_t type)
{
	uint64_t buf[512];
	for (uint64_t off = 0; off < len; off += sizeof buf) {
		size_t want = len - off > sizeof buf ? sizeof buf : (size_t)(len - off);
		size_t got = core_read(core, lo + off, buf, want) / 8;
		for (size_t k = 0; k < got; k++) {
			uint64_t w = buf[k];
			if (!w || (w & 15))
				continue;
			long i = chunk_in_use(m, w, 1);
			if (i < 0 || O->own[i] != AN_OWN_NONE)
				continue;
			set_owner(O, i, own, 0, type, own == AN_OWN_STATIC ? lo + off + 8 * k : obj);
		}
		if (got * 8 < want)
			break;
	}
}

static void attribute(an_memory_ctx *c, ph_heap *h, const core_malloc *m, owners *O)
{
	core_t *core = ph_core(h);
	if (c->nrecs)
		qsort(c->recs, c->nrecs, sizeof *c->recs, rec_cmp);
	/* objects first, then the buffers they own */
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < c->nrecs; k++) {
			const rec *r = &c->recs[k];
			if (r->kind != (pass ? REC_BUFFER : REC_OBJECT))
				continue;
			long i = chunk_in_use(m, r->addr, 1);
			if (i < 0 || O->own[i] != AN_OWN_NONE)
				continue;
			set_owner(O, i, pass ? AN_OWN_BUFFER : AN_OWN_OBJECT, r->bkind, r->type, r->owner);
		}
	/* (by its pools: an arena's extent may be a guess at its first pages) */
	for (size_t k = 0; k < c->narenas; k++) {
		uint64_t lo, hi;
		long i = ph_arena_pool_range(h, k, &lo, &hi) == 0 ? chunk_in_use(m, lo, 0) : -1;
		if (i >= 0 && O->own[i] == AN_OWN_NONE)
			set_owner(O, i, AN_OWN_ARENA, 0, PH_NONE, lo);
	}
	for (size_t k = 0; k < ph_thread_count(h); k++) {
		long i = chunk_in_use(m, ph_thread_at(h, k)->tstate, 0);
		if (i >= 0 && O->own[i] == AN_OWN_NONE)
			set_owner(O, i, AN_OWN_TSTATE, 0, PH_NONE, ph_thread_at(h, k)->tstate);
	}
	/* native memory: what C statics point at, then extension objects */
	for (size_t mi = 0; mi < core_module_count(core); mi++) {
		core_module_t *mod = core_module_at(core, mi);
		for (size_t d = 0; d < core_module_data_count(mod); d++) {
			uint64_t a, sz;
			if (core_module_data_at(mod, d, &a, &sz) == 0)
				holders_in(m, core, O, a & ~7ull, sz, AN_OWN_STATIC, 0, PH_NONE);
		}
	}
	/* (objects before classes: a C metaclass's class may point at an
	 * instance's memory too) */
	for (int rank = 1; rank <= 2; rank++)
		for (size_t k = 0; k < c->nrecs; k++) {
			const rec *r = &c->recs[k];
			if (r->kind == REC_EXTOBJ && r->bkind == rank)
				holders_in(m, core, O, r->addr,
					   r->owner < EXT_SCAN_MAX ? r->owner : EXT_SCAN_MAX,
					   AN_OWN_EXTOBJ, r->addr, r->type);
		}
}

/* "symbol+0x10 in libfoo.so" for a C static's address. */
static void static_name(core_t *core, uint64_t addr, char *out, size_t cap)
{
	for (size_t mi = 0; mi < core_module_count(core); mi++) {
		core_module_t *mod = core_module_at(core, mi);
		for (size_t d = 0; d < core_module_data_count(mod); d++) {
			uint64_t a, sz, off = 0;
			if (core_module_data_at(mod, d, &a, &sz) < 0 || addr < a || addr >= a + sz)
				continue;
			const char *n = core_module_addr_name(mod, addr, &off);
			const char *base = strrchr(core_module_name(mod), '/');
			base = base ? base + 1 : core_module_name(mod);
			if (n && off < 4096)
				snprintf(out, cap, "%s+0x%llx in %s", n, (unsigned long long)off, base);
			else
				snprintf(out, cap, "0x%llx in %s", (unsigned long long)addr, base);
			return;
		}
	}
	snprintf(out, cap, "0x%llx", (unsigned long long)addr);
}

/* An arena's start guessed back over untouched pages (found by a pool
 * scan: ph_arena_extents) may reach into the untouched end of the mapping
 * before it, an mmapped chunk's or the previous arena's.  Fitted here, in
 * address order: an arena starts after any malloc region and the arena
 * before it, covers its pools, and ends before the next arena's pools. */
static void fit_arenas(an_memory_ctx *c, ph_heap *h, const core_malloc *m)
{
	const ph_arena_stats *as = ph_arenas(h);
	size_t nr = m ? core_malloc_region_count(m) : 0;
	uint64_t prev = 0;
	for (size_t i = 0; i < c->narenas; i++) {
		uint64_t plo, phi, nlo = UINT64_MAX, nhi;
		if (ph_arena_pool_range(h, i, &plo, &phi) < 0)
			continue;
		if (i + 1 < c->narenas)
			ph_arena_pool_range(h, i + 1, &nlo, &nhi);
		uint64_t lo = c->alo[i];
		for (size_t k = 0; k < nr; k++) {
			const core_malloc_region *g = core_malloc_region_at(m, k);
			if (lo >= g->lo && lo < g->hi && g->hi <= plo)
				lo = g->hi;
		}
		if (lo < prev)
			lo = prev <= plo ? prev : plo;
		uint64_t hi = lo + as->arena_size;
		if (hi < phi)
			hi = phi;
		if (hi > nlo)
			hi = nlo;
		c->alo[i] = lo;
		c->ahi[i] = hi;
		prev = hi;
	}
}

/* ---- the parts of the ledger ---- */

typedef struct sums {
	uint64_t own[AN_OWN_NKINDS];
	uint64_t buf[PH_BUF_NKINDS];
	uint64_t *by_type;       /* objects' bytes by type index */
} sums;

typedef struct top_pick { uint64_t bytes; size_t i; } top_pick;

static int pick_cmp(const void *a, const void *b)
{
	const top_pick *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : (x->i > y->i) - (x->i < y->i);
}

/* Children of line p from vals[0..n): the TOP_LINES biggest by name, then
 * "other NOUN" for the rest (close_line adds it). */
static void top_children(lines *L, size_t p, int depth, const uint64_t *vals, size_t n,
			 const char *(*name)(void *ctx, size_t i, char *buf, size_t cap), void *ctx,
			 const char *other)
{
	top_pick *t = malloc((n ? n : 1) * sizeof *t);
	size_t k = 0;
	if (!t) {
		L->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (vals[i])
			t[k++] = (top_pick){vals[i], i};
	qsort(t, k, sizeof *t, pick_cmp);
	char buf[AN_MEM_NAME];
	for (size_t i = 0; i < k && i < TOP_LINES; i++)
		line(L, depth, t[i].bytes, "%s", name(ctx, t[i].i, buf, sizeof buf));
	free(t);
	close_line(L, p, other);
}

static const char *type_name_cb(void *ctx, size_t i, char *buf, size_t cap)
{
	(void)buf; (void)cap;
	return ph_type_name(ctx, (uint32_t)i);
}

static const char *buf_name_cb(void *ctx, size_t i, char *buf, size_t cap)
{
	(void)ctx; (void)buf; (void)cap;
	return ph_buffer_kind_name((unsigned)i);
}

static const char *module_name_cb(void *ctx, size_t i, char *buf, size_t cap)
{
	core_t *core = ctx;
	if (i >= core_module_count(core))
		return "files that are no module";
	const char *n = core_module_name(core_module_at(core, i));
	const char *b = strrchr(n, '/');
	snprintf(buf, cap, "%s", b ? b + 1 : n);
	return buf;
}

static const char *class_name_cb(void *ctx, size_t i, char *buf, size_t cap)
{
	(void)ctx;
	snprintf(buf, cap, "%zu-byte blocks", (i + 1) * 16);
	return buf;
}

struct thread_names { core_t *core; const uint32_t *tid; };

static const char *thread_name_cb(void *ctx, size_t i, char *buf, size_t cap)
{
	struct thread_names *t = ctx;
	snprintf(buf, cap, "thread %u%s", t->tid[i],
		 (int)t->tid[i] == core_pid(t->core) ? " (main)" : "");
	return buf;
}

/* The owners of chunks in use, as lines under p. */
static void owner_lines(lines *L, size_t p, int depth, const sums *S, ph_heap *h)
{
	for (unsigned o = AN_OWN_OBJECT; o < AN_OWN_NKINDS; o++) {
		if (!S->own[o] || o == AN_OWN_MALLOC)
			continue;
		size_t q = line(L, depth, S->own[o], "%s", an_mem_owner_name(o));
		if (o == AN_OWN_OBJECT)
			top_children(L, q, depth + 1, S->by_type, ph_type_count(h), type_name_cb, h,
				     "other types");
		else if (o == AN_OWN_BUFFER)
			top_children(L, q, depth + 1, S->buf, PH_BUF_NKINDS, buf_name_cb, NULL,
				     "other buffers");
	}
	if (S->own[AN_OWN_NONE])
		line(L, depth, S->own[AN_OWN_NONE], "%s", an_mem_owner_name(AN_OWN_NONE));
	close_line(L, p, "not attributed");
}

/* ---- pinned arenas ---- */

typedef struct pin_acc {
	an_mem_pinned *p;
	an_type_row rows[64];
	size_t nrows;
	an_memory_result *r;
} pin_acc;

static void pin_cb(ph_heap *h, uint64_t addr, uint32_t type, void *payload)
{
	pin_acc *a = payload;
	uint64_t size = ph_object_sizeof_at(h, addr, type);
	a->p->objects++;
	a->p->bytes += size;
	if (a->p->naddrs < AN_MEM_ADDRS)
		a->p->addrs[a->p->naddrs++] = addr;
	size_t k = 0;
	while (k < a->nrows && a->rows[k].type != type)
		k++;
	if (k == a->nrows && a->nrows < 64)
		a->rows[a->nrows++] = (an_type_row){.type = type};
	if (k < a->nrows) {
		a->rows[k].count++;
		a->rows[k].size += size;
	}
	an_memory_result *r = a->r;
	if (r->npinner_list < 65536) {
		/* grown by 1024 at a time: room when not at a multiple */
		int room = r->npinner_list % 1024 != 0;
		if (!room) {
			struct an_mem_pinner *n = realloc(r->pinner_list,
							  (r->npinner_list + 1024) * sizeof *n);
			if (n) {
				r->pinner_list = n;
				room = 1;
			}
		}
		if (room)
			r->pinner_list[r->npinner_list++] = (struct an_mem_pinner){addr, size, type};
	}
	if (size > a->r->largest_pinner_size) {
		a->r->largest_pinner = addr;
		a->r->largest_pinner_type = type;
		a->r->largest_pinner_size = size;
	}
}

static int row_bytes_cmp(const void *a, const void *b)
{
	const an_type_row *x = a, *y = b;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : (x->type > y->type) - (x->type < y->type);
}

static int pinner_cmp(const void *a, const void *b)
{
	const struct an_mem_pinner *x = a, *y = b;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : (x->addr > y->addr) - (x->addr < y->addr);
}

static void pinned(an_memory_result *r, an_memory_ctx *c, ph_heap *h)
{
	const ph_arena_span *spans;
	size_t nb = ph_pinned_arenas(h, &spans);
	r->pinned = calloc(nb ? nb : 1, sizeof *r->pinned);
	if (!r->pinned)
		return;
	for (size_t i = 0; i < nb && r->npinned < AN_MEM_PINNED; i++) {
		an_mem_pinned *p = &r->pinned[r->npinned++];
		p->lo = spans[i].addr;
		p->hi = spans[i].end;
		for (size_t k = 0; k < c->narenas; k++)
			if (spans[i].addr >= c->alo[k] && spans[i].addr < c->ahi[k]) {
				p->lo = c->alo[k];
				p->hi = c->ahi[k];
			}
		pin_acc a = {.p = p, .r = r};
		ph_arena_objects(h, p->lo, p->hi, pin_cb, &a);
		qsort(a.rows, a.nrows, sizeof *a.rows, row_bytes_cmp);
		for (size_t k = 0; k < a.nrows && k < AN_MEM_TYPES; k++)
			p->types[p->ntypes++] = a.rows[k];
		r->pinners += p->objects;
	}
	if (r->pinner_list)
		qsort(r->pinner_list, r->npinner_list, sizeof *r->pinner_list, pinner_cmp);
}

/* ---- the whole ---- */

static int chunk_size_cmp(const void *a, const void *b)
{
	const an_mem_chunk *x = a, *y = b;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : (x->addr > y->addr) - (x->addr < y->addr);
}

int an_memory_end(an_memory_result **out, an_memory_ctx *c, ph_heap *h, size_t nchunks)
{
	*out = NULL;
	if (!h) {
		ctx_free(c);
		return -1;
	}
	core_t *core = ph_core(h);
	an_memory_result *r = calloc(1, sizeof *r);
	core_malloc *m = NULL;
	owners O = {0};
	claims C = {0};
	paint P = {0};
	lines L = {0}, K = {0};
	sums HS = {0}, MS = {0};
	uint32_t *tids = NULL;
	core_map_range *maps = NULL;
	size_t nmaps = 0;
	int rc = -1;
	if (!r || !c)
		goto done;
	if (!c->arenas_ready)
		load_arenas(c, h);
	if (!c->visited)
		for (size_t id = 0; id < ph_object_count(h); id++)
			an_memory_visit(h, ph_object_addr(h, (ph_id)id), ph_object_type(h, (ph_id)id),
					ph_object_size(h, (ph_id)id), c);
	if (c->oom)
		goto done;

	/* glibc's malloc */
	char err[256];
	size_t nch = 0;
	if (core_malloc_open(&m, core, c->malloc_flags, err, sizeof err) == 0) {
		r->have_malloc = 1;
		r->malloc_found_by = core_malloc_found_by(m);
		snprintf(r->malloc_version, sizeof r->malloc_version, "%s", core_malloc_version(m));
		r->malloc_safe_linking = core_malloc_safe_linking(m);
		r->mallinfo = *core_malloc_info(m);
		r->tcaches = core_malloc_tcache_count(m);
		nch = core_malloc_chunk_count(m);
		O.own = calloc(nch ? nch : 1, 1);
		O.bkind = calloc(nch ? nch : 1, 1);
		O.type = malloc((nch ? nch : 1) * sizeof *O.type);
		O.oaddr = calloc(nch ? nch : 1, sizeof *O.oaddr);
		r->narenas = core_malloc_arena_count(m);
		r->arenas = calloc(r->narenas ? r->narenas : 1, sizeof *r->arenas);
		if (!O.own || !O.bkind || !O.type || !O.oaddr || !r->arenas)
			goto done;
		for (size_t i = 0; i < nch; i++)
			O.type[i] = PH_NONE;
		attribute(c, h, m, &O);
		const core_chunk *ch = core_malloc_chunks(m);
		for (size_t i = 0; i < nch; i++)
			if (CORE_CHUNK_STATE(&ch[i]) == CORE_CHUNK_TCACHE_STRUCT)
				O.own[i] = AN_OWN_MALLOC;
	} else {
		snprintf(r->malloc_note, sizeof r->malloc_note, "%s", err);
	}

	/* the claims */
	size_t nm = core_module_count(core), nregions = m ? core_malloc_region_count(m) : 0;
	size_t nthreads = core_thread_count(core);
	for (size_t i = 0; i < nregions; i++) {
		const core_malloc_region *g = core_malloc_region_at(m, i);
		if (g->kind == CORE_MREGION_RESERVED)
			claim_add(&C, CL_RESERVED, g->lo, g->hi, RS_HEAPS);
		else
			claim_add(&C, CL_MALLOC, g->lo, g->hi, (uint32_t)i);
	}
	fit_arenas(c, h, m);
	for (size_t i = 0; i < c->narenas; i++)
		claim_add(&C, CL_ARENA, c->alo[i], c->ahi[i], (uint32_t)i);
	tids = calloc(nthreads ? nthreads : 1, sizeof *tids);
	if (!tids || core_mappings(core, &maps, &nmaps) < 0)
		goto done;
	for (size_t i = 0; i < nthreads; i++)
		tids[i] = (uint32_t)core_thread_tid(core, i);
	/* the threads with a stack (a thread's stack and its TLS may be two
	 * ranges or more): marked in tids' top bit, then unmarked */
	for (size_t i = 0; i < nmaps; i++)
		if (maps[i].kind == CORE_MAP_STACK && maps[i].idx < nthreads &&
		    !(tids[maps[i].idx] & 0x80000000u)) {
			tids[maps[i].idx] |= 0x80000000u;
			r->nthreads++;
		}
	for (size_t i = 0; i < nthreads; i++)
		tids[i] &= 0x7fffffffu;
	if (C.oom)
		goto done;
	claims_sort(&C);
	P.module = calloc(nm + 1, sizeof *P.module);
	P.file_ro = calloc(nm + 1, sizeof *P.file_ro);
	P.region = calloc(nregions + 1, sizeof *P.region);
	P.arena = calloc(c->narenas + 1, sizeof *P.arena);
	P.stack = calloc(nthreads + 1, sizeof *P.stack);
	if (!P.module || !P.file_ro || !P.region || !P.arena || !P.stack ||
	    do_paint(core, maps, nmaps, &C, &P) < 0)
		goto done;
	for (size_t i = 0; i < core_segment_count(core); i++)
		r->total += core_segment_at(core, i)->memsz;

	/* malloc's chunks by owner */
	size_t ntypes = ph_type_count(h);
	HS.by_type = calloc(ntypes + 1, sizeof *HS.by_type);
	MS.by_type = calloc(ntypes + 1, sizeof *MS.by_type);
	if (!HS.by_type || !MS.by_type)
		goto done;
	if (m) {
		const core_chunk *ch = core_malloc_chunks(m);
		for (size_t i = 0; i < nch; i++) {
			unsigned st = CORE_CHUNK_STATE(&ch[i]);
			if (st != CORE_CHUNK_USED && st != CORE_CHUNK_MMAPPED)
				continue;
			sums *S = st == CORE_CHUNK_USED ? &HS : &MS;
			uint64_t sz = CORE_CHUNK_SIZE(&ch[i]);
			S->own[O.own[i]] += sz;
			if (O.own[i] == AN_OWN_BUFFER)
				S->buf[O.bkind[i]] += sz;
			if (O.own[i] == AN_OWN_OBJECT && O.type[i] < ntypes)
				S->by_type[O.type[i]] += sz;
		}
		for (size_t i = 0; i < r->narenas; i++) {
			const core_malloc_arena *a = core_malloc_arena_at(m, i);
			an_mem_arena *x = &r->arenas[i];
			x->state = a->state;
			x->main = a->main;
			x->heaps = a->nheaps;
			x->bytes = a->heap_bytes;
			x->system_mem = a->system_mem;
			x->in_use = a->used;
			x->free = a->free_bins + a->free_fast + a->free_tcache + a->free_unbinned;
			x->top = a->top_walked;
			r->frag.malloc_bins += a->free_bins;
			r->frag.malloc_fast += a->free_fast;
			r->frag.malloc_tcache += a->free_tcache;
			r->frag.malloc_unbinned += a->free_unbinned;
			r->frag.malloc_top += a->top_walked;
		}
	}

	/* ---- the ledger ---- */
	const ph_arena_stats *as = ph_arenas(h);
	uint64_t arena_bytes = 0, used_blocks = 0, free_blocks = 0, overhead = 0;
	uint64_t cls_bytes[PH_SIZE_CLASSES];
	for (size_t i = 0; i < c->narenas; i++)
		arena_bytes += P.arena[i];
	for (int i = 0; i < PH_SIZE_CLASSES; i++) {
		uint64_t bs = (uint64_t)(i + 1) * 16;
		uint64_t nb = as->pool_size > as->pool_overhead ? (as->pool_size - as->pool_overhead) / bs : 0;
		uint64_t tail = as->pool_size - as->pool_overhead - nb * bs;
		cls_bytes[i] = as->cls[i].used * bs;
		used_blocks += cls_bytes[i];
		free_blocks += as->cls[i].free * bs;
		overhead += as->cls[i].pools * (as->pool_overhead + tail);
	}
	size_t p = line(&L, 0, arena_bytes, "pymalloc arenas (%llu)", (unsigned long long)as->arenas);
	size_t q = line(&L, 1, used_blocks, "used blocks");
	top_children(&L, q, 2, cls_bytes, PH_SIZE_CLASSES, class_name_cb, NULL, "other size classes");
	line(&L, 1, free_blocks, "free blocks");
	line(&L, 1, overhead, "pool headers and tails");
	line(&L, 1, as->pools_empty * as->pool_size, "empty pools");
	close_line(&L, p, "pools never used, arena alignment");
	r->frag.pymalloc_free_blocks = free_blocks;
	r->frag.pymalloc_empty_pools = as->pools_empty * as->pool_size;
	/* what the arenas hold beyond those (a trim leaves it at 0) */
	{
		uint64_t kids = used_blocks + free_blocks + overhead + as->pools_empty * as->pool_size;
		r->frag.pymalloc_untouched = arena_bytes > kids ? arena_bytes - kids : 0;
	}
	r->frag.nearly_empty_arenas = as->nearly_empty_arenas;
	r->frag.nearly_empty_bytes = as->nearly_empty_bytes;

	uint64_t heap_bytes = 0, mm_bytes = 0;
	size_t nheaps = 0, nmm = 0;
	for (size_t i = 0; i < nregions; i++) {
		const core_malloc_region *g = core_malloc_region_at(m, i);
		if (g->kind == CORE_MREGION_HEAP) {
			heap_bytes += P.region[i];
			nheaps++;
		} else if (g->kind == CORE_MREGION_MMAPPED) {
			mm_bytes += P.region[i];
			nmm++;
		}
	}
	if (m) {
		uint64_t used = 0, own = 0, released = 0, unwalked = 0;
		for (size_t i = 0; i < r->narenas; i++) {
			const core_malloc_arena *a = core_malloc_arena_at(m, i);
			used += a->used;
			own += a->tcache_structs + a->headers;
			released += a->released;
			unwalked += a->unwalked;
		}
		p = line(&L, 0, heap_bytes, "glibc malloc heaps (%zu arenas, %zu heaps)", r->narenas, nheaps);
		q = line(&L, 1, used, "in use");
		owner_lines(&L, q, 2, &HS, h);
		uint64_t fr = r->frag.malloc_bins + r->frag.malloc_fast + r->frag.malloc_tcache +
			      r->frag.malloc_unbinned + r->frag.malloc_top;
		q = line(&L, 1, fr, "free");
		line(&L, 2, r->frag.malloc_top, "top chunks");
		line(&L, 2, r->frag.malloc_bins, "bins");
		line(&L, 2, r->frag.malloc_fast, "fastbins");
		line(&L, 2, r->frag.malloc_tcache, "tcache");
		line(&L, 2, r->frag.malloc_unbinned, "free, in no bin");
		line(&L, 1, own, "malloc's own (tcache structs, heap headers, fenceposts)");
		line(&L, 1, released, "given back (trimmed, still mapped)");
		line(&L, 1, unwalked, "not walked (after a broken chunk)");
		close_line(&L, p, "not accounted");
		p = line(&L, 0, mm_bytes, "glibc malloc mmapped chunks (%zu)", nmm);
		owner_lines(&L, p, 1, &MS, h);
	}
	uint64_t stacks = 0, modules = 0;
	for (size_t i = 0; i < nthreads; i++)
		stacks += P.stack[i];
	struct thread_names tn = {core, tids};
	p = line(&L, 0, stacks, "thread stacks and TLS (%zu threads)", r->nthreads);
	top_children(&L, p, 1, P.stack, nthreads, thread_name_cb, &tn, "other threads");
	for (size_t i = 0; i < nm; i++)
		modules += P.module[i];
	p = line(&L, 0, modules, "module data and bss (%zu modules)", nm);
	top_children(&L, p, 1, P.module, nm, module_name_cb, core, "other modules");
	p = line(&L, 0, P.unclaimed[UN_FILE_RO], "read-only and executable file mappings");
	top_children(&L, p, 1, P.file_ro, nm + 1, module_name_cb, core, "other files");
	p = line(&L, 0, P.reserved[RS_HEAPS] + P.reserved[RS_GUARDS],
		 "reserved, not accessible (PROT_NONE, written out as zeros)");
	line(&L, 1, P.reserved[RS_HEAPS], "glibc heaps' reservations (64 MiB each)");
	line(&L, 1, P.reserved[RS_GUARDS], "thread stack guard pages");
	line(&L, 0, P.unclaimed[UN_FILE_W], "other writable file mappings");
	line(&L, 0, P.unclaimed[UN_ANON_RO], "read-only anonymous mappings");
	line(&L, 0, P.unclaimed[UN_LEFT_OUT], "left out of the core");
	r->unexplained = P.unclaimed[UN_ANON_W];
	qsort(P.gaps, P.ngaps, sizeof *P.gaps, range_size_cmp);
	memcpy(r->gaps, P.gaps, P.ngaps * sizeof *P.gaps);
	r->ngaps = P.ngaps;
	for (int k = 0; k < MK_N; k++)
		line(&K, 0, P.kinds[k], "%s", mk_names[k]);
	if (L.oom || K.oom)
		goto done;

	/* Python against native, fragmentation */
	r->python_bytes = used_blocks + HS.own[AN_OWN_OBJECT] + HS.own[AN_OWN_BUFFER] +
			  MS.own[AN_OWN_OBJECT] + MS.own[AN_OWN_BUFFER];
	for (unsigned o = 0; o < AN_OWN_NKINDS; o++)
		if (o != AN_OWN_OBJECT && o != AN_OWN_BUFFER && o != AN_OWN_ARENA && o != AN_OWN_MALLOC)
			r->native_bytes += HS.own[o] + MS.own[o];
	r->frag.total = r->frag.pymalloc_free_blocks + r->frag.pymalloc_empty_pools +
			r->frag.pymalloc_untouched + r->frag.malloc_bins + r->frag.malloc_fast +
			r->frag.malloc_tcache + r->frag.malloc_unbinned + r->frag.malloc_top;
	pinned(r, c, h);

	/* the biggest chunks in use */
	if (m) {
		const core_chunk *ch = core_malloc_chunks(m);
		size_t n = 0;
		r->chunks = malloc((nch ? nch : 1) * sizeof *r->chunks);
		if (!r->chunks)
			goto done;
		for (size_t i = 0; i < nch; i++) {
			unsigned st = CORE_CHUNK_STATE(&ch[i]);
			if (st != CORE_CHUNK_USED && st != CORE_CHUNK_MMAPPED)
				continue;
			an_mem_chunk *x = &r->chunks[n++];
			memset(x, 0, sizeof *x);
			x->addr = ch[i].addr + 16;
			x->size = CORE_CHUNK_SIZE(&ch[i]);
			x->mmapped = st == CORE_CHUNK_MMAPPED;
			x->owner = O.own[i];
			x->buffer_kind = O.bkind[i];
			x->owner_addr = O.oaddr[i];
			x->owner_type = O.type[i];
		}
		qsort(r->chunks, n, sizeof *r->chunks, chunk_size_cmp);
		r->nchunks = nchunks && nchunks < n ? nchunks : n;
		for (size_t i = 0; i < r->nchunks; i++)
			if (r->chunks[i].owner == AN_OWN_STATIC)
				static_name(core, r->chunks[i].owner_addr, r->chunks[i].holder,
					    sizeof r->chunks[i].holder);
	}
	r->lines = L.v;
	r->nlines = L.n;
	r->mappings = K.v;
	r->nmappings = K.n;
	L.v = K.v = NULL;
	rc = 0;
done:
	free(L.v);
	free(K.v);
	free(O.own);
	free(O.bkind);
	free(O.type);
	free(O.oaddr);
	for (int k = 0; k < CL_N; k++)
		free(C.v[k]);
	free(P.module);
	free(P.file_ro);
	free(P.region);
	free(P.arena);
	free(P.stack);
	free(HS.by_type);
	free(MS.by_type);
	free(tids);
	free(maps);
	core_malloc_free(m);
	ctx_free(c);
	if (rc < 0) {
		an_memory_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int an_memory(an_memory_result **out, ph_heap *h, unsigned malloc_flags, size_t nchunks)
{
	an_memory_ctx *c;
	*out = NULL;
	if (an_memory_begin(&c, malloc_flags) < 0)
		return -1;
	return an_memory_end(out, c, h, nchunks);
}

int an_memory_chain(an_memory_result *r, const heapgraph *hg)
{
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	ph_heap *h = hg_heap(hg);
	if (!r->npinner_list)
		return 0;
	/* the interpreter's roots first, as `path` does */
	if (hg_reach_tiers(hg, 1, &parent, &dist) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < r->npinner_list; i++) {
		rg_id id = ph_object_find(h, r->pinner_list[i].addr);
		if (id == PH_NONE || dist[id] == UINT32_MAX)
			continue;
		if (an_chain_get(&r->largest_chain, hg, parent, id) < 0) {
			rc = -1;
			break;
		}
		r->have_chain = 1;
		r->largest_pinner = r->pinner_list[i].addr;
		r->largest_pinner_size = r->pinner_list[i].size;
		r->largest_pinner_type = r->pinner_list[i].type;
		break;
	}
	free(parent);
	free(dist);
	return rc;
}

void an_memory_free(an_memory_result *r)
{
	if (!r)
		return;
	free(r->lines);
	free(r->mappings);
	free(r->arenas);
	free(r->pinned);
	free(r->pinner_list);
	free(r->chunks);
	an_chain_clear(&r->largest_chain);
	free(r);
}
