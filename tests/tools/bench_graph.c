/*
 * bench_graph.c - time and peak memory of the graph layer on a synthetic
 * heap-like graph.
 *
 *   bench_graph [NODES [EDGES [SEED]]]     defaults: 5000000 12000000 1
 *
 * Edges: three in four go to a nearby id (deep chains, like containers
 * holding their items), one in four anywhere; one in ten is weak.  One
 * root (node 0) plus node 1 as a second root.  Prints the seconds of each
 * step and the peak RSS after it (VmHWM).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
static double cpu0;

static long peak_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static uint64_t rng;
static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Wall and CPU seconds since the previous mark (CPU time is the fairer
 * figure on a busy machine). */
static void step(const char *what, double t0)
{
	double c = cpu();
	printf("%-14s %7.3f s wall %7.3f s cpu   peak RSS %7.1f MiB\n", what, now() - t0,
	       c - cpu0, peak_kb() / 1024.0);
	fflush(stdout);
	cpu0 = cpu();
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 5000000;
	uint64_t m = argc > 2 ? strtoull(argv[2], NULL, 0) : 12000000;
	rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
	if (n < 2) {
		fprintf(stderr, "bench_graph: need at least 2 nodes\n");
		return 2;
	}
	printf("%u nodes, %llu edges\n", n, (unsigned long long)m);

	double t = now();
	cpu0 = cpu();
	rg_builder *b;
	if (rg_builder_new(&b, n) < 0)
		return 1;
	for (uint64_t i = 0; i < m; i++) {
		rg_id s = (rg_id)(rnd() % n), d;
		uint64_t r = rnd();
		d = r % 4 == 0 ? (rg_id)(rnd() % n) : (rg_id)((s + 1 + (r >> 8) % 8) % n);
		if (rg_builder_add(b, s, d, (uint8_t)(r >> 16), (r >> 40) % 10 == 0 ? RG_WEAK : 0,
				   (uint32_t)i) < 0) {
			fprintf(stderr, "bench_graph: out of memory\n");
			return 1;
		}
	}
	step("add", t);

	rg_graph *g;
	t = now();
	if (rg_build(&g, b) < 0)
		return 1;
	step("rg_build", t);

	t = now();
	const rg_edge *in;
	size_t cnt;
	if (rg_in(g, 0, &in, &cnt) < 0)
		return 1;
	step("rg_in", t);

	rg_id roots[2] = {0, 1};
	rg_id *idom;
	t = now();
	if (rg_dominators(g, roots, 2, &idom) < 0)
		return 1;
	step("rg_dominators", t);

	uint64_t *sizes = malloc((size_t)n * sizeof *sizes), *ret;
	for (uint32_t i = 0; i < n; i++)
		sizes[i] = 16 + (i % 7) * 8;
	t = now();
	if (rg_retained(g, idom, sizes, &ret) < 0)
		return 1;
	step("rg_retained", t);

	rg_edge *pe;
	uint32_t *dist;
	t = now();
	if (rg_bfs(g, roots, 2, NULL, NULL, &pe, &dist) < 0)
		return 1;
	step("rg_bfs", t);

	size_t reached = 0, top = 0;
	for (uint32_t i = 0; i < n; i++) {
		reached += dist[i] != UINT32_MAX;
		if (ret[i] > ret[top] && idom[i] != RG_NONE)
			top = i;
	}
	printf("reached %zu; largest retained below the roots: node %zu, %llu bytes\n", reached,
	       top, (unsigned long long)ret[top]);
	free(pe);
	free(dist);
	free(sizes);
	free(ret);
	free(idom);
	rg_free(g);
	return 0;
}
