import Foundation

/// One aggregated-search request: the user's criteria plus the keys the sync engine owns.
public struct SearchQuery: Sendable, Equatable {
    /// Members merged into the body first (customer, minSeverity, includeFlags, ...).
    public var criteria: [(key: String, value: JSONValue)]
    /// The search's fixed lower bound on event time; never derived from the cursor.
    public var startTimestamp: Int64
    /// Inclusive lower bound on `lastUpdatedTimestamp` (epoch ms): the cursor.
    public var lastUpdatedTimestamp: Int64
    public var limit: Int
    public var offset: Int
    /// Sends `Argus-Priority: bulk`, which Argus asks heavy loaders to use during catch-up.
    public var bulk: Bool

    /// Keys the engine sets; a criteria object must not contain them.
    public static let engineOwnedKeys: Set<String> = [
        "lastUpdatedTimestamp", "sortBy", "limit", "offset", "timeFieldStrategy", "startTimestamp",
    ]

    public init(criteria: [(key: String, value: JSONValue)] = [], startTimestamp: Int64, lastUpdatedTimestamp: Int64,
                limit: Int, offset: Int = 0, bulk: Bool = false) {
        self.criteria = criteria
        self.startTimestamp = startTimestamp
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
        self.limit = limit
        self.offset = offset
        self.bulk = bulk
    }

    public static func == (lhs: SearchQuery, rhs: SearchQuery) -> Bool {
        JSONValue.object(lhs.criteria) == JSONValue.object(rhs.criteria) && lhs.startTimestamp == rhs.startTimestamp
            && lhs.lastUpdatedTimestamp == rhs.lastUpdatedTimestamp && lhs.limit == rhs.limit
            && lhs.offset == rhs.offset && lhs.bulk == rhs.bulk
    }

    /// The JSON body. `startTimestamp` goes as epoch millis, which the API accepts for its
    /// string-typed time fields.
    public var body: JSONValue {
        var members = criteria.filter { !Self.engineOwnedKeys.contains($0.key) }
        members.append(("startTimestamp", .number(String(startTimestamp))))
        members.append(("lastUpdatedTimestamp", .number(String(lastUpdatedTimestamp))))
        members.append(("sortBy", .array([.string("lastUpdatedTimestamp")])))
        members.append(("limit", .number(String(limit))))
        members.append(("offset", .number(String(offset))))
        return .object(members)
    }
}
