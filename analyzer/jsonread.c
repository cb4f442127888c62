/* jsonread.c - see jsonread.h. */
#include "jsonread.h"
#include "grow.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct parser {
	const char *s, *end, *start;
	jr_doc *doc;
	size_t cap, scap, slen;
	char *err;
	size_t errlen;
	int failed;
} parser;

static void fail(parser *p, const char *what)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "invalid JSON at byte %zu: %s",
			 (size_t)(p->s - p->start), what);
	p->failed = 1;
}

static void ws(parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static size_t new_node(parser *p, enum jr_type t)
{
	jr_node *nodes = an_grow(p->doc->nodes, p->doc->n + 1, &p->cap, sizeof *nodes, 256);
	if (!nodes) {
		fail(p, "out of memory");
		return 0;
	}
	p->doc->nodes = nodes;
	jr_node *n = &p->doc->nodes[p->doc->n];
	memset(n, 0, sizeof *n);
	n->type = t;
	return p->doc->n++;
}

/* Appends a byte to the string buffer; strings are stored as offsets
 * until the end, when the buffer stops moving. */
static void put(parser *p, char c)
{
	char *s = an_grow(p->doc->strings, p->slen + 1, &p->scap, 1, 1024);
	if (!s) {
		fail(p, "out of memory");
		return;
	}
	p->doc->strings = s;
	p->doc->strings[p->slen++] = c;
}

static void put_utf8(parser *p, unsigned c)
{
	if (c < 0x80) {
		put(p, (char)c);
	} else if (c < 0x800) {
		put(p, (char)(0xc0 | c >> 6));
		put(p, (char)(0x80 | (c & 0x3f)));
	} else {
		put(p, (char)(0xe0 | c >> 12));
		put(p, (char)(0x80 | ((c >> 6) & 0x3f)));
		put(p, (char)(0x80 | (c & 0x3f)));
	}
}

/* Parses a string; returns its offset in the buffer + 1 (0 on error). */
static size_t string(parser *p)
{
	if (p->s >= p->end || *p->s != '"') {
		fail(p, "expected a string");
		return 0;
	}
	p->s++;
	size_t start = p->slen;
	while (p->s < p->end && *p->s != '"' && !p->failed) {
		char c = *p->s++;
		if ((unsigned char)c < 0x20) {
			fail(p, "control character in a string");
			return 0;
		}
		if (c != '\\') {
			put(p, c);
			continue;
		}
		if (p->s >= p->end)
			break;
		c = *p->s++;
		switch (c) {
		case 'n': put(p, '\n'); break;
		case 't': put(p, '\t'); break;
		case 'r': put(p, '\r'); break;
		case 'b': put(p, '\b'); break;
		case 'f': put(p, '\f'); break;
		case 'u': {
			unsigned v = 0;
			for (int i = 0; i < 4; i++) {
				if (p->s >= p->end) {
					fail(p, "short \\u escape");
					return 0;
				}
				char h = *p->s++;
				v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' :
					h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
				if (v > 0xffff) {
					fail(p, "bad \\u escape");
					return 0;
				}
			}
			put_utf8(p, v ? v : '?');
			break;
		}
		default: put(p, c); break;
		}
	}
	if (p->s >= p->end) {
		fail(p, "unterminated string");
		return 0;
	}
	p->s++;
	put(p, 0);
	return start + 1;
}

/* Parses a value iteratively would need its own stack; nesting is bounded
 * to MAX_DEPTH, so plain recursion is bounded too. */
static size_t value(parser *p, int depth)
{
	ws(p);
	if (p->failed || p->s >= p->end) {
		fail(p, "unexpected end");
		return 0;
	}
	if (depth > MAX_DEPTH) {
		fail(p, "nested too deeply");
		return 0;
	}
	char c = *p->s;
	if (c == '{' || c == '[') {
		size_t me = new_node(p, c == '{' ? JR_OBJ : JR_ARR), last = 0;
		p->s++;
		ws(p);
		if (p->s < p->end && *p->s == (c == '{' ? '}' : ']')) {
			p->s++;
			return me;
		}
		for (;;) {
			size_t key = 0;
			if (c == '{') {
				ws(p);
				key = string(p);
				ws(p);
				if (p->failed || p->s >= p->end || *p->s != ':') {
					fail(p, "expected ':'");
					return 0;
				}
				p->s++;
			}
			size_t child = value(p, depth + 1);
			if (p->failed)
				return 0;
			/* keys are offsets for now: the buffer may still move */
			p->doc->nodes[child].key = (const char *)(uintptr_t)key;
			if (last)
				p->doc->nodes[last].next = child;
			else
				p->doc->nodes[me].first = child;
			last = child;
			ws(p);
			if (p->s < p->end && *p->s == ',') {
				p->s++;
				continue;
			}
			if (p->s < p->end && *p->s == (c == '{' ? '}' : ']')) {
				p->s++;
				return me;
			}
			fail(p, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
			return 0;
		}
	}
	if (c == '"') {
		size_t me = new_node(p, JR_STR);
		size_t off = string(p);
		if (!p->failed)
			p->doc->nodes[me].str = (const char *)(uintptr_t)off;
		return me;
	}
	if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "false", 5) || !strncmp(p->s, "null", 4)) {
		size_t me = new_node(p, c == 'n' ? JR_NULL : JR_BOOL);
		if (!p->failed)
			p->doc->nodes[me].num = c == 't';
		p->s += c == 'f' ? 5 : 4;
		if (p->s > p->end)
			fail(p, "unexpected end");
		return me;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		char buf[64];
		size_t k = 0;
		while (p->s < p->end && k + 1 < sizeof buf &&
		       strchr("+-0123456789.eE", *p->s))
			buf[k++] = *p->s++;
		buf[k] = 0;
		char *e;
		double v = strtod(buf, &e);
		if (*e) {
			fail(p, "bad number");
			return 0;
		}
		size_t me = new_node(p, JR_NUM);
		if (!p->failed)
			p->doc->nodes[me].num = v;
		return me;
	}
	fail(p, "unexpected character");
	return 0;
}

int jr_parse(jr_doc *doc, const char *text, size_t len, char *err, size_t errlen)
{
	memset(doc, 0, sizeof *doc);
	parser p = {text, text + len, text, doc, 0, 0, 0, err, errlen, 0};
	size_t root = value(&p, 0);
	ws(&p);
	if (!p.failed && p.s != p.end)
		fail(&p, "trailing data");
	if (p.failed || root != 0) {
		jr_free(doc);
		return -1;
	}
	/* now that the string buffer is final, offsets become pointers */
	for (size_t i = 0; i < doc->n; i++) {
		jr_node *n = &doc->nodes[i];
		size_t k = (size_t)(uintptr_t)n->key, s = (size_t)(uintptr_t)n->str;
		n->key = k ? doc->strings + k - 1 : NULL;
		n->str = s ? doc->strings + s - 1 : NULL;
	}
	return 0;
}

void jr_free(jr_doc *doc)
{
	free(doc->nodes);
	free(doc->strings);
	memset(doc, 0, sizeof *doc);
}

const jr_node *jr_first(const jr_doc *doc, const jr_node *n)
{
	return n && (n->type == JR_ARR || n->type == JR_OBJ) && n->first ? &doc->nodes[n->first] : NULL;
}

const jr_node *jr_next(const jr_doc *doc, const jr_node *n)
{
	return n && n->next ? &doc->nodes[n->next] : NULL;
}

const jr_node *jr_get(const jr_doc *doc, const jr_node *obj, const char *key)
{
	if (!obj || obj->type != JR_OBJ)
		return NULL;
	for (const jr_node *c = jr_first(doc, obj); c; c = jr_next(doc, c))
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}
