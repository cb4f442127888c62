"""leakyhttp.py - a small threaded HTTP service with four leaks of our design.

    PYHEAP_RECORD_OUT=PREFIX PYHEAP_RECORDER=.../recorder.py python3.X leakyhttp.py [N_REQUESTS]

Standard library only; CPython 3.8 - 3.13.  An http.server.ThreadingHTTPServer
(HTTP/1.1, keep-alive) on 127.0.0.1 serves a small JSON API; CLIENTS client
threads send N_REQUESTS requests (default 6000) over keep-alive connections,
then keep their connections open and wait, so that the core has the server
thread in serve_forever, one handler thread per connection blocked reading
the next request, and the client threads parked with their connections.

The three leaks (all reachable from this module, run as __main__):

  _RESPONSE_CACHE  module-global dict, unbounded: one CachedResponse per
                   distinct request path (/item/<id>?rev=<r>), each holding
                   its body (bytes), a headers dict and the request time
  METRICS          a singleton MetricsRegistry; every request appends a
                   closure (MetricsRegistry.on_request.<locals>.hook, with
                   its own cells) to METRICS._hooks and never removes it
  render_profile   functools.lru_cache(maxsize=None): one entry per user id
  LostRequest      N_LOST objects whose reference count was raised from C
                   (ctypes.pythonapi.Py_IncRef) and never lowered: a missing
                   Py_DECREF, the orphans pyheap must report (and no other
                   object of that type exists)

When the load is done the main thread writes PREFIX.workload.json (exact leak
counts, their module-level names, the expected path chains, thread roles)
and then runs the recorder itself (no gdb), which records the truth and stops
the process for capture.py --self.
"""

import functools
import http.client
import http.server
import json
import os
import sys
import threading
import time
from collections import deque

N_REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
CLIENTS = 2
N_USERS = 5000
BODY_PAD = 600
PROFILE_PAD = 900
N_LOST = 40


class LostRequest:
    """A request a C extension took a reference to and never released: leak 4."""

    def __init__(self, i):
        self.i = i
        self.payload = b'lost-%d' % i


def lose_requests(n):
    import ctypes
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for i in range(n):
        incref(LostRequest(i))


class CachedResponse:
    """One cached answer.  Never evicted: leak 1."""

    def __init__(self, path, status, body, headers):
        self.path = path
        self.status = status
        self.body = body
        self.headers = headers
        self.created = time.time()
        self.hits = 0


_RESPONSE_CACHE = {}            # path -> CachedResponse
_CACHE_LOCK = threading.Lock()


class MetricsRegistry:
    """A singleton whose hooks are appended per request and never removed:
    leak 2."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._hooks = []
            cls._instance.counters = {}
        return cls._instance

    def on_request(self, path, user, nbytes):
        started = time.time()
        tags = {'path': path, 'user': user}

        def hook(event):
            # closes over started, tags, nbytes, self
            return (event, started, tags, nbytes, self.counters)
        self._hooks.append(hook)
        self.counters[path.split('?')[0].rsplit('/', 1)[0]] = \
            self.counters.get(path.split('?')[0].rsplit('/', 1)[0], 0) + 1


METRICS = MetricsRegistry()


@functools.lru_cache(maxsize=None)
def render_profile(user_id):
    """Unbounded lru_cache: leak 3 (one entry per distinct user)."""
    return json.dumps({'user': user_id, 'name': 'user-%05d' % user_id,
                       'groups': ['g%d' % (user_id % 7), 'g%d' % (user_id % 11)],
                       'bio': 'b' * (PROFILE_PAD + user_id % 64)})


ACCESS_LOG = deque(maxlen=200)      # bounded: not a leak


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        ACCESS_LOG.append(fmt % args)

    def do_GET(self):
        path = self.path
        with _CACHE_LOCK:
            hit = _RESPONSE_CACHE.get(path)
        if hit is not None:
            hit.hits += 1
            body = hit.body
        else:
            parts = path.split('?')[0].split('/')
            try:
                item = int(parts[-1])
            except ValueError:
                item = 0
            user = item % N_USERS
            profile = render_profile(user)
            body = json.dumps({'item': item, 'path': path, 'profile': profile,
                               'pad': 'x' * (BODY_PAD + item % 200)}).encode()
            headers = {'Content-Type': 'application/json',
                       'Content-Length': str(len(body)), 'X-Item': str(item)}
            with _CACHE_LOCK:
                _RESPONSE_CACHE[path] = CachedResponse(path, 200, body, headers)
            METRICS.on_request(path, user, len(body))
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def client(port, k, n, done, park):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    got = 0
    for i in range(n):
        item = k * n + i
        conn.request('GET', '/item/%d?rev=%d' % (item, item % 3))
        r = conn.getresponse()
        r.read()
        got += 1
    done.append(got)
    park.wait()             # keep the connection (and the handler thread) alive
    conn.close()


def small_process():
    """A service tuned for small cores: 512 KiB thread stacks, and at most
    two glibc malloc arenas (each thread's own 64 MiB arena would be cored
    whole)."""
    threading.stack_size(512 * 1024)
    try:
        import ctypes
        ctypes.CDLL(None).mallopt(-8, 2)        # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def main():
    prefix = os.environ.get('PYHEAP_RECORD_OUT')
    small_process()
    srv = Server(('127.0.0.1', 0), Handler)
    port = srv.server_address[1]
    st = threading.Thread(target=srv.serve_forever, name='http-server', daemon=True)
    st.start()
    done = []
    park = threading.Event()
    per = N_REQUESTS // CLIENTS
    t0 = time.time()
    clients = [threading.Thread(target=client, args=(port, k, per, done, park),
                                name='client-%d' % k, daemon=True) for k in range(CLIENTS)]
    for c in clients:
        c.start()
    while len(done) < CLIENTS:
        time.sleep(0.05)
    t_load = time.time() - t0
    lose_requests(N_LOST)
    time.sleep(0.5)         # handler threads go back to reading the next request
    ci = render_profile.cache_info()
    truth = {
        'workload': 'leakyhttp',
        'requests': sum(done),
        'load_seconds': round(t_load, 2),
        'port': port,
        'leaks': {
            'response_cache': {
                'global': '_RESPONSE_CACHE', 'type': '__main__.CachedResponse',
                'count': len(_RESPONSE_CACHE),
                'path': ['module __main__', '__dict__', "['_RESPONSE_CACHE']", "['<path>']"],
                'per_entry': 'CachedResponse + its __dict__ (3.8-3.10) + body bytes + '
                             'headers dict (3 str values) + path str + created float',
            },
            'closures': {
                'global': 'METRICS', 'container': 'METRICS._hooks',
                'type': 'function',
                'qualname': 'MetricsRegistry.on_request.<locals>.hook',
                'count': len(METRICS._hooks),
                'cells_per_closure': len(METRICS._hooks[0].__closure__) if METRICS._hooks else 0,
                'path': ['module __main__', '__dict__', "['METRICS']",
                         '._hooks (3.11+) / __dict__[\'_hooks\']', '[i]'],
            },
            'orphans': {'type': '__main__.LostRequest', 'count': N_LOST},
            'lru_cache': {
                'global': 'render_profile', 'type': 'functools._lru_cache_wrapper',
                'maxsize': ci.maxsize, 'currsize': ci.currsize, 'hits': ci.hits,
                'misses': ci.misses,
            },
        },
        'bounded': {'ACCESS_LOG': len(ACCESS_LOG)},
        'threads': {t.name: {'ident': t.ident, 'native_id': getattr(t, 'native_id', None)}
                    for t in threading.enumerate()},
    }
    print(json.dumps({k: v for k, v in truth.items() if k != 'threads'}), flush=True)
    if prefix:
        with open(prefix + '.workload.json', 'w') as f:
            json.dump(truth, f, indent=1)
        del f
    del truth, ci
    P = os.environ.get('PYHEAP_RECORDER')
    if P:
        exec(compile(open(P).read(), P, 'exec'), {'__name__': '__pyheap_recorder__'})
    park.set()
    srv.shutdown()


if __name__ == '__main__':
    main()
