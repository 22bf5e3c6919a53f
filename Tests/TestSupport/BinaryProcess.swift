import Foundation

/// The `argus-event-sync` executable run as a child process, for exit codes, signals and
/// `kill -9` tests. Output is collected into files to avoid pipe back-pressure.
public final class BinaryProcess: @unchecked Sendable {
    // @unchecked: set once in init; `Process` is only read afterwards.
    public let process: Process
    private let stdoutPath: String
    private let stderrPath: String

    /// - Parameter launcher: a command that execs the binary (given as the argument after it),
    ///   e.g. `["/bin/sh", "-c", "umask 077; exec \"$@\"", "sh"]`; empty runs the binary directly.
    public init(_ arguments: [String], environment: [String: String] = [:], directory: TemporaryDirectory,
                launcher: [String] = []) throws {
        process = Process()
        if let executable = launcher.first {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Array(launcher.dropFirst()) + [StubServer.binaryPath] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: StubServer.binaryPath)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "ARGUS_API_KEY", "CREDENTIALS_DIRECTORY"] {
            env[name] = nil
        }
        env.merge(environment) { _, new in new }
        process.environment = env
        let id = UUID().uuidString.prefix(6)
        stdoutPath = directory.file("stdout-\(id).txt")
        stderrPath = directory.file("stderr-\(id).txt")
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Runs to completion (killing it after `timeout` seconds).
    public static func run(_ arguments: [String], environment: [String: String] = [:], directory: TemporaryDirectory,
                           timeout: TimeInterval = 120) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try BinaryProcess(arguments, environment: environment, directory: directory)
        let status = try await child.wait(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }

    public var pid: Int32 { process.processIdentifier }
    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for exit; throws if it takes longer than `timeout` (the process is then killed).
    public func wait(timeout: TimeInterval) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                ChildProcess.kill(process)
                throw TimeoutError(message: "argus-event-sync did not exit within \(timeout) s; stderr: \(stderr.suffix(2000))")
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return process.terminationStatus
    }

    public struct TimeoutError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    deinit {
        ChildProcess.kill(process)
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
public func eventually(timeout: TimeInterval = 30, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}
