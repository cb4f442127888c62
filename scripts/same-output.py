#!/usr/bin/python3
"""same-output.py - does a change keep pyheap's output byte-identical?

    same-output.py corpus DIR            make the cores (once; reused after)
    same-output.py run PYHEAP DIR OUT    run every command on every core
    same-output.py compare OUT_A OUT_B   list the runs whose output differs

The corpus (DIR, outside the work tree: default /var/cache/pyheap/sameout):
  - per interpreter of the test suites (pyenv 3.8-3.13, Debian's stripped
    3.11, and whatever `pyheap --version --json` lists that this machine
    has): the integration heap (heapbuild.py), the reference-graph heap
    (graphbuild.py) and the two dumps of the leaking program (leakbuild.py);
  - the 1M and 5M bench cores (build-bench/bench or build/bench), linked;
  - corrupted variants of two cores: bit flips at fixed seeds, a core cut
    in half.

`run` executes, for each core: info, types, arenas, refs, garbage, top,
suspects, path and show (address from path's answer), backrefs to DOT and
report to its page, each in text and --json, plain, with --no-dwarf and with --pool-scan; and diff
and suspects --baseline on the leak pair.  stdout, stderr and the exit code
of each go to OUT/<core>/<run>.{out,err,rc}.

`compare` prints each run whose files differ and exits 1 when any do.
"""
import contextlib
import fcntl
import glob
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
INTEG = os.path.join(SRC, 'tests', 'integration')


def pyenv_root():
    e = os.environ.get('PYENV_ROOT')
    if e:
        return e
    try:
        return subprocess.run(['pyenv', 'root'], stdout=subprocess.PIPE,
                              text=True).stdout.strip() or '/root/.pyenv'
    except OSError:
        return '/root/.pyenv'


def interpreters():
    root = pyenv_root()
    out = []
    for v in ('3.8.18', '3.9.18', '3.10.13', '3.11.7', '3.12.1', '3.13.0'):
        p = '%s/versions/%s/bin/python%s' % (root, v, v.rsplit('.', 1)[0])
        if os.access(p, os.X_OK):
            out.append(('pyenv-' + v, p))
    if os.access('/usr/bin/python3.11', os.X_OK):
        out.append(('debian-3.11', '/usr/bin/python3.11'))
    return out


def corpus(d):
    os.makedirs(d, exist_ok=True)
    for label, interp in interpreters():
        for builder in ('heapbuild.py', 'graphbuild.py'):
            out = os.path.join(d, '%s-%s' % (label, builder.split('build')[0]))
            if os.path.exists(os.path.join(out, 'core')):
                continue
            print('corpus: %s %s' % (label, builder), flush=True)
            subprocess.run([sys.executable, os.path.join(INTEG, 'mkcore.py'), interp, out,
                            builder], check=True, stdout=subprocess.DEVNULL)
        out = os.path.join(d, '%s-leak' % label)
        if not os.path.exists(os.path.join(out, 'core2')):
            print('corpus: %s leakbuild.py' % label, flush=True)
            # leakcheck takes both dumps; its checks do not matter here
            subprocess.run([sys.executable, os.path.join(INTEG, 'leakcheck.py'), interp, out,
                            '/bin/true'], stdout=subprocess.DEVNULL)
            if not os.path.exists(os.path.join(out, 'core2')):
                sys.exit('corpus: leak cores of %s not made' % label)
    for size in ('1M', '5M'):
        link = os.path.join(d, 'bench-%s' % size)
        for b in ('build-bench', 'build'):
            src = os.path.join(SRC, b, 'bench', size, 'core')
            if os.path.exists(src) and not os.path.exists(link):
                os.makedirs(link)
                os.symlink(src, os.path.join(link, 'core'))
        if not os.path.exists(link):
            print('corpus: no %s bench core (make bench makes it); left out' % size)
    for label in ('pyenv-3.11.7-heap', 'debian-3.11-heap'):
        base = os.path.join(d, label, 'core')
        if not os.path.exists(base):
            continue
        data = open(base, 'rb').read()
        for seed, flips in ((1, 64), (2, 2000), (3, 200000)):
            out = os.path.join(d, '%s-flip%d' % (label, seed))
            if os.path.exists(os.path.join(out, 'core')):
                continue
            os.makedirs(out, exist_ok=True)
            b = bytearray(data)
            r = random.Random(seed)
            for _ in range(flips):
                # past the headers: the notes and the memory
                i = r.randrange(4096, len(b))
                b[i] ^= 1 << r.randrange(8)
            open(os.path.join(out, 'core'), 'wb').write(b)
        out = os.path.join(d, '%s-cut' % label)
        if not os.path.exists(os.path.join(out, 'core')):
            os.makedirs(out, exist_ok=True)
            open(os.path.join(out, 'core'), 'wb').write(data[:len(data) // 2])


def run1(pyheap, argv, dest):
    r = subprocess.run([pyheap] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=600)
    open(dest + '.out', 'wb').write(r.stdout)
    open(dest + '.err', 'wb').write(r.stderr)
    open(dest + '.rc', 'w').write('%d\n' % r.returncode)
    return r


TARGETS = ['__main__.Request', '__main__.Leak', '__main__.Event', '__main__.Orphan', 'dict']


def run(pyheap, d, outroot):
    pyheap = os.path.abspath(pyheap)
    for cdir in sorted(glob.glob(os.path.join(d, '*'))):
        name = os.path.basename(cdir)
        cores = [c for c in ('core', 'core2') if os.path.exists(os.path.join(cdir, c))]
        if not cores:
            continue
        core = os.path.join(cdir, cores[-1])
        out = os.path.join(outroot, name)
        os.makedirs(out, exist_ok=True)
        print('run: %s' % name, flush=True)
        big = name.startswith('bench-')
        variants = [('plain', [])] if big else \
            [('plain', []), ('nodwarf', ['--no-dwarf']), ('poolscan', ['--pool-scan'])]
        for vname, vopts in variants:
            for cmd in ('info', 'types', 'arenas', 'refs', 'garbage', 'top', 'suspects', 'memory'):
                if big and cmd in ('garbage', 'suspects'):
                    continue
                for js in ([], ['--json']):
                    tag = '%s-%s%s' % (vname, cmd, '-json' if js else '')
                    run1(pyheap, ['--no-progress'] + vopts + js + [cmd, core],
                         os.path.join(out, tag))
            if big:
                continue
            addr = None
            for t in TARGETS:
                tag = '%s-path-%s' % (vname, t)
                r = run1(pyheap, ['--no-progress'] + vopts + ['path', '--type', t, core],
                         os.path.join(out, tag))
                run1(pyheap, ['--no-progress'] + vopts + ['--json', 'path', '--type', t, core],
                     os.path.join(out, tag + '-json'))
                if r.returncode in (0, 3) and addr is None:
                    for w in r.stdout.decode(errors='replace').split():
                        if w.startswith('0x'):
                            addr = w
                            break
            if addr:
                for js in ([], ['--json']):
                    run1(pyheap, ['--no-progress'] + vopts + js + ['show', core, addr],
                         os.path.join(out, '%s-show%s' % (vname, '-json' if js else '')))
                    run1(pyheap, ['--no-progress'] + vopts + js + ['path', '--addr', addr, core],
                         os.path.join(out, '%s-pathaddr%s' % (vname, '-json' if js else '')))
                # the output file's name is printed: the same one for every binary
                dot = '/tmp/same-output-backrefs.dot'
                with fixed_path():
                    run1(pyheap, ['--no-progress'] + vopts + ['backrefs', '--addr', addr, '-o',
                                                              dot, core],
                         os.path.join(out, '%s-backrefs' % vname))
                    if os.path.exists(dot):
                        shutil.move(dot, os.path.join(out, '%s-backrefs.dot' % vname))
            # the page, under one name for every binary (it quotes the core's path)
            page = '/tmp/same-output-report.html'
            with fixed_path():
                run1(pyheap, ['--no-progress'] + vopts + ['report', '-o', page, core],
                     os.path.join(out, '%s-report' % vname))
                if os.path.exists(page):
                    shutil.move(page, os.path.join(out, '%s-report.html' % vname))
        if len(cores) == 2:
            c1 = os.path.join(cdir, 'core1')
            for js in ([], ['--json']):
                j = '-json' if js else ''
                run1(pyheap, ['--no-progress'] + js + ['diff', c1, core],
                     os.path.join(out, 'diff' + j))
                run1(pyheap, ['--no-progress'] + js + ['suspects', '--baseline', c1, core],
                     os.path.join(out, 'suspects-baseline' + j))
            # the snapshot's path is printed: the same one for every binary
            snap = '/tmp/same-output-snapshot.json'
            with fixed_path():
                r = run1(pyheap, ['--no-progress', '--json', 'types', c1],
                         os.path.join(out, 'snap1'))
                open(snap, 'wb').write(r.stdout)
                run1(pyheap, ['--no-progress', 'diff', snap, core], os.path.join(out, 'diff-snap'))


@contextlib.contextmanager
def fixed_path():
    """Held while a run writes to one of the fixed /tmp names (they are
    printed, so every binary must get the same one): two `run`s at once
    took each other's files."""
    with open('/tmp/same-output.lock', 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def compare(a, b):
    bad = 0
    na = 0
    for root, _, files in os.walk(a):
        for f in sorted(files):
            pa = os.path.join(root, f)
            pb = os.path.join(b, os.path.relpath(pa, a))
            na += 1
            if not os.path.exists(pb):
                print('only in %s: %s' % (a, os.path.relpath(pa, a)))
                bad += 1
            elif open(pa, 'rb').read() != open(pb, 'rb').read():
                print('differs: %s' % os.path.relpath(pa, a))
                bad += 1
    print('%d files compared, %d differ' % (na, bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 2 and argv[1] == 'corpus':
        corpus(argv[2] if len(argv) > 2 else '/var/cache/pyheap/sameout')
        return 0
    if len(argv) == 5 and argv[1] == 'run':
        run(argv[2], argv[3], argv[4])
        return 0
    if len(argv) == 4 and argv[1] == 'compare':
        return compare(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
