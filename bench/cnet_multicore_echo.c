/*
 * cnet_multicore_echo: cnet_echo.c on N worker threads (cnet_workers_start),
 * one loop each, every worker listening on the same port with reuse_port
 * (SO_REUSEPORT), or with --shared on one socket shared by the workers (the
 * listen option exclusive left false). Public API only.
 *
 *   cnet_multicore_echo [-w N] [--shared] HOST:PORT | [V6]:PORT
 *
 * N defaults to 2. Echoes every byte (copying write, pause on a full queue,
 * resume on 'drain'), sets no-delay, sends no greeting, runs until SIGTERM
 * or SIGINT, then stops its workers cleanly.
 */
#include <cnet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_addr.h"

static struct bench_addr addr;
static bool shared;

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int r = cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL);

    (void)arg;
    if (r == 1)
        cnet_socket_pause(s);
    else if (r < 0)
        cnet_socket_destroy(s);
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    cnet_socket_resume(s);
}

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
    if (cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL) != 0 ||
        cnet_socket_on(s, CNET_EVENT_DRAIN, on_drain, NULL) != 0 ||
        cnet_socket_on(s, CNET_EVENT_ERROR, on_socket_error, NULL) != 0)
        cnet_socket_destroy(s);
}

static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    fprintf(stderr, "cnet_multicore_echo: %s\n", ev->error->message);
    exit(1); /* the harness sees the server die and tries another port */
}

static int setup(cnet_loop_t *loop, unsigned index, void *arg)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    (void)index;
    (void)arg;
    so.no_delay = true;
    if ((err = cnet_server_new(loop, &so, &srv)) != 0)
        return err;
    lo.host = addr.host;
    lo.port = addr.port;
    lo.reuse_port = !shared;
    if ((err = cnet_server_on(srv, CNET_EVENT_CONNECTION, on_connection, NULL)) != 0 ||
        (err = cnet_server_on(srv, CNET_EVENT_ERROR, on_server_error, NULL)) != 0 ||
        (err = cnet_server_listen_opts(srv, &lo, NULL, NULL)) != 0)
        return err;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned n = 2;
    cnet_workers_t *w;
    sigset_t stop;
    int i = 1, sig, err;

    for (; i < argc - 1; i++) {
        if (!strcmp(argv[i], "-w") && i + 1 < argc - 1)
            n = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--shared"))
            shared = true;
        else
            break;
    }
    argv[i - 1] = argv[0];
    bench_addr_from_args(argc - (i - 1), argv + (i - 1), &addr);
    if (addr.family == AF_UNIX) {
        fprintf(stderr, "cnet_multicore_echo: TCP only\n");
        return 2;
    }
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* the workers inherit it */
    if ((err = cnet_workers_start(n, setup, NULL, &w)) != 0) {
        fprintf(stderr, "cnet_multicore_echo: %s (%s)\n", cnet_strerror(err), cnet_err_name(err));
        return 1;
    }
    sigwait(&stop, &sig);
    cnet_workers_stop(w);
    return 0;
}
