/*
 * TLS sockets over loopback (cnet.h section 12): a TLS server and
 * cnet_tls_connect() clients with the certificates of tests/tls_fixtures.h.
 * Handshake and echo, verification failures with node's codes, the
 * server's tlsClientError, rejectUnauthorized off, client certificates,
 * SNI, ALPN, session reuse, STARTTLS on both sides, half-close, 64 MiB
 * through a slow reader, destroy inside every TLS event, writes before the
 * handshake, the handshake timeout, and interop with `openssl s_client` and
 * node's tls.connect as clients of our server (each skipped when missing).
 */
#include <cnet/openssl.h>
#include <cnet/uv.h>
#include <pthread.h>
#include <unistd.h>

#include "tls_fixtures.h"
#include "tls_pair.h"

static tls_pki_t pki;
static cnet_tls_context_t *server_ctx, *client_ctx;

/* ---- one scenario: a TLS server and one or more clients -------------------- */

typedef struct scen {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    int port;
    cnet_tls_context_t *cctx;
    cnet_tls_socket_opts_t topts;
    test_log_t clog, slog;
    int client_err, server_err; /* the client's 'error', the server's tlsClientError */
    char client_msg[256];
    char echo[256];
    size_t echo_len;
    bool authorized, server_authorized;
    int authz_err;
    char alpn[32], srv_alpn[32], proto[16], srv_servername[64];
    unsigned char *session;
    size_t session_len;
    bool reused;
    int secure_connections, client_errors;
    const char *destroy_in;  /* destroy the client in this event */
    const char *sdestroy_in; /* destroy the server's socket in this event */
    int connects_left;
    bool half_open_reply;
} scen_t;

static void scen_connect(scen_t *sc);

static void on_all(cnet_socket_t *s, cnet_socket_cb cb, void *arg)
{
    for (int i = 0; i < CNET_EVENT__COUNT; i++)
        if (i != CNET_EVENT_LOOKUP && i != CNET_EVENT_CONNECTION_ATTEMPT &&
            i != CNET_EVENT_CONNECTION_ATTEMPT_FAILED && i != CNET_EVENT_KEYLOG)
            ASSERT_OK(cnet_socket_on(s, (cnet_event_type_t)i, cb, arg));
}

static void log_ev(test_log_t *log, const cnet_event_t *ev)
{
    test_log_add(log, cnet_event_name(ev->type));
}

static void server_sock_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    scen_t *sc = arg;
    log_ev(&sc->slog, ev);
    if (ev->type == CNET_EVENT_DATA) {
        if (sc->half_open_reply)
            return;
        ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
    } else if (ev->type == CNET_EVENT_END && sc->half_open_reply) {
        ASSERT_OK(cnet_socket_end(s, "bye", 3, NULL, NULL));
    }
    if (sc->sdestroy_in && !strcmp(sc->sdestroy_in, cnet_event_name(ev->type)))
        cnet_socket_destroy(s);
}

static void server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    scen_t *sc = arg;
    CNET__UNUSED(srv);
    if (ev->type == CNET_EVENT_CONNECTION) {
        ASSERT(cnet_socket_is_tls(ev->connection));
        on_all(ev->connection, server_sock_cb, sc);
    } else if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        const char *a = cnet_socket_tls_alpn_protocol(ev->connection);
        const char *n = cnet_socket_tls_servername(ev->connection);
        sc->secure_connections++;
        sc->server_authorized = cnet_socket_tls_authorized(ev->connection);
        snprintf(sc->srv_alpn, sizeof sc->srv_alpn, "%s", a ? a : "");
        snprintf(sc->srv_servername, sizeof sc->srv_servername, "%s", n ? n : "");
        test_log_add(&sc->slog, "secureConnection");
        if (sc->sdestroy_in && !strcmp(sc->sdestroy_in, "secureConnection"))
            cnet_socket_destroy(ev->connection);
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        sc->server_err = ev->error->code;
        test_log_add(&sc->slog, "tlsClientError");
    }
}

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    scen_t *sc = arg;
    log_ev(&sc->clog, ev);
    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT: {
        const char *m = NULL, *a = cnet_socket_tls_alpn_protocol(s);
        sc->authorized = cnet_socket_tls_authorized(s);
        /* The seeds' verifyPeer() says the same; <cnet/openssl.h> hands out the SSL. */
        ASSERT_EQ(sc->authorized, cnet_socket_verify_peer(s));
        ASSERT(cnet_socket_get_ssl(s) != NULL);
        ASSERT_STR_EQ(cnet_socket_tls_protocol(s), SSL_get_version(cnet_socket_get_ssl(s)));
        sc->authz_err = cnet_socket_tls_authorization_error(s, &m);
        sc->reused = cnet_socket_tls_session_reused(s);
        snprintf(sc->alpn, sizeof sc->alpn, "%s", a ? a : "");
        snprintf(sc->proto, sizeof sc->proto, "%s", cnet_socket_tls_protocol(s));
        if (m)
            snprintf(sc->client_msg, sizeof sc->client_msg, "%s", m);
        break;
    }
    case CNET_EVENT_SESSION:
        if (!sc->session) {
            sc->session = malloc(ev->data.len);
            memcpy(sc->session, ev->data.base, ev->data.len);
            sc->session_len = ev->data.len;
        }
        break;
    case CNET_EVENT_DATA:
        ASSERT(sc->echo_len + ev->data.len < sizeof sc->echo);
        memcpy(sc->echo + sc->echo_len, ev->data.base, ev->data.len);
        sc->echo_len += ev->data.len;
        break;
    case CNET_EVENT_ERROR:
        sc->client_err = ev->error->code;
        sc->client_errors++;
        snprintf(sc->client_msg, sizeof sc->client_msg, "%s", ev->error->message);
        break;
    case CNET_EVENT_CLOSE:
        if (--sc->connects_left > 0)
            scen_connect(sc);
        else
            ASSERT_OK(cnet_server_close(sc->srv, NULL, NULL));
        break;
    default:
        break;
    }
    if (sc->destroy_in && !strcmp(sc->destroy_in, cnet_event_name(ev->type)))
        cnet_socket_destroy(s);
}

static void scen_connect(scen_t *sc)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;

    co.port = sc->port;
    co.host = "127.0.0.1";
    sc->clog.len = 0;
    sc->echo_len = 0;
    if (sc->session) {
        sc->topts.session = sc->session;
        sc->topts.session_len = sc->session_len;
    }
    ASSERT_OK(cnet_tls_connect(sc->loop, &co, sc->cctx, &sc->topts, NULL, NULL, &c));
    on_all(c, client_cb, sc);
    /* Written before the handshake: held, then sent once secure. */
    ASSERT(cnet_socket_write(c, "hello", 5, NULL, NULL) >= 0);
    ASSERT_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    scen_t *sc = arg;
    cnet_address_t a;
    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    sc->port = a.port;
    scen_connect(sc);
}

static void server_on(scen_t *sc)
{
    ASSERT_OK(cnet_server_on(sc->srv, CNET_EVENT_CONNECTION, server_cb, sc));
    ASSERT_OK(cnet_server_on(sc->srv, CNET_EVENT_SECURE_CONNECTION, server_cb, sc));
    ASSERT_OK(cnet_server_on(sc->srv, CNET_EVENT_TLS_CLIENT_ERROR, server_cb, sc));
}

static void scen_init_ex(scen_t *sc, cnet_tls_context_t *sctx, cnet_tls_context_t *cctx,
                         bool allow_half_open)
{
    memset(sc, 0, sizeof *sc);
    sc->topts = (cnet_tls_socket_opts_t)CNET_TLS_SOCKET_OPTS_INIT;
    sc->cctx = cctx;
    sc->connects_left = 1;
    ASSERT_OK(cnet_loop_new(&sc->loop));
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    so.tls = sctx;
    so.allow_half_open = allow_half_open;
    ASSERT_OK(cnet_server_new(sc->loop, &so, &sc->srv));
    server_on(sc);
}

static void scen_init(scen_t *sc, cnet_tls_context_t *sctx, cnet_tls_context_t *cctx)
{
    scen_init_ex(sc, sctx, cctx, false);
}

static void scen_run(scen_t *sc)
{
    ASSERT_OK(cnet_server_listen(sc->srv, 0, "127.0.0.1", on_listening, sc));
    ASSERT_OK(cnet_loop_run(sc->loop));
    if (getenv("TLS_TEST_VERBOSE"))
        fprintf(stderr, "[%s] client: %s | server: %s\n", test_phase_, test_log_str(&sc->clog),
                test_log_str(&sc->slog));
    if (cnet_loop_alive(sc->loop))
        fprintf(stderr, "[%s] leak: client: %s | server: %s\n", test_phase_,
                test_log_str(&sc->clog), test_log_str(&sc->slog));
    ASSERT_EQ(0, (int)cnet_loop_alive(sc->loop));
    ASSERT_OK(cnet_loop_close(sc->loop));
    free(sc->session);
}

/* ---- cases ----------------------------------------------------------------- */

static void test_handshake_echo(void)
{
    scen_t sc;
    test_set_phase("handshake and echo");
    scen_init(&sc, server_ctx, client_ctx);
    scen_run(&sc);
    ASSERT_STR_EQ("connect ready secureConnect secure finish session session data end close",
                  test_log_str(&sc.clog));
    ASSERT(sc.authorized);
    ASSERT_EQ(0, sc.authz_err);
    ASSERT_STR_EQ("TLSv1.3", sc.proto);
    ASSERT_EQ(5, (int)sc.echo_len);
    ASSERT_MEM_EQ("hello", sc.echo, 5);
    ASSERT_EQ(1, sc.secure_connections);
    ASSERT_STR_EQ("", sc.srv_servername); /* never sent for an IP address */
}

static void expect_failure(const char *phase, cnet_tls_context_t *sctx, int code,
                           const char *message)
{
    scen_t sc;
    test_set_phase(phase);
    scen_init(&sc, sctx, client_ctx);
    scen_run(&sc);
    ASSERT_STR_EQ("connect ready secure error close", test_log_str(&sc.clog));
    ASSERT_STR_EQ(cnet_err_name(code), cnet_err_name(sc.client_err));
    if (message)
        ASSERT_STR_EQ(message, sc.client_msg);
    ASSERT_EQ(0, sc.secure_connections);
    ASSERT(strstr(test_log_str(&sc.slog), "tlsClientError") != NULL);
    ASSERT(sc.server_err < 0);
}

static void test_verification_failures(void)
{
    cnet_tls_context_t *ss = tls_ctx(pki.selfsigned_key, pki.selfsigned_cert, NULL, NULL);
    cnet_tls_context_t *wrong = tls_ctx(pki.leaf_key, pki.wronghost_chain, NULL, NULL);
    cnet_tls_context_t *expired = tls_ctx(pki.leaf_key, pki.expired_chain, NULL, NULL);
    cnet_tls_context_t *notyet = tls_ctx(pki.leaf_key, pki.notyet_chain, NULL, NULL);

    expect_failure("self-signed", ss, CNET_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate");
    expect_failure("wrong host", wrong, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                   "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in "
                   "the cert's list: ");
    expect_failure("expired", expired, CNET_CERT_HAS_EXPIRED, "certificate has expired");
    expect_failure("not yet valid", notyet, CNET_CERT_NOT_YET_VALID,
                   "certificate is not yet valid");

    /* rejectUnauthorized false: secureConnect with authorized false and the error. */
    scen_t sc;
    test_set_phase("reject_unauthorized off");
    scen_init(&sc, ss, client_ctx);
    sc.topts.reject_unauthorized = CNET_TLS_OFF;
    scen_run(&sc);
    ASSERT_STR_EQ("connect ready secureConnect secure finish session session data end close",
                  test_log_str(&sc.clog));
    ASSERT(!sc.authorized);
    ASSERT_EQ(CNET_DEPTH_ZERO_SELF_SIGNED_CERT, sc.authz_err);
    ASSERT_STR_EQ("self-signed certificate", sc.client_msg);

    /* The server keeps serving after a tlsClientError. */
    test_set_phase("server keeps serving");
    cnet_tls_context_t *trusting = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
    scen_init(&sc, ss, trusting);
    sc.connects_left = 2;
    scen_run(&sc);
    ASSERT_EQ(2, sc.client_errors);
    cnet_tls_context_release(trusting);
    cnet_tls_context_release(ss);
    cnet_tls_context_release(wrong);
    cnet_tls_context_release(expired);
    cnet_tls_context_release(notyet);
}

static void test_client_cert(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    o.request_cert = true;
    cnet_tls_context_t *sctx = tls_ctx(pki.leaf_key, pki.server_chain, pki.ca_cert, &o);
    cnet_tls_context_t *cctx = tls_ctx(pki.client_key, pki.client_cert, pki.ca_cert, NULL);
    scen_t sc;

    test_set_phase("client certificate");
    scen_init(&sc, sctx, cctx);
    scen_run(&sc);
    ASSERT(sc.authorized);
    ASSERT(sc.server_authorized);

    test_set_phase("client certificate missing");
    scen_init(&sc, sctx, client_ctx);
    scen_run(&sc);
    ASSERT_EQ(1, sc.client_errors);
    ASSERT_EQ(0, sc.secure_connections);
    ASSERT(sc.server_err < 0);
    cnet_tls_context_release(sctx);
    cnet_tls_context_release(cctx);
}

static void test_sni_alpn(void)
{
    static const char *const calpn[] = {"h2", "http/1.1", NULL};
    static const char *const salpn[] = {"http/1.1", NULL};
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    o.alpn_protocols = salpn;
    cnet_tls_context_t *sctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, &o);
    scen_t sc;

    test_set_phase("SNI and ALPN");
    scen_init(&sc, sctx, client_ctx);
    sc.topts.servername = "x.example.com"; /* matches *.example.com */
    sc.topts.alpn_protocols = calpn;
    scen_run(&sc);
    ASSERT(sc.authorized);
    ASSERT_STR_EQ("http/1.1", sc.alpn);
    ASSERT_STR_EQ("http/1.1", sc.srv_alpn);
    ASSERT_STR_EQ("x.example.com", sc.srv_servername);

    test_set_phase("SNI name not in the certificate");
    scen_init(&sc, sctx, client_ctx);
    sc.topts.servername = "nothere.org";
    scen_run(&sc);
    ASSERT_EQ(CNET_ERR_TLS_CERT_ALTNAME_INVALID, sc.client_err);
    cnet_tls_context_release(sctx);
}

static void test_session_reuse(void)
{
    scen_t sc;
    test_set_phase("session reuse");
    scen_init(&sc, server_ctx, client_ctx);
    sc.connects_left = 2;
    scen_run(&sc);
    ASSERT(sc.session_len > 0); /* 'session' of the first connection */
    ASSERT(sc.reused);          /* the second resumed it */
    ASSERT(sc.authorized);
}

/* ---- the checkServerIdentity hook ------------------------------------------- */

typedef struct csi {
    int calls;
    int ret;      /* what the hook returns */
    bool destroy; /* destroy the socket from inside */
    bool chain;   /* the certificate came with its issuer (detailed) */
    char host[64], cn[64];
} csi_t;

static csi_t csi;

static int csi_hook(cnet_socket_t *s, const char *host, const cnet_tls_cert_t *cert, char *message,
                    size_t size, void *arg)
{
    CNET__UNUSED(message), CNET__UNUSED(size);
    ASSERT(arg == &csi);
    ASSERT(cnet_socket_is_tls(s));
    csi.calls++;
    snprintf(csi.host, sizeof csi.host, "%s", host);
    snprintf(csi.cn, sizeof csi.cn, "%s", cnet_tls_name_get(&cert->subject, "CN"));
    csi.chain = cert->issuer_certificate != NULL &&
                !strcmp("cnet Test Intermediate",
                        cnet_tls_name_get(&cert->issuer_certificate->subject, "CN"));
    if (csi.destroy) {
        cnet_socket_destroy(s);
        cnet_socket_destroy(s); /* twice: still safe */
    }
    return csi.ret;
}

static void test_check_server_identity(void)
{
    cnet_tls_context_t *wrong = tls_ctx(pki.leaf_key, pki.wronghost_chain, NULL, NULL);
    scen_t sc;

    test_set_phase("checkServerIdentity accepts a wrong host");
    memset(&csi, 0, sizeof csi);
    scen_init(&sc, wrong, client_ctx);
    sc.topts.check_server_identity = csi_hook;
    sc.topts.check_server_identity_arg = &csi;
    scen_run(&sc);
    ASSERT_EQ(1, csi.calls);
    ASSERT_STR_EQ("127.0.0.1", csi.host); /* no servername: the host */
    ASSERT(csi.chain);                    /* getPeerCertificate(true) */
    ASSERT(sc.authorized);
    ASSERT_EQ(5, (int)sc.echo_len);

    test_set_phase("checkServerIdentity: a positive value rejects");
    memset(&csi, 0, sizeof csi);
    csi.ret = 1;
    scen_init(&sc, server_ctx, client_ctx);
    sc.topts.check_server_identity = csi_hook;
    sc.topts.check_server_identity_arg = &csi;
    sc.topts.servername = "localhost";
    scen_run(&sc);
    ASSERT_EQ(1, csi.calls);
    ASSERT_STR_EQ("localhost", csi.host);
    ASSERT_STR_EQ("localhost", csi.cn);
    ASSERT_STR_EQ("connect ready secure error close", test_log_str(&sc.clog));
    ASSERT_ERR(CNET_CERT_REJECTED, sc.client_err);
    ASSERT_STR_EQ("certificate rejected", sc.client_msg); /* no message: the code's text */

    test_set_phase("checkServerIdentity destroys the socket");
    memset(&csi, 0, sizeof csi);
    csi.destroy = true;
    scen_init(&sc, server_ctx, client_ctx);
    sc.topts.check_server_identity = csi_hook;
    sc.topts.check_server_identity_arg = &csi;
    scen_run(&sc);
    ASSERT_EQ(1, csi.calls);
    ASSERT_STR_EQ("connect ready close", test_log_str(&sc.clog)); /* no secure, no error */
    ASSERT_EQ(0, sc.client_errors);

    test_set_phase("checkServerIdentity destroys and rejects");
    memset(&csi, 0, sizeof csi);
    csi.destroy = true;
    csi.ret = CNET_CERT_REJECTED;
    scen_init(&sc, server_ctx, client_ctx);
    sc.topts.check_server_identity = csi_hook;
    sc.topts.check_server_identity_arg = &csi;
    scen_run(&sc);
    ASSERT_STR_EQ("connect ready close", test_log_str(&sc.clog));

    test_set_phase("checkServerIdentity: not called for a resumed session");
    memset(&csi, 0, sizeof csi);
    scen_init(&sc, server_ctx, client_ctx);
    sc.topts.check_server_identity = csi_hook;
    sc.topts.check_server_identity_arg = &csi;
    sc.connects_left = 2;
    scen_run(&sc);
    ASSERT(sc.reused);
    ASSERT_EQ(1, csi.calls); /* the first connection only, as node */
    cnet_tls_context_release(wrong);
}

/* ---- destroy inside every event ------------------------------------------- */

static void test_destroy_in_events(void)
{
    static const char *const client_events[] = {"connect", "ready", "secure", "secureConnect",
                                                "session", "data",  "finish", "end"};
    static const char *const server_events[] = {"secure", "secureConnection", "data", "end"};
    for (size_t i = 0; i < CNET__ARRAY_SIZE(client_events); i++) {
        scen_t sc;
        test_set_phase(client_events[i]);
        scen_init(&sc, server_ctx, client_ctx);
        sc.destroy_in = client_events[i];
        scen_run(&sc);
        ASSERT(strstr(test_log_str(&sc.clog), "close") != NULL);
    }
    for (size_t i = 0; i < CNET__ARRAY_SIZE(server_events); i++) {
        scen_t sc;
        test_set_phase(server_events[i]);
        scen_init(&sc, server_ctx, client_ctx);
        sc.sdestroy_in = server_events[i];
        scen_run(&sc);
        ASSERT(strstr(test_log_str(&sc.slog), "close") != NULL);
    }
}

static void test_half_close(void)
{
    scen_t sc;
    test_set_phase("half-close");
    scen_init_ex(&sc, server_ctx, client_ctx, true);
    sc.half_open_reply = true;
    scen_run(&sc);
    /* Our end() sent close_notify + FIN; the server's 'end', then its reply, then its end. */
    ASSERT_EQ(3, (int)sc.echo_len);
    ASSERT_MEM_EQ("bye", sc.echo, 3);
    ASSERT(strstr(test_log_str(&sc.slog), "data end") != NULL);
    ASSERT(strstr(test_log_str(&sc.clog), "end") != NULL);
}


/* ---- STARTTLS: a plain connection upgraded on both sides ----------------- */

typedef struct starttls {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    test_log_t clog, slog;
    char got[64];
    size_t got_len;
    bool client_tls, server_tls, authorized;
} starttls_t;

static void st_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    starttls_t *st = arg;
    log_ev(&st->slog, ev);
    if (ev->type == CNET_EVENT_DATA && !st->server_tls) {
        cnet_tls_socket_opts_t o = CNET_TLS_SOCKET_OPTS_INIT;
        ASSERT_EQ(9, (int)ev->data.len);
        ASSERT_MEM_EQ("STARTTLS\n", ev->data.base, 9);
        ASSERT_OK(cnet_socket_write(s, "GO\n", 3, NULL, NULL)); /* plain, before the handshake */
        o.is_server = true;
        ASSERT_OK(cnet_socket_set_secure(s, server_ctx, &o));
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_set_secure(s, server_ctx, &o));
        st->server_tls = true;
    } else if (ev->type == CNET_EVENT_DATA) {
        ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
    }
}

static void st_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(srv);
    ASSERT(!cnet_socket_is_tls(ev->connection));
    on_all(ev->connection, st_server_sock, arg);
}

static void st_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    starttls_t *st = arg;
    log_ev(&st->clog, ev);
    if (ev->type == CNET_EVENT_DATA && !st->client_tls) {
        cnet_tls_socket_opts_t o = CNET_TLS_SOCKET_OPTS_INIT;
        ASSERT_MEM_EQ("GO\n", ev->data.base, 3);
        o.servername = "localhost";
        ASSERT_OK(cnet_socket_set_secure(s, client_ctx, &o));
        st->client_tls = true;
        /* Held until 'secure'. */
        ASSERT(cnet_socket_write(s, "secret", 6, NULL, NULL) >= 0);
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    } else if (ev->type == CNET_EVENT_DATA) {
        memcpy(st->got + st->got_len, ev->data.base, ev->data.len);
        st->got_len += ev->data.len;
    } else if (ev->type == CNET_EVENT_SECURE) {
        const char *m = NULL;
        st->authorized = cnet_socket_tls_authorized(s);
        if (!st->authorized)
            fprintf(stderr, "authorizationError %d %s\n",
                    cnet_socket_tls_authorization_error(s, &m), m ? m : "");
    } else if (ev->type == CNET_EVENT_CLOSE) {
        ASSERT_OK(cnet_server_close(st->srv, NULL, NULL));
    }
}

static void st_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    starttls_t *st = arg;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *c;
    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    co.port = a.port;
    co.host = "127.0.0.1";
    ASSERT_OK(cnet_create_connection(st->loop, &co, NULL, NULL, &c));
    on_all(c, st_client, st);
    ASSERT_OK(cnet_socket_write(c, "STARTTLS\n", 9, NULL, NULL));
}

static void test_starttls(void)
{
    starttls_t st;
    test_set_phase("STARTTLS");
    memset(&st, 0, sizeof st);
    ASSERT_OK(cnet_loop_new(&st.loop));
    ASSERT_OK(cnet_server_new(st.loop, NULL, &st.srv));
    ASSERT_OK(cnet_server_on(st.srv, CNET_EVENT_CONNECTION, st_server, &st));
    ASSERT_OK(cnet_server_listen(st.srv, 0, "127.0.0.1", st_listening, &st));
    ASSERT_OK(cnet_loop_run(st.loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(st.loop));
    ASSERT_OK(cnet_loop_close(st.loop));
    ASSERT(st.authorized);
    ASSERT_EQ(6, (int)st.got_len);
    ASSERT_MEM_EQ("secret", st.got, 6);
    ASSERT_STR_EQ("connect ready data secureConnect secure finish session session data end close",
                  test_log_str(&st.clog));
    ASSERT_STR_EQ("data secure data end finish close", test_log_str(&st.slog));
}

/* ---- 64 MiB through a slow reader ------------------------------------------ */

#define BIG_TOTAL ((size_t)64 << 20)
#define BIG_CHUNK ((size_t)256 << 10)

static inline unsigned char big_byte(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 12));
}

typedef struct big {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_socket_t *client;
    size_t sent, received, pauses, drains;
    uv_timer_t timer;
    cnet_socket_t *reader;
    bool ended;
    unsigned char *chunk;
} big_t;

static void big_fill(big_t *b);

static void big_resume(uv_timer_t *t)
{
    big_t *b = t->data;
    cnet_socket_resume(b->reader);
}

static void big_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    big_t *b = arg;
    if (ev->type == CNET_EVENT_DATA) {
        const unsigned char *p = (const unsigned char *)ev->data.base;
        size_t before = b->received;
        for (size_t i = 0; i < ev->data.len; i++)
            if (p[i] != big_byte(before + i))
                TEST_FAIL_("byte %zu differs", before + i);
        b->received += ev->data.len;
        if (before / (4u << 20) != b->received / (4u << 20)) {
            /* Slow reader: a pause of 5 ms every 4 MiB. */
            b->pauses++;
            b->reader = s;
            cnet_socket_pause(s);
            ASSERT_OK(uv_timer_start(&b->timer, big_resume, 5, 0));
        }
    } else if (ev->type == CNET_EVENT_END) {
        b->ended = true;
    }
}

static void big_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(srv);
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, big_server_sock, arg));
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, big_server_sock, arg));
}

static void big_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    big_t *b = arg;
    CNET__UNUSED(s);
    if (ev->type == CNET_EVENT_DRAIN) {
        b->drains++;
        big_fill(b);
    } else if (ev->type == CNET_EVENT_CLOSE) {
        uv_close((uv_handle_t *)&b->timer, NULL);
        ASSERT_OK(cnet_server_close(b->srv, NULL, NULL));
    } else if (ev->type == CNET_EVENT_ERROR) {
        TEST_FAIL_("client error %s", ev->error->message);
    }
}

/* Writes until the highWaterMark says stop, then waits for 'drain'. */
static void big_fill(big_t *b)
{
    while (b->sent < BIG_TOTAL) {
        for (size_t i = 0; i < BIG_CHUNK; i++)
            b->chunk[i] = big_byte(b->sent + i);
        int r = cnet_socket_write(b->client, b->chunk, BIG_CHUNK, NULL, NULL);
        ASSERT(r >= 0);
        b->sent += BIG_CHUNK;
        if (r == 1 && b->sent < BIG_TOTAL)
            return;
    }
    ASSERT_OK(cnet_socket_end(b->client, NULL, 0, NULL, NULL));
}

static void big_secure(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(s), CNET__UNUSED(ev);
    big_fill(arg);
}

static void big_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    big_t *b = arg;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    co.port = a.port;
    co.host = "127.0.0.1";
    ASSERT_OK(cnet_tls_connect(b->loop, &co, client_ctx, NULL, big_secure, b, &b->client));
    ASSERT_OK(cnet_socket_on(b->client, CNET_EVENT_DRAIN, big_client, b));
    ASSERT_OK(cnet_socket_on(b->client, CNET_EVENT_CLOSE, big_client, b));
    ASSERT_OK(cnet_socket_on(b->client, CNET_EVENT_ERROR, big_client, b));
}

static void test_big_transfer(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    big_t b;

    test_set_phase("64 MiB");
    memset(&b, 0, sizeof b);
    b.chunk = malloc(BIG_CHUNK);
    ASSERT_OK(cnet_loop_new(&b.loop));
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(b.loop), &b.timer));
    b.timer.data = &b;
    so.tls = server_ctx;
    ASSERT_OK(cnet_server_new(b.loop, &so, &b.srv));
    ASSERT_OK(cnet_server_on(b.srv, CNET_EVENT_CONNECTION, big_server, &b));
    ASSERT_OK(cnet_server_listen(b.srv, 0, "127.0.0.1", big_listening, &b));
    ASSERT_OK(cnet_loop_run(b.loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(b.loop));
    ASSERT_OK(cnet_loop_close(b.loop));
    free(b.chunk);
    ASSERT_EQ(BIG_TOTAL, b.received);
    ASSERT(b.ended);
    ASSERT(b.pauses >= 15);
    ASSERT(b.drains > 0); /* backpressure reached the writer */
}

/* ---- interop: `openssl s_client` against our server ----------------------- */

typedef struct interop {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    char cmd[1024];
    int rc;
    size_t echoed;
} interop_t;

static void *interop_thread(void *arg)
{
    interop_t *io = arg;
    io->rc = system(io->cmd);
    return NULL;
}

static void interop_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    interop_t *io = arg;
    if (ev->type == CNET_EVENT_DATA) {
        io->echoed += ev->data.len;
        ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
    } else if (ev->type == CNET_EVENT_CLOSE) {
        ASSERT_OK(cnet_server_close(io->srv, NULL, NULL));
    }
}

static void interop_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(srv);
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, interop_sock, arg));
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, interop_sock, arg));
}

/* Our echo server against a peer run by @p fmt (port, CA file, output file), in a thread. */
static void interop_run(const char *fmt, const char *expect, size_t expect_echoed)
    __attribute__((format(printf, 1, 0)));

static void test_openssl_s_client(void)
{
    test_set_phase("openssl s_client");
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("skip: the openssl command is not installed (interop with s_client)\n");
        return;
    }
    /* s_client sends the line, and at stdin's EOF (after a pause for the echo) closes. */
    interop_run("(printf 'interop-line\\n'; sleep 1) | timeout 10 openssl s_client -connect "
                "127.0.0.1:%d -servername localhost -verify_return_error -CAfile %s -quiet "
                "-no_ign_eof >%s 2>&1",
                "interop-line", 13);
}

static void test_node_client(void)
{
    test_set_phase("node tls client");
    if (!test_have_node()) {
        printf("skip: node is not installed (interop with its tls module)\n");
        return;
    }
    /* node's tls.connect: verifies the chain and the name, writes, prints the echo, ends. */
    interop_run("timeout 10 node -e \"const tls=require('tls'),fs=require('fs');"
                "const c=tls.connect({port:%d,host:'127.0.0.1',servername:'localhost',"
                "ca:fs.readFileSync('%s')},()=>{c.write('from-node');});let got='';"
                "c.on('data',d=>{got+=d;if(got==='from-node'){console.log('node-got',got,"
                "c.authorized,c.getProtocol());c.end();}});"
                "c.on('error',e=>console.log('node-error',e.code));\" >%s 2>&1",
                "node-got from-node true TLSv1.3", 9);
}

static void interop_run(const char *fmt, const char *expect, size_t expect_echoed)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    char dir[] = "/tmp/cnet_tls_XXXXXX", out[256], buf[4096];
    interop_t io;
    pthread_t th;
    cnet_address_t a;
    FILE *f;
    size_t n;

    memset(&io, 0, sizeof io);
    ASSERT(mkdtemp(dir) != NULL);
    char *ca = tls_write_file(dir, "ca.pem", pki.ca_cert);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    ASSERT_OK(cnet_loop_new(&io.loop));
    so.tls = server_ctx;
    ASSERT_OK(cnet_server_new(io.loop, &so, &io.srv));
    ASSERT_OK(cnet_server_on(io.srv, CNET_EVENT_CONNECTION, interop_server, &io));
    ASSERT_OK(cnet_server_listen(io.srv, 0, "127.0.0.1", NULL, NULL));
    while (cnet_server_address(io.srv, &a) != 0)
        cnet_loop_run_nowait(io.loop);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* the callers' literal formats */
    snprintf(io.cmd, sizeof io.cmd, fmt, a.port, ca, out);
#pragma GCC diagnostic pop
    ASSERT_OK(pthread_create(&th, NULL, interop_thread, &io));
    ASSERT_OK(cnet_loop_run(io.loop));
    ASSERT_OK(pthread_join(th, NULL));
    ASSERT_EQ(0, (int)cnet_loop_alive(io.loop));
    ASSERT_OK(cnet_loop_close(io.loop));
    f = fopen(out, "rb");
    ASSERT(f != NULL);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (!strstr(buf, expect))
        TEST_FAIL_("the peer (exit %d) printed: %s", io.rc, buf);
    ASSERT_EQ(expect_echoed, io.echoed);
    unlink(out);
    unlink(ca);
    rmdir(dir);
    free(ca);
}

/* ---- the server's handshake timeout --------------------------------------- */

typedef struct hst {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    int code;
    char msg[128];
    bool client_closed;
} hst_t;

static void hst_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    hst_t *h = arg;
    CNET__UNUSED(srv);
    h->code = ev->error->code;
    snprintf(h->msg, sizeof h->msg, "%s", ev->error->message);
}

static void hst_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    hst_t *h = arg;
    CNET__UNUSED(s), CNET__UNUSED(ev);
    h->client_closed = true;
    ASSERT_OK(cnet_server_close(h->srv, NULL, NULL));
}

static void hst_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    hst_t *h = arg;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *c;
    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    co.port = a.port;
    co.host = "127.0.0.1";
    /* A plain client that never says hello. */
    ASSERT_OK(cnet_create_connection(h->loop, &co, NULL, NULL, &c));
    ASSERT_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, hst_client, h));
}

static void test_handshake_timeout(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    hst_t h;

    test_set_phase("handshake timeout");
    memset(&h, 0, sizeof h);
    ASSERT_OK(cnet_loop_new(&h.loop));
    so.tls = server_ctx;
    so.handshake_timeout_ms = 100;
    ASSERT_OK(cnet_server_new(h.loop, &so, &h.srv));
    ASSERT_OK(cnet_server_on(h.srv, CNET_EVENT_TLS_CLIENT_ERROR, hst_server, &h));
    ASSERT_OK(cnet_server_listen(h.srv, 0, "127.0.0.1", hst_listening, &h));
    ASSERT_OK(cnet_loop_run(h.loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(h.loop));
    ASSERT_OK(cnet_loop_close(h.loop));
    ASSERT_STR_EQ("ERR_TLS_HANDSHAKE_TIMEOUT", cnet_err_name(h.code));
    ASSERT_STR_EQ("TLS handshake timeout", h.msg);
    ASSERT(h.client_closed);
}

/* ---- misuse: codes returned at once, nothing scheduled --------------------- */

static bool onread_cb(cnet_socket_t *s, size_t nread, char *buf, void *arg)
{
    CNET__UNUSED(s), CNET__UNUSED(nread), CNET__UNUSED(buf), CNET__UNUSED(arg);
    return true;
}

static void test_misuse(void)
{
    static char rbuf[1024];
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_loop_t *loop;
    cnet_socket_t *s, *out = (cnet_socket_t *)1;
    const char *m = "x";

    test_set_phase("misuse");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_set_secure(NULL, client_ctx, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_set_secure(s, NULL, NULL));
    /* Not connected nor connecting. */
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_socket_set_secure(s, client_ctx, NULL));
    /* A plain socket answers the accessors with node's values for a net.Socket. */
    ASSERT(!cnet_socket_is_tls(s));
    ASSERT(!cnet_socket_tls_authorized(s));
    ASSERT(!cnet_socket_verify_peer(s));
    ASSERT(cnet_socket_get_ssl(s) == NULL);
    ASSERT(cnet_socket_get_ssl(NULL) == NULL);
    ASSERT_EQ(0, cnet_socket_tls_authorization_error(s, &m));
    ASSERT(m == NULL);
    ASSERT(cnet_socket_tls_protocol(s) == NULL);
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet_socket_tls_cipher(s, NULL, NULL, NULL));
    cnet_socket_destroy(s);

    /* onread is refused over TLS: its buffer would get ciphertext. */
    co.port = 9; /* never connected: the socket is destroyed before its connect tick */
    co.host = "127.0.0.1";
    co.onread = onread_cb;
    co.onread_buffer = rbuf;
    co.onread_buffer_len = sizeof rbuf;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE,
               cnet_tls_connect(loop, &co, client_ctx, NULL, NULL, NULL, &out));
    ASSERT(out == NULL);
    so.onread = onread_cb;
    so.onread_buffer = rbuf;
    so.onread_buffer_len = sizeof rbuf;
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    co.onread = NULL;
    co.onread_buffer = NULL;
    co.onread_buffer_len = 0;
    ASSERT_OK(cnet_socket_connect_opts(s, &co, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_set_secure(s, client_ctx, NULL));
    ASSERT(!cnet_socket_is_tls(s));
    cnet_socket_destroy(s);

    /* Twice, and after end(). */
    ASSERT_OK(cnet_tls_connect(loop, &co, client_ctx, NULL, NULL, NULL, &s));
    ASSERT(cnet_socket_is_tls(s));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_set_secure(s, client_ctx, NULL));
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_create_connection(loop, &co, NULL, NULL, &s));
    ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_set_secure(s, client_ctx, NULL));
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

int main(void)
{
    test_watchdog(120);
    tls_pki_make(&pki);
    server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);

    test_misuse();
    test_handshake_echo();
    test_verification_failures();
    test_client_cert();
    test_sni_alpn();
    test_session_reuse();
    test_check_server_identity();
    test_half_close();
    test_destroy_in_events();
    test_starttls();
    test_big_transfer();
    test_handshake_timeout();
    test_openssl_s_client();
    test_node_client();

    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    tls_pki_free(&pki);
    printf("ok\n");
    return 0;
}
