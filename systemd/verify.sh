#!/usr/bin/env bash
# Offline checks for the argus-event-sync systemd units. Needs no running
# systemd, only systemd-analyze (Debian 12: systemd 252).
#
#   bash systemd/verify.sh [BINARY]
#
# 1. systemd-analyze verify on argus-event-sync.service and on an instance of
#    the template (argus-event-sync@example.service). Fails on any message
#    about these units, including warnings such as unknown keys, which
#    "verify" prints but still exits 0 for.
# 2. systemd-analyze security --offline=true on both units. Fails if the
#    overall exposure is above MAX_EXPOSURE (1.5).
# 3. systemd-sysusers --dry-run on argus-event-sync.sysusers.conf. Nothing
#    is written.
#
# ExecStart binary: "verify" fails if the ExecStart binary is missing or not
# executable, and /usr/local/bin/argus-event-sync usually does not exist on a
# CI machine. So the units are checked as copies in a temporary directory.
# In the copies, only the /usr/local/bin/argus-event-sync path in ExecStart=
# is replaced, by the first one of these that exists:
#   - $1, if given (must be an executable file, or the script fails);
#   - .build/release/argus-event-sync, then .build/debug/argus-event-sync
#     (relative to the repository root);
#   - /bin/true, a stand-in so the rest of each unit is still fully checked
#     when nothing has been built.
# The files in systemd/ are never modified.
set -euo pipefail

MAX_EXPOSURE=1.5
INSTANCE=example
INSTALLED_BIN=/usr/local/bin/argus-event-sync

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)

die() { echo "verify.sh: error: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null || die "systemd-analyze not found (apt-get install systemd)"

# --- pick the binary for ExecStart= in the copies ---------------------------
if [[ $# -gt 1 ]]; then
    die "usage: $0 [BINARY]"
elif [[ $# -eq 1 ]]; then
    [[ -f $1 && -x $1 ]] || die "'$1' is not an executable file"
    bin=$(readlink -f -- "$1")
elif [[ -x $repo_root/.build/release/argus-event-sync ]]; then
    bin=$repo_root/.build/release/argus-event-sync
elif [[ -x $repo_root/.build/debug/argus-event-sync ]]; then
    bin=$repo_root/.build/debug/argus-event-sync
else
    bin=/bin/true
fi
# Unit files split ExecStart= at whitespace, and sed is used below: keep the
# path simple.
[[ $bin =~ ^/[A-Za-z0-9._/@+-]+$ ]] || die "unsupported characters in binary path '$bin'"
echo "ExecStart binary used for the checks: $bin"

work=$(mktemp -d /tmp/argus-units.XXXXXX)
trap 'rm -rf -- "$work"' EXIT

failed=0
fail() { echo "FAIL: $*"; failed=1; }

units=(argus-event-sync.service argus-event-sync@.service)
for u in "${units[@]}"; do
    src=$script_dir/$u
    [[ -f $src ]] || die "missing $src"
    n=$(grep -c "^ExecStart=$INSTALLED_BIN " "$src" || true)
    [[ $n -eq 1 ]] || die "$u: expected exactly one 'ExecStart=$INSTALLED_BIN ...' line, found $n"
    sed "s|^ExecStart=$INSTALLED_BIN |ExecStart=$bin |" "$src" > "$work/$u"
done

# The names systemd-analyze gets: the template is checked as an instance.
targets=(argus-event-sync.service "argus-event-sync@$INSTANCE.service")

# --- 1. systemd-analyze verify ----------------------------------------------
for t in "${targets[@]}"; do
    echo
    echo "== systemd-analyze verify $t"
    rc=0
    out=$(cd "$work" && systemd-analyze verify "$work/$t" 2>&1) || rc=$?
    [[ -n $out ]] && printf '%s\n' "$out"
    # Messages about other units (for example network-online.target) show up
    # with their own names and do not count.
    if [[ $rc -ne 0 ]]; then
        fail "systemd-analyze verify $t exited with $rc"
    elif grep -q -e 'argus-event-sync' -e "$work" <<<"$out"; then
        fail "systemd-analyze verify reported problems with $t"
    else
        [[ -n $out ]] && echo "(the messages above are about other units; ignored)"
        echo "OK: $t"
    fi
done

# --- 2. systemd-analyze security --offline=true ------------------------------
declare -A exposure=()
for t in "${targets[@]}"; do
    echo
    echo "== systemd-analyze security --offline=true $t"
    rc=0
    out=$(cd "$work" && SYSTEMD_COLORS=0 systemd-analyze security --no-pager \
              --offline=true "$work/$t" 2>&1) || rc=$?
    # Show only the items that add to the exposure, and the total.
    grep -E '[0-9]\.[0-9][[:space:]]*$|Overall exposure' <<<"$out" || true
    if [[ $rc -ne 0 ]]; then
        fail "systemd-analyze security $t exited with $rc"
        continue
    fi
    value=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' <<<"$out")
    if [[ -z $value ]]; then
        fail "no 'Overall exposure level' line for $t"
        continue
    fi
    exposure[$t]=$value
    if awk -v v="$value" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(v > m) }'; then
        fail "$t: exposure $value is above $MAX_EXPOSURE"
    fi
done

# --- 3. sysusers.d snippet --------------------------------------------------
echo
echo "== systemd-sysusers --dry-run argus-event-sync.sysusers.conf"
mkdir "$work/root"
if ! systemd-sysusers --dry-run --root="$work/root" - \
        < "$script_dir/argus-event-sync.sysusers.conf" 2>&1; then
    fail "systemd-sysusers rejected argus-event-sync.sysusers.conf"
fi

# --- summary ----------------------------------------------------------------
echo
echo "== Summary (max allowed exposure $MAX_EXPOSURE)"
for t in "${targets[@]}"; do
    echo "  $t: exposure ${exposure[$t]:-unknown}"
done
if [[ $failed -ne 0 ]]; then
    echo "verify.sh: FAILED"
    exit 1
fi
echo "verify.sh: all checks passed"
