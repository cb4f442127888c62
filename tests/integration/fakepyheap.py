#!/usr/bin/python3
"""fakepyheap.py - a stand-in for the pyheap binary that answers from the
truth (truth.json, core.gc.json, mallocstats.txt next to the core).  It
proves compare.py passes on right answers and fails on wrong ones.

    fakepyheap.py --version --json
    fakepyheap.py info|types|arenas --json [OPTIONS...] OUTDIR/core
    fakepyheap.py show --json [OPTIONS...] CORE ADDR   (truth's static_type only)

--version --json lists the release of $FAKE_PYHEAP_TRUTH (or 3.8 - 3.99)
as supported.  FAKE_PYHEAP_SKEW (comma-separated) bends the answers:
    count:TYPE:FACTOR     multiply TYPE's count by FACTOR (rounded)
    add:TYPE:N            add N objects of TYPE (a new type: an invented one)
    size:TYPE:FACTOR      multiply TYPE's size by FACTOR
    class:SIZE:FIELD:N    add N to size class SIZE's pools|used|free
    arenas::N             add N to the arena count (arenas and info)
    info:KEY:VALUE        replace info[KEY] (VALUE is JSON)
    gc:KEY:I:N            add N to GC generation I's KEY (threshold|count|objects)
    thread::drop          leave the last Python thread out of info
    exit::N               exit with status N after printing (3: with a warning)
    unsupported::         --version --json lists no release: every core refused
    unsupported::noisy    ... with a refusal of two lines (must fail)
    freethreaded::accept  answer for a core flagged free-threaded (must fail)
    statictype::lost      show finds no object at the truth's static type (must fail)
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import parse_mallocstats  # noqa: E402


def free_threaded(core):
    """Whether the core's _Py_DebugOffsets (3.13+) say free-threaded."""
    with open(core, 'rb') as f:
        data = f.read()
    i = data.find(b'xdebugpy')
    while i >= 0:
        v = int.from_bytes(data[i + 8:i + 16], 'little')
        if 0x030d0000 <= v < 0x04000000 and int.from_bytes(data[i + 16:i + 24], 'little'):
            return True
        i = data.find(b'xdebugpy', i + 8)
    return False


def show(core, addr, skew):
    """show --json of the truth's static type (any core in its directory:
    compare.py's variants are written beside it)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(core)), 'truth.json')) as f:
        truth = json.load(f)
    if addr != truth.get('static_type') or any(s[0] == 'statictype' for s in skew):
        msg = '%s: no live object at %#x' % (core, addr)
        sys.stderr.write('fakepyheap: %s\n' % msg)
        print(json.dumps({'error': msg, 'exit': 1}))
        return 1
    print(json.dumps({'addr': '%#x' % addr, 'type': 'type'}))
    return 0


def main(argv):
    skew = [s.split(':') for s in os.environ.get('FAKE_PYHEAP_SKEW', '').split(',') if s]
    if argv[1:] == ['--version', '--json']:
        if any(s[0] == 'unsupported' for s in skew):
            print(json.dumps({'version': 'fake', 'python': []}))
        else:
            print(json.dumps({'version': 'fake',
                              'python': ['3.%d' % m for m in range(8, 100)]}))
        return 0
    args = [a for a in argv[1:] if a != '--json']
    if len(args) >= 3 and args[0] == 'show':
        return show(args[-2], int(args[-1], 16), skew)
    if len(args) < 2 or args[0] not in ('info', 'types', 'arenas'):
        sys.stderr.write('usage: fakepyheap.py info|types|arenas --json [OPTIONS] CORE\n')
        return 2
    sub, core = args[0], args[-1]
    if free_threaded(core) and not any(s[0] == 'freethreaded' for s in skew):
        # what pyheap does with a free-threaded build (compare.py's check)
        msg = '%s: Python 3.x is a free-threaded build (Py_GIL_DISABLED): refused' % core
        sys.stderr.write('fakepyheap: %s\n' % msg)
        if '--json' in argv:
            print(json.dumps({'error': msg, 'exit': 1}))
        return 1
    d = os.path.dirname(os.path.abspath(core))
    with open(os.path.join(d, 'truth.json')) as f:
        truth = json.load(f)
    if any(s[0] == 'unsupported' for s in skew):
        sys.stderr.write('fakepyheap: %s: Python %s is not supported (none are)\n'
                         % (core, truth['version']))
        if any(s[0] == 'unsupported' and s[2:] == ['noisy'] for s in skew):
            sys.stderr.write('fakepyheap: and a second line\n')
        return 1
    with open(os.path.join(d, 'core.gc.json')) as f:
        gcs = json.load(f)
    with open(os.path.join(d, 'mallocstats.txt')) as f:
        ms = parse_mallocstats(f.read())
    rc = 0
    for s in skew:
        if s[0] == 'arenas':
            ms['arenas'] += int(s[2])
        elif s[0] == 'exit':
            rc = int(s[2])
            if rc == 3:
                sys.stderr.write('fakepyheap: %s: 1 warning: something could not be read\n' % core)
    rows = {n: {'type': n, 'count': v['count'], 'size': v['size']}
            for n, v in truth['types'].items()}
    for s in skew:
        if s[0] in ('count', 'size'):
            r = rows[s[1]]
            r[s[0]] = int(round(r[s[0]] * float(s[2])))
        elif s[0] == 'add':
            r = rows.setdefault(s[1], {'type': s[1], 'count': 0, 'size': 0})
            r['count'] += int(s[2])
            r['size'] += 32 * int(s[2])
    rows = sorted(rows.values(), key=lambda r: -r['size'])
    total_count = sum(r['count'] for r in rows)
    total_size = sum(r['size'] for r in rows)

    if sub == 'info':
        th = truth['threads']
        minor = int(truth['version'].split('.')[1])
        pyt = [{'tstate': '0x1', 'thread_id': '%#x' % t['ident'],
                'native_id': t['native_id'] if minor >= 11 else 0, 'interpreter': 0}
               for t in th['python']]
        if any(s[0] == 'thread' for s in skew):
            pyt = pyt[:-1]
        gens = [{'threshold': gcs['thresholds'][i], 'count': gcs['counts'][i],
                 'objects': gcs['generation_objects'][i]} for i in range(3)]
        for s in skew:
            if s[0] == 'gc':
                gens[int(s[2])][s[1]] += int(s[3])
        out = {'python_version': truth['version'], 'pid': truth['pid'],
               'executable': truth['executable'], 'objects': total_count, 'size': total_size,
               'threads': [{'tid': t} for t in th['tasks']], 'python_threads': pyt,
               'gc_objects': sum(gcs['generation_objects']),
               'gc': {'known': True, 'enabled': gcs['enabled'], 'generations': gens,
                      'permanent_objects': gcs['permanent_objects']},
               'arenas': ms['arenas'],
               'pools': sum(c['pools'] for c in ms['classes'].values()),
               'blocks': sum(c['used'] for c in ms['classes'].values())}
        for s in skew:
            if s[0] == 'info':
                out[s[1]] = json.loads(':'.join(s[2:]))
    elif sub == 'types':
        out = {'types': rows, 'total_count': total_count, 'total_size': total_size}
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
