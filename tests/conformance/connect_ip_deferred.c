/* Item 1 of issue 8: the connect(2) to an IP literal waits for the next tick; see the .js. */
#include "conformance.h"

static cnet_server_t *server;
static int port, connections;
static const conf_side_t side_a = {"a", CONF_DATA_TEXT}, side_b = {"b", CONF_DATA_NONE};

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    connections++;
    cnet_socket_destroy(ev->connection);
}

static void on_b_close(cnet_socket_t *b, const cnet_event_t *ev, void *arg)
{
    conf_log("server connections %d", connections);
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_a_close(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *b = cnet_connect(port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(b, &side_b);
    CONF_OK(cnet_socket_on(b, CNET_EVENT_CLOSE, on_b_close, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t addr;
    cnet_socket_t *a;

    CONF_OK(cnet_server_address(srv, &addr));
    port = addr.port;
    a = cnet_connect(port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(a, &side_a);
    conf_trace_attempts(a, &side_a);
    conf_log("a connecting %s %s", cnet_socket_is_connecting(a) ? "true" : "false",
             cnet_ready_state_name(cnet_socket_ready_state(a)));
    cnet_socket_destroy(a);
    conf_log("a destroyed %s", cnet_socket_is_destroyed(a) ? "true" : "false");
    CONF_OK(cnet_socket_on(a, CNET_EVENT_CLOSE, on_a_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
