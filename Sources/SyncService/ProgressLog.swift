import ArgusAPI
import EventSync

/// Turns the engine's progress into log lines: routine work at debug, what an operator should
/// see at info and above.
struct ProgressLog: Sendable {
    let logger: Logger

    func log(_ progress: SyncProgress) {
        switch progress {
        case let .passStarted(cursor, checkpoint):
            logger.debug("sync pass from lastUpdatedTimestamp \(cursor) (\(ISO8601.string(epochMilliseconds: cursor)))"
                + (checkpoint.map { ", checkpoint \($0)" } ?? ", first run"))
        case .searchChanged:
            logger.warning("sync.criteria or sync.startTimestamp changed since the last run: syncing the new search from its start (stored events are kept)")
        case let .requestSucceeded(duration, events):
            logger.trace("search answered \(events) events in \(Int(duration * 1000)) ms")
        case let .requestFailed(error, _):
            if !error.isRetryable { logger.error(error.description) }
        case let .retrying(error, attempt, delay):
            logger.warning("\(error) (attempt \(attempt)); retrying in \(String(format: "%.1f", delay)) s")
        case let .readingTieGroup(timestamp):
            logger.info("a page was filled by events sharing lastUpdatedTimestamp \(timestamp): reading that group in full")
        case let .tieGroupRestarted(timestamp, restart):
            logger.warning("events sharing lastUpdatedTimestamp \(timestamp) changed while being read; re-reading the group (\(restart))")
        case let .pageCommitted(report):
            logger.debug("page: \(report.events) events, \(report.counts.inserted) new, \(report.counts.updated) updated, \(report.counts.unchanged) unchanged"
                + (report.checkpoint.map { "; checkpoint \($0)" } ?? ""))
        case .queryIndexesDeferred:
            logger.info("catching up into an empty database: the query indexes are built once it reaches the present (queries are slower until then)")
        case let .queryIndexBuilt(name, duration):
            logger.info("backfill done: built index \(name) in \(String(format: "%.1f", duration)) s")
        case let .pruned(events, cutoff):
            logger.debug("retention: deleted \(events) events last updated before \(ISO8601.string(epochMilliseconds: cutoff))")
        case let .upkeepFailed(task, reason):
            logger.warning("database upkeep (\(task)) failed, will try again after the next pass: \(reason)")
        case let .passFinished(summary):
            let changed = summary.counts.inserted + summary.counts.updated
            logger.log(changed > 0 ? .info : .debug,
                       "synced \(summary.pages) pages: \(summary.counts.inserted) new, \(summary.counts.updated) updated, \(summary.counts.unchanged) unchanged"
                        + (summary.pruned > 0 ? ", \(summary.pruned) pruned" : "")
                        + (summary.checkpoint.map { "; checkpoint \(ISO8601.string(epochMilliseconds: $0))" } ?? ""))
        }
    }
}
