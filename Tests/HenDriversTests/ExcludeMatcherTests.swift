import HenDrivers
import Testing

struct ExcludeMatcherTests {
    /// The cases restic documents for its filter (internal/filter/filter_test.go), minus the empty
    /// pattern, which exclude lists ignore.
    static let resticCases: [(pattern: String, path: String, excluded: Bool)] = [
        ("*.go", "/foo/bar/test.go", true),
        ("*.c", "/foo/bar/test.go", false),
        ("*", "/foo/bar/test.go", true),
        ("**", "/foo/bar/test.go", true),
        ("foo*", "/foo/bar/test.go", true),
        ("bar*", "/foo/bar/test.go", true),
        ("/bar*", "/foo/bar/test.go", false),
        ("bar/*", "/foo/bar/test.go", true),
        ("baz/*", "/foo/bar/test.go", false),
        ("bar/test.go", "/foo/bar/test.go", true),
        ("bar/*.go", "/foo/bar/test.go", true),
        ("ba*/*.go", "/foo/bar/test.go", true),
        ("bb*/*.go", "/foo/bar/test.go", false),
        ("test.*", "/foo/bar/test.go", true),
        ("tesT.*", "/foo/bar/test.go", false),
        ("bar/*", "/foo/bar/baz", true),
        ("bar", "/foo/bar", true),
        ("/foo/bar", "/foo/bar", true),
        ("/foo/bar/", "/foo/bar", true),
        ("/foo/bar", "/foo/baz", false),
        ("/foo/bar", "/foo/baz/", false),
        ("/foo///bar", "/foo/bar", true),
        ("/foo/../bar", "/foo/bar", false),
        ("/foo/../bar", "/bar", true),
        ("/foo", "/foo/baz", true),
        ("/foo/", "/foo/baz", true),
        ("/foo/*", "/foo", false),
        ("/foo/*", "/foo/baz", true),
        ("bar", "/foo/bar/baz", true),
        ("bar", "/foo/bar/test.go", true),
        ("/foo/*test.*", "/foo/bar/test.go", false),
        ("/foo/*/test.*", "/foo/bar/test.go", true),
        ("/foo/*/bar/test.*", "/foo/bar/test.go", false),
        ("/*/*/bar/test.*", "/foo/bar/test.go", false),
        ("/*/*/bar/test.*", "/foo/bar/baz/test.go", false),
        ("/*/*/baz/test.*", "/foo/bar/baz/test.go", true),
        ("/*/foo/bar/test.*", "/foo/bar/baz/test.go", false),
        ("/foo/bar/test.*", "bar/baz/test.go", false),
        ("/x/y/bar/baz/test.*", "bar/baz/test.go", false),
        ("baz/test.*", "bar/baz/test.go", true),
        ("baz/tesT.*", "bar/baz/test.go", false),
        ("test.go", "bar/baz/test.go", true),
        ("*.go", "bar/baz/test.go", true),
        ("*.c", "bar/baz/test.go", false),
        ("sdk", "/foo/bar/sdk", true),
        ("sdk", "/foo/bar/sdk/test/sdk_foo.go", true),
        ("sdk/*/cpp/*/*vars*.html", "/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html", false),
        ("foo/**/bar/*.go", "/home/user/foo/work/special/project/bar/test.go", true),
        ("foo/**/bar/*.go", "/home/user/foo/bar/test.go", true),
        ("foo/**/bar/*.go", "x/foo/bar/test.go", true),
        ("foo/**/bar/*.go", "foo/bar/test.go", true),
        ("foo/**/bar/*.go", "foo/bar/baz/bar/test.go", true),
        ("foo/**/bar/*.go", "/home/user/foo/test.c", false),
        ("foo/**/bar/*.go", "bar/foo/main.go", false),
        ("foo/**/bar/*.go", "/foo/bar/main.go", true),
        ("foo/**/bar/*.go", "bar/main.go", false),
        ("foo/**/bar", "/home/user/foo/x/y/bar", true),
        ("foo/**/bar", "/home/user/foo/x/y/bar/main.go", true),
        ("foo/**/bar/**/x", "/home/user/foo/bar/x", true),
        ("foo/**/bar/**/x", "/home/user/foo/blaaa/blaz/bar/shared/work/x", true),
        ("user/**/important*", "/home/user/work/x/y/hidden/x", false),
        ("user/**/hidden*/**/c", "/home/user/work/x/y/hidden/z/a/b/c", true),
        ("/home/[uU]ser/?.go", "/home/user/F.go", true),
    ]

    @Test(arguments: resticCases.indices)
    func matchesLikeRestic(_ index: Int) throws {
        let (pattern, path, excluded) = Self.resticCases[index]
        let matcher = try ExcludeMatcher(patterns: [pattern])
        #expect(matcher.excludes(path) == excluded, "pattern \(pattern) on \(path)")
    }

    @Test func globSyntaxOfGoFilepathMatch() throws {
        let cases: [(String, String, Bool)] = [
            ("[a-c]x", "/bx", true),
            ("[a-c]x", "/dx", false),
            ("[^a-c]x", "/dx", true),
            ("[^a-c]x", "/ax", false),
            ("a\\*b", "/a*b", true),
            ("a\\*b", "/axb", false),
            ("?.txt", "/é.txt", true), // ? is one code point, as in Go
            ("??.txt", "/é.txt", false),
            ("*.tmp", "/dir/.tmp", true),
            ("[\\]]", "/]", true),
            ("a*b*c", "/aXbYbZc", true),
            ("a*b*c", "/aXbYbZ", false),
            ("file name.txt", "/home/me/file name.txt", true),
            ("notes", "/home/me/notesy", false),
        ]
        for (pattern, path, excluded) in cases {
            let matcher = try ExcludeMatcher(patterns: [pattern])
            #expect(matcher.excludes(path) == excluded, "pattern \(pattern) on \(path)")
        }
    }

    @Test func severalPatternsAndEmptyOnes() throws {
        let matcher = try ExcludeMatcher(patterns: ["", "*.c", "/var/cache"])
        #expect(matcher.sources == ["*.c", "/var/cache"])
        #expect(matcher.excludes("/src/main.c"))
        #expect(matcher.excludes("/var/cache/apt/lists"))
        #expect(!matcher.excludes("/var/lib/cache"))
        #expect(!matcher.excludes("/src/main.go"))
        #expect(!(try ExcludeMatcher(patterns: [""])).excludes("/anything"))
        #expect(ExcludeMatcher.none.isEmpty)
        #expect(!ExcludeMatcher.none.excludes("/a"))
    }

    @Test(arguments: ["test/[", "test/**/[", "[]a]", "[a-]", "[z-a]", "x\\", "[^]"])
    func rejectsMalformedPatterns(_ pattern: String) {
        #expect(throws: ExcludeMatcher.InvalidPattern.self) {
            try ExcludeMatcher(patterns: ["*.ok", pattern])
        }
    }

    @Test func errorNamesThePattern() {
        do {
            _ = try ExcludeMatcher(patterns: ["cache/["])
            Issue.record("expected an error")
        } catch {
            #expect(error.pattern == "cache/[")
            #expect(error.message.contains("cache/["))
        }
    }
}
