/*
 * offsets.h - the struct layout of one CPython build, as pyheap needs it.
 *
 * Every field is listed once in PH_OFFSETS below as
 *     X(field, "dwarf type", "member path")
 * where the type and the member path may hold alternatives separated by '|'
 * (the first one found in the DWARF wins: structs and members are renamed
 * between versions), and an empty path means sizeof(type).  A value of -1
 * means "this build has no such field".
 *
 * Three sources fill a ph_offsets (see ph_offsets_source):
 *   - the DWARF of the binary that holds _PyRuntime (ph_offsets_from_dwarf),
 *   - a built-in layout (ph_offsets_layout), named by the version table
 *     (version.c) for each release and patch range, generated from the DWARF
 *     of the builds named by scripts/gen-offsets.sh and checked against it by
 *     tests/check_offsets.c,
 *   - on 3.13+, _Py_DebugOffsets in the core, which overrides the table for the
 *     fields it describes (ph_offsets_apply_debug).
 */
#ifndef PYHEAP_OFFSETS_H
#define PYHEAP_OFFSETS_H

#include <stdint.h>

#define PH_OFFSETS(X) \
	/* _PyRuntimeState */ \
	X(rt_size,               "pyruntimestate", "") \
	X(rt_interpreters_head,  "pyruntimestate", "interpreters.head") \
	X(rt_interpreters_main,  "pyruntimestate", "interpreters.main") \
	X(rt_gc,                 "pyruntimestate", "gc") \
	/* 3.11+: element 0 of the statically allocated one-character bytes \
	 * and str caches, held only by the runtime (scan.c: static_caches) */ \
	X(rt_bytes_chars,        "pyruntimestate", "static_objects.singletons.bytes_characters|global_objects.singletons.bytes_characters") \
	X(rt_str_ascii,          "pyruntimestate", "static_objects.singletons.strings.ascii|global_objects.singletons.strings.ascii") \
	X(rt_str_latin1,         "pyruntimestate", "static_objects.singletons.strings.latin1|global_objects.singletons.strings.latin1") \
	/* PyInterpreterState */ \
	X(is_size,               "_is", "") \
	X(is_next,               "_is", "next") \
	X(is_id,                 "_is", "id") \
	X(is_threads_head,       "_is", "threads.head|tstate_head") \
	X(is_gc,                 "_is", "gc") \
	X(is_modules,            "_is", "imports.modules|modules") \
	X(is_sysdict,            "_is", "sysdict") \
	X(is_builtins,           "_is", "builtins") \
	X(is_obmalloc,           "_is", "obmalloc") \
	/* PyThreadState */ \
	X(ts_size,               "_ts", "") \
	X(ts_next,               "_ts", "next") \
	X(ts_interp,             "_ts", "interp") \
	X(ts_frame,              "_ts", "frame") \
	X(ts_cframe,             "_ts", "cframe") \
	X(ts_current_frame,      "_ts", "current_frame") \
	X(ts_thread_id,          "_ts", "thread_id") \
	X(ts_native_thread_id,   "_ts", "native_thread_id") \
	/* struct _gc_runtime_state and struct gc_generation */ \
	X(gc_enabled,            "_gc_runtime_state", "enabled") \
	X(gc_generations,        "_gc_runtime_state", "generations") \
	X(gc_permanent,          "_gc_runtime_state", "permanent_generation") \
	X(gc_collecting,         "_gc_runtime_state", "collecting") \
	/* the incremental collector (3.13 betas, 3.14.0 - 3.14.4) */ \
	X(gc_young,              "_gc_runtime_state", "young") \
	X(gc_old,                "_gc_runtime_state", "old") \
	X(gc_visited_space,      "_gc_runtime_state", "visited_space") \
	X(gen_size,              "gc_generation", "") \
	X(gen_threshold,         "gc_generation", "threshold") \
	X(gen_count,             "gc_generation", "count") \
	/* PyTypeObject, PyHeapTypeObject */ \
	X(tp_size,               "_typeobject", "") \
	X(tp_name,               "_typeobject", "tp_name") \
	X(tp_basicsize,          "_typeobject", "tp_basicsize") \
	X(tp_itemsize,           "_typeobject", "tp_itemsize") \
	X(tp_flags,              "_typeobject", "tp_flags") \
	X(tp_weaklistoffset,     "_typeobject", "tp_weaklistoffset") \
	X(tp_members,            "_typeobject", "tp_members") \
	X(tp_base,               "_typeobject", "tp_base") \
	X(tp_dict,               "_typeobject", "tp_dict") \
	X(tp_dictoffset,         "_typeobject", "tp_dictoffset") \
	X(tp_bases,              "_typeobject", "tp_bases") \
	X(tp_mro,                "_typeobject", "tp_mro") \
	X(tp_subclasses,         "_typeobject", "tp_subclasses") \
	X(ht_size,               "_heaptypeobject", "") \
	X(ht_name,               "_heaptypeobject", "ht_name") \
	X(ht_slots,              "_heaptypeobject", "ht_slots") \
	X(ht_qualname,           "_heaptypeobject", "ht_qualname") \
	X(ht_cached_keys,        "_heaptypeobject", "ht_cached_keys") \
	X(ht_module,             "_heaptypeobject", "ht_module") \
	/* containers */ \
	X(tuple_ob_item,         "PyTupleObject", "ob_item") \
	X(list_ob_item,          "PyListObject", "ob_item") \
	X(list_allocated,        "PyListObject", "allocated") \
	X(dict_ma_used,          "PyDictObject", "ma_used") \
	X(dict_ma_keys,          "PyDictObject", "ma_keys") \
	X(dict_ma_values,        "PyDictObject", "ma_values") \
	X(dk_size,               "_dictkeysobject", "dk_size") \
	X(dk_log2_size,          "_dictkeysobject", "dk_log2_size") \
	X(dk_log2_index_bytes,   "_dictkeysobject", "dk_log2_index_bytes") \
	X(dk_kind,               "_dictkeysobject", "dk_kind") \
	X(dk_usable,             "_dictkeysobject", "dk_usable") \
	X(dk_nentries,           "_dictkeysobject", "dk_nentries") \
	X(dk_indices,            "_dictkeysobject", "dk_indices") \
	X(set_fill,              "PySetObject", "fill") \
	X(set_used,              "PySetObject", "used") \
	X(set_mask,              "PySetObject", "mask") \
	X(set_table,             "PySetObject", "table") \
	X(set_smalltable,        "PySetObject", "smalltable") \
	/* scalars */ \
	X(ascii_size,            "PyASCIIObject", "") \
	X(ascii_length,          "PyASCIIObject", "length") \
	X(ascii_state,           "PyASCIIObject", "state") \
	X(compact_size,          "PyCompactUnicodeObject", "") \
	X(unicodeobj_size,       "PyUnicodeObject", "") \
	X(unicode_data,          "PyUnicodeObject", "data") \
	X(long_digit,            "_longobject", "long_value.ob_digit|ob_digit") \
	X(long_lv_tag,           "_longobject", "long_value.lv_tag") \
	X(bytes_sval,            "PyBytesObject", "ob_sval") \
	/* functions, modules */ \
	X(mod_dict,              "PyModuleObject", "md_dict") \
	X(mod_name,              "PyModuleObject", "md_name") \
	X(mod_def,               "PyModuleObject", "md_def") \
	X(mod_state,             "PyModuleObject", "md_state") \
	X(mod_state_size,        "PyModuleObject", "md_state_size") \
	X(moddef_size,           "PyModuleDef", "m_size") \
	X(func_code,             "PyFunctionObject", "func_code") \
	X(func_globals,          "PyFunctionObject", "func_globals") \
	X(func_name,             "PyFunctionObject", "func_name") \
	X(func_qualname,         "PyFunctionObject", "func_qualname") \
	X(func_defaults,         "PyFunctionObject", "func_defaults") \
	X(func_kwdefaults,       "PyFunctionObject", "func_kwdefaults") \
	X(func_closure,          "PyFunctionObject", "func_closure") \
	X(func_dict,             "PyFunctionObject", "func_dict") \
	X(func_module,           "PyFunctionObject", "func_module") \
	X(func_builtins,         "PyFunctionObject", "func_builtins") \
	X(func_doc,              "PyFunctionObject", "func_doc") \
	X(func_annotations,      "PyFunctionObject", "func_annotations") \
	X(func_typeparams,       "PyFunctionObject", "func_typeparams") \
	X(func_annotate,         "PyFunctionObject", "func_annotate") \
	/* more containers and callables, for the reference graph */ \
	X(cell_ref,              "PyCellObject", "ob_ref") \
	X(meth_func,             "PyMethodObject", "im_func") \
	X(meth_self,             "PyMethodObject", "im_self") \
	X(cm_callable,           "classmethod", "cm_callable") \
	X(cm_dict,               "classmethod", "cm_dict") \
	X(sm_callable,           "staticmethod", "sm_callable") \
	X(sm_dict,               "staticmethod", "sm_dict") \
	X(prop_get,              "propertyobject", "prop_get") \
	X(prop_set,              "propertyobject", "prop_set") \
	X(prop_del,              "propertyobject", "prop_del") \
	X(prop_doc,              "propertyobject", "prop_doc") \
	X(prop_name,             "propertyobject", "prop_name") \
	X(tb_next,               "PyTracebackObject", "tb_next") \
	X(tb_frame,              "PyTracebackObject", "tb_frame") \
	X(exc_dict,              "PyBaseExceptionObject", "dict") \
	X(exc_args,              "PyBaseExceptionObject", "args") \
	X(exc_notes,             "PyBaseExceptionObject", "notes") \
	X(exc_traceback,         "PyBaseExceptionObject", "traceback") \
	X(exc_context,           "PyBaseExceptionObject", "context") \
	X(exc_cause,             "PyBaseExceptionObject", "cause") \
	X(wr_object,             "PyWeakReference", "wr_object") \
	X(wr_callback,           "PyWeakReference", "wr_callback") \
	X(cfunc_self,            "PyCFunctionObject", "m_self") \
	X(cfunc_module,          "PyCFunctionObject", "m_module") \
	X(cfunc_ml,              "PyCFunctionObject", "m_ml") \
	X(bytearray_bytes_object, "PyByteArrayObject", "ob_bytes_object") \
	X(methoddef_name,        "PyMethodDef", "ml_name") \
	X(proxy_mapping,         "mappingproxyobject", "mapping") \
	X(descr_type,            "PyDescrObject", "d_type") \
	X(descr_name,            "PyDescrObject", "d_name") \
	X(partial_fn,            "partialobject", "fn") \
	X(partial_args,          "partialobject", "args") \
	X(partial_kw,            "partialobject", "kw") \
	X(partial_dict,          "partialobject", "dict") \
	X(lru_cache,             "lru_cache_object", "cache") \
	X(lru_func,              "lru_cache_object", "func") \
	X(lru_maxsize,           "lru_cache_object", "maxsize") \
	X(lru_dict,              "lru_cache_object", "dict") \
	X(lru_kwd_mark,          "lru_cache_object", "kwd_mark") \
	X(lru_cache_info_type,   "lru_cache_object", "cache_info_type") \
	X(lru_elem_type,         "lru_cache_object", "lru_list_elem_type") \
	X(deque_leftblock,       "dequeobject", "leftblock") \
	X(deque_leftindex,       "dequeobject", "leftindex") \
	X(deque_maxlen,          "dequeobject", "maxlen") \
	X(block_data,            "BLOCK", "data") \
	X(block_rightlink,       "BLOCK", "rightlink") \
	X(block_size,            "BLOCK", "") \
	/* _io's buffered reader, writer and random (Modules/_io/bufferedio.c, \
	 * built into every interpreter): the buffer getsizeof counts */ \
	X(buffered_buffer,       "buffered", "buffer") \
	X(buffered_buffer_size,  "buffered", "buffer_size") \
	X(defdict_factory,       "defdictobject", "default_factory") \
	X(odict_inst_dict,       "PyODictObject", "od_inst_dict") \
	/* code, frames, generators */ \
	X(co_consts,             "PyCodeObject", "co_consts") \
	X(co_names,              "PyCodeObject", "co_names") \
	X(co_varnames,           "PyCodeObject", "co_varnames") \
	X(co_freevars,           "PyCodeObject", "co_freevars") \
	X(co_cellvars,           "PyCodeObject", "co_cellvars") \
	X(co_code,               "PyCodeObject", "co_code") \
	X(co_filename,           "PyCodeObject", "co_filename") \
	X(co_name,               "PyCodeObject", "co_name") \
	X(co_qualname,           "PyCodeObject", "co_qualname") \
	X(co_linetable,          "PyCodeObject", "co_linetable|co_lnotab") \
	X(co_exceptiontable,     "PyCodeObject", "co_exceptiontable") \
	X(co_localsplusnames,    "PyCodeObject", "co_localsplusnames") \
	X(co_localspluskinds,    "PyCodeObject", "co_localspluskinds") \
	X(co_nlocals,            "PyCodeObject", "co_nlocals") \
	X(co_nlocalsplus,        "PyCodeObject", "co_nlocalsplus") \
	X(co_firstlineno,        "PyCodeObject", "co_firstlineno") \
	X(co_framesize,          "PyCodeObject", "co_framesize") \
	X(co_stacksize,          "PyCodeObject", "co_stacksize") \
	X(co_code_adaptive,      "PyCodeObject", "co_code_adaptive") \
	/* what code.__sizeof__ adds: the cell-to-argument map and the \
	 * LOAD_GLOBAL cache (3.8 - 3.10), the PEP 523 extra slots */ \
	X(co_cell2arg,           "PyCodeObject", "co_cell2arg") \
	X(co_opcache,            "PyCodeObject", "co_opcache") \
	X(co_opcache_size,       "PyCodeObject", "co_opcache_size") \
	X(opcache_size,          "_PyOpcache", "") \
	X(co_extra,              "PyCodeObject", "co_extra") \
	X(frame_back,            "_frame", "f_back") \
	X(frame_code,            "_frame", "f_code") \
	X(frame_builtins,        "_frame", "f_builtins") \
	X(frame_globals,         "_frame", "f_globals") \
	X(frame_locals,          "_frame", "f_locals") \
	X(frame_trace,           "_frame", "f_trace") \
	X(frame_localsplus,      "_frame", "f_localsplus") \
	X(frame_valuestack,      "_frame", "f_valuestack") \
	X(frame_stacktop,        "_frame", "f_stacktop") \
	X(frame_stackdepth,      "_frame", "f_stackdepth") \
	X(frame_frame,           "_frame", "f_frame") \
	X(frame_data,            "_frame", "_f_frame_data") \
	X(frame_lasti,           "_frame", "f_lasti") \
	X(iframe_size,           "_PyInterpreterFrame", "") \
	X(iframe_code,           "_PyInterpreterFrame", "f_executable|f_code") \
	X(iframe_previous,       "_PyInterpreterFrame", "previous") \
	X(iframe_func,           "_PyInterpreterFrame", "f_funcobj|f_func") \
	X(iframe_globals,        "_PyInterpreterFrame", "f_globals") \
	X(iframe_locals,         "_PyInterpreterFrame", "f_locals") \
	X(iframe_frame_obj,      "_PyInterpreterFrame", "frame_obj") \
	X(iframe_stacktop,       "_PyInterpreterFrame", "stacktop") \
	X(iframe_stackpointer,   "_PyInterpreterFrame", "stackpointer") \
	X(iframe_instr_ptr,      "_PyInterpreterFrame", "instr_ptr|prev_instr") \
	X(iframe_owner,          "_PyInterpreterFrame", "owner") \
	X(iframe_localsplus,     "_PyInterpreterFrame", "localsplus") \
	X(cframe_current_frame,  "_PyCFrame", "current_frame") \
	X(gen_frame,             "PyGenObject", "gi_frame") \
	X(gen_code,              "PyGenObject", "gi_code") \
	X(gen_name,              "PyGenObject", "gi_name") \
	X(gen_qualname,          "PyGenObject", "gi_qualname") \
	X(gen_iframe,            "PyGenObject", "gi_iframe") \
	X(gen_frame_state,       "PyGenObject", "gi_frame_state") \
	/* 3.12+: static builtin types keep their __dict__ in the interpreter */ \
	X(is_types_builtins,     "_is", "types.builtins.initialized|types.builtins") \
	X(is_types_for_extensions, "_is", "types.for_extensions.initialized") \
	X(sbs_type,              "static_builtin_state|managed_static_type_state", "type") \
	X(sbs_size,              "static_builtin_state|managed_static_type_state", "") \
	X(sbs_tp_dict,           "static_builtin_state|managed_static_type_state", "tp_dict") \
	X(sbs_tp_subclasses,     "static_builtin_state|managed_static_type_state", "tp_subclasses") \
	/* the type attribute cache: the interpreter's (3.10+), a static before; \
	 * it owns a reference to each entry's name, borrows the value */ \
	X(is_type_cache,         "_is", "types.type_cache|type_cache") \
	X(type_cache_size,       "type_cache", "") \
	X(tce_size,              "type_cache_entry|method_cache_entry", "") \
	X(tce_name,              "type_cache_entry|method_cache_entry", "name") \
	/* what an interpreter state owns besides sys, builtins and sys.modules \
	 * (edges.c: interp_owned); "own_" fields are references, "ownall_" \
	 * structs hold nothing but references, their sizes follow them */ \
	X(is_own_dict,           "_is", "dict") \
	X(is_own_sysdict_copy,   "_is", "sysdict_copy") \
	X(is_own_builtins_copy,  "_is", "builtins_copy") \
	X(is_own_importlib,      "_is", "imports.importlib|importlib") \
	X(is_own_import_func,    "_is", "imports.import_func|import_func") \
	X(is_own_modules_by_index, "_is", "imports.modules_by_index|modules_by_index") \
	X(is_own_codec_search_path, "_is", "codecs.search_path|codec_search_path") \
	X(is_own_codec_search_cache, "_is", "codecs.search_cache|codec_search_cache") \
	X(is_own_codec_error_registry, "_is", "codecs.error_registry|codec_error_registry") \
	X(is_own_before_forkers, "_is", "before_forkers") \
	X(is_own_after_forkers_parent, "_is", "after_forkers_parent") \
	X(is_own_after_forkers_child, "_is", "after_forkers_child") \
	X(is_own_audit_hooks,    "_is", "audit_hooks") \
	X(is_own_errnomap,       "_is", "exc_state.errnomap") \
	X(is_own_interpreter_trampoline, "_is", "interpreter_trampoline") \
	X(is_ownall_warnings,    "_is", "warnings") \
	X(warnings_size,         "_warnings_runtime_state", "") \
	X(is_ownall_ast,         "_is", "ast") \
	X(ast_size,              "ast_state", "") \
	X(is_ownall_bytes,       "_is", "bytes") \
	X(bytes_size,            "_Py_bytes_state", "") \
	X(is_ownall_unicode,     "_is", "unicode") \
	X(unicode_size,          "_Py_unicode_state", "") \
	X(gc_own_garbage,        "_gc_runtime_state", "garbage") \
	X(gc_own_callbacks,      "_gc_runtime_state", "callbacks") \
	/* what a thread state owns besides its frames */ \
	X(ts_own_dict,           "_ts", "dict") \
	X(ts_own_async_exc,      "_ts", "async_exc") \
	X(ts_own_context,        "_ts", "context") \
	X(ts_own_async_gen_firstiter, "_ts", "async_gen_firstiter") \
	X(ts_own_async_gen_finalizer, "_ts", "async_gen_finalizer") \
	X(ts_own_curexc_type,    "_ts", "curexc_type") \
	X(ts_own_curexc_value,   "_ts", "curexc_value") \
	X(ts_own_curexc_traceback, "_ts", "curexc_traceback") \
	X(ts_own_current_exception, "_ts", "current_exception") \
	X(ts_own_exc_type,       "_ts", "exc_state.exc_type") \
	X(ts_own_exc_value,      "_ts", "exc_state.exc_value") \
	X(ts_own_exc_traceback,  "_ts", "exc_state.exc_traceback") \
	X(ts_own_profileobj,     "_ts", "c_profileobj") \
	X(ts_own_traceobj,       "_ts", "c_traceobj") \
	/* interned strings: 3.12 in the runtime, 3.13 per interpreter */ \
	X(rt_interned,           "pyruntimestate", "cached_objects.interned_strings") \
	X(is_interned,           "_is", "cached_objects.interned_strings") \
	/* pymalloc */ \
	X(om_used_pools,         "_obmalloc_state", "pools.used") \
	X(om_arenas,             "_obmalloc_state", "mgmt.arenas") \
	X(om_maxarenas,          "_obmalloc_state", "mgmt.maxarenas") \
	X(om_narenas_current,    "_obmalloc_state", "mgmt.narenas_currently_allocated") \
	X(ao_size,               "arena_object", "") \
	X(ao_address,            "arena_object", "address") \
	X(ao_pool_address,       "arena_object", "pool_address") \
	X(ao_nfreepools,         "arena_object", "nfreepools") \
	X(ao_ntotalpools,        "arena_object", "ntotalpools") \
	X(ao_freepools,          "arena_object", "freepools") \
	X(pool_ref,              "pool_header", "ref") \
	X(pool_freeblock,        "pool_header", "freeblock") \
	X(pool_nextpool,         "pool_header", "nextpool") \
	X(pool_arenaindex,       "pool_header", "arenaindex") \
	X(pool_szidx,            "pool_header", "szidx") \
	X(pool_nextoffset,       "pool_header", "nextoffset") \
	X(pool_maxnextoffset,    "pool_header", "maxnextoffset")

typedef struct ph_offsets {
#define PH_OFF_FIELD(name, type, member) int64_t name;
	PH_OFFSETS(PH_OFF_FIELD)
#undef PH_OFF_FIELD
} ph_offsets;

/* One row of the field catalogue: for loops over every field. */
typedef struct ph_offset_desc {
	const char *name;    /* "tp_name" */
	const char *type;    /* DWARF type: struct tag or typedef */
	const char *member;  /* dotted path, '|' alternatives, "" = sizeof */
	size_t index;        /* index of the field in ph_offsets viewed as int64_t[] */
} ph_offset_desc;

extern const ph_offset_desc ph_offset_descs[];
extern const size_t ph_offset_desc_count;

/* The built-in layouts, each named by the build it was read from ("3.11.7"). */
typedef struct ph_offsets_layout {
	const char *build;
	const ph_offsets *offsets;
} ph_offsets_layout;
extern const ph_offsets_layout ph_offsets_layouts[];
extern const size_t ph_offsets_layout_count;

/* The layout read from build, or NULL. */
const ph_offsets *ph_offsets_layout_of(const char *build);

/* Field i of o, viewing ph_offsets as an array of int64_t. */
static inline int64_t ph_offsets_get(const ph_offsets *o, size_t i)
{
	return ((const int64_t *)o)[i];
}

#endif
