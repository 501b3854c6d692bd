/*
 * The seeds' echo server: greets with "hello\r\n", echoes every byte, and
 * says "goodbye\r\n" when the client half-closes. A client that sends
 * without reading is paused until it has read its echo ('drain'), so it
 * cannot make the server buffer without bound.
 *
 *   echo_server [--port N] [--host H] [--path /tmp/echo.sock]
 *
 * Defaults to port 8124 on localhost. Try it with: nc localhost 8124
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int rc = cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL); /* copied */
    if (rc == 1)
        cnet_socket_pause(s); /* the peer reads slower than it sends: wait for 'drain' */
    else if (rc < 0)
        cnet_socket_destroy(s); /* out of memory: drop this client, keep the others */
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_resume(s);
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_end_str(s, "goodbye\r\n");
}

/* A peer that resets, say; 'close' follows and frees the socket. */
static void on_socket_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "echo server: client: %s\n", ev->error->message);
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;
    cnet_socket_write_str(s, "hello\r\n");
    cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(s, CNET_EVENT_DRAIN, on_drain, NULL);
    cnet_socket_on(s, CNET_EVENT_END, on_end, NULL);
    cnet_socket_on(s, CNET_EVENT_ERROR, on_socket_error, NULL);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) == 0) {
        if (a.family)
            printf("echo server listening on %s port %d\n", a.address, a.port);
        else
            printf("echo server listening on %s\n", a.address);
        fflush(stdout);
    }
}

static int exit_code;

/*
 * A failed listen (EADDRINUSE, EACCES, a name that does not resolve) ends the
 * program; an accept error (EMFILE: out of fds) does not, the server goes on.
 */
static void on_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "echo server: %s\n", ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    exit_code = 1;
    cnet_server_destroy(srv); /* nothing is left on the loop: cnet_run() returns */
}

int main(int argc, char **argv)
{
    const char *host = "localhost", *path = NULL;
    int port = 8124, err;

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
    cnet_server_t *srv = cnet_create_server(NULL, on_connection, NULL);
    if (!srv)
        return 1;
    cnet_server_on(srv, CNET_EVENT_ERROR, on_error, NULL);
    err = path ? cnet_server_listen_path(srv, path, on_listening, NULL)
               : cnet_server_listen(srv, port, host, on_listening, NULL);
    if (err < 0) {
        fprintf(stderr, "listen: %s (%s)\n", cnet_strerror(err), cnet_err_name(err));
        return 1;
    }
    cnet_run();
    return exit_code;
}
