import Synchronization

/// An `AsyncThrowingStream` fed by a producer task that waits while the consumer is behind, so that a slow
/// consumer bounds memory instead of growing a buffer (a dump of a large file to a slow client).
///
/// The producer starts on the first `next()`. When the consumer stops early (drops the stream and its
/// iterator) or its task is cancelled, the producer's sink refuses further elements and the producer task
/// is cancelled; it finishes in the background. A consumer cancelled while it waits for an element gets
/// `cancellationError()`; one already cancelled when it asks for the next element sees the stream end
/// (that is how `AsyncThrowingStream(unfolding:)` treats cancellation), so a consumer that must tell a
/// complete stream from a cut one checks `Task.isCancelled` after its loop.
public enum BackpressuredStream {
    public static func make<Element: Sendable>(
        of elementType: Element.Type = Element.self,
        bufferSize: Int = 8,
        cancellationError: @escaping @Sendable () -> any Error = { CancellationError() },
        producer: @escaping @Sendable (StreamSink<Element>) async throws -> Void
    ) -> AsyncThrowingStream<Element, any Error> {
        let channel = StreamChannel<Element>(capacity: max(1, bufferSize), cancellationError: cancellationError, producer: producer)
        let consumer = StreamConsumer(channel: channel)
        return AsyncThrowingStream(unfolding: { try await consumer.next() })
    }
}

/// Where a ``BackpressuredStream`` producer puts its elements.
public struct StreamSink<Element: Sendable>: Sendable {
    let channel: StreamChannel<Element>

    /// Hands one element to the consumer, waiting while the buffer is full. Returns false once the consumer
    /// is gone: the element was dropped and the producer should stop (or just discard what follows).
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        await channel.send(contentsOf: CollectionOfOne(element))
    }

    /// Hands several elements at once (the lines of one read): the consumer is woken once for all of
    /// them instead of once per element. The buffer may hold more than its size by this batch.
    @discardableResult
    public func send(contentsOf elements: [Element]) async -> Bool {
        await channel.send(contentsOf: elements)
    }

    /// Whether a consumer still takes elements.
    public var isConsumerPresent: Bool { channel.isConsumerPresent }
}

/// Holds the channel for the stream's unfolding closure; when the stream and its iterator are gone, so is
/// the consumer.
final class StreamConsumer<Element: Sendable>: Sendable {
    let channel: StreamChannel<Element>
    init(channel: StreamChannel<Element>) { self.channel = channel }
    deinit { channel.abandon() }
    func next() async throws -> Element? { try await channel.next() }
}

final class StreamChannel<Element: Sendable>: Sendable {
    typealias Producer = @Sendable (StreamSink<Element>) async throws -> Void

    private struct State {
        /// Elements from `head` on are buffered; the taken ones before it are dropped in bulk (an array's
        /// removeFirst moves every other element, once per take).
        var buffer: [Element] = []
        var head = 0
        var buffered: Int { buffer.count - head }
        var waitingConsumer: CheckedContinuation<Element?, any Error>?
        var waitingProducer: CheckedContinuation<Bool, Never>?
        var ending: Result<Void, any Error>?
        var endingDelivered = false
        var consumerGone = false
        var producer: Producer?
        var task: Task<Void, Never>?
    }

    private let state: Mutex<State>
    private let capacity: Int
    private let cancellationError: @Sendable () -> any Error

    init(capacity: Int, cancellationError: @escaping @Sendable () -> any Error, producer: @escaping Producer) {
        self.capacity = capacity
        self.cancellationError = cancellationError
        self.state = Mutex(State(producer: producer))
    }

    var isConsumerPresent: Bool { state.withLock { !$0.consumerGone } }

    private func startIfNeeded() {
        state.withLock { s in
            guard let producer = s.producer, !s.consumerGone else { return }
            s.producer = nil
            let sink = StreamSink(channel: self)
            s.task = Task.detached {
                do {
                    try await producer(sink)
                    self.finish(.success(()))
                } catch {
                    self.finish(.failure(error))
                }
            }
        }
    }

    private enum Delivery {
        case element(Element, wake: CheckedContinuation<Bool, Never>?)
        case end(Result<Void, any Error>?)
        case cancelled
        case wait
    }

    func next() async throws -> Element? {
        startIfNeeded()
        // An element already buffered needs no continuation (a cancelled consumer takes the slow path,
        // which tells it so).
        if !Task.isCancelled {
            if let (element, producer) = state.withLock({ Self.takeBuffered(&$0, capacity: capacity) }) {
                producer?.resume(returning: true)
                return element
            }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                let delivery: Delivery = state.withLock { s in
                    if let (element, producer) = Self.takeBuffered(&s, capacity: capacity) { return .element(element, wake: producer) }
                    if s.endingDelivered { return .end(nil) }
                    if let ending = s.ending {
                        s.endingDelivered = true
                        return .end(ending)
                    }
                    if s.consumerGone { return .cancelled }
                    s.waitingConsumer = continuation
                    return .wait
                }
                switch delivery {
                case .element(let element, let producer):
                    producer?.resume(returning: true)
                    continuation.resume(returning: element)
                case .end(let ending):
                    switch ending {
                    case .failure(let error): continuation.resume(throwing: error)
                    case .success, nil: continuation.resume(returning: nil)
                    }
                case .cancelled:
                    continuation.resume(throwing: cancellationError())
                case .wait:
                    break
                }
            }
        } onCancel: {
            self.abandon()
        }
    }

    /// The oldest buffered element, and the producer waiting for room if there now is room. A batch may
    /// have filled the buffer past its size: the producer waits until the consumer has taken it below, or
    /// every take would let one more batch in and a slow consumer would grow the buffer without bound.
    private static func takeBuffered(_ s: inout State, capacity: Int) -> (Element, CheckedContinuation<Bool, Never>?)? {
        guard s.head < s.buffer.count else { return nil }
        let element = s.buffer[s.head]
        s.head += 1
        if s.head == s.buffer.count {
            s.buffer.removeAll(keepingCapacity: true)
            s.head = 0
        } else if s.head >= 64, s.head * 2 >= s.buffer.count {
            s.buffer.removeFirst(s.head)
            s.head = 0
        }
        guard s.buffered < capacity, let producer = s.waitingProducer else { return (element, nil) }
        s.waitingProducer = nil
        return (element, producer)
    }

    private enum Acceptance {
        case rejected, delivered(CheckedContinuation<Element?, any Error>), buffered, full
    }

    func send(contentsOf elements: some Collection<Element>) async -> Bool {
        guard let first = elements.first else { return isConsumerPresent }
        let acceptance: Acceptance = state.withLock { s in
            if s.consumerGone { return .rejected }
            if let consumer = s.waitingConsumer {
                // The waiting consumer takes the first; the rest wait in the buffer.
                s.waitingConsumer = nil
                s.buffer.append(contentsOf: elements.dropFirst())
                return .delivered(consumer)
            }
            s.buffer.append(contentsOf: elements)
            return s.buffered < capacity ? .buffered : .full
        }
        switch acceptance {
        case .rejected:
            return false
        case .delivered(let consumer):
            consumer.resume(returning: first)
            if elements.count > capacity { return await waitForRoom() }
            return true
        case .buffered:
            return true
        case .full:
            // The elements are buffered; wait until the consumer makes room (or leaves).
            return await waitForRoom()
        }
    }

    private func waitForRoom() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let verdict: Bool? = state.withLock { s in
                if s.consumerGone { return false }
                if s.buffered < capacity { return true }
                s.waitingProducer = continuation
                return nil
            }
            if let verdict { continuation.resume(returning: verdict) }
        }
    }

    func finish(_ ending: Result<Void, any Error>) {
        let consumer: CheckedContinuation<Element?, any Error>? = state.withLock { s in
            guard s.ending == nil else { return nil }
            s.ending = ending
            guard let consumer = s.waitingConsumer else { return nil }
            s.waitingConsumer = nil
            s.endingDelivered = true
            return consumer
        }
        guard let consumer else { return }
        switch ending {
        case .failure(let error): consumer.resume(throwing: error)
        case .success: consumer.resume(returning: nil)
        }
    }

    /// The consumer stopped: refuse further elements and stop the producer.
    func abandon() {
        let (consumer, producer, task): (CheckedContinuation<Element?, any Error>?, CheckedContinuation<Bool, Never>?, Task<Void, Never>?) = state.withLock { s in
            guard !s.consumerGone else { return (nil, nil, nil) }
            s.consumerGone = true
            s.buffer.removeAll()
            s.head = 0
            s.producer = nil
            defer { s.waitingConsumer = nil; s.waitingProducer = nil }
            return (s.waitingConsumer, s.waitingProducer, s.task)
        }
        consumer?.resume(throwing: cancellationError())
        producer?.resume(returning: false)
        task?.cancel()
    }
}
