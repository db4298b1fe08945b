#!/usr/bin/env bats
# servers: mongo
#
# mig-load into MongoDB through failures: the loader killed with SIGKILL
# and resumed from its checkpoint; the server stopped in the middle of a
# load (exit 3, a clear message) and the load resumed once it is back.
# The server test uses a FerretDB of its own (tests/servers/mongo start),
# so that stopping it disturbs no other test.

load ../cli/helpers

eval "cli_$(declare -f setup)"

setup() {
	cli_setup
	need_servers MIG_MONGO_URL
	M="${MIG_MONGO_URL%/}/mig_resume_${BATS_TEST_NUMBER}_$$"
	SERVER=$BATS_TEST_DIRNAME/../servers/mongo
	P_DIR=
	LOADER=
	WRITER=
}

teardown() {
	[ -z "$WRITER" ] || kill "$WRITER" 2>/dev/null || true
	[ -z "$LOADER" ] || kill -KILL "$LOADER" 2>/dev/null || true
	[ -z "$P_DIR" ] || bash "$SERVER" stop "$P_DIR" >/dev/null 2>&1 || true
}

# count URL#COLL
count() {
	mig-extract -q --count "$1" 2>/dev/null || echo 0
}

# wait_count URL#COLL N: until COLL holds at least N documents (20 s at most).
wait_count() {
	local i n
	for i in $(seq 400); do
		n=$(count "$1")
		[ "$n" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$1 never reached $2 documents (has $n)"
}

@test "mig-load killed with SIGKILL resumes from its checkpoint: every record once" {
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf("{\"_id\":%d,\"v\":\"r%d\"}\n", i, i) }' >in.ndjson
	mkfifo feed
	mig-load "$M#k" --checkpoint cp.json --batch-size 500 --on-conflict skip <feed 2>load1.err &
	LOADER=$!
	# feed it slowly so that the kill lands in the middle
	awk '{ print; if (NR % 500 == 0) { fflush(); system("sleep 0.05") } }' in.ndjson >feed &
	WRITER=$!
	wait_count "$M#k" 5000
	kill -KILL "$LOADER"
	wait "$LOADER" || true
	LOADER=
	kill "$WRITER" 2>/dev/null || true
	WRITER=
	n1=$(count "$M#k")
	[ "$n1" -lt 20000 ] || fail "the load ended before the kill"
	jq_true cp.json '.complete == false and .line > 0'
	run --separate-stderr mig-load "$M#k" --checkpoint cp.json --batch-size 500 --on-conflict skip -i in.ndjson
	status_is 0
	stderr_has "resumed:"
	[ "$(count "$M#k")" = 20000 ] || fail "$(count "$M#k") documents after the resume, not 20000"
	# at most the batch in flight was sent twice, and skipped
	skipped=$(printf '%s\n' "$stderr" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	[ "${skipped:-0}" -le 500 ] || fail "$skipped skipped"
	jq_true cp.json '.complete == true'
	# a third run has nothing to do
	run --separate-stderr mig-load "$M#k" --checkpoint cp.json -i in.ndjson
	status_is 0
	stderr_has "complete"
}

@test "the server stopped in the middle of a load: exit 3, a clear message, and the resume works" {
	local env
	env=$(bash "$SERVER" start 2>server.log) || { cat server.log >&2; fail "could not start a server"; }
	eval "$env"
	P_DIR=$MIG_MONGO_DATADIR
	P="${MIG_MONGO_URL%/}/res#s"
	awk 'BEGIN { for (i = 1; i <= 10000; i++) printf("{\"_id\":%d,\"v\":\"r%d\"}\n", i, i) }' >in.ndjson
	mkfifo feed
	mig-load "$P" --checkpoint cp.json --batch-size 500 --retries 2 <feed 2>load1.err &
	LOADER=$!
	exec 4>feed
	head -n 4000 in.ndjson >&4
	wait_count "$P" 3500
	bash "$SERVER" kill "$P_DIR"
	tail -n +4001 in.ndjson >&4 || true   # it may stop reading: SIGPIPE
	exec 4>&-
	rc=0
	wait "$LOADER" || rc=$?
	LOADER=
	stderr=$(cat load1.err)
	status=$rc
	status_is 3
	# which batch, which input lines, what went wrong, how often it tried
	stderr_matches '^mig-load: .*batch [0-9]+ \(input lines [0-9]+-[0-9]+\)'
	stderr_has "retry 1 of 2"
	stderr_has "(retried 2 times)"
	jq_true cp.json '.complete == false and .line >= 3500 and .line < 10000'
	bash "$SERVER" restart "$P_DIR"
	run --separate-stderr mig-load "$P" --checkpoint cp.json --batch-size 500 --on-conflict skip -i in.ndjson
	status_is 0
	stderr_has "resumed:"
	[ "$(count "$P")" = 10000 ] || fail "$(count "$P") documents after the resume, not 10000"
}

@test "a server that is down at the start: exit 3 at once, nothing written" {
	local env
	env=$(bash "$SERVER" start 2>server.log) || { cat server.log >&2; fail "could not start a server"; }
	eval "$env"
	P_DIR=$MIG_MONGO_DATADIR
	bash "$SERVER" kill "$P_DIR"
	records 10 >in.ndjson
	run --separate-stderr mig-load "${MIG_MONGO_URL%/}/db#c" -i in.ndjson --checkpoint cp.json
	status_is 3
	stderr_has "cannot reach the server"
	[ ! -e cp.json ] || fail "a checkpoint was written"
}
