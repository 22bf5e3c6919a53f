import Dispatch
public import Foundation

/// Turns SIGTERM, SIGINT and SIGHUP into an async stream.
///
/// Built in a nonisolated context: a handler closure written inside `@MainActor` code would
/// inherit main-actor isolation and trap when the signal arrives on the dispatch queue. No
/// `SIG_IGN` on Linux: libdispatch reads the signal through its own handler and a later
/// SIG_IGN would swallow it.
/// `@unchecked Sendable`: `sources` is never mutated after init; it is only kept alive (and
/// cancelled in deinit), and dispatch sources are thread-safe.
public final class SignalWatcher: @unchecked Sendable {
    public let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    public nonisolated init(_ numbers: [Int32] = [SIGTERM, SIGINT, SIGHUP]) {
        let queue = DispatchQueue(label: "argus-event-sync.signals")
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        signals = stream
        sources = numbers.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { @Sendable in continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
    }

    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(number)"
        }
    }
}
