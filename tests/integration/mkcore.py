#!/usr/bin/python3
"""mkcore.py - make cores of a known CPython heap.

    mkcore.py [--chroot DIR] INTERPRETER OUTDIR [BUILDER]

Runs INTERPRETER BUILDER OUTDIR (BUILDER: a script in this directory,
default heapbuild.py; graphbuild.py, leakbuild.py) and takes a core each
time the builder stops itself (the protocol is in freeze.py): the builder
writes OUTDIR/ready naming the core and stops; this script waits for state
'T' (at most 120 s), runs `gcore -o OUTDIR/NAME PID`, renames the result to
OUTDIR/NAME and continues the process, until the builder says it is
finished; then it SIGKILLs and reaps it.  OUTDIR then holds the cores, what
the builder wrote (heapbuild.py: truth.json, mallocstats.txt, core.gc.json;
graphbuild.py: graphtruth.json, core.gc.json; leakbuild.py: leaktruth.json,
core1, core2) and its output in OUTDIR/<builder>.log.

--chroot DIR: INTERPRETER is a path inside the chroot DIR (a Debian chroot
made by scripts/distro.sh).  The builder and freeze.py are copied into
DIR/tmp/pyheap-<unique>/, the process is started as
`setsid chroot DIR INTERPRETER /tmp/pyheap-<unique>/BUILDER
/tmp/pyheap-<unique>/out` (setsid: a session of its own, so that it outlives
whatever started it), DIR/proc is mounted for it when it is not (the
builders read /proc/self) and unmounted afterwards, the cores are taken from
the host (their NT_FILE notes then name host paths under DIR, which pyheap
reads directly), the outputs are moved to OUTDIR and the copy is deleted.

As a module: make_cores(interp, outdir, builder, chroot=None) does the same
and returns the list of core names (leakcheck.py, debuginfodcheck.py).

Exit status: 0 done; 77 skipped (no interpreter, no gcore, ptrace forbidden),
with a loud "SKIP:" line; 1 anything else.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
STOP_TIMEOUT = 120
GCORE_TIMEOUT = 120
HELPERS = ('freeze.py',)          # imported by every builder


class Skip(Exception):
    pass


class Fail(Exception):
    pass


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
    except OSError:
        return None
    # comm may contain spaces and parens: the state follows the last ')'.
    return s[s.rindex(')') + 2]


def clean_env():
    env = dict(os.environ)
    for k in ('PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'PYTHONHOME',
              'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONASYNCIODEBUG'):
        env.pop(k, None)
    env['PYTHONDONTWRITEBYTECODE'] = '1'    # the builders' `import freeze`: no __pycache__
    env['DEBUGINFOD_URLS'] = ''         # gdb never goes to the network
    return env


def check_can_core(interp_host_path):
    if not os.access(interp_host_path, os.X_OK):
        raise Skip('interpreter %s not found' % interp_host_path)
    if not shutil.which('gcore'):
        raise Skip('gcore not found (install gdb)')
    try:
        with open('/proc/sys/kernel/yama/ptrace_scope') as f:
            if f.read().strip() == '3':
                raise Skip('ptrace disabled (kernel.yama.ptrace_scope = 3)')
    except OSError:
        pass


class Workdir:
    """Where the builder runs and writes: OUTDIR itself on the host; in a
    chroot, a fresh DIR/tmp/pyheap-<unique>/ (builder, helpers, out/)."""

    def __init__(self, outdir, builder, chroot):
        self.outdir, self.chroot = outdir, chroot
        self.mounted_proc = False
        if chroot is None:
            self.host_out = outdir
            self.inner_out = outdir
            self.inner_builder = builder
            self.top = None
            return
        tmp = os.path.join(chroot, 'tmp')
        if not os.path.isdir(tmp):
            raise Fail('%s is not a chroot (no tmp/)' % chroot)
        self.top = tempfile.mkdtemp(prefix='pyheap-', dir=tmp)
        os.chmod(self.top, 0o755)
        inner_top = '/tmp/' + os.path.basename(self.top)
        for f in (builder,) + tuple(os.path.join(HERE, h) for h in HELPERS):
            shutil.copy(f, self.top)
        self.host_out = os.path.join(self.top, 'out')
        os.mkdir(self.host_out)
        self.inner_out = inner_top + '/out'
        self.inner_builder = inner_top + '/' + os.path.basename(builder)
        # DIR/proc is shared by every run in the chroot at the time (two
        # suites, two checkouts): each holds a shared lock while its
        # builder runs, and the last one out unmounts
        # (.pyheap-mount.lock is held only while mounting or unmounting)
        proc = os.path.join(chroot, 'proc')
        with open(os.path.join(chroot, 'tmp', '.pyheap-mount.lock'), 'a') as m:
            fcntl.flock(m, fcntl.LOCK_EX)
            if not os.path.ismount(proc):
                r = subprocess.run(['mount', '-t', 'proc', 'proc', proc], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
                if r.returncode != 0:
                    raise Fail('cannot mount proc on %s: %s' % (proc, r.stdout.decode(errors='replace')))
            self.proc_lock = open(os.path.join(chroot, 'tmp', '.pyheap-proc.lock'), 'a')
            fcntl.flock(self.proc_lock, fcntl.LOCK_SH)
        self.mounted_proc = True

    def argv(self, interp):
        if self.chroot is None:
            return [interp, self.inner_builder, self.inner_out]
        return ['setsid', 'chroot', self.chroot, interp, self.inner_builder, self.inner_out]

    def collect(self):
        """Moves the builder's outputs to OUTDIR (chroot only)."""
        if self.chroot is None:
            return
        for name in os.listdir(self.host_out):
            dst = os.path.join(self.outdir, name)
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            shutil.move(os.path.join(self.host_out, name), dst)

    def cleanup(self):
        if self.top is not None:
            shutil.rmtree(self.top, ignore_errors=True)
            self.top = None
        if self.mounted_proc:
            with open(os.path.join(self.chroot, 'tmp', '.pyheap-mount.lock'), 'a') as m:
                fcntl.flock(m, fcntl.LOCK_EX)
                try:
                    fcntl.flock(self.proc_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    subprocess.run(['umount', os.path.join(self.chroot, 'proc')],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                except OSError:
                    pass                 # another run still uses it
                self.proc_lock.close()
            self.mounted_proc = False


STALE = ('truth.json', 'graphtruth.json', 'leaktruth.json', 'mallocstats.txt', 'ready',
         'ready.tmp', 'finished', 'finished.tmp', 'warmup.json', 'truth-version')


def checker_args(argv, usage, builder):
    """The command line the checkers share: `[--chroot DIR] INTERPRETER OUTDIR
    PYHEAP [OPTIONS...]` makes OUTDIR's cores with `builder` first, `OUTDIR
    PYHEAP [OPTIONS...]` checks cores made before.  Returns (OUTDIR, PYHEAP,
    OPTIONS), or the exit status when there is nothing to check: 2 (usage),
    SKIP (said by a SKIP: line), 1 (the cores could not be made)."""
    args = argv[1:]
    chroot = None
    if args[:1] == ['--chroot'] and len(args) >= 2:
        chroot, args = os.path.abspath(args[1]), args[2:]
    make = chroot is not None or (args and os.path.isfile(args[0]))
    if len(args) < (3 if make else 2):
        sys.stderr.write(usage + '\n')
        return 2
    if not make:
        return os.path.abspath(args[0]), args[1], args[2:]
    interp, out = args[0], os.path.abspath(args[1])
    try:
        make_cores(interp, out, builder, chroot)
    except Skip as e:
        print('SKIP: %s' % e, flush=True)
        return SKIP
    except Fail as e:
        print('FAIL: %s' % e, flush=True)
        return 1
    return out, args[2], args[3:]


def make_cores(interp, outdir, builder='heapbuild.py', chroot=None, log=sys.stdout):
    """Runs the builder under interp (inside chroot when given), takes its
    cores; returns their names.  Raises Skip or Fail."""
    outdir = os.path.abspath(outdir)
    builder = os.path.join(HERE, builder)
    if not os.path.isfile(builder):
        raise Fail('builder %s not found' % builder)
    what = os.path.basename(builder)
    logname = os.path.splitext(what)[0] + '.log'
    host_interp = interp if chroot is None else os.path.join(chroot, interp.lstrip('/'))
    check_can_core(host_interp)
    gcore = shutil.which('gcore')

    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):         # stale results from an earlier run
        if name in STALE or name == logname or name.startswith('core') or name.endswith('.gc.json'):
            os.unlink(os.path.join(outdir, name))

    env = clean_env()
    t0 = time.monotonic()
    wd = Workdir(outdir, builder, chroot)
    blog = open(os.path.join(outdir, logname), 'wb')
    proc = None
    cores = []
    timings = []
    try:
        proc = subprocess.Popen(wd.argv(interp), stdin=subprocess.DEVNULL, stdout=blog,
                                stderr=blog, env=env)
        ready = os.path.join(wd.host_out, 'ready')
        finished = os.path.join(wd.host_out, 'finished')
        while True:
            deadline = time.monotonic() + STOP_TIMEOUT
            while True:
                st = proc_state(proc.pid)
                if st == 'T' and (os.path.exists(ready) or os.path.exists(finished)):
                    break
                if proc.poll() is not None or st in (None, 'Z', 'X'):
                    blog.flush()
                    with open(os.path.join(outdir, logname), 'rb') as f:
                        log.write(f.read().decode(errors='replace'))
                    raise Fail('%s exited with status %s before stopping' % (what, proc.poll()))
                if time.monotonic() > deadline:
                    raise Fail('%s did not stop within %d s' % (what, STOP_TIMEOUT))
                time.sleep(0.02)
            if os.path.exists(finished):
                break
            with open(ready) as f:
                name = f.read().strip()
            os.unlink(ready)
            if not name or '/' in name or name in cores:
                raise Fail('%s asked for a bad core name %r' % (what, name))
            t1 = time.monotonic()
            target = os.path.join(outdir, name)
            g = subprocess.run([gcore, '-o', target, str(proc.pid)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               timeout=GCORE_TIMEOUT)
            out = g.stdout.decode(errors='replace')
            produced = '%s.%d' % (target, proc.pid)
            if 'ptrace: Operation not permitted' in out or \
                    ('Operation not permitted' in out and not os.path.exists(produced)):
                raise Skip('ptrace not permitted here; gcore said:\n' + out)
            if g.returncode != 0 or not os.path.exists(produced):
                log.write(out)
                raise Fail('gcore failed (status %d)' % g.returncode)
            os.rename(produced, target)
            cores.append(name)
            timings.append('%s %.1f s' % (name, time.monotonic() - t1))
            # the builder records the collector state, then goes on
            os.kill(proc.pid, signal.SIGCONT)
            gcj = os.path.join(wd.host_out, name + '.gc.json')
            deadline = time.monotonic() + STOP_TIMEOUT
            while not os.path.exists(gcj):
                if proc.poll() is not None:
                    raise Fail('%s exited with status %s after the core %s' % (what, proc.poll(), name))
                if time.monotonic() > deadline:
                    raise Fail('%s did not record the collector state of %s' % (what, name))
                time.sleep(0.005)
        wd.collect()
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        blog.close()
        wd.cleanup()
    for name in cores:
        if not os.path.exists(os.path.join(outdir, name + '.gc.json')):
            raise Fail('%s did not record the collector state of %s' % (what, name))
    log.write('mkcore: %s%s: pid %d, %s in %.1f s (gcore %s)\n' % (
        interp, ' in chroot %s' % chroot if chroot else '', proc.pid, what,
        time.monotonic() - t0, ', '.join(timings)))
    log.flush()
    return cores


def main(argv):
    args = argv[1:]
    chroot = None
    if args[:1] == ['--chroot'] and len(args) >= 2:
        chroot = os.path.abspath(args[1])
        args = args[2:]
    if len(args) not in (2, 3):
        sys.stderr.write('usage: mkcore.py [--chroot DIR] INTERPRETER OUTDIR [BUILDER]\n')
        return 2
    try:
        make_cores(args[0], args[1], args[2] if len(args) == 3 else 'heapbuild.py', chroot)
    except Skip as e:
        print('SKIP: %s' % e, flush=True)
        sys.stderr.write('SKIP: %s\n' % e)
        return SKIP
    except Fail as e:
        print('mkcore: FAIL: %s' % e, flush=True)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
