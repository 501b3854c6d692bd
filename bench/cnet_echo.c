/*
 * cnet_echo: cnet's own echo server, written with the ordinary public API
 * only, the way a user would write it (no libuv, no internals).
 *
 *   cnet_echo HOST:PORT | [V6]:PORT | unix:PATH
 *
 * Echoes every byte with the copying cnet_socket_write(), sends no greeting,
 * sets no-delay, runs until SIGTERM (the default action ends it; the harness
 * only needs it to stop). Back-pressure works as Node's c.pipe(c): pause
 * when write() says the queue is full, resume on 'drain'.
 */
#include <cnet.h>
#include <stdio.h>

#include "bench_addr.h"

static int listen_failed;

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int r = cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL);

    (void)arg;
    if (r == 1)
        cnet_socket_pause(s); /* wait for 'drain' */
    else if (r < 0)
        cnet_socket_destroy(s);
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    cnet_socket_resume(s);
}

/* A reset peer is normal in a benchmark; 'close' follows and frees the socket. */
static void on_socket_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    (void)arg;
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;

    (void)srv;
    (void)arg;
    cnet_socket_set_no_delay(s, true); /* also set by opts.no_delay; harmless on a pipe */
    if (cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL) != 0 ||
        cnet_socket_on(s, CNET_EVENT_DRAIN, on_drain, NULL) != 0 ||
        cnet_socket_on(s, CNET_EVENT_ERROR, on_socket_error, NULL) != 0)
        cnet_socket_destroy(s);
}

static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    fprintf(stderr, "cnet_echo: %s\n", ev->error != NULL ? ev->error->message : "server error");
    listen_failed = 1;
    cnet_server_destroy(srv);
}

int main(int argc, char **argv)
{
    struct bench_addr addr;
    cnet_server_opts_t opts = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    bench_addr_from_args(argc, argv, &addr);

    opts.no_delay = true;
    srv = cnet_create_server(&opts, on_connection, NULL);
    if (srv == NULL) {
        fprintf(stderr, "cnet_echo: out of memory\n");
        return 1;
    }
    err = cnet_server_on(srv, CNET_EVENT_ERROR, on_server_error, NULL);
    if (err == 0) {
        if (addr.family == AF_UNIX)
            err = cnet_server_listen_path(srv, addr.path, NULL, NULL);
        else
            err = cnet_server_listen(srv, addr.port, addr.host, NULL, NULL);
    }
    if (err != 0) {
        fprintf(stderr, "cnet_echo: listen %s: %s (%s)\n", argv[1], cnet_strerror(err),
                cnet_err_name(err));
        return 1;
    }
    cnet_run();
    return listen_failed;
}
