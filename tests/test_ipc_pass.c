/*
 * IPC channels (src/ipc/channel.c): messages, and servers and sockets
 * passed to another process (node's child.send(message, handle)).
 *
 * Two-process tests fork the test itself before either side has a loop:
 * the child opens its channel on one end of a socketpair and runs a small
 * echo program (child_main), the parent drives it. The rest run both ends
 * in one process (cnet_channel_pair + cnet_channel_open): errors, the
 * lifetime rules, and a handle that arrives while the channel closes.
 */
#include "harness.h"
#include "pair_helpers.h"

#include <cnet/uv.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define BIG (8u * 1024 * 1024)

static void fill(char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 31u + seed * 7u + (i >> 10)) & 0xff);
}

/* ---- the child: an echo program behind its channel ------------------------------ */

typedef struct child {
    cnet_channel_t *ch;
    cnet_server_t *srv;
    int bad;
} child_t;

static void child_echo_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    cnet_socket_pipe(ev->connection, ev->connection, true);
}

static void child_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    child_t *c = arg;
    char reply[64];
    cnet_address_t a;

    if (ev->server) {
        /* Listening already, on the parent's socket: the same port. */
        if (!cnet_server_is_listening(ev->server) || cnet_server_address(ev->server, &a) != 0)
            c->bad = 1;
        c->srv = ev->server;
        cnet_server_on(c->srv, CNET_EVENT_CONNECTION, child_echo_conn, c);
        snprintf(reply, sizeof reply, "srv:%d", a.port);
        cnet_channel_send(ch, reply, strlen(reply), NULL, NULL);
        return;
    }
    if (ev->connection) {
        if (cnet_socket_remote_address(ev->connection, &a) != 0 ||
            cnet_socket_is_destroyed(ev->connection))
            c->bad = 1;
        cnet_socket_pipe(ev->connection, ev->connection, true); /* byte-identical echo */
        snprintf(reply, sizeof reply, "sock:%d", a.port);
        cnet_channel_send(ch, reply, strlen(reply), NULL, NULL);
        return;
    }
    if (ev->data.len == 3 && memcmp(ev->data.base, "bye", 3) == 0) {
        cnet_channel_close(ch);
        return;
    }
    cnet_channel_send(ch, ev->data.base, ev->data.len, NULL, NULL); /* echo */
}

static void child_on_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    child_t *c = arg;
    (void)ch;
    (void)ev;
    if (c->srv)
        cnet_server_close(c->srv, NULL, NULL);
    c->srv = NULL;
}

/* mode 0: echo; 1: exit at the first byte. Returns the child's exit code. */
static int child_main(int fd, int mode)
{
    cnet_loop_t *loop;
    child_t c = {0};

    test_watchdog(20);
    if (mode == 1) {
        char b;
        ssize_t n = read(fd, &b, 1); /* dies once the parent said something */
        _exit(n == 1 ? 0 : 4);
    }
    signal(SIGPIPE, SIG_IGN);
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_channel_open(loop, fd, NULL, &c.ch));
    ASSERT_OK(cnet_channel_on(c.ch, CNET_EVENT_MESSAGE, child_on_message, &c));
    ASSERT_OK(cnet_channel_on(c.ch, CNET_EVENT_CLOSE, child_on_close, &c));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    return c.bad ? 3 : 0;
}

/* Forks a child running child_main on one end; returns its pid, *fd the other end. */
static pid_t spawn_child(int mode, int *fd)
{
    int sv[2];
    pid_t pid;

    ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(sv[0]);
        exit(child_main(sv[1], mode));
    }
    close(sv[1]);
    *fd = sv[0];
    return pid;
}

static int wait_child(pid_t pid)
{
    int status;
    ASSERT_EQ(pid, waitpid(pid, &status, 0));
    ASSERT(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* ---- the parent's side ---------------------------------------------------------- */

#define MAX_MSGS 128

typedef struct parent {
    cnet_loop_t *loop;
    cnet_channel_t *ch;
    char *msgs[MAX_MSGS];
    size_t lens[MAX_MSGS];
    int nmsgs;
    int closed;
    int sent, send_status;
    int listening, port;
} parent_t;

static void p_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    parent_t *p = arg;
    (void)ch;
    ASSERT(p->nmsgs < MAX_MSGS);
    ASSERT(!ev->connection && !ev->server);
    p->msgs[p->nmsgs] = malloc(ev->data.len + 1);
    memcpy(p->msgs[p->nmsgs], ev->data.base, ev->data.len);
    p->msgs[p->nmsgs][ev->data.len] = '\0';
    p->lens[p->nmsgs++] = ev->data.len;
}

static void p_on_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    parent_t *p = arg;
    (void)ch;
    (void)ev;
    p->closed++;
}

static void p_sent(cnet_channel_t *ch, int status, void *arg)
{
    parent_t *p = arg;
    (void)ch;
    p->sent++;
    p->send_status = status;
}

static void parent_open(parent_t *p, int fd)
{
    memset(p, 0, sizeof *p);
    signal(SIGPIPE, SIG_IGN);
    ASSERT_OK(cnet_loop_new(&p->loop));
    ASSERT_OK(cnet_channel_open(p->loop, fd, NULL, &p->ch));
    ASSERT(cnet_channel_is_ipc(p->ch));
    ASSERT(cnet_channel_is_connected(p->ch));
    ASSERT_OK(cnet_channel_on(p->ch, CNET_EVENT_MESSAGE, p_on_message, p));
    ASSERT_OK(cnet_channel_on(p->ch, CNET_EVENT_CLOSE, p_on_close, p));
}

static void wait_msgs(parent_t *p, int n)
{
    while (p->nmsgs < n && !p->closed)
        uv_run(cnet_loop_get_uv(p->loop), UV_RUN_ONCE);
    ASSERT_EQ(n, p->nmsgs);
}

static void parent_finish(parent_t *p, pid_t pid)
{
    ASSERT_OK(cnet_channel_send(p->ch, "bye", 3, NULL, NULL));
    run_until(p->loop, &p->closed);
    ASSERT_EQ(1, p->closed);
    ASSERT_EQ(0, wait_child(pid));
    ASSERT_OK(cnet_loop_run(p->loop));
    ASSERT_EQ(0, cnet_loop_alive(p->loop));
    ASSERT_OK(cnet_loop_close(p->loop));
    for (int i = 0; i < p->nmsgs; i++)
        free(p->msgs[i]);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    parent_t *p = arg;
    cnet_address_t a;
    (void)ev;
    ASSERT_OK(cnet_server_address(srv, &a));
    p->port = a.port;
    p->listening = 1;
}

/* A client that writes @p len bytes at once, ends, and keeps what comes back. */
typedef struct client {
    cnet_socket_t *s;
    char *got;
    size_t got_len, cap;
    int wrote, ended, closed, had_error;
    int local_port;
} client_t;

static void c_on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    (void)s;
    if (c->got_len + ev->data.len > c->cap) {
        c->cap = (c->got_len + ev->data.len) * 2;
        c->got = realloc(c->got, c->cap);
    }
    memcpy(c->got + c->got_len, ev->data.base, ev->data.len);
    c->got_len += ev->data.len;
}

static void c_on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ((client_t *)arg)->ended = 1;
}

static void c_on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    c->closed = 1;
    c->had_error = ev->had_error;
}

static void c_on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    cnet_address_t a;
    (void)ev;
    ASSERT_OK(cnet_socket_address(s, &a));
    c->local_port = a.port;
}

static void c_wrote(cnet_socket_t *s, int status, void *arg)
{
    ASSERT_OK(status);
    ((client_t *)arg)->wrote = 1;
}

static void client_start(client_t *c, cnet_loop_t *loop, int port, const char *data, size_t len,
                         bool end)
{
    memset(c, 0, sizeof *c);
    ASSERT_OK(cnet_socket_new(loop, NULL, &c->s));
    ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_DATA, c_on_data, c));
    ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_END, c_on_end, c));
    ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_CLOSE, c_on_close, c));
    ASSERT_OK(cnet_socket_connect(c->s, port, "127.0.0.1", c_on_connect, c));
    if (len)
        ASSERT(cnet_socket_write(c->s, data, len, c_wrote, c) >= 0);
    if (end)
        ASSERT_OK(cnet_socket_end(c->s, NULL, 0, NULL, NULL));
}

/* ---- send a server: the child accepts on it ---------------------------------------- */

static void test_send_server(void)
{
    parent_t p;
    cnet_server_t *srv;
    client_t c;
    char want[32];
    int fd;
    pid_t pid;

    test_set_phase("send_server");
    pid = spawn_child(0, &fd);
    parent_open(&p, fd);
    ASSERT_OK(cnet_server_new(p.loop, NULL, &srv));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(p.loop, &p.listening);

    ASSERT_OK(cnet_channel_send_server(p.ch, "take it", 7, srv, p_sent, &p));
    ASSERT(cnet_server_is_listening(srv)); /* the sender keeps listening, as node's */
    run_until(p.loop, &p.sent);
    ASSERT_OK(p.send_status);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL)); /* from now on only the child accepts */
    wait_msgs(&p, 1);
    snprintf(want, sizeof want, "srv:%d", p.port);
    ASSERT_STR_EQ(want, p.msgs[0]);

    client_start(&c, p.loop, p.port, "ping from the parent", 20, true);
    run_until(p.loop, &c.closed);
    ASSERT_EQ(0, c.had_error);
    ASSERT_EQ(20, c.got_len);
    ASSERT_MEM_EQ("ping from the parent", c.got, 20);
    free(c.got);
    parent_finish(&p, pid);
}

/* ---- send connected sockets: pauseOnConnect, nothing lost ------------------------------ */

typedef struct accepted {
    cnet_socket_t *s;
    int n, closed, had_error;
} accepted_t;

static void a_on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    accepted_t *a = arg;
    a->closed = 1;
    a->had_error = ev->had_error;
}

static void a_on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    accepted_t *a = arg;
    (void)srv;
    a->s = ev->connection;
    a->n++;
    a->closed = 0;
    cnet_socket_on(a->s, CNET_EVENT_CLOSE, a_on_close, a);
}

static void count_err_cb(cnet_server_t *srv, int err, size_t count, void *arg)
{
    *(size_t *)arg = (size_t)(err ? err : 1);
}

static void count_cb(cnet_server_t *srv, int err, size_t count, void *arg)
{
    ASSERT_OK(err);
    *(size_t *)arg = count + 1;
}

static void test_send_sockets(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    parent_t p;
    cnet_server_t *srv;
    accepted_t a = {0};
    client_t c;
    size_t len = 300 * 1024, counted = 0;
    char *data = malloc(len), want[32];
    int fd;
    pid_t pid;

    test_set_phase("send_sockets");
    pid = spawn_child(0, &fd);
    parent_open(&p, fd);
    so.pause_on_connect = true;
    ASSERT_OK(cnet_server_new(p.loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, a_on_connection, &a));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(p.loop, &p.listening);

    for (unsigned i = 0; i < 3; i++) {
        int n = a.n;
        fill(data, len, i);
        /* The client's bytes (and, for the last ones, its FIN) reach the parent's
         * kernel buffer before the handoff; nothing is read here (pauseOnConnect). */
        client_start(&c, p.loop, p.port, data, len, i != 1);
        while (a.n == n || !c.local_port)
            uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
        if (i != 1)
            run_until(p.loop, &c.wrote);
        ASSERT_EQ(1, cnet_server_connections(srv));
        ASSERT_EQ(0, cnet_socket_bytes_read(a.s));
        ASSERT_OK(cnet_channel_send_socket(p.ch, "conn", 4, a.s, NULL, NULL));
        /* node: server._connections-- at once; the sender's socket is destroyed. */
        ASSERT_EQ(0, cnet_server_connections(srv));
        ASSERT(cnet_socket_is_destroyed(a.s));
        ASSERT_ERR(CNET_ERR_STREAM_DESTROYED,
                   cnet_channel_send_socket(p.ch, "again", 5, a.s, NULL, NULL));
        run_until(p.loop, &a.closed);
        ASSERT_EQ(0, a.had_error);
        wait_msgs(&p, (int)i + 1);
        snprintf(want, sizeof want, "sock:%d", c.local_port);
        ASSERT_STR_EQ(want, p.msgs[i]);
        if (i == 1) {
            /* Still open at the child: node's getConnections() counts it there. */
            counted = 0;
            ASSERT_OK(cnet_server_get_connections(srv, count_cb, &counted));
            while (!counted)
                uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
            ASSERT_EQ(1 + 1, counted);
            /* It echoes what we write now, then our end. */
            run_until(p.loop, &c.wrote);
            ASSERT_OK(cnet_socket_end(c.s, NULL, 0, NULL, NULL));
        }
        run_until(p.loop, &c.closed);
        ASSERT_EQ(0, c.had_error);
        ASSERT(c.ended);
        ASSERT_EQ(len, c.got_len);
        ASSERT_MEM_EQ(data, c.got, len);
        free(c.got);
    }
    /* All closed in the child too (its 'close' may come just after our client's). */
    for (int tries = 0; tries < 200; tries++) {
        counted = 0;
        ASSERT_OK(cnet_server_get_connections(srv, count_cb, &counted));
        while (!counted)
            uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
        if (counted == 1)
            break;
        usleep(10000);
    }
    ASSERT_EQ(0 + 1, counted);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    free(data);
    parent_finish(&p, pid);
}

/* ---- messages: order, empty, big ------------------------------------------------------- */

static void test_messages(void)
{
    parent_t p;
    char *big = malloc(BIG), small[16];
    int fd;
    pid_t pid;

    test_set_phase("messages");
    pid = spawn_child(0, &fd);
    parent_open(&p, fd);
    fill(big, BIG, 9);
    for (int i = 0; i < 100; i++) {
        snprintf(small, sizeof small, "m%d", i);
        ASSERT_OK(cnet_channel_send(p.ch, small, strlen(small), NULL, NULL));
    }
    ASSERT_OK(cnet_channel_send(p.ch, NULL, 0, NULL, NULL));
    ASSERT_OK(cnet_channel_send(p.ch, big, BIG, p_sent, &p));
    ASSERT_OK(cnet_channel_send(p.ch, "last", 4, NULL, NULL));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE,
               cnet_channel_send(p.ch, big, (size_t)64 * 1024 * 1024 + 1, NULL, NULL));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_channel_send(p.ch, NULL, 1, NULL, NULL));
    wait_msgs(&p, 103);
    for (int i = 0; i < 100; i++) {
        snprintf(small, sizeof small, "m%d", i);
        ASSERT_STR_EQ(small, p.msgs[i]);
    }
    ASSERT_EQ(0, p.lens[100]);
    ASSERT_EQ(BIG, p.lens[101]);
    ASSERT_MEM_EQ(big, p.msgs[101], BIG);
    ASSERT_STR_EQ("last", p.msgs[102]);
    ASSERT_EQ(1, p.sent);
    ASSERT_OK(p.send_status);
    free(big);
    parent_finish(&p, pid);
}

/* ---- the child dies: EPIPE, 'close', the socket in flight is closed --------------------- */

static void test_child_dies(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    parent_t p;
    cnet_server_t *srv;
    accepted_t a = {0};
    client_t c;
    int fd;
    pid_t pid;

    test_set_phase("child_dies");
    pid = spawn_child(1, &fd);
    parent_open(&p, fd);
    cnet_channel_retain(p.ch); /* still asked after its 'close' */
    so.pause_on_connect = true;
    ASSERT_OK(cnet_server_new(p.loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, a_on_connection, &a));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(p.loop, &p.listening);
    client_start(&c, p.loop, p.port, NULL, 0, false);
    run_until(p.loop, &a.n);
    ASSERT_OK(cnet_channel_send(p.ch, "die", 3, NULL, NULL)); /* written at once */
    ASSERT_EQ(0, wait_child(pid)); /* gone before we send (the loop has not run since) */

    ASSERT_OK(cnet_channel_send_socket(p.ch, "conn", 4, a.s, p_sent, &p));
    run_until(p.loop, &p.sent);
    ASSERT_ERR(CNET_EPIPE, p.send_status);
    run_until(p.loop, &p.closed);
    ASSERT(!cnet_channel_is_connected(p.ch));
    ASSERT_ERR(CNET_ERR_IPC_CHANNEL_CLOSED, cnet_channel_send(p.ch, "x", 1, NULL, NULL));
    cnet_channel_release(p.ch);
    /* Nobody holds the connection any more: the client sees it end. */
    run_until(p.loop, &c.closed);
    ASSERT(c.ended);
    free(c.got);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    ASSERT_OK(cnet_loop_run(p.loop));
    ASSERT_EQ(1, p.closed);
    ASSERT_EQ(0, cnet_loop_alive(p.loop));
    ASSERT_OK(cnet_loop_close(p.loop));
}

/* ---- one process: errors ---------------------------------------------------------------- */

static void test_errors(void)
{
    cnet_channel_opts_t co = CNET_CHANNEL_OPTS_INIT;
    cnet_loop_t *loop;
    cnet_channel_t *ch, *plain;
    cnet_server_t *srv;
    cnet_socket_t *s;
    int peer, file, udp;

    test_set_phase("errors");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_ERR(CNET_EBADF, cnet_channel_open(loop, -1, NULL, &ch));
    ASSERT(ch == NULL);
    file = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_ERR(CNET_ENOTSOCK, cnet_channel_open(loop, file, NULL, &ch));
    close(file);
    udp = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_ERR(CNET_EINVAL, cnet_channel_open(loop, udp, NULL, &ch));
    close(udp);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_channel_open(loop, 0, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_channel_send(NULL, "x", 1, NULL, NULL));

    co.no_handles = true;
    ASSERT_OK(cnet_channel_pair(loop, &co, &plain, &peer));
    ASSERT(!cnet_channel_is_ipc(plain));
    ASSERT_OK(cnet_channel_open(loop, peer, NULL, &ch));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_channel_send_server(ch, "s", 1, srv, NULL, NULL));
    ASSERT_ERR(CNET_ERR_IPC_NO_HANDLES, cnet_channel_send_server(plain, "s", 1, srv, NULL, NULL));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_ERR(CNET_ERR_IPC_NO_HANDLES, cnet_channel_send_socket(plain, "s", 1, s, NULL, NULL));
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_channel_send_socket(ch, "s", 1, s, NULL, NULL));
    cnet_socket_retain(s);
    cnet_socket_destroy(s);
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_channel_send_socket(ch, "s", 1, s, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_channel_send_socket(ch, "s", 1, NULL, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_channel_from_socket(s, NULL, NULL));
    {
        cnet_channel_t *none = (cnet_channel_t *)&file;
        ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_channel_from_socket(s, NULL, &none));
        ASSERT(none == NULL);
    }

    {
        cnet_tls_context_opts_t to = CNET_TLS_CONTEXT_OPTS_INIT;
        cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
        cnet_tls_context_t *ctx = NULL;
        cnet_server_t *tsrv;
        parent_t p = {0};
        if (cnet_tls_context_new(&to, &ctx, NULL, 0) == 0) {
            so.tls = ctx;
            ASSERT_OK(cnet_server_new(loop, &so, &tsrv));
            ASSERT_OK(cnet_server_listen(tsrv, 0, "127.0.0.1", on_listening, &p));
            run_until(loop, &p.listening);
            ASSERT_ERR(CNET_ERR_INVALID_HANDLE_TYPE,
                       cnet_channel_send_server(ch, "s", 1, tsrv, NULL, NULL));
            ASSERT_OK(cnet_server_close(tsrv, NULL, NULL));
            cnet_tls_context_release(ctx);
        }
    }
    cnet_channel_close(ch);
    cnet_channel_close(ch); /* idempotent */
    ASSERT_ERR(CNET_ERR_IPC_CHANNEL_CLOSED, cnet_channel_send(ch, "x", 1, NULL, NULL));
    cnet_channel_close(plain);
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_loop_run(loop));
    cnet_socket_release(s);
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

/* ---- one process: a server and a socket between two channels, lifetime ------------------ */

typedef struct local {
    cnet_loop_t *loop;
    cnet_channel_t *a, *b;
    cnet_server_t *got_srv;
    cnet_socket_t *got_sock;
    int msgs, b_closed, a_closed, errors, err_code;
    bool close_in_message, close_in_close;
} local_t;

static void l_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    local_t *l = arg;
    l->msgs++;
    if (ev->server)
        l->got_srv = ev->server;
    if (ev->connection) {
        l->got_sock = ev->connection;
        cnet_socket_pipe(ev->connection, ev->connection, true);
    }
    if (l->close_in_message) {
        cnet_channel_close(ch);
        cnet_channel_close(ch);
    }
}

static void l_on_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    local_t *l = arg;
    if (ch == l->b)
        l->b_closed++;
    else
        l->a_closed++;
    if (l->close_in_close)
        cnet_channel_close(ch);
}

static void l_on_error(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    local_t *l = arg;
    l->errors++;
    l->err_code = ev->error->code;
    cnet_channel_close(ch); /* inside 'error': 'close' still comes once */
}

static void l_sent_close(cnet_channel_t *ch, int status, void *arg)
{
    local_t *l = arg;
    ASSERT_OK(status);
    cnet_channel_close(ch); /* inside the send callback */
    l->msgs += 100;
}

static void local_open(local_t *l, const cnet_channel_opts_t *bopts)
{
    int peer;
    memset(l, 0, sizeof *l);
    ASSERT_OK(cnet_loop_new(&l->loop));
    ASSERT_OK(cnet_channel_pair(l->loop, NULL, &l->a, &peer));
    ASSERT_OK(cnet_channel_open(l->loop, peer, bopts, &l->b));
    ASSERT_OK(cnet_channel_on(l->b, CNET_EVENT_MESSAGE, l_on_message, l));
    ASSERT_OK(cnet_channel_on(l->b, CNET_EVENT_CLOSE, l_on_close, l));
    ASSERT_OK(cnet_channel_on(l->b, CNET_EVENT_ERROR, l_on_error, l));
    ASSERT_OK(cnet_channel_on(l->a, CNET_EVENT_CLOSE, l_on_close, l));
}

static void local_end(local_t *l)
{
    ASSERT_OK(cnet_loop_run(l->loop));
    ASSERT_EQ(1, l->a_closed);
    ASSERT_EQ(1, l->b_closed);
    ASSERT_EQ(0, cnet_loop_alive(l->loop));
    ASSERT_OK(cnet_loop_close(l->loop));
}

static void test_local_pass(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    local_t l;
    cnet_server_t *srv;
    parent_t p = {0};
    accepted_t acc = {0};
    client_t c;
    cnet_address_t a1, a2;

    test_set_phase("local_pass");
    local_open(&l, NULL);
    so.pause_on_connect = true;
    ASSERT_OK(cnet_server_new(l.loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, a_on_connection, &acc));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(l.loop, &p.listening);
    ASSERT_OK(cnet_channel_send_server(l.a, "srv", 3, srv, NULL, NULL));
    while (!l.got_srv)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT(l.got_srv != srv);
    ASSERT(cnet_server_is_listening(l.got_srv));
    ASSERT_OK(cnet_server_address(srv, &a1));
    ASSERT_OK(cnet_server_address(l.got_srv, &a2));
    ASSERT_EQ(a1.port, a2.port);
    ASSERT_STR_EQ(a1.address, a2.address);
    ASSERT_OK(cnet_server_close(l.got_srv, NULL, NULL)); /* only srv accepts */

    client_start(&c, l.loop, p.port, "local bytes", 11, true);
    run_until(l.loop, &acc.n);
    run_until(l.loop, &c.wrote);
    ASSERT_OK(cnet_channel_send_socket(l.a, "sock", 4, acc.s, NULL, NULL));
    run_until(l.loop, &c.closed);
    ASSERT_EQ(11, c.got_len);
    ASSERT_MEM_EQ("local bytes", c.got, 11);
    free(c.got);
    ASSERT_EQ(2, l.msgs);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    cnet_channel_close(l.a);
    local_end(&l);
}

static test_log_t order;

static void log_srv_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    test_log_add(&order, "srv-close");
}

static void log_sock_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    test_log_add(&order, "received-close");
}

static void l_keep_sock(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    if (ev->connection)
        cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, log_sock_close, NULL);
}

/* node: getConnections() asks the receiver; close() waits for its sockets. */
static void test_local_counts(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    local_t l;
    cnet_server_t *srv;
    parent_t p = {0};
    accepted_t acc = {0};
    client_t c;
    size_t counted = 0;

    test_set_phase("local_counts");
    memset(&order, 0, sizeof order);
    local_open(&l, NULL);
    ASSERT_OK(cnet_channel_on(l.b, CNET_EVENT_MESSAGE, l_keep_sock, &l));
    so.pause_on_connect = true;
    ASSERT_OK(cnet_server_new(l.loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, a_on_connection, &acc));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, log_srv_close, NULL));
    cnet_server_retain(srv); /* listens again after its 'close' */
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(l.loop, &p.listening);
    client_start(&c, l.loop, p.port, "abc", 3, false);
    run_until(l.loop, &acc.n);
    ASSERT_OK(cnet_channel_send_socket(l.a, "sock", 4, acc.s, NULL, NULL));
    ASSERT_EQ(0, cnet_server_connections(srv));
    ASSERT_OK(cnet_server_get_connections(srv, count_cb, &counted));
    while (!counted)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT_EQ(1 + 1, counted); /* held by b */
    while (c.got_len < 3)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);

    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    ASSERT_EQ(1, cnet_server_connections(srv)); /* node's _connections++ while polling */
    for (int i = 0; i < 20; i++)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_NOWAIT);
    ASSERT_STR_EQ("", test_log_str(&order)); /* 'close' waits for b's socket */
    ASSERT_OK(cnet_socket_end(c.s, NULL, 0, NULL, NULL));
    run_until(l.loop, &c.closed);
    while (order.len == 0 || !strstr(order.buf, "srv-close"))
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("received-close srv-close", test_log_str(&order));
    free(c.got);

    test_set_phase("local_counts: the receiver's channel closes first");
    p.listening = 0;
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(l.loop, &p.listening);
    client_start(&c, l.loop, p.port, NULL, 0, false);
    while (acc.n < 2)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT_OK(cnet_channel_send_socket(l.a, "sock", 4, acc.s, NULL, NULL));
    counted = 0;
    ASSERT_OK(cnet_server_get_connections(srv, count_err_cb, &counted));
    cnet_channel_close(l.a); /* before b answers */
    while (!counted)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT_ERR(CNET_ERR_CHILD_CLOSED_BEFORE_REPLY, (int)counted);
    /* The link went with the channel: only this process counts now. */
    counted = 0;
    ASSERT_OK(cnet_server_get_connections(srv, count_cb, &counted));
    while (!counted)
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    ASSERT_EQ(0 + 1, counted);
    /* b's received socket (if the message went out before the close) lives on: */
    ASSERT_OK(cnet_socket_end(c.s, NULL, 0, NULL, NULL));
    run_until(l.loop, &c.closed);
    free(c.got);
    memset(&order, 0, sizeof order);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    while (!strstr(test_log_str(&order), "srv-close"))
        uv_run(cnet_loop_get_uv(l.loop), UV_RUN_ONCE);
    cnet_server_release(srv);
    local_end(&l);
}

/* A handle that arrives while the channel closes is closed, not leaked. */
static void test_close_with_handle_pending(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    local_t l;
    cnet_server_t *srv;
    parent_t p = {0};
    accepted_t acc = {0};
    client_t c;
    char *big = malloc(1024 * 1024);

    test_set_phase("close_with_handle_pending");
    local_open(&l, NULL);
    l.close_in_message = true;
    so.pause_on_connect = true;
    ASSERT_OK(cnet_server_new(l.loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, a_on_connection, &acc));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, &p));
    run_until(l.loop, &p.listening);
    client_start(&c, l.loop, p.port, NULL, 0, false);
    run_until(l.loop, &acc.n);
    /* Both in the kernel before b reads: b closes on the first, the socket is pending. */
    ASSERT_OK(cnet_channel_send(l.a, "first", 5, NULL, NULL));
    fill(big, 1024 * 1024, 3);
    ASSERT_OK(cnet_channel_send_socket(l.a, big, 1024 * 1024, acc.s, NULL, NULL));
    run_until(l.loop, &l.b_closed);
    ASSERT_EQ(1, l.msgs);
    ASSERT(l.got_sock == NULL);
    /* The fd went with b's close: the client sees the connection end. */
    run_until(l.loop, &c.closed);
    ASSERT(c.ended);
    free(c.got);
    free(big);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    local_end(&l); /* a sees b's close */
}

static void test_lifetime(void)
{
    cnet_channel_opts_t small = CNET_CHANNEL_OPTS_INIT;
    local_t l;
    char buf[2048] = {0};

    test_set_phase("lifetime: close inside the send callback and inside 'close'");
    local_open(&l, NULL);
    l.close_in_close = true;
    ASSERT_OK(cnet_channel_send(l.a, "x", 1, l_sent_close, &l));
    local_end(&l);
    ASSERT(l.msgs >= 100); /* the send callback ran (b may have read the message first) */

    test_set_phase("lifetime: a message over max_message_size is an error, then 'close'");
    small.max_message_size = 1024;
    local_open(&l, &small);
    ASSERT_OK(cnet_channel_send(l.a, buf, sizeof buf, NULL, NULL));
    local_end(&l);
    ASSERT_EQ(1, l.errors);
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, l.err_code);
    ASSERT_EQ(0, l.msgs);

    test_set_phase("lifetime: pending sends are cancelled by close");
    local_open(&l, NULL);
    {
        parent_t p = {0};
        ASSERT_OK(cnet_channel_send(l.a, "x", 1, p_sent, &p));
        cnet_channel_close(l.a);
        local_end(&l);
        ASSERT_EQ(1, p.sent);
        ASSERT(p.send_status == 0 || p.send_status == CNET_ECANCELED);
    }
}

/* ---- a channel over a socket path: connect + from_socket ---------------------------------- */

typedef struct pathctx {
    cnet_channel_t *srv_side;
    int got, closed;
} pathctx_t;

static void path_on_message(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    pathctx_t *pc = arg;
    ASSERT_EQ(5, ev->data.len);
    ASSERT_MEM_EQ("hello", ev->data.base, 5);
    pc->got++;
    cnet_channel_close(ch);
}

static void path_on_close(cnet_channel_t *ch, const cnet_event_t *ev, void *arg)
{
    ((pathctx_t *)arg)->closed++;
}

static void path_on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pathctx_t *pc = arg;
    ASSERT_OK(cnet_channel_from_socket(ev->connection, NULL, &pc->srv_side));
    ASSERT_OK(cnet_channel_on(pc->srv_side, CNET_EVENT_MESSAGE, path_on_message, pc));
    ASSERT_OK(cnet_channel_on(pc->srv_side, CNET_EVENT_CLOSE, path_on_close, pc));
    cnet_server_close(srv, NULL, NULL);
}

static void test_path(void)
{
    char dir[] = "/tmp/cnet-ipc-XXXXXX", path[64];
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_channel_t *ch;
    pathctx_t pc = {0};
    parent_t p = {0};

    test_set_phase("path: connect and from_socket");
    ASSERT(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ch.sock", dir);
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, path_on_connection, &pc));
    ASSERT_OK(cnet_server_listen_path(srv, path, NULL, NULL));
    ASSERT_OK(cnet_channel_connect(loop, path, NULL, &ch));
    ASSERT_OK(cnet_channel_on(ch, CNET_EVENT_CLOSE, p_on_close, &p));
    ASSERT_OK(cnet_channel_send(ch, "hello", 5, NULL, NULL)); /* queued while connecting */
    run_until(loop, &p.closed);
    ASSERT_EQ(1, pc.got);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(1, pc.closed);

    test_set_phase("path: a failed connect is 'error' then 'close'");
    {
        local_t l = {0};
        p.closed = 0;
        ASSERT_OK(cnet_channel_connect(loop, path, NULL, &ch)); /* nobody listens now */
        ASSERT_OK(cnet_channel_on(ch, CNET_EVENT_ERROR, l_on_error, &l));
        ASSERT_OK(cnet_channel_on(ch, CNET_EVENT_CLOSE, p_on_close, &p));
        ASSERT_OK(cnet_loop_run(loop));
        ASSERT_EQ(1, l.errors);
        ASSERT(l.err_code == CNET_ENOENT || l.err_code == CNET_ECONNREFUSED);
        ASSERT_EQ(1, p.closed);
    }
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_watchdog(25);
    /* Forks first, while this process has no loop. */
    test_send_server();
    test_send_sockets();
    test_messages();
    test_child_dies();
    test_errors();
    test_local_pass();
    test_local_counts();
    test_close_with_handle_pending();
    test_lifetime();
    test_path();
    printf("ok\n");
    return 0;
}
