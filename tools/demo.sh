#!/bin/sh
# make demo: the real two-namespace lab when root and the daemon exists,
# the simulated story otherwise.
set -eu
build=${1:-build}
exec "$build/src/cli/jvpn" demo
