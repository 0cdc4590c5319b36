import Foundation

/// Decides whether a path is excluded by restic-style `--exclude` patterns.
///
/// Semantics follow restic's `internal/filter` (0.14):
/// - A pattern is split at `/` into components; each component is a Go `filepath.Match` glob
///   (`*`, `?`, `[...]` with `^` negation and ranges, `\` escapes), matched against one path component.
/// - `**` as a whole component matches any number of components (including none).
/// - A pattern with a leading `/` is anchored at the root; any other pattern matches a run of
///   consecutive components anywhere in the path.
/// - The matched run does not have to reach the end of the path, so a pattern that matches a directory
///   excludes everything below it.
/// - Patterns are cleaned like Go's `filepath.Clean` (`a//b/` is `a/b`); empty patterns are ignored.
///
/// Patterns are compiled once; matching allocates little and the matcher is safe to share between tasks.
public struct ExcludeMatcher: Sendable {
    /// A pattern that Go's `filepath.Match` would reject (`ErrBadPattern`).
    public struct InvalidPattern: Error, Sendable, Hashable, CustomStringConvertible {
        public static let code = "invalid_exclude_pattern"
        public let pattern: String
        public let reason: String
        public var message: String { "The exclude pattern \"\(pattern)\" is malformed: \(reason)." }
        public var description: String { message }
    }

    private let patterns: [CompiledPattern]

    /// The patterns as given (empty ones dropped).
    public let sources: [String]

    public init(patterns: [String]) throws(InvalidPattern) {
        var compiled: [CompiledPattern] = []
        var sources: [String] = []
        for pattern in patterns where !pattern.isEmpty {
            compiled.append(try CompiledPattern(pattern))
            sources.append(pattern)
        }
        self.patterns = compiled
        self.sources = sources
    }

    /// A matcher that excludes nothing.
    public static let none = ExcludeMatcher(compiled: [])

    private init(compiled: [CompiledPattern]) {
        self.patterns = compiled
        self.sources = []
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether `path` (absolute, `/`-separated) or one of its ancestors is excluded.
    public func excludes(_ path: String) -> Bool {
        guard !patterns.isEmpty, !path.isEmpty else { return false }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        return patterns.contains { $0.matches(components[...]) }
    }
}

// MARK: - Compilation

extension ExcludeMatcher {
    fileprivate enum Part: Sendable {
        case literal(Substring)
        case glob([GlobToken])
        case doubleStar
    }

    fileprivate enum GlobToken: Sendable {
        case scalar(Unicode.Scalar)
        case anyScalar
        case star
        case characterClass(negated: Bool, ranges: [ClosedRange<Unicode.Scalar>])
    }

    fileprivate struct CompiledPattern: Sendable {
        let parts: [Part]
        let anchored: Bool

        init(_ source: String) throws(InvalidPattern) {
            let cleaned = ExcludeMatcher.clean(source)
            var parts: [Part] = []
            for component in cleaned.split(separator: "/", omittingEmptySubsequences: false) {
                if component == "**" {
                    parts.append(.doubleStar)
                } else if component.contains(where: { "\\[]*?".contains($0) }) {
                    parts.append(.glob(try ExcludeMatcher.compileGlob(component, pattern: source)))
                } else {
                    parts.append(.literal(component))
                }
            }
            self.parts = parts
            if case .literal(let first) = parts.first, first.isEmpty {
                anchored = true
            } else {
                anchored = false
            }
        }

        func matches(_ path: ArraySlice<Substring>) -> Bool {
            ExcludeMatcher.match(parts[...], path, anchored: anchored)
        }
    }

    /// Go's `filepath.Clean` on a `/`-separated pattern.
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var out: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".":
                continue
            case "..":
                if let last = out.last, last != ".." {
                    out.removeLast()
                } else if !rooted {
                    out.append(component)
                }
            default:
                out.append(component)
            }
        }
        let joined = out.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    fileprivate static func compileGlob(_ component: Substring, pattern: String) throws(InvalidPattern) -> [GlobToken] {
        let scalars = Array(component.unicodeScalars)
        var tokens: [GlobToken] = []
        var index = 0
        func bad(_ reason: String) -> InvalidPattern { InvalidPattern(pattern: pattern, reason: reason) }

        // One character of a class, honouring `\` escapes; `-` and `]` must be escaped (Go's getEsc).
        func classScalar() throws(InvalidPattern) -> Unicode.Scalar {
            guard index < scalars.count, scalars[index] != "-", scalars[index] != "]" else {
                throw bad("a character class has an empty or unescaped '-' or ']' bound")
            }
            if scalars[index] == "\\" {
                index += 1
                guard index < scalars.count else { throw bad("it ends with a lone '\\'") }
            }
            defer { index += 1 }
            return scalars[index]
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "*":
                if case .star = tokens.last {} else { tokens.append(.star) }
                index += 1
            case "?":
                tokens.append(.anyScalar)
                index += 1
            case "\\":
                index += 1
                guard index < scalars.count else { throw bad("it ends with a lone '\\'") }
                tokens.append(.scalar(scalars[index]))
                index += 1
            case "[":
                index += 1
                var negated = false
                if index < scalars.count, scalars[index] == "^" {
                    negated = true
                    index += 1
                }
                var ranges: [ClosedRange<Unicode.Scalar>] = []
                while true {
                    if index < scalars.count, scalars[index] == "]", !ranges.isEmpty {
                        index += 1
                        break
                    }
                    guard index < scalars.count else { throw bad("a '[' is never closed") }
                    let low = try classScalar()
                    var high = low
                    if index < scalars.count, scalars[index] == "-" {
                        index += 1
                        high = try classScalar()
                        guard low <= high else { throw bad("the range \(low)-\(high) is reversed") }
                    }
                    ranges.append(low...high)
                }
                tokens.append(.characterClass(negated: negated, ranges: ranges))
            case "]":
                // Go accepts a lone ']' outside a class as a literal.
                tokens.append(.scalar(scalar))
                index += 1
            default:
                tokens.append(.scalar(scalar))
                index += 1
            }
        }
        return tokens
    }
}

// MARK: - Matching

extension ExcludeMatcher {
    /// restic's `match`: expands the first `**` into 0…n `*` components, then slides the pattern over
    /// the path (only at offset 0 when anchored).
    fileprivate static func match(_ parts: ArraySlice<Part>, _ path: ArraySlice<Substring>, anchored: Bool) -> Bool {
        if let star = parts.firstIndex(where: { if case .doubleStar = $0 { true } else { false } }) {
            let prefix = parts[parts.startIndex..<star]
            let suffix = parts[(star + 1)...]
            let maxExpansion = path.count - parts.count + 1
            guard maxExpansion >= 0 else { return false }
            for expansion in 0...maxExpansion {
                var expanded = Array(prefix)
                expanded.append(contentsOf: repeatElement(Part.glob([.star]), count: expansion))
                expanded.append(contentsOf: suffix)
                if match(expanded[...], path, anchored: anchored) { return true }
            }
            return false
        }
        if parts.isEmpty { return path.isEmpty }
        guard parts.count <= path.count else { return false }
        let maxOffset = anchored ? 0 : path.count - parts.count
        offsets: for offset in stride(from: maxOffset, through: 0, by: -1) {
            let base = path.startIndex + offset
            for (i, part) in zip(parts.indices, parts).reversed() {
                let component = path[base + (i - parts.startIndex)]
                if !matches(part, component) { continue offsets }
            }
            return true
        }
        return false
    }

    private static func matches(_ part: Part, _ component: Substring) -> Bool {
        switch part {
        case .literal(let literal): literal == component
        case .doubleStar: true
        case .glob(let tokens): globMatches(tokens, Array(component.unicodeScalars))
        }
    }

    /// Glob matching with single-star backtracking (enough: `*` is the only variable-length token).
    private static func globMatches(_ tokens: [GlobToken], _ text: [Unicode.Scalar]) -> Bool {
        var t = 0
        var s = 0
        var starToken: Int?
        var starText = 0
        while s < text.count {
            if t < tokens.count {
                switch tokens[t] {
                case .star:
                    starToken = t
                    starText = s
                    t += 1
                    continue
                case .anyScalar:
                    t += 1
                    s += 1
                    continue
                case .scalar(let scalar) where scalar == text[s]:
                    t += 1
                    s += 1
                    continue
                case .characterClass(let negated, let ranges) where ranges.contains(where: { $0.contains(text[s]) }) != negated:
                    t += 1
                    s += 1
                    continue
                default:
                    break
                }
            }
            guard let star = starToken else { return false }
            t = star + 1
            starText += 1
            s = starText
        }
        while t < tokens.count, case .star = tokens[t] { t += 1 }
        return t == tokens.count
    }
}
