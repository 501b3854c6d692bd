/* TLS (issue 9): half-close over TLS; the same steps as tls_half_close.js. */
#include <unistd.h>

#include "conformance.h"

static cnet_server_t *server;

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    switch (ev->type) {
    case CNET_EVENT_DATA:
        conf_log("server data %s", conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("server end");
        CONF_OK(cnet_socket_end(s, "bye", 3, NULL, NULL));
        break;
    case CNET_EVENT_FINISH:
        conf_log("server finish");
        break;
    case CNET_EVENT_CLOSE:
        conf_log("server close %s", ev->had_error ? "true" : "false");
        break;
    default:
        break;
    }
}

static void on_secure_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_DATA, CNET_EVENT_END, CNET_EVENT_FINISH,
                                            CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CONF_OK(cnet_socket_on(ev->connection, evs[i], on_server_sock, NULL));
}

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT:
        conf_log("client secureConnect %s", cnet_socket_tls_authorized(s) ? "true" : "false");
        break;
    case CNET_EVENT_DATA:
        conf_log("client data %s", conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("client end");
        break;
    case CNET_EVENT_FINISH:
        conf_log("client finish");
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
    static const cnet_event_type_t evs[] = {CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DATA,
                                            CNET_EVENT_END, CNET_EVENT_FINISH, CNET_EVENT_CLOSE};
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "127.0.0.1";
    co.ca_file = "tls_cert.pem";
    CONF_OK(cnet_tls_context_new(&co, &ctx, NULL, 0));
    CONF_OK(cnet_tls_connect(NULL, &o, ctx, NULL, NULL, NULL, &c));
    cnet_tls_context_release(ctx);
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CONF_OK(cnet_socket_on(c, evs[i], on_client, NULL));
    CONF_OK(cnet_socket_write(c, "ping", 4, NULL, NULL));
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

int main(void)
{
    cnet_tls_context_opts_t so = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *ctx;

    conf_deadline(5);
    if (access("tls_key.pem", R_OK) != 0 &&
        system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
               "-keyout tls_key.pem -out tls_cert.pem -subj /CN=localhost "
               "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 2>/dev/null") != 0)
        return 1;
    so.key_file = "tls_key.pem";
    so.cert_file = "tls_cert.pem";
    CONF_OK(cnet_tls_context_new(&so, &ctx, NULL, 0));
    o.tls = ctx;
    o.allow_half_open = true;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    cnet_tls_context_release(ctx); /* the server holds it */
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_secure_connection, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
