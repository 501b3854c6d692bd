/* resetAndDestroy() after the peer's FIN; the same steps as sock_reset_after_fin.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end_str(ev->connection, "x"));
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_reset_and_destroy(s));
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *s;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &s));
    conf_trace_socket(s, &client_side);
    CONF_OK(cnet_socket_on(s, CNET_EVENT_END, on_end, NULL));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
