extension ChildProcessRequest {
    /// The command line as it will run — `nice`/`ionice` wrappers included, the death-signal wrapper every
    /// child has left out — quoted for a shell, with every
    /// secret replaced by `***`: for job logs, so a record shows the limits and priority a child really got.
    public var displayCommandLine: String {
        let argv: [String]
        if let launch = try? ChildLaunch(self) {
            argv = launch.displayArguments
        } else {
            argv = [executable] + arguments
        }
        return SecretRedactor(secrets).redact(argv.map(Self.shellQuoted).joined(separator: " "))
    }

    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_./=:,@%+".unicodeScalars.contains(scalar)
        }
        return plain ? word : "'" + word.replacing("'", with: #"'\''"#) + "'"
    }
}
