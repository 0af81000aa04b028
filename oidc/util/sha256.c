#include "util/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "util/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256;        /* fetched once; lives as long as the process */
static pthread_key_t ctx_key; /* each thread's EVP_MD_CTX, freed when the thread ends */
static int ctx_key_ok;

static void free_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void init(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ctx_key_ok = pthread_key_create(&ctx_key, free_ctx) == 0;
}

static EVP_MD_CTX *thread_ctx(void)
{
    if (!ctx_key_ok)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (ctx == NULL && (ctx = EVP_MD_CTX_new()) != NULL && pthread_setspecific(ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

void tg_sha256(const void *data, size_t len, uint8_t out[TG_SHA256_SIZE])
{
    pthread_once(&once, init);
    EVP_MD_CTX *ctx = thread_ctx();
    unsigned int size = 0;
    if (sha256 != NULL && ctx != NULL && EVP_DigestInit_ex2(ctx, sha256, NULL) == 1 &&
        EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, out, &size) == 1 &&
        size == TG_SHA256_SIZE)
        return;
    /* the slow path of OpenSSL's own, before giving up */
    if (EVP_Digest(data, len, out, &size, EVP_sha256(), NULL) == 1 && size == TG_SHA256_SIZE)
        return;
    tg_log_error("sha256", "cannot compute a SHA-256 digest (out of memory?): stopping");
    abort();
}
