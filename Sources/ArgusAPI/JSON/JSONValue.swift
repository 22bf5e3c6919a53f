public import Foundation

/// A parsed JSON document, for the few places that need a tree: the configuration file and the
/// user's search criteria. Object members keep their order; numbers keep their exact text so an
/// int64 customer id is never rounded through a Double.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b || (Double(a) != nil && Double(a) == Double(b))
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            let bd = Dictionary(b.map { ($0.key, $0.value) }, uniquingKeysWith: { x, _ in x })
            return a.allSatisfy { bd[$0.key] == $0.value }
        default: return false
        }
    }

    /// A duplicate key inside an object (allowed by RFC 8259 but ambiguous in a config file).
    public struct DuplicateKeyError: Error, CustomStringConvertible, Sendable {
        public let key: String
        public var description: String { "duplicate key \"\(key)\"" }
    }

    /// Parses a complete document.
    /// - Throws: `JSONSyntaxError`, or `DuplicateKeyError` when `rejectDuplicateKeys`.
    public static func parse(_ data: Data, rejectDuplicateKeys: Bool = false) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            let value = try parseValue(&reader, depth: 0, rejectDuplicateKeys: rejectDuplicateKeys)
            try reader.expectEnd()
            return value
        }
    }

    private static func parseValue(_ reader: inout JSONReader, depth: Int, rejectDuplicateKeys: Bool) throws -> JSONValue {
        guard depth < 256 else { throw reader.fail("nesting too deep") }
        switch try reader.peekKind() {
        case .null:
            _ = reader.consumeNull()
            return .null
        case .bool: return .bool(try reader.readBool())
        case .number:
            let range = try reader.readNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: reader.bytes[range]), as: UTF8.self))
        case .string: return .string(reader.decode(try reader.readString()))
        case .array:
            try reader.beginArray()
            var items: [JSONValue] = []
            var first = true
            while try reader.nextElement(first: &first) {
                items.append(try parseValue(&reader, depth: depth + 1, rejectDuplicateKeys: rejectDuplicateKeys))
            }
            return .array(items)
        case .object:
            try reader.beginObject()
            var members: [(key: String, value: JSONValue)] = []
            var seen = Set<String>()
            var first = true
            while let token = try reader.nextKey(first: &first) {
                let key = reader.decode(token)
                if rejectDuplicateKeys, !seen.insert(key).inserted { throw DuplicateKeyError(key: key) }
                members.append((key, try parseValue(&reader, depth: depth + 1, rejectDuplicateKeys: rejectDuplicateKeys)))
            }
            return .object(members)
        }
    }

    // MARK: - Access

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// A short name of the value's type, for error messages ("expected a string, got an array").
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    // MARK: - Serialization

    /// Compact JSON text.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(member.key, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
