/*
 * cnet_tls_echo: cnet's TLS echo server, written with the public API only,
 * as cnet_echo.c is: the same 'data' / 'drain' echo, on a TLS server.
 *
 *   cnet_tls_echo [--tls1.2] --cert CERT.pem --key KEY.pem HOST:PORT | [V6]:PORT | unix:PATH
 *
 * One secure context from the two files (TLS 1.2 at most with --tls1.2,
 * every other option at its default: tickets on, node's ciphers). Runs
 * until SIGTERM. A peer that resets, or fails its handshake, only closes its
 * own socket.
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_tls_args.h"

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

/* A handshake that failed (tlsClientError): that socket closes, the server serves on. */
static void on_client_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)ev;
    (void)arg;
}

static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    fprintf(stderr, "cnet_tls_echo: %s\n", ev->error != NULL ? ev->error->message : "error");
    listen_failed = 1;
    cnet_server_destroy(srv);
}

int main(int argc, char **argv)
{
    struct bench_tls_args a;
    cnet_tls_context_opts_t copts = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_server_opts_t opts = CNET_SERVER_OPTS_INIT;
    cnet_tls_context_t *ctx;
    cnet_server_t *srv;
    char msg[256] = "";
    int err;

    bench_tls_args_from_args(argc, argv, &a);
    copts.cert_file = a.cert_file;
    copts.key_file = a.key_file;
    if (a.tls12_only)
        copts.max_version = CNET_TLSV1_2;
    err = cnet_tls_context_new(&copts, &ctx, msg, sizeof msg);
    if (err != 0) {
        fprintf(stderr, "cnet_tls_echo: context: %s (%s) %s\n", cnet_strerror(err),
                cnet_err_name(err), msg);
        return 1;
    }
    opts.no_delay = true;
    opts.tls = ctx;
    srv = cnet_create_server(&opts, on_connection, NULL);
    cnet_tls_context_release(ctx); /* the server holds its own reference */
    if (srv == NULL) {
        fprintf(stderr, "cnet_tls_echo: out of memory\n");
        return 1;
    }
    err = cnet_server_on(srv, CNET_EVENT_ERROR, on_server_error, NULL);
    if (err == 0)
        err = cnet_server_on(srv, CNET_EVENT_TLS_CLIENT_ERROR, on_client_error, NULL);
    if (err == 0) {
        if (a.addr.family == AF_UNIX)
            err = cnet_server_listen_path(srv, a.addr.path, NULL, NULL);
        else
            err = cnet_server_listen(srv, a.addr.port, a.addr.host, NULL, NULL);
    }
    if (err != 0) {
        fprintf(stderr, "cnet_tls_echo: listen %s: %s (%s)\n", a.target, cnet_strerror(err),
                cnet_err_name(err));
        return 1;
    }
    cnet_run();
    return listen_failed;
}
