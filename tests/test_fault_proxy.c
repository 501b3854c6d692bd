/*
 * A hostile network in user space (issue 12, item 3): echo transfers
 * through tests/fault_proxy.c (raw libuv on its own thread) for plain TCP
 * and TLS. Delay, 1-byte fragmentation, stalls and moved write boundaries
 * must deliver every byte, byte-identical both ways (each side checks
 * what it receives against a position-keyed generator); resets at every
 * stage must fail with node's error on both ends (ECONNRESET; during a TLS
 * handshake the server's 'tlsClientError'). Nothing may hang: every case
 * has a deadline and must finish (close on both ends) before it.
 *
 *   test_fault_proxy [--seed N] [--only NAME]   the cases (seed printed)
 *   test_fault_proxy --serve STAGE N PORT       a bare proxy to 127.0.0.1:PORT with reset
 *                      STAGE (0..7, fault_proxy_reset_t) after N bytes; prints its port
 *                      and runs until stdin closes (to run node through it)
 * CNET_TEST_TIMEOUT_MULTIPLIER (valgrind) shrinks the transfers.
 */
#include "fault_proxy.h"
#include "harness.h"

#include <cnet/uv.h>
#include <time.h>

#if FP_TLS
#include "tls_fixtures.h"
#include "tls_pair.h"
static tls_pki_t pki;
static cnet_tls_context_t *server_ctx, *client_ctx;
#endif

static uint32_t g_seed;
static unsigned eof_resets; /* resets an end saw as EOF (see run_case) */

/* Byte @p i of a case's stream (position-keyed: both ends check without keeping it). */
static inline unsigned char gen_byte(uint32_t seed, uint64_t i)
{
    uint64_t x = (i >> 3) * 0x9E3779B97F4A7C15ull ^ seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (unsigned char)(x >> ((i & 7) * 8));
}

static void gen_fill(uint32_t seed, uint64_t pos, char *buf, size_t n)
{
    for (size_t k = 0; k < n; k++)
        buf[k] = (char)gen_byte(seed, pos + k);
}

/* Index of the first byte that differs, or -1. */
static long long gen_check(uint32_t seed, uint64_t pos, const char *buf, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((unsigned char)buf[k] != gen_byte(seed, pos + k))
            return (long long)(pos + k);
    return -1;
}

/* ---- one case ------------------------------------------------------------ */

typedef struct fcase {
    const char *name;
    fault_proxy_opts_t o;
    bool tls;
    size_t size;      /* bytes the client sends (and gets back); 0: none */
    size_t srv_size;  /* the server sends this many and ends instead of echoing */
    int client_err;   /* expected client 'error' (0: none, the transfer completes) */
    int server_err;   /* expected server error: socket 'error' or tlsClientError */
    bool server_tlse; /* server_err comes as 'tlsClientError' */
    bool no_upstream; /* the proxy never connects to the server */
} fcase_t;

typedef struct run {
    const fcase_t *fc;
    cnet_loop_t *loop;
    uv_timer_t deadline;
    bool timed_out;
    cnet_server_t *srv;
    int port, listening;
    cnet_socket_t *client;
    uint32_t seed;
    uint64_t sent, recv, srv_recv, srv_sent;
    long long bad_at, srv_bad_at;
    unsigned client_reads;
    bool client_connected, client_secure, client_end, client_closed, writing_done;
    int client_err;
    char client_syscall[16], client_msg[160];
    int server_conns, server_closed, server_secure;
    int server_err;
    char server_err_ev[16], server_syscall[16], server_msg[160];
    bool server_paused, server_end;
    test_log_t clog, slog; /* each end's events, but 'data' and 'drain' */
} run_t;

static char wbuf[65536];
#define FIRST 1024

static void client_write_more(run_t *r)
{
    while (r->sent < r->fc->size) {
        size_t n = r->fc->size - r->sent < sizeof wbuf ? r->fc->size - r->sent : sizeof wbuf;
        /* A first 1 KiB, and the rest once it is back: the transfer is under way (a TLS
         * server done with its handshake) before the proxy's byte counts can reset it. */
        if (r->sent == 0 && n > FIRST)
            n = FIRST;
        else if (r->recv < FIRST)
            return;
        gen_fill(r->seed, r->sent, wbuf, n);
        int rc = cnet_socket_write(r->client, wbuf, n, NULL, NULL);
        if (rc < 0)
            return; /* destroyed: its 'error' says why */
        r->sent += n;
        if (rc == 1)
            return; /* 'drain' goes on */
    }
    /* The client ends once it has its echo back: until then no FIN is on the way, so a
     * reset meets both ends in ESTABLISHED (a FIN first would make it EPIPE, or race). */
    if (r->fc->size && r->recv == r->fc->size && !r->writing_done) {
        r->writing_done = true;
        cnet_socket_end(r->client, NULL, 0, NULL, NULL);
    }
}

static void record_err(const cnet_event_t *ev, int *code, char *sys, size_t syslen, char *msg,
                       size_t msglen)
{
    *code = ev->error->code;
    snprintf(sys, syslen, "%s", ev->error->syscall ? ev->error->syscall : "");
    snprintf(msg, msglen, "%s", ev->error->message);
}

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    (void)s;
    if (ev->type != CNET_EVENT_DATA && ev->type != CNET_EVENT_DRAIN)
        test_log_add(&r->clog, cnet_event_name(ev->type));
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        r->client_connected = true;
        if (!r->fc->tls)
            client_write_more(r);
        break;
    case CNET_EVENT_SECURE_CONNECT:
        r->client_secure = true;
        client_write_more(r);
        break;
    case CNET_EVENT_DRAIN:
        client_write_more(r);
        break;
    case CNET_EVENT_DATA: {
        long long bad = gen_check(r->seed ^ (r->fc->srv_size ? 0x5a5a5a5au : 0), r->recv,
                                  ev->data.base, ev->data.len);
        if (bad >= 0 && r->bad_at < 0)
            r->bad_at = bad;
        r->recv += ev->data.len;
        r->client_reads++;
        if (r->fc->size && (r->recv == r->fc->size || r->recv - ev->data.len < FIRST))
            client_write_more(r);
        break;
    }
    case CNET_EVENT_END:
        r->client_end = true;
        if (!r->fc->size && !r->writing_done) { /* nothing to send: end back */
            r->writing_done = true;
            cnet_socket_end(s, NULL, 0, NULL, NULL);
        }
        break;
    case CNET_EVENT_ERROR:
        record_err(ev, &r->client_err, r->client_syscall, sizeof r->client_syscall, r->client_msg,
                   sizeof r->client_msg);
        break;
    case CNET_EVENT_CLOSE:
        r->client_closed = true;
        break;
    default:
        break;
    }
}

static void server_send_more(cnet_socket_t *s, run_t *r)
{
    while (r->srv_sent < r->fc->srv_size) {
        size_t n = r->fc->srv_size - r->srv_sent;
        char buf[16384];
        if (n > sizeof buf)
            n = sizeof buf;
        gen_fill(r->seed ^ 0x5a5a5a5au, r->srv_sent, buf, n);
        int rc = cnet_socket_write(s, buf, n, NULL, NULL);
        if (rc < 0)
            return;
        r->srv_sent += n;
        if (rc == 1)
            return;
    }
    if (r->srv_sent == r->fc->srv_size) {
        r->srv_sent++; /* once */
        cnet_socket_end(s, NULL, 0, NULL, NULL);
    }
}

static void server_sock_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    if (ev->type != CNET_EVENT_DATA && ev->type != CNET_EVENT_DRAIN)
        test_log_add(&r->slog, cnet_event_name(ev->type));
    switch (ev->type) {
    case CNET_EVENT_DATA: {
        long long bad = gen_check(r->seed, r->srv_recv, ev->data.base, ev->data.len);
        if (bad >= 0 && r->srv_bad_at < 0)
            r->srv_bad_at = bad;
        r->srv_recv += ev->data.len;
        if (!r->fc->srv_size &&
            cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) == 1) {
            cnet_socket_pause(s); /* echo at the client's pace */
            r->server_paused = true;
        }
        break;
    }
    case CNET_EVENT_DRAIN:
        if (r->fc->srv_size)
            server_send_more(s, r);
        else if (r->server_paused) {
            r->server_paused = false;
            cnet_socket_resume(s);
        }
        break;
    case CNET_EVENT_ERROR:
        snprintf(r->server_err_ev, sizeof r->server_err_ev, "error");
        record_err(ev, &r->server_err, r->server_syscall, sizeof r->server_syscall, r->server_msg,
                   sizeof r->server_msg);
        break;
    case CNET_EVENT_END:
        r->server_end = true;
        break;
    case CNET_EVENT_CLOSE:
        r->server_closed++;
        break;
    default:
        break;
    }
}

static void server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    static const cnet_event_type_t evs[] = {CNET_EVENT_DATA,   CNET_EVENT_DRAIN, CNET_EVENT_END,
                                            CNET_EVENT_FINISH, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    switch (ev->type) {
    case CNET_EVENT_LISTENING: {
        cnet_address_t a;
        ASSERT_OK(cnet_server_address(srv, &a));
        r->port = a.port;
        r->listening = 1;
        break;
    }
    case CNET_EVENT_CONNECTION:
        r->server_conns++;
        for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
            ASSERT_OK(cnet_socket_on(ev->connection, evs[i], server_sock_cb, r));
        if (r->fc->srv_size && !r->fc->tls)
            server_send_more(ev->connection, r);
        break;
    case CNET_EVENT_SECURE_CONNECTION:
        r->server_secure++;
        if (r->fc->srv_size)
            server_send_more(ev->connection, r);
        break;
    case CNET_EVENT_TLS_CLIENT_ERROR:
        snprintf(r->server_err_ev, sizeof r->server_err_ev, "tlsClientError");
        record_err(ev, &r->server_err, r->server_syscall, sizeof r->server_syscall, r->server_msg,
                   sizeof r->server_msg);
        break;
    default:
        break;
    }
}

static void on_deadline(uv_timer_t *t)
{
    run_t *r = t->data;
    r->timed_out = true;
}

static bool run_done(const run_t *r)
{
    if (!r->client_closed)
        return false;
    if (r->fc->no_upstream)
        return true;
    return r->server_conns > 0 && r->server_closed == r->server_conns;
}

static void run_case(const fcase_t *fc, unsigned index)
{
    run_t r;
    memset(&r, 0, sizeof r);
    r.fc = fc;
    r.seed = g_seed + index;
    r.bad_at = r.srv_bad_at = -1;
    test_set_phase(fc->name);

    ASSERT_OK(cnet_loop_new(&r.loop));
    uv_loop_t *uv = cnet_loop_get_uv(r.loop);
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
#if FP_TLS
    if (fc->tls)
        so.tls = server_ctx;
#endif
    ASSERT_OK(cnet_server_new(r.loop, &so, &r.srv));
    ASSERT_OK(cnet_server_on(r.srv, CNET_EVENT_LISTENING, server_cb, &r));
    ASSERT_OK(cnet_server_on(r.srv, CNET_EVENT_CONNECTION, server_cb, &r));
    ASSERT_OK(cnet_server_on(r.srv, CNET_EVENT_SECURE_CONNECTION, server_cb, &r));
    ASSERT_OK(cnet_server_on(r.srv, CNET_EVENT_TLS_CLIENT_ERROR, server_cb, &r));
    ASSERT_OK(cnet_server_listen(r.srv, 0, "127.0.0.1", NULL, NULL));
    while (!r.listening)
        uv_run(uv, UV_RUN_ONCE);

    fault_proxy_opts_t po = fc->o;
    po.seed = r.seed;
    fault_proxy_t *proxy = fault_proxy_start(&po, r.port);
    ASSERT(proxy != NULL);

    uv_timer_init(uv, &r.deadline);
    r.deadline.data = &r;
    uv_timer_start(&r.deadline, on_deadline, (uint64_t)(10000 * test_timeout_multiplier()), 0);
    uint64_t t0 = uv_now(uv);

    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    co.port = fault_proxy_port(proxy);
    co.host = "127.0.0.1";
    if (fc->tls) {
#if FP_TLS
        ASSERT_OK(cnet_tls_connect(r.loop, &co, client_ctx, NULL, NULL, NULL, &r.client));
#endif
    } else {
        ASSERT_OK(cnet_create_connection(r.loop, &co, NULL, NULL, &r.client));
    }
    static const cnet_event_type_t cevs[] = {
        CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DRAIN, CNET_EVENT_DATA,
        CNET_EVENT_END,     CNET_EVENT_ERROR,          CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof cevs / sizeof cevs[0]; i++)
        ASSERT_OK(cnet_socket_on(r.client, cevs[i], client_cb, &r));

    while (!run_done(&r) && !r.timed_out)
        uv_run(uv, UV_RUN_ONCE);
    uint64_t ms = uv_now(uv) - t0;

    fault_proxy_stats_t st;
    fault_proxy_stats(proxy, &st);
    printf("%-28s %5" PRIu64 " ms  sent %" PRIu64 " got %" PRIu64 " (%u reads) srv got %" PRIu64
           "  proxy: %" PRIu64 "/%" PRIu64 " B, %" PRIu64 " writes (%" PRIu64 " joined, %" PRIu64
           " cut), %" PRIu64 " stalls, %u resets  client %s%s%s  server %s %s%s%s\n",
           fc->name, ms, r.sent, r.recv, r.client_reads, r.srv_recv, st.c2s, st.s2c, st.writes,
           st.coalesced, st.split, st.stalls, st.resets,
           r.client_err ? cnet_err_name(r.client_err) : "ok", r.client_err ? " " : "",
           r.client_syscall, r.server_err_ev[0] ? r.server_err_ev : "-",
           r.server_err ? cnet_err_name(r.server_err) : "", r.server_err ? " " : "",
           r.server_syscall);
    fflush(stdout);
    if (r.timed_out)
        TEST_FAIL_("%s: not finished after its deadline (client closed %d, server %d/%d)", fc->name,
                   r.client_closed, r.server_closed, r.server_conns);

    printf("    client: %s; server: %s\n", test_log_str(&r.clog), test_log_str(&r.slog));
    fflush(stdout);
    /* Bytes stay in order whatever the faults did. */
    ASSERT_EQ(-1, r.bad_at);
    ASSERT_EQ(-1, r.srv_bad_at);
    /*
     * A reset is ECONNRESET on each end that gets it, with one exception node shares
     * (the same libuv): when the RST comes while a read was short of its buffer, libuv
     * (uv__stream_io's POLLHUP shortcut) reports EOF instead, so that end sees 'end'
     * and no 'error'. Such an end must then have seen 'end' and be short of bytes; at
     * least one end reports the reset.
     */
    bool client_eof = fc->client_err && !r.client_err && r.client_end;
    bool server_eof = fc->server_err && !fc->server_tlse && !r.server_err && r.server_end;
    if (client_eof || server_eof) {
        printf("    (libuv's EOF for a RST on the %s, as in node)\n",
               client_eof ? (server_eof ? "client and the server" : "client") : "server");
        eof_resets++;
    }
    ASSERT(!(client_eof && server_eof));
    if (!client_eof)
        ASSERT_EQ(fc->client_err, r.client_err);
    if (!server_eof)
        ASSERT_EQ(fc->server_err, r.server_err);
    if (fc->server_err && !server_eof)
        ASSERT_STR_EQ(fc->server_tlse ? "tlsClientError" : "error", r.server_err_ev);
    if (fc->no_upstream)
        ASSERT_EQ(0, r.server_conns);
    else
        ASSERT_EQ(1, r.server_conns);
    if (!fc->client_err) {
        /* A completed transfer: everything, both ways, and the proxy carried it. */
        ASSERT_EQ(fc->size, r.sent);
        ASSERT_EQ(fc->size, r.srv_recv);
        ASSERT_EQ(fc->size + fc->srv_size, r.recv);
        ASSERT(r.client_end);
        ASSERT_EQ(0, st.resets);
        if (!fc->tls) {
            ASSERT_EQ(fc->size, st.c2s);
            ASSERT_EQ(fc->size + fc->srv_size, st.s2c);
        }
        if (fc->o.fragment) /* every byte its own write */
            ASSERT(st.writes >= st.c2s + st.s2c);
        if (fc->o.stall_every)
            ASSERT(st.stalls >= 2 * ((fc->size - 1) / fc->o.stall_every));
        if (fc->o.delay_ms || fc->o.stall_every)
            ASSERT(ms >= fc->o.delay_ms + fc->o.stall_ms);
        if (fc->o.rechunk) /* boundaries moved: reads cut, and (given enough) joined */
            ASSERT(st.split > 0 && (st.coalesced > 0 || fc->size < (1u << 20)));
    } else {
        ASSERT_EQ(1, st.resets);
        ASSERT(!r.client_end || client_eof);
        if (fc->o.reset == FP_RESET_AT_C2S_FIN) /* the client ends once it has it all */
            ASSERT_EQ(fc->size, r.recv);
        else if (fc->o.reset == FP_RESET_AT_S2C_FIN) /* all but the FIN may have got through */
            ASSERT(r.recv <= fc->srv_size);
        else
            ASSERT(r.recv < fc->size + fc->srv_size);
        if (fc->o.reset == FP_RESET_AFTER_C2S)
            ASSERT(r.srv_recv <= fc->o.reset_after);
        if (fc->o.reset == FP_RESET_AFTER_S2C)
            ASSERT(r.recv <= fc->o.reset_after);
        if (fc->o.reset == FP_RESET_AFTER_HELLO || fc->o.reset == FP_RESET_AFTER_SERVER_FLIGHT) {
            ASSERT(st.hello_len > 5);
            ASSERT_EQ(0, r.srv_recv); /* no application data got through */
            ASSERT_EQ(fc->o.reset == FP_RESET_AFTER_SERVER_FLIGHT, r.client_secure);
            ASSERT_EQ(0, r.server_secure);
        }
    }

    fault_proxy_stop(proxy);
    uv_close((uv_handle_t *)&r.deadline, NULL);
    cnet_server_destroy(r.srv);
    ASSERT_OK(cnet_loop_run(r.loop));
    ASSERT_EQ(0, cnet_loop_alive(r.loop));
    ASSERT_OK(cnet_loop_close(r.loop));
}

/* ---- the cases ------------------------------------------------------------- */

static int serve(int argc, char **argv)
{
    fault_proxy_opts_t o = {0};
    if (argc < 5)
        return 2;
    o.reset = (fault_proxy_reset_t)atoi(argv[2]);
    o.reset_after = strtoull(argv[3], NULL, 10);
    fault_proxy_t *p = fault_proxy_start(&o, atoi(argv[4]));
    printf("%d\n", fault_proxy_port(p));
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    fault_proxy_stop(p);
    return 0;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && !strcmp(argv[1], "--serve"))
        return serve(argc, argv);
    g_seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
    if (getenv("FAULT_PROXY_SEED"))
        g_seed = (uint32_t)strtoul(getenv("FAULT_PROXY_SEED"), NULL, 0);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            g_seed = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
    }
    printf("seed %u (rerun: --seed %u)\n", g_seed, g_seed);
    test_watchdog(25);

    /* Sizes shrink under valgrind (the multiplier), keeping each case well inside 30 s. */
    double m = test_timeout_multiplier();
    size_t big = (size_t)((2u << 20) / m), mid = (size_t)((1u << 20) / m);
    size_t frag = (size_t)((48u << 10) / m);
    if (big < (64u << 10))
        big = 64u << 10;
    if (mid < (64u << 10))
        mid = 64u << 10;
    if (frag < (4u << 10))
        frag = 4u << 10;

#if FP_TLS
    tls_pki_make(&pki);
    server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
#endif

    /* Each fault for TCP, then for TLS (the TLS transfers are the smaller "mid": the
     * handshake and records make them slower). */
    enum { BIG, MID, FRAG, DOWNLOAD }; /* DOWNLOAD: the server sends MID and ends */
    enum { BOTH, TCP_ONLY, TLS_ONLY };
    const int RST = CNET_ECONNRESET;
    static const struct spec {
        const char *name;
        fault_proxy_opts_t o;
        int size, client_err, server_err;
        bool server_tlse, no_upstream;
        int only;
    } specs[] = {
        /* Faults that must not lose a byte. */
        {"pass", {0}, BIG, 0, 0, false, false, BOTH},
        {"delay 20ms", {.delay_ms = 20}, BIG, 0, 0, false, false, BOTH},
        {"fragment 1B",
         {.fragment = true, .fragment_gap_every = 1024, .fragment_gap_ms = 1},
         FRAG,
         0,
         0,
         false,
         false,
         BOTH},
        {"stall 40ms x8",
         {.stall_every = 1 /* size / 8 */, .stall_ms = 40},
         BIG,
         0,
         0,
         false,
         false,
         BOTH},
        {"rechunk", {.rechunk = true}, BIG, 0, 0, false, false, BOTH},
        {"rechunk+delay", {.rechunk = true, .delay_ms = 5}, MID, 0, 0, false, false, TCP_ONLY},
        /* Resets at every stage: both ends fail with ECONNRESET, nothing hangs. */
        {"reset at accept", {.reset = FP_RESET_AT_ACCEPT}, MID, RST, 0, false, true, BOTH},
        {"reset first byte", {.reset = FP_RESET_AFTER_C2S}, MID, RST, RST, false, false, TCP_ONLY},
        {"reset after ClientHello",
         {.reset = FP_RESET_AFTER_HELLO},
         MID,
         RST,
         RST,
         true,
         false,
         TLS_ONLY},
        {"reset after server flight",
         {.reset = FP_RESET_AFTER_SERVER_FLIGHT},
         MID,
         RST,
         RST,
         true,
         false,
         TLS_ONLY},
        {"reset c2s mid",
         {.reset = FP_RESET_AFTER_C2S, .reset_after = 1 /* 30 % */},
         MID,
         RST,
         RST,
         false,
         false,
         BOTH},
        {"reset s2c mid",
         {.reset = FP_RESET_AFTER_S2C, .reset_after = 1 /* 30 % */},
         MID,
         RST,
         RST,
         false,
         false,
         BOTH},
        {"reset at client FIN", {.reset = FP_RESET_AT_C2S_FIN}, MID, RST, RST, false, false, BOTH},
        /* (TLS: its close_notify is ahead of the FIN, so the client may well have ended.) */
        {"reset at server FIN",
         {.reset = FP_RESET_AT_S2C_FIN},
         DOWNLOAD,
         RST,
         RST,
         false,
         false,
         TCP_ONLY},
    };
    unsigned ran = 0, index = 0;
    for (int tls = 0; tls < 2; tls++) {
#if !FP_TLS
        if (tls) {
            printf("TLS cases skipped: built without TLS\n");
            break;
        }
#endif
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
            const struct spec *sp = &specs[i];
            char name[64];
            fcase_t fc;
            index++;
            if (sp->only == (tls ? TCP_ONLY : TLS_ONLY))
                continue;
            snprintf(name, sizeof name, "%s %s", tls ? "tls" : "tcp", sp->name);
            if (only && !strstr(name, only))
                continue;
            memset(&fc, 0, sizeof fc);
            fc.name = name;
            fc.o = sp->o;
            fc.tls = tls;
            fc.size = sp->size == FRAG ? frag : sp->size == BIG && !tls ? big : mid;
            if (sp->size == DOWNLOAD) {
                fc.size = 0;
                fc.srv_size = mid;
            }
            if (fc.o.stall_every) /* eight stalls each way, whatever the size */
                fc.o.stall_every = fc.size / 8;
            if (fc.o.reset_after) /* "mid": 30 % of the way */
                fc.o.reset_after = fc.size * 3 / 10;
            fc.client_err = sp->client_err;
            fc.server_err = sp->server_err;
            fc.server_tlse = sp->server_tlse;
            fc.no_upstream = sp->no_upstream;
            run_case(&fc, index);
            ran++;
        }
    }
    ASSERT(ran > 0);
#if FP_TLS
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    tls_pki_free(&pki);
#endif
    printf("%u cases (%u resets seen as EOF by one end), seed %u\n", ran, eof_resets, g_seed);
    return 0;
}
