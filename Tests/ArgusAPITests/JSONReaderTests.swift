@testable import ArgusAPI
import Foundation
import Testing

@Suite("Strict JSON reader")
struct JSONReaderTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }

    @Test("accepts valid documents", arguments: [
        #"{"a":[1,-2.5e3,0.1,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\udee1"]}"#,
        "  [ ]  ", "{}", "0", #""ünïcode 東京""#, "-0", "1E+2",
    ])
    func valid(_ text: String) throws {
        _ = try parse(text)
    }

    @Test("rejects invalid documents", arguments: [
        "", "{", #"{"a":1,}"#, "[1,]", #"{"a" 1}"#, "01", "1.", "-", "+1", ".5", "1e", "tru", "nul", "NaN",
        #"{"a":"unterminated}"#, "\"tab\there\"", #""bad \x escape""#, #""\u12G4""#, "[1] [2]", "{'a':1}",
        "// comment\n1", "[1 2]",
    ])
    func invalid(_ text: String) {
        #expect(throws: (any Error).self) { try parse(text) }
    }

    @Test("rejects invalid UTF-8", arguments: [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xFF, 0x22]])
    func invalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Data(bytes)) }
    }

    @Test("a quote, escape, control or non-ASCII byte is found wherever it lies in an 8-byte word")
    func specialBytePositions() throws {
        for before in 0..<20 {
            for after in [0, 1, 7, 8, 9] {
                let a = String(repeating: "a", count: before), b = String(repeating: "b", count: after)
                #expect(try parse("\"\(a)\(b)\"") == .string(a + b))
                #expect(try parse("\"\(a)\\n\(b)\"") == .string(a + "\n" + b))
                #expect(try parse("\"\(a)\\\"\(b)\"") == .string(a + "\"" + b))
                #expect(try parse("\"\(a)é東\(b)\"") == .string(a + "é東" + b))
                // A raw control byte and an invalid UTF-8 byte are refused at their exact offset.
                for bad: UInt8 in [0x0A, 0x1F, 0xFF] {
                    let bytes = [0x22] + Array(a.utf8) + [bad] + Array(b.utf8) + [0x22]
                    #expect { try JSONValue.parse(Data(bytes)) } throws: { ($0 as? JSONSyntaxError)?.offset == 1 + before }
                }
                // 0x7F (DEL) and 0x20 are plain characters.
                #expect(try parse("\"\(a)\u{7F} \(b)\"") == .string(a + "\u{7F} " + b))
            }
        }
    }

    @Test("a truncated document says so")
    func truncation() {
        #expect {
            try parse(#"{"data":[{"id":"a"},{"id":"#)
        } throws: { "\($0)".contains("unexpected end of data") }
    }

    @Test("decodes escapes, surrogate pairs and keeps number text exact")
    func decoding() throws {
        let value = try parse(#"{"s":"a\"b\u00e9\ud83d\udee1\/","n":12345678901234567890,"f":1.10}"#)
        #expect(value["s"] == .string("a\"bé🛡/"))
        #expect(value["n"] == .number("12345678901234567890"))
        #expect(JSONValue.object([("k", .string("line\nquote\"\u{01}"))]).serialized == #"{"k":"line\nquote\"\u0001"}"#)
        let roundTrip = try parse(value.serialized)
        #expect(roundTrip == value)
    }

    @Test("duplicate keys are refused when asked")
    func duplicates() throws {
        _ = try JSONValue.parse(Data(#"{"a":1,"a":2}"#.utf8))
        #expect(throws: JSONValue.DuplicateKeyError.self) {
            try JSONValue.parse(Data(#"{"a":1,"a":2}"#.utf8), rejectDuplicateKeys: true)
        }
    }

    @Test("integers that do not fit in Int64, or have a fraction, read as nil")
    func integers() throws {
        let data = Data("[9223372036854775807, 9223372036854775808, 1.5, -12, 1e3]".utf8)
        let results: [Int64?] = try data.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            try reader.beginArray()
            var first = true
            var out: [Int64?] = []
            while try reader.nextElement(first: &first) { out.append(try reader.readOptionalInt64()) }
            return out
        }
        #expect(results == [Int64.max, nil, nil, -12, nil])
    }
}
