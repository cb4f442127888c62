/* testutil.h - small helpers shared by the Check suites. */
#ifndef PYHEAP_TESTUTIL_H
#define PYHEAP_TESTUTIL_H

#include <check.h>
#include <errno.h>
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
		/* 1 and 2 let only root (CAP_SYS_PTRACE) attach to a process
		 * that is not its own child, as gcore must */
		if ((buf[0] == '1' || buf[0] == '2') && geteuid() != 0)
			return "ptrace is restricted to root here (kernel.yama.ptrace_scope >= 1)";
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

/* ---- the interpreters the real-core suites run ---- */

typedef struct tu_interp {
	const char *label;	/* directory name under $PYHEAP_TMP/<suite> */
	const char *version;	/* pyenv version, NULL: path is absolute */
	const char *path;	/* bin/python3.X under the pyenv version, or absolute */
	const char *what;	/* for the SKIP line */
} tu_interp;

static const tu_interp tu_interps[] = {
	{ "pyenv-3.8.18",  "3.8.18",  "bin/python3.8",  "python3.8 (pyenv 3.8.18)" },
	{ "pyenv-3.9.18",  "3.9.18",  "bin/python3.9",  "python3.9 (pyenv 3.9.18)" },
	{ "pyenv-3.10.13", "3.10.13", "bin/python3.10", "python3.10 (pyenv 3.10.13)" },
	{ "pyenv-3.11.7",  "3.11.7",  "bin/python3.11", "python3.11 (pyenv 3.11.7)" },
	{ "pyenv-3.12.1",  "3.12.1",  "bin/python3.12", "python3.12 (pyenv 3.12.1)" },
	{ "pyenv-3.13.0",  "3.13.0",  "bin/python3.13", "python3.13 (pyenv 3.13.0)" },
	{ "debian-3.11-stripped", NULL, "/usr/bin/python3.11",
	  "python3.11 (Debian, stripped)" },
};
#define TU_NINTERP ((int)(sizeof tu_interps / sizeof tu_interps[0]))

/* $PYENV_ROOT, else `pyenv root`, else /root/.pyenv (asked once). */
static inline const char *tu_pyenv_root(void)
{
	static char root[2048];
	if (*root)
		return root;
	const char *e = getenv("PYENV_ROOT");
	snprintf(root, sizeof root, "%s", e && *e ? e : "/root/.pyenv");
	if (e && *e)
		return root;
	FILE *p = popen("pyenv root 2>/dev/null || /root/.pyenv/bin/pyenv root 2>/dev/null", "r");
	char buf[sizeof root];
	if (p && fgets(buf, sizeof buf, p)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] == '/')
			snprintf(root, sizeof root, "%s", buf);
	}
	if (p)
		pclose(p);
	return root;
}

/* The interpreter's executable path into buf; returns buf. */
static inline const char *tu_interp_path(const tu_interp *ip, char *buf, size_t cap)
{
	if (ip->version)
		snprintf(buf, cap, "%s/versions/%s/%s", tu_pyenv_root(), ip->version, ip->path);
	else
		snprintf(buf, cap, "%s", ip->path);
	return buf;
}

/* ---- small helpers of the real-core suites ---- */

#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>

/* snprintf that refuses to truncate (paths here are built from env vars). */
__attribute__((format(printf, 3, 4)))
static inline void tu_fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "testutil: path too long: %s...\n", buf);
		abort();
	}
}

/* mkdir -p. */
static inline int tu_mkdir_p(const char *path)
{
	char buf[4096];
	tu_fmt(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Whether prog is an executable on $PATH. */
static inline int tu_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096];
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		tu_fmt(dir, sizeof dir, "%.*s/%s", (int)n, path, prog);
		if (n && access(dir, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* ---- the driver scripts of the real-core suites ---- */

/* Exit status of a driver (the scripts in tests/integration) that skipped, after a
 * loud "SKIP:" line of its own. */
#define TU_EXIT_SKIP 77

/* Runs argv with its output on ours (where Check's log shows it), or with
 * stdout and stderr in the file `log` (truncated) when log is not NULL.
 * Returns the exit status, 128 + signal, or -1 when it could not be started. */
static inline int tu_run_shown(char *const argv[], const char *log)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (log && !freopen(log, "w", stdout))
			_exit(126);
		if (log)
			dup2(fileno(stdout), 2);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether a driver's exit status rc says it skipped.  A driver skips only
 * when it cannot take cores; on a machine that can (tu_no_cores), that is
 * a failure, not a skip. */
static inline int tu_driver_skipped(int rc, const char *label)
{
	if (rc != TU_EXIT_SKIP)
		return 0;
	const char *why = tu_no_cores();
	ck_assert_msg(why, "%s: the driver skipped (its SKIP line is above) on a machine that "
		      "can take cores", label);
	TU_SKIP("%s: %s: real-core checks not run", label, why);
	return 1;
}

/* Runs a suite of one case per interpreter of tu_interps (the loop index
 * picks it); returns the process exit status. */
static inline int tu_run_interp_suite(const char *name, const TTest *test, int timeout)
{
	Suite *s = suite_create(name);
	for (int i = 0; i < TU_NINTERP; i++) {
		TCase *tc = tcase_create(tu_interps[i].label);
		tcase_set_timeout(tc, timeout);
		tcase_add_loop_test(tc, test, i, i + 1);
		suite_add_tcase(s, tc);
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
