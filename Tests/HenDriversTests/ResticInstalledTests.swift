import HenTestSupport
import Testing

/// The one place that says restic is missing: the tests that run restic do not skip without it, they fail.
@Suite struct ResticInstalledTests {
    @Test func resticIsInstalled() {
        #expect(Restic.isInstalled, "\(Restic.missing) (looked on PATH and at /usr/bin/restic)")
    }
}
