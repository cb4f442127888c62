/*
 * check_leak.c - leak hunting across two dumps, on every interpreter of
 * tu_interps: tests/integration/mkcore.py runs a leaking program
 * (leakbuild.py) and cores it at its two stops (core1, core2; inside its
 * chroot for the Debian chroots); tests/integration/leakcheck.py checks
 * diff (core and snapshot routes), top and suspects against what the
 * program knows it leaked, in every configuration of the interpreter
 * (tu_configs).  Missing interpreters, gcore or ptrace are skipped loudly;
 * chroots that cannot be made too, except on CI.
 */
#include <check.h>

#include "testutil.h"

static const char *const cores[] = { "core1", "core2", NULL };
static const tu_realcore leak = {
	"leak", "leak", "leakbuild.py", "leakcheck.py", cores, NULL, NULL,
};

START_TEST(test_leak)
{
	tu_realcore_case(&leak, &tu_interps[_i]);
}
END_TEST

int main(void)
{
	return tu_run_interp_suite("leak", test_leak, 600);
}
