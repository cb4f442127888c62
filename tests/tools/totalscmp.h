/*
 * totalscmp.h - what a scan for totals only (ph_options.totals_only: what
 * `types`, `info` and `arenas` run) must give as the full scan of the same
 * core does: counts, bytes, GC state, arena statistics, threads, every
 * type's name and totals, every warning's count and text.
 *
 * Shared by tests/tools/scancmp.c (prints each difference) and
 * fuzz/fuzz_heap.c (aborts on one).
 */
#ifndef PYHEAP_TOTALSCMP_H
#define PYHEAP_TOTALSCMP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pyheap.h"

/* Called for every value compared; the callee decides what a difference
 * (full != totals) means.  `what` lives until the next call. */
typedef void (*tc_differ_fn)(const char *what, uint64_t full, uint64_t totals);

static inline void tc_compare(ph_heap *f, ph_heap *t, tc_differ_fn differ)
{
	char what[700];
	differ("objects", ph_object_count(f), ph_object_count(t));
	differ("bytes", ph_total_size(f), ph_total_size(t));
	differ("gc objects", ph_gc_object_count(f), ph_gc_object_count(t));
	differ("gc state", memcmp(ph_gc(f), ph_gc(t), sizeof *ph_gc(f)) != 0, 0);
	differ("arena statistics", memcmp(ph_arenas(f), ph_arenas(t), sizeof *ph_arenas(f)) != 0, 0);
	differ("threads", ph_thread_count(f), ph_thread_count(t));

	size_t nt = ph_type_count(f);
	differ("types", nt, ph_type_count(t));
	for (size_t i = 0; i < nt && i < ph_type_count(t); i++) {
		uint64_t c1, b1, c2, b2;
		const char *name = ph_type_name(f, (uint32_t)i);
		ph_type_totals(f, (uint32_t)i, &c1, &b1);
		ph_type_totals(t, (uint32_t)i, &c2, &b2);
		if (strcmp(name, ph_type_name(t, (uint32_t)i)) != 0) {
			snprintf(what, sizeof what, "type %zu named %s and %s", i, name,
				 ph_type_name(t, (uint32_t)i));
			differ(what, 0, 1);
		}
		snprintf(what, sizeof what, "%s count", name);
		differ(what, c1, c2);
		snprintf(what, sizeof what, "%s bytes", name);
		differ(what, b1, b2);
	}

	size_t nw = ph_warning_kinds(f);
	differ("warning kinds", nw, ph_warning_kinds(t));
	for (size_t i = 0; i < nw && i < ph_warning_kinds(t); i++) {
		snprintf(what, sizeof what, "warning '%s'", ph_warning_text(f, i));
		differ(what, ph_warning_count(f, i), ph_warning_count(t, i));
		if (strcmp(ph_warning_text(f, i), ph_warning_text(t, i)) != 0) {
			snprintf(what, sizeof what, "warning text '%s' vs '%s'", ph_warning_text(f, i),
				 ph_warning_text(t, i));
			differ(what, 0, 1);
		}
	}
}

#endif
