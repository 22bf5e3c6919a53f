public import Foundation

/// The Argus aggregated-event search: builds the request, sends it, classifies failures and
/// decodes the envelope. It does not retry; the sync engine's `RetryPolicy` decides that.
public struct ArgusClient: Sendable {
    public static let searchPath = "events/v1/aggregated/search"

    public var baseURL: URL
    private let apiKey: String
    public var transport: any HTTPTransport
    public var requestTimeout: TimeInterval
    public var maxResponseBytes: Int
    public var userAgent: String
    /// The current time, for HTTP-date `Retry-After` values.
    public var now: @Sendable () -> Date

    public init(baseURL: URL, apiKey: String, transport: any HTTPTransport, requestTimeout: TimeInterval = 60,
                maxResponseBytes: Int = 64 << 20, userAgent: String, now: @escaping @Sendable () -> Date = Date.init) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.transport = transport
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
        self.userAgent = userAgent
        self.now = now
    }

    /// `{baseURL}/events/v1/aggregated/search`, keeping any path prefix of the base URL.
    public var searchURL: URL {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return URL(string: base + "/" + Self.searchPath)!
    }

    public func makeRequest(_ query: SearchQuery) -> HTTPRequest {
        var headers = [
            "Argus-API-Key": apiKey,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": userAgent,
        ]
        if query.bulk { headers["Argus-Priority"] = "bulk" }
        return HTTPRequest(url: searchURL, method: "POST", headers: headers, body: Data(query.body.serialized.utf8),
                           timeout: requestTimeout, maxResponseBytes: maxResponseBytes)
    }

    /// Runs one search.
    /// - Throws: `ArgusAPIError`, or `CancellationError` when the task is cancelled.
    public func search(_ query: SearchQuery) async throws -> SearchPage {
        let response: HTTPResponse
        do {
            response = try await transport.send(makeRequest(query))
        } catch let error as TransportError {
            switch error {
            case .timedOut(let seconds): throw ArgusAPIError.timeout(seconds: seconds)
            case .connection(let reason): throw ArgusAPIError.connection(reason)
            case .responseTooLarge(let limit): throw ArgusAPIError.responseTooLarge(limit: limit)
            }
        }
        guard (200..<300).contains(response.status) else {
            throw ArgusAPIError.from(status: response.status, headers: response.headers, body: response.body, now: now())
        }
        do {
            return try EnvelopeDecoder.decodeSearchPage(response.body)
        } catch {
            throw ArgusAPIError.invalidResponse("\(error)")
        }
    }
}
