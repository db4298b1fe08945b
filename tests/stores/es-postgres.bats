#!/usr/bin/env bats
# servers: es postgres
#
# PostgreSQL table -> Elasticsearch -> PostgreSQL table on real servers
# (tests/servers/es and tests/servers/postgres): every field that
# Elasticsearch keeps comes back with its type and value.  Compared record
# by record as mig-extract reads the two tables, and row by row in SQL.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_ES_URL MIG_PG_URL
	I=mig-pg-t$BATS_TEST_NUMBER
	S=mig_es_t$BATS_TEST_NUMBER
	curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null
	pgq "DROP SCHEMA IF EXISTS $S CASCADE; CREATE SCHEMA $S"
}

teardown() {
	[ -z "${I:-}" ] || curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null || true
	[ -z "${S:-}" ] || pgq "DROP SCHEMA IF EXISTS $S CASCADE" || true
}

pgq() {
	PGTZ=UTC PGOPTIONS="-c search_path=${S:-public},public -c client_min_messages=warning" \
		psql -X -q -v ON_ERROR_STOP=1 -At -c "$1"
}

@test "es: postgres table -> elasticsearch -> postgres table keeps every field" {
	pgq "CREATE TABLE src (id bigint PRIMARY KEY, name text, born timestamptz, price numeric(14,2),
		score double precision, ok boolean, data bytea, doc jsonb, n int, day date)"
	pgq "INSERT INTO src VALUES
		(1, 'alice', '2024-05-01 10:00:00.123456+00', 12.50, 1.5, true, '\\x00010203',
		 '{\"a\":[1,2],\"c\":{\"d\":null,\"e\":\"f\"}}', 7, '2024-02-29'),
		(2, 'bob \"q\" ç', '1999-12-31 23:59:59+00', -0.10, -2.25, false, '\\x', '[]', -1, '1970-01-01'),
		(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
	pgq "INSERT INTO src SELECT g, 'n' || g, timestamptz '2020-01-01' + g * interval '1.001 second',
		g / 100.0, g + 0.25, g % 2 = 0, int4send(g), jsonb_build_object('g', g), g, date '2020-01-01' + g
		FROM generate_series(4, 3000) g"
	run --separate-stderr bash -c "set -o pipefail; mig-extract '$MIG_PG_URL#$S.src' |
		mig-load --create --key id --batch-size 1000 '$MIG_ES_URL#$I'"
	status_is 0
	load_summary 3000 3000 0 0
	# the same columns again, from a description of the source; the _id
	# that elasticsearch adds goes (the values here are safe through jq)
	mig-extract -q --describe "$MIG_PG_URL#$S.src" >schema.json
	run --separate-stderr bash -c "set -o pipefail; mig-extract '$MIG_ES_URL#$I' |
		jq -c 'del(._id)' | mig-load --create --schema schema.json '$MIG_PG_URL#$S.dst'"
	status_is 0
	load_summary 3000 3000 0 0
	# record by record
	mig-extract -q "$MIG_PG_URL#$S.src" | jq -S -c . | sort >want.ndjson
	mig-extract -q "$MIG_PG_URL#$S.dst" | jq -S -c . | sort >got.ndjson
	same_json got.ndjson want.ndjson
	# and row by row, typed
	d=$(pgq "SELECT (SELECT count(*) FROM (TABLE src EXCEPT ALL TABLE dst) a) +
		(SELECT count(*) FROM (TABLE dst EXCEPT ALL TABLE src) b)")
	[ "$d" = 0 ] || fail "$d rows differ"
}
