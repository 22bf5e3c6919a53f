public import ArgusAPI
import Foundation

/// Prometheus text exposition (version 0.0.4) for node_exporter's textfile collector, written
/// beside every status update and replaced atomically, so the collector never reads half a file.
///
/// Names follow Prometheus conventions: the `argus_event_sync_` prefix, `_total` for counters,
/// base units (`_seconds`, `_bytes`). Counters count since the process started, as the status
/// file's totals do; a restart resets them, which Prometheus's `rate()` handles.
public struct MetricsFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// What the metrics report, beyond the status snapshot.
    public struct Counters: Sendable, Equatable {
        /// Requests by outcome (see `outcome(of:)`).
        public var requests: [String: Int] = [:]
        public var requestSecondsSum: Double = 0
        public var requestCount = 0

        public init() {}

        mutating func recordRequest(outcome: String, seconds: Double) {
            requests[outcome, default: 0] += 1
            requestSecondsSum += max(0, seconds)
            requestCount += 1
        }
    }

    /// Every outcome label, so each series exists (at 0) from the first write.
    public static let outcomes = ["ok", "throttled", "server_error", "client_error", "timeout", "connection_error", "invalid_response"]

    /// The `outcome` label of a failed request.
    public static func outcome(of error: ArgusAPIError) -> String {
        switch error {
        case .throttled: return "throttled"
        case .serverError: return "server_error"
        case .authentication, .permission, .criteriaRejected, .clientError: return "client_error"
        case .timeout: return "timeout"
        case .connection, .nameResolution, .tls: return "connection_error"
        case .responseTooLarge, .invalidResponse: return "invalid_response"
        }
    }

    public func write(_ snapshot: StatusSnapshot, counters: Counters, databaseBytes: Int64?) throws {
        try StatusFile.writeAtomically(Data(Self.render(snapshot, counters: counters, databaseBytes: databaseBytes).utf8),
                                       to: path, mode: 0o644)
    }

    /// The exposition text.
    public static func render(_ s: StatusSnapshot, counters: Counters, databaseBytes: Int64?) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double?)]) {
            let present = samples.compactMap { sample in sample.value.map { (sample.labels, $0) } }
            guard !present.isEmpty else { return }
            out += "# HELP argus_event_sync_\(name) \(help)\n# TYPE argus_event_sync_\(name) \(type)\n"
            for (labels, value) in present {
                out += "argus_event_sync_\(name)\(labels) \(format(value))\n"
            }
        }
        func seconds(_ iso: String?) -> Double? { iso.flatMap(ISO8601.date(from:))?.timeIntervalSince1970 }
        let running = s.state != .stopped && s.state != .failed

        metric("up", "gauge", "1 while the daemon runs, 0 once it has stopped.", [("", running ? 1 : 0)])
        metric("healthy", "gauge", "1 when the last success is recent and no authentication or criteria failure is pending.",
               [("", s.healthy ? 1 : 0)])
        metric("info", "gauge", "Version of the running daemon.", [("{version=\"\(escape(s.version))\"}", 1)])
        metric("state", "gauge", "1 for the current state of the daemon.",
               ServiceState.allCases.map { ("{state=\"\($0.rawValue)\"}", $0 == s.state ? 1 : 0) })
        metric("start_time_seconds", "gauge", "When the process started (Unix time).", [("", seconds(s.startedAt))])
        metric("checkpoint_timestamp_seconds", "gauge",
               "The checkpoint: every event last updated before it is stored (Unix time).",
               [("", s.checkpoint.map { Double($0.lastUpdatedTimestamp) / 1000 })])
        metric("lag_seconds", "gauge", "Now minus the checkpoint.", [("", s.lagSeconds)])
        metric("last_success_timestamp_seconds", "gauge", "When a page or pass last succeeded (Unix time).",
               [("", seconds(s.lastSuccessAt))])
        metric("consecutive_failures", "gauge", "Failed requests since the last success.", [("", Double(s.consecutiveFailures))])
        let t = s.totals
        metric("events_total", "counter", "Events handled since the process started, by what the upsert did.", [
            ("{result=\"inserted\"}", Double(t.eventsInserted)), ("{result=\"updated\"}", Double(t.eventsUpdated)),
            ("{result=\"unchanged\"}", Double(t.eventsUnchanged)), ("{result=\"pruned\"}", Double(t.eventsPruned)),
        ])
        metric("pages_total", "counter", "Search responses received since the process started.", [("", Double(t.pagesFetched))])
        metric("requests_total", "counter", "Search requests since the process started, by outcome.",
               outcomes.map { ("{outcome=\"\($0)\"}", Double(counters.requests[$0] ?? 0)) })
        out += "# HELP argus_event_sync_request_duration_seconds Duration of search requests.\n"
        out += "# TYPE argus_event_sync_request_duration_seconds summary\n"
        out += "argus_event_sync_request_duration_seconds_sum \(format(counters.requestSecondsSum))\n"
        out += "argus_event_sync_request_duration_seconds_count \(counters.requestCount)\n"
        metric("database_size_bytes", "gauge", "Size of the database file and its write-ahead log.",
               [("", databaseBytes.map(Double.init))])
        metric("database_events", "gauge", "Rows in the events table.", [("", s.database.events.map(Double.init))])
        return out
    }

    static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
