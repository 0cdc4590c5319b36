import Foundation
import HenEngine
import Hummingbird

/// `POST /config/reload`: reads the configuration file again and puts it in force. An invalid file is
/// refused with every error (file, line, column, key path) and the running configuration stays.
/// `GET /config`: the configuration in force, secrets redacted.
public struct ConfigRoutes: Sendable {
    let engine: Engine
    let loader: ConfigurationLoader

    public init(engine: Engine, loader: ConfigurationLoader) {
        self.engine = engine
        self.loader = loader
    }

    public func register(on api: RouterGroup<HenRequestContext>) {
        api.get("config") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: engine.configuration.redactedYAML())))
        }
        api.post("config/reload") { _, context in
            do {
                let result = try await engine.reloadConfigurationFile(loader: loader)
                return try RouteSupport.json(result)
            } catch let error as ConfigurationError {
                context.logger.error("The configuration was not reloaded: the file has errors; the running configuration stays.", metadata: ["errors": "\(error.issues.count)"])
                for issue in error.issues { context.logger.error("\(issue)") }
                let count = error.issues.count
                throw APIError(
                    .unprocessableContent, "invalid_config",
                    "The configuration file has \(count) error\(count == 1 ? "" : "s") and was not loaded; the running configuration stays. First: \(error.issues.first.map(\.description) ?? "")",
                    details: error.issues
                )
            }
        }
    }
}
