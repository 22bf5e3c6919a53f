import ArgusAPI
import Foundation
import Synchronization

/// An in-memory Argus aggregated-search endpoint behind the `HTTPTransport` seam, with the
/// real API's semantics (inclusive `lastUpdatedTimestamp`, sort by it with ties in a stable
/// order, limit/offset, only the latest version of each event) and scriptable faults.
public final class FakeArgus: HTTPTransport {
    public enum Fault: Sendable {
        /// Answer normally (to place a later fault at a given request).
        case answerNormally
        /// Answer with this status and an Argus error envelope.
        case status(Int, retryAfter: String? = nil, message: String? = nil)
        /// A 200 whose body is cut in half.
        case truncatedBody
        /// A 200 whose body is not JSON.
        case malformedBody
        /// A 200 with valid JSON that is not an envelope.
        case notAnEnvelope
        /// A 200 whose first event lacks an id.
        case eventWithoutID
        case timeout
        case connectionReset
        /// Before answering, give `count` events of the requested tie group (those at
        /// positions before the requested offset first) a newer version.
        case updateTieMembers(count: Int)
    }

    public struct Event: Sendable, Equatable {
        public var id: String
        public var lastUpdatedTimestamp: Int64
        public var json: String

        public init(id: String, lastUpdatedTimestamp: Int64, json: String) {
            self.id = id
            self.lastUpdatedTimestamp = lastUpdatedTimestamp
            self.json = json
        }
    }

    public struct Request: Sendable {
        public var headers: [String: String]
        public var body: JSONValue
        public var lastUpdatedTimestamp: Int64 { Int64(body["lastUpdatedTimestamp"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1 }
        public var limit: Int { Int(body["limit"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1 }
        public var offset: Int { Int(body["offset"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1 }
    }

    struct State {
        var events: [String: Event] = [:]
        var faults: [Fault] = []
        var requests: [Request] = []
        var clock: Int64 = 1_700_000_000_000
        var serial = 0
    }

    private let state = Mutex(State())
    public let apiKey: String

    public init(apiKey: String = "test-key") {
        self.apiKey = apiKey
    }

    // MARK: - Scripting

    /// Queues faults; each search consumes one.
    public func inject(_ faults: Fault...) {
        state.withLock { $0.faults.append(contentsOf: faults) }
    }

    public var requests: [Request] { state.withLock { $0.requests } }

    public func clearRequests() { state.withLock { $0.requests.removeAll() } }

    /// The events the server holds, latest versions, by id.
    public var events: [String: Event] { state.withLock { $0.events } }

    /// Adds or replaces an event.
    public func put(_ event: Event) {
        state.withLock { $0.events[event.id] = event }
    }

    /// Adds `count` new events at `timestamp` (or at successive times from the server clock).
    @discardableResult
    public func add(_ count: Int, at timestamp: Int64? = nil, step: Int64 = 1) -> [String] {
        state.withLock { s in
            (0..<count).map { _ in
                s.serial += 1
                let ts: Int64
                if let timestamp { ts = timestamp } else { s.clock += step; ts = s.clock }
                let id = "AGGR/\(ts - 5000)/\(1 + s.serial % 3)/\(s.serial)"
                s.events[id] = Event(id: id, lastUpdatedTimestamp: ts, json: Self.makeJSON(id: id, lastUpdated: ts, serial: s.serial, version: 0))
                return id
            }
        }
    }

    /// Gives `id` a new version at `timestamp` (default: the next server tick).
    public func update(_ id: String, at timestamp: Int64? = nil) {
        state.withLock { s in
            guard let old = s.events[id] else { return }
            s.clock += 1
            let ts = timestamp ?? max(s.clock, old.lastUpdatedTimestamp + 1)
            s.clock = max(s.clock, ts)
            s.serial += 1
            s.events[id] = Event(id: id, lastUpdatedTimestamp: ts, json: Self.makeJSON(id: id, lastUpdated: ts, serial: s.serial, version: 1))
        }
    }

    /// Moves the server clock (new events get later timestamps).
    public func setClock(_ millis: Int64) { state.withLock { $0.clock = millis } }
    public var clock: Int64 { state.withLock { $0.clock } }

    // MARK: - HTTPTransport

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = (try? JSONValue.parse(request.body)) ?? .null
        let record = Request(headers: request.headers, body: body)
        let outcome: Result<HTTPResponse, TransportError> = state.withLock { s in
            s.requests.append(record)
            guard request.headers["Argus-API-Key"] == apiKey else {
                return .success(Self.errorResponse(401, message: "Authentication failed"))
            }
            let fault = s.faults.isEmpty ? nil : s.faults.removeFirst()
            switch fault {
            case .status(let status, let retryAfter, let message)?:
                var response = Self.errorResponse(status, message: message ?? "fault \(status)")
                if let retryAfter { response.headers["retry-after"] = retryAfter }
                return .success(response)
            case .timeout?: return .failure(.timedOut(seconds: request.timeout))
            case .connectionReset?: return .failure(.connection("connection reset by peer"))
            case .updateTieMembers(let count)?:
                Self.updateTieMembers(&s, count: count, timestamp: record.lastUpdatedTimestamp, offset: record.offset)
            default: break
            }
            let page = Self.search(s, record)
            switch fault {
            case .truncatedBody?: return .success(HTTPResponse(status: 200, body: page.prefix(page.count / 2)))
            case .malformedBody?: return .success(HTTPResponse(status: 200, body: Data("{\"responseCode\":200,\"data\":[{\"id\":".utf8)))
            case .notAnEnvelope?: return .success(HTTPResponse(status: 200, body: Data("[\"not\",\"an\",\"envelope\"]".utf8)))
            case .eventWithoutID?:
                return .success(HTTPResponse(status: 200, body: Data(#"{"responseCode":200,"limit":1,"offset":0,"count":1,"size":1,"messages":[],"data":[{"lastUpdatedTimestamp":1}]}"#.utf8)))
            default: return .success(HTTPResponse(status: 200, headers: ["content-type": "application/json"], body: page))
            }
        }
        return try outcome.get()
    }

    // MARK: - Semantics

    static func sorted(_ events: [String: Event]) -> [Event] {
        events.values.sorted { ($0.lastUpdatedTimestamp, $0.id) < ($1.lastUpdatedTimestamp, $1.id) }
    }

    static func search(_ s: State, _ request: Request) -> Data {
        let matching = sorted(s.events).filter { $0.lastUpdatedTimestamp >= request.lastUpdatedTimestamp }
        let limit = request.limit < 0 ? 25 : request.limit
        let offset = max(0, request.offset)
        let slice = matching.dropFirst(offset).prefix(limit)
        let data = slice.map(\.json).joined(separator: ",")
        let text = "{\"responseCode\":200,\"limit\":\(limit),\"offset\":\(offset),\"count\":\(matching.count),\"size\":\(slice.count),\"metaData\":{},\"messages\":[],\"data\":[\(data)]}"
        return Data(text.utf8)
    }

    static func updateTieMembers(_ s: inout State, count: Int, timestamp: Int64, offset: Int) {
        let group = sorted(s.events).filter { $0.lastUpdatedTimestamp == timestamp }
        let chosen = offset > 0 ? Array(group.prefix(offset).suffix(count)) : Array(group.prefix(count))
        let newest = (s.events.values.map(\.lastUpdatedTimestamp).max() ?? s.clock)
        for event in chosen {
            s.serial += 1
            let ts = max(newest, s.clock) + 1
            s.clock = ts
            s.events[event.id] = Event(id: event.id, lastUpdatedTimestamp: ts,
                                       json: makeJSON(id: event.id, lastUpdated: ts, serial: s.serial, version: 1))
        }
    }

    static func errorResponse(_ status: Int, message: String) -> HTTPResponse {
        let text = "{\"responseCode\":\(status),\"limit\":0,\"offset\":0,\"count\":0,\"size\":0,\"metaData\":{},\"messages\":[{\"type\":\"ACTION_ERROR\",\"field\":null,\"message\":\"\(message)\"}],\"data\":[]}"
        return HTTPResponse(status: status, headers: ["content-type": "application/json"], body: Data(text.utf8))
    }

    /// A realistic event, formatted differently by serial so that only a byte-exact store keeps
    /// it intact: compact, spaced, \u-escaped unicode, escaped slashes.
    public static func makeJSON(id: String, lastUpdated: Int64, serial: Int, version: Int) -> String {
        let severities = ["low", "medium", "high", "critical"]
        let customers = [(1, "ærlig", "Ærlig Bank AS"), (2, "muller", "Müller GmbH"), (3, "tokyo", "東京セキュリティ")]
        let customer = customers[serial % 3]
        let escapedName = serial % 5 == 0 ? customer.2.unicodeScalars.map { $0.value < 128 ? String($0) : String(format: "\\u%04x", $0.value) }.joined() : customer.2
        let sep = serial % 7 == 0 ? ", " : ","
        let colon = serial % 7 == 0 ? ": " : ":"
        let uri = serial % 4 == 0 ? "https:\\/\\/example.com\\/login?a=1&b=\\\"x\\\"" : "https://example.com/path/\(serial)"
        let fields: [(String, String)] = [
            ("id", "\"\(id)\""),
            ("customerInfo", "{\"id\"\(colon)\(customer.0)\(sep)\"shortName\"\(colon)\"\(customer.1)\"\(sep)\"name\"\(colon)\"\(escapedName)\"}"),
            ("timestamp", "\(lastUpdated - 5000)"),
            ("startTimestamp", "\(lastUpdated - 9000)"),
            ("endTimestamp", "\(lastUpdated - 1000)"),
            ("lastUpdatedTimestamp", "\(lastUpdated)"),
            ("severity", "\"\(severities[(serial + version) % 4])\""),
            ("count", "\(serial % 50 + 1 + version)"),
            ("attackInfo", "{\"alarmID\":\(1000 + serial % 9),\"alarmDescription\":\"Suspicious \\\"login\\\" – ünïcode\",\"attackCategoryID\":\(serial % 5),\"attackCategoryName\":\"Category \(serial % 5)\",\"signature\":\"sig-\(serial % 13)\"}"),
            ("source", "{\"networkAddress\":{\"address\":\"10.0.\(serial % 256).\(serial % 200)\",\"ipv6\":false,\"public\":false,\"maskBits\":32},\"port\":\(1024 + serial % 5000),\"geoLocation\":{\"countryCode\":\"NO\",\"latitude\":59.91,\"longitude\":1.075e1}}"),
            ("destination", "{\"networkAddress\":{\"address\":\"2001:db8::\(serial % 999)\",\"ipv6\":true},\"port\":443,\"geoLocation\":{\"countryCode\":\"SE\"}}"),
            ("protocol", "\"tcp\""),
            ("domain", serial % 3 == 0 ? "null" : "{\"fqdn\":\"host\(serial).example.com\"}"),
            ("uri", "\"\(uri)\""),
            ("location", "{\"id\":7,\"name\":\"Oslo DC\",\"shortName\":\"osl\",\"timeZone\":\"Europe/Oslo\"}"),
            ("associatedCase", serial % 10 == 0 ? "{\"id\":\(90000 + serial),\"subject\":\"Case\"}" : "null"),
            ("flags", "[\"ESTABLISHED\"\(version > 0 ? ",\"SEVERITY_ADJUSTED\"" : "")]"),
            ("properties", "{\"engine.name\":\"suricata\",\"k\(serial % 3)\":\"v\\n\(serial)\",\"emoji\":\"🛡️\"}"),
            ("comments", "[]"),
        ]
        let members = fields.map { "\"\($0.0)\"\(colon)\($0.1)" }
        let ordered = serial % 6 == 0 ? members.reversed() : members
        return "{" + ordered.joined(separator: sep) + "}"
    }
}
