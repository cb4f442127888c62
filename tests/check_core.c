/*
 * check_core.c - tests for layer 1, the process image (image/core.c).
 *
 * Synthetic cores come from fixtures/synth (made by fixtures/synth/gen_synth_core.py;
 * their layout is described there).  The libpython tests need pyenv's builds
 * and the gcore test needs gdb and ptrace; both skip loudly without them.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "core.h"
#include "coreInt.h"
#include "testutil.h"

/* Addresses used by gen_synth_core.py. */
#define APP_BASE	0x555555554000ULL
#define LIB_BASE	0x7f0000000000ULL
#define HEAP		0x10000000ULL
#define STACK		0x7ffd00000000ULL

#define AT_PAGESZ_	6
#define AT_EXECFN_	31

static char fixdir[2048];

static const char *fix(const char *name)
{
	static char buf[8][2200];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", fixdir, name);
	return b;
}

static core_t *open_synth(const char *name)
{
	const char *libs[1] = { fixdir };
	core_options o = { .lib_paths = libs, .n_lib_paths = 1 };
	char err[512] = "";
	core_t *c = NULL;

	ck_assert_msg(core_open(&c, fix(name), &o, err, sizeof(err)) == 0,
		      "open %s: %s", name, err);
	ck_assert_ptr_nonnull(c);
	return c;
}

static int has_warning(const core_t *c, const char *needle)
{
	size_t i;

	for (i = 0; i < core_warning_count(c); i++)
		if (strstr(core_warning(c, i), needle))
			return 1;
	return 0;
}

static uint8_t rodata_pattern(size_t i, int salt)
{
	return (uint8_t)(i * 7 + 3 + salt);
}

/* ---- the process ---- */

START_TEST(test_synth_process)
{
	core_t *c = open_synth("synth.core");
	core_module_t *app, *lib, *miss;

	ck_assert_int_eq(core_pid(c), 4242);
	ck_assert_uint_eq(core_thread_count(c), 2);
	ck_assert_int_eq(core_thread_tid(c, 0), 4242);
	ck_assert_int_eq(core_thread_tid(c, 1), 4243);
	ck_assert_int_eq(core_thread_tid(c, 2), -1);
	ck_assert_int_eq(core_signal(c), 11);
	ck_assert_str_eq(core_exe(c), "/synth/synthapp");
	ck_assert_str_eq(core_cmdline(c), "synthapp --flag x");
	ck_assert_uint_eq(core_auxv(c, AT_PAGESZ_), 4096);
	ck_assert_uint_eq(core_auxv(c, AT_EXECFN_), STACK + 0x10);
	ck_assert_uint_eq(core_auxv(c, 12345), 0);
	ck_assert_uint_eq(core_missing_bytes(c), 0);
	ck_assert_str_eq(core_path(c), fix("synth.core"));

	/* synthapp, libsynth.so, libmissing.so; not /dev/zero nor data.bin. */
	ck_assert_uint_eq(core_module_count(c), 3);
	app = core_module_exe(c);
	ck_assert_ptr_nonnull(app);
	ck_assert_str_eq(core_module_name(app), "/synth/synthapp");
	ck_assert_str_eq(core_module_disk_path(app), fix("synthapp"));
	ck_assert_uint_eq(core_module_base(app), APP_BASE);
	ck_assert_uint_eq(core_module_bias(app), APP_BASE);
	lib = core_module_find(c, "libsynth");
	ck_assert_ptr_nonnull(lib);
	ck_assert_uint_eq(core_module_bias(lib), LIB_BASE);
	ck_assert_str_eq(core_module_disk_path(lib), fix("libsynth.so"));
	miss = core_module_find(c, "libmissing");
	ck_assert_ptr_nonnull(miss);
	ck_assert_ptr_null(core_module_disk_path(miss));
	/* Its bias comes from the ELF header the core holds. */
	ck_assert_uint_eq(core_module_bias(miss), 0x7f0000100000ULL);
	ck_assert_ptr_null(core_module_find(c, "zero"));
	ck_assert_ptr_null(core_module_find(c, "data.bin"));
	ck_assert_ptr_null(core_module_at(c, 3));

	ck_assert_uint_eq(core_warning_count(c), 1);
	ck_assert_str_eq(core_warning(c, 0), "module /synth/libmissing.so: not found on disk");
	ck_assert_ptr_null(core_warning(c, 1));

	/* Segments are sorted and labelled with their files. */
	ck_assert_uint_eq(core_segment_count(c), 9);
	for (size_t i = 1; i < core_segment_count(c); i++)
		ck_assert_uint_lt(core_segment_at(c, i - 1)->vaddr, core_segment_at(c, i)->vaddr);
	ck_assert_ptr_null(core_segment_at(c, 0)->file);
	ck_assert_str_eq(core_segment_find(c, LIB_BASE + 0x1234)->file, "/synth/libsynth.so");
	ck_assert_uint_eq(core_segment_find(c, LIB_BASE + 0x1234)->file_offset, 0);
	ck_assert_uint_eq(core_segment_find(c, LIB_BASE + 0x1234)->flags, CORE_SEG_R | CORE_SEG_W);
	core_free(c);
}
END_TEST

/* --exe and --sysroot instead of --lib-path. */
START_TEST(test_synth_options)
{
	char root[2400], err[512];
	core_options o = { 0 };
	core_t *c = NULL;
	uint8_t b[4];

	snprintf(root, sizeof(root), "%s/..", fixdir);	/* root/synth/libsynth.so */
	o.sysroot = root;
	o.exe = fix("synthapp");
	ck_assert_msg(core_open(&c, fix("synth.core"), &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(core_module_disk_path(core_module_exe(c)), fix("synthapp"));
	ck_assert_ptr_nonnull(core_module_disk_path(core_module_find(c, "libsynth.so")));
	ck_assert_ptr_nonnull(strstr(core_module_disk_path(core_module_find(c, "libsynth.so")),
				     "/../synth/libsynth.so"));
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x200, b, 1), 1);
	core_free(c);

	/* Nothing on disk: three warnings, core-only reads. */
	o.sysroot = NULL;
	o.exe = NULL;
	ck_assert_int_eq(core_open(&c, fix("synth.core"), &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(core_module_count(c), 3);
	ck_assert(has_warning(c, "module /synth/synthapp: not found on disk"));
	ck_assert(has_warning(c, "module /synth/libsynth.so: not found on disk"));
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x200, b, 1), 0);
	ck_assert_uint_eq(core_read(c, LIB_BASE, b, 4), 4);
	ck_assert_uint_eq(core_module_bias(core_module_find(c, "libsynth.so")), LIB_BASE);
	core_free(c);

	/* A --exe that does not exist is a warning, not a failure. */
	o.exe = "/nonexistent/pyheap-exe";
	ck_assert_int_eq(core_open(&c, fix("synth.core"), &o, err, sizeof(err)), 0);
	ck_assert(has_warning(c, "module /synth/synthapp: /nonexistent/pyheap-exe: No such file"));
	core_free(c);
}
END_TEST

START_TEST(test_synth_exe_from_execfn)
{
	core_t *c = open_synth("synth-execfn.core");

	/* No AT_PHDR/AT_ENTRY, no NT_FILE: the name is read from the stack. */
	ck_assert_str_eq(core_exe(c), "/synth/synthapp");
	ck_assert_uint_eq(core_module_count(c), 0);
	ck_assert_ptr_null(core_module_exe(c));
	core_free(c);
}
END_TEST

START_TEST(test_synth_badnotes)
{
	core_t *c = open_synth("badnotes.core");

	ck_assert(has_warning(c, "malformed note segment"));
	ck_assert(has_warning(c, "NT_FILE note claims"));
	ck_assert_int_eq(core_pid(c), 77);
	ck_assert_str_eq(core_exe(c), "badapp");
	ck_assert_uint_eq(core_thread_count(c), 0);
	ck_assert_int_eq(core_signal(c), 0);
	ck_assert_uint_eq(core_module_count(c), 0);
	core_free(c);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_synth_reads)
{
	core_t *c = open_synth("synth.core");
	uint8_t b[0x300];
	const uint8_t *p;
	uint64_t v64;
	uint32_t v32;
	char s[64];

	/* Inside one segment. */
	ck_assert_uint_eq(core_read(c, HEAP + 0x10, b, 0x20), 0x20);
	for (int i = 0; i < 0x20; i++)
		ck_assert_uint_eq(b[i], (uint8_t)((0x10 + i) * 3));
	/* Spanning two adjacent segments. */
	ck_assert_uint_eq(core_read(c, HEAP + 0xf0, b, 0x20), 0x20);
	ck_assert_uint_eq(b[0xf], (uint8_t)(0xff * 3));
	ck_assert_uint_eq(b[0x10], 0xff);
	ck_assert_uint_eq(b[0x1f], 0xff - 0xf);
	/* One allocation may lie across adjacent segments, not across a hole. */
	ck_assert_int_eq(core_span(c, HEAP + 0xf0, 0x20), 1);
	ck_assert_int_eq(core_span(c, HEAP + 0x10, 0x20), 1);
	ck_assert_int_eq(core_span(c, HEAP + 0x1f0, 0x20), 0);
	ck_assert_int_eq(core_span(c, 0x20000000, 8), 0);
	ck_assert_int_eq(core_span(c, UINT64_MAX - 3, 8), 0);
	/* Running into a hole: the leading bytes only. */
	ck_assert_uint_eq(core_read(c, HEAP + 0x1f0, b, 0x20), 0x10);
	/* Unmapped, and mapped-but-not-dumped anonymous memory. */
	ck_assert_uint_eq(core_read(c, 0x20000000, b, 8), 0);
	ck_assert_uint_eq(core_read(c, HEAP + 0x1000, b, 8), 0);
	ck_assert_uint_eq(core_read(c, 0x7f0000200000ULL, b, 8), 0);
	ck_assert_uint_eq(core_read(c, UINT64_MAX - 3, b, 8), 0);
	ck_assert_uint_eq(core_read(c, HEAP, b, 0), 0);

	/* Zero-copy. */
	p = core_ptr(c, HEAP + 4, 8);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p[0], 12);
	ck_assert_ptr_null(core_ptr(c, HEAP + 0xf8, 16));	/* spans two */
	ck_assert_ptr_null(core_ptr(c, LIB_BASE + 0x1f8, 16));	/* beyond filesz */
	ck_assert_ptr_null(core_ptr(c, 0x20000000, 1));

	ck_assert_ptr_null(core_segment_find(c, 0x20000000));
	ck_assert_ptr_null(core_segment_find(c, 0));
	ck_assert_uint_eq(core_segment_find(c, HEAP + 0x150)->vaddr, HEAP + 0x100);

	ck_assert_int_eq(core_read_u64(c, HEAP + 0xfc, &v64), 0);
	ck_assert_uint_eq(v64 & 0xff, (uint8_t)(0xfc * 3));
	ck_assert_uint_eq(v64 >> 56, 0xff - 3);
	ck_assert_int_eq(core_read_u32(c, HEAP, &v32), 0);
	ck_assert_uint_eq(v32, 0x09060300);
	ck_assert_int_eq(core_read_u64(c, HEAP + 0x1fc, &v64), -1);
	ck_assert_int_eq(core_read_u32(c, 0x20000000, &v32), -1);

	ck_assert_int_eq(core_read_str(c, STACK + 0x10, s, sizeof(s)), 0);
	ck_assert_str_eq(s, "/synth/synthapp");
	ck_assert_int_eq(core_read_str(c, STACK + 0x10, s, 7), 0);
	ck_assert_str_eq(s, "/synth");
	ck_assert_int_eq(core_read_str(c, 0x20000000, s, sizeof(s)), -1);
	ck_assert_int_eq(core_read_str(c, STACK + 0x10, s, 0), -1);
	/* Unterminated at the end of memory: what is there, truncated. */
	ck_assert_int_eq(core_read_str(c, STACK + 0xfc, s, sizeof(s)), 0);
	ck_assert_uint_eq(strlen(s), 4);
	core_free(c);
}
END_TEST

START_TEST(test_synth_module_reads)
{
	core_t *c = open_synth("synth.core");
	uint8_t b[0x400];
	size_t i;

	/* .rodata is not in the core: it comes from the module files. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x200, b, 0x200), 0x200);
	for (i = 0; i < 0x200; i++)
		ck_assert_uint_eq(b[i], rodata_pattern(i, 1));
	ck_assert_uint_eq(core_read(c, APP_BASE + 0x280, b, 0x10), 0x10);
	ck_assert_uint_eq(b[0], rodata_pattern(0x80, 0));
	/* Core bytes then file bytes in one read. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x1f0, b, 0x20), 0x20);
	ck_assert_uint_eq(b[0], 0);	/* padding after the note, from the core */
	ck_assert_uint_eq(b[0x10], rodata_pattern(0, 1));
	/* Past the file's PT_LOAD: nothing. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x3f8, b, 0x10), 8);
	/* .data: the core's (changed) bytes win over the file. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x1600, b, 0x100), 0x100);
	for (i = 0; i < 0x100; i++)
		ck_assert_uint_eq(b[i], 0x11);
	/* .bss past the core segment's filesz (not truncated): zeros. */
	memset(b, 0xee, sizeof(b));
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x16f8, b, 0x208), 0x208);
	ck_assert_uint_eq(b[0], 0x11);
	for (i = 8; i < 0x208; i++)
		ck_assert_uint_eq(b[i], 0);
	/* Beyond .bss (p_memsz) but inside the page: the file has nothing. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x1900, b, 8), 0);
	/* A missing module gives only what the core has. */
	ck_assert_uint_eq(core_read(c, 0x7f0000100000ULL, b, 0x100), 0x40);
	core_free(c);
}
END_TEST

START_TEST(test_synth_truncated)
{
	core_t *c = open_synth("synth-truncated.core");
	char want[2400];
	uint8_t b[0x100];
	core_module_t *lib;

	ck_assert_uint_eq(core_missing_bytes(c), 0x180);
	snprintf(want, sizeof(want), "%s: truncated: 384 of 3648 bytes of segment data missing",
		 fix("synth-truncated.core"));
	ck_assert(has_warning(c, want));
	/* Everything the notes said survives. */
	ck_assert_int_eq(core_pid(c), 4242);
	ck_assert_uint_eq(core_thread_count(c), 2);
	/* The stack is gone entirely. */
	ck_assert_uint_eq(core_read(c, STACK, b, 8), 0);
	ck_assert_uint_eq(core_segment_find(c, STACK)->filesz, 0);
	/* The lib's .data page lost its last 0x40 bytes: a writable file mapping
	 * cut by truncation must not be filled in from the (stale) file. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x1600, b, 0x100), 0xc0);
	/* Read-only file data still comes from the file. */
	ck_assert_uint_eq(core_read(c, LIB_BASE + 0x300, b, 0x10), 0x10);
	ck_assert_uint_eq(b[0], rodata_pattern(0x100, 1));
	lib = core_module_find(c, "libsynth.so");
	ck_assert_ptr_nonnull(lib);
	core_free(c);
}
END_TEST

START_TEST(test_synth_badbuildid)
{
	core_t *c = open_synth("synth-badbuildid.core");
	char want[2600];

	snprintf(want, sizeof(want),
		 "build-id mismatch: core has 000102030405060708090a0b0c0d0e0f10111213 "
		 "for /synth/libsynth.so, file %s has ", fix("libsynth.so"));
	/* The file's id: gen_synth_core.py build_id(1), bytes i * 13 + 1. */
	for (int i = 0; i < 20; i++)
		snprintf(want + strlen(want), 3, "%02x", (unsigned)((i * 13 + 1) & 0xff));
	ck_assert_msg(has_warning(c, want), "no warning like \"%s\"; first: %s", want,
		      core_warning_count(c) ? core_warning(c, 0) : "(none)");
	/* The good core has the same id in memory and file: no mismatch. */
	core_free(c);
	c = open_synth("synth.core");
	ck_assert(!has_warning(c, "build-id"));
	core_free(c);
}
END_TEST

/* ---- module symbols and sections ---- */

START_TEST(test_synth_symbols)
{
	core_t *c = open_synth("synth.core");
	core_module_t *lib = core_module_find(c, "libsynth.so"), *m;
	uint64_t a = 0, sz = 0;
	uint8_t b[4];
	char err[512];

	ck_assert_int_eq(core_module_symbol(lib, "lib_rodata", &a, &sz), 0);
	ck_assert_uint_eq(a, LIB_BASE + 0x200);
	ck_assert_uint_eq(sz, 0x200);
	ck_assert_int_eq(core_module_symbol(lib, "lib_local", &a, NULL), 0);
	ck_assert_uint_eq(a, LIB_BASE + 0x1610);
	ck_assert_int_eq(core_module_symbol(lib, "lib_func", &a, NULL), 0);
	ck_assert_uint_eq(a, LIB_BASE + 0x300);
	ck_assert_int_eq(core_module_symbol(lib, "undefined_sym", &a, NULL), -1);
	ck_assert_int_eq(core_module_symbol(lib, "nope", &a, NULL), -1);
	ck_assert_int_eq(core_module_symbol(lib, "", &a, NULL), -1);
	ck_assert_int_eq(core_module_section(lib, ".bss", &a, &sz), 0);
	ck_assert_uint_eq(a, LIB_BASE + 0x1700);
	ck_assert_uint_eq(sz, 0x200);
	ck_assert_int_eq(core_module_section(lib, ".nope", &a, &sz), -1);
	ck_assert_int_eq(core_module_symbol(core_module_exe(c), "app_data", &a, NULL), 0);
	ck_assert_uint_eq(a, APP_BASE + 0x1600);
	ck_assert_int_eq(core_module_has_dwarf(lib), 0);
	ck_assert_int_eq(core_module_type_size(lib, "_is", &a), -1);
	ck_assert_int_eq(core_module_member_offset(lib, "_is", "gc", &a), -1);
	/* A symbol's address reads through the file. */
	ck_assert_int_eq(core_module_symbol(lib, "lib_rodata", &a, NULL), 0);
	ck_assert_uint_eq(core_read(c, a + 1, b, 1), 1);
	ck_assert_uint_eq(b[0], rodata_pattern(1, 1));
	/* The missing module answers nothing, without crashing. */
	m = core_module_find(c, "libmissing");
	ck_assert_int_eq(core_module_symbol(m, "x", &a, NULL), -1);
	ck_assert_int_eq(core_module_section(m, ".text", &a, NULL), -1);
	ck_assert_int_eq(core_module_has_dwarf(m), 0);
	core_module_free(m);	/* borrowed: must be a no-op */
	core_free(c);

	ck_assert_int_eq(core_module_open_file(&m, fix("libsynth.so"), err, sizeof(err)), 0);
	ck_assert_uint_eq(core_module_bias(m), 0);
	ck_assert_int_eq(core_module_symbol(m, "lib_bss", &a, &sz), 0);
	ck_assert_uint_eq(a, 0x1700);
	ck_assert_int_eq(core_module_section(m, ".rodata", &a, NULL), 0);
	ck_assert_uint_eq(a, 0x200);
	core_module_free(m);
}
END_TEST

/* ---- bad input ---- */

static void expect_fail(const char *path, const char *problem)
{
	char err[512] = "", want[4200];
	core_t *c = (core_t *)1;

	snprintf(want, sizeof(want), "%s: %s", path, problem);
	ck_assert_int_eq(core_open(&c, path, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: got \"%s\", want \"%s...\"",
		      path, err, want);
	ck_assert_ptr_null(strchr(err, '\n'));
}

START_TEST(test_bad_inputs)
{
	expect_fail(fix("empty.core"), "empty file");
	expect_fail(fix("notelf.core"), "not an ELF file");
	expect_fail(fix("short.core"), "truncated ELF header");
	expect_fail(fix("elf32.core"), "not a 64-bit ELF file");
	expect_fail(fix("bigendian.core"), "not a little-endian ELF file");
	expect_fail(fix("arm.core"), "not an x86-64 ELF file (machine 183)");
	expect_fail(fix("exec.core"), "ELF file is not a core (type EXEC)");
	expect_fail(fix("synthapp"), "ELF file is not a core (type DYN)");
	expect_fail(fix("badphnum.core"), "program headers (1000 at offset 64) beyond end of file");
	expect_fail(fix("badphoff.core"), "program headers");
	expect_fail(fix("badphentsize.core"), "bad program header size 32");
	expect_fail(fix("does-not-exist.core"), "No such file or directory");
	expect_fail(fixdir, "not a regular file");
}
END_TEST

START_TEST(test_bad_module_file)
{
	char err[512] = "", want[4200];
	core_module_t *m = NULL;

	ck_assert_int_eq(core_module_open_file(&m, fix("notelf.core"), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not an ELF file", fix("notelf.core"));
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(core_module_open_file(&m, fix("nope.so"), err, sizeof(err)), -1);
	ck_assert_ptr_null(m);
	core_module_free(NULL);
	core_free(NULL);
}
END_TEST

/*
 * Every prefix of the good core, and single-byte corruptions of its headers
 * and notes, must open or fail cleanly (ASan/UBSan runs make this meaningful).
 */
START_TEST(test_fuzz_synth)
{
	const char *tmp = TU_TMP();
	char path[4096], err[512];
	FILE *f;
	uint8_t *buf, *mut;
	long n;
	size_t len, i;

	f = fopen(fix("synth.core"), "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	mut = malloc((size_t)n);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	len = (size_t)n;
	mkdir(tmp, 0755);
	snprintf(path, sizeof(path), "%s/core-fuzz-%d.core", tmp, (int)getpid());
	for (i = 0; i < 1200; i++) {
		const char *libs[1] = { fixdir };
		core_options o = { .lib_paths = libs, .n_lib_paths = 1 };
		size_t cut = len, k;
		core_t *c = NULL;
		uint8_t tmpb[64];

		memcpy(mut, buf, len);
		if (i < 200) {
			cut = (size_t)((uint64_t)len * i / 200);
		} else {
			/* Corrupt bytes in the headers and notes (the first 0x840). */
			srand((unsigned)i);
			for (k = 0; k < 1 + i % 4; k++) {
				size_t at = (size_t)rand() % 0x840;

				mut[at] = (uint8_t)(k & 1 ? (unsigned)rand() : mut[at] ^ (1u << (rand() % 8)));
			}
		}
		f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		fwrite(mut, 1, cut, f);
		fclose(f);
		if (core_open(&c, path, &o, err, sizeof(err)) == 0) {
			for (k = 0; k < core_segment_count(c); k++)
				core_read(c, core_segment_at(c, k)->vaddr, tmpb, sizeof(tmpb));
			for (k = 0; k < core_module_count(c); k++) {
				uint64_t a;

				core_module_symbol(core_module_at(c, k), "lib_data", &a, NULL);
				core_read(c, core_module_base(core_module_at(c, k)) + 0x3f0,
					  tmpb, sizeof(tmpb));
			}
			core_read(c, LIB_BASE + 0x200, tmpb, sizeof(tmpb));
			(void)core_exe(c);
			core_free(c);
		} else {
			ck_assert(strncmp(err, path, strlen(path)) == 0);
		}
	}
	unlink(path);
	free(buf);
	free(mut);
}
END_TEST

/* ---- pyenv's libpython ---- */

struct off_case {
	const char *type, *member;
	uint64_t off;
};

static core_module_t *open_pyenv(const char *ver, const char *lib)
{
	char path[4096], err[512];
	core_module_t *m = NULL;

	snprintf(path, sizeof(path), "%s/versions/%s/lib/%s", tu_pyenv_root(), ver, lib);
	if (access(path, R_OK) != 0) {
		TU_SKIP("check_core: %s missing, libpython %s tests skipped", path, ver);
		return NULL;
	}
	ck_assert_msg(core_module_open_file(&m, path, err, sizeof(err)) == 0, "%s", err);
	return m;
}

static void check_offsets(core_module_t *m, const struct off_case *cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t o = ~0ULL;
		int r = cs[i].member ?
			core_module_member_offset(m, cs[i].type, cs[i].member, &o) :
			core_module_type_size(m, cs[i].type, &o);

		if (cs[i].off == ~0ULL)
			ck_assert_msg(r == -1, "%s.%s: want not found", cs[i].type, cs[i].member);
		else
			ck_assert_msg(r == 0 && o == cs[i].off, "%s %s: got %d 0x%llx want 0x%llx",
				      cs[i].type, cs[i].member ? cs[i].member : "(size)", r,
				      (unsigned long long)o, (unsigned long long)cs[i].off);
	}
}

/* Values from gdb: print (long)&((struct _is*)0)->gc, print sizeof(...). */
START_TEST(test_libpython_311)
{
	static const struct off_case cs[] = {
		{ "_is", "gc", 0x288 },
		{ "struct _is", "threads.head", 0x10 },
		{ "pool_header", "nextoffset", 0x28 },
		{ "_gc_runtime_state", "generations", 0x18 },
		{ "_typeobject", "tp_flags", 0xa8 },
		{ "PyTypeObject", "tp_name", 0x18 },
		{ "_heaptypeobject", "ht_type.tp_flags", 0xa8 },
		{ "PyTupleObject", "ob_item", 0x18 },
		{ "PyTupleObject", "ob_base.ob_base.ob_type", 0x8 },
		{ "pyruntimestate", "interpreters.head", 0x28 },
		{ "PyASCIIObject", "state", 0x20 },
		{ "PyDictObject", "ma_keys", 0x20 },
		{ "_longobject", "ob_digit", 0x18 },
		{ "_is", "no_such_member", ~0ULL },
		{ "_is", "gc.", ~0ULL },
		{ "no_such_type", "x", ~0ULL },
		{ "_is", NULL, 107752 },
		{ "PyTupleObject", NULL, 32 },
		{ "struct pool_header", NULL, 48 },
		{ "arena_object", NULL, 48 },
		{ "PyCompactUnicodeObject", NULL, 72 },
		{ "PyUnicodeObject", NULL, 80 },
		{ "PyBytesObject", NULL, 40 },
		{ "PyFunctionObject", NULL, 136 },
		{ "PySetObject", NULL, 200 },
		{ "_dictkeysobject", NULL, 32 },
		{ "gc_generation", NULL, 24 },
		{ "_ts", NULL, 360 },
		{ "PyModuleObject", NULL, 56 },
	};
	core_module_t *m = open_pyenv("3.11.7", "libpython3.11.so.1.0");
	uint64_t a, sa, sz;

	if (!m)
		return;
	ck_assert_int_eq(core_module_has_dwarf(m), 1);
	ck_assert_int_eq(core_module_symbol(m, "_PyRuntime", &a, &sz), 0);
	ck_assert_int_eq(core_module_section(m, ".PyRuntime", &sa, NULL), 0);
	ck_assert_uint_eq(a, sa);
	ck_assert_uint_eq(a, 0x54e540);
	ck_assert_uint_eq(sz, 166688);
	/* LOCAL .symtab symbols. */
	ck_assert_int_eq(core_module_symbol(m, "arenas", &a, &sz), 0);
	ck_assert_uint_eq(a, 0x5b7a60);
	ck_assert_uint_eq(sz, 8);
	ck_assert_int_eq(core_module_symbol(m, "maxarenas", &a, NULL), 0);
	ck_assert_int_eq(core_module_symbol(m, "usedpools", &a, NULL), 0);
	check_offsets(m, cs, sizeof(cs) / sizeof(cs[0]));
	core_module_free(m);
}
END_TEST

START_TEST(test_libpython_38)
{
	static const struct off_case cs[] = {
		{ "_is", "tstate_head", 0x8 },
		{ "_is", "gc", ~0ULL },
		{ "pyruntimestate", "gc.generations", 0x170 },
		{ "pyruntimestate", "interpreters.head", 0x20 },
		{ "pool_header", "nextoffset", 0x28 },
		{ "_gc_runtime_state", "generations", 0x18 },
		{ "_typeobject", "tp_flags", 0xa8 },
		{ "PyTupleObject", "ob_item", 0x18 },
		{ "_is", NULL, 2720 },
		{ "pyruntimestate", NULL, 1464 },
		{ "PyFunctionObject", NULL, 120 },
		{ "_dictkeysobject", NULL, 40 },
	};
	core_module_t *m = open_pyenv("3.8.18", "libpython3.8.so.1.0");
	uint64_t a;

	if (!m)
		return;
	ck_assert_int_eq(core_module_symbol(m, "_PyRuntime", &a, NULL), 0);
	ck_assert_uint_eq(a, 0x372e00);
	ck_assert_int_eq(core_module_symbol(m, "arenas", &a, NULL), 0);
	ck_assert_uint_eq(a, 0x359960);
	check_offsets(m, cs, sizeof(cs) / sizeof(cs[0]));
	core_module_free(m);
}
END_TEST

START_TEST(test_libpython_312_obmalloc)
{
	core_module_t *m = open_pyenv("3.12.1", "libpython3.12.so.1.0");
	uint64_t sz;

	if (!m)
		return;
	ck_assert_int_eq(core_module_type_size(m, "_obmalloc_state", &sz), 0);
	ck_assert_uint_eq(sz, 263248);
	core_module_free(m);
}
END_TEST

/* ---- a real core from gcore ---- */

static const char *pick_python(void)
{
	static char py[4096];
	snprintf(py, sizeof py, "%s/versions/3.11.7/bin/python3.11", tu_pyenv_root());
	if (access(py, X_OK) == 0)
		return py;
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : NULL;
}

START_TEST(test_gcore)
{
	const char *py = pick_python(), *tmp = TU_TMP();
	char prefix[4096], corepath[4200], cmd[8400], err[512];
	core_t *c = NULL;
	core_module_t *m;
	uint64_t a;
	uint8_t b[64];
	pid_t pid;
	int st, r;

	if (!py || !tu_in_path("gcore")) {
		TU_SKIP("check_core: %s, gcore test not run",
			py ? "gcore is not installed (package gdb)" : "no python3 on this machine");
		return;
	}
	mkdir(tmp, 0755);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(py, py, "-c", "import os,signal; os.kill(os.getpid(), signal.SIGSTOP)",
		      (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, WUNTRACED), pid);
	ck_assert_msg(WIFSTOPPED(st), "python child did not stop itself (status %d)", st);
	snprintf(prefix, sizeof(prefix), "%s/check-core-gcore", tmp);
	snprintf(corepath, sizeof(corepath), "%s.%d", prefix, (int)pid);
	snprintf(cmd, sizeof(cmd), "gcore -o '%s' %d >/dev/null 2>&1", prefix, (int)pid);
	r = system(cmd);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	if (r != 0 || access(corepath, R_OK) != 0) {
		const char *why = tu_no_cores();
		unlink(corepath);
		ck_assert_msg(why, "gcore failed on a stopped python child");
		TU_SKIP("check_core: %s: gcore test not run", why);
		return;
	}
	r = core_open(&c, corepath, NULL, err, sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_int_eq(core_pid(c), pid);
	ck_assert_uint_ge(core_thread_count(c), 1);
	ck_assert_int_eq(core_thread_tid(c, 0), pid);
	ck_assert_uint_eq(core_missing_bytes(c), 0);
	ck_assert_ptr_nonnull(core_module_exe(c));
	ck_assert_str_eq(core_exe(c), core_module_name(core_module_exe(c)));
	ck_assert_ptr_nonnull(strstr(core_exe(c), "python"));
	/* gdb's gcore fills pr_psargs with argv[0] only. */
	ck_assert_ptr_nonnull(strstr(core_cmdline(c), "python"));
	m = core_module_find(c, "libpython3.");
	if (!m)
		m = core_module_exe(c);
	ck_assert_ptr_nonnull(core_module_find(c, "libc"));
	ck_assert_int_eq(core_module_symbol(m, "_PyRuntime", &a, NULL), 0);
	ck_assert_uint_ge(a, core_module_base(m));
	ck_assert_uint_eq(core_read(c, a, b, sizeof(b)), sizeof(b));
	ck_assert_ptr_nonnull(core_ptr(c, a, sizeof(b)));
	/* Read-only text the core omits still reads, through the file. */
	ck_assert_int_eq(core_module_symbol(m, "Py_Initialize", &a, NULL), 0);
	ck_assert_uint_eq(core_read(c, a, b, 16), 16);
	/* The exe's ELF header is in memory at its base. */
	ck_assert_uint_eq(core_read(c, core_module_base(core_module_exe(c)), b, 4), 4);
	ck_assert_int_eq(memcmp(b, "\177ELF", 4), 0);
	for (size_t i = 0; i < core_warning_count(c); i++)
		ck_assert_msg(!strstr(core_warning(c, i), "build-id"), "%s", core_warning(c, i));
	/* Separate debug info found by build-id (Debian's libc6-dbg). */
	m = core_module_find(c, "libc.so");
	ck_assert_ptr_nonnull(m);
	/* scripts/install-deps.sh installs libc6-dbg for this check */
	ck_assert_msg(core_module_has_dwarf(m), "no separate debug info found by build-id for %s "
		      "(is libc6-dbg installed?)", core_module_name(m));
	{
		ck_assert_int_eq(core_module_symbol(m, "main_arena", &a, NULL), 0);	/* LOCAL */
		ck_assert_uint_ge(a, core_module_base(m));
		ck_assert_int_eq(core_module_member_offset(m, "malloc_state", "top", &a), 0);
		ck_assert_uint_eq(a, 0x60);
	}
	/* The address space classified: every byte of every segment once, in
	 * order, the thread's stack pointer in a stack range, libc's data in a
	 * module data range. */
	{
		core_map_range *mr;
		size_t n, stack = 0;
		uint64_t regs[CORE_NREGS], sum = 0, memsz = 0, d, dsz;
		ck_assert_int_eq(core_mappings(c, &mr, &n), 0);
		ck_assert_int_eq(core_thread_regs(c, 0, regs), 0);
		ck_assert_int_eq(core_module_data_at(m, 0, &d, &dsz), 0);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_lt(mr[i].lo, mr[i].hi);
			if (i)
				ck_assert_uint_le(mr[i - 1].hi, mr[i].lo);
			sum += mr[i].hi - mr[i].lo;
			if (regs[CORE_REG_RSP] >= mr[i].lo && regs[CORE_REG_RSP] < mr[i].hi)
				stack = mr[i].kind == CORE_MAP_STACK;
			if (d >= mr[i].lo && d < mr[i].hi)
				ck_assert_uint_eq(mr[i].kind, CORE_MAP_MODULE_DATA);
		}
		for (size_t i = 0; i < core_segment_count(c); i++)
			memsz += core_segment_at(c, i)->memsz;
		ck_assert_uint_eq(sum, memsz);
		ck_assert_msg(stack, "the stack pointer is in no stack range");
		free(mr);
	}
	/* glibc's malloc, by symbols and by structure: the same figures, the
	 * arena's heap adding up */
	{
		core_malloc *ms, *mt;
		ck_assert_int_eq(core_malloc_open(&ms, c, 0, err, sizeof err), 0);
		ck_assert_int_eq(core_malloc_open(&mt, c, CORE_MALLOC_BY_STRUCTURE, err, sizeof err), 0);
		ck_assert_str_eq(core_malloc_found_by(ms), "symbols");
		ck_assert_str_eq(core_malloc_found_by(mt), "structure");
		const core_mallinfo *x = core_malloc_info(ms), *y = core_malloc_info(mt);
		ck_assert_uint_gt(x->arena, 0);
		ck_assert_uint_eq(x->arena, y->arena);
		ck_assert_uint_eq(x->uordblks, y->uordblks);
		ck_assert_uint_eq(x->fordblks, y->fordblks);
		ck_assert_uint_eq(x->hblkhd, y->hblkhd);
		ck_assert_uint_eq(x->uordblks + x->fordblks, x->arena);
		const core_malloc_arena *ar = core_malloc_arena_at(ms, 0);
		ck_assert(ar && ar->main);
		ck_assert_uint_eq(ar->used + ar->tcache_structs + ar->free_bins + ar->free_fast +
				  ar->free_tcache + ar->free_unbinned + ar->top_walked + ar->headers +
				  ar->released + ar->unwalked, ar->heap_bytes);
		ck_assert_uint_eq(ar->unwalked, 0);
		/* the chunks are sorted and found by address */
		const core_chunk *ch = core_malloc_chunks(ms);
		for (size_t i = 1; i < core_malloc_chunk_count(ms); i++)
			ck_assert_uint_lt(ch[i - 1].addr, ch[i].addr);
		if (core_malloc_chunk_count(ms))
			ck_assert_int_eq(core_malloc_chunk_find(ms, ch[0].addr + 16), 0);
		core_malloc_free(ms);
		core_malloc_free(mt);
	}
	core_free(c);
	unlink(corepath);
}
END_TEST

/* ---- compressed cores: zstd frames and their checksums ---- */

/* size bytes that compress well but not to nothing: runs of a counter and
 * of a pseudo-random walk, and 3 MiB of zeros (RLE blocks) from 4 MiB */
static uint8_t *zdata(size_t size)
{
	uint8_t *d = malloc(size);
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	ck_assert_ptr_nonnull(d);
	for (size_t i = 0; i < size; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = (i / 4096) % 3 ? i / 64 : (x & 0x0f0f0f0f0f0f0f0fULL);
		if (i >= ((size_t)4 << 20) && i < ((size_t)7 << 20))
			v = 0;
		memcpy(d + i, &v, size - i < 8 ? size - i : 8);
	}
	return d;
}

/* Appends one zstd frame of src[0..n) to out (at *len, room cap), with or
 * without a checksum. */
static void zframe_put(uint8_t *out, size_t *len, size_t cap, const uint8_t *src, size_t n,
		       int checksum)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	ck_assert_ptr_nonnull(c);
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1)));
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum)));
	size_t r = ZSTD_compress2(c, out + *len, cap - *len, src, n);
	ck_assert_msg(!ZSTD_isError(r), "%s", ZSTD_getErrorName(r));
	*len += r;
	ZSTD_freeCCtx(c);
}

static int zdecode(const uint8_t *z, size_t zn, const uint8_t *want, size_t wn, char *err,
		   size_t errlen)
{
	uint8_t *out;
	size_t n;

	ck_assert_int_eq(core_compression(z, zn), CORE_COMP_ZSTD);
	if (core_decompress(&out, &n, CORE_COMP_ZSTD, z, zn, "t.zst", err, errlen) < 0)
		return -1;
	ck_assert_uint_eq(n, wn);
	ck_assert(memcmp(out, want, n) == 0);
	munmap(out, n);
	return 0;
}

START_TEST(test_zstd_frames)
{
	/* XXH64 (seed 0) of short inputs, as published with xxHash, and of
	 * longer ones against the checksum zstd writes */
	ck_assert_uint_eq(core_xxh64("", 0), 0xef46db3751d8e999ULL);
	ck_assert_uint_eq(core_xxh64("a", 1), 0xd24ec4f1a98c6e5bULL);
	ck_assert_uint_eq(core_xxh64("abc", 3), 0x44bc2cf5ad770999ULL);

	size_t n1 = ((size_t)20 << 20) + 37, n2 = ((size_t)9 << 20) + 5, n3 = 31;
	size_t total = n1 + n2 + n3, cap = ZSTD_compressBound(total) + 4096, zn = 0;
	uint8_t *d = zdata(total), *z = malloc(cap);
	char err[256];
	size_t ends[3];

	ck_assert_ptr_nonnull(z);
	for (size_t i = total - n3, x = 12345; i < total; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		d[i] = (uint8_t)(x >> 56);
	}
	for (size_t k = 1; k <= 64; k += 21) {
		uint8_t one[80];
		size_t on = 0;
		zframe_put(one, &on, sizeof one, d, k, 1);
		uint32_t sum;
		memcpy(&sum, one + on - 4, 4);
		ck_assert_uint_eq((uint32_t)core_xxh64(d, k), sum);
	}
	/* three frames, a skippable frame between the first two, the second
	 * without a checksum */
	zframe_put(z, &zn, cap, d, n1, 1);
	ends[0] = zn;
	static const uint8_t user[12] = {0x53, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
	memcpy(z + zn, user, sizeof user);
	zn += sizeof user;
	zframe_put(z, &zn, cap, d + n1, n2, 0);
	ends[1] = zn;
	zframe_put(z, &zn, cap, d + n1 + n2, n3, 1);
	ends[2] = zn;
	ck_assert_int_eq(zdecode(z, zn, d, total, err, sizeof err), 0);

	/* a wrong checksum in the first frame, then in the last: named (only
	 * pyheap's own check names the frame, and it checks only an input
	 * whose frames and blocks it walked: zstd's message would fail this) */
	for (int f = 0; f < 3; f += 2) {
		z[ends[f] - 2] ^= 0x40;
		ck_assert_int_eq(zdecode(z, zn, d, total, err, sizeof err), -1);
		ck_assert_msg(strstr(err, "t.zst: corrupt zstd stream") && strstr(err, "checksum") &&
			      strstr(err, f ? "(frame 4)" : "(frame 1)"), "%s", err);
		z[ends[f] - 2] ^= 0x40;
	}
	/* a byte of content changed where the decoder cannot tell (the last
	 * frame's 31 random bytes are stored as they are): only its checksum
	 * can */
	ck_assert_int_eq(zdecode(z, zn, d, total, err, sizeof err), 0);
	uint8_t *lit = memmem(z + ends[1], ends[2] - ends[1], d + total - 12, 8);
	ck_assert_ptr_nonnull(lit);
	lit[3] ^= 1;
	ck_assert_int_eq(zdecode(z, zn, d, total, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "checksum") && strstr(err, "(frame 4)"), "%s", err);
	lit[3] ^= 1;
	/* truncated inside the first frame: zstd's own path, still an error */
	ck_assert_int_eq(zdecode(z, ends[0] - 9, d, n1, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "t.zst: truncated zstd stream") != NULL, "%s", err);
	free(z);
	free(d);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("synth");
	TCase *py = tcase_create("libpython");
	TCase *gc = tcase_create("gcore");
	TCase *zc = tcase_create("compressed");

	tcase_add_test(tc, test_synth_process);
	tcase_add_test(tc, test_synth_options);
	tcase_add_test(tc, test_synth_exe_from_execfn);
	tcase_add_test(tc, test_synth_badnotes);
	tcase_add_test(tc, test_synth_reads);
	tcase_add_test(tc, test_synth_module_reads);
	tcase_add_test(tc, test_synth_truncated);
	tcase_add_test(tc, test_synth_badbuildid);
	tcase_add_test(tc, test_synth_symbols);
	tcase_add_test(tc, test_bad_inputs);
	tcase_add_test(tc, test_bad_module_file);
	tcase_add_test(tc, test_fuzz_synth);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(py, test_libpython_311);
	tcase_add_test(py, test_libpython_38);
	tcase_add_test(py, test_libpython_312_obmalloc);
	tcase_set_timeout(py, 120);
	suite_add_tcase(s, py);
	tcase_add_test(zc, test_zstd_frames);
	tcase_set_timeout(zc, 120);
	suite_add_tcase(s, zc);
	tcase_add_test(gc, test_gcore);
	tcase_set_timeout(gc, 300);
	suite_add_tcase(s, gc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	snprintf(fixdir, sizeof(fixdir), "%s/fixtures/synth", TU_SRC());
	/* The committed fixtures may be missing (e.g. a .gitignore dropping
	 * *.core): regenerate them into the scratch dir. */
	if (access(fix("synth.core"), R_OK) != 0) {
		char cmd[8400];

		snprintf(fixdir, sizeof(fixdir), "%s/synth", TU_TMP());
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && python3 '%s/fixtures/synth/gen_synth_core.py' '%s'",
			 fixdir, TU_SRC(), fixdir);
		if (system(cmd) != 0)
			fprintf(stderr, "check_core: could not regenerate fixtures into %s\n", fixdir);
		else
			fprintf(stderr, "check_core: fixtures/synth/*.core missing, regenerated into %s\n",
				fixdir);
	}
	sr = srunner_create(core_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
