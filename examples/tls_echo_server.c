/*
 * The seeds' echo server over TLS: greets with "hello\r\n", echoes every
 * byte, and says "goodbye\r\n" when the client half-closes (its close_notify).
 *
 *   tls_echo_server --key key.pem --cert cert.pem [--port N] [--host H]
 *
 * Defaults to port 8443 on localhost. A certificate to try it with:
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
 *     -keyout key.pem -out cert.pem -subj /CN=localhost \
 *     -addext subjectAltName=DNS:localhost,IP:127.0.0.1
 * then: openssl s_client -connect localhost:8443 -CAfile cert.pem
 *   or: tls_echo_client --ca cert.pem
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backpressure as in echo_server.c: a peer that does not read is paused. */
static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int rc = cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL); /* copied */
    if (rc == 1)
        cnet_socket_pause(s);
    else if (rc < 0)
        cnet_socket_destroy(s);
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_resume(s);
}

static void on_socket_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "tls echo server: client: %s\n", ev->error->message);
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_end_str(s, "goodbye\r\n");
}

/* tls.createServer's listener: the handshake is done. */
static void on_secure_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;
    printf("secure connection: %s\n", cnet_socket_tls_protocol(s));
    fflush(stdout);
    cnet_socket_write_str(s, "hello\r\n");
    cnet_socket_on(s, CNET_EVENT_DATA, on_data, NULL);
    cnet_socket_on(s, CNET_EVENT_DRAIN, on_drain, NULL);
    cnet_socket_on(s, CNET_EVENT_END, on_end, NULL);
    cnet_socket_on(s, CNET_EVENT_ERROR, on_socket_error, NULL);
}

static void on_client_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "tlsClientError: %s\n", ev->error->message); /* the server keeps serving */
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) == 0) {
        printf("TLS echo server listening on %s port %d\n", a.address, a.port);
        fflush(stdout);
    }
}

static int exit_code;

/* A failed listen ends the program; an accept error (EMFILE) does not. */
static void on_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "tls echo server: %s\n", ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    exit_code = 1;
    cnet_server_destroy(srv);
}

int main(int argc, char **argv)
{
    cnet_tls_context_opts_t co = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    const char *host = "localhost";
    cnet_tls_context_t *ctx;
    cnet_server_t *srv;
    char msg[256];
    int port = 8443, err;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            co.key_file = argv[++i];
        else if (!strcmp(argv[i], "--cert") && i + 1 < argc)
            co.cert_file = argv[++i];
        else {
            fprintf(stderr, "usage: %s --key key.pem --cert cert.pem [--port N] [--host H]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!co.key_file || !co.cert_file) {
        fprintf(stderr, "%s: --key and --cert are required\n", argv[0]);
        return 2;
    }
    if ((err = cnet_tls_context_new(&co, &ctx, msg, sizeof msg)) != 0) {
        fprintf(stderr, "tls echo server: %s\n", msg);
        return 1;
    }
    so.tls = ctx; /* retained by the server */
    if ((err = cnet_server_new(NULL, &so, &srv)) != 0) {
        fprintf(stderr, "tls echo server: %s\n", cnet_strerror(err));
        return 1;
    }
    cnet_tls_context_release(ctx);
    cnet_server_on(srv, CNET_EVENT_SECURE_CONNECTION, on_secure_connection, NULL);
    cnet_server_on(srv, CNET_EVENT_TLS_CLIENT_ERROR, on_client_error, NULL);
    cnet_server_on(srv, CNET_EVENT_ERROR, on_error, NULL);
    if ((err = cnet_server_listen(srv, port, host, on_listening, NULL)) != 0) {
        fprintf(stderr, "tls echo server: %s\n", cnet_strerror(err));
        return 1;
    }
    cnet_run();
    return exit_code;
}
