/// One entry of an Argus envelope's `messages` (usually why a request was refused).
public struct ArgusMessage: Sendable, Equatable, CustomStringConvertible {
    public var type: String?
    public var field: String?
    public var message: String?

    public init(type: String? = nil, field: String? = nil, message: String? = nil) {
        self.type = type
        self.field = field
        self.message = message
    }

    public var description: String {
        [field.map { "\($0): " } ?? "", message ?? type ?? "(no message)"].joined()
    }
}
