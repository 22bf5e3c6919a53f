import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
import Testing
import TestSupport

@Suite("Event store: columns")
struct EventStoreTests {
    @Test("flags and properties hold their JSON text as received; other kinds are NULL")
    func jsonColumns() throws {
        let directory = try TemporaryDirectory("store")
        defer { directory.remove() }
        let store = try EventStore(path: directory.file("events.db"))
        let first = #"{"id":"AGGR/1/1/a","lastUpdatedTimestamp":5,"flags":[ "ESTABLISHED", "NOTIFIED" ],"properties":{ "engine.name" : "suricata", "note":"a\nb" }}"#
        let second = #"{"id":"AGGR/1/1/b","lastUpdatedTimestamp":6,"flags":null,"properties":"not an object"}"#
        let page = try EnvelopeDecoder.decodeSearchPage(Data(#"{"data":[\#(first),\#(second)]}"#.utf8))
        let counts = try store.apply(page.events, of: page,
                                     checkpoint: Checkpoint(lastUpdatedTimestamp: 6, startTimestamp: 0, searchFingerprint: "f"), now: Date())
        #expect(counts.inserted == 2)

        let rows = try store.database.query("SELECT flags, properties, json_extract(properties, '$.\"engine.name\"'), json FROM events ORDER BY id")
        #expect(rows[0][0] == .text(#"[ "ESTABLISHED", "NOTIFIED" ]"#))
        #expect(rows[0][1] == .text(#"{ "engine.name" : "suricata", "note":"a\nb" }"#))
        #expect(rows[0][2] == .text("suricata"))
        // The stored event stays byte for byte what was received.
        #expect(rows[0][3] == .text(first))
        #expect(rows[1][0] == .null && rows[1][1] == .null && rows[1][3] == .text(second))
    }

    @Test("a version-1 file from a pre-release build (flags and properties generated) is refused with what to do")
    func preReleaseLayoutRefused() throws {
        let directory = try TemporaryDirectory("store")
        defer { directory.remove() }
        let path = directory.file("old.db")
        do {
            let old = try Database(path: path)
            try old.execute("""
                CREATE TABLE events (id TEXT PRIMARY KEY NOT NULL, last_updated_timestamp INTEGER NOT NULL,
                    json TEXT NOT NULL, flags TEXT GENERATED ALWAYS AS (json_extract(json, '$.flags')) VIRTUAL);
                PRAGMA user_version = 1;
                """)
        }
        #expect {
            _ = try EventStore(path: path)
        } throws: { error in
            guard case .preReleaseSchema? = error as? EventStoreError else { return false }
            return "\(error)".contains("move it aside")
        }
        // A file this build made is accepted again.
        let current = directory.file("new.db")
        _ = try EventStore(path: current)
        #expect(try EventStore(path: current).schemaVersion == 1)
    }
}
