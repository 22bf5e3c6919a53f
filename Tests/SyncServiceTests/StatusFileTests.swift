import ArgusAPI
import EventSync
import Foundation
@testable import SyncService
import Synchronization
import Testing
import TestSupport

/// The status file: its shape, its contents through a sync, atomic replacement and its mode.
@Suite("Status file")
struct StatusFileTests {
    static let apiKey = "sekrit-key-7f3a9c"

    /// A configuration against FakeArgus (the base URL is never dialled).
    static func configuration(_ directory: TemporaryDirectory, pageSize: Int = 100) throws -> Configuration {
        let path = directory.file("argus.json")
        try """
            {"api":{"baseURL":"https://argus.test"},"sync":{"startTimestamp":0,"pageSize":\(pageSize)},
             "database":{"path":"data/events.db"},"status":{"path":"run/status.json"}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try Configuration.load(path: path, environment: ["ARGUS_API_KEY": apiKey])
        configuration.pollInterval = 0.2
        return configuration
    }

    static let quiet = Logger(minimumLevel: .critical, environment: [:], write: { _ in })

    /// Every snapshot the board wrote, and the file as read right after each write.
    final class Recorder: Sendable {
        private let entries = Mutex<[(snapshot: StatusSnapshot, fileKeys: Set<String>, raw: String)]>([])
        let path: String
        init(path: String) { self.path = path }

        func record(_ snapshot: StatusSnapshot) {
            let status = StatusJSON(path: path)
            entries.withLock { $0.append((snapshot, status.map { Set($0.object.keys) } ?? [], status?.raw ?? "")) }
        }

        /// The file as read right after the first write in `state`.
        func file(afterFirst state: ServiceState) -> StatusJSON? {
            entries.withLock { $0.first { $0.snapshot.state == state } }.flatMap { StatusJSON(data: Data($0.raw.utf8)) }
        }

        var snapshots: [StatusSnapshot] { entries.withLock { $0.map(\.snapshot) } }
        var fileKeySets: [Set<String>] { entries.withLock { $0.map(\.fileKeys) } }
        var raws: [String] { entries.withLock { $0.map(\.raw) } }
        /// The states in order, repeats collapsed.
        var states: [ServiceState] {
            snapshots.map(\.state).reduce(into: []) { if $0.last != $1 { $0.append($1) } }
        }
    }

    @Test("every key is present from the first write, unknown values as explicit null")
    func shapeBeforeAnything() throws {
        let directory = try TemporaryDirectory("status-shape")
        defer { directory.remove() }
        let path = directory.file("status.json")
        let board = StatusBoard(file: StatusFile(path: path), databasePath: "/db/events.db", staleAfter: 600,
                                clock: SystemClock(), logger: Self.quiet)
        board.set(.starting)

        let status = try #require(StatusJSON(path: path))
        #expect(Set(status.object.keys) == statusKeys)
        #expect(status.state == "starting" && status.healthy == false)
        for key in ["checkpoint", "lagSeconds", "lastSuccessAt", "lastAttemptAt", "nextAttemptAt", "lastError"] {
            #expect(status.isNull(key), "\(key) should be null: \(status)")
        }
        #expect(status.consecutiveFailures == 0)
        #expect(Set(status.totals.keys) == totalsKeys && status.totals.values.allSatisfy { $0 == 0 })
        #expect(Set(status.database.keys) == ["path", "events"])
        #expect(status.database["events"] is NSNull && status.database["path"] as? String == "/db/events.db")
        #expect(status.pid == getpid())
        #expect(status["version"] as? String == Version.current)
        #expect(status.updatedAt != nil && status.date("startedAt") != nil)
        #expect(status.raw.hasSuffix("}\n"))

        // An error without an HTTP status still has every key.
        board.recordFailure(SyncError.protocolViolation("a full page of older events"))
        let failed = try #require(StatusJSON(path: path))
        let error = try #require(failed.lastError)
        #expect(Set(error.keys) == errorKeys)
        #expect(error["httpStatus"] is NSNull && error["kind"] as? String == "protocol")
        #expect((error["message"] as? String)?.contains("a full page of older events") == true)

        // What the file says decodes back to what the board holds.
        #expect(try StatusFile(path: path).read().snapshot == board.snapshot().with(updatedAt: failed["updatedAt"] as! String))
    }

    @Test("through a sync: syncing, backoff, idle, stopped; checkpoint, lag, totals and row count; never the key")
    func throughASync() async throws {
        let directory = try TemporaryDirectory("status-sync")
        defer { directory.remove() }
        let configuration = try Self.configuration(directory)
        let server = FakeArgus(apiKey: Self.apiKey)
        server.add(250, step: 1000)
        server.inject(.status(503, retryAfter: "0", message: "queue full"))
        let recorder = Recorder(path: configuration.statusPath)
        #expect(!FileManager.default.fileExists(atPath: configuration.statusPath))

        let context = try ServiceContext.open(configuration: configuration, retryPolicy: .daemon, logger: Self.quiet,
                                              transport: server, onStatus: recorder.record)
        let daemon = Daemon(context: context, notifier: SystemdNotifier(environment: [:]), signals: SignalWatcher([]))
        let running = Task { await daemon.run() }
        defer { running.cancel() }

        #expect(try await eventually(timeout: 10) { recorder.snapshots.last?.state == .idle })
        let first = try #require(recorder.snapshots.first)
        #expect(first.state == .syncing && first.checkpoint == nil && first.lagSeconds == nil && first.lastSuccessAt == nil)
        #expect(first.database.events == 0)
        #expect(Array(recorder.states.prefix(4)) == [.syncing, .backoff, .syncing, .idle], "\(recorder.states)")
        #expect(recorder.fileKeySets.allSatisfy { $0 == statusKeys })
        let backoff = try #require(recorder.snapshots.first { $0.state == .backoff })
        #expect(backoff.consecutiveFailures == 1 && backoff.lastError?.httpStatus == 503 && backoff.lastError?.kind == "throttled")

        let idle = try #require(recorder.file(afterFirst: .idle))
        #expect(idle.state == "idle" && idle.healthy == true, "\(idle)")
        let newest = server.events.values.map(\.lastUpdatedTimestamp).max()
        #expect(idle.checkpointTimestamp == newest)
        #expect((idle["checkpoint"] as? [String: Any])?["lastUpdated"] as? String == ISO8601.string(epochMilliseconds: newest ?? 0))
        let updatedAt = try #require(idle.updatedAt)
        let lag = try #require(idle.lagSeconds)
        #expect(abs(lag - (updatedAt.timeIntervalSince1970 - Double(newest ?? 0) / 1000)) < 0.01)
        #expect(idle.totals["eventsInserted"] == 250 && idle.totals["eventsUpdated"] == 0)
        #expect(idle.totals["requestsFailed"] == 1 && (idle.totals["pagesFetched"] ?? 0) >= 3)
        #expect(idle.databaseEvents == 250 && idle.database["path"] as? String == configuration.databasePath)
        // Recovered: failures reset, health back, but the last error is kept with its time.
        #expect(idle.consecutiveFailures == 0 && idle.lastErrorStatus == 503)
        let nextAttempt = try #require(idle.date("nextAttemptAt"))
        #expect(nextAttempt > updatedAt.addingTimeInterval(-0.01))
        #expect(idle.date("lastSuccessAt") != nil && idle.date("lastAttemptAt") != nil)

        // New and changed events show in the totals and the row count.
        let added = server.add(5, step: 1000)
        for id in server.events.keys.filter({ !added.contains($0) }).sorted().prefix(10) { server.update(id) }
        #expect(try await eventually(timeout: 10) {
            StatusJSON(path: configuration.statusPath).map { $0.totals["eventsInserted"] == 255 && $0.totals["eventsUpdated"] == 10 } == true
        })
        #expect(StatusJSON(path: configuration.statusPath)?.databaseEvents == 255)

        running.cancel()
        #expect(await running.value == 0)
        let stopped = try #require(StatusJSON(path: configuration.statusPath))
        #expect(stopped.state == "stopped" && stopped.isNull("nextAttemptAt"))
        #expect(recorder.raws.allSatisfy { !$0.contains(Self.apiKey) } && !stopped.raw.contains(Self.apiKey))

        // A new process: totals start again from zero, the row count comes from the database.
        let again = try ServiceContext.open(configuration: configuration, retryPolicy: .daemon, logger: Self.quiet, transport: server)
        try await again.engine.syncPass()
        again.board.set(.stopped)
        let restarted = try #require(StatusJSON(path: configuration.statusPath))
        #expect(restarted.databaseEvents == 255 && restarted.totals["eventsInserted"] == 0, "\(restarted)")
        #expect((restarted.totals["eventsUnchanged"] ?? 0) > 0)
    }

    @Test("replaced atomically: a reader parsing it in a loop never sees a partial file; mode 0644, no leftovers")
    func atomicReplacement() async throws {
        let directory = try TemporaryDirectory("status-atomic")
        defer { directory.remove() }
        let path = directory.file("status.json")
        // An old file and a stale temporary file, both private, must not keep their mode.
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        let temporary = directory.file(".status.json.\(getpid()).tmp")
        try Data(repeating: 0x7B, count: 100_000).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o600)

        let file = StatusFile(path: path)
        try file.write(StatusCommandTests.snapshot())
        let watcher = StatusFileWatcher(path: path)
        let writes = 2500
        try await onThread {
            var snapshot = StatusCommandTests.snapshot()
            for n in 0..<writes {
                // Sizes swing between a few hundred bytes and tens of kilobytes.
                snapshot.lastError = n % 2 == 0 ? nil
                    : .init(at: ISO8601.string(from: Date()), message: String(repeating: "x", count: (n % 7) * 5000), httpStatus: nil, kind: "internal")
                snapshot.totals.pagesFetched = n
                snapshot.updatedAt = "2026-01-01T00:00:00.000Z#\(n)"
                try file.write(snapshot)
            }
        }
        let tally = watcher.stop()
        #expect(tally.invalid.isEmpty, "partial reads: \(tally.invalid)")
        #expect(tally.vanished == 0)
        #expect(tally.reads > 200 && tally.distinctUpdates > 50, "\(tally.reads) reads, \(tally.distinctUpdates) versions")

        #expect(try file.read().snapshot.totals.pagesFetched == writes - 1)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o644)
        #expect(directory.contents() == ["status.json"])
    }

    @Test("the binary writes it 0644 under umask 077, ends `once` in state stopped, and never holds the key")
    func modeUnderUmask() async throws {
        let stub = try await startStub(events: 200, bigTie: 20, apiKey: Self.apiKey)
        let directory = try TemporaryDirectory("status-mode")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub)
        let child = try BinaryProcess(["once", "--config", config], directory: directory,
                                      launcher: ["/bin/sh", "-c", "umask 077; exec \"$@\"", "sh"])
        let exit = try await child.wait(timeout: 60)
        #expect(exit == 0, "\(child.stderr)")
        let path = directory.file("data/status.json")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o644)
        let status = try #require(StatusJSON(path: path))
        #expect(status.state == "stopped" && status.healthy == true && status.databaseEvents == 200)
        #expect(Set(status.object.keys) == statusKeys)
        #expect(status.pid == child.pid)
        #expect(!status.raw.contains(Self.apiKey) && !child.stderr.contains(Self.apiKey))
    }
}

extension StatusSnapshot {
    func with(updatedAt: String) -> StatusSnapshot {
        var copy = self
        copy.updatedAt = updatedAt
        return copy
    }
}
