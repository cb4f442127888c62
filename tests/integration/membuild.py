"""membuild.py - a heap whose memory the ledger (`pyheap memory`) must account
for, with what the process itself says about its memory, then a freeze
for a core dump (mkcore.py [--chroot DIR] INTERP OUTDIR membuild.py; the
protocol is in freeze.py).

    python3.X membuild.py OUTDIR

Standard library only (numpy when it imports: Debian's python3.11 with
python3-numpy); runs on CPython 3.8 - 3.15 with glibc 2.33+ (mallinfo2).
The heap:
  - buffers over 512 bytes, so in malloc: list item tables, dict keys, set
    tables, bytearray, array.array and deque data, big str and bytes
    objects, and a 3 MiB bytearray (an mmapped chunk); their addresses
    (read through ctypes) and their owners' ids;
  - THREADS threads that allocate in malloc and wait: glibc gives each its
    own arena;
  - a fragmented part: floats filling FRAG_ARENAS pymalloc arenas, all
    freed but one in 16 pools' worth, so each arena is left nearly empty,
    pinned by a few floats (their ids recorded);
  - native memory: ctypes buffers (an extension object's malloc'd memory);
  - small chunks malloc'd and freed through ctypes, in tcache and fastbins,
    and a few of 3000 bytes: the process runs with glibc.malloc.tcache_max
    raised (GLIBC_TUNABLES; it re-executes itself to get it), so from
    glibc 2.42 they go to the tcache's large lists (older releases cap the
    tunable at 1032 bytes: they go to the unsorted bin);
  - numpy arrays, big (mmapped) and small, with their data addresses.
Writes:
  OUTDIR/memtruth.json   the above, smaps_rollup, the thread count
                         (freeze.stop()'s record())
  OUTDIR/malloc_info.xml malloc_info()'s text and
  OUTDIR/mallinfo2.txt   mallinfo2()'s ten fields, the last things before
                         the stop (freeze.stop()'s at_stop())
  OUTDIR/mallocstats.txt sys._debugmallocstats() of the arenas as the core
                         has them (read first thing after the stop)
  OUTDIR/core.gc.json    the collector's state at the stop (freeze.py)
and stops once, for the core OUTDIR/core.
"""

import array
import collections
import ctypes
import gc
import json
import os
import sys
import threading

import freeze

THREADS = 3
FRAG_ARENAS = 24            # arenas of 32-byte blocks (floats), left nearly empty
NATIVE_BYTES = 40 << 20     # of ctypes buffers: most of the memory in use
KEEP = {}
LARGE_FREED = 5             # chunks of 3008 bytes freed at the freeze


class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks',
                 'uordblks', 'fordblks', 'keepcost')]


def addr_of_list_items(lst):
    # PyListObject: PyObject_VAR_HEAD (24 bytes), then ob_item (3.8 - 3.13)
    return ctypes.c_void_p.from_address(id(lst) + 24).value


def addr_of_bytearray(b):
    return ctypes.addressof((ctypes.c_char * 1).from_buffer(b)) if len(b) else 0


def build_buffers(truth):
    bufs = truth['buffers'] = []
    objs = truth['objects'] = []
    KEEP['lists'] = [list(range(i, i + 300)) for i in range(100)]
    for l in KEEP['lists']:
        bufs.append({'kind': 'list items', 'owner': id(l), 'addr': addr_of_list_items(l)})
    KEEP['bytearrays'] = [bytearray(4000 + i) for i in range(60)]
    for b in KEEP['bytearrays']:
        bufs.append({'kind': 'bytearray data', 'owner': id(b), 'addr': addr_of_bytearray(b)})
    KEEP['arrays'] = [array.array('d', range(1000 + i)) for i in range(30)]
    for a in KEEP['arrays']:
        bufs.append({'kind': 'array.array data', 'owner': id(a), 'addr': a.buffer_info()[0]})
    KEEP['huge'] = bytearray(3 << 20)             # an mmapped chunk
    bufs.append({'kind': 'bytearray data', 'owner': id(KEEP['huge']),
                 'addr': addr_of_bytearray(KEEP['huge'])})
    KEEP['dicts'] = [{'k%d_%d' % (i, j): j for j in range(200)} for i in range(60)]
    KEEP['sets'] = [set(range(i * 1000, i * 1000 + 800)) for i in range(20)]
    KEEP['deques'] = [collections.deque(range(300)) for i in range(10)]
    # objects over 512 bytes: malloc chunks of their own
    KEEP['strs'] = ['%d' % i + 'x' * 3000 for i in range(100)]
    KEEP['bytes'] = [b'%d' % i + bytes(2500) for i in range(100)]
    for o in KEEP['strs'] + KEEP['bytes']:
        objs.append({'type': type(o).__name__, 'addr': id(o)})


def worker(ready, go, out):
    # objects over 512 bytes come from this thread's malloc arena
    out.extend(bytes(1500) + b'%d' % i for i in range(400))
    out.append(list(range(2000)))
    ready.set()
    go.wait()


def build_threads(truth):
    go = threading.Event()
    KEEP['go'] = go
    KEEP['thread_data'] = []
    for i in range(THREADS):
        ready, out = threading.Event(), []
        t = threading.Thread(target=worker, args=(ready, go, out), daemon=True)
        t.start()
        ready.wait()
        KEEP['thread_data'].append((t, out))
    truth['threads'] = threading.active_count()


def build_fragmented(truth):
    # pools of 16 KiB in arenas of 1 MiB from 3.10 on, 4 KiB in 256 KiB
    # before; 32-byte blocks (floats)
    pool, arena = (16384, 1 << 20) if sys.version_info >= (3, 10) else (4096, 256 << 10)
    per_pool = (pool - 48) // 32
    every = per_pool * 16                         # one float in 16 pools
    n = FRAG_ARENAS * arena // 32
    floats = [float(i) + 0.5 for i in range(n)]
    KEEP['pinners'] = floats[::every]
    del floats
    gc.collect()
    truth['pinners'] = [id(f) for f in KEEP['pinners']]


def build_native(truth):
    KEEP['native'] = [ctypes.create_string_buffer(1 << 20) for _ in range(NATIVE_BYTES >> 20)]
    truth['native'] = [{'owner': id(b), 'addr': ctypes.addressof(b)} for b in KEEP['native']]


def build_free_chunks(truth):
    # small chunks freed from C: the first 7 of a size go to the thread's
    # tcache, the rest to a fastbin (both lists safe-linked on glibc 2.32+)
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # (freed at the freeze: a later big malloc would consolidate fastbins)
    KEEP['small'] = ([libc.malloc(40) for _ in range(30)] + [libc.malloc(100) for _ in range(30)]
                     + [libc.malloc(3000) for _ in range(LARGE_FREED)])
    KEEP['guard'] = libc.malloc(40)      # so the last ones do not join the top
    KEEP['free'] = libc.free
    truth['freed_small'] = len(KEEP['small'])
    truth['freed_large'] = LARGE_FREED


def build_numpy(truth):
    try:
        import numpy
    except ImportError:
        truth['numpy'] = None
        return
    arrs = [numpy.arange(40000 + i, dtype=numpy.float64) for i in range(6)]   # mmapped
    arrs += [numpy.arange(300 + i, dtype=numpy.int64) for i in range(20)]    # in a heap
    KEEP['ndarrays'] = arrs
    truth['numpy'] = [{'owner': id(a), 'addr': a.ctypes.data, 'nbytes': a.nbytes}
                      for a in arrs]


def smaps_rollup():
    """/proc/self/smaps_rollup's fields, in bytes (mkcore.py mounts /proc in
    a chroot for the builder)."""
    with open('/proc/self/smaps_rollup') as f:
        return {k.strip(): int(v.split()[0]) * 1024 for k, v in
                (l.split(':', 1) for l in f.read().splitlines()[1:])}


def write_truth():
    """freeze.stop()'s record(): OUTDIR/memtruth.json, written by json's C
    encoder.  The truth dies here, before the stop: its ints (the pinners'
    ids among them) took blocks in the nearly empty arenas."""
    global TRUTH
    truth, TRUTH = TRUTH, None
    truth['smaps_rollup'] = smaps_rollup()
    truth['freeze_threads'] = freeze.threads()
    with open(os.path.join(OUTDIR, 'memtruth.json'), 'w') as f:
        f.write(json.dumps(truth, indent=1, sort_keys=True))


class AtStop:
    """freeze.stop()'s at_stop(), the last thing before the stop (after the
    truth and the ready file: their writing allocates; the file buffers,
    4-8 KiB, are large-bin requests, which consolidate the fastbins, and
    the heap may grow for them): malloc_info() into a buffer of its own, the
    small chunks freed, then mallinfo2() into OUTDIR/mallinfo2.txt.
    Everything is bound and allocated here, beforehand, so that nothing
    comes from malloc between malloc_info() and the stop (the small
    objects made for mallinfo2.txt come from pymalloc): malloc_info()
    prints into an unbuffered fmemopen() stream over a ctypes buffer.
    written() writes its text to OUTDIR/malloc_info.xml after the stop."""

    def __init__(self):
        libc = ctypes.CDLL(None)
        self.mallinfo2 = libc.mallinfo2
        self.mallinfo2.restype = MallInfo2
        self.names = [n for n, _ in MallInfo2._fields_]
        self.free, self.small = KEEP['free'], KEEP['small']
        self.fd = os.open(os.path.join(OUTDIR, 'mallinfo2.txt'),
                          os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.write, self.close = os.write, os.close
        self.xml = ctypes.create_string_buffer(1 << 18)
        libc.fmemopen.restype = ctypes.c_void_p
        libc.fmemopen.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
        libc.setvbuf.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        libc.fclose.argtypes = [ctypes.c_void_p]
        self.fclose = libc.fclose
        self.stream = libc.fmemopen(self.xml, len(self.xml), b'w')
        if not self.stream or libc.setvbuf(self.stream, None, 2, 0) != 0:   # _IONBF
            raise OSError('fmemopen or setvbuf failed')
        self.malloc_info = libc.malloc_info
        self.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        self.malloc_info_rc = None

    def __call__(self):
        self.malloc_info_rc = self.malloc_info(0, self.stream)
        free = self.free
        for p in self.small:
            free(p)
        mi = self.mallinfo2()
        self.write(self.fd, ' '.join('%s=%d' % (n, getattr(mi, n)) for n in self.names).encode())
        self.close(self.fd)

    def written(self):
        self.fclose(self.stream)
        if self.malloc_info_rc != 0:
            raise OSError('malloc_info() failed')
        with open(os.path.join(OUTDIR, 'malloc_info.xml'), 'wb') as f:
            f.write(self.xml.value)


OUTDIR = None
TRUTH = None


TUNABLE = 'glibc.malloc.tcache_max=65536'


def main():
    global OUTDIR, TRUTH
    if TUNABLE not in os.environ.get('GLIBC_TUNABLES', ''):
        # read when the process starts: the same process (pid), again
        os.environ['GLIBC_TUNABLES'] = ':'.join(
            x for x in (os.environ.get('GLIBC_TUNABLES'), TUNABLE) if x)
        os.execv(sys.executable, [sys.executable] + sys.argv)
    OUTDIR = sys.argv[1]
    os.makedirs(OUTDIR, exist_ok=True)
    v = sys.version_info
    libc = ctypes.CDLL(None)
    libc.gnu_get_libc_version.restype = ctypes.c_char_p
    TRUTH = truth = {'version': '%d.%d.%d' % (v.major, v.minor, v.micro), 'pid': os.getpid(),
                     'glibc': libc.gnu_get_libc_version().decode(),
                     'glibc_tunables': os.environ['GLIBC_TUNABLES']}
    del libc
    build_buffers(truth)
    build_threads(truth)
    build_native(truth)
    build_numpy(truth)
    build_fragmented(truth)         # last: nothing big refills its arenas
    build_free_chunks(truth)
    del truth
    at_stop = AtStop()
    freeze.stop(OUTDIR, 'core', record=write_truth,
                mallocstats=os.path.join(OUTDIR, 'mallocstats.txt'), at_stop=at_stop)
    at_stop.written()
    freeze.finish(OUTDIR)


main()
