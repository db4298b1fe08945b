# shellcheck shell=bash
# Helpers for the test server scripts in tests/servers/.  Source it from bash:
#   . "$(dirname "$0")/lib.sh"
# Nothing here prints on stdout: a server script's stdout is its export lines.

# die MESSAGE: the one error line, on stderr, and exit 1.
die() {
	printf '%s: %s\n' "${SERVER_NAME:-server}" "$*" >&2
	exit 1
}

# note MESSAGE: a progress line on stderr.
note() {
	printf '%s: %s\n' "${SERVER_NAME:-server}" "$*" >&2
}

# free_port: print a TCP port that is free on 127.0.0.1 now.  Another process
# may take it before the server binds it: callers retry on "address in use".
free_port() {
	if command -v python3 >/dev/null 2>&1 &&
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null; then
		return 0
	fi
	# No python3: probe random ports above the usual ephemeral range's start;
	# a refused connection means nothing listens there.
	local port i
	for i in $(seq 1 100); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found on 127.0.0.1 (tried $i)"
}

# port_open HOST PORT: true when something accepts connections there.
port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT SECONDS: wait until HOST:PORT accepts connections;
# false after SECONDS.
wait_for_port() {
	local host=$1 port=$2 end=$((SECONDS + $3))
	while ! port_open "$host" "$port"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# run_dir NAME: create and print a new temporary directory for one server
# run, under ${TMPDIR:-/tmp}.  Kept short: it holds unix sockets, whose paths
# are limited to 107 bytes.
run_dir() {
	mktemp -d "${TMPDIR:-/tmp}/mig-$1.XXXXXX" || die "cannot create a directory under ${TMPDIR:-/tmp}"
}

# cache_dir [SUB]: create and print the cache directory for downloads and
# builds, outside the work tree so a new clone reuses it.
cache_dir() {
	local d=${MIG_CACHE:-${HOME:-/tmp}/.cache/mig}${1:+/$1}
	mkdir -p "$d" || die "cannot create cache directory $d"
	printf '%s\n' "$d"
}

# on_exit COMMAND: run COMMAND (a string, eval'd) when the script exits, in
# the reverse order of registration.  disarm_exit forgets them all: a start
# script disarms once the server is up, so that only a failed start cleans up.
_on_exit_cmds=()
_run_on_exit() {
	local i
	for ((i = ${#_on_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_on_exit_cmds[i]}" || true
	done
	_on_exit_cmds=()
}
on_exit() {
	_on_exit_cmds+=("$1")
	trap _run_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
disarm_exit() {
	_on_exit_cmds=()
}

# server_user: print the user servers run as.  PostgreSQL and Elasticsearch
# refuse to run as root, so as root this is the system user mig-test (created
# when missing), or postgres when mig-test cannot be created; otherwise it is
# the current user.
server_user() {
	if [ "$(id -u)" -ne 0 ]; then
		id -un
		return 0
	fi
	if id mig-test >/dev/null 2>&1 ||
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin mig-test >/dev/null 2>&1; then
		echo mig-test
	elif id postgres >/dev/null 2>&1; then
		echo postgres
	else
		die "running as root, and neither user mig-test (useradd failed) nor postgres exists"
	fi
}

# as_user USER COMMAND...: run COMMAND as USER (directly when that is us).
# The environment is kept, but for HOME, USER and LOGNAME (USER's own).
as_user() {
	local user=$1
	shift
	if [ "$(id -un)" = "$user" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$user" -- "$@"
	elif command -v setpriv >/dev/null 2>&1; then
		setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
	else
		die "cannot switch to user $user: neither runuser nor setpriv found"
	fi
}

# give_to USER DIR: make DIR (a fresh run directory) USER's, and check that
# USER can reach it: a TMPDIR inside a private home would not do.
give_to() {
	[ "$(id -un)" = "$1" ] || chown "$1:" "$2" || die "cannot chown $2 to $1"
	as_user "$1" test -w "$2" ||
		die "user $1 cannot write $2 (is TMPDIR=${TMPDIR:-/tmp} reachable by $1?)"
}

# export_line NAME VALUE: print "export NAME='VALUE'", quoted for any sh.
export_line() {
	local q=\'
	printf "export %s='%s'\n" "$1" "${2//$q/$q\\$q$q}"
}
