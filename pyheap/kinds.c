/*
 * kinds.c - one row per family of objects (kinds.h): how its type is
 * recognised, its references, its size, its length and its value.
 *
 * Fields are listed in the order tp_traverse visits them, which is the
 * order `show` lists referents in.
 */
#include "walk.h"

#define FLD(name, label) { PH_FIELD(name), label }

const ph_kind_ops ph_kinds[K_NKINDS] = {
	[K_OTHER] = {
		.name = "other",
		.edges = ph_decode_conservative,
	},
	[K_OBJECT] = { .name = "object", .symbols = {"PyBaseObject_Type"} },
	[K_TYPE] = {
		.name = "type", .symbols = {"PyType_Type"},
		.body = ph_body_type, .size = ph_size_type, .gc_if_heap_type = true,
		.edges = ph_decode_type,
		.repr = ph_repr_type,
	},
	[K_TUPLE] = {
		.name = "tuple", .symbols = {"PyTuple_Type"}, .var_size = true,
		.edges = ph_decode_tuple,
		.len = ph_len_var, .repr = ph_repr_var_len,
	},
	[K_LIST] = {
		.name = "list", .symbols = {"PyList_Type"},
		.size = ph_size_list,
		.edges = ph_decode_list,
		.len = ph_len_var, .repr = ph_repr_var_len,
	},
	[K_DICT] = {
		.name = "dict", .symbols = {"PyDict_Type"},
		.size = ph_size_dict,
		.edges = ph_decode_dict,
		.len = ph_len_dict, .repr = ph_repr_dict_len,
	},
	[K_SET] = {
		.name = "set", .symbols = {"PySet_Type"},
		.size = ph_size_set,
		.edges = ph_decode_set,
		.len = ph_len_set, .repr = ph_repr_set_len,
	},
	[K_FROZENSET] = {
		.name = "frozenset", .symbols = {"PyFrozenSet_Type"},
		.size = ph_size_set,
		.edges = ph_decode_set,
		.len = ph_len_set, .repr = ph_repr_set_len,
	},
	[K_STR] = {
		.name = "str", .symbols = {"PyUnicode_Type"},
		.body = ph_body_str, .size = ph_size_str,
		.repr = ph_repr_str,
	},
	[K_BYTES] = {
		.name = "bytes", .symbols = {"PyBytes_Type"}, .var_size = true,
		.repr = ph_repr_bytes,
	},
	[K_BYTEARRAY] = {
		.name = "bytearray", .symbols = {"PyByteArray_Type"},
		.size = ph_size_bytearray,
	},
	[K_INT] = {
		.name = "int", .symbols = {"PyLong_Type"}, .var_size = true,
		.body = ph_body_int, .size = ph_size_int,
		.repr = ph_repr_int,
	},
	[K_FLOAT] = {
		.name = "float", .symbols = {"PyFloat_Type"},
		.repr = ph_repr_float,
	},
	[K_COMPLEX] = { .name = "complex", .symbols = {"PyComplex_Type"} },
	[K_MODULE] = {
		.name = "module", .symbols = {"PyModule_Type"},
		.edges = ph_decode_module,
		.fields = { FLD(mod_dict, F_DICT), FLD(mod_name, F_NAME) },
		.repr = ph_repr_module,
	},
	[K_FUNCTION] = {
		.name = "function", .symbols = {"PyFunction_Type"},
		.fields = {
			FLD(func_code, F_CODE), FLD(func_globals, F_GLOBALS),
			FLD(func_name, F_NAME), FLD(func_qualname, F_QUALNAME),
			FLD(func_defaults, F_DEFAULTS), FLD(func_kwdefaults, F_KWDEFAULTS),
			FLD(func_closure, F_CLOSURE), FLD(func_dict, F_DICT),
			FLD(func_module, F_MODULE), FLD(func_builtins, F_BUILTINS),
			FLD(func_doc, F_DOC), FLD(func_annotations, F_ANNOTATIONS),
			FLD(func_typeparams, F_TYPEPARAMS), FLD(func_annotate, F_ANNOTATE),
		},
		.repr = ph_repr_function,
	},
	[K_CODE] = {
		.name = "code", .symbols = {"PyCode_Type"},
		.size = ph_size_code,
		.edges = ph_decode_code,
		.repr = ph_repr_code,
	},
	[K_CELL] = {
		.name = "cell", .symbols = {"PyCell_Type"},
		.fields = { FLD(cell_ref, F_CELL) },
	},
	[K_METHOD] = {
		.name = "method", .symbols = {"PyMethod_Type"},
		.fields = { FLD(meth_func, F_FUNC), FLD(meth_self, F_SELF) },
	},
	[K_CLASSMETHOD] = {
		.name = "classmethod", .symbols = {"PyClassMethod_Type"},
		.fields = { FLD(cm_callable, F_FUNC), FLD(cm_dict, F_DICT) },
	},
	[K_STATICMETHOD] = {
		.name = "staticmethod", .symbols = {"PyStaticMethod_Type"},
		.fields = { FLD(sm_callable, F_FUNC), FLD(sm_dict, F_DICT) },
	},
	[K_PROPERTY] = {
		.name = "property", .symbols = {"PyProperty_Type"},
		.fields = {
			FLD(prop_get, F_FGET), FLD(prop_set, F_FSET), FLD(prop_del, F_FDEL),
			FLD(prop_doc, F_DOC), FLD(prop_name, F_NAME),
		},
	},
	[K_WEAKREF] = {
		.name = "weakref", .symbols = {"_PyWeakref_RefType"},
		.edges = ph_decode_weakref,
		.fields = { FLD(wr_callback, F_WR_CALLBACK) },
	},
	[K_CFUNCTION] = {
		.name = "builtin_function_or_method", .symbols = {"PyCFunction_Type"},
		.fields = { FLD(cfunc_self, F_SELF), FLD(cfunc_module, F_MODULE) },
		.repr = ph_repr_cfunction,
	},
	[K_MAPPINGPROXY] = {
		.name = "mappingproxy", .symbols = {"PyDictProxy_Type"},
		.fields = { FLD(proxy_mapping, F_MAPPING) },
	},
	[K_FRAME] = {
		.name = "frame", .symbols = {"PyFrame_Type"},
		.size = ph_size_frame,
		.edges = ph_decode_frame,
		.repr = ph_repr_frame,
	},
	[K_GEN] = {
		.name = "generator", .symbols = {"PyGen_Type"},
		.body = ph_body_gen,
		.edges = ph_decode_gen,
	},
	[K_COROUTINE] = {
		.name = "coroutine", .symbols = {"PyCoro_Type"},
		.body = ph_body_gen,
		.edges = ph_decode_gen,
	},
	[K_ASYNCGEN] = {
		.name = "async_generator", .symbols = {"PyAsyncGen_Type"},
		.body = ph_body_gen,
		.edges = ph_decode_gen,
	},
	[K_TRACEBACK] = {
		.name = "traceback", .symbols = {"PyTraceBack_Type"},
		.fields = { FLD(tb_next, F_TB_NEXT), FLD(tb_frame, F_TB_FRAME) },
	},
	[K_EXCEPTION] = {
		/* exported as a pointer variable, not as the static type */
		.name = "BaseException", .pointer_symbol = "PyExc_BaseException",
		.fields = {
			FLD(exc_dict, F_DICT), FLD(exc_args, F_ARGS), FLD(exc_notes, F_NOTES),
			FLD(exc_traceback, F_TRACEBACK), FLD(exc_context, F_CONTEXT),
			FLD(exc_cause, F_CAUSE),
		},
	},
	[K_DESCR] = {
		.name = "descriptor",
		.type_names = {"method_descriptor", "member_descriptor", "getset_descriptor",
			       "wrapper_descriptor", "classmethod_descriptor"},
		.fields = { FLD(descr_type, F_OBJCLASS), FLD(descr_name, F_NAME) },
	},
	[K_WEAKPROXY] = {
		.name = "weakproxy",
		.symbols = {"_PyWeakref_ProxyType", "_PyWeakref_CallableProxyType"},
		.type_names = {"weakref.ProxyType", "weakref.CallableProxyType", "weakproxy",
			       "weakcallableproxy"},
		.edges = ph_decode_weakref,
		.fields = { FLD(wr_callback, F_WR_CALLBACK) },
	},
	[K_PARTIAL] = {
		.name = "functools.partial", .type_names = {"functools.partial"},
		.fields = {
			FLD(partial_fn, F_FUNC), FLD(partial_args, F_ARGS),
			FLD(partial_kw, F_KEYWORDS), FLD(partial_dict, F_DICT),
		},
	},
	[K_LRU] = {
		.name = "functools._lru_cache_wrapper",
		.type_names = {"functools._lru_cache_wrapper"},
		.fields = {
			FLD(lru_func, F_WRAPPED), FLD(lru_cache, F_CACHE), FLD(lru_dict, F_DICT),
			FLD(lru_kwd_mark, F_KWD_MARK), FLD(lru_cache_info_type, F_CACHE_INFO_TYPE),
			FLD(lru_elem_type, F_ELEM_TYPE),
		},
		.repr = ph_repr_lru,
	},
	[K_LRU_ELEM] = {
		.name = "functools._lru_list_elem", .type_names = {"functools._lru_list_elem"},
		.edges = ph_decode_lru_elem,
	},
	[K_DEQUE] = {
		.name = "collections.deque", .type_names = {"collections.deque"},
		.size = ph_size_deque,
		.edges = ph_decode_deque,
		.len = ph_len_var, .repr = ph_repr_var_len,
	},
	[K_DEFDICT] = {
		.name = "collections.defaultdict", .type_names = {"collections.defaultdict"},
		.size = ph_size_dict,
		.edges = ph_decode_dict,
		.fields = { FLD(defdict_factory, F_DEFAULT_FACTORY) },
		.len = ph_len_dict, .repr = ph_repr_dict_len,
	},
	[K_DATETIME] = {
		/* allocated without their tzinfo slot when they have none, but
		 * sized by object.__sizeof__ (tp_basicsize) all the same */
		.name = "datetime", .type_names = {"datetime.time", "datetime.datetime"},
		.body = ph_body_datetime, .size = ph_size_basic,
		.edges = ph_decode_conservative,
	},
	[K_NDARRAY] = {
		.name = "numpy.ndarray", .type_names = {"numpy.ndarray"},
		.size = ph_size_ndarray,
		.edges = ph_decode_ndarray,
	},
	[K_ODICT] = {
		.name = "collections.OrderedDict", .type_names = {"collections.OrderedDict"},
		.size = ph_size_dict,
		.edges = ph_decode_dict,
		.fields = { FLD(odict_inst_dict, F_DICT) },
		.len = ph_len_dict, .repr = ph_repr_dict_len,
	},
	[K_FROZENDICT] = {
		/* 3.15: a dict's layout and __sizeof__, though no dict subclass */
		.name = "frozendict", .symbols = {"PyFrozenDict_Type"},
		.size = ph_size_dict,
		.edges = ph_decode_dict,
		.len = ph_len_dict, .repr = ph_repr_dict_len,
	},

	/* rows that only size (kinds.h) */
	[K_STGDICT] = {
		/* ctypes' StgDict (3.8 - 3.12): a dict with the type's C data */
		.name = "StgDict", .type_names = {"StgDict"},
		.sizes_only = true, .size = ph_size_stgdict,
	},
	[K_CTYPE] = {
		/* ctypes' metatypes (3.13+): the type's C data after the type */
		.name = "_ctypes.CType_Type", .type_names = {"_ctypes.CType_Type"},
		.sizes_only = true, .size = ph_size_ctype,
	},
	[K_BUFFERED] = {
		.name = "_io buffered",
		.type_names = {"_io.BufferedReader", "_io.BufferedWriter", "_io.BufferedRandom"},
		.sizes_only = true, .size = ph_size_buffered,
	},
	[K_STRUCT] = {
		/* tp_name "Struct" on 3.8 */
		.name = "_struct.Struct", .type_names = {"_struct.Struct", "Struct"},
		.sizes_only = true, .size = ph_size_struct,
	},
};
