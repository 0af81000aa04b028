/* Shared by the routing unit tests: a router built from YAML as the group's state, and routing requests
 * made of a method, a target and "name: value" headers. Header-only: every test_*.c is its own executable. */
#ifndef TG_TEST_ROUTER_UTIL_H
#define TG_TEST_ROUTER_UTIL_H

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "router.h"

/* A plaintext Gateway, and the mnist service with subsets v1 and v2 (one endpoint each), ending with
 * "---": the start of a config whose VirtualServices a test adds. */
#define MNIST_SERVICE "mnist.kubeflow-alice.svc.cluster.local"
#define MNIST_V1_V2_DOCS                                                                                     \
    "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw, namespace: "               \
    "istio-system}\n"                                                                                        \
    "spec:\n  servers:\n  - port: {number: 18080, name: http, protocol: HTTP}\n    hosts: ['*']\n"           \
    "---\n"                                                                                                  \
    "apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\n"                                          \
    "metadata: {name: mnist, namespace: kubeflow-alice}\n"                                                   \
    "spec:\n  hosts: [" MNIST_SERVICE "]\n  resolution: STATIC\n"                                            \
    "  ports: [{number: 8500, name: http, protocol: HTTP}]\n  endpoints:\n"                                  \
    "  - {address: 127.0.0.1, ports: {http: 18501}, labels: {version: v1}}\n"                                \
    "  - {address: 127.0.0.1, ports: {http: 18502}, labels: {version: v2}}\n"                                \
    "---\n"                                                                                                  \
    "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n"                                       \
    "metadata: {name: mnist, namespace: kubeflow-alice}\n"                                                   \
    "spec:\n  host: " MNIST_SERVICE "\n  subsets:\n  - {name: v1, labels: {version: v1}}\n"                  \
    "  - {name: v2, labels: {version: v2}}\n"                                                                \
    "---\n"

typedef struct {
    gw_config_t *config;
    gw_router_t *router;
} fixture_t;

/* Loads yaml (named name in messages) and builds its router into *state; -1 (with the error) when either
 * fails. */
static inline int router_fixture_setup(void **state, const char *name, const char *yaml)
{
    static fixture_t fixture;
    char err[GW_CONFIG_ERROR_SIZE];
    fixture.config = gw_config_load_buffer(name, yaml, strlen(yaml), err);
    if (fixture.config == NULL) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    char router_err[1024];
    fixture.router = gw_router_new(fixture.config, router_err, sizeof(router_err));
    if (fixture.router == NULL) {
        fprintf(stderr, "router: %s\n", router_err);
        return -1;
    }
    *state = &fixture;
    return 0;
}

static inline int teardown(void **state)
{
    fixture_t *fixture = *state;
    gw_router_free(fixture->router);
    gw_config_release(fixture->config);
    return 0;
}

/* A request for routing: "name: value" pairs in headers (NULL-terminated); the target may carry a query. */
typedef struct {
    const char *const *headers;
} fake_headers_t;

static inline const char *fake_header(void *ctx, const char *name, size_t *len)
{
    const fake_headers_t *fake = ctx;
    size_t name_len = strlen(name);
    for (const char *const *h = fake->headers; h != NULL && *h != NULL; ++h) {
        if (strncmp(*h, name, name_len) == 0 && (*h)[name_len] == ':') {
            *len = strlen(*h + name_len + 2);
            return *h + name_len + 2;
        }
    }
    return NULL;
}

/* The route of a request (NULL when none matches); *matched gets the matched length. */
static inline const gw_route_t *route_match(const gw_router_t *router, const char *method, const char *target,
                                            const char *const *headers, size_t *matched)
{
    fake_headers_t fake = {headers};
    const char *q = strchr(target, '?');
    gw_route_request_t request = {
        .method = method,
        .method_len = strlen(method),
        .path = target,
        .path_len = q != NULL ? (size_t)(q - target) : strlen(target),
        .query = q != NULL ? q + 1 : "",
        .query_len = q != NULL ? strlen(q + 1) : 0,
        .header = fake_header,
        .ctx = &fake,
    };
    return gw_router_match(router, &request, matched);
}

#endif
