import Foundation
import Synchronization

/// The sync loop's promise of when it will next show a sign of life. The watchdog pets systemd
/// only while that promise holds, so a loop stuck in a deadlock or a runaway computation gets
/// restarted, while one waiting out a long backoff or a slow (but bounded) request does not.
final class Liveness: Sendable {
    private let deadline: Mutex<Date>

    init(until: Date) {
        deadline = Mutex(until)
    }

    /// The loop expects its next sign of life before `date`.
    func promise(until date: Date) {
        deadline.withLock { $0 = date }
    }

    func isAlive(at now: Date) -> Bool {
        deadline.withLock { now <= $0 }
    }
}
