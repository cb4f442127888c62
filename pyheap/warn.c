/*
 * warn.c - problems found in the heap, counted by kind.
 *
 * A corrupt heap can produce millions of identical problems; they are
 * counted, and only the first of each kind keeps its text, so memory stays
 * bounded and the report stays readable ("1,204 blocks skipped: invalid type
 * pointer (first at 0x...)").
 */
#include "phInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ph_warn(ph_heap *h, enum ph_warn kind, const char *fmt, ...)
{
	if (h->warn_count[kind]++ > 0)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	h->warn_text[kind] = strdup(buf);
	h->warn_order[h->nwarn_kinds++] = kind;
}

size_t ph_warning_kinds(const ph_heap *h) { return h->nwarn_kinds; }

uint64_t ph_warning_count(const ph_heap *h, size_t i)
{
	return i < h->nwarn_kinds ? h->warn_count[h->warn_order[i]] : 0;
}

const char *ph_warning_text(const ph_heap *h, size_t i)
{
	const char *t = i < h->nwarn_kinds ? h->warn_text[h->warn_order[i]] : NULL;
	return t ? t : "(out of memory)";
}

uint64_t ph_warning_total(const ph_heap *h)
{
	uint64_t n = 0;
	for (size_t i = 0; i < W_NKINDS; i++)
		n += h->warn_count[i];
	return n;
}
