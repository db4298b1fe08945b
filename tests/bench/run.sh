#!/bin/sh
# usage: sh tests/bench/run.sh BINDIR
#
# Runs every tests/bench/*/run.sh with BINDIR (the programs under test).
# Benchmarks print figures, not pass/fail; this exits non-zero only when one
# of them could not run its programs.
set -u

[ $# -eq 1 ] || { echo "usage: sh tests/bench/run.sh BINDIR" >&2; exit 2; }
case $1 in
/*) bindir=$1 ;;
*) bindir=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/../.." || exit 2

status=0
for bench in tests/bench/*/run.sh; do
	[ -f "$bench" ] || continue
	name=${bench#tests/bench/}
	name=${name%/run.sh}
	printf '\n== bench %s\n' "$name"
	sh "$bench" "$bindir" || {
		echo "bench $name: failed"
		status=1
	}
done
exit "$status"
