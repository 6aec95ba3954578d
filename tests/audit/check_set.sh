#!/bin/sh
# SPDX-License-Identifier: MIT
# Run `jvpn audit` on one log set of tests/audit/logs/cluster (the logs of
# the gateway nodes and the client of one deployment, DIR/*.jsonl, audited
# together) and hold the result to DIR/expect (written by mkcluster.py):
#   exit N                    the exit status
#   finding FILE:LINE ID [T]  a finding "DIR/FILE:LINE: ID: ..." must be
#                             reported, and its line must contain T
#   only ID...                no finding of another ID
# A set without expect must pass: exit 0, "audit: PASS", no finding.
#
#   check_set.sh JVPN DIR
set -u
jvpn=$1
dir=$2
out=$(mktemp)
trap 'rm -f "$out" "$out.ids"' EXIT

"$jvpn" audit "$dir"/*.jsonl >"$out" 2>&1
rc=$?
fail() {
	echo "FAIL: $dir: $*"
	echo "--- jvpn audit output:"
	cat "$out"
	exit 1
}

if [ ! -f "$dir/expect" ]; then
	[ "$rc" -eq 0 ] || fail "exit $rc, expected 0"
	grep -q '^audit: PASS$' "$out" || fail "no 'audit: PASS' line"
	if grep -q "^$dir/[^:]*:[0-9]*: " "$out"; then
		fail "a finding on a good log set"
	fi
	echo "ok: $dir passes"
	exit 0
fi

only=""
while read -r kind a b c; do
	case $kind in
	exit)
		[ "$rc" -eq "$a" ] || fail "exit $rc, expected $a" ;;
	finding)
		grep "^$dir/$a: $b: " "$out" | grep -qF -- "$c" ||
			fail "no finding '$b' at $a${c:+ naming $c}" ;;
	only)
		only="$a $b $c" ;;
	esac
done <"$dir/expect"
grep -q '^audit: FAIL ([0-9]* violations)$' "$out" ||
	fail "no 'audit: FAIL (N violations)' line"
if [ -n "$only" ]; then
	grep "^$dir/[^:]*:[0-9]*: " "$out" |
		sed "s|^$dir/[^:]*:[0-9]*: \([^:]*\):.*|\1|" | sort -u >"$out.ids"
	while read -r id; do
		case " $only " in
		*" $id "*) ;;
		*) fail "unexpected finding '$id'" ;;
		esac
	done <"$out.ids"
fi
echo "ok: $dir fails for the right reason"
exit 0
