# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# The network lab, as shell functions for the lab, the integration tests
# and the benchmarks to source (POSIX sh; needs root, iproute2, nftables,
# tc).  Two network namespaces, a client and a gateway, joined by two
# independent veth links:
#
#   $JV_NS_CLI                                   $JV_NS_GW
#   jva 10.201.1.1/24  <---- path A ---->  jva 10.201.1.2/24
#   jvb 10.201.2.1/24  <---- path B ---->  jvb 10.201.2.2/24
#
# and the faults the lab injects on one path (A or B):
#
#   jv_lab_cut P [silent|down]  cut it.  silent (default): an nftables drop
#                               at the ingress of both ends, so packets
#                               vanish in both directions and no socket
#                               ever sees an error (a dead middlebox);
#                               down: the link goes down on both ends
#                               (the client gets ENETUNREACH at once).
#   jv_lab_restore P            undo jv_lab_cut (both kinds).
#   jv_lab_loss P N             drop N% of packets at the ingress of both
#                               ends (nftables numgen random); 0 removes.
#   jv_lab_rate P RATE          cap both directions with tc tbf (RATE as
#                               tc reads it: 10mbit, 512kbit); off removes.
#   jv_lab_rebind P             NAT rebinding: from the next packet on, the
#                               gateway sees the client's UDP traffic on P
#                               come from a new source port (see below);
#                               it sees port ^ $JV_LAB_REBIND_KEY.
#   jv_lab_rebind_off P         back to the original ports.
#   jv_lab_clear P              remove every fault from P.
#
# Usage:
#   . tests/net/lib.sh
#   jv_lab_init            # names with a unique suffix (the shell's pid)
#   jv_lab_trap            # teardown on exit, Ctrl-C or kill, always
#   jv_lab_create || exit 1
#   jv_cli ping -c1 "$JV_A_GW"; jv_lab_cut A; ...
#
# Every function returns non-zero on failure and says why on stderr.
#
# NAT rebinding is a stateless source-port rewrite in the client's
# namespace (nftables payload mangling: sport ^= K on the way out, dport
# ^= K on the way in; the kernel fixes the UDP checksum).  Conntrack SNAT
# would decide the mapping once per flow, when its conntrack entry is
# created, so a rule added mid-session would not move a live flow; the
# stateless rewrite takes effect on the very next packet and can rebind
# again with another K, which is what a NAT that lost its mapping does.

JV_A_CLI=10.201.1.1
JV_A_GW=10.201.1.2
JV_B_CLI=10.201.2.1
JV_B_GW=10.201.2.2
JV_LAB_PREFIX=24
JV_DEV_A=jva
JV_DEV_B=jvb

# Names for this lab; ID defaults to the shell's pid, so parallel labs
# (two test runs) never meet.  Sets JV_NS_CLI and JV_NS_GW.
jv_lab_init() {
	JV_LAB_ID=${1:-$$}
	JV_NS_CLI=jv-cli-$JV_LAB_ID
	JV_NS_GW=jv-gw-$JV_LAB_ID
	JV_LAB_REBIND_KEY_A=0
	JV_LAB_REBIND_KEY_B=0
}

_jv_lab_err() {
	echo "lab: $*" >&2
	return 1
}

jv_cli() {
	ip netns exec "$JV_NS_CLI" "$@"
}

jv_gw() {
	ip netns exec "$JV_NS_GW" "$@"
}

# Path letter -> device name; fails on anything but A or B.
_jv_lab_dev() {
	case "$1" in
	A | a) echo "$JV_DEV_A" ;;
	B | b) echo "$JV_DEV_B" ;;
	*) _jv_lab_err "no path '$1' (A or B)" ;;
	esac
}

_jv_lab_lc() {
	case "$1" in
	A | a) echo a ;;
	*) echo b ;;
	esac
}

# Run nft in both namespaces with the same script on stdin.
_jv_lab_nft_both() {
	_s=$(cat)
	printf '%s\n' "$_s" | jv_cli nft -f - || return 1
	printf '%s\n' "$_s" | jv_gw nft -f - || return 1
}

# Delete base chain $1 of table inet jvlab in both namespaces, if present.
_jv_lab_nft_drop_chain() {
	for _ns in "$JV_NS_CLI" "$JV_NS_GW"; do
		if ip netns exec "$_ns" nft list chain inet jvlab "$1" \
			>/dev/null 2>&1; then
			ip netns exec "$_ns" nft delete chain inet jvlab "$1" ||
				return 1
		fi
	done
}

jv_lab_create() {
	[ -n "${JV_NS_CLI:-}" ] || jv_lab_init "$$"
	[ "$(id -u)" -eq 0 ] || { _jv_lab_err "needs root"; return 1; }
	for _t in ip nft tc; do
		command -v "$_t" >/dev/null 2>&1 ||
			{ _jv_lab_err "$_t not found (make deps)"; return 1; }
	done
	if ip netns list | grep -q "^$JV_NS_CLI\b\|^$JV_NS_GW\b"; then
		_jv_lab_err "namespaces $JV_NS_CLI/$JV_NS_GW exist already"
		return 1
	fi
	if ! _jv_lab_create_steps; then
		_jv_lab_err "could not create the lab; removing what was made"
		jv_lab_destroy
		return 1
	fi
}

_jv_lab_create_steps() {
	ip netns add "$JV_NS_CLI" || return 1
	ip netns add "$JV_NS_GW" || return 1
	jv_cli ip link set lo up || return 1
	jv_gw ip link set lo up || return 1
	# Made inside the client namespace with the peer placed in the
	# gateway's, so the short names never clash in the root namespace.
	for _p in A B; do
		_dev=$(_jv_lab_dev $_p)
		if [ $_p = A ]; then
			_c=$JV_A_CLI _g=$JV_A_GW
		else
			_c=$JV_B_CLI _g=$JV_B_GW
		fi
		jv_cli ip link add "$_dev" type veth peer name "$_dev" \
			netns "$JV_NS_GW" || return 1
		jv_cli ip addr add "$_c/$JV_LAB_PREFIX" dev "$_dev" || return 1
		jv_gw ip addr add "$_g/$JV_LAB_PREFIX" dev "$_dev" || return 1
		jv_cli ip link set "$_dev" up || return 1
		jv_gw ip link set "$_dev" up || return 1
	done
	printf 'table inet jvlab {}\n' | _jv_lab_nft_both
}

# Remove the lab: deleting a namespace takes its veths, nftables rules
# and qdiscs with it.  Safe to call twice or on a half-made lab.
jv_lab_destroy() {
	[ -n "${JV_NS_CLI:-}" ] || return 0
	for _ns in "$JV_NS_CLI" "$JV_NS_GW"; do
		if ip netns list | grep -q "^$_ns\b"; then
			# Processes left inside would keep the veths alive.
			for _pid in $(ip netns pids "$_ns" 2>/dev/null); do
				kill "$_pid" 2>/dev/null
			done
			ip netns del "$_ns" ||
				_jv_lab_err "could not delete namespace $_ns"
		fi
	done
	return 0
}

# Teardown on every way out: normal exit, error exit, INT, TERM, HUP.
jv_lab_trap() {
	trap 'jv_lab_destroy' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# Quick reachability check: one ping, 1 s deadline.  NS is cli or gw.
jv_lab_ping() {
	case "$1" in
	cli) ip netns exec "$JV_NS_CLI" ping -n -q -c 1 -W 1 "$2" \
		>/dev/null 2>&1 ;;
	gw) ip netns exec "$JV_NS_GW" ping -n -q -c 1 -W 1 "$2" \
		>/dev/null 2>&1 ;;
	*) _jv_lab_err "jv_lab_ping: namespace '$1' (cli or gw)" ;;
	esac
}

jv_lab_cut() {
	_dev=$(_jv_lab_dev "$1") || return 1
	_l=$(_jv_lab_lc "$1")
	case "${2:-silent}" in
	silent)
		# Priority -300: before conntrack and everything else.
		_jv_lab_nft_both <<-EOF
		table inet jvlab {
			chain cut_$_l {
				type filter hook prerouting priority -300;
				iifname "$_dev" drop
			}
		}
		EOF
		;;
	down)
		jv_cli ip link set "$_dev" down &&
			jv_gw ip link set "$_dev" down
		;;
	*) _jv_lab_err "jv_lab_cut: mode '$2' (silent or down)" ;;
	esac
}

jv_lab_restore() {
	_dev=$(_jv_lab_dev "$1") || return 1
	_jv_lab_nft_drop_chain "cut_$(_jv_lab_lc "$1")" || return 1
	jv_cli ip link set "$_dev" up && jv_gw ip link set "$_dev" up
}

jv_lab_loss() {
	_dev=$(_jv_lab_dev "$1") || return 1
	_l=$(_jv_lab_lc "$1")
	case "${2:-}" in
	'' | *[!0-9]*) _jv_lab_err "jv_lab_loss: percent '${2:-}' (0..100)"
		return 1 ;;
	esac
	[ "$2" -le 100 ] ||
		{ _jv_lab_err "jv_lab_loss: percent $2 > 100"; return 1; }
	_jv_lab_nft_drop_chain "loss_$_l" || return 1
	[ "$2" -eq 0 ] && return 0
	# numgen mod 100 yields 0..99, so "< 100" is out of its range.
	if [ "$2" -eq 100 ]; then _m=""; else
		_m="numgen random mod 100 < $2 "; fi
	_jv_lab_nft_both <<-EOF
	table inet jvlab {
		chain loss_$_l {
			type filter hook prerouting priority -300;
			iifname "$_dev" ${_m}drop
		}
	}
	EOF
}

jv_lab_rate() {
	_dev=$(_jv_lab_dev "$1") || return 1
	[ -n "${2:-}" ] || { _jv_lab_err "jv_lab_rate: no rate"; return 1; }
	if [ "$2" = off ]; then
		jv_cli tc qdisc del dev "$_dev" root 2>/dev/null
		jv_gw tc qdisc del dev "$_dev" root 2>/dev/null
		return 0
	fi
	# Egress of each end caps one direction; burst ~ a dozen packets.
	for _ns in "$JV_NS_CLI" "$JV_NS_GW"; do
		ip netns exec "$_ns" tc qdisc replace dev "$_dev" root tbf \
			rate "$2" burst "${JV_LAB_TBF_BURST:-16kb}" \
			latency "${JV_LAB_TBF_LATENCY:-100ms}" || return 1
	done
}

jv_lab_rebind() {
	_dev=$(_jv_lab_dev "$1") || return 1
	_l=$(_jv_lab_lc "$1")
	if [ "$_l" = a ]; then _old=$JV_LAB_REBIND_KEY_A; else
		_old=$JV_LAB_REBIND_KEY_B; fi
	# A new key each time, in 1..0x7fff: the top bit stays, so an
	# ephemeral port (>= 32768) maps to another ephemeral port.
	_key=$(( (_old * 7 + 0x1235) % 0x7fff + 1 ))
	_jv_lab_nft_drop_chain "rbout_$_l" || return 1
	_jv_lab_nft_drop_chain "rbin_$_l" || return 1
	jv_cli nft -f - <<-EOF || return 1
	table inet jvlab {
		chain rbout_$_l {
			type filter hook postrouting priority 100;
			oifname "$_dev" udp sport set udp sport ^ $_key
		}
		chain rbin_$_l {
			type filter hook prerouting priority -300;
			iifname "$_dev" udp dport set udp dport ^ $_key
		}
	}
	EOF
	if [ "$_l" = a ]; then JV_LAB_REBIND_KEY_A=$_key; else
		JV_LAB_REBIND_KEY_B=$_key; fi
	# shellcheck disable=SC2034 # for the caller: the port is sport ^ key
	JV_LAB_REBIND_KEY=$_key
}

jv_lab_rebind_off() {
	_l=$(_jv_lab_lc "$1")
	_jv_lab_dev "$1" >/dev/null || return 1
	_jv_lab_nft_drop_chain "rbout_$_l" && _jv_lab_nft_drop_chain "rbin_$_l"
}

jv_lab_clear() {
	jv_lab_restore "$1" && jv_lab_loss "$1" 0 && jv_lab_rate "$1" off &&
		jv_lab_rebind_off "$1"
}
