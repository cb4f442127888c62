/*
 * cmd_types.c - `pyheap types`: live objects by type, count and bytes
 * (sys.getsizeof), with the buffers the objects own: "owned_bytes" (list
 * item tables, dict keys and values, set tables, str data, bytearray,
 * array.array and ndarray data, deque blocks) and "total_bytes", the size
 * plus the owned bytes sys.getsizeof leaves out.
 */
#include "cmd.h"

#include <string.h>

int cmd_types(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	an_types_result *t;
	if (an_types(&t, h, NULL, strcmp(ctx->sort, "count") == 0) < 0)
		return cmd_oom();
	size_t n = t->n;
	size_t top = cmd_rows(ctx, 30);
	size_t shown = top == 0 || top > n ? n : top;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_key(&w, "types");
		json_arr(&w);
		for (size_t i = 0; i < shown; i++) {
			const an_type_row *r = &t->rows[i];
			json_obj(&w);
			json_kstr(&w, "type", ph_type_name(h, r->type));
			json_ku64(&w, "count", r->count);
			json_ku64(&w, "size", r->size);
			json_ku64(&w, "owned_bytes", r->owned);
			json_ku64(&w, "total_bytes", r->size + r->extra);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_ku64(&w, "total_count", t->total_count);
		json_ku64(&w, "total_size", t->total_size);
		json_ku64(&w, "total_owned_bytes", t->total_owned);
		json_ku64(&w, "total_bytes", t->total_size + t->total_extra);
		json_ku64(&w, "type_count", n);
		json_kstr(&w, "sort", ctx->sort);
		cmd_json_end(ctx, &w);
	} else {
		char c[32], s[32], p[32], o[32];
		const an_type_row *rows = t->rows;
		printf("%14s %14s %10s %6s %10s  %s\n", "count", "bytes", "", "%", "owned", "type");
		for (size_t i = 0; i < shown; i++)
			printf("%14s %14s %10s %5.1f%% %10s  %s\n", cmd_num(c, sizeof c, rows[i].count),
			       cmd_num(s, sizeof s, rows[i].size), cmd_bytes(p, sizeof p, rows[i].size),
			       t->total_size ? 100.0 * (double)rows[i].size / (double)t->total_size : 0.0,
			       rows[i].owned ? cmd_bytes(o, sizeof o, rows[i].owned) : "",
			       ph_type_name(h, rows[i].type));
		if (shown < n)
			printf("%14s %14s %10s %6s %10s  (%zu more types; --top 0 shows all)\n", "", "", "",
			       "", "", n - shown);
		printf("%14s %14s %10s %6s %10s  total, %zu types\n", cmd_num(c, sizeof c, t->total_count),
		       cmd_num(s, sizeof s, t->total_size), cmd_bytes(p, sizeof p, t->total_size), "",
		       cmd_bytes(o, sizeof o, t->total_owned), n);
		if (t->total_extra)
			printf("\n\"bytes\" is sys.getsizeof; \"owned\" the buffers the objects own apart from "
			       "themselves (item tables,\nkeys, data), most of which getsizeof counts; "
			       "those it leaves out add %s (%s in all).\n",
			       cmd_bytes(s, sizeof s, t->total_extra),
			       cmd_bytes(p, sizeof p, t->total_size + t->total_extra));
	}
	an_types_free(t);
	return EXIT_OK;
}
