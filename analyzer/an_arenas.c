/*
 * an_arenas.c - the objects that keep nearly empty pymalloc arenas
 * resident; see analysis.h.
 */
#include "analysis.h"

#include <stdlib.h>

static int by_base(const void *a, const void *b)
{
	const an_pinned_arena *x = a, *y = b;
	return (x->base > y->base) - (x->base < y->base);
}

int an_pinned(an_pinned_result **out, ph_heap *h)
{
	const ph_arena_span *spans;
	size_t np = ph_pinned_arenas(h, &spans);
	uint32_t nobj = ph_object_count(h);
	an_pinned_result *r = calloc(1, sizeof *r);
	*out = NULL;
	if (!r || (np && !(r->arenas = calloc(np, sizeof *r->arenas))))
		goto oom;
	r->n = np;
	for (size_t i = 0; i < np; i++) {
		r->arenas[i].base = spans[i].addr;
		r->arenas[i].end = spans[i].end;
	}
	if (np)                  /* (r->arenas is NULL without any: no qsort) */
		qsort(r->arenas, np, sizeof *r->arenas, by_base);
	/* two passes: count, then fill; each object's arena by binary search */
	for (int pass = 0; pass < 2 && np; pass++) {
		for (uint32_t id = 0; id < nobj; id++) {
			uint64_t a = ph_object_addr(h, id);
			size_t lo = 0, hi = np;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (r->arenas[mid].base <= a)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (!lo || a >= r->arenas[lo - 1].end)
				continue;
			an_pinned_arena *p = &r->arenas[lo - 1];
			if (pass)
				p->ids[p->n++] = id;
			else
				p->n++;
		}
		for (size_t i = 0; !pass && i < np; i++) {
			r->objects += r->arenas[i].n;
			if (!(r->arenas[i].ids = malloc((r->arenas[i].n ? r->arenas[i].n : 1) *
							 sizeof *r->arenas[i].ids)))
				goto oom;
			r->arenas[i].n = 0;
		}
	}
	*out = r;
	return 0;
oom:
	an_pinned_free(r);
	return -1;
}

void an_pinned_free(an_pinned_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->arenas[i].ids);
	free(r->arenas);
	free(r);
}
