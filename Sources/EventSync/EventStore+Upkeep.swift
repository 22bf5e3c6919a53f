import SQLiteKit

/// Keeping the database in shape for months of running: retention, statistics for the query
/// planner, and a bounded write-ahead log.
extension EventStore {
    /// Deletes at most `limit` events last updated before `cutoff` (epoch ms), oldest first, in
    /// one short transaction, then returns the freed pages to the file system.
    ///
    /// Small batches keep each write transaction to milliseconds; readers are never blocked in
    /// WAL mode, and the sync's next page does not wait behind a long delete.
    /// - Returns: how many events were deleted.
    public func prune(updatedBefore cutoff: Int64, limit: Int) throws -> Int {
        let deleted = try database.transaction {
            let statement = try database.cachedStatement("""
                DELETE FROM events WHERE rowid IN (
                    SELECT rowid FROM events WHERE last_updated_timestamp < ?1
                    ORDER BY last_updated_timestamp LIMIT ?2)
                """)
            try statement.bind(cutoff, at: 1)
            try statement.bind(Int64(limit), at: 2)
            try statement.run()
            return database.changes
        }
        if deleted > 0 {
            // Frees the pages the delete put on the freelist (auto_vacuum = INCREMENTAL).
            try database.execute("PRAGMA incremental_vacuum")
        }
        return deleted
    }

    /// Lets SQLite refresh the statistics the query planner uses (https://sqlite.org/lang_analyze.html#pragopt);
    /// cheap when nothing changed much, so it can run after every few passes.
    public func optimize() throws {
        try database.execute("PRAGMA optimize")
    }

    /// Copies what the write-ahead log holds into the database without waiting for readers
    /// (PASSIVE), so the log can be reset and truncated at the next write.
    public func checkpointWAL() throws {
        _ = try database.query("PRAGMA wal_checkpoint(PASSIVE)")
    }
}
