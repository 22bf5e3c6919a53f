public import Foundation

/// Why a search failed, classified by what the caller should do about it.
///
/// `isRetryable` separates what heals by itself (throttling, server errors, network trouble,
/// a mangled body) from what needs a human (a bad or expired key, a missing permission,
/// criteria the server rejects): those are not retried in a tight loop.
public enum ArgusAPIError: Error, Sendable, CustomStringConvertible {
    /// 401: the key is wrong, expired, or used from a network it is not bound to.
    case authentication(messages: [ArgusMessage])
    /// 403: the key's user lacks a permission (`eventLookup`) or the customer.
    case permission(messages: [ArgusMessage])
    /// 412: the server rejected the search criteria.
    case criteriaRejected(messages: [ArgusMessage])
    /// Another 4xx (400, 404, ...): the request itself is wrong, e.g. a wrong base URL.
    case clientError(status: Int, messages: [ArgusMessage])
    /// 429, or 503 (Argus's answer when its queue is full): back off, honouring `Retry-After`.
    case throttled(status: Int, retryAfter: TimeInterval?, messages: [ArgusMessage])
    /// Other 5xx.
    case serverError(status: Int, messages: [ArgusMessage])
    case timeout(seconds: TimeInterval)
    case connection(String)
    /// The API's host name did not resolve (DNS down, or a wrong api.baseURL).
    case nameResolution(String)
    /// The TLS handshake or the certificate check failed (an intercepting proxy, a wrong port).
    case tls(String)
    /// The body exceeded the configured cap and was refused.
    case responseTooLarge(limit: Int)
    /// A 2xx whose body is not a valid envelope (truncated, malformed, events without ids).
    case invalidResponse(String)

    /// Whether trying again soon can succeed without anyone changing anything.
    public var isRetryable: Bool {
        switch self {
        case .throttled, .serverError, .timeout, .connection, .nameResolution, .tls, .invalidResponse: return true
        case .authentication, .permission, .criteriaRejected, .clientError, .responseTooLarge: return false
        }
    }

    public var httpStatus: Int? {
        switch self {
        case .authentication: return 401
        case .permission: return 403
        case .criteriaRejected: return 412
        case .clientError(let status, _), .throttled(let status, _, _), .serverError(let status, _): return status
        case .timeout, .connection, .nameResolution, .tls, .responseTooLarge, .invalidResponse: return nil
        }
    }

    /// The server's `Retry-After`, when it sent one.
    public var retryAfter: TimeInterval? {
        if case .throttled(_, let retryAfter, _) = self { return retryAfter }
        return nil
    }

    /// True when a 401's message says the key has expired (Argus keys usually expire after months).
    public var isKeyExpired: Bool {
        guard case .authentication(let messages) = self else { return false }
        return messages.contains { ($0.message ?? "").lowercased().contains("expired") }
    }

    /// True when a 401's message says the key may not be used from this host's network (Argus
    /// keys can be bound to source networks).
    public var isSourceNetworkDenied: Bool {
        guard case .authentication(let messages) = self else { return false }
        return messages.contains {
            let text = ($0.message ?? "").lowercased()
            return text.contains("network") || text.contains("source address") || text.contains("ip address")
        }
    }

    /// A stable machine-readable class for the status file and metrics.
    public var kind: String {
        switch self {
        case .authentication: return isKeyExpired ? "key-expired" : isSourceNetworkDenied ? "source-network-denied" : "authentication"
        case .permission: return "permission"
        case .criteriaRejected: return "criteria-rejected"
        case .clientError: return "client-error"
        case .throttled: return "throttled"
        case .serverError: return "server-error"
        case .timeout: return "timeout"
        case .connection: return "connection"
        case .nameResolution: return "dns"
        case .tls: return "tls"
        case .responseTooLarge: return "response-too-large"
        case .invalidResponse: return "invalid-response"
        }
    }

    public var description: String {
        switch self {
        case .authentication(let messages):
            let hint = isKeyExpired
                ? "the API key has expired; create a new key in Argus and install it"
                : isSourceNetworkDenied
                ? "the API key is not allowed from this host's network; add its address range to the key in Argus"
                : "check the API key, and that this host's address is allowed for it"
            return "authentication failed (HTTP 401)\(Self.detail(messages)): \(hint)"
        case .permission(let messages):
            return "access denied (HTTP 403)\(Self.detail(messages)): the key's user needs the eventLookup permission for the searched customers"
        case .criteriaRejected(let messages):
            return "search criteria rejected (HTTP 412)\(Self.detail(messages)): fix sync.criteria"
        case .clientError(let status, let messages):
            return "request rejected (HTTP \(status))\(Self.detail(messages)): check api.baseURL"
        case .throttled(let status, let retryAfter, let messages):
            let after = retryAfter.map { ", retry after \(Int($0.rounded(.up))) s" } ?? ""
            return "server busy (HTTP \(status))\(Self.detail(messages))\(after)"
        case .serverError(let status, let messages):
            return "server error (HTTP \(status))\(Self.detail(messages))"
        case .timeout(let seconds):
            return "request timed out after \(Int(seconds)) s"
        case .connection(let reason):
            return "cannot reach the Argus API: \(reason)"
        case .nameResolution(let reason):
            return "cannot resolve the Argus API's host name (DNS): \(reason): check api.baseURL and this host's resolver"
        case .tls(let reason):
            return "TLS connection to the Argus API failed: \(reason): check api.baseURL's scheme and port, and any TLS-intercepting proxy"
        case .responseTooLarge(let limit):
            return "response body larger than \(limit) bytes was refused: lower sync.pageSize or raise api.maxResponseBytes"
        case .invalidResponse(let reason):
            return "invalid response from the Argus API: \(reason)"
        }
    }

    private static func detail(_ messages: [ArgusMessage]) -> String {
        let text = messages.map(\.description).joined(separator: "; ")
        // One line, bounded: the server's text ends up in logs and the status file.
        let oneLine = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        guard !oneLine.isEmpty else { return "" }
        return ": " + (oneLine.count > 300 ? String(oneLine.prefix(300)) + "…" : oneLine)
    }

    /// Classifies a non-2xx response.
    public static func from(status: Int, headers: [String: String], body: Data, now: Date) -> ArgusAPIError {
        let messages = EnvelopeDecoder.messages(in: body)
        switch status {
        case 401: return .authentication(messages: messages)
        case 403: return .permission(messages: messages)
        case 412: return .criteriaRejected(messages: messages)
        case 429, 503:
            return .throttled(status: status, retryAfter: RetryAfter.parse(headers["retry-after"], now: now), messages: messages)
        case 408: return .timeout(seconds: 0)
        case 500...599: return .serverError(status: status, messages: messages)
        default: return .clientError(status: status, messages: messages)
        }
    }
}
