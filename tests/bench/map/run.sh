#!/bin/sh
# usage: sh tests/bench/map/run.sh BINDIR
#
# mig-map against jq -c, same run, same input: 1,000,000 records of ~240
# bytes through an equivalent rename + cast + nest + drop + filter mapping
# (bench.map and bench.jq beside this file).  Prints seconds, records/s and
# peak RSS (GNU time's %e and %M) of each, and the jq/mig-map ratio; then
# mig-map again with glibc's tcache enlarged (GLIBC_TUNABLES), which shows
# what the allocator costs.  The target of issue 6 is a ratio >= 5 and a
# peak RSS under 32 MB.  Figures, not pass/fail: exits non-zero only when a
# program failed or the two outputs differ.
#
# MIG_BENCH_RECORDS changes the count.  The input is generated once and
# cached under ${MIG_CACHE:-$HOME/.cache/mig}/bench.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/map/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
n=${MIG_BENCH_RECORDS:-1000000}
gnutime=/usr/bin/time

[ -x "$gnutime" ] || { echo "map: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
[ -x "$bindir/mig-map" ] || { echo "map: $bindir/mig-map not found (make)" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "map: needs jq" >&2; exit 1; }

cache=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}/bench
mkdir -p "$cache"
# v1: bump when gen.awk changes.
data=$cache/map-v1-$n.ndjson

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench-map.XXXXXX")
trap 'rm -rf "$tmp" "$data.tmp.$$"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -s "$data" ]; then
	echo "generating $n records into $data"
	awk -v n="$n" -f "$here/gen.awk" >"$data.tmp.$$"
	mv "$data.tmp.$$" "$data"
fi
bytes=$(wc -c <"$data")
cat "$data" >/dev/null

status=0
# measure NAME LABEL CMD...: CMD with $data on stdin, stdout to $tmp/NAME.out
measure() {
	name=$1 label=$2
	shift 2
	secs=
	if "$gnutime" -f '%e %M' -o "$tmp/$name.time" "$@" <"$data" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		tail -n 1 "$tmp/$name.time" >"$tmp/line"
		read -r secs kb <"$tmp/line"
		awk -v l="$label" -v s="$secs" -v kb="$kb" -v n="$n" 'BEGIN {
			printf "  %-40s %8.2f s %10.0f rec/s   peak RSS %7.1f MB\n", l, s, (s > 0 ? n / s : 0), kb / 1024 }'
	else
		echo "  $label: FAILED"
		sed 's/^/      /' "$tmp/$name.err" | tail -n 5
		status=1
	fi
}

awk -v n="$n" -v b="$bytes" 'BEGIN {
	printf "map: %d records, %.1f MB, %.0f bytes/record\n", n, b / 1048576, b / n }'

measure mig "mig-map bench.map" "$bindir/mig-map" -q "$here/bench.map"
mig_secs=$secs
measure jq "jq -c -f bench.jq (peer)" jq -c -f "$here/bench.jq"
jq_secs=$secs
if [ -n "$mig_secs" ] && [ -n "$jq_secs" ]; then
	awk -v j="$jq_secs" -v m="$mig_secs" 'BEGIN {
		printf "  %-40s %8.1fx   (target >= 5x)\n", "jq / mig-map", (m > 0 ? j / m : 0) }'
fi
measure tc "mig-map, tcache_count=65000" env GLIBC_TUNABLES=glibc.malloc.tcache_count=65000 \
	"$bindir/mig-map" -q "$here/bench.map"
if [ -n "$secs" ] && [ -n "$jq_secs" ]; then
	awk -v j="$jq_secs" -v m="$secs" 'BEGIN {
		printf "  %-40s %8.1fx\n", "jq / mig-map (tcache)", (m > 0 ? j / m : 0) }'
fi
# The same records out (jq writes dates without milliseconds).
if [ -s "$tmp/mig.out" ] && [ -s "$tmp/jq.out" ]; then
	a=$(wc -l <"$tmp/mig.out")
	b=$(wc -l <"$tmp/jq.out")
	# (jq writes dates without milliseconds and 3016.0 as 3016: normalise)
	head -n 1000 "$tmp/mig.out" | sed 's/\.000Z"/Z"/g' | jq -S -c . >"$tmp/mig.head"
	head -n 1000 "$tmp/jq.out" | jq -S -c . >"$tmp/jq.head"
	if [ "$a" -ne "$b" ] || ! cmp -s "$tmp/mig.head" "$tmp/jq.head"; then
		echo "  outputs differ: mig-map $a records, jq $b"
		status=1
	else
		echo "  outputs agree: $a records each"
	fi
fi
exit "$status"
