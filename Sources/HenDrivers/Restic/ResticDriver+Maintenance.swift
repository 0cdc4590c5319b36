import Foundation
import HenProcess

extension ResticDriver {
    public func forget(_ request: ForgetRequest, events: DriverEventHandler) async throws -> ForgetSummary {
        switch request.selection {
        case .snapshots(let references):
            guard !references.isEmpty else {
                throw failure(.invalidRequest, "Repository \"\(repository.name)\": forget needs at least one snapshot.")
            }
            // restic ignores --host and --tag when ids are given: confine them here.
            var ids: [String] = []
            for reference in references {
                // The caller checked full ids against this host's snapshots: no listing to learn it again.
                let id = request.verified && Self.isFullID(reference) ? reference.lowercased() : try await resolveSnapshot(reference, tags: request.tags).id
                if !ids.contains(id) { ids.append(id) }
            }
            var arguments = ["forget", "--json"]
            if request.prune { arguments.append("--prune") }
            arguments.append("--")
            arguments += ids
            _ = try await runToCompletion(arguments, operation: "forget", events: events, onLine: { line in
                if case .stdout(let text) = line { log(text, events: events) }
            })
            return ForgetSummary(kept: [], removed: ids, pruned: request.prune)

        case .policy(let policy):
            let keep = try keepArguments(policy)
            var arguments = ["forget", "--json", "--host", context.hostname]
            let tags = request.tags
            if tags.contains(where: { $0.contains(",") }) {
                throw failure(.invalidRequest, "Repository \"\(repository.name)\": a tag used to select snapshots cannot contain a comma.")
            }
            if !tags.isEmpty { arguments += ["--tag", tags.joined(separator: ",")] }
            arguments += keep
            if request.prune { arguments.append("--prune") }

            var groups: [ResticForgetGroup]?
            var unreadablePlan = false
            _ = try await runToCompletion(
                arguments,
                operation: request.prune ? "forget --prune" : "forget",
                events: events,
                beforeAttempt: {
                    groups = nil
                    unreadablePlan = false
                },
                onLine: { line in
                    guard case .stdout(let text) = line else { return }
                    // The plan is one JSON array; prune's report follows as text.
                    if groups == nil, text.first == "[" {
                        if let decoded = try? ResticJSON.decoder().decode([ResticForgetGroup].self, from: Data(text.utf8)) {
                            groups = decoded
                            return
                        }
                        unreadablePlan = true
                    }
                    log(text, events: events)
                }
            )
            // restic prints no plan at all when no snapshot matches (a backup that has none here yet).
            if unreadablePlan, groups == nil {
                throw failure(.failed, "Repository \"\(repository.name)\": restic forget did not report what it kept and removed.")
            }
            var summary = ForgetSummary(pruned: request.prune)
            for group in groups ?? [] {
                summary.kept += (group.keep ?? []).filter { $0.hostname == context.hostname }.map(\.id)
                summary.removed += (group.remove ?? []).map(\.id)
            }
            return summary
        }
    }

    /// restic's `--keep-*` options for a policy; a policy that keeps nothing is refused (restic would
    /// either do nothing or remove everything, depending on its version).
    func keepArguments(_ policy: RetentionPolicy) throws(DriverError) -> [String] {
        var arguments: [String] = []
        let counts: [(String, Int?)] = [
            ("--keep-last", policy.keepLast), ("--keep-hourly", policy.keepHourly), ("--keep-daily", policy.keepDaily),
            ("--keep-weekly", policy.keepWeekly), ("--keep-monthly", policy.keepMonthly), ("--keep-yearly", policy.keepYearly),
        ]
        for (option, count) in counts {
            guard let count else { continue }
            guard count >= 0 else {
                throw failure(.invalidRequest, "Repository \"\(repository.name)\": \(option.dropFirst(2)) must not be negative.")
            }
            if count > 0 { arguments += [option, String(count)] }
        }
        if let within = policy.keepWithin, within.years + within.months + within.days + within.hours > 0 {
            arguments += ["--keep-within", within.resticNotation]
        }
        for tag in policy.keepTags { arguments += ["--keep-tag", tag] }
        guard !arguments.isEmpty else {
            throw failure(.invalidRequest, "Repository \"\(repository.name)\": the retention policy keeps nothing; set at least one keep_* rule.")
        }
        return arguments
    }

    public func check(_ request: CheckRequest, events: DriverEventHandler) async throws -> CheckSummary {
        var arguments = ["check", "--json"]
        if let subset = request.readDataSubset {
            guard Self.isReadDataSubset(subset) else {
                throw failure(.invalidRequest, "Repository \"\(repository.name)\": read_data_subset \"\(subset)\" is not a percentage (5%), a fraction (1/10) or a size (500M).")
            }
            arguments += ["--read-data-subset", subset]
        }
        var problems: [String] = []
        var jsonErrors: [String] = []
        var warnings: [String] = []
        let result = try await runToCompletion(
            arguments,
            operation: "check",
            events: events,
            beforeAttempt: {
                problems = []
                jsonErrors = []
                warnings = []
            },
            onLine: { line in
                switch line {
                case .stderr(let raw):
                    let text = Self.plain(raw)
                    guard !text.isEmpty, !text.hasPrefix("Fatal:") else { return }
                    // restic indents the details of the error above.
                    if raw.hasPrefix(" ") || raw.hasPrefix("\t"), let last = problems.popLast() {
                        problems.append(last.hasSuffix(":") ? "\(last) \(text)" : "\(last): \(text)")
                    } else {
                        problems.append(text)
                    }
                case .stdout(let raw):
                    if let message = ResticMessage.decode(raw) {
                        if message.messageType == "error" {
                            jsonErrors.append(message.message ?? message.errorText)
                        }
                        return
                    }
                    let text = Self.plain(raw)
                    if text.contains("not referenced in any index") || text.contains("additional files were found") {
                        warnings.append(text)
                        events(.warning(text))
                    } else if !text.hasPrefix("["), !text.isEmpty {
                        events(.log(level: .info, message: text))
                    }
                }
            },
            accept: { result in
                result.succeeded || result.stderrTail.contains { $0.contains("repository contains errors") }
            }
        )
        if result.succeeded {
            // restic found nothing wrong; what it said on stderr was about getting there (retries, say).
            return CheckSummary(errors: jsonErrors, warnings: warnings + problems)
        }
        var errors = jsonErrors + problems
        if errors.isEmpty { errors = ["restic check found errors in the repository (see the job log)."] }
        return CheckSummary(errors: errors, warnings: warnings)
    }

    /// `5%`, `2.5%`, `1/10`, `500M`, `2G`: what restic's --read-data-subset accepts.
    static func isReadDataSubset(_ text: String) -> Bool {
        if text.hasSuffix("%") {
            guard let percent = Double(text.dropLast()) else { return false }
            return percent > 0 && percent <= 100
        }
        if let slash = text.firstIndex(of: "/") {
            guard let n = Int(text[..<slash]), let m = Int(text[text.index(after: slash)...]) else { return false }
            return n >= 1 && m >= 1 && n <= m
        }
        var digits = Substring(text)
        if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
        return Int(digits).map { $0 > 0 } ?? false
    }
}
