#!/usr/bin/env bash
# bench/run.sh — runs `make bench`'s driver, bench/run (see its package
# comment, or `bench/run.sh -h`, for the parts, flags and BENCH_*
# variables). Arguments are passed to it, e.g. bench/run.sh -only walk.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d "${TMPDIR:-/tmp}/msb-logfs-bench-driver.XXXXXX")
trap 'rm -rf -- "$bin"' EXIT
go build -o "$bin/bench" ./bench/run
"$bin/bench" "$@"
