/*
 * walk.h - walking the references of one object: the callback the
 * decoders report to, the names of the fields they report, and the small
 * helpers every decoder uses.  Private to pyheap/.
 *
 * A decoder reports each reference as (target address, edge kind, flags,
 * label).  During the scan the targets find objects outside the arenas
 * (labels ignored); afterwards they are the reference graph's edges.
 */
#ifndef PYHEAP_WALK_H
#define PYHEAP_WALK_H

#include "phInt.h"

/* Sanity bounds on counts read from objects. */
#define PH_MAX_ITEMS (1ull << 31)
#define PH_MAX_SLOTS 1024

/* Field names, indexed by PH_E_FIELD labels (repr.c has the strings).
 * F_NONE ends a row's field list (kinds.h). */
enum {
	F_NONE, F_CLASS, F_DICT, F_BASES, F_BASE, F_MRO, F_NAME, F_QUALNAME, F_SLOTS,
	F_MODULE_OBJ, F_SUBCLASSES, F_CACHED_KEY, F_CODE, F_GLOBALS, F_DEFAULTS, F_KWDEFAULTS,
	F_CLOSURE, F_MODULE, F_CELL, F_FUNC, F_SELF, F_FGET, F_FSET, F_FDEL, F_DOC,
	F_CO_CONSTS, F_CO_NAMES, F_CO_VARNAMES, F_CO_FREEVARS, F_CO_CELLVARS, F_CO_CODE,
	F_CO_FILENAME, F_CO_NAME, F_CO_QUALNAME, F_CO_LINETABLE, F_CO_EXCTABLE,
	F_CO_LPNAMES, F_CO_LPKINDS, F_F_BACK, F_F_CODE, F_F_BUILTINS, F_F_GLOBALS,
	F_F_LOCALS, F_F_TRACE, F_FRAME_OBJ, F_FUNCOBJ, F_GI_FRAME, F_GI_CODE,
	F_TB_NEXT, F_TB_FRAME, F_ARGS, F_NOTES, F_TRACEBACK, F_CONTEXT, F_CAUSE,
	F_WR_OBJECT, F_WR_CALLBACK, F_MAPPING, F_OBJCLASS, F_KEYWORDS, F_WRAPPED,
	F_CACHE, F_KWD_MARK, F_DEFAULT_FACTORY, F_LRU_KEY, F_LRU_RESULT, F_LRU_NEXT,
	F_LRU_PREV, F_SYS, F_BUILTINS, F_SYS_MODULES, F_INTERNED, F_ANNOTATIONS,
	F_TYPEPARAMS, F_CACHE_INFO_TYPE, F_ELEM_TYPE, F_TYPE_CACHE, F_ANNOTATE, F_DTYPE, F_NFIELDS
};

/* The index of ph_offsets' field `name`, for ph_kind_field.off. */
#define PH_FIELD(name) ((uint16_t)(offsetof(ph_offsets, name) / sizeof(int64_t)))

struct ph_walk {
	ph_lref_fn fn;
	void *payload;
	size_t n;
};

static inline void ph_emit(ph_heap *h, ph_walk *w, uint64_t target, uint8_t kind,
			   uint8_t flags, uint32_t label)
{
	if (!target)
		return;
	w->fn(h, target, kind, flags, label, w->payload);
	w->n++;
}

/* A pointer field at base+off, named by field f. */
static inline void ph_field(ph_heap *h, ph_walk *w, uint64_t base, int64_t off, int f)
{
	uint64_t v;
	if (rdf(h, base, off, &v) && v)
		ph_emit(h, w, v, PH_E_FIELD, 0, (uint32_t)f);
}

/* n pointers at arr, labelled first, first + 1, ... */
void ph_walk_array(ph_heap *h, ph_walk *w, uint64_t arr, uint64_t n, uint8_t kind,
		   uint32_t first);

/* decode.c: the instances of heap types (their __dict__, values and
 * __slots__), and types no row decodes (conservatively) */
void ph_walk_instance(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_conservative(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);

/* decode_frames.c: an interpreter frame (3.11+), the current frame of a
 * thread state, the name of a code object */
void ph_walk_iframe(ph_heap *h, ph_walk *w, uint64_t f);
uint64_t ph_thread_frame(ph_heap *h, uint64_t ts);
void ph_code_name(ph_heap *h, uint64_t co, char *buf, size_t cap);

/* the decoders and sizes the rows of kinds.c name */
void ph_decode_tuple(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_list(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_dict(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_set(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_type(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_weakref(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_lru_elem(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_deque(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_module(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_ndarray(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
uint64_t ph_size_ndarray(ph_heap *h, uint64_t addr, const ph_type *t);
/* A numpy array's data buffer, when it owns one: its address and bytes.
 * false for views and arrays numpy does not own the memory of. */
bool ph_ndarray_data(ph_heap *h, uint64_t addr, uint64_t *data, uint64_t *bytes);

/* A guessed reference's label in a module's C state (md_state): this bit
 * and the offset. */
#define PH_LABEL_MODSTATE 0x80000000u
void ph_decode_code(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_frame(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
void ph_decode_gen(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);

uint64_t ph_size_list(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_dict(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_set(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_str(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_int(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_bytearray(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_type(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_basic(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_deque(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_code(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_frame(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_stgdict(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_ctype(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_buffered(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_size_struct(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_body_str(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_body_gen(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_body_datetime(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_body_int(ph_heap *h, uint64_t addr, const ph_type *t);
uint64_t ph_body_type(ph_heap *h, uint64_t addr, const ph_type *t);

/* repr.c: lengths and short values */
int64_t ph_len_var(ph_heap *h, uint64_t addr);
int64_t ph_len_dict(ph_heap *h, uint64_t addr);
int64_t ph_len_set(ph_heap *h, uint64_t addr);
void ph_repr_str(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_int(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_bytes(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_float(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_var_len(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_dict_len(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_set_len(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_module(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_function(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_code(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_lru(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_cfunction(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_type(ph_heap *h, uint64_t addr, char *buf, size_t cap);
void ph_repr_frame(ph_heap *h, uint64_t addr, char *buf, size_t cap);

#endif
