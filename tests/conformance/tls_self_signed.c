/* TLS (issue 9): a self-signed server; the same steps as tls_self_signed.js. */
#include <stdlib.h>
#include <unistd.h>

#include <cnet/uv.h>

#include "conformance.h"

static cnet_server_t *server;
static cnet_tls_context_t *client_ctx;
static int port;
static uv_timer_t timer;

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_DATA)
        CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
    else if (ev->type == CNET_EVENT_END)
        conf_log("server end");
    else if (ev->type == CNET_EVENT_CLOSE)
        conf_log("server socket close");
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) { /* node's tls.createServer listener */
        conf_log("server secureConnection");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, on_server_sock, NULL));
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, on_server_sock, NULL));
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        conf_log("server tlsClientError %s %s", cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
    }
}

static void connect_n(int n);

static void second(uv_timer_t *t)
{
    connect_n(2);
}

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int n = (int)(intptr_t)arg;
    int code;

    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        conf_log("client%d connect", n);
        break;
    case CNET_EVENT_SECURE_CONNECT:
        code = cnet_socket_tls_authorization_error(s, NULL);
        conf_log("client%d secureConnect %s %s %s", n,
                 cnet_socket_tls_authorized(s) ? "true" : "false", code ? cnet_err_name(code) : "-",
                 cnet_socket_tls_protocol(s));
        break;
    case CNET_EVENT_SECURE:
        conf_log("client%d secure", n);
        break;
    case CNET_EVENT_DATA:
        conf_log("client%d data %s", n, conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_END:
        conf_log("client%d end", n);
        break;
    case CNET_EVENT_ERROR:
        conf_log("client%d error %s %s", n, cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("client%d close %s", n, ev->had_error ? "true" : "false");
        if (n == 1) {
            CONF_OK(uv_timer_start(&timer, second, 50, 0));
        } else {
            uv_close((uv_handle_t *)&timer, NULL);
            CONF_OK(cnet_server_close(server, NULL, NULL));
        }
        break;
    default:
        break;
    }
}

static void connect_n(int n)
{
    static const cnet_event_type_t evs[] = {
        CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT, CNET_EVENT_SECURE, CNET_EVENT_DATA,
        CNET_EVENT_END,     CNET_EVENT_ERROR,          CNET_EVENT_CLOSE};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t t = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_socket_t *c;

    o.port = port;
    o.host = "127.0.0.1";
    if (n == 2)
        t.reject_unauthorized = CNET_TLS_OFF;
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &t, NULL, NULL, &c));
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CONF_OK(cnet_socket_on(c, evs[i], on_client, (void *)(intptr_t)n));
    CONF_OK(cnet_socket_write(c, "ping", 4, NULL, NULL) < 0);
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    connect_n(1);
}

int main(void)
{
    cnet_tls_context_opts_t so = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *server_ctx;

    conf_deadline(5);
    if (access("tls_key.pem", R_OK) != 0 &&
        system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
               "-keyout tls_key.pem -out tls_cert.pem -subj /CN=localhost "
               "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 2>/dev/null") != 0)
        return 1;
    so.key_file = "tls_key.pem";
    so.cert_file = "tls_cert.pem";
    CONF_OK(cnet_tls_context_new(&so, &server_ctx, NULL, 0));
    CONF_OK(cnet_tls_context_new(NULL, &client_ctx, NULL, 0));
    o.tls = server_ctx;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_TLS_CLIENT_ERROR, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
