import Foundation
@testable import SyncService
import Testing
import TestSupport

/// Checks Prometheus text exposition format 0.0.4 the way the textfile collector parses it.
struct ExpositionValidator {
    struct Sample: Hashable { let name: String; let labels: String }

    var types: [String: String] = [:]
    var samples: [Sample: Double] = [:]

    /// Every problem found in `text`; empty when it is valid.
    mutating func problems(in text: String) -> [String] {
        var problems: [String] = []
        let name = #/[a-zA-Z_:][a-zA-Z0-9_:]*/#
        let label = #/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/#
        guard text.hasSuffix("\n") else { return ["no newline at the end"] }
        var helped: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                guard let family = parts.first, family.wholeMatch(of: name) != nil, helped.insert(String(family)).inserted else {
                    problems.append("bad or repeated HELP: \(line)"); continue
                }
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "summary", "histogram", "untyped"].contains(String(parts[1])),
                      types[String(parts[0])] == nil else {
                    problems.append("bad or repeated TYPE: \(line)"); continue
                }
                if parts[1] == "counter" && !parts[0].hasSuffix("_total") { problems.append("counter without _total: \(line)") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                problems.append("unexpected line: \(line)")
            } else {
                guard let match = line.wholeMatch(of: #/([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/#) else {
                    problems.append("bad sample: \(line)"); continue
                }
                let sampleName = String(match.1)
                let labels = match.2.map(String.init) ?? ""
                if !labels.isEmpty {
                    let inner = labels.dropFirst().dropLast()
                    for pair in inner.split(separator: ",") where pair.wholeMatch(of: label) == nil {
                        problems.append("bad label \(pair) in \(line)")
                    }
                }
                guard let value = Double(match.3) else { problems.append("bad value: \(line)"); continue }
                let family = types.keys.first { sampleName == $0 || sampleName == $0 + "_sum" || sampleName == $0 + "_count" }
                if family == nil { problems.append("sample before its TYPE: \(line)") }
                if !sampleName.hasPrefix("argus_event_sync_") { problems.append("name without the prefix: \(line)") }
                if samples.updateValue(value, forKey: Sample(name: sampleName, labels: labels)) != nil {
                    problems.append("duplicate series: \(line)")
                }
            }
        }
        return problems
    }

    func value(_ name: String, _ labels: String = "") -> Double? { samples[Sample(name: name, labels: labels)] }
}

@Suite("Metrics textfile")
struct MetricsTests {
    static func snapshot(state: ServiceState = .idle, healthy: Bool = true) -> StatusSnapshot {
        var totals = StatusSnapshot.Totals()
        totals.eventsInserted = 120
        totals.eventsUpdated = 7
        totals.eventsUnchanged = 3
        totals.eventsPruned = 11
        totals.pagesFetched = 5
        totals.requestsFailed = 2
        return StatusSnapshot(
            state: state, healthy: healthy, checkpoint: .init(lastUpdatedTimestamp: 1_764_806_400_123, lastUpdated: "2025-12-04T00:00:00.123Z"),
            lagSeconds: 12.5, lastSuccessAt: "2025-12-04T00:00:10.000Z", lastAttemptAt: nil, nextAttemptAt: nil, lastError: nil,
            consecutiveFailures: 2, totals: totals, database: .init(path: "/var/lib/x/events.db", events: 109), pid: 42,
            version: "0.1.0", startedAt: "2025-12-03T00:00:00.000Z", updatedAt: "2025-12-04T00:00:12.000Z")
    }

    @Test("the exposition is valid text format, names follow Prometheus conventions, and the numbers are the status file's")
    func renderedFormat() throws {
        var counters = MetricsFile.Counters()
        counters.recordRequest(outcome: "ok", seconds: 0.25)
        counters.recordRequest(outcome: "ok", seconds: 0.5)
        counters.recordRequest(outcome: "throttled", seconds: 0.125)
        let text = MetricsFile.render(Self.snapshot(), counters: counters, databaseBytes: 4096)
        var validator = ExpositionValidator()
        let problems = validator.problems(in: text)
        #expect(problems.isEmpty, "\(problems)")
        #expect(validator.value("argus_event_sync_up") == 1)
        #expect(validator.value("argus_event_sync_healthy") == 1)
        #expect(validator.value("argus_event_sync_checkpoint_timestamp_seconds") == 1_764_806_400.123)
        #expect(validator.value("argus_event_sync_lag_seconds") == 12.5)
        #expect(validator.value("argus_event_sync_last_success_timestamp_seconds") == 1_764_806_410)
        #expect(validator.value("argus_event_sync_consecutive_failures") == 2)
        #expect(validator.value("argus_event_sync_events_total", #"{result="inserted"}"#) == 120)
        #expect(validator.value("argus_event_sync_events_total", #"{result="pruned"}"#) == 11)
        #expect(validator.value("argus_event_sync_pages_total") == 5)
        #expect(validator.value("argus_event_sync_requests_total", #"{outcome="ok"}"#) == 2)
        #expect(validator.value("argus_event_sync_requests_total", #"{outcome="throttled"}"#) == 1)
        #expect(validator.value("argus_event_sync_requests_total", #"{outcome="timeout"}"#) == 0)
        #expect(validator.value("argus_event_sync_request_duration_seconds_count") == 3)
        #expect(validator.value("argus_event_sync_request_duration_seconds_sum") == 0.875)
        #expect(validator.value("argus_event_sync_database_size_bytes") == 4096)
        #expect(validator.value("argus_event_sync_database_events") == 109)
        #expect(validator.value("argus_event_sync_state", #"{state="idle"}"#) == 1)
        #expect(validator.value("argus_event_sync_state", #"{state="backoff"}"#) == 0)
        #expect(validator.types["argus_event_sync_request_duration_seconds"] == "summary")

        let stopped = MetricsFile.render(Self.snapshot(state: .stopped, healthy: false), counters: counters, databaseBytes: nil)
        var second = ExpositionValidator()
        #expect(second.problems(in: stopped).isEmpty)
        #expect(second.value("argus_event_sync_up") == 0 && second.value("argus_event_sync_healthy") == 0)
        #expect(second.value("argus_event_sync_database_size_bytes") == nil)
    }

    @Test("the validator itself rejects what the textfile collector would reject", arguments: [
        "argus_event_sync_x 1\n", "# TYPE argus_event_sync_x gauge\nargus_event_sync_x one\n",
        "# TYPE argus_event_sync_x counter\nargus_event_sync_x 1\n", "# TYPE argus_event_sync_x gauge\nargus_event_sync_x{a=b} 1\n",
        "# TYPE argus_event_sync_x gauge\nargus_event_sync_x 1\nargus_event_sync_x 2\n", "# TYPE argus_event_sync_x gauge\nargus_event_sync_x 1",
    ])
    func validatorRejects(text: String) {
        var validator = ExpositionValidator()
        #expect(!validator.problems(in: text).isEmpty)
    }

    @Test("promtool accepts the file, when promtool is there (scripts/setup.sh fetches it)")
    func promtool() throws {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool", StubServer.repositoryRoot + "/.tools/promtool"]
        guard let promtool = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            // scripts/setup.sh installs it; the parser test above still checks the format.
            print("promtool not installed: skipping its check")
            return
        }
        var counters = MetricsFile.Counters()
        counters.recordRequest(outcome: "server_error", seconds: 1.5)
        let text = MetricsFile.render(Self.snapshot(), counters: counters, databaseBytes: 1 << 20)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(ChildProcess.awaitExit(process, timeout: 30))
        #expect(process.terminationStatus == 0, "promtool: \(said)")
        #expect(said.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(said)")
    }

    @Test("the file is replaced atomically beside every status update")
    func writtenWithStatus() throws {
        let directory = try TemporaryDirectory("metrics")
        defer { directory.remove() }
        let clock = TestClock()
        let board = StatusBoard(file: StatusFile(path: directory.file("status.json")),
                                metrics: MetricsFile(path: directory.file("argus.prom")),
                                databasePath: directory.file("events.db"), staleAfter: 600, clock: clock,
                                logger: Logger(minimumLevel: .critical, write: { _ in }))
        board.seed(checkpoint: nil, eventCount: 0)
        board.set(.syncing)
        var validator = ExpositionValidator()
        let first = try String(contentsOfFile: directory.file("argus.prom"), encoding: .utf8)
        #expect(validator.problems(in: first).isEmpty)
        #expect(validator.value("argus_event_sync_state", #"{state="syncing"}"#) == 1)
        board.set(.idle)
        validator = ExpositionValidator()
        let second = try String(contentsOfFile: directory.file("argus.prom"), encoding: .utf8)
        #expect(validator.problems(in: second).isEmpty)
        #expect(validator.value("argus_event_sync_state", #"{state="idle"}"#) == 1)
        let leftovers = directory.contents().filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
