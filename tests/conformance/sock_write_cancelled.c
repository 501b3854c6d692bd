/* Writes cancelled before the connection; the same steps as sock_write_cancelled.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_side_t destroyed_side = {"destroyed", CONF_DATA_TEXT};
static const conf_side_t failed_side = {"failed", CONF_DATA_TEXT};

static void wcb(cnet_socket_t *s, int status, void *arg)
{
    conf_log("wcb %s %s", (const char *)arg, status ? cnet_err_name(status) : "-");
}

static void on_a_close(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    char path[128];
    cnet_socket_t *b;

    CONF_OK(cnet_server_close(server, NULL, NULL));
    snprintf(path, sizeof path, "/tmp/conf-no-such-%d.sock", (int)getpid());
    b = cnet_connect_path(path, NULL, NULL);
    conf_trace_socket(b, &failed_side);
    CONF_OK(cnet_socket_write(b, "abc", 3, wcb, "failed w1"));
    CONF_OK(cnet_socket_write(b, "de", 2, wcb, "failed w2"));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *s;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &s));
    conf_trace_socket(s, &destroyed_side);
    conf_log("destroyed connecting");
    CONF_OK(cnet_socket_write(s, "abc", 3, wcb, "destroyed w1"));
    CONF_OK(cnet_socket_write(s, "de", 2, wcb, "destroyed w2"));
    cnet_socket_destroy(s);
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_a_close, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
