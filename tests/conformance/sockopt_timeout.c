/* socket.setTimeout (issue 8); the same steps as sockopt_timeout.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

/* node's socket.timeout: undefined until setTimeout() was called. */
static void log_timeout(const char *side, cnet_socket_t *s)
{
    if (cnet_socket_has_timeout(s))
        conf_log("%s timeout %u", side, cnet_socket_get_timeout(s));
    else
        conf_log("%s timeout undefined", side);
}

static void log_listeners(cnet_socket_t *s)
{
    conf_log("client listeners %zu timeout %u", cnet_socket_listener_count(s, CNET_EVENT_TIMEOUT),
             cnet_socket_get_timeout(s));
}

static void on_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("client cb");
}

static void on_cb2(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("client cb2");
}

static void on_timeout(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    log_listeners(s);
    cnet_socket_destroy(s);
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    log_timeout("client", s);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    c = cnet_connect(a.port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(c, &client_side);
    log_timeout("client", c);
    CONF_OK(cnet_socket_set_timeout(c, 30, on_cb, NULL));
    CONF_OK(cnet_socket_set_timeout(c, 30, on_cb, NULL));
    log_listeners(c);
    CONF_OK(cnet_socket_set_timeout(c, 0, on_cb, NULL));
    log_listeners(c);
    CONF_OK(cnet_socket_set_timeout(c, 0, on_cb2, NULL));
    log_listeners(c);
    CONF_OK(cnet_socket_set_timeout(c, 40, on_cb2, NULL));
    log_listeners(c);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_TIMEOUT, on_timeout, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    cnet_socket_t *fresh;

    conf_deadline(5);
    CONF_OK(cnet_socket_new(NULL, NULL, &fresh));
    log_timeout("fresh", fresh);
    CONF_OK(cnet_socket_set_timeout(fresh, 0, NULL, NULL));
    log_timeout("fresh", fresh);
    cnet_socket_destroy(fresh);
    /* Node ignores setTimeout on a destroyed socket; cnet says so and changes nothing. */
    if (cnet_socket_set_timeout(fresh, 50, NULL, NULL) != CNET_ERR_STREAM_DESTROYED)
        conf_log("fresh set_timeout after destroy did not fail");
    log_timeout("fresh", fresh);

    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
