/*
 * A TCP (or Unix socket) proxy built on cnet_socket_pipe(): each accepted
 * connection is piped to a new connection to the target and back, with
 * backpressure both ways, so a slow reader on either side keeps memory
 * bounded by the sockets' highWaterMarks.
 *
 *   tcp_proxy LISTEN_PORT TARGET_HOST TARGET_PORT
 *   tcp_proxy LISTEN_PORT unix:/path/to/target.sock
 *
 * Listens on 127.0.0.1. Prints "listening on PORT" once ready (port 0 picks one).
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *target_host, *target_path;
static int target_port;

/* Either side failing takes the other down too. */
static void on_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(arg);
}

/*
 * When one side closes, the other is still alive (it would have unlinked us
 * otherwise). Unlink it from the closing socket, whose pointer is invalid
 * after this 'close', then take it down.
 */
static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *other = arg;
    cnet_socket_off(other, CNET_EVENT_ERROR, on_error, s);
    cnet_socket_off(other, CNET_EVENT_CLOSE, on_close, s);
    cnet_socket_destroy(other);
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *client = ev->connection, *upstream;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;

    o.host = target_host;
    o.port = target_port;
    o.path = target_path;
    o.allow_half_open = true; /* let each direction end on its own */
    if (cnet_create_connection(cnet_server_loop(srv), &o, NULL, NULL, &upstream) != 0) {
        cnet_socket_destroy(client);
        return;
    }
    cnet_socket_on(client, CNET_EVENT_ERROR, on_error, upstream);
    cnet_socket_on(upstream, CNET_EVENT_ERROR, on_error, client);
    cnet_socket_on(client, CNET_EVENT_CLOSE, on_close, upstream);
    cnet_socket_on(upstream, CNET_EVENT_CLOSE, on_close, client);
    cnet_socket_pipe(client, upstream, true);
    cnet_socket_pipe(upstream, client, true);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) == 0) {
        printf("listening on %d\n", a.port);
        fflush(stdout);
    }
}

static int exit_code;

/* A failed listen (EADDRINUSE, EACCES) ends the program; an accept error (EMFILE) does not. */
static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "tcp_proxy: %s\n", ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    exit_code = 1;
    cnet_server_destroy(srv);
}

int main(int argc, char **argv)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    if (argc == 3 && !strncmp(argv[2], "unix:", 5)) {
        target_path = argv[2] + 5;
    } else if (argc == 4) {
        target_host = argv[2];
        target_port = atoi(argv[3]);
    } else {
        fprintf(stderr, "usage: %s LISTEN_PORT (TARGET_HOST TARGET_PORT | unix:PATH)\n", argv[0]);
        return 2;
    }
    so.allow_half_open = true;
    so.pause_on_connect = true; /* nothing is read until the pipe to upstream exists */
    srv = cnet_create_server(&so, on_connection, NULL);
    if (!srv)
        return 1;
    cnet_server_on(srv, CNET_EVENT_ERROR, on_server_error, NULL);
    err = cnet_server_listen(srv, atoi(argv[1]), "127.0.0.1", on_listening, NULL);
    if (err < 0) {
        fprintf(stderr, "listen: %s (%s)\n", cnet_strerror(err), cnet_err_name(err));
        return 1;
    }
    cnet_run();
    return exit_code;
}
