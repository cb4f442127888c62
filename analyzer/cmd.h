/*
 * cmd.h - the pyheap command layer (layer 4): the only code that parses
 * argv, prints, and chooses exit codes.
 *
 * Each command is one file (cmd_<name>.c) with one entry in the table in
 * main.c.  A command gets a cmd_ctx with the options parsed and the core
 * opened and scanned (cmd_load), calls its analysis (analysis.h), renders
 * the result as text or JSON, and returns an exit code.  What several
 * commands share is in cmd_common.c.
 */
#ifndef PYHEAP_CMD_H
#define PYHEAP_CMD_H

#include <stdio.h>

#include "analysis.h"
#include "core.h"
#include "heapgraph.h"
#include "json.h"
#include "jsonread.h"
#include "pyheap.h"

/* Prints "pyheap: MESSAGE" on stderr and keeps the first message, which
 * main() also writes as {"error": ..., "exit": N} on stdout under --json. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *cmd_first_error(void);

/* Exit codes; documented in doc/pyheap.1. */
enum {
	EXIT_OK = 0,          /* complete results */
	EXIT_UNUSABLE = 1,    /* the core cannot be used */
	EXIT_USAGE = 2,       /* bad usage */
	EXIT_PARTIAL = 3,     /* results, but part of the heap could not be read */
};

/* Options a command may accept beyond the global ones. */
enum {
	OPT_SORT = 1 << 0,    /* --sort size|count */
	OPT_TOP = 1 << 1,     /* --top N */
	OPT_TARGET = 1 << 2,  /* --type T, --addr A */
	OPT_OUT = 1 << 3,     /* -o FILE */
	OPT_BACKREFS = 1 << 4, /* --depth, --max-nodes, --hide, --width, --through-modules... */
	OPT_SELFLOAD = 1 << 5, /* not an option: the command opens its files itself */
	OPT_BASELINE = 1 << 6, /* --baseline FILE */
	OPT_LIST = 1 << 8,    /* --list: every object, not only the totals */
	OPT_LOCALS = 1 << 9,  /* --locals */
	OPT_NOSCAN = 1 << 10, /* not an option: no scan unless --locals asks */
	OPT_NEAREST = 1 << 11, /* path --nearest */
	OPT_TOTALS = 1 << 7,  /* not an option: the command needs only the scan's
			       * totals (ph_options.totals_only) */
	OPT_ALL = 1 << 12,    /* --all: every readable mapping's content (dump, watch) */
	OPT_WATCH = 1 << 13,  /* --cgroup, --at, --rss, --dir, --min-interval, --keep,
			       * --interval, --zstd, -- CMD */
	OPT_NOCORE = 1 << 14, /* not an option: the command opens no core; --pid
			       * names its process rather than replacing a core */
	OPT_BUFFERS = 1 << 15, /* not an option: the command wants each type's
			       * owned buffers (ph_options.buffers) */
};

/* `pyheap watch`'s options (cmd_watch.c). */
typedef struct cmd_watch_opts {
	const char *cgroup;   /* --cgroup PATH */
	double at[8];         /* --at PERCENT (repeatable) */
	size_t nat;
	unsigned long long rss[8]; /* --rss SIZE, bytes (repeatable) */
	size_t nrss;
	const char *dir;      /* --dir DIR */
	double min_interval;  /* --min-interval SECONDS, -1: default */
	long keep;            /* --keep N, 0: all */
	long interval_ms;     /* --interval MS, -1: default */
	int zstd;             /* --zstd */
	char **command;       /* -- CMD ARGS..., NULL-terminated */
} cmd_watch_opts;

typedef struct cmd_ctx {
	const char *core_path;
	core_options copts;
	const char *lib_paths[32];
	const char *debug_dirs[32];
	int json, quiet, no_progress, no_dwarf, pool_scan;
	int malloc_scan;      /* --malloc-scan: glibc's malloc found by structure */
	int totals_only;      /* the command's OPT_TOTALS */
	int buffers;          /* the command's OPT_BUFFERS */
	/* a hook the scan calls for every object (ph_options.visit), set by a
	 * command that loads its core itself */
	void (*visit)(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size, void *payload);
	void *visit_payload;
	const char *sort;     /* "size" (default) or "count" */
	long top;             /* -1 = command default */
	const char *type;     /* --type */
	const char *addr;     /* --addr, or show's second argument */
	const char *file2;    /* diff's second file */
	const char *baseline; /* suspects --baseline */
	const char *out;      /* -o */
	long depth, max_nodes;
	const char *hide[32];
	size_t nhide;
	int stop_at_modules;  /* (the default now; accepted) */
	int through_modules;  /* backrefs --through-modules */
	long width;           /* backrefs --width, -1 = default */
	int no_merge;         /* backrefs --no-merge */
	int no_legend;        /* backrefs --no-legend */
	const char *report;   /* backrefs --report FILE: nodes link there */
	int list;             /* --list */
	int locals;           /* --locals */
	int nearest;          /* path --nearest */
	int no_scan;          /* open the core, do not scan the heap */
	int pid;              /* --pid PID (live mode), 0 when not given */
	char live_label[32];  /* "pid N": core_path when the core is the live process */
	int all;              /* --all */
	cmd_watch_opts watch;
	core_t *core;
	ph_heap *heap;
} cmd_ctx;

typedef struct cmd_def {
	const char *name;
	int (*run)(cmd_ctx *ctx);
	unsigned opts;        /* OPT_* */
	int nargs;            /* positional arguments after the command: 1, or 2 */
	const char *args;     /* for the usage line */
	const char *summary;
} cmd_def;

/* ---- shared by the commands (cmd_common.c) ---- */

/* Opens and scans ctx->core_path; prints the error and returns an exit
 * code on failure, 0 on success. */
int cmd_load(cmd_ctx *ctx);
/* Opens and scans one core into *core and *heap (the caller frees both,
 * even on failure); prints the error and returns an exit code on failure,
 * 0 on success. */
int cmd_open_core(cmd_ctx *ctx, const char *path, core_t **core, ph_heap **heap);
/* A dump given by path: a core (opened and scanned) or a `types --json`
 * snapshot (parsed and checked to hold a "types" list), as dump.  Closed
 * with cmd_close_dump, even on failure. */
typedef struct cmd_dump {
	an_dump dump;
	core_t *core;
	ph_heap *heap;
	jr_doc doc;
} cmd_dump;
/* 0, or an exit code with the error printed. */
int cmd_open_dump(cmd_ctx *ctx, const char *path, cmd_dump *out);
void cmd_close_dump(cmd_dump *d);
/* The reference graph of the command's heap into *out (hg_free it); on
 * failure the one-line error is printed and -1 returned (exit
 * EXIT_UNUSABLE). */
int cmd_build_graph(heapgraph **out, cmd_ctx *ctx);
/* Prints "out of memory"; returns EXIT_UNUSABLE. */
int cmd_oom(void);
/* Prints warnings to stderr (unless quiet) and turns "had warnings" into
 * EXIT_PARTIAL; otherwise returns rc unchanged. */
int cmd_finish(cmd_ctx *ctx, int rc);
/* Total warning count, image and heap. */
unsigned long long cmd_warning_count(const cmd_ctx *ctx);
/* --json output: begin opens the object on stdout; end writes the
 * "warnings" array and "warning_count", closes the object and the line. */
void cmd_json_begin(json_w *w);
void cmd_json_end(const cmd_ctx *ctx, json_w *w);
/* Rows a listing shows: --top, else text_default for text and all (0)
 * for JSON; 0 means all. */
size_t cmd_rows(const cmd_ctx *ctx, size_t text_default);
/* The objects ids[0..n) as the "key" list of the current JSON object
 * ({addr, type, value} each), or one text line each under --list. */
void cmd_json_objects(json_w *w, const char *key, ph_heap *h, const rg_id *ids, size_t n);
void cmd_print_objects(const char *indent, ph_heap *h, const rg_id *ids, size_t n);
/* 1234567 -> "1,234,567" into buf. */
const char *cmd_num(char *buf, size_t cap, unsigned long long v);
/* 1234567 -> "1.2 MiB" into buf. */
const char *cmd_bytes(char *buf, size_t cap, unsigned long long v);
/* Parses "0x7f..." or a decimal address; -1 when it is not a number. */
int cmd_parse_addr(const char *s, uint64_t *out);
/* The targets of --addr (the object there) or --type (every object of
 * it): *out (caller frees) and the count; 0 with the message printed when
 * there is none. */
size_t cmd_targets(cmd_ctx *ctx, const heapgraph *hg, rg_id **out);
/* The first n rows of a types table, as the list under key (`types
 * --json`'s "types"). */
void cmd_json_type_rows(json_w *w, const char *key, ph_heap *h, const an_type_row *rows,
			size_t n);
/* The chain that holds an object: as "root" and "chain" members of the
 * current JSON object, or as one text line "<indent>held by KIND root
 * NAME: labels...". */
void cmd_chain_json(json_w *w, const an_chain *c);
void cmd_chain_print(const an_chain *c, const char *indent);
/* What `info --json` says, as members of the current JSON object
 * (cmd_info.c); a suspect's evidence in one line, as `suspects` prints
 * it (cmd_suspects.c); the bytes size class i wastes: its free blocks and
 * its pools' headers and tails (cmd_arenas.c).  For the report. */
void cmd_info_fields(json_w *w, cmd_ctx *ctx);
void cmd_suspect_summary(const cmd_ctx *ctx, ph_heap *h, const an_suspect *s, char *out,
			 size_t cap);
uint64_t cmd_arena_wasted(const ph_arena_stats *a, int i);

/* Who owns a malloc chunk, in words ("dict keys of dict 0x7f..."), into
 * buf. */
const char *cmd_mem_owner_text(ph_heap *h, const an_mem_chunk *c, char *buf, size_t cap);

/* ---- the commands ---- */

int cmd_info(cmd_ctx *ctx);
int cmd_types(cmd_ctx *ctx);
int cmd_arenas(cmd_ctx *ctx);
int cmd_refs(cmd_ctx *ctx);
int cmd_path(cmd_ctx *ctx);
int cmd_garbage(cmd_ctx *ctx);
int cmd_show(cmd_ctx *ctx);
int cmd_backrefs(cmd_ctx *ctx);
int cmd_top(cmd_ctx *ctx);
int cmd_suspects(cmd_ctx *ctx);
int cmd_diff(cmd_ctx *ctx);
int cmd_stacks(cmd_ctx *ctx);
int cmd_dump_process(cmd_ctx *ctx);   /* `dump` (cmd_dump is the dump type above) */
int cmd_watch(cmd_ctx *ctx);
int cmd_report(cmd_ctx *ctx);
int cmd_memory(cmd_ctx *ctx);

#endif
