#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The operator's walkthrough of docs/operations.md, run for real: a Debian 12
# container booted with systemd as PID 1 (systemd-nspawn, private network),
# jvpn installed into it with `make install`, a gateway and a client started
# with `systemctl enable --now jvpn@IFACE`, then `jvpn show`, a metrics
# scrape, a reload that adds a peer, and the journal.  Every command is
# printed with its output ("$ command" then what it said), which is what
# docs/operations.md quotes.
#
#   tools/walkthrough.sh [ROOTFS]      (root; default /var/tmp/jvpn-walk)
#
# The first run builds the root file system with debootstrap from Debian's
# mirror (a few minutes); later runs reuse it.  Not part of `make test`: it
# needs the mirror and a host whose kernel lets systemd-nspawn boot.  The
# client lives in a network namespace inside the container, joined by a
# veth: every address is inside the container.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
walk=${1:-/var/tmp/jvpn-walk}
root=$walk/root
build=$here/build-walk
pid=""

die() { printf 'walkthrough: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (systemd-nspawn, TUN)"
for t in debootstrap systemd-nspawn nsenter meson ninja; do
	command -v "$t" >/dev/null || die "missing $t (apt-get install debootstrap systemd-container)"
done

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		nsenter -t "$pid" -a systemctl poweroff >/dev/null 2>&1 || kill "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

if [ ! -x "$root/usr/lib/systemd/systemd" ]; then
	mkdir -p "$walk"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,iproute2,procps,curl,iputils-ping,libsodium23,libinih1,libjansson4,libmnl0,libsqlite3-0,libcurl4,libmicrohttpd12,libsystemd0,man-db \
		bookworm "$root" http://deb.debian.org/debian >"$walk/debootstrap.log" 2>&1 ||
		die "debootstrap failed: $walk/debootstrap.log"
	echo jvpnbox >"$root/etc/hostname"
fi

# The package as a distribution would build it: prefix /usr.
[ -f "$build/build.ninja" ] || meson setup "$build" --prefix=/usr >/dev/null
ninja -C "$build" >/dev/null
DESTDIR=$root meson install -C "$build" --quiet >/dev/null

systemd-nspawn -q -D "$root" -b --console=pipe --private-network \
	--capability=CAP_NET_ADMIN --bind=/dev/net/tun --register=no \
	--keep-unit >"$walk/console.log" 2>&1 &
nspawn=$!
for _ in $(seq 100); do
	pid=$(pgrep -P "$nspawn" -x systemd || true)
	[ -n "$pid" ] && nsenter -t "$pid" -a systemctl is-system-running 2>/dev/null |
		grep -Eq 'running|degraded' && break
	sleep 0.2
done
[ -n "$pid" ] || die "the container did not boot ($walk/console.log)"

in_box() { nsenter -t "$pid" -a "$@"; }
# "$ cmd" and its output, as an operator would see it.
show() {
	printf '\n$ %s\n' "$*"
	in_box sh -c "$*" 2>&1 || true
}

# The network a real deployment has: here a veth between the container and
# a namespace for the client (198.18.0.0/15, benchmarking addresses).
in_box sh -e -c '
	ip link set lo up
	ip netns add client
	ip link add gw-eth type veth peer name cl-eth netns client
	ip addr add 198.18.7.1/24 dev gw-eth; ip link set gw-eth up
	ip -n client addr add 198.18.7.2/24 dev cl-eth
	ip -n client link set cl-eth up; ip -n client link set lo up
	umask 077; mkdir -p /etc/jvpn
	jvpn genkey > /etc/jvpn/jv0.key; jvpn genkey > /etc/jvpn/jvc0.key
	jvpn genkey > /etc/jvpn/later.key
	gw=$(jvpn pubkey < /etc/jvpn/jv0.key)
	cl=$(jvpn pubkey < /etc/jvpn/jvc0.key)
	cat > /etc/jvpn/jv0.conf <<EOF
[Interface]
Role = gateway
PrivateKeyFile = /etc/jvpn/jv0.key
Address = 10.77.0.1/24
ListenAddress = 198.18.7.1
ListenPort = 51820
MetricsListen = 127.0.0.1:9586

[Peer]
# laptop-1
PublicKey = $cl
AllowedIPs = 10.77.0.2/32
EOF
	cat > /etc/jvpn/jvc0.conf <<EOF
[Interface]
Role = client
PrivateKeyFile = /etc/jvpn/jvc0.key
Address = 10.77.0.2/24

[Peer]
PublicKey = $gw
AllowedIPs = 10.77.0.0/24
Endpoint = 198.18.7.1:51820

[Transport]
Name = wired
EOF
	# the client runs in its namespace: one drop-in line
	mkdir -p /etc/systemd/system/jvpn@jvc0.service.d
	printf "[Service]\nNetworkNamespacePath=/run/netns/client\n" \
		> /etc/systemd/system/jvpn@jvc0.service.d/netns.conf
	systemctl daemon-reload
'

echo "== install (make install DESTDIR=... with --prefix=/usr)"
show 'jvpn --version'
show 'ls /usr/bin/jvpn /usr/lib/systemd/system/jvpn@.service /usr/share/man/man8/jvpn.8 /usr/share/bash-completion/completions/jvpn'

echo "== start"
show 'systemctl enable --now jvpn@jv0'
show 'systemctl enable --now jvpn@jvc0'
for _ in $(seq 50); do
	in_box jvpn status jvc0 --json 2>/dev/null | grep -q '"state": *"ATTACHED"' && break
	sleep 0.2
done
show 'systemctl status jvpn@jv0 --no-pager --lines=0'
show 'ip netns exec client ping -c 3 -i 0.2 10.77.0.1'
show 'jvpn show'

echo "== metrics"
show 'curl -s 127.0.0.1:9586/metrics | grep -E "^jvpn_(peer_state|handshakes_responded_total|peer_(receive|transmit)_bytes_total)" | grep -v " 0$" | head -12'

if in_box test -x /usr/bin/prometheus; then
	echo "== a real Prometheus scraping it"
	in_box sh -c 'mkdir -p /tmp/prom && printf "%s\n" \
		"global: { scrape_interval: 1s }" "scrape_configs:" \
		"  - job_name: jvpn" \
		"    static_configs: [ { targets: [\"127.0.0.1:9586\"] } ]" \
		> /tmp/prom/prometheus.yml
		systemd-run -q --unit=walk-prometheus /usr/bin/prometheus \
			--config.file=/tmp/prom/prometheus.yml \
			--storage.tsdb.path=/tmp/prom/data \
			--web.listen-address=127.0.0.1:9090'
	q='http://127.0.0.1:9090/api/v1/query?query=jvpn_peer_state%3D%3D1'
	for _ in $(seq 150); do
		in_box curl -s "$q" 2>/dev/null | grep -q ATTACHED && break
		sleep 0.2
	done
	show "curl -s '$q'; echo"
	in_box systemctl stop walk-prometheus >/dev/null 2>&1 || true
fi

echo "== reload: add a peer"
show 'printf "\n[Peer]\n# laptop-2\nPublicKey = %s\nAllowedIPs = 10.77.0.3/32\n" "$(jvpn pubkey < /etc/jvpn/later.key)" >> /etc/jvpn/jv0.conf'
show 'systemctl reload jvpn@jv0'
show 'journalctl -b -u jvpn@jv0 --no-pager -o cat -n 4'
show 'jvpn show jv0'
show 'jvpn events jv0 -n 4 --format text'

echo "== a broken reload changes nothing"
show 'echo "Bogus = 1" >> /etc/jvpn/jv0.conf; jvpn reload jv0; echo "exit $?"'
show 'systemctl reload jvpn@jv0; echo "exit $?"'
show 'journalctl -b -u jvpn@jv0 --no-pager -o cat -n 5'
show 'sed -i "/^Bogus/d" /etc/jvpn/jv0.conf'

echo "== warnings and errors only (journald priorities)"
show 'journalctl -b -u "jvpn@*" --no-pager -o cat -p warning'

echo "== stop"
show 'systemctl stop jvpn@jvc0 jvpn@jv0'
show 'systemctl show jvpn@jvc0 -p ExecMainStatus -p Result'
# the next boot of this container must not start them before the
# namespace and addresses above exist
in_box systemctl disable jvpn@jvc0 jvpn@jv0 >/dev/null 2>&1
