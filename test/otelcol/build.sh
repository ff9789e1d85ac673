#!/usr/bin/env bash
# test/otelcol/build.sh — builds the OpenTelemetry Collector of
# builder.yaml once per machine and prints the binary's path.
#
# The binary is cached at ${XDG_CACHE_HOME:-$HOME/.cache}/msb-logfs/otelcol-<hash>/otelcol,
# <hash> being the manifest's SHA-256 (its first 16 hex digits), so a
# changed manifest builds a new one. The ship tests find it at the same
# path, or at $MSB_LOGFS_OTELCOL. With --cached it builds nothing and
# fails when the binary is not there yet.
#
# `go mod tidy` of the generated sources fails on a test dependency of a
# contrib module that the module proxy refuses; `go mod tidy -e` skips it
# and the build needs none of it. It takes a few minutes the first time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hash="$(sha256sum "$here/builder.yaml" | cut -c1-16)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/msb-logfs/otelcol-$hash"
bin="$cache/otelcol"
if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi
if [[ "${1:-}" == --cached ]]; then
	exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/builder.yaml" "$work/"
(
	cd "$work"
	# The builder writes go.mod and the sources, then fails in its own
	# `go mod tidy`: carry on when go.mod is there.
	GOFLAGS=-mod=mod go run go.opentelemetry.io/collector/cmd/builder@v0.165.0 \
		--config builder.yaml --skip-compilation >&2 || [[ -f build/go.mod ]]
	cd build
	go mod tidy -e >&2
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o otelcol . >&2
)
mkdir -p "$cache"
mv "$work/build/otelcol" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
