@testable import SyncService
import Testing

@Suite("Command line")
struct CommandTests {
    @Test("parses each command", arguments: [
        (["once", "--config", "a.json"], Command.once(config: "a.json", logLevel: .info)),
        (["run", "--config=a.json", "--log-level", "debug"], .run(config: "a.json", logLevel: .debug)),
        (["check-config", "--config", "a.json"], .checkConfig(config: "a.json", online: false)),
        (["check-config", "--config", "a.json", "--online"], .checkConfig(config: "a.json", online: true)),
        (["backup", "--config", "a.json", "--to", "/tmp/copy.db"], .backup(config: "a.json", destination: "/tmp/copy.db")),
        (["status", "--config", "a.json", "--json"], .status(source: .config("a.json"), json: true)),
        (["status", "--status-file", "/run/s.json"], .status(source: .file("/run/s.json"), json: false)),
        (["--help"], .help), (["-h"], .help), (["once", "--help"], .help), (["--version"], .version),
    ])
    func parses(arguments: [String], expected: Command) throws {
        #expect(try Command.parse(arguments) == expected)
    }

    @Test("refuses bad command lines with a reason", arguments: [
        ([], "no command"), (["sync"], "unknown command sync"), (["once"], "once needs --config"),
        (["once", "--config"], "--config needs a value"), (["once", "--config", "a", "--json"], "unknown option --json"),
        (["once", "--config", "a", "extra"], "unexpected argument extra"), (["run", "--log-level", "loud", "--config", "a"], "--log-level must be one of"),
        (["status"], "status needs --config"), (["status", "--config", "a", "--status-file", "b"], "not both"),
        (["check-config", "--config", "a", "--log-level", "debug"], "unknown option --log-level"),
        (["backup", "--config", "a"], "backup needs --to"), (["once", "--config", "a", "--online"], "unknown option --online"),
    ])
    func refuses(arguments: [String], reason: String) {
        #expect {
            _ = try Command.parse(arguments)
        } throws: { ($0 as? Command.UsageError)?.description.contains(reason) == true }
    }
}
