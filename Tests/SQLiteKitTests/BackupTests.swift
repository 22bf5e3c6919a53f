import Foundation
import SQLiteKit
import Testing
import TestSupport

@Suite("SQLite wrapper: online backup and incremental vacuum")
struct BackupTests {
    func temporaryPath(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("sqlitekit-\(name)-\(UUID().uuidString).db")
    }

    @Test("a backup taken while another connection writes is a consistent, intact snapshot")
    func backupWhileWriting() async throws {
        let source = temporaryPath("source")
        let copy = temporaryPath("copy")
        defer { for path in [source, copy] { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } } }
        let setup = try Database(path: source)
        try setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, payload TEXT NOT NULL)")

        // The writer inserts rows two at a time in one transaction each: a consistent snapshot
        // never holds an odd number of rows. It runs on a thread of its own, not on the shared
        // pool that other tests' tasks need.
        let stop = LockedValue(false)
        let writer = Task { try await onThread { () throws -> Int in
            let db = try Database(path: source)
            let insert = try db.prepare("INSERT INTO t (pair, payload) VALUES (?1, ?2)")
            var pairs = 0
            while !stop.value && pairs < 20_000 {
                try db.transaction {
                    for _ in 0..<2 {
                        try insert.bind([.integer(Int64(pairs)), .text(String(repeating: "x", count: 200))])
                        try insert.run()
                        insert.reset()
                    }
                }
                pairs += 1
            }
            return pairs
        } }
        while try setup.scalarInt("SELECT count(*) FROM t") ?? 0 < 2000 { try await Task.sleep(nanoseconds: 5_000_000) }
        var options = Database.Options()
        options.readOnly = true
        try Database(path: source, options: options).backup(to: copy)
        stop.update { $0 = true }
        let written = try await writer.value

        let backup = try Database(path: copy)
        #expect(try backup.scalarString("PRAGMA integrity_check") == "ok")
        let rows = try #require(try backup.scalarInt("SELECT count(*) FROM t"))
        #expect(rows >= 2000 && rows % 2 == 0 && rows <= Int64(written) * 2)
        #expect(try backup.scalarInt("SELECT count(DISTINCT pair) FROM t") == rows / 2)
    }

    @Test("a backup into a missing folder fails with SQLite's reason")
    func backupFailures() throws {
        let source = try Database(path: ":memory:", options: { var o = Database.Options(); o.walMode = false; return o }())
        try source.execute("CREATE TABLE t (v)")
        #expect(throws: SQLiteError.self) { try source.backup(to: "/nonexistent-folder-\(UUID().uuidString)/copy.db") }
    }

    @Test("page size and incremental vacuum are set on new files before WAL; incremental vacuum gives deleted pages back")
    func incrementalVacuum() throws {
        let path = temporaryPath("vacuum")
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        var options = Database.Options()
        options.incrementalVacuum = true
        options.pageSize = 16_384
        options.cacheSizeKiB = 2048
        let db = try Database(path: path, options: options)
        #expect(try db.scalarInt("PRAGMA auto_vacuum") == 2)
        #expect(try db.scalarInt("PRAGMA page_size") == 16_384)
        #expect(try db.scalarInt("PRAGMA cache_size") == -2048)
        #expect(try db.scalarString("PRAGMA journal_mode") == "wal")
        try db.execute("CREATE TABLE t (v TEXT)")
        try db.transaction {
            let insert = try db.prepare("INSERT INTO t VALUES (?1)")
            for _ in 0..<2000 {
                try insert.bind([.text(String(repeating: "y", count: 1000))])
                try insert.run()
                insert.reset()
            }
        }
        let full = try #require(try db.scalarInt("PRAGMA page_count"))
        try db.execute("DELETE FROM t")
        #expect(try db.scalarInt("PRAGMA freelist_count") ?? 0 > 0)
        try db.execute("PRAGMA incremental_vacuum")
        #expect(try db.scalarInt("PRAGMA freelist_count") == 0)
        #expect(try db.scalarInt("PRAGMA page_count") ?? full < full / 10)
    }
}
