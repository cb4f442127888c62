#!/usr/bin/python3
"""leakcheck.py - two dumps of one leaking process, and what pyheap says.

    leakcheck.py OUTDIR PYHEAP [PYHEAP OPTIONS...]
    leakcheck.py [--chroot DIR] INTERPRETER OUTDIR PYHEAP [PYHEAP OPTIONS...]

The first form checks the cores OUTDIR/core1 and OUTDIR/core2 that
`mkcore.py [--chroot DIR] INTERPRETER OUTDIR leakbuild.py` made (what
check_leak does, once per configuration); the second makes them first, the
same way (in the chroot DIR when given).  OPTIONS is a configuration
(--no-dwarf, --pool-scan, --debug-dir DIR).  Checks:
  - every run exits 0 (the cores are clean: exit 3, warnings, fails);
  - diff (core to core): the leaking type comes first, with the exact delta;
  - diff (types --json snapshot to core) gives the same rows;
  - top names the leaking container and its global name;
  - suspects names it too, and reports the unbounded lru_cache with its
    entry count.
A release `pyheap --version --json` does not list is checked for a clean
refusal instead (exit 1, one line "... not supported ...").
Prints a PASS/FAIL line per check; exit 0 all passed, 1 a failure, 77 skip.
"""
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import mkcore
import pyheapcli

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
results = []
WARNINGS = []


def check(name, ok, detail=''):
    results.append(ok)
    print('%-4s %-52s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)


class Stop(Exception):
    pass


def pyheap(bin_, extra, *args):
    rc, out, err = pyheapcli.run(bin_, list(args) + list(extra))
    if rc == 3:
        WARNINGS.append('%s: %s' % (args[0], pyheapcli.warnings_of(err, 3)))
    elif rc != 0:
        check('pyheap %s runs' % args[0], False, 'exit %d: %s' % (rc, err.strip()[-600:]))
        raise Stop()
    return out


def checks(out, bin_, extra):
    truth = json.load(open(os.path.join(out, 'leaktruth.json')))
    lt, n2 = truth['leak_type'], truth['n2']
    c1, c2 = os.path.join(out, 'core1'), os.path.join(out, 'core2')
    cfg = pyheapcli.config_name(extra)
    if not pyheapcli.is_supported(bin_, truth['version']):
        pyheapcli.check_refusal(bin_, extra, c2, truth['version'],
                                [['diff', '--json', c1, 'CORE'], ['top', '--json', 'CORE'],
                                 ['suspects', '--json', 'CORE'], ['types', 'CORE']], check)
        return 'REFUSED (pyheap lists %s): ' % ' '.join(pyheapcli.supported(bin_))

    d = json.loads(pyheap(bin_, extra, 'diff', '--json', c1, c2))
    first = d['types'][0] if d['types'] else {}
    check('diff: leaking type first', first.get('type') == lt, 'first: %s' % first.get('type'))
    row = next((r for r in d['types'] if r['type'] == lt), {})
    check('diff: exact count delta', row.get('count_delta') == n2,
          'want %d, got %s' % (n2, row.get('count_delta')))
    check('diff: growing container found',
          any(c.get('chain', [])[-1:] == [truth['container']] and c['len_delta'] == n2
              for c in d['containers']),
          '; '.join('%s %+d %s' % (c['type'], c['len_delta'], ' '.join(c.get('chain', [])))
                    for c in d['containers'][:3]))

    snap = os.path.join(out, 'core1.json')
    with open(snap, 'w') as f:
        f.write(pyheap(bin_, extra, 'types', '--json', c1))
    ds = json.loads(pyheap(bin_, extra, 'diff', '--json', snap, c2))
    key = lambda t: [(r['type'], r['count_delta'], r['size_delta']) for r in t['types']]
    check('diff: snapshot route equals core route', key(ds) == key(d),
          '%d rows vs %d' % (len(ds['types']), len(d['types'])))

    t = json.loads(pyheap(bin_, extra, 'top', '--json', '--top', '10', c2))
    check('top: names the leaking container',
          any(o['chain'][-1:] == [truth['container']] for o in t['objects']),
          '; '.join('%s %s' % (o['type'], ' '.join(o['chain'])) for o in t['objects'][:4]))

    # top and path: the same roots and the same names, object by object
    differ = []
    for o in t['objects'][:10]:
        pa = json.loads(pyheap(bin_, extra, 'path', '--json', '--addr', o['addr'], c2))
        if (pa['root'] != o['root'] or [e['edge'] for e in pa['chain']][1:] != o['chain']):
            differ.append('%s %s: top %s %s, path %s %s' % (
                o['type'], o['addr'], o['root'], o['chain'], pa['root'],
                [e['edge'] for e in pa['chain']][1:]))
    check('top and path: same root and chain for the top 10', not differ, '; '.join(differ[:2]))

    s = json.loads(pyheap(bin_, extra, 'suspects', '--json', '--baseline', c1, c2))
    check('suspects: names the leaking container',
          any(x.get('chain', [])[-1:] == [truth['container']] for x in s['suspects']),
          '; '.join('%s %s' % (x['kind'], ' '.join(x.get('chain', []))) for x in s['suspects'][:5]))
    caches = [x for x in s['suspects'] if x['kind'] == 'unbounded_cache']
    check('suspects: unbounded lru_cache with its entry count',
          any(x.get('entries') == truth['cache_entries'] for x in caches),
          'want %d, got %s' % (truth['cache_entries'], [x.get('entries') for x in caches]))
    shares = [x.get('share', -1) for x in s['suspects']]
    check('suspects: ranked by share of the heap',
          shares and all(a >= b for a, b in zip(shares, shares[1:])) and min(shares) >= 0
          and s['heap_size'] >= s['total_size'] and max(shares) <= 100
          and all(abs(x['share'] - 100.0 * x['bytes'] / s['heap_size']) < 0.01 * max(1, x['share'])
                  for x in s['suspects']), str(shares))
    check('suspects: no empty cache (never_called)',
          not any('never_called' in x['summary'] for x in s['suspects'])
          and all(x.get('entries') != 0 for x in caches),
          '; '.join(x['summary'] for x in caches))
    check('suspects: the cache named',
          any("('resolve')" in x['summary'] for x in caches),
          '; '.join(x['summary'] for x in caches))
    # the floats left in their arenas pin them: pinned_arenas, with the arenas
    s0 = json.loads(pyheap(bin_, extra, 'suspects', '--json', c2))
    pins = [x for x in s0['suspects'] if x['kind'] == 'pinned_arenas']
    a = json.loads(pyheap(bin_, extra, 'arenas', '--json', c2))
    listed = a.get('pinned_arenas', [])
    inside = all(a['arena_size'] > int(o['addr'], 16) - int(p['addr'], 16) >= 0
                 and p['count'] == len(p['objects']) for p in listed for o in p['objects'])
    values = {float(o['value']) for p in listed for o in p['objects'] if o['type'] == 'float'}
    want = set(truth['pinned'])
    check('arenas --json: the floats pinning nearly empty arenas',
          len(listed) == min(64, a['nearly_empty_arenas']) and inside
          and len(want & values) >= len(want) - 2,
          '%d arenas, %d listed, %d of %d floats found' % (
              a['nearly_empty_arenas'], len(listed), len(want & values), len(want)))
    check('suspects: the pinned arenas, with their addresses',
          len(pins) == 1 and sorted(pins[0].get('arenas', [])) ==
          sorted(p['addr'] for p in listed)[:64] and 'float' in pins[0]['summary'],
          '; '.join(x['summary'] for x in pins))
    check('suspects: growth since the baseline',
          any(x['kind'] == 'growth' and lt in x['summary'] for x in s['suspects']))
    # path --type with the short name: the leak list holds every one of them
    short = lt.rsplit('.', 1)[-1]
    p = json.loads(pyheap(bin_, extra, 'path', '--json', '--type', short, c2))
    hs = p.get('holders', [])
    h0 = hs[0] if hs else {}
    check('path --type %s: _LEAKS holds all of them' % short,
          h0.get('count') == truth['n1'] + n2 and p.get('reached') == truth['n1'] + n2
          and [e['edge'] for e in h0.get('chain', [])][-1:] == [truth['container']]
          and h0.get('holder', {}).get('type') == 'list' and p.get('held_elsewhere') == 0,
          'reached %s; first holder %s x%s via %s' % (
              p.get('reached'), h0.get('holder', {}).get('type'), h0.get('count'),
              ' '.join(e['edge'] for e in h0.get('chain', []))))
    text = pyheap(bin_, extra, 'path', '--type', short, c2)
    check('path --type (text): the holder, its count and the list',
          ('%s (100%%) held by' % format(truth['n1'] + n2, ',')) in text
          and truth['container'] in text, text.splitlines()[0] if text else '')

    # a dict's keys table across two adjacent segments reads as one block
    cut = (int(truth['big_keys'], 16) + 0x10000) & ~0xfff
    split = os.path.join(out, 'core2.split')
    r = subprocess.run([sys.executable, os.path.join(HERE, '..', 'tools', 'splitseg.py'),
                        c2, hex(cut), split], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        check('split segment: core cut across the keys table', False, r.stdout.decode()[-300:])
    else:
        whole = json.loads(pyheap(bin_, extra, 'show', '--json', c2, truth['big_dict']))
        parts = json.loads(pyheap(bin_, extra, 'show', '--json', split, truth['big_dict']))
        o1 = json.loads(pyheap(bin_, extra, 'refs', '--json', c2))
        o2 = json.loads(pyheap(bin_, extra, 'refs', '--json', split))
        check('split segment: the dict keeps its %d items' % truth['big_len'],
              parts['value'] == whole['value'] == 'len=%d' % truth['big_len']
              and parts['referent_count'] == whole['referent_count'] >= 2 * truth['big_len']
              and parts['size'] == whole['size'] > 100000
              and parts.get('warning_count') == 0,
              'whole %s %s refs %s bytes, split %s %s refs %s bytes, %s warnings' % (
                  whole['value'], whole['referent_count'], whole['size'], parts['value'],
                  parts['referent_count'], parts['size'], parts.get('warning_count')))
        check('split segment: no new orphans', o1['orphan_count'] == o2['orphan_count'],
              'whole %s, split %s' % (o1['orphan_count'], o2['orphan_count']))
        os.unlink(split)

    check('every run exit 0 (clean cores)', not WARNINGS, '; '.join(WARNINGS[:4]))
    return ''


def main(argv):
    got = mkcore.checker_args(argv, __doc__.split('\n\n')[1], 'leakbuild.py')
    if isinstance(got, int):
        return got
    out, bin_, extra = got
    truth = json.load(open(os.path.join(out, 'leaktruth.json')))
    try:
        refused = checks(out, bin_, extra)
    except (Stop, pyheapcli.PyheapError) as e:
        if str(e):
            check('pyheap runs', False, str(e))
        refused = ''
    print('leakcheck: %s [%s]: %s%d checks, %d failed' % (
        truth['version'], pyheapcli.config_name(extra), refused, len(results),
        results.count(False)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
