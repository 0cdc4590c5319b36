/// The version this build reports (`hen_daemon_info`, the API).
public enum HenVersion {
    public static let current = "0.1.0-dev"
}
