public import Foundation

/// The Argus aggregated-event search (and the session check behind `check-config --online`):
/// builds the request, sends it, classifies failures and decodes the envelope. It does not retry; the sync engine's `RetryPolicy` decides that.
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

    public static let sessionPath = "authentication/v1/session"

    /// `{baseURL}/events/v1/aggregated/search`, keeping any path prefix of the base URL.
    public var searchURL: URL { endpoint(Self.searchPath) }

    /// `{baseURL}/authentication/v1/session`: who the API key belongs to.
    public var sessionURL: URL { endpoint(Self.sessionPath) }

    private func endpoint(_ path: String) -> URL {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return URL(string: base + "/" + path)!
    }

    private var headers: [String: String] {
        ["Argus-API-Key": apiKey, "Accept": "application/json", "User-Agent": userAgent]
    }

    public func makeRequest(_ query: SearchQuery) -> HTTPRequest {
        var headers = headers
        headers["Content-Type"] = "application/json"
        if query.bulk { headers["Argus-Priority"] = "bulk" }
        return HTTPRequest(url: searchURL, method: "POST", headers: headers, body: Data(query.body.serialized.utf8),
                           timeout: requestTimeout, maxResponseBytes: maxResponseBytes)
    }

    /// Runs one search.
    /// - Throws: `ArgusAPIError`, or `CancellationError` when the task is cancelled.
    public func search(_ query: SearchQuery) async throws -> SearchPage {
        let response = try await exchange(makeRequest(query))
        do {
            return try EnvelopeDecoder.decodeSearchPage(response.body)
        } catch {
            throw ArgusAPIError.invalidResponse("\(error)")
        }
    }

    /// Asks who the key belongs to (`GET /authentication/v1/session`, 200 for a valid key): the
    /// cheapest way to tell a bad, expired or network-bound key from a search problem.
    /// - Throws: `ArgusAPIError`, or `CancellationError` when the task is cancelled.
    public func session() async throws -> SessionInfo {
        let request = HTTPRequest(url: sessionURL, method: "GET", headers: headers, timeout: requestTimeout,
                                  maxResponseBytes: 1 << 20)
        let response = try await exchange(request)
        guard let root = try? JSONValue.parse(response.body) else {
            throw ArgusAPIError.invalidResponse("the session response is not JSON")
        }
        return SessionInfo(envelope: root)
    }

    /// Sends `request`, mapping transport failures and non-2xx statuses to `ArgusAPIError`.
    private func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            switch error {
            case .timedOut(let seconds): throw ArgusAPIError.timeout(seconds: seconds)
            case .connection(let reason): throw ArgusAPIError.connection(reason)
            case .nameResolution(let reason): throw ArgusAPIError.nameResolution(reason)
            case .tls(let reason): throw ArgusAPIError.tls(reason)
            case .responseTooLarge(let limit): throw ArgusAPIError.responseTooLarge(limit: limit)
            }
        }
        guard (200..<300).contains(response.status) else {
            throw ArgusAPIError.from(status: response.status, headers: response.headers, body: response.body, now: now())
        }
        return response
    }
}
