/*
 * Connecting: argument checks, the DNS lookup on libuv's threadpool, and
 * the connect attempts, one resolved address after another (Node v20's
 * autoSelectFamily, without the racing).
 *
 * The connect state lives apart from the socket because libuv still owns
 * its requests after a destroy: a cancelled lookup or a connect cancelled by
 * uv_close() calls back later, and then finds conn->s == NULL and only frees
 * the state.
 */
#include "internal.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/un.h>

struct cnet__connect {
    cnet_socket_t *s; /* NULL once the socket gave up on us */
    uv_getaddrinfo_t gai;
    uv_connect_t req;
    bool lookup_pending;
    bool connect_pending;
    char *host;
    int port;
    int family;
    char *local_address;
    int local_port;
    struct addrinfo *res;  /* lookup results, or NULL for an IP literal */
    struct addrinfo *next; /* next address to try */
    struct sockaddr_storage literal;
    cnet_address_t target; /* the address being tried, for error messages */
};

static void conn_free(cnet__connect_t *c)
{
    if (c->res)
        uv_freeaddrinfo(c->res);
    cnet__free(c->host);
    cnet__free(c->local_address);
    cnet__free(c);
}

void cnet__connect_free(cnet_socket_t *s)
{
    cnet__connect_t *c = s->conn;
    if (c) {
        s->conn = NULL;
        conn_free(c);
    }
}

/* destroy() during a lookup or connect: detach; the pending callback frees. */
void cnet__connect_cancel(cnet_socket_t *s)
{
    cnet__connect_t *c = s->conn;

    if (!c)
        return;
    s->conn = NULL;
    c->s = NULL;
    if (c->lookup_pending && uv_cancel((uv_req_t *)&c->gai) != 0) {
        /* Already running on the threadpool: on_resolved frees later. */
        return;
    }
    if (!c->lookup_pending && !c->connect_pending)
        conn_free(c);
    /* A cancelled lookup still calls on_resolved (UV_EAI_CANCELED); a pending
     * connect is cancelled by uv_close() and calls on_connected. Both free. */
}

static void fail_connect(cnet_socket_t *s, int code, const cnet_address_t *where)
{
    if (!s->err)
        s->err = cnet__calloc(1, sizeof *s->err);
    if (s->err)
        cnet__errinfo_set(s->err, code, "connect",
                          where && where->address[0] ? where->address : NULL,
                          where ? where->port : -1, NULL, CNET__MSG_PLAIN);
    cnet__socket_destroy(s, code, "connect");
}

static void retry_close(cnet_socket_t *s);

static void on_connected(uv_connect_t *req, int status)
{
    cnet__connect_t *c = req->data;
    cnet_socket_t *s = c->s;

    c->connect_pending = false;
    if (!s) {
        conn_free(c);
        return;
    }
    if (status < 0) {
        /* Another resolved address left? Close this handle and try it. */
        if (c->next)
            retry_close(s);
        else
            fail_connect(s, cnet__err_from_uv(status), &c->target);
        return;
    }
    cnet__connect_free(s);
    s->flags &= ~CNET__S_CONNECTING;
    s->flags |= CNET__S_CONNECTED | CNET__S_EVER_CONNECTED;
    cnet__socket_cache_fd(s);
    cnet__socket_apply_options(s);
    cnet__socket_touch(s);
    cnet__socket_retain(s);
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

/* Starts one TCP attempt at @p sa. Returns 0 or a code to report. */
static int attempt(cnet__connect_t *c, const struct sockaddr *sa)
{
    cnet_socket_t *s = c->s;
    int err;

    cnet__addr_from_sockaddr(sa, sizeof(struct sockaddr_storage), &c->target);
    err = uv_tcp_init(s->loop->uv, &s->h.tcp);
    if (err)
        return cnet__err_from_uv(err);
    s->h.handle.data = s;
    s->flags |= CNET__S_HANDLE;
    s->flags &= ~CNET__S_PIPE;
    if (s->flags & CNET__S_UNREF)
        uv_unref(&s->h.handle);
    if (c->local_address || c->local_port) {
        struct sockaddr_storage local;
        const char *ip = c->local_address;
        if (!ip)
            ip = sa->sa_family == AF_INET6 ? "::" : "0.0.0.0";
        err = cnet__addr_parse(ip, c->local_port, &local);
        if (err == 0)
            err = cnet__err_from_uv(uv_tcp_bind(&s->h.tcp, (struct sockaddr *)&local, 0));
        if (err) {
            c->target = (cnet_address_t){.port = c->local_port};
            snprintf(c->target.address, sizeof c->target.address, "%s", ip);
            return err;
        }
    }
    c->req.data = c;
    err = uv_tcp_connect(&c->req, &s->h.tcp, sa, on_connected);
    if (err)
        return cnet__err_from_uv(err);
    c->connect_pending = true;
    return 0;
}

static void tick_attempt_failed(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    if (s->flags & CNET__S_DESTROYED)
        return;
    fail_connect(s, t->code, s->conn ? &s->conn->target : NULL);
}

/* Reports a connect failure found inside connect() itself on the next tick. */
static void fail_later(cnet_socket_t *s, int code)
{
    cnet__tick_t *t = cnet__tick(s->loop, tick_attempt_failed, s, &cnet__socket_ref_ops);
    if (t)
        t->code = code;
    else
        cnet__log(CNET_LOG_ERROR, "sock#%u out of memory reporting %s", s->id, cnet_err_name(code));
}

/* Tries the remaining resolved addresses in order until one starts. */
static void next_attempt(cnet_socket_t *s)
{
    cnet__connect_t *c = s->conn;
    int err = CNET_ECONNREFUSED;

    while (c && c->next) {
        const struct addrinfo *ai = c->next;
        c->next = ai->ai_next;
        err = attempt(c, ai->ai_addr);
        if (err == 0)
            return;
        if ((s->flags & CNET__S_HANDLE) && c->next) {
            retry_close(s);
            return;
        }
    }
    fail_connect(s, err, c ? &c->target : NULL);
}

/*
 * libuv frees a handle only in its close callback, so the next attempt must
 * wait for it before initialising the same memory again. A destroy() in the
 * meantime leaves the final close to us (CNET__S_RETRY_CLOSING).
 */
static void on_retry_closed(uv_handle_t *h)
{
    cnet_socket_t *s = h->data;

    s->flags &= ~CNET__S_RETRY_CLOSING;
    if (s->flags & CNET__S_DESTROYED)
        cnet__socket_finish_close(s);
    else
        next_attempt(s);
}

static void retry_close(cnet_socket_t *s)
{
    s->flags |= CNET__S_RETRY_CLOSING;
    s->flags &= ~CNET__S_HANDLE;
    uv_close(&s->h.handle, on_retry_closed);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    cnet__connect_t *c = req->data;
    cnet_socket_t *s = c->s;
    cnet__errinfo_t lookup_err;
    cnet_address_t first;
    cnet_event_t ev;
    int err;

    c->lookup_pending = false;
    c->res = res;
    if (!s) {
        conn_free(c);
        return;
    }
    cnet__socket_retain(s);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_LOOKUP;
    ev.host = c->host;
    if (status < 0 || !res) {
        /* Node: 'lookup' with the error, then 'error' (getaddrinfo ENOTFOUND host), 'close'. */
        err = status < 0 ? cnet__err_from_uv(status) : CNET_ENOTFOUND;
        cnet__errinfo_set(&lookup_err, err, "getaddrinfo", NULL, -1, c->host, CNET__MSG_PLAIN);
        ev.error = &lookup_err.pub;
        cnet__socket_emit(s, &ev);
        if (!(s->flags & CNET__S_DESTROYED)) {
            if (!s->err)
                s->err = cnet__calloc(1, sizeof *s->err);
            if (s->err)
                cnet__errinfo_set(s->err, err, "getaddrinfo", NULL, -1, c->host, CNET__MSG_PLAIN);
            cnet__socket_destroy(s, err, "getaddrinfo");
        }
        cnet__socket_release(s);
        return;
    }
    cnet__addr_from_sockaddr(res->ai_addr, res->ai_addrlen, &first);
    ev.address = first.address;
    ev.family = first.family;
    cnet__socket_emit(s, &ev);
    if (!(s->flags & CNET__S_DESTROYED)) {
        c->next = res;
        next_attempt(s);
    }
    cnet__socket_release(s);
}

/* ---- public API --------------------------------------------------------- */

/* A closed socket that the user retained may connect again: bring it back to life. */
static void revive(cnet_socket_t *s)
{
    uint32_t keep = CNET__S_HALF_OPEN | CNET__S_NO_DELAY | CNET__S_NO_DELAY_SET |
                    CNET__S_KEEP_ALIVE | CNET__S_UNREF;
    s->flags &= keep;
    s->refs++; /* the "alive" reference again */
    cnet__free(s->err);
    s->err = NULL;
    s->bytes_read = s->bytes_written = 0;
    cnet__decoder_reset(&s->decoder);
}

static int validate(const cnet_socket_t *s, const cnet_connect_opts_t *o)
{
    if (!s || !o)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((s->flags & CNET__S_DESTROYED) && !(s->flags & CNET__S_CLOSED))
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & CNET__S_CLOSED) && (s->flags & (CNET__S_CONNECTING | CNET__S_CONNECTED |
                                                     CNET__S_HANDLE | CNET__S_CONNECT_STARTED)))
        return CNET_ERR_SOCKET_CONNECTING;
    if (o->path)
        return cnet__addr_check_path(o->path);
    if (!cnet__port_valid(o->port) || !cnet__port_valid(o->local_port))
        return CNET_ERR_SOCKET_BAD_PORT;
    if (o->family != 0 && o->family != 4 && o->family != 6)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->local_address && !cnet_is_ip(o->local_address))
        return CNET_ERR_INVALID_IP_ADDRESS;
    if (o->host && !*o->host)
        return CNET_ERR_INVALID_ARG_VALUE;
    return 0;
}

int cnet_socket_connect_opts(cnet_socket_t *s, const cnet_connect_opts_t *opts,
                             cnet_socket_cb on_connect, void *arg)
{
    cnet_connect_opts_t copy, *o = &copy;
    cnet__connect_t *c;
    int err;

    if (!s || !opts)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = cnet__opts_load(&copy, sizeof copy, opts, CNET__CONNECT_OPTS_V1)) != 0)
        return err;
    if ((err = validate(s, o)) != 0)
        return err;
    c = cnet__calloc(1, sizeof *c);
    if (!c)
        return CNET_ENOMEM;
    c->port = o->port;
    c->family = o->family;
    c->local_port = o->local_port;
    c->host = cnet__strdup(o->path ? o->path : (o->host ? o->host : "localhost"));
    c->local_address = o->local_address ? cnet__strdup(o->local_address) : NULL;
    if (!c->host || (o->local_address && !c->local_address)) {
        conn_free(c);
        return CNET_ENOMEM;
    }
    if (on_connect && (err = cnet_socket_once(s, CNET_EVENT_CONNECT, on_connect, arg)) != 0) {
        conn_free(c);
        return err;
    }
    if (s->flags & CNET__S_CLOSED)
        revive(s);
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
        err = uv_pipe_init(s->loop->uv, &s->h.pipe, 0);
        if (err) {
            /* Reported as an event: connect() itself succeeded in starting. */
            c->target = (cnet_address_t){.port = -1};
            snprintf(c->target.address, sizeof c->target.address, "%s", o->path);
            fail_later(s, cnet__err_from_uv(err));
            return 0;
        }
        s->h.handle.data = s;
        s->flags |= CNET__S_HANDLE | CNET__S_PIPE;
        if (s->flags & CNET__S_UNREF)
            uv_unref(&s->h.handle);
        c->target = (cnet_address_t){.port = -1};
        snprintf(c->target.address, sizeof c->target.address, "%s", o->path);
        c->req.data = c;
        c->connect_pending = true;
        uv_pipe_connect(&c->req, &s->h.pipe, o->path, on_connected);
        return 0;
    }

    if (cnet_is_ip(c->host)) {
        /* An IP literal: no lookup and no 'lookup' event, as in Node. */
        cnet__addr_parse(c->host, c->port, &c->literal);
        err = attempt(c, (struct sockaddr *)&c->literal);
        if (err)
            fail_later(s, err);
        return 0;
    }

    {
        struct addrinfo hints;
        char port[8];
        memset(&hints, 0, sizeof hints);
        hints.ai_family = c->family == 4 ? AF_INET : c->family == 6 ? AF_INET6 : AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        snprintf(port, sizeof port, "%d", c->port);
        c->gai.data = c;
        err = uv_getaddrinfo(s->loop->uv, &c->gai, on_resolved, c->host, port, &hints);
        if (err) {
            fail_later(s, cnet__err_from_uv(err));
            return 0;
        }
        c->lookup_pending = true;
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

    if (!out || !opts)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if ((err = cnet__opts_load(&o, sizeof o, opts, CNET__CONNECT_OPTS_V1)) != 0)
        return err;
    so.allow_half_open = o.allow_half_open;
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
