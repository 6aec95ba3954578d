#!/bin/sh
# A document generated from a code table must equal its committed copy.
# Usage: check_doc.sh DOC_FILE COMMAND [ARGS...]
# On mismatch prints the diff and how to regenerate (make docs).
set -u
doc=$1
shift
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if ! "$@" >"$tmp"; then
	echo "generator failed: $*" >&2
	exit 1
fi
if ! diff -u "$doc" "$tmp"; then
	echo "$doc is out of date with the code table; run 'make docs'" >&2
	exit 1
fi
