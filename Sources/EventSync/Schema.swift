/// The database schema, as forward migrations keyed by `PRAGMA user_version`.
///
/// Append a migration to change the schema; never edit a released one. A database whose
/// version is higher than `latestVersion` was written by a newer release and is refused.
enum Schema {
    static let migrations: [(version: Int64, sql: String)] = [
        (1, version1),
    ]

    static var latestVersion: Int64 { migrations.last!.version }

    /// The indexes that serve only people's queries, as the latest migration defines them: the
    /// engine itself needs none of them (upserts go by id, retention by last-updated time).
    /// A backfill into an empty table drops them and builds them once at its end, because
    /// keeping them up to date row by row, while events arrive out of event-time order, more
    /// than doubles what SQLite writes per page (see `EventStore.deferQueryIndexes()`).
    /// A migration that changes one of these indexes must change it here too.
    static let queryIndexes: [(name: String, definition: String)] = [
        ("events_timestamp", "ON events(timestamp)"),
        ("events_customer_time", "ON events(customer_id, timestamp)"),
        ("events_severity_time", "ON events(severity_rank, timestamp)"),
        ("events_alarm_time", "ON events(alarm_id, timestamp)"),
    ]

    static let version1 = """
        CREATE TABLE events (
            id                     TEXT PRIMARY KEY NOT NULL,
            last_updated_timestamp INTEGER NOT NULL,
            type                   TEXT,
            customer_id            INTEGER,
            customer_short_name    TEXT,
            customer_name          TEXT,
            timestamp              INTEGER,
            start_timestamp        INTEGER,
            end_timestamp          INTEGER,
            severity               TEXT,
            severity_rank          INTEGER,
            count                  INTEGER,
            alarm_id               INTEGER,
            alarm_description      TEXT,
            attack_category_id     INTEGER,
            attack_category_name   TEXT,
            signature              TEXT,
            source_address         TEXT,
            source_port            INTEGER,
            source_country         TEXT,
            destination_address    TEXT,
            destination_port       INTEGER,
            destination_country    TEXT,
            protocol               TEXT,
            domain                 TEXT,
            uri                    TEXT,
            location_name          TEXT,
            associated_case_id     INTEGER,
            synced_at              INTEGER NOT NULL,
            json                   TEXT NOT NULL,
            -- The event's flags array and properties object, as received (JSON text).
            flags                  TEXT,
            properties             TEXT
        );
        CREATE INDEX events_timestamp ON events(timestamp);
        CREATE INDEX events_last_updated ON events(last_updated_timestamp);
        CREATE INDEX events_customer_time ON events(customer_id, timestamp);
        CREATE INDEX events_severity_time ON events(severity_rank, timestamp);
        CREATE INDEX events_alarm_time ON events(alarm_id, timestamp);

        -- Times as ISO-8601 UTC text with milliseconds, for people at a sqlite3 prompt.
        CREATE VIEW events_readable AS
        SELECT id, type, customer_id, customer_short_name, customer_name,
               strftime('%Y-%m-%dT%H:%M:%fZ', timestamp / 1000.0, 'unixepoch') AS time,
               strftime('%Y-%m-%dT%H:%M:%fZ', start_timestamp / 1000.0, 'unixepoch') AS start_time,
               strftime('%Y-%m-%dT%H:%M:%fZ', end_timestamp / 1000.0, 'unixepoch') AS end_time,
               strftime('%Y-%m-%dT%H:%M:%fZ', last_updated_timestamp / 1000.0, 'unixepoch') AS last_updated,
               severity, severity_rank, count, alarm_id, alarm_description,
               attack_category_id, attack_category_name, signature,
               source_address, source_port, source_country,
               destination_address, destination_port, destination_country,
               protocol, domain, uri, location_name, associated_case_id, flags, properties,
               strftime('%Y-%m-%dT%H:%M:%fZ', synced_at / 1000.0, 'unixepoch') AS synced
        FROM events;

        -- One row: the cursor, committed with every page.
        CREATE TABLE sync_state (
            id                        INTEGER PRIMARY KEY CHECK (id = 1),
            checkpoint_last_updated   INTEGER,
            start_timestamp           INTEGER NOT NULL,
            search_fingerprint        TEXT NOT NULL,
            updated_at                INTEGER NOT NULL
        );
        """
}
