import Synchronization

/// A value shared between a test and the tasks or callbacks it starts (a `Mutex` itself cannot
/// be captured by an escaping closure).
public final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    public var value: Value { mutex.withLock { $0 } }

    public func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}
