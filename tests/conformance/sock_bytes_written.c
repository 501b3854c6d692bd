/* socket.bytesWritten; the same steps as sock_bytes_written.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_NONE}};

static void bw(cnet_socket_t *s, const char *what)
{
    conf_log("client %s %llu", what, (unsigned long long)cnet_socket_bytes_written(s));
}

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    bw(s, "connect");
    cnet_socket_cork(s);
    CONF_OK(cnet_socket_write_str(s, "12345"));
    bw(s, "corked");
    CONF_OK(cnet_socket_write_str(s, ""));
    bw(s, "corked-empty");
    cnet_socket_uncork(s);
    bw(s, "uncorked");
    CONF_OK(cnet_socket_write_enc(s, "ff00", 4, "hex", NULL, NULL));
    bw(s, "hex");
    CONF_OK(cnet_socket_write_enc(s, "h\xc3\xa9", 3, "latin1", NULL, NULL));
    bw(s, "latin1");
    CONF_OK(cnet_socket_end_str(s, "zz"));
    bw(s, "ended");
}

static void on_finish(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    bw(s, "finish");
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    bw(s, "close");
    CONF_OK(cnet_server_close(server, NULL, NULL));
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
    CONF_OK(cnet_socket_write_str(s, "abc"));
    bw(s, "connecting");
    CONF_OK(cnet_socket_write_str(s, "de"));
    bw(s, "connecting");
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CONNECT, on_connect, NULL));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_FINISH, on_finish, NULL));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, NULL, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
