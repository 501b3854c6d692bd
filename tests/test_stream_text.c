/*
 * Encodings and framing on real sockets: the server sends chunks with a pause
 * between them (so each arrives in its own read) and the client records what
 * its 'data' / 'frame' / 'error' events carry.
 */
#include "harness.h"

typedef struct {
    const char *chunks[8];
    size_t lens[8];
    const char *encoding;        /* client setEncoding, or NULL */
    cnet_framing_opts_t framing; /* client framing */
    const char *expect;          /* the recorded events */
} scenario_t;

static cnet_loop_t *loop;
static const scenario_t *cur;
static int next_chunk;
static cnet_socket_t *client; /* the reading side, for send_next */
static uint64_t sent_total;
static test_log_t log_;

/* Records bytes readably: printable ASCII as is, the rest as \xHH. */
static void record(const char *tag, const char *p, size_t n)
{
    char buf[1024];
    size_t k = (size_t)snprintf(buf, sizeof buf, "%s[", tag);
    for (size_t i = 0; i < n && k < sizeof buf - 8; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c > 0x20 && c < 0x7f && c != '[' && c != ']')
            buf[k++] = (char)c;
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", c);
    }
    snprintf(buf + k, sizeof buf - k, "]");
    test_log_add(&log_, buf);
}

/*
 * Sends the next chunk once the client has read every byte sent so far, so
 * each chunk is a read of its own however slow the machine (valgrind): the
 * 'timeout' is only a poll of the client's bytesRead, not a timing guess.
 */
static void send_next(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (client && cnet_socket_bytes_read(client) < sent_total) {
        cnet_socket_set_timeout(s, 2, send_next, NULL); /* not read yet: look again */
        return;
    }
    if (cur->chunks[next_chunk]) {
        size_t n = cur->lens[next_chunk] ? cur->lens[next_chunk] : strlen(cur->chunks[next_chunk]);
        ASSERT(cnet_socket_write(s, cur->chunks[next_chunk], n, NULL, NULL) >= 0);
        sent_total += n;
        next_chunk++;
        cnet_socket_set_timeout(s, 2, send_next, NULL);
    } else {
        cnet_socket_set_timeout(s, 0, NULL, NULL);
        cnet_socket_end(s, NULL, 0, NULL, NULL);
    }
}

static void on_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    send_next(ev->connection, NULL, NULL);
    cnet_server_close(srv, NULL, NULL);
}

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (cur->encoding)
        ASSERT_EQ(strlen(ev->data.base), ev->data.len); /* decoded strings are NUL-terminated */
    record(cur->framing.mode ? "d" : "data", ev->data.base, ev->data.len);
}

static void on_frame(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    record("frame", ev->data.base, ev->data.len);
}

static void on_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    test_log_add(&log_, cnet_err_name(ev->error->code));
}

static void on_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    test_log_add(&log_, "end");
}

static void on_client_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client = NULL;
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;

    ASSERT_OK(cnet_server_address(srv, &a));
    o.host = "127.0.0.1";
    o.port = a.port;
    ASSERT_OK(cnet_create_connection(loop, &o, NULL, NULL, &c));
    client = c;
    cnet_socket_on(c, CNET_EVENT_CLOSE, on_client_close, NULL);
    if (cur->encoding)
        ASSERT_OK(cnet_socket_set_encoding(c, cur->encoding));
    if (cur->framing.mode) {
        ASSERT_OK(cnet_socket_set_framing(c, &cur->framing));
        cnet_socket_on(c, CNET_EVENT_FRAME, on_frame, NULL);
    } else {
        cnet_socket_on(c, CNET_EVENT_DATA, on_data, NULL);
    }
    cnet_socket_on(c, CNET_EVENT_ERROR, on_error, NULL);
    cnet_socket_on(c, CNET_EVENT_END, on_end, NULL);
}

static void run(const scenario_t *sc)
{
    cnet_server_t *srv;

    cur = sc;
    next_chunk = 0;
    sent_total = 0;
    client = NULL;
    memset(&log_, 0, sizeof log_);
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    cnet_server_on(srv, CNET_EVENT_CONNECTION, on_conn, NULL);
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_listening, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT_STR_EQ(sc->expect, test_log_str(&log_));
}

/* Expected values are node's: new StringDecoder / setEncoding on the same chunks. */
static void test_decoding(void)
{
    /* "é" split in the middle, then "€" split 1+2: held back and completed. */
    run(&(scenario_t){.chunks = {"a\xc3",
                                 "\xa9"
                                 "b\xe2",
                                 "\x82\xac"},
                      .encoding = "utf8",
                      .expect = "data[a] data[\\xc3\\xa9b] data[\\xe2\\x82\\xac] end"});
    /* Invalid byte becomes U+FFFD; a truncated character at 'end' is flushed as U+FFFD. */
    run(&(scenario_t){.chunks = {"x\xff", "y\xe2\x82"},
                      .encoding = "utf8",
                      .expect = "data[x\\xef\\xbf\\xbd] data[y] data[\\xef\\xbf\\xbd] end"});
    run(&(scenario_t){
        .chunks = {"\x01\xab", "\xff"}, .encoding = "hex", .expect = "data[01ab] data[ff] end"});
    /* base64 carries the remainder of 3-byte groups, flushed padded at end. */
    run(&(scenario_t){
        .chunks = {"hell", "o"}, .encoding = "base64", .expect = "data[aGVs] data[bG8=] end"});
    run(&(scenario_t){.chunks = {"\xe9"}, .encoding = "latin1", .expect = "data[\\xc3\\xa9] end"});
}

static void test_framing(void)
{
    cnet_framing_opts_t lines = CNET_FRAMING_OPTS_INIT;
    lines.mode = CNET_FRAMING_LINES;
    lines.delimiter = "\r\n";
    run(&(scenario_t){.chunks = {"one\r", "\ntwo\r\nthr", "ee\r\ntail"},
                      .framing = lines,
                      .expect = "frame[one] frame[two] frame[three] frame[tail] end"});

    cnet_framing_opts_t shortl = lines;
    shortl.max_size = 4;
    run(&(scenario_t){.chunks = {"ok\r\n", "toolong"},
                      .framing = shortl,
                      .expect = "frame[ok] ERR_LINE_TOO_LONG"});

    cnet_framing_opts_t lp = CNET_FRAMING_OPTS_INIT;
    lp.mode = CNET_FRAMING_LENGTH_PREFIXED;
    lp.header_bytes = 2;
    run(&(scenario_t){.chunks = {"\x00\x03"
                                 "ab",
                                 "c\x00",
                                 "\x00\x00\x01"
                                 "z"},
                      .lens = {4, 2, 4},
                      .framing = lp,
                      .expect = "frame[abc] frame[] frame[z] end"});
    run(&(scenario_t){.chunks = {"\x00\x05"
                                 "ab"},
                      .lens = {4},
                      .framing = lp,
                      .expect = "ERR_STREAM_PREMATURE_CLOSE"});

    cnet_framing_opts_t fx = CNET_FRAMING_OPTS_INIT;
    fx.mode = CNET_FRAMING_FIXED;
    fx.record_size = 3;
    run(&(scenario_t){
        .chunks = {"abcd", "ef"}, .framing = fx, .expect = "frame[abc] frame[def] end"});
}

/* ---- encoded writes and write_frame, received raw ------------------------ */

static test_log_t rx;
static void on_rx(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    char tmp[256];
    size_t n = ev->data.len < sizeof tmp - 1 ? ev->data.len : sizeof tmp - 1;
    memcpy(tmp, ev->data.base, n);
    tmp[n] = 0;
    strncat(rx.buf, tmp, sizeof rx.buf - strlen(rx.buf) - 1);
}

static void on_rx_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ASSERT_OK(cnet_socket_set_encoding(ev->connection, "hex"));
    cnet_socket_on(ev->connection, CNET_EVENT_DATA, on_rx, NULL);
    cnet_server_close(srv, NULL, NULL);
}

static void on_tx_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_framing_opts_t lp = CNET_FRAMING_OPTS_INIT, none = CNET_FRAMING_OPTS_INIT;
    ASSERT(cnet_socket_write_enc(s, "aGk=", 4, "base64", NULL, NULL) >= 0);     /* "hi" */
    ASSERT(cnet_socket_write_enc(s, "7e", 2, "hex", NULL, NULL) >= 0);          /* "~" */
    ASSERT(cnet_socket_write_enc(s, "\xc3\xa9", 2, "latin1", NULL, NULL) >= 0); /* é -> e9 */
    ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet_socket_write_enc(s, "x", 1, "klingon", NULL, NULL));
    /* No framing (never set, then set to NONE): write_frame has no format to write in. */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_write_frame(s, "c", 1, NULL, NULL));
    ASSERT_OK(cnet_socket_set_framing(s, &none));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_write_frame(s, "d", 1, NULL, NULL));
    lp.mode = CNET_FRAMING_LENGTH_PREFIXED;
    lp.header_bytes = 4;
    lp.little_endian = true;
    ASSERT_OK(cnet_socket_set_framing(s, &lp));
    ASSERT(cnet_socket_write_frame(s, "ab", 2, NULL, NULL) >= 0);
    ASSERT_OK(cnet_socket_set_framing(s, &none)); /* off again: the framer's storage stays */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_write_frame(s, "x", 1, NULL, NULL));
    lp.header_bytes = 1;
    ASSERT_OK(cnet_socket_set_framing(s, &lp)); /* reuses that storage */
    ASSERT(cnet_socket_write_frame(s, "y", 1, NULL, NULL) >= 0);
    ASSERT_OK(cnet_socket_end_enc(s, "ff", 2, "hex", NULL, NULL));
}

static void on_tx_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    cnet_socket_t *c;
    ASSERT_OK(cnet_server_address(srv, &a));
    ASSERT_OK(cnet_socket_new(loop, NULL, &c));
    ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet_socket_set_encoding(c, "utf9"));
    ASSERT_OK(cnet_socket_set_encoding(c, "UTF-8"));
    ASSERT_OK(cnet_socket_set_encoding(c, NULL));
    ASSERT_OK(cnet_socket_connect(c, a.port, "127.0.0.1", on_tx_connect, NULL));
}

static void test_encoded_writes(void)
{
    cnet_server_t *srv;
    memset(&rx, 0, sizeof rx);
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    cnet_server_on(srv, CNET_EVENT_CONNECTION, on_rx_conn, NULL);
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", on_tx_listening, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT_STR_EQ("68697ee9"
                  "02000000"
                  "6162"
                  "01"
                  "79"
                  "ff",
                  rx.buf);
}

int main(void)
{
    test_watchdog(30);
    test_set_phase("decoding");
    test_decoding();
    test_set_phase("framing");
    test_framing();
    test_set_phase("encoded writes");
    test_encoded_writes();
    return 0;
}
