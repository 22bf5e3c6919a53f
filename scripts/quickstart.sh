#!/usr/bin/env bash
# Try argus-event-sync without an Argus account: installs what is missing, builds a release
# binary, starts the stub Argus server shipped for the tests on 127.0.0.1:8765 with generated
# events, syncs them once into demo/events.db, and shows what landed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build -c release --static-swift-stdlib
binary=.build/release/argus-event-sync

mkdir -p demo
# Its output goes to a file: a background process holding this script's stdout would keep a
# pipe reading it (`quickstart.sh | tail`) open after the script ends.
python3 Tests/Fixtures/argus_stub.py --port 8765 --events "${EVENTS:-20000}" > demo/stub.log 2>&1 < /dev/null &
stub=$!
trap 'kill $stub 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf http://127.0.0.1:8765/_control/health >/dev/null 2>&1 && break
    python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8765/_control/health")' 2>/dev/null && break
    sleep 0.2
done

"$binary" check-config --config config/demo.json
time "$binary" once --config config/demo.json
"$binary" status --config config/demo.json || true

echo
echo "Events by severity in demo/events.db:"
sqlite3 -header -column demo/events.db \
    "SELECT severity, count(*) AS events FROM events GROUP BY severity_rank ORDER BY severity_rank DESC;"
echo
echo "Try: sqlite3 demo/events.db \"SELECT time, customer_name, severity, alarm_description FROM events_readable ORDER BY time DESC LIMIT 10\""
