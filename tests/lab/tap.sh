# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# TAP output for the lab's shell tests: a plan, one line per check, a
# "# SKIP" for every planned check when the test cannot run here.

TAP_N=0
TAP_FAILED=0

tap_plan() {
	echo "1..$1"
}

tap_ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

# tap_fail DESCRIPTION [DIAGNOSTIC LINE...]
tap_fail() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=1
	echo "not ok $TAP_N - $1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

# tap_check DESCRIPTION COMMAND...: ok when the command succeeds.
tap_check() {
	local d=$1
	shift
	if "$@"; then tap_ok "$d"; else tap_fail "$d" "failed: $*"; fi
}

# tap_below DESCRIPTION VALUE LIMIT: ok when VALUE is a number below LIMIT
# ("-" or empty, a measurement that did not happen, fails).
tap_below() {
	local v=${2%.*}
	case $v in
	''|*[!0-9]*) tap_fail "$1" "no measurement: '$2'" ;;
	*) if [ "$v" -lt "$3" ]; then tap_ok "$1"; else tap_fail "$1" "$2 is not below $3"; fi ;;
	esac
}

# tap_eq DESCRIPTION EXPECTED ACTUAL
tap_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected: $2" "got:      $3"
	fi
}

# tap_skip_all N REASON: the whole test cannot run here (e.g. not root).
tap_skip_all() {
	tap_plan "$1"
	for i in $(seq 1 "$1"); do
		echo "ok $i # SKIP $2"
	done
	exit 0
}

tap_done() {
	exit $TAP_FAILED
}

# The audit tool exists in this build (another part of the project).
tap_have_audit() {
	"$JVPN" audit --help >/dev/null 2>&1
}
