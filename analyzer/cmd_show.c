/* cmd_show.c - `pyheap show CORE ADDR`: one object, its referents and referrers (an_show). */
#include "cmd.h"

static void show_json(cmd_ctx *ctx, const heapgraph *hg, uint64_t addr, const an_show_result *r)
{
	ph_heap *h = hg_heap(hg);
	char t[160], v[200];
	json_w w;
	cmd_json_begin(&w);
	json_khex(&w, "addr", addr);
	json_kstr(&w, "type", hg_node_type(hg, r->id, t, sizeof t));
	json_ku64(&w, "size", ph_object_size(h, r->id));
	json_ki64(&w, "refcount", r->refcount);
	json_kbool(&w, "immortal", r->immortal);
	json_ku64(&w, "found", r->found);
	json_ki64(&w, "external", r->external);
	json_kstr(&w, "value", ph_object_repr(h, r->id, v, sizeof v));
	json_kbool(&w, "gc_tracked", !!(r->flags & PH_OBJ_GC));
	json_kbool(&w, "in_arena", !!(r->flags & PH_OBJ_ARENA));
	json_kstr(&w, "root", r->root_kind ? r->root_kind : "");
	json_key(&w, "referents");
	json_arr(&w);
	for (size_t i = 0; i < r->nreferents; i++) {
		const an_link *l = &r->referents[i];
		json_obj(&w);
		json_kstr(&w, "edge", l->label);
		if (l->node < hg_object_count(hg))
			json_khex(&w, "addr", hg_node_addr(hg, l->node));
		else
			json_kstr(&w, "addr", "");
		json_kstr(&w, "type", hg_node_type(hg, l->node, t, sizeof t));
		json_kbool(&w, "weak", l->flags & RG_WEAK);
		json_kbool(&w, "guessed", l->flags & RG_CONSERVATIVE);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_ku64(&w, "referent_count", r->referent_count);
	json_key(&w, "referrers");
	json_arr(&w);
	for (size_t i = 0; i < r->nreferrers; i++) {
		const an_link *l = &r->referrers[i];
		json_obj(&w);
		json_kstr(&w, "edge", l->label);
		if (l->node < hg_object_count(hg))
			json_khex(&w, "addr", hg_node_addr(hg, l->node));
		else
			json_kstr(&w, "addr", "");
		json_kstr(&w, "type", hg_node_type(hg, l->node, t, sizeof t));
		if (l->node >= hg_object_count(hg))
			json_kstr(&w, "name", ph_node_name(h, l->node, v, sizeof v));
		json_kbool(&w, "weak", l->flags & RG_WEAK);
		json_kbool(&w, "guessed", l->flags & RG_CONSERVATIVE);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_ku64(&w, "referrer_count", r->referrer_count);
	cmd_json_end(ctx, &w);
}

/* " (weak)", " (guessed)": what kind of reference it is, when not plain */
static const char *link_note(const an_link *l, int *guessed)
{
	if (l->flags & RG_CONSERVATIVE) {
		*guessed = 1;
		return " (guessed)";
	}
	return l->flags & RG_WEAK ? " (weak)" : "";
}

static void show_print(const heapgraph *hg, uint64_t addr, const an_show_result *r)
{
	int guessed = 0;
	ph_heap *h = hg_heap(hg);
	char t[160], v[200];
	printf("0x%llx %s\n", (unsigned long long)addr, hg_node_type(hg, r->id, t, sizeof t));
	printf("  value:     %s\n", ph_object_repr(h, r->id, v, sizeof v));
	printf("  size:      %llu bytes\n", (unsigned long long)ph_object_size(h, r->id));
	if (r->immortal)
		printf("  refcount:  immortal\n");
	else
		printf("  refcount:  %lld (%u found in the heap, %lld from outside)\n",
		       (long long)r->refcount, r->found, (long long)r->external);
	printf("  found in:  %s%s%s\n", r->flags & PH_OBJ_ARENA ? "a pymalloc block " : "",
	       r->flags & PH_OBJ_GC ? "the GC lists " : "",
	       r->flags & PH_OBJ_REF ? "a reference only" : "");
	if (r->root_kind)
		printf("  root:      %s\n", r->root_kind);
	printf("\nreferents (%llu):\n", (unsigned long long)r->referent_count);
	for (size_t i = 0; i < r->nreferents; i++) {
		const an_link *l = &r->referents[i];
		printf("  %-28s -> %s 0x%llx %s%s\n", l->label, hg_node_type(hg, l->node, t, sizeof t),
		       (unsigned long long)hg_node_addr(hg, l->node),
		       ph_object_repr(h, l->node, v, sizeof v), link_note(l, &guessed));
	}
	printf("\nreferrers (%llu):\n", (unsigned long long)r->referrer_count);
	for (size_t i = 0; i < r->nreferrers; i++) {
		const an_link *l = &r->referrers[i];
		if (l->node < hg_object_count(hg))
			printf("  %s 0x%llx %s%s\n", hg_node_type(hg, l->node, t, sizeof t),
			       (unsigned long long)hg_node_addr(hg, l->node), l->label,
			       link_note(l, &guessed));
		else
			printf("  %s %s%s\n", ph_node_name(h, l->node, v, sizeof v), l->label,
			       link_note(l, &guessed));
	}
	if (guessed)
		printf("\n(guessed: a word of an object whose layout is not known, such as a C\n"
		       " extension's or a mypyc class's, that points at a live object)\n");
}

int cmd_show(cmd_ctx *ctx)
{
	heapgraph *hg;
	an_show_result *r;
	uint64_t addr = 0;
	cmd_parse_addr(ctx->addr, &addr);
	uint32_t id = ph_object_find(ctx->heap, addr);
	if (id == PH_NONE) {
		cmd_error("%s: no live object at %s", ctx->core_path, ctx->addr);
		return EXIT_UNUSABLE;
	}
	if (cmd_build_graph(&hg, ctx) < 0)
		return EXIT_UNUSABLE;
	if (an_show(&r, hg, id) < 0) {
		hg_free(hg);
		return cmd_oom();
	}
	if (ctx->json)
		show_json(ctx, hg, addr, r);
	else
		show_print(hg, addr, r);
	an_show_free(r);
	hg_free(hg);
	return EXIT_OK;
}
