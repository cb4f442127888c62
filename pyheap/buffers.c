/*
 * buffers.c - the memory an object owns apart from itself, and what the
 * memory ledger needs of the model.
 *
 * Many objects keep their contents in a second allocation: a list its item
 * table, a dict its keys object and a split table's values, a set its
 * table, a str that is not compact its characters (and any str its UTF-8
 * copy), a bytearray, an array.array and a numpy array their data, a deque
 * its blocks, a class its instances' shared keys, and on 3.11 and 3.12 an
 * instance without a __dict__ object its values.  Small ones come from
 * pymalloc; over 512 bytes from malloc, where the ledger (analyzer's
 * an_memory) gives each such chunk its owner.  sys.getsizeof counts most
 * of them; ph_type_buffers and ph_object_extra say which it does not.
 *
 * The type of each buffer-owning family is decided once per type (its
 * kind, or its name for the C types pyheap sizes no other way), so the
 * call costs nothing for the objects that own none.
 */
#include "walk.h"

#include <string.h>

#define DEQUE_BLOCK (64 * 8 + 16)     /* leftlink, 64 items, rightlink */
#define MAX_DEQUE_BLOCKS (1u << 24)

static const char *const kind_names[PH_BUF_NKINDS] = {
	[PH_BUF_LIST_ITEMS] = "list items",
	[PH_BUF_DICT_KEYS] = "dict keys",
	[PH_BUF_DICT_VALUES] = "dict values",
	[PH_BUF_INSTANCE_VALUES] = "instance values",
	[PH_BUF_SHARED_KEYS] = "shared keys",
	[PH_BUF_SET_TABLE] = "set table",
	[PH_BUF_STR_DATA] = "str data",
	[PH_BUF_STR_UTF8] = "str utf-8",
	[PH_BUF_BYTEARRAY] = "bytearray data",
	[PH_BUF_ARRAY] = "array.array data",
	[PH_BUF_NDARRAY] = "ndarray data",
	[PH_BUF_NDARRAY_SHAPE] = "ndarray shape",
	[PH_BUF_DEQUE_BLOCKS] = "deque blocks",
};

const char *ph_buffer_kind_name(unsigned kind)
{
	return kind < PH_BUF_NKINDS ? kind_names[kind] : "?";
}

/* How a type's objects own buffers: decided once per type. */
enum { OWN_UNKNOWN, OWN_NONE, OWN_LIST, OWN_DICT, OWN_SET, OWN_STR, OWN_BYTEARRAY,
       OWN_NDARRAY, OWN_DEQUE, OWN_TYPE, OWN_ARRAY, OWN_INSTANCE };

static uint8_t owns_of(ph_heap *h, uint32_t ti)
{
	ph_type *t = &h->types[ti];
	if (t->owns != OWN_UNKNOWN)
		return t->owns;
	uint8_t o = OWN_NONE;
	switch (t->kind) {
	case K_LIST: o = OWN_LIST; break;
	case K_DICT: case K_DEFDICT: case K_ODICT: o = OWN_DICT; break;
	case K_SET: case K_FROZENSET: o = OWN_SET; break;
	case K_STR: o = OWN_STR; break;
	case K_BYTEARRAY: o = OWN_BYTEARRAY; break;
	case K_NDARRAY: o = OWN_NDARRAY; break;
	case K_DEQUE: o = OWN_DEQUE; break;
	case K_TYPE: o = OWN_TYPE; break;
	default:
		if (t->name && strcmp(t->name, "array.array") == 0)
			o = OWN_ARRAY;
		break;
	}
	/* 3.11, 3.12: an instance with no __dict__ object keeps its values
	 * in an array of its own */
	if (o == OWN_NONE && (t->flags & TPF_MANAGED_DICT) &&
	    (h->tr->managed_dict == PH_MD_PAIR || h->tr->managed_dict == PH_MD_TAGGED))
		o = OWN_INSTANCE;
	t->owns = o;
	return o;
}

int ph_type_owns_buffers(ph_heap *h, uint32_t type)
{
	return type < h->ntypes && owns_of(h, type) != OWN_NONE;
}

int ph_type_native(ph_heap *h, uint32_t type)
{
	if (type >= h->ntypes)
		return 0;
	if (!h->types[type].native) {
		/* a type no row decodes, or one with fields of its own that no
		 * slot names (a C type below object, as ctypes' arrays) */
		bool n = h->types[type].kind == K_OTHER || ph_type_guess_count(h, type) > 0;
		h->types[type].native = !n ? 1 : h->types[type].kind == K_TYPE ? 3 : 2;
	}
	return h->types[type].native - 1;
}

static size_t emit(ph_heap *h, ph_buffer_fn fn, void *payload, uint64_t addr, uint64_t bytes,
		   unsigned kind, bool in_size)
{
	if (!addr || !bytes)
		return 0;
	ph_buffer b = {addr, bytes, (uint8_t)kind, in_size};
	if (fn)
		fn(h, &b, payload);
	return 1;
}

/* The slots of type ti's instances' values arrays: its shared keys'
 * entries and the room to add more (read once per type; 0: none). */
static uint64_t values_slots(ph_heap *h, uint32_t ti)
{
	if (!h->types[ti].vslots) {
		uint64_t ck = 0, n = 0, usable = 0;
		if (rdf(h, h->types[ti].addr, h->off.ht_cached_keys, &ck) && ck &&
		    ph_keys_bytes(h, ck)) {
			n = ph_keys_nentries(h, ck);
			rdf(h, ck, h->off.dk_usable, &usable);
		}
		h->types[ti].vslots = n + usable < PH_MAX_SLOTS * 64 ? (uint32_t)(n + usable) + 1 : 1;
	}
	return h->types[ti].vslots - 1;
}

/* 3.11's and 3.12's values array of an instance without a dict object:
 * its prefix (its length in its last byte), then a slot per entry of the
 * class's shared keys. */
static size_t instance_values(ph_heap *h, uint64_t addr, uint32_t ti, ph_buffer_fn fn,
			      void *payload)
{
	uint64_t values = 0, w = 0;
	uint8_t prefix = 0;
	if (h->tr->managed_dict == PH_MD_TAGGED) {
		if (!rd64(h, addr - 24, &w) || !(w & 1))
			return 0;
		values = w - 1;
	} else {
		if (!rd64(h, addr - 24, &w) || w || !rd64(h, addr - 32, &values) || !values)
			return 0;
	}
	if ((values & 7) || core_read(h->core, values - 1, &prefix, 1) != 1 || prefix < 8 ||
	    prefix > 80 || (prefix & 7))
		return 0;
	uint64_t n = values_slots(h, ti);
	if (!n)
		return 0;
	return emit(h, fn, payload, values - prefix, prefix + n * 8, PH_BUF_INSTANCE_VALUES, false);
}

static size_t deque_blocks(ph_heap *h, uint64_t dq, ph_buffer_fn fn, void *payload)
{
	uint64_t n = 0, block = 0, idx = 0;
	if (!rd64(h, dq + 16, &n) || n > PH_MAX_ITEMS || !rdf(h, dq, h->off.deque_leftblock, &block) ||
	    !rdf(h, dq, h->off.deque_leftindex, &idx) || idx >= 64)
		return 0;
	/* deque_sizeof's count: the blocks from leftindex over every item */
	uint64_t nblocks = (idx + n + 64) / 64, k = 0;
	for (; k < nblocks && k < MAX_DEQUE_BLOCKS && block && !(block & 7); k++) {
		emit(h, fn, payload, block, DEQUE_BLOCK, PH_BUF_DEQUE_BLOCKS, false);
		if (k + 1 < nblocks && !rd64(h, block + (uint64_t)h->off.block_rightlink, &block))
			break;
	}
	return (size_t)k;
}

/* array.array: {PyObject_VAR_HEAD; char *ob_item; Py_ssize_t allocated;
 * const struct arraydescr *ob_descr; ...}; the descr's itemsize is the int
 * after its typecode char. */
static size_t array_items(ph_heap *h, uint64_t a, ph_buffer_fn fn, void *payload)
{
	uint64_t items = 0, alloc = 0, descr = 0;
	uint32_t itemsize = 0;
	if (!rd64(h, a + 0x18, &items) || !rd64(h, a + 0x20, &alloc) || !rd64(h, a + 0x28, &descr) ||
	    !descr || !rd32(h, descr + 4, &itemsize) || itemsize == 0 || itemsize > 16 ||
	    alloc > PH_MAX_ITEMS || !core_span(h->core, items, alloc * itemsize))
		return 0;
	return emit(h, fn, payload, items, alloc * itemsize, PH_BUF_ARRAY, false);
}

size_t ph_object_buffers(ph_heap *h, uint64_t addr, uint32_t type, ph_buffer_fn fn, void *payload)
{
	ph_part a, b;
	uint64_t data, bytes, v;
	if (type >= h->ntypes)
		return 0;
	switch (owns_of(h, type)) {
	case OWN_LIST:
		ph_list_part(h, addr, &a);
		return emit(h, fn, payload, a.addr, a.bytes, PH_BUF_LIST_ITEMS, true);
	case OWN_DICT:
		if (!ph_dict_parts(h, addr, &a, &b))
			return 0;
		return emit(h, fn, payload, a.addr, a.bytes, PH_BUF_DICT_KEYS, true) +
		       emit(h, fn, payload, b.addr, b.bytes + b.prefix, PH_BUF_DICT_VALUES, true);
	case OWN_SET:
		ph_set_part(h, addr, &a);
		return emit(h, fn, payload, a.addr, a.bytes, PH_BUF_SET_TABLE, true);
	case OWN_STR:
		ph_str_parts(h, addr, &a, &b);
		return emit(h, fn, payload, a.addr, a.bytes, PH_BUF_STR_DATA, true) +
		       emit(h, fn, payload, b.addr, b.bytes, PH_BUF_STR_UTF8, true);
	case OWN_BYTEARRAY:
		ph_bytearray_part(h, addr, &a);
		return emit(h, fn, payload, a.addr, a.bytes + a.prefix, PH_BUF_BYTEARRAY, true);
	case OWN_NDARRAY: {
		size_t n = 0;
		uint32_t nd = 0;
		if (ph_ndarray_data(h, addr, &data, &bytes))
			n += emit(h, fn, payload, data, bytes, PH_BUF_NDARRAY, true);
		/* dimensions and strides, one allocation */
		if (rd32(h, addr + 0x18, &nd) && nd && nd <= 64 && rd64(h, addr + 0x20, &v))
			n += emit(h, fn, payload, v, 16ull * nd, PH_BUF_NDARRAY_SHAPE, true);
		return n;
	}
	case OWN_DEQUE:
		return deque_blocks(h, addr, fn, payload);
	case OWN_TYPE:
		if (!(h->types[type].flags & TPF_HEAPTYPE) && !(rdf(h, addr, h->off.tp_flags, &v) &&
							       (v & TPF_HEAPTYPE)))
			return 0;
		if (!rdf(h, addr, h->off.ht_cached_keys, &v) || !v)
			return 0;
		return emit(h, fn, payload, v, ph_keys_bytes(h, v), PH_BUF_SHARED_KEYS, true);
	case OWN_ARRAY:
		return array_items(h, addr, fn, payload);
	case OWN_INSTANCE:
		return instance_values(h, addr, type, fn, payload);
	default:
		return 0;
	}
}

/* ---- owned bytes, per type and per object ---- */

struct sum { uint64_t owned, extra; };

static void sum_cb(ph_heap *h, const ph_buffer *b, void *payload)
{
	struct sum *s = payload;
	(void)h;
	s->owned += b->bytes;
	if (!b->in_size)
		s->extra += b->bytes;
}

/* The bytes of an object that sys.getsizeof counts as the object's own,
 * not its buffers': the pre-header as getsizeof counts it, and the fixed
 * part.  UINT64_MAX when it cannot tell from the type alone. */
static uint64_t own_bytes(ph_heap *h, uint64_t addr, uint32_t type, uint8_t o)
{
	uint64_t own, f = 0;
	uint32_t state = 0;
	/* compact ASCII (most str): no buffer at all, known before the rest */
	if (o == OWN_STR &&
	    rd32(h, addr + (uint64_t)h->off.ascii_state, &state) && ((state >> 5) & 3) == 3)
		return UINT64_MAX - 1;
	own = ph_getsizeof_prefix(h, addr, &h->types[type]);
	switch (o) {
	case OWN_LIST: case OWN_DICT: case OWN_SET: case OWN_BYTEARRAY: case OWN_NDARRAY:
		return own + (uint64_t)h->types[type].basicsize;
	case OWN_STR:
		/* (a non-compact one counts sizeof(PyUnicodeObject), objects.c) */
		if (!((state >> 5) & 1) && h->off.unicodeobj_size > 0)
			return own + (uint64_t)h->off.unicodeobj_size;
		return own + ph_body_str(h, addr, &h->types[type]);
	case OWN_TYPE:
		if (!rdf(h, addr, h->off.tp_flags, &f) || !(f & TPF_HEAPTYPE))
			return UINT64_MAX - 1;
		return own + (uint64_t)h->off.ht_size;
	default:
		return UINT64_MAX;
	}
}

void ph_buffers_count(ph_heap *h, uint64_t addr, uint32_t type, uint64_t size)
{
	uint8_t o = h->types[type].owns;
	if (o == OWN_UNKNOWN)
		o = owns_of(h, type);
	if (o == OWN_NONE)
		return;
	/* what getsizeof counts beyond the object itself is its buffers: no
	 * second reading of them, the scan being where time goes */
	uint64_t own = own_bytes(h, addr, type, o);
	if (own == UINT64_MAX - 1)
		return;
	if (own != UINT64_MAX) {
		h->types[type].owned += size > own ? size - own : 0;
		return;
	}
	if (o == OWN_INSTANCE) {
		/* millions of instances: their values array's size from the
		 * class, not from its memory */
		uint64_t w = 0, v = 0, n;
		bool has = h->tr->managed_dict == PH_MD_TAGGED ? rd64(h, addr - 24, &w) && (w & 1) :
			   rd64(h, addr - 24, &w) && !w && rd64(h, addr - 32, &v) && v;
		if (has && (n = values_slots(h, type))) {
			uint64_t bytes = ((n + 2 + 7) & ~7ull) + n * 8;
			h->types[type].owned += bytes;
			h->types[type].extra += bytes;
		}
		return;
	}
	struct sum s = {0, 0};
	ph_object_buffers(h, addr, type, sum_cb, &s);
	h->types[type].owned += s.owned;
	h->types[type].extra += s.extra;
}

void ph_type_buffers(const ph_heap *h, uint32_t type, uint64_t *owned, uint64_t *extra)
{
	*owned = *extra = 0;
	if (type < h->ntypes) {
		*owned = h->types[type].owned;
		*extra = h->types[type].extra;
	}
}

uint64_t ph_object_extra(ph_heap *h, ph_id id)
{
	uint32_t ti = ph_object_type(h, id);
	uint8_t o = ti < h->ntypes ? owns_of(h, ti) : OWN_NONE;
	/* only these own what getsizeof leaves out */
	if (o != OWN_DEQUE && o != OWN_ARRAY && o != OWN_INSTANCE)
		return 0;
	struct sum s = {0, 0};
	ph_object_buffers(h, ph_object_addr(h, id), ti, sum_cb, &s);
	return s.extra;
}

/* ---- where objects and arenas are ---- */

uint64_t ph_object_sizeof_at(ph_heap *h, uint64_t addr, uint32_t type)
{
	return type < h->ntypes ? ph_object_sizeof(h, addr, &h->types[type]) : 0;
}

uint64_t ph_object_start(ph_heap *h, uint64_t addr, uint32_t type)
{
	return type < h->ntypes ? addr - (uint64_t)ph_object_preheader(h, addr, type) : addr;
}

int ph_in_pymalloc(const ph_heap *h, uint64_t addr)
{
	return h->ranges_sorted && ph_in_arena(h, addr);
}

core_t *ph_core(const ph_heap *h)
{
	return h->core;
}

size_t ph_arena_range_count(const ph_heap *h)
{
	return h->narenas;
}

int ph_arena_pool_range(const ph_heap *h, size_t i, uint64_t *lo, uint64_t *hi)
{
	if (i >= h->narenas)
		return -1;
	*lo = h->arena_lo[i];
	*hi = h->arena_hi[i];
	return 0;
}

/* Whether the page at p is all zeros (pymalloc never touches the part of
 * an arena before its first pool or after its last). */
static bool zero_page(const ph_heap *h, uint64_t p, uint64_t page)
{
	const uint64_t *w = core_ptr(h->core, p, (size_t)page);
	if (!w)
		return false;
	for (uint64_t i = 0; i < page / 8; i++)
		if (w[i])
			return false;
	return true;
}

size_t ph_arena_extents(const ph_heap *h, uint64_t *lo, uint64_t *hi)
{
	bool scanned = strcmp(h->arenas_found_by, "pool_scan") == 0;
	uint64_t page = 4096;
	for (size_t i = 0; i < h->narenas; i++) {
		lo[i] = h->arena_lo[i];
		hi[i] = h->arena_hi[i];
		if (!scanned)
			continue;
		/* Found by its pools: the range runs from its first pool to
		 * the end of its last.  The arena itself (one mmap of
		 * arena_size) starts up to a pool before its first pool, on a
		 * page boundary, and the pages in between were never touched:
		 * count back over zero pages, not into the previous arena. */
		uint64_t start = lo[i], prev_hi = i ? hi[i - 1] : 0;
		for (uint64_t k = 1; k < h->pool_size / page; k++) {
			uint64_t p = lo[i] - k * page;
			if (p < prev_hi || !zero_page(h, p, page))
				break;
			start = p;
		}
		/* (an arena whose pools fill it starts at its first pool) */
		if (h->arena_hi[i] - start > h->arena_size && h->arena_hi[i] - h->arena_size <= lo[i])
			start = h->arena_hi[i] - h->arena_size;
		uint64_t next_lo = i + 1 < h->narenas ? h->arena_lo[i + 1] : UINT64_MAX;
		lo[i] = start;
		hi[i] = start + h->arena_size;
		if (hi[i] > next_lo)
			hi[i] = next_lo;
		if (hi[i] < h->arena_hi[i])
			hi[i] = h->arena_hi[i];
	}
	return h->narenas;
}
