#!/usr/bin/env python3
"""Stub of the mnemonic Argus "aggregated events" search API, for tests.

Python 3.11, standard library only.  Serves a deterministic (by --seed)
synthetic data set of aggregated IP attack events on 127.0.0.1 and offers a
small control API so tests can inject faults, add/update events and inspect
the requests the client sent.

Usage
-----
    python3 Tests/Fixtures/argus_stub.py [--port 0] [--events N] [--seed S]
        [--api-key KEY] [--big-tie N] [--updates K] [--base-time MS]
        [--exit-on-stdin-eof]

    --port            TCP port on 127.0.0.1 (0 = pick a free one)       [0]
    --events          number of distinct events at start-up            [1000]
    --seed            RNG seed; the data set is a function of the seed and
                      of --base-time (and of now - base-time)             [1]
    --api-key         value required in the Argus-API-Key header  [test-key]
    --big-tie         size of the one big group of events sharing a single
                      lastUpdatedTimestamp, placed in the middle of the
                      timeline; capped at events // 2 (so 500 with the
                      default --events 1000; a warning on stderr only when
                      an explicit value is capped)                     [2500]
    --updates         events that got a newer version (later
                      lastUpdatedTimestamp, new severity/count/flags) before
                      start-up; never members of the big tie          [N//20]
    --base-time       epoch ms of the oldest lastUpdatedTimestamp
                                                     [now - 3 days]
    --exit-on-stdin-eof   exit when stdin (a pipe or socket) reaches EOF, so a
                      dying parent does not leave the stub running

After binding, exactly one line ``LISTENING <port>`` is printed to stdout.
SIGTERM / SIGINT exit with status 0.  Nothing is logged per request.
Start-up with --events 100000 takes about 3 s (~1.7 KB per event, ~170 MB).

Data: lastUpdatedTimestamp values start at --base-time, a few ms to a few
seconds apart, with frequent ties of 2-5 events and the big tie group; all
are <= now at start-up.  ``timestamp`` (event time) is <= lastUpdatedTimestamp,
for ~10% of events about 30 days before --base-time.  The store holds only the
latest version of each event (like Argus).

Search API
----------
POST /events/v1/aggregated/search   (header ``Argus-API-Key`` required)
  Body: AggregatedEventSearchCriteria (JSON).  Implemented criteria:
    limit (default 25, 0..10000), offset (default 0, >= 0),
    startTimestamp (REQUIRED) / endTimestamp: epoch ms as number or numeric
        string, or an ISO-8601 string; inclusive bounds on the event's
        ``timestamp`` (event time), or on the fields named by
        timeFieldStrategy (timestamp/startTimestamp/endTimestamp/all; an event
        matches if any selected field is in range),
    lastUpdatedTimestamp: keep events with lastUpdatedTimestamp >= value,
    customer (ids or shortNames), customerID (ids),
    severity (list) / minSeverity / maxSeverity,
    sortBy: [-]lastUpdatedTimestamp, [-]timestamp, [-]startTimestamp,
        [-]endTimestamp; ties always broken by id ascending.  Without sortBy
        the order is ``timestamp`` ascending (so a client that forgets sortBy
        does not page in lastUpdatedTimestamp order by accident).
  Other keys of the criteria schema are accepted and ignored; unknown keys,
  bad values, a missing startTimestamp, limit/offset out of range and
  timeFieldStrategy together with lastUpdatedTimestamp give a 412 envelope
  with FIELD_ERROR messages.  Invalid JSON gives 400, a wrong key 401.
  200 answer: {"responseCode":200,"limit":L,"offset":O,"count":<matching>,
  "size":<returned>,"metaData":{},"messages":[],"data":[...]} where each
  event is sent as the exact bytes pre-serialised for it (serialisation
  varies per event: ensure_ascii, spaced separators, "\\/" in uri, key order).

GET /authentication/v1/session   200 with {"data":{"user":{...}}} for a valid
  key, else the same 401 a search would get.

Control API (no auth, JSON)
---------------------------
POST /_control/faults          {"faults":[{...}, ...]} appended to a FIFO.
                               Every search request consumes one use of the
                               head fault ("count", default 1).  Kinds:
    {"kind":"status","status":503,"count":n,"retryAfter":"2"|HTTP-date,
     "message":"...","field":"...", "body":"raw text","contentType":"..."}
        error envelope of that status (or the raw body, e.g. an HTML 502)
    {"kind":"truncate"}        full Content-Length, half the body, close
    {"kind":"short_body"}      half the body with a matching Content-Length
    {"kind":"malformed","body":"..."}   200 with broken JSON
    {"kind":"not_envelope","body":<json>}   200 with valid non-envelope JSON
    {"kind":"missing_fields","field":"id"|"lastUpdatedTimestamp"}
        200 envelope whose first event lacks that field (default "id")
    {"kind":"hang","seconds":S}     wait S s (or until the client goes away)
    {"kind":"trickle","seconds":S}  send the body slowly over S s
    {"kind":"drop"}                 close the connection without answering
    {"kind":"mutate","n":k}         before answering, give up to k events of
        the tie group at the requested lastUpdatedTimestamp (positions <
        offset+limit, those before offset first) a new version with
        lastUpdatedTimestamp = max + 1; then answer normally
GET  /_control/faults          {"faults":[...]} still queued
POST /_control/faults/clear    empty the queue
POST /_control/events          one of {"add":n} | {"update":n} |
                               {"update":["id",...]} | {"late":n,"behindMs":m}
                               | {"tie":n}; answers {"ids":[...],
                               "lastUpdatedTimestamp":v}.  update/tie use
                               v = max(now_ms, max + 1) for all events; add
                               starts there (small ties, a few ms apart);
                               late uses v = max - m (behind a cursor).
GET  /_control/events          {"events":[<exact served bytes>...]} sorted by
                               (lastUpdatedTimestamp, id)
POST /_control/api-key         {"key":"new"}, {"expired":true|false} and/or
                               {"sourceDenied":true|false} (401 as from a
                               network the key is not bound to)
GET  /_control/requests        {"requests":[{"path","headers" (lower-cased),
                               "body" (parsed JSON or null),"status" (null if
                               no response was sent),"fault" (kind or null),
                               "mutatedIDs" (mutate only)}...]} of search
                               requests in arrival order
POST /_control/requests/clear  empty the request log
GET  /_control/health          {"ok":true}
POST /_control/compare         {"database":"/path/events.db"}: compares the
                               SQLite mirror's events table (id,
                               last_updated_timestamp, json) with what the
                               stub holds, byte for byte; answers {"served",
                               "stored","missing","extra","stale",
                               "differentBytes","examples":[id...],
                               "maxLastUpdated"}
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import json
import math
import os
import random
import re
import select
import signal
import socket
import sqlite3
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from operator import attrgetter
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

SEARCH_PATH = "/events/v1/aggregated/search"
JSON_CT = "application/json; charset=UTF-8"
MAX_LIMIT = 10000
DAY_MS = 86_400_000

SEVERITIES = ("low", "medium", "high", "critical")
SEV_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

FLAGS = (
    "ESTABLISHED BLOCKED SNAPSHOT FINALIZED SOURCE_IS_CUSTOMERNET DESTINATION_IS_CUSTOMERNET "
    "SOURCE_IS_PARTIAL_CUSTOMERNET DESTINATION_IS_PARTIAL_CUSTOMERNET INTRUDER_IS_CUSTOMERNET "
    "VICTIM_IS_CUSTOMERNET INTRUDER_IS_PARTIAL_CUSTOMERNET VICTIM_IS_PARTIAL_CUSTOMERNET "
    "PARTIALLY_BLOCKED FALSE_POSITIVE NOT_A_THREAT TUNING_CANDIDATE NOTIFIED PARTIALLY_NOTIFIED "
    "FOLLOWUP IDENTIFIED_THREAT THREAT_CANDIDATE ACKNOWLEDGED PARTIALLY_ACKNOWLEDGED "
    "SEVERITY_ADJUSTED COMMENTED FILTERED CHECKED INCOMPLETE_DETAILS AGGREGATED_BASE_EVENT "
    "REMOTE_STORAGE CUSTOM_SOURCE_AGGREGATION CUSTOM_DESTINATION_AGGREGATION "
    "CUSTOM_INTRUDER_AGGREGATION CUSTOM_VICTIM_AGGREGATION HAS_DETAILS HAS_PAYLOAD HAS_PCAP "
    "ASSOCIATED_TO_CASE_BY_FILTER SEVERITY_INCREASED_BY_FILTER SEVERITY_REDUCED_BY_FILTER "
    "CREATED_BY_ANALYSIS_FILTER EXTEND_EVENT_TTL INITIAL_TUNING POST_ANALYSIS "
    "PARTIAL_SSL_TERMINATED SSL_TERMINATED AUTO_REPORT MISSING_TIMESTAMP CLOCK_OUT_OF_SYNC "
    "DROP_ANALYSIS ESCALATED_BY_REPUTATION HAS_SAMPLE STORE_EVENT STORE_AGGREGATED "
    "SOURCE_IS_MANAGED_BY_SOC DESTINATION_IS_MANAGED_BY_SOC HANDLED_BY_ANALYST SLA_VIOLATION "
    "PAYLOAD_TRUNCATED HAS_STRING_PAYLOAD REASSESSED NOTIFIED_UNPUBLISHED NOTIFIED_DELETED "
    "EVENT_FROM_OT_ENVIRONMENT EVENT_FROM_RESTRICTED_IT_ENVIRONMENT FAILURE"
).split()

# Top-level properties of AggregatedEventSearchCriteria (from the OpenAPI spec).
CRITERIA_KEYS = frozenset(
    "limit offset includeDeleted customerID skipFutureEvents exclude required "
    "eventIdentifier locationID severity customer alarmID attackCategoryID "
    "sourceGeoCountry destinationGeoCountry geoCountry domain properties "
    "productionCustomers exactMatchProperties includeUnpublished "
    "multivaluePropertySeparator minCount associatedCaseID sourceIPMinBits "
    "destinationIPMinBits subCriteria timeFieldStrategy signature startTimestamp "
    "endTimestamp sortBy excludeFlag includeFlag includeFlags excludeFlags "
    "lastUpdatedTimestamp indexStartTime indexEndTime destinationIP sourceIP ip "
    "destinationPort sourcePort port minSeverity maxSeverity".split()
)

# sortBy / timeFieldStrategy name -> Record attribute
TIME_FIELDS = {"timestamp": "ts", "startTimestamp": "start", "endTimestamp": "end"}
SORT_FIELDS = {"lastUpdatedTimestamp": "lut", **TIME_FIELDS}
STRATEGIES = {
    "timestamp": ("ts",),
    "startTimestamp": ("start",),
    "endTimestamp": ("end",),
    "publicationTimestamp": ("ts",),  # events carry no publication time
    "all": ("ts", "start", "end"),
}

# --------------------------------------------------------------------------
# Static pools for the synthetic data
# --------------------------------------------------------------------------

CUSTOMERS = (
    {"id": 1001, "name": "Ærlig Bank AS", "shortName": "aerligbank"},
    {"id": 1002, "name": "Müller GmbH", "shortName": "mueller"},
    {"id": 1003, "name": "東京セキュリティ", "shortName": "tokyosec"},
    {"id": 1004, "name": "Nordisk Shipping ASA", "shortName": "nordship"},
    {"id": 1005, "name": 'Café "Olé" S.L.', "shortName": "cafeole"},
    {"id": 1006, "name": "Østlandet Kraft", "shortName": "okraft"},
)

LOCATIONS = {
    1001: ({"id": 11, "name": "Oslo hovedkontor", "shortName": "osl-hq", "timeZone": "Europe/Oslo"},
           {"id": 12, "name": "Tromsø filial", "shortName": "tos", "timeZone": "Europe/Oslo"}),
    1002: ({"id": 21, "name": "München Rechenzentrum", "shortName": "muc-dc", "timeZone": "Europe/Berlin"},),
    1003: ({"id": 31, "name": "東京本社", "shortName": "tyo", "timeZone": "Asia/Tokyo"},
           {"id": 32, "name": "Osaka DC", "shortName": "osa", "timeZone": "Asia/Tokyo"}),
    1004: ({"id": 41, "name": "Bergen", "shortName": "bgo", "timeZone": "Europe/Oslo"},),
    1005: ({"id": 51, "name": "Málaga", "shortName": "agp", "timeZone": "Europe/Madrid"},),
    1006: ({"id": 61, "name": "Hamar kraftstasjon", "shortName": "ham-ot", "timeZone": "Europe/Oslo"},),
}

GEOS = tuple(
    {"countryCode": c, "countryName": n, "locationName": loc, "latitude": lat, "longitude": lon}
    for c, n, loc, lat, lon in (
        ("NO", "Norway", "Oslo", 59.9139, 10.7522),
        ("DE", "Germany", "München", 48.1351, 11.582),
        ("JP", "Japan", "Tokyo", 35.6762, 139.6503),
        ("US", "United States", "Ashburn", 39.0438, -77.4874),
        ("CN", "China", "Beijing", 39.9042, 116.4074),
        ("RU", "Russian Federation", "Moscow", 55.7558, 37.6173),
        ("BR", "Brazil", "São Paulo", -23.5505, -46.6333),
        ("TR", "Türkiye", "İstanbul", 41.0082, 28.9784),
        ("CI", "Côte d'Ivoire", "Abidjan", 5.36, -4.0083),
        ("NL", "Netherlands", "Amsterdam", 52.3676, 4.9041),
        ("SE", "Sweden", "Göteborg", 57.7089, 11.9746),
        ("IN", "India", "Mumbai", 19.076, 72.8777),
        ("ZA", "South Africa", "Johannesburg", -26.2041, 28.0473),
        ("KR", "Korea, Republic of", "Seoul", 37.5665, 126.978),
        ("ES", "Spain", "Málaga", 36.7213, -4.4214),
    )
)
HOME_GEO = {1001: GEOS[0], 1002: GEOS[1], 1003: GEOS[2], 1004: GEOS[0], 1005: GEOS[14], 1006: GEOS[0]}

ATTACKS = tuple(
    {"alarmID": aid, "alarmDescription": desc, "attackCategoryID": cid,
     "attackCategoryName": cname, "signature": sig}
    for aid, desc, cid, cname, sig in (
        (7001, "Inbound SSH scan", 10, "Scanning", "ET SCAN Potential SSH Scan"),
        (7002, "MSSQL probe", 10, "Scanning", "ET SCAN Suspicious inbound to MSSQL port 1433"),
        (7003, "SQL injection attempt", 20, "Web application attack",
         'ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT "x"'),
        (7004, "Log4j RCE attempt", 21, "Exploit attempt",
         "ET EXPLOIT Apache log4j RCE Attempt (${jndi:ldap://})"),
        (7005, "Cobalt Strike beacon", 30, "Malware", "ET MALWARE Possible Cobalt Strike Beacon"),
        (7006, "Brute force against OWA", 40, "Brute force", "ET POLICY Outlook Web Access login burst"),
        (7007, "curl user agent outbound", 50, "Policy violation", "ET POLICY curl User-Agent Outbound"),
        (7008, "Root id check response", 21, "Exploit attempt", "GPL ATTACK_RESPONSE id check returned root"),
        (7009, "DNS tunnelling", 30, "Malware", "ET DNS Excessive TXT queries – possible tunnel"),
        (7010, "SYN flood", 60, "Denial of service", "GPL DOS SYN flood detected"),
        (7011, "Path traversal", 20, "Web application attack", "ET WEB_SERVER ../../etc/passwd in URI"),
        (7012, "Backslash traversal", 20, "Web application attack",
         "ET WEB_SERVER ..\\..\\windows\\win.ini in URI"),
        (7013, "Modbus write from IT", 70, "OT anomaly", "OT Modbus/TCP write single coil"),
        (7014, "Mirai scan", 10, "Scanning", "ET SCAN Mirai Variant telnet brute"),
    )
)

DEST_PORTS = (22, 23, 53, 80, 443, 445, 502, 1433, 3306, 3389, 8080, 8443)
FQDNS = ("www.aerligbank.no", "mail.mueller.de", "tokyo-sec.co.jp", "bücher.example",
         "xn--bcher-kva.example", "cdn.example.net", "login.microsoftonline.com",
         "vpn.nordship.no", "blåbær.no", "scada.okraft.local")
URIS = ("/wp-login.php", "/cgi-bin/luci/;stok=/locale?form=country",
        "/index.php?s=/Index/\\think\\app/invokefunction",
        "/api/v1/users?id=1%27%20OR%20%271%27=%271", "/.env",
        "https://mail.mueller.de/owa/auth/logon.aspx?url=https://mail.mueller.de/owa/",
        "/søk?q=blåbær&lang=nb", "/static/js/app.js?v=3.2.1",
        "/${jndi:ldap://198.51.100.7:1389/a}", "/api/graphql", "/東京/ログイン")

COMMENT_TEXTS = (
    'Analyst note: "false positive" confirmed by customer.\nClosing.',
    "Path was C:\\Users\\ådmin\\AppData\\Local\\Temp\\x.exe",
    "Kunde kontaktet – venter på svar fra «IT-drift».",
    "Müller: Prüfung läuft\tStatus: offen",
    "東京チームが確認しました。誤検知ではありません。",
    "Escalated 🔥 to L2; see ticket #4711 / 'urgent'",
    "Line one\r\nLine two\u2028Line three",
    'JSON-looking text: {"a": [1, 2, "x\\"y"]} and a trailing backslash \\',
)
ANALYSTS = (
    {"id": 501, "userName": "kari.nordmann", "name": "Kari Nordmann"},
    {"id": 502, "userName": "jürgen", "name": "Jürgen Weiß"},
    {"id": 503, "userName": "s.tanaka", "name": "田中 聡"},
)
CASE_SUBJECTS = ("Possible compromise of mail gateway", "Brute force mot VPN – følg opp",
                 "Verdächtiger Datenabfluss", "ランサムウェアの兆候", 'Scan from "known bad" range')
CASE_STATUSES = ("PENDING_CUSTOMER", "PENDING_SOC", "WORKING_SOC", "PENDING_CLOSE", "CLOSED")

PROPERTY_VALUES: dict[str, tuple[str, ...]] = {
    "engine.sensor": ("sensor-osl-01", "sensor-muc-02", "sensor-tyo-03"),
    "engine.ruleset": ("ET Pro 10487", "Snort 3.1.74", "Suricata 7.0.2"),
    "http.user_agent": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/8.4.0",
                        "python-requests/2.31.0", "Go-http-client/1.1"),
    "http.method": ("GET", "POST", "PUT"),
    "http.status": ("200", "301", "403", "404", "500"),
    "dns.query": ("a.b.c.example.com", "xn--80ak6aa92e.com", "tunnel.badguy.example"),
    "tls.sni": ("www.aerligbank.no", "update.example.org"),
    "tls.ja3": ("771,4865-4866-4867,0-23-65281,29-23-24,0", "e7d705a3286e19ea42f587b344ee6865"),
    "file.name": ("invoice.pdf.exe", "faktura_mars.docm", "請求書.zip", "rapport «Q3».xlsx"),
    "user.name": ("administrator", "kari.nordmann", "svc_backup", "guest"),
    "søk.nøkkel": ("verdi med æøå", "ÆØÅ"),
    "kundenummer": ("100-200-300", "NO-4711"),
    "分析.結果": ("要確認", "誤検知"),
    "customer.tag": ("prod", "test", "pci"),
    "network.zone": ("dmz", "internal", "ot"),
    "event.source": ("nids", "firewall", "proxy"),
    "mitre.tactic": ("TA0001 Initial Access", "TA0011 Command and Control"),
    "mitre.technique": ("T1190", "T1071.001", "T1110.003"),
    "threat.score": ("12", "57", "99"),
    "vendor.product": ("Palo Alto / PAN-OS", "Fortinet \\ FortiGate"),
    "process.command_line": ('C:\\Windows\\System32\\cmd.exe /c "whoami /all"',
                             "powershell -enc SQBFAFgA", "/bin/sh -c 'id;uname -a'"),
    "smtp.subject": ("Re: Faktura nr. 123", "Urgent: \"password reset\"", "Ihre Bestellung"),
    "x-forwarded-for": ("203.0.113.7, 10.0.0.1", "198.51.100.23"),
    "a.b.c.d": ("dotted.key.value",),
    "empty": ("",),
    "note": ("multi\nline\nvalue", "tab\tseparated"),
}
HASH_KEYS = ("file.sha256", "file.md5", "payload.hash")
PROPERTY_KEYS = tuple(PROPERTY_VALUES) + HASH_KEYS


def _permutations(items: tuple, count: int = 64) -> tuple[tuple, ...]:
    """Fixed random orderings; picking one is much cheaper than random.sample."""
    rng = random.Random(0)
    return tuple(tuple(rng.sample(items, len(items))) for _ in range(count))


FLAG_ORDERS = _permutations(tuple(FLAGS))
PROPERTY_ORDERS = _permutations(PROPERTY_KEYS)

# --------------------------------------------------------------------------
# Serialisation
# --------------------------------------------------------------------------


class Style(NamedTuple):
    """How one event's JSON bytes are produced (fixed per event id)."""

    ascii: bool = False  # ensure_ascii=True (\\u escapes)
    spaced: bool = False  # default separators ", " and ": "
    slash_uri: bool = False  # "\\/" instead of "/" inside the uri string
    shuffled: bool = False  # top-level keys in a varied order


def _make_encoder(ascii_only: bool, spaced: bool) -> Callable[[Any], str]:
    """json.dumps(ensure_ascii=ascii_only, separators=...) as a reusable function.

    Uses the C encoder directly when available (saves its per-call set-up,
    which matters for 100k events); the output is identical."""
    item_sep, key_sep = (", ", ": ") if spaced else (",", ":")
    encoder = json.JSONEncoder(ensure_ascii=ascii_only, separators=(item_sep, key_sep))
    c_make = getattr(json.encoder, "c_make_encoder", None)
    if c_make is None:
        return encoder.encode
    strings = json.encoder.encode_basestring_ascii if ascii_only else json.encoder.encode_basestring
    c_encode = c_make(None, encoder.default, strings, None, key_sep, item_sep, False, False, True)
    return lambda value: "".join(c_encode(value, 0))


_ENCODERS = {(a, s): _make_encoder(a, s) for a in (False, True) for s in (False, True)}


def encode_text(value: dict, style: Style) -> str:
    """JSON text of ``value`` in the event's style."""
    text = _ENCODERS[(style.ascii, style.spaced)](value)
    uri = value.get("uri")
    if style.slash_uri and isinstance(uri, str) and "/" in uri:
        colon = ": " if style.spaced else ":"
        enc = json.dumps(uri, ensure_ascii=style.ascii)
        escaped = enc.replace("/", "\\/")
        text = text.replace(f'"uri"{colon}{enc}', f'"uri"{colon}{escaped}', 1)
    return text


def join_objects(first: bytes, second: bytes, style: Style) -> bytes:
    """Merge two non-empty JSON objects (encoded texts) into one object."""
    return b"".join((first[:-1], b", " if style.spaced else b",", second[1:]))


def compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --------------------------------------------------------------------------
# Event generation
# --------------------------------------------------------------------------


class Profile(NamedTuple):
    """The attack part of an event (who attacks whom, how); events reuse these
    like recurring incidents, which keeps start-up fast for 100k events."""

    customer: dict
    body: dict


class EventFactory:
    """Builds synthetic AggregatedIPAttackEvent versions from a seeded RNG.

    An event is a per-event head (id, customer, timestamps, severity, count,
    flags, cases, detail ids, comments) plus the body of one of a pool of
    profiles (attackInfo, protocol, endpoints, domain, uri, location,
    properties).  The body's JSON text is cached per style."""

    def __init__(self, rng: random.Random, base_ms: int, profiles: int):
        self.rng = rng
        self.base_ms = base_ms
        self.used_ids: set[str] = set()
        self.profiles = [self._profile() for _ in range(max(1, profiles))]
        self._body_cache: dict[tuple[int, bool, bool, bool], bytes] = {}

    # -- public -----------------------------------------------------------

    def new_record(self, lut: int, newer_lut: int | None = None) -> Record:
        """A new event; with newer_lut, already updated once (same id)."""
        rng = self.rng
        index = int(rng.random() * len(self.profiles))
        profile = self.profiles[index]
        head = self._head(profile.customer, lut)
        if newer_lut is not None:
            head = self.new_version(head, newer_lut)  # only touches head fields
        style = self._style(profile.body)
        if style.shuffled:
            items = list(head.items())
            rng.shuffle(items)
            head = dict(items)
        parts = [encode_text(head, style).encode("utf-8"), self._body_json(index, style)]
        if style.shuffled and rng.random() < 0.5:
            parts.reverse()
        return make_record(head, style, join_objects(parts[0], parts[1], style))

    def revise(self, rec: Record, new_lut: int) -> Record:
        """The next version of a stored event, in the event's own style."""
        return make_record(self.new_version(json.loads(rec.raw), new_lut), rec.style)

    def new_version(self, ev: dict, new_lut: int) -> dict:
        """A later version of ``ev``: same id, changed severity/count/flags."""
        rng = self.rng
        ev = dict(ev)
        ev["lastUpdatedTimestamp"] = new_lut
        old = ev.get("severity", "low")
        ev["severity"] = rng.choice([s for s in SEVERITIES if s != old])
        ev["count"] = int(ev.get("count") or 0) + 1 + int(rng.random() * 25)
        ev["endTimestamp"] = max(int(ev.get("endTimestamp") or 0),
                                 new_lut - int(rng.random() * 1000))
        ev["flags"] = self._changed_flags(list(ev.get("flags") or []))
        return ev

    # -- per-event head -----------------------------------------------------

    def _head(self, cust: dict, lut: int) -> dict:
        rng = self.rng
        ts, start, end = self._times(lut)
        flags = FLAG_ORDERS[int(rng.random() * len(FLAG_ORDERS))]
        head = {
            "id": self._new_id(ts, cust["id"]),
            "customerInfo": cust,
            "timestamp": ts,
            "startTimestamp": start,
            "endTimestamp": end,
            "lastUpdatedTimestamp": lut,
            "severity": self._severity(),
            "count": 1 + int(rng.expovariate(1 / 40)),
            "flags": list(flags[:1 + int(rng.random() * 5)]),
        }
        self._add_cases(head)
        head["detailedEventIDS"] = [
            f"NIDS/{ts - int(rng.random() * 1000)}/{cust['id']}/{rng.getrandbits(48):012x}"
            for _ in range(int(rng.random() * 4))]
        if rng.random() < 0.08:
            head["comments"] = [self._comment(ts) for _ in range(1 + int(rng.random() * 2))]
        return head

    def _new_id(self, ts: int, customer_id: int) -> str:
        while True:
            event_id = f"AGGR/{ts}/{customer_id}/{self.rng.getrandbits(64):016x}"
            if event_id not in self.used_ids:
                self.used_ids.add(event_id)
                return event_id

    def _times(self, lut: int) -> tuple[int, int, int]:
        rng = self.rng
        r = rng.random()
        if r < 0.70:
            ts = lut - int(rng.random() * 600_000)
        elif r < 0.90:
            ts = lut - 600_000 - int(rng.random() * 2 * DAY_MS)
        else:  # far in the past: ~30 days before the base time
            ts = self.base_ms - 30 * DAY_MS + int(rng.random() * 5 * DAY_MS)
        ts = max(0, min(ts, lut))
        start = max(0, ts - int(rng.random() * 3_600_000))
        end = ts + min(int(rng.random() * 600_000), lut - ts)
        return ts, start, end

    def _severity(self) -> str:
        r = self.rng.random()
        return "low" if r < 0.4 else "medium" if r < 0.75 else "high" if r < 0.95 else "critical"

    def _add_cases(self, head: dict) -> None:
        rng = self.rng
        if rng.random() >= 0.1:
            head["associatedCase"] = None
            head["associatedCases"] = []
            return
        cases = [self._case() for _ in range(1 if rng.random() < 0.8 else 2)]
        head["associatedCase"] = cases[0]
        head["associatedCases"] = cases

    def _case(self) -> dict:
        rng = self.rng
        return {"id": 2_000_000 + int(rng.random() * 900_000),
                "subject": rng.choice(CASE_SUBJECTS), "categoryID": 3,
                "categoryName": "Security incident",
                "service": rng.choice(("ids", "ids-ot", "mdr")),
                "status": rng.choice(CASE_STATUSES), "priority": rng.choice(SEVERITIES)}

    def _comment(self, ts: int) -> dict:
        rng = self.rng
        user = {**rng.choice(ANALYSTS), "customerID": 1, "type": "user",
                "customer": {"id": 1, "name": "mnemonic", "shortName": "mnemonic",
                             "domain": {"id": 1, "name": "mnemonic"}},
                "domain": {"id": 1, "name": "mnemonic"}}
        return {"comment": rng.choice(COMMENT_TEXTS),
                "timestamp": ts + int(rng.random() * 60_000), "user": user}

    def _changed_flags(self, flags: list[str]) -> list[str]:
        rng = self.rng
        if len(flags) > 2 and rng.random() < 0.5:
            flags.pop(int(rng.random() * len(flags)))
        return flags + [rng.choice([f for f in FLAGS if f not in flags])]

    def _style(self, body: dict) -> Style:
        rng = self.rng
        return Style(ascii=rng.random() < 0.10, spaced=rng.random() < 0.05,
                     slash_uri="uri" in body and rng.random() < 0.04,
                     shuffled=rng.random() < 0.08)

    # -- shared bodies --------------------------------------------------------

    def _body_json(self, index: int, style: Style) -> bytes:
        key = (index, style.ascii, style.spaced, style.slash_uri)
        raw = self._body_cache.get(key)
        if raw is None:
            raw = encode_text(self.profiles[index].body, style).encode("utf-8")
            self._body_cache[key] = raw
        return raw

    def _profile(self) -> Profile:
        rng = self.rng
        cust = CUSTOMERS[int(rng.random() * len(CUSTOMERS))]
        body = {"attackInfo": ATTACKS[int(rng.random() * len(ATTACKS))]}
        proto = rng.random()
        body["protocol"] = "tcp" if proto < 0.75 else "udp" if proto < 0.95 else "icmp"
        icmp = body["protocol"] == "icmp"
        body["source"] = self._endpoint(None, 0 if icmp else 1024 + int(rng.random() * 64000))
        dport = 0 if icmp else DEST_PORTS[int(rng.random() * len(DEST_PORTS))]
        body["destination"] = self._endpoint(HOME_GEO[cust["id"]], dport)
        r = rng.random()
        if r < 0.6:
            body["domain"] = {"fqdn": FQDNS[int(rng.random() * len(FQDNS))]}
        elif r < 0.8:
            body["domain"] = None
        if rng.random() < 0.5:
            body["uri"] = URIS[int(rng.random() * len(URIS))]
        locations = LOCATIONS[cust["id"]]
        body["location"] = locations[int(rng.random() * len(locations))]
        body["properties"] = self._properties()
        return Profile(cust, body)

    def _endpoint(self, home_geo: dict | None, port: int) -> dict:
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            bits = 128 if rng.random() < 0.8 else 64
            addr = "2001:db8:%x:%x::%x" % (rng.getrandbits(16), rng.getrandbits(16),
                                            rng.getrandbits(16))
            net = self._net(addr, True, True, bits)
        elif home_geo is not None and r < 0.6:
            net = self._net("10.%d.%d.%d" % tuple(rng.getrandbits(8) for _ in range(3)),
                            False, False, 32)
        elif r < 0.61:
            net = self._net("224.0.0.251", False, True, 32, multicast=True)
        else:
            octets = (11 + int(rng.random() * 212), rng.getrandbits(8), rng.getrandbits(8))
            bits = 32 if rng.random() < 0.9 else 24
            last = rng.getrandbits(8) if bits == 32 else 0
            net = self._net("%d.%d.%d.%d" % (*octets, last), False, True, bits)
        geo = home_geo if (home_geo and not net["public"]) else GEOS[int(rng.random() * len(GEOS))]
        return {"networkAddress": net, "port": port, "geoLocation": geo}

    @staticmethod
    def _net(addr: str, ipv6: bool, public: bool, bits: int, multicast: bool = False) -> dict:
        host = bits == (128 if ipv6 else 32)
        return {"address": addr, "ipv6": ipv6, "public": public, "maskBits": bits,
                "host": host, "multicast": multicast}

    def _properties(self) -> dict:
        rng = self.rng
        keys = PROPERTY_ORDERS[int(rng.random() * len(PROPERTY_ORDERS))]
        props = {}
        for key in keys[:2 + int(rng.random() * 14)]:
            pool = PROPERTY_VALUES.get(key)
            props[key] = (pool[int(rng.random() * len(pool))] if pool
                          else f"{rng.getrandbits(256):064x}")
        return props


# --------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------


class Record:
    """One event version: the fields the stub filters/sorts on plus its bytes."""

    __slots__ = ("id", "lut", "ts", "start", "end", "sev", "cust_id", "cust_short", "raw", "style")

    def __init__(self, ev: dict, raw: bytes, style: Style):
        self.id = ev["id"]
        self.lut = ev["lastUpdatedTimestamp"]
        self.ts = ev["timestamp"]
        self.start = ev["startTimestamp"]
        self.end = ev["endTimestamp"]
        self.sev = SEV_RANK[ev["severity"]]
        self.cust_id = ev["customerInfo"]["id"]
        self.cust_short = ev["customerInfo"]["shortName"]
        self.raw = raw
        self.style = style


def make_record(ev: dict, style: Style, raw: bytes | None = None) -> Record:
    """Record for ``ev`` (or for its head, when ``raw`` is already encoded)."""
    return Record(ev, encode_text(ev, style).encode("utf-8") if raw is None else raw, style)


_ORDER_KEY = attrgetter("lut", "id")
_LUT_KEY = attrgetter("lut")
_ID_KEY = attrgetter("id")


@dataclass
class Criteria:
    """Validated search criteria."""

    limit: int
    offset: int
    start: int
    end: int | None
    lut: int | None
    time_attrs: tuple[str, ...] = ("ts",)
    customer_ids: frozenset = frozenset()
    customer_names: frozenset = frozenset()
    sev_ranks: frozenset | None = None
    sort: tuple[tuple[str, bool], ...] = (("ts", False),)

    @property
    def natural_order(self) -> bool:
        return self.sort == (("lut", False),)

    @property
    def has_customer_filter(self) -> bool:
        return bool(self.customer_ids or self.customer_names)


class Dataset:
    """Latest version of every event, kept sorted by (lastUpdatedTimestamp, id)."""

    def __init__(self, records: list[Record]):
        self.recs = sorted(records, key=_ORDER_KEY)
        self.by_id = {r.id: r for r in self.recs}
        self._sorted_cache: dict[tuple, list[Record]] = {}
        if len(self.by_id) != len(self.recs):
            raise ValueError("duplicate event ids")
        self.min_ts = min((r.ts for r in self.recs), default=0)
        self.max_ts = max((r.ts for r in self.recs), default=0)

    def __len__(self) -> int:
        return len(self.recs)

    @property
    def max_lut(self) -> int:
        return self.recs[-1].lut if self.recs else 0

    def add(self, rec: Record) -> None:
        if rec.id in self.by_id:
            raise ValueError(f"duplicate id {rec.id}")
        bisect.insort(self.recs, rec, key=_ORDER_KEY)
        self.by_id[rec.id] = rec
        self._sorted_cache.clear()
        self.min_ts = min(self.min_ts, rec.ts)
        self.max_ts = max(self.max_ts, rec.ts)

    def replace(self, rec: Record) -> None:
        old = self.by_id[rec.id]
        idx = bisect.bisect_left(self.recs, (old.lut, old.id), key=_ORDER_KEY)
        assert self.recs[idx] is old
        del self.recs[idx]
        del self.by_id[old.id]
        self.add(rec)

    def query(self, c: Criteria, offset: int, limit: int) -> tuple[int, list[Record]]:
        """Return (total matching, page) for the criteria."""
        if c.natural_order:
            lo = 0 if c.lut is None else bisect.bisect_left(self.recs, c.lut, key=_LUT_KEY)
            if self._filters_are_noop(c):
                first = lo + offset
                return len(self.recs) - lo, self.recs[first:first + limit]
            matches = self._filter(self.recs[lo:], c)
        else:
            matches = self._filter(self._ordered(c.sort), c, with_lut=True)
        return len(matches), matches[offset:offset + limit]

    def _ordered(self, spec: tuple[tuple[str, bool], ...]) -> list[Record]:
        """All records in sortBy order (ties by id), cached until the next change."""
        ordered = self._sorted_cache.get(spec)
        if ordered is None:
            ordered = sorted(self.recs, key=_ID_KEY)
            for attr, desc in reversed(spec):  # stable sorts, least significant first
                ordered.sort(key=attrgetter(attr), reverse=desc)
            self._sorted_cache[spec] = ordered
        return ordered

    def _filters_are_noop(self, c: Criteria) -> bool:
        return (c.time_attrs == ("ts",) and c.start <= self.min_ts
                and (c.end is None or c.end >= self.max_ts)
                and not c.has_customer_filter and c.sev_ranks is None)

    @staticmethod
    def _filter(recs: list[Record], c: Criteria, with_lut: bool = False) -> list[Record]:
        if with_lut and c.lut is not None:
            floor = c.lut
            recs = [r for r in recs if r.lut >= floor]
        start, end = c.start, (c.end if c.end is not None else 1 << 62)
        if c.time_attrs == ("ts",):
            recs = [r for r in recs if start <= r.ts <= end]
        else:
            getters = [attrgetter(a) for a in c.time_attrs]
            recs = [r for r in recs if any(start <= g(r) <= end for g in getters)]
        if c.has_customer_filter:
            ids, names = c.customer_ids, c.customer_names
            recs = [r for r in recs if r.cust_id in ids or r.cust_short in names]
        if c.sev_ranks is not None:
            ranks = c.sev_ranks
            recs = [r for r in recs if r.sev in ranks]
        return recs


# --------------------------------------------------------------------------
# Initial data set
# --------------------------------------------------------------------------


def group_sizes(rng: random.Random, total: int) -> list[int]:
    """Split ``total`` events into lastUpdatedTimestamp groups (small ties)."""
    sizes = []
    while total > 0:
        size = 1 if rng.random() < 0.7 else 2 + int(rng.random() * 4)
        size = min(size, total)
        sizes.append(size)
        total -= size
    return sizes


def group_gap(rng: random.Random) -> int:
    """Milliseconds between consecutive distinct lastUpdatedTimestamps."""
    r = rng.random()
    if r < 0.6:
        return 1 + int(rng.random() * 50)
    if r < 0.9:
        return 50 + int(rng.random() * 1950)
    return 2000 + int(rng.random() * 3000)


def timeline(rng: random.Random, n: int, big_tie: int, base: int, now: int
             ) -> tuple[list[int], int | None]:
    """lastUpdatedTimestamp for each of n events, with the big tie in the middle.

    Returns (luts in ascending order, the big tie's timestamp or None)."""
    before = (n - big_tie) // 2
    head = group_sizes(rng, before)
    big = [big_tie] if big_tie else []
    sizes = head + big + group_sizes(rng, n - big_tie - before)
    gaps = _fit_gaps([0] + [group_gap(rng) for _ in sizes[1:]], now - base)
    luts, t, big_lut = [], base, None
    for i, (size, gap) in enumerate(zip(sizes, gaps)):
        t += gap
        if big and i == len(head):
            big_lut = t
        luts.extend([t] * size)
    return luts, big_lut


def _fit_gaps(gaps: list[int], span: int) -> list[int]:
    """Compress gaps so that base + sum(gaps) <= now."""
    total = sum(gaps)
    if total <= span:
        return gaps
    if len(gaps) - 1 > span:
        raise SystemExit(f"argus_stub: --base-time too close to now for {len(gaps)} timestamps")
    factor = (span - (len(gaps) - 1)) / total
    return [0] + [1 + int(g * factor) for g in gaps[1:]]


MAX_PROFILES = 5000


def build_dataset(args: argparse.Namespace, now: int) -> tuple[Dataset, EventFactory]:
    """The start-up data set: --events events, --updates of them re-versioned."""
    rng = random.Random(args.seed)
    luts, big_lut = timeline(rng, args.events, args.big_tie, args.base_time, now)
    candidates = [i for i, lut in enumerate(luts) if lut != big_lut]
    updated = {i: _later_lut(rng, luts[i], now, big_lut)
               for i in rng.sample(candidates, min(args.updates, len(candidates)))}
    factory = EventFactory(rng, args.base_time, min(args.events, MAX_PROFILES))
    gc.disable()  # a million long-lived objects: avoid repeated full collections
    try:
        dataset = Dataset([factory.new_record(lut, updated.get(i)) for i, lut in enumerate(luts)])
    finally:
        gc.enable()
    gc.freeze()
    return dataset, factory


def _later_lut(rng: random.Random, lut: int, now: int, avoid: int | None) -> int | None:
    """A newer lastUpdatedTimestamp in (lut, now], spread out (no pile-up at now)."""
    room = min(6 * 3_600_000, now - lut)
    if room <= 0:
        return None
    new = lut + 1 + int(rng.random() * room)
    return new if new != avoid else (new - 1 if new - 1 > lut else None)


# --------------------------------------------------------------------------
# Criteria validation
# --------------------------------------------------------------------------


class CriteriaError(Exception):
    def __init__(self, field_name: str | None, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


class CriteriaErrors(Exception):
    def __init__(self, errors: list[CriteriaError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def parse_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise CriteriaError(name, f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise CriteriaError(name, f"{name} must be an integer")


def parse_time(value: Any, name: str) -> int:
    """Epoch ms from a number, numeric string or ISO-8601 string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        try:
            when = dt.datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            pass
        else:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
            return (when - epoch) // dt.timedelta(milliseconds=1)
    raise CriteriaError(name, f"{name} must be epoch milliseconds or an ISO-8601 timestamp")


def parse_str_list(value: Any, name: str, allowed: Any = None) -> list[str]:
    if not isinstance(value, list):
        raise CriteriaError(name, f"{name} must be an array")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise CriteriaError(name, f"{name} contains an invalid value")
        item = str(item)
        if allowed is not None and item not in allowed:
            raise CriteriaError(name, f"{name}: invalid value '{item}'")
        out.append(item)
    return out


def _field(body: dict, name: str, parse: Callable[[Any, str], Any], default: Any,
           errors: list[CriteriaError]) -> Any:
    value = body.get(name)
    if value is None:
        return default
    try:
        return parse(value, name)
    except CriteriaError as err:
        errors.append(err)
        return default


def _parse_customers(body: dict, errors: list[CriteriaError]) -> tuple[frozenset, frozenset]:
    items = _field(body, "customer", parse_str_list, [], errors)
    legacy = _field(body, "customerID", parse_str_list, [], errors)
    ids = {int(x) for x in items + legacy if re.fullmatch(r"-?\d+", x)}
    names = {x for x in items if not re.fullmatch(r"-?\d+", x)}
    if any(not re.fullmatch(r"-?\d+", x) for x in legacy):
        errors.append(CriteriaError("customerID", "customerID must contain integers"))
    return frozenset(ids), frozenset(names)


def _parse_severity(body: dict, errors: list[CriteriaError]) -> frozenset | None:
    listed = _field(body, "severity", lambda v, n: parse_str_list(v, n, SEV_RANK), None, errors)
    enum = lambda v, n: SEV_RANK[parse_str_list([v], n, SEV_RANK)[0]]  # noqa: E731
    lo = _field(body, "minSeverity", enum, None, errors)
    hi = _field(body, "maxSeverity", enum, None, errors)
    if listed is not None and (lo is not None or hi is not None):
        errors.append(CriteriaError("severity", "severity can't be used together with "
                                                "minSeverity/maxSeverity"))
    if listed is not None:
        return frozenset(SEV_RANK[s] for s in listed)
    if lo is None and hi is None:
        return None
    return frozenset(range(lo or 0, (3 if hi is None else hi) + 1))


def _parse_sort(body: dict, errors: list[CriteriaError]) -> tuple[tuple[str, bool], ...]:
    names = _field(body, "sortBy", parse_str_list, [], errors)
    spec = []
    for name in names:
        desc = name.startswith("-")
        attr = SORT_FIELDS.get(name.lstrip("-+"))
        if attr is None:
            errors.append(CriteriaError("sortBy", f"sortBy: unsupported field '{name}'"))
            continue
        spec.append((attr, desc))
    return tuple(spec) or (("ts", False),)


def _parse_strategy(body: dict, errors: list[CriteriaError]) -> tuple[str, ...]:
    names = _field(body, "timeFieldStrategy",
                   lambda v, n: parse_str_list(v, n, STRATEGIES), [], errors)
    if names and body.get("lastUpdatedTimestamp") is not None:
        errors.append(CriteriaError("timeFieldStrategy", "timeFieldStrategy cannot be used "
                                                         "together with lastUpdatedTimestamp"))
    attrs = []
    for name in names:
        attrs += [a for a in STRATEGIES[name] if a not in attrs]
    return tuple(attrs) or ("ts",)


def parse_criteria(body: Any) -> Criteria:
    """Validate a search body; raise CriteriaErrors (as a list) on failure."""
    if not isinstance(body, dict):
        raise CriteriaErrors([CriteriaError(None, "request body must be a JSON object")])
    errors = [CriteriaError(k, f"Unrecognized field '{k}'") for k in body if k not in CRITERIA_KEYS]
    limit = _field(body, "limit", parse_int, 25, errors)
    offset = _field(body, "offset", parse_int, 0, errors)
    if not 0 <= limit <= MAX_LIMIT:
        errors.append(CriteriaError("limit", f"limit must be between 0 and {MAX_LIMIT}"))
    if offset < 0:
        errors.append(CriteriaError("offset", "offset must be 0 or greater"))
    start = _field(body, "startTimestamp", parse_time, None, errors)
    if start is None and "startTimestamp" not in {e.field for e in errors}:
        errors.append(CriteriaError("startTimestamp", "startTimestamp is required"))
    end = _field(body, "endTimestamp", parse_time, None, errors)
    criteria = Criteria(
        limit=limit, offset=offset, start=start or 0, end=end,
        lut=_field(body, "lastUpdatedTimestamp", parse_int, None, errors),
        time_attrs=_parse_strategy(body, errors),
        sev_ranks=_parse_severity(body, errors),
        sort=_parse_sort(body, errors))
    criteria.customer_ids, criteria.customer_names = _parse_customers(body, errors)
    if errors:
        raise CriteriaErrors(errors)
    return criteria


# --------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------


def message(text: str, kind: str = "ACTION_ERROR", field_name: str | None = None,
            parameter: str | None = None) -> dict:
    return {"type": kind, "message": text, "messageTemplate": None,
            "field": field_name, "parameter": parameter}


def error_envelope(status: int, messages: list[dict]) -> bytes:
    return compact_json({"responseCode": status, "limit": 0, "offset": 0, "count": 0,
                         "size": 0, "metaData": {}, "messages": messages, "data": []})


def data_envelope(limit: int, offset: int, count: int, raws: list[bytes]) -> bytes:
    head = (b'{"responseCode":200,"limit":%d,"offset":%d,"count":%d,"size":%d,'
            b'"metaData":{},"messages":[],"data":[' % (limit, offset, count, len(raws)))
    return b"".join((head, b",".join(raws), b"]}"))


DEFAULT_STATUS_MESSAGES = {
    400: "Bad request", 401: "Authentication failed", 403: "Access denied",
    404: "Not found", 412: "Validation failed", 429: "Too many requests",
    500: "Internal server error", 502: "Bad gateway", 503: "Service temporarily unavailable",
    504: "Gateway timeout",
}


# --------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------

FAULT_KINDS = {"status", "truncate", "short_body", "malformed", "not_envelope",
               "missing_fields", "hang", "trickle", "drop", "mutate"}


def normalize_fault(spec: Any) -> dict:
    """Validate one fault spec from POST /_control/faults; returns a copy."""
    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
        raise ValueError(f"unknown fault: {spec!r}; kinds: {sorted(FAULT_KINDS)}")
    fault = dict(spec)
    count = fault.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("count must be a positive integer")
    fault["count"] = count
    kind = fault["kind"]
    if kind == "status":
        status = fault.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError("status fault needs an integer 'status'")
    if kind in ("hang", "trickle"):
        seconds = fault.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"{kind} fault needs 'seconds' >= 0")
    if kind == "mutate":
        n = fault.setdefault("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError("mutate fault needs an integer 'n' >= 0")
    if kind == "missing_fields" and fault.setdefault("field", "id") not in ("id", "lastUpdatedTimestamp"):
        raise ValueError("missing_fields 'field' must be 'id' or 'lastUpdatedTimestamp'")
    return fault


def strip_field(raw: bytes, name: str) -> bytes:
    ev = json.loads(raw)
    ev.pop(name, None)
    return compact_json(ev)


# --------------------------------------------------------------------------
# Shared server state
# --------------------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class StubState:
    """Everything shared between request threads, guarded by one lock."""

    def __init__(self, dataset: Dataset, factory: EventFactory, api_key: str):
        self.lock = threading.Lock()
        self.dataset = dataset
        self.factory = factory
        self.api_key = api_key
        self.key_expired = False
        self.source_denied = False
        self.faults: list[dict] = []
        self.requests: list[dict] = []

    # -- faults (call with lock held) --------------------------------------

    def take_fault(self) -> dict | None:
        if not self.faults:
            return None
        head = self.faults[0]
        head["count"] -= 1
        if head["count"] <= 0:
            self.faults.pop(0)
        return dict(head)

    # -- event changes (call with lock held) -------------------------------

    def _new_records(self, luts: list[int]) -> list[str]:
        ids = []
        for lut in luts:
            rec = self.factory.new_record(lut)
            self.dataset.add(rec)
            ids.append(rec.id)
        return ids

    def update_ids(self, ids: list[str], new_lut: int) -> list[str]:
        for event_id in ids:
            self.dataset.replace(self.factory.revise(self.dataset.by_id[event_id], new_lut))
        return ids

    def next_lut(self) -> int:
        return max(now_ms(), self.dataset.max_lut + 1)

    def add_events(self, n: int) -> tuple[list[str], int]:
        rng, lut, run, luts = self.factory.rng, self.next_lut(), 0, []
        for _ in range(n):
            luts.append(lut)
            run += 1
            if run >= 5 or rng.random() >= 0.3:  # small ties of up to 5
                lut, run = lut + 1 + int(rng.random() * 5), 0
        return self._new_records(luts), luts[0] if luts else lut

    def tie_events(self, n: int) -> tuple[list[str], int]:
        lut = self.next_lut()
        return self._new_records([lut] * n), lut

    def late_events(self, n: int, behind_ms: int) -> tuple[list[str], int]:
        lut = max(0, self.dataset.max_lut - behind_ms)
        return self._new_records([lut] * n), lut

    def update_random(self, n: int) -> tuple[list[str], int]:
        ids = self.factory.rng.sample(sorted(self.dataset.by_id), min(n, len(self.dataset)))
        lut = self.next_lut()
        return self.update_ids(ids, lut), lut

    def mutate_tie(self, c: Criteria, n: int) -> list[str]:
        """The 'mutate' fault: re-version up to n served/serving tie members."""
        if c.lut is None or n <= 0:
            return []
        _, prefix = self.dataset.query(c, 0, c.offset + c.limit)
        tie = [(pos, r) for pos, r in enumerate(prefix) if r.lut == c.lut]
        before = [r.id for pos, r in tie if pos < c.offset]
        rest = [r.id for pos, r in tie if pos >= c.offset]
        chosen = (before + rest)[:n]
        return self.update_ids(chosen, self.dataset.max_lut + 1) if chosen else []


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = JSON_CT


class StubServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # bursts of parallel clients must not hit SYN retries

    def __init__(self, port: int, state: StubState):
        self.state = state
        super().__init__(("127.0.0.1", port), StubHandler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # clients hanging up mid-answer are expected in fault tests
        super().handle_error(request, client_address)


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ArgusStub/1.0"
    server: StubServer

    # -- plumbing ----------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # The head and the body of an answer are two writes; with Nagle's algorithm the body
        # waits for the client's delayed ACK of the head (~40 ms on Linux) on every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        sys.stderr.write("argus_stub: " + (format % args) + "\n")

    @property
    def state(self) -> StubState:
        return self.server.state

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def send_head(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()

    def send_answer(self, answer: Answer) -> None:
        self.send_head(answer)
        self.wfile.write(answer.body)

    def send_json(self, status: int, value: Any) -> None:
        self.send_answer(Answer(status, compact_json(value)))

    def client_gone(self, timeout: float) -> bool:
        """Wait up to timeout; True if the peer closed the connection."""
        sock = self.connection
        readable, _, _ = select.select([sock], [], [], timeout)
        if not readable:
            return False
        try:
            return sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # -- routing -----------------------------------------------------------

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    def route(self, method: str) -> None:
        path = urlsplit(self.path).path
        handler = ROUTES.get((method, path))
        if handler is not None:
            handler(self)
            return
        self.read_body()
        known = any(p == path for _, p in ROUTES)
        status = 405 if known else 404
        self.send_answer(Answer(status, error_envelope(status, [message(
            "Method not allowed" if known else f"No such endpoint: {path}")])))

    # -- search --------------------------------------------------------------

    def search(self) -> None:
        raw = self.read_body()
        body, body_ok = parse_json(raw)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.state.lock:
            fault = self.state.take_fault()
            entry = {"path": self.path, "headers": headers, "body": body if body_ok else None,
                     "status": None, "fault": fault["kind"] if fault else None}
            self.state.requests.append(entry)  # arrival order; status filled in below
        status = self.serve_search(fault, headers, body, body_ok, entry)
        with self.state.lock:
            entry["status"] = status

    def serve_search(self, fault: dict | None, headers: dict, body: Any, body_ok: bool,
                     entry: dict) -> int | None:
        """Answer one search request, applying ``fault``; returns the status sent."""
        kind = fault["kind"] if fault else None
        if kind == "drop":
            self.close_connection = True
            return None
        if kind in ("status", "malformed", "not_envelope"):
            answer = canned_fault_answer(fault)
            self.send_answer(answer)
            return answer.status
        if kind == "hang" and self.wait_or_gone(fault["seconds"]):
            self.close_connection = True
            return None
        if kind == "mutate":
            mutated = self.apply_mutation(body if body_ok else None, fault["n"])
            with self.state.lock:
                entry["mutatedIDs"] = mutated
        tamper = None
        if kind == "missing_fields":
            tamper = lambda raws: tamper_missing(raws, fault["field"], self.state)  # noqa: E731
        answer = self.normal_answer(headers, body, body_ok, tamper)
        self.deliver(answer, kind, fault)
        return answer.status

    def wait_or_gone(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.client_gone(min(left, 0.05)):
                return True
        return False

    def apply_mutation(self, body: Any, n: int) -> list[str]:
        try:
            criteria = parse_criteria(body)
        except CriteriaErrors:
            return []
        with self.state.lock:
            return self.state.mutate_tie(criteria, n)

    def auth_failure(self, headers: dict) -> Answer | None:
        """The 401 Argus gives for this request's key, or None when the key is accepted."""
        with self.state.lock:
            expired, key, denied = self.state.key_expired, self.state.api_key, self.state.source_denied
        if headers.get("argus-api-key") != key:
            return Answer(401, error_envelope(401, [message("Authentication failed")]))
        if expired:
            return Answer(401, error_envelope(401, [message("API key has expired")]))
        if denied:
            return Answer(401, error_envelope(401, [message(
                "API key is not valid from this source network address")]))
        return None

    def session(self) -> None:
        """GET /authentication/v1/session: who the key belongs to (200), or its 401."""
        self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        failure = self.auth_failure(headers)
        if failure is not None:
            self.send_answer(failure)
            return
        user = {"id": 4711, "userName": "event-sync", "name": "Event sync service user",
                "type": "user", "domain": {"id": 1, "name": "MNEMONIC"},
                "customer": {"id": 1, "shortName": "mnemonic", "name": "mnemonic as"}}
        body = {"responseCode": 200, "limit": 0, "offset": 0, "count": 0, "size": 0, "metaData": {},
                "messages": [], "data": {"user": user, "sessionTimeout": 3600000}}
        self.send_answer(Answer(200, json.dumps(body).encode()))

    def normal_answer(self, headers: dict, body: Any, body_ok: bool,
                      tamper: Callable[[list[bytes]], list[bytes]] | None = None) -> Answer:
        state = self.state
        failure = self.auth_failure(headers)
        if failure is not None:
            return failure
        if not body_ok or not isinstance(body, dict):
            reason = body if not body_ok else "expected a JSON object"
            return Answer(400, error_envelope(400, [message(f"Invalid request body: {reason}")]))
        try:
            c = parse_criteria(body)
        except CriteriaErrors as errs:
            return Answer(412, error_envelope(412, [
                message(e.message, "FIELD_ERROR", e.field) for e in errs.errors]))
        with state.lock:
            count, page = state.dataset.query(c, c.offset, c.limit)
        raws = [r.raw for r in page]
        if tamper is not None:
            raws = tamper(raws)
        return Answer(200, data_envelope(c.limit, c.offset, count, raws))

    def deliver(self, answer: Answer, kind: str | None, fault: dict | None) -> None:
        body = answer.body
        if kind == "truncate":
            self.send_head(answer)
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif kind == "short_body":
            self.send_answer(Answer(answer.status, body[: len(body) // 2], answer.headers))
        elif kind == "trickle":
            self.send_head(answer)
            self.trickle(body, float(fault["seconds"]))
        else:
            self.send_answer(answer)

    def trickle(self, body: bytes, seconds: float) -> None:
        chunks = max(1, min(len(body), int(seconds / 0.05)))
        size = -(-len(body) // chunks)
        for i in range(0, len(body), size):
            self.wfile.write(body[i:i + size])
            time.sleep(seconds / chunks)

    # -- control API -------------------------------------------------------

    def control_body(self) -> dict | None:
        body, ok = parse_json(self.read_body())
        if not ok or not isinstance(body, dict):
            self.send_json(400, {"error": "body must be a JSON object"})
            return None
        return body

    def ctl_health(self) -> None:
        self.send_json(200, {"ok": True})

    def ctl_get_events(self) -> None:
        with self.state.lock:
            raws = [r.raw for r in self.state.dataset.recs]
        self.send_answer(Answer(200, b'{"events":[' + b",".join(raws) + b"]}"))

    def ctl_compare(self) -> None:
        body = self.control_body()
        if body is None:
            return
        path = body.get("database")
        if not isinstance(path, str):
            self.send_json(400, {"error": "database must be a path"})
            return
        with self.state.lock:
            served = {r.id: (r.lut, r.raw) for r in self.state.dataset.recs}
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = conn.execute(
                    "SELECT id, last_updated_timestamp, CAST(json AS BLOB) FROM events").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self.send_json(400, {"error": f"cannot read {path}: {exc}"})
            return
        stored = {row[0]: (row[1], bytes(row[2])) for row in rows}
        missing = [i for i in served if i not in stored]
        extra = [i for i in stored if i not in served]
        stale = [i for i, (lut, _) in served.items() if i in stored and stored[i][0] != lut]
        different = [i for i, (lut, raw) in served.items()
                     if i in stored and stored[i][0] == lut and stored[i][1] != raw]
        self.send_json(200, {
            "served": len(served), "stored": len(stored), "missing": len(missing),
            "extra": len(extra), "stale": len(stale), "differentBytes": len(different),
            "examples": (missing + extra + stale + different)[:5],
            "maxLastUpdated": max((lut for lut, _ in served.values()), default=None),
        })

    def ctl_post_events(self) -> None:
        body = self.control_body()
        if body is None:
            return
        try:
            with self.state.lock:
                ids, lut = apply_event_command(self.state, body)
        except (ValueError, KeyError) as err:
            self.send_json(400, {"error": str(err)})
            return
        self.send_json(200, {"ids": ids, "lastUpdatedTimestamp": lut})

    def ctl_post_faults(self) -> None:
        body = self.control_body()
        if body is None:
            return
        try:
            specs = body.get("faults")
            if not isinstance(specs, list):
                raise ValueError("body must be {\"faults\": [...]}")
            faults = [normalize_fault(s) for s in specs]
        except ValueError as err:
            self.send_json(400, {"error": str(err)})
            return
        with self.state.lock:
            self.state.faults.extend(faults)
            queued = len(self.state.faults)
        self.send_json(200, {"queued": queued})

    def ctl_get_faults(self) -> None:
        with self.state.lock:
            faults = [dict(f) for f in self.state.faults]
        self.send_json(200, {"faults": faults})

    def ctl_clear_faults(self) -> None:
        self.read_body()
        with self.state.lock:
            self.state.faults.clear()
        self.send_json(200, {"ok": True})

    def ctl_api_key(self) -> None:
        body = self.control_body()
        if body is None:
            return
        key, expired, denied = body.get("key"), body.get("expired"), body.get("sourceDenied")
        if (key is not None and not isinstance(key, str)) or \
                (expired is not None and not isinstance(expired, bool)) or \
                (denied is not None and not isinstance(denied, bool)):
            self.send_json(400, {"error": "expected {\"key\": str}, {\"expired\": bool}, {\"sourceDenied\": bool}"})
            return
        with self.state.lock:
            if key is not None:
                self.state.api_key = key
            if expired is not None:
                self.state.key_expired = expired
            if denied is not None:
                self.state.source_denied = denied
            result = {"ok": True, "expired": self.state.key_expired, "sourceDenied": self.state.source_denied}
        self.send_json(200, result)

    def ctl_get_requests(self) -> None:
        with self.state.lock:
            requests = [dict(entry) for entry in self.state.requests]
        self.send_json(200, {"requests": requests})

    def ctl_clear_requests(self) -> None:
        self.read_body()
        with self.state.lock:
            self.state.requests.clear()
        self.send_json(200, {"ok": True})


ROUTES: dict[tuple[str, str], Callable[[StubHandler], None]] = {
    ("POST", SEARCH_PATH): StubHandler.search,
    ("GET", "/authentication/v1/session"): StubHandler.session,
    ("GET", "/_control/health"): StubHandler.ctl_health,
    ("GET", "/_control/events"): StubHandler.ctl_get_events,
    ("POST", "/_control/compare"): StubHandler.ctl_compare,
    ("POST", "/_control/events"): StubHandler.ctl_post_events,
    ("GET", "/_control/faults"): StubHandler.ctl_get_faults,
    ("POST", "/_control/faults"): StubHandler.ctl_post_faults,
    ("POST", "/_control/faults/clear"): StubHandler.ctl_clear_faults,
    ("POST", "/_control/api-key"): StubHandler.ctl_api_key,
    ("GET", "/_control/requests"): StubHandler.ctl_get_requests,
    ("POST", "/_control/requests/clear"): StubHandler.ctl_clear_requests,
}


def parse_json(raw: bytes) -> tuple[Any, bool]:
    """(value, True) for valid JSON, (error text, False) otherwise."""
    try:
        return json.loads(raw.decode("utf-8")), True
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return str(err), False


def canned_fault_answer(fault: dict) -> Answer:
    """Answers of the faults that replace the normal answer entirely."""
    kind = fault["kind"]
    if kind == "malformed":
        return Answer(200, str(fault.get("body", '{"responseCode":200,"data":[{"id":')).encode())
    if kind == "not_envelope":
        return Answer(200, compact_json(fault.get("body", ["not", "an", "envelope"])))
    status = fault["status"]
    headers = [("Retry-After", str(fault["retryAfter"]))] if "retryAfter" in fault else []
    if "body" in fault:
        return Answer(status, str(fault["body"]).encode(), headers,
                      str(fault.get("contentType", "text/html; charset=UTF-8")))
    text = fault.get("message") or DEFAULT_STATUS_MESSAGES.get(status, f"HTTP {status}")
    msg = message(text, "FIELD_ERROR", fault.get("field")) if status == 412 else message(text)
    return Answer(status, error_envelope(status, [msg]), headers)


def tamper_missing(raws: list[bytes], name: str, state: StubState) -> list[bytes]:
    """missing_fields fault: the first event of the page loses ``name``."""
    if raws:
        return [strip_field(raws[0], name)] + raws[1:]
    with state.lock:
        sample = state.dataset.recs[-1].raw if len(state.dataset) else b'{"id":"x"}'
    return [strip_field(sample, name)]


def apply_event_command(state: StubState, body: dict) -> tuple[list[str], int]:
    """POST /_control/events (lock held)."""
    def count(name: str) -> int:
        n = body[name]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"'{name}' must be a non-negative integer")
        return n

    if "add" in body:
        return state.add_events(count("add"))
    if "tie" in body:
        return state.tie_events(count("tie"))
    if "late" in body:
        behind = body.get("behindMs", 1000)
        if isinstance(behind, bool) or not isinstance(behind, int) or behind < 0:
            raise ValueError("'behindMs' must be a non-negative integer")
        return state.late_events(count("late"), behind)
    if "update" in body:
        if isinstance(body["update"], list):
            ids = [str(i) for i in body["update"]]
            unknown = [i for i in ids if i not in state.dataset.by_id]
            if unknown:
                raise ValueError(f"unknown ids: {unknown}")
            lut = state.next_lut()
            return state.update_ids(ids, lut), lut
        return state.update_random(count("update"))
    raise ValueError("expected one of add, update, late, tie")


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Argus aggregated-events search stub")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--api-key", default="test-key")
    p.add_argument("--big-tie", type=int, default=None)
    p.add_argument("--updates", type=int, default=None)
    p.add_argument("--base-time", type=int, default=None)
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    args = p.parse_args(argv)
    if args.events < 0 or (args.big_tie or 0) < 0 or (args.updates or 0) < 0:
        p.error("--events, --big-tie and --updates must be >= 0")
    if args.big_tie is None:  # default 2500, quietly capped for small data sets
        args.big_tie = min(2500, args.events // 2)
    elif args.big_tie > args.events // 2:
        sys.stderr.write(f"argus_stub: --big-tie {args.big_tie} capped at "
                         f"{args.events // 2} (events // 2)\n")
        args.big_tie = args.events // 2
    if args.updates is None:
        args.updates = args.events // 20
    return args


def watch_stdin() -> None:
    """Exit the process once stdin (a pipe/socket) reaches EOF."""
    mode = os.fstat(0).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return

    def run() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        os._exit(0)

    threading.Thread(target=run, name="stdin-eof", daemon=True).start()


def install_signal_handlers() -> None:
    def stop(_signum: int, _frame: Any) -> None:
        sys.stdout.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent's thread may have handed down a blocked mask (Swift's Process does not reset it).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})


def main(argv: list[str] | None = None) -> None:
    install_signal_handlers()
    args = parse_args(argv)
    now = now_ms()
    if args.base_time is None:
        args.base_time = now - 3 * DAY_MS
    if args.base_time > now:
        raise SystemExit("argus_stub: --base-time is in the future")
    dataset, factory = build_dataset(args, now)
    server = StubServer(args.port, StubState(dataset, factory, args.api_key))
    if args.exit_on_stdin_eof:
        watch_stdin()
    sys.stdout.write(f"LISTENING {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
