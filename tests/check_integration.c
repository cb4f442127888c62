/* check_integration.c - hold pyheap's answers against the truth recorded by
 * real interpreters.
 *
 * For each interpreter (pyenv 3.8 - 3.13 and Debian's stripped python3.11):
 *   tests/integration/mkcore.py  builds a known heap (heapbuild.py), records
 *       truth.json and mallocstats.txt, stops itself, is dumped with gcore;
 *   tests/integration/compare.py is first run against fakepyheap.py (answers
 *       from the truth: must pass; with one count 2% off: must fail), then
 *       against $PYHEAP; its table goes to stdout and it must exit 0.
 * Results live in $PYHEAP_TMP/integ/<label>/; the core is deleted when the
 * test passes and kept for debugging when it fails.
 *
 * Missing interpreters, a missing gcore and forbidden ptrace are skipped
 * loudly (SKIP: on stderr); Check has no skip state, so those tests pass.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define SYS_PYTHON "/usr/bin/python3"	/* runs the drivers; always present */




/* Run argv; stdout goes to `out` (a file, truncated) when non-NULL.  `skew`,
 * when non-NULL, is put in FAKE_PYHEAP_SKEW.  Returns the exit status, or
 * 128 + signal, or -1 when it could not be started. */
static int run(char *const argv[], const char *out, const char *skew)
{
	if (skew)
		setenv("FAKE_PYHEAP_SKEW", skew, 1);
	else
		unsetenv("FAKE_PYHEAP_SKEW");
	int rc = tu_run_shown(argv, out);
	unsetenv("FAKE_PYHEAP_SKEW");
	return rc;
}



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

START_TEST(test_interpreter)
{
	const tu_interp *ip = &tu_interps[_i];
	char interp[8192], outdir[4096], script[3][4096], core[4096], log[4096];
	const char *src = TU_SRC();

	tu_interp_path(ip, interp, sizeof interp);
	if (access(interp, X_OK) != 0) {
		TU_SKIP("%s not found at %s", ip->what, interp);
		return;
	}
	if (!tu_in_path("gcore")) {
		TU_SKIP("%s: gcore not found in PATH (install gdb)", ip->label);
		return;
	}
	tu_fmt(outdir, sizeof outdir, "%s/integ/%s", TU_TMP(), ip->label);
	ck_assert_msg(tu_mkdir_p(outdir) == 0, "cannot create %s: %s", outdir, strerror(errno));
	tu_fmt(script[0], sizeof script[0], "%s/tests/integration/mkcore.py", src);
	tu_fmt(script[1], sizeof script[1], "%s/tests/integration/compare.py", src);
	tu_fmt(script[2], sizeof script[2], "%s/tests/integration/fakepyheap.py", src);
	tu_fmt(core, sizeof core, "%s/core", outdir);

	printf("=== %s: %s\n", ip->label, interp);
	char *mk[] = { SYS_PYTHON, script[0], interp, outdir, NULL };
	int rc = run(mk, NULL, NULL);
	if (tu_driver_skipped(rc, ip->label))
		return;
	ck_assert_msg(rc == 0, "%s: mkcore.py %s %s exited %d", ip->label, interp, outdir, rc);

	/* The comparator must pass on the truth and fail on a 2% miscount. */
	char *fake[] = { SYS_PYTHON, script[1], outdir, script[2], NULL };
	tu_fmt(log, sizeof log, "%s/selftest-pass.log", outdir);
	rc = run(fake, log, NULL);
	if (rc != 0)
		show_file(log);
	ck_assert_msg(rc == 0, "%s: compare.py fails on the truth itself (exit %d, %s)",
		      ip->label, rc, log);
	tu_fmt(log, sizeof log, "%s/selftest-fail.log", outdir);
	rc = run(fake, log, "count:float:1.02");
	if (rc != 1)
		show_file(log);
	ck_assert_msg(rc == 1, "%s: compare.py does not catch a 2%% miscount (exit %d, %s)",
		      ip->label, rc, log);

	char *cmp[] = { SYS_PYTHON, script[1], outdir, (char *)TU_PYHEAP(), NULL };
	rc = run(cmp, NULL, NULL);
	ck_assert_msg(rc == 0, "%s: pyheap disagrees with the interpreter (compare.py exit %d); "
		      "core kept in %s", ip->label, rc, outdir);

	/* types, info and arenas scan for totals only: the same totals as the
	 * full scan, with each way of finding the pools and offsets */
	static const char *const how[] = {NULL, "--pool-scan", "--no-dwarf"};
	for (size_t k = 0; k < sizeof how / sizeof how[0]; k++) {
		char tool[4200];
		tu_fmt(tool, sizeof tool, "%s/scancmp", TU_TOOLS());
		char *sc[] = { tool, how[k] ? (char *)how[k] : core, how[k] ? core : NULL, NULL };
		tu_fmt(log, sizeof log, "%s/scancmp%zu.log", outdir, k);
		rc = run(sc, log, NULL);
		show_file(log);
		ck_assert_msg(rc == 0, "%s: the totals-only scan%s%s differs from the full one "
			      "(scancmp exit %d); core kept in %s", ip->label, how[k] ? " with " : "",
			      how[k] ? how[k] : "", rc, outdir);
	}
	unlink(core);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("integration", test_interpreter, 300);
}
