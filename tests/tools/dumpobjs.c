/*
 * dumpobjs.c - test tool: every object pyheap finds in a core, one per line:
 * "0xADDR SIZE FLAGS TYPE".  Tests and debugging sessions diff this against
 * what a live interpreter printed for id(o) and sys.getsizeof(o).
 *
 *   dumpobjs CORE
 */
#include <inttypes.h>
#include <stdio.h>

#include "core.h"
#include "pyheap.h"

int main(int argc, char **argv)
{
	char err[512];
	core_t *core;
	ph_heap *h;
	core_options o = {0};
	ph_options po = {0};
	if (argc != 2) {
		fprintf(stderr, "usage: dumpobjs CORE\n");
		return 2;
	}
	if (core_open(&core, argv[1], &o, err, sizeof err) < 0 ||
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
