/* testutil.h - small helpers shared by the Check suites. */
#ifndef PYHEAP_TESTUTIL_H
#define PYHEAP_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

/* Environment set by `make check` (see TEST_ENV in the Makefile). */
static inline const char *tu_env(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}
#define TU_PYHEAP() tu_env("PYHEAP", "build/pyheap")
#define TU_SRC()    tu_env("PYHEAP_SRC", ".")
#define TU_TMP()    tu_env("PYHEAP_TMP", "build/tmp")
#define TU_TOOLS()  tu_env("PYHEAP_TOOLS", "build/tools")

/* A skip must be loud: Check has no skip state, so say it on stderr. */
#define TU_SKIP(...) do { fprintf(stderr, "SKIP: "); fprintf(stderr, __VA_ARGS__); \
			   fprintf(stderr, "\n"); } while (0)

#endif
