/// The release, printed by `--version`, in the status file and in the User-Agent.
public enum Version {
    public static let current = "0.1.0"
    public static var userAgent: String { "argus-event-sync/\(current)" }
}
