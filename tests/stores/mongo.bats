#!/usr/bin/env bats
# servers: mongo
#
# The MongoDB backend against a real MongoDB-protocol server (FerretDB v1,
# tests/servers/mongo): typed round trips, the BSON corpus, --canonical,
# filters, shards, bookmarks, load modes, conflicts and rejects.  Each test
# works in its own database ($M) of the server that tests/run.sh started
# ($MIG_MONGO_URL).  What FerretDB cannot store is named where a test
# meets it.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	[ -n "${MIG_MONGO_URL:-}" ] || fail "MIG_MONGO_URL is not set: run under tests/run.sh (make check), or eval \"\$(bash tests/servers/mongo start)\""
	M="${MIG_MONGO_URL%/}/mig_${BATS_TEST_NUMBER}_$$"
	CORPUS=$BATS_TEST_DIRNAME/../../../shared/testdata/bson-corpus
}

# count COLL [FILTER]: the number of documents of COLL (matching FILTER).
count() {
	if [ -n "${2:-}" ]; then
		mig-extract -q --count --where "$2" "$M#$1"
	else
		mig-extract -q --count "$M#$1"
	fi
}

# count_is COLL N [FILTER]
count_is() {
	local n
	n=$(count "$1" "${3:-}") || fail "cannot count $1"
	[ "$n" = "$2" ] || fail "$1${3:+ where $3}: $n documents, expected $2"
}

# ---------------------------------------------------------------- round trips

@test "typed values keep their BSON types through a load and an extract" {
	ndjson in.ndjson \
		'{"_id":1,"i":7,"big":9007199254740993,"f":1.5,"whole":2.0,"s":"é☆","t":true,"n":null,"d":{"$date":"2024-05-01T10:00:00.123Z"},"o":{"$oid":"58921b3e6e32ab156a22b59e"},"bin":{"$binary":{"base64":"AQID","subType":"00"}},"u":{"$binary":{"base64":"c//SZESzTGmQ6OfR38A11A==","subType":"04"}},"re":{"$regularExpression":{"pattern":"^a.c$","options":"i"}},"ts":{"$timestamp":{"t":1714557600,"i":3}},"nested":{"a":[1,{"b":"c"},{"c":[]}],"e":{}}}' \
		'{"_id":{"$oid":"58921b3e6e32ab156a22b59f"},"old":{"$date":"1969-07-20T20:17:40.000Z"},"far":{"$date":{"$numberLong":"253402300800000"}}}'
	run --separate-stderr mig-load "$M#types" -i in.ndjson
	status_is 0
	load_summary 2 2 0 0
	run --separate-stderr mig-extract "$M#types" --order-by _id
	status_is 0
	# relaxed form: int64 beyond 2^53 stays exact, dates outside 1970..9999
	# in their canonical form
	printf '%s\n' "$output" >out.ndjson
	ndjson want.ndjson \
		'{"_id":1,"i":7,"big":9007199254740993,"f":1.5,"whole":2.0,"s":"é☆","t":true,"n":null,"d":{"$date":"2024-05-01T10:00:00.123Z"},"o":{"$oid":"58921b3e6e32ab156a22b59e"},"bin":{"$binary":{"base64":"AQID","subType":"00"}},"u":{"$binary":{"base64":"c//SZESzTGmQ6OfR38A11A==","subType":"04"}},"re":{"$regularExpression":{"pattern":"^a.c$","options":"i"}},"ts":{"$timestamp":{"t":1714557600,"i":3}},"nested":{"a":[1,{"b":"c"},{"c":[]}],"e":{}}}' \
		'{"_id":{"$oid":"58921b3e6e32ab156a22b59f"},"old":{"$date":{"$numberLong":"-14182940000"}},"far":{"$date":{"$numberLong":"253402300800000"}}}'
	# order: the int _id sorts before the ObjectId
	same_json out.ndjson want.ndjson
	# the server holds the native types
	count_is types 1 '{"big":{"$type":"long"}}'
	count_is types 1 '{"i":{"$type":"int"}}'
	count_is types 1 '{"whole":{"$type":"double"}}'
	count_is types 1 '{"d":{"$type":"date"}}'
	count_is types 1 '{"o":{"$type":"objectId"}}'
	count_is types 1 '{"u":{"$type":"binData"}}'
	count_is types 1 '{"ts":{"$type":"timestamp"}}'
	count_is types 1 '{"re":{"$type":"regex"}}'
}

@test "arrays of arrays: stored, or rejected with the server's reason (FerretDB v1)" {
	ndjson in.ndjson '{"_id":1,"m":[[1,2],[3]]}' '{"_id":2,"m":[1,2]}'
	run --separate-stderr mig-load "$M#nest" -i in.ndjson --reject rj.ndjson
	status_is 0
	if [ "$(count nest)" = 1 ]; then
		load_summary 2 1 0 1
		jq_true rj.ndjson '.line == 1 and (.error | contains("nested arrays"))'
	else
		count_is nest 2
		jq_true <(mig-extract -q "$M#nest" --where '{"_id":1}') '.m == [[1,2],[3]]'
	fi
}

@test "--canonical: a MongoDB to MongoDB trip keeps int32, int64 and double apart" {
	ndjson in.ndjson \
		'{"_id":1,"a":{"$numberInt":"1"},"b":{"$numberLong":"1"},"c":{"$numberDouble":"1.0"},"l":[{"$numberLong":"2"},{"$numberInt":"2"},{"$numberDouble":"2.0"}]}' \
		'{"_id":2,"a":{"$numberInt":"-5"},"b":{"$numberLong":"5000000000"},"c":{"$numberDouble":"-0.5"},"l":[]}'
	run --separate-stderr mig-load "$M#src" -i in.ndjson
	status_is 0
	run --separate-stderr bash -c "set -o pipefail; mig-extract --canonical '$M#src' | mig-load '$M#dst'"
	status_is 0
	for c in src dst; do
		count_is "$c" 2 '{"a":{"$type":"int"}}'
		count_is "$c" 2 '{"b":{"$type":"long"}}'
		count_is "$c" 2 '{"c":{"$type":"double"}}'
		count_is "$c" 1 '{"l.0":{"$type":"long"}}'
		count_is "$c" 1 '{"l.1":{"$type":"int"}}'
		count_is "$c" 1 '{"l.2":{"$type":"double"}}'
	done
	mig-extract -q --canonical "$M#src" --order-by _id >src.ndjson
	mig-extract -q --canonical "$M#dst" --order-by _id >dst.ndjson
	same_json src.ndjson dst.ndjson
	jq_true src.ndjson '.[0] | .b == {"$numberLong": "1"} and .a == {"$numberInt": "1"} and .c == {"$numberDouble": "1.0"}' -s
	# without --canonical the small int64 prints as a plain number, and a
	# trip through it would make it an int32: that is what --canonical is for
	mig-extract -q "$M#src" --limit 1 --order-by _id >relaxed.ndjson
	jq_true relaxed.ndjson '.b == 1 and .a == 1'
}

# The valid cases of the BSON corpus (shared/testdata/bson-corpus), two of
# each decimal128 file: each as {"_id": N, "case": NAME, "doc": DOC}, loaded
# and extracted with --canonical.  What the server stores must come back
# identical; what it cannot store must be rejected with a reason, never
# stored altered or lost.
#
# FerretDB v1 (1.24) cannot store, and these cases are rejected:
#   Decimal128, JavaScript code, code with scope, DBPointer, symbol, MinKey,
#   MaxKey, undefined, double NaN (it drops the connection: the loader
#   isolates the document and rejects it), +-Infinity, DBRef ($ref keys),
#   dotted field names ("a.b", "."), arrays of arrays (next test); field
#   names starting with '$' are refused by mig-load itself (ambiguous with
#   wrappers).
# FerretDB v1 alters: -0.0 comes back as 0.0.
KNOWN_UNSTORABLE='^(decimal128-[0-9]+|code|code_w_scope|dbpointer|symbol|minkey|maxkey|undefined|multi-type|multi-type-deprecated): |^dbref: |^double: (NaN|NaN with payload|Inf|-Inf)$|^(document|top): (Dotted key|Dot as key|Dollar)|^binary: \$type query operator|^regex: .*\$regex query operator'

@test "the BSON corpus: what the server stores comes back identical, the rest is rejected" {
	local f
	for f in "$CORPUS"/*.json; do
		jq -c --arg f "$(basename "$f" .json)" \
			'.valid[]? | {case: ($f + ": " + .description), ext: .canonical_extjson}' "$f" |
			case $f in *decimal128*) head -n 2 ;; *) cat ;; esac
	done | jq -c -s 'to_entries[] | {_id: .key, case: .value.case, doc: (.value.ext | fromjson)}' >cases.ndjson
	[ "$(wc -l <cases.ndjson)" -gt 100 ] || fail "the corpus gave too few cases"
	run --separate-stderr mig-load "$M#corpus" -i cases.ndjson --reject rejects.ndjson --batch-size 50
	status_is 0
	mig-extract -q --canonical file:cases.ndjson | jq -S -c . >want.ndjson
	mig-extract -q --canonical "$M#corpus" --order-by _id | jq -S -c . >got.ndjson
	touch rejects.ndjson
	# nothing lost: every case was stored or rejected
	[ $(($(wc -l <got.ndjson) + $(wc -l <rejects.ndjson))) -eq "$(wc -l <cases.ndjson)" ] ||
		fail "$(wc -l <got.ndjson) stored + $(wc -l <rejects.ndjson) rejected != $(wc -l <cases.ndjson) cases"
	# what came back is what went in (FerretDB: -0.0 comes back 0.0)
	jq -c -n --slurpfile w want.ndjson --slurpfile g got.ndjson '
		($w | map({key: (._id | tostring), value: .}) | from_entries) as $want |
		$g[] | select(. != $want[._id | tostring]) |
		select(.case != "double: -0.0" or .doc.d != {"$numberDouble": "0.0"}) |
		{case, got: .doc, want: $want[._id | tostring].doc}' >diff.ndjson
	[ ! -s diff.ndjson ] || { cat diff.ndjson >&2; fail "documents changed on the way"; }
	# every reject is one the server (or MongoDB's rules) cannot store
	jq -r '.record.case' rejects.ndjson >rejected.txt
	if grep -Ev "$KNOWN_UNSTORABLE" rejected.txt >unexpected.txt; then
		jq -c 'select(.record.case as $c | $c != null) | {case: .record.case, error}' rejects.ndjson |
			grep -Ff unexpected.txt >&2 || true
		fail "records rejected that should have been stored"
	fi
	# the types relaxed Extended JSON writes all made it
	for t in array binary boolean datetime int32 int64 null oid regex string timestamp; do
		jq -e -s --arg t "$t" '[.[] | select(.case | startswith($t + ": "))] | length > 0' got.ndjson >/dev/null ||
			fail "no $t case came back"
	done
	{
		echo "# stored identically: $(wc -l <got.ndjson) cases; rejected: $(wc -l <rejected.txt):"
		sed 's/^/#   /' rejected.txt
	} >&3
}

# ---------------------------------------------------------------- extract

@test "--where takes Extended JSON, --order-by a document or a list, --limit" {
	for i in 1 2 3 4 5 6; do
		printf '{"_id":%d,"g":"%s","d":{"$date":"2024-01-0%dT00:00:00Z"}}\n' "$i" \
			"$([ $((i % 2)) = 0 ] && echo even || echo odd)" "$i"
	done >in.ndjson
	mig-load -q "$M#w" -i in.ndjson
	run --separate-stderr mig-extract "$M#w" --where '{"d":{"$gte":{"$date":"2024-01-04T00:00:00Z"}}}' --order-by '{"_id":-1}'
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -c ._id | tr '\n' ' ')" = "6 5 4 " ] || fail "wrong records"
	run --separate-stderr mig-extract "$M#w" --order-by 'g,-_id' --limit 4
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -c ._id | tr '\n' ' ')" = "6 4 2 5 " ] || fail "wrong order"
	run --separate-stderr mig-extract --count "$M#w" --where '{"g":"odd"}'
	status_is 0
	[ "$output" = 3 ] || fail "count"
	run --separate-stderr mig-extract "$M#w" --where '{"g":'
	status_is 2
	stderr_has "--where is not JSON"
	run --separate-stderr mig-extract "$M#w" --where '{"g":{"$date":"yesterday"}}'
	status_is 2
	stderr_has '$date'
}

@test "--query: an array is an aggregation pipeline, an object a filter" {
	records 10 >in.ndjson
	mig-load -q "$M#q" -i in.ndjson
	run --separate-stderr mig-extract "$M#q" --query '[{"$match":{"id":{"$gt":6}}},{"$sort":{"id":-1}},{"$project":{"_id":0,"id":1}}]'
	status_is 0
	[ "$(printf '%s\n' "$output" | tr '\n' ' ')" = '{"id":10} {"id":9} {"id":8} {"id":7} ' ] ||
		fail "pipeline output"
	run --separate-stderr mig-extract "$M#q" --query '[{"$sort":{"id":1}},{"$project":{"_id":0,"id":1}}]' \
		--where '{"id":{"$lte":3}}' --limit 2
	status_is 0
	[ "$(printf '%s\n' "$output" | tr '\n' ' ')" = '{"id":1} {"id":2} ' ] || fail "pipeline with --where/--limit"
	run --separate-stderr mig-extract --count "$M#q" --query '[{"$match":{"id":{"$gt":6}}}]'
	status_is 0
	[ "$output" = 4 ] || fail "pipeline count"
	run --separate-stderr mig-extract --count "$M#q" --query '{"id":{"$lt":3}}'
	status_is 0
	[ "$output" = 2 ] || fail "filter count"
	run --separate-stderr mig-extract "$M#q" --query '[]' --shard 0/2
	status_is 2
	stderr_has "pipeline"
}

@test "--list, --count and --describe" {
	records 5 >a.ndjson
	mig-load -q "$M#alpha" -i a.ndjson
	ndjson b.ndjson '{"_id":1,"x":1,"when":{"$date":"2024-01-01T00:00:00Z"},"sub":{"k":"v"}}' \
		'{"_id":2,"x":{"$numberLong":"2"},"maybe":null,"sub":{"k":"w","z":true}}' \
		'{"_id":3,"x":2.5,"tags":["a","b"]}'
	mig-load -q "$M#beta" -i b.ndjson
	run --separate-stderr mig-extract --list "$M"
	status_is 0
	[ "$output" = "$(printf 'alpha\t5\nbeta\t3')" ] || fail "list"
	run --separate-stderr mig-extract --count "$M#beta"
	status_is 0
	[ "$output" = 3 ] || fail "count"
	run --separate-stderr mig-extract --describe "$M#beta"
	status_is 0
	printf '%s\n' "$output" >schema.json
	jq_true schema.json '."$schema" == "https://json-schema.org/draft/2020-12/schema" and .type == "object"'
	jq_true schema.json '."x-mig-sample" == 3 and .required == ["_id", "x"]'
	jq_true schema.json '.properties.x.type == "number" and .properties.x."x-mig-types" == {"int": 1, "long": 1, "double": 1}'
	jq_true schema.json '.properties.when.format == "date-time" and .properties.when."x-mig-bson-type" == "date"'
	jq_true schema.json '.properties.sub.properties.k."x-mig-count" == 2 and .properties.sub.required == ["k"]'
	jq_true schema.json '.properties.tags.items.type == "string" and .properties.maybe.type == "null"'
	# it validates what it describes
	if command -v mig-validate >/dev/null 2>&1; then
		mig-extract -q "$M#beta" >b.out
		run --separate-stderr mig-validate -q schema.json -i b.out
		[ "$status" = 0 ] || fail "mig-validate failed"
		printf "%s\n" "$output" >valid.ndjson
		[ "$(wc -l <valid.ndjson)" = 3 ] || fail "mig-validate rejected described records"
	fi
}

@test "--shard K/N: disjoint _id ranges that cover the collection" {
	seq 1 1000 | shuf --random-source=<(yes) | awk '{ printf "{\"_id\":%d,\"v\":%d}\n", $1, $1 % 7 }' >ints.ndjson
	mig-load -q "$M#ints" -i ints.ndjson
	for k in 0 1 2; do
		mig-extract -q "$M#ints" --shard "$k/3" >"s$k.ndjson"
		[ "$(wc -l <"s$k.ndjson")" -ge 333 ] || fail "shard $k/3 holds $(wc -l <"s$k.ndjson")"
	done
	cat s0.ndjson s1.ndjson s2.ndjson | jq -r ._id | sort -n >all.txt
	[ "$(sort -nu all.txt | wc -l)" = 1000 ] && [ "$(wc -l <all.txt)" = 1000 ] || fail "not a cover"
	# with a filter: shards of what the filter selects
	for k in 0 1 2 3; do
		mig-extract -q "$M#ints" --shard "$k/4" --where '{"v":3}'
	done | jq -r ._id | sort -n >f.txt
	[ "$(wc -l <f.txt)" = "$(jq -s '[.[] | select(.v == 3)] | length' ints.ndjson)" ] || fail "filtered cover"
	[ "$(sort -nu f.txt | wc -l)" = "$(wc -l <f.txt)" ] || fail "filtered shards overlap"
	# shard counts add up
	n=0
	for k in 0 1 2; do
		n=$((n + $(mig-extract -q --count "$M#ints" --shard "$k/3")))
	done
	[ "$n" = 1000 ] || fail "shard counts add to $n"
	# ObjectIds made by the loader; more shards than documents
	records 7 >oids.ndjson
	mig-load -q "$M#oids" -i oids.ndjson
	for k in 0 1 2 3 4 5 6 7 8 9; do
		mig-extract -q "$M#oids" --shard "$k/10"
	done | jq -r .id | sort -n | tr '\n' ' ' >o.txt
	[ "$(cat o.txt)" = "1 2 3 4 5 6 7 " ] || fail "ObjectId shards: $(cat o.txt)"
	# _ids of several types cannot be cut in ranges: refused
	ndjson mixed.ndjson '{"_id":1}' '{"_id":"a"}'
	mig-load -q "$M#mixed" -i mixed.ndjson
	run --separate-stderr mig-extract "$M#mixed" --shard 0/2
	status_is 2
	stderr_has "one type"
}

@test "--since FIELD --state FILE: only what changed, by (FIELD, _id)" {
	for i in 1 2 3 4; do
		printf '{"_id":%d,"at":{"$date":"2024-01-01T00:00:0%dZ"}}\n' "$i" $((i / 2))
	done >in.ndjson
	mig-load -q "$M#ev" -i in.ndjson
	run --separate-stderr mig-extract "$M#ev" --since at --state st.json
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -c ._id | tr '\n' ' ')" = "1 2 3 4 " ] || fail "first run"
	mv st.json.next st.json
	jq_true st.json '.key._id == 4'
	# one more at the same instant as the last, one later, one earlier
	ndjson more.ndjson '{"_id":5,"at":{"$date":"2024-01-01T00:00:02Z"}}' \
		'{"_id":0,"at":{"$date":"2024-01-01T00:00:09Z"}}' '{"_id":9,"at":{"$date":"2023-01-01T00:00:00Z"}}'
	mig-load -q "$M#ev" -i more.ndjson
	run --separate-stderr mig-extract "$M#ev" --since at --state st.json
	status_is 0
	[ "$(printf '%s\n' "$output" | jq -c ._id | tr '\n' ' ')" = "5 0 " ] || fail "second run: $output"
	mv st.json.next st.json
	run --separate-stderr mig-extract "$M#ev" --since at --state st.json
	status_is 0
	stdout_empty
}

# ---------------------------------------------------------------- load

@test "--mode update: existing documents only, a key not found is rejected; --mode delete counts" {
	ndjson base.ndjson '{"_id":1,"k":"a","x":1,"y":1}' '{"_id":2,"k":"b","x":2}' '{"_id":3,"k":"c","x":3}'
	mig-load -q "$M#u" -i base.ndjson --create --key k
	# _id is not the key and stays; a key not found is not inserted
	ndjson up.ndjson '{"k":"a","x":10}' '{"k":"zz","x":9}' '{"k":"b","_id":99,"y":2}' '{"x":0}'
	run --separate-stderr mig-load "$M#u" -i up.ndjson --mode update --key k --reject rej.ndjson
	status_is 0
	load_summary 4 0 2 2
	jq_true <(mig-extract -q "$M#u" --where '{"k":"a"}') '. == {"_id":1,"k":"a","x":10,"y":1}'
	jq_true <(mig-extract -q "$M#u" --where '{"k":"b"}') '. == {"_id":2,"k":"b","x":2,"y":2}'
	count_is u 3
	jq -c '[.line, .error]' rej.ndjson >got
	printf '%s\n' '[2,"up.ndjson:2: no document with key k=\"zz\""]' \
		'[4,"up.ndjson:4: the record has no key field \"k\""]' >want
	diff got want || fail "rejects: $(cat rej.ndjson)"
	# delete: other fields ignored, a key repeated deletes once, a dry run writes nothing
	ndjson del.ndjson '{"k":"a","x":"whatever"}' '{"k":"nope"}' '{"k":"a"}' '{"k":"c"}'
	run --separate-stderr mig-load "$M#u" -i del.ndjson --mode delete --key k --dry-run
	status_is 0
	stderr_has "4 read, 2 would be deleted, 2 not found, 0 rejected"
	count_is u 3
	run --separate-stderr mig-load "$M#u" -i del.ndjson --mode delete --key k --report r.json
	status_is 0
	stderr_has "4 read, 2 deleted, 2 not found, 0 rejected"
	jq_true r.json '.deleted == 2 and .not_found == 2'
	count_is u 1
	count_is u 1 '{"k":"b"}'
	run --separate-stderr mig-load "$M#u" -i del.ndjson --mode upsert --key k --on-conflict fail
	status_is 2
	stderr_has "--on-conflict fail contradicts --mode upsert"
}

@test "upsert, replace and merge by --key" {
	ndjson base.ndjson '{"_id":1,"k":"a","x":1,"y":1}' '{"_id":2,"k":"b","x":2}'
	mig-load -q "$M#u" -i base.ndjson --create --key k
	ndjson up.ndjson '{"k":"a","x":10}' '{"k":"c","x":3}'
	run --separate-stderr mig-load "$M#u" -i up.ndjson --mode upsert --key k
	status_is 0
	load_summary 2 1 1 0
	jq_true <(mig-extract -q "$M#u" --where '{"k":"a"}') '. == {"_id":1,"k":"a","x":10,"y":1}'
	count_is u 1 '{"k":"c","x":3}'
	# replace: the whole document, the _id stays
	ndjson rep.ndjson '{"k":"a","z":5}'
	run --separate-stderr mig-load "$M#u" -i rep.ndjson --mode replace --key k
	status_is 0
	load_summary 1 0 1 0
	jq_true <(mig-extract -q "$M#u" --where '{"k":"a"}') '. == {"_id":1,"k":"a","z":5}'
	# merge: $set of the fields present; a new key is inserted
	ndjson merge.ndjson '{"k":"b","w":{"deep":1}}' '{"k":"d","w":2}'
	run --separate-stderr mig-load "$M#u" -i merge.ndjson --mode merge --key k
	status_is 0
	load_summary 2 1 1 0
	jq_true <(mig-extract -q "$M#u" --where '{"k":"b"}') '. == {"_id":2,"k":"b","x":2,"w":{"deep":1}}'
	# upsert --on-conflict skip: existing keys are left alone
	ndjson keep.ndjson '{"k":"b","x":99}' '{"k":"e"}'
	run --separate-stderr mig-load "$M#u" -i keep.ndjson --mode upsert --key k --on-conflict skip
	status_is 0
	stderr_matches "1 inserted, 0 updated, 1 skipped"
	count_is u 1 '{"k":"b","x":2}'
	count_is u 5
	# a compound key; a record without the key is rejected
	ndjson ck.ndjson '{"a":1,"b":1,"v":1}' '{"a":1,"b":2,"v":2}' '{"a":1,"v":3}'
	mig-load -q "$M#ck" -i ck.ndjson --mode upsert --key a,b --reject rj.ndjson
	ndjson ck2.ndjson '{"a":1,"b":2,"v":20}'
	mig-load -q "$M#ck" -i ck2.ndjson --mode upsert --key a,b
	count_is ck 2
	count_is ck 1 '{"b":2,"v":20}'
	jq_true rj.ndjson '.error | contains("no key field \"b\"")'
	# --on-conflict fail contradicts an upsert
	run --separate-stderr mig-load "$M#u" -i up.ndjson --mode upsert --key k --on-conflict fail
	status_is 2
}

@test "duplicate keys on insert under each --on-conflict" {
	ndjson base.ndjson '{"_id":1,"k":"a","x":1,"y":1}' '{"_id":2,"k":"b","x":2}'
	mig-load -q "$M#d" -i base.ndjson --create --key k
	ndjson dup.ndjson '{"_id":1,"k":"a","x":10}' '{"_id":3,"k":"c","x":3}' '{"_id":4,"k":"b","x":20}'
	# fail (the default): the duplicates are rejected, with the server's code
	run --separate-stderr mig-load "$M#d" -i dup.ndjson --reject rj.ndjson
	status_is 0
	load_summary 3 1 0 2
	jq_true rj.ndjson '.code == "11000" and (.error | test("duplicate key"; "i"))'
	[ "$(jq -s -c 'map(.line)' rj.ndjson)" = "[1,3]" ] || fail "rejected lines"
	run --separate-stderr mig-load "$M#d" -i dup.ndjson --on-conflict fail
	status_is 1
	# skip
	run --separate-stderr mig-load "$M#d" -i dup.ndjson --on-conflict skip
	status_is 0
	stderr_matches "0 inserted, 0 updated, 3 skipped, 0 rejected"
	count_is d 3
	# merge: the fields present, by key
	ndjson dup2.ndjson '{"k":"a","x":10}' '{"k":"z","x":26}'
	run --separate-stderr mig-load "$M#d" -i dup2.ndjson --on-conflict merge --key k
	status_is 0
	load_summary 2 1 1 0
	jq_true <(mig-extract -q "$M#d" --where '{"k":"a"}') '. == {"_id":1,"k":"a","x":10,"y":1}'
	# overwrite: the whole document, by key
	ndjson dup3.ndjson '{"k":"a","only":true}'
	run --separate-stderr mig-load "$M#d" -i dup3.ndjson --on-conflict overwrite --key k
	status_is 0
	load_summary 1 0 1 0
	jq_true <(mig-extract -q "$M#d" --where '{"k":"a"}') '. == {"_id":1,"k":"a","only":true}'
	count_is d 4
}

@test "--dry-run counts what would be inserted and updated and writes nothing" {
	ndjson base.ndjson '{"_id":1,"k":"a"}' '{"_id":2,"k":"b"}'
	mig-load -q "$M#dr" -i base.ndjson
	ndjson in.ndjson '{"_id":1,"k":"a","x":1}' '{"_id":3,"k":"c"}' '{"k":"d"}' '{"$bad":1}'
	run --separate-stderr mig-load "$M#dr" -i in.ndjson --dry-run --reject rj.ndjson
	status_is 0
	stderr_matches "dry run: 4 read, 2 would be inserted, 0 would be updated, 0 skipped, 2 rejected"
	run --separate-stderr mig-load "$M#dr" -i in.ndjson --dry-run --mode upsert --key k --reject rj2.ndjson
	status_is 0
	stderr_matches "dry run: 4 read, 2 would be inserted, 1 would be updated, 0 skipped, 1 rejected"
	run --separate-stderr mig-load "$M#dr" -i in.ndjson --dry-run --drop --reject rj3.ndjson
	status_is 0
	stderr_matches "3 would be inserted"
	count_is dr 2
	run --separate-stderr mig-load "$M#none" -i in.ndjson --dry-run --create --key k --reject rj4.ndjson
	status_is 0
	run --separate-stderr mig-extract --list "$M"
	[ "$output" = "$(printf 'dr\t2')" ] || fail "--dry-run created something: $output"
}

@test "--drop and --truncate empty the collection first; --create makes a unique index" {
	records 5 >in.ndjson
	mig-load -q "$M#t" -i in.ndjson
	mig-load -q "$M#t" -i in.ndjson
	count_is t 10
	mig-load -q "$M#t" -i in.ndjson --truncate
	count_is t 5
	records 2 >two.ndjson
	mig-load -q "$M#t" -i two.ndjson --drop --create --key id
	count_is t 2
	run --separate-stderr mig-load "$M#t" -i in.ndjson --reject rj.ndjson
	status_is 0
	load_summary 5 3 0 2
}

@test "--create --schema: a \$jsonSchema validator, or the server's refusal" {
	printf '%s\n' '{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"k":{"type":"string"},"n":{"type":"integer","minimum":0},"at":{"type":"string","format":"date-time"}},"required":["k"]}' >s.json
	ndjson in.ndjson '{"k":"a","n":1,"at":{"$date":"2024-01-01T00:00:00Z"}}' '{"n":-1}'
	run --separate-stderr mig-load "$M#v" -i in.ndjson --create --schema s.json --reject rj.ndjson
	if [ "$status" = 0 ]; then
		# MongoDB: the validator refuses the second record (121)
		load_summary 2 1 0 1
		jq_true rj.ndjson '.code == "121"'
	else
		# FerretDB v1 has no validators: a clear refusal, exit 2, nothing written
		status_is 2
		stderr_has 'validator'
		stderr_has 'not implemented'
		count_is v 0
	fi
}

@test "a bad document in the middle of 10,000: only it is rejected" {
	awk 'BEGIN { for (i = 1; i <= 10000; i++)
		if (i == 5000) print "{\"_id\":5000,\"$where\":\"1\"}";
		else if (i == 7001) print "{\"_id\":1}";
		else printf("{\"_id\":%d,\"v\":\"r%d\"}\n", i, i) }' >in.ndjson
	run --separate-stderr mig-load "$M#big" -i in.ndjson --reject rj.ndjson
	status_is 0
	load_summary 10000 9998 0 2
	count_is big 9998
	[ "$(jq -s -c 'map(.line)' rj.ndjson)" = "[5000,7001]" ] || fail "rejected lines"
	jq_true rj.ndjson '.[0].error | contains("$where")' -s
	jq_true rj.ndjson '.[1].code == "11000"' -s
	# a value the server chokes on (FerretDB v1 drops the connection on a
	# Decimal128): the batch is halved until it stands alone
	awk 'BEGIN { for (i = 1; i <= 2000; i++)
		if (i == 1234) print "{\"_id\":1234,\"d\":{\"$numberDecimal\":\"1.5\"}}";
		else printf("{\"_id\":%d}\n", i) }' >dec.ndjson
	run --separate-stderr mig-load "$M#dec" -i dec.ndjson --reject rj2.ndjson --batch-size 500
	status_is 0
	n=$(count dec)
	if [ "$n" = 1999 ]; then
		load_summary 2000 1999 0 1
		jq_true rj2.ndjson '.line == 1234'
	else
		[ "$n" = 2000 ] || fail "$n documents"
	fi
}

@test "records over 16 MiB as BSON are rejected before sending" {
	{
		echo '{"_id":1}'
		printf '{"_id":2,"big":"'
		head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' x
		echo '"}'
		echo '{"_id":3}'
	} >in.ndjson
	run --separate-stderr mig-load "$M#huge" -i in.ndjson --reject rj.ndjson
	status_is 0
	load_summary 3 2 0 1
	jq_true rj.ndjson '.line == 2 and (.error | contains("16 MiB"))'
}

@test "dates keep milliseconds, and the summary says so" {
	ndjson in.ndjson '{"_id":1,"d":{"$date":"2024-05-01T10:00:00.123456Z"}}' '{"_id":2,"d":{"$date":"2024-05-01T10:00:00.123Z"}}'
	run --separate-stderr mig-load "$M#ms" -i in.ndjson
	status_is 0
	stderr_has "1 records held dates with sub-millisecond digits"
	jq_true <(mig-extract -q "$M#ms" --where '{"_id":1}') '.d == {"$date":"2024-05-01T10:00:00.123Z"}'
}

@test "--projection is applied by the server; --sample sizes --describe; --batch-size" {
	ndjson in.ndjson '{"_id":1,"a":1,"b":{"c":2,"d":3},"e":"x"}' '{"_id":2,"a":2,"b":{"c":4,"d":5},"e":"y"}'
	run --separate-stderr mig-load "$M#proj" -i in.ndjson
	status_is 0
	run --separate-stderr mig-extract --order-by _id --projection '{"a":1,"b.c":1}' "$M#proj"
	status_is 0
	[ "${lines[0]}" = '{"_id":1,"a":1,"b":{"c":2}}' ] || fail "projection: ${lines[0]}"
	run --separate-stderr mig-extract --order-by _id --projection '{"b":0,"_id":0}' --batch-size 1 "$M#proj"
	status_is 0
	[ "${lines[1]}" = '{"a":2,"e":"y"}' ] || fail "exclusion: ${lines[1]}"
	run --separate-stderr mig-extract --projection '{"a":' "$M#proj"
	status_is 2
	stderr_has "--projection is not JSON"
	run --separate-stderr mig-extract --projection '{"a":1}' --since e --state st.json "$M#proj"
	status_is 2
	stderr_has "must keep the --since field e"
	run --separate-stderr mig-extract --projection '{"a":1}' in.ndjson
	status_is 2
	stderr_has "--projection is for MongoDB"
	run --separate-stderr mig-extract --describe --sample 1 "$M#proj"
	status_is 0
	jq_true <(printf '%s\n' "$output") '."x-mig-sample" == 1'
}

# FerretDB v1 never answers an update command of more than some tens of
# statements that find their documents (lib/backend/mongo.c,
# FERRETDB_KEYED_BULK): keyed writes of a default batch of 1000 must come
# back, each document updated once.  The timeout only turns a hang into a
# failure; a real MongoDB takes any bulk.
@test "keyed writes of a whole default batch of existing documents come back (FerretDB's bulk limit)" {
	seq 1 1000 | awk '{ printf "{\"_id\":%d,\"v\":\"a%d\"}\n", $1, $1 }' >in.ndjson
	mig-load -q "$M#t" -i in.ndjson
	seq 1 1000 | awk '{ printf "{\"_id\":%d,\"v\":\"b%d\",\"w\":%d}\n", $1, $1, $1 }' >new.ndjson
	for mode in upsert replace merge; do
		run --separate-stderr timeout -s KILL 120 mig-load "$M#t" -i new.ndjson --mode $mode --key _id
		status_is 0
		load_summary 1000 0 1000 0
	done
	count_is t 1000 '{"v":{"$regex":"^b"},"w":{"$gte":1}}'
	run --separate-stderr timeout -s KILL 120 mig-load "$M#t" -i new.ndjson --mode delete --key _id
	status_is 0
	count_is t 0
}

# ---------------------------------------------------------------- errors

@test "locators: a database is needed, passwords are never printed, a dead server is exit 3" {
	run --separate-stderr mig-extract "${MIG_MONGO_URL%/}/#c"
	status_is 2
	stderr_has "name the database"
	run --separate-stderr mig-extract --list 'mongodb://127.0.0.1:1/db'
	status_is 3
	run --separate-stderr mig-load 'mongodb://alice:s3cr3tpw@127.0.0.1:1/db?serverSelectionTimeoutMS=500#c' -i /dev/null
	run --separate-stderr mig-extract 'mongodb://alice:s3cr3tpw@127.0.0.1:1/db?serverSelectionTimeoutMS=500#c'
	status_is 3
	has_not "$stderr" s3cr3tpw stderr
	stderr_has "alice:***@"
	echo '{"a":1}' >one.ndjson
	run --separate-stderr mig-load "$M#c" -i one.ndjson --atomic
	status_is 2
	stderr_has "transactions"
	run --separate-stderr mig-extract --version
	status_is 0
	stdout_matches '^libmongoc [0-9]+\.[0-9]+\.[0-9]+'
}
