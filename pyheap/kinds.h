/*
 * kinds.h - the families of objects pyheap decodes, as data: one row each.
 *
 * A type belongs to the family of the first type on its tp_base chain that
 * a row recognises: by the symbol of a static type object, by a pointer
 * variable that holds one, or by tp_name for the C types modules do not
 * export.  The row says how the family's objects are read: which pointer
 * fields they hold (with the names people read them by), a decoder for the
 * references that are not plain fields, their size as sys.getsizeof gives
 * it, their length and a short value for display.
 *
 * A new C type is one row here, plus its decoder when its references are
 * more than a list of fields (and its fields in offsets.h).  Types no row
 * recognises are K_OTHER: their instances are scanned conservatively.
 *
 * A row may only size (sizes_only): its C type extends another family, or
 * none, with memory of its own that sys.getsizeof counts (ctypes' StgDict
 * over dict, _io's buffered files, _struct.Struct).  Its instances stay in
 * the family the rest of their tp_base chain gives them -- recognised,
 * decoded and checked as before -- and only take their size from the
 * row (ph_type.sizer).
 *
 * Private to pyheap/.
 */
#ifndef PYHEAP_KINDS_H
#define PYHEAP_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ph_heap ph_heap;
typedef struct ph_type ph_type;
typedef struct ph_walk ph_walk;

enum ph_kind {
	K_OTHER, K_OBJECT, K_TYPE, K_TUPLE, K_LIST, K_DICT, K_SET, K_FROZENSET,
	K_STR, K_BYTES, K_BYTEARRAY, K_INT, K_FLOAT, K_COMPLEX, K_MODULE,
	K_FUNCTION, K_CODE, K_CELL, K_METHOD, K_CLASSMETHOD, K_STATICMETHOD,
	K_PROPERTY, K_WEAKREF, K_CFUNCTION, K_MAPPINGPROXY,
	K_FRAME, K_GEN, K_COROUTINE, K_ASYNCGEN, K_TRACEBACK, K_EXCEPTION,
	K_DESCR, K_WEAKPROXY,
	K_PARTIAL, K_LRU, K_LRU_ELEM, K_DEQUE, K_DEFDICT, K_ODICT,
	K_DATETIME, K_NDARRAY, K_FROZENDICT,
	/* rows that only size (sizes_only) */
	K_STGDICT, K_CTYPE, K_BUFFERED, K_STRUCT,
	K_NKINDS
};

/* A pointer field of a family: off is the index of its offset in
 * ph_offsets (PH_FIELD), label the name it is shown by (F_* in walk.h). */
typedef struct ph_kind_field {
	uint16_t off;
	uint8_t label;
} ph_kind_field;
#define PH_KIND_FIELDS 14

typedef struct ph_kind_ops {
	const char *name;             /* "tuple": for tests and messages */

	/* recognition */
	const char *symbols[2];       /* static type objects, by symbol */
	const char *pointer_symbol;   /* a variable that points at the type */
	const char *type_names[5];    /* tp_name of C types not exported */

	/* size: ob_size counts items of tp_itemsize (for a type with no
	 * itemsize of its own, like int, whose body() says) */
	bool var_size;
	/* the bytes from the object's start that it occupies, when more than
	 * basicsize + items; 0 means use the generic rule */
	uint64_t (*body)(ph_heap *h, uint64_t addr, const ph_type *t);
	/* sys.getsizeof without the pre-header; NULL: the body */
	uint64_t (*size)(ph_heap *h, uint64_t addr, const ph_type *t);
	/* heap types of the family are GC objects, static ones are not */
	bool gc_if_heap_type;
	/* the row gives only the size (see above); its other fields are unused */
	bool sizes_only;

	/* references: the decoder, then the fields, in this order */
	void (*edges)(ph_heap *h, ph_walk *w, uint64_t addr, uint32_t ti);
	ph_kind_field fields[PH_KIND_FIELDS];

	/* display: the number of items (-1: not a container), a short value */
	int64_t (*len)(ph_heap *h, uint64_t addr);
	void (*repr)(ph_heap *h, uint64_t addr, char *buf, size_t cap);
} ph_kind_ops;

/* The rows, indexed by enum ph_kind. */
extern const ph_kind_ops ph_kinds[K_NKINDS];

#endif
