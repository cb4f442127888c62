/* cmd_info.c - `pyheap info`: the process, the interpreter, heap totals. */
#include "cmd.h"

#include <inttypes.h>

void cmd_info_fields(json_w *w, cmd_ctx *ctx)
{
	core_t *c = ctx->core;
	ph_heap *h = ctx->heap;
	const ph_arena_stats *a = ph_arenas(h);
	const ph_gc_state *g = ph_gc(h);
	json_kstr(w, "core", core_path(c));
	json_kstr(w, "python_version", ph_version(h));
	json_kstr(w, "version_found_by", ph_version_found_by(h));
	json_ki64(w, "pid", core_pid(c));
	json_kstr(w, "executable", core_exe(c) ? core_exe(c) : "");
	json_kstr(w, "cmdline", core_cmdline(c));
	json_ki64(w, "signal", core_signal(c));
	json_key(w, "threads");
	json_arr(w);
	for (size_t i = 0; i < core_thread_count(c); i++) {
		json_obj(w);
		json_ki64(w, "tid", core_thread_tid(c, i));
		json_obj_end(w);
	}
	json_arr_end(w);
	json_key(w, "python_threads");
	json_arr(w);
	for (size_t i = 0; i < ph_thread_count(h); i++) {
		const ph_thread *t = ph_thread_at(h, i);
		json_obj(w);
		json_khex(w, "tstate", t->tstate);
		json_khex(w, "thread_id", t->thread_id);
		json_ku64(w, "native_id", t->native_id);
		json_ki64(w, "interpreter", t->interp_id);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_kstr(w, "runtime_module", ph_runtime_module(h));
	json_khex(w, "runtime_address", ph_runtime_addr(h));
	json_kstr(w, "runtime_found_by", ph_runtime_found_by(h));
	json_kstr(w, "offsets_source", ph_offsets_source(h));
	json_key(w, "layout");
	json_obj(w);
	json_kstr(w, "name", ph_layout_name(h));
	json_kstr(w, "why", ph_layout_note(h));
	json_obj_end(w);
	{
		const char *file, *how = ph_debug_info(h, &file);
		json_key(w, "debug_info");
		json_obj(w);
		json_kstr(w, "found_by", how ? how : "none");
		if (file)
			json_kstr(w, "file", file);
		json_obj_end(w);
	}
	json_kstr(w, "arenas_found_by", ph_arenas_found_by(h));
	json_ku64(w, "objects", ph_object_count(h));
	json_ku64(w, "size", ph_total_size(h));
	json_ku64(w, "gc_objects", ph_gc_object_count(h));
	json_ku64(w, "arenas", a->arenas);
	json_ku64(w, "pools", a->pools_used);
	json_ku64(w, "blocks", a->blocks_used);
	json_key(w, "gc");
	json_obj(w);
	json_kbool(w, "known", g->known);
	json_kbool(w, "enabled", g->enabled);
	json_kbool(w, "collecting", g->collecting);
	json_key(w, "generations");
	json_arr(w);
	for (int i = 0; i < 3; i++) {
		json_obj(w);
		json_ki64(w, "threshold", g->gen[i].threshold);
		json_ki64(w, "count", g->gen[i].count);
		json_ku64(w, "objects", g->gen[i].objects);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_ku64(w, "permanent_objects", g->permanent_objects);
	json_obj_end(w);
}

static void info_json(cmd_ctx *ctx)
{
	json_w w;
	cmd_json_begin(&w);
	cmd_info_fields(&w, ctx);
	cmd_json_end(ctx, &w);
}

int cmd_info(cmd_ctx *ctx)
{
	if (ctx->json) {
		info_json(ctx);
		return EXIT_OK;
	}
	core_t *c = ctx->core;
	ph_heap *h = ctx->heap;
	const ph_arena_stats *a = ph_arenas(h);
	const ph_gc_state *g = ph_gc(h);
	char n1[32], n2[32], b1[32];
	printf("core:        %s\n", core_path(c));
	printf("executable:  %s\n", core_exe(c) ? core_exe(c) : "(unknown)");
	if (*core_cmdline(c)) {
		/* the note holds argv joined by spaces, cut at 80 bytes; keep
		 * control characters (a -c script's newlines) off the terminal */
		printf("command:     ");
		for (const char *p = core_cmdline(c); *p; p++)
			putchar((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
		printf("\n");
	}
	printf("pid:         %d\n", core_pid(c));
	printf("signal:      %d%s\n", core_signal(c), core_signal(c) ? "" : " (none: taken from a live process)");
	printf("threads:     %zu:", core_thread_count(c));
	for (size_t i = 0; i < core_thread_count(c) && i < 16; i++)
		printf(" %d", core_thread_tid(c, i));
	printf("%s\n", core_thread_count(c) > 16 ? " ..." : "");
	printf("\npython:      %s (version from %s)\n", ph_version(h), ph_version_found_by(h));
	printf("runtime:     _PyRuntime at 0x%" PRIx64 " in %s (found by %s)\n",
	       ph_runtime_addr(h), ph_runtime_module(h), ph_runtime_found_by(h));
	printf("offsets:     %s\n", ph_offsets_source(h));
	printf("layout:      %s: %s\n", ph_layout_name(h), ph_layout_note(h));
	{
		const char *file, *how = ph_debug_info(h, &file);
		printf("debug info:  %s%s%s\n", how ? how : "none (stripped, or --no-dwarf)",
		       file ? ": " : "", file ? file : "");
	}
	printf("arenas from: %s\n", ph_arenas_found_by(h));
	printf("py threads:  %zu\n", ph_thread_count(h));
	for (size_t i = 0; i < ph_thread_count(h); i++) {
		const ph_thread *t = ph_thread_at(h, i);
		printf("  tstate 0x%" PRIx64 "  thread_id 0x%" PRIx64 "  native %" PRIu64 "\n",
		       t->tstate, t->thread_id, t->native_id);
	}
	printf("\nobjects:     %s (%s)\n", cmd_num(n1, sizeof n1, ph_object_count(h)),
	       cmd_bytes(b1, sizeof b1, ph_total_size(h)));
	printf("gc objects:  %s\n", cmd_num(n1, sizeof n1, ph_gc_object_count(h)));
	printf("pymalloc:    %s arenas, %s pools, %s blocks in use\n",
	       cmd_num(n1, sizeof n1, a->arenas), cmd_num(n2, sizeof n2, a->pools_used),
	       cmd_num(b1, sizeof b1, a->blocks_used));
	if (g->known) {
		printf("gc:          %s%s, thresholds %d/%d/%d, counts %d/%d/%d, permanent %s\n",
		       g->enabled ? "enabled" : "DISABLED", g->collecting ? " (collecting)" : "",
		       g->gen[0].threshold, g->gen[1].threshold, g->gen[2].threshold,
		       g->gen[0].count, g->gen[1].count, g->gen[2].count,
		       cmd_num(n1, sizeof n1, g->permanent_objects));
	}
	printf("warnings:    %llu\n", cmd_warning_count(ctx));
	return EXIT_OK;
}
