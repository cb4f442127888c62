#!/usr/bin/python3
"""realcheck.py - one real heap (a workload on one interpreter), cored once and
cached, and what every pyheap command says about it held against the truth the
interpreter recorded just before it stopped.

    realcheck.py WORKLOAD INTERPRETER PYHEAP DUMPOBJS

WORKLOAD is one of pylint, mypy, leakyhttp, cext, gens (workloads/).  The core
is made by capture.py (gdb injects recorder.py into pylint and mypy with
Py_AddPendingCall(PyRun_SimpleString, ...); the other workloads run the
recorder themselves), and kept under $PYHEAP_CACHE (default /var/cache/pyheap)
/realheaps-suite/WORKLOAD-TAG.KEY/, KEY a hash of the workload, the
interpreter (path, build-id, size, mtime), the scripts of this directory and
the packages the workload runs; a cached core whose process mapped a file that
changed since (a library upgraded) is made again.  Captures hold an flock on
realheaps-suite/.lock, so two runs never capture at once; the sanitizer pass
and later runs only run pyheap.  Nothing outside that directory is written or
deleted (but for pyheap's and the workloads' own temporary files).

Prints one PASS/FAIL line per check; exit 0 all passed, 1 a failure, 77 skip
(a SKIP: line says why: no gdb, no ptrace, a package or interpreter missing).

The checks, and what each tolerates (nothing else is tolerated):

  commands   info, types, arenas, refs, garbage, top, suspects, stacks and
             path --type T (the workload's types), all --json: exit 0, a
             JSON object, "warnings" empty and "warning_count" 0.
  types      per type, pyheap's count equals the truth's: the closure of
             gc.get_referents over gc.get_objects() (recorder.py), plus the
             recorder's own objects alive at the stop.  Compared object by
             object (tests/tools/dumpobjs against the truth's address list):
               - every object of the truth is one pyheap has, of the same
                 type, but for the recorder's own objects that were freed
                 between their count and the stop, and the program's that
                 the recording freed (refcount 0 in the core, on a free list)
                 (TOLERATED: recorder);
               - an object pyheap has and the truth has not must not be an
                 orphan nor garbage for pyheap (those are judged below): it
                 is then held by what no Python object refers to - the
                 interpreter's and extension modules' C state and statics
                 (interned and identifier strings, module state, static
                 types' dicts) - which gc.get_referents cannot reach
                 (TOLERATED: C-held; at most 5% of the objects: 0.2-0.4%
                 but 2.2% with numpy's C state).
  orphans    refs --json: overcounted 0; every orphan is either one the
             workload made on purpose (leakyhttp's LostRequest, whose count
             must be exact), or an object the interpreter too sees no
             referrer for (a GC object of the snapshot that nothing in the
             closure refers to, or an object it never saw) AND whose address
             is stored in C memory that is neither a Python object nor a C
             static (pyheap reads those): a thread's C stack (the arguments
             of a C call in progress: an args tuple of socket.recv_into, the
             (request, address, server) tuple of a handler's constructor,
             the empty **kwargs dict of Thread.run), a C struct a C stack
             points to (t_bootstrap's bound method Thread._bootstrap, the
             parser arena's list of the script being run), or other C heap
             memory (a thread state's weakref to its lock, numpy's ufunc
             loops: numpy._ArrayMethod and their dicts).  TOLERATED on cext
             with numpy only: orphans stored nowhere in the core (numpy's
             Cython modules create constants through statics the compiler
             dropped as never read: real references nobody can release).
             An orphan stored nowhere in the core that the truth does not
             reach either is a leaked reference (a missing Py_DECREF) and
             is listed.  Any other orphan fails: one the truth reaches
             through a reference, or one stored only in a C static (which
             pyheap reads).
  suspects   leakyhttp: each designed leak (_RESPONSE_CACHE,
             METRICS._hooks, the render_profile lru_cache) among the first
             four (the fourth designed leak is the objects increfed from C),
             with its chain and its exact number of entries.
  path       path --type T: holders[0].chain ends at the container the
             workload fills (e.g. ['_RESPONSE_CACHE'] for CachedResponse),
             with the exact count; pylint: a holder of Name under astroid's
             cache (module astroid._cache, CACHE_MANAGER).
  stacks     every thread's frames (function - the qualified name on 3.11+
             - and line, innermost first) equal what sys._current_frames()
             gave the recorder, matched by thread id; the recorder's own
             innermost frame is on the line that sends SIGSTOP.
  gens       the generators, coroutines and async generators the workload
             made are all counted, show finds the sample ones, and none of
             their locals is an orphan.
"""

import bisect
import fcntl
import hashlib
import json
import mmap
import os
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WL = os.path.join(HERE, 'workloads')
SKIP = 77
results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%-4s %-58s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)


def skip(why):
    print('SKIP: %s' % why, flush=True)
    sys.exit(SKIP)


# ---- the workloads ---------------------------------------------------------

def py_ok(interp, code):
    r = subprocess.run([interp, '-c', code], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


DP = '/usr/lib/python3/dist-packages'

WORKLOADS = {
    # name: files (of workloads/), how the recorder gets in, the command,
    # modules it needs (a SKIP when missing), files whose change changes the
    # heap (their mtime goes into the key), the types for path --type
    'pylint': dict(files=['pylint.sh'],
                   capture=['--trigger-regex', r'\*{13} Module email\b', '--timeout', '120'],
                   cmd=lambda py, d: ['sh', os.path.join(WL, 'pylint.sh'), py],
                   needs=['pylint', 'astroid'],
                   keyfiles=[DP + '/pylint/__pkginfo__.py', DP + '/astroid/__pkginfo__.py',
                             DP + '/wrapt/__init__.py'],
                   path=['astroid.nodes.node_classes.Name']),
    'mypy': dict(files=['mypy.sh'],
                 capture=['--trigger-regex', r'Processing SCC .*\(astroid\.', '--timeout', '120'],
                 cmd=lambda py, d: ['sh', os.path.join(WL, 'mypy.sh'), py, os.path.join(d, 'src')],
                 needs=['mypy'],
                 keyfiles=[DP + '/mypy/version.py', DP + '/astroid/__pkginfo__.py',
                           DP + '/isort/_version.py', DP + '/tomlkit/__init__.py'],
                 path=['mypy.nodes.Var']),
    'leakyhttp': dict(files=['leakyhttp.py'], capture=['--self', '--timeout', '120'],
                      cmd=lambda py, d: [py, os.path.join(WL, 'leakyhttp.py')],
                      needs=[], keyfiles=[],
                      path=['CachedResponse', 'function']),
    'cext': dict(files=['cext.py'], capture=['--self', '--timeout', '120'],
                 cmd=lambda py, d: [py, os.path.join(WL, 'cext.py')],
                 needs=['sqlite3', 'decimal', 'ssl', '_json'], keyfiles=[],
                 path=['sqlite3.Row', 'decimal.Decimal', '_json.Scanner']),
    'gens': dict(files=['gens.py'], capture=['--self', '--timeout', '120'],
                 cmd=lambda py, d: [py, os.path.join(WL, 'gens.py')],
                 needs=[], keyfiles=[],
                 path=['Payload', 'coroutine', 'async_generator']),
}


# ---- ELF bits: the build-id of a file, the threads' stacks of a core ---------

def elf_build_id(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b'\x7fELF' or data[4] != 2:
        return None
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', data, 0x3a)
    for k in range(shnum):
        sh_type, = struct.unpack_from('<I', data, shoff + k * shentsize + 4)
        if sh_type != 7:            # SHT_NOTE
            continue
        off, size = struct.unpack_from('<QQ', data, shoff + k * shentsize + 0x18)
        p = off
        while p + 12 <= off + size:
            nsz, dsz, typ = struct.unpack_from('<III', data, p)
            name = data[p + 12:p + 12 + nsz]
            dp = p + 12 + ((nsz + 3) & ~3)
            if typ == 3 and name[:3] == b'GNU':
                return data[dp:dp + dsz].hex()
            p = dp + ((dsz + 3) & ~3)
    return None


class Core:
    """A core's PT_LOAD segments and its threads' C stacks."""

    def __init__(self, path):
        self.f = open(path, 'rb')
        self.m = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ)
        self.loads, self.stacks, self.files = core_layout(self.m)
        self.stack_words = set()
        for words in self.stacks.values():
            self.stack_words.update(words)
        self.sorted_words = sorted(self.stack_words)
        # the C statics: each mapped ELF file's writable PT_LOADs (.data,
        # .bss), placed as the file's first mapping says
        self.statics = []
        first = {}
        for lo, hi, p in self.files:
            first[p] = min(first.get(p, lo), lo)
        for p, lo in first.items():
            for vaddr, memsz, et in elf_writable_loads(p):
                base = 0 if et == 2 else lo
                self.statics.append((base + vaddr, base + vaddr + memsz, os.path.basename(p)))

    def static_of(self, addr):
        for lo, hi, name in self.statics:
            if lo <= addr < hi:
                return name
        return None

    def word(self, addr):
        for vaddr, memsz, off, filesz in self.loads:
            if vaddr <= addr < vaddr + min(memsz, filesz) - 7:
                return struct.unpack_from('<Q', self.m, off + addr - vaddr)[0]
        return None

    def close(self):
        self.m.close()
        self.f.close()

    def stored_at(self, values, limit=16):
        """{value: addresses of the aligned words of the core equal to it}
        for a set of values, in one pass over the core."""
        out = {v: [] for v in values}
        if not values:
            return out
        mv = memoryview(self.m)
        chunk = 1 << 20
        for vaddr, memsz, off, filesz in self.loads:
            n = min(filesz, memsz) // 8
            if off % 8 or n == 0:
                continue
            words = mv[off:off + 8 * n].cast('Q')
            for k in range(0, n, chunk):
                part = words[k:k + chunk]
                hit = values.intersection(part)
                if not hit:
                    continue
                lst = part.tolist()
                for j, w in enumerate(lst):
                    if w in hit and len(out[w]) < limit:
                        out[w].append(vaddr + 8 * (k + j))
            words.release()
        mv.release()
        return out

    def where(self, addr):
        name = self.static_of(addr)
        if name:
            return '%#x (a static of %s)' % (addr, name)
        return '%#x' % addr

    def pointed_from_stack(self, addr, span=512):
        """Whether a C stack word points at most span bytes below addr (the
        start of the C struct holding addr)."""
        k = bisect.bisect_right(self.sorted_words, addr) - 1
        return k >= 0 and addr - self.sorted_words[k] < span


def elf_writable_loads(path):
    """[(vaddr, memsz, e_type)] of an ELF file's writable PT_LOADs."""
    try:
        with open(path, 'rb') as f:
            eh = f.read(64)
            if eh[:4] != b'\x7fELF' or eh[4] != 2:
                return []
            e_type, = struct.unpack_from('<H', eh, 0x10)
            phoff, = struct.unpack_from('<Q', eh, 0x20)
            phentsize, phnum = struct.unpack_from('<HH', eh, 0x36)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except OSError:
        return []
    out = []
    for k in range(phnum):
        p_type, flags, _, vaddr, _, _, memsz, _ = struct.unpack_from('<IIQQQQQQ', ph, k * phentsize)
        if p_type == 1 and flags & 2:
            out.append((vaddr, memsz, e_type))
    return out


def core_layout(m):
    """PT_LOADs, and the words stored in each thread's C stack: {tid: set of
    8-byte values from the thread's stack pointer to the end of the segment
    holding it} (x86-64 NT_PRSTATUS: pid at 32, rsp the 20th register)."""
    out = {}
    phoff, = struct.unpack_from('<Q', m, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', m, 0x36)
    loads, notes = [], []
    for k in range(phnum):
        p_type, _, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
            '<IIQQQQQQ', m, phoff + k * phentsize)
        if p_type == 1:
            loads.append((vaddr, memsz, off, filesz))
        elif p_type == 4:
            notes.append((off, filesz))
    sps = []
    files = []
    for off, size in notes:
        p = off
        while p + 12 <= off + size:
            nsz, dsz, typ = struct.unpack_from('<III', m, p)
            dp = p + 12 + ((nsz + 3) & ~3)
            if typ == 1 and dsz >= 112 + 27 * 8:      # NT_PRSTATUS
                pid, = struct.unpack_from('<i', m, dp + 32)
                rsp, = struct.unpack_from('<Q', m, dp + 112 + 19 * 8)
                sps.append((pid, rsp))
            elif typ == 0x46494c45:                         # NT_FILE
                cnt, _ = struct.unpack_from('<QQ', m, dp)
                names = m[dp + 16 + 24 * cnt:dp + dsz].split(b'\0')
                for j in range(cnt):
                    lo, hi, _ = struct.unpack_from('<QQQ', m, dp + 16 + 24 * j)
                    files.append((lo, hi, names[j].decode(errors='replace')))
            p = dp + ((dsz + 3) & ~3)
    for tid, sp in sps:
        words = set()
        for vaddr, memsz, off, filesz in loads:
            if vaddr <= sp < vaddr + memsz:
                lo = (sp - vaddr) & ~7
                hi = min(filesz, memsz) & ~7
                if lo < hi:
                    buf = m[off + lo:off + hi]
                    words.update(struct.unpack('<%dQ' % (len(buf) // 8), buf))
        out[tid] = words
    return loads, out, files


# ---- the cache ---------------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def cache_key(name, interp):
    w = WORKLOADS[name]
    real = os.path.realpath(interp)
    st = os.stat(real)
    k = {'workload': name, 'interpreter': real, 'build_id': elf_build_id(real),
         'size': st.st_size, 'mtime_ns': st.st_mtime_ns,
         'scripts': {f: sha256_file(os.path.join(HERE, f)) for f in ['capture.py', 'recorder.py']},
         'capture': w['capture'], 'cmd': w['cmd']('PY', 'DIR'),
         'workload_files': {f: sha256_file(os.path.join(WL, f)) for f in w['files']},
         'package_files': {}}
    for f in w['keyfiles']:
        try:
            s = os.stat(f)
            k['package_files'][f] = [s.st_size, s.st_mtime_ns]
        except OSError:
            k['package_files'][f] = None
    text = json.dumps(k, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16], k


def cache_root():
    root = os.environ.get('PYHEAP_CACHE') or '/var/cache/pyheap'
    d = os.path.join(root, 'realheaps-suite')
    try:
        os.makedirs(d, exist_ok=True)
        if not os.access(d, os.W_OK):
            raise OSError('not writable')
    except OSError as e:
        print('FAIL: cache directory %s: %s (set PYHEAP_CACHE to a writable directory)'
              % (d, e), flush=True)
        sys.exit(1)
    return d


def cached_ok(d, name):
    """Whether the cached capture in d is complete and its mapped files are
    unchanged; the reason when not."""
    for suf in ('.core', '.truth.json', '.objects.txt'):
        if not os.path.exists(os.path.join(d, name + suf)):
            return False, 'no %s%s' % (name, suf)
    try:
        with open(os.path.join(d, name + '.truth.json')) as f:
            truth = json.load(f)
    except (OSError, ValueError) as e:
        return False, 'truth unreadable: %s' % e
    for path, (size, mtime) in truth['outside'].get('mapped_files', {}).items():
        try:
            st = os.stat(path)
        except OSError:
            return False, '%s is gone' % path
        if st.st_size != size or st.st_mtime_ns != mtime:
            return False, '%s changed since the capture' % path
    return True, ''


def ensure_core(name, interp, tag):
    """The directory of the case's capture: cached, or made now (under the
    lock)."""
    root = cache_root()
    key, keydoc = cache_key(name, interp)
    case = '%s-%s' % (name, tag)
    d = os.path.join(root, '%s.%s' % (case, key))
    with open(os.path.join(root, '.lock'), 'w') as lk:
        t0 = time.monotonic()
        fcntl.flock(lk, fcntl.LOCK_EX)
        waited = time.monotonic() - t0
        if waited > 1:
            print('realcheck: waited %.0f s for the capture lock' % waited, flush=True)
        ok, why = cached_ok(d, name) if os.path.isdir(d) else (False, 'not cached')
        if ok:
            print('realcheck: cached core %s' % d, flush=True)
            return d
        print('realcheck: capturing %s (%s)' % (case, why), flush=True)
        # older captures of this case (other keys) and leftovers go
        for e in os.listdir(root):
            if e.startswith(case + '.'):
                shutil.rmtree(os.path.join(root, e), ignore_errors=True)
        tmp = '%s.tmp-%d' % (os.path.join(root, case), os.getpid())
        os.makedirs(tmp)
        with open(os.path.join(tmp, 'key.json'), 'w') as f:
            json.dump(keydoc, f, indent=1, sort_keys=True)
        w = WORKLOADS[name]
        argv = ([sys.executable, os.path.join(HERE, 'capture.py'), name, '--outdir', tmp]
                + w['capture'] + ['--'] + w['cmd'](interp, tmp))
        t0 = time.monotonic()
        with open(os.path.join(tmp, 'capture.log'), 'wb') as log:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, cwd=tmp)
        with open(os.path.join(tmp, 'capture.log'), errors='replace') as f:
            text = f.read()
        if r.returncode != 0:
            if 'ptrace' in text and ('not permitted' in text or 'Operation not permitted' in text):
                shutil.rmtree(tmp, ignore_errors=True)
                skip('%s: gdb cannot attach (ptrace not permitted)' % case)
            print(text[-3000:])
            print('FAIL: capture of %s exited %d (log kept in %s)' % (case, r.returncode, tmp),
                  flush=True)
            sys.exit(1)
        for line in text.splitlines():
            if line.startswith('capture: %s: ' % name) and 'objects' in line:
                print(line, flush=True)
        # the workload's scratch (mypy's copy of the sources, the TLS cert)
        for e in os.listdir(tmp):
            p = os.path.join(tmp, e)
            if os.path.isdir(p):
                shutil.rmtree(p, ignore_errors=True)
        os.rename(tmp, d)
        print('realcheck: captured in %.1f s' % (time.monotonic() - t0), flush=True)
    return d


# ---- running pyheap ----------------------------------------------------------

def run_json(pyheap, args, core, label=None):
    """pyheap ARGS --json CORE; checks the exit status and the warnings."""
    label = label or ' '.join(args)
    t0 = time.monotonic()
    r = subprocess.run([pyheap] + args + ['--json', core], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    secs = time.monotonic() - t0
    try:
        d = json.loads(r.stdout.decode())
    except ValueError:
        d = None
    err = r.stderr.decode(errors='replace').strip().splitlines()
    ok = (r.returncode == 0 and isinstance(d, dict) and d.get('warning_count') == 0
          and d.get('warnings') == [])
    detail = 'exit %d, %.1f s' % (r.returncode, secs)
    if isinstance(d, dict) and d.get('warning_count'):
        detail += ', %d warnings: %s' % (d['warning_count'], '; '.join(d.get('warnings', []))[:300])
    elif not ok:
        detail += ': ' + ' | '.join(err)[-300:]
    check('%s: exit 0, no warnings' % label, ok, detail)
    return d if isinstance(d, dict) else {}


def run_dumpobjs(dumpobjs, core):
    r = subprocess.run([dumpobjs, core], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    got = {}
    EXTENTS.clear()
    for line in r.stdout.decode(errors='replace').splitlines():
        p = line.split(None, 3)
        if len(p) == 4:
            got[int(p[0], 16)] = p[3]
            try:
                EXTENTS.append((int(p[0], 16), int(p[1])))
            except ValueError:
                pass
    EXTENTS.sort()
    return r.returncode, got


EXTENTS = []     # (address, size) of every object dumpobjs found, sorted


def inside_other(a):
    """Whether a lies inside another object pyheap found (not at its
    start): the truth's object was freed after the snapshot and its memory
    reused, as the recorder's own work does."""
    i = bisect.bisect_right(EXTENTS, (a, 1 << 62)) - 1
    return i >= 0 and EXTENTS[i][0] < a < EXTENTS[i][0] + max(EXTENTS[i][1], 16)


def load_objects(path):
    prog, rec = {}, {}
    with open(path) as f:
        for line in f:
            a, k, t = line.rstrip('\n').split('\t', 2)
            (prog if k == 'P' else rec)[int(a, 16)] = t
    return prog, rec


# ---- the checks ----------------------------------------------------------------

def check_types(tj, truth, prog, rec, got, dumprc, orphan_addrs, garbage_addrs, core):
    """types --json against the truth, by type and object by object."""
    want = {}
    for src in ('types', 'recorder_types'):
        for k, v in truth[src].items():
            want[k] = want.get(k, 0) + v['count']
    have = {}
    for e in tj.get('types', []):
        have[e['type']] = have.get(e['type'], 0) + e['count']
    dump_by_type = {}
    for t in got.values():
        dump_by_type[t] = dump_by_type.get(t, 0) + 1
    check('dumpobjs: exit 0 and the same objects as types --json',
          dumprc == 0 and dump_by_type == have,
          'exit %d, %d objects vs %d' % (dumprc, len(got), tj.get('total_count', -1)))
    # object by object
    missed, wrong_type, rec_freed = {}, {}, {}
    cr = Core(core)
    for a, t in prog.items():
        g = got.get(a)
        if g is None and (cr.word(a) == 0 or inside_other(a)):
            # refcount 0 in the core: freed between the snapshot and the
            # stop, kept by a free list; or freed and its memory reused by
            # an object the recorder made since (TOLERATED: recorder)
            rec_freed[t] = rec_freed.get(t, 0) + 1
        elif g is None:
            missed[t] = missed.get(t, 0) + 1
        elif g != t:
            wrong_type['%s as %s' % (t, g)] = wrong_type.get('%s as %s' % (t, g), 0) + 1
    for a, t in rec.items():
        g = got.get(a)
        if g is None:
            rec_freed[t] = rec_freed.get(t, 0) + 1      # TOLERATED: recorder
        elif g != t:
            wrong_type['%s as %s' % (t, g)] = wrong_type.get('%s as %s' % (t, g), 0) + 1
    cr.close()
    extra, orphaned, unheld = {}, {}, {}
    for a, t in got.items():
        if a in prog or a in rec:
            continue
        if a in orphan_addrs:
            orphaned[t] = orphaned.get(t, 0) + 1        # judged by the orphan checks
        elif a in garbage_addrs:
            unheld[t] = unheld.get(t, 0) + 1            # cyclic garbage would be GC objects
        else:                                           # the truth would have listed
            extra[t] = extra.get(t, 0) + 1              # TOLERATED: C-held
    top = lambda d, n=8: ', '.join('%s %d' % kv for kv in sorted(d.items(), key=lambda kv: -kv[1])[:n])
    check('types: every object of the truth found, same type',
          not missed and not wrong_type,
          'missed: %s; other type: %s' % (top(missed) or '0', top(wrong_type) or '0'))
    nextra = sum(extra.values())
    check('types: objects the truth cannot see (C-held) <= 5%',
          nextra <= 0.05 * max(1, len(got)),
          '%d of %d (%s)' % (nextra, len(got), top(extra)))
    check('types: no object the truth cannot see is garbage for pyheap', not unheld,
          '%d (%s)' % (sum(unheld.values()), top(unheld)))
    # per type: truth + C-held - recorder-freed = pyheap, and the C-held ones
    # are the only surplus
    bad = []
    for t in sorted(set(want) | set(have)):
        exp = (want.get(t, 0) + extra.get(t, 0) + orphaned.get(t, 0) + unheld.get(t, 0)
               - rec_freed.get(t, 0))
        if have.get(t, 0) != exp:
            bad.append('%s: pyheap %d, truth %d' % (t, have.get(t, 0), want.get(t, 0)))
    check('types --json: every type counted exactly (tolerances above)', not bad,
          '%d types; %s' % (len(set(want) | set(have)), '; '.join(bad[:8]) if bad else
                            'freed between the snapshot and the stop: %s' % (top(rec_freed) or '0')))


def check_orphans(rj, truth, prog, core, designed, leaked_by_c):
    """refs --json: overcounted 0; orphans designed, or held from a C stack."""
    check('refs: overcounted 0', rj.get('overcounted') == 0,
          'overcounted %s: %s' % (rj.get('overcounted'),
                                  [(o['type'], o['addr']) for o in rj.get('overcounted_objects', [])[:5]]))
    orphans = rj.get('orphan_objects', [])
    complete = len(orphans) == rj.get('orphan_count')
    c_held = {int(a, 16) for a in truth.get('c_held', [])}
    cr = Core(core)
    dtype, dcount = (designed['type'], designed['count']) if designed else (None, 0)
    nd = 0
    by_reason, nowhere = {}, {}
    false_orphans, unexplained = [], []
    rest = []
    for o in orphans:
        a = int(o['addr'], 16)
        if o['type'] == dtype:
            nd += 1
        elif a in prog and a not in c_held:
            false_orphans.append(o)
        elif a in cr.stack_words:
            k = '%s (C stack)' % o['type']
            by_reason[k] = by_reason.get(k, 0) + 1
        else:
            rest.append((a, o))
    where = cr.stored_at({a for a, o in rest})
    for a, o in rest:
        heap = [x for x in where[a] if cr.static_of(x) is None]
        if any(cr.pointed_from_stack(x) for x in heap):
            k = '%s (C memory a C stack points to)' % o['type']
        elif heap:
            k = '%s (C memory)' % o['type']
        elif not where[a]:
            # no word of the core points at it and the interpreter sees no
            # referrer: a reference count nothing holds, which is what a
            # missing Py_DECREF leaves (numpy's Cython constants; strings
            # mypyc leaks) -- an orphan pyheap is right to report
            nowhere[o['type']] = nowhere.get(o['type'], 0) + 1
            continue
        else:
            # stored nowhere, or only in C statics, which pyheap reads
            unexplained.append(dict(o, stored=[cr.where(x) for x in where[a][:3]]))
            continue
        by_reason[k] = by_reason.get(k, 0) + 1
    cr.close()
    desc = lambda l: ', '.join('%s %s %s%s' % (o['type'], o['addr'], o.get('value', ''),
                                             ' stored at %s' % ' '.join(o['stored'])
                                             if o.get('stored') else
                                             (' stored nowhere' if 'stored' in o else ''))
                               for o in l[:6])
    # what pyheap puts on a thread's C stack: hardly ever a designed leak
    # (TOLERATED: 2 -- a live C frame may keep a stale copy of the last
    # pointer it handled, such as the leak loop's last object), and the
    # list matches its count
    on_stack = {int(a, 16) for a in rj.get('orphan_c_stack_objects', [])}
    bytype = {int(o['addr'], 16): o['type'] for o in orphans}
    wrong = [a for a in on_stack if bytype.get(a) == dtype]
    check('refs: orphans on C stacks are (nearly) no designed leak',
          'orphan_c_stack_objects' in rj and len(wrong) <= 2
          and rj.get('orphan_c_stack_count') == len(on_stack),
          '%d on C stacks, %d of them %s' % (len(on_stack), len(wrong), dtype))
    check('refs: the orphan list is complete', complete,
          '%d listed of %s' % (len(orphans), rj.get('orphan_count')))
    if designed:
        check('refs: the designed orphans (%s) exactly' % dtype, nd == dcount,
              'want %d, got %d' % (dcount, nd))
    check('refs: no orphan the interpreter sees a referrer for', not false_orphans,
          '%d: %s' % (len(false_orphans), desc(false_orphans)))
    check('refs: every other orphan held from C memory (stack, heap)', not unexplained,
          '%d unexplained: %s; held from C stacks: %s' % (
              len(unexplained), desc(unexplained),
              ', '.join('%s %d' % kv for kv in sorted(by_reason.items())) or 'none'))
    print('note: orphans stored nowhere in the core, unreachable for the interpreter too: '
          'leaked references (%s): %s' % (
              leaked_by_c or 'the program\'s own', ', '.join(
                  '%s %d' % kv for kv in sorted(nowhere.items(), key=lambda kv: -kv[1]))
              or 'none'), flush=True)
    return false_orphans


def check_stacks(sj, truth):
    v = tuple(int(x) for x in truth['version'].split('.')[:2])
    want = {}
    for t in truth['threads']:
        want[t['ident']] = [((f['qualname'] if v >= (3, 11) else f['function']), f['line'])
                            for f in t['stack']]
    have = {}
    for t in sj.get('threads', []):
        have[t['thread_id']] = [(f['function'], f['line']) for f in t['frames']]
    diffs = []
    for ident in sorted(set(want) | set(have)):
        w, h = want.get(ident), have.get(ident)
        if w != h:
            diffs.append('thread %#x: want %s, got %s' % (
                ident, w and w[:4], h and h[:4]))
    check('stacks: every thread\'s frames as sys._current_frames() saw them',
          not diffs and want, '%d threads, %d frames; %s' % (
              len(want), sum(len(x) for x in want.values()), '; '.join(diffs[:3])))


def edges(h):
    return [e['edge'] for e in h.get('chain', [])]


def check_path(pj, t, want_tail, want_count=None, want_reached=None):
    hs = pj.get('holders', [])
    h0 = hs[0] if hs else {}
    tail = edges(h0)[-len(want_tail):] if want_tail else []
    ok = tail == want_tail and (want_count is None or h0.get('count') == want_count) \
        and (want_reached is None or pj.get('reached') == want_reached)
    check('path --type %s: holders[0] is %s' % (t, ' '.join(want_tail)), ok,
          'reached %s, holders[0] x%s via %s%s' % (
              pj.get('reached'), h0.get('count'), ' '.join(edges(h0)),
              '' if want_count is None else ' (want x%d)' % want_count))


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in WORKLOADS:
        print(__doc__)
        return 2
    name, interp, pyheap, dumpobjs = sys.argv[1:]
    w = WORKLOADS[name]
    if not os.access(interp, os.X_OK):
        skip('interpreter %s not found' % interp)
    for tool in ('gdb', 'gcore'):
        if not shutil.which(tool):
            skip('%s not found (package gdb)' % tool)
    for mod in w['needs']:
        if not py_ok(interp, 'import %s' % mod):
            skip('%s: module %s missing (scripts/install-deps.sh installs it)' % (interp, mod))
    if name == 'cext':
        if not shutil.which('openssl'):
            skip('openssl not found (package openssl)')
        if interp == '/usr/bin/python3.11' and not py_ok(interp, 'import numpy'):
            skip('%s: numpy missing (package python3-numpy)' % interp)
    for tool in (pyheap, dumpobjs):
        if not os.access(tool, os.X_OK):
            print('FAIL: %s not built' % tool)
            return 1
    tag = ('deb' + ''.join(interp.split('python')[-1].split('.')[:2])
           if interp.startswith('/usr/bin/') else
           os.path.basename(os.path.dirname(os.path.dirname(interp))))
    d = ensure_core(name, interp, tag)
    core = os.path.join(d, name + '.core')
    with open(os.path.join(d, name + '.truth.json')) as f:
        truth = json.load(f)
    prog, rec = load_objects(os.path.join(d, name + '.objects.txt'))
    wl = truth.get('workload', {})
    print('realcheck: %s on Python %s: %d objects (+%d of the recorder), core %.0f MiB' % (
        name, truth['version'], len(prog), len(rec),
        os.path.getsize(core) / 1048576.0), flush=True)
    if truth.get('gc_objects_held_by_the_listing_only'):
        print('realcheck: note: %d GC objects were held by the recorder\'s listing only '
              '(freed before the stop, left out of the truth)'
              % truth['gc_objects_held_by_the_listing_only'], flush=True)
    if name in ('pylint', 'mypy'):
        check('the heap is real: >= 300,000 objects', len(prog) >= 300000,
              '%d objects' % len(prog))

    J = {}
    for cmd in ('info', 'types', 'arenas', 'refs', 'garbage', 'top', 'suspects', 'stacks'):
        J[cmd] = run_json(pyheap, [cmd], core)
    P = {}
    for t in w['path']:
        P[t] = run_json(pyheap, ['path', '--type', t], core)
    dumprc, got = run_dumpobjs(dumpobjs, core)

    orphan_addrs = {int(o['addr'], 16) for o in J['refs'].get('orphan_objects', [])}
    garbage_addrs = {int(o['addr'], 16) for o in J['garbage'].get('garbage_objects', [])}
    check_types(J['types'], truth, prog, rec, got, dumprc, orphan_addrs, garbage_addrs, core)
    designed = (wl.get('leaks') or {}).get('orphans')
    # numpy's Cython modules make constants (tuples of names, strings, code)
    # through statics the compiler drops as never read: the references are
    # owned by C code that stores no pointer to them anywhere - real orphans.
    leaked_by_c = ('numpy\'s Cython modules keep references to constants they store '
                   'nowhere' if name == 'cext' and wl.get('numpy') else None)
    false_orphans = check_orphans(J['refs'], truth, prog, core, designed, leaked_by_c)
    check_stacks(J['stacks'], truth)

    sus = J['suspects'].get('suspects', [])
    if name == 'leakyhttp':
        L = wl['leaks']
        # four leaks of our design (the cache, the closures, the lru_cache,
        # the objects increfed from C): each among the first four suspects
        # (pymalloc arenas pinned by what the leaks left may rank among them)
        first = sus[:4]
        desc = '; '.join('%s %s %s' % (x['kind'], x.get('entries'), ' '.join(x.get('chain') or []))
                         for x in first)
        check('suspects: _RESPONSE_CACHE among the first 4',
              any((x.get('chain') or [])[-1:] == ["['_RESPONSE_CACHE']"]
                  and x.get('entries') == L['response_cache']['count'] for x in first), desc)
        check('suspects: METRICS._hooks among the first 4',
              any("['METRICS']" in (x.get('chain') or [])
                  and (x.get('chain') or [])[-1:] in (['._hooks'], ["['_hooks']"])
                  and x.get('entries') == L['closures']['count'] for x in first), desc)
        check('suspects: the render_profile lru_cache among the first 4',
              any(x['kind'] == 'unbounded_cache' and (x.get('chain') or [])[-1:] == ["['render_profile']"]
                  and x.get('entries') == L['lru_cache']['currsize'] for x in first), desc)
        check_path(P['CachedResponse'], 'CachedResponse', ["['_RESPONSE_CACHE']"],
                   L['response_cache']['count'], L['response_cache']['count'])
        hs = P['function'].get('holders', [])
        h0 = hs[0] if hs else {}
        check('path --type function: holders[0] is METRICS._hooks',
              "['METRICS']" in edges(h0) and edges(h0)[-1:] in (['._hooks'], ["['_hooks']"])
              and h0.get('count') == L['closures']['count'],
              'holders[0] x%s via %s (want x%d)' % (h0.get('count'), ' '.join(edges(h0)),
                                                   L['closures']['count']))
    elif name == 'pylint':
        hs = P['astroid.nodes.node_classes.Name'].get('holders', [])
        under = [h for h in hs if h.get('root', {}).get('name') == 'astroid._cache'
                 and "['CACHE_MANAGER']" in edges(h)]
        check('path --type astroid...Name: a holder under astroid\'s cache', under,
              '; '.join('x%d %s: %s' % (h['count'], h.get('root', {}).get('name'),
                                        ' '.join(edges(h))) for h in hs[:3]))
    elif name == 'mypy':
        pj = P['mypy.nodes.Var']
        n = truth['types'].get('mypy.nodes.Var', {}).get('count')
        # mypy raises the collector's threshold to 150,000: the Vars of
        # finished functions' closure environments wait as cyclic garbage
        ng = sum(t['count'] for t in J['garbage'].get('types', []) if t['type'] == 'mypy.nodes.Var')
        check('path --type mypy.nodes.Var: every Var reached from a root, or garbage',
              pj.get('reached') is not None and pj['reached'] + ng == n and pj.get('holders'),
              'reached %s + garbage %d of %s; holders[0] %s' % (
                  pj.get('reached'), ng, n, ' '.join(edges((pj.get('holders') or [{}])[0]))))
    elif name == 'cext':
        sq = wl['sqlite3']['types']
        check_path(P['sqlite3.Row'], 'sqlite3.Row', ["['ROWS']"], sq['sqlite3.Row'])
        check_path(P['decimal.Decimal'], 'decimal.Decimal', ["['DECIMALS']"],
                   wl['decimal']['decimal.Decimal (in DECIMALS)'])
        check_path(P['_json.Scanner'], '_json.Scanner', ["['SCANNERS']"], wl['json']['_json.Scanner'])
        # pyheap's count equals the truth's, and is at least what the
        # workload made (json keeps one Scanner of its own, numpy arrays)
        have = {e['type']: e['count'] for e in J['types'].get('types', [])}
        made = dict(sq)
        made['_json.Encoder'] = wl['json']['_json.Encoder']
        made['_json.Scanner'] = wl['json']['_json.Scanner']
        made['decimal.Decimal'] = wl['decimal']['decimal.Decimal (in DECIMALS)']
        made['decimal.Context'] = wl['decimal']['decimal.Context (in CONTEXTS)']
        made['_ssl.SSLSession'] = wl['ssl']['sessions']
        if wl.get('numpy'):
            made['numpy.ndarray'] = wl['numpy']['ndarray_total_expected']
        tt = truth['types']
        bad = ['%s: pyheap %s, truth %s, made %d' % (t, have.get(t), tt.get(t, {}).get('count'), n)
               for t, n in sorted(made.items())
               if have.get(t) != tt.get(t, {}).get('count') or have.get(t, 0) < n]
        check('types: the C-extension objects the workload made', not bad,
              '; '.join(bad) or ', '.join('%s %d' % (t, have.get(t)) for t in sorted(made)))
    elif name == 'gens':
        c = wl['counts']
        have = {e['type']: e['count'] for e in J['types'].get('types', [])}
        tt = truth['types']
        bad = []
        for t in ('generator', 'coroutine', 'async_generator', '__main__.Payload'):
            if have.get(t) != tt.get(t, {}).get('count') or have.get(t, 0) < c[t]:
                bad.append('%s: pyheap %s, truth %s, made %d' % (
                    t, have.get(t), tt.get(t, {}).get('count'), c[t]))
        check('gens: every generator, coroutine, async generator counted', not bad,
              '; '.join(bad) or ', '.join('%s %d' % (t, have.get(t, 0)) for t in
                                          ('generator', 'coroutine', 'async_generator')))
        lost = [o for o in J['refs'].get('orphan_objects', []) if o['type'] == '__main__.Payload']
        check('gens: no generator local is an orphan', not lost and not false_orphans,
              '%d Payload orphans, %d orphans the truth sees a referrer for' % (
                  len(lost), len(false_orphans)))
        shown = []
        for k, a in sorted(wl['sample_addrs'].items()):
            r = subprocess.run([pyheap, 'show', '--json', core, a], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                sj = json.loads(r.stdout.decode())
            except ValueError:
                sj = {}
            shown.append((k, r.returncode, sj.get('type'), sj.get('warning_count')))
        kinds = {'suspended_gen': 'generator', 'unstarted_gen': 'generator',
                 'coroutine': 'coroutine', 'async_generator': 'async_generator'}
        check('gens: show finds the sample generators',
              all(rc == 0 and t == kinds[k] and wc == 0 for k, rc, t, wc in shown), str(shown))
        check_path(P['Payload'], 'Payload', ["['SUSPENDED_GENS']"], c['generator (suspended big_gen)']
                   - (c['generator (suspended outer)']), c['__main__.Payload'])
        check_path(P['coroutine'], 'coroutine', ["['SUSPENDED_CORO']"], c['coroutine (suspended)'])
        check_path(P['async_generator'], 'async_generator', ["['SUSPENDED_AGEN']"],
                   c['async_generator (suspended)'])

    print('realcheck: %s %s: %d checks, %d failed' % (name, truth['version'], len(results),
                                                     results.count(False)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
