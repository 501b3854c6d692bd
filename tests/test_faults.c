/*
 * The fault matrix (issue 12, docs/fault-matrix.md): each row below runs
 * over each transport it applies to — TCP on 127.0.0.1 and ::1, Unix
 * sockets in a temp dir, TLS (cnet_tls_connect() against a TLS server, the
 * certificates of tests/tls_fixtures.h) — with node v20's events and codes:
 *
 *   reset-mid-write            the peer resets (SO_LINGER 0) while 32 MiB is queued
 *   reset-mid-handshake-*      TLS: the peer resets during the handshake, either side
 *   never-reads-drain          a peer that never reads, a writer that waits for 'drain'
 *   never-reads-ignore-drain   ... and a writer that ignores write()'s 1
 *   half-open-fin-*            a peer that sent its FIN and stays, allowHalfOpen on/off
 *   silent-peer                a peer that connects and says nothing
 *   slowloris                  20 drip-feeding clients against setTimeout + destroy
 *   refused, enotfound, no-answer(-handshake)   connects that fail, bounded in time
 *   server-close               close() with connections open
 * FAULTS_VERBOSE=1 prints what each cell saw.
 *
 * Usage: test_faults [substring]  (runs the cells whose "row/transport"
 * contains it). EMFILE, ENOMEM and destroy-from-every-event are other
 * tests' rows (see docs/fault-matrix.md).
 */
#include "harness.h"
/* For closed_port() and new_loop()/end_loop(); its test server is not used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "socket_recorder.h"
#pragma GCC diagnostic pop

#include <cnet/uv.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#if FAULTS_TLS
#include "tls_fixtures.h"
#include "tls_pair.h"
static tls_pki_t pki;
#endif
static cnet_tls_context_t *server_ctx, *client_ctx;

typedef enum { T_TCP4, T_TCP6, T_UNIX, T_TLS, T__COUNT } transport_t;
static const char *const tname[T__COUNT] = {"tcp4", "tcp6", "unix", "tls"};

static char tmpdir[64];
static int path_seq;

static double now_ms(void)
{
    return (double)uv_hrtime() / 1e6;
}

static double mult(void)
{
    return test_timeout_multiplier();
}

/* The earliest a timer of @p ms may be seen to fire: libuv starts it from the loop's
 * cached time, which lags a little (a lot under valgrind). */
static double early(double ms)
{
    return mult() > 1 ? ms / 2 : ms - 50;
}

static const char *thost(transport_t t)
{
    return t == T_TCP6 ? "::1" : "127.0.0.1";
}

/* ---- byte pattern: what arrives is checked against what was sent ------------- */

static unsigned char pat(uint64_t i)
{
    return (unsigned char)((i * 131u + (i >> 11)) & 0xff);
}

static void pat_fill(unsigned char *buf, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pat(off + i);
}

/* ---- endpoints, servers, clients --------------------------------------------- */

typedef struct endpoint {
    transport_t t;
    int port;
    char path[108];
} endpoint_t;

static void new_path(endpoint_t *ep)
{
    snprintf(ep->path, sizeof ep->path, "%s/s%d.sock", tmpdir, path_seq++);
}

typedef struct fsrv fsrv_t;
struct fsrv {
    cnet_server_t *srv;
    endpoint_t ep;
    cnet_loop_t *loop;
    /* 'connection' for plain, 'secureConnection' for TLS: the peer can talk now */
    void (*on_peer)(fsrv_t *fs, cnet_socket_t *s);
    void (*on_accept)(fsrv_t *fs, cnet_socket_t *s); /* 'connection', any transport */
    bool tls;
    int conns, peers, tls_errors, tls_err_code, closes;
    char tls_err_msg[128];
    test_log_t log;
    void *user;
};

static void fsrv_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    fsrv_t *fs = arg;
    (void)srv;
    switch (ev->type) {
    case CNET_EVENT_CONNECTION:
        fs->conns++;
        if (fs->on_accept)
            fs->on_accept(fs, ev->connection);
        if (!fs->tls) {
            fs->peers++;
            if (fs->on_peer)
                fs->on_peer(fs, ev->connection);
        }
        break;
    case CNET_EVENT_SECURE_CONNECTION:
        fs->peers++;
        if (fs->on_peer)
            fs->on_peer(fs, ev->connection);
        break;
    case CNET_EVENT_TLS_CLIENT_ERROR:
        fs->tls_errors++;
        fs->tls_err_code = ev->error->code;
        snprintf(fs->tls_err_msg, sizeof fs->tls_err_msg, "%s", ev->error->message);
        test_log_add(&fs->log, "tlsClientError");
        break;
    case CNET_EVENT_CLOSE:
        fs->closes++;
        test_log_add(&fs->log, "server-close");
        break;
    default:
        break;
    }
}

/* A listening server of transport @p t; returns once it listens. */
static void fsrv_start(fsrv_t *fs, cnet_loop_t *loop, transport_t t, const cnet_server_opts_t *so)
{
    cnet_server_opts_t o = so ? *so : (cnet_server_opts_t)CNET_SERVER_OPTS_INIT;
    cnet_address_t a;

    if (t == T_TLS)
        o.tls = server_ctx;
    fs->loop = loop;
    fs->ep.t = t;
    fs->tls = t == T_TLS;
    ASSERT_OK(cnet_server_new(loop, &o, &fs->srv));
    ASSERT_OK(cnet_server_on(fs->srv, CNET_EVENT_CONNECTION, fsrv_cb, fs));
    ASSERT_OK(cnet_server_on(fs->srv, CNET_EVENT_CLOSE, fsrv_cb, fs));
    if (t == T_TLS) {
        ASSERT_OK(cnet_server_on(fs->srv, CNET_EVENT_SECURE_CONNECTION, fsrv_cb, fs));
        ASSERT_OK(cnet_server_on(fs->srv, CNET_EVENT_TLS_CLIENT_ERROR, fsrv_cb, fs));
    }
    if (t == T_UNIX) {
        new_path(&fs->ep);
        ASSERT_OK(cnet_server_listen_path(fs->srv, fs->ep.path, NULL, NULL));
        return;
    }
    ASSERT_OK(cnet_server_listen(fs->srv, 0, thost(t), NULL, NULL));
    for (int i = 0; i < 1000 && !cnet_server_is_listening(fs->srv); i++)
        cnet_loop_run_nowait(loop);
    ASSERT_OK(cnet_server_address(fs->srv, &a));
    fs->ep.port = a.port;
}

/* A client of @p ep's transport (TLS: cnet_tls_connect, verified against the test CA). */
static cnet_socket_t *fconnect(cnet_loop_t *loop, const endpoint_t *ep,
                               const cnet_connect_opts_t *extra)
{
    cnet_connect_opts_t co = extra ? *extra : (cnet_connect_opts_t)CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s = NULL;

    if (ep->t == T_UNIX) {
        co.path = ep->path;
    } else {
        co.port = ep->port;
        if (!co.host)
            co.host = thost(ep->t);
    }
    if (ep->t == T_TLS)
        ASSERT_OK(cnet_tls_connect(loop, &co, client_ctx, NULL, NULL, NULL, &s));
    else
        ASSERT_OK(cnet_create_connection(loop, &co, NULL, NULL, &s));
    return s;
}

/* ---- raw peers (plain sockets the test drives itself) ------------------------- */

static socklen_t raw_addr(const endpoint_t *ep, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (ep->t == T_UNIX) {
        struct sockaddr_un *su = (struct sockaddr_un *)ss;
        su->sun_family = AF_UNIX;
        snprintf(su->sun_path, sizeof su->sun_path, "%s", ep->path);
        return sizeof *su;
    }
    if (ep->t == T_TCP6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_loopback;
        s6->sin6_port = htons((uint16_t)ep->port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s4->sin_port = htons((uint16_t)ep->port);
    return sizeof *s4;
}

static int raw_family(transport_t t)
{
    return t == T_UNIX ? AF_UNIX : t == T_TCP6 ? AF_INET6 : AF_INET;
}

/* A raw socket bound to @p ep's kind (port 0 / a new path), listening with @p backlog
 * unless it is negative (bound, never listening: connects are refused). */
static int raw_bind(transport_t t, int backlog, endpoint_t *ep)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd = socket(raw_family(t), SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    ep->t = t;
    ep->port = 0;
    if (t == T_UNIX)
        new_path(ep);
    len = raw_addr(ep, &ss);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&ss, len));
    if (backlog >= 0)
        ASSERT_EQ(0, listen(fd, backlog));
    if (t != T_UNIX) {
        len = sizeof ss;
        ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&ss, &len));
        ep->port = ntohs(t == T_TCP6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return fd;
}

/* A blocking connect to @p ep (the kernel completes it without an accept). */
static int raw_connect(const endpoint_t *ep)
{
    struct sockaddr_storage ss;
    socklen_t len = raw_addr(ep, &ss);
    int fd = socket(raw_family(ep->t == T_TLS ? T_TCP4 : ep->t), SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
    return fd;
}

/* Closes with a RST (SO_LINGER 0); on a Unix socket a close with unread bytes. */
static void raw_reset(int fd)
{
    struct linger l = {1, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l); /* ENOPROTOOPT-free on AF_UNIX */
    close(fd);
}

/* ---- a poll timer: calls fn every @p ms until it returns false ----------------- */

typedef struct ptimer {
    uv_timer_t t;
    bool (*fn)(void *arg);
    void *arg;
} ptimer_t;

static void ptimer_closed(uv_handle_t *h)
{
    free(h);
}

static void ptimer_fire(uv_timer_t *t)
{
    ptimer_t *p = (ptimer_t *)t;
    if (!p->fn(p->arg))
        uv_close((uv_handle_t *)t, ptimer_closed);
}

static void ptimer_start(cnet_loop_t *loop, unsigned first_ms, unsigned every_ms,
                         bool (*fn)(void *), void *arg)
{
    ptimer_t *p = calloc(1, sizeof *p);
    ASSERT(p != NULL);
    p->fn = fn;
    p->arg = arg;
    ASSERT_EQ(0, uv_timer_init(cnet_loop_get_uv(loop), &p->t));
    ASSERT_EQ(0, uv_timer_start(&p->t, ptimer_fire, first_ms, every_ms ? every_ms : 1));
}

/* ---- a socket's event recorder ------------------------------------------------- */

typedef struct frec {
    test_log_t log;
    cnet_socket_t *s;
    int closes, errors, timeouts, drains, ends;
    int err_code;
    char err_syscall[32], err_msg[160], err_host[64];
    bool had_error, up; /* up: 'connect' (plain) or 'secureConnect' (TLS) came */
    bool destroy_on_timeout, end_on_end, echo;
    bool connecting_at_timeout;
    double t0, t_up, t_timeout, t_close, t_end;
    uint64_t received;
    bool check_pattern;
    void (*hook)(struct frec *r, cnet_socket_t *s, const cnet_event_t *ev);
    void *user;
} frec_t;

/* The connection can carry data now: 'connect' (plain) or 'secureConnect' (TLS). */
static bool is_up_event(cnet_socket_t *s, const cnet_event_t *ev)
{
    return (ev->type == CNET_EVENT_CONNECT && !cnet_socket_is_tls(s)) ||
           ev->type == CNET_EVENT_SECURE_CONNECT;
}

static void frec_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    frec_t *r = arg;
    char item[64];

    if (r->closes)
        TEST_FAIL_("'%s' after 'close' (log: %s)", cnet_event_name(ev->type),
                   test_log_str(&r->log));
    switch (ev->type) {
    case CNET_EVENT_DATA:
        if (r->check_pattern)
            for (size_t i = 0; i < ev->data.len; i++)
                if ((unsigned char)ev->data.base[i] != pat(r->received + i))
                    TEST_FAIL_("byte %" PRIu64 " differs", r->received + i);
        r->received += ev->data.len;
        if (r->echo)
            ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
        break;
    case CNET_EVENT_ERROR:
        r->errors++;
        r->err_code = ev->error->code;
        cpy(r->err_syscall, sizeof r->err_syscall, ev->error->syscall);
        cpy(r->err_msg, sizeof r->err_msg, ev->error->message);
        cpy(r->err_host, sizeof r->err_host, ev->error->hostname);
        snprintf(item, sizeof item, "error:%s", cnet_err_name(ev->error->code));
        test_log_add(&r->log, item);
        break;
    case CNET_EVENT_LOOKUP:
        snprintf(item, sizeof item, "lookup:%s", ev->error ? cnet_err_name(ev->error->code) : "ok");
        test_log_add(&r->log, item);
        break;
    case CNET_EVENT_CLOSE:
        r->closes++;
        r->had_error = ev->had_error;
        r->t_close = now_ms();
        test_log_add(&r->log, ev->had_error ? "close(true)" : "close(false)");
        break;
    default:
        test_log_add(&r->log, cnet_event_name(ev->type));
        break;
    }
    if (ev->type == CNET_EVENT_DRAIN)
        r->drains++;
    if (ev->type == CNET_EVENT_END) {
        r->ends++;
        r->t_end = now_ms();
    }
    if (is_up_event(s, ev)) {
        r->up = true;
        r->t_up = now_ms();
    }
    if (ev->type == CNET_EVENT_TIMEOUT) {
        r->timeouts++;
        r->t_timeout = now_ms();
        r->connecting_at_timeout = cnet_socket_is_connecting(s);
    }
    if (r->hook)
        r->hook(r, s, ev);
    if (ev->type == CNET_EVENT_TIMEOUT && r->destroy_on_timeout)
        cnet_socket_destroy(s);
    if (ev->type == CNET_EVENT_END && r->end_on_end)
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
}

static void frec_attach(frec_t *r, cnet_socket_t *s)
{
    static const cnet_event_type_t types[] = {
        CNET_EVENT_LOOKUP, CNET_EVENT_CONNECT, CNET_EVENT_READY,          CNET_EVENT_DATA,
        CNET_EVENT_END,    CNET_EVENT_FINISH,  CNET_EVENT_DRAIN,          CNET_EVENT_TIMEOUT,
        CNET_EVENT_ERROR,  CNET_EVENT_CLOSE,   CNET_EVENT_SECURE_CONNECT,
    };
    r->s = s;
    r->t0 = now_ms();
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        ASSERT_OK(cnet_socket_on(s, types[i], frec_cb, r));
}

static void run_dry(cnet_loop_t *loop)
{
    ASSERT_OK(cnet_loop_run(loop));
    if (getenv("FAULTS_VERBOSE") && cnet_loop_alive(loop))
        uv_print_all_handles(cnet_loop_get_uv(loop), stderr);
    end_loop(loop);
}

static bool is_reset_code(int code)
{
    return code == CNET_ECONNRESET || code == CNET_EPIPE;
}

/* ==== 1. peer RST in the middle of a large write ================================ */

#define BIG_CHUNK  (8u << 20)
#define BIG_CHUNKS 4 /* 32 MiB in all */

static unsigned char *big_buf;

typedef struct wcb {
    int calls[BIG_CHUNKS];
    int status[BIG_CHUNKS];
    int order[BIG_CHUNKS], n;
    frec_t *r;
} wcb_t;

typedef struct rst_scen {
    cnet_loop_t *loop;
    transport_t t;
    frec_t cr;           /* the writer */
    wcb_t w;             /* its write callbacks */
    int raw_lfd;         /* plain: the raw peer's listening socket */
    fsrv_t fs;           /* TLS: the peer is a cnet TLS server */
    cnet_socket_t *peer; /* ... its socket (paused, never reads) */
    size_t last_len;
    int stable_polls;
    bool reset_done;
    size_t queued_at_reset;
    int nchunks;
} rst_scen_t;

typedef struct wcb_arg {
    wcb_t *w;
    int i;
} wcb_arg_t;
static wcb_arg_t wargs[BIG_CHUNKS];

static void big_write_cb(cnet_socket_t *s, int status, void *arg)
{
    wcb_arg_t *a = arg;
    (void)s;
    ASSERT_EQ(0, a->w->r->closes); /* before 'close' */
    a->w->calls[a->i]++;
    a->w->status[a->i] = status;
    a->w->order[a->w->n++] = a->i;
}

static bool rst_poll(void *arg)
{
    rst_scen_t *sc = arg;
    size_t len = cnet_socket_writable_length(sc->cr.s);

    if (!sc->cr.up || (sc->t == T_TLS && !sc->peer))
        return true;
    /* Stalled: bytes queued and none taken for three polls (the peer reads nothing). */
    if (len == 0 || len != sc->last_len) {
        sc->last_len = len;
        sc->stable_polls = 0;
        return true;
    }
    if (++sc->stable_polls < 3)
        return true;
    sc->queued_at_reset = len;
    sc->reset_done = true;
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr,
                "reset after %.0f ms (up after %.0f), %zu bytes queued, peer read %" PRIu64 "\n",
                now_ms() - sc->cr.t0, sc->cr.t_up - sc->cr.t0, len,
                sc->peer ? cnet_socket_bytes_read(sc->peer) : 0);
    if (sc->t == T_TLS) {
        ASSERT_OK(cnet_socket_reset_and_destroy(sc->peer));
        ASSERT_OK(cnet_server_close(sc->fs.srv, NULL, NULL));
    } else {
        int fd = accept(sc->raw_lfd, NULL, NULL);
        ASSERT(fd >= 0);
        raw_reset(fd);
        close(sc->raw_lfd);
    }
    return false;
}

static void rst_peer(fsrv_t *fs, cnet_socket_t *s)
{
    rst_scen_t *sc = fs->user;
    cnet_socket_pause(s); /* never reads again */
    sc->peer = s;
}

static void row_reset_mid_write(transport_t t)
{
    rst_scen_t sc;
    endpoint_t ep;
    cnet_buf_t b;

    memset(&sc, 0, sizeof sc);
    sc.t = t;
    /* 32 MiB; 8 under valgrind over TLS, whose encryption is slow there. */
    sc.nchunks = t == T_TLS && mult() > 1 ? 1 : BIG_CHUNKS;
    sc.loop = new_loop();
    if (!big_buf) {
        big_buf = malloc(BIG_CHUNK);
        ASSERT(big_buf != NULL);
        pat_fill(big_buf, 0, BIG_CHUNK);
    }
    if (t == T_TLS) {
        sc.fs.user = &sc;
        sc.fs.on_peer = rst_peer;
        fsrv_start(&sc.fs, sc.loop, t, NULL);
        ep = sc.fs.ep;
    } else {
        sc.raw_lfd = raw_bind(t, 1, &ep); /* connected by the kernel, accepted at the reset */
    }
    sc.w.r = &sc.cr;
    cnet_socket_t *c = fconnect(sc.loop, &ep, NULL);
    frec_attach(&sc.cr, c);
    b.base = big_buf;
    b.len = BIG_CHUNK;
    for (int i = 0; i < sc.nchunks; i++) {
        wargs[i].w = &sc.w;
        wargs[i].i = i;
        ASSERT(cnet_socket_write_ex(c, &b, 1, CNET_BUF_STATIC, big_write_cb, &wargs[i]) >= 0);
    }
    ptimer_start(sc.loop, 20, 20, rst_poll, &sc);
    run_dry(sc.loop);

    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "writer: %s; write callbacks: %s %s %s %s\n", test_log_str(&sc.cr.log),
                cnet_err_name(sc.w.status[0]), cnet_err_name(sc.w.status[1]),
                cnet_err_name(sc.w.status[2]), cnet_err_name(sc.w.status[3]));
    /* The reset came while the writer was stuck with bytes queued. */
    ASSERT(sc.reset_done);
    ASSERT(sc.queued_at_reset > 0);
    /* node: 'error' ECONNRESET (or EPIPE, the write's), then 'close'(true), once each. */
    ASSERT_EQ(1, sc.cr.errors);
    if (!is_reset_code(sc.cr.err_code))
        TEST_FAIL_("error %s, expected ECONNRESET or EPIPE (log: %s)",
                   cnet_err_name(sc.cr.err_code), test_log_str(&sc.cr.log));
    ASSERT_EQ(1, sc.cr.closes);
    ASSERT(sc.cr.had_error);
    /* Every write callback exactly once, in write order, each with an error: the
     * batch never reached the kernel whole (the peer read nothing), so each write was
     * cancelled by the destroy (CNET_ECANCELED, docs/node-differences.md: node passes
     * the socket's error) or failed itself (EPIPE). */
    ASSERT_EQ(sc.nchunks, sc.w.n);
    for (int i = 0; i < sc.nchunks; i++) {
        ASSERT_EQ(1, sc.w.calls[i]);
        ASSERT_EQ(i, sc.w.order[i]);
        if (!is_reset_code(sc.w.status[i]) && sc.w.status[i] != CNET_ECANCELED)
            TEST_FAIL_("write %d: status %d %s, expected an error", i, sc.w.status[i],
                       cnet_err_name(sc.w.status[i]));
    }
    if (t == T_TLS) {
        ASSERT_EQ(1, sc.fs.closes);
        ASSERT_EQ(0, sc.fs.tls_errors);
    }
}

/* ==== 2. RST in the middle of a TLS handshake ==================================== */

typedef struct hs_scen {
    cnet_loop_t *loop;
    int lfd, fd;
    frec_t cr;
    fsrv_t fs;
    int polls_after;
    bool done;
} hs_scen_t;

/* Client side: the raw server reads the ClientHello's first bytes, then resets. */
static bool hs_client_poll(void *arg)
{
    hs_scen_t *sc = arg;
    char buf[16];

    if (sc->fd < 0) {
        sc->fd = accept4(sc->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (sc->fd < 0) {
            ASSERT(errno == EAGAIN || errno == EWOULDBLOCK);
            return true;
        }
    }
    if (recv(sc->fd, buf, sizeof buf, MSG_PEEK) < 5)
        return true;
    ASSERT_EQ(0x16, (unsigned char)buf[0]); /* a handshake record */
    raw_reset(sc->fd);
    close(sc->lfd);
    sc->done = true;
    return false;
}

static void row_reset_mid_handshake_client(transport_t t)
{
    hs_scen_t sc;
    endpoint_t ep;

    (void)t;
    memset(&sc, 0, sizeof sc);
    sc.fd = -1;
    sc.loop = new_loop();
    sc.lfd = raw_bind(T_TCP4, 8, &ep);
    ASSERT_EQ(0, fcntl(sc.lfd, F_SETFL, O_NONBLOCK));
    ep.t = T_TLS;
    frec_attach(&sc.cr, fconnect(sc.loop, &ep, NULL));
    ptimer_start(sc.loop, 5, 5, hs_client_poll, &sc);
    run_dry(sc.loop);
    ASSERT(sc.done);
    /* node v20: connect, then 'error' ECONNRESET "read ECONNRESET", 'close'(true). */
    ASSERT_STR_EQ("connect ready error:ECONNRESET close(true)", test_log_str(&sc.cr.log));
    ASSERT_STR_EQ("read", sc.cr.err_syscall);
    ASSERT_STR_EQ("read ECONNRESET", sc.cr.err_msg);
}

/* Server side: a raw client sends part of a ClientHello and resets. */
static void hs_accept(fsrv_t *fs, cnet_socket_t *s)
{
    hs_scen_t *sc = fs->user;
    frec_attach(&sc->cr, s);
}

static bool hs_server_poll(void *arg)
{
    hs_scen_t *sc = arg;
    /* A record header announcing 200 bytes, and the start of a ClientHello. */
    static const unsigned char part[] = {0x16, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3};

    if (sc->fd < 0) {
        sc->fd = raw_connect(&sc->fs.ep);
        ASSERT_EQ((ssize_t)sizeof part, send(sc->fd, part, sizeof part, MSG_NOSIGNAL));
        return true;
    }
    if (!sc->fs.conns || ++sc->polls_after < 3) /* let the server read what came */
        return true;
    raw_reset(sc->fd);
    sc->done = true;
    return false;
}

static void hs_server_closer(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    hs_scen_t *sc = r->user;
    (void)s;
    if (ev->type == CNET_EVENT_CLOSE)
        ASSERT_OK(cnet_server_close(sc->fs.srv, NULL, NULL));
}

static void row_reset_mid_handshake_server(transport_t t)
{
    hs_scen_t sc;

    memset(&sc, 0, sizeof sc);
    sc.fd = -1;
    sc.loop = new_loop();
    sc.fs.user = &sc;
    sc.fs.on_accept = hs_accept;
    sc.cr.hook = hs_server_closer;
    sc.cr.user = &sc;
    fsrv_start(&sc.fs, sc.loop, t, NULL);
    sc.fs.ep.t = T_TCP4; /* the raw client speaks plain TCP */
    ptimer_start(sc.loop, 1, 5, hs_server_poll, &sc);
    run_dry(sc.loop);
    ASSERT(sc.done);
    /* node v20: 'tlsClientError' ECONNRESET "read ECONNRESET", no 'secureConnection';
     * the socket closes without an 'error' of its own. */
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "server: %s | socket: %s\n", test_log_str(&sc.fs.log),
                test_log_str(&sc.cr.log));
    ASSERT_EQ(1, sc.fs.conns);
    ASSERT_EQ(0, sc.fs.peers);
    ASSERT_EQ(1, sc.fs.tls_errors);
    ASSERT_STR_EQ("ECONNRESET", cnet_err_name(sc.fs.tls_err_code));
    ASSERT_STR_EQ("read ECONNRESET", sc.fs.tls_err_msg);
    ASSERT_STR_EQ("tlsClientError server-close", test_log_str(&sc.fs.log));
    ASSERT_EQ(0, sc.cr.errors);
    ASSERT_EQ(1, sc.cr.closes);
}

/* ==== 3. a peer that never reads ================================================= */

#define NR_CHUNK   (64u << 10)
#define NR_HWM     (16u << 10)
#define NR_IGNORED 128 /* 8 MiB written at once, ignoring write()'s 1 */

typedef struct nr_scen {
    cnet_loop_t *loop;
    transport_t t;
    fsrv_t fs;
    frec_t cr, pr; /* writer, peer */
    cnet_socket_t *peer;
    uint64_t written;
    size_t max_queued;
    int writes, ones;
    double last_progress;
    bool stalled, ignore_drain;
    size_t queued_before_resume, queued_after_burst;
    unsigned char chunk[NR_CHUNK];
} nr_scen_t;

static void nr_write_some(nr_scen_t *sc)
{
    for (;;) {
        pat_fill(sc->chunk, sc->written, NR_CHUNK);
        int rc = cnet_socket_write(sc->cr.s, sc->chunk, NR_CHUNK, NULL, NULL);
        ASSERT(rc >= 0);
        sc->written += NR_CHUNK;
        sc->writes++;
        if (cnet_socket_writable_length(sc->cr.s) > sc->max_queued)
            sc->max_queued = cnet_socket_writable_length(sc->cr.s);
        if (rc == 1) {
            sc->ones++;
            return;
        }
        ASSERT(sc->written < (256u << 20)); /* the peer does read: the test is broken */
    }
}

static void nr_writer_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    nr_scen_t *sc = r->user;
    (void)s;
    if (ev->type == CNET_EVENT_DRAIN && !sc->stalled && !sc->ignore_drain) {
        sc->last_progress = now_ms();
        nr_write_some(sc);
    }
    if (ev->type == CNET_EVENT_DRAIN && sc->ignore_drain) {
        ASSERT(sc->stalled); /* the one 'drain': after the peer started reading */
        ASSERT_EQ(0, cnet_socket_writable_length(s));
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    }
}

static void nr_peer(fsrv_t *fs, cnet_socket_t *s)
{
    nr_scen_t *sc = fs->user;
    cnet_socket_pause(s);
    sc->peer = s;
    sc->pr.check_pattern = true;
    sc->pr.end_on_end = true;
    frec_attach(&sc->pr, s);
    ASSERT_OK(cnet_server_close(fs->srv, NULL, NULL));
}

static void nr_start_writing(nr_scen_t *sc)
{
    sc->last_progress = now_ms();
    if (!sc->ignore_drain) {
        nr_write_some(sc);
        return;
    }
    /* All at once: every write is accepted and queued; from the first 1 on, each
     * adds exactly its bytes to writableLength (nothing more reaches the kernel
     * before the loop runs again) and returns 1 again. */
    for (int i = 0; i < NR_IGNORED; i++) {
        size_t before = cnet_socket_writable_length(sc->cr.s);
        pat_fill(sc->chunk, sc->written, NR_CHUNK);
        int rc = cnet_socket_write(sc->cr.s, sc->chunk, NR_CHUNK, NULL, NULL);
        ASSERT(rc == 0 || rc == 1);
        sc->written += NR_CHUNK;
        if (sc->ones) {
            size_t grew = cnet_socket_writable_length(sc->cr.s) - before;
            ASSERT_EQ(1, rc);
            /* TLS counts the queued ciphertext: a few bytes more per record
             * (docs/node-differences.md). */
            if (sc->t == T_TLS)
                ASSERT(grew >= NR_CHUNK && grew <= NR_CHUNK + 4 * 64);
            else
                ASSERT_EQ(NR_CHUNK, grew);
        }
        if (rc == 1)
            sc->ones++;
    }
    ASSERT(sc->ones > 0);
    ASSERT(cnet_socket_writable_need_drain(sc->cr.s));
    sc->queued_after_burst = cnet_socket_writable_length(sc->cr.s);
    ASSERT(sc->queued_after_burst >= (size_t)(sc->ones - 1) * NR_CHUNK);
}

static bool nr_poll(void *arg)
{
    nr_scen_t *sc = arg;

    if (!sc->cr.up || !sc->peer)
        return true;
    if (!sc->writes && !sc->ones) {
        sc->writes = -1; /* started */
        nr_start_writing(sc);
        return true;
    }
    if (!sc->stalled) {
        if (cnet_socket_writable_length(sc->cr.s) > sc->max_queued)
            sc->max_queued = cnet_socket_writable_length(sc->cr.s);
        if (now_ms() - sc->last_progress < 120)
            return true;
        /* No 'drain' for 120 ms: the kernel's buffers are full. */
        sc->stalled = true;
        sc->queued_before_resume = cnet_socket_writable_length(sc->cr.s);
        ASSERT(sc->queued_before_resume > 0);
        ASSERT_EQ(0, sc->pr.received); /* the peer really read nothing */
        cnet_socket_resume(sc->peer);
        if (!sc->ignore_drain) /* that one ends on its 'drain' */
            ASSERT_OK(cnet_socket_end(sc->cr.s, NULL, 0, NULL, NULL));
        return false;
    }
    return false;
}

static void row_never_reads(transport_t t, bool ignore_drain)
{
    nr_scen_t *sc = calloc(1, sizeof *sc);
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;

    ASSERT(sc != NULL);
    sc->t = t;
    sc->ignore_drain = ignore_drain;
    sc->loop = new_loop();
    sc->fs.user = sc;
    sc->fs.on_peer = nr_peer;
    fsrv_start(&sc->fs, sc->loop, t, NULL);
    sc->cr.hook = nr_writer_hook;
    sc->cr.user = sc;
    cnet_socket_t *c = fconnect(sc->loop, &sc->fs.ep, &co);
    ASSERT_OK(cnet_socket_set_high_water_mark(c, NR_HWM));
    frec_attach(&sc->cr, c);
    ptimer_start(sc->loop, 10, 10, nr_poll, sc);
    run_dry(sc->loop);

    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "written %" PRIu64 " max queued %zu queued at stall %zu ones %d\n",
                sc->written, sc->max_queued, sc->queued_before_resume, sc->ones);
    ASSERT(sc->stalled);
    ASSERT_EQ(0, sc->cr.errors);
    ASSERT_EQ(0, sc->pr.errors);
    /* Nothing lost: once the peer reads, every byte arrives, in order. */
    ASSERT_EQ(sc->written, sc->pr.received);
    ASSERT_EQ(1, sc->pr.ends);
    ASSERT_EQ(1, sc->cr.closes);
    ASSERT_EQ(1, sc->pr.closes);
    if (!ignore_drain) {
        /* Memory bounded: never more than the highWaterMark plus one chunk queued. */
        if (sc->max_queued > NR_HWM + NR_CHUNK)
            TEST_FAIL_("%zu bytes queued, bound %u", sc->max_queued, NR_HWM + NR_CHUNK);
        ASSERT(sc->ones > 0);
        /* One 'drain' per write() that returned 1 (the last one came after the end). */
        ASSERT(sc->cr.drains >= sc->ones - 1 && sc->cr.drains <= sc->ones);
    } else {
        /* Documented (cnet_socket_write()): nothing is refused, the queue holds what
         * the kernel did not take, and one 'drain' comes once it is flushed. */
        ASSERT(sc->ones >= 4); /* the kernel's buffers took a few MiB at most */
        ASSERT(sc->queued_before_resume <= sc->queued_after_burst);
        ASSERT_EQ(1, sc->cr.drains);
    }
    free(sc);
}

static void row_never_reads_drain(transport_t t)
{
    row_never_reads(t, false);
}

static void row_never_reads_ignore(transport_t t)
{
    row_never_reads(t, true);
}

/* ==== 4. a half-open peer that never closes; a silent peer ======================= */

#define IDLE_MS 100

typedef struct ho_scen {
    cnet_loop_t *loop;
    fsrv_t fs;
    frec_t sr, cr; /* our (server) side with setTimeout, the peer (client) */
    bool peer_fin;
} ho_scen_t;

static void ho_accept(fsrv_t *fs, cnet_socket_t *s)
{
    ho_scen_t *sc = fs->user;
    sc->sr.destroy_on_timeout = true; /* the user's cleanup */
    frec_attach(&sc->sr, s);
    ASSERT_OK(cnet_socket_set_timeout(s, IDLE_MS, NULL, NULL));
    ASSERT_OK(cnet_server_close(fs->srv, NULL, NULL));
}

static void ho_client_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    ho_scen_t *sc = r->user;
    if (is_up_event(s, ev) && sc->peer_fin)
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL)); /* FIN, then silence */
}

static void row_half_open(transport_t t, bool peer_fin, bool allow_half_open)
{
    ho_scen_t sc;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;

    memset(&sc, 0, sizeof sc);
    sc.peer_fin = peer_fin;
    sc.loop = new_loop();
    so.allow_half_open = allow_half_open;
    sc.fs.user = &sc;
    sc.fs.on_peer = ho_accept; /* TLS: once the handshake is done (slow under valgrind) */
    fsrv_start(&sc.fs, sc.loop, t, &so);
    co.allow_half_open = true; /* the peer never closes by itself */
    sc.cr.hook = ho_client_hook;
    sc.cr.user = &sc;
    sc.cr.end_on_end = true; /* once our side is gone, the peer goes too */
    frec_attach(&sc.cr, fconnect(sc.loop, &sc.fs.ep, &co));
    run_dry(sc.loop);

    ASSERT_EQ(1, sc.sr.closes);
    ASSERT_EQ(0, sc.sr.errors);
    ASSERT_EQ(1, sc.cr.closes);
    if (peer_fin && !allow_half_open) {
        /* node: 'end', our own end follows at once, then 'close': no timeout needed. */
        ASSERT_EQ(0, sc.sr.timeouts);
        ASSERT_STR_EQ("end finish close(false)", test_log_str(&sc.sr.log));
        return;
    }
    /* The timeout fires after IDLE_MS of silence (after the FIN: our side stays open,
     * as node's with allowHalfOpen), and the destroy in its listener frees it all. */
    ASSERT_EQ(1, sc.sr.timeouts);
    ASSERT_STR_EQ(peer_fin ? "end timeout close(false)" : "timeout close(false)",
                  test_log_str(&sc.sr.log));
    double idle = sc.sr.t_timeout - (peer_fin ? sc.sr.t_end : sc.sr.t0);
    if (idle < early(IDLE_MS) || idle > IDLE_MS + 1000 * mult())
        TEST_FAIL_("timeout after %.0f ms of silence, expected %d", idle, IDLE_MS);
    ASSERT(sc.cr.ends == 1); /* the destroy's FIN reached the peer */
}

static void row_half_open_on(transport_t t)
{
    row_half_open(t, true, true);
}

static void row_half_open_off(transport_t t)
{
    row_half_open(t, true, false);
}

static void row_silent_peer(transport_t t)
{
    row_half_open(t, false, false);
    row_half_open(t, false, true);
}

/* ==== 5. slowloris ============================================================== */

#define SLOW_N 20
/* TLS under valgrind: 20 handshakes take seconds there, so its times are 4x longer. */
static unsigned slow_k = 1;
#define SLOW_TIMEOUT_MS (300 * slow_k)
#define SLOW_DRIP_MS    (400 * slow_k) /* slower than the idle timeout: each byte comes too late */
#define PING_MS         (50 * slow_k)

typedef struct slow_scen slow_scen_t;
typedef struct slow_client {
    slow_scen_t *sc;
    frec_t r;
    int sent;
} slow_client_t;

struct slow_scen {
    cnet_loop_t *loop;
    fsrv_t fs;
    slow_client_t slow[SLOW_N];
    frec_t fast; /* the normal client */
    int server_timeouts, server_closes, slow_done, nslow, pings, pongs;
    double ping_sent, max_rtt, t0;
    bool fast_dropped, pong_pending;
    frec_t srec[SLOW_N + 1];
    int nsrec;
};

static void slow_srv_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    slow_scen_t *sc = r->user;
    (void)s;
    if (ev->type == CNET_EVENT_TIMEOUT)
        sc->server_timeouts++;
    if (ev->type == CNET_EVENT_CLOSE && ++sc->server_closes == SLOW_N + 1)
        ASSERT_OK(cnet_server_close(sc->fs.srv, NULL, NULL));
}

static void slow_accept(fsrv_t *fs, cnet_socket_t *s)
{
    slow_scen_t *sc = fs->user;
    frec_t *r = &sc->srec[sc->nsrec++];
    ASSERT(sc->nsrec <= SLOW_N + 1);
    r->echo = true;
    r->destroy_on_timeout = true;
    r->hook = slow_srv_hook;
    r->user = sc;
    frec_attach(r, s);
    ASSERT_OK(cnet_socket_set_timeout(s, SLOW_TIMEOUT_MS, NULL, NULL));
}

static bool slow_drip(void *arg)
{
    slow_client_t *c = arg;
    if (c->r.closes)
        return false;
    if (!c->r.up)
        return true;
    ASSERT(cnet_socket_write(c->r.s, "x", 1, NULL, NULL) >= 0);
    c->sent++;
    return true;
}

/* The drip starts once the connection is up (a TLS handshake takes a while with 21). */
static void slow_client_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    slow_client_t *c = r->user;
    if (ev->type == CNET_EVENT_CLOSE)
        c->sc->slow_done++;
    if (is_up_event(s, ev))
        ptimer_start(c->sc->loop, SLOW_DRIP_MS, SLOW_DRIP_MS, slow_drip, c);
}

static bool fast_ping(void *arg)
{
    slow_scen_t *sc = arg;
    if (sc->fast.closes)
        return false;
    if (!sc->fast.up)
        return true;
    /* Served all along: it ends once every slow client is gone. */
    if (sc->slow_done == SLOW_N && !sc->pong_pending) {
        ASSERT_OK(cnet_socket_end(sc->fast.s, NULL, 0, NULL, NULL));
        return false;
    }
    if (sc->pong_pending)
        return true;
    sc->ping_sent = now_ms();
    sc->pong_pending = true;
    sc->pings++;
    ASSERT(cnet_socket_write(sc->fast.s, "ping", 4, NULL, NULL) >= 0);
    return true;
}

/* The slow clients come once the normal one is up (its own TLS handshake must not
 * queue behind 20 others: the server would rightly drop it after 300 ms too). */
static bool slow_client_next(void *arg)
{
    slow_scen_t *sc = arg;
    slow_client_t *c = &sc->slow[sc->nslow++];
    c->sc = sc;
    c->r.hook = slow_client_hook;
    c->r.user = c;
    frec_attach(&c->r, fconnect(sc->loop, &sc->fs.ep, NULL));
    ASSERT(cnet_socket_write(c->r.s, "G", 1, NULL, NULL) >= 0); /* the first byte */
    return sc->nslow < SLOW_N;
}

/* One every 5 ms, so that 20 TLS handshakes (slow under ASan) do not hold the loop
 * for longer than the timeouts at once. */
static void slow_clients_start(slow_scen_t *sc)
{
    ptimer_start(sc->loop, 0, 5 * slow_k, slow_client_next, sc);
}

static void fast_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    slow_scen_t *sc = r->user;
    if (is_up_event(s, ev))
        slow_clients_start(sc);
    if (ev->type == CNET_EVENT_DATA && r->received % 4 == 0 && sc->pong_pending) {
        double rtt = now_ms() - sc->ping_sent;
        sc->pong_pending = false;
        sc->pongs++;
        if (rtt > sc->max_rtt)
            sc->max_rtt = rtt;
    }
    if (ev->type == CNET_EVENT_END && !cnet_socket_writable_ended(s))
        sc->fast_dropped = true;
}

static void row_slowloris(transport_t t)
{
    slow_scen_t *sc = calloc(1, sizeof *sc);

    ASSERT(sc != NULL);
    slow_k = t == T_TLS && mult() > 1 ? 4 : 1;
    sc->loop = new_loop();
    sc->fs.user = sc;
    /* The idle timeout starts once a TLS handshake is done (a server bounds the
     * handshake with handshake_timeout_ms). */
    sc->fs.on_peer = slow_accept;
    fsrv_start(&sc->fs, sc->loop, t, NULL);
    sc->t0 = now_ms();
    sc->fast.hook = fast_hook;
    sc->fast.user = sc;
    frec_attach(&sc->fast, fconnect(sc->loop, &sc->fs.ep, NULL));
    ptimer_start(sc->loop, 5, PING_MS, fast_ping, sc);
    run_dry(sc->loop);

    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "pings %d, slowest echo %.2f ms\n", sc->pings, sc->max_rtt);
    /* Every slow client was dropped by its connection's timeout, once (the server's
     * destroy: a FIN): not before the timeout, and the drip, slower than the timeout,
     * kept none alive (a byte or two may cross the drop on a loaded loop). */
    ASSERT_EQ(SLOW_N, sc->server_timeouts);
    for (int i = 0; i < SLOW_N; i++) {
        slow_client_t *c = &sc->slow[i];
        double life = c->r.t_close - c->r.t_up;
        /* The FIN, or a RST when a dripped byte crossed it (the peer had closed). */
        bool fin = c->r.ends == 1 && c->r.errors == 0;
        bool crossed = c->sent > 0 && c->r.errors == 1 && is_reset_code(c->r.err_code);
        if (c->r.closes != 1 || c->sent > 2 || !(fin || crossed) || life < early(SLOW_TIMEOUT_MS) ||
            life > SLOW_TIMEOUT_MS + 2 * SLOW_DRIP_MS + 300 * mult())
            TEST_FAIL_("slow client %d: %d bytes dripped, dropped %.0f ms after it was up "
                       "(log: %s)",
                       i, c->sent, life, test_log_str(&c->r.log));
    }
    /* The normal client was served all along, promptly, and never dropped. */
    ASSERT(!sc->fast_dropped);
    ASSERT_EQ(0, sc->fast.timeouts);
    ASSERT_EQ(0, sc->fast.errors);
    ASSERT(sc->pongs >= 5);
    ASSERT_EQ(sc->pings, sc->pongs);
    if (sc->max_rtt > 200 * slow_k * mult()) /* well within the others' 300 ms timeout */
        TEST_FAIL_("echo took %.1f ms", sc->max_rtt);
    ASSERT_EQ(1, sc->fs.closes);
    free(sc);
}

/* ==== 6. connects that fail: refused, a name that does not resolve, no answer ==== */

static void row_refused(transport_t t)
{
    cnet_loop_t *loop = new_loop();
    frec_t r;
    endpoint_t ep;
    int fd = -1;

    memset(&r, 0, sizeof r);
    if (t == T_TCP4 || t == T_TLS) {
        ep.t = t;
        ep.port = closed_port(); /* bound, never listening, until the process exits */
    } else {
        fd = raw_bind(t, -1, &ep); /* ::1 port, or a socket file, bound, not listening */
    }
    frec_attach(&r, fconnect(loop, &ep, NULL));
    run_dry(loop);
    ASSERT_STR_EQ("error:ECONNREFUSED close(true)", test_log_str(&r.log));
    ASSERT_STR_EQ("connect", r.err_syscall);
    if (fd >= 0)
        close(fd);
    if (t == T_UNIX) {
        /* No socket file at all: ENOENT, as node. */
        loop = new_loop();
        memset(&r, 0, sizeof r);
        unlink(ep.path);
        frec_attach(&r, fconnect(loop, &ep, NULL));
        run_dry(loop);
        ASSERT_STR_EQ("error:ENOENT close(true)", test_log_str(&r.log));
    }
}

static int lookups;
static char looked_up[64];

/* The resolver: no name resolves, and nothing leaves the machine. */
static void no_such_name(cnet_lookup_req_t *req, const char *hostname,
                         const cnet_lookup_info_t *info, void *arg)
{
    (void)info;
    (void)arg;
    lookups++;
    snprintf(looked_up, sizeof looked_up, "%s", hostname);
    ASSERT_OK(cnet_lookup_done(req, CNET_ENOTFOUND, NULL, 0));
}

static void row_enotfound(transport_t t)
{
    cnet_loop_t *loop = new_loop();
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    frec_t r;
    endpoint_t ep = {.t = t, .port = 9};

    memset(&r, 0, sizeof r);
    lookups = 0;
    co.host = "no-such-host.invalid";
    co.lookup = no_such_name;
    co.family = t == T_TCP6 ? 6 : 0;
    frec_attach(&r, fconnect(loop, &ep, &co));
    run_dry(loop);
    ASSERT_EQ(1, lookups);
    ASSERT_STR_EQ("no-such-host.invalid", looked_up);
    /* node: 'lookup' with the error, then 'error' ENOTFOUND (hostname set), 'close'. */
    ASSERT_STR_EQ("lookup:ENOTFOUND error:ENOTFOUND close(true)", test_log_str(&r.log));
    ASSERT_STR_EQ("no-such-host.invalid", r.err_host);
}

/* A listener whose accept queue is full: the kernel drops further SYNs. */
static int full_listener(transport_t t, endpoint_t *ep, int *fill, int *nfill)
{
    struct sockaddr_storage ss;
    int lfd = raw_bind(t, 0, ep);
    socklen_t len = raw_addr(ep, &ss);

    *nfill = 0;
    for (int i = 0; i < 8; i++) {
        int fd = socket(raw_family(t), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT(fd >= 0);
        if (connect(fd, (struct sockaddr *)&ss, len) != 0)
            ASSERT_EQ(EINPROGRESS, errno);
        fill[(*nfill)++] = fd;
    }
    usleep(20000); /* the handshakes that fit complete */
    return lfd;
}

#define CONNECT_TIMEOUT_MS 200

static void row_no_answer(transport_t t)
{
    cnet_loop_t *loop;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    frec_t r;
    endpoint_t ep;
    int fill[8], nfill, lfd;

    memset(&r, 0, sizeof r);
    lfd = full_listener(t == T_TLS ? T_TCP4 : t, &ep, fill, &nfill);
    loop = new_loop(); /* after the sleep: its cached time is now */
    ep.t = t;
    co.timeout_ms = CONNECT_TIMEOUT_MS; /* node's net.connect({timeout}) */
    r.destroy_on_timeout = true;
    frec_attach(&r, fconnect(loop, &ep, &co));
    run_dry(loop);
    /* node v20: 'timeout' while still connecting; the user's destroy closes it,
     * without an error. */
    ASSERT_STR_EQ("timeout close(false)", test_log_str(&r.log));
    ASSERT(r.connecting_at_timeout);
    double dt = r.t_timeout - r.t0;
    if (dt < early(CONNECT_TIMEOUT_MS) || dt > CONNECT_TIMEOUT_MS + 1000 * mult())
        TEST_FAIL_("timeout after %.0f ms, expected %d", dt, CONNECT_TIMEOUT_MS);
    for (int i = 0; i < nfill; i++)
        close(fill[i]);
    close(lfd);
}

/* TLS: the TCP connect succeeds but the server never answers the ClientHello. */
static void row_no_answer_handshake(transport_t t)
{
    cnet_loop_t *loop = new_loop();
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    frec_t r;
    endpoint_t ep;
    int lfd = raw_bind(T_TCP4, 8, &ep); /* never accepts, never answers */

    memset(&r, 0, sizeof r);
    ep.t = t;
    co.timeout_ms = CONNECT_TIMEOUT_MS;
    r.destroy_on_timeout = true;
    frec_attach(&r, fconnect(loop, &ep, &co));
    run_dry(loop);
    ASSERT_STR_EQ("connect ready timeout close(false)", test_log_str(&r.log));
    double dt = r.t_timeout - r.t0;
    if (dt < early(CONNECT_TIMEOUT_MS) || dt > CONNECT_TIMEOUT_MS + 1000 * mult())
        TEST_FAIL_("timeout after %.0f ms, expected %d", dt, CONNECT_TIMEOUT_MS);
    close(lfd);
}

/* ==== 7. server close with active connections ==================================== */

typedef struct sc_scen {
    cnet_loop_t *loop;
    transport_t t;
    fsrv_t fs;
    frec_t a, b, conn; /* the open client, the late one, the server's socket */
    int phase;
    bool closed_cb;
    test_log_t order;
} sc_scen_t;

static void sc_server_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    sc_scen_t *sc = arg;
    (void)srv;
    ASSERT(ev->error == NULL);
    sc->closed_cb = true;
    test_log_add(&sc->order, "server-close");
}

static void sc_accept(fsrv_t *fs, cnet_socket_t *s)
{
    sc_scen_t *sc = fs->user;
    sc->conn.echo = true;
    sc->conn.end_on_end = false;
    frec_attach(&sc->conn, s);
}

static void sc_conn_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    sc_scen_t *sc = r->user;
    (void)s;
    if (ev->type == CNET_EVENT_CLOSE)
        test_log_add(&sc->order, "conn-close");
}

static void sc_b_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    sc_scen_t *sc = r->user;
    (void)s;
    if (ev->type != CNET_EVENT_CLOSE)
        return;
    test_log_add(&sc->order, "late-refused");
    /* The open connection still works: one more echo, then it ends. */
    ASSERT(cnet_socket_write(sc->a.s, "two", 3, NULL, NULL) >= 0);
    sc->phase = 2;
}

static void sc_a_hook(frec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    sc_scen_t *sc = r->user;
    if (ev->type == CNET_EVENT_DATA && sc->phase == 0 && r->received == 3) {
        /* Echo works; close the server with this connection open. */
        sc->phase = 1;
        ASSERT_OK(cnet_server_close(sc->fs.srv, sc_server_closed, sc));
        ASSERT(!cnet_server_is_listening(sc->fs.srv));
        sc->b.hook = sc_b_hook;
        sc->b.user = sc;
        frec_attach(&sc->b, fconnect(sc->loop, &sc->fs.ep, NULL));
    } else if (ev->type == CNET_EVENT_DATA && sc->phase == 2 && r->received == 6) {
        test_log_add(&sc->order, "echo-after-close");
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
    }
}

static void row_server_close(transport_t t)
{
    sc_scen_t sc;

    memset(&sc, 0, sizeof sc);
    sc.t = t;
    sc.loop = new_loop();
    sc.fs.user = &sc;
    sc.fs.on_accept = sc_accept;
    sc.conn.hook = sc_conn_hook;
    sc.conn.user = &sc;
    fsrv_start(&sc.fs, sc.loop, t, NULL);
    sc.a.hook = sc_a_hook;
    sc.a.user = &sc;
    frec_attach(&sc.a, fconnect(sc.loop, &sc.fs.ep, NULL));
    ASSERT(cnet_socket_write(sc.a.s, "one", 3, NULL, NULL) >= 0);
    run_dry(sc.loop);

    ASSERT_STR_EQ("late-refused echo-after-close conn-close server-close", test_log_str(&sc.order));
    /* A new connect after close() is refused (the path is gone for a Unix socket). */
    ASSERT_STR_EQ(t == T_UNIX ? "error:ENOENT close(true)" : "error:ECONNREFUSED close(true)",
                  test_log_str(&sc.b.log));
    ASSERT_EQ(1, sc.fs.conns);
    ASSERT_EQ(1, sc.fs.closes);
    ASSERT(sc.closed_cb);
    ASSERT_EQ(6, sc.a.received);
    ASSERT_EQ(0, sc.a.errors);
    ASSERT_EQ(0, sc.conn.errors);
    if (t == T_UNIX) {
        struct stat st;
        ASSERT(stat(sc.fs.ep.path, &st) != 0);
    }
}

/* ==== the table ================================================================= */

#define TCP4 (1u << T_TCP4)
#define TCP6 (1u << T_TCP6)
#define UNIX (1u << T_UNIX)
#define TLS  (1u << T_TLS)
#define ALL  (TCP4 | TCP6 | UNIX | TLS)

typedef struct row {
    const char *name;
    void (*fn)(transport_t t);
    unsigned transports;
} row_t;

static const row_t rows[] = {
    {"reset-mid-write", row_reset_mid_write, ALL},
    {"reset-mid-handshake-client", row_reset_mid_handshake_client, TLS},
    {"reset-mid-handshake-server", row_reset_mid_handshake_server, TLS},
    {"never-reads-drain", row_never_reads_drain, TCP4 | UNIX | TLS},
    {"never-reads-ignore-drain", row_never_reads_ignore, TCP4 | UNIX | TLS},
    {"half-open-fin-allowHalfOpen", row_half_open_on, TCP4 | UNIX | TLS},
    {"half-open-fin-no-allowHalfOpen", row_half_open_off, TCP4 | UNIX | TLS},
    {"silent-peer", row_silent_peer, TCP4 | UNIX | TLS},
    {"slowloris", row_slowloris, TCP4 | UNIX | TLS},
    {"refused", row_refused, ALL},
    {"enotfound", row_enotfound, TCP4 | TCP6 | TLS},
    {"no-answer", row_no_answer, TCP4 | TCP6 | TLS},
    {"no-answer-handshake", row_no_answer_handshake, TLS},
    {"server-close", row_server_close, ALL},
};

static bool have_ipv6_loopback(void)
{
    endpoint_t ep;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage ss;
    bool ok;
    if (fd < 0)
        return false;
    ep.t = T_TCP6;
    ep.port = 0;
    ok = bind(fd, (struct sockaddr *)&ss, raw_addr(&ep, &ss)) == 0;
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    char phase[128];
    bool v6 = have_ipv6_loopback();
    int ran = 0;

    test_watchdog(25);
    signal(SIGPIPE, SIG_IGN); /* raw sockets' writes (cnet's own never raise it) */
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cnet-faults-XXXXXX");
    if (!mkdtemp(tmpdir))
        TEST_FAIL_("mkdtemp: %s", strerror(errno));
#if FAULTS_TLS
    tls_pki_make(&pki);
    server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
#endif
    if (!v6)
        fprintf(stderr, "note: ::1 unavailable, the tcp6 cells are skipped\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int t = 0; t < T__COUNT; t++) {
            if (!(rows[i].transports & (1u << t)))
                continue;
            snprintf(phase, sizeof phase, "%s/%s", rows[i].name, tname[t]);
            if (filter && !strstr(phase, filter))
                continue;
            if ((t == T_TCP6 && !v6) || (t == T_TLS && !server_ctx)) {
                fprintf(stderr, "skip %s\n", phase);
                continue;
            }
            double t0 = now_ms();
            test_set_phase(phase);
            rows[i].fn((transport_t)t);
            fprintf(stderr, "ok %-40s %6.0f ms\n", phase, now_ms() - t0);
            ran++;
        }
    }
    free(big_buf);
#if FAULTS_TLS
    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    tls_pki_free(&pki);
#endif
    rmdir(tmpdir);
    if (!ran)
        RETURN_SKIP("no cell matched");
    printf("ok\n");
    return 0;
}
