/*
 * TLS servers' own API (cnet.h sections 5 and 12) over loopback: the SNI
 * callback (answered inside, from a timer, with an error, never: the socket
 * destroyed, the client gone, the handshake timeout, the server closed while
 * an answer is pending; answers twice and after destroy), the ALPN callback
 * (a pick, a refusal, a name the client did not offer, no ALPN, no SNI,
 * destroy inside, exclusive with ALPNProtocols) and
 * cnet_server_set_secure_context() (connections open before keep their
 * certificate, new ones get the new one; a handshake in progress too).
 * Certificates: tests/tls_fixtures.h (the default "server" chain has
 * DNS:*.example.com, the "sni" chain DNS:sni.example.com, so a client
 * asking for sni.example.com accepts both and tells them apart).
 */
#include <cnet/uv.h>

#include "tls_fixtures.h"
#include "tls_pair.h"

static tls_pki_t pki;
static cnet_tls_context_t *server_ctx, *sni_ctx, *client_ctx;

enum {
    SNI_SYNC,          /* answered inside the callback: sni_ctx for sni.example.com, else NULL */
    SNI_ASYNC,         /* the same, from a timer */
    SNI_SYNC_ERR,      /* an error, inside */
    SNI_ASYNC_ERR,     /* an error, from a timer */
    SNI_DESTROY_IN_CB, /* the socket destroyed inside the callback */
    SNI_DESTROY_LATER, /* the socket destroyed while pending, then answered (twice) */
    SNI_CLIENT_GOES,   /* the client destroyed while pending; answered after */
    SNI_CLOSE_SERVER,  /* the server closed while pending; answered after */
    SNI_TIMEOUT,       /* the handshake timeout while pending; answered after */
    SNI_SWAP_PENDING,  /* setSecureContext while pending, answered NULL: the old context */
};

enum { ALPN_PICK, ALPN_REFUSE, ALPN_INVALID, ALPN_DESTROY };

typedef struct world world_t;

typedef struct client {
    world_t *w;
    cnet_socket_t *s;
    test_log_t log;
    char san[256];
    char alpn[32];
    int err;
    char msg[256];
    char data[64];
    size_t data_len;
    bool keep_open; /* no end() at connect: the test ends it */
} client_t;

struct world {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    uv_timer_t timer;
    int port;
    test_log_t slog;
    int tls_err;
    char tls_msg[256];
    int sni_mode, sni_calls;
    char sni_name[64];
    cnet_socket_t *pending; /* retained while its SNI answer is pending */
    int answer_rc, answer_rc2;
    int alpn_mode, alpn_calls;
    char alpn_seen[128];
    int secure_connections, server_closes;
    client_t c[2];
    int nclients, clients_left;
    bool finished, server_closed; /* the test closed the server itself */
    const char *servername;       /* the first client's, connected once listening */
    const char *const *alpn;
    void (*on_client_secure)(world_t *w, client_t *c);
};

/* Every client closed and no SNI answer pending: the timer and the server close. */
static void maybe_finish(world_t *w)
{
    if (w->finished || w->clients_left > 0 || w->pending)
        return;
    w->finished = true;
    uv_close((uv_handle_t *)&w->timer, NULL);
    if (!w->server_closed)
        ASSERT_OK(cnet_server_close(w->srv, NULL, NULL));
}

/* ---- the server ------------------------------------------------------------ */

static void server_sock_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    world_t *w = arg;
    if (ev->type == CNET_EVENT_DATA)
        ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
    else if (ev->type == CNET_EVENT_CLOSE)
        test_log_add(&w->slog, "sclose");
}

static void server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    world_t *w = arg;
    CNET__UNUSED(srv);
    switch (ev->type) {
    case CNET_EVENT_CONNECTION:
        ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, server_sock_cb, w));
        ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, server_sock_cb, w));
        break;
    case CNET_EVENT_SECURE_CONNECTION:
        w->secure_connections++;
        test_log_add(&w->slog, "secureConnection");
        break;
    case CNET_EVENT_TLS_CLIENT_ERROR:
        w->tls_err = ev->error->code;
        snprintf(w->tls_msg, sizeof w->tls_msg, "%s", ev->error->message);
        test_log_add(&w->slog, "tlsClientError");
        break;
    case CNET_EVENT_CLOSE:
        w->server_closes++;
        break;
    default:
        break;
    }
}

/* sni.example.com gets the "sni" certificate, any other name the server's. */
static cnet_tls_context_t *choose(const char *name)
{
    return strcmp(name, "sni.example.com") == 0 ? sni_ctx : NULL;
}

static void on_timer(uv_timer_t *t)
{
    world_t *w = t->data;
    cnet_socket_t *s = w->pending;

    w->pending = NULL;
    switch (w->sni_mode) {
    case SNI_ASYNC:
    case SNI_CLOSE_SERVER:
        w->answer_rc = cnet_tls_sni_done(s, choose(w->sni_name), 0, NULL);
        break;
    case SNI_ASYNC_ERR:
        w->answer_rc = cnet_tls_sni_done(s, sni_ctx, CNET_ENOTFOUND, "no such name");
        break;
    case SNI_DESTROY_LATER:
        cnet_socket_destroy(s);
        w->answer_rc = cnet_tls_sni_done(s, sni_ctx, 0, NULL);
        w->answer_rc2 = cnet_tls_sni_done(s, NULL, 0, NULL);
        break;
    case SNI_SWAP_PENDING:
        w->answer_rc = cnet_tls_sni_done(s, NULL, 0, NULL);
        break;
    default: /* the socket is gone by now: the answer is dropped */
        w->answer_rc = cnet_tls_sni_done(s, choose(w->sni_name), 0, NULL);
        w->answer_rc2 = cnet_tls_sni_done(s, NULL, 0, NULL);
        break;
    }
    cnet_socket_release(s);
    maybe_finish(w);
}

static void later(world_t *w, cnet_socket_t *s, unsigned ms)
{
    cnet_socket_retain(s);
    w->pending = s;
    ASSERT_OK(uv_timer_start(&w->timer, on_timer, ms, 0));
}

static void on_sni(cnet_socket_t *s, const char *servername, void *arg)
{
    world_t *w = arg;

    w->sni_calls++;
    snprintf(w->sni_name, sizeof w->sni_name, "%s", servername);
    ASSERT(cnet_socket_is_tls(s));
    ASSERT(cnet_socket_tls_protocol(s) == NULL); /* the handshake waits for us */
    switch (w->sni_mode) {
    case SNI_SYNC:
        ASSERT_OK(cnet_tls_sni_done(s, choose(servername), 0, NULL));
        ASSERT_ERR(CNET_ERR_MULTIPLE_CALLBACK, cnet_tls_sni_done(s, NULL, 0, NULL));
        break;
    case SNI_SYNC_ERR:
        ASSERT_OK(cnet_tls_sni_done(s, NULL, CNET_ENOTFOUND, "no such name"));
        break;
    case SNI_DESTROY_IN_CB:
        cnet_socket_destroy(s);
        ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_tls_sni_done(s, NULL, 0, NULL));
        break;
    case SNI_CLIENT_GOES:
        later(w, s, 100);
        cnet_socket_destroy(w->c[0].s);
        break;
    case SNI_CLOSE_SERVER:
        later(w, s, 20);
        w->server_closed = true;
        ASSERT_OK(cnet_server_close(w->srv, NULL, NULL));
        break;
    case SNI_TIMEOUT:
        later(w, s, 200);
        break;
    case SNI_SWAP_PENDING:
        later(w, s, 20);
        ASSERT_OK(cnet_server_set_secure_context(w->srv, sni_ctx));
        break;
    default:
        /* Not answered yet: misuse is refused and changes nothing. */
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_tls_sni_done(s, NULL, 1, NULL));
        ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_tls_sni_done(NULL, NULL, 0, NULL));
        later(w, s, 20);
        break;
    }
}

static const char *on_alpn(cnet_socket_t *s, const char *servername, const char *const *protocols,
                           size_t count, void *arg)
{
    world_t *w = arg;
    static char copy[32];
    size_t used;

    w->alpn_calls++;
    used =
        (size_t)snprintf(w->alpn_seen, sizeof w->alpn_seen, "%s|", servername ? servername : "-");
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(w->alpn_seen + used, sizeof w->alpn_seen - used, "%s%s",
                                 i ? "," : "", protocols[i]);
    switch (w->alpn_mode) {
    case ALPN_PICK:
        ASSERT(count >= 2);
        snprintf(copy, sizeof copy, "%s", protocols[1]); /* compared by content */
        return copy;
    case ALPN_INVALID:
        return "spdy";
    case ALPN_DESTROY:
        cnet_socket_destroy(s);
        return protocols[0];
    default:
        return NULL;
    }
}

/* ---- the clients ------------------------------------------------------------ */

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    world_t *w = c->w;

    test_log_add(&c->log, cnet_event_name(ev->type));
    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT: {
        const cnet_tls_cert_t *peer = NULL;
        const char *a = cnet_socket_tls_alpn_protocol(s);
        ASSERT(cnet_socket_tls_authorized(s));
        ASSERT_OK(cnet_socket_tls_peer_certificate(s, false, &peer));
        ASSERT(peer != NULL);
        snprintf(c->san, sizeof c->san, "%s", peer->subjectaltname);
        cnet_tls_cert_free(peer);
        snprintf(c->alpn, sizeof c->alpn, "%s", a ? a : "");
        if (w->on_client_secure)
            w->on_client_secure(w, c);
        break;
    }
    case CNET_EVENT_DATA:
        ASSERT(c->data_len + ev->data.len < sizeof c->data);
        memcpy(c->data + c->data_len, ev->data.base, ev->data.len);
        c->data_len += ev->data.len;
        break;
    case CNET_EVENT_ERROR:
        c->err = ev->error->code;
        snprintf(c->msg, sizeof c->msg, "%s", ev->error->message);
        break;
    case CNET_EVENT_CLOSE:
        c->s = NULL;
        w->clients_left--;
        maybe_finish(w);
        break;
    default:
        break;
    }
}

static void client_connect(world_t *w, int i, const char *servername,
                           const char *const *alpn_protocols)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DATA,
                                            CNET_EVENT_END, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
    client_t *c = &w->c[i];

    co.port = w->port;
    co.host = "127.0.0.1";
    to.servername = servername;
    to.alpn_protocols = alpn_protocols;
    ASSERT_OK(cnet_tls_connect(w->loop, &co, client_ctx, &to, NULL, NULL, &c->s));
    for (size_t k = 0; k < CNET__ARRAY_SIZE(evs); k++)
        ASSERT_OK(cnet_socket_on(c->s, evs[k], client_cb, c));
    ASSERT(cnet_socket_write(c->s, "hello", 5, NULL, NULL) >= 0); /* held until secure */
    if (!c->keep_open)
        ASSERT_OK(cnet_socket_end(c->s, NULL, 0, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    world_t *w = arg;
    cnet_address_t a;

    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    w->port = a.port;
    client_connect(w, 0, w->servername, w->alpn);
}

/* A server with @p so; once it listens, the first client connects to it. */
static void world_init(world_t *w, cnet_server_opts_t *so, const char *servername,
                       const char *const *alpn)
{
    memset(w, 0, sizeof *w);
    ASSERT_OK(cnet_loop_new(&w->loop));
    for (int i = 0; i < 2; i++)
        w->c[i].w = &w[0];
    if (so->sni_callback)
        so->sni_arg = w;
    if (so->alpn_callback)
        so->alpn_arg = w;
    ASSERT_OK(cnet_server_new(w->loop, so, &w->srv));
    ASSERT_OK(cnet_server_on(w->srv, CNET_EVENT_CONNECTION, server_cb, w));
    ASSERT_OK(cnet_server_on(w->srv, CNET_EVENT_SECURE_CONNECTION, server_cb, w));
    ASSERT_OK(cnet_server_on(w->srv, CNET_EVENT_TLS_CLIENT_ERROR, server_cb, w));
    ASSERT_OK(cnet_server_on(w->srv, CNET_EVENT_CLOSE, server_cb, w));
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(w->loop), &w->timer));
    w->timer.data = w;
    w->servername = servername;
    w->alpn = alpn;
    w->nclients = w->clients_left = 1;
    ASSERT_OK(cnet_server_listen(w->srv, 0, "127.0.0.1", on_listening, w));
}

static void world_run(world_t *w)
{
    ASSERT_OK(cnet_loop_run(w->loop));
    if (getenv("TLS_TEST_VERBOSE"))
        fprintf(stderr, "[%s] c0: %s | c1: %s | server: %s\n", test_phase_,
                test_log_str(&w->c[0].log), test_log_str(&w->c[1].log), test_log_str(&w->slog));
    ASSERT_EQ(0, (int)cnet_loop_alive(w->loop));
    ASSERT_EQ(1, w->server_closes);
    ASSERT(w->pending == NULL);
    ASSERT_OK(cnet_loop_close(w->loop));
}

/* One client against a server with @p so, asking for @p servername. */
static void run_one(world_t *w, cnet_server_opts_t *so, const char *servername,
                    const char *const *alpn)
{
    world_init(w, so, servername, alpn);
}

/* ---- SNI ---------------------------------------------------------------------- */

static void sni_server_opts(cnet_server_opts_t *so)
{
    *so = (cnet_server_opts_t)CNET_SERVER_OPTS_INIT;
    so->tls = server_ctx;
    so->sni_callback = on_sni;
}

/* No SNI question on a client socket, nor on a plain one. */
static void not_a_question(world_t *w, client_t *c)
{
    cnet_socket_t *plain;

    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet_tls_sni_done(c->s, NULL, 0, NULL));
    ASSERT_OK(cnet_socket_new(w->loop, NULL, &plain));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_STATE, cnet_tls_sni_done(plain, NULL, 0, NULL));
    cnet_socket_destroy(plain);
    w->answer_rc = 1;
}

static void expect_sni_choice(int mode, const char *phase)
{
    cnet_server_opts_t so;
    world_t w;

    test_set_phase(phase);
    sni_server_opts(&so);
    /* The name the callback switches for gets the "sni" certificate. */
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = mode;
    world_run(&w);
    ASSERT_EQ(1, w.sni_calls);
    ASSERT_STR_EQ("sni.example.com", w.sni_name);
    ASSERT_STR_EQ("DNS:sni.example.com", w.c[0].san);
    ASSERT_EQ(5, (int)w.c[0].data_len);
    ASSERT_MEM_EQ("hello", w.c[0].data, 5);
    ASSERT_EQ(1, w.secure_connections);
    if (mode == SNI_ASYNC)
        ASSERT_OK(w.answer_rc);

    /* Another name: NULL keeps the server's own certificate. */
    run_one(&w, &so, "www.example.com", NULL);
    w.sni_mode = mode;
    world_run(&w);
    ASSERT_EQ(1, w.sni_calls);
    ASSERT_STR_EQ("www.example.com", w.sni_name);
    ASSERT(strstr(w.c[0].san, "DNS:*.example.com") != NULL);
    ASSERT_EQ(1, w.secure_connections);
}

static void test_sni_answers(void)
{
    cnet_server_opts_t so;
    world_t w;

    expect_sni_choice(SNI_SYNC, "SNI answered inside the callback");
    expect_sni_choice(SNI_ASYNC, "SNI answered from a timer");

    test_set_phase("SNI: no name sent (an IP address), no call");
    sni_server_opts(&so);
    run_one(&w, &so, NULL, NULL);
    w.on_client_secure = not_a_question;
    world_run(&w);
    ASSERT_EQ(0, w.sni_calls);
    ASSERT_EQ(1, w.secure_connections);
    ASSERT(strstr(w.c[0].san, "DNS:localhost") != NULL);

    ASSERT_EQ(1, w.answer_rc); /* not_a_question ran */
}

static void expect_sni_error(int mode, const char *phase)
{
    cnet_server_opts_t so;
    world_t w;

    test_set_phase(phase);
    sni_server_opts(&so);
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = mode;
    world_run(&w);
    /* node: destroy(err): tlsClientError with it, no alert; the client sees the TCP close. */
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_STR_EQ("ENOTFOUND", cnet_err_name(w.tls_err));
    ASSERT_STR_EQ("no such name", w.tls_msg);
    ASSERT_STR_EQ("end error close", test_log_str(&w.c[0].log));
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err);
    ASSERT_STR_EQ("Client network socket disconnected before secure TLS connection was established",
                  w.c[0].msg);
    if (mode == SNI_ASYNC_ERR)
        ASSERT_OK(w.answer_rc);
}

static void test_sni_errors(void)
{
    expect_sni_error(SNI_SYNC_ERR, "SNI error inside the callback");
    expect_sni_error(SNI_ASYNC_ERR, "SNI error from a timer");
}

static void test_sni_pending(void)
{
    cnet_server_opts_t so;
    world_t w;

    test_set_phase("SNI: destroyed inside the callback");
    sni_server_opts(&so);
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = SNI_DESTROY_IN_CB;
    world_run(&w);
    ASSERT_EQ(1, w.sni_calls);
    ASSERT_EQ(0, w.secure_connections);
    /* node's onSocketClose: destroyed before its handshake, a connection "hangs up". */
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_EQ(CNET_ECONNRESET, w.tls_err);
    ASSERT_STR_EQ("socket hang up", w.tls_msg);
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err);

    test_set_phase("SNI: destroyed while pending, answered twice after");
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = SNI_DESTROY_LATER;
    world_run(&w);
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, w.answer_rc);
    ASSERT_ERR(CNET_ERR_MULTIPLE_CALLBACK, w.answer_rc2);
    ASSERT_EQ(0, w.secure_connections);
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_STR_EQ("socket hang up", w.tls_msg);
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err);

    test_set_phase("SNI: the client goes away while pending");
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = SNI_CLIENT_GOES;
    world_run(&w);
    /* As node: the server socket's connection ends in the handshake: 'socket hang up'. */
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_EQ(CNET_ECONNRESET, w.tls_err);
    ASSERT_STR_EQ("socket hang up", w.tls_msg);
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, w.answer_rc);
    ASSERT_ERR(CNET_ERR_MULTIPLE_CALLBACK, w.answer_rc2);

    test_set_phase("SNI: the handshake timeout while pending");
    sni_server_opts(&so);
    so.handshake_timeout_ms = 50;
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = SNI_TIMEOUT;
    world_run(&w);
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_EQ(CNET_ERR_TLS_HANDSHAKE_TIMEOUT, w.tls_err);
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, w.answer_rc);
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err);

    test_set_phase("SNI: the server closed while pending");
    sni_server_opts(&so);
    run_one(&w, &so, "sni.example.com", NULL);
    w.sni_mode = SNI_CLOSE_SERVER;
    world_run(&w);
    /* close() leaves the connection alone: it completes, then 'close' follows it. */
    ASSERT_OK(w.answer_rc);
    ASSERT_EQ(1, w.secure_connections);
    ASSERT_STR_EQ("DNS:sni.example.com", w.c[0].san);
    ASSERT_MEM_EQ("hello", w.c[0].data, 5);
}

/* ---- ALPN --------------------------------------------------------------------- */

static void test_alpn_callback(void)
{
    static const char *const abc[] = {"a", "b", "c", NULL};
    static const char *const h2[] = {"h2", NULL};
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *with_alpn;
    cnet_server_t *srv;
    world_t w;

    so.tls = server_ctx;
    so.alpn_callback = on_alpn;

    test_set_phase("ALPN callback picks");
    run_one(&w, &so, "www.example.com", abc);
    w.alpn_mode = ALPN_PICK;
    world_run(&w);
    ASSERT_EQ(1, w.alpn_calls);
    ASSERT_STR_EQ("www.example.com|a,b,c", w.alpn_seen);
    ASSERT_STR_EQ("b", w.c[0].alpn);
    ASSERT_EQ(1, w.secure_connections);

    test_set_phase("ALPN callback without SNI");
    run_one(&w, &so, NULL, abc);
    w.alpn_mode = ALPN_PICK;
    world_run(&w);
    ASSERT_STR_EQ("-|a,b,c", w.alpn_seen);
    ASSERT_STR_EQ("b", w.c[0].alpn);

    test_set_phase("ALPN callback: a client without ALPN");
    run_one(&w, &so, NULL, NULL);
    world_run(&w);
    ASSERT_EQ(0, w.alpn_calls);
    ASSERT_STR_EQ("", w.c[0].alpn);
    ASSERT_EQ(1, w.secure_connections);

    test_set_phase("ALPN callback refuses");
    run_one(&w, &so, NULL, abc);
    w.alpn_mode = ALPN_REFUSE;
    world_run(&w);
    ASSERT_EQ(0, w.secure_connections);
    ASSERT_STR_EQ("ERR_SSL_NO_APPLICATION_PROTOCOL", cnet_err_name(w.tls_err));
    ASSERT_STR_EQ("ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL", cnet_err_name(w.c[0].err));

    test_set_phase("ALPN callback returns a name not offered");
    run_one(&w, &so, NULL, abc);
    w.alpn_mode = ALPN_INVALID;
    world_run(&w);
    ASSERT_EQ(0, w.secure_connections);
    ASSERT_EQ(CNET_ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, w.tls_err);
    ASSERT_STR_EQ("ALPN callback returned a value (spdy) that did not match any of the client's "
                  "offered protocols (a, b, c)",
                  w.tls_msg);
    /* node destroys the socket: no alert, the client sees the connection close. */
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err);

    test_set_phase("ALPN callback destroys the socket");
    run_one(&w, &so, NULL, abc);
    w.alpn_mode = ALPN_DESTROY;
    world_run(&w);
    ASSERT_EQ(1, w.alpn_calls);
    ASSERT_EQ(0, w.secure_connections);
    ASSERT_STR_EQ("tlsClientError sclose", test_log_str(&w.slog));
    ASSERT_STR_EQ("socket hang up", w.tls_msg);
    ASSERT_EQ(CNET_ECONNRESET, w.c[0].err); /* no alert went out */

    test_set_phase("ALPN callback and ALPNProtocols are exclusive");
    co.alpn_protocols = h2;
    with_alpn = tls_ctx(pki.leaf_key, pki.server_chain, NULL, &co);
    so.tls = with_alpn;
    ASSERT_ERR(CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS, cnet_server_new(NULL, &so, &srv));
    ASSERT(srv == NULL);
    so.tls = server_ctx;
    ASSERT_OK(cnet_server_new(NULL, &so, &srv));
    ASSERT_ERR(CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS,
               cnet_server_set_secure_context(srv, with_alpn));
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_run());
    cnet_tls_context_release(with_alpn);
}

/* ---- setSecureContext ---------------------------------------------------------- */

static void swap_on_secure(world_t *w, client_t *c)
{
    if (c == &w->c[0]) {
        /* The first connection is up: reload, then a second client connects. */
        ASSERT_OK(cnet_server_set_secure_context(w->srv, sni_ctx));
        client_connect(w, 1, "sni.example.com", NULL);
        return;
    }
    /* The second saw the new certificate; the first still works on the old one. */
    ASSERT_STR_EQ("DNS:sni.example.com", c->san);
    ASSERT_OK(cnet_socket_end(w->c[0].s, "again", 5, NULL, NULL));
}

static void test_set_secure_context(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *first = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    cnet_server_t *plain;
    world_t w;

    test_set_phase("setSecureContext: misuse");
    ASSERT_OK(cnet_server_new(NULL, NULL, &plain));
    ASSERT_ERR(CNET_ERR_TLS_INVALID_CONTEXT, cnet_server_set_secure_context(plain, server_ctx));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_set_secure_context(NULL, server_ctx));
    cnet_server_destroy(plain);
    ASSERT_OK(cnet_run());

    test_set_phase("setSecureContext with a connection open");
    so.tls = first;
    world_init(&w, &so, "sni.example.com", NULL);
    ASSERT_ERR(CNET_ERR_TLS_INVALID_CONTEXT, cnet_server_set_secure_context(w.srv, NULL));
    /* The server and the open connection hold the first context: ours may go. */
    cnet_tls_context_release(first);
    w.nclients = w.clients_left = 2;
    w.c[0].keep_open = true;
    w.on_client_secure = swap_on_secure;
    world_run(&w);
    ASSERT_EQ(2, w.secure_connections);
    ASSERT(strstr(w.c[0].san, "DNS:*.example.com") != NULL);
    ASSERT_STR_EQ("DNS:sni.example.com", w.c[1].san);
    ASSERT_EQ(10, (int)w.c[0].data_len); /* hello, then again over the old connection */
    ASSERT_MEM_EQ("helloagain", w.c[0].data, 10);
    ASSERT_MEM_EQ("hello", w.c[1].data, 5);

    test_set_phase("setSecureContext during a pending SNI answer");
    sni_server_opts(&so);
    run_one(&w, &so, "www.example.com", NULL);
    w.sni_mode = SNI_SWAP_PENDING;
    world_run(&w);
    /* Accepted before the swap: the context it started with. */
    ASSERT_OK(w.answer_rc);
    ASSERT(strstr(w.c[0].san, "DNS:*.example.com") != NULL);
    ASSERT_EQ(1, w.secure_connections);
}

int main(void)
{
    test_watchdog(60);
    tls_pki_make(&pki);
    server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    sni_ctx = tls_ctx(pki.leaf_key, pki.sni_chain, NULL, NULL);
    client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);

    test_sni_answers();
    test_sni_errors();
    test_sni_pending();
    test_alpn_callback();
    test_set_secure_context();

    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(sni_ctx);
    cnet_tls_context_release(client_ctx);
    tls_pki_free(&pki);
    printf("ok\n");
    return 0;
}
