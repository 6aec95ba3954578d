#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` (meson install) into a staging DESTDIR: exactly the
# binary, the three man pages, jvpn@.service, the bash completion and the
# examples (no test binary); the unit names the configured bindir, carries
# the directives docs/operations.md promises, and `systemd-analyze verify`
# accepts it (instance jvpn@jv0, its ExecStart pointed at the staged
# binary, MANPATH at the staged man pages so Documentation= resolves).
#   install_test.sh BUILD_ROOT
set -u
BUILD=$1
. "$(dirname "$0")/../lab/tap.sh"
tap_plan 7
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage

if meson install -C "$BUILD" --no-rebuild --quiet --destdir "$stage" >"$tmp/install.log" 2>&1; then
	tap_ok "meson install --destdir"
else
	tap_fail "meson install --destdir" "$(tail -5 "$tmp/install.log")"
fi
bin=$(cd "$stage" && find . -path '*/bin/jvpn' | head -1)
prefix=${bin#.}
prefix=${prefix%/bin/jvpn}
want="bin/jvpn
lib/systemd/system/jvpn@.service
share/bash-completion/completions/jvpn
share/doc/jvpn/examples/client.conf
share/doc/jvpn/examples/gateway.conf
share/man/man5/jvpn.conf.5
share/man/man7/jvpn-events.7
share/man/man8/jvpn.8"
got=$(cd "$stage$prefix" 2>/dev/null && find . -type f | sed 's|^\./||' | sort)
others=$(cd "$stage" && find . -type f | grep -v "^\.$prefix/" )
tap_eq "exactly the installed files under the prefix ($prefix)" "$want" "$got$others"

unit=$stage$prefix/lib/systemd/system/jvpn@.service
tap_eq "ExecStart runs the installed binary" \
	"ExecStart=$prefix/bin/jvpn up /etc/jvpn/%i.conf" "$(grep '^ExecStart=' "$unit")"

missing=""
for d in Type=notify WatchdogSec= "ExecReload=$prefix/bin/jvpn reload %i" \
	Restart=on-failure "RestartPreventExitStatus=1 2" \
	"CapabilityBoundingSet=CAP_NET_ADMIN" NoNewPrivileges=yes \
	ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	StateDirectory=jvpn RuntimeDirectory=jvpn RuntimeDirectoryPreserve=yes \
	LogsDirectory=jvpn ConfigurationDirectory=jvpn \
	"DeviceAllow=/dev/net/tun rw" \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" \
	SystemCallFilter=@system-service; do
	grep -q "^$d" "$unit" || missing="$missing [$d]"
done
tap_eq "the unit's directives" "" "$missing"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/units"
	sed "s|$prefix/bin/jvpn|$stage$prefix/bin/jvpn|g" "$unit" >"$tmp/units/jvpn@.service"
	ln -s jvpn@.service "$tmp/units/jvpn@jv0.service"
	out=$(cd "$tmp" && MANPATH=$stage$prefix/share/man systemd-analyze verify \
		"$tmp/units/jvpn@jv0.service" 2>&1)
	rc=$?
	tap_eq "systemd-analyze verify jvpn@jv0.service: no complaint" "0 " "$rc $out"
	# ... and it does complain about a broken unit
	sed 's/^Type=notify/Type=notifyy/' "$tmp/units/jvpn@.service" >"$tmp/units/bad@.service"
	ln -s bad@.service "$tmp/units/bad@jv0.service"
	out=$(cd "$tmp" && MANPATH=$stage$prefix/share/man systemd-analyze verify \
		"$tmp/units/bad@jv0.service" 2>&1)
	case $out in
	*notifyy*) tap_ok "systemd-analyze verify sees a broken Type=" ;;
	*) tap_fail "systemd-analyze verify sees a broken Type=" "got: $out" ;;
	esac
else
	tap_ok "# SKIP systemd-analyze is not installed"
	tap_ok "# SKIP systemd-analyze is not installed"
fi

if man -l "$stage$prefix/share/man/man8/jvpn.8" 2>/dev/null | grep -q "EXIT STATUS"; then
	tap_ok "man -l renders the installed jvpn(8)"
else
	tap_fail "man -l renders the installed jvpn(8)"
fi
tap_done
