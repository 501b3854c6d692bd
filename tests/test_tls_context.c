/*
 * Secure contexts (cnet_tls_context_new): arguments, files, what lands in the
 * SSL_CTX (node's settings and ours: renegotiation off, TLS 1.2 minimum,
 * released buffers), the shared store of the system's CAs, reference counts
 * and use from several threads at once, and cnet_tls_cert_parse(). Node's
 * codes for broken keys and certificates are in test_tls_context_differential.
 */
#include "tls_fixtures.h"
#include "tls_pair.h"

#include <cnet/openssl.h>
#include <pthread.h>
#include <sys/stat.h>

static tls_pki_t pki;
static char dir[] = "/tmp/cnet-tls-ctx-XXXXXX";

static int make(const cnet_tls_context_opts_t *o, cnet_tls_context_t **ctx, char *msg, size_t size)
{
    int rc = cnet_tls_context_new(o, ctx, msg, size);
    ASSERT_EQ(0, ERR_peek_error());
    if (rc)
        ASSERT(*ctx == NULL);
    else
        ASSERT(*ctx != NULL);
    return rc;
}

static void test_arguments(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx = (cnet_tls_context_t *)&o;
    char msg[256];

    test_set_phase("arguments");
    ASSERT_EQ(sizeof o, o.size);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_tls_context_new(&o, NULL, msg, sizeof msg));
    ASSERT_OK(make(NULL, &ctx, msg, sizeof msg)); /* every default */
    ASSERT_STR_EQ("", msg);
    cnet_tls_context_release(ctx);
    ASSERT_OK(make(&o, &ctx, NULL, 0)); /* no message buffer */
    cnet_tls_context_release(ctx);

    o.size = 0; /* not from the macro */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&o, &ctx, msg, sizeof msg));
    o = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;

    o.key = pki.server_key;
    o.key_file = "/nonexistent";
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&o, &ctx, msg, sizeof msg));
    o.key = o.key_file = NULL;

    o.min_version = (cnet_tls_version_t)0x0305;
    ASSERT_ERR(CNET_ERR_TLS_INVALID_PROTOCOL_VERSION, make(&o, &ctx, msg, sizeof msg));
    ASSERT_STR_EQ("0x0305 is not a valid minimum TLS protocol version", msg);
    o.min_version = CNET_TLS_VERSION_DEFAULT;
    o.max_version = (cnet_tls_version_t)1;
    ASSERT_ERR(CNET_ERR_TLS_INVALID_PROTOCOL_VERSION, make(&o, &ctx, msg, sizeof msg));
    ASSERT_STR_EQ("0x0001 is not a valid maximum TLS protocol version", msg);
    o.max_version = CNET_TLS_VERSION_DEFAULT;

    o.ciphers = ":";
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&o, &ctx, msg, sizeof msg));
    o.ciphersuites = "TLS_AES_128_GCM_SHA256"; /* then there is something to negotiate */
    ASSERT_OK(make(&o, &ctx, msg, sizeof msg));
    cnet_tls_context_release(ctx);
    o.ciphers = o.ciphersuites = NULL;

    static const char *const empty_name[] = {"h2", "", NULL};
    char long_name[300];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    const char *const too_long[] = {long_name, NULL};
    o.alpn_protocols = empty_name;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&o, &ctx, msg, sizeof msg));
    o.alpn_protocols = too_long;
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, make(&o, &ctx, msg, sizeof msg));
    o.alpn_protocols = NULL;

    test_set_phase("options ABI: a newer program's struct, an older one's");
    struct {
        cnet_tls_context_opts_t known;
        uint64_t future_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.known = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;
    newer.known.size = sizeof newer;
    ASSERT_OK(make(&newer.known, &ctx, msg, sizeof msg)); /* unknown tail left zero */
    cnet_tls_context_release(ctx);
    newer.future_field = 1;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&newer.known, &ctx, msg, sizeof msg));
    o.size = CNET__TLS_CONTEXT_OPTS_V1 - 1; /* smaller than any released layout */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, make(&o, &ctx, msg, sizeof msg));
    o.size = sizeof o;

    test_set_phase("errmsg is truncated, never overrun");
    o.key = "garbage";
    char tiny[8];
    memset(tiny, 'z', sizeof tiny);
    ASSERT_ERR(CNET_ERR_OSSL_UNSUPPORTED, make(&o, &ctx, tiny, sizeof tiny));
    ASSERT_STR_EQ("error:1", tiny);

    test_set_phase("version names");
    ASSERT_STR_EQ("TLSv1", cnet_tls_version_name(CNET_TLSV1));
    ASSERT_STR_EQ("TLSv1.1", cnet_tls_version_name(CNET_TLSV1_1));
    ASSERT_STR_EQ("TLSv1.2", cnet_tls_version_name(CNET_TLSV1_2));
    ASSERT_STR_EQ("TLSv1.3", cnet_tls_version_name(CNET_TLSV1_3));
    ASSERT(cnet_tls_version_name(CNET_TLS_VERSION_DEFAULT) == NULL);
}

static void test_files(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    char msg[512];

    test_set_phase("PEM from files");
    char *key = tls_write_file(dir, "key.pem", pki.server_key);
    char *cert = tls_write_file(dir, "cert.pem", pki.server_chain);
    char *ca = tls_write_file(dir, "ca.pem", pki.ca_cert);
    char *crl = tls_write_file(dir, "crl.pem", pki.crl);
    o.key_file = key;
    o.cert_file = cert;
    o.ca_file = ca;
    o.crl_file = crl;
    ASSERT_OK(make(&o, &ctx, msg, sizeof msg));
    /* A working server: a client trusting the root connects. */
    cnet_tls_context_t *client = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
    cnet__tls_engine_opts_t co = {0};
    tls_pair_t p = {0};
    co.servername = "localhost";
    tls_pair_open(&p, client, &co, ctx, NULL);
    tls_pump(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    tls_pair_close(&p);
    cnet_tls_context_release(client);
    cnet_tls_context_release(ctx);

    test_set_phase("files: errors as node's fs reports them");
    o.key_file = "/nonexistent/key.pem";
    ASSERT_ERR(CNET_ENOENT, make(&o, &ctx, msg, sizeof msg));
    ASSERT_STR_EQ("ENOENT: no such file or directory, open '/nonexistent/key.pem'", msg);
    o.key_file = dir;
    ASSERT_ERR(CNET_EISDIR, make(&o, &ctx, msg, sizeof msg));
    ASSERT_STR_EQ("EISDIR: illegal operation on a directory, read", msg);
    o.key_file = key;
    o.cert_file = ca; /* the root is not our key's certificate */
    ASSERT_ERR(CNET_ERR_OSSL_X509_KEY_VALUES_MISMATCH, make(&o, &ctx, msg, sizeof msg));

    unlink(key);
    unlink(cert);
    unlink(ca);
    unlink(crl);
    free(key);
    free(cert);
    free(ca);
    free(crl);
}

static void test_settings(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    char msg[256];

    test_set_phase(
        "settings: node's defaults, renegotiation and compression off, buffers released");
    ASSERT_OK(make(&o, &ctx, msg, sizeof msg));
    SSL_CTX *c = cnet_tls_context_get_ssl_ctx(ctx);
    ASSERT(c != NULL);
    ASSERT_EQ(TLS1_2_VERSION, SSL_CTX_get_min_proto_version(c));
    ASSERT_EQ(TLS1_3_VERSION, SSL_CTX_get_max_proto_version(c));
    ASSERT(SSL_CTX_get_options(c) & SSL_OP_NO_RENEGOTIATION);
    ASSERT(SSL_CTX_get_options(c) & SSL_OP_NO_COMPRESSION);
    ASSERT(!(SSL_CTX_get_options(c) & SSL_OP_NO_TICKET));
    ASSERT(!(SSL_CTX_get_options(c) & SSL_OP_CIPHER_SERVER_PREFERENCE));
    ASSERT(SSL_CTX_get_mode(c) & SSL_MODE_RELEASE_BUFFERS);
    ASSERT(!(SSL_CTX_get_mode(c) & SSL_MODE_NO_AUTO_CHAIN));
    ASSERT_EQ(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
                  SSL_SESS_CACHE_NO_AUTO_CLEAR,
              SSL_CTX_get_session_cache_mode(c));
    ASSERT_EQ(7200, SSL_CTX_get_timeout(c)); /* OpenSSL's, as node's (its docs say 300) */
    /* The TLS 1.3 suites in node's order. */
    STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(c);
    ASSERT_STR_EQ("TLS_AES_256_GCM_SHA384", SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, 0)));
    ASSERT_STR_EQ("TLS_CHACHA20_POLY1305_SHA256",
                  SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, 1)));
    ASSERT_STR_EQ("TLS_AES_128_GCM_SHA256", SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, 2)));
    ASSERT_STR_EQ("ECDHE-RSA-AES128-GCM-SHA256", SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, 3)));
    X509_STORE *system = SSL_CTX_get_cert_store(c);

    test_set_phase("settings: the system's CAs are loaded once and shared");
    cnet_tls_context_t *ctx2;
    ASSERT_OK(make(&o, &ctx2, msg, sizeof msg));
    ASSERT(SSL_CTX_get_cert_store(cnet_tls_context_get_ssl_ctx(ctx2)) == system);
    cnet_tls_context_release(ctx2);
    o.ca = pki.ca_cert; /* replaces them, as node's ca */
    ASSERT_OK(make(&o, &ctx2, msg, sizeof msg));
    X509_STORE *own = SSL_CTX_get_cert_store(cnet_tls_context_get_ssl_ctx(ctx2));
    ASSERT(own != system);
    ASSERT_EQ(1, sk_X509_OBJECT_num(X509_STORE_get0_objects(own)));
    /* ... and become the CA names of a CertificateRequest. */
    ASSERT_EQ(1, sk_X509_NAME_num(SSL_CTX_get_client_CA_list(cnet_tls_context_get_ssl_ctx(ctx2))));
    cnet_tls_context_release(ctx2);
    o.ca = NULL;
    o.crl = pki.crl; /* CRLs: a store of its own */
    ASSERT_OK(make(&o, &ctx2, msg, sizeof msg));
    c = cnet_tls_context_get_ssl_ctx(ctx2);
    ASSERT(SSL_CTX_get_cert_store(c) != system);
    ASSERT(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(c)) & X509_V_FLAG_CRL_CHECK_ALL);
    cnet_tls_context_release(ctx2);
    cnet_tls_context_release(ctx);

    test_set_phase("settings: the options reach the SSL_CTX");
    o = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;
    o.min_version = CNET_TLSV1_3;
    o.session_tickets = CNET_TLS_OFF;
    o.honor_cipher_order = true;
    o.session_timeout = 60;
    o.allow_partial_trust_chain = true;
    o.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
    ASSERT_OK(make(&o, &ctx, msg, sizeof msg));
    c = cnet_tls_context_get_ssl_ctx(ctx);
    ASSERT_EQ(TLS1_3_VERSION, SSL_CTX_get_min_proto_version(c));
    ASSERT(SSL_CTX_get_options(c) & SSL_OP_NO_TICKET);
    ASSERT_EQ(0, SSL_CTX_get_num_tickets(c));
    ASSERT(SSL_CTX_get_options(c) & SSL_OP_CIPHER_SERVER_PREFERENCE);
    ASSERT_EQ(60, SSL_CTX_get_timeout(c));
    ASSERT(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(c)) & X509_V_FLAG_PARTIAL_CHAIN);
    list = SSL_CTX_get_ciphers(c);
    ASSERT_STR_EQ("TLS_CHACHA20_POLY1305_SHA256",
                  SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, 0)));
    cnet_tls_context_release(ctx);

    test_set_phase("settings: TLS 1.3 suites only raise the minimum to 1.3 (node)");
    o = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;
    o.ciphers = "TLS_AES_128_GCM_SHA256";
    ASSERT_OK(make(&o, &ctx, msg, sizeof msg));
    ASSERT_EQ(TLS1_3_VERSION, SSL_CTX_get_min_proto_version(cnet_tls_context_get_ssl_ctx(ctx)));
    cnet_tls_context_release(ctx);
    ASSERT(cnet_tls_context_get_ssl_ctx(NULL) == NULL);
}

/* ---- threads -------------------------------------------------------------------- */

static cnet_tls_context_t *shared_server, *shared_client;

static void *handshakes(void *arg)
{
    cnet__tls_engine_opts_t co = {0};
    co.servername = "localhost";
    for (int i = 0; i < 25; i++) {
        tls_pair_t p = {0};
        cnet_tls_context_t *mine = cnet_tls_context_retain(shared_client);
        tls_pair_open(&p, mine, &co, shared_server, NULL);
        tls_pump(&p);
        ASSERT(cnet__tls_engine_authorized(p.c.e));
        ASSERT_OK(cnet__tls_engine_write(p.c.e, "hi", 2));
        tls_pump(&p);
        ASSERT_EQ(2, p.s.len);
        tls_pair_close(&p);
        cnet_tls_context_release(mine);
    }
    return arg;
}

static void test_threads(void)
{
    pthread_t t[4];
    test_set_phase("one context, four threads, handshakes at once");
    shared_server = tls_ctx(pki.server_key, pki.server_chain, NULL, NULL);
    shared_client = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(0, pthread_create(&t[i], NULL, handshakes, NULL));
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(0, pthread_join(t[i], NULL));
    /* The last reference may go on any thread. */
    cnet_tls_context_release(shared_client);
    cnet_tls_context_release(shared_server);
}

/* ---- certificates ------------------------------------------------------------------ */

static void test_cert_parse(void)
{
    const cnet_tls_cert_t *c = (const cnet_tls_cert_t *)&pki;
    char msg[256];

    test_set_phase("cert_parse: PEM");
    ASSERT_OK(cnet_tls_cert_parse(pki.server_chain, 0, &c, msg, sizeof msg));
    ASSERT_STR_EQ("localhost", cnet_tls_name_get(&c->subject, "CN"));
    ASSERT_STR_EQ("cnet", cnet_tls_name_get(&c->subject, "O"));
    ASSERT_STR_EQ("US", cnet_tls_name_get(&c->subject, "C"));
    ASSERT(cnet_tls_name_get(&c->subject, "OU") == NULL);
    ASSERT_EQ(3, c->subject.count);
    ASSERT_STR_EQ("C=US, O=cnet, CN=localhost", c->subject.text);
    ASSERT_STR_EQ("O=cnet, CN=cnet Test Intermediate", c->issuer.text);
    ASSERT_STR_EQ(
        "DNS:localhost, DNS:*.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
        c->subjectaltname);
    ASSERT(!c->ca);
    ASSERT_EQ(256, c->bits);
    ASSERT(c->not_after > c->not_before);
    ASSERT_EQ(strlen("AA:") * 32 - 1, strlen(c->fingerprint256));
    ASSERT_EQ(strlen("AA:") * 20 - 1, strlen(c->fingerprint));
    ASSERT_EQ(strlen("AA:") * 64 - 1, strlen(c->fingerprint512));
    ASSERT(c->raw_len > 100 && c->raw[0] == 0x30);
    ASSERT(c->issuer_certificate == NULL);

    test_set_phase("cert_parse: DER");
    const cnet_tls_cert_t *d;
    ASSERT_OK(cnet_tls_cert_parse(c->raw, c->raw_len, &d, msg, sizeof msg));
    ASSERT_STR_EQ(c->fingerprint256, d->fingerprint256);
    ASSERT_STR_EQ(c->valid_to, d->valid_to);
    cnet_tls_cert_free(d);

    test_set_phase("cert_parse: identity of the parsed certificate");
    char reason[512];
    ASSERT_OK(cnet_tls_check_server_identity("www.example.com", c, reason, sizeof reason));
    ASSERT_STR_EQ("", reason);
    ASSERT_ERR(CNET_ERR_TLS_CERT_ALTNAME_INVALID,
               cnet_tls_check_server_identity("a.b.example.com", c, reason, sizeof reason));
    ASSERT_STR_EQ("Host: a.b.example.com. is not in the cert's altnames: DNS:localhost, "
                  "DNS:*.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
                  reason);
    ASSERT_ERR(CNET_ERR_TLS_CERT_ALTNAME_INVALID,
               cnet_tls_check_server_identity("a.b.example.com", c, NULL, 0));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE,
               cnet_tls_check_server_identity(NULL, c, reason, sizeof reason));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE,
               cnet_tls_check_server_identity("x", NULL, reason, sizeof reason));
    cnet_tls_cert_free(c);

    test_set_phase("cert_parse: errors");
    ASSERT_ERR(CNET_ERR_OSSL_PEM_NO_START_LINE,
               cnet_tls_cert_parse("garbage", 0, &c, msg, sizeof msg));
    ASSERT(c == NULL);
    ASSERT_STR_EQ("error:0480006C:PEM routines::no start line", msg);
    ASSERT_EQ(0, ERR_peek_error());
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_tls_cert_parse(NULL, 0, &c, msg, sizeof msg));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_tls_cert_parse("x", 1, NULL, msg, sizeof msg));
    cnet_tls_cert_free(NULL);
    ASSERT(cnet_tls_name_get(NULL, "CN") == NULL);
}

/* ---- out of memory: every allocation of cnet's may fail -------------------------- */

static long alloc_budget = -1; /* allocations left before they fail; -1: no limit */

static bool alloc_ok(void)
{
    if (alloc_budget < 0)
        return true;
    if (alloc_budget == 0)
        return false;
    alloc_budget--;
    return true;
}
static void *t_malloc(size_t n)
{
    return alloc_ok() ? malloc(n) : NULL;
}
static void *t_realloc(void *p, size_t n)
{
    return alloc_ok() ? realloc(p, n) : NULL;
}
static void *t_calloc(size_t c, size_t n)
{
    return alloc_ok() ? calloc(c, n) : NULL;
}

/* One run of everything, with @p budget allocations allowed; true once it all succeeded. */
static bool oom_run(long budget)
{
    static const char *const alpn[] = {"h2", "http/1.1", NULL};
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *sctx = NULL, *cctx = NULL;
    const cnet_tls_cert_t *cert = NULL;
    cnet__tls_engine_t *c = NULL, *srv = NULL;
    char buf[16384], msg[256];
    bool done = false;
    size_t n;
    int rc;

    alloc_budget = budget;
    o.key = pki.server_key;
    o.cert = pki.server_chain;
    o.alpn_protocols = alpn;
    rc = cnet_tls_context_new(&o, &sctx, msg, sizeof msg);
    if (rc) {
        ASSERT_EQ(CNET_ENOMEM, rc);
        goto out;
    }
    o = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;
    o.ca = pki.ca_cert;
    if ((rc = cnet_tls_context_new(&o, &cctx, msg, sizeof msg))) {
        ASSERT_EQ(CNET_ENOMEM, rc);
        goto out;
    }
    if ((rc = cnet_tls_cert_parse(pki.server_cert, 0, &cert, msg, sizeof msg))) {
        ASSERT_EQ(CNET_ENOMEM, rc);
        goto out;
    }
    rc = cnet_tls_check_server_identity("nothere.example.org", cert, msg, sizeof msg);
    if (rc != CNET_ERR_TLS_CERT_ALTNAME_INVALID) {
        ASSERT_EQ(CNET_ENOMEM, rc);
        goto out;
    }
    cnet__tls_engine_opts_t co = {0}, so = {0};
    co.servername = "localhost";
    co.alpn_protocols = alpn;
    so.is_server = true;
    if ((rc = cnet__tls_engine_new(cctx, &co, &c)) ||
        (rc = cnet__tls_engine_new(sctx, &so, &srv))) {
        ASSERT_EQ(CNET_ENOMEM, rc);
        goto out;
    }
    /* The handshake, by hand: what one side writes, the other reads. */
    for (int round = 0; round < 10; round++) {
        rc = cnet__tls_engine_read(c, buf, sizeof buf, &n);
        if (rc < 0) {
            ASSERT_EQ(CNET_ENOMEM, rc);
            goto out;
        }
        while ((n = cnet__tls_engine_pull(c, buf, sizeof buf)))
            if ((rc = cnet__tls_engine_feed(srv, buf, n)))
                goto out;
        rc = cnet__tls_engine_read(srv, buf, sizeof buf, &n);
        if (rc < 0) {
            ASSERT_EQ(CNET_ENOMEM, rc);
            goto out;
        }
        while ((n = cnet__tls_engine_pull(srv, buf, sizeof buf)))
            if ((rc = cnet__tls_engine_feed(c, buf, n)))
                goto out;
    }
    ASSERT(cnet__tls_engine_is_established(c));
    ASSERT(cnet__tls_engine_authorized(c));
    ASSERT_STR_EQ("h2", cnet__tls_engine_alpn_protocol(c));
    done = true;
out:
    alloc_budget = -1;
    cnet__tls_engine_free(c);
    cnet__tls_engine_free(srv);
    cnet_tls_cert_free(cert);
    cnet_tls_context_release(cctx);
    cnet_tls_context_release(sctx);
    ASSERT_EQ(0, ERR_peek_error());
    return done;
}

static void test_oom(void)
{
    long budget;
    test_set_phase("out of memory at each of cnet's allocations");
    ASSERT_OK(cnet_replace_allocator(t_malloc, t_realloc, t_calloc, free));
    for (budget = 0; !oom_run(budget); budget++)
        ASSERT(budget < 10000);
    ASSERT(budget > 10); /* the runs did fail on the way */
    ASSERT_OK(cnet_replace_allocator(malloc, realloc, calloc, free));
}

int main(void)
{
    test_watchdog(60);
    ASSERT(mkdtemp(dir) != NULL);
    tls_pki_make(&pki);
    test_arguments();
    test_files();
    test_settings();
    test_threads();
    test_cert_parse();
    test_oom();
    tls_pki_free(&pki);
    rmdir(dir);
    return 0;
}
