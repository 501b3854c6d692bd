/* Addresses after close (issue 8); the same steps as sockopt_addresses.js. */
#include "conformance.h"

static cnet_server_t *server;
static int server_port, client_ports[2], nclient_ports, closed;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t a_side = {"a", CONF_DATA_TEXT}, b_side = {"b", CONF_DATA_TEXT};

/* At 'connection' the client may not know its own port yet: "set" then. */
static const char *port_name(int p, bool early)
{
    if (p == server_port)
        return "server-port";
    if (early)
        return p > 0 ? "set" : "unset";
    for (int i = 0; i < nclient_ports; i++)
        if (p == client_ports[i])
            return "client-port";
    return "other";
}

/* node prints undefined for what it does not know. */
static void show(const char *side, const char *what, cnet_socket_t *s, bool peer)
{
    cnet_address_t a;
    int err = peer ? cnet_socket_remote_address(s, &a) : cnet_socket_address(s, &a);

    if (err)
        conf_log("%s %s %s undefined undefined undefined", side, what, peer ? "remote" : "local");
    else
        conf_log("%s %s %s %s %d %s", side, what, peer ? "remote" : "local", a.address, a.family,
                 port_name(a.port, peer && strcmp(what, "connection") == 0));
}

static void on_peer_data(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    if (ev->data.len == 5 && memcmp(ev->data.base, "reset", 5) == 0)
        CONF_OK(cnet_socket_reset_and_destroy(c));
}

static void on_peer_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    show("peer", "close", c, true);
    if (++closed == 2)
        CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *c = ev->connection;

    show("peer", "connection", c, true);
    show("peer", "connection", c, false);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_DATA, on_peer_data, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_peer_close, NULL));
}

static void remember_local_port(cnet_socket_t *s)
{
    cnet_address_t a;
    if (cnet_socket_address(s, &a) == 0 && nclient_ports < 2)
        client_ports[nclient_ports++] = a.port;
}

static void on_b_connect(cnet_socket_t *b, const cnet_event_t *ev, void *arg)
{
    remember_local_port(b);
    show("b", "connect", b, true);
    CONF_OK(cnet_socket_end(b, NULL, 0, NULL, NULL));
}

static void on_b_close(cnet_socket_t *b, const cnet_event_t *ev, void *arg)
{
    show("b", "close", b, true);
}

static void on_a_connect(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    remember_local_port(a);
    show("a", "connect", a, true);
    show("a", "connect", a, false);
    CONF_OK(cnet_socket_write_str(a, "reset"));
}

static void on_a_error(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    show("a", "error", a, true);
}

static void on_a_close(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *b;

    show("a", "close", a, true);
    b = cnet_connect(server_port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(b, &b_side);
    CONF_OK(cnet_socket_on(b, CNET_EVENT_CONNECT, on_b_connect, NULL));
    CONF_OK(cnet_socket_on(b, CNET_EVENT_CLOSE, on_b_close, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t addr;
    cnet_socket_t *a;

    CONF_OK(cnet_server_address(srv, &addr));
    server_port = addr.port;
    a = cnet_connect(server_port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(a, &a_side);
    CONF_OK(cnet_socket_on(a, CNET_EVENT_CONNECT, on_a_connect, NULL));
    CONF_OK(cnet_socket_on(a, CNET_EVENT_ERROR, on_a_error, NULL));
    CONF_OK(cnet_socket_on(a, CNET_EVENT_CLOSE, on_a_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
