/* Item 2 of issue 8: local bind failures and the " - Local (...)" suffix; see the .js. */
#include "conformance.h"

typedef struct {
    const char *side;
    const char *host, *local_address;
    int local_port;
} step_t;

static cnet_server_t *busy;
static step_t steps[8];
static size_t nsteps, cur;
static conf_side_t sides[8];

static void next(void);

static void on_error(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("%s detail %s", ((conf_side_t *)arg)->name, conf_err_detail(ev->error));
}

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    next();
}

static void next(void)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;
    const step_t *st;

    if (cur == nsteps) {
        CONF_OK(cnet_server_close(busy, NULL, NULL));
        return;
    }
    st = &steps[cur];
    sides[cur] = (conf_side_t){st->side, CONF_DATA_TEXT};
    o.port = 1;
    o.host = st->host;
    o.local_address = st->local_address;
    o.local_port = st->local_port;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    conf_trace_socket(c, &sides[cur]);
    conf_trace_attempts(c, &sides[cur]);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_error, &sides[cur]));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
    cur++;
}

/* A port that was free a moment ago, as the .js finds it (listen on 0, then close). */
static int free_port(void)
{
    cnet_loop_t *loop;
    cnet_server_t *s;
    cnet_address_t a;
    int port;

    CONF_OK(cnet_loop_new(&loop));
    CONF_OK(cnet_server_new(loop, NULL, &s));
    CONF_OK(cnet_server_listen(s, 0, NULL, NULL, NULL)); /* no host: bound at once (dual stack) */
    CONF_OK(cnet_server_address(s, &a));
    port = a.port;
    CONF_OK(cnet_server_close(s, NULL, NULL));
    CONF_OK(cnet_loop_run(loop));
    CONF_OK(cnet_loop_close(loop));
    return port;
}

static void add(const char *side, const char *host, const char *laddr, int lport)
{
    steps[nsteps++] = (step_t){side, host, laddr, lport};
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    int lp, fp1, fp2;

    CONF_OK(cnet_server_address(srv, &a));
    lp = a.port;
    conf_named_port("BUSY", lp);
    fp1 = free_port();
    fp2 = free_port();
    conf_named_port("FREE1", fp1);
    conf_named_port("FREE2", fp2);
    add("busy", "127.0.0.1", "127.0.0.1", lp);
    add("busyany", "127.0.0.1", NULL, lp);
    add("family", "::1", "127.0.0.1", 0);
    add("family6", "127.0.0.1", "::1", fp1);
    add("notlocal", "::1", "::2", 0);
    add("refusedlocal", "127.0.0.1", "127.0.0.1", fp1);
    add("refusedport", "127.0.0.1", NULL, fp2);
    add("refusedaddr", "127.0.0.1", "127.0.0.1", 0);
    next();
}

int main(void)
{
    conf_deadline(5);
    busy = cnet_create_server(NULL, NULL, NULL);
    CONF_OK(cnet_server_listen(busy, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
