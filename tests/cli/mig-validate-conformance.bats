#!/usr/bin/env bats
# The official JSON Schema Test Suite through mig-validate's command line
# (tests/validate/conformance.sh): draft 2020-12 and draft-07, the required
# tests (at least 98% must pass) and optional/format with --formats (at
# least 85%: internationalised host names are not checked).  The pass counts
# and every failing case are printed in the test log.  The suite is looked
# for in $MIG_TESTDATA, else ../shared/testdata from the repo root.

load helpers

conformance() {
	run bash "$BATS_TEST_DIRNAME/../validate/conformance.sh" "$@"
	# the counts and the failing cases, in the log whatever the outcome
	printf '# %s\n' "${lines[@]}" >&3
	status_is 0
}

@test "JSON Schema Test Suite: draft2020-12 required tests, >= 98% pass" {
	conformance draft2020-12 required 98
}

@test "JSON Schema Test Suite: draft7 required tests, >= 98% pass" {
	conformance draft7 required 98
}

@test "JSON Schema Test Suite: draft2020-12 optional/format with --formats, >= 85% pass" {
	conformance draft2020-12 format 85
}

@test "JSON Schema Test Suite: draft7 optional/format with --formats, >= 85% pass" {
	conformance draft7 format 85
}
