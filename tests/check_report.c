/*
 * check_report.c - `pyheap report` in a browser, on every interpreter:
 * tests/integration/reportcheck.py runs the leaking program of check_leak
 * (leakbuild.py), cores it at its two stops, writes the report with the
 * first core as baseline, opens it in headless Chromium (the DevTools
 * protocol over a pipe) and checks that nothing else is loaded, that no
 * console error or exception comes up, and that the rendered sections name
 * the leaking type, its chain, the cache and the threads' functions.
 * Screenshots of each section go to $PYHEAP_TMP/report-shots/<interpreter>/.
 * Without chromium (scripts/install-deps.sh installs it), gcore, ptrace or
 * an interpreter, the case is skipped loudly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"

static int have_chromium(void)
{
	const char *c = getenv("CHROMIUM");
	return (c && *c && access(c, X_OK) == 0) || tu_in_path("chromium") ||
	       tu_in_path("chromium-browser") || tu_in_path("google-chrome");
}

static void run_one(const char *label, const char *py)
{
	char script[4096], out[4096], shots[4096];
	tu_fmt(script, sizeof script, "%s/tests/integration/reportcheck.py", TU_SRC());
	tu_fmt(out, sizeof out, "%s/report/%s", TU_TMP(), label);
	tu_fmt(shots, sizeof shots, "%s/report-shots/%s", TU_TMP(), label);
	if (access(py, X_OK) != 0) {
		TU_SKIP("%s not found at %s: report checks not run for it", label, py);
		return;
	}
	if (!have_chromium()) {
		TU_SKIP("%s: chromium is not installed (scripts/install-deps.sh installs it): "
			"the report is not opened in a browser", label);
		return;
	}
	ck_assert_int_eq(tu_mkdir_p(shots), 0);
	char *argv[] = {"/usr/bin/python3", script, (char *)py, out, (char *)TU_PYHEAP(), shots, NULL};
	printf("=== %s: %s\n", label, py);
	int rc = tu_run_shown(argv, NULL);
	if (tu_driver_skipped(rc, label))
		return;
	ck_assert_msg(rc == 0, "%s: reportcheck exited %d", label, rc);
}

START_TEST(report)
{
	char py[4096];
	run_one(tu_interps[_i].label, tu_interp_path(&tu_interps[_i], py, sizeof py));
}
END_TEST

int main(void)
{
	char dir[4096];
	tu_fmt(dir, sizeof dir, "%s/report", TU_TMP());
	tu_mkdir_p(dir);
	return tu_run_interp_suite("report", report, 300);
}
