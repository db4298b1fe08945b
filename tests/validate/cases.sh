#!/usr/bin/env bash
# usage: tests/validate/cases.sh [FILE]
#
# Runs the data-driven cases of FILE (default tests/validate/cases.txt; its
# header says the format) through mig-validate as a user calls it: per case,
# the schema in a file, the values one per line, one process:
#
#   mig-validate --values --max-invalid 100% [OPTIONS] --reject REJ SCHEMA <VALUES
#
# and checks which lines were rejected, and for "invalid: V -> KW PATH"
# the keyword and path of the first error.  Prints TAP (one test per value);
# exits 1 when one failed.  mig-validate and jq are taken from PATH.
set -u

here=$(cd "$(dirname "$0")" && pwd)
file=${1:-$here/cases.txt}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-cases.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Split: N.json, N.opts, N.ndjson, and "expect" lines: N, line, kind, kw, path, text.
awk -v d="$tmp" '
	/^[ \t]*(#|$)/ { next }
	/^schema: / { n++; k = 0; sub(/^schema: /, ""); print > (d "/" n ".json"); close(d "/" n ".json")
		printf "" > (d "/" n ".opts"); printf "" > (d "/" n ".ndjson"); next }
	/^options: / { sub(/^options: /, ""); print > (d "/" n ".opts"); close(d "/" n ".opts"); next }
	/^(valid|invalid): / {
		kind = $1; sub(/:$/, "", kind); sub(/^(valid|invalid): /, "")
		kw = ""; path = ""
		i = index($0, " -> ")
		if (i) { split(substr($0, i + 4), a, " "); kw = a[1]; path = a[2]; $0 = substr($0, 1, i - 1) }
		if (path == "-") path = ""
		k++
		print >> (d "/" n ".ndjson"); close(d "/" n ".ndjson")
		print n "\t" k "\t" kind "\t" kw "\t" path "\t" $0 > (d "/expect")
		next }
	{ print "cases.txt: cannot read: " $0 > "/dev/stderr"; exit 2 }
	END { print n + 0 > (d "/count") }' "$file" || exit 2

n=$(cat "$tmp/count")
: >"$tmp/got"
for ((i = 1; i <= n; i++)); do
	# shellcheck disable=SC2046 # the options are words
	mig-validate --values --max-invalid 100% -q $(cat "$tmp/$i.opts") --reject "$tmp/$i.rej" \
		"$tmp/$i.json" <"$tmp/$i.ndjson" >"$tmp/$i.out" 2>"$tmp/$i.err"
	printf '%s\t%s\n' "$i" "$?" >>"$tmp/rcs"
done
if compgen -G "$tmp/*.rej" >/dev/null; then
	jq -r '(input_filename | sub(".*/"; "") | sub("\\.rej$"; "")) + "\t" + (.line | tostring)
		+ "\t" + .errors[0].keyword + "\t" + .errors[0].path' "$tmp"/*.rej >"$tmp/got" || exit 2
fi

awk -F '\t' '
	FILENAME == ARGV[1] { rc[$1] = $2; next }
	FILENAME == ARGV[2] { got[$1 "\t" $2] = $3 "\t" $4; next }
	{
		t++
		key = $1 "\t" $2
		desc = "case " $1 " " $3 ": " $6
		if (rc[$1] != 0 && rc[$1] != 1) { print "not ok " t " - " desc " (mig-validate exit " rc[$1] ")"; bad++; next }
		if ($3 == "valid") {
			if (key in got) { print "not ok " t " - " desc " (rejected: " got[key] ")"; bad++ }
			else print "ok " t " - " desc
			next
		}
		if (!(key in got)) { print "not ok " t " - " desc " (passed)"; bad++; next }
		if ($4 != "" && got[key] != $4 "\t" $5) {
			split(got[key], g, "\t")
			print "not ok " t " - " desc " (first error " g[1] " at \"" g[2] "\", expected " $4 " at \"" $5 "\")"
			bad++; next
		}
		print "ok " t " - " desc
	}
	END { print "1.." t; exit bad > 0 }' "$tmp/rcs" "$tmp/got" "$tmp/expect"
status=$?
if [ "$status" -ne 0 ]; then
	for ((i = 1; i <= n; i++)); do
		[ ! -s "$tmp/$i.err" ] || sed "s/^/# case $i: /" "$tmp/$i.err"
	done
fi
exit "$status"
