/* Issue 10, item 2: Unix socket path errors; the same steps as ipc_unix_errors.js. */
#include "conformance.h"

#include <fcntl.h>
#include <sys/stat.h>

static int step;
static void next(void);

static void on_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const char *side = arg;
    if (ev->type == CNET_EVENT_CONNECT) {
        conf_log("%s connect", side);
    } else if (ev->type == CNET_EVENT_ERROR) {
        conf_log("%s error %s", side, conf_err_detail(ev->error));
    } else {
        conf_log("%s close %s", side, ev->had_error ? "true" : "false");
        next();
    }
}

static void connect_to(const char *side, const char *path)
{
    cnet_socket_t *s = cnet_connect_path(path, NULL, NULL);
    if (!s) {
        conf_log("CALL FAILED cnet_connect_path");
        return;
    }
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CONNECT, on_sock, (void *)side));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_ERROR, on_sock, (void *)side));
    CONF_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_sock, (void *)side));
}

static void on_taken(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const cnet_error_t *e = ev->error;
    conf_log("taken error %s %s \"%s\" %s %s", cnet_err_name(e->code), e->syscall, e->message,
             e->address, cnet_server_is_listening(srv) ? "true" : "false");
    cnet_server_destroy(srv);
    next();
}

static void on_gone_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    struct stat st;
    conf_log("gone exists %s", stat("gone.sock", &st) == 0 ? "true" : "false");
    connect_to("gone", "gone.sock");
}

static void on_gone_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CONF_OK(cnet_server_close(srv, on_gone_closed, NULL));
}

static void next(void)
{
    cnet_server_t *srv;

    switch (step++) {
    case 0:
        connect_to("missing", "nope.sock");
        break;
    case 1:
        connect_to("notsock", "plain.txt");
        break;
    case 2:
        CONF_OK(cnet_server_new(NULL, NULL, &srv));
        CONF_OK(cnet_server_on(srv, CNET_EVENT_ERROR, on_taken, NULL));
        CONF_OK(cnet_server_listen_path(srv, "plain.txt", NULL, NULL));
        break;
    case 3:
        CONF_OK(cnet_server_new(NULL, NULL, &srv));
        CONF_OK(cnet_server_listen_path(srv, "gone.sock", on_gone_listening, NULL));
        break;
    default:
        break;
    }
}

int main(void)
{
    int fd;

    conf_deadline(5);
    fd = open("plain.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1)
        conf_log("cannot write plain.txt");
    if (fd >= 0)
        close(fd);
    next();
    return cnet_run();
}
