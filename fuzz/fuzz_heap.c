/*
 * fuzz_heap.c - libFuzzer target for layer 2, the heap walk.
 *
 * A real small core (FUZZ_HEAP_CORE, made by fuzz/make-seeds.sh on this
 * machine: the interpreter and libraries it names must be on disk) is
 * opened once from a memfd.  Each input is a patch list applied to the bytes
 * of the core's writable PT_LOAD segments only (where arenas, pools, GC
 * lists, objects, dict keys and heap types live); then ph_open, ph_scan and
 * every accessor run, a second scan for totals only (what types, info and
 * arenas run) must give the same totals (a difference aborts: a finding),
 * and the patches are undone.  The core's mapping is a
 * private read-only mapping of the memfd that is never written, so it sees
 * each pwrite() to the memfd: no re-open per input.
 *
 * Patch list: a sequence of operations, each starting with an opcode byte
 * (offsets are taken modulo the total size of the writable segments, as if
 * they were laid end to end):
 *   op%4 == 0  write:   u32 off, u8 n (1 + n%16 bytes follow), bytes
 *   op%4 == 1  copy:    u32 src, u32 dst: copies 8 bytes (moves a pointer)
 *   op%4 == 2  pointer: u32 dst, u32 target, i8 delta: writes the address of
 *                       (target & ~7) + 8*delta (lists that loop, links
 *                       into the middle of objects)
 *   op%4 == 3  flip:    u32 off, u8 bit
 * At most 64 operations; a truncated operation ends the list.
 *
 * Environment: FUZZ_HEAP_CORE (the core; default
 * build-fuzz/seeds/heap-3.11.core under the source tree), FUZZ_POOL_SCAN=1
 * (ph_options.pool_scan), FUZZ_NO_DWARF=1.
 */
#include <elf.h>
#include <sys/stat.h>

#include "fuzzutil.h"
#include "../tests/tools/totalscmp.h"

#define MAX_OPS 64

struct wseg { uint64_t off, vaddr, len, start; };   /* start: in the laid-out space */

static core_t *core;
static int fd = -1;
static uint8_t *pristine;
static size_t psize;
static struct wseg segs[4096];
static size_t nsegs;
static uint64_t wtotal;
static ph_options popts;
static struct { uint64_t off; size_t len; } undo[2 * MAX_OPS];
static size_t nundo;

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "fuzz_heap: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(1);
}

/* A difference between the full and the totals-only scan is a finding. */
static void same_totals(const char *what, uint64_t full, uint64_t totals)
{
	if (full == totals)
		return;
	fprintf(stderr, "fuzz_heap: %s: full scan %llu, totals-only scan %llu\n", what,
		(unsigned long long)full, (unsigned long long)totals);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *cp = getenv("FUZZ_HEAP_CORE");
	char path[64], err[512];
	struct stat st;
	FILE *f;

	(void)argc;
	(void)argv;
	if (!cp || !*cp)
		cp = FUZZ_SRC "/build-fuzz/seeds/heap-3.11.core";
	f = fopen(cp, "rb");
	if (!f || fstat(fileno(f), &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		die("cannot read the seed core (run fuzz/make-seeds.sh, set FUZZ_HEAP_CORE)", cp);
	psize = (size_t)st.st_size;
	pristine = malloc(psize);
	if (!pristine || fread(pristine, 1, psize, f) != psize)
		die("cannot read", cp);
	fclose(f);

	/* the writable PT_LOADs, from the (trusted, unmutated) headers */
	Elf64_Ehdr eh;
	memcpy(&eh, pristine, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_type != ET_CORE ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > psize)
		die("not a core", cp);
	for (unsigned i = 0; i < eh.e_phnum && nsegs < sizeof segs / sizeof segs[0]; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, pristine + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) || !ph.p_filesz ||
		    ph.p_offset >= psize)
			continue;
		uint64_t len = ph.p_filesz < psize - ph.p_offset ? ph.p_filesz : psize - ph.p_offset;
		segs[nsegs++] = (struct wseg){ph.p_offset, ph.p_vaddr, len, wtotal};
		wtotal += len;
	}
	if (!wtotal)
		die("the core has no writable segment data", cp);

	fd = fz_memfd("fuzz-heap");
	if (pwrite(fd, pristine, psize, 0) != (ssize_t)psize)
		die("cannot fill the memfd", NULL);
	fz_path(fd, path, sizeof path);
	core_options o = {0};
	if (core_open(&core, path, &o, err, sizeof err) < 0)
		die("core_open", err);
	popts.pool_scan = getenv("FUZZ_POOL_SCAN") && atoi(getenv("FUZZ_POOL_SCAN"));
	popts.no_dwarf = getenv("FUZZ_NO_DWARF") && atoi(getenv("FUZZ_NO_DWARF"));
	fprintf(stderr, "fuzz_heap: %s: %zu writable segments, %llu bytes%s%s\n", cp, nsegs,
		(unsigned long long)wtotal, popts.pool_scan ? ", pool scan" : "",
		popts.no_dwarf ? ", no DWARF" : "");
	return 0;
}

/* Laid-out offset -> segment index. */
static size_t seg_of(uint64_t x)
{
	size_t lo = 0, hi = nsegs;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (segs[mid].start <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Writes n bytes at laid-out offset x (clipped to its segment). */
static void put(uint64_t x, const void *b, size_t n)
{
	x %= wtotal;
	const struct wseg *s = &segs[seg_of(x)];
	uint64_t in = x - s->start;
	if (n > s->len - in)
		n = (size_t)(s->len - in);
	if (!n || nundo == sizeof undo / sizeof undo[0])
		return;
	undo[nundo].off = s->off + in;
	undo[nundo++].len = n;
	if (pwrite(fd, b, n, (off_t)(s->off + in)) != (ssize_t)n)
		abort();
}

/* The current bytes at laid-out offset x (8 of them, zero-padded). */
static uint64_t get64(uint64_t x)
{
	uint64_t v = 0;
	x %= wtotal;
	const struct wseg *s = &segs[seg_of(x)];
	uint64_t in = x - s->start, n = s->len - in < 8 ? s->len - in : 8;
	if (pread(fd, &v, (size_t)n, (off_t)(s->off + in)) < 0)
		abort();
	return v;
}

static uint64_t vaddr_of(uint64_t x)
{
	x %= wtotal;
	const struct wseg *s = &segs[seg_of(x)];
	return s->vaddr + (x - s->start);
}

static uint32_t u32(const uint8_t **p, const uint8_t *end, int *ok)
{
	uint32_t v = 0;
	if (end - *p < 4) {
		*ok = 0;
		return 0;
	}
	memcpy(&v, *p, 4);
	*p += 4;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char err[512];
	int ok = 1;

	nundo = 0;
	for (int k = 0; k < MAX_OPS && p < end && ok; k++) {
		uint8_t op = *p++;
		switch (op & 3) {
		case 0: {
			uint32_t off = u32(&p, end, &ok);
			if (!ok || p >= end)
				break;
			size_t n = 1 + (*p++ & 15);
			if ((size_t)(end - p) < n)
				n = (size_t)(end - p);
			put(off, p, n);
			p += n;
			break;
		}
		case 1: {
			uint32_t src = u32(&p, end, &ok), dst = u32(&p, end, &ok);
			if (!ok)
				break;
			uint64_t v = get64(src);
			put(dst, &v, 8);
			break;
		}
		case 2: {
			uint32_t dst = u32(&p, end, &ok), target = u32(&p, end, &ok);
			if (!ok || p >= end)
				break;
			int8_t delta = (int8_t)*p++;
			uint64_t v = (vaddr_of(target) & ~7ull) + (uint64_t)((int64_t)delta * 8);
			put(dst, &v, 8);
			break;
		}
		case 3: {
			uint32_t off = u32(&p, end, &ok);
			if (!ok || p >= end)
				break;
			uint8_t bit = *p++, b;
			off %= (uint32_t)(wtotal > UINT32_MAX ? UINT32_MAX : wtotal);
			b = (uint8_t)get64(off) ^ (uint8_t)(1u << (bit & 7));
			put(off, &b, 1);
			break;
		}
		}
	}

	ph_heap *h, *t;
	if (ph_open(&h, core, &popts, err, sizeof err) == 0) {
		fz_touch_heap(h);
		int rc = ph_scan(h, NULL, NULL, err, sizeof err);
		if (rc == 0)
			fz_touch_objects(h);
		fz_touch_heap(h);
		/* the totals-only scan (types, info, arenas) must say the same */
		ph_options to = popts;
		to.totals_only = 1;
		char err2[512] = "";
		if (ph_open(&t, core, &to, err2, sizeof err2) != 0)
			same_totals("ph_open", 0, 1);
		int rc2 = ph_scan(t, NULL, NULL, err2, sizeof err2);
		same_totals("ph_scan's result", (uint64_t)rc, (uint64_t)rc2);
		if (rc == 0)
			tc_compare(h, t, same_totals);
		fz_touch_heap(t);
		ph_free(t);
		ph_free(h);
	}

	/* undo, newest first (patches may overlap) */
	while (nundo > 0) {
		nundo--;
		if (pwrite(fd, pristine + undo[nundo].off, undo[nundo].len,
			   (off_t)undo[nundo].off) != (ssize_t)undo[nundo].len)
			abort();
	}
	return 0;
}
