import Foundation
import Hummingbird
import NIOCore

/// The web UI: static HTML, CSS and JavaScript modules from `Resources/ui`, served at `/` (the page) and
/// `/ui/{file}` (everything it loads). They are read once, from the package's resources, so the release
/// binary carries them; each answer has an `ETag` from its content and `Cache-Control: no-cache` (the
/// browser asks again every time and gets a 304 while the file is the same: no stale UI after an upgrade,
/// and no build step that fingerprints file names).
///
/// The pages talk only to `/api/v1`, as any client does. They need no credentials themselves (the login
/// page is one of them); what they show comes from the API, which asks for them.
public enum WebUI {
    /// One file as it is served.
    public struct Asset: Sendable {
        public var data: Data
        public var contentType: String
        /// `"<16 hex digits>"`: FNV-1a of the bytes (a content hash; the file is never secret).
        public var etag: String
    }

    /// Only this origin, nothing inline: a script injected into a page (a file name shown in the browser)
    /// cannot run, and no page can frame the UI.
    public static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The files by name (`index.html`, `app.js`…), read once.
    public static let assets: [String: Asset] = {
        guard let directory = Bundle.module.url(forResource: "ui", withExtension: nil, subdirectory: "Resources") ?? Bundle.module.url(forResource: "ui", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        else { return [:] }
        var assets: [String: Asset] = [:]
        for name in names {
            guard let type = contentType(of: name), let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { continue }
            assets[name] = Asset(data: data, contentType: type, etag: etag(of: data))
        }
        return assets
    }()

    static func contentType(of name: String) -> String? {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        default: nil
        }
    }

    static func etag(of data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// `GET /` and `GET /ui/{file}` on the router's root.
    static func register(on router: Router<HenRequestContext>) {
        router.get("/") { request, _ in try answer("index.html", request) }
        router.get("ui/{file}") { request, context in try answer(try context.parameters.require("file"), request) }
    }

    /// Paths the authentication middleware lets through: the page and its files carry no data.
    static func isUIPath(_ path: String) -> Bool {
        path == "/" || path.hasPrefix("/ui/")
    }

    static func answer(_ name: String, _ request: Request) throws -> Response {
        guard let asset = assets[name] else {
            throw APIError.notFound("The web UI has no file \(name).")
        }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.eTag] = asset.etag
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.data)))
    }
}
