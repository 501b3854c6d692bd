/*
 * The TLS engine (src/tls/engine.c), a client and a server driven against
 * each other in memory (tests/tls_pair.h) with certificates made for the run
 * (tests/tls_fixtures.h): the handshake and what it negotiates, every
 * verification failure with node's code and message, client certificates,
 * SNI, ALPN, session reuse, TLS 1.2 and 1.3, close_notify both ways, a peer
 * that does not speak TLS, renegotiation refused, OpenSSL's error queue kept
 * empty, and 64 MiB through small buffers. The codes and messages expected
 * here are the ones node v20 gives for the same situations.
 */
#include "tls_fixtures.h"
#include "tls_pair.h"

static tls_pki_t pki;

/* Contexts every case needs. */
static cnet_tls_context_t *server_ctx; /* server chain (leaf + intermediate) */
static cnet_tls_context_t *client_ctx; /* trusts the root */

static cnet_tls_context_t *ctx_with(const char *key, const char *cert, const char *ca,
                                    void (*tweak)(cnet_tls_context_opts_t *))
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    if (tweak)
        tweak(&o);
    return tls_ctx(key, cert, ca, &o);
}

static void max12(cnet_tls_context_opts_t *o)
{
    o->max_version = CNET_TLSV1_2;
}

static void min13(cnet_tls_context_opts_t *o)
{
    o->min_version = CNET_TLSV1_3;
}

static void no_reject(cnet_tls_context_opts_t *o)
{
    o->reject_unauthorized = CNET_TLS_OFF;
}

static void request_cert(cnet_tls_context_opts_t *o)
{
    o->request_cert = true;
}

static void request_cert_no_reject(cnet_tls_context_opts_t *o)
{
    o->request_cert = true;
    o->reject_unauthorized = CNET_TLS_OFF;
}

static void no_tickets(cnet_tls_context_opts_t *o)
{
    o->session_tickets = CNET_TLS_OFF;
}

/* Opens a pair with servername "localhost" (unless @p copts says otherwise) and pumps. */
static void run_pair(tls_pair_t *p, cnet_tls_context_t *cctx, cnet__tls_engine_opts_t *copts,
                     cnet_tls_context_t *sctx, cnet__tls_engine_opts_t *sopts)
{
    cnet__tls_engine_opts_t co = {0};
    if (copts)
        co = *copts;
    else
        co.servername = "localhost";
    tls_pair_open(p, cctx, &co, sctx, sopts);
    tls_pump(p);
}

static void expect_established(tls_pair_t *p)
{
    ASSERT(cnet__tls_engine_is_established(p->c.e));
    ASSERT(cnet__tls_engine_is_established(p->s.e));
    ASSERT_EQ(1, p->c.secure_count);
    ASSERT_EQ(1, p->s.secure_count);
    ASSERT_EQ(CNET__TLS_WANT_INPUT, p->c.status);
    ASSERT_EQ(CNET__TLS_WANT_INPUT, p->s.status);
}

/* The side failed with @p code; its error says so as node would. */
static void expect_failed(tls_side_t *side, int code, const char *message)
{
    if (side->status != code)
        TEST_FAIL_("expected %s, got %d %s (%s)", cnet_err_name(code), side->status,
                   cnet_err_name(side->status),
                   cnet__tls_engine_error(side->e) ? cnet__tls_engine_error(side->e)->message
                                                   : "-");
    const cnet__tls_error_t *err = cnet__tls_engine_error(side->e);
    ASSERT(err != NULL);
    ASSERT_EQ(code, err->code);
    ASSERT_STR_EQ(cnet_err_name(code), err->name);
    if (message)
        ASSERT_STR_EQ(message, err->message);
    ASSERT(!cnet__tls_engine_is_established(side->e));
    ASSERT_EQ(0, side->events & CNET__TLS_EV_SECURE);
}

/* Both directions carry data once established. */
static void expect_data_flows(tls_pair_t *p)
{
    ASSERT_OK(cnet__tls_engine_write(p->c.e, "ping", 4));
    tls_pump(p);
    ASSERT_EQ(4, p->s.len);
    ASSERT_MEM_EQ("ping", p->s.data, 4);
    ASSERT_OK(cnet__tls_engine_write(p->s.e, "pong!", 5));
    tls_pump(p);
    ASSERT_EQ(5, p->c.len);
    ASSERT_MEM_EQ("pong!", p->c.data, 5);
}

static void test_handshake(void)
{
    tls_pair_t p = {0};
    const char *name, *std, *version;

    test_set_phase("handshake: TLS 1.3 by default, verified, data both ways");
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    ASSERT_EQ(0, cnet__tls_engine_authorization_error(p.c.e));
    /* A server that did not ask for a certificate: authorized false, no error (node). */
    ASSERT(!cnet__tls_engine_authorized(p.s.e));
    ASSERT_EQ(0, cnet__tls_engine_authorization_error(p.s.e));
    ASSERT_STR_EQ("TLSv1.3", cnet__tls_engine_protocol(p.c.e));
    ASSERT_STR_EQ("TLSv1.3", cnet__tls_engine_protocol(p.s.e));
    ASSERT_OK(cnet__tls_engine_cipher(p.c.e, &name, &std, &version));
    ASSERT_STR_EQ("TLS_AES_256_GCM_SHA384", name);
    ASSERT_STR_EQ("TLS_AES_256_GCM_SHA384", std);
    ASSERT_STR_EQ("TLSv1.3", version);
    ASSERT(cnet__tls_engine_alpn_protocol(p.c.e) == NULL);
    ASSERT(!cnet__tls_engine_session_reused(p.c.e));
    ASSERT_STR_EQ("localhost", cnet__tls_engine_servername(p.c.e));
    ASSERT_STR_EQ("localhost", cnet__tls_engine_servername(p.s.e));
    expect_data_flows(&p);
    tls_pair_close(&p);

    test_set_phase("handshake: nothing before the handshake");
    cnet__tls_engine_opts_t co = {0};
    cnet__tls_engine_t *e;
    ASSERT_OK(cnet__tls_engine_new(client_ctx, &co, &e));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet__tls_engine_write(e, "x", 1));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet__tls_engine_shutdown(e));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet__tls_engine_cipher(e, &name, NULL, NULL));
    ASSERT(cnet__tls_engine_protocol(e) == NULL);
    ASSERT(cnet__tls_engine_servername(e) == NULL);
    cnet__tls_engine_free(e);
}

static void test_tls12(void)
{
    tls_pair_t p = {0};
    const char *name;
    cnet_tls_context_t *c12 = ctx_with(NULL, NULL, pki.ca_cert, max12);

    test_set_phase("TLS 1.2: client limited to 1.2");
    run_pair(&p, c12, NULL, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    ASSERT_STR_EQ("TLSv1.2", cnet__tls_engine_protocol(p.c.e));
    ASSERT_STR_EQ("TLSv1.2", cnet__tls_engine_protocol(p.s.e));
    ASSERT_OK(cnet__tls_engine_cipher(p.s.e, &name, NULL, NULL));
    ASSERT_STR_EQ("ECDHE-ECDSA-AES128-GCM-SHA256", name); /* node's DEFAULT_CIPHERS order */
    expect_data_flows(&p);
    tls_pair_close(&p);

    test_set_phase("TLS 1.2 client against a 1.3-only server");
    cnet_tls_context_t *s13 = ctx_with(pki.server_key, pki.server_chain, NULL, min13);
    run_pair(&p, c12, NULL, s13, NULL);
    expect_failed(&p.s, CNET_ERR_SSL_UNSUPPORTED_PROTOCOL, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION,
                  "error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol "
                  "version:SSL alert number 70");
    tls_pair_close(&p);
    cnet_tls_context_release(s13);
    cnet_tls_context_release(c12);
}

/* OpenSSL 3 allows TLS 1.1 at security level 0 only. */
static void tls11_only(cnet_tls_context_opts_t *o)
{
    o->min_version = o->max_version = CNET_TLSV1_1;
    o->ciphers = "DEFAULT:@SECLEVEL=0";
}

static void tls11_allowed(cnet_tls_context_opts_t *o)
{
    o->min_version = CNET_TLSV1_1;
    o->ciphers = "DEFAULT:@SECLEVEL=0";
}

/* docs/security.md: TLS 1.2 is the default minimum of servers and clients; compression is off. */
static void test_minimum_version(void)
{
    tls_pair_t p = {0};
    cnet_tls_context_t *c11 = ctx_with(NULL, NULL, pki.ca_cert, tls11_only);
    cnet_tls_context_t *s11 = ctx_with(pki.server_key, pki.server_chain, NULL, tls11_only);
    cnet_tls_context_t *s11ok = ctx_with(pki.server_key, pki.server_chain, NULL, tls11_allowed);

    test_set_phase("minimum version: a TLS 1.1 client is refused by a default server");
    run_pair(&p, c11, NULL, server_ctx, NULL);
    expect_failed(&p.s, CNET_ERR_SSL_UNSUPPORTED_PROTOCOL, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION, NULL);
    tls_pair_close(&p);

    /* A default client offers 1.2 and 1.3 only, so a 1.1 server finds nothing in common. */
    test_set_phase("minimum version: a default client and a TLS 1.1 server");
    run_pair(&p, client_ctx, NULL, s11, NULL);
    ASSERT_EQ(TLS1_2_VERSION, SSL_get_min_proto_version(cnet__tls_engine_ssl(p.c.e)));
    expect_failed(&p.s, CNET_ERR_SSL_UNSUPPORTED_PROTOCOL, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION, NULL);
    tls_pair_close(&p);

    /* The same peer gets in once the server lowers its minimum: the default refused it. */
    test_set_phase("minimum version: a server that allows TLS 1.1 takes that client");
    run_pair(&p, c11, NULL, s11ok, NULL);
    expect_established(&p);
    ASSERT_STR_EQ("TLSv1.1", cnet__tls_engine_protocol(p.s.e));
    tls_pair_close(&p);

    test_set_phase("compression: never negotiated");
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    expect_established(&p);
    ASSERT(SSL_get_current_compression(cnet__tls_engine_ssl(p.c.e)) == NULL);
    ASSERT(SSL_get_current_compression(cnet__tls_engine_ssl(p.s.e)) == NULL);
    tls_pair_close(&p);
    cnet_tls_context_release(s11ok);
    cnet_tls_context_release(s11);
    cnet_tls_context_release(c11);
}

/* A client trusting @p ca (the root when NULL) fails against a server of @p key/@p chain. */
static void expect_verify_failure(const char *phase, const char *key, const char *chain,
                                  const char *ca, const char *server_ca, int code,
                                  const char *message)
{
    tls_pair_t p = {0};
    test_set_phase(phase);
    cnet_tls_context_t *sctx = ctx_with(key, chain, server_ca, NULL);
    cnet_tls_context_t *cctx = ctx_with(NULL, NULL, ca ? ca : pki.ca_cert, NULL);
    run_pair(&p, cctx, NULL, sctx, NULL);
    expect_failed(&p.c, code, message);
    ASSERT(!cnet__tls_engine_authorized(p.c.e));
    ASSERT_EQ(code, cnet__tls_engine_authorization_error(p.c.e));
    /* The server finished its side: the client only refuses afterwards (node). */
    ASSERT(cnet__tls_engine_is_established(p.s.e));
    tls_pair_close(&p);

    /* rejectUnauthorized false: connected, authorized false, the same reason. */
    cnet_tls_context_t *lax = ctx_with(NULL, NULL, ca ? ca : pki.ca_cert, no_reject);
    run_pair(&p, lax, NULL, sctx, NULL);
    expect_established(&p);
    ASSERT(!cnet__tls_engine_authorized(p.c.e));
    ASSERT_EQ(code, cnet__tls_engine_authorization_error(p.c.e));
    expect_data_flows(&p);
    tls_pair_close(&p);
    cnet_tls_context_release(lax);
    cnet_tls_context_release(cctx);
    cnet_tls_context_release(sctx);
}

static void test_verify_failures(void)
{
    char *inter_and_root = tls_concat(pki.inter_cert, pki.ca_cert);
    expect_verify_failure("verify: self-signed", pki.selfsigned_key, pki.selfsigned_cert, NULL,
                          NULL, CNET_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate");
    expect_verify_failure("verify: unknown CA (chain without its root)", pki.server_key,
                          pki.server_chain, pki.selfsigned_cert, NULL,
                          CNET_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                          "unable to get local issuer certificate");
    /* A server with no chain of its own but the CAs: the chain OpenSSL builds holds the root. */
    expect_verify_failure("verify: untrusted root in the chain", pki.server_key, pki.server_cert,
                          pki.selfsigned_cert, inter_and_root, CNET_SELF_SIGNED_CERT_IN_CHAIN,
                          "self-signed certificate in certificate chain");
    expect_verify_failure("verify: leaf without its intermediate", pki.server_key, pki.server_cert,
                          NULL, NULL, CNET_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
                          "unable to verify the first certificate");
    expect_verify_failure("verify: expired", pki.leaf_key, pki.expired_chain, NULL, NULL,
                          CNET_CERT_HAS_EXPIRED, "certificate has expired");
    expect_verify_failure("verify: not yet valid", pki.leaf_key, pki.notyet_chain, NULL, NULL,
                          CNET_CERT_NOT_YET_VALID, "certificate is not yet valid");
    expect_verify_failure("verify: wrong host", pki.leaf_key, pki.wronghost_chain, NULL, NULL,
                          CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                          "Hostname/IP does not match certificate's altnames: Host: localhost. "
                          "is not in the cert's altnames: DNS:wrong.example.org");
    free(inter_and_root);
}

static void test_wrong_host_details(void)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t co = {0};

    test_set_phase("wrong host: reason and host as node's error carries them");
    co.servername = "nothere.example.org";
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    const cnet__tls_error_t *err = cnet__tls_engine_error(p.c.e);
    ASSERT_EQ(CNET_ERR_TLS_CERT_ALTNAME_INVALID, p.c.status);
    ASSERT_STR_EQ("Host: nothere.example.org. is not in the cert's altnames: DNS:localhost, "
                  "DNS:*.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
                  err->reason);
    ASSERT_STR_EQ("nothere.example.org", err->host);
    tls_pair_close(&p);

    test_set_phase("wildcard host matches");
    co.servername = "www.example.com";
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    tls_pair_close(&p);

    test_set_phase("no servername, no host: checked as localhost (node's default)");
    memset(&co, 0, sizeof co);
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    ASSERT(cnet__tls_engine_servername(p.s.e) == NULL); /* no SNI sent */
    tls_pair_close(&p);
}

static void test_ip_san(void)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t co = {0};

    test_set_phase("IP SAN: 127.0.0.1 matches, and no SNI is sent for an IP");
    co.servername = "127.0.0.1";
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    ASSERT(cnet__tls_engine_servername(p.s.e) == NULL);
    ASSERT(cnet__tls_engine_servername(p.c.e) == NULL);
    tls_pair_close(&p);

    test_set_phase("IP SAN: ::1 matches (host, no servername)");
    memset(&co, 0, sizeof co);
    co.host = "::1";
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    tls_pair_close(&p);

    test_set_phase("IP SAN: another address does not, and DNS names do not count");
    co.host = "127.0.0.2";
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_failed(&p.c, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                  "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in "
                  "the cert's list: 127.0.0.1, ::1");
    tls_pair_close(&p);
}

static void test_crl(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    tls_pair_t p = {0};

    test_set_phase("CRL: a revoked certificate");
    o.crl = pki.crl;
    cnet_tls_context_t *cctx = tls_ctx(NULL, NULL, pki.ca_cert, &o);
    cnet_tls_context_t *revoked = ctx_with(pki.leaf_key, pki.revoked_chain, NULL, NULL);
    run_pair(&p, cctx, NULL, revoked, NULL);
    expect_failed(&p.c, CNET_CERT_REVOKED, "certificate revoked");
    tls_pair_close(&p);

    test_set_phase("CRL: a certificate not listed passes");
    run_pair(&p, cctx, NULL, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    tls_pair_close(&p);
    cnet_tls_context_release(revoked);
    cnet_tls_context_release(cctx);
}

static void test_client_certs(void)
{
    tls_pair_t p = {0};
    cnet_tls_context_t *with_cert = ctx_with(pki.client_key, pki.client_cert, pki.ca_cert, NULL);
    cnet_tls_context_t *self_cert =
        ctx_with(pki.selfsigned_key, pki.selfsigned_cert, pki.ca_cert, NULL);
    cnet_tls_context_t *strict =
        ctx_with(pki.server_key, pki.server_chain, pki.ca_cert, request_cert);
    cnet_tls_context_t *lax =
        ctx_with(pki.server_key, pki.server_chain, pki.ca_cert, request_cert_no_reject);
    cnet_tls_context_t *c12 = ctx_with(NULL, NULL, pki.ca_cert, max12);
    const cnet_tls_cert_t *peer;

    test_set_phase("client certificate: requested and valid");
    run_pair(&p, with_cert, NULL, strict, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_authorized(p.s.e));
    ASSERT_EQ(0, cnet__tls_engine_authorization_error(p.s.e));
    ASSERT_OK(cnet__tls_engine_peer_cert(p.s.e, false, &peer));
    ASSERT(peer != NULL);
    ASSERT_STR_EQ("client", cnet_tls_name_get(&peer->subject, "CN"));
    cnet_tls_cert_free(peer);
    expect_data_flows(&p);
    tls_pair_close(&p);

    test_set_phase("client certificate: required, none sent (TLS 1.3)");
    run_pair(&p, client_ctx, NULL, strict, NULL);
    expect_failed(&p.s, CNET_ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE,
                  "error:0A0000C7:SSL routines:tls_process_client_certificate:peer did not "
                  "return a certificate");
    /* The TLS 1.3 client was done first, then learns of the alert. */
    ASSERT_EQ(1, p.c.secure_count);
    ASSERT_EQ(CNET_ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, p.c.status);
    tls_pair_close(&p);

    test_set_phase("client certificate: required, none sent (TLS 1.2)");
    run_pair(&p, c12, NULL, strict, NULL);
    expect_failed(&p.s, CNET_ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, NULL);
    tls_pair_close(&p);

    test_set_phase("client certificate: requested, none sent, not required");
    run_pair(&p, client_ctx, NULL, lax, NULL);
    expect_established(&p);
    ASSERT(!cnet__tls_engine_authorized(p.s.e));
    ASSERT_EQ(CNET_UNABLE_TO_GET_ISSUER_CERT, cnet__tls_engine_authorization_error(p.s.e));
    ASSERT_OK(cnet__tls_engine_peer_cert(p.s.e, true, &peer));
    ASSERT(peer == NULL);
    tls_pair_close(&p);

    test_set_phase("client certificate: self-signed, rejected");
    run_pair(&p, self_cert, NULL, strict, NULL);
    expect_failed(&p.s, CNET_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate");
    ASSERT_EQ(CNET_DEPTH_ZERO_SELF_SIGNED_CERT, cnet__tls_engine_authorization_error(p.s.e));
    tls_pair_close(&p);

    test_set_phase("client certificate: self-signed, not rejected");
    run_pair(&p, self_cert, NULL, lax, NULL);
    expect_established(&p);
    ASSERT(!cnet__tls_engine_authorized(p.s.e));
    ASSERT_EQ(CNET_DEPTH_ZERO_SELF_SIGNED_CERT, cnet__tls_engine_authorization_error(p.s.e));
    tls_pair_close(&p);

    test_set_phase("client certificate: the engine's options override the context's");
    cnet__tls_engine_opts_t so = {0};
    so.request_cert = CNET_TLS_ON;
    so.reject_unauthorized = CNET_TLS_OFF;
    run_pair(&p, self_cert, NULL, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(CNET_DEPTH_ZERO_SELF_SIGNED_CERT, cnet__tls_engine_authorization_error(p.s.e));
    tls_pair_close(&p);

    cnet_tls_context_release(c12);
    cnet_tls_context_release(lax);
    cnet_tls_context_release(strict);
    cnet_tls_context_release(self_cert);
    cnet_tls_context_release(with_cert);
}

/* ---- SNI ------------------------------------------------------------------------ */

static cnet_tls_context_t *sni_ctx;
static int sni_calls;
static char sni_seen[256];
static int sni_mode; /* 0: switch now, 1: pause, 2: fail */

static int on_sni(void *arg, cnet__tls_engine_t *e, const char *servername)
{
    sni_calls++;
    snprintf(sni_seen, sizeof sni_seen, "%s", servername);
    if (sni_mode == 1)
        return CNET__TLS_PAUSED;
    if (sni_mode == 2)
        return CNET_ECONNRESET;
    if (strcmp(servername, "sni.example.com") == 0)
        ASSERT_OK(cnet__tls_engine_use_context(e, sni_ctx));
    return 0;
}

static void test_sni(void)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t co = {0}, so = {0};
    const cnet_tls_cert_t *peer;

    sni_ctx = ctx_with(pki.leaf_key, pki.sni_chain, NULL, NULL);
    so.sni = on_sni;

    test_set_phase("SNI: the hook switches the certificate");
    co.servername = "sni.example.com";
    sni_mode = 0;
    sni_calls = 0;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(1, sni_calls);
    ASSERT_STR_EQ("sni.example.com", sni_seen);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    ASSERT_STR_EQ("sni.example.com", cnet__tls_engine_servername(p.s.e));
    ASSERT_OK(cnet__tls_engine_peer_cert(p.c.e, false, &peer));
    ASSERT_STR_EQ("DNS:sni.example.com", peer->subjectaltname);
    cnet_tls_cert_free(peer);
    tls_pair_close(&p);

    test_set_phase("SNI: other names keep the default certificate");
    co.servername = "localhost";
    sni_calls = 0;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(1, sni_calls);
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    tls_pair_close(&p);

    test_set_phase("SNI: the hook answers later");
    co.servername = "sni.example.com";
    sni_mode = 1;
    sni_calls = 0;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    ASSERT_EQ(1, sni_calls);
    ASSERT_EQ(CNET__TLS_PAUSED, p.s.status);
    ASSERT(!cnet__tls_engine_is_established(p.c.e));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet__tls_engine_sni_done(p.c.e, NULL));
    ASSERT_OK(cnet__tls_engine_sni_done(p.s.e, sni_ctx));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet__tls_engine_sni_done(p.s.e, NULL));
    tls_pump(&p);
    expect_established(&p);
    ASSERT_EQ(1, sni_calls);
    ASSERT(cnet__tls_engine_authorized(p.c.e)); /* the SNI certificate was served */
    expect_data_flows(&p);
    tls_pair_close(&p);

    test_set_phase("SNI: the hook fails the handshake");
    sni_mode = 2;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_failed(&p.s, CNET_ECONNRESET, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR, NULL);
    tls_pair_close(&p);

    test_set_phase("SNI: not called without a servername (an IP)");
    sni_mode = 0;
    sni_calls = 0;
    co.servername = "127.0.0.1";
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(0, sni_calls);
    tls_pair_close(&p);

    test_set_phase("SNI: a client cannot choose a server context");
    cnet__tls_engine_t *e;
    ASSERT_OK(cnet__tls_engine_new(client_ctx, &co, &e));
    ASSERT_ERR(CNET_ERR_TLS_SNI_FROM_SERVER, cnet__tls_engine_use_context(e, sni_ctx));
    cnet__tls_engine_free(e);
    cnet_tls_context_release(sni_ctx);
}

/* ---- ALPN ----------------------------------------------------------------------- */

static int alpn_pick; /* index to return */
static size_t alpn_offered;

static int on_alpn(void *arg, cnet__tls_engine_t *e, const char *const *names, size_t count)
{
    alpn_offered = count;
    ASSERT_STR_EQ("http/1.1", names[0]);
    ASSERT_STR_EQ("h2", names[1]);
    return alpn_pick;
}

static void test_alpn(void)
{
    static const char *const server_list[] = {"h2", "http/1.1", NULL};
    static const char *const http11[] = {"http/1.1", NULL};
    static const char *const client_pref[] = {"http/1.1", "h2", NULL};
    static const char *const h3[] = {"h3", NULL};
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet__tls_engine_opts_t co = {0}, so = {0};
    tls_pair_t p = {0};

    o.alpn_protocols = server_list;
    cnet_tls_context_t *sctx = tls_ctx(pki.server_key, pki.server_chain, NULL, &o);
    co.servername = "localhost";

    test_set_phase("ALPN: the one protocol both know");
    co.alpn_protocols = http11;
    run_pair(&p, client_ctx, &co, sctx, NULL);
    expect_established(&p);
    ASSERT_STR_EQ("http/1.1", cnet__tls_engine_alpn_protocol(p.c.e));
    ASSERT_STR_EQ("http/1.1", cnet__tls_engine_alpn_protocol(p.s.e));
    tls_pair_close(&p);

    test_set_phase("ALPN: the server's order decides");
    co.alpn_protocols = client_pref;
    run_pair(&p, client_ctx, &co, sctx, NULL);
    expect_established(&p);
    ASSERT_STR_EQ("h2", cnet__tls_engine_alpn_protocol(p.c.e));
    tls_pair_close(&p);

    test_set_phase("ALPN: no common protocol is fatal (RFC 7301, node)");
    co.alpn_protocols = h3;
    run_pair(&p, client_ctx, &co, sctx, NULL);
    expect_failed(&p.s, CNET_ERR_SSL_NO_APPLICATION_PROTOCOL, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, NULL);
    tls_pair_close(&p);

    test_set_phase("ALPN: a server without a list ignores the offer");
    co.alpn_protocols = client_pref;
    run_pair(&p, client_ctx, &co, server_ctx, NULL);
    expect_established(&p);
    ASSERT(cnet__tls_engine_alpn_protocol(p.c.e) == NULL);
    ASSERT(cnet__tls_engine_alpn_protocol(p.s.e) == NULL);
    tls_pair_close(&p);

    test_set_phase("ALPN: the server's callback chooses");
    so.alpn = on_alpn;
    alpn_pick = 1;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(2, alpn_offered);
    ASSERT_STR_EQ("h2", cnet__tls_engine_alpn_protocol(p.c.e));
    tls_pair_close(&p);

    test_set_phase("ALPN: the callback refuses them all");
    alpn_pick = -1;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_failed(&p.s, CNET_ERR_SSL_NO_APPLICATION_PROTOCOL, NULL);
    expect_failed(&p.c, CNET_ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, NULL);
    tls_pair_close(&p);

    test_set_phase("ALPN: the callback answers outside the list");
    alpn_pick = 7;
    run_pair(&p, client_ctx, &co, server_ctx, &so);
    expect_failed(&p.s, CNET_ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, NULL);
    tls_pair_close(&p);

    test_set_phase("ALPN: an engine's list replaces the context's");
    memset(&so, 0, sizeof so);
    so.alpn_protocols = http11;
    co.alpn_protocols = client_pref;
    run_pair(&p, client_ctx, &co, sctx, &so);
    expect_established(&p);
    ASSERT_STR_EQ("http/1.1", cnet__tls_engine_alpn_protocol(p.s.e));
    tls_pair_close(&p);
    cnet_tls_context_release(sctx);
}

/* ---- sessions ------------------------------------------------------------------- */

/* A first connection, then a second one offering its session. */
static void expect_resumption(const char *phase, cnet_tls_context_t *cctx, cnet_tls_context_t *sctx,
                              int expect_sessions, bool expect_reused)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t co = {0};
    unsigned char *session = NULL, *current = NULL;
    size_t session_len = 0, current_len = 0;

    test_set_phase(phase);
    co.servername = "localhost";
    run_pair(&p, cctx, &co, sctx, NULL);
    expect_established(&p);
    ASSERT(!cnet__tls_engine_session_reused(p.c.e));
    ASSERT_OK(cnet__tls_engine_get_session(p.c.e, true, &session, &session_len));
    ASSERT_OK(cnet__tls_engine_get_session(p.c.e, false, &current, &current_len));
    ASSERT(current != NULL && current_len > 0);    /* getSession() */
    ASSERT_EQ(expect_sessions, p.c.session_count); /* 'session' events */
    ASSERT_EQ(expect_sessions > 0, session != NULL && session_len > 0);
    tls_pair_close(&p);

    co.session = session ? session : current;
    co.session_len = session ? session_len : current_len;
    run_pair(&p, cctx, &co, sctx, NULL);
    expect_established(&p);
    ASSERT_EQ(expect_reused, cnet__tls_engine_session_reused(p.c.e));
    ASSERT_EQ(expect_reused, cnet__tls_engine_session_reused(p.s.e));
    ASSERT(cnet__tls_engine_authorized(p.c.e));
    expect_data_flows(&p);
    tls_pair_close(&p);
    cnet__free(session);
    cnet__free(current);
}

static void test_sessions(void)
{
    cnet_tls_context_t *c12 = ctx_with(NULL, NULL, pki.ca_cert, max12);
    cnet_tls_context_t *s_no_tickets = ctx_with(pki.server_key, pki.server_chain, NULL, no_tickets);
    cnet__tls_engine_opts_t co = {0};
    cnet__tls_engine_t *e;

    /* TLS 1.3: OpenSSL's server sends two tickets after the handshake. */
    expect_resumption("sessions: TLS 1.3 ticket", client_ctx, server_ctx, 2, true);
    expect_resumption("sessions: TLS 1.2 ticket", c12, server_ctx, 1, true);
    expect_resumption("sessions: no tickets, no resumption (1.3)", client_ctx, s_no_tickets, 0,
                      false);
    /* TLS 1.2 still makes a session id, which only a server-side cache could resume (node:
     * its 'newSession' / 'resumeSession' events; cnet has none). */
    expect_resumption("sessions: no tickets, no resumption (1.2)", c12, s_no_tickets, 1, false);

    test_set_phase("sessions: a malformed session is refused");
    co.session = "garbage";
    co.session_len = 7;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__tls_engine_new(client_ctx, &co, &e));
    ASSERT(e == NULL);
    ASSERT_EQ(0, ERR_peek_error());
    cnet_tls_context_release(s_no_tickets);
    cnet_tls_context_release(c12);
}

/* ---- shutdown ------------------------------------------------------------------- */

static void test_close_notify(void)
{
    tls_pair_t p = {0};

    test_set_phase("close_notify: client first; the server may still write (half-open)");
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    expect_established(&p);
    ASSERT_OK(cnet__tls_engine_write(p.c.e, "last", 4));
    ASSERT_OK(cnet__tls_engine_shutdown(p.c.e));
    ASSERT_OK(cnet__tls_engine_shutdown(p.c.e)); /* idempotent */
    ASSERT_ERR(CNET_EPIPE, cnet__tls_engine_write(p.c.e, "x", 1));
    tls_pump(&p);
    ASSERT_EQ(CNET_EOF, p.s.status);
    ASSERT_EQ(4, p.s.len); /* everything before the close_notify */
    ASSERT_OK(cnet__tls_engine_write(p.s.e, "reply", 5));
    tls_pump(&p);
    ASSERT_EQ(5, p.c.len);
    ASSERT_OK(cnet__tls_engine_shutdown(p.s.e));
    tls_pump(&p);
    ASSERT_EQ(CNET_EOF, p.c.status);
    tls_pair_close(&p);

    test_set_phase("close_notify: server first");
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    ASSERT_OK(cnet__tls_engine_shutdown(p.s.e));
    tls_pump(&p);
    ASSERT_EQ(CNET_EOF, p.c.status);
    ASSERT_EQ(CNET__TLS_WANT_INPUT, p.s.status);
    ASSERT_OK(cnet__tls_engine_shutdown(p.c.e));
    tls_pump(&p);
    ASSERT_EQ(CNET_EOF, p.s.status);
    tls_pair_close(&p);
}

/* ---- peers that do not speak TLS -------------------------------------------------- */

static void expect_plaintext_refused(const char *text, int code, const char *message)
{
    cnet__tls_engine_opts_t so = {0};
    cnet__tls_engine_t *e;
    char buf[64];
    size_t n;

    so.is_server = true;
    ASSERT_OK(cnet__tls_engine_new(server_ctx, &so, &e));
    ASSERT_OK(cnet__tls_engine_feed(e, text, strlen(text)));
    ASSERT_ERR(code, cnet__tls_engine_read(e, buf, sizeof buf, &n));
    ASSERT_EQ(0, n);
    ASSERT_EQ(0, ERR_peek_error());
    const cnet__tls_error_t *err = cnet__tls_engine_error(e);
    ASSERT(err != NULL);
    ASSERT_STR_EQ(cnet_err_name(code), err->name);
    ASSERT_STR_EQ(message, err->message);
    ASSERT_STR_EQ("SSL routines", err->library);
    /* It stays failed. */
    ASSERT_ERR(code, cnet__tls_engine_read(e, buf, sizeof buf, &n));
    ASSERT_ERR(CNET_EPIPE, cnet__tls_engine_write(e, "x", 1));
    cnet__tls_engine_free(e);
}

static void test_wrong_version(void)
{
    test_set_phase("plaintext to a server: wrong version number");
    expect_plaintext_refused("hello world\n", CNET_ERR_SSL_WRONG_VERSION_NUMBER,
                             "error:0A00010B:SSL routines:ssl3_get_record:wrong version number");
    test_set_phase("an HTTP request to a server");
    expect_plaintext_refused("GET / HTTP/1.1\r\nHost: x\r\n\r\n", CNET_ERR_SSL_HTTP_REQUEST,
                             "error:0A00009C:SSL routines:ssl3_get_record:http request");

    test_set_phase("a plaintext answer to a client");
    cnet__tls_engine_opts_t co = {0};
    cnet__tls_engine_t *e;
    char buf[4096];
    size_t n;
    ASSERT_OK(cnet__tls_engine_new(client_ctx, &co, &e));
    ASSERT_EQ(CNET__TLS_WANT_INPUT, cnet__tls_engine_handshake(e));
    ASSERT(cnet__tls_engine_pull(e, buf, sizeof buf) > 0);
    ASSERT_OK(cnet__tls_engine_feed(e, "HTTP/1.1 400 Bad Request\r\n\r\n", 28));
    ASSERT_ERR(CNET_ERR_SSL_WRONG_VERSION_NUMBER, cnet__tls_engine_handshake(e));
    ASSERT_ERR(CNET_ERR_SSL_WRONG_VERSION_NUMBER, cnet__tls_engine_read(e, buf, sizeof buf, &n));
    cnet__tls_engine_free(e);
}

/* ---- renegotiation ---------------------------------------------------------------- */

static void test_renegotiation(void)
{
    cnet_tls_context_t *c12 = ctx_with(NULL, NULL, pki.ca_cert, max12);
    tls_pair_t p = {0};

    test_set_phase("renegotiation: a client's request is refused, the server carries on");
    run_pair(&p, c12, NULL, server_ctx, NULL);
    expect_established(&p);
    /* cnet never renegotiates; play a peer that does, through OpenSSL itself. */
    SSL *ssl = cnet__tls_engine_ssl(p.c.e);
    SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
    ASSERT_EQ(1, SSL_renegotiate(ssl));
    ASSERT(SSL_do_handshake(ssl) <= 0); /* writes the new ClientHello */
    ERR_clear_error();
    /* The server answers it with a no_renegotiation warning and stays up... */
    tls_move(&p, &p.c, &p.s);
    ASSERT_EQ(CNET__TLS_WANT_INPUT, p.s.status);
    ASSERT(cnet__tls_engine_pending(p.s.e) > 0);
    ASSERT_OK(cnet__tls_engine_write(p.s.e, "still", 5));
    /* ...and the client, refused, gives up with a fatal alert. */
    tls_pump(&p);
    ASSERT_EQ(CNET_ERR_SSL_NO_RENEGOTIATION, p.c.status);
    ASSERT_EQ(CNET_ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, p.s.status);
    ASSERT_EQ(1, p.s.secure_count); /* no second handshake */
    tls_pair_close(&p);

    test_set_phase("renegotiation: a server's request is refused by our client");
    run_pair(&p, c12, NULL, server_ctx, NULL);
    ssl = cnet__tls_engine_ssl(p.s.e);
    SSL_clear_options(ssl, SSL_OP_NO_RENEGOTIATION);
    ASSERT_EQ(1, SSL_renegotiate(ssl));
    SSL_do_handshake(ssl); /* sends a HelloRequest */
    ERR_clear_error();
    tls_pump(&p);
    /* Our client answers no_renegotiation; a server that insists then gives up. */
    ASSERT_EQ(CNET_ERR_SSL_NO_RENEGOTIATION, p.s.status);
    ASSERT_EQ(CNET_ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, p.c.status);
    ASSERT_EQ(1, p.c.secure_count);
    tls_pair_close(&p);
    cnet_tls_context_release(c12);
}

/* ---- OpenSSL's error queue ------------------------------------------------------ */

static void test_error_queue(void)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t so = {0};
    cnet__tls_engine_t *bad;
    char buf[64];
    size_t n;

    test_set_phase("error queue: one engine's failure does not reach another");
    so.is_server = true;
    ASSERT_OK(cnet__tls_engine_new(server_ctx, &so, &bad));
    ASSERT_OK(cnet__tls_engine_feed(bad, "nonsense", 8));
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    ASSERT_ERR(CNET_ERR_SSL_WRONG_VERSION_NUMBER, cnet__tls_engine_read(bad, buf, sizeof buf, &n));
    ASSERT_EQ(0, ERR_peek_error());
    expect_established(&p);
    expect_data_flows(&p);

    test_set_phase("error queue: stale errors of the caller do not fail a call");
    ERR_raise(ERR_LIB_SSL, SSL_R_WRONG_VERSION_NUMBER);
    ASSERT_OK(cnet__tls_engine_write(p.c.e, "x", 1));
    ASSERT_EQ(0, ERR_peek_error());
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    tls_pump(&p);          /* tls_pump asserts an empty queue after every read */
    ASSERT_EQ(5, p.s.len); /* "ping" and "x" */
    cnet__tls_engine_free(bad);
    tls_pair_close(&p);

    /* fuzz_tls_server (corpus/tls_server/crash-empty-feed): an empty feed into an engine
     * that holds no buffer yet was NULL + 0 and memcpy(NULL, .., 0) (UBSan). */
    test_set_phase("empty feeds: nothing happens, before and after the first bytes");
    ASSERT_OK(cnet__tls_engine_new(server_ctx, &so, &bad));
    ASSERT_OK(cnet__tls_engine_feed(bad, NULL, 0));
    ASSERT_OK(cnet__tls_engine_feed(bad, "", 0));
    ASSERT_OK(cnet__tls_engine_feed_lent(bad, NULL, 0));
    ASSERT_OK(cnet__tls_engine_settle(bad));
    ASSERT_EQ(CNET__TLS_WANT_INPUT, cnet__tls_engine_read(bad, buf, sizeof buf, &n));
    ASSERT_EQ(0, cnet__tls_engine_pending(bad));
    ASSERT_OK(cnet__tls_engine_feed(bad, "\x16\x03\x01", 3));
    ASSERT_OK(cnet__tls_engine_feed(bad, NULL, 0));
    ASSERT_EQ(CNET__TLS_WANT_INPUT, cnet__tls_engine_read(bad, buf, sizeof buf, &n));
    ASSERT_EQ(0, ERR_peek_error());
    cnet__tls_engine_free(bad);
}

/* ---- keylog ---------------------------------------------------------------------- */

static int keylog_lines;
static void on_keylog(void *arg, cnet__tls_engine_t *e, const char *line)
{
    keylog_lines++;
    ASSERT(strchr(line, '\n') == NULL);
    static const char *const labels[] = {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
        "CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 ", "EXPORTER_SECRET "};
    bool known = false;
    for (size_t i = 0; i < CNET__ARRAY_SIZE(labels); i++)
        known = known || strncmp(line, labels[i], strlen(labels[i])) == 0;
    ASSERT(known);
    /* label, 64 hex digits of client random, the secret in hex */
    ASSERT(strlen(line) > strlen("EXPORTER_SECRET ") + 64 + 1 + 64);
}

static void test_keylog(void)
{
    tls_pair_t p = {0};
    cnet__tls_engine_opts_t so = {0};
    test_set_phase("keylog: the server's secrets, one NSS line each");
    so.keylog = on_keylog;
    run_pair(&p, client_ctx, NULL, server_ctx, &so);
    expect_established(&p);
    ASSERT_EQ(5, keylog_lines); /* TLS 1.3: 2 handshake, 2 traffic, 1 exporter secret */
    tls_pair_close(&p);
}

/* ---- the peer's certificate chain -------------------------------------------------- */

static void test_peer_chain(void)
{
    tls_pair_t p = {0};
    const cnet_tls_cert_t *leaf, *c;
    test_set_phase("peer certificate: the chain to the root (getPeerCertificate(true))");
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    ASSERT_OK(cnet__tls_engine_peer_cert(p.c.e, true, &leaf));
    c = leaf;
    ASSERT_STR_EQ("localhost", cnet_tls_name_get(&c->subject, "CN"));
    c = c->issuer_certificate;
    ASSERT(c != NULL);
    ASSERT_STR_EQ("cnet Test Intermediate", cnet_tls_name_get(&c->subject, "CN"));
    c = c->issuer_certificate;
    ASSERT(c != NULL); /* not sent: found in the trust store */
    ASSERT_STR_EQ("cnet Test Root CA", cnet_tls_name_get(&c->subject, "CN"));
    ASSERT(c->ca);
    ASSERT(c->issuer_certificate == NULL);
    cnet_tls_cert_free(leaf);

    ASSERT_OK(cnet__tls_engine_peer_cert(p.c.e, false, &leaf));
    ASSERT(leaf->issuer_certificate == NULL);
    ASSERT_STR_EQ("C=US, O=cnet, CN=localhost", leaf->subject.text);
    cnet_tls_cert_free(leaf);
    tls_pair_close(&p);
}

/* ---- a large transfer ------------------------------------------------------------- */

static uint8_t pattern(uint64_t i)
{
    uint64_t x = i * UINT64_C(0x9E3779B97F4A7C15);
    return (uint8_t)(x >> 56);
}

static int check_pattern(tls_side_t *side, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)buf[i] != pattern(side->sunk + i))
            TEST_FAIL_("byte %" PRIu64 " differs", side->sunk + i);
    side->sunk += n;
    return 0;
}

static void test_large_transfer(void)
{
    const uint64_t total = UINT64_C(64) << 20;
    tls_pair_t p = {0};
    char block[16384 + 7];
    uint64_t sent = 0;

    test_set_phase("64 MiB through 1000-byte pieces and 4 KiB reads, byte for byte");
    p.chunk = 1000;
    p.read_size = 4096;
    run_pair(&p, client_ctx, NULL, server_ctx, NULL);
    expect_established(&p);
    p.s.sink = check_pattern;
    while (sent < total) {
        size_t n = sizeof block;
        if (n > total - sent)
            n = (size_t)(total - sent);
        for (size_t i = 0; i < n; i++)
            block[i] = (char)pattern(sent + i);
        ASSERT_OK(cnet__tls_engine_write(p.c.e, block, n));
        sent += n;
        tls_pump(&p);
        ASSERT_EQ(sent, p.s.sunk);
    }
    ASSERT_EQ(total, p.s.sunk);

    test_set_phase("trim: idle buffers go back, the connection still works");
    cnet__tls_engine_trim(p.c.e);
    cnet__tls_engine_trim(p.s.e);
    ASSERT_EQ(0, ERR_peek_error());
    p.s.sink = NULL;
    expect_data_flows(&p);
    tls_pair_close(&p);
}

int main(void)
{
    test_watchdog(60);
    tls_pki_make(&pki);
    server_ctx = ctx_with(pki.server_key, pki.server_chain, NULL, NULL);
    client_ctx = ctx_with(NULL, NULL, pki.ca_cert, NULL);

    test_handshake();
    test_tls12();
    test_minimum_version();
    test_verify_failures();
    test_wrong_host_details();
    test_ip_san();
    test_crl();
    test_client_certs();
    test_sni();
    test_alpn();
    test_sessions();
    test_close_notify();
    test_wrong_version();
    test_renegotiation();
    test_error_queue();
    test_keylog();
    test_peer_chain();
    test_large_transfer();

    cnet_tls_context_release(client_ctx);
    cnet_tls_context_release(server_ctx);
    tls_pki_free(&pki);
    return 0;
}
