/* Fuzzes discovery document validation. Whatever is accepted must hold what
 * the validator promises: the exact issuer, the required endpoints, URLs that
 * pass the same URL check; loosening the URL flags never turns an accepted
 * document into a refused one. Must never crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/discovery.h"
#include "oidc/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const char *url, unsigned flags, int required)
{
    if (url == NULL) {
        if (required)
            abort();
        return;
    }
    if (oidc_url_check(url, flags, NULL) != 0)
        abort();
}

static int check(const uint8_t *data, size_t size, const char *issuer, unsigned flags)
{
    oidc_discovery_t *d = NULL;
    char err[256] = "";
    if (oidc_discovery_parse((const char *)data, size, issuer, flags, &d, err, sizeof(err)) != 0) {
        if (d != NULL || err[0] == '\0')
            abort();
        return 0;
    }
    if (d == NULL || strcmp(d->issuer, issuer) != 0)
        abort();
    check_url(d->issuer, flags | OIDC_URL_NO_QUERY, 1);
    check_url(d->authorization_endpoint, flags, 1);
    check_url(d->token_endpoint, flags, 1);
    check_url(d->jwks_uri, flags, 1);
    check_url(d->userinfo_endpoint, flags, 0);
    check_url(d->end_session_endpoint, flags, 0);
    check_url(d->introspection_endpoint, flags, 0);
    check_url(d->revocation_endpoint, flags, 0);
    if ((d->backchannel_logout_supported & ~1) || (d->pkce_s256_advertised & ~1) ||
        (d->id_token_algs & ~0x1ffu))
        abort();
    oidc_discovery_t *again = oidc_discovery_ref(d);
    oidc_discovery_free(d);
    oidc_discovery_free(again);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const issuers[] = {"https://idp.example", "http://127.0.0.1:5556"};
    for (size_t i = 0; i < 2; ++i) {
        int strict = check(data, size, issuers[i], 0);
        int loose = check(data, size, issuers[i], OIDC_URL_ALLOW_INSECURE_LOOPBACK);
        if (strict && !loose)
            abort();
    }
    return 0;
}
