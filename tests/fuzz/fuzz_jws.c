/* Fuzzes compact JWS parsing and verification against a fixed key set, and the
 * claim checks of whatever verifies. Must never crash, leak or hang. The seed
 * corpus was signed once with the private halves of these keys (discarded). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/claims.h"
#include "oidc/jws.h"

/* RSA-2048 "fuzz-rsa", P-256 "fuzz-ec256" (alg ES256), P-384 "fuzz-ec384". */
static const char fixed_jwks[] =
    "{\"keys\":["
    "{\"kty\":\"RSA\",\"n\":\"mcLp5MimgFhYLyXotAs73DqQUxpuQCGLfhCIcv4GjPnva91Dua_OgPkgY7l6qu8o2pVkTGy"
    "AmyHQGBGfTj_S-yuWl41gPRO7Bk4tue4YP8akhrTq2h4XpYz4w-dUkyXfqOmXVnMQGMiLHvscF3zg-NIsCUArAaF-h9Zc_yL"
    "VV9_4gS3u0vd-d5bQJmHOmpR3OQkkhtMVbDk4PT5YW_k6MW0yoobJcnBlQoSz1-x-1oogXqY-omed4K-jd99emgiNv4Yy_lx"
    "WCxlVqshG90F2ptswoAV-ADEvQ1sMYcfNe6aImhUeC9iBbV-hlLWyRsU_JuHm-CtXNN6s4MhppzRWiw\",\"e\":\"AQAB\""
    ",\"kid\":\"fuzz-rsa\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"d1yTayQO70qwmeclqU8NfzD3QLJtUba7TsCRvpgtHzc\",\"y\":\""
    "uuaiAtDhcQaYRfvMT8cwJQvo4TfqN--wUOmRl6bA3VU\",\"kid\":\"fuzz-ec256\",\"alg\":\"ES256\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"PbGmN1W0pkYC2nX1p8rVQOzsA36RtUsaHtyhCRtdhIfga4rAJ23b4N"
    "EbbaFm_kFG\",\"y\":\"GdoKZCm4ZbLdCR4kEHKIeEo0qIaPjvWE_ctPiVo1bsuVzbDX78d9uVvIBLX5dXAd\",\"kid\":"
    "\"fuzz-ec384\"}"
    "]}";

static oidc_jwks_t *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys == NULL && oidc_jwks_parse(fixed_jwks, strlen(fixed_jwks), &keys, NULL, 0) != 0)
        abort();
    json_t *header = NULL, *claims = NULL;
    oidc_verify_status_t status =
        oidc_jws_verify((const char *)data, size, keys, OIDC_JWS_ALGS_ALL, &header, &claims);
    if (strcmp(oidc_verify_status_code(status), "unknown") == 0)
        abort();
    if (status == OIDC_VERIFY_OK) {
        if (!json_is_object(header) || !json_is_object(claims))
            abort();
        static const char *const extra[] = {"x", NULL};
        oidc_claims_options_t opts;
        oidc_claims_options_init(&opts, "https://idp.example", "tenantgate", 1700000000);
        opts.extra_audiences = extra;
        opts.nonce = "n1";
        opts.max_token_age = 600;
        opts.azp = OIDC_AZP_REQUIRE_IF_MULTIPLE_AUD;
        const char *claim = NULL;
        status = oidc_claims_validate(claims, &opts, &claim);
        if (strcmp(oidc_verify_status_code(status), "unknown") == 0 ||
            (status != OIDC_VERIFY_OK) != (claim != NULL))
            abort();
    } else if (header != NULL || claims != NULL) {
        abort();
    }
    json_decref(header);
    json_decref(claims);
    return 0;
}
