#!/bin/sh
# usage: sh tests/bench/stream/run.sh BINDIR
#
# The text <-> record hot path (DESIGN.md s. 7): 1,000,000 NDJSON records of
# ~235 bytes through mig-load to file:/dev/null, against jq -c . as the
# peer, in the same run; then mig-extract of the same file.  Prints seconds,
# records/s and peak RSS (GNU time's %e and %M), and the jq/mig ratio.
# Figures, not pass/fail; exits non-zero only when a program failed.
#
# MIG_BENCH_RECORDS changes the count.  The input is cached by count under
# ${MIG_CACHE:-$HOME/.cache/mig}/bench, so reruns start at once.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/stream/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
n=${MIG_BENCH_RECORDS:-1000000}
gnutime=/usr/bin/time

[ -x "$gnutime" ] || { echo "stream: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
for p in mig-load mig-extract; do
	[ -x "$bindir/$p" ] || { echo "stream: $bindir/$p not found (make)" >&2; exit 1; }
done

cache=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}/bench
mkdir -p "$cache"
# v1: bump when gen.awk changes.
data=$cache/stream-v1-$n.ndjson

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
trap 'rm -rf "$tmp" "$data.tmp.$$"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -s "$data" ]; then
	echo "generating $n records into $data"
	awk -v n="$n" -f "$here/gen.awk" >"$data.tmp.$$"
	mv "$data.tmp.$$" "$data"
fi

bytes=$(wc -c <"$data")
# Every program starts from a warm page cache.
cat "$data" >/dev/null

status=0
# measure NAME LABEL CMD...: run CMD with $data on stdin and stdout to
# /dev/null, under GNU time; print a line of figures and set secs.
measure() {
	name=$1 label=$2
	shift 2
	secs=
	if "$gnutime" -f '%e %M' -o "$tmp/$name.time" "$@" <"$data" >/dev/null 2>"$tmp/$name.err"; then
		# GNU time's last line: "SECONDS PEAK_RSS_KB".
		tail -n 1 "$tmp/$name.time" >"$tmp/line"
		read -r secs kb <"$tmp/line"
		awk -v l="$label" -v s="$secs" -v kb="$kb" -v n="$n" 'BEGIN {
			printf "  %-34s %8.2f s %10.0f rec/s   peak RSS %7.1f MB\n", l, s, (s > 0 ? n / s : 0), kb / 1024 }'
		[ ! -s "$tmp/$name.err" ] || sed 's/^/      /' "$tmp/$name.err" | tail -n 2
	else
		echo "  $label: FAILED ($(head -n 1 "$tmp/$name.time"))"
		sed 's/^/      /' "$tmp/$name.err" | tail -n 5
		status=1
	fi
}

awk -v n="$n" -v b="$bytes" 'BEGIN {
	printf "stream: %d records, %.1f MB, %.0f bytes/record\n", n, b / 1048576, b / n }'

measure load "mig-load file:/dev/null" "$bindir/mig-load" file:/dev/null
mig_secs=$secs
if command -v jq >/dev/null 2>&1; then
	measure jq "jq -c . (peer)" jq -c .
	if [ -n "$mig_secs" ] && [ -n "$secs" ]; then
		awk -v j="$secs" -v m="$mig_secs" 'BEGIN {
			printf "  %-34s %8.1fx\n", "jq / mig-load", (m > 0 ? j / m : 0) }'
	fi
else
	echo "  jq not found: no peer figure"
fi
measure extract "mig-extract file:big.ndjson" "$bindir/mig-extract" "file:$data"
exit "$status"
