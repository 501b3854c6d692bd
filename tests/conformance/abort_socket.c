/* Item 8 of issue 8, sockets; the same steps as abort_socket.js. */
#include "conformance.h"

static int port;
static cnet_server_t *srv;
static cnet_abort_controller_t *ac;
static void (*const *step)(void);

static void next(void);

typedef struct side {
    const char *name;
    bool close_flag; /* print close's had_error (Node omits it for an unconnected socket) */
} side_t;

static void on_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const side_t *side = arg;
    switch (ev->type) {
    case CNET_EVENT_ERROR:
        conf_log("%s error %s %s %s", side->name, cnet_err_name(ev->error->code),
                 ev->error->syscall ? ev->error->syscall : "-", ev->error->message);
        break;
    case CNET_EVENT_CLOSE:
        conf_log("%s close %s", side->name,
                 !side->close_flag ? ""
                 : ev->had_error   ? "true"
                                   : "false");
        break;
    case CNET_EVENT_DATA:
        break;
    default:
        conf_log("%s %s", side->name, cnet_event_name(ev->type));
    }
}

static void trace(cnet_socket_t *s, const side_t *side)
{
    static const cnet_event_type_t types[] = {
        CNET_EVENT_LOOKUP, CNET_EVENT_CONNECT, CNET_EVENT_READY, CNET_EVENT_END,
        CNET_EVENT_FINISH, CNET_EVENT_ERROR,   CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        CONF_OK(cnet_socket_on(s, types[i], on_event, (void *)side));
}

static cnet_abort_signal_t *new_signal(void)
{
    cnet_abort_controller_free(ac); /* a socket keeps its signal: freeing early is fine */
    CONF_OK(cnet_abort_controller_new(&ac));
    return cnet_abort_controller_signal(ac);
}

static void on_close_next(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    next();
}

static cnet_socket_t *connect_with_signal(const char *host, const side_t *side)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c = NULL;
    o.port = port;
    o.host = host;
    o.signal = new_signal();
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    trace(c, side);
    return c;
}

/* connected */
static const side_t connected_side = {"connected", true};
static void connected_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
    conf_log("connected aborted %s", cnet_socket_is_destroyed(c) ? "true" : "false");
}

static void connected(void)
{
    cnet_socket_t *c = connect_with_signal("127.0.0.1", &connected_side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, connected_connect, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* connecting */
static const side_t connecting_side = {"connecting", true};
static void connecting(void)
{
    cnet_socket_t *c = connect_with_signal("127.0.0.1", &connecting_side);
    cnet_abort_controller_abort(ac);
    conf_log("connecting aborted %s %s", cnet_socket_is_destroyed(c) ? "true" : "false",
             cnet_socket_is_connecting(c) ? "true" : "false");
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* lookup */
static const side_t lookup_side = {"lookup", true};
static void lookup_lookup(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
}

static void lookup(void)
{
    cnet_socket_t *c = connect_with_signal("localhost", &lookup_side);
    CONF_OK(cnet_socket_once(c, CNET_EVENT_LOOKUP, lookup_lookup, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* unconnected: the socket options' signal */
static const side_t unconnected_side = {"unconnected", false};
static void unconnected(void)
{
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *c;
    o.signal = new_signal();
    CONF_OK(cnet_socket_new(NULL, &o, &c));
    trace(c, &unconnected_side);
    cnet_abort_controller_abort(ac);
    conf_log("unconnected aborted %s", cnet_socket_is_destroyed(c) ? "true" : "false");
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* closed: aborted after 'close' */
static const side_t closed_side = {"closed", true};
static void closed_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(c);
}

static void closed_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
    conf_log("closed aborted");
    next();
}

static void closed(void)
{
    cnet_socket_t *c = connect_with_signal("127.0.0.1", &closed_side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, closed_connect, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, closed_close, NULL));
}

static void done_cb(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("done");
    cnet_abort_controller_free(ac);
    ac = NULL;
}

static void (*const steps[])(void) = {connected, connecting, lookup, unconnected, closed, NULL};

static void next(void)
{
    if (*step)
        (*step++)();
    else
        CONF_OK(cnet_server_close(srv, done_cb, NULL));
}

static void on_connection(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
}

static void on_listening(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(s, &a));
    port = a.port;
    step = steps;
    next();
}

int main(void)
{
    conf_deadline(5);
    srv = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
