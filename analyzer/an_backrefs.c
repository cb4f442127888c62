/*
 * an_backrefs.c - objgraph's show_backrefs selection, made to fit a
 * screen: who refers to the targets, and who refers to those; see
 * analysis.h.
 *
 * The walk goes breadth-first from the targets towards the roots over
 * drawn nodes, each of which stands for one object or for a group:
 *   - targets with the same type and the same referrers are one node
 *     ("24,000 __main__.CachedResponse", all in one dict), and more
 *     targets than the width are grouped by type alone;
 *   - a node's referrers are classed by type and by the kind of reference
 *     (['k'] and ['j'] are both "[...]"); a class of `merge` objects or
 *     more is one counted node ("148 function via __globals__"), followed
 *     further only when its members have the same referrers (the targets'
 *     group always is);
 *   - a node shows at most `width` classes, and a level of the drawing at
 *     most `width` nodes; the rest is one "N more referrers" node;
 *   - modules end the walk unless through_modules; so do depth and
 *     max_nodes.
 */
#include "analysis.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOWHERE UINT32_MAX

typedef struct walk {
	const heapgraph *hg;
	rg_graph *g;
	ph_heap *h;
	const an_backrefs_opts *o;
	an_backrefs_result *r;
	uint32_t nobj;
	uint32_t *at;            /* node id -> drawn node index, or NOWHERE */
	rg_id *members;          /* the objects of every drawn node, by node */
	size_t nmembers, cmembers;
	size_t *first;           /* drawn node -> its members' start; */
	size_t cnodes, cedges;
	size_t level[257];       /* drawn nodes per depth (the last: deeper) */
} walk;

static int is_module(const walk *w, rg_id n)
{
	return n < w->nobj && strcmp(ph_type_name(w->h, ph_object_type(w->h, n)), "module") == 0;
}

static int hidden(const walk *w, rg_id n)
{
	if (n >= w->nobj)
		return 0;
	const char *t = ph_type_name(w->h, ph_object_type(w->h, n));
	for (size_t i = 0; i < w->o->nhide; i++)
		if (strcmp(t, w->o->hide[i]) == 0)
			return 1;
	return 0;
}

/* A drawn node for ids[0..n); each id is marked as drawn there. */
static long add_node(walk *w, const rg_id *ids, size_t n, uint64_t count, unsigned flags,
		     unsigned depth)
{
	an_backrefs_result *r = w->r;
	if (r->nnodes == w->cnodes) {
		size_t c = w->cnodes ? 2 * w->cnodes : 64;
		an_br_node *nn = realloc(r->nodes, c * sizeof *nn);
		size_t *nf = nn ? realloc(w->first, (c + 1) * sizeof *nf) : NULL;
		if (nn)
			r->nodes = nn;
		if (!nf)
			return -1;
		w->first = nf;
		w->cnodes = c;
	}
	rg_id *m = an_grow(w->members, w->nmembers + n, &w->cmembers, sizeof *m, 1024);
	if (!m)
		return -1;
	w->members = m;
	size_t i = r->nnodes++;
	r->nodes[i] = (an_br_node){.node = ids[0], .count = count, .flags = flags, .depth = depth};
	w->level[depth < 256 ? depth : 256]++;
	w->first[i] = w->nmembers;
	for (size_t k = 0; k < n; k++) {
		w->members[w->nmembers++] = ids[k];
		w->at[ids[k]] = (uint32_t)i;
	}
	w->first[i + 1] = w->nmembers;
	r->objects += count;
	return (long)i;
}

/* The edge from drawn node `from` to `to` (one per pair; counted). */
static int add_edge(walk *w, size_t from, size_t to, rg_edge e, uint64_t count)
{
	an_backrefs_result *r = w->r;
	for (size_t i = r->nedges; i-- > 0;) {
		if (r->edges[i].to != to)
			break;           /* a node's edges are added together */
		if (r->edges[i].from == from) {
			r->edges[i].count += count;
			return 0;
		}
	}
	an_br_edge *ne = an_grow(r->edges, r->nedges + 1, &w->cedges, sizeof *ne, 64);
	if (!ne)
		return -1;
	r->edges = ne;
	r->edges[r->nedges++] = (an_br_edge){.from = from, .to = to, .example = e, .count = count};
	return 0;
}

/* The kind of a reference, for classing siblings: "[...]" for any item or
 * key, "f_locals[...]", "+0x..?" for guessed words, else the label. */
static void edge_class(const walk *w, rg_edge e, char *buf, size_t cap)
{
	hg_edge_text(w->hg, e, buf, cap);
	if (buf[0] == '[')
		snprintf(buf, cap, "[...]");
	else if (strncmp(buf, "f_locals[", 9) == 0)
		snprintf(buf, cap, "f_locals[...]");
	else if (strncmp(buf, "+0x", 3) == 0)
		snprintf(buf, cap, "+0x..?");
	else if (strncmp(buf, "stack[", 6) == 0)
		snprintf(buf, cap, "stack[...]");
}

/* A hash of an object's referrers (sorted, hidden ones left out), so that
 * objects held by the same ones compare equal. */
static uint64_t referrers_hash(walk *w, rg_id n, rg_id **buf, size_t *cap)
{
	const rg_edge *in;
	size_t nin, k = 0;
	if (rg_in(w->g, n, &in, &nin) < 0)
		return 0;
	if (nin > *cap) {
		rg_id *b = realloc(*buf, nin * sizeof *b);
		if (!b)
			return 0;
		*buf = b;
		*cap = nin;
	}
	for (size_t i = 0; i < nin; i++) {
		rg_id s = rg_edge_src(w->g, in[i]);
		if (!hidden(w, s))
			(*buf)[k++] = s;
	}
	/* insertion sort: referrer lists are short */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && (*buf)[j - 1] > (*buf)[j]; j--) {
			rg_id t = (*buf)[j];
			(*buf)[j] = (*buf)[j - 1];
			(*buf)[j - 1] = t;
		}
	uint64_t hsh = 1469598103934665603ull;
	for (size_t i = 0; i < k; i++)
		if (!i || (*buf)[i] != (*buf)[i - 1])
			hsh = (hsh ^ (*buf)[i]) * 1099511628211ull;
	return hsh ^ k;
}

typedef struct cand {
	uint64_t key;            /* type (and class, or referrers) */
	uint64_t sub;            /* referrers' hash, to split a class */
	rg_id id;
	rg_edge e;               /* one edge from it into the node expanded */
	uint64_t nedges;
} cand;

static int by_key(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->sub != y->sub)
		return x->sub < y->sub ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

typedef struct run { size_t start, n, distinct_sub; } run;

static int by_size(const void *a, const void *b)
{
	const run *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : (x->start > y->start) - (x->start < y->start);
}

static uint64_t str_hash(const char *s, uint64_t h)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* Whether a node more at depth would be too many (one is kept for the
 * rest). */
static int full(const walk *w, unsigned depth)
{
	size_t per_level = w->o->width ? w->o->width + 1 : SIZE_MAX;
	return w->r->nnodes + 1 >= w->o->max_nodes || w->level[depth < 256 ? depth : 256] + 1 >= per_level;
}

/* Draws candidates c[0..n) as referrers of drawn node `to` (to == NOWHERE:
 * they are the targets), grouped and limited as the header says. */
static int place(walk *w, cand *c, size_t n, uint32_t to, unsigned depth, unsigned flags)
{
	const an_backrefs_opts *o = w->o;
	if (!n)
		return 0;
	qsort(c, n, sizeof *c, by_key);
	run *runs = malloc(n * sizeof *runs);
	rg_id *ids = malloc(n * sizeof *ids);
	size_t nr = 0;
	int rc = -1;
	if (!runs || !ids)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!nr || c[i].key != c[runs[nr - 1].start].key) {
			runs[nr++] = (run){i, 0, 0};
		}
		if (!runs[nr - 1].n || c[i].sub != c[i - 1].sub)
			runs[nr - 1].distinct_sub++;
		runs[nr - 1].n++;
	}
	qsort(runs, nr, sizeof *runs, by_size);
	size_t width = o->width ? o->width : SIZE_MAX;
	uint64_t rest = 0, rest_edges = 0;
	size_t rest_classes = 0, rest_first = NOWHERE;
	for (size_t k = 0; k < nr; k++) {
		const run *ru = &runs[k];
		uint64_t nedges = 0;
		for (size_t i = ru->start; i < ru->start + ru->n; i++)
			nedges += c[i].nedges;
		if (k >= width || full(w, depth)) {
			rest += ru->n;
			rest_edges += nedges;
			rest_classes++;
			if (rest_first == NOWHERE)
				rest_first = ru->start;
			continue;
		}
		if (o->merge && ru->n >= o->merge) {
			/* one counted node; followed when all have the same referrers */
			for (size_t i = 0; i < ru->n; i++)
				ids[i] = c[ru->start + i].id;
			unsigned f = flags | AN_BR_GROUP | (ru->distinct_sub == 1 ? 0 : AN_BR_END);
			long d = add_node(w, ids, ru->n, ru->n, f, depth);
			if (d < 0 || (to != NOWHERE && add_edge(w, (size_t)d, to, c[ru->start].e, nedges) < 0))
				goto out;
			continue;
		}
		for (size_t i = ru->start; i < ru->start + ru->n; i++) {
			if (full(w, depth)) {
				rest += ru->start + ru->n - i;
				rest_classes++;
				for (size_t j = i; j < ru->start + ru->n; j++)
					rest_edges += c[j].nedges;
				if (rest_first == NOWHERE)
					rest_first = i;
				break;
			}
			long d = add_node(w, &c[i].id, 1, 1, flags, depth);
			if (d < 0 || (to != NOWHERE && add_edge(w, (size_t)d, to, c[i].e, c[i].nedges) < 0))
				goto out;
		}
	}
	if (rest) {
		/* the rest, beyond the width: counted, not followed; its members
		 * are not marked as drawn (they may be drawn elsewhere) */
		an_backrefs_result *r = w->r;
		long d = add_node(w, &c[rest_first].id, 1, rest, flags | AN_BR_MORE | AN_BR_END, depth);
		if (d < 0)
			goto out;
		w->at[c[rest_first].id] = NOWHERE;
		r->nodes[d].classes = rest_classes;
		if (to != NOWHERE && add_edge(w, (size_t)d, to, c[rest_first].e, rest_edges) < 0)
			goto out;
	}
	rc = 0;
out:
	free(runs);
	free(ids);
	return rc;
}

/* The referrers of drawn node v, drawn one level further. */
static int expand(walk *w, size_t v, cand **cbuf, size_t *ccap, rg_id **hbuf, size_t *hcap)
{
	const an_br_node *node = &w->r->nodes[v];
	unsigned depth = node->depth + 1;
	size_t nc = 0;
	char cls[AN_LABEL_MAX];
	for (size_t m = w->first[v]; m < w->first[v + 1]; m++) {
		const rg_edge *in;
		size_t nin;
		if (rg_in(w->g, w->members[m], &in, &nin) < 0)
			return -1;
		for (size_t i = 0; i < nin; i++) {
			rg_id s = rg_edge_src(w->g, in[i]);
			if (hidden(w, s))
				continue;
			if (w->at[s] != NOWHERE) {
				if (w->at[s] != v && add_edge(w, w->at[s], v, in[i], 1) < 0)
					return -1;
				continue;
			}
			cand *nb = an_grow(*cbuf, nc + 1, ccap, sizeof *nb, 256);
			if (!nb)
				return -1;
			*cbuf = nb;
			(*cbuf)[nc++] = (cand){.id = s, .e = in[i], .nedges = 1};
		}
	}
	/* one candidate per referrer, its edges counted */
	cand *c = *cbuf;
	for (size_t i = 0; i < nc; i++)
		c[i].key = c[i].id;
	qsort(c, nc, sizeof *c, by_key);
	size_t u = 0;
	for (size_t i = 0; i < nc; i++) {
		if (u && c[u - 1].id == c[i].id)
			c[u - 1].nedges++;
		else
			c[u++] = c[i];
	}
	for (size_t i = 0; i < u; i++) {
		uint32_t t = c[i].id < w->nobj ? ph_object_type(w->h, c[i].id) : UINT32_MAX - 1;
		edge_class(w, c[i].e, cls, sizeof cls);
		c[i].key = str_hash(cls, (uint64_t)t * 1099511628211ull);
		c[i].sub = w->o->merge ? referrers_hash(w, c[i].id, hbuf, hcap) : 0;
	}
	return place(w, c, u, (uint32_t)v, depth, 0);
}

int an_backrefs(an_backrefs_result **out, const heapgraph *hg, const rg_id *targets,
		size_t ntargets, const an_backrefs_opts *o)
{
	an_backrefs_result *r = calloc(1, sizeof *r);
	walk w = {.hg = hg, .g = hg_graph(hg), .h = hg_heap(hg), .o = o, .r = r,
		  .nobj = hg_object_count(hg)};
	uint32_t nn = hg_node_count(hg);
	cand *cbuf = NULL;
	rg_id *hbuf = NULL;
	size_t ccap = 0, hcap = 0;
	*out = NULL;
	if (!r || !(w.at = malloc((nn ? nn : 1) * sizeof *w.at)))
		goto oom;
	memset(w.at, 0xff, (nn ? nn : 1) * sizeof *w.at);
	r->candidates = ntargets;

	/* the targets, grouped by type and referrers */
	if (!(cbuf = malloc((ntargets ? ntargets : 1) * sizeof *cbuf)))
		goto oom;
	ccap = ntargets;
	size_t nt = 0;
	for (size_t i = 0; i < ntargets; i++) {
		if (targets[i] >= nn || w.at[targets[i]] != NOWHERE)
			continue;
		uint32_t t = targets[i] < w.nobj ? ph_object_type(w.h, targets[i]) : UINT32_MAX - 1;
		cbuf[nt++] = (cand){.id = targets[i], .key = t, .nedges = 1,
				    .sub = o->merge ? referrers_hash(&w, targets[i], &hbuf, &hcap) : 0};
	}
	/* a few targets alike are one group only when they also share
	 * referrers; more than a screen's width are grouped by type alone */
	if (nt <= (o->width ? o->width : SIZE_MAX))
		for (size_t i = 0; i < nt; i++)
			cbuf[i].key = cbuf[i].key * 1099511628211ull ^ cbuf[i].sub;
	if (place(&w, cbuf, nt, NOWHERE, 0, AN_BR_TARGET) < 0)
		goto oom;
	for (size_t i = 0; i < r->nnodes; i++) {
		r->nodes[i].flags &= ~(unsigned)AN_BR_END;   /* target groups are followed */
		r->targets += r->nodes[i].flags & AN_BR_MORE ? 0 : r->nodes[i].count;
	}
	r->target_nodes = r->nnodes;

	/* breadth-first: drawn nodes are in the order of their depth */
	for (size_t v = 0; v < r->nnodes && r->nnodes < o->max_nodes; v++) {
		const an_br_node *node = &r->nodes[v];
		if (node->flags & (AN_BR_END | AN_BR_MORE) || node->depth >= o->depth)
			continue;
		if (!o->through_modules && is_module(&w, node->node) && !(node->flags & AN_BR_TARGET))
			continue;
		if (expand(&w, v, &cbuf, &ccap, &hbuf, &hcap) < 0)
			goto oom;
	}
	free(w.at);
	free(w.members);
	free(w.first);
	free(cbuf);
	free(hbuf);
	*out = r;
	return 0;
oom:
	free(w.at);
	free(w.members);
	free(w.first);
	free(cbuf);
	free(hbuf);
	an_backrefs_free(r);
	return -1;
}

void an_backrefs_free(an_backrefs_result *r)
{
	if (!r)
		return;
	free(r->nodes);
	free(r->edges);
	free(r);
}
