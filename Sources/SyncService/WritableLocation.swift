import Foundation

/// Checks, without creating anything, that a file can later be created or written at a path:
/// the file itself if it exists, else the nearest existing ancestor folder.
enum WritableLocation {
    static func check(key: String, path: String) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else {
                throw ConfigError.unwritable(key: key, path: path, reason: "it is a directory")
            }
            guard access(path, R_OK | W_OK) == 0 else {
                throw ConfigError.unwritable(key: key, path: path, reason: String(cString: strerror(errno)))
            }
            return
        }
        var ancestor = (path as NSString).deletingLastPathComponent
        while !fileManager.fileExists(atPath: ancestor, isDirectory: &isDirectory) {
            let parent = (ancestor as NSString).deletingLastPathComponent
            if parent == ancestor { break }
            ancestor = parent
        }
        guard isDirectory.boolValue else {
            throw ConfigError.unwritable(key: key, path: path, reason: "\(ancestor) is not a directory")
        }
        guard access(ancestor, W_OK | X_OK) == 0 else {
            throw ConfigError.unwritable(key: key, path: path, reason: "\(ancestor): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates the folders leading to `path` (the database's, the status file's).
    static func createParent(of path: String, key: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw ConfigError.unwritable(key: key, path: path, reason: Configuration.reason(error))
        }
    }
}
