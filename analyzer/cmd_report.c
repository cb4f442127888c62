/*
 * cmd_report.c - `pyheap report CORE -o FILE [--baseline OLD]`: one
 * self-contained HTML page of what the other commands say about a core.
 *
 * The page is the template of analyzer/report/ (HTML, CSS and vanilla JS,
 * made into report_template.h by scripts/embed-text.awk at build time) with
 * the results embedded as one JSON document in a <script
 * type="application/json"> block: nothing is loaded from anywhere, so it
 * works from file:// and as a mail attachment.  The results are the
 * analyses' (an_types, an_top and an_retained, an_suspects, an_type_deltas,
 * an_stacks, an_pinned, an_show, an_chain_get) and the pool map of
 * ph_arena_pools; this file only chooses what to embed, within caps that
 * keep the page small:
 *
 *   - the objects the page names (suspects, the biggest retainers, the
 *     threads' locals, the dominator tree's nodes, the objects pinning
 *     arenas, and in turn what their panels name) are one table of at most
 *     REPORT_OBJECTS entries: address, type, size, retained size, value;
 *   - the first REPORT_PANELS of them get a panel: refcount, the chain that
 *     holds it, its first referents and referrers (`pyheap show`, `path`);
 *   - the dominator tree is cut to the REPORT_TREE biggest nodes, the rest
 *     of each node's children summed as "N others".
 *
 * The JSON is written to memory first, then copied into the page with '<'
 * and U+2028/U+2029 escaped (no "</script>" can end the block early); the
 * page goes to a temporary file beside FILE, made before the core is even
 * opened (the command loads it itself: OPT_SELFLOAD), renamed over FILE at
 * the end.
 */
#include "cmd.h"
#include "report_template.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPORT_OBJECTS 60000  /* objects described (address, type, size, value) */
#define REPORT_PANELS 2500    /* of those, with refcount, chain and references */
#define REPORT_LINKS 16       /* referents and referrers listed in a panel */
#define REPORT_TREE 2000      /* dominator-tree nodes embedded */
#define REPORT_KIDS 24        /* children of one tree node considered */
#define REPORT_TREE_MIN 20000 /* a tree node holds at least 1/20000 of the heap */
#define REPORT_TOP 50         /* biggest retainers listed */
#define REPORT_ARENAS 4096    /* arenas drawn */
#define REPORT_POOLS 4096     /* pools read per arena */
#define REPORT_PINNED 64      /* objects listed per pinned arena */
#define REPORT_GROWTH 40      /* type growth rows */
#define REPORT_VALUE 80       /* bytes of an object's value */

typedef struct report {
	cmd_ctx *ctx;
	ph_heap *h;
	heapgraph *hg;
	json_w w;
	uint32_t nnodes, nobj;
	uint64_t *retained;      /* every node's retained size (an_retained) */
	rg_id *idom;             /* the dominator tree */
	an_top_result *top;      /* its parent/dist: chains, and what roots reach */
	uint32_t *ref;           /* node -> its index in the objects table + 1 */
	rg_id *objs;             /* the objects table */
	size_t nobjs;
} report;

/* ---- the objects table ---- */

/* The index of node in the objects table, added when new; -1 when full. */
static long obj_index(report *r, rg_id node)
{
	if (node >= r->nnodes)
		return -1;
	if (r->ref[node])
		return (long)r->ref[node] - 1;
	if (r->nobjs == REPORT_OBJECTS)
		return -1;
	r->objs[r->nobjs] = node;
	r->ref[node] = (uint32_t)++r->nobjs;
	return (long)r->nobjs - 1;
}

/* A reference to node: its index in the objects table, or (when the table
 * is full) its address as a string, which the page shows unlinked. */
static void obj_ref(report *r, rg_id node)
{
	long i = obj_index(r, node);
	if (i >= 0)
		json_u64(&r->w, (uint64_t)i);
	else
		json_hex(&r->w, hg_node_addr(r->hg, node));
}

static void chain_json(report *r, const char *key, const an_chain *c)
{
	json_w *w = &r->w;
	json_key(w, key);
	json_obj(w);
	json_kstr(w, "kind", c->root_kind ? c->root_kind : "");
	json_kstr(w, "name", c->root_kind ? c->root_name : "");
	json_key(w, "nodes");
	json_arr(w);
	for (size_t k = 0; k <= c->n; k++)
		obj_ref(r, c->nodes[k]);
	json_arr_end(w);
	json_key(w, "labels");
	json_arr(w);
	for (size_t k = 0; k < c->n; k++)
		json_str(w, c->labels[k]);
	json_arr_end(w);
	json_obj_end(w);
}

/* The chain from a root to node (an_chain_get on top's tree). */
static int chain_of(report *r, const char *key, rg_id node)
{
	an_chain c;
	if (an_chain_get(&c, r->hg, r->top->parent, node) < 0)
		return -1;
	chain_json(r, key, &c);
	an_chain_clear(&c);
	return 0;
}

/* ---- the sections ---- */

static int w_types(report *r)
{
	json_w *w = &r->w;
	an_types_result *t;
	if (an_types(&t, r->h, NULL, 0) < 0)
		return -1;
	json_key(w, "types");
	json_obj(w);
	json_ku64(w, "total_count", t->total_count);
	json_ku64(w, "total_size", t->total_size);
	json_key(w, "rows");
	json_arr(w);
	for (size_t i = 0; i < t->n; i++) {
		json_arr(w);
		json_u64(w, t->rows[i].type);
		json_u64(w, t->rows[i].count);
		json_u64(w, t->rows[i].size);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
	an_types_free(t);
	/* retained by type, as `top` has it */
	json_key(w, "retained_types");
	json_arr(w);
	for (size_t i = 0; i < r->top->ntypes; i++) {
		json_arr(w);
		json_u64(w, r->top->types[i].type);
		json_u64(w, r->top->types[i].count);
		json_u64(w, r->top->types[i].retained);
		json_arr_end(w);
	}
	json_arr_end(w);
	return 0;
}

/* The memory section.  For now the page draws it from the types totals
 * and pymalloc's figures (already in the document); the ledger of `pyheap
 * memory` (an_memory, being built on branch `ledger`) plugs in here as a
 * "ledger" member: {"total", "unexplained", "lines": [[name, bytes,
 * depth], ...]}, which report.js's memory section already renders when it
 * is present. */
/* The ledger of `pyheap memory` (an_memory), its lines flattened with
 * their depth, as the page draws them; without it the page says so. */
static int w_memory(report *r)
{
	json_w *w = &r->w;
	an_memory_result *m = NULL;
	if (an_memory(&m, r->h, r->ctx->malloc_scan ? CORE_MALLOC_BY_STRUCTURE : 0, 10) < 0)
		return -1;
	json_key(w, "memory");
	json_obj(w);
	json_kbool(w, "ledger_available", 1);
	json_key(w, "ledger");
	json_obj(w);
	json_ku64(w, "total", m->total);
	json_ku64(w, "unexplained", m->unexplained);
	json_key(w, "lines");
	json_arr(w);
	for (size_t i = 0; i < m->nlines; i++) {
		json_arr(w);
		json_str(w, m->lines[i].name);
		json_u64(w, m->lines[i].bytes);
		json_i64(w, m->lines[i].depth);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_ku64(w, "python_bytes", m->python_bytes);
	json_ku64(w, "native_bytes", m->native_bytes);
	json_ku64(w, "free_bytes", m->frag.total);
	json_obj_end(w);
	json_obj_end(w);
	an_memory_free(m);
	return 0;
}

static int w_top(report *r)
{
	json_w *w = &r->w;
	json_key(w, "top");
	json_obj(w);
	json_ku64(w, "total_size", r->top->total_size);
	json_key(w, "objects");
	json_arr(w);
	for (size_t i = 0; i < r->top->nobjects; i++) {
		json_arr(w);
		obj_ref(r, r->top->objects[i].id);
		json_u64(w, r->top->objects[i].retained);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
	return 0;
}

static int w_suspects(report *r)
{
	json_w *w = &r->w;
	cmd_ctx *ctx = r->ctx;
	cmd_dump base = {0};
	an_suspects_result *s = NULL;
	an_type_delta *d = NULL;
	size_t nd = 0;
	char err[8192], sum[1024];
	int rc = -1;
	if (ctx->baseline && cmd_open_dump(ctx, ctx->baseline, &base) != 0)
		return -2;
	if (an_suspects(&s, r->hg, ctx->baseline ? &base.dump : NULL, err, sizeof err) < 0) {
		if (err[0]) {
			cmd_error("%s", err);
			rc = -2;
		}
		goto out;
	}
	json_key(w, "suspects");
	json_obj(w);
	json_ku64(w, "total_size", s->total_size);
	json_ku64(w, "heap_size", s->heap_size);
	json_ku64(w, "pinned_free", s->pinned_free);
	json_ku64(w, "objects", s->objects);
	json_key(w, "list");
	json_arr(w);
	for (size_t i = 0; i < s->n; i++) {
		const an_suspect *x = &s->s[i];
		cmd_suspect_summary(ctx, r->h, x, sum, sizeof sum);
		json_obj(w);
		json_kstr(w, "kind", an_suspect_kind_name(x->kind));
		json_ku64(w, "bytes", x->bytes);
		json_kf64(w, "share", s->heap_size ? 100.0 * (double)x->bytes / (double)s->heap_size : 0);
		json_kstr(w, "summary", sum);
		if (x->kind == AN_PINNED_ARENAS) {
			json_key(w, "arenas");
			json_arr(w);
			for (size_t k = 0; k < x->e.pinned.nbases; k++)
				json_hex(w, x->e.pinned.bases[k].addr);
			json_arr_end(w);
		}
		if (x->nexamples) {
			json_key(w, "types");
			json_arr(w);
			for (size_t k = 0; k < x->nexamples; k++) {
				json_arr(w);
				json_u64(w, x->examples[k].type);
				json_u64(w, x->examples[k].count);
				json_u64(w, x->examples[k].size);
				json_arr_end(w);
			}
			json_arr_end(w);
		}
		if (x->id != RG_NONE) {
			json_key(w, "obj");
			obj_ref(r, x->id);
			json_ku64(w, "retained", x->retained);
			if (x->items >= 0)
				json_ki64(w, "entries", x->items);
			chain_json(r, "chain", &x->chain);
		}
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);

	/* growth by type since the baseline, as `diff` has it */
	if (ctx->baseline) {
		an_dump cur = {.path = ctx->core_path, .heap = r->h};
		if (an_type_deltas(&d, &nd, &base.dump, &cur, 0, err, sizeof err) < 0) {
			if (err[0]) {
				cmd_error("%s", err);
				rc = -2;
			}
			goto out;
		}
		json_kstr(w, "baseline", ctx->baseline);
		json_key(w, "growth");
		json_arr(w);
		for (size_t i = 0, k = 0; i < nd && k < REPORT_GROWTH; i++) {
			if (d[i].old_count == d[i].new_count && d[i].old_size == d[i].new_size)
				continue;
			k++;
			json_arr(w);
			json_str(w, d[i].name);
			json_u64(w, d[i].old_count);
			json_u64(w, d[i].new_count);
			json_u64(w, d[i].old_size);
			json_u64(w, d[i].new_size);
			json_arr_end(w);
		}
		json_arr_end(w);
	}
	rc = 0;
out:
	an_type_deltas_free(d, nd);
	an_suspects_free(s);
	cmd_close_dump(&base);
	return rc;
}

static int w_stacks(report *r)
{
	json_w *w = &r->w;
	an_stacks_result *s;
	if (an_stacks(&s, r->h, r->hg) < 0)
		return -1;
	json_key(w, "stacks");
	json_arr(w);
	for (size_t t = 0; t < s->nthreads; t++) {
		const an_stack *st = &s->threads[t];
		json_obj(w);
		json_khex(w, "thread_id", st->thread->thread_id);
		json_ku64(w, "native_id", st->thread->native_id);
		json_khex(w, "tstate", st->thread->tstate);
		json_key(w, "frames");
		json_arr(w);
		for (size_t i = 0; i < st->nframes; i++) {
			const an_stack_frame *f = &st->frames[i];
			json_obj(w);
			json_kstr(w, "function", f->frame.name);
			json_kstr(w, "file", f->frame.file);
			json_ki64(w, "line", f->frame.line);
			json_khex(w, "frame", f->frame.addr);
			json_key(w, "locals");
			json_arr(w);
			for (size_t k = 0; k < f->nlocals; k++) {
				const an_local *l = &f->locals[k];
				json_arr(w);
				json_str(w, l->name);
				if (l->id != RG_NONE)
					obj_ref(r, l->id);
				else
					json_hex(w, l->addr);
				json_u64(w, l->size);
				json_u64(w, l->retained);
				json_arr_end(w);
			}
			json_arr_end(w);
			json_obj_end(w);
		}
		json_arr_end(w);
		json_obj_end(w);
	}
	json_arr_end(w);
	an_stacks_free(s);
	return 0;
}

/* ---- the dominator tree, cut to its biggest nodes ---- */

typedef struct tcand { uint64_t retained; rg_id node; uint32_t parent; } tcand;

static void heap_push(tcand *hp, size_t *n, tcand c)
{
	size_t i = (*n)++;
	while (i > 0 && hp[(i - 1) / 2].retained < c.retained) {
		hp[i] = hp[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	hp[i] = c;
}

static tcand heap_pop(tcand *hp, size_t *n)
{
	tcand top = hp[0], last = hp[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && hp[c + 1].retained > hp[c].retained)
			c++;
		if (hp[c].retained <= last.retained)
			break;
		hp[i] = hp[c];
		i = c;
	}
	if (*n)
		hp[i] = last;
	return top;
}

typedef struct tnode { rg_id node; uint32_t parent; uint64_t retained, others_bytes, others; } tnode;

typedef struct tree {
	const uint32_t *first, *kids;   /* children in CSR; the virtual root is nnodes */
	tnode *t;
	size_t nt;
	tcand *hp;
	size_t nhp;
	uint64_t min;
} tree;

/* Pushes the biggest REPORT_KIDS children of tree node ti (above the
 * minimum) as candidates; the others count in its "others". */
static void push_kids(report *r, tree *x, uint32_t ti)
{
	rg_id v = x->t[ti].node == RG_NONE ? r->nnodes : x->t[ti].node;
	tcand best[REPORT_KIDS];
	size_t nb = 0;
	for (uint32_t k = x->first[v]; k < x->first[v + 1]; k++) {
		tcand c = {r->retained[x->kids[k]], x->kids[k], ti};
		if (c.retained < x->min || (nb == REPORT_KIDS && c.retained <= best[nb - 1].retained)) {
			x->t[ti].others++;
			x->t[ti].others_bytes += c.retained;
			continue;
		}
		if (nb == REPORT_KIDS) {         /* the smallest of the best drops out */
			x->t[ti].others++;
			x->t[ti].others_bytes += best[nb - 1].retained;
			nb--;
		}
		size_t p = nb++;
		while (p > 0 && best[p - 1].retained < c.retained) {
			best[p] = best[p - 1];
			p--;
		}
		best[p] = c;
	}
	for (size_t i = 0; i < nb; i++)
		heap_push(x->hp, &x->nhp, best[i]);
}

static int w_tree(report *r)
{
	json_w *w = &r->w;
	uint32_t n = r->nnodes;
	const uint32_t *dist = r->top->dist;
	uint32_t *first = calloc((size_t)n + 2, sizeof *first);
	uint32_t *kids = malloc(((size_t)n + 1) * sizeof *kids);
	tree x = {.t = calloc(REPORT_TREE + 1, sizeof *x.t),
		  .hp = malloc(((size_t)REPORT_TREE + 1) * REPORT_KIDS * sizeof *x.hp)};
	uint64_t reachable = 0;
	int rc = -1;
	if (!first || !kids || !x.t || !x.hp)
		goto out;
	/* children lists; the tops of the tree (reached, no dominator but
	 * the virtual root) are the children of node n */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = r->idom[i] != RG_NONE ? r->idom[i] : dist[i] != UINT32_MAX ? n : RG_NONE;
		if (p != RG_NONE)
			first[p + 1]++;
		if (p == n)
			reachable += r->retained[i];
	}
	for (uint32_t i = 0; i <= n; i++)
		first[i + 1] += first[i];
	uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
	if (!fill)
		goto out;
	memcpy(fill, first, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = r->idom[i] != RG_NONE ? r->idom[i] : dist[i] != UINT32_MAX ? n : RG_NONE;
		if (p != RG_NONE)
			kids[fill[p]++] = i;
	}
	free(fill);
	x.first = first;
	x.kids = kids;
	x.min = r->top->total_size / REPORT_TREE_MIN;
	if (x.min == 0)
		x.min = 1;
	x.t[0] = (tnode){RG_NONE, UINT32_MAX, reachable, 0, 0};
	x.nt = 1;
	push_kids(r, &x, 0);
	while (x.nhp && x.nt < REPORT_TREE + 1) {
		tcand c = heap_pop(x.hp, &x.nhp);
		x.t[x.nt] = (tnode){c.node, c.parent, c.retained, 0, 0};
		push_kids(r, &x, (uint32_t)x.nt++);
	}
	while (x.nhp) {                          /* left over: with the others */
		tcand c = heap_pop(x.hp, &x.nhp);
		x.t[c.parent].others++;
		x.t[c.parent].others_bytes += c.retained;
	}
	json_key(w, "tree");
	json_obj(w);
	json_ku64(w, "total", r->top->total_size);
	json_ku64(w, "reachable", reachable);
	json_ku64(w, "min", x.min);
	json_key(w, "nodes");
	json_arr(w);
	for (size_t i = 0; i < x.nt; i++) {
		json_arr(w);
		json_i64(w, i ? (int64_t)x.t[i].parent : -1);
		if (i)
			obj_ref(r, x.t[i].node);
		else
			json_i64(w, -1);
		json_u64(w, x.t[i].retained);
		json_u64(w, x.t[i].others);
		json_u64(w, x.t[i].others_bytes);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
	rc = 0;
out:
	free(first);
	free(kids);
	free(x.t);
	free(x.hp);
	return rc;
}

/* ---- pymalloc ---- */

static int w_arenas(report *r)
{
	json_w *w = &r->w;
	const ph_arena_stats *a = ph_arenas(r->h);
	an_pinned_result *p;
	ph_pool_use *pools = malloc(REPORT_POOLS * sizeof *pools);
	if (!pools || an_pinned(&p, r->h) < 0) {
		free(pools);
		return -1;
	}
	json_key(w, "arenas");
	json_obj(w);
	json_kstr(w, "found_by", ph_arenas_found_by(r->h));
	json_ku64(w, "arena_size", a->arena_size);
	json_ku64(w, "pool_size", a->pool_size);
	json_ku64(w, "pool_overhead", a->pool_overhead);
	json_ku64(w, "arenas", a->arenas);
	json_ku64(w, "pools_used", a->pools_used);
	json_ku64(w, "pools_full", a->pools_full);
	json_ku64(w, "pools_empty", a->pools_empty);
	json_ku64(w, "pools_total", a->pools_total);
	json_ku64(w, "blocks", a->blocks_used);
	json_ku64(w, "nearly_empty_arenas", a->nearly_empty_arenas);
	json_ku64(w, "nearly_empty_bytes", a->nearly_empty_bytes);
	json_key(w, "classes");
	json_arr(w);
	for (int i = 0; i < PH_SIZE_CLASSES; i++) {
		json_arr(w);
		json_u64(w, (uint64_t)(i + 1) * 16);
		json_u64(w, a->cls[i].pools);
		json_u64(w, a->cls[i].used);
		json_u64(w, a->cls[i].free);
		json_u64(w, cmd_arena_wasted(a, i));
		json_arr_end(w);
	}
	json_arr_end(w);
	/* the picture: per pool, -1 free, -2 unreadable, else used * 32 + size class */
	json_key(w, "map");
	json_arr(w);
	uint64_t base;
	size_t i = 0, np;
	for (; i < REPORT_ARENAS && (np = ph_arena_pools(r->h, i, &base, pools, REPORT_POOLS)); i++) {
		json_arr(w);
		json_hex(w, base);
		json_arr(w);
		for (size_t k = 0; k < np && k < REPORT_POOLS; k++)
			json_i64(w, pools[k].state == PH_POOL_FREE ? -1 : pools[k].state == PH_POOL_BAD ? -2 :
				 (int64_t)pools[k].used * 32 + pools[k].szidx);
		json_arr_end(w);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_ku64(w, "drawn", i);
	json_key(w, "pinned");
	json_arr(w);
	for (size_t k = 0; k < p->n; k++) {
		json_obj(w);
		json_khex(w, "base", p->arenas[k].base);
		json_ku64(w, "count", p->arenas[k].n);
		json_key(w, "objects");
		json_arr(w);
		for (size_t j = 0; j < p->arenas[k].n && j < REPORT_PINNED; j++)
			obj_ref(r, p->arenas[k].ids[j]);
		json_arr_end(w);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
	an_pinned_free(p);
	free(pools);
	return 0;
}

/* ---- panels and the objects table ---- */

static void links_json(report *r, const char *key, const an_link *l, size_t n)
{
	json_w *w = &r->w;
	json_key(w, key);
	json_arr(w);
	for (size_t i = 0; i < n && i < REPORT_LINKS; i++) {
		json_arr(w);
		json_str(w, l[i].label);
		obj_ref(r, l[i].node);
		json_u64(w, l[i].flags & (RG_WEAK | RG_CONSERVATIVE));
		json_arr_end(w);
	}
	json_arr_end(w);
}

/* Panels for the first objects of the table, in order: those the
 * sections named first, then what their panels name, and so on. */
static int w_panels(report *r)
{
	json_w *w = &r->w;
	json_key(w, "panels");
	json_arr(w);
	for (size_t i = 0; i < r->nobjs && i < REPORT_PANELS; i++) {
		rg_id id = r->objs[i];
		an_show_result *s;
		json_obj(w);
		if (id >= r->nobj) {             /* a virtual node: no refcount */
			json_obj_end(w);
			continue;
		}
		if (an_show(&s, r->hg, id) < 0)
			return -1;
		json_ki64(w, "refcount", s->refcount);
		json_kbool(w, "immortal", s->immortal);
		json_ku64(w, "found", s->found);
		json_ki64(w, "external", s->external);
		json_ku64(w, "flags", s->flags);
		json_kstr(w, "root", s->root_kind ? s->root_kind : "");
		if (r->top->dist[id] != UINT32_MAX && chain_of(r, "chain", id) < 0) {
			an_show_free(s);
			return -1;
		}
		links_json(r, "referents", s->referents, s->nreferents);
		json_ku64(w, "referent_count", s->referent_count);
		links_json(r, "referrers", s->referrers, s->nreferrers);
		json_ku64(w, "referrer_count", s->referrer_count);
		an_show_free(s);
		json_obj_end(w);
	}
	json_arr_end(w);
	return 0;
}

static void w_objects(report *r)
{
	json_w *w = &r->w;
	char v[REPORT_VALUE + 1];
	json_key(w, "objects");
	json_arr(w);
	for (size_t i = 0; i < r->nobjs; i++) {
		rg_id id = r->objs[i];
		json_arr(w);
		if (id < r->nobj) {
			json_hex(w, ph_object_addr(r->h, id));
			json_u64(w, ph_object_type(r->h, id));
			json_u64(w, ph_object_size(r->h, id));
			json_u64(w, r->retained[id]);
			json_str(w, ph_object_repr(r->h, id, v, sizeof v));
		} else {                         /* "thread 1234", "frame f (thread 1234)" */
			json_str(w, "");
			json_i64(w, -1);
			json_u64(w, 0);
			json_u64(w, r->retained[id]);
			json_str(w, ph_node_name(r->h, id, v, sizeof v));
		}
		json_arr_end(w);
	}
	json_arr_end(w);
	json_key(w, "typenames");
	json_arr(w);
	for (size_t i = 0; i < ph_type_count(r->h); i++)
		json_str(w, ph_type_name(r->h, (uint32_t)i));
	json_arr_end(w);
}

/* ---- the page ---- */

/* Copies JSON into a <script> block: '<' (so no "</script" or "<!--")
 * and the line separators U+2028, U+2029 as \u escapes.  They only ever
 * occur inside strings, where the escapes mean the same. */
static void put_script_json(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<')
			fputs("\\u003c", f);
		else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
			fputs((unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", f);
			i += 2;
		} else
			fputc(c, f);
	}
}

static void put_html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
		}
	}
}

/* The template with {{TITLE}}, {{CSS}}, {{JS}} and {{DATA}} filled in. */
static void write_page(FILE *f, const char *title, const char *data, size_t n)
{
	const char *p = report_html;
	for (;;) {
		const char *m = strstr(p, "{{");
		if (!m) {
			fputs(p, f);
			return;
		}
		fwrite(p, 1, (size_t)(m - p), f);
		if (strncmp(m, "{{TITLE}}", 9) == 0)
			put_html_text(f, title);
		else if (strncmp(m, "{{CSS}}", 7) == 0)
			fputs(report_css, f);
		else if (strncmp(m, "{{JS}}", 6) == 0)
			fputs(report_js, f);
		else if (strncmp(m, "{{DATA}}", 8) == 0)
			put_script_json(f, data, n);
		else {
			fputs("{{", f);
			p = m + 2;
			continue;
		}
		p = strchr(m, '}') + 2;
	}
}

/* The document: every section's results, then the panels and the objects
 * they name.  0, -1 out of memory, -2 an error already printed. */
static int collect(report *r)
{
	cmd_ctx *ctx = r->ctx;
	json_w *w = &r->w;
	int rc;
	json_obj(w);
	json_ku64(w, "format", 1);
	json_key(w, "info");
	json_obj(w);
	cmd_info_fields(w, ctx);
	json_obj_end(w);
	/* the order decides which objects get panels first: those of the
	 * suspects, the biggest retainers, the locals, the tree's nodes, then
	 * what the panels name; the objects pinning arenas are only described */
	if ((rc = w_suspects(r)) < 0 || (rc = w_top(r)) < 0 || (rc = w_stacks(r)) < 0 ||
	    (rc = w_types(r)) < 0 || (rc = w_memory(r)) < 0 || (rc = w_tree(r)) < 0 ||
	    (rc = w_panels(r)) < 0 || (rc = w_arenas(r)) < 0)
		return rc;
	w_objects(r);
	json_ku64(w, "objects_cap", REPORT_OBJECTS);
	json_ku64(w, "panels_cap", REPORT_PANELS);
	cmd_json_end(ctx, w);             /* warnings, and the closing brace */
	return 0;
}

/* A temporary file beside path, made now so that an unwritable place
 * fails before the analyses run; *tmp is malloc'd. */
static FILE *open_tmp(const char *path, char **tmp)
{
	int fd = core_tmpfile(path, 0666, tmp);   /* as fopen would */
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

int cmd_report(cmd_ctx *ctx)
{
	report r = {.ctx = ctx};
	char *tmp = NULL, title[600], b1[32];
	char *data = NULL;
	size_t ndata = 0;
	FILE *mem = NULL;
	int rc = EXIT_UNUSABLE, crc;
	struct stat st;
	if (stat(ctx->out, &st) == 0 && S_ISDIR(st.st_mode)) {
		cmd_error("%s: is a directory", ctx->out);
		return EXIT_UNUSABLE;
	}
	FILE *out = open_tmp(ctx->out, &tmp);
	if (!out) {
		cmd_error("%s: cannot write: %s", ctx->out, strerror(errno));
		return EXIT_UNUSABLE;
	}
	if ((rc = cmd_load(ctx)) != 0)
		goto fail;
	rc = EXIT_UNUSABLE;
	if (cmd_build_graph(&r.hg, ctx) < 0)
		goto fail;
	r.h = ctx->heap;
	/* one dominator tree and one breadth-first tree for every analysis */
	if (hg_keep_results(r.hg) < 0) {
		cmd_oom();
		goto fail;
	}
	r.nobj = hg_object_count(r.hg);
	r.nnodes = hg_node_count(r.hg);
	r.ref = calloc(r.nnodes ? r.nnodes : 1, sizeof *r.ref);
	r.objs = malloc(REPORT_OBJECTS * sizeof *r.objs);
	if (!r.ref || !r.objs || an_top(&r.top, r.hg, REPORT_TOP) < 0 ||
	    an_retained(&r.retained, &r.idom, r.hg) < 0 || !(mem = open_memstream(&data, &ndata))) {
		cmd_oom();
		goto fail;
	}
	json_init(&r.w, mem);
	crc = collect(&r);
	if (fclose(mem) != 0)
		crc = -1;
	mem = NULL;
	if (crc < 0) {
		if (crc == -1)
			cmd_oom();
		goto fail;
	}
	snprintf(title, sizeof title, "pyheap report: %s (pid %d, Python %s)",
		 core_exe(ctx->core) ? core_exe(ctx->core) : core_path(ctx->core), core_pid(ctx->core),
		 ph_version(ctx->heap));
	write_page(out, title, data, ndata);
	if (fflush(out) != 0 || ferror(out) || fsync(fileno(out)) != 0) {
		cmd_error("%s: cannot write: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fclose(out) != 0) {
		out = NULL;
		cmd_error("%s: cannot write: %s", tmp, strerror(errno));
		goto fail;
	}
	out = NULL;
	if (rename(tmp, ctx->out) != 0) {
		cmd_error("%s: cannot rename %s to it: %s", ctx->out, tmp, strerror(errno));
		goto fail;
	}
	size_t panels = r.nobjs < REPORT_PANELS ? r.nobjs : REPORT_PANELS;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_kstr(&w, "output", ctx->out);
		json_ku64(&w, "bytes", stat(ctx->out, &st) == 0 ? (uint64_t)st.st_size : 0);
		json_ku64(&w, "objects", r.nobjs);
		json_ku64(&w, "panels", panels);
		cmd_json_end(ctx, &w);
	} else {
		printf("wrote %s: %s, %zu objects described, %zu with a panel\n", ctx->out,
		       cmd_bytes(b1, sizeof b1, stat(ctx->out, &st) == 0 ? (uint64_t)st.st_size : 0),
		       r.nobjs, panels);
	}
	rc = EXIT_OK;
fail:
	if (mem)
		fclose(mem);
	if (out) {
		fclose(out);
		unlink(tmp);
	} else if (rc != EXIT_OK) {
		unlink(tmp);
	}
	free(tmp);
	free(data);
	free(r.ref);
	free(r.objs);
	free(r.retained);
	free(r.idom);
	an_top_free(r.top);
	hg_free(r.hg);
	return rc;
}
