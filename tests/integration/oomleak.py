"""oomleak.py - a Python program that leaks until the kernel kills it.

    python oomleak.py [STEP_OBJECTS] [SLEEP_SECONDS]

Appends LeakyRecord objects (an int, a 2 KB bytes payload, a small dict)
to the module-level list _LEAK, STEP_OBJECTS (default 5000, about 12 MB)
at a time with a short sleep between steps, forever.  capture.py runs it
in a memory cgroup with a limit: `pyheap watch` must dump it before the
OOM killer takes it, and the dump's analysis must name LeakyRecord and
_LEAK.  Runs unchanged on CPython 3.8 to 3.13; standard library only.
"""
import sys
import time


class LeakyRecord(object):
    def __init__(self, i):
        self.i = i
        self.payload = bytes(2000) + str(i).encode()
        self.tags = {'k': i}


_LEAK = []


def main():
    step = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
    n = 0
    while True:
        _LEAK.extend(LeakyRecord(n + i) for i in range(step))
        n += step
        time.sleep(pause)


if __name__ == '__main__':
    main()
