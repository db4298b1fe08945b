#!/usr/bin/env bats
# The EXAMPLES of every man page are run, in order, in an empty directory,
# so that the documentation cannot drift from the programs (as jq does with
# its manual).  A command is a line of a literal display that starts with
# "$ ", with its "\e"-continued lines; mdoc's \e is a backslash.

bats_require_minimum_version 1.5.0

examples() {
	awk '
		/^\.Sh / { inex = ($0 == ".Sh EXAMPLES") }
		inex && /^\.Bd -literal/ { lit = 1; next }
		inex && /^\.Ed/ { lit = 0; cont = 0; next }
		!lit { next }
		{ line = $0; gsub(/\\e/, "\\", line) }
		cont { print line; cont = (line ~ /(\\|\|)$/); next }
		/^\$ / { sub(/^\$ /, "", line); print line; cont = (line ~ /(\\|\|)$/) }
	' "$1"
}

run_examples() {
	local page="$BATS_TEST_DIRNAME/../../$1" script="$BATS_TEST_TMPDIR/examples.sh"
	examples "$page" >"$script"
	[ -s "$script" ] || { echo "no examples in $1"; return 1; }
	cd "$BATS_TEST_TMPDIR"
	run bash -e -o pipefail "$script"
	if [ "$status" -ne 0 ]; then
		echo "examples of $1 failed (exit $status):"
		cat -n "$script"
		echo "--- output:"
		echo "$output"
		return 1
	fi
}

@test "mig-extract(1) examples run" { run_examples man/man1/mig-extract.1; }
@test "mig-load(1) examples run" { run_examples man/man1/mig-load.1; }
@test "mig-backup(1) examples run" { run_examples man/man1/mig-backup.1; }
@test "mig-restore(1) examples run" { run_examples man/man1/mig-restore.1; }
@test "mig-archive(5) examples run" { run_examples man/man5/mig-archive.5; }
@test "mig(7) examples run" { run_examples man/man7/mig.7; }
