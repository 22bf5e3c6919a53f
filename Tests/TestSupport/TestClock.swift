import EventSync
import Foundation
import Synchronization

/// A clock whose sleeps return at once and advance its time, recording each delay, so tests
/// can run through minutes of backoff instantly and assert on the delays chosen.
public final class TestClock: WallClock {
    private let state: Mutex<(now: Date, sleeps: [TimeInterval])>

    public init(now: Date = Date()) {
        state = Mutex((now, []))
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func sleep(seconds: TimeInterval) async throws {
        try Task.checkCancellation()
        state.withLock {
            $0.sleeps.append(seconds)
            $0.now = $0.now.addingTimeInterval(max(0, seconds))
        }
        await Task.yield()
    }

    public func advance(_ seconds: TimeInterval) {
        state.withLock { $0.now = $0.now.addingTimeInterval(seconds) }
    }

    public var sleeps: [TimeInterval] { state.withLock { $0.sleeps } }
}
