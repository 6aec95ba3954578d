#!/bin/bash
# SPDX-License-Identifier: MIT
# The metrics endpoint (docs/metrics.md) scraped by a real Prometheus:
# both daemons serve MetricsListen on their namespace's loopback; the
# scrapes pass `promtool check metrics`; other paths and methods get 404
# and 405; a Prometheus in the gateway's namespace scrapes the gateway
# every second; path a is cut, and the gateway's switch counter, read
# back through Prometheus' HTTP API, shows the forced switch with its
# labels.  Prometheus runs under the lab's cleanup (its pid tracked, its
# storage in the lab's directory), so it ends on every exit path.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
[ "$(id -u)" -eq 0 ] || tap_skip_all 20 "not root (the lab needs network namespaces)"
for t in curl prometheus promtool; do
	command -v "$t" >/dev/null 2>&1 ||
		tap_skip_all 20 "$t is not installed (tools/deps.sh)"
done
. "$HERE/lablib.sh"

# Fresh namespaces: every loopback port is free.
MX_PORT=9586
PROM_PORT=9090

# mx_curl SIDE ARGS...: curl inside SIDE's namespace, bounded
mx_curl() {
	local ns=$NS_G
	[ "$1" = client ] && ns=$NS_C
	shift
	ip netns exec "$ns" curl -s --max-time 3 "$@"
}

mx_ping() {
	ip netns exec "$NS_C" ping -n -c 3 -i 0.2 -W 1 -q "$LAB_TUN_G" \
		>/dev/null 2>&1
}

# prom_query EXPR: "labels-as-json value" per series of an instant query
prom_query() {
	ip netns exec "$NS_G" curl -s --max-time 3 -G \
		--data-urlencode "query=$1" \
		"http://127.0.0.1:$PROM_PORT/api/v1/query" |
	python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for s in r.get("data", {}).get("result", []):
    print(json.dumps(s["metric"], sort_keys=True), s["value"][1])'
}

# prom_wait EXPR VALUE TIMEOUT_S: until the query's first value is VALUE
prom_wait() {
	local i=0 v
	while [ $i -lt $(($3 * 4)) ]; do
		v=$(prom_query "$1" | head -1 | awk '{print $NF}')
		[ "$v" = "$2" ] && return 0
		sleep 0.25
		i=$((i + 1))
	done
	lab_log "metrics: $1 is '${v:-}', not '$2', after $3 s"
	return 1
}

tap_plan 20
lab_init
lab_net
lab_keys
lab_configs
# the gateway on IPv4 loopback, the client on IPv6's
sed -i "/^ControlSocket = /a MetricsListen = 127.0.0.1:$MX_PORT" \
	"$LAB_DIR/gateway.conf"
sed -i "/^ControlSocket = /a MetricsListen = [::1]:$MX_PORT" \
	"$LAB_DIR/client.conf"
CL_URL="http://[::1]:$MX_PORT/metrics"
lab_start_gateway
lab_start_client
tap_check "client reaches ATTACHED on a" lab_wait_field client session.bound_transport a 10

hdr=$(mx_curl gateway -o "$LAB_DIR/scrape.txt" -D - \
	"http://127.0.0.1:$MX_PORT/metrics" | tr -d '\r')
tap_check "GET /metrics: 200, text format 0.0.4" \
	grep -q "^Content-Type: text/plain; version=0.0.4" <<<"$hdr"
tap_eq "GET / is 404" 404 \
	"$(mx_curl gateway -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MX_PORT/")"
tap_eq "HEAD /metrics is 200" 200 \
	"$(mx_curl gateway -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$MX_PORT/metrics")"
tap_eq "POST /metrics is 405" 405 \
	"$(mx_curl gateway -o /dev/null -w '%{http_code}' -X POST -d x=1 \
	   "http://127.0.0.1:$MX_PORT/metrics")"
out=$(promtool check metrics <"$LAB_DIR/scrape.txt" 2>&1)
tap_eq "promtool check metrics: the gateway's scrape has no problems" "" "$out"
out=$(mx_curl client "$CL_URL" |
      promtool check metrics 2>&1)
tap_eq "promtool check metrics: the client's scrape has no problems" "" "$out"

mkdir -p "$LAB_DIR/prom"
cat >"$LAB_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: jvpn
    static_configs:
      - targets: ['127.0.0.1:$MX_PORT']
EOF
ip netns exec "$NS_G" prometheus --config.file="$LAB_DIR/prometheus.yml" \
	--storage.tsdb.path="$LAB_DIR/prom" \
	--web.listen-address="127.0.0.1:$PROM_PORT" \
	>"$LAB_DIR/prometheus.log" 2>&1 &
PROM_PID=$!
lab_track $PROM_PID
tap_check "Prometheus scrapes the gateway (up == 1)" \
	prom_wait 'up{job="jvpn"}' 1 30
# A second gateway whose MetricsListen is taken (by Prometheus) does not
# start: one line naming the address, exit 1, before any TUN exists.
sed -e "s|^MetricsListen = .*|MetricsListen = 127.0.0.1:$PROM_PORT|" \
    -e "s|^Name = .*|Name = jvg9|" -e "s|^ListenPort = .*|ListenPort = 51899|" \
    -e "s|^EventLog = .*|EventLog = off|" -e "s|^StateDir = .*|StateDir = off|" \
    -e "s|^ControlSocket = .*|ControlSocket = $LAB_DIR/gw9.sock|" \
    "$LAB_DIR/gateway.conf" >"$LAB_DIR/gw9.conf"
chmod 600 "$LAB_DIR/gw9.conf"
out=$(ip netns exec "$NS_G" timeout 10 "$JVPN" up "$LAB_DIR/gw9.conf" 2>&1)
rc=$?
tap_eq "a MetricsListen in use: exit 1 and one line" \
	"1 jvpn up: MetricsListen 127.0.0.1:$PROM_PORT: Address already in use" \
	"$rc $out"
sel="jvpn_peer_switches_total{trigger_class=\"forced\",peer=\"$LAB_CL_PUB\"}"
before=$(prom_query "$sel" | awk '{print $NF}')

lab_cut a
tap_check "the session moves to path b" lab_wait_field client session.bound_transport b 5
want=$(( ${before:-0} + 1 ))
tap_check "Prometheus shows the switch (forced: ${before:-?} -> $want)" \
	prom_wait "$sel" "$want" 15
series=$(prom_query "$sel" | head -1)
tap_eq "the series' labels" \
	"{\"__name__\": \"jvpn_peer_switches_total\", \"instance\": \"127.0.0.1:$MX_PORT\", \"interface\": \"jvg0\", \"job\": \"jvpn\", \"peer\": \"$LAB_CL_PUB\", \"trigger_class\": \"forced\"} $want" \
	"$series"
tap_eq "the client counts its own switch (forced 1)" \
	"jvpn_peer_switches_total{interface=\"jvc0\",peer=\"$LAB_GW_PUB\",trigger_class=\"forced\"} 1" \
	"$(mx_curl client "$CL_URL" |
	   grep '^jvpn_peer_switches_total{.*forced')"
lab_restore a

# A reload cannot move the endpoint: the listener is opened once.
cp "$LAB_DIR/gateway.conf" "$LAB_DIR/gateway.orig"
sed -i "s|^MetricsListen = .*|MetricsListen = 127.0.0.1:$((MX_PORT + 1))|" \
	"$LAB_DIR/gateway.conf"
line=$(grep -n '^MetricsListen' "$LAB_DIR/gateway.conf" | cut -d: -f1)
err=$("$JVPN" reload --socket "$LAB_DIR/gateway.sock" 2>&1 >/dev/null)
tap_check "a reload that moves MetricsListen is refused, naming line $line ($err)" \
	grep -q "MetricsListen (line $line) needs a restart (nothing changed)" <<<"$err"
cp "$LAB_DIR/gateway.orig" "$LAB_DIR/gateway.conf"
tap_eq "... and the endpoint still answers where it was" 200 \
	"$(mx_curl gateway -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MX_PORT/metrics")"
bound=$(mx_curl gateway "http://127.0.0.1:$MX_PORT/metrics" |
	grep -c '^jvpn_transport_role{.*role="bound"} 1$')
tap_eq "the gateway shows one bound transport" 1 "$bound"

# Bounded: a client holding its whole share of connections (8 from one
# address) gets the endpoint refused to the next, never the tunnel.
lab_stop_pid "$PROM_PID" 5
ip netns exec "$NS_G" python3 -c '
import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
print("held", flush=True)
time.sleep(20)' "$MX_PORT" >"$LAB_DIR/holder.txt" 2>&1 &
holder=$!
lab_track $holder
i=0
while ! grep -qs held "$LAB_DIR/holder.txt" && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
# (the listen backlog is FIFO: the eight are accepted before the ninth)
tap_eq "a ninth connection from the same address is refused" 000 \
	"$(mx_curl gateway -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MX_PORT/metrics")"
tap_check "the tunnel carries traffic meanwhile" mx_ping
lab_stop_pid "$holder" 2
ok=0
for i in $(seq 1 40); do
	code=$(mx_curl gateway -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$MX_PORT/metrics")
	[ "$code" = 200 ] && { ok=1; break; }
	sleep 0.05
done
tap_eq "served again once they are closed" 1 "$ok"
bad=$(lab_stop_daemons)
tap_eq "daemons stop cleanly, no sanitizer report in their logs" "" "$bad"
tap_done
