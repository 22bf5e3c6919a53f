import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
import Testing
import TestSupport

@Suite("Sync engine: retention and database upkeep")
struct UpkeepTests {
    static let day: Int64 = 86_400_000

    @Test("with retention on, eight days of syncing keep only the last day, the file shrinks, and readers keep reading")
    func retentionBoundsTheDatabase() async throws {
        var h = try Harness(pageSize: 200)
        defer { h.directory.remove() }
        h.settings.retention = 86_400
        h.settings.pruneBatchSize = 150
        let start = h.clock.now().epochMilliseconds
        h.server.setClock(start)
        let engine = try h.engine()

        // A reader on its own connection, as an analyst's sqlite3 would be, the whole time.
        let reading = LockedValue(true)
        let readerPath = h.databasePath
        // On a thread of its own: a blocking loop on the shared pool would starve other tests.
        let reader = Task { try await onThread { () -> (reads: Int, errors: [String]) in
            var reads = 0
            var errors: [String] = []
            var connection: Database?
            while reading.value {
                do {
                    if connection == nil, FileManager.default.fileExists(atPath: readerPath) {
                        connection = try Database(path: readerPath)
                    }
                    if let connection, try connection.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'events'") == 1 {
                        _ = try connection.scalarInt("SELECT count(*) FROM events WHERE severity_rank >= 1")
                        reads += 1
                    }
                } catch {
                    errors.append("\(error)")
                }
                usleep(2_000)
            }
            return (reads, errors)
        } }

        var largestFile: Int64 = 0
        for dayIndex in 0..<8 {
            let dayStart = start + Int64(dayIndex) * Self.day
            h.server.setClock(dayStart)
            h.server.add(400, step: 90_000)  // spread over 10 hours of the day
            h.clock.advance(TimeInterval(max(0, h.server.clock - h.clock.now().epochMilliseconds)) / 1000 + 1)
            let summary = try await engine.syncPass()
            #expect(summary.counts.inserted == 400)

            let database = try Database(path: h.databasePath)
            let rows = try #require(try database.scalarInt("SELECT count(*) FROM events"))
            let cutoff = h.clock.now().epochMilliseconds - Self.day
            #expect(try database.scalarInt("SELECT count(*) FROM events WHERE last_updated_timestamp < ?1", [.integer(cutoff)]) == 0)
            // At most one day of events: one day's 400 plus what is left of the day before.
            #expect(rows <= 800, "day \(dayIndex): \(rows) rows")
            let pages = try #require(try database.scalarInt("PRAGMA page_count"))
            let pageSize = try #require(try database.scalarInt("PRAGMA page_size"))
            largestFile = max(largestFile, pages * pageSize)
            // Incremental vacuum gave the pruned pages back: none left on the freelist.
            #expect(try database.scalarInt("PRAGMA freelist_count") == 0)
        }
        reading.update { $0 = false }
        let (reads, errors) = try await reader.value
        #expect(errors.isEmpty, "reader errors: \(errors.prefix(3))")
        #expect(reads > 10)

        // Eight days were synced (3200 events); the file holds room for about two at most.
        let oneDayBytes = Int64(400 * FakeArgus.makeJSON(id: "AGGR/1/1/1", lastUpdated: 1, serial: 1, version: 0).utf8.count)
        #expect(largestFile < oneDayBytes * 5, "file grew to \(largestFile) bytes")
        let stored = try h.stored()
        let cutoff = h.clock.now().epochMilliseconds - Self.day
        let expected = h.server.events.filter { $0.value.lastUpdatedTimestamp >= cutoff }
        #expect(Set(stored.keys) == Set(expected.keys))
    }

    @Test("an event pruned by retention comes back when it is updated again")
    func prunedEventComesBack() async throws {
        var h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.settings.retention = 86_400
        let now = h.clock.now().epochMilliseconds
        h.server.setClock(now - 3 * Self.day)
        let ids = h.server.add(20)
        let recorder = ProgressRecorder()
        let engine = try h.engine(progress: recorder.record)
        let first = try await engine.syncPass()
        #expect(first.counts.inserted == 20 && first.pruned == 20)
        #expect(try h.stored().isEmpty)
        #expect(recorder.all.contains { if case .pruned(let events, _) = $0 { events > 0 } else { false } })

        h.server.setClock(now - 1000)
        h.server.update(ids[7])
        // (The overlap re-reads the other, still old, events too; retention deletes them again.)
        try await engine.syncPass()
        let stored = try h.stored()
        #expect(stored.count == 1 && stored[ids[7]]?.1 == h.server.events[ids[7]]?.json)
    }

    @Test("a failing retention delete is reported and retried later; it never fails a pass that committed its events")
    func upkeepFailureIsNotASyncFailure() async throws {
        var h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.settings.retention = 86_400
        let now = h.clock.now().epochMilliseconds
        h.server.setClock(now - 3 * Self.day)
        h.server.add(30)
        h.server.setClock(now - 1000)
        h.server.add(30)
        let recorder = ProgressRecorder()
        let engine = try h.engine(progress: recorder.record)
        // Something else forbids deletes for now (as a lock held by another writer would).
        let other = try Database(path: h.databasePath)
        try other.execute("CREATE TRIGGER no_deletes BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'deletes are paused'); END")
        let first = try await engine.syncPass()
        #expect(first.counts.inserted == 60 && first.pruned == 0)
        #expect(recorder.all.contains {
            if case .upkeepFailed(let task, let reason) = $0 { task == "retention" && reason.contains("deletes are paused") } else { false }
        })
        #expect(try h.stored().count == 60)

        try other.execute("DROP TRIGGER no_deletes")
        let second = try await engine.syncPass()
        #expect(second.pruned == 30)
        #expect(try h.stored().count == 30)
    }

    @Test("the write-ahead log stays bounded through a long catch-up")
    func walStaysBounded() async throws {
        let h = try Harness(pageSize: 1000)
        defer { h.directory.remove() }
        h.server.add(30_000)
        let walPath = h.databasePath + "-wal"
        let largestWAL = LockedValue<Int64>(0)
        let engine = try h.engine(progress: { progress in
            guard case .pageCommitted = progress else { return }
            let size = ((try? FileManager.default.attributesOfItem(atPath: walPath))?[.size] as? NSNumber)?.int64Value ?? 0
            largestWAL.update { $0 = max($0, size) }
        })
        let summary = try await engine.syncPass()
        #expect(summary.counts.inserted == 30_000)
        let database = try Database(path: h.databasePath)
        let fileBytes = try #require(try database.scalarInt("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size"))
        let wal = largestWAL.value
        // The log is checkpointed every walAutocheckpointBytes; one page's commit comes on top.
        let bound = Int64(EventStore.walAutocheckpointBytes + 8 << 20)
        // A log that kept every page would be as large as the database, which is well above that.
        #expect(fileBytes > bound * 3 / 2, "database of \(fileBytes) bytes")
        #expect(wal > 0 && wal < bound, "WAL reached \(wal) bytes")
        #expect(wal <= Int64(EventStore.walSizeLimit))
    }
}
