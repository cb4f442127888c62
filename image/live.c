/*
 * live.c - a running process, seen from outside: its threads stopped with
 * ptrace (seize + interrupt, so that nothing is injected into the process
 * and a job-control stop it was in survives), their registers, its
 * mappings (/proc/PID/smaps) and its memory (/proc/PID/mem).
 *
 * dump.c turns what this finds into an ELF core.  Nothing here prints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "liveInt.h"

#ifndef NT_PRSTATUS
#define NT_PRSTATUS 1
#endif
#ifndef NT_PRFPREG
#define NT_PRFPREG 2
#endif

#define STOP_TIMEOUT_MS 5000	/* a thread in uninterruptible sleep may take a while */
#define MAX_SMAPS (256u << 20)

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

double live_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads a whole /proc file (up to cap bytes) into a fresh buffer, NUL
 * terminated; NULL with errno set. */
char *live_slurp(const char *path, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, sz = 8192;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(sz);
	while (buf) {
		ssize_t r;

		if (n + 1 >= sz) {
			char *nb = sz >= cap ? NULL : realloc(buf, sz * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				errno = sz >= cap ? EFBIG : ENOMEM;
				break;
			}
			buf = nb;
			sz *= 2;
		}
		r = read(fd, buf + n, sz - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			buf = NULL;
			errno = e;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = n;
	}
	return buf;
}

/* The tracer of pid, from /proc/PID/status; 0 when none or unknown. */
static int tracer_of(int pid)
{
	char path[64], *s, *t;
	int tp = 0;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	s = live_slurp(path, 1 << 20, NULL);
	if (s && (t = strstr(s, "\nTracerPid:")))
		tp = atoi(t + 11);
	free(s);
	return tp;
}

/* 'R', 'S', 'T', 'Z', ... from /proc/PID/stat; 0 when the process is gone. */
static char state_of(int pid)
{
	char path[64], *s, *p, st = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	s = live_slurp(path, 1 << 16, NULL);
	if (s && (p = strrchr(s, ')')) && p[1] == ' ')
		st = p[2];
	free(s);
	return st;
}

int live_gone(const live_proc *p)
{
	char st;

	if (kill(p->pid, 0) < 0 && errno == ESRCH)
		return 1;
	st = state_of(p->pid);
	return st == 0 || st == 'Z' || st == 'X';
}

static int have_tid(const live_proc *p, int tid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->threads[i].tid == tid)
			return 1;
	return 0;
}

/* Waits (bounded) for a seized thread's stop.  1 stopped, 0 gone, -1 timeout. */
static int wait_stop(live_thread *t)
{
	double until = live_now_ms() + STOP_TIMEOUT_MS;
	int st;

	for (;;) {
		pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0;	/* ECHILD: the thread is gone */
		if (r == t->tid) {
			if (WIFEXITED(st) || WIFSIGNALED(st))
				return 0;
			if (WIFSTOPPED(st)) {
				int sig = WSTOPSIG(st), event = st >> 16;

				/* A signal-delivery stop: the signal is given back on
				 * detach.  Otherwise (an event) an interrupt or group
				 * stop. */
				if (event == 0)
					t->pending_sig = sig;
				return 1;
			}
		}
		if (live_now_ms() > until)
			return -1;
		struct timespec ts = {0, 200 * 1000};
		nanosleep(&ts, NULL);
	}
}

static int add_thread(live_proc *p, int tid)
{
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		live_thread *nt = realloc(p->threads, ncap * sizeof *nt);

		if (!nt)
			return -1;
		p->threads = nt;
		p->cap = ncap;
	}
	memset(&p->threads[p->n], 0, sizeof p->threads[p->n]);
	p->threads[p->n].tid = tid;
	p->n++;
	return 0;
}

static void why_not_traced(int pid, int e, char *err, size_t errlen)
{
	int tp = tracer_of(pid);
	char exe[64], target[16];

	snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
	if (tp)
		set_err(err, errlen, "pid %d: cannot trace: already traced by pid %d", pid, tp);
	else if (e == EPERM && readlink(exe, target, sizeof target) < 0 && errno == ENOENT)
		set_err(err, errlen, "pid %d: cannot trace: a kernel thread", pid);
	else if (e == EPERM)
		set_err(err, errlen, "pid %d: cannot trace: %s (needs CAP_SYS_PTRACE, or "
			"kernel.yama.ptrace_scope 0 for a process that is not a child)", pid,
			strerror(e));
	else
		set_err(err, errlen, "pid %d: cannot trace: %s", pid, strerror(e));
}

int live_stop(live_proc *p, int pid, char *err, size_t errlen)
{
	char dir[64];
	int rounds = 0;

	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->mem_fd = -1;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
		set_err(err, errlen, "pid %d: no such process", pid);
		return -1;
	}
	if (state_of(pid) == 'Z') {
		set_err(err, errlen, "pid %d: a zombie (it has exited)", pid);
		return -1;
	}
	snprintf(dir, sizeof dir, "/proc/%d/task", pid);
	p->t_stop = live_now_ms();
	/* Seize and interrupt every thread, then list again: a thread that was
	 * still running may have started another. */
	for (;;) {
		DIR *d = opendir(dir);
		struct dirent *de;
		size_t first = p->n;

		if (!d) {
			set_err(err, errlen, "pid %d: %s", pid,
				errno == ENOENT ? "no such process" : strerror(errno));
			goto fail;
		}
		while ((de = readdir(d))) {
			int tid = atoi(de->d_name);

			if (tid <= 0 || have_tid(p, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				int e = errno;

				if (e == ESRCH && tid != pid)
					continue;	/* the thread exited meanwhile */
				closedir(d);
				if (e == ESRCH)
					set_err(err, errlen, "pid %d: no such process", pid);
				else
					why_not_traced(pid, e, err, errlen);
				goto fail;
			}
			if (add_thread(p, tid) < 0) {
				ptrace(PTRACE_DETACH, tid, 0, 0);
				closedir(d);
				set_err(err, errlen, "pid %d: out of memory", pid);
				goto fail;
			}
			p->threads[p->n - 1].seized = 1;
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		}
		closedir(d);
		if (p->n == first)
			break;
		for (size_t i = first; i < p->n; i++) {
			int r = wait_stop(&p->threads[i]);

			if (r < 0) {
				set_err(err, errlen, "pid %d: thread %d did not stop within %d ms",
					pid, p->threads[i].tid, STOP_TIMEOUT_MS);
				goto fail;
			}
			p->threads[i].stopped = r;
			if (!r)
				p->threads[i].seized = 0;
		}
		if (++rounds > 1000) {
			set_err(err, errlen, "pid %d: threads keep appearing", pid);
			goto fail;
		}
	}
	/* drop threads that exited; the leader must be there */
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->threads[i].stopped)
			p->threads[k++] = p->threads[i];
	p->n = k;
	if (!p->n || p->threads[0].tid != pid || live_gone(p)) {
		set_err(err, errlen, "pid %d: exited while being stopped", pid);
		goto fail;
	}
	for (size_t i = 0; i < p->n; i++) {
		live_thread *t = &p->threads[i];
		struct iovec iov = {t->regs, sizeof t->regs};

		if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &iov) < 0) {
			if (errno == ESRCH && live_gone(p)) {
				set_err(err, errlen, "pid %d: exited while being stopped", pid);
				goto fail;
			}
			memset(t->regs, 0, sizeof t->regs);
		}
		iov.iov_base = t->fpregs;
		iov.iov_len = sizeof t->fpregs;
		t->fpvalid = ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRFPREG, &iov) == 0 &&
			     iov.iov_len == sizeof t->fpregs;
	}
	snprintf(dir, sizeof dir, "/proc/%d/mem", pid);
	p->mem_fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (p->mem_fd < 0) {
		set_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	live_resume(p);
	return -1;
}

void live_resume(live_proc *p)
{
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	p->mem_fd = -1;
	for (size_t i = 0; i < p->n; i++)
		if (p->threads[i].seized)
			ptrace(PTRACE_DETACH, p->threads[i].tid, 0,
			       (void *)(long)p->threads[i].pending_sig);
	if (p->n && p->t_resume == 0)
		p->t_resume = live_now_ms();
	free(p->threads);
	p->threads = NULL;
	p->n = p->cap = 0;
}

/* ---- mappings ---- */

static int is_special(const char *name, const char *what)
{
	return strncmp(name, what, strlen(what)) == 0;
}

/* Parses /proc/PID/smaps: each mapping and its "Anonymous:" pages (the
 * private copies a file mapping got by being written, as relocations do
 * to RELRO). */
int live_maps(live_proc *p, char *err, size_t errlen)
{
	char path[64], *text, *line, *save = NULL;
	live_map *cur = NULL;

	snprintf(path, sizeof path, "/proc/%d/smaps", p->pid);
	text = live_slurp(path, MAX_SMAPS, NULL);
	if (!text) {
		set_err(err, errlen, "%s: %s", path, errno == ENOENT ? "the process exited" :
			strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long start, end, off, ino;
		unsigned maj, mnr;
		char perms[8];
		int n = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj,
			   &mnr, &ino, &n) >= 7 && n > 0 && strlen(perms) == 4) {
			if (p->n_maps == p->cap_maps) {
				size_t ncap = p->cap_maps ? p->cap_maps * 2 : 256;
				live_map *nm = realloc(p->maps, ncap * sizeof *nm);

				if (!nm)
					goto oom;
				p->maps = nm;
				p->cap_maps = ncap;
			}
			cur = &p->maps[p->n_maps];
			memset(cur, 0, sizeof *cur);
			cur->start = start;
			cur->end = end;
			cur->offset = off;
			cur->inode = ino;
			cur->flags = (perms[0] == 'r' ? LIVE_R : 0) | (perms[1] == 'w' ? LIVE_W : 0) |
				     (perms[2] == 'x' ? LIVE_X : 0) | (perms[3] == 's' ? LIVE_SHARED : 0);
			cur->name = strdup(line + n);
			if (!cur->name)
				goto oom;
			p->n_maps++;
			continue;
		}
		if (cur && strncmp(line, "Anonymous:", 10) == 0)
			cur->anon_kb = strtoull(line + 10, NULL, 10);
	}
	free(text);
	if (!p->n_maps) {
		set_err(err, errlen, "pid %d: no mappings (a kernel thread, or it exited)", p->pid);
		return -1;
	}
	return 0;
oom:
	free(text);
	set_err(err, errlen, "pid %d: out of memory", p->pid);
	return -1;
}

void live_maps_free(live_proc *p)
{
	for (size_t i = 0; i < p->n_maps; i++)
		free(p->maps[i].name);
	free(p->maps);
	p->maps = NULL;
	p->n_maps = p->cap_maps = 0;
}

int live_map_is_file(const live_map *m)
{
	return m->name[0] == '/' && !is_special(m->name, "/dev/zero") &&
	       !is_special(m->name, "/memfd:") && !is_special(m->name, "/SYSV") &&
	       !is_special(m->name, "/dev/shm/");
}

/* How many bytes of the mapping the core holds (see dump.c). */
uint64_t live_map_dump_size(const live_proc *p, const live_map *m, int all)
{
	uint64_t size = m->end - m->start;
	size_t l = strlen(m->name);

	if (!(m->flags & LIVE_R) || is_special(m->name, "[vvar") ||
	    is_special(m->name, "[vsyscall]"))
		return 0;	/* unreadable through /proc/PID/mem */
	if (all || !live_map_is_file(m))
		return size;	/* anonymous: heap, stacks, arenas, [vdso] */
	if (l > 10 && strcmp(m->name + l - 10, " (deleted)") == 0)
		return size;	/* the file is gone: nothing to read it from */
	if (m->flags & LIVE_SHARED)
		return 0;	/* a file's pages, written back to it */
	if ((m->flags & LIVE_W) || m->anon_kb)
		return size;	/* .data, .bss, and pages written since (RELRO) */
	/* An ELF file's first page, for its build-id, as the kernel dumps it. */
	if (m->offset == 0 && p->mem_fd >= 0) {
		uint8_t mag[4];

		if (pread(p->mem_fd, mag, 4, (off_t)m->start) == 4 &&
		    memcmp(mag, "\177ELF", 4) == 0)
			return size < 4096 ? size : 4096;
	}
	return 0;
}
