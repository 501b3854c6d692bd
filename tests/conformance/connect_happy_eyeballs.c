/* Item 5 of issue 8: Happy Eyeballs with a custom lookup; see the .js. */
#include "conformance.h"

typedef struct {
    conf_side_t side;
    int auto_select, family, local_port;
    cnet_address_t addrs[4];
    size_t n;
} step_t;

static cnet_server_t *server;
static int port, free_port;
static step_t steps[9];
static size_t nsteps, cur;

static void resolver(cnet_lookup_req_t *req, const char *host, const cnet_lookup_info_t *info,
                     void *arg)
{
    step_t *st = arg;
    conf_log("%s resolver %s %d %d %s", st->side.name, host, info->family, info->hints,
             info->all ? "true" : "false");
    /* Answered at once: cnet defers it, as Node's lookup answering on setImmediate. */
    CONF_OK(cnet_lookup_done(req, 0, st->addrs, info->all ? st->n : 1));
}

static const char *attempted(cnet_socket_t *c)
{
    static char out[512];
    cnet_address_t a[8];
    size_t n = cnet_socket_auto_select_family_attempted_addresses(c, a, 8), o = 0;
    char buf[600];

    if (n == 0)
        return "-";
    for (size_t i = 0; i < n && i < 8; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s:%d", i ? "," : "", a[i].address,
                              a[i].port);
    return conf_sub_into(out, sizeof out, strcpy(buf, out));
}

static void next(void);

static void on_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    const step_t *st = arg;
    cnet_address_t r;
    CONF_OK(cnet_socket_remote_address(c, &r));
    conf_log("%s attempted %s remote %s", st->side.name, attempted(c), r.address);
    cnet_socket_destroy(c);
}

static void on_error(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("%s detail %s", ((const step_t *)arg)->side.name, conf_err_detail(ev->error));
}

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("%s attempted %s", ((const step_t *)arg)->side.name, attempted(c));
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
    o.lookup = resolver;
    o.lookup_arg = st;
    o.auto_select_family = st->auto_select;
    o.family = st->family;
    o.local_port = st->local_port;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    conf_trace_socket(c, &st->side);
    conf_trace_attempts(c, &st->side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_connect, st));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_error, st));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, st));
}

static step_t *add(const char *side, int auto_select, int family, int local_port)
{
    step_t *st = &steps[nsteps++];
    st->side = (conf_side_t){side, CONF_DATA_TEXT};
    st->auto_select = auto_select;
    st->family = family;
    st->local_port = local_port;
    return st;
}

static void addr(step_t *st, const char *ip, int family)
{
    cnet_address_t *a = &st->addrs[st->n++];
    snprintf(a->address, sizeof a->address, "%s", ip);
    a->family = family;
}

static void on_free_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    step_t *st;

    st = add("a", 0, 0, 0);
    addr(st, "::1", 6), addr(st, "::1", 6), addr(st, "127.0.0.2", 4), addr(st, "127.0.0.1", 4);
    st = add("b", 0, 0, 0);
    addr(st, "127.0.0.2", 4), addr(st, "::1", 6), addr(st, "127.0.0.3", 4);
    st = add("c", CNET_AUTO_SELECT_FAMILY_OFF, 0, 0);
    addr(st, "::1", 6), addr(st, "127.0.0.1", 4);
    st = add("d", 0, 4, 0);
    addr(st, "127.0.0.1", 4), addr(st, "127.0.0.2", 4);
    st = add("e", 0, 0, free_port);
    addr(st, "127.0.0.2", 4), addr(st, "::1", 6);
    st = add("f", 0, 0, 0);
    addr(st, "1.2.3", 4), addr(st, "127.0.0.2", 5), addr(st, "127.0.0.1", 4);
    st = add("g", 0, 0, 0);
    addr(st, "127.0.0.1", 6), addr(st, "127.0.0.1", 4);
    st = add("h", CNET_AUTO_SELECT_FAMILY_ON, 0, 0);
    addr(st, "127.0.0.2", 4), addr(st, "127.0.0.1", 4);
    st = add("i", 0, 0, port);
    addr(st, "127.0.0.2", 4), addr(st, "::1", 6);
    next();
}

static void on_free_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    free_port = a.port;
    conf_named_port("FREE", free_port);
    CONF_OK(cnet_server_close(srv, on_free_closed, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_server_t *f;

    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    conf_named_port("PORT", port);
    f = cnet_create_server(NULL, NULL, NULL);
    CONF_OK(cnet_server_listen(f, 0, "127.0.0.1", on_free_listening, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(ev->connection);
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
