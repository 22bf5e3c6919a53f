#!/usr/bin/env python3
"""The peer: the same catch-up as `argus-event-sync once`, written the obvious way with the
official `argus-api` SDK (PyPI, 5.1.0) and Python's sqlite3.

* search: ``argus_api.lib.events.v1.aggregated.find_aggregated_events`` with an
  ``ArgusAPISession(auth=<api key>, api_url=<base URL>)`` passed as ``api_session`` (the SDK
  has no environment variable for the base URL or key: both are session arguments; the
  session is a ``requests.Session``, so connections are kept alive);
* paging: the daemon's inclusive-cursor rules: ``lastUpdatedTimestamp >= cursor`` sorted by
  lastUpdatedTimestamp; the next cursor is the highest lastUpdatedTimestamp of a full page; a
  page shorter than its limit ends the pass; a full page holding only the cursor's timestamp
  is a tie group at least a page long, read with limit 10000 in offset windows that overlap
  by 1000 (as SyncSettings.maxLimit / tieWindowOverlap);
* store: the same table, columns and indexes as Sources/EventSync/Schema.swift (version 1),
  WAL with synchronous=NORMAL like the daemon, one transaction per page holding the upsert
  (``INSERT ... ON CONFLICT(id) DO UPDATE ... WHERE excluded.last_updated_timestamp >
  events.last_updated_timestamp`` via executemany) and the checkpoint row; the ``json`` column
  holds ``json.dumps(event)``.

Usage: peer_sdk.py --base-url URL --api-key KEY --db PATH [--page-size 1000]
                   [--start-timestamp 0]
(the key may also come from the environment variable ARGUS_API_KEY)
Prints one line: ``pages=P events=E`` on success.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time

from argus_api.lib.events.v1.aggregated import find_aggregated_events
from argus_api.session import ArgusAPISession

MAX_LIMIT = 10_000
TIE_WINDOW_OVERLAP = 1_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id                     TEXT PRIMARY KEY NOT NULL,
    last_updated_timestamp INTEGER NOT NULL,
    type                   TEXT,
    customer_id            INTEGER,
    customer_short_name    TEXT,
    customer_name          TEXT,
    timestamp              INTEGER,
    start_timestamp        INTEGER,
    end_timestamp          INTEGER,
    severity               TEXT,
    severity_rank          INTEGER,
    count                  INTEGER,
    alarm_id               INTEGER,
    alarm_description      TEXT,
    attack_category_id     INTEGER,
    attack_category_name   TEXT,
    signature              TEXT,
    source_address         TEXT,
    source_port            INTEGER,
    source_country         TEXT,
    destination_address    TEXT,
    destination_port       INTEGER,
    destination_country    TEXT,
    protocol               TEXT,
    domain                 TEXT,
    uri                    TEXT,
    location_name          TEXT,
    associated_case_id     INTEGER,
    synced_at              INTEGER NOT NULL,
    json                   TEXT NOT NULL,
    flags                  TEXT,
    properties             TEXT
);
CREATE INDEX IF NOT EXISTS events_timestamp ON events(timestamp);
CREATE INDEX IF NOT EXISTS events_last_updated ON events(last_updated_timestamp);
CREATE INDEX IF NOT EXISTS events_customer_time ON events(customer_id, timestamp);
CREATE INDEX IF NOT EXISTS events_severity_time ON events(severity_rank, timestamp);
CREATE INDEX IF NOT EXISTS events_alarm_time ON events(alarm_id, timestamp);
CREATE TABLE IF NOT EXISTS sync_state (
    id                        INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint_last_updated   INTEGER,
    start_timestamp           INTEGER NOT NULL,
    search_fingerprint        TEXT NOT NULL,
    updated_at                INTEGER NOT NULL
);
"""

COLUMNS = (
    "id", "last_updated_timestamp", "type", "customer_id", "customer_short_name", "customer_name",
    "timestamp", "start_timestamp", "end_timestamp", "severity", "severity_rank", "count",
    "alarm_id", "alarm_description", "attack_category_id", "attack_category_name", "signature",
    "source_address", "source_port", "source_country",
    "destination_address", "destination_port", "destination_country",
    "protocol", "domain", "uri", "location_name", "associated_case_id",
    "synced_at", "json", "flags", "properties",
)
UPSERT = (
    f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS[1:])} "
    "WHERE excluded.last_updated_timestamp > events.last_updated_timestamp"
)
CHECKPOINT = (
    "INSERT INTO sync_state (id, checkpoint_last_updated, start_timestamp, search_fingerprint, updated_at) "
    "VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET checkpoint_last_updated = excluded.checkpoint_last_updated, "
    "start_timestamp = excluded.start_timestamp, search_fingerprint = excluded.search_fingerprint, "
    "updated_at = excluded.updated_at"
)
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value):
    return value if isinstance(value, str) else None


def _obj(value):
    return value if isinstance(value, dict) else {}


def _json(value):
    return json.dumps(value) if isinstance(value, (list, dict)) else None


def row(ev: dict, synced_at: int) -> tuple:
    """The columns of one event, extracted as the daemon does (wrong types become NULL)."""
    cust, attack = _obj(ev.get("customerInfo")), _obj(ev.get("attackInfo"))
    src, dst = _obj(ev.get("source")), _obj(ev.get("destination"))
    severity = _str(ev.get("severity"))
    eid = ev["id"]
    return (
        eid, ev["lastUpdatedTimestamp"], eid.split("/", 1)[0],
        _int(cust.get("id")), _str(cust.get("shortName")), _str(cust.get("name")),
        _int(ev.get("timestamp")), _int(ev.get("startTimestamp")), _int(ev.get("endTimestamp")),
        severity, SEVERITY_RANK.get(severity.lower()) if severity else None, _int(ev.get("count")),
        _int(attack.get("alarmID")), _str(attack.get("alarmDescription")), _int(attack.get("attackCategoryID")),
        _str(attack.get("attackCategoryName")), _str(attack.get("signature")),
        _str(_obj(src.get("networkAddress")).get("address")), _int(src.get("port")),
        _str(_obj(src.get("geoLocation")).get("countryCode")),
        _str(_obj(dst.get("networkAddress")).get("address")), _int(dst.get("port")),
        _str(_obj(dst.get("geoLocation")).get("countryCode")),
        _str(ev.get("protocol")), _str(_obj(ev.get("domain")).get("fqdn")), _str(ev.get("uri")),
        _str(_obj(ev.get("location")).get("name")), _int(_obj(ev.get("associatedCase")).get("id")),
        synced_at, json.dumps(ev), _json(ev.get("flags")), _json(ev.get("properties")),
    )


class Peer:
    def __init__(self, session: ArgusAPISession, db: sqlite3.Connection, page_size: int, start: int):
        self.session, self.db, self.page_size, self.start = session, db, page_size, start
        self.checkpoint = None
        self.pages = self.events = 0

    def fetch(self, cursor: int, limit: int, offset: int = 0) -> list[dict]:
        answer = find_aggregated_events(
            lastUpdatedTimestamp=cursor, startTimestamp=self.start, sortBy=["lastUpdatedTimestamp"],
            limit=limit, offset=offset, api_session=self.session)
        return answer["data"]

    def commit(self, events: list[dict]) -> None:
        now = int(time.time() * 1000)
        if events:
            top = max(e["lastUpdatedTimestamp"] for e in events)
            self.checkpoint = top if self.checkpoint is None else max(self.checkpoint, top)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(UPSERT, [row(e, now) for e in events])
            db.execute(CHECKPOINT, (self.checkpoint, self.start, "{}", now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.pages += 1
        self.events += len(events)

    def read_tie_group(self, ts: int) -> tuple[int, bool]:
        """Reads every event at lastUpdatedTimestamp ts; returns (max ts of the last window, full)."""
        offset, step, previous = 0, MAX_LIMIT - TIE_WINDOW_OVERLAP, None
        while True:
            window = self.fetch(ts, MAX_LIMIT, offset)
            if previous is not None and not any(e["id"] in previous for e in window):
                raise SystemExit(f"peer: tie group at {ts} shifted while being read")
            full = len(window) >= MAX_LIMIT
            top = max((e["lastUpdatedTimestamp"] for e in window), default=ts)
            self.commit(window)
            if not full or top > ts:
                return top, full
            previous = {e["id"] for e in window}
            offset += step

    def sync(self) -> None:
        cursor, limit = self.start, self.page_size
        page = self.fetch(cursor, limit)
        while True:
            full = len(page) >= limit
            top = max((e["lastUpdatedTimestamp"] for e in page), default=cursor)
            if full and top <= cursor:
                if top != cursor:
                    raise SystemExit(f"peer: asked for lastUpdatedTimestamp >= {cursor}, got older events")
                top, full = self.read_tie_group(cursor)
                if not full:
                    return
                cursor = top
                page = self.fetch(cursor, limit)
                continue
            self.commit(page)
            if not full:
                return
            cursor = top
            page = self.fetch(cursor, limit)


def main() -> None:
    p = argparse.ArgumentParser(description="argus-api SDK peer of argus-event-sync once")
    p.add_argument("--base-url", required=True)
    p.add_argument("--api-key", default=os.environ.get("ARGUS_API_KEY"))
    p.add_argument("--db", required=True)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--start-timestamp", type=int, default=0)
    args = p.parse_args()
    if not args.api_key:
        p.error("--api-key or ARGUS_API_KEY is required")
    session = ArgusAPISession(auth=args.api_key, api_url=args.base_url.rstrip("/"))
    db = sqlite3.connect(args.db, isolation_level=None)
    if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
        raise SystemExit("peer: could not enable WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA busy_timeout = 10000")
    db.executescript(SCHEMA)
    peer = Peer(session, db, args.page_size, args.start_timestamp)
    peer.sync()
    db.close()
    print(f"pages={peer.pages} events={peer.events}")


if __name__ == "__main__":
    sys.exit(main())
