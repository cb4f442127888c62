/*
 * objects.c - reading single objects: validation, sys.getsizeof, dicts and
 * the references an object holds.
 *
 * Only pointers are read; nothing runs.  Every count read from the heap
 * (tuple sizes, dict entries, slot tables) is bounded before it is used, so
 * a corrupt object costs a warning, not a hang.
 */
#include "walk.h"

#include <string.h>

#define MAX_ITEMS PH_MAX_ITEMS

/* Whether [addr, addr+len) can be one allocation: all of it in the core,
 * in one segment or in adjacent ones (no read), or small and readable
 * (module data).  A big one outside the arenas is a malloc chunk: with
 * glibc, its own header must say it holds that much (a corrupt length is
 * caught even when the memory after it happens to be in the core). */
static bool one_allocation(ph_heap *h, uint64_t addr, uint64_t len)
{
	uint8_t last;
	if (len == 0)
		return true;
	if (core_span(h->core, addr, len)) {
		const core_segment *s;
		if (len <= 4096 || !h->ranges_sorted || ph_in_arena(h, addr) ||
		    !(s = core_segment_find(h->core, addr)) || s->file ||
		    !core_malloc_glibc(h->core))
			return true;
		return core_malloc_usable(h->core, addr) >= len;
	}
	return len <= 4096 && addr + len > addr && core_read(h->core, addr + len - 1, &last, 1) == 1;
}

/* The bytes of a buffer an object owns (n items of elem bytes at p), as
 * getsizeof counts them: 0 when a corrupt count or pointer puts them
 * outside the memory the core holds. */
static uint64_t buffer_size(ph_heap *h, uint64_t p, uint64_t n, uint64_t elem)
{
	return n < MAX_ITEMS && one_allocation(h, p, n * elem) ? n * elem : 0;
}

/* Digit count of an int: |ob_size| before 3.12, lv_tag >> 3 after. */
static uint64_t int_ndigits(ph_heap *h, uint64_t addr)
{
	uint64_t v = 0;
	if (h->off.long_lv_tag >= 0) {
		rdf(h, addr, h->off.long_lv_tag, &v);
		return v >> 3;
	}
	rd64(h, addr + 16, &v);
	return (int64_t)v < 0 ? 0 - v : v;   /* unsigned: INT64_MIN too */
}

uint64_t ph_body_str(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t len = 0;
	uint32_t state = 0;
	rdf(h, addr, h->off.ascii_length, &len);
	rd32(h, addr + (uint64_t)h->off.ascii_state, &state);
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (len > MAX_ITEMS)
		len = 0;
	if (compact && ascii)
		return (uint64_t)h->off.ascii_size + len + 1;
	if (compact)
		return (uint64_t)h->off.compact_size + (len + 1) * kind;
	return (uint64_t)t->basicsize;   /* non-compact: data is a separate block */
}

/* datetime.time and datetime.datetime (the types themselves, not
 * subclasses) are allocated without their last word, tzinfo, unless
 * hastzinfo (the byte after the cached hash) says they have one. */
uint64_t ph_body_datetime(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint8_t hastz = 1;
	if (t->addr != t->kind_base || t->basicsize < 32)
		return (uint64_t)t->basicsize;
	core_read(h->core, addr + 24, &hastz, 1);
	return (uint64_t)t->basicsize - (hastz ? 0 : 8);
}

/* tp_basicsize and ob_size items of tp_itemsize; UINT64_MAX for a count no
 * object can have. */
static uint64_t var_body(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t n = 0;
	rd64(h, addr + 16, &n);
	if ((int64_t)n < 0)
		n = 0 - n;
	if (n > MAX_ITEMS)
		return UINT64_MAX;
	return (uint64_t)t->basicsize + n * (uint64_t)(t->itemsize > 0 ? t->itemsize : 0);
}

/* A type object: a static one (not a heap type, in a module's data) is a
 * PyTypeObject, smaller than the tp_basicsize of its metatype (`type`'s is
 * sizeof(PyHeapTypeObject)), and what follows it in memory may not be in
 * the core; a heap type has its metatype's size and its slots' members. */
uint64_t ph_body_type(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t f = 0;
	if (rdf(h, addr, h->off.tp_flags, &f) && !(f & TPF_HEAPTYPE) && h->off.tp_size > 0)
		return (uint64_t)h->off.tp_size;
	return var_body(h, addr, t);
}

uint64_t ph_body_int(ph_heap *h, uint64_t addr, const ph_type *t)
{
	(void)t;
	return 24 + 4 * int_ndigits(h, addr);
}

/* The bytes the object itself occupies from its PyObject on; used to check
 * that a candidate fits in its block. */
static uint64_t body_need(ph_heap *h, uint64_t addr, const ph_type *t)
{
	const ph_kind_ops *k = &ph_kinds[t->kind];
	if (k->body)
		return k->body(h, addr, t);
	if (t->itemsize > 0 || k->var_size)
		return var_body(h, addr, t);
	return (uint64_t)t->basicsize;
}

static int preheader_of_obj(ph_heap *h, uint64_t addr, const ph_type *t)
{
	if (ph_kinds[t->kind].gc_if_heap_type) {
		/* type objects are GC objects only when they are heap types */
		uint64_t f = 0;
		rdf(h, addr, h->off.tp_flags, &f);
		return (f & TPF_HEAPTYPE) ? t->preheader : 0;
	}
	return t->preheader;
}

uint32_t ph_object_check(ph_heap *h, uint64_t addr, uint64_t alloc_cap)
{
	uint64_t w[2];
	if (!addr || (addr & 7) || core_read(h->core, addr, w, 16) != 16)
		return PH_NONE;
	return ph_object_check_words(h, addr, w[0], w[1], alloc_cap);
}

/* Whether a count can be a live object's, beyond its range: a mortal
 * object cannot have more references than the process has words to hold
 * them; and a large count that is the address of an object (a type, None,
 * a str: its second word a type) is a pointer, left in a block that holds
 * no object (a list's items, a dict's entries, a freed object's link),
 * however plausible the type word after it looks.  On a binary that is not
 * position-independent such pointers are small enough to pass for counts.
 * Immortal counts, and 3.11's deep-frozen statics outside the arenas, are
 * exempt. */
static bool refcnt_plausible(ph_heap *h, uint64_t refcnt, uint64_t alloc_cap)
{
	uint64_t count = h->tr->refcnt == PH_REFCNT_LOW32 ? (uint32_t)refcnt : refcnt, tp;
	if (count < (1u << 20) ||
	    ph_refcnt_immortal(h, refcnt, alloc_cap ? PH_OBJ_ARENA : PH_OBJ_REF))
		return true;
	if (count > h->max_refcnt)
		return false;
	if (count & 7)
		return true;
	return ph_type_lookup(h, count) == PH_NONE &&
	       !(rd64(h, count + 8, &tp) && ph_type_lookup(h, tp) != PH_NONE);
}

uint32_t ph_object_check_words(ph_heap *h, uint64_t addr, uint64_t refcnt, uint64_t type,
			       uint64_t alloc_cap)
{
	/* A refcount is positive and far below any pointer value.  3.12+ (the
	 * default build) never lets it pass 2^32: immortal objects sit at
	 * 0xFFFFFFFF and increments stop there.  Before 3.12 it is a full
	 * Py_ssize_t, but 2^40 references cannot exist.  A block that once held
	 * a freed object and was reused as a raw buffer (list items, dict keys,
	 * ...) often keeps the old ob_type while its first word became the
	 * pymalloc free-list link, a pointer: that is not a live object. */
	if (!ph_refcnt_word_ok(h, refcnt) || !refcnt_plausible(h, refcnt, alloc_cap))
		return PH_NONE;
	uint32_t ti = ph_type_lookup(h, type);
	if (ti == PH_NONE)
		return PH_NONE;
	if (alloc_cap && body_need(h, addr, &h->types[ti]) > alloc_cap)
		return PH_NONE;
	if (!alloc_cap) {
		/* not in a block: the body it claims must still be in memory (a
		 * corrupt length would otherwise count gigabytes).  No claim
		 * (UINT64_MAX) is no evidence: 3.11+ generators have an item
		 * size, for their frame, but no ob_size. */
		uint64_t need = body_need(h, addr, &h->types[ti]);
		uint64_t pre = (uint64_t)preheader_of_obj(h, addr, &h->types[ti]);
		if (need != UINT64_MAX && !one_allocation(h, addr - pre, need + pre))
			return PH_NONE;
	}
	return ti;
}

int ph_object_preheader(ph_heap *h, uint64_t addr, uint32_t ti)
{
	return preheader_of_obj(h, addr, &h->types[ti]);
}

/* ---- dicts ---- */

typedef struct dict_layout {
	uint64_t keys, values;       /* values: split table values, 0 if combined */
	uint64_t nentries, entries, esize, kofs, vofs;
	int64_t dk_refcnt;
	uint64_t dk_size, usable;
	unsigned dk_kind;
	uint64_t index_bytes;
} dict_layout;

static bool keys_layout(ph_heap *h, uint64_t keys, dict_layout *L)
{
	uint64_t v;
	memset(L, 0, sizeof *L);
	L->keys = keys;
	if (!keys || !rd64(h, keys, &v))
		return false;
	L->dk_refcnt = (int64_t)v;
	if (!rdf(h, keys, h->off.dk_nentries, &L->nentries) ||
	    !rdf(h, keys, h->off.dk_usable, &L->usable))
		return false;
	if (h->off.dk_size >= 0) {                       /* 3.8 - 3.10 */
		if (!rdf(h, keys, h->off.dk_size, &L->dk_size) || L->dk_size == 0 ||
		    L->dk_size > MAX_ITEMS || (L->dk_size & (L->dk_size - 1)))
			return false;
		uint64_t ix = L->dk_size <= 0xff ? 1 : L->dk_size <= 0xffff ? 2 :
			      L->dk_size <= 0xffffffffull ? 4 : 8;
		L->index_bytes = ix * L->dk_size;
		L->esize = 24;
		L->kofs = 8;
		L->vofs = 16;
	} else {                                         /* 3.11+ */
		uint8_t b[3];
		if (core_read(h->core, keys + (uint64_t)h->off.dk_log2_size, b, 1) != 1 ||
		    core_read(h->core, keys + (uint64_t)h->off.dk_log2_index_bytes, b + 1, 1) != 1 ||
		    core_read(h->core, keys + (uint64_t)h->off.dk_kind, b + 2, 1) != 1)
			return false;
		if (b[0] > 31 || b[1] > 34 || b[2] > 2)
			return false;
		L->dk_size = 1ull << b[0];
		L->index_bytes = 1ull << b[1];
		L->dk_kind = b[2];
		L->esize = b[2] == 0 ? 24 : 16;
		L->kofs = b[2] == 0 ? 8 : 0;
		L->vofs = b[2] == 0 ? 16 : 8;
	}
	/* dk_usable counts down from a third less than dk_size as entries are
	 * added: never above it */
	if (L->nentries > L->dk_size || L->usable > L->dk_size)
		return false;
	L->entries = keys + (uint64_t)h->off.dk_indices + L->index_bytes;
	/* the keys object is one allocation, its entries sized for two thirds
	 * of dk_size: a corrupt size whose end is not in the core would have
	 * every walk read megabytes of other data, and getsizeof count them */
	return one_allocation(h, keys, L->entries + ((L->dk_size << 1) / 3) * L->esize - keys);
}

static bool dict_layout_of(ph_heap *h, uint64_t dict, dict_layout *L)
{
	uint64_t keys = 0, values = 0;
	if (!rdf(h, dict, h->off.dict_ma_keys, &keys) || !keys_layout(h, keys, L))
		return false;
	rdf(h, dict, h->off.dict_ma_values, &values);
	if (values)   /* 3.13 puts an 8-byte header in front of the values */
		L->values = values + h->tr->values_prefix;
	return true;
}

/* Visits live entries; values come from `values` when non-zero (split). */
static void entries_foreach(ph_heap *h, const dict_layout *L, uint64_t values,
			    bool keys_only, ph_dict_fn fn, void *payload)
{
	uint8_t buf[24 * 64];
	for (uint64_t i = 0; i < L->nentries;) {
		uint64_t n = L->nentries - i;
		if (n > 64)
			n = 64;
		size_t bytes = (size_t)(n * L->esize);
		if (core_read(h->core, L->entries + i * L->esize, buf, bytes) != bytes) {
			ph_warn(h, W_UNREADABLE, "dict entries unreadable (keys object at 0x%llx)",
				(unsigned long long)L->keys);
			return;
		}
		uint64_t vals[64];
		if (values && core_read(h->core, values + i * 8, vals, (size_t)n * 8) != n * 8) {
			ph_warn(h, W_UNREADABLE, "dict values unreadable (at 0x%llx)",
				(unsigned long long)values);
			return;
		}
		for (uint64_t j = 0; j < n; j++) {
			uint64_t k, v;
			memcpy(&k, buf + j * L->esize + L->kofs, 8);
			if (values)
				v = vals[j];
			else
				memcpy(&v, buf + j * L->esize + L->vofs, 8);
			if (k && (v || keys_only) && !fn(h, k, v, payload))
				return;
		}
		i += n;
	}
}

void ph_dict_foreach(ph_heap *h, uint64_t dict, ph_dict_fn fn, void *payload)
{
	dict_layout L;
	if (!dict_layout_of(h, dict, &L))
		return;
	entries_foreach(h, &L, L.values, false, fn, payload);
}

void ph_keys_foreach(ph_heap *h, uint64_t keys, ph_dict_fn fn, void *payload)
{
	dict_layout L;
	if (keys_layout(h, keys, &L))
		entries_foreach(h, &L, 0, true, fn, payload);
}

bool ph_dict_split(ph_heap *h, uint64_t dict)
{
	uint64_t values = 0;
	return rdf(h, dict, h->off.dict_ma_values, &values) && values;
}

uint64_t ph_keys_nentries(ph_heap *h, uint64_t keys)
{
	dict_layout L;
	return keys_layout(h, keys, &L) ? L.nentries : 0;
}

struct get_str { const char *key; uint64_t found; };

static bool get_str_cb(ph_heap *h, uint64_t k, uint64_t v, void *payload)
{
	struct get_str *g = payload;
	char buf[128];
	if (ph_str_read(h, k, buf, sizeof buf) && strcmp(buf, g->key) == 0) {
		g->found = v;
		return false;
	}
	return true;
}

uint64_t ph_dict_get_str(ph_heap *h, uint64_t dict, const char *key)
{
	struct get_str g = {key, 0};
	ph_dict_foreach(h, dict, get_str_cb, &g);
	return g.found;
}

static uint64_t keys_size(const ph_heap *h, const dict_layout *L)
{
	uint64_t usable = (L->dk_size << 1) / 3;
	return h->tr->dict_keys_header + L->index_bytes + usable * L->esize;
}

bool ph_dict_parts(ph_heap *h, uint64_t dict, ph_part *keys, ph_part *values)
{
	dict_layout L;
	uint64_t raw_values = 0;
	*keys = *values = (ph_part){0, 0, 0};
	if (!dict_layout_of(h, dict, &L))
		return false;
	/* a keys object shared by split tables belongs to their class */
	if (L.dk_refcnt == 1) {
		keys->addr = L.keys;
		keys->bytes = keys_size(h, &L);
	}
	rdf(h, dict, h->off.dict_ma_values, &raw_values);
	if (!raw_values)
		return true;
	if (h->tr->values_size == PH_VALUES_BY_KEYS) {
		values->addr = raw_values;
		values->bytes = ((L.dk_size << 1) / 3) * 8;
	} else if (h->tr->values_size == PH_VALUES_BY_ENTRIES &&
		   one_allocation(h, raw_values, (L.nentries + L.usable) * 8)) {
		/* 3.11, 3.12: new_values() puts a prefix (its length in its
		 * last byte) in front of the slots */
		uint8_t prefix = 0;
		values->bytes = (L.nentries + L.usable) * 8;
		values->addr = raw_values;
		if (core_read(h->core, raw_values - 1, &prefix, 1) == 1 && prefix >= 8 &&
		    prefix <= 80 && !(prefix & 7)) {
			values->addr = raw_values - prefix;
			values->prefix = prefix;
		}
	} else {
		/* 3.13: values embedded in the owner are counted there */
		uint8_t emb = 0;
		core_read(h->core, raw_values + 2, &emb, 1);
		if (!emb) {
			uint64_t n = L.nentries + L.usable;
			values->addr = raw_values;
			values->bytes = ((n + 7) & ~7ull) + (n + 1) * 8;
		}
	}
	return true;
}

uint64_t ph_keys_bytes(ph_heap *h, uint64_t keys)
{
	dict_layout L;
	return keys_layout(h, keys, &L) ? keys_size(h, &L) : 0;
}

static uint64_t dict_sizeof(ph_heap *h, uint64_t dict, const ph_type *t)
{
	ph_part keys, values;
	uint64_t res = (uint64_t)t->basicsize;
	if (!ph_dict_parts(h, dict, &keys, &values))
		return res;
	/* (getsizeof leaves 3.11's and 3.12's values prefix out) */
	return res + keys.bytes + values.bytes;
}

/* ---- sys.getsizeof ---- */

uint64_t ph_getsizeof_prefix_read(ph_heap *h, uint64_t addr, const ph_type *t)
{
	switch (h->tr->sizeof_prefix) {
	case PH_SIZEOF_GC_HEAD:
		return preheader_of_obj(h, addr, t) ? GC_HEAD_SIZE : 0;
	case PH_SIZEOF_PREHEADER:
		/* a static type is counted with its metatype's GC head, which
		 * it does not have */
		return (uint64_t)t->preheader;
	case PH_SIZEOF_PREHEADER_NOT_STATIC:
		/* but for one whose type is `type`: ctypes' static types of
		 * PyCArrayType and the like still are */
		return t->addr != h->type_type ? (uint64_t)t->preheader
					       : (uint64_t)preheader_of_obj(h, addr, t);
	}
	return (uint64_t)preheader_of_obj(h, addr, t);
}

void ph_list_part(ph_heap *h, uint64_t addr, ph_part *items)
{
	uint64_t v = 0;
	*items = (ph_part){0, 0, 0};
	rdf(h, addr, h->off.list_allocated, &v);
	rdf(h, addr, h->off.list_ob_item, &items->addr);
	items->bytes = buffer_size(h, items->addr, v, 8);
}

uint64_t ph_size_list(ph_heap *h, uint64_t addr, const ph_type *t)
{
	ph_part items;
	ph_list_part(h, addr, &items);
	return (uint64_t)t->basicsize + items.bytes;
}

uint64_t ph_size_dict(ph_heap *h, uint64_t addr, const ph_type *t)
{
	return dict_sizeof(h, addr, t);
}

void ph_set_part(ph_heap *h, uint64_t addr, ph_part *table)
{
	uint64_t mask = 0;
	*table = (ph_part){0, 0, 0};
	if (rdf(h, addr, h->off.set_table, &table->addr) && rdf(h, addr, h->off.set_mask, &mask) &&
	    table->addr != addr + (uint64_t)h->off.set_smalltable)
		table->bytes = buffer_size(h, table->addr, mask + 1, 16);
}

uint64_t ph_size_set(ph_heap *h, uint64_t addr, const ph_type *t)
{
	ph_part table;
	ph_set_part(h, addr, &table);
	return (uint64_t)t->basicsize + table.bytes;
}

void ph_str_parts(ph_heap *h, uint64_t addr, ph_part *data, ph_part *utf8)
{
	uint32_t state = 0;
	*data = *utf8 = (ph_part){0, 0, 0};
	rd32(h, addr + (uint64_t)h->off.ascii_state, &state);
	uint64_t own = 0;
	if (!((state >> 5) & 1)) {     /* non-compact: its data block */
		uint64_t len = 0;
		rdf(h, addr, h->off.ascii_length, &len);
		rdf(h, addr, h->off.unicode_data, &data->addr);
		data->bytes = buffer_size(h, data->addr, len + 1, (state >> 2) & 7);
		own = data->addr;
	} else {
		own = addr + (uint64_t)h->off.compact_size;
	}
	/* unicode___sizeof__ adds a UTF-8 copy kept in its own buffer
	 * (_PyUnicode_HAS_UTF8_MEMORY): not compact ASCII, utf8 set and
	 * not the data itself.  PyCompactUnicodeObject puts utf8_length
	 * and utf8 right after the PyASCIIObject on 3.8 - 3.13. */
	bool compact_ascii = ((state >> 5) & 1) && ((state >> 6) & 1);
	uint64_t u8len = 0, u8 = 0;
	if (!compact_ascii && h->off.ascii_size > 0 && h->off.compact_size > 0 &&
	    rdf(h, addr, h->off.ascii_size + 8, &u8) && u8 &&
	    rdf(h, addr, h->off.ascii_size, &u8len) && u8len < MAX_ITEMS && u8 != own) {
		utf8->addr = u8;
		utf8->bytes = buffer_size(h, u8, u8len + 1, 1);
	}
}

uint64_t ph_size_str(ph_heap *h, uint64_t addr, const ph_type *t)
{
	ph_part data, utf8;
	uint32_t state = 0;
	rd32(h, addr + (uint64_t)h->off.ascii_state, &state);
	if (((state >> 5) & 3) == 3) {
		/* compact ASCII, most str: ph_body_str's size, no buffers */
		uint64_t len = 0;
		rdf(h, addr, h->off.ascii_length, &len);
		return (uint64_t)h->off.ascii_size + (len > MAX_ITEMS ? 0 : len) + 1;
	}
	uint64_t body = ph_body_str(h, addr, t);
	/* non-compact (a str subclass's instances): unicode___sizeof__ counts
	 * sizeof(PyUnicodeObject), not the subclass's basicsize (which has
	 * its dict and weakref slots before 3.12), and the data block */
	if (!((state >> 5) & 1) && h->off.unicodeobj_size > 0)
		body = (uint64_t)h->off.unicodeobj_size;
	ph_str_parts(h, addr, &data, &utf8);
	body += data.bytes + utf8.bytes;
	return body;
}

uint64_t ph_size_int(ph_heap *h, uint64_t addr, const ph_type *t)
{
	(void)t;
	uint64_t n = int_ndigits(h, addr);
	if (n >= MAX_ITEMS)
		n = 0;                  /* corrupt: a digit count of up to 2^63 */
	if (h->tr->int_one_digit && n == 0)
		n = 1;
	return 24 + 4 * n;
}

void ph_bytearray_part(ph_heap *h, uint64_t addr, ph_part *bytes)
{
	uint64_t v = 0;   /* ob_alloc, then ob_bytes, after the var head */
	*bytes = (ph_part){0, 0, 0};
	rd64(h, addr + 0x18, &v);
	rd64(h, addr + 0x20, &bytes->addr);
	bytes->bytes = buffer_size(h, bytes->addr, v, 1);
	/* 3.15 keeps the bytes in a bytes object it holds (ob_bytes_object):
	 * the allocation starts at that object's header */
	uint64_t bo = 0;
	if (h->off.bytearray_bytes_object > 0 && rdf(h, addr, h->off.bytearray_bytes_object, &bo) &&
	    bo && bytes->addr > bo && bytes->addr - bo <= 64) {
		bytes->prefix = (unsigned)(bytes->addr - bo);
		bytes->addr = bo;
	}
}

uint64_t ph_size_bytearray(ph_heap *h, uint64_t addr, const ph_type *t)
{
	ph_part bytes;
	ph_bytearray_part(h, addr, &bytes);
	return (uint64_t)t->basicsize + bytes.bytes;
}

uint64_t ph_size_type(ph_heap *h, uint64_t addr, const ph_type *t)
{
	(void)t;
	uint64_t f = 0, ck = 0, body;
	rdf(h, addr, h->off.tp_flags, &f);
	if (f & TPF_HEAPTYPE) {
		body = (uint64_t)h->off.ht_size;
		dict_layout L;
		if (rdf(h, addr, h->off.ht_cached_keys, &ck) && ck && keys_layout(h, ck, &L))
			body += keys_size(h, &L);
	} else {
		body = (uint64_t)h->off.tp_size;
	}
	return body;
}

/* The size of an object no row sizes: the bytes it occupies. */
static uint64_t generic_size(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t body = body_need(h, addr, t);
	/* 3.13.0's object.__sizeof__ leaves inline values out */
	return body == UINT64_MAX ? (uint64_t)t->basicsize : body;
}

uint64_t ph_object_sizeof(ph_heap *h, uint64_t addr, const ph_type *t)
{
	const ph_kind_ops *k = &ph_kinds[t->sizer != K_OTHER ? t->sizer : t->kind];
	uint64_t body = k->size ? k->size(h, addr, t) : generic_size(h, addr, t);
	return body + ph_getsizeof_prefix(h, addr, t);
}

/* ---- sizes that count what the object owns outside itself ---- */

/* object.__sizeof__ of a type without items: tp_basicsize, however much
 * of it the object was allocated */
uint64_t ph_size_basic(ph_heap *h, uint64_t addr, const ph_type *t)
{
	(void)h;
	(void)addr;
	return (uint64_t)t->basicsize;
}

/* deque.__sizeof__: the object and its blocks, BLOCKLEN items each, from
 * the one leftindex starts in to the one that holds the last item */
uint64_t ph_size_deque(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t n = 0, idx = 0, size = (uint64_t)t->basicsize;
	int64_t blocklen = (h->off.block_rightlink - h->off.block_data) / 8;
	if (h->off.block_data < 0 || h->off.block_rightlink < 0 || h->off.block_size <= 0 ||
	    blocklen <= 0 || !rd64(h, addr + 16, &n) ||
	    !rdf(h, addr, h->off.deque_leftindex, &idx) ||
	    n > MAX_ITEMS || idx >= (uint64_t)blocklen)
		return size;
	uint64_t blocks = (idx + n + (uint64_t)blocklen - 1) / (uint64_t)blocklen;
	return size + blocks * (uint64_t)h->off.block_size;
}

/* The length of a tuple that a code object holds (0 for NULL), or
 * UINT64_MAX when it is no tuple. */
static uint64_t code_tuple_len(ph_heap *h, uint64_t co, int64_t off)
{
	uint64_t tup = 0, tp = 0, n = 0;
	if (!rdf(h, co, off, &tup))
		return UINT64_MAX;
	if (!tup)
		return 0;
	if (!rd64(h, tup + 8, &tp) || tp != h->kind_types[K_TUPLE] || !rd64(h, tup + 16, &n) ||
	    n > (1u << 20))
		return UINT64_MAX;
	return n;
}

/* code.__sizeof__: the object (3.11+: with its code units, rounded up to
 * a word by _PyObject_VAR_SIZE); on 3.8 - 3.10 the cell-to-argument map
 * (a Py_ssize_t a cell variable) and, once the code is hot, the
 * LOAD_GLOBAL cache (a byte a code unit of co_code, and co_opcache_size
 * entries); the extra slots PEP 523 tools keep */
uint64_t ph_size_code(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t size = (generic_size(h, addr, t) + 7) & ~7ull, p = 0, n, code = 0, tp = 0;
	uint8_t cache = 0;
	if (rdf(h, addr, h->off.co_cell2arg, &p) && p &&
	    (n = code_tuple_len(h, addr, h->off.co_cellvars)) != UINT64_MAX)
		size += 8 * n;
	if (h->off.opcache_size > 0 && rdf(h, addr, h->off.co_opcache, &p) && p &&
	    core_read(h->core, addr + (uint64_t)h->off.co_opcache_size, &cache, 1) == 1 &&
	    rdf(h, addr, h->off.co_code, &code) && code && rd64(h, code + 8, &tp) &&
	    tp == h->kind_types[K_BYTES] && rd64(h, code + 16, &n) && n < MAX_ITEMS)
		size += n / 2 + cache * (uint64_t)h->off.opcache_size;
	if (rdf(h, addr, h->off.co_extra, &p) && p && rd64(h, p, &n) && n > 0 && n < 256)
		size += 8 + 8 * n;   /* _PyCodeObjectExtra: ce_size, ce_extras[ce_size] */
	return size;
}

/* frame.__sizeof__ of frame objects (3.8 - 3.10): sizeof(PyFrameObject),
 * which has one slot of f_localsplus, and the rest of the slots the code
 * needs -- not the slots the frame has, which may be more (frames are
 * reused from a free list and from their code's zombie frame) */
uint64_t ph_size_frame(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t co = 0, tp = 0, cells, frees;
	uint32_t stack = 0, nlocals = 0;
	if (h->tr->frames != PH_FRAMES_OBJECTS || t->itemsize <= 0 ||
	    !rdf(h, addr, h->off.frame_code, &co) || !co || !rd64(h, co + 8, &tp) ||
	    tp != h->kind_types[K_CODE] ||
	    !rd32(h, co + (uint64_t)h->off.co_stacksize, &stack) ||
	    !rd32(h, co + (uint64_t)h->off.co_nlocals, &nlocals) ||
	    stack > (1u << 20) || nlocals > (1u << 20) ||
	    (cells = code_tuple_len(h, co, h->off.co_cellvars)) == UINT64_MAX ||
	    (frees = code_tuple_len(h, co, h->off.co_freevars)) == UINT64_MAX)
		return generic_size(h, addr, t);
	int64_t extras = (int64_t)stack + nlocals + (int64_t)cells + (int64_t)frees;
	return (uint64_t)(t->basicsize + (extras - 1) * t->itemsize);
}

/* _io.BufferedReader, BufferedWriter, BufferedRandom: the object and its
 * buffer, once allocated */
uint64_t ph_size_buffered(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t buf = 0, n = 0, size = (uint64_t)t->basicsize;
	if (rdf(h, addr, h->off.buffered_buffer, &buf) && buf &&
	    rdf(h, addr, h->off.buffered_buffer_size, &n))
		size += buffer_size(h, buf, n, 1);
	return size;
}

/* _struct.Struct (PyStructObject) and its formatcode table, from the
 * DWARF of _struct (a shared module on pyenv's builds, built in on
 * Debian's): s_len at 24, s_codes at 32, 32 bytes a formatcode with its
 * formatdef pointer first, on 3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1 and
 * 3.13.0 (pyenv), 3.11.2, 3.13.5, 3.13.18, 3.14.10 and 3.15.2 (Debian). */
#define STRUCT_S_LEN 24
#define STRUCT_S_CODES 32
#define FORMATCODE_SIZE 32
/* more codes than any format has (each code is at least one item) */
#define STRUCT_MAX_CODES 65536

/* s_sizeof: the object and its codes, up to the one whose fmtdef is NULL,
 * which ends them.  A table that does not end within s_len codes, or a
 * code that is no pointer, refuses the layout: the object alone. */
uint64_t ph_size_struct(ph_heap *h, uint64_t addr, const ph_type *t)
{
	uint64_t len = 0, codes = 0, size = (uint64_t)t->basicsize;
	if (t->basicsize < STRUCT_S_CODES + 8 || !rd64(h, addr + STRUCT_S_LEN, &len) ||
	    !rd64(h, addr + STRUCT_S_CODES, &codes) || !codes || (codes & 7) ||
	    (int64_t)len < 0)
		return size;
	uint64_t max = len < STRUCT_MAX_CODES ? len : STRUCT_MAX_CODES;
	for (uint64_t i = 0; i <= max;) {
		uint64_t buf[64 * FORMATCODE_SIZE / 8];
		uint64_t n = max + 1 - i < 64 ? max + 1 - i : 64;
		size_t bytes = (size_t)(n * FORMATCODE_SIZE);
		if (core_read(h->core, codes + i * FORMATCODE_SIZE, buf, bytes) != bytes)
			return size;
		for (uint64_t j = 0; j < n; j++, i++) {
			uint64_t fmtdef = buf[j * FORMATCODE_SIZE / 8];
			if (fmtdef & 7)
				return size;
			if (!fmtdef)
				return one_allocation(h, codes, (i + 1) * FORMATCODE_SIZE)
					       ? size + (i + 1) * FORMATCODE_SIZE : size;
		}
	}
	return size;
}

/* ctypes' C data of a type (enum ph_ctypes): the fields its __sizeof__
 * reads, as offsets in the StgDict or StgInfo.  From the DWARF of _ctypes
 * (a shared module on every build checked, so not in offsets.h's tables):
 * StgDictObject on 3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1 (pyenv) and
 * 3.11.2 (Debian 12); StgInfo on 3.13.0 (pyenv), 3.13.5 and 3.13.18
 * (Debian); 3.14's StgInfo on 3.14.10 and 3.15.2 (Debian sid). */
static const struct ctypes_layout {
	int64_t size;          /* sizeof(StgDictObject) or sizeof(StgInfo) */
	int64_t initialized;   /* int: 0 for an abstract class (-1: none, a StgDict) */
	int64_t length;        /* Py_ssize_t: fields (an array's items) */
	int64_t elements;      /* ffi_type_pointer.elements: length + 1 pointers, or NULL */
	int64_t format;        /* char *: the PEP 3118 format, or NULL */
	int64_t ndim;          /* int: the length of shape */
} ctypes_layouts[] = {   /* indexed by enum ph_ctypes; [0] (not set): none */
	[PH_CTYPES_STGDICT] = { 192, -1, 64, 88, 168, 176 },
	[PH_CTYPES_STGINFO_313] = { 160, 0, 24, 48, 136, 144 },
	[PH_CTYPES_STGINFO_314] = { 168, 0, 24, 48, 144, 152 },
};

/* strlen of the C string at p if it ends within max bytes, else -1 */
static int64_t c_strlen(ph_heap *h, uint64_t p, uint64_t max)
{
	char buf[256];
	for (uint64_t done = 0; done < max;) {
		size_t want = max - done < sizeof buf ? (size_t)(max - done) : sizeof buf;
		size_t got = core_read(h->core, p + done, buf, want);
		const char *nul = memchr(buf, 0, got);
		if (nul)
			return (int64_t)(done + (uint64_t)(nul - buf));
		if (got < want)
			return -1;
		done += got;
	}
	return -1;
}

/* What ctypes' __sizeof__ adds for the C data at p: the format string,
 * the shape (ndim sizes) and the ffi element array.  Values out of range
 * mean the layout does not fit: *ok is false. */
static uint64_t ctypes_extra(ph_heap *h, uint64_t p, const struct ctypes_layout *L, bool *ok)
{
	uint64_t length = 0, elements = 0, format = 0, extra = 0;
	uint32_t init = 1, ndim = 0;
	*ok = false;
	if (L->initialized >= 0 && (!rd32(h, p + (uint64_t)L->initialized, &init) || init > 1))
		return 0;
	if (!init) {             /* no info: an abstract class (Structure) */
		*ok = true;
		return 0;
	}
	if (!rd64(h, p + (uint64_t)L->length, &length) ||
	    !rd64(h, p + (uint64_t)L->elements, &elements) ||
	    !rd64(h, p + (uint64_t)L->format, &format) ||
	    !rd32(h, p + (uint64_t)L->ndim, &ndim) ||
	    length >= MAX_ITEMS || ndim > 64 || (elements & 7))   /* 64: PyBUF_MAX_NDIM */
		return 0;
	if (format) {
		int64_t n = c_strlen(h, format, 1u << 16);
		if (n < 0)
			return 0;
		extra += (uint64_t)n + 1;
	}
	extra += 8ull * ndim;
	if (elements) {
		if (!one_allocation(h, elements, (length + 1) * 8))
			return 0;
		extra += (length + 1) * 8;
	}
	*ok = true;
	return extra;
}

/* StgDict's __sizeof__ (3.8 - 3.12): the dict's, which counts the type's
 * basicsize, plus sizeof(StgDictObject) - sizeof(PyDictObject) again,
 * plus its C data */
uint64_t ph_size_stgdict(ph_heap *h, uint64_t addr, const ph_type *t)
{
	const struct ctypes_layout *L = &ctypes_layouts[h->tr->ctypes];
	uint64_t size = dict_sizeof(h, addr, t);
	int64_t dict_size = h->off.dict_ma_values + 8;   /* ma_values is its last field */
	bool ok;
	if (L->size <= 0 || L->initialized >= 0 || t->basicsize < L->size || h->off.dict_ma_values < 0)
		return size;
	uint64_t extra = ctypes_extra(h, addr, L, &ok);
	return ok ? size + (uint64_t)(L->size - dict_size) + extra : size;
}

/* CType_Type.__sizeof__ (3.13+), of a ctypes type: its metatype's
 * basicsize and items, plus the C data of its StgInfo, which
 * PyObject_GetTypeData puts after the PyHeapTypeObject, aligned to 16 */
uint64_t ph_size_ctype(ph_heap *h, uint64_t addr, const ph_type *t)
{
	const struct ctypes_layout *L = &ctypes_layouts[h->tr->ctypes];
	uint64_t n = 0, size = (uint64_t)t->basicsize;
	if (rd64(h, addr + 16, &n) && n < PH_MAX_SLOTS && t->itemsize > 0)
		size += n * (uint64_t)t->itemsize;
	int64_t info = (h->off.ht_size + 15) & ~15ll;
	bool ok;
	if (L->size <= 0 || L->initialized < 0 || h->off.ht_size <= 0 ||
	    t->basicsize < info + ((L->size + 15) & ~15ll))
		return size;
	uint64_t extra = ctypes_extra(h, addr + (uint64_t)info, L, &ok);
	return ok ? size + extra : size;
}
