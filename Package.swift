// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "hen-backup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hen-backup", targets: ["hen-backup"]),
        .executable(name: "hen-plugin-borg", targets: ["hen-plugin-borg"]),
        .executable(name: "hen-plugin-rsync", targets: ["hen-plugin-rsync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Hummingbird's own HTTP stack, named for the handler that answers oversize headers (HenServer/Limits).
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // The version from `git describe` at build time (Plugins/HenVersionPlugin), in a module of its own so
        // that a new commit recompiles one file.
        .plugin(name: "HenVersionPlugin", capability: .buildTool()),
        .target(name: "HenBuildInfo", plugins: ["HenVersionPlugin"]),
        // Child-process supervision shared by drivers and hooks: spawn, stream, SIGINT-and-drain, niceness.
        .target(
            name: "HenProcess",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The one JSON convention (snake_case keys, explicit nulls, RFC 3339 dates) for the API, job records,
        // events and the CLI's --json output.
        .target(name: "HenJSON"),
        // The driver contract's value types and the plugin protocol's messages: shared by HenDrivers and
        // the plugins we ship, so a message is defined once. Foundation only.
        .target(name: "HenPluginProtocol"),
        .target(
            name: "HenDrivers",
            dependencies: [
                "HenPluginProtocol",
                "HenProcess",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "HenHooks",
            dependencies: [
                "HenProcess",
                "HenJSON",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HenEngine",
            dependencies: [
                "HenDrivers",
                "HenHooks",
                "HenProcess",
                "HenJSON",
                "HenBuildInfo",
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP API's wire types (request bodies and answers), shared by HenServer and the CLI's daemon client.
        .target(name: "HenAPI", dependencies: ["HenEngine", "HenDrivers", "HenJSON"]),
        .target(
            name: "HenServer",
            dependencies: [
                "HenAPI",
                "HenEngine",
                "HenDrivers",
                "HenJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")]
        ),
        .executableTarget(
            name: "hen-backup",
            dependencies: [
                "HenAPI",
                "HenJSON",
                "HenServer",
                "HenEngine",
                "HenDrivers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The driver plugins we ship (docs/plugins.md): executables `hen-plugin-<driver>`, found next to hen-backup.
        .executableTarget(name: "hen-plugin-borg", dependencies: ["HenPluginProtocol", "HenProcess"], path: "plugins/borg"),
        .executableTarget(name: "hen-plugin-rsync", dependencies: ["HenPluginProtocol", "HenProcess"], path: "plugins/rsync"),
        // Helpers every test target shares: child processes waited for without starving the pool, the process
        // table, free ports, and where restic is.
        .target(name: "HenTestSupport", path: "Tests/HenTestSupport"),
        // The engine's test fixtures (one Configuration to start from), shared by the engine and server tests.
        .target(name: "HenEngineTestSupport", dependencies: ["HenEngine", "HenDrivers"], path: "Tests/HenEngineTestSupport"),
        .testTarget(name: "HenProcessTests", dependencies: ["HenProcess", "HenTestSupport"]),
        .testTarget(name: "HenJSONTests", dependencies: ["HenJSON"]),
        .testTarget(
            name: "HenDriversTests",
            dependencies: ["HenDrivers", "HenProcess", "HenTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "HenHooksTests",
            dependencies: ["HenHooks", "HenProcess", "HenTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "HenEngineTests",
            dependencies: [
                "HenEngine",
                "HenDrivers",
                "HenHooks",
                "HenProcess",
                "HenJSON",
                "HenTestSupport",
                "HenEngineTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "HenBackupTests", dependencies: ["HenAPI", "HenEngine", "HenJSON", "HenTestSupport"]),
        .testTarget(
            name: "HenServerTests",
            dependencies: [
                "HenAPI",
                "HenJSON",
                "HenServer",
                "HenEngine",
                "HenDrivers",
                "HenProcess",
                "HenTestSupport",
                "HenEngineTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ]
)

// One set of strictness settings for every target of ours, as swift-log's Package.swift does.
for target in package.targets where target.type != .system && target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .treatAllWarnings(as: .error),
    ]
}
