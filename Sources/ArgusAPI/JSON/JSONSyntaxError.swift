/// A body that is not valid JSON, with the byte offset so a truncated or corrupted response
/// can be told apart from a wrong one in the logs.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable, Equatable {
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
