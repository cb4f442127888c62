/*
 * check_debuginfod.c - pyheap gets a stripped Debian interpreter's DWARF from
 * a real debuginfod server, with no --debug-dir: tests/integration/
 * debuginfodcheck.py cores every Debian interpreter of tu_interps (the
 * host's python3.11 and the chroots' of scripts/distro.sh), serves the
 * extracted -dbg files with Debian's `debuginfod` on the loopback address
 * (fresh database, fresh client cache), checks `pyheap info --json` says
 * offsets_source "dwarf" with DEBUGINFOD_URLS and not without it, and stops
 * the server.  Without debuginfod, gcore or ptrace the test is skipped
 * loudly; on CI (CI=true) a missing debuginfod or chroot is a failure.
 */
#include <check.h>

#include "testutil.h"

START_TEST(debuginfod)
{
	char script[4096], out[4096], dirs[3][4200], specs[TU_NINTERP][9000];
	char *argv[8 + 3 + TU_NINTERP] = { TU_SYS_PYTHON, script, out, (char *)TU_PYHEAP() };
	int a = 4, n = 0;
	tu_fmt(script, sizeof script, "%s/tests/integration/debuginfodcheck.py", TU_SRC());
	tu_fmt(out, sizeof out, "%s/debuginfod", TU_TMP());
	if (!tu_in_path("debuginfod")) {
		ck_assert_msg(!tu_on_ci(), "debuginfod is not installed (scripts/install-deps.sh "
			      "installs it): on CI that is a failure");
		TU_SKIP("debuginfod is not installed (package debuginfod): debuginfod test not run");
		return;
	}
	if (tu_distro_status != 1)
		ck_assert_msg(!tu_on_ci(), "the Debian chroots could not be made (scripts/distro.sh "
			      "failed, see %s/distro-debuginfod.log): on CI that is a failure", TU_TMP());
	static const char *const suites[] = { "bookworm", "trixie", "sid" };
	for (int i = 0; i < 3; i++) {
		tu_fmt(dirs[i], sizeof dirs[i], "%s/debug/%s", tu_cache(), suites[i]);
		if (access(dirs[i], R_OK) == 0)
			argv[a++] = dirs[i];
	}
	argv[a++] = "--";
	for (int i = 0; i < TU_NINTERP; i++) {
		const tu_interp *ip = &tu_interps[i];
		char path[4200], chroot[4200];
		if (!ip->suite)
			continue;
		if (!tu_interp_ready(ip, path, sizeof path, chroot, sizeof chroot))
			continue;
		tu_fmt(specs[n], sizeof specs[n], "%s:%s:%s", ip->label, *chroot ? chroot : "-",
		       *chroot ? ip->path : path);
		argv[a++] = specs[n++];
	}
	argv[a] = NULL;
	if (!n) {
		TU_SKIP("no Debian interpreter here: debuginfod test not run");
		return;
	}
	int rc = tu_run_shown(argv, NULL);
	if (tu_driver_skipped(rc, "debuginfod"))
		return;
	ck_assert_msg(rc == 0, "debuginfodcheck.py exited %d (checks above; server log in %s)", rc, out);
}
END_TEST

int main(void)
{
	tu_distro("debuginfod");
	Suite *s = suite_create("debuginfod");
	TCase *tc = tcase_create("debuginfod");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, debuginfod);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
