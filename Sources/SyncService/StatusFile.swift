public import Foundation

/// Reads and atomically replaces the status file.
///
/// A reader (monitoring, `argus-event-sync status`) must never see a half-written file, so the
/// new content goes to a temporary file in the same folder, is fsync'ed, made world-readable
/// (0644: it holds no secret) and renamed over the old one; rename is atomic on POSIX.
public struct StatusFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public enum ReadError: Error, Sendable, CustomStringConvertible {
        case missing(String)
        case unreadable(String, String)
        case invalid(String, String)

        public var description: String {
            switch self {
            case .missing(let path): return "no status file at \(path) (is argus-event-sync running, and is status.path right?)"
            case .unreadable(let path, let reason): return "cannot read status file \(path): \(reason)"
            case .invalid(let path, let reason): return "status file \(path) is not valid: \(reason)"
            }
        }
    }

    public func write(_ snapshot: StatusSnapshot) throws {
        try Self.writeAtomically(try snapshot.encoded(), to: path, mode: 0o644)
    }

    public func read() throws -> (snapshot: StatusSnapshot, raw: Data) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw ReadError.missing(path) }
            throw ReadError.unreadable(path, (error as NSError).localizedDescription)
        }
        do {
            return (try JSONDecoder().decode(StatusSnapshot.self, from: data), data)
        } catch {
            throw ReadError.invalid(path, "\(error)")
        }
    }

    /// Removes temporary files that an earlier process, killed between writing one and renaming
    /// it, left beside `path` (`.NAME.PID.tmp`, PID not ours).
    public static func removeStaleTemporaries(besides path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let prefix = ".\((path as NSString).lastPathComponent)."
        let ours = ".\(getpid()).tmp"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") && !name.hasSuffix(ours) {
            let middle = name.dropFirst(prefix.count).dropLast(4)
            guard !middle.isEmpty, middle.allSatisfy(\.isNumber) else { continue }
            unlink((folder as NSString).appendingPathComponent(name))
        }
    }

    /// Writes `data` to `path` by temporary file, fsync and rename.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (folder as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw POSIXFailure(operation: "create \(temporary)") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0
        let failure = ok ? nil : POSIXFailure(operation: "write \(temporary)")
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let failure = POSIXFailure(operation: "rename \(temporary) to \(path)")
            unlink(temporary)
            throw failure
        }
    }
}

/// A failed system call, with `strerror(errno)`.
public struct POSIXFailure: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public init(operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "cannot \(operation): \(String(cString: strerror(code)))" }
}
