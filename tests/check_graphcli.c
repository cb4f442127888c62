/* check_graphcli.c - the reference-graph commands (show, path, refs, garbage,
 * backrefs) on real cores of every interpreter.
 *
 * For each interpreter of tu_interps (pyenv 3.8 - 3.13, Debian 12's
 * python3.11, the Debian chroots' 3.13, 3.14, 3.15):
 *   tests/integration/mkcore.py INTERP OUTDIR graphbuild.py  builds a heap of
 *       known references (module cache, attribute chain, closure, cycles left
 *       with the GC disabled, Py_IncRef'd orphans, a thread's local, one
 *       object of each kind with its gc.get_referents()), records
 *       graphtruth.json, stops itself, is dumped with gcore;
 *   tests/integration/graphcheck.py OUTDIR $PYHEAP [OPTIONS]  runs the
 *       commands on the core in every configuration of the interpreter
 *       (tu_configs), prints a PASS/FAIL table of every check and must exit 0.
 * Results live in $PYHEAP_TMP/graph/<label>/; the core is deleted when every
 * configuration passes and kept for debugging otherwise.
 *
 * Missing interpreters, a missing gcore and forbidden ptrace are skipped
 * loudly (SKIP: on stderr); chroots that cannot be made too, except on CI.
 */
#include <check.h>

#include "testutil.h"

static const char *const cores[] = { "core", NULL };
static const tu_realcore graph = {
	"graphcli", "graph", "graphbuild.py", "graphcheck.py", cores, NULL, NULL,
};

START_TEST(test_graph)
{
	tu_realcore_case(&graph, &tu_interps[_i]);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("graphcli", test_graph, 600);
}
