/*
 * cmd_suspects.c - `pyheap suspects`: what most likely leaks (an_suspects),
 * each with a one-line summary of its evidence and the chain that keeps it
 * alive; then the collector's state.
 */
#include "cmd.h"

#include <stdlib.h>

/* "300 __main__.Orphan, 12 dict, ..." for a group's example types. */
static void describe_types(ph_heap *h, const an_suspect *s, char *out, size_t cap)
{
	size_t o = 0;
	char num[32];
	out[0] = 0;
	for (size_t i = 0; i < s->nexamples && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s %s", i ? ", " : "",
				      cmd_num(num, sizeof num, s->examples[i].count),
				      ph_type_name(h, s->examples[i].type));
}

/* An object's name: its value ('render_profile'), else the last
 * reference of its chain (['_CACHE']), else its address. */
static const char *name_of(ph_heap *h, const an_suspect *s, char *buf, size_t cap)
{
	ph_object_repr(h, s->id, buf, cap);
	if (!buf[0] && s->chain.n)
		snprintf(buf, cap, "%s", s->chain.labels[s->chain.n - 1]);
	if (!buf[0])
		snprintf(buf, cap, "0x%llx", (unsigned long long)ph_object_addr(h, s->id));
	return buf;
}

/* "at 0x7f..., 0x7f... (and 3 more)" for pinned arenas. */
static void arena_list(const an_suspect *s, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < s->e.pinned.nbases && i < 4 && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s0x%llx", i ? ", " : "",
				      (unsigned long long)s->e.pinned.bases[i].addr);
	if (s->e.pinned.arenas > 4 && o < cap)
		snprintf(out + o, cap - o, " and %llu more",
			 (unsigned long long)(s->e.pinned.arenas - 4));
}

/* The suspect's evidence in one line (the report shows it too). */
void cmd_suspect_summary(const cmd_ctx *ctx, ph_heap *h, const an_suspect *s, char *out, size_t cap)
{
	char b1[32], n1[32], n2[32], v[160], types[200], at[160];
	switch (s->kind) {
	case AN_UNBOUNDED_CACHE:
		snprintf(out, cap, "an lru_cache with maxsize=None: %s entries, retaining %s (%s)",
			 cmd_num(n1, sizeof n1, s->e.cache.entries < 0 ? 0 : (uint64_t)s->e.cache.entries),
			 cmd_bytes(b1, sizeof b1, s->retained), name_of(h, s, v, sizeof v));
		break;
	case AN_BIG_CONTAINER:
		snprintf(out, cap, "%s%s with %s items retains %s",
			 s->e.big.module_level ? "a module-level " : "a ",
			 ph_type_name(h, ph_object_type(h, s->id)),
			 cmd_num(n1, sizeof n1, (uint64_t)s->e.big.items),
			 cmd_bytes(b1, sizeof b1, s->retained));
		break;
	case AN_GROWTH:
		if (s->id == RG_NONE && s->e.type_growth.count_delta <= 0)
			/* as many objects, or fewer, but bigger ones (lists' tables) */
			snprintf(out, cap, "%s grew by %s in %s objects (%+lld), since %s",
				 s->e.type_growth.name,
				 cmd_bytes(b1, sizeof b1, (uint64_t)s->e.type_growth.size_delta),
				 cmd_num(n1, sizeof n1, s->e.type_growth.new_count),
				 (long long)s->e.type_growth.count_delta, ctx->baseline);
		else if (s->id == RG_NONE)
			snprintf(out, cap, "%s grew by %+lld objects (%s), to %s, since %s",
				 s->e.type_growth.name, (long long)s->e.type_growth.count_delta,
				 cmd_bytes(b1, sizeof b1, (uint64_t)s->e.type_growth.size_delta),
				 cmd_num(n1, sizeof n1, s->e.type_growth.new_count), ctx->baseline);
		else
			snprintf(out, cap, "%s grew from %lld to %lld items since %s, retaining %s",
				 ph_type_name(h, ph_object_type(h, s->id)), (long long)s->e.grown.old_len,
				 (long long)s->e.grown.new_len, ctx->baseline,
				 cmd_bytes(b1, sizeof b1, s->retained));
		break;
	case AN_GARBAGE:
		describe_types(h, s, types, sizeof types);
		snprintf(out, cap, "%s objects (%s) alive but unreachable: cyclic garbage%s (%s)",
			 cmd_num(n1, sizeof n1, s->e.garbage.count),
			 cmd_bytes(b1, sizeof b1, s->e.garbage.size),
			 s->e.garbage.gc_disabled ? " while the collector is DISABLED" :
			 ", waiting for a collection", types);
		break;
	case AN_ORPHANS:
		describe_types(h, s, types, sizeof types);
		snprintf(out, cap, "%s objects with a refcount but no referrer, retaining %s: held only "
			 "from C (a missing Py_DECREF?) (%s)%s%s%s", cmd_num(n1, sizeof n1, s->e.orphans.count),
			 cmd_bytes(b1, sizeof b1, s->e.orphans.retained), types,
			 s->e.orphans.on_c_stack ? "; not counting " : "",
			 s->e.orphans.on_c_stack ? cmd_num(n2, sizeof n2, s->e.orphans.on_c_stack) : "",
			 s->e.orphans.on_c_stack ? " on threads' C stacks (running C code holds them)" : "");
		break;
	case AN_NATIVE_MEMORY: {
		size_t o = 0;
		types[0] = 0;
		for (size_t i = 0; i < s->e.native.nholders && o < sizeof types; i++) {
			char t[160], b[32];
			o += (size_t)snprintf(types + o, sizeof types - o, "%s%s at 0x%llx: %s",
					      i ? "; " : "", cmd_bytes(b, sizeof b, s->e.native.holders[i].size),
					      (unsigned long long)s->e.native.holders[i].addr,
					      cmd_mem_owner_text(h, &s->e.native.holders[i], t, sizeof t));
		}
		snprintf(out, cap, "most of the memory in use is native, outside Python objects and "
			 "their buffers: %s against %s (the biggest: %s)",
			 cmd_bytes(b1, sizeof b1, s->e.native.native),
			 cmd_bytes(n1, sizeof n1, s->e.native.python), types);
		break;
	}
	case AN_FRAGMENTATION:
		snprintf(out, cap, "most of the allocators' memory is free (fragmentation): %s free "
			 "against %s in use (pymalloc %s, malloc %s; %llu nearly empty arenas)",
			 cmd_bytes(b1, sizeof b1, s->e.frag.free), cmd_bytes(n1, sizeof n1, s->e.frag.in_use),
			 cmd_bytes(v, sizeof v, s->e.frag.pymalloc),
			 cmd_bytes(types, sizeof types, s->e.frag.malloc),
			 (unsigned long long)s->e.frag.pinned_arenas);
		break;
	case AN_PINNED_ARENAS:
		describe_types(h, s, types, sizeof types);
		arena_list(s, at, sizeof at);
		if (!s->e.pinned.objects)
			/* PyMem_Malloc's small blocks come from pymalloc too */
			snprintf(out, cap, "%llu nearly empty pymalloc arenas keep %s resident for a few "
				 "blocks that are no object (small buffers: dict keys, list items, C data); the "
				 "arenas at %s", (unsigned long long)s->e.pinned.arenas,
				 cmd_bytes(b1, sizeof b1, s->e.pinned.resident), at);
		else
			snprintf(out, cap, "%llu nearly empty pymalloc arenas keep %s resident for %s "
				 "objects (%s); the arenas at %s (`pyheap arenas --list` lists their "
				 "objects)", (unsigned long long)s->e.pinned.arenas,
				 cmd_bytes(b1, sizeof b1, s->e.pinned.resident),
				 cmd_num(n1, sizeof n1, s->e.pinned.objects), types, at);
		break;
	}
}

static void suspects_json(cmd_ctx *ctx, const heapgraph *hg, const an_suspects_result *r)
{
	ph_heap *h = hg_heap(hg);
	const ph_gc_state *gc = r->gc;
	char t[160], sum[1024];
	json_w w;
	cmd_json_begin(&w);
	json_ku64(&w, "total_size", r->total_size);
	json_ku64(&w, "heap_size", r->heap_size);
	json_key(&w, "gc");
	json_obj(&w);
	json_kbool(&w, "known", gc->known);
	json_kbool(&w, "enabled", gc->enabled);
	json_kbool(&w, "collecting", gc->collecting);
	json_key(&w, "thresholds");
	json_arr(&w);
	for (int i = 0; i < 3; i++)
		json_i64(&w, gc->gen[i].threshold);
	json_arr_end(&w);
	json_key(&w, "counts");
	json_arr(&w);
	for (int i = 0; i < 3; i++)
		json_i64(&w, gc->gen[i].count);
	json_arr_end(&w);
	json_obj_end(&w);
	json_key(&w, "suspects");
	json_arr(&w);
	for (size_t i = 0; i < r->n; i++) {
		const an_suspect *s = &r->s[i];
		cmd_suspect_summary(ctx, h, s, sum, sizeof sum);
		json_obj(&w);
		json_kstr(&w, "kind", an_suspect_kind_name(s->kind));
		json_ku64(&w, "bytes", s->bytes);
		json_kf64(&w, "share", r->heap_size ? 100.0 * (double)s->bytes / (double)r->heap_size : 0);
		json_kstr(&w, "summary", sum);
		if (s->kind == AN_PINNED_ARENAS) {
			json_key(&w, "arenas");
			json_arr(&w);
			for (size_t k = 0; k < s->e.pinned.nbases; k++)
				json_hex(&w, s->e.pinned.bases[k].addr);
			json_arr_end(&w);
		}
		if (s->id != RG_NONE) {
			json_khex(&w, "addr", ph_object_addr(h, s->id));
			json_kstr(&w, "type", hg_node_type(hg, s->id, t, sizeof t));
			json_ku64(&w, "retained", s->retained);
			if (s->items >= 0)
				json_ki64(&w, "entries", s->items);
			cmd_chain_json(&w, &s->chain);
		}
		json_obj_end(&w);
	}
	json_arr_end(&w);
	cmd_json_end(ctx, &w);
}

/* "54%", "0.3%", "<0.1%" */
static const char *share_text(double share, char *buf, size_t cap)
{
	if (share >= 1)
		snprintf(buf, cap, "%3.0f%%", share);
	else if (share >= 0.1)
		snprintf(buf, cap, "%.1f%%", share);
	else
		snprintf(buf, cap, "<0.1%%");
	return buf;
}

static void suspects_print(cmd_ctx *ctx, const heapgraph *hg, const an_suspects_result *r)
{
	ph_heap *h = hg_heap(hg);
	const ph_gc_state *gc = r->gc;
	char b1[32], n1[32], t[160], v[160], sum[1024];
	printf("heap: %s in %s objects\n", cmd_bytes(b1, sizeof b1, r->total_size),
	       cmd_num(n1, sizeof n1, r->objects));
	if (gc->known)
		printf("gc: %s%s, thresholds %d/%d/%d, counts %d/%d/%d\n\n",
		       gc->enabled ? "enabled" : "DISABLED", gc->collecting ? " (collecting)" : "",
		       gc->gen[0].threshold, gc->gen[1].threshold, gc->gen[2].threshold,
		       gc->gen[0].count, gc->gen[1].count, gc->gen[2].count);
	if (!r->n)
		printf("no suspects: nothing retains %d%% of the heap, no unbounded cache, "
		       "no garbage to speak of, no orphans\n", AN_BIG_SHARE);
	else if (r->pinned_free * 100 >= r->total_size)
		printf("ranked by their share of the heap: of %s, the objects' bytes and the %s "
		       "of nearly empty arenas they do not use\n\n",
		       cmd_bytes(b1, sizeof b1, r->heap_size), cmd_bytes(n1, sizeof n1, r->pinned_free));
	else
		printf("ranked by their share of the heap:\n\n");
	for (size_t i = 0; i < r->n; i++) {
		const an_suspect *s = &r->s[i];
		double share = r->heap_size ? 100.0 * (double)s->bytes / (double)r->heap_size : 0;
		cmd_suspect_summary(ctx, h, s, sum, sizeof sum);
		printf("%2zu. %s [%s] %s\n", i + 1, share_text(share, b1, sizeof b1),
		       an_suspect_kind_name(s->kind), sum);
		if (s->id != RG_NONE) {
			printf("     %s 0x%llx %s\n", hg_node_type(hg, s->id, t, sizeof t),
			       (unsigned long long)ph_object_addr(h, s->id),
			       ph_object_repr(h, s->id, v, sizeof v));
			cmd_chain_print(&s->chain, "     ");
		}
	}
}

int cmd_suspects(cmd_ctx *ctx)
{
	heapgraph *hg;
	cmd_dump base = {0};
	an_suspects_result *r = NULL;
	char err[8192];
	int rc = EXIT_UNUSABLE;
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (ctx->baseline && cmd_open_dump(ctx, ctx->baseline, &base) != 0)
		goto out;
	if (an_suspects(&r, hg, ctx->baseline ? &base.dump : NULL, err, sizeof err) < 0) {
		if (err[0])
			cmd_error("%s", err);
		cmd_oom();     /* (after a bad snapshot row too, as it always has) */
		goto out;
	}
	if (ctx->json)
		suspects_json(ctx, hg, r);
	else
		suspects_print(ctx, hg, r);
	rc = EXIT_OK;
out:
	an_suspects_free(r);
	cmd_close_dump(&base);
	hg_free(hg);
	return rc;
}
