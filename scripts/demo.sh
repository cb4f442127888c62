#!/bin/sh
# demo.sh - core a small leaky Python program and analyse the core with pyheap.
#
#   sh scripts/demo.sh [PATH/TO/pyheap]      (`make demo` passes build/pyheap)
#
# 1. runs tests/integration/leaky.py with python3 (Debian's /usr/bin/python3 when it
#    exists, else the first python3/python on PATH); the program builds its
#    heap, prints its pid and stops itself with SIGSTOP;
# 2. waits (60 s at most) until /proc/PID/stat shows state 'T';
# 3. takes a core with `gcore -o build/demo/leaky.core PID` and renames
#    gcore's leaky.core.PID to build/demo/leaky.core;
# 4. kills the program (SIGKILL) and reaps it;
# 5. runs `pyheap info`, `pyheap types --top 15` and `pyheap arenas` on it.
#
# gcore needs ptrace: with kernel.yama.ptrace_scope = 3, or in a container
# without CAP_SYS_PTRACE, it cannot work and this script says so and exits 1.
# The program is killed on every exit path (trap).
set -u

die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'demo: %s\n' "$*"; }

PYHEAP=${1:-build/pyheap}
case $PYHEAP in
/*) ;;
*) PYHEAP=$(pwd)/$PYHEAP ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the source tree"
cd "$ROOT" || die "cannot cd to $ROOT"

OUT=build/demo
CORE=$OUT/leaky.core
FIXTURE=tests/integration/leaky.py
TIMEOUT=60

[ -x "$PYHEAP" ] || die "$PYHEAP: not found or not executable (run 'make all' first)"
[ -r "$FIXTURE" ] || die "$FIXTURE: not found"
command -v gcore >/dev/null 2>&1 || die "gcore not found (it comes with gdb: run 'sh scripts/install-deps.sh')"

if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then
	PY=$(command -v python3)
elif command -v python >/dev/null 2>&1; then
	PY=$(command -v python)
else
	die "no python3 found (run 'sh scripts/install-deps.sh')"
fi

if [ -r /proc/sys/kernel/yama/ptrace_scope ] &&
	[ "$(cat /proc/sys/kernel/yama/ptrace_scope)" = 3 ]; then
	die "ptrace is disabled (kernel.yama.ptrace_scope = 3), so gcore cannot take a core; this needs a reboot to change. Take a core another way (kernel core dump or systemd-coredump) and run: $PYHEAP info CORE"
fi

mkdir -p "$OUT" || die "cannot create $OUT"
rm -f "$CORE" "$CORE".[0-9]*

PID=""
cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=""
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

say "running $PY $FIXTURE ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
"$PY" "$FIXTURE" >"$OUT/leaky.out" 2>&1 </dev/null &
PID=$!

# Wait for the program to stop itself: state 'T' in /proc/PID/stat.  The
# state is the first field after the parenthesised command name.
state=""
i=0
while [ "$i" -lt $((TIMEOUT * 10)) ]; do
	if [ ! -r "/proc/$PID/stat" ]; then
		cat "$OUT/leaky.out" >&2
		die "$FIXTURE exited before stopping itself (output above)"
	fi
	state=$(sed 's/^.*) //' "/proc/$PID/stat" 2>/dev/null | cut -d' ' -f1)
	case $state in
	T) break ;;
	Z|X)
		cat "$OUT/leaky.out" >&2
		die "$FIXTURE exited before stopping itself (output above)" ;;
	esac
	sleep 0.1
	i=$((i + 1))
done
[ "$state" = T ] || die "$FIXTURE (pid $PID) did not stop itself within $TIMEOUT s (state '$state')"
sed 's/^/demo: leaky.py: /' "$OUT/leaky.out"

say "taking a core of pid $PID with gcore"
if ! gcore -o "$CORE" "$PID" >"$OUT/gcore.log" 2>&1 || [ ! -s "$CORE.$PID" ]; then
	cat "$OUT/gcore.log" >&2
	die "gcore could not take a core of pid $PID (output above). Most likely ptrace is not permitted here: kernel.yama.ptrace_scope ($(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo absent)) or a container without CAP_SYS_PTRACE"
fi
mv "$CORE.$PID" "$CORE" || die "cannot rename $CORE.$PID to $CORE"
cleanup
say "core written: $CORE ($(wc -c <"$CORE" | tr -d ' ') bytes); process killed"

status=0
run() {
	printf '\n$ %s\n' "pyheap $*"
	"$PYHEAP" "$@"
	rc=$?
	case $rc in
	0) ;;
	3) say "pyheap $1: partial results (exit 3): part of the heap could not be read" ;;
	*) say "pyheap $1 failed (exit $rc)"; status=1 ;;
	esac
}
run info "$CORE"
run types --top 15 "$CORE"
run arenas "$CORE"

echo
if [ "$status" -eq 0 ]; then
	say "done; the core is kept in $CORE (try: $PYHEAP types --json $CORE)"
else
	say "pyheap failed on $CORE"
fi
exit "$status"
