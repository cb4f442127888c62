/* map.c - see map.h. */
#include "map.h"

#include <stdlib.h>

/* Object addresses are 16-byte aligned and clustered in arenas: mix every
 * bit into the low ones (the splitmix64 finalizer) before masking. */
static inline size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

uint32_t ph_map_get(const ph_map *m, uint64_t key)
{
	if (m->cap == 0 || key == 0)
		return PH_NONE;
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return PH_NONE;
	}
}

static int rehash(ph_map *m, size_t cap)
{
	uint64_t *keys = calloc(cap, sizeof *keys);
	uint32_t *vals = malloc(cap * sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t j = 0; j < m->cap; j++) {
		if (m->keys[j] == 0)
			continue;
		size_t i = slot_of(m->keys[j], cap);
		while (keys[i] != 0)
			i = (i + 1) & (cap - 1);
		keys[i] = m->keys[j];
		vals[i] = m->vals[j];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int ph_map_reserve(ph_map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;
	/* keep the load factor at or below 1/2: probes stay short */
	while (cap < 2 * n) {
		if (cap > SIZE_MAX / 4)
			return -1;
		cap *= 2;
	}
	return cap == m->cap ? 0 : rehash(m, cap);
}

uint32_t ph_map_put(ph_map *m, uint64_t key, uint32_t val)
{
	if (key == 0)
		return PH_NONE;
	if (2 * (m->len + 1) > m->cap && ph_map_reserve(m, m->len + 1) < 0)
		return PH_NONE;
	size_t i = slot_of(key, m->cap);
	while (m->keys[i] != 0) {
		if (m->keys[i] == key)
			return m->vals[i];
		i = (i + 1) & (m->cap - 1);
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return val;
}

void ph_map_free(ph_map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (ph_map){0};
}
