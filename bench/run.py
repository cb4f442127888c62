#!/usr/bin/python3
"""run.py - pyheap's benchmark: cores of about 1M, 5M and 20M objects.

    run.py [--pyheap PATH] [--interp PYTHON3.11] [--sizes 1M,5M,20M]
           [--runs 5] [--out BENCHMARKS.md] [--cache build/bench]
           [--baseline FILE] [--save FILE]

1. Cores (cached: made only when missing).  For each size, CACHE/SIZE/ gets
   `core` and `live.json`: the interpreter runs bench/heapgen.py, which builds
   the heap, times collections.Counter(type(o) for o in gc.get_objects())
   inside the live process, writes live.json and stops itself (SIGSTOP);
   this script takes the core with `gcore` and kills the process.
2. Measurements, on each core: `pyheap info`, `types` and `arenas` (the
   scan), `refs` (the whole reference graph and the rebuilt refcounts),
   `path --type __main__.Event` (graph plus a breadth-first search from the
   roots), `top` (graph plus dominator tree, retained sizes and chains),
   `memory` (the ledger) and `report -o SIZE/report.html` (the HTML report,
   then opened in headless Chromium: the time until its script is done);
   one warm-up run then the median of --runs runs, of wall time and peak RSS
   (GNU time's %M, which counts the pages of the mapped core that were
   touched).  The floor is one sequential read of the core from the page
   cache (`cat core > /dev/null` after a warm-up read).  Then issue 14's
   targets (--no-capture leaves them out): `types` on the largest core
   compressed with zstd, and `dump` of a 1 GiB process.
3. Writes --out (BENCHMARKS.md): the table, the ratios pyheap/floor and
   pyheap/interpreter, the growth from size to size, the machine and the
   date.  --save writes the raw numbers as JSON; --baseline FILE (such a
   JSON, e.g. from before a change) adds a before/after table.

Exit status: 0, or 1 when a core could not be made or pyheap failed.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIZES = {'1M': 1000000, '5M': 5000000, '20M': 20000000}
# Bytes of disk a core takes per object (measured on 3.11: ~62), with room.
CORE_BYTES_PER_OBJECT = 70
COMMANDS = ('info', 'types', 'arenas', 'refs', 'path', 'top', 'memory', 'report')
# extra arguments of a command (before the core)
COMMAND_ARGS = {'path': ['--type', '__main__.Event']}
# written beside each core (build/bench/SIZE/report.html), then opened in Chromium
REPORT_FILE = 'report.html'


def commands_of(res):
    """The commands measured on every core of res (an older --save may lack
    some)."""
    return [c for c in COMMANDS if all(c in v['pyheap'] for v in res['cores'].values())]
GNU_TIME = '/usr/bin/time'


def log(msg):
    sys.stderr.write('bench: %s\n' % msg)
    sys.stderr.flush()


def die(msg):
    log('error: ' + msg)
    sys.exit(1)


def default_interp():
    cands = []
    try:
        root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True).stdout.strip()
        if root:
            cands += sorted(glob.glob(os.path.join(root, 'versions/3.11.*/bin/python3.11')))
    except OSError:
        pass
    cands += sorted(glob.glob(os.path.expanduser('~/.pyenv/versions/3.11.*/bin/python3.11')))
    cands += ['/root/.pyenv/versions/3.11.7/bin/python3.11']
    for c in cands:
        if os.access(c, os.X_OK):
            return c
    return None


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(')') + 2]


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def make_core(interp, n, outdir):
    """Runs heapgen.py, cores it, kills it.  Returns the core's path."""
    core = os.path.join(outdir, 'core')
    live = os.path.join(outdir, 'live.json')
    if os.path.exists(core) and os.path.exists(live):
        return core
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):
        if name.startswith('core') or name.startswith('live.json'):
            os.unlink(os.path.join(outdir, name))
    need = n * CORE_BYTES_PER_OBJECT + (64 << 20)
    if free_bytes(outdir) < need:
        die('%s: %d MiB free, a core of %d objects needs about %d MiB'
            % (outdir, free_bytes(outdir) >> 20, n, need >> 20))
    if not shutil.which('gcore'):
        die('gcore not found (it comes with gdb: sh scripts/install-deps.sh)')
    env = dict(os.environ)
    for k in ('PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'PYTHONHOME',
              'PYTHONPATH', 'PYTHONSTARTUP'):
        env.pop(k, None)
    log('building a heap of ~%d objects with %s' % (n, interp))
    t0 = time.monotonic()
    logf = open(os.path.join(outdir, 'heapgen.log'), 'wb')
    proc = subprocess.Popen([interp, os.path.join(HERE, 'heapgen.py'), str(n), outdir],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env)
    try:
        while proc_state(proc.pid) != 'T':
            if proc.poll() is not None:
                die('heapgen.py exited with status %d (see %s/heapgen.log)'
                    % (proc.returncode, outdir))
            if time.monotonic() - t0 > 900:
                die('heapgen.py did not stop within 900 s')
            time.sleep(0.2)
        log('heap built in %.1f s; taking the core' % (time.monotonic() - t0))
        t1 = time.monotonic()
        r = subprocess.run(['gcore', '-o', os.path.join(outdir, 'core'), str(proc.pid)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        taken = os.path.join(outdir, 'core.%d' % proc.pid)
        if r.returncode != 0 or not os.path.exists(taken):
            die('gcore failed (status %d): %s' % (r.returncode, (r.stderr or r.stdout)[-400:]))
        os.rename(taken, core)
        log('core: %d MiB in %.1f s' % (os.path.getsize(core) >> 20, time.monotonic() - t1))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        logf.close()
    if not os.path.exists(live):
        die('%s missing' % live)
    return core


def timed(argv, stdout=subprocess.DEVNULL):
    """Runs argv under GNU time; returns (wall seconds, %e seconds, peak RSS
    KiB, exit status).  Wall time is measured here too (perf_counter, finer
    than %e's hundredths)."""
    tf = os.path.join(ROOT, 'build', 'bench', '.time')
    t = time.perf_counter()
    r = subprocess.run([GNU_TIME, '-f', '%e %M %U %S', '-o', tf] + argv,
                       stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    with open(tf) as f:
        last = f.read().strip().splitlines()[-1].split()
    return wall, float(last[0]), int(last[1]), float(last[2]) + float(last[3]), r.returncode


def alternating(cases, runs, ok=(0, 3)):
    """cases: [(name, argv)], each run once to warm up (page cache,
    binaries), then `runs` rounds of all of them in turn (so that the
    machine's drift hits each alike).  Returns {name: stats}: medians of wall
    time, GNU time's %e, peak RSS and CPU time, the best wall time, every
    run's figures, and the highest load average seen."""
    for _, argv in cases:
        timed(argv)
    got = {name: [] for name, _ in cases}
    for _ in range(runs):
        for name, argv in cases:
            load = os.getloadavg()[0]
            w, e, m, c, rc = timed(argv)
            if rc not in ok:
                die('%s exited with status %d' % (' '.join(argv), rc))
            got[name].append((w, e, m, c, load))
    out = {}
    for name, v in got.items():
        walls, es, rss, cpu, loads = (list(x) for x in zip(*v))
        out[name] = {'wall': statistics.median(walls), 'best': min(walls),
                     'e': statistics.median(es), 'rss_kib': statistics.median(rss),
                     'cpu': statistics.median(cpu), 'walls': walls, 'rss_all': rss,
                     'cpus': cpu, 'load': max(loads)}
    return out


def measure(argv, runs, ok=(0,)):
    return alternating([('', argv)], runs, ok)['']


def heap_facts(pyheap, core):
    r = subprocess.run([pyheap, '--json', '--no-progress', '-q', 'info', core],
                       capture_output=True, text=True)
    if r.returncode not in (0, 3):
        die('pyheap info %s: status %d: %s' % (core, r.returncode, r.stderr.strip()))
    j = json.loads(r.stdout)
    return {k: j.get(k) for k in ('objects', 'gc_objects', 'blocks', 'arenas', 'pools',
                                   'size', 'python_version')}


def machine():
    model = '?'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {'nproc': os.cpu_count(), 'cpu': model, 'mem_bytes': mem,
            'kernel': platform.release(),
            'date': datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}


def git_rev():
    r = subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'],
                       capture_output=True, text=True)
    rev = r.stdout.strip() or '?'
    # the report itself does not make the code dirty
    d = subprocess.run(['git', '-C', ROOT, 'status', '--porcelain', '--untracked-files=no',
                        '--', '.', ':!BENCHMARKS.md'], capture_output=True, text=True)
    return rev + ('+dirty' if d.stdout.strip() else '')


def open_page(path, runs):
    """Opens the report in headless Chromium `runs` times (after one warm-up)
    with tests/integration/reportcheck.py --open; the median time until its
    script is done, and the page's size."""
    check = os.path.join(ROOT, 'tests', 'integration', 'reportcheck.py')
    ready = []
    for i in range(runs + 1):
        r = subprocess.run([sys.executable, check, '--open', path], capture_output=True, text=True)
        try:
            j = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            die('reportcheck.py --open %s: %s' % (path, (r.stderr or r.stdout)[-400:]))
        if r.returncode != 0 or j.get('ready_ms') is None:
            die('%s did not open cleanly in Chromium: %s' % (path, j.get('problems')))
        if i:
            ready.append(j['ready_ms'])
    return {'ready_ms': statistics.median(ready), 'ready_all': ready, 'opens': runs,
            'bytes': os.path.getsize(path)}


# ---- capture (issue 14): compressed cores and `dump` ----

def compressed_cores(core):
    """core.zst as `zstd FILE` writes it (the size in the frame header) and
    core.stream.zst as systemd-coredump writes it (piped: no size), both at
    zstd's default level, made once beside the core."""
    if not shutil.which('zstd'):
        die('zstd not found (sh scripts/install-deps.sh)')
    z, st = core + '.zst', core + '.stream.zst'
    if not os.path.exists(z):
        log('compressing %s' % core)
        subprocess.run(['zstd', '-q', '-f', '-T0', core, '-o', z + '.tmp'], check=True)
        os.rename(z + '.tmp', z)
    if not os.path.exists(st):
        with open(core, 'rb') as src, open(st + '.tmp', 'wb') as dst:
            subprocess.run(['zstd', '-q', '-T0', '-c'], stdin=src, stdout=dst, check=True)
        os.rename(st + '.tmp', st)
    return z, st


def capture_zst(pyheap, core, runs):
    """Target: `types` on a .zst core takes at most `zstd -d` to /dev/null
    plus `types` on the raw core."""
    z, st = compressed_cores(core)
    t = [pyheap, '--no-progress', '-q', 'types']
    res = alternating([('zstd -d', ['zstd', '-q', '-d', '-c', z]),
                       ('types raw', t + [core]),
                       ('types .zst', t + [z]),
                       ('types .zst streamed', t + [st])], runs)
    res['zst_bytes'] = os.path.getsize(z)
    return res


DUMP_PROG = r"""
import os, signal, sys
n = int(sys.argv[1])
hold = [bytearray(b'\x5a') * (1 << 20) for _ in range(n)]
print(os.getpid(), flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def capture_dump(pyheap, interp, cache, runs, mib_=1024):
    """Target: `dump` of a 1 GB process takes at most 1.5 times writing 1 GB
    to the same disk.  The process holds 1 GiB of written pages and is
    stopped; `dd` writes as many bytes as the dump has, to the same
    directory.  Measured twice: as `dump` runs (into the page cache, no
    fsync), and durable (each followed by an fsync of its file)."""
    proc = subprocess.Popen([interp, '-c', DUMP_PROG, str(mib_)], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        pid = int(proc.stdout.readline())
        t0 = time.monotonic()
        while proc_state(pid) != 'T':
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                die('the 1 GiB process did not stop')
            time.sleep(0.1)
        out = os.path.join(cache, 'dump.core')
        ddout = os.path.join(cache, 'dd.out')
        r = subprocess.run([pyheap, 'dump', str(pid), '-o', out], capture_output=True,
                           text=True)
        if r.returncode != 0:
            die('pyheap dump: %s' % r.stderr.strip())
        size = os.path.getsize(out)
        count = (size + (1 << 20) - 1) >> 20
        dd = ['dd', 'if=/dev/zero', 'of=' + ddout, 'bs=1M', 'count=%d' % count, 'status=none']
        dump = [pyheap, 'dump', str(pid), '-o', out]
        sh = lambda argv, f: ['sh', '-c', '"$@" && sync "%s" && rm -f "%s"' % (f, f), 'sh'] + argv
        rm = lambda argv, f: ['sh', '-c', '"$@" && rm -f "%s"' % f, 'sh'] + argv
        res = alternating([('dd', rm(dd, ddout)), ('dump', rm(dump, out)),
                           ('dd + fsync', sh(dd, ddout)), ('dump + fsync', sh(dump, out))], runs)
        res['dump_bytes'] = size
        res['process_mib'] = mib_
        return res
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        for f in ('dump.core', 'dd.out'):
            try:
                os.unlink(os.path.join(cache, f))
            except OSError:
                pass


def runs_table(res, keys, rss):
    """The lines of a table of alternating() results, a row per key."""
    L = ['| run | wall s (median) | best s | CPU s |%s' % (' peak RSS MiB |' if rss else ''),
         '| --- | ---: | ---: | ---: |%s' % (' ---: |' if rss else '')]
    for k in keys:
        v = res[k]
        L.append('| `%s` | %s | %s | %s |%s' % (k, fmt_s(v['wall']), fmt_s(v['best']),
                                             fmt_s(v['cpu']),
                                             ' %.0f |' % mib(v['rss_kib']) if rss else ''))
    return L + ['']


def capture_report(cap):
    L = ['## Capture: compressed cores and `dump`', '']
    if cap.get('rev'):
        L.append('Issue 14\'s two targets, measured with pyheap %s on %s.' % (cap['rev'], cap['date']))
        L.append('')
    z = cap.get('zst')
    if z:
        tgt = z['zstd -d']['wall'] + z['types raw']['wall']
        L.append('The %s core (%.0f MiB) compressed with zstd (%.0f MiB), once as `zstd FILE` '
                 'writes it (the size in its header) and once piped, as systemd-coredump '
                 'writes it (no size). Medians of %d alternating rounds, best run beside.'
                 % (z['size'], z['core_bytes'] / 2**20, z['zst_bytes'] / 2**20, z['runs']))
        L.append('')
        L += runs_table(z, ('zstd -d', 'types raw', 'types .zst', 'types .zst streamed'), True)
        for k in ('types .zst', 'types .zst streamed'):
            L.append('Target: `%s` ≤ `zstd -d` + `types raw` = %.2f s: **%.2f s** median, '
                     '%.3f× (%s).' % (k, tgt, z[k]['wall'], z[k]['wall'] / tgt,
                                     'met' if z[k]['wall'] <= tgt else 'missed'))
        L.append('')
    d = cap.get('dump')
    if d:
        L.append('`pyheap dump` of a stopped process holding %d MiB of written memory '
                 '(%.0f MiB written), against `dd` writing as many bytes to the same '
                 'directory. Medians of %d alternating rounds.'
                 % (d['process_mib'], d['dump_bytes'] / 2**20, d['runs']))
        L.append('')
        L += runs_table(d, ('dd', 'dump', 'dd + fsync', 'dump + fsync'), False)
        for a, b in (('dump', 'dd'), ('dump + fsync', 'dd + fsync')):
            r = d[a]['wall'] / d[b]['wall']
            L.append('Target: `%s` ≤ 1.5 × `%s`: %.2f s against %.2f s, **%.2f×** (%s).'
                     % (a, b, d[a]['wall'], d[b]['wall'], r, 'met' if r <= 1.5 else 'missed'))
        L.append('')
    return L


# ---- the report ----

def mib(kib):
    return kib / 1024.0


def fmt_s(x):
    return '%.3f' % x if x < 10 else '%.2f' % x


def growth_table(res, sizes, key):
    """Rows: from size a to size b: object ratio, and the ratio of key."""
    out = []
    for a, b in zip(sizes, sizes[1:]):
        ra, rb = res['cores'][a], res['cores'][b]
        objs = rb['facts']['objects'] / ra['facts']['objects']
        out.append((a, b, objs, [rb['pyheap'][c][key] / ra['pyheap'][c][key]
                                 for c in commands_of(res)]))
    return out


def report(res, base, sizes):
    m = res['machine']
    cmds = commands_of(res)
    L = []
    L.append('# Benchmarks')
    L.append('')
    L.append('`make bench` (mk/bench.mk, bench/run.py) builds heaps of about 1M, 5M and 20M '
             'objects in CPython %s (bench/heapgen.py: instances of two classes with '
             'their attributes, ints, floats, short strs, lists, tuples, dicts and bytes), '
             'cores them with gcore (cached under build/bench/) and runs `pyheap info`, '
             '`types` and `arenas` (the scan), `refs` (the whole reference graph and the '
             'rebuilt refcounts), `path --type __main__.Event` (graph plus a breadth-first '
             'search from the roots) and `top` (graph plus the dominator tree, retained sizes '
             'by object and by type, and the chains), `memory` (the ledger: the scan, glibc\'s '
             'malloc and every mapping) and `report -o FILE.html` (the HTML report: all of '
             'the above and the back-reference graphs) on each core: one warm-up run, then the '
             'median of %d runs '
             'of the wall time and the peak RSS (GNU time `%%M`; it includes the pages of '
             'the mapped core that pyheap touched).'
             % (res['python'], res['runs']))
    L.append('')
    L.append('- **floor**: one sequential read of the core from the page cache '
             '(`cat core > /dev/null`, warm, median of %d).' % res['runs'])
    L.append('- **interpreter**: the live process timing '
             '`collections.Counter(type(o) for o in gc.get_objects())` just before it '
             'froze (best of 3) — what Python itself needs for a by-type count, and it '
             'only sees GC-tracked objects.')
    L.append('')
    L.append('Machine: %d CPUs, %s, %.1f GiB RAM, Linux %s. pyheap %s (`%s`, -O2). Date: %s.'
             % (m['nproc'], m['cpu'], m['mem_bytes'] / 2**30, m['kernel'], res['rev'],
                res['pyheap_rel'], m['date']))
    loads = [p.get('load', 0) for c in res['cores'].values() for p in c['pyheap'].values()]
    if loads:
        L.append('')
        L.append('Highest 1-minute load average seen during the runs: %.1f on %d CPUs%s'
                 % (max(loads), m['nproc'],
                    ' — the machine was shared, so wall times are inflated; CPU time '
                    '(user+sys) is the steadier figure.' if max(loads) > m['nproc'] * 0.75 else '.'))
    L.append('')
    L.append('## Cores')
    L.append('')
    L.append('| heap | core | objects | GC objects | pymalloc blocks | arenas | live `len(gc.get_objects())` |')
    L.append('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for s in sizes:
        c = res['cores'][s]
        f = c['facts']
        L.append('| %s | %.0f MiB | %s | %s | %s | %s | %s |'
                 % (s, c['core_bytes'] / 2**20, format(f['objects'], ','),
                    format(f['gc_objects'], ','), format(f['blocks'], ','),
                    format(f['arenas'], ','), format(c['live']['gc_objects'], ',')))
    L.append('')
    L.append('## Time and memory')
    L.append('')
    L.append('| heap | command | wall s (median) | best s | CPU s (user+sys) | peak RSS MiB | RSS − core MiB | pyheap / floor | pyheap / interpreter |')
    L.append('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for s in sizes:
        c = res['cores'][s]
        fl = c['floor']['wall']
        it = c['live']['counter_seconds']
        L.append('| %s | floor (`cat`) | %s | %s | %s | | | 1.0 | |'
                 % (s, fmt_s(fl), fmt_s(c['floor'].get('best', fl)), fmt_s(c['floor'].get('cpu', 0))))
        L.append('| %s | interpreter (Counter) | %s | | | | | | 1.0 |' % (s, fmt_s(it)))
        for cmd in cmds:
            p = c['pyheap'][cmd]
            L.append('| %s | `%s` | %s | %s | %s | %.0f | %.0f | %.1f | %.1f |'
                     % (s, cmd, fmt_s(p['wall']), fmt_s(p.get('best', p['wall'])),
                        fmt_s(p.get('cpu', 0)), mib(p['rss_kib']),
                        mib(p['rss_kib']) - c['core_bytes'] / 2**20,
                        p['wall'] / fl, p['wall'] / it))
    L.append('')
    big = sizes[-1]
    if big in res['cores']:
        c = res['cores'][big]
        t = c['pyheap']['types']
        ok_t = t['wall'] <= 1.5
        ok_m = t['rss_kib'] <= 1.5 * 2**20
        L.append('Target for the %s core (%.2f GiB): `types` ≤ 1.5 s and peak RSS ≤ 1.5 GiB: '
                 '**%.2f s** median (%s; best run %.2f s), **%.2f GiB** (%s).'
                 % (big, c['core_bytes'] / 2**30, t['wall'], 'met' if ok_t else 'missed',
                    t.get('best', t['wall']), t['rss_kib'] / 2**20, 'met' if ok_m else 'missed'))
        L.append('')
        mem = c['pyheap'].get('memory')
        if mem:
            r = mem['wall'] / t['wall']
            L.append('Target for `memory` on the %s core: at most twice `types`: **%.2f s** median '
                     'against %.2f s, %.2f× (%s).'
                     % (big, mem['wall'], t['wall'], r, 'met' if r <= 2 else 'missed'))
            L.append('')
        rp, tp = c['pyheap'].get('report'), c['pyheap'].get('top')
        if rp and tp and c.get('report_page'):
            pg = c['report_page']
            r = rp['wall'] / tp['wall']
            ok = r <= 2 and pg['bytes'] < 10 << 20 and pg['ready_ms'] < 3000
            L.append('Target for `report` on the %s core: at most twice `top`, under 10 MB, open '
                     'in a browser in under 3 s: **%.2f s** median against %.2f s (%.2f×), '
                     '%.1f MB, ready in headless Chromium in **%.0f ms** (median of %d opens, '
                     'from navigation to the page\'s script done; tests/integration/'
                     'reportcheck.py --open) (%s).'
                     % (big, rp['wall'], tp['wall'], r, pg['bytes'] / 1e6, pg['ready_ms'],
                        pg['opens'], 'met' if ok else 'missed'))
            L.append('')
        if tp:
            L.append('Target for the full reference graph plus dominators: ≤ 10 s. `top` does '
                     'that and more (the scan, retained sizes by object and by type, a '
                     'breadth-first search for the chains): **%.2f s** median (%s; best run %.2f s), '
                     '%.2f GiB peak RSS.'
                     % (tp['wall'], 'met' if tp['wall'] <= 10 else 'missed',
                        tp.get('best', tp['wall']), tp['rss_kib'] / 2**20))
            L.append('')
    if len(sizes) > 1:
        L.append('## Growth')
        L.append('')
        L.append('Per million objects, and the factor from one size to the next against the '
                 'factor in objects (linear growth: the two factors are equal).')
        L.append('')
        L.append('| heap | ' + ' | '.join('`%s` s / M objects' % c for c in cmds) +
                 ' | ' + ' | '.join('`%s` MiB / M objects' % c for c in cmds) + ' |')
        L.append('| --- |' + ' ---: |' * (2 * len(cmds)))
        for s in sizes:
            c = res['cores'][s]
            mo = c['facts']['objects'] / 1e6
            L.append('| %s | ' % s +
                     ' | '.join('%.3f' % (c['pyheap'][k]['wall'] / mo) for k in cmds) + ' | ' +
                     ' | '.join('%.1f' % (mib(c['pyheap'][k]['rss_kib']) / mo) for k in cmds) +
                     ' |')
        L.append('')
        L.append('| step | objects × | ' + ' | '.join('`%s` time ×' % c for c in cmds) +
                 ' | ' + ' | '.join('`%s` RSS ×' % c for c in cmds) + ' |')
        L.append('| --- | ---: |' + ' ---: |' * (2 * len(cmds)))
        tg = growth_table(res, sizes, 'wall')
        mg = growth_table(res, sizes, 'rss_kib')
        for (a, b, o, tr), (_, _, _, mr) in zip(tg, mg):
            L.append('| %s → %s | %.2f | ' % (a, b, o) + ' | '.join('%.2f' % x for x in tr) +
                     ' | ' + ' | '.join('%.2f' % x for x in mr) + ' |')
        L.append('')
    if base:
        L.append('## Before and after')
        L.append('')
        L.append('Baseline: pyheap %s, measured %s (same cores, same machine).'
                 % (base.get('rev', '?'), base['machine']['date']))
        L.append('')
        L.append('| heap | command | wall s before | wall s after | CPU s before | CPU s after | CPU speed-up | RSS MiB before | RSS MiB after |')
        L.append('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
        for s in sizes:
            if s not in base['cores']:
                continue
            for cmd in cmds:
                if cmd not in base['cores'][s]['pyheap']:
                    continue
                b = base['cores'][s]['pyheap'][cmd]
                a = res['cores'][s]['pyheap'][cmd]
                L.append('| %s | `%s` | %s | %s | %s | %s | %.1f× | %.0f | %.0f |'
                         % (s, cmd, fmt_s(b['wall']), fmt_s(a['wall']), fmt_s(b.get('cpu', 0)),
                            fmt_s(a.get('cpu', 0)), b.get('cpu', 0) / max(a.get('cpu', 0), 1e-3),
                            mib(b['rss_kib']), mib(a['rss_kib'])))
        L.append('')
    if res.get('capture'):
        L += capture_report(res['capture'])
    if res.get('notes'):
        L.append('## Notes')
        L.append('')
        for n in res['notes']:
            L.append('- ' + n)
        L.append('')
    L.append('Reproduce: `make BUILD=build-bench bench` (cores are reused from build/bench/; '
             'delete that directory to make new ones).')
    L.append('')
    return '\n'.join(L)


def load_extras(a, res):
    """Puts --notes into res; returns the --baseline results, or None."""
    if a.notes and os.path.exists(a.notes):
        with open(a.notes) as f:
            res['notes'] = [l.rstrip('\n') for l in f if l.strip()]
    if not a.baseline:
        return None
    with open(a.baseline) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description='pyheap benchmark')
    ap.add_argument('--pyheap', default=os.path.join(ROOT, 'build', 'pyheap'))
    ap.add_argument('--interp', default=None)
    ap.add_argument('--sizes', default='1M,5M,20M')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--out', default=os.path.join(ROOT, 'BENCHMARKS.md'))
    ap.add_argument('--cache', default=os.path.join(ROOT, 'build', 'bench'))
    ap.add_argument('--baseline', default=None)
    ap.add_argument('--save', default=None)
    ap.add_argument('--notes', default=None, help='a file of extra notes, one a line')
    ap.add_argument('--no-capture', action='store_true',
                    help='leave out the .zst cores and `dump` (issue 14\'s targets)')
    ap.add_argument('--capture-only', action='store_true',
                    help='measure the capture targets only; the rest of the report comes '
                         'from the --save file of an earlier run')
    ap.add_argument('--report-only', default=None, metavar='RESULTS',
                    help='rewrite --out from a --save file, measuring nothing')
    a = ap.parse_args()
    if a.report_only:
        with open(a.report_only) as f:
            res = json.load(f)
        base = load_extras(a, res)
        sizes = [s for s in SIZES if s in res['cores']]
        with open(a.out, 'w') as f:
            f.write(report(res, base, sizes))
        log('wrote %s' % a.out)
        return 0

    sizes = [s for s in a.sizes.split(',') if s]
    for s in sizes:
        if s not in SIZES:
            die('unknown size %s (one of %s)' % (s, ', '.join(SIZES)))
    if not os.access(GNU_TIME, os.X_OK):
        die('%s not found: install the Debian package "time"' % GNU_TIME)
    pyheap = os.path.abspath(a.pyheap)
    if not os.access(pyheap, os.X_OK):
        die('%s not built' % pyheap)
    interp = a.interp or default_interp()
    os.makedirs(a.cache, exist_ok=True)

    cores = {}
    for s in sizes:
        d = os.path.join(a.cache, s)
        if not (os.path.exists(os.path.join(d, 'core')) and
                os.path.exists(os.path.join(d, 'live.json'))):
            if not interp or not os.access(interp, os.X_OK):
                die('no CPython 3.11 to build the heaps (--interp)')
        cores[s] = make_core(interp, SIZES[s], d)

    res = {'machine': machine(), 'rev': git_rev(), 'runs': a.runs,
           'pyheap_rel': os.path.relpath(pyheap, ROOT), 'cores': {}}
    if a.capture_only:
        if not a.save or not os.path.exists(a.save):
            die('--capture-only needs the --save file of an earlier run')
        with open(a.save) as f:
            res = json.load(f)
        sizes = [s for s in SIZES if s in res['cores']]
    for s in ([] if a.capture_only else sizes):
        core = cores[s]
        with open(os.path.join(os.path.dirname(core), 'live.json')) as f:
            live = json.load(f)
        res['python'] = live['python']
        log('%s: floor' % s)
        floor = measure(['cat', core], a.runs)
        c = {'core_bytes': os.path.getsize(core), 'live': live, 'floor': floor,
             'facts': heap_facts(pyheap, core), 'pyheap': {}}
        for cmd in COMMANDS:
            log('%s: pyheap %s' % (s, cmd))
            extra = COMMAND_ARGS.get(cmd, [])
            if cmd == 'report':
                extra = ['-o', os.path.join(os.path.dirname(core), REPORT_FILE)]
            c['pyheap'][cmd] = measure([pyheap, '--no-progress', '-q', cmd] + extra + [core],
                                       a.runs, ok=(0, 3))
            log('    %.3f s, %.0f MiB' % (c['pyheap'][cmd]['wall'],
                                         mib(c['pyheap'][cmd]['rss_kib'])))
        page = os.path.join(os.path.dirname(core), REPORT_FILE)
        if s == sizes[-1] and 'report' in c['pyheap']:
            log('%s: the report in a browser' % s)
            c['report_page'] = open_page(page, a.runs)
        res['cores'][s] = c

    if a.capture_only or not a.no_capture:
        big = sizes[-1]
        log('%s: types on .zst cores' % big)
        z = capture_zst(pyheap, cores[big], a.runs)
        z.update({'size': big, 'core_bytes': os.path.getsize(cores[big]), 'runs': a.runs})
        log('dump of a 1 GiB process')
        d = capture_dump(pyheap, interp, a.cache, a.runs)
        d['runs'] = a.runs
        res['capture'] = {'zst': z, 'dump': d, 'rev': git_rev(),
                          'date': machine()['date']}

    base = load_extras(a, res)
    if a.save:
        with open(a.save, 'w') as f:
            json.dump(res, f, indent=1)
    with open(a.out, 'w') as f:
        f.write(report(res, base, sizes))
    log('wrote %s' % a.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
