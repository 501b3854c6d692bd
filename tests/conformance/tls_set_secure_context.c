/* TLS (issue 9): server.setSecureContext(); the same steps as tls_set_secure_context.js. */
#include <stdlib.h>
#include <unistd.h>

#include "conformance.h"

static cnet_server_t *server;
static cnet_tls_context_t *bctx, *client_ctx;
static cnet_socket_t *c1;
static int port;

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

static cnet_tls_context_t *identity(const char *name)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    char key[64], cert[64];
    snprintf(key, sizeof key, "tls_%s_key.pem", name);
    snprintf(cert, sizeof cert, "tls_%s_cert.pem", name);
    o.key_file = key;
    o.cert_file = cert;
    CONF_OK(cnet_tls_context_new(&o, &ctx, NULL, 0));
    return ctx;
}

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_DATA)
        CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
    else if (ev->type == CNET_EVENT_END)
        conf_log("server end");
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        conf_log("server secureConnection");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, on_server_sock, NULL));
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        conf_log("server tlsClientError %s %s", cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
    } else if (ev->type == CNET_EVENT_CLOSE) {
        conf_log("server close");
    }
}

static const char *peer_cn(cnet_socket_t *s, char *buf, size_t size)
{
    const cnet_tls_cert_t *peer = NULL;
    CONF_OK(cnet_socket_tls_peer_certificate(s, false, &peer));
    snprintf(buf, size, "%s", peer ? cnet_tls_name_get(&peer->subject, "CN") : "-");
    cnet_tls_cert_free(peer);
    return buf;
}

static cnet_socket_t *connect_n(int n);

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int n = (int)(intptr_t)arg;
    char cn[64];

    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT:
        conf_log("client%d secureConnect %s %s", n,
                 cnet_socket_tls_authorized(s) ? "true" : "false", peer_cn(s, cn, sizeof cn));
        if (n == 1) {
            CONF_OK(cnet_server_set_secure_context(server, bctx));
            conf_log("server setSecureContext");
            connect_n(2);
        } else {
            CONF_OK(cnet_socket_end(s, "ping", 4, NULL, NULL));
        }
        break;
    case CNET_EVENT_DATA:
        conf_log("client%d data %s %s", n, conf_esc(ev->data.base, ev->data.len),
                 peer_cn(s, cn, sizeof cn));
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
        if (n == 2)
            CONF_OK(cnet_socket_end(c1, "again", 5, NULL, NULL));
        else
            CONF_OK(cnet_server_close(server, NULL, NULL));
        break;
    default:
        break;
    }
}

static cnet_socket_t *connect_n(int n)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DATA,
                                            CNET_EVENT_END, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_socket_t *c;

    o.port = port;
    o.host = "127.0.0.1";
    to.servername = "localhost";
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &to, NULL, NULL, &c));
    for (size_t k = 0; k < sizeof evs / sizeof evs[0]; k++)
        CONF_OK(cnet_socket_on(c, evs[k], on_client, (void *)(intptr_t)n));
    return c;
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    c1 = connect_n(1);
}

int main(void)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;

    conf_deadline(5);
    if (pem("a", "a.example.com") != 0 || pem("b", "b.example.com") != 0 ||
        system("cat tls_a_cert.pem tls_b_cert.pem > tls_ab_ca.pem") != 0)
        return 1;
    o.tls = identity("a");
    bctx = identity("b");
    co.ca_file = "tls_ab_ca.pem";
    CONF_OK(cnet_tls_context_new(&co, &client_ctx, NULL, 0));
    CONF_OK(cnet_server_new(NULL, &o, &server));
    cnet_tls_context_release(o.tls); /* the server holds it */
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_TLS_CLIENT_ERROR, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_CLOSE, on_server, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(bctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
