import Foundation
import SQLiteKit
import Testing

@Suite("SQLite wrapper")
struct DatabaseTests {
    func temporaryPath() -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("sqlitekit-\(UUID().uuidString).db")
    }

    @Test("errors carry SQLite's own message and the statement")
    func errorMessages() throws {
        let db = try Database(path: ":memory:", options: { var o = Database.Options(); o.walMode = false; return o }())
        #expect {
            _ = try db.prepare("SELECT * FROM missing_table")
        } throws: { error in
            guard let error = error as? SQLiteError else { return false }
            return error.message.contains("no such table: missing_table") && error.sql == "SELECT * FROM missing_table"
                && error.primaryCode == 1
        }
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        #expect {
            try db.prepare("INSERT INTO t (id, v) VALUES (1, NULL)").run()
        } throws: { ($0 as? SQLiteError)?.message.contains("NOT NULL constraint failed: t.v") == true }
    }

    @Test("a transaction rolls back when its body throws, and commits when it returns")
    func transactionRollsBack() throws {
        struct Boom: Error {}
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        #expect(try db.scalarInt("SELECT sum(v) FROM t") == 2)
    }

    @Test("files open in WAL mode, so a reader does not block the writer")
    func walMode() throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let writer = try Database(path: path)
        #expect(try writer.scalarString("PRAGMA journal_mode") == "wal")
        try writer.execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)")
        let reader = try Database(path: path)
        try reader.execute("BEGIN")
        #expect(try reader.scalarInt("SELECT count(*) FROM t") == 1)
        try writer.transaction { try writer.execute("INSERT INTO t VALUES (2)") }  // not blocked by the open read
        #expect(try reader.scalarInt("SELECT count(*) FROM t") == 1)  // the reader's snapshot
        try reader.execute("COMMIT")
        #expect(try reader.scalarInt("SELECT count(*) FROM t") == 2)
    }

    @Test("bound values round-trip, text bound from raw bytes included")
    func binding() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t (a, b, c, d, e)")
        let statement = try db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
        try statement.bind([.integer(Int64.max), .real(1.5), .text("ünï\"code"), .null, .blob([0, 1, 2])])
        try statement.run()
        let bytes = Array("{\"k\":\"v\"} tail".utf8)
        let raw = try db.prepare("UPDATE t SET d = ?1")
        try bytes.withUnsafeBytes { try raw.bindText(UnsafeRawBufferPointer(rebasing: $0[0..<9]), at: 1) }
        try raw.run()
        let row = try #require(try db.query("SELECT a, b, c, d, e FROM t").first)
        #expect(row == [.integer(Int64.max), .real(1.5), .text("ünï\"code"), .text("{\"k\":\"v\"}"), .blob([0, 1, 2])])
    }

    @Test("opening a path in a missing folder fails with the reason and the path")
    func openFailure() {
        #expect {
            _ = try Database(path: "/nonexistent-folder-\(UUID().uuidString)/x.db")
        } throws: { error in
            guard let error = error as? SQLiteError else { return false }
            return error.message.contains("unable to open database file") && error.message.contains("/nonexistent-folder-")
        }
    }

    @Test("user_version reads and writes")
    func userVersion() throws {
        let db = try Database(path: ":memory:")
        #expect(try db.userVersion == 0)
        try db.setUserVersion(7)
        #expect(try db.userVersion == 7)
    }
}
