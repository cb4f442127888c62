/*
 * check_cli.c - the pyheap command on bad usage and bad input.
 *
 * Every case runs the real binary ($PYHEAP) and checks the exit status and
 * the one-line message on stderr: 2 for bad usage, 1 for a file that cannot
 * be used, 3 for partial results, and never a crash (a signal would show as
 * 128+N; the sanitizer build turns any memory error into a failure).
 *
 * Real cores come from gcore: a Python that stops itself, and `sleep` (a
 * program that is not Python).  Without gcore or ptrace those cases are
 * skipped loudly.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "testutil.h"

static char tmp[2048];
static char py_core[4096], sleep_core[4096], gone_core[4096];

static int pyheap(const char *a1, const char *a2, const char *a3, const char *a4, char *err, size_t cap)
{
	char *argv[] = {(char *)TU_PYHEAP(), (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	char out[4200], errf[4200];
	snprintf(out, sizeof out, "%s/cli.out", tmp);
	snprintf(errf, sizeof errf, "%s/cli.err", tmp);
	int rc = tu_run(argv, out, errf);
	if (err)
		tu_slurp(errf, err, cap);
	return rc;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	if (n)
		ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Count the lines of s. */
static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The JSON writer: strings from a corrupt heap come out as strict UTF-8,
 * each byte of an invalid sequence as \u00XX. */
START_TEST(json_strings)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "\"plain\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d\""},
		{"q\"b\\\n", "\"q\\\"b\\\\\\u000a\""},
		{"\xc0\x9f", "\"\\u00c0\\u009f\""},             /* overlong */
		{"\xc1\xbf", "\"\\u00c1\\u00bf\""},             /* overlong */
		{"\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""},  /* overlong */
		{"\xf0\x80\x80\xaf", "\"\\u00f0\\u0080\\u0080\\u00af\""},
		{"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""},  /* a surrogate */
		{"\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""}, /* > U+10FFFF */
		{"\xf5\x80", "\"\\u00f5\\u0080\""},
		{"\xc3", "\"\\u00c3\""},                       /* cut short */
		{"\xed\x9f\xbf\xf4\x8f\xbf\xbf", "\"\xed\x9f\xbf\xf4\x8f\xbf\xbf\""}, /* the last valid */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		ck_assert_ptr_nonnull(f);
		json_w w;
		json_init(&w, f);
		json_str(&w, cases[i].in);
		fclose(f);
		ck_assert_msg(strcmp(buf, cases[i].out) == 0, "case %zu: got %s, want %s", i, buf,
			      cases[i].out);
		free(buf);
	}
}
END_TEST

START_TEST(usage_errors)
{
	char err[4096];
	ck_assert_int_eq(pyheap(NULL, NULL, NULL, NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("nosuchcommand", "x", NULL, NULL, err, sizeof err), 2);
	ck_assert_ptr_nonnull(strstr(err, "unknown command"));
	ck_assert_int_eq(pyheap("types", "--sort", "colour", "x", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("types", "--top", "-3", "x", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("info", "--top", "3", "x", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("info", "a", "b", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("info", "--bogus", "x", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("--help", NULL, NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("types", "--help", NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("help", "arenas", NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("memory", "--help", NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("memory", "--sort", "size", "x", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("memory", "--top", "x", "y", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("memory", "a", "b", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("--version", NULL, NULL, NULL, err, sizeof err), 0);
	/* dump, watch and live mode */
	ck_assert_int_eq(pyheap("dump", NULL, NULL, NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("dump", "123", NULL, NULL, err, sizeof err), 2);
	ck_assert_ptr_nonnull(strstr(err, "-o FILE"));
	ck_assert_int_eq(pyheap("dump", "abc", "-o", "x.core", err, sizeof err), 2);
	ck_assert_ptr_nonnull(strstr(err, "not a process id"));
	ck_assert_int_eq(pyheap("dump", "1", "2", "-o", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("dump", "--top", "3", "1", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("info", "--all", "x", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", NULL, NULL, NULL, err, sizeof err), 2);
	ck_assert_ptr_nonnull(strstr(err, "one target"));
	ck_assert_int_eq(pyheap("watch", "--pid", "1", "--dir", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", "--pid=1", "--at=50", NULL, err, sizeof err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--dir"));
	ck_assert_int_eq(pyheap("watch", "--at=120", "--pid=1", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", "--rss=12Q", "--pid=1", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", "--keep=-1", "--pid=1", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", "--pid=1", "x", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("watch", "--at", "50", "--dir", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("types", "--", "ls", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("types", "--pid", "abc", NULL, err, sizeof err), 2);
	ck_assert_int_eq(pyheap("types", "--pid", "1", "x.core", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("dump", "--help", NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("help", "watch", NULL, NULL, err, sizeof err), 0);
}
END_TEST

/* A process that is not there: exit 1 and one line, for every route. */
START_TEST(no_such_process)
{
	char err[4096], pid[32];
	int p = 4194000;
	while (p > 2 && kill(p, 0) == 0)
		p--;
	snprintf(pid, sizeof pid, "%d", p);
	ck_assert_int_eq(pyheap("types", "--pid", pid, NULL, err, sizeof err), 1);
	ck_assert_ptr_nonnull(strstr(err, "no such process"));
	ck_assert_int_eq(lines(err), 1);
	ck_assert_int_eq(pyheap("dump", pid, "-o", "/nonexistent-dir/x.core", err, sizeof err), 1);
	ck_assert_int_eq(lines(err), 1);
	ck_assert_int_eq(pyheap("watch", "--pid", pid, "--rss=1M", err, sizeof err), 2);
}
END_TEST

/* One line on stderr, naming the file and the problem, and exit 1. */
static void expect_unusable(const char *cmd, const char *path, const char *what)
{
	char err[4096];
	int rc = pyheap(cmd, path, NULL, NULL, err, sizeof err);
	ck_assert_msg(rc == 1, "%s %s: exit %d, stderr: %s", cmd, path, rc, err);
	ck_assert_msg(strstr(err, path) != NULL, "message does not name %s: %s", path, err);
	ck_assert_msg(strstr(err, what) != NULL, "message lacks '%s': %s", what, err);
	ck_assert_msg(lines(err) == 1, "not one line: %s", err);
}

START_TEST(bad_files)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/empty.core", tmp);
	write_file(path, "", 0);
	for (int i = 0; i < 4; i++)
		expect_unusable((const char *[]){"info", "types", "arenas", "memory"}[i], path, "empty");
	snprintf(path, sizeof path, "%s/text.core", tmp);
	write_file(path, "hello, world\n", 13);
	expect_unusable("types", path, "not an ELF file");
	expect_unusable("info", "/bin/true", "not a core");
	snprintf(path, sizeof path, "%s/no-such-file.core", tmp);
	expect_unusable("info", path, "No such file");
	expect_unusable("info", tmp, "not a regular file");
}
END_TEST

/* Runs `prog args...` until it stops itself (or for `sleep`, until it
 * sleeps), then gcore. */
static int make_core(char *const argv[], const char *out, int stop_self)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	char stat_path[64], buf[512];
	snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 600; i++) {     /* 60 s at most */
		tu_slurp(stat_path, buf, sizeof buf);
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && ((stop_self && p[2] == 'T') || (!stop_self && p[2] == 'S')))
			break;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	char pidarg[32], prefix[4200], got[4300];
	snprintf(pidarg, sizeof pidarg, "%d", (int)pid);
	snprintf(prefix, sizeof prefix, "%s.tmp", out);
	char *gc[] = {"gcore", "-o", prefix, pidarg, NULL};
	int rc = tu_run(gc, NULL, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(got, sizeof got, "%s.%d", prefix, (int)pid);
	if (rc != 0 || rename(got, out) != 0)
		return -1;
	return 0;
}

static int have_cores(void)
{
	const char *why = tu_no_cores();
	if (why) {
		TU_SKIP("%s: real-core error cases not run", why);
		return 0;
	}
	ck_assert_msg(*py_core, "this machine can take cores, but gcore failed on python3 or sleep");
	return 1;
}

START_TEST(not_python)
{
	if (!have_cores())
		return;
	expect_unusable("info", sleep_core, "not a Python process");
}
END_TEST

START_TEST(truncated)
{
	if (!have_cores())
		return;
	struct stat st;
	ck_assert_int_eq(stat(py_core, &st), 0);
	FILE *in = fopen(py_core, "rb");
	ck_assert_ptr_nonnull(in);
	char *data = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(fread(data, 1, (size_t)st.st_size, in), (size_t)st.st_size);
	fclose(in);
	/* a sweep of cut points: headers, notes, early and late segments */
	const double cuts[] = {0.0001, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char path[4200], err[8192];
		size_t n = (size_t)((double)st.st_size * cuts[i]);
		snprintf(path, sizeof path, "%s/cut.core", tmp);
		write_file(path, data, n);
		int rc = pyheap("types", "--json", path, NULL, err, sizeof err);
		/* unusable (1) or partial (3); never a crash, never "complete" */
		ck_assert_msg(rc == 1 || rc == 3, "cut at %zu of %lld bytes: exit %d: %s", n,
			      (long long)st.st_size, rc, err);
		if (rc == 3)
			ck_assert_msg(strstr(err, "truncated") != NULL, "no truncation warning: %s", err);
	}
	free(data);
}
END_TEST

/* The core of a Python whose executable is gone: a clear error naming the
 * missing file, then --exe brings it back. */
START_TEST(missing_binaries)
{
	if (!have_cores())
		return;
	if (!*gone_core) {
		/* gcore works (have_cores); only a missing python3.11 excuses this */
		ck_assert_msg(access("/usr/bin/python3.11", X_OK) != 0,
			      "could not core a copy of /usr/bin/python3.11");
		TU_SKIP("/usr/bin/python3.11 not installed: missing-binary case not run");
		return;
	}
	char err[8192];
	int rc = pyheap("info", gone_core, NULL, NULL, err, sizeof err);
	ck_assert_msg(rc == 1, "exit %d: %s", rc, err);
	ck_assert_msg(strstr(err, "not found on disk") != NULL, "no missing-module message: %s", err);
	ck_assert_msg(strstr(err, "--exe") != NULL, "no hint: %s", err);
	rc = pyheap("--exe", "/usr/bin/python3.11", "info", gone_core, err, sizeof err);
	ck_assert_msg(rc == 0, "with --exe: exit %d: %s", rc, err);
}
END_TEST

START_TEST(real_core_ok)
{
	if (!have_cores())
		return;
	char err[8192];
	ck_assert_int_eq(pyheap("info", py_core, NULL, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("types", "--top", "5", py_core, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("arenas", "--json", py_core, NULL, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("types", "--sort=count", py_core, "--json", err, sizeof err), 0);
	ck_assert_int_eq(pyheap("memory", "--top", "3", py_core, err, sizeof err), 0);
	ck_assert_int_eq(pyheap("--malloc-scan", "memory", py_core, "--json", err, sizeof err), 0);
}
END_TEST


/* `report -o FILE`: bad usage, unusable input and an unwritable place are
 * one line and no file; a failure leaves an existing FILE as it was (the
 * page is written beside it and renamed). */
static int report(const char *out, const char *baseline, const char *core, char *err, size_t cap)
{
	char *argv[8], o[4200], e[4200];
	int n = 0;
	argv[n++] = (char *)TU_PYHEAP();
	argv[n++] = "report";
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	if (baseline) {
		argv[n++] = "--baseline";
		argv[n++] = (char *)baseline;
	}
	argv[n++] = (char *)core;
	argv[n] = NULL;
	snprintf(o, sizeof o, "%s/cli.out", tmp);
	snprintf(e, sizeof e, "%s/cli.err", tmp);
	int rc = tu_run(argv, o, e);
	tu_slurp(e, err, cap);
	return rc;
}

/* Files in dir whose name starts with prefix. */
static int files_like(const char *dir, const char *prefix)
{
	char cmd[8400], out[64];
	snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '^%s' > '%s/count.txt'", dir, prefix, tmp);
	if (system(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/count.txt", tmp);
	return atoi(tu_slurp(cmd, out, sizeof out));
}

START_TEST(report_errors)
{
	char err[8192], page[4400], empty[4200], text[4200], dir[4200];
	ck_assert_int_eq(pyheap("report", "x.core", NULL, NULL, err, sizeof err), 2);
	ck_assert_msg(strstr(err, "needs -o FILE") != NULL, "%s", err);
	ck_assert_int_eq(pyheap("report", "--top", "3", "-ox.html", err, sizeof err), 2);
	ck_assert_int_eq(pyheap("help", "report", NULL, NULL, err, sizeof err), 0);
	snprintf(dir, sizeof dir, "%s/rep", tmp);
	char *rm[] = {"rm", "-rf", dir, NULL};      /* what an earlier run left */
	ck_assert_int_eq(tu_run(rm, NULL, NULL), 0);
	mkdir(dir, 0755);
	snprintf(page, sizeof page, "%s/page.html", dir);
	snprintf(empty, sizeof empty, "%s/empty.core", tmp);
	write_file(empty, "", 0);
	unlink(page);
	int rc = report(page, NULL, empty, err, sizeof err);
	ck_assert_msg(rc == 1 && strstr(err, empty) && lines(err) == 1, "exit %d: %s", rc, err);
	ck_assert_msg(files_like(dir, "page.html") == 0, "a page or its temporary file is left");
	/* an unwritable place fails before the core is read */
	rc = report("/nonexistent-dir/page.html", NULL, empty, err, sizeof err);
	ck_assert_msg(rc == 1 && strstr(err, "/nonexistent-dir/page.html") && lines(err) == 1,
		      "exit %d: %s", rc, err);
	rc = report(dir, NULL, empty, err, sizeof err);
	ck_assert_msg(rc == 1 && strstr(err, "is a directory") && lines(err) == 1, "exit %d: %s", rc, err);
	if (!have_cores())
		return;
	/* a page already there stays as it was when the report fails */
	write_file(page, "old page", 8);
	snprintf(text, sizeof text, "%s/text.json", tmp);
	const char *bad = "{\"types\": [{\"count\": 1}]}";
	write_file(text, bad, strlen(bad));
	rc = report(page, text, py_core, err, sizeof err);
	ck_assert_msg(rc == 1 && strstr(err, text) && lines(err) == 1, "exit %d: %s", rc, err);
	ck_assert_str_eq(tu_slurp(page, err, sizeof err), "old page");
	ck_assert_msg(files_like(dir, "page.html") == 1, "the temporary file is left");
	rc = report(page, NULL, py_core, err, sizeof err);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	static char html[16 << 20];
	tu_slurp(page, html, sizeof html);
	ck_assert_msg(strncmp(html, "<!DOCTYPE html>", 15) == 0, "not a page: %.100s", html);
	ck_assert_ptr_nonnull(strstr(html, "<script type=\"application/json\" id=\"pyheap-data\">{"));
	/* nothing to load: no script, style or image from anywhere (a quote in
	 * the JSON data is always escaped) */
	ck_assert_ptr_null(strstr(html, "src=\"http"));
	ck_assert_ptr_null(strstr(html, "href=\"http"));
	ck_assert_msg(files_like(dir, "page.html") == 1, "the temporary file is left");

	/* strings of the core cannot end the data block or break the script:
	 * a command line with "</script><!--" and U+2028 (the core keeps the
	 * start of argv; the page shows it) */
	char core[4300];
	snprintf(core, sizeof core, "%s/script.core", tmp);
	char *pyargv[] = {"/usr/bin/python3", "-c",
		"'</script><!--\xe2\x80\xa8'\nimport os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n",
		NULL};
	ck_assert_msg(make_core(pyargv, core, 1) == 0, "gcore failed");
	rc = report(page, NULL, core, err, sizeof err);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
	tu_slurp(page, html, sizeof html);
	const char *data = strstr(html, "id=\"pyheap-data\">");
	ck_assert_ptr_nonnull(data);
	data += strlen("id=\"pyheap-data\">");
	const char *end = strstr(data, "</script>");
	ck_assert_ptr_nonnull(end);
	ck_assert_msg(memchr(data, '<', (size_t)(end - data)) == NULL, "a '<' in the data block");
	ck_assert_msg(end[-1] == '}' || end[-2] == '}', "the data block ends early: %.40s", end - 40);
	char *u = strstr(data, "\\u003c/script>\\u003c!--\\u2028");
	ck_assert_msg(u && u < end, "the command line is not in the data, escaped");
	ck_assert_ptr_null(strstr(html, "\xe2\x80\xa8"));
	unlink(core);
}
END_TEST

/* The pool scan (what stripped 3.8-3.11 builds need) must find exactly what
 * the arena table gives on builds that have the table's symbol. */
START_TEST(pool_scan_equals_symtab)
{
	/* the pyenv builds that keep the arena table behind a symbol: 3.8-3.11 */
	int ran = 0;
	for (int i = 0; i < TU_NINTERP; i++) {
		const tu_interp *ip = &tu_interps[i];
		if (ip->kind != TU_PYENV || ip->minor > 11)
			continue;
		char py[4200], core[4200], a[4300], b[4300], cmd[20000], ver[64];
		if (!tu_pyenv_version(ip->minor, ver, sizeof ver) ||
		    !tu_interp_path(ip, py, sizeof py) || access(py, X_OK) != 0) {
			TU_SKIP("pyenv has no python 3.%d: its pool scan is not compared", ip->minor);
			continue;
		}
		char *pyargv[] = {py, "-c",
			"import os, signal\nx = [dict(a=i) for i in range(5000)]\n"
			"y = [str(i) * 3 for i in range(20000)]\ndel y[::3]\n"
			"os.kill(os.getpid(), signal.SIGSTOP)\n", NULL};
		snprintf(core, sizeof core, "%s/scan-%s.core", tmp, ver);
		if (make_core(pyargv, core, 1) < 0) {
			const char *why = tu_no_cores();
			ck_assert_msg(why, "gcore failed for python %s", ver);
			TU_SKIP("%s: pool scan of python %s not compared", why, ver);
			continue;
		}
		for (int k = 0; k < 2; k++) {
			const char *sub = k ? "types" : "arenas";
			snprintf(a, sizeof a, "%s/scan-a.json", tmp);
			snprintf(b, sizeof b, "%s/scan-b.json", tmp);
			char *argv_a[] = {(char *)TU_PYHEAP(), (char *)sub, "--json", core, NULL};
			char *argv_b[] = {(char *)TU_PYHEAP(), "--pool-scan", (char *)sub, "--json", core, NULL};
			ck_assert_int_eq(tu_run(argv_a, a, NULL), 0);
			ck_assert_int_eq(tu_run(argv_b, b, NULL), 0);
			snprintf(cmd, sizeof cmd,
				 "python3 -c 'import json,sys\n"
				 "a, b = (json.load(open(f)) for f in sys.argv[1:3])\n"
				 "assert a.pop(\"found_by\", \"symtab\") == \"symtab\", a\n"
				 "assert b.pop(\"found_by\", \"pool_scan\") == \"pool_scan\", b\n"
				 "assert a == b, (a, b)' '%s' '%s'", a, b);
			ck_assert_msg(system(cmd) == 0, "python %s: %s differ with --pool-scan", ver, sub);
		}
		unlink(core);
		ran++;
	}
	if (!ran)
		TU_SKIP("no pyenv python 3.8-3.11: pool scan not compared with the arena table");
}
END_TEST

static void setup_cores(void)
{
	snprintf(tmp, sizeof tmp, "%s/cli", TU_TMP());
	mkdir(TU_TMP(), 0755);
	mkdir(tmp, 0755);
	const char *py = "/usr/bin/python3";
	char *pyargv[] = {(char *)py, "-c",
		"import os, signal\nx = [dict(a=i) for i in range(1000)]\nos.kill(os.getpid(), signal.SIGSTOP)\n",
		NULL};
	char *sleepargv[] = {"sleep", "60", NULL};
	snprintf(py_core, sizeof py_core, "%s/py.core", tmp);
	snprintf(sleep_core, sizeof sleep_core, "%s/sleep.core", tmp);
	if (make_core(pyargv, py_core, 1) < 0 || make_core(sleepargv, sleep_core, 0) < 0)
		py_core[0] = 0;
	/* a Python whose executable is deleted after the core is taken */
	char copy[4200], cp_cmd[8600];
	snprintf(copy, sizeof copy, "%s/python-gone", tmp);
	snprintf(gone_core, sizeof gone_core, "%s/gone.core", tmp);
	snprintf(cp_cmd, sizeof cp_cmd, "cp /usr/bin/python3.11 '%s'", copy);
	pyargv[0] = copy;
	if (!*py_core || system(cp_cmd) != 0 || make_core(pyargv, gone_core, 1) < 0)
		gone_core[0] = 0;
	unlink(copy);
}

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, json_strings);
	tcase_add_test(tc, usage_errors);
	tcase_add_test(tc, no_such_process);
	tcase_add_test(tc, bad_files);
	tcase_add_test(tc, not_python);
	tcase_add_test(tc, truncated);
	tcase_add_test(tc, missing_binaries);
	tcase_add_test(tc, real_core_ok);
	tcase_add_test(tc, report_errors);
	tcase_add_test(tc, pool_scan_equals_symtab);
	suite_add_tcase(s, tc);
	setup_cores();
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
