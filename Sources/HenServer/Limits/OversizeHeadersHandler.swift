import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request whose headers or URL exceed ``RequestLimits`` with 431 and the API's JSON error.
///
/// NIO's HTTP parser stops at the limit, before any route or middleware could see the request, and
/// Hummingbird would answer a bare 400. This handler sits between the parser and Hummingbird: it turns the
/// parser's `headerOverflow` into the JSON answer and closes the connection (the rest of the request
/// cannot be parsed, so the connection cannot serve another). Other parse errors go on to Hummingbird.
final class OversizeHeadersHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, case .headerOverflow = parserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let body = Self.body
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(body.readableBytes)
        headers[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .requestHeaderFieldsTooLarge, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    static let body: ByteBuffer = {
        let text = #"{"error":{"code":"headers_too_large","message":"# + jsonString(RequestLimits.headersTooLargeMessage) + "}}"
        return ByteBuffer(string: text)
    }()

    private static func jsonString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
