import ArgusAPI
public import EventSync
public import Foundation

/// `run`: catch up, then poll every `sync.pollIntervalSeconds` until SIGTERM or SIGINT.
///
/// Errors never end it: transient ones are retried inside the engine with backoff; failures
/// that need a human (401/403/412) and any other error put it in a slow retry with the reason in
/// the status file. Structure (as in swift-service-lifecycle): the sync loop, the watchdog, the
/// status ticker and the signal waiter are children of one task group; the first to finish
/// cancels the rest, which interrupts sleeps and the request in flight, while a page's
/// transaction, being synchronous, always commits or rolls back whole.
public struct Daemon: Sendable {
    public let context: ServiceContext
    public let notifier: SystemdNotifier
    public let signals: SignalWatcher
    /// How long to wait before trying again after a failure that needs a human.
    public var slowRetry: TimeInterval
    /// Backoff between failed passes that the engine did not retry (database, protocol).
    public var passRetryPolicy = RetryPolicy(baseDelay: 5, maxDelay: 300)

    public init(context: ServiceContext, notifier: SystemdNotifier, signals: SignalWatcher) {
        self.context = context
        self.notifier = notifier
        self.signals = signals
        self.slowRetry = max(context.configuration.pollInterval, 300)
    }

    private enum Ending: Sendable {
        case signal(Int32)
        case loopEnded
    }

    /// Runs until a signal asks it to stop; returns the exit code (0).
    public func run() async -> Int32 {
        let logger = context.logger
        let board = context.board
        let liveness = context.liveness

        notifier.ready(status: "started; syncing")
        logger.notice("started (version \(Version.current), pid \(getpid())); database \(context.configuration.databasePath)")

        let ending = await withTaskGroup(of: Ending.self) { group -> Ending in
            group.addTask { await syncLoop(liveness: liveness); return .loopEnded }
            group.addTask { await statusTicker(); return .loopEnded }
            if let interval = notifier.watchdogInterval {
                group.addTask { await watchdog(every: interval, liveness: liveness); return .loopEnded }
            }
            group.addTask {
                for await number in signals.signals {
                    if number == SIGHUP {
                        logger.notice("SIGHUP ignored: restart the service to reload the configuration")
                        continue
                    }
                    return .signal(number)
                }
                return .loopEnded
            }
            let first = await group.next() ?? .loopEnded
            if case .signal(let number) = first {
                logger.notice("\(SignalWatcher.name(number)) received: stopping")
                notifier.stopping(status: "stopping")
            }
            group.cancelAll()
            return first
        }
        board.set(.stopped)
        if case .signal = ending {
            logger.notice("stopped")
        } else {
            logger.error("sync loop ended unexpectedly; stopped")
        }
        return 0
    }

    /// Sync passes for as long as the task is not cancelled.
    private func syncLoop(liveness: Liveness) async {
        let configuration = context.configuration
        let clock = context.clock
        let board = context.board
        var failedPasses = 0
        while !Task.isCancelled {
            let waitFor: TimeInterval
            do {
                // A request is bounded by its timeout; the engine's progress moves the promise on.
                liveness.promise(until: clock.now().addingTimeInterval(configuration.requestTimeout + 120))
                try await context.engine.syncPass()
                failedPasses = 0
                waitFor = configuration.pollInterval
                board.set(.idle, nextAttempt: clock.now().addingTimeInterval(waitFor))
                notifier.status(statusLine(board.snapshot()))
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failedPasses += 1
                let needsHuman = (error as? ArgusAPIError).map { !$0.isRetryable } ?? false
                waitFor = needsHuman ? slowRetry : passRetryPolicy.delay(attempt: failedPasses, retryAfter: nil)
                board.recordFailure(error)
                board.set(.backoff, nextAttempt: clock.now().addingTimeInterval(waitFor))
                context.logger.error("sync failed: \(error); next attempt in \(Int(waitFor.rounded(.up))) s")
                notifier.status("backoff: \(error)")
            }
            liveness.promise(until: clock.now().addingTimeInterval(waitFor + 120))
            do {
                try await clock.sleep(seconds: waitFor)
            } catch {
                return
            }
        }
    }

    /// Rewrites the status file at least once per poll interval, so `updatedAt` proves the
    /// process is alive even during a long idle period or backoff.
    private func statusTicker() async {
        let interval = max(1, min(context.configuration.pollInterval, context.configuration.staleAfter / 3))
        while !Task.isCancelled {
            do { try await context.clock.sleep(seconds: interval) } catch { return }
            context.board.touch()
        }
    }

    /// Pets systemd's watchdog while the sync loop keeps its promise.
    private func watchdog(every interval: TimeInterval, liveness: Liveness) async {
        while !Task.isCancelled {
            if liveness.isAlive(at: context.clock.now()) {
                notifier.watchdog()
            } else {
                context.logger.error("sync loop unresponsive: withholding the watchdog keep-alive so systemd restarts the service")
            }
            do { try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000)) } catch { return }
        }
    }

    func statusLine(_ snapshot: StatusSnapshot) -> String {
        var parts = ["\(snapshot.state.rawValue)"]
        if let checkpoint = snapshot.checkpoint { parts.append("checkpoint \(checkpoint.lastUpdated)") }
        if let events = snapshot.database.events { parts.append("\(events) events") }
        return parts.joined(separator: ", ")
    }
}
