import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Runs every query of the README's "Query cookbook" against a database synced from the stub,
/// so the documentation cannot drift from the schema.
@Suite("README query cookbook", .serialized)
struct CookbookTests {
    /// The ```sql blocks of the README's "## Query cookbook" section.
    static func cookbookQueries() throws -> [String] {
        let readme = try String(contentsOfFile: StubServer.repositoryRoot + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n## Query cookbook\n") else { return [] }
        let rest = readme[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        return section.components(separatedBy: "```sql\n").dropFirst().compactMap { block in
            block.components(separatedBy: "```").first?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Literal example values in the queries, and how to find real ones in the synced data.
    static let examples = [
        "'203.0.113.7'": "SELECT quote(source_address) FROM events GROUP BY source_address ORDER BY count(*) DESC LIMIT 1",
        "2123456": "SELECT associated_case_id FROM events WHERE associated_case_id IS NOT NULL LIMIT 1",
    ]

    @Test("the README has ten cookbook queries, and each runs and finds events in a synced database")
    func queriesRun() async throws {
        let queries = try Self.cookbookQueries()
        #expect(queries.count == 10)

        // Events updated in the last hour, so "last 24 hours" and "this week" find some.
        let stub = try await StubServer.start(events: 4000, bigTie: 0, baseTime: Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000)
        let directory = try TemporaryDirectory("cookbook")
        defer { directory.remove() }
        let config = try OperationsEndToEndTests.writeConfig(directory, stub: stub)
        let sync = try await BinaryProcess.run(["once", "--config", config], directory: directory, timeout: 120)
        try #require(sync.status == 0, "stderr: \(sync.stderr)")

        let database = try Database(path: directory.file("data/events.db"))
        for query in queries {
            // As written: valid SQL against the schema.
            #expect(throws: Never.self, "query failed: \(query)") { _ = try database.query(query) }
            // With the example values replaced by ones the data has: it finds rows.
            var concrete = query
            for (literal, finder) in Self.examples where concrete.contains(literal) {
                let value = try #require(try database.query(finder).first?.first)
                switch value {
                case .text(let text): concrete = concrete.replacingOccurrences(of: literal, with: text)
                case .integer(let number): concrete = concrete.replacingOccurrences(of: literal, with: String(number))
                default: Issue.record("no example value for \(literal)")
                }
            }
            let rows = try database.query(concrete)
            #expect(!rows.isEmpty, "no rows from: \(concrete)")
        }
    }
}
