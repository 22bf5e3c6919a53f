public import ArgusAPI
import Foundation

/// Keeps the event store equal to what the search holds: one `syncPass()` reads everything
/// updated since the checkpoint (minus the overlap) and commits it page by page.
///
/// The cursor rules, because the API's `lastUpdatedTimestamp` criterion is inclusive (>=):
/// - the next cursor is the highest `lastUpdatedTimestamp` in a full page, so the events at that
///   timestamp come back and no event sharing it is lost at a page boundary;
/// - a page that holds nothing but the cursor's timestamp is a tie group at least a page long:
///   it is read in one response with a larger limit (`SyncSettings.tieGroupLimit`), and only
///   when even that is full, in offset windows that overlap so an event updated mid-read cannot
///   shift another past us;
/// - a page shorter than its limit ends the pass (the server's `count` is never trusted);
/// - `startTimestamp` stays the configured lower bound on event time, never the cursor.
public actor SyncEngine {
    private let client: ArgusClient
    private let store: EventStore
    private let settings: SyncSettings
    private let retryPolicy: RetryPolicy
    private let clock: any WallClock
    private let progress: @Sendable (SyncProgress) -> Void
    /// When `PRAGMA optimize` last ran (nil: not yet in this process).
    private var lastOptimized: Date?

    public init(client: ArgusClient, store: sending EventStore, settings: SyncSettings, retryPolicy: RetryPolicy,
                clock: any WallClock = SystemClock(), progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) {
        self.client = client
        self.store = store
        self.settings = settings
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.progress = progress
    }

    /// The stored checkpoint.
    public func checkpoint() throws -> Checkpoint? {
        try store.loadCheckpoint()
    }

    public func eventCount() throws -> Int64 {
        try store.eventCount()
    }

    /// Runs `body` with the store, for maintenance that must not race the sync (one owner).
    public func withStore<T: Sendable>(_ body: (EventStore) throws -> T) rethrows -> T {
        try body(store)
    }

    // MARK: - A pass

    /// Catches up to the present. Cancelling the task stops it between pages or aborts the
    /// request in flight; a page's transaction always either commits or rolls back whole.
    /// - Throws: `ArgusAPIError` for failures that need a human (401/403/412, ...),
    ///   `SyncError` when transient failures outlast the retry policy, store errors.
    @discardableResult
    public func syncPass() async throws -> PassSummary {
        var state = try resolveCheckpoint()
        let overlapMs = Int64((settings.overlap * 1000).rounded())
        var cursor = state.lastUpdatedTimestamp.map { $0 - overlapMs } ?? state.startTimestamp
        var summary = PassSummary()
        summary.startCursor = cursor
        summary.checkpoint = state.lastUpdatedTimestamp
        progress(.passStarted(cursor: cursor, checkpoint: state.lastUpdatedTimestamp))

        var query = makeQuery(state, cursor: cursor, limit: settings.pageSize, bulk: false)
        var page = try await fetch(query)
        let backfill = try startBackfillIfEmpty(catchingUp: page.events.count >= query.limit)
        while true {
            let full = page.events.count >= query.limit
            let maxTimestamp = page.maxLastUpdatedTimestamp ?? cursor
            if full && maxTimestamp <= cursor {
                guard maxTimestamp == cursor else {
                    throw SyncError.protocolViolation(
                        "asked for lastUpdatedTimestamp >= \(cursor), got a full page of older events")
                }
                let reused = query.limit >= settings.tieGroupLimit ? page : nil
                page = .empty  // the group is read anew: don't hold this page's memory meanwhile
                let end = try await readTieGroup(at: cursor, firstWindow: reused, state: &state, summary: &summary)
                guard end.full else { break }
                cursor = end.maxTimestamp
                query = makeQuery(state, cursor: cursor, limit: settings.pageSize, bulk: true)
                page = try await fetch(query)
                continue
            }

            // Fetch the next page while this one is committed.
            let next = full ? makeQuery(state, cursor: maxTimestamp, limit: settings.pageSize, bulk: true) : nil
            async let prefetched = fetchIfAny(next)
            try commit(page, full: full, checkpointCandidate: maxTimestamp, state: &state, summary: &summary)
            let nextPage = try await prefetched
            guard let next, let nextPage else { break }
            query = next
            cursor = next.lastUpdatedTimestamp
            page = nextPage
        }
        if backfill { try buildQueryIndexes() }
        upkeep(summary: &summary)
        progress(.passFinished(summary))
        return summary
    }

    /// Reads the whole group of events whose `lastUpdatedTimestamp` is `timestamp`, committing
    /// each window; returns the last window's highest timestamp and whether it was full.
    private func readTieGroup(
        at timestamp: Int64, firstWindow: SearchPage?, state: inout Checkpoint, summary: inout PassSummary
    ) async throws -> (maxTimestamp: Int64, full: Bool) {
        progress(.readingTieGroup(timestamp: timestamp))
        let limit = settings.tieGroupLimit
        let step = max(1, limit - settings.effectiveTieWindowOverlap)
        var restarts = 0
        var reusable = firstWindow
        restart: while true {
            var offset = 0
            var previousIDs: Set<String> = []
            while true {
                let query = makeQuery(state, cursor: timestamp, limit: limit, offset: offset, bulk: true)
                let window: SearchPage
                if let reusable_ = reusable, offset == 0 {
                    window = reusable_
                    reusable = nil
                } else {
                    window = try await fetch(query)
                }
                if offset > 0, !window.events.contains(where: { previousIDs.contains($0.id) }) {
                    // The group lost more members than the windows share: positions moved
                    // too far to be sure nothing slipped between windows. Read it again.
                    restarts += 1
                    guard restarts <= settings.maxTieRestarts else {
                        throw SyncError.protocolViolation(
                            "events sharing lastUpdatedTimestamp \(timestamp) kept changing while being read (\(restarts - 1) re-reads)")
                    }
                    progress(.tieGroupRestarted(timestamp: timestamp, restart: restarts))
                    continue restart
                }
                let full = window.events.count >= limit
                let maxTimestamp = window.maxLastUpdatedTimestamp ?? timestamp
                try commit(window, full: full, checkpointCandidate: maxTimestamp, state: &state, summary: &summary)
                if !full || maxTimestamp > timestamp {
                    return (maxTimestamp, full)
                }
                previousIDs = Set(window.events.lazy.map(\.id))
                offset += step
            }
        }
    }

    /// Commits a page with the checkpoint it earns. The checkpoint never moves backwards
    /// (the overlap re-reads pages from behind it).
    private func commit(_ page: SearchPage, full: Bool, checkpointCandidate: Int64, state: inout Checkpoint,
                        summary: inout PassSummary) throws {
        var newState = state
        if !page.events.isEmpty {
            newState.lastUpdatedTimestamp = max(state.lastUpdatedTimestamp ?? .min, checkpointCandidate)
        }
        let counts = try store.apply(page.events, of: page, checkpoint: newState, now: clock.now())
        state = newState
        summary.pages += 1
        summary.counts += counts
        summary.checkpoint = newState.lastUpdatedTimestamp
        progress(.pageCommitted(PageReport(events: page.events.count, counts: counts,
                                           checkpoint: newState.lastUpdatedTimestamp, full: full)))
        // Retention keeps pace with a catch-up one small batch per page.
        summary.pruned += pruneBatch()
    }

    // MARK: - Backfill

    /// Whether this pass loads without the query indexes: it does when a previous backfill left
    /// them missing, or when a catch-up (a full first page) starts on an empty table and
    /// `settings.deferQueryIndexes` allows dropping them (`EventStore+QueryIndexes.swift`).
    private func startBackfillIfEmpty(catchingUp: Bool) throws -> Bool {
        if try !store.missingQueryIndexes().isEmpty { return true }
        guard settings.deferQueryIndexes, catchingUp, try store.deferQueryIndexes() else { return false }
        progress(.queryIndexesDeferred)
        return true
    }

    /// Builds the query indexes a backfill left out, once it has reached the present.
    private func buildQueryIndexes() throws {
        for name in try store.missingQueryIndexes() {
            let started = clock.now()
            try store.buildQueryIndex(name)
            progress(.queryIndexBuilt(name: name, duration: clock.now().timeIntervalSince(started)))
        }
    }

    // MARK: - Upkeep
    //
    // Upkeep failures (most likely SQLITE_BUSY while someone holds a write lock on the file) are
    // reported and left for the next pass: the events and the checkpoint are committed already,
    // so they must not turn a good pass into a failed one.

    /// Deletes one batch of events older than the retention period; 0 when retention is off.
    private func pruneBatch() -> Int {
        guard let retention = settings.retention else { return 0 }
        let cutoff = clock.now().addingTimeInterval(-retention).epochMilliseconds
        do {
            let deleted = try store.prune(updatedBefore: cutoff, limit: settings.pruneBatchSize)
            if deleted > 0 { progress(.pruned(events: deleted, cutoff: cutoff)) }
            return deleted
        } catch {
            progress(.upkeepFailed(task: "retention", reason: "\(error)"))
            return 0
        }
    }

    /// At the end of a pass: the rest of the retention backlog (in batches), a non-blocking WAL
    /// checkpoint, and now and then fresh statistics for the query planner.
    private func upkeep(summary: inout PassSummary) {
        while true {
            let deleted = pruneBatch()
            summary.pruned += deleted
            if deleted < settings.pruneBatchSize { break }
        }
        do {
            try store.checkpointWAL()
        } catch {
            progress(.upkeepFailed(task: "WAL checkpoint", reason: "\(error)"))
        }
        let now = clock.now()
        guard lastOptimized.map({ now.timeIntervalSince($0) >= settings.optimizeInterval }) ?? true else { return }
        do {
            try store.optimize()
            lastOptimized = now
        } catch {
            progress(.upkeepFailed(task: "PRAGMA optimize", reason: "\(error)"))
        }
    }

    /// Loads the checkpoint, or creates it on the first run (resolving the default start once).
    /// A checkpoint made for other criteria or another start is replaced by a fresh one.
    private func resolveCheckpoint() throws -> Checkpoint {
        let fingerprint = settings.searchFingerprint
        let stored = try store.loadCheckpoint()
        if let stored, stored.searchFingerprint == fingerprint {
            return stored
        }
        if stored != nil { progress(.searchChanged) }
        let start = settings.startTimestamp
            ?? stored?.startTimestamp
            ?? clock.now().addingTimeInterval(-settings.defaultLookback).epochMilliseconds
        let fresh = Checkpoint(lastUpdatedTimestamp: nil, startTimestamp: start, searchFingerprint: fingerprint)
        try store.saveCheckpoint(fresh, at: clock.now())
        return fresh
    }

    private func makeQuery(_ state: Checkpoint, cursor: Int64, limit: Int, offset: Int = 0, bulk: Bool) -> SearchQuery {
        SearchQuery(criteria: settings.criteria, startTimestamp: state.startTimestamp, lastUpdatedTimestamp: cursor,
                    limit: limit, offset: offset, bulk: bulk)
    }

    // MARK: - Fetching with retries

    private nonisolated func fetchIfAny(_ query: SearchQuery?) async throws -> SearchPage? {
        guard let query else { return nil }
        return try await fetch(query)
    }

    /// One search, retried per the policy while the failure is transient.
    private nonisolated func fetch(_ query: SearchQuery) async throws -> SearchPage {
        var attempt = 0
        var firstFailure: Date?
        while true {
            try Task.checkCancellation()
            let started = clock.now()
            do {
                let page = try await client.search(query)
                progress(.requestSucceeded(duration: clock.now().timeIntervalSince(started), events: page.events.count))
                return page
            } catch let error as ArgusAPIError {
                let now = clock.now()
                progress(.requestFailed(error, duration: now.timeIntervalSince(started)))
                guard error.isRetryable else { throw error }
                attempt += 1
                let first = firstFailure ?? now
                firstFailure = first
                let delay = retryPolicy.delay(attempt: attempt, retryAfter: error.retryAfter)
                let elapsed = now.timeIntervalSince(first)
                guard retryPolicy.allowsRetry(elapsed: elapsed, delay: delay) else {
                    throw SyncError.gaveUp(last: error, attempts: attempt, elapsed: elapsed)
                }
                progress(.retrying(error, attempt: attempt, delay: delay))
                try await clock.sleep(seconds: delay)
            }
        }
    }
}
