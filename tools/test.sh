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

# Fuzz layer: every libFuzzer target over its seed corpus for a few seconds
# (FUZZ_SECONDS, default 2); each target is one test case.
if command -v clang >/dev/null 2>&1; then
	echo "== fuzz targets (${FUZZ_SECONDS:-2} s each)"
	for t in $(ls tests/fuzz/corpus); do
		if tools/fuzz.sh "${FUZZ_SECONDS:-2}" "$t" >"$results.fuzz" 2>&1; then
			echo "fuzz PASS fuzz: $t" >>"$results"
		else
			cat "$results.fuzz" >&2
			echo "fuzz FAIL fuzz: $t" >>"$results"
			status=1
		fi
	done
	rm -f "$results.fuzz"
else
	echo "fuzz SKIP fuzz: clang not installed" >>"$results"
fi

# Mutation run: every listed security check broken on purpose must make
# its unit test fail (tools/mutate.sh, tests/mutants/*.txt).
echo "== mutation run"
tools/mutate.sh >"$results.mut" 2>&1 || status=1
cat "$results.mut"
grep '^mutants ' "$results.mut" >>"$results"
rm -f "$results.mut"

python3 tools/tap_summary.py --total "$results"
[ "$status" -eq 0 ] && ! grep -q ' FAIL ' "$results"
