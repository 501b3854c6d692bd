/* write(null) in every state; the same steps as sock_write_null.js. write(null)
 * is cnet_socket_write_str(s, NULL), and cnet_socket_write(s, NULL, n) with
 * n > 0 must say the same. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static void try_null(cnet_socket_t *s, const char *state)
{
    int r = cnet_socket_write_str(s, NULL);
    if (cnet_socket_write(s, NULL, 1, NULL, NULL) != r)
        conf_log("client %s write(NULL, 1) differs from write_str(NULL)", state);
    if (r >= 0)
        conf_log("client %s write(null) accepted", state);
    else
        conf_log("client %s write(null) %s", state, cnet_err_name(r));
}

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    try_null(s, "open");
    CONF_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    try_null(s, "ended");
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    try_null(s, "closed");
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
    o.allow_half_open = true;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &s));
    conf_trace_socket(s, &client_side);
    try_null(s, "connecting");
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CONNECT, on_connect, NULL));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    cnet_socket_t *fresh, *d;

    conf_deadline(5);
    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_socket_new(NULL, NULL, &fresh));
    try_null(fresh, "fresh");
    cnet_socket_destroy(fresh);
    CONF_OK(cnet_socket_new(NULL, NULL, &d));
    cnet_socket_retain(d);
    cnet_socket_destroy(d);
    try_null(d, "destroyed");
    cnet_socket_release(d);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
