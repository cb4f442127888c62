/*
 * check_graph.c - the reference graph (graph/graph.h) and its Graphviz
 * output (graph/dot.h), on graphs built by hand: CSR layout, reverse edges,
 * breadth-first paths, dominators (the classic examples, a naive
 * O(n*m) check on random graphs, a shape that is quadratic for
 * Cooper-Harvey-Kennedy), retained sizes, backward neighbourhoods and the
 * four output formats.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <graphviz/cgraph.h>

#include "dot.h"
#include "graph.h"
#include "testutil.h"

typedef struct {
	rg_id s, d;
	uint8_t kind, flags;
	uint32_t label;
} E;

static rg_graph *build(uint32_t n, const E *es, size_t ne)
{
	rg_builder *b;
	ck_assert_int_eq(rg_builder_new(&b, n), 0);
	for (size_t i = 0; i < ne; i++)
		ck_assert_int_eq(rg_builder_add(b, es[i].s, es[i].d, es[i].kind, es[i].flags,
						es[i].label), 0);
	rg_graph *g;
	ck_assert_int_eq(rg_build(&g, b), 0);
	ck_assert_uint_eq(rg_node_count(g), n);
	ck_assert_uint_eq(rg_edge_count(g), ne);
	return g;
}
#define NE(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- building ---- */

START_TEST(test_csr)
{
	/* Sources out of order; each source's edges keep insertion order. */
	static const E es[] = {
		{3, 0, 1, 0, 30}, {1, 2, 2, RG_WEAK, 10}, {3, 1, 3, 0, 31}, {1, 0, 4, 0, 11},
		{0, 3, 5, RG_CONSERVATIVE, 0}, {3, 3, 6, 0, 32}, {1, 1, 7, 0, 12},
	};
	rg_graph *g = build(5, es, NE(es));
	rg_edge b, e;
	rg_out(g, 0, &b, &e);
	ck_assert_uint_eq(b, 0);
	ck_assert_uint_eq(e, 1);
	ck_assert_uint_eq(rg_edge_dst(g, 0), 3);
	ck_assert_uint_eq(rg_edge_flags(g, 0), RG_CONSERVATIVE);
	rg_out(g, 1, &b, &e);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(e, 4);
	const uint32_t l1[] = {10, 11, 12}, d1[] = {2, 0, 1}, k1[] = {2, 4, 7};
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(rg_edge_label(g, b + i), l1[i]);
		ck_assert_uint_eq(rg_edge_dst(g, b + i), d1[i]);
		ck_assert_uint_eq(rg_edge_kind(g, b + i), k1[i]);
		ck_assert_uint_eq(rg_edge_src(g, b + i), 1);
	}
	ck_assert_uint_eq(rg_edge_flags(g, 1), RG_WEAK);
	rg_out(g, 2, &b, &e);
	ck_assert_uint_eq(b, e);
	rg_out(g, 3, &b, &e);
	ck_assert_uint_eq(b, 4);
	ck_assert_uint_eq(e, 7);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(rg_edge_label(g, b + i), 30u + i);
	rg_out(g, 4, &b, &e);
	ck_assert_uint_eq(b, 7);
	ck_assert_uint_eq(e, 7);
	rg_out(g, 99, &b, &e);
	ck_assert_uint_eq(b, e);
	ck_assert_uint_eq(rg_edge_dst(g, 7), RG_NONE);
	rg_free(g);
}
END_TEST

START_TEST(test_builder_limits)
{
	rg_builder *b;
	ck_assert_int_eq(rg_builder_new(&b, UINT32_MAX), -1);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(rg_builder_new(&b, 3), 0);
	ck_assert_int_eq(rg_builder_add(b, 3, 0, 0, 0, 0), -1);
	ck_assert_int_eq(rg_builder_add(b, 0, 3, 0, 0, 0), -1);
	ck_assert_int_eq(rg_builder_add(b, RG_NONE, 0, 0, 0, 0), -1);
	/* Enough edges to grow several times. */
	int rc = 0;
	for (uint32_t i = 0; i < 100000; i++)
		rc |= rg_builder_add(b, i % 3, (i / 3) % 3, 0, 0, i);
	ck_assert_int_eq(rc, 0);
	rg_graph *g;
	ck_assert_int_eq(rg_build(&g, b), 0);
	ck_assert_uint_eq(rg_edge_count(g), 100000);
	rg_edge s, e;
	rg_out(g, 2, &s, &e);
	uint32_t prev = 0;
	ck_assert_uint_eq(e - s, 33333);
	for (rg_edge x = s; x < e; x++) {
		if (rg_edge_label(g, x) % 3 != 2 || (x > s && rg_edge_label(g, x) <= prev))
			ck_abort_msg("edge %llu out of order", (unsigned long long)x);
		prev = rg_edge_label(g, x);
	}
	rg_free(g);

	/* Empty graphs. */
	ck_assert_int_eq(rg_builder_new(&b, 0), 0);
	ck_assert_int_eq(rg_build(&g, b), 0);
	ck_assert_uint_eq(rg_edge_count(g), 0);
	rg_id *idom;
	ck_assert_int_eq(rg_dominators(g, NULL, 0, &idom), 0);
	free(idom);
	rg_free(g);
	rg_builder_free(NULL);
	rg_free(NULL);
}
END_TEST

START_TEST(test_reverse)
{
	static const E es[] = {
		{2, 0, 0, 0, 0}, {0, 1, 0, 0, 1}, {1, 0, 0, 0, 2}, {0, 0, 0, 0, 3}, {2, 1, 0, 0, 4},
	};
	rg_graph *g = build(4, es, NE(es));
	const rg_edge *in;
	size_t n;
	ck_assert_int_eq(rg_in(g, 0, &in, &n), 0);
	/* Edge numbers: 0: 0->1, 1: 0->0, 2: 1->0, 3: 2->0, 4: 2->1. */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(in[0], 1);
	ck_assert_uint_eq(in[1], 2);
	ck_assert_uint_eq(in[2], 3);
	ck_assert_uint_eq(rg_edge_label(g, in[2]), 0);
	ck_assert_int_eq(rg_in(g, 1, &in, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(rg_edge_src(g, in[0]), 0);
	ck_assert_uint_eq(rg_edge_src(g, in[1]), 2);
	ck_assert_int_eq(rg_in(g, 3, &in, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(rg_in(g, 2, &in, &n), 0);
	ck_assert_uint_eq(n, 0);
	rg_free(g);
}
END_TEST

/* ---- breadth-first search ---- */

static int skip_calls[16];
static int skip_set(rg_id n, void *payload)
{
	const uint32_t *mask = payload;
	skip_calls[n]++;
	return (*mask >> n) & 1;
}

START_TEST(test_bfs_diamond)
{
	/* 0 -> 1 -> 3 -> 4, 0 -> 2 -> 3; 5 unreached, 5 -> 4. */
	static const E es[] = {
		{0, 1, 0, 0, 0}, {0, 2, 0, 0, 0}, {1, 3, 0, 0, 0}, {2, 3, 0, 0, 0}, {3, 4, 0, 0, 0},
		{5, 4, 0, 0, 0},
	};
	rg_graph *g = build(6, es, NE(es));
	rg_id root = 0;
	rg_edge *pe;
	uint32_t *dist;
	ck_assert_int_eq(rg_bfs(g, &root, 1, NULL, NULL, &pe, &dist), 0);
	const uint32_t want[] = {0, 1, 1, 2, 3, UINT32_MAX};
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(dist[i], want[i]);
	ck_assert_uint_eq(pe[0], RG_EDGE_NONE);
	ck_assert_uint_eq(pe[5], RG_EDGE_NONE);
	rg_edge *path;
	size_t len;
	ck_assert_int_eq(rg_path(g, pe, 4, &path, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(rg_edge_src(g, path[0]), 0);
	ck_assert_uint_eq(rg_edge_dst(g, path[0]), 1);  /* first reached through 1 */
	ck_assert_uint_eq(rg_edge_dst(g, path[1]), 3);
	ck_assert_uint_eq(rg_edge_dst(g, path[2]), 4);
	free(path);
	/* A root: empty path.  Unreached: also empty, told apart by dist. */
	ck_assert_int_eq(rg_path(g, pe, 0, &path, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(rg_path(g, pe, 5, &path, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(rg_path(g, pe, 6, &path, &len), -1);
	free(pe);
	free(dist);

	/* Skip 1: 3 is reached through 2; each node offered once. */
	uint32_t mask = 1u << 1;
	memset(skip_calls, 0, sizeof skip_calls);
	ck_assert_int_eq(rg_bfs(g, &root, 1, skip_set, &mask, &pe, &dist), 0);
	ck_assert_uint_eq(dist[1], UINT32_MAX);
	ck_assert_uint_eq(dist[3], 2);
	ck_assert_uint_eq(dist[4], 3);
	ck_assert_uint_eq(rg_edge_src(g, pe[3]), 2);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(skip_calls[i], 1);
	ck_assert_int_eq(skip_calls[5], 0);
	ck_assert_int_eq(rg_path(g, pe, 4, &path, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(rg_edge_dst(g, path[0]), 2);
	free(path);
	free(pe);
	free(dist);

	/* Skip the root itself: nothing reached. */
	mask = 1u;
	ck_assert_int_eq(rg_bfs(g, &root, 1, skip_set, &mask, &pe, &dist), 0);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(dist[i], UINT32_MAX);
	free(pe);
	free(dist);

	/* Two roots, one repeated: distances from the nearest. */
	rg_id roots[] = {5, 0, 5};
	ck_assert_int_eq(rg_bfs(g, roots, 3, NULL, NULL, &pe, &dist), 0);
	ck_assert_uint_eq(dist[4], 1);
	ck_assert_uint_eq(dist[5], 0);
	ck_assert_uint_eq(dist[3], 2);
	free(pe);
	free(dist);
	rg_free(g);
}
END_TEST

START_TEST(test_bfs_cycle_weak)
{
	/* 0 -> 1 -> 2 -> 0 cycle, 2 -> 3; 0 -> 3 weak; 1 -> 4 weak only. */
	static const E es[] = {
		{0, 1, 0, 0, 0}, {1, 2, 0, 0, 0}, {2, 0, 0, 0, 0}, {2, 3, 0, 0, 0},
		{0, 3, 0, RG_WEAK, 0}, {1, 4, 0, RG_WEAK, 0}, {3, 3, 0, 0, 0},
	};
	rg_graph *g = build(5, es, NE(es));
	rg_id root = 1;
	rg_edge *pe;
	uint32_t *dist;
	ck_assert_int_eq(rg_bfs(g, &root, 1, NULL, NULL, &pe, &dist), 0);
	const uint32_t want[] = {2, 0, 1, 2, UINT32_MAX};
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(dist[i], want[i]);
	rg_edge *path;
	size_t len;
	ck_assert_int_eq(rg_path(g, pe, 3, &path, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_uint_eq(rg_edge_src(g, path[0]), 1);
	ck_assert_uint_eq(rg_edge_src(g, path[1]), 2);
	ck_assert(!(rg_edge_flags(g, path[1]) & RG_WEAK));
	free(path);
	free(pe);
	free(dist);
	rg_free(g);
}
END_TEST

/* ---- dominators ---- */

static void check_idom(const rg_graph *g, const rg_id *roots, size_t nroots, const rg_id *want)
{
	rg_id *idom;
	ck_assert_int_eq(rg_dominators(g, roots, nroots, &idom), 0);
	for (uint32_t i = 0; i < rg_node_count(g); i++)
		ck_assert_msg(idom[i] == want[i], "idom[%u] = %d, want %d", i, (int)idom[i],
			      (int)want[i]);
	free(idom);
}

#define X RG_NONE

START_TEST(test_dom_chk_figures)
{
	/* Cooper, Harvey & Kennedy, figure 2 (nodes by their postorder
	 * numbers 1..5, 5 the entry; node 0 unused) and figure 4 (1..6, 6 the
	 * entry): irreducible, everything is dominated by the entry only. */
	static const E f2[] = {
		{5, 4, 0, 0, 0}, {5, 3, 0, 0, 0}, {4, 1, 0, 0, 0}, {3, 2, 0, 0, 0},
		{1, 2, 0, 0, 0}, {2, 1, 0, 0, 0},
	};
	rg_graph *g = build(6, f2, NE(f2));
	rg_id root = 5;
	const rg_id want2[] = {X, 5, 5, 5, 5, X};
	check_idom(g, &root, 1, want2);
	rg_free(g);

	static const E f4[] = {
		{6, 5, 0, 0, 0}, {6, 4, 0, 0, 0}, {5, 1, 0, 0, 0}, {4, 2, 0, 0, 0}, {4, 3, 0, 0, 0},
		{1, 2, 0, 0, 0}, {2, 1, 0, 0, 0}, {2, 3, 0, 0, 0}, {3, 2, 0, 0, 0},
	};
	g = build(7, f4, NE(f4));
	root = 6;
	const rg_id want4[] = {X, 6, 6, 6, 6, 6, X};
	check_idom(g, &root, 1, want4);
	rg_free(g);
}
END_TEST

START_TEST(test_dom_lt_figure)
{
	/* Lengauer & Tarjan, figure 1: R A B C D E F G H I J K L. */
	enum { R, A, B, C, D, Ee, F, G, H, I, J, K, L, NN };
	static const E es[] = {
		{R, A, 0, 0, 0}, {R, B, 0, 0, 0}, {R, C, 0, 0, 0}, {A, D, 0, 0, 0},
		{B, A, 0, 0, 0}, {B, D, 0, 0, 0}, {B, Ee, 0, 0, 0}, {C, F, 0, 0, 0},
		{C, G, 0, 0, 0}, {D, L, 0, 0, 0}, {Ee, H, 0, 0, 0}, {F, I, 0, 0, 0},
		{G, I, 0, 0, 0}, {G, J, 0, 0, 0}, {H, Ee, 0, 0, 0}, {H, K, 0, 0, 0},
		{I, K, 0, 0, 0}, {J, I, 0, 0, 0}, {K, I, 0, 0, 0}, {K, R, 0, 0, 0},
		{L, H, 0, 0, 0},
	};
	rg_graph *g = build(NN, es, NE(es));
	rg_id root = R;
	const rg_id want[NN] = {
		[R] = X, [A] = R, [B] = R, [C] = R, [D] = R, [Ee] = R, [F] = C,
		[G] = C, [H] = R, [I] = R, [J] = G, [K] = R, [L] = D,
	};
	check_idom(g, &root, 1, want);

	/* Retained sizes: node i weighs 1 << i. */
	rg_id *idom;
	ck_assert_int_eq(rg_dominators(g, &root, 1, &idom), 0);
	uint64_t sizes[NN], *ret;
	for (int i = 0; i < NN; i++)
		sizes[i] = 1ull << i;
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), 0);
	ck_assert_uint_eq(ret[R], (1ull << NN) - 1);
	ck_assert_uint_eq(ret[C], sizes[C] + sizes[F] + sizes[G] + sizes[J]);
	ck_assert_uint_eq(ret[G], sizes[G] + sizes[J]);
	ck_assert_uint_eq(ret[D], sizes[D] + sizes[L]);
	ck_assert_uint_eq(ret[I], sizes[I]);
	free(ret);
	free(idom);
	rg_free(g);
}
END_TEST

START_TEST(test_dom_multi_root)
{
	/* Roots 0 and 1 both reach 2; 2 -> 3; 0 -> 4 -> 3 weak; 0 -> 6 weak
	 * only; 5 unreachable, 5 -> 3 and 5 -> 4; 7 -> 8 unreachable chain;
	 * 4 -> 9 -> 10, 4 -> 10. */
	static const E es[] = {
		{0, 2, 0, 0, 0}, {1, 2, 0, 0, 0}, {2, 3, 0, 0, 0}, {0, 4, 0, 0, 0},
		{4, 3, 0, RG_WEAK, 0}, {0, 6, 0, RG_WEAK, 0}, {5, 3, 0, 0, 0}, {5, 4, 0, 0, 0},
		{7, 8, 0, 0, 0}, {4, 9, 0, 0, 0}, {9, 10, 0, 0, 0}, {4, 10, 0, 0, 0},
		{10, 0, 0, 0, 0},
	};
	rg_graph *g = build(11, es, NE(es));
	rg_id roots[] = {0, 1, 0, 77};
	const rg_id want[] = {X, X, X, 2, 0, X, X, X, X, 4, 4};
	check_idom(g, roots, 4, want);

	/* Roots 0 and 2 only: 1 is unreachable. */
	rg_id roots2[] = {2, 0};
	const rg_id want2[] = {X, X, X, 2, 0, X, X, X, X, 4, 4};
	check_idom(g, roots2, 2, want2);

	/* Telling "dominated by the virtual root" from "unreachable". */
	rg_edge *pe;
	uint32_t *dist;
	ck_assert_int_eq(rg_bfs(g, roots, 4, NULL, NULL, &pe, &dist), 0);
	ck_assert_uint_ne(dist[2], UINT32_MAX);
	ck_assert_uint_eq(dist[5], UINT32_MAX);
	ck_assert_uint_eq(dist[6], UINT32_MAX);
	free(pe);
	free(dist);

	/* Retained: unreachable nodes keep their own size only. */
	rg_id *idom;
	ck_assert_int_eq(rg_dominators(g, roots, 4, &idom), 0);
	uint64_t sizes[11], *ret;
	for (int i = 0; i < 11; i++)
		sizes[i] = 10 + i;
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), 0);
	ck_assert_uint_eq(ret[0], 10 + 14 + 19 + 20);
	ck_assert_uint_eq(ret[2], 12 + 13);
	ck_assert_uint_eq(ret[5], 15);
	ck_assert_uint_eq(ret[7], 17);
	ck_assert_uint_eq(ret[6], 16);
	ck_assert_uint_eq(ret[1], 11);
	free(ret);
	/* A bad idom array is refused. */
	idom[3] = 3;
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), -1);
	idom[3] = 11;
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), -1);
	free(idom);
	rg_free(g);
}
END_TEST

/* Random graph with n nodes, about deg * n edges (some weak), a few roots;
 * edges mostly to nearby ids so that dominator trees get deep. */
static rg_graph *random_graph(uint32_t n, double deg, uint64_t seed, rg_id *roots, size_t nroots)
{
	rng_state = seed;
	rg_builder *b;
	ck_assert_int_eq(rg_builder_new(&b, n), 0);
	uint64_t m = (uint64_t)(deg * n);
	for (uint64_t i = 0; i < m; i++) {
		rg_id s = (rg_id)(rnd() % n), d;
		uint64_t r = rnd();
		if (r % 4 == 0)
			d = (rg_id)(rnd() % n);
		else
			d = (rg_id)((s + 1 + (r >> 8) % 8) % n);
		if (rg_builder_add(b, s, d, 0, (r >> 40) % 10 == 0 ? RG_WEAK : 0, (uint32_t)i))
			ck_abort_msg("rg_builder_add failed");
	}
	rg_graph *g;
	ck_assert_int_eq(rg_build(&g, b), 0);
	for (size_t i = 0; i < nroots; i++)
		roots[i] = (rg_id)(rnd() % n);
	return g;
}

/* Reached nodes from roots over non-weak edges, avoiding `removed`. */
static void reach(const rg_graph *g, const rg_id *roots, size_t nroots, rg_id removed,
		  uint8_t *seen, rg_id *queue)
{
	uint32_t n = rg_node_count(g);
	memset(seen, 0, n);
	size_t h = 0, t = 0;
	for (size_t i = 0; i < nroots; i++)
		if (roots[i] != removed && !seen[roots[i]]) {
			seen[roots[i]] = 1;
			queue[t++] = roots[i];
		}
	while (h < t) {
		rg_id u = queue[h++];
		rg_edge b, e;
		rg_out(g, u, &b, &e);
		for (; b < e; b++) {
			rg_id v = rg_edge_dst(g, b);
			if ((rg_edge_flags(g, b) & RG_WEAK) || v == removed || seen[v])
				continue;
			seen[v] = 1;
			queue[t++] = v;
		}
	}
}

START_TEST(test_dom_naive)
{
	/* d strictly dominates v iff v is reachable but not once d is removed;
	 * those must be exactly v's proper ancestors in the computed tree. */
	const uint32_t n = 2000;
	static const double degs[] = {1.6, 2.0, 3.0};
	for (int round = 0; round < 6; round++) {
		rg_id roots[8];
		size_t nroots = 2 + round;
		rg_graph *g = random_graph(n, degs[round % 3], 1000 + round, roots, nroots);
		rg_id *idom;
		ck_assert_int_eq(rg_dominators(g, roots, nroots, &idom), 0);
		uint8_t *all = malloc(n), *cut = malloc(n);
		rg_id *queue = malloc(n * sizeof *queue);
		uint8_t *anc = calloc((size_t)n * n, 1);  /* anc[v*n+d]: d strictly dominates v */
		reach(g, roots, nroots, RG_NONE, all, queue);
		size_t nreach = 0;
		int maxdepth = 0;
		for (uint32_t v = 0; v < n; v++) {
			nreach += all[v];
			if (!all[v]) {
				if (idom[v] != RG_NONE)
					ck_abort_msg("unreached %u has idom %u", v, idom[v]);
				continue;
			}
			int steps = 0;
			for (rg_id d = idom[v]; d != RG_NONE; d = idom[d]) {
				if (!all[d] || ++steps >= (int)n)
					ck_abort_msg("bad idom chain from %u at %u", v, d);
				anc[(size_t)v * n + d] = 1;
			}
			maxdepth = steps > maxdepth ? steps : maxdepth;
		}
		ck_assert_uint_gt(nreach, n / 4);
		ck_assert_int_gt(maxdepth, 3);
		for (uint32_t d = 0; d < n; d++) {
			if (!all[d])
				continue;
			reach(g, roots, nroots, d, cut, queue);
			for (uint32_t v = 0; v < n; v++) {
				if (!all[v] || v == d)
					continue;
				if (anc[(size_t)v * n + d] != !cut[v])
					ck_abort_msg("round %d: %u dominates %u: naive %d, tree %d",
						     round, d, v, !cut[v], anc[(size_t)v * n + d]);
			}
		}
		free(anc);
		free(all);
		free(cut);
		free(queue);
		free(idom);
		rg_free(g);
	}
}
END_TEST

/* Pre/post numbers of the dominator tree (forest), iteratively: d is an
 * ancestor-or-self of u iff pre[d] <= pre[u] && post[u] <= post[d]. */
static void tree_intervals(uint32_t n, const rg_id *idom, uint32_t *pre, uint32_t *post)
{
	uint32_t *cidx = calloc((size_t)n + 1, sizeof *cidx), *child = malloc(n * sizeof *child);
	uint32_t *stack = malloc(n * sizeof *stack), *cur = calloc(n, sizeof *cur);
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			cidx[idom[i] + 1]++;
	for (uint32_t i = 0; i < n; i++)
		cidx[i + 1] += cidx[i];
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] != RG_NONE)
			child[cidx[idom[i]] + cur[idom[i]]++] = i;
	memset(cur, 0, n * sizeof *cur);
	uint32_t clock = 0;
	for (uint32_t r = 0; r < n; r++) {
		if (idom[r] != RG_NONE)
			continue;
		size_t sp = 0;
		stack[sp++] = r;
		pre[r] = clock++;
		while (sp) {
			uint32_t u = stack[sp - 1];
			if (cidx[u] + cur[u] < cidx[u + 1]) {
				uint32_t c = child[cidx[u] + cur[u]++];
				pre[c] = clock++;
				stack[sp++] = c;
			} else {
				post[u] = clock++;
				sp--;
			}
		}
	}
	free(cidx);
	free(child);
	free(stack);
	free(cur);
}

START_TEST(test_dom_random_large)
{
	/* 200k nodes: every reached node's chain ends at a reached node, and
	 * for every non-weak edge u -> v from a reached node, idom(v) is an
	 * ancestor-or-self of u (else u -> v would bypass it).  Tightness is
	 * the naive test's job.  Retained sizes with unit sizes are subtree
	 * sizes. */
	const uint32_t n = 200000;
	rg_id roots[1];
	rg_graph *g = random_graph(n, 3.0, 77, roots, 1);
	rg_id *idom;
	ck_assert_int_eq(rg_dominators(g, roots, 1, &idom), 0);
	rg_edge *pe;
	uint32_t *dist;
	ck_assert_int_eq(rg_bfs(g, roots, 1, NULL, NULL, &pe, &dist), 0);
	uint32_t *pre = malloc(n * sizeof *pre), *post = malloc(n * sizeof *post);
	tree_intervals(n, idom, pre, post);
	size_t checked = 0;
	for (uint32_t u = 0; u < n; u++) {
		if (dist[u] == UINT32_MAX) {
			if (idom[u] != RG_NONE)
				ck_abort_msg("unreached %u has idom %u", u, idom[u]);
			continue;
		}
		if (idom[u] != RG_NONE && dist[idom[u]] == UINT32_MAX)
			ck_abort_msg("idom of %u unreached", u);
		rg_edge b, e;
		rg_out(g, u, &b, &e);
		for (; b < e; b++) {
			if (rg_edge_flags(g, b) & RG_WEAK)
				continue;
			rg_id v = rg_edge_dst(g, b), d = idom[v];
			if (d == RG_NONE)
				continue;
			/* d is an ancestor-or-self of u */
			if (!(pre[d] <= pre[u] && post[u] <= post[d]))
				ck_abort_msg("edge %u -> %u: idom %u not above %u", u, v, d, u);
			checked++;
		}
	}
	ck_assert_uint_gt(checked, n);
	uint64_t *sizes = malloc(n * sizeof *sizes), *ret;
	for (uint32_t i = 0; i < n; i++)
		sizes[i] = 1;
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), 0);
	/* Retained count of d is the size of its subtree: (post - pre + 1) / 2. */
	for (uint32_t i = 0; i < n; i++)
		if (ret[i] != (post[i] - pre[i] + 1) / 2)
			ck_abort_msg("retained[%u] = %llu, subtree %u", i,
				     (unsigned long long)ret[i], (post[i] - pre[i] + 1) / 2);
	/* the in-place version over the dominators' preorder gives the same,
	 * with sizes that are not all equal */
	rg_id *idom2, *order;
	uint32_t norder;
	ck_assert_int_eq(rg_dominators_order(g, roots, 1, &idom2, &order, &norder), 0);
	ck_assert_int_eq(memcmp(idom, idom2, n * sizeof *idom), 0);
	size_t reached = 0;
	for (uint32_t i = 0; i < n; i++) {
		sizes[i] = 1 + i % 97;
		reached += dist[i] != UINT32_MAX;
	}
	ck_assert_uint_eq(norder, reached);
	free(ret);
	ck_assert_int_eq(rg_retained(g, idom, sizes, &ret), 0);
	ck_assert_int_eq(rg_retain_sizes(g, idom2, order, norder, sizes), 0);
	for (uint32_t i = 0; i < n; i++)
		if (ret[i] != sizes[i])
			ck_abort_msg("in place: retained[%u] = %llu, want %llu", i,
				     (unsigned long long)sizes[i], (unsigned long long)ret[i]);
	free(idom2);
	free(order);
	free(ret);
	free(sizes);
	free(pre);
	free(post);
	free(pe);
	free(dist);
	free(idom);
	rg_free(g);
}
END_TEST

START_TEST(test_dom_deep_list)
{
	/* root -> dict D -> v_i for all i; root -> list head n_0 -> n_1 ->
	 * ... with n_i -> v_i and n_{i+1} -> n_i: quadratic for CHK (each
	 * intersection walks the list back), must stay fast here. */
	const uint32_t L = 200000;
	/* ids: 0 root, 1 D, 2 + i list nodes, 2 + L + i values */
	uint32_t n = 2 + 2 * L;
	rg_builder *b;
	ck_assert_int_eq(rg_builder_new(&b, n), 0);
	ck_assert_int_eq(rg_builder_add(b, 0, 2, 0, 0, 0), 0);
	ck_assert_int_eq(rg_builder_add(b, 0, 1, 0, 0, 0), 0);
	int rc = 0;
	for (uint32_t i = 0; i < L; i++) {
		rc |= rg_builder_add(b, 1, 2 + L + i, 0, 0, 0);
		if (i + 1 < L) {
			rc |= rg_builder_add(b, 2 + i, 3 + i, 0, 0, 0);
			rc |= rg_builder_add(b, 3 + i, 2 + i, 0, 0, 0);
		}
		rc |= rg_builder_add(b, 2 + i, 2 + L + i, 0, 0, 0);
	}
	ck_assert_int_eq(rc, 0);
	rg_graph *g;
	ck_assert_int_eq(rg_build(&g, b), 0);
	rg_id root = 0, *idom;
	/* a quadratic algorithm takes minutes here: the test's timeout fails it */
	ck_assert_int_eq(rg_dominators(g, &root, 1, &idom), 0);
	ck_assert_uint_eq(idom[1], 0);
	ck_assert_uint_eq(idom[2], 0);
	for (uint32_t i = 0; i < L; i++) {
		if (idom[2 + L + i] != 0)  /* D and n_i meet at the root */
			ck_abort_msg("idom[v_%u] = %u", i, idom[2 + L + i]);
		if (i && idom[2 + i] != 1 + i)
			ck_abort_msg("idom[n_%u] = %u", i, idom[2 + i]);
	}
	free(idom);
	rg_free(g);
}
END_TEST

/* ---- backward neighbourhood ---- */

static int in_mask(rg_id n, void *payload)
{
	const uint32_t *mask = payload;
	return n < 32 && ((*mask >> n) & 1);
}

struct two_masks {
	uint32_t stop, hide;
};
static int stop_fn(rg_id n, void *p)
{
	return in_mask(n, &((struct two_masks *)p)->stop);
}
static int hide_fn(rg_id n, void *p)
{
	return in_mask(n, &((struct two_masks *)p)->hide);
}

static int has_edge(const rg_graph *g, const rg_edge *es, size_t n, rg_id s, rg_id d)
{
	for (size_t i = 0; i < n; i++)
		if (rg_edge_src(g, es[i]) == s && rg_edge_dst(g, es[i]) == d)
			return 1;
	return 0;
}

START_TEST(test_backrefs)
{
	/* Into target 0: 1 -> 0, 2 -> 1, 3 -> 2, 4 -> 3 (a chain), 5 -> 0 weak,
	 * 6 -> 5, module 7 -> 0 with 8 -> 7, hidden 9 -> 0 with 10 -> 9, cycle
	 * 0 -> 1, and 6 -> 1. */
	static const E es[] = {
		{1, 0, 0, 0, 0}, {2, 1, 0, 0, 0}, {3, 2, 0, 0, 0}, {4, 3, 0, 0, 0},
		{5, 0, 0, RG_WEAK, 0}, {6, 5, 0, 0, 0}, {7, 0, 0, 0, 0}, {8, 7, 0, 0, 0},
		{9, 0, 0, 0, 0}, {10, 9, 0, 0, 0}, {0, 1, 0, 0, 0}, {6, 1, 0, 0, 0},
	};
	rg_graph *g = build(11, es, NE(es));
	struct two_masks mk = {1u << 7, 1u << 9};
	rg_id tgt = 0, *nodes;
	rg_edge *edges;
	size_t nn, ne;

	/* depth 0: the target alone */
	ck_assert_int_eq(rg_backrefs(g, &tgt, 1, 0, 100, stop_fn, hide_fn, &mk, &nodes, &nn,
				     &edges, &ne), 0);
	ck_assert_uint_eq(nn, 1);
	ck_assert_uint_eq(nodes[0], 0);
	ck_assert_uint_eq(ne, 0);
	free(nodes);
	free(edges);

	/* depth 1: 0 and its referrers but the hidden one; edges into 0. */
	ck_assert_int_eq(rg_backrefs(g, &tgt, 1, 1, 100, stop_fn, hide_fn, &mk, &nodes, &nn,
				     &edges, &ne), 0);
	ck_assert_uint_eq(nn, 4);
	ck_assert_uint_eq(nodes[0], 0);
	ck_assert_uint_eq(nodes[1], 1);
	ck_assert_uint_eq(nodes[2], 5);
	ck_assert_uint_eq(nodes[3], 7);
	ck_assert_uint_eq(ne, 3);
	ck_assert(has_edge(g, edges, ne, 1, 0));
	ck_assert(has_edge(g, edges, ne, 5, 0));
	ck_assert(has_edge(g, edges, ne, 7, 0));
	free(nodes);
	free(edges);

	/* depth 2: 2 and 6 come in, not 8 (7 is a stop), not 10 (9 hidden);
	 * edges 0 -> 1 (cycle), 2 -> 1, 6 -> 1, 6 -> 5. */
	ck_assert_int_eq(rg_backrefs(g, &tgt, 1, 2, 100, stop_fn, hide_fn, &mk, &nodes, &nn,
				     &edges, &ne), 0);
	ck_assert_uint_eq(nn, 6);
	ck_assert_uint_eq(nodes[4], 2);
	ck_assert_uint_eq(nodes[5], 6);
	ck_assert_uint_eq(ne, 7);
	ck_assert(has_edge(g, edges, ne, 0, 1));
	ck_assert(has_edge(g, edges, ne, 2, 1));
	ck_assert(has_edge(g, edges, ne, 6, 1));
	ck_assert(has_edge(g, edges, ne, 6, 5));
	ck_assert(!has_edge(g, edges, ne, 8, 7));
	free(nodes);
	free(edges);

	/* No callbacks, deep: everything. */
	ck_assert_int_eq(rg_backrefs(g, &tgt, 1, 50, 0, NULL, NULL, NULL, &nodes, &nn, &edges,
				     &ne), 0);
	ck_assert_uint_eq(nn, 11);
	ck_assert_uint_eq(ne, NE(es));
	free(nodes);
	free(edges);

	/* max_nodes 3: 0, 1, 5; edges among them still collected while the
	 * queued nodes are expanded (1 -> 0, 5 -> 0, 0 -> 1). */
	ck_assert_int_eq(rg_backrefs(g, &tgt, 1, 5, 3, stop_fn, hide_fn, &mk, &nodes, &nn,
				     &edges, &ne), 0);
	ck_assert_uint_eq(nn, 3);
	ck_assert_uint_eq(nodes[2], 5);
	ck_assert_uint_eq(ne, 3);
	ck_assert(has_edge(g, edges, ne, 0, 1));
	free(nodes);
	free(edges);

	/* Several targets, one repeated, one out of range; a target that is a
	 * stop node is still expanded. */
	rg_id tg[] = {7, 3, 7, 99};
	ck_assert_int_eq(rg_backrefs(g, tg, 4, 1, 100, stop_fn, hide_fn, &mk, &nodes, &nn,
				     &edges, &ne), 0);
	ck_assert_uint_eq(nn, 4);
	ck_assert_uint_eq(nodes[0], 7);
	ck_assert_uint_eq(nodes[1], 3);
	ck_assert_uint_eq(nodes[2], 8);
	ck_assert_uint_eq(nodes[3], 4);
	ck_assert_uint_eq(ne, 2);
	free(nodes);
	free(edges);
	rg_free(g);
}
END_TEST

/* ---- Graphviz output ---- */

static long slurp_all(const char *path, char **buf)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*buf = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(*buf, 1, (size_t)n, f), (size_t)n);
	(*buf)[n] = 0;
	fclose(f);
	return n;
}

static const char *const LABEL1 = "dict @ 0x7f00\nsize 232 \"quoted\"\ncaf\xc3\xa9 \xe2\x82\xac <&> a\\nb";

static rg_dot *sample_dot(void)
{
	rg_dot *d;
	ck_assert_int_eq(rg_dot_new(&d, "refs"), 0);
	ck_assert_int_eq(rg_dot_node(d, 1, LABEL1, RG_DOT_TARGET), 0);
	ck_assert_int_eq(rg_dot_node(d, 2, "module foo", RG_DOT_MODULE | RG_DOT_ROOT), 0);
	ck_assert_int_eq(rg_dot_node(d, 0xffffffffffull, "list\nbad \xff byte\ttab", 0), 0);
	ck_assert_int_eq(rg_dot_edge(d, 2, 1, "['x']", 0), 0);
	ck_assert_int_eq(rg_dot_edge(d, 0xffffffffffull, 1, NULL, RG_DOT_DASHED), 0);
	ck_assert_int_eq(rg_dot_edge(d, 0xffffffffffull, 2, "?", RG_DOT_DOTTED), 0);
	ck_assert_int_eq(rg_dot_edge(d, 2, 1, "second", 0), 0);
	ck_assert_int_eq(rg_dot_edge(d, 3, 1, NULL, 0), -1);
	return d;
}

static void tmp_path(char *buf, size_t cap, const char *ext)
{
	snprintf(buf, cap, "%s/check_graph_%ld.%s", TU_TMP(), (long)getpid(), ext);
}

START_TEST(test_dot_file)
{
	rg_dot *d = sample_dot();
	char path[4096], err[256];
	tmp_path(path, sizeof path, "dot");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	rg_dot_free(d);
	char *text;
	slurp_all(path, &text);
	ck_assert_ptr_nonnull(strstr(text, "digraph"));
	ck_assert_ptr_nonnull(strstr(text, "n1"));
	ck_assert_ptr_nonnull(strstr(text, "n1099511627775"));
	ck_assert_ptr_nonnull(strstr(text, "dict @ 0x7f00\\nsize 232 \\\"quoted\\\""));
	ck_assert_ptr_nonnull(strstr(text, "caf\xc3\xa9 \xe2\x82\xac <&> a\\\\nb"));
	ck_assert_ptr_nonnull(strstr(text, "bad ? byte?tab"));
	ck_assert_ptr_nonnull(strstr(text, "dashed"));
	ck_assert_ptr_nonnull(strstr(text, "dotted"));
	ck_assert_ptr_nonnull(strstr(text, "lightblue"));
	ck_assert_ptr_nonnull(strstr(text, "box"));
	free(text);

	/* Graphviz reads it back: 3 nodes, 4 edges, the label intact. */
	FILE *f = fopen(path, "r");
	Agraph_t *g = agread(f, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(agnnodes(g), 3);
	ck_assert_int_eq(agnedges(g), 4);
	Agnode_t *n = agnode(g, (char *)"n1", 0);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(agget(n, (char *)"label"),
			 "dict @ 0x7f00\\nsize 232 \"quoted\"\\ncaf\xc3\xa9 \xe2\x82\xac <&> a\\\\nb");
	agclose(g);
	unlink(path);

	/* .gv too, in upper case. */
	d = sample_dot();
	tmp_path(path, sizeof path, "GV");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(access(path, R_OK), 0);
	unlink(path);
	rg_dot_free(d);
}
END_TEST

START_TEST(test_dot_render)
{
	rg_dot *d = sample_dot();
	char path[4096], err[256];
	char *buf;

	tmp_path(path, sizeof path, "svg");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	slurp_all(path, &buf);
	ck_assert_ptr_nonnull(strstr(buf, "<svg"));
	ck_assert_ptr_nonnull(strstr(buf, "dict @ 0x7f00"));
	ck_assert_ptr_nonnull(strstr(buf, "module foo"));
	ck_assert_ptr_nonnull(strstr(buf, "&lt;&amp;&gt; a\\nb"));
	ck_assert_ptr_nonnull(strstr(buf, "caf\xc3\xa9"));
	ck_assert_ptr_nonnull(strstr(buf, "&quot;quoted&quot;"));
	free(buf);
	unlink(path);

	tmp_path(path, sizeof path, "png");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	long n = slurp_all(path, &buf);
	ck_assert_int_gt(n, 100);
	ck_assert_int_eq(memcmp(buf, "\x89PNG\r\n\x1a\n", 8), 0);
	free(buf);
	unlink(path);

	tmp_path(path, sizeof path, "pdf");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	n = slurp_all(path, &buf);
	ck_assert_int_gt(n, 100);
	ck_assert_int_eq(memcmp(buf, "%PDF", 4), 0);
	free(buf);
	unlink(path);

	/* Rendering twice from one rg_dot works. */
	tmp_path(path, sizeof path, "svg");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	unlink(path);
	rg_dot_free(d);
}
END_TEST

START_TEST(test_dot_errors)
{
	rg_dot *d = sample_dot();
	char path[4096], err[256];
	tmp_path(path, sizeof path, "jpeg");
	ck_assert_int_eq(rg_dot_write(d, path, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown extension"));
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_int_eq(rg_dot_write(d, "noext", err, sizeof err), -1);
	ck_assert_int_eq(rg_dot_write(d, "dir.d/noext", err, sizeof err), -1);
	ck_assert_int_eq(rg_dot_write(d, "/nonexistent/dir/x.dot", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot write"));
	ck_assert_int_eq(rg_dot_write(d, "/nonexistent/dir/x.svg", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot write"));
	ck_assert_int_eq(rg_dot_write(d, "/nonexistent/dir/x.png", err, sizeof err), -1);
	rg_dot_free(d);
	rg_dot_free(NULL);

	/* An empty graph renders too. */
	ck_assert_int_eq(rg_dot_new(&d, NULL), 0);
	tmp_path(path, sizeof path, "svg");
	ck_assert_msg(rg_dot_write(d, path, err, sizeof err) == 0, "%s", err);
	unlink(path);
	rg_dot_free(d);
}
END_TEST

/* Under LeakSanitizer: fontconfig, loaded by Graphviz's pango/cairo
 * renderer for png and pdf, keeps its caches to the end of the process. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static Suite *graph_suite(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("build");
	tcase_set_timeout(tc, 60);   /* not Check's 4 s default: ASan on a loaded host */
	tcase_add_test(tc, test_csr);
	tcase_add_test(tc, test_builder_limits);
	tcase_add_test(tc, test_reverse);
	suite_add_tcase(s, tc);

	tc = tcase_create("walk");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bfs_diamond);
	tcase_add_test(tc, test_bfs_cycle_weak);
	tcase_add_test(tc, test_backrefs);
	suite_add_tcase(s, tc);

	tc = tcase_create("dominators");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dom_chk_figures);
	tcase_add_test(tc, test_dom_lt_figure);
	tcase_add_test(tc, test_dom_multi_root);
	tcase_add_test(tc, test_dom_naive);
	tcase_add_test(tc, test_dom_random_large);
	tcase_add_test(tc, test_dom_deep_list);
	suite_add_tcase(s, tc);

	tc = tcase_create("dot");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dot_file);
	tcase_add_test(tc, test_dot_render);
	tcase_add_test(tc, test_dot_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(graph_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
