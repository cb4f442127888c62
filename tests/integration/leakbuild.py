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


@functools.lru_cache(maxsize=None)
def resolve(key):
    return key * 2


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
                   'version': '%d.%d.%d' % sys.version_info[:3]}, f)
    leak(N1, M1)
    freeze.stop(out, 'core1')
    leak(N2, M2)
    freeze.stop(out, 'core2')
    freeze.finish(out)


main()
