public import Foundation

/// A small stderr logger in swift-log's shape (levels, one line per message).
///
/// Under systemd (`JOURNAL_STREAM` set) each line starts with a `<N>` syslog priority, which
/// journald turns into the entry's priority, and carries no timestamp of its own (journald
/// adds one). Writes are single `write(2)` calls, so lines from different tasks never interleave.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var name: String { "\(self)" }

        /// syslog priority (RFC 5424): 7 debug … 2 critical.
        var syslogPriority: Int {
            switch self {
            case .trace, .debug: return 7
            case .info: return 6
            case .notice: return 5
            case .warning: return 4
            case .error: return 3
            case .critical: return 2
            }
        }
    }

    public var minimumLevel: Level
    public var journald: Bool
    private let write: @Sendable (String) -> Void

    public init(minimumLevel: Level = .info, environment: [String: String] = ProcessInfo.processInfo.environment,
                write: (@Sendable (String) -> Void)? = nil) {
        self.minimumLevel = minimumLevel
        self.journald = environment["JOURNAL_STREAM"] != nil
        self.write = write ?? { line in
            var bytes = Array(line.utf8)
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level >= minimumLevel else { return }
        let text = message().replacingOccurrences(of: "\n", with: " ")
        if journald {
            write("<\(level.syslogPriority)>\(text)\n")
        } else {
            write("\(ISO8601.string(from: Date())) \(level.name) argus-event-sync: \(text)\n")
        }
    }

    public func trace(_ message: @autoclosure () -> String) { log(.trace, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func notice(_ message: @autoclosure () -> String) { log(.notice, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
}
