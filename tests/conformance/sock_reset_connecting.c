/* resetAndDestroy() while connecting, on a Unix socket, on a fresh socket; the
 * same steps as sock_reset_connecting.js. */
#include "conformance.h"

static cnet_server_t *server, *unix_server;
static char dir[64], path[128];
static int closes;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};

static const char *tf(bool b)
{
    return b ? "true" : "false";
}

static void unix_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    rmdir(dir); /* the socket file went with the listening handle */
}

static void done(void)
{
    if (++closes == 3) {
        CONF_OK(cnet_server_close(server, NULL, NULL));
        CONF_OK(cnet_server_close(unix_server, unix_closed, NULL));
    }
}

static void start_unix_part(void);

static void client_event(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    const char *what = arg;
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        conf_log("client connect %s destroyed %s", what, tf(cnet_socket_is_destroyed(c)));
        break;
    case CNET_EVENT_READY:
        conf_log("client ready destroyed %s", tf(cnet_socket_is_destroyed(c)));
        break;
    case CNET_EVENT_ERROR:
        conf_log("client error %s", cnet_err_name(ev->error->code));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("client close %s pending %s", tf(ev->had_error), tf(cnet_socket_is_pending(c)));
        done();
        start_unix_part();
        break;
    default:
        break;
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    CONF_OK(cnet_create_connection(NULL, &o, client_event, "early", &c));
    CONF_OK(cnet_socket_reset_and_destroy(c));
    conf_log("client after-reset destroyed %s connecting %s pending %s",
             tf(cnet_socket_is_destroyed(c)), tf(cnet_socket_is_connecting(c)),
             tf(cnet_socket_is_pending(c)));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CONNECT, client_event, "late"));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_READY, client_event, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_ERROR, client_event, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, client_event, NULL));
}

static void unix_peer_end(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void unix_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, unix_peer_end, NULL));
}

static void unix_event(cnet_socket_t *u, const cnet_event_t *ev, void *arg)
{
    int r;
    if (ev->type == CNET_EVENT_CONNECT) {
        if ((r = cnet_socket_reset_and_destroy(u)) < 0)
            conf_log("unix reset %s", cnet_err_name(r));
        conf_log("unix destroyed %s", tf(cnet_socket_is_destroyed(u)));
        CONF_OK(cnet_socket_end(u, NULL, 0, NULL, NULL));
    } else if (ev->type == CNET_EVENT_CLOSE) {
        conf_log("unix close");
        done();
    }
}

static void unix_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *u = cnet_connect_path(path, unix_event, NULL);
    int r;
    if ((r = cnet_socket_reset_and_destroy(u)) < 0)
        conf_log("unix reset-connecting %s", cnet_err_name(r));
    CONF_OK(cnet_socket_on(u, CNET_EVENT_CLOSE, unix_event, NULL));
}

static void start_unix_part(void)
{
    unix_server = cnet_create_server(NULL, unix_connection, NULL);
    CONF_OK(cnet_server_listen_path(unix_server, path, unix_listening, NULL));
}

static void fresh_event(cnet_socket_t *f, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_ERROR) {
        conf_log("fresh error %s %s", cnet_err_name(ev->error->code), ev->error->message);
    } else {
        conf_log("fresh close pending %s", tf(cnet_socket_is_pending(f)));
        done();
    }
}

int main(void)
{
    cnet_socket_t *f;

    conf_deadline(5);
    snprintf(dir, sizeof dir, "/tmp/conf-reset-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/s", dir);
    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));

    CONF_OK(cnet_socket_new(NULL, NULL, &f));
    CONF_OK(cnet_socket_on(f, CNET_EVENT_ERROR, fresh_event, NULL));
    CONF_OK(cnet_socket_on(f, CNET_EVENT_CLOSE, fresh_event, NULL));
    CONF_OK(cnet_socket_reset_and_destroy(f));
    conf_log("fresh destroyed %s", tf(cnet_socket_is_destroyed(f)));
    return cnet_run();
}
