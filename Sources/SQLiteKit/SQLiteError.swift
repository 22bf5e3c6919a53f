/// An error reported by SQLite, carrying SQLite's own message so an operator sees *why*
/// ("database is locked", "disk I/O error", "no such table: events") rather than a bare code.
public struct SQLiteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The extended result code (e.g. 5 = SQLITE_BUSY, 261 = SQLITE_BUSY_RECOVERY).
    public let code: Int32
    /// `sqlite3_errmsg` at the time of the failure.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (`code & 0xFF`), what the SQLite docs' tables list.
    public var primaryCode: Int32 { code & 0xFF }

    public var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " (while executing `\($0)`)" } ?? "")
    }
}
