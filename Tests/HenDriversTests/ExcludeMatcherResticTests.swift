import Foundation
import HenTestSupport
import HenDrivers
import Testing

/// Differential test: the real restic (0.14 or newer, found by HenTestSupport.Restic) and ExcludeMatcher must leave out the same
/// paths of one tree for the same `--exclude` patterns (restic's `backup --dry-run -vv` names every path
/// it would save).
@Suite struct ExcludeMatcherResticTests {
    @Test func sameSelectionAsRestic() async throws {
        // Many restic runs, each waited for: off the cooperative pool (see HenTestSupport.offPool).
        try await offPool { try Self().compare() }
    }

    private func compare() throws {
        let scratch = try ConformanceScratch("exclude-restic")
        let root = scratch.url.appendingPathComponent("tree").path
        let files = [
            "keep.txt", "[weird].txt", "a b/c/f.go", "a b/c/g.c", "x/cache/y", "x/top.txt",
            "sub/x/z.tmp", "sub/deep/er/cache/z", "sub/deep/er/keep.md", "ünï/çødé.go", "k.txt", "m.txt",
        ]
        for file in files {
            let url = URL(fileURLWithPath: root + "/" + file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.utf8).write(to: url)
        }
        let patternSets: [[String]] = [
            ["*.go"],
            ["x/*"],
            ["\(root)/x"],
            ["\(root)/*/x"],
            ["**/cache"],
            ["sub/**/z.tmp", "*.md"],
            ["[[]weird].txt"],
            ["a b"],
            ["?.txt"],
            ["[^k]*.txt"],
            ["c/f.go", "ünï"],
            ["/x"],
            ["deep/**/cache/"],
            ["sub/**/x", "er/**/keep.md"],
        ]

        let repository = scratch.url.appendingPathComponent("repo").path
        let environment = [
            "RESTIC_REPOSITORY": repository, "RESTIC_PASSWORD": "differential",
            "RESTIC_CACHE_DIR": scratch.url.appendingPathComponent("cache").path,
            "HOME": scratch.url.path, "PATH": "/usr/bin:/bin",
        ]
        _ = try restic(["init"], environment: environment)

        let everything = try allPaths(below: root)
        for patterns in patternSets {
            var arguments = ["backup", "--dry-run", "-vv", "--host", "diff"]
            for pattern in patterns { arguments += ["--exclude", pattern] }
            arguments.append(root)
            let output = try restic(arguments, environment: environment)
            var saved: Set<String> = []
            for line in output.split(separator: "\n") where line.hasPrefix("new ") {
                guard let end = line.range(of: ", saved in") else { continue }
                var path = line[line.index(line.startIndex, offsetBy: 4)..<end.lowerBound].trimmingCharacters(in: .whitespaces)
                if path.count > 1, path.hasSuffix("/") { path.removeLast() }
                if path.hasPrefix(root + "/") { saved.insert(path) }
            }
            let matcher = try ExcludeMatcher(patterns: patterns)
            let kept = Set(everything.filter { !matcher.excludes($0) })
            #expect(kept == saved, "patterns \(patterns): only restic saved \(saved.subtracting(kept).sorted()), only Hen kept \(kept.subtracting(saved).sorted())")
        }
    }

    private func allPaths(below root: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root).map { root + "/" + $0 }
    }

    private func restic(_ arguments: [String], environment: [String: String]) throws -> String {
        try runTool(Restic.path, arguments, environment: environment)
    }
}
