#!/usr/bin/python3
"""compare.py - hold pyheap's answers against the truth recorded by the
interpreter that made the core (see heapbuild.py, mkcore.py).

    compare.py OUTDIR PYHEAP
    compare.py --parse-mallocstats FILE      (debug: show what the parser reads)

Runs `PYHEAP info|types|arenas --json OUTDIR/core` (exit status 0 or 3 is
accepted) and checks:

  info    python_version == truth version; pid == truth pid; executable
          non-empty; objects > 0; gc_objects within 1% of the truth;
          arenas (if reported) == mallocstats' current arenas
  types   every class in truth["expected"]: count exact;
          every type with >= 1000 objects in the truth: count within 1%,
          size (sum of sys.getsizeof) within 2%
  arenas  arena_size, pool_size, arenas == mallocstats.txt; for each size
          class: pools, used, free == num pools, blocks in use, avail blocks

Prints a table of every check; exits 0 if all pass, 1 otherwise.
"""

import json
import os
import re
import subprocess
import sys

CMD_TIMEOUT = int(os.environ.get('PYHEAP_CMD_TIMEOUT', '250'))
COUNT_TOL = 1.0     # percent
SIZE_TOL = 2.0      # percent
GC_TOL = 1.0        # percent
MIN_COUNT = 1000    # types with at least this many objects in the truth are checked


# ---------------------------------------------------------------------------
# sys._debugmallocstats() output

def _num(s):
    return int(s.replace(',', ''))


class MallocStatsError(Exception):
    pass


def parse_mallocstats(text):
    """Parse the pymalloc part of sys._debugmallocstats() (3.8 - 3.13).

    Returns {"nclasses", "threshold", "classes": {size: {"index", "size",
    "pools", "used", "free"}}, "arenas", "arena_size", "pool_size",
    "allocated_bytes", "available_bytes"}.  Classes without pools are not
    printed by CPython and are absent here.  Raises MallocStatsError if the
    text does not hold together (the per-class table must add up to the
    byte totals CPython prints below it)."""
    NUM = r'(\d[\d,]*)'
    r = {'classes': {}}
    m = re.search(r'Small block threshold\s*=\s*' + NUM + r',\s*in\s+' + NUM +
                  r'\s+size classes', text)
    if not m:
        raise MallocStatsError('no "Small block threshold" line')
    r['threshold'], r['nclasses'] = _num(m.group(1)), _num(m.group(2))

    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines)
                     if re.match(r'\s*class\s+size\s+num\s+pools\s+blocks\s+in\s+use\s+'
                                 r'avail\s+blocks\s*$', l))
    except StopIteration:
        raise MallocStatsError('no "class size num pools ..." header')
    row = re.compile(r'\s*' + r'\s+'.join([NUM] * 5) + r'\s*$')
    for l in lines[start + 1:]:
        if re.match(r'\s*-[-\s]*$', l):
            continue
        if not l.strip():
            break
        m = row.match(l)
        if not m:
            raise MallocStatsError('bad class row: %r' % l)
        idx, size, pools, used, free = (_num(g) for g in m.groups())
        if size in r['classes']:
            raise MallocStatsError('class size %d twice' % size)
        r['classes'][size] = {'index': idx, 'size': size, 'pools': pools,
                              'used': used, 'free': free}

    def field(pat, what):
        m = re.search(pat, text, re.M)
        if not m:
            raise MallocStatsError('no %s line' % what)
        return m

    r['arenas'] = _num(field(r'^#\s*arenas allocated current\s*=\s*' + NUM + r'\s*$',
                             '"# arenas allocated current"').group(1))
    m = field(r'^' + NUM + r'\s+arenas\s*\*\s*' + NUM + r'\s+bytes/arena', '"N arenas * B bytes/arena"')
    if _num(m.group(1)) != r['arenas']:
        raise MallocStatsError('arena count %s != current arenas %d' % (m.group(1), r['arenas']))
    r['arena_size'] = _num(m.group(2))
    m = field(r'^' + NUM + r'\s+unused pools\s*\*\s*' + NUM + r'\s+bytes', '"N unused pools * B bytes"')
    r['unused_pools'], r['pool_size'] = _num(m.group(1)), _num(m.group(2))
    r['allocated_bytes'] = _num(field(r'^#\s*bytes in allocated blocks\s*=\s*' + NUM,
                                      '"# bytes in allocated blocks"').group(1))
    r['available_bytes'] = _num(field(r'^#\s*bytes in available blocks\s*=\s*' + NUM,
                                      '"# bytes in available blocks"').group(1))

    # Cross-checks: the table must account for the totals.
    cl = r['classes'].values()
    if not r['classes']:
        raise MallocStatsError('empty class table')
    if any(c['index'] >= r['nclasses'] for c in cl):
        raise MallocStatsError('class index out of range')
    if sum(c['used'] * c['size'] for c in cl) != r['allocated_bytes']:
        raise MallocStatsError('class table does not add up to bytes in allocated blocks')
    if sum(c['free'] * c['size'] for c in cl) != r['available_bytes']:
        raise MallocStatsError('class table does not add up to bytes in available blocks')
    pools_per_arena = r['arena_size'] // r['pool_size']
    if sum(c['pools'] for c in cl) + r['unused_pools'] > r['arenas'] * pools_per_arena:
        raise MallocStatsError('more pools than the arenas can hold')
    return r


# ---------------------------------------------------------------------------
# Table

class Table:
    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, check, truth, got, ok, dpct='', struth='', sgot='', sdpct='', note=None):
        def cut(v, n=44):
            v = str(v)
            return v if len(v) <= n else '...' + v[-(n - 3):]
        self.rows.append((check, cut(truth), cut(got), dpct, str(struth), str(sgot), sdpct,
                          'PASS' if ok else 'FAIL'))
        if note:
            self.notes.append('%s: %s' % (check, note))
        return ok

    def failed(self):
        return sum(1 for r in self.rows if r[-1] == 'FAIL')

    def show(self, out=sys.stdout):
        hdr = ('CHECK', 'TRUTH', 'PYHEAP', 'DIFF%', 'SIZE TRUTH', 'SIZE PYHEAP', 'DIFF%', 'RESULT')
        w = [max(len(hdr[i]), *(len(r[i]) for r in self.rows)) if self.rows else len(hdr[i])
             for i in range(len(hdr))]
        w[0] = min(w[0], 48)

        def line(r):
            return '  '.join([r[0].ljust(w[0])] + [r[i].rjust(w[i]) for i in range(1, 7)] + [r[7]])
        out.write(line(hdr) + '\n')
        out.write('  '.join('-' * x for x in w) + '\n')
        for r in self.rows:
            out.write(line(r) + '\n')
        for n in self.notes:
            out.write('  note: ' + n + '\n')
        out.flush()


def pct(got, truth):
    if truth == 0:
        return 0.0 if got == 0 else float('inf')
    return (got - truth) * 100.0 / truth


def fmtpct(p):
    return '%+.2f' % p if p != float('inf') else 'inf'


# ---------------------------------------------------------------------------

def run_pyheap(pyheap, sub, core, t):
    """Run `pyheap SUB --json CORE`; returns the parsed JSON or None."""
    argv = [pyheap, sub, '--json', core]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=CMD_TIMEOUT)
    except subprocess.TimeoutExpired:
        t.add('%s: runs' % sub, 'exit 0|3', 'timeout %ds' % CMD_TIMEOUT, False)
        return None
    except OSError as e:
        t.add('%s: runs' % sub, 'exit 0|3', 'cannot run', False, note='%s: %s' % (pyheap, e))
        return None
    err = p.stderr.decode(errors='replace')
    if p.returncode not in (0, 3):
        t.add('%s: exit status' % sub, '0|3', p.returncode, False,
              note='`%s` stderr:\n%s' % (' '.join(argv), err.rstrip()))
        return None
    t.add('%s: exit status' % sub, '0|3', p.returncode, True)
    try:
        return json.loads(p.stdout.decode())
    except ValueError as e:
        t.add('%s: JSON parses' % sub, 'JSON', 'garbage', False,
              note='%s; stdout starts %r; stderr:\n%s' % (e, p.stdout[:200], err.rstrip()))
        return None


def check_info(info, truth, ms, t):
    t.add('info: python_version', truth['version'], info.get('python_version'),
          info.get('python_version') == truth['version'])
    t.add('info: pid', truth['pid'], info.get('pid'), info.get('pid') == truth['pid'])
    exe = info.get('executable')
    t.add('info: executable non-empty', truth['executable'], exe,
          isinstance(exe, str) and exe != '')
    obj = info.get('objects')
    t.add('info: objects > 0', '> 0 (closure %d)' % truth.get('objects', 0), obj,
          isinstance(obj, int) and obj > 0)
    g = info.get('gc_objects')
    ok = isinstance(g, int) and abs(pct(g, truth['gc_objects'])) <= GC_TOL
    t.add('info: gc_objects (1%)', truth['gc_objects'], g, ok,
          fmtpct(pct(g, truth['gc_objects'])) if isinstance(g, int) else '')
    if ms is not None and 'arenas' in info:
        t.add('info: arenas', ms['arenas'], info['arenas'], info['arenas'] == ms['arenas'])


def check_types(res, truth, t):
    got = {}
    for e in res.get('types', []):
        n = e.get('type')
        c = got.setdefault(n, [0, 0])
        c[0] += e.get('count', 0)
        c[1] += e.get('size', 0)
    tt = truth['types']
    expected = truth['expected']

    def hint(name):
        """Explain a miss when one of the other readings of the truth fits."""
        d, g = tt.get(name), got.get(name)
        if not d or not g:
            return None
        h = []
        if d.get('static_count') and abs(pct(g[0], d['count'] - d['static_count'])) <= COUNT_TOL:
            h.append('pyheap count matches the truth without its %d statically allocated '
                     'objects (%d)' % (d['static_count'], d['count'] - d['static_count']))
        if d.get('sizeof') != d['size'] and abs(pct(g[1], d['sizeof'])) <= SIZE_TOL:
            h.append('pyheap size matches sum of __sizeof__ (no GC header/pre-header): %d'
                     % d['sizeof'])
        if d.get('static_size') and abs(pct(g[1], d['size'] - d['static_size'])) <= SIZE_TOL:
            h.append('pyheap size matches the truth without static objects (%d)'
                     % (d['size'] - d['static_size']))
        return '; '.join(h) or None

    for name in sorted(expected):
        want = expected[name]
        g = got.get(name, [0, 0])
        d = tt.get(name, {'count': 0, 'size': 0})
        if d['count'] != want:      # the recorder itself disagrees: a harness bug
            t.add('truth: %s' % name, want, d['count'], False,
                  note='heapbuild closure found %d, expected %d' % (d['count'], want))
        # count exact; size within 2% when the type is big enough to be checked
        sp = pct(g[1], d['size'])
        ok = g[0] == want and (want < MIN_COUNT or abs(sp) <= SIZE_TOL)
        t.add('types: %s (exact%s)' % (name, '/2%' if want >= MIN_COUNT else ''), want, g[0], ok,
              fmtpct(pct(g[0], want)), d['size'], g[1], fmtpct(sp),
              note=None if ok else hint(name))

    big = sorted((n for n, d in tt.items() if d['count'] >= MIN_COUNT and n not in expected),
                 key=lambda n: -tt[n]['count'])
    for name in big:
        d = tt[name]
        g = got.get(name, [0, 0])
        cp, sp = pct(g[0], d['count']), pct(g[1], d['size'])
        ok = abs(cp) <= COUNT_TOL and abs(sp) <= SIZE_TOL
        t.add('types: %s (1%%/2%%)' % name, d['count'], g[0], ok, fmtpct(cp),
              d['size'], g[1], fmtpct(sp), note=None if ok else hint(name))
    tc, ts = res.get('total_count'), res.get('total_size')
    t.add('types: total_count == sum of rows', sum(c for c, _ in got.values()), tc,
          tc == sum(c for c, _ in got.values()))
    t.add('types: total_size == sum of rows', sum(s for _, s in got.values()), ts,
          ts == sum(s for _, s in got.values()))


def check_arenas(res, ms, t):
    t.add('arenas: arena_size', ms['arena_size'], res.get('arena_size'),
          res.get('arena_size') == ms['arena_size'])
    t.add('arenas: pool_size', ms['pool_size'], res.get('pool_size'),
          res.get('pool_size') == ms['pool_size'])
    t.add('arenas: arenas (current)', ms['arenas'], res.get('arenas'),
          res.get('arenas') == ms['arenas'])
    got = {}
    for c in res.get('classes', []):
        got[c.get('size')] = c
    zero = {'pools': 0, 'used': 0, 'free': 0}
    sizes = sorted(set(ms['classes']) | set(s for s in got if isinstance(s, int)))
    for size in sizes:
        w = ms['classes'].get(size, zero)
        g = got.get(size, zero)
        key = ('pools', 'used', 'free')
        tv = '/'.join(str(w[k]) for k in key)
        gv = '/'.join(str(g.get(k)) for k in key)
        t.add('arenas: class %3d pools/used/free' % size, tv, gv,
              all(g.get(k) == w[k] for k in key))


def main(argv):
    if len(argv) == 3 and argv[1] == '--parse-mallocstats':
        with open(argv[2]) as f:
            r = parse_mallocstats(f.read())
        print(json.dumps(r, indent=1, sort_keys=True))
        return 0
    if len(argv) != 3:
        sys.stderr.write('usage: compare.py OUTDIR PYHEAP\n')
        return 2
    outdir, pyheap = argv[1], argv[2]
    core = os.path.join(outdir, 'core')
    with open(os.path.join(outdir, 'truth.json')) as f:
        truth = json.load(f)
    t = Table()
    ms = None
    try:
        with open(os.path.join(outdir, 'mallocstats.txt')) as f:
            ms = parse_mallocstats(f.read())
    except (OSError, MallocStatsError) as e:
        t.add('mallocstats.txt parses', 'ok', 'error', False, note=str(e))

    print('compare: %s (python %s, pid %d) against %s' %
          (core, truth['version'], truth['pid'], pyheap))
    info = run_pyheap(pyheap, 'info', core, t)
    if info is not None:
        check_info(info, truth, ms, t)
    types_ = run_pyheap(pyheap, 'types', core, t)
    if types_ is not None:
        check_types(types_, truth, t)
    arenas = run_pyheap(pyheap, 'arenas', core, t)
    if arenas is not None and ms is not None:
        check_arenas(arenas, ms, t)
    t.show()
    nf = t.failed()
    print('compare: %s: %d checks, %d failed -> %s' %
          (truth['version'], len(t.rows), nf, 'PASS' if nf == 0 else 'FAIL'))
    return 0 if nf == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
