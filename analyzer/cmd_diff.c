/*
 * cmd_diff.c - `pyheap diff OLD NEW`: objgraph.show_growth between two
 * dumps (an_diff).  Either side is a core or a snapshot written by `types
 * --json`, so a small JSON file can stand in for a 10 GB core.  With two
 * cores of one process it also lists the containers that grew and the
 * chain that holds each.
 */
#include "cmd.h"

#include <string.h>

static void diff_json(cmd_ctx *ctx, const cmd_dump *s, const an_diff_result *d, size_t top)
{
	json_w w;
	cmd_json_begin(&w);
	json_kstr(&w, "old", s[0].dump.path);
	json_kstr(&w, "new", s[1].dump.path);
	json_key(&w, "types");
	json_arr(&w);
	for (size_t i = 0, shown = 0; i < d->ntypes && (!top || shown < top); i++) {
		const an_type_delta *r = &d->types[i];
		if (r->old_count == r->new_count && r->old_size == r->new_size)
			continue;
		shown++;
		json_obj(&w);
		json_kstr(&w, "type", r->name);
		json_ku64(&w, "old_count", r->old_count);
		json_ku64(&w, "new_count", r->new_count);
		json_ki64(&w, "count_delta", (int64_t)(r->new_count - r->old_count));
		json_ku64(&w, "old_size", r->old_size);
		json_ku64(&w, "new_size", r->new_size);
		json_ki64(&w, "size_delta", (int64_t)(r->new_size - r->old_size));
		json_kbool(&w, "new_type", r->old_count == 0);
		json_kbool(&w, "vanished", r->new_count == 0);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_key(&w, "new_types");
	json_arr(&w);
	for (size_t i = 0; i < d->ntypes; i++)
		if (!d->types[i].old_count)
			json_str(&w, d->types[i].name);
	json_arr_end(&w);
	json_key(&w, "vanished_types");
	json_arr(&w);
	for (size_t i = 0; i < d->ntypes; i++)
		if (!d->types[i].new_count)
			json_str(&w, d->types[i].name);
	json_arr_end(&w);
	json_key(&w, "containers");
	json_arr(&w);
	ph_heap *h = s[1].dump.heap;
	for (size_t i = 0; i < d->ngrown; i++) {
		const an_grown *g = &d->grown[i];
		json_obj(&w);
		json_khex(&w, "addr", ph_object_addr(h, g->id));
		json_kstr(&w, "type", ph_type_name(h, ph_object_type(h, g->id)));
		json_ki64(&w, "old_len", g->old_len);
		json_ki64(&w, "new_len", g->new_len);
		json_ki64(&w, "len_delta", g->new_len - g->old_len);
		json_ku64(&w, "size", ph_object_size(h, g->id));
		if (d->have_chains)
			cmd_chain_json(&w, &d->chains[i]);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	cmd_json_end(ctx, &w);
}

static void diff_print(const cmd_dump *s, const an_diff_result *d, size_t top)
{
	char n1[32], n2[32], n3[32], v[160];
	printf("%-44s %12s %12s %14s\n", "type", "count", "delta", "bytes delta");
	size_t shown = 0;
	for (size_t i = 0; i < d->ntypes && (!top || shown < top); i++) {
		const an_type_delta *r = &d->types[i];
		if (r->old_count == r->new_count && r->old_size == r->new_size)
			continue;
		shown++;
		char d1[40], d2[40];
		snprintf(d1, sizeof d1, "%s%s", r->new_count >= r->old_count ? "+" : "-",
			 cmd_num(n2, sizeof n2, r->new_count >= r->old_count ?
				 r->new_count - r->old_count : r->old_count - r->new_count));
		snprintf(d2, sizeof d2, "%s%s", r->new_size >= r->old_size ? "+" : "-",
			 cmd_num(n3, sizeof n3, r->new_size >= r->old_size ?
				 r->new_size - r->old_size : r->old_size - r->new_size));
		printf("%-44s %12s %12s %14s%s\n", r->name, cmd_num(n1, sizeof n1, r->new_count), d1, d2,
		       r->old_count == 0 ? "  (new)" : r->new_count == 0 ? "  (vanished)" : "");
	}
	if (shown < d->changed)
		printf("(%zu more changed types; --top 0 shows all)\n", d->changed - shown);
	if (!d->ngrown)
		return;
	ph_heap *h = s[1].dump.heap;
	printf("\ncontainers that grew (same address in both dumps):\n");
	for (size_t i = 0; i < d->ngrown; i++) {
		const an_grown *g = &d->grown[i];
		printf("  +%-10lld %s 0x%llx (%lld -> %lld items) %s\n",
		       (long long)(g->new_len - g->old_len), ph_type_name(h, ph_object_type(h, g->id)),
		       (unsigned long long)ph_object_addr(h, g->id), (long long)g->old_len,
		       (long long)g->new_len, ph_object_repr(h, g->id, v, sizeof v));
		if (d->have_chains)
			cmd_chain_print(&d->chains[i], "               ");
	}
}

int cmd_diff(cmd_ctx *ctx)
{
	const char *paths[2] = {ctx->core_path, ctx->file2};
	cmd_dump s[2] = {0};
	an_diff_result *d = NULL;
	char err[8192];
	int rc = EXIT_UNUSABLE;
	for (int i = 0; i < 2; i++)
		if (cmd_open_dump(ctx, paths[i], &s[i]) != 0)
			goto out;
	/* the new side's warnings are the command's (cmd_finish reports them,
	 * and main frees its core and heap after) */
	ctx->core = s[1].core;
	ctx->heap = s[1].heap;
	s[1].core = NULL;
	s[1].heap = NULL;
	if (an_diff(&d, &s[0].dump, &s[1].dump, strcmp(ctx->sort, "count") == 0, err,
		    sizeof err) < 0) {
		if (err[0])
			cmd_error("%s", err);
		cmd_oom();     /* (after a bad snapshot row too, as it always has) */
		goto out;
	}
	if (ctx->json)
		diff_json(ctx, s, d, cmd_rows(ctx, 30));
	else
		diff_print(s, d, cmd_rows(ctx, 30));
	rc = EXIT_OK;
out:
	an_diff_free(d);
	cmd_close_dump(&s[0]);
	cmd_close_dump(&s[1]);
	return rc;
}
