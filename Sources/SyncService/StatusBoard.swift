import ArgusAPI
public import EventSync
public import Foundation
import Synchronization

/// The live health record of this process: fed by the engine's progress and the service's state
/// changes, it rewrites the status file after each change.
///
/// Shared by the sync loop, the signal handler and the idle ticker, so it is a lock around
/// plain state; the file is written inside the lock so two writers never interleave renames.
public final class StatusBoard: Sendable {
    struct State {
        var state: ServiceState = .starting
        var checkpoint: Int64?
        var lastSuccess: Date?
        var lastAttempt: Date?
        var nextAttempt: Date?
        var lastError: StatusSnapshot.ErrorInfo?
        /// A failure only a human can fix (bad key, permission, criteria): unhealthy until a success.
        var blockingFailure = false
        var consecutiveFailures = 0
        var totals = StatusSnapshot.Totals()
        var baseEventCount: Int64?
        var counters = MetricsFile.Counters()
        var writeFailureLogged = false
    }

    private let state = Mutex(State())
    private let file: StatusFile?
    private let metrics: MetricsFile?
    private let databasePath: String
    private let staleAfter: TimeInterval
    private let startedAt: Date
    private let clock: any WallClock
    private let logger: Logger
    private let onUpdate: @Sendable (StatusSnapshot) -> Void

    public init(file: StatusFile?, metrics: MetricsFile? = nil, databasePath: String, staleAfter: TimeInterval,
                clock: any WallClock, logger: Logger, onUpdate: @escaping @Sendable (StatusSnapshot) -> Void = { _ in }) {
        self.file = file
        self.metrics = metrics
        self.databasePath = databasePath
        self.staleAfter = staleAfter
        self.clock = clock
        self.startedAt = clock.now()
        self.logger = logger
        self.onUpdate = onUpdate
    }

    /// Seeds what is known before the first pass: the stored checkpoint and row count.
    public func seed(checkpoint: Int64?, eventCount: Int64) {
        state.withLock {
            $0.checkpoint = checkpoint
            $0.baseEventCount = eventCount
        }
    }

    /// Moves to `newState`; `nextAttempt` is when the next request is due (idle, backoff).
    public func set(_ newState: ServiceState, nextAttempt: Date? = nil) {
        update {
            $0.state = newState
            $0.nextAttempt = nextAttempt
        }
    }

    /// Records the failure that ended a pass. Failed requests were counted as they happened;
    /// a failure of another kind (the database, the paging contract) counts here.
    public func recordFailure(_ error: any Error) {
        let now = clock.now()
        update {
            $0.lastError = Self.errorInfo(error, at: now)
            if let api = (error as? ArgusAPIError) ?? (error as? SyncError)?.apiError {
                $0.blockingFailure = !api.isRetryable
            } else {
                $0.consecutiveFailures += 1
            }
        }
    }

    /// Rewrites the file with nothing changed but `updatedAt` (proof of life while idle).
    public func touch() { update { _ in } }

    /// Feeds one progress report from the engine.
    public func record(_ progress: SyncProgress) {
        let now = clock.now()
        switch progress {
        case .passStarted(_, let checkpoint):
            update {
                $0.state = .syncing
                $0.nextAttempt = nil
                $0.checkpoint = checkpoint ?? $0.checkpoint
            }
        case .requestSucceeded(let duration, _):
            state.withLock {
                $0.lastAttempt = now
                $0.totals.pagesFetched += 1
                $0.counters.recordRequest(outcome: "ok", seconds: duration)
            }
        case .requestFailed(let error, let duration):
            update {
                $0.counters.recordRequest(outcome: MetricsFile.outcome(of: error), seconds: duration)
                $0.lastAttempt = now
                $0.totals.requestsFailed += 1
                $0.consecutiveFailures += 1
                $0.lastError = Self.errorInfo(error, at: now)
                $0.blockingFailure = !error.isRetryable
            }
        case .retrying(_, _, let delay):
            update {
                $0.state = .backoff
                $0.nextAttempt = now.addingTimeInterval(delay)
            }
        case .pageCommitted(let report):
            update {
                $0.state = .syncing
                $0.nextAttempt = nil
                $0.checkpoint = report.checkpoint ?? $0.checkpoint
                $0.lastSuccess = now
                $0.consecutiveFailures = 0
                $0.blockingFailure = false
                $0.totals.eventsInserted += report.counts.inserted
                $0.totals.eventsUpdated += report.counts.updated
                $0.totals.eventsUnchanged += report.counts.unchanged
            }
        case .pruned(let events, _):
            update { $0.totals.eventsPruned += events }
        case .passFinished:
            update { $0.lastSuccess = now }
        case .searchChanged, .readingTieGroup, .tieGroupRestarted, .upkeepFailed, .queryIndexesDeferred, .queryIndexBuilt:
            break
        }
    }

    /// The snapshot as of now.
    public func snapshot() -> StatusSnapshot {
        state.withLock { makeSnapshot($0, now: clock.now()) }
    }

    // MARK: - Internals

    private func update(_ change: (inout State) -> Void) {
        let snapshot = state.withLock { state -> StatusSnapshot in
            change(&state)
            let snapshot = makeSnapshot(state, now: clock.now())
            do {
                try file?.write(snapshot)
                try metrics?.write(snapshot, counters: state.counters, databaseBytes: databaseBytes())
                state.writeFailureLogged = false
            } catch {
                // Logged once per run of failures: a full disk must not flood the journal.
                if !state.writeFailureLogged {
                    logger.error("cannot write the status or metrics file: \(error)")
                    state.writeFailureLogged = true
                }
            }
            return snapshot
        }
        onUpdate(snapshot)
    }

    private func makeSnapshot(_ s: State, now: Date) -> StatusSnapshot {
        let fresh = s.lastSuccess.map { now.timeIntervalSince($0) <= staleAfter } ?? false
        let healthy = fresh && !s.blockingFailure && s.state != .failed
        return StatusSnapshot(
            state: s.state,
            healthy: healthy,
            checkpoint: s.checkpoint.map {
                .init(lastUpdatedTimestamp: $0, lastUpdated: ISO8601.string(epochMilliseconds: $0))
            },
            lagSeconds: s.checkpoint.map { max(0, (now.timeIntervalSince1970 * 1000 - Double($0)) / 1000).rounded3 },
            lastSuccessAt: s.lastSuccess.map(ISO8601.string(from:)),
            lastAttemptAt: s.lastAttempt.map(ISO8601.string(from:)),
            nextAttemptAt: s.nextAttempt.map(ISO8601.string(from:)),
            lastError: s.lastError,
            consecutiveFailures: s.consecutiveFailures,
            totals: s.totals,
            database: .init(path: databasePath, events: s.baseEventCount.map {
                $0 + Int64(s.totals.eventsInserted) - Int64(s.totals.eventsPruned)
            }),
            pid: getpid(),
            version: Version.current,
            startedAt: ISO8601.string(from: startedAt),
            updatedAt: ISO8601.string(from: now)
        )
    }

    /// The database file plus its write-ahead log, as the file system sees them.
    private func databaseBytes() -> Int64? {
        func size(_ path: String) -> Int64? {
            var info = stat()
            return stat(path, &info) == 0 ? Int64(info.st_size) : nil
        }
        guard let main = size(databasePath) else { return nil }
        return main + (size(databasePath + "-wal") ?? 0)
    }

    static func errorInfo(_ error: any Error, at date: Date) -> StatusSnapshot.ErrorInfo {
        let api = (error as? ArgusAPIError) ?? (error as? SyncError)?.apiError
        let kind: String
        if let api {
            kind = (error is SyncError) ? "gave-up-\(api.kind)" : api.kind
        } else if error is SyncError {
            kind = "protocol"
        } else {
            kind = "internal"
        }
        return .init(at: ISO8601.string(from: date), message: "\(error)", httpStatus: api?.httpStatus, kind: kind)
    }
}

extension Double {
    /// Rounded to milliseconds, so the status file does not print 17 digits.
    var rounded3: Double { (self * 1000).rounded() / 1000 }
}
