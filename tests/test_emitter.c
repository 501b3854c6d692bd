/*
 * EventEmitter semantics on sockets and servers: registration API and its
 * errors, call order, Node's snapshot rule (checked against node's
 * EventEmitter: see the expected strings, produced by the equivalent JS),
 * once under re-entrant emits, off's "most recent match", arg_free timing.
 * Re-entrant emits use the internal cnet__socket_emit (white-box); a real
 * 'data' and 'connection' flow over loopback checks the public path.
 */
#include "harness.h"
#include "internal.h"
#include "pair_helpers.h"

static test_log_t lg;
static cnet_socket_t *g_s;

static void emit_ev(cnet_socket_t *s, cnet_event_type_t type)
{
    cnet_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    cnet__socket_emit(s, &ev);
}

/* A listener that logs its arg (a string). */
static void L(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    test_log_add(&lg, arg);
}
static void L2(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    test_log_add(&lg, arg);
}

static cnet_socket_t *new_sock(cnet_loop_t *loop)
{
    cnet_socket_t *s;
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    return s;
}

static void free_sock(cnet_loop_t *loop, cnet_socket_t *s)
{
    cnet_socket_destroy(s);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
}

/* ---- registration API ---------------------------------------------------- */

static void srv_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)ev;
    (void)arg;
}

static void test_api(void)
{
    cnet_loop_t *loop;
    cnet_socket_t *s;
    cnet_server_t *srv;

    test_set_phase("api");
    ASSERT_OK(cnet_loop_new(&loop));
    s = new_sock(loop);
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "a"));
    ASSERT_OK(cnet_socket_once(s, CNET_EVENT_DATA, L, "b"));
    ASSERT_OK(cnet_socket_prepend(s, CNET_EVENT_DATA, L, "c"));
    ASSERT_OK(cnet_socket_prepend_once(s, CNET_EVENT_DATA, L, "d"));
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_END, L, "e", NULL));
    ASSERT_EQ(4, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_EQ(1, cnet_socket_listener_count(s, CNET_EVENT_END));
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_CLOSE));

    /* Errors: bad type, NULL cb, NULL object. */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_on(s, CNET_EVENT__COUNT, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_on(s, (cnet_event_type_t)-1, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_once(s, (cnet_event_type_t)99, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_prepend(s, CNET_EVENT__COUNT, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_prepend_once(s, CNET_EVENT__COUNT, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_on_ex(s, CNET_EVENT__COUNT, L, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_on(s, CNET_EVENT_DATA, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_once(s, CNET_EVENT_DATA, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_prepend(s, CNET_EVENT_DATA, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_prepend_once(s, CNET_EVENT_DATA, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_on(NULL, CNET_EVENT_DATA, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_off(NULL, CNET_EVENT_DATA, L, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_off_all(NULL, CNET_EVENT_DATA));
    ASSERT_EQ(0, cnet_socket_listener_count(NULL, CNET_EVENT_DATA));
    ASSERT_EQ(4, cnet_socket_listener_count(s, CNET_EVENT_DATA)); /* failures added nothing */

    /* off: a non-matching (cb, arg) changes nothing and still returns 0. */
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "zz"));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L2, "a"));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_END, L, "a"));
    ASSERT_EQ(4, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "a"));
    ASSERT_EQ(3, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_EQ(1, cnet_socket_listener_count(s, CNET_EVENT_END));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "a"));
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_ALL));
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    ASSERT_EQ(0, cnet_socket_listener_count(s, CNET_EVENT_END));
    free_sock(loop, s);

    /* The same on a server. */
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, srv_cb, "a"));
    ASSERT_OK(cnet_server_once(srv, CNET_EVENT_CONNECTION, srv_cb, "b"));
    ASSERT_OK(cnet_server_prepend(srv, CNET_EVENT_CONNECTION, srv_cb, "c"));
    ASSERT_OK(cnet_server_on_ex(srv, CNET_EVENT_LISTENING, srv_cb, "d", NULL));
    ASSERT_EQ(3, cnet_server_listener_count(srv, CNET_EVENT_CONNECTION));
    ASSERT_EQ(1, cnet_server_listener_count(srv, CNET_EVENT_LISTENING));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_on(srv, CNET_EVENT__COUNT, srv_cb, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE,
               cnet_server_once(srv, (cnet_event_type_t)-5, srv_cb, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE,
               cnet_server_prepend(srv, CNET_EVENT__COUNT, srv_cb, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE,
               cnet_server_on_ex(srv, CNET_EVENT__COUNT, srv_cb, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_on(srv, CNET_EVENT_CLOSE, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_once(srv, CNET_EVENT_CLOSE, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_on(NULL, CNET_EVENT_CLOSE, srv_cb, NULL));
    ASSERT_OK(cnet_server_off(srv, CNET_EVENT_CONNECTION, srv_cb, "nomatch"));
    ASSERT_EQ(3, cnet_server_listener_count(srv, CNET_EVENT_CONNECTION));
    ASSERT_OK(cnet_server_off(srv, CNET_EVENT_CONNECTION, srv_cb, "c"));
    ASSERT_EQ(2, cnet_server_listener_count(srv, CNET_EVENT_CONNECTION));
    ASSERT_OK(cnet_server_off_all(srv, CNET_EVENT_CONNECTION));
    ASSERT_EQ(0, cnet_server_listener_count(srv, CNET_EVENT_CONNECTION));
    ASSERT_EQ(1, cnet_server_listener_count(srv, CNET_EVENT_LISTENING));
    ASSERT_OK(cnet_server_off_all(srv, CNET_EVENT_ALL));
    ASSERT_EQ(0, cnet_server_listener_count(srv, CNET_EVENT_LISTENING));
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

/* ---- order and snapshot (white-box emits) -------------------------------- */

static void test_order(cnet_loop_t *loop)
{
    /* node: on a; prependOnce po; prepend p -> "p po a | p a" */
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("order");
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "a"));
    ASSERT_OK(cnet_socket_prepend_once(s, CNET_EVENT_DATA, L, "po"));
    ASSERT_OK(cnet_socket_prepend(s, CNET_EVENT_DATA, L, "p"));
    ASSERT_OK(cnet_socket_once(s, CNET_EVENT_DATA, L, "o"));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "b"));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_END, L, "END"));
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("p po a o b | p a b", test_log_str(&lg));
    ASSERT_EQ(3, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    free_sock(loop, s);
}

/* node: "a b | p a c" — a adds c, removes b, prepends p during the emit. */
static void snap_a(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "a");
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "c"));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "b"));
    ASSERT_OK(cnet_socket_prepend(s, CNET_EVENT_DATA, L, "p"));
    ASSERT_OK(cnet_socket_prepend_once(s, CNET_EVENT_DATA, L, "q"));
}

static int snap_once_done;
static void snap_a_once(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (!snap_once_done++)
        snap_a(s, ev, arg);
    else
        test_log_add(&lg, "a");
}

static void test_snapshot(cnet_loop_t *loop)
{
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("snapshot");
    memset(&lg, 0, sizeof lg);
    snap_once_done = 0;
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, snap_a_once, NULL));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "b"));
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("a b | q p a c | p a c", test_log_str(&lg));
    free_sock(loop, s);
}

/*
 * More listeners than the emit's on-stack snapshot holds (8): the snapshot
 * goes to the heap and the rule is unchanged. node: twelve listeners, the
 * first removes them all and adds "new" -> "0 1 ... 11 | new".
 */
static const char *const many_names[] = {"0", "1", "2", "3", "4",  "5",
                                         "6", "7", "8", "9", "10", "11"};
static void many_first(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    test_log_add(&lg, arg);
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "new"));
}

static bool fail_malloc;
static void *test_malloc(size_t n)
{
    return fail_malloc ? NULL : malloc(n);
}

static void test_many_listeners(cnet_loop_t *loop)
{
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("many listeners");
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, many_first, (void *)many_names[0]));
    for (size_t i = 1; i < 12; i++) {
        ASSERT_OK(cnet_socket_on(s, CNET_EVENT_END, L2, "end")); /* interleaved other type */
        ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, (void *)many_names[i]));
    }
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("0 1 2 3 4 5 6 7 8 9 10 11 | new", test_log_str(&lg));

    /* No memory for the heap snapshot: the first eight are called, nothing crashes. */
    test_set_phase("many listeners, out of memory");
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));
    for (size_t i = 1; i < 12; i++)
        ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, (void *)many_names[i]));
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_replace_allocator(test_malloc, realloc, calloc, free));
    fail_malloc = true;
    emit_ev(s, CNET_EVENT_DATA);
    fail_malloc = false;
    ASSERT_OK(cnet_replace_allocator(malloc, realloc, calloc, free));
    ASSERT_STR_EQ("1 2 3 4 5 6 7 8", test_log_str(&lg));
    free_sock(loop, s);
}

/* node: on a (re-emits once), once o -> "a0 a1 o | a2" */
static int depth;
static void reent(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    char buf[16];
    (void)ev;
    (void)arg;
    snprintf(buf, sizeof buf, "a%d", depth);
    test_log_add(&lg, buf);
    if (depth++ == 0)
        emit_ev(s, CNET_EVENT_DATA);
}

static void test_once_reentrant(cnet_loop_t *loop)
{
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("once reentrant");
    memset(&lg, 0, sizeof lg);
    depth = 0;
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, reent, NULL));
    ASSERT_OK(cnet_socket_once(s, CNET_EVENT_DATA, L, "o"));
    ASSERT_OK(cnet_socket_prepend_once(s, CNET_EVENT_DATA, L, "po"));
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    /* po runs first in the outer emit; the nested emit's snapshot no longer has it. */
    ASSERT_STR_EQ("po a0 a1 o | a2", test_log_str(&lg));
    ASSERT_EQ(1, cnet_socket_listener_count(s, CNET_EVENT_DATA));
    free_sock(loop, s);
}

/* node: on a (removes once o), once o -> "a o | a" */
static void rm_o(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "a");
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "o"));
}

static void test_remove_once_during_emit(cnet_loop_t *loop)
{
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("remove once during emit");
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, rm_o, NULL));
    ASSERT_OK(cnet_socket_once(s, CNET_EVENT_DATA, L, "o"));
    emit_ev(s, CNET_EVENT_DATA);
    test_log_add(&lg, "|");
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("a o | a", test_log_str(&lg));
    free_sock(loop, s);
}

/* node: on f; on g; on f; removeListener f -> "f g" (the last f goes). */
static void test_off_most_recent(cnet_loop_t *loop)
{
    cnet_socket_t *s = new_sock(loop);
    static char one[] = "f1", two[] = "f2";
    test_set_phase("off most recent");
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "f"));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "g"));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, "f"));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "f"));
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("f g", test_log_str(&lg));
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));

    /* The arg is part of the identity: off(L, one) leaves (L, two). */
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, one));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L, two));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, L2, one));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, one));
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("f2 f1", test_log_str(&lg));
    /* A once listener is removed by off too (before it fired). */
    memset(&lg, 0, sizeof lg);
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));
    ASSERT_OK(cnet_socket_once(s, CNET_EVENT_DATA, L, "o"));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "o"));
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("", test_log_str(&lg));
    free_sock(loop, s);
}

/* ---- arg_free ------------------------------------------------------------- */

typedef struct counted {
    int freed;
    int calls;
    const char *name;
} counted_t;

static void counted_free(void *p)
{
    counted_t *c = p;
    c->freed++;
    ASSERT_EQ(1, c->freed);
}

static void counted_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    counted_t *c = arg;
    (void)s;
    (void)ev;
    ASSERT_EQ(0, c->freed); /* never called after its arg was freed */
    c->calls++;
    test_log_add(&lg, c->name);
}

static counted_t *g_self, *g_other;
static int g_nested;

/* Removes itself and the other listener, then re-emits once. */
static void remover_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    counted_t *c = arg;
    (void)ev;
    ASSERT_EQ(0, c->freed);
    c->calls++;
    test_log_add(&lg, c->name);
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, remover_cb, g_self));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, counted_cb, g_other));
    ASSERT_EQ(0, g_self->freed); /* parked: the emit is still running */
    ASSERT_EQ(0, g_other->freed);
    if (!g_nested++) {
        emit_ev(s, CNET_EVENT_END); /* a nested emit of another event must not free them */
        ASSERT_EQ(0, g_other->freed);
    }
}

static void end_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)ev;
    (void)arg;
    test_log_add(&lg, "END");
}

static void test_arg_free(cnet_loop_t *loop)
{
    counted_t a = {0, 0, "a"}, b = {0, 0, "b"}, c = {0, 0, "c"}, d = {0, 0, "d"};
    counted_t e = {0, 0, "e"}, f = {0, 0, "f"};
    cnet_socket_t *s = new_sock(loop);
    cnet_server_t *srv;

    test_set_phase("arg_free");
    memset(&lg, 0, sizeof lg);
    /* Removed by off: freed at once, exactly once. */
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_DATA, counted_cb, &a, counted_free));
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, counted_cb, &a));
    ASSERT_EQ(1, a.freed);
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, counted_cb, &a));
    ASSERT_EQ(1, a.freed);
    /* Removed by off_all. */
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_DATA, counted_cb, &b, counted_free));
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_END, counted_cb, &c, counted_free));
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_DATA));
    ASSERT_EQ(1, b.freed);
    ASSERT_EQ(0, c.freed);
    ASSERT_OK(cnet_socket_off_all(s, CNET_EVENT_ALL));
    ASSERT_EQ(1, c.freed);

    /* Removed during an emit: still called in it (snapshot), freed after the last call. */
    g_self = &d;
    g_other = &e;
    g_nested = 0;
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_DATA, remover_cb, &d, counted_free));
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_DATA, counted_cb, &e, counted_free));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_END, end_cb, NULL));
    emit_ev(s, CNET_EVENT_DATA);
    ASSERT_STR_EQ("d END e", test_log_str(&lg));
    ASSERT_EQ(1, d.freed);
    ASSERT_EQ(1, e.freed);
    ASSERT_EQ(1, e.calls);

    /* Freed with the object. */
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_CLOSE, counted_cb, &f, counted_free));
    free_sock(loop, s);
    ASSERT_EQ(1, f.calls); /* 'close' ran it */
    ASSERT_EQ(1, f.freed);

    /* And with a server. */
    {
        counted_t g = {0, 0, "g"};
        ASSERT_OK(cnet_server_new(loop, NULL, &srv));
        ASSERT_OK(cnet_server_on_ex(srv, CNET_EVENT_CONNECTION, srv_cb, &g, counted_free));
        ASSERT_OK(cnet_server_off(srv, CNET_EVENT_CONNECTION, srv_cb, &g));
        ASSERT_EQ(1, g.freed);
        g.freed = 0;
        ASSERT_OK(cnet_server_on_ex(srv, CNET_EVENT_CONNECTION, srv_cb, &g, counted_free));
        cnet_server_destroy(srv);
        ASSERT_OK(cnet_loop_run(loop));
        ASSERT_EQ(1, g.freed);
    }
}

/* Removing a listener of an in-progress emit from a nested emit of the same event. */
static counted_t *g_victim;
static int g_inner;
static void nest_outer(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, g_inner ? "n1" : "n0");
    if (!g_inner++) {
        emit_ev(s, CNET_EVENT_DATA);
        ASSERT_EQ(0, g_victim->freed); /* the outer emit still has to call it */
    } else {
        ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, counted_cb, g_victim));
    }
}

static void test_arg_free_nested(cnet_loop_t *loop)
{
    counted_t v = {0, 0, "v"};
    cnet_socket_t *s = new_sock(loop);
    test_set_phase("arg_free nested");
    memset(&lg, 0, sizeof lg);
    g_victim = &v;
    g_inner = 0;
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_DATA, nest_outer, NULL));
    ASSERT_OK(cnet_socket_on_ex(s, CNET_EVENT_DATA, counted_cb, &v, counted_free));
    emit_ev(s, CNET_EVENT_DATA);
    /* inner: n1 (removes v), v still called (inner snapshot); outer: v called again. */
    ASSERT_STR_EQ("n0 n1 v v", test_log_str(&lg));
    ASSERT_EQ(1, v.freed);
    free_sock(loop, s);
}

/* ---- real events over loopback ----------------------------------------- */

static char got[256];
static size_t got_len;
static int data_events;

static void data_a(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)arg;
    ASSERT(ev->type == CNET_EVENT_DATA);
    ASSERT(got_len + ev->data.len < sizeof got);
    memcpy(got + got_len, ev->data.base, ev->data.len);
    got_len += ev->data.len;
    data_events++;
    test_log_add(&lg, "a");
}

static void data_removes_b(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    test_log_add(&lg, "x");
    /* b comes after us: removed during the emit, it is still called this time. */
    ASSERT_OK(cnet_socket_off(s, CNET_EVENT_DATA, L, "b"));
}

static void conn_log(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    ASSERT(ev->connection != NULL);
    test_log_add(&lg, arg);
}

static int wrote;
static void write_done(cnet_socket_t *s, int status, void *arg)
{
    (void)s;
    (void)arg;
    ASSERT_OK(status);
    wrote = 1;
}

static void test_real_events(void)
{
    pair_t p;

    test_set_phase("real events");
    memset(&lg, 0, sizeof lg);
    pair_listen(&p, NULL);
    ASSERT_OK(cnet_server_on(p.srv, CNET_EVENT_CONNECTION, conn_log, "c1"));
    ASSERT_OK(cnet_server_once(p.srv, CNET_EVENT_CONNECTION, conn_log, "once"));
    ASSERT_OK(cnet_server_prepend(p.srv, CNET_EVENT_CONNECTION, conn_log, "pre"));
    pair_connect(&p, NULL);
    ASSERT_STR_EQ("pre c1 once", test_log_str(&lg));
    ASSERT_EQ(3, cnet_server_listener_count(p.srv, CNET_EVENT_CONNECTION));

    memset(&lg, 0, sizeof lg);
    g_s = p.accepted;
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, data_a, NULL));
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, data_removes_b, NULL));
    ASSERT_OK(cnet_socket_on(p.accepted, CNET_EVENT_DATA, L, "b"));
    ASSERT_OK(cnet_socket_once(p.accepted, CNET_EVENT_DATA, L, "o"));
    ASSERT_OK(cnet_socket_write(p.client, "hello", 5, write_done, NULL) >= 0 ? 0 : -1);
    run_until(p.loop, &data_events);
    ASSERT_STR_EQ("a x b o", test_log_str(&lg));
    ASSERT_EQ(5, got_len);
    ASSERT_MEM_EQ("hello", got, 5);
    run_until(p.loop, &wrote);

    memset(&lg, 0, sizeof lg);
    data_events = 0;
    ASSERT_OK(cnet_socket_write(p.client, "again", 5, NULL, NULL) >= 0 ? 0 : -1);
    run_until(p.loop, &data_events);
    ASSERT_STR_EQ("a x", test_log_str(&lg));
    ASSERT_MEM_EQ("helloagain", got, 10);
    pair_close(&p);
}

int main(void)
{
    cnet_loop_t *loop;

    test_watchdog(20);
    test_api();
    ASSERT_OK(cnet_loop_new(&loop));
    test_order(loop);
    test_snapshot(loop);
    test_many_listeners(loop);
    test_once_reentrant(loop);
    test_remove_once_during_emit(loop);
    test_off_most_recent(loop);
    test_arg_free(loop);
    test_arg_free_nested(loop);
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    test_real_events();
    return 0;
}
