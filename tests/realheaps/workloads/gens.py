"""gens.py - suspended and unstarted generators, coroutines and
async generators of functions whose code objects are over 512 bytes (so the
code is a malloc block, in the brk heap on Debian's non-PIE python3.11).

    PYHEAP_RECORD_OUT=PREFIX PYHEAP_RECORDER=.../recorder.py python3.X gens.py

CPython 3.8 - 3.13.  Module globals:
  SUSPENDED_GENS   N_GEN generators of big_gen(), each advanced to its first
                   yield (locals: a list, a dict, a Payload, an int)
  UNSTARTED_GENS   N_GEN_NEW generators of big_gen(), never started
  FINISHED_GENS    a few exhausted generators
  SUSPENDED_CORO   N_CORO coroutines of big_coro(), suspended in an await
  UNSTARTED_CORO   N_CORO_NEW coroutines never started
  SUSPENDED_AGEN   N_AGEN async generators of big_agen(), at their first yield
  UNSTARTED_AGEN   N_AGEN_NEW async generators never started
  NESTED           generators suspended inside `yield from` another generator
Writes PREFIX.workload.json (counts per kind, the code objects' sizes) and runs
the recorder, which stops the process.
"""

import json
import os
import sys
import types
import warnings

N_GEN, N_GEN_NEW = 4000, 500
N_CORO, N_CORO_NEW = 1000, 300
N_AGEN, N_AGEN_NEW = 1000, 200
N_NESTED = 300

warnings.simplefilter('ignore')     # "coroutine was never awaited" at exit


class Payload:
    def __init__(self, n):
        self.n = n
        self.data = [n, n + 1, n + 2]


class Step:
    """An awaitable that suspends the coroutine once (yields to its driver)."""

    def __await__(self):
        return (yield 'step')


def big_gen(n, tag):
    # Long enough that the code object is well over 512 bytes.
    items = [n, n * 2, n * 3, tag]
    meta = {'n': n, 'tag': tag, 'kind': 'gen'}
    payload = Payload(n)
    total = 0
    for i in range(3):
        total += i * n
        if total > 1000000:
            total -= 1000000
        elif total < -1000000:
            total += 1000000
    acc = []
    acc.append(sum(items[:3]))
    acc.append(len(meta))
    acc.append(payload.n)
    label = '%s-%d-%d' % (tag, n, total)
    x1 = n + 1
    x2 = x1 * 2
    x3 = x2 - x1
    x4 = x3 + x2 + x1
    if x4 % 2:
        label += '-odd'
    else:
        label += '-even'
    try:
        yield (items, meta, payload, label)
    finally:
        meta['closed'] = True
    for k in range(5):
        acc.append(k * x4)
        yield acc[-1]
    yield total, x1, x2, x3, x4, label


async def big_coro(n, tag):
    items = [n, tag]
    meta = {'n': n, 'tag': tag, 'kind': 'coro'}
    payload = Payload(n)
    total = 0
    for i in range(3):
        total += i * n
        if total > 1000000:
            total -= 1000000
    label = '%s-%d-%d' % (tag, n, total)
    x1 = n + 1
    x2 = x1 * 2
    x3 = x2 - x1
    x4 = x3 + x2 + x1
    if x4 % 2:
        label += '-odd'
    else:
        label += '-even'
    r = await Step()
    acc = [r, items, meta, payload, label]
    for k in range(3):
        acc.append(k * x4)
        await Step()
    return acc, total, x1, x2, x3, x4


async def big_agen(n, tag):
    items = [n, tag]
    meta = {'n': n, 'tag': tag, 'kind': 'agen'}
    payload = Payload(n)
    total = 0
    for i in range(3):
        total += i * n
        if total > 1000000:
            total -= 1000000
    label = '%s-%d-%d' % (tag, n, total)
    x1 = n + 1
    x2 = x1 * 2
    x3 = x2 - x1
    x4 = x3 + x2 + x1
    if x4 % 2:
        label += '-odd'
    else:
        label += '-even'
    yield (items, meta, payload, label)
    for k in range(3):
        await Step()
        yield k * x4
    yield total, x1, x2, x3, x4


def outer(n):
    got = yield from big_gen(n, 'nested')
    yield got


def advance_agen(ag):
    """Run an async generator to its first yield, synchronously."""
    try:
        ag.asend(None).send(None)
    except StopIteration:
        pass


SUSPENDED_GENS = []
for _i in range(N_GEN):
    _g = big_gen(_i, 'g')
    next(_g)
    SUSPENDED_GENS.append(_g)
UNSTARTED_GENS = [big_gen(_i, 'u') for _i in range(N_GEN_NEW)]
FINISHED_GENS = []
for _i in range(10):
    _g = big_gen(_i, 'f')
    for _ in _g:
        pass
    FINISHED_GENS.append(_g)
SUSPENDED_CORO = []
for _i in range(N_CORO):
    _c = big_coro(_i, 'c')
    _c.send(None)
    SUSPENDED_CORO.append(_c)
UNSTARTED_CORO = [big_coro(_i, 'cu') for _i in range(N_CORO_NEW)]
SUSPENDED_AGEN = []
for _i in range(N_AGEN):
    _a = big_agen(_i, 'a')
    advance_agen(_a)
    SUSPENDED_AGEN.append(_a)
UNSTARTED_AGEN = [big_agen(_i, 'au') for _i in range(N_AGEN_NEW)]
NESTED = []
for _i in range(N_NESTED):
    _g = outer(_i)
    next(_g)
    NESTED.append(_g)
del _i, _g, _c, _a


def describe():
    sz = {f.__name__: sys.getsizeof(f.__code__) for f in (big_gen, big_coro, big_agen, outer)}
    return {
        'workload': 'gens',
        'python': sys.version.split()[0],
        'code_sizes': sz,
        'code_addrs': {f.__name__: '%#x' % id(f.__code__)
                       for f in (big_gen, big_coro, big_agen, outer)},
        'counts': {
            'generator': N_GEN + N_GEN_NEW + 10 + 2 * N_NESTED + N_CORO,
            'generator (Step.__await__, held by suspended coroutines)': N_CORO,
            'generator (suspended big_gen)': N_GEN + N_NESTED,
            'generator (unstarted big_gen)': N_GEN_NEW,
            'generator (finished big_gen)': 10,
            'generator (suspended outer)': N_NESTED,
            'coroutine': N_CORO + N_CORO_NEW,
            'coroutine (suspended)': N_CORO,
            'coroutine (unstarted)': N_CORO_NEW,
            'async_generator': N_AGEN + N_AGEN_NEW,
            'async_generator (suspended)': N_AGEN,
            'async_generator (unstarted)': N_AGEN_NEW,
            '__main__.Payload': N_GEN + N_NESTED + N_CORO + N_AGEN,
        },
        'gen_sizes': {
            'suspended big_gen': sys.getsizeof(SUSPENDED_GENS[0]),
            'coroutine': sys.getsizeof(SUSPENDED_CORO[0]),
            'async_generator': sys.getsizeof(SUSPENDED_AGEN[0]),
        },
        'sample_addrs': {'suspended_gen': '%#x' % id(SUSPENDED_GENS[0]),
                         'unstarted_gen': '%#x' % id(UNSTARTED_GENS[0]),
                         'coroutine': '%#x' % id(SUSPENDED_CORO[0]),
                         'async_generator': '%#x' % id(SUSPENDED_AGEN[0])},
    }


def main():
    prefix = os.environ.get('PYHEAP_RECORD_OUT')
    d = describe()
    print(json.dumps(d), flush=True)
    if prefix:
        with open(prefix + '.workload.json', 'w') as f:
            json.dump(d, f, indent=1)
        del f
    del d
    P = os.environ.get('PYHEAP_RECORDER')
    if P:
        exec(compile(open(P).read(), P, 'exec'), {'__name__': '__pyheap_recorder__'})


if __name__ == '__main__':
    main()
