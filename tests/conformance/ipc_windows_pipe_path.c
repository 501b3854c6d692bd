/* Item 6 of issue 10; the same steps as ipc_windows_pipe_path.js. */
#include "conformance.h"

static const char *const paths[] = {"\\\\.\\pipe\\cnet-conf-a", "\\\\?\\pipe\\cnet-conf-b"};
static size_t cur;
static cnet_server_t *srv;

static const char *exists(const char *p)
{
    return access(p, F_OK) == 0 ? "true" : "false";
}

static void next(void);

static void on_server_close(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    conf_log("server close %s", exists(paths[cur]));
    cur++;
    next();
}

static void on_data(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("client data %.*s", (int)ev->data.len, ev->data.base);
}

static void on_client_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("client close");
    CONF_OK(cnet_server_close(srv, on_server_close, NULL));
}

static void on_connection(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end_str(ev->connection, "hi"));
}

static void on_listening(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(s, &a));
    conf_log("server listening %s %s", a.address, exists(paths[cur]));
    c = cnet_connect_path(paths[cur], NULL, NULL);
    cnet_socket_on(c, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(c, CNET_EVENT_CLOSE, on_client_close, NULL);
}

static void next(void)
{
    if (cur == sizeof paths / sizeof paths[0])
        return;
    srv = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen_path(srv, paths[cur], on_listening, NULL));
}

int main(void)
{
    conf_deadline(5);
    next();
    return cnet_run();
}
