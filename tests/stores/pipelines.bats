#!/usr/bin/env bats
# servers: postgres mongo es
#
# Every scenario of pipelines/ against the real servers (tests/servers/,
# started by tests/run.sh, which exports MIG_PG_URL, MIG_MONGO_URL,
# MIG_ES_URL and MIG_ES_HTTP): fixtures, up, verify; up again and verify for
# the idempotent ones; down and verify-down for the reversible ones.  Each
# scenario runs from a copy of pipelines/ in the test's directory, so that
# its out/ stays out of the work tree, and "make clean" drops what it made
# in the servers afterwards.  The programs are the build's (MIG_BIN, set by
# tests/run.sh).

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_PG_URL MIG_MONGO_URL MIG_ES_URL
	[ -n "${MIG_BIN:-}" ] || MIG_BIN=$(cd "$BATS_TEST_DIRNAME/../../bin" && pwd)
	export MIG_BIN
	mkdir -p pipelines
	cp "$BATS_TEST_DIRNAME/../../pipelines/common.mk" pipelines/
}

teardown() {
	if [ -n "${P:-}" ] && [ -d "$P" ]; then
		timeout -k 10 120 make -s -C "$P" clean >/dev/null 2>&1 || true
	fi
}

# scenario NAME: copy pipelines/NAME and make it the scenario of the test.
scenario() {
	cp -R "$BATS_TEST_DIRNAME/../../pipelines/$1" pipelines/
	rm -rf "pipelines/$1/out"
	P=$T/pipelines/$1
	N=$1
}

# mk TARGET...: make -s in the scenario, under a time limit (a load that
# hangs on a server must fail the test, not the whole run).
mk() {
	run --separate-stderr timeout -k 10 300 make -s -C "$P" "$@"
}

# ok TARGET...: mk, and it succeeded.
ok() {
	mk "$@"
	status_is 0
}

# verified [TARGET]: make verify (or TARGET) succeeded and said so, with
# no failed check.
verified() {
	local target=${1:-verify}
	mk "$target"
	status_is 0
	stdout_has "$N: $target: ok"
	has_not "$output" FAILED stdout
	has_not "$stderr" FAILED stderr
}

@test "multi-provider: up, verify; up again changes nothing; down restores the backup" {
	scenario multi-provider
	ok fixtures
	stdout_has "400 users, 300 strava connections, 2000 activities"
	ok up
	stderr_has "mig-backup: "
	verified
	stdout_has "ok: unlinked non-manual activities: 0"
	stdout_has "ok: md5 of the tokens, old = new"
	ok fingerprint
	before=$output
	ok up
	verified
	ok fingerprint
	[ "$output" = "$before" ] || fail "the second up changed the tables: $(diff <(echo "$before") <(echo "$output"))"
	# users is referred to by strava_connections and activities: --drop
	# drops the three together, then makes them anew parents first
	ok down
	stdout_has "down: restored out/before.mig"
	verified verify-down
}

@test "local-export: dry run, import, skip then merge, rejects, report; down drops the tables" {
	scenario local-export
	ok fixtures
	ok up
	stdout_matches '^import-2-merge +drafts '
	[ -s "$P/out/report.json" ] || fail "no out/report.json"
	jq_true "$P/out/report.json" 'length == 16 and all(.[]; .read > 0)'
	verified
	stdout_has "ok: list_items: rejects of the first export: 3"
	stdout_has "ok: drafts: entries changed by export 2 hold its values"
	stdout_has "ok: list_items: every item at its place in its list"
	# the localStorage text that does not parse is a reject with its reason
	jq_true "$P/out/rejects/import-1-drafts.map.ndjson" \
		'select(.line == 21) | .error | test("parse_json: invalid JSON: .*[(]column [0-9]+[)]$")'
	# every reject file line says which program refused it and why
	for f in "$P"/out/rejects/import-*.ndjson; do
		[ -s "$f" ] || continue
		jq_true "$f" '(.error | length > 0) and (.stage | startswith("mig-")) and has("record")'
	done
	ok down
	verified verify-down
}

@test "dedupe-restructure: latest row per key, new shape, unique; up again changes nothing; down restores" {
	scenario dedupe-restructure
	ok fixtures
	stdout_has "1138 rows in project_scripts"
	ok up
	stdout_has "1138 rows -> 400 (738 duplicates dropped)"
	verified
	ok fingerprint
	before=$output
	ok up
	stdout_has "400 rows -> 400 (0 duplicates dropped)"
	verified
	ok fingerprint
	[ "$output" = "$before" ] || fail "the second up changed the table"
	ok down
	verified verify-down
	stdout_has "ok: the columns and constraints are as before up"
}

@test "user-stats: stats by group by and lookup, schemaVersion 3; down removes exactly the added fields" {
	scenario user-stats
	ok fixtures
	ok up
	stdout_has "up: 300 users updated"
	verified
	stdout_has "ok: users whose stats are the expected ones: 300"
	ok down
	verified verify-down
}

@test "search-index: explicit mapping, reindex to a new mapping, alias switch; down switches back" {
	scenario search-index
	ok fixtures
	ok up
	stdout_has "search_index-products -> search_index-products-v2"
	verified
	stdout_has "ok: sampled documents (curl) that differ from their row (psql): 0"
	ok up
	verified
	ok down
	verified verify-down
}

@test "gdpr-erase: delete their reviews and logins, anonymise the rest; nothing of them is found" {
	scenario gdpr-erase
	ok fixtures
	stdout_has "30 erasure requests"
	ok up
	stdout_has "up: deleted 47 events (0 not found), 65 reviews (0 not found)"
	report_is "$P/out/delete-events.json" deleted 47
	report_is "$P/out/delete-reviews.json" deleted 65
	verified
	stdout_has "ok: MongoDB events: their ids, emails and IP addresses found: 0"
	stdout_has "ok: Elasticsearch reviews: their ids and emails found: 0"
	stdout_has "ok: MongoDB events (their logins and searches): records, fixture's less 47: 1453"
	stdout_has "ok: Elasticsearch reviews (theirs): records, fixture's less 65: 935"
	stdout_has "ok: MongoDB events left of theirs, pseudonymised: views and checkouts, logins and searches: 49 0"
	ok up
	# the second run finds nothing left to erase: the deletes find nothing
	stdout_has "up: deleted 0 events (47 not found), 0 reviews (65 not found)"
	stderr_matches 'gdpr_erase\.users: 0 read'
	stderr_matches 'mig_gdpr_erase#events: 0 read'
	report_is "$P/out/delete-reviews.json" not_found 65
	verified
	# one review too many deleted - another person's - is caught
	jq -c --slurpfile e "$P/out/data/erase.ndjson" \
		'select(.user_id as $u | all($e[]; .user_id != $u)) | {_id}' "$P/out/data/reviews.ndjson" | head -n 1 > other.ndjson
	run --separate-stderr mig-load -q "$MIG_ES_URL#gdpr_erase-reviews" --mode delete --key _id -i other.ndjson
	status_is 0
	mk verify
	[ "$status" -ne 0 ] || fail "verify passed after another person's review was deleted"
	stderr_has "FAILED: Elasticsearch reviews (theirs): records, fixture's less 65: 934 != 935"
	stderr_has "FAILED: other people's records unchanged"
}

@test "batch-job: make -j2 nightly copies what changed since the bookmark; a rerun moves nothing" {
	scenario batch-job
	ok fixtures
	ok -j2 nightly
	stdout_has "moved: customers-to-mongo 200 orders-to-mongo 600 orders-to-es 600"
	verified
	ok -j2 nightly
	stdout_has "moved: customers-to-mongo 0 orders-to-mongo 0 orders-to-es 0"
	ok change
	stdout_has "9 customers, 36 orders changed or new"
	# a copy that fails keeps its bookmark, and the next run moves its rows
	cp "$P/out/state/orders-to-es.json" es-bookmark.json
	mk orders-to-es ES=es://127.0.0.1:1
	[ "$status" -ne 0 ] || fail "a copy to an unreachable node succeeded"
	cmp -s es-bookmark.json "$P/out/state/orders-to-es.json" || fail "the failed copy moved its bookmark"
	ok -j2 nightly
	stdout_has "moved: customers-to-mongo 9 orders-to-mongo 36 orders-to-es 36"
	verified
	ok -j2 nightly
	stdout_has "moved: customers-to-mongo 0 orders-to-mongo 0 orders-to-es 0"
	verified
	# pruned to the newest three (one backup per nightly run: five so far)
	[ "$(ls "$P"/out/backups/*.mig | wc -l)" = 3 ] || fail "$(ls "$P"/out/backups) are not 3 backups"
}
