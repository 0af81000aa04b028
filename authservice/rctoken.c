#include "authservice/rctoken.h"

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64url.h"
#include "util/random.h"

#define SID_DOMAIN "tenantgate rctoken sid"
#define CACHE_WAYS 4
#define ES256_COORD 32

void as_rctoken_sid(const char *session_key, char *out)
{
    uint8_t digest[EVP_MAX_MD_SIZE] = {0};
    unsigned digest_len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* the domain goes in with its NUL, so it ends unambiguously */
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, SID_DOMAIN, sizeof(SID_DOMAIN)) == 1 &&
             EVP_DigestUpdate(md, session_key, strlen(session_key)) == 1 &&
             EVP_DigestFinal_ex(md, digest, &digest_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) /* never a guessable sid: one that cannot be computed is random */
        (void)tg_random_bytes(digest, 16);
    tg_base64url_encode(out, digest, 16);
}

/* The claims object of a token; NULL when out of memory. */
static json_t *claims_of(const as_rctoken_params_t *params, const as_identity_t *identity,
                         const char *audience, const char *namespace_, int64_t now, int64_t exp,
                         const char *token_use)
{
    uint8_t jti_bytes[16];
    char jti[TG_BASE64URL_ENCODED_SIZE(sizeof(jti_bytes))], sid[AS_RCTOKEN_SID_LEN + 1];
    if (tg_random_buffered(jti_bytes, sizeof(jti_bytes)) != 0)
        return NULL;
    tg_base64url_encode(jti, jti_bytes, sizeof(jti_bytes));
    if (identity->session_key != NULL)
        as_rctoken_sid(identity->session_key, sid);
    json_t *groups = json_array();
    for (size_t i = 0; groups != NULL && i < identity->group_count; ++i)
        if (json_array_append_new(groups, json_string(identity->groups[i])) != 0) {
            json_decref(groups);
            groups = NULL;
        }
    json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s*, s:o?}", "iss", params->issuer,
                               "sub", identity->subject, "aud", audience, "exp", (json_int_t)exp, "iat",
                               (json_int_t)now, "nbf", (json_int_t)now, "jti", jti, "sid",
                               identity->session_key != NULL ? sid : NULL, "groups", groups);
    if (claims == NULL)
        return NULL;
    if ((identity->email != NULL &&
         json_object_set_new(claims, "email", json_string(identity->email)) != 0) ||
        (namespace_ != NULL && params->namespace_claim != NULL &&
         json_object_set_new(claims, params->namespace_claim, json_string(namespace_)) != 0) ||
        (token_use != NULL &&
         json_object_set_new(claims, AS_RCTOKEN_USE_CLAIM, json_string(token_use)) != 0)) {
        json_decref(claims);
        return NULL;
    }
    return claims;
}

/* An ECDSA DER signature as JOSE wants it: r and s, 32 bytes each. */
static int der_to_raw(const unsigned char *der, size_t der_len, unsigned char raw[2 * ES256_COORD])
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, ES256_COORD) == ES256_COORD &&
             BN_bn2binpad(s, raw + ES256_COORD, ES256_COORD) == ES256_COORD;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

/* Appends ".signature" to the signing input in out (len bytes used, size bytes in all). */
static int sign_into(const as_rctoken_keys_t *keys, char *out, size_t len, size_t size)
{
    unsigned char sig[1024], raw[2 * ES256_COORD];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL &&
             EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, as_rctoken_keys_signing_key(keys)) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)out, len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    const unsigned char *value = sig;
    if (as_rctoken_keys_alg(keys) == AS_RCTOKEN_ES256) {
        if (der_to_raw(sig, sig_len, raw) != 0)
            return -1;
        value = raw;
        sig_len = sizeof(raw);
    }
    if (len + 1 + TG_BASE64URL_ENCODED_SIZE(sig_len) > size)
        return -1;
    out[len] = '.';
    tg_base64url_encode(out + len + 1, value, sig_len);
    return 0;
}

/* A signed token of identity for audience, valid from now to exp, with token_use when not NULL. */
static char *mint(const as_rctoken_params_t *params, const as_identity_t *identity, const char *audience,
                  const char *namespace_, int64_t now, int64_t exp, const char *token_use)
{
    if (identity->source == AS_IDENTITY_NONE || identity->subject == NULL || audience == NULL || exp <= now)
        return NULL;
    json_t *claims = claims_of(params, identity, audience, namespace_, now, exp, token_use);
    char *payload = claims != NULL ? json_dumps(claims, JSON_COMPACT) : NULL;
    json_decref(claims);
    if (payload == NULL)
        return NULL;
    char header[160];
    int header_len =
        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                 as_rctoken_alg_name(as_rctoken_keys_alg(params->keys)), as_rctoken_keys_kid(params->keys));
    size_t payload_len = strlen(payload);
    char *token = malloc(AS_RCTOKEN_MAX_SIZE);
    if (token == NULL || header_len < 0 || (size_t)header_len >= sizeof(header) ||
        TG_BASE64URL_ENCODED_SIZE((size_t)header_len) + TG_BASE64URL_ENCODED_SIZE(payload_len) >
            AS_RCTOKEN_MAX_SIZE / 2) {
        free(payload);
        free(token);
        return NULL;
    }
    size_t len = tg_base64url_encode(token, (const uint8_t *)header, (size_t)header_len);
    token[len++] = '.';
    len += tg_base64url_encode(token + len, (const uint8_t *)payload, payload_len);
    free(payload);
    if (sign_into(params->keys, token, len, AS_RCTOKEN_MAX_SIZE) != 0) {
        free(token);
        return NULL;
    }
    return token;
}

char *as_rctoken_mint(const as_rctoken_params_t *params, const as_identity_t *identity, const char *audience,
                      const char *namespace_, int64_t now)
{
    return mint(params, identity, audience, namespace_, now, now + (int64_t)params->ttl_s, NULL);
}

char *as_rctoken_mint_cli(const as_rctoken_params_t *params, const as_identity_t *identity, int64_t now,
                          uint64_t ttl_s, int64_t not_after)
{
    int64_t exp = now + (int64_t)ttl_s;
    if (not_after > 0 && not_after < exp)
        exp = not_after;
    return mint(params, identity, params->issuer, NULL, now, exp, AS_RCTOKEN_USE_CLI);
}

/* ---- per-worker cache: set-associative, CACHE_WAYS entries per set ---- */

typedef struct {
    uint64_t hash;
    char *key;   /* session_key, audience and namespace joined by newlines */
    char *token; /* NULL: empty entry */
    int64_t iat, exp;
} cache_entry_t;

struct as_rctoken_cache {
    cache_entry_t *entries;
    size_t sets;
    uint64_t mints;
    char *uncached; /* the last token of an identity without a session key: minted per call */
};

as_rctoken_cache_t *as_rctoken_cache_new(size_t capacity)
{
    as_rctoken_cache_t *cache = calloc(1, sizeof(*cache));
    if (cache == NULL)
        return NULL;
    cache->sets = capacity / CACHE_WAYS + (capacity % CACHE_WAYS != 0) + (capacity == 0);
    if ((cache->entries = calloc(cache->sets * CACHE_WAYS, sizeof(*cache->entries))) == NULL) {
        free(cache);
        return NULL;
    }
    return cache;
}

static void entry_clear(cache_entry_t *e)
{
    free(e->key);
    free(e->token);
    *e = (cache_entry_t){0};
}

void as_rctoken_cache_free(as_rctoken_cache_t *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->sets * CACHE_WAYS; ++i)
        entry_clear(&cache->entries[i]);
    free(cache->entries);
    free(cache->uncached);
    free(cache);
}

uint64_t as_rctoken_cache_mints(const as_rctoken_cache_t *cache)
{
    return cache->mints;
}

#define KEY_PARTS 3 /* session key, audience, namespace */

/* FNV-1a over the key parts joined by newlines: the hash of the key string as it is stored. */
static uint64_t hash_parts(const char *const parts[KEY_PARTS])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < KEY_PARTS; ++i) {
        if (i > 0)
            h = (h ^ (uint8_t)'\n') * 1099511628211ull;
        for (const char *c = parts[i]; *c != '\0'; ++c)
            h = (h ^ (uint8_t)*c) * 1099511628211ull;
    }
    return h;
}

/* Whether a stored key is the parts joined by newlines, compared without building the joined string. */
static int key_is(const char *key, const char *const parts[KEY_PARTS])
{
    for (size_t i = 0; i < KEY_PARTS; ++i) {
        size_t len = strlen(parts[i]);
        if (strncmp(key, parts[i], len) != 0)
            return 0;
        key += len;
        if (i + 1 < KEY_PARTS && *key++ != '\n')
            return 0;
    }
    return *key == '\0';
}

/* Whether a cached token still has at least a tenth of its life left at now. */
static int fresh(const cache_entry_t *e, int64_t now)
{
    return e->token != NULL && now >= e->iat && (e->exp - now) * 10 >= e->exp - e->iat;
}

const char *as_rctoken_cache_get(as_rctoken_cache_t *cache, const as_rctoken_params_t *params,
                                 const as_identity_t *identity, const char *audience, const char *namespace_,
                                 int64_t now)
{
    if (identity->source == AS_IDENTITY_NONE || audience == NULL)
        return NULL;
    if (identity->session_key == NULL) { /* nothing says two such identities are the same caller */
        free(cache->uncached);
        cache->uncached = as_rctoken_mint(params, identity, audience, namespace_, now);
        cache->mints += cache->uncached != NULL;
        return cache->uncached;
    }
    const char *ns = namespace_ != NULL ? namespace_ : "";
    const char *const parts[KEY_PARTS] = {identity->session_key, audience, ns};
    /* a hit (all but one request per session, audience and worker every few minutes) allocates nothing */
    uint64_t hash = hash_parts(parts);
    cache_entry_t *set = &cache->entries[(hash % cache->sets) * CACHE_WAYS], *victim = &set[0];
    for (size_t i = 0; i < CACHE_WAYS; ++i) {
        cache_entry_t *e = &set[i];
        if (e->token != NULL && e->hash == hash && key_is(e->key, parts)) {
            if (fresh(e, now))
                return e->token;
            victim = e;
            break;
        }
        if (victim->token != NULL && (e->token == NULL || e->exp < victim->exp))
            victim = e;
    }
    size_t key_len = strlen(identity->session_key) + strlen(audience) + strlen(ns) + 3;
    char *key = malloc(key_len);
    if (key == NULL)
        return NULL;
    snprintf(key, key_len, "%s\n%s\n%s", identity->session_key, audience, ns);
    char *token = as_rctoken_mint(params, identity, audience, namespace_, now);
    if (token == NULL) {
        free(key);
        return NULL;
    }
    cache->mints++;
    entry_clear(victim);
    *victim = (cache_entry_t){
        .hash = hash, .key = key, .token = token, .iat = now, .exp = now + (int64_t)params->ttl_s};
    return token;
}
