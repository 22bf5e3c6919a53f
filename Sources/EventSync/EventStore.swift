public import ArgusAPI
public import Foundation
public import SQLiteKit

/// The SQLite mirror: the `events` table, its schema migrations and the checkpoint row.
///
/// Owned by one task (the sync engine's); not `Sendable`, like the connection inside it.
public final class EventStore {
    public let database: Database
    /// The checkpoint as last read or committed, so an unchanged one is not written again.
    private var storedCheckpoint: Checkpoint?
    public var path: String { database.path }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// - Throws: `EventStoreError.newerSchema` for a file from a newer release, or
    ///   `SQLiteError` with SQLite's reason.
    public init(path: String) throws {
        // Incremental vacuum lets retention give pruned pages back to the file system in small
        // steps instead of a full VACUUM. 16 KiB pages hold seven ~2 KiB events where 4 KiB
        // pages hold one, which halves what each page's commit and checkpoint write; 8 MiB of
        // cache keeps the indexes' hot pages in memory (measured: Benchmarks/README.md).
        var options = Database.Options()
        options.incrementalVacuum = true
        options.pageSize = 16_384
        options.cacheSizeKiB = 8192
        database = try Database(path: path, options: options)
        // Once a checkpoint has reset the write-ahead log, SQLite truncates the -wal file back
        // to this size, so one large transaction does not leave a large file behind for good.
        try database.execute("PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        // Checkpoint once the log holds this much (SQLite counts pages of the file's size).
        let pageSize = try database.scalarInt("PRAGMA page_size") ?? 4096
        try database.execute("PRAGMA wal_autocheckpoint = \(Int64(Self.walAutocheckpointBytes) / max(pageSize, 512))")
        try migrate()
    }

    /// The size the -wal file is truncated back to after a checkpoint.
    public static let walSizeLimit = 32 << 20
    /// How much the write-ahead log holds before SQLite checkpoints it into the database.
    public static let walAutocheckpointBytes = 16 << 20

    private func migrate() throws {
        let current = try database.userVersion
        guard current <= Schema.latestVersion else {
            throw EventStoreError.newerSchema(path: path, found: current, supported: Schema.latestVersion)
        }
        // Pre-release builds wrote version 1 with flags/properties as generated columns, which
        // cannot be inserted into; no release has that layout, so it is refused, not migrated.
        if current == 1, try database.scalarInt("SELECT hidden FROM pragma_table_xinfo('events') WHERE name = 'flags'") ?? 0 > 1 {
            throw EventStoreError.preReleaseSchema(path: path)
        }
        for migration in Schema.migrations where migration.version > current {
            try database.transaction {
                try database.execute(migration.sql)
                try database.setUserVersion(migration.version)
            }
        }
    }

    public var schemaVersion: Int64 {
        get throws { try database.userVersion }
    }

    // MARK: - Checkpoint

    public func loadCheckpoint() throws -> Checkpoint? {
        let statement = try database.cachedStatement(
            "SELECT checkpoint_last_updated, start_timestamp, search_fingerprint FROM sync_state WHERE id = 1")
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        let checkpoint = Checkpoint(lastUpdatedTimestamp: statement.optionalInt64(0), startTimestamp: statement.int64(1),
                                    searchFingerprint: statement.string(2) ?? "")
        storedCheckpoint = checkpoint
        return checkpoint
    }

    /// Writes the checkpoint on its own (the engine normally writes it with a page).
    public func saveCheckpoint(_ checkpoint: Checkpoint, at now: Date) throws {
        try database.transaction { try writeCheckpoint(checkpoint, now: now) }
        storedCheckpoint = checkpoint
    }

    private func writeCheckpoint(_ checkpoint: Checkpoint, now: Date) throws {
        let statement = try database.cachedStatement("""
            INSERT INTO sync_state (id, checkpoint_last_updated, start_timestamp, search_fingerprint, updated_at)
            VALUES (1, ?1, ?2, ?3, ?4)
            ON CONFLICT(id) DO UPDATE SET checkpoint_last_updated = ?1, start_timestamp = ?2,
                search_fingerprint = ?3, updated_at = ?4
            """)
        try statement.bind(checkpoint.lastUpdatedTimestamp, at: 1)
        try statement.bind(checkpoint.startTimestamp, at: 2)
        try statement.bind(checkpoint.searchFingerprint, at: 3)
        try statement.bind(now.epochMilliseconds, at: 4)
        try statement.run()
    }

    // MARK: - Events

    /// Upserts `events` of `page` and writes `checkpoint`, in one transaction: after a crash
    /// either both are there or neither is.
    ///
    /// An event replaces the stored row only when its `lastUpdatedTimestamp` is newer, so a
    /// late or repeated older version never wins and an unchanged one costs no write.
    public func apply(_ events: [AggregatedEvent], of page: SearchPage, checkpoint: Checkpoint, now: Date) throws -> UpsertCounts {
        let syncedAt = now.epochMilliseconds
        let counts = try database.transaction {
            let lookup = try database.cachedStatement("SELECT last_updated_timestamp FROM events WHERE id = ?1")
            let insert = try database.cachedStatement(Self.insertSQL)
            let update = try database.cachedStatement(Self.updateSQL)
            var counts = UpsertCounts()
            try page.body.withUnsafeBytes { body in
                for event in events {
                    try lookup.bind(event.id, at: 1)
                    let stored: Int64? = try lookup.step() ? lookup.int64(0) : nil
                    lookup.reset()
                    if let stored, stored >= event.lastUpdatedTimestamp {
                        counts.unchanged += 1
                        continue
                    }
                    let statement = stored == nil ? insert : update
                    try bind(event, body: body, syncedAt: syncedAt, to: statement)
                    try statement.run()
                    statement.reset()
                    if stored == nil { counts.inserted += 1 } else { counts.updated += 1 }
                }
            }
            // A poll that found nothing new writes nothing: not even an unchanged checkpoint.
            if checkpoint != storedCheckpoint { try writeCheckpoint(checkpoint, now: now) }
            return counts
        }
        storedCheckpoint = checkpoint
        return counts
    }

    /// Rows in `events` (an index count: cheap enough for every status update).
    public func eventCount() throws -> Int64 {
        try database.scalarInt("SELECT count(*) FROM events") ?? 0
    }

    // MARK: - SQL

    /// Column order shared by the INSERT and UPDATE statements; parameter N is column N.
    static let columns = [
        "id", "last_updated_timestamp", "type", "customer_id", "customer_short_name", "customer_name",
        "timestamp", "start_timestamp", "end_timestamp", "severity", "severity_rank", "count",
        "alarm_id", "alarm_description", "attack_category_id", "attack_category_name", "signature",
        "source_address", "source_port", "source_country",
        "destination_address", "destination_port", "destination_country",
        "protocol", "domain", "uri", "location_name", "associated_case_id",
        "synced_at", "json", "flags", "properties",
    ]

    static let insertSQL = "INSERT INTO events (\(columns.joined(separator: ", "))) VALUES ("
        + (1...columns.count).map { "?\($0)" }.joined(separator: ", ") + ")"

    static let updateSQL = "UPDATE events SET "
        + columns.enumerated().dropFirst().map { "\($0.element) = ?\($0.offset + 1)" }.joined(separator: ", ")
        + " WHERE id = ?1"

    private func bind(_ event: AggregatedEvent, body: UnsafeRawBufferPointer, syncedAt: Int64, to s: Statement) throws {
        try s.bind(event.id, at: 1)
        try s.bind(event.lastUpdatedTimestamp, at: 2)
        try s.bind(event.type, at: 3)
        try s.bind(event.customerID, at: 4)
        try s.bind(event.customerShortName, at: 5)
        try s.bind(event.customerName, at: 6)
        try s.bind(event.timestamp, at: 7)
        try s.bind(event.startTimestamp, at: 8)
        try s.bind(event.endTimestamp, at: 9)
        try s.bind(event.severity, at: 10)
        try s.bind(event.severityRank, at: 11)
        try s.bind(event.count, at: 12)
        try s.bind(event.alarmID, at: 13)
        try s.bind(event.alarmDescription, at: 14)
        try s.bind(event.attackCategoryID, at: 15)
        try s.bind(event.attackCategoryName, at: 16)
        try s.bind(event.signature, at: 17)
        try s.bind(event.sourceAddress, at: 18)
        try s.bind(event.sourcePort, at: 19)
        try s.bind(event.sourceCountry, at: 20)
        try s.bind(event.destinationAddress, at: 21)
        try s.bind(event.destinationPort, at: 22)
        try s.bind(event.destinationCountry, at: 23)
        try s.bind(event.protocolName, at: 24)
        try s.bind(event.domain, at: 25)
        try s.bind(event.uri, at: 26)
        try s.bind(event.locationName, at: 27)
        try s.bind(event.associatedCaseID, at: 28)
        try s.bind(syncedAt, at: 29)
        try s.bindText(UnsafeRawBufferPointer(rebasing: body[event.jsonRange]), at: 30)
        try bindJSON(event.flagsRange, body: body, at: 31, to: s)
        try bindJSON(event.propertiesRange, body: body, at: 32, to: s)
    }

    private func bindJSON(_ range: Range<Int>?, body: UnsafeRawBufferPointer, at index: Int32, to s: Statement) throws {
        guard let range else { return try s.bind(.null, at: index) }
        try s.bindText(UnsafeRawBufferPointer(rebasing: body[range]), at: index)
    }
}

@available(*, unavailable)
extension EventStore: Sendable {}
