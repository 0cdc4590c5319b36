import CCurl

/// curl_global_init must run once per process before any handle exists and is not thread-safe;
/// a static let is initialised exactly once, under Swift's own lock.
enum CurlGlobal {
    private static let initialized: Bool = hen_curl_global_init_default() == CURLE_OK

    static func ensureInitialized() throws(HTTPClientError) {
        guard initialized else {
            throw HTTPClientError(code: .internalError, message: "libcurl could not be initialised.")
        }
    }
}
