#!/usr/bin/env python3
"""What the SQLite part of a catch-up costs under other settings (stdlib only; optional, not
run by run.sh). Copies the events of a finished database (e.g. Benchmarks/work/daemon.db) into a
fresh one with the same schema, in the same rowid order, with INSERT ... SELECT (all work in
SQLite's C code), one transaction per --chunk rows, WAL + synchronous=NORMAL like the daemon,
and prints the child's own CPU (os.wait4) for each variant.

Usage: python3 Benchmarks/sqlite_whatif.py Benchmarks/work/daemon.db [--chunk 1000]
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import sqlite3, sys
src, dst, chunk, pragmas, indexes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
s = sqlite3.connect(src)
ddl = [r[0] for r in s.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                                "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END")]
top = s.execute("SELECT max(rowid) FROM events").fetchone()[0]
cols = ", ".join(r[1] for r in s.execute("PRAGMA table_info(events)"))  # stored columns only
s.close()
d = sqlite3.connect(dst, isolation_level=None)
for p in filter(None, pragmas.split(";")):
    d.execute("PRAGMA " + p)
d.execute("PRAGMA journal_mode = WAL"); d.execute("PRAGMA synchronous = NORMAL")
for statement in ddl:
    if indexes or not statement.lstrip().upper().startswith("CREATE INDEX"):
        d.execute(statement)
d.execute("ATTACH ? AS src", (src,))
for lo in range(1, top + 1, chunk):
    d.execute("BEGIN IMMEDIATE")
    d.execute(f"INSERT INTO main.events ({cols}) SELECT {cols} FROM src.events WHERE rowid >= ? AND rowid < ?",
              (lo, lo + chunk))
    d.execute("COMMIT")
if not indexes:
    for statement in ddl:
        if statement.lstrip().upper().startswith("CREATE INDEX"):
            d.execute(statement)
d.close()
"""

VARIANTS = (
    ("as the daemon (page cache 2 MiB, 4 KiB pages)", "", 1, 1),
    ("cache_size 64 MiB", "cache_size = -65536", 1, 1),
    ("mmap_size 1 GiB", "mmap_size = 1073741824", 1, 1),
    ("page_size 16 KiB", "page_size = 16384", 1, 1),
    ("10 pages per transaction", "", 10, 1),
    ("no secondary indexes during the load, built at the end", "", 1, 0),
)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("source")
    p.add_argument("--chunk", type=int, default=1000)
    args = p.parse_args()
    work = Path(args.source).resolve().parent
    with open(args.source, "rb") as f:
        while f.read(1 << 24):
            pass
    for name, pragmas, factor, indexes in VARIANTS:
        dst = work / "whatif.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)
        t0 = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", CHILD, args.source, str(dst), str(args.chunk * factor),
                                  pragmas, str(indexes)])
        _, status, ru = os.wait4(child.pid, 0)
        wall = time.monotonic() - t0
        size = sum(Path(str(dst) + s).stat().st_size for s in ("", "-wal") if Path(str(dst) + s).exists())
        print(f"{name:55} {wall:6.2f} s wall  {ru.ru_utime + ru.ru_stime:6.2f} CPU s "
              f"({ru.ru_utime:.2f}+{ru.ru_stime:.2f})  file {size / 2**20:.0f} MiB  exit {os.waitstatus_to_exitcode(status)}",
              flush=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(dst) + suffix).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
