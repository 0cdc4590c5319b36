import Foundation

/// A small async HTTP client on libcurl.
///
/// Each request runs `curl_easy_perform` on a thread of its own, outside Swift's cooperative pool,
/// so a slow server never starves other tasks. Cancelling the calling task aborts the transfer
/// (within about a second: libcurl polls the abort flag at least that often) and throws `.cancelled`.
/// TLS certificates and host names are verified unless the request says `insecure`.
public struct HTTPClient: Sendable {
    public init() {}

    /// Sends a request and collects the response, keeping at most `request.maxBodyBytes` of its body.
    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        try await perform(request, onChunk: nil)
    }

    /// Sends a request and hands each body chunk to `onChunk` as it arrives, with the response head;
    /// the returned response has an empty body. For server-sent events and downloads.
    /// `onChunk` runs on the transfer thread: keep it short, never block in it.
    public func send(
        _ request: HTTPRequest,
        onChunk: @escaping @Sendable (HTTPResponseHead, [UInt8]) -> Void
    ) async throws(HTTPClientError) -> HTTPResponse {
        try await perform(request, onChunk: onChunk)
    }

    private func perform(
        _ request: HTTPRequest,
        onChunk: (@Sendable (HTTPResponseHead, [UInt8]) -> Void)?
    ) async throws(HTTPClientError) -> HTTPResponse {
        try CurlGlobal.ensureInitialized()
        let abort = AbortFlag()
        let result: Result<HTTPResponse, HTTPClientError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    let transfer = CurlTransfer(request: request, abort: abort, onChunk: onChunk)
                    continuation.resume(returning: transfer.run())
                }
                thread.name = "hen-http"
                thread.start()
            }
        } onCancel: {
            abort.set()
        }
        return try result.get()
    }
}
