import Foundation

/// Runs blocking work on a thread of its own, so that it does not hold one of the few threads
/// of Swift's shared pool (as many as there are cores: two here), which the in-process daemon
/// tests running alongside need.
public func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
