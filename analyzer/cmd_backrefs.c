/*
 * cmd_backrefs.c - `pyheap backrefs`: objgraph's show_backrefs from a core.
 * Who refers to the targets, and who refers to those (an_backrefs), drawn
 * with Graphviz.
 */
#include "cmd.h"
#include "dot.h"

#include <stdlib.h>
#include <string.h>

/* A drawn node's label and tooltip. */
static void node_text(const heapgraph *hg, const an_backrefs_result *b, const an_br_node *n,
		      char *label, size_t lcap, char *tip, size_t tcap)
{
	ph_heap *h = hg_heap(hg);
	char t[160], v[160], num[32];
	const hg_root *root = hg_root_of(hg, n->node);
	uint64_t addr = n->node < hg_object_count(hg) ? ph_object_addr(h, n->node) : 0;
	if (n->flags & AN_BR_MORE) {
		snprintf(label, lcap, "%s more %s\n(%zu kind%s: --width draws more)",
			 cmd_num(num, sizeof num, n->count),
			 n->flags & AN_BR_TARGET ? "targets" : "referrers", n->classes,
			 n->classes == 1 ? "" : "s");
		snprintf(tip, tcap, "%s objects left out of the drawing", num);
		return;
	}
	if (n->node >= hg_object_count(hg)) {
		/* a thread, an interpreter frame, the interpreter */
		snprintf(label, lcap, "%s", ph_node_name(h, n->node, v, sizeof v));
		snprintf(tip, tcap, "%s", label);
		return;
	}
	hg_node_type(hg, n->node, t, sizeof t);
	if (n->flags & AN_BR_GROUP || n->count > 1) {
		snprintf(label, lcap, "%s \u00d7 %s\ne.g. 0x%llx", cmd_num(num, sizeof num, n->count), t,
			 (unsigned long long)addr);
		snprintf(tip, tcap, "%s objects of type %s; one of them is 0x%llx", num, t,
			 (unsigned long long)addr);
		return;
	}
	ph_object_repr(h, n->node, v, sizeof v);
	snprintf(label, lcap, "%s%s%s\n0x%llx, %llu bytes%s%s", t, *v ? "\n" : "", v,
		 (unsigned long long)addr, (unsigned long long)ph_object_size(h, n->node),
		 root ? "\nroot: " : "", root ? root->kind : "");
	snprintf(tip, tcap, "%s at 0x%llx, %llu bytes%s%s%s%s", t, (unsigned long long)addr,
		 (unsigned long long)ph_object_size(h, n->node), *v ? ": " : "", v,
		 root ? "; a root: " : "", root ? root->kind : "");
	(void)b;
}

/* An edge's label: the reference, with its count when it stands for more. */
static void edge_text(const heapgraph *hg, const an_br_edge *e, const an_br_node *from,
		      char *buf, size_t cap)
{
	char l[AN_LABEL_MAX], num[32];
	hg_edge_text(hg, e->example, l, sizeof l);
	if (e->count > 1 || (from->flags & (AN_BR_GROUP | AN_BR_MORE)))
		snprintf(buf, cap, "%s%s \u00d7 %s", l[0] == '[' ? "[...]" : l,
			 l[0] == '[' ? "" : "", cmd_num(num, sizeof num, e->count));
	else
		snprintf(buf, cap, "%s", l);
}

/* The drawing of the selection into ctx->out; -1 with the error printed. */
static int draw(cmd_ctx *ctx, const heapgraph *hg, const an_backrefs_result *b)
{
	const rg_graph *g = hg_graph(hg);
	char err[512], label[600], tip[600], url[600];
	rg_dot *d = NULL;
	int rc = -1;
	if (rg_dot_new(&d, "backrefs") < 0)
		goto oom;
	for (size_t i = 0; i < b->nnodes; i++) {
		const an_br_node *n = &b->nodes[i];
		unsigned style = n->flags & AN_BR_TARGET ? RG_DOT_TARGET : 0;
		char t[160];
		if (n->flags & AN_BR_MORE)
			style |= RG_DOT_MORE;
		else if (n->flags & AN_BR_GROUP || n->count > 1)
			style |= RG_DOT_GROUP;
		else if (hg_root_of(hg, n->node))
			style |= RG_DOT_ROOT;
		if (!(style & (RG_DOT_MORE | RG_DOT_GROUP)) && n->node < hg_object_count(hg) &&
		    strcmp(hg_node_type(hg, n->node, t, sizeof t), "module") == 0)
			style |= RG_DOT_MODULE;
		node_text(hg, b, n, label, sizeof label, tip, sizeof tip);
		/* the drawing's keys are its node indexes: an object is in one */
		if (rg_dot_node(d, i, label, style) < 0)
			goto oom;
		const char *link = NULL;
		if (ctx->report && !(n->flags & AN_BR_MORE) && n->node < hg_object_count(hg)) {
			snprintf(url, sizeof url, "%s#obj-0x%llx", ctx->report,
				 (unsigned long long)ph_object_addr(hg_heap(hg), n->node));
			link = url;
		}
		if (rg_dot_node_info(d, i, tip, link) < 0)
			goto oom;
	}
	for (size_t i = 0; i < b->nedges; i++) {
		const an_br_edge *e = &b->edges[i];
		uint8_t f = rg_edge_flags(g, e->example);
		edge_text(hg, e, &b->nodes[e->from], label, sizeof label);
		if (rg_dot_edge(d, e->from, e->to, label,
				(f & RG_WEAK ? RG_DOT_DASHED : 0) | (f & RG_CONSERVATIVE ? RG_DOT_DOTTED : 0)) < 0)
			goto oom;
	}
	static const char *const legend[8] = {
		"what was asked about", "a root (module, thread, interpreter)", "a module",
		"N objects of one type,\nheld the same way", "left out (see --width)",
		"refers to", "weak reference", "guessed (unknown layout)",
	};
	if (!ctx->no_legend && rg_dot_legend(d, legend) < 0)
		goto oom;
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
		.max_nodes = ctx->max_nodes > 0 ? (size_t)ctx->max_nodes : 100,
		.hide = ctx->hide, .nhide = ctx->nhide, .through_modules = ctx->through_modules,
		.width = ctx->width >= 0 ? (size_t)ctx->width : 6,
		.merge = ctx->no_merge ? 0 : 4,
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
		json_ku64(&w, "objects", b->objects);
		size_t groups = 0, more = 0;
		for (size_t i = 0; i < b->nnodes; i++) {
			groups += (b->nodes[i].flags & AN_BR_MORE) == 0 && b->nodes[i].count > 1;
			more += (b->nodes[i].flags & AN_BR_MORE) != 0;
		}
		json_ku64(&w, "groups", groups);
		json_ku64(&w, "left_out_nodes", more);
		cmd_json_end(ctx, &w);
	} else {
		char n1[32], n2[32];
		printf("wrote %s: %zu nodes for %s objects, %zu edges (%s target%s", ctx->out,
		       b->nnodes, cmd_num(n1, sizeof n1, b->objects), b->nedges,
		       cmd_num(n2, sizeof n2, b->targets), b->targets == 1 ? "" : "s");
		if (b->candidates > b->targets)
			printf(" of %zu; --width and --max-nodes draw more", b->candidates);
		printf(")\n");
	}
	rc = EXIT_OK;
out:
	an_backrefs_free(b);
	free(targets);
	hg_free(hg);
	return rc;
}
