/*
 * Differential test of certificates and host name checks against node:
 *
 *   1. cnet_tls_cert_parse() against node's getPeerCertificate() object
 *      (new X509Certificate(pem).toLegacyObject()) for certificates with
 *      unusual names: wildcards of every kind, IP addresses, quoted and
 *      escaped alt names, repeated and multi-valued attributes, UTF-8, OIDs;
 *   2. cnet_tls_check_server_identity() against tls.checkServerIdentity()
 *      for each of them and ~40 host names (code, reason and message);
 *   3. the engine's getPeerCertificate(true) chain, authorized and
 *      authorizationError against node's after a real handshake on loopback.
 *
 * Node prints one JSON line per case (tests/node/tls_oracle.js); we print
 * the same line and they must be equal. Skips (77) without node.
 */
#include "tls_fixtures.h"
#include "tls_oracle.h"
#include "tls_pair.h"

static tls_pki_t pki;

#define A(k, v) \
    {           \
        k, v, 0 \
    }
#define MULTI(k, v) \
    {               \
        k, v, 1     \
    } /* added to the previous attribute's RDN */
#define DNS(v)        \
    {                 \
        GEN_DNS, v, 0 \
    }
#define V4(a, b, c, d)                           \
    {                                            \
        GEN_IPADD, (const char[]){a, b, c, d}, 4 \
    }
#define V6(...)                                    \
    {                                              \
        GEN_IPADD, (const char[]){__VA_ARGS__}, 16 \
    }

/* The certificates: a subject and an alt name list each. */
static const struct {
    tls_attr_t subject[6];
    tls_san_t san[12];
    int no_san;
    int empty_san;
    long serial;
} specs[] = {
    {.subject = {A("C", "US"), A("O", "cnet"), A("CN", "localhost")},
     .san = {DNS("localhost"), DNS("*.example.com"), V4(127, 0, 0, 1),
             V6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)}},
    {.subject = {A("CN", "example.com")}, .no_san = 1},
    {.subject = {A("CN", "*.example.com")}, .no_san = 1},
    {.subject = {A("CN", "a.example.com"), A("CN", "b.example.com")}, .no_san = 1},
    {.subject = {A("O", "no common name")}, .no_san = 1},
    {.no_san = 1},
    {.subject = {A("CN", "uri.example.com")}, .san = {{GEN_URI, "https://uri.example.com/x", 0}}},
    {.subject = {A("CN", "mail.example.com")}, .san = {{GEN_EMAIL, "me@mail.example.com", 0}}},
    {.subject = {A("CN", "localhost")}, .empty_san = 1},
    {.subject = {A("CN", "wild")},
     .san = {DNS("*.a.com"), DNS("a*.b.com"), DNS("*b.c.com"), DNS("a*b.d.com"), DNS("*.com"),
             DNS("**.e.com"), DNS("*.*.f.com"), DNS("xn--*.g.com"), DNS("*.xn--h.com"),
             DNS("a.*.i.com")}},
    {.subject = {A("CN", "odd")},
     .san = {DNS("bad..example.com"), DNS("UPPER.Example.COM"), DNS("trailing.dot.com."),
             DNS("sp ace.com"), DNS("")}},
    {.subject = {A("CN", "escaped")},
     .san = {DNS("a,b.com"), DNS("quo\"te.com"), DNS("back\\slash.com"), DNS("caf\xe9.com"),
             DNS("tab\t.com"), DNS("apos'.com"), DNS("x.example.com")}},
    {.subject = {A("CN", "comma first")}, .san = {DNS("c,d.com"), DNS("localhost")}},
    {.subject = {A("CN", "ips")},
     .san = {V4(10, 0, 0, 1),
             V6(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
             V6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1),
             {GEN_IPADD, "\x01\x02\x03\x04\x05", 5}}},
    {.subject = {A("CN", "ip and dns")}, .san = {DNS("127.0.0.1"), DNS("localhost")}},
    {.subject = {A("CN", "dirname")},
     .san = {{GEN_DIRNAME, "C=US/O=Dir, Inc/CN=dir", 0},
             {GEN_RID, "1.2.3.4.5", 0},
             DNS("localhost")}},
    {.subject = {A("CN", "x"), MULTI("O", "multi"), A("OU", "a"), A("OU", "b"), A("OU", "c")},
     .san = {DNS("localhost")}},
    {.subject = {A("1.2.3.4", "oid value"), A("emailAddress", "a@b.c"), A("O", "Acme, Inc."),
                 A("OU", " lead#+=;<>\\\""), A("CN", "h\xc3\xa9llo w\xc3\xb6rld")},
     .san = {DNS("h\xc3\xa9llo.com")}},
    {.subject = {A("CN", "LocalHost.")}, .no_san = 1, .serial = 10},
    {.subject = {A("CN", "serial")}, .no_san = 1, .serial = 0x7fffffffffffffffL},
    {.subject = {A("CN", "*.*.example.com")}, .no_san = 1},
};

static const char *const hosts[] = {
    "localhost",
    "LOCALHOST",
    "localhost.",
    "example.com",
    "www.example.com",
    "a.b.example.com",
    "a.example.com",
    "b.example.com",
    "*.example.com",
    "foo.a.com",
    "a.com",
    "abc.b.com",
    "b.b.com",
    "xb.c.com",
    "b.c.com",
    "ab.d.com",
    "axxb.d.com",
    "x.com",
    "x.e.com",
    "x.y.f.com",
    "xn--abc.g.com",
    "abc.xn--h.com",
    "a.x.i.com",
    "bad..example.com",
    "upper.example.com",
    "trailing.dot.com",
    "sp ace.com",
    "a,b.com",
    "c,d.com",
    "x.example.com",
    "127.0.0.1",
    "127.0.0.1.",
    "::1",
    "0:0:0:0:0:0:0:1",
    "10.0.0.1",
    "fe80::1",
    "fe80::1%eth0",
    "::ffff:127.0.0.1",
    "[::1]",
    "",
    "uri.example.com",
    "mail.example.com",
    "h\xc3\xa9llo.com",
    "caf\xc3\xa9.com",
};

static void json_identity(json_t *j, const char *host, const cnet_tls_cert_t *cert)
{
    char reason[8192];
    int rc = cnet_tls_check_server_identity(host, cert, reason, sizeof reason);
    json_comma(j);
    json_lit(j, "{");
    json_kstr(j, "host", host);
    if (rc == 0) {
        json_key(j, "ok");
        json_lit(j, "true");
    } else if (rc == CNET_ERR_TLS_CERT_ALTNAME_INVALID) {
        char message[9000];
        snprintf(message, sizeof message, "%s: %s", cnet_strerror(rc), reason);
        json_kstr(j, "code", cnet_err_name(rc));
        json_kstr(j, "reason", reason);
        json_kstr(j, "message", message);
    } else {
        json_kstr(j, "code", cnet_err_name(rc));
        json_key(j, "thrown");
        json_lit(j, "true");
    }
    json_lit(j, "}");
}

static int test_certs(void)
{
    EVP_PKEY *key = tls_make_key();
    json_t cases = {0};
    size_t n = CNET__ARRAY_SIZE(specs);
    char **ours = calloc(n, sizeof *ours);

    test_set_phase("certificates and checkServerIdentity");
    json_lit(&cases, "[");
    for (size_t i = 0; i < n; i++) {
        tls_cert_spec_t spec = {0};
        spec.subject = specs[i].subject;
        spec.san = specs[i].no_san || specs[i].empty_san ? NULL : specs[i].san;
        spec.empty_san = specs[i].empty_san;
        spec.serial = specs[i].serial;
        X509 *x = tls_make_cert(&spec, key, NULL, NULL);
        char *pem = tls_cert_pem(x);
        X509_free(x);

        json_comma(&cases);
        json_lit(&cases, "{");
        json_kstr(&cases, "pem", pem);
        json_key(&cases, "hosts");
        json_lit(&cases, "[");
        for (size_t h = 0; h < CNET__ARRAY_SIZE(hosts); h++) {
            json_comma(&cases);
            json_str(&cases, hosts[h]);
        }
        json_lit(&cases, "]}");

        const cnet_tls_cert_t *cert;
        char msg[256];
        int rc = cnet_tls_cert_parse(pem, 0, &cert, msg, sizeof msg);
        if (rc)
            TEST_FAIL_("case %zu: cnet_tls_cert_parse: %s %s", i, cnet_err_name(rc), msg);
        json_t line = {0};
        json_lit(&line, "{");
        json_key(&line, "cert");
        json_cert(&line, cert);
        json_key(&line, "identity");
        json_lit(&line, "[");
        for (size_t h = 0; h < CNET__ARRAY_SIZE(hosts); h++)
            json_identity(&line, hosts[h], cert);
        json_lit(&line, "]}");
        ours[i] = line.p;
        cnet_tls_cert_free(cert);
        free(pem);
    }
    json_lit(&cases, "]");
    int diffs = oracle_compare("cert", cases.p, ours, n);
    for (size_t i = 0; i < n; i++)
        free(ours[i]);
    free(ours);
    free(cases.p);
    EVP_PKEY_free(key);
    return diffs;
}

/* The chain the engine reports, as the oracle prints node's. */
static char *our_chain(const char *key, const char *cert, const char *ca, const char *servername)
{
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    co.reject_unauthorized = CNET_TLS_OFF; /* as the oracle's client */
    cnet_tls_context_t *cctx = tls_ctx(NULL, NULL, ca, &co);
    cnet_tls_context_t *sctx = tls_ctx(key, cert, NULL, NULL);
    cnet__tls_engine_opts_t eo = {0};
    tls_pair_t p = {0};
    const cnet_tls_cert_t *chain, *c;
    json_t j = {0};

    eo.servername = servername;
    tls_pair_open(&p, cctx, &eo, sctx, NULL);
    tls_pump(&p);
    ASSERT(cnet__tls_engine_is_established(p.c.e));
    ASSERT_OK(cnet__tls_engine_peer_cert(p.c.e, true, &chain));
    int code = cnet__tls_engine_authorization_error(p.c.e);

    json_lit(&j, "{");
    json_key(&j, "authorized");
    json_lit(&j, cnet__tls_engine_authorized(p.c.e) ? "true" : "false");
    json_kstr(&j, "authorizationError", code ? cnet_err_name(code) : NULL);
    /* node links a self-issued root to itself; here the chain ends there. */
    for (c = chain; c->issuer_certificate; c = c->issuer_certificate)
        ;
    const unsigned char *der = c->raw;
    X509 *last = d2i_X509(NULL, &der, (long)c->raw_len);
    ASSERT(last != NULL);
    json_key(&j, "self");
    json_lit(&j, X509_check_issued(last, last) == X509_V_OK ? "true" : "false");
    X509_free(last);
    json_key(&j, "chain");
    json_lit(&j, "[");
    for (c = chain; c; c = c->issuer_certificate) {
        json_comma(&j);
        json_cert(&j, c);
    }
    json_lit(&j, "]}");
    cnet_tls_cert_free(chain);
    tls_pair_close(&p);
    cnet_tls_context_release(sctx);
    cnet_tls_context_release(cctx);
    return j.p;
}

static int test_chains(void)
{
    char *inter_root = tls_concat(pki.inter_cert, pki.ca_cert);
    const struct {
        const char *key, *cert, *ca, *servername;
    } cases[] = {
        {pki.server_key, pki.server_chain, pki.ca_cert, "localhost"},
        {pki.server_key, pki.server_cert, inter_root, "localhost"},
        {pki.selfsigned_key, pki.selfsigned_cert, pki.ca_cert, "localhost"},
        {pki.leaf_key, pki.wronghost_chain, pki.ca_cert, "localhost"},
        {pki.leaf_key, pki.expired_chain, pki.ca_cert, "localhost"},
        {pki.server_key, pki.server_chain, pki.selfsigned_cert, "localhost"},
    };
    size_t n = CNET__ARRAY_SIZE(cases);
    char **ours = calloc(n, sizeof *ours);
    json_t in = {0};

    test_set_phase("peer certificate chains after a handshake");
    json_lit(&in, "[");
    for (size_t i = 0; i < n; i++) {
        json_comma(&in);
        json_lit(&in, "{");
        json_kstr(&in, "key", cases[i].key);
        json_kstr(&in, "cert", cases[i].cert);
        json_kstr(&in, "ca", cases[i].ca);
        json_kstr(&in, "servername", cases[i].servername);
        json_lit(&in, "}");
        ours[i] = our_chain(cases[i].key, cases[i].cert, cases[i].ca, cases[i].servername);
    }
    json_lit(&in, "]");
    int diffs = oracle_compare("chain", in.p, ours, n);
    for (size_t i = 0; i < n; i++)
        free(ours[i]);
    free(ours);
    free(in.p);
    free(inter_root);
    return diffs;
}

int main(void)
{
    test_watchdog(100);
    if (!test_have_node())
        RETURN_SKIP("node is not installed");
    tls_pki_make(&pki);
    int diffs = test_certs();
    diffs += test_chains();
    tls_pki_free(&pki);
    if (diffs)
        TEST_FAIL_("%d case(s) differ from node", diffs);
    return 0;
}
