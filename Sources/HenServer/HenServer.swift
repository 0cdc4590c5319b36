// HenServer will hold the HTTP API and the web UI (Hummingbird 2), built by
// `buildApplication(engine:configuration:)` for the daemon and the tests alike. See ARCHITECTURE.md.
import HenEngine
