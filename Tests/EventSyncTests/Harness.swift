import ArgusAPI
import EventSync
import Foundation
import SQLiteKit
import TestSupport

/// An engine over a fresh database and a `FakeArgus`, with an instant clock.
struct Harness {
    let server: FakeArgus
    let directory: TemporaryDirectory
    let clock: TestClock
    var settings: SyncSettings
    var retryPolicy = RetryPolicy(baseDelay: 1, maxDelay: 30, giveUpAfter: 60, random: { 0.5 })

    init(server: FakeArgus = FakeArgus(), pageSize: Int = 100, overlap: TimeInterval = 60) throws {
        self.server = server
        directory = try TemporaryDirectory("engine")
        clock = TestClock(now: Date(epochMilliseconds: 1_800_000_000_000))
        settings = SyncSettings(criteria: [("customer", .array([.string("ærlig")]))], startTimestamp: 1_600_000_000_000,
                                pageSize: pageSize, overlap: overlap)
    }

    var databasePath: String { directory.file("events.db") }

    func client(apiKey: String = "test-key") -> ArgusClient {
        ArgusClient(baseURL: URL(string: "https://argus.test/prefix/")!, apiKey: apiKey, transport: server,
                    userAgent: "argus-event-sync-tests", now: { [clock] in clock.now() })
    }

    /// A new engine on the same database, as after a restart.
    func engine(apiKey: String = "test-key", progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) throws -> SyncEngine {
        SyncEngine(client: client(apiKey: apiKey), store: try EventStore(path: databasePath), settings: settings,
                   retryPolicy: retryPolicy, clock: clock, progress: progress)
    }

    /// What the database holds: id → (lastUpdatedTimestamp, json).
    func stored() throws -> [String: (Int64, String)] {
        let database = try Database(path: databasePath)
        var result: [String: (Int64, String)] = [:]
        for row in try database.query("SELECT id, last_updated_timestamp, json FROM events") {
            guard case .text(let id) = row[0], case .integer(let ts) = row[1], case .text(let json) = row[2] else { continue }
            result[id] = (ts, json)
        }
        return result
    }

    /// True when the database holds exactly the server's events, byte for byte.
    func mirrorsServer() throws -> Bool {
        let stored = try stored()
        let expected = server.events
        guard stored.count == expected.count else { return false }
        return expected.allSatisfy { id, event in
            stored[id].map { $0.0 == event.lastUpdatedTimestamp && $0.1 == event.json } ?? false
        }
    }

    func checkpoint() throws -> Checkpoint? {
        try EventStore(path: databasePath).loadCheckpoint()
    }
}

/// Collects progress reports.
final class ProgressRecorder: Sendable {
    private let reports = Mutex<[SyncProgress]>([])
    var all: [SyncProgress] { reports.withLock { $0 } }
    func record(_ progress: SyncProgress) { reports.withLock { $0.append(progress) } }

    var retryDelays: [TimeInterval] {
        all.compactMap { if case .retrying(_, _, let delay) = $0 { delay } else { nil } }
    }
}

import Synchronization
