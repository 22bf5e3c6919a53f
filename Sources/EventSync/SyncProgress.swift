public import ArgusAPI
public import Foundation

/// What the engine reports as it goes, for the status file, metrics and logs. The engine
/// itself neither logs nor knows about files.
public enum SyncProgress: Sendable {
    /// A pass begins at `cursor` (the checkpoint minus the overlap, or the start timestamp).
    case passStarted(cursor: Int64, checkpoint: Int64?)
    /// The stored checkpoint belongs to other criteria or another start: starting over.
    case searchChanged
    /// A search answered; `duration` in seconds.
    case requestSucceeded(duration: TimeInterval, events: Int)
    case requestFailed(ArgusAPIError, duration: TimeInterval)
    /// A transient failure will be retried after `delay` seconds.
    case retrying(ArgusAPIError, attempt: Int, delay: TimeInterval)
    /// A group of events sharing `timestamp` filled a whole page and is read on its own.
    case readingTieGroup(timestamp: Int64)
    /// A huge tie group shifted under us between offset windows and is re-read.
    case tieGroupRestarted(timestamp: Int64, restart: Int)
    /// A page and the checkpoint were committed.
    case pageCommitted(PageReport)
    /// A catch-up into an empty database began: the query indexes are built when it ends.
    case queryIndexesDeferred
    /// The backfill reached the present and built the query index `name`; `duration` in seconds.
    case queryIndexBuilt(name: String, duration: TimeInterval)
    /// Retention deleted `events` events last updated before `cutoff` (epoch ms).
    case pruned(events: Int, cutoff: Int64)
    /// Retention, a WAL checkpoint or `PRAGMA optimize` failed; tried again after the next pass.
    case upkeepFailed(task: String, reason: String)
    case passFinished(PassSummary)
}

/// One committed page.
public struct PageReport: Sendable, Equatable {
    public var events: Int
    public var counts: UpsertCounts
    public var checkpoint: Int64?
    /// Whether the page was full (more is waiting: the pass is catching up).
    public var full: Bool

    public init(events: Int, counts: UpsertCounts, checkpoint: Int64?, full: Bool) {
        self.events = events
        self.counts = counts
        self.checkpoint = checkpoint
        self.full = full
    }
}

/// What a whole pass did.
public struct PassSummary: Sendable, Equatable {
    public var pages = 0
    public var counts = UpsertCounts()
    /// Events deleted by retention during the pass.
    public var pruned = 0
    public var checkpoint: Int64?
    public var startCursor: Int64 = 0

    public init() {}
}
