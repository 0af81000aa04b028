// Gateways with browser login in front of the usual three upstreams, the dev
// IdP and a Redis session store: what the multi-replica session tests share.
// Every replica has the same config (same client, key file and store) and
// uses the first replica's https origin as externalUrl: cookies are per host,
// not per port, so one browser is logged in on all of them.
import { createBrowser } from './browserless.mjs';
import { makeCerts } from './certs.mjs';
import { edgeConfig, startGateway } from './gateway.mjs';
import { http1 } from './http.mjs';
import { startIdp } from './idp.mjs';
import { loginSecrets, loginSpec } from './login.mjs';
import { freePorts } from './net.mjs';
import { startRedis } from './redis.mjs';
import { standardServices, startStandardUpstreams } from './stack.mjs';

/**
 * Starts the stack. options:
 *   replicas     {name: {sessions lines}} in start order (default {a: {}}); each value's members are
 *                written under spec.sessions (e.g. {cacheTtl: '30s'}) after the common ones
 *   sessions     sessions members every replica gets
 *   scopes       oidc.scopes (default: the gateway's default)
 *   idp          more startIdp options (token lifetimes...)
 *   backchannel  true: register the first replica's /authservice/backchannel-logout with the IdP;
 *                a URL string: register that one instead (a relay)
 *   spec         more TenantGate spec lines every replica gets (two spaces in, e.g. "  accessLog: {...}\n")
 * Resolves {certs, idp, redis, gw: {name: gateway}, origin(name), newBrowser(), sessionOf(browser),
 * get(name, path, id)} where get is a plain HTTP/1.1 GET with only the session cookie.
 */
export async function startLoginStack({ replicas = { a: {} }, sessions = {}, scopes, idp: idpOptions = {},
                                        backchannel = false, spec: extraSpec = '' } = {}) {
    const secrets = loginSecrets();
    const { clientSecret } = secrets;

    const certs = await makeCerts();
    const up = await startStandardUpstreams(certs);
    const redis = await startRedis();
    const names = Object.keys(replicas);
    const ports = {};
    for (const name of names) {
        const [adminPort, httpsPort, httpPort] = await freePorts(3);
        ports[name] = { adminPort, httpsPort, httpPort };
    }
    const external = `https://localhost:${ports[names[0]].httpsPort}`;
    const idp = await startIdp({
        clientSecret,
        redirectUris: [`${external}/authservice/callback`],
        postLogoutRedirectUris: [`${external}/`],
        ...(backchannel === true ? { backchannelLogoutUri: `${external}/authservice/backchannel-logout`,
                                     backchannelCa: certs.path('edge-ca.pem') } : {}),
        ...(typeof backchannel === 'string' ? { backchannelLogoutUri: backchannel } : {}),
        ...idpOptions,
    });
    const gw = {};
    for (const name of names) {
        const members = { ...sessions, ...replicas[name] };
        const more = { oidc: scopes ? { scopes: `[${scopes.join(', ')}]` } : {}, sessions: members };
        const spec = `${loginSpec({ idp, externalUrl: external, secrets, store: redis.url, more })}${extraSpec}`;
        gw[name] = await startGateway({ config: (p) => edgeConfig({ ...p, certs, services: standardServices(up), spec }),
            ports: ports[name], name: `replica-${name}` });
    }
    return {
        certs,
        idp,
        redis,
        gw,
        origin: (name) => `https://localhost:${gw[name].httpsPort}`,
        newBrowser: () => createBrowser({ ca: certs.read('edge-ca.pem'), resolve: { localhost: '127.0.0.1' } }),
        sessionOf: (browser) => browser.jar.list.find((c) => c.name === '__Host-tenantgate')?.value,
        get: (name, path, id) => http1(`${gw[name].origin}${path}`, { ca: certs.read('edge-ca.pem'),
            servername: 'localhost', headers: { cookie: `__Host-tenantgate=${id}`, accept: 'text/html' } }),
    };
}
