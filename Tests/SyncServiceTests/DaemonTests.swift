import ArgusAPI
import EventSync
import Foundation
@testable import SyncService
import Synchronization
import Testing
import TestSupport

/// The daemon in process, where its intervals can be shortened and its clock moved: slow retry
/// after failures that need a human, and the watchdog's liveness rule.
@Suite("Daemon in process")
struct DaemonTests {
    /// Real sleeps, but a `now()` the test can move forward, to make the sync loop look stuck.
    final class ShiftableClock: WallClock {
        private let offset = Mutex<TimeInterval>(0)
        func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
        func sleep(seconds: TimeInterval) async throws { try await SystemClock().sleep(seconds: seconds) }
        func shift(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    }

    /// A server whose every search hangs until cancelled.
    final class HangingTransport: HTTPTransport {
        let requests = Atomic<Int>(0)
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            requests.add(1, ordering: .relaxed)
            try await Task.sleep(nanoseconds: 3_600_000_000_000)
            throw TransportError.timedOut(seconds: request.timeout)
        }
    }

    /// A server that answers every search with 503 and `Retry-After: 300`.
    final class ThrottlingTransport: HTTPTransport {
        let requests = Atomic<Int>(0)
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            requests.add(1, ordering: .relaxed)
            return HTTPResponse(status: 503, headers: ["Retry-After": "300", "Content-Type": "application/json"], body: Data(
                #"{"responseCode":503,"limit":0,"offset":0,"count":0,"size":0,"metaData":{},"messages":[{"type":"ACTION_ERROR","message":"queue full"}],"data":[]}"#.utf8))
        }
    }

    final class LogLines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var logger: Logger { Logger(minimumLevel: .info, environment: [:], write: { line in self.lines.withLock { $0.append(line) } }) }
    }

    static func context(_ directory: TemporaryDirectory, transport: any HTTPTransport, clock: any WallClock = SystemClock(),
                        logger: Logger, onStatus: @escaping @Sendable (StatusSnapshot) -> Void = { _ in }) throws -> ServiceContext {
        let configuration = try StatusFileTests.configuration(directory)
        return try ServiceContext.open(configuration: configuration, retryPolicy: .daemon, logger: logger,
                                       transport: transport, clock: clock, onStatus: onStatus)
    }

    @Test("the slow retry after a failure that needs a human is the poll interval, at least five minutes")
    func slowRetryDefault() throws {
        let directory = try TemporaryDirectory("daemon-slow")
        defer { directory.remove() }
        var configuration = try StatusFileTests.configuration(directory)
        let context = try ServiceContext.open(configuration: configuration, retryPolicy: .daemon, logger: StatusFileTests.quiet,
                                              transport: FakeArgus())
        #expect(Daemon(context: context, notifier: SystemdNotifier(environment: [:]), signals: SignalWatcher([])).slowRetry == 300)
        configuration.pollInterval = 900
        let slower = try ServiceContext.open(configuration: configuration, retryPolicy: .daemon, logger: StatusFileTests.quiet,
                                             transport: FakeArgus())
        #expect(Daemon(context: slower, notifier: SystemdNotifier(environment: [:]), signals: SignalWatcher([])).slowRetry == 900)
    }

    @Test("a period of 401/403/412: keeps running in slow retry, unhealthy with the reason; healthy again after", arguments: [
        (401, "authentication"), (403, "permission"), (412, "criteria-rejected"),
    ])
    func needsAHumanPeriod(status: Int, kind: String) async throws {
        let directory = try TemporaryDirectory("daemon-auth")
        defer { directory.remove() }
        let server = FakeArgus(apiKey: StatusFileTests.apiKey)
        server.add(120, step: 1000)
        let recorder = StatusFileTests.Recorder(path: directory.file("run/status.json"))
        let lines = LogLines()
        let context = try Self.context(directory, transport: server, logger: lines.logger, onStatus: recorder.record)
        var daemon = Daemon(context: context, notifier: SystemdNotifier(environment: [:]), signals: SignalWatcher([]))
        daemon.slowRetry = 0.4
        let running = Task { [daemon] in await daemon.run() }
        defer { running.cancel() }
        let path = context.configuration.statusPath

        #expect(try await eventually(timeout: 10) { StatusJSON(path: path).map { $0.state == "idle" && $0.healthy == true } == true })
        server.inject(.status(status, message: "Invalid field value"), .status(status, message: "Invalid field value"),
                      .status(status, message: "Invalid field value"))

        // Three failed passes, each followed by a slow retry, then a success.
        func period() -> ArraySlice<StatusSnapshot> {
            let snapshots = recorder.snapshots
            return snapshots.firstIndex { $0.lastError != nil }.map { snapshots[$0...] } ?? []
        }
        #expect(try await eventually(timeout: 20) {
            let period = period()
            return period.lastIndex { $0.state == .idle && $0.healthy }.map { idle in
                period[..<idle].contains { $0.state == .backoff }
            } ?? false
        }, "\(recorder.states)")
        let failing = period().filter { $0.state == .backoff }
        #expect(!failing.isEmpty && failing.allSatisfy { !$0.healthy }, "unhealthy throughout the period")
        #expect(failing.map(\.consecutiveFailures).max() == 3)
        let last = try #require(failing.last)
        #expect(last.lastError?.httpStatus == status && last.lastError?.kind == kind, "\(String(describing: last.lastError))")
        #expect(last.lastError?.message.contains("Invalid field value") == true)
        // Each move into backoff schedules the next pass a slow retry away (later writes while
        // waiting only refresh updatedAt).
        let snapshots = Array(period())
        let entered = zip(snapshots, snapshots.dropFirst()).filter { $0.state != .backoff && $1.state == .backoff }.map(\.1)
        let waits = entered.map { snapshot in
            (snapshot.nextAttemptAt.flatMap(parseISO8601) ?? .distantPast).timeIntervalSince(parseISO8601(snapshot.updatedAt) ?? .distantFuture)
        }
        #expect(waits.count == 3 && waits.allSatisfy { abs($0 - 0.4) < 0.05 }, "slow retries, not immediate ones: \(waits)")
        #expect(server.requests.count >= 4)

        let recovered = try #require(StatusJSON(path: path))
        #expect(recovered.healthy == true && recovered.consecutiveFailures == 0)
        #expect(recovered.lastErrorStatus == status, "the last error stays after recovery: \(recovered)")
        #expect(lines.all.filter { $0.contains("sync failed") }.count == 3, "\(lines.all)")
        #expect(!lines.all.contains { $0.contains(StatusFileTests.apiKey) } && !recovered.raw.contains(StatusFileTests.apiKey))

        running.cancel()
        #expect(await running.value == 0)
        #expect(StatusJSON(path: path)?.state == "stopped")
    }

    /// Waits for `count` more WATCHDOG=1 (other tests may hold the shared thread pool for a while,
    /// so this waits for pets rather than counting them over a fixed window).
    static func morePets(_ socket: NotifySocket, _ count: Int) async throws -> Bool {
        let before = socket.messages(with: "WATCHDOG=1").count
        return try await eventually(timeout: 10) { socket.messages(with: "WATCHDOG=1").count >= before + count }
    }

    @Test("watchdog: petted during a slow request and a long backoff, withheld once the loop overruns its promise",
          arguments: ["hang", "backoff"])
    func watchdogLiveness(mode: String) async throws {
        let directory = try TemporaryDirectory("daemon-watchdog")
        defer { directory.remove() }
        let socket = try NotifySocket(path: directory.file("notify.sock"))
        defer { socket.stop() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "100000"])
        let clock = ShiftableClock()
        let hanging = HangingTransport()
        let throttling = ThrottlingTransport()
        let lines = LogLines()
        let context = try Self.context(directory, transport: mode == "hang" ? hanging : throttling, clock: clock, logger: lines.logger)
        let daemon = Daemon(context: context, notifier: notifier, signals: SignalWatcher([]))
        let running = Task { await daemon.run() }
        defer { running.cancel() }

        // The sync loop promises a sign of life within the request timeout (60 s) plus 120 s,
        // or, in a backoff, within the delay (Retry-After: 300 s) plus that.
        let promise: TimeInterval
        if mode == "hang" {
            #expect(try await eventually(timeout: 10) { hanging.requests.load(ordering: .relaxed) == 1 })
            promise = 180
        } else {
            #expect(try await eventually(timeout: 10) { context.board.snapshot().state == .backoff })
            promise = 480
        }
        #expect(try await Self.morePets(socket, 3), "petted during the \(mode)")
        clock.shift(promise - 15)
        #expect(try await Self.morePets(socket, 3), "still within the promise")
        #expect(!lines.all.contains { $0.contains("unresponsive") })

        // Past the promise: the watchdog task keeps running but withholds the keep-alive.
        clock.shift(30)
        #expect(try await eventually(timeout: 10) { lines.all.contains { $0.contains("sync loop unresponsive") } })
        try await Task.sleep(nanoseconds: 100_000_000)  // a keep-alive already on its way
        let withheld = socket.messages(with: "WATCHDOG=1").count
        try await Task.sleep(nanoseconds: 500_000_000)
        #expect(socket.messages(with: "WATCHDOG=1").count == withheld, "a loop past its promise gets no keep-alive")
        // Back within the promise (the clock moved back): petted again.
        clock.shift(-30)
        #expect(try await Self.morePets(socket, 2))
        #expect(hanging.requests.load(ordering: .relaxed) + throttling.requests.load(ordering: .relaxed) == 1)

        running.cancel()
        #expect(await running.value == 0)
        #expect(context.board.snapshot().state == .stopped)
    }
}
