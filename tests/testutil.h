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

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (NULL-terminated) with stdin from /dev/null, stdout and stderr
 * to the given files (NULL: /dev/null).  Returns the exit status, 128+signal
 * when killed, -1 when it could not run. */
static inline int tu_run(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || o < 0 || e < 0)
			_exit(126);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Why this machine cannot take cores with gcore, or NULL when it can: then
 * a failed gcore is a test failure, not a reason to skip. */
static inline const char *tu_no_cores(void)
{
	char buf[16] = "";
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = 0;
		fclose(f);
		if (buf[0] == '3')
			return "ptrace is disabled (kernel.yama.ptrace_scope = 3)";
	}
	if (system("command -v gcore >/dev/null 2>&1") != 0)
		return "gcore is not installed (package gdb)";
	return NULL;
}

/* Reads a whole (small) file into buf; returns buf ("" on error). */
static inline char *tu_slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}
