/*
 * The write path: highWaterMark and write()'s return, 'drain', writable
 * length/needDrain, per-write callbacks in order, cork/uncork, write_ex
 * ownership (static, transient, dispose), a large transfer, end() and
 * empty writes. Every scenario runs on its own loop over loopback.
 */
#include "harness.h"
#include "internal.h"
#include "pair_helpers.h"

#include <sys/socket.h>

static test_log_t lg;

static void set_buf(cnet_socket_t *s, int opt, int size)
{
    uv_os_fd_t fd;
    ASSERT_OK(uv_fileno(&s->h.handle, &fd));
    ASSERT_OK(setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size));
}

/* ---- reader: collects bytes, checksums, logs 'end' ---------------------- */

typedef struct reader {
    uint64_t bytes;
    uint32_t hash; /* FNV-1a over everything received */
    int ended, closed;
    char head[256]; /* the first bytes, for small exchanges */
    size_t data_events;
} reader_t;

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static void rd_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    reader_t *r = arg;
    (void)s;
    ASSERT(!r->ended);
    if (r->bytes < sizeof r->head) {
        size_t n = sizeof r->head - 1 - r->bytes;
        if (n > ev->data.len)
            n = ev->data.len;
        memcpy(r->head + r->bytes, ev->data.base, n);
    }
    r->hash = fnv(r->hash, ev->data.base, ev->data.len);
    r->bytes += ev->data.len;
    r->data_events++;
}

static void rd_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    reader_t *r = arg;
    (void)s;
    (void)ev;
    r->ended = 1;
}

static void reader_attach(cnet_socket_t *s, reader_t *r)
{
    memset(r, 0, sizeof *r);
    r->hash = 2166136261u;
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, rd_data, r));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_END, rd_end, r));
}

/* ---- writer bookkeeping ---------------------------------------------------- */

static int drains;
static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    drains++;
    ASSERT_EQ(0, cnet_socket_writable_length(s));
    ASSERT(!cnet_socket_writable_need_drain(s));
    test_log_add(&lg, "drain");
}

static int cbs_done;
static void log_cb(cnet_socket_t *s, int status, void *arg)
{
    char buf[64];
    (void)s;
    snprintf(buf, sizeof buf, "%s:%d", (const char *)arg, status);
    test_log_add(&lg, buf);
    cbs_done++;
}

static void ev_log(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    test_log_add(&lg, arg);
}

static char *pattern(size_t n, unsigned seed)
{
    char *p = malloc(n);
    ASSERT(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)((i * 31 + seed + (i >> 12)) & 0xff);
    return p;
}

/* ---- highWaterMark settings ------------------------------------------------ */

static void test_hwm_settings(void)
{
    cnet_loop_t *loop;
    cnet_socket_t *s;
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;
    pair_t p;

    test_set_phase("hwm settings");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_EQ(16384, cnet_socket_get_high_water_mark(s));
    ASSERT_OK(cnet_socket_set_high_water_mark(s, 100));
    ASSERT_EQ(100, cnet_socket_get_high_water_mark(s));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_set_high_water_mark(NULL, 1));
    /* Never connected: writes fail at once. */
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_socket_write(s, "x", 1, NULL, NULL));
    ASSERT_EQ(0, cnet_socket_writable_length(s));
    cnet_socket_destroy(s);
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_socket_write(s, "x", 1, NULL, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    so.high_water_mark = 1234;
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    ASSERT_EQ(1234, cnet_socket_get_high_water_mark(s));
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));

    sv.high_water_mark = 4000;
    pair_open(&p, &sv, NULL);
    ASSERT_EQ(4000, cnet_socket_get_high_water_mark(p.accepted));
    ASSERT_EQ(16384, cnet_socket_get_high_water_mark(p.client));
    pair_close(&p);
}

/* ---- return values, writable_length, drain with cork (deterministic) ------ */

static void test_hwm_corked(void)
{
    pair_t p;
    reader_t r;
    static char buf[20000];

    test_set_phase("hwm corked");
    memset(&lg, 0, sizeof lg);
    drains = 0;
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_DRAIN, on_drain, NULL));
    cnet_socket_cork(p.client);
    ASSERT_EQ(0, cnet_socket_write(p.client, buf, 10000, log_cb, "w1"));
    ASSERT_EQ(10000, cnet_socket_writable_length(p.client));
    ASSERT(!cnet_socket_writable_need_drain(p.client));
    ASSERT_EQ(0, cnet_socket_write(p.client, buf, 6383, log_cb, "w2")); /* 16383 < 16384 */
    ASSERT(!cnet_socket_writable_need_drain(p.client));
    ASSERT_EQ(1, cnet_socket_write(p.client, buf, 1, log_cb, "w3")); /* 16384: at the mark */
    ASSERT_EQ(16384, cnet_socket_writable_length(p.client));
    ASSERT(cnet_socket_writable_need_drain(p.client));
    ASSERT_EQ(1, cnet_socket_write(p.client, buf, 0, log_cb, "w4")); /* still at/above */
    ASSERT_EQ(1, cnet_socket_write(p.client, buf, 100, log_cb, "w5"));
    ASSERT_EQ(16484, cnet_socket_writable_length(p.client));
    ASSERT_STR_EQ("", test_log_str(&lg)); /* nothing runs inside write() */
    cnet_socket_uncork(p.client);
    while (r.bytes < 16484 || drains == 0)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("w1:0 w2:0 w3:0 w4:0 w5:0 drain", test_log_str(&lg));
    ASSERT_EQ(0, cnet_socket_writable_length(p.client));
    ASSERT(!cnet_socket_writable_need_drain(p.client));
    /* Below the mark again: 0, and no further drain. */
    ASSERT_EQ(0, cnet_socket_write(p.client, buf, 10, NULL, NULL));
    while (r.bytes < 16494)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(1, drains);

    /* A write that alone reaches a small mark returns 1 even when the kernel takes it all. */
    ASSERT_OK(cnet_socket_set_high_water_mark(p.client, 0));
    ASSERT_EQ(1, cnet_socket_write(p.client, "abc", 3, NULL, NULL));
    while (drains < 2)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(2, drains);
    pair_close(&p);
}

/* ---- real kernel backpressure: slow paused peer, small buffers ------------ */

static void test_backpressure(void)
{
    pair_t p;
    reader_t r;
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;
    char *chunk = pattern(65536, 1);
    uint32_t sent_hash = 2166136261u;
    uint64_t sent = 0;
    int ones = 0;

    test_set_phase("backpressure");
    memset(&lg, 0, sizeof lg);
    drains = 0;
    sv.pause_on_connect = true;
    pair_open(&p, &sv, NULL);
    ASSERT(cnet_socket_is_paused(p.accepted));
    set_buf(p.client, SO_SNDBUF, 4096);
    reader_attach(p.accepted, &r);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_DRAIN, on_drain, NULL));
    for (int cycle = 0; cycle < 4; cycle++) {
        int rc;
        do {
            rc = cnet_socket_write(p.client, chunk, 65536, NULL, NULL);
            ASSERT(rc == 0 || rc == 1);
            sent_hash = fnv(sent_hash, chunk, 65536);
            sent += 65536;
        } while (rc == 0);
        ones++;
        ASSERT(cnet_socket_writable_need_drain(p.client));
        ASSERT(cnet_socket_writable_length(p.client) >= 16384);
        /* A write while over the mark still returns 1. */
        ASSERT_EQ(1, cnet_socket_write(p.client, chunk, 10, NULL, NULL));
        sent_hash = fnv(sent_hash, chunk, 10);
        sent += 10;
        /* The paused peer reads nothing: the queue stays. */
        {
            uint64_t before = r.bytes;
            for (int i = 0; i < 5; i++)
                uv_run(cnet_loop_get_uv(p.loop), UV_RUN_NOWAIT);
            ASSERT_EQ(before, r.bytes);
        }
        /* Usually the kernel is full and the queue stays; on a slow run (valgrind)
         * the kernel may absorb it, and then 'drain' must already have come, once. */
        if (cnet_socket_writable_length(p.client) > 0)
            ASSERT_EQ(ones - 1, drains);
        else
            ASSERT_EQ(ones, drains);
        cnet_socket_resume(p.accepted);
        while (drains < ones)
            uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
        cnet_socket_pause(p.accepted);
        ASSERT_EQ(ones, drains);
    }
    cnet_socket_resume(p.accepted);
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    run_until(p.loop, &r.ended);
    ASSERT_EQ(sent, r.bytes);
    ASSERT_EQ(sent_hash, r.hash);
    ASSERT_EQ(4, drains);
    free(chunk);
    pair_close(&p);
}

/* ---- cork / uncork --------------------------------------------------------- */

static void test_cork(void)
{
    pair_t p;
    reader_t r;

    test_set_phase("cork");
    memset(&lg, 0, sizeof lg);
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    cnet_socket_cork(p.client);
    cnet_socket_cork(p.client);
    ASSERT_EQ(0, cnet_socket_write(p.client, "one,", 4, log_cb, "1"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "two,", 4, log_cb, "2"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "", 0, log_cb, "e"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "three", 5, log_cb, "3"));
    ASSERT_EQ(13, cnet_socket_writable_length(p.client));
    cnet_socket_uncork(p.client); /* still corked once */
    for (int i = 0; i < 5; i++)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_NOWAIT);
    ASSERT_EQ(13, cnet_socket_writable_length(p.client));
    ASSERT_EQ(0, r.bytes);
    ASSERT_EQ(0, cbs_done);
    cnet_socket_uncork(p.client);
    while (r.bytes < 13 || cbs_done < 4)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("1:0 2:0 e:0 3:0", test_log_str(&lg));
    ASSERT_STR_EQ("one,two,three", r.head);
    /* One writev: loopback delivers it as one read. */
    ASSERT_EQ(1, r.data_events);
    cnet_socket_uncork(p.client); /* extra uncork: harmless */
    cnet_socket_uncork(NULL);
    cnet_socket_cork(NULL);
    pair_close(&p);
}

/* ---- write_ex ownership ------------------------------------------------------ */

typedef struct disposed {
    void *ptrs[16];
    int n;
} disposed_t;
static disposed_t dsp;

static void my_dispose(void *ptr)
{
    for (int i = 0; i < dsp.n; i++)
        ASSERT(dsp.ptrs[i] != ptr); /* exactly once per buffer */
    ASSERT(dsp.n < 16);
    dsp.ptrs[dsp.n++] = ptr; /* freed by dsp_reset(), so no address is reused meanwhile */
}

static void dsp_reset(void)
{
    for (int i = 0; i < dsp.n; i++)
        free(dsp.ptrs[i]);
    memset(&dsp, 0, sizeof dsp);
}

static char *dupstr(const char *s)
{
    char *p = strdup(s);
    ASSERT(p);
    return p;
}

static void test_write_ex(void)
{
    pair_t p;
    reader_t r;
    static const char stat1[] = "S1-", stat2[] = "S2-";
    char transient[8] = "T1-";
    cnet_buf_t bufs[3];

    test_set_phase("write_ex");
    memset(&lg, 0, sizeof lg);
    dsp_reset();
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);

    /* STATIC and TRANSIENT, corked so they are really queued (not sent inline). */
    cnet_socket_cork(p.client);
    bufs[0] = (cnet_buf_t){stat1, 3};
    bufs[1] = (cnet_buf_t){stat2, 3};
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, bufs, 2, CNET_BUF_STATIC, log_cb, "static"));
    bufs[0] = (cnet_buf_t){transient, 3};
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, bufs, 1, CNET_BUF_TRANSIENT, log_cb, "trans"));
    memcpy(transient, "XX-", 3); /* copied at the call: the change must not be sent */
    /* Custom dispose, three buffers. */
    bufs[0] = (cnet_buf_t){dupstr("D1-"), 3};
    bufs[1] = (cnet_buf_t){dupstr("D2-"), 3};
    bufs[2] = (cnet_buf_t){dupstr("D3"), 2};
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, bufs, 3, my_dispose, log_cb, "disp"));
    ASSERT_EQ(0, dsp.n); /* still needed */
    /* Zero buffers: an empty write that still completes. */
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, NULL, 0, CNET_BUF_STATIC, log_cb, "none"));
    cnet_socket_uncork(p.client);
    while (r.bytes < 17 || cbs_done < 4)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("S1-S2-T1-D1-D2-D3", r.head);
    ASSERT_STR_EQ("static:0 trans:0 disp:0 none:0", test_log_str(&lg));
    ASSERT_EQ(3, dsp.n);

    /* Uncorked (may go straight to the kernel): dispose still runs exactly once. */
    bufs[0] = (cnet_buf_t){dupstr("E1"), 2};
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, bufs, 1, my_dispose, log_cb, "fast"));
    while (cbs_done < 5)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(4, dsp.n);

    /* Bad arguments (a NULL base with a length): refused, dispose runs on every base. */
    bufs[0] = (cnet_buf_t){dupstr("F1"), 2};
    bufs[1] = (cnet_buf_t){NULL, 5};
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES,
               cnet_socket_write_ex(p.client, bufs, 2, my_dispose, log_cb, "bad"));
    ASSERT_EQ(6, dsp.n);
    ASSERT(dsp.ptrs[5] == NULL);

    /* Immediate failure: write after end. */
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    bufs[0] = (cnet_buf_t){dupstr("G1"), 2};
    bufs[1] = (cnet_buf_t){dupstr("G2"), 2};
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END,
               cnet_socket_write_ex(p.client, bufs, 2, my_dispose, log_cb, "late"));
    ASSERT_EQ(8, dsp.n);
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_write(p.client, "x", 1, NULL, NULL));
    run_until(p.loop, &r.ended);
    ASSERT_STR_EQ("S1-S2-T1-D1-D2-D3E1", r.head);
    ASSERT_EQ(5, cbs_done); /* refused writes never call back */
    pair_close(&p);

    /* Destroy with queued data: dispose once per buffer, callbacks ECANCELED, in order. */
    test_set_phase("write_ex destroy");
    memset(&lg, 0, sizeof lg);
    dsp_reset();
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_CLOSE, ev_log, "close"));
    cnet_socket_cork(p.client);
    bufs[0] = (cnet_buf_t){dupstr("H1"), 2};
    bufs[1] = (cnet_buf_t){dupstr("H2"), 2};
    ASSERT_EQ(0, cnet_socket_write_ex(p.client, bufs, 2, my_dispose, log_cb, "q1"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "zz", 2, log_cb, "q2"));
    cnet_socket_destroy(p.client);
    ASSERT_EQ(0, cbs_done); /* reported on a later turn */
    bufs[0] = (cnet_buf_t){dupstr("I1"), 2};
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED,
               cnet_socket_write_ex(p.client, bufs, 1, my_dispose, log_cb, "dead"));
    ASSERT_EQ(1, dsp.n); /* only the refused one so far */
    while (cbs_done < 2)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(3, dsp.n);
    dsp_reset();
    {
        char expect[64];
        snprintf(expect, sizeof expect, "q1:%d q2:%d close", CNET_ECANCELED, CNET_ECANCELED);
        while (!strstr(test_log_str(&lg), "close"))
            uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
        /* 'close' came after the callbacks. */
        ASSERT_STR_EQ(expect, test_log_str(&lg));
    }
    pair_close(&p);
}

/* ---- large transfer ------------------------------------------------------------ */

typedef struct big {
    cnet_socket_t *s;
    char *data;
    size_t total, off;
    int finished;
} big_t;

static void big_pump(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    big_t *b = arg;
    (void)ev;
    while (b->off < b->total) {
        size_t n = b->total - b->off < 100000 ? b->total - b->off : 100000;
        int rc = cnet_socket_write(s, b->data + b->off, n, NULL, NULL);
        ASSERT(rc == 0 || rc == 1);
        b->off += n;
        if (rc == 1)
            return; /* wait for 'drain' */
    }
    ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
}

static void big_finish(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    big_t *b = arg;
    (void)s;
    (void)ev;
    b->finished = 1;
}

static void test_large(void)
{
    pair_t p;
    reader_t r;
    big_t b;

    test_set_phase("large transfer");
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    memset(&b, 0, sizeof b);
    b.total = 8u << 20;
    b.data = pattern(b.total, 7);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_DRAIN, big_pump, &b));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, big_finish, &b));
    big_pump(p.client, NULL, &b);
    run_until(p.loop, &r.ended);
    run_until(p.loop, &b.finished);
    ASSERT_EQ(b.total, r.bytes);
    ASSERT_EQ(fnv(2166136261u, b.data, b.total), r.hash);
    ASSERT_EQ(b.total, cnet_socket_bytes_written(p.client));
    ASSERT_EQ(b.total, cnet_socket_bytes_read(p.accepted));
    free(b.data);
    pair_close(&p);
}

/* ---- end() ---------------------------------------------------------------------- */

static reader_t *end_reader;
static uint64_t end_expected;

static void peer_end_check(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    (void)arg;
    /* Every byte arrived before 'end'. */
    ASSERT_EQ(end_expected, end_reader->bytes);
    test_log_add(&lg, "peer-end");
}

static void test_end(void)
{
    pair_t p;
    reader_t r;
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;
    size_t n = 2u << 20;
    char *data = pattern(n, 3);
    int rc;

    test_set_phase("end flushes");
    memset(&lg, 0, sizeof lg);
    cbs_done = 0;
    sv.pause_on_connect = true;
    sv.allow_half_open = true;
    pair_open(&p, &sv, NULL);
    set_buf(p.client, SO_SNDBUF, 4096);
    reader_attach(p.accepted, &r);
    end_reader = &r;
    end_expected = n + 3;
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_END, peer_end_check, NULL));
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, ev_log, "finish"));
    rc = cnet_socket_write(p.client, data, n, log_cb, "big");
    ASSERT_EQ(1, rc); /* the paused peer cannot take 2 MiB */
    ASSERT_OK(cnet_socket_end(p.client, "END", 3, log_cb, "endcb"));
    ASSERT(!cnet_socket_is_writable(p.client));
    /* A second end(): with data it is refused (never dropped), without it is fine. */
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_end(p.client, "late", 4, NULL, NULL));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    for (int i = 0; i < 5; i++)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_NOWAIT);
    ASSERT_STR_EQ("", test_log_str(&lg)); /* nothing flushed yet */
    cnet_socket_resume(p.accepted);
    run_until(p.loop, &r.ended);
    while (cbs_done < 2)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    /* Write callback, then FIN ('finish' with end's callback); the peer's 'end' comes after FIN. */
    ASSERT(strstr(test_log_str(&lg), "big:0") == test_log_str(&lg));
    ASSERT(strstr(test_log_str(&lg), "endcb:0") != NULL);
    ASSERT(strstr(test_log_str(&lg), "finish") != NULL);
    ASSERT(strstr(test_log_str(&lg), "big:0") < strstr(test_log_str(&lg), "finish"));
    ASSERT(strstr(test_log_str(&lg), "peer-end") != NULL);
    ASSERT_EQ(n + 3, r.bytes);
    {
        uint32_t h = fnv(2166136261u, data, n);
        h = fnv(h, "END", 3);
        ASSERT_EQ(h, r.hash);
    }
    free(data);
    pair_close(&p);

    /* end() with data on an idle socket: "bye" then FIN; end's cb with 0. */
    test_set_phase("end with data");
    memset(&lg, 0, sizeof lg);
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_FINISH, ev_log, "finish"));
    ASSERT_OK(cnet_socket_end_str(p.client, "bye"));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_write_str(p.client, "more"));
    run_until(p.loop, &r.ended);
    ASSERT_STR_EQ("bye", r.head);
    ASSERT_EQ(3, r.bytes);
    while (!strstr(test_log_str(&lg), "finish"))
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    pair_close(&p);
}

/* ---- empty writes --------------------------------------------------------------- */

static void test_empty(void)
{
    pair_t p;
    reader_t r;

    test_set_phase("empty writes");
    memset(&lg, 0, sizeof lg);
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    ASSERT_EQ(0, cnet_socket_write(p.client, "", 0, log_cb, "e1"));
    ASSERT_EQ(0, cnet_socket_write(p.client, NULL, 0, log_cb, "e2"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "x", 1, log_cb, "x"));
    ASSERT_EQ(0, cnet_socket_write(p.client, "", 0, log_cb, "e3"));
    ASSERT_EQ(0, cbs_done);
    while (cbs_done < 4)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("e1:0 e2:0 x:0 e3:0", test_log_str(&lg));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_write(p.client, NULL, 3, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_write(NULL, "a", 1, NULL, NULL));
    pair_close(&p);
}

/* ---- write order across the fast path and uv_write (chaos: write-order) ------- */

/*
 * The kernel takes "a" in the call (its callback waits on a tick); "b", sent
 * by uncork() through uv_write, completes at once and libuv reports it in
 * its pending phase, before the check phase that runs ticks. The callbacks
 * must still come in write order (cnet.h: "callbacks run in write order").
 */
static void test_order_fast_then_uv(void)
{
    pair_t p;
    reader_t r;

    test_set_phase("write order: fast path, then uv_write");
    memset(&lg, 0, sizeof lg);
    cbs_done = 0;
    pair_open(&p, NULL, NULL);
    reader_attach(p.accepted, &r);
    ASSERT_EQ(0, cnet_socket_write(p.client, "a", 1, log_cb, "1"));
    ASSERT_EQ(0, cnet_socket_writable_length(p.client)); /* taken by the kernel at once */
    cnet_socket_cork(p.client);
    ASSERT_EQ(0, cnet_socket_write(p.client, "b", 1, log_cb, "2"));
    cnet_socket_uncork(p.client);
    ASSERT_EQ(0, cnet_socket_write(p.client, "c", 1, log_cb, "3"));
    ASSERT_EQ(0, cbs_done);
    while (cbs_done < 3 || r.bytes < 3)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("1:0 2:0 3:0", test_log_str(&lg));
    ASSERT_STR_EQ("abc", r.head);
    pair_close(&p);
}

int main(void)
{
    test_watchdog(20);
    test_hwm_settings();
    test_hwm_corked();
    test_backpressure();
    test_cork();
    test_write_ex();
    test_large();
    test_end();
    test_empty();
    test_order_fast_then_uv();
    return 0;
}
