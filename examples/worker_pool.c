/*
 * worker_pool: a parent process accepts TCP connections and hands each one
 * to one of N worker processes, round-robin; the workers echo. What node's
 * cluster module does in its round-robin mode, with child.send(msg, socket).
 *
 *   worker_pool [--port 8125] [--host 127.0.0.1] [--workers 3]
 *
 * The parent starts the workers with uv_spawn() of its own executable in
 * worker mode (--worker I), each with one end of a socketpair as its fd 3:
 * the IPC channel (cnet_channel_pair / cnet_channel_open). The listening
 * server has pauseOnConnect, so the parent never reads a byte: whatever a
 * client sends before its worker has the connection waits in the kernel
 * and reaches the worker. Each worker greets a connection with
 * "worker I\n", then echoes every byte. The parent prints
 * "listening on PORT" once it listens; SIGINT or SIGTERM stops it: the
 * server and the channels close, each worker sees its channel close and
 * exits once its connections are done, and the parent exits 0 once every
 * worker has.
 *
 * Try it: worker_pool --port 8125, then several `nc localhost 8125`.
 */
#define _POSIX_C_SOURCE 200809L /* uv.h's pthread types under -std=c11 */
#include <cnet.h>
#include <cnet/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define CHANNEL_FD  3

/* ---- worker ---------------------------------------------------------------- */

static int worker_id;

static void worker_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    char hello[32];

    if (!ev->connection)
        return;
    snprintf(hello, sizeof hello, "worker %d\n", worker_id);
    cnet_socket_write_str(ev->connection, hello);
    /* It starts reading when this listener returns: no byte is missed. */
    cnet_socket_pipe(ev->connection, ev->connection, true);
}

static void worker_on_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    /* The parent is gone or stopping: connections in hand finish, then the loop ends. */
}

static int worker_main(int id)
{
    cnet_channel_t *ch;
    int err;

    worker_id = id;
    err = cnet_channel_open(NULL, CHANNEL_FD, NULL, &ch);
    if (err) {
        fprintf(stderr, "worker %d: channel: %s\n", id, cnet_strerror(err));
        return 1;
    }
    cnet_channel_on(ch, CNET_EVENT_MESSAGE, worker_on_message, NULL);
    cnet_channel_on(ch, CNET_EVENT_CLOSE, worker_on_close, NULL);
    return cnet_run();
}

/* ---- parent ----------------------------------------------------------------- */

typedef struct worker {
    uv_process_t proc;
    cnet_channel_t *ch;
    int running;
} worker_t;

static worker_t workers[MAX_WORKERS];
static int nworkers = 3, next_worker, exit_code;
static cnet_server_t *server;
static uv_signal_t sigint, sigterm;

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    /* Round-robin over the workers still there. */
    for (int tries = 0; tries < nworkers; tries++) {
        worker_t *w = &workers[next_worker];
        next_worker = (next_worker + 1) % nworkers;
        if (w->ch && cnet_channel_send_socket(w->ch, "conn", 4, ev->connection, NULL, NULL) == 0)
            return;
    }
    cnet_socket_destroy(ev->connection); /* no worker left */
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_server_address(srv, &a);
    printf("listening on %d\n", a.port);
    fflush(stdout);
}

static void stop(void);

/* A failed listen stops everything; an accept error (EMFILE) does not. */
static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fprintf(stderr, "worker_pool: %s\n", ev->error->message);
    if (cnet_server_is_listening(srv))
        return;
    exit_code = 1;
    stop();
}

static void on_channel_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    worker_t *w = arg;
    w->ch = NULL; /* the worker died or we are stopping */
}

static void on_proc_closed(uv_handle_t *h)
{
}

static void on_worker_exit(uv_process_t *p, int64_t status, int signal)
{
    worker_t *w = p->data;
    if (status != 0 || signal != 0)
        exit_code = 1;
    w->running = 0;
    cnet_channel_close(w->ch);
    uv_close((uv_handle_t *)p, on_proc_closed);
}

static int stopped;

static void stop(void)
{
    if (stopped++)
        return;
    cnet_server_close(server, NULL, NULL);
    for (int i = 0; i < nworkers; i++)
        cnet_channel_close(workers[i].ch); /* each worker sees its channel close */
    uv_close((uv_handle_t *)&sigint, NULL);
    uv_close((uv_handle_t *)&sigterm, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    stop();
}

static int spawn_worker(uv_loop_t *uv, const char *exe, int i)
{
    char id[16];
    char *args[] = {(char *)exe, "--worker", id, NULL};
    uv_stdio_container_t stdio[4];
    uv_process_options_t po;
    int peer, err;

    snprintf(id, sizeof id, "%d", i);
    err = cnet_channel_pair(NULL, NULL, &workers[i].ch, &peer);
    if (err)
        return err;
    cnet_channel_on(workers[i].ch, CNET_EVENT_CLOSE, on_channel_close, &workers[i]);
    memset(&po, 0, sizeof po);
    po.file = exe;
    po.args = args;
    po.exit_cb = on_worker_exit;
    for (int k = 0; k < 3; k++) {
        stdio[k].flags = UV_INHERIT_FD;
        stdio[k].data.fd = k;
    }
    stdio[CHANNEL_FD].flags = UV_INHERIT_FD; /* dup2()ed to fd 3 in the worker */
    stdio[CHANNEL_FD].data.fd = peer;
    po.stdio = stdio;
    po.stdio_count = 4;
    workers[i].proc.data = &workers[i];
    err = uv_spawn(uv, &workers[i].proc, &po);
    close(peer); /* the worker has its copy */
    if (err) {
        cnet_channel_close(workers[i].ch);
        return err;
    }
    workers[i].running = 1;
    return 0;
}

int main(int argc, char **argv)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    const char *host = "127.0.0.1";
    char exe[4096];
    size_t exe_len = sizeof exe;
    int port = 8125, err;
    uv_loop_t *uv;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--worker") && i + 1 < argc)
            return worker_main(atoi(argv[i + 1]));
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            nworkers = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--port N] [--host H] [--workers N]\n", argv[0]);
            return 2;
        }
    }
    if (nworkers < 1 || nworkers > MAX_WORKERS) {
        fprintf(stderr, "worker_pool: --workers is 1..%d\n", MAX_WORKERS);
        return 2;
    }
    uv = cnet_loop_get_uv(cnet_loop_default());
    if (uv_exepath(exe, &exe_len) != 0) {
        fprintf(stderr, "worker_pool: cannot find my executable\n");
        return 1;
    }
    for (int i = 0; i < nworkers; i++) {
        if ((err = spawn_worker(uv, exe, i)) != 0) {
            fprintf(stderr, "worker_pool: worker %d: %s\n", i, uv_strerror(err));
            return 1;
        }
    }

    so.pause_on_connect = true; /* nothing is read here: the worker gets every byte */
    server = cnet_create_server(&so, on_connection, NULL);
    if (!server)
        return 1;
    cnet_server_on(server, CNET_EVENT_ERROR, on_server_error, NULL);
    err = cnet_server_listen(server, port, host, on_listening, NULL);
    if (err) {
        fprintf(stderr, "worker_pool: listen: %s\n", cnet_strerror(err));
        return 1;
    }
    if ((err = uv_signal_init(uv, &sigint)) != 0 || (err = uv_signal_init(uv, &sigterm)) != 0 ||
        (err = uv_signal_start(&sigint, on_signal, SIGINT)) != 0 ||
        (err = uv_signal_start(&sigterm, on_signal, SIGTERM)) != 0) {
        fprintf(stderr, "worker_pool: signals: %s\n", uv_strerror(err));
        return 1;
    }
    cnet_run();
    return exit_code;
}
