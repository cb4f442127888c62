/*
 * an_cstack.c - what running C code may hold: the words of every thread's
 * live C stack, from its stack pointer to the end of the memory it lies in
 * (the stack's top, and a thread's descriptor and TLS above it); see
 * analysis.h; and the first words of each malloc chunk such a word points
 * at.  Words below the stack pointer are dead frames and are left out:
 * they would hide real orphans behind stale pointers.
 */
#include "analysis.h"
#include "core.h"
#include "grow.h"

#include <stdlib.h>

#define CSTACK_MAX (16u << 20)   /* bytes read per thread */
#define HOP_MAX 1024             /* bytes read of a chunk a stack word points at */

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Appends what the core holds of the nw words at addr to out's words,
 * whose array has room for *cap. */
static int append_words(const core_t *core, uint64_t addr, size_t nw, an_cstack *out, size_t *cap)
{
	uint64_t *w = an_grow(out->words, out->n + nw, cap, sizeof *w, 4096);
	if (!w)
		return -1;
	out->words = w;
	out->n += core_read(core, addr, out->words + out->n, nw * 8) / 8;
	return 0;
}

int an_cstack_read(an_cstack *out, ph_heap *h)
{
	core_t *core = ph_core(h);
	size_t cap = 0, nmap = 0;
	core_map_range *map = NULL;
	out->words = NULL;
	out->n = 0;
	if (core_mappings(core, &map, &nmap) < 0)
		return -1;
	for (size_t t = 0; t < core_thread_count(core); t++) {
		uint64_t regs[CORE_NREGS];
		if (core_thread_regs(core, t, regs) < 0)
			continue;
		uint64_t sp = regs[CORE_REG_RSP] & ~7ull, end = 0;
		/* the stack's end as the mappings have it (two threads' stacks
		 * may share one mapping) */
		for (size_t k = 0; k < nmap; k++)
			if (map[k].kind == CORE_MAP_STACK && map[k].idx == t && sp >= map[k].lo &&
			    sp < map[k].hi)
				end = map[k].hi;
		if (!end)
			continue;
		if (end - sp > CSTACK_MAX)
			end = sp + CSTACK_MAX;
		size_t nw = (size_t)((end - sp) / 8);
		if (append_words(core, sp, nw, out, &cap) < 0)
			goto oom;
	}
	/* and one step further: the start of a malloc chunk a stack word
	 * points at (a parser's or a compiler's state, kept in C memory by the
	 * function running) is read too, its first HOP_MAX bytes */
	size_t nstack = out->n;
	for (size_t i = 0; core_malloc_glibc(core) && i < nstack; i++) {
		uint64_t p = out->words[i], usable;
		if ((p & 15) || p < 4096 || !(usable = core_malloc_usable(core, p)) || usable > (1u << 20))
			continue;
		size_t nw = (size_t)((usable < HOP_MAX ? usable : HOP_MAX) / 8);
		if (append_words(core, p, nw, out, &cap) < 0)
			goto oom;
	}
	if (out->n)
		qsort(out->words, out->n, sizeof *out->words, by_value);
	free(map);
	return 0;
oom:
	free(map);
	an_cstack_free(out);
	return -1;
}

int an_cstack_holds(const an_cstack *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->words[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->words[lo] == addr;
}

void an_cstack_free(an_cstack *s)
{
	free(s->words);
	s->words = NULL;
	s->n = 0;
}
