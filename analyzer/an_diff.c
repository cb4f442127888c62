/*
 * an_diff.c - objgraph.show_growth between two dumps; see analysis.h.
 * Either side is a core or a snapshot written by `types --json`; types are
 * matched by name, so the two may come from different processes and Python
 * versions.
 *
 * When both sides are cores it also finds the containers that grew: the
 * same address holding a container of the same type in both dumps (one
 * long-lived process), ranked by items added, each with the chain that
 * holds it in the new dump.
 */
#include "analysis.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct table {
	an_type_delta *rows;
	size_t n, cap;
} table;

static an_type_delta *row_for(table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)    /* linear: a few thousand types */
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	an_type_delta *rows = an_grow(t->rows, t->n + 1, &t->cap, sizeof *rows, 256);
	if (!rows)
		return NULL;
	t->rows = rows;
	an_type_delta *r = &t->rows[t->n];
	memset(r, 0, sizeof *r);
	r->name = strdup(name);
	if (!r->name)
		return NULL;
	t->n++;
	return r;
}

static int add_dump(table *t, const an_dump *d, int is_new, char *err, size_t errlen)
{
	if (d->snapshot) {
		const jr_doc *doc = d->snapshot;
		const jr_node *types = jr_get(doc, &doc->nodes[0], "types");
		for (const jr_node *r = jr_first(doc, types); r; r = jr_next(doc, r)) {
			const jr_node *name = jr_get(doc, r, "type");
			const jr_node *count = jr_get(doc, r, "count");
			const jr_node *size = jr_get(doc, r, "size");
			if (!name || name->type != JR_STR || !count || count->type != JR_NUM ||
			    !size || size->type != JR_NUM || count->num < 0 || size->num < 0) {
				snprintf(err, errlen, "%s: a row of \"types\" lacks type, count or size",
					 d->path);
				return -1;
			}
			an_type_delta *row = row_for(t, name->str);
			if (!row)
				return -1;
			*(is_new ? &row->new_count : &row->old_count) += (uint64_t)count->num;
			*(is_new ? &row->new_size : &row->old_size) += (uint64_t)size->num;
		}
		return 0;
	}
	/* per type first (ids are dense), then by name */
	ph_heap *h = d->heap;
	size_t ntypes = ph_type_count(h);
	uint64_t *c = calloc(ntypes + 1, sizeof *c), *z = calloc(ntypes + 1, sizeof *z);
	if (!c || !z) {
		free(c);
		free(z);
		return -1;
	}
	for (size_t id = 0; id < ph_object_count(h); id++) {
		c[ph_object_type(h, (ph_id)id)]++;
		z[ph_object_type(h, (ph_id)id)] += ph_object_size(h, (ph_id)id);
	}
	for (size_t i = 0; i < ntypes; i++) {
		if (!c[i])
			continue;
		an_type_delta *row = row_for(t, ph_type_name(h, (uint32_t)i));
		if (!row) {
			free(c);
			free(z);
			return -1;
		}
		*(is_new ? &row->new_count : &row->old_count) += c[i];
		*(is_new ? &row->new_size : &row->old_size) += z[i];
	}
	free(c);
	free(z);
	return 0;
}

static int by_growth(const void *a, const void *b, void *by_count)
{
	const an_type_delta *x = a, *y = b;
	int count = *(const int *)by_count;
	int64_t dx = count ? (int64_t)(x->new_count - x->old_count) : (int64_t)(x->new_size - x->old_size);
	int64_t dy = count ? (int64_t)(y->new_count - y->old_count) : (int64_t)(y->new_size - y->old_size);
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

int an_type_deltas(an_type_delta **out, size_t *n, const an_dump *old, const an_dump *cur,
		   int by_count, char *err, size_t errlen)
{
	table t = {0};
	*out = NULL;
	*n = 0;
	err[0] = 0;
	if (add_dump(&t, old, 0, err, errlen) < 0 || add_dump(&t, cur, 1, err, errlen) < 0) {
		an_type_deltas_free(t.rows, t.n);
		return -1;
	}
	qsort_r(t.rows, t.n, sizeof *t.rows, by_growth, &by_count);
	*out = t.rows;
	*n = t.n;
	return 0;
}

void an_type_deltas_free(an_type_delta *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].name);
	free(rows);
}

size_t an_grown_containers(an_grown *out, ph_heap *oh, ph_heap *nh)
{
	size_t k = 0;
	for (size_t id = 0; id < ph_object_count(nh); id++) {
		int64_t nl = ph_object_len(nh, (ph_id)id);
		if (nl <= 0)
			continue;
		uint32_t oid = ph_object_find(oh, ph_object_addr(nh, (ph_id)id));
		if (oid == PH_NONE || strcmp(ph_type_name(oh, ph_object_type(oh, oid)),
						ph_type_name(nh, ph_object_type(nh, (ph_id)id))) != 0)
			continue;
		int64_t ol = ph_object_len(oh, oid);
		if (ol < 0 || nl <= ol)
			continue;
		an_grown g = {(ph_id)id, ol, nl};
		/* keep the top AN_GROWN_MAX by insertion */
		size_t pos = k < AN_GROWN_MAX ? k++ : AN_GROWN_MAX;
		if (pos == AN_GROWN_MAX) {
			if (nl - ol <= out[AN_GROWN_MAX - 1].new_len - out[AN_GROWN_MAX - 1].old_len)
				continue;
			pos = AN_GROWN_MAX - 1;
		}
		while (pos > 0 && out[pos - 1].new_len - out[pos - 1].old_len < nl - ol) {
			out[pos] = out[pos - 1];
			pos--;
		}
		out[pos] = g;
	}
	return k;
}

/* The chains that hold the grown containers in cur: none (have_chains 0)
 * when the graph cannot be built or walked; -1 when out of memory after. */
static int grown_chains(an_diff_result *r, ph_heap *cur)
{
	heapgraph *hg;
	char err[128];
	rg_edge *parent;
	uint32_t *dist;
	if (hg_build(&hg, cur, err, sizeof err) < 0)
		return 0;
	if (hg_reach(hg, &parent, &dist) < 0) {
		hg_free(hg);
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < r->ngrown && rc == 0; i++)
		rc = an_chain_get(&r->chains[i], hg, parent, r->grown[i].id);
	r->have_chains = rc == 0;
	free(parent);
	free(dist);
	hg_free(hg);
	return rc;
}

int an_diff(an_diff_result **out, const an_dump *old, const an_dump *cur, int by_count,
	    char *err, size_t errlen)
{
	an_diff_result *r = calloc(1, sizeof *r);
	*out = NULL;
	err[0] = 0;
	if (!r)
		return -1;
	if (an_type_deltas(&r->types, &r->ntypes, old, cur, by_count, err, errlen) < 0) {
		free(r);
		return -1;
	}
	for (size_t i = 0; i < r->ntypes; i++)
		r->changed += r->types[i].old_count != r->types[i].new_count ||
			      r->types[i].old_size != r->types[i].new_size;
	if (old->heap && cur->heap)
		r->ngrown = an_grown_containers(r->grown, old->heap, cur->heap);
	if (r->ngrown && grown_chains(r, cur->heap) < 0) {
		an_diff_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void an_diff_free(an_diff_result *r)
{
	if (!r)
		return;
	an_type_deltas_free(r->types, r->ntypes);
	for (size_t i = 0; i < AN_GROWN_MAX; i++)
		an_chain_clear(&r->chains[i]);
	free(r);
}
