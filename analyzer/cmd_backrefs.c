/*
 * cmd_backrefs.c - `pyheap backrefs`: objgraph's show_backrefs from a core.
 * Who refers to the targets, and who refers to those (an_backrefs), drawn
 * with Graphviz.
 */
#include "cmd.h"
#include "dot.h"

#include <stdlib.h>
#include <string.h>

/* The drawing of the selection into ctx->out; -1 with the error printed. */
static int draw(cmd_ctx *ctx, const heapgraph *hg, const an_backrefs_result *b)
{
	ph_heap *h = hg_heap(hg);
	const rg_graph *g = hg_graph(hg);
	char err[512], t[160], v[160], l[200], label[600];
	rg_dot *d = NULL;
	int rc = -1;
	if (rg_dot_new(&d, "backrefs") < 0)
		goto oom;
	for (size_t i = 0; i < b->nnodes; i++) {
		rg_id n = b->nodes[i];
		const hg_root *root = hg_root_of(hg, n);
		unsigned style = i < b->targets ? RG_DOT_TARGET : 0;
		if (root)
			style |= RG_DOT_ROOT;
		if (n < hg_object_count(hg)) {
			hg_node_type(hg, n, t, sizeof t);
			if (strcmp(t, "module") == 0)
				style |= RG_DOT_MODULE;
			ph_object_repr(h, n, v, sizeof v);
			snprintf(label, sizeof label, "%s%s%s\n%llu bytes%s%s", t, *v ? "\n" : "", v,
				 (unsigned long long)ph_object_size(h, n), root ? "\nroot: " : "",
				 root ? root->kind : "");
		} else {
			snprintf(label, sizeof label, "%s", ph_node_name(h, n, v, sizeof v));
		}
		if (rg_dot_node(d, n, label, style) < 0)
			goto oom;
	}
	for (size_t i = 0; i < b->nedges; i++) {
		uint8_t f = rg_edge_flags(g, b->edges[i]);
		if (rg_dot_edge(d, rg_edge_src(g, b->edges[i]), rg_edge_dst(g, b->edges[i]),
				hg_edge_text(hg, b->edges[i], l, sizeof l),
				(f & RG_WEAK ? RG_DOT_DASHED : 0) | (f & RG_CONSERVATIVE ? RG_DOT_DOTTED : 0)) < 0)
			goto oom;
	}
	if (rg_dot_write(d, ctx->out, err, sizeof err) < 0) {
		cmd_error("%s", err);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	cmd_oom();
out:
	rg_dot_free(d);
	return rc;
}

int cmd_backrefs(cmd_ctx *ctx)
{
	heapgraph *hg;
	rg_id *targets;
	an_backrefs_result *b = NULL;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	size_t nt = cmd_targets(ctx, hg, &targets);
	an_backrefs_opts o = {
		.depth = ctx->depth >= 0 ? (unsigned)ctx->depth : 5,
		.max_nodes = ctx->max_nodes > 0 ? (size_t)ctx->max_nodes : 200,
		.hide = ctx->hide, .nhide = ctx->nhide, .stop_at_modules = ctx->stop_at_modules,
	};
	int rc = EXIT_UNUSABLE;
	if (!nt)
		goto out;
	if (an_backrefs(&b, hg, targets, nt, &o) < 0) {
		cmd_oom();
		goto out;
	}
	if (draw(ctx, hg, b) < 0)
		goto out;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_kstr(&w, "output", ctx->out);
		json_ku64(&w, "targets", b->targets);
		json_ku64(&w, "candidates", b->candidates);
		json_ku64(&w, "nodes", b->nnodes);
		json_ku64(&w, "edges", b->nedges);
		cmd_json_end(ctx, &w);
	} else {
		printf("wrote %s: %zu nodes, %zu edges (%zu target%s", ctx->out, b->nnodes, b->nedges,
		       b->targets, b->targets == 1 ? "" : "s");
		if (b->candidates > b->targets)
			printf(" of %zu; --max-nodes draws more", b->candidates);
		printf(")\n");
	}
	rc = EXIT_OK;
out:
	an_backrefs_free(b);
	free(targets);
	hg_free(hg);
	return rc;
}
