import Foundation

/// Ending child processes without Foundation's `waitUntilExit`, which spins a run loop at full
/// CPU when called off the main thread on Linux and never returns for a child that ignores
/// SIGTERM. Children spawned from Swift concurrency threads inherit those threads' blocked
/// signal mask (Foundation's `Process` does not reset it), so SIGTERM alone cannot be trusted.
public enum ChildProcess {
    /// Polls until `process` has exited or `timeout` passes; true when it exited.
    @discardableResult
    public static func awaitExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// Kills `process` with SIGKILL and waits for it to be reaped.
    public static func kill(_ process: Process) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        awaitExit(process, timeout: 10)
    }
}
