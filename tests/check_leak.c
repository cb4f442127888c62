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

static const char *const versions[] = {"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0", NULL};

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

START_TEST(pyenv)
{
	char py[4096], label[64], minor[16];
	const char *root = tu_env("PYENV_ROOT", "/root/.pyenv");
	const char *v = versions[_i];
	snprintf(minor, sizeof minor, "%.*s", (int)(strrchr(v, '.') - v), v);
	snprintf(py, sizeof py, "%s/versions/%s/bin/python%s", root, v, minor);
	snprintf(label, sizeof label, "pyenv-%s", v);
	run_one(label, py);
}
END_TEST

START_TEST(debian)
{
	run_one("debian-3.11-stripped", "/usr/bin/python3.11");
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
	tcase_add_loop_test(tc, pyenv, 0, 6);
	tcase_add_test(tc, debian);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
