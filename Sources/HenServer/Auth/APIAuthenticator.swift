import Foundation
import HenEngine
import HummingbirdBcrypt
import Logging
import NIOCore
import Synchronization

/// Checks who a request comes from against `api.auth` (read at each request, so a reload applies at once):
/// a bearer token, HTTP basic with a user's bcrypt hash, or the session cookie of the UI's login.
///
/// Tokens are compared in constant time; bcrypt verifies passwords (`$2y$` hashes from `htpasswd -B` are
/// `$2b$` to the C library, the same algorithm). Nothing secret is ever logged: a failure names the method,
/// the user name when there is one, and the client's address. A user name that got ``maxFailures`` wrong
/// passwords from one address within ``failureWindow`` is refused there (429, without checking anything)
/// until the oldest failure is that old, so passwords cannot be guessed at bcrypt's pace. Tokens (at least
/// 16 characters, compared in constant time) are not throttled: they cannot be guessed, and a client with a
/// stale token (a Prometheus scraper) must not lock out others on its address.
public final class APIAuthenticator: Sendable {
    /// What a request proved.
    public enum Outcome: Sendable, Equatable {
        /// `auth: none`: everyone is let in.
        case open
        case authenticated(identity: String)
        /// No credentials at all.
        case missing
        /// Credentials that do not match; the message is safe to answer and log.
        case rejected(String)
        /// Too many wrong passwords for this user from this address lately: nothing was checked. Try again in
        /// that many seconds.
        case throttled(retryAfter: Int)
    }

    public static let sessionCookie = "hen_session"
    /// How long a UI login lasts without being used.
    public static let sessionLifetime: TimeInterval = 12 * 3600

    private let configuration: @Sendable () -> Configuration.API.Auth
    /// Session id → the user, the password hash it logged in with (a changed password ends the session), expiry.
    private let sessions = Mutex<[String: (user: String, hash: String, expires: Date)]>([:])
    /// bcrypt checks running now: each costs tens of milliseconds of CPU on purpose, so they are capped.
    private let checksInFlight = Mutex(0)
    static let maxConcurrentChecks = 4
    /// Dummy hashes by cost, made once each.
    private let dummyHashes = Mutex<[Int: String]>([:])
    private let now: @Sendable () -> Date
    /// Wrong passwords per client address and user name, oldest first, pruned to the window.
    private let failures = Mutex<[String: [Date]]>([:])
    static let maxFailures = 10
    static let failureWindow: TimeInterval = 300
    /// Address and user pairs remembered at most (those with the oldest last failure are forgotten first).
    static let maxTrackedPairs = 10_000

    public init(configuration: @escaping @Sendable () -> Configuration.API.Auth, now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.now = now
    }

    /// Whether requests need credentials at all.
    public var isRequired: Bool { configuration().isRequired }

    /// Checks the `Authorization` header, then the session cookie. `address` is the client's, for throttling.
    public func authenticate(authorization: String?, cookie: String?, address: String = "-") async -> Outcome {
        let auth = configuration()
        guard auth.isRequired else { return .open }
        if let authorization {
            return await check(authorization: authorization, auth: auth, address: address)
        }
        if let session = cookie.flatMap(Self.sessionID(fromCookieHeader:)) {
            let date = now()
            let entry: (user: String, hash: String)? = sessions.withLock { sessions in
                guard let entry = sessions[session], entry.expires > date else {
                    sessions[session] = nil
                    return nil
                }
                sessions[session] = (entry.user, entry.hash, date.addingTimeInterval(Self.sessionLifetime))
                return (entry.user, entry.hash)
            }
            // A user removed by a reload, or whose password hash changed, loses their sessions.
            if let entry, auth.users.contains(where: { $0.name == entry.user && $0.passwordHash.value == entry.hash }) {
                return .authenticated(identity: "user:\(entry.user)")
            }
            return .rejected("The session has expired; log in again.")
        }
        return .missing
    }

    /// The longest `Authorization` header looked at: a token is at most a few hundred characters and bcrypt
    /// reads 72 bytes of a password, so anything longer is refused before base64 or bcrypt see it.
    static let maxAuthorizationLength = 4096

    private func check(authorization: String, auth: Configuration.API.Auth, address: String) async -> Outcome {
        guard authorization.utf8.count <= Self.maxAuthorizationLength else {
            return .rejected("The Authorization header is longer than \(Self.maxAuthorizationLength) bytes.")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return .rejected("The Authorization header is neither Bearer nor Basic.") }
        let scheme = parts[0].lowercased()
        let credentials = String(parts[1]).trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "bearer":
            // Every token is compared (no early exit), each in constant time.
            var match: String?
            for token in auth.tokens where Self.constantTimeEquals(token.value.value, credentials) {
                match = match ?? token.name
            }
            return match.map { .authenticated(identity: "token:\($0)") } ?? .rejected("The bearer token is not one of api.auth.tokens.")
        case "basic":
            guard let decoded = Data(base64Encoded: credentials).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            else { return .rejected("The Basic credentials are not base64 of user:password.") }
            let name = String(decoded[..<colon])
            let password = String(decoded[decoded.index(after: colon)...])
            // bcrypt stops at a NUL: "secret\0anything" would pass for "secret".
            guard !Self.containsNUL(name), !Self.containsNUL(password) else {
                return .rejected(Self.nulMessage)
            }
            if let wait = retryAfter(address: address, user: name) { return .throttled(retryAfter: wait) }
            switch await verify(user: name, password: password, users: auth.users) {
            case .match: return .authenticated(identity: "user:\(name)")
            case .mismatch:
                recordFailure(address: address, user: name)
                return .rejected("Wrong user name or password for \"\(name)\".")
            case .busy: return .rejected(Self.busyMessage)
            }
        default:
            return .rejected("The Authorization header is neither Bearer nor Basic.")
        }
    }

    public enum LoginOutcome: Sendable, Equatable {
        case session(String)
        case wrong
        /// Too many password checks at once.
        case busy
        /// Too many wrong passwords for this user from this address lately; try again in that many seconds.
        case throttled(retryAfter: Int)
    }

    static let busyMessage = "Too many password checks at once; try again in a moment."

    /// The UI's login: a new session id for a right user name and password.
    public func login(user: String, password: String, address: String = "-") async -> LoginOutcome {
        guard !Self.containsNUL(user), !Self.containsNUL(password) else { return .wrong }
        if let wait = retryAfter(address: address, user: user) { return .throttled(retryAfter: wait) }
        let users = configuration().users
        switch await verify(user: user, password: password, users: users) {
        case .mismatch:
            recordFailure(address: address, user: user)
            return .wrong
        case .busy: return .busy
        case .match: break
        }
        guard let hash = users.first(where: { $0.name == user })?.passwordHash.value else { return .wrong }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let id = bytes.map { String(format: "%02x", $0) }.joined()
        let date = now()
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expires > date }
            sessions[id] = (user, hash, date.addingTimeInterval(Self.sessionLifetime))
        }
        return .session(id)
    }

    public func logout(cookie: String?) {
        guard let id = cookie.flatMap(Self.sessionID(fromCookieHeader:)) else { return }
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// Seconds until `user` may try a password again from `address`, or nil when it may now.
    func retryAfter(address: String, user: String) -> Int? {
        let date = now()
        let key = Self.failureKey(address: address, user: user)
        return failures.withLock { failures in
            guard let recent = failures[key]?.filter({ date.timeIntervalSince($0) < Self.failureWindow }), !recent.isEmpty else {
                failures[key] = nil
                return nil
            }
            failures[key] = recent
            guard recent.count >= Self.maxFailures else { return nil }
            return max(1, Int((Self.failureWindow - date.timeIntervalSince(recent[recent.count - Self.maxFailures])).rounded(.up)))
        }
    }

    private func recordFailure(address: String, user: String) {
        let date = now()
        let key = Self.failureKey(address: address, user: user)
        failures.withLock { failures in
            failures[key, default: []].append(date)
            if failures[key]!.count > Self.maxFailures { failures[key]!.removeFirst(failures[key]!.count - Self.maxFailures) }
            if failures.count > Self.maxTrackedPairs {
                // Forget the pairs whose last failure is oldest.
                let keep = failures.sorted { ($0.value.last ?? .distantPast) > ($1.value.last ?? .distantPast) }.prefix(Self.maxTrackedPairs / 2)
                failures = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
        }
    }

    static func failureKey(address: String, user: String) -> String { "\(address) \(user)" }

    static func throttledMessage(_ seconds: Int) -> String {
        "Too many wrong passwords for this user from this address; try again in \(seconds) second\(seconds == 1 ? "" : "s")."
    }

    enum Verdict { case match, mismatch, busy }

    /// bcrypt is slow on purpose: it runs off the event loop, at most ``maxConcurrentChecks`` at once. A name
    /// that does not exist costs the same as a wrong password (a dummy hash of the users' cost is checked);
    /// without users there is nothing to check.
    private func verify(user: String, password: String, users: [Configuration.API.User]) async -> Verdict {
        guard !users.isEmpty else { return .mismatch }
        let known = users.first { $0.name == user }?.passwordHash.value
        let hash = known ?? dummyHash(cost: Self.cost(of: users[0].passwordHash.value))
        let entered = checksInFlight.withLock { count in
            guard count < Self.maxConcurrentChecks else { return false }
            count += 1
            return true
        }
        guard entered else { return .busy }
        defer { checksInFlight.withLock { $0 -= 1 } }
        let matches = await Task.detached { Bcrypt.verify(password, hash: Self.cLibraryHash(hash)) }.value
        return known != nil && matches ? .match : .mismatch
    }

    static let nulMessage = "The user name or password contains a NUL character, which no password may hold."

    static func containsNUL(_ text: String) -> Bool { text.utf8.contains(0) }

    static func cost(of hash: String) -> Int {
        let parts = hash.split(separator: "$")
        return parts.count >= 2 ? Int(parts[1]) ?? 10 : 10
    }

    private func dummyHash(cost: Int) -> String {
        if let hash = dummyHashes.withLock({ $0[cost] }) { return hash }
        let hash = Bcrypt.hash("hen-backup dummy password", cost: UInt8(clamping: max(4, min(31, cost))))
        dummyHashes.withLock { $0[cost] = hash }
        return hash
    }

    /// `$2y$` (PHP's and htpasswd's name) is `$2b$` to OpenBSD's bcrypt: the same algorithm.
    static func cLibraryHash(_ hash: String) -> String {
        hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }

    static func sessionID(fromCookieHeader header: String) -> String? {
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(sessionCookie + "=") { return String(pair.dropFirst(sessionCookie.count + 1)) }
        }
        return nil
    }
}
