#!/bin/bash
# SPDX-License-Identifier: MIT
# Every command of `jvpn --help`'s list (src/cli/main.c's table, so a new
# command is covered without editing this file): `--help` and `-h` as its
# first argument print its usage on stdout and exit 0; a bogus flag exits
# 2.  `jvpn --version` and `jvpn version` print "jvpn VERSION", exit 0.
#   cli_help_test.sh JVPN VERSION
set -u
JVPN=$1
VERSION=$2
. "$(dirname "$0")/../lab/tap.sh"

cmds=$("$JVPN" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
n=$(echo "$cmds" | wc -l)
tap_plan $((n * 3 + 3))
[ "$n" -ge 10 ] && tap_ok "$n commands listed" || tap_fail "only $n commands listed"

out=$("$JVPN" --version); rc=$?
tap_eq "jvpn --version" "0 jvpn $VERSION" "$rc $out"
out=$("$JVPN" version); rc=$?
tap_eq "jvpn version" "0 jvpn $VERSION" "$rc $out"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in $cmds; do
	"$JVPN" "$c" --help >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc -eq 0 ] && grep -qi "usage: jvpn $c" "$tmp/out"; then
		tap_ok "jvpn $c --help: usage on stdout, exit 0"
	else
		tap_fail "jvpn $c --help: usage on stdout, exit 0" "exit $rc" \
			"stdout: $(head -2 "$tmp/out")" "stderr: $(head -2 "$tmp/err")"
	fi
	"$JVPN" "$c" -h >"$tmp/out" 2>/dev/null </dev/null
	rc=$?
	if [ $rc -eq 0 ] && [ -s "$tmp/out" ]; then
		tap_ok "jvpn $c -h: exit 0"
	else
		tap_fail "jvpn $c -h: exit 0" "exit $rc"
	fi
	"$JVPN" "$c" --no-such-flag >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then
		tap_ok "jvpn $c --no-such-flag: exit 2 with a message"
	else
		tap_fail "jvpn $c --no-such-flag: exit 2 with a message" "exit $rc" \
			"stderr: $(head -2 "$tmp/err")"
	fi
done
tap_done
