/// A configuration problem. Each message is one line that names the key and says what is
/// wanted; all of them exit with code 2 and leave nothing on disk.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case notAnObject(key: String)
    case unknownKey(String)
    case missing(String)
    case wrongType(key: String, expected: String, got: String)
    case outOfRange(key: String, value: String, allowed: String)
    case invalidValue(key: String, reason: String)
    case engineOwnedCriterion(String)
    case unknownCriterion(String)
    case missingAPIKey
    case apiKeyUnreadable(path: String, reason: String)
    case unwritable(key: String, path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "config \(path): cannot read: \(reason)"
        case let .invalidJSON(path, reason):
            return "config \(path): not valid JSON: \(reason)"
        case let .notAnObject(key):
            return "config: \(key.isEmpty ? "the top level" : key) must be a JSON object"
        case let .unknownKey(key):
            return "config: unknown key \(key) (see the configuration reference in the README)"
        case let .missing(key):
            return "config: \(key) is required"
        case let .wrongType(key, expected, got):
            return "config: \(key) must be \(expected), got \(got)"
        case let .outOfRange(key, value, allowed):
            return "config: \(key) must be \(allowed), got \(value)"
        case let .invalidValue(key, reason):
            return "config: \(key): \(reason)"
        case let .engineOwnedCriterion(key):
            return "config: sync.criteria.\(key) is set by argus-event-sync itself; remove it"
                + (key == "startTimestamp" ? " and use sync.startTimestamp" : "")
        case let .unknownCriterion(key):
            return "config: sync.criteria.\(key) is not an Argus aggregated-event search criterion"
        case .missingAPIKey:
            return "config: no API key: set api.apiKeyFile, or the ARGUS_API_KEY environment variable, or provide the systemd credential argus-api-key"
        case let .apiKeyUnreadable(path, reason):
            return "config: api.apiKeyFile \(path): \(reason)"
        case let .unwritable(key, path, reason):
            return "config: \(key) \(path) cannot be written: \(reason)"
        }
    }
}
