/*
 * A multi-core echo server: N worker threads, one cnet loop each, all serving
 * one port. Each worker listens with reuse_port (SO_REUSEPORT: the kernel
 * spreads connections over the workers by a hash of their addresses), or,
 * with --shared, they share one listening socket (node's cluster default,
 * exclusive false: whichever loop accepts first takes the connection).
 *
 *   multicore_echo [--port N] [--host H] [--workers N] [--shared]
 *
 * Defaults: port 8124 on 127.0.0.1, one worker per CPU. Ctrl-C (SIGINT) or
 * SIGTERM stops the workers cleanly. Try it with: nc 127.0.0.1 8124
 */
#define _POSIX_C_SOURCE 200809L /* sigwait, pthread_sigmask under -std=c11 */
#include <cnet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct config {
    const char *host;
    int port;
    bool shared;
} config_t;

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) == 1)
        cnet_socket_pause(s); /* the peer reads slower than it writes: wait for 'drain' */
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_resume(s);
}

static void on_socket_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    /* A reset peer: 'close' follows and frees the socket. */
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;

    cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(s, CNET_EVENT_DRAIN, on_drain, NULL);
    cnet_socket_on(s, CNET_EVENT_ERROR, on_socket_error, NULL);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;

    if (cnet_server_address(srv, &a) == 0)
        printf("worker %u listening on %s port %d\n", (unsigned)(size_t)arg, a.address, a.port);
    fflush(stdout);
}

static atomic_bool failed;

/*
 * A worker that could not listen (EADDRINUSE...) stops them all: it wakes
 * main()'s sigwait. An accept error (EMFILE) only is reported.
 */
static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "worker %u: %s\n", (unsigned)(size_t)arg, ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    cnet_server_destroy(srv);
    if (!atomic_exchange(&failed, true))
        kill(getpid(), SIGTERM); /* blocked in every thread: only sigwait() takes it */
}

/* Runs on each worker's thread, on its loop, one worker after the other. */
static int setup(cnet_loop_t *loop, unsigned index, void *arg)
{
    const config_t *cfg = arg;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    so.no_delay = true;
    if ((err = cnet_server_new(loop, &so, &srv)) != 0)
        return err;
    if ((err = cnet_server_on(srv, CNET_EVENT_CONNECTION, on_connection, NULL)) != 0 ||
        (err = cnet_server_on(srv, CNET_EVENT_ERROR, on_server_error, (void *)(size_t)index)) != 0)
        goto fail;
    lo.host = cfg->host;
    lo.port = cfg->port;
    lo.reuse_port = !cfg->shared; /* else exclusive false: one socket for all */
    if ((err = cnet_server_listen_opts(srv, &lo, on_listening, (void *)(size_t)index)) != 0)
        goto fail;
    return 0;
fail:
    cnet_server_destroy(srv);
    return err;
}

int main(int argc, char **argv)
{
    config_t cfg = {"127.0.0.1", 8124, false};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = ncpu > 0 ? (unsigned)ncpu : 1;
    cnet_workers_t *workers;
    sigset_t stop_signals;
    int sig, err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            cfg.port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            cfg.host = argv[++i];
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            n = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shared"))
            cfg.shared = true;
        else {
            fprintf(stderr, "usage: %s [--port N] [--host H] [--workers N] [--shared]\n", argv[0]);
            return 2;
        }
    }

    /* Only this thread takes SIGINT/SIGTERM: the workers inherit the blocked mask. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    if ((err = cnet_workers_start(n, setup, &cfg, &workers)) != 0) {
        fprintf(stderr, "multicore_echo: %s (%s)\n", cnet_strerror(err), cnet_err_name(err));
        return 1;
    }
    printf("%u workers on port %d (%s); Ctrl-C stops them\n", n, cfg.port,
           cfg.shared ? "one shared socket" : "SO_REUSEPORT");
    fflush(stdout);
    sigwait(&stop_signals, &sig);
    cnet_workers_stop(workers); /* closes the servers, destroys the connections, joins */
    printf("stopped\n");
    return failed ? 1 : 0;
}
