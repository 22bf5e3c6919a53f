#!/usr/bin/env bash
# The project's test command: installs what is missing, runs the whole test suite, then checks
# the systemd units offline.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test --skip-build 2>&1 | tee "$log"
bash systemd/verify.sh .build/debug/argus-event-sync

# One closing line with the count (XCTest prints "Executed 0 tests" first: the suites are
# Swift Testing). swift test has already failed the script if any test failed.
passed=$(sed -n 's/.*Test run with \([0-9][0-9]*\) tests* in .* passed after.*/\1/p' "$log" | tail -n 1)
if [[ -n $passed ]]; then echo "tests: $passed passed, 0 failed"; fi
