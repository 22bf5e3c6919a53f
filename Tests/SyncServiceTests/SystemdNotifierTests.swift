import Foundation
@testable import SyncService
import Testing
import TestSupport

/// sd_notify over a datagram socket the test binds, in process and from `argus-event-sync run`.
@Suite("systemd notify protocol")
struct SystemdNotifierTests {
    /// A socket path short enough for `sun_path` (108 bytes).
    static func socketPath(_ directory: TemporaryDirectory) -> String {
        directory.file("notify.sock")
    }

    static func abstractName() -> String { "argus-event-sync-test-\(UUID().uuidString.prefix(8))" }

    @Test("messages reach a path socket and an abstract one; multi-line text is flattened")
    func sendsDatagrams() async throws {
        let directory = try TemporaryDirectory("notify")
        defer { directory.remove() }
        for socket in [try NotifySocket(path: Self.socketPath(directory)), try NotifySocket(abstract: Self.abstractName())] {
            defer { socket.stop() }
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
            #expect(notifier.isEnabled)
            notifier.ready(status: "started;\nsyncing")
            notifier.status("idle, 3 events")
            notifier.watchdog()
            notifier.stopping(status: "stopping")
            #expect(try await eventually(timeout: 5) { socket.messages.count == 4 })
            #expect(socket.messages.map(\.text) == [
                "READY=1\nSTATUS=started; syncing", "STATUS=idle, 3 events", "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping",
            ], "via \(socket.address)")
        }
    }

    @Test("without NOTIFY_SOCKET, or with nobody listening, sending is a harmless no-op")
    func disabled() throws {
        let none = SystemdNotifier(environment: [:])
        #expect(!none.isEnabled && !none.send("READY=1") && none.watchdogInterval == nil)
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]).isEnabled)
        let directory = try TemporaryDirectory("notify-gone")
        defer { directory.remove() }
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": directory.file("nobody.sock")]).send("READY=1"))
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 120)]).send("READY=1"))
    }

    @Test("the watchdog interval is half of WATCHDOG_USEC, and only when WATCHDOG_PID is unset or ours", arguments: [
        (["WATCHDOG_USEC": "200000"], 0.1 as TimeInterval?),
        (["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "\(getpid())"], 30),
        (["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"], nil),
        (["WATCHDOG_USEC": "0"], nil), (["WATCHDOG_USEC": "soon"], nil), ([:], nil),
    ])
    func watchdogInterval(environment: [String: String], expected: TimeInterval?) {
        #expect(SystemdNotifier(environment: environment).watchdogInterval == expected)
    }

    // MARK: - From the daemon

    static func startDaemon(_ directory: TemporaryDirectory, stub: StubServer, socket: NotifySocket,
                            environment: [String: String] = [:], launcher: [String] = []) throws -> BinaryProcess {
        let config = try writeDaemonConfig(directory, stub: stub)
        return try BinaryProcess(["run", "--config", config],
                                 environment: ["NOTIFY_SOCKET": socket.address].merging(environment) { $1 },
                                 directory: directory, launcher: launcher)
    }

    @Test("run: READY=1 after the database is open, STATUS= summaries, WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 on SIGTERM")
    func daemonLifecycle() async throws {
        let stub = try await startStub(events: 300, bigTie: 20)
        let directory = try TemporaryDirectory("notify-run")
        defer { directory.remove() }
        let socket = try NotifySocket(path: Self.socketPath(directory))
        defer { socket.stop() }
        let daemon = try Self.startDaemon(directory, stub: stub, socket: socket, environment: ["WATCHDOG_USEC": "200000"])

        #expect(try await eventually(timeout: 20) { !socket.messages(with: "READY=1").isEmpty })
        let first = try #require(socket.messages.first)
        #expect(first.lines.first == "READY=1", "READY=1 comes first: \(socket.messages.map(\.text))")
        #expect(first.lines.contains { $0.hasPrefix("STATUS=") })
        #expect(FileManager.default.fileExists(atPath: directory.file("data/events.db")))

        // Caught up: a summary names the state and the row count.
        #expect(try await eventually(timeout: 20) { socket.statusLines.contains { $0.hasPrefix("idle") && $0.contains("300 events") } },
                "\(socket.statusLines)")
        #expect(socket.statusLines.allSatisfy { !$0.contains("\n") })

        // Half of 200 ms: about ten a second (counted by arrival time, whenever this task runs).
        let windowStart = Date()
        let windowEnd = windowStart.addingTimeInterval(1)
        #expect(try await eventually(timeout: 10) { socket.messages.contains { $0.at > windowEnd } })
        let pets = socket.messages(with: "WATCHDOG=1").filter { $0.at >= windowStart && $0.at < windowEnd }.count
        #expect(pets >= 5 && pets <= 15, "\(pets) WATCHDOG=1 in one second")

        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 10) == 0, "\(daemon.stderr)")
        #expect(try await eventually(timeout: 2) { !socket.messages(with: "STOPPING=1").isEmpty })
        let stopping = try #require(socket.messages(with: "STOPPING=1").first)
        #expect(socket.messages.last { $0.lines.contains("READY=1") }.map { $0.at <= stopping.at } == true)
        #expect(socket.messages(with: "READY=1").count == 1)
    }

    @Test("a bad configuration exits 2 without READY=1")
    func noReadyOnBadConfig() async throws {
        let directory = try TemporaryDirectory("notify-bad")
        defer { directory.remove() }
        let socket = try NotifySocket(path: Self.socketPath(directory))
        defer { socket.stop() }
        try #"{"api":{"baseURL":"http://127.0.0.1:9"},"database":{"path":"e.db"},"sync":{"pollEvery":1}}"#
            .write(toFile: directory.file("bad.json"), atomically: true, encoding: .utf8)
        let result = try await BinaryProcess.run(["run", "--config", directory.file("bad.json")],
                                                 environment: ["NOTIFY_SOCKET": socket.address, "ARGUS_API_KEY": "k"],
                                                 directory: directory, timeout: 30)
        #expect(result.status == 2 && result.stderr.contains("sync.pollEvery"), "\(result.stderr)")
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(socket.messages(with: "READY=1").isEmpty)
    }

    @Test("run speaks to an abstract socket too")
    func abstractSocket() async throws {
        let stub = try await startStub(events: 50, bigTie: 5)
        let directory = try TemporaryDirectory("notify-abstract")
        defer { directory.remove() }
        let socket = try NotifySocket(abstract: Self.abstractName())
        defer { socket.stop() }
        let daemon = try Self.startDaemon(directory, stub: stub, socket: socket, environment: ["WATCHDOG_USEC": "200000"])
        #expect(try await eventually(timeout: 20) { !socket.messages(with: "READY=1").isEmpty && !socket.messages(with: "WATCHDOG=1").isEmpty })
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 10) == 0, "\(daemon.stderr)")
        #expect(try await eventually(timeout: 2) { !socket.messages(with: "STOPPING=1").isEmpty })
    }

    @Test("WATCHDOG_PID: pets when it names the daemon, stays silent when it names another process or USEC is unset",
          arguments: ["self", "other", "unset"])
    func watchdogPID(mode: String) async throws {
        let stub = try await startStub(events: 50, bigTie: 5)
        let directory = try TemporaryDirectory("notify-pid")
        defer { directory.remove() }
        let socket = try NotifySocket(path: Self.socketPath(directory))
        defer { socket.stop() }
        let launcher: [String]
        var environment: [String: String] = ["WATCHDOG_USEC": "200000"]
        switch mode {
        case "self": launcher = ["/bin/sh", "-c", "export WATCHDOG_PID=$$; exec \"$@\"", "sh"]  // exec keeps the pid
        case "other": launcher = []; environment["WATCHDOG_PID"] = "1"
        default: launcher = []; environment = [:]
        }
        let daemon = try Self.startDaemon(directory, stub: stub, socket: socket, environment: environment, launcher: launcher)
        #expect(try await eventually(timeout: 20) { socket.statusLines.contains { $0.hasPrefix("idle") } })
        try await Task.sleep(nanoseconds: 600_000_000)
        let pets = socket.messages(with: "WATCHDOG=1").count
        if mode == "self" {
            #expect(pets >= 3, "\(pets)")
        } else {
            #expect(pets == 0, "\(pets)")
        }
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 10) == 0, "\(daemon.stderr)")
    }

    @Test("logs: one line per event, with a <N> syslog priority when JOURNAL_STREAM is set, timestamps otherwise")
    func journalPrefixes() async throws {
        let stub = try await startStub(events: 50, bigTie: 5)
        let directory = try TemporaryDirectory("notify-journal")
        defer { directory.remove() }
        let config = try writeDaemonConfig(directory, stub: stub)
        try await stub.inject([["kind": "status", "status": 503, "retryAfter": "0"]])
        let journal = try await BinaryProcess.run(["once", "--config", config], environment: ["JOURNAL_STREAM": "8:12345"],
                                                  directory: directory, timeout: 60)
        #expect(journal.status == 0, "\(journal.stderr)")
        let lines = journal.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.range(of: #"^<[0-7]>[^<]"#, options: .regularExpression) != nil }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<4>") && $0.contains("HTTP 503") }, "a warning for the retry: \(lines)")
        #expect(lines.contains { $0.hasPrefix("<6>") && $0.contains("synced") })

        try await stub.control("events", ["add": 3])
        let plain = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 60)
        #expect(plain.status == 0)
        let plainLines = plain.stderr.split(separator: "\n")
        #expect(!plainLines.isEmpty)
        #expect(plainLines.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\dT[0-9:.]+Z (info|notice|warning|error) argus-event-sync: "#,
                                                 options: .regularExpression) != nil }, "\(plainLines)")
    }
}
