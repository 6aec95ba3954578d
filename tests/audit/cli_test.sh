#!/bin/sh
# SPDX-License-Identifier: MIT
# `jvpn audit` as a command: exit codes, one-line I/O errors, several
# files (verdict = AND), --quiet, --json (checked by json_check), stdin.
#
#   cli_test.sh JVPN JSON_CHECK LOGDIR
set -u
jvpn=$1
jcheck=$2
logs=$3
good=$logs/good-s6-replay.jsonl
bad=$logs/bad-dual-binding.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
t() {	# t NAME EXPECTED-EXIT CMD...
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: $name: exit $rc, expected $want"
		cat "$tmp/out" "$tmp/err"
		fails=$((fails + 1))
		return 1
	fi
	return 0
}
ok() {	# ok NAME CONDITION-RESULT
	if [ "$2" -ne 0 ]; then
		echo "FAIL: $1"
		cat "$tmp/out" "$tmp/err"
		fails=$((fails + 1))
	fi
}

t usage 2 "$jvpn" audit
t bad-option 2 "$jvpn" audit --frobnicate "$good"
t bad-epsilon 2 "$jvpn" audit --epsilon x "$good"
t missing-file 2 "$jvpn" audit "$tmp/nope.jsonl" &&
	{ [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'nope.jsonl: No such file' "$tmp/err"; ok "one clear line for a missing file" $?; }
t good 0 "$jvpn" audit "$good" &&
	{ grep -q '^timeline of ' "$tmp/out" && grep -q '^stream 1: ' "$tmp/out" &&
	  grep -q '^summary of ' "$tmp/out" && grep -q 'recovery latency (client): n=1' "$tmp/out" &&
	  [ "$(tail -n 1 "$tmp/out")" = "audit: PASS" ]; ok "timeline, summary, verdict" $?; }
t quiet 0 "$jvpn" audit --quiet "$good" &&
	{ [ "$(cat "$tmp/out")" = "audit: PASS" ]; ok "--quiet prints only the verdict" $?; }
t epsilon 0 "$jvpn" audit --epsilon 50 "$good"
t and 1 "$jvpn" audit "$good" "$bad" &&
	{ grep -q "^$good: PASS" "$tmp/out" && grep -q "^$bad: FAIL (1 violations)" "$tmp/out" &&
	  [ "$(tail -n 1 "$tmp/out")" = "audit: FAIL (1 violations)" ]; ok "verdict is the AND" $?; }
t io-and-fail 2 "$jvpn" audit "$bad" "$tmp/nope.jsonl"
t stdin 1 sh -c "'$jvpn' audit --quiet - < '$bad'" &&
	{ grep -q '^-:18: INV-05: ' "$tmp/out"; ok "stdin is '-'" $?; }
"$jvpn" audit --json "$good" "$bad" >"$tmp/j" 2>&1
ok "--json exit 1" $([ $? -eq 1 ]; echo $?)
"$jcheck" FAIL INV-05 <"$tmp/j" >"$tmp/out" 2>"$tmp/err"
ok "--json document" $?
"$jvpn" audit --json --quiet "$good" | "$jcheck" PASS >"$tmp/out" 2>"$tmp/err"
ok "--json --quiet document" $?

[ "$fails" -eq 0 ] && echo "cli: all checks passed"
[ "$fails" -eq 0 ]
