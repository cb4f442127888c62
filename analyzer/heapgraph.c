/* heapgraph.c - see heapgraph.h. */
#include "heapgraph.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct heapgraph {
	ph_heap *heap;
	rg_graph *g;
	uint32_t nobj, nnodes;
	uint32_t *found;         /* counted (non-weak) references into each node */
	uint32_t *found_cons;    /* of which conservative (NULL while there are none) */
	uint64_t *referred;      /* bit per node: has an incoming edge, weak included */
	hg_root *roots;
	size_t nroots, roots_cap;
	uint32_t *root_of;       /* node -> index into roots + 1, 0 if not a root */
	struct hg_kept *kept;    /* results kept (hg_keep_results), or NULL */
};

/* What the analyses compute from the graph alone, kept for the next ones. */
struct hg_kept {
	uint64_t *retained;      /* an_retained's */
	rg_id *idom;
	rg_edge *parent[2];      /* hg_reach_tiers', without and with the stacks */
	uint32_t *dist[2];
};

struct add_ctx { rg_builder *b; int failed; };

static void add_edge(uint32_t src, uint32_t dst, uint8_t kind, uint8_t flags, uint32_t label,
		     void *payload)
{
	struct add_ctx *a = payload;
	uint8_t rf = (flags & PH_EF_WEAK ? RG_WEAK : 0) |
		     (flags & PH_EF_CONSERVATIVE ? RG_CONSERVATIVE : 0) |
		     (flags & PH_EF_UNCOUNTED ? RG_UNCOUNTED : 0);
	if (rg_builder_add(a->b, src, dst, kind, rf, label) < 0)
		a->failed = 1;
}

static int add_root(heapgraph *hg, rg_id node, const char *kind, const char *name)
{
	if (hg->root_of[node])
		return 0;
	/* doubling: tens of thousands of external roots are normal */
	hg_root *n = an_grow(hg->roots, hg->nroots + 1, &hg->roots_cap, sizeof *n, 64);
	if (!n)
		return -1;
	hg->roots = n;
	hg_root *r = &hg->roots[hg->nroots++];
	r->node = node;
	r->kind = kind;
	snprintf(r->name, sizeof r->name, "%s", name);
	hg->root_of[node] = (uint32_t)hg->nroots;
	return 0;
}

int hg_build(heapgraph **out, ph_heap *h, char *err, size_t errlen)
{
	heapgraph *hg = calloc(1, sizeof *hg);
	*out = NULL;
	if (!hg) {
		snprintf(err, errlen, "out of memory building the reference graph");
		return -1;
	}
	hg->heap = h;
	hg->nobj = (uint32_t)ph_object_count(h);
	ph_build_roots(h);
	hg->nnodes = (uint32_t)ph_node_count(h);
	rg_builder *b;
	if (rg_builder_new(&b, hg->nnodes) < 0)
		goto oom;
	if (rg_builder_reserve(b, ph_edge_estimate(h)) < 0) {
		rg_builder_free(b);
		goto oom;
	}
	struct add_ctx a = {b, 0};
	ph_edges(h, add_edge, &a);
	if (a.failed) {
		rg_builder_free(b);
		goto oom;
	}
	if (rg_build(&hg->g, b) < 0)
		goto oom;

	hg->found = rg_zalloc(hg->nnodes, sizeof *hg->found);
	hg->referred = rg_zalloc(((uint64_t)hg->nnodes + 63) / 64, sizeof *hg->referred);
	hg->root_of = rg_zalloc(hg->nnodes, sizeof *hg->root_of);
	if (!hg->found || !hg->referred || !hg->root_of)
		goto oom;
	uint64_t ne = rg_edge_count(hg->g);
	for (rg_edge e = 0; e < ne; e++) {
		rg_id d = rg_edge_dst(hg->g, e);
		uint8_t f = rg_edge_flags(hg->g, e);
		hg->referred[d / 64] |= 1ull << (d % 64);
		if (f & (RG_WEAK | RG_UNCOUNTED))
			continue;
		hg->found[d]++;
		if (f & RG_CONSERVATIVE) {
			/* (rare: only objects of C types pyheap cannot decode) */
			if (!hg->found_cons &&
			    !(hg->found_cons = rg_zalloc(hg->nnodes, sizeof *hg->found_cons)))
				goto oom;
			hg->found_cons[d]++;
		}
	}
	/* the interpreter's own roots first, then what is held from outside */
	for (size_t i = 0; i < ph_root_count(h); i++) {
		const ph_root *r = ph_root_at(h, i);
		if (add_root(hg, r->node, r->kind, r->name) < 0)
			goto oom;
	}
	/* Immortal objects and static types live as long as the interpreter:
	 * they belong to it, like its own state. */
	for (rg_id id = 0; id < hg->nobj; id++) {
		if (ph_object_immortal(h, id)) {
			if (add_root(hg, id, "interpreter", "immortal object") < 0)
				goto oom;
		} else if (ph_object_static_type(h, id)) {
			if (add_root(hg, id, "interpreter", "static type") < 0)
				goto oom;
		}
	}
	for (rg_id id = 0; id < hg->nobj; id++) {
		int64_t ext = hg_external(hg, id);
		if (ext > 0) {
			char name[96];
			snprintf(name, sizeof name, "%lld reference%s from outside the heap",
				 (long long)ext, ext == 1 ? "" : "s");
			if (add_root(hg, id, "external", name) < 0)
				goto oom;
		}
	}
	*out = hg;
	return 0;
oom:
	snprintf(err, errlen, "out of memory building the reference graph");
	hg_free(hg);
	return -1;
}

void hg_free(heapgraph *hg)
{
	if (!hg)
		return;
	rg_free(hg->g);
	free(hg->found);
	free(hg->found_cons);
	free(hg->referred);
	free(hg->roots);
	free(hg->root_of);
	if (hg->kept) {
		free(hg->kept->retained);
		free(hg->kept->idom);
		for (int i = 0; i < 2; i++) {
			free(hg->kept->parent[i]);
			free(hg->kept->dist[i]);
		}
		free(hg->kept);
	}
	free(hg);
}

/* ---- results kept ---- */

int hg_keep_results(heapgraph *hg)
{
	if (!hg->kept && !(hg->kept = calloc(1, sizeof *hg->kept)))
		return -1;
	return 0;
}

static void *copy_of(const void *p, size_t n)
{
	void *c = p ? malloc(n ? n : 1) : NULL;
	if (c)
		memcpy(c, p, n);
	return c;
}

int hg_kept_retained(const heapgraph *hg, uint64_t **retained, rg_id **idom)
{
	*retained = NULL;
	*idom = NULL;
	if (!hg->kept || !hg->kept->retained)
		return 0;
	*retained = copy_of(hg->kept->retained, hg->nnodes * sizeof **retained);
	*idom = copy_of(hg->kept->idom, hg->nnodes * sizeof **idom);
	if (*retained && *idom)
		return 1;
	free(*retained);
	free(*idom);
	*retained = NULL;
	*idom = NULL;
	return -1;
}

void hg_keep_retained(const heapgraph *hg, const uint64_t *retained, const rg_id *idom)
{
	if (!hg->kept || hg->kept->retained)
		return;
	/* a copy each: without memory for one, the next analysis computes
	 * them again */
	hg->kept->retained = copy_of(retained, hg->nnodes * sizeof *retained);
	hg->kept->idom = copy_of(idom, hg->nnodes * sizeof *idom);
	if (!hg->kept->retained || !hg->kept->idom) {
		free(hg->kept->retained);
		free(hg->kept->idom);
		hg->kept->retained = NULL;
		hg->kept->idom = NULL;
	}
}

ph_heap *hg_heap(const heapgraph *hg) { return hg->heap; }
rg_graph *hg_graph(const heapgraph *hg) { return hg->g; }
uint32_t hg_object_count(const heapgraph *hg) { return hg->nobj; }
uint32_t hg_node_count(const heapgraph *hg) { return hg->nnodes; }
uint32_t hg_found(const heapgraph *hg, rg_id id) { return hg->found[id]; }

uint32_t hg_found_cons(const heapgraph *hg, rg_id id)
{
	return hg->found_cons ? hg->found_cons[id] : 0;
}

int64_t hg_external(const heapgraph *hg, rg_id id)
{
	if (id >= hg->nobj || ph_object_immortal(hg->heap, id))
		return 0;
	return ph_object_refcnt(hg->heap, id) - (int64_t)hg->found[id];
}

int hg_orphan(const heapgraph *hg, rg_id id)
{
	if (id >= hg->nobj || (hg->referred[id / 64] >> (id % 64) & 1) ||
	    ph_object_immortal(hg->heap, id) ||
	    ph_object_refcnt(hg->heap, id) <= 0)
		return 0;
	return !hg->root_of[id] || strcmp(hg->roots[hg->root_of[id] - 1].kind, "external") == 0;
}

uint64_t hg_node_addr(const heapgraph *hg, rg_id n)
{
	return n < hg->nobj ? ph_object_addr(hg->heap, n) : 0;
}

const char *hg_node_type(const heapgraph *hg, rg_id n, char *buf, size_t cap)
{
	if (n < hg->nobj)
		snprintf(buf, cap, "%s", ph_type_name(hg->heap, ph_object_type(hg->heap, n)));
	else
		snprintf(buf, cap, "%s", ph_node_kind(hg->heap, n));
	return buf;
}

const char *hg_edge_text(const heapgraph *hg, rg_edge e, char *buf, size_t cap)
{
	return ph_edge_label(hg->heap, rg_edge_src(hg->g, e), rg_edge_kind(hg->g, e),
			     rg_edge_label(hg->g, e), buf, cap);
}

size_t hg_root_count(const heapgraph *hg) { return hg->nroots; }
const hg_root *hg_root_at(const heapgraph *hg, size_t i) { return &hg->roots[i]; }

const hg_root *hg_root_of(const heapgraph *hg, rg_id n)
{
	return hg->root_of[n] ? &hg->roots[hg->root_of[n] - 1] : NULL;
}

/* Roots in tiers: the interpreter's own (modules, frames, the interpreter),
 * then C statics, then objects held from outside the heap, then the C
 * stacks (conservatively read: stale words are common there, so a stack
 * explains refcounts and keeps objects from looking orphaned or garbage,
 * but names a chain or retains memory only where nothing else does). */
static int root_tier(const char *kind)
{
	return strcmp(kind, "static") == 0 ? 1 : strcmp(kind, "external") == 0 ? 2 :
	       strcmp(kind, "stack") == 0 ? 3 : 0;
}

long hg_root_nodes(const heapgraph *hg, rg_id **out)
{
	size_t n = 0;
	*out = malloc((hg->nroots ? hg->nroots : 1) * sizeof **out);
	if (!*out)
		return -1;
	for (size_t i = 0; i < hg->nroots; i++)
		if (root_tier(hg->roots[i].kind) < 3)
			(*out)[n++] = hg->roots[i].node;
	return (long)n;
}

int hg_reach_tiers(const heapgraph *hg, int with_stacks, rg_edge **parent, uint32_t **dist)
{
	rg_id *roots = NULL;
	struct hg_kept *k = hg->kept;
	int ws = !!with_stacks;
	*parent = NULL;
	*dist = NULL;
	if (k && k->parent[ws]) {
		*parent = copy_of(k->parent[ws], hg->nnodes * sizeof **parent);
		*dist = copy_of(k->dist[ws], hg->nnodes * sizeof **dist);
		if (!*parent || !*dist)
			goto fail;
		return 0;
	}
	if (!(roots = malloc((hg->nroots ? hg->nroots : 1) * sizeof *roots)))
		return -1;
	for (int tier = 0; tier < (with_stacks ? 4 : 3); tier++) {
		size_t n = 0;
		for (size_t i = 0; i < hg->nroots; i++)
			if (root_tier(hg->roots[i].kind) == tier &&
			    (!*dist || (*dist)[hg->roots[i].node] == UINT32_MAX))
				roots[n++] = hg->roots[i].node;
		if (!*dist) {
			if (rg_bfs(hg->g, roots, n, NULL, NULL, parent, dist) < 0)
				goto fail;
			continue;
		}
		if (!n)
			continue;
		/* what this tier reaches that the ones before did not, farther
		 * than anything an earlier tier reaches */
		if (rg_bfs_more(hg->g, roots, n, *parent, *dist, (uint32_t)tier << 24) < 0)
			goto fail;
	}
	free(roots);
	if (k && !k->parent[ws]) {
		k->parent[ws] = copy_of(*parent, hg->nnodes * sizeof **parent);
		k->dist[ws] = copy_of(*dist, hg->nnodes * sizeof **dist);
		if (!k->parent[ws] || !k->dist[ws]) {   /* then computed again next time */
			free(k->parent[ws]);
			free(k->dist[ws]);
			k->parent[ws] = NULL;
			k->dist[ws] = NULL;
		}
	}
	return 0;
fail:
	free(roots);
	free(*parent);
	free(*dist);
	*parent = NULL;
	*dist = NULL;
	return -1;
}

int hg_reach(const heapgraph *hg, rg_edge **parent, uint32_t **dist)
{
	return hg_reach_tiers(hg, 0, parent, dist);
}
