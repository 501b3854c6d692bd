/*
 * A Unix socket echo server that serves its own user only: each connection's
 * peer credentials (cnet_socket_peer_credentials(), SO_PEERCRED) are read in
 * 'connection', and a peer whose uid differs from ours is destroyed before
 * a byte is read or written. The others are greeted and echoed.
 *
 *   unix_peercred_server --path /tmp/mine.sock
 *   unix_peercred_server --abstract mine          (Linux: the name "\0mine")
 *
 * An abstract name has no file and so no permissions: anyone on the machine
 * (in the same network namespace) may connect, which is where checking the
 * peer matters most. Prints "listening on NAME" once ready, then one line per
 * connection ("accepted pid P uid U" or "refused pid P uid U"). Try it with
 *   socat - ABSTRACT-CONNECT:mine      (or: socat - UNIX-CONNECT:/tmp/mine.sock)
 */
#include <cnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;
    cnet_peer_credentials_t cred;
    char hello[96];
    int err = cnet_socket_peer_credentials(s, &cred);

    if (err) {
        fprintf(stderr, "peer credentials: %s\n", cnet_strerror(err));
        cnet_socket_destroy(s);
        return;
    }
    if (cred.uid != (uint32_t)geteuid()) {
        printf("refused pid %lld uid %u\n", (long long)cred.pid, (unsigned)cred.uid);
        fflush(stdout);
        cnet_socket_destroy(s); /* nothing was read or written */
        return;
    }
    printf("accepted pid %lld uid %u\n", (long long)cred.pid, (unsigned)cred.uid);
    fflush(stdout);
    snprintf(hello, sizeof hello, "welcome pid %lld\n", (long long)cred.pid);
    cnet_socket_write_str(s, hello);
    cnet_socket_pipe(s, s, true); /* echo, pausing a peer that does not read */
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) == 0) {
        /* An abstract name starts with its NUL: shown as '@', as ss(8) does. */
        printf("listening on %s%s\n", a.address[0] ? "" : "@",
               a.address[0] ? a.address : a.address + 1);
        fflush(stdout);
    }
}

static int exit_code;

/* A failed listen (EADDRINUSE: the path exists) ends the program; an accept error does not. */
static void on_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "unix_peercred_server: %s\n", ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    exit_code = 1;
    cnet_server_destroy(srv);
}

int main(int argc, char **argv)
{
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    char name[108];
    cnet_server_t *srv;
    int err;

    if (argc == 3 && !strcmp(argv[1], "--path")) {
        lo.path = argv[2];
    } else if (argc == 3 && !strcmp(argv[1], "--abstract") && strlen(argv[2]) < sizeof name) {
        name[0] = '\0';
        memcpy(name + 1, argv[2], strlen(argv[2]));
        lo.path = name;
        lo.path_len = 1 + strlen(argv[2]); /* the NUL and the name, no more */
    } else {
        fprintf(stderr, "usage: %s --path PATH | --abstract NAME\n", argv[0]);
        return 2;
    }
    if (!(srv = cnet_create_server(NULL, on_connection, NULL)))
        return 1;
    cnet_server_on(srv, CNET_EVENT_ERROR, on_error, NULL);
    if ((err = cnet_server_listen_opts(srv, &lo, on_listening, NULL)) != 0) {
        fprintf(stderr, "listen: %s\n", cnet_strerror(err));
        return 1;
    }
    cnet_run();
    return exit_code;
}
