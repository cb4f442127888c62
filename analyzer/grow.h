/*
 * grow.h - room in an array that grows by doubling (the analyses' lists).
 */
#ifndef PYHEAP_AN_GROW_H
#define PYHEAP_AN_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Room for `need` elements of elem bytes in arr (*cap of them now): arr
 * itself, or arr grown by doubling from *cap (first, the first time) until
 * need fits, *cap updated; NULL when out of memory, arr then unchanged and
 * still the caller's. */
static inline void *an_grow(void *arr, size_t need, size_t *cap, size_t elem, size_t first)
{
	if (need <= *cap)
		return arr;
	size_t c = *cap ? *cap : first;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (c > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(arr, c * elem);
	if (p)
		*cap = c;
	return p;
}

#endif
