"""heapgen.py - build a realistic mixed heap of about N objects, measure it
from inside, then stop (SIGSTOP) so that the harness can core the process.

    python3.11 heapgen.py N OUTDIR

The heap is a list of "records", each a small cluster of the objects a
service typically holds:

    Record   instance of a class (managed __dict__ values on 3.11), 6 or 7
             attributes
    str      a short unique name
    int      a unique id (> 256, so not a small-int singleton)
    float    a score
    list     tags: a shared str and a unique int
    tuple    a position: two unique ints
    bytes    a 0..8-byte payload
    and on one record in four an extra: an Event (plain instance whose
    __dict__ is materialised: instance + dict + int), or a dict of 3 items,
    or a list of the two previous records.

That is about 10.6 objects per record, a quarter of them GC-tracked, and on
3.11 about 60 bytes of arena per object: 20M objects make a ~1.1 GB core.
Once the heap is
built (and a full collection has run, as it would have in a long-lived
process), it times `collections.Counter(type(o) for o in gc.get_objects())`
(the cheapest way Python itself has to answer "objects by type"; best of 3),
writes OUTDIR/live.json, prints its pid, and stops itself.
"""

import collections
import gc
import json
import os
import signal
import sys
import time


class Record:
    def __init__(self, name, ident, score, tags, pos, data):
        self.name = name
        self.ident = ident
        self.score = score
        self.tags = tags
        self.pos = pos
        self.data = data


class Event:
    pass


def build(target):
    # about 10.6 objects a record (see the docstring)
    nrec = max(1, int(target / 10.6))
    shared = ['tag-%d' % i for i in range(64)]
    records = []
    for i in range(nrec):
        r = Record('n%x' % i, 1000 + 7 * i, i * 0.5, [shared[i & 63], 100000 + i],
                   (i + 300, 2 * i + 300), bytes(i % 9))
        k = i & 15
        if k == 3:
            e = Event()                 # a plain instance with a real __dict__
            e.__dict__['seq'] = 1000000 + i
            e.__dict__['record'] = r
            r.extra = e
        elif k == 7 or k == 11:
            r.extra = {'id': r.ident, 'name': r.name, 'rec': r}
        elif k == 15:
            r.extra = [records[-1], records[-2]]
        records.append(r)
    return records
def main():
    target = int(sys.argv[1])
    outdir = sys.argv[2]
    t0 = time.monotonic()
    heap = build(target)
    gc.collect()
    build_s = time.monotonic() - t0

    n_gc = len(gc.get_objects())
    best = None
    for _ in range(3):
        t = time.perf_counter()
        c = collections.Counter(type(o) for o in gc.get_objects())
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
        del c
    t = time.perf_counter()
    n2 = len(gc.get_objects())
    get_objects_s = time.perf_counter() - t

    info = {
        'python': sys.version.split()[0],
        'target_objects': target,
        'records': len(heap),
        'gc_objects': n_gc,
        'gc_objects_again': n2,
        'counter_seconds': best,
        'get_objects_seconds': get_objects_s,
        'build_seconds': build_s,
    }
    tmp = os.path.join(outdir, 'live.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(info, f, indent=1)
    os.rename(tmp, os.path.join(outdir, 'live.json'))
    print(os.getpid(), flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
    # the harness kills us; if it resumes us instead, keep the heap alive
    time.sleep(3600)
    return heap


if __name__ == '__main__':
    main()
