import Foundation
import Synchronization
import TestSupport

/// Helpers shared by the status, notify and daemon suites.

/// The keys every status file holds, `null` or not.
let statusKeys: Set<String> = [
    "state", "healthy", "checkpoint", "lagSeconds", "lastSuccessAt", "lastAttemptAt", "nextAttemptAt", "lastError",
    "consecutiveFailures", "totals", "database", "pid", "version", "startedAt", "updatedAt",
]
let totalsKeys: Set<String> = ["eventsInserted", "eventsUpdated", "eventsUnchanged", "eventsPruned", "pagesFetched", "requestsFailed"]
let errorKeys: Set<String> = ["at", "message", "httpStatus", "kind"]

/// The status file parsed as plain JSON (so missing keys and explicit nulls can be told apart).
struct StatusJSON: CustomStringConvertible {
    let object: [String: Any]
    let raw: String

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        self.init(data: data)
    }

    init?(data: Data) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        self.object = object
        raw = String(decoding: data, as: UTF8.self)
    }

    subscript(key: String) -> Any? { object[key] }
    var state: String? { object["state"] as? String }
    var healthy: Bool? { object["healthy"] as? Bool }
    func isNull(_ key: String) -> Bool { object[key] is NSNull }
    var totals: [String: Int] { (object["totals"] as? [String: Any] ?? [:]).compactMapValues { $0 as? Int } }
    var database: [String: Any] { object["database"] as? [String: Any] ?? [:] }
    var databaseEvents: Int? { database["events"] as? Int }
    var lastError: [String: Any]? { object["lastError"] as? [String: Any] }
    var lastErrorStatus: Int? { lastError?["httpStatus"] as? Int }
    var consecutiveFailures: Int? { object["consecutiveFailures"] as? Int }
    var checkpointTimestamp: Int64? {
        ((object["checkpoint"] as? [String: Any])?["lastUpdatedTimestamp"] as? NSNumber)?.int64Value
    }
    var lagSeconds: Double? { (object["lagSeconds"] as? NSNumber)?.doubleValue }
    var pid: Int32? { (object["pid"] as? NSNumber)?.int32Value }
    func date(_ key: String) -> Date? { (object[key] as? String).flatMap(parseISO8601) }
    var updatedAt: Date? { date("updatedAt") }

    var description: String { raw }
}

func parseISO8601(_ text: String) -> Date? {
    try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
}

/// A thread that reads and parses a file in a tight loop, as monitoring would, recording every
/// read that is not a complete JSON object (once the file has appeared) and the states seen.
final class StatusFileWatcher: Sendable {
    struct Tally: Sendable {
        var reads = 0
        var invalid: [String] = []
        var vanished = 0
        var states: [String] = []
        var distinctUpdates = 0
        var lastUpdatedAt = ""
    }

    let path: String
    private let tally = Mutex(Tally())
    private let running = Atomic<Bool>(true)
    private let finished = Atomic<Bool>(false)

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in loop() }
        thread.start()
    }

    private func loop() {
        var seen = false
        while running.load(ordering: .relaxed) {
            guard let data = FileManager.default.contents(atPath: path) else {
                if seen { tally.withLock { $0.vanished += 1 } }
                usleep(200)
                continue
            }
            seen = true
            let status = StatusJSON(data: data)
            tally.withLock { t in
                t.reads += 1
                guard let status, status.object.keys.count == statusKeys.count, let state = status.state else {
                    if t.invalid.count < 5 { t.invalid.append(String(decoding: data.prefix(300), as: UTF8.self)) }
                    return
                }
                if t.states.last != state { t.states.append(state) }
                let updatedAt = status["updatedAt"] as? String ?? ""
                if updatedAt != t.lastUpdatedAt {
                    t.distinctUpdates += 1
                    t.lastUpdatedAt = updatedAt
                }
            }
        }
        finished.store(true, ordering: .releasing)
    }

    /// Stops the thread and returns what it saw.
    func stop() -> Tally {
        running.store(false, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
        return tally.withLock { $0 }
    }

    var current: Tally { tally.withLock { $0 } }
}

/// An AF_UNIX datagram socket bound where `NOTIFY_SOCKET` points (a path, or an abstract name
/// given as `@name`), drained by a thread so that senders never block on a full queue.
final class NotifySocket: Sendable {
    struct Message: Sendable {
        let at: Date
        let text: String
        var lines: [String] { text.split(separator: "\n").map(String.init) }
    }

    /// The value for `NOTIFY_SOCKET`.
    let address: String
    private let fd: Int32
    private let received = Mutex<[Message]>([])
    private let running = Atomic<Bool>(true)
    private let finished = Atomic<Bool>(false)

    struct SocketError: Error, CustomStringConvertible {
        let description: String
    }

    convenience init(path: String) throws {
        try self.init(address: path)
    }

    convenience init(abstract name: String) throws {
        try self.init(address: "@" + name)
    }

    private init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket: \(String(cString: strerror(errno)))") }
        var bytes = Array(address.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        var sockaddress = sockaddr_un()
        sockaddress.sun_family = sa_family_t(AF_UNIX)
        guard bytes.count < MemoryLayout.size(ofValue: sockaddress.sun_path) else {
            close(fd)
            throw SocketError(description: "socket path too long: \(address)")
        }
        withUnsafeMutableBytes(of: &sockaddress.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &sockaddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw SocketError(description: "bind \(address): \(reason)")
        }
        let thread = Thread { [self] in loop() }
        thread.start()
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while running.load(ordering: .relaxed) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { continue }
            let message = Message(at: Date(), text: String(decoding: buffer[..<count], as: UTF8.self))
            received.withLock { $0.append(message) }
        }
        finished.store(true, ordering: .releasing)
    }

    var messages: [Message] { received.withLock { $0 } }

    /// Messages containing `line` as one of their lines (`READY=1`, `WATCHDOG=1`, ...).
    func messages(with line: String) -> [Message] { messages.filter { $0.lines.contains(line) } }

    /// The `STATUS=` texts, in order.
    var statusLines: [String] {
        messages.flatMap(\.lines).filter { $0.hasPrefix("STATUS=") }.map { String($0.dropFirst("STATUS=".count)) }
    }

    func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        while !finished.load(ordering: .acquiring) { usleep(1000) }
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }
}

/// A configuration file for the daemon against `stub`, with the key in a file beside it.
func writeDaemonConfig(_ directory: TemporaryDirectory, stub: StubServer, pageSize: Int = 50, poll: Int = 1,
                       api: String = "", status: String = "") throws -> String {
    let path = directory.file("argus.json")
    try """
        {"api":{"baseURL":"\(stub.baseURL)","apiKeyFile":"key"\(api)},
         "sync":{"startTimestamp":0,"pageSize":\(pageSize),"pollIntervalSeconds":\(poll)},
         "database":{"path":"data/events.db"},"status":{"path":"data/status.json"\(status)}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
    try "\(stub.apiKey)\n".write(toFile: directory.file("key"), atomically: true, encoding: .utf8)
    return path
}

/// Waits for `condition`, returning how long it took; nil on timeout.
func timeUntil(timeout: TimeInterval, _ condition: () async throws -> Bool) async throws -> TimeInterval? {
    let started = Date()
    return try await eventually(timeout: timeout, condition) ? Date().timeIntervalSince(started) : nil
}

/// Starts the stub server off the shared pool (its start-up blocks reading its first line).
func startStub(events: Int, bigTie: Int, apiKey: String = "test-key") async throws -> StubServer {
    try await StubServer.start(events: events, bigTie: bigTie, apiKey: apiKey)
}
