import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
import Testing
import TestSupport

@Suite("Sync engine: query indexes during a backfill")
struct BackfillTests {
    static let queryIndexes = ["events_timestamp", "events_customer_time", "events_severity_time", "events_alarm_time"]

    /// name → SQL of the secondary indexes on `events` (the primary key's is not in the list).
    static func indexes(_ path: String) throws -> [String: String] {
        let rows = try Database(path: path).query(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL")
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row -> (String, String)? in
            guard case .text(let name) = row[0], case .text(let sql) = row[1] else { return nil }
            return (name, sql)
        })
    }

    /// Records, at every committed page, which query indexes the file lacks (seen from another connection).
    final class IndexWatcher: Sendable {
        let path: String
        let recorder = ProgressRecorder()
        private let seen = LockedValue<[[String]]>([])
        init(path: String) { self.path = path }
        var missingAtEachPage: [[String]] { seen.value }

        func record(_ progress: SyncProgress) {
            recorder.record(progress)
            guard case .pageCommitted = progress else { return }
            let present = Set((try? BackfillTests.indexes(path).keys.map { $0 }) ?? [])
            seen.update { $0.append(BackfillTests.queryIndexes.filter { !present.contains($0) }) }
        }

        var deferred: Int { recorder.all.filter { if case .queryIndexesDeferred = $0 { true } else { false } }.count }
        var built: [String] { recorder.all.compactMap { if case .queryIndexBuilt(let name, _) = $0 { name } else { nil } } }
    }

    @Test("a catch-up into an empty database loads without the query indexes and builds them, as the migration defines them, at the end")
    func backfillBuildsIndexesAtEnd() async throws {
        let h = try Harness(pageSize: 100)
        defer { h.directory.remove() }
        let migrated = try Self.indexes(try EventStore(path: h.directory.file("reference.db")).path)
        #expect(Set(migrated.keys) == Set(Self.queryIndexes + ["events_last_updated"]))
        h.server.add(450)
        let watcher = IndexWatcher(path: h.databasePath)
        let summary = try await h.engine(progress: watcher.record).syncPass()

        #expect(try h.mirrorsServer())
        #expect(summary.pages == 5)
        #expect(watcher.deferred == 1)
        // Missing at every page, the last one included; built after it, in full and as migrated.
        #expect(watcher.missingAtEachPage == Array(repeating: Self.queryIndexes, count: 5))
        #expect(watcher.built == Self.queryIndexes)
        #expect(try Self.indexes(h.databasePath) == migrated)
        let db = try Database(path: h.databasePath)
        #expect(try db.scalarString("PRAGMA integrity_check") == "ok")
        let plan = try db.query("EXPLAIN QUERY PLAN SELECT count(*) FROM events WHERE customer_id = 1 AND timestamp > 0")
        #expect(plan.contains { row in row.contains { $0 == .text("SEARCH events USING COVERING INDEX events_customer_time (customer_id=? AND timestamp>?)") } })
    }

    @Test("a backfill stopped midway resumes without the indexes after a restart and builds them when it reaches the present")
    func interruptedBackfillResumes() async throws {
        let h = try Harness(pageSize: 100)
        defer { h.directory.remove() }
        h.server.add(450)
        // The third search (the prefetch during page 2's commit) needs a human: the pass stops there.
        h.server.inject(.answerNormally, .answerNormally, .status(401))
        await #expect(throws: ArgusAPIError.self) { try await h.engine().syncPass() }
        #expect(try h.stored().count == 199)  // two pages; the second began with the first one's last event
        #expect(try EventStore(path: h.databasePath).missingQueryIndexes() == Self.queryIndexes)
        #expect(Set(try Self.indexes(h.databasePath).keys) == ["events_last_updated"])

        let watcher = IndexWatcher(path: h.databasePath)
        try await h.engine(progress: watcher.record).syncPass()
        #expect(try h.mirrorsServer())
        #expect(watcher.deferred == 0)  // already deferred: nothing to drop
        #expect(watcher.missingAtEachPage.allSatisfy { $0 == Self.queryIndexes })
        #expect(watcher.built == Self.queryIndexes)
        #expect(try EventStore(path: h.databasePath).missingQueryIndexes().isEmpty)
    }

    @Test("a catch-up into a database that holds events keeps its indexes up to date row by row")
    func populatedDatabaseKeepsIndexes() async throws {
        let h = try Harness(pageSize: 100)
        defer { h.directory.remove() }
        h.server.add(60)
        let first = IndexWatcher(path: h.databasePath)
        try await h.engine(progress: first.record).syncPass()  // one short page: no catch-up, nothing deferred
        h.server.setClock(h.server.clock + 1000)
        h.server.add(450)
        let second = IndexWatcher(path: h.databasePath)
        try await h.engine(progress: second.record).syncPass()
        #expect(try h.mirrorsServer())
        for watcher in [first, second] {
            #expect(watcher.deferred == 0 && watcher.built.isEmpty)
            #expect(!watcher.missingAtEachPage.isEmpty && watcher.missingAtEachPage.allSatisfy(\.isEmpty))
        }
    }

    @Test("with database.deferIndexesDuringBackfill off, a backfill keeps the indexes throughout")
    func deferralOff() async throws {
        var h = try Harness(pageSize: 100)
        defer { h.directory.remove() }
        h.settings.deferQueryIndexes = false
        h.server.add(450)
        let watcher = IndexWatcher(path: h.databasePath)
        try await h.engine(progress: watcher.record).syncPass()
        #expect(try h.mirrorsServer())
        #expect(watcher.deferred == 0 && watcher.built.isEmpty)
        #expect(watcher.missingAtEachPage.count == 5 && watcher.missingAtEachPage.allSatisfy(\.isEmpty))
    }
}
