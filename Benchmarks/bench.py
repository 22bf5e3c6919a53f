#!/usr/bin/env python3
"""Benchmark driver (stdlib only); Benchmarks/run.sh calls it with everything set up.

Steps: start bench_stub.py; REPEATS x (argus-event-sync once, then peer_sdk.py), each on a
fresh database, measured with os.wait4 (that child's own user+sys CPU and peak RSS); HTTP-only
replays of the daemon's exact request sequence (Python http.client and curl); SQLite-only
floors; an optional perf profile of the daemon; the steady state of `argus-event-sync run`.
Settings come from the environment (see run.sh); results go to stdout, WORK/results.json and
WORK/results.md.
"""

from __future__ import annotations

import ctypes
import http.client
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


QUICK = os.environ.get("QUICK", "0") == "1"
N = env_int("N", 20_000 if QUICK else 200_000)
REPEATS = env_int("REPEATS", 1 if QUICK else 3)
PAGE_SIZE = env_int("PAGE_SIZE", 1000)
BIG_TIE = env_int("BIG_TIE", 2500)
UPDATES = env_int("UPDATES", N // 20)
SEED = env_int("SEED", 1)
POLL_SECONDS = env_int("POLL_SECONDS", 60)
IDLE_SECONDS = env_int("IDLE_SECONDS", 10 if QUICK else 60)
INGEST_EVENTS = env_int("INGEST_EVENTS", 1000)
SKIP_IDLE = os.environ.get("SKIP_IDLE", "0") == "1"
PROFILE = os.environ.get("PROFILE", "auto")  # auto | 1 | 0
BINARY = os.environ.get("BINARY") or str(ROOT / ".build/release/argus-event-sync")
PEER_PYTHON = os.environ.get("PEER_PYTHON") or str(HERE / ".venv/bin/python")
WORK = Path(os.environ.get("WORK") or HERE / "work")
API_KEY = "bench-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")

LOGS = WORK / "logs"
children: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no orphan if the driver is killed


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    p = subprocess.Popen(args, preexec_fn=_die_with_parent, **kwargs)
    children.append(p)
    return p


def stop_all() -> None:
    for p in children:
        if p.returncode is None and p.poll() is None:
            try:
                p.terminate()
                p.wait(timeout=5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                p.kill()
            except ChildProcessError:
                pass


def measured(args: list[str], log_name: str, env: dict | None = None) -> dict:
    """Runs args to completion; wall time and that child's own rusage (os.wait4)."""
    out = open(LOGS / log_name, "wb")
    started = time.monotonic()
    p = spawn(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - started
    p.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    if p.returncode != 0:
        tail = (LOGS / log_name).read_text(errors="replace")[-2000:]
        raise SystemExit(f"bench: {args[0]} exited {p.returncode}; log {LOGS / log_name}:\n{tail}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "cpu": usage.ru_utime + usage.ru_stime,
            "maxrss_mib": usage.ru_maxrss / 1024}


def proc_cpu(pid: int) -> float:
    """utime + stime of a live process (all its threads, dead ones included), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_ns(pid: int) -> dict[int, int]:
    """sum_exec_runtime (ns) of each live thread, from /proc/PID/task/*/schedstat."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def ns_delta(before: dict[int, int], after: dict[int, int]) -> tuple[float, int]:
    """CPU seconds of the threads alive at the end since `before` (new ones in full), and how
    many threads of `before` ended in between (their last part is missing)."""
    used = sum(ns - before.get(tid, 0) for tid, ns in after.items())
    return used / 1e9, len(set(before) - set(after))


def proc_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------
# Stub
# ---------------------------------------------------------------------------


class Stub:
    def __init__(self):
        args = [sys.executable, str(HERE / "bench_stub.py"), "--port", "0", "--events", str(N), "--big-tie",
                str(BIG_TIE), "--updates", str(UPDATES), "--seed", str(SEED), "--api-key", API_KEY,
                "--exit-on-stdin-eof"]
        self.process = spawn(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=open(LOGS / "stub.log", "wb"))
        line = self.process.stdout.readline().decode()
        if not line.startswith("LISTENING"):
            raise SystemExit(f"bench: stub did not start: {line!r}; see {LOGS / 'stub.log'}")
        _, port, versions, total = line.split()
        self.port, self.versions, self.bytes = int(port), int(versions), int(total)
        self.base_url = f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.base_url + path, timeout=60) as r:
            return json.loads(r.read())

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(self.base_url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as r:
            return json.loads(r.read())

    def cpu(self) -> float:
        return proc_cpu(self.pid)


# ---------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".status.json"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def db_facts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as db:
        count, total = db.execute("SELECT count(*), coalesce(sum(last_updated_timestamp), 0) FROM events").fetchone()
    forget_pages(path)
    return count, total


def forget_pages(path: Path) -> None:
    """Drops a checked database from the page cache. Measured: when the pages this check read stay
    cached, the next catch-up (of either client) spends 20-50% more system time."""
    os.sync()
    for suffix in ("", "-wal"):
        try:
            fd = os.open(str(path) + suffix, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def schema_of(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        columns = db.execute("SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo('events')").fetchall()
        indexes = {}
        for (name,) in db.execute("SELECT name FROM pragma_index_list('events') ORDER BY name"):
            indexes[name] = [r[0] for r in db.execute(f"SELECT name FROM pragma_index_info('{name}')")]
    return {"columns": columns, "indexes": indexes}


def daemon_config(db: Path, port: int, poll: int = POLL_SECONDS) -> Path:
    path = db.with_suffix(".config.json")
    path.write_text(json.dumps({
        "api": {"baseURL": f"http://127.0.0.1:{port}"},
        "sync": {"pageSize": PAGE_SIZE, "startTimestamp": 0, "pollIntervalSeconds": poll},
        "database": {"path": str(db)},
        "status": {"path": str(db) + ".status.json"},
    }, indent=2))
    return path


def daemon_env() -> dict:
    env = dict(os.environ)
    env["ARGUS_API_KEY"] = API_KEY
    return env


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def run_client(kind: str, stub: Stub, repeat: int, expect: dict, record_log: bool = False) -> dict:
    db = WORK / f"{kind}.db"
    remove_db(db)
    # Start from a quiet disk: otherwise a run pays for writing back the previous run's
    # hundreds of MiB (its fdatasync waits on them and ext4 does part of that work in its context).
    os.sync()
    if kind == "daemon":
        args = [BINARY, "once", "--config", str(daemon_config(db, stub.port))]
        env = daemon_env()
    else:
        args = [PEER_PYTHON, str(HERE / "peer_sdk.py"), "--base-url", stub.base_url, "--db", str(db),
                "--page-size", str(PAGE_SIZE), "--start-timestamp", "0"]
        env = dict(os.environ, ARGUS_API_KEY=API_KEY)
    if record_log:
        stub.post("/_control/log", {"enabled": True})
    before = stub.get("/_control/stats")
    stub_cpu0 = stub.cpu()
    result = measured(args, f"{kind}-{repeat}.log", env)
    result["stub_cpu"] = stub.cpu() - stub_cpu0
    after = stub.get("/_control/stats")
    if record_log:
        stub.post("/_control/log", {"enabled": False})
    result["requests"] = after["searches"] - before["searches"]
    result["mib_received"] = (after["bytesSent"] - before["bytesSent"]) / 2**20
    count, total = db_facts(db)
    result["rows"] = count
    result["rows_ok"] = count == expect["distinct"] and total == expect["sumLastUpdated"]
    if not result["rows_ok"]:
        raise SystemExit(f"bench: {kind} run {repeat}: database holds {count} rows (lut sum {total}); "
                         f"expected {expect['distinct']} (lut sum {expect['sumLastUpdated']})")
    result["db_mib"] = sum(p.stat().st_size for p in WORK.glob(f"{kind}.db*")) / 2**20
    result["events_per_s"] = N / result["wall"]
    result["cpu_per_100k"] = result["cpu"] / N * 100_000
    log(f"{kind:6} run {repeat}: {result['wall']:.2f} s wall, {result['events_per_s']:,.0f} ev/s, "
        f"cpu {result['user']:.2f}u+{result['sys']:.2f}s, {result['cpu_per_100k']:.2f} cpu-s/100k, "
        f"rss {result['maxrss_mib']:.1f} MiB, {result['requests']} requests, stub cpu {result['stub_cpu']:.2f} s, "
        f"rows {count} ok")
    return result


def replay_python(stub: Stub, bodies: list[str]) -> dict:
    """The daemon's request sequence with http.client, bodies read and dropped (no parsing)."""
    conn = http.client.HTTPConnection("127.0.0.1", stub.port)
    headers = {"Argus-API-Key": API_KEY, "Content-Type": "application/json"}
    cpu0, t0, received = stub.cpu(), time.monotonic(), 0
    for body in bodies:
        conn.request("POST", "/events/v1/aggregated/search", body=body.encode(), headers=headers)
        r = conn.getresponse()
        received += len(r.read())
        if r.status != 200:
            raise SystemExit(f"bench: replay got HTTP {r.status}")
    wall = time.monotonic() - t0
    conn.close()
    return {"wall": wall, "stub_cpu": stub.cpu() - cpu0, "mib": received / 2**20, "requests": len(bodies)}


def replay_curl(stub: Stub, bodies: list[str]) -> dict | None:
    """The same sequence with the curl tool (libcurl: the library URLSession uses on Linux),
    one process, one kept-alive connection; its own CPU from wait4."""
    curl = shutil.which("curl")
    if not curl:
        return None
    folder = WORK / "replay"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    lines = []
    for i, body in enumerate(bodies):
        (folder / f"{i:05d}.json").write_text(body)
        lines += [f'url = "{stub.base_url}/events/v1/aggregated/search"', f'header = "Argus-API-Key: {API_KEY}"',
                  'header = "Content-Type: application/json"', f'data-binary = "@{folder / f"{i:05d}.json"}"',
                  'output = "/dev/null"', "next"]
    (folder / "curl.cfg").write_text("\n".join(lines[:-1]) + "\n")
    cpu0 = stub.cpu()
    result = measured([curl, "-sS", "--fail", "-K", str(folder / "curl.cfg")], "replay-curl.log")
    result["stub_cpu"] = stub.cpu() - cpu0
    return result


SQLITE_FLOOR = r"""
import sqlite3, sys
src, dst, cache, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = sqlite3.connect(src)
ddl = [r[0] for r in s.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                                "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END")]
top = s.execute("SELECT max(rowid) FROM events").fetchone()[0]
# Stored columns only (table_info leaves out the generated flags/properties); same page size.
cols = ", ".join(r[1] for r in s.execute("PRAGMA table_info(events)"))
page_size = s.execute("PRAGMA page_size").fetchone()[0]
s.close()
d = sqlite3.connect(dst, isolation_level=None)
d.execute(f"PRAGMA page_size = {page_size}")
d.execute("PRAGMA journal_mode = WAL"); d.execute("PRAGMA synchronous = NORMAL")
if cache > 0: d.execute(f"PRAGMA cache_size = {-cache}")
for statement in ddl:
    if cache < 0 and statement.lstrip().upper().startswith("CREATE INDEX"):
        continue  # cache < 0: without the secondary indexes
    d.execute(statement)
d.execute("ATTACH ? AS src", (src,))
for lo in range(1, top + 1, chunk):
    d.execute("BEGIN IMMEDIATE")
    d.execute(f"INSERT INTO main.events ({cols}) SELECT {cols} FROM src.events WHERE rowid >= ? AND rowid < ?",
              (lo, lo + chunk))
    d.execute("COMMIT")
d.close()
"""


def sqlite_floor(source: Path, cache_kib: int) -> dict:
    dst = WORK / "floor.db"
    remove_db(dst)
    # Warm the source's pages into the OS cache first so that reading it costs little.
    with open(source, "rb") as f:
        while f.read(1 << 24):
            pass
    result = measured([sys.executable, "-c", SQLITE_FLOOR, str(source), str(dst), str(cache_kib), str(PAGE_SIZE)],
                      f"sqlite-floor-{'noindex' if cache_kib < 0 else cache_kib}.log")
    remove_db(dst)
    return result


# ---------------------------------------------------------------------------
# perf profile
# ---------------------------------------------------------------------------

# A sample goes to the innermost frame (leaf first) that matches one of these, in this order.
BUCKETS = (
    ("JSON decode (JSONReader, EnvelopeDecoder)", re.compile(r"JSONReader|EnvelopeDecoder|SearchPage|AggregatedEvent")),
    ("SQLite (libsqlite3, incl. its file I/O in the kernel)", re.compile(r"libsqlite3")),
    ("status file + logging (StatusBoard, StatusFile, JSONEncoder)",
     re.compile(r"StatusBoard|StatusFile|StatusSnapshot|ProgressLog|Logger|SystemdNotifier|JSONEncoder")),
    ("SQLite glue in Swift (EventStore, Statement, Database)", re.compile(r"EventStore|\bStatement\.|\bDatabase\.")),
    ("HTTP (URLSession/libcurl, sockets)",
     re.compile(r"libcurl|libFoundationNetworking|URLSession|HTTPTransport|ArgusClient|libnghttp|libssl|libcrypto|libz\.so")),
    ("sync engine (SyncEngine)", re.compile(r"SyncEngine")),
    ("process start-up (dynamic loader)", re.compile(r"ld-linux")),
    ("Dispatch / Swift concurrency runtime", re.compile(r"libdispatch|libswift_Concurrency")),
)
OTHER = "other (Swift runtime, allocator, start-up, unattributed)"


def perf_usable() -> bool:
    perf = shutil.which("perf")
    if not perf:
        return False
    probe = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-o", str(WORK / "perf.probe"), "true"],
                           capture_output=True)
    (WORK / "perf.probe").unlink(missing_ok=True)
    return probe.returncode == 0


def demangler():
    tool = shutil.which("swift-demangle")
    if tool:
        return [tool, "--simplified"]
    swift = shutil.which("swift")
    return [swift, "demangle", "--simplified"] if swift else None


def profile_daemon(stub: Stub, expect: dict) -> dict | None:
    db = WORK / "profile.db"
    remove_db(db)
    data = WORK / "perf.data"
    for old in (data, WORK / "perf.data.old"):
        old.unlink(missing_ok=True)
    # DWARF unwinding: libc and the system libsqlite3 have no frame pointers, so -g (fp) loses
    # the caller of every pread/pwrite/memmove.
    args = ["perf", "record", "-q", "-F", "499", "--call-graph", "dwarf,16384", "-e", "cpu-clock", "-o", str(data), "--",
            BINARY, "once", "--config", str(daemon_config(db, stub.port))]
    measured(args, "perf-record.log", daemon_env())
    count, _ = db_facts(db)
    remove_db(db)
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "comm,tid,ip,sym,dso"], capture_output=True)
    text = script.stdout.decode(errors="replace")
    tool = demangler()
    if tool:
        text = subprocess.run(tool, input=text.encode(), capture_output=True).stdout.decode(errors="replace")
    samples = [s for s in text.split("\n\n") if s.strip()]
    buckets: dict[str, int] = {}
    kernel: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    binary_name = Path(BINARY).name
    self_syms: dict[str, int] = {}
    threads: dict[str, int] = {}
    for sample in samples:
        lines = sample.strip().splitlines()
        header, frames = lines[0], [ln.strip() for ln in lines[1:]]
        threads[header.split()[0]] = threads.get(header.split()[0], 0) + 1
        if frames:
            leaf = re.sub(r"^[0-9a-f]+\s+", "", frames[0])
            leaf = re.sub(r"\+0x[0-9a-f]+", "", leaf)
            self_syms[leaf] = self_syms.get(leaf, 0) + 1
        name = next((b for frame in frames for b, rx in BUCKETS if rx.search(frame)), OTHER)
        seen = set()
        for frame in frames:
            if binary_name in frame:
                fn = re.sub(r"\s*\(.*$", "", re.sub(r"^[0-9a-f]+\s+", "", frame))
                fn = re.sub(r"\+0x[0-9a-f]+$", "", fn)
                if fn not in seen:
                    seen.add(fn)
                    inclusive[fn] = inclusive.get(fn, 0) + 1
        if frames and "[kernel" in frames[0]:
            kernel[name] = kernel.get(name, 0) + 1
        buckets[name] = buckets.get(name, 0) + 1
    total = max(1, len(samples))
    return {
        "samples": len(samples), "rows": count,
        "buckets": sorted(((k, v / total * 100, kernel.get(k, 0) / total * 100) for k, v in buckets.items()),
                          key=lambda kv: -kv[1]),
        "top_self": sorted(((k, v / total * 100) for k, v in self_syms.items()), key=lambda kv: -kv[1])[:25],
        "inclusive": sorted(((k, v / total * 100) for k, v in inclusive.items()), key=lambda kv: -kv[1])[:40],
        "threads": sorted(((k, v / total * 100) for k, v in threads.items()), key=lambda kv: -kv[1]),
    }


# ---------------------------------------------------------------------------
# Steady state
# ---------------------------------------------------------------------------


def wait_for(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def status_state(db: Path) -> str | None:
    try:
        return json.loads(Path(str(db) + ".status.json").read_text()).get("state")
    except (OSError, ValueError):
        return None


def steady_state(stub: Stub, db: Path) -> dict:
    """`run` against the caught-up database db: idle CPU, then the cost of new/updated events."""
    out = open(LOGS / "daemon-run.log", "wb")
    config = daemon_config(db, stub.port)
    p = spawn([BINARY, "run", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT, env=daemon_env())
    result: dict = {"poll_seconds": POLL_SECONDS}
    try:
        if not wait_for(lambda: status_state(db) == "idle", 120):
            raise SystemExit(f"bench: `run` did not become idle; see {LOGS / 'daemon-run.log'}")
        time.sleep(1)
        searches0 = stub.get("/_control/stats")["searches"]
        cpu0, ns0, t0 = proc_cpu(p.pid), thread_ns(p.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        cpu1, ns1, t1 = proc_cpu(p.pid), thread_ns(p.pid), time.monotonic()
        idle_rate = (cpu1 - cpu0) / (t1 - t0)
        precise, ended = ns_delta(ns0, ns1)
        result.update(idle_seconds=t1 - t0, idle_cpu=cpu1 - cpu0, idle_core_pct=idle_rate * 100,
                      idle_polls=stub.get("/_control/stats")["searches"] - searches0,
                      idle_ticks=round((cpu1 - cpu0) * CLK_TCK),
                      idle_ns_cpu=precise, idle_ns_core_pct=precise / (t1 - t0) * 100, idle_threads_ended=ended,
                      threads=len(ns1))
        log(f"idle: {result['idle_cpu']:.2f} cpu-s in {result['idle_seconds']:.0f} s = "
            f"{result['idle_core_pct']:.3f}% of a core, {result['idle_polls']} searches")
        for kind in ("add", "update"):
            count0, _ = db_facts(db)
            cpu_a, t_a = proc_cpu(p.pid), time.monotonic()
            facts = stub.post("/_control/events", {kind: INGEST_EVENTS})

            def ingested() -> bool:
                return db_facts(db) == (facts["distinct"], facts["sumLastUpdated"])

            if not wait_for(ingested, POLL_SECONDS + 60):
                raise SystemExit(f"bench: `run` did not ingest the {kind}ed events")
            t_seen = time.monotonic()
            wait_for(lambda: status_state(db) == "idle", 30)
            time.sleep(0.5)
            cpu_b, t_b = proc_cpu(p.pid), time.monotonic()
            used = cpu_b - cpu_a - idle_rate * (t_b - t_a)
            count1, _ = db_facts(db)
            result[kind] = {"events": INGEST_EVENTS, "cpu": used, "cpu_raw": cpu_b - cpu_a,
                            "latency": t_seen - t_a, "rows_added": count1 - count0}
            log(f"{kind} {INGEST_EVENTS}: {used:.3f} cpu-s (minus idle; raw {cpu_b - cpu_a:.2f}), "
                f"in the database {t_seen - t_a:.1f} s after the change (poll every {POLL_SECONDS} s)")
        # Idle again: the checkpoint is now the burst's newest timestamp, so every poll re-reads
        # the overlap window (sync.overlapSeconds, default 60 s, before the checkpoint), which
        # now holds the 2 x INGEST_EVENTS just ingested, until newer events move it on.
        time.sleep(1)
        searches0 = stub.get("/_control/stats")["searches"]
        cpu0, ns0, t0 = proc_cpu(p.pid), thread_ns(p.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        cpu1, ns1, t1 = proc_cpu(p.pid), thread_ns(p.pid), time.monotonic()
        precise, _ = ns_delta(ns0, ns1)
        result["idle_after"] = {"seconds": t1 - t0, "cpu": cpu1 - cpu0, "core_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
                                "ns_core_pct": precise / (t1 - t0) * 100,
                                "searches": stub.get("/_control/stats")["searches"] - searches0}
        log(f"idle after the burst: {cpu1 - cpu0:.2f} cpu-s in {t1 - t0:.0f} s = "
            f"{result['idle_after']['core_pct']:.3f}% of a core, {result['idle_after']['searches']} searches")
        result["hwm_mib"] = proc_hwm_mib(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            result["exit_code"] = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            result["exit_code"] = "killed"
        out.close()
    return result


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def med(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def report(res: dict) -> str:
    d, p = res["daemon"], res["peer"]
    out = []
    w = out.append
    w(f"# argus-event-sync benchmark, {res['date']}")
    w("")
    w(f"machine: {res['machine']['nproc']} cores ({res['machine']['cpu']}), {res['machine']['kernel']}; "
      f"load average before: {res['machine']['loadavg']}")
    w(f"data: N={N} events ({res['stub']['versions']} versions served: {UPDATES} updated during the catch-up), "
      f"{res['stub']['bytes'] / res['stub']['versions']:.0f} B/event avg, {res['stub']['bytes'] / 2**20:.0f} MiB; "
      f"big tie group {min(BIG_TIE, N // 4)}; page size {PAGE_SIZE}; {REPEATS} repeat(s), medians shown")
    w("")
    w("| catch-up (fresh database)       | wall s | events/s | CPU s (user+sys) | CPU s / 100k events | peak RSS MiB | stub CPU s |")
    w("|---------------------------------|-------:|---------:|-----------------:|--------------------:|-------------:|-----------:|")
    for name, runs in (("argus-event-sync once (release)", d), ("peer: argus-api SDK + sqlite3", p)):
        w(f"| {name:31} | {med(runs, 'wall'):6.2f} | {med(runs, 'events_per_s'):8,.0f} | "
          f"{med(runs, 'cpu'):6.2f} ({med(runs, 'user'):.2f}+{med(runs, 'sys'):.2f}) | {med(runs, 'cpu_per_100k'):19.2f} | "
          f"{med(runs, 'maxrss_mib'):12.1f} | {med(runs, 'stub_cpu'):10.2f} |")
    w("")
    cpu_ratio = med(d, "cpu_per_100k") / med(p, "cpu_per_100k")
    eps_ratio = med(d, "events_per_s") / med(p, "events_per_s")
    res["ratios"] = {"cpu_per_event": cpu_ratio, "events_per_s": eps_ratio}
    w(f"ratios daemon/peer (of medians): CPU per event {cpu_ratio:.3f} (target <= 0.25: "
      f"{'met' if cpu_ratio <= 0.25 else 'NOT met'}), events/s {eps_ratio:.2f}x (target >= 3: "
      f"{'met' if eps_ratio >= 3 else 'NOT met'})")
    rss = med(d, "maxrss_mib")
    w(f"daemon peak RSS {rss:.1f} MiB (target < 64: {'met' if rss < 64 else 'NOT met'})")
    w("per repeat: " + "; ".join(
        f"#{i + 1} daemon {a['wall']:.2f} s/{a['cpu']:.2f} cpu-s, peer {b['wall']:.2f} s/{b['cpu']:.2f} cpu-s"
        for i, (a, b) in enumerate(zip(d, p))))
    w(f"every run verified: {N} rows, each at its newest lastUpdatedTimestamp; schema daemon == peer: "
      f"{res['schema_equal']}")
    w("")
    h = res.get("http")
    if h:
        py = h["python"]
        w(f"stub check (HTTP alone, the daemon's {py['requests']} requests replayed): http.client "
          f"{py['wall']:.2f} s wall for {py['mib']:.0f} MiB = {N / py['wall']:,.0f} events/s, stub CPU "
          f"{py['stub_cpu']:.2f} s; during the daemon runs the stub used {med(d, 'stub_cpu'):.2f} CPU s of "
          f"{med(d, 'wall'):.2f} s wall ({med(d, 'stub_cpu') / med(d, 'wall') * 100:.0f}% of a core)")
        if h.get("curl"):
            c = h["curl"]
            w(f"curl replay (libcurl, one connection, output to /dev/null): {c['wall']:.2f} s wall, curl CPU "
              f"{c['cpu']:.2f} s ({c['user']:.2f}+{c['sys']:.2f}), peak RSS {c['maxrss_mib']:.1f} MiB")
    f = res.get("sqlite_floor")
    if f:
        w(f"SQLite alone (same rows and schema, INSERT ... SELECT in {PAGE_SIZE}-row transactions, WAL, "
          f"synchronous=NORMAL): default page cache {f['default']['wall']:.2f} s wall, {f['default']['cpu']:.2f} CPU s "
          f"({f['default']['user']:.2f}+{f['default']['sys']:.2f}); with cache_size 64 MiB {f['cache64']['wall']:.2f} s "
          f"wall, {f['cache64']['cpu']:.2f} CPU s ({f['cache64']['user']:.2f}+{f['cache64']['sys']:.2f}); without "
          f"the 5 secondary indexes {f['noindex']['wall']:.2f} s wall, {f['noindex']['cpu']:.2f} CPU s "
          f"({f['noindex']['user']:.2f}+{f['noindex']['sys']:.2f})")
    w("")
    prof = res.get("profile")
    if prof:
        w(f"daemon profile (perf record -e cpu-clock --call-graph dwarf, {prof['samples']} samples of one `once` "
          f"run, all threads; a sample goes to the innermost frame that names a component; 'kernel' = the part "
          f"spent in system calls and page faults on its behalf):")
        for name, pct, kpct in prof["buckets"]:
            w(f"  {pct:5.1f}%  {name}  (kernel {kpct:.1f}%)")
        w("  top self-time symbols:")
        for name, pct in prof["top_self"][:15]:
            w(f"  {pct:5.1f}%  {name[:150]}")
        w("  inclusive time of the daemon's own functions (incl. what they call; async frames excluded):")
        shown = 0
        for name, pct in prof["inclusive"]:
            if re.search(r"^(async_Main|main|argus_event_sync_main|\(\d+\) await resume partial function|"
                         r"\(\d+\) suspend resume partial function)", name) or shown >= 18:
                continue
            w(f"  {pct:5.1f}%  {name[:150]}")
            shown += 1
        w("  by thread: " + ", ".join(f"{n} {v:.0f}%" for n, v in prof["threads"][:6]))
    elif res.get("profile_note"):
        w(f"profile: {res['profile_note']}")
    w("")
    s = res.get("steady")
    if s:
        w(f"steady state (`run`, pollIntervalSeconds {s['poll_seconds']}, caught-up database): idle "
          f"{s['idle_cpu']:.2f} CPU s over {s['idle_seconds']:.0f} s = {s['idle_core_pct']:.3f}% of a core "
          f"(/proc/PID/stat: {s['idle_ticks']} clock ticks of 1/{CLK_TCK} s; per-thread schedstat: "
          f"{s['idle_ns_cpu'] * 1000:.1f} ms = {s['idle_ns_core_pct']:.3f}%, {s['threads']} threads, "
          f"{s['idle_threads_ended']} ended meanwhile; {s['idle_polls']} searches; target < 0.1%: "
          f"{'met' if max(s['idle_core_pct'], s['idle_ns_core_pct']) < 0.1 else 'NOT met'})")
        for kind in ("add", "update"):
            k = s[kind]
            w(f"  {kind} {k['events']} events: {k['cpu']:.3f} CPU s to ingest (idle rate subtracted; raw "
              f"{k['cpu_raw']:.2f}), in the database {k['latency']:.1f} s after the change")
        a = s["idle_after"]
        w(f"  idle after that burst (its {2 * INGEST_EVENTS} events now sit in the 60 s overlap window before the "
          f"checkpoint, re-read by every poll): {a['cpu']:.2f} CPU s over {a['seconds']:.0f} s = {a['core_pct']:.3f}% "
          f"of a core (schedstat {a['ns_core_pct']:.3f}%; {a['searches']} searches)")
        w(f"  `run` peak RSS {s['hwm_mib']:.1f} MiB; exit code after SIGTERM {s['exit_code']}")
    return "\n".join(out)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(exist_ok=True)
    if not os.access(BINARY, os.X_OK):
        raise SystemExit(f"bench: no binary at {BINARY}")
    if not os.access(PEER_PYTHON, os.X_OK):
        raise SystemExit(f"bench: no Python with argus-api at {PEER_PYTHON} (run Benchmarks/run.sh)")
    res: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": {"nproc": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
                    "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3])},
        "settings": {"N": N, "REPEATS": REPEATS, "PAGE_SIZE": PAGE_SIZE, "BIG_TIE": BIG_TIE, "UPDATES": UPDATES,
                     "SEED": SEED, "POLL_SECONDS": POLL_SECONDS, "IDLE_SECONDS": IDLE_SECONDS, "BINARY": BINARY},
    }
    log(f"building the data set: {N} events (~{N * 1.6 / 1000:.0f} MB in the stub)")
    stub = Stub()
    res["stub"] = {"versions": stub.versions, "bytes": stub.bytes}
    expect = stub.get("/_control/stats")
    log(f"stub on {stub.base_url}: {expect['versions']} versions of {expect['distinct']} events")

    res["daemon"], res["peer"] = [], []
    for r in range(1, REPEATS + 1):
        res["daemon"].append(run_client("daemon", stub, r, expect, record_log=(r == 1)))
        if r == 1:
            bodies = stub.get("/_control/log")["bodies"]
            res["schema_equal"] = None
        res["peer"].append(run_client("peer", stub, r, expect))
        if r == 1:
            res["schema_equal"] = schema_of(WORK / "daemon.db") == schema_of(WORK / "peer.db")
        remove_db(WORK / "peer.db")

    log("HTTP alone: replaying the daemon's requests")
    res["http"] = {"python": replay_python(stub, bodies), "curl": replay_curl(stub, bodies)}
    log("SQLite alone: the same rows into the same schema")
    res["sqlite_floor"] = {"default": sqlite_floor(WORK / "daemon.db", 0),
                           "cache64": sqlite_floor(WORK / "daemon.db", 65536),
                           "noindex": sqlite_floor(WORK / "daemon.db", -1)}

    if PROFILE != "0" and perf_usable():
        log("profiling one daemon run with perf")
        res["profile"] = profile_daemon(stub, expect)
    else:
        res["profile_note"] = ("skipped (PROFILE=0)" if PROFILE == "0" else
                               "skipped: `perf record -e cpu-clock` does not work here (install linux-perf)")

    if not SKIP_IDLE:
        log(f"steady state: `run` every {POLL_SECONDS} s, {IDLE_SECONDS} s idle, then +{INGEST_EVENTS} events")
        res["steady"] = steady_state(stub, WORK / "daemon.db")

    text = report(res)
    (WORK / "results.json").write_text(json.dumps(res, indent=2, default=str))
    (WORK / "results.md").write_text(text + "\n")
    print(text)
    print(f"\n(results also in {WORK / 'results.md'} and results.json; logs in {LOGS})")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        stop_all()
