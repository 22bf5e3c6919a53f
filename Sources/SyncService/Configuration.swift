import ArgusAPI
public import EventSync
public import Foundation

/// The validated configuration file, with every default filled in and every path absolute.
///
/// Loading checks everything (types, ranges, unknown keys, the API key, whether the database
/// and status locations can be written) before anything is created, so `check-config` can be
/// trusted and a bad file never leaves a half-made database behind.
public struct Configuration: Sendable {
    public var configPath: String
    public var baseURL: URL
    public var apiKey: APIKey
    public var requestTimeout: TimeInterval = 60
    public var maxResponseBytes = 64 << 20
    public var sync: SyncSettings
    public var pollInterval: TimeInterval = 60
    public var databasePath: String
    public var statusPath: String
    public var staleAfter: TimeInterval = 600
    /// Where to write Prometheus metrics for node_exporter's textfile collector; nil: nowhere.
    public var metricsPath: String?

    /// The API key; its description never shows it, so it cannot leak through a log line.
    public struct APIKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
        public let value: String
        public init(_ value: String) { self.value = value }
        public var description: String { "<redacted>" }
        public var debugDescription: String { "<redacted>" }
    }

    /// Every key the file may hold, by section.
    static let knownKeys: [String: Set<String>] = [
        "api": ["baseURL", "apiKeyFile", "requestTimeoutSeconds", "maxResponseBytes"],
        "sync": ["startTimestamp", "pageSize", "pollIntervalSeconds", "overlapSeconds", "criteria"],
        "database": ["path", "deferIndexesDuringBackfill"],
        "status": ["path", "staleAfterSeconds"],
        "retention": ["days"],
        "metrics": ["textfilePath"],
    ]

    /// Reads and validates `path`.
    /// - Parameters:
    ///   - environment: for `ARGUS_API_KEY` and `CREDENTIALS_DIRECTORY` (systemd's LoadCredential).
    ///   - now: resolves nothing yet; the default start is resolved by the engine on first run.
    /// - Throws: `ConfigError`.
    public static func load(path: String, environment: [String: String]) throws -> Configuration {
        let reader = try reader(path: path, environment: environment)
        return try reader.read()
    }

    private static func reader(path: String, environment: [String: String]) throws -> ConfigReader {
        let absolutePath = Self.absolute(path, relativeTo: FileManager.default.currentDirectoryPath)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: absolutePath))
        } catch {
            throw ConfigError.unreadable(path: absolutePath, reason: Self.reason(error))
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse(data, rejectDuplicateKeys: true)
        } catch {
            throw ConfigError.invalidJSON(path: absolutePath, reason: "\(error)")
        }
        let folder = (absolutePath as NSString).deletingLastPathComponent
        return ConfigReader(root: root, configPath: absolutePath, folder: folder, environment: environment)
    }

    /// Where the status file is and when it counts as stale, read without the API key (the
    /// monitoring user running `status` need not have it) and without touching the disk.
    public static func statusLocation(configPath: String) throws -> (path: String, staleAfter: TimeInterval) {
        let reader = try reader(path: configPath, environment: [:])
        return try reader.statusLocation()
    }

    /// The Argus client this configuration describes, over URLSession unless `transport` is given.
    func makeClient(transport: (any HTTPTransport)?, now: @escaping @Sendable () -> Date = Date.init) -> ArgusClient {
        ArgusClient(baseURL: baseURL, apiKey: apiKey.value, transport: transport ?? URLSessionTransport(),
                    requestTimeout: requestTimeout, maxResponseBytes: maxResponseBytes, userAgent: Version.userAgent, now: now)
    }

    /// The database's path, read without the API key (a backup needs none).
    public static func databaseLocation(configPath: String) throws -> String {
        try reader(path: configPath, environment: [:]).databaseLocation()
    }

    static func absolute(_ path: String, relativeTo folder: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let joined = expanded.hasPrefix("/") ? expanded : (folder as NSString).appendingPathComponent(expanded)
        return (joined as NSString).standardizingPath
    }

    static func reason(_ error: any Error) -> String {
        if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        let nsError = error as NSError
        if nsError.domain == NSCocoaErrorDomain {
            switch nsError.code {
            case NSFileReadNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        return nsError.localizedDescription
    }
}
