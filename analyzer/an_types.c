/* an_types.c - live objects by type name; see analysis.h. */
#include "analysis.h"

#include <stdlib.h>
#include <string.h>

/* Ties go by name, so the order is the same however the objects were found. */
static int by_name(const void *a, const void *b, void *heap)
{
	const an_type_row *x = a, *y = b;
	return strcmp(ph_type_name(heap, x->type), ph_type_name(heap, y->type));
}

static int by_size(const void *a, const void *b, void *heap)
{
	const an_type_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return by_name(x, y, heap);
}

static int by_count(const void *a, const void *b, void *heap)
{
	const an_type_row *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return by_name(x, y, heap);
}

int an_types(an_types_result **out, ph_heap *h, const uint8_t *sel, int by_count_first)
{
	size_t nt = ph_type_count(h);
	an_types_result *r = calloc(1, sizeof *r);
	an_type_row *rows = calloc(nt ? nt : 1, sizeof *rows);
	*out = NULL;
	if (!r || !rows) {
		free(r);
		free(rows);
		return -1;
	}
	for (size_t i = 0; i < nt; i++) {
		rows[i].type = (uint32_t)i;
		if (!sel) {
			ph_type_totals(h, (uint32_t)i, &rows[i].count, &rows[i].size);
			ph_type_buffers(h, (uint32_t)i, &rows[i].owned, &rows[i].extra);
		}
	}
	for (size_t id = 0; sel && id < ph_object_count(h); id++) {
		if (!sel[id])
			continue;
		an_type_row *t = &rows[ph_object_type(h, (ph_id)id)];
		t->count++;
		t->size += ph_object_size(h, (ph_id)id);
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
			rows[n - 1].owned += rows[i].owned;
			rows[n - 1].extra += rows[i].extra;
		} else {
			rows[n++] = rows[i];
		}
	}
	qsort_r(rows, n, sizeof *rows, by_count_first ? by_count : by_size, h);
	for (size_t i = 0; i < n; i++) {
		r->total_count += rows[i].count;
		r->total_size += rows[i].size;
		r->total_owned += rows[i].owned;
		r->total_extra += rows[i].extra;
	}
	r->rows = rows;
	r->n = n;
	*out = r;
	return 0;
}

void an_types_free(an_types_result *r)
{
	if (!r)
		return;
	free(r->rows);
	free(r);
}
