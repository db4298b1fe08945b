#!/usr/bin/env bats
# servers: postgres mongo es
#
# A PostgreSQL backup restored into the other kinds of store (issue 8):
# MongoDB (FerretDB v1, tests/servers/mongo) and Elasticsearch
# (tests/servers/es) each get the tables as collections or indices made
# from the archive's JSON Schema, and the records come back as the archive
# holds them - compared with mig-restore --cat in canonical Extended JSON,
# so that the types are compared as well as the values, and checked in
# the store itself ($type queries, the index mapping).  The source is set
# up with psql, independently of mig.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_PG_URL MIG_MONGO_URL MIG_ES_URL
	SRC=mig_pgx${BATS_TEST_NUMBER}_src
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $SRC" -c "CREATE DATABASE $SRC"
	M="${MIG_MONGO_URL%/}/mig_pgx_${BATS_TEST_NUMBER}_$$"
	I=mig-pgx-$BATS_TEST_NUMBER
	curl -s -X DELETE "$MIG_ES_HTTP/$I-users,$I-orders?ignore_unavailable=true" >/dev/null
}

teardown() {
	[ -z "${SRC:-}" ] || psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $SRC" || true
	[ -z "${I:-}" ] || curl -s -X DELETE "$MIG_ES_HTTP/$I-users,$I-orders?ignore_unavailable=true" >/dev/null || true
}

# Two tables: every type both stores keep (no numeric: FerretDB v1 has no
# Decimal128), a key past 2^53, NULLs, and 1200 rows with a foreign key.
make_src() {
	PGTZ=UTC PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 \
		-d "$SRC" -f - <<'EOF'
CREATE TABLE users (id bigint PRIMARY KEY, email text UNIQUE NOT NULL, n int,
	score double precision, ok boolean, born timestamptz, prefs jsonb, avatar bytea, day date);
INSERT INTO users VALUES
 (1, 'a@example.org', 2147483647, 1.5, true, '2024-05-01 10:00:00.123+00',
  '{"theme": "dark", "n": [1, 2.5], "x": {"y": null}}', '\x00ff10', '2024-02-29'),
 (2, 'b@example.org', -7, 2.0, false, '1969-12-31 23:59:59+00', '[]', '\x', '1970-01-01'),
 (9007199254740993, E'c "q" \u00e9@example.org', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE orders (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id),
	note text, at timestamptz);
INSERT INTO orders (user_id, note, at)
	SELECT 1 + g % 2, 'order ' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour'
	FROM generate_series(1, 1200) g;
EOF
	mig-backup -q "${MIG_PG_URL%/*}/$SRC" -o b.mig
}

# archived NAME: the collection as the archive holds it, canonical, sorted.
archived() {
	mig-restore --cat "$1" --canonical b.mig | jq -S -c . | sort
}

@test "postgres backup -> restore into MongoDB: every record, every type" {
	make_src
	run --separate-stderr mig-restore b.mig "$M"
	status_is 0
	stderr_has "2 collections, 1203 read, 1203 inserted"
	for t in public.users public.orders; do
		archived $t >want.ndjson
		mig-extract -q --canonical "$M#$t" | jq -S -c 'del(._id)' | sort >got.ndjson
		[ -s want.ndjson ] || fail "nothing archived for $t"
		diff want.ndjson got.ndjson || fail "$t differs in MongoDB"
	done
	# by the server's own types
	for q in '{"id":{"$type":"long"}}' '{"n":{"$type":"int"}}' '{"score":{"$type":"double"}}' \
		'{"born":{"$type":"date"}}' '{"avatar":{"$type":"binData"}}' '{"prefs.x":{"$type":"object"}}'; do
		[ "$(mig-extract -q --count --where "$q" "$M#public.users")" -ge 1 ] ||
			fail "no document where $q"
	done
	[ "$(mig-extract -q --count --where '{"id":9007199254740993}' "$M#public.users")" = 1 ] ||
		fail "the key past 2^53 is not there exactly"
}

@test "postgres backup -> restore into Elasticsearch: every record, the mapping from the schema" {
	make_src
	run --separate-stderr mig-restore b.mig "$MIG_ES_URL" --rename "public.users=$I-users" \
		--rename "public.orders=$I-orders"
	status_is 0
	stderr_has "2 collections, 1203 read, 1203 inserted"
	# Elasticsearch keeps the mapping's type, not int32 apart from int64:
	# both sides' integers are compared as one kind
	ints='walk(if type == "object" and (has("$numberInt") or has("$numberLong"))
		then {"$int": (.["$numberInt"] // .["$numberLong"])} else . end)'
	for t in users orders; do
		archived public.$t | jq -S -c "$ints" | sort >want.ndjson
		mig-extract -q --canonical "$MIG_ES_URL#$I-$t" | jq -S -c "del(._id) | $ints" | sort >got.ndjson
		[ -s want.ndjson ] || fail "nothing archived for $t"
		diff want.ndjson got.ndjson || fail "$t differs in Elasticsearch"
	done
	curl -s "$MIG_ES_HTTP/$I-users/_mapping" | jq -c ".[\"$I-users\"].mappings.properties |
		{id: .id.type, score: .score.type, ok: .ok.type, born: .born.type, avatar: .avatar.type}" >map.json
	[ "$(cat map.json)" = '{"id":"long","score":"double","ok":"boolean","born":"date","avatar":"binary"}' ] ||
		fail "the mapping: $(cat map.json)"
}
