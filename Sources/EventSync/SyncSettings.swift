public import ArgusAPI
public import Foundation

/// What the engine syncs and how it pages; built from the configuration file.
public struct SyncSettings: Sendable {
    /// The user's criteria, merged into every search body.
    public var criteria: [(key: String, value: JSONValue)]
    /// The search's lower bound on event time (epoch ms); nil means "`defaultLookback` before
    /// the first run", resolved once and stored with the checkpoint.
    public var startTimestamp: Int64?
    public var defaultLookback: TimeInterval = 7 * 86_400
    public var pageSize: Int = 1000
    /// Each pass starts this far behind the checkpoint, to catch events indexed late.
    public var overlap: TimeInterval = 60
    /// The largest `limit` the API accepts.
    public var maxLimit: Int = 10_000
    /// How many events consecutive offset windows of a huge tie group share, so that events
    /// leaving the group while it is read (being updated) cannot shift one past us unseen.
    public var tieWindowOverlap: Int = 1000

    /// The `limit` a tie group that fills a page is read with: three pages (at least 1000, at
    /// most the API's largest), so most groups come in one response while memory stays bounded
    /// by a few pages of the configured size. Larger groups are read in offset windows.
    public var tieGroupLimit: Int { min(maxLimit, max(3 * pageSize, 1000)) }

    /// The overlap of tie-group windows, at most a quarter of a window so each one moves on.
    var effectiveTieWindowOverlap: Int { min(tieWindowOverlap, tieGroupLimit / 4) }
    /// How often a huge tie group is re-read from its start when it shifted more than
    /// `tieWindowOverlap` between two windows, before the pass fails (and is retried later).
    public var maxTieRestarts: Int = 5
    /// Events last updated longer ago than this are deleted; nil keeps everything.
    public var retention: TimeInterval?
    /// Events deleted per retention transaction: small, so no write lock is held for long.
    public var pruneBatchSize: Int = 1000
    /// Whether a catch-up into an empty database builds the query indexes once at its end
    /// rather than row by row (queries meanwhile are slower; the load costs half the CPU).
    public var deferQueryIndexes = true
    /// How often the query planner's statistics are refreshed (`PRAGMA optimize`).
    public var optimizeInterval: TimeInterval = 6 * 3600

    public init(criteria: [(key: String, value: JSONValue)] = [], startTimestamp: Int64? = nil, pageSize: Int = 1000,
                overlap: TimeInterval = 60) {
        self.criteria = criteria
        self.startTimestamp = startTimestamp
        self.pageSize = pageSize
        self.overlap = overlap
    }

    /// Identifies the search a checkpoint belongs to: the criteria and the configured start.
    public var searchFingerprint: String {
        JSONValue.object([
            ("criteria", .object(criteria)),
            ("startTimestamp", startTimestamp.map { .number(String($0)) } ?? .null),
        ]).serialized
    }
}
