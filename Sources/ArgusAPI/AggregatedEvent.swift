/// One aggregated event as the store needs it: the byte range of its exact JSON in the response
/// body, plus the fields users filter on, pulled out during the same pass over the bytes.
///
/// Field names follow the Argus `AggregatedIPAttackEvent` model; optional ones are nil when
/// the server omits them, sends null, or sends a value of another type (the stored JSON still
/// holds whatever was sent).
public struct AggregatedEvent: Sendable, Equatable {
    /// Where the event's JSON lies in `SearchPage.body`.
    public var jsonRange: Range<Int>

    public var id: String
    public var lastUpdatedTimestamp: Int64

    public var customerID: Int64?
    public var customerShortName: String?
    public var customerName: String?
    public var timestamp: Int64?
    public var startTimestamp: Int64?
    public var endTimestamp: Int64?
    public var severity: String?
    public var count: Int64?
    public var alarmID: Int64?
    public var alarmDescription: String?
    public var attackCategoryID: Int64?
    public var attackCategoryName: String?
    public var signature: String?
    public var sourceAddress: String?
    public var sourcePort: Int64?
    public var sourceCountry: String?
    public var destinationAddress: String?
    public var destinationPort: Int64?
    public var destinationCountry: String?
    public var protocolName: String?
    public var domain: String?
    public var uri: String?
    public var locationName: String?
    public var associatedCaseID: Int64?
    /// Where the `flags` array and the `properties` object lie in `SearchPage.body`, so they are
    /// stored as received, like the event; nil when absent, null, or of another kind.
    public var flagsRange: Range<Int>?
    public var propertiesRange: Range<Int>?

    public init(jsonRange: Range<Int>, id: String, lastUpdatedTimestamp: Int64) {
        self.jsonRange = jsonRange
        self.id = id
        self.lastUpdatedTimestamp = lastUpdatedTimestamp
    }

    /// The event type: the first segment of the id ("AGGR/1700000000000/1/42" → "AGGR").
    public var type: String {
        id.firstIndex(of: "/").map { String(id[..<$0]) } ?? id
    }

    /// Severity as a sortable number: 1 low, 2 medium, 3 high, 4 critical; nil otherwise.
    public var severityRank: Int64? {
        switch severity?.lowercased() {
        case "low": return 1
        case "medium": return 2
        case "high": return 3
        case "critical": return 4
        default: return nil
        }
    }
}
