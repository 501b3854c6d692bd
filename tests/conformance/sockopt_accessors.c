/* Socket accessors (issue 8); the same steps as sockopt_accessors.js. */
#include "conformance.h"

static cnet_server_t *server;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_TEXT}};
static const conf_side_t client_side = {"client", CONF_DATA_TEXT};

static void show(const char *side, const char *what, cnet_socket_t *s)
{
    cnet_server_t *srv = cnet_socket_server(s);
    const char *enc = cnet_socket_readable_encoding(s);

    conf_log("%s %s rhwm %zu corked %u ended %s finished %s enc %s server %s", side, what,
             cnet_socket_readable_high_water_mark(s), cnet_socket_writable_corked(s),
             cnet_socket_writable_ended(s) ? "true" : "false",
             cnet_socket_writable_finished(s) ? "true" : "false", enc ? enc : "null",
             !srv            ? "none"
             : srv == server ? "server"
                             : "other");
}

static void on_peer_event(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    show("peer", cnet_event_name(ev->type), c);
    if (ev->type == CNET_EVENT_CLOSE)
        CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    static const char *const encs[] = {"hex", "UTF-8", "binary", "ucs2", "base64url"};
    static const cnet_event_type_t types[] = {CNET_EVENT_DATA, CNET_EVENT_END, CNET_EVENT_FINISH,
                                              CNET_EVENT_CLOSE};
    cnet_socket_t *c = ev->connection;

    show("peer", "connection", c);
    for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++) {
        CONF_OK(cnet_socket_set_encoding(c, encs[i]));
        show("peer", encs[i], c);
    }
    CONF_OK(cnet_socket_set_encoding(c, "latin1"));
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        CONF_OK(cnet_socket_on(c, types[i], on_peer_event, NULL));
}

static void on_client_event(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    show("client", cnet_event_name(ev->type), c);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;

    CONF_OK(cnet_server_address(srv, &a));
    c = cnet_connect(a.port, "127.0.0.1", NULL, NULL);
    conf_trace_socket(c, &client_side);
    show("client", "connect()", c);
    cnet_socket_cork(c);
    cnet_socket_cork(c);
    show("client", "cork2", c);
    cnet_socket_uncork(c);
    show("client", "uncork1", c);
    cnet_socket_uncork(c);
    cnet_socket_uncork(c);
    show("client", "uncork3", c);
    cnet_socket_cork(c);
    CONF_OK(cnet_socket_write_str(c, "x"));
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
    show("client", "end()", c);
    CONF_OK(cnet_socket_on(c, CNET_EVENT_FINISH, on_client_event, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_client_event, NULL));
}

int main(void)
{
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_socket_t *fresh;

    conf_deadline(5);
    so.high_water_mark = 5;
    CONF_OK(cnet_socket_new(NULL, &so, &fresh));
    show("fresh", "new", fresh);
    cnet_socket_destroy(fresh);

    o.high_water_mark = 1000;
    server = cnet_create_server(&o, on_connection, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
