import Foundation
import HenAPI
import HenEngine
import HenJSON
import Hummingbird
import NIOCore
import Synchronization

/// `/jobs`: job records (newest first, paginated), cancelling, and live events as server-sent events:
/// `GET /jobs/{id}/events` replays a job's log and steps, then follows it until it ends (a finished job's
/// stream replays and closes); `GET /events` follows every job.
public struct JobRoutes: Sendable {
    let engine: Engine
    /// A comment line this often keeps proxies from closing an idle stream and notices a gone client.
    let heartbeat: Duration

    public init(engine: Engine, heartbeat: Duration = .seconds(15)) {
        self.engine = engine
        self.heartbeat = heartbeat
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("jobs") { request, _ in try await list(request) }
        api.get("jobs/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let record = try await engine.job(id: id) else { throw APIError.notFound("There is no job \(id).") }
            return try RouteSupport.json(record)
        }
        api.post("jobs/{id}/cancel") { _, context in try await cancel(try context.parameters.require("id")) }
        api.get("jobs/{id}/events") { _, context in try await jobEvents(try context.parameters.require("id")) }
        api.get("events") { _, _ in allEvents() }
    }

    func list(_ request: Request) async throws -> Response {
        var filter = JobFilter(limit: try RouteSupport.limit(request.queryValue("limit")))
        if let states = request.query("state") {
            // An empty item ("failed,") is refused like any other unknown state, as openapi.json's pattern says.
            filter.states = try states.split(separator: ",", omittingEmptySubsequences: false).map { text in
                guard let state = JobState(rawValue: String(text)) else {
                    throw APIError.badRequest("state \"\(text)\" is not one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                return state
            }
        }
        if let operation = request.query("operation") {
            guard let kind = JobOperation.Kind(rawValue: operation) else {
                throw APIError.badRequest("operation \"\(operation)\" is not one of \(JobOperation.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.operation = kind
        }
        filter.backup = request.query("backup")
        filter.target = request.query("target")
        if let cursor = request.query("cursor") {
            guard let after = JobFilter.Cursor(text: cursor) else { throw APIError.badRequest("The cursor \(cursor) is not one this server gave.") }
            filter.after = after
        }
        let limit = filter.limit
        filter.limit = limit + 1
        let records = try await engine.jobSummaries(filter)
        let items = Array(records.prefix(limit))
        let next = records.count > limit ? items.last.map { JobFilter.Cursor(after: $0).text } : nil
        return try RouteSupport.json(API.Page(items: items, nextCursor: next))
    }


    /// Stopping a running job cleanly can take a while (restic finishes its current file, hooks run): the
    /// answer waits up to 10 seconds, then says 202 with the job still stopping.
    func cancel(_ id: String) async throws -> Response {
        guard let before = try await engine.job(id: id) else { throw APIError.notFound("There is no job \(id).") }
        if before.state.isFinished {
            throw APIError.conflict("Job \(id) already ended (\(before.state.rawValue)).")
        }
        let engine = self.engine
        let cancelling = Task { try await engine.cancel(jobID: id) }
        // The first of "stopped" and "10 seconds": the stop goes on either way.
        let race = FirstResult<Result<JobRecord, any Error>?>()
        let finished: JobRecord? = try await withCheckedContinuation { continuation in
            race.start(continuation)
            Task {
                let result = await cancelling.result
                race.finish(result)
            }
            Task {
                try? await Task.sleep(for: .seconds(10))
                race.finish(nil)
            }
        }?.get()
        if let finished { return try RouteSupport.json(API.JobAccepted(job: finished)) }
        let current = try await engine.job(id: id) ?? before
        return try RouteSupport.json(API.JobAccepted(job: current), status: .accepted)
    }

    func jobEvents(_ id: String) async throws -> Response {
        // The record and the subscription are taken at one point: nothing is replayed twice or lost between.
        guard let (record, live) = try await engine.recordAndEvents(jobID: id) else { throw APIError.notFound("There is no job \(id).") }
        var replay: [JobEvent] = record.steps.map { .stepEnded(jobID: id, step: $0) }
        replay += record.log.map { .log(jobID: id, line: $0) }
        replay.append(.state(jobID: id, state: record.state, record: record))
        let ended = record.state.isFinished
        return stream(replay: replay, live: ended ? nil : live, endsWithJob: true)
    }

    func allEvents() -> Response {
        let engine = self.engine
        let live = AsyncStream<JobEvent> { continuation in
            let task = Task {
                for await event in await engine.events(jobID: nil) { continuation.yield(event) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return stream(replay: [], live: live, endsWithJob: false)
    }

    /// `text/event-stream`: each event as `event: <type>` and `data: <json>`; comments as heartbeats.
    func stream(replay: [JobEvent], live: AsyncStream<JobEvent>?, endsWithJob: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        let heartbeat = self.heartbeat
        let body = ResponseBody { writer in
            let encoder = HenJSON.encoder()
            func frame(_ event: JobEvent) throws -> ByteBuffer {
                let data = try encoder.encode(event)
                return ByteBuffer(string: "event: \(event.typeName)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
            }
            try await writer.write(ByteBuffer(string: ": hen-backup events\n\n"))
            for event in replay { try await writer.write(try frame(event)) }
            if let live {
                // Events and heartbeats through one stream, so the writer is used from one task only.
                let (merged, continuation) = AsyncStream.makeStream(of: JobEvent?.self, bufferingPolicy: .bufferingNewest(1000))
                let forward = Task {
                    for await event in live { continuation.yield(event) }
                    continuation.finish()
                }
                let beat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: heartbeat)
                        continuation.yield(nil)
                    }
                }
                defer {
                    forward.cancel()
                    beat.cancel()
                }
                for await item in merged {
                    guard let event = item else {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        continue
                    }
                    try await writer.write(try frame(event))
                    if endsWithJob, case .state(_, let state, _) = event, state.isFinished { break }
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// Resumes a continuation with the first value given to ``finish(_:)``; later ones are dropped.
final class FirstResult<Value: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Value, Never>?, done: Bool)>((nil, false))

    func start(_ continuation: CheckedContinuation<Value, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func finish(_ value: Value) {
        let continuation: CheckedContinuation<Value, Never>? = state.withLock { state in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(returning: value)
    }
}
