#!/bin/sh
# usage: sh tests/deps.sh PKG...
#
# Installs the Debian packages among PKG that are missing, and nothing else:
# one dpkg-query when everything is there (this runs at every make check),
# otherwise apt-get update once and one apt-get install of the missing ones.
# Not root and something missing: prints the command to run and exits 1.
set -eu

[ $# -gt 0 ] || exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: not a Debian system; make sure these are installed: $*" >&2
	exit 0
fi

# One query for all packages.  Unknown ones print nothing on stdout (an error
# on stderr, and a non-zero status we do not need), so they count as missing.
# A package installed for several architectures prints one line each.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null) || true
missing=
for pkg in "$@"; do
	name=${pkg%%:*}
	if ! printf '%s\n' "$installed" | grep -qx "$name install ok installed"; then
		missing="$missing $pkg"
	fi
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null >&2
# $missing is a list of package names: split on purpose.
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null >&2
