"""cext.py - a heap full of C-extension objects.

    PYHEAP_RECORD_OUT=PREFIX PYHEAP_RECORDER=.../recorder.py python3.X cext.py

CPython 3.8 - 3.13; numpy only where it imports (Debian's python3-numpy, i.e.
/usr/bin/python3.11).  Everything is held from module globals:

  DBS        sqlite3 in-memory connections (each with a table of rows), open
             cursors (CURSORS), fetched sqlite3.Row objects (ROWS)
  DECIMALS   decimal.Decimal values; CONTEXTS decimal.Context objects
  TLS        ssl.SSLContext (server and client), a local TLS server thread on
             127.0.0.1 with a self-signed cert made by `openssl req`, open
             client SSLSockets (TLS_SOCKETS) and their ssl.SSLSession
             objects (TLS_SESSIONS)
  SCANNERS   json.JSONDecoder().scan_once (_json.Scanner); ENCODERS
             json.encoder.c_make_encoder objects (_json.Encoder)
  ARRAYS     numpy arrays of several sizes (up to 24 MB), VIEWS of them
             (slices, transposes, reshapes: .base is the owner), object and
             structured arrays

Writes PREFIX.workload.json (what was made, per kind, with expected counts
and numpy buffer sizes) and runs the recorder, which stops the process.
"""

import decimal
import json
import json.encoder
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time

try:
    import numpy as np
except ImportError:
    np = None

N_DB = 4
N_ROWS_PER_DB = 2500
N_FETCHED = 5000
N_DECIMAL = 20000
N_CONTEXT = 50
N_SCANNER = 40
N_ENCODER = 40
N_TLS_CLIENTS = 4

# --- sqlite3 ----------------------------------------------------------------
DBS = []
CURSORS = []
ROWS = []
for d in range(N_DB):
    con = sqlite3.connect(':memory:', check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute('create table item (id integer primary key, name text, price real, blob blob)')
    con.executemany('insert into item values (?, ?, ?, ?)',
                    ((i, 'item-%d-%d' % (d, i), i * 0.25, b'\x00' * (i % 64))
                     for i in range(N_ROWS_PER_DB)))
    con.commit()
    DBS.append(con)
    cur = con.execute('select * from item order by id')
    ROWS.extend(cur.fetchmany(N_FETCHED // N_DB))
    CURSORS.append(cur)                 # half-consumed cursor
    CURSORS.append(con.cursor())        # fresh cursor
del con, cur, d

# --- decimal ----------------------------------------------------------------
CONTEXTS = [decimal.Context(prec=10 + i % 40, rounding=decimal.ROUND_HALF_EVEN)
            for i in range(N_CONTEXT)]
DECIMALS = []
for i in range(N_DECIMAL):
    ctx = CONTEXTS[i % N_CONTEXT]
    DECIMALS.append(ctx.divide(decimal.Decimal(i + 1), decimal.Decimal(7)))
del ctx, i

# --- json -------------------------------------------------------------------
SCANNERS = [json.JSONDecoder(strict=bool(i % 2)).scan_once for i in range(N_SCANNER)]
ENCODERS = []
if json.encoder.c_make_encoder is not None:
    for i in range(N_ENCODER):
        ENCODERS.append(json.encoder.c_make_encoder(
            {} if i % 2 else None, str, json.encoder.encode_basestring_ascii,
            None, ': ', ', ', bool(i % 3), False, True))
PARSED = [SCANNERS[0]('{"a": [1, 2, {"b": "c%d"}]}' % i, 0)[0] for i in range(2000)]

# --- ssl --------------------------------------------------------------------
TLS = {}
TLS_SOCKETS = []
TLS_SESSIONS = []
# the certificate goes beside the truth (the suite's cache dir), else in /tmp
_WORK = tempfile.mkdtemp(prefix='cext-tls-', dir=os.path.dirname(os.environ['PYHEAP_RECORD_OUT'])
                         if os.environ.get('PYHEAP_RECORD_OUT') else None)


def make_cert():
    key = os.path.join(_WORK, 'key.pem')
    crt = os.path.join(_WORK, 'cert.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                    '-keyout', key, '-out', crt, '-days', '2', '-subj', '/CN=localhost'],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def tls_server(sctx, lsock, stop):
    conns = []
    lsock.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = lsock.accept()
        except socket.timeout:
            continue
        try:
            s = sctx.wrap_socket(c, server_side=True)
            s.sendall(b'hello %d\n' % len(conns))
            conns.append(s)             # kept open, like a server with live sessions
        except (ssl.SSLError, OSError):
            c.close()


def setup_tls():
    crt, key = make_cert()
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(crt, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(crt)
    cctx.check_hostname = True
    cctx2 = ssl.create_default_context()
    TLS.update(server=sctx, client=cctx, default=cctx2)
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(16)
    stop = threading.Event()
    th = threading.Thread(target=tls_server, args=(sctx, lsock, stop), name='tls-server',
                          daemon=True)
    th.start()
    port = lsock.getsockname()[1]
    session = None
    for i in range(N_TLS_CLIENTS):
        raw = socket.create_connection(('127.0.0.1', port))
        s = cctx.wrap_socket(raw, server_hostname='localhost', session=session)
        s.recv(64)                      # TLS 1.3: the session ticket arrives with data
        TLS_SOCKETS.append(s)
        if s.session is not None:
            TLS_SESSIONS.append(s.session)
            session = s.session
    TLS.update(listener=lsock, thread=th, stop=stop, port=port)


setup_tls()

# --- numpy ------------------------------------------------------------------
ARRAYS = {}
VIEWS = {}
if np is not None:
    ARRAYS['tiny'] = [np.arange(i, i + 10, dtype=np.int64) for i in range(200)]
    ARRAYS['small'] = [np.linspace(0, 1, 1000) for _ in range(50)]       # 8 KB each
    ARRAYS['medium'] = [np.ones(100000) * i for i in range(5)]            # 800 KB each
    ARRAYS['big'] = np.arange(1000000, dtype=np.float64)                  # 8 MB
    ARRAYS['huge'] = np.zeros((3000, 1000), dtype=np.float64)             # 24 MB
    ARRAYS['int8'] = np.full(5000000, 7, dtype=np.int8)                   # 5 MB
    ARRAYS['objects'] = np.array([{'k': i} for i in range(1000)], dtype=object)
    ARRAYS['struct'] = np.zeros(20000, dtype=[('id', 'i4'), ('x', 'f8'), ('tag', 'S8')])
    VIEWS['big_slice'] = ARRAYS['big'][1000:500000:2]
    VIEWS['huge_T'] = ARRAYS['huge'].T
    VIEWS['huge_row'] = ARRAYS['huge'][17]
    VIEWS['big_reshaped'] = ARRAYS['big'].reshape(1000, 1000)
    VIEWS['view_of_view'] = VIEWS['big_slice'][::10]
    VIEWS['struct_field'] = ARRAYS['struct']['x']
    SCALARS = [np.float64(i) for i in range(1000)]
else:
    SCALARS = []


def describe():
    out = {
        'workload': 'cext',
        'python': sys.version.split()[0],
        'sqlite3': {'connections': len(DBS), 'cursors': len(CURSORS), 'rows': len(ROWS),
                    'types': {'sqlite3.Connection': len(DBS), 'sqlite3.Cursor': len(CURSORS),
                              'sqlite3.Row': len(ROWS)}},
        'decimal': {'decimal.Decimal (in DECIMALS)': len(DECIMALS),
                    'decimal.Context (in CONTEXTS)': len(CONTEXTS)},
        'json': {'_json.Scanner': len(SCANNERS), '_json.Encoder': len(ENCODERS),
                 'parsed dicts': len(PARSED)},
        'ssl': {'contexts': 3, 'client sockets': len(TLS_SOCKETS),
                'sessions': len(TLS_SESSIONS), 'tls_version': TLS_SOCKETS[0].version()
                if TLS_SOCKETS else None},
        'numpy': None,
    }
    if np is not None:
        def info(a):
            return {'shape': list(a.shape), 'dtype': str(a.dtype), 'nbytes': int(a.nbytes),
                    'owns_data': bool(a.flags['OWNDATA']),
                    'base_id': '%#x' % id(a.base) if a.base is not None else None,
                    'id': '%#x' % id(a), 'data': '%#x' % a.__array_interface__['data'][0]}
        out['numpy'] = {
            'version': np.__version__,
            'arrays': {k: info(v) for k, v in ARRAYS.items() if not isinstance(v, list)},
            'array_lists': {k: {'count': len(v), 'nbytes_each': int(v[0].nbytes)}
                            for k, v in ARRAYS.items() if isinstance(v, list)},
            'views': {k: info(v) for k, v in VIEWS.items()},
            'scalars': len(SCALARS),
            'ndarray_total_expected': sum(len(v) if isinstance(v, list) else 1
                                          for v in ARRAYS.values()) + len(VIEWS),
            'data_bytes_owned': sum(int(a.nbytes) for v in ARRAYS.values()
                                    for a in (v if isinstance(v, list) else [v])),
        }
    return out


def main():
    prefix = os.environ.get('PYHEAP_RECORD_OUT')
    d = describe()
    print(json.dumps(d)[:400], flush=True)
    if prefix:
        with open(prefix + '.workload.json', 'w') as f:
            json.dump(d, f, indent=1)
        del f
    del d
    time.sleep(0.3)
    P = os.environ.get('PYHEAP_RECORDER')
    if P:
        exec(compile(open(P).read(), P, 'exec'), {'__name__': '__pyheap_recorder__'})
    TLS['stop'].set()


if __name__ == '__main__':
    main()
