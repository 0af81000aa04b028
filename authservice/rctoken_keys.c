#include "authservice/rctoken_keys.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/jwk.h"

typedef struct {
    EVP_PKEY *pkey; /* private for the active key, public for verify-only ones */
    char kid[OIDC_JWK_THUMBPRINT_SIZE];
} rctoken_key_t;

struct as_rctoken_keys {
    as_rctoken_alg_t alg;
    rctoken_key_t keys[1 + AS_RCTOKEN_MAX_VERIFY_KEYS]; /* [0] is the active key */
    size_t count;
    char *jwks;
    size_t jwks_len;
};

const char *as_rctoken_alg_name(as_rctoken_alg_t alg)
{
    return alg == AS_RCTOKEN_ES256 ? "ES256" : alg == AS_RCTOKEN_RS256 ? "RS256" : NULL;
}

/* Never asks for a passphrase: an encrypted key file is refused, not prompted for. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* Reads a whole key file of at most AS_RCTOKEN_MAX_KEY_FILE bytes into a malloc'd buffer; NULL with a reason.
 */
static char *read_key_file(const char *path, size_t *len, const char **reason)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        *reason = strerror(errno);
        return NULL;
    }
    char *buf = malloc(AS_RCTOKEN_MAX_KEY_FILE + 1);
    *len = buf != NULL ? fread(buf, 1, AS_RCTOKEN_MAX_KEY_FILE + 1, fp) : 0;
    int failed = buf == NULL || ferror(fp);
    fclose(fp);
    if (!failed && *len <= AS_RCTOKEN_MAX_KEY_FILE)
        return buf;
    *reason = failed ? "cannot be read" : "is larger than 64 KiB";
    if (buf != NULL) {
        OPENSSL_cleanse(buf, *len);
        free(buf);
    }
    return NULL;
}

/* A PEM public key (public != 0) or private key read from buf. */
static EVP_PKEY *parse_pem(const char *buf, size_t len, int public)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    if (bio == NULL)
        return NULL;
    EVP_PKEY *pkey = public ? PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL)
                            : PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    return pkey;
}

/* Whether pkey can sign or verify RCTokens: EC P-256, or RSA of at least OIDC_JWK_MIN_RSA_BITS. */
static const char *unfit_reason(EVP_PKEY *pkey, as_rctoken_alg_t want)
{
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        size_t group_len = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) != 1 ||
            strcmp(group, "prime256v1") != 0)
            return "is an EC key on another curve than P-256";
        return want == AS_RCTOKEN_RS256 ? "is an EC key, RS256 needs RSA" : NULL;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < OIDC_JWK_MIN_RSA_BITS)
            return "is an RSA key shorter than 2048 bits";
        return want == AS_RCTOKEN_ES256 ? "is an RSA key, ES256 needs EC P-256" : NULL;
    }
    return "is neither an EC P-256 nor an RSA key";
}

/* The public half of pkey as a key of its own. */
static EVP_PKEY *public_only(EVP_PKEY *pkey)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return NULL;
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    return pub;
}

/* Loads one key; private (the active key) or public-or-private (verify-only, kept public). */
static EVP_PKEY *load_key(const char *path, int active, as_rctoken_alg_t alg, char *err, size_t err_size)
{
    const char *reason = NULL;
    size_t len = 0;
    char *buf = read_key_file(path, &len, &reason);
    EVP_PKEY *pkey = NULL;
    if (buf != NULL) {
        if (!active)
            pkey = parse_pem(buf, len, 1);
        if (pkey == NULL) {
            EVP_PKEY *priv = parse_pem(buf, len, 0);
            pkey = active || priv == NULL ? priv : public_only(priv);
            if (pkey != priv)
                EVP_PKEY_free(priv);
        }
        OPENSSL_cleanse(buf, len);
        free(buf);
        ERR_clear_error(); /* the failed PEM attempts must not linger on this thread's error queue */
        if (pkey == NULL)
            reason = active ? "is not an unencrypted PEM private key" : "is not a PEM public or private key";
    }
    if (pkey != NULL && (reason = unfit_reason(pkey, active ? alg : 0)) != NULL) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (pkey == NULL)
        snprintf(err, err_size, "%s key file %s: %s", active ? "signing" : "verify", path, reason);
    return pkey;
}

static const char *key_alg(EVP_PKEY *pkey)
{
    return EVP_PKEY_is_a(pkey, "EC") ? "ES256" : "RS256";
}

static int build_jwks(as_rctoken_keys_t *keys)
{
    json_t *list = json_array(), *doc = json_object();
    int rc = list == NULL || doc == NULL ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < keys->count; ++i) {
        json_t *jwk = oidc_jwk_from_pkey(keys->keys[i].pkey, keys->keys[i].kid, key_alg(keys->keys[i].pkey));
        rc = json_array_append_new(list, jwk);
    }
    if (rc == 0 && json_object_set(doc, "keys", list) == 0 &&
        (keys->jwks = json_dumps(doc, JSON_COMPACT)) != NULL)
        keys->jwks_len = strlen(keys->jwks);
    else
        rc = -1;
    json_decref(list);
    json_decref(doc);
    return rc;
}

/* Adds pkey unless a key with the same thumbprint is there already; takes pkey either way. */
static int add_key(as_rctoken_keys_t *keys, EVP_PKEY *pkey, const char *path, char *err, size_t err_size)
{
    rctoken_key_t *slot = &keys->keys[keys->count];
    if (oidc_jwk_thumbprint(pkey, slot->kid) != 0) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_size, "key file %s: no thumbprint can be computed for this key", path);
        return -1;
    }
    for (size_t i = 0; i < keys->count; ++i) {
        if (strcmp(keys->keys[i].kid, slot->kid) == 0) {
            EVP_PKEY_free(pkey);
            return 0;
        }
    }
    slot->pkey = pkey;
    keys->count++;
    return 0;
}

as_rctoken_keys_t *as_rctoken_keys_load(as_rctoken_alg_t alg, const char *signing_file,
                                        const char *const *verify_files, size_t verify_count, char *err,
                                        size_t err_size)
{
    if (as_rctoken_alg_name(alg) == NULL || verify_count > AS_RCTOKEN_MAX_VERIFY_KEYS) {
        snprintf(err, err_size,
                 as_rctoken_alg_name(alg) == NULL ? "unsupported algorithm"
                                                  : "more than 16 verify-only keys");
        return NULL;
    }
    as_rctoken_keys_t *keys = calloc(1, sizeof(*keys));
    if (keys == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    keys->alg = alg;
    EVP_PKEY *pkey = load_key(signing_file, 1, alg, err, err_size);
    if (pkey == NULL || add_key(keys, pkey, signing_file, err, err_size) != 0)
        goto fail;
    for (size_t i = 0; i < verify_count; ++i)
        if ((pkey = load_key(verify_files[i], 0, alg, err, err_size)) == NULL ||
            add_key(keys, pkey, verify_files[i], err, err_size) != 0)
            goto fail;
    if (build_jwks(keys) != 0) {
        snprintf(err, err_size, "cannot build the JWKS document: out of memory");
        goto fail;
    }
    return keys;

fail:
    as_rctoken_keys_free(keys);
    return NULL;
}

void as_rctoken_keys_free(as_rctoken_keys_t *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->count; ++i)
        EVP_PKEY_free(keys->keys[i].pkey);
    free(keys->jwks);
    free(keys);
}

as_rctoken_alg_t as_rctoken_keys_alg(const as_rctoken_keys_t *keys)
{
    return keys->alg;
}

const char *as_rctoken_keys_kid(const as_rctoken_keys_t *keys)
{
    return keys->keys[0].kid;
}

EVP_PKEY *as_rctoken_keys_signing_key(const as_rctoken_keys_t *keys)
{
    return keys->keys[0].pkey;
}

size_t as_rctoken_keys_count(const as_rctoken_keys_t *keys)
{
    return keys->count;
}

const char *as_rctoken_keys_kid_at(const as_rctoken_keys_t *keys, size_t i)
{
    return i < keys->count ? keys->keys[i].kid : NULL;
}

const char *as_rctoken_keys_jwks(const as_rctoken_keys_t *keys, size_t *len)
{
    *len = keys->jwks_len;
    return keys->jwks;
}
