import ArgusAPI
import EventSync
import Foundation

/// Walks the parsed configuration file, checking each key; kept apart from `Configuration` so
/// the type that the rest of the program reads stays a plain value.
struct ConfigReader {
    let root: JSONValue
    let configPath: String
    let folder: String
    let environment: [String: String]

    /// Search criteria the Argus API knows (from its `AggregatedEventSearchCriteria` model),
    /// less the ones the engine owns; a typo would otherwise silently widen the search.
    static let knownCriteria: Set<String> = [
        "includeDeleted", "customerID", "skipFutureEvents", "exclude", "required", "eventIdentifier", "locationID",
        "severity", "customer", "alarmID", "attackCategoryID", "sourceGeoCountry", "destinationGeoCountry",
        "geoCountry", "domain", "properties", "productionCustomers", "exactMatchProperties", "includeUnpublished",
        "multivaluePropertySeparator", "minCount", "associatedCaseID", "sourceIPMinBits", "destinationIPMinBits",
        "subCriteria", "signature", "endTimestamp", "excludeFlag", "includeFlag", "includeFlags", "excludeFlags",
        "indexStartTime", "indexEndTime", "destinationIP", "sourceIP", "ip", "destinationPort", "sourcePort", "port",
        "minSeverity", "maxSeverity",
    ]

    func read() throws -> Configuration {
        try checkKeys()

        // api
        guard let baseURLText = try string("api.baseURL") else { throw ConfigError.missing("api.baseURL") }
        let baseURL = try url(baseURLText)
        let apiKey = try resolveAPIKey()

        // sync
        var settings = SyncSettings(criteria: try criteria())
        settings.startTimestamp = try startTimestamp()
        settings.pageSize = try integer("sync.pageSize", in: 1...10_000) ?? 1000
        settings.overlap = try seconds("sync.overlapSeconds", in: 0...86_400) ?? 60
        settings.retention = try seconds("retention.days", in: 1...36_500).map { $0 * 86_400 }
        settings.deferQueryIndexes = try boolean("database.deferIndexesDuringBackfill") ?? true

        // database, status
        let databasePath = try self.databasePath()
        let statusPath = try self.statusPath(databasePath: databasePath)

        var configuration = Configuration(
            configPath: configPath, baseURL: baseURL, apiKey: apiKey, sync: settings,
            databasePath: databasePath, statusPath: statusPath)
        configuration.requestTimeout = try seconds("api.requestTimeoutSeconds", in: 1...3600) ?? 60
        configuration.maxResponseBytes = try integer("api.maxResponseBytes", in: (1 << 20)...(1 << 30)) ?? (64 << 20)
        configuration.pollInterval = try seconds("sync.pollIntervalSeconds", in: 1...86_400) ?? 60
        configuration.staleAfter = try seconds("status.staleAfterSeconds", in: 1...(86_400 * 30)) ?? 600
        configuration.metricsPath = try optionalPath("metrics.textfilePath")

        try WritableLocation.check(key: "database.path", path: databasePath)
        try WritableLocation.check(key: "status.path", path: statusPath)
        if let metricsPath = configuration.metricsPath {
            try WritableLocation.check(key: "metrics.textfilePath", path: metricsPath)
        }
        return configuration
    }

    /// Only what `status` needs: the status file and the staleness limit.
    func statusLocation() throws -> (path: String, staleAfter: TimeInterval) {
        try checkKeys()
        let path = try statusPath(databasePath: try databasePath())
        return (path, try seconds("status.staleAfterSeconds", in: 1...(86_400 * 30)) ?? 600)
    }

    /// Only what `backup` needs: the database file.
    func databaseLocation() throws -> String {
        try checkKeys()
        return try databasePath()
    }

    private func checkKeys() throws {
        guard case .object(let sections) = root else { throw ConfigError.notAnObject(key: "") }
        for (name, value) in sections {
            guard let allowed = Configuration.knownKeys[name] else { throw ConfigError.unknownKey(name) }
            guard case .object(let members) = value else { throw ConfigError.notAnObject(key: name) }
            for member in members where !allowed.contains(member.key) {
                throw ConfigError.unknownKey("\(name).\(member.key)")
            }
        }
    }

    private func databasePath() throws -> String {
        guard let text = try string("database.path"), !text.isEmpty else { throw ConfigError.missing("database.path") }
        return Configuration.absolute(text, relativeTo: folder)
    }

    /// A path that may be left out, resolved against the config's folder.
    private func optionalPath(_ key: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        guard !text.isEmpty else { throw ConfigError.invalidValue(key: key, reason: "must not be empty") }
        return Configuration.absolute(text, relativeTo: folder)
    }

    /// `status.path`, by default beside the database.
    private func statusPath(databasePath: String) throws -> String {
        guard let text = try string("status.path") else { return databasePath + ".status.json" }
        guard !text.isEmpty else { throw ConfigError.invalidValue(key: "status.path", reason: "must not be empty") }
        return Configuration.absolute(text, relativeTo: folder)
    }

    // MARK: - Typed access

    private func value(_ dotted: String) -> JSONValue? {
        let parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
        guard let section = root[parts[0]], let value = section[parts[1]] else { return nil }
        if case .null = value { return nil }  // an explicit null means "the default"
        return value
    }

    private func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw ConfigError.wrongType(key: key, expected: "a string", got: value.typeName)
        }
        return text
    }

    private func boolean(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw ConfigError.wrongType(key: key, expected: "true or false", got: value.typeName)
        }
        return flag
    }

    private func number(_ key: String) throws -> (text: String, value: Double)? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value, let number = Double(text) else {
            throw ConfigError.wrongType(key: key, expected: "a number", got: value.typeName)
        }
        return (text, number)
    }

    private func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let (text, number) = try number(key) else { return nil }
        guard let integer = Int(text) ?? (number.rounded() == number && abs(number) < 1e15 ? Int(number) : nil) else {
            throw ConfigError.wrongType(key: key, expected: "a whole number", got: text)
        }
        guard range.contains(integer) else {
            throw ConfigError.outOfRange(key: key, value: text, allowed: "between \(range.lowerBound) and \(range.upperBound)")
        }
        return integer
    }

    private func seconds(_ key: String, in range: ClosedRange<Double>) throws -> TimeInterval? {
        guard let (text, number) = try number(key) else { return nil }
        guard range.contains(number) else {
            throw ConfigError.outOfRange(key: key, value: text,
                                         allowed: "between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)) seconds")
        }
        return number
    }

    private static func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(value)
    }

    // MARK: - Keys with rules of their own

    private func url(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw ConfigError.invalidValue(key: "api.baseURL", reason: "\"\(text)\" is not an absolute URL such as https://api.mnemonic.no")
        }
        guard scheme == "https" || scheme == "http" else {
            throw ConfigError.invalidValue(key: "api.baseURL", reason: "scheme must be https or http, got \(scheme)")
        }
        guard url.query == nil, url.fragment == nil else {
            throw ConfigError.invalidValue(key: "api.baseURL", reason: "must not contain a query or fragment")
        }
        return url
    }

    private func resolveAPIKey() throws -> Configuration.APIKey {
        let key: String
        if let file = try string("api.apiKeyFile") {
            let path = Configuration.absolute(file, relativeTo: folder)
            do {
                key = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            } catch {
                throw ConfigError.apiKeyUnreadable(path: path, reason: Configuration.reason(error))
            }
        } else if let fromEnvironment = environment["ARGUS_API_KEY"], !fromEnvironment.isEmpty {
            key = fromEnvironment
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"],
                  let data = FileManager.default.contents(atPath: (credentials as NSString).appendingPathComponent("argus-api-key")) {
            key = String(decoding: data, as: UTF8.self)
        } else {
            throw ConfigError.missingAPIKey
        }
        let trimmed = key.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ConfigError.missingAPIKey }
        // The key goes into an HTTP header: a control character would split or corrupt it.
        guard trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
            throw ConfigError.invalidValue(key: "api key", reason: "contains characters that cannot be sent in an HTTP header")
        }
        return Configuration.APIKey(trimmed)
    }

    private func criteria() throws -> [(key: String, value: JSONValue)] {
        guard let value = value("sync.criteria") else { return [] }
        guard case .object(let members) = value else {
            throw ConfigError.wrongType(key: "sync.criteria", expected: "an object", got: value.typeName)
        }
        for member in members {
            if SearchQuery.engineOwnedKeys.contains(member.key) { throw ConfigError.engineOwnedCriterion(member.key) }
            if !Self.knownCriteria.contains(member.key) { throw ConfigError.unknownCriterion(member.key) }
        }
        return members
    }

    private func startTimestamp() throws -> Int64? {
        let key = "sync.startTimestamp"
        guard let value = value(key) else { return nil }
        let millis: Int64?
        switch value {
        case .number(let text):
            millis = Int64(text)
        case .string(let text):
            millis = Int64(text) ?? Self.parseISO8601(text)
        default:
            throw ConfigError.wrongType(key: key, expected: "an ISO-8601 time or epoch milliseconds", got: value.typeName)
        }
        guard let millis else {
            throw ConfigError.invalidValue(key: key, reason: "\(value.serialized) is neither an ISO-8601 time (2024-05-01T00:00:00Z) nor epoch milliseconds")
        }
        guard millis >= 0, millis <= Date().addingTimeInterval(86_400).epochMilliseconds else {
            throw ConfigError.outOfRange(key: key, value: value.serialized, allowed: "a time between 1970 and now")
        }
        return millis
    }

    static func parseISO8601(_ text: String) -> Int64? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        for formatter in [withFraction, plain, dateOnly] {
            if let date = formatter.date(from: text) { return date.epochMilliseconds }
        }
        return nil
    }
}
