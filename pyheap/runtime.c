/*
 * runtime.c - find _PyRuntime, tell the version, choose the struct offsets.
 *
 * _PyRuntime is found by symbol (.dynsym exports it in every build), by the
 * .PyRuntime section (3.10+, survives strip), or by the "xdebugpy" cookie
 * that starts _Py_DebugOffsets (3.13+, lives in writable data, so it is in
 * the core even when the binary is gone).
 */
#include "phInt.h"
#include "kinds.h"
#include "debug_offsets.h"
#include "walk.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* "libpython3.10.so.1.0" or "python3.10" -> 10; -1 when the name says nothing. */
static int minor_from_name(const char *path)
{
	const char *b = basename_of(path);
	const char *p = strstr(b, "python3.");
	if (!p)
		return -1;
	p += strlen("python3.");
	if (!isdigit((unsigned char)*p))
		return -1;
	int minor = atoi(p);
	return ph_minor_supported(minor) ? minor : -1;
}

static int find_runtime_in(ph_heap *h, core_module_t *m)
{
	uint64_t addr, size;
	if (core_module_symbol(m, "_PyRuntime", &addr, &size) == 0 && addr) {
		h->runtime = addr;
		h->runtime_found_by = "symbol";
		return 0;
	}
	if (core_module_section(m, ".PyRuntime", &addr, &size) == 0 && addr) {
		h->runtime = addr;
		h->runtime_found_by = "section";
		return 0;
	}
	return -1;
}

/* Looks for the 3.13+ debug-offsets cookie at 8-byte alignment in the
 * writable segments of the core.  Bounded by the core's size. */
static int find_runtime_cookie(ph_heap *h)
{
	size_t n = core_segment_count(h->core);
	for (size_t i = 0; i < n; i++) {
		const core_segment *s = core_segment_at(h->core, i);
		if (!(s->flags & CORE_SEG_W) || s->filesz < 0x248)
			continue;
		for (uint64_t o = 0; o + 0x248 <= s->filesz; o += 8) {
			if (memcmp(s->data + o, "xdebugpy", 8) != 0)
				continue;
			uint64_t v;
			memcpy(&v, s->data + o + 8, 8);
			if ((v >> 24) == 3 && ((v >> 16) & 0xff) >= 13 && ((v >> 16) & 0xff) < 40) {
				h->runtime = s->vaddr + o;
				h->runtime_found_by = "cookie";
				return 0;
			}
		}
	}
	return -1;
}

static void set_version_hex(ph_heap *h, uint64_t v)
{
	h->minor = (int)((v >> 16) & 0xff);
	h->micro = (int)((v >> 8) & 0xff);
	snprintf(h->version, sizeof h->version, "3.%d.%d", h->minor, h->micro);
}

/* Copies the next '|'-separated alternative of *p into buf (cap bytes)
 * and advances *p past it; false when there is none left. */
static bool next_alt(const char **p, char *buf, size_t cap)
{
	if (!**p)
		return false;
	size_t len = strcspn(*p, "|");
	snprintf(buf, cap, "%.*s", (int)len, *p);
	*p += len;
	if (**p == '|')
		(*p)++;
	return len < cap;
}

int ph_offsets_from_dwarf(core_module_t *m, ph_offsets *out)
{
	int64_t *vals = (int64_t *)out;
	int found = 0;
	for (size_t i = 0; i < ph_offset_desc_count; i++) {
		const ph_offset_desc *d = &ph_offset_descs[i];
		uint64_t v;
		int ok = -1;
		char type[128], alt[128];
		/* the first type that exists decides, as for gen-offsets.sh */
		for (const char *tp = d->type; ok != 0 && next_alt(&tp, type, sizeof type);) {
			uint64_t size;
			if (core_module_type_size(m, type, &size) != 0)
				continue;
			if (!*d->member) {
				v = size;
				ok = 0;
			}
			for (const char *p = d->member; ok != 0 && next_alt(&p, alt, sizeof alt);)
				ok = core_module_member_offset(m, type, alt, &v);
			break;
		}
		vals[d->index] = ok == 0 ? (int64_t)v : -1;
		found += ok == 0;
	}
	return found;
}

/* The fields without which nothing works: DWARF that lacks them (a partial
 * debug file) is not trusted. */
static bool offsets_usable(const ph_offsets *o)
{
	return o->rt_interpreters_head >= 0 && o->is_next >= 0 && o->tp_name >= 0 &&
	       o->tp_flags >= 0 && o->tp_basicsize >= 0 && o->dict_ma_keys >= 0 &&
	       o->tuple_ob_item >= 0 && o->ascii_size > 0 &&
	       (o->rt_gc >= 0 || o->is_gc >= 0);
}

static void find_static_objects(ph_heap *h)
{
	uint64_t a;
	/* the static type of each family: its first symbol found, or the
	 * pointer variable that holds it */
	for (int k = 1; k < K_NKINDS; k++) {
		const ph_kind_ops *ko = &ph_kinds[k];
		for (size_t i = 0; i < 2 && ko->symbols[i] && !h->kind_types[k]; i++)
			if (core_module_symbol(h->pymod, ko->symbols[i], &a, NULL) == 0)
				h->kind_types[k] = a;
		if (ko->pointer_symbol && !h->kind_types[k] &&
		    core_module_symbol(h->pymod, ko->pointer_symbol, &a, NULL) == 0)
			rd64(h, a, &h->kind_types[k]);
	}
	h->type_type = h->kind_types[K_TYPE];
	h->object_type = h->kind_types[K_OBJECT];
	/* 3.8-3.11 keep the interned dict in a static (in .symtab when not stripped) */
	if (core_module_symbol(h->pymod, "interned", &a, NULL) == 0)
		rd64(h, a, &h->interned);
	if (core_module_symbol(h->pymod, "_Py_NoneStruct", &a, NULL) == 0)
		h->none_addr = a;
	if (core_module_symbol(h->pymod, "_PySet_Dummy", &a, NULL) == 0)
		rd64(h, a, &h->set_dummy);
}

void ph_walk_interpreters(ph_heap *h)
{
	uint64_t p = 0;
	h->ninterps = 0;
	rdf(h, h->runtime, h->off.rt_interpreters_head, &p);
	while (p && h->ninterps < sizeof h->interps / sizeof h->interps[0]) {
		for (size_t i = 0; i < h->ninterps; i++)
			if (h->interps[i] == p)
				return;            /* a cycle: corrupt list */
		h->interps[h->ninterps++] = p;
		if (!rdf(h, p, h->off.is_next, &p))
			break;
	}
	/* the main interpreter is the last one created, so last on the list */
	if (h->ninterps > 1) {
		uint64_t main_is = 0;
		if (rdf(h, h->runtime, h->off.rt_interpreters_main, &main_is))
			for (size_t i = 1; i < h->ninterps; i++)
				if (h->interps[i] == main_is) {
					h->interps[i] = h->interps[0];
					h->interps[0] = main_is;
				}
	}
}

/* The full version ("3.10.13") from sys.version in the heap; keeps the
 * minor version found so far, which chose the offsets. */
static void version_from_sys(ph_heap *h)
{
	uint64_t sysdict = 0, s;
	char buf[64];
	if (!h->ninterps || !rdf(h, h->interps[0], h->off.is_sysdict, &sysdict) || !sysdict)
		return;
	s = ph_dict_get_str(h, sysdict, "version");
	if (!s || !ph_str_read(h, s, buf, sizeof buf))
		return;
	int maj, min, mic;
	if (sscanf(buf, "%d.%d.%d", &maj, &min, &mic) == 3 && maj == 3 && min == h->minor) {
		if (h->micro < 0 || strcmp(h->version_found_by, "soname") == 0 ||
		    strcmp(h->version_found_by, "executable") == 0) {
			h->micro = mic;
			h->version_found_by = "version_string";
		}
		snprintf(h->version, sizeof h->version, "3.%d.%d", min, mic);
	}
}

int ph_open(ph_heap **out, core_t *core, const ph_options *opts, char *err, size_t errlen)
{
	ph_heap *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "%s: out of memory", core_path(core));
		return -1;
	}
	h->core = core;
	h->opts = *opts;
	h->micro = -1;
	h->arenas_found_by = "none";

	/* libpython first: when it is mapped, the executable is only a launcher */
	core_module_t *cands[3] = {core_module_find(core, "libpython3."), core_module_exe(core), NULL};
	for (size_t i = 0; cands[i] && !h->runtime; i++)
		if (find_runtime_in(h, cands[i]) == 0)
			h->pymod = cands[i];
	if (!h->runtime)
		for (size_t i = 0; i < core_module_count(core) && !h->runtime; i++)
			if (find_runtime_in(h, core_module_at(core, i)) == 0)
				h->pymod = core_module_at(core, i);
	if (!h->runtime && find_runtime_cookie(h) == 0) {
		uint64_t a = h->runtime;
		for (size_t i = 0; i < core_module_count(core) && !h->pymod; i++) {
			core_module_t *m = core_module_at(core, i);
			uint64_t sa;
			if (core_module_symbol(m, "Py_Version", &sa, NULL) == 0 ||
			    core_module_symbol(m, "PyType_Type", &sa, NULL) == 0)
				h->pymod = m;
		}
		(void)a;
	}
	if (!h->runtime) {
		/* Without the binaries there are no symbols or sections to look in:
		 * say which one is missing rather than "not Python". */
		for (size_t i = 0; i < 2; i++) {
			core_module_t *m = cands[i];
			if (m && !core_module_disk_path(m)) {
				snprintf(err, errlen, "%s: cannot find _PyRuntime: module %s: not found "
					 "on disk (use --exe, --sysroot or --lib-path)",
					 core_path(core), core_module_name(m));
				free(h);
				return -1;
			}
		}
		snprintf(err, errlen, "%s: not a Python process: no _PyRuntime symbol, "
			 ".PyRuntime section or debug-offsets cookie found", core_path(core));
		free(h);
		return -1;
	}

	/* the version */
	uint8_t dbg[PH_DEBUG_OFFSETS_MAX];
	size_t dbglen = core_read(core, h->runtime, dbg, sizeof dbg);
	bool have_dbg = ph_debug_offsets_version(dbg, dbglen) != 0;
	uint64_t v = 0, sa;
	if (have_dbg) {
		set_version_hex(h, ph_debug_offsets_version(dbg, dbglen));
		h->version_found_by = "debug_offsets";
		if (ph_debug_offsets_free_threaded(dbg, dbglen)) {
			snprintf(err, errlen, "%s: Python %s is a free-threaded build "
				 "(Py_GIL_DISABLED): its objects live in mimalloc heaps, not in "
				 "pymalloc's arenas, and pyheap does not read them yet",
				 core_path(core), h->version);
			free(h);
			return -1;
		}
	} else if (h->pymod && core_module_symbol(h->pymod, "Py_Version", &sa, NULL) == 0 &&
		   core_read(core, sa, &v, 8) == 8 && (v >> 24) == 3) {
		set_version_hex(h, v & 0xffffffff);
		h->version_found_by = "Py_Version";
	} else {
		int minor = -1;
		if (h->pymod)
			minor = minor_from_name(core_module_name(h->pymod));
		h->version_found_by = "soname";
		if (minor < 0 && core_exe(core)) {
			minor = minor_from_name(core_exe(core));
			h->version_found_by = "executable";
		}
		if (minor < 0) {
			snprintf(err, errlen, "%s: found _PyRuntime at 0x%llx but cannot tell "
				 "the Python version", core_path(core), (unsigned long long)h->runtime);
			free(h);
			return -1;
		}
		h->minor = minor;
		snprintf(h->version, sizeof h->version, "3.%d", minor);
	}
	h->tr = ph_traits_find(h->minor, h->micro);
	if (!h->tr)
		h->tr = ph_traits_find(h->minor, -1);
	if (!h->tr) {
		snprintf(err, errlen, "%s: Python %s is not supported (%s are)",
			 core_path(core), h->version, ph_supported_range());
		free(h);
		return -1;
	}

	/* the layout: DWARF, else the built-in one the core validates */
	h->arena_size = h->tr->arena_size;
	h->pool_size = h->tr->pool_size;
	for (size_t i = 0; i < core_segment_count(core); i++)
		h->max_refcnt += core_segment_at(core, i)->memsz / 8;
	if (h->pymod)
		find_static_objects(h);
	bool use_dwarf = !opts->no_dwarf && h->pymod && core_module_has_dwarf(h->pymod) &&
			 ph_offsets_from_dwarf(h->pymod, &h->off) > 0 && offsets_usable(&h->off);
	int lrc = ph_layout_choose(h, use_dwarf, have_dbg ? dbg : NULL, dbglen, err, errlen);
	if (lrc < 0 && h->ninterps) {
		free(h);
		return -1;
	}
	if (!h->ninterps) {
		snprintf(err, errlen, "%s: _PyRuntime at 0x%llx has no interpreter (the process "
			 "had not started Python, or the core lacks its data)",
			 core_path(core), (unsigned long long)h->runtime);
		free(h);
		return -1;
	}
	if (ph_types_init(h) < 0) {
		snprintf(err, errlen, "%s: out of memory", core_path(core));
		ph_free(h);
		return -1;
	}
	version_from_sys(h);
	ph_walk_threads(h);
	*out = h;
	return 0;
}

void ph_free(ph_heap *h)
{
	if (!h)
		return;
	ph_plans_free(h);
	for (size_t i = 0; i < h->ntypes; i++)
		free(h->types[i].name);
	free(h->types);
	ph_map_free(&h->type_map);
	ph_map_free(&h->objs.map);
	ph_gc_chase_free(h);
	ph_blockix_free(h);
	ph_lean_free(h);
	free(h->scan.pending);
	ph_objects_free(h);
	free(h->chunks);
	free(h->arena_lo);
	free(h->arena_hi);
	free(h->threads);
	free(h->vnodes);
	free(h->roots);
	free(h->sranges);
	free(h->sexcl);
	for (size_t i = 0; i < W_NKINDS; i++)
		free(h->warn_text[i]);
	free(h);
}

const char *ph_version(const ph_heap *h) { return h->version; }
int ph_version_minor(const ph_heap *h) { return h->minor; }
const char *ph_version_found_by(const ph_heap *h) { return h->version_found_by; }
uint64_t ph_runtime_addr(const ph_heap *h) { return h->runtime; }
const char *ph_runtime_found_by(const ph_heap *h) { return h->runtime_found_by; }
const char *ph_offsets_source(const ph_heap *h) { return h->offsets_source; }
const char *ph_arenas_found_by(const ph_heap *h) { return h->arenas_found_by; }
const char *ph_layout_name(const ph_heap *h) { return h->layout_name ? h->layout_name : ""; }
const char *ph_layout_note(const ph_heap *h) { return h->layout_note; }
const char *ph_debug_info(ph_heap *h, const char **file)
{
	if (file)
		*file = NULL;
	if (h->opts.no_dwarf || !h->pymod)
		return NULL;
	return core_module_debug_source(h->pymod, file);
}
const char *ph_runtime_module(const ph_heap *h)
{
	return h->pymod ? core_module_name(h->pymod) : "";
}
