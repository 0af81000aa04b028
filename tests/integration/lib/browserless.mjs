// A small "browser" for login flows, without a browser: a cookie jar with the
// rules browsers apply, top-level navigations that follow redirects by hand
// across origins (the gateway over https with the test CA, the IdP over
// http), HTML form submission, and login(): start URL -> IdP form -> back.
//
// Cookies follow RFC 6265bis as browsers do: keyed by host (not port), Path,
// Domain, Secure (only set from and sent to https), HttpOnly, SameSite
// (default Lax; Lax cookies go on cross-site top-level GETs only, Strict on
// same-site requests only), __Secure-/__Host- prefixes, Max-Age/Expires and
// deletion. A "site" is scheme + host (IP addresses and single-label hosts
// such as localhost are sites of their own; for dotted names the last two
// labels stand in for the registrable domain: no public-suffix list).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const MAX_REDIRECTS = 20;
const ACCEPT_HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// ---- sites -----------------------------------------------------------------

function registrable(host) {
    if (net.isIP(host.replace(/^\[|\]$/g, ''))) return host;
    const labels = host.split('.');
    return labels.length <= 2 ? host : labels.slice(-2).join('.');
}

/** The schemeful site of a URL: "https://example.com", "http://127.0.0.1". */
export function siteOf(url) {
    const u = new URL(url);
    return `${u.protocol}//${registrable(u.hostname.toLowerCase())}`;
}

// ---- cookies ---------------------------------------------------------------

function domainMatch(host, domain) {
    if (host === domain) return true;
    if (net.isIP(host.replace(/^\[|\]$/g, ''))) return false;
    return host.endsWith(`.${domain}`);
}

function defaultPath(pathname) {
    if (!pathname.startsWith('/')) return '/';
    const i = pathname.lastIndexOf('/');
    return i <= 0 ? '/' : pathname.slice(0, i);
}

function pathMatch(reqPath, cookiePath) {
    if (reqPath === cookiePath) return true;
    if (!reqPath.startsWith(cookiePath)) return false;
    return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
}

/**
 * Parses one Set-Cookie value into {name, value, attrs} or null when it must
 * be ignored. attrs: expires (ms), maxAge (s), domain, path, secure, httpOnly, sameSite.
 */
export function parseSetCookie(text) {
    const parts = String(text).split(';');
    const pair = parts.shift();
    const eq = pair.indexOf('=');
    if (eq < 0) return null;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (!name || /[\x00-\x1f\x7f]/.test(name + value)) return null;
    const attrs = {};
    for (const part of parts) {
        const i = part.indexOf('=');
        const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
        const val = i < 0 ? '' : part.slice(i + 1).trim();
        switch (key) {
        case 'expires': {
            const t = Date.parse(val);
            if (!Number.isNaN(t)) attrs.expires = t;
            break;
        }
        case 'max-age':
            if (/^-?\d+$/.test(val)) attrs.maxAge = Number(val);
            break;
        case 'domain':
            if (val) attrs.domain = val.replace(/^\./, '').toLowerCase();
            break;
        case 'path':
            attrs.path = val.startsWith('/') ? val : undefined;
            break;
        case 'secure':
            attrs.secure = true;
            break;
        case 'httponly':
            attrs.httpOnly = true;
            break;
        case 'samesite': {
            const v = val.toLowerCase();
            attrs.sameSite = ['strict', 'lax', 'none'].includes(v) ? v : 'lax';
            break;
        }
        default:
            break;
        }
    }
    return { name, value, attrs };
}

/** Cookies the way a browser keeps them. `now` is injectable for tests. */
export class CookieJar {
    constructor({ now = () => Date.now() } = {}) {
        this.now = now;
        this.list = [];
        this.seq = 0;
    }

    /**
     * Stores the Set-Cookie header values of a response to url. Returns one
     * {name, stored, reason} per header (reason says why one was refused).
     */
    setCookies(url, headerValues) {
        const values = headerValues === undefined ? [] : [].concat(headerValues);
        return values.map((v) => this.setCookie(url, v));
    }

    /** Stores one Set-Cookie value; returns {name, stored, reason}. */
    setCookie(url, headerValue) {
        const u = new URL(url);
        const host = u.hostname.toLowerCase();
        const secureOrigin = u.protocol === 'https:';
        const parsed = parseSetCookie(headerValue);
        if (!parsed) return { name: null, stored: false, reason: 'malformed' };
        const { name, value, attrs } = parsed;
        const refuse = (reason) => ({ name, stored: false, reason });

        let domain = host;
        let hostOnly = true;
        if (attrs.domain !== undefined) {
            if (!domainMatch(host, attrs.domain)) return refuse(`domain ${attrs.domain} does not match ${host}`);
            domain = attrs.domain;
            hostOnly = false;
        }
        const path = attrs.path || defaultPath(u.pathname);
        const secure = Boolean(attrs.secure);
        if (secure && !secureOrigin) return refuse('Secure cookie from an insecure origin');
        const sameSite = attrs.sameSite || 'lax';
        if (sameSite === 'none' && !secure) return refuse('SameSite=None without Secure');
        const lname = name.toLowerCase();
        if (lname.startsWith('__secure-') && !secure) return refuse('__Secure- prefix without Secure');
        if (lname.startsWith('__host-')) {
            if (!secure) return refuse('__Host- prefix without Secure');
            if (attrs.domain !== undefined) return refuse('__Host- prefix with Domain');
            if (attrs.path !== '/') return refuse('__Host- prefix without Path=/');
        }
        // An insecure origin may not overwrite (shadow) a Secure cookie.
        if (!secureOrigin && this.list.some((c) => c.secure && c.name === name &&
                                               (domainMatch(domain, c.domain) || domainMatch(c.domain, domain)) &&
                                               pathMatch(path, c.path))) {
            return refuse('would overwrite a Secure cookie');
        }

        const now = this.now();
        let expiresAt = null;
        if (attrs.maxAge !== undefined) expiresAt = attrs.maxAge <= 0 ? 0 : now + attrs.maxAge * 1000;
        else if (attrs.expires !== undefined) expiresAt = attrs.expires;

        const i = this.list.findIndex((c) => c.name === name && c.domain === domain && c.hostOnly === hostOnly &&
                                              c.path === path);
        const old = i >= 0 ? this.list[i] : null;
        if (i >= 0) this.list.splice(i, 1);
        if (expiresAt !== null && expiresAt <= now) return { name, stored: false, reason: 'deleted' };
        this.list.push({
            name, value, domain, hostOnly, path, secure, httpOnly: Boolean(attrs.httpOnly), sameSite, expiresAt,
            created: old ? old.created : (this.seq += 1),
        });
        return { name, stored: true, reason: old ? 'replaced' : 'new' };
    }

    #expire() {
        const now = this.now();
        this.list = this.list.filter((c) => c.expiresAt === null || c.expiresAt > now);
    }

    /**
     * The cookies a request to url carries. options: method (GET),
     * crossSite (false), topLevel (true: a navigation), script (false: as
     * document.cookie would see them, so no HttpOnly).
     */
    cookiesFor(url, { method = 'GET', crossSite = false, topLevel = true, script = false } = {}) {
        this.#expire();
        const u = new URL(url);
        const host = u.hostname.toLowerCase();
        const secureChannel = u.protocol === 'https:';
        const safe = method === 'GET' || method === 'HEAD';
        return this.list
            .filter((c) => (c.hostOnly ? host === c.domain : domainMatch(host, c.domain)))
            .filter((c) => pathMatch(u.pathname || '/', c.path))
            .filter((c) => !c.secure || secureChannel)
            .filter((c) => !script || !c.httpOnly)
            .filter((c) => {
                if (!crossSite || c.sameSite === 'none') return true;
                if (c.sameSite === 'strict') return false;
                return topLevel && safe;
            })
            .sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    }

    /** The Cookie header value for a request (see cookiesFor), or '' for none. */
    header(url, options) {
        return this.cookiesFor(url, options).map((c) => `${c.name}=${c.value}`).join('; ');
    }

    /** One stored cookie record by name that a request to url would carry, or undefined. */
    get(url, name, options) {
        return this.cookiesFor(url, options).find((c) => c.name === name);
    }

    /** Every stored (unexpired) cookie record. */
    all() {
        this.#expire();
        return this.list.map((c) => ({ ...c }));
    }

    /** Forgets every cookie. */
    clear() {
        this.list = [];
    }
}

// ---- HTML forms ------------------------------------------------------------

function decodeEntities(s) {
    return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e) => {
        const k = e.toLowerCase();
        if (k.startsWith('#x')) return String.fromCodePoint(parseInt(k.slice(2), 16));
        if (k.startsWith('#')) return String.fromCodePoint(parseInt(k.slice(1), 10));
        return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[k];
    });
}

function attributes(text) {
    const out = {};
    const re = /([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
    let m;
    while ((m = re.exec(text))) {
        out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
    }
    return out;
}

/**
 * The forms of an HTML page: [{id, action, method, fields: [{name, value, type}],
 * buttons: [{id, name, value}]}]. Enough HTML for login and logout pages and
 * form_post responses (inputs, buttons, textareas; form="" owners honoured).
 */
export function parseForms(htmlText) {
    const forms = [];
    const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi;
    let m;
    const controls = (text, owner) => {
        const out = [];
        const ctrlRe = /<(input|button)\b([^>]*)>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea\s*>/gi;
        let c;
        while ((c = ctrlRe.exec(text))) {
            const a = attributes(c[2] ?? c[3]);
            if (owner !== undefined && a.form !== owner) continue;
            if (c[1]) out.push({ tag: c[1].toLowerCase(), ...a });
            else out.push({ tag: 'textarea', ...a, value: decodeEntities(c[4]) });
        }
        return out;
    };
    while ((m = formRe.exec(htmlText))) {
        const a = attributes(m[1]);
        const all = controls(m[2]);
        if (a.id) all.push(...controls(htmlText.slice(0, m.index) + htmlText.slice(formRe.lastIndex), a.id));
        const fields = [];
        const buttons = [];
        for (const c of all) {
            if ('disabled' in c) continue;
            const type = (c.type || (c.tag === 'button' ? 'submit' : 'text')).toLowerCase();
            if (type === 'submit' || type === 'image') {
                buttons.push({ id: c.id, name: c.name, value: c.value ?? '' });
                continue;
            }
            if (c.tag === 'button' || type === 'reset' || type === 'button' || !c.name) continue;
            if ((type === 'checkbox' || type === 'radio') && !('checked' in c)) continue;
            fields.push({ name: c.name, value: c.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''), type });
        }
        forms.push({
            id: a.id,
            action: a.action,
            method: (a.method || 'get').toLowerCase(),
            fields,
            buttons,
        });
    }
    return forms;
}

// ---- the browser -----------------------------------------------------------

/**
 * A browser with its own cookie jar. options:
 *   ca          extra trust for https (PEM; the gateway's test CA)
 *   servername  SNI and certificate name for https hops to an IP address
 *   resolve     {hostname: address} connect there instead (like curl --resolve)
 *   headers     extra request headers for every request
 *   timeoutMs   per request (10 s)
 *   agents      {http, https}: keep-alive agents to reuse connections as a
 *               browser does (default: a new connection for every request)
 * Every navigation resolves a response {url, method, status, headers, body,
 * raw, json(), chain}; chain lists every hop {method, url, status, location}.
 */
export function createBrowser(options = {}) {
    const jar = new CookieJar();
    const timeoutMs = options.timeoutMs || 10000;

    function once(method, url, { body, headers, crossSite, initiator }) {
        const u = new URL(url);
        const secure = u.protocol === 'https:';
        if (!secure && u.protocol !== 'http:') throw new Error(`not an http(s) URL: ${url}`);
        const hostname = u.hostname.replace(/^\[|\]$/g, '');
        const connectHost = (options.resolve && options.resolve[hostname]) || hostname;
        const reqHeaders = {
            host: u.host,
            accept: ACCEPT_HTML,
            'accept-language': 'en',
            'user-agent': 'tenantgate-browserless/1',
            'sec-fetch-mode': 'navigate',
            'sec-fetch-dest': 'document',
            'sec-fetch-site': initiator === null ? 'none'
                : new URL(initiator).origin === u.origin ? 'same-origin' : crossSite ? 'cross-site' : 'same-site',
            ...(options.headers || {}),
            ...(headers || {}),
        };
        const cookie = jar.header(url, { method, crossSite });
        if (cookie) reqHeaders.cookie = cookie;
        if (body !== undefined) {
            reqHeaders['content-type'] = 'application/x-www-form-urlencoded';
            reqHeaders['content-length'] = String(Buffer.byteLength(body));
            reqHeaders.origin = initiator === null ? 'null' : new URL(initiator).origin;
        }
        const reqOptions = {
            host: connectHost,
            port: u.port || (secure ? 443 : 80),
            path: `${u.pathname}${u.search}`,
            method,
            headers: reqHeaders,
            agent: (options.agents && options.agents[secure ? 'https' : 'http']) || false,
        };
        if (secure) {
            reqOptions.ca = options.ca;
            reqOptions.ALPNProtocols = ['http/1.1'];
            reqOptions.servername = options.servername || (net.isIP(hostname) ? undefined : hostname);
        }
        return new Promise((resolve, reject) => {
            const req = (secure ? https : http).request(reqOptions, (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, raw: Buffer.concat(chunks) }));
                res.on('error', reject);
            });
            req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
            req.on('error', reject);
            req.end(body);
        });
    }

    // A top-level navigation: method + url (+ form body), following redirects.
    async function navigate(method, url, { body, headers, initiator = null } = {}) {
        const chain = [];
        const hops = []; // URLs of this navigation so far, for the SameSite decision
        let current = new URL(url).href;
        for (let n = 0; ; n += 1) {
            const target = siteOf(current);
            const crossSite = (initiator !== null && siteOf(initiator) !== target) ||
                hops.some((h) => siteOf(h) !== target);
            const res = await once(method, current, { body, headers, crossSite, initiator });
            jar.setCookies(current, res.headers['set-cookie']);
            const location = res.headers.location;
            chain.push({ method, url: current, status: res.status, ...(location ? { location } : {}) });
            if (!REDIRECTS.has(res.status) || !location) {
                const text = res.raw.toString('utf8');
                return {
                    url: current, method, status: res.status, headers: res.headers, raw: res.raw, body: text, chain,
                    json() {
                        try {
                            return JSON.parse(text);
                        } catch {
                            throw new Error(`not JSON (status ${res.status}) at ${current}: ${text.slice(0, 300)}`);
                        }
                    },
                };
            }
            if (n >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`);
            hops.push(current);
            current = new URL(location, current).href;
            if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
                if (method !== 'HEAD') method = 'GET';
                body = undefined;
            }
        }
    }

    const browser = {
        jar,

        /** Navigates to url (as if typed: no initiator); options.headers adds headers. */
        get(url, opts = {}) {
            return navigate('GET', url, { headers: opts.headers, initiator: opts.from ?? null });
        },

        /**
         * POSTs form (object, [[k, v]] or URLSearchParams) urlencoded to url.
         * opts.from: the page URL the form was on (the initiator; null = none).
         */
        post(url, form, opts = {}) {
            const body = new URLSearchParams(form).toString();
            return navigate('POST', url, { body, headers: opts.headers, initiator: opts.from ?? null });
        },

        /**
         * Submits a form of page (a response of this browser). opts: formId, or
         * match(form) -> bool (default: the first form); values overriding the
         * form's fields; button: id of the submit button to include.
         */
        submitForm(page, opts = {}) {
            const forms = parseForms(page.body);
            const form = opts.formId !== undefined ? forms.find((f) => f.id === opts.formId)
                : opts.match ? forms.find(opts.match) : forms[0];
            if (!form) {
                throw new Error(`no ${opts.formId ? `form #${opts.formId}` : 'matching form'} at ${page.url} ` +
                                `(status ${page.status}): ${page.body.slice(0, 300)}`);
            }
            const values = new URLSearchParams();
            const overrides = opts.values || {};
            for (const f of form.fields) {
                values.append(f.name, Object.hasOwn(overrides, f.name) ? overrides[f.name] : f.value);
            }
            for (const [k, v] of Object.entries(overrides)) if (!form.fields.some((f) => f.name === k)) values.append(k, v);
            const button = opts.button !== undefined ? form.buttons.find((b) => b.id === opts.button) : form.buttons[0];
            if (button && button.name) values.append(button.name, button.value);
            const action = new URL(form.action || page.url, page.url).href;
            if (form.method === 'post') return browser.post(action, values, { from: page.url });
            const u = new URL(action);
            u.search = values.toString();
            return navigate('GET', u.href, { initiator: page.url });
        },

        /**
         * Opens startUrl, follows redirects to a login form (a form with
         * username and password fields), submits the credentials and follows
         * the redirects back. Resolves the final response with chain = every
         * hop of the whole login, loginForm (the URL of the form page, or null
         * when no form was shown: an IdP session already existed).
         * A refused login resolves the IdP's answer (401 + the form again).
         */
        async login(startUrl, { username, password }) {
            const first = await browser.get(startUrl);
            const isLogin = (f) => f.fields.some((x) => x.name === 'username') && f.fields.some((x) => x.name === 'password');
            if (!parseForms(first.body).some(isLogin)) return { ...first, loginForm: null };
            const res = await browser.submitForm(first, { match: isLogin, values: { username, password } });
            return { ...res, chain: [...first.chain, ...res.chain], loginForm: first.url };
        },
    };
    return browser;
}
