#!/usr/bin/python3
"""fakepyheap.py - a stand-in for the pyheap binary that answers from the
truth (truth.json, mallocstats.txt next to the core).  It proves compare.py
passes on right answers and fails on wrong ones.

    fakepyheap.py info|types|arenas --json OUTDIR/core

FAKE_PYHEAP_SKEW (comma-separated) bends the answers:
    count:TYPE:FACTOR     multiply TYPE's count by FACTOR (rounded)
    size:TYPE:FACTOR      multiply TYPE's size by FACTOR
    class:SIZE:FIELD:N    add N to size class SIZE's pools|used|free
    arenas::N             add N to the arena count (arenas and info)
    info:KEY:VALUE        replace info[KEY] (VALUE is JSON)
    exit::N               exit with status N after printing
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import parse_mallocstats  # noqa: E402


def main(argv):
    if len(argv) != 4 or argv[2] != '--json' or argv[1] not in ('info', 'types', 'arenas'):
        sys.stderr.write('usage: fakepyheap.py info|types|arenas --json CORE\n')
        return 2
    sub, core = argv[1], argv[3]
    d = os.path.dirname(os.path.abspath(core))
    with open(os.path.join(d, 'truth.json')) as f:
        truth = json.load(f)
    with open(os.path.join(d, 'mallocstats.txt')) as f:
        ms = parse_mallocstats(f.read())
    skew = [s.split(':') for s in os.environ.get('FAKE_PYHEAP_SKEW', '').split(',') if s]
    rc = 0
    for s in skew:
        if s[0] == 'arenas':
            ms['arenas'] += int(s[2])
        elif s[0] == 'exit':
            rc = int(s[2])

    if sub == 'info':
        out = {'python_version': truth['version'], 'pid': truth['pid'],
               'executable': truth['executable'], 'objects': truth['objects'],
               'gc_objects': truth['gc_objects'], 'arenas': ms['arenas']}
        for s in skew:
            if s[0] == 'info':
                out[s[1]] = json.loads(':'.join(s[2:]))
    elif sub == 'types':
        rows = {n: {'type': n, 'count': v['count'], 'size': v['size']}
                for n, v in truth['types'].items()}
        for s in skew:
            if s[0] in ('count', 'size'):
                r = rows[s[1]]
                r[s[0]] = int(round(r[s[0]] * float(s[2])))
        rows = sorted(rows.values(), key=lambda r: -r['size'])
        out = {'types': rows, 'total_count': sum(r['count'] for r in rows),
               'total_size': sum(r['size'] for r in rows)}
    else:
        cls = {k: dict(v) for k, v in ms['classes'].items()}
        for s in skew:
            if s[0] == 'class':
                c = cls.setdefault(int(s[1]), {'size': int(s[1]), 'pools': 0, 'used': 0, 'free': 0})
                c[s[2]] += int(s[3])
        out = {'arena_size': ms['arena_size'], 'pool_size': ms['pool_size'],
               'arenas': ms['arenas'],
               'classes': [{'size': c['size'], 'pools': c['pools'], 'used': c['used'],
                            'free': c['free']} for _, c in sorted(cls.items())]}
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
