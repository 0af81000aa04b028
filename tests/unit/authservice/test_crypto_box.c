/* AES-256-GCM sealing: format, round trips, every tampered region, aad, rotation, key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authservice/crypto_box.h"
#include "util/base64url.h"

static const char aad[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void fill_key(uint8_t *key, uint8_t seed)
{
    for (int i = 0; i < AS_BOX_KEY_SIZE; ++i)
        key[i] = (uint8_t)(seed * 31 + i * 7);
}

static as_box_t *box_of(uint8_t seed)
{
    uint8_t key[AS_BOX_KEY_SIZE];
    fill_key(key, seed);
    char err[128] = "";
    as_box_t *box = as_box_from_keys(key, 1, err, sizeof(err));
    if (box == NULL)
        fail_msg("box: %s", err);
    return box;
}

/* Decodes sealed into raw (which must be big enough); returns its length. */
static size_t decode(const char *sealed, uint8_t *raw)
{
    long n = tg_base64url_decode(raw, sealed, strlen(sealed));
    assert_true(n >= 0);
    return (size_t)n;
}

static char *encode(const uint8_t *raw, size_t len)
{
    char *s = malloc(TG_BASE64URL_ENCODED_SIZE(len));
    tg_base64url_encode(s, raw, len);
    return s;
}

static void assert_does_not_open(const as_box_t *box, const char *sealed, size_t len, const void *ad,
                                 size_t ad_len, const char *label)
{
    size_t out_len = 12345;
    char *plain = as_open(box, sealed, len, ad, ad_len, &out_len);
    if (plain != NULL)
        fail_msg("%s: opened", label);
    if (out_len != 12345)
        fail_msg("%s: out_len changed on failure", label);
}

static void test_round_trip_lengths(void **state)
{
    (void)state;
    as_box_t *box = box_of(1);
    static const size_t lengths[] = {0, 1, 15, 16, 17, 100, 1024, 4096, AS_BOX_MAX_PLAINTEXT};
    uint8_t *plain = malloc(AS_BOX_MAX_PLAINTEXT);
    for (size_t i = 0; i < AS_BOX_MAX_PLAINTEXT; ++i)
        plain[i] = (uint8_t)(i * 13 + 5);
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); ++i) {
        size_t n = lengths[i];
        char *sealed = as_seal(box, plain, n, aad, strlen(aad));
        assert_non_null(sealed);
        size_t expected_len = ((AS_BOX_OVERHEAD + n) * 4 + 2) / 3;
        assert_int_equal(strlen(sealed), expected_len);
        size_t out_len = 0;
        char *opened = as_open(box, sealed, strlen(sealed), aad, strlen(aad), &out_len);
        assert_non_null(opened);
        assert_int_equal(out_len, n);
        assert_memory_equal(opened, plain, n);
        assert_int_equal(opened[n], '\0');
        as_box_secret_free(opened, out_len);
        free(sealed);
    }
    /* no aad at all works too, and a string comes back NUL-terminated */
    char *sealed = as_seal(box, "refresh-token", 13, NULL, 0);
    char *opened = as_open(box, sealed, strlen(sealed), NULL, 0, NULL);
    assert_string_equal(opened, "refresh-token");
    as_box_secret_free(opened, 13);
    free(sealed);
    free(plain);
    as_box_free(box);
}

static void test_format_is_documented_layout(void **state)
{
    (void)state;
    uint8_t key[AS_BOX_KEY_SIZE];
    fill_key(key, 7);
    as_box_t *box = as_box_from_keys(key, 1, NULL, 0);
    const char secret[] = "a refresh token";
    char *sealed = as_seal(box, secret, strlen(secret), aad, strlen(aad));
    assert_non_null(sealed);
    assert_int_equal(strspn(sealed, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                     strlen(sealed));
    uint8_t raw[256];
    size_t n = decode(sealed, raw);
    assert_int_equal(n, AS_BOX_OVERHEAD + strlen(secret));
    assert_int_equal(raw[0], AS_BOX_FORMAT_VERSION);
    assert_int_equal(raw[1], as_box_key_id(box, 0));

    /* decrypt by hand with plain OpenSSL: nonce at 2, ciphertext, tag last, aad = header || caller aad */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t out[256];
    int len = 0, fin = 0;
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + 2), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &len, raw, 2), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, out, &len, raw + 14, (int)(n - 30)), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, raw + n - 16), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, out + len, &fin), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal(len + fin, (int)strlen(secret));
    assert_memory_equal(out, secret, strlen(secret));

    /* the same plaintext sealed twice differs (fresh nonce), both open */
    char *again = as_seal(box, secret, strlen(secret), aad, strlen(aad));
    assert_string_not_equal(again, sealed);
    uint8_t raw2[256];
    decode(again, raw2);
    assert_memory_not_equal(raw + 2, raw2 + 2, 12);
    free(again);
    free(sealed);
    as_box_free(box);
}

static void test_tampering_any_byte_fails(void **state)
{
    (void)state;
    as_box_t *box = box_of(2);
    const char secret[] = "0123456789012345678901234567890123456789";
    char *sealed = as_seal(box, secret, strlen(secret), aad, strlen(aad));
    uint8_t raw[256];
    size_t n = decode(sealed, raw);
    /* every byte of every region: version (0), key id (1), nonce (2-13), ciphertext, tag (last 16) */
    for (size_t i = 0; i < n; ++i) {
        for (int bit = 0; bit < 8; bit += 7) {
            raw[i] ^= (uint8_t)(1u << bit);
            char *bad = encode(raw, n);
            char label[64];
            snprintf(label, sizeof(label), "byte %zu bit %d", i, bit);
            assert_does_not_open(box, bad, strlen(bad), aad, strlen(aad), label);
            free(bad);
            raw[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* the untouched value still opens: the loop restored every byte */
    char *check = encode(raw, n);
    assert_string_equal(check, sealed);
    free(check);

    /* truncation at every length, raw and encoded; extension */
    for (size_t len = 0; len < n; ++len) {
        char *bad = encode(raw, len);
        assert_does_not_open(box, bad, strlen(bad), aad, strlen(aad), "raw truncation");
        free(bad);
    }
    size_t slen = strlen(sealed);
    for (size_t len = 0; len < slen; ++len)
        assert_does_not_open(box, sealed, len, aad, strlen(aad), "encoded truncation");
    uint8_t longer[257];
    memcpy(longer, raw, n);
    longer[n] = 0;
    char *ext = encode(longer, n + 1);
    assert_does_not_open(box, ext, strlen(ext), aad, strlen(aad), "extension");
    free(ext);

    /* not base64url: padding, standard alphabet, spaces, NUL inside */
    char *copy = strdup(sealed);
    static const char bad_chars[] = {'=', '+', '/', ' ', '.', '\0', '\n'};
    for (size_t i = 0; i < sizeof(bad_chars); ++i) {
        copy[slen / 2] = bad_chars[i];
        assert_does_not_open(box, copy, slen, aad, strlen(aad), "bad character");
        copy[slen / 2] = sealed[slen / 2];
    }
    free(copy);
    char *padded = malloc(slen + 3);
    memcpy(padded, sealed, slen);
    memcpy(padded + slen, "==", 3);
    assert_does_not_open(box, padded, slen + 2, aad, strlen(aad), "padded");
    free(padded);

    /* unknown version with an otherwise correct layout */
    raw[0] = 2;
    char *v2 = encode(raw, n);
    assert_does_not_open(box, v2, strlen(v2), aad, strlen(aad), "version 2");
    free(v2);

    assert_does_not_open(NULL, sealed, slen, aad, strlen(aad), "no box");
    assert_does_not_open(box, NULL, 0, aad, strlen(aad), "no input");
    free(sealed);
    as_box_free(box);
}

static void test_wrong_aad_fails(void **state)
{
    (void)state;
    as_box_t *box = box_of(3);
    char *sealed = as_seal(box, "token", 5, aad, strlen(aad));
    size_t len = strlen(sealed);
    char other[sizeof(aad)];
    memcpy(other, aad, sizeof(aad));
    other[63] = 'e';
    assert_does_not_open(box, sealed, len, other, strlen(other), "other aad");
    assert_does_not_open(box, sealed, len, aad, strlen(aad) - 1, "aad prefix");
    assert_does_not_open(box, sealed, len, NULL, 0, "no aad");
    assert_does_not_open(box, sealed, len, NULL, 5, "NULL aad with a length");
    free(sealed);
    /* sealed without aad: opening with one fails */
    sealed = as_seal(box, "token", 5, NULL, 0);
    assert_does_not_open(box, sealed, strlen(sealed), aad, 1, "unexpected aad");
    free(sealed);
    as_box_free(box);
}

static void test_wrong_key_fails_even_with_same_key_id(void **state)
{
    (void)state;
    as_box_t *box = box_of(4);
    char *sealed = as_seal(box, "token", 5, aad, strlen(aad));
    as_box_t *other = box_of(5);
    assert_int_not_equal(as_box_key_id(box, 0), as_box_key_id(other, 0));
    assert_does_not_open(other, sealed, strlen(sealed), aad, strlen(aad), "other key");
    as_box_free(other);

    /* find another key whose id is the same: the tag check, not the id lookup, must refuse */
    as_box_t *twin = NULL;
    for (int seed = 6; seed < 100000 && twin == NULL; ++seed) {
        uint8_t key[AS_BOX_KEY_SIZE];
        fill_key(key, 4);
        memcpy(key, &seed, sizeof(seed));
        as_box_t *candidate = as_box_from_keys(key, 1, NULL, 0);
        if (as_box_key_id(candidate, 0) == as_box_key_id(box, 0))
            twin = candidate;
        else
            as_box_free(candidate);
    }
    assert_non_null(twin);
    assert_does_not_open(twin, sealed, strlen(sealed), aad, strlen(aad), "same key id, other key");
    as_box_free(twin);
    free(sealed);
    as_box_free(box);
}

static void test_rotation(void **state)
{
    (void)state;
    uint8_t keys[2 * AS_BOX_KEY_SIZE];
    fill_key(keys, 10);                   /* old */
    fill_key(keys + AS_BOX_KEY_SIZE, 11); /* new */
    as_box_t *old_box = as_box_from_keys(keys, 1, NULL, 0);
    uint8_t rotated[2 * AS_BOX_KEY_SIZE];
    memcpy(rotated, keys + AS_BOX_KEY_SIZE, AS_BOX_KEY_SIZE);
    memcpy(rotated + AS_BOX_KEY_SIZE, keys, AS_BOX_KEY_SIZE);
    char err[128] = "";
    as_box_t *new_box = as_box_from_keys(rotated, 2, err, sizeof(err));
    assert_non_null(new_box);
    assert_int_equal(as_box_key_count(new_box), 2);
    assert_int_equal(as_box_key_id(new_box, 1), as_box_key_id(old_box, 0));

    char *old_sealed = as_seal(old_box, "old", 3, aad, strlen(aad));
    char *new_sealed = as_seal(new_box, "new", 3, aad, strlen(aad));
    uint8_t raw[64];
    decode(new_sealed, raw);
    assert_int_equal(raw[1], as_box_key_id(new_box, 0)); /* the first key seals */

    char *p = as_open(new_box, old_sealed, strlen(old_sealed), aad, strlen(aad), NULL);
    assert_string_equal(p, "old"); /* the old key still opens */
    as_box_secret_free(p, 3);
    p = as_open(new_box, new_sealed, strlen(new_sealed), aad, strlen(aad), NULL);
    assert_string_equal(p, "new");
    as_box_secret_free(p, 3);
    assert_does_not_open(old_box, new_sealed, strlen(new_sealed), aad, strlen(aad), "old box, new value");

    /* the same key twice (or two keys with one id) is refused; so are 0 and too many keys */
    memcpy(rotated + AS_BOX_KEY_SIZE, rotated, AS_BOX_KEY_SIZE);
    assert_null(as_box_from_keys(rotated, 2, err, sizeof(err)));
    assert_non_null(strstr(err, "share the key id"));
    assert_null(as_box_from_keys(rotated, 0, err, sizeof(err)));
    uint8_t many[(AS_BOX_MAX_KEYS + 1) * AS_BOX_KEY_SIZE] = {0};
    assert_null(as_box_from_keys(many, AS_BOX_MAX_KEYS + 1, err, sizeof(err)));
    assert_non_null(strstr(err, "9 keys, the limit is 8"));

    free(old_sealed);
    free(new_sealed);
    as_box_free(old_box);
    as_box_free(new_box);
}

static void test_seal_limits(void **state)
{
    (void)state;
    as_box_t *box = box_of(12);
    assert_null(as_seal(box, "x", AS_BOX_MAX_PLAINTEXT + 1, NULL, 0));
    assert_null(as_seal(box, NULL, 3, NULL, 0));
    assert_null(as_seal(box, "x", 1, NULL, 3));
    assert_null(as_seal(NULL, "x", 1, NULL, 0));
    char *empty = as_seal(box, NULL, 0, NULL, 0);
    assert_non_null(empty);
    size_t len = 99;
    char *p = as_open(box, empty, strlen(empty), NULL, 0, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_int_equal(p[0], '\0');
    as_box_secret_free(p, len);
    free(empty);
    as_box_free(box);
    as_box_free(NULL);
    as_box_secret_free(NULL, 0);
}

/* Key files. */
static char dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/tg-box-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void hex(char *out, const uint8_t *key)
{
    for (int i = 0; i < AS_BOX_KEY_SIZE; ++i)
        sprintf(out + 2 * i, "%02x", key[i]);
}

/* A box loaded from path opens what a box made from key seals, and seals with key. */
static void assert_box_uses_key(const char *path, const uint8_t *key, size_t expected_keys)
{
    char err[256] = "";
    as_box_t *loaded = as_box_load(path, err, sizeof(err));
    if (loaded == NULL)
        fail_msg("%s: %s", path, err);
    assert_int_equal(as_box_key_count(loaded), expected_keys);
    as_box_t *direct = as_box_from_keys(key, 1, NULL, 0);
    char *sealed = as_seal(direct, "v", 1, NULL, 0);
    char *p = as_open(loaded, sealed, strlen(sealed), NULL, 0, NULL);
    assert_string_equal(p, "v");
    as_box_secret_free(p, 1);
    free(sealed);
    sealed = as_seal(loaded, "w", 1, NULL, 0);
    p = as_open(direct, sealed, strlen(sealed), NULL, 0, NULL);
    assert_string_equal(p, "w");
    as_box_secret_free(p, 1);
    free(sealed);
    as_box_free(direct);
    as_box_free(loaded);
}

static void test_key_file_formats(void **state)
{
    (void)state;
    uint8_t key[AS_BOX_KEY_SIZE], old[AS_BOX_KEY_SIZE];
    fill_key(key, 20);
    key[0] = 0xfb; /* a '+' or '/' in base64: makes the standard and url alphabets differ */
    key[1] = 0xff;
    fill_key(old, 21);
    char key_hex[65], old_hex[65];
    hex(key_hex, key);
    hex(old_hex, old);

    assert_box_uses_key(write_file("raw", key, 32, 0600), key, 1);
    assert_box_uses_key(write_file("ro", key, 32, 0400), key, 1);

    char text[512];
    snprintf(text, sizeof(text), "%s\n", key_hex);
    assert_box_uses_key(write_file("hex", text, strlen(text), 0600), key, 1);
    for (char *c = text; *c; ++c)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    assert_box_uses_key(write_file("HEX", text, strlen(text), 0600), key, 1);

    /* base64 with padding (openssl rand -base64 32), base64url without, CRLF and blanks */
    EVP_EncodeBlock((unsigned char *)text, key, 32);
    assert_int_equal(strlen(text), 44);
    assert_true(strpbrk(text, "+/") != NULL);
    strcat(text, "\r\n");
    assert_box_uses_key(write_file("b64", text, strlen(text), 0600), key, 1);
    char url[64];
    tg_base64url_encode(url, key, 32);
    snprintf(text, sizeof(text), "  %s  \n\n", url);
    assert_box_uses_key(write_file("b64url", text, strlen(text), 0600), key, 1);
    snprintf(text, sizeof(text), "%s", url);
    assert_box_uses_key(write_file("no-newline", text, strlen(text), 0600), key, 1);

    /* rotation file: comments, the new key first, the old one after */
    snprintf(text, sizeof(text), "# rotated 2024-05-01\n%s\n\n# previous\n%s\n", key_hex, old_hex);
    const char *path = write_file("rotation", text, strlen(text), 0600);
    assert_box_uses_key(path, key, 2);
    as_box_t *loaded = as_box_load(path, NULL, 0);
    as_box_t *old_box = as_box_from_keys(old, 1, NULL, 0);
    char *sealed = as_seal(old_box, "old", 3, NULL, 0);
    char *p = as_open(loaded, sealed, strlen(sealed), NULL, 0, NULL);
    assert_string_equal(p, "old");
    as_box_secret_free(p, 3);
    free(sealed);
    as_box_free(old_box);
    as_box_free(loaded);
}

static void test_key_file_refusals(void **state)
{
    (void)state;
    uint8_t key[AS_BOX_KEY_SIZE];
    fill_key(key, 30);
    char key_hex[65];
    hex(key_hex, key);
    char text[1024];

    static const mode_t open_modes[] = {0640, 0604, 0644, 0660, 0610, 0602, 0601, 0700 | 0004};
    for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); ++i) {
        const char *path = write_file("open", key, 32, open_modes[i]);
        char err[256] = "";
        assert_null(as_box_load(path, err, sizeof(err)));
        if (strstr(err, "open to group or others") == NULL)
            fail_msg("mode %o: %s", (unsigned)open_modes[i], err);
        assert_non_null(strstr(err, "0600 or 0400"));
    }

    struct {
        const char *name;
        const char *content; /* NULL: the text buffer */
        size_t len;
        const char *expected;
    } cases[] = {
        {"empty", "", 0, "holds no key"},
        {"comments", "# nothing\n\n", 11, "holds no key"},
        {"short-hex", "abcdef\n", 7, "line 1: not a 32-byte key"},
        {"raw-33", NULL, 33, "line 1: not a 32-byte key"},
        {"bad-hex", NULL, 65, "line 1: not a 32-byte key"},
        {"second-line", NULL, 0, "line 3: not a 32-byte key"},
        {"nine-keys", NULL, 0, "holds more than 8 keys"},
        {"same-key-twice", NULL, 0, "share the key id"},
        {"b64-tail-bits", NULL, 0, "line 1: not a 32-byte key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const char *content = cases[i].content;
        size_t len = cases[i].len;
        if (content == NULL) {
            content = text;
            if (strcmp(cases[i].name, "raw-33") == 0) {
                memcpy(text, key, 32);
                text[32] = 'x';
            } else if (strcmp(cases[i].name, "bad-hex") == 0) {
                snprintf(text, sizeof(text), "%s\n", key_hex);
                text[10] = 'g';
            } else if (strcmp(cases[i].name, "second-line") == 0) {
                snprintf(text, sizeof(text), "%s\n\n%.40s\n", key_hex, key_hex);
                len = strlen(text);
            } else if (strcmp(cases[i].name, "nine-keys") == 0) {
                text[0] = '\0';
                for (int k = 0; k < 9; ++k) {
                    uint8_t other[AS_BOX_KEY_SIZE];
                    char other_hex[65];
                    fill_key(other, (uint8_t)(40 + k));
                    hex(other_hex, other);
                    strcat(text, other_hex);
                    strcat(text, "\n");
                }
                len = strlen(text);
            } else if (strcmp(cases[i].name, "same-key-twice") == 0) {
                snprintf(text, sizeof(text), "%s\n%s\n", key_hex, key_hex);
                len = strlen(text);
            } else {
                /* 43 characters whose last one carries non-zero spare bits: not canonical */
                tg_base64url_encode(text, key, 32);
                text[42] = text[42] == 'B' ? 'C' : 'B';
                len = 43;
            }
        }
        const char *path = write_file(cases[i].name, content, len, 0600);
        char err[256] = "";
        assert_null(as_box_load(path, err, sizeof(err)));
        if (strstr(err, cases[i].expected) == NULL)
            fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].name, err, cases[i].expected);
        if (strstr(err, path) == NULL)
            fail_msg("%s: error does not name the file: %s", cases[i].name, err);
        /* never key material in the message */
        char key_prefix[9];
        memcpy(key_prefix, key_hex, 8);
        key_prefix[8] = '\0';
        if (strstr(err, key_prefix) != NULL || strstr(err, "abcdef") != NULL)
            fail_msg("%s: error shows key material: %s", cases[i].name, err);
    }

    char err[256] = "";
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    assert_null(as_box_load(missing, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open key file"));
    assert_non_null(strstr(err, "No such file"));
    assert_null(as_box_load(dir, err, sizeof(err)));
    /* a directory is refused whatever its mode */
    assert_true(strstr(err, "not a regular file") != NULL || strstr(err, "open to group") != NULL);
    chmod(dir, 0700);
    assert_null(as_box_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));
    char big[20000];
    memset(big, '#', sizeof(big));
    assert_null(as_box_load(write_file("big", big, sizeof(big), 0600), err, sizeof(err)));
    assert_non_null(strstr(err, "larger than"));
    assert_null(as_box_load(NULL, err, sizeof(err)));

    /* a symlink to a private file is followed (Kubernetes mounts secrets that way) */
    const char *target = write_file("target", key, 32, 0600);
    char link_path[128];
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    assert_int_equal(symlink(target, link_path), 0);
    assert_box_uses_key(link_path, key, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_lengths),
        cmocka_unit_test(test_format_is_documented_layout),
        cmocka_unit_test(test_tampering_any_byte_fails),
        cmocka_unit_test(test_wrong_aad_fails),
        cmocka_unit_test(test_wrong_key_fails_even_with_same_key_id),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_seal_limits),
        cmocka_unit_test_setup_teardown(test_key_file_formats, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_key_file_refusals, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
