/*
 * check_hostile.c - pyheap on hostile and broken cores.
 *
 * A real core of a small Python (pyenv 3.11 when installed: it has the
 * arena table's symbol and DWARF; else /usr/bin/python3.11) is corrupted in
 * memory in many ways, written out, and `pyheap types --json` and `pyheap
 * info --json` run on each variant:
 *
 *   - random bit flips in the writable segments (fixed seeds);
 *   - the arena table pointer NULL, garbage, or aimed into the heap, and a
 *     huge maxarenas;
 *   - pool headers with garbage szidx / nextoffset / freeblock, free lists
 *     that loop;
 *   - GC lists that loop back to an earlier object, NULL and garbage links;
 *   - type objects with garbage tp_flags / tp_name, tp_base and metaclass
 *     loops;
 *   - dict keys objects with huge dk_nentries, strs with huge lengths;
 *   - interpreter and thread lists that loop;
 *   - every core in tests/hostile/ (see its README).
 *
 * PYHEAP_HOSTILE_CORE=FILE runs the variants of FILE instead of a new core:
 * the hostile.core a failing run left in $PYHEAP_TMP/hostile/ (bit flips
 * land differently on each new core).
 *
 * Structures are located in-process through the library (core_open,
 * ph_open, ph_scan: what build/tools/dumpobjs prints) and DWARF offsets
 * (core_module_member_offset), with the 3.8-3.13 x86-64 layouts as a
 * fallback.  Each run must exit 0, 1 or 3 (never a signal: the suite also
 * runs against the ASan/UBSan build), within TIME_LIMIT seconds (killed
 * after that: a failure), in an empty working directory that stays empty,
 * and where a warning is expected, with a warning count > 0 and the summary
 * line on stderr.  Without gcore or ptrace the core cases are skipped
 * loudly.
 */
#include <check.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core.h"
#include "pyheap.h"
#include "testutil.h"

/* A run over this is a hang.  No run takes over 5 s on the development
 * machine, plain or under ASan even with a second test suite running (runs
 * over a quarter of the limit are reported); the sanitizer build gets more
 * room for a loaded CI host. */
#ifdef __SANITIZE_ADDRESS__
#define TIME_LIMIT 60
#else
#define TIME_LIMIT 20
#endif

static char tmp[2048], core_file[4096], pyheap_bin[PATH_MAX];
static uint8_t *pristine;
static size_t psize;

/* what setup learnt about the core */
static struct {
	int ok, minor, has_dwarf;
	uint64_t pool_size;
	uint64_t arenas_sym, maxarenas_sym;      /* 0: no symbol */
	uint64_t runtime;
	uint64_t gc_obj[64];                     /* GC-tracked objects (instances of C) */
	size_t ngc;
	uint64_t arena_obj[4096];                /* objects in arenas */
	size_t narena;
	uint64_t type_c, type_d;                 /* heap types __main__.C, __main__.D */
	uint64_t dicts[256];
	size_t ndicts;
	uint64_t interp, tstate;
	/* offsets */
	int64_t tp_name, tp_flags, tp_base, ht_qualname, ma_keys, dk_nentries, dk_log2,
		ascii_length, ascii_state, is_next, ts_next, rt_interp_head;
} K;

/* ---- the core file: program headers, vaddr -> file offset ---- */

static uint8_t *buf;    /* the variant being built */

static uint8_t *at(uint64_t va, size_t len)
{
	Elf64_Ehdr eh;
	memcpy(&eh, pristine, sizeof eh);
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, pristine + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD || va < ph.p_vaddr || va - ph.p_vaddr >= ph.p_filesz)
			continue;
		uint64_t off = ph.p_offset + (va - ph.p_vaddr);
		if (len > ph.p_filesz - (va - ph.p_vaddr) || off + len > psize)
			return NULL;
		return buf + off;
	}
	return NULL;
}

static void put64(uint64_t va, uint64_t v)
{
	uint8_t *p = at(va, 8);
	ck_assert_msg(p != NULL, "0x%" PRIx64 " is not in the core", va);
	memcpy(p, &v, 8);
}

static void put32(uint64_t va, uint32_t v)
{
	uint8_t *p = at(va, 4);
	ck_assert_msg(p != NULL, "0x%" PRIx64 " is not in the core", va);
	memcpy(p, &v, 4);
}

static uint64_t get64(uint64_t va)
{
	uint64_t v = 0;
	uint8_t *p = at(va, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

static void fresh(void)
{
	memcpy(buf, pristine, psize);
}

/* ---- running pyheap ---- */

static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* Runs argv in cwd with a time limit; -2 when it had to be killed. */
static int run_bounded(char *const argv[], const char *cwd, const char *out, const char *err,
		       double *secs)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || o < 0 || e < 0 || chdir(cwd) < 0)
			_exit(126);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	int st = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= TIME_LIMIT) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -2;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (secs)
		*secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char out_text[1 << 20], err_text[1 << 16];

/* Offset of the first byte that is not strict UTF-8 (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF), or -1.  A JSON reader
 * refuses such output (Python's json did, on a type name a flipped bit had
 * made C0 9F). */
static long bad_utf8_at(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			return (long)i;
		unsigned cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (long)i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += len;
	}
	return -1;
}

/* Runs `pyheap CMD --json [extra] core` in an empty cwd; checks the exit
 * code, the time and that nothing was written.  Returns the exit code. */
static int run_pyheap(const char *name, const char *cmd, const char *core, const char *extra)
{
	char cwd[4200], out[4200], err[4200];
	snprintf(cwd, sizeof cwd, "%s/cwd", tmp);
	snprintf(out, sizeof out, "%s/out.json", tmp);
	snprintf(err, sizeof err, "%s/err.txt", tmp);
	mkdir(cwd, 0755);
	ck_assert_msg(dir_entries(cwd) == 0, "%s: cwd not empty before the run", name);
	char *argv[8];
	int n = 0;
	argv[n++] = pyheap_bin;
	if (extra)
		argv[n++] = (char *)extra;
	argv[n++] = (char *)cmd;
	argv[n++] = "--json";
	argv[n++] = (char *)core;
	argv[n] = NULL;
	double secs = 0;
	int rc = run_bounded(argv, cwd, out, err, &secs);
	if (secs > TIME_LIMIT / 4.0)
		fprintf(stderr, "check_hostile: %s: pyheap %s took %.1f s (limit %d s)\n", name, cmd,
			secs, TIME_LIMIT);
	tu_slurp(err, err_text, sizeof err_text);
	tu_slurp(out, out_text, sizeof out_text);
	ck_assert_msg(rc != -2, "%s: pyheap %s ran over %d s (a hang)", name, cmd, TIME_LIMIT);
	ck_assert_msg(!strstr(err_text, "runtime error:") && !strstr(err_text, "Sanitizer"),
		      "%s: pyheap %s: a sanitizer report (exit %d):\n%.2000s", name, cmd, rc, err_text);
	ck_assert_msg(rc == 0 || rc == 1 || rc == 3, "%s: pyheap %s: exit %d (%s)\nstderr: %.2000s",
		      name, cmd, rc, rc > 128 ? "killed by a signal" : "unexpected", err_text);
	ck_assert_msg(dir_entries(cwd) == 0, "%s: pyheap %s wrote files into its cwd", name, cmd);
	/* what a JSON reader gets: strict UTF-8 (the output that fits the
	 * buffer; a sequence the buffer's end cut is not counted) */
	size_t olen = strlen(out_text);
	long bad = bad_utf8_at((const unsigned char *)out_text, olen);
	if (bad >= 0 && olen == sizeof out_text - 1 && (size_t)bad + 4 > olen)
		bad = -1;
	ck_assert_msg(bad < 0, "%s: pyheap %s --json: not UTF-8 at byte %ld: ...%.60s", name, cmd,
		      bad, out_text + (bad > 40 ? bad - 40 : 0));
	if (rc == 1) {
		/* unusable: one line naming the file, no output */
		ck_assert_msg(strstr(err_text, core) != NULL, "%s: error does not name the core: %s",
			      name, err_text);
	}
	if (rc == 3) {
		ck_assert_msg(strstr(err_text, "results may be partial") != NULL,
			      "%s: exit 3 without the summary line: %s", name, err_text);
		const char *w = strstr(out_text, "\"warning_count\":");
		ck_assert_msg(w && strtoull(w + 16, NULL, 10) > 0, "%s: exit 3, warning_count 0", name);
	}
	return rc;
}

/* Writes the variant and runs both commands.  want: NULL = any outcome;
 * else the warnings must be there and stderr must hold `want`. */
static int graph_cmds;   /* check_variant also runs refs, garbage, top, suspects, path,
			  * memory */

static void check_variant(const char *name, const char *want)
{
	char dir[4200], path[4300];
	snprintf(dir, sizeof dir, "%s/v", tmp);
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/variant.core", dir);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, psize, f), psize);
	fclose(f);
	/* both commands scan the whole heap; `types` only for the unaimed
	 * variants, to keep the suite fast under the sanitizers */
	for (int c = want ? 1 : 0; c < 2; c++) {
		const char *cmd = c ? "info" : "types";
		int rc = run_pyheap(name, cmd, path, NULL);
		if (want) {
			ck_assert_msg(rc == 3, "%s: pyheap %s: exit %d, expected 3 (warnings)\nstderr: %.2000s",
				      name, cmd, rc, err_text);
			ck_assert_msg(strstr(err_text, want) != NULL,
				      "%s: pyheap %s: no warning saying '%s'; stderr: %.2000s",
				      name, cmd, want, err_text);
		}
		/* sizes come from memory the core holds: a corrupt length must
		 * not count terabytes (it did, up to 10^11 times the core's size;
		 * bit-flipped variants now stay under 1.3 times) */
		const char *ts = c == 0 && rc != 1 ? strstr(out_text, "\"total_size\":") : NULL;
		if (ts) {
			unsigned long long total = strtoull(ts + 13, NULL, 10);
			ck_assert_msg(total <= 8ull * psize, "%s: pyheap types: total_size %llu for a "
				      "core of %zu bytes", name, total, psize);
		}
	}
	/* types and info scanned for totals only: the totals of the full scan,
	 * warnings included, on every variant */
	{
		char tool[4200], cwd[4200], out[4200], err[4200];
		snprintf(tool, sizeof tool, "%s/scancmp", TU_TOOLS());
		snprintf(cwd, sizeof cwd, "%s/cwd", tmp);
		snprintf(out, sizeof out, "%s/scancmp.txt", tmp);
		snprintf(err, sizeof err, "%s/scancmp.err", tmp);
		char *argv[] = {tool, path, NULL};
		int rc = run_bounded(argv, cwd, out, err, NULL);
		tu_slurp(out, out_text, sizeof out_text);
		tu_slurp(err, err_text, sizeof err_text);
		char kept[4300] = "";
		if (rc != 0) {
			snprintf(kept, sizeof kept, "%s/scancmp-failed.core", tmp);
			if (rename(path, kept) != 0)
				kept[0] = 0;
		}
		ck_assert_msg(rc == 0, "%s: the totals-only scan differs from the full one "
			      "(scancmp exit %d; variant kept as %s):\n%.3000s%.1000s", name, rc,
			      kept[0] ? kept : "-", out_text, err_text);
	}
	/* the reference-graph commands on the variants that stress it (the
	 * report's page goes beside the variant's directory) */
	char page[4300];
	snprintf(page, sizeof page, "-o%s/report.html", tmp);
	for (int c = 0; graph_cmds && c < 7; c++) {
		static const char *const cmds[] = {"refs", "garbage", "top", "suspects", "path",
						   "report", "memory"};
		run_pyheap(name, cmds[c], path, c == 4 ? "--type=dict" : c == 5 ? page : NULL);
	}
	ck_assert_msg(dir_entries(dir) == 1, "%s: pyheap wrote next to the core", name);
	unlink(path);
}

/* check_variant with every command, not only the scans. */
static void check_variant_graph(const char *name)
{
	graph_cmds = 1;
	check_variant(name, NULL);
	graph_cmds = 0;
}

static int have_core(void)
{
	if (!K.ok) {
		const char *why = tu_no_cores();
		int have_py = access("/usr/bin/python3.11", X_OK) == 0 ||
			      access(tu_pyenv_root(), X_OK) == 0;
		/* a machine that can core a python it has must make this core */
		ck_assert_msg(why || !have_py, "could not make or read the test core");
		TU_SKIP("%s: hostile-core cases not run", why ? why : "no python3.11 on this machine");
		return 0;
	}
	return 1;
}

/* ---- the cases ---- */

static uint64_t rng = 1;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

START_TEST(pristine_ok)
{
	if (!have_core())
		return;
	fresh();
	check_variant("pristine", NULL);
	ck_assert_msg(run_pyheap("pristine", "info", core_file, NULL) == 0, "pristine core: %s",
		      err_text);
}
END_TEST

START_TEST(bit_flips)
{
	if (!have_core())
		return;
	/* flips only in writable segments: the heap, not the headers */
	static const unsigned counts[] = {16, 512, 16384, 200000};
	Elf64_Ehdr eh;
	memcpy(&eh, pristine, sizeof eh);
	uint64_t total = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, pristine + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W) && ph.p_offset < psize)
			total += ph.p_filesz < psize - ph.p_offset ? ph.p_filesz : psize - ph.p_offset;
	}
	ck_assert_uint_gt(total, 0);
	for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		char name[64];
		fresh();
		rng = 0x9e3779b97f4a7c15ull * (k + 1);
		for (unsigned j = 0; j < counts[k]; j++) {
			uint64_t x = next_rand() % total;
			for (unsigned i = 0; i < eh.e_phnum; i++) {
				Elf64_Phdr ph;
				memcpy(&ph, pristine + eh.e_phoff + i * sizeof ph, sizeof ph);
				if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W) || ph.p_offset >= psize)
					continue;
				uint64_t len = ph.p_filesz < psize - ph.p_offset ? ph.p_filesz : psize - ph.p_offset;
				if (x < len) {
					buf[ph.p_offset + x] ^= (uint8_t)(1u << (next_rand() & 7));
					break;
				}
				x -= len;
			}
		}
		snprintf(name, sizeof name, "bit flips (%u, seed %zu)", counts[k], k + 1);
		check_variant_graph(name);
	}
}
END_TEST

START_TEST(arena_table)
{
	if (!have_core())
		return;
	if (!K.arenas_sym) {
		TU_SKIP("no `arenas` symbol (stripped Python): arena table cases not run");
		return;
	}
	fresh();
	put64(K.arenas_sym, 0);
	check_variant("arena table NULL", "arena table");
	fresh();
	put64(K.arenas_sym, 0x00007f00deadb000ull);
	check_variant("arena table garbage", "arena table");
	fresh();
	put64(K.arenas_sym, K.arena_obj[0] & ~15ull);  /* records are heap bytes */
	check_variant("arena table into the heap", NULL);
	if (K.maxarenas_sym) {
		fresh();
		put32(K.maxarenas_sym, 0xffffffffu);
		check_variant("maxarenas huge", "arena table");
	}
}
END_TEST

/* Distinct pools holding arena objects. */
static size_t pools(uint64_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < K.narena && n < max; i++) {
		uint64_t p = K.arena_obj[i] & ~(K.pool_size - 1);
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup |= out[j] == p;
		if (!dup)
			out[n++] = p;
	}
	return n;
}

START_TEST(pool_headers)
{
	if (!have_core())
		return;
	uint64_t p[32];
	size_t n = pools(p, 32);
	ck_assert_uint_gt(n, 4);
	fresh();
	for (size_t i = 0; i < n; i++)
		if (!at(p[i], 48))
			p[i--] = p[--n];       /* a pool the core lacks */
	for (size_t i = 0; i < n; i++)
		put32(p[i] + 36, 0x7fffu + (uint32_t)i);          /* szidx */
	check_variant("pool szidx garbage", "invalid pool header");
	fresh();
	for (size_t i = 0; i < n; i++)
		put32(p[i] + 40, 0xfffffff0u);                     /* nextoffset */
	check_variant("pool nextoffset garbage", "invalid pool header");
	fresh();
	for (size_t i = 0; i < n; i++)
		put32(p[i] + 0, 0xffffff);                         /* ref.count */
	check_variant("pool count garbage", "invalid pool header");
	fresh();
	for (size_t i = 0; i < n; i++)
		put64(p[i] + 8, 0x4141414141414140ull);            /* freeblock */
	check_variant("pool freeblock garbage", "free lists cut short");
	/* free lists that loop: the first free block links to itself */
	fresh();
	int loops = 0;
	uint64_t all[1024];
	n = pools(all, 1024);
	for (size_t i = 0; i < n; i++) {
		uint64_t fb = at(all[i], 48) ? get64(all[i] + 8) : 0;
		if (fb > all[i] && fb < all[i] + K.pool_size && at(fb, 8)) {
			put64(fb, fb);
			loops++;
		}
	}
	/* a real heap always has a pool with a free block */
	ck_assert_msg(loops, "no pool with a free block found: free-list cycle not tested");
	check_variant("pool free list cycle", "free lists cut short: cycle");
}
END_TEST

START_TEST(gc_lists)
{
	if (!have_core())
		return;
	ck_assert_uint_gt(K.ngc, 8);
	fresh();
	/* walk forward from one object, then point a later node back at it */
	uint64_t first = K.gc_obj[0] - 16, node = first;
	for (int i = 0; i < 50; i++) {
		uint64_t nx = get64(node) & ~3ull;
		if (!nx || !at(nx, 16))
			break;
		node = nx;
	}
	ck_assert_msg(node != first, "cannot follow the GC list");
	fresh();
	put64(node, first);
	check_variant("GC list cycle", "GC lists cut short");
	fresh();
	put64(node, 0);
	check_variant("GC list NULL link", "NULL link");
	fresh();
	put64(node, 0x0000deadbeef0000ull);
	check_variant("GC list garbage link", "GC lists cut short");
	fresh();
	put64(node, node);                 /* a node that is its own successor */
	check_variant("GC list self link", "GC lists cut short");
	fresh();
	put64(node, first + 8);            /* into the middle of a GC head */
	check_variant_graph("GC list misaligned link");
	/* prev links garbage everywhere we know: must not matter */
	fresh();
	for (size_t i = 0; i < K.ngc; i++)
		put64(K.gc_obj[i] - 8, 0xffffffffffffffffull);
	check_variant("GC prev links garbage", NULL);
}
END_TEST

START_TEST(type_objects)
{
	if (!have_core())
		return;
	/* the test program defines them: not finding them is a failure */
	ck_assert_msg(K.type_c && K.type_d, "heap types C and D not found in the core");
	fresh();
	put64(K.type_c + (uint64_t)K.tp_flags, 0);
	check_variant("type tp_flags zero", "invalid object");
	fresh();
	put64(K.type_c + (uint64_t)K.tp_flags, 0xffffffffffffffffull);
	check_variant("type tp_flags all ones", NULL);
	fresh();
	put64(K.type_c + (uint64_t)K.tp_name, 0x0000dead00000000ull);
	put64(K.type_c + (uint64_t)K.ht_qualname, 0x0000dead00000000ull);
	check_variant("type tp_name garbage", NULL);
	fresh();
	put64(K.type_c + (uint64_t)K.tp_base, K.type_c);
	check_variant("type tp_base self loop", NULL);
	fresh();
	put64(K.type_c + (uint64_t)K.tp_base, K.type_d);
	check_variant_graph("type tp_base loop C<->D");
	fresh();
	put64(K.type_c + 8, K.type_d);     /* ob_type: metaclass loop */
	put64(K.type_d + 8, K.type_c);
	check_variant_graph("type metaclass loop");
	fresh();
	put64(K.type_c + 8, K.type_c);     /* its own metaclass */
	check_variant("type is its own metaclass", NULL);
	/* the qualname str: a huge length and 4-byte kind (regression:
	 * str-length-overflow-hang in tests/hostile/README) */
	fresh();
	uint64_t q = get64(K.type_c + (uint64_t)K.ht_qualname);
	if (q && at(q + (uint64_t)K.ascii_state, 4)) {
		fresh();
		put64(q + (uint64_t)K.ascii_length, 1ull << 62);
		uint32_t st;
		memcpy(&st, at(q + (uint64_t)K.ascii_state, 4), 4);
		put32(q + (uint64_t)K.ascii_state, (st & ~(7u << 2)) | (4u << 2));
		check_variant("qualname str length 2^62, kind 4", NULL);
		fresh();
		put64(q + (uint64_t)K.ascii_length, 1ull << 63);
		put32(q + (uint64_t)K.ascii_state, (st & ~(7u << 2)) | (2u << 2));
		check_variant("qualname str length 2^63, kind 2", NULL);
	}
}
END_TEST

START_TEST(dict_keys)
{
	if (!have_core())
		return;
	ck_assert_uint_gt(K.ndicts, 8);
	fresh();
	for (size_t i = 0; i < K.ndicts; i++) {
		uint64_t keys = get64(K.dicts[i] + (uint64_t)K.ma_keys);
		if (keys && at(keys + (uint64_t)K.dk_nentries, 8))
			put64(keys + (uint64_t)K.dk_nentries, 0x4000000000000000ull + i);
	}
	check_variant("dict keys huge dk_nentries", NULL);
	if (K.dk_log2 >= 0) {
		fresh();
		for (size_t i = 0; i < K.ndicts; i++) {
			uint64_t keys = get64(K.dicts[i] + (uint64_t)K.ma_keys);
			uint8_t *p = keys ? at(keys + (uint64_t)K.dk_log2, 1) : NULL;
			if (p && at(keys + (uint64_t)K.dk_nentries, 8)) {
				*p = 31;
				put64(keys + (uint64_t)K.dk_nentries, (1ull << 31) - 1);
			}
		}
		check_variant("dict keys 2^31 entries", NULL);
	}
	fresh();
	for (size_t i = 0; i < K.ndicts; i++)
		put64(K.dicts[i] + (uint64_t)K.ma_keys, K.dicts[i]);   /* keys = the dict */
	check_variant_graph("dict keys pointing at the dict");
	/* ob_size (an int's digit count before 3.12) of INT64_MIN, whose
	 * negation overflows: found by UBSan on a bit-flipped core in CI */
	fresh();
	for (size_t i = 0; i < K.narena; i++)
		put64(K.arena_obj[i] + 16, 0x8000000000000000ull);
	check_variant_graph("ob_size INT64_MIN");
}
END_TEST

START_TEST(interpreter_lists)
{
	if (!have_core())
		return;
	ck_assert_msg(K.interp && K.is_next >= 0, "interpreter state or its offsets not found");
	fresh();
	put64(K.interp + (uint64_t)K.is_next, K.interp);
	check_variant("interpreter list cycle", NULL);
	if (K.tstate && K.ts_next >= 0) {
		fresh();
		put64(K.tstate + (uint64_t)K.ts_next, K.tstate);
		check_variant("thread list cycle", "thread list has a cycle");
	}
	fresh();
	put64(K.runtime + (uint64_t)K.rt_interp_head, 0x0000dead00000000ull);
	check_variant("interpreter head garbage", NULL);
}
END_TEST

/* Every file in tests/hostile/ that is a core (regressions of fuzz_core and
 * hand-made ones); modules named in them are found with --lib-path
 * fixtures/synth. */
START_TEST(regressions)
{
	char dir[4200], lib[4300];
	snprintf(dir, sizeof dir, "%s/tests/hostile", TU_SRC());
	snprintf(lib, sizeof lib, "--lib-path=%s/fixtures/synth", TU_SRC());
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".core") != 0)
			continue;
		char path[4600];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		run_pyheap(e->d_name, "info", path, lib);
		run_pyheap(e->d_name, "types", path, lib);
		run_pyheap(e->d_name, "arenas", path, NULL);
		n++;
	}
	closedir(d);
	ck_assert_msg(n > 0, "no regression cores in %s", dir);
}
END_TEST

/* ---- setup ---- */

static int make_core(char *const argv[], const char *out)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	char stat_path[64], sbuf[512];
	snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
	int stopped = 0;
	for (int i = 0; i < 300 && !stopped; i++) {    /* 30 s at most */
		tu_slurp(stat_path, sbuf, sizeof sbuf);
		char *p = strrchr(sbuf, ')');
		stopped = p && p[1] == ' ' && p[2] == 'T';
		if (!stopped) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	char pidarg[32], prefix[4200], got[4300];
	snprintf(pidarg, sizeof pidarg, "%d", (int)pid);
	snprintf(prefix, sizeof prefix, "%s.tmp", out);
	char *gc[] = {"gcore", "-o", prefix, pidarg, NULL};
	int rc = stopped ? tu_run(gc, NULL, NULL) : -1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(got, sizeof got, "%s.%d", prefix, (int)pid);
	if (rc != 0 || rename(got, out) != 0)
		return -1;
	return 0;
}

static int64_t member(core_module_t *m, const char *type, const char *mem, int64_t fallback)
{
	uint64_t v;
	if (m && K.has_dwarf && core_module_member_offset(m, type, mem, &v) == 0)
		return (int64_t)v;
	return fallback;
}

static void learn(void)
{
	core_options o = {0};
	ph_options po = {0};
	core_t *c;
	ph_heap *h;
	char err[512];
	if (core_open(&c, core_file, &o, err, sizeof err) < 0) {
		fprintf(stderr, "check_hostile: %s\n", err);
		return;
	}
	if (ph_open(&h, c, &po, err, sizeof err) < 0 || ph_scan(h, NULL, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "check_hostile: %s\n", err);
		core_free(c);
		return;
	}
	K.minor = ph_version_minor(h);
	K.pool_size = K.minor <= 9 ? 4096 : 16384;
	K.runtime = ph_runtime_addr(h);
	core_module_t *m = NULL;
	for (size_t i = 0; i < core_module_count(c); i++)
		if (strcmp(core_module_name(core_module_at(c, i)), ph_runtime_module(h)) == 0)
			m = core_module_at(c, i);
	K.has_dwarf = m && core_module_has_dwarf(m);
	if (m && K.minor <= 11) {
		uint64_t a;
		if (core_module_symbol(m, "arenas", &a, NULL) == 0)
			K.arenas_sym = a;
		if (core_module_symbol(m, "maxarenas", &a, NULL) == 0)
			K.maxarenas_sym = a;
	}
	for (size_t t = 0; t < ph_type_count(h); t++) {
		if (strcmp(ph_type_name(h, (uint32_t)t), "__main__.C") == 0)
			K.type_c = ph_type_addr(h, (uint32_t)t);
		if (strcmp(ph_type_name(h, (uint32_t)t), "__main__.D") == 0)
			K.type_d = ph_type_addr(h, (uint32_t)t);
	}
	for (size_t i = 0; i < ph_object_count(h); i++) {
		uint64_t a = ph_object_addr(h, (ph_id)i);
		unsigned fl = ph_object_flags(h, (ph_id)i);
		const char *tn = ph_type_name(h, ph_object_type(h, (ph_id)i));
		if ((fl & PH_OBJ_GC) && K.ngc < 64 && strcmp(tn, "__main__.C") == 0)
			K.gc_obj[K.ngc++] = a;
		if ((fl & PH_OBJ_ARENA) && K.narena < 4096 && (i % 7) == 0)
			K.arena_obj[K.narena++] = a;
		if ((fl & PH_OBJ_ARENA) && K.ndicts < 256 && strcmp(tn, "dict") == 0)
			K.dicts[K.ndicts++] = a;
	}
	if (ph_thread_count(h)) {
		K.tstate = ph_thread_at(h, 0)->tstate;
	}
	/* offsets: DWARF when there, else the x86-64 layouts */
	bool old = K.minor <= 10;
	K.tp_name = member(m, "PyTypeObject", "tp_name", 24);
	K.tp_flags = member(m, "PyTypeObject", "tp_flags", 168);
	K.tp_base = member(m, "PyTypeObject", "tp_base", 256);
	K.ht_qualname = member(m, "PyHeapTypeObject", "ht_qualname", -1);
	K.ma_keys = member(m, "PyDictObject", "ma_keys", 32);
	K.dk_nentries = member(m, "PyDictKeysObject", "dk_nentries", old ? 32 : 24);
	K.dk_log2 = old ? -1 : member(m, "PyDictKeysObject", "dk_log2_size", 8);
	K.ascii_length = member(m, "PyASCIIObject", "length", 16);
	K.ascii_state = member(m, "PyASCIIObject", "state", 32);
	K.is_next = member(m, "PyInterpreterState", "next", -1);
	K.ts_next = member(m, "PyThreadState", "next", 8);
	K.rt_interp_head = member(m, "_PyRuntimeState", "interpreters.head", -1);
	if (K.ht_qualname < 0)
		K.ht_qualname = K.tp_name;    /* keeps the case meaningful without DWARF */
	if (K.is_next >= 0 && K.rt_interp_head >= 0)
		core_read_u64(c, K.runtime + (uint64_t)K.rt_interp_head, &K.interp);
	K.ok = K.narena > 16 && K.ngc > 8;
	if (!K.ok)
		fprintf(stderr, "check_hostile: the core has too few objects (%zu, %zu)\n",
			K.narena, K.ngc);
	ph_free(h);
	core_free(c);
}

static void setup(void)
{
	snprintf(tmp, sizeof tmp, "%s/hostile", TU_TMP());
	mkdir(TU_TMP(), 0755);
	mkdir(tmp, 0755);
	if (!realpath(TU_PYHEAP(), pyheap_bin))
		snprintf(pyheap_bin, sizeof pyheap_bin, "%s", TU_PYHEAP());
	char py[4200];
	snprintf(py, sizeof py, "%s/versions/3.11.7/bin/python3.11", tu_pyenv_root());
	if (access(py, X_OK) != 0)
		snprintf(py, sizeof py, "/usr/bin/python3.11");
	char *pyargv[] = {py, "-c",
		"import os, signal\n"
		"class C:\n"
		"    def __init__(self, i): self.i = i; self.name = 'n%d' % i\n"
		"class D(C): pass\n"
		"x = [{'a': i, 'b': str(i)} for i in range(1000)]\n"
		"y = [C(i) for i in range(500)]\n"
		"z = [D(i) for i in range(100)]\n"
		"s = ['s' * (i % 50) + str(i) for i in range(1000)]\n"
		"del s[::3]\n"
		"os.kill(os.getpid(), signal.SIGSTOP)\n", NULL};
	snprintf(core_file, sizeof core_file, "%s/hostile.core", tmp);
	/* PYHEAP_HOSTILE_CORE: the variants of an earlier run's core (a
	 * failure's hostile.core, which each run leaves behind) */
	const char *again = getenv("PYHEAP_HOSTILE_CORE");
	if (again && *again) {
		char cp[8600];
		snprintf(cp, sizeof cp, "cp '%s' '%s'", again, core_file);
		if (strcmp(again, core_file) != 0 && system(cp) != 0)
			core_file[0] = 0;
	} else if (access(py, X_OK) != 0 || make_core(pyargv, core_file) < 0) {
		core_file[0] = 0;
		return;
	}
	FILE *f = fopen(core_file, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0)
		return;
	psize = (size_t)st.st_size;
	pristine = malloc(psize);
	buf = malloc(psize);
	if (!pristine || !buf || fread(pristine, 1, psize, f) != psize) {
		fclose(f);
		return;
	}
	fclose(f);
	learn();
}

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, pristine_ok);
	tcase_add_test(tc, bit_flips);
	tcase_add_test(tc, arena_table);
	tcase_add_test(tc, pool_headers);
	tcase_add_test(tc, gc_lists);
	tcase_add_test(tc, type_objects);
	tcase_add_test(tc, dict_keys);
	tcase_add_test(tc, interpreter_lists);
	tcase_add_test(tc, regressions);
	suite_add_tcase(s, tc);
	setup();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(pristine);
	free(buf);
	return failed ? 1 : 0;
}
