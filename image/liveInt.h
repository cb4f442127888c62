/*
 * liveInt.h - private to live.c and dump.c: a running process stopped
 * with ptrace, its threads' registers and its mappings.
 */
#ifndef PYHEAP_LIVEINT_H
#define PYHEAP_LIVEINT_H

#include <stddef.h>
#include <stdint.h>

enum { LIVE_R = 4, LIVE_W = 2, LIVE_X = 1, LIVE_SHARED = 8 };

typedef struct live_thread {
	int tid;
	int seized, stopped;
	int pending_sig;	/* a signal its stop caught, given back on detach */
	uint64_t regs[27];	/* user_regs_struct */
	uint8_t fpregs[512];	/* user_fpregs_struct */
	int fpvalid;
} live_thread;

typedef struct live_map {
	uint64_t start, end, offset, inode;
	unsigned flags;		/* LIVE_* */
	uint64_t anon_kb;	/* smaps "Anonymous:" */
	char *name;		/* path, [heap], [stack], ... or "" */
	uint64_t dump;		/* bytes of it the core holds */
} live_map;

typedef struct live_proc {
	int pid;
	live_thread *threads;	/* threads[0] is the leader (tid == pid) */
	size_t n, cap;
	live_map *maps;
	size_t n_maps, cap_maps;
	int mem_fd;		/* /proc/PID/mem */
	int no_vm_readv;	/* process_vm_readv refused: /proc/PID/mem only */
	double t_stop, t_resume;	/* live_now_ms() */
} live_proc;

/* Stops every thread of pid (ptrace seize + interrupt, listing its tasks
 * again until no new thread shows up), reads their registers and opens
 * /proc/PID/mem.  -1 with a one-line message ("pid N: no such process",
 * "... already traced by pid M", "... a kernel thread"); then nothing is
 * left stopped. */
int live_stop(live_proc *p, int pid, char *err, size_t errlen);
/* Detaches from every thread (the process runs on, or stays in the
 * job-control stop it was in); frees the threads.  Safe to call twice. */
void live_resume(live_proc *p);
/* Whether the process has exited (or is a zombie). */
int live_gone(const live_proc *p);
/* Reads /proc/PID/smaps into p->maps. */
int live_maps(live_proc *p, char *err, size_t errlen);
void live_maps_free(live_proc *p);
/* Whether the mapping is backed by a regular file (not /dev/zero, memfd,
 * SysV or POSIX shared memory). */
int live_map_is_file(const live_map *m);
/* How many bytes of the mapping a core holds: all for anonymous, writable
 * and written (COW) private mappings, the first page of an ELF file, none
 * of other file mappings (read from the file later) nor of what cannot be
 * read ([vvar]); all that is readable with `all`. */
uint64_t live_map_dump_size(const live_proc *p, const live_map *m, int all);

/* Milliseconds of CLOCK_MONOTONIC. */
double live_now_ms(void);
/* A /proc file, whole (at most cap bytes), NUL-terminated; NULL, errno. */
char *live_slurp(const char *path, size_t cap, size_t *len);

#endif
