/*
 * cmd_suspects.c - `pyheap suspects`: what most likely leaks, the evidence
 * for it, and the chain that keeps it alive.
 *
 * Each finding is a suspect of one kind, weighed in bytes:
 *   unbounded_cache  an lru_cache with maxsize=None: entries and retained size
 *   big_container    a container retaining a large share of the heap
 *                    (module-level ones first)
 *   growth           with --baseline: types and containers that grew
 *   garbage          cyclic garbage, above all while the collector is off
 *   orphans          objects with a refcount and no referrer (C leaks)
 *   pinned_arenas    nearly empty pymalloc arenas kept by a few blocks
 * The report ends with the collector's state.
 */
#include "cmd.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

#define BIG_SHARE 5          /* a container retaining >= 5% of the heap */
#define MAX_SUSPECTS 64
#define EXAMPLES 3           /* types or objects quoted per suspect */

typedef struct suspect {
	const char *kind;
	uint64_t bytes;          /* the weight: retained or total bytes */
	rg_id id;                /* the object in question, RG_NONE for a group */
	char summary[1024];
} suspect;

typedef struct report {
	heapgraph *hg;
	rg_edge *parent;
	uint32_t *dist;
	uint64_t *retained;
	suspect s[MAX_SUSPECTS];
	size_t n;
} report;

static suspect *add(report *r, const char *kind, uint64_t bytes, rg_id id)
{
	if (r->n == MAX_SUSPECTS)
		return NULL;
	suspect *s = &r->s[r->n++];
	s->kind = kind;
	s->bytes = bytes;
	s->id = id;
	s->summary[0] = 0;
	return s;
}

static int by_bytes(const void *a, const void *b)
{
	const suspect *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* The chain that holds id: root and labels, as text or JSON. */
static void chain(report *r, rg_id id, json_w *w)
{
	if (w)
		cmd_chain_json_at(w, r->hg, r->parent, id);
	else
		cmd_chain_print_at(r->hg, r->parent, id, "     ");
}

/* A module's globals, or a dict the interpreter holds itself (sys,
 * builtins, interned strings): big by nature, not suspects. */
static int plumbing(report *r, rg_id id)
{
	rg_edge e = r->parent[id];
	char l[64];
	if (e == RG_EDGE_NONE)
		return 1;
	rg_id src = rg_edge_src(hg_graph(r->hg), e);
	if (src >= hg_object_count(r->hg))
		return 1;
	return strcmp(ph_type_name(hg_heap(r->hg), ph_object_type(hg_heap(r->hg), src)), "module") == 0 &&
	       strcmp(hg_edge_text(r->hg, e, l, sizeof l), "__dict__") == 0;
}

/* "300 __main__.Orphan, 12 dict, ..." for the objects marked in sel, the
 * types holding the most bytes first. */
static void describe_types(ph_heap *h, const uint8_t *sel, char *out, size_t cap)
{
	an_types_result *t;
	size_t o = 0;
	char num[32];
	out[0] = 0;
	if (an_types(&t, h, sel, 0) < 0)
		return;
	for (size_t i = 0; i < t->n && i < EXAMPLES; i++)
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s %s", i ? ", " : "",
				      cmd_num(num, sizeof num, t->rows[i].count),
				      ph_type_name(h, t->rows[i].type));
	an_types_free(t);
}

int cmd_suspects(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	report *r = calloc(1, sizeof *r);
	char b1[32], b2[32], n1[32], v[160];
	int rc = EXIT_UNUSABLE;
	core_t *old_core = NULL;
	ph_heap *old_heap = NULL;
	rg_id *roots = NULL, *idom = NULL, *order = NULL;
	uint32_t norder = 0;
	uint8_t *sel = NULL;
	if (!r) {
		fprintf(stderr, "pyheap: out of memory\n");
		return EXIT_UNUSABLE;
	}
	if (cmd_build_graph(&r->hg, ctx) < 0) {
		free(r);
		return EXIT_UNUSABLE;
	}
	heapgraph *hg = r->hg;
	uint64_t total = ph_total_size(h);
	roots = malloc((hg_root_count(hg) ? hg_root_count(hg) : 1) * sizeof *roots);
	r->retained = rg_zalloc(hg_node_count(hg), sizeof *r->retained);
	sel = calloc(hg_object_count(hg) ? hg_object_count(hg) : 1, 1);
	if (!roots || !r->retained || !sel)
		goto oom;
	for (size_t i = 0; i < hg_root_count(hg); i++)
		roots[i] = hg_root_at(hg, i)->node;
	/* sizes, then (in place) retained sizes */
	for (rg_id i = 0; i < hg_object_count(hg); i++)
		r->retained[i] = ph_object_size(h, i);
	if (rg_dominators_order(hg_graph(hg), roots, hg_root_count(hg), &idom, &order, &norder) < 0 ||
	    rg_retain_sizes(hg_graph(hg), idom, order, norder, r->retained) < 0)
		goto oom;
	free(order);
	order = NULL;
	if (rg_bfs(hg_graph(hg), roots, hg_root_count(hg), NULL, NULL, &r->parent, &r->dist) < 0)
		goto oom;

	/* unbounded caches; their cache dicts are not reported again */
	memset(sel, 0, hg_object_count(hg));
	for (rg_id id = 0; id < hg_object_count(hg); id++) {
		uint32_t cache;
		if (ph_lru_unbounded(h, id, &cache) < 0)
			continue;
		if (cache != PH_NOLABEL)
			sel[cache] = 1;
		if (ph_lru_unbounded(h, id, &cache) != 1)
			continue;
		int64_t entries = cache != PH_NOLABEL ? ph_object_len(h, cache) : -1;
		/* a cache that never evicts is a leak by construction: weigh it
		 * above a container of the same size */
		suspect *s = add(r, "unbounded_cache", r->retained[id] * 3, id);
		if (s)
			snprintf(s->summary, sizeof s->summary,
				 "an lru_cache with maxsize=None: %s entries, retaining %s (%s)",
				 cmd_num(n1, sizeof n1, entries < 0 ? 0 : (uint64_t)entries),
				 cmd_bytes(b1, sizeof b1, r->retained[id]), ph_object_repr(h, id, v, sizeof v));
	}
	/* containers retaining a large share; module-level ones (a module's
	 * globals, one step from it) are weighed first */
	for (rg_id id = 0; id < hg_object_count(hg); id++) {
		if (ph_object_len(h, id) < 0 || r->retained[id] * 100 < total * BIG_SHARE)
			continue;
		if (sel[id] || plumbing(r, id))
			continue;
		int module_level = r->dist[id] != UINT32_MAX && r->dist[id] <= 2;
		suspect *s = add(r, "big_container", r->retained[id] * (module_level ? 2 : 1), id);
		if (s)
			snprintf(s->summary, sizeof s->summary,
				 "%s%s with %s items retains %s, %llu%% of the heap",
				 module_level ? "a module-level " : "a ",
				 ph_type_name(h, ph_object_type(h, id)),
				 cmd_num(n1, sizeof n1, (uint64_t)ph_object_len(h, id)),
				 cmd_bytes(b1, sizeof b1, r->retained[id]),
				 (unsigned long long)(total ? r->retained[id] * 100 / total : 0));
	}
	/* growth since the baseline */
	if (ctx->baseline) {
		cmd_typegrowth tg[EXAMPLES];
		int ng = cmd_growth(ctx, ctx->baseline, h, &old_core, &old_heap, tg, EXAMPLES);
		if (ng < 0)
			goto out;
		for (int i = 0; i < ng; i++) {
			suspect *s = add(r, "growth", (uint64_t)tg[i].size_delta, RG_NONE);
			if (s)
				snprintf(s->summary, sizeof s->summary,
					 "%s grew by %+lld objects (%s), to %s, since %s", tg[i].name,
					 (long long)tg[i].count_delta,
					 cmd_bytes(b1, sizeof b1, (uint64_t)tg[i].size_delta),
					 cmd_num(n1, sizeof n1, tg[i].new_count), ctx->baseline);
		}
		cmd_grown g[GROWN_MAX];
		size_t nc = old_heap ? cmd_find_grown(old_heap, h, g) : 0;
		for (size_t i = 0; i < nc && i < EXAMPLES; i++) {
			suspect *s = add(r, "growth", r->retained[g[i].id], g[i].id);
			if (s)
				snprintf(s->summary, sizeof s->summary,
					 "%s grew from %lld to %lld items since %s, retaining %s",
					 ph_type_name(h, ph_object_type(h, g[i].id)), (long long)g[i].old_len,
					 (long long)g[i].new_len, ctx->baseline,
					 cmd_bytes(b1, sizeof b1, r->retained[g[i].id]));
		}
	}
	/* cyclic garbage */
	const ph_gc_state *gc = ph_gc(h);
	uint64_t gcount = 0, gbytes = 0;
	memset(sel, 0, hg_object_count(hg));
	for (rg_id id = 0; id < hg_object_count(hg); id++)
		if (r->dist[id] == UINT32_MAX) {
			sel[id] = 1;
			gcount++;
			gbytes += ph_object_size(h, id);
		}
	if (gcount) {
		char types[200];
		describe_types(h, sel, types, sizeof types);
		/* garbage is expected between collections; with the collector off
		 * it only grows */
		suspect *s = add(r, "garbage", gc->known && !gc->enabled ? gbytes * 4 : gbytes, RG_NONE);
		if (s)
			snprintf(s->summary, sizeof s->summary,
				 "%s objects (%s) alive but unreachable: cyclic garbage%s (%s)",
				 cmd_num(n1, sizeof n1, gcount), cmd_bytes(b1, sizeof b1, gbytes),
				 gc->known && !gc->enabled ? " while the collector is DISABLED" :
				 ", waiting for a collection", types);
	}
	/* orphans */
	uint64_t ocount = 0, obytes = 0;
	memset(sel, 0, hg_object_count(hg));
	for (rg_id id = 0; id < hg_object_count(hg); id++) {
		if (hg_orphan(hg, id)) {
			sel[id] = 1;
			ocount++;
			obytes += r->retained[id];
		}
	}
	if (ocount) {
		char types[200];
		describe_types(h, sel, types, sizeof types);
		suspect *s = add(r, "orphans", obytes, RG_NONE);
		if (s)
			snprintf(s->summary, sizeof s->summary,
				 "%s objects with a refcount but no referrer, retaining %s: held only "
				 "from C (a missing Py_DECREF?) (%s)", cmd_num(n1, sizeof n1, ocount),
				 cmd_bytes(b1, sizeof b1, obytes), types);
	}
	/* pinned arenas */
	const uint64_t *pinned;
	size_t np = ph_pinned_arenas(h, &pinned);
	const ph_arena_stats *as = ph_arenas(h);
	if (np) {
		memset(sel, 0, hg_object_count(hg));
		uint64_t pinners = 0;
		for (rg_id id = 0; id < hg_object_count(hg); id++) {
			uint64_t a = ph_object_addr(h, id);
			for (size_t i = 0; i < np; i++)
				if (a >= pinned[i] && a < pinned[i] + as->arena_size) {
					sel[id] = 1;
					pinners++;
					break;
				}
		}
		char types[200];
		describe_types(h, sel, types, sizeof types);
		suspect *s = add(r, "pinned_arenas", as->nearly_empty_bytes, RG_NONE);
		if (s)
			snprintf(s->summary, sizeof s->summary,
				 "%llu nearly empty pymalloc arenas keep %s resident for %s objects (%s)",
				 (unsigned long long)as->nearly_empty_arenas,
				 cmd_bytes(b1, sizeof b1, as->nearly_empty_bytes),
				 cmd_num(n1, sizeof n1, pinners), types);
	}
	qsort(r->s, r->n, sizeof *r->s, by_bytes);

	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_ku64(&w, "total_size", total);
		json_key(&w, "gc");
		json_obj(&w);
		json_kbool(&w, "known", gc->known);
		json_kbool(&w, "enabled", gc->enabled);
		json_kbool(&w, "collecting", gc->collecting);
		json_key(&w, "thresholds");
		json_arr(&w);
		for (int i = 0; i < 3; i++)
			json_i64(&w, gc->gen[i].threshold);
		json_arr_end(&w);
		json_key(&w, "counts");
		json_arr(&w);
		for (int i = 0; i < 3; i++)
			json_i64(&w, gc->gen[i].count);
		json_arr_end(&w);
		json_obj_end(&w);
		json_key(&w, "suspects");
		json_arr(&w);
		for (size_t i = 0; i < r->n; i++) {
			suspect *s = &r->s[i];
			json_obj(&w);
			json_kstr(&w, "kind", s->kind);
			json_ku64(&w, "bytes", s->kind[0] == 'b' || s->kind[0] == 'g' ?
				  (s->id != RG_NONE ? r->retained[s->id] : s->bytes) : s->bytes);
			json_kstr(&w, "summary", s->summary);
			if (s->id != RG_NONE) {
				char t[160];
				json_khex(&w, "addr", ph_object_addr(h, s->id));
				json_kstr(&w, "type", hg_node_type(hg, s->id, t, sizeof t));
				json_ku64(&w, "retained", r->retained[s->id]);
				int64_t len = ph_object_len(h, s->id);
				uint32_t cache;
				if (ph_lru_unbounded(h, s->id, &cache) == 1 && cache != PH_NOLABEL)
					len = ph_object_len(h, cache);
				if (len >= 0)
					json_ki64(&w, "entries", len);
				chain(r, s->id, &w);
			}
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("heap: %s in %s objects\n", cmd_bytes(b1, sizeof b1, total),
		       cmd_num(n1, sizeof n1, ph_object_count(h)));
		if (gc->known)
			printf("gc: %s%s, thresholds %d/%d/%d, counts %d/%d/%d\n\n",
			       gc->enabled ? "enabled" : "DISABLED", gc->collecting ? " (collecting)" : "",
			       gc->gen[0].threshold, gc->gen[1].threshold, gc->gen[2].threshold,
			       gc->gen[0].count, gc->gen[1].count, gc->gen[2].count);
		if (!r->n)
			printf("no suspects: nothing retains %d%% of the heap, no unbounded cache, "
			       "no garbage, no orphans\n", BIG_SHARE);
		for (size_t i = 0; i < r->n; i++) {
			suspect *s = &r->s[i];
			printf("%2zu. [%s] %s\n", i + 1, s->kind, s->summary);
			if (s->id != RG_NONE) {
				char t[160];
				printf("     %s 0x%llx %s\n", hg_node_type(hg, s->id, t, sizeof t),
				       (unsigned long long)ph_object_addr(h, s->id),
				       ph_object_repr(h, s->id, v, sizeof v));
				chain(r, s->id, NULL);
			}
		}
		(void)b2;
	}
	rc = EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "pyheap: out of memory\n");
out:
	free(roots);
	free(idom);
	free(order);
	free(sel);
	free(r->parent);
	free(r->dist);
	free(r->retained);
	hg_free(r->hg);
	free(r);
	ph_free(old_heap);
	core_free(old_core);
	return rc;
}
