/* Issue 10, item 2: half-close over Unix sockets; the same steps as ipc_unix_half_close.js. */
#include "conformance.h"

#include <sys/stat.h>

typedef struct run {
    const char *side;
    char path[96];
    size_t path_len;
    char names[4][32]; /* side-server, side-peer, side-client */
    conf_server_side_t srv_side;
    conf_side_t client_side;
    cnet_server_t *srv;
    char peer_got[64], client_got[64];
    size_t peer_n, client_n;
    void (*next)(void);
} run_t;

static run_t file_run = {.side = "file"}, abs_run = {.side = "abstract"};

static const char *state(cnet_socket_t *s)
{
    return cnet_ready_state_name(cnet_socket_ready_state(s));
}

static const char *tf(bool b)
{
    return b ? "true" : "false";
}

static bool is_abstract(const run_t *r)
{
    return r->path[0] == '\0';
}

static void log_file(const run_t *r)
{
    struct stat st;
    if (!is_abstract(r))
        conf_log("%s file exists %s", r->names[0], tf(stat(r->path, &st) == 0));
}

static void on_peer_end_cb(cnet_socket_t *s, int status, void *arg)
{
    conf_log("%s end callback %s", ((run_t *)arg)->names[1], state(s));
}

static void on_peer(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    if (ev->type == CNET_EVENT_DATA) {
        memcpy(r->peer_got + r->peer_n, ev->data.base, ev->data.len);
        r->peer_n += ev->data.len;
        return;
    }
    conf_log("%s got %s %s %s", r->names[1], conf_esc(r->peer_got, r->peer_n), state(s),
             tf(cnet_socket_is_writable(s)));
    CONF_OK(cnet_socket_write_str(s, "after-end"));
    CONF_OK(cnet_socket_end(s, "bye", 3, on_peer_end_cb, r));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_set_encoding(ev->connection, "utf8"));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_peer, arg));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, on_peer, arg));
}

static void on_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    log_file(r);
    if (r->next)
        r->next();
}

static void on_client_end_cb(cnet_socket_t *s, int status, void *arg)
{
    conf_log("%s end callback %s", ((run_t *)arg)->names[2], state(s));
}

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        CONF_OK(cnet_socket_write_str(s, "hello"));
        CONF_OK(cnet_socket_end(s, NULL, 0, on_client_end_cb, r));
        conf_log("%s after end() %s %s %s", r->names[2], state(s), tf(cnet_socket_is_writable(s)),
                 tf(cnet_socket_is_readable(s)));
        break;
    case CNET_EVENT_DATA:
        memcpy(r->client_got + r->client_n, ev->data.base, ev->data.len);
        r->client_n += ev->data.len;
        break;
    case CNET_EVENT_END:
        conf_log("%s got %s %s", r->names[2], conf_esc(r->client_got, r->client_n), state(s));
        break;
    case CNET_EVENT_CLOSE:
        CONF_OK(cnet_server_close(r->srv, on_closed, r));
        break;
    default:
        break;
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c;

    log_file(r);
    o.path = r->path;
    o.path_len = r->path_len;
    o.allow_half_open = true;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    conf_trace_socket(c, &r->client_side);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_DATA, on_client, r));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, on_client, r));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_END, on_client, r));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_client, r));
}

static void run(run_t *r)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;

    snprintf(r->names[0], sizeof r->names[0], "%s-server", r->side);
    snprintf(r->names[1], sizeof r->names[1], "%s-peer", r->side);
    snprintf(r->names[2], sizeof r->names[2], "%s-client", r->side);
    r->srv_side = (conf_server_side_t){r->names[0], {r->names[1], CONF_DATA_NONE}};
    r->client_side = (conf_side_t){r->names[2], CONF_DATA_NONE};
    so.allow_half_open = true;
    CONF_OK(cnet_server_new(NULL, &so, &r->srv));
    CONF_OK(cnet_server_on(r->srv, CNET_EVENT_CONNECTION, on_connection, r));
    conf_trace_server(r->srv, &r->srv_side);
    lo.path = r->path;
    lo.path_len = r->path_len;
    CONF_OK(cnet_server_listen_opts(r->srv, &lo, on_listening, r));
}

static void run_abstract(void)
{
#ifdef __linux__
    run(&abs_run);
#endif
}

int main(void)
{
    conf_deadline(5);
    snprintf(file_run.path, sizeof file_run.path, "half.sock");
    abs_run.path_len = 1 + (size_t)snprintf(abs_run.path + 1, sizeof abs_run.path - 1,
                                            "cnet-conf-half-%d", (int)getpid());
    file_run.next = run_abstract;
    run(&file_run);
    return cnet_run();
}
