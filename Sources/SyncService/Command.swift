/// The command line, parsed into one value before anything runs.
public enum Command: Equatable, Sendable {
    case once(config: String, logLevel: Logger.Level)
    case run(config: String, logLevel: Logger.Level)
    case checkConfig(config: String, online: Bool)
    case backup(config: String, destination: String)
    case status(source: StatusSource, json: Bool)
    case help
    case version

    public enum StatusSource: Equatable, Sendable {
        case config(String)
        case file(String)
    }

    /// A command line that cannot be run; exit code 2, with the usage.
    public struct UsageError: Error, Equatable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static let usage = """
        Usage: argus-event-sync <command> [options]

        Keeps a local SQLite mirror of the mnemonic Argus aggregated events of one search.

        Commands:
          once --config PATH          catch up to the present, then exit (0 ok, 1 failed, 2 bad config)
          run --config PATH           catch up, then poll until SIGTERM/SIGINT (systemd Type=notify)
          check-config --config PATH [--online]
                                      validate the configuration and the API key's presence (0 ok, 2 bad);
                                      --online also signs in and runs a one-event search (0 ok, 1 failed)
          backup --config PATH --to FILE
                                      a consistent copy of the database, safe while run is writing (0 ok, 1 failed)
          status --config PATH | --status-file PATH [--json]
                                      print the daemon's health (0 healthy, 1 unhealthy or stale, 3 no status)

        Options:
          --config PATH               the JSON configuration file
          --log-level LEVEL           trace, debug, info (default), notice, warning, error (once, run)
          --json                      print the status file as it is (status)
          --online                    also check the key and the search against the API (check-config)
          --to FILE                   where to write the copy; must not exist yet (backup)
          -h, --help                  show this help
          --version                   print the version
        """

    /// Parses `arguments` (without the program name).
    /// - Throws: `UsageError`.
    public static func parse(_ arguments: [String]) throws -> Command {
        var iterator = arguments.makeIterator()
        guard let verb = iterator.next() else { throw UsageError("no command given") }
        switch verb {
        case "-h", "--help", "help": return .help
        case "--version", "version": return .version
        default: break
        }
        var config: String?
        var statusFile: String?
        var json = false
        var online = false
        var destination: String?
        var logLevel = Logger.Level.info
        var wantsHelp = false
        while let argument = iterator.next() {
            func value() throws -> String {
                guard let value = iterator.next(), !value.hasPrefix("--") || value == "--" else {
                    throw UsageError("\(argument) needs a value")
                }
                return value
            }
            var name = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            switch name {
            case "--config": config = try inline ?? value()
            case "--status-file" where verb == "status": statusFile = try inline ?? value()
            case "--json" where verb == "status" && inline == nil: json = true
            case "--online" where verb == "check-config" && inline == nil: online = true
            case "--to" where verb == "backup": destination = try inline ?? value()
            case "--log-level" where verb == "once" || verb == "run":
                let text = try inline ?? value()
                guard let level = Logger.Level.allCases.first(where: { $0.name == text.lowercased() }) else {
                    throw UsageError("--log-level must be one of \(Logger.Level.allCases.map(\.name).joined(separator: ", ")), got \(text)")
                }
                logLevel = level
            case "-h", "--help": wantsHelp = true
            default:
                throw UsageError(argument.hasPrefix("-") ? "unknown option \(argument) for \(verb)" : "unexpected argument \(argument)")
            }
        }
        if wantsHelp { return .help }
        func requireConfig() throws -> String {
            guard let config, !config.isEmpty else { throw UsageError("\(verb) needs --config PATH") }
            return config
        }
        switch verb {
        case "once": return .once(config: try requireConfig(), logLevel: logLevel)
        case "run": return .run(config: try requireConfig(), logLevel: logLevel)
        case "check-config": return .checkConfig(config: try requireConfig(), online: online)
        case "backup":
            let config = try requireConfig()
            guard let destination, !destination.isEmpty else { throw UsageError("backup needs --to FILE") }
            return .backup(config: config, destination: destination)
        case "status":
            switch (config, statusFile) {
            case (let config?, nil): return .status(source: .config(config), json: json)
            case (nil, let file?): return .status(source: .file(file), json: json)
            case (.some, .some): throw UsageError("status takes --config or --status-file, not both")
            case (nil, nil): throw UsageError("status needs --config PATH or --status-file PATH")
            }
        default:
            throw UsageError("unknown command \(verb)")
        }
    }
}
