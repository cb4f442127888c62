#!/usr/bin/python3
"""memcheck.py - `pyheap memory` against the process's own figures.

    memcheck.py INTERPRETER OUTDIR PYHEAP

Cores membuild.py (through mkcore.py) and checks:
  - the ledger: its total is the core's memory (every PT_LOAD's size), its
    top-level lines and "unexplained" add up to it, every line's children
    to the line, the mappings too; what stays unexplained is under 1%;
  - glibc's malloc against mallinfo2() taken at the freeze (arena exact;
    in_use, free, mmapped within 1%; hblks equal), every arena malloc_info()
    listed found, found through libc's symbols when libc6-dbg is installed,
    and by structure (--malloc-scan, as with a libc without symbols) with
    the same figures and the same ledger;
  - pymalloc's lines against sys._debugmallocstats();
  - owners: list item tables, bytearray and array.array data of known
    owners, str and bytes objects over 512 bytes, ctypes buffers (native,
    held by their ctypes objects), numpy arrays' data (when numpy imports);
  - threads: one stack each, and one malloc arena each;
  - fragmentation: the arenas left nearly empty are found, pinned by the
    floats kept, and the largest pinner comes with its chain;
  - smaps_rollup: what is in use is resident, what is resident is in the
    core;
  - types: owned and total bytes per type; suspects: native memory named,
    fragmentation said exactly when the figures say so.
Prints a PASS/FAIL line per check; exit 0 all passed, 1 a failure, 77 skip.
"""
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import parse_mallocstats   # noqa: E402

SKIP = 77
results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%-4s %-58s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)


def within(got, want, pct):
    return want == got or (want and abs(got - want) * 100.0 / want <= pct)


def pyheap(bin_, *args):
    r = subprocess.run([bin_] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    if r.returncode not in (0, 3):
        print('FAIL: pyheap %s: exit %d: %s' % (' '.join(args), r.returncode,
                                                  r.stderr.decode(errors='replace')[-800:]))
        sys.exit(1)
    return json.loads(r.stdout.decode())


def core_memory(path):
    """The sum of the core's PT_LOAD sizes (memsz)."""
    with open(path, 'rb') as f:
        eh = f.read(64)
        phoff, = struct.unpack_from('<Q', eh, 32)
        phentsize, phnum = struct.unpack_from('<HH', eh, 54)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    total = 0
    for i in range(phnum):
        p_type, = struct.unpack_from('<I', ph, i * phentsize)
        memsz, = struct.unpack_from('<Q', ph, i * phentsize + 40)
        if p_type == 1:
            total += memsz
    return total


def children_add_up(lines, path=''):
    bad = []
    for l in lines:
        if l['lines'] and sum(x['bytes'] for x in l['lines']) != l['bytes']:
            bad.append('%s%s' % (path, l['name']))
        bad += children_add_up(l['lines'], path + l['name'] + ' / ')
    return bad


def find_line(lines, prefix):
    for l in lines:
        if l['name'].startswith(prefix):
            return l
    return None


def chunk_of(chunks, addr):
    for c in chunks:
        a = int(c['addr'], 16)
        if a - 16 <= addr < a - 16 + c['size']:
            return c
    return None


def owners(name, items, chunks, owner, buffer=None):
    """Every item's address lies in a chunk owned so, by the item's owner."""
    bad = []
    for it in items:
        c = chunk_of(chunks, it['addr'])
        ok = c is not None and c['owner'] == owner and \
            int(c.get('owner_addr', '0x0'), 16) == it['owner'] and \
            (buffer is None or c.get('buffer') == (buffer or it.get('kind')))
        if not ok:
            bad.append('0x%x: %s' % (it['addr'], c and c.get('text')))
    check(name, not bad and items, '%d of %d%s' % (len(items) - len(bad), len(items),
                                                  ('; ' + '; '.join(bad[:3])) if bad else ''))


def libc6_dbg():
    return subprocess.run(['dpkg', '-s', 'libc6-dbg'], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def main():
    interp, out, bin_ = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    rc = subprocess.run([sys.executable, os.path.join(HERE, 'mkcore.py'), interp, out,
                         'membuild.py']).returncode
    if rc == SKIP:
        return SKIP
    if rc != 0:
        print('FAIL: mkcore.py exited %d' % rc)
        return 1
    core = os.path.join(out, 'core')
    truth = json.load(open(os.path.join(out, 'memtruth.json')))
    mi = dict((k, int(v)) for k, v in (w.split('=') for w in
                                       open(os.path.join(out, 'mallinfo2.txt')).read().split()))
    ms = parse_mallocstats(open(os.path.join(out, 'mallocstats.txt')).read())

    d = pyheap(bin_, '--json', 'memory', '--top', '0', core)
    ds = pyheap(bin_, '--json', '--malloc-scan', 'memory', '--top', '0', core)

    # ---- the ledger ----
    want = core_memory(core)
    check('ledger: total is the core\'s memory', d['total'] == want,
          'total %d, PT_LOAD sizes %d' % (d['total'], want))
    top = sum(l['bytes'] for l in d['lines'])
    check('ledger: lines + unexplained == total', top + d['unexplained'] == d['total'],
          '%d + %d vs %d' % (top, d['unexplained'], d['total']))
    bad = children_add_up(d['lines'])
    check('ledger: every line\'s children add up to it', not bad, '; '.join(bad[:3]))
    check('ledger: mappings add up to the total',
          sum(l['bytes'] for l in d['mappings']) == d['total'])
    share = 100.0 * d['unexplained'] / d['total']
    check('ledger: under 1% unexplained', share < 1.0,
          '%d bytes, %.3f%%' % (d['unexplained'], share))

    # ---- glibc malloc ----
    m = d['malloc']
    check('malloc: found', m.get('found'), m.get('note', ''))
    if libc6_dbg():
        check('malloc: found through libc\'s symbols (libc6-dbg)', m.get('found_by') == 'symbols',
              m.get('found_by'))
    mm = m.get('mallinfo2', {})
    check('malloc: arena == mallinfo2 arena', mm.get('arena') == mi['arena'],
          '%s vs %d' % (mm.get('arena'), mi['arena']))
    for key, field in (('in_use', 'uordblks'), ('free', 'fordblks'), ('mmapped', 'hblkhd')):
        check('malloc: %s within 1%% of mallinfo2 %s' % (key, field), within(m[key], mi[field], 1.0),
              '%d vs %d' % (m[key], mi[field]))
    check('malloc: hblks == mallinfo2 hblks', mm.get('hblks') == mi['hblks'],
          '%s vs %d' % (mm.get('hblks'), mi['hblks']))
    check('malloc: fastbins and tcache read (the small chunks freed)',
          mm.get('smblks', 0) >= 1 and m.get('tcache', {}).get('chunks', 0) >= 7 and
          mm.get('fsmblks') == mi['fsmblks'],
          'fastbin chunks %s, %s bytes (mallinfo2: %d); tcache %s' % (
              mm.get('smblks'), mm.get('fsmblks'), mi['fsmblks'], m.get('tcache')))
    for f in ('ordblks', 'smblks'):
        # free chunks in bins (and the tops) and in fastbins: a chunk or two
        # may move between the call and the stop
        check('malloc: %s within 2 of mallinfo2 %s' % (f, f),
              mm.get(f) is not None and abs(mm[f] - mi[f]) <= 2, '%s vs %d' % (mm.get(f), mi[f]))
    mml = find_line(d['lines'], 'glibc malloc mmapped chunks (')
    n = int(mml['name'].split('(')[1].split(')')[0]) if mml else -1
    check('malloc: mmapped chunks found == mallinfo2 hblks', n == mi['hblks'] and
          mml['bytes'] >= mi['hblkhd'], '%d chunks, %s bytes' % (n, mml and mml['bytes']))
    got = sorted(a['system_mem'] for a in m.get('arena_list', []))
    check('malloc: every arena malloc_info lists', m['arenas'] == len(truth['malloc_info']) and
          got == sorted(truth['malloc_info']),
          '%d arenas %s vs malloc_info %s' % (m['arenas'], got, sorted(truth['malloc_info'])))
    ms_ = ds['malloc']
    check('malloc --malloc-scan: found by structure', ms_.get('found_by') == 'structure',
          ms_.get('found_by'))
    same = all(ms_.get(k) == m.get(k) for k in ('arenas', 'in_use', 'free', 'mmapped', 'mallinfo2',
                                                'tcache', 'arena_list'))
    check('malloc --malloc-scan: the same figures', same,
          '' if same else '%s vs %s' % ({k: ms_.get(k) for k in ('arenas', 'in_use', 'free')},
                                        {k: m.get(k) for k in ('arenas', 'in_use', 'free')}))
    check('malloc --malloc-scan: the same ledger', ds['lines'] == d['lines'] and
          ds['unexplained'] == d['unexplained'])

    # ---- pymalloc ----
    pm = find_line(d['lines'], 'pymalloc arenas')
    used = find_line(pm['lines'], 'used blocks') if pm else None
    free = find_line(pm['lines'], 'free blocks') if pm else None
    check('pymalloc: used blocks == _debugmallocstats allocated bytes',
          used and used['bytes'] == ms['allocated_bytes'],
          '%s vs %d' % (used and used['bytes'], ms['allocated_bytes']))
    check('pymalloc: free blocks == _debugmallocstats available bytes',
          free and free['bytes'] == ms['available_bytes'],
          '%s vs %d' % (free and free['bytes'], ms['available_bytes']))
    check('pymalloc: arenas line == arenas x arena size',
          pm and pm['bytes'] == ms['arenas'] * ms['arena_size'],
          '%s vs %d x %d' % (pm and pm['bytes'], ms['arenas'], ms['arena_size']))

    # ---- owners ----
    chunks = d['chunks']
    owners('owners: buffers (list items, bytearray, array.array)', truth['buffers'], chunks,
           'buffer', buffer='')
    owners('owners: str and bytes objects over 512 bytes', [
        {'addr': o['addr'], 'owner': o['addr']} for o in truth['objects']], chunks, 'object')
    owners('owners: ctypes buffers, native, held by their objects', truth['native'], chunks,
           'native_extension_object')
    if truth.get('numpy') is not None:
        owners('owners: numpy arrays\' data', truth['numpy'], chunks, 'buffer', 'ndarray data')

    # ---- threads ----
    check('threads: every thread has its stack', d['threads'] == truth['threads'],
          '%d vs %d' % (d['threads'], truth['threads']))
    check('threads: every thread its malloc arena', m['arenas'] >= truth['threads'],
          '%d arenas, %d threads' % (m['arenas'], truth['threads']))

    # ---- fragmentation ----
    fr = d['fragmentation']
    pins = set(truth['pinners'])
    listed = [p for p in fr['pinned_arenas'] if pins & set(int(a, 16) for a in p['addrs'])]
    check('fragmentation: nearly empty arenas found', fr['nearly_empty_arenas'] >= 4,
          '%d arenas, %d bytes' % (fr['nearly_empty_arenas'], fr['nearly_empty_bytes']))
    check('fragmentation: pinned by the floats kept', listed and
          all(any(t['type'] == 'float' for t in p['types']) for p in listed),
          '%d of %d listed arenas hold a kept float' % (len(listed), len(fr['pinned_arenas'])))
    lp = fr.get('largest_pinner', {})
    check('fragmentation: the largest pinner and its chain', lp.get('root', {}).get('kind')
          not in (None, 'none'), '%s %s: %s %s' % (lp.get('type'), lp.get('addr'),
                                                  lp.get('root'), ' '.join(lp.get('chain', []))))

    # ---- smaps_rollup ----
    inuse = d['python_bytes'] + d['native_bytes']
    rss = (truth['smaps_rollup'] or {}).get('Rss')
    check('smaps_rollup: in use <= resident <= the core\'s memory',
          rss is not None and inuse <= rss <= d['total'],
          'in use %d, Rss %s, core %d' % (inuse, rss, d['total']))

    # ---- types, suspects ----
    t = pyheap(bin_, '--json', 'types', core)
    rows = dict((r['type'], r) for r in t['types'])
    lst, dq = rows.get('list', {}), rows.get('collections.deque', {})
    check('types: a list\'s owned bytes count its item tables',
          lst.get('owned_bytes', 0) >= 100 * 300 * 8, str(lst))
    check('types: a deque\'s total bytes add its blocks', dq.get('total_bytes', 0) > dq.get('size', 0),
          str(dq))
    s = pyheap(bin_, '--json', 'suspects', core)
    kinds = [x['kind'] for x in s['suspects']]
    check('suspects: native memory', 'native_memory' in kinds and
          any('ctypes' in x['summary'] for x in s['suspects'] if x['kind'] == 'native_memory'),
          '; '.join(x['summary'][:160] for x in s['suspects'] if x['kind'] == 'native_memory'))
    frag = fr['free'] * 100 >= (inuse + fr['free']) * 50
    check('suspects: fragmentation exactly when mostly free', frag == ('fragmentation' in kinds),
          'free %d, in use %d' % (fr['free'], inuse))

    if all(results):
        os.unlink(core)
    print('memcheck: %s: %d checks, %d failed' % (truth['version'], len(results),
                                                 results.count(False)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
