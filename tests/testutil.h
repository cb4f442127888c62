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

/* Where an interpreter comes from: pyenv's builds (DWARF in the binary),
 * the host's own /usr/bin/python3.11 (Debian 12, stripped), or a Debian
 * chroot of scripts/distro.sh (stripped; run with chroot(1)). */
typedef enum { TU_PYENV, TU_HOST, TU_CHROOT } tu_kind;

typedef struct tu_interp {
	const char *label;	/* directory name under $PYHEAP_TMP/<suite> */
	tu_kind kind;
	int minor;		/* 3.<minor> */
	const char *suite;	/* Debian suite: its chroot and debug dir (NULL: pyenv) */
	const char *path;	/* TU_HOST: absolute; TU_CHROOT: inside the chroot;
				 * TU_PYENV: bin/python3.X under the newest
				 * $(pyenv root)/versions/3.X.* */
	const char *what;	/* for the SKIP line */
} tu_interp;

static const tu_interp tu_interps[] = {
	{ "pyenv-3.8",  TU_PYENV, 8,  NULL, "bin/python3.8",  "python3.8 (pyenv)" },
	{ "pyenv-3.9",  TU_PYENV, 9,  NULL, "bin/python3.9",  "python3.9 (pyenv)" },
	{ "pyenv-3.10", TU_PYENV, 10, NULL, "bin/python3.10", "python3.10 (pyenv)" },
	{ "pyenv-3.11", TU_PYENV, 11, NULL, "bin/python3.11", "python3.11 (pyenv)" },
	{ "pyenv-3.12", TU_PYENV, 12, NULL, "bin/python3.12", "python3.12 (pyenv)" },
	{ "pyenv-3.13", TU_PYENV, 13, NULL, "bin/python3.13", "python3.13 (pyenv)" },
	{ "bookworm-3.11", TU_HOST, 11, "bookworm", "/usr/bin/python3.11",
	  "python3.11 (Debian 12, the host's, stripped)" },
	{ "trixie-3.13", TU_CHROOT, 13, "trixie", "/usr/bin/python3.13",
	  "python3.13 (Debian 13 chroot, stripped)" },
	{ "sid-3.13", TU_CHROOT, 13, "sid", "/usr/bin/python3.13",
	  "python3.13 (Debian unstable chroot, stripped)" },
	{ "sid-3.14", TU_CHROOT, 14, "sid", "/usr/bin/python3.14",
	  "python3.14 (Debian unstable chroot, stripped)" },
	{ "sid-3.15", TU_CHROOT, 15, "sid", "/usr/bin/python3.15",
	  "python3.15 (Debian unstable chroot, stripped)" },
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

#include <dirent.h>

/* The newest pyenv version of 3.<minor> (a plain release: "3.12.1", not
 * "3.12.1t" or "3.12-dev"), in buf; NULL when pyenv has none. */
static inline const char *tu_pyenv_version(int minor, char *buf, size_t cap)
{
	char dir[2100];
	snprintf(dir, sizeof dir, "%s/versions", tu_pyenv_root());
	DIR *d = opendir(dir);
	int best = -1;
	if (!d)
		return NULL;
	for (struct dirent *e; (e = readdir(d));) {
		int maj, min, pat, n = 0;
		if (sscanf(e->d_name, "%d.%d.%d%n", &maj, &min, &pat, &n) == 3 &&
		    e->d_name[n] == '\0' && maj == 3 && min == minor && pat > best)
			best = pat;
	}
	closedir(d);
	if (best < 0)
		return NULL;
	snprintf(buf, cap, "3.%d.%d", minor, best);
	return buf;
}

/* $PYHEAP_CACHE, else /var/cache/pyheap: scripts/distro.sh's cache. */
static inline const char *tu_cache(void)
{
	const char *c = getenv("PYHEAP_CACHE");
	return c && *c ? c : "/var/cache/pyheap";
}

/* The chroot an interpreter runs in, in buf; NULL for the host's. */
static inline const char *tu_interp_chroot(const tu_interp *ip, char *buf, size_t cap)
{
	if (ip->kind != TU_CHROOT)
		return NULL;
	snprintf(buf, cap, "%s/chroots/%s", tu_cache(), ip->suite);
	return buf;
}

/* Its separate debug info (DIR/.build-id/xx/yyyy.debug) as distro.sh
 * extracts it, in buf; NULL for pyenv's builds (DWARF in the binary). */
static inline const char *tu_interp_debug_dir(const tu_interp *ip, char *buf, size_t cap)
{
	if (!ip->suite)
		return NULL;
	snprintf(buf, cap, "%s/debug/%s", tu_cache(), ip->suite);
	return buf;
}

/* The interpreter's executable as the host sees it, in buf; returns buf,
 * or NULL for a pyenv minor pyenv does not have. */
static inline const char *tu_interp_path(const tu_interp *ip, char *buf, size_t cap)
{
	char ver[64];
	switch (ip->kind) {
	case TU_PYENV:
		if (!tu_pyenv_version(ip->minor, ver, sizeof ver))
			return NULL;
		snprintf(buf, cap, "%s/versions/%s/%s", tu_pyenv_root(), ver, ip->path);
		break;
	case TU_HOST:
		snprintf(buf, cap, "%s", ip->path);
		break;
	case TU_CHROOT:
		snprintf(buf, cap, "%s/chroots/%s%s", tu_cache(), ip->suite, ip->path);
		break;
	}
	return buf;
}

/* The configurations each real-core suite runs an interpreter's core in:
 * extra pyheap options and a name.  pyenv's builds: with their DWARF
 * (plain), without it (--no-dwarf) and, where the arena table has a symbol
 * (3.8 - 3.11), with the pool scan forced (--pool-scan).  Debian's builds:
 * stripped as they are (plain: no debug info anywhere pyheap looks, and no
 * debuginfod) and with their -dbg debug files (--debug-dir). */
typedef struct tu_config {
	const char *name;
	const char *args[3];	/* NULL-terminated */
} tu_config;

static inline int tu_configs(const tu_interp *ip, tu_config *c, char *dirbuf, size_t cap)
{
	int n = 0;
	if (ip->kind == TU_PYENV) {
		c[n++] = (tu_config){ "dwarf", { NULL } };
		c[n++] = (tu_config){ "no-dwarf", { "--no-dwarf", NULL } };
		if (ip->minor <= 11)
			c[n++] = (tu_config){ "pool-scan", { "--pool-scan", NULL } };
	} else {
		c[n++] = (tu_config){ "stripped", { NULL } };
		c[n++] = (tu_config){ "debug-dir",
				      { "--debug-dir", tu_interp_debug_dir(ip, dirbuf, cap), NULL } };
	}
	return n;
}

/* Whether CI=true: there a missing chroot is a failure, not a skip. */
static inline int tu_on_ci(void)
{
	const char *ci = getenv("CI");
	return ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
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

/* ---- the Debian chroots (scripts/distro.sh) ---- */

/* 1: distro.sh made (or found) the chroots and debug files; 0: it failed
 * (its output is in $PYHEAP_TMP/distro-<suite>.log and was shown); -1: not
 * run yet.  Set by tu_run_interp_suite, before the cases fork. */
static int tu_distro_status = -1;

/* Runs scripts/distro.sh (cached: a second run takes about a second) and
 * remembers whether the chroots are there. */
static inline int tu_distro(const char *suite)
{
	if (tu_distro_status >= 0)
		return tu_distro_status;
	char script[4096], log[4096], cmd[9000];
	tu_fmt(script, sizeof script, "%s/scripts/distro.sh", TU_SRC());
	tu_mkdir_p(TU_TMP());
	tu_fmt(log, sizeof log, "%s/distro-%s.log", TU_TMP(), suite);
	tu_fmt(cmd, sizeof cmd, "'%s' >'%s' 2>&1 </dev/null", script, log);
	fflush(NULL);
	int rc = system(cmd);
	tu_distro_status = rc == 0;
	if (tu_distro_status) {
		printf("distro.sh: chroots ready (%s)\n", log);
	} else {
		char tail[9000];
		tu_fmt(tail, sizeof tail, "tail -n 15 '%s'", log);
		fflush(NULL);
		printf("distro.sh FAILED (status %d), the Debian chroots cannot be made:\n", rc);
		fflush(stdout);
		if (system(tail) != 0)
			printf("(no log)\n");
		fprintf(stderr, "%s: scripts/distro.sh failed: the interpreters of the Debian "
			"chroots %s (see %s)\n", suite,
			tu_on_ci() ? "FAIL (CI=true)" : "are SKIPPED", log);
	}
	fflush(NULL);
	return tu_distro_status;
}

/* Runs a suite of n cases, case i named labels[i] and running test with
 * loop index i; returns the process exit status. */
static inline int tu_run_cases(const char *name, const char *const *labels, int n,
			       const TTest *test, int timeout)
{
	Suite *s = suite_create(name);
	for (int i = 0; i < n; i++) {
		TCase *tc = tcase_create(labels[i]);
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

/* Runs a suite of one case per interpreter of tu_interps (the loop index
 * picks it); returns the process exit status.  Makes sure the chroots
 * exist first (scripts/distro.sh), and keeps debuginfod out of every run
 * (only check_debuginfod asks it, on purpose). */
static inline int tu_run_interp_suite(const char *name, const TTest *test, int timeout)
{
	unsetenv("DEBUGINFOD_URLS");
	tu_distro(name);
	const char *labels[TU_NINTERP];
	for (int i = 0; i < TU_NINTERP; i++)
		labels[i] = tu_interps[i].label;
	return tu_run_cases(name, labels, TU_NINTERP, test, timeout);
}

/* Whether the case of interpreter ip can run here: fills path (its
 * executable on the host) and chroot ("" for the host's); returns 0 after a
 * loud SKIP line, or fails the case when a skip is not allowed (a chroot
 * that cannot be made on CI). */
static inline int tu_interp_ready(const tu_interp *ip, char *path, size_t cap,
				  char *chroot, size_t ccap)
{
	chroot[0] = '\0';
	if (!tu_interp_path(ip, path, cap)) {
		TU_SKIP("%s: pyenv (%s) has no python 3.%d", ip->label, tu_pyenv_root(), ip->minor);
		return 0;
	}
	if (ip->kind == TU_CHROOT) {
		if (tu_distro_status != 1) {
			ck_assert_msg(!tu_on_ci(), "%s: the Debian chroots could not be made "
				      "(scripts/distro.sh failed; its log is in %s): on CI that is a "
				      "failure", ip->label, TU_TMP());
			TU_SKIP("%s: the Debian chroots could not be made (scripts/distro.sh "
				"failed, see %s/distro-*.log): %s not run", ip->label, TU_TMP(), ip->what);
			return 0;
		}
		tu_interp_chroot(ip, chroot, ccap);
	}
	if (access(path, X_OK) != 0) {
		TU_SKIP("%s: %s not found at %s", ip->label, ip->what, path);
		return 0;
	}
	if (!tu_in_path("gcore")) {
		TU_SKIP("%s: gcore not found in PATH (install gdb)", ip->label);
		return 0;
	}
	return 1;
}

/* ---- one real-core case: make the cores, check them in every configuration ---- */

#define TU_SYS_PYTHON "/usr/bin/python3"	/* runs the drivers; always present */

typedef struct tu_realcore {
	const char *suite;	/* "integration": names RESULT lines */
	const char *subdir;	/* under $PYHEAP_TMP: "integ", "graph", "leak" */
	const char *builder;	/* heapbuild.py, graphbuild.py, leakbuild.py */
	const char *checker;	/* compare.py, graphcheck.py, leakcheck.py */
	const char *const *cores;	/* the cores the builder makes, NULL-terminated */
	/* before the checks: must fail the case itself when it fails */
	void (*selftest)(const tu_interp *ip, const char *outdir);
	/* after each configuration's checker: returns 0 on success */
	int (*also)(const tu_interp *ip, const char *outdir, const tu_config *c);
} tu_realcore;

/* Makes the cores of interpreter ip with the builder (mkcore.py, in its
 * chroot if it has one), then runs the checker on them once per
 * configuration (tu_configs), each printing its PASS/FAIL table; one
 * "== RESULT suite label config: PASS|FAIL" line per configuration.  The
 * case fails, naming the configurations, when any checker does; the cores
 * are deleted when all pass and kept otherwise. */
static inline void tu_realcore_case(const tu_realcore *rc, const tu_interp *ip)
{
	char interp[8192], chroot[4096], outdir[4096], mk[4096], chk[4096], dirbuf[4096];
	if (!tu_interp_ready(ip, interp, sizeof interp, chroot, sizeof chroot))
		return;
	tu_fmt(outdir, sizeof outdir, "%s/%s/%s", TU_TMP(), rc->subdir, ip->label);
	ck_assert_msg(tu_mkdir_p(outdir) == 0, "cannot create %s: %s", outdir, strerror(errno));
	tu_fmt(mk, sizeof mk, "%s/tests/integration/mkcore.py", TU_SRC());
	tu_fmt(chk, sizeof chk, "%s/tests/integration/%s", TU_SRC(), rc->checker);

	printf("=== %s: %s%s%s\n", ip->label, interp, *chroot ? " in chroot " : "", chroot);
	char *mkargv[8];
	int m = 0;
	mkargv[m++] = TU_SYS_PYTHON;
	mkargv[m++] = mk;
	if (*chroot) {
		mkargv[m++] = "--chroot";
		mkargv[m++] = chroot;
		mkargv[m++] = (char *)ip->path;
	} else {
		mkargv[m++] = interp;
	}
	mkargv[m++] = outdir;
	mkargv[m++] = (char *)rc->builder;
	mkargv[m] = NULL;
	int r = tu_run_shown(mkargv, NULL);
	if (tu_driver_skipped(r, ip->label))
		return;
	ck_assert_msg(r == 0, "%s: mkcore.py %s (%s) exited %d", ip->label, interp, rc->builder, r);
	if (rc->selftest)
		rc->selftest(ip, outdir);

	tu_config cf[4];
	int n = tu_configs(ip, cf, dirbuf, sizeof dirbuf);
	char failed[1024] = "";
	for (int k = 0; k < n; k++) {
		if (cf[k].args[0] && strcmp(cf[k].args[0], "--debug-dir") == 0 &&
		    access(cf[k].args[1], R_OK) != 0) {
			ck_assert_msg(!tu_on_ci(), "%s: no debug dir %s (scripts/distro.sh makes it)",
				      ip->label, cf[k].args[1]);
			TU_SKIP("%s [%s]: no debug dir %s (scripts/distro.sh makes it): not run",
				ip->label, cf[k].name, cf[k].args[1]);
			continue;
		}
		char *argv[12] = { TU_SYS_PYTHON, chk, outdir, (char *)TU_PYHEAP() };
		int a = 4;
		for (int j = 0; cf[k].args[j]; j++)
			argv[a++] = (char *)cf[k].args[j];
		argv[a] = NULL;
		printf("--- %s [%s]\n", ip->label, cf[k].name);
		r = tu_run_shown(argv, NULL);
		int ok = r == 0;
		if (ok && rc->also)
			ok = rc->also(ip, outdir, &cf[k]) == 0;
		printf("== RESULT %s %s [%s]: %s\n", rc->suite, ip->label, cf[k].name,
		       ok ? "PASS" : "FAIL");
		if (!ok) {
			size_t l = strlen(failed);
			snprintf(failed + l, sizeof failed - l, "%s%s", l ? ", " : "", cf[k].name);
		}
	}
	fflush(stdout);
	ck_assert_msg(!*failed, "%s: pyheap disagrees with the interpreter in: %s (%s; tables "
		      "above); cores kept in %s", ip->label, failed, rc->checker, outdir);
	for (const char *const *c = rc->cores; *c; c++) {
		char f[4200];
		tu_fmt(f, sizeof f, "%s/%s", outdir, *c);
		unlink(f);
	}
	tu_fmt(dirbuf, sizeof dirbuf, "%s/objects.txt", outdir);
	unlink(dirbuf);
}

#endif
