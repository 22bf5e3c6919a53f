/// Why the event store cannot be used; each says what to do.
public enum EventStoreError: Error, Sendable, CustomStringConvertible {
    /// The file was written by a newer release of argus-event-sync.
    case newerSchema(path: String, found: Int64, supported: Int64)
    /// The file was written by a pre-release build with a different layout of schema version 1.
    case preReleaseSchema(path: String)
    /// SQLite failed (message included).
    case database(path: String, reason: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, supported):
            return "database \(path) has schema version \(found), newer than the \(supported) this argus-event-sync supports: upgrade argus-event-sync or point database.path at another file"
        case let .preReleaseSchema(path):
            return "database \(path) was written by a pre-release build of argus-event-sync (flags and properties computed, not stored): move it aside with its -wal and -shm files, and the next sync rebuilds it from the API"
        case let .database(path, reason):
            return "database \(path): \(reason)"
        }
    }
}
