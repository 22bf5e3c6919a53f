public import Foundation

/// ISO-8601 UTC with milliseconds (`2026-12-03T19:55:01.123Z`), the one time format the status
/// file, logs and CLI print. `JSONEncoder.iso8601` would drop the milliseconds.
public enum ISO8601 {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public static func string(from date: Date) -> String {
        date.formatted(style)
    }

    public static func string(epochMilliseconds: Int64) -> String {
        string(from: Date(timeIntervalSince1970: TimeInterval(epochMilliseconds) / 1000))
    }

    /// Parses with or without fractional seconds.
    public static func date(from text: String) -> Date? {
        if let date = try? style.parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
