/* The same steps as ipc_pass_server.js, with a cnet channel on a socketpair. */
#include "conformance.h"

#include <sys/wait.h>

static cnet_server_t *server;
static cnet_channel_t *channel;
static int port;
static char got[256];
static size_t got_len;
static const conf_side_t client_side = {"client", CONF_DATA_NONE};

/* ---- the child: its lines are printed at the end, as in the .js ---- */

static char child_lines[1024];
static size_t child_len;
static cnet_server_t *child_server;
static char seen[256];
static size_t seen_len;

static void child_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void child_log(const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(child_lines + child_len, sizeof child_lines - child_len - 1, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof child_lines - child_len - 1) {
        child_len += (size_t)n;
        child_lines[child_len++] = '\n';
    }
}

static void child_on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (seen_len + ev->data.len <= sizeof seen) {
        memcpy(seen + seen_len, ev->data.base, ev->data.len);
        seen_len += ev->data.len;
    }
    CONF_OK(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL));
}

static void child_on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    child_log("child end %s", conf_esc(seen, seen_len));
    CONF_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
}

static void child_on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    child_log("child connection");
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, child_on_data, NULL));
    CONF_OK(cnet_socket_on(ev->connection, CNET_EVENT_END, child_on_end, NULL));
}

static void child_on_server_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    child_log("child server close");
    fwrite(child_lines, 1, child_len, stdout);
    fflush(stdout);
}

static void child_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    child_server = ev->server;
    child_log("child message %.*s %s %s", (int)ev->data.len, ev->data.base,
              ev->server ? "server" : "-", cnet_server_is_listening(ev->server) ? "true" : "false");
    CONF_OK(cnet_server_on(ev->server, CNET_EVENT_CONNECTION, child_on_connection, NULL));
    CONF_OK(cnet_server_on(ev->server, CNET_EVENT_CLOSE, child_on_server_close, NULL));
}

static void child_on_disconnect(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    child_log("child disconnect");
    CONF_OK(cnet_server_close(child_server, NULL, NULL));
}

static int child_main(int fd)
{
    cnet_channel_t *ch;
    CONF_OK(cnet_channel_open(NULL, fd, NULL, &ch));
    CONF_OK(cnet_channel_on(ch, CNET_EVENT_MESSAGE, child_on_message, NULL));
    CONF_OK(cnet_channel_on(ch, CNET_EVENT_CLOSE, child_on_disconnect, NULL));
    return cnet_run();
}

/* ---- the parent ---- */

static void on_connect(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_socket_write_str(c, "ping"));
    CONF_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void on_data(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    if (got_len + ev->data.len <= sizeof got) {
        memcpy(got + got_len, ev->data.base, ev->data.len);
        got_len += ev->data.len;
    }
}

static void on_end(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("client received %s", conf_esc(got, got_len));
}

static void on_close(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    cnet_channel_close(channel);
}

static void on_server_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *client;

    conf_log("server close");
    CONF_OK(cnet_socket_new(NULL, NULL, &client));
    conf_trace_socket(client, &client_side);
    CONF_OK(cnet_socket_on(client, CNET_EVENT_DATA, on_data, NULL));
    CONF_OK(cnet_socket_on(client, CNET_EVENT_END, on_end, NULL));
    CONF_OK(cnet_socket_on(client, CNET_EVENT_CLOSE, on_close, NULL));
    CONF_OK(cnet_socket_connect(client, port, "127.0.0.1", on_connect, NULL));
}

static void on_sent(cnet_channel_t *ch, int status, void *arg)
{
    conf_log("server sent %s %s", status ? cnet_err_name(status) : "-",
             cnet_server_is_listening(server) ? "true" : "false");
    CONF_OK(cnet_server_close(server, NULL, NULL));
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;

    conf_log("server listening");
    CONF_OK(cnet_server_address(srv, &a));
    port = a.port;
    CONF_OK(cnet_channel_send_server(channel, "srv", 3, srv, on_sent, NULL));
}

int main(void)
{
    int sv[2], status, rc;
    pid_t pid;

    conf_deadline(5);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return 1;
    fflush(stdout);
    pid = fork(); /* before either side has a loop, as node's fork() starts afresh */
    if (pid == 0) {
        close(sv[0]);
        exit(child_main(sv[1]));
    }
    close(sv[1]);
    CONF_OK(cnet_channel_open(NULL, sv[0], NULL, &channel));
    server = cnet_create_server(NULL, NULL, NULL);
    CONF_OK(cnet_server_on(server, CNET_EVENT_CLOSE, on_server_close, NULL));
    CONF_OK(cnet_server_listen(server, 0, "127.0.0.1", on_listening, NULL));
    rc = cnet_run();
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        conf_log("CHILD FAILED");
    return rc;
}
