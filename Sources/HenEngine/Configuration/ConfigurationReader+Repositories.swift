import Foundation
import HenDrivers
import HenProcess
import Yams

extension ConfigurationReader {
    static let repositoryKeys = ["driver", "location", "password", "password_file", "password_command", "env", "auto_init", "limits", "check"]

    func readRepository(_ node: ConfigNode, name: String, inBackup backup: String?, drivers: DriverRegistry) -> Configuration.Repository? {
        let allowed = backup == nil ? Self.repositoryKeys : ["name"] + Self.repositoryKeys
        guard let fields = fields(node, allowed: allowed) else { return nil }
        let issuesBefore = issues.count

        // Every check below asks the driver's description: no driver is known here by name.
        var driver = drivers.description(of: Configuration.Repository.defaultDriver)
        if let driverNode = fields["driver"], let value = string(driverNode) {
            driver = drivers.description(of: value)
            if driver == nil {
                var message = "unknown driver \"\(value)\" (known: \(drivers.names.joined(separator: ", ")))"
                if let problem = pluginProblems[value] { message = "the driver plugin \"\(value)\" cannot be used: \(problem)" }
                else if let suggestion = KeySuggestion.closest(to: value, among: drivers.names) { message += "; did you mean \"\(suggestion)\"?" }
                else { message += "; a plugin is an executable hen-plugin-\(value) in plugin_dirs, in plugins/ next to hen-backup, or in /usr/lib/hen-backup/plugins" }
                error(driverNode, message)
            }
        }
        guard let driver else {
            // Unknown driver: the other keys are still checked for shape, not against a driver.
            _ = fields["location"].flatMap(nonEmptyString)
            return nil
        }

        var location = ""
        if let locationNode = fields["location"] {
            if let value = nonEmptyString(locationNode) {
                // Checked before the location is made absolute: `s3:bucket/path` would become `./s3:bucket/path`,
                // a local folder that silently received the archives.
                switch driver.location.classify(value) {
                case .local: location = resolve(value)
                case .localWithPrefix(let prefix, let path): location = prefix + resolve(path)
                case .remote: location = value
                case .unreachable(let scheme):
                    let reaching = drivers.descriptions.filter { $0.location.classify(value) == .remote }.map(\.name)
                    let advice = reaching.isEmpty ? "" : "use driver: \(reaching.joined(separator: " or driver: ")) for it, or "
                    error(locationNode, "repository \"\(name)\" uses the \(driver.name) driver, which writes to a local directory only, but its location \(LocationRedaction.redact(value)) is remote (\(scheme):); \(advice)a local path (./name for a folder whose name has a colon)")
                }
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
        switch driver.password {
        case .required where passwordKeys.isEmpty:
            let ways = driver.keys.contains(.passwordCommand) ? "a password, a password_file or a password_command" : "a password or a password_file"
            error(node, "a \(driver.name) repository needs \(ways)")
        case .none:
            if let secretNode = fields["password"] ?? fields["password_file"] ?? fields["password_command"] {
                let encrypting = drivers.descriptions.filter { $0.capabilities.contains(.encrypted) }.map(\.name)
                let advice = encrypting.isEmpty ? "" : " or use \(encrypting.joined(separator: " or "))"
                error(secretNode, "the \(driver.name) driver does not encrypt, so a password would be ignored; remove it\(advice)")
            }
        default:
            break
        }
        for key in DriverDescription.RepositoryKey.allCases where !driver.keys.contains(key) {
            if let keyNode = fields[key.rawValue], !(key == .passwordCommand && driver.password == .none) {
                error(keyNode, "the \(driver.name) driver does not use \(key.rawValue); remove it")
            }
        }

        let environment = fields["env"].map(readSecretEnvironment) ?? [:]
        let autoInit = fields["auto_init"].flatMap(bool) ?? true
        let limits = fields["limits"].map(readLimits) ?? TransferLimits()
        let check = fields["check"].map(readCheck) ?? Configuration.Repository.Check()
        if let subset = check.readDataSubset, !driver.capabilities.contains(.readDataSubset), let subsetNode = fields["check"] {
            error(subsetNode, "the \(driver.name) driver cannot read back a subset of the data (read_data_subset: \(subset)); remove it")
        }

        if !driver.capabilities.contains(.encrypted) {
            warn(node, "repository \"\(name)\" uses the \(driver.name) driver: its archives are not encrypted")
        }
        guard issues.count == issuesBefore else { return nil }
        return Configuration.Repository(
            name: name, driver: driver.name, location: location, password: password, passwordFile: passwordFile,
            passwordCommand: passwordCommand, environment: environment, autoInit: autoInit, limits: limits, check: check, definedInBackup: backup
        )
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
