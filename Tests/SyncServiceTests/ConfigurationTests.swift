import ArgusAPI
import Foundation
@testable import SyncService
import Testing
import TestSupport

@Suite("Configuration")
struct ConfigurationTests {
    /// Writes `json` as the config in a fresh folder and loads it.
    func load(_ json: String, environment: [String: String] = ["ARGUS_API_KEY": "k"], files: [String: String] = [:],
              check: (TemporaryDirectory) throws -> Void = { _ in }) throws -> Configuration {
        let directory = try TemporaryDirectory("config")
        defer { directory.remove() }
        let path = directory.file("argus.json")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        for (name, content) in files { try content.write(toFile: directory.file(name), atomically: true, encoding: .utf8) }
        do {
            let configuration = try Configuration.load(path: path, environment: environment)
            try check(directory)
            return configuration
        } catch {
            try check(directory)
            throw error
        }
    }

    static let minimal = #"{"api":{"baseURL":"https://api.mnemonic.no"},"database":{"path":"db/events.db"}}"#

    @Test("a minimal file gets every default; relative paths resolve against the config's folder")
    func defaults() throws {
        var folder = ""
        let c = try load(Self.minimal) { folder = $0.path }
        #expect(c.baseURL.absoluteString == "https://api.mnemonic.no")
        #expect(c.apiKey.value == "k")
        #expect(c.requestTimeout == 60 && c.maxResponseBytes == 64 << 20)
        #expect(c.sync.pageSize == 1000 && c.sync.overlap == 60 && c.pollInterval == 60 && c.sync.startTimestamp == nil)
        #expect(c.sync.criteria.isEmpty)
        #expect(c.databasePath == folder + "/db/events.db")
        #expect(c.statusPath == folder + "/db/events.db.status.json")
        #expect(c.staleAfter == 600)
        #expect(c.sync.retention == nil && c.metricsPath == nil)
        #expect(c.sync.deferQueryIndexes)
    }

    @Test("every key is read")
    func allKeys() throws {
        let c = try load("""
            {"api":{"baseURL":"http://127.0.0.1:8080/argus","apiKeyFile":"key.txt","requestTimeoutSeconds":5,"maxResponseBytes":2097152},
             "sync":{"startTimestamp":"2024-05-01T00:00:00Z","pageSize":250,"pollIntervalSeconds":30,"overlapSeconds":0,
                     "criteria":{"customer":["acme"],"minSeverity":"high","includeFlags":["ESTABLISHED"]}},
             "database":{"path":"/tmp/x/events.db","deferIndexesDuringBackfill":false},"status":{"path":"st.json","staleAfterSeconds":120},
             "retention":{"days":30},"metrics":{"textfilePath":"metrics/argus.prom"}}
            """, environment: [:], files: ["key.txt": "  the-key \n"])
        #expect(c.apiKey.value == "the-key")
        #expect(c.requestTimeout == 5 && c.maxResponseBytes == 2_097_152)
        #expect(c.sync.startTimestamp == 1_714_521_600_000)
        #expect(c.sync.pageSize == 250 && c.pollInterval == 30 && c.sync.overlap == 0)
        #expect(c.sync.criteria.map(\.key) == ["customer", "minSeverity", "includeFlags"])
        #expect(c.statusPath.hasSuffix("/st.json") && c.staleAfter == 120)
        #expect(c.sync.retention == TimeInterval(30 * 86_400))
        #expect(!c.sync.deferQueryIndexes)
        #expect(c.metricsPath?.hasSuffix("/metrics/argus.prom") == true && c.metricsPath?.hasPrefix("/") == true)
        #expect("\(c.apiKey)" == "<redacted>")
    }

    @Test("epoch milliseconds are accepted for the start")
    func epochStart() throws {
        let c = try load(#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"startTimestamp":1700000000000}}"#)
        #expect(c.sync.startTimestamp == 1_700_000_000_000)
    }

    @Test("the key comes from the file, else ARGUS_API_KEY, else the systemd credential")
    func keySources() throws {
        let credentials = try TemporaryDirectory("creds")
        defer { credentials.remove() }
        try "cred-key\n".write(toFile: credentials.file("argus-api-key"), atomically: true, encoding: .utf8)
        #expect(try load(Self.minimal, environment: ["CREDENTIALS_DIRECTORY": credentials.path]).apiKey.value == "cred-key")
        #expect(try load(Self.minimal, environment: ["CREDENTIALS_DIRECTORY": credentials.path, "ARGUS_API_KEY": "env"]).apiKey.value == "env")
    }

    static let badCases: [(String, String)] = [
        ("{", "not valid JSON"),
        ("[]", "the top level must be a JSON object"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"extra":{}}"#, "unknown key extra"),
        (#"{"api":{"baseURL":"https://a.b","apikey":"x"},"database":{"path":"e.db"}}"#, "unknown key api.apikey"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"pagesize":5}}"#, "unknown key sync.pagesize"),
        (#"{"database":{"path":"e.db"}}"#, "api.baseURL is required"),
        (#"{"api":{"baseURL":"https://a.b"}}"#, "database.path is required"),
        (#"{"api":{"baseURL":"ftp://a.b"},"database":{"path":"e.db"}}"#, "api.baseURL: scheme must be https or http"),
        (#"{"api":{"baseURL":"not a url"},"database":{"path":"e.db"}}"#, "api.baseURL"),
        (#"{"api":{"baseURL":42},"database":{"path":"e.db"}}"#, "api.baseURL must be a string, got a number"),
        (#"{"api":{"baseURL":"https://a.b","requestTimeoutSeconds":"60"},"database":{"path":"e.db"}}"#, "api.requestTimeoutSeconds must be a number"),
        (#"{"api":{"baseURL":"https://a.b","requestTimeoutSeconds":0},"database":{"path":"e.db"}}"#, "api.requestTimeoutSeconds must be between 1 and 3600 seconds, got 0"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"pageSize":0}}"#, "sync.pageSize must be between 1 and 10000, got 0"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"pageSize":10001}}"#, "sync.pageSize must be between 1 and 10000"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"pageSize":12.5}}"#, "sync.pageSize must be a whole number"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"pollIntervalSeconds":-1}}"#, "sync.pollIntervalSeconds must be between"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"overlapSeconds":true}}"#, "sync.overlapSeconds must be a number, got a boolean"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"startTimestamp":"last week"}}"#, "sync.startTimestamp"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"startTimestamp":-5}}"#, "sync.startTimestamp must be a time between 1970 and now"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":[]}}"#, "sync.criteria must be an object"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"lastUpdatedTimestamp":1}}}"#, "sync.criteria.lastUpdatedTimestamp is set by argus-event-sync"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"sortBy":["x"]}}}"#, "sync.criteria.sortBy is set by argus-event-sync"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"limit":1}}}"#, "sync.criteria.limit"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"offset":1}}}"#, "sync.criteria.offset"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"timeFieldStrategy":["all"]}}}"#, "sync.criteria.timeFieldStrategy"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"sync":{"criteria":{"custmer":["x"]}}}"#, "sync.criteria.custmer is not an Argus"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"status":{"staleAfterSeconds":0}}"#, "status.staleAfterSeconds"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db","path":"f.db"}}"#, "duplicate key"),
        (#"{"api":{"baseURL":"https://a.b","apiKeyFile":"missing.key"},"database":{"path":"e.db"}}"#, "api.apiKeyFile"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"argus.json/e.db"}}"#, "database.path"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"status":{"path":"argus.json/s.json"}}"#, "status.path"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"retention":{"days":0}}"#, "retention.days must be between 1 and 36500"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"retention":{"days":"30"}}"#, "retention.days must be a number, got a string"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"retention":{"maxDays":3}}"#, "unknown key retention.maxDays"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db","deferIndexesDuringBackfill":"no"}}"#,
         "database.deferIndexesDuringBackfill must be true or false, got a string"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"metrics":{"textfilePath":""}}"#, "metrics.textfilePath: must not be empty"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"metrics":{"textfilePath":"argus.json/m.prom"}}"#, "metrics.textfilePath"),
        (#"{"api":{"baseURL":"https://a.b"},"database":{"path":"e.db"},"metrics":"m.prom"}"#, "metrics must be a JSON object"),
    ]

    @Test("each bad file is one line naming the key, and leaves nothing on disk", arguments: badCases)
    func badConfig(json: String, expected: String) throws {
        #expect {
            _ = try load(json) { directory in
                #expect(directory.contents() == ["argus.json"])
            }
        } throws: { error in
            let text = "\(error)"
            return error is ConfigError && text.contains(expected) && !text.contains("\n")
        }
    }

    @Test("a missing API key is a config error")
    func missingKey() throws {
        #expect(throws: ConfigError.missingAPIKey) { _ = try load(Self.minimal, environment: [:]) }
        #expect(throws: ConfigError.missingAPIKey) {
            _ = try load(#"{"api":{"baseURL":"https://a.b","apiKeyFile":"k"},"database":{"path":"e.db"}}"#, files: ["k": " \n"])
        }
    }

    @Test("a missing or unreadable config file is reported with its path")
    func missingFile() {
        #expect {
            _ = try Configuration.load(path: "/nonexistent/argus.json", environment: [:])
        } throws: { "\($0)".contains("/nonexistent/argus.json") && "\($0)".contains("no such file") }
    }
}
