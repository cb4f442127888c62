#!/usr/bin/python3
"""compare.py - hold pyheap's answers against the truth recorded by the
interpreter that made the core (see heapbuild.py, freeze.py, mkcore.py).

    compare.py OUTDIR PYHEAP [PYHEAP OPTIONS...]
    compare.py --parse-mallocstats FILE      (debug: show what the parser reads)

Runs `PYHEAP info|types|arenas --json [OPTIONS] OUTDIR/core` (OPTIONS: a
configuration such as --no-dwarf, --pool-scan, --debug-dir DIR) and checks,
each check a PASS/FAIL row with the numbers:

  every run   exit status 0: the core is clean, a warning (exit 3) is a failure
  info        python_version, pid, executable (the interpreter's, on the host);
              threads: the OS thread ids == the process's tasks, the Python
              threads' idents == threading's, their native ids == threading's
              (3.11+: 3.8 - 3.10 thread states have no native id, so none
              may be claimed); GC state == what the interpreter read at the
              stop (core.gc.json): enabled, thresholds, counts, objects in
              each generation, permanent (frozen) objects -- all exact;
              gc_objects == the generations' sum; arenas, pools, blocks ==
              sys._debugmallocstats(); objects and size == types' totals
  types       the builder's classes: count exact; every other type, big or
              small: never fewer objects than the truth (every object the
              truth counts is live at the stop), and more only within the
              allowances below; size within 2% (types of 1000+ objects) or
              when the count is exact; a type in pyheap's answer but not in
              the truth is invented: a failure unless an allowance covers it
  arenas      arena_size, pool_size, arenas == mallocstats.txt; for each size
              class: pools, used, free == num pools, blocks in use, avail blocks

The truth is the closure of gc.get_referents() from gc.get_objects(), plus
the references the interpreter holds that its tp_traverse does not visit
(heapbuild.py: str keys, code fields, type fields, small-int and one-char
caches, running frames on 3.8 - 3.10, every readied type).  What the
interpreter holds only from C -- statics, the runtime, thread states -- no
Python code can reach, and pyheap rightly finds some of it; ALLOWANCES lists
each such case with its reason and bound.  Types of 1000+ objects may exceed
the truth by 1% (COUNT_TOL) for the same reason (strings the interned dict
alone keeps, immortal from 3.12 on; tuples and dicts C code keeps).

A release `pyheap --version --json` does not list is checked for a clean
refusal instead (exit 1, one line "... not supported ..."); once pyheap
lists it, the full checks run.

Prints a table of every check; exits 0 if all pass, 1 otherwise.
"""

import json
import os
import re
import struct
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import pyheapcli

COUNT_TOL = 1.0     # percent over the truth, types of MIN_COUNT+ objects
SIZE_TOL = 2.0      # percent
MIN_COUNT = 1000    # types with at least this many objects in the truth

# Objects pyheap may find beyond the truth, by type: (type name, minors
# (lo, hi) inclusive, bound(truth) -> the most extra objects allowed, why).
# Every other type: not one object more than the truth.
ALLOWANCES = [
    ('moduledef', (8, 11), lambda t: t.get('module_defs') or 0,
     'PyModuleDef statics, PyObject-headed; no tp_traverse visits them, and '
     'the runtime\'s cache of single-phase extension modules (a dict on 3.8 - '
     '3.11, C-held) has them as values; at most one per md_def of the modules'),
    ('Struct', (8, 8), lambda t: 100,
     "struct's format cache: a C static dict (3.8; MAXCACHE = 100 entries)"),
    ('_struct.Struct', (9, 9), lambda t: 100,
     "struct's format cache: a C static dict (3.9; MAXCACHE = 100 entries); "
     'module state, which the truth sees, from 3.10 on'),
    ('object', (8, 99), lambda t: 2,
     'sentinel object() instances C code keeps in statics'),
    ('code', (12, 99), lambda t: 1,
     "the interpreter's trampoline code object (interp->interpreter_trampoline), 3.12+"),
    ('_thread._localdummy', (8, 99),
     lambda t: len(t['threads']['python']) * t['types'].get('_thread._local', {}).get('count', 0),
     "a threading.local's per-thread dummy, held by the thread state's dict, "
     'which Python cannot reach: at most one per thread and local'),
]


def allowance(name, truth):
    """(bound, reason) for extra objects of type `name`, or (0, None)."""
    minor = int(truth['version'].split('.')[1])
    for n, (lo, hi), bound, why in ALLOWANCES:
        if n == name and lo <= minor <= hi:
            return bound(truth), why
    return 0, None


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
        self.why = {}

    def add(self, check, truth, got, ok, dpct='', struth='', sgot='', sdpct='', note=None):
        def cut(v, n=44):
            v = str(v)
            return v if len(v) <= n else '...' + v[-(n - 3):]
        self.rows.append((check, cut(truth), cut(got), dpct, str(struth), str(sgot), sdpct,
                          'PASS' if ok else 'FAIL'))
        if note:
            self.notes.append('%s: %s' % (check, note))
            self.why[len(self.rows) - 1] = note
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

def run_pyheap(pyheap, sub, core, extra, t):
    """Runs `pyheap SUB --json [EXTRA] CORE`; exit status 0 required.
    Returns the parsed JSON (also on exit 3, so that the other checks still
    show what is wrong) or None."""
    argv = [sub, '--json'] + list(extra) + [core]
    try:
        rc, out, err = pyheapcli.run(pyheap, argv)
    except pyheapcli.PyheapError as e:
        t.add('%s: runs' % sub, 'exit 0', 'error', False, note=str(e))
        return None
    if rc not in (0, 3):
        t.add('%s: exit status' % sub, 0, rc, False,
              note='`pyheap %s` stderr:\n%s' % (' '.join(argv), err.rstrip()))
        return None
    t.add('%s: exit status' % sub, 0, rc, rc == 0,
          note=None if rc == 0 else 'warnings on a clean core: %s' % pyheapcli.warnings_of(err))
    try:
        return json.loads(out)
    except ValueError as e:
        t.add('%s: JSON parses' % sub, 'JSON', 'garbage', False,
              note='%s; stdout starts %r; stderr:\n%s' % (e, out[:200], err.rstrip()))
        return None


def check_info(info, truth, gcs, ms, t):
    t.add('info: python_version', truth['version'], info.get('python_version'),
          info.get('python_version') == truth['version'])
    t.add('info: pid', truth['pid'], info.get('pid'), info.get('pid') == truth['pid'])
    exe = info.get('executable')
    # in a chroot the core names the host path: CHROOT + sys.executable
    t.add('info: executable', truth['executable'], exe,
          isinstance(exe, str) and (exe == truth['executable'] or
                                    exe.endswith('/' + truth['executable'].lstrip('/'))))

    # threads
    th = truth['threads']
    tasks = sorted(x.get('tid') for x in info.get('threads', []))
    t.add('info: threads (OS tids)', ' '.join(map(str, th['tasks'])), ' '.join(map(str, tasks)),
          tasks == th['tasks'])
    pyt = info.get('python_threads', [])
    want_ids = sorted(x['ident'] for x in th['python'])
    got_ids = []
    for x in pyt:
        try:
            got_ids.append(int(str(x.get('thread_id')), 0))
        except ValueError:
            got_ids.append(x.get('thread_id'))
    got_ids.sort(key=str)
    want_ids.sort(key=str)
    t.add('info: python threads (idents)', ' '.join('%#x' % i for i in want_ids),
          ' '.join('%#x' % i if isinstance(i, int) else str(i) for i in got_ids),
          got_ids == want_ids)
    minor = int(truth['version'].split('.')[1])
    want_nat = sorted(x['native_id'] for x in th['python'])
    got_nat = sorted((x.get('native_id') or 0) for x in pyt)
    if minor >= 11:
        t.add('info: python threads (native ids)', ' '.join(map(str, want_nat)),
              ' '.join(map(str, got_nat)), got_nat == want_nat)
    else:
        # 3.8 - 3.10 thread states have no native_thread_id: nothing to read
        t.add('info: python threads (native ids: none before 3.11)', 'none claimed or ' +
              ' '.join(map(str, want_nat)), ' '.join(map(str, got_nat)),
              all(g == 0 for g in got_nat) or got_nat == want_nat)

    # GC state, exact (freeze.py: read at the stop, tolerance 0)
    g = info.get('gc') or {}
    gens = g.get('generations') or []

    def gen(key):
        return [x.get(key) for x in gens]
    if gcs.get('garbage_after_truth'):
        t.add('truth: no garbage made after the snapshot', 0, gcs['garbage_after_truth'], False,
              note='a harness error: the core holds cyclic garbage that no truth counts')
    t.add('info: gc known', True, g.get('known'), g.get('known') is True)
    t.add('info: gc enabled', gcs['enabled'], g.get('enabled'), g.get('enabled') == gcs['enabled'])
    for key, name in (('thresholds', 'threshold'), ('counts', 'count'),
                      ('generation_objects', 'objects')):
        want, got = gcs[key], gen(name)
        t.add('info: gc %s' % key, '/'.join(map(str, want)), '/'.join(map(str, got)), got == want)
    t.add('info: gc permanent objects', gcs['permanent_objects'], g.get('permanent_objects'),
          g.get('permanent_objects') == gcs['permanent_objects'])
    gsum = sum(gcs['generation_objects'])
    t.add('info: gc_objects == generations\' sum', gsum, info.get('gc_objects'),
          info.get('gc_objects') == gsum)

    # malloc totals
    if ms is not None:
        t.add('info: arenas', ms['arenas'], info.get('arenas'), info.get('arenas') == ms['arenas'])
        pools = sum(c['pools'] for c in ms['classes'].values())
        t.add('info: pools', pools, info.get('pools'), info.get('pools') == pools)
        blocks = sum(c['used'] for c in ms['classes'].values())
        t.add('info: blocks (in use)', blocks, info.get('blocks'), info.get('blocks') == blocks)


def check_config(info, extra, t):
    """The configuration took effect: --debug-dir gave DWARF, --no-dwarf
    none, --pool-scan the pool scan (else a configuration would silently
    test another)."""
    src = info.get('offsets_source')
    if '--debug-dir' in extra:
        t.add('info: offsets_source with --debug-dir', 'dwarf', src, src == 'dwarf')
    if '--no-dwarf' in extra:
        t.add('info: offsets_source with --no-dwarf', 'not dwarf', src,
              isinstance(src, str) and src != 'dwarf')
    if '--pool-scan' in extra:
        t.add('info: arenas_found_by with --pool-scan', 'pool_scan', info.get('arenas_found_by'),
              info.get('arenas_found_by') == 'pool_scan')


def check_totals(info, types_, t):
    if info is None or types_ is None:
        return
    t.add('info: objects == types total_count', types_.get('total_count'), info.get('objects'),
          info.get('objects') == types_.get('total_count'))
    t.add('info: size == types total_size', types_.get('total_size'), info.get('size'),
          info.get('size') == types_.get('total_size'))


def list_objects(outdir, extra, names):
    """For a wrong count: the objects of those types that differ between the
    truth (OUTDIR/objects.txt, when the builder dumped it) and pyheap's scan
    (tests/tools/dumpobjs), a few of each, as notes."""
    tools = os.environ.get('PYHEAP_TOOLS')
    objs = os.path.join(outdir, 'objects.txt')
    if not tools or not os.path.exists(objs) or not names:
        return []
    dump = os.path.join(tools, 'dumpobjs')
    args = [a for a in extra if a in ('--no-dwarf', '--pool-scan')]
    i = 0
    while i < len(extra):
        if extra[i] == '--debug-dir' and i + 1 < len(extra):
            args += extra[i:i + 2]
            i += 1
        i += 1
    try:
        p = subprocess.run([dump] + args + [os.path.join(outdir, 'core')], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=pyheapcli.CMD_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if p.returncode != 0:
        return []
    got, want = {}, {}
    for l in p.stdout.decode(errors='replace').splitlines():
        f = l.split(None, 3)
        if len(f) == 4 and f[3] in names:
            got[int(f[0], 16)] = f[3]
    with open(objs) as fh:
        for l in fh:
            f = l.split(None, 2)
            if len(f) == 3 and f[2].strip() in names:
                want[int(f[0], 16)] = f[2].strip()
    out = []
    for n in sorted(names):
        miss = sorted(a for a, tn in want.items() if tn == n and a not in got)
        more = sorted(a for a, tn in got.items() if tn == n and a not in want)
        if miss or more:
            out.append('%s: pyheap misses %d (%s%s), finds %d the truth has not (%s%s)' % (
                n, len(miss), ' '.join('%#x' % a for a in miss[:6]), ' ...' if len(miss) > 6 else '',
                len(more), ' '.join('%#x' % a for a in more[:6]), ' ...' if len(more) > 6 else ''))
    return out


def check_types(res, truth, t, outdir, extra):
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
        ok = g[0] == want and abs(sp) <= SIZE_TOL
        t.add('types: %s (exact/2%%)' % name, want, g[0], ok,
              fmtpct(pct(g[0], want)), d['size'], g[1], fmtpct(sp),
              note=None if ok else hint(name))

    wrong = []
    for name in sorted(set(tt) | set(got), key=lambda n: (-tt.get(n, {}).get('count', 0), n)):
        if name in expected:
            continue
        d = tt.get(name, {'count': 0, 'size': 0})
        g = got.get(name, [0, 0])
        cp, sp = pct(g[0], d['count']), pct(g[1], d['size'])
        bound, why = allowance(name, truth)
        big = d['count'] >= MIN_COUNT
        if big:
            over = int(d['count'] * COUNT_TOL / 100)
            ok_c = d['count'] <= g[0] <= d['count'] + over
            label = 'types: %s count (-0/+%g%%)' % (name, COUNT_TOL)
        elif d['count'] == 0:
            ok_c = g[0] <= bound
            label = 'types: %s count (%s)' % (name, 'not in the truth, %d allowed' % bound
                                              if bound else 'INVENTED: not in the truth')
        else:
            ok_c = d['count'] <= g[0] <= d['count'] + bound
            label = 'types: %s count (%s)' % (name, '-0/+%d' % bound if bound else 'exact')
        note = None
        if not ok_c:
            wrong.append(name)
            note = 'count %+d' % (g[0] - d['count'])
            h = hint(name)
            if h:
                note += '; ' + h
        elif g[0] != d['count'] and why:
            note = '%+d allowed: %s' % (g[0] - d['count'], why)
        t.add(label, d['count'], g[0], ok_c, fmtpct(cp), note=note)
        # sizes: sum of sys.getsizeof(); compared where the same objects are
        # counted (a big type, or an exact count)
        if d['count'] and (big or g[0] == d['count']):
            ok_s = abs(sp) <= SIZE_TOL
            t.add('types: %s size (2%%)' % name, d['size'], g[1], ok_s, fmtpct(sp),
                  note=None if ok_s else 'size %s%%%s' % (
                      fmtpct(sp), '; ' + hint(name) if hint(name) else ''))
    for n in list_objects(outdir, extra, wrong[:12]):
        t.notes.append('objects: ' + n)
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


def check_free_threaded(pyheap, core, outdir, t):
    """3.13+: the same core with _Py_DebugOffsets' free_threaded flag set
    (the u64 after the cookie "xdebugpy" and the version) is refused, with
    one line that says so, and JSON's error under --json."""
    data = bytearray(open(core, 'rb').read())
    # every copy of the cookie followed by a version (3.13 and later): the
    # runtime's, and any other the core holds (a file's page, a string)
    hits, i = 0, data.find(b'xdebugpy')
    while i >= 0:
        v = int.from_bytes(data[i + 8:i + 16], 'little')
        if 0x030d0000 <= v < 0x04000000:
            data[i + 16:i + 24] = (1).to_bytes(8, 'little')
            hits += 1
        i = data.find(b'xdebugpy', i + 8)
    if not hits:
        return                       # no debug offsets before 3.13
    ft = os.path.join(outdir, 'core.free-threaded')
    with open(ft, 'wb') as f:
        f.write(data)
    del data
    try:
        r = subprocess.run([pyheap, 'info', ft], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        j = subprocess.run([pyheap, 'info', '--json', ft], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        err = r.stderr.decode(errors='replace').strip()
        try:
            je = json.loads(j.stdout.decode()).get('error', '')
        except ValueError:
            je = ''
        t.add('free-threaded core refused', 'exit 1, one line naming it',
              'exit %d: %s' % (r.returncode, err[:80]),
              r.returncode == 1 and len(err.splitlines()) == 1 and 'free-threaded' in err
              and j.returncode == 1 and 'free-threaded' in je)
    finally:
        os.unlink(ft)


def hide_after_mapping(data, addr, page=4096):
    """Rewrites the core in data so that the page after the file mapping
    holding addr is not in it: the PT_LOADs that start there lose that
    page (or go, when it is all they hold), and the NT_FILE entries that
    start there start a page later.  The end of the mapping, as NT_FILE
    gives it; None when no mapping holds addr."""
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    end = None
    for i in range(phnum):
        o = phoff + i * phentsize
        p_type, _, off, _, _, filesz, _, _ = struct.unpack_from('<IIQQQQQQ', data, o)
        if p_type != 4:
            continue
        p = off
        while p + 12 <= off + filesz:
            nsz, dsz, ntype = struct.unpack_from('<III', data, p)
            desc = p + 12 + ((nsz + 3) & ~3)
            if ntype == 0x46494c45:                      # NT_FILE
                count, = struct.unpack_from('<Q', data, desc)
                for k in range(count):
                    e = desc + 16 + 24 * k
                    start, stop, _ = struct.unpack_from('<QQQ', data, e)
                    if start <= addr < stop:
                        end = stop
                if end is not None:
                    for k in range(count):
                        e = desc + 16 + 24 * k
                        start, stop, pgoff = struct.unpack_from('<QQQ', data, e)
                        if start == end:
                            struct.pack_into('<QQQ', data, e, min(start + page, stop), stop,
                                             pgoff + 1)
            p = desc + ((dsz + 3) & ~3)
    if end is None:
        return None
    for i in range(phnum):
        o = phoff + i * phentsize
        p_type, flags, off, vaddr, paddr, filesz, memsz, align = \
            struct.unpack_from('<IIQQQQQQ', data, o)
        if p_type != 1 or vaddr != end:
            continue
        if memsz <= page:
            struct.pack_into('<I', data, o, 0)           # PT_NULL
        else:
            struct.pack_into('<IIQQQQQQ', data, o, p_type, flags, off + page, vaddr + page,
                             paddr + page if paddr else 0, max(filesz, page) - page,
                             memsz - page, align)
    return end


def check_static_type_at_end(pyheap, core, outdir, truth, extra, t):
    """A static type is a PyTypeObject, smaller than its metatype's basicsize
    (sizeof PyHeapTypeObject): one near the end of its module's data, with
    nothing readable after it, is still an object (pyenv 3.8's _struct.Struct
    lies 608 bytes before the end of its module's last page; a core where a
    locale file followed it lost the type)."""
    addr = truth.get('static_type')
    if not addr:
        print('compare: no static type lies near the end of a file mapping followed by a gap '
              'or another file here: the check with the page after it hidden is not run')
        return
    data = bytearray(open(core, 'rb').read())
    end = hide_after_mapping(data, addr)
    if end is None:
        t.add('static type at the end of readable memory', 'a mapping holds it', 'none', False)
        return
    hidden = os.path.join(outdir, 'core.hidden-page')
    with open(hidden, 'wb') as f:
        f.write(data)
    del data
    try:
        r = subprocess.run([pyheap, 'show', '--json'] + extra + [hidden, '%#x' % addr],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=pyheapcli.CMD_TIMEOUT)
        try:
            got = json.loads(r.stdout.decode()) if r.returncode in (0, 3) else {}
        except ValueError:
            got = {}
        t.add('static type %d bytes before an unreadable page' % (end - addr),
              'an object of type type',
              '%s (exit %d)' % (got.get('type') or r.stderr.decode(errors='replace').strip()[:60],
                                r.returncode),
              got.get('type') == 'type' and got.get('addr') == '%#x' % addr)
    finally:
        os.unlink(hidden)


def main(argv):
    if len(argv) == 3 and argv[1] == '--parse-mallocstats':
        with open(argv[2]) as f:
            r = parse_mallocstats(f.read())
        print(json.dumps(r, indent=1, sort_keys=True))
        return 0
    if len(argv) < 3:
        sys.stderr.write('usage: compare.py OUTDIR PYHEAP [PYHEAP OPTIONS...]\n')
        return 2
    outdir, pyheap, extra = argv[1], argv[2], argv[3:]
    core = os.path.join(outdir, 'core')
    with open(os.path.join(outdir, 'truth.json')) as f:
        truth = json.load(f)
    cfg = pyheapcli.config_name(extra)
    t = Table()
    print('compare: %s (python %s, pid %d) against %s [%s]' %
          (core, truth['version'], truth['pid'], pyheap, cfg))
    try:
        supported = pyheapcli.is_supported(pyheap, truth['version'])
    except pyheapcli.PyheapError as e:
        t.add('pyheap --version --json', 'minors', 'error', False, note=str(e))
        supported = None
    if supported is False:
        def check(name, ok, detail):
            t.add(name, 'exit 1, "not supported"', detail, ok)
        pyheapcli.check_refusal(pyheap, extra, core, truth['version'],
                                [['info', '--json', 'CORE'], ['types', '--json', 'CORE'],
                                 ['arenas', '--json', 'CORE'], ['info', 'CORE']], check)
        t.show()
        nf = t.failed()
        print('compare: %s [%s]: REFUSED (pyheap lists %s): %d checks, %d failed -> %s' %
              (truth['version'], cfg, ' '.join(pyheapcli.supported(pyheap)), len(t.rows), nf,
               'PASS' if nf == 0 else 'FAIL'))
        return 0 if nf == 0 else 1

    ms = None
    try:
        with open(os.path.join(outdir, 'mallocstats.txt')) as f:
            ms = parse_mallocstats(f.read())
    except (OSError, MallocStatsError) as e:
        t.add('mallocstats.txt parses', 'ok', 'error', False, note=str(e))
    with open(os.path.join(outdir, 'core.gc.json')) as f:
        gcs = json.load(f)

    info = run_pyheap(pyheap, 'info', core, extra, t)
    if info is not None:
        check_config(info, extra, t)
        check_info(info, truth, gcs, ms, t)
    types_ = run_pyheap(pyheap, 'types', core, extra, t)
    if types_ is not None:
        check_types(types_, truth, t, outdir, extra)
    check_totals(info, types_, t)
    arenas = run_pyheap(pyheap, 'arenas', core, extra, t)
    if arenas is not None and ms is not None:
        check_arenas(arenas, ms, t)
    if not extra:
        check_free_threaded(pyheap, core, outdir, t)
    check_static_type_at_end(pyheap, core, outdir, truth, extra, t)
    t.show()
    nf = t.failed()
    print('compare: %s [%s]: %d checks, %d failed -> %s' %
          (truth['version'], cfg, len(t.rows), nf, 'PASS' if nf == 0 else 'FAIL'))
    if nf:
        print('compare: failed: ' + '; '.join(
            '%s%s' % (r[0], ' [%s]' % t.why[i].split(';')[0].split('\n')[0][:60] if i in t.why else '')
            for i, r in enumerate(t.rows) if r[-1] == 'FAIL'))
    return 0 if nf == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
