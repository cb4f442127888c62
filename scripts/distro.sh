#!/usr/bin/env bash
# distro.sh - Debian's own CPython interpreters for the real-core tests:
# cached chroots of other Debian suites, and the detached debug files of
# every Debian interpreter the tests run (the chroots' and the host's).
#
#   scripts/distro.sh            make what is missing (idempotent; a warm run
#                                takes about a second and needs no network)
#   scripts/distro.sh --force    make everything again
#   scripts/distro.sh --list     print the interpreters (suite, path inside
#                                the chroot, version, build-id, debug dir)
#
# Needs root (debootstrap, chroot) and the host tools of
# scripts/install-deps.sh (debootstrap, dpkg-deb, readelf, apt-helper).
#
# Cache ($PYHEAP_CACHE, default /var/cache/pyheap; outside the work tree):
#   chroots/<suite>/          debootstrap --variant=minbase chroot + python3.X
#   debug/<suite>/.build-id/  the .build-id/xx/yyyy.debug files of the
#                             python3.X-dbg packages and of libc6-dbg (chroots),
#                             nothing else: a valid `pyheap --debug-dir` (and
#                             debuginfod -F) directory
#   debs/<suite>/             the downloaded python3.X-dbg (and libc6-dbg) .debs
#   stamps/<suite>.ok         written last; a rerun with the same mirror and
#                             wanted interpreters does nothing
#   stamps/<suite>.facts      versions, build-ids and debug files
#   logs/distro-*.log         every run's output, with per-step timings
#
# Suites and interpreters: trixie (Debian 13): python3.13; sid (unstable):
# python3.13 python3.14 python3.15 (whichever of them sid ships).  The
# host's own /usr/bin/python3.11 (Debian 12, bookworm) gets its debug files
# in debug/bookworm/ (python3.11-dbg is downloaded, never installed).
#
# The mirror is the one apt uses on this host; PYHEAP_MIRROR overrides it
# (a dead URL shows the unreachable-archive error).  When something has to
# be fetched and the archive does not answer, the script says so in a
# block of '#' on stderr and exits 2; nothing cached is touched.
#
# Exit status: 0 ready; 2 failed (the reason is the last thing printed).
set -euo pipefail

CACHE=${PYHEAP_CACHE:-/var/cache/pyheap}
SUITES="trixie sid"
declare -A WANT=(
	[trixie]="python3.13"
	[sid]="python3.13 python3.14 python3.15"
)

FORCE=0 LIST=0
case "${1:-}" in
--force) FORCE=1 ;;
--list) LIST=1 ;;
"") ;;
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: distro.sh [--force|--list]" >&2; exit 2 ;;
esac

die_loud() {
	{
		echo
		echo "############################################################"
		echo "#  distro.sh: ERROR"
		printf '#  %s\n' "$@"
		echo "############################################################"
	} >&2
	exit 2
}

# (awk reads to the end: an early exit could kill readelf by SIGPIPE, which
# pipefail and set -e then take for a failure of the whole script)
buildid() { readelf -n "$1" 2>/dev/null | awk '/Build ID:/ && id == "" { id = $3 } END { print id }'; }

if [ "$LIST" = 1 ]; then
	for f in "$CACHE"/stamps/*.facts; do
		[ -f "$f" ] || continue
		awk -F= '
			$1 == "suite" { suite = $2 }
			$1 ~ /\.binary$/ { p = $1; sub(/\.binary$/, "", p); bin[p] = $2; order[++n] = p }
			$1 ~ /\.deb_version$/ { p = $1; sub(/\.deb_version$/, "", p); ver[p] = $2 }
			$1 ~ /\.build_id$/ { p = $1; sub(/\.build_id$/, "", p); id[p] = $2 }
			END { for (i = 1; i <= n; i++) { p = order[i]
				printf "%-9s %-44s %-18s %s\n", suite, bin[p], ver[p], id[p] } }' "$f"
	done
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die_loud "needs root (debootstrap and chroot); run it as root"
missing=()
for t in debootstrap dpkg-deb readelf chroot flock; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -x /usr/lib/apt/apt-helper ] || missing+=(apt-helper)
[ ${#missing[@]} -eq 0 ] || die_loud "missing host tools: ${missing[*]}" \
	"run scripts/install-deps.sh (as root) first"

mkdir -p "$CACHE"/{chroots,debug,debs,stamps,logs}
# One run at a time (two test passes, or a person and a test).
exec 9>"$CACHE/distro.lock"
if ! flock -n 9; then
	echo "distro.sh: waiting for another run to finish ($CACHE/distro.lock)"
	flock 9
fi
LOG=$CACHE/logs/distro-$(date +%Y%m%dT%H%M%S)-$$.log
ls -t "$CACHE"/logs/distro-*.log 2>/dev/null | tail -n +20 | xargs -r rm -f || true
exec > >(tee -a "$LOG") 2>&1

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)
TIMES=()
# step NAME CMD...: run a step, print and remember its wall time.
step() {
	local name=$1 t
	shift
	t=$(now)
	echo "=== [$name]"
	"$@"
	TIMES+=("$(printf '%-44s %7ss' "$name" "$(elapsed "$t")")")
}

# --- the mirror apt uses on this host -------------------------------------
. /etc/os-release
HOST_CODENAME=${VERSION_CODENAME:-bookworm}
MIRROR=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
	awk -v c="$HOST_CODENAME" '$2 == c { print $1; exit }')
MIRROR=${PYHEAP_MIRROR:-$MIRROR}
MIRROR=${MIRROR%/}
[ -n "$MIRROR" ] || die_loud "cannot find the mirror apt uses for '$HOST_CODENAME' in /etc/apt/sources.list*"
echo "distro.sh: cache $CACHE, mirror $MIRROR"

# Fails loudly when the archive does not answer.  Called only when something
# has to be fetched, so a warm run works offline.
check_archive() {
	local suite=$1 tmp why
	tmp=$(mktemp)
	if ! /usr/lib/apt/apt-helper -o Acquire::http::Timeout=20 -o Acquire::Retries=1 \
		download-file "$MIRROR/dists/$suite/InRelease" "$tmp" >/dev/null 2>"$tmp.err"; then
		mapfile -t why < <(tail -n 3 "$tmp.err")
		rm -f "$tmp" "$tmp.err"
		die_loud "THE DEBIAN ARCHIVE CANNOT BE REACHED" \
			"fetching $MIRROR/dists/$suite/InRelease failed:" "${why[@]}" \
			"the chroots of the distribution interpreters cannot be made;" \
			"nothing was changed; rerun once the mirror answers."
	fi
	rm -f "$tmp" "$tmp.err"
}

# extract_debug DEB DEST: only ./usr/lib/debug/.build-id/** of DEB, as DEST/.build-id/**.
extract_debug() {
	local deb=$1 dest=$2
	mkdir -p "$dest"
	# (not `dpkg-deb -c | grep -q`: under pipefail grep's early exit fails the pipe)
	if [ "$(dpkg-deb -c "$deb" | grep -c '\./usr/lib/debug/\.build-id/.*\.debug$')" -gt 0 ]; then
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$dest" --strip-components=4 --wildcards './usr/lib/debug/.build-id/*'
	else
		echo "note: $(basename "$deb") holds no .build-id debug files"
	fi
}

# --- chroots ----------------------------------------------------------------
MOUNTED=()
cleanup() {
	local m
	for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
	MOUNTED=()
}
trap cleanup EXIT
mount_proc() {
	if ! mountpoint -q "$1/proc"; then
		mount -t proc proc "$1/proc" && MOUNTED+=("$1/proc")
	fi
}

in_chroot() {
	local dir=$1
	shift
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 chroot "$dir" "$@"
}

do_debootstrap() {
	local suite=$1 dir=$2
	if [ -e "$dir/.pyheap-debootstrap-ok" ] && [ "$FORCE" = 0 ]; then
		echo "debootstrap already done"
		return 0
	fi
	# a half-made chroot from an interrupted run is thrown away
	if [ -e "$dir" ]; then
		umount -l "$dir/proc" 2>/dev/null || true
		rm -rf --one-file-system "$dir"
	fi
	debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" >"$CACHE/logs/debootstrap-$suite.log" 2>&1 || {
		tail -n 20 "$CACHE/logs/debootstrap-$suite.log"
		die_loud "debootstrap $suite failed; see $CACHE/logs/debootstrap-$suite.log"
	}
	touch "$dir/.pyheap-debootstrap-ok"
}

configure_apt() {
	local dir=$1
	# The archive's Release files carry a Valid-Until that may have passed.
	echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99pyheap-no-valid-until"
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
		>"$dir/etc/apt/apt.conf.d/99pyheap-no-recommends"
	in_chroot "$dir" apt-get update -qq || die_loud "apt-get update failed in $dir"
}

# which of the wanted packages the suite really ships
available() {
	local dir=$1 p cand out=()
	shift
	for p in "$@"; do
		cand=$(in_chroot "$dir" apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
		if [ -n "$cand" ] && [ "$cand" != "(none)" ]; then out+=("$p"); fi
	done
	echo "${out[*]}"
}

install_pythons() {
	local dir=$1
	shift
	mount_proc "$dir"
	# (apt's "Can not write log (Is /dev/pts mounted?)" is harmless)
	in_chroot "$dir" apt-get install -y -qq "$@" >/dev/null 2> >(grep -v 'Can not write log' >&2) ||
		die_loud "apt-get install $* failed in $dir"
	cleanup
}

# fetch_dbg SUITE DIR PKG...: python3.X-dbg of exactly the installed version.
fetch_dbg() {
	local suite=$1 dir=$2 p ver
	shift 2
	local debs=$CACHE/debs/$suite
	rm -rf "$debs" "$dir/tmp/pyheap-debs"
	mkdir -p "$debs" "$dir/tmp/pyheap-debs"
	chmod 777 "$dir/tmp/pyheap-debs"
	for p in "$@"; do
		ver=$(in_chroot "$dir" dpkg-query -W -f '${Version}' "$p")
		in_chroot "$dir" sh -c "cd /tmp/pyheap-debs && apt-get download -qq $p-dbg=$ver" ||
			die_loud "apt-get download $p-dbg=$ver failed in the $suite chroot"
	done
	mv "$dir"/tmp/pyheap-debs/*.deb "$debs"/
	rmdir "$dir/tmp/pyheap-debs"
}

extract_suite_debug() {
	local suite=$1 p deb
	shift
	rm -rf "$CACHE/debug/$suite"
	mkdir -p "$CACHE/debug/$suite"
	for p in "$@"; do
		for deb in "$CACHE/debs/$suite/${p}-dbg_"*.deb; do
			extract_debug "$deb" "$CACHE/debug/$suite"
		done
	done
}

# write_facts SUITE DIR PKG...: versions, build-ids, where the .debug file is;
# fails when an interpreter's debug file is not among the extracted ones.
write_facts() {
	local suite=$1 dir=$2 p bin id f
	shift 2
	{
		echo "suite=$suite"
		echo "mirror=$MIRROR"
		echo "pythons=$*"
		for p in "$@"; do
			bin=$dir/usr/bin/$p
			id=$(buildid "$bin")
			f=$CACHE/debug/$suite/.build-id/${id:0:2}/${id:2}.debug
			echo "$p.deb_version=$(in_chroot "$dir" dpkg-query -W -f '${Version}' "$p")"
			echo "$p.binary=$bin"
			echo "$p.build_id=$id"
			if [ -f "$f" ]; then echo "$p.debug_file=$f"; else echo "$p.debug_file=MISSING"; fi
		done
	} >"$CACHE/stamps/$suite.facts"
	for p in "$@"; do
		grep -q "^$p.debug_file=MISSING" "$CACHE/stamps/$suite.facts" &&
			die_loud "$suite: the debug file of $p (build-id $(buildid "$dir/usr/bin/$p")) is not in its -dbg package"
	done
	return 0
}

# libc_dbg SUITE DIR: libc6-dbg of the chroot's libc, its debug file put
# beside the interpreters' (the malloc checks find glibc's arenas through
# its symbols, as on a host with libc6-dbg).  Kept in debs/ and done again
# only when the debug file is missing, so a chroot made before this step
# gets it too.
libc_dbg() {
	local suite=$1 dir=$2 ver deb id
	id=$(buildid "$dir/usr/lib/x86_64-linux-gnu/libc.so.6")
	[ -n "$id" ] && [ -f "$CACHE/debug/$suite/.build-id/${id:0:2}/${id:2}.debug" ] && return 0
	ver=$(in_chroot "$dir" dpkg-query -W -f '${Version}' libc6)
	deb=$CACHE/debs/$suite/libc6-dbg_${ver#*:}_amd64.deb
	if [ ! -s "$deb" ]; then
		mkdir -p "$CACHE/debs/$suite" "$dir/tmp/pyheap-debs"
		chmod 777 "$dir/tmp/pyheap-debs"
		in_chroot "$dir" sh -c "cd /tmp/pyheap-debs && apt-get download -qq libc6-dbg=$ver" ||
			die_loud "apt-get download libc6-dbg=$ver failed in the $suite chroot"
		mv "$dir"/tmp/pyheap-debs/libc6-dbg_*.deb "$deb"
		rmdir "$dir/tmp/pyheap-debs"
	fi
	extract_debug "$deb" "$CACHE/debug/$suite"
	[ -f "$CACHE/debug/$suite/.build-id/${id:0:2}/${id:2}.debug" ] ||
		die_loud "$suite: libc6-dbg=$ver holds no debug file for libc.so.6 (build-id $id)"
}

do_suite() {
	local suite=$1
	local dir=$CACHE/chroots/$suite stamp=$CACHE/stamps/$suite.ok
	if [ "$FORCE" = 0 ] && [ -f "$stamp" ] && grep -qx "mirror=$MIRROR" "$stamp" &&
		grep -qx "wanted=${WANT[$suite]}" "$stamp"; then
		libc_dbg "$suite" "$dir"
		echo "$suite: up to date ($(grep '^pythons=' "$stamp"))"
		return 0
	fi
	check_archive "$suite"
	rm -f "$stamp"
	step "$suite: debootstrap" do_debootstrap "$suite" "$dir"
	step "$suite: apt config + update" configure_apt "$dir"
	local have
	have=$(available "$dir" ${WANT[$suite]})
	echo "$suite ships: ${have:-nothing of ${WANT[$suite]}}"
	[ -n "$have" ] || die_loud "$suite ships none of: ${WANT[$suite]}"
	step "$suite: apt-get install $have" install_pythons "$dir" $have
	step "$suite: download -dbg debs" fetch_dbg "$suite" "$dir" $have
	step "$suite: extract debug files" extract_suite_debug "$suite" $have
	step "$suite: libc6-dbg" libc_dbg "$suite" "$dir"
	write_facts "$suite" "$dir" $have
	{
		echo "mirror=$MIRROR"
		echo "wanted=${WANT[$suite]}"
		echo "pythons=$have"
		echo "built=$(date -u +%FT%TZ)"
	} >"$stamp"
}

# --- the host's own python3.11 ----------------------------------------------
host_dbg() {
	local p=python3.11 ver debs=$CACHE/debs/$HOST_CODENAME dest=$CACHE/debug/$HOST_CODENAME
	ver=$(dpkg-query -W -f '${Version}' "$p")
	mkdir -p "$debs"
	local deb=$debs/${p}-dbg_${ver#*:}_amd64.deb
	if [ ! -s "$deb" ]; then
		local tmp
		tmp=$(mktemp -d)
		chmod 755 "$tmp"
		# 1) through apt, when the installed version is still in the indices
		if (cd "$tmp" && apt-get download -qq "$p-dbg=$ver" 2>/dev/null); then
			mv "$tmp"/*.deb "$deb"
		else
			# 2) the pool: the installed version may be superseded in the
			#    indices (by a point or security update) but still in the pool
			local url ok=0 base pd pooldirs
			pooldirs=$(apt-cache show "$p-dbg" | awk '/^Filename:/ { print $2 }' |
				xargs -n1 dirname | sed 'p; s|^pool/updates/|pool/|' | sort -u)
			for base in $(apt-get indextargets --no-release-info --format '$(REPO_URI)' | sort -u); do
				for pd in $pooldirs; do
					url=${base%/}/$pd/${p}-dbg_$(echo "${ver#*:}" | sed 's/+/%2B/g')_amd64.deb
					echo "apt has no $p-dbg=$ver; trying $url"
					if /usr/lib/apt/apt-helper -o Acquire::http::Timeout=20 download-file "$url" "$deb.part" >/dev/null 2>&1 &&
						[ "$(dpkg-deb -f "$deb.part" Version)" = "$ver" ]; then
						mv "$deb.part" "$deb"
						ok=1
						break 2
					fi
					rm -f "$deb.part"
				done
			done
			[ "$ok" = 1 ] || die_loud "cannot fetch $p-dbg=$ver (the host's $p) from any configured mirror"
		fi
		rm -rf "$tmp"
	fi
	rm -rf "$dest"
	extract_debug "$deb" "$dest"
	local id f
	id=$(buildid /usr/bin/$p)
	f=$dest/.build-id/${id:0:2}/${id:2}.debug
	[ -f "$f" ] || die_loud "the host's /usr/bin/$p (build-id $id) has no debug file in $deb"
	{
		echo "suite=$HOST_CODENAME"
		echo "pythons=$p"
		echo "$p.deb_version=$ver"
		echo "$p.binary=/usr/bin/$p"
		echo "$p.build_id=$id"
		echo "$p.debug_file=$f"
	} >"$CACHE/stamps/$HOST_CODENAME.facts"
}

do_host() {
	local stamp=$CACHE/stamps/$HOST_CODENAME.ok ver
	if ! ver=$(dpkg-query -W -f '${Version}' python3.11 2>/dev/null) || [ ! -x /usr/bin/python3.11 ]; then
		echo "note: no python3.11 on the host: no $HOST_CODENAME debug files"
		return 0
	fi
	if [ "$FORCE" = 0 ] && [ -f "$stamp" ] && grep -qx "python3.11=$ver" "$stamp"; then
		echo "$HOST_CODENAME (host python3.11 $ver): up to date"
		return 0
	fi
	check_archive "$HOST_CODENAME"
	step "$HOST_CODENAME: host python3.11-dbg" host_dbg
	printf 'python3.11=%s\nbuilt=%s\n' "$ver" "$(date -u +%FT%TZ)" >"$stamp"
}

for s in $SUITES; do do_suite "$s"; done
do_host

echo "=== distro.sh: ready in $(elapsed "$T0")s (log $LOG)"
[ ${#TIMES[@]} -eq 0 ] || printf '  %s\n' "${TIMES[@]}"
"$0" --list | sed 's/^/  /'
