"""graphbuild.py - build a heap with known references, record them, then
freeze for a core dump (the reference-graph counterpart of heapbuild.py).

    python3.X graphbuild.py OUTDIR

Standard library only (plus ctypes); runs on CPython 3.8 - 3.13.  Writes

  OUTDIR/graphtruth.json   what the interpreter knows (see record())
  OUTDIR/ready             the pid, written once the truth is on disk

then stops itself with SIGSTOP (mkcore.py OUTDIR INTERP graphbuild.py waits
for state 'T', runs gcore and kills the process).  If continued instead, it
sleeps until killed.  The automatic GC is disabled from the start so that the
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
import signal
import sys
import threading
import time
import types
import weakref

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


def record():
    samples = {}
    for name, o in SAMPLES.items():
        refs = gc.get_referents(o)
        samples[name] = {
            'addr': '%#x' % id(o),
            'type': type_name(type(o)),
            'referents': [{'addr': '%#x' % id(r), 'type': type_name(type(r))}
                          for r in refs],
        }
        del refs
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


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    truth = record()
    with open(os.path.join(outdir, 'graphtruth.json'), 'w') as f:
        json.dump(truth, f, indent=1, sort_keys=True)
    del truth, f
    tmp = os.path.join(outdir, 'ready.tmp')
    with open(tmp, 'w') as f:
        f.write('%d\n' % os.getpid())
    del f
    os.rename(tmp, os.path.join(outdir, 'ready'))
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSTOP)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
