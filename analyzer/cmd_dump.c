/* cmd_dump.c - `pyheap dump PID -o FILE`: an ELF core of a running process. */
#include "cmd.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);
	return l >= k && strcmp(s + l - k, suffix) == 0;
}

int cmd_dump_process(cmd_ctx *ctx)
{
	long pid = ctx->pid;
	if (!pid) {
		char *end;
		pid = strtol(ctx->core_path, &end, 10);
		if (*end || end == ctx->core_path || pid <= 0 || pid > 0x7fffffff) {
			cmd_error("dump: not a process id: %s", ctx->core_path);
			return EXIT_USAGE;
		}
	}
	if (!ctx->out) {
		cmd_error("dump needs -o FILE");
		return EXIT_USAGE;
	}
	/* a signal stops the dump cleanly: the process resumes, no file is left */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	core_dump_options o = {.all = ctx->all, .zstd = ends_with(ctx->out, ".zst"),
			       .cancel = &interrupted};
	core_dump_stats st;
	char err[512];
	if (core_dump_pid((int)pid, ctx->out, &o, &st, err, sizeof err) < 0) {
		cmd_error("%s", err);
		return EXIT_UNUSABLE;
	}
	char mem[32], wr[32];
	fprintf(stderr, "pyheap: dump: pid %ld: %zu thread%s, %zu mappings, %s of memory; %s "
		"written to %s in %.0f ms (process paused %.0f ms)\n", pid, st.threads,
		st.threads == 1 ? "" : "s", st.mappings, cmd_bytes(mem, sizeof mem, st.memory),
		cmd_bytes(wr, sizeof wr, st.bytes), ctx->out, st.total_ms, st.pause_ms);
	if (st.unreadable_pages)
		fprintf(stderr, "pyheap: dump: %llu pages could not be read (zeros in the core)\n",
			(unsigned long long)st.unreadable_pages);
	if (ctx->json) {
		json_w w;
		json_init(&w, stdout);
		json_obj(&w);
		json_ki64(&w, "pid", pid);
		json_kstr(&w, "file", ctx->out);
		json_kstr(&w, "format", o.zstd ? "zstd" : "elf");
		json_ku64(&w, "bytes", st.bytes);
		json_ku64(&w, "core_size", st.core_size);
		json_ku64(&w, "memory", st.memory);
		json_ku64(&w, "unreadable_pages", st.unreadable_pages);
		json_ku64(&w, "threads", st.threads);
		json_ku64(&w, "mappings", st.mappings);
		json_ku64(&w, "pause_ms", (uint64_t)(st.pause_ms + 0.5));
		json_ku64(&w, "total_ms", (uint64_t)(st.total_ms + 0.5));
		json_obj_end(&w);
		json_end(&w);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("error writing output");
		return EXIT_UNUSABLE;
	}
	return EXIT_OK;
}
