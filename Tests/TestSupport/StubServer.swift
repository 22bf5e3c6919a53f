import Foundation

/// The Python stub Argus server (`Tests/Fixtures/argus_stub.py`) run as a child process on
/// 127.0.0.1, for end-to-end tests through URLSession and the real binary.
public final class StubServer: @unchecked Sendable {
    // @unchecked: all stored properties are set once in init and only read afterwards.
    public let port: Int
    public let apiKey: String
    private let process: Process
    private let stdin: Pipe

    /// The repository's root, found from this source file's path.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var scriptPath: String { repositoryRoot + "/Tests/Fixtures/argus_stub.py" }

    /// The built `argus-event-sync` binary beside the test bundle.
    public static var binaryPath: String {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle.appendingPathComponent("argus-event-sync"),
                          bundle.deletingLastPathComponent().appendingPathComponent("argus-event-sync")] {
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        return repositoryRoot + "/.build/debug/argus-event-sync"
    }

    /// Starts the stub and waits until it listens.
    public init(events: Int = 1000, bigTie: Int = 2500, updates: Int? = nil, seed: Int = 1, apiKey: String = "test-key",
                baseTime: Int64? = nil) throws {
        self.apiKey = apiKey
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", Self.scriptPath, "--port", "0", "--events", "\(events)", "--seed", "\(seed)",
                         "--api-key", apiKey, "--big-tie", "\(bigTie)", "--exit-on-stdin-eof"]
        if let updates { arguments += ["--updates", "\(updates)"] }
        if let baseTime { arguments += ["--base-time", "\(baseTime)"] }
        process.arguments = arguments
        let output = Pipe()
        stdin = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let portText = text.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines),
              text.hasPrefix("LISTENING"), let port = Int(portText) else {
            ChildProcess.kill(process)
            throw StubError(message: "stub server did not start: \(text)")
        }
        self.port = port
    }

    /// Starts the stub on a thread of its own: start-up blocks until it listens (seconds for
    /// 100,000 events), which must not hold a thread of the shared pool.
    public static func start(events: Int = 1000, bigTie: Int = 2500, updates: Int? = nil, seed: Int = 1,
                             apiKey: String = "test-key", baseTime: Int64? = nil) async throws -> StubServer {
        try await onThread {
            try StubServer(events: events, bigTie: bigTie, updates: updates, seed: seed, apiKey: apiKey, baseTime: baseTime)
        }
    }

    deinit { stop() }

    /// Stops the stub: closing its stdin makes it exit (`--exit-on-stdin-eof`); SIGKILL if not.
    public func stop() {
        guard process.isRunning else { return }
        try? stdin.fileHandleForWriting.close()
        if !ChildProcess.awaitExit(process, timeout: 3) { ChildProcess.kill(process) }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public struct StubError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    // MARK: - Control API

    @discardableResult
    public func control(_ path: String, _ body: Any? = nil) async throws -> Any {
        var request = URLRequest(url: URL(string: baseURL + "/_control/" + path)!)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data)
    }

    public func inject(_ faults: [[String: Any]]) async throws {
        try await control("faults", ["faults": faults])
    }

    /// The server's current events: id → (lastUpdatedTimestamp, parsed JSON object).
    /// What the stub found comparing a mirror database with its events, byte for byte.
    public struct Comparison: Sendable, CustomStringConvertible {
        public var served = 0, stored = 0, missing = 0, extra = 0, stale = 0, differentBytes = 0
        public var maxLastUpdated: Int64 = 0
        public var examples: [String] = []
        /// Every served event is stored once, in its latest version, with the exact bytes served.
        public var isExact: Bool { served == stored && missing == 0 && extra == 0 && stale == 0 && differentBytes == 0 }
        public var description: String {
            "served \(served), stored \(stored), missing \(missing), extra \(extra), stale \(stale), "
                + "different bytes \(differentBytes), e.g. \(examples)"
        }
    }

    /// Asks the stub to compare the `events` table of the database at `path` with what it serves.
    public func compare(database path: String) async throws -> Comparison {
        guard let answer = try await control("compare", ["database": path]) as? [String: Any],
              let served = answer["served"] as? Int else {
            throw StubError(message: "compare failed")
        }
        var result = Comparison()
        result.served = served
        result.stored = answer["stored"] as? Int ?? -1
        result.missing = answer["missing"] as? Int ?? -1
        result.extra = answer["extra"] as? Int ?? -1
        result.stale = answer["stale"] as? Int ?? -1
        result.differentBytes = answer["differentBytes"] as? Int ?? -1
        result.maxLastUpdated = (answer["maxLastUpdated"] as? NSNumber)?.int64Value ?? 0
        result.examples = answer["examples"] as? [String] ?? []
        return result
    }

    public func requests() async throws -> [[String: Any]] {
        (try await control("requests") as? [String: Any])?["requests"] as? [[String: Any]] ?? []
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
