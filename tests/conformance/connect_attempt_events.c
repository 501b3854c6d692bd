/* Item 5 of issue 8: connectionAttempt/Failed for every kind of connect; see the .js. */
#include "conformance.h"

static cnet_server_t *server, *tcp;
static int port;
static size_t cur;
static const conf_side_t sides[] = {{"pipe", CONF_DATA_TEXT},
                                    {"pipeok", CONF_DATA_TEXT},
                                    {"ip", CONF_DATA_TEXT},
                                    {"name", CONF_DATA_TEXT}};

static void next(void);

static void destroy_cb(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(c);
}

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    next();
}

static void next(void)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;
    size_t i = cur++;

    if (i == sizeof sides / sizeof sides[0]) {
        CONF_OK(cnet_server_close(server, NULL, NULL));
        CONF_OK(cnet_server_close(tcp, NULL, NULL));
        return;
    }
    CONF_OK(cnet_socket_new(NULL, NULL, &c));
    conf_trace_socket(c, &sides[i]);
    conf_trace_attempts(c, &sides[i]);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, destroy_cb, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
    switch (i) {
    case 0:
        CONF_OK(cnet_socket_connect_path(c, "missing.sock", NULL, NULL));
        break;
    case 1:
        CONF_OK(cnet_socket_connect_path(c, "conn.sock", NULL, NULL));
        break;
    case 2:
        CONF_OK(cnet_socket_connect(c, port, "127.0.0.1", NULL, NULL));
        break;
    default:
        o.port = port;
        o.host = "localhost";
        o.family = 4;
        CONF_OK(cnet_socket_connect_opts(c, &o, NULL, NULL));
    }
}

static void on_tcp_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    conf_named_port("PORT", port);
    next();
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_listen(tcp, 0, "127.0.0.1", on_tcp_listening, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(ev->connection);
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    tcp = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen_path(server, "conn.sock", on_listening, NULL));
    return cnet_run();
}
