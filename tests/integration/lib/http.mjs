// Request helpers returning {status, headers, body} (body a string; raw a
// Buffer; json() parses it). Every call uses a new connection unless a
// session is passed, so tests do not depend on each other's sockets.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';

const EARLY_ANSWER_BODY = 256 * 1024;
const EARLY_ANSWER_WAIT_MS = 300;

function result(status, headers, raw, extra = {}) {
    return {
        status,
        headers,
        raw,
        body: raw.toString('utf8'),
        json() {
            try {
                return JSON.parse(raw.toString('utf8'));
            } catch (e) {
                throw new Error(`not JSON (status ${status}): ${raw.toString('utf8').slice(0, 500)}`);
            }
        },
        ...extra,
    };
}

/**
 * One HTTP/1.1 request (http: or https: URL). options: method, headers (object;
 * an array value sends the header several times), body (string|Buffer),
 * chunked (send the body without content-length), ca, servername, cert + key
 * (a client certificate), path (sent verbatim instead of the URL's), timeoutMs.
 * Stops sending the body once a response arrived (an early 413 is read, not lost).
 */
export function http1(url, options = {}) {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const body = options.body === undefined ? null : Buffer.from(options.body);
    const headers = { ...(options.headers || {}) };
    if (body && !options.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
        headers['content-length'] = String(body.length);
    }
    const reqOptions = {
        host: u.hostname,
        port: u.port,
        path: options.path || `${u.pathname}${u.search}`,
        method: options.method || (body ? 'POST' : 'GET'),
        headers,
        agent: false,
        ca: options.ca,
        servername: options.servername,
        cert: options.cert,
        key: options.key,
        ALPNProtocols: secure ? ['http/1.1'] : undefined,
        insecureHTTPParser: false,
        maxHeaderSize: 64 * 1024,
    };
    return new Promise((resolve, reject) => {
        let responded = false;
        const req = (secure ? https : http).request(reqOptions, (res) => {
            responded = true;
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () =>
                resolve(result(res.statusCode, res.headers, Buffer.concat(chunks), { httpVersion: res.httpVersion })));
            res.on('error', reject);
        });
        req.setTimeout(options.timeoutMs || 10000, () => req.destroy(new Error(`timeout: ${reqOptions.method} ${url}`)));
        req.on('error', (e) => {
            if (!responded) reject(e);
        });
        if (!body) {
            req.end();
            return;
        }
        // Write in pieces so an early response stops the upload. Before a large
        // body, give the server a moment to answer the headers alone (a 413 on
        // content-length): writing into a connection it already closed would
        // lose its answer to EPIPE.
        const piece = 64 * 1024;
        let off = 0;
        const pump = () => {
            while (off < body.length && !responded && !req.destroyed) {
                const chunk = body.subarray(off, off + piece);
                off += chunk.length;
                if (!req.write(chunk)) {
                    req.once('drain', pump);
                    return;
                }
            }
            if (!responded && !req.destroyed) req.end();
        };
        if (body.length <= EARLY_ANSWER_BODY) {
            pump();
            return;
        }
        req.flushHeaders();
        const timer = setTimeout(pump, EARLY_ANSWER_WAIT_MS);
        req.once('response', () => clearTimeout(timer));
    });
}

/** Opens an HTTP/2 session (TLS, ALPN h2 only). options: ca, servername, settings. */
export function h2Connect(origin, options = {}) {
    return new Promise((resolve, reject) => {
        const session = http2.connect(origin, {
            ca: options.ca,
            servername: options.servername,
            ALPNProtocols: ['h2'],
            maxSendHeaderBlockLength: 1024 * 1024,
            settings: options.settings,
        });
        session.once('connect', () => resolve(session));
        session.once('error', reject);
    });
}

/**
 * One HTTP/2 request. options: method, path (verbatim :path), headers, body,
 * ca, servername, session (reuse; else a session is opened and closed),
 * timeoutMs. The result also has alpn (the session's negotiated protocol).
 */
export async function h2(origin, options = {}) {
    const own = !options.session;
    const session = options.session || (await h2Connect(origin, options));
    try {
        return await new Promise((resolve, reject) => {
            const body = options.body === undefined ? null : Buffer.from(options.body);
            const headers = {
                ':method': options.method || (body ? 'POST' : 'GET'),
                ':path': options.path || '/',
                ...(options.headers || {}),
            };
            const stream = session.request(headers, { endStream: !body });
            let status = 0;
            let resHeaders = {};
            const chunks = [];
            stream.setTimeout(options.timeoutMs || 10000, () => {
                reject(new Error(`timeout: ${headers[':path']}`));
                stream.close(http2.constants.NGHTTP2_CANCEL);
            });
            stream.on('response', (h) => {
                status = h[':status'];
                resHeaders = h;
            });
            stream.on('data', (c) => chunks.push(c));
            stream.on('end', () =>
                resolve(result(status, resHeaders, Buffer.concat(chunks), { alpn: session.alpnProtocol })));
            stream.on('error', (e) => {
                if (status) resolve(result(status, resHeaders, Buffer.concat(chunks), { alpn: session.alpnProtocol }));
                else reject(e);
            });
            if (body) {
                const piece = 64 * 1024;
                let off = 0;
                const pump = () => {
                    while (off < body.length && !status && !stream.destroyed) {
                        const chunk = body.subarray(off, off + piece);
                        off += chunk.length;
                        if (!stream.write(chunk)) {
                            stream.once('drain', pump);
                            return;
                        }
                    }
                    if (!stream.destroyed) stream.end();
                };
                pump();
            }
        });
    } finally {
        if (own) session.close();
    }
}

/**
 * A bare TLS handshake. Resolves {ok, protocol, alpn, error} (error is the
 * handshake failure, if any). options: port, host, servername, ca,
 * minVersion, maxVersion, ciphers, ALPNProtocols.
 */
export function tlsHandshake(options) {
    return new Promise((resolve) => {
        const sock = tls.connect({
            host: options.host || '127.0.0.1',
            port: options.port,
            servername: options.servername || 'localhost',
            ca: options.ca,
            minVersion: options.minVersion,
            maxVersion: options.maxVersion,
            ciphers: options.ciphers,
            ALPNProtocols: options.ALPNProtocols,
        });
        const timer = setTimeout(() => finish({ ok: false, error: new Error('handshake timeout') }), 10000);
        function finish(r) {
            clearTimeout(timer);
            sock.destroy();
            resolve(r);
        }
        sock.once('secureConnect', () =>
            finish({ ok: true, protocol: sock.getProtocol(), alpn: sock.alpnProtocol, error: null }));
        sock.once('error', (error) => finish({ ok: false, protocol: null, alpn: null, error }));
        sock.once('close', () => finish({ ok: false, protocol: null, alpn: null, error: new Error('closed') }));
    });
}
