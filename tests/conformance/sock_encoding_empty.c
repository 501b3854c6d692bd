/* An empty encoding name means utf8; the same steps as sock_encoding_empty.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static void peer_text(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("peer text %s %s", ev->encoding ? "string" : "bytes",
             ev->encoding ? ev->encoding : "-");
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_set_encoding(ev->connection, ""));
    /* Prepended: node's listener is added in the connection listener, before traceSocket's. */
    CONF_OK(cnet_socket_prepend(ev->connection, CNET_EVENT_DATA, peer_text, NULL));
}

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write_enc(s, "h\xc3\xa9llo", 6, "", NULL, NULL));
    conf_log("client bytesWritten %llu", (unsigned long long)cnet_socket_bytes_written(s));
    CONF_OK(cnet_socket_end_enc(s, "", 0, "", NULL, NULL));
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
    CONF_OK(cnet_create_connection(NULL, &o, on_connect, NULL, &s));
    conf_trace_socket(s, &client_side);
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_on(server, CNET_EVENT_CONNECTION, on_connection, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
