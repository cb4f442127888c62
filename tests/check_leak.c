/*
 * check_leak.c - leak hunting across two dumps, on every interpreter:
 * tests/integration/leakcheck.py runs a leaking program (leakbuild.py),
 * cores it at two points and checks diff (core and snapshot routes), top
 * and suspects against what the program knows it leaked.  Missing
 * interpreters, gcore or ptrace are skipped loudly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"


static void run_one(const char *label, const char *py)
{
	char script[4096], out[4096];
	snprintf(script, sizeof script, "%s/tests/integration/leakcheck.py", TU_SRC());
	snprintf(out, sizeof out, "%s/leak/%s", TU_TMP(), label);
	if (access(py, X_OK) != 0) {
		TU_SKIP("%s not found at %s: leak checks not run for it", label, py);
		return;
	}
	char *argv[] = {"/usr/bin/python3", script, (char *)py, out, (char *)TU_PYHEAP(), NULL};
	printf("=== %s: %s\n", label, py);
	int rc = tu_run_shown(argv, NULL);
	if (tu_driver_skipped(rc, label))
		return;
	ck_assert_msg(rc == 0, "%s: leakcheck exited %d", label, rc);
}

START_TEST(leak)
{
	char py[4096];
	run_one(tu_interps[_i].label, tu_interp_path(&tu_interps[_i], py, sizeof py));
}
END_TEST

int main(void)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/leak", TU_TMP());
	mkdir(TU_TMP(), 0755);
	mkdir(dir, 0755);
	return tu_run_interp_suite("leak", leak, 300);
}
