#!/usr/bin/env python3
"""Benchmark stub of the Argus aggregated-event search API (Python 3.9+, stdlib only).

Built to be cheap per request, so that the client under test, not the stub, is what a
benchmark measures:

* every event version is JSON-encoded once, at start-up, into a ``bytes`` object; a page's
  body is one ``b",".join`` over a slice of the sorted list plus a fixed envelope head/tail;
* a search is a ``bisect`` over a sorted array of ``lastUpdatedTimestamp`` values, then
  ``limit``/``offset`` on the (lastUpdatedTimestamp, id)-sorted list;
* HTTP/1.1 keep-alive, TCP_NODELAY, header + body sent with one ``sendmsg`` call.

Data set (deterministic for --events/--seed/--base-time): ``--events`` distinct events shaped
like the Argus ``AggregatedIPAttackEvent`` model (about 1.5 KB each), with
  - ties on lastUpdatedTimestamp (groups of 2-5, ~30% of timestamps) and one big tie group of
    ``--big-tie`` events (larger than a page) in the middle of the timeline,
  - ``--updates`` events that were updated *while a client pages through*: the stream holds
    their old version at the old lastUpdatedTimestamp and their new version (new severity,
    count, endTimestamp, flags) at a later one, so a sync sees each of them twice and must keep
    the newer one (this is what a client observes when Argus updates an event behind its
    cursor during a long catch-up);
  - unicode (Norwegian, German, Japanese, emoji, U+2028), escapes, backslashes and quotes in
    names, URIs, comments and property values; 5% of events are sent with ``ensure_ascii``
    (\\uXXXX escapes incl. surrogate pairs), 3% with a shuffled key order;
  - varied ``properties`` (2-6 keys, dotted and unicode keys, hashes).
All lastUpdatedTimestamps lie in [--base-time, now], spread over that whole span.

Usage:  bench_stub.py [--port 0] [--events 200000] [--big-tie 2500] [--updates N/20]
                      [--seed 1] [--api-key bench-key] [--base-time MS] [--exit-on-stdin-eof]
Prints ``LISTENING <port> <versions> <bytes>`` once the data set is built.

API
  POST /events/v1/aggregated/search   header Argus-API-Key; body AggregatedEventSearchCriteria.
       Honoured: lastUpdatedTimestamp (>=), limit (0..10000, default 25), offset,
       sortBy (must be ["lastUpdatedTimestamp"]: anything else is a 412, so a client that
       pages in another order fails loudly), startTimestamp (required, accepted, not applied:
       every event is inside any start the benchmark uses).  Other criteria keys are ignored.
  GET  /_control/health               {"ok": true, ...}
  GET  /_control/stats                {"versions", "distinct", "sumLastUpdated", "maxLastUpdated",
                                       "searches", "bytesSent"}
  POST /_control/events {"add": n}    n new events after the newest (small ties)
                        {"update": n} new versions of n random stored events
       answers {"versions", "distinct", "sumLastUpdated", "maxLastUpdated"}
  POST /_control/log {"enabled": bool}  start/stop recording search request bodies
  GET  /_control/log                  {"bodies": [...]}  recorded bodies (raw JSON text)
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import random
import socket
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEARCH_PATH = "/events/v1/aggregated/search"
MAX_LIMIT = 10_000
DAY_MS = 86_400_000

# ---------------------------------------------------------------------------
# Pools (AggregatedIPAttackEvent parts)
# ---------------------------------------------------------------------------

SEVERITIES = ("low", "medium", "high", "critical")

CUSTOMERS = (
    {"id": 1001, "name": "Ærlig Bank AS", "shortName": "aerligbank"},
    {"id": 1002, "name": "Müller Maschinenbau GmbH", "shortName": "mueller"},
    {"id": 1003, "name": "東京セキュリティ株式会社", "shortName": "tokyosec"},
    {"id": 1004, "name": "Nordisk Shipping ASA", "shortName": "nordship"},
    {"id": 1005, "name": 'Café "Olé" S.L.', "shortName": "cafeole"},
    {"id": 1006, "name": "Østlandet Kraft", "shortName": "okraft"},
    {"id": 1007, "name": "Göteborgs Hamn AB", "shortName": "gbghamn"},
    {"id": 1008, "name": "Łódź Logistics Sp. z o.o.", "shortName": "lodzlog"},
)
LOCATIONS = {
    1001: ({"id": 11, "name": "Oslo hovedkontor", "shortName": "osl-hq", "timeZone": "Europe/Oslo"},
           {"id": 12, "name": "Tromsø filial", "shortName": "tos", "timeZone": "Europe/Oslo"}),
    1002: ({"id": 21, "name": "München Rechenzentrum", "shortName": "muc-dc", "timeZone": "Europe/Berlin"},),
    1003: ({"id": 31, "name": "東京本社", "shortName": "tyo", "timeZone": "Asia/Tokyo"},
           {"id": 32, "name": "大阪データセンター", "shortName": "osa", "timeZone": "Asia/Tokyo"}),
    1004: ({"id": 41, "name": "Bergen", "shortName": "bgo", "timeZone": "Europe/Oslo"},),
    1005: ({"id": 51, "name": "Málaga", "shortName": "agp", "timeZone": "Europe/Madrid"},),
    1006: ({"id": 61, "name": "Hamar kraftstasjon", "shortName": "ham-ot", "timeZone": "Europe/Oslo"},),
    1007: ({"id": 71, "name": "Göteborg terminal", "shortName": "got", "timeZone": "Europe/Stockholm"},),
    1008: ({"id": 81, "name": "Łódź magazyn", "shortName": "lcj", "timeZone": "Europe/Warsaw"},),
}
GEOS = tuple(
    {"countryCode": c, "countryName": n, "locationName": loc, "latitude": lat, "longitude": lon}
    for c, n, loc, lat, lon in (
        ("NO", "Norway", "Oslo", 59.9139, 10.7522), ("DE", "Germany", "München", 48.1351, 11.582),
        ("JP", "Japan", "東京", 35.6762, 139.6503), ("US", "United States", "Ashburn", 39.0438, -77.4874),
        ("CN", "China", "北京", 39.9042, 116.4074), ("RU", "Russian Federation", "Москва", 55.7558, 37.6173),
        ("BR", "Brazil", "São Paulo", -23.5505, -46.6333), ("TR", "Türkiye", "İstanbul", 41.0082, 28.9784),
        ("CI", "Côte d'Ivoire", "Abidjan", 5.36, -4.0083), ("NL", "Netherlands", "Amsterdam", 52.3676, 4.9041),
        ("SE", "Sweden", "Göteborg", 57.7089, 11.9746), ("IN", "India", "Mumbai", 19.076, 72.8777),
        ("ZA", "South Africa", "Johannesburg", -26.2041, 28.0473), ("KR", "Korea, Republic of", "서울", 37.5665, 126.978),
        ("ES", "Spain", "Málaga", 36.7213, -4.4214), ("PL", "Poland", "Łódź", 51.7592, 19.456),
    )
)
HOME_GEO = {1001: GEOS[0], 1002: GEOS[1], 1003: GEOS[2], 1004: GEOS[0], 1005: GEOS[14], 1006: GEOS[0],
            1007: GEOS[10], 1008: GEOS[15]}
ATTACKS = tuple(
    {"alarmID": aid, "alarmDescription": desc, "attackCategoryID": cid, "attackCategoryName": cname,
     "signature": sig}
    for aid, desc, cid, cname, sig in (
        (7001, "Inbound SSH scan", 10, "Scanning", "ET SCAN Potential SSH Scan"),
        (7002, "MSSQL probe", 10, "Scanning", "ET SCAN Suspicious inbound to MSSQL port 1433"),
        (7003, "SQL injection attempt", 20, "Web application attack",
         'ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT "x"'),
        (7004, "Log4j RCE attempt", 21, "Exploit attempt", "ET EXPLOIT Apache log4j RCE Attempt (${jndi:ldap://})"),
        (7005, "Cobalt Strike beacon", 30, "Malware", "ET MALWARE Possible Cobalt Strike Beacon"),
        (7006, "Brute force against OWA", 40, "Brute force", "ET POLICY Outlook Web Access login burst"),
        (7007, "curl user agent outbound", 50, "Policy violation", "ET POLICY curl User-Agent Outbound"),
        (7008, "Root id check response", 21, "Exploit attempt", "GPL ATTACK_RESPONSE id check returned root"),
        (7009, "DNS tunnelling", 30, "Malware", "ET DNS Excessive TXT queries – possible tunnel"),
        (7010, "SYN flood", 60, "Denial of service", "GPL DOS SYN flood detected"),
        (7011, "Path traversal", 20, "Web application attack", "ET WEB_SERVER ../../etc/passwd in URI"),
        (7012, "Backslash traversal", 20, "Web application attack", "ET WEB_SERVER ..\\..\\windows\\win.ini in URI"),
        (7013, "Modbus write from IT", 70, "OT anomaly", "OT Modbus/TCP write single coil"),
        (7014, "Mirai scan", 10, "Scanning", "ET SCAN Mirai Variant telnet brute"),
        (7015, "Kerberoasting", 80, "Credential access", "ET POLICY Kerberos TGS-REQ RC4 – mulig «kerberoasting»"),
    )
)
FLAGS = (
    "ESTABLISHED BLOCKED SNAPSHOT FINALIZED SOURCE_IS_CUSTOMERNET DESTINATION_IS_CUSTOMERNET "
    "PARTIALLY_BLOCKED FALSE_POSITIVE NOT_A_THREAT TUNING_CANDIDATE NOTIFIED PARTIALLY_NOTIFIED "
    "FOLLOWUP IDENTIFIED_THREAT THREAT_CANDIDATE ACKNOWLEDGED SEVERITY_ADJUSTED COMMENTED FILTERED "
    "CHECKED AGGREGATED_BASE_EVENT HAS_DETAILS HAS_PAYLOAD HAS_PCAP ASSOCIATED_TO_CASE_BY_FILTER "
    "SEVERITY_INCREASED_BY_FILTER CREATED_BY_ANALYSIS_FILTER INITIAL_TUNING POST_ANALYSIS AUTO_REPORT "
    "ESCALATED_BY_REPUTATION SOURCE_IS_MANAGED_BY_SOC HANDLED_BY_ANALYST PAYLOAD_TRUNCATED REASSESSED"
).split()
DEST_PORTS = (22, 23, 53, 80, 443, 445, 502, 1433, 3306, 3389, 8080, 8443)
FQDNS = ("www.aerligbank.no", "mail.mueller.de", "tokyo-sec.co.jp", "bücher.example", "xn--bcher-kva.example",
         "cdn.example.net", "login.microsoftonline.com", "vpn.nordship.no", "blåbær.no", "scada.okraft.local")
URIS = ("/wp-login.php", "/cgi-bin/luci/;stok=/locale?form=country",
        "/index.php?s=/Index/\\think\\app/invokefunction", "/api/v1/users?id=1%27%20OR%20%271%27=%271", "/.env",
        "https://mail.mueller.de/owa/auth/logon.aspx?url=https://mail.mueller.de/owa/", "/søk?q=blåbær&lang=nb",
        "/static/js/app.js?v=3.2.1", "/${jndi:ldap://198.51.100.7:1389/a}", "/api/graphql", "/東京/ログイン")
COMMENTS = (
    'Analyst note: "false positive" confirmed by customer.\nClosing.',
    "Path was C:\\Users\\ådmin\\AppData\\Local\\Temp\\x.exe",
    "Kunde kontaktet – venter på svar fra «IT-drift».",
    "Müller: Prüfung läuft\tStatus: offen",
    "東京チームが確認しました。誤検知ではありません。",
    "Escalated 🔥 to L2; see ticket #4711 / 'urgent' 🚨",
    "Line one\r\nLine two\u2028Line three",
)
ANALYSTS = (
    {"id": 501, "userName": "kari.nordmann", "name": "Kari Nordmann"},
    {"id": 502, "userName": "jürgen", "name": "Jürgen Weiß"},
    {"id": 503, "userName": "s.tanaka", "name": "田中 聡"},
)
CASE_SUBJECTS = ("Possible compromise of mail gateway", "Brute force mot VPN – følg opp",
                 "Verdächtiger Datenabfluss", "ランサムウェアの兆候", 'Scan from "known bad" range')
CASE_STATUSES = ("PENDING_CUSTOMER", "PENDING_SOC", "WORKING_SOC", "PENDING_CLOSE", "CLOSED")
PROPERTY_VALUES = {
    "engine.sensor": ("sensor-osl-01", "sensor-muc-02", "sensor-tyo-03"),
    "engine.ruleset": ("ET Pro 10487", "Snort 3.1.74", "Suricata 7.0.2"),
    "http.user_agent": ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "curl/8.4.0", "python-requests/2.31.0"),
    "http.method": ("GET", "POST", "PUT"),
    "http.status": ("200", "301", "403", "404", "500"),
    "dns.query": ("a.b.c.example.com", "xn--80ak6aa92e.com", "tunnel.badguy.example"),
    "tls.sni": ("www.aerligbank.no", "update.example.org"),
    "tls.ja3": ("771,4865-4866-4867,0-23-65281,29-23-24,0", "e7d705a3286e19ea42f587b344ee6865"),
    "file.name": ("invoice.pdf.exe", "faktura_mars.docm", "請求書.zip", "rapport «Q3».xlsx"),
    "user.name": ("administrator", "kari.nordmann", "svc_backup", "guest"),
    "søk.nøkkel": ("verdi med æøå", "ÆØÅ"),
    "分析.結果": ("要確認", "誤検知"),
    "mitre.tactic": ("TA0001 Initial Access", "TA0011 Command and Control"),
    "mitre.technique": ("T1190", "T1071.001", "T1110.003"),
    "threat.score": ("12", "57", "99"),
    "vendor.product": ("Palo Alto / PAN-OS", "Fortinet \\ FortiGate"),
    "process.command_line": ('C:\\Windows\\System32\\cmd.exe /c "whoami /all"', "/bin/sh -c 'id;uname -a'"),
    "smtp.subject": ("Re: Faktura nr. 123", 'Urgent: "password reset" 🔑', "Ihre Bestellung"),
    "x-forwarded-for": ("203.0.113.7, 10.0.0.1", "198.51.100.23"),
    "note": ("multi\nline\nvalue", "tab\tseparated"),
}
HASH_KEYS = ("file.sha256", "payload.hash")
PROPERTY_KEYS = tuple(PROPERTY_VALUES) + HASH_KEYS


class Generator:
    """Builds event dicts from a seeded RNG; endpoint and property objects come from pools
    (shared dict objects: cheap to build, and the JSON encoder does not care)."""

    def __init__(self, seed: int, base_ms: int):
        self.rng = random.Random(seed)
        self.base_ms = base_ms
        self.used: set[str] = set()
        r = self.rng
        self.sources = [self._endpoint(None, 1024 + int(r.random() * 64000)) for _ in range(3000)]
        self.destinations = {c["id"]: [self._endpoint(HOME_GEO[c["id"]], DEST_PORTS[int(r.random() * len(DEST_PORTS))])
                                       for _ in range(300)] for c in CUSTOMERS}
        self.properties = [self._properties() for _ in range(4000)]

    def _net(self, addr, ipv6, public, bits, multicast=False):
        return {"address": addr, "ipv6": ipv6, "public": public, "maskBits": bits,
                "host": bits == (128 if ipv6 else 32), "multicast": multicast}

    def _endpoint(self, home, port):
        r = self.rng
        x = r.random()
        if x < 0.12:
            net = self._net("2001:db8:%x:%x::%x" % (r.getrandbits(16), r.getrandbits(16), r.getrandbits(16)),
                            True, True, 128 if r.random() < 0.8 else 64)
        elif home is not None and x < 0.6:
            net = self._net("10.%d.%d.%d" % (r.getrandbits(8), r.getrandbits(8), r.getrandbits(8)), False, False, 32)
        else:
            bits = 32 if r.random() < 0.9 else 24
            net = self._net("%d.%d.%d.%d" % (11 + int(r.random() * 212), r.getrandbits(8), r.getrandbits(8),
                                             r.getrandbits(8) if bits == 32 else 0), False, True, bits)
        geo = home if (home and not net["public"]) else GEOS[int(r.random() * len(GEOS))]
        return {"port": port, "networkAddress": net, "geoLocation": geo}

    def _properties(self):
        r = self.rng
        keys = r.sample(PROPERTY_KEYS, 2 + int(r.random() * 5))
        return {k: (r.choice(PROPERTY_VALUES[k]) if k in PROPERTY_VALUES else "%064x" % r.getrandbits(256))
                for k in keys}

    def event(self, lut: int) -> dict:
        r = self.rng
        rnd = r.random
        cust = CUSTOMERS[int(rnd() * len(CUSTOMERS))]
        x = rnd()
        if x < 0.7:
            ts = lut - int(rnd() * 600_000)
        elif x < 0.9:
            ts = lut - 600_000 - int(rnd() * 2 * DAY_MS)
        else:
            ts = self.base_ms - 30 * DAY_MS + int(rnd() * 5 * DAY_MS)
        ts = max(0, min(ts, lut))
        while True:
            eid = "AGGR/%d/%d/%016x" % (ts, cust["id"], r.getrandbits(64))
            if eid not in self.used:
                self.used.add(eid)
                break
        locs = LOCATIONS[cust["id"]]
        attack = ATTACKS[int(rnd() * len(ATTACKS))]
        src = self.sources[int(rnd() * len(self.sources))]
        dests = self.destinations[cust["id"]]
        dst = dests[int(rnd() * len(dests))]
        proto = "tcp" if x < 0.75 else "udp" if x < 0.97 else "icmp"
        sev = rnd()
        flags = r.sample(FLAGS, 1 + int(rnd() * 5))
        ev = {
            "id": eid,
            "customerInfo": cust,
            "location": locs[int(rnd() * len(locs))],
            "attackInfo": attack,
            "timestamp": ts,
            "startTimestamp": max(0, ts - int(rnd() * 3_600_000)),
            "endTimestamp": ts + min(int(rnd() * 600_000), lut - ts),
            "lastUpdatedTimestamp": lut,
            "severity": "low" if sev < 0.4 else "medium" if sev < 0.75 else "high" if sev < 0.95 else "critical",
            "count": 1 + int(r.expovariate(1 / 40)),
            "flags": flags,
            "detailedEventIDS": ["NIDS/%d/%d/%012x" % (ts - int(rnd() * 1000), cust["id"], r.getrandbits(48))
                                 for _ in range(int(rnd() * 3))],
            "protocol": proto,
            "source": src,
            "destination": dst,
        }
        y = rnd()
        if y < 0.6:
            ev["domain"] = {"fqdn": FQDNS[int(rnd() * len(FQDNS))]}
        elif y < 0.8:
            ev["domain"] = None
        if rnd() < 0.5:
            ev["uri"] = URIS[int(rnd() * len(URIS))]
        ev["properties"] = self.properties[int(rnd() * len(self.properties))]
        if rnd() < 0.1:
            cases = [self._case() for _ in range(1 if rnd() < 0.8 else 2)]
            ev["associatedCase"], ev["associatedCases"] = cases[0], cases
        else:
            ev["associatedCase"], ev["associatedCases"] = None, []
        if rnd() < 0.08:
            ev["comments"] = [self._comment(ts) for _ in range(1 + int(rnd() * 2))]
        return ev

    def _case(self):
        r = self.rng
        return {"id": 2_000_000 + int(r.random() * 900_000), "subject": r.choice(CASE_SUBJECTS), "categoryID": 3,
                "categoryName": "Security incident", "service": r.choice(("ids", "ids-ot", "mdr")),
                "status": r.choice(CASE_STATUSES), "priority": r.choice(SEVERITIES)}

    def _comment(self, ts):
        r = self.rng
        user = dict(r.choice(ANALYSTS), customerID=1, type="user",
                    customer={"id": 1, "name": "mnemonic", "shortName": "mnemonic",
                              "domain": {"id": 1, "name": "mnemonic"}},
                    domain={"id": 1, "name": "mnemonic"})
        return {"comment": r.choice(COMMENTS), "timestamp": ts + int(r.random() * 60_000), "user": user}

    def newer_version(self, ev: dict, lut: int) -> dict:
        r = self.rng
        ev = dict(ev)
        ev["lastUpdatedTimestamp"] = lut
        ev["severity"] = r.choice([s for s in SEVERITIES if s != ev["severity"]])
        ev["count"] = ev["count"] + 1 + int(r.random() * 25)
        ev["endTimestamp"] = max(ev["endTimestamp"], lut - int(r.random() * 1000))
        ev["flags"] = ev["flags"] + [r.choice([f for f in FLAGS if f not in ev["flags"]])]
        return ev

    def encode(self, ev: dict) -> bytes:
        r = self.rng.random()
        if r < 0.03:  # a varied key order
            items = list(ev.items())
            self.rng.shuffle(items)
            ev = dict(items)
        ascii_only = r > 0.95
        return json.dumps(ev, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8" if not ascii_only else "ascii")


# ---------------------------------------------------------------------------
# The log of event versions, sorted by (lastUpdatedTimestamp, id)
# ---------------------------------------------------------------------------


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.luts: list[int] = []      # sorted
        self.ids: list[str] = []
        self.raws: list[bytes] = []    # pre-encoded event JSON
        self.latest: dict[str, int] = {}   # id -> newest lastUpdatedTimestamp
        self.searches = 0
        self.bytes_sent = 0
        self.log_enabled = False
        self.log: list[str] = []

    def extend_sorted(self, rows: list[tuple[int, str, bytes]]) -> None:
        """Adds versions whose lastUpdatedTimestamp is >= every stored one."""
        rows.sort(key=lambda t: (t[0], t[1]))
        assert not self.luts or rows[0][0] >= self.luts[-1]
        for lut, eid, raw in rows:
            self.luts.append(lut)
            self.ids.append(eid)
            self.raws.append(raw)
            if lut > self.latest.get(eid, -1):
                self.latest[eid] = lut

    def page(self, cursor: int, offset: int, limit: int) -> tuple[int, int, list[bytes]]:
        lo = bisect.bisect_left(self.luts, cursor)
        first = lo + offset
        raws = self.raws[first:first + limit]
        return len(self.luts) - lo, len(raws), raws

    def stats(self) -> dict:
        return {"versions": len(self.luts), "distinct": len(self.latest),
                "sumLastUpdated": sum(self.latest.values()),
                "maxLastUpdated": self.luts[-1] if self.luts else None,
                "searches": self.searches, "bytesSent": self.bytes_sent}


def timeline(rng: random.Random, n: int, big_tie: int, base: int, now: int) -> tuple[list[int], int]:
    """n lastUpdatedTimestamps, ascending, small ties and one big tie group in the middle."""
    sizes, left = [], n - big_tie
    while left > 0:
        size = min(left, 1 if rng.random() < 0.7 else 2 + int(rng.random() * 4))
        sizes.append(size)
        left -= size
    middle = len(sizes) // 2
    if big_tie:
        sizes.insert(middle, big_tie)
    gaps = []
    for _ in sizes:
        r = rng.random()
        gaps.append(1 + int(rng.random() * 50) if r < 0.6 else 50 + int(rng.random() * 1950) if r < 0.9
                    else 2000 + int(rng.random() * 3000))
    # Scale the gaps so that the timeline runs from base to (about) now.
    total = sum(gaps)
    span = now - base
    if len(gaps) >= span:
        raise SystemExit("bench_stub: --base-time too close to now for that many timestamps")
    factor = (span - len(gaps)) / total
    gaps = [1 + int(g * factor) for g in gaps]
    luts, t, big_lut = [], base, -1
    for i, (size, gap) in enumerate(zip(sizes, gaps)):
        t += gap
        if big_tie and i == middle:
            big_lut = t
        luts.extend([t] * size)
    return luts, big_lut


def build(args) -> Store:
    now = int(time.time() * 1000)
    base = args.base_time if args.base_time is not None else now - 3 * DAY_MS
    gen = Generator(args.seed, base)
    rng = random.Random(args.seed + 1)
    luts, big_lut = timeline(rng, args.events, args.big_tie, base, now)
    store = Store()
    gc.disable()
    try:
        rows = []
        for lut in luts:
            ev = gen.event(lut)
            rows.append((lut, ev["id"], gen.encode(ev)))
        # Updated while a client pages: a second, newer version later in the stream (not in the
        # big tie, never later than now); the old version stays where it was.
        candidates = [i for i, lut in enumerate(luts) if lut != big_lut]
        for i in rng.sample(candidates, min(args.updates, len(candidates))):
            old = rows[i]
            room = min(6 * 3_600_000, now - old[0])  # later, but never after now (no pile-up at now)
            if room <= 0:
                continue
            new_lut = old[0] + 1 + int(rng.random() * room)
            if new_lut == big_lut:
                new_lut -= 1
            if new_lut <= old[0]:
                continue
            ev = gen.newer_version(json.loads(old[2]), new_lut)
            rows.append((new_lut, ev["id"], gen.encode(ev)))
        store.extend_sorted(rows)
    finally:
        gc.enable()
    gc.freeze()
    gen.used = set()  # ids are random 64-bit: a clash in later additions is ignorable
    store.generator = gen
    store.rng = rng
    return store


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

HEAD = b'{"responseCode":200,"limit":%d,"offset":%d,"count":%d,"size":%d,"metaData":{},"messages":[],"data":['
TAIL = b"]}"


def envelope_error(status: int, text: str, field=None) -> bytes:
    return json.dumps({"responseCode": status, "limit": 0, "offset": 0, "count": 0, "size": 0, "metaData": {},
                       "messages": [{"type": "FIELD_ERROR" if field else "ACTION_ERROR", "message": text,
                                     "messageTemplate": None, "field": field, "parameter": None}],
                       "data": []}).encode()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ArgusBenchStub/1"
    disable_nagle_algorithm = True
    store: Store = None  # set in main
    api_key = "bench-key"

    def log_message(self, *args):
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes, parts=None) -> None:
        """Status line, headers and body with one sendmsg (body may be a list of parts)."""
        parts = parts if parts is not None else [body]
        length = sum(len(p) for p in parts)
        head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: application/json; charset=UTF-8\r\nContent-Length: {length}\r\n\r\n").encode()
        buffers = [head] + parts
        sock = self.connection
        # sendmsg may send less than everything; continue with what is left.
        while buffers:
            sent = sock.sendmsg(buffers[:512])
            while sent and buffers:
                if sent >= len(buffers[0]):
                    sent -= len(buffers[0])
                    buffers.pop(0)
                else:
                    buffers[0] = memoryview(buffers[0])[sent:]
                    sent = 0

    def _json(self, status: int, value) -> None:
        self._send(status, json.dumps(value).encode())

    def do_POST(self):
        if self.path == SEARCH_PATH:
            return self.search()
        raw = self._body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(400, {"error": "bad json"})
        store = self.store
        if self.path == "/_control/events":
            with store.lock:
                if "add" in body:
                    add_events(store, int(body["add"]))
                elif "update" in body:
                    update_events(store, int(body["update"]))
                else:
                    return self._json(400, {"error": "expected add or update"})
                return self._json(200, store.stats())
        if self.path == "/_control/log":
            with store.lock:
                store.log_enabled = bool(body.get("enabled"))
                if store.log_enabled:
                    store.log = []
            return self._json(200, {"ok": True})
        self._json(404, {"error": "no such endpoint"})

    def do_GET(self):
        store = self.store
        if self.path == "/_control/health":
            return self._json(200, {"ok": True})
        if self.path == "/_control/stats":
            with store.lock:
                return self._json(200, store.stats())
        if self.path == "/_control/log":
            with store.lock:
                return self._json(200, {"bodies": list(store.log)})
        self._json(404, {"error": "no such endpoint"})

    def search(self):
        raw = self._body()
        if self.headers.get("Argus-API-Key") != self.api_key:
            return self._send(401, envelope_error(401, "Authentication failed"))
        try:
            c = json.loads(raw)
            if not isinstance(c, dict):
                raise ValueError
        except ValueError:
            return self._send(400, envelope_error(400, "Invalid request body"))
        try:
            limit = int(c.get("limit", 25))
            offset = int(c.get("offset", 0) or 0)
            cursor = c.get("lastUpdatedTimestamp")
            cursor = int(cursor) if cursor is not None else -(1 << 62)
        except (TypeError, ValueError):
            return self._send(412, envelope_error(412, "limit, offset and lastUpdatedTimestamp must be integers", "limit"))
        if not 0 <= limit <= MAX_LIMIT or offset < 0:
            return self._send(412, envelope_error(412, f"limit must be 0..{MAX_LIMIT}, offset >= 0", "limit"))
        if c.get("sortBy") not in (["lastUpdatedTimestamp"], "lastUpdatedTimestamp"):
            return self._send(412, envelope_error(412, "this stub only sorts by lastUpdatedTimestamp", "sortBy"))
        if c.get("startTimestamp") is None:
            return self._send(412, envelope_error(412, "startTimestamp is required", "startTimestamp"))
        store = self.store
        with store.lock:
            count, size, raws = store.page(cursor, offset, limit)
            store.searches += 1
            if store.log_enabled:
                store.log.append(raw.decode("utf-8", "replace"))
        parts = [HEAD % (limit, offset, count, size), b",".join(raws), TAIL]
        with store.lock:
            store.bytes_sent += sum(len(p) for p in parts)
        self._send(200, b"", parts)


def add_events(store: Store, n: int) -> None:
    gen, rng = store.generator, store.rng
    lut = max(int(time.time() * 1000), store.luts[-1] + 1 if store.luts else 0)
    rows, run = [], 0
    for _ in range(n):
        ev = gen.event(lut)
        rows.append((lut, ev["id"], gen.encode(ev)))
        run += 1
        if run >= 5 or rng.random() >= 0.3:
            lut, run = lut + 1 + int(rng.random() * 5), 0
    store.extend_sorted(rows)


def update_events(store: Store, n: int) -> None:
    gen, rng = store.generator, store.rng
    lut = max(int(time.time() * 1000), store.luts[-1] + 1 if store.luts else 0)
    rows, seen = [], set()
    while len(rows) < min(n, len(store.latest)):
        i = int(rng.random() * len(store.raws))
        eid = store.ids[i]
        if eid in seen or store.latest[eid] != store.luts[i]:
            continue  # an old version: pick again
        seen.add(eid)
        rows.append((lut, eid, gen.encode(gen.newer_version(json.loads(store.raws[i]), lut))))
    store.extend_sorted(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--big-tie", type=int, default=2500)
    p.add_argument("--updates", type=int, default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--api-key", default="bench-key")
    p.add_argument("--base-time", type=int, default=None)
    p.add_argument("--exit-on-stdin-eof", action="store_true")
    args = p.parse_args()
    args.big_tie = max(0, min(args.big_tie, args.events // 4))
    if args.updates is None:
        args.updates = args.events // 20
    started = time.monotonic()
    store = build(args)
    Handler.store = store
    Handler.api_key = args.api_key
    server = Server(("127.0.0.1", args.port), Handler)
    if args.exit_on_stdin_eof and (stat.S_ISFIFO(os.fstat(0).st_mode) or stat.S_ISSOCK(os.fstat(0).st_mode)):
        def watch():
            try:
                while os.read(0, 65536):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    total = sum(len(r) for r in store.raws)
    sys.stderr.write(f"bench_stub: {len(store.raws)} versions of {len(store.latest)} events, "
                     f"{total / len(store.raws):.0f} B/event avg, {total / 2**20:.0f} MiB, "
                     f"built in {time.monotonic() - started:.1f} s\n")
    sys.stdout.write(f"LISTENING {server.server_address[1]} {len(store.raws)} {total}\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
