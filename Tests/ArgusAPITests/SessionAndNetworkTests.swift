@testable import ArgusAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("Argus client: session check and network failure classes")
struct SessionAndNetworkTests {
    func client(_ transport: CannedTransport) -> ArgusClient {
        ArgusClient(baseURL: URL(string: "https://api.mnemonic.no/")!, apiKey: "secret-key", transport: transport,
                    userAgent: "argus-event-sync/test")
    }

    @Test("the session check is a GET with the key, and reads the user and customer")
    func session() async throws {
        let body = #"{"responseCode":200,"data":{"user":{"userName":"sync","name":"Sync user","customer":{"shortName":"acme","name":"Acme AS"}}}}"#
        let transport = CannedTransport(.success(HTTPResponse(status: 200, body: Data(body.utf8))))
        let info = try await client(transport).session()
        #expect(info == SessionInfo(userName: "sync", name: "Sync user", customerShortName: "acme", customerName: "Acme AS"))
        #expect(info.summary == "sync (Sync user), customer acme")
        let request = try #require(transport.seen.withLock { $0.first })
        #expect(request.method == "GET" && request.url.absoluteString == "https://api.mnemonic.no/authentication/v1/session")
        #expect(request.headers["Argus-API-Key"] == "secret-key" && request.headers["Content-Type"] == nil)
    }

    @Test("a session answer without a user still counts as accepted; a non-JSON one does not")
    func sessionShapes() async throws {
        let bare = CannedTransport(.success(HTTPResponse(status: 200, body: Data(#"{"data":{}}"#.utf8))))
        #expect(try await client(bare).session().summary == nil)
        let html = CannedTransport(.success(HTTPResponse(status: 200, body: Data("<html>".utf8))))
        await #expect { _ = try await client(html).session() } throws: {
            if case .invalidResponse? = $0 as? ArgusAPIError { true } else { false }
        }
    }

    @Test("401s are told apart: expired key, key bound to other networks, plain rejection", arguments: [
        ("API key has expired", "key-expired", "has expired"),
        ("API key is not valid from this source network address", "source-network-denied", "not allowed from this host's network"),
        ("Authentication failed", "authentication", "check the API key"),
    ])
    func authenticationKinds(message: String, kind: String, hint: String) async throws {
        let body = #"{"responseCode":401,"messages":[{"type":"ACTION_ERROR","message":"\#(message)"}],"data":[]}"#
        let transport = CannedTransport(.success(HTTPResponse(status: 401, body: Data(body.utf8))))
        await #expect { _ = try await client(transport).session() } throws: { error in
            guard let error = error as? ArgusAPIError else { return false }
            return error.kind == kind && error.description.contains(hint) && !error.isRetryable
        }
    }

    @Test("URLSession failures are sorted into DNS, TLS and connection problems", arguments: [
        (URLError.Code.cannotFindHost, "Could not resolve host: api.example", "dns"),
        (.dnsLookupFailed, "lookup failed", "dns"),
        (.serverCertificateUntrusted, "certificate untrusted", "tls"),
        (.secureConnectionFailed, "handshake failed", "tls"),
        (.unknown, "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number", "tls"),
        (.cannotConnectToHost, "Failed to connect to 127.0.0.1 port 9: Connection refused", "connection"),
        (.networkConnectionLost, "connection lost", "connection"),
    ])
    func transportClasses(code: URLError.Code, text: String, kind: String) async throws {
        let error = NSError(domain: NSURLErrorDomain, code: code.rawValue, userInfo: [NSLocalizedDescriptionKey: text])
        let classified = URLSessionTransport.classify(error)
        let transport = CannedTransport(.failure(classified))
        await #expect { _ = try await client(transport).session() } throws: { error in
            guard let error = error as? ArgusAPIError else { return false }
            return error.kind == kind && error.isRetryable && error.description.contains(text)
        }
    }
}
