/*
 * repr.c - objects and references as people read them: a short value for
 * each object ('abc', 42, len=3), and the label of each reference
 * (['key'], .attr, [3], __closure__).
 */
#include "walk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field names, indexed by PH_E_FIELD labels. */
static const char *const field_names[F_NFIELDS] = {
	[F_NONE] = "?",
	[F_CLASS] = "__class__", [F_DICT] = "__dict__", [F_BASES] = "__bases__",
	[F_BASE] = "__base__", [F_MRO] = "__mro__", [F_NAME] = "__name__",
	[F_QUALNAME] = "__qualname__", [F_SLOTS] = "__slots__",
	[F_MODULE_OBJ] = "<module object>", [F_SUBCLASSES] = "__subclasses__",
	[F_CACHED_KEY] = "<cached key>", [F_CODE] = "__code__",
	[F_GLOBALS] = "__globals__", [F_DEFAULTS] = "__defaults__",
	[F_KWDEFAULTS] = "__kwdefaults__", [F_CLOSURE] = "__closure__",
	[F_MODULE] = "__module__", [F_CELL] = "cell_contents", [F_FUNC] = "__func__",
	[F_SELF] = "__self__", [F_FGET] = "fget", [F_FSET] = "fset", [F_FDEL] = "fdel",
	[F_DOC] = "__doc__", [F_CO_CONSTS] = "co_consts", [F_CO_NAMES] = "co_names",
	[F_CO_VARNAMES] = "co_varnames", [F_CO_FREEVARS] = "co_freevars",
	[F_CO_CELLVARS] = "co_cellvars", [F_CO_CODE] = "co_code",
	[F_CO_FILENAME] = "co_filename", [F_CO_NAME] = "co_name",
	[F_CO_QUALNAME] = "co_qualname", [F_CO_LINETABLE] = "co_linetable",
	[F_CO_EXCTABLE] = "co_exceptiontable", [F_CO_LPNAMES] = "co_localsplusnames",
	[F_CO_LPKINDS] = "co_localspluskinds", [F_F_BACK] = "f_back",
	[F_F_CODE] = "f_code", [F_F_BUILTINS] = "f_builtins", [F_F_GLOBALS] = "f_globals",
	[F_F_LOCALS] = "f_locals", [F_F_TRACE] = "f_trace", [F_FRAME_OBJ] = "<frame object>",
	[F_FUNCOBJ] = "<function>", [F_GI_FRAME] = "gi_frame", [F_GI_CODE] = "gi_code",
	[F_TB_NEXT] = "tb_next", [F_TB_FRAME] = "tb_frame", [F_ARGS] = "args",
	[F_NOTES] = "__notes__", [F_TRACEBACK] = "__traceback__",
	[F_CONTEXT] = "__context__", [F_CAUSE] = "__cause__",
	[F_WR_OBJECT] = "<weak referent>", [F_WR_CALLBACK] = "__callback__",
	[F_MAPPING] = "<mapping>", [F_OBJCLASS] = "__objclass__",
	[F_KEYWORDS] = "keywords", [F_WRAPPED] = "__wrapped__", [F_CACHE] = "<cache>",
	[F_KWD_MARK] = "<kwd_mark>", [F_DEFAULT_FACTORY] = "default_factory",
	[F_LRU_KEY] = "<key>", [F_LRU_RESULT] = "<result>", [F_LRU_NEXT] = "<next>",
	[F_LRU_PREV] = "<prev>", [F_SYS] = "sys.__dict__", [F_BUILTINS] = "builtins",
	[F_SYS_MODULES] = "sys.modules", [F_INTERNED] = "<interned strings>",
	[F_ANNOTATIONS] = "__annotations__", [F_TYPEPARAMS] = "__type_params__",
	[F_CACHE_INFO_TYPE] = "<cache_info_type>", [F_ELEM_TYPE] = "<lru_list_elem_type>",
	[F_TYPE_CACHE] = "<type cache>", [F_ANNOTATE] = "__annotate__", [F_DTYPE] = "dtype",
};

const char *ph_field_name(uint32_t f)
{
	return f < F_NFIELDS && field_names[f] ? field_names[f] : "?";
}

/* Appends a Python-ish repr of a str, cut to a few dozen characters. */
static void str_repr(ph_heap *h, uint64_t s, char *buf, size_t cap)
{
	char tmp[64];
	if (!ph_str_read(h, s, tmp, sizeof tmp)) {
		snprintf(buf, cap, "?");
		return;
	}
	size_t o = 0;
	buf[o++] = '\'';
	for (const char *p = tmp; *p && o + 5 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\'' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (strlen(tmp) >= sizeof tmp - 1 && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	if (o + 1 < cap)
		buf[o++] = '\'';
	buf[o] = 0;
}

/* The value of a small int, if it is one (phInt.h). */
bool ph_int_value(ph_heap *h, uint64_t addr, int64_t *out)
{
	uint64_t tag = 0;
	uint32_t d[3] = {0};
	int64_t sign = 1;
	uint64_t nd;
	if (h->off.long_lv_tag >= 0) {
		if (!rdf(h, addr, h->off.long_lv_tag, &tag))
			return false;
		nd = tag >> 3;
		sign = (tag & 3) == 2 ? -1 : 1;
		if ((tag & 3) == 1) {
			*out = 0;
			return true;
		}
	} else {
		if (!rd64(h, addr + 16, &tag))
			return false;
		sign = (int64_t)tag < 0 ? -1 : 1;
		nd = (int64_t)tag < 0 ? 0 - tag : tag;
	}
	if (nd > 2 || core_read(h->core, addr + (uint64_t)h->off.long_digit, d, nd * 4) != nd * 4)
		return false;
	*out = sign * (int64_t)((uint64_t)d[0] | (nd > 1 ? (uint64_t)d[1] << 30 : 0));
	return true;
}

/* ---- lengths ---- */

int64_t ph_len_var(ph_heap *h, uint64_t a)
{
	uint64_t n = 0;
	return rd64(h, a + 16, &n) && n < (1ull << 40) ? (int64_t)n : -1;
}

int64_t ph_len_dict(ph_heap *h, uint64_t a)
{
	uint64_t n = 0;
	return rdf(h, a, h->off.dict_ma_used, &n) && n < (1ull << 40) ? (int64_t)n : -1;
}

int64_t ph_len_set(ph_heap *h, uint64_t a)
{
	uint64_t n = 0;
	return rdf(h, a, h->off.set_used, &n) && n < (1ull << 40) ? (int64_t)n : -1;
}

int64_t ph_object_len(ph_heap *h, ph_id id)
{
	const ph_kind_ops *k = &ph_kinds[h->types[h->objs.type[id]].kind];
	return k->len ? k->len(h, h->objs.addr[id]) : -1;
}

/* ---- values ---- */

void ph_repr_str(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	str_repr(h, a, buf, cap);
}

void ph_repr_int(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	int64_t iv;
	if (ph_int_value(h, a, &iv))
		snprintf(buf, cap, "%" PRId64, iv);
	else
		snprintf(buf, cap, "<big int>");
}

void ph_repr_bytes(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	char tmp[24];
	uint64_t n = 0;
	rd64(h, a + 16, &n);
	size_t k = n < 16 ? (size_t)n : 16, o = 0;
	uint8_t b[16];
	k = core_read(h->core, a + (uint64_t)h->off.bytes_sval, b, k);
	o += (size_t)snprintf(buf, cap, "b'");
	for (size_t i = 0; i < k && o + 6 < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, b[i] >= 0x20 && b[i] < 0x7f &&
				      b[i] != '\'' && b[i] != '\\' ? "%c" : "\\x%02x", b[i]);
	snprintf(tmp, sizeof tmp, "%s' len=%" PRIu64, n > k ? "..." : "", n);
	snprintf(buf + o, cap - o, "%s", tmp);
}

/* As Python's repr: the fewest digits that read back as d, positional
 * for exponents -4 to 15 (with ".0" when whole), else 1.5e+16. */
void ph_repr_float(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	double d;
	char e[40];
	if (core_read(h->core, a + 16, &d, 8) != 8)
		return;
	if (d != d || d - d != 0) {
		snprintf(buf, cap, "%s", d != d ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	int p = 1;
	for (; p < 17; p++) {
		snprintf(e, sizeof e, "%.*e", p - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	snprintf(e, sizeof e, "%.*e", p - 1, d);
	int x = atoi(strchr(e, 'e') + 1);
	if (x < -4 || x >= 16) {
		snprintf(buf, cap, "%s", e);
		return;
	}
	int decimals = p - 1 - x > 0 ? p - 1 - x : 0;
	snprintf(buf, cap, "%.*f%s", decimals, d, decimals ? "" : ".0");
}

void ph_repr_var_len(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t n = 0;
	rd64(h, a + 16, &n);
	snprintf(buf, cap, "len=%" PRIu64, n);
}

void ph_repr_dict_len(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t n = 0;
	rdf(h, a, h->off.dict_ma_used, &n);
	snprintf(buf, cap, "len=%" PRIu64, n);
}

void ph_repr_set_len(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t n = 0;
	rdf(h, a, h->off.set_used, &n);
	snprintf(buf, cap, "len=%" PRIu64, n);
}

void ph_repr_module(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t n = 0;
	if (rdf(h, a, h->off.mod_name, &n) && n)
		str_repr(h, n, buf, cap);
}

void ph_repr_function(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t n = 0;
	if (rdf(h, a, h->off.func_qualname, &n) && n)
		str_repr(h, n, buf, cap);
}

void ph_repr_code(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	ph_code_name(h, a, buf, cap);
}

/* The kind of the object at a (K_OTHER when its type is unknown). */
static int kind_at(ph_heap *h, uint64_t a)
{
	uint64_t tp = 0;
	uint32_t ti = rd64(h, a + 8, &tp) ? ph_type_lookup(h, tp) : PH_NONE;
	return ti != PH_NONE ? (int)h->types[ti].kind : K_OTHER;
}

/* 'len' for a built-in function, 'list.append' for a method of an object:
 * the name in its PyMethodDef, a C string. */
void ph_repr_cfunction(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint64_t ml = 0, name = 0, self = 0;
	char n[96];
	if (!rdf(h, a, h->off.cfunc_ml, &ml) || !ml || !rdf(h, ml, h->off.methoddef_name, &name) ||
	    !name || core_read_str(h->core, name, n, sizeof n) != 0)
		return;
	uint64_t tp = 0;
	uint32_t ti = PH_NONE;
	if (rdf(h, a, h->off.cfunc_self, &self) && self && kind_at(h, self) != K_MODULE &&
	    rd64(h, self + 8, &tp))
		ti = ph_type_lookup(h, tp);
	if (ti != PH_NONE)
		snprintf(buf, cap, "'%s.%s'", h->types[ti].name, n);
	else
		snprintf(buf, cap, "'%s'", n);
}

void ph_repr_lru(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	/* the function it caches: the __qualname__ functools.update_wrapper
	 * gave the wrapper, else the function's own name */
	uint64_t d = 0, n = 0, q = 0;
	if (rdf(h, a, h->off.lru_dict, &d) && d && (q = ph_dict_get_str(h, d, "__qualname__")) &&
	    kind_at(h, q) == K_STR) {
		str_repr(h, q, buf, cap);
		return;
	}
	if (!rdf(h, a, h->off.lru_func, &n) || !n)
		return;
	if (kind_at(h, n) == K_FUNCTION && rdf(h, n, h->off.func_qualname, &q) && q)
		str_repr(h, q, buf, cap);
	else if (kind_at(h, n) == K_CFUNCTION)
		ph_repr_cfunction(h, n, buf, cap);
}

void ph_repr_type(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	uint32_t ti = ph_type_lookup(h, a);
	if (ti != PH_NONE)
		snprintf(buf, cap, "%s", h->types[ti].name);
}

/* "check (lint.py:712)": a frame object's function and where it is (its
 * interpreter frame on 3.11+, itself before). */
void ph_repr_frame(ph_heap *h, uint64_t a, char *buf, size_t cap)
{
	ph_frame fr;
	uint64_t f = a;
	if (h->tr->frames != PH_FRAMES_OBJECTS && !rdf(h, a, h->off.frame_frame, &f))
		return;
	if (ph_frame_at(h, f, &fr) == 0 && !fr.entry) {
		const char *b = strrchr(fr.file, '/');
		snprintf(buf, cap, "%s (%s:%d)", fr.name, b ? b + 1 : fr.file, fr.line);
	}
}

const char *ph_object_repr(ph_heap *h, ph_id id, char *buf, size_t cap)
{
	const ph_kind_ops *k = &ph_kinds[h->types[h->objs.type[id]].kind];
	buf[0] = 0;
	if (k->repr)
		k->repr(h, h->objs.addr[id], buf, cap);
	return buf;
}

/* ---- references ---- */

const char *ph_edge_label(ph_heap *h, uint32_t src, uint8_t kind, uint32_t label,
			  char *buf, size_t cap)
{
	char v[96];
	switch (kind) {
	case PH_E_INDEX:
		snprintf(buf, cap, "[%u]", label);
		break;
	case PH_E_DICT_VALUE:
	case PH_E_ATTR:
	case PH_E_LOCAL:
		if (label == PH_NONE || label >= h->objs.n)
			snprintf(v, sizeof v, "?");
		else
			ph_object_repr(h, label, v, sizeof v);
		if (kind == PH_E_ATTR && label < h->objs.n && h->types[h->objs.type[label]].kind == K_STR)
			snprintf(buf, cap, ".%.*s", (int)(strlen(v) >= 2 ? strlen(v) - 2 : 0), v + 1);
		else if (kind == PH_E_LOCAL)
			snprintf(buf, cap, "f_locals[%s]", v);
		else
			snprintf(buf, cap, "[%s]", v);
		break;
	case PH_E_DICT_KEY:
		snprintf(buf, cap, "(key)");
		break;
	case PH_E_SLOT: {
		/* the member's name: a C string in the declaring type's slot table */
		uint64_t ty = src < h->objs.n ? h->types[h->objs.type[src]].addr : 0, name = 0;
		for (uint32_t d = 0; ty && d < (label >> 16); d++)
			if (!rdf(h, ty, h->off.tp_base, &ty))
				ty = 0;
		uint32_t ti = ty ? ph_type_lookup(h, ty) : PH_NONE;
		v[0] = 0;
		if (ti != PH_NONE && rd64(h, h->types[ti].members + 40ull * (label & 0xffff), &name))
			core_read_str(h->core, name, v, sizeof v);
		snprintf(buf, cap, ".%s", *v ? v : "?");
		break;
	}
	case PH_E_FIELD:
		snprintf(buf, cap, "%s", ph_field_name(label));
		break;
	case PH_E_SET_ITEM:
		snprintf(buf, cap, "{item}");
		break;
	case PH_E_STACK:
		snprintf(buf, cap, "stack[%u]", label);
		break;
	case PH_E_FRAME:
		snprintf(buf, cap, "frame[%u]", label);
		break;
	case PH_E_STATE: {
		/* "is_own_sysdict_copy" -> "interp.sysdict_copy" */
		const char *n = label < ph_offset_desc_count ? ph_offset_descs[label].name : "?";
		const char *own = strstr(n, "own_");
		const char *who = strncmp(n, "is_", 3) == 0 ? "interp" : strncmp(n, "ts_", 3) == 0 ?
				  "thread" : "gc";
		if (own && strncmp(own, "ownall_", 7) == 0)
			own += 7;
		else if (own)
			own += 4;
		snprintf(buf, cap, "%s.%s", who, own ? own : n);
		break;
	}
	case PH_E_CONSERVATIVE: {
		/* a C static: its symbol, when the module has one there */
		uint64_t off = 0;
		const char *sym = NULL;
		if (src >= h->objs.n && src < h->objs.n + h->nvnodes &&
		    strcmp(h->vnodes[src - h->objs.n].kind, "statics") == 0) {
			const ph_vnode *sv = &h->vnodes[src - h->objs.n];
			sym = core_module_addr_name(core_module_at(h->core, sv->aux),
						    sv->addr + label, &off);
		}
		if (!sym && (label & PH_LABEL_MODSTATE))
			snprintf(buf, cap, "md_state+0x%x?", label & ~PH_LABEL_MODSTATE);
		else if (sym && off)
			snprintf(buf, cap, "%s+0x%llx?", sym, (unsigned long long)off);
		else if (sym)
			snprintf(buf, cap, "%s?", sym);
		else
			snprintf(buf, cap, "+0x%x?", label);
		break;
	}
	default:
		snprintf(buf, cap, "?");
		break;
	}
	return buf;
}
