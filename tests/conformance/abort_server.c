/* Item 8 of issue 8, servers; the same steps as abort_server.js. */
#include "conformance.h"

static int blocked;
static cnet_server_t *blocker;
static cnet_abort_controller_t *ac;
static void (*const *step)(void);

static void next(void);

static void on_event(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const char *side = arg;
    switch (ev->type) {
    case CNET_EVENT_LISTENING:
        conf_log("%s listening", side);
        break;
    case CNET_EVENT_ERROR:
        conf_log("%s error %s", side, conf_err(ev->error));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("%s close %s", side, cnet_server_is_listening(srv) ? "true" : "false");
        break;
    default:
        break;
    }
}

static cnet_server_t *traced(const char *side)
{
    cnet_server_t *srv;
    static const cnet_event_type_t types[] = {CNET_EVENT_LISTENING, CNET_EVENT_ERROR,
                                              CNET_EVENT_CLOSE};
    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        CONF_OK(cnet_server_on(srv, types[i], on_event, (void *)side));
    return srv;
}

/* A fresh controller per step; the previous one is freed (servers keep their signal). */
static cnet_abort_signal_t *new_signal(bool aborted)
{
    cnet_abort_controller_free(ac);
    CONF_OK(cnet_abort_controller_new(&ac));
    if (aborted)
        cnet_abort_controller_abort(ac);
    return cnet_abort_controller_signal(ac);
}

static void on_close_next(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    next();
}

static cnet_listen_opts_t tcp_opts(int port, const char *host, cnet_abort_signal_t *sig)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    o.port = port;
    o.host = host;
    o.signal = sig;
    return o;
}

/* live */
static void live_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
    conf_log("live aborted %s", cnet_server_is_listening(srv) ? "true" : "false");
    cnet_abort_controller_abort(ac);
}

static void live(void)
{
    cnet_server_t *s = traced("live");
    cnet_listen_opts_t o = tcp_opts(0, "127.0.0.1", new_signal(false));
    CONF_OK(cnet_server_listen_opts(s, &o, live_listening, NULL));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* pending */
static void pending(void)
{
    cnet_server_t *s = traced("pending");
    cnet_listen_opts_t o = tcp_opts(0, "127.0.0.1", new_signal(false));
    CONF_OK(cnet_server_listen_opts(s, &o, NULL, NULL));
    cnet_abort_controller_abort(ac);
    conf_log("pending aborted %s", cnet_server_is_listening(s) ? "true" : "false");
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* pre-aborted */
static void listen_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("%s listen cb", (const char *)arg);
}

static void pre(const char *side, cnet_listen_opts_t *o)
{
    cnet_server_t *s = traced(side);
    o->signal = new_signal(true);
    CONF_OK(cnet_server_listen_opts(s, o, listen_cb, (void *)side));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, on_close_next, NULL));
}

static void pre_ip(void)
{
    cnet_listen_opts_t o = tcp_opts(0, "127.0.0.1", NULL);
    pre("pre-ip", &o);
}

static void pre_path(void)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    o.path = "abort.sock";
    pre("pre-path", &o);
}

static void pre_inuse(void)
{
    cnet_listen_opts_t o = tcp_opts(blocked, NULL, NULL);
    pre("pre-inuse", &o);
}

/* conn: aborted with a connection open */
static void conn_destroy(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(c);
}

static void conn_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("conn connection");
    cnet_abort_controller_abort(ac);
    conf_log("conn aborted %s", cnet_server_is_listening(srv) ? "true" : "false");
    CONF_OK(cnet_socket_set_timeout(ev->connection, 20, conn_destroy, NULL));
}

static void conn_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    if (!cnet_connect(a.port, "127.0.0.1", NULL, NULL))
        conf_log("CALL FAILED cnet_connect");
}

static void conn(void)
{
    cnet_server_t *s = traced("conn");
    cnet_listen_opts_t o = tcp_opts(0, "127.0.0.1", new_signal(false));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CONNECTION, conn_connection, NULL));
    CONF_OK(cnet_server_listen_opts(s, &o, conn_listening, NULL));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, on_close_next, NULL));
}

/* after: aborted after 'close' */
static void after_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(srv, NULL, NULL));
}

static void after_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
    conf_log("after aborted");
    next();
}

static void after(void)
{
    cnet_server_t *s = traced("after");
    cnet_listen_opts_t o = tcp_opts(0, "127.0.0.1", new_signal(false));
    CONF_OK(cnet_server_listen_opts(s, &o, after_listening, NULL));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, after_close, NULL));
}

/* failed: aborted after a failed listen */
static void failed_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_abort(ac);
    conf_log("failed aborted");
}

static void failed(void)
{
    cnet_server_t *s = traced("failed");
    cnet_listen_opts_t o = tcp_opts(blocked, "127.0.0.1", new_signal(false));
    CONF_OK(cnet_server_listen_opts(s, &o, NULL, NULL));
    CONF_OK(cnet_server_on(s, CNET_EVENT_ERROR, failed_error, NULL));
    CONF_OK(cnet_server_on(s, CNET_EVENT_CLOSE, on_close_next, NULL));
}

static void done_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("done");
    cnet_abort_controller_free(ac);
    ac = NULL;
}

static void (*const steps[])(void) = {live, pending, pre_ip, pre_path, pre_inuse,
                                      conn, after,   failed, NULL};

static void next(void)
{
    if (*step)
        (*step++)();
    else
        CONF_OK(cnet_server_close(blocker, done_cb, NULL));
}

static void on_blocker(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    blocked = a.port;
    step = steps;
    next();
}

int main(void)
{
    conf_deadline(5);
    CONF_OK(cnet_server_new(NULL, NULL, &blocker));
    CONF_OK(cnet_server_listen(blocker, 0, "127.0.0.1", on_blocker, NULL));
    return cnet_run();
}
