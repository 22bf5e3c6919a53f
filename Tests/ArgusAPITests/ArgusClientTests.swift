import ArgusAPI
import Foundation
import Synchronization
import Testing

/// Answers every request with one canned response and remembers the request.
final class CannedTransport: HTTPTransport {
    let response: Result<HTTPResponse, TransportError>
    let seen = Mutex<[HTTPRequest]>([])

    init(_ response: Result<HTTPResponse, TransportError>) { self.response = response }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        seen.withLock { $0.append(request) }
        return try response.get()
    }
}

@Suite("Argus client: requests and error classification")
struct ArgusClientTests {
    func client(_ transport: CannedTransport, base: String = "https://api.mnemonic.no/") -> ArgusClient {
        ArgusClient(baseURL: URL(string: base)!, apiKey: "secret-key", transport: transport, requestTimeout: 12,
                    maxResponseBytes: 1234, userAgent: "argus-event-sync/test", now: { Date(timeIntervalSince1970: 1_000_000) })
    }

    func query(bulk: Bool = false) -> SearchQuery {
        SearchQuery(criteria: [("customer", .array([.string("acme")])), ("minSeverity", .string("high"))],
                    startTimestamp: 1_600_000_000_000, lastUpdatedTimestamp: 1_700_000_000_123, limit: 500, offset: 1000, bulk: bulk)
    }

    @Test("builds the POST with headers, the merged body and the path under any base prefix")
    func requestShape() async throws {
        let transport = CannedTransport(.success(HTTPResponse(status: 200, body: Data(#"{"data":[]}"#.utf8))))
        _ = try await client(transport, base: "https://proxy.example/argus").search(query(bulk: true))
        let request = try #require(transport.seen.withLock { $0.first })
        #expect(request.url.absoluteString == "https://proxy.example/argus/events/v1/aggregated/search")
        #expect(request.method == "POST")
        #expect(request.headers["Argus-API-Key"] == "secret-key")
        #expect(request.headers["Content-Type"] == "application/json" && request.headers["Accept"] == "application/json")
        #expect(request.headers["User-Agent"] == "argus-event-sync/test")
        #expect(request.headers["Argus-Priority"] == "bulk")
        #expect(request.timeout == 12 && request.maxResponseBytes == 1234)
        let body = try JSONValue.parse(request.body)
        #expect(body == .object([
            ("customer", .array([.string("acme")])), ("minSeverity", .string("high")),
            ("startTimestamp", .number("1600000000000")), ("lastUpdatedTimestamp", .number("1700000000123")),
            ("sortBy", .array([.string("lastUpdatedTimestamp")])), ("limit", .number("500")), ("offset", .number("1000")),
        ]))
    }

    @Test("no bulk header in steady state")
    func noBulk() async throws {
        let transport = CannedTransport(.success(HTTPResponse(status: 200, body: Data(#"{"data":[]}"#.utf8))))
        _ = try await client(transport).search(query())
        #expect(transport.seen.withLock { $0[0].headers["Argus-Priority"] } == nil)
    }

    @Test("classifies statuses", arguments: [
        (401, "authentication", false), (403, "permission", false), (412, "criteria-rejected", false),
        (400, "client-error", false), (404, "client-error", false), (429, "throttled", true), (503, "throttled", true),
        (500, "server-error", true), (502, "server-error", true), (504, "server-error", true), (408, "timeout", true),
    ])
    func classification(status: Int, kind: String, retryable: Bool) async {
        let body = Data(#"{"responseCode":0,"messages":[{"message":"because"}],"data":[]}"#.utf8)
        let transport = CannedTransport(.success(HTTPResponse(status: status, body: body)))
        await #expect {
            _ = try await client(transport).search(query())
        } throws: { error in
            guard let error = error as? ArgusAPIError else { return false }
            return error.kind == kind && error.isRetryable == retryable && (status == 408 || "\(error)".contains("because"))
        }
    }

    @Test("transport failures map to timeout, connection and too-large errors")
    func transportFailures() async {
        for (failure, kind, retryable) in [(TransportError.timedOut(seconds: 12), "timeout", true),
                                           (.connection("refused"), "connection", true),
                                           (.responseTooLarge(limit: 1234), "response-too-large", false)] {
            await #expect {
                _ = try await client(CannedTransport(.failure(failure))).search(query())
            } throws: { ($0 as? ArgusAPIError)?.kind == kind && ($0 as? ArgusAPIError)?.isRetryable == retryable }
        }
    }

    @Test("a 200 with a body that is not an envelope is a retryable invalid response")
    func invalidBody() async {
        await #expect {
            _ = try await client(CannedTransport(.success(HTTPResponse(status: 200, body: Data("{\"data\":[{".utf8))))).search(query())
        } throws: { ($0 as? ArgusAPIError)?.kind == "invalid-response" && ($0 as? ArgusAPIError)?.isRetryable == true }
    }

    @Test("the API key never appears in an error's text")
    func keyNotInErrors() async {
        let transport = CannedTransport(.success(HTTPResponse(status: 401, body: Data())))
        await #expect {
            _ = try await client(transport).search(query())
        } throws: { !"\($0)".contains("secret-key") && !String(reflecting: $0).contains("secret-key") }
    }

    @Test("Retry-After as seconds or HTTP-date")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(RetryAfter.parse("120", now: now) == 120)
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == 30)
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == 0)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
    }
}
