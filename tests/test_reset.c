/*
 * resetAndDestroy(): the RST close on every path, checked against Node v20.
 *
 *   - while a shutdown is pending (after our end(), and after the auto-end
 *     that follows the peer's FIN): libuv's uv_tcp_close_reset() refuses
 *     then; the socket must still close ('close', the end callback, no
 *     'data' after destroy, the loop closes) and the peer must see a reset;
 *   - on a socket still connecting (IP literal and host name): as Node, the
 *     reset waits for 'connect' (listeners added earlier run first), 'ready'
 *     still follows, then the RST; a failed connect is only a failed connect;
 *   - on a Unix socket: ERR_INVALID_HANDLE_TYPE, nothing done;
 *   - on a socket that never connected: Node's destroy(ERR_SOCKET_CLOSED);
 *   - socket.pending is true again once destroyed, as Node.
 */
#include "harness.h"
#include "internal.h" /* white-box: the libuv handle's pending shutdown */
#include "socket_recorder.h"

#include <cnet/uv.h>

#include <sys/stat.h>

/* ---- a zero timer: runs on the next loop turn, before libuv's pending queue -- */

typedef struct {
    uv_timer_t t;
    void (*fn)(void *);
    void *arg;
} ttimer_t;

static void ttimer_closed(uv_handle_t *h)
{
    free(h);
}

static void ttimer_fire(uv_timer_t *t)
{
    ttimer_t *x = (ttimer_t *)t;
    ASSERT_EQ(0, in_call);
    x->fn(x->arg);
    uv_close((uv_handle_t *)t, ttimer_closed);
}

static void next_turn(cnet_loop_t *loop, void (*fn)(void *), void *arg)
{
    ttimer_t *x = calloc(1, sizeof *x);
    ASSERT(x != NULL);
    x->fn = fn;
    x->arg = arg;
    ASSERT_EQ(0, uv_timer_init(cnet_loop_get_uv(loop), &x->t));
    ASSERT_EQ(0, uv_timer_start(&x->t, ttimer_fire, 0, 0));
}

/* ---- end callbacks ----------------------------------------------------------- */

typedef struct endcb {
    int calls;
    int status;
    rec_t *r; /* the socket's recorder: the callback must come before 'close' */
} endcb_t;

static void end_cb(cnet_socket_t *s, int status, void *arg)
{
    endcb_t *e = arg;
    (void)s;
    ASSERT_EQ(0, in_call);
    ASSERT_EQ(0, e->r->closes);
    e->calls++;
    e->status = status;
}

/* A 'data' after destroy is the leak's symptom: the handle still reads. */
static void no_data_after_destroy(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    (void)r;
    if (ev->type == CNET_EVENT_DATA)
        ASSERT(!cnet_socket_is_destroyed(s));
}

/* ---- 1a. our end(), then resetAndDestroy() at once ----------------------------- */

static endcb_t e1;

static void end_then_reset(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    no_data_after_destroy(r, s, ev);
    if (ev->type != CNET_EVENT_READY)
        return;
    ASSERT_OK(CALL(cnet_socket_end(s, NULL, 0, end_cb, &e1)));
    /* The precondition of the bug: libuv holds a shutdown request now. */
    ASSERT(s->h.stream.shutdown_req != NULL);
    ASSERT_OK(CALL(cnet_socket_reset_and_destroy(s)));
    ASSERT(cnet_socket_is_destroyed(s));
    ASSERT(cnet_socket_is_pending(s)); /* Node: !this._handle */
    ASSERT_EQ(0, e1.calls);            /* never inside the call */
}

/* If our FIN ever got out, the peer would answer with data: it must not arrive. */
static void peer_answers_end(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    (void)r;
    if (ev->type == CNET_EVENT_END && cnet_socket_is_writable(s))
        ASSERT_OK(CALL(cnet_socket_write_str(s, "late")));
}

static void test_reset_after_end(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    rec_t *r = rec_new();
    cnet_socket_t *s;

    test_set_phase("reset after end()");
    memset(&e1, 0, sizeof e1);
    e1.r = r;
    sc.close_after = 1;
    sc.hook = peer_answers_end;
    srv_start(loop, &sc, NULL, NULL);
    r->hook = end_then_reset;
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    rec_attach(s, r);
    ASSERT_OK(CALL(cnet_socket_connect(s, sc.port, "127.0.0.1", NULL, NULL)));
    ASSERT_OK(cnet_loop_run(loop)); /* returns: the handle closed */
    ASSERT_STR_EQ("connect ready close(false)", test_log_str(&r->log));
    ASSERT_EQ(1, e1.calls);
    ASSERT_ERR(CNET_ECANCELED, e1.status);
    ASSERT_EQ(0, r->data_len);
    /* The peer saw an RST, not our FIN: node's resetAndDestroy. */
    ASSERT_STR_EQ("connection error:ECONNRESET close(true)", test_log_str(&sc.rec[0]->log));
    ASSERT_STR_EQ("read", sc.rec[0]->err_syscall);
    srv_free(&sc);
    free(r);
    end_loop(loop); /* nothing alive, the loop closes */
}

/*
 * ---- 1b. the peer's FIN ----------------------------------------------------------
 * Without allowHalfOpen our side ends by itself after 'end'. When an 'end'
 * listener answers with a write that has a callback, the auto-end's shutdown
 * waits for that callback (a tick) and is then pending in libuv until its
 * next pending phase; a timer due on that turn runs first and resets. The
 * peer is a plain socket, read directly, so the test sees the RST itself.
 */

static endcb_t e2;
static int fin_peer_fd = -1, bye_cb_ran, fin_timer_ran;

static void bye_cb(cnet_socket_t *s, int status, void *arg)
{
    (void)s;
    (void)arg;
    ASSERT_EQ(0, status);
    bye_cb_ran++;
}

static void reset_on_next_turn(void *arg)
{
    cnet_socket_t *s = arg;
    char buf[16];

    fin_timer_ran = 1;
    ASSERT_EQ(1, bye_cb_ran);
    ASSERT(!cnet_socket_is_destroyed(s));
    ASSERT(!cnet_socket_is_writable(s)); /* auto-ended after 'end' */
    ASSERT(s->h.stream.shutdown_req != NULL);
    /* The peer takes "bye" now, so that the RST finds nothing unread. */
    ASSERT_EQ(3, recv(fin_peer_fd, buf, sizeof buf, MSG_DONTWAIT));
    ASSERT_MEM_EQ("bye", buf, 3);
    /* end(cb) on the auto-ended socket: cb runs at 'finish' or, here, at destroy. */
    ASSERT_OK(CALL(cnet_socket_end(s, NULL, 0, end_cb, &e2)));
    ASSERT_OK(CALL(cnet_socket_reset_and_destroy(s)));
    ASSERT(cnet_socket_is_destroyed(s));
    cnet_socket_release(s);
}

static void answer_fin(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    e2.r = r;
    if (ev->type == CNET_EVENT_END) {
        ASSERT_EQ(0, CALL(cnet_socket_write(s, "bye", 3, bye_cb, NULL)));
        cnet_socket_retain(s);
        next_turn(cnet_socket_loop(s), reset_on_next_turn, s);
    }
}

static void test_reset_after_peer_fin(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    struct sockaddr_in sa;
    char buf[16];

    test_set_phase("reset after the peer's FIN");
    memset(&e2, 0, sizeof e2);
    bye_cb_ran = fin_timer_ran = 0;
    sc.close_after = 1;
    sc.hook = answer_fin;
    srv_start(loop, &sc, NULL, NULL);
    fin_peer_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fin_peer_fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)sc.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, connect(fin_peer_fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, shutdown(fin_peer_fd, SHUT_WR)); /* the peer's FIN */
    ASSERT_OK(cnet_loop_run(loop));               /* returns: the handle closed */
    ASSERT_EQ(1, fin_timer_ran);
    /* No 'finish': the pending shutdown was cancelled by the reset. */
    ASSERT_STR_EQ("connection end close(false)", test_log_str(&sc.rec[0]->log));
    ASSERT_EQ(1, e2.calls);
    ASSERT_ERR(CNET_ECANCELED, e2.status);
    /* The peer got an RST, not our FIN (recv would return 0). */
    ASSERT_EQ(-1, recv(fin_peer_fd, buf, sizeof buf, 0));
    ASSERT_EQ(ECONNRESET, errno);
    close(fin_peer_fd);
    srv_free(&sc);
    end_loop(loop);
}

/* ---- 8. resetAndDestroy() while connecting --------------------------------------- */

static int early_listener_saw_destroyed = -1, late_listener_saw_destroyed = -1;

static void early_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    early_listener_saw_destroyed = cnet_socket_is_destroyed(s);
}

static void late_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    late_listener_saw_destroyed = cnet_socket_is_destroyed(s);
}

static void pending_at_close(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    (void)r;
    if (ev->type == CNET_EVENT_READY)
        ASSERT(cnet_socket_is_destroyed(s)); /* reset inside 'connect', 'ready' still came */
    if (ev->type == CNET_EVENT_CLOSE)
        ASSERT(cnet_socket_is_pending(s));
}

static void connecting_case(const char *host, const char *expect_client)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    rec_t *r = rec_new();
    cnet_socket_t *s;
    char phase[64];

    snprintf(phase, sizeof phase, "reset while connecting to %s", host);
    test_set_phase(phase);
    early_listener_saw_destroyed = late_listener_saw_destroyed = -1;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    r->hook = pending_at_close;
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    rec_attach(s, r);
    ASSERT_OK(CALL(cnet_socket_connect(s, sc.port, host, early_connect, NULL)));
    ASSERT_OK(CALL(cnet_socket_reset_and_destroy(s)));
    /* Nothing happens yet: Node waits for the connection. */
    ASSERT(!cnet_socket_is_destroyed(s));
    ASSERT(cnet_socket_is_connecting(s));
    ASSERT(cnet_socket_is_pending(s));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CONNECT, late_connect, NULL)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ(expect_client, test_log_str(&r->log));
    ASSERT_EQ(0, early_listener_saw_destroyed);
    ASSERT_EQ(1, late_listener_saw_destroyed);
    ASSERT_STR_EQ("connection error:ECONNRESET close(true)", test_log_str(&sc.rec[0]->log));
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

static void test_reset_while_connecting(void)
{
    /* rec_attach() comes before connect(): its 'connect' listener runs before the reset. */
    connecting_case("127.0.0.1", "connect ready close(false)");
    connecting_case("localhost", "lookup connect ready close(false)");
}

static void test_reset_while_connecting_refused(void)
{
    cnet_loop_t *loop = new_loop();
    rec_t *r = rec_new();
    cnet_socket_t *s;

    test_set_phase("reset while connecting, refused");
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    rec_attach(s, r);
    ASSERT_OK(CALL(cnet_socket_connect(s, closed_port(), "127.0.0.1", NULL, NULL)));
    ASSERT_OK(CALL(cnet_socket_reset_and_destroy(s)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("error:ECONNREFUSED close(true)", test_log_str(&r->log));
    free(r);
    end_loop(loop);
}

/* ---- 8. Unix sockets, never-connected and destroyed sockets ----------------------- */

static void unix_refuses(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    (void)r;
    if (ev->type == CNET_EVENT_READY || ev->type == CNET_EVENT_CONNECTION ||
        (ev->type == CNET_EVENT_DATA && !cnet_socket_is_destroyed(s))) {
        ASSERT_ERR(CNET_ERR_INVALID_HANDLE_TYPE, CALL(cnet_socket_reset_and_destroy(s)));
        ASSERT(!cnet_socket_is_destroyed(s));
        if (ev->type == CNET_EVENT_READY)
            ASSERT_OK(CALL(cnet_socket_end_str(s, "bye")));
    }
}

static void test_reset_unix_and_fresh(void)
{
    char dir[] = "/tmp/cnet-reset-XXXXXX", path[128];
    cnet_loop_t *loop = new_loop();
    srvctx_t sp = {0};
    rec_t *r = rec_new(), *rf = rec_new();
    cnet_socket_t *p, *fresh;

    test_set_phase("reset on a Unix socket");
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/s", dir);
    sp.close_after = 1;
    sp.hook = unix_refuses;
    srv_start(loop, &sp, NULL, path);
    r->hook = unix_refuses;
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &p)));
    rec_attach(p, r);
    ASSERT_OK(CALL(cnet_socket_connect_path(p, path, NULL, NULL)));
    /* Still connecting: refused at once, as Node throws (the handle is a Pipe). */
    ASSERT_ERR(CNET_ERR_INVALID_HANDLE_TYPE, CALL(cnet_socket_reset_and_destroy(p)));
    ASSERT(cnet_socket_is_connecting(p));

    test_set_phase("reset on a socket that never connected");
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &fresh)));
    rec_attach(fresh, rf);
    ASSERT_OK(CALL(cnet_socket_reset_and_destroy(fresh)));
    ASSERT(cnet_socket_is_destroyed(fresh));
    ASSERT_STR_EQ("", test_log_str(&rf->log));
    cnet_socket_retain(fresh);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_socket_reset_and_destroy(fresh));
    cnet_socket_release(fresh);
    /* Node: destroy(new ERR_SOCKET_CLOSED()). */
    ASSERT_STR_EQ("error:ERR_SOCKET_CLOSED close(true)", test_log_str(&rf->log));
    ASSERT_STR_EQ("Socket is closed", rf->err_msg);
    ASSERT_STR_EQ("connect ready finish end close(false)", test_log_str(&r->log));
    ASSERT_STR_EQ("connection data end finish close(false)", test_log_str(&sp.rec[0]->log));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_reset_and_destroy(NULL));
    srv_free(&sp);
    free(r);
    free(rf);
    end_loop(loop);
    unlink(path);
    rmdir(dir);
}

/* ---- pending after destroy ---------------------------------------------------- */

static void test_pending_after_destroy(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    rec_t *r = rec_new();
    cnet_socket_t *s;

    test_set_phase("pending after destroy");
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    ASSERT(cnet_socket_is_pending(s)); /* no handle yet */
    cnet_socket_retain(s);
    rec_attach(s, r);
    ASSERT_OK(CALL(cnet_socket_connect(s, sc.port, "127.0.0.1", NULL, NULL)));
    ASSERT(cnet_socket_is_pending(s));
    while (!strstr(test_log_str(&r->log), "ready"))
        ASSERT(cnet_loop_run_nowait(loop) || true);
    ASSERT(!cnet_socket_is_pending(s));
    VCALL(cnet_socket_destroy(s));
    ASSERT(cnet_socket_is_pending(s));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT(cnet_socket_is_pending(s));
    cnet_socket_release(s);
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

int main(void)
{
    test_watchdog(20);
    test_reset_after_end();
    test_reset_after_peer_fin();
    test_reset_while_connecting();
    test_reset_while_connecting_refused();
    test_reset_unix_and_fresh();
    test_pending_after_destroy();
    return 0;
}
