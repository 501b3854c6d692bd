/*
 * Item 1 of issue 10; the same steps as ipc_listen_fd.js. Node needs a
 * parent process to make the listening fds; here they are made with
 * socket/bind/listen (TCP on 127.0.0.1, a Unix socket in the cwd).
 */
#include "conformance.h"

#include <fcntl.h>
#include <sys/un.h>

typedef struct side {
    const char *name;
    char client[32];
    int port;
    const char *path;
} side_t;

static int expected_port;

static void show_addr(char *out, size_t n, cnet_server_t *srv)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) != 0)
        snprintf(out, n, "null");
    else if (a.family == 0)
        snprintf(out, n, "%s", a.address);
    else if (a.port == expected_port)
        snprintf(out, n, "%s IPv%d PORT", a.address, a.family);
    else
        snprintf(out, n, "%s IPv%d %d", a.address, a.family, a.port);
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    conf_log("%s connection", side->name);
    CONF_OK(cnet_socket_end_str(ev->connection, "hi"));
}

static void on_client_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    conf_log("%s data %.*s", side->client, (int)ev->data.len, ev->data.base);
}

static void on_client_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    conf_log("%s close", side->client);
    CONF_OK(cnet_server_close(cnet_socket_get_data(s), NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *c = NULL;
    char a[160];

    show_addr(a, sizeof a, srv);
    conf_log("%s listening %s", side->name, a);
    o.port = side->port;
    o.host = "127.0.0.1";
    o.path = side->path;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &c));
    cnet_socket_set_data(c, srv);
    cnet_socket_on(c, CNET_EVENT_DATA, on_client_data, side);
    cnet_socket_on(c, CNET_EVENT_CLOSE, on_client_close, side);
}

static void on_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    conf_log("%s error %s", side->name, conf_err(ev->error));
}

static void on_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    side_t *side = arg;
    conf_log("%s close", side->name);
}

static void listen_on(side_t *side, int fd)
{
    cnet_server_t *s;
    char a[160];

    snprintf(side->client, sizeof side->client, "%s-client", side->name);
    CONF_OK(cnet_server_new(NULL, NULL, &s));
    cnet_server_on(s, CNET_EVENT_CONNECTION, on_connection, side);
    cnet_server_on(s, CNET_EVENT_LISTENING, on_listening, side);
    cnet_server_on(s, CNET_EVENT_ERROR, on_error, side);
    cnet_server_on(s, CNET_EVENT_CLOSE, on_close, side);
    CONF_OK(cnet_server_listen_fd(s, fd, NULL, NULL));
    show_addr(a, sizeof a, s);
    conf_log("%s sync %s %s", side->name, cnet_server_is_listening(s) ? "true" : "false", a);
}

static void file_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    char a[160];
    show_addr(a, sizeof a, srv);
    conf_log("file error %s \"%s\" address=%s %s %s", conf_err(ev->error), ev->error->message,
             ev->error->address ? ev->error->address : "-",
             cnet_server_is_listening(srv) ? "true" : "false", a);
    /* Node emits no 'close' here and collects the server; C frees it, unheard. */
    cnet_server_off_all(srv, CNET_EVENT_CLOSE);
    cnet_server_destroy(srv);
}

static void file_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    conf_log("file close");
}

int main(void)
{
    static side_t tcp = {.name = "tcp"}, unix_side = {.name = "unix"};
    struct sockaddr_in sin;
    struct sockaddr_un sun;
    socklen_t len = sizeof sin;
    cnet_server_t *bad, *file;
    char a[160];
    int r, fd;

    conf_deadline(5);
    for (const char *const *side =
             (const char *const[]){"bad", "file", "tcp", "tcp-client", "unix", "unix-client", NULL};
         *side; side++)
        conf_log("%s trace", *side);
    CONF_OK(cnet_server_new(NULL, NULL, &bad));
    r = cnet_server_listen_fd(bad, -1, NULL, NULL);
    conf_log("bad throw %s", cnet_err_name(r));
    cnet_server_destroy(bad);

    fd = open("regular.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1)
        conf_log("CALL FAILED open regular.txt");
    CONF_OK(cnet_server_new(NULL, NULL, &file));
    cnet_server_on(file, CNET_EVENT_ERROR, file_error, NULL);
    cnet_server_on(file, CNET_EVENT_CLOSE, file_close, NULL);
    CONF_OK(cnet_server_listen_fd(file, fd, NULL, NULL));
    show_addr(a, sizeof a, file);
    conf_log("file sync %s %s", cnet_server_is_listening(file) ? "true" : "false", a);

    /* What the parent hands over: a listening TCP socket, a bound Unix one. */
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 511) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
        conf_log("CALL FAILED tcp fd");
    tcp.port = expected_port = ntohs(sin.sin_port);
    listen_on(&tcp, fd);

    unlink("ipc.sock");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "ipc.sock");
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, 511) != 0)
        conf_log("CALL FAILED unix fd");
    unix_side.path = "ipc.sock";
    listen_on(&unix_side, fd);
    r = cnet_run();
    unlink("ipc.sock");
    return r;
}
