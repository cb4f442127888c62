/*
 * decode.c - the references of an object, by its family (kinds.c) and, for
 * instances of classes, by what every instance of the class holds.
 *
 * It mirrors what each type's tp_traverse visits, plus what tp_traverse
 * leaves out but really is a strong reference (the keys of str-keyed dicts,
 * the fields of code objects, the dicts of static types).  Weak references
 * are edges too, flagged PH_EF_WEAK: they are drawn, but never retain and
 * never count towards a refcount.
 *
 * Objects of types pyheap cannot decode (C extensions) are scanned
 * conservatively: every aligned word of their fixed part that points at a
 * known object becomes an edge flagged PH_EF_CONSERVATIVE.
 */
#include "walk.h"

#include <stdlib.h>
#include <string.h>

#define CONSERVATIVE_MAX 4096   /* bytes of an unknown object scanned */

void ph_walk_array(ph_heap *h, ph_walk *w, uint64_t arr, uint64_t n, uint8_t kind, uint32_t first)
{
	uint64_t buf[128];
	if (n > PH_MAX_ITEMS)
		return;
	for (uint64_t i = 0; i < n;) {
		uint64_t c = n - i > 128 ? 128 : n - i;
		size_t got = core_read(h->core, arr + i * 8, buf, (size_t)c * 8) / 8;
		for (size_t j = 0; j < got; j++)
			ph_emit(h, w, buf[j], kind, 0, (uint32_t)(first + i + j));
		if (got < c) {
			ph_warn(h, W_UNREADABLE, "item array unreadable at 0x%llx",
				(unsigned long long)(arr + (i + got) * 8));
			return;
		}
		i += c;
	}
}

/* ---- dicts ---- */

struct dict_walk { ph_walk *w; bool keys, values; uint8_t flags; };

static bool dict_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct dict_walk *d = payload;
	if (d->keys)
		ph_emit(h, d->w, k, PH_E_DICT_KEY, d->flags, PH_NONE);
	if (d->values)
		ph_emit(h, d->w, v, PH_E_DICT_VALUE, d->flags, ph_id_of(h, k));
	return true;
}

static void walk_dict(ph_heap *h, ph_walk *w, uint64_t dict)
{
	/* a split table's keys are held once, by the shared keys object of
	 * the type (ht_cached_keys); the dict holds only the values.  The
	 * interned-strings dict holds its strings without counting them (their
	 * refcount leaves those two references out) and without keeping them
	 * alive: weak edges. */
	bool split = ph_dict_split(h, dict), values = true;
	if (split && h->tr->managed_dict == PH_MD_INLINE && !h->tr->dict_owns_values) {
		/* values embedded in an object belong to the object (before
		 * 3.13.3; from then on the dict holds them) */
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
	ph_emit(h, payload, k, PH_E_FIELD, 0, F_CACHED_KEY);
	return true;
}

void ph_decode_dict(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	(void)ti;
	walk_dict(h, w, addr);
}

/* Whether a word read without a layout can be a reference, and which: an
 * aligned pointer, or one tagged in its low bit, as mypyc keeps an int
 * attribute that does not fit a tagged machine word (CPyTagged). */
static bool guessed_ptr(uint64_t *v)
{
	if (!*v)
		return false;
	if ((*v & 7) == 1)
		*v -= 1;
	return !(*v & 7);
}

/* ---- sequences and sets ---- */

void ph_decode_tuple(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t v = 0;
	(void)ti;
	if (rd64(h, addr + 16, &v))
		ph_walk_array(h, w, addr + (uint64_t)h->off.tuple_ob_item, v, PH_E_INDEX, 0);
}

void ph_decode_list(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t v = 0, p = 0;
	(void)ti;
	if (rd64(h, addr + 16, &v) && rdf(h, addr, h->off.list_ob_item, &p) && p)
		ph_walk_array(h, w, p, v, PH_E_INDEX, 0);
}

void ph_decode_set(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t table = 0, mask = 0, buf[2 * 64];
	(void)ti;
	if (!rdf(h, addr, h->off.set_table, &table) || !rdf(h, addr, h->off.set_mask, &mask) ||
	    mask >= PH_MAX_ITEMS)
		return;
	for (uint64_t i = 0; i <= mask;) {
		uint64_t c = mask + 1 - i > 64 ? 64 : mask + 1 - i;
		if (core_read(h->core, table + i * 16, buf, (size_t)c * 16) != c * 16)
			break;
		for (uint64_t j = 0; j < c; j++)
			if (buf[2 * j] != h->set_dummy)
				ph_emit(h, w, buf[2 * j], PH_E_SET_ITEM, 0, PH_NONE);
		i += c;
	}
}

/* ---- types, weak references, lru_cache links ---- */

/* A static type managed by the interpreter (3.12+: the builtin ones; 3.13+
 * those of extensions too) keeps index + 1 in tp_subclasses, into the main
 * interpreter's table of builtin types, or, when that entry is another
 * type's, of extension types.  *state gets its entry. */
static bool static_type_state(ph_heap *h, uint64_t type, uint64_t *state)
{
	uint64_t ix = 0, t = 0;
	int64_t esz = h->off.sbs_size;
	if (!h->ninterps || esz <= 0 || h->off.sbs_type < 0 ||
	    !rdf(h, type, h->off.tp_subclasses, &ix) || ix < 1 || ix > 1024)
		return false;
	const int64_t tables[] = {h->off.is_types_builtins, h->off.is_types_for_extensions};
	for (int k = 0; k < 2; k++) {
		if (tables[k] < 0)
			continue;
		uint64_t ent = h->interps[0] + (uint64_t)tables[k] + (ix - 1) * (uint64_t)esz;
		if (rdf(h, ent, h->off.sbs_type, &t) && t == type) {
			*state = ent;
			return true;
		}
	}
	return false;
}

void ph_decode_type(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t f = 0, ck = 0, v = 0;
	(void)ti;
	rdf(h, addr, h->off.tp_flags, &f);
	ph_field(h, w, addr, h->off.tp_dict, F_DICT);
	ph_field(h, w, addr, h->off.tp_bases, F_BASES);
	ph_field(h, w, addr, h->off.tp_mro, F_MRO);
	/* a static type does not own a reference to its base */
	if (rdf(h, addr, h->off.tp_base, &v) && v)
		ph_emit(h, w, v, PH_E_FIELD, (f & TPF_HEAPTYPE) ? 0 : PH_EF_WEAK, F_BASE);
	if (f & TPF_HEAPTYPE) {
		ph_field(h, w, addr, h->off.ht_name, F_NAME);
		ph_field(h, w, addr, h->off.ht_qualname, F_QUALNAME);
		ph_field(h, w, addr, h->off.ht_slots, F_SLOTS);
		ph_field(h, w, addr, h->off.ht_module, F_MODULE_OBJ);
		/* 3.8-3.11 keep weakrefs to subclasses in a dict; 3.12+ heap
		 * types too (static builtin types keep an index there) */
		ph_field(h, w, addr, h->off.tp_subclasses, F_SUBCLASSES);
		if (rdf(h, addr, h->off.ht_cached_keys, &ck) && ck)
			ph_keys_foreach(h, ck, cached_key_cb, w);
	} else if (h->tr->static_dicts != PH_SDICT_INTERP || !static_type_state(h, addr, &v)) {
		ph_field(h, w, addr, h->off.tp_subclasses, F_SUBCLASSES);
	} else {
		/* the interpreter's table keeps its __dict__, and its subclasses
		 * (a dict of weak references) */
		ph_field(h, w, v, h->off.sbs_tp_dict, F_DICT);
		ph_field(h, w, v, h->off.sbs_tp_subclasses, F_SUBCLASSES);
	}
}

void ph_decode_weakref(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t v = 0;
	(void)ti;
	if (rdf(h, addr, h->off.wr_object, &v) && v && v != h->none_addr)
		ph_emit(h, w, v, PH_E_FIELD, PH_EF_WEAK, F_WR_OBJECT);
}

void ph_decode_lru_elem(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	/* {prev, next, hash, key, result}: the links are borrowed */
	(void)ti;
	ph_field(h, w, addr, 0x28, F_LRU_KEY);
	ph_field(h, w, addr, 0x30, F_LRU_RESULT);
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
struct ph_slot { uint64_t off; uint32_t label; uint8_t flags; };

struct ph_iplan {
	bool managed;            /* 3.11+ managed dict (and values) */
	int64_t dictoffset;      /* else: the __dict__ slot to walk, 0 for none */
	struct ph_slot *slots;
	uint32_t nslots;
	bool keys_done, ids_done;
	uint64_t *keys;          /* the shared keys' names, in entry order */
	uint32_t *key_ids;       /* their ids, once the scan has numbered all */
	uint32_t nkeys;
	/* the words of the instance past its family's that no rule above
	 * names (fields of a C or mypyc type): scanned conservatively */
	uint32_t *guess;
	uint32_t nguess;
};

void ph_plans_free(ph_heap *h)
{
	for (size_t i = 0; i < h->ntypes; i++) {
		struct ph_iplan *p = h->types[i].plan;
		if (p) {
			free(p->slots);
			free(p->guess);
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
		if (ti == PH_NONE)
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
		return ti == PH_NONE ? 0 : h->types[ti].dictoffset;
	}
	return static_base_dictoffset(h, addr);
}

/* Members of C types that hold no reference of their own: a borrowed
 * pointer, read as a weak edge (it neither counts nor keeps alive).
 * sqlite3's Connection keeps its module's exception classes so, for the
 * DB-API attributes (3.8-3.13: `self->Warning = state->Warning`). */
static const struct {
	const char *type;
	const char *members[11];
} borrowed_members[] = {
	{"sqlite3.Connection", {"Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
				"OperationalError", "IntegrityError", "InternalError",
				"ProgrammingError", "NotSupportedError"}},
};

static bool member_borrowed(ph_heap *h, const char *type, uint64_t name_addr)
{
	char name[40];
	for (size_t i = 0; i < sizeof borrowed_members / sizeof *borrowed_members; i++) {
		if (strcmp(type, borrowed_members[i].type) != 0)
			continue;
		if (core_read_str(h->core, name_addr, name, sizeof name) != 0)
			return false;
		for (size_t k = 0; k < 11 && borrowed_members[i].members[k]; k++)
			if (strcmp(name, borrowed_members[i].members[k]) == 0)
				return true;
	}
	return false;
}

static bool plan_slot(struct ph_iplan *p, uint64_t off, uint32_t label, uint8_t flags)
{
	if (p->nslots % 16 == 0) {
		struct ph_slot *n = realloc(p->slots, (p->nslots + 16) * sizeof *n);
		if (!n)
			return false;
		p->slots = n;
	}
	p->slots[p->nslots++] = (struct ph_slot){off, label, flags};
	return true;
}

/* A member that names a slot of the layout, not an attribute: a base's
 * weak-reference list or dict (a mypyc class over a Python base keeps its
 * own fields where the base had them), or 3.12's offset members. */
static bool member_is_layout(ph_heap *h, uint64_t name_addr)
{
	static const char *const names[] = {"__weakref__", "__dict__", "__weaklistoffset__",
					    "__dictoffset__", "__vectorcalloffset__"};
	char name[24];
	if (core_read_str(h->core, name_addr, name, sizeof name) != 0)
		return false;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
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
	p->managed = h->tr->managed_dict != PH_MD_NONE && (t.flags & TPF_MANAGED_DICT);
	if (!p->managed && t.dictoffset != 0 &&
	    t.dictoffset != family_dictoffset(h, t.addr, t.kind, t.kind_base))
		p->dictoffset = t.dictoffset;
	/* __slots__: each heap type on the tp_base chain lists its own, up to
	 * the built-in type that gave the family (a C heap type's members are
	 * its own fields, walked by the family) */
	/* Not slots: the weak-reference list (a mypyc or C type may list
	 * __weakref__ as a member; it holds no reference), a member a base
	 * already listed, and members over a tuple's items (a struct
	 * sequence's fields are its items, walked by the family). */
	uint64_t ty = t.addr, weakoff = 0;
	rdf(h, t.addr, h->off.tp_weaklistoffset, &weakoff);
	uint32_t fi = t.kind != K_OTHER && t.kind_base ? ph_type_lookup(h, t.kind_base) : PH_NONE;
	int64_t items_from = t.kind == K_TUPLE && fi != PH_NONE ? h->types[fi].basicsize : INT64_MAX;
	/* a struct sequence shows n_sequence_fields items; its other fields
	 * (os.stat_result's float times...) follow them past ob_size, and
	 * only its members name them: those are slots */
	int64_t items_to = INT64_MAX, nseq = 0;
	uint64_t tdict = 0, nv;
	if (t.kind == K_TUPLE && items_from != INT64_MAX &&
	    rdf(h, t.addr, h->off.tp_dict, &tdict) && tdict &&
	    (nv = ph_dict_get_str(h, tdict, "n_sequence_fields")) && ph_int_value(h, nv, &nseq) &&
	    nseq >= 0 && nseq < 4096)
		items_to = items_from + 8 * nseq;
	for (uint32_t d = 0; ty && d < 64; d++) {
		uint32_t bi = ph_type_lookup(h, ty);
		/* (a static struct sequence's own members too: time.struct_time) */
		bool structseq = d == 0 && items_to != INT64_MAX;
		if (bi == PH_NONE || (!(h->types[bi].flags & TPF_HEAPTYPE) && !structseq) ||
		    (t.kind != K_OTHER && ty == t.kind_base))
			break;
		uint64_t m = h->types[bi].members;
		for (uint32_t i = 0; m && i < PH_MAX_SLOTS; i++, m += 40) {
			uint64_t ent[3];
			if (core_read(h->core, m, ent, sizeof ent) != sizeof ent || !ent[0])
				break;
			uint32_t mtype = (uint32_t)ent[1];
			bool dup = ent[2] == weakoff ||
				   ((int64_t)ent[2] >= items_from && (int64_t)ent[2] < items_to) ||
				   member_is_layout(h, ent[0]);
			for (uint32_t k = 0; k < p->nslots && !dup; k++)
				dup = p->slots[k].off == ent[2];
			if ((mtype == 16 || mtype == 6) && ent[2] < (1u << 20) && !dup)
				plan_slot(p, ent[2], d << 16 | i,
					  member_borrowed(h, h->types[bi].name, ent[0]) ? PH_EF_WEAK : 0);
		}
		if (!rdf(h, ty, h->off.tp_base, &ty))
			break;
	}
	/* the words past the family's own that neither a slot, the dict slot
	 * nor the weakref slot explain: a class statement's type has none, a
	 * C or mypyc type keeps its fields there (K_OTHER's decoder scans
	 * the whole object already) */
	uint32_t bi = t.kind != K_OTHER && t.kind_base ? ph_type_lookup(h, t.kind_base) : PH_NONE;
	int64_t from = bi != PH_NONE ? h->types[bi].basicsize : t.basicsize;
	int64_t to = t.basicsize < 4096 ? t.basicsize : 4096;
	uint64_t weak = 0;
	rdf(h, t.addr, h->off.tp_weaklistoffset, &weak);
	for (int64_t o = (from + 7) & ~7ll; o + 8 <= to; o += 8) {
		bool named = o == t.dictoffset || (int64_t)weak == o;
		for (uint32_t i = 0; i < p->nslots && !named; i++)
			named = (int64_t)p->slots[i].off == o;
		if (named)
			continue;
		if (p->nguess % 16 == 0) {
			uint32_t *n = realloc(p->guess, (p->nguess + 16) * sizeof *n);
			if (!n)
				break;
			p->guess = n;
		}
		p->guess[p->nguess++] = (uint32_t)o;
	}
	h->types[ti].plan = p;
	return p;
}

uint32_t ph_type_guess_count(ph_heap *h, uint32_t ti)
{
	struct ph_iplan *p = plan_of(h, ti);
	return p ? p->nguess : 0;
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
	if (n == 0 || n > PH_MAX_SLOTS * 64 || !(p->keys = malloc(n * sizeof *p->keys)))
		return p;
	struct keys_collect c = {p, n};
	ph_keys_foreach(h, ck, collect_key_cb, &c);
	return p;
}

/* Attribute values kept beside the type's shared keys (3.11/3.12 values
 * arrays, 3.13 inline values): labelled with the attribute's name.  During
 * the scan nothing reads labels, and not every name has an id yet. */
static void walk_values(ph_heap *h, ph_walk *w, uint32_t ti, uint64_t values, uint64_t cap)
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
				ph_emit(h, w, buf[j], PH_E_ATTR, 0,
				     p->key_ids ? p->key_ids[i + j] : PH_NONE);
		if (got < c)
			return;
		i += c;
	}
}

void ph_walk_instance(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
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
		enum ph_managed_dict md = h->tr->managed_dict;
		if (md == PH_MD_TAGGED && (dict & 1)) {
			walk_values(h, w, ti, dict + 1, 0);
			dict = 0;
		} else if (md == PH_MD_PAIR && !dict) {
			uint64_t values = 0;
			if (rd64(h, addr - 32, &values) && values)
				walk_values(h, w, ti, values, 0);
		} else if (md == PH_MD_INLINE && (tflags & TPF_INLINE_VALUES)) {
			/* the object owns its valid inline values, which follow
			 * its fixed part; once a dict has been made that shares
			 * them, before 3.13.3 still the object (the dict skips
			 * them), from then on the dict */
			uint8_t hdr[4];
			uint64_t vals = addr + (uint64_t)basicsize;
			if (core_read(h->core, vals, hdr, 4) == 4 && hdr[3] &&
			    !(dict && h->tr->dict_owns_values))
				walk_values(h, w, ti, vals + 8, hdr[0]);
		}
		if (dict)
			ph_emit(h, w, dict, PH_E_FIELD, 0, F_DICT);
	} else if (p->dictoffset) {
		/* (a dict slot inherited from a built-in base, such as a type's
		 * tp_dict or a function's func_dict, is its family's to walk) */
		int64_t off = p->dictoffset;
		if (off < 0) {
			uint64_t sz = 0;
			rd64(h, addr + 16, &sz);
			if ((int64_t)sz < 0)
				sz = 0 - sz;
			off = sz < PH_MAX_ITEMS ? off + (int64_t)(((uint64_t)basicsize +
				sz * (uint64_t)itemsize + 7) & ~7ull) : 0;
		}
		if (off > 0 && rd64(h, addr + (uint64_t)off, &v) && v)
			ph_emit(h, w, v, PH_E_FIELD, 0, F_DICT);
	}
	for (uint32_t i = 0; i < p->nslots; i++)
		if (rd64(h, addr + p->slots[i].off, &v) && v)
			ph_emit(h, w, v, PH_E_SLOT, p->slots[i].flags, p->slots[i].label);
	for (uint32_t i = 0; i < p->nguess; i++)
		if (rd64(h, addr + p->guess[i], &v) && guessed_ptr(&v))
			ph_emit(h, w, v, PH_E_CONSERVATIVE, PH_EF_CONSERVATIVE, p->guess[i]);
	/* an instance of a heap type owns a reference to it */
	if (tflags & TPF_HEAPTYPE)
		ph_emit(h, w, taddr, PH_E_FIELD, 0, F_CLASS);
}

/* ---- deques, and what no row decodes ---- */

void ph_decode_deque(ph_heap *h, ph_walk *w, uint64_t dq, uint32_t ti)
{
	uint64_t n = 0, block = 0, idx = 0;
	if (!rd64(h, dq + 16, &n) || n > PH_MAX_ITEMS || !rdf(h, dq, h->off.deque_leftblock, &block) ||
	    !rdf(h, dq, h->off.deque_leftindex, &idx) || idx >= 64)
		return;
	for (uint64_t i = 0; i < n && block; i++) {
		uint64_t v;
		if (rd64(h, block + (uint64_t)h->off.block_data + 8 * idx, &v) && v)
			ph_emit(h, w, v, PH_E_INDEX, 0, (uint32_t)i);
		if (++idx == 64) {
			idx = 0;
			if (!rd64(h, block + (uint64_t)h->off.block_rightlink, &block))
				break;
		}
	}
}

/* Every aligned word of the fixed part that points at an object is an edge,
 * flagged as a guess. */
void ph_decode_conservative(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t buf[CONSERVATIVE_MAX / 8];
	const ph_type *t = &h->types[ti];
	uint64_t size = ph_kinds[t->kind].body ? ph_kinds[t->kind].body(h, addr, t)
					       : (uint64_t)t->basicsize;
	if (size <= 16 || size == UINT64_MAX)
		return;
	if (size > CONSERVATIVE_MAX)
		size = CONSERVATIVE_MAX;
	size_t got = core_read(h->core, addr + 16, buf, (size_t)(size - 16)) / 8;
	for (size_t i = 0; i < got; i++)
		if (guessed_ptr(&buf[i]))
			ph_emit(h, w, buf[i], PH_E_CONSERVATIVE, PH_EF_CONSERVATIVE, (uint32_t)(16 + 8 * i));
}

/* ---- modules ---- */

/* An extension module's C state (md_state, PyModuleDef.m_size bytes, or
 * md_state_size on 3.15) keeps its types and constants: read as guessed
 * references. */
void ph_decode_module(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti)
{
	uint64_t state = 0, def = 0, size = 0, buf[512];
	(void)ti;
	if (!rdf(h, addr, h->off.mod_state, &state) || !state || (state & 7))
		return;
	if (h->off.mod_state_size >= 0)
		rdf(h, addr, h->off.mod_state_size, &size);
	else if (rdf(h, addr, h->off.mod_def, &def) && def)
		rdf(h, def, h->off.moddef_size, &size);
	if ((int64_t)size <= 0 || size > sizeof buf)
		return;
	size_t got = core_read(h->core, state, buf, (size_t)size) / 8;
	for (size_t i = 0; i < got; i++)
		if (buf[i] && !(buf[i] & 7))
			ph_emit(h, w, buf[i], PH_E_CONSERVATIVE, PH_EF_CONSERVATIVE,
				PH_LABEL_MODSTATE | (uint32_t)(8 * i));
}

/* ---- numpy arrays ---- */

/* PyArrayObject_fields, the same since numpy 1.7 (numpy/ndarraytypes.h):
 * data, nd, dimensions, strides, base, descr, flags, weakreflist.  The
 * descr's type_num is at +28 in numpy 1 and 2; 17 is NPY_OBJECT. */
enum { NPA_DATA = 0x10, NPA_ND = 0x18, NPA_DIMS = 0x20, NPA_STRIDES = 0x28, NPA_BASE = 0x30,
       NPA_DESCR = 0x38, NPA_FLAGS = 0x40, NPD_TYPE_NUM = 28, NPY_OBJECT = 17,
       NPY_C_CONTIGUOUS = 0x1, NPY_OWNDATA = 0x4 };
#define NPA_MAX_DIMS 64

/* The number of items and the bytes of a C-contiguous array (strides[0] *
 * dims[0]; a 0-d array: one item of strides-less size, unknown: 0). */
static bool ndarray_extent(ph_heap *h, uint64_t a, uint64_t *items, uint64_t *bytes)
{
	uint64_t dims = 0, strides = 0, nd = 0, flags = 0;
	uint32_t nd32 = 0, fl32 = 0;
	if (!rd32(h, a + NPA_ND, &nd32) || !rd64(h, a + NPA_DIMS, &dims) ||
	    !rd64(h, a + NPA_STRIDES, &strides) || !rd32(h, a + NPA_FLAGS, &fl32))
		return false;
	nd = nd32;
	flags = fl32;
	if (nd == 0 || nd > NPA_MAX_DIMS || !(flags & NPY_C_CONTIGUOUS))
		return false;
	uint64_t n = 1, d, s0 = 0;
	for (uint64_t i = 0; i < nd; i++) {
		if (!rd64(h, dims + 8 * i, &d) || d > (1ull << 40))
			return false;
		n *= d;
		if (n > (1ull << 40))
			return false;
	}
	if (!rd64(h, strides, &s0) || (int64_t)s0 < 0)
		return false;
	uint64_t d0 = 0;
	rd64(h, dims, &d0);
	*items = n;
	*bytes = d0 * s0;
	return *bytes < (1ull << 40);
}

bool ph_ndarray_data(ph_heap *h, uint64_t a, uint64_t *data, uint64_t *bytes)
{
	uint32_t flags = 0;
	uint64_t items;
	return rd32(h, a + NPA_FLAGS, &flags) && (flags & NPY_OWNDATA) &&
	       rd64(h, a + NPA_DATA, data) && *data && ndarray_extent(h, a, &items, bytes);
}

/* Its base (the array a view looks into), its dtype, and for an object
 * array the objects in its data. */
void ph_decode_ndarray(ph_heap *h, ph_walk *w, uint64_t a, uint32_t ti)
{
	uint64_t descr = 0, data = 0, items = 0, bytes = 0;
	uint32_t type_num = 0;
	(void)ti;
	ph_field(h, w, a, NPA_BASE, F_BASE);
	ph_field(h, w, a, NPA_DESCR, F_DTYPE);
	if (!rd64(h, a + NPA_DESCR, &descr) || !descr ||
	    !rd32(h, descr + NPD_TYPE_NUM, &type_num) || type_num != NPY_OBJECT ||
	    !rd64(h, a + NPA_DATA, &data) || !data || !ndarray_extent(h, a, &items, &bytes) ||
	    bytes != items * 8)
		return;
	ph_walk_array(h, w, data, items, PH_E_INDEX, 0);
}

/* numpy's __sizeof__: the struct, its dimensions and strides, and the data
 * it owns. */
uint64_t ph_size_ndarray(ph_heap *h, uint64_t a, const ph_type *t)
{
	uint32_t nd = 0;
	uint64_t data, bytes = 0;
	rd32(h, a + NPA_ND, &nd);
	uint64_t size = (uint64_t)t->basicsize + (nd <= NPA_MAX_DIMS ? 16ull * nd : 0);
	if (ph_ndarray_data(h, a, &data, &bytes))
		size += bytes;
	return size;
}

/* ---- every object ---- */

size_t ph_object_edges_raw(ph_heap *h, uint64_t addr, uint32_t ti, ph_lref_fn fn, void *payload)
{
	/* (decoders that look types up may move h->types: no pointer into it
	 * is kept across them) */
	const ph_kind_ops *k = &ph_kinds[h->types[ti].kind];
	uint64_t tflags = h->types[ti].flags;
	ph_walk w = {fn, payload, 0};
	if (k->edges)
		k->edges(h, &w, addr, ti);
	for (size_t i = 0; i < PH_KIND_FIELDS && k->fields[i].label != F_NONE; i++)
		ph_field(h, &w, addr, ph_offsets_get(&h->off, k->fields[i].off), k->fields[i].label);
	/* what every instance of the class holds: heap types, and static
	 * types below their family's built-in type (a C extension's) */
	if ((tflags & TPF_HEAPTYPE) ||
	    (h->types[ti].kind != K_OTHER && h->types[ti].addr != h->types[ti].kind_base))
		ph_walk_instance(h, &w, addr, ti);
	return w.n;
}
