#!/usr/bin/env bash
# Installs the Debian packages argus-event-sync needs to build and test (idempotent; needs root
# or sudo only when something is missing). The Swift 6 toolchain itself is expected on PATH.
set -euo pipefail

packages=(libsqlite3-dev pkg-config sqlite3 python3 systemd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift 6 toolchain is not on PATH; install it from swift.org first" >&2
    exit 1
fi
