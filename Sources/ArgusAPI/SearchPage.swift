public import Foundation

/// A decoded, fully validated search response: the envelope's numbers and the events, whose
/// JSON stays in `body` so it can be stored byte for byte.
public struct SearchPage: Sendable {
    public let body: Data
    public let responseCode: Int64?
    public let limit: Int64?
    public let offset: Int64?
    /// What the server says it holds in all; informative only, never trusted for paging.
    public let count: Int64?
    public let size: Int64?
    public let messages: [ArgusMessage]
    public let events: [AggregatedEvent]

    public init(
        body: Data, responseCode: Int64?, limit: Int64?, offset: Int64?, count: Int64?, size: Int64?,
        messages: [ArgusMessage], events: [AggregatedEvent]
    ) {
        self.body = body
        self.responseCode = responseCode
        self.limit = limit
        self.offset = offset
        self.count = count
        self.size = size
        self.messages = messages
        self.events = events
    }

    /// A page with no events, to stand in for one whose memory is no longer needed.
    public static let empty = SearchPage(body: Data(), responseCode: nil, limit: nil, offset: nil, count: nil, size: nil,
                                         messages: [], events: [])

    /// The exact bytes the server sent for `event`.
    public func rawJSON(of event: AggregatedEvent) -> Data {
        body.subdata(in: event.jsonRange)
    }

    /// The highest `lastUpdatedTimestamp` in the page, whatever order the events came in.
    public var maxLastUpdatedTimestamp: Int64? {
        events.lazy.map(\.lastUpdatedTimestamp).max()
    }
}
