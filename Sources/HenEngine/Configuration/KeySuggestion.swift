import Foundation

/// "Did you mean" for a misspelt key: the closest known key within a small edit distance.
enum KeySuggestion {
    static func closest(to key: String, among known: [String]) -> String? {
        let lowered = key.lowercased()
        let scored = known.map { ($0, distance(lowered, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let limit = max(1, min(3, key.count / 3))
        return best.1 <= limit ? best.0 : nil
    }

    /// Levenshtein distance, with `-` and `_` treated alike (`max-duration` is `max_duration`).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.replacingOccurrences(of: "-", with: "_")), b = Array(b.replacingOccurrences(of: "-", with: "_"))
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
