/*
 * Socket options, accessors, addresses and onread (issue 8, "Node parity"):
 *   - addresses after close: remote and local endpoints of every socket that
 *     was connected answer during and after 'close', also when they were
 *     never read before, after a peer reset, a clean close (TIME_WAIT), on
 *     accepted and Unix sockets; ENOTCONN for a socket never connected and
 *     for one connecting again;
 *   - setKeepAlive: node's whole seconds, read back with getsockopt;
 *   - setTimeout(0, cb) removes cb; twice adds it twice; has_timeout;
 *   - accessors (corked, ended, finished, encoding, readable hwm, server)
 *     and destroy with a message;
 *   - onread: zero-copy reads into the user's buffer, stop by returning
 *     false, buffer functions, and how it combines with 'data', encodings,
 *     framing and pipe().
 * Node's behaviour is in tests/conformance/sockopt_*.js.
 */
#include "harness.h"
#include "internal.h" /* white-box: s->fd for getsockopt, loop->uv for test timers */
#include "socket_recorder.h"

#include <netinet/tcp.h>
#include <sys/stat.h>

/* ---- small helpers -------------------------------------------------------- */

static cnet_socket_t *connect_to(cnet_loop_t *loop, int port, cnet_socket_cb on_connect, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;

    o.port = port;
    o.host = "127.0.0.1";
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, on_connect, arg, &s)));
    return s;
}

/* ---- 1. addresses after close --------------------------------------------- */

typedef struct {
    cnet_address_t local, remote; /* as seen in 'close' */
    int local_err, remote_err;
    int closes;
    bool had_error;
} ends_t;

static void ends_on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ends_t *e = arg;
    ASSERT_EQ(0, in_call);
    e->closes++;
    e->had_error = ev->had_error;
    e->local_err = cnet_socket_address(s, &e->local);
    e->remote_err = cnet_socket_remote_address(s, &e->remote);
}

static ends_t peer_ends[4];

static void ad_on_conn(srvctx_t *c, cnet_socket_t *s, int i)
{
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &peer_ends[i])));
}

static void ad_reset_on_data(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    if (ev->type == CNET_EVENT_DATA)
        ASSERT_OK(CALL(cnet_socket_reset_and_destroy(s)));
}

static void ad_write_on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ASSERT_OK(CALL(cnet_socket_write_str(s, "x")));
}

static void ad_end_on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ASSERT_OK(CALL(cnet_socket_end(s, NULL, 0, NULL, NULL)));
}

static void expect_ip(const cnet_address_t *a, const char *ip, int family, int port)
{
    ASSERT_STR_EQ(ip, a->address);
    ASSERT_EQ(family, a->family);
    if (port >= 0)
        ASSERT_EQ(port, a->port);
    else
        ASSERT(a->port > 0);
}

/* The peer resets: nobody read an address before, and getpeername would say ENOTCONN now. */
static void test_addresses_after_reset(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    ends_t ce = {0};
    cnet_address_t a;
    cnet_socket_t *s;

    test_set_phase("addresses after a peer reset");
    memset(peer_ends, 0, sizeof peer_ends);
    sc.on_conn = ad_on_conn;
    sc.hook = ad_reset_on_data;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    s = connect_to(loop, sc.port, ad_write_on_connect, NULL);
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_remote_address(s, &a)); /* connecting */
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_address(s, &a));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &ce)));
    cnet_socket_retain(s);
    ASSERT_OK(cnet_loop_run(loop));

    ASSERT_EQ(1, ce.closes);
    ASSERT(ce.had_error); /* ECONNRESET */
    ASSERT_OK(ce.remote_err);
    ASSERT_OK(ce.local_err);
    expect_ip(&ce.remote, "127.0.0.1", 4, sc.port);
    expect_ip(&ce.local, "127.0.0.1", 4, -1);
    /* The accepted socket, destroyed by its own resetAndDestroy(). */
    ASSERT_EQ(1, peer_ends[0].closes);
    ASSERT_OK(peer_ends[0].remote_err);
    ASSERT_OK(peer_ends[0].local_err);
    expect_ip(&peer_ends[0].remote, "127.0.0.1", 4, ce.local.port);
    expect_ip(&peer_ends[0].local, "127.0.0.1", 4, sc.port);
    /* Retained past 'close': still there. */
    ASSERT_OK(cnet_socket_remote_address(s, &a));
    ASSERT_MEM_EQ(&ce.remote, &a, sizeof a);
    ASSERT_OK(cnet_socket_address(s, &a));
    ASSERT_MEM_EQ(&ce.local, &a, sizeof a);
    cnet_socket_release(s);
    srv_free(&sc);
    end_loop(loop);
}

/* Both sides end: the side that ended first is in TIME_WAIT when it closes. */
static void test_addresses_after_clean_close(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    ends_t ce = {0};
    cnet_socket_t *s;

    test_set_phase("addresses after a clean close");
    memset(peer_ends, 0, sizeof peer_ends);
    sc.on_conn = ad_on_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    s = connect_to(loop, sc.port, ad_end_on_connect, NULL);
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &ce)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(1, ce.closes);
    ASSERT(!ce.had_error);
    ASSERT_OK(ce.remote_err);
    ASSERT_OK(ce.local_err);
    expect_ip(&ce.remote, "127.0.0.1", 4, sc.port);
    expect_ip(&ce.local, "127.0.0.1", 4, -1);
    ASSERT_OK(peer_ends[0].remote_err);
    expect_ip(&peer_ends[0].remote, "127.0.0.1", 4, ce.local.port);
    expect_ip(&peer_ends[0].local, "127.0.0.1", 4, sc.port);
    srv_free(&sc);
    end_loop(loop);
}

static void close_server_on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ASSERT_OK(CALL(cnet_server_close(srv, NULL, NULL))); /* 'close' once it has gone */
}

static void test_addresses_ipv6(void)
{
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    cnet_server_t *srv;
    cnet_loop_t *loop;
    cnet_address_t a;
    ends_t ce = {0};
    cnet_socket_t *s;

    test_set_phase("addresses after close, IPv6");
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa6, sizeof sa6) != 0) {
        if (fd >= 0)
            close(fd);
        fprintf(stderr, "no ::1 here: IPv6 case skipped\n");
        return;
    }
    close(fd);
    loop = new_loop();
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, close_server_on_connection, NULL));
    ASSERT_OK(cnet_server_listen(srv, 0, "::1", NULL, NULL));
    while (!cnet_server_is_listening(srv)) /* a host binds on a later tick */
        ASSERT(cnet_loop_run_nowait(loop));
    ASSERT_OK(cnet_server_address(srv, &a));
    o.port = a.port;
    o.host = "::1";
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, ad_end_on_connect, NULL, &s)));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &ce)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(1, ce.closes);
    ASSERT_OK(ce.remote_err);
    ASSERT_OK(ce.local_err);
    expect_ip(&ce.remote, "::1", 6, o.port);
    expect_ip(&ce.local, "::1", 6, -1);
    end_loop(loop);
}

static void test_addresses_unix(void)
{
    char dir[] = "/tmp/cnet-sockopt-XXXXXX", path[128];
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    ends_t ce = {0};
    cnet_socket_t *s;

    test_set_phase("addresses after close, Unix socket");
    memset(peer_ends, 0, sizeof peer_ends);
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/sock", dir);
    sc.on_conn = ad_on_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, path);
    o.path = path;
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, ad_end_on_connect, NULL, &s)));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &ce)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(ce.remote_err);
    ASSERT_OK(ce.local_err);
    ASSERT_STR_EQ(path, ce.remote.address);
    ASSERT_EQ(0, ce.remote.family);
    ASSERT_EQ(-1, ce.remote.port);
    ASSERT_STR_EQ("", ce.local.address); /* the client's end is unnamed */
    ASSERT_OK(peer_ends[0].local_err);
    ASSERT_STR_EQ(path, peer_ends[0].local.address);
    ASSERT_STR_EQ("", peer_ends[0].remote.address);
    srv_free(&sc);
    end_loop(loop);
    unlink(path);
    rmdir(dir);
}

static cnet_address_t rc_first_local;
static int rc_step;

static void rc_on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    srvctx_t *sc = arg;
    cnet_address_t a;

    rc_step++;
    if (rc_step == 1) {
        ASSERT_OK(cnet_socket_address(s, &rc_first_local));
        /* Connecting again: the old endpoints are not this connection's. */
        ASSERT_OK(CALL(cnet_socket_connect(s, sc->port, "127.0.0.1", ad_end_on_connect, NULL)));
        ASSERT_ERR(CNET_ENOTCONN, cnet_socket_address(s, &a));
        ASSERT_ERR(CNET_ENOTCONN, cnet_socket_remote_address(s, &a));
    } else {
        ASSERT_OK(cnet_socket_address(s, &a));
        ASSERT(a.port != rc_first_local.port);
        ASSERT_OK(cnet_socket_remote_address(s, &a));
        ASSERT_EQ(sc->port, a.port);
    }
}

static void test_addresses_never_connected_and_reconnect(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    ends_t ce = {0};
    cnet_address_t a;
    cnet_socket_t *s;

    test_set_phase("addresses: never connected, refused, reconnect");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_address(NULL, &a));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_remote_address(s, NULL));
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_address(s, &a));
    cnet_socket_destroy(s);
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_remote_address(s, &a));
    ASSERT_OK(cnet_loop_run(loop));

    s = connect_to(loop, closed_port(), NULL, NULL);
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, ends_on_close, &ce)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(1, ce.closes);
    ASSERT_ERR(CNET_ENOTCONN, ce.remote_err); /* refused: never connected */
    ASSERT_ERR(CNET_ENOTCONN, ce.local_err);

    sc.close_after = 2;
    srv_start(loop, &sc, NULL, NULL);
    s = connect_to(loop, sc.port, ad_end_on_connect, NULL);
    cnet_socket_retain(s);
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CLOSE, rc_on_close, &sc)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(2, rc_step);
    cnet_socket_release(s);
    srv_free(&sc);
    end_loop(loop);
}

/* ---- 2. setKeepAlive ------------------------------------------------------ */

typedef struct {
    int on, idle, intvl, cnt;
} ka_t;

static ka_t ka_of_fd(int fd)
{
    ka_t k;
    socklen_t len = sizeof(int);

    ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &k.on, &len));
    ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k.idle, &len));
    ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k.intvl, &len));
    ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k.cnt, &len));
    k.on = k.on != 0;
    return k;
}

static ka_t ka_of(const cnet_socket_t *s)
{
    ASSERT(s->fd >= 0);
    return ka_of_fd(s->fd);
}

/* The system's values, which a delay under one second must leave alone. */
static ka_t ka_default;

#define ASSERT_KA(on_, idle_, intvl_, cnt_, k_) \
    do {                                        \
        ka_t kk_ = (k_);                        \
        ASSERT_EQ((on_), kk_.on);               \
        ASSERT_EQ((idle_), kk_.idle);           \
        ASSERT_EQ((intvl_), kk_.intvl);         \
        ASSERT_EQ((cnt_), kk_.cnt);             \
    } while (0)

static ka_t ka_peer[4];

static void ka_on_conn(srvctx_t *c, cnet_socket_t *s, int i)
{
    ka_peer[i] = ka_of(s);
}

static cnet_socket_t *ka_early; /* keepalive set before connect */

static void ka_on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int step = (int)(intptr_t)arg;

    if (step == 0) {
        /* Node: ~~(ms / 1000). Under a second only SO_KEEPALIVE. */
        ASSERT_KA(0, ka_default.idle, ka_default.intvl, ka_default.cnt, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 0)));
        ASSERT_KA(1, ka_default.idle, ka_default.intvl, ka_default.cnt, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 999)));
        ASSERT_KA(1, ka_default.idle, ka_default.intvl, ka_default.cnt, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 1000)));
        ASSERT_KA(1, 1, 1, 10, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 2999)));
        ASSERT_KA(1, 2, 1, 10, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 60000)));
        ASSERT_KA(1, 60, 1, 10, ka_of(s));
        /* Back under a second: node's libuv fails on TCP_KEEPIDLE 0, so 60 stays. */
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 500)));
        ASSERT_KA(1, 60, 1, 10, ka_of(s));
        ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, false, 0)));
        ASSERT_KA(0, 60, 1, 10, ka_of(s));
    } else if (step == 1) {
        ASSERT_KA(1, ka_default.idle, ka_default.intvl, ka_default.cnt, ka_of(s));
    } else if (step == 2) {
        ASSERT_KA(1, 3, 1, 10, ka_of(s));
    } else {
        ASSERT_KA(1, 1, 1, 10, ka_of(s)); /* connect opts: 1999 ms */
    }
    ASSERT_OK(CALL(cnet_socket_end(s, NULL, 0, NULL, NULL)));
}

static void run_keepalive_server(const cnet_server_opts_t *opts, ka_t *seen)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    cnet_socket_t *s;

    memset(ka_peer, 0, sizeof ka_peer);
    sc.on_conn = ka_on_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, opts, NULL);
    s = connect_to(loop, sc.port, ad_end_on_connect, NULL);
    CNET__UNUSED(s);
    ASSERT_OK(cnet_loop_run(loop));
    *seen = ka_peer[0];
    srv_free(&sc);
    end_loop(loop);
}

static void test_keep_alive(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_loop_t *loop;
    srvctx_t sc = {0};
    cnet_socket_t *s;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ka_t k;

    test_set_phase("setKeepAlive");
    ASSERT(fd >= 0);
    ka_default = ka_of_fd(fd);
    close(fd);
    /* The checks below need defaults that 1/1/10 would change. */
    ASSERT(ka_default.idle != 1 && ka_default.intvl != 1 && ka_default.cnt != 10);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_set_keep_alive(NULL, true, 0));

    /* Server options: keepAliveInitialDelay under a second and over. */
    so.keep_alive = true;
    so.keep_alive_initial_delay_ms = 500;
    run_keepalive_server(&so, &k);
    ASSERT_KA(1, ka_default.idle, ka_default.intvl, ka_default.cnt, k);
    so.keep_alive_initial_delay_ms = 2500;
    run_keepalive_server(&so, &k);
    ASSERT_KA(1, 2, 1, 10, k);

    loop = new_loop();
    sc.close_after = 4;
    srv_start(loop, &sc, NULL, NULL);
    /* Set on a connected socket, step by step. */
    s = connect_to(loop, sc.port, ka_on_connect, (void *)(intptr_t)0);
    /* Before connect: applied at connect, with the same rule. */
    ASSERT_OK(cnet_socket_new(loop, NULL, &ka_early));
    ASSERT_OK(CALL(cnet_socket_set_keep_alive(ka_early, true, 999)));
    ASSERT_OK(CALL(
        cnet_socket_connect(ka_early, sc.port, "127.0.0.1", ka_on_connect, (void *)(intptr_t)1)));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_OK(CALL(cnet_socket_set_keep_alive(s, true, 3500)));
    ASSERT_OK(
        CALL(cnet_socket_connect(s, sc.port, "127.0.0.1", ka_on_connect, (void *)(intptr_t)2)));
    /* Connect options. */
    o.port = sc.port;
    o.host = "127.0.0.1";
    o.keep_alive = true;
    o.keep_alive_initial_delay_ms = 1999;
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, ka_on_connect, (void *)(intptr_t)3, &s)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(4, sc.nconn);
    srv_free(&sc);
    end_loop(loop);
}

/* ---- 3. setTimeout -------------------------------------------------------- */

static int to_fired[2];

static void to_count(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ASSERT_EQ(0, in_call);
    (*(int *)arg)++;
}

static void to_done(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_destroy(s);
}

static void to_connected(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int which = (int)(intptr_t)arg;

    if (which == 0) {
        /* Twice the same cb: two listeners, both called (node). */
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 20, to_count, &to_fired[0])));
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 20, to_count, &to_fired[0])));
        ASSERT_EQ(2, cnet_socket_listener_count(s, CNET_EVENT_TIMEOUT));
    } else {
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 20, to_count, &to_fired[1])));
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 20, to_count, &to_fired[1])));
        /* 0 with another arg is another listener: nothing removed, but disabled. */
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 0, to_count, &to_fired[0])));
        ASSERT_EQ(2, cnet_socket_listener_count(s, CNET_EVENT_TIMEOUT));
        ASSERT_EQ(0, cnet_socket_get_timeout(s));
        ASSERT(cnet_socket_has_timeout(s));
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 0, to_count, &to_fired[1])));
        ASSERT_EQ(1, cnet_socket_listener_count(s, CNET_EVENT_TIMEOUT));
        ASSERT_OK(CALL(cnet_socket_set_timeout(s, 30, NULL, NULL)));
    }
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_TIMEOUT, to_done, NULL)));
}

static void test_set_timeout_zero(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    cnet_socket_t *s;

    test_set_phase("setTimeout(0, cb)");
    ASSERT(!cnet_socket_has_timeout(NULL));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT(!cnet_socket_has_timeout(s));
    ASSERT_OK(cnet_socket_set_timeout(s, 0, NULL, NULL));
    ASSERT(cnet_socket_has_timeout(s));
    ASSERT_EQ(0, cnet_socket_get_timeout(s));
    cnet_socket_destroy(s);
    /* A failed call changes nothing: no listener, no value. */
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_socket_set_timeout(s, 50, to_count, &to_fired[0]));
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_TIMEOUT));
    ASSERT_EQ(0, cnet_socket_get_timeout(s));
    ASSERT_OK(cnet_loop_run(loop));

    to_fired[0] = to_fired[1] = 0;
    sc.close_after = 2;
    srv_start(loop, &sc, NULL, NULL);
    s = connect_to(loop, sc.port, to_connected, (void *)(intptr_t)0);
    ASSERT(!cnet_socket_has_timeout(s));
    s = connect_to(loop, sc.port, to_connected, (void *)(intptr_t)1);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(2, to_fired[0]);
    ASSERT_EQ(1, to_fired[1]);
    srv_free(&sc);
    end_loop(loop);
}

/* ---- 4. accessors and destroy with a message ------------------------------ */

static void test_accessors_fresh(void)
{
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_loop_t *loop = new_loop();
    cnet_socket_t *s;

    test_set_phase("accessors on a fresh socket");
    ASSERT_EQ(0, cnet_socket_readable_high_water_mark(NULL));
    ASSERT_EQ(0, cnet_socket_writable_corked(NULL));
    ASSERT(!cnet_socket_writable_ended(NULL));
    ASSERT(!cnet_socket_writable_finished(NULL));
    ASSERT(cnet_socket_readable_encoding(NULL) == NULL);
    ASSERT(cnet_socket_server(NULL) == NULL);

    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_EQ(16384, cnet_socket_readable_high_water_mark(s));
    ASSERT_OK(cnet_socket_set_high_water_mark(s, 7));
    ASSERT_EQ(7, cnet_socket_readable_high_water_mark(s));
    ASSERT_EQ(0, cnet_socket_writable_corked(s));
    cnet_socket_cork(s);
    cnet_socket_cork(s);
    ASSERT_EQ(2, cnet_socket_writable_corked(s));
    cnet_socket_uncork(s);
    ASSERT_EQ(1, cnet_socket_writable_corked(s));
    cnet_socket_uncork(s);
    cnet_socket_uncork(s);
    ASSERT_EQ(0, cnet_socket_writable_corked(s));
    ASSERT(cnet_socket_readable_encoding(s) == NULL);
    ASSERT_OK(cnet_socket_set_encoding(s, "UCS-2"));
    ASSERT_STR_EQ("utf16le", cnet_socket_readable_encoding(s));
    ASSERT_OK(cnet_socket_set_encoding(s, "binary"));
    ASSERT_STR_EQ("latin1", cnet_socket_readable_encoding(s));
    ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet_socket_set_encoding(s, "nope"));
    ASSERT_STR_EQ("latin1", cnet_socket_readable_encoding(s));
    ASSERT_OK(cnet_socket_set_encoding(s, NULL));
    ASSERT(cnet_socket_readable_encoding(s) == NULL);
    ASSERT(cnet_socket_server(s) == NULL);
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));

    so.high_water_mark = 5;
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    ASSERT_EQ(5, cnet_socket_readable_high_water_mark(s));
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));
    end_loop(loop);
}

static cnet_server_t *acc_srv;
static cnet_socket_t *acc_peer;
static int acc_checks;

static void acc_peer_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ASSERT(cnet_socket_server(s) == acc_srv); /* also inside 'close' */
    ASSERT_EQ(1000, cnet_socket_readable_high_water_mark(s));
    if (ev->type == CNET_EVENT_END) {
        ASSERT(!cnet_socket_writable_ended(s)); /* node ends on the next tick */
    } else if (ev->type == CNET_EVENT_FINISH) {
        ASSERT(cnet_socket_writable_ended(s));
        ASSERT(cnet_socket_writable_finished(s));
    }
    acc_checks++;
}

static void acc_on_conn(srvctx_t *c, cnet_socket_t *s, int i)
{
    static const cnet_event_type_t types[] = {CNET_EVENT_END, CNET_EVENT_FINISH, CNET_EVENT_CLOSE};
    acc_peer = s;
    cnet_socket_retain(s);
    ASSERT(cnet_socket_server(s) == c->srv);
    for (size_t k = 0; k < CNET__ARRAY_SIZE(types); k++)
        ASSERT_OK(CALL(cnet_socket_on(s, types[k], acc_peer_event, NULL)));
}

static void acc_client_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (ev->type == CNET_EVENT_CONNECT) {
        cnet_socket_cork(s);
        ASSERT_OK(CALL(cnet_socket_write_str(s, "x")));
        ASSERT(!cnet_socket_writable_ended(s));
        ASSERT_OK(CALL(cnet_socket_end(s, NULL, 0, NULL, NULL)));
        ASSERT_EQ(0, cnet_socket_writable_corked(s)); /* end() uncorks */
        ASSERT(cnet_socket_writable_ended(s));
        ASSERT(!cnet_socket_writable_finished(s));
    } else if (ev->type == CNET_EVENT_FINISH) {
        ASSERT(cnet_socket_writable_finished(s));
    }
    ASSERT(cnet_socket_server(s) == NULL);
    acc_checks++;
}

static void test_accessors_connected(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    cnet_socket_t *s;

    test_set_phase("accessors through a connection; socket.server");
    so.high_water_mark = 1000;
    sc.on_conn = acc_on_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, &so, NULL);
    acc_srv = sc.srv;
    acc_checks = 0;
    s = connect_to(loop, sc.port, acc_client_event, NULL);
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_FINISH, acc_client_event, NULL)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(5, acc_checks);
    /* Retained past 'close': the socket no longer holds its server. */
    ASSERT(cnet_socket_server(acc_peer) == NULL);
    ASSERT(cnet_socket_writable_finished(acc_peer));
    cnet_socket_release(acc_peer);
    srv_free(&sc);
    end_loop(loop);
}

typedef struct {
    int errors, closes, code;
    char msg[600];
    bool syscall_null, had_error;
} dm_t;

static void dm_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    dm_t *d = arg;

    ASSERT_EQ(0, in_call);
    if (ev->type == CNET_EVENT_ERROR) {
        d->errors++;
        d->code = ev->error->code;
        d->syscall_null =
            ev->error->syscall == NULL && ev->error->address == NULL && ev->error->port == -1;
        snprintf(d->msg, sizeof d->msg, "%s", ev->error->message);
    } else {
        d->closes++;
        d->had_error = ev->had_error;
    }
}

static cnet_socket_t *dm_socket(cnet_loop_t *loop, dm_t *d)
{
    cnet_socket_t *s;

    memset(d, 0, sizeof *d);
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_ERROR, dm_event, d));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, dm_event, d));
    return s;
}

static void test_destroy_with_message(void)
{
    cnet_loop_t *loop = new_loop();
    char text[700];
    dm_t d[4];
    cnet_socket_t *s;

    test_set_phase("destroy with a message");
    cnet_socket_destroy_with_message(NULL, CNET_EPIPE, "x"); /* no-op */

    s = dm_socket(loop, &d[0]);
    snprintf(text, sizeof text, "custom: %s", "quota exceeded");
    VCALL(cnet_socket_destroy_with_message(s, CNET_ECONNABORTED, text));
    VCALL(cnet_socket_destroy_with_message(s, CNET_EPIPE, "second")); /* ignored */
    memset(text, 'z', 20);                                            /* copied at once */
    ASSERT_EQ(0, d[0].errors);                                        /* not inside the call */

    s = dm_socket(loop, &d[1]);
    VCALL(cnet_socket_destroy_with_message(s, CNET_ERR_SOCKET_CLOSED, NULL));

    s = dm_socket(loop, &d[2]);
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    VCALL(cnet_socket_destroy_with_message(s, 0, text));

    s = dm_socket(loop, &d[3]);
    VCALL(cnet_socket_destroy_with_message(s, -1234567, "an error of my own"));
    ASSERT_OK(cnet_loop_run(loop));

    ASSERT_EQ(1, d[0].errors);
    ASSERT_EQ(1, d[0].closes);
    ASSERT(d[0].had_error);
    ASSERT_EQ(CNET_ECONNABORTED, d[0].code);
    ASSERT_STR_EQ("custom: quota exceeded", d[0].msg);
    ASSERT(d[0].syscall_null);
    ASSERT_EQ(CNET_ERR_SOCKET_CLOSED, d[1].code);
    ASSERT_STR_EQ(cnet_strerror(CNET_ERR_SOCKET_CLOSED), d[1].msg);
    ASSERT_EQ(CNET_ERR_INVALID_ARG_VALUE, d[2].code); /* a code must be negative */
    ASSERT_EQ(511, strlen(d[2].msg));                 /* truncated */
    ASSERT_EQ(-1234567, d[3].code);                   /* any negative code is carried */
    ASSERT_STR_EQ("an error of my own", d[3].msg);
    end_loop(loop);
}

/* ---- 5. onread ------------------------------------------------------------ */

/* A libuv timer on the cnet loop, to resume a while after reading stopped. */
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
    x->fn(x->arg);
    uv_close((uv_handle_t *)t, ttimer_closed);
}

static void after_ms(cnet_loop_t *loop, uint64_t ms, void (*fn)(void *), void *arg)
{
    ttimer_t *x = calloc(1, sizeof *x);
    ASSERT(x != NULL);
    x->fn = fn;
    x->arg = arg;
    ASSERT_EQ(0, uv_timer_init(loop->uv, &x->t));
    ASSERT_EQ(0, uv_timer_start(&x->t, ttimer_fire, ms, 0));
}

typedef struct {
    char buf[4];      /* the one buffer (static mode) */
    char bufs[2][3];  /* alternated by the buffer function */
    char *last_given; /* what the buffer function returned last */
    int gens;         /* buffer function calls */
    bool gen_null;    /* the buffer function gives no buffer */
    char got[256];
    size_t got_len;
    int reads, datas, frames, ends, closes, errors, err_code;
    bool stop_first;  /* return false from the first callback */
    bool pause_first; /* pause() in the first callback, return true */
    bool destroy_first;
    bool wrong_buf;
    bool paused_seen;
    cnet_loop_t *loop;
    cnet_socket_t *s;
    size_t reads_at_resume;
} or_t;

static bool or_cb(cnet_socket_t *s, size_t nread, char *buf, void *arg)
{
    or_t *o = arg;

    ASSERT_EQ(0, in_call);
    ASSERT(nread > 0);
    if (o->gens ? buf != o->last_given : buf != o->buf)
        o->wrong_buf = true; /* zero copy: the very buffer we gave */
    if (cnet_socket_is_paused(s))
        o->paused_seen = true;
    ASSERT(o->got_len + nread <= sizeof o->got);
    memcpy(o->got + o->got_len, buf, nread);
    o->got_len += nread;
    if (o->reads++ == 0) {
        if (o->destroy_first) {
            VCALL(cnet_socket_destroy(s));
            return true;
        }
        if (o->pause_first) {
            VCALL(cnet_socket_pause(s));
            return true;
        }
        return !o->stop_first;
    }
    return true;
}

static char *or_gen(cnet_socket_t *s, size_t *len, void *arg)
{
    or_t *o = arg;

    ASSERT_EQ(0, in_call);
    if (o->gen_null) {
        o->gens++;
        return NULL;
    }
    o->last_given = o->bufs[o->gens++ % 2];
    *len = sizeof o->bufs[0];
    return o->last_given;
}

static void or_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    or_t *o = arg;

    ASSERT_EQ(0, in_call);
    switch (ev->type) {
    case CNET_EVENT_DATA:
        o->datas++;
        break;
    case CNET_EVENT_FRAME:
        o->frames++;
        break;
    case CNET_EVENT_END:
        o->ends++;
        break;
    case CNET_EVENT_ERROR:
        o->errors++;
        o->err_code = ev->error->code;
        break;
    case CNET_EVENT_CLOSE:
        o->closes++;
        break;
    default:
        break;
    }
}

static void or_attach(cnet_socket_t *s, or_t *o)
{
    static const cnet_event_type_t types[] = {CNET_EVENT_DATA, CNET_EVENT_FRAME, CNET_EVENT_END,
                                              CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    o->s = s;
    for (size_t i = 0; i < CNET__ARRAY_SIZE(types); i++)
        ASSERT_OK(CALL(cnet_socket_on(s, types[i], or_event, o)));
}

/* The server writes @p or_payload and ends, on every connection. */
static const char *or_payload = "0123456789";

static void or_server_conn(srvctx_t *c, cnet_socket_t *s, int i)
{
    ASSERT_OK(CALL(cnet_socket_end_str(s, or_payload)));
}

static void or_resume(void *arg)
{
    or_t *o = arg;
    /* Stopped: nothing was read since, though the peer sent everything. */
    o->reads_at_resume = (size_t)o->reads;
    VCALL(cnet_socket_resume(o->s));
}

static void or_connected(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    or_t *o = arg;
    if (o->stop_first || o->pause_first)
        after_ms(o->loop, 60, or_resume, o);
}

static cnet_socket_t *or_connect(cnet_loop_t *loop, int port, or_t *o, bool fn)
{
    cnet_connect_opts_t c = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;

    o->loop = loop;
    c.port = port;
    c.host = "127.0.0.1";
    if (fn) {
        c.onread_buffer_fn = or_gen;
    } else {
        c.onread_buffer = o->buf;
        c.onread_buffer_len = sizeof o->buf;
    }
    c.onread = or_cb;
    c.onread_arg = o;
    ASSERT_OK(CALL(cnet_create_connection(loop, &c, or_connected, o, &s)));
    or_attach(s, o);
    return s;
}

static void run_onread(or_t *o, bool fn, void (*setup)(cnet_socket_t *s, or_t *o))
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    cnet_socket_t *s;

    sc.on_conn = or_server_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    s = or_connect(loop, sc.port, o, fn);
    if (setup)
        setup(s, o);
    ASSERT_OK(cnet_loop_run(loop));
    srv_free(&sc);
    end_loop(loop);
}

static void or_setup_text_and_framing(cnet_socket_t *s, or_t *o)
{
    cnet_framing_opts_t f = CNET_FRAMING_OPTS_INIT;

    ASSERT_OK(cnet_socket_set_encoding(s, "hex")); /* accepted, but reads are raw */
    f.mode = CNET_FRAMING_FIXED;
    f.record_size = 2;
    ASSERT_OK(cnet_socket_set_framing(s, &f)); /* write_frame() would frame; reads do not */
}

static void test_onread_static(void)
{
    or_t *o = calloc(1, sizeof *o);

    test_set_phase("onread: one buffer, no 'data', encoding and framing unused");
    run_onread(o, false, or_setup_text_and_framing);
    ASSERT_EQ(10, o->got_len);
    ASSERT_MEM_EQ(or_payload, o->got, 10);
    ASSERT(o->reads >= 3); /* a 4-byte buffer: 10 bytes take three reads at least */
    ASSERT(!o->wrong_buf);
    ASSERT_EQ(0, o->datas);
    ASSERT_EQ(0, o->frames);
    ASSERT_EQ(1, o->ends);
    ASSERT_EQ(0, o->errors);
    ASSERT_EQ(1, o->closes);
    free(o);
}

static void test_onread_stop_and_resume(void)
{
    or_t *o = calloc(1, sizeof *o);

    test_set_phase("onread: false stops reading until resume()");
    o->stop_first = true;
    run_onread(o, false, NULL);
    ASSERT_EQ(1, o->reads_at_resume); /* 60 ms with all 10 bytes waiting: no read */
    ASSERT(!o->paused_seen);          /* isPaused() stays false (node) */
    ASSERT_EQ(10, o->got_len);
    ASSERT_MEM_EQ(or_payload, o->got, 10);
    ASSERT_EQ(1, o->ends);
    ASSERT_EQ(1, o->closes);
    free(o);

    test_set_phase("onread: pause() inside the callback");
    o = calloc(1, sizeof *o);
    o->pause_first = true;
    run_onread(o, false, NULL);
    ASSERT_EQ(1, o->reads_at_resume);
    ASSERT_EQ(10, o->got_len);
    ASSERT_EQ(1, o->ends);
    free(o);
}

static void test_onread_buffer_fn(void)
{
    or_t *o = calloc(1, sizeof *o);

    test_set_phase("onread: a buffer function");
    run_onread(o, true, NULL);
    ASSERT_EQ(10, o->got_len);
    ASSERT_MEM_EQ(or_payload, o->got, 10);
    ASSERT(!o->wrong_buf);            /* each read went into the buffer returned last */
    ASSERT_EQ(o->reads + 1, o->gens); /* once connected, then after every callback */
    ASSERT_EQ(1, o->ends);
    free(o);

    test_set_phase("onread: a buffer function with no buffer");
    o = calloc(1, sizeof *o);
    o->gen_null = true;
    run_onread(o, true, NULL);
    ASSERT_EQ(0, o->reads);
    ASSERT_EQ(1, o->errors);
    ASSERT_EQ(CNET_ENOBUFS, o->err_code);
    ASSERT_EQ(1, o->closes);
    free(o);
}

static void test_onread_destroy_inside(void)
{
    or_t *o = calloc(1, sizeof *o);

    test_set_phase("onread: destroy inside the callback");
    o->destroy_first = true;
    run_onread(o, false, NULL);
    ASSERT_EQ(1, o->reads);
    ASSERT_EQ(0, o->ends);
    ASSERT_EQ(1, o->closes);
    free(o);
}

/* pipe(): the bytes go to onread, not through the pipe; the source's 'end' still ends dst. */
static void test_onread_pipe(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    or_t *o = calloc(1, sizeof *o);
    cnet_socket_t *src, *dst;

    test_set_phase("onread: pipe() moves no bytes, but ends");
    sc.on_conn = or_server_conn;
    sc.close_after = 2;
    srv_start(loop, &sc, NULL, NULL);
    src = or_connect(loop, sc.port, o, false);
    dst = connect_to(loop, sc.port, NULL, NULL);
    ASSERT_OK(CALL(cnet_socket_pipe(src, dst, true)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(10, o->got_len);
    ASSERT_EQ(2, sc.nconn);
    /* What the server's second connection (dst's peer) received. */
    ASSERT_EQ(0, sc.rec[1]->data_len);
    ASSERT(strstr(test_log_str(&sc.rec[1]->log), "end") != NULL);
    srv_free(&sc);
    end_loop(loop);
    free(o);
}

static void test_onread_options(void)
{
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    or_t *o = calloc(1, sizeof *o);
    char buf[8];
    cnet_socket_t *s = NULL;

    test_set_phase("onread: options");
    /* A callback without a buffer, a buffer without a callback, both buffers, a zero size. */
    so.onread = or_cb;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &so, &s));
    so.onread_buffer = buf;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &so, &s));
    so.onread_buffer_len = sizeof buf;
    so.onread_buffer_fn = or_gen;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &so, &s));
    so.onread_buffer_fn = NULL;
    so.onread = NULL;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &so, &s));
    ASSERT(s == NULL);
    co.port = 1;
    co.host = "127.0.0.1";
    co.onread_buffer_fn = or_gen;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_create_connection(loop, &co, NULL, NULL, &s));
    ASSERT(s == NULL);
    ASSERT_EQ(0, cnet_loop_alive(loop));

    /* new net.Socket({onread}) then connect(). */
    memset(&so, 0, sizeof so);
    so.size = sizeof so;
    so.onread_buffer = o->buf;
    so.onread_buffer_len = sizeof o->buf;
    so.onread = or_cb;
    so.onread_arg = o;
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    or_attach(s, o);
    sc.on_conn = or_server_conn;
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    ASSERT_OK(CALL(cnet_socket_connect(s, sc.port, "127.0.0.1", NULL, NULL)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(10, o->got_len);
    ASSERT_EQ(0, o->datas);
    srv_free(&sc);
    end_loop(loop);
    free(o);
}

int main(void)
{
    test_watchdog(20);
    test_addresses_after_reset();
    test_addresses_after_clean_close();
    test_addresses_ipv6();
    test_addresses_unix();
    test_addresses_never_connected_and_reconnect();
    test_keep_alive();
    test_set_timeout_zero();
    test_accessors_fresh();
    test_accessors_connected();
    test_destroy_with_message();
    test_onread_static();
    test_onread_stop_and_resume();
    test_onread_buffer_fn();
    test_onread_destroy_inside();
    test_onread_pipe();
    test_onread_options();
    return 0;
}
