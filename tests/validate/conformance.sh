#!/usr/bin/env bash
# usage: tests/validate/conformance.sh DRAFT SET [MIN_PERCENT]
#
# Runs the official JSON Schema Test Suite through mig-validate exactly as a
# user calls it: for each test case, the schema goes to a file and every test
# value to one line of an NDJSON file, and one process validates them all:
#
#   mig-validate --values --max-invalid 100% --reject REJ SCHEMA <DATA
#
# The line numbers in REJ are the values found invalid; every other line
# passed.  DRAFT is draft2020-12 or draft7; SET is "required" (the files at
# the top of the draft's directory) or "format" (optional/format, run with
# --formats).  Draft-07 cases carry no $schema: the driver adds the draft-07
# one, as a user's draft-07 schema would have.  $refs to
# http://localhost:1234/ are read from the suite's remotes/ directory with
# --schema-map; nothing touches the network.
#
# Prints "DRAFT SET: P of T tests passed (X%)" and every failing test by file,
# case and description; exits 1 when the pass rate is under MIN_PERCENT
# (default 98 for required, 0 for format), 2 when it cannot run.
#
# Environment: MIG_TESTDATA (default ../shared/testdata from the repo root);
# MIG_KEEP=1 keeps the work directory; mig-validate is taken from PATH.
set -u

[ $# -ge 2 ] || { echo "usage: $0 DRAFT SET [MIN_PERCENT]" >&2; exit 2; }
draft=$1
set_=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
testdata=${MIG_TESTDATA:-$root/../shared/testdata}
suite=$testdata/json-schema-test-suite
case $set_ in
required) dir=$suite/tests/$draft; min=${3:-98}; formats= ;;
format) dir=$suite/tests/$draft/optional/format; min=${3:-0}; formats=--formats ;;
*) echo "$0: SET is required or format" >&2; exit 2 ;;
esac
[ -d "$dir" ] || { echo "$0: no test suite at $dir (set MIG_TESTDATA)" >&2; exit 2; }
command -v mig-validate >/dev/null || { echo "$0: mig-validate is not on PATH" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0: needs jq" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-conformance.XXXXXX") || exit 2
trap '[ -n "${MIG_KEEP:-}" ] || rm -rf "$tmp"' EXIT

# One stream of every case: "C<TAB>file<TAB>case<TAB>schema", then one
# "T<TAB>valid<TAB>test<TAB>value" line per test.
inject='.'
[ "$draft" != draft7 ] ||
	inject='if type == "object" and (has("$schema") | not) then {"$schema": "http://json-schema.org/draft-07/schema#"} + . else . end'
jq -r --arg base "$dir/" "
	(input_filename | ltrimstr(\$base)) as \$f |
	.[] |
	\"C\t\(\$f)\t\(.description | gsub(\"[\t\n]\"; \" \"))\t\(.schema | $inject | tojson)\",
	(.tests[] | \"T\t\(.valid)\t\(.description | gsub(\"[\t\n]\"; \" \"))\t\(.data | tojson)\")
" "$dir"/*.json >"$tmp/stream" || { echo "$0: jq failed on $dir" >&2; exit 2; }

# Split it: case N's schema in N.json, its values in N.ndjson, and one line
# per test in "expect": N, line, valid, file, case, test.
mkdir -p "$tmp/c"
awk -F '\t' -v d="$tmp/c" '
	$1 == "C" { n++; line = 0; file = $2; desc = $3
		sch = d "/" n ".json"; print $4 > sch; close(sch)
		dat = d "/" n ".ndjson"; printf "" > dat; close(dat); next }
	$1 == "T" { line++; print $4 >> dat; close(dat)
		print n "\t" line "\t" $2 "\t" file "\t" desc "\t" $3 > (d "/expect") }
	END { print n + 0 > (d "/count") }' "$tmp/stream"
ncases=$(cat "$tmp/c/count")

# One process per case, all its values at once; as many at a time as there
# are processors (a process costs more to start than to validate).
export formats suite tmp
run_case() {
	local n=$1 rc
	# shellcheck disable=SC2086 # $formats is one flag or nothing
	mig-validate --values --max-invalid 100% $formats -q \
		--schema-map "http://localhost:1234/=$suite/remotes/" \
		--reject "$tmp/c/$n.rej" "$tmp/c/$n.json" <"$tmp/c/$n.ndjson" >/dev/null 2>"$tmp/c/$n.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s\t%s\n' "$n" "exit $rc: $(head -n 1 "$tmp/c/$n.err")" >"$tmp/c/$n.fail"
		rm -f "$tmp/c/$n.rej"
	fi
}
export -f run_case
jobs=$(nproc 2>/dev/null || echo 2)
seq 1 "$ncases" | xargs -P "$jobs" -I{} bash -c 'run_case {}'
cat /dev/null "$tmp"/c/*.fail >"$tmp/errors" 2>/dev/null

# The invalid lines: "N<TAB>line", from every reject file at once.
: >"$tmp/invalid"
if compgen -G "$tmp/c/*.rej" >/dev/null; then
	jq -r '(input_filename | sub(".*/"; "") | sub("\\.rej$"; "")) + "\t" + (.line | tostring)' \
		"$tmp"/c/*.rej >"$tmp/invalid" || exit 2
fi

awk -F '\t' -v label="$draft $set_" -v min="$min" '
	FILENAME == ARGV[1] { err[$1] = $2; next }
	FILENAME == ARGV[2] { bad[$1 "\t" $2] = 1; next }
	{
		total++
		if ($1 in err) { fails[++nf] = $4 ": " $5 ": " $6 " (" err[$1] ")"; next }
		got = (($1 "\t" $2) in bad) ? "false" : "true"
		if (got == $3) pass++
		else fails[++nf] = $4 ": " $5 ": " $6 " (expected " ($3 == "true" ? "valid" : "invalid") ")"
	}
	END {
		pct = total ? 100 * pass / total : 0
		printf "%s: %d of %d tests passed (%.1f%%), %d failed\n", label, pass, total, pct, total - pass
		for (i = 1; i <= nf; i++) print "  FAIL " fails[i]
		if (pct < min) {
			printf "%s: pass rate %.1f%% is under %s%%\n", label, pct, min
			exit 1
		}
	}' "$tmp/errors" "$tmp/invalid" "$tmp/c/expect"
