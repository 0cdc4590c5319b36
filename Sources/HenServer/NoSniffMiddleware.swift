import Hummingbird

/// `X-Content-Type-Options: nosniff` on every answer: a browser takes each for the type it says (a
/// downloaded file or an error is never run as a script or shown as a page).
struct NoSniffMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
