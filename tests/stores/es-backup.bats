#!/usr/bin/env bats
# servers: es
#
# mig-backup and mig-restore against a real Elasticsearch node
# (tests/servers/es): one point in time over every index of the backup, so
# that the archive is one consistent view, and each index's settings,
# mappings and aliases under x-mig-native, made again by a restore into
# Elasticsearch.  The node is set up and inspected with curl, independently
# of mig.  Each test works in indices named after it, deleted afterwards.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_ES_URL
	I=mig-bk$BATS_TEST_NUMBER
	esq DELETE "/$I*" >/dev/null
}

teardown() {
	if [ -n "${bg_pid:-}" ]; then
		kill "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
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

# fingerprint INDEX: the number of documents and the SHA-256 of their
# sorted, key-sorted JSON, read by mig-extract.
fingerprint() {
	local sum
	sum=$(mig-extract -q "$MIG_ES_URL#$1" | jq -S -c . | sort | sha256sum) || fail "cannot read $1"
	printf '%s %s\n' "$(esq GET "/$1/_count" | jq -r .count)" "${sum%% *}"
}

# definition INDEX: what a restore must make again: the analysis, shards
# and replicas settings, and the mappings.
definition() {
	esq GET "/$1" | jq -S -c --arg i "$1" '.[$i] | {mappings,
		settings: (.settings.index | {analysis, number_of_shards, number_of_replicas})}'
}

@test "es-backup: settings, mappings and aliases of an index come back under a new name" {
	esq PUT "/$I-books" '{
	  "settings": {"number_of_shards": 2, "number_of_replicas": 0,
	    "analysis": {"analyzer": {"folded": {"type": "custom", "tokenizer": "standard",
	      "filter": ["lowercase"]}}}},
	  "mappings": {"dynamic": "strict", "properties": {
	    "isbn": {"type": "keyword"},
	    "title": {"type": "text", "analyzer": "folded"},
	    "published": {"type": "date"},
	    "authors": {"type": "nested", "properties": {"name": {"type": "keyword"}}}}},
	  "aliases": {"'"$I"'-library": {}}}' | jq -e .acknowledged >/dev/null || fail "cannot create the index"
	ndjson books.ndjson \
		'{"_id":"1","isbn":"978-1","title":"Café Society","published":{"$date":"2020-01-02T00:00:00.000Z"},"authors":[{"name":"A"},{"name":"B"}]}' \
		'{"_id":"2","isbn":"978-2","title":"NAÏVE Art","published":{"$date":"2021-03-04T05:06:07.000Z"},"authors":[{"name":"C"}]}' \
		'{"_id":"3","isbn":"978-3","title":"untitled","published":{"$date":"1999-12-31T23:59:59.999Z"},"authors":[]}'
	mig-load -q "$MIG_ES_URL#$I-books" -i books.ndjson || fail "cannot load"
	run --separate-stderr mig-backup "$MIG_ES_URL" --only "$I-books" -o b.tar
	status_is 0
	tar -xOf b.tar manifest.json >manifest.json
	jq_true manifest.json '.consistent == true'
	tar -xOf b.tar "schema/$I-books.json" >schema.json
	# what the server sets itself is not in the definition
	jq_true schema.json '."x-mig-native" | (.settings.index | has("uuid") or has("creation_date")
		or has("version") or has("provided_name") or has("routing") | not)
		and .aliases == {"'"$I"'-library": {}} and .mappings.dynamic == "strict"'
	run --separate-stderr mig-restore b.tar "$MIG_ES_URL" --rename "$I-books=$I-copy"
	status_is 0
	# the alias names the new index, and still the old one, which is there
	stderr_has "the alias $I-library also names the index $I-books"
	[ "$(esq GET "/_alias/$I-library" | jq -c 'keys')" = "[\"$I-books\",\"$I-copy\"]" ] ||
		fail "the alias: $(esq GET "/_alias/$I-library")"
	[ "$(definition "$I-books")" = "$(definition "$I-copy")" ] ||
		fail "the definitions differ: $(definition "$I-books") vs $(definition "$I-copy")"
	esq POST "/$I-copy/_refresh" >/dev/null
	[ "$(fingerprint "$I-books")" = "$(fingerprint "$I-copy")" ] ||
		fail "the documents differ: $(fingerprint "$I-books") vs $(fingerprint "$I-copy")"
	# the analyzer works, and the nested mapping answers a nested query
	[ "$(esq POST "/$I-copy/_search" '{"query":{"match":{"title":"naïve"}}}' | jq -r '.hits.hits[0]._id')" = 2 ] ||
		fail "the custom analyzer does not find NAÏVE"
	[ "$(esq POST "/$I-copy/_search" '{"query":{"nested":{"path":"authors","query":{"term":{"authors.name":"B"}}}}}' | jq -r '.hits.total.value')" = 1 ] ||
		fail "the nested query"
}

@test "es-backup: an alias restored into a node without the old index names only the new one" {
	esq PUT "/$I-src" '{"aliases": {"'"$I"'-current": {"is_write_index": true}}, "mappings": {"properties": {"k": {"type": "keyword"}}}}' >/dev/null
	echo '{"_id":"a","k":"x"}' | mig-load -q "$MIG_ES_URL#$I-src" || fail "cannot load"
	mig-backup -q "$MIG_ES_URL" --only "$I-src" -o b.tar || fail "cannot back up"
	esq DELETE "/$I-src" >/dev/null
	run --separate-stderr mig-restore b.tar "$MIG_ES_URL" --rename "$I-src=$I-dst"
	status_is 0
	[ "$(esq GET "/_alias/$I-current" | jq -c .)" = "{\"$I-dst\":{\"aliases\":{\"$I-current\":{\"is_write_index\":true}}}}" ] ||
		fail "the alias: $(esq GET "/_alias/$I-current")"
}

@test "es-backup: a write during the backup is not in it (one point in time)" {
	# a, read first and slowly (one hit per page), and b, read after the write
	seq 1 1500 | jq -c '{_id: (. | tostring), n: .}' >a.ndjson
	mig-load -q "$MIG_ES_URL#$I-a" --create -i a.ndjson || fail "cannot load a"
	printf '%s\n' '{"_id":"old","v":1}' '{"_id":"gone","v":2}' | mig-load -q "$MIG_ES_URL#$I-b" --create ||
		fail "cannot load b"
	mig-backup -v "$MIG_ES_URL?size=1" --only "$I-a,$I-b" -o b.tar 2>backup.err &
	bg_pid=$!
	for _ in $(seq 1 200); do
		grep -q 'opened one point in time' backup.err && break
		sleep 0.05
	done
	grep -q 'opened one point in time' backup.err || fail "no point in time: $(cat backup.err)"
	esq PUT "/$I-b/_doc/new?refresh=true" '{"v":3}' >/dev/null
	esq DELETE "/$I-b/_doc/gone?refresh=true" >/dev/null
	esq POST "/$I-b/_update/old?refresh=true" '{"doc":{"v":10}}' >/dev/null
	# the test means something only if the backup was still reading
	grep -q "#$I-b:" backup.err && fail "b was read before the write: make $I-a bigger"
	kill -0 "$bg_pid" 2>/dev/null || fail "the backup ended before the write"
	wait "$bg_pid" || fail "mig-backup failed: $(cat backup.err)"
	bg_pid=
	tar -xOf b.tar manifest.json >manifest.json
	jq_true manifest.json '.consistent == true and ([.collections[].records] == [1500, 2])'
	mig-restore --cat "$I-b" b.tar | jq -S -c . | sort >b.ndjson
	[ "$(cat b.ndjson)" = "$(printf '%s\n' '{"_id":"gone","v":2}' '{"_id":"old","v":1}')" ] ||
		fail "b is not as it was when the backup began: $(cat b.ndjson)"
	# and b did change: without the point in time it would have been read so
	[ "$(esq GET "/$I-b/_count" | jq .count)" = 2 ] || fail "b has not 2 documents now"
	[ "$(esq GET "/$I-b/_doc/old" | jq .found)" = true ] || fail "b has no old"
}
