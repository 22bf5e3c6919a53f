public import ArgusAPI
import EventSync
public import Foundation

/// The commands behind the executable. Exit codes: 0 success, 1 runtime failure (or, for
/// `status`, unhealthy or stale), 2 usage or configuration error, 3 no readable status file,
/// 128+N interrupted by signal N (`once`).
public enum CLI {
    /// Parses `arguments` (program name first) and runs the command.
    /// - Parameter transport: replaces URLSession (tests).
    public static func run(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                           transport: (any HTTPTransport)? = nil) async -> Int32 {
        let command: Command
        do {
            command = try Command.parse(Array(arguments.dropFirst()))
        } catch {
            printError("\(error) (see argus-event-sync --help)")
            return 2
        }
        switch command {
        case .help:
            print(Command.usage)
            return 0
        case .version:
            print("argus-event-sync \(Version.current)")
            return 0
        case .checkConfig(let path, let online):
            guard let configuration = checkConfig(path: path, environment: environment) else { return 2 }
            return online ? await OnlineCheck.run(configuration, transport: transport) : 0
        case .backup(let path, let destination):
            return BackupCommand.run(configPath: path, destination: destination)
        case .status(let source, let json):
            return StatusCommand.run(source: source, json: json)
        case .once(let path, let level):
            return await once(path: path, logger: Logger(minimumLevel: level, environment: environment),
                              environment: environment, transport: transport)
        case .run(let path, let level):
            return await daemon(path: path, logger: Logger(minimumLevel: level, environment: environment),
                                environment: environment, transport: transport)
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("argus-event-sync: \(message)\n".utf8))
    }

    // MARK: - check-config

    /// The offline checks: prints a summary and returns the configuration, or prints the one-line
    /// reason and returns nil (exit 2).
    static func checkConfig(path: String, environment: [String: String]) -> Configuration? {
        do {
            let configuration = try Configuration.load(path: path, environment: environment)
            var lines = [
                "configuration OK: \(configuration.configPath)",
                "  api.baseURL      \(configuration.baseURL.absoluteString)",
                "  database.path    \(configuration.databasePath)",
                "  status.path      \(configuration.statusPath)",
                "  sync             page size \(configuration.sync.pageSize), poll every \(Int(configuration.pollInterval)) s, overlap \(Int(configuration.sync.overlap)) s",
            ]
            if let retention = configuration.sync.retention { lines.append("  retention        \(Int(retention / 86_400)) days") }
            if let metrics = configuration.metricsPath { lines.append("  metrics          \(metrics)") }
            print(lines.joined(separator: "\n"))
            return configuration
        } catch {
            printError("\(error)")
            return nil
        }
    }

    // MARK: - once and run

    /// Loads the configuration and opens the context; nil with the exit code on failure.
    private static func prepare(path: String, retryPolicy: RetryPolicy, logger: Logger, environment: [String: String],
                                transport: (any HTTPTransport)?, notifier: SystemdNotifier? = nil)
        -> Result<ServiceContext, ExitCode> {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(path: path, environment: environment)
        } catch {
            printError("\(error)")
            return .failure(ExitCode(code: 2))
        }
        do {
            let context = try ServiceContext.open(
                configuration: configuration, retryPolicy: retryPolicy, logger: logger, transport: transport,
                onStatus: { snapshot in
                    if let notifier, let error = snapshot.lastError, snapshot.state == .backoff {
                        notifier.status("backoff: \(error.message)")
                    }
                })
            return .success(context)
        } catch let error as ConfigError {
            printError("\(error)")
            return .failure(ExitCode(code: 2))
        } catch {
            printError("cannot open the database \(configuration.databasePath): \(error)")
            return .failure(ExitCode(code: 1))
        }
    }

    struct ExitCode: Error { let code: Int32 }

    static func once(path: String, logger: Logger, environment: [String: String], transport: (any HTTPTransport)?) async -> Int32 {
        // Watch signals before any work, so an early SIGTERM is not lost.
        let signals = SignalWatcher([SIGTERM, SIGINT])
        let context: ServiceContext
        switch prepare(path: path, retryPolicy: .oneShot, logger: logger, environment: environment, transport: transport) {
        case .success(let opened): context = opened
        case .failure(let exit): return exit.code
        }
        enum Outcome: Sendable {
            case caughtUp
            case failed(String)
            case interrupted(Int32)
        }
        let engine = context.engine
        let outcome = await withTaskGroup(of: Outcome?.self) { group -> Outcome in
            group.addTask {
                do {
                    try await engine.syncPass()
                    return .caughtUp
                } catch is CancellationError {
                    return nil
                } catch {
                    context.board.recordFailure(error)
                    return .failed("\(error)")
                }
            }
            group.addTask {
                for await number in signals.signals { return .interrupted(number) }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed("sync ended without a result")
        }
        switch outcome {
        case .caughtUp:
            context.board.set(.stopped)
            return 0
        case .failed(let message):
            context.board.set(.failed)
            printError(message)
            return 1
        case .interrupted(let number):
            context.board.set(.stopped)
            logger.notice("\(SignalWatcher.name(number)) received: stopped; the next run resumes from the checkpoint")
            return 128 + number
        }
    }

    static func daemon(path: String, logger: Logger, environment: [String: String], transport: (any HTTPTransport)?) async -> Int32 {
        let signals = SignalWatcher([SIGTERM, SIGINT, SIGHUP])
        let notifier = SystemdNotifier(environment: environment)
        let context: ServiceContext
        switch prepare(path: path, retryPolicy: .daemon, logger: logger, environment: environment, transport: transport,
                       notifier: notifier) {
        case .success(let opened): context = opened
        case .failure(let exit): return exit.code
        }
        return await Daemon(context: context, notifier: notifier, signals: signals).run()
    }
}
