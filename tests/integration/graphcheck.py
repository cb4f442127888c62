#!/usr/bin/python3
"""graphcheck.py - hold pyheap's reference-graph commands (show, path, refs,
garbage, backrefs) against what graphbuild.py recorded in the process that
made the core.

    graphcheck.py OUTDIR PYHEAP [PYHEAP OPTIONS...]

OUTDIR holds core and graphtruth.json (mkcore.py INTERP OUTDIR graphbuild.py);
OPTIONS is a configuration (--no-dwarf, --pool-scan, --debug-dir DIR).  The
core is clean: every pyheap run must exit 0 (3, results with warnings, is a
failure that names the warnings).

Checks:
  show      for every SAMPLES object: its referents (addresses) EQUAL the
            ids gc.get_referents() gave, plus only the references the
            interpreter holds that its tp_traverse does not visit, which
            graphbuild.py recorded object by object with the reason
            ('untraversed': a str-keys dict's keys, a code object's fields,
            a heap type's ht_name/ht_qualname, a module's md_name, a 3.13+
            materialised __dict__ over inline values) and, for a weakref,
            its referent as a weak edge.  Nothing else: a referent
            gc.get_referents() has and pyheap misses fails, and so does one
            pyheap has and the interpreter does not hold
  path      _CACHE['k7']'s Request: root module __main__, labels as recorded;
            HOLDER.path.leaf: labels as recorded for the version;
            the closure's Marker: chain has __closure__ then cell_contents;
            the worker thread's local `blob`: root kind frame, last edge
            f_locals['blob']
  refs      overcounted == 0 (when not, the objects are listed, from
            refs --json's overcounted_objects, with their referrers from `show`);
            orphans has __main__.Orphan with count exactly N_ORPHAN; every
            Orphan is reported external with 1 reference and no referrer
  garbage   __main__.CycleNode count exactly 2 * N_CYCLE; gc_enabled false
  backrefs  of the cached Request to .svg (XML, <svg, "Request", "_CACHE"),
            .png (signature), .dot ("Request"); --depth 1 has fewer nodes than
            the default; --hide dict leaves no dict node

A release `pyheap --version --json` does not list is checked for a clean
refusal instead (exit 1, one line "... not supported ...").

Prints a table of every check (PASS/FAIL); exits 0 if all pass, 1 otherwise.
"""

import concurrent.futures
import json
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import pyheapcli

CMD_TIMEOUT = int(os.environ.get('PYHEAP_CMD_TIMEOUT', '120'))
EXTRA = []          # the configuration's pyheap options
MAX_OVER_SHOWN = 12
MAX_REFERRERS = 8

# Referents gc.get_referents() reports that pyheap cannot be expected to see,
# per sample: (versions (lo, hi) inclusive, referent type, why).  Empty: no
# exception has been needed -- every id the interpreter's tp_traverse visits
# is a pointer stored in the object, present in the core.  (The references
# pyheap may show beyond gc.get_referents() are recorded by graphbuild.py
# itself, object by object: 'untraversed'.)
EXCEPTIONS = {}

results = []


def check(group, name, ok, detail=''):
    results.append((group, name, bool(ok), detail))
    return ok


PyheapError = pyheapcli.PyheapError
WARNINGS = []       # (command, warnings) of runs that exited 3


def run(pyheap, args):
    rc, out, err = pyheapcli.run(pyheap, list(args) + EXTRA, timeout=CMD_TIMEOUT)
    if rc == 3:
        WARNINGS.append((' '.join(args[:1]), pyheapcli.warnings_of(err, 3)))
    elif rc != 0:
        raise PyheapError('%s: exit %d: %s' % (' '.join(args), rc, err.strip()[:300]))
    return out


def run_json(pyheap, args):
    out = run(pyheap, args + ['--json'])
    try:
        return json.loads(out)
    except ValueError as e:
        raise PyheapError('%s: bad JSON (%s): %r' % (' '.join(args), e, out[:200]))


def addr(s):
    return int(s, 16) if isinstance(s, str) and s else None


def version_tuple(v):
    return tuple(int(x) for x in v.split('.')[:2])


# ---------------------------------------------------------------------------

def show_all(pyheap, core, addrs):
    """`show --json` of each address, run in parallel: {addr: dict or PyheapError}."""
    def one(a):
        try:
            return run_json(pyheap, ['show', core, a])
        except PyheapError as e:
            return e
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        return dict(zip(addrs, ex.map(one, addrs)))


def check_samples(pyheap, core, truth):
    ver = version_tuple(truth['version'])
    samples = sorted(truth['samples'].items())
    shown = show_all(pyheap, core, [s['addr'] for _, s in samples])
    for name, s in samples:
        group = 'show'
        d = shown[s['addr']]
        if isinstance(d, PyheapError):
            check(group, '%s (%s)' % (name, s['type']), False, str(d))
            continue
        if d.get('type') != s['type']:
            check(group, '%s type' % name, False,
                  'pyheap says %r, interpreter %r' % (d.get('type'), s['type']))
            continue
        got = {}
        for r in d.get('referents', []):
            got.setdefault(addr(r.get('addr')), r)
        allowed = {addr(r['addr']): r for r in s.get('untraversed', [])}
        weak_ok = {addr(r['addr']) for r in s.get('weak', [])}
        exc = EXCEPTIONS.get(name, [])
        want = {addr(r['addr']): r for r in s['referents']}
        missing, excused = [], []
        for a, r in want.items():
            if a in got:
                continue
            why = [w for (lo, hi), t, w in exc if lo <= ver <= hi and t == r['type']]
            (excused if why else missing).append(r)
        extra, untrav = [], []
        for a, r in got.items():
            if a in want:
                continue
            if a in allowed or (r.get('weak') and a in weak_ok):
                untrav.append(r)
            else:
                extra.append(r)
        ok = not missing and not extra
        detail = '%d of %d gc.get_referents ids, %d more the object holds untraversed ' \
            '(of %d recorded), %d referents in all' % (
                len(want) - len(missing) - len(excused), len(want), len(untrav),
                len(allowed) + len(weak_ok), len(got))
        if excused:
            detail += '; excused: ' + ', '.join('%s %s' % (r['type'], r['addr']) for r in excused)
        if missing:
            detail += '; MISSING: ' + ', '.join('%s %s' % (r['type'], r['addr']) for r in missing)
        if extra:
            detail += '; NOT HELD (pyheap invents): ' + ', '.join(
                '%s %s %s%s' % (r.get('edge', ''), r.get('type'), r.get('addr') or r.get('name', ''),
                                ' (weak)' if r.get('weak') else '') for r in extra)
        if len(d.get('referents', [])) < d.get('referent_count', 0):
            ok = False
            detail += ' (referents list truncated: %d of %d)' % (
                len(d['referents']), d['referent_count'])
        check(group, '%s (%s) %s' % (name, s['type'], s['addr']), ok, detail)


def chain_labels(d):
    return [c.get('edge', '') for c in d.get('chain', [])]


def fmt_chain(d):
    out = []
    for c in d.get('chain', []):
        out.append('%s%s' % (c.get('edge') + ' -> ' if c.get('edge') else '',
                             c.get('type') if c.get('addr') else c.get('name', c.get('type'))))
    return ' '.join(out)


def check_paths(pyheap, core, truth):
    group = 'path'
    for key in ('cached_request', 'attr_leaf'):
        t = truth[key]
        try:
            d = run_json(pyheap, ['path', core, '--addr', t['addr']])
        except PyheapError as e:
            check(group, key, False, str(e))
            continue
        root = d.get('root', {})
        check(group, '%s root' % key, [root.get('kind'), root.get('name')] == t['root'],
              'root %s %r, expected %s %r' % (root.get('kind'), root.get('name'), *t['root']))
        chain = d.get('chain', [])
        ok = chain_labels(d) == t['chain'] and chain and \
            addr(chain[-1].get('addr')) == addr(t['addr']) and \
            chain[-1].get('type') == t['type'] and chain[0].get('type') == 'module'
        check(group, '%s chain' % key, ok, 'got %s; expected labels %s' % (
            fmt_chain(d), t['chain'][1:]))

    t = truth['closure_marker']
    try:
        d = run_json(pyheap, ['path', core, '--addr', t['addr']])
        labels = chain_labels(d)
        ok = '__closure__' in labels and 'cell_contents' in labels and \
            labels.index('__closure__') < labels.index('cell_contents') and \
            labels[-1] == 'cell_contents' and d['chain'][-1].get('type') == t['type']
        check(group, 'closure chain', ok, fmt_chain(d))
    except (PyheapError, KeyError, IndexError) as e:
        check(group, 'closure chain', False, str(e))

    t = truth['thread_blob']
    try:
        d = run_json(pyheap, ['path', core, '--addr', t['addr']])
        labels = chain_labels(d)
        root = d.get('root', {})
        check(group, 'thread local root', root.get('kind') == 'frame',
              'root %s %r' % (root.get('kind'), root.get('name')))
        check(group, 'thread local chain', labels[-1:] == ["f_locals['blob']"] and
              d['chain'][-1].get('type') == t['type'], fmt_chain(d))
    except (PyheapError, KeyError, IndexError) as e:
        check(group, 'thread local chain', False, str(e))


def describe_over(pyheap, core):
    """The overcounted objects (refs --json lists them), each with its
    referrers as `show` gives them."""
    overs = run_json(pyheap, ['refs', core]).get('overcounted_objects', [])
    out = []
    for o in overs[:MAX_OVER_SHOWN]:
        a = o['addr']
        try:
            d = run_json(pyheap, ['show', core, a])
            rr = [(r.get('type'), r.get('addr') or r.get('name', ''), r.get('edge'))
                  for r in d.get('referrers', [])]
            # the usual cause: one source counted twice; list those first
            srcs = [x[1] for x in rr]
            dup = [x for x in rr if srcs.count(x[1]) > 1]
            rest = [x for x in rr if srcs.count(x[1]) == 1]
            shown = (dup + rest)[:MAX_REFERRERS]
            refs = '%d referrers (%d from a source listed twice or more): %s%s' % (
                d.get('referrer_count', len(rr)), len(dup),
                ', '.join('%s %s %s' % x for x in shown),
                ', ...' if len(rr) > len(shown) else '')
            val = d.get('value', '')
        except PyheapError as e:
            refs, val = str(e), ''
        out.append('%s %s %s refcount %s, found %s; %s' % (
            o['type'], a, val, o['refcount'], o['found'], refs))
    if len(overs) > MAX_OVER_SHOWN:
        out.append('... and %d more' % (len(overs) - MAX_OVER_SHOWN))
    return out


def check_refs(pyheap, core, truth):
    group = 'refs'
    try:
        d = run_json(pyheap, ['refs', core])
    except PyheapError as e:
        check(group, 'refs', False, str(e))
        return
    over = d.get('overcounted')
    detail = 'overcounted %s (conservative %s), explained %s, external %s, immortal %s' % (
        over, d.get('overcounted_conservative'), d.get('explained'), d.get('external'),
        d.get('immortal'))
    if over:
        try:
            detail += '\n' + '\n'.join('      ' + l for l in describe_over(pyheap, core))
        except PyheapError as e:
            detail += '; listing them failed: %s' % e
    check(group, 'overcounted == 0', over == 0, detail)

    o = truth['orphans']
    rows = [r for r in d.get('orphans', []) if r.get('type') == o['type']]
    n = sum(r.get('count', 0) for r in rows)
    check(group, 'orphans %s == %d' % (o['type'], o['count']), n == o['count'],
          'pyheap: %d' % n)

    ext = {addr(e.get('addr')): e for e in d.get('external_objects', [])}
    complete = len(ext) >= d.get('external', 0)
    bad = []
    absent = 0
    for a in o['addrs']:
        e = ext.get(addr(a))
        if e is None:
            absent += 1
        elif (e.get('type'), e.get('refcount'), e.get('found'), e.get('external')) != \
                (o['type'], 1, 0, 1):
            bad.append('%s: %s' % (a, e))
    if complete:
        check(group, 'orphans external (refcount 1, found 0, external 1)',
              not bad and absent == 0,
              '%d of %d listed%s' % (len(o['addrs']) - absent, len(o['addrs']),
                                     '; wrong: ' + '; '.join(bad[:5]) if bad else ''))
    else:
        # external_objects is capped (the biggest 1000): check a few with show.
        bad = list(bad)
        for a in o['addrs'][:5]:
            try:
                s = run_json(pyheap, ['show', core, a])
            except PyheapError as e:
                bad.append(str(e))
                continue
            if (s.get('type'), s.get('refcount'), s.get('found'), s.get('external'),
                    s.get('referrer_count')) != (o['type'], 1, 0, 1, 0):
                bad.append('%s: type %s refcount %s found %s external %s referrers %s' % (
                    a, s.get('type'), s.get('refcount'), s.get('found'), s.get('external'),
                    s.get('referrer_count')))
        check(group, 'orphans external (show on 5; list capped)', not bad, '; '.join(bad[:5]))


def check_garbage(pyheap, core, truth):
    group = 'garbage'
    try:
        d = run_json(pyheap, ['garbage', core])
    except PyheapError as e:
        check(group, 'garbage', False, str(e))
        return
    c = truth['cycles']
    n = sum(r.get('count', 0) for r in d.get('types', []) if r.get('type') == c['type'])
    check(group, '%s == %d' % (c['type'], c['count']), n == c['count'], 'pyheap: %d' % n)
    check(group, 'gc_enabled == %s' % truth['gc_enabled'],
          d.get('gc_enabled') == truth['gc_enabled'], 'pyheap: %s' % d.get('gc_enabled'))


def check_backrefs(pyheap, core, outdir, truth):
    group = 'backrefs'
    a = truth['cached_request']['addr']
    files = {}
    nodes = {}
    for tag, ext, extra in (('default', 'svg', []), ('png', 'png', []), ('dot', 'dot', []),
                            ('depth1', 'dot', ['--depth', '1']),
                            ('hidedict', 'dot', ['--hide', 'dict'])):
        path = os.path.join(outdir, 'backrefs-%s.%s' % (tag, ext))
        if os.path.exists(path):
            os.unlink(path)
        try:
            d = run_json(pyheap, ['backrefs', core, '--addr', a, '-o', path] + extra)
        except PyheapError as e:
            check(group, tag, False, str(e))
            continue
        if not os.path.exists(path):
            check(group, tag, False, '%s not written' % path)
            continue
        with open(path, 'rb') as f:
            files[tag] = f.read()
        nodes[tag] = d.get('nodes')
    if 'default' in files:
        s = files['default']
        check(group, 'svg', s.lstrip().startswith(b'<?xml') and b'<svg' in s and
              b'Request' in s and b'_CACHE' in s,
              '%d bytes, %s nodes' % (len(s), nodes['default']))
    if 'png' in files:
        check(group, 'png', files['png'][:8] == b'\x89PNG\r\n\x1a\n',
              '%d bytes' % len(files['png']))
    if 'dot' in files:
        check(group, 'dot', b'digraph' in files['dot'] and b'Request' in files['dot'],
              '%d bytes' % len(files['dot']))
    if 'depth1' in nodes and 'dot' in nodes:
        check(group, '--depth 1 fewer nodes', (nodes['depth1'] or 0) < (nodes['dot'] or 0),
              '%s < %s' % (nodes['depth1'], nodes['dot']))
    if 'default' in files:
        s = files['default'].decode(errors='replace')
        check(group, 'svg: node addresses, tooltips, legend',
              ('0x%x' % addr(a)) in s and 'xlink:title' in s and 'legend' in s,
              'address %s, tooltips %s, legend %s' % (('0x%x' % addr(a)) in s,
                                                       'xlink:title' in s, 'legend' in s))
    # all the Requests: one counted node held by _CACHE, and a small drawing
    path = os.path.join(outdir, 'backrefs-type.dot')
    try:
        d = run_json(pyheap, ['backrefs', core, '--type', '__main__.Request', '-o', path,
                              '--report', 'report.html'])
        dot = open(path, encoding='utf-8').read()
        n = len(re.findall(r'__main__\.Request', dot))
        want = '%d \u00d7 __main__.Request' % truth['n_request']
        check(group, '--type: the instances as one counted node',
              want in dot and d.get('groups', 0) >= 1 and d.get('nodes', 99) <= 12
              and "['_CACHE']" in dot and 'report.html#obj-0x' in dot,
              '%s nodes, %s groups; "%s" %s' % (d.get('nodes'), d.get('groups'), want,
                                                'found' if want in dot else 'missing'))
        d2 = run_json(pyheap, ['backrefs', core, '--type', '__main__.Request', '-o', path,
                               '--no-merge', '--width', '0', '--max-nodes', '400'])
        check(group, '--no-merge --width 0: every instance drawn',
              d2.get('nodes', 0) >= truth['n_request'] + 2 and d2.get('groups') == 0,
              '%s nodes, %s groups' % (d2.get('nodes'), d2.get('groups')))
    except (PyheapError, OSError) as e:
        check(group, '--type', False, str(e))
    if 'hidedict' in files and 'dot' in files:
        dict_node = re.compile(rb'label="dict\\n')
        check(group, '--hide dict', not dict_node.search(files['hidedict']) and
              dict_node.search(files['dot']) and 'Request' in files['hidedict'].decode(),
              'nodes %s (default %s)' % (nodes['hidedict'], nodes['dot']))


def main():
    if len(sys.argv) < 3:
        sys.stderr.write('usage: graphcheck.py OUTDIR PYHEAP [PYHEAP OPTIONS...]\n')
        return 2
    outdir, pyheap = sys.argv[1], sys.argv[2]
    EXTRA[:] = sys.argv[3:]
    cfg = pyheapcli.config_name(EXTRA)
    core = os.path.join(outdir, 'core')
    with open(os.path.join(outdir, 'graphtruth.json')) as f:
        truth = json.load(f)
    print('graphcheck: %s (Python %s, pid %d) [%s]' % (core, truth['version'], truth['pid'], cfg))
    refused = False
    try:
        if not pyheapcli.is_supported(pyheap, truth['version']):
            refused = True
            cached = truth['cached_request']['addr']
            pyheapcli.check_refusal(
                pyheap, EXTRA, core, truth['version'],
                [['show', 'CORE', cached], ['path', 'CORE', '--addr', cached, '--json'],
                 ['refs', 'CORE', '--json'], ['garbage', 'CORE'],
                 ['backrefs', 'CORE', '--addr', cached, '-o',
                  os.path.join(outdir, 'refused.dot')]],
                lambda n, ok, d: check('refusal', n, ok, d))
        else:
            check_samples(pyheap, core, truth)
            check_paths(pyheap, core, truth)
            check_refs(pyheap, core, truth)
            check_garbage(pyheap, core, truth)
            check_backrefs(pyheap, core, outdir, truth)
            check('exit', 'every run exit 0 (a clean core)', not WARNINGS,
                  '; '.join('%s: %s' % w for w in WARNINGS[:4]) +
                  ('; ... %d runs in all' % len(WARNINGS) if len(WARNINGS) > 4 else ''))
    except pyheapcli.PyheapError as e:
        check('pyheap', 'runs', False, str(e))
    w = max(len(n) for _, n, _, _ in results)
    nfail = 0
    for g, n, ok, detail in results:
        nfail += not ok
        print('%-4s %-8s %-*s  %s' % ('PASS' if ok else 'FAIL', g, w, n, detail))
    print('graphcheck: Python %s [%s]: %s%d checks, %d failed' % (
        truth['version'], cfg, 'REFUSED (pyheap lists %s): ' % ' '.join(
            pyheapcli.supported(pyheap)) if refused else '', len(results), nfail))
    if nfail:
        print('graphcheck: failed: ' + '; '.join('%s %s' % (g, n) for g, n, ok, _ in results
                                                 if not ok))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main())
