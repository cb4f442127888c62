/*
 * check_memory.c - `pyheap memory` against the process's own figures, on
 * every interpreter: tests/integration/memcheck.py cores membuild.py (a
 * heap with buffers in malloc, threads with their malloc arenas, a
 * fragmented part, ctypes buffers and, on Debian's python3.11, numpy
 * arrays) and holds the ledger against the core's PT_LOADs, mallinfo2(),
 * malloc_info(), sys._debugmallocstats() and smaps_rollup taken at the
 * freeze, with glibc's malloc found through libc's symbols and by
 * structure (--malloc-scan).  Missing interpreters, gcore or ptrace are
 * skipped loudly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"

static void run_one(const char *label, const char *py)
{
	char script[4096], out[4096];
	tu_fmt(script, sizeof script, "%s/tests/integration/memcheck.py", TU_SRC());
	tu_fmt(out, sizeof out, "%s/memory/%s", TU_TMP(), label);
	if (access(py, X_OK) != 0) {
		TU_SKIP("%s not found at %s: memory checks not run for it", label, py);
		return;
	}
	char *argv[] = {"/usr/bin/python3", script, (char *)py, out, (char *)TU_PYHEAP(), NULL};
	printf("=== %s: %s\n", label, py);
	int rc = tu_run_shown(argv, NULL);
	if (tu_driver_skipped(rc, label))
		return;
	ck_assert_msg(rc == 0, "%s: memcheck exited %d (core kept in %s)", label, rc, out);
}

START_TEST(memory)
{
	char py[4096];
	run_one(tu_interps[_i].label, tu_interp_path(&tu_interps[_i], py, sizeof py));
}
END_TEST

int main(void)
{
	char dir[4096];
	tu_fmt(dir, sizeof dir, "%s/memory", TU_TMP());
	tu_mkdir_p(dir);
	return tu_run_interp_suite("memory", memory, 300);
}
