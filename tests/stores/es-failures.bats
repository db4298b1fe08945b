#!/usr/bin/env bats
# servers: es
#
# mig-load into Elasticsearch through failures, on real nodes: a node
# that answers 429 (a write queue of one: MIG_ES_WRITE_QUEUE=1) while many
# bulk requests arrive at once; the loader killed with SIGKILL and resumed
# from its checkpoint; the node frozen (SIGSTOP) and killed in the middle
# of a load.  The tests that disturb a node use one of their own
# (tests/servers/es start), so that no other test sees it; the shared
# node of tests/run.sh serves the others.

load ../cli/helpers

SERVER=$BATS_TEST_DIRNAME/../servers/es

setup_file() {
	# the private node: a write queue of one, for 429s
	MIG_ES_WRITE_QUEUE=1 bash "$SERVER" start >"$BATS_FILE_TMPDIR/p.env" 2>"$BATS_FILE_TMPDIR/p.log" || {
		cat "$BATS_FILE_TMPDIR/p.log" >&2
		return 1
	}
}

teardown_file() {
	local dir
	dir=$(sed -n "s/^export MIG_ES_DATADIR='\(.*\)'$/\1/p" "$BATS_FILE_TMPDIR/p.env" 2>/dev/null)
	[ -z "$dir" ] || [ ! -d "$dir" ] || bash "$SERVER" stop "$dir"
}

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_ES_URL
	# the private node's variables, apart from the shared node's
	P_URL=$(sed -n "s/^export MIG_ES_URL='\(.*\)'$/\1/p" "$BATS_FILE_TMPDIR/p.env")
	P_HTTP=$(sed -n "s/^export MIG_ES_HTTP='\(.*\)'$/\1/p" "$BATS_FILE_TMPDIR/p.env")
	P_DIR=$(sed -n "s/^export MIG_ES_DATADIR='\(.*\)'$/\1/p" "$BATS_FILE_TMPDIR/p.env")
	[ -n "$P_URL" ] || fail "the private node did not start"
	I=mig-fail-t$BATS_TEST_NUMBER
	LOADER=
	WRITER=
	STOPPED=
	curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null
	curl -s -X DELETE "$P_HTTP/$I" >/dev/null || true
}

teardown() {
	[ -z "$WRITER" ] || kill "$WRITER" 2>/dev/null || true
	[ -z "$LOADER" ] || kill -KILL "$LOADER" 2>/dev/null || true
	[ -z "$STOPPED" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	curl -s -X DELETE "$MIG_ES_HTTP/$I" >/dev/null || true
	curl -s -m 5 -X DELETE "$P_HTTP/$I" >/dev/null 2>&1 || true
}

# docs HTTP INDEX: documents in INDEX after a refresh, by curl.
docs() {
	curl -s -X POST "$1/$2/_refresh" >/dev/null
	curl -s "$1/$2/_count" | jq -r '.count // 0'
}

# wait_docs HTTP INDEX N: until INDEX holds at least N documents (30 s at most).
wait_docs() {
	local i n
	for i in $(seq 300); do
		n=$(docs "$1" "$2")
		[ "$n" -ge "$3" ] && return 0
		sleep 0.1
	done
	fail "$2 never reached $3 documents (has $n)"
}

# sum_v HTTP INDEX: the sum of the v values (with the count: each record
# once, as the ids are unique).
sum_v() {
	curl -s -X POST "$1/$2/_refresh" >/dev/null
	curl -s -X POST "$1/$2/_search?size=0" -H 'Content-Type: application/json' \
		-d '{"aggs":{"v":{"sum":{"field":"v"}}}}' | jq -r '.aggregations.v.value | floor'
}

@test "es: 429 answers from a full write queue are retried with backoff: nothing lost" {
	awk 'BEGIN { for (i = 1; i <= 30000; i++) printf("{\"_id\":\"%d\",\"v\":%d,\"s\":\"r%d\"}\n", i, i, i) }' >in.ndjson
	# 8 requests at once, each to 4 shards, against 2 write threads and a
	# queue of 1: most of the first ones are refused
	run --separate-stderr mig-load -v --create --batch-size 10000 -i in.ndjson \
		"$P_URL?parallel=8&batch_bytes=64k&shards=4&replicas=0#$I"
	status_is 0
	load_summary 30000 30000 0 0
	stderr_matches "sending [0-9]+ records again \(retry 1\): HTTP 429: es_rejected_execution_exception"
	[ "$(docs "$P_HTTP" "$I")" = 30000 ] || fail "the index holds $(docs "$P_HTTP" "$I") documents"
	[ "$(curl -s "$P_HTTP/_nodes/stats/thread_pool" | jq '[.nodes[].thread_pool.write.rejected] | add')" -gt 0 ] ||
		fail "the node rejected nothing: the test did not test"
}

@test "es: mig-load killed with SIGKILL resumes from its checkpoint: every record once" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf("{\"_id\":\"%d\",\"v\":%d}\n", i, i) }' >in.ndjson
	mkfifo feed
	mig-load "$MIG_ES_URL#$I" --create --checkpoint cp.json --batch-size 500 <feed 2>load1.err &
	LOADER=$!
	# feed it slowly so that the kill lands in the middle
	awk '{ print; if (NR % 500 == 0) { fflush(); system("sleep 0.05") } }' in.ndjson >feed &
	WRITER=$!
	wait_docs "$MIG_ES_HTTP" "$I" 5000
	kill -KILL "$LOADER"
	wait "$LOADER" || true
	LOADER=
	kill "$WRITER" 2>/dev/null || true
	WRITER=
	n1=$(docs "$MIG_ES_HTTP" "$I")
	[ "$n1" -lt 20000 ] || fail "the load ended before the kill"
	jq_true cp.json '.complete == false and .line > 0'
	run --separate-stderr mig-load "$MIG_ES_URL#$I" --checkpoint cp.json --batch-size 500 -i in.ndjson
	status_is 0
	stderr_has "resumed"
	[ "$(docs "$MIG_ES_HTTP" "$I")" = 20000 ] || fail "$(docs "$MIG_ES_HTTP" "$I") documents after the resume"
	[ "$(sum_v "$MIG_ES_HTTP" "$I")" = 200010000 ] || fail "values lost"
	jq_true cp.json '.complete == true'
	# a third run has nothing to do
	run --separate-stderr mig-load "$MIG_ES_URL#$I" --checkpoint cp.json -i in.ndjson
	status_is 0
	stderr_has "nothing to do"
}

@test "es: a node frozen mid-load: exit 3 with a clear message; resumed once it is back: every record once" {
	local pid
	pid=$(cat "$P_DIR/es.pid")
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf("{\"_id\":\"%d\",\"v\":%d}\n", i, i) }' >in.ndjson
	mkfifo feed
	mig-load "$P_URL?timeout=2#$I" --create --checkpoint cp.json --batch-size 500 --retries 2 \
		<feed 2>load1.err &
	LOADER=$!
	awk '{ print; if (NR % 500 == 0) { fflush(); system("sleep 0.05") } }' in.ndjson >feed &
	WRITER=$!
	wait_docs "$P_HTTP" "$I" 3000
	kill -STOP "$pid"
	STOPPED=$pid
	rc=0
	wait "$LOADER" || rc=$?
	LOADER=
	kill "$WRITER" 2>/dev/null || true
	WRITER=
	kill -CONT "$pid"
	STOPPED=
	[ "$rc" = 3 ] || { cat load1.err >&2; fail "exit status $rc, expected 3"; }
	grep -Eq "mig-load: batch [0-9]+ \(input lines [0-9]+-[0-9]+\): es://127\.0\.0\.1:[0-9]+\?timeout=2#$I: POST /$I/_bulk: [0-9]+ records not written after 2 retries: the node did not answer for 2 s" load1.err ||
		{ cat load1.err >&2; fail "no clear message"; }
	# the same locator: the checkpoint names it
	run --separate-stderr mig-load "$P_URL?timeout=2#$I" --checkpoint cp.json --batch-size 500 -i in.ndjson
	status_is 0
	[ "$(docs "$P_HTTP" "$I")" = 20000 ] || fail "$(docs "$P_HTTP" "$I") documents after the resume"
	[ "$(sum_v "$P_HTTP" "$I")" = 200010000 ] || fail "values lost"
}

@test "es: the node killed mid-load: exit 3, the message says the server cannot be reached" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf("{\"_id\":\"%d\",\"v\":%d}\n", i, i) }' >in.ndjson
	mkfifo feed
	mig-load "$P_URL#$I" --create --checkpoint cp.json --batch-size 500 --retries 2 <feed 2>load1.err &
	LOADER=$!
	awk '{ print; if (NR % 500 == 0) { fflush(); system("sleep 0.05") } }' in.ndjson >feed &
	WRITER=$!
	wait_docs "$P_HTTP" "$I" 3000
	bash "$SERVER" stop "$P_DIR"
	rc=0
	wait "$LOADER" || rc=$?
	LOADER=
	kill "$WRITER" 2>/dev/null || true
	WRITER=
	[ "$rc" = 3 ] || { cat load1.err >&2; fail "exit status $rc, expected 3"; }
	grep -Eq "mig-load: batch [0-9]+ \(input lines [0-9]+-[0-9]+\): es://127\.0\.0\.1:[0-9]+#$I: POST /$I/_bulk: .*(Couldn't connect|Connection refused|Failed to connect|Empty reply|Recv failure)" load1.err ||
		{ cat load1.err >&2; fail "no clear message"; }
	jq_true cp.json '.complete == false'
}
