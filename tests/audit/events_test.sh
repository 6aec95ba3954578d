#!/bin/sh
# SPDX-License-Identifier: MIT
# `jvpn events` on a committed log (no daemon): -n, --type, --session
# prefix, --since (RFC 3339 and ages), --format text, a line that is not
# an event, the log of a config whose daemon is down, and every kind of
# bad argument (one line, exit 2); and `jvpn show` / `status` without a
# daemon: none running, a stale socket, bad arguments.
#
#   events_test.sh JVPN LOGDIR
set -u
jvpn=$1
log=$(cd "$2" && pwd)/good-demo.jsonl	# 19 events of session f45698d2..., ts 10..5040 ms
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fails=0
check() {	# check NAME CONDITION-RESULT
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1))
	else
		echo "FAIL: $1"
		sed 's/^/  out: /' "$tmp/out" | cut -c1-200
		sed 's/^/  err: /' "$tmp/err"
		fails=$((fails + 1))
	fi
}
run() {		# run EXPECTED-EXIT ARGS...: jvpn events ARGS
	want=$1
	shift
	"$jvpn" events "$@" >"$tmp/out" 2>"$tmp/err"
	[ $? -eq "$want" ]
}
lines() {
	wc -l <"$tmp/out" | tr -d ' '
}
one_error_line() {	# exit 2, nothing on stdout, one line on stderr naming $1
	[ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -q -- "$1" "$tmp/err"
}

run 0 --file "$log" && cmp -s "$tmp/out" "$log"
check "no filter: the log as it is" $?
run 0 --file "$log" -n 3 && tail -n 3 "$log" | cmp -s - "$tmp/out"
check "-n 3: the last three lines" $?
run 0 --file "$log" -n 0 && [ ! -s "$tmp/out" ]
check "-n 0: nothing" $?
run 0 --file "$log" -n 100 && cmp -s "$tmp/out" "$log"
check "-n larger than the log: all of it" $?
run 0 --file "$log" --type TransportSwitch && [ "$(lines)" = 2 ] &&
	[ "$(grep -c '"event_type":"TransportSwitch"' "$tmp/out")" = 2 ]
check "--type TransportSwitch: its two lines" $?
run 0 --file "$log" --type TransportSwitch -n 1 &&
	[ "$(lines)" = 1 ] && grep -q '"ts_ms":5040,' "$tmp/out"
check "--type with -n 1: the last switch" $?
run 0 --file "$log" --session f45698d2 && cmp -s "$tmp/out" "$log"
check "--session with an 8-digit prefix" $?
run 0 --file "$log" --session F45698D25AD0D127C456A1146C610882 && cmp -s "$tmp/out" "$log"
check "--session: the whole id, any case" $?
run 0 --file "$log" --session f45698d3 && [ ! -s "$tmp/out" ]
check "--session: another prefix matches nothing" $?
run 0 --file "$log" --since 1970-01-01T00:00:05.020Z && [ "$(lines)" = 9 ] &&
	! grep -q '"ts_ms":5000,' "$tmp/out"
check "--since RFC 3339: from 5.020 s on (9 lines)" $?
run 0 --file "$log" --since 1970-01-01T01:00:05.020+01:00 && [ "$(lines)" = 9 ]
check "--since with an offset" $?
run 0 --file "$log" --since 10m && [ ! -s "$tmp/out" ]
check "--since 10m: nothing (the log is of 1970)" $?
run 0 --file "$log" --format text && [ "$(lines)" = 19 ] &&
	grep -qx '1970-01-01 00:00:05.000 f45698d2 client SessionStateChange ATTACHED -> VOLATILE (transport_dead) heartbeat_age_ms=460' "$tmp/out" &&
	grep -q '^1970-01-01 00:00:05.020 f45698d2 gateway TransportSwitch udp:10.1.0.2:50000 -> udp:10.2.0.2:50000 (reattach_success) ' "$tmp/out" &&
	! grep -q '"policy"\|version' "$tmp/out"
check "--format text: one readable line per event, no policy dump" $?
run 0 --file "$log" --format text --type TransportDead &&
	grep -qx '1970-01-01 00:00:05.000 f45698d2 client TransportDead (transport_dead) transport_id=p1 detection=hard_failure' "$tmp/out"
check "--format text shows the details" $?

{ head -n 5 "$log"; echo '{"ts_ms":"junk"}'; tail -n +6 "$log"; } >"$tmp/broken.jsonl"
run 0 --file "$tmp/broken.jsonl" && [ "$(lines)" = 19 ] &&
	grep -q "1 line not read as events" "$tmp/err"
check "a line that is not an event is counted, not printed" $?
run 1 --file "$tmp/none.jsonl" && grep -q "none.jsonl: No such file" "$tmp/err"
check "a missing file: one line, exit 1" $?

# a daemon that is down: its config says where its log is
(umask 077; "$jvpn" genkey >"$tmp/key"; "$jvpn" genkey >"$tmp/gw.key")
cat >"$tmp/c.conf" <<EOC
[Interface]
Role = client
PrivateKeyFile = $tmp/key
Address = 198.19.0.2/24
Name = jvt0
EventLog = $log
ControlSocket = $tmp/jvt0.sock

[Peer]
PublicKey = $("$jvpn" pubkey <"$tmp/gw.key")
AllowedIPs = 198.19.0.0/24

[Transport]
Name = a
Endpoint = 198.18.1.1:51820
EOC
run 0 --config "$tmp/c.conf" -n 2 && tail -n 2 "$log" | cmp -s - "$tmp/out" &&
	grep -q "no daemon answers on $tmp/jvt0.sock: reading $log" "$tmp/err"
check "daemon down: the config's EventLog is read" $?
run 1 --config "$tmp/c.conf" -n 1 --follow && [ "$(lines)" = 1 ] &&
	grep -q "not running: nothing to follow" "$tmp/err"
check "daemon down: --follow prints the history, then exit 1" $?
JVPN_RUN_DIR=$tmp run 1 jvt9 && grep -q "/var/log/jvpn/jvt9.jsonl" "$tmp/err"
check "IFACE without a daemon: its default log" $?
run 1 --socket "$tmp/nothing.sock" && grep -q "nothing.sock" "$tmp/err"
check "--socket without a daemon and no log known: exit 1" $?

# bad arguments: one line each, exit 2
run 2 --file "$log" -n x && one_error_line "-n 'x'"
check "-n x" $?
run 2 --file "$log" -n -1 && one_error_line "-n '-1'"
check "-n -1" $?
run 2 --file "$log" -n 1000001 && one_error_line "0 to 1000000"
check "-n too large" $?
run 2 --file "$log" --since 10x && one_error_line "--since '10x'"
check "--since 10x" $?
run 2 --file "$log" --since 2026-13-01T00:00:00Z && one_error_line "RFC 3339"
check "--since month 13" $?
run 2 --file "$log" --type TransportSwich && one_error_line "one of: SessionCreated .*TransportSwitch"
check "--type with a typo lists the types" $?
run 2 --file "$log" --session f4569 && one_error_line "8+ hex digits"
check "--session too short" $?
run 2 --file "$log" --session f45698g2 && one_error_line "--session 'f45698g2'"
check "--session not hex" $?
run 2 --file "$log" --format xml && one_error_line "text or json"
check "--format xml" $?
run 2 --file "$log" --follow && one_error_line "not with --file"
check "--follow with --file" $?
run 2 --file "$log" -n && one_error_line "-n needs a value"
check "-n without a value" $?
run 2 --file "$log" --socket "$tmp/x.sock" && one_error_line "give one of"
check "two sources" $?
run 2 --frobnicate && grep -q "unknown argument" "$tmp/err"
check "an unknown option" $?
run 0 --help && grep -q "usage: jvpn events" "$tmp/out"
check "--help exits 0" $?

# show and status without a daemon (the lab test has them with two)
mkdir "$tmp/run"
"$jvpn" show --dir "$tmp/run" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -qx "jvpn show: no jvpn interface is running (no control socket in $tmp/run)" "$tmp/err"
check "show: no daemon, exit 1, says so" $?
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/run/jv9.sock"
JVPN_RUN_DIR=$tmp/run "$jvpn" status >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "^jvpn status: jv9: stale socket, skipped: $tmp/run/jv9.sock: " "$tmp/err" &&
	grep -q "no daemon answers in $tmp/run" "$tmp/err"
check "status: a stale socket (JVPN_RUN_DIR) is one line, skipped" $?
"$jvpn" show a/b >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && one_error_line "'a/b' is not an interface name"
check "show: a bad interface name, exit 2" $?
"$jvpn" status jv0 --socket "$tmp/x.sock" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && one_error_line "give one of IFACE"
check "status: IFACE and --socket, exit 2" $?
"$jvpn" status --help >"$tmp/out" 2>"$tmp/err" && grep -q "usage: jvpn status" "$tmp/out"
check "status --help exits 0" $?

echo "events: $pass passed, $fails failed"
[ "$fails" -eq 0 ]
