public import Foundation

/// When to try again after a transient failure: exponential backoff with full jitter
/// (a random delay between 0 and min(cap, base·2^attempt)), so that many daemons throttled by
/// the same 503 do not come back in lock step; a server's `Retry-After` is honoured, capped.
public struct RetryPolicy: Sendable {
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    /// The longest `Retry-After` obeyed; a server asking for more gets this.
    public var maxRetryAfter: TimeInterval
    /// Give up once this much time has passed since the first failure; nil retries forever.
    public var giveUpAfter: TimeInterval?
    /// A number in 0..<1; replaceable so tests get repeatable delays.
    public var random: @Sendable () -> Double

    public init(baseDelay: TimeInterval = 1, maxDelay: TimeInterval = 60, maxRetryAfter: TimeInterval = 300,
                giveUpAfter: TimeInterval? = nil, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.giveUpAfter = giveUpAfter
        self.random = random
    }

    /// For `once`: transient failures get about a minute in all before the command gives up.
    public static let oneShot = RetryPolicy(baseDelay: 1, maxDelay: 15, giveUpAfter: 60)

    /// For the daemon: transient failures are retried for as long as it runs.
    public static let daemon = RetryPolicy(baseDelay: 1, maxDelay: 300)

    /// The delay before retry number `attempt` (1 for the first retry).
    public func delay(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter {
            return min(max(retryAfter, 0), maxRetryAfter)
        }
        let exponent = Double(min(max(attempt - 1, 0), 30))
        let ceiling = min(maxDelay, baseDelay * pow(2, exponent))
        return ceiling * random()
    }

    /// Whether a retry that would start `delay` from now, `elapsed` after the first failure,
    /// is still within the budget.
    public func allowsRetry(elapsed: TimeInterval, delay: TimeInterval) -> Bool {
        guard let giveUpAfter else { return true }
        return elapsed + delay <= giveUpAfter
    }
}
