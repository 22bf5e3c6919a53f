import SQLiteKit

/// The query indexes during a backfill: loading months of events into an empty table is a bulk
/// load, and like any bulk load it is cheaper to index once at the end than row by row.
///
/// Why it pays: a catch-up arrives in `lastUpdatedTimestamp` order, but a third of the events
/// have an event time hours or days older than that, so each page's rows land on a few hundred
/// scattered leaf pages of every index on `timestamp`. In WAL mode each of those leaves is
/// written whole to the log at every commit and again at the checkpoint: measured, the four
/// query indexes cost more than the table itself (Benchmarks/README.md). Sorting the finished
/// table into each index costs a fraction of that.
///
/// Queries stay correct meanwhile, only slower; the primary key (upserts) and the
/// last-updated index (retention) are always there. Whether a backfill is under way is the
/// file's own state, no flag: an index listed in `Schema.queryIndexes` is missing.
extension EventStore {
    /// The names of the query indexes the file lacks: a backfill is under way or was stopped.
    public func missingQueryIndexes() throws -> [String] {
        let present = Set(try database.query("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'")
            .compactMap { row -> String? in if case .text(let name) = row[0] { name } else { nil } })
        return Schema.queryIndexes.map(\.name).filter { !present.contains($0) }
    }

    /// Drops the query indexes when the table is empty, so a backfill need not keep them up to
    /// date page by page; `buildQueryIndex(_:)` makes them again.
    /// - Returns: whether they were dropped (false: the table holds events, nothing changed).
    public func deferQueryIndexes() throws -> Bool {
        try database.transaction {
            guard try database.scalarInt("SELECT EXISTS (SELECT 1 FROM events)") == 0 else { return false }
            for index in Schema.queryIndexes {
                try database.execute("DROP INDEX IF EXISTS \(index.name)")
            }
            return true
        }
    }

    /// Builds one query index over the events stored, in its own transaction (readers are not
    /// blocked; one index at a time keeps each write transaction to seconds on large files).
    ///
    /// SQLite sizes the sort behind `CREATE INDEX` by the page cache (it may hold as much in
    /// memory as the cache may), so the build runs with a small cache, which keeps the
    /// daemon's memory bound; larger sorts spill to a temporary file.
    public func buildQueryIndex(_ name: String) throws {
        guard let index = Schema.queryIndexes.first(where: { $0.name == name }) else {
            preconditionFailure("\(name) is not one of Schema.queryIndexes")
        }
        let cacheSize = try database.scalarInt("PRAGMA cache_size") ?? -2000
        try database.execute("PRAGMA cache_size = -\(Self.indexBuildCacheKiB)")
        defer { try? database.execute("PRAGMA cache_size = \(cacheSize)") }
        try database.transaction {
            try database.execute("CREATE INDEX IF NOT EXISTS \(index.name) \(index.definition)")
        }
    }

    /// The page cache while an index is built, in KiB.
    static let indexBuildCacheKiB = 2048
}
