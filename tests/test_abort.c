/*
 * Cancellation (cnet.h section 10, Node's AbortController): the controller
 * API; a signal already aborted at cnet_socket_new(), at connect (also on a
 * retained closed socket connecting again) and at listen; a signal shared by
 * a server and its clients; two signals on one socket; the controller freed
 * early, inside 'error' and inside 'close'; aborting after a destroy; and
 * allocation failures. Node's observable behaviour is in the conformance
 * scenarios abort_server and abort_socket; this file checks what only C sees
 * (lifetimes, codes returned, no leak: every scenario ends with an empty
 * loop, and the allocator counts live blocks).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <cnet/uv.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <uv.h>

/* ---- counting allocator with fault injection --------------------------- */

static long live_allocs;
static int alloc_seq, fail_at; /* fail the fail_at-th allocation (0: never) */

static bool inject(void)
{
    return fail_at && ++alloc_seq == fail_at;
}

static void *c_malloc(size_t n)
{
    void *p = inject() ? NULL : malloc(n);
    live_allocs += p != NULL;
    return p;
}

static void *c_calloc(size_t c, size_t n)
{
    void *p = inject() ? NULL : calloc(c, n);
    live_allocs += p != NULL;
    return p;
}

static void *c_realloc(void *old, size_t n)
{
    void *p;
    if (inject())
        return NULL;
    p = realloc(old, n);
    live_allocs += (old == NULL && p != NULL);
    return p;
}

static void c_free(void *p)
{
    live_allocs -= p != NULL;
    free(p);
}

/* ---- helpers --------------------------------------------------------------- */

/* A port bound and never listening (socket_recorder.h's closed_port()). */
static int closed_port(void)
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
    return ntohs(sa.sin_port); /* fd stays bound on purpose */
}

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

typedef struct rec {
    test_log_t log;
    int in_call;
    cnet_abort_controller_t **free_on_error; /* free this controller inside 'error' */
    cnet_abort_controller_t **free_on_close;
    cnet_server_t *close_server; /* cnet_server_close() on 'close' */
} rec_t;

static void rec_fmt(rec_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_fmt(rec_t *r, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    test_log_add(&r->log, tmp);
}

static void rec_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    rec_t *r = arg;
    (void)s;
    ASSERT_EQ(0, r->in_call); /* never inside the call that caused it */
    switch (ev->type) {
    case CNET_EVENT_ERROR:
        if (ev->error->code == CNET_ABORT_ERR) {
            /* Node's AbortError */
            ASSERT_STR_EQ("ABORT_ERR", cnet_err_name(ev->error->code));
            ASSERT_STR_EQ("The operation was aborted", ev->error->message);
            ASSERT(ev->error->syscall == NULL);
        }
        rec_fmt(r, "error:%s", cnet_err_name(ev->error->code));
        if (r->free_on_error) {
            cnet_abort_controller_free(*r->free_on_error);
            *r->free_on_error = NULL;
        }
        break;
    case CNET_EVENT_CLOSE:
        rec_fmt(r, "close:%d", ev->had_error);
        if (r->free_on_close) {
            cnet_abort_controller_free(*r->free_on_close);
            *r->free_on_close = NULL;
        }
        if (r->close_server)
            ASSERT_OK(cnet_server_close(r->close_server, NULL, NULL));
        break;
    case CNET_EVENT_DATA:
        break;
    default:
        test_log_add(&r->log, cnet_event_name(ev->type));
    }
}

static void rec_attach(cnet_socket_t *s, rec_t *r)
{
    static const cnet_event_type_t types[] = {CNET_EVENT_LOOKUP, CNET_EVENT_CONNECT,
                                              CNET_EVENT_READY,  CNET_EVENT_END,
                                              CNET_EVENT_ERROR,  CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        ASSERT_OK(cnet_socket_on(s, types[i], rec_sock, r));
}

static void rec_srv(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    rec_t *r = arg;
    (void)srv;
    ASSERT_EQ(0, r->in_call);
    if (ev->type == CNET_EVENT_ERROR)
        rec_fmt(r, "srv:error:%s", cnet_err_name(ev->error->code));
    else
        rec_fmt(r, "srv:%s", cnet_event_name(ev->type));
}

/* A server on 127.0.0.1:0, listening when this returns (its events go to @p r). */
static cnet_server_t *server_on(cnet_loop_t *loop, rec_t *r, int *port, cnet_abort_signal_t *signal)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;
    cnet_address_t a;

    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, rec_srv, r));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, rec_srv, r));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_ERROR, rec_srv, r));
    o.host = "127.0.0.1";
    o.signal = signal;
    ASSERT_OK(cnet_server_listen_opts(srv, &o, NULL, NULL));
    while (!cnet_server_is_listening(srv))
        ASSERT(cnet_loop_run_nowait(loop));
    ASSERT_OK(cnet_server_address(srv, &a));
    *port = a.port;
    return srv;
}

static cnet_abort_controller_t *new_controller(void)
{
    cnet_abort_controller_t *ac = NULL;
    ASSERT_OK(cnet_abort_controller_new(&ac));
    ASSERT(ac != NULL);
    return ac;
}

/* ---- scenarios --------------------------------------------------------------- */

static void test_api(void)
{
    cnet_abort_controller_t *ac;
    cnet_abort_signal_t *sig;

    test_set_phase("api");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_abort_controller_new(NULL));
    ASSERT(cnet_abort_controller_signal(NULL) == NULL);
    ASSERT(!cnet_abort_signal_is_aborted(NULL));
    cnet_abort_controller_abort(NULL);
    cnet_abort_controller_free(NULL);
    ac = new_controller();
    sig = cnet_abort_controller_signal(ac);
    ASSERT(sig != NULL);
    ASSERT(cnet_abort_controller_signal(ac) == sig);
    ASSERT(!cnet_abort_signal_is_aborted(sig));
    cnet_abort_controller_abort(ac);
    ASSERT(cnet_abort_signal_is_aborted(sig));
    cnet_abort_controller_abort(ac); /* no-op */
    ASSERT(cnet_abort_signal_is_aborted(sig));
    cnet_abort_controller_free(ac);
}

/* Connect with an already aborted signal: nothing starts; 'error' ABORT_ERR, 'close'. */
static void test_connect_already_aborted(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_abort_controller_t *ac = new_controller();
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    rec_t r = {0}, rs = {0};
    cnet_server_t *srv;
    cnet_socket_t *c;
    int port;

    test_set_phase("connect with an aborted signal");
    srv = server_on(loop, &rs, &port, NULL);
    cnet_abort_controller_abort(ac);
    co.port = port;
    co.host = "127.0.0.1";
    co.signal = cnet_abort_controller_signal(ac);
    r.in_call = 1;
    ASSERT_OK(cnet_create_connection(loop, &co, rec_sock, &r, &c));
    r.in_call = 0;
    ASSERT(cnet_socket_is_destroyed(c));
    ASSERT(!cnet_socket_is_connecting(c));
    rec_attach(c, &r);
    cnet_abort_controller_free(ac); /* nothing uses it */
    r.close_server = srv;
    end_loop(loop);
    /* Node's net.connect() connects anyway after its 'close' (docs/design.md);
     * cnet starts nothing: the server never saw a connection. */
    ASSERT_STR_EQ("error:ABORT_ERR close:1", test_log_str(&r.log));
    ASSERT_STR_EQ("srv:close", test_log_str(&rs.log));
}

/* A retained, closed socket connecting again with an aborted signal. */
static void test_reconnect_already_aborted(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_abort_controller_t *ac = new_controller();
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    rec_t r = {0}, rs = {0};
    cnet_server_t *srv;
    cnet_socket_t *c;
    int port;

    test_set_phase("reconnect with an aborted signal");
    srv = server_on(loop, &rs, &port, NULL);
    ASSERT_OK(cnet_socket_new(loop, NULL, &c));
    cnet_socket_retain(c);
    rec_attach(c, &r);
    cnet_socket_destroy(c);
    while (cnet_loop_run_nowait(loop) && !strstr(test_log_str(&r.log), "close"))
        ;
    ASSERT_STR_EQ("close:0", test_log_str(&r.log));
    cnet_abort_controller_abort(ac);
    co.port = port;
    co.host = "127.0.0.1";
    co.signal = cnet_abort_controller_signal(ac);
    r.in_call = 1;
    ASSERT_OK(cnet_socket_connect_opts(c, &co, NULL, NULL));
    r.in_call = 0;
    ASSERT(cnet_socket_is_destroyed(c));
    r.close_server = srv;
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("close:0 error:ABORT_ERR close:1", test_log_str(&r.log));
    cnet_socket_release(c);
    cnet_abort_controller_free(ac);
    end_loop(loop);
}

/* The socket options' signal, already aborted: destroyed in cnet_socket_new(). */
static void test_socket_new_already_aborted(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_abort_controller_t *ac = new_controller();
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    rec_t r = {0};
    cnet_socket_t *s;

    test_set_phase("socket_new with an aborted signal");
    cnet_abort_controller_abort(ac);
    so.signal = cnet_abort_controller_signal(ac);
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    cnet_abort_controller_free(ac);
    ASSERT(cnet_socket_is_destroyed(s));
    ASSERT_ERR(CNET_ERR_STREAM_DESTROYED, cnet_socket_connect(s, 1, "127.0.0.1", NULL, NULL));
    rec_attach(s, &r); /* the events come later: listeners added now see them */
    end_loop(loop);
    ASSERT_STR_EQ("error:ABORT_ERR close:1", test_log_str(&r.log));
}

/* socket.connect(options) on an existing socket: cnet honours options.signal
 * (Node ignores it there; docs/design.md). Two signals on one socket: the
 * first abort destroys it, the second does nothing. */
static void two_signals_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_abort_controller_t **acs = arg;
    (void)ev;
    cnet_abort_controller_abort(acs[1]); /* the connect options' */
    ASSERT(cnet_socket_is_destroyed(s));
    cnet_abort_controller_abort(acs[0]); /* the socket options': nothing more */
}

static void test_two_signals(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_abort_controller_t *acs[2] = {new_controller(), new_controller()};
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    rec_t r = {0}, rs = {0};
    cnet_server_t *srv;
    cnet_socket_t *s;
    int port;

    test_set_phase("two signals on one socket, connect() on an existing socket");
    srv = server_on(loop, &rs, &port, NULL);
    so.signal = cnet_abort_controller_signal(acs[0]);
    ASSERT_OK(cnet_socket_new(loop, &so, &s));
    rec_attach(s, &r);
    co.port = port;
    co.host = "127.0.0.1";
    co.signal = cnet_abort_controller_signal(acs[1]);
    ASSERT_OK(cnet_socket_connect_opts(s, &co, two_signals_connect, acs));
    r.close_server = srv;
    end_loop(loop);
    ASSERT_STR_EQ("connect ready error:ABORT_ERR close:1", test_log_str(&r.log));
    cnet_abort_controller_free(acs[0]);
    cnet_abort_controller_free(acs[1]);
}

/*
 * One signal for a server and three clients. The abort (from the last
 * client's 'connect' listener, which then frees the controller) closes the
 * server and destroys every client; the server's 'close' comes after its
 * connections'.
 */
typedef struct shared {
    rec_t rc[3], rs;
    cnet_abort_controller_t *ac;
    int connected;
    int accepted_closed;
} shared_t;

static void shared_conn_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    shared_t *x = arg;
    (void)s;
    (void)ev;
    x->accepted_closed++;
}

static void shared_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    shared_t *x = arg;
    (void)srv;
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, shared_conn_close, x));
}

static void shared_srv_close(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    shared_t *x = arg;
    (void)srv;
    (void)ev;
    /* After its connections' 'close' (cnet's order). */
    ASSERT_EQ(0, cnet_server_connections(srv));
    (void)x;
}

static void shared_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    shared_t *x = arg;
    (void)s;
    (void)ev;
    if (++x->connected < 3)
        return;
    cnet_abort_controller_abort(x->ac);
    cnet_abort_controller_free(x->ac);
    x->ac = NULL;
}

static void test_shared_signal(void)
{
    cnet_loop_t *loop = new_loop();
    shared_t x;
    cnet_server_t *srv;
    int port;

    test_set_phase("one signal for a server and its clients");
    memset(&x, 0, sizeof x);
    x.ac = new_controller();
    srv = server_on(loop, &x.rs, &port, cnet_abort_controller_signal(x.ac));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, shared_connection, &x));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, shared_srv_close, &x));
    for (int i = 0; i < 3; i++) {
        cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
        cnet_socket_t *c;
        co.port = port;
        co.host = "127.0.0.1";
        co.signal = cnet_abort_controller_signal(x.ac);
        ASSERT_OK(cnet_create_connection(loop, &co, shared_connect, &x, &c));
        rec_attach(c, &x.rc[i]);
    }
    end_loop(loop);
    for (int i = 0; i < 3; i++)
        ASSERT_STR_EQ("connect ready error:ABORT_ERR close:1", test_log_str(&x.rc[i].log));
    /* A connection still in the backlog when the abort closed the server is
     * refused then; those accepted closed before the server's 'close'. */
    ASSERT(x.accepted_closed <= 3);
    ASSERT(strstr(test_log_str(&x.rs.log), "srv:close") != NULL);
    ASSERT(strstr(test_log_str(&x.rs.log), "srv:error") == NULL);
}

/* The controller freed early, inside 'error', inside 'close'; abort in 'close'. */
static void test_free_anytime(void)
{
    cnet_loop_t *loop = new_loop();
    rec_t r[3], rs = {0};
    cnet_abort_controller_t *ac[3] = {new_controller(), new_controller(), new_controller()};
    cnet_socket_t *c[3];
    cnet_server_t *srv;
    int port;

    test_set_phase("free the controller at any time");
    memset(r, 0, sizeof r);
    srv = server_on(loop, &rs, &port, NULL);
    for (int i = 0; i < 3; i++) {
        cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
        co.port = port;
        co.host = "127.0.0.1";
        co.signal = cnet_abort_controller_signal(ac[i]);
        ASSERT_OK(cnet_create_connection(loop, &co, NULL, NULL, &c[i]));
        rec_attach(c[i], &r[i]);
    }
    /* 0: freed before anything: the socket keeps its signal, closes normally. */
    cnet_abort_controller_free(ac[0]);
    ac[0] = NULL;
    cnet_socket_destroy(c[0]);
    /* 1: aborted now, freed inside its 'error' listener. */
    r[1].free_on_error = &ac[1];
    cnet_abort_controller_abort(ac[1]);
    /* 2: destroyed first, then aborted (nothing changes), freed inside 'close'. */
    cnet_socket_destroy(c[2]);
    cnet_abort_controller_abort(ac[2]);
    r[2].free_on_close = &ac[2];
    r[2].close_server = srv;
    end_loop(loop);
    ASSERT_STR_EQ("close:0", test_log_str(&r[0].log));
    ASSERT_STR_EQ("error:ABORT_ERR close:1", test_log_str(&r[1].log));
    ASSERT_STR_EQ("close:0", test_log_str(&r[2].log));
    ASSERT(ac[1] == NULL && ac[2] == NULL);
}

/* The listen options' signal: aborted while listening, while binding, and at listen. */
static void test_listen_signal(void)
{
    cnet_loop_t *loop = new_loop();
    cnet_abort_controller_t *ac = new_controller();
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    rec_t r = {0};
    cnet_server_t *srv;
    int port;

    test_set_phase("listen signal");
    srv = server_on(loop, &r, &port, cnet_abort_controller_signal(ac));
    ASSERT(cnet_server_is_listening(srv));
    r.in_call = 1;
    cnet_abort_controller_abort(ac); /* closes at once; 'close' comes later */
    r.in_call = 0;
    ASSERT(!cnet_server_is_listening(srv));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("srv:close", test_log_str(&r.log));
    cnet_abort_controller_free(ac);

    /* Already aborted at listen, no host (a bind at once): closed in listen(). */
    memset(&r, 0, sizeof r);
    ac = new_controller();
    cnet_abort_controller_abort(ac);
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_LISTENING, rec_srv, &r));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, rec_srv, &r));
    o.signal = cnet_abort_controller_signal(ac);
    r.in_call = 1;
    ASSERT_OK(cnet_server_listen_opts(srv, &o, rec_srv, &r));
    r.in_call = 0;
    cnet_abort_controller_free(ac);
    ASSERT(!cnet_server_is_listening(srv));
    end_loop(loop);
    ASSERT_STR_EQ("srv:close", test_log_str(&r.log));
}

/* Allocation failures: cnet_socket_new() fails cleanly; connect returns
 * ENOMEM before it changes anything, or reports the signal listener's as
 * 'error' (connect already returned 0). */
static void test_oom(void)
{
    int n, enomem_new = 0, enomem_connect = 0, reported = 0, port = closed_port();

    test_set_phase("oom");
    for (n = 1; n < 200; n++) {
        cnet_loop_t *loop = new_loop();
        cnet_abort_controller_t *ac = new_controller();
        cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
        cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
        cnet_socket_t *s = NULL;
        rec_t r = {0};
        bool injected;
        int err;

        so.signal = cnet_abort_controller_signal(ac);
        co.port = port;
        co.host = "127.0.0.1";
        co.signal = so.signal;
        alloc_seq = 0;
        fail_at = n;
        err = cnet_socket_new(loop, &so, &s);
        if (err == 0)
            err = cnet_socket_connect_opts(s, &co, NULL, NULL);
        injected = alloc_seq >= n;
        fail_at = 0;
        if (err != 0) {
            ASSERT_ERR(CNET_ENOMEM, err);
            if (!s) {
                ASSERT_EQ(0, cnet_loop_alive(loop)); /* nothing was created */
                enomem_new++;
            } else {
                ASSERT(!cnet_socket_is_destroyed(s)); /* unchanged */
                enomem_connect++;
            }
        }
        if (s) {
            rec_attach(s, &r);
            cnet_socket_destroy(s);
        }
        end_loop(loop);
        if (strcmp(test_log_str(&r.log), "error:ENOMEM close:1") == 0)
            reported++;
        cnet_abort_controller_free(ac);
        if (!injected) {
            ASSERT_OK(err);
            ASSERT_STR_EQ("close:0", test_log_str(&r.log));
            break;
        }
    }
    ASSERT(n < 200);
    ASSERT_EQ(2, enomem_new); /* the socket, its signal listener */
    ASSERT(enomem_connect >= 1);
    ASSERT_EQ(1, reported); /* the connect options' signal listener */
}

int main(void)
{
    test_watchdog(20);
    ASSERT_OK(cnet_replace_allocator(c_malloc, c_realloc, c_calloc, c_free));
    test_api();
    test_connect_already_aborted();
    test_reconnect_already_aborted();
    test_socket_new_already_aborted();
    test_two_signals();
    test_shared_signal();
    test_free_anytime();
    test_listen_signal();
    test_oom();
    ASSERT_EQ(0, live_allocs);
    fprintf(stderr, "test_abort: all scenarios passed\n");
    return 0;
}
