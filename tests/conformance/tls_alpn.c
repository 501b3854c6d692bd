/* TLS (issue 9): ALPN on both sides; the same steps as tls_alpn.js. */
#include <cnet/uv.h>

#include "tls_common.h"

static cnet_server_t *server, *plain;
static cnet_tls_context_t *client_ctx;
static uv_timer_t timer;
static int next_client = 1;
static const char *const sides[] = {"", "client1", "client2", "client3", "client4", "client5"};
static const char *const server_alpn[] = {"h2", "http/1.1", NULL};
static const char *const alpn1[] = {"http/1.1", "h2", NULL};
static const char *const alpn2[] = {"http/1.1", "x", NULL};
static const char *const alpn4[] = {"spdy/3", NULL};
static const char *const alpn5[] = {"h2", NULL};
static const char *const *const client_alpn[] = {NULL, alpn1, alpn2, NULL, alpn4, alpn5};

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const char *name = arg;
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        const char *alpn = cnet_socket_tls_alpn_protocol(ev->connection);
        conf_log("%s secureConnection %s", name, alpn ? alpn : "false");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
    } else {
        conf_log("%s tlsClientError %s %s", name, cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
    }
}

static void connect_next(uv_timer_t *t);

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(uv_timer_start(&timer, connect_next, 30, 0));
}

static int port_of(cnet_server_t *srv)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    return a.port;
}

static void connect_next(uv_timer_t *t)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t topts = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_socket_t *c;
    int n = next_client++;

    if (n > 5) {
        uv_close((uv_handle_t *)&timer, NULL);
        CONF_OK(cnet_server_close(server, NULL, NULL));
        CONF_OK(cnet_server_close(plain, NULL, NULL));
        return;
    }
    o.port = port_of(n == 5 ? plain : server);
    o.host = "127.0.0.1";
    topts.alpn_protocols = client_alpn[n];
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &topts, NULL, NULL, &c));
    conf_trace_tls(c, sides[n], true);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
    if (n != 4)
        CONF_OK(cnet_socket_write(c, "ping", 4, NULL, NULL) < 0);
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void on_plain_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    connect_next(NULL);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_listen(plain, 0, "127.0.0.1", on_plain_listening, NULL));
}

static cnet_server_t *make_server(cnet_tls_context_t *ctx, const char *name)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv;
    o.tls = ctx;
    CONF_OK(cnet_server_new(NULL, &o, &srv));
    CONF_OK(cnet_server_on(srv, CNET_EVENT_SECURE_CONNECTION, on_server, (void *)name));
    CONF_OK(cnet_server_on(srv, CNET_EVENT_TLS_CLIENT_ERROR, on_server, (void *)name));
    return srv;
}

int main(void)
{
    cnet_tls_context_t *server_ctx, *plain_ctx;

    conf_deadline(5);
    if (conf_tls_files() != 0)
        return 1;
    server_ctx = conf_tls_ctx(true, false, server_alpn);
    plain_ctx = conf_tls_ctx(true, false, NULL);
    client_ctx = conf_tls_ctx(false, true, NULL);
    server = make_server(server_ctx, "server");
    plain = make_server(plain_ctx, "server2");
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(plain_ctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
