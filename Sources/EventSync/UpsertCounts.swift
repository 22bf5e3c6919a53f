/// What applying events did to the table.
public struct UpsertCounts: Sendable, Equatable {
    public var inserted = 0
    public var updated = 0
    /// Events whose stored version was the same or newer: left as they were.
    public var unchanged = 0

    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }

    public static func += (lhs: inout UpsertCounts, rhs: UpsertCounts) {
        lhs.inserted += rhs.inserted
        lhs.updated += rhs.updated
        lhs.unchanged += rhs.unchanged
    }

    public var total: Int { inserted + updated + unchanged }
}
