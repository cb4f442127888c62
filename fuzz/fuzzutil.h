/*
 * fuzzutil.h - shared by the libFuzzer targets: give bytes a path the core
 * API can open (a memfd, named /proc/self/fd/N), and touch every accessor of
 * an open core and heap so that the sanitizers see what they return.
 */
#ifndef PYHEAP_FUZZUTIL_H
#define PYHEAP_FUZZUTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"
#include "pyheap.h"

#ifndef FUZZ_SRC
#define FUZZ_SRC "."
#endif

static int fz_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	return fd;
}

static void fz_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

/* Folds values into a sink the optimizer cannot drop. */
static volatile uint64_t fz_sink;
static void fz_use(uint64_t v) { fz_sink += v; }
static void fz_use_str(const char *s)
{
	if (s)
		fz_use(strlen(s));
}

static void fz_touch_heap(ph_heap *h)
{
	fz_use_str(ph_version(h));
	fz_use((uint64_t)ph_version_minor(h));
	fz_use_str(ph_version_found_by(h));
	fz_use(ph_runtime_addr(h));
	fz_use_str(ph_runtime_found_by(h));
	fz_use_str(ph_runtime_module(h));
	fz_use_str(ph_offsets_source(h));
	fz_use_str(ph_arenas_found_by(h));
	for (size_t i = 0; i < ph_thread_count(h); i++)
		fz_use(ph_thread_at(h, i)->tstate);
	const ph_gc_state *g = ph_gc(h);
	fz_use((uint64_t)g->known + g->gen[0].objects + g->permanent_objects);
	const ph_arena_stats *a = ph_arenas(h);
	fz_use(a->arenas + a->pools_used + a->blocks_used + a->cls[3].free);
	for (size_t i = 0; i < ph_warning_kinds(h); i++) {
		fz_use(ph_warning_count(h, i));
		fz_use_str(ph_warning_text(h, i));
	}
	fz_use(ph_warning_total(h));
}

static void fz_touch_objects(ph_heap *h)
{
	size_t nt = ph_type_count(h);
	for (size_t i = 0; i < ph_object_count(h); i++) {
		uint32_t t = ph_object_type(h, (ph_id)i);
		if (t >= nt)
			abort();	/* an object with a type index out of range */
		fz_use(ph_object_addr(h, (ph_id)i) + ph_object_size(h, (ph_id)i) +
		       ph_object_flags(h, (ph_id)i));
	}
	for (size_t i = 0; i < nt; i++) {
		fz_use_str(ph_type_name(h, (uint32_t)i));
		fz_use(ph_type_addr(h, (uint32_t)i));
	}
	fz_use(ph_gc_object_count(h) + ph_total_size(h));
}

#endif
