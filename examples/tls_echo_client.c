/*
 * The seeds' echo client over TLS: connects, writes "world!\r\n" (queued
 * until the handshake is done), prints what comes back, and ends after the
 * first data (close_notify, then FIN).
 *
 *   tls_echo_client [--ca ca.pem] [--port N] [--host H] [--insecure]
 *
 * Defaults to localhost port 8443 (tls_echo_server). The server's name is
 * checked against its certificate (checkServerIdentity); --insecure is
 * rejectUnauthorized: false (the handshake succeeds, authorized is false).
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_secure_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const char *why = NULL;
    int code = cnet_socket_tls_authorization_error(s, &why);
    printf("secureConnect: %s, authorized %s%s%s\n", cnet_socket_tls_protocol(s),
           cnet_socket_tls_authorized(s) ? "true" : "false", code ? ": " : "", code ? why : "");
}

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    fwrite(ev->data.base, 1, ev->data.len, stdout);
    fflush(stdout);
    cnet_socket_end(s, NULL, 0, NULL, NULL);
}

static int exit_code;

/* A refused connection, a certificate that does not verify...: 'close' follows. */
static void on_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    exit_code = 1;
    fprintf(stderr, "tls echo client: %s: %s\n", cnet_err_name(ev->error->code),
            ev->error->message);
}

int main(int argc, char **argv)
{
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t t = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_tls_context_t *ctx;
    cnet_socket_t *s;
    char msg[256];
    int err;

    o.host = "localhost";
    o.port = 8443;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            o.port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            o.host = argv[++i];
        else if (!strcmp(argv[i], "--ca") && i + 1 < argc)
            co.ca_file = argv[++i];
        else if (!strcmp(argv[i], "--insecure"))
            t.reject_unauthorized = CNET_TLS_OFF;
        else {
            fprintf(stderr, "usage: %s [--ca ca.pem] [--port N] [--host H] [--insecure]\n",
                    argv[0]);
            return 2;
        }
    }
    if ((err = cnet_tls_context_new(&co, &ctx, msg, sizeof msg)) != 0) {
        fprintf(stderr, "tls echo client: %s\n", msg);
        return 1;
    }
    err = cnet_tls_connect(NULL, &o, ctx, &t, on_secure_connect, NULL, &s);
    cnet_tls_context_release(ctx); /* the socket holds its own reference */
    if (err) {
        fprintf(stderr, "tls echo client: %s\n", cnet_strerror(err));
        return 1;
    }
    cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(s, CNET_EVENT_ERROR, on_error, NULL);
    cnet_socket_write_str(s, "world!\r\n");
    cnet_run();
    return exit_code;
}
