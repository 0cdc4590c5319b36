import Foundation
import HenDrivers
import HenProcess
import Yams

extension ConfigurationReader {
    static let repositoryKeys = ["driver", "location", "password", "password_file", "password_command", "env", "auto_init", "limits", "check"]
    /// restic's location prefixes that are not local paths.
    static let remoteSchemes = ["sftp:", "rest:", "s3:", "b2:", "azure:", "gs:", "swift:", "rclone:"]

    func readRepository(_ node: ConfigNode, name: String, inBackup backup: String?, knownDrivers: [String]) -> Configuration.Repository? {
        let allowed = backup == nil ? Self.repositoryKeys : ["name"] + Self.repositoryKeys
        guard let fields = fields(node, allowed: allowed) else { return nil }
        let issuesBefore = issues.count

        var driver = "restic"
        if let driverNode = fields["driver"], let value = string(driverNode) {
            if knownDrivers.contains(value) {
                driver = value
            } else {
                var message = "unknown driver \"\(value)\" (known: \(knownDrivers.joined(separator: ", ")))"
                if let suggestion = KeySuggestion.closest(to: value, among: knownDrivers) { message += "; did you mean \"\(suggestion)\"?" }
                error(driverNode, message)
            }
        }

        var location = ""
        if let locationNode = fields["location"] {
            if let value = nonEmptyString(locationNode) {
                // Checked before the location is made absolute: `s3:bucket/path` would become `./s3:bucket/path`,
                // a local folder that silently received the archives.
                if driver == "tar", let scheme = Self.scheme(of: value), scheme != "local" {
                    error(locationNode, "repository \"\(name)\" uses the tar driver, which writes to a local directory only, but its location \(LocationRedaction.redact(value)) is remote (\(scheme):); use driver: restic for it, or a local path (./name for a folder whose name has a colon)")
                }
                location = resolveLocation(value, driver: driver)
            }
        } else {
            error(node, "repository \"\(name)\" has no location")
        }

        var password: Secret?
        var passwordFile: String?
        var passwordCommand: String?
        if let passwordNode = fields["password"], let value = string(passwordNode) {
            if value.isEmpty { error(passwordNode, "the password is empty") } else { password = Secret(value) }
        }
        if let fileNode = fields["password_file"] { passwordFile = existingFile(fileNode) }
        if let commandNode = fields["password_command"], let value = string(commandNode) {
            if value.trimmingCharacters(in: .whitespaces).isEmpty { error(commandNode, "the password command is empty") } else { passwordCommand = value }
        }
        let passwordKeys = ["password", "password_file", "password_command"].filter { fields.has($0) }
        if passwordKeys.count > 1 {
            error(fields[passwordKeys[1]]!, "give one of password, password_file or password_command, not \(passwordKeys.joined(separator: " and "))")
        }
        if driver == "restic", passwordKeys.isEmpty {
            error(node, "a restic repository needs a password, a password_file or a password_command")
        }
        if driver == "tar", let secretNode = fields["password"] ?? fields["password_file"] ?? fields["password_command"] {
            error(secretNode, "the tar driver does not encrypt, so a password would be ignored; remove it or use restic")
        }

        let environment = fields["env"].map(readSecretEnvironment) ?? [:]
        let autoInit = fields["auto_init"].flatMap(bool) ?? true
        let limits = fields["limits"].map(readLimits) ?? TransferLimits()
        let check = fields["check"].map(readCheck) ?? Configuration.Repository.Check()

        if driver == "tar" {
            warn(node, "repository \"\(name)\" uses the tar driver: its archives are not encrypted")
        }
        guard issues.count == issuesBefore else { return nil }
        return Configuration.Repository(
            name: name, driver: driver, location: location, password: password, passwordFile: passwordFile,
            passwordCommand: passwordCommand, environment: environment, autoInit: autoInit, limits: limits, check: check, definedInBackup: backup
        )
    }

    /// `s3` for `s3:host/bucket`: a URL-like prefix before the first colon, with no slash before it (a local
    /// path such as `./a:b` or `/srv/a:b` has none).
    static func scheme(of location: String) -> String? {
        guard let colon = location.firstIndex(of: ":") else { return nil }
        let prefix = location[..<colon]
        guard let first = prefix.first, first.isLetter,
            prefix.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        return String(prefix)
    }

    /// A local path (`./repo`, `local:./repo`) becomes absolute; remote locations stay as written.
    func resolveLocation(_ location: String, driver: String) -> String {
        if driver != "restic" && driver != "tar" { return location }
        if driver == "restic", Self.remoteSchemes.contains(where: { location.hasPrefix($0) }) { return location }
        if driver == "restic", location.hasPrefix("local:") { return "local:" + resolve(String(location.dropFirst(6))) }
        return resolve(location)
    }

    /// `NAME: value` and `NAME_file: /path` (the value is the file's content, trailing newline trimmed).
    func readSecretEnvironment(_ node: ConfigNode) -> [String: Secret] {
        guard let entries = namedEntries(node) else { return [:] }
        var environment: [String: Secret] = [:]
        for entry in entries {
            let fromFile = entry.key.hasSuffix("_file")
            let name = fromFile ? String(entry.key.dropLast(5)) : entry.key
            guard EnvironmentSubstitution.isValidName(name) else {
                error(ConfigNode(node: entry.keyNode, path: entry.value.path), "\"\(entry.key)\" is not an environment variable name")
                continue
            }
            if environment[name] != nil || (fromFile && entries.contains { $0.key == name }) {
                if fromFile { error(entry.value, "\(name) is given both directly and as \(entry.key)") }
                continue
            }
            let value = fromFile ? secretFile(entry.value) : string(entry.value)
            if let value { environment[name] = Secret(value) }
        }
        return environment
    }

    func readCheck(_ node: ConfigNode) -> Configuration.Repository.Check {
        guard let fields = fields(node, allowed: ["schedules", "read_data_subset", "max_duration", "hooks"]) else { return .init() }
        var check = Configuration.Repository.Check(schedules: fields["schedules"].map(readSchedules) ?? [])
        check.hooks = fields["hooks"].map(readHooks) ?? Configuration.Backup.Hooks()
        check.maxDuration = fields["max_duration"].flatMap { duration($0) }
        if let subsetNode = fields["read_data_subset"], let text = string(subsetNode) {
            if Self.isReadDataSubset(text) { check.readDataSubset = text } else {
                error(subsetNode, "\"\(text)\" is not a subset (a percentage such as 5%, a fraction n/t such as 1/10, or a size such as 500M)")
            }
        }
        return check
    }

    /// restic's `--read-data-subset`: `5%`, `2.5%`, `1/10`, or a size.
    static func isReadDataSubset(_ text: String) -> Bool {
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value > 0, value <= 100 { return true }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let n = Int(parts[0]), let t = Int(parts[1]), n >= 1, t >= 1, n <= t { return true }
        if let last = text.last, "KMGTkmgt".contains(last), let bytes = ConfigurationUnits.bytes(text), bytes > 0 { return true }
        return false
    }
}
