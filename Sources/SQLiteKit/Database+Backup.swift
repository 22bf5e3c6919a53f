internal import CSQLite
import Foundation

extension Database {
    /// Copies this database, as of one moment, into a new file at `path` with SQLite's online
    /// backup API (https://sqlite.org/backup.html).
    ///
    /// The copy is made in a single step, inside one read transaction: in WAL mode that never
    /// blocks the writer (the daemon keeps syncing), and the copy is a consistent snapshot
    /// rather than pages from several moments. `path` must not exist yet.
    /// - Throws: `SQLiteError` with SQLite's message.
    public func backup(to path: String) throws {
        var options = Options()
        options.walMode = false
        let destination = try Database(path: path, options: options)
        guard let backup = sqlite3_backup_init(destination.handle, "main", handle, "main") else {
            throw destination.error(sqlite3_errcode(destination.handle), sql: nil)
        }
        var rc: Int32
        var busyRetries = 0
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            // BUSY/LOCKED: another connection holds a lock for a moment (a WAL recovery, say);
            // try again shortly, for about as long as the busy timeout would wait.
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                busyRetries += 1
                if busyRetries > 200 { break }
                usleep(50_000)
            }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else {
            throw SQLiteError(code: rc, message: String(cString: sqlite3_errstr(rc)) + " during backup", sql: nil)
        }
        let finished = sqlite3_errcode(destination.handle)
        guard finished == SQLITE_OK else { throw destination.error(finished, sql: nil) }
    }
}
