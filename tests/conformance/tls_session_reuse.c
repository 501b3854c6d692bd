/* TLS (issue 9): session reuse over TLS 1.3 and 1.2; the same steps as tls_session_reuse.js. */
#include <cnet/uv.h>

#include "tls_common.h"

static cnet_server_t *server;
static cnet_tls_context_t *ctx13, *ctx12;
static int port;
static uv_timer_t timer;
static int next_client = 1;
static unsigned char *saved;
static size_t saved_len;
static const char *const sides[] = {"", "client1", "client2", "client3", "client4"};

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("server secureConnection %s",
             cnet_socket_tls_session_reused(ev->connection) ? "true" : "false");
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
}

static void connect_next(uv_timer_t *t);

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const char *side = arg;
    if (ev->type == CNET_EVENT_SECURE_CONNECT) {
        conf_log("%s reused %s", side, cnet_socket_tls_session_reused(s) ? "true" : "false");
    } else if (ev->type == CNET_EVENT_DATA) {
        cnet_tls_free(saved);
        CONF_OK(cnet_socket_tls_get_session(s, &saved, &saved_len));
        conf_log("%s getSession %s", side, saved ? "yes" : "none");
    } else if (ev->type == CNET_EVENT_CLOSE) {
        CONF_OK(uv_timer_start(&timer, connect_next, 10, 0));
    }
}

static void connect_next(uv_timer_t *t)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t topts = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_socket_t *c;
    int n = next_client++;

    if (n > 4) {
        uv_close((uv_handle_t *)&timer, NULL);
        CONF_OK(cnet_server_close(server, NULL, NULL));
        return;
    }
    o.port = port;
    o.host = "127.0.0.1";
    if (n == 2 || n == 4) {
        topts.session = saved;
        topts.session_len = saved_len;
    }
    CONF_OK(cnet_tls_connect(NULL, &o, n >= 3 ? ctx12 : ctx13, &topts, NULL, NULL, &c));
    conf_trace_tls(c, sides[n], true);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_SECURE_CONNECT, on_client, (void *)sides[n]));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_DATA, on_client, (void *)sides[n]));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_client, (void *)sides[n]));
    CONF_OK(cnet_socket_write(c, "ping", 4, NULL, NULL) < 0);
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
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
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *server_ctx;

    conf_deadline(5);
    if (conf_tls_files() != 0)
        return 1;
    server_ctx = conf_tls_ctx(true, false, NULL);
    ctx13 = conf_tls_ctx(false, true, NULL);
    co.ca_file = "tls_cert.pem";
    co.max_version = CNET_TLSV1_2;
    CONF_OK(cnet_tls_context_new(&co, &ctx12, NULL, 0));
    o.tls = server_ctx;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_free(saved);
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(ctx13);
    cnet_tls_context_release(ctx12);
    return rc;
}
