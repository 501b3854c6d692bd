/* The v0.2 seeds' echo server; the same steps as seed_echo_v02.js. */
#include "conformance.h"

static cnet_server_t *server;
static char got[256];
static size_t got_len;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_NONE};

static void on_stream_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_stream_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write_str(s, "goodbye\r\n") < 0);
    CONF_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *stream = ev->connection;
    CONF_OK(cnet_socket_set_encoding(stream, "utf8"));
    CONF_OK(cnet_socket_write_str(stream, "hello\r\n") < 0);
    CONF_OK(cnet_socket_on(stream, CNET_EVENT_DATA, on_stream_data, NULL));
    CONF_OK(cnet_socket_on(stream, CNET_EVENT_END, on_stream_end, NULL));
}

static void on_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end_str(c, "world\r\n"));
}

static void on_data(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    if (got_len + ev->data.len <= sizeof got) {
        memcpy(got + got_len, ev->data.base, ev->data.len);
        got_len += ev->data.len;
    }
}

static void on_end(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("client received %s", conf_esc(got, got_len));
}

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *client;

    CONF_OK(cnet_server_address(srv, &a));
    client = cnet_connect(a.port, "localhost", NULL, NULL);
    if (!client) {
        conf_log("CALL FAILED cnet_connect");
        return;
    }
    conf_trace_socket(client, &client_side);
    CONF_OK(cnet_socket_on(client, CNET_EVENT_CONNECT, on_connect, NULL));
    CONF_OK(cnet_socket_on(client, CNET_EVENT_DATA, on_data, NULL));
    CONF_OK(cnet_socket_on(client, CNET_EVENT_END, on_end, NULL));
    CONF_OK(cnet_socket_on(client, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "localhost", on_listening, NULL));
    return cnet_run();
}
