#!/bin/sh
# Build the libFuzzer targets (clang, ASan+UBSan) and run each over its seed
# corpus for N seconds.  Exit non-zero if a build fails or any target finds
# a crash, a leak or a sanitizer error.
#
# Usage: tools/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 5; env FUZZ_SECONDS too)
#   TARGET   names under tests/fuzz/corpus/ (default: every target)
# Env: BUILD_FUZZ  build directory (default build-fuzz)
#
# New inputs the fuzzer finds go to a scratch directory, never into the
# committed corpus; crash reproducers are kept in $BUILD_FUZZ/fuzz-artifacts.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-${FUZZ_SECONDS:-5}}
[ $# -gt 0 ] && shift
build=${BUILD_FUZZ:-build-fuzz}
corpus=tests/fuzz/corpus

case $secs in
''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, got '$secs'" >&2
	exit 2 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz.sh: clang not found (apt-get install clang)" >&2
	exit 2
fi

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null

if [ $# -eq 0 ]; then
	set -- $(ls "$corpus")
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

passed=0
failed=0
for t in "$@"; do
	exe="$build/tests/fuzz/$t"
	if [ ! -x "$exe" ] || [ ! -d "$corpus/$t" ]; then
		echo "fuzz.sh: no target or corpus named '$t'" >&2
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$scratch/$t"
	log="$scratch/$t.log"
	if "$exe" -max_total_time="$secs" -print_final_stats=0 \
		-artifact_prefix="$artifacts/$t-" \
		"$scratch/$t" "$corpus/$t" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
		echo "ok   $t (${runs:-?} runs in ${secs}s)"
		passed=$((passed + 1))
	else
		echo "FAIL $t: reproducer in $artifacts/; log:"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
