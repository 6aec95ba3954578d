#!/bin/sh
# Run every test layer and print one summary line "N passed, N failed".
# Usage: tools/test.sh BUILD_DIR SANITIZER_BUILD_DIR
set -u
build=${1:-build}
san=${2:-build-san}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 2

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0

# Build both trees first: a compile error is a failure, not a skip.
for b in "$build" "$san"; do
	if ! ninja -C "$b" >"$results.log" 2>&1; then
		cat "$results.log" >&2
		echo "build of $b failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
done
rm -f "$results.log"

for b in "$build" "$san"; do
	echo "== meson test in $b"
	if ! meson test -C "$b" --print-errorlogs --num-processes 2; then
		status=1
	fi
	python3 tools/tap_summary.py "$b/meson-logs/testlog.json" "$b" >>"$results" || status=1
done

python3 tools/tap_summary.py --total "$results"
[ "$status" -eq 0 ] && ! grep -q ' FAIL ' "$results"
