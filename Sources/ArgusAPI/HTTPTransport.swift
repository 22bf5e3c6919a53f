public import Foundation

/// One HTTP exchange as the client needs it; a seam so tests can script pages, throttling,
/// hangs and bad bodies without a server.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the complete response, whatever its status.
    /// - Throws: `TransportError` (timeout, connection failure, body over the cap), or
    ///   `CancellationError` when the calling task is cancelled.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

public struct HTTPRequest: Sendable {
    public var url: URL
    public var method: String
    /// Header names as sent; the API key is one of them, so never log a request's headers.
    public var headers: [String: String]
    public var body: Data
    /// A deadline for the whole exchange, a slowly trickling body included.
    public var timeout: TimeInterval
    /// Bodies larger than this are refused rather than buffered.
    public var maxResponseBytes: Int

    public init(url: URL, method: String = "POST", headers: [String: String] = [:], body: Data = Data(),
                timeout: TimeInterval = 60, maxResponseBytes: Int = 64 << 20) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }
}

/// Why an exchange produced no response.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut(seconds: TimeInterval)
    case connection(String)
    /// The API's host name did not resolve.
    case nameResolution(String)
    /// The TLS handshake or the server's certificate failed.
    case tls(String)
    case responseTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .timedOut(let seconds): return "request timed out after \(Int(seconds)) s"
        case .connection(let reason): return "connection failed: \(reason)"
        case .nameResolution(let reason): return "DNS lookup failed: \(reason)"
        case .tls(let reason): return "TLS failed: \(reason)"
        case .responseTooLarge(let limit): return "response body larger than \(limit) bytes, refused"
        }
    }
}
