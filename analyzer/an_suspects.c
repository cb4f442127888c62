/*
 * an_suspects.c - what most likely leaks, the evidence for it, and the
 * chain that keeps it alive; see analysis.h.
 *
 * Each finding is a suspect of one kind, weighed in bytes:
 *   unbounded_cache  an lru_cache with maxsize=None: entries and retained size
 *   big_container    a container retaining a large share of the heap
 *                    (module-level ones first)
 *   growth           with a baseline: types and containers that grew
 *   garbage          cyclic garbage, above all while the collector is off
 *   orphans          objects with a refcount and no referrer (C leaks)
 *   pinned_arenas    nearly empty pymalloc arenas kept by a few blocks
 *   native_memory    the memory in use is mostly outside Python objects and
 *                    their buffers (an_memory): the biggest native chunks
 *   fragmentation    the allocators' memory is mostly free
 */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
	[AN_UNBOUNDED_CACHE] = "unbounded_cache",
	[AN_BIG_CONTAINER] = "big_container",
	[AN_GROWTH] = "growth",
	[AN_GARBAGE] = "garbage",
	[AN_ORPHANS] = "orphans",
	[AN_PINNED_ARENAS] = "pinned_arenas",
	[AN_NATIVE_MEMORY] = "native_memory",
	[AN_FRAGMENTATION] = "fragmentation",
};

const char *an_suspect_kind_name(enum an_suspect_kind k)
{
	return (size_t)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

typedef struct rules {
	const heapgraph *hg;
	ph_heap *h;
	uint32_t nobj;
	uint64_t *retained;
	rg_edge *parent;
	uint32_t *dist;
	uint8_t *sel;
	an_suspects_result *r;
} rules;

/* A new suspect, or NULL when the list is full. */
static an_suspect *add(rules *x, enum an_suspect_kind kind, uint64_t weight, rg_id id)
{
	an_suspects_result *r = x->r;
	if (r->n == AN_SUSPECTS_MAX)
		return NULL;
	an_suspect *s = &r->s[r->n++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->weight = weight;
	s->id = id;
	s->items = -1;
	/* a container's own size is what it retains; a group's its weight */
	s->bytes = (kind == AN_BIG_CONTAINER || kind == AN_GROWTH) && id != RG_NONE ?
		   x->retained[id] : weight;
	return s;
}

static int by_weight(const void *a, const void *b)
{
	const an_suspect *x = a, *y = b;
	return x->weight < y->weight ? 1 : x->weight > y->weight ? -1 : 0;
}

/* A module's globals, or a dict the interpreter holds itself (sys,
 * builtins, interned strings): big by nature, not suspects. */
static int plumbing(rules *x, rg_id id)
{
	rg_edge e = x->parent[id];
	char l[64];
	if (e == RG_EDGE_NONE)
		return 1;
	rg_id src = rg_edge_src(hg_graph(x->hg), e);
	if (src >= x->nobj)
		return 1;
	return strcmp(ph_type_name(x->h, ph_object_type(x->h, src)), "module") == 0 &&
	       strcmp(hg_edge_text(x->hg, e, l, sizeof l), "__dict__") == 0;
}

/* The types of the objects marked in sel, most bytes first, as a group
 * suspect's examples (s may be NULL: the list is full). */
static int examples(rules *x, an_suspect *s)
{
	an_types_result *t;
	if (an_types(&t, x->h, x->sel, 0) < 0)
		return -1;
	for (size_t i = 0; s && i < t->n && i < AN_EXAMPLES; i++)
		s->examples[s->nexamples++] = t->rows[i];
	an_types_free(t);
	return 0;
}

/* Unbounded caches; their cache dicts are marked in sel, not to be
 * reported again as big containers. */
static void unbounded_caches(rules *x)
{
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++) {
		uint32_t cache;
		int unbounded = ph_lru_unbounded(x->h, id, &cache);
		if (unbounded < 0)
			continue;
		if (cache != PH_NONE)
			x->sel[cache] = 1;
		if (unbounded != 1)
			continue;
		/* a cache that never evicts is a leak by construction: weigh it
		 * above a container of the same size */
		an_suspect *s = add(x, AN_UNBOUNDED_CACHE, x->retained[id] * 3, id);
		if (s)
			s->e.cache.entries = cache != PH_NONE ? ph_object_len(x->h, cache) : -1;
	}
}

/* Containers retaining a large share; module-level ones (a module's
 * globals, one step from it) are weighed first. */
static void big_containers(rules *x, uint64_t total)
{
	for (rg_id id = 0; id < x->nobj; id++) {
		if (ph_object_len(x->h, id) < 0 || x->retained[id] * 100 < total * AN_BIG_SHARE)
			continue;
		if (x->sel[id] || plumbing(x, id))
			continue;
		int module_level = x->dist[id] != UINT32_MAX && x->dist[id] <= 2;
		an_suspect *s = add(x, AN_BIG_CONTAINER, x->retained[id] * (module_level ? 2 : 1), id);
		if (s) {
			s->e.big.module_level = module_level;
			s->e.big.items = ph_object_len(x->h, id);
			s->e.big.percent = total ? x->retained[id] * 100 / total : 0;
		}
	}
}

/* Types and containers that grew since the baseline. */
static int growth(rules *x, const an_dump *baseline, char *err, size_t errlen)
{
	an_dump cur = {.heap = x->h};
	an_type_delta *t;
	size_t nt;
	if (an_type_deltas(&t, &nt, baseline, &cur, 0, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nt && i < AN_EXAMPLES; i++) {
		if (t[i].new_size <= t[i].old_size)
			break;
		an_suspect *s = add(x, AN_GROWTH, t[i].new_size - t[i].old_size, RG_NONE);
		if (!s)
			continue;
		snprintf(s->e.type_growth.name, sizeof s->e.type_growth.name, "%s", t[i].name);
		s->e.type_growth.count_delta = (int64_t)(t[i].new_count - t[i].old_count);
		s->e.type_growth.size_delta = (int64_t)(t[i].new_size - t[i].old_size);
		s->e.type_growth.new_count = t[i].new_count;
	}
	an_type_deltas_free(t, nt);
	an_grown g[AN_GROWN_MAX];
	size_t nc = baseline->heap ? an_grown_containers(g, baseline->heap, x->h) : 0;
	for (size_t i = 0; i < nc && i < AN_EXAMPLES; i++) {
		an_suspect *s = add(x, AN_GROWTH, x->retained[g[i].id], g[i].id);
		if (s) {
			s->e.grown.old_len = g[i].old_len;
			s->e.grown.new_len = g[i].new_len;
		}
	}
	return 0;
}

/* Cyclic garbage: garbage is expected between collections; with the
 * collector off it only grows. */
static int garbage(rules *x, const ph_gc_state *gc)
{
	uint64_t count = 0, size = 0;
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++)
		if (x->dist[id] == UINT32_MAX) {
			x->sel[id] = 1;
			count++;
			size += ph_object_size(x->h, id);
		}
	if (!count)
		return 0;
	int disabled = gc->known && !gc->enabled;
	an_suspect *s = add(x, AN_GARBAGE, disabled ? size * 4 : size, RG_NONE);
	if (s) {
		s->e.garbage.count = count;
		s->e.garbage.size = size;
		s->e.garbage.gc_disabled = disabled;
	}
	return examples(x, s);
}

static int orphans(rules *x)
{
	uint64_t count = 0, retained = 0;
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++) {
		if (hg_orphan(x->hg, id)) {
			x->sel[id] = 1;
			count++;
			retained += x->retained[id];
		}
	}
	if (!count)
		return 0;
	an_suspect *s = add(x, AN_ORPHANS, retained, RG_NONE);
	if (s) {
		s->e.orphans.count = count;
		s->e.orphans.retained = retained;
	}
	return examples(x, s);
}

static int pinned_arenas(rules *x)
{
	const uint64_t *pinned;
	size_t np = ph_pinned_arenas(x->h, &pinned);
	const ph_arena_stats *as = ph_arenas(x->h);
	if (!np)
		return 0;
	uint64_t pinners = 0;
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++) {
		uint64_t a = ph_object_addr(x->h, id);
		for (size_t i = 0; i < np; i++)
			if (a >= pinned[i] && a < pinned[i] + as->arena_size) {
				x->sel[id] = 1;
				pinners++;
				break;
			}
	}
	an_suspect *s = add(x, AN_PINNED_ARENAS, as->nearly_empty_bytes, RG_NONE);
	if (s) {
		s->e.pinned.arenas = as->nearly_empty_arenas;
		s->e.pinned.resident = as->nearly_empty_bytes;
		s->e.pinned.objects = pinners;
	}
	return examples(x, s);
}

/* The memory ledger's verdicts: mostly native, mostly free. */
static int memory_rules(rules *x)
{
	an_memory_result *m;
	if (an_memory(&m, x->h, 0, 0) < 0)
		return -1;
	uint64_t in_use = m->python_bytes + m->native_bytes;
	if (in_use && m->native_bytes * 100 >= in_use * AN_NATIVE_SHARE) {
		an_suspect *s = add(x, AN_NATIVE_MEMORY, m->native_bytes, RG_NONE);
		for (size_t i = 0; s && i < m->nchunks && s->e.native.nholders < AN_EXAMPLES; i++) {
			const an_mem_chunk *c = &m->chunks[i];
			if (c->owner == AN_OWN_NONE || c->owner == AN_OWN_STATIC ||
			    c->owner == AN_OWN_EXTOBJ)
				s->e.native.holders[s->e.native.nholders++] = *c;
		}
		if (s) {
			s->e.native.python = m->python_bytes;
			s->e.native.native = m->native_bytes;
		}
	}
	uint64_t pym = m->frag.pymalloc_free_blocks + m->frag.pymalloc_empty_pools +
		       m->frag.pymalloc_untouched;
	if (in_use + m->frag.total && m->frag.total * 100 >= (in_use + m->frag.total) * AN_FREE_SHARE) {
		an_suspect *s = add(x, AN_FRAGMENTATION, m->frag.total, RG_NONE);
		if (s) {
			s->e.frag.free = m->frag.total;
			s->e.frag.in_use = in_use;
			s->e.frag.pymalloc = pym;
			s->e.frag.malloc = m->frag.total - pym;
			s->e.frag.pinned_arenas = m->frag.nearly_empty_arenas;
		}
	}
	an_memory_free(m);
	return 0;
}

int an_suspects(an_suspects_result **out, const heapgraph *hg, const an_dump *baseline,
		char *err, size_t errlen)
{
	rules x = {.hg = hg, .h = hg_heap(hg), .nobj = hg_object_count(hg)};
	rg_id *idom = NULL;
	*out = NULL;
	err[0] = 0;
	x.r = calloc(1, sizeof *x.r);
	x.sel = calloc(x.nobj ? x.nobj : 1, 1);
	if (!x.r || !x.sel || an_retained(&x.retained, &idom, hg) < 0 ||
	    hg_reach(hg, &x.parent, &x.dist) < 0)
		goto fail;
	free(idom);
	idom = NULL;
	an_suspects_result *r = x.r;
	r->total_size = ph_total_size(x.h);
	r->objects = ph_object_count(x.h);
	r->gc = ph_gc(x.h);

	unbounded_caches(&x);
	big_containers(&x, r->total_size);
	if ((baseline && growth(&x, baseline, err, errlen) < 0) || garbage(&x, r->gc) < 0 ||
	    orphans(&x) < 0 || pinned_arenas(&x) < 0 || memory_rules(&x) < 0)
		goto fail;
	qsort(r->s, r->n, sizeof *r->s, by_weight);

	/* the objects: what they retain, their items, what holds them */
	for (size_t i = 0; i < r->n; i++) {
		an_suspect *s = &r->s[i];
		if (s->id == RG_NONE)
			continue;
		uint32_t cache;
		s->retained = x.retained[s->id];
		s->items = ph_object_len(x.h, s->id);
		if (ph_lru_unbounded(x.h, s->id, &cache) == 1 && cache != PH_NONE)
			s->items = ph_object_len(x.h, cache);
		if (an_chain_get(&s->chain, hg, x.parent, s->id) < 0)
			goto fail;
	}
	free(x.sel);
	free(x.retained);
	free(x.parent);
	free(x.dist);
	*out = r;
	return 0;
fail:
	free(idom);
	free(x.sel);
	free(x.retained);
	free(x.parent);
	free(x.dist);
	an_suspects_free(x.r);
	return -1;
}

void an_suspects_free(an_suspects_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		an_chain_clear(&r->s[i].chain);
	free(r);
}
