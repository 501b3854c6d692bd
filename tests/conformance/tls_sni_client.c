/* TLS (issue 9): the SNI a client sends; the same steps as tls_sni_client.js. */
#include <cnet/uv.h>

#include "tls_common.h"

static cnet_server_t *server;
static cnet_tls_context_t *client_ctx;
static int port;
static uv_timer_t timer;
static int next_client = 1;
static const char *const sides[] = {"", "client1", "client2", "client3", "client4", "client5"};
static const char *const hosts[] = {NULL,        "127.0.0.1", "127.0.0.1",
                                    "localhost", "localhost", "127.0.0.1"};
/* client4: cnet's default is the host (node's tls.connect needs it given). */
static const char *const servernames[] = {NULL, NULL, "localhost", "", NULL, "nothere.example"};

static void on_server(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const char *name = cnet_socket_tls_servername(ev->connection);
    conf_log("server secureConnection %s", name ? name : "false");
    CONF_OK(cnet_socket_end(ev->connection, NULL, 0, NULL, NULL));
}

static int check(cnet_socket_t *s, const char *host, const cnet_tls_cert_t *cert, char *message,
                 size_t size, void *arg)
{
    char reason[256];
    int r;

    conf_log("%s check %s", (const char *)arg, host);
    r = cnet_tls_check_server_identity(host, cert, reason, sizeof reason);
    if (r)
        snprintf(message, size, "%s: %s", cnet_strerror(r), reason);
    return r;
}

static void connect_next(uv_timer_t *t);

static void on_client(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const char *side = arg;
    const char *name;

    if (ev->type == CNET_EVENT_SECURE_CONNECT) {
        name = cnet_socket_tls_servername(s);
        conf_log("%s secureConnect %s %s", side, cnet_socket_tls_authorized(s) ? "true" : "false",
                 name ? name : "false");
    } else if (ev->type == CNET_EVENT_ERROR) {
        conf_log("%s error %s", side, cnet_err_name(ev->error->code));
    } else if (ev->type == CNET_EVENT_CLOSE) {
        CONF_OK(uv_timer_start(&timer, connect_next, 10, 0));
    }
}

static void connect_next(uv_timer_t *t)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_SECURE_CONNECT, CNET_EVENT_ERROR,
                                            CNET_EVENT_CLOSE};
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
    o.host = hosts[n];
    topts.servername = servernames[n];
    topts.check_server_identity = check;
    topts.check_server_identity_arg = (void *)sides[n];
    CONF_OK(cnet_tls_connect(NULL, &o, client_ctx, &topts, NULL, NULL, &c));
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CONF_OK(cnet_socket_on(c, evs[i], on_client, (void *)sides[n]));
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
    client_ctx = conf_tls_ctx(false, true, NULL);
    o.tls = server_ctx;
    CONF_OK(cnet_server_new(NULL, &o, &server));
    CONF_OK(cnet_server_on(server, CNET_EVENT_SECURE_CONNECTION, on_server, NULL));
    CONF_OK(uv_timer_init(cnet_loop_get_uv(cnet_loop_default()), &timer));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    int rc = cnet_run();
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    return rc;
}
