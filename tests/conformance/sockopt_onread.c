/* The onread socket option (issue 8); the same steps as sockopt_onread.js. */
#include "conformance.h"

static cnet_server_t *server;
static int port;
static const conf_server_side_t server_side = {"server", {"peer", CONF_DATA_NONE}};
static const conf_side_t a_side = {"a", CONF_DATA_TEXT}, b_side = {"b", CONF_DATA_TEXT};
static char abuf[4];
static size_t atotal, btotal;
static int gens;
static char bbufs[16][3];

/* ---- server: "hello", then "world!!!" and end once "more" came ---------- */

static void on_peer_data(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    char *got = cnet_socket_get_data(c);
    size_t n = strlen(got);

    if (n + ev->data.len < 64) {
        memcpy(got + n, ev->data.base, ev->data.len);
        got[n + ev->data.len] = '\0';
    }
    if (strstr(got, "more"))
        CONF_OK(cnet_socket_end_str(c, "world!!!"));
}

static void on_peer_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    free(cnet_socket_get_data(c));
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *c = ev->connection;

    cnet_socket_set_data(c, calloc(1, 64));
    CONF_OK(cnet_socket_write_str(c, "hello"));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_DATA, on_peer_data, NULL));
    CONF_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, on_peer_close, NULL));
}

/* ---- client b: a buffer function ----------------------------------------- */

static char *b_buffer(cnet_socket_t *b, size_t *len, void *arg)
{
    conf_log("b gen %d", ++gens);
    *len = 3;
    return bbufs[gens % 16];
}

static bool b_onread(cnet_socket_t *b, size_t nread, char *buf, void *arg)
{
    btotal += nread;
    conf_log("b onread %zu %s", nread, conf_esc(buf, nread));
    if (btotal == 5)
        CONF_OK(cnet_socket_write_str(b, "more"));
    return true;
}

static void on_b_close(cnet_socket_t *b, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

/* ---- client a: one buffer, stops once, resumes from a write callback ------ */

static void on_x_written(cnet_socket_t *a, int status, void *arg)
{
    conf_log("a resume paused %s", cnet_socket_is_paused(a) ? "true" : "false");
    cnet_socket_resume(a);
}

static bool a_onread(cnet_socket_t *a, size_t nread, char *buf, void *arg)
{
    atotal += nread;
    conf_log("a onread %zu %s same %s paused %s", nread, conf_esc(buf, nread),
             buf == abuf ? "true" : "false", cnet_socket_is_paused(a) ? "true" : "false");
    if (atotal == 4) {
        CONF_OK(cnet_socket_write(a, "x", 1, on_x_written, NULL));
        return false;
    }
    if (atotal == 5)
        CONF_OK(cnet_socket_write_str(a, "more"));
    return true;
}

static void on_a_end(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    conf_log("a bytesRead %llu", (unsigned long long)cnet_socket_bytes_read(a));
}

static void on_a_close(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *b;

    o.port = port;
    o.host = "127.0.0.1";
    o.onread_buffer_fn = b_buffer;
    o.onread = b_onread;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &b));
    conf_trace_socket(b, &b_side);
    CONF_OK(cnet_socket_on(b, CNET_EVENT_CLOSE, on_b_close, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_address_t addr;
    cnet_socket_t *a;

    CONF_OK(cnet_server_address(srv, &addr));
    port = addr.port;
    o.port = port;
    o.host = "127.0.0.1";
    o.onread_buffer = abuf;
    o.onread_buffer_len = sizeof abuf;
    o.onread = a_onread;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &a));
    CONF_OK(cnet_socket_set_encoding(a, "utf8"));
    conf_trace_socket(a, &a_side);
    CONF_OK(cnet_socket_on(a, CNET_EVENT_END, on_a_end, NULL));
    CONF_OK(cnet_socket_on(a, CNET_EVENT_CLOSE, on_a_close, NULL));
}

int main(void)
{
    conf_deadline(5);
    server = cnet_create_server(NULL, on_connection, NULL);
    conf_trace_server(server, &server_side);
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    return cnet_run();
}
