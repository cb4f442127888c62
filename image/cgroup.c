/*
 * cgroup.c - memory cgroups and processes, as `pyheap watch` needs them:
 * usage against the limit, OOM kills counted, the processes inside, and
 * the kernel's notifications (cgroup v1: eventfd thresholds on
 * memory.usage_in_bytes and memory.oom_control through
 * cgroup.event_control; v2: memory.events and a PSI trigger on
 * memory.pressure), so that a watcher sleeps until something happens.
 * Nothing here prints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "liveInt.h"

#define MAX_FDS 24
#define MAX_DEPTH 16

struct core_cgroup {
	char *path;
	int version;		/* 1 or 2 */
	int fds[MAX_FDS];	/* what core_cgroup_wait polls */
	short events[MAX_FDS];
	int is_eventfd[MAX_FDS];
	size_t nfds;
	int oom_armed;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int file_in(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* The first number of a cgroup file; "max" is UINT64_MAX.  0 or -1. */
static int read_u64(const char *dir, const char *name, uint64_t *out)
{
	char p[4096], buf[64];
	int fd;
	ssize_t n;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (strncmp(buf, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno || end == buf ? -1 : 0;
}

/* "key value" lines of a cgroup file: the value of key, 0 when absent. */
static uint64_t read_key(const char *dir, const char *name, const char *key)
{
	char p[4096], *s, *at;
	size_t kl = strlen(key);
	uint64_t v = 0;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	s = live_slurp(p, 1 << 16, NULL);
	for (at = s; at && *at;) {
		if (strncmp(at, key, kl) == 0 && at[kl] == ' ') {
			v = strtoull(at + kl + 1, NULL, 10);
			break;
		}
		at = strchr(at, '\n');
		if (at)
			at++;
	}
	free(s);
	return v;
}

int core_cgroup_open(core_cgroup_t **out, const char *path, char *err, size_t errlen)
{
	core_cgroup_t *cg;
	struct stat st;
	int version;

	*out = NULL;
	if (stat(path, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "%s: not a cgroup directory", path);
		return -1;
	}
	if (file_in(path, "memory.current"))
		version = 2;
	else if (file_in(path, "memory.usage_in_bytes"))
		version = 1;
	else {
		set_err(err, errlen, "%s: not a memory cgroup (no memory.current, no "
			"memory.usage_in_bytes)", path);
		return -1;
	}
	cg = calloc(1, sizeof *cg);
	if (!cg || !(cg->path = strdup(path))) {
		free(cg);
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	cg->version = version;
	*out = cg;
	return 0;
}

/* Where the hierarchy holding the memory controller is mounted: v1's
 * "cgroup" mount with the memory option, else the v2 mount. */
static int memory_mount(char *out, size_t cap, int want_v2)
{
	char *m = live_slurp("/proc/self/mounts", 1 << 22, NULL), *line, *save = NULL;
	int found = 0;

	for (line = m ? strtok_r(m, "\n", &save) : NULL; line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char dev[256], dir[2048], type[64], opts[1024];

		if (sscanf(line, "%255s %2047s %63s %1023s", dev, dir, type, opts) != 4)
			continue;
		if (want_v2 ? strcmp(type, "cgroup2") == 0 :
		    strcmp(type, "cgroup") == 0 && (strstr(opts, ",memory") ||
						    strncmp(opts, "memory", 6) == 0)) {
			snprintf(out, cap, "%s", dir);
			found = 1;
		}
	}
	free(m);
	return found ? 0 : -1;
}

int core_cgroup_of_pid(core_cgroup_t **out, int pid, char *err, size_t errlen)
{
	char p[64], *s, *line, *save = NULL, v1[2048] = "", v2[2048] = "";

	*out = NULL;
	snprintf(p, sizeof p, "/proc/%d/cgroup", pid);
	s = live_slurp(p, 1 << 20, NULL);
	if (!s) {
		set_err(err, errlen, "pid %d: %s", pid, errno == ENOENT ? "no such process" :
			strerror(errno));
		return -1;
	}
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = 0;
		if (c1[1] == 0 && strncmp(line, "0:", 2) == 0)
			snprintf(v2, sizeof v2, "%s", c2 + 1);
		else {
			/* a controller list: "memory" or "cpu,memory" ... */
			char *ctl = c1 + 1, *tok, *sv = NULL;

			for (tok = strtok_r(ctl, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv))
				if (strcmp(tok, "memory") == 0)
					snprintf(v1, sizeof v1, "%s", c2 + 1);
		}
	}
	free(s);
	char mnt[2048], dir[4200];
	if (*v1 && memory_mount(mnt, sizeof mnt, 0) == 0) {
		snprintf(dir, sizeof dir, "%s%s", mnt, v1);
		if (core_cgroup_open(out, dir, NULL, 0) == 0)
			return 0;
	}
	if (*v2 && memory_mount(mnt, sizeof mnt, 1) == 0) {
		snprintf(dir, sizeof dir, "%s%s", mnt, v2);
		if (core_cgroup_open(out, dir, NULL, 0) == 0)
			return 0;
	}
	set_err(err, errlen, "pid %d: no memory cgroup found (/proc/%d/cgroup)", pid, pid);
	return -1;
}

void core_cgroup_free(core_cgroup_t *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->nfds; i++)
		close(cg->fds[i]);
	free(cg->path);
	free(cg);
}

const char *core_cgroup_path(const core_cgroup_t *cg)
{
	return cg->path;
}

int core_cgroup_version(const core_cgroup_t *cg)
{
	return cg->version;
}

/* v1 reports "no limit" as the largest page-aligned long */
#define V1_UNLIMITED ((uint64_t)1 << 62)

int core_cgroup_usage(core_cgroup_t *cg, uint64_t *usage, uint64_t *limit)
{
	if (cg->version == 2) {
		if (read_u64(cg->path, "memory.current", usage) < 0 ||
		    read_u64(cg->path, "memory.max", limit) < 0)
			return -1;
		return 0;
	}
	if (read_u64(cg->path, "memory.usage_in_bytes", usage) < 0 ||
	    read_u64(cg->path, "memory.limit_in_bytes", limit) < 0)
		return -1;
	if (*limit >= V1_UNLIMITED)
		*limit = UINT64_MAX;
	return 0;
}

uint64_t core_cgroup_oom_kills(core_cgroup_t *cg)
{
	if (cg->version == 2)
		return read_key(cg->path, "memory.events", "oom_kill");
	return read_key(cg->path, "memory.oom_control", "oom_kill");
}

static int add_fd(core_cgroup_t *cg, int fd, short events, int is_efd)
{
	if (cg->nfds == MAX_FDS) {
		close(fd);
		return -1;
	}
	cg->fds[cg->nfds] = fd;
	cg->events[cg->nfds] = events;
	cg->is_eventfd[cg->nfds] = is_efd;
	cg->nfds++;
	return 0;
}

/* v1: an eventfd the kernel signals on an event of `file` (a threshold
 * crossed on memory.usage_in_bytes, an OOM on memory.oom_control). */
static int v1_event(core_cgroup_t *cg, const char *file, const char *arg)
{
	char p[4096], line[128];
	int efd, ffd, cfd, ok;

	snprintf(p, sizeof p, "%s/%s", cg->path, file);
	ffd = open(p, O_RDONLY | O_CLOEXEC);
	if (ffd < 0)
		return -1;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(p, sizeof p, "%s/cgroup.event_control", cg->path);
	cfd = efd < 0 ? -1 : open(p, O_WRONLY | O_CLOEXEC);
	snprintf(line, sizeof line, "%d %d%s%s", efd, ffd, arg ? " " : "", arg ? arg : "");
	ok = cfd >= 0 && write(cfd, line, strlen(line)) == (ssize_t)strlen(line);
	if (cfd >= 0)
		close(cfd);
	close(ffd);		/* the kernel holds its own reference */
	if (!ok) {
		if (efd >= 0)
			close(efd);
		return -1;
	}
	return add_fd(cg, efd, POLLIN, 1);
}

int core_cgroup_notify(core_cgroup_t *cg, uint64_t bytes)
{
	char p[4096], arg[32];
	int n = 0;

	if (cg->version == 1) {
		snprintf(arg, sizeof arg, "%llu", (unsigned long long)bytes);
		n += v1_event(cg, "memory.usage_in_bytes", arg) == 0;
		if (!cg->oom_armed && v1_event(cg, "memory.oom_control", NULL) == 0) {
			cg->oom_armed = 1;
			n++;
		}
		return n;
	}
	if (cg->oom_armed)
		return 0;
	cg->oom_armed = 1;
	/* v2: memory.events changes (high, max, oom, oom_kill) wake POLLPRI */
	snprintf(p, sizeof p, "%s/memory.events", cg->path);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		n += add_fd(cg, fd, POLLPRI, 0) == 0;
	/* and pressure: 50 ms of stalls within a second (a PSI trigger) */
	snprintf(p, sizeof p, "%s/memory.pressure", cg->path);
	fd = open(p, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		static const char trig[] = "some 50000 1000000";

		if (write(fd, trig, sizeof trig) > 0)
			n += add_fd(cg, fd, POLLPRI, 0) == 0;
		else
			close(fd);
	}
	return n;
}

int core_cgroup_wait(core_cgroup_t *cg, int timeout_ms)
{
	struct pollfd pf[MAX_FDS];
	int r;

	for (size_t i = 0; i < cg->nfds; i++) {
		pf[i].fd = cg->fds[i];
		pf[i].events = cg->events[i];
		pf[i].revents = 0;
	}
	r = poll(pf, cg->nfds, timeout_ms);
	if (r < 0)
		return errno == EINTR ? -1 : 0;
	for (size_t i = 0; r > 0 && i < cg->nfds; i++) {
		uint64_t v;

		if ((pf[i].revents & POLLIN) && cg->is_eventfd[i] &&
		    read(cg->fds[i], &v, sizeof v) < 0)
			continue;
	}
	return r > 0;
}

static int add_pid(int **pids, size_t *n, size_t *cap, int pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*pids)[i] == pid)
			return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int *np = realloc(*pids, nc * sizeof *np);

		if (!np)
			return -1;
		*pids = np;
		*cap = nc;
	}
	(*pids)[(*n)++] = pid;
	return 0;
}

static int collect(const char *dir, int depth, int **pids, size_t *n, size_t *cap)
{
	char p[4096], *s, *line, *save = NULL;
	DIR *d;
	struct dirent *de;

	snprintf(p, sizeof p, "%s/cgroup.procs", dir);
	s = live_slurp(p, 1 << 24, NULL);
	for (line = s ? strtok_r(s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		if (atoi(line) > 0 && add_pid(pids, n, cap, atoi(line)) < 0) {
			free(s);
			return -1;
		}
	free(s);
	if (depth >= MAX_DEPTH || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
		    collect(p, depth + 1, pids, n, cap) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int core_cgroup_pids(core_cgroup_t *cg, int **pids, size_t *n)
{
	size_t cap = 0;

	*pids = NULL;
	*n = 0;
	if (collect(cg->path, 0, pids, n, &cap) < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/* ---- processes ---- */

int core_pid_is_python(int pid)
{
	char p[64], exe[4096], *maps;
	ssize_t l;
	int yes = 0;

	snprintf(p, sizeof p, "/proc/%d/exe", pid);
	l = readlink(p, exe, sizeof exe - 1);
	if (l > 0) {
		exe[l] = 0;
		const char *b = strrchr(exe, '/');
		b = b ? b + 1 : exe;
		if (strncmp(b, "python", 6) == 0)
			return 1;
	}
	/* an embedding program: libpython mapped */
	snprintf(p, sizeof p, "/proc/%d/maps", pid);
	maps = live_slurp(p, 1 << 24, NULL);
	yes = maps && strstr(maps, "/libpython") != NULL;
	free(maps);
	return yes;
}

uint64_t core_pid_rss(int pid)
{
	char p[64], buf[128];
	unsigned long long size, res;
	int fd;
	ssize_t n;

	snprintf(p, sizeof p, "/proc/%d/statm", pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return 0;
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

int core_pid_alive(int pid)
{
	char p[64], *s, *c;
	int alive = 0;

	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	s = live_slurp(p, 1 << 16, NULL);
	if (s && (c = strrchr(s, ')')) && c[1] == ' ')
		alive = c[2] != 'Z' && c[2] != 'X';
	free(s);
	return alive;
}
