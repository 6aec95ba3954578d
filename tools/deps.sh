#!/bin/sh
# Install the Debian packages the build, the tests and the demo need, and
# only those that are missing: a no-op in well under a second when all are
# present.  Non-interactive, so it also runs under CI with no stdin.
set -eu

pkgs="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
      libsodium-dev libinih-dev libjansson-dev libcmocka-dev libmnl-dev
      libsqlite3-dev sqlite3 libcurl4-openssl-dev etcd-server etcd-client
      openssl python3 iproute2 nftables iperf3 iputils-ping tcpdump
      libsystemd-dev scdoc bash-completion systemd man-db
      libmicrohttpd-dev prometheus curl"

missing=""
for p in $pkgs; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo -n"
	else
		echo "deps: missing packages:$missing" >&2
		echo "deps: run 'make deps' as root (or install them with apt-get)" >&2
		exit 1
	fi
else
	SUDO=""
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
