/*
 * cmd_backrefs.c - `pyheap backrefs`: objgraph's show_backrefs from a core.
 * Who refers to the targets, and who refers to those, drawn with Graphviz.
 */
#include "cmd.h"
#include "dot.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

typedef struct bctx { cmd_ctx *ctx; heapgraph *hg; } bctx;

static int is_module(rg_id n, void *payload)
{
	bctx *b = payload;
	if (!b->ctx->stop_at_modules || n >= hg_object_count(b->hg))
		return 0;
	return strcmp(ph_type_name(hg_heap(b->hg), ph_object_type(hg_heap(b->hg), n)), "module") == 0;
}

static int hidden(rg_id n, void *payload)
{
	bctx *b = payload;
	if (n >= hg_object_count(b->hg))
		return 0;
	const char *t = ph_type_name(hg_heap(b->hg), ph_object_type(hg_heap(b->hg), n));
	for (size_t i = 0; i < b->ctx->nhide; i++)
		if (strcmp(t, b->ctx->hide[i]) == 0)
			return 1;
	return 0;
}

int cmd_backrefs(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	char err[512], t[160], v[160], l[200], label[600];
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	rg_id *targets, *nodes = NULL;
	rg_edge *edges = NULL;
	size_t nn = 0, ne = 0;
	size_t nt = cmd_targets(ctx, hg, &targets), ncand = nt;
	size_t max_nodes = ctx->max_nodes > 0 ? (size_t)ctx->max_nodes : 200;
	unsigned depth = ctx->depth >= 0 ? (unsigned)ctx->depth : 5;
	rg_dot *d = NULL;
	int rc = EXIT_UNUSABLE;
	bctx bc = {ctx, hg};
	if (!nt)
		goto out;
	/* many targets would fill the graph with themselves: draw a sample,
	 * leaving three quarters of the nodes for their referrers */
	if (nt > (max_nodes + 3) / 4)
		nt = (max_nodes + 3) / 4;
	if (rg_backrefs(hg_graph(hg), targets, nt, depth, max_nodes, is_module, hidden, &bc,
			&nodes, &nn, &edges, &ne) < 0 || rg_dot_new(&d, "backrefs") < 0) {
		fprintf(stderr, "pyheap: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < nn; i++) {
		rg_id n = nodes[i];
		unsigned style = i < nt ? RG_DOT_TARGET : 0;
		if (hg_root_of(hg, n))
			style |= RG_DOT_ROOT;
		if (n < hg_object_count(hg)) {
			hg_node_type(hg, n, t, sizeof t);
			if (strcmp(t, "module") == 0)
				style |= RG_DOT_MODULE;
			ph_object_repr(h, n, v, sizeof v);
			snprintf(label, sizeof label, "%s%s%s\n%llu bytes%s%s", t, *v ? "\n" : "", v,
				 (unsigned long long)ph_object_size(h, n),
				 hg_root_of(hg, n) ? "\nroot: " : "",
				 hg_root_of(hg, n) ? hg_root_of(hg, n)->kind : "");
		} else {
			snprintf(label, sizeof label, "%s", ph_node_name(h, n, v, sizeof v));
		}
		if (rg_dot_node(d, n, label, style) < 0)
			goto oom;
	}
	for (size_t i = 0; i < ne; i++) {
		uint8_t f = rg_edge_flags(hg_graph(hg), edges[i]);
		if (rg_dot_edge(d, rg_edge_src(hg_graph(hg), edges[i]), rg_edge_dst(hg_graph(hg), edges[i]),
				hg_edge_text(hg, edges[i], l, sizeof l),
				(f & RG_WEAK ? RG_DOT_DASHED : 0) | (f & RG_CONSERVATIVE ? RG_DOT_DOTTED : 0)) < 0)
			goto oom;
	}
	if (rg_dot_write(d, ctx->out, err, sizeof err) < 0) {
		fprintf(stderr, "pyheap: %s\n", err);
		goto out;
	}
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_kstr(&w, "output", ctx->out);
		json_ku64(&w, "targets", nt);
		json_ku64(&w, "candidates", ncand);
		json_ku64(&w, "nodes", nn);
		json_ku64(&w, "edges", ne);
		cmd_json_end(ctx, &w);
	} else {
		printf("wrote %s: %zu nodes, %zu edges (%zu target%s", ctx->out, nn, ne, nt,
		       nt == 1 ? "" : "s");
		if (ncand > nt)
			printf(" of %zu; --max-nodes draws more", ncand);
		printf(")\n");
	}
	rc = EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "pyheap: out of memory\n");
out:
	rg_dot_free(d);
	free(targets);
	free(nodes);
	free(edges);
	hg_free(hg);
	return rc;
}
