extension ChildProcess {
    /// The child's stdout as lines (secrets redacted), streamed with backpressure: the child is not read
    /// faster than the consumer takes lines. Stderr is kept as a tail (and passed to `onStderrLine`).
    /// A non-zero exit, or death by a signal, finishes the stream with a ``ChildProcessExit`` carrying the
    /// result; a failure to start finishes it with a ``ChildProcessError``. A consumer that stops early (or
    /// is cancelled) makes the runner SIGINT the child and drain its output in the background.
    public static func lines(
        _ request: ChildProcessRequest,
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) -> AsyncThrowingStream<String, any Error> {
        stream(request, bufferSize: 64, onStderrLine: onStderrLine) { sink in .lineBatches { lines in await sink.send(contentsOf: lines) } }
    }

    /// The child's stdout as the lines of each read, together (secrets redacted): for consumers that handle
    /// many lines and hand their results on in batches too. Same rules as ``lines(_:onStderrLine:)``.
    public static func lineBatches(
        _ request: ChildProcessRequest,
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) -> AsyncThrowingStream<[String], any Error> {
        stream(request, bufferSize: 4, onStderrLine: onStderrLine) { sink in .lineBatches { lines in await sink.send(lines) } }
    }

    /// The child's stdout as byte chunks, untouched (for dumps); same rules as ``lines(_:onStderrLine:)``.
    public static func bytes(
        _ request: ChildProcessRequest,
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        stream(request, bufferSize: 4, onStderrLine: onStderrLine) { sink in .bytes { chunk in await sink.send(chunk) } }
    }

    /// The child supervised in a backpressured stream's producer, its stdout handed to the stream's sink as
    /// `stdout` says; its exit, unless it was interrupted because the consumer left, ends the stream.
    private static func stream<Element: Sendable>(
        _ request: ChildProcessRequest,
        bufferSize: Int,
        onStderrLine: @escaping @Sendable (String) -> Void,
        stdout: @escaping @Sendable (StreamSink<Element>) -> StdoutHandling
    ) -> AsyncThrowingStream<Element, any Error> {
        BackpressuredStream.make(of: Element.self, bufferSize: bufferSize) { sink in
            let result = try await supervise(request, stdout: stdout(sink), onStderrLine: onStderrLine)
            try checkExit(result, of: request)
        }
    }

    private static func checkExit(_ result: ChildProcessResult, of request: ChildProcessRequest) throws {
        // An interrupted child was stopped because the consumer left; nobody reads this stream any more.
        guard !result.wasInterrupted, !result.succeeded else { return }
        throw ChildProcessExit(executable: request.executable, result: result)
    }
}
