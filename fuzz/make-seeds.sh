#!/bin/sh
# make-seeds.sh - seed cores and corpora for the fuzz targets (mk/fuzz.mk).
#
#   sh fuzz/make-seeds.sh [BUILD_DIR]      (default build-fuzz)
#
# Writes, under BUILD_DIR:
#   seeds/heap-3.11.core   /usr/bin/python3.11 (Debian, stripped: pool scan)
#   seeds/heap-3.12.core   pyenv 3.12 (obmalloc state), when installed
#   seeds/heap-3.13.core   pyenv 3.13 (debug offsets), when installed
#   corpus/core/           fixtures/synth/*.core, and the headers and notes
#                          of each seed core (no segment data)
#   corpus/heap/           a few patch lists for fuzz_heap (see fuzz_heap.c)
#
# The cores are made here, with gcore, from small Pythons that stop
# themselves: they are never committed, and fuzz_heap needs the very
# interpreters and libraries they name, so they must be made on the machine
# that fuzzes.  Needs gdb (gcore) and ptrace.
set -eu
B=${1:-build-fuzz}
SRC=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$B/seeds" "$B/corpus/core" "$B/corpus/heap"
PYENV=${PYENV_ROOT:-/root/.pyenv}
PROG='import os, signal
x = [{"a": i} for i in range(2000)]
class C:
    def __init__(self, i): self.i = i
y = [C(i) for i in range(300)]
s = [str(i) * 5 for i in range(500)]
os.kill(os.getpid(), signal.SIGSTOP)
'

mkcore() {  # mkcore PYTHON OUT
	py=$1 out=$2
	if [ ! -x "$py" ]; then
		echo "make-seeds: $py not installed, skipping $out" >&2
		return 0
	fi
	[ -s "$out" ] && return 0
	"$py" -c "$PROG" </dev/null >/dev/null &
	pid=$!
	i=0
	while [ $i -lt 300 ]; do
		st=$(sed 's/.*) //' /proc/$pid/stat 2>/dev/null | cut -c1)
		[ "$st" = T ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if gcore -o "$out.tmp" $pid >/dev/null 2>&1; then
		mv "$out.tmp.$pid" "$out"
		echo "make-seeds: $out ($(wc -c <"$out") bytes)"
	else
		echo "make-seeds: gcore failed for $py (is ptrace allowed?)" >&2
	fi
	kill -9 $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
}

mkcore /usr/bin/python3.11 "$B/seeds/heap-3.11.core"
mkcore "$PYENV/versions/3.12.1/bin/python3.12" "$B/seeds/heap-3.12.core"
mkcore "$PYENV/versions/3.13.0/bin/python3.13" "$B/seeds/heap-3.13.core"

cp "$SRC"/fixtures/synth/*.core "$B/corpus/core/" 2>/dev/null || true
python3 - "$B" <<'PY'
import glob, os, random, struct, sys
b = sys.argv[1]
# fuzz_core: each seed core reduced to its headers and notes: the ELF
# header, the program headers, then the notes moved right after them; the
# PT_LOADs keep their offsets, past the end (so the image reads what it can
# from the module files and reports the rest missing)
for c in sorted(glob.glob(os.path.join(b, "seeds", "heap-*.core"))):
    data = bytearray(open(c, "rb").read())
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phnum, = struct.unpack_from("<H", data, 0x38)
    out = bytearray(data[:phoff + 56 * phnum])
    for i in range(phnum):
        at = phoff + 56 * i
        t, f, off, va, pa, fsz, msz, al = struct.unpack_from("<IIQQQQQQ", data, at)
        if t == 4:
            struct.pack_into("<Q", out, at + 8, len(out))
            out += data[off:off + fsz]
    name = os.path.basename(c).replace(".core", "-headers.core")
    open(os.path.join(b, "corpus", "core", name), "wb").write(bytes(out))
# fuzz_heap: a few patch lists (see fuzz_heap.c); deterministic
rnd = random.Random(1)
open(os.path.join(b, "corpus", "heap", "empty"), "wb").write(b"")
for k in range(8):
    out = bytearray()
    for _ in range(rnd.randint(1, 8)):
        op = rnd.randrange(4)
        if op == 0:
            n = rnd.randint(1, 16)
            out += bytes([op]) + struct.pack("<IB", rnd.getrandbits(32), n - 1) + rnd.randbytes(n)
        elif op == 1:
            out += bytes([op]) + struct.pack("<II", rnd.getrandbits(32), rnd.getrandbits(32))
        elif op == 2:
            out += bytes([op]) + struct.pack("<IIb", rnd.getrandbits(32), rnd.getrandbits(32),
                                            rnd.randint(-4, 4))
        else:
            out += bytes([op]) + struct.pack("<IB", rnd.getrandbits(32), rnd.randrange(8))
    open(os.path.join(b, "corpus", "heap", "seed-%d" % k), "wb").write(bytes(out))
PY
echo "make-seeds: corpora in $B/corpus"
