/*
 * server.pause(msecs) (Node v0.6; cnet_server_pause()): no 'connection'
 * during the pause, the connections that arrive meanwhile wait in the
 * kernel's backlog and are all accepted and served afterwards, none lost;
 * over TCP and Unix sockets, with maxConnections, paused again from a
 * 'connection' listener, a pause while paused, the 1000 ms default, close()
 * during a pause, the loop's liveness and the argument errors.
 *
 * Times are measured on the loop's clock (cnet_loop_now), the one libuv's
 * timers use, so "not before msecs" is exact; upper bounds are generous.
 */
#include "harness.h"

#include <cnet/uv.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <uv.h>

#define MAX_CLIENTS 8

typedef struct pctx pctx_t;

typedef struct client {
    pctx_t *x;
    cnet_socket_t *s;
    int index;
    bool connected;
    bool got_reply;
    bool closed;
    bool had_error;
} client_t;

struct pctx {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    char path[256];
    int port;
    int nclients;
    unsigned pause_ms;
    uint64_t t0; /* loop time of the pause */
    uint64_t conn_at[MAX_CLIENTS];
    int connections; /* 'connection' events */
    int drops;
    int closed_clients;
    int repause_at; /* pause again in the connection with this index + 1 (0: never) */
    client_t clients[MAX_CLIENTS];
    uv_timer_t probe; /* checks the state during the pause */
    unsigned probe_ms;
    void (*on_probe)(pctx_t *x);
    bool server_closed;
    bool expect_served;   /* clients must get their reply */
    bool close_when_done; /* close the server once every client closed */
};

static cnet_loop_t *new_loop(void)
{
    cnet_loop_t *loop = NULL;
    ASSERT_OK(cnet_loop_new(&loop));
    return loop;
}

static void end_loop(cnet_loop_t *loop)
{
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

static uint64_t elapsed(const pctx_t *x)
{
    return cnet_loop_now(x->loop) - x->t0;
}

/* ---- the served side: reads "ping", answers "pong", ends ----------------- */

static void srv_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    ASSERT_EQ(4, ev->data.len);
    ASSERT_MEM_EQ("ping", ev->data.base, 4);
    ASSERT_OK(cnet_socket_end(s, "pong", 4, NULL, NULL));
}

static void srv_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pctx_t *x = arg;
    int i = x->connections++;

    ASSERT(i < MAX_CLIENTS);
    x->conn_at[i] = elapsed(x);
    /* Nothing is accepted before the pause ends. */
    if (x->conn_at[i] < x->pause_ms)
        TEST_FAIL_("connection %d at %" PRIu64 " ms, inside a %u ms pause", i, x->conn_at[i],
                   x->pause_ms);
    ASSERT(!cnet_server_is_paused(srv));
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, srv_data, x));
    if (x->repause_at == i + 1) {
        ASSERT_OK(cnet_server_pause(srv, x->pause_ms));
        ASSERT(cnet_server_is_paused(srv));
        x->t0 = cnet_loop_now(x->loop); /* the next ones wait for this pause */
    }
}

static void srv_drop(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pctx_t *x = arg;
    (void)srv;
    ASSERT(elapsed(x) >= x->pause_ms);
    x->drops++;
}

static void srv_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pctx_t *x = arg;
    (void)srv;
    (void)ev;
    ASSERT(!cnet_server_is_paused(srv));
    x->server_closed = true;
}

/* ---- clients --------------------------------------------------------------- */

static void cl_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    pctx_t *x = c->x;

    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        /* The kernel completes the handshake in the backlog: connected, not accepted. */
        c->connected = true;
        ASSERT_OK(cnet_socket_write(s, "ping", 4, NULL, NULL));
        break;
    case CNET_EVENT_DATA:
        ASSERT_EQ(4, ev->data.len);
        ASSERT_MEM_EQ("pong", ev->data.base, 4);
        c->got_reply = true;
        break;
    case CNET_EVENT_CLOSE:
        c->closed = true;
        c->had_error = ev->had_error;
        if (x->expect_served && !c->got_reply)
            TEST_FAIL_("client %d closed without its reply", c->index);
        if (++x->closed_clients == x->nclients && x->close_when_done)
            ASSERT_OK(cnet_server_close(x->srv, NULL, NULL));
        break;
    default:
        break;
    }
}

static void connect_clients(pctx_t *x)
{
    for (int i = 0; i < x->nclients; i++) {
        client_t *c = &x->clients[i];
        c->x = x;
        c->index = i;
        ASSERT_OK(cnet_socket_new(x->loop, NULL, &c->s));
        ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_CONNECT, cl_event, c));
        ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_DATA, cl_event, c));
        ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_CLOSE, cl_event, c));
        if (x->path[0])
            ASSERT_OK(cnet_socket_connect_path(c->s, x->path, NULL, NULL));
        else
            ASSERT_OK(cnet_socket_connect(c->s, x->port, "127.0.0.1", NULL, NULL));
    }
}

static void on_probe(uv_timer_t *t)
{
    pctx_t *x = t->data;
    x->on_probe(x);
    uv_close((uv_handle_t *)t, NULL);
}

/* Pauses as soon as the server listens, then connects the clients. */
static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pctx_t *x = arg;
    cnet_address_t a;
    (void)ev;

    ASSERT_OK(cnet_server_address(srv, &a));
    x->port = a.port;
    ASSERT(!cnet_server_is_paused(srv));
    ASSERT_OK(cnet_server_pause(srv, x->pause_ms == 1000 ? 0 : x->pause_ms));
    ASSERT(cnet_server_is_paused(srv));
    ASSERT(cnet_server_is_listening(srv)); /* paused, still listening */
    x->t0 = cnet_loop_now(x->loop);
    connect_clients(x);
    if (x->on_probe) {
        ASSERT_OK(uv_timer_init(cnet_loop_get_uv(x->loop), &x->probe));
        x->probe.data = x;
        ASSERT_OK(uv_timer_start(&x->probe, on_probe, x->probe_ms, 0));
    }
}

static void start(pctx_t *x, const cnet_server_opts_t *so, bool unix_path)
{
    x->loop = new_loop();
    ASSERT_OK(cnet_server_new(x->loop, so, &x->srv));
    ASSERT_OK(cnet_server_on(x->srv, CNET_EVENT_CONNECTION, srv_connection, x));
    ASSERT_OK(cnet_server_on(x->srv, CNET_EVENT_DROP, srv_drop, x));
    ASSERT_OK(cnet_server_on(x->srv, CNET_EVENT_CLOSE, srv_close, x));
    if (unix_path) {
        const char *base = getenv("TMPDIR");
        char dir[200];
        snprintf(dir, sizeof dir, "%s/cnet-pause-XXXXXX", base && base[0] ? base : "/tmp");
        ASSERT(mkdtemp(dir) != NULL);
        snprintf(x->path, sizeof x->path, "%s/p.sock", dir);
        ASSERT_OK(cnet_server_listen_path(x->srv, x->path, on_listening, x));
    } else {
        ASSERT_OK(cnet_server_listen(x->srv, 0, "127.0.0.1", on_listening, x));
    }
}

static void cleanup_path(pctx_t *x)
{
    if (x->path[0]) {
        char *slash;
        unlink(x->path);
        slash = strrchr(x->path, '/');
        *slash = '\0';
        ASSERT_EQ(0, rmdir(x->path));
    }
}

/* During the pause: every client is connected (in the backlog), none accepted. */
static void probe_in_pause(pctx_t *x)
{
    ASSERT(cnet_server_is_paused(x->srv));
    ASSERT_EQ(0, x->connections);
    ASSERT_EQ(0, cnet_server_connections(x->srv));
    for (int i = 0; i < x->nclients; i++)
        if (!x->clients[i].connected)
            TEST_FAIL_("client %d is not connected after %u ms", i, x->probe_ms);
}

/* ---- scenarios ---------------------------------------------------------------- */

/* N clients connect during the pause; none is accepted before it ends; all are served. */
static void test_backlog_waits(bool unix_path)
{
    pctx_t x;

    test_set_phase(unix_path ? "backlog waits (unix)" : "backlog waits (tcp)");
    memset(&x, 0, sizeof x);
    x.nclients = unix_path ? 4 : 6;
    x.pause_ms = 200;
    x.expect_served = true;
    x.close_when_done = true;
    x.on_probe = probe_in_pause;
    x.probe_ms = 120;
    start(&x, NULL, unix_path);
    end_loop(x.loop);
    ASSERT(x.server_closed);
    ASSERT_EQ(x.nclients, x.connections);
    for (int i = 0; i < x.nclients; i++) {
        ASSERT(x.clients[i].got_reply);
        ASSERT(!x.clients[i].had_error);
        ASSERT(x.conn_at[i] >= 200);
    }
    cleanup_path(&x);
}

/* Paused again from inside 'connection': the remaining ones wait for that pause too. */
static void test_repause_in_connection(void)
{
    pctx_t x;

    test_set_phase("pause again inside 'connection'");
    memset(&x, 0, sizeof x);
    x.nclients = 4;
    x.pause_ms = 100;
    x.repause_at = 1;
    x.expect_served = true;
    x.close_when_done = true;
    start(&x, NULL, false);
    end_loop(x.loop);
    ASSERT_EQ(4, x.connections);
    /* conn_at[1..] are relative to the second pause (srv_connection checked >= 100). */
    for (int i = 0; i < 4; i++)
        ASSERT(x.clients[i].got_reply);
}

/* maxConnections still applies to what the pause held back: the excess is dropped. */
static void test_with_max_connections(void)
{
    pctx_t x;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;

    test_set_phase("pause with maxConnections");
    memset(&x, 0, sizeof x);
    so.max_connections = 2;
    x.nclients = 4;
    x.pause_ms = 100;
    x.close_when_done = true;
    start(&x, &so, false);
    /* The two accepted connections are served; the two dropped ones see EOF
     * before any reply. */
    end_loop(x.loop);
    ASSERT_EQ(2, x.connections);
    ASSERT_EQ(2, x.drops);
    {
        int replies = 0;
        for (int i = 0; i < 4; i++)
            replies += x.clients[i].got_reply;
        ASSERT_EQ(2, replies);
    }
}

/* pause(0) is one second; close() during the pause ends it and accepts nothing. */
static void probe_then_close(pctx_t *x)
{
    ASSERT(elapsed(x) >= 300);
    probe_in_pause(x);
    ASSERT_OK(cnet_server_close(x->srv, NULL, NULL));
    ASSERT(!cnet_server_is_paused(x->srv));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_pause(x->srv, 10));
}

static void test_default_and_close(void)
{
    pctx_t x;

    test_set_phase("pause(0) lasts 1000 ms; close during the pause");
    memset(&x, 0, sizeof x);
    x.nclients = 3;
    x.pause_ms = 1000; /* on_listening passes 0 for it */
    x.on_probe = probe_then_close;
    x.probe_ms = 300;
    start(&x, NULL, false);
    end_loop(x.loop);
    ASSERT(x.server_closed);
    ASSERT_EQ(0, x.connections);
    /* The waiting clients were refused or closed by the kernel with the listener. */
    for (int i = 0; i < 3; i++) {
        ASSERT(x.clients[i].closed);
        ASSERT(!x.clients[i].got_reply);
    }
}

/* A pause while paused is ignored: it neither extends nor shortens the first. */
static void probe_pause_again(pctx_t *x)
{
    ASSERT(cnet_server_is_paused(x->srv));
    ASSERT_OK(cnet_server_pause(x->srv, 5000));
}

static void test_pause_while_paused(void)
{
    pctx_t x;

    test_set_phase("pause while paused");
    memset(&x, 0, sizeof x);
    x.nclients = 2;
    x.pause_ms = 150;
    x.expect_served = true;
    x.close_when_done = true;
    x.on_probe = probe_pause_again;
    x.probe_ms = 50;
    start(&x, NULL, false);
    end_loop(x.loop);
    ASSERT_EQ(2, x.connections);
    /* Accepted when the first pause ended, far from the ignored 5 s one. */
    ASSERT(x.conn_at[0] >= 150);
    if (x.conn_at[0] > 4000)
        TEST_FAIL_("accepted at %" PRIu64 " ms: the second pause was not ignored", x.conn_at[0]);
}

/* Liveness: a paused server is listening, so it keeps the loop (as Node); its
 * timer alone does not: unref'd, the loop ends while paused. */
static void test_liveness(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_server_t *srv;
    uint64_t t0;

    test_set_phase("liveness");
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    while (!cnet_server_is_listening(srv))
        ASSERT(cnet_loop_run_nowait(loop));
    ASSERT_OK(cnet_server_pause(srv, 60000));
    cnet_server_unref(srv);
    t0 = cnet_loop_now(loop);
    ASSERT_OK(cnet_loop_run(loop)); /* returns at once: nothing ref'd */
    ASSERT(cnet_server_is_paused(srv));
    ASSERT(cnet_loop_now(loop) - t0 < 30000);
    cnet_server_ref(srv);
    ASSERT(cnet_loop_run_nowait(loop)); /* the listening handle keeps it alive */
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    end_loop(loop);
}

/* After close() and listen() again, the old pause is gone. */
static void relisten_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    int *closes = arg;
    (void)ev;
    if (++*closes == 1) {
        ASSERT(!cnet_server_is_paused(srv));
        ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    }
}

static void relisten_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    int *closes = arg;
    (void)ev;
    if (*closes == 0) {
        ASSERT_OK(cnet_server_pause(srv, 60000));
        ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    } else {
        ASSERT(!cnet_server_is_paused(srv));
        ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    }
}

static void test_relisten(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_server_t *srv;
    int closes = 0;

    test_set_phase("relisten after a paused close");
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, relisten_close, &closes));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_LISTENING, relisten_listening, &closes));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    end_loop(loop); /* a 60 s pause would hold the loop if it survived the close */
    ASSERT_EQ(2, closes);
}

static void test_errors(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_server_t *srv;

    test_set_phase("errors");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_pause(NULL, 10));
    ASSERT(!cnet_server_is_paused(NULL));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_pause(srv, 10)); /* never listened */
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_pause(srv, 10)); /* bind pending */
    ASSERT(!cnet_server_is_paused(srv));
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    end_loop(loop);
}

int main(void)
{
    test_watchdog(30);
    test_errors();
    test_backlog_waits(false);
    test_backlog_waits(true);
    test_repause_in_connection();
    test_with_max_connections();
    test_pause_while_paused();
    test_default_and_close();
    test_liveness();
    test_relisten();
    fprintf(stderr, "test_server_pause: all scenarios passed\n");
    return 0;
}
