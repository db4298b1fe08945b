#!/bin/sh
# usage: sh tests/bench/pg-copy/run.sh BINDIR
#
# PostgreSQL table -> table on one server: 1,000,000 rows of a realistic
# 10-column table (bigint, int, two texts, numeric, double, two
# timestamptz, boolean, jsonb; about 230 bytes a row), generated on the
# server with generate_series, copied by
#   mig-extract URL#src | mig-load URL#dst_mig
# and by the peer
#   psql -c "COPY src TO STDOUT" | psql -c "COPY dst_raw FROM STDIN"
# in the same run, twice each, alternating (the best of each is compared).
# Both targets are created LIKE src INCLUDING ALL, so both maintain the
# same primary key.  Prints seconds, rows/s, the mig/raw ratio, and the
# peak RSS of mig-extract and mig-load (GNU time's %e %M); checks that
# dst_mig equals src (EXCEPT ALL both ways).  Figures, not pass/fail:
# exits non-zero only when a program failed or the copy differs.
# Targets (issue 3): mig within 2.0x of raw COPY, peak RSS under 64 MB.
# The CPU seconds of mig-extract and mig-load (user + system) are printed
# too: they hold when other work shares the machine and wall times do not.
# The load average before and after is printed for the same reason.
#
# MIG_BENCH_ROWS changes the row count.  The server is a throw-away one from
# tests/servers/postgres, unless MIG_PG_URL names one (then PGHOST etc.
# should match it for psql).
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/pg-copy/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
n=${MIG_BENCH_ROWS:-1000000}
gnutime=/usr/bin/time

[ -x "$gnutime" ] || { echo "pg-copy: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
command -v psql >/dev/null 2>&1 || { echo "pg-copy: needs psql (apt-get install postgresql-client)" >&2; exit 1; }
for p in mig-load mig-extract; do
	[ -x "$bindir/$p" ] || { echo "pg-copy: $bindir/$p not found (make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
datadir=
cleanup() {
	if [ -n "$datadir" ]; then
		bash "$root/tests/servers/postgres" stop "$datadir" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${MIG_PG_URL:-}" ]; then
	bash "$root/tests/servers/postgres" start >"$tmp/env" 2>"$tmp/server.log" || {
		cat "$tmp/server.log" >&2
		echo "pg-copy: could not start a PostgreSQL server" >&2
		exit 1
	}
	. "$tmp/env"
	datadir=$MIG_PG_DATADIR
fi
url=$MIG_PG_URL

sql() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

echo "pg-copy: generating $n rows on the server"
sql "DROP TABLE IF EXISTS src, dst_mig, dst_raw"
sql "CREATE TABLE src (
	id bigint PRIMARY KEY,
	account_id integer NOT NULL,
	name text NOT NULL,
	email text,
	balance numeric(12,2),
	score double precision,
	created_at timestamptz NOT NULL,
	updated_at timestamptz,
	active boolean NOT NULL,
	attrs jsonb)"
sql "SELECT setseed(0.42)" >/dev/null
sql "INSERT INTO src SELECT g, (g::int8 * 7919) % 100000,
	'user ' || g || ' ' || md5(g::text), 'u' || g || '@example.org',
	round((random() * 100000)::numeric, 2), random() * 1000,
	timestamptz '2020-01-01 00:00:00+00' + g * interval '17 seconds' + random() * interval '1 second',
	CASE WHEN g % 5 = 0 THEN NULL ELSE now() - random() * interval '300 days' END,
	g % 3 <> 0,
	jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + g % 3], 'logins', g % 500,
		'tags', jsonb_build_array('t' || g % 10, 't' || g % 7), 'ratio', round(random()::numeric, 4))
	FROM generate_series(1, $n) g"
sql "VACUUM ANALYZE src"
sql "CREATE TABLE dst_mig (LIKE src INCLUDING ALL)"
sql "CREATE TABLE dst_raw (LIKE src INCLUDING ALL)"
size=$(sql "SELECT pg_size_pretty(pg_table_size('src'))")
echo "pg-copy: $n rows, table $size; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

raw_run() {
	sql "TRUNCATE dst_raw"
	t0=$(now)
	psql -X -q -c "COPY src TO STDOUT" | psql -X -q -v ON_ERROR_STOP=1 -c "COPY dst_raw FROM STDIN" ||
		{ echo "  raw COPY: FAILED"; status=1; }
	t1=$(now)
	raw=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	awk -v l="$1" -v s="$raw" -v n="$n" 'BEGIN {
		printf "  %-30s %8.2f s %10.0f rows/s\n", l, s, (s > 0 ? n / s : 0) }'
}

mig_run() {
	sql "TRUNCATE dst_mig"
	t0=$(now)
	if ! { "$gnutime" -f '%e %M %U %S' -o "$tmp/ext.time" "$bindir/mig-extract" -q "$url#src" 2>"$tmp/ext.err" ||
		echo fail >"$tmp/ext.fail"; } |
		"$gnutime" -f '%e %M %U %S' -o "$tmp/load.time" "$bindir/mig-load" -q "$url#dst_mig" 2>"$tmp/load.err"; then
		echo "  mig: mig-load FAILED"
		sed 's/^/      /' "$tmp/load.err" | tail -n 5
		status=1
	fi
	t1=$(now)
	if [ -e "$tmp/ext.fail" ]; then
		echo "  mig: mig-extract FAILED"
		sed 's/^/      /' "$tmp/ext.err" | tail -n 5
		status=1
		rm -f "$tmp/ext.fail"
	fi
	mig=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	ext_kb=$(tail -n 1 "$tmp/ext.time" | awk '{ print $2 }')
	load_kb=$(tail -n 1 "$tmp/load.time" | awk '{ print $2 }')
	ext_cpu=$(tail -n 1 "$tmp/ext.time" | awk '{ print $3 + $4 }')
	load_cpu=$(tail -n 1 "$tmp/load.time" | awk '{ print $3 + $4 }')
	awk -v l="$1" -v s="$mig" -v n="$n" -v e="$ext_kb" -v d="$load_kb" -v ec="$ext_cpu" \
		-v lc="$load_cpu" 'BEGIN {
		printf "  %-30s %8.2f s %10.0f rows/s   peak RSS extract %.1f MB, load %.1f MB\n",
			l, s, (s > 0 ? n / s : 0), e / 1024, d / 1024
		printf "  %-30s %8s   CPU extract %.2f s, load %.2f s\n", "", "", ec, lc }'
}

raw_best= mig_best= rss_max=0
for round in 1 2; do
	raw_run "raw COPY | COPY (round $round)"
	mig_run "mig-extract | mig-load (round $round)"
	raw_best=$(awk -v a="${raw_best:-$raw}" -v b="$raw" 'BEGIN { print (b < a ? b : a) }')
	mig_best=$(awk -v a="${mig_best:-$mig}" -v b="$mig" 'BEGIN { print (b < a ? b : a) }')
	rss_max=$(awk -v m="$rss_max" -v a="$ext_kb" -v b="$load_kb" 'BEGIN {
		x = m; if (a > x) x = a; if (b > x) x = b; print x }')
done

diff=$(sql "SELECT (SELECT count(*) FROM (TABLE src EXCEPT ALL TABLE dst_mig) a) +
	(SELECT count(*) FROM (TABLE dst_mig EXCEPT ALL TABLE src) b)")
[ "$diff" = 0 ] || { echo "  dst_mig differs from src in $diff rows"; status=1; }

awk -v r="$raw_best" -v m="$mig_best" -v kb="$rss_max" 'BEGIN {
	printf "  %-30s %8.2f s (raw) %8.2f s (mig)   mig/raw %.2fx (target <= 2.0x)\n", "best of 2", r, m, (r > 0 ? m / r : 0)
	printf "  %-30s %8.1f MB (target < 64 MB)\n", "mig peak RSS", kb / 1024 }'
[ "$diff" != 0 ] || echo "  dst_mig = src (EXCEPT ALL both ways)"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
sql "DROP TABLE src, dst_mig, dst_raw"
exit "$status"
