#!/bin/sh
# The mutation run: every security or safety check listed in
# tests/mutants/*.txt is broken on purpose, one at a time, in a scratch
# copy of the tree, and the tests named for it must then fail.  A mutant
# that survives means no test guards that check.
#
# Usage: tools/mutate.sh [LIST...]     (default: every tests/mutants/*.txt)
#   MUTATE_DIR=DIR   keep the scratch tree and build there (a second run is
#                    incremental); default: a temporary directory
#   MUTATE_TIMEOUT=S one test's time limit (default: 10x its unmutated time,
#                    at least 20 s; a hang is a kill)
#
# Prints "mutants PASS mutant: NAME" when a test kills the mutant and
# "mutants FAIL mutant: NAME (why)" when it survives, does not apply (the
# list went stale), does not build, or its test fails even unmutated; ends
# with "mutants_killed=K/N".  Exit 1 unless every mutant is killed.
#
# A list line:  NAME | FILE | TEXT | REPLACEMENT | TESTS
# TEXT (\n, \t escapes allowed) must occur exactly once in FILE.  TESTS is
# one or more of, space-separated, run in order until one fails:
#   unit:NAME   tests/unit/NAME_test.c (a bare NAME means the same)
#   sim:NAME    jvpn sim scenarios/NAME.ini (or sim:PATH/TO/FILE.ini)
#   meson:NAME  meson test NAME (any test of the build)
# '#' starts a comment line.
#
# The scratch is configured once (meson, plain -O1, no sanitizers) and
# only the targets the lists need are built; each mutant then rebuilds
# incrementally what its tests link (tools/mutate.py).
exec python3 "$(dirname "$0")/mutate.py" "$@"
