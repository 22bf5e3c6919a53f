// swift-tools-version:6.0
import PackageDescription

/// Layers, lowest first; each depends only on the ones above it in this list:
///   CSQLite      C module map over the system libsqlite3
///   SQLiteKit    thin, safe SQLite wrapper (statements, errors, transactions)
///   ArgusAPI     Argus HTTP client: request building, envelope and event decoding, error classification
///   EventSync    sync engine (cursor, tie groups, overlap, retries) and the event store (schema, upsert)
///   SyncService  configuration, status file, sd_notify, signals, logging and the commands
///   argus-event-sync  the executable: `@main` only
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "argus-event-sync",
    products: [
        .executable(name: "argus-event-sync", targets: ["argus-event-sync"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SQLiteKit", dependencies: ["CSQLite"], swiftSettings: strictSettings),
        .target(name: "ArgusAPI", swiftSettings: strictSettings),
        .target(name: "EventSync", dependencies: ["SQLiteKit", "ArgusAPI"], swiftSettings: strictSettings),
        .target(name: "SyncService", dependencies: ["EventSync", "ArgusAPI", "SQLiteKit"], swiftSettings: strictSettings),
        .executableTarget(name: "argus-event-sync", dependencies: ["SyncService"], swiftSettings: strictSettings),

        // Test helpers shared by the suites: an in-memory Argus, a test clock, the stub server launcher.
        .target(name: "TestSupport", dependencies: ["ArgusAPI", "EventSync"], path: "Tests/TestSupport"),
        .testTarget(name: "SQLiteKitTests", dependencies: ["SQLiteKit", "TestSupport"]),
        .testTarget(name: "ArgusAPITests", dependencies: ["ArgusAPI"]),
        .testTarget(name: "EventSyncTests", dependencies: ["EventSync", "ArgusAPI", "SQLiteKit", "TestSupport"]),
        .testTarget(
            name: "SyncServiceTests",
            dependencies: ["SyncService", "EventSync", "ArgusAPI", "SQLiteKit", "TestSupport", "argus-event-sync"]
        ),
    ]
)
