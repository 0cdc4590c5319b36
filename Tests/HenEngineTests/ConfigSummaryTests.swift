import Foundation
import Testing
@testable import HenEngine

@Suite struct ConfigSummaryTests {
    @Test func summaryShowsWhatWillHappen() throws {
        let directory = try ConfigTempDirectory()
        try directory.makeDirectory("data")
        let configuration = try directory.load("""
            hostname: laptop
            timezone: Europe/Paris
            limits: { upload: 5M }
            repositories:
              main:
                location: ./repo
                password: x
                env: { AWS_ACCESS_KEY_ID: id }
                check: { schedules: ["0 0 3 * * SUN"], read_data_subset: 5% }
            backups:
              docs:
                paths: [./data]
                repositories: [main, { name: usb, driver: tar, location: /mnt/usb }]
                schedules: [1h, "30 2 * * *"]
                watch: true
                retention: { keep_daily: 7, keep_within: 2w }
                prune: { schedules: [1d] }
              manual:
                paths: [./missing]
                repositories: [main]
            """)
        // Saturday 2025-06-07 10:00 UTC = 12:00 in Paris.
        let now = try #require(ISO8601DateFormatter().date(from: "2025-06-07T10:00:00Z"))
        let lastRun = now.addingTimeInterval(-600)
        let summary = ConfigurationSummary.render(configuration, now: now, lastRuns: ["docs": lastRun])
        #expect(summary.contains("hostname:  laptop"))
        #expect(summary.contains("time zone: Europe/Paris"))
        #expect(summary.contains("limits:    upload 5 MiB/s (41.9 Mbit/s)"))
        #expect(summary.contains("schedules:    every 1h (next: 2025-06-07 12:50:00 GMT+2); cron \"30 2 * * *\" (next: 2025-06-08 02:30:00 GMT+2)"))
        #expect(summary.contains("watch:        after 30s of quiet, at most 10m after the first change"))
        #expect(summary.contains("retention:    keep daily 7, within 14d (restic --keep-within 14d)"))
        #expect(summary.contains("prune:        every 1d (next: now)"))
        #expect(summary.contains("runs:         on demand only"))
        #expect(summary.contains("main: restic at \(directory.file("repo")); password given; env AWS_ACCESS_KEY_ID"))
        #expect(summary.contains("check:  cron \"0 0 3 * * SUN\" (next: 2025-06-08 03:00:00 GMT+2), reading 5% of the data"))
        #expect(summary.contains("usb: tar at /mnt/usb; defined in backup docs"))
        #expect(summary.contains("Warnings (3)"))
        #expect(summary.contains("backups.manual.paths[0]: the path \(directory.file("missing")) does not exist now"))
        #expect(summary.contains("repository \"usb\" uses the tar driver: its archives are not encrypted"))
        #expect(summary.contains("backup \"manual\" has neither schedules nor watch: it runs only on demand"))
    }
}
