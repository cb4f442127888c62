/*
 * cmd_stacks.c - `pyheap stacks`: what every thread was running, innermost
 * frame first (an_stacks); with --locals, each local with its type, size
 * and retained size.
 */
#include "cmd.h"

#include <stdlib.h>

int cmd_stacks(cmd_ctx *ctx)
{
	ph_heap *h = ctx->heap;
	heapgraph *hg = NULL;
	an_stacks_result *r;
	char n1[32], n2[32];
	if (ctx->locals && cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (an_stacks(&r, h, hg) < 0) {
		hg_free(hg);
		return cmd_oom();
	}
	if (ctx->json) {
		json_w w;
		cmd_json_begin(&w);
		json_key(&w, "threads");
		json_arr(&w);
		for (size_t t = 0; t < r->nthreads; t++) {
			const an_stack *s = &r->threads[t];
			json_obj(&w);
			json_ku64(&w, "thread_id", s->thread->thread_id);
			json_ku64(&w, "native_id", s->thread->native_id);
			json_khex(&w, "tstate", s->thread->tstate);
			json_key(&w, "frames");
			json_arr(&w);
			for (size_t i = 0; i < s->nframes; i++) {
				const an_stack_frame *f = &s->frames[i];
				json_obj(&w);
				json_kstr(&w, "function", f->frame.name);
				json_kstr(&w, "file", f->frame.file);
				json_ki64(&w, "line", f->frame.line);
				json_khex(&w, "frame", f->frame.addr);
				json_khex(&w, "code", f->frame.code);
				if (ctx->locals) {
					json_key(&w, "locals");
					json_arr(&w);
					for (size_t k = 0; k < f->nlocals; k++) {
						const an_local *l = &f->locals[k];
						json_obj(&w);
						json_kstr(&w, "name", l->name);
						json_khex(&w, "addr", l->addr);
						json_kstr(&w, "type", l->id == RG_NONE ? "?" :
							  ph_type_name(h, ph_object_type(h, l->id)));
						json_ku64(&w, "size", l->size);
						json_ku64(&w, "retained", l->retained);
						json_obj_end(&w);
					}
					json_arr_end(&w);
				}
				json_obj_end(&w);
			}
			json_arr_end(&w);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		cmd_json_end(ctx, &w);
	} else {
		for (size_t t = 0; t < r->nthreads; t++) {
			const an_stack *s = &r->threads[t];
			printf("%sThread 0x%llx (native %llu)%s\n", t ? "\n" : "",
			       (unsigned long long)s->thread->thread_id,
			       (unsigned long long)s->thread->native_id,
			       s->nframes ? ", innermost first:" : ": no Python frames");
			for (size_t i = 0; i < s->nframes; i++) {
				const an_stack_frame *f = &s->frames[i];
				printf("    %s (%s:%d)\n", f->frame.name, f->frame.file, f->frame.line);
				for (size_t k = 0; ctx->locals && k < f->nlocals; k++) {
					const an_local *l = &f->locals[k];
					printf("        %-20s %-28s %10s %12s retained\n", l->name,
					       l->id == RG_NONE ? "?" : ph_type_name(h, ph_object_type(h, l->id)),
					       cmd_bytes(n1, sizeof n1, l->size),
					       cmd_bytes(n2, sizeof n2, l->retained));
				}
			}
		}
	}
	an_stacks_free(r);
	hg_free(hg);
	return EXIT_OK;
}
