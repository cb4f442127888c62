"""pyheapcli.py - what the real-core checkers (compare.py, graphcheck.py,
leakcheck.py) share about running pyheap.

  supported(pyheap)        the minor versions `pyheap --version --json` lists
                           (never a list written here: a release pyheap
                           learns to read gets the full checks by itself)
  run(pyheap, args)        one run: (exit status, stdout, stderr)
  check_refusal(...)       the checks for a release pyheap does not list:
                           each command refuses it with exit status 1 and
                           one line on stderr that says "not supported"
  config_name(args)        how a set of extra options is named in the output

A clean core (every builder's) must give exit status 0: exit status 3
(results with warnings) is a failure, and the checkers say which warnings.
"""

import json
import os
import subprocess

CMD_TIMEOUT = int(os.environ.get('PYHEAP_CMD_TIMEOUT', '250'))
_supported = {}


class PyheapError(Exception):
    pass


def run(pyheap, args, timeout=CMD_TIMEOUT):
    """(exit status, stdout str, stderr str); PyheapError on a timeout or
    when pyheap cannot be started."""
    try:
        p = subprocess.run([pyheap] + list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PyheapError('%s: timed out after %d s' % (' '.join(args), timeout))
    except OSError as e:
        raise PyheapError('cannot run %s: %s' % (pyheap, e))
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')


def supported(pyheap):
    """['3.8', ...]: the releases this pyheap reads, from --version --json."""
    if pyheap not in _supported:
        rc, out, err = run(pyheap, ['--version', '--json'], timeout=30)
        try:
            v = json.loads(out)['python']
        except (ValueError, KeyError, TypeError):
            raise PyheapError('`%s --version --json` gave no "python" list (exit %d): %r %s'
                              % (pyheap, rc, out[:200], err.strip()[:200]))
        _supported[pyheap] = [str(x) for x in v]
    return _supported[pyheap]


def minor_of(version):
    return '.'.join(version.split('.')[:2])


def is_supported(pyheap, version):
    return minor_of(version) in supported(pyheap)


def config_name(extra):
    if not extra:
        return 'plain'
    out = []
    for a in extra:
        out.append(a.rstrip('/').rsplit('/', 2)[-2] + '/' + a.rstrip('/').rsplit('/', 1)[-1]
                   if a.startswith('/') else a)
    return ' '.join(out)


def warnings_of(stderr, limit=6):
    lines = [l for l in stderr.splitlines() if l.strip()]
    more = len(lines) - limit
    return '; '.join(lines[:limit]) + ('; ... %d more' % more if more > 0 else '')


def check_refusal(pyheap, extra, core, version, commands, check):
    """The release of the core is one pyheap does not list: every command in
    `commands` (argument lists, CORE where the core goes) must exit 1 with
    one line on stderr naming the release as not supported, and print on
    stdout nothing or, with --json, one JSON object with "error" and "exit".
    check(name, ok, detail) records each check."""
    for cmd in commands:
        argv = [core if a == 'CORE' else a for a in cmd] + list(extra)
        label = 'refuses %s: %s' % (minor_of(version), cmd[0])
        try:
            rc, out, err = run(pyheap, argv)
        except PyheapError as e:
            check(label, False, str(e))
            continue
        lines = [l for l in err.splitlines() if l.strip()]
        ok_err = len(lines) == 1 and 'not supported' in lines[0] and minor_of(version) in lines[0]
        ok_out = True
        if out.strip():
            try:
                j = json.loads(out)
                ok_out = '--json' in argv and isinstance(j, dict) and 'error' in j and \
                    j.get('exit') == 1
            except ValueError:
                ok_out = False
        check(label, rc == 1 and ok_err and ok_out,
              'exit %d, stderr %r%s' % (rc, err.strip()[:160],
                                        '' if ok_out else ', stdout %r' % out[:120]))
