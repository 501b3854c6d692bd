/*
 * Loops: the per-thread default loop, cnet_run() freeing it, LOOP_BUSY,
 * adopting a libuv loop and handing it back, cnet_loop_stop(), and the
 * replaceable allocator: a counting allocator sees every allocation and
 * all are freed; a failing allocator (the Nth allocation fails, for every N
 * of a listen + connect + echo + close scenario) never crashes and leaks
 * nothing.
 */
#include "harness.h"
#include "internal.h" /* white-box: loop->next_id tells a fresh loop from a reused one */
#include "pair_helpers.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- counting, optionally failing allocator ---------------------------- */

static atomic_long live_allocs, total_allocs;
static atomic_long fail_at;   /* 0: never fail; else fail the allocation numbered fail_at */
static atomic_long alloc_seq; /* allocations since the counter was reset */
static atomic_int injected;

static int should_fail(void)
{
    long n = atomic_fetch_add(&alloc_seq, 1) + 1;
    long f = atomic_load(&fail_at);
    if (f && n == f) {
        atomic_store(&injected, 1);
        return 1;
    }
    return 0;
}

static void *c_malloc(size_t n)
{
    void *p;
    if (should_fail())
        return NULL;
    p = malloc(n);
    if (p)
        atomic_fetch_add(&live_allocs, 1), atomic_fetch_add(&total_allocs, 1);
    return p;
}


static void *c_calloc(size_t c, size_t n)
{
    void *p;
    if (should_fail())
        return NULL;
    p = calloc(c, n);
    if (p)
        atomic_fetch_add(&live_allocs, 1), atomic_fetch_add(&total_allocs, 1);
    return p;
}

static void *c_realloc(void *old, size_t n)
{
    void *p;
    if (should_fail())
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        atomic_fetch_add(&live_allocs, 1), atomic_fetch_add(&total_allocs, 1);
    return p;
}

static void c_free(void *p)
{
    if (p)
        live_allocs--;
    free(p);
}

/* ---- default loop per thread ----------------------------------------------- */

static void *thread_main(void *arg)
{
    cnet_loop_t **out = arg;
    cnet_loop_t *l = cnet_loop_default();
    ASSERT(l != NULL);
    ASSERT(l == cnet_loop_default());
    *out = l;
    ASSERT_OK(cnet_run()); /* nothing to do: returns and frees this thread's loop */
    return NULL;
}

static void test_default_per_thread(void)
{
    cnet_loop_t *mine, *theirs = NULL;
    pthread_t t;

    test_set_phase("default per thread");
    mine = cnet_loop_default();
    ASSERT(mine != NULL);
    ASSERT(mine == cnet_loop_default());
    ASSERT_EQ(0, pthread_create(&t, NULL, thread_main, &theirs));
    ASSERT_EQ(0, pthread_join(t, NULL));
    ASSERT(theirs != NULL);
    ASSERT(theirs != mine);
    ASSERT(mine == cnet_loop_default());
    ASSERT_OK(cnet_loop_close(mine));
}

/* ---- cnet_run on the default loop ----------------------------------------- */

typedef struct echo {
    cnet_server_t *srv;
    cnet_socket_t *client;
    char got[16];
    size_t got_len;
    int closed;
} echo_t;

static void echo_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    ASSERT(cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL) >= 0);
}

static void echo_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, echo_data, NULL));
}

static void client_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    echo_t *e = arg;
    ASSERT(e->got_len + ev->data.len < sizeof e->got);
    memcpy(e->got + e->got_len, ev->data.base, ev->data.len);
    e->got_len += ev->data.len;
    if (e->got_len == 4) {
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
        ASSERT_OK(cnet_server_close(e->srv, NULL, NULL));
    }
}

static void client_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    ASSERT(cnet_socket_write_str(s, "ping") >= 0);
}

static void client_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    echo_t *e = arg;
    (void)s;
    ASSERT(!ev->had_error);
    e->closed = 1;
}

static void srv_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    echo_t *e = arg;
    cnet_address_t a;
    cnet_socket_t *c;
    (void)ev;
    ASSERT_OK(cnet_server_address(srv, &a));
    ASSERT_OK(cnet_socket_new(cnet_server_loop(srv), NULL, &c));
    e->client = c;
    ASSERT_OK(cnet_socket_on(c, CNET_EVENT_DATA, client_data, e));
    ASSERT_OK(cnet_socket_on(c, CNET_EVENT_CLOSE, client_close, e));
    ASSERT_OK(cnet_socket_connect(c, a.port, "127.0.0.1", client_connect, e));
}

/* Starts an echo exchange on @p loop; it ends by itself (server closes). */
static void echo_start(cnet_loop_t *loop, echo_t *e)
{
    memset(e, 0, sizeof *e);
    ASSERT_OK(cnet_server_new(loop, NULL, &e->srv));
    ASSERT_OK(cnet_server_on(e->srv, CNET_EVENT_CONNECTION, echo_conn, NULL));
    ASSERT_OK(cnet_server_listen(e->srv, 0, "127.0.0.1", srv_listening, e));
}

static void test_cnet_run(void)
{
    cnet_loop_t *loop;
    cnet_server_t *srv;
    echo_t e;

    test_set_phase("cnet_run");
    loop = cnet_loop_default();
    echo_start(NULL, &e); /* NULL: the default loop */
    ASSERT(cnet_server_loop(e.srv) == loop);
    ASSERT(loop->next_id > 0);
    ASSERT_OK(cnet_run());
    ASSERT_STR_EQ("ping", e.got);
    ASSERT(e.closed);
    /* The default loop was freed: this one is new. */
    loop = cnet_loop_default();
    ASSERT_EQ(0, loop->next_id);
    ASSERT_EQ(0, cnet_loop_alive(loop));

    /* With an object left (an unref'd listening server), cnet_run returns but keeps the loop. */
    ASSERT_OK(cnet_server_new(NULL, NULL, &srv));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    cnet_server_unref(srv);
    ASSERT_OK(cnet_run());
    ASSERT(cnet_server_is_listening(srv));
    ASSERT(cnet_loop_default() == loop);
    ASSERT(loop->next_id > 0);
    ASSERT_ERR(CNET_ERR_LOOP_BUSY, cnet_loop_close(loop));
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_run());
    ASSERT_EQ(0, cnet_loop_default()->next_id);
    ASSERT_OK(cnet_loop_close(cnet_loop_default()));
}

/* ---- LOOP_BUSY ------------------------------------------------------------------ */

static void test_loop_busy(void)
{
    cnet_loop_t *loop;
    cnet_socket_t *s;
    cnet_server_t *srv;

    test_set_phase("loop busy");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_new(NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_close(NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_run(NULL));
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    ASSERT_EQ(1, cnet_loop_alive(loop));
    ASSERT_ERR(CNET_ERR_LOOP_BUSY, cnet_loop_close(loop));
    cnet_socket_destroy(s);
    ASSERT_ERR(CNET_ERR_LOOP_BUSY, cnet_loop_close(loop)); /* 'close' still pending */
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));

    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_ERR(CNET_ERR_LOOP_BUSY, cnet_loop_close(loop));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    ASSERT_ERR(CNET_ERR_LOOP_BUSY, cnet_loop_close(loop));
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

/* ---- adopting a libuv loop -------------------------------------------------------- */

static int uv_timer_fired;
static void on_uv_timer(uv_timer_t *t)
{
    (void)t;
    uv_timer_fired++;
}

static void test_from_uv(void)
{
    uv_loop_t uv;
    uv_timer_t t;
    cnet_loop_t *loop;
    echo_t e;

    test_set_phase("from uv");
    ASSERT_OK(uv_loop_init(&uv));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_from_uv(NULL, &loop));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_loop_from_uv(&uv, NULL));
    ASSERT(cnet_loop_get_uv(NULL) == NULL);
    ASSERT_OK(cnet_loop_from_uv(&uv, &loop));
    ASSERT(cnet_loop_get_uv(loop) == &uv);
    echo_start(loop, &e);
    uv_run(&uv, UV_RUN_DEFAULT); /* we run it ourselves */
    ASSERT_STR_EQ("ping", e.got);
    ASSERT(e.closed);
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    /* Handed back open and usable. */
    ASSERT_OK(uv_timer_init(&uv, &t));
    ASSERT_OK(uv_timer_start(&t, on_uv_timer, 1, 0));
    uv_run(&uv, UV_RUN_DEFAULT);
    ASSERT_EQ(1, uv_timer_fired);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&uv, UV_RUN_DEFAULT);
    ASSERT_OK(uv_loop_close(&uv));

    /* cnet_loop_run() on an adopted loop works too. */
    ASSERT_OK(uv_loop_init(&uv));
    ASSERT_OK(cnet_loop_from_uv(&uv, &loop));
    echo_start(loop, &e);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("ping", e.got);
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT_OK(uv_loop_close(&uv));
}

/* ---- cnet_loop_stop ------------------------------------------------------------------ */

static void stop_timer_cb(uv_timer_t *t)
{
    cnet_loop_stop(t->data);
}

static void test_stop(void)
{
    cnet_loop_t *loop;
    cnet_server_t *srv;
    uv_timer_t t;

    test_set_phase("stop");
    cnet_loop_stop(NULL);
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(loop), &t));
    t.data = loop;
    ASSERT_OK(uv_timer_start(&t, stop_timer_cb, 10, 0));
    ASSERT_OK(cnet_loop_run(loop)); /* returns although the server still listens */
    ASSERT(cnet_server_is_listening(srv));
    ASSERT(cnet_loop_run_nowait(loop)); /* work remains */
    uv_close((uv_handle_t *)&t, NULL);
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

/* ---- allocator ------------------------------------------------------------------------ */

static void test_counting(void)
{
    long before_live = live_allocs, before_total = total_allocs;
    cnet_loop_t *loop;
    echo_t e;

    test_set_phase("counting allocator");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_replace_allocator(NULL, realloc, calloc, free));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_replace_allocator(malloc, realloc, calloc, NULL));
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT(live_allocs > before_live);
    echo_start(loop, &e);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_STR_EQ("ping", e.got);
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT(total_allocs - before_total >= 5); /* loop, buffer, server, sockets, ... */
    ASSERT_EQ(before_live, live_allocs);
}

/* The OOM scenario: every step may fail with ENOMEM; whatever happens, clean up. */
typedef struct oom {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_socket_t *client, *accepted;
    uv_timer_t deadline;
    char got[8];
    size_t got_len;
    int done, enomem, errors;
} oom_t;

static void oom_finish(oom_t *o)
{
    if (o->done)
        return;
    o->done = 1;
    cnet_socket_destroy(o->client);
    cnet_socket_destroy(o->accepted);
    cnet_server_destroy(o->srv);
}

static void oom_check(oom_t *o, int r)
{
    if (r < 0) {
        ASSERT_ERR(CNET_ENOMEM, r);
        o->enomem++;
        oom_finish(o);
    }
}

static void oom_sock_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    ((oom_t *)arg)->errors++;
    oom_finish(arg);
}

static void oom_srv_error(cnet_server_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    ((oom_t *)arg)->errors++;
    oom_finish(arg);
}

static void oom_echo(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int r = cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL);
    if (r < 0)
        oom_check(arg, r);
}

static void oom_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    oom_t *o = arg;
    (void)srv;
    if (o->accepted || o->done) {
        cnet_socket_destroy(ev->connection);
        return;
    }
    o->accepted = ev->connection;
    cnet_socket_retain(o->accepted);
    oom_check(o, cnet_socket_on(o->accepted, CNET_EVENT_DATA, oom_echo, o));
}

static void oom_client_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    oom_t *o = arg;
    (void)s;
    if (o->got_len + ev->data.len <= 5) {
        memcpy(o->got + o->got_len, ev->data.base, ev->data.len);
        o->got_len += ev->data.len;
    }
    if (o->got_len == 5)
        oom_finish(o);
}

static void oom_connected(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    int r = cnet_socket_write(s, "hello", 5, NULL, NULL);
    (void)ev;
    if (r < 0)
        oom_check(arg, r);
}

static void oom_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    oom_t *o = arg;
    cnet_address_t a;
    int r;
    (void)ev;
    if (o->done)
        return;
    ASSERT_OK(cnet_server_address(srv, &a));
    r = cnet_socket_new(o->loop, NULL, &o->client);
    if (r < 0) {
        o->client = NULL;
        oom_check(o, r);
        return;
    }
    cnet_socket_retain(o->client);
    if ((r = cnet_socket_on(o->client, CNET_EVENT_ERROR, oom_sock_error, o)) < 0 ||
        (r = cnet_socket_on(o->client, CNET_EVENT_DATA, oom_client_data, o)) < 0 ||
        (r = cnet_socket_connect(o->client, a.port, "127.0.0.1", oom_connected, o)) < 0)
        oom_check(o, r);
}

static void oom_deadline(uv_timer_t *t)
{
    oom_t *o = t->data;
    oom_finish(o);
}

/* Returns 1 when the scenario completed the echo, 0 when it stopped on an error. */
static int oom_scenario(int *timed_out)
{
    oom_t o;
    int r;

    memset(&o, 0, sizeof o);
    r = cnet_loop_new(&o.loop);
    if (r < 0) {
        ASSERT_ERR(CNET_ENOMEM, r);
        return 0;
    }
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(o.loop), &o.deadline));
    o.deadline.data = &o;
    ASSERT_OK(uv_timer_start(&o.deadline, oom_deadline, 1000, 0));
    uv_unref((uv_handle_t *)&o.deadline);
    r = cnet_server_new(o.loop, NULL, &o.srv);
    if (r < 0) {
        o.srv = NULL;
        oom_check(&o, r);
    } else {
        if ((r = cnet_server_on(o.srv, CNET_EVENT_ERROR, oom_srv_error, &o)) < 0 ||
            (r = cnet_server_on(o.srv, CNET_EVENT_CONNECTION, oom_conn, &o)) < 0 ||
            (r = cnet_server_listen(o.srv, 0, "127.0.0.1", oom_listening, &o)) < 0)
            oom_check(&o, r);
    }
    ASSERT_OK(cnet_loop_run(o.loop));
    if (!o.done) {
        /* Nothing ref'd is left, yet we did not finish: an event was lost. */
        *timed_out = 1;
        oom_finish(&o);
        ASSERT_OK(cnet_loop_run(o.loop));
    }
    if (!uv_is_active((uv_handle_t *)&o.deadline) && o.got_len != 5)
        *timed_out = 1;
    uv_close((uv_handle_t *)&o.deadline, NULL);
    cnet_socket_release(o.client);
    cnet_socket_release(o.accepted);
    /* o.srv is not released: cnet_server_destroy() frees it even if retained. */
    ASSERT_OK(cnet_loop_run(o.loop));
    if (cnet_loop_alive(o.loop) != 0)
        TEST_FAIL_("%zu objects still alive after the scenario", cnet_loop_alive(o.loop));
    ASSERT_OK(cnet_loop_close(o.loop));
    return o.got_len == 5 && memcmp(o.got, "hello", 5) == 0;
}

static void test_oom(void)
{
    long base = live_allocs;
    int n, ok = 0, failures = 0, stuck = 0;

    test_set_phase("oom");
    for (n = 1; n < 500; n++) {
        int timed_out = 0, completed;
        char phase[64];
        snprintf(phase, sizeof phase, "oom n=%d", n);
        test_set_phase(phase);
        atomic_store(&alloc_seq, 0);
        atomic_store(&injected, 0);
        atomic_store(&fail_at, n);
        completed = oom_scenario(&timed_out);
        atomic_store(&fail_at, 0);
        if (live_allocs != base)
            TEST_FAIL_("oom n=%d: %ld allocations leaked", n, live_allocs - base);
        stuck += timed_out;
        if (completed)
            ok++;
        else
            failures++;
        if (!atomic_load(&injected)) {
            ASSERT(completed); /* no failure injected: it must work */
            break;
        }
    }
    fprintf(stderr,
            "oom: %d allocation points, %d completed anyway, %d stopped, %d lost an event\n", n - 1,
            ok - 1, failures, stuck);
    ASSERT(n > 5 && n < 500);
}

int main(void)
{
    test_watchdog(20);
    signal(SIGPIPE, SIG_IGN);
    ASSERT_OK(cnet_replace_allocator(c_malloc, c_realloc, c_calloc, c_free));
    test_default_per_thread();
    test_cnet_run();
    test_loop_busy();
    test_from_uv();
    test_stop();
    test_counting();
    test_oom();
    ASSERT_EQ(0, live_allocs);
    return 0;
}
