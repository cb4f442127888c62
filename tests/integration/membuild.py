"""membuild.py - a heap whose memory the ledger (`pyheap memory`) must account
for, with what the process itself says about its memory, then a freeze
for a core dump.

    python3.X membuild.py OUTDIR

Standard library only (numpy when it imports: Debian's python3.11 with
python3-numpy); runs on CPython 3.8 - 3.13 with glibc 2.33+ (mallinfo2).
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
  - small chunks malloc'd and freed through ctypes, in tcache and fastbins;
  - numpy arrays, big (mmapped) and small, with their data addresses.
Writes:
  OUTDIR/memtruth.json   the above, malloc_info() per arena, smaps_rollup,
                         the thread count
  OUTDIR/ready           the pid
  OUTDIR/mallinfo2.txt   mallinfo2()'s ten fields, taken at the freeze
  OUTDIR/mallocstats.txt sys._debugmallocstats() taken at the freeze
then stops itself with SIGSTOP (mkcore.py dumps it with gcore).
"""

import array
import collections
import ctypes
import gc
import json
import os
import re
import signal
import sys
import threading
import time

THREADS = 3
FRAG_ARENAS = 24            # arenas of 32-byte blocks (floats), left nearly empty
NATIVE_BYTES = 40 << 20     # of ctypes buffers: most of the memory in use
KEEP = {}


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
    KEEP['small'] = [libc.malloc(40) for _ in range(30)] + [libc.malloc(100) for _ in range(30)]
    KEEP['guard'] = libc.malloc(40)      # so the last ones do not join the top
    KEEP['free'] = libc.free
    truth['freed_small'] = len(KEEP['small'])


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


def malloc_info():
    """glibc's malloc_info(): each arena's current system memory."""
    libc = ctypes.CDLL(None)
    libc.open_memstream.restype = ctypes.c_void_p
    libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p),
                                    ctypes.POINTER(ctypes.c_size_t)]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    buf, size = ctypes.c_char_p(), ctypes.c_size_t()
    f = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    libc.malloc_info(0, f)
    libc.fclose(f)
    text = ctypes.string_at(buf, size.value).decode()
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(ctypes.cast(buf, ctypes.c_void_p))
    heaps = []
    for m in re.finditer(r'<heap nr="(\d+)">(.*?)</heap>', text, re.S):
        cur = re.search(r'<system type="current" size="(\d+)"/>', m.group(2))
        heaps.append(int(cur.group(1)) if cur else 0)
    return heaps


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    v = sys.version_info
    truth = {'version': '%d.%d.%d' % (v.major, v.minor, v.micro), 'pid': os.getpid()}
    build_buffers(truth)
    build_threads(truth)
    build_native(truth)
    build_numpy(truth)
    build_fragmented(truth)         # last: nothing big refills its arenas
    build_free_chunks(truth)
    truth['malloc_info'] = malloc_info()
    try:
        with open('/proc/self/smaps_rollup') as f:
            truth['smaps_rollup'] = {k.strip(): int(v.split()[0]) * 1024 for k, v in
                                     (l.split(':', 1) for l in f.read().splitlines()[1:])}
    except OSError:                 # (no /proc: a chroot)
        truth['smaps_rollup'] = None
    with open(os.path.join(outdir, 'memtruth.json'), 'w') as f:
        json.dump(truth, f, indent=1, sort_keys=True)
    del truth, f
    tmp = os.path.join(outdir, 'ready.tmp')
    with open(tmp, 'w') as f:
        f.write('%d\n' % os.getpid())
    del f
    os.rename(tmp, os.path.join(outdir, 'ready'))

    # Freeze: bind everything first, so that between mallinfo2() and the
    # stop nothing comes from malloc (small objects come from pymalloc).
    sys.stdout.flush()
    sys.stderr.flush()
    mi = MallInfo2()
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = MallInfo2
    fd = os.open(os.path.join(outdir, 'mallocstats.txt'),
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    mfd = os.open(os.path.join(outdir, 'mallinfo2.txt'),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = os.dup(2)
    dup2, write, kill, pid, sig = os.dup2, os.write, os.kill, os.getpid(), signal.SIGSTOP
    stats = sys._debugmallocstats
    names = [n for n, _ in MallInfo2._fields_]
    free, small = KEEP['free'], KEEP['small']
    for p in small:
        free(p)
    dup2(fd, 2)
    mi = mallinfo2()
    write(mfd, ' '.join('%s=%d' % (n, getattr(mi, n)) for n in names).encode())
    stats()
    kill(pid, sig)
    # Continued (not the normal path): restore stderr, then wait to be killed.
    dup2(saved, 2)
    os.close(fd)
    os.close(mfd)
    os.close(saved)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
