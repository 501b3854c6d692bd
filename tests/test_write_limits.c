/*
 * The edges of write(): lengths that overflow (CNET_ERR_OUT_OF_RANGE, never
 * an out-of-bounds copy), NULL values (ERR_STREAM_NULL_VALUES before any
 * state check, as Node's write(null)), the code of writes cancelled before
 * the connection (ERR_SOCKET_CLOSED_BEFORE_CONNECTION), bytesWritten as
 * Node counts it (accepted bytes, queued or not), and "" as utf8 for
 * setEncoding()/write_enc(). The > 4 GiB transfer is tests/test_write_4g.c.
 */
#include "harness.h"
#include "internal.h"
#include "pair_helpers.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

static test_log_t lg;
static int cbs;

static void log_cb(cnet_socket_t *s, int status, void *arg)
{
    char buf[96];
    (void)s;
    snprintf(buf, sizeof buf, "%s:%s", (const char *)arg, status ? cnet_err_name(status) : "0");
    test_log_add(&lg, buf);
    cbs++;
}

/* ---- dispose bookkeeping ----------------------------------------------------- */

static int disposed;
static void count_dispose(void *p)
{
    (void)p;
    disposed++;
}

/* ---- 3. lengths -------------------------------------------------------------- */

static void test_lengths(void)
{
    pair_t p;
    static char small[8] = "abcdefg";
    cnet_buf_t bufs[3];

    test_set_phase("lengths");
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    pair_open(&p, NULL, NULL);

    /* One buffer: SIZE_MAX and SSIZE_MAX + 1 are refused before anything is
     * sent or copied (the copy's size computation used to overflow). */
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_write(p.client, small, SIZE_MAX, log_cb, "a"));
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_socket_write(p.client, small, (size_t)SSIZE_MAX + 1, log_cb, "b"));
    /* Refused before the encoder or the framer reads the bytes. */
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_socket_write_enc(p.client, small, SIZE_MAX, "latin1", log_cb, "c"));
    /* Corked: the queue path (wreq_new) sees the same refusal. */
    cnet_socket_cork(p.client);
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_write(p.client, small, SIZE_MAX, log_cb, "d"));
    cnet_socket_uncork(p.client);

    /* Vectored: lengths summing past SIZE_MAX (which wrapped to a small total)
     * and past SSIZE_MAX; the dispose function still runs once per buffer. */
    disposed = 0;
    bufs[0] = (cnet_buf_t){small, 4};
    bufs[1] = (cnet_buf_t){small, SIZE_MAX - 1};
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_socket_write_ex(p.client, bufs, 2, count_dispose, log_cb, "e"));
    ASSERT_EQ(2, disposed);
    bufs[0] = (cnet_buf_t){small, (size_t)SSIZE_MAX / 2 + 1};
    bufs[1] = (cnet_buf_t){small, (size_t)SSIZE_MAX / 2 + 1};
    bufs[2] = (cnet_buf_t){small, 1};
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_socket_write_ex(p.client, bufs, 3, count_dispose, log_cb, "f"));
    ASSERT_EQ(5, disposed);
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_socket_write_ex(p.client, bufs, 3, CNET_BUF_TRANSIENT, log_cb, "g"));
    /* More buffers than a request can count: refused without reading the array. */
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_write_ex(p.client, bufs, (size_t)UINT32_MAX + 1,
                                                           CNET_BUF_STATIC, log_cb, "h"));
    {
        cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;
        fo.max_size = SIZE_MAX;
        fo.mode = CNET_FRAMING_LINES;
        ASSERT_OK(cnet_socket_set_framing(p.client, &fo));
        ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
                   cnet_socket_write_frame(p.client, small, SIZE_MAX, log_cb, "i"));
        /* A frame whose header and payload together overflow the total. */
        fo.mode = CNET_FRAMING_LENGTH_PREFIXED;
        fo.header_bytes = 8;
        ASSERT_OK(cnet_socket_set_framing(p.client, &fo));
        ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
                   cnet_socket_write_frame(p.client, small, (size_t)SSIZE_MAX - 2, log_cb, "j"));
        ASSERT_OK(cnet_socket_set_framing(p.client, NULL));
    }

    /* Nothing was accepted, queued or scheduled. */
    ASSERT_EQ(0, cnet_socket_bytes_written(p.client));
    ASSERT_EQ(0, cnet_socket_writable_length(p.client));
    ASSERT(!cnet_socket_is_destroyed(p.client));
    for (int i = 0; i < 5; i++)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_NOWAIT);
    ASSERT_EQ(0, cbs);

    /* The socket still works. */
    ASSERT_EQ(0, cnet_socket_write(p.client, small, 7, log_cb, "ok"));
    while (cbs < 1)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("ok:0", test_log_str(&lg));
    pair_close(&p);
}

/* ---- 4. NULL values: refused before any state check -------------------------------- */

static void check_null_values(cnet_socket_t *s, const char *state)
{
    cnet_buf_t bufs[2] = {{"x", 1}, {NULL, 3}};

    test_set_phase(state);
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_write(s, NULL, 3, log_cb, "w"));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_write_str(s, NULL));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_write_enc(s, NULL, 3, "hex", log_cb, "e"));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_write_frame(s, NULL, 3, log_cb, "f"));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_end(s, NULL, 3, log_cb, "n"));
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES, cnet_socket_end_enc(s, NULL, 3, NULL, log_cb, "m"));
    disposed = 0;
    ASSERT_ERR(CNET_ERR_STREAM_NULL_VALUES,
               cnet_socket_write_ex(s, bufs, 2, count_dispose, log_cb, "x"));
    ASSERT_EQ(2, disposed); /* every base, the NULL one too, as on any failure */
}

static void test_null_values(void)
{
    cnet_loop_t *loop;
    cnet_socket_t *s;
    pair_t p;

    memset(&lg, 0, sizeof lg);
    cbs = 0;
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    check_null_values(s, "null values: never connected");
    cnet_socket_retain(s);
    cnet_socket_destroy(s);
    check_null_values(s, "null values: destroyed");
    ASSERT_OK(cnet_loop_run(loop));
    check_null_values(s, "null values: closed");
    cnet_socket_release(s);
    ASSERT_OK(cnet_loop_close(loop));

    pair_open(&p, NULL, NULL);
    check_null_values(p.client, "null values: open");
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    check_null_values(p.client, "null values: ended");
    /* Without a length NULL is an empty write / an end without data, as before. */
    ASSERT_OK(cnet_socket_write(p.accepted, NULL, 0, log_cb, "empty"));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_write(NULL, NULL, 3, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_end(NULL, NULL, 3, NULL, NULL));
    while (cbs < 1)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_STR_EQ("empty:0", test_log_str(&lg)); /* the refused calls never called back */
    ASSERT_EQ(0, cnet_socket_bytes_written(p.client));
    pair_close(&p);
}

/* ---- 5. writes cancelled before the connection -------------------------------------- */

static int closed;
static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    (void)arg;
    test_log_add(&lg, "close");
    closed = 1;
}

/* A port bound and never listening (so refused), kept bound until exit. */
static int bound_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    return ntohs(sa.sin_port);
}

static void test_cancelled_before_connection(void)
{
    pair_t p;
    cnet_socket_t *s;
    int port;

    test_set_phase("cancelled before connection: destroy");
    memset(&lg, 0, sizeof lg);
    cbs = 0;
    pair_listen(&p, NULL);
    ASSERT_OK(cnet_socket_new(p.loop, NULL, &s));
    cnet_socket_retain(s);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_close, NULL));
    ASSERT_OK(cnet_socket_connect(s, p.port, "127.0.0.1", NULL, NULL));
    ASSERT_EQ(0, cnet_socket_write(s, "abc", 3, log_cb, "w1"));
    ASSERT_EQ(0, cnet_socket_write(s, "de", 2, log_cb, "w2"));
    ASSERT_OK(cnet_socket_end(s, "f", 1, log_cb, "end"));
    cnet_socket_destroy(s);
    closed = 0;
    run_until(p.loop, &closed);
    /* Node: both writes get ERR_SOCKET_CLOSED_BEFORE_CONNECTION; the end
     * callback keeps cnet's ECANCELED (Node's varies: see cnet.h). */
    ASSERT_STR_EQ("w1:ERR_SOCKET_CLOSED_BEFORE_CONNECTION w2:ERR_SOCKET_CLOSED_BEFORE_CONNECTION "
                  "end:ECANCELED close",
                  test_log_str(&lg));

    /* The same socket, reconnected (retained, closed): still "before connection". */
    test_set_phase("cancelled before connection: reconnect");
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_connect(s, p.port, "127.0.0.1", NULL, NULL));
    ASSERT_EQ(0, cnet_socket_write(s, "abc", 3, log_cb, "w3"));
    cnet_socket_destroy(s);
    closed = 0;
    run_until(p.loop, &closed);
    ASSERT_STR_EQ("w3:ERR_SOCKET_CLOSED_BEFORE_CONNECTION close", test_log_str(&lg));

    /* A refused connect: the first write gets the same code, those behind it
     * the error that destroyed the socket (Node: its errorBuffer). */
    test_set_phase("cancelled before connection: refused");
    memset(&lg, 0, sizeof lg);
    port = bound_port();
    ASSERT_OK(cnet_socket_connect(s, port, "127.0.0.1", NULL, NULL));
    ASSERT_EQ(0, cnet_socket_write(s, "abc", 3, log_cb, "w4"));
    ASSERT_EQ(0, cnet_socket_write(s, "de", 2, log_cb, "w5"));
    closed = 0;
    run_until(p.loop, &closed);
    ASSERT_STR_EQ("w4:ERR_SOCKET_CLOSED_BEFORE_CONNECTION w5:ECONNREFUSED close",
                  test_log_str(&lg));
    cnet_socket_release(s);
    pair_close(&p);

    /* Once connected, a cancelled write is ECANCELED. */
    test_set_phase("cancelled after connection");
    memset(&lg, 0, sizeof lg);
    pair_open(&p, NULL, NULL);
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_CLOSE, on_close, NULL));
    cnet_socket_cork(p.client);
    ASSERT_EQ(0, cnet_socket_write(p.client, "abc", 3, log_cb, "w5"));
    cnet_socket_destroy(p.client);
    closed = 0;
    run_until(p.loop, &closed);
    ASSERT_STR_EQ("w5:ECANCELED close", test_log_str(&lg));
    pair_close(&p);
}

/* A small send buffer: with the peer paused, a big write cannot all fit in the kernel. */
static void small_sndbuf(cnet_socket_t *s)
{
    int size = 4096;
    ASSERT_EQ(0, setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size));
}

/* ---- 6. bytesWritten: accepted bytes, queued or not -------------------------------- */

typedef struct bw {
    cnet_socket_t *s;
    uint64_t at_connect, at_finish, at_close;
    int finished, closed;
} bw_t;

static void bw_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    bw_t *b = arg;
    if (ev->type == CNET_EVENT_CONNECT)
        b->at_connect = cnet_socket_bytes_written(s);
    if (ev->type == CNET_EVENT_FINISH) {
        b->at_finish = cnet_socket_bytes_written(s);
        b->finished = 1;
    }
    if (ev->type == CNET_EVENT_CLOSE) {
        b->at_close = cnet_socket_bytes_written(s);
        b->closed = 1;
    }
}

static void test_bytes_written(void)
{
    pair_t p;
    bw_t b = {0};
    size_t big = 16u << 20;
    char *data = calloc(1, big);
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;

    test_set_phase("bytesWritten");
    ASSERT(data != NULL);
    /* The peer reads nothing: 16 MiB is more than both kernel buffers hold. */
    sv.pause_on_connect = true;
    pair_listen(&p, &sv);
    ASSERT_OK(cnet_socket_new(p.loop, NULL, &b.s));
    cnet_socket_retain(b.s);
    ASSERT_OK(cnet_socket_on(b.s, CNET_EVENT_CONNECT, bw_event, &b));
    ASSERT_OK(cnet_socket_on(b.s, CNET_EVENT_FINISH, bw_event, &b));
    ASSERT_OK(cnet_socket_on(b.s, CNET_EVENT_CLOSE, bw_event, &b));
    ASSERT_OK(cnet_socket_connect(b.s, p.port, "127.0.0.1", NULL, NULL));
    /* The Node trace (v20): 3, 5 while connecting; 5 at 'connect'; 10 corked. */
    ASSERT_EQ(0, cnet_socket_write(b.s, "abc", 3, NULL, NULL));
    ASSERT_EQ(3, cnet_socket_bytes_written(b.s));
    ASSERT_EQ(0, cnet_socket_write(b.s, "de", 2, NULL, NULL));
    ASSERT_EQ(5, cnet_socket_bytes_written(b.s));
    while (!b.at_connect)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(5, b.at_connect);
    cnet_socket_cork(b.s);
    ASSERT_EQ(0, cnet_socket_write(b.s, "12345", 5, NULL, NULL));
    ASSERT_EQ(10, cnet_socket_bytes_written(b.s));
    ASSERT_EQ(0, cnet_socket_write(b.s, "", 0, NULL, NULL));
    ASSERT_EQ(10, cnet_socket_bytes_written(b.s));
    cnet_socket_uncork(b.s);
    ASSERT_EQ(10, cnet_socket_bytes_written(b.s));
    /* Encoded writes count their bytes: "ff00" in hex is 2. */
    ASSERT_EQ(0, cnet_socket_write_enc(b.s, "ff00", 4, "hex", NULL, NULL));
    ASSERT_EQ(12, cnet_socket_bytes_written(b.s));
    /* More than the kernel takes: counted at once, with what is still queued. */
    ASSERT_EQ(1, cnet_socket_write(b.s, data, big, NULL, NULL));
    ASSERT(cnet_socket_writable_length(b.s) > 0);
    ASSERT_EQ(12 + big, cnet_socket_bytes_written(b.s));
    ASSERT_OK(cnet_socket_end(b.s, "zz", 2, NULL, NULL));
    ASSERT_EQ(14 + big, cnet_socket_bytes_written(b.s));
    /* Refused writes count nothing. */
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_write(b.s, "x", 1, NULL, NULL));
    ASSERT_EQ(14 + big, cnet_socket_bytes_written(b.s));
    cnet_socket_resume(p.accepted);
    run_until(p.loop, &b.finished);
    ASSERT_EQ(14 + big, b.at_finish);
    cnet_socket_destroy(b.s);
    run_until(p.loop, &b.closed);
    ASSERT_EQ(14 + big, b.at_close);
    ASSERT_EQ(14 + big, cnet_socket_bytes_written(b.s));
    cnet_socket_release(b.s);
    free(data);
    pair_close(&p);
}

/* A destroy with writes still queued: Node keeps counting what it accepted. */
static void test_bytes_written_destroyed(void)
{
    pair_t p;
    cnet_server_opts_t sv = CNET_SERVER_OPTS_INIT;
    size_t big = 16u << 20;
    char *data = calloc(1, big);

    test_set_phase("bytesWritten after destroy");
    ASSERT(data != NULL);
    sv.pause_on_connect = true;
    pair_open(&p, &sv, NULL);
    small_sndbuf(p.client);
    ASSERT_EQ(1, cnet_socket_write(p.client, data, big, NULL, NULL));
    ASSERT(cnet_socket_writable_length(p.client) > 0);
    cnet_socket_destroy(p.client);
    ASSERT_EQ(big, cnet_socket_bytes_written(p.client));
    free(data);
    pair_close(&p);
}

/* ---- 7. "" is utf8 ------------------------------------------------------------------ */

typedef struct text {
    char got[64];
    size_t len;
    char enc[16];
    int ended;
} text_t;

static void text_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    text_t *t = arg;
    (void)s;
    ASSERT(t->len + ev->data.len < sizeof t->got);
    memcpy(t->got + t->len, ev->data.base, ev->data.len);
    t->len += ev->data.len;
    snprintf(t->enc, sizeof t->enc, "%s", ev->encoding ? ev->encoding : "(raw)");
}

static void text_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    text_t *t = arg;
    (void)s;
    (void)ev;
    t->ended = 1;
}

static void test_empty_encoding_name(void)
{
    pair_t p;
    text_t t = {0};
    static const char word[] = "h\xc3\xa9llo"; /* "héllo": 6 bytes in utf8, 5 in latin1 */

    test_set_phase("empty encoding name");
    pair_open(&p, NULL, NULL);
    ASSERT_OK(cnet_socket_set_encoding(p.accepted, ""));
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, text_data, &t));
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_END, text_end, &t));
    ASSERT_EQ(0, cnet_socket_write_enc(p.client, word, 6, "", NULL, NULL));
    ASSERT_EQ(6, cnet_socket_bytes_written(p.client));
    ASSERT_OK(cnet_socket_end_enc(p.client, "!", 1, "", NULL, NULL));
    run_until(p.loop, &t.ended);
    ASSERT_EQ(7, t.len);
    ASSERT_MEM_EQ("h\xc3\xa9llo!", t.got, 7);
    ASSERT_STR_EQ("utf8", t.enc);
    ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet_socket_set_encoding(p.accepted, "bogus"));
    pair_close(&p);
}

int main(void)
{
    test_watchdog(20);
    test_lengths();
    test_null_values();
    test_cancelled_before_connection();
    test_bytes_written();
    test_bytes_written_destroyed();
    test_empty_encoding_name();
    return 0;
}
