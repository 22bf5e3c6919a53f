import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// `HTTPTransport` over URLSession (libcurl on Linux), with a hard deadline for the whole
/// exchange and a cap on the body size enforced while the bytes arrive.
///
/// URLSession's own timeouts are idle timeouts on Linux; a server that trickles one byte a
/// second would never trip them, so the deadline is a timer that cancels the task.
public final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let delegate: Delegate

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpShouldSetCookies = false
        configuration.httpMaximumConnectionsPerHost = 2
        delegate = Delegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    deinit {
        session.invalidateAndCancel()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        urlRequest.httpBody = request.body
        for (name, value) in request.headers {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        let task = session.dataTask(with: urlRequest)
        let id = task.taskIdentifier
        let delegate = self.delegate
        let outcome: Result<HTTPResponse, any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                delegate.register(id, limit: request.maxResponseBytes, continuation: continuation)
                // A finished exchange ignores the late timer: `fail` finds no entry for it.
                DispatchQueue.global().asyncAfter(deadline: .now() + request.timeout) { [weak task] in
                    delegate.fail(id, with: TransportError.timedOut(seconds: request.timeout))
                    task?.cancel()
                }
                task.resume()
                // Cancelled before the exchange was registered: `onCancel` found nothing to
                // fail, so fail it here rather than wait for the deadline.
                if Task.isCancelled {
                    delegate.fail(id, with: CancellationError())
                    task.cancel()
                }
            }
        } onCancel: {
            delegate.fail(id, with: CancellationError())
            task.cancel()
        }
        return try outcome.get()
    }

    /// Collects each task's bytes; one lock guards all in-flight exchanges.
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        // @unchecked: every mutable field lives inside `exchanges`, behind the Mutex.
        struct Exchange {
            var limit: Int
            var continuation: CheckedContinuation<Result<HTTPResponse, any Error>, Never>
            var response: HTTPURLResponse?
            var body = Data()
            var failure: (any Error)?
        }

        private let exchanges = Mutex<[Int: Exchange]>([:])

        func register(_ id: Int, limit: Int, continuation: CheckedContinuation<Result<HTTPResponse, any Error>, Never>) {
            exchanges.withLock { $0[id] = Exchange(limit: limit, continuation: continuation) }
        }

        /// Records why the exchange ended early; the first reason wins.
        func fail(_ id: Int, with error: sending any Error) {
            exchanges.withLock {
                if $0[id] != nil, $0[id]?.failure == nil { $0[id]?.failure = error }
            }
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            let id = dataTask.taskIdentifier
            let allow = exchanges.withLock { state -> Bool in
                guard var exchange = state[id] else { return false }
                exchange.response = response as? HTTPURLResponse
                if response.expectedContentLength > Int64(exchange.limit) {
                    exchange.failure = exchange.failure ?? TransportError.responseTooLarge(limit: exchange.limit)
                    state[id] = exchange
                    return false
                }
                if response.expectedContentLength > 0 {
                    exchange.body.reserveCapacity(Int(response.expectedContentLength))
                }
                state[id] = exchange
                return true
            }
            completionHandler(allow ? .allow : .cancel)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let id = dataTask.taskIdentifier
            let tooLarge = exchanges.withLock { state -> Bool in
                guard var exchange = state[id], exchange.failure == nil else { return false }
                state[id] = nil  // avoid copying the buffer on write
                if exchange.body.count + data.count > exchange.limit {
                    exchange.failure = TransportError.responseTooLarge(limit: exchange.limit)
                    exchange.body = Data()
                    state[id] = exchange
                    return true
                }
                exchange.body.append(data)
                state[id] = exchange
                return false
            }
            if tooLarge { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            guard let exchange = exchanges.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
            let result: Result<HTTPResponse, any Error>
            if let failure = exchange.failure {
                result = .failure(failure)
            } else if let error {
                result = .failure(URLSessionTransport.classify(error))
            } else if let response = exchange.response {
                var headers: [String: String] = [:]
                for (name, value) in response.allHeaderFields {
                    headers[String(describing: name).lowercased()] = String(describing: value)
                }
                result = .success(HTTPResponse(status: response.statusCode, headers: headers, body: exchange.body))
            } else {
                result = .failure(TransportError.connection("no HTTP response"))
            }
            exchange.continuation.resume(returning: result)
        }

    }

    /// Sorts a URLSession failure into what an operator must check: DNS, TLS, or the connection.
    static func classify(_ error: any Error) -> TransportError {
        let nsError = error as NSError
        let reason = nsError.localizedDescription.isEmpty ? "\(error)" : nsError.localizedDescription
        guard nsError.domain == NSURLErrorDomain else { return .connection(reason) }
        switch URLError.Code(rawValue: nsError.code) {
        case .cannotFindHost, .dnsLookupFailed:
            return .nameResolution(reason)
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
             .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid, .clientCertificateRejected,
             .clientCertificateRequired:
            return .tls(reason)
        default:
            // corelibs-foundation reports many libcurl TLS failures (a handshake with a plain-HTTP
            // port, say) as code -1 with OpenSSL's text: recognise them by that text.
            let text = reason.lowercased()
            if ["ssl", "tls", "certificate"].contains(where: text.contains) { return .tls(reason) }
            return .connection(reason)
        }
    }
}
