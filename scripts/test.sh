#!/usr/bin/env bash
# The project's test command: installs what is missing, runs the whole test suite, then checks
# the systemd units offline.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build --build-tests
swift test --skip-build
bash systemd/verify.sh .build/debug/argus-event-sync
