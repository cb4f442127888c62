/*
 * check_offsets.c - the built-in offset tables against the DWARF they came from.
 *
 * Three independent witnesses for pyheap/offsets_tables.c:
 *   - libdw, through core_module_open_file() + core_module_member_offset(),
 *     on each pyenv libpython present;
 *   - gdb, through `scripts/gen-offsets.sh --print VERSION` (the generator
 *     itself, so a stale generated file shows up here);
 *   - the 3.13 _Py_DebugOffsets block stored in the 3.13 libpython, through
 *     ph_offsets_apply_debug(), plus the values the reference doc lists.
 * Missing builds or a missing gdb skip loudly but do not fail.
 */
#include <check.h>
#include <elf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "debug_offsets.h"
#include "offsets.h"
#include "version.h"
#include "testutil.h"

/* The builds the layouts were read from: the program's own list. */
#define NVERSIONS ((int)ph_offsets_layout_count)
#define versions_at(i) (ph_offsets_layouts[i].build)

/* The layout read from build v. */
static const ph_offsets *layout(const char *v)
{
	const ph_offsets *t = ph_offsets_layout_of(v);
	ck_assert_msg(t != NULL, "no built-in layout %s", v);
	return t;
}

/* The file scripts/gen-offsets.sh names for layout v (what: "--dwarf" for
 * the file with its DWARF, "--binary" for the one with its _PyRuntime),
 * or NULL (with a SKIP line) when this machine does not have it.  Pyenv's
 * builds, and Debian's debug files and chroots (scripts/distro.sh), are
 * what the layouts were read from; on CI a missing one is a failure. */
static const char *layout_file(const char *v, const char *what, char *buf, size_t cap)
{
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "PYENV_ROOT='%s' bash '%s/scripts/gen-offsets.sh' %s '%s'",
		 tu_pyenv_root(), TU_SRC(), what, v);
	FILE *p = popen(cmd, "r");
	buf[0] = 0;
	if (p) {
		if (!fgets(buf, (int)cap, p))
			buf[0] = 0;
		pclose(p);
	}
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0] || access(buf, R_OK) != 0) {
		const char *ci = getenv("CI");
		ck_assert_msg(!(ci && strcmp(ci, "true") == 0),
			      "layout %s: %s file %s missing on CI (scripts/distro.sh makes it)",
			      v, what, buf);
		TU_SKIP("layout %s: %s file not on this machine (%s)", v, what, buf);
		return NULL;
	}
	return buf;
}

static const char *libpython(const char *v, char *buf, size_t cap)
{
	return layout_file(v, "--dwarf", buf, cap);
}

/* Appends a line to a bounded report, so one failing test names every bad field. */
static void report(char *rep, size_t cap, int *nbad, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(char *rep, size_t cap, int *nbad, const char *fmt, ...)
{
	size_t n = strlen(rep);
	va_list ap;

	(*nbad)++;
	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(rep + n, cap - n, fmt, ap);
	va_end(ap);
}

/* ---- the catalogue ---- */

START_TEST(test_catalogue)
{
	ck_assert_uint_eq(ph_offset_desc_count, sizeof(ph_offsets) / sizeof(int64_t));
	for (size_t i = 0; i < ph_offset_desc_count; i++) {
		const ph_offset_desc *d = &ph_offset_descs[i];
		ck_assert_uint_eq(d->index, i);
		ck_assert_ptr_nonnull(d->name);
		ck_assert_ptr_nonnull(d->type);
		ck_assert_ptr_nonnull(d->member);
		ck_assert(d->name[0] && d->type[0]);
	}
	/* spot checks that the index really addresses the named field */
	ph_offsets o;
	memset(&o, 0, sizeof o);
	o.tp_flags = 0x1234;
	for (size_t i = 0; i < ph_offset_desc_count; i++)
		if (strcmp(ph_offset_descs[i].name, "tp_flags") == 0)
			ck_assert_int_eq(ph_offsets_get(&o, i), 0x1234);
	ck_assert_ptr_null(ph_offsets_layout_of("3.7.0"));
	ck_assert_ptr_null(ph_offsets_layout_of(NULL));
	/* every release entry names a layout that exists, and the entries of
	 * one minor version cover disjoint patch ranges, oldest first */
	size_t n;
	const ph_traits *tr = ph_traits_all(&n);
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(tr[i].layouts[0]);
		for (size_t l = 0; l < 4 && tr[i].layouts[l]; l++)
			ck_assert_msg(ph_offsets_layout_of(tr[i].layouts[l]) != NULL,
				      "3.%d: layout %s not built in", tr[i].minor, tr[i].layouts[l]);
		ck_assert_int_le(tr[i].micro_lo, tr[i].micro_hi);
		ck_assert_ptr_eq(ph_traits_find(tr[i].minor, tr[i].micro_lo), &tr[i]);
		ck_assert_ptr_eq(ph_traits_find(tr[i].minor, tr[i].micro_hi), &tr[i]);
		ck_assert(ph_minor_supported(tr[i].minor));
		ck_assert(tr[i].arena_size % tr[i].pool_size == 0);
		/* traits whose 0 means "not set" */
		ck_assert_msg(tr[i].sizeof_prefix != 0, "3.%d.%d: no sizeof_prefix",
			      tr[i].minor, tr[i].micro_lo);
		ck_assert_msg(tr[i].ctypes != 0, "3.%d.%d: no ctypes", tr[i].minor, tr[i].micro_lo);
		if (i > 0)
			ck_assert(tr[i - 1].minor < tr[i].minor ||
				  (tr[i - 1].minor == tr[i].minor &&
				   tr[i - 1].micro_hi < tr[i].micro_lo));
	}
	ck_assert(!ph_minor_supported(tr[0].minor - 1));
	ck_assert(!ph_minor_supported(tr[n - 1].minor + 1));
	ck_assert_ptr_null(ph_traits_find(tr[n - 1].minor + 1, 0));
}
END_TEST

/* Facts that must hold in every table whatever the generator did: catches a
 * field left out of an initialiser (it would read 0, not -1). */
START_TEST(test_tables_sane)
{
	for (int i = 0; i < NVERSIONS; i++) {
		const ph_offsets *t = ph_offsets_layouts[i].offsets;
		int m = atoi(strchr(versions_at(i), '.') + 1);
		ck_assert_msg(ph_traits_find(m, -1) != NULL, "layout %s: no release 3.%d",
			      versions_at(i), m);
		ck_assert_int_eq(t->tp_name, 0x18);
		ck_assert_int_eq(t->tp_flags, 0xa8);
		ck_assert_int_eq(t->ao_size, 48);
		ck_assert_int_eq(t->pool_ref, 0);
		ck_assert_int_eq(t->pool_freeblock, 8);
		ck_assert_int_eq(t->pool_nextpool, 0x10);
		ck_assert_int_eq(t->pool_arenaindex, 0x20);
		ck_assert_int_eq(t->pool_szidx, 0x24);
		ck_assert_int_eq(t->pool_nextoffset, 0x28);
		ck_assert_int_eq(t->pool_maxnextoffset, 0x2c);
		ck_assert_int_eq(t->ascii_size, m <= 11 ? 0x30 : 0x28);
		ck_assert_int_eq(t->long_digit, 0x18);
		ck_assert_int_eq(t->dk_indices, m <= 10 ? 0x28 : 0x20);
		ck_assert_int_eq(t->rt_gc, m == 8 ? 0x158 : -1);
		ck_assert(m >= 12 ? t->is_obmalloc > 0 : t->is_obmalloc == -1);
		/* sizes are never 0 or absent */
		ck_assert_int_gt(t->rt_size, 0);
		ck_assert_int_gt(t->is_size, 0);
		ck_assert_int_gt(t->ts_size, 0);
		ck_assert_int_gt(t->tp_size, 0);
		ck_assert_int_gt(t->ht_size, 0);
		ck_assert_int_gt(t->gen_size, 0);
		ck_assert_int_gt(t->compact_size, 0);
	}
	ck_assert_int_eq(layout("3.11.7")->is_gc, 0x288);
	ck_assert_int_eq(layout("3.11.7")->is_threads_head, 0x10);
}
END_TEST

/* The values reference doc section 1.7 lists for 3.13.0's _Py_DebugOffsets. */
START_TEST(test_313_matches_doc)
{
	const ph_offsets *t = layout("3.13.0");
	ck_assert_int_eq(t->rt_size, 0x452b8);
	ck_assert_int_eq(t->rt_interpreters_head, 0x278);
	ck_assert_int_eq(t->is_size, 0x2f998);
	ck_assert_int_eq(t->is_id, 0x1c68);
	ck_assert_int_eq(t->is_next, 0x1c60);
	ck_assert_int_eq(t->is_threads_head, 0x1cb0);
	ck_assert_int_eq(t->is_gc, 0x1ce8);
	ck_assert_int_eq(t->is_modules, 0x1de8);
	ck_assert_int_eq(t->is_sysdict, 0x1dd8);
	ck_assert_int_eq(t->is_builtins, 0x1de0);
	ck_assert_int_eq(t->ts_size, 0x130);
	ck_assert_int_eq(t->ts_next, 8);
	ck_assert_int_eq(t->ts_interp, 0x10);
	ck_assert_int_eq(t->ts_current_frame, 0x48);
	ck_assert_int_eq(t->ts_thread_id, 0x98);
	ck_assert_int_eq(t->ts_native_thread_id, 0xa0);
	ck_assert_int_eq(t->tp_size, 0x1a0);
	ck_assert_int_eq(t->tuple_ob_item, 0x18);
	ck_assert_int_eq(t->list_ob_item, 0x18);
	ck_assert_int_eq(t->dict_ma_keys, 0x20);
	ck_assert_int_eq(t->dict_ma_values, 0x28);
	ck_assert_int_eq(t->long_lv_tag, 0x10);
	ck_assert_int_eq(t->long_digit, 0x18);
	ck_assert_int_eq(t->bytes_sval, 0x20);
	ck_assert_int_eq(t->ascii_state, 0x20);
	ck_assert_int_eq(t->ascii_length, 0x10);
	ck_assert_int_eq(t->ascii_size, 0x28);
	ck_assert_int_eq(t->gc_collecting, 0xc8);
}
END_TEST

/* ---- witness 1: libdw through the core module API ---- */

START_TEST(test_dwarf_libdw)
{
	const char *v = versions_at(_i);
	char path[512], err[256] = "", rep[4096] = "";
	core_module_t *m = NULL;
	int nbad = 0;

	if (!libpython(v, path, sizeof path))
		return;
	ck_assert_msg(core_module_open_file(&m, path, err, sizeof err) == 0,
		      "core_module_open_file(%s): %s", path, err);
	ck_assert_msg(core_module_has_dwarf(m), "%s: no DWARF", path);

	const ph_offsets *t = layout(v);
	ck_assert_ptr_nonnull(t);
	for (size_t i = 0; i < ph_offset_desc_count; i++) {
		const ph_offset_desc *d = &ph_offset_descs[i];
		int64_t want = ph_offsets_get(t, d->index), got = -1;
		uint64_t val;

		/* the '|' alternatives in order, as the generator tries them:
		 * the first type that exists, then its first member that does */
		char types[256], *tsave = NULL;
		snprintf(types, sizeof types, "%s", d->type);
		for (char *ty = strtok_r(types, "|", &tsave); ty; ty = strtok_r(NULL, "|", &tsave)) {
			if (core_module_type_size(m, ty, &val) != 0)
				continue;
			if (d->member[0] == '\0')
				got = (int64_t)val;
			char alts[256], *save = NULL;
			snprintf(alts, sizeof alts, "%s", d->member);
			for (char *a = strtok_r(alts, "|", &save); d->member[0] && a;
			     a = strtok_r(NULL, "|", &save))
				if (core_module_member_offset(m, ty, a, &val) == 0) {
					got = (int64_t)val;
					break;
				}
			break;
		}
		if (got != want)
			report(rep, sizeof rep, &nbad, "  %s (%s %s): table %lld, libdw %lld\n",
			       d->name, d->type, d->member[0] ? d->member : "sizeof",
			       (long long)want, (long long)got);
	}
	core_module_free(m);
	if (nbad)
		fprintf(stderr, "python %s, libdw disagrees with the table:\n%s", v, rep);
	ck_assert_msg(nbad == 0, "python %s: %d field(s) differ from libdw DWARF:\n%s", v, nbad, rep);
}
END_TEST

/* ---- witness 2: gdb, through the generator ---- */

/* gen-offsets.sh needs a gdb with Python scripting. */
static int have_gdb(void)
{
	return system("gdb -batch -nx -q -ex 'python print(1)' >/dev/null 2>&1") == 0;
}

START_TEST(test_dwarf_gdb)
{
	const char *v = versions_at(_i);
	char path[512], cmd[1024], line[256], rep[4096] = "";
	int nbad = 0;
	size_t seen = 0;
	unsigned char *hit;

	if (!libpython(v, path, sizeof path))
		return;
	if (!have_gdb()) {
		TU_SKIP("gdb with Python not installed: gen-offsets.sh cross-check of python %s not run", v);
		return;
	}
	const ph_offsets *t = layout(v);
	ck_assert_ptr_nonnull(t);
	hit = calloc(ph_offset_desc_count, 1);
	ck_assert_ptr_nonnull(hit);

	snprintf(cmd, sizeof cmd, "bash '%s/scripts/gen-offsets.sh' --print '%s'", TU_SRC(), v);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof line, p)) {
		char name[128];
		long long got;
		size_t i;

		if (sscanf(line, "%127s %lld", name, &got) != 2) {
			report(rep, sizeof rep, &nbad, "  unparsable line: %s", line);
			continue;
		}
		for (i = 0; i < ph_offset_desc_count; i++)
			if (strcmp(ph_offset_descs[i].name, name) == 0)
				break;
		if (i == ph_offset_desc_count) {
			report(rep, sizeof rep, &nbad, "  %s: not in the catalogue\n", name);
			continue;
		}
		hit[i]++;
		seen++;
		long long want = ph_offsets_get(t, ph_offset_descs[i].index);
		if (got != want)
			report(rep, sizeof rep, &nbad, "  %s: table %lld, gdb %lld\n", name, want, got);
	}
	int rc = pclose(p);
	ck_assert_msg(rc == 0, "%s exited with status %d", cmd, rc);
	for (size_t i = 0; i < ph_offset_desc_count; i++)
		if (hit[i] != 1)
			report(rep, sizeof rep, &nbad, "  %s: printed %d times\n",
			       ph_offset_descs[i].name, hit[i]);
	free(hit);
	if (nbad)
		fprintf(stderr, "python %s, gdb disagrees with the table:\n%s", v, rep);
	ck_assert_msg(nbad == 0, "python %s: %d problem(s) (%zu fields printed):\n%s",
		      v, nbad, seen, rep);
}
END_TEST

/* ---- witness 3: _Py_DebugOffsets ---- */

/* Reads the first len bytes of section `name` of ELF64 file `path` into buf;
 * 0 on success.  Parsed by hand so the test needs nothing but libc. */
static int elf_section_bytes(const char *path, const char *name, uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	int rc = -1;

	if (!f)
		return -1;
	if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum)
		goto out;
	if (fseek(f, (long)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof sh), SEEK_SET) != 0 ||
	    fread(&strsh, sizeof strsh, 1, f) != 1)
		goto out;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		char sname[64] = "";

		if (fseek(f, (long)(eh.e_shoff + (uint64_t)i * sizeof sh), SEEK_SET) != 0 ||
		    fread(&sh, sizeof sh, 1, f) != 1)
			goto out;
		if (fseek(f, (long)(strsh.sh_offset + sh.sh_name), SEEK_SET) != 0 ||
		    !fgets(sname, sizeof sname, f))
			continue;
		if (strcmp(sname, name) != 0)
			continue;
		/* .PyRuntime is initialised data (the debug offsets), never NOBITS */
		if (sh.sh_type == SHT_NOBITS || sh.sh_size < len)
			goto out;
		if (fseek(f, (long)sh.sh_offset, SEEK_SET) == 0 && fread(buf, 1, len, f) == len)
			rc = 0;
		goto out;
	}
out:
	fclose(f);
	return rc;
}

/* For every release with _Py_DebugOffsets and each of its layouts read
 * from a build: the block in that build's .PyRuntime section, laid over
 * the layout, changes nothing (the block and the DWARF agree), and sets
 * as many fields as the map promises. */
START_TEST(test_debug_offsets_real)
{
	size_t nt;
	const ph_traits *tr = ph_traits_all(&nt);
	int checked = 0;
	for (size_t k = 0; k < nt; k++) {
		if (tr[k].debug_offsets == PH_DO_NONE)
			continue;
		for (size_t l = 0; l < 4 && tr[k].layouts[l]; l++) {
			const char *v = tr[k].layouts[l];
			char path[512];
			uint8_t blk[PH_DEBUG_OFFSETS_MAX];
			bool built = false;
			for (int i = 0; i < NVERSIONS; i++)
				built |= strcmp(versions_at(i), v) == 0;
			if (!built || !layout_file(v, "--binary", path, sizeof path))
				continue;   /* derived from another layout, or not here */
			memset(blk, 0, sizeof blk);
			ck_assert_msg(elf_section_bytes(path, ".PyRuntime", blk, 0x248) == 0,
				      "%s: cannot read the .PyRuntime section", path);
			elf_section_bytes(path, ".PyRuntime", blk, sizeof blk);
			uint64_t ver = ph_debug_offsets_version(blk, sizeof blk);
			ck_assert_msg((int)(ver >> 16 & 0xff) == tr[k].minor,
				      "%s: block version 0x%llx", path, (unsigned long long)ver);
			ck_assert(!ph_debug_offsets_free_threaded(blk, sizeof blk));
			ph_offsets o = *layout(v);
			int n = ph_offsets_apply_debug(&o, tr[k].debug_offsets, blk, sizeof blk);
			ck_assert_msg(n > 20, "%s: %d fields from the block", v, n);
			for (size_t i = 0; i < ph_offset_desc_count; i++)
				ck_assert_msg(ph_offsets_get(&o, i) == ph_offsets_get(layout(v), i),
					      "%s: %s: DWARF %lld, _Py_DebugOffsets %lld", v,
					      ph_offset_descs[i].name,
					      (long long)ph_offsets_get(layout(v), i),
					      (long long)ph_offsets_get(&o, i));
			/* applied to a blank table, exactly n fields get a value */
			ph_offsets blank;
			size_t set = 0;
			for (size_t i = 0; i < ph_offset_desc_count; i++)
				((int64_t *)&blank)[i] = -1;
			ck_assert_int_eq(ph_offsets_apply_debug(&blank, tr[k].debug_offsets, blk,
								sizeof blk), n);
			for (size_t i = 0; i < ph_offset_desc_count; i++)
				set += ph_offsets_get(&blank, i) != -1;
			ck_assert_uint_eq(set, (size_t)n);
			checked++;
		}
	}
	if (!checked)
		TU_SKIP("no build with _Py_DebugOffsets on this machine");
}
END_TEST

/* Rejections, on a synthetic block so they run without any Python installed. */
static void make_block(uint8_t *b, uint64_t version)
{
	memset(b, 0, PH_DEBUG_OFFSETS_SIZE_3_13);
	memcpy(b, "xdebugpy", 8);
	for (int i = 0; i < 8; i++)
		b[8 + i] = (uint8_t)(version >> (8 * i));
	/* a size of 0x100 for every sub-struct, offsets all 8 */
	for (size_t off = 0x18; off < PH_DEBUG_OFFSETS_SIZE_3_13; off += 8)
		b[off] = 8;
	static const size_t sizes[] = { 0x18, 0x30, 0x98, 0xe0, 0x110, 0x160, 0x170, 0x190,
					0x1a8, 0x1c0, 0x1d8, 0x1e8, 0x200, 0x218, 0x238 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		b[sizes[i]] = 0;
		b[sizes[i] + 1] = 1;
	}
}

START_TEST(test_debug_offsets_reject)
{
	uint8_t b[PH_DEBUG_OFFSETS_SIZE_3_13];
	ph_offsets o, before;

	for (size_t i = 0; i < ph_offset_desc_count; i++)
		((int64_t *)&o)[i] = -1;
	before = o;

	make_block(b, 0x030d00f0);
	ck_assert_uint_eq(ph_debug_offsets_version(b, sizeof b), 0x030d00f0);
	ck_assert_uint_eq(ph_debug_offsets_version(b, 15), 0);
	ck_assert_uint_eq(ph_debug_offsets_version(NULL, 0), 0);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, b, sizeof b - 1), -1);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, NULL, sizeof b), -1);
	ck_assert(memcmp(&o, &before, sizeof o) == 0);

	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, b, sizeof b), 30);
	ck_assert_int_eq(o.is_size, 0x100);
	ck_assert_int_eq(o.is_gc, 8);
	o = before;

	b[0] = 'X';	/* bad cookie */
	ck_assert_uint_eq(ph_debug_offsets_version(b, sizeof b), 0);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, b, sizeof b), -1);

	/* a block too short for the layout asked for */
	make_block(b, 0x030e00f0);
	ck_assert_uint_eq(ph_debug_offsets_version(b, sizeof b), 0x030e00f0);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_14, b, sizeof b), -1);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_15, b, sizeof b), -1);
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_NONE, b, sizeof b), -1);

	make_block(b, 0x030d00f0);
	b[0x30 + 8 * 4 + 2] = 1;	/* interpreter_state.gc = 0x10008, past its size */
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, b, sizeof b), -1);

	make_block(b, 0x030d00f0);
	b[0x98 + 7] = 0x80;		/* absurd thread_state size */
	ck_assert_int_eq(ph_offsets_apply_debug(&o, PH_DO_3_13, b, sizeof b), -1);
	ck_assert(memcmp(&o, &before, sizeof o) == 0);
}
END_TEST

static Suite *offsets_suite(void)
{
	Suite *s = suite_create("offsets");
	TCase *tc = tcase_create("tables");
	tcase_set_timeout(tc, 60);   /* not Check's 4 s: reads real binaries, under ASan too */

	tcase_add_test(tc, test_catalogue);
	tcase_add_test(tc, test_tables_sane);
	tcase_add_test(tc, test_313_matches_doc);
	tcase_add_test(tc, test_debug_offsets_reject);
	tcase_add_test(tc, test_debug_offsets_real);
	suite_add_tcase(s, tc);

	/* DWARF of the big 3.13 libpython takes a few seconds to load */
	tc = tcase_create("dwarf");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_dwarf_libdw, 0, NVERSIONS);
	tcase_add_loop_test(tc, test_dwarf_gdb, 0, NVERSIONS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(offsets_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
