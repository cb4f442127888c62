/*
 * coreInt.h - private state of the process image (core.c, core_dwarf.c).
 * Not part of the API; only the core_*.c files include it.
 */
#ifndef PYHEAP_COREINT_H
#define PYHEAP_COREINT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

/* Little-endian words at p, at any alignment (cores and zstd streams are
 * little-endian, as is every machine pyheap reads). */
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Caps on what an untrusted core may make us allocate. */
#define CORE_MAX_NOTES		(1u << 20)
#define CORE_MAX_THREADS	(1u << 16)
#define CORE_MAX_AUXV		4096
#define CORE_MAX_SEGMENTS	(1u << 22)
#define CORE_MAX_STR		4096

/* One PT_LOAD of a module file, as the file's program headers say. */
struct core_mod_load {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	unsigned flags;
};

struct core_symidx;	/* name -> symbol hash (core_dwarf.c) */
struct core_typeidx;	/* name -> DWARF DIE hash (core_dwarf.c) */

struct core_module {
	core_t *core;		/* NULL for core_module_open_file() */
	char *name;		/* path as the core names it */
	char *disk_path;	/* file we opened, NULL if missing */
	uint64_t base, bias;
	int is_exe;

	/* The mapped module file (read-only), or NULL. */
	int fd;
	const uint8_t *map;
	size_t map_size;
	unsigned e_type;
	struct core_mod_load *loads;
	size_t n_loads;

	/* Lazily built by core_dwarf.c. */
	int dwfl_state;		/* 0 untried, 1 ready, -1 failed */
	void *dwfl;		/* Dwfl * */
	void *dwmod;		/* Dwfl_Module * */
	void *elf;		/* Elf * over map, for sections and symbol fallback */
	int sym_state;		/* 0 untried, 1 built, -1 failed */
	struct core_symidx *syms;
	int type_state;		/* 0 untried, 1 built, -1 failed */
	struct core_typeidx *types;
};

/* One NT_FILE entry. */
struct core_file_map {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;	/* byte offset into the file */
	const char *name;	/* owned by core->file_names */
	long module;		/* index into core->mods, -1 when none */
};

struct core {
	char *path;
	int fd;
	const uint8_t *map;
	size_t size;
	int compression;	/* CORE_COMP_*: what the file was stored as */

	core_segment *segs;
	uint8_t *seg_truncated;	/* per segment: file lacks part of p_filesz */
	size_t n_segs;
	uint64_t missing;

	int pid;
	int prstatus_sig;
	int siginfo_sig;	/* -1 when no NT_SIGINFO */
	char fname[17];
	char cmdline[81];
	char *exe;

	int *tids;
	uint64_t *regs;		/* per thread: CORE_NREGS registers */
	size_t n_tids, cap_tids;

	uint64_t *auxv;		/* pairs */
	size_t n_auxv;

	struct core_file_map *files;
	size_t n_files;
	char **file_names;
	size_t n_file_names;
	uint64_t page_size;

	core_module_t **mods;
	size_t n_mods;
	core_module_t *exe_mod;

	char **warns;
	size_t n_warns, cap_warns;

	/* libdwfl's search path for separate debug info (core_dwarf.c) */
	int malloc_kind;	/* 0 unknown, 1 glibc, -1 another (core_malloc_glibc) */
	char *debuginfo_path;
	void *dwfl_cbs;		/* Dwfl_Callbacks * using it */
};

/* core.c */
void core_warn(core_t *core, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void core_module_release(core_module_t *m);
/* Maps the file at path into m (fd, map, loads, e_type).  0 or -1 with err. */
int core_module_map_file(core_module_t *m, const char *path, char *err, size_t errlen);

/* core_dwarf.c */
void core_dwarf_release(core_module_t *m);

/* core.c: opens a core held in anonymous memory (decompressed, or a live
 * process copied by dump.c), named `label` in messages; takes the mapping
 * (munmap'ed by core_free, or here on failure). */
int core_open_mem(core_t **out, const char *label, uint8_t *map, size_t size,
		  const core_options *opts, char *err, size_t errlen);

/* decompress.c: compressed cores, recognised by their magic bytes. */
enum { CORE_COMP_NONE, CORE_COMP_ZSTD, CORE_COMP_LZ4, CORE_COMP_XZ };
int core_compression(const uint8_t *p, size_t n);	/* CORE_COMP_* */
const char *core_compression_name(int kind);
/* Decompresses src[0..n) into a fresh anonymous mapping *out of *size bytes
 * (munmap it); -1 with a one-line message naming path on a truncated or
 * corrupt stream, or one too big for this machine's memory. */
int core_decompress(uint8_t **out, size_t *size, int kind, const uint8_t *src, size_t n,
		    const char *path, char *err, size_t errlen);
/* XXH64 with seed 0: the low 32 bits are a zstd frame's checksum. */
uint64_t core_xxh64(const void *p, size_t n);

#endif
