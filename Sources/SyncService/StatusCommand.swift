import Foundation

/// `status`: prints the daemon's health from its status file, usable as a monitoring check.
/// Exit 0 healthy and fresh, 1 unhealthy or stale, 3 no readable status file (2 bad usage).
enum StatusCommand {
    static func run(source: Command.StatusSource, json: Bool, now: Date = Date()) -> Int32 {
        let path: String
        var staleAfter: TimeInterval = 600
        switch source {
        case .file(let file):
            path = Configuration.absolute(file, relativeTo: FileManager.default.currentDirectoryPath)
        case .config(let config):
            do {
                let location = try Configuration.statusLocation(configPath: config)
                path = location.path
                staleAfter = location.staleAfter
            } catch {
                CLI.printError("\(error)")
                return 2
            }
        }
        let snapshot: StatusSnapshot
        let raw: Data
        do {
            (snapshot, raw) = try StatusFile(path: path).read()
        } catch {
            CLI.printError("\(error)")
            return 3
        }
        let age = ISO8601.date(from: snapshot.updatedAt).map { now.timeIntervalSince($0) }
        let stale = age.map { $0 > staleAfter } ?? true
        let ok = snapshot.healthy && !stale
        if json {
            FileHandle.standardOutput.write(raw)
        } else {
            print(summary(snapshot, age: age, stale: stale, staleAfter: staleAfter))
        }
        return ok ? 0 : 1
    }

    static func summary(_ s: StatusSnapshot, age: TimeInterval?, stale: Bool, staleAfter: TimeInterval) -> String {
        var verdict = s.healthy ? "healthy" : "UNHEALTHY"
        if stale { verdict += ", STALE (not updated for \(age.map { "\(Int($0)) s" } ?? "an unknown time"), limit \(Int(staleAfter)) s)" }
        var lines = ["argus-event-sync \(s.version) (pid \(s.pid)): \(s.state.rawValue), \(verdict)"]
        if let checkpoint = s.checkpoint {
            lines.append("  checkpoint    \(checkpoint.lastUpdated)" + (s.lagSeconds.map { " (lag \(Int($0)) s)" } ?? ""))
        } else {
            lines.append("  checkpoint    none yet")
        }
        lines.append("  last success  \(s.lastSuccessAt ?? "never")")
        if let next = s.nextAttemptAt { lines.append("  next attempt  \(next)") }
        if let error = s.lastError {
            lines.append("  last error    \(error.at) [\(error.kind)\(error.httpStatus.map { ", HTTP \($0)" } ?? "")] \(error.message)")
        }
        if s.consecutiveFailures > 0 { lines.append("  failures      \(s.consecutiveFailures) in a row") }
        lines.append("  events        \(s.database.events.map(String.init) ?? "?") in \(s.database.path)")
        let t = s.totals
        lines.append("  since start   \(t.eventsInserted) new, \(t.eventsUpdated) updated, \(t.eventsUnchanged) unchanged, \(t.pagesFetched) pages, \(t.requestsFailed) failed requests")
        lines.append("  updated at    \(s.updatedAt)")
        return lines.joined(separator: "\n")
    }
}
