#!/usr/bin/env bash
# Installs the Debian packages argus-event-sync needs to build and test (idempotent; needs root
# or sudo only when something is missing). The Swift 6 toolchain itself is expected on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# libcurl4-openssl-dev: the release binary links Foundation statically (--static-swift-stdlib),
# and FoundationNetworking's static library links libcurl by its development name.
packages=(libsqlite3-dev libcurl4-openssl-dev pkg-config sqlite3 python3 systemd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# promtool validates the metrics file in the tests. It is taken out of Debian's prometheus
# package rather than installed with it, which would also start a Prometheus server.
if ! command -v promtool >/dev/null 2>&1 && [[ ! -x .tools/promtool ]]; then
    echo "setup: fetching promtool from Debian's prometheus package into .tools/" >&2
    scratch=$(mktemp -d)
    download() { (cd "$scratch" && apt-get download prometheus >/dev/null 2>&1); }
    # apt-get download needs the package lists, which a fresh machine may not have yet.
    if { download || { "${sudo_cmd[@]}" apt-get update -qq && download; }; } \
        && dpkg-deb -x "$scratch"/prometheus_*.deb "$scratch/root" \
        && install -D -m 0755 "$scratch/root/usr/bin/promtool" .tools/promtool; then
        :
    else
        echo "setup: could not fetch promtool; the metrics tests fall back to their own format check" >&2
    fi
    rm -rf "$scratch"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift 6 toolchain is not on PATH; install it from swift.org first" >&2
    exit 1
fi
