/*
 * jsonread.h - a small JSON reader, for snapshots pyheap wrote itself
 * (`types --json`) and reads back (`diff`).
 *
 * Parses a whole document into a flat array of nodes (no allocation per
 * value), with bounded nesting; strings are unescaped into one buffer.
 * Input is untrusted: every error is a one-line message, never a crash.
 */
#ifndef PYHEAP_JSONREAD_H
#define PYHEAP_JSONREAD_H

#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

typedef struct jr_node {
	enum jr_type type;
	double num;              /* JR_NUM, JR_BOOL */
	const char *str;         /* JR_STR: the value; object members: the key */
	const char *key;         /* the member's key when the parent is an object */
	size_t first, next;      /* first child, next sibling (0 = none; node 0 is the root) */
} jr_node;

typedef struct jr_doc {
	jr_node *nodes;
	size_t n;
	char *strings;
} jr_doc;

/* Parses text of len bytes; -1 with a message (and an offset) in err. */
int jr_parse(jr_doc *doc, const char *text, size_t len, char *err, size_t errlen);
void jr_free(jr_doc *doc);
/* The member of object node obj named key, or NULL. */
const jr_node *jr_get(const jr_doc *doc, const jr_node *obj, const char *key);
/* Iteration over an array's or object's children: first, then next. */
const jr_node *jr_first(const jr_doc *doc, const jr_node *n);
const jr_node *jr_next(const jr_doc *doc, const jr_node *n);

#endif
