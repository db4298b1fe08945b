#!/bin/sh
# usage: sh tests/bench/es-load/run.sh BINDIR
#
# NDJSON file -> Elasticsearch, 1,000,000 documents of about 235 bytes
# (tests/bench/stream/gen.awk: integers, strings, a boolean, a float, a
# $date, a $numberDecimal, an array, a nested object), loaded on one node
# in the same run by
#   mig-load --key id --batch-size B -i in.ndjson es://...#bench-mig
#   elasticdump --input ed.json --output http://.../bench-ed --limit B
#   elasticdump --input ed.json --output http://.../bench-ed  (as users
#                                  run it: its default --limit 100)
#   curl --data-binary @NNN.bulk .../bench-curl/_bulk   (one file of B
#                                  documents after the other, pre-built)
# Each writes into a fresh index of the same mapping (made by mig-load
# --create from the first records, copied to the others), 0 replicas, the
# same _id per document (its "id"), so that the node does the same work
# for all three.  The bulk files and elasticdump's input hold what
# mig-load sends (mig-extract --plain), so only mig-load converts.  A
# warm-up load comes first (the JVM compiles its hot paths); then the
# three, in turn, MIG_BENCH_REPS times (default 1; the best of each is
# kept).  Prints seconds, documents/s, the ratios, and mig-load's peak RSS
# (GNU time's %M).  Figures, not pass/fail: exits non-zero only when a
# program failed or an index does not hold every document.
# Targets (issue 5): >= 3x elasticdump, >= 0.8x raw curl, RSS < 64 MB.
# elasticdump is measured twice, as users run it and tuned to mig-load's
# batch size, and both ratios are printed: the first is what a user
# switching tools sees, the second what is left once elasticdump is tuned.
#
# MIG_BENCH_ROWS (1000000) and MIG_BENCH_BATCH (10000) change the sizes.
# MIG_BENCH_ED_DEFAULT=0 leaves out elasticdump as it comes (--limit 100,
# its default: about ten times slower here, the longest part of the run).
# MIG_BENCH_MIG_ARGS adds options to mig-load's command line (such as
# "--parallel 4", to compare settings in the same run).
# The node is a throw-away one from tests/servers/es (MIG_ES_HEAP, 512m by
# default), unless MIG_ES_HTTP and MIG_ES_URL name one.  elasticdump
# (npm) is installed once into ${MIG_CACHE:-$HOME/.cache/mig}; without npm
# it is left out, and said so.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/es-load/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
n=${MIG_BENCH_ROWS:-1000000}
batch=${MIG_BENCH_BATCH:-10000}
reps=${MIG_BENCH_REPS:-1}
gnutime=/usr/bin/time
ed_version=6.125.1

[ -x "$gnutime" ] || { echo "es-load: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
for p in curl jq awk; do
	command -v "$p" >/dev/null 2>&1 || { echo "es-load: needs $p" >&2; exit 1; }
done
for p in mig-load mig-extract; do
	[ -x "$bindir/$p" ] || { echo "es-load: $bindir/$p not found (make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
datadir=
cleanup() {
	if [ -n "$datadir" ]; then
		bash "$root/tests/servers/es" stop "$datadir" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${MIG_ES_HTTP:-}" ] || [ -z "${MIG_ES_URL:-}" ]; then
	echo "es-load: starting a node (tests/servers/es)" >&2
	bash "$root/tests/servers/es" start >"$tmp/env" 2>"$tmp/server.log" || {
		cat "$tmp/server.log" >&2
		echo "es-load: could not start an Elasticsearch node" >&2
		exit 1
	}
	. "$tmp/env"
	datadir=$MIG_ES_DATADIR
fi
http=$MIG_ES_HTTP
url=$MIG_ES_URL

# elasticdump, once, outside the work tree
cache=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}
ed_dir=$cache/elasticdump-$ed_version
ed=$ed_dir/node_modules/.bin/elasticdump
if [ ! -x "$ed" ] && command -v npm >/dev/null 2>&1; then
	echo "es-load: installing elasticdump $ed_version (npm, once, into $ed_dir)" >&2
	mkdir -p "$ed_dir"
	npm install --no-audit --no-fund --loglevel=error --prefix "$ed_dir" \
		"elasticdump@$ed_version" >"$tmp/npm.log" 2>&1 || {
		cat "$tmp/npm.log" >&2
		echo "es-load: could not install elasticdump; it is left out" >&2
	}
fi
[ -x "$ed" ] || ed=
# elasticdump asks GET / for the server's version, which the integ-test
# distribution does not serve (it lacks the rest-root module): a preloaded
# shim answers it with the version the node reports elsewhere.  Nothing
# else of elasticdump is changed.
cat >"$tmp/ed-shim.js" <<'EOF2'
const Base = require(process.env.MIG_ED_BASE)
const parse = Base.prototype._parseVersion
Base.prototype._parseVersion = function (response) {
  if (response.statusCode === 404 || response.statusCode === 405) {
    const v = process.env.MIG_ED_ES_VERSION
    return { version: v, distribution: 'elasticsearch', distributionVersion: v }
  }
  return parse.call(this, response)
}
EOF2

# es METHOD PATH [JSON]
es() {
	if [ $# -ge 3 ]; then
		curl -sS -X "$1" "$http$2" -H 'Content-Type: application/json' --data-binary "$3"
	else
		curl -sS -X "$1" "$http$2"
	fi
}

count() {
	es POST "/$1/_refresh" >/dev/null
	es GET "/$1/_count" | jq -r .count
}

now() {
	date +%s.%N
}

version=$(es GET "/_nodes/_local?filter_path=nodes.*.version" | jq -r '[.nodes[].version][0]')
echo "es-load: generating $n documents" >&2
awk -v n="$n" -f "$root/tests/bench/stream/gen.awk" >"$tmp/in.ndjson"
bytes=$(wc -c <"$tmp/in.ndjson")
# what elasticsearch is sent: plain JSON (dates, decimals as strings)
"$bindir/mig-extract" -q --plain "$tmp/in.ndjson" >"$tmp/plain.ndjson"
mkdir "$tmp/bulk"
awk -v b="$batch" -v dir="$tmp/bulk" '
	{
		match($0, /"id":[0-9]+/)
		id = substr($0, RSTART + 5, RLENGTH - 5)
		f = sprintf("%s/%07d.bulk", dir, int((NR - 1) / b))
		print "{\"create\":{\"_id\":\"" id "\"}}" >f
		print >f
		if (NR % b == 0)
			close(f)
	}' "$tmp/plain.ndjson"
if [ -n "$ed" ]; then
	awk '{
		match($0, /"id":[0-9]+/)
		printf("{\"_index\":\"bench-ed\",\"_id\":\"%s\",\"_source\":%s}\n",
			substr($0, RSTART + 5, RLENGTH - 5), $0)
	}' "$tmp/plain.ndjson" >"$tmp/ed.json"
fi
rm -f "$tmp/plain.ndjson"

# the mapping all three get: mig-load's, from the first records
head -n 1000 "$tmp/in.ndjson" |
	"$bindir/mig-load" -q --create "$url?replicas=0#bench-mapping"
mapping=$(es GET /bench-mapping/_mapping | jq -c '."bench-mapping".mappings')
es DELETE /bench-mapping >/dev/null

fresh() {
	es DELETE "/$1" >/dev/null
	es PUT "/$1" "{\"settings\":{\"index\":{\"number_of_replicas\":0}},\"mappings\":$mapping}" >/dev/null
}

# curl_load INDEX FILES...: the bulk files one after the other; fails on
# an error status or an item error.
curl_load() {
	idx=$1
	shift
	for f in "$@"; do
		code=$(curl -sS -o "$tmp/resp" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
			--data-binary "@$f" "$http/$idx/_bulk?filter_path=errors,items.*.error")
		if [ "$code" != 200 ] || ! grep -q '"errors":false' "$tmp/resp"; then
			echo "es-load: curl $f: HTTP $code: $(head -c 300 "$tmp/resp")" >&2
			return 1
		fi
	done
	es POST "/$idx/_refresh" >/dev/null
}

echo "es-load: warming the node up" >&2
fresh bench-warm
# shellcheck disable=SC2046 # the file names have no spaces
curl_load bench-warm $(ls "$tmp"/bulk/*.bulk | head -n 10)
es DELETE /bench-warm >/dev/null

best_curl= best_mig= best_ed= best_edd= rss=
better() {
	# better OLD NEW: the smaller of two times (OLD may be empty)
	if [ -z "$1" ]; then echo "$2"; else awk -v a="$1" -v b="$2" 'BEGIN { print (b < a ? b : a) }'; fi
}

rep=1
while [ "$rep" -le "$reps" ]; do
	echo "es-load: round $rep of $reps: raw curl" >&2
	fresh bench-curl
	t0=$(now)
	# shellcheck disable=SC2046
	curl_load bench-curl $(ls "$tmp"/bulk/*.bulk)
	t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
	[ "$(count bench-curl)" = "$n" ] || { echo "es-load: bench-curl holds $(count bench-curl) documents" >&2; exit 1; }
	es DELETE /bench-curl >/dev/null
	best_curl=$(better "$best_curl" "$t")

	echo "es-load: round $rep of $reps: mig-load" >&2
	fresh bench-mig
	# shellcheck disable=SC2086 # MIG_BENCH_MIG_ARGS is split on purpose
	"$gnutime" -f '%e %M' -o "$tmp/mig.time" "$bindir/mig-load" -q --key id --batch-size "$batch" \
		${MIG_BENCH_MIG_ARGS:-} -i "$tmp/in.ndjson" "$url#bench-mig"
	read -r t r <"$tmp/mig.time"
	[ "$(count bench-mig)" = "$n" ] || { echo "es-load: bench-mig holds $(count bench-mig) documents" >&2; exit 1; }
	es DELETE /bench-mig >/dev/null
	best_mig=$(better "$best_mig" "$t")
	[ -n "$rss" ] && [ "$rss" -ge "$r" ] || rss=$r

	if [ -n "$ed" ]; then
		echo "es-load: round $rep of $reps: elasticdump" >&2
		fresh bench-ed
		t0=$(now)
		MIG_ED_BASE=$ed_dir/node_modules/elasticdump/lib/transports/__es__/_base.js \
		MIG_ED_ES_VERSION=$version NODE_OPTIONS="--require $tmp/ed-shim.js" \
		"$ed" --quiet --input="$tmp/ed.json" --output="$http/bench-ed" --type=data \
			--limit="$batch" >"$tmp/ed.log" 2>&1 || { cat "$tmp/ed.log" >&2; exit 1; }
		es POST /bench-ed/_refresh >/dev/null
		t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
		[ "$(count bench-ed)" = "$n" ] || { echo "es-load: bench-ed holds $(count bench-ed) documents" >&2; exit 1; }
		es DELETE /bench-ed >/dev/null
		best_ed=$(better "$best_ed" "$t")
	fi
	if [ -n "$ed" ] && [ "${MIG_BENCH_ED_DEFAULT:-1}" = 1 ]; then
		echo "es-load: round $rep of $reps: elasticdump with its defaults" >&2
		fresh bench-ed
		t0=$(now)
		MIG_ED_BASE=$ed_dir/node_modules/elasticdump/lib/transports/__es__/_base.js \
		MIG_ED_ES_VERSION=$version NODE_OPTIONS="--require $tmp/ed-shim.js" \
		"$ed" --quiet --input="$tmp/ed.json" --output="$http/bench-ed" --type=data \
			>"$tmp/ed.log" 2>&1 || { cat "$tmp/ed.log" >&2; exit 1; }
		es POST /bench-ed/_refresh >/dev/null
		t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
		[ "$(count bench-ed)" = "$n" ] || { echo "es-load: bench-ed holds $(count bench-ed) documents" >&2; exit 1; }
		es DELETE /bench-ed >/dev/null
		best_edd=$(better "$best_edd" "$t")
	fi
	rep=$((rep + 1))
done

awk -v n="$n" -v bytes="$bytes" -v batch="$batch" -v v="$version" -v tc="$best_curl" \
	-v tm="$best_mig" -v te="$best_ed" -v ted="$best_edd" -v rss="$rss" -v edv="$ed_version" \
	-v reps="$reps" -v margs="${MIG_BENCH_MIG_ARGS:-}" 'BEGIN {
	printf("es-load: %d documents (%.0f bytes each), batches of %d, Elasticsearch %s, best of %d\n",
		n, bytes / n, batch, v, reps)
	if (margs != "")
		printf("  mig-load options: %s\n", margs)
	printf("  %-24s %8.2f s %9.0f docs/s\n", "raw curl --data-binary", tc, n / tc)
	printf("  %-24s %8.2f s %9.0f docs/s   peak RSS %.1f MB\n", "mig-load", tm, n / tm, rss / 1024)
	if (ted != "")
		printf("  %-24s %8.2f s %9.0f docs/s\n", "elasticdump (defaults)", ted, n / ted)
	if (te != "")
		printf("  %-24s %8.2f s %9.0f docs/s\n", "elasticdump --limit " batch, te, n / te)
	if (te == "")
		printf("  %-24s (not run: npm or the package is not available)\n", "elasticdump " edv)
	printf("  mig-load / raw curl:    %.2fx (target >= 0.8)\n", tc / tm)
	if (ted != "")
		printf("  mig-load / elasticdump: %.2fx as users run it, --limit 100 (target >= 3)\n", ted / tm)
	if (te != "")
		printf("  mig-load / elasticdump: %.2fx tuned to the same batch, --limit %d\n", te / tm, batch)
	printf("  mig-load peak RSS:      %.1f MB (target < 64 MB)\n", rss / 1024)
}'
