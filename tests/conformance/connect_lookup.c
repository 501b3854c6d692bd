/* Item 6 of issue 8: the custom lookup, its checks and 'lookup' events; see the .js. */
#include "conformance.h"

typedef struct {
    conf_side_t side;
    const char *host;
    int family, hints, auto_select, status;
    bool custom, detail;
    cnet_address_t addrs[2];
    size_t n;
} step_t;

static cnet_server_t *server;
static int port;
static step_t steps[20];
static size_t nsteps, cur;

static void resolver(cnet_lookup_req_t *req, const char *host, const cnet_lookup_info_t *info,
                     void *arg)
{
    step_t *st = arg;
    conf_log("%s resolver %s %d %d %s", st->side.name, host, info->family, info->hints,
             info->all ? "true" : "false");
    CONF_OK(cnet_lookup_done(req, st->status, st->addrs, st->n));
}

static void on_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_address_t r;
    CONF_OK(cnet_socket_remote_address(c, &r));
    conf_log("%s remote %s", ((const step_t *)arg)->side.name, r.address);
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
    int r;

    for (;;) {
        if (cur == nsteps) {
            CONF_OK(cnet_server_close(server, NULL, NULL));
            return;
        }
        st = &steps[cur++];
        o.port = port;
        o.host = st->host;
        o.family = st->family;
        o.hints = st->hints;
        o.auto_select_family = st->auto_select;
        o.lookup = st->custom ? resolver : NULL;
        o.lookup_arg = st;
        if ((r = cnet_create_connection(NULL, &o, NULL, NULL, &c)) == 0)
            break;
        conf_log("%s throws %s", st->side.name, cnet_err_name(r));
    }
    conf_trace_socket(c, &st->side);
    conf_trace_attempts(c, &st->side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_connect, st));
    if (st->detail)
        CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_error, st));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
}

static step_t *add(const char *side, const char *host, int family, int hints, bool custom,
                   bool detail)
{
    step_t *st = &steps[nsteps++];
    st->side = (conf_side_t){side, CONF_DATA_TEXT};
    st->host = host;
    st->family = family;
    st->hints = hints;
    st->custom = custom;
    st->detail = detail;
    return st;
}

static void addr(step_t *st, const char *ip, int family)
{
    snprintf(st->addrs[st->n].address, sizeof st->addrs[0].address, "%s", ip);
    st->addrs[st->n++].family = family;
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const char *ex = "example.invalid";
    cnet_address_t a;
    step_t *st;

    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    conf_named_port("PORT", port);
    addr(add("badip", ex, 4, 0, true, true), "1.2.3", 4);
    addr(add("badfam", ex, 4, 0, true, true), "127.0.0.1", 5);
    addr(add("badfamnohost", NULL, 4, 0, true, true), "127.0.0.1", 5);
    add("none", ex, 4, 0, true, true);
    add("err", ex, 4, 0, true, false)->status = CNET_ENOTFOUND;
    add("merr", ex, 0, 0, true, false)->status = CNET_ENOTFOUND;
    st = add("mbadip", ex, 0, 0, true, true);
    addr(st, "1.2.3", 4), addr(st, "127.0.0.1", 5);
    st = add("mbadfam", ex, 0, 0, true, true);
    addr(st, "127.0.0.1", 5), addr(st, "1.2.3", 4);
    addr(add("hints", ex, 6, CNET_AI_ADDRCONFIG | CNET_AI_V4MAPPED, true, true), "127.0.0.1", 4);
    addr(add("hintsall", ex, 0, CNET_AI_ALL, true, true), "127.0.0.1", 4);
    st = add("noauto", ex, 0, 0, true, true);
    st->auto_select = CNET_AUTO_SELECT_FAMILY_OFF;
    addr(st, "127.0.0.1", 4);
    addr(add("mismatch", ex, 6, 0, true, false), "127.0.0.1", 6);
    add("gai", "localhost", 0, 0, false, true);
    add("gaisingle", "localhost", 0, 0, false, true)->auto_select = CNET_AUTO_SELECT_FAMILY_OFF;
    add("gaimapped", "localhost", 6, CNET_AI_V4MAPPED, false, true);
    add("gaibadhints", "localhost", 0, 1024, false, true);
    add("ip", "127.0.0.1", 0, 1024, false, true);
    next();
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
