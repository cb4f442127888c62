"""recorder.py - record a live CPython heap's truth at a safe point, then SIGSTOP.

Run INSIDE the process to be cored, from its main thread, between two
bytecodes.  Two ways in:

  * injected (capture.py): gdb calls Py_AddPendingCall(PyRun_SimpleString, s)
    with s = the PYHEAP_INJECT environment string, which is
        exec(compile(open(P).read(), P, 'exec'), {'__name__': '__pyheap_recorder__'})
  * self-recording workloads do the same exec themselves.

Configuration (environment): PYHEAP_RECORD_OUT = output prefix (required);
writes PREFIX.truth.json and PREFIX.mallocstats.txt, then stops the process
with SIGSTOP (unless PYHEAP_RECORD_NOSTOP=1).  On an error it writes
PREFIX.truth.error and stops all the same (the driver reports it).

What is recorded (3.8 - 3.13), following tests/integration/heapbuild.py:
  types       per type: count, sum of sys.getsizeof, sum of __sizeof__,
              static count/size, small (<= 512 B, non-static) count, over the
              closure of gc.get_referents from gc.get_objects() + the thread
              frames (+ on 3.11+ the locals/cells of executing frames, read in
              place), + dict keys, code fields, type extras, small int / 1-char
              caches, numpy base/dtype (not visible to get_referents)
  gc_types    per type counts of gc.get_objects() alone
  recorder_types   per type counts of the recorder's own objects still alive
              at the stop (its globals, functions, code, frames, the injected
              '<string>' code and source): pyheap should see types + these
  gc          isenabled / threshold / count (at entry and at the stop) and
              len(gc.get_objects(generation=i)) (minus the list itself for 0)
  threads     sys._current_frames() stacks (innermost first), threading idents
              and native ids
  malloc      mallinfo2, /proc/self/smaps_rollup (taken just before the stop),
              sys._debugmallocstats() to PREFIX.mallocstats.txt (immediately
              before the stop; the driver merges it into the JSON)

Care taken so the heap at the stop is the heap recorded:
  * the automatic collector is disabled while recording (re-enabled, if it
    was, right before the stop), no gc.collect() is ever run: the program's
    uncollected garbage stays, and is in the truth;
  * the switch interval is raised and every file is read/written through
    libc via ctypes.PyDLL (the GIL is kept), so no other thread runs between
    the snapshot and the stop;
  * modules the recorder needs (json, ctypes, bisect, struct) are imported
    BEFORE the snapshot (listed in recorder_imported_modules); the frames
    that sys._current_frames() materialises are made before it too;
  * the bookkeeping (seen, stack, roots) is excluded by id and deleted before
    the stop; it is all acyclic, so refcounting frees it.
"""


def _pyheap_main(G):
    import gc
    import sys
    import os
    t_start_gc = (gc.isenabled(), gc.get_threshold(), gc.get_count())
    gc.disable()
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(100000.0)
    mods_before = set(sys.modules)
    import time
    import ctypes
    import json
    import bisect
    import struct
    mods_imported = sorted(set(sys.modules) - mods_before)
    del mods_before
    # Every GC-tracked object that exists now: only these (and the thread
    # frames) are roots of the snapshot; what the recorder makes from here on
    # is counted only if a pre-existing object reaches it (ctypes' type
    # caches, ...).  The list holds them, so no id can be reused meanwhile.
    # (No set of ids: millions of fresh int objects would fill new pymalloc
    # arenas, and the few objects the recorder keeps would then pin them.)
    # Let threads that were already waiting for the GIL with the old interval
    # take it once; afterwards they wait with the new (huge) one.  This comes
    # before the listing: an object another thread dropped while we slept
    # would otherwise be held by the listing alone, recorded as the program's,
    # and freed when the listing is deleted before the stop.
    for _ in range(3):
        time.sleep(0.02)
    before_list = gc.get_objects()
    t0 = time.time()
    prefix = os.environ['PYHEAP_RECORD_OUT']
    libc = ctypes.PyDLL(None)       # PyDLL: calls keep the GIL
    libc.open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
    libc.read.restype = ctypes.c_ssize_t
    libc.write.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
    libc.write.restype = ctypes.c_ssize_t
    libc.pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
    libc.pread.restype = ctypes.c_ssize_t

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
            'fsmblks', 'uordblks', 'fordblks', 'keepcost')]
    try:
        libc.mallinfo2.restype = MallInfo2
        libc.mallinfo2.argtypes = []
    except AttributeError:
        pass
    O_RDONLY, O_WRONLY_CREAT_TRUNC = 0, 0o1 | 0o100 | 0o1000
    buf = ctypes.create_string_buffer(1 << 16)
    # Everything the stop sequence needs, made now (before the big temporary
    # allocations), so nothing made late survives to pin a fresh arena.
    F_stats = sys._debugmallocstats
    # os.kill, not libc.kill through ctypes: ctypes would build an argument
    # tuple that the C stack holds while the process is stopped (an orphan).
    F_kill = os.kill
    F_dup, F_dup2, F_close, F_open = libc.dup, libc.dup2, libc.close, libc.open
    F_pid = os.getpid()
    F_sigstop = 19
    F_ms_path = (prefix + '.mallocstats.txt').encode()
    F_nostop = os.environ.get('PYHEAP_RECORD_NOSTOP') == '1'
    F_flush = sys.stderr.flush
    F_setsw = sys.setswitchinterval
    F_enable = gc.enable
    F_gc_was_enabled = t_start_gc[0]
    F_mode = O_WRONLY_CREAT_TRUNC

    def readfile(path, limit=1 << 24):
        fd = libc.open(path.encode(), O_RDONLY, 0)
        if fd < 0:
            return None
        parts = []
        total = 0
        while total < limit:
            n = libc.read(fd, buf, len(buf))
            if n <= 0:
                break
            parts.append(buf.raw[:n])
            total += n
        libc.close(fd)
        return b''.join(parts)

    def preadfile(path, off, n):
        fd = libc.open(path.encode(), O_RDONLY, 0)
        if fd < 0:
            return None
        got = libc.pread(fd, buf, n, off)
        libc.close(fd)
        return buf.raw[:got] if got > 0 else None

    def writefile(path, data):
        fd = libc.open(path.encode(), O_WRONLY_CREAT_TRUNC, 0o644)
        if fd < 0:
            raise OSError('cannot open %s' % path)
        off = 0
        while off < len(data):
            n = libc.write(fd, data[off:off + (1 << 20)], min(1 << 20, len(data) - off))
            if n <= 0:
                raise OSError('write to %s failed' % path)
            off += n
        libc.close(fd)

    V = sys.version_info[:2]
    rec_file = _pyheap_main.__code__.co_filename
    FRAME_TYPE = type(sys._getframe())
    FUNC_TYPE = type(_pyheap_main)

    def type_name(t):
        mod = getattr(t, '__module__', None)
        qn = getattr(t, '__qualname__', None) or t.__name__
        if mod == 'builtins' or not isinstance(mod, str):
            return qn
        return '%s.%s' % (mod, qn)

    # ---- static ranges (as heapbuild.py), GIL kept --------------------------
    def static_ranges():
        out = []
        first = {}
        maps = readfile('/proc/self/maps').decode()
        for line in maps.splitlines():
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith('/'):
                lo, hi = (int(x, 16) for x in parts[0].split('-'))
                out.append((lo, hi))
                if int(parts[2], 16) == 0 and parts[5] not in first:
                    first[parts[5]] = lo
        for path, start in first.items():
            eh = preadfile(path, 0, 64)
            if not eh or eh[:4] != b'\x7fELF' or eh[4] != 2:
                continue
            e_type, = struct.unpack_from('<H', eh, 0x10)
            phoff, = struct.unpack_from('<Q', eh, 0x20)
            phentsize, phnum = struct.unpack_from('<HH', eh, 0x36)
            ph = preadfile(path, phoff, phentsize * phnum)
            if not ph or len(ph) < phentsize * phnum:
                continue
            loads = []
            for k in range(phnum):
                p_type, _, _, vaddr, _, filesz, memsz, _ = struct.unpack_from(
                    '<IIQQQQQQ', ph, k * phentsize)
                if p_type == 1:
                    loads.append((vaddr, filesz, memsz))
            if not loads:
                continue
            base = 0 if e_type == 2 else start - (min(v for v, _, _ in loads) & ~0xfff)
            for vaddr, filesz, memsz in loads:
                if memsz > filesz:
                    out.append((base + vaddr + filesz, base + vaddr + memsz))
        out.sort()
        return out

    ranges = static_ranges()
    rstarts = [lo for lo, _ in ranges]

    def is_static(addr):
        k = bisect.bisect_right(rstarts, addr) - 1
        # ranges may nest (a .bss inside a mapping): look at a few before
        for j in range(k, max(k - 4, -1), -1):
            if rstarts[j] <= addr < ranges[j][1]:
                return True
        return False

    # ---- code / frame helpers ----------------------------------------------
    CODE_TYPE = type(_pyheap_main.__code__)
    if V >= (3, 11):
        CODE_FIELDS = ('co_consts', 'co_names', 'co_filename', 'co_name',
                       'co_qualname', 'co_linetable', 'co_exceptiontable')
        LP_OFFS = (96, 104)
        NLP_OFF = 76 if V == (3, 11) else 72
    else:
        CODE_FIELDS = ('co_consts', 'co_names', 'co_varnames', 'co_freevars',
                       'co_cellvars', 'co_filename', 'co_name', 'co_code',
                       'co_linetable' if V >= (3, 10) else 'co_lnotab')
        LP_OFFS = ()
        NLP_OFF = None
    PYOBJ_PTR = ctypes.POINTER(ctypes.py_object)
    VOIDP_PTR = ctypes.POINTER(ctypes.c_void_p)
    INT_PTR = ctypes.POINTER(ctypes.c_int)

    def obj_at(addr):
        """The object whose pointer is stored at addr (None for NULL)."""
        p = ctypes.cast(addr, VOIDP_PTR)
        if not p[0]:
            return None
        try:
            return ctypes.cast(addr, PYOBJ_PTR)[0]
        except ValueError:
            return None

    def code_localsplus(code):
        out = []
        for off in LP_OFFS:
            o = obj_at(id(code) + off)
            if o is not None:
                out.append(o)
        return out

    # _PyInterpreterFrame (3.11+): f_frame at PyFrameObject+24; field offsets
    if V == (3, 11):
        IF_FIELDS = (0, 8, 16, 24, 32)     # f_func f_globals f_builtins f_locals f_code
    elif V >= (3, 12):
        IF_FIELDS = (0, 16, 24, 32, 40)    # f_code/f_executable f_funcobj globals builtins locals
    else:
        IF_FIELDS = ()

    def executing_frame_refs(f):
        """3.11+: what an executing frame's _PyInterpreterFrame holds (its
        function, code, globals, builtins, locals dict and its locals, cells
        and free vars; NOT the value stack, whose slots past the stack
        pointer are stale), read in place.  frame_traverse skips all this
        for a frame the interpreter still owns."""
        if not IF_FIELDS:
            return []
        ifr = ctypes.cast(id(f) + 24, VOIDP_PTR)[0]
        if not ifr:
            return []
        out = []
        for off in IF_FIELDS:
            o = obj_at(ifr + off)
            if o is not None:
                out.append(o)
        code = f.f_code
        n = ctypes.cast(id(code) + NLP_OFF, INT_PTR)[0]
        for k in range(n):
            o = obj_at(ifr + 72 + 8 * k)
            if o is not None:
                out.append(o)
        return out

    TYPE_BASES = vars(type)['__bases__'].__get__
    TYPE_MRO = vars(type)['__mro__'].__get__
    TYPE_DICT = vars(type)['__dict__'].__get__
    TYPE_NAME = vars(type)['__name__'].__get__
    TYPE_QUALNAME = vars(type)['__qualname__'].__get__
    TPFLAGS_HEAPTYPE = 1 << 9

    def type_extras(t):
        out = [TYPE_BASES(t), TYPE_MRO(t)]
        if t.__flags__ & TPFLAGS_HEAPTYPE:
            out.append(TYPE_NAME(t))
            out.append(TYPE_QUALNAME(t))
        out.extend(gc.get_referents(TYPE_DICT(t)))
        return [o for o in out if o is not None]

    np = sys.modules.get('numpy')
    NDARRAY = getattr(np, 'ndarray', None) if np is not None else None

    # ---- threads: materialise every frame BEFORE the snapshot ----------------
    me = sys._getframe()
    # This frame is still executing at the stop, on the line that sends
    # SIGSTOP (the other frames do not move: the GIL is kept until then).
    STOP_LINE = None
    for k, line in enumerate(readfile(rec_file).decode().splitlines()):
        if line.strip() == 'F_kill(F_pid, F_sigstop)':
            STOP_LINE = k + 1
    if STOP_LINE is None:
        raise RuntimeError('recorder: the stop line was not found')
    rec_frames = []                 # the recorder's own frames (and '<string>')
    f = me
    while f is not None:
        fn = f.f_code.co_filename
        if fn == rec_file or fn == '<string>':
            rec_frames.append(f)
            f = f.f_back
            continue
        break
    interrupted = f                 # first frame of the program (may be None)
    cur = sys._current_frames()
    main_ident = None
    thr_mod = sys.modules.get('threading')
    if thr_mod is not None:
        main_ident = thr_mod.main_thread().ident
    threads = []
    thread_frames = []
    for ident, top in cur.items():
        stack = []
        f = top
        while f is not None:
            thread_frames.append(f)
            stack.append({'function': f.f_code.co_name,
                          'qualname': getattr(f.f_code, 'co_qualname', f.f_code.co_name),
                          'file': f.f_code.co_filename,
                          'line': STOP_LINE if f is me else f.f_lineno,
                          'recorder': f.f_code.co_filename in (rec_file, '<string>')})
            f = f.f_back
        threads.append({'ident': ident, 'main': ident == main_ident or (main_ident is None and any(x['recorder'] for x in stack)), 'stack': stack})
    del cur, top, f
    thread_info = []
    if thr_mod is not None:
        for t in thr_mod.enumerate():
            thread_info.append({'name': t.name, 'ident': t.ident,
                                'native_id': getattr(t, 'native_id', None),
                                'daemon': t.daemon, 'alive': t.is_alive()})
        del t

    # ---- the snapshot -------------------------------------------------------
    seen = {}
    stack = []
    book = set()        # bookkeeping: never counted (all freed before the stop)
    recx = set()        # the recorder's own objects: not part of the program
    rec_roots = [G] + rec_frames
    for v in list(G.values()):
        if getattr(v, '__globals__', None) is G or \
                (isinstance(v, type) and v.__module__ == G.get('__name__')):
            rec_roots.append(v)
    del v
    for o in rec_roots:
        recx.add(id(o))
    # The recorder's code objects and their co_consts tuples (GC-tracked, so
    # they would be roots): found from its frames' code, recursively.
    cstack = [f.f_code for f in rec_frames]
    while cstack:
        c = cstack.pop()
        if id(c) in recx:
            continue
        recx.add(id(c))
        rec_roots.append(c)
        recx.add(id(c.co_consts))
        for k in c.co_consts:
            if type(k) is CODE_TYPE:
                cstack.append(k)
    del cstack, c
    # The cells of the recorder's frames (made when they started, so they are
    # pre-existing GC objects) hold its nested functions and helpers.
    CELL_TYPE = type((lambda: t_start_gc).__closure__[0])
    for f in rec_frames:
        for o in gc.get_referents(f) + executing_frame_refs(f):
            if type(o) is CELL_TYPE:
                recx.add(id(o))
                rec_roots.append(o)
    for o in (t_start_gc,) + t_start_gc[1:]:
        recx.add(id(o))
        rec_roots.append(o)
    gc_types = {}
    roots = []
    # Held by the listing only: no thread runs now, so nothing should be; if
    # something is, it is freed with the listing before the stop and is not
    # the program's.  `alone` is what getrefcount says of an object a list
    # alone holds, measured (3.14 borrows some references the older
    # interpreters counted).
    alone = 99
    for o in [object()]:
        alone = sys.getrefcount(o)
    dropped = 0
    for o in before_list:
        i = id(o)
        if o is before_list or i in recx:
            continue
        if sys.getrefcount(o) <= alone:
            dropped += 1
            continue
        if type(o) is FRAME_TYPE and o.f_code.co_filename in (rec_file, '<string>'):
            recx.add(i)
            continue
        if type(o) is FUNC_TYPE and o.__globals__ is G:
            # 3.11+: exec() wraps the module code in a function object
            recx.add(i)
            rec_roots.append(o)
            continue
        roots.append(o)
        n = type_name(type(o))
        gc_types[n] = gc_types.get(n, 0) + 1
    n_gc_objects = len(roots)
    del before_list
    t_snap = time.time()
    for o in (seen, stack, book, recx, ranges, rstarts, roots, rec_roots, gc_types,
              threads, thread_info, thread_frames, mods_imported):
        book.add(id(o))
    for o in ranges:
        book.add(id(o))
    for o in threads:
        book.add(id(o))
        book.add(id(o['stack']))
        for x in o['stack']:
            book.add(id(x))
    for o in thread_info:
        book.add(id(o))
    stack.extend(roots)
    for f in thread_frames:
        if id(f) in recx:
            continue
        stack.append(f)
        stack.extend(executing_frame_refs(f))
    stack.extend(range(-5, 257))
    stack.extend(chr(c) for c in range(256))
    allbytes = bytes(range(256))
    stack.extend(allbytes[c:c + 1] for c in range(256))
    getref = gc.get_referents
    getsizeof = sys.getsizeof

    def walk(stack, seen, excl, excl2, refd=None):
        # refd (a set) gets the id of every object some walked object refers
        # to: the GC objects of the snapshot that are not in it are held only
        # from C (no Python object refers to them).
        while stack:
            o = stack.pop()
            i = id(o)
            if i in seen or i in excl or i in excl2:
                continue
            seen[i] = o
            n0 = len(stack)
            stack.extend(getref(o))
            t = type(o)
            if issubclass(t, dict):
                stack.extend(dict.keys(o))
            elif t is CODE_TYPE:
                for a in CODE_FIELDS:
                    stack.append(getattr(o, a))
                stack.extend(code_localsplus(o))
            elif NDARRAY is not None and issubclass(t, NDARRAY):
                b = o.base
                if b is not None:
                    stack.append(b)
                stack.append(o.dtype)
            if issubclass(t, type):
                stack.extend(type_extras(o))
            if refd is not None and len(stack) > n0:
                refd.update(map(id, stack[n0:]))

    refd = set()
    book.add(id(refd))
    for f in thread_frames:         # what executing frames hold (3.11+)
        if id(f) not in recx:
            refd.update(map(id, executing_frame_refs(f)))
    walk(stack, seen, book, recx, refd)
    # GC objects of the snapshot no walked object refers to (frames excepted:
    # a thread's frames are held by its thread state)
    c_held = ['%#x' % id(o) for o in roots if id(o) not in refd and type(o) is not FRAME_TYPE]
    book.add(id(c_held))
    refd = None
    t_walk = time.time()
    if os.environ.get('PYHEAP_RECORD_DUMP') == '1':    # the research dump (not the suite's)
        # One line per object: addr, start of its allocation (GC header and
        # 3.11+ managed-dict pre-header), getsizeof, type, and the separate
        # buffers of dicts (keys table) and lists (item array).
        VP = VOIDP_PTR
        HAVE_GC = 1 << 14
        MANAGED = (1 << 4) if V >= (3, 11) else 0
        dsize = 48 + 16
        lines = []
        for i, o in seen.items():
            t = type(o)
            fl = t.__flags__
            pre = (16 if fl & HAVE_GC else 0) + (16 if fl & MANAGED else 0)
            sz = getsizeof(o, 0)
            extra = ''
            if t is dict:
                kp = ctypes.cast(i + 32, VP)[0] or 0
                vp = ctypes.cast(i + 40, VP)[0] or 0
                if not vp and kp:
                    extra = '\t%#x\t%d' % (kp, sz - dsize)
            elif t is list:
                ip = ctypes.cast(i + 24, VP)[0] or 0
                if ip:
                    extra = '\t%#x\t%d' % (ip, sz - 56)
            lines.append('%#x\t%#x\t%d\t%s%s' % (i, i - pre, sz, type_name(t), extra))
        writefile(prefix + '.objects.tsv', ('\n'.join(lines) + '\n').encode())
        lines = None

    def tally(objs, with_static):
        counts = {}
        for i, o in objs.items():
            t = type(o)
            c = counts.get(t)
            if c is None:
                c = counts[t] = [0, 0, 0, 0, 0, 0]
            sz = getsizeof(o, 0)
            c[0] += 1
            c[1] += sz
            try:
                c[2] += t.__sizeof__(o) if not issubclass(t, type) else type.__sizeof__(o)
            except Exception:
                c[2] += sz
            if with_static and is_static(i):
                c[3] += 1
                c[4] += sz
            elif sz <= 512:
                c[5] += 1
        out = {}
        for t, c in counts.items():
            name = type_name(t)
            if name in out:
                p = out[name]
                out[name] = {k: p[k] + v for k, v in zip(
                    ('count', 'size', 'sizeof', 'static_count', 'static_size', 'small_count'), c)}
            else:
                out[name] = {'count': c[0], 'size': c[1], 'sizeof': c[2],
                             'static_count': c[3], 'static_size': c[4], 'small_count': c[5]}
        return out

    # Diagnostic: code of the recorder that the program closure reached
    leaked_code = []
    for o in seen.values():
        if type(o) is CODE_TYPE and o.co_filename == rec_file:
            leaked_code.append(o.co_name)
    types_ = tally(seen, True)
    nobj = len(seen)
    nbytes = sum(v['size'] for v in types_.values())
    # The recorder's own objects alive at the stop: reachable from its roots
    # but not from the program.
    book.add(id(types_))
    for x in types_.values():
        book.add(id(x))
    book.add(id(rec_frames))
    rseen = {}
    rstack = list(rec_roots)
    for f in rec_frames:
        rstack.extend(executing_frame_refs(f))
    book.add(id(rseen))
    book.add(id(rstack))
    walk(rstack, rseen, book, seen)
    rec_types = tally(rseen, False)
    # The suite's object list: every object of the truth (P: the program's,
    # R: the recorder's own), by address, for the per-object comparisons.
    lines = ['%#x\tP\t%s' % (i, type_name(type(o))) for i, o in seen.items()]
    lines.extend('%#x\tR\t%s' % (i, type_name(type(o))) for i, o in rseen.items())
    writefile(prefix + '.objects.txt', ('\n'.join(lines) + '\n').encode())
    lines = None
    del rseen, rstack
    del seen, stack, roots, book, recx, o, f
    t_tally = time.time()

    v = sys.version_info
    interrupted_at = None
    if interrupted is not None:
        interrupted_at = {'function': interrupted.f_code.co_name,
                          'file': interrupted.f_code.co_filename,
                          'line': interrupted.f_lineno}
    truth = {
        'version': '%d.%d.%d' % (v.major, v.minor, v.micro),
        'version_full': sys.version,
        'executable': sys.executable,
        'argv': list(sys.argv),
        'pid': os.getpid(),
        'objects': nobj,
        'bytes': nbytes,
        'gc_objects': n_gc_objects,
        'gc_objects_held_by_the_listing_only': dropped,
        'gc_enabled': t_start_gc[0],
        'gc': {'enabled': t_start_gc[0], 'threshold': list(t_start_gc[1]),
               'count_at_entry': list(t_start_gc[2]),
               'garbage': len(gc.garbage), 'stats': gc.get_stats()},
        'types': types_,
        'gc_types': gc_types,
        'recorder_types': rec_types,
        'recorder_imported_modules': mods_imported,
        'recorder_file': rec_file,
        'recorder_code_in_types': leaked_code,
        'interrupted_at': interrupted_at,
        'threads': threads,
        'c_held': c_held,
        'stop_line': STOP_LINE,
        'threading': thread_info,
        'modules': len(sys.modules),
        'allocated_blocks': sys.getallocatedblocks(),
        'timing': {'snapshot_walk_s': round(t_walk - t_snap, 3),
                   'tally_s': round(t_tally - t_walk, 3),
                   'prep_s': round(t_snap - t0, 3)},
        'notes': [
            'types: closure of gc.get_referents from gc.get_objects() + thread frames; '
            'executing frames (3.11+) contribute their locals/cells (value stack not read)',
            'recorder_types: the recorder\'s own objects alive at the stop '
            '(pyheap should count types + recorder_types)',
            'no gc.collect() was run; automatic gc disabled while recording, '
            're-enabled just before the stop when it was enabled',
        ],
    }
    # ---- the stop -----------------------------------------------------------
    if hasattr(libc, 'mallinfo2'):
        mi = libc.mallinfo2()
        truth['mallinfo2'] = {n: getattr(mi, n) for n, _ in MallInfo2._fields_}
        del mi
    sm = readfile('/proc/self/smaps_rollup')
    truth['smaps_rollup'] = sm.decode(errors='replace') if sm else None
    truth['allocated_blocks_at_stop'] = sys.getallocatedblocks()
    gens = []
    for i in range(3):
        lst = gc.get_objects(i)     # positionally: no keyword parser made (its tuple would be C-held)
        gens.append(len(lst) - (1 if i == 0 else 0))    # the list itself is in gen 0
        del lst
    truth['gc']['generations_at_stop'] = gens
    truth['gc']['count_at_stop'] = list(gc.get_count())
    # Compact JSON: the C encoder (indent= would use the pure-Python one,
    # whose mutually recursive closures are cyclic garbage left behind).
    data = json.dumps(truth, sort_keys=True).encode()
    writefile(prefix + '.truth.json', data)
    # Drop what is neither the program's nor counted in recorder_types
    # (bookkeeping, and what was made after recorder_types was taken).
    data = truth = sm = c_held = types_ = rec_types = gc_types = threads = thread_info = None
    thread_frames = gens = lst = ranges = rstarts = mods_imported = rec_roots = None
    interrupted_at = interrupted = t_tally = rec_frames = None
    nobj = nbytes = n_gc_objects = t_walk = t_snap = t0 = leaked_code = dropped = alone = None
    i = n = k = o = f = x = v = c = lo = t = top = ident = main_ident = None
    F_flush()
    fd = F_open(F_ms_path, F_mode, 0o644)
    saved = F_dup(2)
    F_setsw(old_interval)
    if F_gc_was_enabled:
        F_enable()
    F_dup2(fd, 2)
    F_stats()
    F_dup2(saved, 2)
    F_close(fd)
    F_close(saved)
    if not F_nostop:
        F_kill(F_pid, F_sigstop)


def _pyheap_entry(G):
    try:
        _pyheap_main(G)
    except BaseException:
        import os
        import sys
        import traceback
        import signal
        import gc
        gc.enable()
        prefix = os.environ.get('PYHEAP_RECORD_OUT', '/tmp/pyheap-recorder')
        with open(prefix + '.truth.error', 'w') as f:
            traceback.print_exc(file=f)
        if os.environ.get('PYHEAP_RECORD_NOSTOP') != '1':
            os.kill(os.getpid(), signal.SIGSTOP)


_pyheap_entry(globals())
