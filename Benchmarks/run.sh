#!/usr/bin/env bash
# The argus-event-sync benchmark: one command, from a fresh Debian machine with the Swift
# toolchain on PATH (see Benchmarks/README.md for what it measures and how to read it).
#
#   bash Benchmarks/run.sh                      # full run (about 6 minutes on 2 cores)
#   QUICK=1 bash Benchmarks/run.sh              # smoke run: N=20000, REPEATS=1, 10 s idle
#
# Environment (all optional):
#   N=200000          distinct events served by the stub (plus N/20 updated versions)
#   REPEATS=3         catch-up repeats of each client (medians are reported)
#   PAGE_SIZE=1000    sync.pageSize of the daemon and the peer's page size
#   BIG_TIE=2500      events in the one big lastUpdatedTimestamp tie group (capped at N/4)
#   UPDATES=N/20      events that appear in the stream twice (updated during the catch-up)
#   SEED=1            data-set seed
#   POLL_SECONDS=60   sync.pollIntervalSeconds for the steady-state `run` (the daemon's default)
#   IDLE_SECONDS=60   how long idle CPU is measured
#   INGEST_EVENTS=1000  events added (then updated) during the steady state
#   SKIP_IDLE=1       skip the steady state
#   PROFILE=auto|0    perf profile of one extra daemon run (auto: installs linux-perf when perf
#                     is missing, unless SKIP_SETUP=1, and skips the profile when perf cannot
#                     sample here)
#   BINARY=PATH       use this argus-event-sync instead of building .build/release/argus-event-sync
#   SKIP_BUILD=1      do not run `swift build -c release --static-swift-stdlib` (use the existing binary)
#   SKIP_SETUP=1      do not run scripts/setup.sh / apt-get for missing Debian packages
#   PYTHON=python3    the interpreter for the stub, the driver and the venv
#   WORK=Benchmarks/work  databases, logs and results (results.md, results.json)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench="$root/Benchmarks"
export WORK="${WORK:-$bench/work}"
python="${PYTHON:-python3}"

driver=""
cleanup() {
    # The driver stops its own children (stub, daemon) and they also die with it (PDEATHSIG).
    if [[ -n "$driver" ]] && kill -0 "$driver" 2>/dev/null; then
        kill -TERM "$driver" 2>/dev/null || true
        wait "$driver" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}
apt_install() {
    [[ "${SKIP_SETUP:-0}" == 1 ]] && return 1
    echo "run.sh: installing $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. The release binary.
if [[ -z "${BINARY:-}" ]]; then
    if [[ "${SKIP_SETUP:-0}" != 1 ]]; then
        bash scripts/setup.sh
    fi
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        echo "run.sh: swift build -c release --static-swift-stdlib" >&2
        swift build -c release --static-swift-stdlib
    fi
    export BINARY="$root/.build/release/argus-event-sync"
fi
[[ -x "$BINARY" ]] || { echo "run.sh: no executable at $BINARY" >&2; exit 1; }

# 2. Tools the driver uses when present (curl for the HTTP-only replay, perf for the profile).
command -v curl >/dev/null || apt_install curl || echo "run.sh: no curl: the curl replay is skipped" >&2
if [[ "${PROFILE:-auto}" != 0 ]] && ! command -v perf >/dev/null; then
    apt_install linux-perf || echo "run.sh: no perf: the profile is skipped" >&2
fi

# 3. The peer's virtual environment with the official SDK from PyPI.
if [[ ! -x "$bench/.venv/bin/python" ]]; then
    if ! "$python" -m venv "$bench/.venv" 2>/dev/null; then
        rm -rf "$bench/.venv"
        apt_install python3-venv
        "$python" -m venv "$bench/.venv"
    fi
fi
if ! "$bench/.venv/bin/python" -c 'import argus_api' 2>/dev/null; then
    "$bench/.venv/bin/python" -m pip install -q --disable-pip-version-check "argus-api==5.1.0"
fi
export PEER_PYTHON="$bench/.venv/bin/python"

# 4. The benchmark itself.
mkdir -p "$WORK"
"$python" "$bench/bench.py" &
driver=$!
status=0
wait "$driver" || status=$?
driver=""
exit "$status"
