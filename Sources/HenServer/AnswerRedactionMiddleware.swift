import HenEngine
import Hummingbird
import NIOCore

/// Every answer of the API but a file download (JSON, YAML, metrics, event streams, errors) goes out with the
/// configuration's secrets replaced by `***`, whatever route or error produced it. File downloads (bytes of
/// the user's own files) are left as they are.
///
/// A JSON or text answer is rewritten whole (its `Content-Length` stays right); an event stream is redacted
/// event by event as it is written (each event is one write).
public struct AnswerRedactionMiddleware<Context: RequestContext>: RouterMiddleware {
    let secrets: ConfigurationSecrets
    /// What a download answers: the bytes of the user's files, passed through untouched.
    static var fileTypes: [String] { ["application/octet-stream", "application/x-tar"] }

    public init(secrets: ConfigurationSecrets) {
        self.secrets = secrets
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            // Errors become answers here, not later, so that their messages are redacted too.
            response = try error.response(from: request, context: context)
        }
        let redactor = secrets.redactor
        let type = response.headers[.contentType]?.lowercased() ?? ""
        guard !redactor.isEmpty, !Self.fileTypes.contains(where: type.hasPrefix) else { return response }
        if type.hasPrefix("text/event-stream") {
            response.body = response.body.map { buffer in
                ByteBuffer(string: redactor.redact(String(buffer: buffer)))
            }
        } else {
            let collector = BodyCollector()
            try await response.body.write(collector)
            let text = String(buffer: collector.buffer)
            let redacted = redactor.redact(text)
            if redacted != text { response.body = ResponseBody(byteBuffer: ByteBuffer(string: redacted)) } else { response.body = ResponseBody(byteBuffer: collector.buffer) }
        }
        return response
    }
}

/// Gathers a bounded answer's bytes (JSON and text answers are built in memory anyway).
private final class BodyCollector: ResponseBodyWriter {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
