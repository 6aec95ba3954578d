#!/bin/bash
# SPDX-License-Identifier: MIT
# dist/completion/jvpn.bash: parses (bash -n), and its completion function,
# sourced after bash-completion's own library when installed, completes
# the commands (from `jvpn --help`), interface names from the control
# sockets of the runtime directory (not other files), option values, and
# file names for `up`.
#   completion_test.sh JVPN
set -u
JVPN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPT=$HERE/../../dist/completion/jvpn.bash
. "$HERE/../lab/tap.sh"
tap_plan 6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tap_check "bash -n" bash -n "$SCRIPT"

[ -f /usr/share/bash-completion/bash_completion ] &&
	. /usr/share/bash-completion/bash_completion
. "$SCRIPT"

# complete WORD...: COMPREPLY for the command line "jvpn WORD...", the
# cursor at the end of the last word; sorted, on one line.
complete_line() {
	COMP_WORDS=("$JVPN" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_jvpn "$JVPN" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

mkdir "$tmp/run" "$tmp/conf"
python3 -c 'import socket, sys
for p in sys.argv[1:]:
    socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(p)' \
	"$tmp/run/jv0.sock" "$tmp/run/jv1.sock"
: >"$tmp/run/notasocket.sock"
: >"$tmp/conf/gw.conf"
export JVPN_RUNTIME_DIR=$tmp/run

tap_eq "commands: 'jvpn st'" "states status" "$(complete_line st)"
tap_eq "commands: 'jvpn ver'" "version" "$(complete_line ver)"
tap_eq "interfaces from the sockets: 'jvpn status '" "jv0 jv1" "$(complete_line status '')"
tap_eq "file names for up" "$tmp/conf/gw.conf" "$(complete_line up "$tmp/conf/g")"
tap_eq "--format values" "json text" "$(complete_line events --format '')"
tap_done
