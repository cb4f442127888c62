#!/usr/bin/python3
"""debuginfodcheck.py - pyheap finds a stripped interpreter's DWARF through
debuginfod, with nothing else pointing at it.

    debuginfodcheck.py OUTDIR PYHEAP DEBUGDIR... -- LABEL:CHROOT:INTERP...

DEBUGDIR: directories of separate debug files (DIR/.build-id/xx/yyyy.debug,
as scripts/distro.sh extracts them); LABEL:CHROOT:INTERP: a Debian
interpreter ('-' for no chroot: INTERP is a host path).

  1. takes a core of each interpreter (mkcore.py, tinybuild.py);
  2. starts Debian's `debuginfod` on a free port with a fresh database in
     OUTDIR, scanning the DEBUGDIRs (-F: plain debug files; -t 0 -g 0: one
     scan, no rescans or grooming), and waits until it serves the debug file
     of every interpreter's build-id (polling /buildid/ID/debuginfo: the port
     answers before the scan is done).  debuginfod 0.188 has no listen
     address option and binds every interface; the clients use 127.0.0.1;
  3. for each core, runs `pyheap info --json CORE` with DEBUGINFOD_URLS at
     http://127.0.0.1:PORT, a fresh DEBUGINFOD_CACHE_PATH and no --debug-dir:
     exit 0, offsets_source "dwarf", the build-id's debug file fetched into
     the client cache, and -- when info's JSON says where the debug info came
     from -- that it came from debuginfod; as a control the same run without
     DEBUGINFOD_URLS must not say "dwarf" (the binaries are stripped).  A
     release `pyheap --version --json` does not list is checked for a clean
     refusal instead;
  4. stops the server with SIGTERM and checks it exits (within 10 s).

Prints a PASS/FAIL line per check and "== RESULT debuginfod LABEL: ..."
per interpreter; exit 0 all passed, 1 a failure, 77 skipped (no debuginfod,
gcore or ptrace).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import mkcore
import pyheapcli

SKIP = 77
READY_TIMEOUT = 120
results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%-4s %-58s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)
    return ok


def build_id(path):
    """The GNU build-id of an ELF file (hex), from its PT_NOTE segments."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        return None
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from('<IIQQQQ', data, phoff + i * phentsize)
        if p_type != 4:
            continue
        off, end = p_offset, p_offset + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from('<III', data, off)
            name = data[off + 12:off + 12 + namesz]
            doff = off + 12 + ((namesz + 3) & ~3)
            if ntype == 3 and name[:3] == b'GNU':
                return data[doff:doff + descsz].hex()
            off = doff + ((descsz + 3) & ~3)
    return None


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def served(url, bid):
    try:
        with urllib.request.urlopen('%s/buildid/%s/debuginfo' % (url, bid), timeout=5) as r:
            r.read(64)
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv):
    if '--' not in argv or len(argv) < 5:
        sys.stderr.write('usage: debuginfodcheck.py OUTDIR PYHEAP DEBUGDIR... -- LABEL:CHROOT:INTERP...\n')
        return 2
    sep = argv.index('--')
    outdir, pyheap, dirs = os.path.abspath(argv[1]), argv[2], argv[3:sep]
    specs = [s.split(':', 2) for s in argv[sep + 1:]]
    server = shutil.which('debuginfod')
    if not server:
        print('SKIP: debuginfod is not installed (package debuginfod)', flush=True)
        return SKIP
    os.makedirs(outdir, exist_ok=True)

    # 1. the cores
    cores = []
    for label, chroot, interp in specs:
        chroot = None if chroot == '-' else chroot
        host = interp if chroot is None else os.path.join(chroot, interp.lstrip('/'))
        if not os.access(host, os.X_OK):
            print('SKIP: %s: %s not found' % (label, host), flush=True)
            sys.stderr.write('SKIP: %s: %s not found\n' % (label, host))
            continue
        d = os.path.join(outdir, label)
        try:
            mkcore.make_cores(interp, d, 'tinybuild.py', chroot)
        except mkcore.Skip as e:
            print('SKIP: %s' % e, flush=True)
            return SKIP
        except mkcore.Fail as e:
            check('%s: core made' % label, False, str(e))
            continue
        cores.append((label, os.path.join(d, 'core'), build_id(host)))
    if not cores:
        print('debuginfodcheck: no interpreter to check', flush=True)
        return 1 if results.count(False) else SKIP

    # 2. the server, fresh database
    port = free_port()
    url = 'http://127.0.0.1:%d' % port
    db = os.path.join(outdir, 'debuginfod.sqlite')
    for f in (db, db + '-wal', db + '-shm'):
        if os.path.exists(f):
            os.unlink(f)
    log = open(os.path.join(outdir, 'debuginfod.log'), 'wb')
    argv_s = [server, '-p', str(port), '-d', db, '-t', '0', '-g', '0', '-F'] + dirs
    print('debuginfodcheck: %s' % ' '.join(argv_s), flush=True)
    t0 = time.monotonic()
    srv = subprocess.Popen(argv_s, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                           start_new_session=True)
    try:
        pending = {bid for _, _, bid in cores}
        while pending and time.monotonic() - t0 < READY_TIMEOUT and srv.poll() is None:
            pending = {b for b in pending if not served(url, b)}
            if pending:
                time.sleep(0.2)
        check('server: serves every build-id', not pending and srv.poll() is None,
              'ready in %.1f s%s%s' % (time.monotonic() - t0,
                                       '; not served: ' + ' '.join(sorted(pending)) if pending else '',
                                       '; exited %s' % srv.poll() if srv.poll() is not None else ''))

        # 3. pyheap through it
        for label, core, bid in cores:
            n0 = results.count(False)
            cache = os.path.join(outdir, label, 'client-cache')
            shutil.rmtree(cache, ignore_errors=True)
            env = dict(os.environ, DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=cache)
            with open(os.path.join(os.path.dirname(core), 'truth-version')) as f:
                version = f.read().strip()
            if not pyheapcli.is_supported(pyheap, version):
                pyheapcli.check_refusal(pyheap, [], core, version, [['info', '--json', 'CORE']],
                                        lambda n, ok, d: check('%s: %s' % (label, n), ok, d))
                print('== RESULT debuginfod %s: %s' % (
                    label, 'REFUSED' if results.count(False) == n0 else 'FAIL'), flush=True)
                continue
            p = subprocess.run([pyheap, 'info', '--json', core], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=pyheapcli.CMD_TIMEOUT)
            try:
                info = json.loads(p.stdout)
            except ValueError:
                info = {}
            check('%s: info exit 0 (DEBUGINFOD_URLS only)' % label, p.returncode == 0,
                  'exit %d %s' % (p.returncode, pyheapcli.warnings_of(p.stderr.decode(errors='replace'), 2)))
            check('%s: offsets_source "dwarf"' % label, info.get('offsets_source') == 'dwarf',
                  'offsets_source %r' % info.get('offsets_source'))
            fetched = os.path.exists(os.path.join(cache, bid, 'debuginfo'))
            check('%s: debug file fetched into DEBUGINFOD_CACHE_PATH' % label, fetched,
                  '%s/%s/debuginfo' % (os.path.basename(cache), bid))
            where = {k: v for k, v in info.items()
                     if 'debug' in k.lower() and k not in ('debug_offsets',)}
            if where:
                check('%s: info says the debug info came from debuginfod' % label,
                      'debuginfod' in json.dumps(where), json.dumps(where)[:200])
            else:
                print('note %s: info --json names no source of its debug info (no such field)'
                      % label, flush=True)
            env0 = dict(os.environ)
            env0.pop('DEBUGINFOD_URLS', None)
            p0 = subprocess.run([pyheap, 'info', '--json', core], env=env0, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=pyheapcli.CMD_TIMEOUT)
            try:
                src0 = json.loads(p0.stdout).get('offsets_source')
            except ValueError:
                src0 = None
            check('%s: control: without DEBUGINFOD_URLS no DWARF' % label, src0 != 'dwarf',
                  'offsets_source %r' % src0)
            print('== RESULT debuginfod %s: %s' % (
                label, 'PASS' if results.count(False) == n0 else 'FAIL'), flush=True)
    finally:
        # 4. stop it
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            try:
                rc = srv.wait(timeout=10)
                check('server: stops on SIGTERM', True, 'exit %s' % rc)
            except subprocess.TimeoutExpired:
                os.killpg(srv.pid, signal.SIGKILL)
                srv.wait()
                check('server: stops on SIGTERM', False, 'still running after 10 s: killed')
        log.close()
    print('debuginfodcheck: %d checks, %d failed' % (len(results), results.count(False)), flush=True)
    if results.count(False) == 0:
        for _, core, _ in cores:
            os.unlink(core)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
