#!/bin/sh
# usage: sh tests/bench/validate/run.sh BINDIR
#
# mig-validate against ajv, the usual JavaScript validator, in the same run:
# 1,000,000 NDJSON records (gen.awk: 20 fields, ~560 bytes) against
# schema.json (20 properties with formats, patterns, an enum, a $ref'd
# nested object; draft 2020-12), formats asserted by both.  ajv (npm "ajv"
# and "ajv-formats", installed once into ${MIG_CACHE:-$HOME/.cache/mig}/node)
# compiles the schema and validates each line read by a small node script
# (ajv.js); both write the valid lines to /dev/null.  Prints wall seconds,
# records/s and peak RSS (GNU time's %e and %M) of each, and CPU seconds
# (%U + %S: the fairer figure on a busy machine), the ratios, and the valid
# counts (they must agree).  For scale, mig-load to file:/dev/null
# (parse and print, no validation) runs on the same data.
#
# Figures, not pass/fail; exits non-zero only when a program failed.
# MIG_BENCH_RECORDS changes the count; the input is cached by count.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/validate/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
n=${MIG_BENCH_RECORDS:-1000000}
gnutime=/usr/bin/time
cache=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}

[ -x "$gnutime" ] || { echo "validate: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
[ -x "$bindir/mig-validate" ] || { echo "validate: $bindir/mig-validate not found (make)" >&2; exit 1; }

mkdir -p "$cache/bench"
# v1: bump when gen.awk changes.
data=$cache/bench/validate-v1-$n.ndjson
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
trap 'rm -rf "$tmp" "$data.tmp.$$"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -s "$data" ]; then
	echo "generating $n records into $data"
	awk -v n="$n" -f "$here/gen.awk" >"$data.tmp.$$"
	mv "$data.tmp.$$" "$data"
fi

# ajv from the npm registry, once, outside the work tree.
node_dir=$cache/node
have_ajv=
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	if [ ! -d "$node_dir/node_modules/ajv" ] || [ ! -d "$node_dir/node_modules/ajv-formats" ]; then
		echo "installing ajv and ajv-formats into $node_dir"
		mkdir -p "$node_dir"
		npm install --prefix "$node_dir" --no-audit --no-fund --silent ajv@8 ajv-formats@3 >&2 ||
			echo "  npm install failed: no peer figure" >&2
	fi
	[ ! -d "$node_dir/node_modules/ajv-formats" ] || have_ajv=1
else
	echo "  node or npm not found: no peer figure"
fi

bytes=$(wc -c <"$data")
cat "$data" >/dev/null

status=0
# measure NAME LABEL CMD...: CMD with $data on stdin and stdout to /dev/null,
# under GNU time; prints a line of figures, sets secs and keeps stderr.
measure() {
	name=$1 label=$2
	shift 2
	secs= cpu=
	if "$gnutime" -f '%e %U %S %M' -o "$tmp/$name.time" "$@" <"$data" >/dev/null 2>"$tmp/$name.err"; then
		tail -n 1 "$tmp/$name.time" >"$tmp/line"
		read -r secs us ss kb <"$tmp/line"
		cpu=$(awk -v u="$us" -v s="$ss" 'BEGIN { printf "%.2f", u + s }')
		awk -v l="$label" -v s="$secs" -v c="$cpu" -v kb="$kb" -v n="$n" 'BEGIN {
			printf "  %-38s %7.2f s %9.0f rec/s   cpu %7.2f s %9.0f rec/s   peak RSS %6.1f MB\n",
				l, s, (s > 0 ? n / s : 0), c, (c > 0 ? n / c : 0), kb / 1024 }'
	else
		echo "  $label: FAILED ($(head -n 1 "$tmp/$name.time"))"
		sed 's/^/      /' "$tmp/$name.err" | tail -n 5
		status=1
	fi
}

awk -v n="$n" -v b="$bytes" 'BEGIN {
	printf "validate: %d records, %.1f MB, %.0f bytes/record, schema tests/bench/validate/schema.json\n", n, b / 1048576, b / n }'

measure mig "mig-validate --formats" "$bindir/mig-validate" --formats --max-invalid 100% \
	"$here/schema.json"
mig_secs=$secs mig_cpu=$cpu
grep -o '[0-9]* valid' "$tmp/mig.err" | head -n 1 | sed 's/^/    mig-validate: /'
if [ -n "$have_ajv" ]; then
	measure ajv "ajv 8 + ajv-formats (node $(node --version))" env NODE_PATH="$node_dir/node_modules" \
		node "$here/ajv.js" "$here/schema.json"
	grep -o '[0-9]* valid' "$tmp/ajv.err" | head -n 1 | sed 's/^/    ajv: /'
	if [ -n "$mig_secs" ] && [ -n "$secs" ]; then
		awk -v a="$secs" -v m="$mig_secs" -v ac="$cpu" -v mc="$mig_cpu" 'BEGIN {
			printf "  %-38s %7.2fx (wall)  %6.2fx (cpu)\n", "ajv / mig-validate",
				(m > 0 ? a / m : 0), (mc > 0 ? ac / mc : 0) }'
	fi
fi
if [ -x "$bindir/mig-load" ]; then
	measure load "mig-load file:/dev/null (parse+print)" "$bindir/mig-load" file:/dev/null
fi
exit "$status"
