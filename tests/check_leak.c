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
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (rc == 77) {
		TU_SKIP("%s: leakcheck could not make cores (see its SKIP line)", label);
		return;
	}
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
	Suite *s = suite_create("leak");
	TCase *tc = tcase_create("leak");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, leak, 0, TU_NINTERP);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
