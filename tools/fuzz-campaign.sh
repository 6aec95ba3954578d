#!/bin/sh
# A fuzzing campaign: run each libFuzzer target until it has executed RUNS
# inputs, replay what it found under ASan+UBSan, merge the inputs that add
# coverage into the committed corpus, and record the figures.
#
# Usage: tools/fuzz-campaign.sh [RUNS] [TARGET...]
#        tools/fuzz-campaign.sh --table     markdown table of the results
#        tools/fuzz-campaign.sh --estimate [RUNS] [TARGET...]
#                 runs each target 10 s (FUZZ_SECONDS) and prints its exec/s
#                 and the seconds RUNS executions would take at that rate
#   RUNS    executions per target (default 10000000; env RUNS too)
#   TARGET  names under tests/fuzz/corpus/ (default: every target)
# Env: BUILD_FUZZ       ASan+UBSan build (default build-fuzz)
#      BUILD_FUZZ_FAST  UBSan-only build the campaign runs in (build-fuzz-fast)
#      FUZZ_JOBS        targets run at once (default 1)
#      FUZZ_NICE        niceness of the fuzzers (default 19)
#      FUZZ_CORPUS_MAX  most files a target's corpus may hold (default 300)
#      FUZZ_RESULTS     results file (default tests/fuzz/campaign-results.txt)
#      FUZZ_FLAGS       more libFuzzer flags for the campaign (e.g. -max_len=4096)
#
# Why two builds: ASan costs 2-3x the executions per second, so the
# campaign runs without it (UBSan stays: it is cheap and an overflow is a
# crash); every input the campaign kept (its whole working corpus, a few
# thousand files) then runs once under ASan+UBSan, so a memory error in
# anything the campaign reached is still caught.
#
# The results file holds one line per target (the latest campaign replaces
# the target's line):
#   target runs cov ft corpus_before corpus_after crashes asan_replay wall_s date
# cov and ft are libFuzzer's final figures (edges and features reached in
# the UBSan build).  Exit status: non-zero if any target crashed, hung,
# failed the ASan replay or has no build or corpus.
set -eu
cd "$(dirname "$0")/.."

corpus=tests/fuzz/corpus
results=${FUZZ_RESULTS:-tests/fuzz/campaign-results.txt}
header='# target runs cov ft corpus_before corpus_after crashes asan_replay wall_s date'

if [ "${1:-}" = "--table" ]; then
	if [ ! -f "$results" ]; then
		echo "fuzz-campaign.sh: no results yet in $results" >&2
		exit 2
	fi
	echo "| target | executions | cov | ft | corpus (before → after) | crashes | ASan replay | wall time | date |"
	echo "|---|---:|---:|---:|---:|---:|---|---:|---|"
	grep -v '^#' "$results" | sort | while read -r t r c f cb ca x a w d; do
		echo "| $t | $r | $c | $f | $cb → $ca | $x | $a | ${w} s | $d |"
	done
	exit 0
fi

asan=${BUILD_FUZZ:-build-fuzz}
fast=${BUILD_FUZZ_FAST:-build-fuzz-fast}

# One target (run by xargs below, so FUZZ_JOBS targets can run at once).
if [ "${1:-}" = "--one" ]; then
	runs=$2
	t=$3
	max=${FUZZ_CORPUS_MAX:-300}
	work="$fast/campaign/$t"
	artifacts="$fast/fuzz-artifacts"
	log="$fast/campaign/$t.log"
	rm -rf "$work"
	mkdir -p "$work" "$artifacts"
	before=$(ls "$corpus/$t" | wc -l)
	start=$(date +%s)
	crashes=0
	rc=0
	nice -n "${FUZZ_NICE:-19}" "$fast/tests/fuzz/$t" -runs="$runs" \
		-timeout=25 -print_final_stats=1 ${FUZZ_FLAGS:-} \
		-artifact_prefix="$artifacts/$t-" \
		"$work" "$corpus/$t" >"$log" 2>&1 || rc=$?
	# SIGINT to the fuzzer (kill -INT PID) stops a campaign early: its
	# runs so far are recorded as they are, and what it found is kept.
	if [ $rc -eq 72 ] && grep -q 'run interrupted' "$log"; then
		echo "fuzz-campaign: $t interrupted before $runs runs" >&2
	elif [ $rc -ne 0 ]; then
		crashes=1
	fi
	wall=$(($(date +%s) - start))
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -n 1)
	# An interrupted run prints no final stats: its last status line.
	[ -n "$done_runs" ] ||
		done_runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')

	# Everything the campaign kept, and the committed corpus, once
	# under ASan+UBSan (leaks included).
	replay=ok
	nice -n "${FUZZ_NICE:-19}" "$asan/tests/fuzz/$t" -runs=0 \
		-artifact_prefix="$artifacts/$t-asan-" \
		"$work" "$corpus/$t" >"$log.asan" 2>&1 || replay=FAIL

	# Only the inputs that add features join the corpus; the seeds stay.
	after=$before
	if [ $crashes -eq 0 ] && [ $replay = ok ]; then
		merged="$fast/campaign/$t.merged"
		rm -rf "$merged"
		cp -r "$corpus/$t" "$merged"
		nice -n "${FUZZ_NICE:-19}" "$fast/tests/fuzz/$t" -merge=1 \
			"$merged" "$work" >"$log.merge" 2>&1
		n=$(ls "$merged" | wc -l)
		if [ "$n" -gt "$max" ]; then
			# Too many for the repository: keep what reaches a new
			# edge, not each new hit count of one (a tenth as many).
			rm -rf "$merged"
			cp -r "$corpus/$t" "$merged"
			nice -n "${FUZZ_NICE:-19}" "$fast/tests/fuzz/$t" \
				-merge=1 -use_counters=0 "$merged" "$work" \
				>>"$log.merge" 2>&1
			n=$(ls "$merged" | wc -l)
		fi
		if [ "$n" -le "$max" ]; then
			cp -n "$merged"/* "$corpus/$t/"
			after=$n
		else
			echo "fuzz-campaign: $t: merged corpus has $n files" \
				"(FUZZ_CORPUS_MAX=$max); corpus left as it was" >&2
		fi
		rm -rf "$merged"
	fi

	line="$t ${done_runs:-0} ${cov:-?} ${ft:-?} $before $after $crashes $replay $wall $(date -u +%Y-%m-%d)"
	# Replace this target's line; flock because targets finish at once.
	(
		flock 9
		[ -f "$results" ] || echo "$header" >"$results"
		grep -v "^$t " "$results" >"$results.tmp" || true
		echo "$line" >>"$results.tmp"
		{ grep '^#' "$results.tmp"; grep -v '^#' "$results.tmp" | sort; } \
			>"$results"
		rm -f "$results.tmp"
	) 9>>"$fast/campaign/results.lock"
	echo "$line"
	if [ $crashes -ne 0 ] || [ $replay != ok ]; then
		echo "fuzz-campaign: $t FAILED: logs $log*, reproducers in $artifacts/" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
	exit 0
fi

estimate=false
if [ "${1:-}" = "--estimate" ]; then
	estimate=true
	shift
fi
runs=${1:-${RUNS:-10000000}}
[ $# -gt 0 ] && shift
case $runs in
''|*[!0-9]*) echo "fuzz-campaign.sh: RUNS must be a whole number, got '$runs'" >&2
	exit 2 ;;
esac
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz-campaign.sh: clang not found (apt-get install clang)" >&2
	exit 2
fi
[ -f "$asan/build.ninja" ] ||
	CC=clang meson setup "$asan" -Dfuzz=true -Dtests=false >/dev/null
[ -f "$fast/build.ninja" ] ||
	CC=clang meson setup "$fast" -Dfuzz=true -Dfuzz_asan=false \
		-Dtests=false >/dev/null
nice -n "${FUZZ_NICE:-19}" ninja -C "$asan" >/dev/null
nice -n "${FUZZ_NICE:-19}" ninja -C "$fast" >/dev/null

[ $# -gt 0 ] || set -- $(ls "$corpus")
for t in "$@"; do
	if [ ! -x "$fast/tests/fuzz/$t" ] || [ ! -d "$corpus/$t" ]; then
		echo "fuzz-campaign.sh: no target or corpus named '$t'" >&2
		exit 2
	fi
done
mkdir -p "$fast/campaign"
if $estimate; then
	secs=${FUZZ_SECONDS:-10}
	echo "# target exec_per_s seconds_for_$runs (${secs} s each, nice ${FUZZ_NICE:-19}, load $(cut -d' ' -f1 /proc/loadavg))"
	for t in "$@"; do
		scratch=$(mktemp -d)
		nice -n "${FUZZ_NICE:-19}" "$fast/tests/fuzz/$t" \
			-max_total_time="$secs" -print_final_stats=1 \
			"$scratch" "$corpus/$t" >"$fast/campaign/$t.estimate" 2>&1 ||
			true
		rm -rf "$scratch"
		done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
			"$fast/campaign/$t.estimate")
		rate=$((${done_runs:-0} / secs))
		[ "$rate" -gt 0 ] || rate=1
		echo "$t $rate $((runs / rate + 1))"
	done
	exit 0
fi
echo "$header"
status=0
printf '%s\n' "$@" | xargs -P "${FUZZ_JOBS:-1}" -n 1 "$0" --one "$runs" ||
	status=1
[ $status -eq 0 ] && echo "fuzz-campaign: every target passed" ||
	echo "fuzz-campaign: some targets FAILED (see above)" >&2
exit $status
