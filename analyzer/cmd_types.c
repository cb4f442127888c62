/* cmd_types.c - `pyheap types`: live objects by type, count and bytes. */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

typedef cmd_trow row;

/* Ties go by name, so the order is the same however the objects were found. */
static int by_name(const void *a, const void *b, void *heap)
{
	const row *x = a, *y = b;
	return strcmp(ph_type_name(heap, x->type), ph_type_name(heap, y->type));
}

static int by_size(const void *a, const void *b, void *heap)
{
	const row *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return by_name(x, y, heap);
}

static int by_count(const void *a, const void *b, void *heap)
{
	const row *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return by_name(x, y, heap);
}

long cmd_type_rows(ph_heap *h, const uint8_t *sel, int by_count_first, cmd_trow **out)
{
	size_t nt = ph_type_count(h);
	row *rows = calloc(nt ? nt : 1, sizeof *rows);
	*out = rows;
	if (!rows)
		return -1;
	for (size_t i = 0; i < nt; i++) {
		rows[i].type = (uint32_t)i;
		if (!sel)
			ph_type_totals(h, (uint32_t)i, &rows[i].count, &rows[i].size);
	}
	for (size_t id = 0; sel && id < ph_object_count(h); id++) {
		if (sel && !sel[id])
			continue;
		row *r = &rows[ph_object_type(h, (ph_id)id)];
		r->count++;
		r->size += ph_object_size(h, (ph_id)id);
	}
	/* Types with the same name (a class defined twice, or one type seen
	 * through two interpreters) are one row, as Python would print them:
	 * sort by name, then fold neighbours. */
	qsort_r(rows, nt, sizeof *rows, by_name, h);
	size_t n = 0;
	for (size_t i = 0; i < nt; i++) {
		if (!rows[i].count)
			continue;
		if (n > 0 && by_name(&rows[n - 1], &rows[i], h) == 0) {
			rows[n - 1].count += rows[i].count;
			rows[n - 1].size += rows[i].size;
		} else {
			rows[n++] = rows[i];
		}
	}
	qsort_r(rows, n, sizeof *rows, by_count_first ? by_count : by_size, h);
	return (long)n;
}

void cmd_json_type_rows(json_w *w, const char *key, ph_heap *h, const cmd_trow *rows, size_t n)
{
	json_key(w, key);
	json_arr(w);
	for (size_t i = 0; i < n; i++) {
		json_obj(w);
		json_kstr(w, "type", ph_type_name(h, rows[i].type));
		json_ku64(w, "count", rows[i].count);
		json_ku64(w, "size", rows[i].size);
		json_obj_end(w);
	}
	json_arr_end(w);
}

int cmd_types(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	row *rows;
	long nr = cmd_type_rows(h, NULL, strcmp(ctx->sort, "count") == 0, &rows);
	if (nr < 0) {
		fprintf(stderr, "pyheap: out of memory\n");
		free(rows);
		return EXIT_UNUSABLE;
	}
	size_t n = (size_t)nr;
	uint64_t total_count = 0, total_size = 0;
	for (size_t i = 0; i < n; i++) {
		total_count += rows[i].count;
		total_size += rows[i].size;
	}

	size_t top = ctx->top < 0 ? (ctx->json ? 0 : 30) : (size_t)ctx->top;
	size_t shown = top == 0 || top > n ? n : top;
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		cmd_json_type_rows(&w, "types", h, rows, shown);
		json_ku64(&w, "total_count", total_count);
		json_ku64(&w, "total_size", total_size);
		json_ku64(&w, "type_count", n);
		json_kstr(&w, "sort", ctx->sort);
		cmd_json_end(ctx, &w);
	} else {
		char c[32], s[32], p[32];
		printf("%14s %14s %10s %6s  %s\n", "count", "bytes", "", "%", "type");
		for (size_t i = 0; i < shown; i++)
			printf("%14s %14s %10s %5.1f%%  %s\n", cmd_num(c, sizeof c, rows[i].count),
			       cmd_num(s, sizeof s, rows[i].size), cmd_bytes(p, sizeof p, rows[i].size),
			       total_size ? 100.0 * (double)rows[i].size / (double)total_size : 0.0,
			       ph_type_name(h, rows[i].type));
		if (shown < n)
			printf("%14s %14s %10s %6s  (%zu more types; --top 0 shows all)\n", "", "", "", "",
			       n - shown);
		printf("%14s %14s %10s %6s  total, %zu types\n", cmd_num(c, sizeof c, total_count),
		       cmd_num(s, sizeof s, total_size), cmd_bytes(p, sizeof p, total_size), "", n);
	}
	free(rows);
	return EXIT_OK;
}
