/// What the store remembers between runs, committed in the same transaction as each page.
public struct Checkpoint: Sendable, Equatable {
    /// Every event whose `lastUpdatedTimestamp` is below this is stored (epoch ms); nil until
    /// the first page with events. Resuming re-reads from here minus the overlap.
    public var lastUpdatedTimestamp: Int64?
    /// The search's fixed lower bound on event time, resolved once (epoch ms).
    public var startTimestamp: Int64
    /// Identifies the search (criteria and start) the checkpoint belongs to; a different
    /// search starts over from `startTimestamp`.
    public var searchFingerprint: String

    public init(lastUpdatedTimestamp: Int64?, startTimestamp: Int64, searchFingerprint: String) {
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
        self.startTimestamp = startTimestamp
        self.searchFingerprint = searchFingerprint
    }
}
