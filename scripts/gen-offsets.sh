#!/usr/bin/env bash
# gen-offsets.sh - build pyheap's built-in offset tables from CPython DWARF.
#
#   scripts/gen-offsets.sh                 regenerate pyheap/offsets_tables.c
#   scripts/gen-offsets.sh -o FILE         write the tables to FILE instead
#   scripts/gen-offsets.sh --print NAME    print "field value" lines (decimal,
#                                          -1 = absent) for one layout
#   scripts/gen-offsets.sh --dwarf NAME    print the file holding its DWARF
#   scripts/gen-offsets.sh --binary NAME   print the binary holding its _PyRuntime
#
# The field list is parsed out of the PH_OFFSETS X-macro in pyheap/offsets.h,
# so offsets.h stays the single source of truth.  Each field is
# X(name, "type", "a.b|c"): "type" is a struct tag or a typedef, the member
# path is dotted, '|' separates alternatives (first one that exists wins), and
# "" asks for sizeof(type).  One gdb run per build evaluates every field from
# the libpython's DWARF; a field that gdb cannot resolve becomes -1.
#
# The builds are listed in scripts/layouts.txt (NAME SOURCE ARG): pyenv
# builds ($PYENV_ROOT/versions/<ver>/lib/libpython3.X.so.1.0, PYENV_ROOT
# defaulting to /root/.pyenv) and detached debug files found by build-id
# under $PYHEAP_CACHE/debug/*/ (default /var/cache/pyheap, made by
# scripts/distro.sh) or /usr/lib/debug.  PH_VERSIONS="NAME ..." picks some.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
offsets_h=$here/pyheap/offsets.h
out=$here/pyheap/offsets_tables.c
pyenv_root=${PYENV_ROOT:-/root/.pyenv}
layouts=$here/scripts/layouts.txt
cache=${PYHEAP_CACHE:-/var/cache/pyheap}
versions=${PH_VERSIONS:-$(grep -v '^#' "$layouts" | awk 'NF { print $1 }')}
print_ver=
dwarf_ver=
binary_ver=

usage() {
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--print) [ $# -ge 2 ] || usage; print_ver=$2; shift 2 ;;
	--dwarf) [ $# -ge 2 ] || usage; dwarf_ver=$2; shift 2 ;;
	--binary) [ $# -ge 2 ] || usage; binary_ver=$2; shift 2 ;;
	-o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	-h|--help) usage ;;
	*) usage ;;
	esac
done

command -v gdb >/dev/null 2>&1 || { echo "gen-offsets.sh: gdb not found" >&2; exit 1; }

# dwarf_file NAME: the file holding the DWARF of layout NAME (layouts.txt).
dwarf_file() {
	local src arg mm f
	read -r src arg < <(awk -v n="$1" '$1 == n && !/^#/ { print $2, $3 }' "$layouts")
	case $src in
	pyenv)
		mm=$(echo "$arg" | cut -d. -f1-2)
		echo "$pyenv_root/versions/$arg/lib/libpython$mm.so.1.0" ;;
	build-id)
		for f in "$cache"/debug/*/.build-id/"${arg:0:2}/${arg:2}".debug \
			 /usr/lib/debug/.build-id/"${arg:0:2}/${arg:2}".debug; do
			[ -r "$f" ] && { echo "$f"; return 0; }
		done
		echo "$cache/debug/<suite>/.build-id/${arg:0:2}/${arg:2}.debug (missing: run scripts/distro.sh)" ;;
	*)
		echo "gen-offsets.sh: no layout $1 in $layouts" >&2
		return 1 ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The gdb side: parse the X-macro, evaluate every field, print "PHOFF name value".
# Errors are caught per expression, so one missing member does not end the batch.
cat >"$tmp/eval.py" <<'EOF'
import os, re
import gdb

gdb.execute("set pagination off")
src = open(os.environ["PH_OFFSETS_H"]).read()
fields = re.findall(r'^\s*X\(\s*(\w+)\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*\)', src, re.M)
if not fields:
	raise gdb.GdbError("no X(...) lines found in " + os.environ["PH_OFFSETS_H"])

def try_eval(expr):
	try:
		return int(gdb.parse_and_eval(expr))
	except gdb.error:
		return None

def resolve(tnames, member):
	# A name in offsets.h is either a struct tag ("_is") or a typedef
	# ("PyTupleObject"); the tag is tried first because a typedef of the same
	# spelling, when there is one, names the same struct.  '|' separates
	# alternative names (a struct renamed between versions): the first
	# that exists wins.
	for spelled in [p + t for t in tnames.split("|") for p in ("struct ", "")]:
		if try_eval("sizeof(%s)" % spelled) is None:
			continue
		if member == "":
			return try_eval("sizeof(%s)" % spelled)
		for alt in member.split("|"):
			v = try_eval("(long)&((%s *)0)->%s" % (spelled, alt))
			if v is not None:
				return v
		return -1
	return -1

for name, tname, member in fields:
	v = resolve(tname, member)
	gdb.write("PHOFF %s %d\n" % (name, -1 if v is None else v))
EOF

nfields=$(grep -cE '^[[:space:]]*X\([[:space:]]*[A-Za-z_0-9]+[[:space:]]*,' "$offsets_h" || true)
[ "$nfields" -gt 0 ] || { echo "gen-offsets.sh: no X(...) lines in $offsets_h" >&2; exit 1; }

# run_gdb VERSION: "name value" lines on stdout for that build.
run_gdb() {
	local lib
	lib=$(dwarf_file "$1") || return 1
	[ -r "$lib" ] || { echo "gen-offsets.sh: $lib not found" >&2; return 1; }
	# gdb's own status says little (it is 0 even when the script raised), so
	# judge by the output: exactly one value per X(...) line.
	PH_OFFSETS_H=$offsets_h gdb -batch -nx -q -ex "source $tmp/eval.py" "$lib" \
		>"$tmp/gdb.out" 2>"$tmp/gdb.err" || true
	sed -n 's/^PHOFF //p' "$tmp/gdb.out" >"$tmp/vals"
	if [ "$(wc -l <"$tmp/vals")" -ne "$nfields" ]; then
		echo "gen-offsets.sh: gdb gave $(wc -l <"$tmp/vals") of $nfields values for $lib:" >&2
		cat "$tmp/gdb.err" >&2
		return 1
	fi
	cat "$tmp/vals"
}

if [ -n "$binary_ver" ]; then
	read -r src arg bin < <(awk -v n="$binary_ver" '$1 == n && !/^#/ { print $2, $3, $4 }' "$layouts")
	case $src in
	pyenv) dwarf_file "$binary_ver" ;;
	build-id) echo "$cache/$bin" ;;
	*) echo "gen-offsets.sh: no layout $binary_ver in $layouts" >&2; exit 1 ;;
	esac
	exit 0
fi

if [ -n "$dwarf_ver" ]; then
	dwarf_file "$dwarf_ver"
	exit 0
fi

if [ -n "$print_ver" ]; then
	run_gdb "$print_ver"
	exit 0
fi

{
	cat <<EOF
/*
 * offsets_tables.c - GENERATED by scripts/gen-offsets.sh from pyheap/offsets.h;
 * do not edit, re-run the script instead.
 *
 * Built-in layouts of CPython builds (x86-64 Linux, release, GIL build),
 * evaluated with gdb ($(gdb --version | head -n1 | sed 's/^GNU gdb //')) from the DWARF of these builds:
EOF
	for v in $versions; do
		printf ' *   %-15s %s\n' "$v" "$(dwarf_file "$v" | sed "s|^$pyenv_root|\$PYENV_ROOT|; s|^$cache|\$PYHEAP_CACHE|")"
	done
	cat <<'EOF'
 * Internal structs (_is, _ts, _PyRuntimeState) can drift between patch
 * releases; these tables are the fallback when the target has no DWARF, and
 * on 3.13+ _Py_DebugOffsets from the core overrides what it describes.
 * -1 means the build has no such field.
 */
#include <stddef.h>
#include <stdint.h>

#include "offsets.h"

/* The catalogue: one row per PH_OFFSETS field, for loops over every field. */
const ph_offset_desc ph_offset_descs[] = {
#define PH_OFF_DESC(name, type, member) \
	{ #name, type, member, offsetof(ph_offsets, name) / sizeof(int64_t) },
	PH_OFFSETS(PH_OFF_DESC)
#undef PH_OFF_DESC
};

const size_t ph_offset_desc_count = sizeof ph_offset_descs / sizeof ph_offset_descs[0];

/* Every field is initialised explicitly: a field left out would read as 0,
 * which is a plausible offset, rather than -1. */
EOF
	for v in $versions; do
		echo
		echo "static const ph_offsets layout_$(echo "$v" | tr '.-' '__') = {"
		run_gdb "$v" >"$tmp/v.$v" || exit 1
		awk '{ if ($2 < 0) printf "\t.%s = -1,\n", $1;
				     else printf "\t.%s = 0x%x,\n", $1, $2 }' "$tmp/v.$v"
		echo "};"
	done
	echo
	echo "/* The layouts by the build they were read from (version.c names them). */"
	echo "const ph_offsets_layout ph_offsets_layouts[] = {"
	for v in $versions; do
		echo "	{\"$v\", &layout_$(echo "$v" | tr '.-' '__')},"
	done
	echo "};"
	echo
	echo "const size_t ph_offsets_layout_count ="
	echo "	sizeof ph_offsets_layouts / sizeof ph_offsets_layouts[0];"
} >"$tmp/out.c"

mv "$tmp/out.c" "$out"
echo "gen-offsets.sh: wrote $out" >&2
