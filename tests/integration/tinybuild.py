"""tinybuild.py - a small heap, stopped once for its core (mkcore.py INTERP
OUTDIR tinybuild.py; the protocol is in freeze.py).  For tests that need a
core of an interpreter, not a particular heap (debuginfodcheck.py).
Writes OUTDIR/truth-version (X.Y.Z)."""
import os
import sys

import freeze


class Item:
    def __init__(self, i):
        self.i = i


ITEMS = [Item(i) for i in range(1000)]

if __name__ == '__main__':
    os.makedirs(sys.argv[1], exist_ok=True)
    with open(os.path.join(sys.argv[1], 'truth-version'), 'w') as f:
        f.write('%d.%d.%d\n' % sys.version_info[:3])
    del f
    freeze.stop(sys.argv[1], 'core')
    freeze.finish(sys.argv[1])
