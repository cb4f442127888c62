#!/usr/bin/python3
"""reportcheck.py - `pyheap report` of a leaking process, opened in a browser.

    reportcheck.py OUTDIR PYHEAP [PYHEAP OPTIONS...]
    reportcheck.py --open REPORT.html [--shots DIR]     (open a report only:
                                                         errors, open time)

On the cores OUTDIR/core1 and core2 that `mkcore.py INTERPRETER OUTDIR
leakbuild.py` made (check_report, as check_leak), runs
`pyheap report -o OUTDIR/report.html --baseline core1 core2`, opens the page
in headless Chromium driven through the DevTools protocol (over a pipe:
Python's standard library only; a fresh profile, no network) and checks:
  - nothing but the file itself is loaded (no request to any other URL);
  - no console error, no uncaught exception, no log entry of level error;
  - every section draws (no "could not be drawn" error in it);
  - the rendered text (innerText of each section, as shown) names the
    leaking type (__main__.Leak), its chain (['_LEAKS']), the unbounded
    cache ('resolve') and every function of the threads' stacks (as
    `pyheap stacks --json` has them; the main thread is in main());
  - the object panel (#obj-ADDR) of the leaking list shows the chain;
  - the page is under 10 MB, and it becomes ready (its script done; the
    time is printed: the 3 s target is measured by `make bench` on the 20M
    core, not here, where a loaded machine could fail it).
Screenshots of each section, the object panel and a drill-down of the
dominator tree go to $PYHEAP_TMP/report-shots/<OUTDIR's name>-<options>/
<section>.png.
Prints a PASS/FAIL line per check; exit 0 all passed, 1 a failure, 77 skip
(no chromium, no gcore, no interpreter).
"""
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
SKIP = 77
SECTIONS = ['overview', 'memory', 'types', 'dominators', 'suspects', 'stacks', 'arenas']
results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print('%-4s %-56s %s' % ('PASS' if ok else 'FAIL', name, detail), flush=True)


def find_chromium():
    for name in (os.environ.get('CHROMIUM', ''), 'chromium', 'chromium-browser',
                 'google-chrome', 'google-chrome-stable'):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: commands are
    JSON objects, each followed by a NUL byte, on its fd 3; replies and
    events come back the same way on its fd 4."""

    def __init__(self, exe, width=1400, height=1000):
        self.profile = tempfile.mkdtemp(prefix='pyheap-chromium-')
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # the child's ends above fd 9, so that moving them to 3 and 4 never
        # closes one of them
        for name in ('to_r', 'from_w'):
            fd = locals()[name]
            high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            os.set_inheritable(high, True)
            if name == 'to_r':
                to_r = high
            else:
                from_w = high
        args = [exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--no-default-browser-check', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--disable-extensions',
                '--disable-default-apps', '--mute-audio', '--hide-scrollbars',
                '--user-data-dir=' + self.profile, '--remote-debugging-pipe',
                '--window-size=%d,%d' % (width, height), 'about:blank']
        # bash puts the pipe ends on fds 3 and 4, which the protocol uses
        self.proc = subprocess.Popen(
            ['/bin/bash', '-c', 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (to_r, from_w, to_r, from_w),
             'chromium'] + args,
            pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        os.close(to_r)
        os.close(from_w)
        self.buf = b''
        self.next_id = 0
        self.events = []
        self.session = None
        self.width, self.height = width, height

    def _read(self, timeout):
        end = time.time() + timeout
        while b'\0' not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise TimeoutError('no message from chromium in %.0f s' % timeout)
            r, _, _ = select.select([self.from_r], [], [], left)
            if r:
                chunk = os.read(self.from_r, 1 << 20)
                if not chunk:
                    raise EOFError('chromium closed its pipe: ' +
                                   self.proc.stderr.read().decode(errors='replace')[-800:]
                                   if self.proc.poll() is not None else 'chromium closed its pipe')
                self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True, timeout=60):
        self.next_id += 1
        m = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            m['sessionId'] = self.session
        os.write(self.to_w, json.dumps(m).encode() + b'\0')
        while True:
            r = self._read(timeout)
            if r.get('id') == self.next_id:
                if 'error' in r:
                    raise RuntimeError('%s: %s' % (method, r['error']))
                return r.get('result', {})
            self.events.append(r)

    def wait_event(self, method, timeout=60):
        for i, e in enumerate(self.events):
            if e.get('method') == method:
                return self.events.pop(i)
        end = time.time() + timeout
        while time.time() < end:
            e = self._read(end - time.time())
            if e.get('method') == method:
                return e
            self.events.append(e)
        raise TimeoutError('no %s in %.0f s' % (method, timeout))

    def pump(self, seconds):
        """Collects events for a while."""
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.events.append(self._read(end - time.time()))
            except TimeoutError:
                break

    def open_page(self):
        t = self.send('Target.createTarget', {'url': 'about:blank'}, session=False)
        a = self.send('Target.attachToTarget', {'targetId': t['targetId'], 'flatten': True},
                      session=False)
        self.session = a['sessionId']
        for m in ('Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable'):
            self.send(m)
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': self.width, 'height': self.height, 'deviceScaleFactor': 1,
                   'mobile': False})

    def eval(self, expr, timeout=60):
        r = self.send('Runtime.evaluate', {'expression': expr, 'returnByValue': True,
                                           'awaitPromise': True}, timeout=timeout)
        if 'exceptionDetails' in r:
            raise RuntimeError('%s: %s' % (expr, r['exceptionDetails'].get('text')))
        return r.get('result', {}).get('value')

    def screenshot(self, path, full=True):
        clip = None
        if full:
            m = self.send('Page.getLayoutMetrics')
            cs = m.get('cssContentSize') or m.get('contentSize')
            h = min(int(cs['height']), 6000)
            clip = {'x': 0, 'y': 0, 'width': self.width, 'height': max(h, 100), 'scale': 1}
        p = {'format': 'png', 'captureBeyondViewport': bool(full)}
        if clip:
            p['clip'] = clip
        r = self.send('Page.captureScreenshot', p, timeout=120)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(r['data']))
        return os.path.getsize(path)

    def close(self):
        try:
            self.send('Browser.close', session=False, timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)
        shutil.rmtree(self.profile, ignore_errors=True)


def problems(events, page_url):
    """Console errors, exceptions, error log entries, and requests for
    anything but the page itself, among the events."""
    out = []
    base = page_url.split('#')[0]
    for e in events:
        m, p = e.get('method'), e.get('params', {})
        if m == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            out.append('exception: %s %s' % (d.get('text'), (d.get('exception') or {}).get('description', '')))
        elif m == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            out.append('console.%s: %s' % (p['type'], ' '.join(
                str(a.get('value', a.get('description', ''))) for a in p.get('args', []))))
        elif m == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
            out.append('log: %s' % p['entry'].get('text'))
        elif m == 'Network.requestWillBeSent':
            url = p.get('request', {}).get('url', '')
            if url.split('#')[0] != base and not url.startswith('data:'):
                out.append('request: %s' % url)
    return out


def open_report(exe, path, shots=None, leak_addr=None):
    """Opens the page; returns (browser, open_ms, section texts, problems)."""
    url = 'file://' + os.path.abspath(path) + '#overview'
    b = Browser(exe)
    b.open_page()
    t0 = time.time()
    b.send('Page.navigate', {'url': url})
    b.wait_event('Page.loadEventFired', timeout=120)
    ready = None
    while time.time() - t0 < 60:
        ready = b.eval('window.pyheapReady === undefined ? null : window.pyheapReady')
        if ready is not None:
            break
        time.sleep(0.05)
    wall = (time.time() - t0) * 1000
    texts = {}
    if shots:
        os.makedirs(shots, exist_ok=True)
    for s in SECTIONS:
        b.eval('location.hash = "#%s"' % s)
        b.pump(0.1)
        texts[s] = b.eval('document.getElementById("sec-%s").innerText' % s) or ''
        if shots:
            b.screenshot(os.path.join(shots, '%s.png' % s))
    if shots:
        # a drill-down: the biggest box under the root of the icicle
        b.eval('location.hash = "#dominators"')
        b.eval('(function(){var n=document.querySelectorAll("#icicle .node");'
               'if(n.length>1)n[1].click();})()')
        b.pump(0.1)
        texts['dominators-drill'] = b.eval('document.getElementById("sec-dominators").innerText') or ''
        b.screenshot(os.path.join(shots, 'dominators-drill.png'))
    if leak_addr:
        b.eval('location.hash = "#obj-%s"' % leak_addr)
        b.pump(0.1)
        texts['panel'] = b.eval('document.getElementById("panel").hidden ? "" : '
                                'document.getElementById("panel").innerText') or ''
        if shots:
            b.screenshot(os.path.join(shots, 'object-panel.png'), full=False)
    b.pump(0.3)
    found = problems(b.events, url)
    b.close()
    return ready, wall, texts, found


def main_open(argv):
    exe = find_chromium()
    if not exe:
        print('SKIP: chromium not found (scripts/install-deps.sh installs it)', flush=True)
        return SKIP
    path = argv[0]
    shots = argv[argv.index('--shots') + 1] if '--shots' in argv else None
    ready, wall, texts, found = open_report(exe, path, shots)
    print(json.dumps({'report': path, 'bytes': os.path.getsize(path), 'ready_ms': ready,
                      'wall_ms': round(wall), 'problems': found,
                      'section_chars': {k: len(v) for k, v in texts.items()}}))
    return 0 if not found and ready is not None else 1


EXTRA = []


def pyheap(bin_, *args):
    r = subprocess.run([bin_] + list(args) + EXTRA, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode not in (0, 3):
        print('FAIL: pyheap %s: exit %d: %s' % (' '.join(args), r.returncode,
                                                  r.stderr.decode(errors='replace')[-800:]))
        sys.exit(1)
    return r.stdout.decode()


def main():
    if sys.argv[1:2] == ['--open']:
        return main_open(sys.argv[2:])
    # the cores mkcore.py made from leakbuild.py (check_report, as check_leak)
    out, bin_, extra = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3:]
    cfg = '-'.join(a.lstrip('-') for a in extra if a.startswith('--')) or 'plain'
    shots = os.path.join(os.environ.get('PYHEAP_TMP', out), 'report-shots',
                         '%s-%s' % (os.path.basename(out), cfg))
    os.makedirs(shots, exist_ok=True)
    exe = find_chromium()
    if not exe:
        print('SKIP: chromium not found (scripts/install-deps.sh installs it)', flush=True)
        return SKIP
    EXTRA[:] = extra
    c1, c2 = os.path.join(out, 'core1'), os.path.join(out, 'core2')
    for f in ('report.html',):
        if os.path.exists(os.path.join(out, f)):
            os.unlink(os.path.join(out, f))
    truth = json.load(open(os.path.join(out, 'leaktruth.json')))
    lt, container = truth['leak_type'], truth['container']

    report = os.path.join(out, 'report.html')
    t0 = time.time()
    pyheap(bin_, 'report', '-o', report, '--baseline', c1, c2)
    took = time.time() - t0
    size = os.path.getsize(report) if os.path.exists(report) else 0
    check('report written, under 10 MB', 0 < size < 10 << 20, '%d bytes in %.2f s' % (size, took))
    stacks = json.loads(pyheap(bin_, 'stacks', '--json', c2))
    functions = sorted({f['function'] for t in stacks['threads'] for f in t['frames']})
    top = json.loads(pyheap(bin_, 'top', '--json', '--top', '10', c2))
    leaks = next((o['addr'] for o in top['objects'] if o['chain'][-1:] == [container]), None)
    check('top names the leaking list (for its panel)', leaks is not None)

    ready, wall, texts, found = open_report(exe, report, shots, leaks)
    check('page loads nothing else, no console error', not found, '; '.join(found[:5]))
    check('page ready', ready is not None,
          'script done at %.0f ms, %.0f ms from navigation' % (ready, wall) if ready is not None
          else 'script not done %.0f ms from navigation' % wall)
    drawn = [s for s in SECTIONS if texts.get(s) and 'could not be drawn' not in texts[s]]
    check('every section drawn', drawn == SECTIONS, 'drawn: %s' % ' '.join(drawn))
    check('types: the leaking type', lt in texts.get('types', ''))
    check('suspects: the leaking type grew', lt in texts.get('suspects', ''))
    check('suspects: its chain %s' % container, container in texts.get('suspects', ''))
    check("suspects: the unbounded cache ('resolve')", "'resolve'" in texts.get('suspects', ''))
    check('dominators: the leaking list among the retainers', container in texts.get('dominators', ''))
    missing = [f for f in functions if f not in texts.get('stacks', '')]
    check('threads: every function of the stacks', functions and 'main' in functions and not missing,
          'functions %s, missing %s' % (functions, missing))
    check('overview: Python version and GC state',
          truth['version'] in texts.get('overview', '') and 'enabled' in texts.get('overview', ''))
    check('arenas: nearly empty arenas listed', 'Nearly empty arenas' in texts.get('arenas', ''))
    mem = texts.get('memory', '')
    check('memory: the ledger (pymalloc, malloc, stacks, unexplained)',
          "Where the process's memory is" in mem and 'pymalloc arenas' in mem
          and 'thread stacks' in mem and 'unexplained' in mem, mem[:100].replace('\n', ' | '))
    check('object panel of the leaking list: chain and referents',
          container in texts.get('panel', '') and 'Referents' in texts.get('panel', '')
          and lt in texts.get('panel', ''), texts.get('panel', '')[:120].replace('\n', ' | '))
    want = ['%s.png' % s for s in SECTIONS] + ['dominators-drill.png', 'object-panel.png']
    small = [w for w in want if not os.path.exists(os.path.join(shots, w))
             or os.path.getsize(os.path.join(shots, w)) < 2000]
    check('screenshots of every section in %s' % shots, not small, 'missing or empty: %s' % small)

    print('reportcheck: %s [%s]: %d checks, %d failed' % (truth['version'], cfg, len(results),
                                                     results.count(False)), flush=True)
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
