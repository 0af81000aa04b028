/* Fuzzes the store URL parser: no crash or overread on any input; a success is well formed; an error is a
 * terminated message that never quotes the password-looking part of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authservice/store.h"

/* Compiled in, not linked from tgauth: TG_FUZZ builds give the libraries no coverage instrumentation, and a
 * fuzzer that cannot see the parser's branches is blind. */
#include "../../authservice/store.c"

static void check_success(const as_store_url_t *u)
{
    if (u->kind == AS_STORE_URL_SQLITE) {
        if (u->path == NULL || u->path[0] == '\0' || u->host_count != 0)
            abort();
        return;
    }
    if (u->path != NULL || u->host_count == 0 || u->host_count > AS_STORE_URL_MAX_HOSTS)
        abort();
    if (u->kind == AS_STORE_URL_REDIS && (u->host_count != 1 || u->master_name != NULL))
        abort();
    if (u->kind == AS_STORE_URL_SENTINEL && (u->master_name == NULL || u->master_name[0] == '\0'))
        abort();
    for (size_t i = 0; i < u->host_count; ++i)
        if (u->hosts[i].host == NULL || u->hosts[i].host[0] == '\0' || u->hosts[i].port == 0)
            abort();
    if (u->password != NULL && u->password[0] == '\0')
        abort();
    if (u->db > 65535)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exact-size, NUL-terminated copy so ASan sees any overread */
    char *url = malloc(size + 1);
    if (url == NULL)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';

    as_store_url_t u;
    char err[256];
    memset(err, 'x', sizeof(err));
    if (as_store_url_parse(url, &u, err, sizeof(err)) == 0) {
        check_success(&u);
        as_store_url_free(&u);
    } else {
        if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
            abort();
        if (u.path != NULL || u.password != NULL || u.host_count != 0)
            abort();
        /* the text between "://:" and "@" would be a password: errors must not quote it (checked when it
         * holds a '!', which no message has, so ordinary words in a "password" cannot match by chance) */
        const char *start = strstr(url, "://:");
        const char *at = start != NULL ? strchr(start + 4, '@') : NULL;
        if (at != NULL && at - (start + 4) >= 6) {
            char secret[64];
            size_t n = (size_t)(at - (start + 4)) < sizeof(secret) - 1 ? (size_t)(at - (start + 4))
                                                                       : sizeof(secret) - 1;
            memcpy(secret, start + 4, n);
            secret[n] = '\0';
            if (strchr(secret, '!') != NULL && strstr(err, secret) != NULL)
                abort();
        }
    }
    free(url);
    return 0;
}
