/*
 * build.c - collecting edges and laying them out by source (CSR).
 *
 * rg_build() is a counting sort by source: one pass counts each source's
 * edges, then each per-edge field is scattered into its final place in a
 * pass of its own, after which the builder's copy of that field is freed.
 * Peak memory is therefore the builder (14 bytes an edge) plus one output
 * field (at most 4 bytes an edge), not both layouts in full.  The builder's
 * src array is finally rewritten in place, sorted, and becomes the graph's.
 * Within a source the scatter goes in insertion order, so it is stable.
 * Edges added in source order (as pyheap gives them: object by object)
 * need no scatter: the builder's arrays become the graph's.
 *
 * Memory: big arrays are faulted in as huge pages where the kernel allows
 * (MADV_HUGEPAGE), since the graph of a 20M-object heap is gigabytes and in
 * a VM each 4 KiB page fault costs microseconds.  For the same reason the
 * builder's arrays are best reserved once (rg_builder_reserve) rather than
 * grown: realloc moves them with mremap, and the first touch of each moved
 * page is slow again.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "graphInt.h"

#define HUGE_PAGE (2u << 20)

/* Asks for huge pages over the whole 2 MiB pages inside [p, p + bytes).
 * Blocks this big come from their own mmap, untouched, so the advice holds
 * for every page the caller will fault in; it is only advice. */
static void *huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	if (p && bytes >= 4 * (size_t)HUGE_PAGE) {
		uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
		uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
#endif
	return p;
}

void *rg_alloc(uint64_t n, size_t sz)
{
	if (sz == 0 || n > SIZE_MAX / sz)
		return NULL;
	return huge(malloc(n ? (size_t)n * sz : 1), (size_t)n * sz);
}

void *rg_zalloc(uint64_t n, size_t sz)
{
	if (sz == 0 || n > SIZE_MAX / sz)
		return NULL;
	return huge(calloc(n ? (size_t)n : 1, sz), (size_t)n * sz);
}

int rg_builder_new(rg_builder **out, uint32_t nnodes)
{
	*out = NULL;
	if (nnodes > RG_MAX_NODES)
		return -1;
	rg_builder *b = calloc(1, sizeof *b);
	if (!b)
		return -1;
	b->nnodes = nnodes;
	*out = b;
	return 0;
}

void rg_builder_free(rg_builder *b)
{
	if (!b)
		return;
	free(b->src);
	free(b->dst);
	free(b->label);
	free(b->kind);
	free(b->flags);
	free(b);
}

/* Grows every array to newcap (at least double).  On failure the arrays
 * already grown stay valid (just larger) and cap is unchanged. */
static int builder_grow(rg_builder *b, uint64_t newcap)
{
	if (newcap < (b->cap ? b->cap * 2 : 1024))
		newcap = b->cap ? b->cap * 2 : 1024;
	if (newcap < b->cap || newcap > SIZE_MAX / sizeof(uint32_t))
		return -1;
	void *p;
	size_t n = (size_t)newcap;
	if (!(p = realloc(b->src, n * sizeof(uint32_t))))
		return -1;
	b->src = huge(p, n * sizeof(uint32_t));
	if (!(p = realloc(b->dst, n * sizeof(uint32_t))))
		return -1;
	b->dst = huge(p, n * sizeof(uint32_t));
	if (!(p = realloc(b->label, n * sizeof(uint32_t))))
		return -1;
	b->label = huge(p, n * sizeof(uint32_t));
	if (!(p = realloc(b->kind, n)))
		return -1;
	b->kind = huge(p, n);
	if (!(p = realloc(b->flags, n)))
		return -1;
	b->flags = huge(p, n);
	b->cap = newcap;
	return 0;
}

int rg_builder_reserve(rg_builder *b, uint64_t nedges)
{
	if (!b)
		return -1;
	return nedges <= b->cap ? 0 : builder_grow(b, nedges);
}

int rg_builder_add(rg_builder *b, rg_id src, rg_id dst, uint8_t kind, uint8_t flags,
		   uint32_t label)
{
	if (!b || src >= b->nnodes || dst >= b->nnodes)
		return -1;
	if (b->count == b->cap && builder_grow(b, 0) < 0)
		return -1;
	uint64_t i = b->count++;
	if (i && src < b->src[i - 1])
		b->unsorted = 1;
	b->src[i] = src;
	b->dst[i] = dst;
	b->label[i] = label;
	b->kind[i] = kind;
	b->flags[i] = flags;
	return 0;
}

void rg_free(rg_graph *g)
{
	if (!g)
		return;
	free(g->idx);
	free(g->src);
	free(g->dst);
	free(g->label);
	free(g->kind);
	free(g->flags);
	free(g->rin_idx);
	free(g->rin_edge);
	free(g);
}

/* idx[s] holds the start of s's edges on entry; the scatter advances it to
 * the end of s, which is the start of s + 1: shift back afterwards. */
static void idx_restore(uint64_t *idx, uint32_t n)
{
	for (uint32_t s = n; s > 0; s--)
		idx[s] = idx[s - 1];
	idx[0] = 0;
}

#define SCATTER(T, field)                                                      \
	do {                                                                   \
		T *o_ = rg_alloc(m, sizeof(T));                                \
		if (!o_)                                                       \
			goto fail;                                             \
		for (uint64_t i_ = 0; i_ < m; i_++)                            \
			o_[idx[b->src[i_]]++] = b->field[i_];                  \
		idx_restore(idx, n);                                           \
		free(b->field);                                                \
		b->field = NULL;                                               \
		g->field = o_;                                                 \
	} while (0)

int rg_build(rg_graph **out, rg_builder *b)
{
	*out = NULL;
	if (!b)
		return -1;
	rg_graph *g = calloc(1, sizeof *g);
	uint32_t n = b->nnodes;
	uint64_t m = b->count;
	uint64_t *idx = rg_zalloc((uint64_t)n + 1, sizeof(uint64_t));
	if (!g || !idx)
		goto fail;
	g->nnodes = n;
	g->nedges = m;
	g->idx = idx;

	for (uint64_t i = 0; i < m; i++)
		idx[b->src[i] + 1]++;
	for (uint32_t s = 0; s < n; s++)
		idx[s + 1] += idx[s];

	if (!b->unsorted && m > 0) {
		/* in source order already: the builder's arrays are the graph's */
		g->src = b->src;
		g->dst = b->dst;
		g->label = b->label;
		g->kind = b->kind;
		g->flags = b->flags;
		b->src = b->dst = b->label = NULL;
		b->kind = b->flags = NULL;
		rg_builder_free(b);
		*out = g;
		return 0;
	}

	SCATTER(uint32_t, dst);
	SCATTER(uint32_t, label);
	SCATTER(uint8_t, kind);
	SCATTER(uint8_t, flags);

	/* The sources, sorted, in place of the builder's. */
	uint32_t *src = b->src;
	b->src = NULL;
	for (uint32_t s = 0; s < n; s++)
		for (uint64_t e = idx[s]; e < idx[s + 1]; e++)
			src[e] = s;
	if (m == 0) {
		free(src);
		src = malloc(1);
	} else if (m < b->cap) {
		uint32_t *p = realloc(src, (size_t)m * sizeof *src);
		if (p)
			src = p;
	}
	g->src = src;
	if (!g->src)
		goto fail;
	rg_builder_free(b);
	*out = g;
	return 0;
fail:
	rg_builder_free(b);
	rg_free(g);
	if (!g)
		free(idx);
	return -1;
}

uint32_t rg_node_count(const rg_graph *g)
{
	return g->nnodes;
}

uint64_t rg_edge_count(const rg_graph *g)
{
	return g->nedges;
}

void rg_out(const rg_graph *g, rg_id n, rg_edge *begin, rg_edge *end)
{
	if (n >= g->nnodes) {
		*begin = *end = 0;
		return;
	}
	*begin = g->idx[n];
	*end = g->idx[n + 1];
}

rg_id rg_edge_src(const rg_graph *g, rg_edge e)
{
	return e < g->nedges ? g->src[e] : RG_NONE;
}

rg_id rg_edge_dst(const rg_graph *g, rg_edge e)
{
	return e < g->nedges ? g->dst[e] : RG_NONE;
}

uint8_t rg_edge_kind(const rg_graph *g, rg_edge e)
{
	return e < g->nedges ? g->kind[e] : 0;
}

uint8_t rg_edge_flags(const rg_graph *g, rg_edge e)
{
	return e < g->nedges ? g->flags[e] : 0;
}

uint32_t rg_edge_label(const rg_graph *g, rg_edge e)
{
	return e < g->nedges ? g->label[e] : 0;
}

int rg_build_reverse(rg_graph *g)
{
	if (g->rin_idx)
		return 0;
	uint32_t n = g->nnodes;
	uint64_t m = g->nedges;
	uint64_t *ri = rg_zalloc((uint64_t)n + 1, sizeof(uint64_t));
	rg_edge *re = rg_alloc(m, sizeof(rg_edge));
	if (!ri || !re) {
		free(ri);
		free(re);
		return -1;
	}
	for (uint64_t e = 0; e < m; e++)
		ri[g->dst[e] + 1]++;
	for (uint32_t v = 0; v < n; v++)
		ri[v + 1] += ri[v];
	for (uint64_t e = 0; e < m; e++)
		re[ri[g->dst[e]]++] = e;
	idx_restore(ri, n);
	g->rin_idx = ri;
	g->rin_edge = re;
	return 0;
}

int rg_in(rg_graph *g, rg_id n, const rg_edge **edges, size_t *count)
{
	*edges = NULL;
	*count = 0;
	if (rg_build_reverse(g) < 0)
		return -1;
	if (n >= g->nnodes)
		return 0;
	*edges = g->rin_edge + g->rin_idx[n];
	*count = (size_t)(g->rin_idx[n + 1] - g->rin_idx[n]);
	return 0;
}
