/// What `GET /authentication/v1/session` says about the key's user, as far as the answer has
/// it; every field is optional because only the status code is relied on.
public struct SessionInfo: Sendable, Equatable {
    public var userName: String?
    public var name: String?
    public var customerShortName: String?
    public var customerName: String?

    public init(userName: String? = nil, name: String? = nil, customerShortName: String? = nil, customerName: String? = nil) {
        self.userName = userName
        self.name = name
        self.customerShortName = customerShortName
        self.customerName = customerName
    }

    /// Reads `data.user` (or `data` itself) of an Argus envelope.
    init(envelope: JSONValue) {
        let data = envelope["data"]
        let user = data?["user"] ?? data
        func text(_ value: JSONValue?) -> String? {
            if case .string(let text)? = value { return text } else { return nil }
        }
        userName = text(user?["userName"])
        name = text(user?["name"])
        customerShortName = text(user?["customer"]?["shortName"])
        customerName = text(user?["customer"]?["name"])
    }

    /// "event-sync (Event sync service user), customer mnemonic", or nil when nothing is known.
    public var summary: String? {
        var parts: [String] = []
        if let userName { parts.append(userName + (name.map { " (\($0))" } ?? "")) } else if let name { parts.append(name) }
        if let customer = customerShortName ?? customerName { parts.append("customer \(customer)") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
