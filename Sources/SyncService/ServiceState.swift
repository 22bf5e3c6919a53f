/// What the process is doing, as the status file's `state` says it.
public enum ServiceState: String, Sendable, Codable, CaseIterable {
    /// Loading the configuration, opening the database.
    case starting
    /// Reading pages.
    case syncing
    /// Caught up, waiting for the next poll.
    case idle
    /// Waiting to retry after a failure.
    case backoff
    /// Exited cleanly.
    case stopped
    /// Exited on an error (`once` only: the daemon never ends on an error).
    case failed
}
