#!/usr/bin/env bats
# mig-validate(1) as a user meets it: each case is a command line, what it
# prints on stdout and stderr, what it leaves in the reject and report files,
# and its exit status.  The JSON Schema Test Suite runs in
# mig-validate-conformance.bats; the data-driven cases of
# tests/validate/cases.txt run here.

load helpers

# A small schema of a customer record.
customer_schema() {
	cat >customer.json <<'EOF'
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "email"],
  "properties": {
    "id": { "type": "integer", "minimum": 1 },
    "email": { "type": "string", "format": "email" },
    "age": { "type": "integer", "minimum": 0, "maximum": 150 },
    "created": { "type": "string", "format": "date-time" },
    "balance": { "type": "number", "minimum": 0, "multipleOf": 0.01 }
  }
}
EOF
}

# ------------------------------------------------------------------ common

@test "mig-validate --help: usage on stdout, names every option, exit 0" {
	run --separate-stderr mig-validate --help
	status_is 0
	stdout_has "usage: mig-validate [options] [SCHEMA]"
	local o
	for o in --input --values --formats --schema-map --unique --ref --reject --max-invalid \
		--max-line --infer --report --quiet --verbose --progress --version; do
		stdout_has "$o"
	done
	has_not "$stderr" "mig-validate:" stderr
}

@test "mig-validate --version: mig and library versions" {
	run --separate-stderr mig-validate --version
	status_is 0
	[[ "${lines[0]}" =~ ^mig-validate\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "first line is not 'mig-validate VERSION'"
	stdout_matches '^jansson [0-9]'
}

@test "mig-validate --frobnicate: usage error, exit 2" {
	run --separate-stderr mig-validate --frobnicate s.json </dev/null
	usage_error mig-validate
}

@test "mig-validate with no SCHEMA and no --unique/--ref: usage error, exit 2" {
	run --separate-stderr mig-validate </dev/null
	usage_error mig-validate
	stderr_has "a SCHEMA is needed"
}

@test "mig-validate A B: one SCHEMA only, exit 2" {
	run --separate-stderr mig-validate a.json b.json </dev/null
	usage_error mig-validate
}

@test "mig-validate --max-invalid x: usage error, exit 2" {
	run --separate-stderr mig-validate --max-invalid x s.json </dev/null
	usage_error mig-validate
	stderr_has "--max-invalid"
}

@test "mig-validate --ref without a #FIELD: usage error, exit 2" {
	run --separate-stderr mig-validate --ref 'a=users.ndjson' </dev/null
	usage_error mig-validate
	stderr_has "PATH=LOCATOR#FIELD"
}

@test "mig-validate --infer with a SCHEMA: usage error, exit 2" {
	run --separate-stderr mig-validate --infer s.json </dev/null
	usage_error mig-validate
}

# ------------------------------------------------------------------ the filter

@test "valid records go to stdout byte for byte, summary on stderr, exit 0" {
	customer_schema
	printf '%s\n' '{ "id": 1,  "email": "a@example.org" }' \
		'{"email":"b@example.org","id":2,"age":30.0}' >in.ndjson
	run --separate-stderr mig-validate customer.json <in.ndjson
	status_is 0
	[ "$output" = "$(cat in.ndjson)" ] || fail "stdout is not the input, unchanged"
	stderr_matches '^mig-validate: stdin: 2 read, 2 valid, 0 invalid in [0-9.]+ s'
}

@test "-i FILE reads a file; a .zst file is decompressed" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' >in.ndjson
	zstd -q in.ndjson -o in.ndjson.zst
	run --separate-stderr mig-validate -i in.ndjson.zst customer.json
	status_is 0
	[ "$output" = '{"id":1,"email":"a@example.org"}' ] || fail "wrong output"
	stderr_has "in.ndjson.zst: 1 read, 1 valid"
}

@test "an invalid record: not on stdout, its first error on stderr, exit 1" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' '{"id":0,"email":"b@example.org"}' >in.ndjson
	run --separate-stderr mig-validate customer.json <in.ndjson
	status_is 1
	[ "$output" = '{"id":1,"email":"a@example.org"}' ] || fail "wrong stdout"
	stderr_has "stdin:2: /id: must be >= 1"
	stderr_has "1 of 2 records invalid, more than --max-invalid 0"
	stderr_has "top errors: minimum at /id (1)"
}

@test "--reject FILE: record, error, errors with path/keyword/message, line, stage" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' '{"id":"x","age":200}' >in.ndjson
	run --separate-stderr mig-validate --reject rej.ndjson customer.json <in.ndjson
	status_is 1
	[ "$(wc -l <rej.ndjson)" -eq 1 ] || fail "one reject expected"
	jq_true rej.ndjson '.record == {"id":"x","age":200} and .line == 2 and .stage == "mig-validate"'
	jq_true rej.ndjson '.error | startswith("stdin:2: ")'
	jq_true rej.ndjson '[.errors[] | .keyword + " " + .path] | sort == ["maximum /age", "required /email", "type /id"]'
	jq_true rej.ndjson '.errors | all(has("message") and (.message | length > 0))'
}

@test "a line that is not JSON is invalid, kept as a string in the reject file" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' '{"id": oops' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 1 --reject rej.ndjson customer.json <in.ndjson
	status_is 0
	jq_true rej.ndjson '.record == "{\"id\": oops" and .line == 2 and .errors[0].keyword == "json"'
}

@test "--max-invalid N: exit 0 up to N invalid records, 1 beyond" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' '{"id":0,"email":"b@x.org"}' '{"id":-1,"email":"c@x.org"}' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 2 customer.json <in.ndjson
	status_is 0
	run --separate-stderr mig-validate --max-invalid 1 customer.json <in.ndjson
	status_is 1
	stderr_has "2 of 3 records invalid, more than --max-invalid 1"
}

@test "--max-invalid N%: a share of the records read" {
	customer_schema
	{ for i in $(seq 1 99); do echo "{\"id\":$i,\"email\":\"u$i@x.org\"}"; done
	  echo '{"id":0,"email":"z@x.org"}'; } >in.ndjson
	run --separate-stderr mig-validate --max-invalid 1% customer.json <in.ndjson
	status_is 0
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 99 ] || fail "99 valid records expected"
	run --separate-stderr mig-validate --max-invalid 0.5% customer.json <in.ndjson
	status_is 1
}

@test "--report FILE: counts and the top error kinds by keyword and path" {
	customer_schema
	printf '%s\n' '{"id":1,"email":"a@example.org"}' '{"id":0,"email":"b@x.org"}' \
		'{"id":-5,"email":"c@x.org"}' '{"email":"d@x.org"}' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 10 --report rep.json customer.json <in.ndjson
	status_is 0
	report_is rep.json read 4
	report_is rep.json valid 1
	report_is rep.json invalid 3
	jq_true rep.json '.program == "mig-validate" and .status == "ok" and .draft == "draft2020-12"'
	jq_true rep.json '.errors[0] == {"keyword": "minimum", "path": "/id", "count": 2}'
	jq_true rep.json '.errors[1] == {"keyword": "required", "path": "/id", "count": 1}'
}

@test "error kinds count array items together as *" {
	cat >s.json <<'EOF'
{"type": "object", "properties": {"lines": {"type": "array", "items": {"properties": {"qty": {"minimum": 1}}}}}}
EOF
	printf '%s\n' '{"lines":[{"qty":0},{"qty":1},{"qty":0}]}' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 1 --report rep.json s.json <in.ndjson
	status_is 0
	jq_true rep.json '.errors == [{"keyword": "minimum", "path": "/lines/*/qty", "count": 2}]'
}

@test "--max-line N: a longer line is an invalid record, the rest go on" {
	echo '{"type": "object"}' >s.json
	printf '{"a":"%s"}\n' "$(head -c 300 /dev/zero | tr '\0' x)" >in.ndjson
	echo '{"a":1}' >>in.ndjson
	run --separate-stderr mig-validate --max-line 100 --max-invalid 1 --reject rej.ndjson s.json <in.ndjson
	status_is 0
	[ "$output" = '{"a":1}' ] || fail "wrong stdout"
	jq_true rej.ndjson '.line == 1 and .errors[0].keyword == "maxLine"'
}

@test "-q: no summary line; --progress=never is accepted" {
	echo '{"type": "object"}' >s.json
	run --separate-stderr mig-validate -q --progress=never s.json <<<'{"a":1}'
	status_is 0
	has_not "$stderr" "mig-validate:" stderr
}

@test "--values: any JSON value per line" {
	echo '{"type": "integer", "maximum": 10}' >s.json
	printf '%s\n' 1 '"x"' 11 '[1]' 5 >in.ndjson
	run --separate-stderr mig-validate --values --max-invalid 3 --reject rej.ndjson s.json <in.ndjson
	status_is 0
	[ "$output" = "$(printf '1\n5')" ] || fail "wrong stdout"
	[ "$(jq -c '[.line, .errors[0].keyword]' rej.ndjson | tr -d '\n')" = '[2,"type"][3,"maximum"][4,"type"]' ] ||
		fail "wrong rejects: $(cat rej.ndjson)"
}

@test "without --values a line that is not an object is invalid" {
	echo '{"type": "integer"}' >s.json
	run --separate-stderr mig-validate s.json <<<'1'
	status_is 1
	stderr_has "not a JSON object"
}

@test "--formats: format is asserted only when asked" {
	customer_schema
	echo '{"id":1,"email":"not an address","created":"yesterday"}' >in.ndjson
	run --separate-stderr mig-validate customer.json <in.ndjson
	status_is 0
	run --separate-stderr mig-validate --formats --reject rej.ndjson customer.json <in.ndjson
	status_is 1
	jq_true rej.ndjson '[.errors[] | .keyword + " " + .path] == ["format /email", "format /created"]'
}

@test "Extended JSON: \$date is a date-time string, \$numberDecimal an exact number" {
	customer_schema
	printf '%s\n' '{"id":{"$numberLong":"7"},"email":"a@x.org","created":{"$date":"2024-05-01T10:00:00Z"},"balance":{"$numberDecimal":"12.50"}}' \
		'{"id":8,"email":"b@x.org","balance":{"$numberDecimal":"12.505"}}' >in.ndjson
	run --separate-stderr mig-validate --formats --reject rej.ndjson customer.json <in.ndjson
	status_is 1
	[ "$output" = "$(head -n 1 in.ndjson)" ] || fail "the first record should pass"
	jq_true rej.ndjson '.errors == [{"path": "/balance", "keyword": "multipleOf", "message": "must be a multiple of 0.01"}]'
}

@test "the data-driven cases of tests/validate/cases.txt" {
	run bash "$BATS_TEST_DIRNAME/../validate/cases.sh"
	printf '%s\n' "$output" | grep -v '^ok ' >&2 || true
	status_is 0
}

@test "draft-07 by \$schema: \$ref ignores its siblings" {
	cat >s.json <<'EOF'
{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"n": {"type": "integer"}},
 "properties": {"a": {"$ref": "#/definitions/n", "minimum": 100}}}
EOF
	run --separate-stderr mig-validate --report rep.json s.json <<<'{"a": 5}'
	status_is 0
	jq_true rep.json '.draft == "draft7"'
}

# ------------------------------------------------------------------ schemas

@test "a \$ref to a file beside the schema, relative to the schema's location" {
	mkdir -p schemas/common
	echo '{"$defs": {"email": {"type": "string", "pattern": "@"}}}' >schemas/common/types.json
	echo '{"properties": {"email": {"$ref": "common/types.json#/$defs/email"}}}' >schemas/user.json
	printf '%s\n' '{"email":"a@b"}' '{"email":"nope"}' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 1 --reject rej.ndjson schemas/user.json <in.ndjson
	status_is 0
	[ "$output" = '{"email":"a@b"}' ] || fail "wrong stdout"
	jq_true rej.ndjson '.errors[0].keyword == "pattern" and .errors[0].path == "/email"'
}

@test "--schema-map URL=DIR: remote \$refs read from a directory, never the network" {
	mkdir -p remote/v1
	echo '{"type": "integer"}' >remote/v1/int.json
	echo '{"properties": {"n": {"$ref": "https://schemas.example.org/v1/int.json"}}}' >s.json
	run --separate-stderr mig-validate s.json <<<'{"n": 1}'
	status_is 2
	stderr_has "/properties/n/\$ref"
	stderr_has "--schema-map"
	run --separate-stderr mig-validate --schema-map "https://schemas.example.org/=$PWD/remote" s.json <<<'{"n": "x"}'
	status_is 1
	stderr_has "/n: must be integer, not string"
}

@test "a \$ref to the draft's meta-schema works without the network" {
	echo '{"$ref": "https://json-schema.org/draft/2020-12/schema"}' >meta.json
	printf '%s\n' '{"type": "string"}' '{"type": "strin"}' >in.ndjson
	run --separate-stderr mig-validate --max-invalid 1 meta.json <in.ndjson
	status_is 0
	[ "$output" = '{"type": "string"}' ] || fail "wrong stdout"
}

@test "schema errors: an unknown type, exit 2, naming the schema path" {
	echo '{"properties": {"age": {"type": "int"}}}' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stdout_empty
	stderr_has "s.json: /properties/age/type:"
}

@test "schema errors: a minimum that is not a number, exit 2, naming the schema path" {
	echo '{"properties": {"age": {"minimum": "0"}}}' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stderr_has "s.json: /properties/age/minimum: \"0\": must be number, not string"
}

@test "schema errors: a pattern that does not compile, exit 2, naming the schema path" {
	echo '{"properties": {"zip": {"pattern": "^[0-9]{5"}}, "patternProperties": {"(": true}}' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stderr_matches 's.json: /(properties/zip/pattern|patternProperties/\(): invalid regular expression'
}

@test "schema errors: a \$ref to nowhere, exit 2, naming the schema path" {
	echo '{"items": {"$ref": "#/$defs/missing"}}' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stderr_has "s.json: /items/\$ref: \$ref #/\$defs/missing: no such place"
}

@test "schema errors: not JSON, exit 2; a missing file, exit 3" {
	echo '{"type": ' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stderr_has "s.json:"
	stderr_has "not JSON"
	run --separate-stderr mig-validate nosuch.json <<<'{}'
	status_is 3
	stderr_has "nosuch.json"
}

@test "schema errors: an unknown \$schema, exit 2" {
	echo '{"$schema": "https://example.org/my-dialect", "type": "object"}' >s.json
	run --separate-stderr mig-validate s.json <<<'{}'
	status_is 2
	stderr_has "unknown meta-schema"
}

# ------------------------------------------------------------------ --unique, --ref

@test "--unique PATH: the second record with a key is invalid, naming the first" {
	printf '%s\n' '{"id":1}' '{"id":2}' '{"id":1}' '{"id":1.0}' '{"x":1}' '{"id":null}' '{"id":null}' >in.ndjson
	run --separate-stderr mig-validate --unique id --max-invalid 2 --reject rej.ndjson <in.ndjson
	status_is 0
	[ "$output" = "$(printf '%s\n' '{"id":1}' '{"id":2}' '{"x":1}' '{"id":null}' '{"id":null}')" ] ||
		fail "wrong stdout"
	[ "$(jq -c '[.line, .errors[0].keyword, .errors[0].path]' rej.ndjson | tr -d '\n')" = \
		'[3,"unique","/id"][4,"unique","/id"]' ] || fail "wrong rejects: $(cat rej.ndjson)"
	jq_true rej.ndjson '.errors[0].message | test("first at line 1")'
}

@test "--unique A,B: a compound key; --unique twice: two keys" {
	printf '%s\n' '{"p":"gh","u":1,"e":"a"}' '{"p":"gl","u":1,"e":"b"}' '{"p":"gh","u":1,"e":"c"}' \
		'{"p":"gh","u":2,"e":"a"}' >in.ndjson
	run --separate-stderr mig-validate --unique p,u --max-invalid 9 --reject rej.ndjson <in.ndjson
	status_is 0
	[ "$(jq -c .line rej.ndjson | tr -d '\n')" = 3 ] || fail "only line 3 duplicates (p,u)"
	run --separate-stderr mig-validate --unique p,u --unique e --max-invalid 9 --reject rej.ndjson <in.ndjson
	status_is 0
	[ "$(jq -c .line rej.ndjson | tr -d '\n')" = 34 ] || fail "lines 3 and 4 are duplicates"
}

@test "--unique twice: a record rejected by one key claims neither" {
	printf '%s\n' '{"p":"a","e":"x"}' '{"p":"b","e":"x"}' '{"p":"b","e":"y"}' >in.ndjson
	run --separate-stderr mig-validate --unique p --unique e --max-invalid 9 --reject rej.ndjson <in.ndjson
	status_is 0
	[ "$output" = "$(printf '%s\n' '{"p":"a","e":"x"}' '{"p":"b","e":"y"}')" ] || fail "wrong stdout"
	[ "$(jq -c .line rej.ndjson | tr -d '\n')" = 2 ] || fail "only line 2 is a duplicate"
}

@test "--unique on a nested path and a JSON pointer" {
	printf '%s\n' '{"a":{"b":"x"}}' '{"a":{"b":"x"}}' >in.ndjson
	run --separate-stderr mig-validate --unique a.b <in.ndjson
	status_is 1
	stderr_has "stdin:2: /a/b: duplicate a.b \"x\" (first at line 1)"
	run --separate-stderr mig-validate --unique /a/b <in.ndjson
	status_is 1
}

@test "--ref PATH=FILE#FIELD: orphans are invalid; a missing reference is not" {
	printf '%s\n' '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' >users.ndjson
	printf '%s\n' '{"order":10,"user_id":1}' '{"order":11,"user_id":3}' '{"order":12}' \
		'{"order":13,"user_id":2}' '{"order":14,"user_id":"1"}' >orders.ndjson
	run --separate-stderr mig-validate --ref 'user_id=users.ndjson#id' --max-invalid 9 \
		--reject rej.ndjson --report rep.json -i orders.ndjson
	status_is 0
	[ "$output" = "$(printf '%s\n' '{"order":10,"user_id":1}' '{"order":12}' '{"order":13,"user_id":2}')" ] ||
		fail "wrong stdout"
	[ "$(jq -c '[.line, .errors[0].keyword, .errors[0].path]' rej.ndjson | tr -d '\n')" = \
		'[2,"ref","/user_id"][5,"ref","/user_id"]' ] || fail "wrong rejects: $(cat rej.ndjson)"
	jq_true rej.ndjson '.errors[0].message | test("not found in users.ndjson#id")'
	report_is rep.json ref_values 2
}

@test "--ref PATH=sqlite:DB#TABLE#FIELD: the set read from a SQLite table" {
	sql app.db "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'a'), (2, 'b'), (5, 'e');"
	printf '%s\n' '{"o":1,"customer":{"id":5}}' '{"o":2,"customer":{"id":4}}' >orders.ndjson
	run --separate-stderr mig-validate --ref 'customer.id=sqlite:app.db#users#id' --reject rej.ndjson \
		-i orders.ndjson
	status_is 1
	[ "$output" = '{"o":1,"customer":{"id":5}}' ] || fail "wrong stdout"
	jq_true rej.ndjson '.line == 2 and .errors[0].path == "/customer/id" and .errors[0].keyword == "ref"'
}

@test "--absent PATH=sqlite:DB#TABLE#FIELD: a value found is invalid; missing and null pass" {
	sql app.db "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');"
	printf '%s\n' '{"id":1,"email":"a@x"}' '{"id":3,"email":"c@x"}' '{"id":4}' '{"id":5,"email":null}' \
		'{"id":2,"email":"B@x"}' >erased.ndjson
	run --separate-stderr mig-validate --absent 'email=sqlite:app.db#users#email' --reject rej.ndjson \
		--max-invalid 9 -i erased.ndjson
	status_is 0
	[ "$output" = "$(sed 1d erased.ndjson)" ] || fail "wrong stdout: $output"
	jq_true rej.ndjson '.line == 1 and .errors[0].keyword == "absent" and .errors[0].path == "/email"
		and (.errors[0].message | test("found in sqlite:app.db#users#email"))'
	# with --ref: both checks, each its own keyword
	run --separate-stderr mig-validate --absent 'email=sqlite:app.db#users#email' \
		--ref 'id=sqlite:app.db#users#id' --reject rej2.ndjson -i erased.ndjson
	status_is 1
	[ "$(jq -c '[.line, [.errors[].keyword]]' rej2.ndjson | tr -d '\n')" = \
		'[1,["absent"]][2,["ref"]][3,["ref"]][4,["ref"]]' ] || fail "rejects: $(cat rej2.ndjson)"
	run --separate-stderr mig-validate --absent 'email=app.db' -i erased.ndjson
	usage_error mig-validate
	stderr_has "--absent takes PATH=LOCATOR#FIELD"
}

@test "--ref to a store that cannot be read: exit 3" {
	run --separate-stderr mig-validate --ref 'a=nosuch.ndjson#id' <<<'{"a":1}'
	status_is 3
	stderr_has "nosuch.ndjson"
}

# ------------------------------------------------------------------ --infer

@test "--infer: types, nesting, required, formats, enum and counts" {
	for i in $(seq 1 30); do
		s=$([ $((i % 3)) -eq 0 ] && echo closed || echo open)
		n=$([ $((i % 2)) -eq 0 ] && echo ",\"note\":\"n$i\"" || echo ",\"note\":null")
		printf '{"id":%d,"email":"u%d@example.org","status":"%s","at":{"$date":"2024-01-%02dT00:00:00Z"},"uid":"123e4567-e89b-12d3-a456-4266141740%02d","tags":["a","b"],"addr":{"zip":"%05d"}%s}\n' \
			"$i" "$i" "$s" "$i" "$i" "$i" "$n"
	done >in.ndjson
	echo '{"id":31,"email":"x@example.org","status":"open","extra":1.5}' >>in.ndjson
	run --separate-stderr mig-validate --infer <in.ndjson
	status_is 0
	printf '%s\n' "$output" >inferred.json
	jq_true inferred.json '."$schema" == "https://json-schema.org/draft/2020-12/schema" and .type == "object"'
	jq_true inferred.json '.required == ["id", "email", "status"]'
	jq_true inferred.json '.properties.id.type == "integer" and .properties.email.format == "email"'
	jq_true inferred.json '.properties.status.enum == ["open", "closed"]'
	jq_true inferred.json '.properties.at.type == "string" and .properties.at.format == "date-time"'
	jq_true inferred.json '.properties.uid.format == "uuid" and .properties.tags.items.type == "string"'
	jq_true inferred.json '.properties.addr.required == ["zip"] and .properties.extra.type == "number"'
	jq_true inferred.json '.properties.note.type == ["null", "string"]'
	jq_true inferred.json '."x-mig".records == 31 and .properties.at."x-mig".count == 30'
	stderr_has "inferred a schema from 31 records"
}

@test "--infer: the inferred schema validates its own input" {
	for i in $(seq 1 50); do
		printf '{"id":%d,"name":"n%d","score":%d.5,"ok":%s,"d":{"$date":"2024-02-%02dT10:00:00.000Z"},"m":{"$numberDecimal":"%d.10"},"o":{"$oid":"5f1e9d8c7b6a5948372615%02d"},"kind":"k%d","arr":[{"x":%d},{"y":"s"}],"maybe":%s}\n' \
			"$i" "$i" "$i" "$([ $((i % 2)) -eq 0 ] && echo true || echo false)" $((i % 28 + 1)) "$i" \
			$((i % 100)) $((i % 4)) "$i" "$([ $((i % 5)) -eq 0 ] && echo null || echo "\"v$i\"")"
	done >in.ndjson
	mig-validate --infer <in.ndjson >inferred.json
	run --separate-stderr mig-validate --formats inferred.json <in.ndjson
	status_is 0
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 50 ] || fail "all 50 records should pass"
	# and it is strict enough to catch a change of type
	run --separate-stderr mig-validate inferred.json <<<'{"id":"1"}'
	status_is 1
}

@test "--infer --values: a stream of scalars" {
	printf '%s\n' 1 2 3 >in.ndjson
	run --separate-stderr mig-validate --infer --values <in.ndjson
	status_is 0
	jq_true <(printf '%s\n' "$output") '.type == "integer"'
}

# ------------------------------------------------------------------ pipelines

@test "mig-extract | mig-validate | mig-load: 3 bad records of 10,000 rejected, 9,997 loaded" {
	customer_schema
	awk 'BEGIN { for (i = 1; i <= 10000; i++) {
		age = (i == 17 || i == 5000 || i == 9999) ? -1 : i % 90
		printf("{\"id\":%d,\"email\":\"u%d@example.org\",\"age\":%d,\"balance\":{\"$numberDecimal\":\"%d.25\"}}\n", i, i, age, i) } }' >src.ndjson
	run --separate-stderr bash -c 'set -o pipefail
		mig-extract file:src.ndjson |
		mig-validate --reject rejects.ndjson --max-invalid 3 customer.json |
		mig-load --create "sqlite:app.db#customers"'
	status_is 0
	[ "$(rows app.db customers)" -eq 9997 ] || fail "9997 rows expected, got $(rows app.db customers)"
	[ "$(wc -l <rejects.ndjson)" -eq 3 ] || fail "3 rejects expected"
	[ "$(jq -c '.record.id' rejects.ndjson | tr '\n' ' ')" = "17 5000 9999 " ] || fail "wrong rejects"
	jq_true rejects.ndjson 'all(.errors[0].keyword == "minimum" and .errors[0].path == "/age")' -s
	stderr_has "mig-validate: stdin: 10000 read, 9997 valid, 3 invalid (rejects.ndjson)"
}

@test "mig-validate | head: the reader going away ends it quietly, exit 0" {
	echo '{"type": "object"}' >s.json
	awk 'BEGIN { for (i = 1; i <= 200000; i++) printf("{\"id\":%d}\n", i) }' >in.ndjson
	run --separate-stderr bash -c 'set -o pipefail; mig-validate s.json <in.ndjson | head -n 1'
	status_is 0
	[ "$output" = '{"id":1}' ] || fail "wrong output"
}

# ------------------------------------------------------------------ the manual

@test "mig-validate(1) examples run" {
	# as tests/cli/man-examples.bats runs the other pages' EXAMPLES
	awk '
		/^\.Sh / { inex = ($0 == ".Sh EXAMPLES") }
		inex && /^\.Bd -literal/ { lit = 1; next }
		inex && /^\.Ed/ { lit = 0; cont = 0; next }
		!lit { next }
		{ line = $0; gsub(/\\e/, "\\", line) }
		cont { print line; cont = (line ~ /(\\|\|)$/); next }
		/^\$ / { sub(/^\$ /, "", line); print line; cont = (line ~ /(\\|\|)$/) }
	' "$BATS_TEST_DIRNAME/../../man/man1/mig-validate.1" >examples.sh
	[ -s examples.sh ] || fail "no examples"
	run --separate-stderr bash -e -o pipefail examples.sh
	status_is 0
	stdout_has '"keyword":"minimum"'
}
