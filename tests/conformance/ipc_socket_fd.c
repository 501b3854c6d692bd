/*
 * Item 1 of issue 10; the same steps as ipc_socket_fd.js. Node needs a
 * parent process to make the connected fds; here four connect(2)s to our
 * own server make them, and cnet_socket_new() with has_fd wraps them.
 */
#include "conformance.h"

#include <fcntl.h>

static const conf_side_t side_a = {.name = "a"}, side_b = {.name = "b"}, side_c = {.name = "c"},
                         side_d = {.name = "d"};
static const conf_side_t peer_sides[4] = {
    {.name = "pa"}, {.name = "pb"}, {.name = "pc"}, {.name = "pd"}};
static cnet_server_t *srv;
static cnet_socket_t *peers[4];
static int npeers, nclosed, port, fds[4];

static void state(const char *side, cnet_socket_t *s)
{
    cnet_address_t r, l;
    CONF_OK(cnet_socket_remote_address(s, &r));
    CONF_OK(cnet_socket_address(s, &l));
    conf_log("%s state %s %s %s %s %s %s IPv%d %s %s IPv%d", side,
             cnet_socket_is_readable(s) ? "true" : "false",
             cnet_socket_is_writable(s) ? "true" : "false",
             cnet_ready_state_name(cnet_socket_ready_state(s)),
             cnet_socket_is_pending(s) ? "true" : "false",
             cnet_socket_is_connecting(s) ? "true" : "false", r.address, r.family,
             r.port == port ? "PORT" : "?", l.address, l.family);
}

static cnet_socket_t *wrap(int fd, bool no_read, bool no_write, bool half, const conf_side_t *side)
{
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s = NULL;
    o.has_fd = true;
    o.fd = fd;
    o.not_readable = no_read;
    o.not_writable = no_write;
    o.allow_half_open = half;
    CONF_OK(cnet_socket_new(NULL, &o, &s));
    conf_trace_socket(s, side);
    state(side->name, s);
    return s;
}

static void d_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end_str(s, "late-d"));
}

/* The child's part: wrap the four fds. */
static void child(void)
{
    cnet_socket_t *a, *c, *d;

    a = wrap(fds[0], false, false, false, &side_a);
    CONF_OK(cnet_socket_write_str(a, "hello-a"));
    wrap(fds[1], false, true, false, &side_b);
    c = wrap(fds[2], true, false, false, &side_c);
    CONF_OK(cnet_socket_end_str(c, "from-c"));
    d = wrap(fds[3], false, false, true, &side_d);
    cnet_socket_on(d, CNET_EVENT_END, d_end, NULL);
}

static void pa_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_end_str(s, "bye-a"));
}

static void peer_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (++nclosed == 4)
        CONF_OK(cnet_server_close(srv, NULL, NULL));
}

static void on_connection(cnet_server_t *server, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *p = ev->connection;
    int i = npeers++;

    peers[i] = p;
    conf_trace_socket(p, &peer_sides[i]);
    cnet_socket_on(p, CNET_EVENT_CLOSE, peer_close, NULL);
    if (i == 0)
        cnet_socket_on(p, CNET_EVENT_DATA, pa_data, NULL);
    if (npeers == 4) {
        child();
        CONF_OK(cnet_socket_end_str(peers[1], "to-b"));
        CONF_OK(cnet_socket_end_str(peers[3], "to-d"));
    }
}

int main(void)
{
    static const char *const sides[] = {"bad", "file", "a", "b", "c", "d", "pa", "pb", "pc", "pd"};
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s = NULL;
    cnet_address_t addr;
    struct sockaddr_in sin;

    conf_deadline(5);
    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++)
        conf_log("%s trace", sides[i]);
    o.has_fd = true;
    o.fd = -1;
    conf_log("bad throw %s", cnet_err_name(cnet_socket_new(NULL, &o, &s)));
    o.fd = open("ipc_socket_fd.txt", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    conf_log("file throw %s", cnet_err_name(cnet_socket_new(NULL, &o, &s)));
    close(o.fd);
    unlink("ipc_socket_fd.txt");

    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    cnet_server_on(srv, CNET_EVENT_CONNECTION, on_connection, NULL);
    CONF_OK(cnet_server_listen(srv, 0, NULL, NULL, NULL));
    CONF_OK(cnet_server_address(srv, &addr));
    port = addr.port;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 4; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fds[i], (struct sockaddr *)&sin, sizeof sin) != 0)
            conf_log("CALL FAILED connect");
    }
    return cnet_run();
}
