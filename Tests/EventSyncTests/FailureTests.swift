import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
import Testing
import TestSupport

@Suite("Sync engine: failures, retries, crash safety")
struct FailureTests {
    @Test("transient failures are retried with backoff, then the pass completes", arguments: [
        FakeArgus.Fault.status(503), .status(500), .status(502), .timeout, .connectionReset,
        .truncatedBody, .malformedBody, .notAnEnvelope, .eventWithoutID,
    ])
    func transientRetried(fault: FakeArgus.Fault) async throws {
        let h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.server.add(120)
        h.server.inject(fault, fault)
        let recorder = ProgressRecorder()
        try await h.engine(progress: recorder.record).syncPass()
        #expect(try h.mirrorsServer())
        #expect(recorder.retryDelays.count == 2)
        // Full jitter with random() = 0.5: half of base·2^(n-1).
        #expect(recorder.retryDelays == [0.5, 1.0])
    }

    @Test("429 and 503 honour Retry-After in seconds or as an HTTP date, capped")
    func retryAfterHonoured() async throws {
        var h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.retryPolicy.maxRetryAfter = 20
        h.server.add(10)
        let date = Date(epochMilliseconds: 1_800_000_000_000).addingTimeInterval(7)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        h.server.inject(.status(429, retryAfter: "3"), .status(503, retryAfter: formatter.string(from: date)),
                        .status(429, retryAfter: "3600"))
        try await h.engine().syncPass()
        #expect(h.clock.sleeps.count == 3)
        #expect(h.clock.sleeps[0] == 3)
        #expect(abs(h.clock.sleeps[1] - 4) < 1.01)  // 7 s after the clock's start, 3 s already slept
        #expect(h.clock.sleeps[2] == 20)
        #expect(try h.mirrorsServer())
    }

    @Test("401, 403 and 412 fail at once, without retries, with the server's message", arguments: [401, 403, 412])
    func permanentFailures(status: Int) async throws {
        let h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.server.add(10)
        h.server.inject(.status(status, message: "Invalid field minSeverity"))
        await #expect {
            try await h.engine().syncPass()
        } throws: { error in
            guard let error = error as? ArgusAPIError else { return false }
            return error.httpStatus == status && !error.isRetryable && "\(error)".contains("Invalid field minSeverity")
        }
        #expect(h.server.requests.count == 1)
        #expect(h.clock.sleeps.isEmpty)
    }

    @Test("an expired key is reported as such")
    func expiredKey() async throws {
        let h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.server.inject(.status(401, message: "API key has expired"))
        await #expect {
            try await h.engine().syncPass()
        } throws: { error in
            (error as? ArgusAPIError)?.kind == "key-expired"
        }
    }

    @Test("transient failures outlasting the retry budget end the pass with the last reason")
    func givesUp() async throws {
        let h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.server.add(10)
        h.server.inject(.status(503), .status(503), .status(503), .status(503), .status(503), .status(503),
                        .status(503), .status(503), .status(503), .status(503), .status(503), .status(503))
        await #expect {
            try await h.engine().syncPass()
        } throws: { error in
            guard case .gaveUp(let last, let attempts, _) = error as? SyncError else { return false }
            return last.httpStatus == 503 && attempts > 3
        }
        #expect(h.clock.sleeps.reduce(0, +) <= 60)
    }

    @Test("a bad body commits nothing: neither events nor checkpoint move")
    func badBodyCommitsNothing() async throws {
        var h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        h.retryPolicy.giveUpAfter = 0
        h.server.add(120)
        let engine = try h.engine()
        try await engine.syncPass()
        let before = try h.checkpoint()
        h.server.add(30)
        h.server.inject(.truncatedBody)
        await #expect(throws: SyncError.self) { try await engine.syncPass() }
        #expect(try h.checkpoint() == before)
        #expect(try h.stored().count == 120)
    }

    @Test("a page whose write fails rolls back whole, its checkpoint included")
    func pageIsOneTransaction() async throws {
        let h = try Harness(pageSize: 50)
        defer { h.directory.remove() }
        let ids = h.server.add(120)
        _ = try EventStore(path: h.databasePath)  // create the schema
        let database = try Database(path: h.databasePath)
        // Make the 70th event (on the second page) impossible to insert.
        try database.execute("""
            CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.id = '\(ids.sorted { h.server.events[$0]!.lastUpdatedTimestamp < h.server.events[$1]!.lastUpdatedTimestamp }[69])'
            BEGIN SELECT RAISE(ABORT, 'refused by test'); END
            """)
        await #expect { try await h.engine().syncPass() } throws: { "\($0)".contains("refused by test") }
        #expect(try h.stored().count == 50)
        let checkpoint = try #require(try h.checkpoint()?.lastUpdatedTimestamp)
        #expect(checkpoint == h.server.events.values.map(\.lastUpdatedTimestamp).sorted()[49])
        try database.execute("DROP TRIGGER refuse")
        try await h.engine().syncPass()
        #expect(try h.mirrorsServer())
    }

    @Test("a crash between pages loses nothing: a restarted engine completes the mirror")
    func crashBetweenPages() async throws {
        var h = try Harness(pageSize: 40)
        defer { h.directory.remove() }
        h.retryPolicy.giveUpAfter = 0
        let ids = h.server.add(300)
        // Fail permanently on the fourth request, as if the process died there.
        h.server.inject(.updateTieMembers(count: 0), .updateTieMembers(count: 0), .updateTieMembers(count: 0), .status(401))
        await #expect(throws: ArgusAPIError.self) { try await h.engine().syncPass() }
        let partial = try h.stored().count
        #expect(partial > 0 && partial < 300)
        for id in ids.prefix(20) { h.server.update(id) }
        h.server.add(25)
        try await h.engine().syncPass()
        #expect(try h.mirrorsServer())
    }

    @Test("cancelling a pass mid-way leaves a consistent store that the next pass completes")
    func cancellation() async throws {
        let h = try Harness(pageSize: 40)
        defer { h.directory.remove() }
        h.server.add(400)
        h.server.inject(.status(503), .status(503), .status(503), .status(503))
        let engine = try h.engine()
        let task = Task { try await engine.syncPass() }
        task.cancel()
        _ = await task.result
        try await h.engine().syncPass()
        #expect(try h.mirrorsServer())
    }
}
