/* TLS (issue 9): a server's SNI callback; the same steps as tls_sni_callback.js. */
#include <stdlib.h>
#include <unistd.h>

#include <cnet/uv.h>

#include "conformance.h"

static cnet_server_t *server;
static cnet_tls_context_t *actx, *bctx, *client_ctx;
static uv_timer_t timer, next_timer;
static cnet_socket_t *pending; /* retained while its answer waits */
static char pending_name[64];
static int port, next_client;

static const char *const plan[] = {"b.example.com", "localhost", "x.example.com", "y.example.com",
                                   NULL};

/* A self-signed certificate for @p cn (and localhost, 127.0.0.1), as tls_sni_callback.js makes. */
static int pem(const char *name, const char *cn)
{
    char cmd[512], key[64];
    snprintf(key, sizeof key, "tls_%s_key.pem", name);
    if (access(key, R_OK) == 0)
        return 0;
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s "
             "-out tls_%s_cert.pem -subj /CN=%s -addext "
             "subjectAltName=DNS:%s,DNS:localhost,IP:127.0.0.1 -days 2 2>/dev/null",
             key, name, cn, cn);
    return system(cmd);
}

static cnet_tls_context_t *load(const char *name, bool identity)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    char key[64], cert[64];
    snprintf(key, sizeof key, "tls_%s_key.pem", name);
    snprintf(cert, sizeof cert, "tls_%s_cert.pem", name);
    if (identity) {
        o.key_file = key;
        o.cert_file = cert;
    } else {
        o.ca_file = cert;
    }
    CONF_OK(cnet_tls_context_new(&o, &ctx, NULL, 0));
    return ctx;
}

static void on_answer(uv_timer_t *t)
{
    cnet_socket_t *s = pending;

    pending = NULL;
    if (strcmp(pending_name, "b.example.com") == 0) {
        CONF_OK(cnet_tls_sni_done(s, bctx, 0, NULL));
    } else if (strcmp(pending_name, "x.example.com") == 0) {
        CONF_OK(cnet_tls_sni_done(s, NULL, CNET_ENOTFOUND, "no certificate for x.example.com"));
    } else {
        cnet_socket_destroy(s);
        if (cnet_tls_sni_done(s, bctx, 0, NULL) != CNET_ERR_SOCKET_CLOSED) /* node ignores it */
            abort();
    }
    cnet_socket_release(s);
}

static void on_sni(cnet_socket_t *s, const char *name, void *arg)
{
    conf_log("server SNICallback %s", name);
    if (strcmp(name, "localhost") == 0) {
        CONF_OK(cnet_tls_sni_done(s, NULL, 0, NULL));
        return;
    }
    snprintf(pending_name, sizeof pending_name, "%s", name);
    cnet_socket_retain(s);
    pending = s;
    CONF_OK(uv_timer_start(&timer, on_answer, 20, 0));
}

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        const char *n = cnet_socket_tls_servername(ev->connection);
        conf_log("server secureConnection %s", n ? n : "false");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        conf_log("server tlsClientError %s %s", cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
    }
}

static void connect_next(uv_timer_t *t);

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int n = (int)(intptr_t)arg;
    const cnet_tls_cert_t *peer;

    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT:
        CONF_OK(cnet_socket_tls_peer_certificate(s, false, &peer));
        conf_log("client%d secureConnect %s %s", n,
                 cnet_socket_tls_authorized(s) ? "true" : "false",
                 cnet_tls_name_get(&peer->subject, "CN"));
        cnet_tls_cert_free(peer);
        break;
    case CNET_EVENT_DATA:
        conf_log("client%d data %s", n, conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("client%d end", n);
        break;
    case CNET_EVENT_ERROR:
        conf_log("client%d error %s %s", n, cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("client%d close", n);
        CONF_OK(uv_timer_start(&next_timer, connect_next, 50, 0));
        break;
    default:
        break;
    }
}

static void connect_next(uv_timer_t *t)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DATA,
                                            CNET_EVENT_END, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
    int i = next_client++;
    cnet_socket_t *c;

    if (i == (int)(sizeof plan / sizeof plan[0])) {
        uv_close((uv_handle_t *)&timer, NULL);
        uv_close((uv_handle_t *)&next_timer, NULL);
        CONF_OK(cnet_server_close(server, NULL, NULL));
        return;
    }
    o.port = port;
    o.host = "127.0.0.1";
    to.servername = plan[i];
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &to, NULL, NULL, &c));
    for (size_t k = 0; k < sizeof evs / sizeof evs[0]; k++)
        CONF_OK(cnet_socket_on(c, evs[k], on_client, (void *)(intptr_t)(i + 1)));
    CONF_OK(cnet_socket_end(c, "ping", 4, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    connect_next(NULL);
}

int main(void)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;

    conf_deadline(5);
    if (pem("a", "a.example.com") != 0 || pem("b", "b.example.com") != 0 ||
        system("cat tls_a_cert.pem tls_b_cert.pem > tls_ab_ca.pem") != 0)
        return 1;
    actx = load("a", true);
    bctx = load("b", true);
    co.ca_file = "tls_ab_ca.pem"; /* trusts both */
    CONF_OK(cnet_tls_context_new(&co, &client_ctx, NULL, 0));
    o.tls = actx;
    o.sni_callback = on_sni;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_TLS_CLIENT_ERROR, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &next_timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(actx);
    cnet_tls_context_release(bctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
