"""graphbuild.py - build a heap with known references, record them, then
freeze for a core dump (the reference-graph counterpart of heapbuild.py).

    python3.X graphbuild.py OUTDIR

Standard library only (plus ctypes); runs on CPython 3.8 - 3.13.  Writes

  OUTDIR/graphtruth.json   what the interpreter knows (see record())
  OUTDIR/core.gc.json      the collector's state at the stop (freeze.py)

then stops itself with SIGSTOP for mkcore.py (`mkcore.py INTERP OUTDIR
graphbuild.py`; the protocol is in freeze.py): the core is OUTDIR/core.  The automatic GC is disabled from the start so that the
reference cycles made below survive until the core is taken.

What is built (all module globals unless said otherwise):

  _CACHE      {'k0'..'k19': Request}; _CACHE['k7'] is the only reference to
              its Request: path --addr gives __main__ / __dict__ / ['_CACHE']
              / ['k7']
  HOLDER      HOLDER.path.leaf: a chain through instance attributes
              (3.8-3.10: __dict__ ['path'] __dict__ ['leaf'];
               3.11+: .path .leaf, no materialised __dict__)
  CLOSURE_FN  a function from a factory, capturing a Marker in a cell
  cycles      N_CYCLE pairs of CycleNode (a.other = b, b.other = a), no other
              reference: 2 * N_CYCLE objects of cyclic garbage
  orphans     N_ORPHAN Orphan instances given one reference with Py_IncRef
              and none from any object: refs must call them orphans/external
  a thread    blocked in worker(), whose local `blob` (a Payload) is held only
              by that frame
  SAMPLES     one object of each kind pyheap has precise edges for, with the
              ids gc.get_referents() gives for each
"""

import collections
import ctypes
import functools
import gc
import json
import os
import sys
import threading
import types
import weakref

import freeze

V = sys.version_info[:2]
N_CYCLE = 500          # pairs
N_ORPHAN = 300
N_REQUEST = 20

# Collect what start-up left behind, then keep the collector off: the cycles
# below must still be there when the core is taken.
gc.collect()
gc.disable()


# ---------------------------------------------------------------------------
# Classes

class Request:
    def __init__(self, i):
        self.path = '/api/item/%d' % i
        self.blob = b'%06d' % i * 10


class Holder:
    def __init__(self, path):
        self.path = path


class PathNode:
    def __init__(self, leaf):
        self.leaf = leaf


class Leaf:
    def __init__(self, n):
        self.n = n


class Marker:
    def __init__(self, name):
        self.name = name


class CycleNode:
    def __init__(self, i):
        self.i = i
        self.other = None


class Orphan:
    def __init__(self, i):
        self.i = i


class Payload:
    def __init__(self, n):
        self.data = list(range(n))


class Slotted:
    __slots__ = ('a', 'b')

    def __init__(self, a, b):
        self.a = a
        self.b = b


class Plain:
    """Instances keep their attributes where the version puts them: a dict
    (3.8 - 3.10), managed values (3.11, 3.12), inline values (3.13)."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Base:
    pass


class Sample(Base):
    """A class with a base, its own __module__ and a few descriptors."""
    attr = 42

    def method(self, k):
        return k

    @classmethod
    def cm(cls):
        return cls

    @staticmethod
    def sm(x):
        return x

    def _get(self):
        return 1

    def _set(self, v):
        pass

    prop = property(_get, _set, None, 'a property')


# ---------------------------------------------------------------------------
# The heap

_CACHE = {}
for _i in range(N_REQUEST):
    _CACHE['k%d' % _i] = Request(_i)
del _i
CACHED_ID = id(_CACHE['k7'])

HOLDER = Holder(PathNode(Leaf(7)))
LEAF_ID = id(HOLDER.path.leaf)


def closure_factory():
    captured = Marker('captured')

    def inner():
        return captured
    return inner


CLOSURE_FN = closure_factory()
MARKER_ID = id(CLOSURE_FN.__closure__[0].cell_contents)


def make_cycles():
    for i in range(N_CYCLE):
        a = CycleNode(2 * i)
        b = CycleNode(2 * i + 1)
        a.other = b
        b.other = a


make_cycles()

Py_IncRef = ctypes.pythonapi.Py_IncRef
Py_IncRef.argtypes = [ctypes.py_object]
Py_IncRef.restype = None


def make_orphans():
    ids = []
    for i in range(N_ORPHAN):
        o = Orphan(i)
        Py_IncRef(o)
        ids.append(id(o))
    return ids


ORPHAN_IDS = make_orphans()

# The thread: its frame's local `blob` is the only reference to a Payload.
BLOB_ID = []
_STARTED = threading.Event()
_NEVER = threading.Event()


def worker():
    blob = Payload(5)
    BLOB_ID.append(id(blob))
    _STARTED.set()
    _NEVER.wait()
    return blob


_THREAD = threading.Thread(target=worker, name='graph-worker', daemon=True)
_THREAD.start()
_STARTED.wait()


# --- SAMPLES ---------------------------------------------------------------

def _fn_factory(z):
    def fn(a: 'ann-a', b=[1, 2], *, k={'kw': 1}) -> 'ann-ret':
        """fn's docstring"""
        return a, b, k, z
    return fn


def _gen(n):
    local_list = [n, n + 1]
    local_obj = Leaf(n)
    yield local_list
    yield local_obj


async def _coro(arg):
    return arg


def _raiser(x):
    local_in_raiser = Leaf(x)
    raise ValueError('boom', local_in_raiser)


def _make_exc():
    try:
        try:
            _raiser(3)
        except ValueError:
            raise KeyError('outer', 17) from RuntimeError('the cause')
    except KeyError as e:
        return e


def _wr_callback(ref):
    pass


@functools.lru_cache(maxsize=None)
def _cached(x):
    return [x]


def build_samples():
    s = {}
    s['tuple'] = (Leaf(1), 'tuple-str', 10 ** 20)
    s['list'] = [Leaf(2), 'list-str', 3.5]
    s['set'] = {Leaf(3), 'set-str', 12345}
    s['frozenset'] = frozenset((Leaf(4), 'fs-str'))
    s['dict'] = {1: Leaf(5), (2, 3): 'v', 'k': [6]}          # combined, non-str keys
    s['dict_strkeys'] = {'alpha': Leaf(6), 'beta': [7], 'gamma': 'g'}
    split = Plain(Leaf(8), 'split-y')
    s['instance_dict'] = split.__dict__                       # split, materialised
    s['instance_dict_owner'] = split
    s['instance'] = Plain(Leaf(9), [9])                       # managed/inline values on 3.11+
    s['slotted'] = Slotted(Leaf(10), 'slot-b')
    s['type'] = Sample
    s['module'] = json
    fn = _fn_factory(Leaf(11))
    fn.tag = 'function-dict'
    s['function'] = fn
    s['cell'] = fn.__closure__[0]
    s['method'] = Sample().method
    s['classmethod'] = vars(Sample)['cm']
    s['staticmethod'] = vars(Sample)['sm']
    s['property'] = vars(Sample)['prop']
    s['code'] = _raiser.__code__
    g = _gen(12)
    next(g)
    s['generator'] = g
    s['coroutine'] = _coro(Leaf(13))
    exc = _make_exc()
    s['exception'] = exc
    tb = exc.__context__.__traceback__
    s['traceback'] = tb
    while tb.tb_next is not None:
        tb = tb.tb_next
    s['frame'] = tb.tb_frame                                  # _raiser's finished frame
    target = Leaf(14)
    s['weakref_target'] = target
    s['weakref'] = weakref.ref(target, _wr_callback)
    s['partial'] = functools.partial(_wr_callback, Leaf(15), kw=Leaf(16))
    _cached(1)
    _cached('two')
    _cached((3, 4))
    s['lru_cache'] = _cached
    s['deque'] = collections.deque([Leaf(17), 'dq'])
    s['ordereddict'] = collections.OrderedDict([('o1', Leaf(18)), (19, 'o2')])
    s['defaultdict'] = collections.defaultdict(list, {'d1': Leaf(20), 21: [21]})
    return s


SAMPLES = build_samples()


# ---------------------------------------------------------------------------
# The truth

def type_name(t):
    mod = getattr(t, '__module__', None)
    qn = getattr(t, '__qualname__', None) or t.__name__
    if mod == 'builtins' or not isinstance(mod, str):
        return qn
    return '%s.%s' % (mod, qn)


# Code objects have no tp_traverse: their fields are references nothing
# visits (stored fields on these versions; reading them makes nothing).
if V >= (3, 11):
    CODE_FIELDS = ('co_consts', 'co_names', 'co_filename', 'co_name', 'co_qualname',
                   'co_linetable', 'co_exceptiontable')
    CODE_LOCALSPLUS_OFFSETS = (96, 104)     # co_localsplusnames, co_localspluskinds
else:
    CODE_FIELDS = ('co_consts', 'co_names', 'co_varnames', 'co_freevars', 'co_cellvars',
                   'co_filename', 'co_name', 'co_code',
                   'co_linetable' if V >= (3, 10) else 'co_lnotab')
    CODE_LOCALSPLUS_OFFSETS = ()
# PyModuleObject.md_name: 48 on 3.8 - 3.14, 40 on 3.15 (md_def removed)
MD_NAME_OFFSET = 40 if V >= (3, 15) else 48
TYPE_NAME = vars(type)['__name__'].__get__
TYPE_QUALNAME = vars(type)['__qualname__'].__get__


def stored_ref(o, offset):
    """The object pointer stored at offset of o (a new reference, dropped
    with the caller's variable), or None for NULL."""
    try:
        return ctypes.cast(id(o) + offset, ctypes.POINTER(ctypes.py_object))[0]
    except ValueError:
        return None


def untraversed(o):
    """References o really holds that its tp_traverse does not visit, so that
    gc.get_referents() leaves them out and `show` may rightly list them:
    (object, why).  The checker allows exactly these beyond gc.get_referents."""
    out = []
    if isinstance(o, dict):
        # dict_traverse skips the keys of a str-keys table
        out += [(k, 'str key (dict_traverse skips the keys of a str-keys table)')
                for k in dict.keys(o)]
    if type(o) is types.CodeType:
        out += [(getattr(o, a), '%s (code objects have no tp_traverse)' % a)
                for a in CODE_FIELDS]
        out += [(stored_ref(o, off), 'co_localsplus* (code objects have no tp_traverse)')
                for off in CODE_LOCALSPLUS_OFFSETS]
    if isinstance(o, type) and o.__flags__ & (1 << 9):
        out += [(TYPE_NAME(o), 'ht_name (type_traverse does not visit it)'),
                (TYPE_QUALNAME(o), 'ht_qualname (type_traverse does not visit it)')]
    if isinstance(o, types.ModuleType):
        out.append((stored_ref(o, MD_NAME_OFFSET), 'md_name (module_traverse does not visit it)'))
    if V >= (3, 13) and o is SAMPLES['instance_dict_owner']:
        # its __dict__ was materialised (SAMPLES['instance_dict']) while its
        # values stay inline: the object points at the dict, traverse visits
        # the values (reading __dict__ of any other object would make one)
        out.append((SAMPLES['instance_dict'],
                    'materialised __dict__ (3.13+: traverse visits the inline values)'))
    return [(x, why) for x, why in out if x is not None]


def record():
    samples = {}
    for name, o in SAMPLES.items():
        refs = gc.get_referents(o)
        extra = untraversed(o)
        samples[name] = {
            'addr': '%#x' % id(o),
            'type': type_name(type(o)),
            'referents': [{'addr': '%#x' % id(r), 'type': type_name(type(r))}
                          for r in refs],
            'untraversed': [{'addr': '%#x' % id(r), 'type': type_name(type(r)), 'why': why}
                            for r, why in extra],
        }
        if isinstance(o, weakref.ref):
            target = o()
            samples[name]['weak'] = [{'addr': '%#x' % id(target),
                                      'type': type_name(type(target))}]
            del target
        del refs, extra
    if V >= (3, 11):
        attr_chain = ['__dict__', "['HOLDER']", '.path', '.leaf']
    else:
        attr_chain = ['__dict__', "['HOLDER']", '__dict__', "['path']",
                      '__dict__', "['leaf']"]
    v = sys.version_info
    return {
        'version': '%d.%d.%d' % (v.major, v.minor, v.micro),
        'executable': sys.executable,
        'pid': os.getpid(),
        'gc_enabled': gc.isenabled(),
        'n_request': N_REQUEST,
        'cached_request': {'addr': '%#x' % CACHED_ID, 'type': '__main__.Request',
                           'root': ['module', '__main__'],
                           'chain': ['', '__dict__', "['_CACHE']", "['k7']"]},
        'attr_leaf': {'addr': '%#x' % LEAF_ID, 'type': '__main__.Leaf',
                      'root': ['module', '__main__'],
                      'chain': [''] + attr_chain},
        'closure_marker': {'addr': '%#x' % MARKER_ID, 'type': '__main__.Marker'},
        'thread_blob': {'addr': '%#x' % BLOB_ID[0], 'type': '__main__.Payload'},
        'cycles': {'type': '__main__.CycleNode', 'count': 2 * N_CYCLE},
        'orphans': {'type': '__main__.Orphan', 'count': N_ORPHAN,
                    'addrs': ['%#x' % i for i in ORPHAN_IDS]},
        'samples': samples,
    }


OUTDIR = None


def write_truth():
    truth = record()
    with open(os.path.join(OUTDIR, 'graphtruth.json'), 'w') as f:
        f.write(json.dumps(truth, sort_keys=True))


def main():
    global OUTDIR
    OUTDIR = sys.argv[1]
    os.makedirs(OUTDIR, exist_ok=True)
    # the collector stays off (the cycles are kept on purpose)
    freeze.stop(OUTDIR, 'core', record=write_truth, check_garbage=False)
    freeze.finish(OUTDIR)


if __name__ == '__main__':
    main()
