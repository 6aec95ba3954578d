#!/bin/sh
# The mutation run: every security or safety check listed in
# tests/mutants/*.txt is broken on purpose, one at a time, in a scratch
# copy of the tree, and the unit tests named for it must then fail.  A
# mutant that survives means no test guards that check.
#
# Usage: tools/mutate.sh [LIST...]     (default: every tests/mutants/*.txt)
# Prints "mutants PASS mutant: NAME" when the tests kill the mutant and
# "mutants FAIL mutant: NAME" when it survives (or the mutation does not
# apply: the list went stale).  Exit 1 if any line is FAIL.
#
# A list line:  NAME | FILE | TEXT | REPLACEMENT | TEST
# TEXT must occur exactly once in FILE; TEST is a tests/unit/<TEST>_test.c
# built against the mutated src/core with gcc (-O1, no sanitizers: a few
# seconds per mutant).  '#' starts a comment line.
set -u
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || set -- tests/mutants/*.txt
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
flags="-std=c17 -O1 -w -Iinclude -Isrc $(pkg-config --cflags jansson libsodium inih)"
libs="$(pkg-config --libs jansson libsodium inih cmocka) -lm"
status=0

for list in "$@"; do
	while IFS= read -r line; do
		case $line in ''|'#'*) continue ;; esac
		name=$(printf '%s' "$line" | awk -F ' [|] ' '{print $1}')
		file=$(printf '%s' "$line" | awk -F ' [|] ' '{print $2}')
		test=$(printf '%s' "$line" | awk -F ' [|] ' '{print $5}')
		rm -rf "$scratch/t" && mkdir -p "$scratch/t" &&
			cp -r include src tests "$scratch/t/"
		if ! python3 - "$scratch/t/$file" "$line" <<'PY'
import sys
path, line = sys.argv[1], sys.argv[2]
_, _, text, repl, _ = [p.strip() for p in line.split(" | ")]
text, repl = text.encode().decode("unicode_escape"), repl.encode().decode("unicode_escape")
src = open(path).read()
if src.count(text) != 1:
    sys.exit("%s: %r occurs %d times" % (path, text, src.count(text)))
open(path, "w").write(src.replace(text, repl))
PY
		then
			echo "mutants FAIL mutant: $name (does not apply)"
			status=1
			continue
		fi
		# shellcheck disable=SC2086
		if ! (cd "$scratch/t" && cc $flags src/core/*.c \
			tests/unit/"$test"_test.c -o "$scratch/t.bin" $libs) \
			>"$scratch/build.log" 2>&1; then
			echo "mutants FAIL mutant: $name (does not build: see the list)"
			status=1
			continue
		fi
		if (cd "$scratch/t" && timeout 120 "$scratch/t.bin") \
			>/dev/null 2>&1; then
			echo "mutants FAIL mutant: $name (survived $test)"
			status=1
		else
			echo "mutants PASS mutant: $name"
		fi
	done <"$list"
done
exit $status
