/* check_graphcli.c - the reference-graph commands (show, path, refs, garbage,
 * backrefs) on real cores of every interpreter.
 *
 * For each interpreter (pyenv 3.8 - 3.13 and Debian's stripped python3.11):
 *   tests/integration/mkcore.py INTERP OUTDIR graphbuild.py  builds a heap of
 *       known references (module cache, attribute chain, closure, cycles left
 *       with the GC disabled, Py_IncRef'd orphans, a thread's local, one
 *       object of each kind with its gc.get_referents()), records
 *       graphtruth.json, stops itself, is dumped with gcore;
 *   tests/integration/graphcheck.py OUTDIR $PYHEAP  runs the commands on the
 *       core, prints a PASS/FAIL table of every check and must exit 0.
 * Results live in $PYHEAP_TMP/graph/<label>/; the core is deleted when the
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


START_TEST(test_graph)
{
	const tu_interp *ip = &tu_interps[_i];
	char interp[8192], outdir[4096], script[2][4096], core[4096];
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
	tu_fmt(outdir, sizeof outdir, "%s/graph/%s", TU_TMP(), ip->label);
	ck_assert_msg(tu_mkdir_p(outdir) == 0, "cannot create %s: %s", outdir, strerror(errno));
	tu_fmt(script[0], sizeof script[0], "%s/tests/integration/mkcore.py", src);
	tu_fmt(script[1], sizeof script[1], "%s/tests/integration/graphcheck.py", src);
	tu_fmt(core, sizeof core, "%s/core", outdir);

	printf("=== %s: %s\n", ip->label, interp);
	char *mk[] = { SYS_PYTHON, script[0], interp, outdir, "graphbuild.py", NULL };
	int rc = tu_run_shown(mk, NULL);
	if (tu_driver_skipped(rc, ip->label))
		return;
	ck_assert_msg(rc == 0, "%s: mkcore.py %s %s graphbuild.py exited %d",
		      ip->label, interp, outdir, rc);

	char *chk[] = { SYS_PYTHON, script[1], outdir, (char *)TU_PYHEAP(), NULL };
	rc = tu_run_shown(chk, NULL);
	ck_assert_msg(rc == 0, "%s: pyheap's reference graph disagrees with the interpreter "
		      "(graphcheck.py exit %d, table above); core kept in %s", ip->label, rc, outdir);
	unlink(core);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("graphcli", test_graph, 180);
}
