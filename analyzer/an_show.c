/* an_show.c - one object, its referents and referrers; see analysis.h. */
#include "analysis.h"

#include <stdlib.h>

static void link_of(an_link *l, const heapgraph *hg, rg_edge e, rg_id node)
{
	l->node = node;
	l->flags = rg_edge_flags(hg_graph(hg), e);
	hg_edge_text(hg, e, l->label, sizeof l->label);
}

int an_show(an_show_result **out, const heapgraph *hg, rg_id id)
{
	ph_heap *h = hg_heap(hg);
	rg_graph *g = hg_graph(hg);
	an_show_result *r = calloc(1, sizeof *r);
	rg_edge b, e;
	const rg_edge *in = NULL;
	size_t nin = 0;
	*out = NULL;
	if (!r || rg_in(g, id, &in, &nin) < 0)
		goto oom;
	rg_out(g, id, &b, &e);
	r->id = id;
	r->refcount = ph_object_refcnt(h, id);
	r->immortal = ph_object_immortal(h, id);
	r->found = hg_found(hg, id);
	r->external = hg_external(hg, id);
	r->flags = ph_object_flags(h, id);
	const hg_root *root = hg_root_of(hg, id);
	r->root_kind = root ? root->kind : NULL;
	r->referent_count = e - b;
	r->referrer_count = nin;
	size_t nout = e - b < AN_SHOW_MAX ? (size_t)(e - b) : AN_SHOW_MAX;
	size_t nback = nin < AN_SHOW_MAX ? nin : AN_SHOW_MAX;
	r->referents = malloc((nout ? nout : 1) * sizeof *r->referents);
	r->referrers = malloc((nback ? nback : 1) * sizeof *r->referrers);
	if (!r->referents || !r->referrers)
		goto oom;
	for (size_t i = 0; i < nout; i++)
		link_of(&r->referents[i], hg, b + i, rg_edge_dst(g, b + i));
	for (size_t i = 0; i < nback; i++)
		link_of(&r->referrers[i], hg, in[i], rg_edge_src(g, in[i]));
	r->nreferents = nout;
	r->nreferrers = nback;
	*out = r;
	return 0;
oom:
	an_show_free(r);
	return -1;
}

void an_show_free(an_show_result *r)
{
	if (!r)
		return;
	free(r->referents);
	free(r->referrers);
	free(r);
}
