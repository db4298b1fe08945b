#!/usr/bin/env bats
# servers: es
#
# The Elasticsearch backend against a real node (tests/servers/es, started
# by tests/run.sh, which exports MIG_ES_URL, MIG_ES_HTTP and
# MIG_ES_DATADIR).  Each test works in indices of its own, named after the
# test, deleted afterwards.  The node is set up and inspected with curl,
# independently of mig; mig-extract and mig-load come from PATH.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_ES_URL
	I=mig-t$BATS_TEST_NUMBER
	E="$MIG_ES_URL#$I"
	esq DELETE "/$I*" >/dev/null
}

teardown() {
	[ -z "${I:-}" ] || esq DELETE "/$I*" >/dev/null || true
}

# esq METHOD PATH [JSON]: one request to the node; the answer on stdout.
esq() {
	if [ $# -ge 3 ]; then
		curl -s -X "$1" "$MIG_ES_HTTP$2" -H 'Content-Type: application/json' --data-binary "$3"
	else
		curl -s -X "$1" "$MIG_ES_HTTP$2"
	fi
}

# docs INDEX: how many documents INDEX holds, after a refresh (by curl).
docs() {
	esq POST "/$1/_refresh" >/dev/null
	esq GET "/$1/_count" | jq -r .count
}

# source INDEX ID: the stored _source of one document (compact JSON).
source_of() {
	esq GET "/$1/_doc/$2" | jq -c ._source
}

# --------------------------------------------------------------- round trip

@test "es: load --create, extract: dates, decimals, nested objects, arrays, ids come back" {
	cat >in.ndjson <<'EOF'
{"_id":"a","name":"alice","when":{"$date":"2024-05-01T10:00:00.123456Z"},"price":{"$numberDecimal":"12.50"},"tags":["x","y"],"addr":{"city":"Paris","geo":{"lat":48.85,"lon":2.35}},"n":1,"big":{"$numberLong":"9007199254740993"},"oid":{"$oid":"0123456789abcdef01234567"},"bin":{"$binary":{"base64":"AAECAw==","subType":"00"}},"ok":true,"days":[{"$date":"2024-01-01T00:00:00.000Z"},{"$date":"2024-01-02T00:00:00.000Z"}],"items":[{"sku":"s1","at":{"$date":"2023-03-03T03:03:03.003Z"}},{"sku":"s2"}]}
{"_id":"b","name":"bob","when":{"$date":"1970-01-01T00:00:00.001Z"},"price":{"$numberDecimal":"-0.10"},"tags":[],"addr":{"city":"Rome"},"n":2.5,"ok":false,"looks_like_a_date":"2024-05-01","nothing":null}
{"_id":"c","name":"çà et là \"quoted\" \\ tab\t","when":{"$date":"2038-01-19T03:14:08.000Z"},"price":{"$numberDecimal":"12345678901234567890.123456789"},"n":-7}
EOF
	run --separate-stderr mig-load --create "$E" -i in.ndjson
	status_is 0
	load_summary 3 3 0 0
	[ "$(docs "$I")" = 3 ] || fail "the index does not hold 3 documents"
	# what Elasticsearch was given: plain values, the id out of the source
	[ "$(source_of "$I" a | jq -c '[.when, .price, .oid, .bin, has("_id")]')" = \
		'["2024-05-01T10:00:00.123456Z","12.50","0123456789abcdef01234567","AAECAw==",false]' ] ||
		fail "source of a: $(source_of "$I" a)"
	# (jq would round it: the raw answer)
	esq GET "/$I/_doc/a" | grep -q '"big":9007199254740993[,}]' || fail "big: $(esq GET "/$I/_doc/a")"
	run --separate-stderr mig-extract "$E"
	status_is 0
	printf '%s\n' "$output" | jq -S -c . | sort >got.ndjson
	jq -S -c . in.ndjson | sed 's/{"$numberLong":"9007199254740993"}/9007199254740993/' | sort >want.ndjson
	same_json got.ndjson want.ndjson
}

@test "es: load --create with a number, \$oid or \$date _id: the id is the document's, not a field of the mapping" {
	printf '%s\n' '{"_id":7,"v":1}' '{"_id":8,"v":2}' >num.ndjson
	run --separate-stderr mig-load --create "$E" -i num.ndjson
	status_is 0
	load_summary 2 2 0 0
	[ "$(source_of "$I" 7)" = '{"v":1}' ] || fail "document 7: $(esq GET "/$I/_doc/7")"
	esq GET "/$I/_mapping" | jq -e ".\"$I\".mappings.properties | has(\"_id\") | not" >/dev/null ||
		fail "mapping: $(esq GET "/$I/_mapping")"
	printf '%s\n' '{"_id":{"$oid":"0123456789abcdef01234567"},"_index":"elsewhere","v":1}' >oid.ndjson
	run --separate-stderr mig-load --create --key _id "$E-oid" -i oid.ndjson
	status_is 0
	load_summary 1 1 0 0
	[ "$(source_of "$I-oid" 0123456789abcdef01234567)" = '{"v":1}' ] ||
		fail "document: $(esq GET "/$I-oid/_doc/0123456789abcdef01234567")"
	printf '%s\n' '{"_id":{"$date":"2024-05-01T10:00:00.000Z"},"v":1}' >date.ndjson
	run --separate-stderr mig-load --create "$E-date" -i date.ndjson
	status_is 0
	load_summary 1 1 0 0
}

@test "es: --create maps the fields that first appear after the first batch as it maps the first" {
	# batch 1 (two records) has v and o.a; batch 2 brings a date, a
	# decimal, an oid, a date inside o; batch 3 an integer in a field that
	# was only null before
	printf '%s\n' '{"_id":1,"v":1,"o":{"a":1},"n":null}' '{"_id":2,"v":2}' \
		'{"_id":3,"d":{"$date":"2024-01-01T00:00:00Z"},"m":{"$numberDecimal":"1.10"},"o":{"b":{"$date":"2024-02-02T00:00:00Z"}},"v":3}' \
		'{"_id":4,"x":{"$oid":"0123456789abcdef01234567"},"s":"2024-05-01"}' \
		'{"_id":5,"n":5}' >in.ndjson
	run --separate-stderr mig-load --create --batch-size 2 "$E" -i in.ndjson
	status_is 0
	load_summary 5 5 0 0
	esq GET "/$I/_mapping" | jq -c ".[\"$I\"].mappings.properties" >map.json
	jq -e '.d.type == "date" and .m.type == "double" and .m.meta.mig_type == "decimal"
		and .x.meta.mig_type == "oid" and .o.properties.b.type == "date"
		and .o.properties.a.type == "long" and .n.type == "long"
		and .s.type == "text" and (has("_id") | not)' map.json >/dev/null ||
		fail "mapping: $(cat map.json)"
	run --separate-stderr mig-extract "$E"
	status_is 0
	printf '%s\n' "$output" | jq -S -c . | sort >got.ndjson
	jq -S -c '._id |= tostring | if .d then .d["$date"] = "2024-01-01T00:00:00.000Z" else . end
		| if .o.b then .o.b["$date"] = "2024-02-02T00:00:00.000Z" else . end' in.ndjson | sort >want.ndjson
	same_json got.ndjson want.ndjson
}

@test "es: a string that looks like a date stays a string; a date mapped by hand comes back as \$date" {
	esq PUT "/$I" '{"mappings":{"properties":{"d":{"type":"date"},"s":{"type":"keyword"}}}}' >/dev/null
	ndjson in.ndjson '{"_id":"1","d":"2024-02-03T04:05:06Z","s":"2024-02-03"}' '{"_id":"2","d":1700000000000}'
	run --separate-stderr mig-load "$E" -i in.ndjson
	status_is 0
	run --separate-stderr mig-extract "$E"
	status_is 0
	same_json_text "$output" <(printf '%s\n' \
		'{"_id":"1","d":{"$date":"2024-02-03T04:05:06.000Z"},"s":"2024-02-03"}' \
		'{"_id":"2","d":{"$date":"2023-11-14T22:13:20.000Z"}}')
}

@test "es: a decimal into a numeric field goes as a number, into a keyword as a string" {
	esq PUT "/$I" '{"mappings":{"properties":{"amount":{"type":"double"},"code":{"type":"keyword"}}}}' >/dev/null
	ndjson in.ndjson '{"_id":"1","amount":{"$numberDecimal":"12.50"},"code":{"$numberDecimal":"007"}}'
	run --separate-stderr mig-load "$E" -i in.ndjson
	status_is 0
	[ "$(esq GET "/$I/_doc/1" | jq -c '._source | [(.amount | type), (.code | type)]')" = '["number","string"]' ] ||
		fail "source: $(source_of "$I" 1)"
}

@test "es: --describe gives a JSON Schema of the mapping; --create --schema makes the same mapping" {
	esq PUT "/$I" '{"mappings":{"properties":{"when":{"type":"date"},"name":{"type":"keyword"},"body":{"type":"text"},"n":{"type":"integer"},"x":{"type":"double"},"ok":{"type":"boolean"},"raw":{"type":"binary"},"addr":{"properties":{"city":{"type":"keyword"}}},"lines":{"type":"nested","properties":{"sku":{"type":"keyword"},"qty":{"type":"long"}}}}}}' >/dev/null
	run --separate-stderr mig-extract --describe "$E"
	status_is 0
	printf '%s\n' "$output" >schema.json
	jq_true schema.json '."$schema" == "https://json-schema.org/draft/2020-12/schema" and .type == "object"'
	jq_true schema.json '.properties._id.type == "string" and ."x-mig-primary-key" == ["_id"]'
	jq_true schema.json '.properties.when == {"type":"string","format":"date-time","x-es-type":"date"}'
	jq_true schema.json '.properties.name.type == "string" and .properties.body."x-es-type" == "text"'
	jq_true schema.json '.properties.n.type == "integer" and .properties.n.maximum == 2147483647'
	jq_true schema.json '.properties.x.type == "number" and .properties.ok.type == "boolean"'
	jq_true schema.json '.properties.raw.contentEncoding == "base64"'
	jq_true schema.json '.properties.addr.type == "object" and .properties.addr.properties.city.type == "string"'
	jq_true schema.json '.properties.lines.type == "array" and .properties.lines.items.properties.qty.type == "integer"'
	run --separate-stderr mig-load --create --schema schema.json "$MIG_ES_URL#$I-copy" </dev/null
	status_is 0
	diff <(esq GET "/$I/_mapping" | jq -S ".[\"$I\"].mappings.properties") \
		<(esq GET "/$I-copy/_mapping" | jq -S ".[\"$I-copy\"].mappings.properties") ||
		fail "the mappings differ"
}

# -------------------------------------------------------------------- modes

@test "es: insert rejects a duplicate _id, skips an identical one; --on-conflict skip passes over" {
	ndjson in.ndjson '{"_id":"1","v":1}' '{"_id":"2","v":2}'
	run --separate-stderr mig-load --create "$E" -i in.ndjson
	status_is 0
	# the same records again: what a resumed load sends; not an error
	run --separate-stderr mig-load "$E" -i in.ndjson
	status_is 0
	stderr_matches "2 read, 0 inserted, 0 updated, 2 skipped, 0 rejected"
	ndjson dup.ndjson '{"_id":"1","v":10}' '{"_id":"3","v":3}'
	run --separate-stderr mig-load "$E" -i dup.ndjson --reject rej.ndjson
	status_is 0
	load_summary 2 1 0 1
	jq_true rej.ndjson '.line == 1 and .code == "version_conflict_engine_exception" and (.error | test("_id 1 already exists"))'
	run --separate-stderr mig-load "$E" -i dup.ndjson --on-conflict skip
	status_is 0
	stderr_matches "2 read, 0 inserted, 0 updated, 2 skipped, 0 rejected"
	[ "$(source_of "$I" 1)" = '{"v":1}' ] || fail "document 1 changed: $(source_of "$I" 1)"
}

@test "es: upsert merges fields, replace overwrites, merge updates or adds" {
	ndjson in.ndjson '{"_id":"1","a":1,"b":{"x":1}}' '{"_id":"2","a":2}'
	mig-load -q --create "$E" -i in.ndjson
	ndjson up.ndjson '{"_id":"1","c":3,"b":{"y":2}}' '{"_id":"9","a":9}'
	run --separate-stderr mig-load --mode upsert --key _id "$E" -i up.ndjson
	status_is 0
	load_summary 2 1 1 0
	[ "$(source_of "$I" 1 | jq -S -c .)" = '{"a":1,"b":{"x":1,"y":2},"c":3}' ] || fail "upsert: $(source_of "$I" 1)"
	ndjson rep.ndjson '{"_id":"1","z":0}'
	run --separate-stderr mig-load --mode replace --key _id "$E" -i rep.ndjson
	status_is 0
	load_summary 1 0 1 0
	[ "$(source_of "$I" 1)" = '{"z":0}' ] || fail "replace: $(source_of "$I" 1)"
	# merge, as in PostgreSQL and MongoDB, adds a record whose key is new
	ndjson mer.ndjson '{"_id":"2","d":5}' '{"_id":"404","d":5}'
	run --separate-stderr mig-load --mode merge --key _id "$E" -i mer.ndjson --reject rej.ndjson
	status_is 0
	load_summary 2 1 1 0
	[ ! -s rej.ndjson ] || fail "merge rejected: $(cat rej.ndjson)"
	[ "$(source_of "$I" 2 | jq -S -c .)" = '{"a":2,"d":5}' ] || fail "merge: $(source_of "$I" 2)"
	[ "$(source_of "$I" 404)" = '{"d":5}' ] || fail "merge did not add 404: $(source_of "$I" 404)"
	# and a dry run counts it so
	ndjson mer2.ndjson '{"_id":"2","d":6}' '{"_id":"405","d":6}'
	run --separate-stderr mig-load --dry-run --mode merge --key _id "$E" -i mer2.ndjson
	status_is 0
	stderr_matches "dry run: 2 read, 1 would be inserted, 1 would be updated"
}

@test "es: --mode update rejects a key not found; --mode delete deletes by key, 404 counted as not found" {
	ndjson in.ndjson '{"id":1,"a":1,"b":"x"}' '{"id":2,"a":2,"b":"y"}' '{"id":3,"a":3}'
	mig-load -q --create --key id "$E" -i in.ndjson
	ndjson up.ndjson '{"id":1,"a":10}' '{"id":7,"a":70}' '{"id":2,"b":"Y"}'
	run --separate-stderr mig-load --mode update --key id "$E" -i up.ndjson --reject rej.ndjson
	status_is 0
	load_summary 3 0 2 1
	jq_true rej.ndjson '.line == 2 and (.error | endswith("no document with key id=7"))'
	[ "$(source_of "$I" 1 | jq -S -c .)" = '{"a":10,"b":"x","id":1}' ] || fail "update: $(source_of "$I" 1)"
	[ "$(docs "$I")" = 3 ] || fail "a document was added"
	ndjson del.ndjson '{"id":3,"a":"ignored"}' '{"id":77}' '{"id":3}' '{"a":1}'
	run --separate-stderr mig-load --mode delete --key id "$E" -i del.ndjson --dry-run --reject rej2.ndjson
	status_is 0
	stderr_has "4 read, 1 would be deleted, 2 not found, 1 rejected"
	[ "$(docs "$I")" = 3 ] || fail "the dry run deleted"
	run --separate-stderr mig-load --mode delete --key id "$E" -i del.ndjson --reject rej3.ndjson --report r.json
	status_is 0
	stderr_has "4 read, 1 deleted, 2 not found, 1 rejected"
	jq_true r.json '.deleted == 1 and .not_found == 2 and .rejected == 1'
	jq_true rej3.ndjson '.line == 4 and (.error | endswith("key field id missing"))'
	[ "$(docs "$I")" = 2 ] || fail "not deleted"
	[ "$(source_of "$I" 3)" = null ] || fail "document 3 is still there"
	run --separate-stderr mig-load --mode merge --key id --on-conflict fail "$E" -i up.ndjson
	status_is 2
	stderr_has "--on-conflict fail contradicts --mode merge"
}

@test "es: --key fields make the _id (one: its value; several: a JSON array); routing_field routes" {
	ndjson in.ndjson '{"org":"acme","n":7,"v":1}' '{"org":"beta","n":8,"v":2}'
	run --separate-stderr mig-load --create --key org,n "$E" -i in.ndjson
	status_is 0
	[ "$(esq GET "/$I/_doc/%5B%22acme%22,7%5D" | jq -r .found)" = true ] || fail "no document [\"acme\",7]"
	run --separate-stderr mig-load --create --key n "$MIG_ES_URL?routing_field=org#$I-r" -i in.ndjson
	status_is 0
	[ "$(esq GET "/$I-r/_doc/7?routing=acme" | jq -c ._source)" = '{"org":"acme","n":7,"v":1}' ] ||
		fail "no document 7 routed by acme"
	ndjson nokey.ndjson '{"v":3}'
	run --separate-stderr mig-load --mode upsert --key n "$E" -i nokey.ndjson
	status_is 1
	stderr_has "key field n missing"
}

@test "es: mig-load --id-field, --routing-field, --batch-bytes, --parallel, --refresh, as the locator's parameters" {
	ndjson in.ndjson '{"id":7,"org":"acme","v":1}' '{"id":8,"org":"beta","v":2}'
	run --separate-stderr mig-load --create --id-field id --routing-field org "$E" -i in.ndjson
	status_is 0
	load_summary 2 2 0 0
	# the id field stays in the source; the document is routed by org
	[ "$(esq GET "/$I/_doc/7?routing=acme" | jq -c ._source)" = '{"id":7,"org":"acme","v":1}' ] ||
		fail "no document 7 routed by acme: $(esq GET "/$I/_doc/7?routing=acme")"
	# the option wins over the locator's parameter
	ndjson up.ndjson '{"id":7,"n":1,"org":"acme","v":3}'
	run --separate-stderr mig-load --mode upsert --key n --id-field id "$E" -i up.ndjson
	status_is 2
	stderr_has "the id field id and --key n name different document ids"
	run --separate-stderr mig-load --mode upsert --key id "$MIG_ES_URL?id_field=nope&routing_field=nope#$I" \
		--id-field id --routing-field org -i up.ndjson
	status_is 0
	load_summary 1 0 1 0
	[ "$(esq GET "/$I/_doc/7?routing=acme" | jq -c ._source.v)" = 3 ] || fail "7 was not updated"

	# --batch-bytes cuts a batch into _bulk requests of at most that size
	awk 'BEGIN { for (i = 1; i <= 200; i++) printf("{\"_id\":\"%d\",\"pad\":\"%0100d\"}\n", i, i) }' >many.ndjson
	bulks() { esq GET "/$1/_stats/bulk" | jq '._all.primaries.bulk.total_operations'; }
	run --separate-stderr mig-load --create "$MIG_ES_URL#$I-one" -i many.ndjson
	status_is 0
	[ "$(bulks "$I-one")" = 1 ] || fail "one batch took $(bulks "$I-one") _bulk requests"
	run --separate-stderr mig-load --create --batch-bytes 4k --parallel 4 "$MIG_ES_URL#$I-cut" -i many.ndjson
	status_is 0
	load_summary 200 200 0 0
	n=$(bulks "$I-cut")
	[ "$n" -ge 6 ] || fail "--batch-bytes 4k: 200 records of 140 bytes took $n _bulk requests"
	[ "$(docs "$I-cut")" = 200 ] || fail "the index holds $(docs "$I-cut") documents"

	# --refresh=false leaves the refresh to the index; the default refreshes
	esq PUT "/$I-nr" '{"settings":{"index":{"refresh_interval":"-1"}}}' >/dev/null
	run --separate-stderr mig-load --refresh=false "$MIG_ES_URL#$I-nr" -i many.ndjson
	status_is 0
	[ "$(esq GET "/$I-nr/_count" | jq .count)" = 0 ] || fail "--refresh=false refreshed"
	run --separate-stderr mig-load --on-conflict skip --refresh "$MIG_ES_URL#$I-nr" -i in.ndjson
	status_is 0
	[ "$(esq GET "/$I-nr/_count" | jq .count)" = 202 ] || fail "--refresh did not refresh"

	# values are checked as the locator's are, and named by option
	for bad in "--parallel 0" "--parallel 65" "--batch-bytes 10" "--refresh=maybe" "--id-field="; do
		# shellcheck disable=SC2086 # the option and its value
		run --separate-stderr mig-load $bad "$E" -i in.ndjson
		status_is 2
		stderr_has "${bad%%[ =]*} takes"
	done
	# TLS options need a TLS locator
	run --separate-stderr mig-load --insecure "$E" -i in.ndjson
	status_is 2
	stderr_has "--insecure is for es+https:// locators"
	run --separate-stderr mig-load --cacert ca.pem "$E" -i in.ndjson
	status_is 2
	stderr_has "--cacert is for es+https:// locators"
}

@test "es: mig-load --cacert and --insecure reach the TLS handshake" {
	# the node speaks plain HTTP: a TLS load fails either way, exit 3,
	# after using the options
	ndjson in.ndjson '{"_id":"1","v":1}'
	run --separate-stderr mig-load --cacert "$BATS_TEST_TMPDIR/missing-ca.pem" \
		"${MIG_ES_URL/es:/es+https:}#$I" -i in.ndjson
	status_is 3
	stderr_has "missing-ca.pem"
	run --separate-stderr mig-load --insecure "${MIG_ES_URL/es:/es+https:}#$I" -i in.ndjson
	status_is 3
	stderr_has "TLS certificates are not verified (--insecure)"
	stderr_matches "(SSL|TLS|ssl|tls)"
}

@test "es: without --batch-size a batch is 10,000 records, or 8 MiB of input" {
	awk 'BEGIN { for (i = 1; i <= 12000; i++) printf("{\"_id\":\"%d\"}\n", i) }' >small.ndjson
	run --separate-stderr mig-load --create --report r.json "$E" -i small.ndjson
	status_is 0
	report_is r.json batches 2
	# 5000 records of 2 KB: the byte bound cuts the default batch, not
	# one the user asked for
	awk 'BEGIN { for (i = 1; i <= 5000; i++) printf("{\"_id\":\"%d\",\"pad\":\"%02000d\"}\n", i, i) }' >big.ndjson
	run --separate-stderr mig-load --create --report r.json "$MIG_ES_URL#$I-big" -i big.ndjson
	status_is 0
	report_is r.json batches 2
	run --separate-stderr mig-load --on-conflict skip --batch-size 5000 --report r.json \
		"$MIG_ES_URL#$I-big" -i big.ndjson
	status_is 0
	report_is r.json batches 1
	[ "$(docs "$I-big")" = 5000 ] || fail "the index holds $(docs "$I-big") documents"
}

@test "es: --dry-run counts inserts and updates by the ids that exist, and writes nothing" {
	ndjson in.ndjson '{"_id":"1","v":1}'
	mig-load -q --create "$E" -i in.ndjson
	ndjson more.ndjson '{"_id":"1","v":1}' '{"_id":"2","v":2}' '{"v":3}'
	run --separate-stderr mig-load --dry-run --mode replace --key _id "$E" -i more.ndjson
	status_is 1   # the record without an _id has no key
	ndjson more.ndjson '{"_id":"1","v":10}' '{"_id":"2","v":2}'
	run --separate-stderr mig-load --dry-run --mode upsert --key _id "$E" -i more.ndjson
	status_is 0
	stderr_matches "dry run: 2 read, 1 would be inserted, 1 would be updated"
	[ "$(docs "$I")" = 1 ] && [ "$(source_of "$I" 1)" = '{"v":1}' ] || fail "the dry run wrote"
	run --separate-stderr mig-load --dry-run --create "$MIG_ES_URL#$I-new" -i more.ndjson
	status_is 0
	[ "$(esq GET "/$I-new" | jq -r .status)" = 404 ] || fail "the dry run created the index"
}

@test "es: --drop and --truncate" {
	ndjson in.ndjson '{"_id":"1","v":1}' '{"_id":"2","v":2}'
	mig-load -q --create "$E" -i in.ndjson
	esq PUT "/$I/_alias/$I-alias" >/dev/null
	ndjson one.ndjson '{"_id":"3","v":3}'
	run --separate-stderr mig-load --truncate "$E" -i one.ndjson
	status_is 0
	[ "$(docs "$I")" = 1 ] || fail "truncate left $(docs "$I") documents"
	[ "$(esq GET "/$I/_alias" | jq -r ".[\"$I\"].aliases | keys[0]")" = "$I-alias" ] || fail "the alias is gone"
	[ "$(esq GET "/$I/_mapping" | jq -r ".[\"$I\"].mappings.properties.v.type")" = long ] || fail "the mapping is gone"
	run --separate-stderr mig-load --drop --create "$E" -i in.ndjson
	status_is 0
	[ "$(docs "$I")" = 2 ] || fail "drop + create holds $(docs "$I") documents"
}

# --------------------------------------------------------------- rejects

@test "es: one document that breaks the mapping among 10,000: only it is rejected, with ES's reason" {
	esq PUT "/$I" '{"mappings":{"properties":{"n":{"type":"long"},"at":{"type":"date"}}}}' >/dev/null
	awk 'BEGIN { for (i = 1; i <= 10000; i++)
		if (i == 4321) printf("{\"_id\":\"%d\",\"n\":\"not a number\",\"at\":\"2024-01-01\"}\n", i)
		else printf("{\"_id\":\"%d\",\"n\":%d,\"at\":\"2024-01-01\"}\n", i, i) }' >in.ndjson
	run --separate-stderr mig-load "$E" -i in.ndjson --reject rej.ndjson --batch-size 2000
	status_is 0
	load_summary 10000 9999 0 1
	[ "$(wc -l <rej.ndjson)" = 1 ] || fail "$(wc -l <rej.ndjson) rejects"
	jq_true rej.ndjson '.line == 4321 and .record._id == "4321" and .stage == "mig-load"'
	jq_true rej.ndjson '.code == "document_parsing_exception" and (.error | test("failed to parse field \\[n\\] of type \\[long\\]"))'
	[ "$(docs "$I")" = 9999 ] || fail "the index holds $(docs "$I") documents"
	# without --reject the load stops at it (exit 1), the batch around it stands
	esq DELETE "/$I" >/dev/null
	esq PUT "/$I" '{"mappings":{"properties":{"n":{"type":"long"}}}}' >/dev/null
	run --separate-stderr mig-load "$E" -i in.ndjson --batch-size 1000
	status_is 1
	stderr_has "in.ndjson:4321: elasticsearch: document_parsing_exception"
	[ "$(docs "$I")" = 4999 ] || fail "the index holds $(docs "$I") documents, expected 4999"
}

@test "es: records Elasticsearch cannot take are rejected before sending" {
	ndjson in.ndjson '{"_id":"","v":1}' '{"_id":true,"v":2}' '{"_id":"ok","v":3}'
	run --separate-stderr mig-load --create "$E" -i in.ndjson --reject rej.ndjson
	status_is 0
	load_summary 3 1 0 2
	jq_true rej.ndjson 'length == 2 and all(.[]; .error | test("document id"))' -s
}

# ---------------------------------------------------------------- reading

@test "es: point-in-time paging over 12,345 documents: each once, in pages of 1000" {
	awk 'BEGIN { for (i = 1; i <= 12345; i++) printf("{\"_id\":\"%d\",\"v\":%d}\n", i, i) }' >in.ndjson
	run --separate-stderr mig-load --create --batch-size 5000 "$E" -i in.ndjson
	status_is 0
	run --separate-stderr mig-extract "$MIG_ES_URL?size=1000#$I" -o out.ndjson
	status_is 0
	stderr_has "12345 records"
	[ "$(jq -r ._id out.ndjson | sort -u | wc -l)" = 12345 ] || fail "not 12345 distinct ids"
	[ "$(jq -s 'map(.v) | add' out.ndjson)" = "$((12345 * 12346 / 2))" ] || fail "the values differ"
	# the scroll fallback reads the same
	run --separate-stderr mig-extract "$MIG_ES_URL?size=1000&pit=off#$I" -o scroll.ndjson
	status_is 0
	[ "$(jq -r ._id scroll.ndjson | sort -u | wc -l)" = 12345 ] || fail "scroll: not 12345 distinct ids"
	run --separate-stderr mig-extract --limit 2500 "$MIG_ES_URL?size=1000#$I"
	status_is 0
	[ "${#lines[@]}" = 2500 ] || fail "--limit 2500 gave ${#lines[@]}"
}

@test "es: --shard K/N: the shards cover the index, each document once (sliced PIT and scroll)" {
	awk 'BEGIN { for (i = 1; i <= 3000; i++) printf("{\"_id\":\"%d\",\"v\":%d}\n", i, i) }' >in.ndjson
	mig-load -q --create "$MIG_ES_URL?shards=3#$I" -i in.ndjson
	local k pit
	for pit in auto off; do
		: >all.txt
		for k in 0 1 2 3; do
			run --separate-stderr mig-extract --shard "$k/4" "$MIG_ES_URL?size=200&pit=$pit#$I"
			status_is 0
			[ "${#lines[@]}" -gt 0 ] || fail "shard $k/4 is empty"
			printf '%s\n' "$output" | jq -r ._id >>all.txt
		done
		[ "$(sort all.txt | uniq | wc -l)" = 3000 ] || fail "pit=$pit: $(sort -u all.txt | wc -l) distinct ids"
		[ "$(wc -l <all.txt)" = 3000 ] || fail "pit=$pit: $(wc -l <all.txt) ids in all"
	done
	local total=0 n
	for k in 0 1 2 3; do
		n=$(mig-extract -q --count --shard "$k/4" "$E")
		total=$((total + n))
	done
	[ "$total" = 3000 ] || fail "the shards' counts add up to $total"
}

@test "es: --since FIELD --state FILE: ties on FIELD across pages, each record once, in (FIELD, _id) order" {
	# 40 records on 8 distinct timestamps (ms and us), in pages of 3
	awk 'BEGIN { for (i = 1; i <= 40; i++)
		printf("{\"_id\":\"k%02d\",\"t\":{\"$date\":\"2024-01-01T00:00:0%d.00%dZ\"},\"v\":%d}\n",
			41 - i, i % 4, (i % 2) * 5, i) }' >in.ndjson
	mig-load -q --create "$E" -i in.ndjson
	local L="$MIG_ES_URL?size=3#$I" run_n
	: >got.ndjson
	for run_n in 1 2 3 4 5 6; do
		run --separate-stderr mig-extract --since t --state st.json --limit 9 "$L"
		status_is 0
		[ -z "$output" ] || printf '%s\n' "$output" >>got.ndjson
		mv st.json.next st.json
	done
	[ "$(wc -l <got.ndjson)" = 40 ] || fail "$(wc -l <got.ndjson) records, expected 40"
	# in (t, _id) order, nothing twice
	jq -r '[.t."$date", ._id] | @tsv' got.ndjson >order.txt
	sort -c order.txt || fail "not in (t, _id) order"
	[ "$(sort -u order.txt | wc -l)" = 40 ] || fail "repeats"
	jq_true st.json '.field == "t" and .key._id == "k38" and .value."$date" == "2024-01-01T00:00:03.005Z"'
	# new records: after the bookmark (a greater _id on its timestamp, a
	# later one) and before it (a smaller _id, an earlier timestamp)
	ndjson new.ndjson '{"_id":"k99","t":{"$date":"2024-01-01T00:00:03.005Z"},"v":0}' \
		'{"_id":"k00","t":{"$date":"2024-01-01T00:00:03.005Z"},"v":0}' \
		'{"_id":"z1","t":{"$date":"2030-01-01T00:00:00Z"},"v":1}' \
		'{"_id":"a0","t":{"$date":"2000-01-01T00:00:00Z"},"v":1}'
	mig-load -q "$E" -i new.ndjson
	run --separate-stderr mig-extract --since t --state st.json "$L"
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -r ._id | tr '\n' ' ')" = "k99 z1 " ] ||
		fail "after the bookmark: $output"
}

@test "es: --where (query DSL or query string), --query, --order-by, --count, meta=1" {
	awk 'BEGIN { for (i = 1; i <= 50; i++) printf("{\"_id\":\"%d\",\"v\":%d,\"kind\":\"%s\"}\n", i, i, i % 2 ? "odd" : "even") }' >in.ndjson
	mig-load -q --create "$E" -i in.ndjson
	run --separate-stderr mig-extract --where '{"range":{"v":{"gte":48}}}' --order-by 'v desc' "$E"
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -r ._id | tr '\n' ,)" = "50,49,48," ] || fail "got $output"
	run --separate-stderr mig-extract --count --where 'kind:odd AND v:<10' "$E"
	status_is 0
	[ "$output" = 5 ] || fail "count $output"
	run --separate-stderr mig-extract --query '{"query":{"term":{"v":7}}}' "$MIG_ES_URL?meta=1#$I"
	status_is 0
	[ "$output" = "{\"_id\":\"7\",\"_index\":\"$I\",\"v\":7,\"kind\":\"odd\"}" ] || fail "got $output"
	run --separate-stderr mig-extract --where '{"nonsense":{}}' "$E"
	status_is 2
	stderr_has "unknown query [nonsense]"
}

@test "es: an index pattern reads several indices; --list counts top-level documents" {
	esq PUT "/$I-b" '{"mappings":{"properties":{"items":{"type":"nested"}}}}' >/dev/null
	ndjson a.ndjson '{"_id":"1","v":1}' '{"_id":"2","v":2}'
	ndjson b.ndjson '{"_id":"3","items":[{"x":1},{"x":2},{"x":3}]}'
	mig-load -q --create "$MIG_ES_URL#$I-a" -i a.ndjson
	mig-load -q "$MIG_ES_URL#$I-b" -i b.ndjson
	run --separate-stderr mig-extract "$MIG_ES_URL?meta=1#$I-*"
	status_is 0
	[ "${#lines[@]}" = 3 ] || fail "${#lines[@]} records"
	run --separate-stderr mig-extract --list "$MIG_ES_URL#$I-*"
	status_is 0
	[ "$output" = "$(printf '%s\t2\n%s\t1' "$I-a" "$I-b")" ] || fail "list: $output"
	run --separate-stderr mig-extract --count "$MIG_ES_URL#$I-*,-$I-b"
	[ "$output" = 2 ] || fail "count with an exclusion: $output"
}

# ------------------------------------------------------------ errors, names

@test "es: index names are checked before use" {
	local bad
	for bad in Upper 'a b' 'a/b' '_x' '-x' '+x' . .. 'a*' 'a?b' 'a,b' 'a"b' 'a<b' 'a|b' 'a:b'; do
		run --separate-stderr mig-load --create "$MIG_ES_URL#$bad" </dev/null
		status_is 2
		stderr_has "bad index name"
	done
	run --separate-stderr mig-extract "$MIG_ES_URL#Logs-*"
	status_is 2
	run --separate-stderr mig-load "$MIG_ES_URL" </dev/null
	status_is 2
	stderr_has "name the index"
}

@test "es: a missing index, an unknown parameter, --atomic: clear errors" {
	run --separate-stderr mig-extract "$E"
	status_is 3
	stderr_has "$I: no such index"
	run --separate-stderr mig-load "$E" </dev/null
	status_is 3
	stderr_has "no such index (--create makes it)"
	run --separate-stderr mig-extract "$MIG_ES_URL?paralel=2#$I"
	status_is 2
	stderr_has "unknown parameter 'paralel'"
	run --separate-stderr mig-load --atomic --create "$E" </dev/null
	status_is 2
	stderr_has "no transactions"
}

@test "es: credentials never show: basic auth and api_key are redacted, MIG_ES_API_KEY is not printed" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run --separate-stderr mig-extract "es://bob:s3cr%40t@127.0.0.1:$port#x"
	status_is 3
	has_not "$stderr" "s3cr" stderr
	stderr_has "bob:***@127.0.0.1:$port"
	run --separate-stderr mig-extract "es://127.0.0.1:$port?api_key=TOPSECRET#x"
	status_is 3
	has_not "$stderr" TOPSECRET stderr
	MIG_ES_API_KEY=TOPSECRET run --separate-stderr mig-load --create "es://127.0.0.1:$port#x" </dev/null
	status_is 3
	has_not "$stderr" TOPSECRET stderr
	# and the key reaches the node (security is off: it is ignored there)
	MIG_ES_API_KEY=abc run --separate-stderr mig-extract --count "$MIG_ES_URL#$I*"
	status_is 0
}

@test "es: es+https:// speaks TLS (and verifies): against a plain HTTP node it fails, exit 3" {
	run --separate-stderr mig-extract --count "${MIG_ES_URL/es:/es+https:}#$I"
	status_is 3
	stderr_matches "es\+https://127\.0\.0\.1:[0-9]+#$I: .*(SSL|TLS|ssl|tls)"
	run --separate-stderr mig-extract --count "${MIG_ES_URL/es:/es+https:}?insecure=1#$I"
	status_is 3
	stderr_has "TLS certificates are not verified"
}

@test "es: --version names libcurl" {
	run --separate-stderr mig-load --version
	status_is 0
	stdout_matches '^libcurl [0-9]+\.[0-9]+'
}
