public import ArgusAPI
public import EventSync
import Foundation

/// Everything `once` and `run` share, wired from a validated configuration: the store, the
/// client, the engine, the status board and the logger.
public struct ServiceContext: Sendable {
    public let configuration: Configuration
    public let engine: SyncEngine
    public let board: StatusBoard
    public let logger: Logger
    public let clock: any WallClock
    /// When the sync loop promises its next sign of life (for the systemd watchdog).
    let liveness: Liveness

    /// Opens the database (creating its folder) and builds the engine.
    /// - Parameters:
    ///   - transport: the HTTP transport; URLSession unless a test supplies one.
    ///   - onStatus: called with every new status snapshot (sd_notify STATUS= lines).
    /// - Throws: `ConfigError.unwritable` when a folder cannot be made, store errors otherwise.
    public static func open(
        configuration: Configuration, retryPolicy: RetryPolicy, logger: Logger,
        transport: (any HTTPTransport)? = nil, clock: any WallClock = SystemClock(),
        onStatus: @escaping @Sendable (StatusSnapshot) -> Void = { _ in }
    ) throws -> ServiceContext {
        try WritableLocation.createParent(of: configuration.databasePath, key: "database.path")
        try WritableLocation.createParent(of: configuration.statusPath, key: "status.path")
        let store = try EventStore(path: configuration.databasePath)
        let checkpoint = try store.loadCheckpoint()
        let eventCount = try store.eventCount()

        if let metricsPath = configuration.metricsPath {
            try WritableLocation.createParent(of: metricsPath, key: "metrics.textfilePath")
            StatusFile.removeStaleTemporaries(besides: metricsPath)
        }
        StatusFile.removeStaleTemporaries(besides: configuration.statusPath)
        let board = StatusBoard(file: StatusFile(path: configuration.statusPath),
                                metrics: configuration.metricsPath.map(MetricsFile.init(path:)),
                                databasePath: configuration.databasePath,
                                staleAfter: configuration.staleAfter, clock: clock, logger: logger, onUpdate: onStatus)
        board.seed(checkpoint: checkpoint?.lastUpdatedTimestamp, eventCount: eventCount)

        let client = configuration.makeClient(transport: transport, now: { clock.now() })
        let progressLog = ProgressLog(logger: logger)
        // Every report is a sign of life; the next one is due within a request's timeout
        // (plus time for a commit), or after a retry's delay.
        let grace = configuration.requestTimeout + 120
        let liveness = Liveness(until: clock.now().addingTimeInterval(grace))
        let engine = SyncEngine(
            client: client, store: store, settings: configuration.sync, retryPolicy: retryPolicy, clock: clock,
            progress: { progress in
                if case .retrying(_, _, let delay) = progress {
                    liveness.promise(until: clock.now().addingTimeInterval(delay + grace))
                } else {
                    liveness.promise(until: clock.now().addingTimeInterval(grace))
                }
                board.record(progress)
                progressLog.log(progress)
            })
        return ServiceContext(configuration: configuration, engine: engine, board: board, logger: logger, clock: clock,
                              liveness: liveness)
    }
}
