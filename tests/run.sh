#!/usr/bin/env bash
# usage: bash tests/run.sh [--bin DIR] [--unit DIR] [--asan DIR] [--only-asan]
#
# The test runner behind "make check" and "make check-asan".  Sections, in
# order, each under a "== NAME" header:
#   man pages      mandoc -Tlint -W warning on every man/man*/*.[157]
#   unit           every executable in the --unit DIR (cmocka, TAP output)
#   cli            every tests/cli/*.bats, programs from --bin DIR on PATH
#   unit (asan)    the same against the ASan/UBSan build in --asan DIR
#   cli (asan)       (DIR/tests and DIR/bin)
#   stores         every tests/stores/*.bats, after starting the servers they
#                  name (tests/servers/NAME start); MIG_SKIP_SERVERS=a,b skips
#                  servers and the files that need them
# --only-asan runs the two asan sections alone.  The last line of the output
# is "N passed, N failed" (", N skipped" when some were); the exit status is 1
# when any test failed.
#
# Environment: MIG_SKIP_SERVERS (above), MIG_TEST_TIMEOUT (seconds per test
# file, default 900), MIG_SERVER_TIMEOUT (seconds to start a server, default
# 1800: the first start may download and build), CC (for the LeakSanitizer
# probe, default cc).
set -u

# libmongoc (linked into every program for the mongo backend) initialises
# itself in a library constructor and keeps its counters in
# /dev/shm/mongoc-PID.  A process killed with SIGKILL, as the resume tests
# do on purpose, leaves that file behind; when its PID comes round again
# the new process warns "Falling back to malloc for counters" on stderr.
# The counters are of no use to us: switch them off for the tests, and
# clear what killed processes of earlier runs left.
export MONGOC_DISABLE_SHM=1
for f in /dev/shm/mongoc-*; do
	[ -e "$f" ] || continue
	kill -0 "${f##*-}" 2>/dev/null || rm -f "$f" 2>/dev/null
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

usage() {
	echo "usage: bash tests/run.sh [--bin DIR] [--unit DIR] [--asan DIR] [--only-asan]" >&2
	exit 2
}

abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$root/$1" ;;
	esac
}

bin_dir=$root/bin
unit_dir=$root/build/tests
asan_dir=
only_asan=
while [ $# -gt 0 ]; do
	case $1 in
	--bin) [ $# -ge 2 ] || usage; bin_dir=$(abspath "$2"); shift 2 ;;
	--unit) [ $# -ge 2 ] || usage; unit_dir=$(abspath "$2"); shift 2 ;;
	--asan) [ $# -ge 2 ] || usage; asan_dir=$(abspath "$2"); shift 2 ;;
	--only-asan) only_asan=1; shift ;;
	*) usage ;;
	esac
done
[ -z "$only_asan" ] || [ -n "$asan_dir" ] || usage

test_timeout=${MIG_TEST_TIMEOUT:-900}
server_timeout=${MIG_SERVER_TIMEOUT:-1800}
# Lines of a failing test's output shown in the log.
max_detail=400

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mig-check.XXXXXX") || exit 2

# ---- cleanup: the running test, the servers, the temp dir ----------------

child=
started_names=()
started_dirs=()

stop_servers() {
	local i
	for ((i = ${#started_names[@]} - 1; i >= 0; i--)); do
		if bash "tests/servers/${started_names[i]}" stop "${started_dirs[i]}"; then
			echo "  stopped ${started_names[i]}"
		else
			echo "  warning: could not stop ${started_names[i]} (${started_dirs[i]})"
		fi
	done
	started_names=()
	started_dirs=()
}

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	# timeout(1) passes the signal on to the test's whole process group.
	[ -z "$child" ] || kill -TERM "$child" 2>/dev/null
	[ -z "$child" ] || wait "$child" 2>/dev/null
	child=
	stop_servers
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT
trap 'echo; echo "terminated"; exit 143' TERM

# ---- counting ---------------------------------------------------------------

sec_names=()
sec_pass=()
sec_fail=()
sec_skip=()
failed_items=()
cur=-1
# MIG_SKIP_SERVERS=mongo,es: servers not to start; their store tests are skipped.
read -r -a skipped_servers <<<"$(printf '%s' "${MIG_SKIP_SERVERS:-}" | tr ',' ' ')"

section() {
	sec_names+=("$1")
	sec_pass+=(0)
	sec_fail+=(0)
	sec_skip+=(0)
	cur=$((${#sec_names[@]} - 1))
	printf '\n== %s\n' "$1"
}

# count PASSED FAILED SKIPPED: add to the current section.
count() {
	sec_pass[cur]=$((sec_pass[cur] + $1))
	sec_fail[cur]=$((sec_fail[cur] + $2))
	sec_skip[cur]=$((sec_skip[cur] + $3))
}

# ---- running one test file ----------------------------------------------

# run_timed OUT CMD...: run CMD with stdin from /dev/null and stdout+stderr
# in OUT, under a time limit; sets rc.  Runs in the background so that a
# signal reaches our trap while we wait.
run_timed() {
	local out=$1
	shift
	timeout -k 10 "$test_timeout" "$@" >"$out" 2>&1 </dev/null &
	child=$!
	# (stderr: no "Aborted" job notice from bash; the log says it better)
	wait "$child" 2>/dev/null
	rc=$?
	child=
}

# details FILE: a failing test file's output without the passing TAP lines:
# the "not ok" lines, their diagnostics, and anything printed outside TAP.
details() {
	grep -Ev '^(ok [0-9]|[0-9]+\.\.[0-9]+$|# (not )?ok - )' "$1" >"$tmp/details"
	local n
	n=$(wc -l <"$tmp/details")
	[ "$n" -gt 0 ] || echo "    (no output besides passing tests)"
	head -n "$max_detail" "$tmp/details" | sed 's/^/    /'
	[ "$n" -le "$max_detail" ] || echo "    ... ($((n - max_detail)) more lines)"
}

# run_tap NAME SANDIR CMD...: run one TAP-producing test file and count its
# results.  A non-zero exit without a "not ok" line, fewer results than
# planned, or a sanitizer report (written under SANDIR) is one more failure:
# a crash must not pass for success.
run_tap() {
	local name=$1 sandir=$2 t0=$SECONDS p f s planned why=
	shift 2
	run_timed "$tmp/out" "$@"
	read -r p f s planned < <(awk '
		/^ok / { if (tolower($0) ~ /# skip/) s++; else p++; next }
		/^not ok / { if (tolower($0) ~ /# skip/) s++; else if (tolower($0) ~ /# todo/) p++; else f++; next }
		/^[0-9]+\.\.[0-9]+$/ { split($0, a, "\\.\\."); n += a[2] }
		END { print p + 0, f + 0, s + 0, n + 0 }' "$tmp/out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		why="timed out after $test_timeout s"
	elif [ "$rc" -gt 128 ] && [ "$f" -eq 0 ]; then
		why="killed by signal $((rc - 128))"
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exit status $rc without a failed test"
	elif [ $((p + f + s)) -lt "$planned" ]; then
		why="$((p + f + s)) of $planned planned tests reported"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ] && [ "$planned" -eq 0 ] &&
		! grep -q '^1\.\.0' "$tmp/out"; then
		why="no TAP output"
	fi
	if [ -n "$sandir" ] && compgen -G "$sandir/*" >/dev/null; then
		why="${why:+$why; }sanitizer report below (from a program these tests ran)"
	fi
	[ -z "$why" ] || f=$((f + 1))
	count "$p" "$f" "$s"
	if [ "$f" -eq 0 ]; then
		printf '  ok    %s (%d passed%s, %d s)\n' "$name" "$p" \
			"$([ "$s" -eq 0 ] || printf ', %d skipped' "$s")" $((SECONDS - t0))
		return
	fi
	failed_items+=("${sec_names[cur]}: $name")
	printf '  FAIL  %s (%d passed, %d failed%s, %d s)%s\n' "$name" "$p" "$f" \
		"$([ "$s" -eq 0 ] || printf ', %d skipped' "$s")" $((SECONDS - t0)) "${why:+: $why}"
	details "$tmp/out"
	if [ -n "$sandir" ] && compgen -G "$sandir/*" >/dev/null; then
		cat "$sandir"/* >"$tmp/reports"
		head -n "$max_detail" "$tmp/reports" | sed 's/^/    /'
	fi
}

# fail_item NAME WHY: one failure that is not a test's (a missing binary, a
# server that did not start).
fail_item() {
	count 0 1 0
	failed_items+=("${sec_names[cur]}: $1")
	printf '  FAIL  %s: %s\n' "$1" "$2"
}

# ---- sections ---------------------------------------------------------------

lint_man() {
	section "man pages"
	local page n=0
	for page in man/man*/*.[157]; do
		[ -f "$page" ] || continue
		n=$((n + 1))
		if mandoc -Tlint -W warning "$page" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
			count 1 0 0
			printf '  ok    %s\n' "$page"
		else
			fail_item "$page" "mandoc -Tlint -W warning"
			sed 's/^/    /' "$tmp/out"
		fi
	done
	[ "$n" -gt 0 ] || echo "  no man pages yet"
}

# sanitizer_env: set env_vars and sandir for one test file under ASan/UBSan,
# its reports written to files in a new sandir.  Files, not stderr, so that a
# test that expects a failure exit still cannot hide a report.
san_n=0
sanitizer_env() {
	san_n=$((san_n + 1))
	sandir=$tmp/san/$san_n
	mkdir -p "$sandir"
	env_vars=(
		"ASAN_OPTIONS=detect_leaks=$detect_leaks:abort_on_error=1:print_legend=0:log_path=$sandir/asan"
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$sandir/ubsan"
	)
}

# unit_tests DIR SANITIZED: every executable in DIR, from the repo root.
unit_tests() {
	local dir=$1 sanitized=$2 src b n=0
	if [ ! -d "$dir" ]; then
		if compgen -G 'tests/unit/test_*.c' >/dev/null; then
			fail_item "$dir" "no unit test binaries (not built?)"
		else
			echo "  no unit tests yet"
		fi
		return
	fi
	# A test source whose binary is missing must not pass unnoticed.
	for src in tests/unit/test_*.c; do
		[ -f "$src" ] || continue
		b=$(basename "$src" .c)
		[ -x "$dir/$b" ] || fail_item "$src" "not built ($dir/$b missing)"
	done
	for b in "$dir"/*; do
		if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
		n=$((n + 1))
		env_vars=()
		sandir=
		[ -z "$sanitized" ] || sanitizer_env
		run_tap "${b#"$root"/}" "$sandir" \
			env CMOCKA_MESSAGE_OUTPUT=TAP "${env_vars[@]}" "$b"
	done
	[ "$n" -gt 0 ] || echo "  no unit tests in ${dir#"$root"/}"
}

# bats_tests BINDIR SANITIZED FILE...: each bats file, BINDIR first on PATH.
bats_tests() {
	local bindir=$1 sanitized=$2 f
	shift 2
	for f in "$@"; do
		env_vars=()
		sandir=
		[ -z "$sanitized" ] || sanitizer_env
		run_tap "$f" "$sandir" env PATH="$bindir:$PATH" MIG_BIN="$bindir" \
			"${env_vars[@]}" bats --tap "$f"
	done
}

cli_tests() {
	local bindir=$1 sanitized=$2 f files=()
	for f in tests/cli/*.bats; do
		[ -f "$f" ] && files+=("$f")
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "  no CLI tests yet"
		return
	fi
	[ -d "$bindir" ] || echo "  note: ${bindir#"$root"/} does not exist (not built?)"
	bats_tests "$bindir" "$sanitized" "${files[@]}"
}

# LeakSanitizer needs ptrace-like powers that some sandboxes and containers
# deny; probe it once with a program that leaks, and run without leak
# detection (saying so) when it cannot work.
detect_leaks=1
probe_lsan() {
	local cc=${CC:-cc}
	printf '#include <stdlib.h>\nvoid *volatile p;\nint main(void) { p = malloc(7); p = 0; return 0; }\n' >"$tmp/leak.c"
	if ! "$cc" -fsanitize=address -g -o "$tmp/leak" "$tmp/leak.c" >"$tmp/probe.log" 2>&1; then
		echo "  note: could not build the LeakSanitizer probe with $cc; leak detection left on"
		return
	fi
	ASAN_OPTIONS=detect_leaks=1 "$tmp/leak" >"$tmp/probe.log" 2>&1
	if grep -q 'detected memory leaks' "$tmp/probe.log"; then
		echo "  LeakSanitizer works: detect_leaks=1"
	else
		detect_leaks=0
		echo "  NOTE: LeakSanitizer cannot run here, leak detection is OFF (detect_leaks=0):"
		grep -m 2 -i 'sanitizer' "$tmp/probe.log" | sed 's/^/    probe: /'
	fi
}

asan_tests() {
	section "unit (asan)"
	if [ ! -d "$asan_dir/bin" ] && [ ! -d "$asan_dir/tests" ]; then
		fail_item "${asan_dir#"$root"/}" "no ASan build (make asan-build)"
		return
	fi
	probe_lsan
	unit_tests "$asan_dir/tests" 1
	section "cli (asan)"
	cli_tests "$asan_dir/bin" 1
}

# in_list WORD LIST...: true when WORD is one of LIST.
in_list() {
	local w=$1
	shift
	case " $* " in *" $w "*) return 0 ;; esac
	return 1
}

# servers_of FILE: the servers a store test needs: the names on its
# "# servers: NAME..." line, else the first word of its file name when
# tests/servers/ has a script of that name (postgres-copy.bats: postgres).
servers_of() {
	local line word
	line=$(grep -m 1 -E '^#[[:space:]]*servers:' "$1")
	if [ -n "$line" ]; then
		printf '%s\n' "${line#*:}" | tr -s ', ' '\n' | grep -v '^$'
		return
	fi
	word=$(basename "$1" .bats)
	word=${word%%[-_.]*}
	[ ! -f "tests/servers/$word" ] || echo "$word"
}

# start_server NAME: start it once; its export lines go into our
# environment, and the MIG_*_DATADIR among them is what stop takes.
start_server() {
	local name=$1 t0=$SECONDS var
	if [ ! -f "tests/servers/$name" ]; then
		fail_item "server $name" "no tests/servers/$name"
		return 1
	fi
	echo "  starting $name"
	timeout -k 10 "$server_timeout" bash "tests/servers/$name" start \
		>"$tmp/$name.env" 2>"$tmp/$name.log" </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	var=$(grep -o -m 1 '^export MIG_[A-Z0-9_]*_DATADIR=' "$tmp/$name.env" | sed 's/^export //; s/=$//')
	if [ "$rc" -ne 0 ] || [ -z "$var" ]; then
		fail_item "server $name" "tests/servers/$name start failed (status $rc)"
		sed 's/^/    /' "$tmp/$name.log" "$tmp/$name.env"
		# It may be up even so: stop what the script reported.
		if [ -n "$var" ]; then
			(eval "$(cat "$tmp/$name.env")" && bash "tests/servers/$name" stop "${!var}") >/dev/null 2>&1
		fi
		return 1
	fi
	eval "$(cat "$tmp/$name.env")"
	started_names+=("$name")
	started_dirs+=("${!var}")
	sed 's/^/    /' "$tmp/$name.log"
	printf '  started %s (%d s)\n' "$name" $((SECONDS - t0))
}

store_tests() {
	section "stores"
	local f s files=() needed=() up=() missing n
	for f in tests/stores/*.bats; do
		[ -f "$f" ] && files+=("$f")
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "  no store tests yet"
		return
	fi
	for f in "${files[@]}"; do
		while read -r s; do
			in_list "$s" "${needed[@]}" || needed+=("$s")
		done < <(servers_of "$f")
	done
	for s in "${needed[@]}"; do
		if in_list "$s" "${skipped_servers[@]}"; then
			echo "  skipping $s (MIG_SKIP_SERVERS)"
		elif start_server "$s"; then
			up+=("$s")
		fi
	done
	for f in "${files[@]}"; do
		missing=
		while read -r s; do
			in_list "$s" "${up[@]}" || missing=$s
		done < <(servers_of "$f")
		if [ -z "$missing" ]; then
			bats_tests "$bin_dir" "" "$f"
		elif in_list "$missing" "${skipped_servers[@]}"; then
			n=$(bats --count "$f" 2>/dev/null) || n=1
			count 0 0 "$n"
			printf '  skip  %s (%d tests: %s skipped)\n' "$f" "$n" "$missing"
		else
			fail_item "$f" "not run: server $missing did not start"
		fi
	done
	stop_servers
}

summary() {
	local i tp=0 tf=0 ts=0 line
	printf '\n== summary\n'
	printf '  %-14s %7s %7s %8s\n' section passed failed skipped
	for i in "${!sec_names[@]}"; do
		printf '  %-14s %7d %7d %8d\n' "${sec_names[i]}" "${sec_pass[i]}" "${sec_fail[i]}" "${sec_skip[i]}"
		tp=$((tp + sec_pass[i]))
		tf=$((tf + sec_fail[i]))
		ts=$((ts + sec_skip[i]))
	done
	if [ ${#skipped_servers[@]} -gt 0 ] && [ -z "$only_asan" ]; then
		echo "  servers skipped (MIG_SKIP_SERVERS): ${skipped_servers[*]}"
	fi
	if [ "$detect_leaks" = 0 ]; then
		echo "  note: LeakSanitizer could not run here; the asan sections ran with detect_leaks=0"
	fi
	for line in "${failed_items[@]}"; do
		echo "  failed: $line"
	done
	line="$tp passed, $tf failed"
	[ "$ts" -eq 0 ] || line="$line, $ts skipped"
	echo "$line"
	[ "$tf" -eq 0 ]
}

if [ -z "$only_asan" ]; then
	lint_man
	section "unit"
	unit_tests "$unit_dir" ""
	section "cli"
	cli_tests "$bin_dir" ""
fi
[ -z "$asan_dir" ] || asan_tests
[ -n "$only_asan" ] || store_tests
if summary; then exit 0; else exit 1; fi
