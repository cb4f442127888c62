"""freeze.py - how a heap builder records its truth and stops for its core,
and the collector state it records at that stop (imported by heapbuild.py,
graphbuild.py, leakbuild.py and membuild.py; mkcore.py copies it next to
the builder).

The protocol with mkcore.py, for each core NAME the builder wants:

  1. the builder records its truth, writes OUTDIR/ready holding NAME (to
     ready.tmp, renamed) and stops itself with SIGSTOP;
  2. mkcore.py sees the process stopped (state 'T') with OUTDIR/ready,
     deletes ready, takes the core with gcore into OUTDIR/NAME and sends
     SIGCONT;
  3. the builder, first thing after the stop returns, records the collector
     state into OUTDIR/NAME.gc.json and goes on: to its next core, or it
     calls finish(), which writes OUTDIR/finished and stops again, and
     mkcore.py kills it.

Why the collector state is read after the stop, not before it: every way of
reading it allocates (the tuple gc.get_count() returns, the list of
gc.get_objects()), and a tracked allocation moves count 0 and generation 0.
When the stop returns, execution resumes in stop()'s own frame with nothing
run in between, and each reading is taken before anything is allocated for
it (gc.get_count() reads the counts before it builds its tuple; the tuple
dies before the first gc.get_objects(), whose own list it leaves out); so
the numbers are those of the core, exactly (tolerance 0).  The collector is
switched off for the reading, after isenabled() was read, so that no
allocation can start a collection in the middle of it.

The truth is recorded from stop()'s frame too (record()), so that on 3.8 -
3.10, where frames are GC-tracked objects, the frames alive at the stop are
the frames the truth saw; whatever record() and the file writing make after
the truth's snapshot dies before the stop.
"""

import gc
import json
import os
import signal
import sys

# Bound at import, so that nothing is looked up or made between the stop and
# the reading.
_isenabled = gc.isenabled
_disable = gc.disable
_enable = gc.enable
_get_count = gc.get_count
_get_threshold = gc.get_threshold
_get_objects = gc.get_objects
_get_freeze_count = gc.get_freeze_count
_collect = gc.collect
_raise_signal = signal.raise_signal
_debugmallocstats = sys._debugmallocstats
_dup2 = os.dup2
_SIGSTOP = signal.SIGSTOP


def write_atomic(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    del f
    os.rename(tmp, path)


def threads():
    """The threads as the interpreter and the kernel know them: every Python
    thread's ident (its pthread_t) and native id (the kernel's tid), and the
    task ids of the process."""
    import threading
    return {
        'python': [{'ident': t.ident, 'native_id': getattr(t, 'native_id', None),
                    'name': t.name} for t in threading.enumerate()],
        'main_ident': threading.main_thread().ident,
        'tasks': sorted(int(x) for x in os.listdir('/proc/self/task')),
    }


def settle(young):
    """Gives every generation a known, non-trivial state, then switches
    automatic collection off until the stop (a collection between the truth
    and the core would free what the truth counted, and a collection is
    what an allocation can start at any time).  young(k) makes and keeps
    some objects (k = 0, 1, 2): they end up in generation 1 (k = 0, 1) and
    in generation 0 (k = 2), and counts 1 and 2 are non-zero.  Returns
    whether the collector was enabled, for stop(enable=...)."""
    was = gc.isenabled()
    gc.collect()
    gc.collect()
    gc.collect(1)           # count 2 = 1
    young(0)
    gc.collect(0)           # count 1 = 1, young(0) moves to generation 1
    young(1)
    gc.collect(0)           # count 1 = 2
    young(2)                # stays in generation 0
    gc.disable()
    return was


def stop(outdir, name, record=None, mallocstats=None, enable=False, check_garbage=True,
         at_stop=None):
    """Steps 1 and 3 of the protocol for the core NAME.
       record()       records the truth (runs in this frame's callee, after a
                      warm-up of the file writing below, so that nothing is
                      made lazily on first use after the snapshot)
       mallocstats    a file for sys._debugmallocstats(), taken first thing
                      after the stop: stderr is pointed at the file before
                      the stop, and the statistics, which make no Python
                      object, are read from the frozen arenas before
                      anything else runs (taken before the stop, a block
                      freed in between -- it happened on 3.12 -- made them
                      differ from the core)
       enable         switch the collector on right before the stop (no
                      allocation is made between that and the stop)
       check_garbage  after the reading, collect and record how much cyclic
                      garbage the core holds that is in no truth (made after
                      the snapshot: a harness error); False for builders that
                      keep garbage on purpose.
       at_stop        a callable run last before the stop (after the ready
                      file is written and stderr pointed at mallocstats,
                      before the collector is switched on): for a truth
                      that the writing above would change, such as glibc
                      malloc's statistics (membuild.py: mallinfo2(), after
                      the 4-8 KiB buffer of the ready file, a large-bin
                      request, consolidated the fastbins)."""
    write_atomic(os.path.join(outdir, 'warmup.json'),
                 json.dumps({'warm': [1, 'up', None]}, sort_keys=True))
    if record is not None:
        record()
    write_atomic(os.path.join(outdir, 'ready'), name + '\n')
    sys.stdout.flush()
    sys.stderr.flush()
    fd = saved = -1
    if mallocstats is not None:
        fd = os.open(mallocstats, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        saved = os.dup(2)
        os.dup2(fd, 2)
    if at_stop is not None:
        at_stop()
    if enable:
        _enable()
    _raise_signal(_SIGSTOP)
    # --- continued: the core has been taken.  Read before anything else.
    if fd >= 0:
        _debugmallocstats()
        _dup2(saved, 2)
    enabled = _isenabled()
    _disable()
    c0, c1, c2 = _get_count()
    n0 = len(_get_objects(0))      # positional: a keyword would make the
    n1 = len(_get_objects(1))      # argument parser's keyword tuple (3.8 -
    n2 = len(_get_objects(2))      # 3.11), a new tracked object, on first use
    t0, t1, t2 = _get_threshold()
    frozen = _get_freeze_count()
    garbage = _collect() if check_garbage else None
    state = {
        'enabled': enabled,
        'thresholds': [t0, t1, t2],
        'counts': [c0, c1, c2],
        'generation_objects': [n0, n1, n2],
        'permanent_objects': frozen,
        'garbage_after_truth': garbage,
    }
    if fd >= 0:
        os.close(fd)
        os.close(saved)
    write_atomic(os.path.join(outdir, name + '.gc.json'), json.dumps(state, sort_keys=True))
    if enabled:
        _enable()


def finish(outdir):
    """The last core was taken: say so and wait to be killed."""
    write_atomic(os.path.join(outdir, 'finished'), '%d\n' % os.getpid())
    sys.stdout.flush()
    while True:
        _raise_signal(_SIGSTOP)
