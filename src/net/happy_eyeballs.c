/*
 * Happy Eyeballs, as Node v20 does it (lib/net.js lookupAndConnectMultiple,
 * internalConnectMultiple, autoSelectFamily): the addresses of a name are
 * tried one at a time, alternating the families; an attempt that has not
 * finished after the attempt timeout is abandoned (its handle closed) and
 * the next one starts; the last attempt has no timeout. Node does not keep
 * an abandoned attempt running beside the next, so neither do we: a
 * connection that completes after its timeout is never used (its handle is
 * already closed and libuv reports the request as cancelled, which the
 * CLOSING state ignores). When every attempt failed, the socket's error is
 * Node's AggregateError of the attempts' errors.
 *
 * Also here: the process-wide defaults (net.getDefaultAutoSelectFamily...)
 * and socket.autoSelectFamilyAttemptedAddresses.
 *
 * Sections: defaults -> ordering -> attempts and their timer -> accessor.
 */
#include "net/connect.h"

#include <stdatomic.h>

/* ---- defaults -------------------------------------------------------------
 * Process-wide like Node's, and read once per connect, so relaxed atomics
 * are enough: a connect sees the value set before it, or an older one.
 */

static atomic_bool default_enabled = true;
static atomic_uint default_timeout = 250;

bool cnet_get_default_auto_select_family(void)
{
    return atomic_load_explicit(&default_enabled, memory_order_relaxed);
}

void cnet_set_default_auto_select_family(bool enable)
{
    atomic_store_explicit(&default_enabled, enable, memory_order_relaxed);
}

unsigned cnet_get_default_auto_select_family_attempt_timeout(void)
{
    return atomic_load_explicit(&default_timeout, memory_order_relaxed);
}

int cnet_set_default_auto_select_family_attempt_timeout(unsigned ms)
{
    if (ms == 0 || ms > INT32_MAX)
        return CNET_ERR_OUT_OF_RANGE; /* Node's validateInt32(value, 'value', 1) */
    atomic_store_explicit(&default_timeout, ms < 10 ? 10 : ms, memory_order_relaxed);
    return 0;
}

bool cnet__he_default_enabled(void)
{
    return cnet_get_default_auto_select_family();
}

unsigned cnet__he_default_timeout(void)
{
    return cnet_get_default_auto_select_family_attempt_timeout();
}

/* ---- ordering ------------------------------------------------------------ */

static bool usable(const cnet_address_t *a)
{
    return cnet_is_ip(a->address) && (a->family == 4 || a->family == 6);
}

static bool seen(const cnet_address_t *addrs, const size_t *idx, size_t n, const char *ip)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(addrs[idx[i]].address, ip) == 0)
            return true;
    return false;
}

/*
 * Node's order: usable addresses only, each IP once, in two groups by
 * family, the group of the first usable address first; then one of each
 * group in turn. [::1, 127.0.0.1, 127.0.0.2, ::2] becomes
 * [::1, 127.0.0.1, ::2, 127.0.0.2]. Returns the count, or -1 out of memory.
 */
static long order(cnet__connect_t *c, cnet_address_t **out)
{
    size_t n = c->naddrs, ng[2] = {0, 0}, k = 0;
    size_t *g = n ? cnet__malloc(2 * n * sizeof *g) : NULL;
    cnet_address_t *list;
    int first = 0;

    *out = NULL;
    if (n && !g)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const cnet_address_t *a = &c->addrs[i];
        size_t *grp;
        int which;
        if (!usable(a))
            continue;
        if (!first)
            first = a->family;
        which = a->family == first ? 0 : 1;
        grp = g + (size_t)which * n;
        if (!seen(c->addrs, grp, ng[which], a->address))
            grp[ng[which]++] = i;
    }
    list = ng[0] + ng[1] ? cnet__malloc((ng[0] + ng[1]) * sizeof *list) : NULL;
    if (ng[0] + ng[1] && !list) {
        cnet__free(g);
        return -1;
    }
    for (size_t i = 0; i < ng[0] || i < ng[1]; i++) {
        if (i < ng[0])
            list[k++] = c->addrs[g[i]];
        if (i < ng[1])
            list[k++] = c->addrs[g[n + i]];
    }
    cnet__free(g);
    *out = list;
    return (long)k;
}

static void on_timer_closed(uv_handle_t *h)
{
    cnet__conn_release(h->data);
}

/* Called with the lookup's answer in c->addrs, after its 'lookup' events. */
void cnet__he_start(cnet__connect_t *c)
{
    cnet_socket_t *s = c->s;
    cnet_address_t *list;
    long n = order(c, &list);

    if (n < 0) {
        cnet__conn_fail(c, cnet__conn_error(CNET_ENOMEM, "connect", NULL, -1));
        return;
    }
    if (n == 0) {
        cnet__lookup_fail_first(c);
        return;
    }
    if (n == 1) {
        /* Node: "only one address found, switching back to single connection". */
        c->target = list[0];
        c->target.port = c->port;
        cnet__free(list);
        cnet__conn_attempt(c);
        return;
    }
    s->attempted = cnet__malloc(sizeof *s->attempted + (size_t)n * sizeof s->attempted->addr[0]);
    if (!s->attempted || uv_timer_init(s->loop->uv, &c->timer) != 0) {
        cnet__free(list);
        cnet__conn_fail(c, cnet__conn_error(CNET_ENOMEM, "connect", NULL, -1));
        return;
    }
    s->attempted->n = 0;
    s->attempted->cap = (size_t)n;
    /* The pending connect keeps the loop alive; the timer need not. */
    uv_unref((uv_handle_t *)&c->timer);
    c->timer.data = c;
    c->timer_open = true;
    cnet__conn_retain(c); /* the timer's, until it is closed */
    cnet__free(c->addrs);
    c->addrs = list;
    c->naddrs = (size_t)n;
    c->next = 0;
    c->multi = true;
    cnet__he_next(c);
}

/* ---- attempts and their timer ------------------------------------------- */

/* Every address failed: Node's NodeAggregateError (or, with no error at all, a timeout). */
static void fail_all(cnet__connect_t *c)
{
    cnet__errinfo_t *e;

    if (c->nerrs == 0) {
        cnet__conn_fail(c, cnet__conn_error(CNET_ERR_SOCKET_CONNECTION_TIMEOUT, NULL, NULL, -1));
        return;
    }
    if ((e = cnet__calloc(1, sizeof *e)) != NULL) {
        cnet__errinfo_set_aggregate(e, c->errs, c->nerrs);
        c->errs = NULL;
        c->nerrs = 0;
    }
    cnet__conn_fail(c, e);
}

/* The next address, from a clean state (no handle); or the end. */
void cnet__he_next(cnet__connect_t *c)
{
    if (c->next >= c->naddrs) {
        fail_all(c);
        return;
    }
    c->target = c->addrs[c->next++];
    c->target.port = c->port;
    cnet__conn_attempt(c);
}

static void push_error(cnet__connect_t *c, cnet__errinfo_t *e)
{
    cnet__errinfo_t **v;

    if (!e)
        return;
    v = cnet__realloc(c->errs, (c->nerrs + 1) * sizeof *v);
    if (!v) {
        cnet__errinfo_free(e); /* out of memory: the aggregate lists one attempt fewer */
        return;
    }
    c->errs = v;
    c->errs[c->nerrs++] = e;
}

/*
 * An attempt failed with @p e (owned; NULL out of memory). With @p emit,
 * 'connectionAttemptFailed' first (Node emits it for connect failures, not
 * for a failed bind). Then the next address once the handle is closed.
 */
void cnet__he_failed(cnet__connect_t *c, cnet__errinfo_t *e, bool emit)
{
    cnet_socket_t *s = c->s;

    if (emit) {
        cnet__socket_retain(s);
        cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT_FAILED, e ? &e->pub : NULL);
        if (s->flags & CNET__S_DESTROYED) {
            cnet__errinfo_free(e);
            cnet__socket_release(s);
            return;
        }
        cnet__socket_release(s);
    }
    push_error(c, e);
    if (c->next >= c->naddrs)
        fail_all(c); /* destroy closes the handle */
    else if (s->flags & CNET__S_HANDLE)
        cnet__conn_close_attempt(c);
    else
        cnet__he_next(c);
}

/*
 * The attempt timed out: Node's internalConnectMultipleTimeout emits
 * 'connectionAttemptTimeout', records ETIMEDOUT for the attempt, closes its
 * handle and goes on. The state is CLOSING before the emit, so a destroy
 * inside the listener finds no attempt to report as cancelled (Node drops
 * the request's callback right after the emit, before any close completes).
 */
static void on_attempt_timeout(uv_timer_t *t)
{
    cnet__connect_t *c = t->data;
    cnet_socket_t *s = c->s;

    if (!s || c->state != CNET__CONN_ATTEMPT)
        return;
    c->state = CNET__CONN_CLOSING;
    cnet__socket_retain(s);
    cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT, NULL);
    if (!(s->flags & CNET__S_DESTROYED)) {
        push_error(c, cnet__conn_attempt_error(c, CNET_ETIMEDOUT));
        cnet__conn_close_attempt(c); /* its cancelled request is ignored, then the next */
    }
    cnet__socket_release(s);
}

void cnet__he_arm_timer(cnet__connect_t *c)
{
    /* uv_timer_start() fails only on a closing handle, and ours closes only with the state. */
    if (c->timer_open && uv_timer_start(&c->timer, on_attempt_timeout, c->attempt_timeout, 0) != 0)
        cnet__log(CNET_LOG_ERROR, "sock#%u: attempt timer did not start", c->s->id);
}

void cnet__he_stop_timer(cnet__connect_t *c)
{
    if (c->timer_open)
        (void)uv_timer_stop(&c->timer); /* always 0 */
}

void cnet__he_close_timer(cnet__connect_t *c)
{
    if (!c->timer_open)
        return;
    c->timer_open = false;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* ---- accessor ------------------------------------------------------------ */

size_t cnet_socket_auto_select_family_attempted_addresses(const cnet_socket_t *s,
                                                          cnet_address_t *out, size_t n)
{
    const cnet__attempted_t *a = s ? s->attempted : NULL;

    if (!a)
        return 0;
    if (out)
        memcpy(out, a->addr, (n < a->n ? n : a->n) * sizeof *out);
    return a->n;
}
