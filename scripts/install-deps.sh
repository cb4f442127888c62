#!/bin/sh
# install-deps.sh - install what pyheap needs to build, test and demo on a
# fresh Debian 12 (bookworm) machine.
#
#   sh scripts/install-deps.sh        (also run by `make deps`, `make demo`
#                                      and .ci/run)
#
# Idempotent: every package is checked with dpkg-query first; apt-get update
# and apt-get install run only when something is missing, and then once.
# Runs as root, or through sudo when not root and sudo exists.
#
# Packages:
#   build-essential pkg-config    compiler, make
#   libelf-dev libdw-dev          ELF and DWARF reading (elfutils' libraries)
#   libgraphviz-dev graphviz      reference-graph output (graph/)
#   check                         unit-test framework
#   gdb                           gcore(1), used by the tests and the demo
#   python3                       Debian's stripped /usr/bin/python3.11: the
#                                 integration tests' "production" interpreter
#   clang libclang-rt-14-dev      fuzzing (libFuzzer + sanitizer runtimes)
#   elfutils time                 eu-readelf & co. for debugging; /usr/bin/time
#   libc6-dbg                     separate debug info, found by build-id (check_core);
#                                 glibc's malloc by its symbols (check_memory)
#   debootstrap                   the Debian chroots of scripts/distro.sh (trixie
#                                 and sid interpreters for the real-core suites)
#   debuginfod                    the debuginfod server the debuginfod test runs
#                                 on the loopback address (libdebuginfod1, the
#                                 client libdw uses, comes with it)
#   libzstd-dev liblz4-dev liblzma-dev
#                                 compressed cores (.zst, .lz4, .xz) and `dump -o FILE.zst`
#   zstd lz4 xz-utils             the CLIs that make compressed cores in check_capture
#   strace                        a process that is already traced (check_capture)
#   systemd-coredump              the files systemd-coredump stores (check_capture
#                                 hands it a core as the kernel would; installing it
#                                 sets kernel.core_pattern to pipe every crash to
#                                 it, so the pattern from before is put back)
#   pylint mypy python3-numpy     real programs and C extensions cored by
#   openssl                       check_realheaps (tests/realheaps: pylint and
#                                 mypy runs, numpy arrays, a local TLS server's
#                                 self-signed certificate)
#   chromium                      headless browser: check_report opens `pyheap report`'s
#                                 page (console errors, rendered text, screenshots)
set -u

PACKAGES="build-essential pkg-config libelf-dev libdw-dev libgraphviz-dev graphviz \
check gdb python3 clang libclang-rt-14-dev elfutils time libc6-dbg debootstrap debuginfod \
libzstd-dev liblz4-dev liblzma-dev zstd lz4 xz-utils strace systemd-coredump \
pylint mypy python3-numpy openssl chromium"

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	die "dpkg-query/apt-get not found: this script supports Debian 12 only; install by hand: $PACKAGES"
fi

installed() {
	# "install ok installed" is the only state that means usable.
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=""
present=""
for p in $PACKAGES; do
	if installed "$p"; then
		present="$present $p"
	else
		missing="$missing $p"
	fi
done
[ -n "$present" ] && say "already installed:$present"
[ -n "$missing" ] && say "missing:$missing"

if [ -z "$missing" ]; then
	say "all dependencies are installed"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
		say "not root: using sudo"
	else
		die "not root and sudo is not available; as root run: apt-get install$missing"
	fi
fi

export DEBIAN_FRONTEND=noninteractive

say "running apt-get update"
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null; then
	die "apt-get update failed (no network or broken sources.list?)"
fi

say "installing$missing"
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
# shellcheck disable=SC2086 # $missing is a word list on purpose
if ! $SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends $missing </dev/null; then
	die "apt-get install failed for:$missing"
fi
if [ -n "$pattern" ] && [ "$(cat /proc/sys/kernel/core_pattern)" != "$pattern" ]; then
	say "kernel.core_pattern put back to $pattern (systemd-coredump's postinst changed it)"
	printf '%s\n' "$pattern" | $SUDO tee /proc/sys/kernel/core_pattern >/dev/null ||
		say "warning: could not put kernel.core_pattern back"
fi

still=""
for p in $missing; do
	installed "$p" || still="$still $p"
done
if [ -n "$still" ]; then
	die "still not installed after apt-get install:$still"
fi
say "installed$missing"
exit 0
