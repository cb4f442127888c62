"""heapbuild.py - build a known heap, record the interpreter's own view of it,
then freeze for a core dump.

    python3.X heapbuild.py OUTDIR

Standard library only; runs on CPython 3.8 and later.  Writes:

  OUTDIR/truth.json      what the interpreter knows about its heap (record()),
                         its threads, and its malloc statistics' file name
  OUTDIR/mallocstats.txt sys._debugmallocstats() of the arenas as the core has them
  OUTDIR/core.gc.json    the collector's state at the stop (freeze.py)

and stops itself with SIGSTOP for mkcore.py (the protocol is in freeze.py):
the core is OUTDIR/core.  One idle thread (blocked on an event) gives the
thread checks a second thread.
"""

import ctypes
import gc
import json
import os
import sys
import threading
import types

import freeze

# ---------------------------------------------------------------------------
# The known heap.  Everything is kept alive from module-level containers.

N_REQUEST = 5000
N_NODE = 3000
N_BIG = 1000
N_METAINST = 500
N_PLAIN_DICT = 60000
N_SMALL_STR = 60000


class Request:
    def __init__(self, i):
        self.method = 'GET' if i % 3 else 'POST'
        self.path = '/api/item/%d' % i          # distinct str per request
        self.status = 200 + (i % 5)
        self.nbytes = 100000 + i                # distinct int per request


class Node:
    __slots__ = ('a', 'b', 'c')

    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c


class Big(dict):
    """A builtin subclass."""


class Meta(type):
    pass


class Tagged(metaclass=Meta):
    def __init__(self, i):
        self.tag = i


def build():
    h = {}
    h['requests'] = [Request(i) for i in range(N_REQUEST)]
    nodes = []
    prev = None
    for i in range(N_NODE):
        prev = Node(i, prev, None)
        nodes.append(prev)
    h['nodes'] = nodes
    bigs = {}
    for i in range(N_BIG):
        b = Big()
        b['k'] = i
        b['n'] = nodes[i]
        bigs['big%d' % i] = b
    h['bigs'] = bigs
    h['tagged'] = [Tagged(i) for i in range(N_METAINST)]

    # Dicts the GC does not track (only str/int values) and tuples of ints
    # (untracked by the first collection that sees them).
    #
    # Scale: the interpreter holds a few objects that no Python API can
    # reach and that pyheap rightly counts: above all the interned-strings
    # dict (150-210 KB, one dict) and some hundred strings only it holds.
    # Against a heap of a few MB they would dominate the dict-size and
    # str-count comparisons, which are meant to measure per-object accuracy;
    # a heap of this size (tens of thousands of each, as in any real
    # service) keeps that fixed overhead below the tolerances.  The
    # closing note of the foundation issue records the measured offsets.
    h['plain_dicts'] = [{'a': i, 'b': 'x'} for i in range(N_PLAIN_DICT)]
    h['small_strs'] = ['k%07d' % i for i in range(N_SMALL_STR)]
    h['int_tuples'] = [tuple(range(i, i + 3)) for i in range(2000)]

    # Objects bigger than the small-object threshold (512): from malloc.
    h['bytes'] = [(b'%06d' % i) * (100 + i % 234) for i in range(1000)]   # 600..1998 bytes
    h['strs'] = [('s%05d' % i) * (100 + i % 200) for i in range(500)]     # 600..1794 chars
    h['bigints'] = [2 ** 5000 + i for i in range(300)]
    h['floats'] = [i + 0.5 for i in range(3000)]

    h['sets'] = [{i, i + 1, i + 2} for i in range(300)]
    h['frozensets'] = [frozenset((i, -i)) for i in range(300)]
    h['lists'] = [[i] * (i % 7) for i in range(300)]
    return h


HEAP = build()

# A second thread, blocked for good: its ident and native id are in the truth.
_NEVER = threading.Event()
_IDLE = threading.Thread(target=_NEVER.wait, name='heapbuild-idle', daemon=True)
_IDLE.start()

# Objects made between the collections of freeze.settle(), so that the young
# generations are not empty at the stop.
YOUNG = []


def young(k):
    YOUNG.append([{'young': k, 'i': i} for i in range(40 + 10 * k)])

EXPECTED = {
    '__main__.Request': N_REQUEST,
    '__main__.Node': N_NODE,
    '__main__.Big': N_BIG,
    '__main__.Tagged': N_METAINST,
    '__main__.Meta': 1,             # Tagged is the only instance of Meta
}

# ---------------------------------------------------------------------------
# The truth.


def type_name(t):
    mod = getattr(t, '__module__', None)
    qn = getattr(t, '__qualname__', None) or t.__name__
    if mod == 'builtins' or not isinstance(mod, str):
        return qn
    return '%s.%s' % (mod, qn)


def process_maps():
    """/proc/self/maps as (lo, hi, file offset, path), path '' when none."""
    out = []
    with open('/proc/self/maps') as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split('-'))
            out.append((lo, hi, int(parts[2], 16), parts[5] if len(parts) >= 6 else ''))
    return out


def static_ranges():
    """Address ranges of statically allocated memory: file-backed mappings
    (executable, libpython, ...) and the .bss of every mapped ELF file (an
    anonymous mapping, found from the PT_LOAD headers).  Objects there
    (static types, small ints, deep-frozen code, ...) are not on the heap."""
    import struct
    out = []
    first = {}                              # path -> start of its offset-0 mapping
    for lo, hi, offset, path in process_maps():
        if path.startswith('/'):
            out.append((lo, hi))
            if offset == 0 and path not in first:
                first[path] = lo
    for path, start in first.items():
        try:
            with open(path, 'rb') as f:
                eh = f.read(64)
                if eh[:4] != b'\x7fELF' or eh[4] != 2:
                    continue
                e_type, = struct.unpack_from('<H', eh, 0x10)
                phoff, = struct.unpack_from('<Q', eh, 0x20)
                phentsize, phnum = struct.unpack_from('<HH', eh, 0x36)
                f.seek(phoff)
                ph = f.read(phentsize * phnum)
        except (OSError, struct.error):
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
    return out


def static_type_near_end():
    """The address of the static type (not a heap type) that lies nearest
    to the end of the file mapping holding all of it, for compare.py, which
    hides the page after that mapping (pyenv 3.8's _struct.Struct lies 608
    bytes before the end of its module's data; a core whose next mapping,
    a locale file, was not in it lost the type).  Only where that page is
    nothing the heap needs: a gap, or another file's mapping (not the
    library's own .bss, which holds the runtime's state, nor anonymous
    memory, which may hold arenas).  None when there is no such type."""
    maps = sorted((lo, hi, path) for lo, hi, _, path in process_maps())
    after = {lo: path for lo, _, path in maps}
    best = None
    subs = [object]
    while subs:
        t = subs.pop()
        subs.extend(type.__subclasses__(t))
        if t.__flags__ & (1 << 9):          # Py_TPFLAGS_HEAPTYPE
            continue
        a, size = id(t), type.__sizeof__(t)     # sizeof(PyTypeObject)
        for lo, hi, path in maps:
            if not (path.startswith('/') and lo <= a and a + size <= hi):
                continue
            nxt = after.get(hi)
            if nxt is not None and (not nxt.startswith('/') or nxt == path):
                continue
            if best is None or hi - a < best[1]:
                best = (a, hi - a)
    return best[0] if best else None


ALLBYTES = bytes(range(256))
CODE_TYPE = types.CodeType
V = sys.version_info[:2]
# Code objects have no tp_traverse on any version, so gc.get_referents() sees
# nothing inside them.  These attributes are stored fields (not computed on
# access) on the respective versions; reading them creates nothing.
if V >= (3, 11):
    CODE_FIELDS = ('co_consts', 'co_names', 'co_filename', 'co_name',
                   'co_qualname', 'co_linetable', 'co_exceptiontable')
    # co_varnames, co_cellvars and co_freevars are computed from
    # co_localsplusnames (read directly, see CODE_LOCALSPLUS_OFFSETS), and
    # 3.12+ caches the computed tuples in the code object (_co_cached): reading
    # them here would create objects that exist only because we looked.
    CODE_COMPUTED = ()
else:
    CODE_FIELDS = ('co_consts', 'co_names', 'co_varnames', 'co_freevars',
                   'co_cellvars', 'co_filename', 'co_name', 'co_code',
                   'co_linetable' if V >= (3, 10) else 'co_lnotab')
    CODE_COMPUTED = ()
# 3.11+ code objects keep the names and kinds of their locals in two real
# objects, co_localsplusnames (a tuple) and co_localspluskinds (a bytes), that
# Python never exposes (co_varnames & co are tuples computed from them on each
# access).  Their offsets in PyCodeObject, from the DWARF of the pyenv builds
# (`ptype /o PyCodeObject`): 96 and 104 on 3.11, 3.12 and 3.13 alike.  They are
# read through ctypes: a py_object read only takes a new reference to the
# object already stored there (dropped again with the stack entry).
CODE_LOCALSPLUS_OFFSETS = (96, 104) if V >= (3, 11) else ()
PYOBJ_PTR = ctypes.POINTER(ctypes.py_object)
# The getset descriptors of `type` itself, so that a metaclass or a class
# attribute cannot shadow them: they return the stored tp_bases / tp_mro.
TYPE_BASES = vars(type)['__bases__'].__get__
TYPE_MRO = vars(type)['__mro__'].__get__
TYPE_DICT = vars(type)['__dict__'].__get__
TYPE_NAME = vars(type)['__name__'].__get__
TYPE_QUALNAME = vars(type)['__qualname__'].__get__
TPFLAGS_HEAPTYPE = 1 << 9
FREEZE_STOP_CODE = freeze.stop.__code__


TYPE_FLAGS = vars(type)['__flags__'].__get__
TPFLAGS_HAVE_GC = 1 << 14


def is_c_timezone(t):
    """Whether t is datetime's C timezone type.  Its instances are no GC
    objects and have no tp_traverse, so gc.get_referents() never yields
    their offset, a timedelta (timezone.min and .max hold their own, utc a
    static one); record() asks utcoffset(), which returns that very object.
    3.14+ ready the type and these three at startup, datetime imported or
    not; the builder does not import it (the module's C-held epoch, a
    datetime, would be an object no Python code can reach)."""
    d = TYPE_DICT(t)
    return not TYPE_FLAGS(t) & TPFLAGS_HAVE_GC and 'utc' in d and 'utcoffset' in d


def code_localsplus(code):
    """co_localsplusnames and co_localspluskinds of a 3.11+ code object,
    read in place (see CODE_LOCALSPLUS_OFFSETS); empty before 3.11."""
    out = []
    for off in CODE_LOCALSPLUS_OFFSETS:
        p = ctypes.cast(id(code) + off, PYOBJ_PTR)
        try:
            out.append(p[0])
        except ValueError:          # NULL: never for a finished code object
            pass
        del p
    return out


def type_extras(t):
    """What a type object holds that gc.get_referents() may not report:
    static (non-heap) types are not GC objects, so get_referents() gives []
    for them, yet their tp_bases and tp_mro tuples and their dict (tp_dict on
    3.8 - 3.11; on 3.12+ static builtin types' dicts live in the interpreter
    state, and `__dict__` still shows that very dict) are real, live objects.
    On 3.12 these tuples are immortal and sit in the permanent generation,
    which gc.get_objects() leaves out.  The mappingproxy that `__dict__`
    returns is a temporary; gc.get_referents() on it yields the real dict,
    and the proxy is freed on return."""
    out = [TYPE_BASES(t), TYPE_MRO(t)]
    if t.__flags__ & TPFLAGS_HEAPTYPE:
        # A heap type stores its name and qualname as str objects (ht_name,
        # ht_qualname; `__name__` / `__qualname__` return them as they are),
        # which type_traverse does not visit.  A static type's __name__ is a
        # new str made from tp_name each time: not read.
        out.append(TYPE_NAME(t))
        out.append(TYPE_QUALNAME(t))
    out.extend(gc.get_referents(TYPE_DICT(t)))
    return [o for o in out if o is not None]


def record(outdir):
    """Counts and sys.getsizeof() totals per type over the transitive closure
    of gc.get_referents() from gc.get_objects(), plus what the GC cannot see:
    the fields of code objects, the keys of str-keyed dicts, and the C-level
    caches of small ints and one-character str/bytes, the running frames of
    every thread (objects on 3.8 - 3.10 only; later frames are not objects
    until asked for, and asking would make them), and every type the
    interpreter has readied (object's subclasses, recursively: static types
    that nothing else refers to, such as moduledef, are still live objects).

    The collector is off (freeze.settle), so nothing is collected between
    this snapshot and the stop."""
    # Bookkeeping made before the snapshot, excluded by id.
    seen = {}
    stack = []
    counts = {}
    excl = set()
    ranges = static_ranges()
    roots = gc.get_objects()
    me = sys._getframe()
    for o in (seen, stack, counts, excl, ranges, roots, me):
        excl.add(id(o))
    if V < (3, 11):
        frames = sys._current_frames()
        excl.add(id(frames))
        for tid, f in frames.items():
            if f is me:
                # this thread's frames above freeze.stop() (write_truth,
                # record) are gone by the stop
                while f is not None and f.f_code is not FREEZE_STOP_CODE:
                    f = f.f_back
            while f is not None:
                stack.append(f)
                f = f.f_back
        del frames, tid, f
    subs = [object]
    excl.add(id(subs))
    tz_type = tz_offset = None
    while subs:
        t = subs.pop()
        stack.append(t)
        if tz_type is None and is_c_timezone(t):
            tz_type, tz_offset = t, TYPE_DICT(t)['utcoffset']
        more = type.__subclasses__(t)
        subs.extend(more)
        del more
    del subs, t
    # The (lo, hi) tuples of `ranges` are GC-tracked (no collection has seen
    # them yet), so they are among the roots; they and their ints die with
    # the recorder.
    for o in ranges:
        excl.add(id(o))
    stack.extend(roots)
    # Objects held only from C statics, which no GC object refers to: the
    # small-int cache (heap-allocated before 3.11), the one-character str and
    # bytes caches (filled on first use; filling them here, before the core
    # is taken, keeps truth and core consistent).
    stack.extend(range(-5, 257))
    stack.extend(chr(c) for c in range(256))
    stack.extend(ALLBYTES[c:c + 1] for c in range(256))
    getref = gc.get_referents
    while stack:
        o = stack.pop()
        i = id(o)
        if i in seen or i in excl:
            continue
        seen[i] = o
        stack.extend(getref(o))
        if isinstance(o, dict):
            # dict_traverse skips keys of str-keyed dicts (they cannot make
            # cycles), so gc.get_referents() never yields them.
            stack.extend(dict.keys(o))
        elif type(o) is CODE_TYPE:
            for a in CODE_FIELDS:
                stack.append(getattr(o, a))
            for a in CODE_COMPUTED:
                stack.extend(getattr(o, a))
            stack.extend(code_localsplus(o))
        elif tz_type is not None and type(o) is tz_type:
            stack.append(tz_offset(o, None))
        if isinstance(o, type):
            stack.extend(type_extras(o))
    # Per type: [count, getsizeof, __sizeof__ (no GC header), static count,
    # static size, count of heap objects of at most 512 bytes (pymalloc's)]
    # HEAPBUILD_DUMP=1: one line per object ("0xADDR SIZE TYPE") into
    # objects.txt, for diffing against tests/tools/dumpobjs when a count is off.
    dump = open(os.path.join(outdir, 'objects.txt'), 'w') \
        if os.environ.get('HEAPBUILD_DUMP') else None
    for i, o in seen.items():
        t = type(o)
        if dump:
            dump.write('%#x %d %s\n' % (i, sys.getsizeof(o), type_name(t)))
        c = counts.get(t)
        if c is None:
            c = counts[t] = [0, 0, 0, 0, 0, 0]
        sz = sys.getsizeof(o)
        c[0] += 1
        c[1] += sz
        try:
            c[2] += o.__sizeof__() if not isinstance(o, type) else type.__sizeof__(o)
        except Exception:
            c[2] += sz
        for lo, hi in ranges:
            if lo <= i < hi:
                c[3] += 1
                c[4] += sz
                break
        else:
            if sz <= 512:
                c[5] += 1
    out = {}
    for t, c in counts.items():
        name = type_name(t)
        row = {'count': c[0], 'size': c[1], 'sizeof': c[2],
               'static_count': c[3], 'static_size': c[4], 'small_count': c[5]}
        if name in out:         # two distinct types with one name: merge
            # (a loop, not a comprehension: a comprehension over `row` would
            # make it a cell variable of this frame, a tracked object the
            # snapshot sees and that is gone by the stop)
            for k in row:
                row[k] += out[name][k]
        out[name] = row
    if dump:
        dump.close()
    nobj = len(seen)
    del seen, stack, counts, excl, roots, o, me, tz_type, tz_offset
    return out, nobj


def module_defs():
    """How many distinct PyModuleDef structs the modules point at (md_def,
    at offset 24 of PyModuleObject on 3.8 - 3.14; None on 3.15+, where
    md_def is gone).  They are PyObject-headed statics that no tp_traverse
    visits; pyheap may find some of them through the runtime's cache of
    single-phase extension modules (a dict on 3.8 - 3.11)."""
    if V >= (3, 15):
        return None
    defs = set()
    for m in list(sys.modules.values()):
        if isinstance(m, types.ModuleType):
            p = ctypes.c_void_p.from_address(id(m) + 24).value
            if p:
                defs.add(p)
    return len(defs)


def write_truth():
    """freeze.stop()'s record(): the truth of the heap as it will be at the
    stop, into OUTDIR/truth.json (written by json's C encoder, which makes no
    cycles: nothing it allocates outlives the call)."""
    typestats, nobj = record(OUTDIR)
    v = sys.version_info
    truth = {
        'version': '%d.%d.%d' % (v.major, v.minor, v.micro),
        'version_full': sys.version,
        'executable': sys.executable,
        'pid': os.getpid(),
        'objects': nobj,
        'expected': EXPECTED,
        'types': typestats,
        'threads': freeze.threads(),
        'module_defs': module_defs(),
        'static_type': static_type_near_end(),
    }
    with open(os.path.join(OUTDIR, 'truth.json'), 'w') as f:
        f.write(json.dumps(truth, sort_keys=True))


OUTDIR = None


def main():
    global OUTDIR
    OUTDIR = sys.argv[1]
    os.makedirs(OUTDIR, exist_ok=True)
    enabled = freeze.settle(young)
    freeze.stop(OUTDIR, 'core', record=write_truth,
                mallocstats=os.path.join(OUTDIR, 'mallocstats.txt'), enable=enabled)
    freeze.finish(OUTDIR)


if __name__ == '__main__':
    main()
