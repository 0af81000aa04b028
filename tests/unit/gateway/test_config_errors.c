/* The configuration loader refuses bad files with one error naming FILE:LINE:COL and the
 * field path. Each row is a YAML file and the error it must produce ('*' skips text, e.g.
 * the scratch directory). Documents under test come first so that line numbers are small;
 * valid documents they refer to follow. */
#include "config_test_util.h"

/* ---- valid documents rows lean on ---- */

#define GW /* 7 lines */                                                                                     \
    "apiVersion: networking.istio.io/v1beta1\n"                                                              \
    "kind: Gateway\n"                                                                                        \
    "metadata: {name: edge, namespace: istio-system}\n"                                                      \
    "spec:\n"                                                                                                \
    "  servers:\n"                                                                                           \
    "  - port: {number: 8080, name: http, protocol: HTTP}\n"                                                 \
    "    hosts: [\"*\"]\n"

#define SE /* 9 lines */                                                                                     \
    "apiVersion: networking.istio.io/v1\n"                                                                   \
    "kind: ServiceEntry\n"                                                                                   \
    "metadata: {name: mnist, namespace: alice}\n"                                                            \
    "spec:\n"                                                                                                \
    "  hosts: [mnist.alice.svc]\n"                                                                           \
    "  ports: [{number: 8500, name: http, protocol: HTTP}]\n"                                                \
    "  endpoints:\n"                                                                                         \
    "  - {address: 127.0.0.1, ports: {http: 18501}, labels: {version: v1}}\n"                                \
    "  - {address: 127.0.0.2, ports: {http: 18502}, labels: {version: v2}}\n"

#define DR /* 8 lines */                                                                                     \
    "apiVersion: networking.istio.io/v1\n"                                                                   \
    "kind: DestinationRule\n"                                                                                \
    "metadata: {name: mnist, namespace: alice}\n"                                                            \
    "spec:\n"                                                                                                \
    "  host: mnist.alice.svc\n"                                                                              \
    "  subsets:\n"                                                                                           \
    "  - {name: v1, labels: {version: v1}}\n"                                                                \
    "  - {name: v2, labels: {version: v2}}\n"

#define BASE "---\n" GW "---\n" SE "---\n" DR

/* headers: the fields under test start on line 5 */
#define TG "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: edge}\nspec:\n"
#define GWH                                                                                                  \
    "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers:\n"
#define SEH                                                                                                  \
    "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc, namespace: "              \
    "alice}\nspec:\n"
#define DRH                                                                                                  \
    "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: rule, namespace: "          \
    "alice}\nspec:\n"
/* routes start on line 7 */
#define VSH                                                                                                  \
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: "             \
    "alice}\nspec:\n"                                                                                        \
    "  hosts: [\"*\"]\n  http:\n"
#define HTTPS_TLS "serverCertificate: certs/server.pem, privateKey: certs/server.key"
#define ROUTE "    route: [{destination: {host: mnist.alice.svc}}]\n"

static const row_t rows[] = {
    /* YAML itself */
    {"tab indentation", TG "\tthreads: 2\n",
     "test.yaml:5:1: invalid YAML: found character that cannot start any token"},
    {"anchor", "apiVersion: &v tenantgate.io/v1alpha1\n", "test.yaml:1:13: anchors (&v) are not supported"},
    {"alias", "a: *x\n", "test.yaml:1:4: aliases (*x) are not supported"},
    {"tag", "kind: !!str Gateway\n", "test.yaml:1:7: tags (tag:yaml.org,2002:str) are not supported"},
    {"duplicate key", "kind: Gateway\nkind: Gateway\n",
     "test.yaml:2:1: duplicate key \"kind\" (first at 1:1)"},
    {"NUL in a scalar", "kind: \"Gate\\0way\"\n", "test.yaml:1:7: NUL characters are not allowed"},
    {"list as a key", "? [a]\n: b\n", "test.yaml:1:3: map keys must be plain strings, not a list"},
    {"invalid UTF-8", "kind: \xff\n", "test.yaml:1:7: invalid YAML: invalid leading UTF-8 octet"},
    {"no document", "# nothing here\n", "test.yaml:1:1: no documents"},
    {"empty document", GW "---\n", "test.yaml:8:1: empty document"},
    {"list document", "- a\n", "test.yaml:1:1: a document must be a map, got a list"},

    /* document headers */
    {"kind missing", "apiVersion: v1\nmetadata: {name: x}\n", "test.yaml:1:1: kind: missing required field"},
    {"unknown kind", "apiVersion: v1\nkind: Foo\n",
     "test.yaml:2:7: kind: unknown kind \"Foo\" (expected TenantGate, Gateway, ServiceEntry, "
     "DestinationRule,"},
    {"wrong apiVersion", "apiVersion: networking.istio.io/v1alpha1\nkind: Gateway\n",
     "test.yaml:1:13: apiVersion: Gateway needs apiVersion networking.istio.io/v1alpha3, "
     "networking.istio.io/v1beta1 or networking.istio.io/v1 (got \"networking.istio.io/v1alpha1\")"},
    {"skipped kind, wrong apiVersion", "apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\n",
     "test.yaml:1:13: apiVersion: AuthorizationPolicy needs apiVersion security.istio.io/v1beta1 or "
     "security.istio.io/v1"},
    {"unknown top-level field", GW "status: {}\n", "test.yaml:8:1: unknown field \"status\""},
    {"name missing",
     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {namespace: a}\nspec: {}\n",
     "test.yaml:3:11: metadata.name: missing required field"},
    {"bad name", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: Foo_Bar}\n",
     "test.yaml:3:18: metadata.name: \"Foo_Bar\" is not a valid name"},
    {"bad namespace",
     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: a.b}\n",
     "test.yaml:3:33: metadata.namespace: \"a.b\" is not a valid namespace"},
    {"unknown metadata field",
     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, uid: 1}\n",
     "test.yaml:3:22: metadata: unknown field \"uid\""},
    {"duplicate document", GW "---\n" GW,
     "test.yaml:11:18: metadata.name: duplicate Gateway istio-system/edge (the first is at *test.yaml:1:1)"},
    {"two TenantGate documents",
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: a}\n---\n"
     "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: b}\n---\n" GW,
     "test.yaml:7:18: metadata.name: only one TenantGate document is allowed (the first is at "
     "*test.yaml:1:1)"},
    {"spec missing", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n",
     "test.yaml:1:1: spec: missing required field"},

    /* TenantGate */
    {"threads not a number",
     TG "  threads: abc\n"
        "---\n" GW,
     "test.yaml:5:12: spec.threads: expected an integer, got \"abc\""},
    {"threads negative",
     TG "  threads: -1\n"
        "---\n" GW,
     "test.yaml:5:12: spec.threads: expected an integer, got \"-1\""},
    {"threads too many",
     TG "  threads: 5000\n"
        "---\n" GW,
     "test.yaml:5:12: spec.threads: must be between 0 and 1024 (got 5000)"},
    {"threads octal-looking",
     TG "  threads: 010\n"
        "---\n" GW,
     "test.yaml:5:12: spec.threads: expected an integer, got \"010\""},
    {"threads a map",
     TG "  threads: {a: 1}\n"
        "---\n" GW,
     "test.yaml:5:12: spec.threads: expected an integer, got a map"},
    {"log level",
     TG "  logLevel: loud\n"
        "---\n" GW,
     "test.yaml:5:13: spec.logLevel: unknown value \"loud\" (expected debug, info, warn or error)"},
    {"control character",
     TG "  logLevel: \"in\\tfo\"\n"
        "---\n" GW,
     "test.yaml:5:13: spec.logLevel: must not contain control characters"},
    {"duration without unit",
     TG "  limits: {requestTimeout: 30}\n"
        "---\n" GW,
     "test.yaml:5:28: spec.limits.requestTimeout: invalid duration \"30\": expected numbers with units"},
    {"duration below a millisecond",
     TG "  limits: {requestTimeout: 1.5ms}\n"
        "---\n" GW,
     "test.yaml:5:28: spec.limits.requestTimeout: invalid duration \"1.5ms\": finer than a millisecond"},
    {"zero duration",
     TG "  limits: {idleTimeout: 0s}\n"
        "---\n" GW,
     "test.yaml:5:25: spec.limits.idleTimeout: must be longer than 0"},
    {"size not a number",
     TG "  limits: {maxBodyBytes: lots}\n"
        "---\n" GW,
     "test.yaml:5:26: spec.limits.maxBodyBytes: expected an integer, got \"lots\""},
    {"size with a unit",
     TG "  limits: {maxHeaderBytes: 16Ki}\n"
        "---\n" GW,
     "test.yaml:5:28: spec.limits.maxHeaderBytes: expected an integer, got \"16Ki\""},
    {"header count over libh2o's own limit",
     TG "  limits: {maxHeaderCount: 101}\n"
        "---\n" GW,
     "test.yaml:5:28: spec.limits.maxHeaderCount: must be between 1 and 100 (got 101)"},
    {"unknown limit",
     TG "  limits: {maxUriBytes: 1}\n"
        "---\n" GW,
     "test.yaml:5:12: spec.limits: unknown field \"maxUriBytes\""},
    {"strip header case",
     TG "  stripHeaders: [X-User]\n"
        "---\n" GW,
     "test.yaml:5:18: spec.stripHeaders[0]: \"X-User\" is not a lower-case header name"},
    {"relative access log",
     TG "  accessLog: {file: access.jsonl}\n"
        "---\n" GW,
     "test.yaml:5:21: spec.accessLog.file: must be an absolute path or \"-\" (standard output)"},
    {"access log without file",
     TG "  accessLog: {}\n"
        "---\n" GW,
     "test.yaml:5:14: spec.accessLog.file: missing*"},
    {"unknown access log field",
     TG "  accessLog: {file: /tmp/a.jsonl, format: json}\n"
        "---\n" GW,
     "test.yaml:5:*: spec.accessLog: unknown field \"format\""},
    {"strip headers not a list",
     TG "  stripHeaders: x-user\n"
        "---\n" GW,
     "test.yaml:5:17: spec.stripHeaders: expected a list, got a string"},
    {"admin address",
     TG "  admin: {address: localhost}\n"
        "---\n" GW,
     "test.yaml:5:20: spec.admin.address: must be an IP address"},
    {"admin port",
     TG "  admin: {port: 70000}\n"
        "---\n" GW,
     "test.yaml:5:17: spec.admin.port: must be between 0 and 65535 (got 70000)"},
    {"admin a list",
     TG "  admin: [1]\n"
        "---\n" GW,
     "test.yaml:5:10: spec.admin: expected a map, got a list"},
    {"unknown setting",
     TG "  mesh: {}\n"
        "---\n" GW,
     "test.yaml:5:3: spec: unknown field \"mesh\""},

    /* Gateway */
    {"unknown port field", GWH "  - port: {number: 8080, prot: HTTP}\n    hosts: [a]\n",
     "test.yaml:6:26: spec.servers[0].port: unknown field \"prot\""},
    {"port out of range", GWH "  - port: {number: 70000, protocol: HTTP}\n    hosts: [a]\n",
     "test.yaml:6:20: spec.servers[0].port.number: expected a port number 1..65535, got \"70000\""},
    {"port not a number", GWH "  - port: {number: abc, protocol: HTTP}\n    hosts: [a]\n",
     "test.yaml:6:20: spec.servers[0].port.number: expected a port number 1..65535, got \"abc\""},
    {"port zero", GWH "  - port: {number: 0, protocol: HTTP}\n    hosts: [a]\n",
     "test.yaml:6:20: spec.servers[0].port.number: expected a port number 1..65535, got \"0\""},
    {"protocol missing", GWH "  - port: {number: 8080}\n    hosts: [a]\n",
     "test.yaml:6:11: spec.servers[0].port.protocol: missing required field"},
    {"protocol TCP", GWH "  - port: {number: 8080, protocol: TCP}\n    hosts: [a]\n",
     "test.yaml:6:36: spec.servers[0].port.protocol: TCP is not supported yet (HTTP or HTTPS)"},
    {"port targetPort", GWH "  - port: {number: 8080, protocol: HTTP, targetPort: 80}\n    hosts: [a]\n",
     "test.yaml:6:42: spec.servers[0].port.targetPort: not supported yet"},
    {"HTTPS without tls", GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n",
     "test.yaml:6:5: spec.servers[0].tls: HTTPS servers need tls.serverCertificate and tls.privateKey"},
    {"HTTPS without key",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {serverCertificate: certs/server.pem}\n",
     "test.yaml:8:10: spec.servers[0].tls.privateKey: missing required field"},
    {"key file missing",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {serverCertificate: certs/server.pem, privateKey: certs/nope.key}\n",
     "test.yaml:8:60: spec.servers[0].tls.privateKey: cannot read \"/tmp/*/certs/nope.key\": No such file or "
     "directory"},
    {"certificate a directory",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {serverCertificate: certs/dir.pem, privateKey: certs/server.key}\n",
     "test.yaml:8:30: spec.servers[0].tls.serverCertificate: \"/tmp/*/certs/dir.pem\" is not a regular file"},
    {"absolute path missing",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {serverCertificate: /nonexistent/x.pem, privateKey: certs/server.key}\n",
     "test.yaml:8:30: spec.servers[0].tls.serverCertificate: cannot read \"/nonexistent/x.pem\""},
    {"listener mTLS",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {mode: MUTUAL, " HTTPS_TLS "}\n",
     "test.yaml:8:17: spec.servers[0].tls.mode: MUTUAL is not supported yet (SIMPLE only)"},
    {"TLS 1.0",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {minProtocolVersion: TLSV1_0, " HTTPS_TLS "}\n",
     "test.yaml:8:31: spec.servers[0].tls.minProtocolVersion: TLSV1_0 is not allowed (TLS 1.2 is the "
     "minimum)"},
    {"credentialName",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {credentialName: edge-cert}\n",
     "test.yaml:8:11: spec.servers[0].tls.credentialName: not supported yet"},
    {"certificate on HTTP",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    hosts: [a]\n"
         "    tls: {serverCertificate: certs/server.pem}\n",
     "test.yaml:8:30: spec.servers[0].tls.serverCertificate: applies to HTTPS servers only"},
    {"redirect on HTTPS",
     GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
         "    tls: {httpsRedirect: true, " HTTPS_TLS "}\n",
     "test.yaml:8:26: spec.servers[0].tls.httpsRedirect: applies to HTTP servers only"},
    {"redirect not a boolean",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    hosts: [a]\n"
         "    tls: {httpsRedirect: yes}\n",
     "test.yaml:8:26: spec.servers[0].tls.httpsRedirect: expected true or false, got \"yes\""},
    {"bind a host name",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    bind: localhost\n    hosts: [a]\n",
     "test.yaml:7:11: spec.servers[0].bind: must be an IP address"},
    {"hosts missing", GWH "  - port: {number: 8080, protocol: HTTP}\n",
     "test.yaml:6:5: spec.servers[0].hosts: missing required field"},
    {"hosts empty", GWH "  - port: {number: 8080, protocol: HTTP}\n    hosts: []\n",
     "test.yaml:7:12: spec.servers[0].hosts: must list at least one"},
    {"host empty", GWH "  - port: {number: 8080, protocol: HTTP}\n    hosts: [\"\"]\n",
     "test.yaml:7:13: spec.servers[0].hosts[0]: must not be empty"},
    {"no servers",
     "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers: []\n",
     "test.yaml:5:12: spec.servers: must list at least one server"},
    {"same socket twice",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    bind: 127.0.0.1\n    hosts: [a]\n---\n"
         "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: gw2}\nspec:\n  servers:\n"
         "  - port: {number: 8080, protocol: HTTP}\n    bind: 127.0.0.1\n    hosts: [b]\n",
     "test.yaml:15:20: spec.servers[0].port.number: 127.0.0.1:8080 conflicts with 127.0.0.1:8080 of Gateway "
     "default/gw at *test.yaml:6:20"},
    {"wildcard overlaps an address",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    bind: 127.0.0.1\n    hosts: [a]\n"
         "  - port: {number: 8080, protocol: HTTP}\n    hosts: [b]\n",
     "test.yaml:9:20: spec.servers[1].port.number: 0.0.0.0:8080 conflicts with 127.0.0.1:8080 of Gateway "
     "default/gw at *test.yaml:6:20"},
    {"IPv6 spelled twice",
     GWH "  - port: {number: 8080, protocol: HTTP}\n    bind: \"::1\"\n    hosts: [a]\n"
         "  - port: {number: 8080, protocol: HTTP}\n    bind: \"0:0::1\"\n    hosts: [b]\n",
     "test.yaml:9:20: spec.servers[1].port.number: 0:0::1:8080 conflicts with ::1:8080"},
    {"no Gateway", SE, "test.yaml:1:1: no Gateway document: at least one Gateway server is required"},

    /* ServiceEntry */
    {"hosts missing",
     SEH "  ports: [{number: 80, name: http}]\n"
         "---\n" GW,
     "test.yaml:5:3: spec.hosts: missing required field"},
    {"bad host",
     SEH "  hosts: [\"a b\"]\n  ports: [{number: 80, name: http}]\n"
         "---\n" GW,
     "test.yaml:5:11: spec.hosts[0]: \"a b\" is not a valid host name"},
    {"workloadSelector",
     SEH "  hosts: [a.b]\n  workloadSelector: {}\n"
         "---\n" GW,
     "test.yaml:6:3: spec.workloadSelector: not supported yet"},
    {"ports missing",
     SEH "  hosts: [a.b]\n"
         "---\n" GW,
     "test.yaml:5:3: spec.ports: missing required field"},
    {"port name missing",
     SEH "  hosts: [a.b]\n  ports: [{number: 80}]\n"
         "---\n" GW,
     "test.yaml:6:11: spec.ports[0].name: missing required field"},
    {"port protocol unknown",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http, protocol: SPDY}]\n"
         "---\n" GW,
     "test.yaml:6:46: spec.ports[0].protocol: unknown value \"SPDY\" (expected HTTP, HTTPS, HTTP2, GRPC,"},
    {"port listed twice",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}, {number: 80, name: web}]\n"
         "---\n" GW,
     "test.yaml:6:37: spec.ports[1]: port 80 is listed twice (ports[0])"},
    {"endpoint port name unknown",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n"
         "  endpoints: [{address: 10.0.0.1, ports: {grpc: 81}}]\n"
         "---\n" GW,
     "test.yaml:7:43: spec.endpoints[0].ports.grpc: spec.ports has no port named \"grpc\""},
    {"endpoint ports missing",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}, {number: 81, name: grpc}]\n"
         "  endpoints: [{address: 10.0.0.1}]\n"
         "---\n" GW,
     "test.yaml:7:15: spec.endpoints[0].ports: missing required field"},
    {"endpoint port incomplete",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}, {number: 81, name: grpc}]\n"
         "  endpoints: [{address: 10.0.0.1, ports: {http: 80}}]\n"
         "---\n" GW,
     "test.yaml:7:42: spec.endpoints[0].ports: no port for \"grpc\""},
    {"endpoint port out of range",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n"
         "  endpoints: [{address: 10.0.0.1, ports: {http: 0}}]\n"
         "---\n" GW,
     "test.yaml:7:49: spec.endpoints[0].ports.http: expected a port number 1..65535, got \"0\""},
    {"STATIC with a host name",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n  resolution: STATIC\n"
         "  endpoints: [{address: svc.local}]\n"
         "---\n" GW,
     "test.yaml:8:25: spec.endpoints[0].address: must be an IP address (resolution STATIC)"},
    {"endpoint address missing",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n"
         "  endpoints: [{labels: {a: b}}]\n"
         "---\n" GW,
     "test.yaml:7:15: spec.endpoints[0].address: missing required field"},
    {"endpoint weight",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n"
         "  endpoints: [{address: 10.0.0.1, weight: 2}]\n"
         "---\n" GW,
     "test.yaml:7:35: spec.endpoints[0].weight: not supported yet"},
    {"round robin DNS",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n  resolution: DNS_ROUND_ROBIN\n"
         "---\n" GW,
     "test.yaml:7:15: spec.resolution: DNS_ROUND_ROBIN is not supported yet"},
    {"host in two ServiceEntries",
     SEH "  hosts: [a.b]\n  ports: [{number: 80, name: http}]\n---\n"
         "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: svc2, namespace: "
         "alice}\nspec:\n"
         "  hosts: [x.y, A.B]\n  ports: [{number: 80, name: http}]\n---\n" GW,
     "test.yaml:12:16: spec.hosts[1]: host \"A.B\" is already listed by ServiceEntry alice/svc at "
     "*test.yaml:5:11"},

    /* DestinationRule */
    {"host without ServiceEntry", DRH "  host: other.svc\n" BASE,
     "test.yaml:5:9: spec.host: no ServiceEntry lists host \"other.svc\""},
    {"host missing", DRH "  subsets: []\n" BASE, "test.yaml:5:3: spec.host: missing required field"},
    {"ISTIO_MUTUAL", DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL}\n" BASE,
     "test.yaml:7:17: spec.trafficPolicy.tls.mode: ISTIO_MUTUAL is not supported, use MUTUAL with files"},
    {"unknown TLS mode", DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {mode: SOMETIMES}\n" BASE,
     "test.yaml:7:17: spec.trafficPolicy.tls.mode: unknown value \"SOMETIMES\" (expected DISABLE, SIMPLE or "
     "MUTUAL)"},
    {"MUTUAL without a certificate",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {mode: MUTUAL}\n" BASE,
     "test.yaml:7:10: spec.trafficPolicy.tls.clientCertificate: missing required field"},
    {"SIMPLE with a certificate",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {mode: SIMPLE, clientCertificate: "
         "certs/gateway-client.pem}\n" BASE,
     "test.yaml:7:44: spec.trafficPolicy.tls.clientCertificate: not used with mode SIMPLE"},
    {"DISABLE with a CA",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {caCertificates: certs/mesh-ca.pem}\n" BASE,
     "test.yaml:7:27: spec.trafficPolicy.tls.caCertificates: not used with mode DISABLE"},
    {"CA file missing",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {mode: SIMPLE, caCertificates: "
         "certs/none.pem}\n" BASE,
     "test.yaml:7:41: spec.trafficPolicy.tls.caCertificates: cannot read \"/tmp/*/certs/none.pem\": No such "
     "file"},
    {"insecureSkipVerify",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    tls: {insecureSkipVerify: true}\n" BASE,
     "test.yaml:7:11: spec.trafficPolicy.tls.insecureSkipVerify: not supported yet"},
    {"consistentHash",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    loadBalancer: {consistentHash: {httpHeaderName: "
         "x}}\n" BASE,
     "test.yaml:7:20: spec.trafficPolicy.loadBalancer.consistentHash: not supported yet"},
    {"loadBalancer unknown",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n" BASE,
     "test.yaml:7:28: spec.trafficPolicy.loadBalancer.simple: unknown value \"FASTEST\" (expected "
     "ROUND_ROBIN, "},
    {"loadBalancer PASSTHROUGH",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    loadBalancer: {simple: PASSTHROUGH}\n" BASE,
     "test.yaml:7:28: spec.trafficPolicy.loadBalancer.simple: PASSTHROUGH is not supported"},
    {"loadBalancer without simple",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    loadBalancer: {}\n" BASE,
     "test.yaml:7:19: spec.trafficPolicy.loadBalancer.simple: missing required field"},
    {"bad connect timeout",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    connectionPool: {tcp: {connectTimeout: 2 s}}\n" BASE,
     "test.yaml:7:44: spec.trafficPolicy.connectionPool.tcp.connectTimeout: invalid duration \"2 s\""},
    {"no connections",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: 0}}\n" BASE,
     "test.yaml:7:44: spec.trafficPolicy.connectionPool.tcp.maxConnections: must be between 1 and 1000000 "
     "(got 0)"},
    {"pool retries",
     DRH "  host: mnist.alice.svc\n  trafficPolicy:\n    connectionPool: {http: {maxRetries: 3}}\n" BASE,
     "test.yaml:7:29: spec.trafficPolicy.connectionPool.http.maxRetries: not supported yet"},
    {"subset selects nothing",
     DRH "  host: mnist.alice.svc\n  subsets:\n  - {name: v9, labels: {version: v9}}\n" BASE,
     "test.yaml:7:24: spec.subsets[0].labels: selects no endpoint of ServiceEntry alice/mnist"},
    {"subset twice",
     DRH "  host: mnist.alice.svc\n  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v1}\n" BASE,
     "test.yaml:8:12: spec.subsets[1].name: subset \"v1\" is defined twice (subsets[0])"},
    {"subset name missing", DRH "  host: mnist.alice.svc\n  subsets:\n  - {labels: {version: v1}}\n" BASE,
     "test.yaml:7:5: spec.subsets[0].name: missing required field"},
    {"subset policy unsupported",
     DRH "  host: mnist.alice.svc\n  subsets:\n  - name: v1\n    labels: {version: v1}\n"
         "    trafficPolicy: {portLevelSettings: []}\n" BASE,
     "test.yaml:9:21: spec.subsets[0].trafficPolicy.portLevelSettings: not supported yet"},
    {"two rules for a host",
     DR "---\n" DRH "  host: MNIST.alice.svc\n"
        "---\n" GW "---\n" SE,
     "test.yaml:14:9: spec.host: host \"MNIST.alice.svc\" is already listed by DestinationRule alice/mnist "
     "at "
     "*test.yaml:5:9"},
    {"exportTo", DRH "  host: mnist.alice.svc\n  exportTo: [\".\"]\n" BASE,
     "test.yaml:6:3: spec.exportTo: not supported yet"},

    /* VirtualService */
    {"weights add up to 90",
     VSH "  - route:\n    - destination: {host: mnist.alice.svc, subset: v1}\n      weight: 60\n"
         "    - destination: {host: mnist.alice.svc, subset: v2}\n      weight: 30\n" BASE,
     "test.yaml:11:15: spec.http[0].route[1].weight: weights of a route must add up to 100 (got 90)"},
    {"a weight missing",
     VSH "  - route:\n    - destination: {host: mnist.alice.svc, subset: v1}\n      weight: 60\n"
         "    - destination: {host: mnist.alice.svc, subset: v2}\n" BASE,
     "test.yaml:10:7: spec.http[0].route[1].weight: required when a route has several destinations"},
    {"one destination at 50", VSH "  - route: [{destination: {host: mnist.alice.svc}, weight: 50}]\n" BASE,
     "test.yaml:7:60: spec.http[0].route[0].weight: weights of a route must add up to 100 (got 50)"},
    {"weight over 100", VSH "  - route: [{destination: {host: mnist.alice.svc}, weight: 101}]\n" BASE,
     "test.yaml:7:60: spec.http[0].route[0].weight: must be between 0 and 100 (got 101)"},
    {"invalid regex", VSH "  - match: [{uri: {regex: '(x'}}]\n" ROUTE BASE,
     "test.yaml:7:27: spec.http[0].match[0].uri.regex: invalid regex \"(x\""},
    {"RE2 class escape", VSH "  - match: [{uri: {regex: '/v\\d+'}}]\n" ROUTE BASE,
     "test.yaml:7:27: spec.http[0].match[0].uri.regex: the RE2 escape \\d is not supported here"},
    {"two string matches", VSH "  - match: [{method: {exact: GET, prefix: G}}]\n" ROUTE BASE,
     "test.yaml:7:22: spec.http[0].match[0].method: needs exactly one of exact, prefix or regex"},
    {"header name", VSH "  - match: [{headers: {'x y': {exact: a}}}]\n" ROUTE BASE,
     "test.yaml:7:24: spec.http[0].match[0].headers: \"x y\" is not a header name"},
    {"authority match", VSH "  - match: [{authority: {exact: y}}]\n" ROUTE BASE,
     "test.yaml:7:14: spec.http[0].match[0].authority: not supported yet"},
    {"exact and prefix", VSH "  - match: [{uri: {exact: /a, prefix: /b}}]\n" ROUTE BASE,
     "test.yaml:7:19: spec.http[0].match[0].uri: needs exactly one of exact, prefix or regex"},
    {"prefix without slash", VSH "  - match: [{uri: {prefix: api}}]\n" ROUTE BASE,
     "test.yaml:7:28: spec.http[0].match[0].uri.prefix: must start with /"},
    {"sticky split key",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: alice, "
     "annotations: {tenantgate.io/sticky-split: session}}\nspec:\n  hosts: [\"*\"]\n  http:\n  - name: "
     "r\n" ROUTE BASE,
     "test.yaml:3:53: metadata.annotations.tenantgate.io/sticky-split: \"session\" is not a sticky split key "
     "(expected \"user\")"},
    {"unknown tenantgate annotation",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs, namespace: alice, "
     "annotations: {tenantgate.io/sticky: user}}\nspec:\n  hosts: [\"*\"]\n  http:\n  - name: r\n" ROUTE BASE,
     "test.yaml:3:53: metadata.annotations.tenantgate.io/sticky: unknown tenantgate annotation"},
    {"retries without attempts", VSH "  - retries: {retryOn: 5xx}\n" ROUTE BASE,
     "test.yaml:7:14: spec.http[0].retries.attempts: missing required field"},
    {"too many attempts", VSH "  - retries: {attempts: 4}\n" ROUTE BASE,
     "test.yaml:7:25: spec.http[0].retries.attempts: must be between 0 and 3 (got 4)"},
    {"retryOn unsupported",
     VSH "  - retries: {attempts: 2, retryOn: 'connect-failure,retriable-4xx'}\n" ROUTE BASE,
     "test.yaml:7:37: spec.http[0].retries.retryOn: retry condition \"retriable-4xx\" is not supported "
     "(supported: "
     "connect-failure, reset, gateway-error, 5xx, 502, 503, 504)"},
    {"retryOn empty item", VSH "  - retries: {attempts: 2, retryOn: '5xx,,reset'}\n" ROUTE BASE,
     "test.yaml:7:37: spec.http[0].retries.retryOn: retry condition \"\" is not supported"},
    {"retry backoff", VSH "  - retries: {attempts: 2, backoff: 1s}\n" ROUTE BASE,
     "test.yaml:7:28: spec.http[0].retries.backoff: not supported yet"},
    {"mirror host unknown", VSH "  - mirror: {host: shadow.svc}\n" ROUTE BASE,
     "test.yaml:7:20: spec.http[0].mirror.host: no ServiceEntry lists host \"shadow.svc\""},
    {"mirror subset unknown", VSH "  - mirror: {host: mnist.alice.svc, subset: v9}\n" ROUTE BASE,
     "test.yaml:7:45: spec.http[0].mirror.subset: DestinationRule alice/mnist has no subset \"v9\""},
    {"mirrorPercentage without mirror", VSH "  - mirrorPercentage: {value: 5}\n" ROUTE BASE,
     "test.yaml:7:23: spec.http[0].mirrorPercentage: needs a mirror"},
    {"mirrorPercentage over 100",
     VSH "  - mirror: {host: mnist.alice.svc}\n    mirrorPercentage: {value: 100.5}\n" ROUTE BASE,
     "test.yaml:8:31: spec.http[0].mirrorPercentage.value: expected a percentage 0..100 (at most 4 "
     "decimals), "
     "got \"100.5\""},
    {"mirrorPercentage negative",
     VSH "  - mirror: {host: mnist.alice.svc}\n    mirrorPercentage: {value: -1}\n" ROUTE BASE,
     "test.yaml:8:31: spec.http[0].mirrorPercentage.value: expected a percentage"},
    {"mirrorPercentage too precise",
     VSH "  - mirror: {host: mnist.alice.svc}\n    mirrorPercentage: {value: 0.00001}\n" ROUTE BASE,
     "test.yaml:8:31: spec.http[0].mirrorPercentage.value: expected a percentage"},
    {"mirrors", VSH "  - mirrors: [{destination: {host: mnist.alice.svc}}]\n" ROUTE BASE,
     "test.yaml:7:5: spec.http[0].mirrors: not supported yet"},
    {"corsPolicy", VSH "  - corsPolicy: {}\n" ROUTE BASE,
     "test.yaml:7:5: spec.http[0].corsPolicy: not supported yet"},
    {"rewrite authority", VSH "  - rewrite: {authority: x}\n" ROUTE BASE,
     "test.yaml:7:15: spec.http[0].rewrite.authority: not supported yet"},
    {"route missing", VSH "  - name: r\n" BASE, "test.yaml:7:5: spec.http[0].route: missing required field"},
    {"route empty", VSH "  - route: []\n" BASE,
     "test.yaml:7:12: spec.http[0].route: must list at least one destination"},
    {"destination missing", VSH "  - route: [{weight: 100}]\n" BASE,
     "test.yaml:7:13: spec.http[0].route[0].destination: missing required field"},
    {"destination host unknown", VSH "  - route: [{destination: {host: nope.svc}}]\n" BASE,
     "test.yaml:7:34: spec.http[0].route[0].destination.host: no ServiceEntry lists host \"nope.svc\""},
    {"subset unknown", VSH "  - route: [{destination: {host: mnist.alice.svc, subset: v3}}]\n" BASE,
     "test.yaml:7:59: spec.http[0].route[0].destination.subset: DestinationRule alice/mnist has no subset "
     "\"v3\""},
    {"subset without rule",
     VSH "  - route: [{destination: {host: mnist.alice.svc, subset: v1}}]\n---\n" GW "---\n" SE,
     "test.yaml:7:59: spec.http[0].route[0].destination.subset: no DestinationRule for host "
     "\"mnist.alice.svc\" "
     "defines subsets"},
    {"port not served",
     VSH "  - route: [{destination: {host: mnist.alice.svc, port: {number: 9000}}}]\n" BASE,
     "test.yaml:7:66: spec.http[0].route[0].destination.port.number: ServiceEntry alice/mnist has no port "
     "9000 (it "
     "has 8500)"},
    {"port needed",
     VSH "  - route: [{destination: {host: two.svc}}]\n---\n" GW "---\n"
         "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: two, namespace: "
         "alice}\nspec:\n"
         "  hosts: [two.svc]\n  ports: [{number: 80, name: http}, {number: 81, name: grpc}]\n"
         "  endpoints: [{address: 10.0.0.1, ports: {http: 80, grpc: 81}}]\n",
     "test.yaml:7:27: spec.http[0].route[0].destination.port: required: ServiceEntry alice/two has 2 ports"},
    {"service without endpoints",
     VSH "  - route: [{destination: {host: empty.svc}}]\n---\n" GW "---\n"
         "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: empty, namespace: "
         "alice}\nspec:\n"
         "  hosts: [empty.svc]\n  ports: [{number: 80, name: http}]\n",
     "test.yaml:7:34: spec.http[0].route[0].destination.host: ServiceEntry alice/empty has no endpoints"},
    {"timeout", VSH "  - timeout: soon\n" ROUTE BASE,
     "test.yaml:7:14: spec.http[0].timeout: invalid duration \"soon\": expected numbers with units"},
    {"http missing",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n"
     "  hosts: [\"*\"]\n" BASE,
     "test.yaml:5:3: spec.http: missing required field"},
    {"tcp routes",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n"
     "  hosts: [\"*\"]\n  tcp: []\n" BASE,
     "test.yaml:6:3: spec.tcp: not supported yet"},
    {"gateway unknown",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n"
     "  hosts: [\"*\"]\n  gateways: [istio-system/nope]\n  http:\n" ROUTE BASE,
     "test.yaml:6:14: spec.gateways[0]: no Gateway istio-system/nope in this file"},
    {"gateway in another namespace",
     "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
     "metadata: {name: vs, namespace: alice}\nspec:\n"
     "  hosts: [\"*\"]\n  gateways: [edge]\n  http:\n" ROUTE BASE,
     "test.yaml:6:14: spec.gateways[0]: no Gateway alice/edge in this file"},
};

static void test_error_rows(void **state)
{
    (void)state;
    check_error_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* An error names no secret: key file contents never appear, even when the key is misused. */
static void test_errors_show_no_key_contents(void **state)
{
    (void)state;
    char err[GW_CONFIG_ERROR_SIZE];
    const char *yaml = GWH "  - port: {number: 8443, protocol: HTTPS}\n    hosts: [a]\n"
                           "    tls: {serverCertificate: certs/server.key, privateKey: certs/dir.pem}\n";
    assert_null(load_text(yaml, err));
    assert_non_null(strstr(err, "privateKey"));
    assert_null(strstr(err, SCRATCH_SECRET));
}

/* Errors fit the buffer whatever the input: a long value is shortened, a long file name cut. */
static void test_long_error_is_cut(void **state)
{
    (void)state;
    size_t len = 20000;
    char *yaml = malloc(len + 256), *name = malloc(len + 16);
    assert_non_null(yaml);
    assert_non_null(name);
    strcpy(yaml,
           "apiVersion: tenantgate.io/v1alpha1\nkind: TenantGate\nmetadata: {name: a}\nspec: {logLevel: ");
    size_t at = strlen(yaml);
    memset(yaml + at, 'k', len);
    strcpy(yaml + at + len, "}\n");
    char err[GW_CONFIG_ERROR_SIZE + 16];
    memset(err, 'X', sizeof(err));
    gw_config_t *config = gw_config_load_buffer("short.yaml", yaml, strlen(yaml), err);
    assert_null(config);
    assert_true(strlen(err) < 300);
    assert_true(
        matches_pieces(err, "short.yaml:4:18: spec.logLevel: unknown value \"kkkk*kkk...\" (expected debug"));

    memset(name, 'd', len);
    strcpy(name + len, "/test.yaml");
    memset(err, 'X', sizeof(err));
    config = gw_config_load_buffer(name, yaml, strlen(yaml), err);
    free(yaml);
    free(name);
    assert_null(config);
    assert_int_equal(strlen(err), GW_CONFIG_ERROR_SIZE - 1);
    assert_int_equal(err[GW_CONFIG_ERROR_SIZE], 'X');
}

/* A NULL error buffer is allowed. */
static void test_null_error_buffer(void **state)
{
    (void)state;
    assert_null(gw_config_load_buffer(scratch_config, "kind: [", 7, NULL));
    assert_null(gw_config_load("/nonexistent/tenantgate.yaml", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_rows),
        cmocka_unit_test(test_errors_show_no_key_contents),
        cmocka_unit_test(test_long_error_is_cut),
        cmocka_unit_test(test_null_error_buffer),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
