/*
 * scancmp.c - test tool: the totals-only scan (ph_options.totals_only, what
 * `types`, `info` and `arenas` run) against the full scan of the same core.
 *
 *   scancmp [--pool-scan] [--no-dwarf] [--debug-dir DIR]... CORE
 *
 * Both must agree on the outcome (or the same error) and on everything the
 * totals-only scan gives (totalscmp.h).  The full
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
#include "totalscmp.h"

static int diffs;

static void differ(const char *what, uint64_t full, uint64_t lean)
{
	if (full == lean)
		return;
	if (diffs++ < 20)
		printf("scancmp: %s: full %" PRIu64 ", totals-only %" PRIu64 "\n", what, full, lean);
}

#define MAX_DEBUG_DIRS 16
static const char *debug_dirs[MAX_DEBUG_DIRS];
static size_t n_debug_dirs;

static int scan(const char *path, ph_options po, core_t **c, ph_heap **h, char *err, size_t n)
{
	core_options o = {0};
	o.debug_dirs = debug_dirs;
	o.n_debug_dirs = n_debug_dirs;
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
		else if (strcmp(argv[i], "--debug-dir") == 0 && i + 1 < argc &&
			 n_debug_dirs < MAX_DEBUG_DIRS)
			debug_dirs[n_debug_dirs++] = argv[++i];
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "usage: scancmp [--pool-scan] [--no-dwarf] [--debug-dir DIR]... CORE\n");
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
		ph_free(f);
		ph_free(l);
		core_free(cf);
		core_free(cl);
		return 0;
	}

	tc_compare(f, l, differ);

	/* the full scan's own table, summed by type, against its totals */
	size_t nt = ph_type_count(f);
	uint64_t *cnt = calloc(nt + 1, sizeof *cnt), *sz = calloc(nt + 1, sizeof *sz);
	if (!cnt || !sz)
		return 2;
	for (size_t id = 0; id < ph_object_count(f); id++) {
		uint32_t t = ph_object_type(f, (ph_id)id);
		cnt[t]++;
		sz[t] += ph_object_size(f, (ph_id)id);
	}
	for (size_t t = 0; t < nt; t++) {
		uint64_t c, b;
		char what[300];
		ph_type_totals(f, (uint32_t)t, &c, &b);
		snprintf(what, sizeof what, "%s: objects of the full scan's table vs its totals",
			 ph_type_name(f, (uint32_t)t));
		differ(what, cnt[t], c);
		snprintf(what, sizeof what, "%s: bytes of the full scan's table vs its totals",
			 ph_type_name(f, (uint32_t)t));
		differ(what, sz[t], b);
	}
	free(cnt);
	free(sz);
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
