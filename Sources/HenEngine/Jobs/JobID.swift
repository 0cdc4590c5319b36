import Foundation

/// Job ids sort by creation time: `20261128-041330-123-a1b2` (UTC, milliseconds, a random suffix).
enum JobID {
    static func make(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let milliseconds = (parts.nanosecond ?? 0) / 1_000_000
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.year, 4))\(pad(parts.month, 2))\(pad(parts.day, 2))-\(pad(parts.hour, 2))\(pad(parts.minute, 2))\(pad(parts.second, 2))-\(pad(milliseconds, 3))-\(String(repeating: "0", count: 4 - suffix.count))\(suffix)"
    }
}
