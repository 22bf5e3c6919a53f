import Foundation
@testable import SyncService
import Testing
import TestSupport

/// `argus-event-sync status` through the real binary, as a monitoring check runs it: exit 0
/// healthy and fresh, 1 unhealthy or stale, 3 no readable status file; `--json` prints the file.
@Suite("status command")
struct StatusCommandTests {
    /// A status file as the daemon writes it, updated `age` seconds ago.
    static func snapshot(healthy: Bool = true, state: ServiceState = .idle, age: TimeInterval = 0) -> StatusSnapshot {
        let now = Date()
        return StatusSnapshot(
            state: state, healthy: healthy,
            checkpoint: .init(lastUpdatedTimestamp: 1_800_000_000_000, lastUpdated: ISO8601.string(epochMilliseconds: 1_800_000_000_000)),
            lagSeconds: 12.5, lastSuccessAt: ISO8601.string(from: now.addingTimeInterval(-age - 1)),
            lastAttemptAt: ISO8601.string(from: now.addingTimeInterval(-age - 1)),
            nextAttemptAt: ISO8601.string(from: now.addingTimeInterval(-age + 59)),
            lastError: healthy ? nil : .init(at: ISO8601.string(from: now.addingTimeInterval(-age)),
                                             message: "authentication failed (HTTP 401)", httpStatus: 401, kind: "authentication"),
            consecutiveFailures: healthy ? 0 : 4,
            totals: .init(eventsInserted: 10, eventsUpdated: 2, eventsUnchanged: 3, pagesFetched: 4, requestsFailed: healthy ? 0 : 4),
            database: .init(path: "/var/lib/argus-event-sync/events.db", events: 1234),
            pid: 4242, version: Version.current,
            startedAt: ISO8601.string(from: now.addingTimeInterval(-age - 3600)),
            updatedAt: ISO8601.string(from: now.addingTimeInterval(-age)))
    }

    /// A config whose status file is `status.json` in `directory`; no API key anywhere (the
    /// monitoring user need not have it).
    static func config(_ directory: TemporaryDirectory, staleAfter: Int? = nil) throws -> String {
        let path = directory.file("argus.json")
        let stale = staleAfter.map { #","staleAfterSeconds":\#($0)"# } ?? ""
        try #"""
            {"api":{"baseURL":"https://api.mnemonic.no"},"database":{"path":"events.db"},
             "status":{"path":"status.json"\#(stale)}}
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func status(_ arguments: [String], _ directory: TemporaryDirectory) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await BinaryProcess.run(["status"] + arguments, directory: directory, timeout: 30)
    }

    @Test("healthy and fresh: exit 0 with a summary; --json prints the file byte for byte")
    func healthy() async throws {
        let directory = try TemporaryDirectory("status-ok")
        defer { directory.remove() }
        let config = try Self.config(directory)
        try StatusFile(path: directory.file("status.json")).write(Self.snapshot())

        let summary = try await Self.status(["--config", config], directory)
        #expect(summary.status == 0, "\(summary)")
        #expect(summary.stdout.contains("idle, healthy"))
        #expect(summary.stdout.contains("1234 in /var/lib/argus-event-sync/events.db"))
        #expect(!summary.stdout.contains("STALE") && !summary.stdout.contains("UNHEALTHY"))

        let json = try await Self.status(["--config", config, "--json"], directory)
        #expect(json.status == 0)
        #expect(json.stdout == (try String(contentsOfFile: directory.file("status.json"), encoding: .utf8)))

        let byFile = try await Self.status(["--status-file", directory.file("status.json")], directory)
        #expect(byFile.status == 0, "\(byFile)")
    }

    @Test("unhealthy: exit 1, with the last error shown; --json too")
    func unhealthy() async throws {
        let directory = try TemporaryDirectory("status-bad")
        defer { directory.remove() }
        let config = try Self.config(directory)
        try StatusFile(path: directory.file("status.json")).write(Self.snapshot(healthy: false, state: .backoff))

        let summary = try await Self.status(["--config", config], directory)
        #expect(summary.status == 1, "\(summary)")
        #expect(summary.stdout.contains("backoff, UNHEALTHY"))
        #expect(summary.stdout.contains("HTTP 401") && summary.stdout.contains("4 in a row"))
        let json = try await Self.status(["--config", config, "--json"], directory)
        #expect(json.status == 1)
        #expect(StatusJSON(data: Data(json.stdout.utf8))?.healthy == false)
    }

    @Test("stale: a healthy file older than status.staleAfterSeconds by its updatedAt exits 1")
    func stale() async throws {
        let directory = try TemporaryDirectory("status-stale")
        defer { directory.remove() }
        // Two minutes old: stale for a 60 s limit, fresh for the 600 s default.
        try StatusFile(path: directory.file("status.json")).write(Self.snapshot(age: 120))

        let strict = try Self.config(directory, staleAfter: 60)
        let summary = try await Self.status(["--config", strict], directory)
        #expect(summary.status == 1, "\(summary)")
        #expect(summary.stdout.contains("healthy, STALE (not updated for 12"))
        #expect(summary.stdout.contains("limit 60 s"))
        #expect(try await Self.status(["--config", strict, "--json"], directory).status == 1)

        let lenient = try Self.config(directory)
        #expect(try await Self.status(["--config", lenient], directory).status == 0)
        #expect(try await Self.status(["--status-file", directory.file("status.json")], directory).status == 0)

        // Older than the default too.
        try StatusFile(path: directory.file("status.json")).write(Self.snapshot(age: 601))
        #expect(try await Self.status(["--status-file", directory.file("status.json")], directory).status == 1)

        // An updatedAt that cannot be read proves nothing: stale.
        var odd = Self.snapshot()
        odd.updatedAt = "yesterday"
        try StatusFile(path: directory.file("status.json")).write(odd)
        #expect(try await Self.status(["--config", lenient], directory).status == 1)
    }

    @Test("no readable status file exits 3: missing, a folder, empty, half-written, not a status")
    func unreadable() async throws {
        let directory = try TemporaryDirectory("status-missing")
        defer { directory.remove() }
        let config = try Self.config(directory)
        let path = directory.file("status.json")

        let missing = try await Self.status(["--config", config], directory)
        #expect(missing.status == 3, "\(missing)")
        #expect(missing.stderr.contains("no status file at \(path)"))
        #expect(try await Self.status(["--config", config, "--json"], directory).status == 3)
        #expect(missing.stdout.isEmpty)

        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let folder = try await Self.status(["--status-file", path], directory)
        #expect(folder.status == 3, "\(folder)")
        try FileManager.default.removeItem(atPath: path)

        let full = try Self.snapshot().encoded()
        for content in [Data(), full.prefix(full.count / 2), Data(#"{"state":"idle"}"#.utf8), Data("[]".utf8)] {
            try content.write(to: URL(fileURLWithPath: path))
            let result = try await Self.status(["--config", config, "--json"], directory)
            #expect(result.status == 3, "content \(String(decoding: content, as: UTF8.self)): \(result)")
            #expect(result.stderr.contains("is not valid"))
        }
    }

    @Test("a missing or broken config is a usage error (2), not a health verdict")
    func badConfig() async throws {
        let directory = try TemporaryDirectory("status-config")
        defer { directory.remove() }
        #expect(try await Self.status(["--config", directory.file("nope.json")], directory).status == 2)
        try "{".write(toFile: directory.file("bad.json"), atomically: true, encoding: .utf8)
        #expect(try await Self.status(["--config", directory.file("bad.json")], directory).status == 2)
    }

    @Test("in process: freshness is judged against the given now")
    func inProcessStaleness() throws {
        let directory = try TemporaryDirectory("status-now")
        defer { directory.remove() }
        let config = try Self.config(directory, staleAfter: 30)
        var snapshot = Self.snapshot()
        let updated = Date(timeIntervalSince1970: 1_800_000_000)
        snapshot.updatedAt = ISO8601.string(from: updated)
        try StatusFile(path: directory.file("status.json")).write(snapshot)
        #expect(StatusCommand.run(source: .config(config), json: false, now: updated.addingTimeInterval(30)) == 0)
        #expect(StatusCommand.run(source: .config(config), json: false, now: updated.addingTimeInterval(31)) == 1)
    }
}
