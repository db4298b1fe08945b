#!/usr/bin/env bats
# servers: mongo
#
# mig-backup and mig-restore against a real MongoDB-protocol server
# (FerretDB v1, tests/servers/mongo): the collections' native definitions
# (options from listCollections, indexes from listIndexes) go into the
# archive and come back on a restore into MongoDB.  The server is set up and
# inspected with build/tools/mongo-run (tests/tools/mongo-run.c: runCommand,
# independently of mig).  Each test uses databases of its own.
#
# What FerretDB 1.24 does, which the tests pin down: it has no snapshot
# reads (no replica set, no sessions: a readConcern is taken and ignored),
# no validators (create with a validator: code 238, not implemented), no TTL
# and no partial indexes (createIndexes with expireAfterSeconds or
# partialFilterExpression: 238); it takes "sparse" and drops it (listIndexes
# does not show it).  Unique and compound indexes it has.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	export MONGOC_DISABLE_SHM=1
	[ -n "${MIG_MONGO_URL:-}" ] || fail "MIG_MONGO_URL is not set: run under tests/run.sh (make check), or eval \"\$(bash tests/servers/mongo start)\""
	RUN=$BATS_TEST_DIRNAME/../../build/tools/mongo-run
	[ -x "$RUN" ] || fail "$RUN is missing: make unit-bin builds it"
	SRC="${MIG_MONGO_URL%/}/mig_bk${BATS_TEST_NUMBER}_$$"
	DST="${MIG_MONGO_URL%/}/mig_rs${BATS_TEST_NUMBER}_$$"
}

teardown() {
	[ -z "${RUN:-}" ] || { "$RUN" "$SRC" '{"dropDatabase":1}'; "$RUN" "$DST" '{"dropDatabase":1}'; } >/dev/null 2>&1 || true
}

# mrun DB CMD...: runCommand on DB, the replies on stdout; fails the test
# when the server refuses.
mrun() {
	"$RUN" "$@" || fail "mongo-run $* failed"
}

# indexes DB COLL: the indexes of COLL, sorted by name, without "v".
indexes() {
	mrun "$1" "{\"listIndexes\":\"$2\"}" | jq -c '.cursor.firstBatch | map(del(.v)) | sort_by(.name)'
}

# fingerprint DB COLL: the count and the SHA-256 of the documents of COLL
# in canonical Extended JSON, in _id order.
fingerprint() {
	local n sum
	n=$(mig-extract -q --count "$1#$2") || fail "cannot count $1#$2"
	sum=$(mig-extract -q --canonical --order-by _id "$1#$2" | sha256sum) || fail "cannot read $1#$2"
	printf '%s %s\n' "$n" "${sum%% *}"
}

# make_src: two collections with a unique, a compound and a descending
# index, and typed documents.
make_src() {
	mrun "$SRC" '{"create":"people"}' '{"create":"events"}' \
		'{"createIndexes":"people","indexes":[{"key":{"email":1},"name":"email_unique","unique":true},{"key":{"last":1,"first":-1},"name":"by_name"}]}' \
		'{"createIndexes":"events","indexes":[{"key":{"at":-1},"name":"at_desc"}]}' >/dev/null
	ndjson people.ndjson \
		'{"_id":1,"email":"ada@example.org","last":"Lovelace","first":"Ada","n":{"$numberLong":"7"},"f":2.0,"born":{"$date":"1815-12-10T00:00:00.000Z"}}' \
		'{"_id":2,"email":"alan@example.org","last":"Turing","first":"Alan","n":7,"tags":["a",{"b":null}]}' \
		'{"_id":3,"email":"grace@example.org","last":"Hopper","first":"Grace","bin":{"$binary":{"base64":"AQID","subType":"00"}}}'
	mig-load -q "$SRC#people" -i people.ndjson || fail "cannot load people"
	seq 1 250 | jq -c '{_id: {"$oid": ("58921b3e6e32ab156a22" + (. + 4096 | tostring))}, at: {"$date": "2024-05-01T10:00:00.000Z"}, i: .}' >events.ndjson
	mig-load -q "$SRC#events" -i events.ndjson || fail "cannot load events"
}

@test "mongo-backup: indexes go into the archive and come back on a restore into another database" {
	make_src
	run --separate-stderr mig-backup "$SRC" -o b.tar
	status_is 0
	# FerretDB has no snapshot reads: the manifest says so, and why
	stderr_has 'no snapshot reads: the server is not a replica set nor a sharded cluster'
	tar -xOf b.tar manifest.json >manifest.json
	jq_true manifest.json '.consistent == false and (.collections | map(.name)) == ["events", "people"]'
	tar -xOf b.tar schema/people.json >people.schema.json
	jq_true people.schema.json '."x-mig-native".options == {} and (."x-mig-native".indexes | sort_by(.name)) == [{"key":{"last":1,"first":-1},"name":"by_name"},{"key":{"email":1},"name":"email_unique","unique":true}]'
	run --separate-stderr mig-restore b.tar "$DST"
	status_is 0
	for c in people events; do
		[ "$(fingerprint "$SRC" "$c")" = "$(fingerprint "$DST" "$c")" ] ||
			fail "$c: the documents differ: $(fingerprint "$SRC" "$c") vs $(fingerprint "$DST" "$c")"
		[ "$(indexes "$SRC" "$c")" = "$(indexes "$DST" "$c")" ] ||
			fail "$c: the indexes differ: $(indexes "$SRC" "$c") vs $(indexes "$DST" "$c")"
	done
	[ "$(fingerprint "$DST" events | cut -d' ' -f1)" = 250 ] || fail "events: not 250 documents"
	# the unique index is there, not only listed
	echo '{"_id":9,"email":"ada@example.org"}' >dup.ndjson
	run --separate-stderr mig-load "$DST#people" -i dup.ndjson --reject rej.ndjson
	stderr_has '1 rejected'
	jq_true rej.ndjson '.code == "11000"'
}

@test "mongo-restore --rename: the indexes go to the new collection" {
	make_src
	mig-backup -q "$SRC" --only people -o b.tar
	run --separate-stderr mig-restore b.tar "$DST" --rename people=staff
	status_is 0
	[ "$(indexes "$SRC" people | jq -c 'map(del(.ns))')" = "$(indexes "$DST" staff | jq -c 'map(del(.ns))')" ] ||
		fail "the indexes differ: $(indexes "$DST" staff)"
	[ "$(fingerprint "$SRC" people)" = "$(fingerprint "$DST" staff)" ] || fail "the documents differ"
}

@test "FerretDB has no validators, TTL or partial indexes" {
	# what the next test relies on; when FerretDB learns them, the tests
	# above should check them in a round trip instead
	run "$RUN" "$SRC" '{"create":"v","validator":{"$jsonSchema":{"required":["a"]}}}'
	[ "$status" -eq 1 ] && has "$output" 'code 238' stderr || fail "a validator: $output"
	mrun "$SRC" '{"create":"c"}' >/dev/null
	run "$RUN" "$SRC" '{"createIndexes":"c","indexes":[{"key":{"t":1},"name":"ttl","expireAfterSeconds":60}]}'
	[ "$status" -eq 1 ] && has "$output" 'code 238' stderr || fail "a TTL index: $output"
	run "$RUN" "$SRC" '{"createIndexes":"c","indexes":[{"key":{"p":1},"name":"part","partialFilterExpression":{"p":{"$exists":true}}}]}'
	[ "$status" -eq 1 ] && has "$output" 'code 238' stderr || fail "a partial index: $output"
}

@test "mongo-restore: a validator, a TTL and a partial index the server cannot make are named, the rest restored" {
	make_src
	mig-backup -q "$SRC" --only people -o b.tar
	# the archive of a MongoDB that has them: the definition edited, the
	# checksum in the manifest with it, the tar made again in mig's order
	mkdir x
	tar -C x -xf b.tar
	jq '."x-mig-native".options = {"validator":{"$jsonSchema":{"bsonType":"object","required":["email"]}},"validationLevel":"strict"}
	    | ."x-mig-native".indexes += [{"key":{"born":1},"name":"born_ttl","expireAfterSeconds":{"$numberInt":"3600"}},
	                                 {"key":{"last":1},"name":"last_partial","partialFilterExpression":{"last":{"$exists":true}}}]' \
		x/schema/people.json >x/s.json
	mv x/s.json x/schema/people.json
	sum=$(sha256sum x/schema/people.json)
	jq --arg s "${sum%% *}" '.collections[0].schema_sha256 = $s' x/manifest.json >x/m.json
	mv x/m.json x/manifest.json
	(cd x && tar --format=ustar -cf ../edited.tar manifest.json data/people.ndjson.zst schema/people.json)
	run --separate-stderr mig-restore edited.tar "$DST"
	status_is 0
	stderr_has 'the server cannot create the collection with its archived options'
	stderr_has 'validator'
	stderr_has 'the server cannot create the index born_ttl'
	stderr_has 'the server cannot create the index last_partial'
	[ "$(fingerprint "$SRC" people)" = "$(fingerprint "$DST" people)" ] || fail "the documents differ"
	[ "$(indexes "$DST" people | jq -c 'map(.name)')" = '["_id_","by_name","email_unique"]' ] ||
		fail "the indexes: $(indexes "$DST" people)"
}

@test "mongo-restore into another kind of store creates from the JSON Schema, not the indexes" {
	make_src
	mig-backup -q "$SRC" --only people -o b.tar
	run --separate-stderr mig-restore b.tar "sqlite:$BATS_TEST_TMPDIR/t.db"
	status_is 0
	[ "$(sqlite3 t.db 'SELECT count(*) FROM people')" = 3 ] || fail "not 3 rows"
	[ -z "$(sqlite3 t.db "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('by_name', 'email_unique')")" ] ||
		fail "MongoDB's indexes were made in SQLite"
}
