# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables used by, or set in, the sourcing scripts
#
# bench/peerlib.sh: what bench/peers.sh and bench/gateway_loss.sh share to
# run wireguard-go and OpenVPN 2.6 beside jvpn in the namespace lab of
# tests/lab/lablib.sh: the jvpn binary and root check, the Debian packages
# installed when missing, the lab with the peers' cleanup, and the peers'
# set-up (wireguard-go start and config; OpenVPN PKI, server and client
# configs, client start).  Sourced by both, with `here` set to the top of
# the tree; the peer functions need the lab (peer_init, lab_net) first.

PEER_SELF=${0##*/}	# the script's name, for its messages

WG_PORT=51821
OVPN_PORT=1194
WG_TUN_G=198.19.1.1
WG_TUN_C=198.19.1.2
OV_TUN_G=198.19.2.1
OV_TUN_C=198.19.2.2

# peer_build [BUILD_DIR]: JVPN (exported) from the build directory (default
# build, relative to the tree); exits 2 without it or without root.
peer_build() {
	build=${1:-build}
	case $build in /*) ;; *) build=$here/$build ;; esac
	JVPN=$build/src/cli/jvpn
	export JVPN
	[ -x "$JVPN" ] || { echo "$PEER_SELF: no $JVPN (build first: make build)" >&2; exit 2; }
	[ "$(id -u)" -eq 0 ] || { echo "$PEER_SELF: needs root (network namespaces)" >&2; exit 2; }
}

# ---- tools, from Debian only, installed only when missing ----------------------
need_pkgs=()
want() {	# command package
	command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2")
}

# peer_install: the packages `want` found missing (apt-get, non-interactive,
# no recommends: wireguard-tools would otherwise pull a kernel image).
peer_install() {
	[ ${#need_pkgs[@]} -gt 0 ] || return 0
	echo "$PEER_SELF: installing ${need_pkgs[*]} (apt-get)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1
		  apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1; } ||
		echo "$PEER_SELF: apt-get install ${need_pkgs[*]} failed" >&2
}

# peer_init: lab_init, the peers' interface names, the cleanup trap.
peer_init() {
	# shellcheck disable=SC2119
	lab_init
	WG_C=${LAB_ID}wc	# wireguard-go's UAPI sockets live in /var/run/wireguard,
	WG_G=${LAB_ID}wg	# shared by every namespace: names unique to this run
	OV_C=${LAB_ID}oc
	OV_G=${LAB_ID}og
	trap peer_cleanup EXIT
}

peer_cleanup() {
	lab_cleanup
	local rc=$?
	# wireguard-go removes its socket on SIGTERM; not if it had to be killed
	rm -f "/var/run/wireguard/$WG_C.sock" "/var/run/wireguard/$WG_G.sock"
	return $rc
}

# wanted PEER: PEER is in PEERS.
wanted() {
	case " $PEERS " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---- wireguard-go ------------------------------------------------------------
# One peer: the gateway listens on WG_PORT, the client's endpoint is on
# path a; tunnel WG_TUN_C -> WG_TUN_G.

wg_start() {	# ns ifname -> pid in WG_PID
	rm -f "/var/run/wireguard/$2.sock"
	ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error \
		wireguard-go -f "$2" >>"$LAB_DIR/$2.log" 2>&1 &
	WG_PID=$!
	lab_track $WG_PID
	local i=0
	while [ ! -S "/var/run/wireguard/$2.sock" ]; do
		[ $i -ge 100 ] && return 1
		kill -0 $WG_PID 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
}

# wg_keys: both private keys and the gateway's config file (wg-g.conf).
wg_keys() {
	(umask 077; wg genkey >"$LAB_DIR/wg-g.key"; wg genkey >"$LAB_DIR/wg-c.key"
	 printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n' \
		"$(cat "$LAB_DIR/wg-g.key")" $WG_PORT "$(wg pubkey <"$LAB_DIR/wg-c.key")" \
		$WG_TUN_C >"$LAB_DIR/wg-g.conf")
}

# wg_conf_server, wg_conf_client: configure the running wireguard-go of
# each side, address it and bring it up.
wg_conf_server() {
	ip netns exec "$NS_G" wg setconf "$WG_G" "$LAB_DIR/wg-g.conf" &&
	ip -n "$NS_G" addr add $WG_TUN_G/24 dev "$WG_G" &&
	ip -n "$NS_G" link set "$WG_G" up
}

wg_conf_client() {
	ip netns exec "$NS_C" wg set "$WG_C" private-key "$LAB_DIR/wg-c.key" \
		peer "$(wg pubkey <"$LAB_DIR/wg-g.key")" endpoint "$LAB_A_G:$WG_PORT" \
		allowed-ips 198.19.1.0/24 &&
	ip -n "$NS_C" addr add $WG_TUN_C/24 dev "$WG_C" &&
	ip -n "$NS_C" link set "$WG_C" up
}

# ---- OpenVPN -------------------------------------------------------------------
# UDP, TLS with a CA made here, tls-crypt, server mode; the client with
# remote path a then path b, keepalive 1 5, persist-tun, persist-key, its
# address pinned by client-config-dir, disable-dco.  Files in $ovdir.

ov_pki() {	# CA, certificates, configs
	mkdir -p "$ovdir/ccd" && chmod 700 "$ovdir" || return 1
	(cd "$ovdir" || exit 1
	 umask 077
	 ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	 # shellcheck disable=SC2086
	 openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=jvpn-bench-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign &&
	 printf 'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' >srv.ext &&
	 printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n' >cli.ext &&
	 for who in srv cli; do
		# shellcheck disable=SC2086
		openssl req $ec -keyout $who.key -out $who.csr -subj "/CN=lab-$who" &&
		openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile $who.ext -out $who.crt || exit 1
	 done &&
	 openvpn --genkey secret tc.key) >/dev/null 2>&1 || return 1
	echo "ifconfig-push $OV_TUN_C 255.255.255.0" >"$ovdir/ccd/lab-cli"
	cat >"$ovdir/server.conf" <<EOF
dev $OV_G
dev-type tun
proto udp4
port $OVPN_PORT
multihome
topology subnet
server 198.19.2.0 255.255.255.0
client-config-dir $ovdir/ccd
ca $ovdir/ca.crt
cert $ovdir/srv.crt
key $ovdir/srv.key
dh none
tls-crypt $ovdir/tc.key
keepalive 1 5
disable-dco
verb 3
EOF
	cat >"$ovdir/client.conf" <<EOF
client
dev $OV_C
dev-type tun
proto udp4
remote $LAB_A_G $OVPN_PORT
remote $LAB_B_G $OVPN_PORT
nobind
persist-key
persist-tun
remote-cert-tls server
ca $ovdir/ca.crt
cert $ovdir/cli.crt
key $ovdir/cli.key
tls-crypt $ovdir/tc.key
keepalive 1 5
disable-dco
verb 3
EOF
}

ov_count() {	# file pattern: how many lines match (0 if no file yet)
	local n
	n=$(grep -c "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# ov_client: the client started (log client.log), then up to 30 s for its
# "Initialization Sequence Completed".
ov_client() {
	ip netns exec "$NS_C" openvpn --config "$ovdir/client.conf" --log "$ovdir/client.log" &
	lab_track $!
	local i=0
	while [ "$(ov_count "$ovdir/client.log" 'Initialization Sequence Completed')" = 0 ] &&
		[ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
