public import Foundation

/// The status file's content. Every key is always present (`null` when unknown), so monitoring
/// can rely on the shape; `encode(to:)` is written by hand because the synthesized one omits nils.
public struct StatusSnapshot: Sendable, Codable, Equatable {
    public struct CheckpointInfo: Sendable, Codable, Equatable {
        public var lastUpdatedTimestamp: Int64
        public var lastUpdated: String
    }

    public struct ErrorInfo: Sendable, Codable, Equatable {
        public var at: String
        public var message: String
        public var httpStatus: Int?
        public var kind: String

        enum CodingKeys: String, CodingKey { case at, message, httpStatus, kind }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(at, forKey: .at)
            try c.encode(message, forKey: .message)
            try c.encode(httpStatus, forKey: .httpStatus)
            try c.encode(kind, forKey: .kind)
        }
    }

    public struct Totals: Sendable, Codable, Equatable {
        public var eventsInserted = 0
        public var eventsUpdated = 0
        public var eventsUnchanged = 0
        /// Deleted by retention (`retention.days`).
        public var eventsPruned = 0
        public var pagesFetched = 0
        public var requestsFailed = 0
    }

    public struct DatabaseInfo: Sendable, Codable, Equatable {
        public var path: String
        public var events: Int64?

        enum CodingKeys: String, CodingKey { case path, events }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(events, forKey: .events)
        }
    }

    public var state: ServiceState
    public var healthy: Bool
    public var checkpoint: CheckpointInfo?
    public var lagSeconds: Double?
    public var lastSuccessAt: String?
    public var lastAttemptAt: String?
    public var nextAttemptAt: String?
    public var lastError: ErrorInfo?
    public var consecutiveFailures: Int
    public var totals: Totals
    public var database: DatabaseInfo
    public var pid: Int32
    public var version: String
    public var startedAt: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case state, healthy, checkpoint, lagSeconds, lastSuccessAt, lastAttemptAt, nextAttemptAt, lastError
        case consecutiveFailures, totals, database, pid, version, startedAt, updatedAt
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(state, forKey: .state)
        try c.encode(healthy, forKey: .healthy)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(lagSeconds, forKey: .lagSeconds)
        try c.encode(lastSuccessAt, forKey: .lastSuccessAt)
        try c.encode(lastAttemptAt, forKey: .lastAttemptAt)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try c.encode(totals, forKey: .totals)
        try c.encode(database, forKey: .database)
        try c.encode(pid, forKey: .pid)
        try c.encode(version, forKey: .version)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }

    /// Pretty, sorted JSON with a trailing newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}
