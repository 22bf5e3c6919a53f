import Foundation
import SQLiteKit

/// `backup --config PATH --to FILE`: a consistent copy of the database, made with SQLite's
/// online backup API while the daemon keeps writing, checked, and only then put at FILE.
/// Exit 0 written, 1 failed, 2 bad configuration or destination.
enum BackupCommand {
    static func run(configPath: String, destination: String) -> Int32 {
        let source: String
        do {
            source = try Configuration.databaseLocation(configPath: configPath)
        } catch {
            CLI.printError("\(error)")
            return 2
        }
        let target = Configuration.absolute(destination, relativeTo: FileManager.default.currentDirectoryPath)
        guard !FileManager.default.fileExists(atPath: target) else {
            CLI.printError("backup: \(target) already exists; choose a new file")
            return 2
        }
        guard FileManager.default.fileExists(atPath: source) else {
            CLI.printError("backup: no database at \(source) (database.path); nothing to copy")
            return 1
        }
        do {
            try WritableLocation.check(key: "--to", path: target)
        } catch let error as ConfigError {
            if case .unwritable(_, _, let reason) = error {
                CLI.printError("backup: \(target) cannot be written: \(reason)")
            } else {
                CLI.printError("backup: \(error)")
            }
            return 2
        } catch {
            CLI.printError("backup: \(error)")
            return 2
        }
        // Built beside the target, so the final rename is atomic and a failed copy leaves nothing.
        let partial = target + ".partial-\(getpid())"
        defer {
            for suffix in ["", "-journal", "-wal", "-shm"] { unlink(partial + suffix) }
        }
        do {
            var options = Database.Options()
            options.readOnly = true
            let database = try Database(path: source, options: options)
            try database.backup(to: partial)
            var plain = Database.Options()
            plain.walMode = false
            let copy = try Database(path: partial, options: plain)
            let check = try copy.scalarString("PRAGMA integrity_check")
            guard check == "ok" else {
                CLI.printError("backup: the copy failed SQLite's integrity check: \(check ?? "no answer")")
                return 1
            }
            let events = try copy.scalarInt("SELECT count(*) FROM events") ?? 0
            // Back to a single file: the copy must not depend on a -wal beside it.
            try copy.execute("PRAGMA journal_mode = DELETE")
            guard rename(partial, target) == 0 else { throw POSIXFailure(operation: "rename \(partial) to \(target)") }
            print("backup of \(source) written to \(target): \(events) events")
            return 0
        } catch {
            CLI.printError("backup of \(source) failed: \(error)")
            return 1
        }
    }
}
