/// A strict, allocation-free JSON tokenizer over a byte buffer (RFC 8259: no comments, no
/// trailing commas, no NaN, control characters escaped, UTF-8 checked).
///
/// Why not `JSONSerialization` or `Codable`: the event store keeps each event's JSON exactly as
/// it arrived, which needs the byte range of every array element, and building a Foundation
/// tree for every 1.5 KB event costs more CPU than the whole rest of the sync. This reader
/// validates everything it passes over, so a body is either fully valid or rejected.
public struct JSONReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// A string token: the bytes between the quotes, and whether they contain escapes.
    public struct StringToken {
        public let range: Range<Int>
        public let hasEscapes: Bool
    }

    public enum Kind: Equatable {
        case object, array, string, number, bool, null
    }

    // MARK: - Low level

    @inline(__always)
    public var isAtEnd: Bool { offset >= bytes.count }

    @inline(__always)
    func byte(_ index: Int) -> UInt8 { bytes[index] }

    func fail(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset, reason: offset >= bytes.count ? "unexpected end of data (truncated?)" : reason)
    }

    @inline(__always)
    public mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// The kind of the next value, after whitespace.
    public mutating func peekKind() throws(JSONSyntaxError) -> Kind {
        skipWhitespace()
        guard offset < bytes.count else { throw fail("") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[offset])))'")
        }
    }

    @inline(__always)
    public mutating func expect(_ character: UInt8) throws(JSONSyntaxError) {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == character else {
            throw fail("expected '\(Character(Unicode.Scalar(character)))'")
        }
        offset += 1
    }

    /// Consumes `character` if it comes next (after whitespace).
    @inline(__always)
    public mutating func consume(_ character: UInt8) -> Bool {
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == character {
            offset += 1
            return true
        }
        return false
    }

    /// Requires that only whitespace remains.
    public mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        guard offset == bytes.count else { throw fail("unexpected data after the JSON value") }
    }

    // MARK: - Containers

    /// Starts an object; then call `nextKey` until it returns nil.
    public mutating func beginObject() throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"))
    }

    /// The next member's key (the reader then stands before its value), or nil at the
    /// object's end. `first` tracks whether a comma is due.
    public mutating func nextKey(first: inout Bool) throws(JSONSyntaxError) -> StringToken? {
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return nil }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        let key = try readString()
        try expect(UInt8(ascii: ":"))
        return key
    }

    public mutating func beginArray() throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "["))
    }

    /// Moves to the next array element; false at the array's end.
    public mutating func nextElement(first: inout Bool) throws(JSONSyntaxError) -> Bool {
        if consume(UInt8(ascii: "]")) { return false }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        skipWhitespace()
        return true
    }

    // MARK: - Scalars

    /// Reads a string token, validating escapes and UTF-8.
    public mutating func readString() throws(JSONSyntaxError) -> StringToken {
        try expect(UInt8(ascii: "\""))
        let start = offset
        var hasEscapes = false
        while offset < bytes.count {
            // Most of a body is plain ASCII inside strings: skip it eight bytes at a time, up to
            // the first byte that needs a look (a quote, a backslash, a control or non-ASCII byte).
            while offset &+ 8 <= bytes.count {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let special = Self.specialBytes(word)
                if special != 0 {
                    offset &+= special.trailingZeroBitCount &>> 3
                    break
                }
                offset &+= 8
            }
            guard offset < bytes.count else { break }
            let c = bytes[offset]
            if c == UInt8(ascii: "\"") {
                let token = StringToken(range: start..<offset, hasEscapes: hasEscapes)
                offset += 1
                return token
            } else if c == UInt8(ascii: "\\") {
                hasEscapes = true
                offset += 1
                guard offset < bytes.count else { break }
                switch bytes[offset] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    offset += 1
                case UInt8(ascii: "u"):
                    guard offset + 4 < bytes.count else { offset = bytes.count; break }
                    for k in 1...4 where Self.hexValue(bytes[offset + k]) == nil {
                        offset += k
                        throw fail("invalid \\u escape")
                    }
                    offset += 5
                default:
                    throw fail("invalid escape sequence")
                }
            } else if c < 0x20 {
                throw fail("unescaped control character in string")
            } else if c < 0x80 {
                offset += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw fail("unterminated string")
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates).
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let lead = bytes[offset]
        let length: Int
        var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard offset + length <= bytes.count else { offset = bytes.count; throw fail("") }
        let second = bytes[offset + 1]
        guard second >= lower && second <= upper else { throw fail("invalid UTF-8") }
        var k = 2
        while k < length {
            guard bytes[offset + k] & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            k += 1
        }
        offset += length
    }

    /// Reads a number token, validating the grammar; returns its byte range.
    public mutating func readNumber() throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = offset
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count else { throw fail("") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else if Self.isDigit(bytes[offset]) {
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        } else {
            throw fail("invalid number")
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < bytes.count, Self.isDigit(bytes[offset]) else { throw fail("invalid number") }
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, Self.isDigit(bytes[offset]) else { throw fail("invalid number") }
            while offset < bytes.count, Self.isDigit(bytes[offset]) { offset += 1 }
        }
        return start..<offset
    }

    public mutating func readBool() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw fail("invalid literal")
    }

    /// Consumes `null` if it comes next.
    public mutating func consumeNull() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let p = literal.utf8Start
        for k in 0..<count where bytes[offset + k] != p[k] { return false }
        offset += count
        return true
    }

    /// Skips (and validates) one value of any kind; returns its byte range.
    @discardableResult
    public mutating func skipValue() throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = offset
        try skipValue(depth: 0)
        return start..<offset
    }

    private mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        guard depth < 512 else { throw fail("nesting too deep") }
        switch try peekKind() {
        case .object:
            offset += 1
            var first = true
            while try nextKey(first: &first) != nil { try skipValue(depth: depth + 1) }
        case .array:
            offset += 1
            var first = true
            while try nextElement(first: &first) { try skipValue(depth: depth + 1) }
        case .string: _ = try readString()
        case .number: _ = try readNumber()
        case .bool: _ = try readBool()
        case .null:
            guard consumeNull() else { throw fail("invalid literal") }
        }
    }

    // MARK: - Typed conveniences (null or a different type yields nil, for optional columns)

    /// An integer value; nil for null or a value that is not an integer (a float, a string).
    public mutating func readOptionalInt64() throws(JSONSyntaxError) -> Int64? {
        let kind = try peekKind()
        guard kind == .number else {
            try skipValue()
            return nil
        }
        let range = try readNumber()
        return parseInt64(range)
    }

    /// A string value (unescaped); nil for null or a non-string value.
    public mutating func readOptionalString() throws(JSONSyntaxError) -> String? {
        guard try peekKind() == .string else {
            try skipValue()
            return nil
        }
        return decode(try readString())
    }

    /// Parses an integer token (no fraction, no exponent, fits in Int64).
    public func parseInt64(_ range: Range<Int>) -> Int64? {
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var value: Int64 = 0
        while index < range.upperBound {
            let c = bytes[index]
            guard Self.isDigit(c) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = a
            index += 1
        }
        return negative ? -value : value
    }

    /// True when `token`'s raw bytes spell `key` (keys of this API never need escapes; an
    /// escaped key is compared after decoding).
    @inline(__always)
    public func key(_ token: StringToken, is key: StaticString) -> Bool {
        let count = key.utf8CodeUnitCount
        guard !token.hasEscapes else { return decode(token) == key.description }
        guard token.range.count == count else { return false }
        let p = key.utf8Start
        var k = 0
        while k < count {
            if bytes[token.range.lowerBound + k] != p[k] { return false }
            k += 1
        }
        return true
    }

    /// The string a token stands for, with escapes resolved.
    public func decode(_ token: StringToken) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[token.range])
        guard token.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(raw, i)
                i += 4
                // A surrogate pair spells one scalar; a lone surrogate becomes U+FFFD.
                if (0xD800...0xDBFF).contains(scalar), i + 5 < raw.count,
                   raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") {
                    let low = Self.hex4(raw, i + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(character)).utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - Helpers

    /// A mask with the high bit set in (at least) the lowest byte of `word` that is a quote, a
    /// backslash, below 0x20 or above 0x7F, and zero when there is none. Bytes above a flagged one may be
    /// flagged falsely (a borrow carries upwards), never the lowest (little-endian: the first).
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        // (x - 0x01..) & ~x has the high bit of each byte of x that is zero; (w - 0x20..) & ~w,
        // of each byte below 0x20.
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control | word) & highs
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { ($0 << 4) | (hexValue(raw[at + $1]) ?? 0) }
    }
}
