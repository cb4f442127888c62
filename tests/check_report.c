/*
 * check_report.c - `pyheap report` in a browser, on every interpreter:
 * tests/integration/reportcheck.py runs the leaking program of check_leak
 * (leakbuild.py), cores it at its two stops, writes the report with the
 * first core as baseline, opens it in headless Chromium (the DevTools
 * protocol over a pipe) and checks that nothing else is loaded, that no
 * console error or exception comes up, and that the rendered sections name
 * the leaking type, its chain, the cache and the threads' functions.
 * Screenshots of each section go to $PYHEAP_TMP/report-shots/<interpreter>-<config>/.
 * Without chromium (scripts/install-deps.sh installs it), gcore, ptrace or
 * an interpreter, the case is skipped loudly.
 */
#include <check.h>

#include "testutil.h"

static int have_chromium(void)
{
	const char *c = getenv("CHROMIUM");
	return (c && *c && access(c, X_OK) == 0) || tu_in_path("chromium") ||
	       tu_in_path("chromium-browser") || tu_in_path("google-chrome");
}

static const char *const cores[] = { "core1", "core2", NULL };
static const tu_realcore report = {
	"report", "report", "leakbuild.py", "reportcheck.py", cores, NULL, NULL,
};

START_TEST(test_report)
{
	if (!have_chromium()) {
		TU_SKIP("%s: chromium is not installed (scripts/install-deps.sh installs it): "
			"the report is not opened in a browser", tu_interps[_i].label);
		return;
	}
	tu_realcore_case(&report, &tu_interps[_i]);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("report", test_report, 600);
}
