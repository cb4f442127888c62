/*
 * scancmp.c - test tool: the totals-only scan (ph_options.totals_only, what
 * `types`, `info` and `arenas` run) against the full scan of the same core.
 *
 *   scancmp [--pool-scan] [--no-dwarf] CORE
 *
 * Both must agree on everything the totals-only scan gives: the outcome
 * (or the same error), the object, byte and GC counts, the GC state, every
 * type's name and totals, the arena statistics and the warnings.  The full
 * scan's per-object table is also summed by type and must equal its own
 * per-type totals.  Prints one line "scancmp: same: ..." and exits 0, or a
 * line per difference and exits 1; 2 for bad usage or an unreadable core.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "pyheap.h"

static int diffs;

static void differ(const char *what, uint64_t full, uint64_t lean)
{
	if (full == lean)
		return;
	if (diffs++ < 20)
		printf("scancmp: %s: full %" PRIu64 ", totals-only %" PRIu64 "\n", what, full, lean);
}

static int scan(const char *path, ph_options po, core_t **c, ph_heap **h, char *err, size_t n)
{
	core_options o = {0};
	*h = NULL;
	if (core_open(c, path, &o, err, n) < 0)
		return -2;
	if (ph_open(h, *c, &po, err, n) < 0)
		return -1;
	return ph_scan(*h, NULL, NULL, err, n);
}

int main(int argc, char **argv)
{
	ph_options po = {0};
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pool-scan") == 0)
			po.pool_scan = 1;
		else if (strcmp(argv[i], "--no-dwarf") == 0)
			po.no_dwarf = 1;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "usage: scancmp [--pool-scan] [--no-dwarf] CORE\n");
		return 2;
	}
	core_t *cf, *cl;
	ph_heap *f, *l;
	char ef[512] = "", el[512] = "";
	int rf = scan(path, po, &cf, &f, ef, sizeof ef);
	po.totals_only = 1;
	int rl = scan(path, po, &cl, &l, el, sizeof el);
	if (rf == -2 || rl == -2) {
		fprintf(stderr, "scancmp: %s\n", rf == -2 ? ef : el);
		return 2;
	}
	if (rf != rl || strcmp(ef, el) != 0) {
		printf("scancmp: outcome: full %d (%s), totals-only %d (%s)\n", rf, ef, rl, el);
		return 1;
	}
	if (rf < 0) {
		printf("scancmp: same: both fail: %s\n", ef);
		return 0;
	}

	differ("objects", ph_object_count(f), ph_object_count(l));
	differ("bytes", ph_total_size(f), ph_total_size(l));
	differ("gc objects", ph_gc_object_count(f), ph_gc_object_count(l));
	const ph_gc_state *gf = ph_gc(f), *gl = ph_gc(l);
	differ("gc state", memcmp(gf, gl, sizeof *gf) != 0, 0);
	differ("arena statistics", memcmp(ph_arenas(f), ph_arenas(l), sizeof *ph_arenas(f)) != 0, 0);
	differ("threads", ph_thread_count(f), ph_thread_count(l));

	size_t nt = ph_type_count(f);
	differ("types", nt, ph_type_count(l));
	uint64_t *cnt = calloc(nt + 1, sizeof *cnt), *sz = calloc(nt + 1, sizeof *sz);
	if (!cnt || !sz)
		return 2;
	for (size_t id = 0; id < ph_object_count(f); id++) {
		uint32_t t = ph_object_type(f, (ph_id)id);
		cnt[t]++;
		sz[t] += ph_object_size(f, (ph_id)id);
	}
	for (size_t t = 0; t < nt && t < ph_type_count(l); t++) {
		uint64_t c1, b1, c2, b2;
		char what[300];
		ph_type_totals(f, (uint32_t)t, &c1, &b1);
		ph_type_totals(l, (uint32_t)t, &c2, &b2);
		if (strcmp(ph_type_name(f, (uint32_t)t), ph_type_name(l, (uint32_t)t)) != 0) {
			snprintf(what, sizeof what, "type %zu named %s and %s", t,
				 ph_type_name(f, (uint32_t)t), ph_type_name(l, (uint32_t)t));
			differ(what, 0, 1);
		}
		snprintf(what, sizeof what, "%s count", ph_type_name(f, (uint32_t)t));
		differ(what, c1, c2);
		snprintf(what, sizeof what, "%s bytes", ph_type_name(f, (uint32_t)t));
		differ(what, b1, b2);
		snprintf(what, sizeof what, "%s: objects of the full scan's table vs its totals",
			 ph_type_name(f, (uint32_t)t));
		differ(what, cnt[t], c1);
		snprintf(what, sizeof what, "%s: bytes of the full scan's table vs its totals",
			 ph_type_name(f, (uint32_t)t));
		differ(what, sz[t], b1);
	}
	free(cnt);
	free(sz);

	size_t nw = ph_warning_kinds(f);
	differ("warning kinds", nw, ph_warning_kinds(l));
	for (size_t i = 0; i < nw && i < ph_warning_kinds(l); i++) {
		char what[700];
		snprintf(what, sizeof what, "warning '%s'", ph_warning_text(f, i));
		differ(what, ph_warning_count(f, i), ph_warning_count(l, i));
		if (strcmp(ph_warning_text(f, i), ph_warning_text(l, i)) != 0) {
			snprintf(what, sizeof what, "warning text '%s' vs '%s'", ph_warning_text(f, i),
				 ph_warning_text(l, i));
			differ(what, 0, 1);
		}
	}
	if (!diffs)
		printf("scancmp: same: %zu objects, %" PRIu64 " bytes, %" PRIu64 " GC objects, "
		       "%zu types, %" PRIu64 " warnings\n", ph_object_count(l), ph_total_size(l),
		       ph_gc_object_count(l), ph_type_count(l), ph_warning_total(l));
	ph_free(f);
	ph_free(l);
	core_free(cf);
	core_free(cl);
	return diffs ? 1 : 0;
}
