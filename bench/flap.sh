#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/flap.sh [BUILD_DIR] (root): flap-proof switching (issue 9) of a
# real jvpn tunnel in the namespace lab (tests/lab/lablib.sh), `fast`
# policy profile.  Not a test: it measures and prints.
#
#  1. hard alternating flap, RUNS times (default 1), a fresh session each:
#     path a dies silently (nftables drop at both ends) for 3.5 s, comes
#     back, 0.1 s later b dies for 3.5 s, comes back, 0.1 s later a dies
#     ... for 60 s, under a 20 Hz ping and one TCP connection (2 MB/s)
#     through the tunnel.  Per run: the ping loss, whether the session
#     survived (one session id in both logs, the client never TERMINATED),
#     the client's TransportSwitch events by trigger_class (forced:
#     the bound path failed; discretionary: anything else, fail-back
#     included), its entries into DEGRADED, how the TCP connection ended.
#  2. fail-back, FAILBACK_RUNS times (default 3), a fresh session each:
#     path a (Priority 0, preferred) is cut silently, the session moves to
#     b, 3 s later a is restored; fail-back = from the restore to the
#     client's TransportSwitch back to a (switching.failback_stable_ms is
#     left at the fast profile's 10000 ms), waited for up to
#     FAILBACK_WAIT_S (default 30) s.
#
# Everything runs in namespaces made here; the lab's trap stops every
# process it started (by pid) and deletes them on every exit path, Ctrl-C
# included.  About 2 minutes with the defaults.  Ends with name=value
# lines (medians over the runs); "-" where a figure could not be measured.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
JVPN=$build/src/cli/jvpn
export JVPN
[ -x "$JVPN" ] || { echo "flap.sh: no $JVPN (build first: make build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "flap.sh: needs root (network namespaces)" >&2; exit 2; }

. "$here/tests/lab/lablib.sh"

RUNS=${RUNS:-1}
FAILBACK_RUNS=${FAILBACK_RUNS:-3}
FAILBACK_WAIT_S=${FAILBACK_WAIT_S:-30}
FLAP_S=60
DEAD_MS=3500
GAP_MS=100
TAIL_S=3		# traffic goes on after the schedule
SWITCH_CAP=8		# switching.max_switches_per_min of the profile

lab_init
lab_net
lab_keys
lab_configs "version = 1.0" "profile = fast"

# fresh: new daemons, a new session on a, empty logs; 1 if none in 10 s.
fresh() {
	rm -rf "$LAB_DIR/state" "$LAB_DIR"/client.sock "$LAB_DIR"/gateway.sock
	lab_start_gateway
	lab_start_client
	lab_wait_field client session.bound_transport a 10
}

# done_run NAME: stop the daemons, keep their logs as NAME-*.
done_run() {
	lab_stop_daemons >/dev/null
	for f in client.jsonl gateway.jsonl client.log gateway.log; do
		mv "$LAB_DIR/$f" "$LAB_DIR/$1-$f" 2>/dev/null
	done
}

nsel() {	# SIDE ARGS...: how many events lab_select finds
	lab_select "$@" | wc -l
}

echo "jvpn flap benchmark: namespace lab, two veth paths, policy profile fast"
echo "  jvpn: $JVPN (built $(date -r "$JVPN" '+%F %T')); this script's tree:" \
	"$(git -C "$here" describe --always --dirty 2>/dev/null || echo "not a git tree")"
echo "  $(nproc) CPUs, kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- 1. hard alternating flap ----------------------------------------------------
echo "1. hard alternating flap, $RUNS run(s): a dead ${DEAD_MS} ms, ${GAP_MS} ms, b dead ${DEAD_MS} ms, ${GAP_MS} ms, ..."
echo "   for ${FLAP_S} s, silent cuts (nftables drop at both ends); 20 Hz ping, TCP 2 MB/s"
printf '   %3s  %4s  %7s  %-8s  %8s  %6s  %13s  %8s  %s\n' run cuts loss_% session switches forced discretionary degraded tcp
losses=() forceds=() discs=() survived=yes tcp_all=yes audit_ok=0
for i in $(seq 1 "$RUNS"); do
	if ! fresh; then
		printf '   %3d  no session within 10 s\n' "$i"
		survived=no tcp_all=no
		done_run "flap$i"
		continue
	fi
	sid=$(lab_field client session.session_id)
	secs=$((FLAP_S + TAIL_S + 1))
	lab_ping $((secs * 20)) 0.05 "$LAB_DIR/flap$i-ping.txt"
	ping_pid=$LAB_PING_PID
	lab_tcp $secs 2000000 "flap$i-tcp"
	tcp_end=$(($(lab_ms) + secs * 1000))
	sleep 1		# the stream is under way before the first cut
	lab_flap_alternate $FLAP_S $DEAD_MS $GAP_MS
	cuts=$LAB_FLAP_CUTS
	lab_tcp_wait_until $((tcp_end + 10000)) 2>/dev/null
	tcp=$LAB_TCP_RESULT
	[ "$tcp" != eof ] && [ -s "$LAB_DIR/flap$i-tcp-source.err" ] &&
		tcp="$tcp ($(head -1 "$LAB_DIR/flap$i-tcp-source.err"))"
	# the ping ends with its count; SIGINT makes a late one print its summary
	lab_sleep_until $((tcp_end + 2000))
	kill -INT "$ping_pid" 2>/dev/null
	wait "$ping_pid" 2>/dev/null
	tstop=$(lab_ms)
	read -r tx rx loss <<<"$($LABTOOL ping-loss "$LAB_DIR/flap$i-ping.txt")"
	ids=$( (lab_select client --print=session_id; lab_select gateway --print=session_id) |
		grep -v '^-$' | sort -u | tr '\n' ' ')
	term=$(nsel client event_type=SessionStateChange new_state=TERMINATED --before="$tstop")
	if [ "$ids" = "$sid " ] && [ "$term" = 0 ]; then s=same; else s=LOST survived=no; fi
	sw=$(lab_count client TransportSwitch)
	forced=$(nsel client event_type=TransportSwitch trigger_class=forced)
	disc=$(nsel client event_type=TransportSwitch trigger_class=discretionary)
	deg=$(nsel client event_type=SessionStateChange new_state=DEGRADED --before="$tstop")
	[ "$tcp" = eof ] || tcp_all=no
	losses+=("${loss:--}")
	forceds+=("$forced")
	discs+=("$disc")
	printf '   %3d  %4d  %7s  %-8s  %8d  %6d  %13d  %8d  %s\n' "$i" "$cuts" "${loss:--}" \
		"$s" "$sw" "$forced" "$disc" "$deg" "$tcp"
	echo "        ping: $rx of $tx answered"
	for st in DEGRADED TERMINATED; do
		t=$(lab_select client event_type=SessionStateChange new_state=$st \
			--before="$tstop" --print=ts_ms,reason_code | head -1)
		[ -n "$t" ] && echo "        first $st $(( (${t%% *} - LAB_FLAP_START) / 1000 )) s into the schedule (${t#* })"
	done
	if "$JVPN" audit --quiet --epsilon 50 "$LAB_DIR/client.jsonl" \
		"$LAB_DIR/gateway.jsonl" >"$LAB_DIR/flap$i-audit.txt" 2>&1; then
		audit_ok=$((audit_ok + 1))
	else
		sed 's/^/        audit: /' "$LAB_DIR/flap$i-audit.txt" | head -5
	fi
	done_run "flap$i"
done
echo "   loss_%: pings unanswered of those sent over the whole run; session: one session id"
echo "   in both logs and the client never TERMINATED; switches: the client's TransportSwitch"
echo "   events, forced/discretionary by their trigger_class; degraded: client entries into"
echo "   DEGRADED; tcp: how the connection ended (eof: every byte delivered, closed cleanly)."
echo "   jvpn audit passed on $audit_ok of $RUNS run(s)"
echo

# ---- 2. fail-back -------------------------------------------------------------------
echo "2. fail-back, $FAILBACK_RUNS run(s): a (Priority 0) cut silently, the session moves to b,"
echo "   a restored 3 s later; from the restore to the client's TransportSwitch back to a"
printf '   %3s  %11s  %-28s  %s\n' run failback_ms 'recovering (reason, class)' 'switch class'
fbs=()
for i in $(seq 1 "$FAILBACK_RUNS"); do
	if ! fresh; then
		printf '   %3d  no session within 10 s\n' "$i"
		fbs+=(-)
		done_run "fb$i"
		continue
	fi
	lab_ping $(((FAILBACK_WAIT_S + 8) * 20)) 0.05 "$LAB_DIR/fb$i-ping.txt"
	ping_pid=$LAB_PING_PID
	sleep 1
	lab_cut a
	if ! lab_wait_field client session.bound_transport b 5; then
		printf '   %3d  the session did not move to b\n' "$i"
		fbs+=(-)
		lab_restore a
		lab_stop_pid "$ping_pid" 2
		done_run "fb$i"
		continue
	fi
	sleep 3		# a stays dead a while, as an outage would
	trest=$(lab_ms)
	lab_restore a
	end=$((trest + FAILBACK_WAIT_S * 1000))
	tsw=
	while [ "$(lab_ms)" -lt $end ]; do
		tsw=$(lab_select client event_type=TransportSwitch new_transport=a \
			--after="$trest" | head -1)
		[ -n "$tsw" ] && break
		sleep 0.2
	done
	if [ -n "$tsw" ]; then
		fb=$((tsw - trest))
		why=$(lab_select client event_type=SessionStateChange new_state=RECOVERING \
			--after="$trest" --before=$((tsw + 1)) --print=reason_code,trigger_class | tail -1)
		class=$(lab_select client event_type=TransportSwitch new_transport=a \
			--after="$trest" --print=trigger_class | head -1)
	else
		fb=- why="no switch back within $FAILBACK_WAIT_S s" class=-
	fi
	fbs+=("$fb")
	printf '   %3d  %11s  %-28s  %s\n' "$i" "$fb" "$why" "$class"
	lab_stop_pid "$ping_pid" 2
	done_run "fb$i"
done
echo

failback=$($LABTOOL median "${fbs[@]}")
fb_max=-
for f in "${fbs[@]}"; do
	[ "$f" = - ] && continue
	{ [ "$fb_max" = - ] || [ "$f" -gt "$fb_max" ]; } && fb_max=$f
done
echo "goals: flap_ping_loss_pct <= 15, flap_session_survived = yes," \
	"flap_discretionary_switches <= $SWITCH_CAP (the per-minute cap, over a 60 s run);"
echo "       failback_ms about switching.failback_stable_ms (10000 in the fast profile) + 0..2 s"
echo
median1() {	# median with one decimal ("-" if none)
	python3 -c 'import statistics, sys
v = [float(x) for x in sys.argv[1:] if x != "-"]
print("%.1f" % statistics.median(v) if v else "-")' "$@"
}
echo "flap_ping_loss_pct=$(median1 "${losses[@]}")"
echo "flap_session_survived=$survived"
echo "flap_forced_switches=$($LABTOOL median "${forceds[@]}")"
echo "flap_discretionary_switches=$($LABTOOL median "${discs[@]}")"
echo "flap_tcp_survived=$tcp_all"
echo "failback_ms=$failback"
echo "failback_max_ms=$fb_max"
