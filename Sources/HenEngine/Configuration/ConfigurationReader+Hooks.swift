import Foundation
import HenHooks
import HenProcess
import Yams

extension ConfigurationReader {
    static let hookKeys = ["command", "shell", "http", "cwd", "env", "timeout", "on_failure"]
    static let httpKeys = ["url", "method", "headers", "body", "timeout", "retries", "expect_status", "ca_file", "insecure"]

    /// A prune's or a check's hooks: every phase but `alarm`, which only a backup has.
    func readHooks(_ node: ConfigNode) -> Configuration.Backup.Hooks {
        readHooks(node, phases: HookPhase.allCases.filter { $0 != .alarm })
    }

    func readHooks(_ node: ConfigNode, phases: [HookPhase]) -> Configuration.Backup.Hooks {
        guard let fields = fields(node, allowed: phases.map(\.rawValue)) else { return .init() }
        func phase(_ name: String) -> [HookDefinition] {
            guard let listNode = fields[name], let items = list(listNode) else { return [] }
            return items.compactMap(readHook)
        }
        return Configuration.Backup.Hooks(before: phase("before"), after: phase("after"), failure: phase("failure"), finally: phase("finally"), alarm: phase("alarm"))
    }

    func readHook(_ node: ConfigNode) -> HookDefinition? {
        guard let fields = fields(node, allowed: Self.hookKeys) else { return nil }
        let kinds = ["command", "shell", "http"].filter { fields.has($0) }
        guard kinds.count == 1, let kind = kinds.first else {
            error(node, kinds.isEmpty ? "a hook needs one of command, shell or http" : "a hook has exactly one of command, shell or http, not \(kinds.joined(separator: " and "))")
            return nil
        }
        let issuesBefore = issues.count
        let onFailure = fields["on_failure"].flatMap { oneOf($0, HookFailurePolicy.allCases.map(\.rawValue)) }.flatMap(HookFailurePolicy.init(rawValue:)) ?? .continue
        let action: HookDefinition.Action?
        if kind == "http" {
            for key in ["cwd", "env", "timeout"] where fields.has(key) {
                error(fields[key]!, "\(key) applies to command and shell hooks; an http hook takes timeout inside http:")
            }
            action = readHTTPHook(fields["http"]!).map(HookDefinition.Action.http)
        } else {
            var invocation: CommandHook.Invocation?
            if kind == "command" {
                if let argv = stringList(fields["command"]!) {
                    if argv.isEmpty { error(fields["command"]!, "the command is empty") } else { invocation = .argv(argv) }
                }
            } else if let script = nonEmptyString(fields["shell"]!) {
                invocation = .shell(script)
            }
            let cwd = fields["cwd"].flatMap(path)
            let environment = fields["env"].map(readSecretEnvironment) ?? [:]
            let timeout = fields["timeout"].flatMap { duration($0) }.map(Self.seconds)
            action = invocation.map { .command(CommandHook(invocation: $0, workingDirectory: cwd, environment: environment, timeout: timeout)) }
        }
        guard issues.count == issuesBefore, let action else { return nil }
        return HookDefinition(action: action, onFailure: onFailure)
    }

    func readHTTPHook(_ node: ConfigNode) -> HTTPHook? {
        guard let fields = fields(node, allowed: Self.httpKeys) else { return nil }
        guard let urlNode = fields["url"] else {
            error(node, "an http hook needs a url")
            return nil
        }
        var hook = HTTPHook(url: "")
        if let url = nonEmptyString(urlNode) {
            let lowered = url.lowercased()
            if (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")), URL(string: url)?.host != nil {
                hook.url = url
                if case .scalar(let scalar) = urlNode.node {
                    hook.urlSecrets = EnvironmentSubstitution.substitutedValues(scalar.string, environment: environment).map(Secret.init)
                }
            } else {
                error(urlNode, "\"\(LocationRedaction.redact(url))\" is not an http:// or https:// URL")
            }
        }
        if let methodNode = fields["method"], let method = nonEmptyString(methodNode) {
            if method.allSatisfy({ $0.isASCII && $0.isLetter }) { hook.method = method.uppercased() } else { error(methodNode, "\"\(method)\" is not an HTTP method") }
        }
        if let headersNode = fields["headers"], let entries = namedEntries(headersNode) {
            for entry in entries {
                if let value = string(entry.value) { hook.headers[entry.key] = Secret(value) }
            }
        }
        if let bodyNode = fields["body"] {
            switch bodyNode.node {
            case .scalar: hook.body = string(bodyNode).map(HTTPHook.Body.text)
            case .mapping, .sequence: hook.body = json(bodyNode).map(HTTPHook.Body.json)
            case .alias: error(bodyNode, "expected a string or a mapping, found an alias")
            }
        }
        if let timeout = fields["timeout"].flatMap({ duration($0) }) { hook.timeout = Self.seconds(timeout) }
        if let retries = fields["retries"].flatMap({ int($0, in: 0...100) }) { hook.retries = retries }
        if let statusNode = fields["expect_status"], let items = list(statusNode) {
            hook.expectStatus = items.compactMap { int($0, in: 100...599) }
        }
        hook.caFile = fields["ca_file"].flatMap(existingFile)
        hook.insecure = fields["insecure"].flatMap(bool) ?? false
        return hook
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// A YAML body as JSON text, keys in the order written. Plain scalars keep their YAML type
    /// (numbers, booleans, null); quoted ones are strings. `${VAR}` is substituted in every value.
    func json(_ at: ConfigNode) -> String? {
        switch at.node {
        case .mapping(let mapping):
            var parts: [String] = []
            for (key, value) in mapping {
                guard let keyText = key.string, let valueJSON = json(at.child(keyText, value)) else { return nil }
                parts.append("\(JSONText.quote(keyText)):\(valueJSON)")
            }
            return "{" + parts.joined(separator: ",") + "}"
        case .sequence(let sequence):
            var parts: [String] = []
            for (index, element) in sequence.enumerated() {
                guard let valueJSON = json(at.element(index, element)) else { return nil }
                parts.append(valueJSON)
            }
            return "[" + parts.joined(separator: ",") + "]"
        case .scalar(let scalar):
            if at.isNull { return "null" }
            guard let text = string(at) else { return nil }
            if scalar.style == .plain || scalar.style == .any, text == scalar.string {
                if ["true", "false"].contains(text) { return text }
                if Int(text) != nil { return text }
                if let number = Double(text), number.isFinite, text.first != "." { return text }
            }
            return JSONText.quote(text)
        case .alias:
            error(at, "aliases are not supported in a body")
            return nil
        }
    }
}
