/*
 * The seeds' echo client: connects, writes "hello, world!\r\n", prints what
 * comes back, and ends after the first reply.
 *
 *   echo_client [--port N] [--host H] [--path SOCKET]
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    printf("client connected\n");
    cnet_socket_write_str(s, "world!\r\n");
}

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    fwrite(ev->data.base, 1, ev->data.len, stdout);
    cnet_socket_end(s, NULL, 0, NULL, NULL);
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    printf("client disconnected\n");
}

static int exit_code;

/* ECONNREFUSED, ENOTFOUND, a reset...: 'close' follows, then cnet_run() returns. */
static void on_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "echo client: %s\n", ev->error->message);
    exit_code = 1;
}

int main(int argc, char **argv)
{
    const char *host = "localhost", *path = NULL;
    int port = 8124;
    cnet_socket_t *s;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--path") && i + 1 < argc)
            path = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--port N] [--host H] [--path SOCKET]\n", argv[0]);
            return 2;
        }
    }
    s = path ? cnet_connect_path(path, on_connect, NULL)
             : cnet_connect(port, host, on_connect, NULL);
    if (!s) {
        fprintf(stderr, "echo client: invalid arguments\n");
        return 2;
    }
    cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(s, CNET_EVENT_END, on_end, NULL);
    cnet_socket_on(s, CNET_EVENT_ERROR, on_error, NULL);
    cnet_run();
    return exit_code;
}
