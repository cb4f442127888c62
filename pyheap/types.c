/*
 * types.c - type objects: validation, families and names.
 *
 * Whether a word is a type pointer decides whether a block holds an object,
 * so every candidate is checked once and the answer (yes with an index, or
 * no) is cached in a hash on the type address.
 */
#include "phInt.h"
#include "kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Metaclass chains are short; this bounds the recursion on corrupt data. */
#define META_DEPTH 4
/* tp_base chains are short too (a deep class hierarchy is a few dozen). */
#define BASE_DEPTH 64

int ph_types_init(ph_heap *h)
{
	return ph_map_reserve(&h->type_map, 4096);
}

/* The row that recognises type t itself, or K_OTHER. */
static enum ph_kind row_of(ph_heap *h, uint64_t t)
{
	for (int k = 1; k < K_NKINDS; k++)
		if (h->kind_types[k] == t)
			return (enum ph_kind)k;
	uint64_t np, flags = 0;
	char name[64];
	rdf(h, t, h->off.tp_flags, &flags);
	/* C types are static, or heap types from PyType_FromSpec whose
	 * tp_name is dotted; a class statement's tp_name never is */
	if (rdf(h, t, h->off.tp_name, &np) &&
	    core_read_str(h->core, np, name, sizeof name) == 0 &&
	    (!(flags & TPF_HEAPTYPE) || strchr(name, '.')))
		for (int k = 1; k < K_NKINDS; k++)
			for (size_t i = 0; i < 5 && ph_kinds[k].type_names[i]; i++)
				if (strcmp(name, ph_kinds[k].type_names[i]) == 0)
					return (enum ph_kind)k;
	return K_OTHER;
}

/* The family of type t, and in *base the type on its tp_base chain that
 * decided it (t itself for a built-in type); in *sizer the first row on
 * the way there that only sizes (kinds.h), or K_OTHER. */
static enum ph_kind kind_of(ph_heap *h, uint64_t t, uint64_t *base, enum ph_kind *sizer)
{
	*base = 0;
	*sizer = K_OTHER;
	for (int d = 0; t && d < BASE_DEPTH; d++) {
		*base = t;
		enum ph_kind k = row_of(h, t);
		if (k != K_OTHER && !ph_kinds[k].sizes_only)
			return k;
		if (k != K_OTHER && *sizer == K_OTHER)
			*sizer = k;
		if (!rdf(h, t, h->off.tp_base, &t))
			break;
	}
	*base = 0;
	return K_OTHER;
}

static int preheader_of(const ph_heap *h, uint64_t flags)
{
	int n = (flags & TPF_HAVE_GC) ? GC_HEAD_SIZE : 0;
	if (flags & h->tr->preheader_flags)
		n += 16;
	return n;
}

/* Appends src (up to its NUL or n bytes) to dst of capacity cap. */
static void append(char *dst, size_t cap, const char *src)
{
	size_t l = strlen(dst);
	if (l + 1 < cap) {
		strncpy(dst + l, src, cap - l - 1);
		dst[cap - 1] = 0;
	}
}

static char *type_name(ph_heap *h, uint64_t t, uint64_t flags)
{
	char name[512] = "";
	if (flags & TPF_HEAPTYPE) {
		char qual[256] = "", mod[256] = "";
		uint64_t q = 0, dict = 0, m;
		if (rdf(h, t, h->off.ht_qualname, &q))
			ph_str_read(h, q, qual, sizeof qual);
		if (!*qual && rdf(h, t, h->off.tp_name, &q))
			core_read_str(h->core, q, qual, sizeof qual);
		if (rdf(h, t, h->off.tp_dict, &dict) && dict &&
		    (m = ph_dict_get_str(h, dict, "__module__")))
			ph_str_read(h, m, mod, sizeof mod);
		if (*mod && strcmp(mod, "builtins") != 0) {
			append(name, sizeof name, mod);
			append(name, sizeof name, ".");
		}
		append(name, sizeof name, *qual ? qual : "?");
	} else {
		/* static types: tp_name is "module.qualname", bare for builtins;
		 * it points into .rodata, which the image reads from the file */
		uint64_t p = 0;
		if (!rdf(h, t, h->off.tp_name, &p) ||
		    core_read_str(h->core, p, name, sizeof name) < 0 || !*name)
			snprintf(name, sizeof name, "<type at 0x%llx>", (unsigned long long)t);
	}
	return strdup(name);
}

static uint32_t validate(ph_heap *h, uint64_t t, int depth);

uint32_t ph_type_lookup(ph_heap *h, uint64_t t)
{
	/* A few types fill most pools: a direct-mapped cache of valid types
	 * answers before the arena test and the hash.  It is filled only
	 * while the arena ranges are sorted and stable (obmalloc.c turns it
	 * off whenever they change), so its answers are validate()'s. */
	size_t slot = (size_t)(t >> 3) & (PH_TCACHE - 1);
	if (h->tcache_on && t && h->tcache_key[slot] == t)
		return h->tcache_val[slot];
	uint32_t ti = validate(h, t, 0);
	if (h->tcache_on && ti != PH_NONE) {
		h->tcache_key[slot] = t;
		h->tcache_val[slot] = ti;
	}
	return ti;
}

/* What type_map holds for an address that is no type object. */
#define TYPE_REJECTED (PH_NONE - 1)

static uint32_t reject(ph_heap *h, uint64_t t)
{
	ph_map_put(&h->type_map, t, TYPE_REJECTED);
	return PH_NONE;
}

static uint32_t validate(ph_heap *h, uint64_t t, int depth)
{
	if (!t || (t & 7))
		return PH_NONE;
	/* Type objects are static or bigger than pymalloc's 512 bytes: never
	 * in an arena.  Words pointing there are common (object pointers in
	 * non-object blocks) and are not worth a slot in the cache. */
	if (h->ranges_sorted && ph_in_arena(h, t))
		return PH_NONE;
	uint32_t idx = ph_map_get(&h->type_map, t);
	if (idx == TYPE_REJECTED)
		return PH_NONE;
	if (idx != PH_NONE)
		return idx;

	uint64_t meta, flags, basic, item, refcnt;
	if (!rd64(h, t, &refcnt) || !rd64(h, t + 8, &meta) ||
	    !rdf(h, t, h->off.tp_flags, &flags) ||
	    !rdf(h, t, h->off.tp_basicsize, &basic) ||
	    !rdf(h, t, h->off.tp_itemsize, &item))
		return reject(h, t);
	if ((int64_t)refcnt <= 0 || !(flags & TPF_READY) || basic < 16 || basic > (1u << 20) ||
	    item > 4096)
		return reject(h, t);
	if (meta != h->type_type) {
		/* a metaclass: itself a valid type deriving from type */
		if (depth >= META_DEPTH || meta == t)
			return reject(h, t);
		uint32_t mi = validate(h, meta, depth + 1);
		if (mi == PH_NONE || h->types[mi].kind != K_TYPE)
			return reject(h, t);
	}

	ph_type *n = ph_grow(h->types, h->ntypes, &h->types_cap, sizeof *n, 256);
	if (!n)
		return PH_NONE;
	h->types = n;
	ph_type *ty = &h->types[h->ntypes];
	memset(ty, 0, sizeof *ty);
	ty->addr = t;
	ty->flags = flags;
	ty->basicsize = (int64_t)basic;
	ty->itemsize = (int64_t)item;
	uint64_t v = 0;
	ty->dictoffset = rdf(h, t, h->off.tp_dictoffset, &v) ? (int64_t)v : 0;
	rdf(h, t, h->off.tp_members, &ty->members);
	ty->kind = kind_of(h, t, &ty->kind_base, &ty->sizer);
	ty->preheader = preheader_of(h, flags);
	/* the name may look types up (the str type of the qualname), so claim
	 * the slot first */
	idx = (uint32_t)h->ntypes++;
	ph_map_put(&h->type_map, t, idx);
	/* Naming a heap type reads its __module__, which validates more types
	 * (the str's), which are named in turn: a crafted chain of fake types
	 * could recurse without end.  Past a few levels, no module. */
	h->naming_depth++;
	char *name = type_name(h, t, h->naming_depth > 4 ? flags & ~TPF_HEAPTYPE : flags);
	h->naming_depth--;
	h->types[idx].name = name;
	return idx;
}

bool ph_str_read(ph_heap *h, uint64_t addr, char *buf, size_t cap)
{
	uint64_t tp, len, data;
	uint32_t state;
	if (cap == 0 || !rd64(h, addr + 8, &tp))
		return false;
	uint32_t ti = ph_type_lookup(h, tp);
	if (ti == PH_NONE || h->types[ti].kind != K_STR)
		return false;
	if (!rdf(h, addr, h->off.ascii_length, &len) ||
	    !rd32(h, addr + (uint64_t)h->off.ascii_state, &state))
		return false;
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (kind != 1 && kind != 2 && kind != 4)
		return false;
	if (compact)
		data = addr + (uint64_t)(ascii ? h->off.ascii_size : h->off.compact_size);
	else if (!rdf(h, addr, h->off.unicode_data, &data))
		return false;
	size_t o = 0;
	uint8_t chunk[256];
	uint64_t i = 0;
	while (i < len && o + 1 < cap) {
		/* bound before multiplying: a corrupt length times kind can wrap
		 * to 0, and the loop would never advance */
		size_t n = len - i > sizeof chunk / kind ? sizeof chunk / kind * kind
							 : (size_t)(len - i) * kind;
		if (core_read(h->core, data + i * kind, chunk, n) != n)
			return false;
		for (size_t j = 0; j < n && o + 1 < cap; j += kind, i++) {
			uint32_t c = kind == 1 ? chunk[j] : kind == 2 ?
				(uint32_t)(chunk[j] | chunk[j + 1] << 8) :
				(uint32_t)(chunk[j] | chunk[j + 1] << 8 | chunk[j + 2] << 16 |
					   (uint32_t)chunk[j + 3] << 24);
			char u[4];
			size_t ul;
			if (c < 0x80) { u[0] = (char)c; ul = 1; }
			else if (c < 0x800) { u[0] = (char)(0xc0 | c >> 6); u[1] = (char)(0x80 | (c & 0x3f)); ul = 2; }
			else if (c < 0x10000) { u[0] = (char)(0xe0 | c >> 12); u[1] = (char)(0x80 | ((c >> 6) & 0x3f)); u[2] = (char)(0x80 | (c & 0x3f)); ul = 3; }
			else { u[0] = (char)(0xf0 | (c >> 18 & 7)); u[1] = (char)(0x80 | ((c >> 12) & 0x3f)); u[2] = (char)(0x80 | ((c >> 6) & 0x3f)); u[3] = (char)(0x80 | (c & 0x3f)); ul = 4; }
			if (o + ul >= cap) { i = len; break; }
			memcpy(buf + o, u, ul);
			o += ul;
		}
	}
	buf[o] = 0;
	return true;
}

size_t ph_type_count(const ph_heap *h) { return h->ntypes; }
const char *ph_type_name(const ph_heap *h, uint32_t type)
{
	return type < h->ntypes && h->types[type].name ? h->types[type].name : "?";
}
void ph_type_totals(const ph_heap *h, uint32_t type, uint64_t *count, uint64_t *bytes)
{
	*count = type < h->ntypes ? h->types[type].count : 0;
	*bytes = type < h->ntypes ? h->types[type].bytes : 0;
}
uint64_t ph_type_addr(const ph_heap *h, uint32_t type)
{
	return type < h->ntypes ? h->types[type].addr : 0;
}
