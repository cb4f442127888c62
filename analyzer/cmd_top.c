/*
 * cmd_top.c - `pyheap top`: what retains the most memory.
 *
 * The dominator tree of the reference graph, from a virtual root holding
 * every root, gives each object its retained size: its own bytes plus
 * everything only reachable through it.  A type's retained size counts each
 * object of that type that has no ancestor of the same type in the tree, so
 * nested objects of one type are not counted twice.
 */
#include "cmd.h"
#include "heapgraph.h"

#include <stdlib.h>
#include <string.h>

typedef struct ret { rg_id id; uint64_t bytes; } ret;

static int by_bytes_desc(const void *a, const void *b)
{
	const ret *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : (x->id > y->id) - (x->id < y->id);
}

typedef struct trow { uint32_t type; uint64_t count, retained; } trow;

static int by_retained_desc(const void *a, const void *b)
{
	const trow *x = a, *y = b;
	return x->retained < y->retained ? 1 : x->retained > y->retained ? -1 : 0;
}

/* Sums, per type, the retained size of objects with no same-type
 * ancestor in the dominator tree: an iterative walk over the tree that
 * keeps, per type, how many of its objects are on the current path. */
static int type_retained(heapgraph *hg, const rg_id *idom, const uint64_t *retained, trow *rows)
{
	uint32_t n = hg_node_count(hg);
	uint32_t *first = calloc((size_t)n + 1, sizeof *first), *kids = malloc((n ? n : 1) * sizeof *kids);
	uint32_t *onpath = calloc(ph_type_count(hg_heap(hg)) + 1, sizeof *onpath);
	rg_id *stack = malloc(((size_t)n + 1) * sizeof *stack);
	uint8_t *state = calloc(n ? n : 1, 1);
	if (!first || !kids || !onpath || !stack || !state) {
		free(first); free(kids); free(onpath); free(stack); free(state);
		return -1;
	}
	/* children lists in CSR: count, prefix sums, fill */
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			first[idom[i] + 1]++;
	for (uint32_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	uint32_t *fill = stack;          /* (free until the walk below) */
	memcpy(fill, first, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			kids[fill[idom[i]]++] = i;
	/* tops of the tree: nodes whose idom is the virtual root */
	for (uint32_t top = 0; top < n; top++) {
		if (idom[top] != RG_NONE || state[top])
			continue;
		size_t sp = 0;
		stack[sp++] = top;
		while (sp) {
			rg_id v = stack[sp - 1];
			uint32_t t = v < hg_object_count(hg) ? ph_object_type(hg_heap(hg), v) : UINT32_MAX;
			if (!state[v]) {
				state[v] = 1;
				if (t != UINT32_MAX) {
					if (onpath[t] == 0) {
						rows[t].retained += retained[v];
						rows[t].count++;
					}
					onpath[t]++;
				}
				for (uint32_t k = first[v]; k < first[v + 1]; k++)
					if (!state[kids[k]])
						stack[sp++] = kids[k];
			} else {
				sp--;
				if (state[v] == 1 && t != UINT32_MAX)
					onpath[t]--;
				state[v] = 2;
			}
		}
	}
	free(first); free(kids); free(onpath); free(stack); free(state);
	return 0;
}

int cmd_top(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg;
	char t[160], v[160], b1[32];
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	int rc = EXIT_UNUSABLE;
	rg_id *roots = malloc((hg_root_count(hg) ? hg_root_count(hg) : 1) * sizeof *roots), *idom = NULL;
	uint64_t *retained = rg_zalloc(hg_node_count(hg), sizeof *retained);
	rg_id *order = NULL;
	uint32_t norder = 0;
	ret *rs = malloc((hg_object_count(hg) ? hg_object_count(hg) : 1) * sizeof *rs);
	trow *rows = calloc(ph_type_count(h) + 1, sizeof *rows);
	rg_edge *parent = NULL;
	uint32_t *dist = NULL;
	if (!roots || !retained || !rs || !rows)
		goto oom;
	for (size_t i = 0; i < hg_root_count(hg); i++)
		roots[i] = hg_root_at(hg, i)->node;
	/* sizes, then (in place) retained sizes */
	for (rg_id i = 0; i < hg_object_count(hg); i++)
		retained[i] = ph_object_size(h, i);
	if (rg_dominators_order(hg_graph(hg), roots, hg_root_count(hg), &idom, &order, &norder) < 0 ||
	    rg_retain_sizes(hg_graph(hg), idom, order, norder, retained) < 0)
		goto oom;
	free(order);
	order = NULL;
	if (rg_bfs(hg_graph(hg), roots, hg_root_count(hg), NULL, NULL, &parent, &dist) < 0)
		goto oom;
	size_t top = ctx->top < 0 ? 20 : ctx->top == 0 ? hg_object_count(hg) : (size_t)ctx->top;
	if (top > hg_object_count(hg))
		top = hg_object_count(hg);
	if (top <= 4096 && top < hg_object_count(hg)) {
		/* the biggest few: a sorted window, not a sort of every object */
		size_t k = 0;
		for (rg_id i = 0; i < hg_object_count(hg); i++) {
			ret x = {i, retained[i]};
			if (k == top && by_bytes_desc(&x, &rs[k - 1]) >= 0)
				continue;
			size_t pos = k < top ? k++ : top - 1;
			while (pos > 0 && by_bytes_desc(&x, &rs[pos - 1]) < 0) {
				rs[pos] = rs[pos - 1];
				pos--;
			}
			rs[pos] = x;
		}
	} else {
		for (rg_id i = 0; i < hg_object_count(hg); i++)
			rs[i] = (ret){i, retained[i]};
		qsort(rs, hg_object_count(hg), sizeof *rs, by_bytes_desc);
	}
	for (size_t i = 0; i < ph_type_count(h); i++)
		rows[i].type = (uint32_t)i;
	if (type_retained(hg, idom, retained, rows) < 0)
		goto oom;
	size_t nt = ph_type_count(h);
	qsort(rows, nt, sizeof *rows, by_retained_desc);
	size_t ttop = ctx->top == 0 ? nt : top < nt ? top : nt;
	json_w w;
	if (ctx->json) {
		cmd_json_begin(&w);
		json_ku64(&w, "total_size", ph_total_size(h));
		json_key(&w, "objects");
		json_arr(&w);
	} else {
		printf("biggest retainers (total heap %s):\n\n", cmd_bytes(b1, sizeof b1, ph_total_size(h)));
	}
	for (size_t i = 0; i < top; i++) {
		rg_id id = rs[i].id;
		if (ctx->json) {
			json_obj(&w);
			json_khex(&w, "addr", ph_object_addr(h, id));
			json_kstr(&w, "type", hg_node_type(hg, id, t, sizeof t));
			json_ku64(&w, "size", ph_object_size(h, id));
			json_ku64(&w, "retained", rs[i].bytes);
			json_kstr(&w, "value", ph_object_repr(h, id, v, sizeof v));
			cmd_chain_json_at(&w, hg, parent, id);
			json_obj_end(&w);
		} else {
			printf("%12s  %s 0x%llx %s\n", cmd_bytes(b1, sizeof b1, rs[i].bytes),
			       hg_node_type(hg, id, t, sizeof t), (unsigned long long)ph_object_addr(h, id),
			       ph_object_repr(h, id, v, sizeof v));
			cmd_chain_print_at(hg, parent, id, "              ");
		}
	}
	if (ctx->json) {
		json_arr_end(&w);
		json_key(&w, "types");
		json_arr(&w);
		for (size_t i = 0; i < ttop; i++) {
			if (!rows[i].count)
				break;
			json_obj(&w);
			json_kstr(&w, "type", ph_type_name(h, rows[i].type));
			json_ku64(&w, "count", rows[i].count);
			json_ku64(&w, "retained", rows[i].retained);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		printf("\nretained size by type (objects not inside another of their type):\n\n");
		for (size_t i = 0; i < ttop && rows[i].count; i++)
			printf("%12s  %10llu  %s\n", cmd_bytes(b1, sizeof b1, rows[i].retained),
			       (unsigned long long)rows[i].count, ph_type_name(h, rows[i].type));
	}
	rc = EXIT_OK;
	goto out;
oom:
	fprintf(stderr, "pyheap: out of memory\n");
out:
	free(roots); free(idom); free(order); free(retained); free(rs); free(rows);
	free(parent); free(dist);
	hg_free(hg);
	return rc;
}
