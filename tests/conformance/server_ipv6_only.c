/* Item 4 of issue 8; the same steps as server_ipv6_only.js. */
#include "conformance.h"

typedef struct run {
    const char *side;
    const char *host;
    bool ipv6_only;
} run_t;

static const run_t runs[] = {
    {"nohost", NULL, true},
    {"any6", "::", true},
    {"any6-dual", "::", false},
};
static size_t cur;
static int port;
static const char *const targets[] = {"127.0.0.1", "::1"};
static size_t target;

static void start(void);

static void on_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (++cur < sizeof runs / sizeof runs[0])
        start();
    else
        conf_log("done");
}

static void try_connect(cnet_server_t *srv);

static void on_client(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_server_t *srv = arg;
    const char *side = runs[cur].side, *host = targets[target];

    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        conf_log("%s %s connect", side, host);
        cnet_socket_destroy(c);
        break;
    case CNET_EVENT_ERROR:
        conf_log("%s %s error %s", side, host, cnet_err_name(ev->error->code));
        break;
    case CNET_EVENT_CLOSE:
        if (++target < 2)
            try_connect(srv);
        else
            CONF_OK(cnet_server_close(srv, on_closed, NULL));
        break;
    default:
        break;
    }
}

static void try_connect(cnet_server_t *srv)
{
    cnet_socket_t *c = cnet_connect(port, targets[target], NULL, NULL);
    if (!c) {
        conf_log("CALL FAILED cnet_connect");
        return;
    }
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_client, srv));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, on_client, srv));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_client, srv));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(ev->connection);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    conf_log("%s listening %s IPv%d", runs[cur].side, a.address, a.family);
    port = a.port;
    target = 0;
    try_connect(srv);
}

static void start(void)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv = cnet_create_server(NULL, on_connection, NULL);
    if (!srv) {
        conf_log("CALL FAILED cnet_create_server");
        return;
    }
    o.host = runs[cur].host;
    o.ipv6_only = runs[cur].ipv6_only;
    CONF_OK(cnet_server_listen_opts(srv, &o, on_listening, NULL));
}

int main(void)
{
    conf_deadline(5);
    start();
    return cnet_run();
}
