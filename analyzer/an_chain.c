/* an_chain.c - the chain of references that holds an object; see analysis.h. */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int an_chain_get(an_chain *out, const heapgraph *hg, const rg_edge *parent, rg_id id)
{
	const rg_graph *g = hg_graph(hg);
	rg_edge *c = NULL;
	size_t n = 0;
	memset(out, 0, sizeof *out);
	if (rg_path(g, parent, id, &c, &n) < 0)
		return -1;
	out->root = n ? rg_edge_src(g, c[0]) : id;
	const hg_root *r = hg_root_of(hg, out->root);
	out->root_kind = r ? r->kind : NULL;
	snprintf(out->root_name, sizeof out->root_name, "%s", r ? r->name : "");
	out->nodes = malloc((n + 1) * sizeof *out->nodes);
	out->labels = malloc((n ? n : 1) * sizeof *out->labels);
	if (!out->nodes || !out->labels) {
		free(c);
		an_chain_clear(out);
		return -1;
	}
	out->n = n;
	out->nodes[0] = out->root;
	for (size_t k = 0; k < n; k++) {
		out->nodes[k + 1] = rg_edge_dst(g, c[k]);
		hg_edge_text(hg, c[k], out->labels[k], sizeof out->labels[k]);
	}
	free(c);
	return 0;
}

void an_chain_clear(an_chain *c)
{
	free(c->nodes);
	free(c->labels);
	memset(c, 0, sizeof *c);
}
