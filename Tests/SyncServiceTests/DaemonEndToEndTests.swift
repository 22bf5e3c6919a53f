import Foundation
import SQLiteKit
import Testing
import TestSupport

/// `argus-event-sync run` through the real binary against the Python stub server: polling,
/// faults, signals and `kill -9`, judged by the status file and the stub's byte-exact compare.
@Suite("End to end: run against the stub server", .serialized)
struct DaemonEndToEndTests {
    /// How long SIGTERM may take to end the process ("within a few seconds").
    static let stopLimit: TimeInterval = 4

    static func statusPath(_ directory: TemporaryDirectory) -> String { directory.file("data/status.json") }
    static func databasePath(_ directory: TemporaryDirectory) -> String { directory.file("data/events.db") }

    static func status(_ directory: TemporaryDirectory) -> StatusJSON? { StatusJSON(path: statusPath(directory)) }

    /// Sends SIGTERM (or SIGINT) and expects exit 0 within the limit and a final state `stopped`.
    static func stop(_ daemon: BinaryProcess, _ directory: TemporaryDirectory, signal: Int32 = SIGTERM,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let started = Date()
        daemon.signal(signal)
        let exit = try await daemon.wait(timeout: 30)
        let took = Date().timeIntervalSince(started)
        #expect(exit == 0, "stderr: \(daemon.stderr.suffix(2000))", sourceLocation: sourceLocation)
        #expect(took < stopLimit, "SIGTERM took \(took) s", sourceLocation: sourceLocation)
        let final = status(directory)
        #expect(final?.state == "stopped", "\(String(describing: final))", sourceLocation: sourceLocation)
        #expect(daemon.stderr.contains("\(signal == SIGINT ? "SIGINT" : "SIGTERM") received: stopping"), sourceLocation: sourceLocation)
    }

    /// Runs `status --config` and returns its exit code.
    static func statusCommand(_ config: String, _ directory: TemporaryDirectory) async throws -> Int32 {
        try await BinaryProcess.run(["status", "--config", config], directory: directory, timeout: 30).status
    }

    @Test("syncs, goes idle, rewrites its status while idle, picks up new and updated events within a poll interval; SIGHUP is ignored; SIGTERM while idle stops it")
    func pollsAndStops() async throws {
        let stub = try await startStub(events: 3000, bigTie: 30)
        let directory = try TemporaryDirectory("run-poll")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, pageSize: 50, poll: 1)
        let watcher = StatusFileWatcher(path: Self.statusPath(directory))
        defer { _ = watcher.stop() }
        let daemon = try BinaryProcess(["run", "--config", config], directory: directory)

        #expect(try await eventually(timeout: 30) { Self.status(directory)?.state == "idle" }, "\(daemon.stderr)")
        let caughtUp = try await stub.compare(database: Self.databasePath(directory))
        #expect(caughtUp.served == 3000 && caughtUp.isExact, "\(caughtUp)")
        let idle = try #require(Self.status(directory))
        #expect(idle.healthy == true && idle.consecutiveFailures == 0 && idle.isNull("lastError"), "\(idle)")
        #expect(idle.checkpointTimestamp == caughtUp.maxLastUpdated)
        let updatedAt = try #require(idle.updatedAt)
        let lag = try #require(idle.lagSeconds)
        #expect(abs(lag - (updatedAt.timeIntervalSince1970 - Double(caughtUp.maxLastUpdated) / 1000)) < 0.01)
        #expect(idle.totals["eventsInserted"] == 3000 && idle.databaseEvents == 3000 && idle.totals["requestsFailed"] == 0)
        #expect((idle.totals["pagesFetched"] ?? 0) >= 60)
        #expect(idle.pid == daemon.pid && idle.date("nextAttemptAt") != nil && idle.date("lastSuccessAt") != nil)
        #expect(try await Self.statusCommand(config, directory) == 0)

        // Idle, it still rewrites the file, so updatedAt proves it is alive.
        #expect(try await eventually(timeout: 5) { (Self.status(directory)?.updatedAt ?? .distantPast) > updatedAt.addingTimeInterval(0.9) })

        // Changes on the server are mirrored within about one poll interval (1 s).
        try await stub.control("events", ["update": 40])
        try await stub.control("events", ["add": 25])
        let took = try await timeUntil(timeout: 15) {
            let comparison = try await stub.compare(database: Self.databasePath(directory))
            return comparison.served == 3025 && comparison.isExact
        }
        let afterPickup = try await stub.compare(database: Self.databasePath(directory))
        let pickup = try #require(took, "new and updated events not mirrored: \(afterPickup)")
        #expect(pickup < 3, "picked up after \(pickup) s with a 1 s poll interval")
        #expect(try await eventually(timeout: 5) {
            Self.status(directory).map { $0.totals["eventsInserted"] == 3025 && $0.totals["eventsUpdated"] == 40 && $0.databaseEvents == 3025 } == true
        }, "\(String(describing: Self.status(directory)))")

        // SIGHUP: logged and ignored; it keeps polling.
        daemon.signal(SIGHUP)
        #expect(try await eventually(timeout: 5) { daemon.stderr.contains("SIGHUP ignored") })
        try await stub.control("events", ["add": 5])
        #expect(try await eventually(timeout: 10) { try await stub.compare(database: Self.databasePath(directory)).isExact })
        #expect(daemon.process.isRunning)

        try await Self.stop(daemon, directory)
        #expect(try await eventually(timeout: 5) { watcher.current.states.last == "stopped" })
        let tally = watcher.stop()
        #expect(tally.invalid.isEmpty && tally.vanished == 0, "reads that were not a whole status file: \(tally.invalid)")
        #expect(tally.states.first == "syncing" && tally.states.contains("idle"), "\(tally.states)")
        #expect(tally.distinctUpdates > 10)
        #expect(!daemon.stderr.contains(stub.apiKey) && !(Self.status(directory)?.raw.contains(stub.apiKey) ?? true))
    }

    @Test("a run of 503s: backoff with the error, unhealthy once the last success is stale, then healthy again")
    func survivesThrottling() async throws {
        let stub = try await startStub(events: 200, bigTie: 20)
        let directory = try TemporaryDirectory("run-503")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, poll: 1, status: #","staleAfterSeconds":3"#)
        let daemon = try BinaryProcess(["run", "--config", config], directory: directory)
        #expect(try await eventually(timeout: 30) { Self.status(directory).map { $0.state == "idle" && $0.healthy == true } == true })

        try await stub.inject([["kind": "status", "status": 503, "retryAfter": "1", "count": 6, "message": "queue full"]])
        #expect(try await eventually(timeout: 10) { Self.status(directory).map { $0.state == "backoff" && $0.lastErrorStatus == 503 } == true })
        let backoff = try #require(Self.status(directory))
        #expect(backoff.lastError?["kind"] as? String == "throttled" && (backoff.consecutiveFailures ?? 0) >= 1, "\(backoff)")
        #expect((backoff.lastError?["message"] as? String)?.contains("queue full") == true)
        #expect(backoff.date("nextAttemptAt") != nil)

        // No success for longer than staleAfterSeconds: unhealthy, and `status` says so.
        #expect(try await eventually(timeout: 10) { Self.status(directory)?.healthy == false }, "\(String(describing: Self.status(directory)))")
        let unhealthy = try #require(Self.status(directory))
        #expect(unhealthy.state == "backoff" && (unhealthy.consecutiveFailures ?? 0) >= 3, "\(unhealthy)")
        #expect(try await Self.statusCommand(config, directory) == 1)

        // The 503s end: healthy again; the failures reset, the last error stays.
        #expect(try await eventually(timeout: 15) { Self.status(directory).map { $0.healthy == true && $0.state == "idle" } == true })
        let recovered = try #require(Self.status(directory))
        #expect(recovered.consecutiveFailures == 0 && recovered.lastErrorStatus == 503, "\(recovered)")
        #expect(recovered.totals["requestsFailed"] == 6)
        #expect(try await Self.statusCommand(config, directory) == 0)
        try await stub.control("events", ["add": 10])
        #expect(try await eventually(timeout: 10) { try await stub.compare(database: Self.databasePath(directory)).isExact })
        #expect(daemon.stderr.contains("HTTP 503"))
        try await Self.stop(daemon, directory)
    }

    @Test("SIGTERM or SIGINT during a backoff sleep: the slow retry after a 401 period, and a 503's Retry-After", arguments: [401, 503])
    func stopsDuringBackoff(status: Int) async throws {
        let stub = try await startStub(events: 100, bigTie: 10)
        let directory = try TemporaryDirectory("run-backoff")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, poll: 1)
        let daemon = try BinaryProcess(["run", "--config", config], directory: directory)
        #expect(try await eventually(timeout: 30) { Self.status(directory)?.state == "idle" })

        if status == 401 {
            try await stub.control("api-key", ["key": "rotated-key"])  // the key is revoked: a 401 period
        } else {
            try await stub.inject([["kind": "status", "status": 503, "retryAfter": "120"]])
        }
        #expect(try await eventually(timeout: 10) { Self.status(directory).map { $0.state == "backoff" && $0.lastErrorStatus == status } == true },
                "\(String(describing: Self.status(directory)))\n\(daemon.stderr)")
        let backoff = try #require(Self.status(directory))
        let wait = try #require(backoff.date("nextAttemptAt")).timeIntervalSince(try #require(backoff.updatedAt))
        if status == 401 {
            // Needs a human: unhealthy at once, retried slowly (max(poll, 300 s)), still running.
            #expect(backoff.healthy == false && backoff.lastError?["kind"] as? String == "authentication", "\(backoff)")
            #expect(wait > 295 && wait < 300.5, "\(wait)")  // later rewrites only refresh updatedAt
            #expect(daemon.stderr.contains("authentication failed (HTTP 401)") && daemon.stderr.contains("next attempt in 300 s"))
            #expect(try await Self.statusCommand(config, directory) == 1)
        } else {
            #expect(backoff.healthy == true && wait > 115 && wait < 120.5, "\(backoff)")
        }
        // Waiting, it makes no requests but keeps its status fresh.
        let requests = try await stub.requests().count
        #expect(try await eventually(timeout: 5) { (Self.status(directory)?.updatedAt ?? .distantPast) > backoff.updatedAt!.addingTimeInterval(0.9) })
        #expect(Self.status(directory)?.state == "backoff" && daemon.process.isRunning)
        #expect(try await stub.requests().count == requests)

        try await Self.stop(daemon, directory, signal: status == 401 ? SIGTERM : SIGINT)
        #expect(Self.status(directory)?.lastErrorStatus == status)
        #expect(!daemon.stderr.contains("rotated-key") && !(Self.status(directory)?.raw.contains("rotated-key") ?? true))
    }

    @Test("SIGTERM during a hanging request: exits at once, the watchdog was petted all through the hang")
    func stopsDuringHang() async throws {
        let stub = try await startStub(events: 100, bigTie: 10)
        let directory = try TemporaryDirectory("run-hang")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, poll: 1, api: #","requestTimeoutSeconds":60"#)
        let socket = try NotifySocket(path: directory.file("notify.sock"))
        defer { socket.stop() }
        try await stub.inject([["kind": "hang", "seconds": 60]])
        let daemon = try BinaryProcess(["run", "--config", config], environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "200000"],
                                       directory: directory)

        #expect(try await eventually(timeout: 20) { try await stub.requests().first?["fault"] as? String == "hang" })
        let before = socket.messages(with: "WATCHDOG=1").count
        try await Task.sleep(nanoseconds: 1_000_000_000)
        #expect(socket.messages(with: "WATCHDOG=1").count - before >= 4, "a slow request is not a stuck loop")
        #expect(Self.status(directory)?.state == "syncing")
        #expect(try await stub.requests().count == 1)

        try await Self.stop(daemon, directory)
        #expect(try await eventually(timeout: 2) { !socket.messages(with: "STOPPING=1").isEmpty })
        let comparison = try await stub.compare(database: Self.databasePath(directory))
        #expect(comparison.stored == 0 && comparison.extra == 0)

        let again = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 60)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await stub.compare(database: Self.databasePath(directory)).isExact)
    }

    @Test("SIGTERM in the middle of a catch-up of many pages: exits at once with what it committed intact; a restart finishes exactly")
    func stopsDuringCatchUp() async throws {
        let stub = try await startStub(events: 6000, bigTie: 15)
        let directory = try TemporaryDirectory("run-catchup")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, pageSize: 20, poll: 1)
        // Every answer arrives in two halves 50 ms apart: a catch-up of 300 pages takes 15 s or
        // more, so SIGTERM surely lands in it (often in the middle of a body).
        try await stub.inject([["kind": "trickle", "seconds": 0.1, "count": 100_000]])
        let daemon = try BinaryProcess(["run", "--config", config], directory: directory)

        #expect(try await eventually(timeout: 30) { (Self.status(directory)?.totals["pagesFetched"] ?? 0) >= 15 })
        #expect(Self.status(directory)?.state == "syncing")
        try await Self.stop(daemon, directory)
        try await stub.control("faults/clear", [:])
        let stopped = try #require(Self.status(directory))
        let partial = try await stub.compare(database: Self.databasePath(directory))
        #expect(partial.missing > 0, "stopped before the end of the catch-up: \(partial)")
        #expect(partial.extra == 0 && partial.stale == 0 && partial.differentBytes == 0, "\(partial)")
        #expect(partial.stored == stopped.databaseEvents, "the status counts what was committed: \(stopped)")

        // The checkpoint covers only committed pages: the rest comes on the next run.
        let database = try Database(path: Self.databasePath(directory))
        let checkpoint = try #require(try database.scalarInt("SELECT checkpoint_last_updated FROM sync_state"))
        #expect(checkpoint == stopped.checkpointTimestamp)
        #expect(try database.scalarInt("SELECT max(last_updated_timestamp) FROM events") == checkpoint)

        let restarted = try BinaryProcess(["run", "--config", config], directory: directory)
        #expect(try await eventually(timeout: 60) { Self.status(directory).map { $0.state == "idle" && $0.pid == restarted.pid } == true })
        let complete = try await stub.compare(database: Self.databasePath(directory))
        #expect(complete.served == 6000 && complete.isExact, "\(complete)")
        try await Self.stop(restarted, directory)
    }

    @Test("kill -9 at arbitrary moments of a catch-up; restarted with run or once, nothing is lost or doubled")
    func survivesKill9() async throws {
        let stub = try await startStub(events: 10_000, bigTie: 15)
        let directory = try TemporaryDirectory("run-kill9")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub, pageSize: 20, poll: 1)
        var delays: [Double] = []
        var stored: [Int64] = []
        var killedIn: [String] = []
        for round in 0..<5 {
            let command = round % 2 == 0 ? "run" : "once"
            let delay = Double.random(in: 0.05...0.6)
            delays.append(delay)
            let child = try BinaryProcess([command, "--config", config], directory: directory)
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            child.signal(SIGKILL)
            _ = try await child.wait(timeout: 10)
            // Whatever the moment, the status file is whole and the database consistent.
            if FileManager.default.fileExists(atPath: Self.statusPath(directory)) {
                let status = Self.status(directory)
                #expect(status != nil, "round \(round) after \(delay) s: status file not valid JSON")
                killedIn.append(status?.state ?? "invalid")
            }
            guard FileManager.default.fileExists(atPath: Self.databasePath(directory)) else { continue }
            do {
                let database = try Database(path: Self.databasePath(directory))
                #expect(try database.scalarString("PRAGMA integrity_check") == "ok")
                stored.append(try database.scalarInt("SELECT count(*) FROM events") ?? 0)
            }
            let comparison = try await stub.compare(database: Self.databasePath(directory))
            #expect(comparison.extra == 0 && comparison.differentBytes == 0, "round \(round) (\(command), \(delay) s): \(comparison)")
            if round == 2 {
                // The server moves on between crashes.
                try await stub.control("events", ["update": 30])
                try await stub.control("events", ["add": 20])
            }
        }
        #expect(stored == stored.sorted(), "rows never go away: \(stored), kills after \(delays)")
        #expect(killedIn.contains("syncing"), "some kills land in the catch-up: \(killedIn) after \(delays) s")

        let final = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 120)
        #expect(final.status == 0, "\(final.stderr)")
        let comparison = try await stub.compare(database: Self.databasePath(directory))
        #expect(comparison.served == 10_020 && comparison.isExact, "\(comparison); kills after \(delays) s")
    }
}
