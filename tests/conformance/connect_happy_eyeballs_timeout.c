/* Item 5 of issue 8, timers: attempt timeouts and destroys mid-attempt; see the .js. */
#include "conformance.h"

typedef struct {
    conf_side_t side;
    unsigned attempt_timeout, idle;
    cnet_event_type_t destroy_on; /* CNET_EVENT_ALL: none */
    cnet_address_t addrs[2];
} step_t;

static cnet_server_t *server;
static int port;
static step_t steps[5];
static size_t nsteps, cur;

static void resolver(cnet_lookup_req_t *req, const char *host, const cnet_lookup_info_t *info,
                     void *arg)
{
    CONF_OK(cnet_lookup_done(req, 0, ((step_t *)arg)->addrs, 2));
}

static void destroy_cb(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(c);
}

static void on_error(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("%s detail %s", ((const step_t *)arg)->side.name, conf_err_detail(ev->error));
}

static void next(void);

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    next();
}

static void next(void)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;
    step_t *st;

    if (cur == nsteps) {
        CONF_OK(cnet_server_close(server, NULL, NULL));
        return;
    }
    st = &steps[cur++];
    o.port = port;
    o.host = "example.invalid";
    o.auto_select_family_attempt_timeout_ms = st->attempt_timeout;
    o.lookup = resolver;
    o.lookup_arg = st;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    conf_trace_socket(c, &st->side);
    conf_trace_attempts(c, &st->side);
    if (st->idle)
        CONF_OK(cnet_socket_set_timeout(c, st->idle, destroy_cb, NULL));
    if (st->destroy_on != CNET_EVENT_ALL)
        CONF_OK(cnet_socket_on(c, st->destroy_on, destroy_cb, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, destroy_cb, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_error, st));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
}

static void add(const char *side, unsigned attempt_timeout, unsigned idle,
                cnet_event_type_t destroy_on, const char *ip1, int f1, const char *ip2, int f2)
{
    step_t *st = &steps[nsteps++];
    st->side = (conf_side_t){side, CONF_DATA_TEXT};
    st->attempt_timeout = attempt_timeout;
    st->idle = idle;
    st->destroy_on = destroy_on;
    snprintf(st->addrs[0].address, sizeof st->addrs[0].address, "%s", ip1);
    st->addrs[0].family = f1;
    snprintf(st->addrs[1].address, sizeof st->addrs[1].address, "%s", ip2);
    st->addrs[1].family = f2;
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    add("a", 20, 0, CNET_EVENT_ALL, "127.0.0.1", 4, "::1", 6);
    add("b", 20, 0, CNET_EVENT_ALL, "127.0.0.1", 4, "127.0.0.2", 4);
    add("c", 2000, 100, CNET_EVENT_ALL, "127.0.0.1", 4, "::1", 6);
    add("d", 20, 0, CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT, "127.0.0.1", 4, "::1", 6);
    add("e", 10, 150, CNET_EVENT_ALL, "127.0.0.2", 4, "127.0.0.1", 4);
    next();
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(ev->connection);
}

int main(void)
{
    conf_deadline(5);
    port = conf_blackhole("127.0.0.1");
    if (port < 0)
        conf_log("CALL FAILED conf_blackhole");
    conf_named_port("PORT", port);
    server = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(server, port, "::1", on_listening, NULL));
    return cnet_run();
}
