/*
 * Servers: listen (TCP with optional lookup, or a Unix socket path), accept,
 * maxConnections, close with Node's "close after the last connection"
 * rule, and the server's EventEmitter.
 *
 * Lifetime follows the socket's: one "alive" reference, dropped after the
 * 'close' event; accepted sockets and ticks hold references too, so a
 * connection that outlives its server's 'close' can still report to it.
 */
#include "internal.h"

#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    SRV_LISTENING = 1u << 0, /* the handle is listening */
    SRV_HANDLE = 1u << 1,    /* h is initialised and not yet closed */
    SRV_PIPE = 1u << 2,
    SRV_BINDING = 1u << 3, /* listen() in progress (lookup) */
    SRV_CLOSING = 1u << 4, /* close() called, 'close' not yet emitted */
    SRV_UNREF = 1u << 5,
    SRV_DESTROYING = 1u << 6,     /* cnet_server_destroy(): free after 'close' */
    SRV_CLOSED = 1u << 7,         /* 'close' emitted and the alive ref dropped */
    SRV_NOT_RUNNING = 1u << 8,    /* close() was called while not listening */
    SRV_HANDLE_CLOSING = 1u << 9, /* a failed listen's handle is still closing */
};

struct cnet_server_s {
    cnet__emitter_t em;
    cnet_loop_t *loop;
    int refs;
    uint32_t flags;
    unsigned id;
    cnet__handle_t h;
    cnet_server_opts_t opts;
    size_t connections;
    int max_connections;
    int user_retains;
    void *data;
    cnet_address_t bound;
    int backlog;
    cnet_listen_opts_t lopts; /* copy; strings below */
    char *host;
    char *path;
    uv_getaddrinfo_t *gai;   /* pending lookup, or NULL */
    cnet__errinfo_t err;     /* the last error reported */
    cnet__tick_t close_tick; /* scheduling 'close' must not need memory */
};

static void emit_simple(cnet_server_t *srv, cnet_event_type_t type);

/* ---- lifetime and emitting -------------------------------------------------- */

void cnet__server_retain(cnet_server_t *srv)
{
    srv->refs++;
}

void cnet__server_release(cnet_server_t *srv)
{
    if (--srv->refs == 0) {
        cnet__emitter_free(&srv->em);
        cnet__free(srv->host);
        cnet__free(srv->path);
        srv->loop->alive--;
        cnet__free(srv);
    }
}

static void ref_retain(void *obj)
{
    cnet__server_retain(obj);
}

static void ref_release(void *obj)
{
    cnet__server_release(obj);
}

const cnet__ref_ops_t cnet__server_ref_ops = {ref_retain, ref_release};

void cnet_server_retain(cnet_server_t *srv)
{
    if (srv) {
        srv->user_retains++;
        cnet__server_retain(srv);
    }
}

void cnet_server_release(cnet_server_t *srv)
{
    if (srv && srv->user_retains > 0) {
        srv->user_retains--;
        cnet__server_release(srv);
    }
}

static void invoke_server(void *self, cnet__any_cb cb, const cnet_event_t *ev, void *arg)
{
    ((cnet_server_cb)cb)(self, ev, arg);
}

static void server_emit(cnet_server_t *srv, const cnet_event_t *ev)
{
    size_t called;

    cnet__server_retain(srv);
    called = cnet__emit(&srv->em, srv, ev, invoke_server);
    if (called == 0 && ev->type == CNET_EVENT_ERROR)
        cnet__log(CNET_LOG_WARN, "srv#%u unhandled 'error': %s", srv->id, ev->error->message);
    cnet__server_release(srv);
}

int cnet_server_new(cnet_loop_t *loop, const cnet_server_opts_t *opts, cnet_server_t **out)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (opts && (err = cnet__opts_load(&o, sizeof o, opts, CNET__SERVER_OPTS_V1)) != 0)
        return err;
    loop = cnet__loop_or_default(loop);
    if (!loop)
        return CNET_ENOMEM;
    srv = cnet__calloc(1, sizeof *srv);
    if (!srv)
        return CNET_ENOMEM;
    srv->loop = loop;
    srv->refs = 1;
    srv->id = ++loop->next_id;
    srv->opts = o;
    srv->max_connections = o.max_connections;
    loop->alive++;
    *out = srv;
    return 0;
}

cnet_server_t *cnet_create_server(const cnet_server_opts_t *opts, cnet_server_cb on_connection,
                                  void *arg)
{
    cnet_server_t *srv;

    if (cnet_server_new(NULL, opts, &srv) != 0)
        return NULL;
    if (on_connection && cnet_server_on(srv, CNET_EVENT_CONNECTION, on_connection, arg) != 0) {
        cnet__server_release(srv);
        return NULL;
    }
    return srv;
}

/* ---- errors ------------------------------------------------------------- */

static void tick_emit_error(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_ERROR;
    ev.error = &srv->err.pub;
    server_emit(srv, &ev);
}

/* Records the error and emits it on a later tick (never inside listen()). */
static void report_error(cnet_server_t *srv, int code, const char *syscall, int style)
{
    const char *addr = srv->path ? srv->path : srv->bound.address[0] ? srv->bound.address : NULL;
    int port = srv->path ? -1 : srv->bound.port;

    cnet__errinfo_set(&srv->err, code, syscall, addr, port, NULL, style);
    if (!cnet__tick(srv->loop, tick_emit_error, srv, &cnet__server_ref_ops))
        cnet__log(CNET_LOG_ERROR, "srv#%u out of memory reporting %s", srv->id,
                  cnet_err_name(code));
}

/* ---- accept --------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    cnet_server_t *srv = server->data;
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s;
    cnet_event_t ev;
    int err;

    if (status < 0) {
        /* EMFILE reaches us only when libuv's reserve fd is gone too (libuv
         * normally accepts and closes the excess itself, as Node sees it).
         * Reported as 'error' (accept); the server keeps listening. */
        cnet__errinfo_set(&srv->err, cnet__err_from_uv(status), "accept", NULL, -1, NULL,
                          CNET__MSG_PLAIN);
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_ERROR;
        ev.error = &srv->err.pub;
        server_emit(srv, &ev);
        return;
    }
    so.allow_half_open = srv->opts.allow_half_open;
    so.high_water_mark = srv->opts.high_water_mark;
    if (cnet__socket_alloc(srv->loop, &so, &s) != 0) {
        report_error(srv, CNET_ENOMEM, "accept", CNET__MSG_PLAIN);
        return;
    }
    if (srv->flags & SRV_PIPE) {
        err = uv_pipe_init(srv->loop->uv, &s->h.pipe, 0);
        s->flags |= CNET__S_PIPE;
    } else {
        err = uv_tcp_init(srv->loop->uv, &s->h.tcp);
    }
    if (err) {
        cnet__socket_release(s);
        report_error(srv, cnet__err_from_uv(err), "accept", CNET__MSG_PLAIN);
        return;
    }
    s->h.handle.data = s;
    s->flags |= CNET__S_HANDLE;
    err = uv_accept(server, &s->h.stream);
    if (err) {
        cnet__socket_destroy(s, 0, NULL);
        return;
    }
    s->flags |= CNET__S_CONNECTED | CNET__S_EVER_CONNECTED | CNET__S_CONNECT_STARTED;
    cnet__socket_cache_fd(s);

    if (srv->max_connections > 0 && srv->connections >= (size_t)srv->max_connections) {
        cnet_address_t local, remote;
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_DROP;
        if (cnet_socket_address(s, &local) == 0)
            ev.local = &local;
        if (cnet_socket_remote_address(s, &remote) == 0)
            ev.remote = &remote;
        cnet__socket_destroy(s, 0, NULL); /* nobody listens on it: freed silently */
        server_emit(srv, &ev);
        return;
    }

    s->server = srv;
    cnet__server_retain(srv);
    srv->connections++;
    if (srv->opts.no_delay)
        cnet_socket_set_no_delay(s, true);
    if (srv->opts.keep_alive)
        cnet_socket_set_keep_alive(s, true, srv->opts.keep_alive_initial_delay_ms);
    if (srv->opts.pause_on_connect)
        s->flags |= CNET__S_PAUSED;
    cnet__socket_touch(s);

    cnet__socket_retain(s);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CONNECTION;
    ev.connection = s;
    server_emit(srv, &ev);
    cnet__stream_start_reading(s);
    cnet__socket_release(s);
}

/* ---- listen --------------------------------------------------------------- */

static void tick_listening(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    if (srv->flags & SRV_LISTENING)
        emit_simple(srv, CNET_EVENT_LISTENING);
}

static void on_failed_handle_closed(uv_handle_t *h)
{
    cnet_server_t *srv = h->data;
    cnet_event_t ev;

    srv->flags &= ~SRV_HANDLE_CLOSING;
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_ERROR;
    ev.error = &srv->err.pub;
    server_emit(srv, &ev);
    cnet__server_release(srv);
}

/*
 * A failed bind/listen: the handle goes and the server may listen again. The
 * error is emitted from the close callback, so a listener that listens again
 * never re-initialises a handle libuv is still closing.
 */
static void listen_failed(cnet_server_t *srv, int code, const char *syscall)
{
    srv->flags &= ~(SRV_LISTENING | SRV_BINDING);
    if (!(srv->flags & SRV_HANDLE)) {
        report_error(srv, code, syscall, CNET__MSG_WITH_TEXT);
        return;
    }
    cnet__errinfo_set(&srv->err, code, syscall, srv->path ? srv->path : srv->bound.address,
                      srv->path ? -1 : srv->bound.port, NULL, CNET__MSG_WITH_TEXT);
    srv->flags &= ~SRV_HANDLE;
    srv->flags |= SRV_HANDLE_CLOSING;
    cnet__server_retain(srv);
    uv_close(&srv->h.handle, on_failed_handle_closed);
}

static int listen_on_handle(cnet_server_t *srv)
{
    int err;

    srv->h.handle.data = srv;
    err = uv_listen(&srv->h.stream, srv->backlog, on_connection);
    if (err)
        return cnet__err_from_uv(err);
    srv->flags |= SRV_LISTENING;
    srv->flags &= ~SRV_BINDING;
    if (srv->flags & SRV_UNREF)
        uv_unref(&srv->h.handle);
    if (!cnet__tick(srv->loop, tick_listening, srv, &cnet__server_ref_ops))
        return CNET_ENOMEM;
    return 0;
}

/* Binds and listens on one TCP address; errors are reported as events. */
static void listen_tcp_addr(cnet_server_t *srv, const struct sockaddr *sa)
{
    unsigned flags = 0;
    struct sockaddr_storage ss;
    int len = sizeof ss, err;

    cnet__addr_from_sockaddr(sa, sizeof(struct sockaddr_storage), &srv->bound);
    err = uv_tcp_init(srv->loop->uv, &srv->h.tcp);
    if (err) {
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return;
    }
    srv->h.handle.data = srv;
    srv->flags |= SRV_HANDLE;
    if (sa->sa_family == AF_INET6 && srv->lopts.ipv6_only)
        flags |= UV_TCP_IPV6ONLY;
    err = uv_tcp_bind(&srv->h.tcp, sa, flags);
    if (err == 0)
        err = listen_on_handle(srv);
    else
        err = cnet__err_from_uv(err);
    if (err) {
        /* libuv reports EADDRINUSE at listen(); Node calls it "listen" either way. */
        listen_failed(srv, err, "listen");
        return;
    }
    if (uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len) == 0)
        cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, &srv->bound);
}

static void on_listen_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    cnet_server_t *srv = req->data;

    cnet__free(req);
    if (srv->gai == req) {
        srv->gai = NULL;
        if (status < 0 || !res) {
            int err = status < 0 ? cnet__err_from_uv(status) : CNET_ENOTFOUND;
            srv->flags &= ~SRV_BINDING;
            cnet__errinfo_set(&srv->err, err, "getaddrinfo", NULL, -1, srv->host, CNET__MSG_PLAIN);
            if (!cnet__tick(srv->loop, tick_emit_error, srv, &cnet__server_ref_ops))
                cnet__log(CNET_LOG_ERROR, "srv#%u out of memory", srv->id);
        } else {
            /* Node listens on the first address the lookup gives. */
            struct sockaddr_storage ss;
            memcpy(&ss, res->ai_addr, res->ai_addrlen);
            if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)srv->lopts.port);
            else
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)srv->lopts.port);
            listen_tcp_addr(srv, (struct sockaddr *)&ss);
        }
    }
    if (res)
        uv_freeaddrinfo(res);
    cnet__server_release(srv);
}

static void listen_path(cnet_server_t *srv)
{
    int err = uv_pipe_init(srv->loop->uv, &srv->h.pipe, 0);

    srv->bound = (cnet_address_t){.port = -1};
    snprintf(srv->bound.address, sizeof srv->bound.address, "%s", srv->path);
    if (err) {
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return;
    }
    srv->h.handle.data = srv;
    srv->flags |= SRV_HANDLE | SRV_PIPE;
    err = cnet__err_from_uv(uv_pipe_bind(&srv->h.pipe, srv->path));
    if (err == 0 && (srv->lopts.readable_all || srv->lopts.writable_all)) {
        mode_t mode = 0;
        if (srv->lopts.readable_all)
            mode |= S_IRUSR | S_IRGRP | S_IROTH;
        if (srv->lopts.writable_all)
            mode |= S_IWUSR | S_IWGRP | S_IWOTH;
        if (chmod(srv->path, mode | S_IRUSR | S_IWUSR) != 0)
            err = -errno;
    }
    if (err == 0)
        err = listen_on_handle(srv);
    if (err)
        listen_failed(srv, err, "listen");
}

int cnet_server_listen_opts(cnet_server_t *srv, const cnet_listen_opts_t *opts,
                            cnet_server_cb on_listening, void *arg)
{
    cnet_listen_opts_t copy, *o = &copy;
    struct sockaddr_storage ss;
    int err;

    if (!srv || !opts)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = cnet__opts_load(&copy, sizeof copy, opts, CNET__LISTEN_OPTS_V1)) != 0)
        return err;
    if (srv->flags & SRV_DESTROYING)
        return CNET_ERR_SERVER_NOT_RUNNING;
    if (srv->flags & (SRV_LISTENING | SRV_BINDING | SRV_HANDLE | SRV_CLOSING | SRV_HANDLE_CLOSING))
        return CNET_ERR_SERVER_ALREADY_LISTEN;
    if (o->path) {
        if ((err = cnet__addr_check_path(o->path)) != 0)
            return err;
    } else if (!cnet__port_valid(o->port)) {
        return CNET_ERR_SOCKET_BAD_PORT;
    }
    if (o->backlog < 0)
        return CNET_ERR_OUT_OF_RANGE;
    cnet__free(srv->host);
    cnet__free(srv->path);
    srv->host = srv->path = NULL;
    if (o->path && !(srv->path = cnet__strdup(o->path)))
        return CNET_ENOMEM;
    if (!o->path && o->host && !(srv->host = cnet__strdup(o->host)))
        return CNET_ENOMEM;
    if (on_listening && (err = cnet_server_once(srv, CNET_EVENT_LISTENING, on_listening, arg)) != 0)
        return err;
    srv->lopts = *o;
    srv->lopts.host = srv->host;
    srv->lopts.path = srv->path;
    srv->backlog = o->backlog ? o->backlog : 511;
    if (srv->flags & SRV_CLOSED) {
        srv->flags &= ~SRV_CLOSED;
        srv->refs++; /* alive again */
    }
    srv->flags &= ~SRV_NOT_RUNNING;
    memset(&srv->bound, 0, sizeof srv->bound);

    if (srv->path) {
        listen_path(srv);
        return 0;
    }
    if (!srv->host) {
        /* No host: "::" dual-stack, or 0.0.0.0 where IPv6 is unavailable. */
        int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0)
            close(probe);
        cnet__addr_parse(probe >= 0 ? "::" : "0.0.0.0", o->port, &ss);
        listen_tcp_addr(srv, (struct sockaddr *)&ss);
        return 0;
    }
    if (cnet_is_ip(srv->host)) {
        cnet__addr_parse(srv->host, o->port, &ss);
        listen_tcp_addr(srv, (struct sockaddr *)&ss);
        return 0;
    }
    {
        struct addrinfo hints;
        uv_getaddrinfo_t *req = cnet__malloc(sizeof *req);
        if (!req)
            return CNET_ENOMEM;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        req->data = srv;
        err = uv_getaddrinfo(srv->loop->uv, req, on_listen_resolved, srv->host, NULL, &hints);
        if (err) {
            cnet__free(req);
            report_error(srv, cnet__err_from_uv(err), "getaddrinfo", CNET__MSG_PLAIN);
            return 0;
        }
        cnet__server_retain(srv);
        srv->gai = req;
        srv->flags |= SRV_BINDING;
    }
    return 0;
}

int cnet_server_listen(cnet_server_t *srv, int port, const char *host, cnet_server_cb on_listening,
                       void *arg)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    o.port = port;
    o.host = host;
    return cnet_server_listen_opts(srv, &o, on_listening, arg);
}

int cnet_server_listen_path(cnet_server_t *srv, const char *path, cnet_server_cb on_listening,
                            void *arg)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    if (!path)
        return CNET_ERR_INVALID_ARG_TYPE;
    o.path = path;
    return cnet_server_listen_opts(srv, &o, on_listening, arg);
}

/* ---- close ---------------------------------------------------------------- */

static void emit_close_now(cnet_server_t *srv)
{
    cnet__errinfo_t not_running;
    cnet_event_t ev;

    srv->flags &= ~SRV_CLOSING;
    srv->flags |= SRV_CLOSED;
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CLOSE;
    if (srv->flags & SRV_NOT_RUNNING) {
        cnet__errinfo_set(&not_running, CNET_ERR_SERVER_NOT_RUNNING, NULL, NULL, -1, NULL,
                          CNET__MSG_PLAIN);
        ev.error = &not_running.pub;
    }
    srv->flags &= ~SRV_NOT_RUNNING;
    server_emit(srv, &ev);
    /* A listener may have listened again, which took a new alive ref: the
     * old one is dropped either way (else a relisten leaks the server). */
    if ((srv->flags & SRV_CLOSED) && (srv->flags & SRV_DESTROYING)) {
        /* destroy(): user retains no longer count. */
        srv->refs -= srv->user_retains;
        srv->user_retains = 0;
    }
    cnet__server_release(srv);
}

static void tick_close(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    if ((srv->flags & SRV_CLOSING) && !(srv->flags & SRV_HANDLE) && srv->connections == 0)
        emit_close_now(srv);
}

/* Node's _emitCloseIfDrained: 'close' once the handle is gone and no connection remains. */
static void maybe_emit_close(cnet_server_t *srv)
{
    if ((srv->flags & SRV_CLOSING) && !(srv->flags & SRV_HANDLE) && srv->connections == 0)
        cnet__tick_embedded(srv->loop, &srv->close_tick, tick_close, srv, &cnet__server_ref_ops);
}

static void on_listener_closed(uv_handle_t *h)
{
    cnet_server_t *srv = h->data;
    maybe_emit_close(srv);
    cnet__server_release(srv);
}

void cnet__server_connection_closed(cnet_server_t *srv)
{
    srv->connections--;
    maybe_emit_close(srv);
}

int cnet_server_close(cnet_server_t *srv, cnet_server_cb on_close, void *arg)
{
    int err;

    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (srv->flags & SRV_CLOSED)
        return CNET_ERR_SERVER_NOT_RUNNING; /* retained and already closed: nothing will come */
    if (on_close && (err = cnet_server_once(srv, CNET_EVENT_CLOSE, on_close, arg)) != 0)
        return err;
    if (srv->flags & SRV_CLOSING)
        return 0;
    if (!(srv->flags & (SRV_LISTENING | SRV_BINDING)))
        srv->flags |= SRV_NOT_RUNNING;
    srv->flags |= SRV_CLOSING;
    srv->flags &= ~(SRV_LISTENING | SRV_BINDING);
    if (srv->gai) {
        /* A pending lookup: its callback sees gai changed and only frees. */
        uv_cancel((uv_req_t *)srv->gai);
        srv->gai = NULL;
    }
    if (srv->flags & SRV_HANDLE) {
        srv->flags &= ~SRV_HANDLE;
        cnet__server_retain(srv);
        uv_close(&srv->h.handle, on_listener_closed);
    } else {
        maybe_emit_close(srv);
    }
    return 0;
}

void cnet_server_destroy(cnet_server_t *srv)
{
    if (!srv || (srv->flags & SRV_DESTROYING))
        return;
    srv->flags |= SRV_DESTROYING;
    if (srv->flags & SRV_CLOSED) {
        /* Already closed and only kept by user retains: drop them. */
        int n = srv->user_retains;
        srv->user_retains = 0;
        while (n-- > 0)
            cnet__server_release(srv);
        return;
    }
    cnet_server_close(srv, NULL, NULL);
}

/* ---- accessors ------------------------------------------------------------ */

int cnet_server_address(const cnet_server_t *srv, cnet_address_t *out)
{
    if (!srv || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!(srv->flags & SRV_LISTENING))
        return CNET_ERR_SERVER_NOT_RUNNING;
    *out = srv->bound;
    return 0;
}

bool cnet_server_is_listening(const cnet_server_t *srv)
{
    return srv && (srv->flags & SRV_LISTENING);
}

size_t cnet_server_connections(const cnet_server_t *srv)
{
    return srv ? srv->connections : 0;
}

static void tick_count(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    ((cnet_count_cb)t->cb)(srv, 0, srv->connections, t->arg);
}

int cnet_server_get_connections(cnet_server_t *srv, cnet_count_cb cb, void *arg)
{
    cnet__tick_t *t;

    if (!srv || !cb)
        return CNET_ERR_INVALID_ARG_TYPE;
    t = cnet__tick(srv->loop, tick_count, srv, &cnet__server_ref_ops);
    if (!t)
        return CNET_ENOMEM;
    t->cb = (void *)cb;
    t->arg = arg;
    return 0;
}

int cnet_server_set_max_connections(cnet_server_t *srv, int max)
{
    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (max < 0)
        return CNET_ERR_OUT_OF_RANGE;
    srv->max_connections = max;
    return 0;
}

void cnet_server_ref(cnet_server_t *srv)
{
    if (!srv)
        return;
    srv->flags &= ~SRV_UNREF;
    if (srv->flags & SRV_HANDLE)
        uv_ref(&srv->h.handle);
}

void cnet_server_unref(cnet_server_t *srv)
{
    if (!srv)
        return;
    srv->flags |= SRV_UNREF;
    if (srv->flags & SRV_HANDLE)
        uv_unref(&srv->h.handle);
}

void cnet_server_set_data(cnet_server_t *srv, void *data)
{
    if (srv)
        srv->data = data;
}

void *cnet_server_get_data(const cnet_server_t *srv)
{
    return srv ? srv->data : NULL;
}

cnet_loop_t *cnet_server_loop(const cnet_server_t *srv)
{
    return srv ? srv->loop : NULL;
}

/* ---- listeners ------------------------------------------------------------ */

static void emit_simple(cnet_server_t *srv, cnet_event_type_t type)
{
    cnet_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    server_emit(srv, &ev);
}

static int add(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg,
               cnet_free_fn arg_free, bool once, bool prepend)
{
    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    return cnet__emitter_add(&srv->em, (int)type, (cnet__any_cb)cb, arg, arg_free, once, prepend);
}

int cnet_server_on(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg)
{
    return add(srv, type, cb, arg, NULL, false, false);
}

int cnet_server_on_ex(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg,
                      cnet_free_fn arg_free)
{
    return add(srv, type, cb, arg, arg_free, false, false);
}

int cnet_server_once(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg)
{
    return add(srv, type, cb, arg, NULL, true, false);
}

int cnet_server_prepend(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg)
{
    return add(srv, type, cb, arg, NULL, false, true);
}

int cnet_server_off(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb, void *arg)
{
    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove(&srv->em, (int)type, (cnet__any_cb)cb, arg);
    return 0;
}

int cnet_server_off_all(cnet_server_t *srv, cnet_event_type_t type)
{
    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove_all(&srv->em, (int)type);
    return 0;
}

size_t cnet_server_listener_count(const cnet_server_t *srv, cnet_event_type_t type)
{
    return srv ? cnet__emitter_count(&srv->em, (int)type) : 0;
}
