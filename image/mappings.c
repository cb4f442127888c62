/*
 * mappings.c - the core's address space, every byte of it classified by
 * what the process had mapped there: a module's .data and .bss, a thread's
 * stack (and thread-local storage), a stack's guard page, other file
 * mappings (read-only or writable), other anonymous memory (read-only or
 * writable); and, for each byte, whether the core holds it.
 *
 * Stacks are found from each thread's registers (NT_PRSTATUS): the mapping
 * its stack pointer is in.  A thread pthread made keeps its descriptor
 * (struct pthread, which fs_base points at, with its static TLS below it)
 * at the top of its stack's mapping, and the mapping may run on into
 * whatever the kernel merged after it: the stack ends at the page after
 * the descriptor.  Its guard page is the inaccessible page below.  A
 * thread whose descriptor lies elsewhere (the main thread's, which ld.so
 * mapped) has that small mapping as its TLS.
 *
 * Nothing here prints.
 */
#include "coreInt.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* sizeof(struct pthread): 2304 in glibc 2.31, 2368 in 2.36; a stack's
 * mapping ends at the page after fs_base + this. */
#define PTHREAD_DESCR 2368
#define TLS_MAP_MAX (64u << 10)      /* a TLS mapping of its own is small */
#define GUARD_MAX (1u << 20)

typedef struct claim { uint64_t lo, hi; uint32_t idx; uint8_t kind; } claim;

typedef struct claims {
	claim *v;
	size_t n, cap;
	int oom;
} claims;

static void add(claims *c, uint64_t lo, uint64_t hi, unsigned kind, uint32_t idx)
{
	if (hi <= lo)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		claim *n = realloc(c->v, cap * sizeof *n);
		if (!n) {
			c->oom = 1;
			return;
		}
		c->v = n;
		c->cap = cap;
	}
	c->v[c->n++] = (claim){lo, hi, idx, (uint8_t)kind};
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The claim of the highest priority (the lowest kind) holding a, or NULL
 * (claims are few: modules' data, one or two per thread). */
static const claim *claim_of(const claims *c, uint64_t a)
{
	const claim *best = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (a >= c->v[i].lo && a < c->v[i].hi && (!best || c->v[i].kind < best->kind))
			best = &c->v[i];
	return best;
}

/* The process's page size (AT_PAGESZ; NT_FILE's page size is the unit of
 * its offsets, 1 in gdb's cores). */
static uint64_t page_of(const core_t *core)
{
	uint64_t p = core_auxv(core, AT_PAGESZ);
	return p >= 4096 && !(p & (p - 1)) ? p : 4096;
}

/* The stack of thread i: the part of the mapping its stack pointer is in
 * that ends at the page after its descriptor; 0 when it has none. */
static int stack_of(const core_t *core, size_t i, uint64_t page, uint64_t *lo, uint64_t *hi,
		    uint64_t *sp)
{
	uint64_t regs[CORE_NREGS];
	if (core_thread_regs(core, i, regs) < 0)
		return 0;
	const core_segment *s = core_segment_find(core, regs[CORE_REG_RSP]);
	if (!s)
		return 0;
	uint64_t fs = regs[CORE_REG_FS_BASE];
	*sp = regs[CORE_REG_RSP];
	*lo = s->vaddr;
	*hi = s->vaddr + s->memsz;
	if (core->tids[i] != core->pid && fs > *sp && fs < *hi)
		*hi = (fs + PTHREAD_DESCR + page - 1) & ~(page - 1);
	if (*hi > s->vaddr + s->memsz)
		*hi = s->vaddr + s->memsz;
	return 1;
}

static void thread_claims(const core_t *core, claims *c)
{
	uint64_t page = page_of(core);
	for (size_t i = 0; i < core->n_tids; i++) {
		uint64_t lo, hi, sp, lo2, hi2, sp2, fs, regs[CORE_NREGS];
		if (!stack_of(core, i, page, &lo, &hi, &sp) || core_thread_regs(core, i, regs) < 0)
			continue;
		fs = regs[CORE_REG_FS_BASE];
		int main_thread = core->tids[i] == core->pid;
		/* two threads' stacks in one mapping (glibc 2.42+ keeps the guard
		 * inside it): this one starts above the other's descriptor */
		for (size_t k = 0; k < core->n_tids; k++)
			if (k != i && stack_of(core, k, page, &lo2, &hi2, &sp2) && lo2 == lo &&
			    hi2 <= sp && hi2 > lo && sp2 < sp)
				lo = hi2;
		add(c, lo, hi, CORE_MAP_STACK, (uint32_t)i);
		const core_segment *g = lo > page ? core_segment_find(core, lo - 1) : NULL;
		if (!main_thread && g && g->vaddr + g->memsz == lo && !g->file &&
		    !(g->flags & CORE_SEG_W) && g->memsz <= GUARD_MAX)
			add(c, g->vaddr, lo, CORE_MAP_GUARD, (uint32_t)i);
		const core_segment *t = fs ? core_segment_find(core, fs) : NULL;
		if (t && (fs < lo || fs >= hi) && !t->file && (t->flags & CORE_SEG_W)) {
			if (t->memsz <= TLS_MAP_MAX)
				add(c, t->vaddr, t->vaddr + t->memsz, CORE_MAP_STACK, (uint32_t)i);
			else
				add(c, (fs & ~(page - 1)) - page,
				    (fs + PTHREAD_DESCR + page - 1) & ~(page - 1), CORE_MAP_STACK,
				    (uint32_t)i);
		}
	}
}

int core_mappings(const core_t *core, core_map_range **out, size_t *nout)
{
	claims c = {0};
	uint64_t page = page_of(core);
	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < core->n_mods; i++) {
		core_module_t *m = core->mods[i];
		for (size_t d = 0; d < core_module_data_count(m); d++) {
			uint64_t a, sz;
			if (core_module_data_at(m, d, &a, &sz) == 0)
				add(&c, a & ~(page - 1), (a + sz + page - 1) & ~(page - 1),
				    CORE_MAP_MODULE_DATA, (uint32_t)i);
		}
	}
	thread_claims(core, &c);
	size_t ns = core->n_segs, np = 0;
	uint64_t *pts = malloc((3 * ns + 2 * c.n + 1) * sizeof *pts);
	core_map_range *r = malloc((3 * ns + 2 * c.n + 1) * sizeof *r);
	if (c.oom || !pts || !r) {
		free(c.v);
		free(pts);
		free(r);
		return -1;
	}
	for (size_t i = 0; i < ns; i++) {
		pts[np++] = core->segs[i].vaddr;
		pts[np++] = core->segs[i].vaddr + core->segs[i].filesz;
		pts[np++] = core->segs[i].vaddr + core->segs[i].memsz;
	}
	for (size_t i = 0; i < c.n; i++) {
		pts[np++] = c.v[i].lo;
		pts[np++] = c.v[i].hi;
	}
	qsort(pts, np, sizeof *pts, u64_cmp);
	size_t n = 0, si = 0;
	for (size_t k = 0; k + 1 < np; k++) {
		uint64_t a = pts[k], b = pts[k + 1];
		if (a == b)
			continue;
		while (si < ns && core->segs[si].vaddr + core->segs[si].memsz <= a)
			si++;
		if (si == ns)
			break;
		const core_segment *s = &core->segs[si];
		if (a < s->vaddr)
			continue;
		const claim *cl = claim_of(&c, a);
		unsigned kind;
		uint32_t idx = 0;
		if (cl) {
			kind = cl->kind;
			idx = cl->idx;
		} else if (s->file) {
			kind = (s->flags & CORE_SEG_W) ? CORE_MAP_FILE_W : CORE_MAP_FILE_RO;
		} else {
			kind = (s->flags & CORE_SEG_W) ? CORE_MAP_ANON_W : CORE_MAP_ANON_RO;
		}
		uint8_t present = a < s->vaddr + s->filesz;
		if (n && r[n - 1].hi == a && r[n - 1].kind == kind && r[n - 1].idx == idx &&
		    r[n - 1].present == present && r[n - 1].seg == si) {
			r[n - 1].hi = b;
			continue;
		}
		r[n++] = (core_map_range){a, b, idx, (uint32_t)si, (uint8_t)kind, present};
	}
	free(c.v);
	free(pts);
	*out = r;
	*nout = n;
	return 0;
}
