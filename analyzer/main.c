/*
 * main.c - pyheap's entry point: the command table, usage and option
 * parsing; the open/scan/warnings/exit-code plumbing is in cmd_common.c.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define PYHEAP_VERSION "0.1.0"

static const cmd_def commands[] = {
	{"info", cmd_info, OPT_TOTALS, 1, "CORE",
	 "the process, the Python version, how offsets were found, heap totals, warnings"},
	{"types", cmd_types, OPT_SORT | OPT_TOP | OPT_TOTALS | OPT_BUFFERS, 1, "[--sort size|count] [--top N] CORE",
	 "every live object by type: count and bytes"},
	{"arenas", cmd_arenas, OPT_TOTALS | OPT_LIST, 1, "[--list] CORE",
	 "pymalloc arenas, pools and blocks per size class; what pins nearly empty ones"},
	{"refs", cmd_refs, OPT_TOP | OPT_LIST, 1, "[--top N] [--list] CORE",
	 "refcounts rebuilt: references no object accounts for, orphans"},
	{"path", cmd_path, OPT_TARGET | OPT_NEAREST, 1, "(--type T [--nearest] | --addr ADDR) CORE",
	 "who holds objects: the holders of most of a type, or the chain to one"},
	{"garbage", cmd_garbage, OPT_TOP | OPT_LIST, 1, "[--top N] [--list] CORE",
	 "objects alive but unreachable from any root (cyclic garbage)"},
	{"show", cmd_show, 0, 2, "CORE ADDR",
	 "one object: type, refcount, size, value, referents and referrers"},
	{"top", cmd_top, OPT_TOP, 1, "[--top N] CORE",
	 "what retains the most memory (dominator tree), by object and by type"},
	{"suspects", cmd_suspects, OPT_BASELINE, 1, "[--baseline OLD] CORE",
	 "what most likely leaks, the evidence, and who holds it"},
	{"diff", cmd_diff, OPT_SELFLOAD | OPT_SORT | OPT_TOP, 2,
	 "[--sort size|count] [--top N] OLD NEW",
	 "type growth between two dumps (cores, or `types --json` snapshots)"},
	{"stacks", cmd_stacks, OPT_NOSCAN | OPT_LOCALS, 1, "[--locals] CORE",
	 "the Python stack of every thread, innermost frame first"},
	{"report", cmd_report, OPT_OUT | OPT_BASELINE | OPT_SELFLOAD, 1, "-o FILE.html [--baseline OLD] CORE",
	 "one self-contained HTML page of it all: types, dominators, suspects, stacks, arenas"},
	{"memory", cmd_memory, OPT_SELFLOAD | OPT_TOTALS | OPT_TOP, 1, "[--top N] CORE",
	 "every byte of the core: mappings, pymalloc, glibc malloc and its owners, fragmentation"},
	{"backrefs", cmd_backrefs, OPT_TARGET | OPT_OUT | OPT_BACKREFS, 1,
	 "(--type T | --addr ADDR) -o FILE.{dot,svg,png,pdf} [--depth N] [--max-nodes N] "
	 "[--width N] [--no-merge] [--hide TYPE] [--through-modules] [--report FILE] CORE",
	 "a Graphviz graph of who refers to the objects"},
	{"dump", cmd_dump_process, OPT_NOCORE | OPT_OUT | OPT_ALL, 1, "PID -o FILE[.zst] [--all]",
	 "write an ELF core of a running process (no gdb needed)"},
	{"watch", cmd_watch, OPT_NOCORE | OPT_WATCH | OPT_ALL, 0,
	 "(--pid PID | --cgroup PATH | -- CMD ARGS...) (--at PERCENT | --rss SIZE)... "
	 "--dir DIR [--min-interval SECONDS] [--keep N] [--interval MS] [--zstd] [--all]",
	 "dump a process before it is OOM-killed: at a share of its cgroup's limit or an RSS"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const char *global_usage =
	"global options (before or after the command):\n"
	"  --json             machine-readable output on stdout\n"
	"  --exe PATH         the main executable, when it is not where the core says\n"
	"  --sysroot DIR      prefix for every module path the core names\n"
	"  --lib-path DIR     directory searched for libraries by basename (repeatable)\n"
	"  --debug-dir DIR    directory of separate debug info, by build-id or debuglink\n"
	"                     (repeatable; then the sysroot's and the system's\n"
	"                     /usr/lib/debug, then debuginfod when DEBUGINFOD_URLS is set)\n"
	"  --no-dwarf         ignore debug info; use the built-in offset tables\n"
	"  --pool-scan        find pymalloc pools by scanning memory, even with symbols\n"
	"  --malloc-scan      find glibc's malloc arenas by their structure, even when\n"
	"                     libc's debug info is at hand\n"
	"  --no-progress      never show the progress indicator\n"
	"  --pid PID          analyse the running process PID instead of a core: it is\n"
	"                     stopped while its memory is copied, then resumed\n"
	"  -q, --quiet        do not print warnings on stderr\n"
	"  -h, --help         this help\n";

static void usage_all(FILE *f)
{
	fprintf(f, "usage: pyheap [OPTIONS] COMMAND [OPTIONS] CORE\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-8s %s\n\n%s\n", "help", "help on a command", global_usage);
	fprintf(f, "exit status: 0 complete, 1 core unusable, 2 bad usage, 3 partial results\n");
}

static void usage_cmd(FILE *f, const cmd_def *c)
{
	fprintf(f, "usage: pyheap %s %s\n  %s\n\n", c->name, c->args, c->summary);
	if (c->opts & OPT_SORT)
		fprintf(f, "  --sort size|count  order of the rows (default: size)\n");
	if (c->opts & OPT_TOP)
		fprintf(f, "  --top N            show the first N rows; 0 = all (default: 30, all with --json)\n");
	if (c->opts & OPT_TARGET)
		fprintf(f, "  --type T           the objects of type T (as `types` names it)\n"
			   "  --addr ADDR        the object at ADDR\n");
	if (c->opts & OPT_OUT)
		fprintf(f, "  -o FILE            %s\n", c->run == cmd_report ?
			"the page to write (a temporary file beside it, renamed over it)" :
			"output file; its extension picks the format");
	if (c->opts & OPT_NEAREST)
		fprintf(f, "  --nearest          with --type: only the chain to the nearest object,\n"
			   "                     not the holders of most of them\n");
	if (c->opts & OPT_LOCALS)
		fprintf(f, "  --locals           each frame's locals: type, size, retained size\n");
	if (c->opts & OPT_LIST)
		fprintf(f, "  --list             every object (address, type, value), not only the totals\n");
	if (c->opts & OPT_BASELINE)
		fprintf(f, "  --baseline OLD     an earlier core or `types --json` snapshot: report growth\n");
	if (c->opts & OPT_ALL)
		fprintf(f, "  --all              copy every readable mapping, not only what the\n"
			   "                     files on disk cannot give back\n");
	if (c->opts & OPT_WATCH)
		fprintf(f, "  --pid PID          watch this process\n"
			   "  --cgroup PATH      watch every Python process of this memory cgroup (v1 or v2)\n"
			   "  -- CMD ARGS...     start CMD and watch it\n"
			   "  --at PERCENT       dump when the cgroup's usage reaches PERCENT of its\n"
			   "                     limit (repeatable: one dump at each)\n"
			   "  --rss SIZE         dump when a process's RSS reaches SIZE (K, M, G; repeatable)\n"
			   "  --dir DIR          where the dumps go, each with its `types --json` snapshot\n"
			   "  --min-interval S   at least S seconds between two dumps of a process (default 10)\n"
			   "  --keep N           keep the newest N dumps, delete older ones (default: all)\n"
			   "  --interval MS      how often usage is read besides notifications (default 100)\n"
			   "  --zstd             write FILE.core.zst\n");
	if (c->opts & OPT_BACKREFS)
		fprintf(f, "  --depth N          referrers at most N references away (default 5)\n"
			   "  --max-nodes N      at most N nodes (default 100)\n"
			   "  --width N          at most N kinds of referrers per node and N nodes a\n"
			   "                     level (default 6; 0: no limit)\n"
			   "  --no-merge         draw every object (else 4 or more alike are one node)\n"
			   "  --hide TYPE        leave objects of TYPE out (repeatable)\n"
			   "  --through-modules  go past module objects (by default they end the walk)\n"
			   "  --report FILE      link each node to FILE#obj-ADDR (a `pyheap report`)\n"
			   "  --no-legend        leave the legend out\n");
	fprintf(f, "\n%s", global_usage);
}

static const cmd_def *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int bad_usage(const char *msg, const char *arg)
{
	cmd_error("%s%s%s", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr, "Try 'pyheap --help'.\n");
	return EXIT_USAGE;
}

/* ---- argv ---- */

enum { O_JSON = 256, O_EXE, O_SYSROOT, O_LIBPATH, O_DEBUGDIR, O_NOPROG, O_SORT, O_TOP, O_VERSION, O_NODWARF,
       O_POOLSCAN, O_MALLOCSCAN, O_BASELINE, O_LIST, O_LOCALS, O_NEAREST, O_TYPE, O_ADDR, O_DEPTH, O_MAXNODES, O_HIDE, O_STOPMOD,
       O_THROUGHMOD, O_WIDTH, O_NOMERGE, O_NOLEGEND, O_REPORT,
       O_PID, O_ALL, O_CGROUP, O_AT, O_RSS, O_DIR, O_MININT, O_KEEP, O_INTERVAL, O_ZSTD };

/* "512M", "2G", "1048576": bytes; 0 when it is not a size. */
static unsigned long long size_arg(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return 0;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
	}
	if (*end == 'i' && end[-1] != *s)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	return *end || v >= 1.8e19 ? 0 : (unsigned long long)v;
}

/* `pyheap --version`: the program's version, then the Python releases it
 * reads (for people, and for tests and scripts, which take the list from
 * here rather than writing it again). */
static int print_version(int as_json)
{
	ph_release r;
	if (as_json) {
		json_w w;
		json_init(&w, stdout);
		json_obj(&w);
		json_kstr(&w, "version", PYHEAP_VERSION);
		json_key(&w, "python");
		json_arr(&w);
		for (size_t i = 0, last = 0; i < ph_release_count(); i++) {
			ph_release_at(i, &r);
			char v[16];
			snprintf(v, sizeof v, "3.%d", r.minor);
			if (i == 0 || (size_t)r.minor != last)
				json_str(&w, v);
			last = (size_t)r.minor;
		}
		json_arr_end(&w);
		json_key(&w, "layouts");
		json_arr(&w);
		for (size_t i = 0; i < ph_release_count(); i++) {
			ph_release_at(i, &r);
			json_obj(&w);
			json_ki64(&w, "minor", r.minor);
			json_ki64(&w, "micro_lo", r.micro_lo);
			json_ki64(&w, "micro_hi", r.micro_hi);
			json_kstr(&w, "layout", r.layout);
			json_kstr(&w, "verified", r.verified);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
		json_end(&w);
	} else {
		printf("pyheap %s\npython:", PYHEAP_VERSION);
		int last = -1;
		for (size_t i = 0; i < ph_release_count(); i++) {
			ph_release_at(i, &r);
			if (r.minor != last)
				printf(" 3.%d", r.minor);
			last = r.minor;
		}
		printf("\n");
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_UNUSABLE;
}

/* A non-negative number option; -1 when it is not one. */
static long number(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || *end || end == s || v < 0 ? -1 : v;
}

static int run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, 0, O_JSON},
		{"exe", required_argument, 0, O_EXE},
		{"sysroot", required_argument, 0, O_SYSROOT},
		{"lib-path", required_argument, 0, O_LIBPATH},
		{"debug-dir", required_argument, 0, O_DEBUGDIR},
		{"no-progress", no_argument, 0, O_NOPROG},
		{"no-dwarf", no_argument, 0, O_NODWARF},
		{"pool-scan", no_argument, 0, O_POOLSCAN},
		{"malloc-scan", no_argument, 0, O_MALLOCSCAN},
		{"sort", required_argument, 0, O_SORT},
		{"top", required_argument, 0, O_TOP},
		{"type", required_argument, 0, O_TYPE},
		{"addr", required_argument, 0, O_ADDR},
		{"output", required_argument, 0, 'o'},
		{"depth", required_argument, 0, O_DEPTH},
		{"max-nodes", required_argument, 0, O_MAXNODES},
		{"hide", required_argument, 0, O_HIDE},
		{"stop-at-modules", no_argument, 0, O_STOPMOD},
		{"through-modules", no_argument, 0, O_THROUGHMOD},
		{"width", required_argument, 0, O_WIDTH},
		{"no-merge", no_argument, 0, O_NOMERGE},
		{"no-legend", no_argument, 0, O_NOLEGEND},
		{"report", required_argument, 0, O_REPORT},
		{"baseline", required_argument, 0, O_BASELINE},
		{"list", no_argument, 0, O_LIST},
		{"locals", no_argument, 0, O_LOCALS},
		{"nearest", no_argument, 0, O_NEAREST},
		{"pid", required_argument, 0, O_PID},
		{"all", no_argument, 0, O_ALL},
		{"cgroup", required_argument, 0, O_CGROUP},
		{"at", required_argument, 0, O_AT},
		{"rss", required_argument, 0, O_RSS},
		{"dir", required_argument, 0, O_DIR},
		{"min-interval", required_argument, 0, O_MININT},
		{"keep", required_argument, 0, O_KEEP},
		{"interval", required_argument, 0, O_INTERVAL},
		{"zstd", no_argument, 0, O_ZSTD},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	cmd_ctx ctx = {.sort = NULL, .top = -1, .depth = -1, .max_nodes = -1, .width = -1,
		       .watch = {.min_interval = -1, .interval_ms = -1}};
	unsigned used = 0;    /* OPT_* seen, checked against the command */
	int help = 0, version = 0, c;
	unsigned seen = 0;
	size_t nlib = 0, ndebug = 0;

	/* `watch -- CMD ARGS...`: what follows "--" is the command, untouched */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			ctx.watch.command = argv + i + 1;
			argv[i] = NULL;
			argc = i;
			used |= OPT_WATCH;
			break;
		}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qho:", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* a positional argument: keep it, go on with options after it */
			argv[seen++] = argv[optind++];
			continue;
		}
		switch (c) {
		case O_JSON: ctx.json = 1; break;
		case O_EXE: ctx.copts.exe = optarg; break;
		case O_SYSROOT: ctx.copts.sysroot = optarg; break;
		case O_LIBPATH:
			if (nlib == sizeof ctx.lib_paths / sizeof ctx.lib_paths[0])
				return bad_usage("too many --lib-path options", NULL);
			ctx.lib_paths[nlib++] = optarg;
			break;
		case O_DEBUGDIR:
			if (ndebug == sizeof ctx.debug_dirs / sizeof ctx.debug_dirs[0])
				return bad_usage("too many --debug-dir options", NULL);
			ctx.debug_dirs[ndebug++] = optarg;
			break;
		case O_NOPROG: ctx.no_progress = 1; break;
		case O_NODWARF: ctx.no_dwarf = 1; break;
		case O_POOLSCAN: ctx.pool_scan = 1; break;
		case O_MALLOCSCAN: ctx.malloc_scan = 1; break;
		case O_SORT:
			if (strcmp(optarg, "size") != 0 && strcmp(optarg, "count") != 0)
				return bad_usage("--sort takes size or count", optarg);
			ctx.sort = optarg;
			used |= OPT_SORT;
			break;
		case O_TYPE: ctx.type = optarg; used |= OPT_TARGET; break;
		case O_ADDR: ctx.addr = optarg; used |= OPT_TARGET; break;
		case 'o': ctx.out = optarg; used |= OPT_OUT; break;
		case O_DEPTH:
		case O_MAXNODES: {
			long v = number(optarg);
			if (v < 0 || (c == O_MAXNODES && v == 0))
				return bad_usage(c == O_DEPTH ? "--depth takes a number" :
						 "--max-nodes takes a positive number", optarg);
			*(c == O_DEPTH ? &ctx.depth : &ctx.max_nodes) = v;
			used |= OPT_BACKREFS;
			break;
		}
		case O_HIDE:
			if (ctx.nhide == sizeof ctx.hide / sizeof ctx.hide[0])
				return bad_usage("too many --hide options", NULL);
			ctx.hide[ctx.nhide++] = optarg;
			used |= OPT_BACKREFS;
			break;
		case O_STOPMOD: ctx.stop_at_modules = 1; used |= OPT_BACKREFS; break;
		case O_THROUGHMOD: ctx.through_modules = 1; used |= OPT_BACKREFS; break;
		case O_NOMERGE: ctx.no_merge = 1; used |= OPT_BACKREFS; break;
		case O_NOLEGEND: ctx.no_legend = 1; used |= OPT_BACKREFS; break;
		case O_REPORT: ctx.report = optarg; used |= OPT_BACKREFS; break;
		case O_WIDTH: {
			long v = number(optarg);
			if (v < 0)
				return bad_usage("--width takes a number", optarg);
			ctx.width = v;
			used |= OPT_BACKREFS;
			break;
		}
		case O_BASELINE: ctx.baseline = optarg; used |= OPT_BASELINE; break;
		case O_LIST: ctx.list = 1; used |= OPT_LIST; break;
		case O_LOCALS: ctx.locals = 1; used |= OPT_LOCALS; break;
		case O_NEAREST: ctx.nearest = 1; used |= OPT_NEAREST; break;
		case O_PID: {
			long v = number(optarg);
			if (v <= 0 || v > 0x7fffffff)
				return bad_usage("--pid takes a process id", optarg);
			ctx.pid = (int)v;
			break;
		}
		case O_ALL: ctx.all = 1; used |= OPT_ALL; break;
		case O_CGROUP: ctx.watch.cgroup = optarg; used |= OPT_WATCH; break;
		case O_DIR: ctx.watch.dir = optarg; used |= OPT_WATCH; break;
		case O_ZSTD: ctx.watch.zstd = 1; used |= OPT_WATCH; break;
		case O_AT: {
			char *end;
			double v = strtod(optarg, &end);
			if (end == optarg || (*end && strcmp(end, "%") != 0) || !(v > 0 && v <= 100))
				return bad_usage("--at takes a percentage, 0 < P <= 100", optarg);
			if (ctx.watch.nat == sizeof ctx.watch.at / sizeof ctx.watch.at[0])
				return bad_usage("too many --at options", NULL);
			ctx.watch.at[ctx.watch.nat++] = v;
			used |= OPT_WATCH;
			break;
		}
		case O_RSS: {
			unsigned long long v = size_arg(optarg);
			if (!v)
				return bad_usage("--rss takes a size (bytes, or with K, M, G)", optarg);
			if (ctx.watch.nrss == sizeof ctx.watch.rss / sizeof ctx.watch.rss[0])
				return bad_usage("too many --rss options", NULL);
			ctx.watch.rss[ctx.watch.nrss++] = v;
			used |= OPT_WATCH;
			break;
		}
		case O_MININT: {
			char *end;
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !(v >= 0 && v < 1e7))
				return bad_usage("--min-interval takes seconds", optarg);
			ctx.watch.min_interval = v;
			used |= OPT_WATCH;
			break;
		}
		case O_KEEP:
		case O_INTERVAL: {
			long v = number(optarg);
			if (v < 0 || (c == O_INTERVAL && (v < 1 || v > 60000)))
				return bad_usage(c == O_KEEP ? "--keep takes a number" :
						 "--interval takes milliseconds, 1 to 60000", optarg);
			*(c == O_KEEP ? &ctx.watch.keep : &ctx.watch.interval_ms) = v;
			used |= OPT_WATCH;
			break;
		}
		case O_TOP: {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0)
				return bad_usage("--top takes a number, 0 for all", optarg);
			ctx.top = v;
			used |= OPT_TOP;
			break;
		}
		case 'q': ctx.quiet = 1; break;
		case 'h': help = 1; break;
		case O_VERSION: version = 1; break;
		case ':':
			return bad_usage("option needs an argument", argv[optind - 1]);
		default:
			return bad_usage("unknown option", argv[optind - 1]);
		}
	}
	if (version)
		return print_version(ctx.json);
	ctx.copts.lib_paths = ctx.lib_paths;
	ctx.copts.n_lib_paths = nlib;
	ctx.copts.debug_dirs = ctx.debug_dirs;
	ctx.copts.n_debug_dirs = ndebug;

	if (seen == 0) {
		if (help) {
			usage_all(stdout);
			return EXIT_OK;
		}
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (seen == 1) {
			usage_all(stdout);
			return EXIT_OK;
		}
		const cmd_def *hc = find_cmd(argv[1]);
		if (!hc)
			return bad_usage("unknown command", argv[1]);
		usage_cmd(stdout, hc);
		return EXIT_OK;
	}
	const cmd_def *cmd = find_cmd(argv[0]);
	if (!cmd)
		return bad_usage("unknown command", argv[0]);
	if (help) {
		usage_cmd(stdout, cmd);
		return EXIT_OK;
	}
	if (used & ~cmd->opts) {
		cmd_error("%s does not take %s", cmd->name,
			used & ~cmd->opts & OPT_SORT ? "--sort" : used & ~cmd->opts & OPT_TOP ? "--top" :
			used & ~cmd->opts & OPT_TARGET ? "--type/--addr" :
			used & ~cmd->opts & OPT_OUT ? "-o" : used & ~cmd->opts & OPT_BASELINE ? "--baseline" :
			used & ~cmd->opts & OPT_LIST ? "--list" :
			used & ~cmd->opts & OPT_LOCALS ? "--locals" :
			used & ~cmd->opts & OPT_NEAREST ? "--nearest" :
			used & ~cmd->opts & OPT_ALL ? "--all" :
			used & ~cmd->opts & OPT_WATCH ? "watch's options (--cgroup, --at, --rss, --dir, "
			"--min-interval, --keep, --interval, --zstd, -- CMD)" :
			"--depth/--max-nodes/--width/--hide/--through-modules/--report");
		usage_cmd(stderr, cmd);
		return EXIT_USAGE;
	}
	/* live mode: --pid stands for the core (diff: for NEW) */
	int live = ctx.pid > 0 && !(cmd->opts & OPT_NOCORE);
	if (live)
		snprintf(ctx.live_label, sizeof ctx.live_label, "pid %d", ctx.pid);
	if ((int)seen != 1 + cmd->nargs - live - (ctx.pid > 0 && cmd == find_cmd("dump"))) {
		cmd_error("%s takes %s", cmd->name,
			cmd == find_cmd("watch") ? "no positional argument (CMD goes after --)" :
			cmd == find_cmd("dump") ? "one process id" :
			live ? (cmd->nargs == 1 ? "no core file with --pid" :
				cmd->opts & OPT_SELFLOAD ? "one file (OLD) with --pid" : "an address with --pid") :
			cmd->nargs == 1 ? "exactly one core file (or --pid PID)" :
			cmd->opts & OPT_SELFLOAD ? "two files" : "a core file and an address");
		usage_cmd(stderr, cmd);
		return EXIT_USAGE;
	}
	if (live) {
		/* the live process takes the core's place among the arguments */
		if (cmd->nargs == 2 && (cmd->opts & OPT_SELFLOAD))
			argv[seen++] = ctx.live_label;
		else {
			for (unsigned i = seen; i > 1; i--)
				argv[i] = argv[i - 1];
			argv[1] = ctx.live_label;
			seen++;
		}
	}
	if (cmd->nargs == 2 && (cmd->opts & OPT_SELFLOAD))
		ctx.file2 = argv[2];
	else if (cmd->nargs == 2)
		ctx.addr = argv[2];
	if ((cmd->opts & OPT_TARGET) && !ctx.type == !ctx.addr) {
		cmd_error("%s needs one of --type or --addr", cmd->name);
		return EXIT_USAGE;
	}
	if ((cmd->opts & OPT_OUT) && !ctx.out) {
		cmd_error("%s needs -o FILE", cmd->name);
		return EXIT_USAGE;
	}
	uint64_t addr;
	if (ctx.addr && cmd_parse_addr(ctx.addr, &addr) < 0)
		return bad_usage("not an address", ctx.addr);
	ctx.no_scan = (cmd->opts & OPT_NOSCAN) && !ctx.locals;
	ctx.core_path = seen > 1 ? argv[1] : NULL;
	/* arenas --list and arenas --json name objects: a full scan */
	ctx.totals_only = (cmd->opts & OPT_TOTALS) != 0 &&
			  !(cmd->run == cmd_arenas && (ctx.list || ctx.json));
	ctx.buffers = (cmd->opts & OPT_BUFFERS) != 0;
	if (!ctx.sort)
		ctx.sort = "size";

	int rc = (cmd->opts & (OPT_SELFLOAD | OPT_NOCORE)) ? 0 : cmd_load(&ctx);
	if (rc == 0)
		rc = cmd_finish(&ctx, cmd->run(&ctx));
	ph_free(ctx.heap);
	core_free(ctx.core);
	return rc;
}

/* Under --json a script reads stdout: an error is there too, as one JSON
 * object, besides its line on stderr. */
int main(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		json |= strcmp(argv[i], "--json") == 0;
	int rc = run(argc, argv);
	if (json && (rc == EXIT_UNUSABLE || rc == EXIT_USAGE) && cmd_first_error()[0]) {
		json_w w;
		json_init(&w, stdout);
		json_obj(&w);
		json_kstr(&w, "error", cmd_first_error());
		json_ki64(&w, "exit", rc);
		json_obj_end(&w);
		json_end(&w);
		fflush(stdout);
	}
	return rc;
}
