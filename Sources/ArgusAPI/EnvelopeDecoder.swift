public import Foundation

/// Turns a response body into a `SearchPage`, in one pass over the bytes.
///
/// The whole body is validated before anything is returned, so a truncated or corrupted
/// response can never commit half a page. Every event must carry a string `id` and an integer
/// `lastUpdatedTimestamp`: without them it can be neither upserted nor paged past.
public enum EnvelopeDecoder {
    /// What is wrong with a body that is not a usable envelope.
    public struct InvalidEnvelope: Error, CustomStringConvertible, Sendable {
        public let reason: String
        public var description: String { reason }
    }

    /// - Throws: `InvalidEnvelope` saying what is wrong and where.
    public static func decodeSearchPage(_ body: Data) throws -> SearchPage {
        try body.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            return try decode(&reader, body: body)
        }
    }

    private static func decode(_ reader: inout JSONReader, body: Data) throws -> SearchPage {
        var responseCode: Int64?, limit: Int64?, offset: Int64?, count: Int64?, size: Int64?
        var messages: [ArgusMessage] = []
        var events: [AggregatedEvent]?
        do {
            guard try reader.peekKind() == .object else {
                throw InvalidEnvelope(reason: "response is not an Argus envelope (expected a JSON object, got \(try reader.peekKind()))")
            }
            try reader.beginObject()
            var first = true
            while let key = try reader.nextKey(first: &first) {
                if reader.key(key, is: "data") {
                    if reader.consumeNull() { continue }
                    events = try decodeEvents(&reader)
                } else if reader.key(key, is: "responseCode") {
                    responseCode = try reader.readOptionalInt64()
                } else if reader.key(key, is: "limit") {
                    limit = try reader.readOptionalInt64()
                } else if reader.key(key, is: "offset") {
                    offset = try reader.readOptionalInt64()
                } else if reader.key(key, is: "count") {
                    count = try reader.readOptionalInt64()
                } else if reader.key(key, is: "size") {
                    size = try reader.readOptionalInt64()
                } else if reader.key(key, is: "messages") {
                    messages = try decodeMessages(&reader)
                } else {
                    try reader.skipValue()
                }
            }
            try reader.expectEnd()
        } catch let error as JSONSyntaxError {
            throw InvalidEnvelope(reason: "response body is not valid JSON: \(error)")
        } catch let error as InvalidEnvelope {
            throw error
        } catch {
            throw InvalidEnvelope(reason: "\(error)")
        }
        guard let events else {
            throw InvalidEnvelope(reason: "response is not an Argus envelope (no \"data\" array)")
        }
        return SearchPage(
            body: body, responseCode: responseCode, limit: limit, offset: offset, count: count, size: size,
            messages: messages, events: events
        )
    }

    /// Best-effort `messages` of an error response; empty when the body is not an envelope
    /// (an HTML page from a proxy, say).
    public static func messages(in body: Data) -> [ArgusMessage] {
        body.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            do {
                guard try reader.peekKind() == .object else { return [] }
                try reader.beginObject()
                var first = true
                while let key = try reader.nextKey(first: &first) {
                    if reader.key(key, is: "messages") { return try decodeMessages(&reader) }
                    try reader.skipValue()
                }
            } catch {}
            return []
        }
    }

    // MARK: - Parts

    private static func decodeMessages(_ reader: inout JSONReader) throws -> [ArgusMessage] {
        guard try reader.peekKind() == .array else {
            try reader.skipValue()
            return []
        }
        var messages: [ArgusMessage] = []
        try reader.beginArray()
        var first = true
        while try reader.nextElement(first: &first) {
            guard try reader.peekKind() == .object else {
                if let text = try reader.readOptionalString() { messages.append(ArgusMessage(message: text)) }
                continue
            }
            var message = ArgusMessage()
            try reader.beginObject()
            var firstKey = true
            while let key = try reader.nextKey(first: &firstKey) {
                if reader.key(key, is: "message") {
                    message.message = try reader.readOptionalString()
                } else if reader.key(key, is: "type") {
                    message.type = try reader.readOptionalString()
                } else if reader.key(key, is: "field") {
                    message.field = try reader.readOptionalString()
                } else {
                    try reader.skipValue()
                }
            }
            messages.append(message)
        }
        return messages
    }

    private static func decodeEvents(_ reader: inout JSONReader) throws -> [AggregatedEvent] {
        guard try reader.peekKind() == .array else {
            throw InvalidEnvelope(reason: "response is not an Argus envelope (\"data\" is \(try reader.peekKind()), not an array)")
        }
        var events: [AggregatedEvent] = []
        try reader.beginArray()
        var first = true
        var index = 0
        while try reader.nextElement(first: &first) {
            events.append(try decodeEvent(&reader, index: index))
            index += 1
        }
        return events
    }

    private static func decodeEvent(_ reader: inout JSONReader, index: Int) throws -> AggregatedEvent {
        guard try reader.peekKind() == .object else {
            throw InvalidEnvelope(reason: "event #\(index) in \"data\" is not a JSON object")
        }
        let start = reader.offset
        var event = AggregatedEvent(jsonRange: start..<start, id: "", lastUpdatedTimestamp: 0)
        var id: String?, lastUpdated: Int64?
        try reader.beginObject()
        var first = true
        while let key = try reader.nextKey(first: &first) {
            switch key.range.count {
            case 2 where reader.key(key, is: "id"):
                id = try reader.readOptionalString()
            case 20 where reader.key(key, is: "lastUpdatedTimestamp"):
                lastUpdated = try reader.readOptionalInt64()
            case 12 where reader.key(key, is: "customerInfo"):
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "id") { event.customerID = try reader.readOptionalInt64() }
                    else if reader.key(key, is: "shortName") { event.customerShortName = try reader.readOptionalString() }
                    else if reader.key(key, is: "name") { event.customerName = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            case 9 where reader.key(key, is: "timestamp"):
                event.timestamp = try reader.readOptionalInt64()
            case 14 where reader.key(key, is: "startTimestamp"):
                event.startTimestamp = try reader.readOptionalInt64()
            case 12 where reader.key(key, is: "endTimestamp"):
                event.endTimestamp = try reader.readOptionalInt64()
            case 8 where reader.key(key, is: "severity"):
                event.severity = try reader.readOptionalString()
            case 5 where reader.key(key, is: "count"):
                event.count = try reader.readOptionalInt64()
            case 10 where reader.key(key, is: "attackInfo"):
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "alarmID") { event.alarmID = try reader.readOptionalInt64() }
                    else if reader.key(key, is: "alarmDescription") { event.alarmDescription = try reader.readOptionalString() }
                    else if reader.key(key, is: "attackCategoryID") { event.attackCategoryID = try reader.readOptionalInt64() }
                    else if reader.key(key, is: "attackCategoryName") { event.attackCategoryName = try reader.readOptionalString() }
                    else if reader.key(key, is: "signature") { event.signature = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            case 6 where reader.key(key, is: "source"):
                let endpoint = try decodeEndpoint(&reader)
                (event.sourceAddress, event.sourcePort, event.sourceCountry) = endpoint
            case 11 where reader.key(key, is: "destination"):
                let endpoint = try decodeEndpoint(&reader)
                (event.destinationAddress, event.destinationPort, event.destinationCountry) = endpoint
            case 8 where reader.key(key, is: "protocol"):
                event.protocolName = try reader.readOptionalString()
            case 6 where reader.key(key, is: "domain"):
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "fqdn") { event.domain = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            case 3 where reader.key(key, is: "uri"):
                event.uri = try reader.readOptionalString()
            case 8 where reader.key(key, is: "location"):
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "name") { event.locationName = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            case 5 where reader.key(key, is: "flags"):
                event.flagsRange = try containerRange(&reader)
            case 10 where reader.key(key, is: "properties"):
                event.propertiesRange = try containerRange(&reader)
            case 14 where reader.key(key, is: "associatedCase"):
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "id") { event.associatedCaseID = try reader.readOptionalInt64() }
                    else { try reader.skipValue() }
                }
            default:
                try reader.skipValue()
            }
        }
        guard let id, !id.isEmpty else {
            throw InvalidEnvelope(reason: "event #\(index) in \"data\" has no string \"id\"")
        }
        guard let lastUpdated else {
            throw InvalidEnvelope(reason: "event \(id) has no integer \"lastUpdatedTimestamp\"")
        }
        event.id = id
        event.lastUpdatedTimestamp = lastUpdated
        event.jsonRange = start..<reader.offset
        return event
    }

    /// The byte range of an array or object value (validated); nil, and skipped, for any other kind.
    private static func containerRange(_ reader: inout JSONReader) throws -> Range<Int>? {
        let kind = try reader.peekKind()
        let range = try reader.skipValue()
        return kind == .array || kind == .object ? range : nil
    }

    /// Walks an object's members with `member`; null or a non-object is skipped.
    private static func decodeObject(
        _ reader: inout JSONReader, _ member: (inout JSONReader, JSONReader.StringToken) throws -> Void
    ) throws {
        guard try reader.peekKind() == .object else {
            try reader.skipValue()
            return
        }
        try reader.beginObject()
        var first = true
        while let key = try reader.nextKey(first: &first) {
            try member(&reader, key)
        }
    }

    /// `IPEndPoint`: networkAddress.address, port, geoLocation.countryCode.
    private static func decodeEndpoint(_ reader: inout JSONReader) throws -> (String?, Int64?, String?) {
        var address: String?, port: Int64?, country: String?
        try decodeObject(&reader) { reader, key in
            if reader.key(key, is: "networkAddress") {
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "address") { address = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            } else if reader.key(key, is: "port") {
                port = try reader.readOptionalInt64()
            } else if reader.key(key, is: "geoLocation") {
                try decodeObject(&reader) { reader, key in
                    if reader.key(key, is: "countryCode") { country = try reader.readOptionalString() }
                    else { try reader.skipValue() }
                }
            } else {
                try reader.skipValue()
            }
        }
        return (address, port, country)
    }
}
