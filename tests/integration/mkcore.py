#!/usr/bin/python3
"""mkcore.py - make a core of a known CPython heap.

    mkcore.py INTERPRETER OUTDIR [BUILDER]

Starts INTERPRETER BUILDER OUTDIR (BUILDER: a script in this directory,
default heapbuild.py; graphbuild.py for the reference-graph tests), waits
until the process has stopped itself (state 'T' in /proc/PID/stat, at most
120 s), dumps it with `gcore -o OUTDIR/core PID`, renames the result to
OUTDIR/core, then SIGKILLs and reaps the process.  OUTDIR then holds core
and what the builder wrote (heapbuild.py: truth.json, mallocstats.txt;
graphbuild.py: graphtruth.json), and its output in OUTDIR/<builder>.log
(heapbuild.log, graphbuild.log).

Exit status: 0 done; 77 skipped (no interpreter, no gcore, ptrace forbidden),
with a loud "SKIP:" line; 1 anything else.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
STOP_TIMEOUT = 120
GCORE_TIMEOUT = 120


def skip(msg):
    print('SKIP: ' + msg, flush=True)
    sys.stderr.write('SKIP: ' + msg + '\n')
    sys.exit(SKIP)


def fail(msg):
    print('mkcore: FAIL: ' + msg, flush=True)
    sys.exit(1)


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
    except OSError:
        return None
    # comm may contain spaces and parens: the state follows the last ')'.
    return s[s.rindex(')') + 2]


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write('usage: mkcore.py INTERPRETER OUTDIR [BUILDER]\n')
        return 2
    interp, outdir = sys.argv[1], os.path.abspath(sys.argv[2])
    builder = os.path.join(HERE, sys.argv[3] if len(sys.argv) == 4 else 'heapbuild.py')
    if not os.path.isfile(builder):
        fail('builder %s not found' % builder)
    logname = os.path.splitext(os.path.basename(builder))[0] + '.log'
    what = os.path.basename(builder)
    if not os.access(interp, os.X_OK):
        skip('interpreter %s not found' % interp)
    gcore = shutil.which('gcore')
    if not gcore:
        skip('gcore not found (install gdb)')
    try:
        with open('/proc/sys/kernel/yama/ptrace_scope') as f:
            if f.read().strip() == '3':
                skip('ptrace disabled (kernel.yama.ptrace_scope = 3)')
    except OSError:
        pass

    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):         # stale results from an earlier run
        if name in ('core', 'truth.json', 'graphtruth.json', 'mallocstats.txt', 'ready',
                    'ready.tmp', logname) or name.startswith('core.'):
            os.unlink(os.path.join(outdir, name))

    t0 = time.monotonic()
    log = open(os.path.join(outdir, logname), 'wb')
    env = dict(os.environ)
    for k in ('PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'PYTHONHOME',
              'PYTHONPATH', 'PYTHONSTARTUP'):
        env.pop(k, None)
    proc = subprocess.Popen([interp, builder, outdir],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    try:
        deadline = t0 + STOP_TIMEOUT
        while True:
            st = proc_state(proc.pid)
            if st == 'T':
                break
            if proc.poll() is not None or st in (None, 'Z', 'X'):
                log.close()
                with open(os.path.join(outdir, logname), 'rb') as f:
                    sys.stdout.write(f.read().decode(errors='replace'))
                fail('%s exited with status %s before stopping' % (what, proc.returncode))
            if time.monotonic() > deadline:
                fail('%s did not stop within %d s' % (what, STOP_TIMEOUT))
            time.sleep(0.05)
        t_stop = time.monotonic()
        if not os.path.exists(os.path.join(outdir, 'ready')):
            fail('process stopped but OUTDIR/ready is missing')

        genv = dict(env)
        genv['DEBUGINFOD_URLS'] = ''        # never go to the network
        g = subprocess.run([gcore, '-o', os.path.join(outdir, 'core'), str(proc.pid)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=genv, timeout=GCORE_TIMEOUT)
        out = g.stdout.decode(errors='replace')
        produced = os.path.join(outdir, 'core.%d' % proc.pid)
        if 'ptrace: Operation not permitted' in out or \
                ('Operation not permitted' in out and not os.path.exists(produced)):
            skip('ptrace not permitted here; gcore said:\n' + out)
        if g.returncode != 0 or not os.path.exists(produced):
            sys.stdout.write(out)
            fail('gcore failed (status %d)' % g.returncode)
        os.rename(produced, os.path.join(outdir, 'core'))
        t_core = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()

    size = os.path.getsize(os.path.join(outdir, 'core'))
    print('mkcore: %s: pid %d, heap built and stopped in %.1f s, gcore %.1f s, '
          'core %.1f MiB' % (interp, proc.pid, t_stop - t0, t_core - t_stop,
                             size / 1048576.0), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
