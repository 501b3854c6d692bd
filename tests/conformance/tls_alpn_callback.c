/* TLS (issue 9): a server's ALPN callback; the same steps as tls_alpn_callback.js. */
#include <stdlib.h>
#include <unistd.h>

#include <cnet/uv.h>

#include "conformance.h"

static cnet_server_t *server;
static cnet_tls_context_t *client_ctx;
static uv_timer_t next_timer;
static int port, next_client;

static const char *const alpn1[] = {"a", "b", NULL}, *const alpn2[] = {"h2", "c", NULL},
                         *const alpn3[] = {"none", NULL}, *const alpn4[] = {"x", "y", NULL};
static const struct {
    const char *servername;
    const char *const *alpn;
} plan[] = {{"localhost", alpn1}, {NULL, alpn2}, {NULL, alpn3}, {NULL, alpn4}, {NULL, NULL}};

static const char *on_alpn(cnet_socket_t *s, const char *servername, const char *const *protocols,
                           size_t count, void *arg)
{
    char list[256];
    size_t used = 0;

    list[0] = '\0';
    for (size_t i = 0; i < count; i++)
        used +=
            (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "", protocols[i]);
    conf_log("server ALPNCallback %s %s", servername ? servername : "-", list);
    if (strcmp(protocols[0], "a") == 0)
        return protocols[1];
    if (strcmp(protocols[0], "h2") == 0)
        return "h2";
    if (strcmp(protocols[0], "x") == 0)
        return "spdy";
    return NULL;
}

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        const char *a = cnet_socket_tls_alpn_protocol(ev->connection);
        conf_log("server secureConnection %s", a ? a : "false");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        if (ev->error->code == CNET_ERR_SSL_NO_APPLICATION_PROTOCOL)
            conf_log("server tlsClientError %s", cnet_err_name(ev->error->code));
        else
            conf_log("server tlsClientError %s %s", cnet_err_name(ev->error->code),
                     conf_esc(ev->error->message, strlen(ev->error->message)));
    }
}

static void connect_next(uv_timer_t *t);

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int n = (int)(intptr_t)arg;
    const char *a;

    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT:
        a = cnet_socket_tls_alpn_protocol(s);
        conf_log("client%d secureConnect %s", n, a ? a : "false");
        break;
    case CNET_EVENT_DATA:
        conf_log("client%d data %s", n, conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("client%d end", n);
        break;
    case CNET_EVENT_ERROR:
        if (ev->error->code == CNET_ECONNRESET)
            conf_log("client%d error %s %s", n, cnet_err_name(ev->error->code),
                     conf_esc(ev->error->message, strlen(ev->error->message)));
        else
            conf_log("client%d error %s", n, cnet_err_name(ev->error->code));
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
        uv_close((uv_handle_t *)&next_timer, NULL);
        CONF_OK(cnet_server_close(server, NULL, NULL));
        return;
    }
    o.port = port;
    o.host = "127.0.0.1";
    to.servername = plan[i].servername;
    to.alpn_protocols = plan[i].alpn;
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &to, NULL, NULL, &c));
    for (size_t k = 0; k < sizeof evs / sizeof evs[0]; k++)
        CONF_OK(cnet_socket_on(c, evs[k], on_client, (void *)(intptr_t)(i + 1)));
    if (plan[i].alpn == alpn3)
        CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
    else
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
    static const char *const h2[] = {"h2", NULL};
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_opts_t so = CNET_TLS_CONTEXT_OPTS_INIT, co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *server_ctx, *with_alpn;
    cnet_server_t *refused = NULL;
    int r;

    conf_deadline(5);
    if (access("tls_a_key.pem", R_OK) != 0 &&
        system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
               "-keyout tls_a_key.pem -out tls_a_cert.pem -subj /CN=a.example.com -addext "
               "subjectAltName=DNS:a.example.com,DNS:localhost,IP:127.0.0.1 -days 2 "
               "2>/dev/null") != 0)
        return 1;
    so.key_file = "tls_a_key.pem";
    so.cert_file = "tls_a_cert.pem";
    CONF_OK(cnet_tls_context_new(&so, &server_ctx, NULL, 0));
    so.alpn_protocols = h2;
    CONF_OK(cnet_tls_context_new(&so, &with_alpn, NULL, 0));
    co.ca_file = "tls_a_cert.pem";
    CONF_OK(cnet_tls_context_new(&co, &client_ctx, NULL, 0));

    /* node throws at tls.createServer; cnet_server_new refuses. */
    o.tls = with_alpn;
    o.alpn_callback = on_alpn;
    r = cnet_server_new(NULL, &o, &refused);
    conf_log("server createServer %s %s", cnet_err_name(r),
             conf_esc(cnet_strerror(r), strlen(cnet_strerror(r))));
    cnet_tls_context_release(with_alpn);

    o.tls = server_ctx;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_TLS_CLIENT_ERROR, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &next_timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    r = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    return r;
}
