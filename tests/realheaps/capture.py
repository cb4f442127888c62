#!/usr/bin/python3
"""capture.py - freeze a program nobody designed for it at a safe point, with
the interpreter's own truth, and core it (tests/realheaps; realcheck.py runs
it once per cache key).

    capture.py NAME [options] -- COMMAND [ARGS...]

      --delay S           inject the recorder S seconds after the start (default 10)
      --trigger-file F    ... once file F exists
      --trigger-regex RE  ... once RE matches the program's stdout+stderr
      --self              do not inject: the program runs recorder.py itself
                          (env PYHEAP_RECORDER names it) and stops; just wait
      --method env|strdup how the C string reaches the inferior (default env)
      --timeout S         for the stop after the injection (default 300)
      --cwd DIR           working directory of the program
      --outdir DIR        where the files go (realcheck.py: the case's cache dir)

Writes OUTDIR/NAME.core and OUTDIR/NAME.truth.json (the recorder's truth, the
mallocstats text, /proc/PID/{smaps_rollup,status} read while stopped, the
capture's gdb commands and output, timings, the core's PT_LOAD adjacency, and
OUTDIR/NAME.workload.json when the workload wrote one), plus NAME.stdout,
NAME.stderr, NAME.mallocstats.txt, NAME.objects.txt (every object of the
truth by address) and, in the truth, the files the process had mapped (path,
size, mtime: a cached core is stale when one of them changed).

How the recorder gets in (no debug info needed; Debian's stripped non-PIE
python3.11 exports both symbols):

  The program is started with PYHEAP_INJECT in its environment:
      exec(compile(open(P).read(),P,'exec'),{'__name__':'__pyheap_recorder__'})
  --method env (default): the string's address is taken from the initial
      environment block (env_start in /proc/PID/stat + its offset in
      /proc/PID/environ, checked through /proc/PID/mem), so gdb allocates
      nothing in the inferior (a malloc in a thread stopped inside malloc
      would deadlock):
        gdb -batch -nx -p PID -ex 'set confirm off' \\
            -ex 'call (int)Py_AddPendingCall((void*)PyRun_SimpleString, (void*)ADDR)' \\
            -ex detach
  --method strdup: -ex 'set $s = (char*)strdup("...")' then the same call
      with (void*)$s.
  gdb detaches (batch mode exits), the process goes on, its main thread runs
  the pending call at its next eval-breaker check, the recorder writes the
  truth and SIGSTOPs the process; we wait for state T, gcore it, SIGKILL it.
"""

import argparse
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDER = os.path.join(HERE, 'recorder.py')
INJECT = ("exec(compile(open(%r).read(),%r,'exec'),{'__name__':'__pyheap_recorder__'})"
          % (RECORDER, RECORDER))


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rindex(')') + 2]


def env_string_addr(pid, key):
    """Address of the value of KEY in the process's initial environment."""
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    fields = s[s.rindex(')') + 2:].split()
    # fields[0] is field 3 (state); env_start is field 50
    env_start = int(fields[50 - 3])
    with open('/proc/%d/environ' % pid, 'rb') as f:
        env = f.read()
    want = key.encode() + b'='
    off = 0
    for ent in env.split(b'\0'):
        if ent.startswith(want):
            addr = env_start + off + len(want)
            val = ent[len(want):]
            with open('/proc/%d/mem' % pid, 'rb') as m:
                m.seek(addr)
                got = m.read(len(val) + 1)
            if got != val + b'\0':
                raise RuntimeError('environment string not where expected')
            return addr
        off += len(ent) + 1
    raise RuntimeError('%s not in the environment of %d' % (key, pid))


def gdb_inject(pid, method):
    cmds = ['set confirm off', 'set pagination off']
    if method == 'env':
        addr = env_string_addr(pid, 'PYHEAP_INJECT')
        cmds.append('call (int)Py_AddPendingCall((void*)PyRun_SimpleString, (void*)%#x)' % addr)
    else:
        lit = INJECT.replace('\\', '\\\\').replace('"', '\\"')
        cmds.append('set $s = (char*)strdup("%s")' % lit)
        cmds.append('call (int)Py_AddPendingCall((void*)PyRun_SimpleString, (void*)$s)')
    cmds.append('detach')
    argv = ['gdb', '-batch', '-nx', '-p', str(pid)]
    for c in cmds:
        argv += ['-ex', c]
    env = dict(os.environ, DEBUGINFOD_URLS='')
    t0 = time.monotonic()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, timeout=120)
    out = r.stdout.decode(errors='replace')
    ok = re.search(r'^\$\d+ = 0$', out, re.M) is not None
    return {'argv': argv, 'rc': r.returncode, 'output': out[-3000:], 'ok': ok,
            'seconds': round(time.monotonic() - t0, 2)}


def mapped_files(pid):
    """The files the process maps, with their size and mtime now."""
    out = {}
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith('/'):
                path = parts[5].rstrip('\n')
                if path.endswith(' (deleted)') or path in out:
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                out[path] = [st.st_size, st.st_mtime_ns]
    return out


def core_segments(path):
    """PT_LOAD count and how many consecutive PT_LOADs are adjacent in memory
    (end of one == start of the next), as `readelf -lW` would show them."""
    with open(path, 'rb') as f:
        eh = f.read(64)
        phoff, = struct.unpack_from('<Q', eh, 0x20)
        phentsize, phnum = struct.unpack_from('<HH', eh, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    loads = []
    for k in range(phnum):
        p_type, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
            '<IIQQQQQQ', ph, k * phentsize)
        if p_type == 1:
            loads.append((vaddr, memsz, filesz, flags))
    loads.sort()
    adj = 0
    adj_rw = 0
    for a, b in zip(loads, loads[1:]):
        if a[0] + a[1] == b[0]:
            adj += 1
            if a[2] and b[2] and (a[3] & 2) and (b[3] & 2):
                adj_rw += 1
    return {'pt_load': len(loads), 'adjacent_pairs': adj,
            'adjacent_pairs_both_writable_with_data': adj_rw}


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument('name')
    ap.add_argument('--delay', type=float, default=None)
    ap.add_argument('--trigger-file')
    ap.add_argument('--trigger-regex')
    ap.add_argument('--self', dest='self_', action='store_true')
    ap.add_argument('--method', choices=('env', 'strdup'), default='env')
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--cwd')
    ap.add_argument('--outdir', required=True)
    argv = sys.argv[1:]
    if '--' not in argv:
        ap.error('no "-- COMMAND"')
    k = argv.index('--')
    a = ap.parse_args(argv[:k])
    cmd = argv[k + 1:]
    if not cmd:
        ap.error('no command')
    if a.delay is None and not (a.trigger_file or a.trigger_regex or a.self_):
        a.delay = 10.0
    os.makedirs(a.outdir, exist_ok=True)
    prefix = os.path.join(a.outdir, a.name)
    for suf in ('.core', '.truth.json', '.truth.error', '.mallocstats.txt', '.stdout', '.objects.tsv',
                '.objects.txt', '.stderr', '.workload.json'):
        if os.path.exists(prefix + suf):
            os.unlink(prefix + suf)
    env = dict(os.environ)
    for k in ('PYTHONMALLOC', 'PYTHONDEVMODE', 'PYTHONTRACEMALLOC', 'PYTHONHOME',
              'PYTHONPATH', 'PYTHONSTARTUP'):
        env.pop(k, None)
    env.update(PYHEAP_RECORD_OUT=prefix, PYHEAP_RECORDER=RECORDER, PYHEAP_INJECT=INJECT,
               DEBUGINFOD_URLS='')
    if a.trigger_regex:
        env['PYTHONUNBUFFERED'] = '1'       # the trigger reads the output as it comes
    out = open(prefix + '.stdout', 'wb')
    err = open(prefix + '.stderr', 'wb')
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            env=env, cwd=a.cwd)
    pid = proc.pid
    cap = {'cmd': cmd, 'pid': pid, 'method': 'self' if a.self_ else a.method,
           'delay': a.delay, 'trigger_file': a.trigger_file,
           'trigger_regex': a.trigger_regex}
    print('capture: %s: pid %d: %s' % (a.name, pid, ' '.join(cmd)), flush=True)
    try:
        # ---- trigger -----------------------------------------------------
        if not a.self_:
            while True:
                if proc.poll() is not None:
                    raise SystemExit('capture: program exited (%s) before the trigger'
                                     % proc.returncode)
                el = time.monotonic() - t0
                if a.delay is not None and el >= a.delay:
                    break
                if a.trigger_file and os.path.exists(a.trigger_file):
                    break
                if a.trigger_regex:
                    txt = b''
                    for p in (prefix + '.stdout', prefix + '.stderr'):
                        with open(p, 'rb') as f:
                            txt += f.read()
                    if re.search(a.trigger_regex.encode(), txt):
                        break
                time.sleep(0.05)
            t_inj = time.monotonic()
            g = gdb_inject(pid, a.method)
            cap['gdb'] = g
            cap['inject_at_s'] = round(t_inj - t0, 2)
            print('capture: injected at %.1f s (gdb %.1f s, %s)' %
                  (t_inj - t0, g['seconds'], 'ok' if g['ok'] else 'FAILED'), flush=True)
            if not g['ok']:
                print(g['output'])
                raise SystemExit('capture: gdb injection failed')
        else:
            t_inj = t0
        # ---- wait for the stop -------------------------------------------
        deadline = time.monotonic() + a.timeout
        while True:
            st = proc_state(pid)
            if st == 'T':
                break
            if proc.poll() is not None or st in (None, 'Z', 'X'):
                raise SystemExit('capture: program exited (%s) before stopping'
                                 % proc.returncode)
            if time.monotonic() > deadline:
                raise SystemExit('capture: no stop within %d s' % a.timeout)
            time.sleep(0.05)
        t_stop = time.monotonic()
        cap['stopped_at_s'] = round(t_stop - t0, 2)
        cap['record_s'] = round(t_stop - t_inj, 2)
        if os.path.exists(prefix + '.truth.error'):
            with open(prefix + '.truth.error') as f:
                print(f.read())
            raise SystemExit('capture: the recorder failed')
        outside = {}
        for n in ('smaps_rollup', 'status'):
            with open('/proc/%d/%s' % (pid, n)) as f:
                outside[n] = f.read()
        outside['threads'] = sorted(int(x) for x in os.listdir('/proc/%d/task' % pid))
        outside['mapped_files'] = mapped_files(pid)
        # ---- core -------------------------------------------------------
        genv = dict(os.environ, DEBUGINFOD_URLS='')
        g = subprocess.run(['gcore', '-o', prefix, str(pid)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=genv,
                           timeout=600)
        produced = '%s.%d' % (prefix, pid)
        if g.returncode != 0 or not os.path.exists(produced):
            print(g.stdout.decode(errors='replace'))
            raise SystemExit('capture: gcore failed')
        os.rename(produced, prefix + '.core')
        t_core = time.monotonic()
        cap['gcore_s'] = round(t_core - t_stop, 2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        out.close()
        err.close()
    # ---- merge ----------------------------------------------------------
    with open(prefix + '.truth.json') as f:
        truth = json.load(f)
    with open(prefix + '.mallocstats.txt') as f:
        truth['mallocstats'] = f.read()
    truth['outside'] = outside
    cap['core_size'] = os.path.getsize(prefix + '.core')
    cap['core_segments'] = core_segments(prefix + '.core')
    truth['capture'] = cap
    if os.path.exists(prefix + '.workload.json'):
        with open(prefix + '.workload.json') as f:
            truth['workload'] = json.load(f)
    tmp = prefix + '.truth.json.tmp'
    with open(tmp, 'w') as f:
        json.dump(truth, f, indent=1, sort_keys=True)
    os.rename(tmp, prefix + '.truth.json')
    print('capture: %s: %d objects (%d gc), stopped %.1f s after injection, gcore %.1f s, '
          'core %.0f MiB, %d PT_LOAD, %d adjacent pairs' %
          (a.name, truth['objects'], truth['gc_objects'], cap['record_s'], cap['gcore_s'],
           cap['core_size'] / 1048576.0, cap['core_segments']['pt_load'],
           cap['core_segments']['adjacent_pairs']), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
