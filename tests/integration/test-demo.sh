#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo reads well for a newcomer (tools/demo/run-demo): it passes, uses
# flicgatectl status, test and ack in its scenes, shows the exact JSON the
# incident system received (a test under its own name, reception-test), and
# shows no protocol lines of the simulated buttons or the sink's own control
# unless DEMO_VERBOSE=1 asks for them.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${FG_BUILD:-$PWD/build}
passed=0 failed=0
check() {
	local what=$1; shift
	if "$@"; then passed=$((passed + 1)); echo "ok - $what"
	else failed=$((failed + 1)); echo "not ok - $what"; fi
}
command -v dbus-daemon >/dev/null || { echo "SKIP: dbus-daemon is not installed (make deps)"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
DEMO_VERBOSE=0 timeout 300 tools/demo/run-demo "$BUILD" > "$out" 2>&1
rc=$?
has() { grep -qE -- "$1" "$out"; }
check "the demo passes (exit $rc)" test $rc -eq 0
check "it runs flicgatectl status" has '^   \$ flicgatectl status$'
check "it runs flicgatectl test" has '^   \$ flicgatectl test reception$'
check "it runs flicgatectl ack" has '^   \$ flicgatectl ack$'
check "status output is shown" has '^     Buttons:    2 known, 2 connected$'
check "the JSON AlertOps received is shown" has '^         "flic_nameId": "reception",$'
check "the test goes under its own name" has '^         "flic_nameId": "reception-test",$'
check "no protocol lines of the buttons" sh -c "! grep -qE 'event [0-9]+: |encoded [0-9]+ at tick' '$out'"
check "no sink control noise" sh -c "! grep -q '_sink/mode' '$out'"
check "no webhook key shown" sh -c "! grep -q '00000000-demo' '$out'"
[ $failed -eq 0 ] || tail -60 "$out"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
