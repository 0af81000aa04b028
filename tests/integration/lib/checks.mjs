// Shared expectations of the gateway tests.
import assert from 'node:assert/strict';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A valid W3C traceparent (version 00, lower-case hex, non-zero ids). */
export const TRACEPARENT = /^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The parsed echo of a proxied request, after checking it came from upstream `name`. */
export function echoFrom(res, name) {
    assert.equal(res.status, 200, `expected the ${name} echo, got ${res.status}: ${res.body.slice(0, 300)}`);
    const echo = res.json();
    assert.equal(echo.upstream, name, `reached ${echo.upstream}, expected ${name}`);
    return echo;
}

/**
 * An error page of the gateway: status, and for Accept: application/json the
 * body {error, status, request_id}; otherwise text/html. Returns the body.
 */
export function assertErrorPage(res, status, { json = false } = {}) {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.body.slice(0, 300)}`);
    assert.equal(res.headers['x-upstream-name'], undefined, 'an upstream answered');
    const type = res.headers['content-type'] || '';
    if (json) {
        assert.match(type, /^application\/json/, `content-type ${type}`);
        const b = res.json();
        assert.equal(typeof b.error, 'string');
        assert.ok(b.error.length > 0);
        assert.equal(b.status, status);
        assert.equal(typeof b.request_id, 'string');
        assert.ok(b.request_id.length > 0);
        return b;
    }
    assert.match(type, /^text\/html/, `content-type ${type}`);
    return res.body;
}

/** The body must not leak TLS library internals. */
export function assertGenericBody(body) {
    for (const bad of [/ssl/i, /certificate/i, /verify/i, /error:/, /x509/i, /handshake/i]) {
        assert.doesNotMatch(body, bad, `error body leaks ${bad}: ${body.slice(0, 500)}`);
    }
}
