extension Duration {
    /// Whole milliseconds, at least 1 so curl never reads 0 as "no limit".
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    /// "2 s", "1.5 s", "250 ms": for messages.
    var shortDescription: String {
        let ms = curlMilliseconds
        if ms < 1000 { return "\(ms) ms" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(Double(ms) / 1000) s"
    }
}
