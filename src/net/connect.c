/*
 * Connecting: the public connect calls and their argument checks, the
 * lifetime of the connect state, one connect(2) attempt, and the switch to
 * a connected socket. Resolving is in lookup.c, trying several addresses
 * (Happy Eyeballs) in happy_eyeballs.c; net/connect.h has the shared state
 * and its state machine.
 *
 * Sections: state lifetime -> errors -> one attempt -> connected ->
 * starting (ticks) -> public API.
 */
#include "net/connect.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/un.h>

/* ---- state lifetime ----------------------------------------------------- */

void cnet__conn_retain(cnet__connect_t *c)
{
    c->refs++;
}

void cnet__conn_release(cnet__connect_t *c)
{
    if (--c->refs > 0)
        return;
    for (size_t i = 0; i < c->nerrs; i++)
        cnet__errinfo_free(c->errs[i]);
    cnet__free(c->errs);
    cnet__free(c->addrs);
    cnet__free(c->host);
    cnet__free(c->local_address);
    cnet__free(c);
}

static void ref_retain(void *obj)
{
    cnet__conn_retain(obj);
}

static void ref_release(void *obj)
{
    cnet__conn_release(obj);
}

const cnet__ref_ops_t cnet__conn_ref_ops = {ref_retain, ref_release};

/* The socket is connected or failed for good: it drops its link (and the timer goes). */
void cnet__connect_free(cnet_socket_t *s)
{
    cnet__connect_t *c = s->conn;

    if (!c)
        return;
    s->conn = NULL;
    c->s = NULL;
    cnet__he_close_timer(c);
    cnet__conn_release(c);
}

/*
 * destroy() while connecting: unlink, so each pending callback only drops
 * its reference. One exception copies Node: a destroy during a Happy
 * Eyeballs attempt makes Node report the cancelled request as
 * 'connectionAttemptFailed' (ECANCELED) before 'close' (afterConnectMultiple
 * does not check `destroyed`), so the state keeps the socket, retained,
 * until that callback.
 */
void cnet__connect_cancel(cnet_socket_t *s)
{
    cnet__connect_t *c = s->conn;

    if (!c)
        return;
    s->conn = NULL;
    cnet__he_close_timer(c);
    if (c->state == CNET__CONN_LOOKUP && !c->custom)
        uv_cancel((uv_req_t *)&c->gai); /* fails when already running: on_resolved drops it */
    if (c->multi && c->state == CNET__CONN_ATTEMPT) {
        c->zombie = true;
        cnet__socket_retain(s);
    } else {
        c->s = NULL;
    }
    cnet__conn_release(c);
}

/* ---- errors ------------------------------------------------------------- */

/* A heap errinfo for an event (NULL when out of memory: the event then carries the code only). */
cnet__errinfo_t *cnet__conn_error(int code, const char *syscall, const char *address, int port)
{
    cnet__errinfo_t *e = cnet__calloc(1, sizeof *e);
    if (e)
        cnet__errinfo_set(e, code, syscall, address, port, NULL, CNET__MSG_PLAIN);
    return e;
}

/* The connect failed for good: @p e (owned, may be NULL) becomes the socket's 'error'. */
void cnet__conn_fail(cnet__connect_t *c, cnet__errinfo_t *e)
{
    cnet_socket_t *s = c->s;
    int code = e ? e->pub.code : CNET_ENOMEM;

    if (e) {
        cnet__errinfo_free(s->err);
        s->err = e;
    }
    cnet__socket_destroy(s, code, e ? e->pub.syscall : NULL);
}

/* connectionAttempt / connectionAttemptFailed / connectionAttemptTimeout for c->target. */
void cnet__conn_emit_attempt(cnet__connect_t *c, cnet_event_type_t type, const cnet_error_t *err)
{
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.address = c->target.address;
    ev.port = c->target.port;
    ev.family = c->target.family;
    ev.error = err;
    cnet__socket_emit(c->s, &ev);
}

/* ---- one attempt -------------------------------------------------------- */

static void on_connected(uv_connect_t *req, int status);

/*
 * Binds to the local endpoint as Node's internalConnect does: the local
 * address (or the target family's any-address) must be of the target's
 * family (else EINVAL, as Node's bind6 of an IPv4 text), and a bind that
 * libuv defers (EADDRINUSE is reported only by the connect) or that landed
 * on another port counts as EADDRINUSE (Node's checkBindError).
 */
static int bind_local(cnet__connect_t *c, const char *ip)
{
    cnet_socket_t *s = c->s;
    struct sockaddr_storage local;
    int len = sizeof local, err;

    if (cnet_is_ip(ip) != c->target.family)
        return CNET_EINVAL;
    if ((err = cnet__addr_parse(ip, c->local_port, &local)) != 0)
        return err;
    if ((err = uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&local, 0)) != 0)
        return cnet__err_from_uv(err);
    if (c->local_port > 0) {
        cnet_address_t got;
        err = uv_tcp_getsockname(&s->h.tcp, (struct sockaddr *)&local, &len);
        if (err || cnet__addr_from_sockaddr((struct sockaddr *)&local, (size_t)len, &got) != 0 ||
            got.port != c->local_port)
            return CNET_EADDRINUSE;
    }
    return 0;
}

/*
 * Without Happy Eyeballs, cnet keeps its sequential fallback (issue 8; Node
 * tries only the first address, see docs/node-differences.md): when an
 * attempt fails and the answer has another usable address (c->seq, set by
 * lookup.c), that one is tried once the failed handle is closed, with no
 * timeout and nothing in parallel. Each attempt has the events of Node's
 * single attempt; the error of the last one is the socket's.
 */
static bool seq_more(const cnet__connect_t *c)
{
    return c->seq && c->next < c->naddrs;
}

/* The next attempt, from a clean state (no handle). */
static void next_attempt(cnet__connect_t *c)
{
    if (c->multi) {
        cnet__he_next(c);
        return;
    }
    c->target = c->addrs[c->next++];
    c->target.port = c->port;
    cnet__conn_attempt(c);
}

/* Closes the attempt's handle; the next attempt follows from its close callback. */
static void on_attempt_closed(uv_handle_t *h)
{
    cnet_socket_t *s = h->data;

    s->flags &= ~CNET__S_RETRY_CLOSING;
    if (s->flags & CNET__S_DESTROYED)
        cnet__socket_finish_close(s); /* destroy() left the final close to us */
    else
        next_attempt(s->conn);
}

void cnet__conn_close_attempt(cnet__connect_t *c)
{
    cnet_socket_t *s = c->s;

    c->state = CNET__CONN_CLOSING;
    s->flags |= CNET__S_RETRY_CLOSING;
    s->flags &= ~CNET__S_HANDLE;
    uv_close(&s->h.handle, on_attempt_closed);
}

/* A sequential attempt failed with @p e (owned) and another address is left: on to it. */
static void seq_failed(cnet__connect_t *c, cnet__errinfo_t *e)
{
    cnet__errinfo_free(e); /* only the last attempt's error is reported */
    if (c->s->flags & CNET__S_HANDLE)
        cnet__conn_close_attempt(c);
    else
        next_attempt(c); /* uv_tcp_init() failed: no handle to wait for */
}

/*
 * A failure of the attempt itself: Happy Eyeballs goes on, so does the
 * sequential fallback while addresses are left; else it ends the connect.
 */
static void attempt_failed(cnet__connect_t *c, cnet__errinfo_t *e, bool emit)
{
    if (c->multi)
        cnet__he_failed(c, e, emit);
    else if (seq_more(c))
        seq_failed(c, e);
    else
        cnet__conn_fail(c, e);
}

/*
 * One TCP attempt at c->target (address text, port, and the family the
 * lookup claimed): a new handle, the local bind, 'connectionAttempt', then
 * connect(2). Always runs from a tick or a callback, never inside connect().
 * As in Node: a failed bind is reported without 'connectionAttempt', and a
 * connect(2) failing at once emits 'connectionAttemptFailed' only with Happy
 * Eyeballs (internalConnectMultiple; internalConnect just destroys).
 */
void cnet__conn_attempt(cnet__connect_t *c)
{
    cnet_socket_t *s = c->s;
    struct sockaddr_storage sa;
    int err;

    c->state = CNET__CONN_IDLE;
    c->bound_local = NULL;
    err = uv_tcp_init(s->loop->uv, &s->h.tcp);
    if (err) {
        attempt_failed(
            c,
            cnet__conn_error(cnet__err_from_uv(err), "connect", c->target.address, c->target.port),
            true);
        return;
    }
    s->h.handle.data = s;
    s->flags |= CNET__S_HANDLE;
    s->flags &= ~CNET__S_PIPE;
    if (s->flags & CNET__S_UNREF)
        uv_unref(&s->h.handle);

    if (c->local_address || c->local_port) {
        const char *ip = c->local_address;
        if (!ip)
            ip = c->target.family == 6 ? "::" : "0.0.0.0";
        if ((err = bind_local(c, ip)) != 0) {
            attempt_failed(c, cnet__conn_error(err, "bind", ip, c->local_port), false);
            return;
        }
        if (c->local_port > 0)
            c->bound_local = ip; /* Node's " - Local (addr:port)" needs both */
    }

    cnet__socket_retain(s);
    cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT, NULL);
    if (s->flags & CNET__S_DESTROYED) {
        cnet__socket_release(s);
        return;
    }
    cnet__socket_release(s);
    if (c->multi && s->attempted && s->attempted->n < s->attempted->cap)
        s->attempted->addr[s->attempted->n++] = c->target;

    /* A lookup may claim the wrong family for its text: Node's connect6("1.2.3.4") is EINVAL. */
    err = cnet_is_ip(c->target.address) == c->target.family
              ? cnet__addr_parse(c->target.address, c->target.port, &sa)
              : CNET_EINVAL;
    if (err == 0) {
        c->req.data = c;
        err = cnet__err_from_uv(
            uv_tcp_connect(&c->req, &s->h.tcp, (struct sockaddr *)&sa, on_connected));
    }
    if (err) {
        attempt_failed(c, cnet__conn_error(err, "connect", c->target.address, c->target.port),
                       true);
        return;
    }
    cnet__conn_retain(c); /* for the request */
    c->state = CNET__CONN_ATTEMPT;
    if (c->multi && c->next < c->naddrs)
        cnet__he_arm_timer(c); /* the last address has no timeout, as in Node */
}

/* The error of a finished attempt: Node's createConnectionError. */
cnet__errinfo_t *cnet__conn_attempt_error(cnet__connect_t *c, int code)
{
    char name[CNET_ADDRSTRLEN];
    const char *where = c->target.address;
    cnet__errinfo_t *e;

    if (c->path_len) {
        /* A path: an abstract name's NULs are shown as '@' (cnet.h, "Unix socket names"). */
        cnet__unix_display(c->host, c->path_len, name, sizeof name);
        where = name;
    }
    e = cnet__conn_error(code, "connect", where, c->target.port);
    if (e && c->bound_local)
        cnet__errinfo_set_local(e, c->bound_local, c->local_port);
    return e;
}

static void connected(cnet_socket_t *s);

/* Destroyed mid-attempt (see cnet__connect_cancel): Node's last word on the attempt. */
static void report_cancelled(cnet__connect_t *c, int status)
{
    cnet_socket_t *s = c->s;
    cnet__errinfo_t *e = cnet__conn_attempt_error(c, status);

    cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT_FAILED, e ? &e->pub : NULL);
    cnet__errinfo_free(e);
    c->zombie = false;
    c->s = NULL;
    cnet__socket_release(s);
}

/* The connect(2) of c->target finished with @p status (0 or a cnet code). */
static void attempt_done(cnet__connect_t *c, int status)
{
    cnet_socket_t *s = c->s;

    c->state = CNET__CONN_IDLE;
    cnet__he_stop_timer(c);
    cnet__socket_retain(s);
    if (c->target.port < 0 && !c->announced) {
        /* A path's result can come before the tick that announces it. */
        c->announced = true;
        cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT, NULL);
    }
    if (s->flags & CNET__S_DESTROYED) {
        /* A listener destroyed the socket. */
    } else if (status == 0) {
        connected(s);
    } else if (c->multi) {
        cnet__he_failed(c, cnet__conn_attempt_error(c, status), true);
    } else {
        /* Node's afterConnect: 'connectionAttemptFailed', then destroy(err) or the next address. */
        cnet__errinfo_t *e = cnet__conn_attempt_error(c, status);
        cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT_FAILED, e ? &e->pub : NULL);
        if (s->flags & CNET__S_DESTROYED)
            cnet__errinfo_free(e);
        else if (seq_more(c))
            seq_failed(c, e);
        else
            cnet__conn_fail(c, e);
    }
    cnet__socket_release(s);
}

static void on_connected(uv_connect_t *req, int status)
{
    cnet__connect_t *c = req->data;

    if (c->zombie)
        report_cancelled(c, cnet__err_from_uv(status));
    else if (c->s && c->state == CNET__CONN_ATTEMPT)
        attempt_done(c, cnet__err_from_uv(status));
    /* Otherwise the attempt was abandoned (its handle is closing) or the socket let go. */
    cnet__conn_release(c);
}

/* ---- connected ---------------------------------------------------------- */

/*
 * The one place where a connect succeeds: every path (one attempt, Happy
 * Eyeballs, a path) ends here, so what must happen on connection (options,
 * queued writes, 'connect' and 'ready', reading) is done here only.
 */
static void connected(cnet_socket_t *s)
{
    cnet__connect_free(s);
    s->flags &= ~CNET__S_CONNECTING;
    s->flags |= CNET__S_CONNECTED | CNET__S_EVER_CONNECTED;
    cnet__socket_cache_fd(s);
    cnet__socket_apply_options(s);
    cnet__socket_touch(s);
    cnet__socket_retain(s);
    if (s->flags & CNET__S_TLS)
        cnet__tls_sock_connected(s); /* the ClientHello; user writes wait for 'secure' */
    cnet__stream_flush(s);
    if (!(s->flags & CNET__S_DESTROYED)) {
        /* As Node: 'ready' follows 'connect' even if a 'connect' listener destroyed the socket. */
        cnet__socket_emit_simple(s, CNET_EVENT_CONNECT);
        cnet__socket_emit_simple(s, CNET_EVENT_READY);
    }
    if (!(s->flags & CNET__S_DESTROYED)) {
        cnet__stream_start_reading(s);
        cnet__stream_maybe_shutdown(s);
    }
    cnet__socket_release(s);
}

/* ---- starting: the ticks of connect() ------------------------------------ */

/* Node's lookupAndConnect for an IP literal: the connect(2) waits for nextTick. */
static void tick_start(cnet__tick_t *t)
{
    cnet__connect_t *c = t->obj;

    if (!c->s || c->state != CNET__CONN_START)
        return;
    c->target.port = c->port;
    c->target.family = cnet_is_ip(c->host);
    snprintf(c->target.address, sizeof c->target.address, "%s", c->host);
    cnet__conn_attempt(c);
}

/* A path connects inside connect() (as in Node); its 'connectionAttempt' cannot, so it comes here.
 */
static void tick_announce(cnet__tick_t *t)
{
    cnet__connect_t *c = t->obj;

    if (!c->s || c->announced || (c->s->flags & CNET__S_DESTROYED))
        return;
    c->announced = true;
    cnet__conn_emit_attempt(c, CNET_EVENT_CONNECTION_ATTEMPT, NULL);
}

/* A failure found inside connect() itself, reported on the next tick. */
static void tick_early_fail(cnet__tick_t *t)
{
    cnet__connect_t *c = t->obj;
    cnet__errinfo_t *e;

    if (!c->s || (c->s->flags & CNET__S_DESTROYED))
        return;
    if (c->target.port < 0) {
        e = cnet__conn_attempt_error(c, c->early_code); /* a path */
    } else if ((e = cnet__calloc(1, sizeof *e)) != NULL) {
        cnet__errinfo_set(e, c->early_code, "getaddrinfo", NULL, -1, c->host, CNET__MSG_PLAIN);
    }
    cnet__conn_fail(c, e);
}

static void fail_later(cnet__connect_t *c, int code)
{
    c->early_code = code;
    cnet__tick_embedded(c->s->loop, &c->tick, tick_early_fail, c, &cnet__conn_ref_ops);
}

/* An abstract name's connect(2), made inside connect() like a path's: its result, on this tick. */
static void tick_abstract_done(cnet__tick_t *t)
{
    cnet__connect_t *c = t->obj;

    if (!c->s || c->state != CNET__CONN_ATTEMPT)
        return; /* destroyed meanwhile: the fd (if connected) closes with the handle */
    attempt_done(c, c->early_code); /* 'connectionAttempt' first, then 'connect' or the error */
}

static void start_path(cnet__connect_t *c)
{
    cnet_socket_t *s = c->s;
    int err;

    cnet__unix_to_address(c->host, c->path_len, &c->target);
    err = uv_pipe_init(s->loop->uv, &s->h.pipe, 0);
    if (err) {
        fail_later(c, cnet__err_from_uv(err));
        return;
    }
    s->h.handle.data = s;
    s->flags |= CNET__S_HANDLE | CNET__S_PIPE;
    if (s->flags & CNET__S_UNREF)
        uv_unref(&s->h.handle);
    if (cnet__unix_is_abstract(c->host, c->path_len)) {
        /* By hand (libuv 1.44 takes NUL-terminated names only); on Linux it never blocks. */
        c->state = CNET__CONN_ATTEMPT;
        c->early_code = cnet__unix_connect_abstract(&s->h.pipe, c->host, c->path_len);
        cnet__tick_embedded(s->loop, &c->tick, tick_abstract_done, c, &cnet__conn_ref_ops);
        return;
    }
    c->req.data = c;
    cnet__conn_retain(c); /* for the request */
    c->state = CNET__CONN_ATTEMPT;
    uv_pipe_connect(&c->req, &s->h.pipe, c->host, on_connected);
    cnet__tick_embedded(s->loop, &c->tick, tick_announce, c, &cnet__conn_ref_ops);
}

/* ---- public API --------------------------------------------------------- */

/* A closed socket that the user retained may connect again: bring it back to life. */
static void revive(cnet_socket_t *s)
{
    uint32_t keep = CNET__S_HALF_OPEN | CNET__S_NO_DELAY | CNET__S_NO_DELAY_SET |
                    CNET__S_KEEP_ALIVE | CNET__S_UNREF;
    s->flags &= keep;
    /* A TLS life's state goes with it (the flag just went): the new life is plain, and a
     * set_secure() on it starts afresh instead of leaking the old state. */
    if (s->tls)
        cnet__tls_sock_free(s);
    s->refs++; /* the "alive" reference again */
    cnet__errinfo_free(s->err);
    s->err = NULL;
    s->bytes_read = s->bytes_written = 0;
    cnet__decoder_reset(&s->decoder);
}

static int validate(const cnet_socket_t *s, const cnet_connect_opts_t *o)
{
    if ((s->flags & CNET__S_DESTROYED) && !(s->flags & CNET__S_CLOSED))
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & CNET__S_CLOSED) && (s->flags & (CNET__S_CONNECTING | CNET__S_CONNECTED |
                                                     CNET__S_HANDLE | CNET__S_CONNECT_STARTED)))
        return CNET_ERR_SOCKET_CONNECTING;
    if (o->path) {
        size_t len;
        return cnet__unix_check(o->path, o->path_len, &len);
    }
    if (o->path_len)
        return CNET_ERR_INVALID_ARG_VALUE; /* a length without a path */
    if (!cnet__port_valid(o->port) || !cnet__port_valid(o->local_port))
        return CNET_ERR_SOCKET_BAD_PORT;
    if (o->family != 0 && o->family != 4 && o->family != 6)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->local_address && !cnet_is_ip(o->local_address))
        return CNET_ERR_INVALID_IP_ADDRESS;
    if (o->host && !*o->host)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->auto_select_family < CNET_AUTO_SELECT_FAMILY_OFF ||
        o->auto_select_family > CNET_AUTO_SELECT_FAMILY_ON)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->auto_select_family_attempt_timeout_ms > INT32_MAX)
        return CNET_ERR_OUT_OF_RANGE; /* Node's validateInt32 */
    /* dns.lookup() checks its hints (a custom lookup gets them as they are). */
    if (!o->lookup && !cnet_is_ip(o->host ? o->host : "localhost") &&
        (o->hints & ~(CNET_AI_ADDRCONFIG | CNET_AI_V4MAPPED | CNET_AI_ALL)))
        return CNET_ERR_INVALID_ARG_VALUE;
    return 0;
}

/* Copies the options into a new connect state (one reference: the socket's link). */
static cnet__connect_t *conn_new(const cnet_connect_opts_t *o)
{
    cnet__connect_t *c = cnet__calloc(1, sizeof *c);
    unsigned t;

    if (!c)
        return NULL;
    c->refs = 1;
    c->port = o->port;
    c->family = o->family;
    c->local_port = o->local_port;
    c->hints = o->hints;
    c->lookup = o->lookup;
    c->lookup_arg = o->lookup_arg;
    c->custom = o->lookup != NULL;
    c->host_given = o->host != NULL;
    if (o->path) {
        cnet__unix_check(o->path, o->path_len, &c->path_len); /* validated already */
        c->host = cnet__unix_dup(o->path, c->path_len);
    } else {
        c->host = cnet__strdup(o->host ? o->host : "localhost");
    }
    c->local_address = o->local_address ? cnet__strdup(o->local_address) : NULL;
    /* Node's lookupAndConnect: the lookup asks for every address only in this case. */
    c->want_all = !o->path && o->family == 0 && !o->local_address &&
                  (o->auto_select_family == CNET_AUTO_SELECT_FAMILY_DEFAULT
                       ? cnet__he_default_enabled()
                       : o->auto_select_family == CNET_AUTO_SELECT_FAMILY_ON);
    t = o->auto_select_family_attempt_timeout_ms;
    c->attempt_timeout = t == 0 ? cnet__he_default_timeout() : t < 10 ? 10 : t;
    if (!c->host || (o->local_address && !c->local_address)) {
        cnet__conn_release(c);
        return NULL;
    }
    return c;
}

int cnet_socket_connect_opts(cnet_socket_t *s, const cnet_connect_opts_t *opts,
                             cnet_socket_cb on_connect, void *arg)
{
    cnet_connect_opts_t copy, *o = &copy;
    cnet__connect_t *c;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!opts)
        return CNET_ERR_MISSING_ARGS; /* Node: net.connect() without options */
    if ((err = cnet__opts_load(&copy, sizeof copy, opts, CNET__CONNECT_OPTS_V1)) != 0)
        return err;
    if ((err = validate(s, o)) != 0)
        return err;
    if (!(c = conn_new(o)))
        return CNET_ENOMEM;
    if (on_connect && (err = cnet_socket_once(s, CNET_EVENT_CONNECT, on_connect, arg)) != 0) {
        cnet__conn_release(c);
        return err;
    }
    if (s->flags & CNET__S_CLOSED)
        revive(s);
    cnet__free(s->attempted); /* autoSelectFamilyAttemptedAddresses is per connect */
    s->attempted = NULL;
    c->s = s;
    s->conn = c;
    s->flags |= CNET__S_CONNECTING | CNET__S_CONNECT_STARTED;
    if (o->allow_half_open)
        s->flags |= CNET__S_HALF_OPEN;
    if (o->no_delay)
        cnet_socket_set_no_delay(s, true);
    if (o->keep_alive)
        cnet_socket_set_keep_alive(s, true, o->keep_alive_initial_delay_ms);
    if (o->timeout_ms)
        cnet_socket_set_timeout(s, o->timeout_ms, NULL, NULL);
    /* [abort] options.signal (socket_abort.c): an already aborted one destroys
     * the socket ('error' ABORT_ERR, 'close' follow) and nothing is started. */
    if ((err = cnet__socket_abort_attach(s, o->signal)) != 0)
        cnet__socket_destroy(s, err, NULL); /* out of memory: reported as 'error' */
    if (s->flags & CNET__S_DESTROYED)
        return 0;

    if (o->path) {
        start_path(c);
    } else if (cnet_is_ip(c->host)) {
        /* An IP literal: no lookup, no 'lookup' event, and the connect(2) on the next tick. */
        c->state = CNET__CONN_START;
        cnet__tick_embedded(s->loop, &c->tick, tick_start, c, &cnet__conn_ref_ops);
    } else {
        /* Last: a custom resolver may answer, or even destroy the socket, inside this call. */
        if ((err = cnet__lookup_start(c)) != 0)
            fail_later(c, err);
    }
    return 0;
}

int cnet_socket_connect(cnet_socket_t *s, int port, const char *host, cnet_socket_cb on_connect,
                        void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    o.port = port;
    o.host = host;
    return cnet_socket_connect_opts(s, &o, on_connect, arg);
}

int cnet_socket_connect_path(cnet_socket_t *s, const char *path, cnet_socket_cb on_connect,
                             void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    if (!path)
        return CNET_ERR_INVALID_ARG_TYPE;
    o.path = path;
    return cnet_socket_connect_opts(s, &o, on_connect, arg);
}

int cnet_create_connection(cnet_loop_t *loop, const cnet_connect_opts_t *opts,
                           cnet_socket_cb on_connect, void *arg, cnet_socket_t **out)
{
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_connect_opts_t o;
    cnet_socket_t *s;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (!opts)
        return CNET_ERR_MISSING_ARGS;
    if ((err = cnet__opts_load(&o, sizeof o, opts, CNET__CONNECT_OPTS_V1)) != 0)
        return err;
    so.allow_half_open = o.allow_half_open;
    cnet__onread_opts_from_connect(&so, &o); /* net.connect({onread}) */
    if ((err = cnet__socket_alloc(loop, &so, &s)) != 0)
        return err;
    err = cnet_socket_connect_opts(s, opts, on_connect, arg);
    if (err) {
        /* Never connected and never seen by the user: free without events. */
        cnet__socket_release(s);
        return err;
    }
    *out = s;
    return 0;
}

cnet_socket_t *cnet_connect(int port, const char *host, cnet_socket_cb on_connect, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;
    o.port = port;
    o.host = host;
    return cnet_create_connection(NULL, &o, on_connect, arg, &s) == 0 ? s : NULL;
}

cnet_socket_t *cnet_connect_path(const char *path, cnet_socket_cb on_connect, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;
    if (!path)
        return NULL;
    o.path = path;
    return cnet_create_connection(NULL, &o, on_connect, arg, &s) == 0 ? s : NULL;
}
