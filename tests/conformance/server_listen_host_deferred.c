/* Item 1 of issue 8; the same steps as server_listen_host_deferred.js. */
#include "conformance.h"

static cnet_server_t *blocker;
static int blocked_port;

typedef struct run {
    const char *side;
    int port; /* -1: the blocker's */
    const char *host;
    const char *path;
} run_t;

static const run_t runs[] = {
    {"ip4", 0, "127.0.0.1", NULL},    {"ip6", 0, "::1", NULL},
    {"name", 0, "localhost", NULL},   {"nohost", 0, NULL, NULL},
    {"path", 0, NULL, "listen.sock"}, {"inuse", -1, "127.0.0.1", NULL},
    {"inuse-nohost", -1, NULL, NULL},
};
static size_t next_run;

static void state(const run_t *r, cnet_server_t *srv, const char *when)
{
    cnet_address_t a;
    conf_log("%s %s %s %s", r->side, when, cnet_server_is_listening(srv) ? "true" : "false",
             cnet_server_address(srv, &a) == 0 ? "address" : "null");
}

static void start_next(void);

static void on_event(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const run_t *r = arg;
    switch (ev->type) {
    case CNET_EVENT_LISTENING:
        state(r, srv, "listening");
        CONF_OK(cnet_server_close(srv, NULL, NULL));
        break;
    case CNET_EVENT_ERROR:
        conf_log("%s error %s", r->side, conf_err(ev->error));
        state(r, srv, "after-error");
        CONF_OK(cnet_server_close(srv, NULL, NULL));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("%s close", r->side);
        start_next();
        break;
    default:
        break;
    }
}

static void start_next(void)
{
    const run_t *r;
    cnet_server_t *srv;

    if (next_run == sizeof runs / sizeof runs[0]) {
        CONF_OK(cnet_server_close(blocker, NULL, NULL));
        return;
    }
    r = &runs[next_run++];
    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    CONF_OK(cnet_server_on(srv, CNET_EVENT_LISTENING, on_event, (void *)r));
    CONF_OK(cnet_server_on(srv, CNET_EVENT_ERROR, on_event, (void *)r));
    CONF_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, on_event, (void *)r));
    if (r->path)
        CONF_OK(cnet_server_listen_path(srv, r->path, NULL, NULL));
    else
        CONF_OK(cnet_server_listen(srv, r->port < 0 ? blocked_port : r->port, r->host, NULL, NULL));
    state(r, srv, "after-listen");
}

static void on_blocker_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    blocked_port = a.port;
    start_next();
}

int main(void)
{
    conf_deadline(5);
    CONF_OK(cnet_server_new(NULL, NULL, &blocker));
    CONF_OK(cnet_server_listen(blocker, 0, "127.0.0.1", on_blocker_listening, NULL));
    return cnet_run();
}
