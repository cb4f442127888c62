/*
 * cmd_memory.c - `pyheap memory`: where the core's memory went (an_memory),
 * as a ledger whose lines add up to the total, glibc's malloc next to
 * what mallinfo2() would have said, the fragmentation, and the biggest
 * chunks in use with their owners.
 *
 * The scan keeps totals only and feeds the ledger through its visit hook.
 * Only when nearly empty pymalloc arenas are found is the reference graph
 * built (a second, full scan) for the chain of their largest pinner.
 */
#include "cmd.h"

#include <string.h>

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The lines at depth d from *i on, as a JSON list (children nested). */
static void lines_json(json_w *w, const an_mem_line *v, size_t n, size_t *i, int d)
{
	json_arr(w);
	while (*i < n && v[*i].depth == d) {
		const an_mem_line *l = &v[(*i)++];
		json_obj(w);
		json_kstr(w, "name", l->name);
		json_ku64(w, "bytes", l->bytes);
		json_key(w, "lines");
		lines_json(w, v, n, i, d + 1);
		json_obj_end(w);
	}
	json_arr_end(w);
}

static const char *owner_key(unsigned owner)
{
	static const char *const k[AN_OWN_NKINDS] = {
		[AN_OWN_NONE] = "native", [AN_OWN_OBJECT] = "object", [AN_OWN_BUFFER] = "buffer",
		[AN_OWN_ARENA] = "pymalloc_arena", [AN_OWN_TSTATE] = "thread_state",
		[AN_OWN_STATIC] = "native_static", [AN_OWN_EXTOBJ] = "native_extension_object",
		[AN_OWN_MALLOC] = "malloc",
	};
	return owner < AN_OWN_NKINDS ? k[owner] : "?";
}

static void memory_json(cmd_ctx *ctx, const an_memory_result *r)
{
	ph_heap *h = ctx->heap;
	const core_mallinfo *mi = &r->mallinfo;
	char buf[256];
	json_w w;
	size_t i = 0;
	cmd_json_begin(&w);
	json_ku64(&w, "total", r->total);
	json_key(&w, "lines");
	lines_json(&w, r->lines, r->nlines, &i, 0);
	json_ku64(&w, "unexplained", r->unexplained);
	json_key(&w, "unexplained_ranges");
	json_arr(&w);
	for (size_t k = 0; k < r->ngaps; k++) {
		json_obj(&w);
		json_khex(&w, "lo", r->gaps[k].lo);
		json_khex(&w, "hi", r->gaps[k].hi);
		json_ku64(&w, "bytes", r->gaps[k].hi - r->gaps[k].lo);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	i = 0;
	json_key(&w, "mappings");
	lines_json(&w, r->mappings, r->nmappings, &i, 0);

	json_key(&w, "malloc");
	json_obj(&w);
	json_ku64(&w, "arenas", r->narenas);
	json_ku64(&w, "in_use", mi->uordblks);
	json_ku64(&w, "free", mi->fordblks);
	json_ku64(&w, "mmapped", mi->hblkhd);
	json_kbool(&w, "found", r->have_malloc);
	if (!r->have_malloc)
		json_kstr(&w, "note", r->malloc_note);
	else {
		json_kstr(&w, "found_by", r->malloc_found_by);
		json_kstr(&w, "glibc", r->malloc_version);
		json_ki64(&w, "safe_linking", r->malloc_safe_linking);
		json_key(&w, "mallinfo2");
		json_obj(&w);
		json_ku64(&w, "arena", mi->arena);
		json_ku64(&w, "ordblks", mi->ordblks);
		json_ku64(&w, "smblks", mi->smblks);
		json_ku64(&w, "hblks", mi->hblks);
		json_ku64(&w, "hblkhd", mi->hblkhd);
		json_ku64(&w, "fsmblks", mi->fsmblks);
		json_ku64(&w, "uordblks", mi->uordblks);
		json_ku64(&w, "fordblks", mi->fordblks);
		json_ku64(&w, "keepcost", mi->keepcost);
		json_obj_end(&w);
		json_key(&w, "tcache");
		json_obj(&w);
		json_ku64(&w, "structs", r->tcaches);
		json_ku64(&w, "chunks", mi->tcache_chunks);
		json_ku64(&w, "bytes", mi->tcache);
		json_obj_end(&w);
		json_ku64(&w, "mmapped_chunks_found", mi->mmaps_found);
		json_ku64(&w, "mmapped_bytes_found", mi->mmapped_found);
		json_key(&w, "arena_list");
		json_arr(&w);
		for (size_t k = 0; k < r->narenas; k++) {
			const an_mem_arena *a = &r->arenas[k];
			json_obj(&w);
			json_khex(&w, "state", a->state);
			json_kbool(&w, "main", a->main);
			json_ku64(&w, "heaps", a->heaps);
			json_ku64(&w, "bytes", a->bytes);
			json_ku64(&w, "system_mem", a->system_mem);
			json_ku64(&w, "in_use", a->in_use);
			json_ku64(&w, "free", a->free);
			json_ku64(&w, "top", a->top);
			json_obj_end(&w);
		}
		json_arr_end(&w);
	}
	json_obj_end(&w);

	json_ku64(&w, "python_bytes", r->python_bytes);
	json_ku64(&w, "native_bytes", r->native_bytes);
	json_ku64(&w, "threads", r->nthreads);

	json_key(&w, "fragmentation");
	json_obj(&w);
	json_ku64(&w, "free", r->frag.total);
	json_ku64(&w, "pymalloc_free_blocks", r->frag.pymalloc_free_blocks);
	json_ku64(&w, "pymalloc_empty_pools", r->frag.pymalloc_empty_pools);
	json_ku64(&w, "pymalloc_untouched", r->frag.pymalloc_untouched);
	json_ku64(&w, "malloc_top", r->frag.malloc_top);
	json_ku64(&w, "malloc_bins", r->frag.malloc_bins);
	json_ku64(&w, "malloc_fastbins", r->frag.malloc_fast);
	json_ku64(&w, "malloc_tcache", r->frag.malloc_tcache);
	json_ku64(&w, "malloc_unbinned", r->frag.malloc_unbinned);
	json_ku64(&w, "nearly_empty_arenas", r->frag.nearly_empty_arenas);
	json_ku64(&w, "nearly_empty_bytes", r->frag.nearly_empty_bytes);
	json_ku64(&w, "pinners", r->pinners);
	json_key(&w, "pinned_arenas");
	json_arr(&w);
	for (size_t k = 0; k < r->npinned; k++) {
		const an_mem_pinned *p = &r->pinned[k];
		json_obj(&w);
		json_khex(&w, "lo", p->lo);
		json_khex(&w, "hi", p->hi);
		json_ku64(&w, "objects", p->objects);
		json_ku64(&w, "bytes", p->bytes);
		cmd_json_type_rows(&w, "types", h, p->types, p->ntypes);
		json_key(&w, "addrs");
		json_arr(&w);
		for (size_t a = 0; a < p->naddrs; a++)
			json_hex(&w, p->addrs[a]);
		json_arr_end(&w);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	if (r->largest_pinner) {
		json_key(&w, "largest_pinner");
		json_obj(&w);
		json_khex(&w, "addr", r->largest_pinner);
		json_kstr(&w, "type", ph_type_name(h, r->largest_pinner_type));
		json_ku64(&w, "size", r->largest_pinner_size);
		if (r->have_chain)
			cmd_chain_json(&w, &r->largest_chain);
		json_obj_end(&w);
	}
	json_obj_end(&w);

	json_key(&w, "chunks");
	json_arr(&w);
	for (size_t k = 0; k < r->nchunks; k++) {
		const an_mem_chunk *c = &r->chunks[k];
		json_obj(&w);
		json_khex(&w, "addr", c->addr);
		json_ku64(&w, "size", c->size);
		json_kbool(&w, "mmapped", c->mmapped);
		json_kstr(&w, "owner", owner_key(c->owner));
		if (c->owner == AN_OWN_BUFFER)
			json_kstr(&w, "buffer", ph_buffer_kind_name(c->buffer_kind));
		if (c->owner_type != PH_NONE)
			json_kstr(&w, "owner_type", ph_type_name(h, c->owner_type));
		if (c->owner_addr)
			json_khex(&w, "owner_addr", c->owner_addr);
		if (c->owner == AN_OWN_STATIC)
			json_kstr(&w, "holder", c->holder);
		json_kstr(&w, "text", cmd_mem_owner_text(h, c, buf, sizeof buf));
		json_obj_end(&w);
	}
	json_arr_end(&w);
	cmd_json_end(ctx, &w);
}

static void memory_print(cmd_ctx *ctx, const an_memory_result *r)
{
	ph_heap *h = ctx->heap;
	const core_mallinfo *mi = &r->mallinfo;
	char n1[32], b1[32], b2[32], b3[32], b4[32], buf[256];
	printf("%s: %s bytes (%s) in %zu mappings\n\n", ctx->core_path,
	       cmd_num(n1, sizeof n1, r->total), cmd_bytes(b1, sizeof b1, r->total),
	       core_segment_count(ctx->core));
	printf("%16s %6s\n", "bytes", "%");
	for (size_t i = 0; i < r->nlines; i++) {
		const an_mem_line *l = &r->lines[i];
		if (l->depth > 0 && !l->bytes)
			continue;
		printf("%16s %5.1f%%  %*s%s\n", cmd_num(n1, sizeof n1, l->bytes), pct(l->bytes, r->total),
		       2 * l->depth, "", l->name);
	}
	printf("%16s %5.1f%%  %s\n", cmd_num(n1, sizeof n1, r->unexplained),
	       pct(r->unexplained, r->total), "unexplained (anonymous writable memory no structure claims)");
	printf("%16s %5.1f%%  %s\n", cmd_num(n1, sizeof n1, r->total), 100.0, "total");
	if (r->ngaps) {
		printf("%24s  the biggest unexplained:", "");
		for (size_t k = 0; k < r->ngaps && k < 4; k++)
			printf(" 0x%llx (%s)", (unsigned long long)r->gaps[k].lo,
			       cmd_bytes(b1, sizeof b1, r->gaps[k].hi - r->gaps[k].lo));
		printf("\n");
	}
	printf("\n");

	printf("by mapping:\n");
	for (size_t i = 0; i < r->nmappings; i++)
		if (r->mappings[i].bytes)
			printf("%16s %5.1f%%  %s\n", cmd_num(n1, sizeof n1, r->mappings[i].bytes),
			       pct(r->mappings[i].bytes, r->total), r->mappings[i].name);

	if (r->have_malloc) {
		printf("\nglibc malloc%s%s (found by %s%s): %zu arena%s, %llu mmapped chunks\n",
		       r->malloc_version[0] ? " " : "", r->malloc_version, r->malloc_found_by,
		       r->malloc_safe_linking > 0 ? ", safe-linking" : "", r->narenas,
		       r->narenas == 1 ? "" : "s", (unsigned long long)mi->hblks);
		printf("  as mallinfo2(): arena %s, uordblks (in use) %s, fordblks (free) %s, hblkhd "
		       "(mmapped) %s\n", cmd_num(n1, sizeof n1, mi->arena), cmd_num(b1, sizeof b1, mi->uordblks),
		       cmd_num(b2, sizeof b2, mi->fordblks), cmd_num(b3, sizeof b3, mi->hblkhd));
		printf("                  ordblks %llu, smblks %llu, fsmblks %llu, hblks %llu, keepcost %s\n",
		       (unsigned long long)mi->ordblks, (unsigned long long)mi->smblks,
		       (unsigned long long)mi->fsmblks, (unsigned long long)mi->hblks,
		       cmd_num(b4, sizeof b4, mi->keepcost));
		printf("  tcache: %s in %llu chunks of %zu threads' caches (in use to mallinfo2, free to "
		       "the program)\n", cmd_bytes(b1, sizeof b1, mi->tcache),
		       (unsigned long long)mi->tcache_chunks, r->tcaches);
		for (size_t k = 0; k < r->narenas; k++) {
			const an_mem_arena *a = &r->arenas[k];
			printf("  arena 0x%llx%s: %zu heap%s, %s; in use %s, free %s, top %s\n",
			       (unsigned long long)a->state, a->main ? " (main)" : "", a->heaps,
			       a->heaps == 1 ? "" : "s", cmd_bytes(n1, sizeof n1, a->bytes),
			       cmd_bytes(b1, sizeof b1, a->in_use), cmd_bytes(b2, sizeof b2, a->free),
			       cmd_bytes(b3, sizeof b3, a->top));
		}
	} else {
		printf("\nglibc malloc: not read (%s)\n", r->malloc_note);
	}

	printf("\nPython objects and their buffers: %s (%.1f%%); native memory in use: %s (%.1f%%)\n",
	       cmd_bytes(b1, sizeof b1, r->python_bytes), pct(r->python_bytes, r->total),
	       cmd_bytes(b2, sizeof b2, r->native_bytes), pct(r->native_bytes, r->total));
	printf("\nfragmentation: %s (%.1f%%) of the memory is held but free:\n",
	       cmd_bytes(b1, sizeof b1, r->frag.total), pct(r->frag.total, r->total));
	printf("  pymalloc: free blocks %s, empty pools %s, pools never used %s\n",
	       cmd_bytes(b1, sizeof b1, r->frag.pymalloc_free_blocks),
	       cmd_bytes(b2, sizeof b2, r->frag.pymalloc_empty_pools),
	       cmd_bytes(b3, sizeof b3, r->frag.pymalloc_untouched));
	if (r->have_malloc)
		printf("  malloc: top chunks %s, bins %s, fastbins %s, tcache %s\n",
		       cmd_bytes(b1, sizeof b1, r->frag.malloc_top), cmd_bytes(b2, sizeof b2, r->frag.malloc_bins),
		       cmd_bytes(b3, sizeof b3, r->frag.malloc_fast), cmd_bytes(b4, sizeof b4, r->frag.malloc_tcache));
	printf("  nearly empty pymalloc arenas (<= 10%% of pools used): %llu, keeping %s resident",
	       (unsigned long long)r->frag.nearly_empty_arenas,
	       cmd_bytes(b1, sizeof b1, r->frag.nearly_empty_bytes));
	printf(r->npinned ? " for %s objects:\n" : "\n", cmd_num(n1, sizeof n1, r->pinners));
	for (size_t k = 0; k < r->npinned; k++) {
		const an_mem_pinned *p = &r->pinned[k];
		size_t o = 0;
		if (k == 10) {
			printf("    (%zu more arenas; --json lists them)\n", r->npinned - k);
			break;
		}
		buf[0] = 0;
		for (size_t t = 0; t < p->ntypes && o < sizeof buf; t++)
			o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%llu %s", t ? ", " : "",
					      (unsigned long long)p->types[t].count,
					      ph_type_name(h, p->types[t].type));
		printf("    arena 0x%llx: %s objects, %s (%s):", (unsigned long long)p->lo,
		       cmd_num(n1, sizeof n1, p->objects), cmd_bytes(b1, sizeof b1, p->bytes), buf);
		for (size_t a = 0; a < p->naddrs && a < 4; a++)
			printf(" 0x%llx", (unsigned long long)p->addrs[a]);
		printf("%s\n", p->naddrs > 4 ? " ..." : "");
	}
	if (r->largest_pinner) {
		printf("    the largest: %s 0x%llx (%s)\n", ph_type_name(h, r->largest_pinner_type),
		       (unsigned long long)r->largest_pinner,
		       cmd_bytes(b1, sizeof b1, r->largest_pinner_size));
		if (r->have_chain)
			cmd_chain_print(&r->largest_chain, "      ");
	}

	if (r->nchunks) {
		printf("\nbiggest malloc chunks in use:\n");
		for (size_t k = 0; k < r->nchunks; k++) {
			const an_mem_chunk *c = &r->chunks[k];
			printf("%12s  0x%llx%s  %s\n", cmd_bytes(b1, sizeof b1, c->size),
			       (unsigned long long)c->addr, c->mmapped ? " (mmapped)" : "",
			       cmd_mem_owner_text(h, c, buf, sizeof buf));
		}
	}
}

int cmd_memory(cmd_ctx *ctx)
{
	an_memory_ctx *mc;
	an_memory_result *r;
	int rc;
	if (an_memory_begin(&mc, ctx->malloc_scan ? CORE_MALLOC_BY_STRUCTURE : 0) < 0)
		return cmd_oom();
	ctx->visit = an_memory_visit;
	ctx->visit_payload = mc;
	if ((rc = cmd_load(ctx)) != 0) {
		an_memory_end(&r, mc, ctx->heap, 0);     /* (frees the collector) */
		an_memory_free(r);
		return rc;
	}
	/* an_memory_end frees the collector, even when it fails */
	ctx->visit = NULL;
	if (an_memory_end(&r, mc, ctx->heap, cmd_rows(ctx, 20) ? cmd_rows(ctx, 20) : 0) < 0)
		return cmd_oom();
	if (ctx->top < 0 && ctx->json && r->nchunks > 20)
		r->nchunks = 20;        /* JSON lists 20 unless --top says */
	if (r->largest_pinner) {
		/* the chain of the largest pinner needs the reference graph */
		core_t *core = NULL;
		ph_heap *heap = NULL;
		heapgraph *hg = NULL;
		char err[256];
		ctx->totals_only = 0;
		if (cmd_open_core(ctx, ctx->core_path, &core, &heap) == 0 &&
		    hg_build(&hg, heap, err, sizeof err) == 0 && an_memory_chain(r, hg) < 0) {
			hg_free(hg);
			ph_free(heap);
			core_free(core);
			an_memory_free(r);
			return cmd_oom();
		}
		hg_free(hg);
		ph_free(heap);
		core_free(core);
	}
	if (ctx->json)
		memory_json(ctx, r);
	else
		memory_print(ctx, r);
	an_memory_free(r);
	return EXIT_OK;
}
