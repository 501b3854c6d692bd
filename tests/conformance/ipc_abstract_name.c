/* Issue 10, item 2: Linux abstract socket names; the same steps as ipc_abstract_name.js. */
#include "conformance.h"

static char base[64];
static char name[80], missing_name[96];
static size_t name_len, missing_len;
static cnet_server_t *srv;
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_NONE}};

/* An address as node's esc(address()) prints it, names substituted. */
static const char *addr_text(const cnet_address_t *a)
{
    static char out[256];
    size_t n = a->address[0] ? strlen(a->address) : 1 + strlen(a->address + 1);
    return conf_sub_into(out, sizeof out, conf_esc(a->address, n));
}

/* The message as the .js prints it (node's NUL shown as '@'; cnet's text has '@'). */
static const char *msg(const cnet_error_t *e)
{
    static char out[512];
    return conf_sub_into(out, sizeof out, e->message);
}

static void on_attempt(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    memset(&a, 0, sizeof a);
    memcpy(a.address, ev->address, 1 + strlen(ev->address + 1));
    conf_log("%s connectionAttempt %s %s %s", (const char *)arg, addr_text(&a),
             ev->port < 0 ? "undefined" : "?", ev->family ? "?" : "undefined");
}

static void on_srv_closed(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    if (cnet_server_address(s, &a) == 0)
        conf_log("server address after close %s", addr_text(&a));
}

static void on_client_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write_str(s, "ping"));
    CONF_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
}

static void on_client_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(srv, on_srv_closed, NULL));
}

static void client(void)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;

    CONF_OK(cnet_socket_new(NULL, NULL, &c));
    conf_trace_socket(c, &client_side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECTION_ATTEMPT, on_attempt, "client"));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_client_connect, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_client_close, NULL));
    o.path = name;
    o.path_len = name_len;
    CONF_OK(cnet_socket_connect_opts(c, &o, NULL, NULL));
}

static void on_missing(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_ERROR) {
        conf_log("missing error %s %s", conf_err(ev->error), msg(ev->error));
    } else {
        conf_log("missing close %s", ev->had_error ? "true" : "false");
        client();
    }
}

static void missing(void)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *m;

    CONF_OK(cnet_socket_new(NULL, NULL, &m));
    CONF_OK(cnet_socket_on(m, CNET_EVENT_CONNECTION_ATTEMPT, on_attempt, "missing"));
    CONF_OK(cnet_socket_on(m, CNET_EVENT_ERROR, on_missing, NULL));
    CONF_OK(cnet_socket_on(m, CNET_EVENT_CLOSE, on_missing, NULL));
    o.path = missing_name;
    o.path_len = missing_len;
    CONF_OK(cnet_socket_connect_opts(m, &o, NULL, NULL));
}

static void on_dup_error(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("dup error %s %s", conf_err(ev->error), msg(ev->error));
    cnet_server_destroy(s);
    missing();
}

static void on_listening(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *dup;
    cnet_address_t a;

    if (cnet_server_address(s, &a) == 0)
        conf_log("server address %s", addr_text(&a));
    CONF_OK(cnet_server_new(NULL, NULL, &dup));
    CONF_OK(cnet_server_on(dup, CNET_EVENT_ERROR, on_dup_error, NULL));
    o.path = name;
    o.path_len = name_len;
    CONF_OK(cnet_server_listen_opts(dup, &o, NULL, NULL));
}

static void on_connection(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_pipe(ev->connection, ev->connection, true)); /* echo */
}

int main(void)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    static const char *opts[] = {"readableAll", "writableAll"};

    conf_deadline(5);
    snprintf(base, sizeof base, "cnet-conf-abs-%d", (int)getpid());
    conf_named("NAME", base);
    name_len = 1 + (size_t)snprintf(name + 1, sizeof name - 1, "%s", base);
    missing_len =
        1 + (size_t)snprintf(missing_name + 1, sizeof missing_name - 1, "%s-missing", base);

    for (int i = 0; i < 2; i++) {
        cnet_server_t *t;
        int r;
        cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
        lo.path = name;
        lo.path_len = name_len;
        lo.readable_all = i == 0;
        lo.writable_all = i == 1;
        CONF_OK(cnet_server_new(NULL, NULL, &t));
        r = cnet_server_listen_opts(t, &lo, NULL, NULL);
        conf_log("listen %s %s", opts[i], r ? cnet_err_name(r) : "accepted");
        cnet_server_destroy(t);
    }

    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    conf_trace_server(srv, &server_side);
    CONF_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, on_connection, NULL));
    o.path = name;
    o.path_len = name_len;
    CONF_OK(cnet_server_listen_opts(srv, &o, on_listening, NULL));
    return cnet_run();
}
