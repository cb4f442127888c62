/*
 * refs.c - the references each object holds, with the labels a person
 * reads them by, and the roots they start from.
 *
 * One walker serves two purposes: during the scan it finds objects outside
 * the arenas (labels ignored), and afterwards it gives the reference graph
 * its edges.  It mirrors what each type's tp_traverse visits, plus what
 * tp_traverse leaves out but really is a strong reference (the keys of
 * str-keyed dicts, the fields of code objects, the dicts of static types).
 * Weak references are edges too, flagged PH_EF_WEAK: they are drawn, but
 * never retain and never count towards a refcount.
 *
 * Objects of types pyheap cannot decode (C extensions) are scanned
 * conservatively: every aligned word of their fixed part that points at a
 * known object becomes an edge flagged PH_EF_CONSERVATIVE.
 */
#include "phInt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS (1ull << 31)
#define MAX_SLOTS 1024
#define MAX_FRAMES 100000       /* frames in one thread's chain */
#define CONSERVATIVE_MAX 4096   /* bytes of an unknown object scanned */

/* Field names, indexed by PH_E_FIELD labels. */
enum {
	F_CLASS, F_DICT, F_BASES, F_BASE, F_MRO, F_NAME, F_QUALNAME, F_SLOTS, F_MODULE_OBJ,
	F_SUBCLASSES, F_CACHED_KEY, F_CODE, F_GLOBALS, F_DEFAULTS, F_KWDEFAULTS,
	F_CLOSURE, F_MODULE, F_CELL, F_FUNC, F_SELF, F_FGET, F_FSET, F_FDEL, F_DOC,
	F_CO_CONSTS, F_CO_NAMES, F_CO_VARNAMES, F_CO_FREEVARS, F_CO_CELLVARS, F_CO_CODE,
	F_CO_FILENAME, F_CO_NAME, F_CO_QUALNAME, F_CO_LINETABLE, F_CO_EXCTABLE,
	F_CO_LPNAMES, F_CO_LPKINDS, F_F_BACK, F_F_CODE, F_F_BUILTINS, F_F_GLOBALS,
	F_F_LOCALS, F_F_TRACE, F_FRAME_OBJ, F_FUNCOBJ, F_GI_FRAME, F_GI_CODE,
	F_TB_NEXT, F_TB_FRAME, F_ARGS, F_NOTES, F_TRACEBACK, F_CONTEXT, F_CAUSE,
	F_WR_OBJECT, F_WR_CALLBACK, F_MAPPING, F_OBJCLASS, F_KEYWORDS, F_WRAPPED,
	F_CACHE, F_KWD_MARK, F_DEFAULT_FACTORY, F_LRU_KEY, F_LRU_RESULT, F_LRU_NEXT,
	F_LRU_PREV, F_SYS, F_BUILTINS, F_SYS_MODULES, F_INTERNED, F_ANNOTATIONS,
	F_TYPEPARAMS, F_CACHE_INFO_TYPE, F_ELEM_TYPE, F_NFIELDS
};

static const char *const field_names[F_NFIELDS] = {
	[F_CLASS] = "__class__", [F_DICT] = "__dict__", [F_BASES] = "__bases__",
	[F_BASE] = "__base__", [F_MRO] = "__mro__", [F_NAME] = "__name__",
	[F_QUALNAME] = "__qualname__", [F_SLOTS] = "__slots__",
	[F_MODULE_OBJ] = "<module object>", [F_SUBCLASSES] = "__subclasses__",
	[F_CACHED_KEY] = "<cached key>", [F_CODE] = "__code__",
	[F_GLOBALS] = "__globals__", [F_DEFAULTS] = "__defaults__",
	[F_KWDEFAULTS] = "__kwdefaults__", [F_CLOSURE] = "__closure__",
	[F_MODULE] = "__module__", [F_CELL] = "cell_contents", [F_FUNC] = "__func__",
	[F_SELF] = "__self__", [F_FGET] = "fget", [F_FSET] = "fset", [F_FDEL] = "fdel",
	[F_DOC] = "__doc__", [F_CO_CONSTS] = "co_consts", [F_CO_NAMES] = "co_names",
	[F_CO_VARNAMES] = "co_varnames", [F_CO_FREEVARS] = "co_freevars",
	[F_CO_CELLVARS] = "co_cellvars", [F_CO_CODE] = "co_code",
	[F_CO_FILENAME] = "co_filename", [F_CO_NAME] = "co_name",
	[F_CO_QUALNAME] = "co_qualname", [F_CO_LINETABLE] = "co_linetable",
	[F_CO_EXCTABLE] = "co_exceptiontable", [F_CO_LPNAMES] = "co_localsplusnames",
	[F_CO_LPKINDS] = "co_localspluskinds", [F_F_BACK] = "f_back",
	[F_F_CODE] = "f_code", [F_F_BUILTINS] = "f_builtins", [F_F_GLOBALS] = "f_globals",
	[F_F_LOCALS] = "f_locals", [F_F_TRACE] = "f_trace", [F_FRAME_OBJ] = "<frame object>",
	[F_FUNCOBJ] = "<function>", [F_GI_FRAME] = "gi_frame", [F_GI_CODE] = "gi_code",
	[F_TB_NEXT] = "tb_next", [F_TB_FRAME] = "tb_frame", [F_ARGS] = "args",
	[F_NOTES] = "__notes__", [F_TRACEBACK] = "__traceback__",
	[F_CONTEXT] = "__context__", [F_CAUSE] = "__cause__",
	[F_WR_OBJECT] = "<weak referent>", [F_WR_CALLBACK] = "__callback__",
	[F_MAPPING] = "<mapping>", [F_OBJCLASS] = "__objclass__",
	[F_KEYWORDS] = "keywords", [F_WRAPPED] = "__wrapped__", [F_CACHE] = "<cache>",
	[F_KWD_MARK] = "<kwd_mark>", [F_DEFAULT_FACTORY] = "default_factory",
	[F_LRU_KEY] = "<key>", [F_LRU_RESULT] = "<result>", [F_LRU_NEXT] = "<next>",
	[F_LRU_PREV] = "<prev>", [F_SYS] = "sys.__dict__", [F_BUILTINS] = "builtins",
	[F_SYS_MODULES] = "sys.modules", [F_INTERNED] = "<interned strings>",
	[F_ANNOTATIONS] = "__annotations__", [F_TYPEPARAMS] = "__type_params__",
	[F_CACHE_INFO_TYPE] = "<cache_info_type>", [F_ELEM_TYPE] = "<lru_list_elem_type>",
};

const char *ph_field_name(uint32_t f)
{
	return f < F_NFIELDS && field_names[f] ? field_names[f] : "?";
}

typedef struct walk {
	ph_lref_fn fn;
	void *payload;
	size_t n;
} walk;

static void emit(ph_heap *h, walk *w, uint64_t target, uint8_t kind, uint8_t flags, uint32_t label)
{
	if (!target)
		return;
	w->fn(h, target, kind, flags, label, w->payload);
	w->n++;
}

/* A pointer field at base+off, named by field f. */
static void field(ph_heap *h, walk *w, uint64_t base, int64_t off, int f)
{
	uint64_t v;
	if (rdf(h, base, off, &v) && v)
		emit(h, w, v, PH_E_FIELD, 0, (uint32_t)f);
}

static void array(ph_heap *h, walk *w, uint64_t arr, uint64_t n, uint8_t kind, uint32_t first)
{
	uint64_t buf[128];
	if (n > MAX_ITEMS)
		return;
	for (uint64_t i = 0; i < n;) {
		uint64_t c = n - i > 128 ? 128 : n - i;
		size_t got = core_read(h->core, arr + i * 8, buf, (size_t)c * 8) / 8;
		for (size_t j = 0; j < got; j++)
			emit(h, w, buf[j], kind, 0, (uint32_t)(first + i + j));
		if (got < c) {
			ph_warn(h, W_UNREADABLE, "item array unreadable at 0x%llx",
				(unsigned long long)(arr + (i + got) * 8));
			return;
		}
		i += c;
	}
}

/* ---- dicts ---- */

struct dict_walk { walk *w; bool keys, values; uint8_t flags; };

static bool dict_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct dict_walk *d = payload;
	if (d->keys)
		emit(h, d->w, k, PH_E_DICT_KEY, d->flags, PH_NOLABEL);
	if (d->values)
		emit(h, d->w, v, PH_E_DICT_VALUE, d->flags, ph_id_of(h, k));
	return true;
}

static void walk_dict(ph_heap *h, walk *w, uint64_t dict)
{
	/* a split table's keys are held once, by the shared keys object of
	 * the type (ht_cached_keys); the dict holds only the values.  The
	 * interned-strings dict holds its strings without counting them (their
	 * refcount leaves those two references out) and without keeping them
	 * alive: weak edges. */
	bool split = ph_dict_split(h, dict), values = true;
	if (split && h->minor >= 13) {
		/* 3.13: values embedded in an object belong to the object */
		uint64_t mv = 0;
		uint8_t embedded = 0;
		if (rdf(h, dict, h->off.dict_ma_values, &mv) &&
		    core_read(h->core, mv + 2, &embedded, 1) == 1 && embedded)
			values = false;
	}
	if (!values)
		return;
	struct dict_walk d = {w, !split, values, dict == h->interned ? PH_EF_WEAK : 0};
	ph_dict_foreach(h, dict, dict_cb, &d);
}

static bool cached_key_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	(void)v;
	emit(h, payload, k, PH_E_FIELD, 0, F_CACHED_KEY);
	return true;
}

/* ---- instances ---- */

/*
 * What every instance of a type holds besides its family's fields, worked
 * out once per type rather than once per instance (millions of instances
 * share a handful of classes): where its __dict__ is, its __slots__ along
 * the tp_base chain, and on 3.11+ the type's shared keys, in entry order,
 * that name the values of its instances' values arrays.  The type's memory
 * does not change in a core, so neither does the plan.
 */
struct ph_slot { uint64_t off; uint32_t label; };

struct ph_iplan {
	bool managed;            /* 3.11+ managed dict (and values) */
	int64_t dictoffset;      /* else: the __dict__ slot to walk, 0 for none */
	struct ph_slot *slots;
	uint32_t nslots;
	bool keys_done, ids_done;
	uint64_t *keys;          /* the shared keys' names, in entry order */
	uint32_t *key_ids;       /* their ids, once the scan has numbered all */
	uint32_t nkeys;
};

void ph_plans_free(ph_heap *h)
{
	for (size_t i = 0; i < h->ntypes; i++) {
		struct ph_iplan *p = h->types[i].plan;
		if (p) {
			free(p->slots);
			free(p->keys);
			free(p->key_ids);
			free(p);
			h->types[i].plan = NULL;
		}
	}
}

/* tp_dictoffset of the nearest static type on the tp_base chain. */
static int64_t static_base_dictoffset(ph_heap *h, uint64_t ty)
{
	for (int d = 0; ty && d < 64; d++) {
		uint32_t ti = ph_type_lookup(h, ty);
		if (ti == TYPE_INVALID)
			return 0;
		if (!(h->types[ti].flags & TPF_HEAPTYPE))
			return h->types[ti].dictoffset;
		if (!rdf(h, ty, h->off.tp_base, &ty))
			return 0;
	}
	return 0;
}

/* The dict slot a built-in family already walks: that of the type that
 * gave the family (a type's tp_dict, a function's func_dict...). */
static int64_t family_dictoffset(ph_heap *h, uint64_t addr, enum ph_kind kind, uint64_t kind_base)
{
	if (kind != K_OTHER && kind_base) {
		uint32_t ti = ph_type_lookup(h, kind_base);
		return ti == TYPE_INVALID ? 0 : h->types[ti].dictoffset;
	}
	return static_base_dictoffset(h, addr);
}

static bool plan_slot(struct ph_iplan *p, uint64_t off, uint32_t label)
{
	if (p->nslots % 16 == 0) {
		struct ph_slot *n = realloc(p->slots, (p->nslots + 16) * sizeof *n);
		if (!n)
			return false;
		p->slots = n;
	}
	p->slots[p->nslots++] = (struct ph_slot){off, label};
	return true;
}

/* Builds the plan of type ti.  Looking up the base types may add types
 * and move h->types, so this works on copies and stores the plan last. */
static struct ph_iplan *plan_of(ph_heap *h, uint32_t ti)
{
	if (h->types[ti].plan)
		return h->types[ti].plan;
	const ph_type t = h->types[ti];
	struct ph_iplan *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->managed = h->minor >= 11 && (t.flags & TPF_MANAGED_DICT);
	if (!p->managed && t.dictoffset != 0 &&
	    t.dictoffset != family_dictoffset(h, t.addr, t.kind, t.kind_base))
		p->dictoffset = t.dictoffset;
	/* __slots__: each heap type on the tp_base chain lists its own, up to
	 * the built-in type that gave the family (a C heap type's members are
	 * its own fields, walked by the family) */
	uint64_t ty = t.addr;
	for (uint32_t d = 0; ty && d < 64; d++) {
		uint32_t bi = ph_type_lookup(h, ty);
		if (bi == TYPE_INVALID || !(h->types[bi].flags & TPF_HEAPTYPE) ||
		    (t.kind != K_OTHER && ty == t.kind_base))
			break;
		uint64_t m = h->types[bi].members;
		for (uint32_t i = 0; m && i < MAX_SLOTS; i++, m += 40) {
			uint64_t ent[3];
			if (core_read(h->core, m, ent, sizeof ent) != sizeof ent || !ent[0])
				break;
			uint32_t mtype = (uint32_t)ent[1];
			if ((mtype == 16 || mtype == 6) && ent[2] < (1u << 20))
				plan_slot(p, ent[2], d << 16 | i);
		}
		if (!rdf(h, ty, h->off.tp_base, &ty))
			break;
	}
	h->types[ti].plan = p;
	return p;
}

struct keys_collect { struct ph_iplan *p; uint64_t cap; };

static bool collect_key_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct keys_collect *c = payload;
	(void)h; (void)v;
	if (c->p->nkeys >= c->cap)
		return false;
	c->p->keys[c->p->nkeys++] = k;
	return true;
}

/* The shared keys of type ti (ht_cached_keys), read once. */
static struct ph_iplan *plan_keys(ph_heap *h, uint32_t ti)
{
	struct ph_iplan *p = plan_of(h, ti);
	if (!p || p->keys_done)
		return p;
	p->keys_done = true;
	uint64_t ck = 0;
	if (!rdf(h, h->types[ti].addr, h->off.ht_cached_keys, &ck) || !ck)
		return p;
	uint64_t n = ph_keys_nentries(h, ck);
	if (n == 0 || n > MAX_SLOTS * 64 || !(p->keys = malloc(n * sizeof *p->keys)))
		return p;
	struct keys_collect c = {p, n};
	ph_keys_foreach(h, ck, collect_key_cb, &c);
	return p;
}

/* Attribute values kept beside the type's shared keys (3.11/3.12 values
 * arrays, 3.13 inline values): labelled with the attribute's name.  During
 * the scan nothing reads labels, and not every name has an id yet. */
static void walk_values(ph_heap *h, walk *w, uint32_t ti, uint64_t values, uint64_t cap)
{
	struct ph_iplan *p = plan_keys(h, ti);
	if (!p || !p->nkeys)
		return;
	if (h->scanned && !p->ids_done) {
		p->ids_done = true;
		if ((p->key_ids = malloc(p->nkeys * sizeof *p->key_ids)))
			for (uint32_t i = 0; i < p->nkeys; i++)
				p->key_ids[i] = ph_id_of(h, p->keys[i]);
	}
	uint64_t n = p->nkeys;
	if (cap && n > cap)
		n = cap;
	uint64_t buf[64];
	for (uint64_t i = 0; i < n;) {
		uint64_t c = n - i > 64 ? 64 : n - i;
		size_t got = core_read(h->core, values + 8 * i, buf, (size_t)c * 8) / 8;
		for (size_t j = 0; j < got; j++)
			if (buf[j])
				emit(h, w, buf[j], PH_E_ATTR, 0,
				     p->key_ids ? p->key_ids[i + j] : PH_NOLABEL);
		if (got < c)
			return;
		i += c;
	}
}

static void walk_instance(ph_heap *h, walk *w, uint64_t addr, uint32_t ti)
{
	struct ph_iplan *p = plan_of(h, ti);
	if (!p)
		return;
	const ph_type *t = &h->types[ti];
	uint64_t v = 0, tflags = t->flags, taddr = t->addr;
	int64_t basicsize = t->basicsize, itemsize = t->itemsize;
	if (p->managed) {
		uint64_t dict = 0;
		rd64(h, addr - 24, &dict);
		if (h->minor == 12 && (dict & 1)) {
			walk_values(h, w, ti, dict + 1, 0);
			dict = 0;
		} else if (h->minor == 11 && !dict) {
			uint64_t values = 0;
			if (rd64(h, addr - 32, &values) && values)
				walk_values(h, w, ti, values, 0);
		} else if (h->minor >= 13 && (tflags & TPF_INLINE_VALUES)) {
			/* the object owns its inline values, even once a dict has
			 * been made that shares them (the dict skips them) */
			uint8_t hdr[4];
			if (core_read(h->core, addr + 16, hdr, 4) == 4 && hdr[3])
				walk_values(h, w, ti, addr + 24, hdr[0]);
		}
		if (dict)
			emit(h, w, dict, PH_E_FIELD, 0, F_DICT);
	} else if (p->dictoffset) {
		/* (a dict slot inherited from a built-in base, such as a type's
		 * tp_dict or a function's func_dict, is its family's to walk) */
		int64_t off = p->dictoffset;
		if (off < 0) {
			uint64_t sz = 0;
			rd64(h, addr + 16, &sz);
			if ((int64_t)sz < 0)
				sz = 0 - sz;
			off = sz < MAX_ITEMS ? off + (int64_t)(((uint64_t)basicsize +
				sz * (uint64_t)itemsize + 7) & ~7ull) : 0;
		}
		if (off > 0 && rd64(h, addr + (uint64_t)off, &v) && v)
			emit(h, w, v, PH_E_FIELD, 0, F_DICT);
	}
	for (uint32_t i = 0; i < p->nslots; i++)
		if (rd64(h, addr + p->slots[i].off, &v) && v)
			emit(h, w, v, PH_E_SLOT, 0, p->slots[i].label);
	emit(h, w, taddr, PH_E_FIELD, 0, F_CLASS);
}

/* ---- code and frames ---- */

static void walk_code(ph_heap *h, walk *w, uint64_t co)
{
	const struct { int64_t off; int f; } f[] = {
		{h->off.co_consts, F_CO_CONSTS}, {h->off.co_names, F_CO_NAMES},
		{h->off.co_varnames, F_CO_VARNAMES}, {h->off.co_freevars, F_CO_FREEVARS},
		{h->off.co_cellvars, F_CO_CELLVARS}, {h->off.co_code, F_CO_CODE},
		{h->off.co_filename, F_CO_FILENAME}, {h->off.co_name, F_CO_NAME},
		{h->off.co_qualname, F_CO_QUALNAME}, {h->off.co_linetable, F_CO_LINETABLE},
		{h->off.co_exceptiontable, F_CO_EXCTABLE},
		{h->off.co_localsplusnames, F_CO_LPNAMES},
		{h->off.co_localspluskinds, F_CO_LPKINDS},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		field(h, w, co, f[i].off, f[i].f);
}

/* The names of a code object's fast locals, in localsplus order: one tuple
 * on 3.11+, three before.  Returns how many names; ids into names[]. */
static size_t local_names(ph_heap *h, uint64_t co, uint64_t *names, size_t cap)
{
	size_t n = 0;
	const int64_t tuples[] = {h->off.co_localsplusnames, h->off.co_varnames,
				  h->off.co_cellvars, h->off.co_freevars};
	for (size_t t = 0; t < 4; t++) {
		uint64_t tup = 0, len = 0;
		if (!rdf(h, co, tuples[t], &tup) || !tup || !rd64(h, tup + 16, &len))
			continue;
		for (uint64_t i = 0; i < len && n < cap; i++)
			if (!rd64(h, tup + (uint64_t)h->off.tuple_ob_item + 8 * i, &names[n++]))
				names[n - 1] = 0;
		if (t == 0)
			break;               /* 3.11+: the one tuple has them all */
	}
	return n;
}

static void walk_locals(ph_heap *h, walk *w, uint64_t co, uint64_t slots, uint64_t nslots,
			uint64_t stack, uint64_t nstack)
{
	uint64_t names[512];
	size_t nn = co ? local_names(h, co, names, 512) : 0;
	if (nslots > MAX_SLOTS * 64)
		nslots = 0;
	for (uint64_t i = 0; i < nslots; i++) {
		uint64_t v;
		if (rd64(h, slots + 8 * i, &v) && v)
			emit(h, w, v, PH_E_LOCAL, 0, i < nn ? ph_id_of(h, names[i]) : PH_NOLABEL);
	}
	if (nstack <= 4096)
		array(h, w, stack, nstack, PH_E_STACK, 0);
}

/* A 3.11+ interpreter frame: code, function, locals, stack.  f_globals and
 * f_builtins are borrowed from the function and not counted. */
static void walk_iframe(ph_heap *h, walk *w, uint64_t f)
{
	uint64_t co = 0, nlp = 0;
	uint32_t top = 0;
	field(h, w, f, h->off.iframe_code, F_F_CODE);
	field(h, w, f, h->off.iframe_func, F_FUNCOBJ);
	field(h, w, f, h->off.iframe_locals, F_F_LOCALS);
	field(h, w, f, h->off.iframe_frame_obj, F_FRAME_OBJ);
	if (!rdf(h, f, h->off.iframe_code, &co) || !co)
		return;
	uint64_t tp = 0;
	if (!rd64(h, co + 8, &tp) || tp != h->kind_types[K_CODE])
		return;                  /* 3.13: None for C-stack entry frames */
	int32_t n32 = 0;
	if (!rd32(h, co + (uint64_t)h->off.co_nlocalsplus, (uint32_t *)&n32) || n32 < 0)
		return;
	nlp = (uint64_t)n32;
	rd32(h, f + (uint64_t)h->off.iframe_stacktop, &top);
	uint64_t lp = f + (uint64_t)h->off.iframe_localsplus;
	/* the executing frame keeps its stack pointer in a register: stacktop
	 * may be -1 or stale, so trust only the locals then */
	uint64_t nstack = (int32_t)top > (int32_t)nlp && top < nlp + 4096 ? top - nlp : 0;
	walk_locals(h, w, co, lp, nlp, lp + 8 * nlp, nstack);
}

static void walk_frame(ph_heap *h, walk *w, uint64_t fr, const ph_type *t)
{
	field(h, w, fr, h->off.frame_back, F_F_BACK);
	field(h, w, fr, h->off.frame_trace, F_F_TRACE);
	if (h->minor >= 11) {
		/* only the frame's own data; a live frame belongs to its thread or
		 * generator, which walk it */
		uint64_t iframe = 0;
		if (rdf(h, fr, h->off.frame_frame, &iframe) &&
		    iframe == fr + (uint64_t)h->off.frame_data)
			walk_iframe(h, w, iframe);
		return;
	}
	field(h, w, fr, h->off.frame_code, F_F_CODE);
	field(h, w, fr, h->off.frame_builtins, F_F_BUILTINS);
	field(h, w, fr, h->off.frame_globals, F_F_GLOBALS);
	field(h, w, fr, h->off.frame_locals, F_F_LOCALS);
	uint64_t co = 0, nlocals = 0, vs = 0, top = 0;
	rdf(h, fr, h->off.frame_code, &co);
	/* localsplus = nlocals + cells + frees; the value stack follows */
	uint64_t names[512];
	size_t nn = co ? local_names(h, co, names, 512) : 0;
	uint32_t nl32 = 0;
	if (co && rd32(h, co + (uint64_t)h->off.co_nlocals, &nl32))
		nlocals = nl32;
	uint64_t nslots = nn > nlocals ? nn : nlocals;
	uint64_t nstack = 0;
	rdf(h, fr, h->off.frame_valuestack, &vs);
	if (h->off.frame_stacktop >= 0 && rdf(h, fr, h->off.frame_stacktop, &top) && top > vs)
		nstack = (top - vs) / 8;
	else if (h->off.frame_stackdepth >= 0) {
		uint32_t d = 0;
		if (rd32(h, fr + (uint64_t)h->off.frame_stackdepth, &d))
			nstack = d;
	}
	(void)t;
	walk_locals(h, w, co, fr + (uint64_t)h->off.frame_localsplus, nslots, vs, vs ? nstack : 0);
}

static void walk_gen(ph_heap *h, walk *w, uint64_t g)
{
	field(h, w, g, h->off.gen_name, F_NAME);
	field(h, w, g, h->off.gen_qualname, F_QUALNAME);
	field(h, w, g, h->off.gen_code, F_GI_CODE);
	if (h->minor <= 10) {
		field(h, w, g, h->off.gen_frame, F_GI_FRAME);
		return;
	}
	int8_t state = 1;
	if (core_read(h->core, g + (uint64_t)h->off.gen_frame_state, &state, 1) == 1 && state < 1)
		walk_iframe(h, w, g + (uint64_t)h->off.gen_iframe);
}

/* ---- the rest ---- */

static void walk_deque(ph_heap *h, walk *w, uint64_t dq)
{
	uint64_t n = 0, block = 0, idx = 0;
	if (!rd64(h, dq + 16, &n) || n > MAX_ITEMS || !rdf(h, dq, h->off.deque_leftblock, &block) ||
	    !rdf(h, dq, h->off.deque_leftindex, &idx) || idx >= 64)
		return;
	for (uint64_t i = 0; i < n && block; i++) {
		uint64_t v;
		if (rd64(h, block + (uint64_t)h->off.block_data + 8 * idx, &v) && v)
			emit(h, w, v, PH_E_INDEX, 0, (uint32_t)i);
		if (++idx == 64) {
			idx = 0;
			if (!rd64(h, block + (uint64_t)h->off.block_rightlink, &block))
				break;
		}
	}
}

static void walk_conservative(ph_heap *h, walk *w, uint64_t addr, uint64_t size)
{
	uint64_t buf[CONSERVATIVE_MAX / 8];
	if (size <= 16)
		return;
	if (size > CONSERVATIVE_MAX)
		size = CONSERVATIVE_MAX;
	size_t got = core_read(h->core, addr + 16, buf, (size_t)(size - 16)) / 8;
	for (size_t i = 0; i < got; i++)
		if (buf[i] && !(buf[i] & 7))
			emit(h, w, buf[i], PH_E_CONSERVATIVE, PH_EF_CONSERVATIVE, (uint32_t)(16 + 8 * i));
}

size_t ph_object_edges_raw(ph_heap *h, uint64_t addr, uint32_t ti, ph_lref_fn fn, void *payload)
{
	/* (walkers that look types up may move h->types: t is not used after) */
	const ph_type *t = &h->types[ti];
	uint64_t tflags = t->flags;
	walk w = {fn, payload, 0};
	uint64_t v = 0, p = 0;
	switch (t->kind) {
	case K_TUPLE:
		if (rd64(h, addr + 16, &v))
			array(h, &w, addr + (uint64_t)h->off.tuple_ob_item, v, PH_E_INDEX, 0);
		break;
	case K_LIST:
		if (rd64(h, addr + 16, &v) && rdf(h, addr, h->off.list_ob_item, &p) && p)
			array(h, &w, p, v, PH_E_INDEX, 0);
		break;
	case K_DICT:
		walk_dict(h, &w, addr);
		break;
	case K_DEFDICT:
		walk_dict(h, &w, addr);
		field(h, &w, addr, h->off.defdict_factory, F_DEFAULT_FACTORY);
		break;
	case K_ODICT:
		walk_dict(h, &w, addr);
		field(h, &w, addr, h->off.odict_inst_dict, F_DICT);
		break;
	case K_SET:
	case K_FROZENSET: {
		uint64_t table = 0, mask = 0, buf[2 * 64];
		if (!rdf(h, addr, h->off.set_table, &table) || !rdf(h, addr, h->off.set_mask, &mask) ||
		    mask >= MAX_ITEMS)
			break;
		for (uint64_t i = 0; i <= mask;) {
			uint64_t c = mask + 1 - i > 64 ? 64 : mask + 1 - i;
			if (core_read(h->core, table + i * 16, buf, (size_t)c * 16) != c * 16)
				break;
			for (uint64_t j = 0; j < c; j++)
				if (buf[2 * j] != h->set_dummy)
					emit(h, &w, buf[2 * j], PH_E_SET_ITEM, 0, PH_NOLABEL);
			i += c;
		}
		break;
	}
	case K_TYPE: {
		uint64_t f = 0, ck = 0;
		rdf(h, addr, h->off.tp_flags, &f);
		field(h, &w, addr, h->off.tp_dict, F_DICT);
		field(h, &w, addr, h->off.tp_bases, F_BASES);
		field(h, &w, addr, h->off.tp_mro, F_MRO);
		/* a static type does not own a reference to its base */
		if (rdf(h, addr, h->off.tp_base, &v) && v)
			emit(h, &w, v, PH_E_FIELD, (f & TPF_HEAPTYPE) ? 0 : PH_EF_WEAK, F_BASE);
		if (f & TPF_HEAPTYPE) {
			field(h, &w, addr, h->off.ht_name, F_NAME);
			field(h, &w, addr, h->off.ht_qualname, F_QUALNAME);
			field(h, &w, addr, h->off.ht_slots, F_SLOTS);
			field(h, &w, addr, h->off.ht_module, F_MODULE_OBJ);
			/* 3.8-3.11 keep weakrefs to subclasses in a dict; 3.12+ heap
			 * types too (static builtin types keep an index there) */
			field(h, &w, addr, h->off.tp_subclasses, F_SUBCLASSES);
			if (rdf(h, addr, h->off.ht_cached_keys, &ck) && ck)
				ph_keys_foreach(h, ck, cached_key_cb, &w);
		} else if (!(f & TPF_STATIC_BUILTIN) || h->minor < 12) {
			field(h, &w, addr, h->off.tp_subclasses, F_SUBCLASSES);
		} else if (h->ninterps && h->off.is_types_builtins >= 0) {
			/* 3.12+: tp_subclasses holds index + 1 into the (main)
			 * interpreter's table, which keeps the type's __dict__ */
			int64_t esz = h->minor == 12 ? h->off.sbs12_size : h->off.sbs13_size;
			int64_t dof = h->minor == 12 ? h->off.sbs12_tp_dict : h->off.sbs13_tp_dict;
			uint64_t ix = 0;
			if (esz > 0 && dof >= 0 && rdf(h, addr, h->off.tp_subclasses, &ix) &&
			    ix >= 1 && ix <= 1024)
				field(h, &w, h->interps[0] + (uint64_t)h->off.is_types_builtins +
				      (ix - 1) * (uint64_t)esz, dof, F_DICT);
		}
		break;
	}
	case K_MODULE:
		field(h, &w, addr, h->off.mod_dict, F_DICT);
		field(h, &w, addr, h->off.mod_name, F_NAME);
		break;
	case K_FUNCTION: {
		const struct { int64_t off; int f; } fs[] = {
			{h->off.func_code, F_CODE}, {h->off.func_globals, F_GLOBALS},
			{h->off.func_name, F_NAME}, {h->off.func_qualname, F_QUALNAME},
			{h->off.func_defaults, F_DEFAULTS}, {h->off.func_kwdefaults, F_KWDEFAULTS},
			{h->off.func_closure, F_CLOSURE}, {h->off.func_dict, F_DICT},
			{h->off.func_module, F_MODULE}, {h->off.func_builtins, F_BUILTINS},
			{h->off.func_doc, F_DOC}, {h->off.func_annotations, F_ANNOTATIONS},
			{h->off.func_typeparams, F_TYPEPARAMS},
		};
		for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
			field(h, &w, addr, fs[i].off, fs[i].f);
		break;
	}
	case K_CELL:
		field(h, &w, addr, h->off.cell_ref, F_CELL);
		break;
	case K_METHOD:
		field(h, &w, addr, h->off.meth_func, F_FUNC);
		field(h, &w, addr, h->off.meth_self, F_SELF);
		break;
	case K_CLASSMETHOD:
		field(h, &w, addr, h->off.cm_callable, F_FUNC);
		field(h, &w, addr, h->off.cm_dict, F_DICT);
		break;
	case K_STATICMETHOD:
		field(h, &w, addr, h->off.sm_callable, F_FUNC);
		field(h, &w, addr, h->off.sm_dict, F_DICT);
		break;
	case K_PROPERTY:
		field(h, &w, addr, h->off.prop_get, F_FGET);
		field(h, &w, addr, h->off.prop_set, F_FSET);
		field(h, &w, addr, h->off.prop_del, F_FDEL);
		field(h, &w, addr, h->off.prop_doc, F_DOC);
		field(h, &w, addr, h->off.prop_name, F_NAME);
		break;
	case K_CODE:
		walk_code(h, &w, addr);
		break;
	case K_FRAME:
		walk_frame(h, &w, addr, t);
		break;
	case K_GEN:
	case K_COROUTINE:
	case K_ASYNCGEN:
		walk_gen(h, &w, addr);
		break;
	case K_TRACEBACK:
		field(h, &w, addr, h->off.tb_next, F_TB_NEXT);
		field(h, &w, addr, h->off.tb_frame, F_TB_FRAME);
		break;
	case K_EXCEPTION:
		field(h, &w, addr, h->off.exc_dict, F_DICT);
		field(h, &w, addr, h->off.exc_args, F_ARGS);
		field(h, &w, addr, h->off.exc_notes, F_NOTES);
		field(h, &w, addr, h->off.exc_traceback, F_TRACEBACK);
		field(h, &w, addr, h->off.exc_context, F_CONTEXT);
		field(h, &w, addr, h->off.exc_cause, F_CAUSE);
		break;
	case K_WEAKREF:
	case K_WEAKPROXY:
		if (rdf(h, addr, h->off.wr_object, &v) && v && v != h->none_addr)
			emit(h, &w, v, PH_E_FIELD, PH_EF_WEAK, F_WR_OBJECT);
		field(h, &w, addr, h->off.wr_callback, F_WR_CALLBACK);
		break;
	case K_CFUNCTION:
		field(h, &w, addr, h->off.cfunc_self, F_SELF);
		field(h, &w, addr, h->off.cfunc_module, F_MODULE);
		break;
	case K_MAPPINGPROXY:
		field(h, &w, addr, h->off.proxy_mapping, F_MAPPING);
		break;
	case K_DESCR:
		field(h, &w, addr, h->off.descr_type, F_OBJCLASS);
		field(h, &w, addr, h->off.descr_name, F_NAME);
		break;
	case K_PARTIAL:
		field(h, &w, addr, h->off.partial_fn, F_FUNC);
		field(h, &w, addr, h->off.partial_args, F_ARGS);
		field(h, &w, addr, h->off.partial_kw, F_KEYWORDS);
		field(h, &w, addr, h->off.partial_dict, F_DICT);
		break;
	case K_LRU:
		field(h, &w, addr, h->off.lru_func, F_WRAPPED);
		field(h, &w, addr, h->off.lru_cache, F_CACHE);
		field(h, &w, addr, h->off.lru_dict, F_DICT);
		field(h, &w, addr, h->off.lru_kwd_mark, F_KWD_MARK);
		field(h, &w, addr, h->off.lru_cache_info_type, F_CACHE_INFO_TYPE);
		field(h, &w, addr, h->off.lru_elem_type, F_ELEM_TYPE);
		break;
	case K_LRU_ELEM:
		/* {prev, next, hash, key, result}: the links are borrowed */
		field(h, &w, addr, 0x28, F_LRU_KEY);
		field(h, &w, addr, 0x30, F_LRU_RESULT);
		break;
	case K_DEQUE:
		walk_deque(h, &w, addr);
		break;
	case K_STR: case K_BYTES: case K_INT: case K_FLOAT: case K_COMPLEX:
	case K_BYTEARRAY: case K_OBJECT:
		break;
	default:
		walk_conservative(h, &w, addr, (uint64_t)t->basicsize);
		break;
	}
	if (tflags & TPF_HEAPTYPE)
		walk_instance(h, &w, addr, ti);
	return w.n;
}

/* ---- virtual nodes and roots ---- */

static ph_vnode *add_vnode(ph_heap *h, const char *kind, uint64_t addr, uint64_t aux)
{
	ph_vnode *v = ph_grow(h->vnodes, h->nvnodes, &h->vnodes_cap, sizeof *v, 16);
	if (!v)
		return NULL;
	h->vnodes = v;
	ph_vnode *n = &h->vnodes[h->nvnodes++];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->addr = addr;
	n->aux = aux;
	return n;
}

static ph_root *add_root(ph_heap *h, uint32_t node, const char *kind)
{
	ph_root *n = ph_grow(h->roots, h->nroots, &h->roots_cap, sizeof *n, 64);
	if (!n)
		return NULL;
	h->roots = n;
	ph_root *r = &h->roots[h->nroots++];
	memset(r, 0, sizeof *r);
	r->node = node;
	r->kind = kind;
	return r;
}

/* The current frame of a thread state, as each version keeps it. */
static uint64_t thread_frame(ph_heap *h, uint64_t ts)
{
	uint64_t f = 0, cf = 0;
	if (h->off.ts_current_frame >= 0)                 /* 3.13 */
		rdf(h, ts, h->off.ts_current_frame, &f);
	else if (h->off.ts_cframe >= 0 && h->minor >= 11) {  /* 3.11, 3.12 */
		if (rdf(h, ts, h->off.ts_cframe, &cf) && cf)
			rdf(h, cf, h->off.cframe_current_frame, &f);
	} else                                           /* 3.8-3.10: an object */
		rdf(h, ts, h->off.ts_frame, &f);
	return f;
}

static void code_name(ph_heap *h, uint64_t co, char *buf, size_t cap)
{
	uint64_t s = 0;
	buf[0] = 0;
	if (rdf(h, co, h->off.co_qualname >= 0 ? h->off.co_qualname : h->off.co_name, &s) && s)
		ph_str_read(h, s, buf, cap);
	if (!*buf)
		snprintf(buf, cap, "?");
}

struct mod_walk { ph_heap *h; };

static bool module_root_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	(void)payload;
	uint32_t id = ph_id_of(h, v);
	if (id == PH_MAP_NONE || h->types[h->obj_type[id]].kind != K_MODULE)
		return true;
	ph_root *r = add_root(h, id, "module");
	if (r && !ph_str_read(h, k, r->name, sizeof r->name))
		snprintf(r->name, sizeof r->name, "?");
	return true;
}

/* 3.8-3.11 without symbols: the interned dict is the one whose every entry
 * maps an interned str to itself; it is the largest such dict by far. */
struct interned_check { bool ok; uint64_t n; };

static bool interned_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct interned_check *c = payload;
	uint32_t state = 0;
	if (k != v || !rd32(h, k + (uint64_t)h->off.ascii_state, &state) || !(state & 3)) {
		c->ok = false;
		return false;
	}
	return ++c->n < 16;   /* a sample is enough */
}

static void find_interned(ph_heap *h)
{
	uint64_t best = 0, best_n = 0;
	if (h->interned)
		return;
	if (h->minor >= 12) {
		uint64_t d = 0;
		if (h->ninterps && rdf(h, h->interps[0], h->off.is_interned, &d) && d)
			h->interned = d;
		else if (rdf(h, h->runtime, h->off.rt_interned, &d) && d)
			h->interned = d;
		return;
	}
	for (size_t id = 0; id < h->nobj; id++) {
		const ph_type *t = &h->types[h->obj_type[id]];
		if (t->addr != h->kind_types[K_DICT] || (h->obj_flags[id] & PH_OBJ_GC))
			continue;
		uint64_t used = 0;
		if (!rdf(h, h->obj_addr[id], h->off.dict_ma_used, &used) || used < 1000 || used <= best_n)
			continue;
		struct interned_check c = {true, 0};
		ph_dict_foreach(h, h->obj_addr[id], interned_cb, &c);
		if (c.ok && c.n > 0) {
			best = h->obj_addr[id];
			best_n = used;
		}
	}
	h->interned = best;
}

static void build_roots(ph_heap *h)
{
	find_interned(h);
	for (size_t i = 0; i < h->ninterps; i++) {
		ph_vnode *n = add_vnode(h, "interpreter", h->interps[i], i);
		if (!n)
			return;
		snprintf(n->name, sizeof n->name, "interpreter %zu", i);
		ph_root *r = add_root(h, (uint32_t)(h->nobj + h->nvnodes - 1), "interpreter");
		if (r)
			snprintf(r->name, sizeof r->name, "interpreter %zu", i);
	}
	for (size_t i = 0; i < h->nthreads; i++) {
		uint64_t ts = h->threads[i].tstate;
		ph_vnode *n = add_vnode(h, "thread", ts, i);
		if (!n)
			return;
		uint32_t tnode = (uint32_t)(h->nobj + h->nvnodes - 1);
		uint64_t tid = h->threads[i].native_id;
		snprintf(n->name, sizeof n->name, "thread %" PRIu64, tid ? tid : h->threads[i].thread_id);
		ph_root *r = add_root(h, tnode, "frame");
		if (r)
			snprintf(r->name, sizeof r->name, "%s", n->name);
		if (h->minor <= 10)
			continue;
		/* 3.11+: one node per interpreter frame on this thread's stack */
		uint64_t f = thread_frame(h, ts);
		for (int k = 0; f && k < MAX_FRAMES; k++) {
			uint8_t owner = 0;
			core_read(h->core, f + (uint64_t)h->off.iframe_owner, &owner, 1);
			ph_vnode *fn = add_vnode(h, "frame", f, tnode);
			if (!fn)
				return;
			uint64_t co = 0;
			char cname[48];
			rdf(h, f, h->off.iframe_code, &co);
			code_name(h, co, cname, sizeof cname);
			snprintf(fn->name, sizeof fn->name, "frame %.40s (%.30s)", cname, h->vnodes[tnode - h->nobj].name);
			if (!rdf(h, f, h->off.iframe_previous, &f))
				break;
		}
	}
	for (size_t i = 0; i < h->ninterps; i++) {
		uint64_t mods = 0;
		if (rdf(h, h->interps[i], h->off.is_modules, &mods) && mods)
			ph_dict_foreach(h, mods, module_root_cb, NULL);
	}
}

/* ---- edges as the graph sees them ---- */

struct emit_ctx { ph_edge_fn fn; void *payload; uint32_t src; uint64_t n; uint8_t extra; };

static void to_node(ph_heap *h, uint64_t target, uint8_t kind, uint8_t flags, uint32_t label,
		    void *payload)
{
	struct emit_ctx *e = payload;
	uint32_t dst = ph_id_of(h, target);
	if (dst == PH_MAP_NONE)
		return;
	e->fn(e->src, dst, kind, flags | e->extra, label, e->payload);
	e->n++;
}

static void vnode_edges(ph_heap *h, uint32_t node, struct emit_ctx *e)
{
	const ph_vnode *v = &h->vnodes[node - h->nobj];
	walk w = {to_node, e, 0};
	if (strcmp(v->kind, "interpreter") == 0) {
		field(h, &w, v->addr, h->off.is_sysdict, F_SYS);
		field(h, &w, v->addr, h->off.is_builtins, F_BUILTINS);
		field(h, &w, v->addr, h->off.is_modules, F_SYS_MODULES);
		if (v->aux == 0 && h->interned)
			/* the runtime owns the dict; the dict does not own its strings */
			emit(h, &w, h->interned, PH_E_FIELD, 0, F_INTERNED);
	} else if (strcmp(v->kind, "thread") == 0) {
		if (h->minor <= 10) {
			uint64_t f = thread_frame(h, v->addr);
			if (f)
				emit(h, &w, f, PH_E_FRAME, 0, 0);
			return;
		}
		/* its frames are the virtual nodes that follow it */
		uint32_t k = 0;
		for (uint32_t n = node + 1; n < h->nobj + h->nvnodes; n++) {
			const ph_vnode *f = &h->vnodes[n - h->nobj];
			if (strcmp(f->kind, "frame") != 0 || f->aux != node)
				break;
			e->fn(node, n, PH_E_FRAME, 0, k++, e->payload);
			e->n++;
		}
	} else {
		/* a frame: walk it unless an object owns it (generator, frame
		 * object), in which case point at that object */
		uint8_t owner = 0;
		core_read(h->core, v->addr + (uint64_t)h->off.iframe_owner, &owner, 1);
		if (owner == 1)
			emit(h, &w, v->addr - (uint64_t)h->off.gen_iframe, PH_E_FIELD, 0, F_GI_FRAME);
		else if (owner == 2)
			emit(h, &w, v->addr - (uint64_t)h->off.frame_data, PH_E_FIELD, 0, F_FRAME_OBJ);
		else if (owner == 0 || h->minor == 11)
			walk_iframe(h, &w, v->addr);
		/* 3.12+ owner 3: an entry frame on the C stack; it borrows its
		 * code and leaves its function slot uninitialised */
	}
}

/* The virtual nodes and roots, found once, after a full scan. */
static void need_roots(ph_heap *h)
{
	if (h->roots_built || !h->scanned || h->opts.totals_only)
		return;
	h->roots_built = true;
	build_roots(h);
}

uint64_t ph_node_edges(ph_heap *h, uint32_t node, ph_edge_fn fn, void *payload)
{
	need_roots(h);
	struct emit_ctx e = {fn, payload, node, 0, 0};
	/* 3.11's deep-frozen statics point at each other without counting */
	if (node < h->nobj && h->minor == 11 && ph_object_immortal(h, node))
		e.extra = PH_EF_UNCOUNTED;
	if (node < h->nobj)
		ph_object_edges_raw(h, h->obj_addr[node], h->obj_type[node], to_node, &e);
	else if (node < h->nobj + h->nvnodes)
		vnode_edges(h, node, &e);
	return e.n;
}

uint64_t ph_edges(ph_heap *h, ph_edge_fn fn, void *payload)
{
	need_roots(h);
	uint64_t n = 0;
	for (uint32_t i = 0; i < h->nobj + h->nvnodes; i++)
		n += ph_node_edges(h, i, fn, payload);
	return n;
}

size_t ph_node_count(ph_heap *h)
{
	need_roots(h);
	return h->nobj + h->nvnodes;
}

uint64_t ph_edge_estimate(ph_heap *h)
{
	need_roots(h);
	return h->scan_refs + 1024 * (h->nvnodes + 64);
}

size_t ph_root_count(ph_heap *h)
{
	need_roots(h);
	return h->nroots;
}

const ph_root *ph_root_at(ph_heap *h, size_t i)
{
	need_roots(h);
	return &h->roots[i];
}

const char *ph_node_kind(ph_heap *h, uint32_t node)
{
	need_roots(h);
	return node < h->nobj ? "object" : node < h->nobj + h->nvnodes ?
		h->vnodes[node - h->nobj].kind : "?";
}

const char *ph_node_name(ph_heap *h, uint32_t node, char *buf, size_t cap)
{
	need_roots(h);
	if (node < h->nobj)
		snprintf(buf, cap, "%s", h->types[h->obj_type[node]].name);
	else if (node < h->nobj + h->nvnodes)
		snprintf(buf, cap, "%s", h->vnodes[node - h->nobj].name);
	else
		snprintf(buf, cap, "?");
	return buf;
}

uint32_t ph_object_find(const ph_heap *h, uint64_t addr)
{
	uint32_t id = ph_object_id(h, addr);
	return id == PH_MAP_NONE ? PH_NOLABEL : id;
}

int64_t ph_object_refcnt(ph_heap *h, ph_id id)
{
	uint64_t v = 0;
	rd64(h, h->obj_addr[id], &v);
	return (int64_t)v;
}

/* Whether the object is immortal, from its refcount (the scan sets
 * PH_OBJ_IMMORTAL with this while the object is in the cache). */
bool ph_refcnt_immortal(const ph_heap *h, uint64_t refcnt, unsigned flags)
{
	if (h->minor == 11)
		/* deep-frozen statics start at 999999999 (_PyObject_IMMORTAL_INIT) */
		return refcnt >= 999999999ull && (flags & PH_OBJ_REF);
	if (h->minor < 12)
		return false;
	return (int32_t)(uint32_t)refcnt < 0;
}

int ph_object_immortal(ph_heap *h, ph_id id)
{
	return (h->obj_flags[id] & PH_OBJ_IMMORTAL) != 0;
}

int ph_object_static_type(ph_heap *h, ph_id id)
{
	uint64_t f = 0;
	if (!h->types || h->types[h->obj_type[id]].kind != K_TYPE)
		return 0;
	return rdf(h, h->obj_addr[id], h->off.tp_flags, &f) && !(f & TPF_HEAPTYPE);
}

int ph_lru_unbounded(ph_heap *h, ph_id id, uint32_t *cache)
{
	uint64_t a = h->obj_addr[id], max = 0, c = 0;
	*cache = PH_NOLABEL;
	if (h->types[h->obj_type[id]].kind != K_LRU)
		return -1;
	if (rdf(h, a, h->off.lru_cache, &c) && c)
		*cache = ph_object_find(h, c);
	/* maxsize=None is stored as -1 */
	return rdf(h, a, h->off.lru_maxsize, &max) && (int64_t)max < 0;
}

int64_t ph_object_len(ph_heap *h, ph_id id)
{
	uint64_t a = h->obj_addr[id], n = 0;
	switch (h->types[h->obj_type[id]].kind) {
	case K_TUPLE: case K_LIST: case K_DEQUE:
		return rd64(h, a + 16, &n) && n < (1ull << 40) ? (int64_t)n : -1;
	case K_DICT: case K_DEFDICT: case K_ODICT:
		return rdf(h, a, h->off.dict_ma_used, &n) && n < (1ull << 40) ? (int64_t)n : -1;
	case K_SET: case K_FROZENSET:
		return rdf(h, a, h->off.set_used, &n) && n < (1ull << 40) ? (int64_t)n : -1;
	default:
		return -1;
	}
}

/* ---- text ---- */

/* Appends a Python-ish repr of a str, cut to a few dozen characters. */
static void str_repr(ph_heap *h, uint64_t s, char *buf, size_t cap)
{
	char tmp[64];
	if (!ph_str_read(h, s, tmp, sizeof tmp)) {
		snprintf(buf, cap, "?");
		return;
	}
	size_t o = 0;
	buf[o++] = '\'';
	for (const char *p = tmp; *p && o + 5 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\'' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (strlen(tmp) >= sizeof tmp - 1 && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (o + 1 < cap)
		buf[o++] = '\'';
	buf[o] = 0;
}

/* The value of a small int, if it is one. */
static bool int_value(ph_heap *h, uint64_t addr, int64_t *out)
{
	uint64_t tag = 0;
	uint32_t d[3] = {0};
	int64_t sign = 1;
	uint64_t nd;
	if (h->off.long_lv_tag >= 0) {
		if (!rdf(h, addr, h->off.long_lv_tag, &tag))
			return false;
		nd = tag >> 3;
		sign = (tag & 3) == 2 ? -1 : 1;
		if ((tag & 3) == 1) {
			*out = 0;
			return true;
		}
	} else {
		if (!rd64(h, addr + 16, &tag))
			return false;
		sign = (int64_t)tag < 0 ? -1 : 1;
		nd = (int64_t)tag < 0 ? 0 - tag : tag;
	}
	if (nd > 2 || core_read(h->core, addr + (uint64_t)h->off.long_digit, d, nd * 4) != nd * 4)
		return false;
	*out = sign * (int64_t)((uint64_t)d[0] | (nd > 1 ? (uint64_t)d[1] << 30 : 0));
	return true;
}

const char *ph_object_repr(ph_heap *h, ph_id id, char *buf, size_t cap)
{
	uint64_t a = h->obj_addr[id], n = 0;
	const ph_type *t = &h->types[h->obj_type[id]];
	int64_t iv;
	buf[0] = 0;
	switch (t->kind) {
	case K_STR:
		str_repr(h, a, buf, cap);
		break;
	case K_INT:
		if (int_value(h, a, &iv))
			snprintf(buf, cap, "%" PRId64, iv);
		else
			snprintf(buf, cap, "<big int>");
		break;
	case K_BYTES: {
		char tmp[24];
		rd64(h, a + 16, &n);
		size_t k = n < 16 ? (size_t)n : 16, o = 0;
		uint8_t b[16];
		k = core_read(h->core, a + (uint64_t)h->off.bytes_sval, b, k);
		o += (size_t)snprintf(buf, cap, "b'");
		for (size_t i = 0; i < k && o + 6 < cap; i++)
			o += (size_t)snprintf(buf + o, cap - o, b[i] >= 0x20 && b[i] < 0x7f &&
					      b[i] != '\'' && b[i] != '\\' ? "%c" : "\\x%02x", b[i]);
		snprintf(tmp, sizeof tmp, "%s' len=%" PRIu64, n > k ? "..." : "", n);
		snprintf(buf + o, cap - o, "%s", tmp);
		break;
	}
	case K_FLOAT: {
		double d;
		if (core_read(h->core, a + 16, &d, 8) == 8)
			snprintf(buf, cap, "%g", d);
		break;
	}
	case K_TUPLE: case K_LIST: case K_DEQUE:
		rd64(h, a + 16, &n);
		snprintf(buf, cap, "len=%" PRIu64, n);
		break;
	case K_DICT: case K_DEFDICT: case K_ODICT:
		rdf(h, a, h->off.dict_ma_used, &n);
		snprintf(buf, cap, "len=%" PRIu64, n);
		break;
	case K_SET: case K_FROZENSET:
		rdf(h, a, h->off.set_used, &n);
		snprintf(buf, cap, "len=%" PRIu64, n);
		break;
	case K_MODULE:
		if (rdf(h, a, h->off.mod_name, &n) && n)
			str_repr(h, n, buf, cap);
		break;
	case K_FUNCTION:
		if (rdf(h, a, h->off.func_qualname, &n) && n)
			str_repr(h, n, buf, cap);
		break;
	case K_CODE:
		code_name(h, a, buf, cap);
		break;
	case K_LRU:
		/* the function it caches */
		if (rdf(h, a, h->off.lru_func, &n) && n) {
			uint64_t q = 0;
			if (rdf(h, n, h->off.func_qualname, &q) && q)
				str_repr(h, q, buf, cap);
		}
		break;
	case K_TYPE:
	{
		uint32_t ti = ph_type_lookup(h, a);
		if (ti != TYPE_INVALID)
			snprintf(buf, cap, "%s", h->types[ti].name);
		break;
	}
	default:
		break;
	}
	return buf;
}

const char *ph_edge_label(ph_heap *h, uint32_t src, uint8_t kind, uint32_t label,
			  char *buf, size_t cap)
{
	char v[96];
	switch (kind) {
	case PH_E_INDEX:
		snprintf(buf, cap, "[%u]", label);
		break;
	case PH_E_DICT_VALUE:
	case PH_E_ATTR:
	case PH_E_LOCAL:
		if (label == PH_NOLABEL || label >= h->nobj)
			snprintf(v, sizeof v, "?");
		else
			ph_object_repr(h, label, v, sizeof v);
		if (kind == PH_E_ATTR && label < h->nobj && h->types[h->obj_type[label]].kind == K_STR)
			snprintf(buf, cap, ".%.*s", (int)(strlen(v) >= 2 ? strlen(v) - 2 : 0), v + 1);
		else if (kind == PH_E_LOCAL)
			snprintf(buf, cap, "f_locals[%s]", v);
		else
			snprintf(buf, cap, "[%s]", v);
		break;
	case PH_E_DICT_KEY:
		snprintf(buf, cap, "(key)");
		break;
	case PH_E_SLOT: {
		/* the member's name: a C string in the declaring type's slot table */
		uint64_t ty = src < h->nobj ? h->types[h->obj_type[src]].addr : 0, name = 0;
		for (uint32_t d = 0; ty && d < (label >> 16); d++)
			if (!rdf(h, ty, h->off.tp_base, &ty))
				ty = 0;
		uint32_t ti = ty ? ph_type_lookup(h, ty) : TYPE_INVALID;
		v[0] = 0;
		if (ti != TYPE_INVALID && rd64(h, h->types[ti].members + 40ull * (label & 0xffff), &name))
			core_read_str(h->core, name, v, sizeof v);
		snprintf(buf, cap, ".%s", *v ? v : "?");
		break;
	}
	case PH_E_FIELD:
		snprintf(buf, cap, "%s", ph_field_name(label));
		break;
	case PH_E_SET_ITEM:
		snprintf(buf, cap, "{item}");
		break;
	case PH_E_STACK:
		snprintf(buf, cap, "stack[%u]", label);
		break;
	case PH_E_FRAME:
		snprintf(buf, cap, "frame[%u]", label);
		break;
	case PH_E_CONSERVATIVE:
		snprintf(buf, cap, "+0x%x?", label);
		break;
	default:
		snprintf(buf, cap, "?");
		break;
	}
	return buf;
}
