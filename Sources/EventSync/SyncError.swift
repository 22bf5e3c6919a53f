public import ArgusAPI
public import Foundation

/// Why a pass ended without catching up.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    /// A transient failure outlasted the retry budget.
    case gaveUp(last: ArgusAPIError, attempts: Int, elapsed: TimeInterval)
    /// The server broke the contract the cursor relies on.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case let .gaveUp(last, attempts, elapsed):
            return "gave up after \(attempts) attempts over \(Int(elapsed.rounded())) s: \(last)"
        case let .protocolViolation(reason):
            return "the Argus API broke the paging contract: \(reason)"
        }
    }

    /// The API error behind this one, if any.
    public var apiError: ArgusAPIError? {
        if case .gaveUp(let last, _, _) = self { return last }
        return nil
    }
}
