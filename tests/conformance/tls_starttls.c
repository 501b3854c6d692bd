/* TLS (issue 9): STARTTLS on both sides; the same steps as tls_starttls.js. */
#include <cnet/uv.h>

#include "tls_common.h"

static cnet_server_t *server;
static cnet_tls_context_t *server_ctx, *client_ctx;

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    static bool secured;
    cnet_tls_socket_opts_t o = CNET_TLS_SOCKET_OPTS_INIT;

    if (ev->type == CNET_EVENT_CLOSE) {
        CONF_OK(cnet_server_close(server, NULL, NULL));
    } else if (secured) {
        CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
    } else {
        conf_log("server plain %s", conf_esc(ev->data.base, ev->data.len));
        CONF_OK(cnet_socket_write(s, "GO\n", 3, NULL, NULL) < 0);
        o.is_server = true;
        CONF_OK(cnet_socket_set_secure(s, server_ctx, &o));
        secured = true;
        conf_trace_tls(s, "server", false);
        /* node's echo and 'close' listeners are on the TLS socket, after traceTls's. */
        CONF_OK(cnet_socket_off(s, CNET_EVENT_DATA, on_server_sock, NULL));
        CONF_OK(cnet_socket_off(s, CNET_EVENT_CLOSE, on_server_sock, NULL));
        CONF_OK(cnet_socket_on(s, CNET_EVENT_DATA, on_server_sock, NULL));
        CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_server_sock, NULL));
    }
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, on_server_sock, NULL));
}

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    static bool secured;

    if (ev->type == CNET_EVENT_CONNECT) {
        conf_log("client connect");
    } else if (ev->type == CNET_EVENT_SECURE) {
        conf_log("client authorized %s", cnet_socket_tls_authorized(s) ? "true" : "false");
    } else if (ev->type == CNET_EVENT_DATA && !secured) {
        conf_log("client plain %s", conf_esc(ev->data.base, ev->data.len));
        CONF_OK(cnet_socket_set_secure(s, client_ctx, NULL));
        secured = true;
        CONF_OK(cnet_socket_off(s, CNET_EVENT_DATA, on_client, NULL));
        conf_trace_tls(s, "client", false);
        CONF_OK(cnet_socket_on(s, CNET_EVENT_SECURE, on_client, NULL));
        CONF_OK(cnet_socket_write(s, "secret", 6, NULL, NULL) < 0);
        CONF_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_client, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_DATA, on_client, NULL));
    CONF_OK(cnet_socket_write(c, "STARTTLS\n", 9, NULL, NULL) < 0);
}

int main(void)
{
    conf_deadline(5);
    if (conf_tls_files() != 0)
        return 1;
    server_ctx = conf_tls_ctx(true, false, NULL);
    client_ctx = conf_tls_ctx(false, true, NULL);
    CONF_OK(cnet_server_new(NULL, NULL, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_CONNECTION, on_connection, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
