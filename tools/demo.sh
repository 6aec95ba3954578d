#!/bin/sh
# make demo: the real two-namespace lab (`jvpn lab`) when we are root and
# the kernel and tools it needs work here; the simulated story (`jvpn
# demo`) otherwise.  One line says which and why.
set -eu
build=${1:-build}
jvpn="$build/src/cli/jvpn"

why=""
if [ "$(id -u)" -ne 0 ]; then
	why="not root"
elif [ ! -c /dev/net/tun ]; then
	why="no /dev/net/tun"
else
	for t in ip nft ping python3 bash; do
		command -v "$t" >/dev/null 2>&1 || { why="missing $t"; break; }
	done
fi
if [ -z "$why" ]; then
	ns="jvdemo-probe-$$"
	if ip netns add "$ns" 2>/dev/null; then
		ip netns exec "$ns" nft list ruleset >/dev/null 2>&1 ||
			why="nftables does not work in a network namespace"
		ip netns del "$ns" 2>/dev/null || true
	else
		why="cannot create network namespaces"
	fi
fi

if [ -z "$why" ]; then
	echo "make demo: running the real tunnel lab (jvpn lab: root, TUN, namespaces and nftables work here)"
	exec "$jvpn" lab
fi
echo "make demo: running the simulated demo (jvpn demo), not the real lab: $why"
exec "$jvpn" demo
