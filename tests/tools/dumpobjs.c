/*
 * dumpobjs.c - test tool: every object pyheap finds in a core, one per line:
 * "0xADDR SIZE FLAGS TYPE".  Tests and debugging sessions diff this against
 * what a live interpreter printed for id(o) and sys.getsizeof(o)
 * (compare.py lists the objects behind a wrong count with it).
 *
 *   dumpobjs [--no-dwarf] [--pool-scan] [--debug-dir DIR]... CORE
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "pyheap.h"

#define MAX_DEBUG_DIRS 16

int main(int argc, char **argv)
{
	char err[512];
	core_t *core;
	ph_heap *h;
	core_options o = {0};
	ph_options po = {0};
	const char *dirs[MAX_DEBUG_DIRS];
	const char *path = NULL;
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-dwarf") == 0)
			po.no_dwarf = 1;
		else if (strcmp(argv[i], "--pool-scan") == 0)
			po.pool_scan = 1;
		else if (strcmp(argv[i], "--debug-dir") == 0 && i + 1 < argc &&
			 o.n_debug_dirs < MAX_DEBUG_DIRS)
			dirs[o.n_debug_dirs++] = argv[++i];
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			bad = 1;
	}
	if (bad || !path) {
		fprintf(stderr, "usage: dumpobjs [--no-dwarf] [--pool-scan] [--debug-dir DIR]... CORE\n");
		return 2;
	}
	o.debug_dirs = dirs;
	if (core_open(&core, path, &o, err, sizeof err) < 0 ||
	    ph_open(&h, core, &po, err, sizeof err) < 0 ||
	    ph_scan(h, NULL, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "dumpobjs: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < ph_object_count(h); i++)
		printf("0x%" PRIx64 " %" PRIu64 " %u %s\n", ph_object_addr(h, (ph_id)i),
		       ph_object_size(h, (ph_id)i), ph_object_flags(h, (ph_id)i),
		       ph_type_name(h, ph_object_type(h, (ph_id)i)));
	ph_free(h);
	core_free(core);
	return 0;
}
