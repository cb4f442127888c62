/*
 * cmd_path.c - `pyheap path`: the shortest chain of references from a root
 * to an object (an_path), every edge named.
 */
#include "cmd.h"

#include <stdlib.h>

static void node_json(json_w *w, const heapgraph *hg, rg_id n)
{
	char t[160], v[160];
	ph_heap *h = hg_heap(hg);
	if (n < hg_object_count(hg)) {
		json_khex(w, "addr", ph_object_addr(h, n));
		json_kstr(w, "type", hg_node_type(hg, n, t, sizeof t));
		json_ku64(w, "size", ph_object_size(h, n));
		json_kstr(w, "value", ph_object_repr(h, n, v, sizeof v));
	} else {
		json_kstr(w, "addr", "");
		json_kstr(w, "type", ph_node_kind(h, n));
		json_kstr(w, "name", ph_node_name(h, n, v, sizeof v));
	}
}

static void node_print(const heapgraph *hg, const char *label, rg_id n)
{
	char t[160], v[160];
	ph_heap *h = hg_heap(hg);
	if (n < hg_object_count(hg))
		printf("  %-32s %s 0x%llx %s\n", label, hg_node_type(hg, n, t, sizeof t),
		       (unsigned long long)hg_node_addr(hg, n), ph_object_repr(h, n, v, sizeof v));
	else
		printf("  %-32s %s\n", label, ph_node_name(h, n, v, sizeof v));
}

/* The chain's first n references (n + 1 nodes) as a JSON list. */
static void chain_json(json_w *w, const heapgraph *hg, const an_chain *c, size_t n)
{
	json_arr(w);
	for (size_t i = 0; i <= n; i++) {
		json_obj(w);
		node_json(w, hg, c->nodes[i]);
		json_kstr(w, "edge", i ? c->labels[i - 1] : "");
		json_obj_end(w);
	}
	json_arr_end(w);
}

static void path_json(cmd_ctx *ctx, const heapgraph *hg, const an_path_result *p)
{
	const an_chain *c = &p->chain;
	json_w w;
	cmd_json_begin(&w);
	json_key(&w, "target");
	json_obj(&w);
	node_json(&w, hg, p->target);
	json_obj_end(&w);
	if (!p->reached) {
		/* nothing reaches it: say so, and it is garbage */
		json_key(&w, "root");
		json_obj(&w);
		json_kstr(&w, "kind", "none");
		json_kstr(&w, "name", "unreachable from every root (garbage)");
		json_obj_end(&w);
		json_key(&w, "chain");
		json_arr(&w);
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
		return;
	}
	if (ctx->type)
		json_ku64(&w, "candidates", p->candidates);
	json_key(&w, "root");
	json_obj(&w);
	json_kstr(&w, "kind", c->root_kind ? c->root_kind : "?");
	json_kstr(&w, "name", c->root_kind ? c->root_name : "?");
	json_obj_end(&w);
	json_key(&w, "chain");
	chain_json(&w, hg, c, c->n);
	if (ctx->type) {
		/* who holds most of them, one chain each */
		json_ku64(&w, "reached", p->reached_count);
		json_ku64(&w, "held_elsewhere", p->held_elsewhere);
		json_key(&w, "holders");
		json_arr(&w);
		for (size_t i = 0; i < p->nholders; i++) {
			const an_holder *ho = &p->holders[i];
			json_obj(&w);
			json_ku64(&w, "count", ho->count);
			json_key(&w, "holder");
			json_obj(&w);
			node_json(&w, hg, ho->node);
			json_obj_end(&w);
			json_key(&w, "root");
			json_obj(&w);
			json_kstr(&w, "kind", ho->chain.root_kind ? ho->chain.root_kind : "?");
			json_kstr(&w, "name", ho->chain.root_kind ? ho->chain.root_name : "?");
			json_obj_end(&w);
			json_key(&w, "chain");
			chain_json(&w, hg, &ho->chain, ho->at);
			json_key(&w, "example");
			json_obj(&w);
			node_json(&w, hg, ho->example);
			json_obj_end(&w);
			json_obj_end(&w);
		}
		json_arr_end(&w);
	}
	cmd_json_end(ctx, &w);
}

/* The holders of path --type: how many each, and the chain to it. */
static void holders_print(const heapgraph *hg, const an_path_result *p, const char *type)
{
	char n1[32], n2[32];
	printf("%s: %s objects, %s reached from a root; the holders of most:\n", type,
	       cmd_num(n1, sizeof n1, p->candidates), cmd_num(n2, sizeof n2, p->reached_count));
	for (size_t i = 0; i < p->nholders; i++) {
		const an_holder *ho = &p->holders[i];
		const an_chain *c = &ho->chain;
		printf("\n%12s (%.0f%%) held by %s root %s:\n", cmd_num(n1, sizeof n1, ho->count),
		       p->reached_count ? 100.0 * (double)ho->count / (double)p->reached_count : 0.0,
		       c->root_kind ? c->root_kind : "?", c->root_kind ? c->root_name : "?");
		node_print(hg, "", c->nodes[0]);
		for (size_t k = 0; k < ho->at; k++) {
			char lab[200];
			snprintf(lab, sizeof lab, "-> %s", c->labels[k]);
			node_print(hg, lab, c->nodes[k + 1]);
		}
		if (ho->at < c->n) {
			char lab[240];
			snprintf(lab, sizeof lab, "   e.g. %s%s", c->labels[ho->at],
				 ho->at + 1 < c->n ? " ..." : "");
			node_print(hg, lab, c->nodes[c->n]);
		}
	}
	if (p->nholders && p->held_elsewhere)
		printf("\n%12s (%.0f%%) held elsewhere, no holder keeping %s of them\n",
		       cmd_num(n1, sizeof n1, p->held_elsewhere),
		       100.0 * (double)p->held_elsewhere / (double)p->reached_count,
		       cmd_num(n2, sizeof n2, p->holder_min));
	if (!p->nholders)
		printf("  (no holder keeps more than one of them: `--nearest` shows one chain)\n");
}

static void path_print(cmd_ctx *ctx, const heapgraph *hg, const an_path_result *p)
{
	const an_chain *c = &p->chain;
	char t[160];
	if (!p->reached) {
		printf("0x%llx %s is not reachable from any root: it is garbage "
		       "(see `pyheap garbage`)\n", (unsigned long long)hg_node_addr(hg, p->target),
		       hg_node_type(hg, p->target, t, sizeof t));
		return;
	}
	printf("%s 0x%llx", hg_node_type(hg, p->target, t, sizeof t),
	       (unsigned long long)hg_node_addr(hg, p->target));
	if (ctx->type && p->candidates > 1)
		printf(" (the nearest of %zu)", p->candidates);
	printf(" is held by %s root %s:\n\n", c->root_kind ? c->root_kind : "?",
	       c->root_kind ? c->root_name : "?");
	node_print(hg, "", c->nodes[0]);
	for (size_t i = 0; i < c->n; i++) {
		char lab[200];
		snprintf(lab, sizeof lab, "-> %s", c->labels[i]);
		node_print(hg, lab, c->nodes[i + 1]);
	}
}

int cmd_path(cmd_ctx *ctx)
{
	heapgraph *hg;
	rg_id *targets;
	an_path_result *p;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	size_t nt = cmd_targets(ctx, hg, &targets);
	int rc = EXIT_UNUSABLE;
	if (!nt)
		goto out;
	if (an_path(&p, hg, targets, nt) < 0) {
		cmd_oom();
		goto out;
	}
	if (ctx->json)
		path_json(ctx, hg, p);
	else if (ctx->type && !ctx->nearest && p->nholders)
		holders_print(hg, p, ctx->type);
	else
		path_print(ctx, hg, p);
	an_path_free(p);
	rc = EXIT_OK;
out:
	free(targets);
	hg_free(hg);
	return rc;
}
