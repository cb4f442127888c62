/*
 * cmd_path.c - `pyheap path`: the shortest chain of references from a root
 * to an object, every edge named.  Weak references never retain, so no
 * chain runs through one.
 */
#include "cmd.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

static void node_json(json_w *w, heapgraph *hg, rg_id n)
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

int cmd_path(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	char t[160], v[160], l[200];
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	rg_id *targets;
	size_t nt = cmd_targets(ctx, hg, &targets);
	int rc = EXIT_UNUSABLE;
	rg_id *roots = malloc((hg_root_count(hg) ? hg_root_count(hg) : 1) * sizeof *roots);
	rg_edge *parent = NULL, *chain = NULL;
	uint32_t *dist = NULL;
	size_t nchain = 0;
	if (!nt || !roots)
		goto out;
	/* The interpreter's own roots (modules, frames, its state) explain an
	 * object better than "something in C holds it": try those first, and
	 * the external roots only for what they cannot reach. */
	size_t nown = 0;
	for (size_t i = 0; i < hg_root_count(hg); i++)
		if (strcmp(hg_root_at(hg, i)->kind, "external") != 0)
			roots[nown++] = hg_root_at(hg, i)->node;
	rg_id best = targets[0];
	for (int pass = 0; pass < 2; pass++) {
		size_t nr = nown;
		if (pass == 1) {
			for (size_t i = 0; i < hg_root_count(hg); i++)
				if (strcmp(hg_root_at(hg, i)->kind, "external") == 0)
					roots[nr++] = hg_root_at(hg, i)->node;
			free(parent);
			free(dist);
			parent = NULL;
			dist = NULL;
		}
		if (rg_bfs(hg_graph(hg), roots, nr, NULL, NULL, &parent, &dist) < 0) {
			fprintf(stderr, "pyheap: out of memory\n");
			goto out;
		}
		best = targets[0];
		for (size_t i = 1; i < nt; i++)
			if (dist[targets[i]] < dist[best])
				best = targets[i];
		if (dist[best] != UINT32_MAX)
			break;
	}
	if (dist[best] == UINT32_MAX) {
		/* nothing reaches it: say so, and it is garbage */
		if (ctx->json) {
			json_w w;
			cmd_json_begin(&w);
			json_key(&w, "target");
			json_obj(&w);
			node_json(&w, hg, best);
			json_obj_end(&w);
			json_key(&w, "root");
			json_obj(&w);
			json_kstr(&w, "kind", "none");
			json_kstr(&w, "name", "unreachable from every root (garbage)");
			json_obj_end(&w);
			json_key(&w, "chain");
			json_arr(&w);
			json_arr_end(&w);
			cmd_json_end(ctx, &w);
		} else {
			printf("0x%llx %s is not reachable from any root: it is garbage "
			       "(see `pyheap garbage`)\n", (unsigned long long)hg_node_addr(hg, best),
			       hg_node_type(hg, best, t, sizeof t));
		}
		rc = EXIT_OK;
		goto out;
	}
	if (rg_path(hg_graph(hg), parent, best, &chain, &nchain) < 0) {
		fprintf(stderr, "pyheap: out of memory\n");
		goto out;
	}
	rg_id root = nchain ? rg_edge_src(hg_graph(hg), chain[0]) : best;
	const hg_root *r = hg_root_of(hg, root);
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_key(&w, "target");
		json_obj(&w);
		node_json(&w, hg, best);
		json_obj_end(&w);
		if (ctx->type)
			json_ku64(&w, "candidates", nt);
		json_key(&w, "root");
		json_obj(&w);
		json_kstr(&w, "kind", r ? r->kind : "?");
		json_kstr(&w, "name", r ? r->name : "?");
		json_obj_end(&w);
		json_key(&w, "chain");
		json_arr(&w);
		json_obj(&w);
		node_json(&w, hg, root);
		json_kstr(&w, "edge", "");
		json_obj_end(&w);
		for (size_t i = 0; i < nchain; i++) {
			json_obj(&w);
			node_json(&w, hg, rg_edge_dst(hg_graph(hg), chain[i]));
			json_kstr(&w, "edge", hg_edge_text(hg, chain[i], l, sizeof l));
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("%s 0x%llx", hg_node_type(hg, best, t, sizeof t),
		       (unsigned long long)hg_node_addr(hg, best));
		if (ctx->type && nt > 1)
			printf(" (the nearest of %zu)", nt);
		printf(" is held by %s root %s:\n\n", r ? r->kind : "?", r ? r->name : "?");
		if (root < hg_object_count(hg))
			printf("  %-32s %s 0x%llx %s\n", "", hg_node_type(hg, root, t, sizeof t),
			       (unsigned long long)hg_node_addr(hg, root), ph_object_repr(h, root, v, sizeof v));
		else
			printf("  %-32s %s\n", "", ph_node_name(h, root, v, sizeof v));
		for (size_t i = 0; i < nchain; i++) {
			rg_id d = rg_edge_dst(hg_graph(hg), chain[i]);
			char lab[200];
			snprintf(lab, sizeof lab, "-> %s", hg_edge_text(hg, chain[i], l, sizeof l));
			if (d < hg_object_count(hg))
				printf("  %-32s %s 0x%llx %s\n", lab, hg_node_type(hg, d, t, sizeof t),
				       (unsigned long long)hg_node_addr(hg, d), ph_object_repr(h, d, v, sizeof v));
			else
				printf("  %-32s %s\n", lab, ph_node_name(h, d, v, sizeof v));
		}
	}
	rc = EXIT_OK;
out:
	free(targets);
	free(roots);
	free(parent);
	free(dist);
	free(chain);
	hg_free(hg);
	return rc;
}
