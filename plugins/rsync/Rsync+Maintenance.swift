import Foundation
import HenPluginProtocol
import Synchronization

extension Rsync {
    func unlock() async throws(DriverError) {
        throw DriverError(.unsupported, "The rsync driver keeps no locks; there is nothing to unlock.")
    }

    // diff: not in the description; Hen compares two snapshots through their listings in its index instead.

    /// Removes the snapshots the request names or its policy does not keep. Each is first renamed to a
    /// dot-name (so an interrupted forget never leaves a half-removed snapshot that still lists), then
    /// deleted. With `prune`, leftovers of this host's interrupted backups and forgets go too.
    func forget() async throws(DriverError) -> ForgetSummary {
        guard let forget = request.forget else { throw DriverError(.invalidRequest, "The forget request has no forget.") }
        if request.readOnly { throw DriverError(.invalidRequest, "Repository \"\(repository.name)\" is open read-only: nothing is forgotten.") }
        let entries = try await entries()
        let plan = try PluginSnapshots.plan(forget, of: entries.map(\.snapshot), repository: repository.name, host: request.host)
        let remove = entries.filter { entry in plan.remove.contains { $0.id == entry.metadata.id } }
        if !remove.isEmpty || forget.prune {
            try await succeed(
                """
                cd -- "$1" || exit 1
                prune=$2
                shift 2
                for d in "$@"; do mv -- "$d" ".forgetting-$d" || exit 1; done
                for d in "$@"; do find ".forgetting-$d" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null; rm -rf -- ".forgetting-$d" || exit 1; done
                if [ "$prune" = prune ]; then
                  for d in .forgetting-* .incomplete-*; do [ -d "$d" ] || continue; find "$d" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null; rm -rf -- "$d" || exit 1; done
                fi
                """, [hostPath, forget.prune ? "prune" : "keep"] + remove.map(\.directory), doing: "remove snapshots")
        }
        return ForgetSummary(kept: plan.keep.map(\.id), removed: remove.map(\.metadata.id), pruned: forget.prune)
    }

    /// Whether this host's snapshots are intact: every snapshot directory has readable metadata of this
    /// host and a `files/` directory, and holds as many regular files and bytes as when it was made (a
    /// deleted or truncated file shows). File contents are not checksummed: there is no data subset to
    /// read back (`read_data_subset` is not a capability of this driver).
    func check() async throws(DriverError) -> CheckSummary {
        if request.check?.readDataSubset != nil {
            throw DriverError(.unsupported, "The rsync driver keeps no checksums to read data back against; check without read_data_subset.")
        }
        var errors: [String] = []
        var warnings: [String] = []
        var snapshots: [SnapshotEntry] = []
        for (directory, text) in try await directories() {
            guard let text else {
                errors.append("\(hostPath)/\(directory) has no snapshot.json.")
                continue
            }
            guard let metadata = try? JSONDecoder().decode(SnapshotMetadata.self, from: Data(text.utf8)) else {
                errors.append("\(hostPath)/\(directory)/snapshot.json cannot be read.")
                continue
            }
            guard metadata.host == request.host else {
                errors.append("\(hostPath)/\(directory) holds a snapshot of host \(metadata.host), not \(request.host).")
                continue
            }
            snapshots.append(SnapshotEntry(directory: directory, metadata: metadata))
        }
        let counted = Mutex<[String: (files: UInt64, bytes: UInt64)]>([:])
        let leftovers = Mutex<[String]>([])
        try await succeed(
            """
            cd -- "$1" 2>/dev/null || exit 0
            for d in .incomplete-* .forgetting-*; do [ -d "$d" ] && printf 'leftover\\t%s\\n' "$d"; done
            for d in */; do
              d=${d%/}
              [ -d "$d/files" ] || continue
              printf 'count\\t%s\\t' "$d"
              find "$d/files" -type f -printf '%s\\n' | awk '{ n++; s += $1 } END { printf "%d\\t%.0f\\n", n, s }'
            done
            """, [hostPath], doing: "count the snapshots' files") { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, parts[0] == "leftover" { leftovers.withLock { $0.append(parts[1]) } }
            if parts.count == 4, parts[0] == "count", let files = UInt64(parts[2]), let bytes = UInt64(parts[3]) {
                counted.withLock { $0[parts[1]] = (files, bytes) }
            }
        }
        for entry in snapshots {
            let short = entry.metadata.id.prefix(8)
            guard let found = counted.withLock({ $0[entry.directory] }) else {
                errors.append("Snapshot \(short) (\(entry.directory)) has no files directory.")
                continue
            }
            if found.files != entry.metadata.files || found.bytes != entry.metadata.bytes {
                errors.append("Snapshot \(short) (\(entry.directory)) holds \(found.files) files of \(found.bytes) bytes; it was made with \(entry.metadata.files) files of \(entry.metadata.bytes) bytes.")
            }
        }
        for leftover in leftovers.withLock({ $0 }) {
            warnings.append("\(hostPath)/\(leftover) is left from an interrupted backup or forget; a prune removes it.")
        }
        warnings.forEach(output.warning)
        return CheckSummary(errors: errors, warnings: warnings)
    }

    /// The repository's disk use (`du`, which counts a hard-linked file once) and this host's snapshots.
    func stats() async throws(DriverError) -> RepositoryStats {
        let size = Mutex<UInt64?>(nil)
        try await succeed(
            """
            [ -f \(Self.marker) ] || exit 3
            du -sk . | awk '{ print $1 }'
            """, doing: "measure the repository") { line in size.withLock { $0 = UInt64(line.trimmingCharacters(in: .whitespaces)).map { $0 * 1024 } } }
        let entries = try await entries()
        return RepositoryStats(
            totalSize: size.withLock { $0 },
            snapshotCount: UInt64(entries.count)
        )
    }
}
