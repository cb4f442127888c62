/*
 * an_backrefs.c - objgraph's show_backrefs selection: who refers to the
 * targets, and who refers to those; see analysis.h.
 */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

typedef struct sel { const heapgraph *hg; const an_backrefs_opts *o; } sel;

static int is_module(rg_id n, void *payload)
{
	sel *s = payload;
	ph_heap *h = hg_heap(s->hg);
	if (!s->o->stop_at_modules || n >= hg_object_count(s->hg))
		return 0;
	return strcmp(ph_type_name(h, ph_object_type(h, n)), "module") == 0;
}

static int hidden(rg_id n, void *payload)
{
	sel *s = payload;
	ph_heap *h = hg_heap(s->hg);
	if (n >= hg_object_count(s->hg))
		return 0;
	const char *t = ph_type_name(h, ph_object_type(h, n));
	for (size_t i = 0; i < s->o->nhide; i++)
		if (strcmp(t, s->o->hide[i]) == 0)
			return 1;
	return 0;
}

int an_backrefs(an_backrefs_result **out, const heapgraph *hg, const rg_id *targets,
		size_t ntargets, const an_backrefs_opts *o)
{
	an_backrefs_result *r = calloc(1, sizeof *r);
	sel s = {hg, o};
	*out = NULL;
	if (!r)
		return -1;
	r->candidates = ntargets;
	/* many targets would fill the graph with themselves: draw a sample,
	 * leaving three quarters of the nodes for their referrers */
	r->targets = ntargets;
	if (r->targets > (o->max_nodes + 3) / 4)
		r->targets = (o->max_nodes + 3) / 4;
	if (rg_backrefs(hg_graph(hg), targets, r->targets, o->depth, o->max_nodes, is_module,
			hidden, &s, &r->nodes, &r->nnodes, &r->edges, &r->nedges) < 0) {
		an_backrefs_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void an_backrefs_free(an_backrefs_result *r)
{
	if (!r)
		return;
	free(r->nodes);
	free(r->edges);
	free(r);
}
