import ArgusAPI
import Foundation
import Testing

@Suite("Envelope and event decoding")
struct EnvelopeDecoderTests {
    static let eventA = #"{"id":"AGGR/1700000000000/42/abc","lastUpdatedTimestamp":1700000001000,"customerInfo":{"id":42,"shortName":"acme","name":"Acme \u00c6S"},"timestamp":1700000000000,"startTimestamp":1699999990000,"endTimestamp":1700000000500,"severity":"high","count":3,"attackInfo":{"alarmID":7,"alarmDescription":"Port scan","attackCategoryID":2,"attackCategoryName":"Recon","signature":"sig-1"},"source":{"networkAddress":{"address":"10.1.2.3","ipv6":false},"port":5555,"geoLocation":{"countryCode":"NO","latitude":59.9}},"destination":{"networkAddress":{"address":"2001:db8::1"},"port":443,"geoLocation":{"countryCode":"SE"}},"protocol":"tcp","domain":{"fqdn":"x.example"},"uri":"https:\/\/x.example\/","location":{"name":"Oslo"},"associatedCase":{"id":991},"flags":["ESTABLISHED"],"properties":{"a":"b"},"unknownNewField":{"nested":[1,2,{"x":null}]}}"#
    static let eventB = "{ \"lastUpdatedTimestamp\" : 1700000002000 ,\n \"id\" : \"AGGR/2/42/def\", \"severity\": null, \"domain\": null, \"count\": \"3\", \"flags\": null }"

    static func envelope(_ events: String...) -> Data {
        Data("{\"responseCode\":200,\"limit\":2,\"offset\":0,\"count\":99,\"size\":\(events.count),\"metaData\":{},\"messages\":[],\"data\":[\(events.joined(separator: " , "))]}".utf8)
    }

    @Test("keeps each event's exact bytes and pulls out the filter columns")
    func decodesEvents() throws {
        let page = try EnvelopeDecoder.decodeSearchPage(Self.envelope(Self.eventA, Self.eventB))
        #expect(page.events.count == 2)
        #expect(page.count == 99 && page.limit == 2 && page.size == 2)
        #expect(String(decoding: page.rawJSON(of: page.events[0]), as: UTF8.self) == Self.eventA)
        #expect(String(decoding: page.rawJSON(of: page.events[1]), as: UTF8.self) == Self.eventB)
        let a = page.events[0]
        #expect(a.id == "AGGR/1700000000000/42/abc" && a.type == "AGGR")
        #expect(a.lastUpdatedTimestamp == 1_700_000_001_000)
        #expect(a.customerID == 42 && a.customerShortName == "acme" && a.customerName == "Acme ÆS")
        #expect(a.timestamp == 1_700_000_000_000 && a.startTimestamp == 1_699_999_990_000 && a.endTimestamp == 1_700_000_000_500)
        #expect(a.severity == "high" && a.severityRank == 3 && a.count == 3)
        #expect(a.alarmID == 7 && a.alarmDescription == "Port scan" && a.attackCategoryID == 2 && a.attackCategoryName == "Recon")
        #expect(a.signature == "sig-1")
        #expect(a.sourceAddress == "10.1.2.3" && a.sourcePort == 5555 && a.sourceCountry == "NO")
        #expect(a.destinationAddress == "2001:db8::1" && a.destinationPort == 443 && a.destinationCountry == "SE")
        #expect(a.protocolName == "tcp" && a.domain == "x.example" && a.uri == "https://x.example/")
        #expect(a.locationName == "Oslo" && a.associatedCaseID == 991)
        // nulls and values of the wrong type become nil; the stored JSON keeps them
        let b = page.events[1]
        #expect(b.severity == nil && b.domain == nil && b.count == nil)
        #expect(page.maxLastUpdatedTimestamp == 1_700_000_002_000)
    }

    @Test("refuses bodies that are not a complete, valid envelope", arguments: [
        "", "[]", #"{"hello":1}"#, #"{"data":{}}"#, #"{"data":[1]}"#, #"{"data":[{"id":"x"}]}"#,
        #"{"data":[{"lastUpdatedTimestamp":5}]}"#, #"{"data":[{"id":"","lastUpdatedTimestamp":5}]}"#,
        #"{"data":[{"id":"x","lastUpdatedTimestamp":"5"}]}"#, #"{"data":[{"id":"x","lastUpdatedTimestamp":5}]"#,
        #"{"data":[{"id":"x","lastUpdatedTimestamp":5}]} trailing"#, "<html>busy</html>",
    ])
    func refusesInvalid(_ body: String) {
        #expect(throws: EnvelopeDecoder.InvalidEnvelope.self) {
            try EnvelopeDecoder.decodeSearchPage(Data(body.utf8))
        }
    }

    @Test("every prefix of a valid body is refused (truncation can never commit half a page)")
    func everyPrefixRefused() {
        let body = Self.envelope(Self.eventA, Self.eventB)
        for length in 0..<body.count where (try? EnvelopeDecoder.decodeSearchPage(body.prefix(length))) != nil {
            Issue.record("prefix of \(length) bytes was accepted")
        }
    }

    @Test("an empty data array is a valid, empty page")
    func emptyPage() throws {
        #expect(try EnvelopeDecoder.decodeSearchPage(Self.envelope()).events.isEmpty)
    }

    @Test("messages of error envelopes are read leniently")
    func messages() {
        let body = Data(#"{"responseCode":412,"messages":[{"type":"FIELD_ERROR","field":"minSeverity","message":"Invalid value"},"plain"],"data":null}"#.utf8)
        let messages = EnvelopeDecoder.messages(in: body)
        #expect(messages == [ArgusMessage(type: "FIELD_ERROR", field: "minSeverity", message: "Invalid value"), ArgusMessage(message: "plain")])
        #expect(EnvelopeDecoder.messages(in: Data("<html>".utf8)).isEmpty)
    }
}
