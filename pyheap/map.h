/*
 * map.h - an open-addressing hash map from 64-bit addresses to 32-bit values.
 *
 * Power-of-two capacity, linear probing, no deletion: pyheap only ever adds
 * (objects found, types validated) and looks up.  Key 0 is reserved as the
 * empty marker; address 0 is never an object.  One flat allocation, so a map
 * of 20 million objects costs 12 bytes a slot and no malloc per object.
 */
#ifndef PYHEAP_MAP_H
#define PYHEAP_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ph_map {
	uint64_t *keys;
	uint32_t *vals;
	size_t cap;     /* power of two, or 0 */
	size_t len;
} ph_map;

#include "pyheap.h"   /* PH_NONE */

/* Returns the value for key, or PH_NONE. */
uint32_t ph_map_get(const ph_map *m, uint64_t key);
/* Inserts key->val unless key is present.  Returns the value now stored for
 * key (the old one if present), or PH_NONE when memory ran out. */
uint32_t ph_map_put(ph_map *m, uint64_t key, uint32_t val);
/* Makes room for n keys in total without rehashing; -1 when out of memory. */
int ph_map_reserve(ph_map *m, size_t n);
void ph_map_free(ph_map *m);

#endif
