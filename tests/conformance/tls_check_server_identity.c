/* TLS (issue 9): the checkServerIdentity hook; the same steps as tls_check_server_identity.js. */
#include <cnet/uv.h>

#include "tls_common.h"

static cnet_server_t *server;
static cnet_tls_context_t *trusting, *system_ctx;
static int port;
static uv_timer_t timer;
static int next_client = 1;
static const char *const sides[] = {"", "client1", "client2", "client3", "client4", "client5"};

static void on_server_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) < 0);
}

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_SECURE_CONNECTION) {
        const char *name = cnet_socket_tls_servername(ev->connection);
        conf_log("server secureConnection %s", name ? name : "-");
        CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_server_sock, NULL));
    } else {
        conf_log("server tlsClientError %s %s", cnet_err_name(ev->error->code),
                 conf_esc(ev->error->message, strlen(ev->error->message)));
    }
}

static int hook(cnet_socket_t *s, const char *host, const cnet_tls_cert_t *cert, char *message,
                size_t size, void *arg)
{
    int n = (int)(intptr_t)arg;
    char reason[256];
    int r;

    conf_log("client%d check %s %s %s", n, host, cnet_tls_name_get(&cert->subject, "CN"),
             conf_esc(cert->subjectaltname, strlen(cert->subjectaltname)));
    if (n == 1) {
        snprintf(message, size, "pin mismatch");
        return CNET_CERT_REJECTED;
    }
    if (n == 2 || n == 3) { /* tls.checkServerIdentity('other.example', cert) */
        r = cnet_tls_check_server_identity("other.example", cert, reason, sizeof reason);
        if (r)
            snprintf(message, size, "%s: %s", cnet_strerror(r), reason);
        return r;
    }
    return 0;
}

static void connect_next(uv_timer_t *t);

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(uv_timer_start(&timer, connect_next, 30, 0));
}

static void connect_next(uv_timer_t *t)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t topts = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_socket_t *c;
    int n = next_client++;

    if (n > 5) {
        uv_close((uv_handle_t *)&timer, NULL);
        CONF_OK(cnet_server_close(server, NULL, NULL));
        return;
    }
    o.port = port;
    o.host = "127.0.0.1";
    if (n == 3)
        topts.reject_unauthorized = CNET_TLS_OFF;
    if (n == 4)
        topts.servername = "wrong.example";
    topts.check_server_identity = hook;
    topts.check_server_identity_arg = (void *)(intptr_t)n;
    CONF_OK(cnet_tls_connect(NULL, &o, n == 5 ? system_ctx : trusting, &topts, NULL, NULL, &c));
    conf_trace_tls(c, sides[n], true);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_close, NULL));
    CONF_OK(cnet_socket_write(c, "ping", 4, NULL, NULL) < 0);
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    connect_next(NULL);
}

int main(void)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *server_ctx;

    conf_deadline(5);
    if (conf_tls_files() != 0)
        return 1;
    server_ctx = conf_tls_ctx(true, false, NULL);
    trusting = conf_tls_ctx(false, true, NULL);
    system_ctx = conf_tls_ctx(false, false, NULL);
    o.tls = server_ctx;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(cnet_server_on(server, CNET_EVENT_TLS_CLIENT_ERROR, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(trusting);
    cnet_tls_context_release(system_ctx);
    return rc;
}
