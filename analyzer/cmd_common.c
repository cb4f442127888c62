/*
 * cmd_common.c - what several commands print the same way: the error of a
 * graph that could not be built, the chain that holds an object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "heapgraph.h"

int cmd_build_graph(cmd_ctx *ctx, heapgraph *hg)
{
	char err[256];
	if (hg_build(hg, ctx->heap, err, sizeof err) == 0)
		return 0;
	fprintf(stderr, "pyheap: %s: %s\n", ctx->core_path, err);
	return -1;
}

void hg_chain_print(heapgraph *hg, const rg_edge *parent, rg_id id, const char *indent)
{
	rg_edge *c;
	rg_id root;
	char l[200];
	size_t n = hg_chain_of(hg, parent, id, &c, &root);
	const hg_root *r = hg_root_at(hg, root);
	printf("%sheld by %s root %s:", indent, r ? r->kind : "no", r ? r->name : "");
	for (size_t k = 0; k < n; k++)
		printf(" %s", hg_edge_text(hg, c[k], l, sizeof l));
	printf("%s\n", n ? "" : " (itself)");
	free(c);
}
