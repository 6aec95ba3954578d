#!/bin/sh
# SPDX-License-Identifier: MIT
# Run `jvpn audit` on one log of tests/audit/logs and hold the result to
# the log's NAME.expect (written by mkbroken.py):
#   exit N             the exit status
#   finding LINE ID    a finding "LOG:LINE: ID:" must be reported
#   only ID...         no finding of another ID
# A log without .expect must pass: exit 0, "audit: PASS", no finding.
#
#   check_log.sh JVPN LOG.jsonl
set -u
jvpn=$1
log=$2
exp=${log%.jsonl}.expect
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$jvpn" audit "$log" >"$out" 2>&1
rc=$?
fail() {
	echo "FAIL: $log: $*"
	echo "--- jvpn audit output:"
	cat "$out"
	exit 1
}

if [ ! -f "$exp" ]; then
	[ "$rc" -eq 0 ] || fail "exit $rc, expected 0"
	grep -q '^audit: PASS$' "$out" || fail "no 'audit: PASS' line"
	if grep -q "^$log:[0-9]*: " "$out"; then
		fail "a finding on a good log"
	fi
	echo "ok: $log passes"
	exit 0
fi

only=""
while read -r kind a b; do
	case $kind in
	exit)
		[ "$rc" -eq "$a" ] || fail "exit $rc, expected $a" ;;
	finding)
		grep -q "^$log:$a: $b: " "$out" ||
			fail "no finding '$b' at line $a" ;;
	only)
		only="$a $b" ;;
	esac
done <"$exp"
grep -q '^audit: FAIL ([0-9]* violations)$' "$out" || fail "no 'audit: FAIL (N violations)' line"
if [ -n "$only" ]; then
	# every finding's ID must be one of the allowed ones
	grep "^$log:[0-9]*: " "$out" | sed "s|^$log:[0-9]*: \([^:]*\):.*|\1|" |
		sort -u >"$out.ids"
	while read -r id; do
		case " $only " in
		*" $id "*) ;;
		*) rm -f "$out.ids"; fail "unexpected finding '$id'" ;;
		esac
	done <"$out.ids"
	rm -f "$out.ids"
fi
echo "ok: $log fails for the right reason"
exit 0
