#!/usr/bin/python3
"""memcheck.py - `pyheap memory` against the process's own figures.

    memcheck.py OUTDIR PYHEAP [PYHEAP OPTIONS...]
    memcheck.py [--chroot DIR] INTERPRETER OUTDIR PYHEAP [PYHEAP OPTIONS...]

The first form checks the core OUTDIR/core that `mkcore.py [--chroot DIR]
INTERPRETER OUTDIR membuild.py` made with what membuild.py recorded at the
freeze (memtruth.json, malloc_info.xml, mallinfo2.txt, mallocstats.txt): what check_memory
does, once per configuration; the second makes them first, the same way
(in the chroot DIR when given).  OPTIONS is a configuration (--no-dwarf,
--pool-scan, --debug-dir DIR), given to every pyheap run.  Checks:
  - the ledger: its total is the core's memory (every PT_LOAD's size), its
    top-level lines and "unexplained" add up to it, every line's children
    to the line, the mappings too; what stays unexplained is under 1%;
  - glibc's malloc against mallinfo2() taken at the freeze (arena exact;
    in_use, free, mmapped within 1%; hblks equal), every arena malloc_info()
    listed found, found through libc's symbols when the debug file of the
    core's libc is where pyheap looks (libc6-dbg on the host, for the host's
    libc; the chroots' from libc6-dbg in distro.sh's debug dir), by
    structure where there is none (the stripped configurations), and by
    structure with --malloc-scan (as with a libc without symbols) with the same
    figures and the same ledger;
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
    fragmentation said exactly when the figures say so;
  - every run exits 0 (the core is clean: exit 3, warnings, fails).
A release `pyheap --version --json` does not list is checked for a clean
refusal instead (exit 1, one line "... not supported ...").
Prints a PASS/FAIL line per check (SKIP lines for what cannot be checked on
this core, with the reason); exit 0 all passed, 1 a failure, 77 skip.
"""
import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mkcore                           # noqa: E402
import pyheapcli                        # noqa: E402
from compare import parse_mallocstats   # noqa: E402

SKIP = 77
PAGE = 4096
results = []
WARNINGS = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%-4s %-58s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)


def within(got, want, pct):
    return want == got or (want and abs(got - want) * 100.0 / want <= pct)


class Stop(Exception):
    pass


def pyheap(bin_, extra, *args):
    rc, out, err = pyheapcli.run(bin_, list(args) + list(extra))
    if rc == 3:
        WARNINGS.append('%s: %s' % (' '.join(a for a in args if a.startswith('-') or
                                              a.isalpha()), pyheapcli.warnings_of(err, 3)))
    elif rc != 0:
        check('pyheap %s runs' % ' '.join(args[:-1]), False,
              'exit %d: %s' % (rc, err.strip()[-800:]))
        raise Stop()
    return json.loads(out)


def elf_phdrs(f):
    f.seek(0)
    eh = f.read(64)
    phoff, = struct.unpack_from('<Q', eh, 32)
    phentsize, phnum = struct.unpack_from('<HH', eh, 54)
    f.seek(phoff)
    ph = f.read(phentsize * phnum)
    # (type, offset, vaddr, filesz, memsz)
    return [struct.unpack_from('<I4xQQ8xQQ', ph, i * phentsize) for i in range(phnum)]


def notes(data):
    """(type, name, desc) of each note in a PT_NOTE segment's bytes."""
    i = 0
    while i + 12 <= len(data):
        namesz, descsz, typ = struct.unpack_from('<III', data, i)
        i += 12
        name = data[i:i + namesz].rstrip(b'\0')
        i += (namesz + 3) & ~3
        yield typ, name, data[i:i + descsz]
        i += (descsz + 3) & ~3


def core_memory(path):
    """The sum of the core's PT_LOAD sizes (memsz)."""
    with open(path, 'rb') as f:
        return sum(p[4] for p in elf_phdrs(f) if p[0] == 1)


def core_files(path):
    """The files the core's NT_FILE note names (as the host sees them: a
    chroot's files under the chroot)."""
    out = []
    with open(path, 'rb') as f:
        for p in elf_phdrs(f):
            if p[0] != 4:
                continue
            f.seek(p[1])
            for typ, name, desc in notes(f.read(p[3])):
                if typ != 0x46494c45 or name != b'CORE':
                    continue
                count, = struct.unpack_from('<Q', desc, 0)
                names = desc[16 + 24 * count:].split(b'\0')
                out += [n.decode(errors='replace') for n in names[:count]]
    return out


def build_id(path):
    """The GNU build-id of an ELF file, as hex ('' when it has none)."""
    try:
        with open(path, 'rb') as f:
            for p in elf_phdrs(f):
                if p[0] != 4:
                    continue
                f.seek(p[1])
                for typ, name, desc in notes(f.read(p[3])):
                    if typ == 3 and name == b'GNU':
                        return desc.hex()
    except OSError:
        pass
    return ''


def libc_debug_file(core, extra):
    """(the core's libc, the debug file of its build-id where pyheap looks --
    the --debug-dir, /usr/lib/debug -- or None)."""
    libc = next((f for f in core_files(core) if os.path.basename(f).startswith('libc.so')
                 or os.path.basename(f).startswith('libc-')), None)
    bid = build_id(libc) if libc else ''
    if not bid:
        return libc, None
    dirs = [extra[i + 1] for i, a in enumerate(extra[:-1]) if a == '--debug-dir']
    for d in dirs + ['/usr/lib/debug']:
        f = os.path.join(d, '.build-id', bid[:2], bid[2:] + '.debug')
        if os.path.exists(f):
            return libc, f
    return libc, None


def malloc_info_heaps(path):
    """Each arena's current system memory, from malloc_info()'s text."""
    text = open(path, errors='replace').read()
    heaps = []
    for m in re.finditer(r'<heap nr="(\d+)">(.*?)</heap>', text, re.S):
        cur = re.search(r'<system type="current" size="(\d+)"/>', m.group(2))
        heaps.append(int(cur.group(1)) if cur else 0)
    return heaps


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


def checks(out, bin_, extra):
    core = os.path.join(out, 'core')
    truth = json.load(open(os.path.join(out, 'memtruth.json')))
    if not pyheapcli.is_supported(bin_, truth['version']):
        pyheapcli.check_refusal(bin_, extra, core, truth['version'],
                                [['--json', 'memory', 'CORE'], ['memory', 'CORE'],
                                 ['types', 'CORE'], ['suspects', 'CORE']], check)
        return 'REFUSED (pyheap lists %s): ' % ' '.join(pyheapcli.supported(bin_))
    mi = dict((k, int(v)) for k, v in (w.split('=') for w in
                                       open(os.path.join(out, 'mallinfo2.txt')).read().split()))
    ms = parse_mallocstats(open(os.path.join(out, 'mallocstats.txt')).read())

    d = pyheap(bin_, extra, '--json', 'memory', '--top', '0', core)
    ds = pyheap(bin_, extra, '--json', '--malloc-scan', 'memory', '--top', '0', core)

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
    libc, dbg = libc_debug_file(core, extra)
    if dbg:
        check('malloc: found through libc\'s symbols (its debug file)',
              m.get('found_by') == 'symbols', '%s; %s' % (m.get('found_by'), dbg))
    else:
        # as on a production host: no debug file for this libc where pyheap
        # looks (the stripped configuration; the debug-dir one has it)
        check('malloc: found by structure (no debug file for %s)' % os.path.basename(libc or '?'),
              m.get('found_by') == 'structure', '%s; %s' % (m.get('found_by'), libc))
    mm = m.get('mallinfo2', {})
    check('malloc: arena == mallinfo2 arena', mm.get('arena') == mi['arena'],
          '%s vs %d' % (mm.get('arena'), mi['arena']))
    for key, field in (('in_use', 'uordblks'), ('free', 'fordblks'), ('mmapped', 'hblkhd')):
        check('malloc: %s within 1%% of mallinfo2 %s' % (key, field),
              key in m and within(m[key], mi[field], 1.0), '%s vs %d' % (m.get(key), mi[field]))
    check('malloc: hblks == mallinfo2 hblks', mm.get('hblks') == mi['hblks'],
          '%s vs %d' % (mm.get('hblks'), mi['hblks']))
    glibc = tuple(int(x) for x in truth['glibc'].split('.')[:2])
    # the small chunks freed at the freeze: 7 of each size in the thread's
    # tcache (16 on glibc 2.43: mp_.tcache_count), the rest in fastbins
    # (2.43: in the unsorted bin)
    if glibc < (2, 43):
        check('malloc: fastbins read (the small chunks freed)',
              mm.get('smblks', 0) >= 1 and mm.get('fsmblks') == mi['fsmblks'],
              'fastbin chunks %s, %s bytes (mallinfo2: %d)' % (
                  mm.get('smblks'), mm.get('fsmblks'), mi['fsmblks']))
    else:
        # glibc 2.43 has no fastbins (its malloc_state has no fastbinsY:
        # DWARF of Debian's libc6-dbg 2.43-7): the small chunks past the
        # tcache go to the unsorted bin, and mallinfo2 says smblks 0
        check('malloc: no fastbins (glibc %s has none), none read' % truth['glibc'],
              mm.get('smblks') == mi['smblks'] == 0 and mm.get('fsmblks') == mi['fsmblks'] == 0,
              'fastbin chunks %s, %s bytes (mallinfo2: %d, %d)' % (
                  mm.get('smblks'), mm.get('fsmblks'), mi['smblks'], mi['fsmblks']))
    tc = m.get('tcache', {})
    # 30 chunks of each of two sizes freed: the main thread's tcache takes
    # mp_.tcache_count of each (7; 16 from glibc 2.43, whose
    # tcache_perthread_struct is num_slots[76] + entries[76])
    per_size = 16 if glibc >= (2, 43) else 7
    check('malloc: tcache read (the small chunks freed: %d of each size at least)' % per_size,
          tc.get('structs', 0) >= 1 and tc.get('chunks', 0) >= 2 * per_size,
          'tcache %s' % tc)
    if glibc >= (2, 43):
        # and the 3008-byte chunks in a large list (tcache_max raised)
        nl = truth.get('freed_large', 0)
        want_n, want_b = 2 * 16 + nl, 16 * 48 + 16 * 112 + nl * 3008
        check('malloc: tcache large lists read (%d chunks of 3008 bytes freed)' % nl,
              nl and tc.get('chunks', 0) >= want_n and tc.get('bytes', 0) >= want_b,
              'tcache %s, at least %d chunks, %d bytes (%s)' % (
                  tc, want_n, want_b, truth.get('glibc_tunables')))
    for f in ('ordblks', 'smblks'):
        # free chunks in bins (and the tops) and in fastbins: a chunk or two
        # may move between the call and the stop
        check('malloc: %s within 2 of mallinfo2 %s' % (f, f),
              mm.get(f) is not None and abs(mm[f] - mi[f]) <= 2, '%s vs %d' % (mm.get(f), mi[f]))
    mml = find_line(d['lines'], 'glibc malloc mmapped chunks (')
    n = int(mml['name'].split('(')[1].split(')')[0]) if mml else -1
    hblkhd, drift = mi['hblkhd'], ''
    if glibc >= (2, 43) and hblkhd % PAGE:
        # glibc 2.43 counts 16 bytes too many in mp_.mmapped_mem (hblkhd) for
        # each realloc of an mmapped chunk that mremap moves or grows, and
        # never takes them back (on its own: malloc(200000), realloc to
        # 300000, free leaves hblkhd 16 over; 2.41 does not).  The chunks
        # are whole pages: the drift is what is past the last page.
        hblkhd -= hblkhd % PAGE
        drift = ' (mallinfo2 hblkhd %d less glibc %s\'s drift of %d bytes: 16 per ' \
            'mremap\'d realloc, never given back)' % (mi['hblkhd'], truth['glibc'],
                                                    mi['hblkhd'] % PAGE)
    check('malloc: mmapped chunks found == mallinfo2 hblks', n == mi['hblks'] and
          mml['bytes'] >= hblkhd, '%d chunks (mallinfo2 %d), %s bytes vs %d%s' % (
              n, mi['hblks'], mml and mml['bytes'], hblkhd, drift))
    got = sorted(a['system_mem'] for a in m.get('arena_list', []))
    heaps = sorted(malloc_info_heaps(os.path.join(out, 'malloc_info.xml')))
    check('malloc: every arena malloc_info lists', heaps and m.get('arenas') == len(heaps)
          and got == heaps, '%s arenas %s vs malloc_info %s' % (m.get('arenas'), got, heaps))
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
    st = find_line(d['lines'], 'thread stacks and TLS')
    listed = [int(x.group(1)) for x in (re.match(r'thread (\d+)', l['name'])
                                        for l in (st['lines'] if st else [])) if x]
    missing = sorted(set(truth['freeze_threads']['tasks']) - set(listed))
    check('threads: every thread has its stack', d['threads'] == truth['threads'] and not missing,
          '%d vs %d%s' % (d['threads'], truth['threads'], '; no stack line for %s (lines: %s)' % (
              missing, ', '.join('%s %d bytes' % (l['name'], l['bytes'])
                                 for l in st['lines'])) if missing and st else ''))
    check('threads: every thread its malloc arena', m.get('arenas', 0) >= truth['threads'],
          '%s arenas, %d threads' % (m.get('arenas'), truth['threads']))

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
    t = pyheap(bin_, extra, '--json', 'types', core)
    rows = dict((r['type'], r) for r in t['types'])
    lst, dq = rows.get('list', {}), rows.get('collections.deque', {})
    check('types: a list\'s owned bytes count its item tables',
          lst.get('owned_bytes', 0) >= 100 * 300 * 8, str(lst))
    check('types: a deque\'s total bytes add its blocks', dq.get('total_bytes', 0) > dq.get('size', 0),
          str(dq))
    s = pyheap(bin_, extra, '--json', 'suspects', core)
    kinds = [x['kind'] for x in s['suspects']]
    check('suspects: native memory', 'native_memory' in kinds and
          any('ctypes' in x['summary'] for x in s['suspects'] if x['kind'] == 'native_memory'),
          '; '.join(x['summary'][:160] for x in s['suspects'] if x['kind'] == 'native_memory'))
    frag = fr['free'] * 100 >= (inuse + fr['free']) * 50
    check('suspects: fragmentation exactly when mostly free', frag == ('fragmentation' in kinds),
          'free %d, in use %d' % (fr['free'], inuse))

    check('every run exit 0 (clean core)', not WARNINGS, '; '.join(WARNINGS[:4]))
    return ''


def main(argv):
    got = mkcore.checker_args(argv, __doc__.split('\n\n')[1], 'membuild.py')
    if isinstance(got, int):
        return got
    out, bin_, extra = got
    truth = json.load(open(os.path.join(out, 'memtruth.json')))
    try:
        refused = checks(out, bin_, extra)
    except (Stop, pyheapcli.PyheapError) as e:
        if str(e):
            check('pyheap runs', False, str(e))
        refused = ''
    print('memcheck: %s (glibc %s) [%s]: %s%d checks, %d failed' % (
        truth['version'], truth['glibc'], pyheapcli.config_name(extra), refused, len(results),
        results.count(False)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
