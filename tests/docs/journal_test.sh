#!/bin/bash
# SPDX-License-Identifier: MIT
# journald priorities without privileges: `jvpn up` of a config it refuses
# writes its error line with "<3>" when JOURNAL_STREAM names its stderr
# (device:inode, as systemd sets it), and plainly when the variable is
# unset or names another file.  The daemon's own lines (<4>, <5>, <6>) are
# checked on a running gateway by tests/lab/notify_test.sh.
#   journal_test.sh JVPN
set -u
JVPN=$1
. "$(dirname "$0")/../lab/tap.sh"
tap_plan 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[Interface]\nRole = server\n' >"$tmp/bad.conf"
: >"$tmp/err"
devino=$(stat -c '%d:%i' "$tmp/err")

JOURNAL_STREAM=$devino "$JVPN" up "$tmp/bad.conf" 2>"$tmp/err"
rc=$?
tap_eq "refused config: exit 1" 1 "$rc"
line=$(head -1 "$tmp/err")
case $line in
"<3>jvpn up: $tmp/bad.conf:2: Role"*) tap_ok "stderr is the journal stream: <3> prefix" ;;
*) tap_fail "stderr is the journal stream: <3> prefix" "got: $line" ;;
esac

env -u JOURNAL_STREAM "$JVPN" up "$tmp/bad.conf" 2>"$tmp/err"
line=$(head -1 "$tmp/err")
case $line in
"jvpn up: $tmp/bad.conf:2: Role"*) tap_ok "no JOURNAL_STREAM: plain line" ;;
*) tap_fail "no JOURNAL_STREAM: plain line" "got: $line" ;;
esac

: >"$tmp/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/other") "$JVPN" up "$tmp/bad.conf" 2>"$tmp/err"
line=$(head -1 "$tmp/err")
case $line in
"jvpn up: "*) tap_ok "JOURNAL_STREAM names another file: plain line" ;;
*) tap_fail "JOURNAL_STREAM names another file: plain line" "got: $line" ;;
esac
tap_done
