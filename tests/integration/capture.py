#!/usr/bin/python3
"""capture.py - pyheap dump, watch, live mode and compressed cores, on real
processes.  Run by tests/check_capture.c, one case at a time:

    capture.py oom OUTDIR                 a real OOM kill in a memory cgroup
    capture.py gcore OUTDIR INTERPRETER   dump against gcore, live mode, gdb,
                                          compressed cores (zstd, lz4, xz,
                                          what systemd-coredump stores and
                                          what coredumpctl dump gives back)
    capture.py bad OUTDIR                 bad input: no such pid, untraceable,
                                          exits during the dump, full disk
    capture.py watch OUTDIR               watch --pid/-- CMD/--cgroup (a fake
                                          v2 cgroup), --keep, snapshots, SIGTERM

PYHEAP names the binary (default build/pyheap).  Prints one PASS/FAIL line
per check and exits 1 on any failure; 77 after a SKIP line when the machine
cannot do it (not root, no memory cgroup, no ptrace, no gcore).
"""
import filecmp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYHEAP = os.path.abspath(os.environ.get('PYHEAP', 'build/pyheap'))
SKIP = 77
FAILED = []
DEBIAN_PY = '/usr/bin/python3.11' if os.path.exists('/usr/bin/python3.11') else '/usr/bin/python3'


def check(ok, what, detail=''):
    print('%s: %s%s' % ('PASS' if ok else 'FAIL', what, (' -- ' + detail) if detail and not ok else ''),
          flush=True)
    if not ok:
        FAILED.append(what)
    return ok


def skip(msg):
    print('SKIP: ' + msg, flush=True)
    sys.stderr.write('SKIP: ' + msg + '\n')
    sys.exit(SKIP)


def run(args, stdin=None, timeout=300, env=None):
    """Runs a command; returns (exit status or 128+signal, stdout, stderr,
    peak RSS in KiB)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(args, stdin=stdin or subprocess.DEVNULL, stdout=out, stderr=err, env=env)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.005)
    p.returncode = 0
    rc = os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else \
        (os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
    if rc < 0:
        rc = 128 - rc
    out.seek(0)
    err.seek(0)
    return rc, out.read().decode(errors='replace'), err.read().decode(errors='replace'), ru.ru_maxrss


def pyheap(*args, **kw):
    return run([PYHEAP] + [str(a) for a in args], **kw)


def state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
        return s[s.rindex(')') + 2]
    except (OSError, ValueError):
        return None


def tracer(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('TracerPid:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_state(pid, want, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = state(pid)
        if st == want:
            return True
        if st in (None, 'Z', 'X'):
            return False
        time.sleep(0.02)
    return False


def can_trace():
    try:
        with open('/proc/sys/kernel/yama/ptrace_scope') as f:
            v = f.read().strip()
        if v == '3' or (v in ('1', '2') and os.geteuid() != 0):
            skip('ptrace is restricted here (kernel.yama.ptrace_scope = %s)' % v)
    except OSError:
        pass


def mib(n):
    return '%.1f MiB' % (n / 1048576.0)


# A heap with three threads that stops itself.
BUILDER = r'''
import os, signal, threading, time, collections
class Request(object):
    def __init__(self, i):
        self.i = i; self.path = '/api/%d' % i; self.headers = {'h': str(i)}
        self.payload = bytes(600 + i % 3000)
_CACHE = {}
for i in range(20000):
    _CACHE['k%d' % i] = Request(i)
_RECENT = collections.OrderedDict((i, str(i) * 3) for i in range(5000))
ev = threading.Event()
ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(2)]
for t in ts: t.start()
os.kill(os.getpid(), signal.SIGSTOP)
ev.wait()
'''


def start_stopped(interp, code=BUILDER, args=()):
    p = subprocess.Popen([interp, '-c', code] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_state(p.pid, 'T'):
        p.kill()
        p.wait()
        raise SystemExit('FAIL: %s did not stop itself' % interp)
    return p


def kill(p):
    try:
        p.kill()
    except OSError:
        pass
    p.wait()


def normalise(text, *paths):
    for p in paths:
        text = text.replace(p, 'CORE')
    return text


def one_line_error(rc, err, path, what):
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc == 1 and len(lines) == 1 and path in lines[0],
          '%s: exit 1 with one line naming the file' % what, 'exit %d: %r' % (rc, err[:400]))


# ---- gcore ----

def case_gcore(out, interp):
    can_trace()
    if not os.access(interp, os.X_OK):
        skip('%s not installed' % interp)
    if not shutil.which('gcore'):
        skip('gcore not installed (package gdb)')
    exe = os.path.realpath(interp)
    p = start_stopped(interp)
    try:
        d, g = os.path.join(out, 'dump.core'), os.path.join(out, 'gcore.core')
        rc, so, se, _ = pyheap('--json', 'dump', p.pid, '-o', d)
        check(rc == 0, 'dump exits 0', se)
        info = json.loads(so) if rc == 0 else {}
        print('dump: %s' % se.strip())
        check(info.get('threads') == 3, 'dump: 3 threads', so)
        check(state(p.pid) == 'T', 'the stopped process is still stopped after the dump',
              'state %s' % state(p.pid))
        check(not [f for f in os.listdir(out) if '.tmp.' in f], 'no temporary file left')
        t0 = time.monotonic()
        r = subprocess.run(['gcore', '-o', os.path.join(out, 'gcore'), str(p.pid)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, DEBUGINFOD_URLS=''))
        tg = time.monotonic() - t0
        produced = os.path.join(out, 'gcore.%d' % p.pid)
        if not check(r.returncode == 0 and os.path.exists(produced), 'gcore works after the dump',
                     r.stdout.decode(errors='replace')[-500:]):
            return
        os.rename(produced, g)
        print('sizes: dump %s (%s on disk, %.0f ms), gcore %s (%.1f s)' % (
            mib(os.path.getsize(d)), mib(os.stat(d).st_blocks * 512), info.get('total_ms', 0),
            mib(os.path.getsize(g)), tg))
        ref = {}
        for cmd in ('types', 'arenas', 'refs'):
            a = pyheap(cmd, d)
            b = pyheap(cmd, g)
            ref[cmd] = a
            check(a[0] == b[0] == 0 and normalise(a[1], d) == normalise(b[1], g),
                  '%s: dump and gcore give the same output' % cmd,
                  'exit %d/%d\n%s\n---\n%s' % (a[0], b[0], a[1][:1500], b[1][:1500]))
        a = pyheap('--json', 'types', d)
        b = pyheap('--json', 'types', g)
        check(normalise(a[1], d) == normalise(b[1], g), 'types --json: dump and gcore the same')
        # live mode on the same stopped process
        for cmd in ('types', 'arenas', 'refs'):
            lv = pyheap(cmd, '--pid', p.pid)
            check(lv[0] == 0 and lv[1] == ref[cmd][1], '%s --pid equals %s on the dump' % (cmd, cmd),
                  lv[2][:500])
        check(state(p.pid) == 'T', 'still stopped after live mode')
        # gdb opens it
        if shutil.which('gdb'):
            r = subprocess.run(['gdb', '-nx', '-batch', '-ex', 'info threads', '-ex', 'bt', exe, d],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                               env=dict(os.environ, DEBUGINFOD_URLS=''))
            txt = r.stdout.decode(errors='replace')
            nthreads = len(re.findall(r'^\*?\s+\d+\s+Thread 0x', txt, re.M))
            check(r.returncode == 0 and nthreads == 3 and re.search(r'^#0 ', txt, re.M) and
                  'not a core' not in txt and 'failed' not in txt.lower(),
                  'gdb reads the dump: 3 threads and a backtrace', txt[-1500:])
        compressed(out, p, d, ref)
    finally:
        kill(p)


SYSTEMD_COREDUMP = '/lib/systemd/systemd-coredump'
COREDUMP_SOCKET = '/run/systemd/coredump'
COREDUMP_DIR = '/var/lib/systemd/coredump'


JOURNALD = '/lib/systemd/systemd-journald'
JOURNAL_SOCKET = '/run/systemd/journal/socket'


def socket_listened(path, kind=socket.SOCK_SEQPACKET):
    s = socket.socket(socket.AF_UNIX, kind)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def journal_listened():
    return socket_listened(JOURNAL_SOCKET, socket.SOCK_DGRAM)


def serve(argv, log, ready):
    """Starts a service in the background (its output to log) and waits up
    to 20 s for ready(); returns its Popen."""
    with open(log, 'wb') as f:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=f)
    deadline = time.monotonic() + 20
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def systemd_stored(out, p, raw):
    """Hands the raw core of the stopped process p to systemd-coredump the
    way the kernel does (kernel.core_pattern's arguments, the core on its
    standard input), with systemd-coredump.socket's service behind it: the
    system's own when systemd runs, else one started here with
    systemd-socket-activate.  journald runs too (the system's, or one
    started here), so that `coredumpctl dump` can give the core back.
    Returns the file it stored (zstd), or None, and the core that
    `coredumpctl dump` wrote, or None."""
    if not check(os.access(SYSTEMD_COREDUMP, os.X_OK) and shutil.which('systemd-socket-activate'),
                 'systemd-coredump installed (scripts/install-deps.sh)'):
        return None, None
    listener = None
    journald = None
    if not journal_listened() and check(os.access(JOURNALD, os.X_OK),
                                        'systemd-journald installed (scripts/install-deps.sh)'):
        journald = serve([JOURNALD], os.path.join(out, 'journald.log'), journal_listened)
    if not socket_listened(COREDUMP_SOCKET):
        if os.path.exists(COREDUMP_SOCKET):
            os.unlink(COREDUMP_SOCKET)          # a stale socket: nobody behind it
        os.makedirs(os.path.dirname(COREDUMP_SOCKET), exist_ok=True)
        listener = serve(['systemd-socket-activate', '--seqpacket', '-a', '-l',
                          COREDUMP_SOCKET, SYSTEMD_COREDUMP],
                         os.path.join(out, 'socket-activate.log'),
                         lambda: socket_listened(COREDUMP_SOCKET))
    try:
        before = set(os.listdir(COREDUMP_DIR)) if os.path.isdir(COREDUMP_DIR) else set()
        st = os.stat('/proc/%d' % p.pid)
        # %P %u %g %s %t %c %h %d, as Debian's 50-coredump.conf has them
        argv = [SYSTEMD_COREDUMP, str(p.pid), str(st.st_uid), str(st.st_gid), '11',
                str(int(time.time())), str(1 << 63), os.uname().nodename, '1']
        with open(raw, 'rb') as f:
            r = subprocess.run(argv, stdin=f, capture_output=True, timeout=120)
        check(r.returncode == 0, 'systemd-coredump takes the core', r.stderr.decode()[-500:])
        stored = None
        deadline = time.monotonic() + 60
        while not stored and time.monotonic() < deadline:
            new = set(os.listdir(COREDUMP_DIR)) - before if os.path.isdir(COREDUMP_DIR) else set()
            done = [n for n in new if '.%d.' % p.pid in n and n.endswith('.zst')]
            stored = os.path.join(COREDUMP_DIR, done[0]) if done else None
            time.sleep(0.1)
        if not check(stored, 'systemd-coredump stored the core as .zst in %s' % COREDUMP_DIR,
                     ', '.join(sorted(os.listdir(COREDUMP_DIR)))[-500:]
                     if os.path.isdir(COREDUMP_DIR) else 'no such directory'):
            return None, None
        # written under a temporary name and renamed: complete once seen
        print('systemd-coredump stored %s (%s)' % (stored, mib(os.path.getsize(stored))))
        # what an administrator does next: the core back out of systemd's
        # store, through the journal entry systemd-coredump wrote
        ctl = os.path.join(out, 'coredumpctl.core')
        r = subprocess.run(['coredumpctl', 'dump', str(p.pid), '-o', ctl],
                           capture_output=True, text=True, timeout=120)
        if not check(r.returncode == 0 and os.path.exists(ctl),
                     'coredumpctl dump %d writes the core' % p.pid, r.stderr[-500:]):
            ctl = None
        return stored, ctl
    finally:
        if journald:
            journald.terminate()
            journald.wait()
        if listener:
            listener.terminate()
            listener.wait()
            if os.path.exists(COREDUMP_SOCKET):
                os.unlink(COREDUMP_SOCKET)


def same_as_raw(path, what, ref):
    """types, arenas and refs on path give ref, the raw core's output."""
    for cmd in ('types', 'arenas', 'refs'):
        a = pyheap(cmd, path)
        check(a[0] == 0 and a[1] == ref[cmd][1], '%s on %s equals the raw core\'s' % (cmd, what),
              'exit %d: %s' % (a[0], a[2][:500]))


def compressed(out, p, raw, ref):
    made = []
    for tool, args, name in (('zstd', ['zstd', '-q', '-f', '-k', raw, '-o'], 'zst'),
                             ('lz4', ['lz4', '-q', '-f', raw], 'lz4'),
                             ('xz', ['xz', '-T2', '-1', '-k', '-f', '-c', raw], 'xz')):
        if not shutil.which(tool):
            check(False, '%s installed (scripts/install-deps.sh)' % tool)
            continue
        dst = raw + '.' + name
        if name == 'xz':
            with open(dst, 'wb') as f:
                r = subprocess.run(args, stdout=f)
        else:
            r = subprocess.run(args + [dst])
        check(r.returncode == 0, '%s compresses the core' % tool)
        made.append(dst)
    # a stream whose size is not declared, as systemd-coredump writes them
    if shutil.which('zstd'):
        dst = os.path.join(out, 'stream.zst')
        with open(raw, 'rb') as i, open(dst, 'wb') as o:
            subprocess.run(['zstd', '-q', '-c'], stdin=i, stdout=o)
        made.append(dst)
        # two frames, as a concatenation or pzstd writes them; pyheap checks
        # each frame's checksum itself, off the decoding thread
        two = os.path.join(out, 'two-frames.zst')
        ends = []
        with open(raw, 'rb') as i, open(two, 'wb') as o:
            for part in (i.read(os.path.getsize(raw) // 3), i.read()):
                o.write(subprocess.run(['zstd', '-q', '-c'], input=part,
                                       stdout=subprocess.PIPE).stdout)
                ends.append(o.tell())
        made.append(two)
        # a checksum that does not match its frame: the decoder cannot tell
        for src, end, frame in ((made[0], os.path.getsize(made[0]), 1),
                                (two, ends[0], 1), (two, ends[1], 2)):
            bad = bytearray(open(src, 'rb').read())
            bad[end - 1] ^= 0x20
            sumbad = os.path.join(out, 'sum-' + os.path.basename(src))
            with open(sumbad, 'wb') as f:
                f.write(bad)
            rc, so, se, _ = pyheap('types', sumbad)
            what = 'frame %d of %s with a wrong checksum' % (frame, os.path.basename(src))
            one_line_error(rc, se, sumbad, what)
            check('checksum' in se and '(frame %d)' % frame in se, '%s: says so' % what, se)
            os.unlink(sumbad)
    stored, ctl = systemd_stored(out, p, raw)
    if ctl:
        check(filecmp.cmp(raw, ctl, shallow=False),
              'coredumpctl dump gives back the core byte for byte')
        same_as_raw(ctl, 'the output of coredumpctl dump', ref)
        os.unlink(ctl)
    if stored:
        with open(stored, 'rb') as f:
            check(f.read(4) == b'\x28\xb5\x2f\xfd', 'systemd-coredump stores zstd')
        same_as_raw(stored, 'the file systemd-coredump stored', ref)
        os.unlink(stored)
    dst = os.path.join(out, 'pyheap-dump.core.zst')
    rc, so, se, _ = pyheap('dump', p.pid, '-o', dst)
    check(rc == 0, 'dump -o FILE.zst', se)
    print('dump -o .zst: %s' % se.strip())
    made.append(dst)
    with open(dst, 'rb') as f:
        check(f.read(4) == b'\x28\xb5\x2f\xfd', 'dump -o FILE.zst writes zstd')
    # named as what it is not: the magic decides
    disguised = os.path.join(out, 'disguised.core')
    shutil.copy(made[0], disguised)
    made.append(disguised)
    for c in made:
        same_as_raw(c, os.path.basename(c), ref)
    # truncated and corrupt: one line, exit 1, memory bounded
    rawsize = os.path.getsize(raw)
    bound = rawsize // 1024 * 2 + 300 * 1024          # KiB: ASan's shadow included
    for c in made[:-1]:
        data = open(c, 'rb').read()
        cut = os.path.join(out, 'cut-' + os.path.basename(c))
        with open(cut, 'wb') as f:
            f.write(data[:len(data) // 2])
        rc, so, se, rss = pyheap('types', cut)
        one_line_error(rc, se, cut, 'truncated %s' % os.path.basename(c))
        check(rss < bound, 'truncated %s: peak RSS %d KiB < %d' % (os.path.basename(c), rss, bound))
        bad = bytearray(data)
        for k in range(len(bad) // 3, len(bad) // 3 + 4096, 7):
            bad[k] ^= 0x5a
        cor = os.path.join(out, 'corrupt-' + os.path.basename(c))
        with open(cor, 'wb') as f:
            f.write(bad)
        rc, so, se, rss = pyheap('types', cor)
        one_line_error(rc, se, cor, 'corrupt %s' % os.path.basename(c))
        os.unlink(cut)
        os.unlink(cor)
    # a zstd header that claims a terabyte, then garbage
    bomb = os.path.join(out, 'bomb.zst')
    with open(bomb, 'wb') as f:
        f.write(b'\x28\xb5\x2f\xfd\xe0' + (1 << 40).to_bytes(8, 'little') + os.urandom(4096))
    rc, so, se, rss = pyheap('types', bomb)
    one_line_error(rc, se, bomb, 'a zstd frame claiming 1 TiB')
    check(rss < 300 * 1024, 'a zstd frame claiming 1 TiB: peak RSS %d KiB' % rss)
    for c in made:
        os.unlink(c)


# ---- bad input ----

def case_bad(out):
    can_trace()
    core = os.path.join(out, 'x.core')
    # a pid that does not exist
    with open('/proc/sys/kernel/pid_max') as f:
        pid = int(f.read()) - 1
    while os.path.exists('/proc/%d' % pid):
        pid -= 1
    rc, so, se, _ = pyheap('dump', pid, '-o', core)
    check(rc == 1 and 'no such process' in se and len(se.splitlines()) == 1,
          'dump of a pid that does not exist: exit 1, one line', se)
    check(not os.listdir(out), 'no file left', str(os.listdir(out)))
    rc, so, se, _ = pyheap('types', '--pid', pid)
    check(rc == 1 and 'no such process' in se, 'types --pid of a pid that does not exist', se)
    # a kernel thread
    try:
        comm = open('/proc/2/comm').read().strip()
    except OSError:
        comm = ''
    if comm == 'kthreadd':
        rc, so, se, _ = pyheap('dump', 2, '-o', core)
        check(rc == 1 and 'cannot trace' in se, 'dump of a kernel thread: exit 1', se)
    else:
        print('SKIP: pid 2 is not kthreadd here: kernel-thread case not run')
    # a process already traced
    sl = subprocess.Popen(['sleep', '60'])
    st = None
    if shutil.which('strace'):
        st = subprocess.Popen(['strace', '-p', str(sl.pid), '-o', os.devnull],
                              stderr=subprocess.DEVNULL)
        for _ in range(500):
            if tracer(sl.pid):
                break
            time.sleep(0.01)
        rc, so, se, _ = pyheap('dump', sl.pid, '-o', core)
        check(rc == 1 and 'already traced by pid %d' % st.pid in se,
              'dump of a process strace traces: exit 1 naming the tracer', se)
        st.terminate()
        st.wait()
    else:
        check(False, 'strace installed (scripts/install-deps.sh)')
    kill(sl)
    # a directory that does not exist: fails before the process is stopped
    rc, so, se, _ = pyheap('dump', os.getpid(), '-o', os.path.join(out, 'nodir', 'x.core'))
    check(rc == 1 and 'No such file or directory' in se, 'dump into a missing directory', se)
    # a process that exits during the dump: big, killed once the dump holds it
    big = subprocess.Popen([DEBIAN_PY, '-c', 'import os, signal, time\n'
                            'x = b"x" * (768 << 20)\nos.kill(os.getpid(), signal.SIGSTOP)\n'
                            'time.sleep(600)\n'])
    if wait_state(big.pid, 'T'):
        dump = subprocess.Popen([PYHEAP, 'dump', str(big.pid), '-o', core],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # once the copy is under way (the temporary file passes 64 MiB)
        for _ in range(40000):
            tmp = [f for f in os.listdir(out) if '.tmp.' in f]
            try:
                if tmp and os.path.getsize(os.path.join(out, tmp[0])) > (64 << 20):
                    break
            except OSError:
                pass
            if dump.poll() is not None:
                break
            time.sleep(0.0005)
        big.kill()
        so, se = dump.communicate()
        se = se.decode(errors='replace')
        check(dump.returncode == 1 and 'exited during the dump' in se,
              'a process killed during the dump: exit 1, "exited during the dump"',
              'exit %s: %s' % (dump.returncode, se))
        check(not os.listdir(out), 'no file left after the process exited',
              str(os.listdir(out)))
    else:
        check(False, 'the big process stopped itself')
    kill(big)
    # a full disk
    full = os.path.join(out, 'full')
    os.makedirs(full, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m', 'pyheap-full', full],
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        print('SKIP: cannot mount a small tmpfs (%s): full-disk case not run' %
              r.stderr.decode(errors='replace').strip())
        return
    p = start_stopped(DEBIAN_PY)
    try:
        for name in ('full.core', 'full.core.zst'):
            if name.endswith('.zst'):
                subprocess.run(['umount', full])
                subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k', 'pyheap-full', full])
            target = os.path.join(full, name)
            rc, so, se, _ = pyheap('dump', p.pid, '-o', target)
            check(rc == 1 and 'No space left on device' in se and len(se.splitlines()) == 1,
                  'dump to a full disk (%s): exit 1, one line' % name, se)
            check(not os.listdir(full), 'full disk (%s): nothing left, under either name' % name,
                  str(os.listdir(full)))
            check(state(p.pid) == 'T', 'full disk: the process is back in its stop')
    finally:
        kill(p)
        subprocess.run(['umount', full])
        os.rmdir(full)


# ---- watch ----

def events(text):
    ev = []
    for line in text.splitlines():
        try:
            ev.append(json.loads(line))
        except ValueError:
            check(False, 'watch --json: every line is JSON', line)
    return ev


def case_watch(out):
    can_trace()
    # --pid, two RSS levels, --keep 1, snapshots, SIGTERM
    d = os.path.join(out, 'pid')
    p = subprocess.Popen([DEBIAN_PY, '-c', 'import time\nx = [str(i) for i in range(200000)]\n'
                          'time.sleep(600)\n'])
    time.sleep(0.5)
    w = subprocess.Popen([PYHEAP, '--json', 'watch', '--pid', str(p.pid), '--rss', '1M',
                          '--rss', '2M', '--min-interval', '0', '--keep', '1', '--dir', d],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        snaps = [f for f in os.listdir(d) if f.endswith('.types.json')] if os.path.isdir(d) else []
        if len(snaps) == 2:
            break
        time.sleep(0.05)
    w.send_signal(signal.SIGTERM)
    so, se = w.communicate(timeout=60)
    so, se = so.decode(), se.decode()
    kill(p)
    check(w.returncode == 0, 'watch stops on SIGTERM with exit 0', se)
    ev = events(so)
    kinds = [e['event'] for e in ev]
    check(kinds[:1] == ['start'] and kinds[-1:] == ['stop'], 'watch: start ... stop', str(kinds))
    check(kinds.count('trigger') == 2 and kinds.count('dump') == 2, 'watch: two triggers, two dumps',
          str(kinds))
    check(kinds.count('deleted') == 1, 'watch --keep 1 deleted the older dump', str(kinds))
    check(len(se.strip().splitlines()) == len(ev), 'watch: one stderr line per event',
          '%d lines, %d events' % (len(se.strip().splitlines()), len(ev)))
    files = sorted(os.listdir(d))
    cores = [f for f in files if f.endswith('.core')]
    snaps = [os.path.join(d, f) for f in files if f.endswith('.types.json')]
    check(len(cores) == 1 and len(snaps) == 2, 'watch: one core kept, both snapshots', str(files))
    if len(snaps) == 2:
        rc, so2, se2, _ = pyheap('diff', snaps[0], snaps[1])
        check(rc == 0, 'diff on the series of snapshots', se2)
    for e in ev:
        if e['event'] == 'dump':
            check(e.get('pause_ms', -1) >= 0 and e.get('bytes', 0) > 0 and e.get('pid') == p.pid,
                  'dump event: pid, bytes, pause', str(e))
            break
    # -- CMD: started, dumped, its exit reported, then the watcher ends
    d = os.path.join(out, 'cmd')
    rc, so, se, _ = pyheap('--json', 'watch', '--rss', '20M', '--dir', d, '--', DEBIAN_PY, '-c',
                           'import time\nx = []\nfor i in range(40):\n'
                           '    x.append(bytearray(b"y" * 1000000)); time.sleep(0.02)\n'
                           'time.sleep(0.5)\n', timeout=120)
    ev = events(so)
    kinds = [e['event'] for e in ev]
    check(rc == 0 and 'dump' in kinds and 'exit' in kinds and kinds[-1] == 'stop',
          'watch -- CMD: dump, exit, stop', '%d %s %s' % (rc, kinds, se[-800:]))
    ex = [e for e in ev if e['event'] == 'exit']
    check(ex and ex[0].get('status') == 0, 'watch -- CMD: the exit status', str(ex))
    # a cgroup v2 stand-in: memory.current and memory.max read, cgroup.procs
    # listed, only Python processes dumped
    fake = os.path.join(out, 'fakecg')
    os.makedirs(fake, exist_ok=True)
    py = subprocess.Popen([DEBIAN_PY, '-c', 'import time\ntime.sleep(600)\n'])
    sl = subprocess.Popen(['sleep', '600'])
    with open(os.path.join(fake, 'cgroup.procs'), 'w') as f:
        f.write('%d\n%d\n' % (py.pid, sl.pid))
    with open(os.path.join(fake, 'memory.max'), 'w') as f:
        f.write('%d\n' % (100 << 20))
    with open(os.path.join(fake, 'memory.current'), 'w') as f:
        f.write('%d\n' % (10 << 20))
    d = os.path.join(out, 'fake')
    w = subprocess.Popen([PYHEAP, '--json', 'watch', '--cgroup', fake, '--at', '50', '--dir', d,
                          '--interval', '20'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    early = os.listdir(d) if os.path.isdir(d) else []
    with open(os.path.join(fake, 'memory.current'), 'w') as f:
        f.write('%d\n' % (60 << 20))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(f.endswith('.types.json') for f in os.listdir(d)):
            break
        time.sleep(0.05)
    w.send_signal(signal.SIGTERM)
    so, se = w.communicate(timeout=60)
    kill(py)
    kill(sl)
    ev = events(so.decode())
    tr = [e for e in ev if e['event'] == 'trigger']
    dumps = [e for e in ev if e['event'] == 'dump']
    check(not early, 'fake v2 cgroup: nothing below the level', str(early))
    check(len(tr) == 1 and tr[0].get('usage') == 60 << 20 and tr[0].get('limit') == 100 << 20,
          'fake v2 cgroup: one trigger at 60 of 100 MiB', str(tr))
    check(len(dumps) == 1 and dumps[0].get('pid') == py.pid,
          'fake v2 cgroup: the Python process dumped, not sleep', str(dumps))
    check('cgroup v2' in ev[0].get('text', ''), 'fake v2 cgroup: seen as v2', ev[0].get('text', ''))


# ---- a real OOM kill ----

def mid_collection(err):
    """Whether pyheap's only warning is that the collector was running."""
    warns = [l for l in err.splitlines() if l.startswith('pyheap: warning: ')]
    return bool(warns) and all('the collector was running' in l for l in warns)


def memory_cgroup_root():
    """(version, directory under which a test cgroup can be made)."""
    try:
        with open('/sys/fs/cgroup/cgroup.controllers') as f:
            if 'memory' in f.read().split():
                with open('/sys/fs/cgroup/cgroup.subtree_control') as g:
                    if 'memory' not in g.read().split():
                        with open('/sys/fs/cgroup/cgroup.subtree_control', 'w') as h:
                            h.write('+memory')
                return 2, '/sys/fs/cgroup'
    except OSError:
        pass
    with open('/proc/mounts') as f:
        for line in f:
            dev, mnt, typ, opts = line.split()[:4]
            if typ == 'cgroup' and 'memory' in opts.split(','):
                return 1, mnt
    return None, None


def case_oom(out):
    can_trace()
    if os.geteuid() != 0:
        skip('not root: cannot make a memory cgroup')
    version, root = memory_cgroup_root()
    if not version:
        skip('no memory cgroup controller mounted (v1 or v2)')
    limit = 200 << 20
    cg = os.path.join(root, 'pyheap-test-%d' % os.getpid())
    try:
        os.mkdir(cg)
    except OSError as e:
        skip('cannot create a cgroup under %s: %s' % (root, e))
    leaker = watcher = None
    try:
        def put(name, value):
            with open(os.path.join(cg, name), 'w') as f:
                f.write(str(value))
        if version == 2:
            put('memory.max', limit)
            if os.path.exists(os.path.join(cg, 'memory.swap.max')):
                put('memory.swap.max', 0)
            ooms = lambda: int(re.search(r'oom_kill (\d+)', open(os.path.join(cg, 'memory.events')).read()).group(1))
        else:
            put('memory.limit_in_bytes', limit)
            if os.path.exists(os.path.join(cg, 'memory.memsw.limit_in_bytes')):
                put('memory.memsw.limit_in_bytes', limit)
            put('memory.oom_control', 0)
            ooms = lambda: int(re.search(r'oom_kill (\d+)', open(os.path.join(cg, 'memory.oom_control')).read()).group(1))
        ooms0 = ooms()
        d = os.path.join(out, 'dumps')
        t0 = time.time()
        watcher = subprocess.Popen([PYHEAP, '--json', 'watch', '--cgroup', cg, '--at', '70',
                                    '--dir', d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # the watcher is up when its start line is out
        line = watcher.stdout.readline().decode()
        start = json.loads(line) if line.startswith('{') else {}
        check(start.get('event') == 'start', 'watch started', line)
        procs = os.path.join(cg, 'cgroup.procs')

        def enter():
            with open(procs, 'w') as f:
                f.write(str(os.getpid()))
        t_leak = time.time()
        # about 100 MB/s, as a fast real leak grows: the 30% between the
        # trigger and the limit last 0.6 s, time for a watcher slowed by
        # the sanitizers on a busy machine to stop the process (at full
        # speed, 500 MB/s, they lasted 80 ms, and the kill could win)
        leaker = subprocess.Popen([DEBIAN_PY, os.path.join(HERE, 'oomleak.py'), '2000', '0.05'],
                                  preexec_fn=enter, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            lrc = leaker.wait(timeout=90)
        except subprocess.TimeoutExpired:
            leaker.kill()
            lrc = leaker.wait()
            check(False, 'the leaker was killed by the kernel within 90 s')
        t_kill = time.time()
        # let the watcher see the kill and finish the snapshot
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and os.path.isdir(d) and \
                not any(f.endswith('.types.json') for f in os.listdir(d)):
            time.sleep(0.05)
        time.sleep(0.3)
        watcher.send_signal(signal.SIGTERM)
        so, se = watcher.communicate(timeout=60)
        ev = [start] + events(so.decode())
        ooms1 = ooms()
        check(lrc == -signal.SIGKILL, 'the leaker was killed by SIGKILL (exit 137)', 'returncode %s' % lrc)
        check(ooms1 > ooms0, 'the cgroup counted an OOM kill (%d -> %d)' % (ooms0, ooms1))
        check(watcher.returncode == 0, 'watch exits 0 on SIGTERM', se.decode()[-800:])
        trig = [e for e in ev if e['event'] == 'trigger']
        dumps = [e for e in ev if e['event'] == 'dump']
        oomev = [e for e in ev if e['event'] == 'oom_kill']
        check(len(trig) >= 1 and len(dumps) >= 1 and dumps[0].get('pid') == leaker.pid,
              'one trigger and a dump of the leaker before the kill', str(ev))
        check(bool(oomev), 'watch reported the OOM kill', str([e['event'] for e in ev]))
        if not dumps:
            return
        core = dumps[0]['file']
        check(dumps[0]['t'] < t_kill, 'the dump was complete before the kill')
        # The trigger stops the leaker wherever it is, and that may be in
        # the middle of a collection: the leaker spends about 6% of its
        # time, 10% of its running time, collecting (measured with
        # gc.callbacks on Debian's 3.11).  pyheap then says so and exits 3;
        # nothing else may be wrong with the dump.
        rc, so, se, _ = pyheap('info', core)
        collecting = rc == 3 and mid_collection(se)
        if collecting:
            print('the dump caught the leaker in the middle of a collection; pyheap says so '
                  '(exit 3) and the leak must still be named')
        check(rc == 0 or collecting,
              'info on the dump: exit 0 with no warnings, or only the collection in progress',
              se[-800:])
        rc, so, se, _ = pyheap('types', '--top', '5', core)
        check((rc == 0 or collecting) and '__main__.LeakyRecord' in so,
              'types on the dump names __main__.LeakyRecord', so + se)
        rc, so2, se, _ = pyheap('suspects', core)
        check((rc == 0 or collecting) and "['_LEAK']" in so2, 'suspects names the container _LEAK',
              so2[:2000] + se)
        snap = core[:-len('.core')] + '.types.json'
        check(os.path.exists(snap) and 'LeakyRecord' in open(snap).read(),
              'the types --json snapshot beside the dump names LeakyRecord')
        # the timeline
        tr = trig[0]
        print('timeline (cgroup v%d %s, limit %s):' % (version, cg, mib(limit)))
        print('  %7.3f s  leaker started (%s %s)' % (t_leak - t0, DEBIAN_PY, 'oomleak.py'))
        print('  %7.3f s  trigger: usage %s = %.1f%% of the limit (>= 70%%)' % (
            tr['t'] - t0, mib(tr['usage']), tr['percent']))
        print('  %7.3f s  dump written: %s, %.0f ms, process paused %.1f ms' % (
            dumps[0]['t'] - t0, mib(dumps[0]['bytes']), dumps[0]['ms'], dumps[0]['pause_ms']))
        if oomev:
            print('  %7.3f s  watch saw the OOM kill (oom_kill %d -> %d)' % (oomev[0]['t'] - t0, ooms0, ooms1))
        print('  %7.3f s  leaker reaped: %s' % (t_kill - t0, 'killed by signal %d (exit %d)' % (
            -lrc, 128 - lrc) if lrc < 0 else 'exited %d' % lrc))
        print('  top of `types` on the dump:')
        for line in so.splitlines()[:4]:
            print('    ' + line)
    finally:
        for p in (leaker, watcher):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        for _ in range(100):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.05)
        check(not os.path.exists(cg), 'the test cgroup is removed')


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    case, out = sys.argv[1], os.path.abspath(sys.argv[2])
    if os.path.isdir(out):
        for f in os.listdir(out):
            path = os.path.join(out, f)
            if os.path.ismount(path):
                subprocess.run(['umount', path])
        shutil.rmtree(out)
    os.makedirs(out)
    if case == 'gcore':
        case_gcore(out, sys.argv[3])
    elif case == 'bad':
        case_bad(out)
    elif case == 'watch':
        case_watch(out)
    elif case == 'oom':
        case_oom(out)
    else:
        sys.stderr.write('unknown case %s\n' % case)
        return 2
    print('%d failed' % len(FAILED) if FAILED else 'all passed', flush=True)
    if not FAILED:
        shutil.rmtree(out, ignore_errors=True)
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
