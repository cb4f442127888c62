/*
 * an_suspects.c - what most likely leaks, the evidence for it, and the
 * chain that keeps it alive; see analysis.h.
 *
 * Each finding is a suspect of one kind, ranked by the bytes it keeps,
 * its share of the heap:
 *   unbounded_cache  an lru_cache with maxsize=None holding entries, and at
 *                    least a thousandth of the heap
 *   big_container    a container retaining a twentieth of the heap
 *   growth           with a baseline: types and containers that grew
 *   garbage          cyclic garbage while the collector is off, or a
 *                    hundredth of the heap waiting for a collection
 *   orphans          objects with a refcount and no referrer (C leaks)
 *   pinned_arenas    two or more nearly empty pymalloc arenas, a tenth of
 *                    the arenas, kept by a few blocks
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
	rg_id *idom;             /* the dominator tree (an_retained) */
	rg_edge *parent;
	uint32_t *dist;
	uint8_t *sel;
	an_grown grown[AN_GROWN_MAX];   /* containers grown since the baseline */
	size_t ngrown;
	an_suspects_result *r;
} rules;

/* Whether container id grew since the baseline. */
static int grew(const rules *x, rg_id id)
{
	for (size_t i = 0; i < x->ngrown; i++)
		if (x->grown[i].id == id)
			return 1;
	return 0;
}

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
	s->bytes = weight;
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
static void unbounded_caches(rules *x, uint64_t total)
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
		/* one that never evicts grows with its inputs; empty, or tiny
		 * and not seen growing, it is no suspect yet */
		int64_t entries = cache != PH_NONE ? ph_object_len(x->h, cache) : -1;
		if (entries == 0 || (x->retained[id] * 1000 < total * AN_CACHE_PERMILLE &&
				     !(cache != PH_NONE && grew(x, cache))))
			continue;
		an_suspect *s = add(x, AN_UNBOUNDED_CACHE, x->retained[id], id);
		if (s)
			s->e.cache.entries = entries;
	}
}

/* Containers retaining a large share; module-level ones (a module's
 * globals, one step from it) are said so.  Of two such containers one
 * inside the other (the dominator tree's sense) whose retained sizes are
 * within a fifth of each other, only the inner one is the finding: the
 * list of closures, not the instance __dict__ that holds it. */
static void big_containers(rules *x, uint64_t total)
{
	enum { CAND = 2, COVERED = 3 };     /* in sel; 1 marks the caches' dicts */
	for (rg_id id = 0; id < x->nobj; id++)
		if (!x->sel[id] && ph_object_len(x->h, id) >= 0 &&
		    x->retained[id] * 100 >= total * AN_BIG_SHARE && !plumbing(x, id))
			x->sel[id] = CAND;
	for (rg_id id = 0; id < x->nobj; id++) {
		if (x->sel[id] != CAND && x->sel[id] != COVERED)
			continue;
		rg_id a = x->idom[id];
		for (int up = 0; up < 64 && a != RG_NONE; up++, a = x->idom[a]) {
			if (a < x->nobj && (x->sel[a] == CAND || x->sel[a] == COVERED)) {
				if (x->retained[a] * 4 <= x->retained[id] * 5)
					x->sel[a] = COVERED;
				break;
			}
		}
	}
	for (rg_id id = 0; id < x->nobj; id++) {
		if (x->sel[id] != CAND)
			continue;
		int module_level = x->dist[id] != UINT32_MAX && x->dist[id] <= 2;
		an_suspect *s = add(x, AN_BIG_CONTAINER, x->retained[id], id);
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
	const an_grown *g = x->grown;
	for (size_t i = 0; i < x->ngrown && i < AN_EXAMPLES; i++) {
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
static int garbage(rules *x, const ph_gc_state *gc, uint64_t total)
{
	uint64_t count = 0, size = 0;
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++)
		if (x->dist[id] == UINT32_MAX) {
			x->sel[id] = 1;
			count++;
			size += ph_object_size(x->h, id);
		}
	int disabled = gc->known && !gc->enabled;
	if (!count || (!disabled && size * 100 < total * AN_GARBAGE_SHARE))
		return 0;
	an_suspect *s = add(x, AN_GARBAGE, size, RG_NONE);
	if (s) {
		s->e.garbage.count = count;
		s->e.garbage.size = size;
		s->e.garbage.gc_disabled = disabled;
	}
	return examples(x, s);
}

/* Orphans but those a thread's live C stack points at (the C code that
 * was running holds them: no leak). */
static int orphans(rules *x)
{
	uint64_t count = 0, retained = 0, on_stack = 0;
	an_cstack cs;
	if (an_cstack_read(&cs, x->h) < 0)
		return -1;
	memset(x->sel, 0, x->nobj);
	for (rg_id id = 0; id < x->nobj; id++) {
		if (!hg_orphan(x->hg, id))
			continue;
		if (an_cstack_holds(&cs, ph_object_addr(x->h, id))) {
			on_stack++;
			continue;
		}
		x->sel[id] = 1;
		count++;
		retained += x->retained[id];
	}
	an_cstack_free(&cs);
	if (!count)
		return 0;
	an_suspect *s = add(x, AN_ORPHANS, retained, RG_NONE);
	if (s) {
		s->e.orphans.count = count;
		s->e.orphans.retained = retained;
		s->e.orphans.on_c_stack = on_stack;
	}
	return examples(x, s);
}

/* Nearly empty arenas: resident, for a few objects.  The space in them
 * no object uses counts in the heap the shares are of. */
static int pinned_arenas(rules *x)
{
	const ph_arena_span *pinned;
	size_t np = ph_pinned_arenas(x->h, &pinned);
	const ph_arena_stats *as = ph_arenas(x->h);
	an_pinned_result *p;
	if (an_pinned(&p, x->h) < 0)
		return -1;
	uint64_t used = 0;
	memset(x->sel, 0, x->nobj);
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->arenas[i].n; k++) {
			x->sel[p->arenas[i].ids[k]] = 1;
			used += ph_object_size(x->h, p->arenas[i].ids[k]);
		}
	x->r->pinned_free = as->nearly_empty_bytes > used ? as->nearly_empty_bytes - used : 0;
	/* the arena the allocator is filling, or one on its way out, is no
	 * finding: several, and a tenth of the arenas, are */
	if (np < 2 || as->nearly_empty_arenas * 100 < as->arenas * AN_PINNED_SHARE) {
		an_pinned_free(p);
		return 0;
	}
	an_suspect *s = add(x, AN_PINNED_ARENAS, as->nearly_empty_bytes, RG_NONE);
	if (s) {
		s->e.pinned.arenas = as->nearly_empty_arenas;
		s->e.pinned.bases = pinned;
		s->e.pinned.nbases = np;
		s->e.pinned.resident = as->nearly_empty_bytes;
		s->e.pinned.objects = p->objects;
	}
	an_pinned_free(p);
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
	*out = NULL;
	err[0] = 0;
	x.r = calloc(1, sizeof *x.r);
	x.sel = calloc(x.nobj ? x.nobj : 1, 1);
	if (!x.r || !x.sel || an_retained(&x.retained, &x.idom, hg) < 0 ||
	    hg_reach(hg, &x.parent, &x.dist) < 0)
		goto fail;
	an_suspects_result *r = x.r;
	r->total_size = ph_total_size(x.h);
	r->objects = ph_object_count(x.h);
	r->gc = ph_gc(x.h);

	if (baseline && baseline->heap)
		x.ngrown = an_grown_containers(x.grown, baseline->heap, x.h);
	unbounded_caches(&x, r->total_size);
	big_containers(&x, r->total_size);
	free(x.idom);
	x.idom = NULL;
	if ((baseline && growth(&x, baseline, err, errlen) < 0) ||
	    garbage(&x, r->gc, r->total_size) < 0 ||
	    orphans(&x) < 0 || pinned_arenas(&x) < 0 || memory_rules(&x) < 0)
		goto fail;
	r->heap_size = r->total_size + r->pinned_free;
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
	free(x.idom);
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
