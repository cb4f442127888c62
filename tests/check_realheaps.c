/*
 * check_realheaps.c - heaps nobody on the project designed: pylint and mypy
 * (Debian's packages on Debian's stripped python3.11, the recorder injected
 * with gdb), a threaded HTTP service with leaks of our design, a heap of
 * C-extension objects and one of suspended generators, on Debian's 3.11 and
 * pyenv's builds.  tests/realheaps/realcheck.py cores each case once (cached
 * under $PYHEAP_CACHE/realheaps-suite/, so the sanitizer pass and later runs
 * only run pyheap) and holds every command against the interpreter's truth.
 * Missing interpreters, packages, gdb or ptrace are skipped loudly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const struct rh_case {
	const char *workload;
	const char *interp;	/* a label of tu_interps */
} cases[] = {
	{ "pylint",    "bookworm-3.11" },
	{ "mypy",      "bookworm-3.11" },
	{ "leakyhttp", "bookworm-3.11" },
	{ "leakyhttp", "pyenv-3.8" },
	{ "leakyhttp", "pyenv-3.13" },
	{ "cext",      "bookworm-3.11" },
	{ "cext",      "pyenv-3.12" },
	{ "gens",      "bookworm-3.11" },
	{ "gens",      "pyenv-3.8" },
	{ "gens",      "pyenv-3.9" },
	{ "gens",      "pyenv-3.10" },
	{ "gens",      "pyenv-3.11" },
	{ "gens",      "pyenv-3.12" },
	{ "gens",      "pyenv-3.13" },
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static const tu_interp *find_interp(const char *label)
{
	for (int i = 0; i < TU_NINTERP; i++)
		if (strcmp(tu_interps[i].label, label) == 0)
			return &tu_interps[i];
	return NULL;
}

START_TEST(realheap)
{
	const struct rh_case *c = &cases[_i];
	const tu_interp *ip = find_interp(c->interp);
	ck_assert_msg(ip, "no interpreter labelled %s in tu_interps", c->interp);
	char py[4096], script[4096], tools[4096];
	tu_interp_path(ip, py, sizeof py);
	if (access(py, X_OK) != 0) {
		TU_SKIP("%s on %s: %s not found: real-heap checks not run for it",
			c->workload, ip->what, py);
		return;
	}
	tu_fmt(script, sizeof script, "%s/tests/realheaps/realcheck.py", TU_SRC());
	tu_fmt(tools, sizeof tools, "%s/dumpobjs", TU_TOOLS());
	char *argv[] = { "/usr/bin/python3", script, (char *)c->workload, py,
			 (char *)TU_PYHEAP(), tools, NULL };
	printf("=== %s on %s: %s\n", c->workload, c->interp, py);
	int rc = tu_run_shown(argv, NULL);
	if (rc == TU_EXIT_SKIP) {
		TU_SKIP("%s on %s: skipped by realcheck.py (its SKIP line is above)",
			c->workload, ip->what);
		return;
	}
	ck_assert_msg(rc == 0, "%s on %s: realcheck exited %d", c->workload, c->interp, rc);
}
END_TEST

int main(void)
{
	static char names[NCASES][128];
	const char *labels[NCASES];
	for (int i = 0; i < NCASES; i++) {
		tu_fmt(names[i], sizeof names[i], "%s-%s", cases[i].workload, cases[i].interp);
		labels[i] = names[i];
	}
	return tu_run_cases("realheaps", labels, NCASES, realheap, 900);
}
