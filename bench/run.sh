#!/usr/bin/env bash
# bench/run.sh — whole-process benchmarks of msb-logfs.
#
# Measures the `msb-logfs logs` command against `cat` and `jq` on the same
# logs, and the FUSE mount against a go-fuse loopback mount of the raw files
# (bench/loopback, passthrough off, so both pay a round trip per read).
# Prints a table and appends it to $BENCH_DIR/results.txt.
#
# Environment:
#   BENCH_DIR     work directory, keeps the corpus between runs
#                 (default /tmp/msb-logfs-bench)
#   BENCH_SIZE    exec.log bytes of the corpus (default 200MiB)
#   BENCH_REPEAT  runs per timed command; the fastest is reported (default 1)
#   BENCH_TIMEOUT seconds before a timed command is killed (default 600)
#   MSB_LOGFS     use this msb-logfs binary instead of building ./cmd/msb-logfs
#
# Caches are not dropped (that needs privileges and is unreliable): every
# figure is taken with the logs already in the page cache.

# SC2016: the single-quoted '$1 / $2' below are awk expressions (see calc).
# shellcheck disable=SC2016
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."

BENCH_DIR="${BENCH_DIR:-/tmp/msb-logfs-bench}"
BENCH_SIZE="${BENCH_SIZE:-200MiB}"
BENCH_REPEAT="${BENCH_REPEAT:-1}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-600}"
GNU_TIME="${GNU_TIME:-/usr/bin/time}" # for peak RSS; optional
BENCH_ROTATE=40MiB
BENCH_SEED=1
SANDBOX=big

HOME_DIR="$BENCH_DIR/home"
LOGS="$HOME_DIR/sandboxes/$SANDBOX/logs"
RESULTS="$BENCH_DIR/results.txt"

WORK=""          # temp dir: binaries, mountpoints, scratch files
BIN=""
MNT=""           # msb-logfs mountpoint
LBMNT=""         # loopback mountpoint
MOUNT_PID=""
LOOPBACK_PID=""

EXEC_CHAIN=()    # exec.log.4 … exec.log, the ones that exist, oldest first
EXEC_BYTES=0     # their total size
ALL_BYTES=0      # every file in logs/
JQ_SECONDS=""    # reference for the "vs jq" ratios

# Table rows, one entry per row in each array.
ROW_NAME=() ROW_SECS=() ROW_BYTES=() ROW_RATIO=() ROW_RSS=()
NOTES=()

log() { printf '== %s\n' "$*" >&2; }
warn() { printf '!! %s\n' "$*" >&2; NOTES+=("$*"); }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

now() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		echo "$EPOCHREALTIME"
	else
		date +%s.%N
	fi
}

# calc EXPR ARGS...: awk arithmetic; $1, $2… in EXPR are the ARGS.
calc() {
	local expr=$1
	shift
	echo "$*" | awk "{ print $expr }"
}

file_size() { stat -c %s -- "$1"; }

# ---------------------------------------------------------------- cleanup

is_mounted() {
	[ -n "$1" ] && awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts
}

# stop_process PID NAME: SIGINT, then SIGTERM, then SIGKILL, 10 s apart.
# Sets STOP_RC to the process's exit status.
STOP_RC=0
stop_process() {
	local pid=$1 name=$2 sig i
	for sig in INT TERM KILL; do
		kill -0 "$pid" 2>/dev/null || break
		kill "-$sig" "$pid" 2>/dev/null || true
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break 2
			sleep 0.1
		done
		[ "$sig" = KILL ] || warn "$name (pid $pid) still running 10 s after SIG$sig"
	done
	STOP_RC=0
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

unmount_dir() {
	local dir=$1
	is_mounted "$dir" || return 0
	umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null ||
		warn "could not unmount $dir"
}

stop_mount() {
	[ -n "$MOUNT_PID" ] || return 0
	stop_process "$MOUNT_PID" "msb-logfs mount"
	MOUNT_PID=""
	[ "$STOP_RC" = 0 ] || warn "msb-logfs mount exited with status $STOP_RC after SIGINT (expected 0)"
	if is_mounted "$MNT"; then
		warn "msb-logfs mount left $MNT mounted"
		unmount_dir "$MNT"
	fi
}

stop_loopback() {
	[ -n "$LOOPBACK_PID" ] || return 0
	stop_process "$LOOPBACK_PID" loopback
	LOOPBACK_PID=""
	[ "$STOP_RC" = 0 ] || warn "loopback exited with status $STOP_RC"
	unmount_dir "$LBMNT"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_mount 2>/dev/null || true
	stop_loopback 2>/dev/null || true
	unmount_dir "$MNT" 2>/dev/null || true
	unmount_dir "$LBMNT" 2>/dev/null || true
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		# --one-file-system: never descend into a mount that is still there.
		rm -rf --one-file-system -- "$WORK" 2>/dev/null || true
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- setup

setup() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/msb-logfs-bench.XXXXXX")
	BIN="$WORK/bin"
	MNT="$WORK/mnt"
	LBMNT="$WORK/loopback"
	mkdir -p "$BIN" "$MNT" "$LBMNT"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

build() {
	log "building into $BIN"
	if [ -n "${MSB_LOGFS:-}" ]; then
		[ -x "$MSB_LOGFS" ] || die "MSB_LOGFS=$MSB_LOGFS is not an executable"
		ln -s "$(readlink -f "$MSB_LOGFS")" "$BIN/msb-logfs"
	elif ! go build -o "$BIN/msb-logfs" ./cmd/msb-logfs; then
		echo "bench: ./cmd/msb-logfs does not build (yet); nothing to benchmark" >&2
		exit 1
	fi
	go build -o "$BIN/msb-loggen" ./cmd/msb-loggen || die "./cmd/msb-loggen does not build"
	go build -o "$BIN/loopback" ./bench/loopback || die "./bench/loopback does not build"
}

generate_corpus() {
	local marker="$HOME_DIR/.msb-loggen-done"
	local want="size=$BENCH_SIZE rotate=$BENCH_ROTATE seed=$BENCH_SEED name=$SANDBOX"
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && [ -d "$LOGS" ]; then
		log "corpus already in $HOME_DIR ($want)"
		return
	fi
	log "generating corpus in $HOME_DIR ($want)"
	rm -rf --one-file-system -- "$HOME_DIR"
	mkdir -p "$BENCH_DIR" "$HOME_DIR"
	"$BIN/msb-loggen" -home "$HOME_DIR" -name "$SANDBOX" -size "$BENCH_SIZE" \
		-rotate "$BENCH_ROTATE" -seed "$BENCH_SEED" >&2
	echo "$want" >"$marker"
}

inspect_corpus() {
	local f
	EXEC_CHAIN=()
	for f in exec.log.4 exec.log.3 exec.log.2 exec.log.1 exec.log; do
		[ -f "$LOGS/$f" ] && EXEC_CHAIN+=("$LOGS/$f")
	done
	[ "${#EXEC_CHAIN[@]}" -gt 0 ] || die "no exec.log in $LOGS"
	EXEC_BYTES=$(cat -- "${EXEC_CHAIN[@]}" | wc -c)
	ALL_BYTES=$(cat -- "$LOGS"/* | wc -c) # also warms every file
}

# ---------------------------------------------------------------- measuring

# measure OUT CMD...: runs CMD with stdout to /dev/null, BENCH_REPEAT times.
# Sets M_SECS (fastest wall time), M_RSS (largest peak RSS in KiB, or "") and
# returns CMD's status. CMD's stderr goes to OUT.err.
M_SECS="" M_RSS=""
measure() {
	local out=$1
	shift
	local i t0 t1 secs rss rc=0 tf="$WORK/time.out"
	M_SECS="" M_RSS=""
	for i in $(seq "$BENCH_REPEAT"); do
		t0=$(now)
		if [ -x "$GNU_TIME" ]; then
			"$GNU_TIME" -o "$tf" -f '%M' timeout -k 10 "$BENCH_TIMEOUT" "$@" \
				>/dev/null 2>"$out.err" </dev/null || rc=$?
			rss=$(tail -n1 "$tf")
		else
			timeout -k 10 "$BENCH_TIMEOUT" "$@" >/dev/null 2>"$out.err" </dev/null || rc=$?
			rss=""
		fi
		t1=$(now)
		[ "$rc" = 0 ] || break
		secs=$(calc '$2 - $1' "$t0" "$t1")
		if [ -z "$M_SECS" ] || [ "$(calc '($1 < $2)' "$secs" "$M_SECS")" = 1 ]; then
			M_SECS=$secs
		fi
		if [ -n "$rss" ] && { [ -z "$M_RSS" ] || [ "$rss" -gt "$M_RSS" ]; }; then
			M_RSS=$rss
		fi
	done
	if [ "$rc" != 0 ]; then
		[ "$rc" = 124 ] && warn "$* timed out after ${BENCH_TIMEOUT}s"
		warn "failed (status $rc): $*: $(head -c 300 "$out.err" | tr '\n' ' ')"
	fi
	return "$rc"
}

# row NAME SECONDS BYTES RATIO RSS_KIB: one line of the table ("" = n/a).
row() {
	ROW_NAME+=("$1") ROW_SECS+=("$2") ROW_BYTES+=("$3") ROW_RATIO+=("$4") ROW_RSS+=("$5")
}

# timed_row NAME BYTES CMD...: measure CMD and add its row; ratio vs jq.
timed_row() {
	local name=$1 bytes=$2
	shift 2
	log "$name"
	if measure "$WORK/cmd" "$@"; then
		local ratio=""
		[ -n "$JQ_SECONDS" ] && ratio="$(calc '$1 / $2' "$JQ_SECONDS" "$M_SECS")x jq"
		row "$name" "$M_SECS" "$bytes" "$ratio" "$M_RSS"
		return 0
	fi
	row "$name" FAILED "" "" ""
	return 1
}

# ---------------------------------------------------------------- CLI

bench_cli() {
	local jq_prog='fromjson? | select(.s == "stdout") | .d'
	# -R with fromjson?: the corpus holds malformed lines on purpose, and
	# plain `jq 'select(…)'` stops at the first one.
	timed_row "cat exec.log* (reference)" "$EXEC_BYTES" cat -- "${EXEC_CHAIN[@]}" || true
	if command -v jq >/dev/null; then
		if timed_row "jq stdout (reference)" "$EXEC_BYTES" jq -R -j "$jq_prog" "${EXEC_CHAIN[@]}"; then
			JQ_SECONDS=$M_SECS
			ROW_RATIO[${#ROW_RATIO[@]} - 1]="1x jq"
		fi
	else
		warn "jq not installed: no jq reference"
	fi
	timed_row "logs --source stdout" "$EXEC_BYTES" \
		"$BIN/msb-logfs" logs --home "$HOME_DIR" --source stdout "$SANDBOX" || true
	timed_row "logs --source all --timestamps" "$ALL_BYTES" \
		"$BIN/msb-logfs" logs --home "$HOME_DIR" --source all --timestamps "$SANDBOX" || true
}

# ---------------------------------------------------------------- mount

fuse_usable() {
	[ -c /dev/fuse ] || return 1
	(exec 9<>/dev/fuse) 2>/dev/null || return 1
	[ "$(id -u)" = 0 ] || command -v fusermount3 >/dev/null || command -v fusermount >/dev/null
}

# wait_for PATH PID SECONDS: until PATH exists. Fails if PID exits first (its
# status is then in STOP_RC) or after SECONDS.
wait_for() {
	local path=$1 pid=$2 i
	for i in $(seq $(($3 * 10))); do
		[ -e "$path" ] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			STOP_RC=0
			wait "$pid" 2>/dev/null || STOP_RC=$?
			return 1
		fi
		sleep 0.1
	done
	STOP_RC=""
	return 1
}

# why_not_ready NAME LOGFILE: warn why a mount helper did not become ready.
why_not_ready() {
	local msg
	msg=$(tail -n5 "$2" | tr '\n' ' ')
	if [ -n "$STOP_RC" ]; then
		warn "$1 exited with status $STOP_RC before it was ready: $msg"
	else
		warn "$1 not ready within 30 s: $msg"
	fi
}

start_mount() {
	log "mounting msb-logfs on $MNT"
	"$BIN/msb-logfs" mount --home "$HOME_DIR" "$MNT" </dev/null >"$WORK/mount.log" 2>&1 &
	MOUNT_PID=$!
	if ! wait_for "$MNT/$SANDBOX" "$MOUNT_PID" 30; then
		why_not_ready "msb-logfs mount" "$WORK/mount.log"
		[ -z "$STOP_RC" ] || MOUNT_PID=""
		stop_mount
		return 1
	fi
}

start_loopback() {
	log "mounting loopback of $LOGS on $LBMNT"
	"$BIN/loopback" -src "$LOGS" -mnt "$LBMNT" </dev/null >"$WORK/loopback.log" 2>&1 &
	LOOPBACK_PID=$!
	if ! wait_for "$LBMNT/exec.log" "$LOOPBACK_PID" 30; then
		why_not_ready loopback "$WORK/loopback.log"
		[ -z "$STOP_RC" ] || LOOPBACK_PID=""
		stop_loopback
		return 1
	fi
}

# cat_twice NAME FILE...: cat the files twice, report the second (warm) run.
# Sets CAT_BPS (bytes/s) or leaves it empty on failure.
CAT_BPS=""
cat_twice() {
	local name=$1 bytes
	shift
	CAT_BPS=""
	log "$name"
	if ! measure "$WORK/cat" cat -- "$@" || ! measure "$WORK/cat" cat -- "$@"; then
		row "$name" FAILED "" "" ""
		return 1
	fi
	bytes=$(cat -- "$@" | wc -c)
	CAT_BPS=$(calc '$1 / $2' "$bytes" "$M_SECS")
	row "$name" "$M_SECS" "$bytes" "" ""
}

bench_mount() {
	if ! fuse_usable; then
		warn "FUSE is not usable here (/dev/fuse, or fusermount3 as non-root): mount figures skipped"
		return 0
	fi
	start_mount || return 0
	local d="$MNT/$SANDBOX" t0 t1 i merged_bps="" stdout_bps="" lb_bps="" args=()

	log "stat merged (cold)"
	t0=$(now)
	if stat -- "$d/merged" >/dev/null; then
		t1=$(now)
		row "mount: first stat merged (cold)" "$(calc '$2 - $1' "$t0" "$t1")" "" "" ""
	else
		row "mount: first stat merged (cold)" FAILED "" "" ""
	fi

	log "stat merged x100 (warm)"
	for i in $(seq 100); do args+=("$d/merged"); done
	t0=$(now)
	if stat -- "${args[@]}" >/dev/null; then # one process, 100 stat calls
		t1=$(now)
		row "mount: stat merged (warm, mean of 100)" "$(calc '($2 - $1) / 100' "$t0" "$t1")" "" "" ""
	else
		row "mount: stat merged (warm, mean of 100)" FAILED "" "" ""
	fi

	cat_twice "mount: cat merged (warm)" "$d/merged" && merged_bps=$CAT_BPS
	local merged_row=$((${#ROW_NAME[@]} - 1))
	cat_twice "mount: cat stdout (warm)" "$d/stdout" && stdout_bps=$CAT_BPS
	local stdout_row=$((${#ROW_NAME[@]} - 1))

	if start_loopback; then
		local files=("$LBMNT"/*)
		cat_twice "loopback: cat all log files (warm)" "${files[@]}" && lb_bps=$CAT_BPS
		stop_loopback
	fi
	if [ -n "$lb_bps" ]; then
		ROW_RATIO[${#ROW_RATIO[@]} - 1]="1x loopback"
		[ -n "$merged_bps" ] &&
			ROW_RATIO[merged_row]="$(calc '$1 / $2' "$merged_bps" "$lb_bps")x loopback"
		[ -n "$stdout_bps" ] &&
			ROW_RATIO[stdout_row]="$(calc '$1 / $2' "$stdout_bps" "$lb_bps")x loopback"
	fi

	log "reading every view"
	local views=() v total=0
	for v in merged stdout stderr output system merged.jsonl; do
		views+=("$d/$v")
	done
	t0=$(now)
	if total=$(cat -- "${views[@]}" | wc -c); then
		t1=$(now)
		row "mount: cat all 6 snapshot views" "$(calc '$2 - $1' "$t0" "$t1")" "$total" "" ""
	else
		row "mount: cat all 6 snapshot views" FAILED "" "" ""
	fi
	local hwm
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MOUNT_PID/status" 2>/dev/null || true)
	[ -n "$hwm" ] || warn "could not read VmHWM of the mount process (pid $MOUNT_PID)"
	row "mount: process peak RSS (VmHWM)" "" "" "" "$hwm"

	stop_mount
}

# ---------------------------------------------------------------- report

fmt_secs() {
	case "$1" in
	"") echo "-" ;;
	FAILED) echo "FAILED" ;;
	*) awk -v s="$1" 'BEGIN {
		if (s < 0.001) printf "%.1f us", s * 1e6
		else if (s < 1) printf "%.1f ms", s * 1e3
		else printf "%.2f s", s }' ;;
	esac
}

fmt_bytes() {
	[ -n "$1" ] || { echo "-"; return; }
	awk -v b="$1" 'BEGIN {
		if (b >= 1048576) printf "%.1f MiB", b / 1048576
		else if (b >= 1024) printf "%.1f KiB", b / 1024
		else printf "%d B", b }'
}

fmt_rate() {
	case "$1" in
	"" | FAILED) echo "-" ;;
	*)
		if [ -z "$2" ] || [ "$(calc '($1 > 0)' "$1")" != 1 ]; then
			echo "-"
		else
			awk -v s="$1" -v b="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'
		fi
		;;
	esac
}

fmt_ratio() {
	[ -n "$1" ] || { echo "-"; return; }
	awk -v r="$1" 'BEGIN { n = r + 0; sub(/^[0-9.e+-]+/, "", r); printf "%.2f%s", n, r }'
}

fmt_rss() {
	[ -n "$1" ] || { echo "-"; return; }
	awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

report() {
	local table="$WORK/table.txt" i rev
	if rev=$(git rev-parse --short HEAD 2>/dev/null); then
		git diff --quiet HEAD 2>/dev/null || rev="$rev+dirty"
	else
		rev="no commit"
	fi
	{
		echo
		echo "msb-logfs benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "  rev $rev, $(go version | awk '{print $3}'), $(uname -sr), $(nproc) CPUs"
		echo "  corpus $LOGS: ${#EXEC_CHAIN[@]} exec.log files, $(fmt_bytes "$EXEC_BYTES"); all logs $(fmt_bytes "$ALL_BYTES")"
		echo "  page cache warm; best of $BENCH_REPEAT run(s); MB = 10^6 bytes"
		echo "  MB/s: CLI rows = input log bytes / time; mount rows = bytes read / time"
		echo "  ratio: CLI rows = jq time / this time; mount rows = this MB/s / loopback MB/s"
		echo
		printf '%-40s %10s %11s %9s %16s %11s\n' benchmark time bytes MB/s ratio "peak RSS"
		printf '%-40s %10s %11s %9s %16s %11s\n' "$(printf '%.0s-' $(seq 40))" \
			---------- ----------- --------- ---------------- -----------
		for i in "${!ROW_NAME[@]}"; do
			printf '%-40s %10s %11s %9s %16s %11s\n' "${ROW_NAME[i]}" \
				"$(fmt_secs "${ROW_SECS[i]}")" "$(fmt_bytes "${ROW_BYTES[i]}")" \
				"$(fmt_rate "${ROW_SECS[i]}" "${ROW_BYTES[i]}")" \
				"$(fmt_ratio "${ROW_RATIO[i]}")" "$(fmt_rss "${ROW_RSS[i]}")"
		done
		if [ "${#NOTES[@]}" -gt 0 ]; then
			echo
			echo "notes:"
			printf '  - %s\n' "${NOTES[@]}"
		fi
	} >"$table"
	cat "$table"
	cat "$table" >>"$RESULTS"
	echo
	echo "(appended to $RESULTS)"
}

main() {
	setup
	build
	generate_corpus
	inspect_corpus
	bench_cli
	bench_mount
	report
}

main "$@"
