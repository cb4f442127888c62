/*
 * core.h - the process image: an ELF core file plus the module files it names.
 *
 * Layer 1 of pyheap.  This module knows nothing about Python.  It maps a core
 * (never reads it into memory), parses its program headers and notes
 * (NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE), locates the module
 * files on disk (honouring --exe, --sysroot and --lib-path), maps those too,
 * and answers three kinds of question:
 *
 * Cores compressed with zstd, lz4 or xz (what systemd-coredump stores) open
 * the same way: recognised by their magic bytes and decompressed into
 * memory.  core_dump_pid() writes a core of a running process, and
 * core_open_pid() opens one taken into memory (live mode).
 *
 *   memory   core_read(): bytes at a virtual address of the dead process.  The
 *            core's PT_LOAD segments come first (bounded by p_filesz); what the
 *            core left out (read-only file mappings such as .rodata) is read
 *            from the module files through their program headers.  A read may
 *            span segments.
 *   symbols  core_module_symbol(): .dynsym, .symtab and separate debug info
 *            (found by build-id), through libdw/libdwfl.
 *   types    core_module_type_size() / core_module_member_offset(): struct
 *            layouts from DWARF, through libdw.
 *
 * Nothing named by the core is ever executed.  Every read is bounds-checked.
 * Functions return 0 on success and -1 on failure unless stated otherwise;
 * none of them prints or exits.  Problems that do not stop the open (a missing
 * module, a build-id mismatch, a truncated segment) are collected as warnings.
 *
 * Ownership: core_open() gives the caller a core_t, freed with core_free().
 * Every pointer returned by value (segments, modules, strings) is borrowed
 * from the core_t and lives until core_free().
 */
#ifndef PYHEAP_CORE_H
#define PYHEAP_CORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct core core_t;
typedef struct core_module core_module_t;

/* Where to look for the binaries when they are not where the core says. */
typedef struct core_options {
	const char *exe;            /* --exe PATH: the main executable */
	const char *sysroot;        /* --sysroot DIR: prefix for every module path */
	const char *const *lib_paths; /* --lib-path DIR (repeatable): searched by basename */
	size_t n_lib_paths;
	/* --debug-dir DIR (repeatable): separate debug info, looked for by
	 * build-id (DIR/.build-id/xx/yyyy.debug) and by .gnu_debuglink name,
	 * before the sysroot's /usr/lib/debug and the system's; then
	 * debuginfod (DEBUGINFOD_URLS) */
	const char *const *debug_dirs;
	size_t n_debug_dirs;
} core_options;

/* ---- open and close ---- */

/* Opens the core at `path`.  On failure returns -1 and writes a one-line
 * message naming the problem and the file into err (e.g. "app.core: not an
 * ELF file", "app.core: ELF file is not a core (type EXEC)").  A core that is
 * truncated still opens (with a warning saying how many bytes are missing). */
int core_open(core_t **out, const char *path, const core_options *opts,
	      char *err, size_t errlen);
void core_free(core_t *core);

/* ---- the process ---- */

const char *core_path(const core_t *core);
int core_pid(const core_t *core);            /* -1 when unknown */
int core_signal(const core_t *core);         /* fatal signal, 0 when none (gcore) */
const char *core_exe(const core_t *core);    /* executable path: NT_FILE / AT_EXECFN / prpsinfo */
const char *core_cmdline(const core_t *core);/* pr_psargs from NT_PRPSINFO, "" when absent */
size_t core_thread_count(const core_t *core);
int core_thread_tid(const core_t *core, size_t i);
/* Thread i's registers at the dump (NT_PRSTATUS, x86-64 user_regs_struct
 * order: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
 * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs).  0, or -1. */
#define CORE_NREGS 27
#define CORE_REG_RIP 16
#define CORE_REG_RSP 19
#define CORE_REG_FS_BASE 21
int core_thread_regs(const core_t *core, size_t i, uint64_t regs[CORE_NREGS]);
uint64_t core_auxv(const core_t *core, uint64_t type); /* 0 when absent */

/* Bytes of the core file that its program headers promise but the file lacks. */
uint64_t core_missing_bytes(const core_t *core);

/* ---- memory ---- */

enum {
	CORE_SEG_R = 4, CORE_SEG_W = 2, CORE_SEG_X = 1, /* = ELF PF_R/PF_W/PF_X */
};

typedef struct core_segment {
	uint64_t vaddr;        /* start address in the process */
	uint64_t memsz;        /* size of the mapping in the process */
	uint64_t filesz;       /* bytes of it present in the core (after truncation) */
	const uint8_t *data;   /* mapped core bytes, filesz of them */
	unsigned flags;        /* CORE_SEG_* */
	const char *file;      /* NT_FILE path backing it, NULL for anonymous */
	uint64_t file_offset;  /* offset of vaddr in that file (NT_FILE) */
} core_segment;

size_t core_segment_count(const core_t *core);
/* Segments are sorted by vaddr and do not overlap. */
const core_segment *core_segment_at(const core_t *core, size_t i);
/* The core segment holding addr, or NULL. */
const core_segment *core_segment_find(const core_t *core, uint64_t addr);

/* Copies up to len bytes at addr into buf; returns how many leading bytes
 * could be read (0..len).  Looks in the core first, then in module files. */
size_t core_read(const core_t *core, uint64_t addr, void *buf, size_t len);
/* Zero-copy: a pointer to len bytes at addr when they lie inside one mapped
 * core segment's file data, else NULL.  Borrowed. */
const void *core_ptr(const core_t *core, uint64_t addr, size_t len);
/* Whether [addr, addr+len) is all in the core, in one segment or in several
 * that follow each other with no gap: one allocation may span segments
 * (gcore writes a thread's malloc arena as adjacent segments).  1 or 0. */
int core_span(const core_t *core, uint64_t addr, uint64_t len);
/* Convenience: 0 when all 8 (4) bytes could be read. */
int core_read_u64(const core_t *core, uint64_t addr, uint64_t *out);
int core_read_u32(const core_t *core, uint64_t addr, uint32_t *out);
/* Reads a NUL-terminated string of at most cap-1 bytes; 0 on success (a
 * string cut by cap still succeeds, truncated), -1 if nothing is readable. */
int core_read_str(const core_t *core, uint64_t addr, char *buf, size_t cap);

/* ---- the address space, classified (mappings.c) ---- */

/* What the process had mapped at an address; the lower, the stronger a
 * claim (a module's data wins over a stack's mapping). */
enum core_map_kind {
	CORE_MAP_MODULE_DATA,     /* a module's .data and .bss (its writable
				   * PT_LOADs, page-rounded); idx: the module */
	CORE_MAP_STACK,           /* a thread's stack, up to its descriptor, or
				   * its TLS mapped apart; idx: the thread */
	CORE_MAP_GUARD,           /* the guard page below a thread's stack */
	CORE_MAP_FILE_RO,         /* other file mappings, read-only or code */
	CORE_MAP_FILE_W,          /* other file mappings, writable */
	CORE_MAP_ANON_RO,         /* anonymous, read-only or inaccessible */
	CORE_MAP_ANON_W,          /* anonymous, writable */
};

typedef struct core_map_range {
	uint64_t lo, hi;
	uint32_t idx;             /* the module or thread index, else 0 */
	uint32_t seg;             /* the core segment it lies in */
	uint8_t kind;             /* enum core_map_kind */
	uint8_t present;          /* the core holds its bytes (else it left
				   * them out: truncation, a kernel core's
				   * file-backed pages) */
} core_map_range;

/* Every byte of every PT_LOAD in exactly one range, sorted by address,
 * into *out (the caller frees it) and *n.  Stacks are found from each
 * thread's stack pointer and fs_base.  -1 when out of memory. */
int core_mappings(const core_t *core, core_map_range **out, size_t *n);

/* ---- the C allocator ---- */

/* Whether the process allocates with glibc's malloc: libc.so.6 is mapped
 * and no other allocator (jemalloc, tcmalloc, mimalloc) is. */
int core_malloc_glibc(core_t *core);
/* The bytes glibc's chunk at user pointer p holds for its user (its size
 * field less the header), or 0 when the header is unreadable or not a
 * chunk's.  Only meaningful when core_malloc_glibc(). */
uint64_t core_malloc_usable(const core_t *core, uint64_t p);

/* ---- glibc's malloc, walked (malloc.c) ----
 *
 * Every arena (main_arena and the per-thread ones, with their 64 MiB
 * heaps), every chunk in them and the mmapped chunks; the free lists
 * (bins, fastbins, each thread's tcache, the top chunks), safe-linked or
 * not; and the figures mallinfo2() would have given.  Found through
 * libc's symbols and DWARF (main_arena, mp_) when its debug info is at
 * hand, else by structure (main_arena by its bins in libc's data, thread
 * arenas by the ring and by heap_info at 64 MiB alignment, mmapped chunks
 * by their headers at page starts).  What breaks a heap's invariants is a
 * warning on the core; the walk keeps what it established. */
typedef struct core_malloc core_malloc;

enum {
	CORE_MALLOC_BY_STRUCTURE = 1,  /* ignore libc's symbols and DWARF */
};

enum core_chunk_state {
	CORE_CHUNK_USED,          /* in use by the program */
	CORE_CHUNK_FREE,          /* free by the walk, but in no bin */
	CORE_CHUNK_BIN,           /* free, in a bin (unsorted, small, large) */
	CORE_CHUNK_FAST,          /* free, in a fastbin */
	CORE_CHUNK_TCACHE,        /* free, in a thread's tcache */
	CORE_CHUNK_TOP,           /* an arena's top chunk */
	CORE_CHUNK_MMAPPED,       /* an mmapped chunk (in use) */
	CORE_CHUNK_TCACHE_STRUCT, /* a thread's tcache_perthread_struct (malloc's own) */
};

typedef struct core_chunk {
	uint64_t addr;            /* its header; the program's bytes start 16 on */
	uint64_t size_state;      /* its size (header included, a multiple of 16) | state */
} core_chunk;
#define CORE_CHUNK_SIZE(c) ((c)->size_state & ~15ull)
#define CORE_CHUNK_STATE(c) ((unsigned)((c)->size_state & 15))

/* One arena.  Its heaps' bytes (heap_bytes) are exactly: used +
 * tcache_structs + free_bins + free_fast + free_tcache + free_unbinned +
 * top_walked + headers + released + unwalked. */
typedef struct core_malloc_arena {
	uint64_t state;           /* its struct malloc_state */
	int main;                 /* main_arena, whose heap is the brk heap */
	size_t nheaps;
	uint64_t heap_bytes;      /* its heaps as mapped (thread arenas: up to mprotect_size) */
	uint64_t system_mem;      /* malloc_state.system_mem */
	uint64_t top, top_size;   /* its top chunk */
	uint64_t used, used_chunks;        /* chunks in use by the program */
	uint64_t tcache_structs;  /* tcache_perthread_structs in it */
	uint64_t free_bins, free_fast, free_tcache, free_unbinned; /* free chunks, by the walk */
	uint64_t tcache_chunks;
	uint64_t top_walked;      /* its top chunk, when the walk reached it */
	uint64_t headers;         /* heap_info, malloc_state, alignment, fenceposts */
	uint64_t released;        /* mapped past heap_info.size: given back (madvise) */
	uint64_t unwalked;        /* after a chunk that broke the walk */
	/* int_mallinfo's figures: the bins' and fastbins' lists */
	uint64_t bins, bin_chunks, fast, fast_chunks;
} core_malloc_arena;

/* The address ranges malloc owns, sorted, not overlapping: its heaps (a
 * thread arena's heap up to its mprotect_size), its mmapped chunks, and
 * the rest of each thread arena's 64 MiB heap mapping, reserved but not
 * accessible (PROT_NONE; gcore writes it out as zeros). */
enum { CORE_MREGION_HEAP = 1, CORE_MREGION_MMAPPED = 2, CORE_MREGION_RESERVED = 3 };
typedef struct core_malloc_region {
	uint64_t lo, hi;
	int kind;                 /* CORE_MREGION_* */
	int arena;                /* a heap's arena index, -1 for an mmapped chunk */
} core_malloc_region;

/* mallinfo2()'s fields over all arenas (as glibc's int_mallinfo sums
 * them), and what the walk found besides. */
typedef struct core_mallinfo {
	uint64_t arena, ordblks, smblks, hblks, hblkhd, fsmblks, uordblks, fordblks, keepcost;
	uint64_t tcache, tcache_chunks;     /* free in tcaches: part of uordblks */
	uint64_t mmaps_found, mmapped_found; /* mmapped chunks the scan found */
} core_mallinfo;

/* Walks glibc's malloc in the core into *out (core_malloc_free it).  -1
 * with a message in err when the process does not use glibc's malloc or
 * no main_arena is found. */
int core_malloc_open(core_malloc **out, core_t *core, unsigned flags, char *err, size_t errlen);
void core_malloc_free(core_malloc *m);
/* "symbols" (libc's debug info) or "structure". */
const char *core_malloc_found_by(const core_malloc *m);
/* glibc's release, "2.36", from libc's version string; "" when unknown. */
const char *core_malloc_version(const core_malloc *m);
/* 1 safe-linked lists (glibc 2.32+), 0 plain, -1 nothing told. */
int core_malloc_safe_linking(const core_malloc *m);
const core_mallinfo *core_malloc_info(const core_malloc *m);
size_t core_malloc_arena_count(const core_malloc *m);
/* Arena i, main_arena first; NULL past the last.  Borrowed. */
const core_malloc_arena *core_malloc_arena_at(const core_malloc *m, size_t i);
size_t core_malloc_region_count(const core_malloc *m);
const core_malloc_region *core_malloc_region_at(const core_malloc *m, size_t i);
/* Every chunk (heaps and mmapped), sorted by address.  Borrowed. */
size_t core_malloc_chunk_count(const core_malloc *m);
const core_chunk *core_malloc_chunks(const core_malloc *m);
/* The index of the chunk holding addr (header included), or -1. */
long core_malloc_chunk_find(const core_malloc *m, uint64_t addr);
/* The threads' tcache_perthread_structs found. */
size_t core_malloc_tcache_count(const core_malloc *m);

/* ---- modules (the ELF files mapped into the process, from NT_FILE) ---- */

size_t core_module_count(const core_t *core);
core_module_t *core_module_at(const core_t *core, size_t i);
/* The main executable's module, or NULL. */
core_module_t *core_module_exe(const core_t *core);
/* First module whose basename starts with prefix (e.g. "libpython3."), or NULL. */
core_module_t *core_module_find(const core_t *core, const char *basename_prefix);

const char *core_module_name(const core_module_t *m);      /* path as the core names it */
const char *core_module_disk_path(const core_module_t *m); /* file we opened, NULL if missing */
uint64_t core_module_base(const core_module_t *m);          /* lowest mapped address */
uint64_t core_module_bias(const core_module_t *m);          /* load bias */
/* Whether symbols came with DWARF (debug info in the file or found by build-id). */
int core_module_has_dwarf(core_module_t *m);
/* Where the module's DWARF came from: "in the file", "build-id",
 * "debuglink", "debuginfod"; NULL when it has none.  *file gets the debug
 * file's path (NULL when the DWARF is in the module's own file).  Borrowed. */
const char *core_module_debug_source(core_module_t *m, const char **file);

/* Symbol by exact name from .dynsym, .symtab or separate debug info; addr is
 * the run-time address (bias applied).  size may be NULL.  A static that
 * link-time optimisation renamed ("arenas.lto_priv.0") is found by its
 * source name too, unless a symbol of that name exists. */
int core_module_symbol(core_module_t *m, const char *name, uint64_t *addr, uint64_t *size);
/* The module's writable PT_LOADs at run time (its .data and .bss, where C
 * statics live): i < count; 0, or -1 when i is past the last. */
size_t core_module_data_count(const core_module_t *m);
int core_module_data_at(const core_module_t *m, size_t i, uint64_t *addr, uint64_t *size);
/* Calls fn for every data or function symbol the module has (.dynsym,
 * .symtab or its debug info), with its run-time address and size. */
typedef void (*core_sym_fn)(const char *name, uint64_t addr, uint64_t size, void *payload);
void core_module_symbol_each(core_module_t *m, core_sym_fn fn, void *payload);
/* The symbol at or before addr, and addr's offset from it (*off); NULL when
 * none is known.  Borrowed. */
const char *core_module_addr_name(core_module_t *m, uint64_t addr, uint64_t *off);
/* Section by name (from the file's section headers); addr is run-time. */
int core_module_section(core_module_t *m, const char *name, uint64_t *addr, uint64_t *size);

/* DWARF layouts.  type_name is a struct tag or typedef name as written in C
 * ("_is", "PyTypeObject", "pool_header"; a leading "struct " is allowed).
 * member_path is dotted ("gc.generations", "ob_base.ob_type").  Returns -1 when
 * the module has no DWARF or the type/member is not found. */
int core_module_type_size(core_module_t *m, const char *type_name, uint64_t *out);
int core_module_member_offset(core_module_t *m, const char *type_name,
			      const char *member_path, uint64_t *out);

/* A module opened from a file alone, with no core (for tools and tests that
 * read a binary's symbols and DWARF).  Its bias is 0.  Freed with
 * core_module_free(); never call that on a module borrowed from a core_t. */
int core_module_open_file(core_module_t **out, const char *path, char *err, size_t errlen);
void core_module_free(core_module_t *m);

/* ---- live processes (live.c, dump.c) ---- */

/* How `core_dump_pid` writes. */
typedef struct core_dump_options {
	int all;		/* the content of every readable mapping (--all), not
				 * only of those pyheap cannot read from files */
	int zstd;		/* a zstd stream (one frame that declares its size) */
	int zstd_level;		/* 0: 1, fast (the process waits for it) */
	const volatile int *cancel; /* when it turns non-zero, stop: "interrupted" */
} core_dump_options;

typedef struct core_dump_stats {
	uint64_t core_size;	/* the core's size (before compression) */
	uint64_t bytes;		/* bytes written to the file (compressed, with zstd) */
	uint64_t memory;	/* bytes of process memory the core holds */
	uint64_t unreadable_pages; /* pages /proc/PID/mem refused: zeros in the core */
	size_t threads, mappings;
	double pause_ms;	/* from stopping the first thread to resuming the last */
	double total_ms;
} core_dump_stats;

/* Writes an ELF core of the running process pid to path: every thread is
 * stopped (ptrace seize + interrupt; nothing is injected, and a process in
 * a job-control stop stays stopped), its registers and the notes pyheap
 * and gdb read (NT_PRSTATUS per thread, NT_PRPSINFO, NT_SIGINFO, NT_AUXV,
 * NT_FILE, NT_PRFPREG) are written, then a PT_LOAD per mapping with the
 * content of anonymous, writable and written (copy-on-write) mappings and
 * the first page of each ELF file; read-only file mappings are left to
 * their files (as gcore leaves them).  The process resumes as soon as its
 * memory is copied.  The file is written under a temporary name in the
 * same directory and renamed when complete; on any failure (no such
 * process, not traceable, it exited meanwhile, the disk is full) nothing
 * is left under either name and -1 comes back with a one-line message.
 * st (may be NULL) gets the numbers, on failure too. */
int core_dump_pid(int pid, const char *path, const core_dump_options *o,
		  core_dump_stats *st, char *err, size_t errlen);
/* Live mode: the core of pid taken as core_dump_pid takes it, into
 * anonymous memory, and opened; the process runs again when this returns.
 * The core is named "pid N" (core_path) in messages.  st may be NULL. */
int core_open_pid(core_t **out, int pid, const core_options *opts, core_dump_stats *st,
		  char *err, size_t errlen);

/* ---- memory cgroups and processes (cgroup.c), for `pyheap watch` ---- */

typedef struct core_cgroup core_cgroup_t;

/* Opens the memory cgroup directory path: v2 (memory.current) or v1
 * (memory.usage_in_bytes).  -1 with a one-line message. */
int core_cgroup_open(core_cgroup_t **out, const char *path, char *err, size_t errlen);
/* The memory cgroup process pid is in (/proc/PID/cgroup), opened. */
int core_cgroup_of_pid(core_cgroup_t **out, int pid, char *err, size_t errlen);
void core_cgroup_free(core_cgroup_t *cg);
const char *core_cgroup_path(const core_cgroup_t *cg);	/* borrowed */
int core_cgroup_version(const core_cgroup_t *cg);	/* 1 or 2 */
/* Memory in use and the limit (UINT64_MAX: none).  -1 when unreadable
 * (the cgroup was removed). */
int core_cgroup_usage(core_cgroup_t *cg, uint64_t *usage, uint64_t *limit);
/* OOM kills in the cgroup so far (v1 memory.oom_control, v2 memory.events
 * "oom_kill"); 0 when the kernel does not count them. */
uint64_t core_cgroup_oom_kills(core_cgroup_t *cg);
/* The processes of the cgroup and of the cgroups below it: *pids (the
 * caller frees it) and *n.  0 or -1 (out of memory). */
int core_cgroup_pids(core_cgroup_t *cg, int **pids, size_t *n);
/* Asks the kernel to wake core_cgroup_wait when usage crosses bytes (v1:
 * an eventfd threshold through cgroup.event_control, and OOM events of
 * memory.oom_control) or when memory.events or pressure change (v2: POLLPRI
 * on memory.events, a PSI trigger on memory.pressure).  Returns how many
 * notifications were set up; 0 means the caller has only its polling. */
int core_cgroup_notify(core_cgroup_t *cg, uint64_t bytes);
/* Sleeps until a notification or timeout_ms: 1 notified, 0 timed out, -1
 * interrupted by a signal. */
int core_cgroup_wait(core_cgroup_t *cg, int timeout_ms);

/* Whether pid runs Python: its executable is python* or libpython is
 * mapped. */
int core_pid_is_python(int pid);
/* Resident memory of pid in bytes (/proc/PID/statm); 0 when it is gone. */
uint64_t core_pid_rss(int pid);
/* Whether pid exists and is not a zombie. */
int core_pid_alive(int pid);

/* ---- files written whole or not at all (tmpfile.c) ---- */

/* Creates PATH.tmp.<6 random characters> beside path for writing (mkstemp,
 * close-on-exec), its permission bits `mode` less the umask, as creat(2)
 * would give them.  Returns the descriptor and the name in *tmp (malloc'd),
 * or -1 with errno.  The writer renames *tmp over path once the file is
 * complete and unlinks it otherwise, so that no partial file ever stands
 * under the final name. */
int core_tmpfile(const char *path, unsigned mode, char **tmp);

/* ---- warnings ---- */

size_t core_warning_count(const core_t *core);
const char *core_warning(const core_t *core, size_t i);

#endif
