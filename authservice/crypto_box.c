#include "authservice/crypto_box.h"

#include "util/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/base64url.h"
#include "util/random.h"
#include "util/sha256.h"

#define NONCE_SIZE 12
#define TAG_SIZE 16
#define HEADER_SIZE 2
/* A key file is small: AS_BOX_MAX_KEYS lines of at most 64 digits, and comments. */
#define MAX_KEY_FILE 16384

/* Characters of base64url for n bytes, unpadded. */
#define ENCODED_LEN(n) (((n)*4 + 2) / 3)

struct as_box {
    EVP_CIPHER *cipher;
    size_t count;
    struct {
        uint8_t id;
        uint8_t key[AS_BOX_KEY_SIZE];
    } keys[AS_BOX_MAX_KEYS];
};

static void set_error(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t size, const char *fmt, ...)
{
    if (err == NULL || size == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, size, fmt, args);
    va_end(args);
}

static uint8_t derive_key_id(const uint8_t *key)
{
    static const char label[] = "tenantgate box key id";
    uint8_t input[sizeof(label) + AS_BOX_KEY_SIZE];
    uint8_t digest[TG_SHA256_SIZE];
    memcpy(input, label, sizeof(label));
    memcpy(input + sizeof(label), key, AS_BOX_KEY_SIZE);
    tg_sha256(input, sizeof(input), digest);
    OPENSSL_cleanse(input, sizeof(input));
    OPENSSL_cleanse(digest + 1, sizeof(digest) - 1);
    return digest[0];
}

void as_box_free(as_box_t *box)
{
    if (box == NULL)
        return;
    EVP_CIPHER_free(box->cipher);
    OPENSSL_cleanse(box, sizeof(*box));
    free(box);
}

as_box_t *as_box_from_keys(const uint8_t *keys, size_t count, char *err, size_t err_size)
{
    if (keys == NULL || count == 0) {
        set_error(err, err_size, "no key");
        return NULL;
    }
    if (count > AS_BOX_MAX_KEYS) {
        set_error(err, err_size, "%zu keys, the limit is %d", count, AS_BOX_MAX_KEYS);
        return NULL;
    }
    as_box_t *box = calloc(1, sizeof(*box));
    if (box == NULL) {
        set_error(err, err_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < count; ++i) {
        memcpy(box->keys[i].key, keys + i * AS_BOX_KEY_SIZE, AS_BOX_KEY_SIZE);
        box->keys[i].id = derive_key_id(box->keys[i].key);
        for (size_t j = 0; j < i; ++j) {
            if (box->keys[j].id == box->keys[i].id) {
                set_error(err, err_size,
                          "keys %zu and %zu share the key id %u (or are the same key): generate a new key",
                          j + 1, i + 1, box->keys[i].id);
                as_box_free(box);
                return NULL;
            }
        }
    }
    box->count = count;
    if ((box->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL) {
        set_error(err, err_size, "OpenSSL has no AES-256-GCM");
        as_box_free(box);
        return NULL;
    }
    return box;
}

/* One text line (trimmed) -> 32 bytes of key. Returns 0 or -1. */
static int parse_key_line(char *line, size_t len, uint8_t *key)
{
    if (len == 2 * AS_BOX_KEY_SIZE) {
        for (size_t i = 0; i < AS_BOX_KEY_SIZE; ++i) {
            int hi = tg_hex_digit(line[2 * i]), lo = tg_hex_digit(line[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            key[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
    }
    /* base64 (padded or not) or base64url: map to base64url and drop the one '=' of 32 bytes */
    if (len == ENCODED_LEN(AS_BOX_KEY_SIZE) + 1 && line[len - 1] == '=')
        --len;
    if (len != ENCODED_LEN(AS_BOX_KEY_SIZE))
        return -1;
    for (size_t i = 0; i < len; ++i) {
        if (line[i] == '+')
            line[i] = '-';
        else if (line[i] == '/')
            line[i] = '_';
    }
    uint8_t decoded[AS_BOX_KEY_SIZE + 1];
    long n = tg_base64url_decode(decoded, line, len);
    if (n == AS_BOX_KEY_SIZE)
        memcpy(key, decoded, AS_BOX_KEY_SIZE);
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return n == AS_BOX_KEY_SIZE ? 0 : -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the text form into keys; returns the number of keys or -1. */
static long parse_key_text(const char *path, char *text, size_t len, uint8_t *keys, char *err,
                           size_t err_size)
{
    size_t count = 0, line_no = 0;
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl != NULL ? nl : end;
        ++line_no;
        char *a = p, *b = line_end;
        while (a < b && is_blank(*a))
            ++a;
        while (b > a && is_blank(b[-1]))
            --b;
        p = nl != NULL ? nl + 1 : end;
        if (a == b || *a == '#')
            continue;
        if (count == AS_BOX_MAX_KEYS) {
            set_error(err, err_size, "key file %s holds more than %d keys", path, AS_BOX_MAX_KEYS);
            return -1;
        }
        if (parse_key_line(a, (size_t)(b - a), keys + count * AS_BOX_KEY_SIZE) != 0) {
            set_error(err, err_size,
                      "key file %s, line %zu: not a 32-byte key (64 hex digits, or base64 of 32 bytes)", path,
                      line_no);
            return -1;
        }
        ++count;
    }
    if (count == 0) {
        set_error(err, err_size, "key file %s holds no key", path);
        return -1;
    }
    return (long)count;
}

/* Reads the whole key file after checking what was opened; returns its length or -1. */
static long read_key_file(const char *path, char *buf, size_t size, char *err, size_t err_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        set_error(err, err_size, "cannot open key file %s: %s", path, strerror(errno));
        return -1;
    }
    long result = -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_error(err, err_size, "cannot stat key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        set_error(err, err_size, "key file %s is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        set_error(err, err_size,
                  "key file %s is open to group or others (mode %04o): it must be 0600 or 0400 "
                  "(chmod go= %s)",
                  path, (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_error(err, err_size, "cannot read key file %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == size) {
            set_error(err, err_size, "key file %s is larger than %zu bytes", path, size - 1);
            goto out;
        }
    }
    result = (long)len;
out:
    close(fd);
    return result;
}

as_box_t *as_box_load(const char *key_file, char *err, size_t err_size)
{
    if (key_file == NULL) {
        set_error(err, err_size, "no key file");
        return NULL;
    }
    char text[MAX_KEY_FILE + 1];
    uint8_t keys[AS_BOX_MAX_KEYS * AS_BOX_KEY_SIZE];
    as_box_t *box = NULL;
    long len = read_key_file(key_file, text, sizeof(text), err, err_size);
    if (len < 0)
        goto out;
    long count;
    if (len == AS_BOX_KEY_SIZE) {
        memcpy(keys, text, AS_BOX_KEY_SIZE);
        count = 1;
    } else {
        count = parse_key_text(key_file, text, (size_t)len, keys, err, err_size);
        if (count < 0)
            goto out;
    }
    char reason[160];
    box = as_box_from_keys(keys, (size_t)count, reason, sizeof(reason));
    if (box == NULL)
        set_error(err, err_size, "key file %s: %s", key_file, reason);
out:
    OPENSSL_cleanse(text, sizeof(text));
    OPENSSL_cleanse(keys, sizeof(keys));
    return box;
}

size_t as_box_key_count(const as_box_t *box)
{
    return box->count;
}

uint8_t as_box_key_id(const as_box_t *box, size_t i)
{
    return box->keys[i].id;
}

/* Feeds the header and the caller's aad to an initialised context as additional data. */
static int add_aad(EVP_CIPHER_CTX *ctx, int encrypt, const uint8_t *header, const void *aad, size_t aad_len)
{
    int n;
    int (*update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int) =
        encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    if (update(ctx, NULL, &n, header, HEADER_SIZE) != 1)
        return -1;
    if (aad_len > 0 && update(ctx, NULL, &n, aad, (int)aad_len) != 1)
        return -1;
    return 0;
}

char *as_seal(const as_box_t *box, const void *plaintext, size_t len, const void *aad, size_t aad_len)
{
    if (box == NULL || (plaintext == NULL && len > 0) || len > AS_BOX_MAX_PLAINTEXT ||
        (aad == NULL && aad_len > 0) || aad_len > AS_BOX_MAX_PLAINTEXT)
        return NULL;
    size_t raw_len = AS_BOX_OVERHEAD + len;
    uint8_t *raw = malloc(raw_len);
    char *out = NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (raw == NULL || ctx == NULL)
        goto out;
    uint8_t *nonce = raw + HEADER_SIZE, *ct = nonce + NONCE_SIZE, *tag = ct + len;
    raw[0] = AS_BOX_FORMAT_VERSION;
    raw[1] = box->keys[0].id;
    if (tg_random_bytes(nonce, NONCE_SIZE) != 0)
        goto out;
    int n = 0, final_n = 0;
    if (EVP_EncryptInit_ex2(ctx, box->cipher, box->keys[0].key, nonce, NULL) != 1 ||
        add_aad(ctx, 1, raw, aad, aad_len) != 0 ||
        (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, plaintext, (int)len) != 1) ||
        EVP_EncryptFinal_ex(ctx, ct + n, &final_n) != 1 || (size_t)(n + final_n) != len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_SIZE, tag) != 1)
        goto out;
    if ((out = malloc(TG_BASE64URL_ENCODED_SIZE(raw_len))) != NULL)
        tg_base64url_encode(out, raw, raw_len);
out:
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    return out;
}

char *as_open(const as_box_t *box, const char *sealed, size_t sealed_len, const void *aad, size_t aad_len,
              size_t *out_len)
{
    if (box == NULL || sealed == NULL || (aad == NULL && aad_len > 0) || aad_len > AS_BOX_MAX_PLAINTEXT ||
        sealed_len < ENCODED_LEN(AS_BOX_OVERHEAD) ||
        sealed_len > ENCODED_LEN(AS_BOX_OVERHEAD + AS_BOX_MAX_PLAINTEXT))
        return NULL;
    uint8_t *raw = malloc(sealed_len * 3 / 4 + 1);
    char *plain = NULL, *result = NULL;
    size_t ct_len = 0;
    EVP_CIPHER_CTX *ctx = NULL;
    if (raw == NULL)
        return NULL;
    long raw_len = tg_base64url_decode(raw, sealed, sealed_len);
    if (raw_len < AS_BOX_OVERHEAD || raw[0] != AS_BOX_FORMAT_VERSION)
        goto out;
    const uint8_t *key = NULL;
    for (size_t i = 0; i < box->count; ++i)
        if (box->keys[i].id == raw[1])
            key = box->keys[i].key;
    if (key == NULL)
        goto out;
    ct_len = (size_t)raw_len - AS_BOX_OVERHEAD;
    uint8_t *nonce = raw + HEADER_SIZE, *ct = nonce + NONCE_SIZE, *tag = ct + ct_len;
    if ((plain = malloc(ct_len + 1)) == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL)
        goto out;
    int n = 0, final_n = 0;
    if (EVP_DecryptInit_ex2(ctx, box->cipher, key, nonce, NULL) != 1 ||
        add_aad(ctx, 0, raw, aad, aad_len) != 0 ||
        (ct_len > 0 && EVP_DecryptUpdate(ctx, (uint8_t *)plain, &n, ct, (int)ct_len) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, (uint8_t *)plain + n, &final_n) != 1 || (size_t)(n + final_n) != ct_len)
        goto out;
    plain[ct_len] = '\0';
    if (out_len != NULL)
        *out_len = ct_len;
    result = plain;
    plain = NULL;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (plain != NULL)
        as_box_secret_free(plain, ct_len);
    free(raw);
    return result;
}

void as_box_secret_free(char *secret, size_t len)
{
    if (secret == NULL)
        return;
    OPENSSL_cleanse(secret, len);
    free(secret);
}
