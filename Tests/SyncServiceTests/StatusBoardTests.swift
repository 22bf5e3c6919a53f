import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
@testable import SyncService
import Testing
import TestSupport

@Suite("Status board: failure counting and leftovers")
struct StatusBoardTests {
    static let quiet = Logger(minimumLevel: .critical, write: { _ in })

    @Test("a failure that was not a request (the database, the paging contract) counts as a consecutive failure; a failed request is counted once")
    func consecutiveFailures() throws {
        let board = StatusBoard(file: nil, databasePath: "/db/events.db", staleAfter: 600, clock: TestClock(), logger: Self.quiet)
        board.recordFailure(SQLiteError(code: 13, message: "database or disk is full"))
        #expect(board.snapshot().consecutiveFailures == 1)
        board.recordFailure(SyncError.protocolViolation("a full page of older events"))
        #expect(board.snapshot().consecutiveFailures == 2)
        #expect(board.snapshot().lastError?.kind == "protocol")

        // A 401: counted when the request failed, not again when the pass ends on it.
        let unauthorized = ArgusAPIError.authentication(messages: [])
        board.record(.requestFailed(unauthorized, duration: 0.1))
        board.recordFailure(unauthorized)
        #expect(board.snapshot().consecutiveFailures == 3)
        #expect(board.snapshot().healthy == false)
    }

    @Test("temporary files left by a killed process are removed at start; other files are left alone")
    func staleTemporaries() throws {
        let directory = try TemporaryDirectory("status-leftovers")
        defer { directory.remove() }
        let path = directory.file("status.json")
        let keep = [".status.json.\(getpid()).tmp", ".status.json.abc.tmp", ".other.json.123.tmp", "status.json", "notes.tmp"]
        for name in keep + [".status.json.99999.tmp", ".status.json.1.tmp"] {
            _ = FileManager.default.createFile(atPath: directory.file(name), contents: Data("x".utf8))
        }
        StatusFile.removeStaleTemporaries(besides: path)
        #expect(Set(directory.contents()) == Set(keep))
    }
}
