import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Running it for months, through the real binary against the stub server: the online key
/// check, the metrics file, retention, the expired-key status, and backups while `run` writes.
@Suite("End to end: operations", .serialized)
struct OperationsEndToEndTests {
    static func writeConfig(_ directory: TemporaryDirectory, stub: StubServer, baseURL: String? = nil,
                            extra: String = "") throws -> String {
        let path = directory.file("argus.json")
        try """
            {"api":{"baseURL":"\(baseURL ?? stub.baseURL)","apiKeyFile":"key","requestTimeoutSeconds":5},
             "sync":{"startTimestamp":0,"pageSize":200,"pollIntervalSeconds":1},
             "database":{"path":"data/events.db"},"status":{"path":"data/status.json"}\(extra)}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        try "\(stub.apiKey)\n".write(toFile: directory.file("key"), atomically: true, encoding: .utf8)
        return path
    }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    // MARK: - check-config --online

    enum KeyProblem: String, CaseIterable, Sendable {
        case none, wrongKey, expired, foreignNetwork, permission, criteria, tls
    }

    @Test("check-config --online reports each failure distinctly, in one line, exit 1; a good key and search exit 0",
          arguments: KeyProblem.allCases)
    func onlineCheck(problem: KeyProblem) async throws {
        let stub = try await StubServer.start(events: 300)
        let directory = try TemporaryDirectory("e2e-online")
        defer { directory.remove() }
        let https = stub.baseURL.replacingOccurrences(of: "http://", with: "https://")
        let config = try Self.writeConfig(directory, stub: stub, baseURL: problem == .tls ? https : nil)
        let expected: String
        switch problem {
        case .none: expected = "300 events match"
        case .wrongKey:
            try "not-the-key".write(toFile: directory.file("key"), atomically: true, encoding: .utf8)
            expected = "authentication failed (HTTP 401): Authentication failed: check the API key"
        case .expired:
            try await stub.control("api-key", ["expired": true])
            expected = "the API key has expired"
        case .foreignNetwork:
            try await stub.control("api-key", ["sourceDenied": true])
            expected = "not allowed from this host's network"
        case .permission:
            try await stub.inject([["kind": "status", "status": 403, "message": "Missing permission eventLookup"]])
            expected = "access denied (HTTP 403): Missing permission eventLookup"
        case .criteria:
            try await stub.inject([["kind": "status", "status": 412, "message": "Unknown customer", "field": "customer"]])
            expected = "search criteria rejected (HTTP 412): customer: Unknown customer"
        case .tls:
            expected = "TLS connection to the Argus API failed"
        }
        let result = try await BinaryProcess.run(["check-config", "--config", config, "--online"], directory: directory, timeout: 60)
        if problem == .none {
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("API key          accepted for event-sync"))
            #expect(result.stdout.contains(expected), "stdout: \(result.stdout)")
        } else {
            #expect(result.status == 1, "stdout: \(result.stdout) stderr: \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && result.stderr.contains(expected), "stderr: \(result.stderr)")
        }
        #expect(!result.stderr.contains(stub.apiKey) && !result.stdout.contains(stub.apiKey))
        #expect(!FileManager.default.fileExists(atPath: directory.file("data")), "the online check must not create the database")
    }

    // MARK: - status and metrics

    @Test("an expired key is named as such in the status file's lastError.kind")
    func expiredKeyInStatus() async throws {
        let stub = try await StubServer.start(events: 50)
        let directory = try TemporaryDirectory("e2e-expired")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)
        try await stub.control("api-key", ["expired": true])
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory)
        #expect(result.status == 1 && result.stderr.contains("expired"))
        let status = try Self.json(directory.file("data/status.json"))
        let lastError = try #require(status["lastError"] as? [String: Any])
        #expect(lastError["kind"] as? String == "key-expired")
        #expect(lastError["httpStatus"] as? Int == 401)
        #expect(status["healthy"] as? Bool == false)
    }

    @Test("the metrics file is written with the status file and agrees with it; retention prunes and is counted")
    func metricsMoveWithStatus() async throws {
        // Events updated 3 days ago and up to now: with one day of retention most are pruned.
        let stub = try await StubServer.start(events: 2000, bigTie: 0, baseTime: Int64(Date().timeIntervalSince1970 * 1000) - 3 * 86_400_000)
        let directory = try TemporaryDirectory("e2e-metrics")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub,
                                          extra: #","metrics":{"textfilePath":"textfile/argus.prom"},"retention":{"days":1}"#)
        let result = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 120)
        #expect(result.status == 0, "stderr: \(result.stderr)")

        let status = try Self.json(directory.file("data/status.json"))
        let totals = try #require(status["totals"] as? [String: Int])
        let text = try String(contentsOfFile: directory.file("textfile/argus.prom"), encoding: .utf8)
        var validator = ExpositionValidator()
        #expect(validator.problems(in: text).isEmpty)
        #expect(validator.value("argus_event_sync_events_total", #"{result="inserted"}"#) == Double(totals["eventsInserted"] ?? -1))
        #expect(validator.value("argus_event_sync_events_total", #"{result="pruned"}"#) == Double(totals["eventsPruned"] ?? -1))
        #expect(validator.value("argus_event_sync_pages_total") == Double(totals["pagesFetched"] ?? -1))
        #expect(validator.value("argus_event_sync_up") == 0)  // once has stopped
        #expect(validator.value("argus_event_sync_requests_total", #"{outcome="ok"}"#) == Double(totals["pagesFetched"] ?? -1))

        // Retention: nothing last updated more than a day ago is left, and the rows say so.
        let database = try Database(path: directory.file("data/events.db"))
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
        #expect(try database.scalarInt("SELECT count(*) FROM events WHERE last_updated_timestamp < ?1", [.integer(cutoff - 60_000)]) == 0)
        let rows = try #require(try database.scalarInt("SELECT count(*) FROM events"))
        #expect((totals["eventsPruned"] ?? 0) > 0)
        #expect(Int64((totals["eventsInserted"] ?? 0) - (totals["eventsPruned"] ?? 0)) == rows)
        let databaseInfo = try #require(status["database"] as? [String: Any])
        #expect((databaseInfo["events"] as? NSNumber)?.int64Value == rows)
        #expect(validator.value("argus_event_sync_database_events") == Double(rows))
    }

    // MARK: - backup

    @Test("backup makes an intact copy while run is writing")
    func backupWhileRunning() async throws {
        let stub = try await StubServer.start(events: 20_000, bigTie: 0)
        let directory = try TemporaryDirectory("e2e-backup")
        defer { directory.remove() }
        let config = try Self.writeConfig(directory, stub: stub)
        let daemon = try BinaryProcess(["run", "--config", config], directory: directory)
        defer { daemon.signal(SIGKILL) }
        // Wait until the daemon is part-way through the catch-up.
        let midway = try await eventually(timeout: 120) {
            let status = try? Self.json(directory.file("data/status.json"))
            let totals = status?["totals"] as? [String: Int]
            return (totals?["eventsInserted"] ?? 0) >= 2000
        }
        #expect(midway, "stderr: \(daemon.stderr)")

        let copy = directory.file("copies/events-copy.db")
        try FileManager.default.createDirectory(atPath: directory.file("copies"), withIntermediateDirectories: true)
        let backup = try await BinaryProcess.run(["backup", "--config", config, "--to", copy], directory: directory, timeout: 120)
        #expect(backup.status == 0, "stderr: \(backup.stderr)")
        #expect(backup.stdout.contains("written to \(copy)"))

        // Checked with the sqlite3 shell, as an operator would.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["sqlite3", copy, "PRAGMA integrity_check; SELECT count(*) FROM events; PRAGMA journal_mode;"]
        let output = Pipe()
        check.standardOutput = output
        try check.run()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(ChildProcess.awaitExit(check, timeout: 30) && check.terminationStatus == 0)
        let lines = said.split(separator: "\n").map(String.init)
        #expect(lines.first == "ok", "sqlite3: \(said)")
        #expect((lines.dropFirst().first.flatMap { Int($0) } ?? 0) >= 2000)
        #expect(lines.last == "delete", "the copy is one self-contained file")

        // The daemon was not disturbed, and a second backup to the same file is refused.
        let again = try await BinaryProcess.run(["backup", "--config", config, "--to", copy], directory: directory)
        #expect(again.status == 2 && again.stderr.contains("already exists"))
        let caughtUp = try await eventually(timeout: 120) {
            (try? Self.json(directory.file("data/status.json")))?["state"] as? String == "idle"
        }
        #expect(caughtUp, "stderr: \(daemon.stderr)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30) == 0)
        let comparison = try await stub.compare(database: directory.file("data/events.db"))
        #expect(comparison.isExact, "\(comparison)")
    }
}
