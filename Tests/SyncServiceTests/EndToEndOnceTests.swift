import Foundation
import SQLiteKit
import Testing
import TestSupport

/// `once` through the real binary, URLSession and the Python stub server on 127.0.0.1.
@Suite("End to end: once against the stub server", .serialized)
struct EndToEndOnceTests {
    /// Writes a config for `stub` into `directory`.
    static func writeConfig(_ directory: TemporaryDirectory, stub: StubServer, extra: String = "", sync: String = "") throws -> String {
        let path = directory.file("argus.json")
        let syncSection = sync.isEmpty ? "" : ", " + sync
        try """
            {"api":{"baseURL":"\(stub.baseURL)","apiKeyFile":"key"\(extra)},
             "sync":{"startTimestamp":0,"pageSize":1000\(syncSection)},
             "database":{"path":"data/events.db"},"status":{"path":"data/status.json"}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try "\(stub.apiKey)\n".write(toFile: directory.file("key"), atomically: true, encoding: .utf8)
        return path
    }

    static func database(_ directory: TemporaryDirectory) -> String { directory.file("data/events.db") }

    @Test("100,000 events with ties and updates land exactly; a second run starts at the checkpoint minus the overlap")
    func fullCatchUp() async throws {
        let stub = try await StubServer.start(events: 100_000, bigTie: 2500)
        let directory = try TemporaryDirectory("e2e-once")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)

        let first = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 300)
        #expect(first.status == 0, "stderr: \(first.stderr)")

        let comparison = try await stub.compare(database: Self.database(directory))
        #expect(comparison.served == 100_000)
        #expect(comparison.isExact, "\(comparison)")

        // A second run: starts one overlap (60 s) behind the checkpoint and picks up changes.
        let database = try Database(path: directory.file("data/events.db"))
        let checkpoint = try #require(try database.scalarInt("SELECT checkpoint_last_updated FROM sync_state"))
        #expect(checkpoint == comparison.maxLastUpdated)
        try await stub.control("requests/clear", [:])
        try await stub.control("events", ["add": 25])
        try await stub.control("events", ["update": 40])
        let second = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 120)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        let requests = try await stub.requests()
        let firstBody = try #require(requests.first?["body"] as? [String: Any])
        #expect((firstBody["lastUpdatedTimestamp"] as? NSNumber)?.int64Value == checkpoint - 60_000)
        #expect((firstBody["startTimestamp"] as? NSNumber)?.int64Value == 0)
        let after = try await stub.compare(database: Self.database(directory))
        #expect(after.served == 100_025)
        #expect(after.isExact, "\(after)")
    }

    @Test("faults on the wire are retried: 503 with Retry-After, truncated and short bodies, dropped connections, a hang past the deadline")
    func wireFaults() async throws {
        let stub = try await StubServer.start(events: 3000, bigTie: 1200)
        let directory = try TemporaryDirectory("e2e-faults")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub, extra: #","requestTimeoutSeconds":2"#)
        // Two runs of five faults with one good answer between them: ten failures in a row would
        // outlast `once`'s one-minute retry budget by chance (full jitter), which is not what
        // this test is about. ("mutate" with n 0 answers normally.)
        try await stub.inject([
            ["kind": "status", "status": 503, "retryAfter": "1"], ["kind": "truncate"], ["kind": "short_body"],
            ["kind": "drop"], ["kind": "hang", "seconds": 6], ["kind": "mutate", "n": 0],
            ["kind": "trickle", "seconds": 8], ["kind": "malformed"],
            ["kind": "not_envelope"], ["kind": "missing_fields"], ["kind": "status", "status": 502],
        ])
        let started = Date()
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 120)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 60)
        let comparison = try await stub.compare(database: Self.database(directory))
        #expect(comparison.served == 3000 && comparison.isExact, "\(comparison)")
        #expect(result.stderr.contains("timed out after 2 s"))
        #expect(result.stderr.contains("HTTP 503"))
    }

    @Test("401, 403 and 412 exit 1 at once with the reason; the key never shows", arguments: [
        (401, "authentication failed"), (403, "access denied"), (412, "search criteria rejected"),
    ])
    func permanentFailures(status: Int, text: String) async throws {
        let stub = try await StubServer.start(events: 100)
        let directory = try TemporaryDirectory("e2e-auth")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)
        try await stub.inject([["kind": "status", "status": status, "message": "Invalid field value", "count": 3]])
        let started = Date()
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 60)
        #expect(result.status == 1)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(result.stderr.contains(text) && result.stderr.contains("Invalid field value"))
        #expect(!result.stderr.contains(stub.apiKey))
        let status = try String(contentsOfFile: directory.file("data/status.json"), encoding: .utf8)
        #expect(status.contains("\"state\" : \"failed\"") && !status.contains(stub.apiKey))
        let requests = try await stub.requests()
        #expect(requests.count == 1)
    }

    @Test("a wrong key is refused by the server and reported as an authentication failure")
    func wrongKey() async throws {
        let stub = try await StubServer.start(events: 10, apiKey: "right-key")
        let directory = try TemporaryDirectory("e2e-key")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)
        try "wrong-key".write(toFile: directory.file("key"), atomically: true, encoding: .utf8)
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory)
        #expect(result.status == 1 && result.stderr.contains("HTTP 401"))
        #expect(!result.stderr.contains("wrong-key"))
        let database = try Database(path: directory.file("data/events.db"))
        #expect(try database.scalarInt("SELECT count(*) FROM events WHERE json LIKE '%wrong-key%'") == 0)
    }

    @Test("check-config exits 0 for a good file and 2 with one line for a bad one, creating nothing")
    func checkConfig() async throws {
        let directory = try TemporaryDirectory("e2e-check")
        defer { directory.remove() }
        let good = directory.file("good.json")
        try #"{"api":{"baseURL":"https://api.mnemonic.no"},"database":{"path":"db/e.db"}}"#.write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await BinaryProcess.run(["check-config", "--config", good], environment: ["ARGUS_API_KEY": "k"], directory: directory)
        #expect(ok.status == 0 && ok.stdout.contains("configuration OK"))
        let bad = try await BinaryProcess.run(["check-config", "--config", good], directory: directory)
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("no API key"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("db")))
        let usage = try await BinaryProcess.run(["once"], directory: directory)
        #expect(usage.status == 2 && usage.stderr.contains("once needs --config"))
        let version = try await BinaryProcess.run(["--version"], directory: directory)
        #expect(version.status == 0 && version.stdout.hasPrefix("argus-event-sync "))
    }

    @Test("a database from a newer release is refused with a clear error")
    func newerSchemaRefused() async throws {
        let stub = try await StubServer.start(events: 10)
        let directory = try TemporaryDirectory("e2e-schema")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)
        try FileManager.default.createDirectory(atPath: directory.file("data"), withIntermediateDirectories: true)
        let database = try Database(path: directory.file("data/events.db"))
        try database.setUserVersion(99)
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("schema version 99, newer than"))
    }
}
