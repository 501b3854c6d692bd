/* TLS (issue 9): FIN during the handshake; the same steps as tls_disconnect_in_handshake.js. */
#include "conformance.h"

static cnet_server_t *server;

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_CLOSE)
        conf_log("server socket close");
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, on_server_sock, NULL));
    CONF_OK(cnet_socket_end(ev->connection, NULL, 0, NULL, NULL));
}

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        conf_log("client connect");
        break;
    case CNET_EVENT_SECURE_CONNECT:
        conf_log("client secureConnect");
        break;
    case CNET_EVENT_END:
        conf_log("client end");
        break;
    case CNET_EVENT_ERROR:
        conf_log("client error %s %s", cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("client close %s", ev->had_error ? "true" : "false");
        CONF_OK(cnet_server_close(server, NULL, NULL));
        break;
    default:
        break;
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT,
                                            CNET_EVENT_END, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    CONF_OK(cnet_tls_context_new(NULL, &ctx, NULL, 0));
    CONF_OK(cnet_tls_connect(NULL, &o, ctx, NULL, NULL, NULL, &c));
    cnet_tls_context_release(ctx); /* the socket keeps its own reference */
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CONF_OK(cnet_socket_on(c, evs[i], on_client, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
