/* socket.destroy(err) with a message (issue 8); the same steps as sockopt_destroy_error.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static void on_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("%s message %s", (const char *)arg,
             conf_esc(ev->error->message, strlen(ev->error->message)));
}

static void on_peer_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_peer_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy_with_message(s, CNET_ECONNABORTED, "peer gave up: \"quota\"");
    cnet_socket_destroy_with_message(s, CNET_EPIPE, "second destroy");
}

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy_with_message(s, CNET_ERR_SOCKET_CLOSED, "closed by its own \"connect\"");
}

/* Registered after conf_trace_server's listener, as server.on('connection') in the .js. */
static void on_connection_late(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, on_peer_end, NULL));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_ERROR, on_error, "peer"));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, on_peer_close, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    c = cnet_connect(a.port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(c, &client_side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_error, "client"));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_connect, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_on(server, CNET_EVENT_CONNECTION, on_connection_late, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
