/*
 * an_stacks.c - every thread's Python stack, innermost frame first, as
 * py-spy dump and pystack show it; with a graph, each frame's locals with
 * what they keep alive.  See analysis.h.
 */
#include "analysis.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 4096   /* frames listed per thread (a deeper stack is cut) */

struct locals_acc { an_stack_frame *f; size_t cap; ph_heap *h; const uint64_t *retained; int oom; };

static void add_local(const char *name, uint64_t value, void *payload)
{
	struct locals_acc *a = payload;
	an_local *n = an_grow(a->f->locals, a->f->nlocals + 1, &a->cap, sizeof *n, 16);
	if (!n) {
		a->oom = 1;
		return;
	}
	a->f->locals = n;
	an_local *l = &a->f->locals[a->f->nlocals++];
	memset(l, 0, sizeof *l);
	snprintf(l->name, sizeof l->name, "%s", name);
	l->addr = value;
	l->id = ph_object_find(a->h, value);
	if (l->id != RG_NONE) {
		l->size = ph_object_size(a->h, l->id);
		l->retained = a->retained ? a->retained[l->id] : l->size;
	}
}

int an_stacks(an_stacks_result **out, ph_heap *h, const heapgraph *hg)
{
	an_stacks_result *r = calloc(1, sizeof *r);
	uint64_t *retained = NULL;
	rg_id *idom = NULL;
	ph_frame *fr = malloc(MAX_FRAMES * sizeof *fr);
	*out = NULL;
	if (!r || !fr || (hg && an_retained(&retained, &idom, hg) < 0))
		goto oom;
	free(idom);
	r->nthreads = ph_thread_count(h);
	if (!(r->threads = calloc(r->nthreads ? r->nthreads : 1, sizeof *r->threads)))
		goto oom;
	for (size_t t = 0; t < r->nthreads; t++) {
		an_stack *s = &r->threads[t];
		s->thread = ph_thread_at(h, t);
		size_t n = ph_thread_frames(h, t, fr, MAX_FRAMES);
		if (n > MAX_FRAMES)
			n = MAX_FRAMES;
		if (!(s->frames = calloc(n ? n : 1, sizeof *s->frames)))
			goto oom;
		s->nframes = n;
		for (size_t i = 0; i < n; i++) {
			s->frames[i].frame = fr[i];
			if (!hg)
				continue;
			struct locals_acc a = {&s->frames[i], 0, h, retained, 0};
			ph_frame_locals(h, &fr[i], add_local, &a);
			if (a.oom)
				goto oom;
		}
	}
	free(fr);
	free(retained);
	*out = r;
	return 0;
oom:
	free(fr);
	free(retained);
	an_stacks_free(r);
	return -1;
}

void an_stacks_free(an_stacks_result *r)
{
	if (!r)
		return;
	for (size_t t = 0; r->threads && t < r->nthreads; t++) {
		for (size_t i = 0; i < r->threads[t].nframes; i++)
			free(r->threads[t].frames[i].locals);
		free(r->threads[t].frames);
	}
	free(r->threads);
	free(r);
}
