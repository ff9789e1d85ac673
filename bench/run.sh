#!/usr/bin/env bash
# bench/run.sh — whole-process benchmarks of msb-logfs.
#
# Measures the `msb-logfs logs` command against `cat` and `jq` on the same
# logs, and the FUSE mount against a go-fuse loopback mount of the raw files
# (bench/loopback, passthrough off, so both pay a round trip per read).
# Then, through fresh mounts of their own small sandboxes, the append →
# visible latency of a .follow reader under a steady write rate with
# rotation (bench/latency), what many idle `cat X.follow` readers cost
# the mount process (bench/idle), and what many sandboxes cost it
# (bench/many: grep -r over 2,000 sandboxes, the cache budget, ls -l of
# 10,000), and what sessions cost (bench/sessions: ls sessions/ of a
# BENCH_SIZE sandbox of BENCH_SESSIONS sessions, cat of a small session).
# Prints a table and appends it to $BENCH_DIR/results.txt.
#
# Environment:
#   BENCH_DIR     work directory, keeps the corpus between runs
#                 (default /tmp/msb-logfs-bench)
#   BENCH_SIZE    exec.log bytes of the corpus (default 200MiB)
#   BENCH_REPEAT  runs per timed command; the fastest is reported (default 1)
#   BENCH_TIMEOUT seconds before a timed command is killed (default 600)
#   MSB_LOGFS     use this msb-logfs binary instead of building ./cmd/msb-logfs
#   BENCH_LATENCY_RATE      lines/s appended by bench/latency (default 20000)
#   BENCH_LATENCY_DURATION  how long it appends (default 10s)
#   BENCH_IDLE_READERS      idle readers of bench/idle (default 1000)
#   BENCH_IDLE_MEASURE      its idle window (default 10s)
#   BENCH_MANY_SANDBOXES    sandboxes grep -r walks in bench/many (default 2000)
#   BENCH_MANY_TREE         sandboxes of its ls -l figures (default 10000)
#   BENCH_ENGINE_MB         corpus of the engine's go test benchmarks (default 200)
#   BENCH_SESSIONS          sessions of bench/sessions's sandbox (default 1000)
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
BENCH_LATENCY_RATE="${BENCH_LATENCY_RATE:-20000}"
BENCH_LATENCY_DURATION="${BENCH_LATENCY_DURATION:-10s}"
BENCH_IDLE_READERS="${BENCH_IDLE_READERS:-1000}"
BENCH_IDLE_MEASURE="${BENCH_IDLE_MEASURE:-10s}"
BENCH_MANY_SANDBOXES="${BENCH_MANY_SANDBOXES:-2000}"
BENCH_MANY_TREE="${BENCH_MANY_TREE:-10000}"
BENCH_ENGINE_MB="${BENCH_ENGINE_MB:-200}"
BENCH_SESSIONS="${BENCH_SESSIONS:-1000}"
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
CAT_SECONDS=""   # reference for the "vs a plain scan" ratio

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

# unmount_under DIR: unmount whatever is still mounted below DIR (what a
# killed bench/latency or bench/idle would leave behind), deepest first.
unmount_under() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	while read -r m; do
		printf -v m '%b' "$m" # /proc/self/mounts escapes a space as \040
		warn "left mounted: $m"
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "could not unmount $m"
	done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
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
	unmount_under "$WORK" 2>/dev/null || true
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
	go build -o "$BIN/latency" ./bench/latency || die "./bench/latency does not build"
	go build -o "$BIN/idle" ./bench/idle || die "./bench/idle does not build"
	go build -o "$BIN/many" ./bench/many || die "./bench/many does not build"
	go build -o "$BIN/sessions" ./bench/sessions || die "./bench/sessions does not build"
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
	timed_row "cat exec.log* (reference)" "$EXEC_BYTES" cat -- "${EXEC_CHAIN[@]}" && CAT_SECONDS=$M_SECS
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

# start_mount CACHE_DIR: mount with that --cache-dir (render cache and saved
# indexes; a new directory is a cold start, one used before a remount).
start_mount() {
	log "mounting msb-logfs on $MNT (cache dir $1)"
	mkdir -p "$1"
	"$BIN/msb-logfs" mount --home "$HOME_DIR" --cache-dir "$1" "$MNT" </dev/null >"$WORK/mount.log" 2>&1 &
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
	start_mount "$WORK/cache-main" || return 0
	local d="$MNT/$SANDBOX" t0 t1 i merged_bps="" stdout_bps="" lb_bps="" args=()

	time_stat "mount: first stat merged (cold)" "$d/merged"

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

# time_stat NAME FILE: one stat through the mount, as a row.
time_stat() {
	local t0 t1
	log "$1"
	t0=$(now)
	if stat -- "$2" >/dev/null; then
		t1=$(now)
		row "$1" "$(calc '$2 - $1' "$t0" "$t1")" "" "" ""
	else
		row "$1" FAILED "" "" ""
	fi
}

# bench_cold: the first read through a fresh mount with a fresh cache dir
# (lookup, index, render: issue 9) against jq and a plain scan of the
# files; through another, a cold stat of merged and the first cat of
# merged after it (a stat does not render merged, so the cat parses
# again); then the first stat after a remount over the cache dir of
# bench_mount (its saved index).
bench_cold() {
	fuse_usable || return 0
	start_mount "$WORK/cache-cold" || return 0
	local d="$MNT/$SANDBOX"
	if timed_row "mount: first cat stdout (cold)" "$EXEC_BYTES" cat -- "$d/stdout" && [ -n "$CAT_SECONDS" ]; then
		NOTES+=("first cat stdout through a fresh mount: $(calc '$1 / $2' "$M_SECS" "$CAT_SECONDS")x the time of cat exec.log* (a plain scan)")
	fi
	stop_mount
	start_mount "$WORK/cache-cold-merged" || return 0
	time_stat "mount: first stat merged (cold, again)" "$d/merged"
	timed_row "mount: then first cat merged" "$EXEC_BYTES" cat -- "$d/merged" || true
	stop_mount
	start_mount "$WORK/cache-main" || return 0
	time_stat "mount: first stat merged after remount" "$d/merged"
	stop_mount
	# The reference for the stat rows: stat(1) of a file on disk, i.e.
	# what starting the stat process costs on this machine at this load.
	time_stat "stat exec.log on disk (reference for the stat rows)" "$LOGS/exec.log"
}

# ---------------------------------------------------------------- engine

# bench_engine: the engine's own MB/s (go test -bench over a corpus of
# BENCH_ENGINE_MB, msbwriter's generator), each with parse-ahead and
# then without it (its …Serial twin: what GOMAXPROCS=1 runs), in one test
# binary run: the ratio is the parse-ahead's gain.
bench_engine() {
	local out="$WORK/engine.out" name ns mbs base
	log "engine benchmarks (${BENCH_ENGINE_MB} MiB corpus)"
	if ! go test -c -o "$BIN/engine.test" ./engine; then
		warn "engine benchmarks do not build"
		return 0
	fi
	if ! (cd engine && MSB_BENCH_MB="$BENCH_ENGINE_MB" timeout -k 10 "$BENCH_TIMEOUT" "$BIN/engine.test" \
		-test.run='^$' -test.benchtime=3x \
		-test.bench='^Benchmark(ReadStdout|ReadMerged|IndexBuild)(Serial)?$|^BenchmarkStatCold$') >"$out" 2>&1; then
		warn "engine benchmarks failed: $(tail -n 3 "$out" | tr '\n' ' ')"
		return 0
	fi
	for name in ReadStdout ReadMerged IndexBuild StatCold; do
		read -r ns mbs < <(awk -v b="Benchmark$name-" 'index($1, b) == 1 { print $3, $5 }' "$out")
		[ -n "$ns" ] || continue
		base=$(awk -v b="Benchmark${name}Serial-" 'index($1, b) == 1 { print $3 }' "$out")
		row "engine: $name" "$(calc '$1 / 1e9' "$ns")" "$(calc '$1 * $2 / 1e3' "$mbs" "$ns")" \
			"$([ -n "$base" ] && echo "$(calc '$1 / $2' "$base" "$ns")x serial")" ""
	done
}

# ---------------------------------------------------------------- follow

# kv FILE KEY: the value of KEY in a key=value file written by -kv ("" if none).
kv() { awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1" 2>/dev/null; }

# run_tool NAME KVFILE CMD...: runs a bench tool with -kv KVFILE and its
# temporary files in $WORK/tmp-NAME (so that nothing it might leave mounted
# escapes cleanup), shows its report and records a failure. Returns CMD's
# status. timeout --foreground keeps the tool in the terminal's process
# group, so that Ctrl-C reaches it and it cleans up at once (it ends its own
# mount and readers on SIGINT and SIGTERM, and they die with it if killed).
run_tool() {
	local name=$1 kvf=$2 rc=0
	shift 2
	rm -f -- "$kvf"
	mkdir -p "$WORK/tmp-$name"
	TMPDIR="$WORK/tmp-$name" timeout --foreground -k 10 "$BENCH_TIMEOUT" "$@" -kv "$kvf" \
		</dev/null >"$WORK/$name.out" 2>&1 || rc=$?
	sed 's/^/   /' "$WORK/$name.out" >&2
	unmount_under "$WORK/tmp-$name"
	# Interrupted (Ctrl-C): the tool cleaned up and died of the signal.
	# bash ignores a SIGINT its foreground command survived as a process
	# (timeout exits with 128+n), so stop here ourselves.
	case "$rc" in 130 | 143) exit "$rc" ;; esac
	if [ "$rc" != 0 ]; then
		[ "$rc" = 124 ] && warn "$name timed out after ${BENCH_TIMEOUT}s"
		warn "$name failed (status $rc): $(grep -E 'FAILED|ERROR|missing|^latency:|^idle:' "$WORK/$name.out" | tail -n 4 | tr -s ' \n' ' ')"
	fi
	return "$rc"
}

# bench_latency: append → visible latency of merged.follow through a mount
# of its own, at BENCH_LATENCY_RATE lines/s with exec.log rotating every
# 256 KiB; every line must arrive once and in order.
bench_latency() {
	if ! fuse_usable; then
		warn "FUSE is not usable here: follow latency skipped"
		return 0
	fi
	local kvf="$WORK/latency.kv" rate="$BENCH_LATENCY_RATE" v
	log "follow latency: $rate lines/s for $BENCH_LATENCY_DURATION, rotating at 256KiB"
	run_tool latency "$kvf" "$BIN/latency" -bin "$BIN/msb-logfs" \
		-rate "$rate" -duration "$BENCH_LATENCY_DURATION" -rotate 256KiB -file merged.follow || true
	if [ -z "$(kv "$kvf" p50_s)" ]; then
		row "follow latency ($rate lines/s)" FAILED "" "" ""
		return 0
	fi
	row "follow latency p50 ($rate lines/s)" "$(kv "$kvf" p50_s)" "" "" ""
	row "follow latency p90" "$(kv "$kvf" p90_s)" "" "" ""
	row "follow latency p99" "$(kv "$kvf" p99_s)" "" "" ""
	row "follow latency max" "$(kv "$kvf" max_s)" "" "" ""
	NOTES+=("follow latency: $(kv "$kvf" written) lines written ($(kv "$kvf" achieved_rate) lines/s achieved, $(kv "$kvf" rotations) rotations), $(kv "$kvf" seen) seen, mount CPU $(kv "$kvf" mount_cpu_pct)% of a core; missing $(kv "$kvf" missing), duplicated $(kv "$kvf" duplicated), out of order $(kv "$kvf" out_of_order)")
	for v in missing duplicated out_of_order; do
		[ "$(kv "$kvf" "$v")" = 0 ] || warn "follow latency: $v lines: $(kv "$kvf" "$v") (must be 0)"
	done
}

# bench_idle: BENCH_IDLE_READERS idle `cat X.follow` processes on a mount of
# their own: the mount's CPU over an idle window, its inotify instances,
# threads and memory, then how fast one append wakes them and SIGTERM ends
# them.
bench_idle() {
	if ! fuse_usable; then
		warn "FUSE is not usable here: idle readers skipped"
		return 0
	fi
	local kvf="$WORK/idle.kv" n="$BENCH_IDLE_READERS" v
	log "idle readers: $n cat X.follow, idle window $BENCH_IDLE_MEASURE"
	run_tool idle "$kvf" "$BIN/idle" -bin "$BIN/msb-logfs" \
		-readers "$n" -measure "$BENCH_IDLE_MEASURE" || true
	if [ -z "$(kv "$kvf" idle_cpu_s)" ]; then
		row "idle: $n follow readers" FAILED "" "" ""
		return 0
	fi
	row "idle: mount CPU, $n readers, $(kv "$kvf" window_s | awk '{ printf "%.0f", $1 }')s" \
		"$(kv "$kvf" idle_cpu_s)" "" "$(kv "$kvf" idle_cpu_pct)% core" ""
	row "idle: mount RSS with $n readers" "" "" "" "$(kv "$kvf" rss_kib)"
	v=$(kv "$kvf" extra_wake_s)
	case "$v" in -*) v=FAILED ;; esac
	row "idle: wake-up of one more reader" "$v" "" "" ""
	row "idle: wake-up of the last of $n cats" "$(kv "$kvf" last_woken_s)" "" "" ""
	row "idle: SIGTERM to the last cat's exit" "$(kv "$kvf" last_exit_s)" "" "" ""
	NOTES+=("idle readers: $(kv "$kvf" readers) blocked cats; mount process: $(kv "$kvf" inotify) inotify instance(s) with $(kv "$kvf" watches) watches, $(kv "$kvf" threads) threads, $(kv "$kvf" context_switches) context switches in the idle window, VmHWM $(fmt_rss "$(kv "$kvf" hwm_kib)"); $(kv "$kvf" woken) cats woken by one append; $(kv "$kvf" exited) exited after SIGTERM, $(kv "$kvf" exited_nonzero) of them non-zero")
	[ "$(kv "$kvf" inotify)" = 1 ] || warn "idle readers: $(kv "$kvf" inotify) inotify instances in the mount process (must be 1)"
	[ "$(kv "$kvf" exited_nonzero)" = 0 ] ||
		warn "idle readers: $(kv "$kvf" exited_nonzero) cats exited non-zero after SIGTERM: $(grep -m1 -A1 'cat errors' "$WORK/idle.out" | tail -n1 | tr -s ' ')"
}

# bench_many: many sandboxes on mounts of their own: grep -r over
# BENCH_MANY_SANDBOXES under RLIMIT_NOFILE=1024 against grep -r over their
# logs directories, the mount's fds and RSS 15 s after; the render cache
# with --cache-size 16MiB over every view of a 64 MiB sandbox; mount ready,
# ls and ls -l of BENCH_MANY_TREE sandboxes.
bench_many() {
	if ! fuse_usable; then
		warn "FUSE is not usable here: many sandboxes skipped"
		return 0
	fi
	local kvf="$WORK/many.kv" n="$BENCH_MANY_SANDBOXES" tree="$BENCH_MANY_TREE"
	log "many sandboxes: grep -r over $n, cache budget, ls -l of $tree"
	run_tool many "$kvf" "$BIN/many" -bin "$BIN/msb-logfs" -sandboxes "$n" -tree "$tree" || true
	if [ -z "$(kv "$kvf" grep_mount_s)" ]; then
		row "many: grep -r over $n sandboxes" FAILED "" "" ""
		return 0
	fi
	row "grep -r logs dirs of $n (reference)" "$(kv "$kvf" grep_ref_s)" "" "1x grep" ""
	row "many: grep -r over $n sandboxes" "$(kv "$kvf" grep_mount_s)" "" "$(kv "$kvf" grep_ratio)x slower" "$(kv "$kvf" grep_hwm_kib)"
	row "many: mount RSS 15 s after the grep" "" "" "" "$(kv "$kvf" grep_rss_kib_idle)"
	row "many: cache on disk, --cache-size 16MiB" "" "$(kv "$kvf" cache_most_bytes)" "" ""
	row "many: $tree sandboxes, mount ready" "$(kv "$kvf" tree_ready_s)" "" "" ""
	row "many: ls of $tree sandboxes" "$(kv "$kvf" tree_ls_s)" "" "" ""
	row "many: ls -l of $tree sandboxes" "$(kv "$kvf" tree_lsl_s)" "" "" ""
	NOTES+=("many sandboxes: mount fds right after grep -r $(kv "$kvf" grep_fds_after), 15 s later $(kv "$kvf" grep_fds_idle) (RLIMIT_NOFILE 1024); every view of the 64 MiB sandbox is $(fmt_bytes "$(kv "$kvf" cache_views_bytes)")")
}

# bench_sessions: a sandbox of BENCH_SIZE with BENCH_SESSIONS sessions
# (msb-loggen -sessions, kept in $BENCH_DIR/sessions-home between runs),
# through a mount of its own: ls sessions/ warm (goal: under 50 ms), and
# cat of a small session's stdout against cat of the sandbox's.
bench_sessions() {
	if ! fuse_usable; then
		warn "FUSE is not usable here: sessions skipped"
		return 0
	fi
	local home="$BENCH_DIR/sessions-home" kvf="$WORK/sessions.kv" n="$BENCH_SESSIONS"
	local want="size=$BENCH_SIZE rotate=$BENCH_ROTATE seed=$BENCH_SEED sessions=$n interleave=8"
	if [ ! -f "$home/.msb-loggen-done" ] || [ "$(cat "$home/.msb-loggen-done")" != "$want" ]; then
		log "generating the sessions corpus in $home ($want)"
		rm -rf --one-file-system -- "$home"
		mkdir -p "$home"
		if ! "$BIN/msb-loggen" -home "$home" -name "$SANDBOX" -size "$BENCH_SIZE" \
			-rotate "$BENCH_ROTATE" -seed "$BENCH_SEED" -sessions "$n" -interleave 8 >&2; then
			warn "msb-loggen -sessions $n failed: no sessions figures"
			row "sessions: ls sessions/ ($n)" FAILED "" "" ""
			return 0
		fi
		echo "$want" >"$home/.msb-loggen-done"
	fi
	log "sessions: ls sessions/ of $n sessions, cat of a small session"
	run_tool sessions "$kvf" "$BIN/sessions" -bin "$BIN/msb-logfs" -home "$home" -name "$SANDBOX" || true
	if [ -z "$(kv "$kvf" ls_warm_p50_s)" ]; then
		row "sessions: ls sessions/ ($n)" FAILED "" "" ""
		return 0
	fi
	row "sessions: first ls sessions/ ($(kv "$kvf" sessions))" "$(kv "$kvf" ls_first_s)" "" "" ""
	row "sessions: ls sessions/ (warm, median)" "$(kv "$kvf" ls_warm_p50_s)" "" "" ""
	row "mount: cat stdout (warm, reference)" "$(kv "$kvf" cat_sandbox_s)" "$(kv "$kvf" cat_sandbox_bytes)" "1x stdout" ""
	row "sessions: cat sessions/$(kv "$kvf" small_session)/stdout (warm)" "$(kv "$kvf" cat_session_s)" "$(kv "$kvf" small_bytes)" "$(kv "$kvf" cat_ratio)x faster" ""
	[ "$(calc '($1 < 0.05)' "$(kv "$kvf" ls_warm_p50_s)")" = 1 ] ||
		warn "sessions: warm ls sessions/ took $(fmt_secs "$(kv "$kvf" ls_warm_p50_s)") (goal: under 50 ms)"
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
	bench_cold
	bench_engine
	bench_latency
	bench_idle
	bench_many
	bench_sessions
	report
}

main "$@"
