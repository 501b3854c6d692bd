/*
 * Happy Eyeballs (autoSelectFamily) and custom lookups (items 5 and 6 of
 * issue 8), the C side of what tests/conformance/connect_happy_eyeballs*
 * and connect_lookup compare with Node: a resolver answering inside its own
 * call never runs a callback inside connect(); a request completed after
 * its socket was destroyed, or after the loop was closed, only frees
 * itself; misuse of cnet_lookup_done(); the AggregateError's shape; the
 * attempt timeout's floor of 10 ms; the process-wide defaults; option
 * checks; a destroy inside every new event; reconnecting after a failed
 * Happy Eyeballs connect; without Happy Eyeballs (off, a family, a local
 * address), the sequential fallback to the next address, its final error
 * and a destroy at each of its steps; and an out-of-memory loop over a
 * whole scenario, with and without Happy Eyeballs.
 *
 * Nothing leaves loopback: refused addresses are 127.0.0.x with nothing
 * listening, the never-answering one is a loopback listener whose accept
 * queue is full (blackhole()).
 */
#include "harness.h"
#include "socket_recorder.h"

#include <cnet/uv.h>
#include <stdatomic.h>

/* ---- a counting, optionally failing allocator (for the OOM loop) -------- */

static atomic_long live_allocs, fail_at, alloc_seq;
static atomic_int injected;

static int should_fail(void)
{
    long n = atomic_fetch_add(&alloc_seq, 1) + 1, f = atomic_load(&fail_at);
    if (f && n == f) {
        atomic_store(&injected, 1);
        return 1;
    }
    return 0;
}

static void *t_malloc(size_t n)
{
    void *p = should_fail() ? NULL : malloc(n);
    if (p)
        atomic_fetch_add(&live_allocs, 1);
    return p;
}

static void *t_calloc(size_t c, size_t n)
{
    void *p = should_fail() ? NULL : calloc(c, n);
    if (p)
        atomic_fetch_add(&live_allocs, 1);
    return p;
}

static void *t_realloc(void *old, size_t n)
{
    void *p;
    if (should_fail())
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        atomic_fetch_add(&live_allocs, 1);
    return p;
}

static void t_free(void *p)
{
    if (p)
        atomic_fetch_sub(&live_allocs, 1);
    free(p);
}

/* ---- resolvers ------------------------------------------------------------ */

enum { ANSWER_SYNC, ANSWER_LATER, ANSWER_HELD };

typedef struct resolver {
    int mode;
    int status;
    cnet_address_t addrs[4];
    size_t n;
    unsigned delay_ms;
    cnet_loop_t *loop;
    uv_timer_t timer;
    cnet_lookup_req_t *held;
    cnet_lookup_info_t info; /* what the last call asked */
    char host[64];
    int calls;
    cnet_socket_t *destroy_inside; /* destroyed from inside the resolver call */
} resolver_t;

static void res_add(resolver_t *r, const char *ip, int family)
{
    snprintf(r->addrs[r->n].address, sizeof r->addrs[0].address, "%s", ip);
    r->addrs[r->n++].family = family;
}

static void res_timer_fired(uv_timer_t *t)
{
    resolver_t *r = t->data;
    ASSERT_OK(cnet_lookup_done(r->held, r->status, r->addrs, r->n));
    r->held = NULL;
    uv_close((uv_handle_t *)t, NULL);
}

static void resolve(cnet_lookup_req_t *req, const char *host, const cnet_lookup_info_t *info,
                    void *arg)
{
    resolver_t *r = arg;

    ASSERT_EQ(1, in_call); /* called from inside connect() */
    r->calls++;
    r->info = *info;
    snprintf(r->host, sizeof r->host, "%s", host);
    ASSERT(!cnet_lookup_is_cancelled(req));
    if (r->destroy_inside)
        cnet_socket_destroy(r->destroy_inside);
    switch (r->mode) {
    case ANSWER_SYNC:
        ASSERT_OK(cnet_lookup_done(req, r->status, r->addrs, r->n));
        break;
    case ANSWER_LATER:
        r->held = req;
        ASSERT_OK(uv_timer_init(cnet_loop_get_uv(r->loop), &r->timer));
        r->timer.data = r;
        ASSERT_OK(uv_timer_start(&r->timer, res_timer_fired, r->delay_ms, 0));
        break;
    default:
        r->held = req;
    }
}

/* ---- recording the new events ------------------------------------------- */

typedef struct attempts {
    test_log_t
        log; /* "connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED" */
    uint64_t t_attempt, t_timeout;
    int nattempts;    /* of the final error */
    cnet_error_t agg; /* the final error's pub, copied */
    cnet_error_t first, second;
    char first_msg[160], second_msg[160], first_addr[64];
} attempts_t;

static void attempt_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    attempts_t *a = arg;
    char item[160];

    ASSERT_EQ(0, in_call);
    if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED)
        snprintf(item, sizeof item, "%s:%s:%s", cnet_event_name(ev->type), ev->address,
                 ev->error ? cnet_err_name(ev->error->code) : "?");
    else
        snprintf(item, sizeof item, "%s:%s", cnet_event_name(ev->type), ev->address);
    test_log_add(&a->log, item);
    if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT && !a->t_attempt)
        a->t_attempt = cnet_loop_now(cnet_socket_loop(s));
    if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT)
        a->t_timeout = cnet_loop_now(cnet_socket_loop(s));
    ASSERT(ev->port > 0);
    ASSERT(ev->family == 4 || ev->family == 6);
}

/* The final 'error': copies what the aggregate lends, checking it while it is valid. */
static void final_error_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    attempts_t *a = arg;
    const cnet_error_t *e = ev->error;

    (void)s;
    a->agg = *e;
    a->nattempts = (int)e->nattempts;
    if (e->nattempts >= 1) {
        a->first = e->attempts[0];
        cpy(a->first_msg, sizeof a->first_msg, e->attempts[0].message);
        cpy(a->first_addr, sizeof a->first_addr, e->attempts[0].address);
    }
    if (e->nattempts >= 2) {
        a->second = e->attempts[1];
        cpy(a->second_msg, sizeof a->second_msg, e->attempts[1].message);
    }
    for (size_t i = 0; i < e->nattempts; i++)
        ASSERT(e->attempts[i].attempts == NULL && e->attempts[i].message != NULL);
}

static void attach_attempts(cnet_socket_t *s, attempts_t *a)
{
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT, attempt_cb, a));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT_FAILED, attempt_cb, a));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT, attempt_cb, a));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_ERROR, final_error_cb, a));
}

/* The new events also go to the recorder, which logs them by name. */
static void rec_attach_all(cnet_socket_t *s, rec_t *r)
{
    rec_attach(s, r);
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT, rec_cb, r)));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT_FAILED, rec_cb, r)));
    ASSERT_OK(CALL(cnet_socket_on(s, CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT, rec_cb, r)));
}

/* A loopback port whose connects never complete: listening, never accepting, queue full. */
static int blackhole(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, listen(fd, 1));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    for (int i = 0; i < 2; i++) { /* backlog 1 holds two: then Linux drops SYNs */
        int f = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT(f >= 0);
        ASSERT_EQ(0, connect(f, (struct sockaddr *)&sa, len));
    }
    return ntohs(sa.sin_port); /* every fd stays open until the process exits */
}

static cnet_connect_opts_t opts_for(int port, resolver_t *r)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    o.port = port;
    o.host = "example.invalid";
    o.lookup = resolve;
    o.lookup_arg = r;
    return o;
}

/* ---- tests ---------------------------------------------------------------- */

/* An answer given inside the resolver: every event still comes after connect() returns. */
static void test_sync_answer(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    resolver_t res = {.mode = ANSWER_SYNC};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    cnet_address_t got[3];

    test_set_phase("sync answer");
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "127.0.0.1", 4);
    o = opts_for(sc.port, &res);
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    cnet_socket_retain(s);
    rec_attach_all(s, r);
    r->destroy_on = CNET_EVENT_CONNECT + 1;
    ASSERT_OK(CALL(cnet_socket_connect_opts(s, &o, NULL, NULL)));
    ASSERT_STR_EQ("", test_log_str(&r->log));
    ASSERT_EQ(1, res.calls);
    ASSERT_STR_EQ("example.invalid", res.host);
    ASSERT(res.info.all);
    ASSERT_EQ(0, res.info.family);
    ASSERT_EQ(CNET_AI_ADDRCONFIG, res.info.hints);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup lookup connectionAttempt connectionAttemptFailed connectionAttempt "
                  "connect destroyed ready close(false)",
                  test_log_str(&r->log));
    /* The accessor: the count whatever n is, entries up to n. */
    ASSERT_EQ(2, cnet_socket_auto_select_family_attempted_addresses(s, NULL, 0));
    memset(got, 0, sizeof got);
    ASSERT_EQ(2, cnet_socket_auto_select_family_attempted_addresses(s, got, 1));
    ASSERT_STR_EQ("127.0.0.2", got[0].address);
    ASSERT_EQ(sc.port, got[0].port);
    ASSERT_EQ(4, got[0].family);
    ASSERT_STR_EQ("", got[1].address);
    ASSERT_EQ(2, cnet_socket_auto_select_family_attempted_addresses(s, got, 3));
    ASSERT_STR_EQ("127.0.0.1", got[1].address);
    ASSERT_EQ(0, cnet_socket_auto_select_family_attempted_addresses(NULL, got, 3));
    cnet_socket_release(s);
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

/* Every attempt refused: one 'error', Node's AggregateError, with each attempt's error. */
static void test_aggregate(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_LATER, .delay_ms = 1};
    attempts_t a = {0};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    char msg[128];
    int port = closed_port();

    test_set_phase("aggregate");
    res.loop = loop;
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "127.0.0.3", 4);
    o = opts_for(port, &res);
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach(s, r);
    attach_attempts(s, &a);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup lookup error:ECONNREFUSED close(true)", test_log_str(&r->log));
    ASSERT_STR_EQ("connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED "
                  "connectionAttempt:127.0.0.3 connectionAttemptFailed:127.0.0.3:ECONNREFUSED",
                  test_log_str(&a.log));
    ASSERT_EQ(CNET_ECONNREFUSED, a.agg.code);
    ASSERT(a.agg.syscall == NULL && a.agg.address == NULL);
    ASSERT_EQ(-1, a.agg.port);
    ASSERT_STR_EQ("", r->err_msg); /* Node's AggregateError has an empty message */
    ASSERT_EQ(2, a.nattempts);
    snprintf(msg, sizeof msg, "connect ECONNREFUSED 127.0.0.2:%d", port);
    ASSERT_STR_EQ(msg, a.first_msg);
    ASSERT_STR_EQ("127.0.0.2", a.first_addr);
    ASSERT_EQ(port, a.first.port);
    ASSERT_EQ(CNET_ECONNREFUSED, a.first.code);
    snprintf(msg, sizeof msg, "connect ECONNREFUSED 127.0.0.3:%d", port);
    ASSERT_STR_EQ(msg, a.second_msg);
    free(r);
    end_loop(loop);
}

/*
 * A destroy while the custom lookup is pending: 'close' only; the request
 * stays valid, reports itself cancelled, and is completed after the loop is
 * even closed (it touches nothing but itself).
 */
static void test_destroy_while_pending(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_HELD};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;

    test_set_phase("destroy while the lookup is pending");
    res_add(&res, "127.0.0.1", 4);
    o = opts_for(1, &res);
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach_all(s, r);
    ASSERT(res.held != NULL);
    ASSERT(!cnet_lookup_is_cancelled(res.held));
    VCALL(cnet_socket_destroy(s));
    ASSERT(cnet_lookup_is_cancelled(res.held));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("close(false)", test_log_str(&r->log));
    end_loop(loop);
    ASSERT_OK(cnet_lookup_done(res.held, 0, res.addrs, res.n));
    ASSERT_STR_EQ("close(false)", test_log_str(&r->log));
    free(r);
}

/* The resolver destroys the socket, then answers, all inside connect(). */
static void test_destroy_inside_resolver(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_SYNC};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;

    test_set_phase("destroy inside the resolver");
    res_add(&res, "127.0.0.1", 4);
    o = opts_for(1, &res);
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    rec_attach_all(s, r);
    res.destroy_inside = s;
    ASSERT_OK(CALL(cnet_socket_connect_opts(s, &o, NULL, NULL)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("close(false)", test_log_str(&r->log));
    free(r);
    end_loop(loop);
}

/* cnet_lookup_done() misuse is refused and changes nothing. */
static void test_done_misuse(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    resolver_t res = {.mode = ANSWER_HELD};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;

    test_set_phase("cnet_lookup_done misuse");
    sc.close_after = 1;
    srv_start(loop, &sc, NULL, NULL);
    res_add(&res, "127.0.0.1", 4);
    o = opts_for(sc.port, &res);
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach_all(s, r);
    r->destroy_on = CNET_EVENT_CONNECT + 1;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_lookup_done(NULL, 0, res.addrs, 1));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_lookup_done(res.held, 0, NULL, 1));
    ASSERT(cnet_lookup_is_cancelled(NULL));
    ASSERT_OK(CALL(cnet_lookup_done(res.held, 0, res.addrs, res.n)));
    /* A second answer while the socket still holds the request. */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, CALL(cnet_lookup_done(res.held, 0, res.addrs, 1)));
    ASSERT_STR_EQ("", test_log_str(&r->log)); /* nothing ran inside cnet_lookup_done() */
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup connectionAttempt connect destroyed ready close(false)",
                  test_log_str(&r->log));
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

/*
 * An attempt that never answers is abandoned after the attempt timeout,
 * which has a floor of 10 ms (Node's); the next address goes on, and the
 * aggregate lists the abandoned attempt as ETIMEDOUT first.
 */
static void test_timeout_floor(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_SYNC};
    attempts_t a = {0};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    char msg[128];
    int port = blackhole();

    test_set_phase("attempt timeout floor");
    res_add(&res, "127.0.0.1", 4); /* the blackhole */
    res_add(&res, "127.0.0.2", 4); /* refused */
    o = opts_for(port, &res);
    o.auto_select_family_attempt_timeout_ms = 1;
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach(s, r);
    attach_attempts(s, &a);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("connectionAttempt:127.0.0.1 connectionAttemptTimeout:127.0.0.1 "
                  "connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED",
                  test_log_str(&a.log));
    ASSERT(a.t_timeout >= a.t_attempt + 10); /* timers never fire early */
    ASSERT_EQ(CNET_ETIMEDOUT, a.agg.code);
    ASSERT_EQ(2, a.nattempts);
    snprintf(msg, sizeof msg, "connect ETIMEDOUT 127.0.0.1:%d", port);
    ASSERT_STR_EQ(msg, a.first_msg);
    ASSERT_STR_EQ("connect", a.first.syscall);
    free(r);
    end_loop(loop);
}

/* A destroy inside each Happy Eyeballs event: 'close' follows, nothing else (Node's order). */
static void test_destroy_in_events(void)
{
    static const struct {
        cnet_event_type_t type;
        const char *want;
    } cases[] = {
        {CNET_EVENT_LOOKUP, "lookup destroyed close(false)"},
        {CNET_EVENT_CONNECTION_ATTEMPT, "lookup lookup connectionAttempt destroyed close(false)"},
        {CNET_EVENT_CONNECTION_ATTEMPT_FAILED,
         "lookup lookup connectionAttempt connectionAttemptFailed destroyed close(false)"},
        {CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT,
         "lookup lookup connectionAttempt connectionAttemptTimeout destroyed close(false)"},
    };
    int refused = closed_port(), hole = blackhole();

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cnet_loop_t *loop = new_loop();
        resolver_t res = {.mode = ANSWER_SYNC};
        rec_t *r = rec_new();
        cnet_connect_opts_t o;
        cnet_socket_t *s;
        bool timeout = cases[i].type == CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT;

        test_set_phase(cnet_event_name(cases[i].type));
        res_add(&res, timeout ? "127.0.0.1" : "127.0.0.2", 4);
        res_add(&res, "127.0.0.3", 4);
        o = opts_for(timeout ? hole : refused, &res);
        o.auto_select_family_attempt_timeout_ms = 10;
        ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
        rec_attach_all(s, r);
        r->destroy_on = (int)cases[i].type + 1;
        ASSERT_OK(cnet_loop_run(loop));
        ASSERT_STR_EQ(cases[i].want, test_log_str(&r->log));
        free(r);
        end_loop(loop);
    }
}

/* The process-wide defaults: Node's validation; off means one address asked for, each tried. */
static void test_defaults(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_SYNC};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    int port = closed_port();

    test_set_phase("defaults");
    ASSERT(cnet_get_default_auto_select_family());
    ASSERT_EQ(250, cnet_get_default_auto_select_family_attempt_timeout());
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_set_default_auto_select_family_attempt_timeout(0));
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE,
               cnet_set_default_auto_select_family_attempt_timeout((unsigned)INT32_MAX + 1));
    ASSERT_EQ(250, cnet_get_default_auto_select_family_attempt_timeout());
    ASSERT_OK(cnet_set_default_auto_select_family_attempt_timeout(3));
    ASSERT_EQ(10, cnet_get_default_auto_select_family_attempt_timeout());
    ASSERT_OK(cnet_set_default_auto_select_family_attempt_timeout(250));

    cnet_set_default_auto_select_family(false);
    ASSERT(!cnet_get_default_auto_select_family());
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "127.0.0.3", 4);
    o = opts_for(port, &res);
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    cnet_set_default_auto_select_family(true); /* read once, by the connect call */
    rec_attach_all(s, r);
    ASSERT(!res.info.all);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup connectionAttempt connectionAttemptFailed connectionAttempt "
                  "connectionAttemptFailed error:ECONNREFUSED close(true)",
                  test_log_str(&r->log));
    ASSERT_STR_EQ("127.0.0.3", r->err_address); /* the last attempt's error, not an aggregate */
    free(r);

    /* The option overrides the default either way. */
    cnet_set_default_auto_select_family(false);
    r = rec_new();
    o.auto_select_family = CNET_AUTO_SELECT_FAMILY_ON;
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach(s, r);
    ASSERT(res.info.all);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup lookup error:ECONNREFUSED close(true)", test_log_str(&r->log));
    cnet_set_default_auto_select_family(true);
    free(r);
    end_loop(loop);
}

/* Option checks: returned at once, nothing scheduled. */
static void test_option_checks(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_HELD};
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;

    test_set_phase("option checks");
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    o.port = 1;
    o.host = "localhost";
    o.auto_select_family = 2;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_connect_opts(s, &o, NULL, NULL));
    o.auto_select_family = CNET_AUTO_SELECT_FAMILY_OFF;
    o.auto_select_family_attempt_timeout_ms = (unsigned)INT32_MAX + 1;
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_connect_opts(s, &o, NULL, NULL));
    o.auto_select_family_attempt_timeout_ms = 0;
    o.hints = 1024; /* dns.lookup() refuses it... */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_connect_opts(s, &o, NULL, NULL));
    ASSERT(!cnet_socket_is_connecting(s));
    o.lookup = resolve; /* ...a custom lookup gets it as it is */
    o.lookup_arg = &res;
    ASSERT_OK(CALL(cnet_socket_connect_opts(s, &o, NULL, NULL)));
    ASSERT_EQ(1024, res.info.hints);
    ASSERT(!res.info.all); /* OFF */
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));
    end_loop(loop);
    ASSERT_OK(cnet_lookup_done(res.held, CNET_ENOTFOUND, NULL, 0));
}

/* A retained socket whose Happy Eyeballs connect failed connects again; the list is per connect. */
static void reconnect_hook(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    srvctx_t *sc = r->user;
    if (ev->type == CNET_EVENT_CLOSE && r->had_error) {
        ASSERT_EQ(2, cnet_socket_auto_select_family_attempted_addresses(s, NULL, 0));
        r->closes = 0;
        test_log_add(&r->log, "|");
        ASSERT_OK(CALL(cnet_socket_connect(s, sc->port, "127.0.0.1", NULL, NULL)));
        ASSERT_EQ(0, cnet_socket_auto_select_family_attempted_addresses(s, NULL, 0));
    }
}

static void test_reconnect_after_failure(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc = {0};
    resolver_t res = {.mode = ANSWER_SYNC};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;

    test_set_phase("reconnect after an aggregate failure");
    sc.close_after = 1;
    sc.on_conn = NULL;
    srv_start(loop, &sc, NULL, NULL);
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "127.0.0.3", 4);
    o = opts_for(sc.port, &res);
    ASSERT_OK(CALL(cnet_socket_new(loop, NULL, &s)));
    cnet_socket_retain(s);
    rec_attach(s, r);
    r->user = &sc;
    r->hook = reconnect_hook;
    r->destroy_on = CNET_EVENT_CONNECT + 1;
    ASSERT_OK(CALL(cnet_socket_connect_opts(s, &o, NULL, NULL)));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup lookup error:ECONNREFUSED close(true) | connect destroyed ready "
                  "close(false)",
                  test_log_str(&r->log));
    cnet_socket_release(s);
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

/* ---- without Happy Eyeballs: the sequential fallback --------------------- */

/* Records the connected peer, then lets the recorder destroy the socket. */
static void remote_hook(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    cnet_address_t a;
    if (ev->type == CNET_EVENT_CONNECT) {
        ASSERT_OK(cnet_socket_remote_address(s, &a));
        cpy(r->user, CNET_ADDRSTRLEN, a.address);
    }
}

/*
 * autoSelectFamily off, a forced family, or a local address: Node's one
 * 'lookup' (the first address), then each address in turn, the next only
 * after the previous attempt failed, with the events of Node's single
 * attempt; unusable addresses after the first are skipped, a failed bind
 * (no 'connectionAttempt', as in Node) goes on too. No Happy Eyeballs: no
 * attempted-addresses list.
 */
static void test_sequential(void)
{
    static const struct {
        const char *name;
        int auto_select, family;
        const char *local_address;
        int mode;
        const char *lookup_address;
    } cases[] = {
        {"off", CNET_AUTO_SELECT_FAMILY_OFF, 0, NULL, ANSWER_LATER, "127.0.0.2"},
        {"family 4", CNET_AUTO_SELECT_FAMILY_DEFAULT, 4, NULL, ANSWER_SYNC, "127.0.0.2"},
        {"local address", CNET_AUTO_SELECT_FAMILY_ON, 0, "127.0.0.1", ANSWER_SYNC, "::1"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cnet_loop_t *loop = new_loop();
        srvctx_t sc = {0};
        resolver_t res = {.mode = cases[i].mode, .delay_ms = 1};
        attempts_t a = {0};
        rec_t *r = rec_new();
        cnet_connect_opts_t o;
        cnet_socket_t *s;
        char remote[CNET_ADDRSTRLEN] = "";

        test_set_phase(cases[i].name);
        res.loop = loop;
        sc.close_after = 1;
        srv_start(loop, &sc, NULL, NULL); /* 127.0.0.1: the same port on 127.0.0.2 is refused */
        if (cases[i].local_address) {
            res_add(&res, "::1", 6); /* the bind of 127.0.0.1 fails: EINVAL, no events */
            res_add(&res, "127.0.0.2", 4);
        } else {
            res_add(&res, "127.0.0.2", 4);
            res_add(&res, "1.2.3", 4);     /* skipped: not an IP */
            res_add(&res, "127.0.0.3", 5); /* skipped: no such family */
        }
        res_add(&res, "127.0.0.1", 4);
        o = opts_for(sc.port, &res);
        o.auto_select_family = cases[i].auto_select;
        o.family = cases[i].family;
        o.local_address = cases[i].local_address;
        ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
        cnet_socket_retain(s);
        rec_attach_all(s, r);
        attach_attempts(s, &a);
        r->hook = remote_hook;
        r->user = remote;
        r->destroy_on = CNET_EVENT_CONNECT + 1;
        ASSERT(!res.info.all); /* Node asks for one address */
        ASSERT_EQ(cases[i].family, res.info.family);
        ASSERT_OK(cnet_loop_run(loop));
        ASSERT_STR_EQ("lookup connectionAttempt connectionAttemptFailed connectionAttempt "
                      "connect destroyed ready close(false)",
                      test_log_str(&r->log));
        ASSERT_STR_EQ("connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED "
                      "connectionAttempt:127.0.0.1",
                      test_log_str(&a.log));
        ASSERT_STR_EQ(cases[i].lookup_address, r->lk_address); /* one 'lookup': the first */
        ASSERT_STR_EQ("127.0.0.1", remote);
        ASSERT_EQ(1, sc.nconn);
        ASSERT_EQ(0, cnet_socket_auto_select_family_attempted_addresses(s, NULL, 0));
        cnet_socket_release(s);
        srv_free(&sc);
        free(r);
        end_loop(loop);
    }
}

/* Every address fails: the socket's error is the last attempt's, a plain error (no aggregate). */
static void test_sequential_all_fail(void)
{
    cnet_loop_t *loop = new_loop();
    resolver_t res = {.mode = ANSWER_SYNC};
    attempts_t a = {0};
    rec_t *r = rec_new();
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    char msg[128];
    int port = closed_port();

    test_set_phase("sequential, all refused");
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "127.0.0.3", 4);
    o = opts_for(port, &res);
    o.auto_select_family = CNET_AUTO_SELECT_FAMILY_OFF;
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach(s, r);
    attach_attempts(s, &a);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup error:ECONNREFUSED close(true)", test_log_str(&r->log));
    ASSERT_STR_EQ("connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED "
                  "connectionAttempt:127.0.0.3 connectionAttemptFailed:127.0.0.3:ECONNREFUSED",
                  test_log_str(&a.log));
    ASSERT_EQ(0, a.nattempts);
    ASSERT_STR_EQ("connect", r->err_syscall);
    ASSERT_STR_EQ("127.0.0.3", r->err_address);
    ASSERT_EQ(port, r->err_port);
    snprintf(msg, sizeof msg, "connect ECONNREFUSED 127.0.0.3:%d", port);
    ASSERT_STR_EQ(msg, r->err_msg);
    free(r);

    /* The last attempt's error even when it is a bind's (127.0.0.1 is not of ::1's family). */
    test_set_phase("sequential, last bind fails");
    r = rec_new();
    memset(&a, 0, sizeof a);
    res.n = 0;
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "::1", 6);
    o.local_address = "127.0.0.1";
    ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
    rec_attach(s, r);
    attach_attempts(s, &a);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("lookup error:EINVAL close(true)", test_log_str(&r->log));
    ASSERT_STR_EQ("connectionAttempt:127.0.0.2 connectionAttemptFailed:127.0.0.2:ECONNREFUSED",
                  test_log_str(&a.log));
    ASSERT_STR_EQ("bind", r->err_syscall);
    ASSERT_STR_EQ("127.0.0.1", r->err_address);
    free(r);
    end_loop(loop);
}

/*
 * A destroy at each step of the fallback: in the first attempt's
 * 'connectionAttemptFailed', while that attempt's handle is closing (from a
 * check callback, which libuv runs after the connect callback and before
 * the close callbacks of the same iteration), and in the next address's
 * 'connectionAttempt'. Then 'close', once, and nothing else.
 */
typedef struct seq_destroy {
    rec_t *r;
    cnet_socket_t *s;
    int when; /* 0: in the failure, 1: while closing, 2: in the second attempt */
    int attempts;
    uv_check_t check;
} seq_destroy_t;

static void count_closing_tcp(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TCP && uv_is_closing(h))
        ++*(int *)arg;
}

static void seq_destroy_check(uv_check_t *h)
{
    seq_destroy_t *d = h->data;
    int closing = 0;

    uv_walk(h->loop, count_closing_tcp, &closing);
    ASSERT_EQ(1, closing); /* the failed attempt's handle, not yet closed */
    VCALL(cnet_socket_destroy(d->s));
    test_log_add(&d->r->log, "destroyed");
    ASSERT_OK(uv_check_stop(h));
    uv_close((uv_handle_t *)h, NULL);
}

static void seq_destroy_hook(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    seq_destroy_t *d = r->user;

    if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT && ++d->attempts == 2 && d->when == 2) {
        VCALL(cnet_socket_destroy(s));
        test_log_add(&r->log, "destroyed");
    } else if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED && d->when == 0) {
        VCALL(cnet_socket_destroy(s));
        test_log_add(&r->log, "destroyed");
    } else if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED && d->when == 1) {
        d->s = s;
        ASSERT_OK(uv_check_init(cnet_loop_get_uv(cnet_socket_loop(s)), &d->check));
        d->check.data = d;
        ASSERT_OK(uv_check_start(&d->check, seq_destroy_check));
    }
}

static void test_sequential_destroy(void)
{
    static const char *const want[] = {
        "lookup connectionAttempt connectionAttemptFailed destroyed close(false)",
        "lookup connectionAttempt connectionAttemptFailed destroyed close(false)",
        "lookup connectionAttempt connectionAttemptFailed connectionAttempt destroyed "
        "close(false)",
    };
    int port = closed_port();

    for (int when = 0; when < 3; when++) {
        cnet_loop_t *loop = new_loop();
        resolver_t res = {.mode = ANSWER_SYNC};
        seq_destroy_t d = {.when = when};
        rec_t *r = rec_new();
        cnet_connect_opts_t o;
        cnet_socket_t *s;
        char phase[48];

        snprintf(phase, sizeof phase, "sequential destroy %d", when);
        test_set_phase(phase);
        res_add(&res, "127.0.0.2", 4);
        res_add(&res, "127.0.0.3", 4);
        o = opts_for(port, &res);
        o.auto_select_family = CNET_AUTO_SELECT_FAMILY_OFF;
        ASSERT_OK(CALL(cnet_create_connection(loop, &o, NULL, NULL, &s)));
        rec_attach_all(s, r);
        d.r = r;
        r->user = &d;
        r->hook = seq_destroy_hook;
        ASSERT_OK(cnet_loop_run(loop));
        ASSERT_STR_EQ(want[when], test_log_str(&r->log));
        ASSERT_EQ(1, r->closes);
        free(r);
        end_loop(loop);
    }
}

/*
 * Out of memory anywhere in a Happy Eyeballs connect (lookup answer, attempt
 * errors, the aggregate, the attempted list): the N-th allocation fails, for
 * every N; each run ends with 'connect' or 'close', leaks nothing and
 * leaves no object alive.
 */
typedef struct {
    bool connected, closed;
} oom_run_t;

static void oom_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    oom_run_t *o = arg;
    if (ev->type == CNET_EVENT_CONNECT) {
        o->connected = true;
        cnet_socket_destroy(s);
    } else if (ev->type == CNET_EVENT_CLOSE) {
        o->closed = true;
    }
}

static bool oom_once(int port, bool all_refused, int auto_select)
{
    cnet_loop_t *loop;
    resolver_t res = {.mode = ANSWER_SYNC};
    cnet_connect_opts_t o;
    oom_run_t run = {0};
    cnet_socket_t *s;
    int r;

    if (cnet_loop_new(&loop) != 0)
        return false;
    res_add(&res, "127.0.0.2", 4);
    res_add(&res, "::1", 6);
    res_add(&res, all_refused ? "127.0.0.3" : "127.0.0.1", 4);
    o = opts_for(port, &res);
    o.auto_select_family = auto_select;
    r = CALL(cnet_create_connection(loop, &o, NULL, NULL, &s));
    if (r == 0) {
        if (cnet_socket_on(s, CNET_EVENT_CONNECT, oom_event, &run) != 0 ||
            cnet_socket_on(s, CNET_EVENT_CLOSE, oom_event, &run) != 0)
            cnet_socket_destroy(s);
    } else {
        ASSERT_ERR(CNET_ENOMEM, r);
        run.closed = true;
    }
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    return run.connected;
}

/* A listener that never accepts but has room: its connects complete in the kernel. */
static int raw_listener(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, listen(fd, 511));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    return ntohs(sa.sin_port); /* connections complete in the kernel; never accepted */
}

/*
 * Every N for one variant: a connect that succeeds after a refusal, or
 * every address refused; with Happy Eyeballs or (auto_select OFF) the
 * sequential fallback.
 */
static void oom_loop(int port, bool all_refused, int auto_select)
{
    const char *mode = auto_select == CNET_AUTO_SELECT_FAMILY_OFF ? "sequential" : "he";
    int n, completed = 0;
    long base = atomic_load(&live_allocs);

    for (n = 1; n < 400; n++) {
        char phase[64];
        bool ok;
        snprintf(phase, sizeof phase, "oom %s %s n=%d", mode, all_refused ? "refused" : "connect",
                 n);
        test_set_phase(phase);
        atomic_store(&alloc_seq, 0);
        atomic_store(&injected, 0);
        atomic_store(&fail_at, n);
        ok = oom_once(port, all_refused, auto_select);
        atomic_store(&fail_at, 0);
        if (atomic_load(&live_allocs) != base)
            TEST_FAIL_("%s: %ld allocations leaked", phase, atomic_load(&live_allocs) - base);
        completed += ok;
        if (!atomic_load(&injected)) {
            ASSERT(ok != all_refused); /* nothing failed: it connects, or fails for good */
            break;
        }
    }
    fprintf(stderr, "oom %s %s: %d allocation points, %d connected\n", mode,
            all_refused ? "refused" : "connect", n - 1, completed);
    ASSERT(n > 5 && n < 400);
}

static void test_oom(void)
{
    int port = raw_listener();

    test_set_phase("oom");
    ASSERT_OK(cnet_replace_allocator(t_malloc, t_realloc, t_calloc, t_free));
    oom_loop(port, false, CNET_AUTO_SELECT_FAMILY_DEFAULT);
    oom_loop(port, true, CNET_AUTO_SELECT_FAMILY_DEFAULT);
    oom_loop(port, false, CNET_AUTO_SELECT_FAMILY_OFF);
    oom_loop(port, true, CNET_AUTO_SELECT_FAMILY_OFF);
    ASSERT_OK(cnet_replace_allocator(malloc, realloc, calloc, free));
}

int main(void)
{
    test_watchdog(30);
    test_sync_answer();
    test_aggregate();
    test_destroy_while_pending();
    test_destroy_inside_resolver();
    test_done_misuse();
    test_timeout_floor();
    test_destroy_in_events();
    test_defaults();
    test_option_checks();
    test_reconnect_after_failure();
    test_sequential();
    test_sequential_all_fail();
    test_sequential_destroy();
    test_oom();
    printf("ok\n");
    return 0;
}
