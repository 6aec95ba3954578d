#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/peers.sh [BUILD_DIR] (root): jvpn beside wireguard-go and OpenVPN
# 2.6 (Debian packages), in ONE run, on the same two-path namespace lab
# (tests/lab/lablib.sh).  Not a test: it measures and prints.
#
# For the raw path a, then each tunnel in turn (only one runs at a time):
#
#  1. throughput: iperf3, TCP, 10 s, one stream, client -> gateway;
#  2. latency: 100 pings at 10 ms, median RTT;
#  3. latency under load: iperf3 TCP for LOAD_S s and, from 1 s in, a ping
#     every 50 ms on the same path: average and maximum RTT (the request
#     waits behind the data, the reply behind the ACKs);
#  4. failover (tunnels only): a UDP probe stream at 100 packets/s, echoed
#     by the gateway (not ping: iputils ping sends more slowly while its
#     echoes go unanswered), and one paced TCP connection (2 MB/s, 31 s)
#     through the tunnel; 1 s in, path a is cut silently (nftables drop at
#     both ends, as bench/failover.sh does) and stays cut for 30 s.  Gap =
#     from the send time of the first probe lost after the cut to the
#     answer to the first one delivered after it (30000 when none is
#     within 30 s); the TCP connection survived if it is the same
#     connection, every byte sent arrived, it was still moving data in its
#     last second and it closed cleanly, all before path a is restored.
#
# The peers: jvpn with the `fast` profile and two transports (a, b);
# wireguard-go with one peer whose endpoint is on path a (WireGuard has one
# endpoint per peer, no multipath: nothing in it moves to path b);
# OpenVPN 2.6 in UDP server/client mode with TLS (a CA generated here), two
# `remote` lines (path a first, then path b), `keepalive 1 5`, persist-tun,
# the client's tunnel address pinned by client-config-dir, and
# `disable-dco` (the kernel has no ovpn-dco module; so all three tunnels run
# in user space over a TUN device).
#
# Environment: PEERS (default "jvpn wggo openvpn": which tunnels to run),
# FAIL_S (default 30: seconds path a stays cut; the cap of the gap),
# FAILOVER (default 1; 0: no failover phase), LOAD_S (default 6: seconds
# of iperf3 in the loaded phase), BASE (a second jvpn build directory,
# measured as peer "base" just before jvpn, phases 1-3: a change against
# main in one run).
#
# Missing tools are installed from Debian (apt-get, non-interactive, no
# recommends: wireguard-tools would otherwise pull a kernel image).
# Everything runs inside two namespaces this script creates; the trap of
# lablib.sh stops every process it started (by pid) and deletes the
# namespaces on every exit path, Ctrl-C included.
#
# Ends with name=value lines (DESIGN.md "Performance"); "-" where a peer
# could not be measured (the prose says why).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/peerlib.sh"	# what gateway_loss.sh shares with this script
peer_build "${1:-build}"
PEERS=${PEERS:-jvpn wggo openvpn}

# ---- tools, from Debian only, installed only when missing ----------------------
want iperf3 iperf3
want wireguard-go wireguard-go
want wg wireguard-tools
want openvpn openvpn
want openssl openssl
want nft nftables
peer_install
command -v iperf3 >/dev/null || { echo "peers.sh: needs iperf3" >&2; exit 2; }
command -v nft >/dev/null || { echo "peers.sh: needs nft" >&2; exit 2; }

. "$here/tests/lab/lablib.sh"

PING_MS=10
FAIL_S=${FAIL_S:-30}	# how long path a stays cut
FAILOVER=${FAILOVER:-1}	# 0: no failover phase (throughput and RTT only)
LOAD_S=${LOAD_S:-6}	# seconds of iperf3 under the loaded-RTT pings
BASE=${BASE:-}		# another jvpn build, measured as peer "base"
if [ -n "$BASE" ]; then
	case $BASE in /*) ;; *) BASE=$here/$BASE ;; esac
	[ -x "$BASE/src/cli/jvpn" ] || { echo "peers.sh: no $BASE/src/cli/jvpn (BASE)" >&2; exit 2; }
fi
TCP_RATE=2000000	# bytes/s of the failover TCP stream
# the peers' ports and tunnel addresses: WG_*, OVPN_PORT, OV_* (peerlib.sh)

peer_init	# lab_init, the peers' names, their cleanup (bench/peerlib.sh)

# ---- measurement helpers (python, written into the lab's private dir) ---------
PT=$LAB_DIR/peertool.py
cat >"$PT" <<'PYEOF'
import json, select, socket, statistics, struct, sys, time

def now_ms():
    return int(time.time() * 1000)

BUCKET_MS = 50

def sink(port, out, deadline_s):
    """One connection; arrivals per 50 ms bucket; ends on EOF, error or
    the deadline, whichever comes first, and always writes its record."""
    end = time.time() + float(deadline_s)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen(1)
    ls.settimeout(15)
    rec = {"start_ms": now_ms(), "bucket_ms": BUCKET_MS, "bytes": 0,
           "result": "no connection", "buckets": []}
    try:
        conn, _ = ls.accept()
    except OSError:
        json.dump(rec, open(out, "w"))
        return
    rec["start_ms"] = start = now_ms()
    b = rec["buckets"]
    conn.settimeout(0.2)
    while True:
        if time.time() > end:
            rec["result"] = "deadline"
            break
        try:
            data = conn.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:
            rec["result"] = "error: %s" % e
            break
        if not data:
            rec["result"] = "eof"
            break
        i = (now_ms() - start) // BUCKET_MS
        while len(b) <= i:
            b.append(0)
        b[i] += len(data)
        rec["bytes"] += len(data)
    conn.close()
    json.dump(rec, open(out, "w"))

def source(host, port, seconds, rate, grace, out):
    """Paced sender that never blocks past its deadline: `rate` bytes/s for
    `seconds`, then FIN and wait up to `grace` s for the sink's close."""
    rec = {"sent": 0, "result": "?", "end_ms": 0}
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
    except OSError as e:
        rec["result"] = "connect: %s" % e
        json.dump(rec, open(out, "w"))
        return
    s.settimeout(0.05)
    chunk = b"p" * 8192
    t0 = time.time()
    end = t0 + float(seconds)
    try:
        while time.time() < end:
            if rec["sent"] < (time.time() - t0) * int(rate):
                try:
                    rec["sent"] += s.send(chunk)
                except socket.timeout:
                    pass
            else:
                time.sleep(0.005)
        rec["end_ms"] = now_ms()
        s.shutdown(socket.SHUT_WR)
        s.settimeout(float(grace))
        while s.recv(4096):
            pass
        rec["result"] = "eof"
    except socket.timeout:
        rec["result"] = "stalled"
    except OSError as e:
        rec["result"] = "error: %s" % e
    if not rec["end_ms"]:
        rec["end_ms"] = now_ms()
    s.close()
    json.dump(rec, open(out, "w"))

def tcp_verdict(sink_json, source_json, cut_ms):
    """survived(0/1) resume_ms(or -) and a few words."""
    k, s = json.load(open(sink_json)), json.load(open(source_json))
    b, start, bm = k["buckets"], k["start_ms"], k["bucket_ms"]
    # still moving data in the last second before the sender stopped
    lo = max(0, (s["end_ms"] - 1000 - start) // bm)
    hi = max(0, (s["end_ms"] - start) // bm)
    moving = any(b[lo:hi + 1])
    ok = (s["result"] == "eof" and k["result"] == "eof" and
          k["bytes"] == s["sent"] and moving)
    need = 500 // bm	# first 0.5 s with data in every bucket after the cut
    i, res = max(0, (int(cut_ms) - start) // bm), "-"
    while i + need <= len(b):
        if all(b[i:i + need]):
            res = str(max(0, start + i * bm - int(cut_ms)))
            break
        i += 1
    print("%d %s sender=%s receiver=%s sent=%d received=%d moving_at_end=%s"
          % (ok, res, s["result"].replace(" ", "_"),
             k["result"].replace(" ", "_"), s["sent"], k["bytes"],
             "yes" if moving else "no"))

def ping_parse(path):
    rep, sent = [], None
    for line in open(path):
        if "packets transmitted" in line:
            sent = int(line.split()[0])
        if "bytes from" not in line or not line.startswith("["):
            continue
        t = float(line[1:line.index("]")]) * 1000.0
        seq = rtt = None
        for w in line.split():
            if w.startswith("icmp_seq="):
                seq = int(w.split("=")[1])
            if w.startswith("time="):
                rtt = float(w.split("=")[1])
        if seq is not None:
            rep.append((seq, t, rtt))
    return sorted(rep), sent

def load_rtt(path):
    """avg max replies sent of a ping taken under load (ms)."""
    rep, sent = ping_parse(path)
    v = [r for _, _, r in rep if r is not None]
    print("%.3f %.3f %d %d" % (statistics.mean(v), max(v), len(v), sent or 0)
          if v else "- - 0 %d" % (sent or 0))

def median_rtt(path):
    rep, sent = ping_parse(path)
    v = [r for _, _, r in rep if r is not None]
    print("%.3f %d %d" % (statistics.median(v), len(v), sent or 0)
          if v else "- 0 %d" % (sent or 0))

def echo(port, deadline_s):
    """UDP reflector for the probe stream, until the deadline."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    s.settimeout(0.2)
    end = time.time() + float(deadline_s)
    while time.time() < end:
        try:
            d, peer = s.recvfrom(256)
            s.sendto(d, peer)
        except OSError:
            pass

def probe(host, port, interval_ms, count, out):
    """`count` UDP probes at a fixed schedule (one every interval_ms, never
    slowed down by missing answers, unlike ping), each echoed back; records
    per sequence number the send and the answer time (ms)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
    s.setblocking(False)
    n, iv = int(count), float(interval_ms) / 1000.0
    sent, got = [None] * n, [None] * n
    t0, i, stop = time.time(), 0, None
    pad = b"j" * 60
    while True:
        now = time.time()
        if i < n and now >= t0 + i * iv:
            sent[i] = now * 1000.0
            try:
                s.send(struct.pack("!I", i) + pad)
            except OSError:
                pass
            i += 1
            continue
        if i >= n:
            stop = stop or now + 1.0	# answers still in flight
            if now >= stop:
                break
        wait = (t0 + i * iv - now) if i < n else stop - now
        r, _, _ = select.select([s], [], [], max(0.0, wait))
        while r:
            try:
                d = s.recv(256)
            except OSError:
                break
            if len(d) >= 4:
                k = struct.unpack("!I", d[:4])[0]
                if k < n and got[k] is None:
                    got[k] = time.time() * 1000.0
    json.dump({"sent": sent, "got": got}, open(out, "w"))

def gap(path, cut_ms, cap_ms):
    """gap_ms recovered(0/1) runs lost_after_cut lost_at_end.  Gap: from
    the send time of the first probe lost after the cut to the answer of
    the first probe delivered after it; cap_ms if none came within it."""
    r = json.load(open(path))
    sent, got = r["sent"], r["got"]
    cut, cap = float(cut_ms), int(cap_ms)
    # a probe sent just before the cut may be the first one lost
    idx = [i for i, t in enumerate(sent) if t is not None and t >= cut - 20]
    lost = [i for i in idx if got[i] is None]
    runs, prev = 0, None
    for i in lost:
        if prev is None or i != prev + 1:
            runs += 1
        prev = i
    end = 0
    for i in reversed(idx):
        if got[i] is not None:
            break
        end += 1
    if not lost:
        print("0 1 0 0 0")
        return
    first = lost[0]
    back = next((j for j in range(first + 1, len(sent)) if got[j] is not None), None)
    g = None if back is None else int(got[back] - sent[first])
    if g is not None and g <= cap:
        print("%d 1 %d %d %d" % (g, runs, len(lost), end))
    else:
        print("%d 0 %d %d %d" % (cap, runs, len(lost), end))

cmd, a = sys.argv[1], sys.argv[2:]
{"sink": sink, "source": source, "tcp": tcp_verdict, "echo": echo,
 "probe": probe, "median-rtt": median_rtt, "load-rtt": load_rtt,
 "gap": gap}[cmd](*a)
PYEOF

peer_log() {	# prose, to stdout
	printf '%s\n' "$*"
}

# run CMD...: in the background, then wait for it.  A trapped signal
# interrupts `wait` at once; a foreground child that catches SIGINT itself
# (ping, python, iperf3) would instead make bash skip the INT trap (it
# assumes the child handled it), and the lab would not be cleaned up.
run() {
	"$@" &
	local p=$!
	lab_track $p
	wait $p
}

# iperf_server: a one-shot iperf3 server in the gateway namespace, up and
# listening (IPERF_SRV: its pid).
iperf_server() {
	ip netns exec "$NS_G" timeout 30 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	IPERF_SRV=$!
	lab_track $IPERF_SRV
	local i=0
	while ! ip netns exec "$NS_G" ss -Hltn 'sport = :5201' | grep -q 5201; do
		[ $i -ge 100 ] && break
		sleep 0.05
		i=$((i + 1))
	done
}

mbps() {	# iperf3 -J file: receiver Mbit/s, or -
	python3 -c 'import json,sys
try:
    print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception:
    print("-")' <"$1"
}

# iperf3 for 10 s, one TCP stream, client -> gateway: IPERF_MBPS (or -).
iperf() {	# destination
	iperf_server
	run ip netns exec "$NS_C" timeout 25 iperf3 -c "$1" -p 5201 -t 10 -J \
		>"$LAB_DIR/iperf.json" 2>/dev/null
	IPERF_MBPS=$(mbps "$LAB_DIR/iperf.json")
	wait $IPERF_SRV 2>/dev/null
}

# loaded DEST: RTT under load.  iperf3 (TCP, one stream, client ->
# gateway) fills the path for LOAD_S s; from 1 s in (past slow start) a
# ping every 50 ms (20 Hz) rides the same path until 0.5 s before iperf3
# ends.  The request queues behind the data, the reply behind the ACKs:
# what the pings see beyond the idle RTT is the queueing delay of the path.
# LOAD_OUT="avg_ms max_ms replies sent mbps".
loaded() {	# destination
	local n pid r
	n=$(((LOAD_S * 1000 - 1500) / 50))
	iperf_server
	ip netns exec "$NS_C" timeout $((LOAD_S + 15)) iperf3 -c "$1" -p 5201 \
		-t "$LOAD_S" -J >"$LAB_DIR/load.json" 2>/dev/null &
	pid=$!
	lab_track $pid
	sleep 1
	run ip netns exec "$NS_C" ping -D -n -c $n -i 0.05 -W 1 "$1" \
		>"$LAB_DIR/load-ping.txt" 2>&1
	wait $pid
	wait $IPERF_SRV 2>/dev/null
	r=$(python3 "$PT" load-rtt "$LAB_DIR/load-ping.txt")
	LOAD_OUT="$r $(mbps "$LAB_DIR/load.json")"
}

# 100 pings at 10 ms: RTT_OUT="median_ms replies sent".
rtt() {	# destination
	run ip netns exec "$NS_C" ping -D -n -c 100 -i 0.01 -W 1 "$1" >"$LAB_DIR/rtt.txt" 2>&1
	RTT_OUT=$(python3 "$PT" median-rtt "$LAB_DIR/rtt.txt")
}

# measure NAME DEST WHAT: throughput, RTT and RTT under load into
# NAME_mbps, NAME_rtt, NAME_lavg, NAME_lmax.
measure() {
	local m r
	busy "before $3"
	iperf "$2"
	m=$IPERF_MBPS
	rtt "$2"
	r=$RTT_OUT
	loaded "$2"
	printf -v "${1}_mbps" '%s' "$m"
	printf -v "${1}_rtt" '%s' "${r%% *}"
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" $LOAD_OUT
	printf -v "${1}_lavg" '%s' "$4"
	printf -v "${1}_lmax" '%s' "$5"
	[ "$7" != 0 ] && printf -v "${1}_llost" '%s' "$(($7 - $6))"
	peer_log "  throughput ($3, iperf3 TCP 10 s, 1 stream, client -> gateway): $m Mbit/s"
	peer_log "  RTT ($3, 100 pings at 10 ms): median ${r%% *} ms ($(echo "$r" | cut -d' ' -f2) of $(echo "$r" | cut -d' ' -f3) answered)"
	peer_log "  RTT under load ($3, pings at 20 Hz during iperf3 TCP ${LOAD_S} s at $8 Mbit/s):" \
		"avg $4 ms, max $5 ms ($6 of $7 answered)"
}

# wait_ping DEST TIMEOUT_S: until one ping through the tunnel is answered
# (a ping fails at once while there is no route yet: paced by the clock).
wait_ping() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		run ip netns exec "$NS_C" ping -n -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# failover NAME DEST: probe stream + TCP stream, silent cut of path a for
# FAIL_S s; sets NAME_gap, NAME_tcp and prints the prose.
failover() {
	local name=$1 dest=$2 n pid_k pid_s tcut g t
	peer_log "  failover: UDP probes every ${PING_MS} ms (echoed) and one TCP connection at 2 MB/s;" \
		"path a cut silently 1 s in, for ${FAIL_S} s"
	n=$(((FAIL_S + 1) * 1000 / PING_MS))
	rm -f "$LAB_DIR/$name-sink.json" "$LAB_DIR/$name-src.json"
	ip netns exec "$NS_G" python3 "$PT" sink 5001 "$LAB_DIR/$name-sink.json" \
		$((FAIL_S + 20)) &
	pid_k=$!
	lab_track $pid_k
	local i=0
	while ! ip netns exec "$NS_G" ss -Hltn 'sport = :5001' | grep -q 5001; do
		[ $i -ge 100 ] && lab_die "TCP sink did not start"
		sleep 0.05
		i=$((i + 1))
	done
	ip netns exec "$NS_C" python3 "$PT" source "$dest" 5001 $((FAIL_S + 1)) \
		$TCP_RATE 10 "$LAB_DIR/$name-src.json" &
	pid_s=$!
	lab_track $pid_s
	ip netns exec "$NS_G" python3 "$PT" echo 5002 $((FAIL_S + 10)) &
	local pid_e=$!
	lab_track $pid_e
	ip netns exec "$NS_C" python3 "$PT" probe "$dest" 5002 $PING_MS $n \
		"$LAB_DIR/$name-probe.json" &
	local pid_p=$!
	lab_track $pid_p
	sleep 1
	tcut=$(lab_now)
	lab_cut a
	wait $pid_p 2>/dev/null
	lab_stop_pid $pid_e 2
	# the TCP verdict is made while path a is still cut
	wait $pid_s 2>/dev/null
	wait $pid_k 2>/dev/null
	lab_restore a
	g=$(python3 "$PT" gap "$LAB_DIR/$name-probe.json" "$tcut" $((FAIL_S * 1000)) ||
		echo "- 0 0 0 0")
	t=$(python3 "$PT" tcp "$LAB_DIR/$name-sink.json" "$LAB_DIR/$name-src.json" "$tcut" 2>/dev/null ||
		echo "0 - no_record")
	printf -v "${name}_gap" '%s' "${g%% *}"
	printf -v "${name}_tcp" '%s' "${t%% *}"
	# shellcheck disable=SC2086
	set -- $g
	if [ "$2" = 1 ]; then
		peer_log "  failover: first lost to first delivered probe after the cut: $1 ms" \
			"($4 probes lost in $3 run(s) after the cut$( [ "$5" != 0 ] && echo ", the last $5 lost again"))"
	else
		peer_log "  failover: NOT recovered: no probe answered within ${FAIL_S} s of the first loss" \
			"(reported as $1 ms; $4 probes lost after the cut)"
	fi
	# shellcheck disable=SC2086
	set -- $t
	peer_log "  TCP stream (2 MB/s, one connection, ${FAIL_S} s cut): $( [ "$1" = 1 ] &&
		echo survived || echo 'did NOT survive'); resume after the cut: $2 ms; ${*:3}"
}

ratio() {	# a b
	python3 -c 'import sys
a, b = sys.argv[1], sys.argv[2]
try:
    print("%.2f" % (float(a) / float(b)))
except Exception:
    print("-")' "$1" "$2"
}

# Other work on the host skews throughput: say so rather than hide it.
busy() {
	local ns procs=0 pid comm where
	ns=$(ip netns list 2>/dev/null | grep -cv "^$LAB_ID-")
	while read -r pid comm; do
		case $comm in
		jvpn|iperf3|openvpn|wireguard-go|cc1|ninja|valgrind) ;;
		*) continue ;;
		esac
		where=$(ip netns identify "$pid" 2>/dev/null)
		[ "$where" = "$NS_C" ] || [ "$where" = "$NS_G" ] || procs=$((procs + 1))
	done < <(ps -eo pid=,comm=)
	[ "$ns" -gt 0 ] || [ "$procs" -gt 0 ] &&
		echo "  NOTE ($1): $ns other network namespace(s) and $procs jvpn/iperf3/openvpn/wireguard-go/cc1/ninja/valgrind process(es) not ours on this host; figures may be skewed"
	return 0
}

lab_net

echo "jvpn beside wireguard-go and OpenVPN: one run, one namespace lab, two veth paths"
echo "  path a 198.18.1.0/24, path b 198.18.2.0/24; one tunnel up at a time"
echo "  $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "  jvpn $(git -C "$here" describe --always --dirty 2>/dev/null || echo "(not a git tree: $here)"); wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null || echo '?');" \
	"$(openvpn --version 2>/dev/null | head -1 | cut -d' ' -f1-2); iperf3 $(dpkg-query -W -f='${Version}' iperf3 2>/dev/null || echo '?')"
busy "at the start"
echo

# ---- raw path ---------------------------------------------------------------
# shellcheck disable=SC2034 # *_lavg, *_lmax, *_llost: read as ${!v} at the end
raw_mbps=- raw_rtt=- raw_lavg=- raw_lmax=- raw_llost=-
echo "raw path a (no tunnel, $LAB_A_C -> $LAB_A_G):"
measure raw $LAB_A_G "raw path a"
echo

# ---- jvpn ---------------------------------------------------------------------
# jvpn_peer NAME BINARY: one jvpn build measured as peer NAME (the failover
# phase only for the build under test, and only with FAILOVER=1).
jvpn_peer() {
	local name=$1 sid sid2 hs
	JVPN=$2
	echo "$name ($("$JVPN" --version 2>/dev/null | head -1), $JVPN; policy profile fast, transports a (priority 0) and b, $LAB_TUN_C -> $LAB_TUN_G):"
	lab_keys
	lab_configs "version = 1.0" "profile = fast"
	lab_start_gateway
	lab_start_client
	if lab_wait_field client session.state ATTACHED 10; then
		measure "$name" $LAB_TUN_G "$name"
		if [ "$name" = jvpn ] && [ "$FAILOVER" = 1 ]; then
			sid=$(lab_field client session.session_id)
			hs=$(lab_count client SessionCreated)
			failover jvpn $LAB_TUN_G
			jvpn_hs=$(($(lab_count client SessionCreated) - hs))
			sid2=$(lab_field client session.session_id)
			echo "  session $( [ "$sid" = "$sid2" ] && echo unchanged || echo CHANGED) across the cut," \
				"now bound to '$(lab_bound)'; new handshakes after the cut: $jvpn_hs"
		fi
	else
		echo "  $name: no session within 10 s; client log:"
		sed 's/^/    /' "$LAB_DIR/client.log"
	fi
	lab_stop_daemons >/dev/null
	echo
}

# shellcheck disable=SC2034 # *_lavg, *_lmax, *_llost: read as ${!v} at the end
jvpn_mbps=- jvpn_rtt=- jvpn_gap=- jvpn_tcp=- jvpn_hs=- jvpn_lavg=- jvpn_lmax=- jvpn_llost=-
# shellcheck disable=SC2034 # *_lavg, *_lmax, *_llost: read as ${!v} at the end
base_mbps=- base_rtt=- base_lavg=- base_lmax=- base_llost=-
jvpn_bin=$JVPN
[ -n "$BASE" ] && jvpn_peer base "$BASE/src/cli/jvpn"
wanted jvpn && jvpn_peer jvpn "$jvpn_bin"
JVPN=$jvpn_bin

# ---- wireguard-go -------------------------------------------------------------
# shellcheck disable=SC2034 # *_lavg, *_lmax, *_llost: read as ${!v} at the end
wggo_mbps=- wggo_rtt=- wggo_gap=- wggo_tcp=- wggo_lavg=- wggo_lmax=- wggo_llost=-
if wanted wggo; then
echo "wireguard-go (userspace, TUN; one peer, endpoint $LAB_A_G:$WG_PORT on path a, $WG_TUN_C -> $WG_TUN_G):"
echo "  WireGuard has one endpoint per peer and no multipath: nothing in it can move to path b."
wg_ok=0
if ! command -v wireguard-go >/dev/null || ! command -v wg >/dev/null; then
	echo "  not measured: wireguard-go or wg is missing and could not be installed"
elif ! wg_start "$NS_G" "$WG_G" || ! wg_start "$NS_C" "$WG_C"; then
	echo "  not measured: wireguard-go did not start:"
	cat "$LAB_DIR/$WG_G.log" "$LAB_DIR/$WG_C.log" 2>/dev/null | sed 's/^/    /'
else
	wg_keys
	wg_conf_server && wg_conf_client && wg_ok=1
	if [ $wg_ok = 1 ] && wait_ping $WG_TUN_G 10; then
		measure wggo $WG_TUN_G "wireguard-go"
		if [ "$FAILOVER" = 1 ]; then
		failover wggo $WG_TUN_G
		echo "  after the cut: $(ip netns exec "$NS_C" wg show "$WG_C" endpoints | cut -f2) is still the only endpoint"
		fi
	else
		echo "  not measured: the wireguard-go tunnel did not pass a ping in 10 s"
		cat "$LAB_DIR/$WG_G.log" "$LAB_DIR/$WG_C.log" 2>/dev/null | sed 's/^/    /'
	fi
fi
for p in "${LAB_PIDS[@]}"; do lab_stop_pid "$p" 2; done
echo
fi

# ---- OpenVPN ------------------------------------------------------------------
# shellcheck disable=SC2034 # *_lavg, *_lmax, *_llost: read as ${!v} at the end
openvpn_mbps=- openvpn_rtt=- openvpn_gap=- openvpn_tcp=- openvpn_hs=- openvpn_lavg=- openvpn_lmax=- openvpn_llost=-
if wanted openvpn; then
ovdir=$LAB_DIR/ovpn
echo "OpenVPN ($(openvpn --version 2>/dev/null | head -1 | cut -d' ' -f2), UDP, TLS with a CA made here, server mode; client with" \
	"remote $LAB_A_G then remote $LAB_B_G, keepalive 1 5, $OV_TUN_C -> $OV_TUN_G):"
if ! command -v openvpn >/dev/null || ! command -v openssl >/dev/null; then
	echo "  not measured: openvpn or openssl is missing and could not be installed"
elif ! ov_pki; then
	echo "  not measured: generating the CA and certificates with openssl failed"
else
	ip netns exec "$NS_G" openvpn --config "$ovdir/server.conf" --log "$ovdir/server.log" &
	lab_track $!
	sleep 0.5
	ov_client
	if [ "$(ov_count "$ovdir/client.log" 'Initialization Sequence Completed')" != 0 ] &&
		wait_ping $OV_TUN_G 10; then
		measure openvpn $OV_TUN_G "OpenVPN"
		if [ "$FAILOVER" = 1 ]; then
		c0=$(ov_count "$ovdir/client.log" 'Initialization Sequence Completed')
		t0=$(ov_count "$ovdir/client.log" 'Peer Connection Initiated')
		failover openvpn $OV_TUN_G
		openvpn_hs=$(($(ov_count "$ovdir/client.log" 'Peer Connection Initiated') - t0))
		restarts=$(ov_count "$ovdir/client.log" 'SIGUSR1\[soft,ping-restart\]')
		cn=$(($(ov_count "$ovdir/client.log" 'Initialization Sequence Completed') - c0))
		last=$(grep -o 'Peer Connection Initiated with \[AF_INET\][0-9.]*:[0-9]*' \
			"$ovdir/client.log" | tail -1 | sed 's/.*\]//')
		echo "  after the cut: $restarts ping-restart(s), $openvpn_hs new TLS session(s)" \
			"(full renegotiation), $cn reconnection(s) completed; last server: ${last:-none}"
		fi
	else
		echo "  not measured: the OpenVPN client did not connect in 30 s; the end of its log, then the server's:"
		tail -15 "$ovdir/client.log" 2>/dev/null | sed 's/^/    client: /'
		tail -15 "$ovdir/server.log" 2>/dev/null | sed 's/^/    server: /'
	fi
fi
for p in "${LAB_PIDS[@]}"; do lab_stop_pid "$p" 5; done
echo
fi

busy "at the end"
echo "goals (DESIGN.md, issue 5): jvpn failover <= 500 ms with the TCP stream surviving;"
echo "throughput and RTT are reported beside the raw path and the two peers, same run."
echo
echo "raw_mbps=$raw_mbps"
echo "jvpn_mbps=$jvpn_mbps"
echo "wggo_mbps=$wggo_mbps"
echo "openvpn_mbps=$openvpn_mbps"
echo "jvpn_vs_wggo_throughput_ratio=$(ratio "$jvpn_mbps" "$wggo_mbps")"
echo "jvpn_vs_openvpn_throughput_ratio=$(ratio "$jvpn_mbps" "$openvpn_mbps")"
echo "raw_rtt_ms=$raw_rtt"
echo "jvpn_rtt_ms=$jvpn_rtt"
echo "wggo_rtt_ms=$wggo_rtt"
echo "openvpn_rtt_ms=$openvpn_rtt"
echo "jvpn_failover_ms=$jvpn_gap"
echo "wggo_failover_ms=$wggo_gap"
echo "openvpn_failover_ms=$openvpn_gap"
echo "jvpn_tcp_survived=$jvpn_tcp"
echo "wggo_tcp_survived=$wggo_tcp"
echo "openvpn_tcp_survived=$openvpn_tcp"
echo "jvpn_failover_handshakes=$jvpn_hs"
echo "openvpn_failover_handshakes=$openvpn_hs"
for p in raw $([ -n "$BASE" ] && echo base) jvpn wggo openvpn; do
	v=${p}_lavg
	echo "loaded_rtt_avg_ms_$p=${!v}"
	v=${p}_lmax
	echo "loaded_rtt_max_ms_$p=${!v}"
	v=${p}_llost
	echo "loaded_rtt_lost_$p=${!v}"
done
[ -n "$BASE" ] && echo "base_mbps=$base_mbps" && echo "base_rtt_ms=$base_rtt"
