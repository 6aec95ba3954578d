#!/bin/sh
# SPDX-License-Identifier: MIT
# `jvpn audit` as a command: exit codes, one-line I/O errors, several
# files as one log set and --each (verdict = AND), --quiet, --json
# (checked by json_check), stdin.
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
t and 1 "$jvpn" audit --each "$good" "$bad" &&
	{ grep -q "^$good: PASS" "$tmp/out" && grep -q "^$bad: FAIL (1 violations)" "$tmp/out" &&
	  [ "$(tail -n 1 "$tmp/out")" = "audit: FAIL (1 violations)" ]; ok "--each: verdict is the AND" $?; }
t io-and-fail 2 "$jvpn" audit --each "$bad" "$tmp/nope.jsonl"
t io-set 2 "$jvpn" audit "$bad" "$tmp/nope.jsonl" &&
	{ [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" -o "$(cat "$tmp/out")" = "audit: ERROR (a file could not be read)" ]; ok "a log set with a missing file is not audited" $?; }
t stdin 1 sh -c "'$jvpn' audit --quiet - < '$bad'" &&
	{ grep -q '^-:18: INV-05: ' "$tmp/out"; ok "stdin is '-'" $?; }
"$jvpn" audit --json --each "$good" "$bad" >"$tmp/j" 2>&1
ok "--json exit 1" $([ $? -eq 1 ]; echo $?)
"$jcheck" FAIL INV-05 <"$tmp/j" >"$tmp/out" 2>"$tmp/err"
ok "--json document" $?
"$jvpn" audit --json --quiet "$good" | "$jcheck" PASS >"$tmp/out" 2>"$tmp/err"
ok "--json --quiet document" $?

# PD-7 on the timeline and in the summary: switch classes, damping,
# the fail-back by name (T13)
pd7=$logs/good-pd7-flaps.jsonl
t pd7 0 "$jvpn" audit "$pd7" &&
	{ grep -q ' switch null -> p2 (forced)  \[client-1\]' "$tmp/out" &&
	  grep -q ' ATTACHED -> RECOVERING (failback, discretionary), ' "$tmp/out" &&
	  grep -q ' p1 damped (flap penalty 3501): ' "$tmp/out" &&
	  grep -q ' p1 reused (flap penalty 750): ' "$tmp/out" &&
	  grep -q '^  22 switches (18 forced, 4 discretionary), .* 2 dampings$' "$tmp/out"; ok "PD-7: classes, damping, fail-back" $?; }
"$jvpn" audit --json "$pd7" >"$tmp/j" 2>&1
grep -q '"switches_forced":18' "$tmp/j" && grep -q '"kind":"damped"' "$tmp/j" &&
	grep -q '"trigger_class":"forced"' "$tmp/j"
ok "--json: PD-7 fields" $?

# several files are one log set: the logs of two gateway nodes
set=$logs/cluster/bad-fork
t set 1 "$jvpn" audit "$set/n1.jsonl" "$set/n2.jsonl" &&
	{ grep -q "^$set/n2.jsonl:2: INV-16: .* at $set/n1.jsonl:5 by gw-1" "$tmp/out" &&
	  grep -q "^$set/n1.jsonl:5: INV-15: .*$set/n2.jsonl:1" "$tmp/out" &&
	  grep -q "^timeline of $set/n1.jsonl, $set/n2.jsonl:" "$tmp/out" &&
	  grep -q "^stream 1: gateway session .* born at 1000 ($set/n1.jsonl:1)" "$tmp/out" &&
	  grep -q "v2 .*\[gw-2\]  ($set/n2.jsonl:2)" "$tmp/out" &&
	  grep -q "^$set/n1.jsonl: FAIL (1 violations)" "$tmp/out" &&
	  grep -q "^$set/n2.jsonl: FAIL (1 violations)" "$tmp/out" &&
	  [ "$(grep -c '^stream ' "$tmp/out")" -eq 1 ] &&
	  [ "$(tail -n 1 "$tmp/out")" = "audit: FAIL (2 violations)" ]; ok "a set: one gateway stream, both places named" $?; }
t set-each 1 "$jvpn" audit --each "$set/n1.jsonl" "$set/n2.jsonl" &&
	{ grep -q "^$set/n1.jsonl: PASS" "$tmp/out" && ! grep -q "INV-16" "$tmp/out"; ok "--each: no set, no fork" $?; }
t set-stdin 1 sh -c "'$jvpn' audit --quiet '$set/n2.jsonl' - < '$set/n1.jsonl'" &&
	{ grep -q "^-:5: INV-15: " "$tmp/out" && grep -q "^$set/n2.jsonl:2: INV-16: .* at -:5 " "$tmp/out"; ok "stdin is one file of a set" $?; }
"$jvpn" audit --json "$set/n1.jsonl" "$set/n2.jsonl" >"$tmp/j" 2>&1
ok "--json set exit 1" $([ $? -eq 1 ]; echo $?)
"$jcheck" FAIL INV-16 <"$tmp/j" >"$tmp/out" 2>"$tmp/err"
ok "--json set document" $?
grep -q '"other":{"file":"[^"]*n1.jsonl","line":5}' "$tmp/j"
ok "--json names the second place" $?
"$jvpn" audit --json --quiet "$logs"/cluster/good-cl3-takeover/*.jsonl | "$jcheck" PASS >"$tmp/out" 2>"$tmp/err"
ok "--json --quiet set document" $?

[ "$fails" -eq 0 ] && echo "cli: all checks passed"
[ "$fails" -eq 0 ]
