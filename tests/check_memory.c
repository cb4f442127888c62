/*
 * check_memory.c - `pyheap memory` against the process's own figures, on
 * every interpreter of tu_interps: tests/integration/mkcore.py cores
 * membuild.py (inside its chroot for the Debian chroots: a heap with
 * buffers in malloc, threads with their malloc arenas, a fragmented part,
 * ctypes buffers and, on Debian's python3.11, numpy arrays);
 * tests/integration/memcheck.py holds the ledger against the core's
 * PT_LOADs, mallinfo2(), malloc_info(), sys._debugmallocstats() and
 * smaps_rollup taken at the freeze, with glibc's malloc found through
 * libc's symbols and by structure (--malloc-scan), in every configuration
 * of the interpreter (tu_configs).  Missing interpreters, gcore or ptrace
 * are skipped loudly; chroots that cannot be made too, except on CI.
 */
#include <check.h>

#include "testutil.h"

static const char *const cores[] = { "core", NULL };
static const tu_realcore memory = {
	"memory", "memory", "membuild.py", "memcheck.py", cores, NULL, NULL,
};

START_TEST(test_memory)
{
	tu_realcore_case(&memory, &tu_interps[_i]);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("memory", test_memory, 600);
}
