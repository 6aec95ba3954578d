#!/bin/sh
# SPDX-License-Identifier: MIT
# Every scenario of scenarios/ and a 100-seed chaos campaign run in the
# simulator with --events; the audit must pass each log it writes
# (whatever the scenario's own verdict: a scenario may expect a session to
# fail, its log must still be sound).
#
#   sim_audit.sh JVPN SCENARIO_DIR
set -u
jvpn=$1
dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
bad=0
for f in "$dir"/*.ini; do
	[ -f "$f" ] || continue
	log=$tmp/$(basename "$f" .ini).jsonl
	"$jvpn" sim "$f" --events "$log" >/dev/null 2>&1
	if [ ! -s "$log" ]; then
		echo "FAIL: $f: the simulator wrote no log"
		bad=$((bad + 1))
		continue
	fi
	n=$((n + 1))
	if ! "$jvpn" audit --quiet "$log" >"$tmp/out" 2>&1; then
		echo "FAIL: $f: the audit of its log:"
		cat "$tmp/out"
		bad=$((bad + 1))
	fi
done
# and a seeded chaos campaign (random fault schedules, one log)
log=$tmp/chaos.jsonl
"$jvpn" sim --chaos 100 --seed 1 --events "$log" --quiet >/dev/null 2>&1
if [ ! -s "$log" ]; then
	echo "FAIL: the chaos run wrote no log"
	bad=$((bad + 1))
else
	n=$((n + 1))
	if ! "$jvpn" audit --quiet "$log" >"$tmp/out" 2>&1; then
		echo "FAIL: the audit of the chaos log (jvpn sim --chaos 100 --seed 1):"
		head -n 50 "$tmp/out"
		bad=$((bad + 1))
	fi
fi
echo "$n simulator logs audited, $bad failed"
[ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
