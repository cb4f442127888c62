/*
 * check_capture.c - taking cores without gdb, and reading them compressed:
 * tests/integration/capture.py runs each case on real processes.
 *
 *   oom      a leaking Python in a memory cgroup (v2 where the machine has
 *            it, else v1) with a 200 MiB limit, watched by `pyheap watch
 *            --cgroup ... --at 70`: the kernel must SIGKILL it (the cgroup's
 *            oom_kill count rises), the dump taken before must be complete
 *            and `types`/`suspects` on it must name LeakyRecord and _LEAK;
 *            the timeline is printed
 *   gcore    `pyheap dump` and gcore on the same stopped process (Debian's
 *            stripped 3.11, pyenv's 3.12): types, arenas and refs identical;
 *            live mode (--pid) identical; gdb reads the dump; zstd, lz4 and
 *            xz cores (and `dump -o x.zst`, a core in two zstd frames, the
 *            file systemd-coredump stores when handed the dump as the
 *            kernel hands it a core, and what `coredumpctl dump` gives
 *            back through journald) give the raw core's output;
 *            truncated and corrupt ones, and a zstd frame whose checksum
 *            is wrong, one error line in bounded memory
 *   bad      no such pid, a kernel thread, a traced process, a missing
 *            directory, a process killed during the dump, a full disk
 *   watch    --pid with two RSS levels, --keep, snapshots and diff, SIGTERM;
 *            -- CMD; a stand-in v2 cgroup directory
 *
 * A machine that cannot trace, or has no memory cgroup, skips loudly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"

static int driver(const char *label, const char *c, const char *interp)
{
	char script[4096], out[4096];
	tu_fmt(script, sizeof script, "%s/tests/integration/capture.py", TU_SRC());
	tu_fmt(out, sizeof out, "%s/capture/%s", TU_TMP(), label);
	char *argv[] = {"/usr/bin/python3", script, (char *)c, out, (char *)interp, NULL};
	printf("=== capture %s %s\n", c, interp ? interp : "");
	return tu_run_shown(argv, NULL);
}

START_TEST(oom)
{
	int rc = driver("oom", "oom", NULL);
	if (rc == TU_EXIT_SKIP) {
		TU_SKIP("oom: no memory cgroup can be made here (the driver said why)");
		return;
	}
	ck_assert_msg(rc == 0, "oom: capture.py exited %d", rc);
}
END_TEST

static void gcore_case(const char *label, const tu_interp *ip)
{
	char py[4096];
	tu_interp_path(ip, py, sizeof py);
	if (access(py, X_OK) != 0) {
		TU_SKIP("%s not found at %s: dump/gcore comparison not run for it", ip->label, py);
		return;
	}
	int rc = driver(label, "gcore", py);
	if (tu_driver_skipped(rc, label))
		return;
	ck_assert_msg(rc == 0, "%s: capture.py gcore exited %d", label, rc);
}

START_TEST(gcore)
{
	/* a stripped production build and a pyenv build with DWARF (labels of
	 * tu_interps: a label that is not there fails, never runs nothing) */
	static const char *labels[] = {"bookworm-3.11", "pyenv-3.12"};
	const tu_interp *ip = NULL;
	for (int i = 0; i < TU_NINTERP; i++)
		if (!strcmp(tu_interps[i].label, labels[_i]))
			ip = &tu_interps[i];
	ck_assert_msg(ip, "no interpreter labelled %s in tu_interps", labels[_i]);
	gcore_case(labels[_i], ip);
}
END_TEST

START_TEST(bad)
{
	int rc = driver("bad", "bad", NULL);
	if (tu_driver_skipped(rc, "bad"))
		return;
	ck_assert_msg(rc == 0, "bad: capture.py exited %d", rc);
}
END_TEST

START_TEST(watch)
{
	int rc = driver("watch", "watch", NULL);
	if (tu_driver_skipped(rc, "watch"))
		return;
	ck_assert_msg(rc == 0, "watch: capture.py exited %d", rc);
}
END_TEST

int main(void)
{
	char dir[4096];
	tu_fmt(dir, sizeof dir, "%s/capture", TU_TMP());
	tu_mkdir_p(dir);
	Suite *s = suite_create("capture");
	struct { const char *name; const TTest *t; int lo, hi; } cases[] = {
		{"oom", oom, 0, 1}, {"gcore", gcore, 0, 2}, {"bad", bad, 0, 1}, {"watch", watch, 0, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 240);
		tcase_add_loop_test(tc, cases[i].t, cases[i].lo, cases[i].hi);
		suite_add_tcase(s, tc);
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
