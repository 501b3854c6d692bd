/* end() on a socket the library already ended; the same steps as sock_end_again.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static const char *code(int status)
{
    return status ? cnet_err_name(status) : "-";
}

static void end_cb(cnet_socket_t *s, int status, void *arg)
{
    conf_log("client %s %s", (const char *)arg, code(status));
}

static void write_cb(cnet_socket_t *s, int status, void *arg)
{
    conf_log("client write-cb %s", code(status));
    CONF_OK(cnet_socket_end(s, NULL, 0, end_cb, "end-cb1"));
    CONF_OK(cnet_socket_end(s, NULL, 0, end_cb, "end-cb2"));
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int r = cnet_socket_write(s, "bye", 3, write_cb, NULL);
    if (r < 0)
        conf_log("CALL FAILED write: %s", cnet_err_name(r));
}

static void on_finish(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end(s, NULL, 0, end_cb, "end-cb3"));
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end(ev->connection, NULL, 0, NULL, NULL));
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
    CONF_OK(cnet_socket_on(s, CNET_EVENT_FINISH, on_finish, NULL));
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
