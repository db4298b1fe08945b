#!/bin/sh
# usage: sh tests/bench/backup/run.sh BINDIR
#
# Backup and restore of the 1,000,000-row PostgreSQL table of
# tests/bench/pg-copy (10 columns: bigint, int, two texts, numeric,
# double, two timestamptz, boolean, jsonb; about 230 bytes a row), by
#   mig-backup URL/src -o mig.mig        mig-restore mig.mig URL/dst
# and by the peers
#   pg_dump -Fc -f pg.dump src           pg_restore -d dst pg.dump
# in the same run, twice each, alternating; the best of each is compared.
# mig-restore --atomic (each table one transaction) is timed beside them.
# Both restore into an empty database; when the archive holds no native
# definition of the table (a PostgreSQL backend without native()), mig's
# target gets the table from "pg_dump -s" first, untimed, and the run says
# so.  Prints seconds, archive sizes, the mig/pg_dump ratios and mig's peak
# RSS (GNU time), and checks that both restored tables equal src (EXCEPT
# ALL both ways).  Figures, not pass/fail: exits non-zero only when a
# program failed or a copy differs.
# Targets (issue 8): backup and restore each within 1.5x of pg_dump and
# pg_restore, the archive no larger than pg_dump's.
#
# MIG_BENCH_ROWS changes the row count.  The server is a throw-away one from
# tests/servers/postgres, unless MIG_PG_URL names one (then PGHOST etc.
# should match it for psql, pg_dump and pg_restore).
set -eu

[ $# -eq 1 ] || { echo "usage: sh tests/bench/backup/run.sh BINDIR" >&2; exit 2; }
bindir=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
n=${MIG_BENCH_ROWS:-1000000}
gnutime=/usr/bin/time

[ -x "$gnutime" ] || { echo "backup: needs GNU time as $gnutime (apt-get install time)" >&2; exit 1; }
for p in psql pg_dump pg_restore; do
	command -v $p >/dev/null 2>&1 || { echo "backup: needs $p (apt-get install postgresql-client)" >&2; exit 1; }
done
for p in mig-backup mig-restore; do
	[ -x "$bindir/$p" ] || { echo "backup: $bindir/$p not found (make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-bench.XXXXXX")
datadir=
cleanup() {
	if [ -n "$datadir" ]; then
		bash "$root/tests/servers/postgres" stop "$datadir" || true
	else
		for d in mig_bench_src mig_bench_mig mig_bench_mia mig_bench_pg; do
			psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d" 2>/dev/null || true
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${MIG_PG_URL:-}" ]; then
	bash "$root/tests/servers/postgres" start >"$tmp/env" 2>"$tmp/server.log" || {
		cat "$tmp/server.log" >&2
		echo "backup: could not start a PostgreSQL server" >&2
		exit 1
	}
	. "$tmp/env"
	datadir=$MIG_PG_DATADIR
fi
base=${MIG_PG_URL%/*}

# sql DB SQL
sql() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At -d "$1" -c "$2"
}

fresh_db() {
	sql postgres "DROP DATABASE IF EXISTS $1"
	sql postgres "CREATE DATABASE $1"
}

echo "backup: generating $n rows on the server"
fresh_db mig_bench_src
sql mig_bench_src "CREATE TABLE src (
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
sql mig_bench_src "SELECT setseed(0.42)" >/dev/null
sql mig_bench_src "INSERT INTO src SELECT g, (g::int8 * 7919) % 100000,
	'user ' || g || ' ' || md5(g::text), 'u' || g || '@example.org',
	round((random() * 100000)::numeric, 2), random() * 1000,
	timestamptz '2020-01-01 00:00:00+00' + g * interval '17 seconds' + random() * interval '1 second',
	CASE WHEN g % 5 = 0 THEN NULL ELSE now() - random() * interval '300 days' END,
	g % 3 <> 0,
	jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + g % 3], 'logins', g % 500,
		'tags', jsonb_build_array('t' || g % 10, 't' || g % 7), 'ratio', round(random()::numeric, 4))
	FROM generate_series(1, $n) g"
sql mig_bench_src "VACUUM ANALYZE src"
size=$(sql mig_bench_src "SELECT pg_size_pretty(pg_table_size('src'))")
echo "backup: $n rows, table $size; load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"

status=0
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
line() {
	awk -v l="$1" -v s="$2" -v x="$3" 'BEGIN { printf "  %-34s %8.2f s   %s\n", l, s, x }'
}
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a ? b : a) }'; }

native=
run_round() {
	r=$1
	# pg_dump
	t0=$(now)
	pg_dump -Fc -d mig_bench_src -f "$tmp/pg.dump" || { echo "  pg_dump: FAILED"; status=1; }
	t1=$(now)
	pgd=$(secs "$t0" "$t1")
	pgd_size=$(stat -c %s "$tmp/pg.dump")
	line "pg_dump -Fc (round $r)" "$pgd" "$pgd_size bytes"
	# mig-backup
	t0=$(now)
	if ! "$gnutime" -f '%e %M' -o "$tmp/bk.time" "$bindir/mig-backup" -q "$base/mig_bench_src" \
		-o "$tmp/mig.mig" 2>"$tmp/bk.err"; then
		echo "  mig-backup: FAILED"
		sed 's/^/      /' "$tmp/bk.err" | tail -n 5
		status=1
	fi
	t1=$(now)
	mbk=$(secs "$t0" "$t1")
	mbk_size=$(stat -c %s "$tmp/mig.mig")
	bk_kb=$(tail -n 1 "$tmp/bk.time" | awk '{ print $2 }')
	line "mig-backup (round $r)" "$mbk" "$mbk_size bytes, peak RSS $(awk -v k="$bk_kb" 'BEGIN { printf "%.1f", k / 1024 }') MB"
	# pg_restore, into an empty database
	fresh_db mig_bench_pg
	t0=$(now)
	pg_restore -d mig_bench_pg "$tmp/pg.dump" || { echo "  pg_restore: FAILED"; status=1; }
	t1=$(now)
	pgr=$(secs "$t0" "$t1")
	line "pg_restore (round $r)" "$pgr" ""
	# mig-restore, into an empty database
	fresh_db mig_bench_mig
	if tar -xOf "$tmp/mig.mig" schema/public.src.json | grep -q '"x-mig-native"'; then
		native=1
	else
		native=0
		pg_dump -s -t src -d mig_bench_src | psql -X -q -d mig_bench_mig >/dev/null
	fi
	t0=$(now)
	if ! "$gnutime" -f '%e %M' -o "$tmp/rs.time" "$bindir/mig-restore" -q "$tmp/mig.mig" \
		"$base/mig_bench_mig" 2>"$tmp/rs.err"; then
		echo "  mig-restore: FAILED"
		sed 's/^/      /' "$tmp/rs.err" | tail -n 5
		status=1
	fi
	t1=$(now)
	mrs=$(secs "$t0" "$t1")
	rs_kb=$(tail -n 1 "$tmp/rs.time" | awk '{ print $2 }')
	line "mig-restore (round $r)" "$mrs" "peak RSS $(awk -v k="$rs_kb" 'BEGIN { printf "%.1f", k / 1024 }') MB"
	# mig-restore --atomic, into an empty database
	fresh_db mig_bench_mia
	[ "$native" = 1 ] || pg_dump -s -t src -d mig_bench_src | psql -X -q -d mig_bench_mia >/dev/null
	t0=$(now)
	if ! "$bindir/mig-restore" -q --atomic "$tmp/mig.mig" "$base/mig_bench_mia" 2>"$tmp/rs.err"; then
		echo "  mig-restore --atomic: FAILED"
		sed 's/^/      /' "$tmp/rs.err" | tail -n 5
		status=1
	fi
	t1=$(now)
	mra=$(secs "$t0" "$t1")
	line "mig-restore --atomic (round $r)" "$mra" ""
	best_pgd=$(min "$best_pgd" "$pgd")
	best_mbk=$(min "$best_mbk" "$mbk")
	best_pgr=$(min "$best_pgr" "$pgr")
	best_mrs=$(min "$best_mrs" "$mrs")
	best_mra=$(min "$best_mra" "$mra")
}

best_pgd= best_mbk= best_pgr= best_mrs= best_mra=
for round in 1 2; do
	run_round "$round"
done
[ "$native" = 1 ] ||
	echo "  (the archive has no native definition: mig-restore's table came from pg_dump -s, untimed)"

# compare each restored table with src: both databases are on one server,
# so copy src's rows over as text and compare there
for d in mig_bench_mig mig_bench_mia mig_bench_pg; do
	sql "$d" "CREATE TABLE src_copy (LIKE src)"
	psql -X -q -d mig_bench_src -c "COPY src TO STDOUT" | psql -X -q -d "$d" -c "COPY src_copy FROM STDIN"
	diff=$(sql "$d" "SELECT (SELECT count(*) FROM (TABLE src EXCEPT ALL TABLE src_copy) a) +
		(SELECT count(*) FROM (TABLE src_copy EXCEPT ALL TABLE src) b)")
	if [ "$diff" = 0 ]; then
		echo "  $d.src = src (EXCEPT ALL both ways)"
	else
		echo "  $d.src differs from src in $diff rows"
		status=1
	fi
done

awk -v a="$best_pgd" -v b="$best_mbk" -v c="$best_pgr" -v d="$best_mrs" -v s="$pgd_size" \
	-v m="$mbk_size" -v e="$best_mra" 'BEGIN {
	printf "  %-34s %8.2f s (pg_dump) %8.2f s (mig)   mig/pg_dump %.2fx (target <= 1.5x)\n",
		"backup, best of 2", a, b, (a > 0 ? b / a : 0)
	printf "  %-34s %8.2f s (pg_restore) %5.2f s (mig)   mig/pg_restore %.2fx (target <= 1.5x)\n",
		"restore, best of 2", c, d, (c > 0 ? d / c : 0)
	printf "  %-34s %8.2f s (pg_restore) %5.2f s (mig)   mig/pg_restore %.2fx\n",
		"restore --atomic, best of 2", c, e, (c > 0 ? e / c : 0)
	printf "  %-34s %8.1f MB (pg_dump) %7.1f MB (mig)  mig/pg_dump %.3fx (target <= 1.0x)\n",
		"archive size", s / 1e6, m / 1e6, (s > 0 ? m / s : 0) }'
exit "$status"
