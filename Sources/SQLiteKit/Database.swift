internal import CSQLite
import Foundation

/// One SQLite connection.
///
/// Not `Sendable`: a connection is owned by one task or actor at a time (SQLite is opened
/// `NOMUTEX`), which is how the sync engine uses it. Statements are finalized when released,
/// transactions roll back when their body throws, and every error carries `sqlite3_errmsg`.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private var statementCache: [String: Statement] = [:]

    /// How a connection is opened.
    public struct Options: Sendable {
        /// How long a writer waits for a lock held by another connection (for instance a
        /// `sqlite3` shell running a write, or a checkpoint) before failing with SQLITE_BUSY.
        public var busyTimeoutMilliseconds: Int32 = 10_000
        /// Write-ahead logging lets readers (analysts' `sqlite3` sessions) run alongside the writer.
        public var walMode = true
        public var readOnly = false
        public var create = true
        /// `PRAGMA auto_vacuum = INCREMENTAL` for a new file, so deleted pages can be given back
        /// with `PRAGMA incremental_vacuum`. It only takes on a file with no tables yet, and must
        /// come before WAL mode is set (https://sqlite.org/pragma.html#pragma_auto_vacuum).
        public var incrementalVacuum = false
        /// The page size of a new file (`PRAGMA page_size`; https://sqlite.org/pragma.html#pragma_page_size).
        /// Rows that are a good part of the default 4 KiB waste half of each page; it cannot
        /// change once the file is in WAL mode, so it is set before that.
        public var pageSize: Int?
        /// The page cache of this connection, in KiB (`PRAGMA cache_size = -N`).
        public var cacheSizeKiB: Int?

        public init() {}
    }

    /// Process-wide SQLite settings, applied once before the first connection is opened (they
    /// are refused, harmlessly, if something else in the process opened one first).
    private static let configureLibrary: Void = {
        // Nothing reads sqlite3_memory_used(), and keeping it costs a global mutex per malloc.
        _ = argus_sqlite3_disable_memstatus()
    }()

    /// Opens (and, unless `options.create` is false, creates) the database at `path`.
    /// - Throws: `SQLiteError` with SQLite's reason (unwritable folder, not a database, ...).
    public init(path: String, options: Options = Options()) throws {
        _ = Self.configureLibrary
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if options.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if options.create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)  // a handle is allocated even when open fails
            throw SQLiteError(code: rc, message: "\(message): \(path)")
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, options.busyTimeoutMilliseconds)
        if !options.readOnly {
            // Both only take on a new file, and only in this order, before WAL mode.
            if let pageSize = options.pageSize { try execute("PRAGMA page_size = \(pageSize)") }
            if options.incrementalVacuum { try execute("PRAGMA auto_vacuum = INCREMENTAL") }
        }
        if let cacheSize = options.cacheSizeKiB { try execute("PRAGMA cache_size = -\(cacheSize)") }
        // In-memory and temporary databases have no file to keep a write-ahead log beside.
        if options.walMode && !options.readOnly && path != ":memory:" && !path.isEmpty {
            // journal_mode answers the mode actually in force; anything but "wal" means the
            // file system or a concurrent connection refused it, and readers would block us.
            let mode = try scalarString("PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "could not enable WAL mode (journal_mode is \(mode ?? "unknown"))")
            }
            // NORMAL is crash-safe in WAL mode: a process crash never corrupts or loses a
            // committed transaction; only a power loss may drop the newest ones, which the
            // next sync re-reads because the checkpoint rolls back with them.
            try execute("PRAGMA synchronous = NORMAL")
        }
    }

    deinit {
        statementCache.removeAll()
        if sqlite3_close(handle) != SQLITE_OK {
            // Statements still alive elsewhere: let SQLite close once they are finalized.
            sqlite3_close_v2(handle)
        }
    }

    // MARK: - Statements

    /// Prepares a statement that is finalized when released.
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(database: self, sql: sql)
    }

    /// A prepared statement kept for the connection's lifetime, for statements run once per
    /// event. It comes back reset, with no bindings.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs one or more statements that take no parameters and return nothing of interest.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message, sql: sql)
        }
    }

    /// Runs `sql` with `arguments` and returns all rows, for small queries (tests, status).
    public func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        var rows: [[SQLiteValue]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { statement.value($0) })
        }
        return rows
    }

    /// The first column of the first row as an integer, or nil.
    public func scalarInt(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> Int64? {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return statement.int64(0)
    }

    /// The first column of the first row as text, or nil.
    public func scalarString(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> String? {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        guard try statement.step() else { return nil }
        return statement.string(0)
    }

    // MARK: - Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
    /// when it throws (the first error is rethrown).
    ///
    /// IMMEDIATE takes the write lock up front, so the busy timeout covers waiting for it; a
    /// deferred transaction that later upgrades to a write can fail with SQLITE_BUSY at once.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            // SQLite may already have rolled back (e.g. after SQLITE_FULL); only roll back
            // a transaction that is still open.
            if sqlite3_get_autocommit(handle) == 0 {
                try? execute("ROLLBACK")
            }
            throw error
        }
    }

    /// True while a transaction is open on this connection.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: - Facts about the connection

    /// `PRAGMA user_version`: the schema version this project stores in the file header.
    public var userVersion: Int64 {
        get throws { try scalarInt("PRAGMA user_version") ?? 0 }
    }

    public func setUserVersion(_ version: Int64) throws {
        try execute("PRAGMA user_version = \(version)")
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Builds the error for `rc`, reading `sqlite3_errmsg` before anything else touches the handle.
    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

@available(*, unavailable)
extension Database: Sendable {}
