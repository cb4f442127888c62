/* check_integration.c - hold pyheap's answers against the truth recorded by
 * real interpreters.
 *
 * For each interpreter of tu_interps (pyenv 3.8 - 3.13, Debian 12's
 * python3.11, the Debian chroots' 3.13, 3.14, 3.15):
 *   tests/integration/mkcore.py  builds a known heap (heapbuild.py), records
 *       truth.json, mallocstats.txt and, at the stop, core.gc.json; is
 *       dumped with gcore (inside its chroot for the Debian chroots);
 *   tests/integration/compare.py is first run against fakepyheap.py (answers
 *       from the truth: must pass; bent answers -- a count 2% off, an
 *       invented type, a GC count off by one, a warning (exit 3), a thread
 *       left out -- must fail; a clean refusal must pass and a two-line one
 *       fail), then against $PYHEAP in every configuration of the
 *       interpreter (tu_configs: pyenv: DWARF, --no-dwarf, --pool-scan on
 *       3.8 - 3.11; Debian: stripped, --debug-dir); each must exit 0;
 *   tests/tools/scancmp holds the totals-only scan (types, info, arenas)
 *       against the full one in each configuration.
 * Results live in $PYHEAP_TMP/integ/<label>/; the core is deleted when every
 * configuration passes and kept for debugging otherwise.
 *
 * Missing interpreters, a missing gcore and forbidden ptrace are skipped
 * loudly (SKIP: on stderr); Check has no skip state, so those tests pass.
 * Chroots that cannot be made are a SKIP too, except on CI (CI=true).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static void show_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;
	if (!f)
		return;
	fflush(stdout);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	fflush(stdout);
}

/* compare.py against fakepyheap.py with FAKE_PYHEAP_SKEW=skew; its output
 * in OUTDIR/selftest-<tag>.log (shown when the exit status is not want). */
static void selftest_one(const char *label, const char *outdir, const char *tag,
			 const char *skew, int want)
{
	char cmp[4096], fake[4096], log[4200];
	tu_fmt(cmp, sizeof cmp, "%s/tests/integration/compare.py", TU_SRC());
	tu_fmt(fake, sizeof fake, "%s/tests/integration/fakepyheap.py", TU_SRC());
	tu_fmt(log, sizeof log, "%s/selftest-%s.log", outdir, tag);
	char *argv[] = { TU_SYS_PYTHON, cmp, (char *)outdir, fake, NULL };
	if (skew)
		setenv("FAKE_PYHEAP_SKEW", skew, 1);
	else
		unsetenv("FAKE_PYHEAP_SKEW");
	int rc = tu_run_shown(argv, log);
	unsetenv("FAKE_PYHEAP_SKEW");
	if (rc != want)
		show_file(log);
	ck_assert_msg(rc == want, "%s: compare.py self-test '%s' (FAKE_PYHEAP_SKEW=%s) exited %d, "
		      "not %d (%s)", label, tag, skew ? skew : "", rc, want, log);
}

/* Whether the builder found a static type for compare.py's check with the
 * page after its mapping hidden (heapbuild.py's static_type_near_end). */
static bool truth_names_static_type(const char *outdir)
{
	enum { TRUTH_MAX = 8 << 20 };	/* truth.json is tens of KiB */
	char path[4200];
	tu_fmt(path, sizeof path, "%s/truth.json", outdir);
	char *text = malloc(TRUTH_MAX);
	const char *k = text ? strstr(tu_slurp(path, text, TRUTH_MAX), "\"static_type\": ") : NULL;
	bool found = k && strncmp(k + 15, "null", 4) != 0;
	free(text);
	return found;
}

/* The comparator must pass on the truth and fail on each kind of wrong answer. */
static void selftest(const tu_interp *ip, const char *outdir)
{
	selftest_one(ip->label, outdir, "pass", NULL, 0);
	selftest_one(ip->label, outdir, "count", "count:float:1.02", 1);
	selftest_one(ip->label, outdir, "invented", "add:pyheap.Invented:1", 1);
	selftest_one(ip->label, outdir, "gc-count", "gc:count:0:1", 1);
	selftest_one(ip->label, outdir, "gc-objects", "gc:objects:2:-1", 1);
	selftest_one(ip->label, outdir, "warning", "exit::3", 1);
	if (truth_names_static_type(outdir))
		selftest_one(ip->label, outdir, "static-type", "statictype::lost", 1);
	selftest_one(ip->label, outdir, "thread", "thread::drop", 1);
	selftest_one(ip->label, outdir, "refusal", "unsupported::", 0);
	selftest_one(ip->label, outdir, "refusal-2-lines", "unsupported::noisy", 1);
	if (ip->minor >= 13)      /* (the flag is in _Py_DebugOffsets, 3.13+) */
		selftest_one(ip->label, outdir, "free-threaded", "freethreaded::accept", 1);
}

/* types, info and arenas scan for totals only: the same totals as the full
 * scan, in each configuration */
static int scancmp(const tu_interp *ip, const char *outdir, const tu_config *c)
{
	char tool[4200], core[4200], log[4200];
	tu_fmt(tool, sizeof tool, "%s/scancmp", TU_TOOLS());
	tu_fmt(core, sizeof core, "%s/core", outdir);
	tu_fmt(log, sizeof log, "%s/scancmp-%s.log", outdir, c->name);
	char *argv[8] = { tool };
	int a = 1;
	for (int j = 0; c->args[j]; j++)
		argv[a++] = (char *)c->args[j];
	argv[a++] = core;
	argv[a] = NULL;
	int rc = tu_run_shown(argv, log);
	show_file(log);
	if (rc != 0)
		printf("%s [%s]: the totals-only scan differs from the full one (scancmp exit %d)\n",
		       ip->label, c->name, rc);
	return rc;
}

static const char *const cores[] = { "core", NULL };
static const tu_realcore integ = {
	"integration", "integ", "heapbuild.py", "compare.py", cores, selftest, scancmp,
};

START_TEST(test_interpreter)
{
	tu_realcore_case(&integ, &tu_interps[_i]);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("integration", test_interpreter, 600);
}
