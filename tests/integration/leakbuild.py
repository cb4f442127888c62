"""leakbuild.py - a leaking process, dumped twice (mkcore.py INTERP OUTDIR
leakbuild.py; the protocol is in freeze.py).

    python leakbuild.py OUTDIR

Phase 1 builds some state and leaks N1 `Leak` objects into the module-level
list `_LEAKS`, and calls an unbounded lru_cache with M1 distinct arguments;
then it stops for the core OUTDIR/core1.  When continued it leaks N2 more
and makes M2 more cache entries and stops for OUTDIR/core2.  The expected
numbers go to OUTDIR/leaktruth.json.

`Leak` is slotted with many slots, so each instance is big and adds no other
object: the growth between the dumps is, by size, above all Leak's.
"""
import ctypes
import functools
import json
import os
import sys

import freeze

N1, N2 = 2000, 3000
M1, M2 = 100, 150


class Leak:
    __slots__ = tuple('s%02d' % i for i in range(40))


_LEAKS = []
_PINNED = []
# a dict whose keys table is one big malloc block: leakcheck cuts the core's
# segment across it (ma_keys follows ob_refcnt, ob_type, ma_used and
# ma_version_tag on 3.8-3.13)
_BIG = {'k%d' % i: i for i in range(12000)}


@functools.lru_cache(maxsize=None)
def resolve(key):
    return key * 2


@functools.lru_cache(maxsize=None)
def never_called(key):
    # an unbounded cache with no entry: no suspect
    return key


def leak(n, m):
    for _ in range(n):
        _LEAKS.append(Leak())
    for i in range(m):
        resolve(len(_LEAKS) * 1000 + i)


def main():
    out = sys.argv[1]
    with open(os.path.join(out, 'leaktruth.json'), 'w') as f:
        json.dump({'leak_type': '__main__.Leak', 'n1': N1, 'n2': N2,
                   'cache_entries': M1 + M2, 'container': "['_LEAKS']",
                   'pinned': [float(i) + 0.5 for i in range(0, 400000, 20000)],
                   'big_dict': hex(id(_BIG)), 'big_len': len(_BIG),
                   'big_keys': hex(ctypes.c_void_p.from_address(id(_BIG) + 32).value),
                   'version': '%d.%d.%d' % sys.version_info[:3]}, f)
    leak(N1, M1)
    freeze.stop(out, 'core1')
    leak(N2, M2)
    # fragmentation: arenas of floats, freed but for one float in 20,000,
    # stay resident for those few (nearly empty arenas, pinned)
    floats = [float(i) + 0.5 for i in range(400000)]
    _PINNED.extend(floats[::20000])
    del floats
    freeze.stop(out, 'core2')
    freeze.finish(out)


main()
