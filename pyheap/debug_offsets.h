/*
 * debug_offsets.h - CPython's _Py_DebugOffsets (3.13+), read from a core.
 *
 * From 3.13 on, _PyRuntime starts with a statically initialised
 * _Py_DebugOffsets block ("xdebugpy" cookie, PY_VERSION_HEX, then the
 * offsets of the fields debuggers need).  It sits in writable data, so it is
 * in every core, and it describes the exact build that crashed: it beats the
 * built-in table, which was generated from one patch release.
 */
#ifndef PYHEAP_DEBUG_OFFSETS_H
#define PYHEAP_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "offsets.h"
#include "version.h"

/* Size of the 3.13 _Py_DebugOffsets block: what ph_offsets_apply_debug needs. */
#define PH_DEBUG_OFFSETS_SIZE_3_13 0x248

/* PY_VERSION_HEX stored in the block (e.g. 0x030d00f0), or 0 when buf is not
 * a _Py_DebugOffsets block (too short, or no "xdebugpy" cookie). */
uint64_t ph_debug_offsets_version(const uint8_t *buf, size_t len);

/* The largest block of any layout known here: read this much of _PyRuntime. */
#define PH_DEBUG_OFFSETS_MAX 0x400

/* Whether the block says the build is free-threaded (Py_GIL_DISABLED). */
bool ph_debug_offsets_free_threaded(const uint8_t *buf, size_t len);

/* Overwrites the fields of o that the block describes with the block's values,
 * read with the layout `kind` (the release's, version.h).  buf holds the first
 * len bytes of _PyRuntime.  Returns the number of fields written, or -1
 * (leaving o untouched) when the cookie is wrong, len is too small, the
 * layout is not known here, or a value is implausible (an offset outside its
 * struct), as in a damaged core. */
int ph_offsets_apply_debug(ph_offsets *o, enum ph_debug_offsets kind, const uint8_t *buf,
			   size_t len);

#endif
