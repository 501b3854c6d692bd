/*
 * end() on a socket that is already ending, as Node v20 has it: with data it
 * is refused (ERR_STREAM_WRITE_AFTER_END; the data is never dropped
 * silently), without data its callback runs at 'finish' (all of them, in
 * call order) or with CNET_ECANCELED at destroy, and after 'finish' with
 * ERR_STREAM_ALREADY_FINISHED on a later turn. The three ways a socket gets
 * ended: our end(), the auto-end after the peer's FIN, pipe()'s end.
 */
#include "harness.h"
#include "internal.h"
#include "pair_helpers.h"

#include <sys/socket.h>

static test_log_t lg;
static int cbs, in_api;

static void log_cb(cnet_socket_t *s, int status, void *arg)
{
    char buf[96];
    (void)s;
    ASSERT_EQ(0, in_api); /* never inside the call */
    snprintf(buf, sizeof buf, "%s:%s", (const char *)arg, status ? cnet_err_name(status) : "0");
    test_log_add(&lg, buf);
    cbs++;
}

static void ev_log(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    test_log_add(&lg, arg ? (const char *)arg : cnet_event_name(ev->type));
}

#define API(e) (in_api++, api_ret_ = (e), in_api--, api_ret_)
static int api_ret_;

static void run_until_log(cnet_loop_t *loop, const char *word)
{
    while (!strstr(test_log_str(&lg), word))
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
}

/* ---- after our own end() ------------------------------------------------------- */

static void test_after_our_end(void)
{
    pair_t p;

    test_set_phase("after our end()");
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    pair_open(&p, NULL, NULL);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, ev_log, NULL));
    ASSERT_OK(API(cnet_socket_end(p.client, "a", 1, log_cb, "e1")));
    ASSERT_OK(API(cnet_socket_end(p.client, NULL, 0, log_cb, "e2")));
    ASSERT_OK(API(cnet_socket_end(p.client, "", 0, log_cb, "e3"))); /* no bytes: no data */
    ASSERT_OK(API(cnet_socket_end_str(p.client, NULL)));
    ASSERT_OK(API(cnet_socket_end_enc(p.client, NULL, 0, "hex", log_cb, "e4")));
    /* Data after end is refused at once and schedules nothing. */
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END,
               API(cnet_socket_end(p.client, "b", 1, log_cb, "x")));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, API(cnet_socket_end_str(p.client, "b")));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END,
               API(cnet_socket_end_enc(p.client, "00", 2, "hex", log_cb, "y")));
    ASSERT(!cnet_socket_is_destroyed(p.client));
    ASSERT_EQ(1, cnet_socket_bytes_written(p.client));
    run_until_log(p.loop, "finish");
    /* Every callback once, in call order, just before 'finish' (Node's kOnFinished). */
    ASSERT_STR_EQ("e1:0 e2:0 e3:0 e4:0 finish", test_log_str(&lg));

    /* After 'finish': ERR_STREAM_ALREADY_FINISHED on a later turn, not inside the call. */
    ASSERT_OK(API(cnet_socket_end(p.client, NULL, 0, log_cb, "late")));
    ASSERT_OK(API(cnet_socket_end(p.client, NULL, 0, NULL, NULL)));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END,
               API(cnet_socket_end(p.client, "b", 1, log_cb, "z")));
    ASSERT_EQ(4, cbs);
    run_until_log(p.loop, "late:");
    ASSERT_STR_EQ("e1:0 e2:0 e3:0 e4:0 finish late:ERR_STREAM_ALREADY_FINISHED", test_log_str(&lg));
    pair_close(&p);
}

/* A small send buffer: with the peer paused, a big write cannot all fit in the kernel. */
static void small_sndbuf(cnet_socket_t *s)
{
    int size = 4096;
    ASSERT_EQ(0, setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size));
}

/* ---- destroyed while ending: every end callback gets ECANCELED before 'close' -------- */

static void test_destroyed_while_ending(void)
{
    pair_t p;
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;
    size_t big = 16u << 20;
    char *data = calloc(1, big);

    test_set_phase("destroyed while ending");
    ASSERT(data != NULL);
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    sv.pause_on_connect = true; /* the FIN waits behind the big write */
    pair_open(&p, &sv, NULL);
    small_sndbuf(p.client);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_CLOSE, ev_log, NULL));
    ASSERT_EQ(1, cnet_socket_write(p.client, data, big, log_cb, "w"));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, log_cb, "e1"));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, log_cb, "e2"));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, log_cb, "e3"));
    for (int i = 0; i < 3; i++)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_NOWAIT);
    ASSERT_EQ(0, cbs);
    cnet_socket_destroy(p.client);
    run_until_log(p.loop, "close");
    ASSERT_STR_EQ("w:ECANCELED e1:ECANCELED e2:ECANCELED e3:ECANCELED close", test_log_str(&lg));
    free(data);
    pair_close(&p);
}

/* ---- after the auto-end that follows the peer's FIN --------------------------------- */

/*
 * The client's 'end' listener answers with a write whose callback runs on a
 * tick; the auto-end (allowHalfOpen false) waits for it. Inside that callback
 * the socket is ending but not finished: where Node's end(cb) still joins
 * 'finish'. 'finish' then comes, and after it end(cb) gets ALREADY_FINISHED.
 */
static void after_reply(cnet_socket_t *s, int status, void *arg)
{
    log_cb(s, status, arg);
    ASSERT(!cnet_socket_is_writable(s));
    ASSERT(!(s->flags & CNET__S_FINISHED));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, API(cnet_socket_end(s, "late", 4, log_cb, "x")));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, API(cnet_socket_write(s, "late", 4, log_cb, "y")));
    ASSERT_OK(API(cnet_socket_end(s, NULL, 0, log_cb, "again1")));
    ASSERT_OK(API(cnet_socket_end(s, NULL, 0, log_cb, "again2")));
}

static void on_peer_fin(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "end");
    ASSERT_EQ(0, API(cnet_socket_write(s, "bye", 3, after_reply, "reply")));
}

static void on_finish_end_again(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "finish");
    ASSERT_OK(API(cnet_socket_end(s, NULL, 0, log_cb, "after-finish")));
}

typedef struct rd {
    char got[32];
    size_t len;
} rd_t;

static void rd_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    rd_t *r = arg;
    (void)s;
    ASSERT(r->len + ev->data.len <= sizeof r->got);
    memcpy(r->got + r->len, ev->data.base, ev->data.len);
    r->len += ev->data.len;
}

static void test_after_auto_end(void)
{
    pair_t p;
    rd_t r = {0};

    test_set_phase("after the auto-end");
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    pair_open(&p, NULL, NULL);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_END, on_peer_fin, NULL));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, on_finish_end_again, NULL));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_CLOSE, ev_log, NULL));
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, rd_data, &r));
    ASSERT_OK(cnet_socket_end(p.accepted, NULL, 0, NULL, NULL)); /* the peer's FIN */
    run_until_log(p.loop, "close");
    ASSERT_STR_EQ("end reply:0 again1:0 again2:0 finish after-finish:ERR_STREAM_ALREADY_FINISHED "
                  "close",
                  test_log_str(&lg));
    ASSERT_EQ(3, r.len); /* "late" was refused, not sent */
    ASSERT_MEM_EQ("bye", r.got, 3);
    pair_close(&p);
}

/* ---- after pipe(src, dst, end = true) ended dst --------------------------------------- */

/*
 * The seeds' echo: c.pipe(c, end). With allowHalfOpen only pipe() ends c,
 * right after c's 'end'. A write callback asked for in the 'end' listener
 * runs after that, with c ending but not finished.
 */
static void after_pipe_ended(cnet_socket_t *c, int status, void *arg)
{
    log_cb(c, status, arg);
    ASSERT(!cnet_socket_is_writable(c));
    ASSERT(!(c->flags & CNET__S_FINISHED));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, API(cnet_socket_end_str(c, "tail")));
    ASSERT_OK(API(cnet_socket_end(c, NULL, 0, log_cb, "end-again")));
}

static void src_ended(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "end");
    ASSERT(cnet_socket_is_writable(c)); /* pipe() ends it after the listeners */
    ASSERT_OK(API(cnet_socket_write(c, NULL, 0, after_pipe_ended, "w")));
}

static void test_after_pipe_end(void)
{
    pair_t p;
    rd_t r = {0};
    cnet_socket_opts_t half = CNET_SOCKET_OPTS_INIT;

    test_set_phase("after pipe()'s end");
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    half.allow_half_open = true;
    pair_open(&p, NULL, &half);
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, rd_data, &r));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_END, src_ended, NULL));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, ev_log, NULL));
    ASSERT_OK(cnet_socket_pipe(p.client, p.client, true));
    ASSERT_OK(cnet_socket_end_str(p.accepted, "piped")); /* data, then the FIN */
    run_until_log(p.loop, "finish");
    ASSERT_STR_EQ("end w:0 end-again:0 finish", test_log_str(&lg));
    while (r.len < 5)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(5, r.len); /* the echo, without "tail" */
    ASSERT_MEM_EQ("piped", r.got, 5);
    pair_close(&p);
}

int main(void)
{
    test_watchdog(20);
    test_after_our_end();
    test_destroyed_while_ending();
    test_after_auto_end();
    test_after_pipe_end();
    return 0;
}
