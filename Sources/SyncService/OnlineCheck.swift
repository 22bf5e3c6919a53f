import ArgusAPI
import EventSync
import Foundation

/// `check-config --online`: after the offline checks, signs in with the key and runs a one-event
/// search with the configured criteria, so an expired, mistyped or network-bound key, a missing
/// permission or rejected criteria show up before the daemon is deployed, not after data stops.
/// Exit 0 when both succeed, 1 with a one-line reason otherwise.
enum OnlineCheck {
    static func run(_ configuration: Configuration, transport: (any HTTPTransport)?, now: Date = Date()) async -> Int32 {
        let client = configuration.makeClient(transport: transport)

        do {
            let session = try await client.session()
            print("  API key          accepted" + (session.summary.map { " for \($0)" } ?? ""))
        } catch {
            CLI.printError("online check failed: signing in with the API key: \(error)")
            return 1
        }

        let settings = configuration.sync
        let start = settings.startTimestamp ?? now.addingTimeInterval(-settings.defaultLookback).epochMilliseconds
        let query = SearchQuery(criteria: settings.criteria, startTimestamp: start, lastUpdatedTimestamp: start, limit: 1)
        do {
            let page = try await client.search(query)
            let matching = page.count.map { "\($0) events match" } ?? "\(page.events.count) event returned"
            print("  search           allowed; \(matching) since \(ISO8601.string(epochMilliseconds: start))")
            return 0
        } catch {
            CLI.printError("online check failed: the configured search: \(error)")
            return 1
        }
    }
}
