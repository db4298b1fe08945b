#!/bin/sh
# usage: sh tests/bench/mongo-load/run.sh BINDIR
#
# Loading MongoDB: 1,000,000 NDJSON documents of ~230 bytes (integers,
# strings, a boolean, doubles, a {"$date"}, an array, a nested object)
# loaded by mig-load and by the best peer available, in the same run,
# against the same server: a FerretDB v1 started for the run
# (tests/servers/mongo), each loader into a database of its own.
#
# The peer: mongoimport when one is on PATH (it cannot be built from the Go
# module proxy: the proxy serves no version of github.com/mongodb/
# mongo-tools), otherwise a pymongo loader (pip install --target into the
# cache) that parses each line with bson.json_util, so that it stores the
# same types, and calls insert_many(ordered=False) with the same batch
# size as mig-load (1000).  The server's speed drifts as it fills, so the
# loaders take turns over MIG_BENCH_MONGO_ROUNDS rounds (2: mig-load then
# the peer, then the peer then mig-load), each into a new database.
# Prints, per run, seconds, documents/s, the client's CPU seconds and peak
# RSS (GNU time); then the ratio of the total times, and the server's peak
# RSS.  Figures, not pass/fail; exits non-zero only when a loader failed or
# a database holds the wrong count.
#
# No Decimal128 in the documents: FerretDB v1 cannot store one.  The server
# (FerretDB on SQLite) bounds both rates; MIG_BENCH_MONGO_RECORDS (else
# MIG_BENCH_RECORDS) changes the count.  Input and pymongo are cached under
# ${MIG_CACHE:-$HOME/.cache/mig}.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/mongo-load/run.sh BINDIR" >&2; exit 2; }
bindir=$1
root=$(cd "$(dirname "$0")/../../.." && pwd)
n=${MIG_BENCH_MONGO_RECORDS:-${MIG_BENCH_RECORDS:-1000000}}
batch=1000
rounds=${MIG_BENCH_MONGO_ROUNDS:-2}
gnutime=/usr/bin/time

[ -x "$gnutime" ] || { echo "mongo-load: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
for p in mig-load mig-extract; do
	[ -x "$bindir/$p" ] || { echo "mongo-load: $bindir/$p not found (make)" >&2; exit 1; }
done

cache=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}
mkdir -p "$cache/bench"
data=$cache/bench/mongo-v1-$n.ndjson
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
datadir=
cleanup() {
	[ -z "$datadir" ] || bash "$root/tests/servers/mongo" stop "$datadir" || true
	rm -rf "$tmp" "$data.tmp.$$"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -s "$data" ]; then
	echo "generating $n documents into $data"
	awk -v n="$n" 'BEGIN {
		srand(42)
		split("alpha beta gamma delta epsilon zeta eta theta iota kappa", words, " ")
		split("Lyon Paris Berlin Madrid Lisbon Oslo Vienna Prague Dublin Rome", cities, " ")
		for (i = 1; i <= n; i++) {
			ntags = 1 + int(rand() * 2)
			tags = "\"" words[1 + int(rand() * 10)] "\""
			for (t = 2; t <= ntags; t++)
				tags = tags ",\"" words[1 + int(rand() * 10)] "\""
			printf "{\"id\":%d,\"name\":\"user-%d\",\"email\":\"u%d@ex.org\",\"active\":%s,\"score\":%.2f,\"created\":{\"$date\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"},\"balance\":%d.%02d,\"tags\":[%s],\"address\":{\"city\":\"%s\",\"zip\":\"%05d\"}}\n",
				i, i, i, (rand() < 0.5 ? "true" : "false"), rand() * 100,
				2019 + int(rand() * 6), 1 + int(rand() * 12), 1 + int(rand() * 28),
				int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000),
				int(rand() * 100000), 1 + int(rand() * 99), tags,
				cities[1 + int(rand() * 10)], int(rand() * 100000)
		}
	}' >"$data.tmp.$$"
	mv "$data.tmp.$$" "$data"
fi
bytes=$(wc -c <"$data")
cat "$data" >/dev/null

bash "$root/tests/servers/mongo" start >"$tmp/server.env" 2>"$tmp/server.log" || {
	cat "$tmp/server.log" >&2
	echo "mongo-load: could not start the test server" >&2
	exit 1
}
. "$tmp/server.env"
datadir=$MIG_MONGO_DATADIR
server_pid=$(cat "$datadir/ferretdb.pid")

# The peer: mongoimport, else pymongo.
peer=
if command -v mongoimport >/dev/null 2>&1; then
	peer=mongoimport
elif command -v python3 >/dev/null 2>&1; then
	pydir=$cache/pymongo
	if ! PYTHONPATH=$pydir python3 -c 'import pymongo, bson.json_util' 2>/dev/null; then
		echo "installing pymongo into $pydir"
		python3 -m pip install --quiet --disable-pip-version-check --target "$pydir" pymongo >"$tmp/pip.log" 2>&1 ||
			{ tail -n 3 "$tmp/pip.log"; }
	fi
	if PYTHONPATH=$pydir python3 -c 'import pymongo, bson.json_util' 2>/dev/null; then
		peer=pymongo
		cat >"$tmp/peer.py" <<'EOF'
# insert_many loader: NDJSON (Extended JSON) on stdin, one batch at a time.
import sys
from bson import json_util
from pymongo import MongoClient
url, db, coll, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = MongoClient(url)[db][coll]
batch, n = [], 0
for line in sys.stdin:
    batch.append(json_util.loads(line))
    if len(batch) == size:
        n += len(c.insert_many(batch, ordered=False).inserted_ids)
        batch = []
if batch:
    n += len(c.insert_many(batch, ordered=False).inserted_ids)
print("pymongo: %d inserted" % n, file=sys.stderr)
EOF
	fi
fi

status=0
# measure NAME LABEL DB CMD...: run CMD with $data on stdin under GNU time,
# check that DB.docs holds n documents, print a line, and add the figures
# to $tmp/NAME.sum ("seconds cpu_seconds peak_kb" per line).
measure() {
	name=$1 label=$2 db=$3
	shift 3
	if "$gnutime" -f '%e %U %S %M' -o "$tmp/$name.time" "$@" <"$data" >/dev/null 2>"$tmp/$name.err"; then
		tail -n 1 "$tmp/$name.time" >"$tmp/line"
		read -r secs user sys kb <"$tmp/line"
		cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
		echo "$secs $cpu $kb" >>"$tmp/$name.sum"
		got=$("$bindir/mig-extract" -q --count "${MIG_MONGO_URL}$db#docs")
		awk -v l="$label" -v s="$secs" -v c="$cpu" -v kb="$kb" -v n="$n" 'BEGIN {
			printf "  %-30s %8.2f s %8.0f docs/s  cpu %6.2f s  peak RSS %6.1f MB\n", l, s, (s > 0 ? n / s : 0), c, kb / 1024 }'
		if [ "$got" != "$n" ]; then
			echo "    but $db holds $got documents, not $n"
			status=1
		fi
	else
		echo "  $label: FAILED ($(head -n 1 "$tmp/$name.time"))"
		sed 's/^/      /' "$tmp/$name.err" | tail -n 5
		status=1
	fi
}

awk -v n="$n" -v b="$bytes" -v v="$MIG_FERRETDB_VERSION" 'BEGIN {
	printf "mongo-load: %d documents, %.1f MB, %.0f bytes/document, FerretDB %s (SQLite), batches of 1000\n", n, b / 1048576, b / n, v }'

# run_mig ROUND, run_peer ROUND
run_mig() {
	measure mig "mig-load" "bench_mig$1" "$bindir/mig-load" -q "${MIG_MONGO_URL}bench_mig$1#docs" \
		--batch-size "$batch"
}
run_peer() {
	case $peer in
	mongoimport)
		measure peer "mongoimport (peer)" "bench_peer$1" mongoimport --quiet \
			--uri "${MIG_MONGO_URL}bench_peer$1" --collection docs --batchSize "$batch" ;;
	pymongo)
		measure peer "pymongo insert_many (peer)" "bench_peer$1" env PYTHONPATH="$cache/pymongo" \
			python3 "$tmp/peer.py" "$MIG_MONGO_URL" "bench_peer$1" docs "$batch" ;;
	esac
}
[ -n "$peer" ] || echo "  no peer: neither mongoimport nor python3 with pymongo"
r=1
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then
		run_mig "$r"
		[ -z "$peer" ] || run_peer "$r"
	else
		[ -z "$peer" ] || run_peer "$r"
		run_mig "$r"
	fi
	r=$((r + 1))
done
if [ -n "$peer" ] && [ -s "$tmp/mig.sum" ] && [ -s "$tmp/peer.sum" ]; then
	awk -v n="$n" 'FNR == 1 { f++ } { s[f] += $1; c[f] += $2; if ($3 > k[f]) k[f] = $3; r[f]++ }
		END { printf "  %-30s %8.0f docs/s (mig-load) vs %.0f docs/s (peer): %.2fx the rate,\n", "over " r[1] " round(s):",
			n * r[1] / s[1], n * r[2] / s[2], s[2] / s[1];
		      printf "  %-30s %.1fx less CPU, %.1fx less memory (peak RSS %.1f MB vs %.1f MB)\n", "",
			c[2] / c[1], k[2] / k[1], k[1] / 1024, k[2] / 1024 }' "$tmp/mig.sum" "$tmp/peer.sum"
fi
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status" 2>/dev/null || true)
[ -z "$hwm" ] || awk -v kb="$hwm" 'BEGIN { printf "  %-30s peak RSS %.1f MB\n", "server (FerretDB)", kb / 1024 }'
exit "$status"
