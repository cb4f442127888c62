/* cmd_types.c - `pyheap types`: live objects by type, count and bytes. */
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
		cmd_json_type_rows(&w, "types", h, t->rows, shown);
		json_ku64(&w, "total_count", t->total_count);
		json_ku64(&w, "total_size", t->total_size);
		json_ku64(&w, "type_count", n);
		json_kstr(&w, "sort", ctx->sort);
		cmd_json_end(ctx, &w);
	} else {
		char c[32], s[32], p[32];
		const an_type_row *rows = t->rows;
		printf("%14s %14s %10s %6s  %s\n", "count", "bytes", "", "%", "type");
		for (size_t i = 0; i < shown; i++)
			printf("%14s %14s %10s %5.1f%%  %s\n", cmd_num(c, sizeof c, rows[i].count),
			       cmd_num(s, sizeof s, rows[i].size), cmd_bytes(p, sizeof p, rows[i].size),
			       t->total_size ? 100.0 * (double)rows[i].size / (double)t->total_size : 0.0,
			       ph_type_name(h, rows[i].type));
		if (shown < n)
			printf("%14s %14s %10s %6s  (%zu more types; --top 0 shows all)\n", "", "", "", "",
			       n - shown);
		printf("%14s %14s %10s %6s  total, %zu types\n", cmd_num(c, sizeof c, t->total_count),
		       cmd_num(s, sizeof s, t->total_size), cmd_bytes(p, sizeof p, t->total_size), "", n);
	}
	an_types_free(t);
	return EXIT_OK;
}
