# tests/cli/helpers.bash - shared setup of the CLI tests (bats).
#
# Each test runs in its own empty directory (BATS_TEST_TMPDIR), so fixtures
# are plain relative names.  The programs are found on PATH: the runner puts
# the build's bin directory first (and exports MIG_BIN).
#
# Assertions print what the program did (status, stdout, stderr) when they
# fail, so that a red test says why without a rerun.

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	cd "$T" || return 1
	export LC_ALL=C.UTF-8
	if [ -n "${MIG_BIN:-}" ]; then
		PATH=$MIG_BIN:$PATH
	fi
	# Nothing from the caller's environment may steer a locator.
	unset MIG_TEST_LOC
}

# ---------------------------------------------------------------- fixtures

# ndjson FILE [LINE...]: FILE with one LINE per line ("\n"-terminated); with
# no LINE, an empty file.
ndjson() {
	local f=$1
	shift
	if [ $# -eq 0 ]; then
		: >"$f"
	else
		printf '%s\n' "$@" >"$f"
	fi
}

# records N [FIRST]: N records {"id":i,"name":"rI","score":i.5} on stdout.
records() {
	local n=$1 first=${2:-1}
	awk -v n="$n" -v f="$first" 'BEGIN { for (i = f; i < f + n; i++)
		printf("{\"id\":%d,\"name\":\"r%d\",\"score\":%d.5}\n", i, i, i) }'
}

# sql DB STATEMENT: runs STATEMENT with the sqlite3 CLI (independent of
# mig), list mode, no header, waiting up to 5 s for a lock.
sql() {
	sqlite3 -batch -noheader -cmd '.timeout 5000' "$1" "$2"
}

# rows DB TABLE: the number of rows of TABLE (quoted as an identifier).
rows() {
	local q=${2//\"/\"\"}
	sql "$1" "SELECT count(*) FROM \"$q\""
}

# sorted_json FILE: each line of FILE as jq -S -c prints it.
sorted_json() {
	jq -S -c . "$1"
}

# ---------------------------------------------------------------- assertions

show_run() {
	{
		printf '# status: %s\n' "${status-}"
		printf '# --- stdout:\n%s\n' "${output-}"
		printf '# --- stderr:\n%s\n' "${stderr-}"
	} >&2
}

fail() {
	printf '# FAIL: %s\n' "$*" >&2
	show_run
	return 1
}

# status_is N: the last run exited with N.
status_is() {
	[ "${status-}" = "$1" ] || fail "expected exit status $1, got ${status-}"
}

# has TEXT NEEDLE [WHAT]: TEXT contains NEEDLE (fixed string).
has() {
	case "$1" in
	*"$2"*) return 0 ;;
	esac
	fail "${3:-text} does not contain: $2"
}

# has_not TEXT NEEDLE [WHAT]
has_not() {
	case "$1" in
	*"$2"*) fail "${3:-text} contains: $2" ;;
	esac
	return 0
}

# matches TEXT ERE [WHAT]: some line of TEXT matches the extended regex.
matches() {
	printf '%s\n' "$1" | grep -Eq -- "$2" || fail "${3:-text} has no line matching /$2/"
}

stdout_has() { has "$output" "$1" stdout; }
stderr_has() { has "$stderr" "$1" stderr; }
stdout_empty() { [ -z "$output" ] || fail "stdout is not empty"; }
stderr_empty() { [ -z "$stderr" ] || fail "stderr is not empty"; }
stderr_matches() { matches "$stderr" "$1" stderr; }
stdout_matches() { matches "$output" "$1" stdout; }

# failed_cleanly: the last run failed as a program does (exit 2 or 3, a
# message on stderr), not by crashing or by not being found.
failed_cleanly() {
	case "${status-}" in
	2 | 3) ;;
	*) fail "expected exit status 2 or 3, got ${status-}" ;;
	esac
	[ -n "${stderr-}" ] || fail "no message on stderr"
}

# usage_error PROG: the last run was a usage error: exit 2, nothing on
# stdout, "PROG: ..." and the one-line usage on stderr.
usage_error() {
	status_is 2
	stdout_empty
	stderr_matches "^$1: "
	stderr_has "usage: $1 "
}

# same_json A B: the two files hold the same JSON values, line by line
# (key order ignored).
same_json() {
	local a b
	a=$(jq -S -c . "$1") || fail "$1 is not JSON"
	b=$(jq -S -c . "$2") || fail "$2 is not JSON"
	if [ "$a" != "$b" ]; then
		printf '# %s:\n%s\n# %s:\n%s\n' "$1" "$a" "$2" "$b" >&2
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") >&2 || true
		fail "$1 and $2 differ"
	fi
}

# same_json_text TEXT FILE: like same_json, for a string (e.g. $output).
same_json_text() {
	printf '%s\n' "$1" >"$T/.actual.ndjson"
	same_json "$T/.actual.ndjson" "$2"
}

# jq_true FILE FILTER: jq -e FILTER is true on FILE (slurped when -s is
# given as a third argument).
jq_true() {
	# shellcheck disable=SC2086 # the option, when given, is one word
	jq -e ${3:-} "$2" "$1" >/dev/null || {
		printf '# %s:\n' "$1" >&2
		head -c 4000 "$1" >&2
		fail "jq filter is not true: $2"
	}
}

# report_num FILE KEY: the first number found under KEY anywhere in the
# JSON document FILE (a --report); empty when there is none.
report_num() {
	jq -r --arg k "$2" '[.. | objects | select(has($k)) | .[$k] | numbers] | first // empty' "$1"
}

# report_is FILE KEY N
report_is() {
	local v
	v=$(report_num "$1" "$2")
	[ "$v" = "$3" ] || { cat "$1" >&2; fail "report $1: $2 is '${v}', expected $3"; }
}

# load_summary R I U J: stderr holds the summary line "R read, I inserted,
# U updated, J rejected" (other counts, such as "0 skipped", may stand
# between, and the reject file's name after "J rejected").
load_summary() {
	stderr_matches "^mig-load: .*[^0-9]$1 read, $2 inserted, $3 updated, (.*, )?$4 rejected( |\$)"
}

# wait_rows DB TABLE N: polls until TABLE has at least N rows (at most 20 s;
# a synchronisation, not a timing assertion).
wait_rows() {
	local _ n
	for _ in $(seq 200); do
		n=$(sql "$1" "SELECT count(*) FROM \"$2\"" 2>/dev/null) || n=0
		[ "${n:-0}" -ge "$3" ] && return 0
		sleep 0.1
	done
	fail "table $2 never reached $3 rows (has ${n:-0})"
}

# wait_blocked PID: polls (at most 20 s) until PID runs a mig program and
# sleeps waiting for input (Linux /proc), so that a signal sent next finds
# its handlers installed.
wait_blocked() {
	local _ exe wchan st
	for _ in $(seq 200); do
		exe=$(readlink "/proc/$1/exe" 2>/dev/null) || exe=
		wchan=$(cat "/proc/$1/wchan" 2>/dev/null) || wchan=
		st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || st=
		case "${exe##*/}:$wchan:$st" in
		mig-*:*pipe_read*:* | mig-*:*:S) return 0 ;;
		esac
		sleep 0.1
	done
	fail "process $1 never waited for input (exe '$exe', wchan '$wchan', state '$st')"
}

# wait_exit PID: waits (at most 20 s) for PID to end; sets the global rc to
# its exit status.  Kills it and fails when it does not end.
wait_exit() {
	local _
	for _ in $(seq 200); do
		if ! kill -0 "$1" 2>/dev/null; then
			# shellcheck disable=SC2034 # rc is read by the caller
			rc=0
			# shellcheck disable=SC2034
			wait "$1" || rc=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	fail "process $1 did not end after the signal"
}

# need_servers VAR...: each variable (MIG_PG_URL, MIG_MONGO_URL, MIG_ES_URL)
# names a server, as tests/run.sh exports them; a test without one fails.
need_servers() {
	local v
	for v in "$@"; do
		[ -n "${!v:-}" ] || fail "$v is not set: run under tests/run.sh (make check)"
	done
}
