# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# The cluster lab (PD-9, CL-6), on top of lablib.sh: two gateway nodes
# sharing a 3-member etcd cluster, and a client with one transport to each.
#
#   client ($LAB_ID-c) -- path a: pa 198.18.1.2 <-> 198.18.1.1 -- gateway gw1 ($LAB_ID-g)
#                      -- path b: pb 198.18.2.2 <-> 198.18.2.1 -- gateway gw2 ($LAB_ID-g2)
#   gw1 -- e1 198.18.11.2 <-> 198.18.11.1 --+
#                                           +-- etcd ($LAB_ID-e): members m0, m1, m2
#   gw2 -- e2 198.18.12.2 <-> 198.18.12.1 --+    client ports 2379, 2389, 2399
#
# Both gateways hold the same tunnel address (198.19.0.1): whichever owns
# the session answers the client's pings.  Every address lives only in the
# lab's namespaces; lab_cleanup removes them all (LAB_EXTRA_NS) and stops
# every process (etcd members included) it started.

CL_E1_G=198.18.11.2
CL_E1_E=198.18.11.1
CL_E2_G=198.18.12.2
CL_E2_E=198.18.12.1
CL_ETCD_PORTS="2379 2389 2399"
CL_LEASE_MS=${CL_LEASE_MS:-2000}
CL_TLS=${CL_TLS:-1}	# etcd over https with client certificates

# A CA, a certificate for the members (both client-facing addresses; etcd's
# own gateway connects to the member with it, so clientAuth too) and one
# client certificate per gateway node.
cluster_pki() {
	local d=$LAB_DIR/pki n
	mkdir -p "$d" && chmod 700 "$d"
	command -v openssl >/dev/null 2>&1 || lab_die "openssl is not installed (make deps)"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -keyout "$d/ca.key" -out "$d/ca.pem" \
		-subj /CN=jvpn-lab-ca >/dev/null 2>&1 || lab_die "openssl: CA"
	printf 'subjectAltName=IP:%s,IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' \
		$CL_E1_E $CL_E2_E >"$d/server.ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/server.key" -out "$d/server.csr" -subj /CN=etcd \
		>/dev/null 2>&1 &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/server.ext" -out "$d/server.pem" >/dev/null 2>&1 ||
		lab_die "openssl: server certificate"
	printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
	for n in gw1 gw2 lab; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$n" \
			>/dev/null 2>&1 &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" \
			-CAkey "$d/ca.key" -CAcreateserial -days 2 \
			-extfile "$d/client.ext" -out "$d/$n.pem" >/dev/null 2>&1 ||
			lab_die "openssl: client certificate $n"
	done
}

cluster_net() {
	NS_G2=$LAB_ID-g2
	NS_E=$LAB_ID-e
	LAB_EXTRA_NS=("$NS_G2" "$NS_E")
	for ns in "$NS_G" "$NS_G2" "$NS_C" "$NS_E"; do
		ip netns add "$ns" || lab_die "cannot create namespace $ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_C" link add pa type veth peer name pa netns "$NS_G" || lab_die "veth pa"
	ip -n "$NS_C" link add pb type veth peer name pb netns "$NS_G2" || lab_die "veth pb"
	ip -n "$NS_G" link add e1 type veth peer name e1 netns "$NS_E" || lab_die "veth e1"
	ip -n "$NS_G2" link add e2 type veth peer name e2 netns "$NS_E" || lab_die "veth e2"
	ip -n "$NS_C" addr add $LAB_A_C/24 dev pa
	ip -n "$NS_C" addr add $LAB_B_C/24 dev pb
	ip -n "$NS_G" addr add $LAB_A_G/24 dev pa
	ip -n "$NS_G2" addr add $LAB_B_G/24 dev pb
	ip -n "$NS_G" addr add $CL_E1_G/24 dev e1
	ip -n "$NS_E" addr add $CL_E1_E/24 dev e1
	ip -n "$NS_G2" addr add $CL_E2_G/24 dev e2
	ip -n "$NS_E" addr add $CL_E2_E/24 dev e2
	ip -n "$NS_C" link set pa up
	ip -n "$NS_C" link set pb up
	ip -n "$NS_G" link set pa up
	ip -n "$NS_G" link set e1 up
	ip -n "$NS_G2" link set pb up
	ip -n "$NS_G2" link set e2 up
	ip -n "$NS_E" link set e1 up
	ip -n "$NS_E" link set e2 up
}

# Three etcd members in the etcd namespace; returns once all are healthy.
cluster_etcd() {
	local i=0 port peers="" eps="" scheme=http tls=() ctl=()
	command -v etcd >/dev/null 2>&1 || lab_die "etcd is not installed (make deps: etcd-server)"
	if [ "$CL_TLS" = 1 ]; then
		cluster_pki
		scheme=https
		tls=(--cert-file "$LAB_DIR/pki/server.pem"
		     --key-file "$LAB_DIR/pki/server.key"
		     --client-cert-auth --trusted-ca-file "$LAB_DIR/pki/ca.pem")
		ctl=(--cacert "$LAB_DIR/pki/ca.pem" --cert "$LAB_DIR/pki/lab.pem"
		     --key "$LAB_DIR/pki/lab.key")
	fi
	CL_SCHEME=$scheme
	for port in $CL_ETCD_PORTS; do
		peers="${peers:+$peers,}m$i=http://127.0.0.1:$((port + 1))"
		eps="${eps:+$eps,}$scheme://$CL_E1_E:$port"
		i=$((i + 1))
	done
	i=0
	for port in $CL_ETCD_PORTS; do
		ip netns exec "$NS_E" etcd --name "m$i" \
			--data-dir "$LAB_DIR/etcd$i" \
			--listen-client-urls "$scheme://0.0.0.0:$port" \
			--advertise-client-urls "$scheme://$CL_E1_E:$port" \
			"${tls[@]}" \
			--listen-peer-urls "http://127.0.0.1:$((port + 1))" \
			--initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
			--initial-cluster "$peers" --initial-cluster-state new \
			--initial-cluster-token jvlab \
			>"$LAB_DIR/etcd$i.log" 2>&1 &
		lab_track $!
		i=$((i + 1))
	done
	i=0
	until ip netns exec "$NS_E" etcdctl --endpoints "$eps" "${ctl[@]}" \
		endpoint health >/dev/null 2>&1; do
		[ $i -ge 200 ] && { cat "$LAB_DIR"/etcd0.log >&2; lab_die "etcd did not become healthy"; }
		sleep 0.05
		i=$((i + 1))
	done
}

# cluster_configs: gw1.conf, gw2.conf (same key, same peer), client.conf.
cluster_configs() {
	local n ep port stores
	lab_configs
	for n in 1 2; do
		ep=$CL_E1_E
		[ $n = 2 ] && ep=$CL_E2_E
		stores=""
		for port in $CL_ETCD_PORTS; do
			stores="${stores:+$stores,}${CL_SCHEME:-http}://$ep:$port"
		done
		sed -e "s|^NodeId = .*|NodeId = gw$n|" \
		    -e "s|^EventLog = .*|EventLog = $LAB_DIR/gw$n.jsonl|" \
		    -e "s|^ControlSocket = .*|ControlSocket = $LAB_DIR/gw$n.sock|" \
		    -e "/^StateDir = /d" \
		    "$LAB_DIR/gateway.conf" >"$LAB_DIR/gw$n.conf"
		printf '\n[Cluster]\nStore = etcd:%s\nOwnerLeaseMs = %s\n' \
			"$stores" "$CL_LEASE_MS" >>"$LAB_DIR/gw$n.conf"
		[ "${CL_SCHEME:-http}" = https ] &&
			printf 'CaFile = %s\nCertFile = %s\nKeyFile = %s\n' \
				"$LAB_DIR/pki/ca.pem" "$LAB_DIR/pki/gw$n.pem" \
				"$LAB_DIR/pki/gw$n.key" >>"$LAB_DIR/gw$n.conf"
		chmod 600 "$LAB_DIR/gw$n.conf"
	done
}

# cluster_start_gw N: start gateway node N (1 or 2) in its namespace.
cluster_start_gw() {
	local ns=$NS_G
	[ "$1" = 2 ] && ns=$NS_G2
	rm -f "$LAB_DIR/gw$1.sock"
	ip netns exec "$ns" "$JVPN" up "$LAB_DIR/gw$1.conf" \
		2>>"$LAB_DIR/gw$1.log" &
	eval "CL_GW$1_PID=$!"
	lab_track $!
	lab_wait_socket "$LAB_DIR/gw$1.sock" "gw$1"
}

cluster_kill_gw() {	# N: kill -9
	local pid
	eval "pid=\$CL_GW$1_PID"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# cluster_partition N: gateway N loses etcd (both directions dropped in
# its namespace); the client still reaches it.
cluster_partition() {
	local ns=$NS_G net=198.18.11.0/24
	[ "$1" = 2 ] && { ns=$NS_G2; net=198.18.12.0/24; }
	ip netns exec "$ns" nft -f - <<EOF || lab_die "nft partition gw$1"
table inet jvpart {
	chain in {
		type filter hook input priority -10;
		ip saddr $net drop
	}
	chain out {
		type filter hook output priority -10;
		ip daddr $net drop
	}
}
EOF
}

cluster_heal() {
	local ns=$NS_G
	[ "$1" = 2 ] && ns=$NS_G2
	ip netns exec "$ns" nft delete table inet jvpart 2>/dev/null
	return 0
}

cluster_field() {	# N PATH
	"$JVPN" status --json --socket "$LAB_DIR/gw$1.sock" 2>/dev/null |
		$LABTOOL get "$2" 2>/dev/null
}
