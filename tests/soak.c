/*
 * cnet_soak: a bounded soak run (issue 12, item 4; docs/soak.md).
 *
 * One server on the thread's default loop (127.0.0.1 on an ephemeral port, or
 * a Unix socket in a temporary directory; TLS with --tls) and --clients
 * concurrent clients, each replaced by a new one as it finishes, for
 * --seconds. Every client does random operations: write / write_ex (STATIC,
 * TRANSIENT, a dispose function; vectored) / write_str of 1 B .. 256 KiB of a
 * seeded pattern, pause and resume, set_timeout, cork and uncork, end (a
 * half-close), destroy or reset_and_destroy mid-transfer, destroy while
 * connecting, and reconnecting a retained closed socket; TLS clients resume
 * sessions from earlier ones. The server greets each connection (9 bytes:
 * mode, slot, generation), then echoes it with backpressure (pause when
 * write() returns 1, resume on 'drain'); a quarter of the connections are
 * framed (length-prefixed: echoed frame by frame with write_frame).
 *
 * Checked (a failure prints what and exits 1):
 *   - every echoed byte matches the pattern at its stream offset (framed: each
 *     frame's header is the length the client sent, in order, and its
 *     payload the pattern), and a client never receives more than it sent;
 *   - a cleanly ended connection (end(), the server's end, 'close' without
 *     error) got every byte back, all its write callbacks with status 0, and
 *     the server connection that served it received exactly what it sent;
 *   - no error code outside the expected ones (the server sees resets and
 *     premature closes from clients destroyed mid-transfer; nothing else);
 *   - no hang: a client waiting for something gets an event at least every 30 s;
 *   - RSS growth from the end of the warmup to the end of the run within
 *     --rss-bound MiB (default 16);
 *   - at the end everything is destroyed, the loop drains, cnet_loop_close()
 *     returns 0 and every allocation cnet made is freed (a counting
 *     allocator); LeakSanitizer checks the rest under ASan.
 *
 *   cnet_soak [--seconds N] [--clients N] [--seed S] [--tls] [--unix]
 *             [--rss-bound MiB] [--verbose] [--plain-and-tls]
 *
 * Defaults: 10 s, 200 clients, seed 1, 16 MiB. --plain-and-tls runs plain, then TLS, in one
 * process (CTest's test_soak). `make soak` runs 300 s each of plain, --tls, --unix
 * under ASan+UBSan.
 */
#include "harness.h"

#include <cnet/uv.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <uv.h>

#if SOAK_TLS
#include "tls_fixtures.h"
#include "tls_pair.h" /* tls_ctx() */
#endif

#if defined(__SANITIZE_ADDRESS__)
/* ASan's quarantine (256 MiB by default) fills over minutes of 256 KiB
 * buffers and would read as RSS growth; a small one keeps the RSS figure
 * about cnet. ASAN_OPTIONS still overrides it. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

#define MAX_WRITE  (256 * 1024)
#define PAT_PERIOD 65521u /* prime: a write's slice starts anywhere in the table */
#define GREET_LEN  9
#define FIFO_N     256 /* framed: frames written, not yet echoed */
#define NSLOTS     65536u
#define NCODES     64

static struct {
    unsigned seconds, clients, rss_bound_mib, max_ops;
    uint64_t seed;
    bool tls, unix_, verbose;
} cfg = {10, 200, 16, 60, 1, false, false, false};

/* ---- a small PRNG (xorshift64*) ------------------------------------------------------------- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static unsigned rnd_below(rng_t *r, unsigned n)
{
    return n ? (unsigned)(rnd(r) % n) : 0;
}

static bool rnd_pct(rng_t *r, unsigned pct)
{
    return rnd_below(r, 100) < pct;
}

static rng_t rng_for(uint64_t a, uint64_t b)
{
    rng_t r = {(a * 0x9e3779b97f4a7c15ull) ^ (b + 0x632be59bd9b4e019ull) ^ 0x5851f42d4c957f2dull};
    if (!r.s)
        r.s = 1;
    for (int i = 0; i < 4; i++)
        rnd(&r);
    return r;
}

/* ---- the pattern: byte i of a stream is pat[(base + i) % PAT_PERIOD], never NUL ---------------
 */

static unsigned char pat[PAT_PERIOD + MAX_WRITE + 1];

static const unsigned char *pat_at(unsigned base, uint64_t off)
{
    return pat + (size_t)((base + off) % PAT_PERIOD);
}

/* ---- counting allocator: every allocation cnet makes is freed ----------------------------- */

static long allocs;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    allocs += p != NULL;
    return p;
}

static void *count_calloc(size_t k, size_t n)
{
    void *p = calloc(k, n);
    allocs += p != NULL;
    return p;
}

static void *count_realloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    allocs += p != NULL && old == NULL;
    return p;
}

static void count_free(void *p)
{
    allocs -= p != NULL;
    free(p);
}

/* ---- statistics ------------------------------------------------------------------------------ */

typedef struct {
    int code[NCODES];
    unsigned long n[NCODES];
} codes_t;

static struct {
    unsigned long started, connected, clean, destroyed, reset, destroyed_connecting, at_end,
        reconnects, resumed, handshakes, framed, timeouts, pauses, corks, ops, writes, write_ex,
        write_str, srv_conns, srv_clean, failures;
    uint64_t clean_sent, clean_srv_received, destroyed_sent, destroyed_recv, bytes_echoed;
    codes_t client_err, server_err, tls_client_err, write_status;
} st;

static void code_add(codes_t *c, int code)
{
    for (int i = 0; i < NCODES; i++) {
        if (c->n[i] && c->code[i] == code) {
            c->n[i]++;
            return;
        }
        if (!c->n[i]) {
            c->code[i] = code;
            c->n[i] = 1;
            return;
        }
    }
}

static void codes_print(const char *what, const codes_t *c)
{
    fprintf(stderr, "soak:   %-22s", what);
    if (!c->n[0])
        fprintf(stderr, " none");
    for (int i = 0; i < NCODES && c->n[i]; i++)
        fprintf(stderr, " %s=%lu", c->code[i] ? cnet_err_name(c->code[i]) : "0", c->n[i]);
    fputc('\n', stderr);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    st.failures++;
    if (st.failures > 20)
        return;
    fprintf(stderr, "soak: FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- the server -------------------------------------------------------------------------------
 */

typedef struct srvconn {
    cnet_socket_t *s;
    unsigned slot;
    uint32_t gen;
    int refs; /* the server socket until 'close', and the client that claimed it */
    bool framed, got_end, closed, had_error;
    uint64_t received;
} srvconn_t;

static struct {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    uv_timer_t pulse;
    rng_t rng;
    int port;
    char dir[64], path[96];
    uint64_t t0, deadline, warm_at;
    bool stopping, srv_closed, pulse_closed;
    long rss_warm, rss_peak, rss_end;
    srvconn_t *slots[NSLOTS];
    uint32_t gens[NSLOTS];
    unsigned free_slots[NSLOTS], nfree;
    unsigned long live_srvconns;
    struct client **clients;
    unsigned nlive;
#if SOAK_TLS
    cnet_tls_context_t *server_ctx, *client_ctx;
#endif
    unsigned char *session; /* the latest TLS session a client got, to resume */
    size_t session_len;
} G;

static uint64_t now_ms(void)
{
    return uv_now(cnet_loop_get_uv(G.loop));
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void srvconn_unref(srvconn_t *c)
{
    if (--c->refs > 0)
        return;
    G.slots[c->slot] = NULL;
    G.free_slots[G.nfree++] = c->slot;
    free(c);
}

static void echo_result(srvconn_t *c, int r)
{
    if (r == 1)
        cnet_socket_pause(c->s); /* backpressure: 'drain' resumes */
    else if (r < 0)
        code_add(&st.server_err, r); /* checked with the error codes at the end */
}

static void srv_sock_ev(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    srvconn_t *c = arg;
    switch (ev->type) {
    case CNET_EVENT_DATA:
        c->received += ev->data.len;
        if (!c->framed)
            echo_result(c, cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL));
        break;
    case CNET_EVENT_FRAME:
        echo_result(c, cnet_socket_write_frame(s, ev->data.base, ev->data.len, NULL, NULL));
        break;
    case CNET_EVENT_DRAIN:
        cnet_socket_resume(s);
        break;
    case CNET_EVENT_END:
        c->got_end = true;
        cnet_socket_end(s, NULL, 0, NULL, NULL); /* allow_half_open: our FIN after the echo */
        break;
    case CNET_EVENT_ERROR:
        code_add(&st.server_err, ev->error->code);
        break;
    case CNET_EVENT_CLOSE:
        c->closed = true;
        c->had_error = ev->had_error;
        c->s = NULL;
        G.live_srvconns--;
        if (c->got_end && !ev->had_error)
            st.srv_clean++;
        srvconn_unref(c);
        break;
    default:
        break;
    }
}

static void srv_ev(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    if (ev->type == CNET_EVENT_CONNECTION) {
        cnet_socket_t *s = ev->connection;
        srvconn_t *c;
        unsigned char greet[GREET_LEN];
        static const cnet_event_type_t types[] = {CNET_EVENT_DATA,  CNET_EVENT_FRAME,
                                                  CNET_EVENT_DRAIN, CNET_EVENT_END,
                                                  CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
        if (G.nfree == 0 || G.stopping) {
            cnet_socket_destroy(s);
            return;
        }
        c = calloc(1, sizeof *c);
        ASSERT(c);
        c->s = s;
        c->slot = G.free_slots[--G.nfree];
        c->gen = ++G.gens[c->slot];
        c->refs = 1;
        c->framed = rnd_pct(&G.rng, 25);
        G.slots[c->slot] = c;
        G.live_srvconns++;
        st.srv_conns++;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            ASSERT_OK(cnet_socket_on(s, types[i], srv_sock_ev, c));
        if (c->framed) {
            cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;
            fo.mode = CNET_FRAMING_LENGTH_PREFIXED;
            fo.header_bytes = 4;
            ASSERT_OK(cnet_socket_set_framing(s, &fo));
        }
        greet[0] = c->framed ? 'F' : 'R';
        memcpy(greet + 1, &c->slot, 4);
        memcpy(greet + 5, &c->gen, 4);
        echo_result(c, cnet_socket_write(s, greet, sizeof greet, NULL, NULL));
    } else if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
        code_add(&st.tls_client_err, ev->error->code);
    } else if (ev->type == CNET_EVENT_ERROR) {
        fail("server error %s: %s", cnet_err_name(ev->error->code), ev->error->message);
    } else if (ev->type == CNET_EVENT_CLOSE) {
        G.srv_closed = true;
    }
}

/* ---- clients ----------------------------------------------------------------------------------
 */

enum { C_CONNECTING, C_GREETING, C_ACTIVE, C_ENDING, C_GONE };

typedef struct client {
    unsigned idx; /* in G.clients */
    rng_t rng;
    cnet_socket_t *s;
    int state;
    bool framed, want_drain, paused, corked, ended, got_end, by_us, errored, retained, reset;
    unsigned base, ops_left, reconnects_left, cbs_pending, cbs_failed;
    uint64_t sent, recv, pay_sent, pay_recv, last_event;
    uint64_t resume_at, uncork_at;
    uint32_t fifo[FIFO_N]; /* lengths of the frames written, not yet echoed */
    unsigned fhead, fcount;
    unsigned char hdr[4];
    unsigned hdr_have;
    uint32_t frame_left;
    unsigned char greet[GREET_LEN];
    unsigned greet_have;
    srvconn_t *peer;
} client_t;

static void client_ev(cnet_socket_t *s, const cnet_event_t *ev, void *arg);
static void client_op(client_t *c);
static int client_connect(client_t *c);

static void write_cb(cnet_socket_t *s, int status, void *arg)
{
    client_t *c = arg;
    (void)s;
    c->last_event = now_ms();
    c->cbs_pending--;
    code_add(&st.write_status, status);
    if (status != 0)
        c->cbs_failed++;
}

static void client_fail(client_t *c, const char *what, uint64_t a, uint64_t b)
{
    fail("client %u (%s%s): %s (%llu vs %llu; sent %llu, received %llu)", c->idx,
         c->framed ? "framed" : "raw", c->by_us ? ", destroyed by us" : "", what,
         (unsigned long long)a, (unsigned long long)b, (unsigned long long)c->sent,
         (unsigned long long)c->recv);
}

/* Checks echoed stream bytes against what was written. */
static void client_check_echo(client_t *c, const unsigned char *p, size_t n)
{
    if (c->recv + n > c->sent) {
        client_fail(c, "more bytes echoed than written", c->recv + n, c->sent);
        return;
    }
    c->recv += n;
    st.bytes_echoed += n;
    if (!c->framed) {
        while (n > 0) {
            size_t k = n > PAT_PERIOD ? PAT_PERIOD : n;
            if (memcmp(p, pat_at(c->base, c->recv - n), k) != 0) {
                client_fail(c, "echoed bytes differ from the pattern at offset", c->recv - n, 0);
                return;
            }
            p += k;
            n -= k;
        }
        return;
    }
    while (n > 0) {
        if (c->frame_left == 0 && c->hdr_have < 4) {
            c->hdr[c->hdr_have++] = *p++;
            n--;
            if (c->hdr_have == 4) {
                uint32_t len = (uint32_t)c->hdr[0] << 24 | (uint32_t)c->hdr[1] << 16 |
                               (uint32_t)c->hdr[2] << 8 | c->hdr[3];
                if (c->fcount == 0 || c->fifo[c->fhead] != len) {
                    client_fail(c, "echoed frame length is not the one written", len,
                                c->fcount ? c->fifo[c->fhead] : 0);
                    return;
                }
                c->fhead = (c->fhead + 1) % FIFO_N;
                c->fcount--;
                c->frame_left = len;
                c->hdr_have = 0;
            }
            continue;
        }
        size_t k = n < c->frame_left ? n : c->frame_left;
        if (memcmp(p, pat_at(c->base, c->pay_recv), k) != 0) {
            client_fail(c, "echoed frame payload differs from the pattern at", c->pay_recv, 0);
            return;
        }
        c->pay_recv += k;
        c->frame_left -= (uint32_t)k;
        p += k;
        n -= k;
    }
}

static void client_greeting(client_t *c, const unsigned char *p, size_t n)
{
    size_t k = GREET_LEN - c->greet_have;
    unsigned slot;
    uint32_t gen;
    if (k > n)
        k = n;
    memcpy(c->greet + c->greet_have, p, k);
    c->greet_have += (unsigned)k;
    if (c->greet_have < GREET_LEN)
        return;
    memcpy(&slot, c->greet + 1, 4);
    memcpy(&gen, c->greet + 5, 4);
    if ((c->greet[0] != 'R' && c->greet[0] != 'F') || slot >= NSLOTS || !G.slots[slot] ||
        G.slots[slot]->gen != gen || G.slots[slot]->refs != 1) {
        fail("client %u: a greeting naming no live server connection", c->idx);
        cnet_socket_destroy(c->s);
        return;
    }
    c->framed = c->greet[0] == 'F';
    st.framed += c->framed;
    c->peer = G.slots[slot];
    c->peer->refs++;
    c->state = C_ACTIVE;
    if (n > k)
        client_check_echo(c, p + k, n - k);
}

static void client_free(client_t *c)
{
    if (c->peer)
        srvconn_unref(c->peer);
    G.clients[c->idx] = NULL;
    G.nlive--;
    free(c);
}

/* 'close': classify the connection and check what a clean one must satisfy. */
static void client_closed(client_t *c, bool had_error)
{
    bool clean = c->ended && c->got_end && !had_error && !c->by_us && !c->errored;
    c->state = C_GONE;
    if (c->cbs_pending)
        client_fail(c, "'close' before every write callback", c->cbs_pending, 0);
    if (clean) {
        st.clean++;
        st.clean_sent += c->sent;
        if (c->recv != c->sent)
            client_fail(c, "clean end without every byte echoed", c->recv, c->sent);
        if (c->cbs_failed)
            client_fail(c, "clean end with failed write callbacks", c->cbs_failed, 0);
        if (c->framed && (c->fcount || c->frame_left || c->hdr_have))
            client_fail(c, "clean end inside a frame", c->fcount, c->frame_left);
        if (!c->peer) {
            client_fail(c, "clean end without a greeting", 0, 0);
        } else {
            st.clean_srv_received += c->peer->received;
            if (c->peer->received != c->sent)
                client_fail(c, "server received != client sent", c->peer->received, c->sent);
        }
    } else if (c->by_us) {
        st.destroyed_sent += c->sent;
        st.destroyed_recv += c->recv;
    } else {
        client_fail(c, had_error ? "closed with an error" : "closed without a clean end", c->ended,
                    c->got_end);
    }
    if (c->peer) {
        srvconn_unref(c->peer);
        c->peer = NULL;
    }
}

static void client_ev(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    (void)s;
    c->last_event = now_ms();
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        st.connected++;
        if (!cfg.tls)
            c->state = C_GREETING;
        break;
    case CNET_EVENT_SECURE_CONNECT:
        st.handshakes++;
        st.resumed += cnet_socket_tls_session_reused(s);
        c->state = C_GREETING;
        break;
    case CNET_EVENT_SESSION:
        if (ev->data.len && rnd_pct(&c->rng, 50)) {
            unsigned char *p = malloc(ev->data.len);
            ASSERT(p);
            memcpy(p, ev->data.base, ev->data.len);
            free(G.session);
            G.session = p;
            G.session_len = ev->data.len;
        }
        break;
    case CNET_EVENT_DATA:
        if (c->state == C_CONNECTING) {
            fail("client %u: 'data' before 'connect'", c->idx);
        } else if (c->greet_have < GREET_LEN) {
            client_greeting(c, (const unsigned char *)ev->data.base, ev->data.len);
        } else {
            client_check_echo(c, (const unsigned char *)ev->data.base, ev->data.len);
        }
        if (c->state == C_ACTIVE && rnd_pct(&c->rng, 25))
            client_op(c);
        break;
    case CNET_EVENT_DRAIN:
        c->want_drain = false;
        if (c->state == C_ACTIVE && rnd_pct(&c->rng, 30))
            client_op(c);
        break;
    case CNET_EVENT_END:
        c->got_end = true;
        if (!c->ended)
            fail("client %u: the server ended first", c->idx);
        break;
    case CNET_EVENT_TIMEOUT:
        st.timeouts++;
        if (rnd_pct(&c->rng, 50))
            cnet_socket_set_timeout(s, 0, NULL, NULL);
        break;
    case CNET_EVENT_ERROR:
        c->errored = true;
        code_add(&st.client_err, ev->error->code);
        break;
    case CNET_EVENT_CLOSE:
        client_closed(c, ev->had_error);
        if (!(c->retained && c->reconnects_left && !G.stopping)) { /* else: the pulse reconnects */
            if (c->retained)
                cnet_socket_release(s);
            client_free(c);
        }
        break;
    default:
        break;
    }
}

static const cnet_event_type_t client_types[] = {
    CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT, CNET_EVENT_SESSION,
    CNET_EVENT_DATA,    CNET_EVENT_DRAIN,          CNET_EVENT_END,
    CNET_EVENT_TIMEOUT, CNET_EVENT_ERROR,          CNET_EVENT_CLOSE};

/* A new life for @p c: the counters restart, the pattern moves. */
static void client_reset_life(client_t *c)
{
    unsigned idx = c->idx, reconnects = c->reconnects_left;
    bool retained = c->retained;
    cnet_socket_t *s = c->s;
    rng_t rng = c->rng;
    memset(c, 0, sizeof *c);
    c->idx = idx;
    c->rng = rng;
    c->s = s;
    c->retained = retained;
    c->reconnects_left = reconnects;
    c->base = rnd_below(&c->rng, PAT_PERIOD);
    c->ops_left = 5 + rnd_below(&c->rng, cfg.max_ops);
    c->last_event = now_ms();
    c->state = C_CONNECTING;
}

static void fill_connect_opts(cnet_connect_opts_t *o)
{
    if (cfg.unix_) {
        o->path = G.path;
    } else {
        o->host = "127.0.0.1";
        o->port = G.port;
    }
}

static int client_connect(client_t *c)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    fill_connect_opts(&o);
    if (c->s) { /* a retained closed socket connects again (plain only) */
        st.reconnects++;
        c->reconnects_left--;
        return cnet_socket_connect_opts(c->s, &o, NULL, NULL);
    }
#if SOAK_TLS
    if (cfg.tls) {
        cnet_tls_socket_opts_t t = CNET_TLS_SOCKET_OPTS_INIT;
        int r;
        t.servername = "localhost";
        if (G.session && rnd_pct(&c->rng, 50)) {
            t.session = G.session;
            t.session_len = G.session_len;
        }
        r = cnet_tls_connect(G.loop, &o, G.client_ctx, &t, NULL, NULL, &c->s);
        if (r != 0)
            return r;
        goto listeners;
    }
#endif
    {
        int r = cnet_create_connection(G.loop, &o, NULL, NULL, &c->s);
        if (r != 0)
            return r;
    }
#if SOAK_TLS
listeners:
#endif
    for (size_t i = 0; i < sizeof client_types / sizeof client_types[0]; i++)
        ASSERT_OK(cnet_socket_on(c->s, client_types[i], client_ev, c));
    if (!cfg.tls && rnd_pct(&c->rng, 20)) {
        cnet_socket_retain(c->s);
        c->retained = true;
        c->reconnects_left = 1 + rnd_below(&c->rng, 3);
    }
    return 0;
}

static void client_start(unsigned idx)
{
    client_t *c = calloc(1, sizeof *c);
    int r;
    ASSERT(c);
    c->idx = idx;
    c->rng = rng_for(cfg.seed, ++st.started);
    client_reset_life(c);
    G.clients[idx] = c;
    G.nlive++;
    r = client_connect(c);
    if (r != 0) {
        fail("connect: %s", cnet_err_name(r));
        client_free(c);
        return;
    }
    if (rnd_pct(&c->rng, 3)) { /* gone while connecting (or handshaking) */
        c->by_us = true;
        st.destroyed_connecting++;
        cnet_socket_destroy(c->s);
    }
}

static void disposer(void *p)
{
    free(p);
}

/* Writes @p len bytes of the stream at c->sent in one of the API's ways. */
static int client_write_bytes(client_t *c, const unsigned char *p, size_t len, unsigned how)
{
    int r;
    c->cbs_pending++;
    switch (how) {
    case 0: /* write(): copied */
        st.writes++;
        r = cnet_socket_write(c->s, p, len, write_cb, c);
        break;
    case 1: { /* write_ex() STATIC: the pattern table outlives the socket */
        cnet_buf_t b = {p, len};
        st.write_ex++;
        r = cnet_socket_write_ex(c->s, &b, 1, CNET_BUF_STATIC, write_cb, c);
        break;
    }
    case 2: { /* write_ex(), two buffers, TRANSIENT */
        cnet_buf_t b[2] = {{p, len / 2}, {p + len / 2, len - len / 2}};
        st.write_ex++;
        r = cnet_socket_write_ex(c->s, b, 2, CNET_BUF_TRANSIENT, write_cb, c);
        break;
    }
    case 3: { /* write_ex() with a dispose function */
        unsigned char *copy = malloc(len);
        cnet_buf_t b = {copy, len};
        ASSERT(copy);
        memcpy(copy, p, len);
        st.write_ex++;
        r = cnet_socket_write_ex(c->s, &b, 1, disposer, write_cb, c);
        break;
    }
    default: { /* write_str(): the pattern has no NUL; no callback */
        char *str = malloc(len + 1);
        ASSERT(str);
        memcpy(str, p, len);
        str[len] = '\0';
        c->cbs_pending--;
        st.write_str++;
        r = cnet_socket_write_str(c->s, str);
        free(str);
        break;
    }
    }
    if (r < 0) {
        if (how != 4)
            c->cbs_pending--;
        fail("client %u: write refused: %s", c->idx, cnet_err_name(r));
        return r;
    }
    c->sent += len;
    if (r == 1)
        c->want_drain = true;
    return r;
}

static size_t rand_len(rng_t *g)
{
    unsigned bits = rnd_below(g, 19); /* log-uniform: as many small writes as big ones */
    size_t len = 1 + (size_t)(rnd(g) % ((size_t)1 << bits));
    return len > MAX_WRITE ? MAX_WRITE : len;
}

static void client_write(client_t *c)
{
    size_t len = rand_len(&c->rng);
    unsigned how = rnd_below(&c->rng, 5);
    if (!c->framed) {
        client_write_bytes(c, pat_at(c->base, c->sent), len, how);
        return;
    }
    if (c->fcount == FIFO_N)
        return;
    if (len > MAX_WRITE - 4)
        len = MAX_WRITE - 4;
    {
        unsigned char hdr[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8), (unsigned char)len};
        /* The header: copied (write_str cannot carry its NULs). */
        if (client_write_bytes(c, hdr, 4, 0) < 0 ||
            client_write_bytes(c, pat_at(c->base, c->pay_sent), len, how) < 0)
            return;
        c->fifo[(c->fhead + c->fcount++) % FIFO_N] = (uint32_t)len;
        c->pay_sent += len;
    }
}

static void client_finish(client_t *c)
{
    unsigned k = rnd_below(&c->rng, 100);
    if (k < 80) {
        c->ended = true;
        c->state = C_ENDING;
        c->cbs_pending++;
        if (cnet_socket_end(c->s, NULL, 0, write_cb, c) != 0) {
            c->cbs_pending--;
            fail("client %u: end() refused", c->idx);
        }
        return;
    }
    c->by_us = true;
    if (k < 90 && !cfg.unix_) {
        int r = cnet_socket_reset_and_destroy(c->s);
        st.reset++;
        if (r != 0)
            fail("client %u: reset_and_destroy: %s", c->idx, cnet_err_name(r));
        return;
    }
    if (cfg.unix_ && k < 90) /* Unix sockets cannot reset: node throws */
        ASSERT_ERR(CNET_ERR_INVALID_HANDLE_TYPE, cnet_socket_reset_and_destroy(c->s));
    st.destroyed++;
    cnet_socket_destroy(c->s);
}

/* One random operation on an active client. */
static void client_op(client_t *c)
{
    unsigned k;
    if (c->state != C_ACTIVE)
        return;
    st.ops++;
    if (c->ops_left == 0 || --c->ops_left == 0) {
        if (c->corked) {
            cnet_socket_uncork(c->s);
            c->corked = false;
        }
        client_finish(c);
        return;
    }
    k = rnd_below(&c->rng, 100);
    if (k < 60) {
        if (!c->want_drain)
            client_write(c);
    } else if (k < 70) {
        if (!c->paused) {
            cnet_socket_pause(c->s);
            c->paused = true;
            c->resume_at = now_ms() + 1 + rnd_below(&c->rng, 50);
            st.pauses++;
        }
    } else if (k < 78) {
        if (!c->corked) {
            cnet_socket_cork(c->s);
            c->corked = true;
            c->uncork_at = now_ms() + rnd_below(&c->rng, 20);
            st.corks++;
        }
    } else if (k < 85) {
        ASSERT_OK(cnet_socket_set_timeout(c->s, 1 + rnd_below(&c->rng, 30), NULL, NULL));
    } else if (k < 87) {
        ASSERT_OK(cnet_socket_set_timeout(c->s, 0, NULL, NULL));
    } else if (k < 88 && rnd_pct(&c->rng, 50)) {
        /* destroy mid-transfer */
        c->by_us = true;
        if (!cfg.unix_ && rnd_pct(&c->rng, 50)) {
            st.reset++;
            ASSERT_OK(cnet_socket_reset_and_destroy(c->s));
        } else {
            st.destroyed++;
            cnet_socket_destroy(c->s);
        }
    }
}

/* ---- the pulse: replaces finished clients, drives idle ones, samples RSS, ends the run ---- */

static void stop_run(void)
{
    G.stopping = true;
    G.rss_end = rss_bytes();
    if (cfg.verbose) { /* what the clients are doing when the run ends */
        unsigned n[C_GONE + 1] = {0}, paused = 0, corked = 0, drain = 0, ended = 0;
        for (unsigned i = 0; i < cfg.clients; i++) {
            client_t *c = G.clients[i];
            if (!c)
                continue;
            n[c->state]++;
            paused += c->paused;
            corked += c->corked;
            drain += c->want_drain;
            ended += c->ended;
        }
        fprintf(stderr,
                "soak: at the end: %u connecting, %u greeting, %u active, %u ending, %u gone; "
                "%u paused, %u corked, %u waiting for drain, %u ended\n",
                n[C_CONNECTING], n[C_GREETING], n[C_ACTIVE], n[C_ENDING], n[C_GONE], paused, corked,
                drain, ended);
    }
    for (unsigned i = 0; i < cfg.clients; i++) {
        client_t *c = G.clients[i];
        if (!c)
            continue;
        if (c->state == C_GONE) { /* waiting to reconnect */
            if (c->retained)
                cnet_socket_release(c->s);
            client_free(c);
            continue;
        }
        st.at_end += !c->by_us;
        c->by_us = true;
        cnet_socket_destroy(c->s);
    }
    for (unsigned i = 0; i < NSLOTS; i++)
        if (G.slots[i] && G.slots[i]->s)
            cnet_socket_destroy(G.slots[i]->s);
    cnet_server_close(G.srv, NULL, NULL);
}

static void on_pulse_closed(uv_handle_t *h)
{
    (void)h;
    G.pulse_closed = true;
}

static void pulse_cb(uv_timer_t *t)
{
    uint64_t now = now_ms();
    static uint64_t last_sample;
    long rss;
    if (G.stopping) {
        if (G.nlive == 0 && G.live_srvconns == 0 && G.srv_closed)
            uv_close((uv_handle_t *)t, on_pulse_closed);
        else if (now > G.deadline + 10000 * test_timeout_multiplier()) {
            fail("the drain did not finish: %u clients, %lu server connections alive", G.nlive,
                 G.live_srvconns);
            uv_close((uv_handle_t *)t, on_pulse_closed);
        }
        return;
    }
    if (now - last_sample >= 1000) {
        last_sample = now;
        rss = rss_bytes();
        if (rss > G.rss_peak)
            G.rss_peak = rss;
        if (cfg.verbose)
            fprintf(stderr, "soak: %3llus rss %.1f MiB, %u clients, %lu connections\n",
                    (unsigned long long)(now - G.t0) / 1000, rss / 1048576.0, G.nlive,
                    st.srv_conns);
    }
    /* The warmup ends once a fifth of the run (at most 30 s) has passed and every slot has
     * seen a connection come and go: the allocators' pools have their working size then. */
    if (!G.rss_warm && now >= G.warm_at &&
        st.clean + st.destroyed + st.reset + st.destroyed_connecting >= cfg.clients)
        G.rss_warm = rss_bytes();
    if (now >= G.deadline) {
        stop_run();
        return;
    }
    for (unsigned i = 0; i < cfg.clients; i++) {
        client_t *c = G.clients[i];
        if (!c) {
            client_start(i);
            continue;
        }
        /* A hang: waiting for something (a connection, a greeting, an echo, 'drain', the
         * server's end) and no event for 30 s. Not a lifetime bound: a starved CPU (TLS
         * under ASan on a shared machine) makes lives long, not silent. */
        if (now - c->last_event > 30000 * test_timeout_multiplier() &&
            (c->state != C_ACTIVE || c->recv < c->sent || c->want_drain)) {
            client_fail(c, "no event for 30 s while waiting (state, ops left)", (uint64_t)c->state,
                        c->ops_left);
            c->last_event = now;
        }
        if (c->state == C_GONE) {
            int r;
            client_reset_life(c);
            r = client_connect(c);
            if (r != 0) {
                fail("client %u: connect again: %s", i, cnet_err_name(r));
                cnet_socket_release(c->s);
                client_free(c);
            }
            continue;
        }
        if (c->state != C_ACTIVE && c->state != C_ENDING)
            continue;
        if (c->paused && now >= c->resume_at) {
            cnet_socket_resume(c->s);
            c->paused = false;
        }
        if (c->corked && now >= c->uncork_at) {
            cnet_socket_uncork(c->s);
            c->corked = false;
        }
        if (rnd_pct(&c->rng, 50))
            client_op(c);
    }
}

/* ---- main -------------------------------------------------------------------------------------
 */

static void usage(void)
{
    fprintf(stderr, "usage: cnet_soak [--seconds N] [--clients N] [--seed S] [--tls] [--unix] "
                    "[--rss-bound MiB] [--verbose] [--plain-and-tls]\n");
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    (void)ev;
    (void)arg;
    if (!cfg.unix_) {
        ASSERT_OK(cnet_server_address(srv, &a));
        G.port = a.port;
    }
}

static void print_totals(double secs)
{
    fprintf(stderr,
            "soak: %s%s, %u s, %u clients, seed %llu: %lu connections (%lu clean, %lu destroyed, "
            "%lu reset, %lu destroyed connecting, %lu at the end; %lu framed, %lu reconnects",
            cfg.tls ? "TLS" : "plain", cfg.unix_ ? " Unix" : " TCP", cfg.seconds, cfg.clients,
            (unsigned long long)cfg.seed, st.srv_conns, st.clean, st.destroyed, st.reset,
            st.destroyed_connecting, st.at_end, st.framed, st.reconnects);
    if (cfg.tls)
        fprintf(stderr, ", %lu handshakes, %lu resumed", st.handshakes, st.resumed);
    fprintf(stderr, ")\n");
    fprintf(stderr,
            "soak:   bytes: %.1f MiB echoed; clean: %llu sent = %llu received by the server; "
            "destroyed mid-transfer: %llu sent, %llu echoed\n",
            st.bytes_echoed / 1048576.0, (unsigned long long)st.clean_sent,
            (unsigned long long)st.clean_srv_received, (unsigned long long)st.destroyed_sent,
            (unsigned long long)st.destroyed_recv);
    fprintf(stderr,
            "soak:   %lu ops (%.0f ops/s, %.0f connections/s, %.1f MiB/s echoed): %lu write, "
            "%lu write_ex, %lu write_str, %lu pauses, %lu corks, %lu timeouts\n",
            st.ops, st.ops / secs, st.srv_conns / secs, st.bytes_echoed / 1048576.0 / secs,
            st.writes, st.write_ex, st.write_str, st.pauses, st.corks, st.timeouts);
    codes_print("client errors:", &st.client_err);
    codes_print("server errors:", &st.server_err);
    codes_print("tlsClientError:", &st.tls_client_err);
    codes_print("write callbacks:", &st.write_status);
}

/* Fails for every code in @p c that is not one of @p ok. */
static void check_allowed(const char *what, const codes_t *c, const int *ok, size_t nok)
{
    for (int i = 0; i < NCODES && c->n[i]; i++) {
        bool allowed = false;
        for (size_t j = 0; j < nok; j++)
            allowed |= c->code[i] == ok[j];
        if (!allowed)
            fail("unexpected %s %s (%lu)", what, c->code[i] ? cnet_err_name(c->code[i]) : "0",
                 c->n[i]);
    }
}

/* Clients see no error; the server only what a client destroyed mid-transfer causes. */
static void check_codes(void)
{
    static const int server_ok[] = {CNET_ECONNRESET, CNET_EPIPE, CNET_ERR_STREAM_PREMATURE_CLOSE};
    static const int tls_ok[] = {CNET_ECONNRESET};
    static const int cb_ok[] = {0, CNET_ECANCELED, CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION};
    check_allowed("client error", &st.client_err, NULL, 0);
    check_allowed("server error", &st.server_err, server_ok, 3);
    check_allowed("tlsClientError", &st.tls_client_err, tls_ok, 1);
    check_allowed("write callback status", &st.write_status, cb_ok, 3);
}

/* One run of cfg.seconds; true when it passed. */
static bool run(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    uint64_t t_end;
    long allocs0;
    int r;

    memset(&G, 0, sizeof G);
    memset(&st, 0, sizeof st);
    allocs0 = allocs;
    G.rng = rng_for(cfg.seed, ~0ull);
    for (unsigned i = 0; i < NSLOTS; i++)
        G.free_slots[G.nfree++] = NSLOTS - 1 - i;
    G.clients = calloc(cfg.clients, sizeof *G.clients);
    ASSERT(G.clients);
    G.loop = cnet_loop_default();
    ASSERT(G.loop);

#if SOAK_TLS
    if (cfg.tls) {
        static tls_pki_t pki;
        tls_pki_make(&pki);
        G.server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
        G.client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
        tls_pki_free(&pki);
        so.tls = G.server_ctx;
    }
#endif
    so.allow_half_open = true;
    ASSERT_OK(cnet_server_new(G.loop, &so, &G.srv));
    ASSERT_OK(cnet_server_on(G.srv, CNET_EVENT_CONNECTION, srv_ev, NULL));
    ASSERT_OK(cnet_server_on(G.srv, CNET_EVENT_TLS_CLIENT_ERROR, srv_ev, NULL));
    ASSERT_OK(cnet_server_on(G.srv, CNET_EVENT_ERROR, srv_ev, NULL));
    ASSERT_OK(cnet_server_on(G.srv, CNET_EVENT_CLOSE, srv_ev, NULL));
    if (cfg.unix_) {
        snprintf(G.dir, sizeof G.dir, "/tmp/cnet-soak-XXXXXX");
        ASSERT(mkdtemp(G.dir) != NULL);
        snprintf(G.path, sizeof G.path, "%s/soak.sock", G.dir);
        ASSERT_OK(cnet_server_listen_path(G.srv, G.path, on_listening, NULL));
    } else {
        ASSERT_OK(cnet_server_listen(G.srv, 0, "127.0.0.1", on_listening, NULL));
    }
    /* Listening on 127.0.0.1 is synchronous in effect; run until the port is known. */
    while (!cfg.unix_ && G.port == 0)
        cnet_loop_run_nowait(G.loop);

    uv_update_time(cnet_loop_get_uv(G.loop)); /* making the certificates took a while */
    G.t0 = now_ms();
    G.deadline = G.t0 + cfg.seconds * 1000ull;
    G.warm_at = G.t0 + (cfg.seconds < 150 ? cfg.seconds * 200ull : 30000);
    ASSERT_EQ(0, uv_timer_init(cnet_loop_get_uv(G.loop), &G.pulse));
    ASSERT_EQ(0, uv_timer_start(&G.pulse, pulse_cb, 2, 2));
    r = cnet_loop_run(G.loop);
    if (r != 0)
        fail("cnet_loop_run returned %s", cnet_err_name(r));
    t_end = now_ms();

    free(G.clients);
    free(G.session);
#if SOAK_TLS
    cnet_tls_context_release(G.server_ctx);
    cnet_tls_context_release(G.client_ctx);
#endif
    if (cnet_loop_alive(G.loop) != 0)
        fail("cnet_loop_alive() is %zu after the drain", cnet_loop_alive(G.loop));
    r = cnet_loop_close(G.loop);
    if (r != 0)
        fail("cnet_loop_close() returned %s", cnet_err_name(r));
    else if (allocs != allocs0)
        fail("%ld allocations of cnet not freed after cnet_loop_close()", allocs - allocs0);
    if (cfg.unix_)
        rmdir(G.dir);

    print_totals((t_end - G.t0) / 1000.0);
    check_codes();
    if (st.clean_sent != st.clean_srv_received)
        fail("clean connections: clients sent %llu, the server received %llu",
             (unsigned long long)st.clean_sent, (unsigned long long)st.clean_srv_received);
    if (st.clean == 0 && test_timeout_multiplier() > 1) /* valgrind on a loaded machine */
        fprintf(stderr, "soak:   no connection ended cleanly: too slow to check the accounting\n");
    else if (st.clean == 0)
        fail("no connection ended cleanly");
    fprintf(stderr,
            "soak:   RSS: %.1f MiB after the warmup, %.1f MiB peak, %.1f MiB at the end "
            "(growth %+.1f MiB, bound %u MiB); after teardown %.1f MiB\n",
            G.rss_warm / 1048576.0, G.rss_peak / 1048576.0, G.rss_end / 1048576.0,
            (G.rss_end - G.rss_warm) / 1048576.0, cfg.rss_bound_mib, rss_bytes() / 1048576.0);
    if (G.rss_warm == 0)
        fprintf(stderr, "soak:   RSS growth not checked: the warmup did not end (a short run)\n");
    else if (G.rss_warm < 0 || G.rss_end <= 0)
        fail("could not read /proc/self/statm");
    else if (G.rss_end - G.rss_warm > (long)cfg.rss_bound_mib * 1048576)
        fail("RSS grew by %.1f MiB after the warmup (bound %u MiB)",
             (G.rss_end - G.rss_warm) / 1048576.0, cfg.rss_bound_mib);
    fprintf(stderr, "soak: %s\n", st.failures ? "FAILED" : "passed");
    return st.failures == 0;
}

int main(int argc, char **argv)
{
    bool both = false, bound_given = false, ok;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--seconds") == 0 && i + 1 < argc)
            cfg.seconds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--clients") == 0 && i + 1 < argc)
            cfg.clients = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--seed") == 0 && i + 1 < argc)
            cfg.seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--rss-bound") == 0 && i + 1 < argc) {
            cfg.rss_bound_mib = (unsigned)strtoul(argv[++i], NULL, 10);
            bound_given = true;
        } else if (strcmp(a, "--tls") == 0)
            cfg.tls = true;
        else if (strcmp(a, "--plain-and-tls") == 0)
            both = true;
        else if (strcmp(a, "--unix") == 0)
            cfg.unix_ = true;
        else if (strcmp(a, "--verbose") == 0)
            cfg.verbose = true;
        else {
            usage();
            return 2;
        }
    }
    if (cfg.seconds == 0 || cfg.clients == 0 || cfg.clients > 4096) {
        usage();
        return 2;
    }
#if !SOAK_TLS
    if (cfg.tls || both)
        RETURN_SKIP("--tls: cnet_soak was built without TLS");
#endif
    /* valgrind (scripts/valgrind.sh sets the multiplier): fewer clients for longer (a run of a
     * few seconds would end before the first connections do), the same checks */
    if (test_timeout_multiplier() > 1) {
        if (cfg.clients > 5)
            cfg.clients = 5;
        cfg.seconds = (unsigned)(cfg.seconds * test_timeout_multiplier());
        if (cfg.seconds > 60)
            cfg.seconds = 60;
        if (!bound_given) /* valgrind's own memory grows too */
            cfg.rss_bound_mib = 64;
        cfg.max_ops = 5; /* short lives: some connections end within the run */
    }
    signal(SIGPIPE, SIG_IGN);
    test_watchdog((both ? 2 : 1) * (cfg.seconds + 120));
    ASSERT_OK(cnet_replace_allocator(count_malloc, count_realloc, count_calloc, count_free));
    {
        rng_t pr = rng_for(cfg.seed, 0);
        for (size_t i = 0; i < PAT_PERIOD; i++)
            pat[i] = (unsigned char)(1 + rnd_below(&pr, 255));
        for (size_t i = PAT_PERIOD; i < sizeof pat; i++)
            pat[i] = pat[i - PAT_PERIOD];
    }
    ok = run();
    if (both) {
        cfg.tls = true;
        ok = run() && ok;
    }
    return ok ? 0 : 1;
}
