/*
 * cmd_watch.c - `pyheap watch`: take a core before the OOM killer does.
 *
 * Targets: one process (--pid), every Python process of a memory cgroup
 * (--cgroup, v1 or v2), or a command it starts (-- CMD ARGS).  Triggers:
 * the cgroup's usage reaching --at PERCENT of its limit, a process's RSS
 * reaching --rss SIZE (each repeatable: one dump at each level, re-armed
 * when usage falls below it again).  Each trigger dumps the processes
 * (core_dump_pid) into --dir, at most one dump of a process per
 * --min-interval (a trigger within it waits for its end), and a child
 * process writes the dump's `types --json` snapshot beside it, so that a
 * series can be diffed even after --keep N has deleted the older cores.
 *
 * The watcher is small (no core is mapped here: the snapshot runs in a
 * child), asks not to be OOM-killed first (oom_score_adj -1000; the command
 * it starts gets its own value back), and sleeps on the kernel's
 * notifications where the cgroup has them, reading usage every --interval
 * ms besides.  One line per event on stderr; --json: one JSON object per
 * event on stdout.  SIGTERM, SIGINT and SIGHUP stop it cleanly (a dump in
 * progress is finished, snapshots are waited for); exit 0.
 */
#include "cmd.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 256
#define MAX_SNAPS 16
#define REARM 0.95     /* a level re-arms when usage falls below 95% of it */

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

typedef struct wproc {
	int pid;
	int python;           /* -1 unknown */
	double checked;       /* when python was found 0: checked again after 1 s
			       * (the process may have exec'd Python since) */
	int rss_armed[8];
	double last_dump;     /* seconds (monotonic), 0 never */
	int seen;
} wproc;

typedef struct snap {
	pid_t child;
	char *tmp, *final;
} snap;

typedef struct watcher {
	cmd_ctx *ctx;
	cmd_watch_opts *o;
	core_cgroup_t *cg;
	int target;           /* --pid or the command's pid; 0: the cgroup's */
	pid_t child;          /* the command we started, 0 when none */
	int at_armed[8];
	double at_last;       /* last dump for a cgroup trigger */
	uint64_t oom_kills;
	wproc procs[MAX_PROCS];
	size_t nprocs;
	snap snaps[MAX_SNAPS];
	size_t nsnaps;
	unsigned long dumps;
} watcher;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- events: a line on stderr, a JSON object on stdout with --json ---- */

typedef struct ev {
	const char *event;
	int pid;
	const char *file;
	uint64_t usage, limit, rss, bytes, count;
	double percent, level, pause_ms, ms;
	int status;           /* exit: >=0 code, <0 -signal */
	const char *text;     /* the human line, after the time */
} ev;

/* A number with a fraction, which json.h does not write. */
static void json_knum(json_w *j, const char *key, const char *fmt, double v)
{
	json_key(j, key);
	fprintf(j->f, fmt, v);
	j->pending_key = 0;
}

static void emit(watcher *w, const ev *e)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	fprintf(stderr, "pyheap: watch: %02d:%02d:%02d.%03d %s: %s\n", tm.tm_hour, tm.tm_min,
		tm.tm_sec, (int)(tv.tv_usec / 1000), e->event, e->text);
	if (!w->ctx->json)
		return;
	json_w j;
	json_init(&j, stdout);
	json_obj(&j);
	json_knum(&j, "t", "%.3f", (double)tv.tv_sec + (double)tv.tv_usec / 1e6);
	json_kstr(&j, "event", e->event);
	if (e->pid)
		json_ki64(&j, "pid", e->pid);
	if (e->file)
		json_kstr(&j, "file", e->file);
	if (e->limit) {
		json_ku64(&j, "usage", e->usage);
		json_ku64(&j, "limit", e->limit);
	}
	if (e->percent > 0)
		json_knum(&j, "percent", "%.2f", e->percent);
	if (e->level > 0)
		json_knum(&j, "level", "%.6g", e->level);
	if (e->rss)
		json_ku64(&j, "rss", e->rss);
	if (e->bytes)
		json_ku64(&j, "bytes", e->bytes);
	if (e->count)
		json_ku64(&j, "count", e->count);
	if (!strcmp(e->event, "dump")) {
		json_knum(&j, "pause_ms", "%.1f", e->pause_ms);
		json_knum(&j, "ms", "%.1f", e->ms);
	}
	if (!strcmp(e->event, "exit"))
		json_ki64(&j, e->status >= 0 ? "status" : "signal",
			  e->status >= 0 ? e->status : -e->status);
	json_kstr(&j, "text", e->text);
	json_obj_end(&j);
	json_end(&j);
	fflush(stdout);
}

static void say(watcher *w, const char *event, int pid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(watcher *w, const char *event, int pid, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	ev e = {.event = event, .pid = pid, .text = text};
	emit(w, &e);
}

/* ---- the processes ---- */

static wproc *proc_of(watcher *w, int pid)
{
	for (size_t i = 0; i < w->nprocs; i++)
		if (w->procs[i].pid == pid)
			return &w->procs[i];
	if (w->nprocs == MAX_PROCS) {
		/* forget one that is gone, else the oldest */
		size_t k = 0;
		for (size_t i = 0; i < w->nprocs; i++)
			if (!w->procs[i].seen) {
				k = i;
				break;
			}
		w->procs[k] = w->procs[--w->nprocs];
	}
	wproc *p = &w->procs[w->nprocs++];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->python = -1;
	for (int i = 0; i < 8; i++)
		p->rss_armed[i] = 1;
	return p;
}

/* The processes watched now: the target, or the cgroup's Python ones. */
static size_t current(watcher *w, wproc **out, size_t cap, int fresh)
{
	size_t n = 0;
	for (size_t i = 0; i < w->nprocs; i++)
		w->procs[i].seen = 0;
	if (w->target) {
		wproc *p = proc_of(w, w->target);
		p->seen = 1;
		out[n++] = p;
		return n;
	}
	int *pids;
	size_t np;
	if (core_cgroup_pids(w->cg, &pids, &np) < 0)
		return 0;
	for (size_t i = 0; i < np && n < cap; i++) {
		wproc *p = proc_of(w, pids[i]);
		if (p->python < 0 || (p->python == 0 && (fresh || mono() - p->checked > 1))) {
			p->python = core_pid_is_python(pids[i]);
			p->checked = mono();
		}
		p->seen = 1;
		if (p->python)
			out[n++] = p;
	}
	free(pids);
	return n;
}

/* ---- snapshots, --keep ---- */

static void start_snapshot(watcher *w, const char *core)
{
	if (w->nsnaps == MAX_SNAPS) {
		say(w, "snapshot_skipped", 0, "%s: %d snapshots already running", core, MAX_SNAPS);
		return;
	}
	snap *s = &w->snaps[w->nsnaps];
	size_t l = strlen(core);
	size_t base = l;
	if (l > 9 && !strcmp(core + l - 9, ".core.zst"))
		base = l - 9;
	else if (l > 5 && !strcmp(core + l - 5, ".core"))
		base = l - 5;
	if (asprintf(&s->final, "%.*s.types.json", (int)base, core) < 0)
		return;
	if (asprintf(&s->tmp, "%s.tmp", s->final) < 0) {
		free(s->final);
		return;
	}
	fflush(NULL);
	pid_t c = fork();
	if (c == 0) {
		int fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDWR);
		if (fd < 0 || nul < 0)
			_exit(1);
		dup2(fd, 1);
		dup2(nul, 0);
		dup2(nul, 2);
		/* the snapshot may be OOM-killed before the watcher */
		int adj = open("/proc/self/oom_score_adj", O_WRONLY);
		if (adj >= 0) {
			if (write(adj, "0", 1) < 0) {
				/* the watcher's value stays: harmless */
			}
			close(adj);
		}
		char *argv[] = {"pyheap", "--json", "-q", "--no-progress", "types", (char *)core,
				NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	if (c < 0) {
		say(w, "snapshot_failed", 0, "%s: fork: %s", core, strerror(errno));
		free(s->tmp);
		free(s->final);
		return;
	}
	s->child = c;
	w->nsnaps++;
}

static void reap_snapshots(watcher *w, int block)
{
	for (size_t i = 0; i < w->nsnaps;) {
		snap *s = &w->snaps[i];
		int st;
		pid_t r = waitpid(s->child, &st, block ? 0 : WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		int ok = r == s->child && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3);
		if (ok && rename(s->tmp, s->final) == 0) {
			say(w, "snapshot", 0, "%s", s->final);
		} else {
			unlink(s->tmp);
			say(w, "snapshot_failed", 0, "%s: `pyheap types` %s %d", s->final,
			    r == s->child && WIFSIGNALED(st) ? "killed by signal" : "exited with",
			    r != s->child ? -1 : WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
		free(s->tmp);
		free(s->final);
		w->snaps[i] = w->snaps[--w->nsnaps];
	}
}

typedef struct dent {
	char *name;
	double mtime;
} dent;

static int dent_cmp(const void *a, const void *b)
{
	const dent *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int is_our_core(const char *n)
{
	size_t l = strlen(n);
	return !strncmp(n, "pyheap-", 7) && ((l > 5 && !strcmp(n + l - 5, ".core")) ||
					     (l > 9 && !strcmp(n + l - 9, ".core.zst")));
}

/* --keep N: the newest N dumps stay (their snapshots all stay: small). */
static void prune(watcher *w)
{
	if (w->o->keep <= 0)
		return;
	DIR *d = opendir(w->o->dir);
	if (!d)
		return;
	dent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_our_core(de->d_name))
			continue;
		char p[8192];
		struct stat st;
		snprintf(p, sizeof p, "%s/%s", w->o->dir, de->d_name);
		if (stat(p, &st) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			dent *nv = realloc(v, cap * sizeof *nv);
			if (!nv)
				break;
			v = nv;
		}
		v[n].name = strdup(de->d_name);
		v[n].mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
		if (v[n].name)
			n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, dent_cmp);
	for (size_t i = 0; i + (size_t)w->o->keep < n; i++) {
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", w->o->dir, v[i].name);
		if (unlink(p) == 0)
			say(w, "deleted", 0, "%s (--keep %ld)", p, w->o->keep);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---- dumping ---- */

static void dump_one(watcher *w, wproc *p, const char *why)
{
	char path[8192], stamp[64];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	snprintf(path, sizeof path, "%s/pyheap-%d-%s.%03d.core%s", w->o->dir, p->pid, stamp,
		 (int)(tv.tv_usec / 1000), w->o->zstd ? ".zst" : "");
	core_dump_options o = {.all = w->ctx->all, .zstd = w->o->zstd};
	core_dump_stats st;
	char err[512];
	p->last_dump = mono();
	if (core_dump_pid(p->pid, path, &o, &st, err, sizeof err) < 0) {
		say(w, "dump_failed", p->pid, "pid %d (%s): %s", p->pid, why, err);
		return;
	}
	w->dumps++;
	char b[32], m[32], text[8800];
	snprintf(text, sizeof text, "pid %d (%s): %s, %s (%s of memory, %zu thread%s) in %.0f ms, "
		 "process paused %.0f ms", p->pid, why, path, cmd_bytes(b, sizeof b, st.bytes),
		 cmd_bytes(m, sizeof m, st.memory), st.threads, st.threads == 1 ? "" : "s", st.total_ms,
		 st.pause_ms);
	ev e = {.event = "dump", .pid = p->pid, .file = path, .bytes = st.bytes,
		.pause_ms = st.pause_ms, .ms = st.total_ms, .text = text};
	emit(w, &e);
	start_snapshot(w, path);
	prune(w);
}

/* A level was reached: dump now, or say why not yet. */
static int fire(watcher *w, wproc *p, double *last, const char *why, int *deferred_said)
{
	double now = mono(), gap = w->o->min_interval;
	if (*last > 0 && now - *last < gap) {
		if (!*deferred_said)
			say(w, "deferred", p ? p->pid : 0, "%s: last dump %.1f s ago (--min-interval %g)",
			    why, now - *last, gap);
		*deferred_said = 1;
		return 0;
	}
	*deferred_said = 0;
	*last = now;
	return 1;
}

static void check_cgroup(watcher *w, wproc **procs, size_t n)
{
	uint64_t usage, limit;
	if (!w->o->nat || !w->cg || core_cgroup_usage(w->cg, &usage, &limit) < 0 ||
	    limit == UINT64_MAX)
		return;
	static int deferred[8];
	for (size_t i = 0; i < w->o->nat; i++) {
		double level = (double)limit * w->o->at[i] / 100.0;
		if (!w->at_armed[i]) {
			if ((double)usage < level * REARM)
				w->at_armed[i] = 1;
			continue;
		}
		if ((double)usage < level)
			continue;
		char why[128], u[32], l[32], text[1024];
		snprintf(why, sizeof why, "cgroup at %.1f%% >= %g%%", 100.0 * (double)usage / (double)limit,
			 w->o->at[i]);
		if (!fire(w, NULL, &w->at_last, why, &deferred[i]))
			continue;
		w->at_armed[i] = 0;
		if (!w->target)
			n = current(w, procs, MAX_PROCS, 1);
		snprintf(text, sizeof text, "%s: usage %s of %s (%.1f%% >= %g%%), %zu Python process%s",
			 core_cgroup_path(w->cg), cmd_bytes(u, sizeof u, usage), cmd_bytes(l, sizeof l, limit),
			 100.0 * (double)usage / (double)limit, w->o->at[i], n, n == 1 ? "" : "es");
		ev e = {.event = "trigger", .usage = usage, .limit = limit,
			.percent = 100.0 * (double)usage / (double)limit, .level = w->o->at[i],
			.text = text};
		emit(w, &e);
		for (size_t k = 0; k < n; k++)
			dump_one(w, procs[k], why);
	}
}

static void check_rss(watcher *w, wproc **procs, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		wproc *p = procs[k];
		uint64_t rss = core_pid_rss(p->pid);
		if (!rss)
			continue;
		for (size_t i = 0; i < w->o->nrss; i++) {
			double level = (double)w->o->rss[i];
			if (!p->rss_armed[i]) {
				if ((double)rss < level * REARM)
					p->rss_armed[i] = 1;
				continue;
			}
			if ((double)rss < level)
				continue;
			char why[128], r[32], l[32];
			snprintf(why, sizeof why, "RSS %s >= %s", cmd_bytes(r, sizeof r, rss),
				 cmd_bytes(l, sizeof l, w->o->rss[i]));
			if (p->last_dump > 0 && mono() - p->last_dump < w->o->min_interval)
				continue;   /* rate limit: stays armed until the interval ends */
			p->rss_armed[i] = 0;
			char text[1024];
			snprintf(text, sizeof text, "pid %d: %s", p->pid, why);
			ev e = {.event = "trigger", .pid = p->pid, .rss = rss,
				.level = (double)w->o->rss[i], .text = text};
			emit(w, &e);
			dump_one(w, p, why);
			break;
		}
	}
}

/* ---- setup ---- */

static int set_oom_adj(const char *v)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	close(fd);
	return ok ? 0 : -1;
}

static pid_t start_command(watcher *w)
{
	fflush(NULL);
	pid_t c = fork();
	if (c == 0) {
		execvp(w->o->command[0], w->o->command);
		fprintf(stderr, "pyheap: watch: %s: %s\n", w->o->command[0], strerror(errno));
		_exit(127);
	}
	return c;
}

static int usage_error(const char *msg)
{
	cmd_error("watch: %s", msg);
	fprintf(stderr, "Try 'pyheap watch --help'.\n");
	return EXIT_USAGE;
}

int cmd_watch(cmd_ctx *ctx)
{
	cmd_watch_opts *o = &ctx->watch;
	int ntargets = (ctx->pid > 0) + (o->cgroup != NULL) + (o->command != NULL);
	if (ntargets != 1)
		return usage_error("give one target: --pid PID, --cgroup PATH or -- CMD ARGS...");
	if (o->command && !o->command[0])
		return usage_error("-- needs a command");
	if (!o->nat && !o->nrss)
		return usage_error("give a trigger: --at PERCENT or --rss SIZE");
	if (!o->dir)
		return usage_error("give --dir DIR for the dumps");
	if (o->min_interval < 0)
		o->min_interval = 10;
	if (o->interval_ms < 0)
		o->interval_ms = 100;
	if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		cmd_error("%s: %s", o->dir, strerror(errno));
		return EXIT_UNUSABLE;
	}
	if (access(o->dir, W_OK) < 0) {
		cmd_error("%s: %s", o->dir, strerror(errno));
		return EXIT_UNUSABLE;
	}

	watcher w = {.ctx = ctx, .o = o};
	for (int i = 0; i < 8; i++)
		w.at_armed[i] = 1;
	char err[512];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (o->command) {
		/* before our own oom_score_adj changes: the command keeps the
		 * value it would have had */
		w.child = start_command(&w);
		if (w.child < 0) {
			cmd_error("watch: fork: %s", strerror(errno));
			return EXIT_UNUSABLE;
		}
		w.target = w.child;
	} else if (ctx->pid > 0) {
		if (!core_pid_alive(ctx->pid)) {
			cmd_error("pid %d: no such process", ctx->pid);
			return EXIT_UNUSABLE;
		}
		w.target = ctx->pid;
	}
	if (o->cgroup ? core_cgroup_open(&w.cg, o->cgroup, err, sizeof err) < 0 :
	    o->nat && core_cgroup_of_pid(&w.cg, w.target, err, sizeof err) < 0) {
		cmd_error("%s", err);
		if (w.child > 0) {
			kill(w.child, SIGTERM);
			waitpid(w.child, NULL, 0);
		}
		return EXIT_UNUSABLE;
	}
	uint64_t usage = 0, limit = UINT64_MAX;
	if (w.cg && core_cgroup_usage(w.cg, &usage, &limit) == 0 && o->nat && limit == UINT64_MAX) {
		cmd_error("%s: no memory limit: --at needs one (or use --rss)", core_cgroup_path(w.cg));
		core_cgroup_free(w.cg);
		if (w.child > 0) {
			kill(w.child, SIGTERM);
			waitpid(w.child, NULL, 0);
		}
		return EXIT_UNUSABLE;
	}
	int adj = set_oom_adj("-1000");
	int notes = 0;
	for (size_t i = 0; w.cg && i < o->nat; i++)
		notes += core_cgroup_notify(w.cg, (uint64_t)((double)limit * o->at[i] / 100.0));
	if (w.cg && !o->nat)
		notes += core_cgroup_notify(w.cg, UINT64_MAX);
	if (w.cg)
		w.oom_kills = core_cgroup_oom_kills(w.cg);

	{
		char text[2048], lim[32], u[32], levels[256] = "";
		size_t off = 0;
		for (size_t i = 0; i < o->nat && off < sizeof levels; i++)
			off += (size_t)snprintf(levels + off, sizeof levels - off, "%s%g%%", off ? ", " : "",
						o->at[i]);
		for (size_t i = 0; i < o->nrss && off < sizeof levels; i++)
			off += (size_t)snprintf(levels + off, sizeof levels - off, "%sRSS %s", off ? ", " : "",
						cmd_bytes(u, sizeof u, o->rss[i]));
		char who[64] = "Python processes of";
		if (w.target)
			snprintf(who, sizeof who, "pid %d in", w.target);
		if (w.cg)
			snprintf(text, sizeof text, "%s cgroup v%d %s: usage %s, limit %s; dump at %s into %s; "
				 "%s; oom_score_adj %s", who, core_cgroup_version(w.cg), core_cgroup_path(w.cg),
				 cmd_bytes(u, sizeof u, usage),
				 limit == UINT64_MAX ? "none" : cmd_bytes(lim, sizeof lim, limit), levels, o->dir,
				 notes ? "kernel notifications on" : "polling only",
				 adj == 0 ? "-1000" : "unchanged (not permitted)");
		else
			snprintf(text, sizeof text, "pid %d: dump at %s into %s; oom_score_adj %s", w.target,
				 levels, o->dir, adj == 0 ? "-1000" : "unchanged (not permitted)");
		ev e = {.event = "start", .pid = w.target, .usage = usage,
			.limit = limit == UINT64_MAX ? 0 : limit, .text = text};
		emit(&w, &e);
	}

	int rc = EXIT_OK;
	while (!stopping) {
		reap_snapshots(&w, 0);
		if (w.target) {
			int st, gone = 0;
			if (w.child > 0) {
				pid_t r = waitpid(w.child, &st, WNOHANG);
				if (r == w.child) {
					gone = 1;
					ev e = {.event = "exit", .pid = w.child,
						.status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st)};
					char text[256];
					snprintf(text, sizeof text, "pid %d %s %d", w.child,
						 WIFEXITED(st) ? "exited with status" : "killed by signal",
						 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
					e.text = text;
					emit(&w, &e);
				} else if (r < 0 && !core_pid_alive(w.child)) {
					gone = 1;
					say(&w, "exit", w.child, "pid %d exited", w.child);
				}
			} else if (!core_pid_alive(w.target)) {
				gone = 1;
				say(&w, "exit", w.target, "pid %d exited", w.target);
			}
			if (gone) {
				if (w.cg && core_cgroup_oom_kills(w.cg) > w.oom_kills)
					say(&w, "oom_kill", 0, "%s: %llu OOM kill%s", core_cgroup_path(w.cg),
					    (unsigned long long)(core_cgroup_oom_kills(w.cg) - w.oom_kills),
					    core_cgroup_oom_kills(w.cg) - w.oom_kills == 1 ? "" : "s");
				break;
			}
		}
		if (w.cg) {
			uint64_t k = core_cgroup_oom_kills(w.cg);
			if (k > w.oom_kills) {
				ev e = {.event = "oom_kill", .count = k - w.oom_kills};
				char text[512];
				snprintf(text, sizeof text, "%s: %llu OOM kill%s (memory.%s oom_kill %llu)",
					 core_cgroup_path(w.cg), (unsigned long long)(k - w.oom_kills),
					 k - w.oom_kills == 1 ? "" : "s",
					 core_cgroup_version(w.cg) == 1 ? "oom_control" : "events",
					 (unsigned long long)k);
				e.text = text;
				emit(&w, &e);
				w.oom_kills = k;
			}
			uint64_t u2, l2;
			if (core_cgroup_usage(w.cg, &u2, &l2) < 0) {
				say(&w, "cgroup_gone", 0, "%s: the cgroup is gone", core_cgroup_path(w.cg));
				break;
			}
		}
		wproc *procs[MAX_PROCS];
		size_t n = current(&w, procs, MAX_PROCS, 0);
		check_cgroup(&w, procs, n);
		if (o->nrss)
			check_rss(&w, procs, n);
		if (stopping)
			break;
		if (w.cg)
			core_cgroup_wait(w.cg, (int)o->interval_ms);
		else
			poll(NULL, 0, (int)o->interval_ms);
	}
	if (w.nsnaps)
		say(&w, "waiting", 0, "%zu snapshot%s still running", w.nsnaps, w.nsnaps == 1 ? "" : "s");
	reap_snapshots(&w, 1);
	say(&w, "stop", 0, "%lu dump%s%s", w.dumps, w.dumps == 1 ? "" : "s",
	    stopping ? " (stopped by a signal)" : "");
	core_cgroup_free(w.cg);
	return rc;
}
