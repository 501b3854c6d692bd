/*
 * Servers: listen (TCP with optional lookup, or a Unix socket path), accept,
 * pause(msecs), maxConnections, close with Node's "close after the last
 * connection" rule, the listen options' AbortSignal, and the server's
 * EventEmitter.
 *
 * Lifetime follows the socket's: one "alive" reference, dropped after the
 * last 'close' event; accepted sockets and ticks hold references too, so a
 * connection that outlives its server's 'close' can still report to it.
 *
 * Close, as Node's: every close() made when no connection is open owes one
 * 'close' event (close_pending, Node's emitCloseNT per call), and so does
 * the close of the last connection of a closing server. They are emitted on
 * ticks once the listening handle has finished closing. A callback given to
 * close() on a server that was not listening is wrapped so that it alone
 * sees ERR_SERVER_NOT_RUNNING (Node's cb(new ERR_SERVER_NOT_RUNNING())).
 */
#include "codec/socketaddress.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    SRV_LISTENING = 1u << 0, /* the handle is listening */
    SRV_HANDLE = 1u << 1,    /* h is initialised and not yet closed */
    SRV_PIPE = 1u << 2,
    SRV_BINDING = 1u << 3, /* listen() in progress: a deferred bind or a lookup */
    SRV_CLOSING = 1u << 4, /* close() called, 'close' not yet emitted */
    SRV_UNREF = 1u << 5,
    SRV_DESTROYING = 1u << 6,     /* cnet_server_destroy(): free after 'close' */
    SRV_CLOSED = 1u << 7,         /* 'close' emitted and the alive ref dropped */
    SRV_HANDLE_CLOSING = 1u << 9, /* the listening (or failed) handle is still closing */
    SRV_PAUSED = 1u << 10,        /* pause(msecs) lasts: connections are not accepted */
    SRV_HELD = 1u << 11,          /* paused while libuv holds one accepted fd for us */
    SRV_IPC_CLOSING = 1u << 16,   /* close() waits for the workers' sockets (src/ipc/) */
    SRV_NO_NAME = 1u << 12,       /* listening on a Unix fd: address() is null, as node's */
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
    uint64_t blocked; /* connections dropped by opts.block_list */
    int max_connections;
    int user_retains;
    void *data;
    cnet_address_t bound;
    int backlog;
    cnet_listen_opts_t lopts; /* copy; strings below */
    char *host;
    char *path;              /* a Unix socket name: a NUL-terminated copy of path_len bytes */
    size_t path_len;         /* (an abstract name's NULs count: ipc/unix.c) */
    uv_getaddrinfo_t *gai;   /* pending lookup, or NULL */
    cnet__errinfo_t err;     /* the last error reported */
    cnet__tick_t close_tick; /* scheduling 'close' must not need memory */
    unsigned close_pending;  /* 'close' events owed (see the top of the file) */
    cnet__tick_t bind_tick;  /* the deferred bind of a listen on an IP literal */
    cnet__tick_t listening_tick;
    char *pipe_name;           /* the last listen(path)'s: address() gives it (Node's _pipeName) */
    size_t pipe_name_len;      /* its length (an abstract name's NULs count) */
    uv_timer_t *pause_timer;   /* pause(msecs), allocated by the first pause */
    cnet__tick_t reserve_tick; /* takes the loop's spare descriptor back (shed_pending) */
    cnet__abort_listener_t abort;     /* the listen options' signal, until 'close' */
    void *share_ticket;               /* the worker group's shared socket we dup()'d, or NULL */
    struct cnet__ipc_link *ipc_links; /* channels it sent connections over (src/ipc/) */
};

static void emit_simple(cnet_server_t *srv, cnet_event_type_t type);
static void tick_close_fn(cnet__tick_t *t);

/* ---- lifetime and emitting -------------------------------------------------- */

void cnet__server_retain(cnet_server_t *srv)
{
    srv->refs++;
}

static void on_timer_closed(uv_handle_t *h)
{
    cnet__free(h);
}

void cnet__server_release(cnet_server_t *srv)
{
    if (--srv->refs == 0) {
        if (srv->ipc_links)
            cnet__ipc_server_free(srv);
        cnet__abort_unlisten(&srv->abort);
        if (srv->pause_timer)
            uv_close((uv_handle_t *)srv->pause_timer, on_timer_closed);
        cnet__emitter_free(&srv->em);
        cnet__free(srv->host);
        cnet__free(srv->path);
        cnet__free(srv->pipe_name);
        cnet_tls_context_release(srv->opts.tls);
        cnet_blocklist_release(srv->opts.block_list);
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

static void server_emit(cnet_server_t *srv, const cnet_event_t *ev);

void cnet__server_emit(cnet_server_t *srv, const cnet_event_t *ev)
{
    server_emit(srv, ev);
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

/* The loop's spare descriptor, taken with its first server (or listen). */
static void reserve_open(cnet_loop_t *loop)
{
    int fd;

    if (loop->has_reserve)
        return;
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        loop->reserve_fd = fd;
        loop->has_reserve = true;
    }
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
    if (o.tls && o.alpn_callback && cnet__tls_context_has_alpn(o.tls))
        return CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS; /* node's createServer throws */
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
    if (o.tls)
        cnet_tls_context_retain(o.tls);
    cnet_blocklist_retain(o.block_list);
    srv->max_connections = o.max_connections;
    loop->alive++;
    reserve_open(loop); /* now, while descriptors are likely left (else at listen) */
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

/* The address of the server's errors: its path (an abstract name's NULs as '@'), or the IP. */
static const char *error_address(const cnet_server_t *srv, char *buf, size_t cap)
{
    if (srv->path) {
        cnet__unix_display(srv->path, srv->path_len, buf, cap);
        return buf;
    }
    return srv->bound.address[0] ? srv->bound.address : NULL;
}

/* Records the error and emits it on a later tick (never inside listen()). */
static void report_error(cnet_server_t *srv, int code, const char *syscall, int style)
{
    char buf[CNET_ADDRSTRLEN];
    const char *addr = error_address(srv, buf, sizeof buf);
    int port = srv->path ? -1 : srv->bound.port;

    cnet__errinfo_set(&srv->err, code, syscall, addr, port, NULL, style);
    if (!cnet__tick(srv->loop, tick_emit_error, srv, &cnet__server_ref_ops))
        cnet__log(CNET_LOG_ERROR, "srv#%u out of memory reporting %s", srv->id,
                  cnet_err_name(code));
}

/* ---- accept --------------------------------------------------------------- */

/* The peer of an accepted TCP socket is denied by the server's BlockList. */
static bool is_blocked(cnet_server_t *srv, cnet_socket_t *s)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;

    if ((s->flags & CNET__S_PIPE) ||
        uv_tcp_getpeername(&s->h.tcp, (struct sockaddr *)&ss, &len) != 0)
        return false;
    if (!cnet__blocklist_check_sockaddr(srv->opts.block_list, (struct sockaddr *)&ss))
        return false;
    srv->blocked++;
    return true;
}

static int pause_timer_start(cnet_server_t *srv, unsigned msecs);

/*
 * No memory for the socket of a connection libuv accepted for us. libuv keeps
 * that fd and stops polling the listener until uv_accept() is called, so a
 * plain return would leave the server deaf for good (test_oom found it). Hold
 * it as pause() does and try again shortly: memory may be back by then, the
 * next connections wait in the kernel's backlog meanwhile, and nothing spins.
 */
static void hold_for_memory(cnet_server_t *srv)
{
    srv->flags |= SRV_HELD; /* taken by on_pause_end() */
    if (pause_timer_start(srv, 100) != 0)
        cnet__log(CNET_LOG_ERROR, "srv#%u out of memory: not accepting until the next pause()",
                  srv->id);
}

/* Takes the connection libuv accepted for us and emits 'connection' (or 'drop'). */
static void accept_one(cnet_server_t *srv)
{
    uv_stream_t *server = &srv->h.stream;
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s;
    cnet_event_t ev;
    int err;

    so.allow_half_open = srv->opts.allow_half_open;
    so.high_water_mark = srv->opts.high_water_mark;
    if (cnet__socket_alloc(srv->loop, &so, &s) != 0) {
        report_error(srv, CNET_ENOMEM, "accept", CNET__MSG_PLAIN);
        hold_for_memory(srv);
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

    const char *drop = NULL;
    if (srv->opts.block_list && is_blocked(srv, s))
        drop = "blockList";
    else if (srv->max_connections > 0 && srv->connections >= (size_t)srv->max_connections)
        drop = "maxConnections";
    if (drop) {
        cnet_address_t local, remote;
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_DROP;
        ev.reason = drop;
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
    if (srv->opts.tls && (err = cnet__tls_sock_accepted(s, &srv->opts)) != 0) {
        cnet__socket_destroy(s, 0, NULL);
        report_error(srv, err, "accept", CNET__MSG_PLAIN);
        return;
    }

    cnet__socket_retain(s);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CONNECTION;
    ev.connection = s;
    server_emit(srv, &ev);
    cnet__stream_start_reading(s);
    cnet__socket_release(s);
}

/*
 * EMFILE reaches us only when libuv's reserve descriptor is gone: never
 * opened (none were left when the loop's first stream was made, as for a
 * listen_fd() then) or taken by another thread (a worker loop) before libuv
 * could open it again. libuv then calls us again at once for as long as
 * connections wait: an accept spin (test_emfile found it). Do libuv's trick
 * with our own spare: free it, accept and close what waits, take it back, so
 * libuv's next accept() finds the queue empty. Linux gives accept() its
 * descriptor before it looks at the queue, so that accept() needs the freed
 * one: the spare is taken back on a tick, once libuv has stopped accepting.
 */
static void tick_reserve(cnet__tick_t *t)
{
    reserve_open(((cnet_server_t *)t->obj)->loop);
}

static void shed_pending(cnet_server_t *srv)
{
    cnet_loop_t *loop = srv->loop;
    uv_os_fd_t lfd;
    int fd;

    if (!loop->has_reserve || uv_fileno(&srv->h.handle, &lfd) != 0)
        return;
    close(loop->reserve_fd);
    loop->has_reserve = false;
    for (;;) {
        fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            close(fd);
        else if (errno != EINTR && errno != ECONNABORTED)
            break; /* EAGAIN: nothing waits any more */
    }
    cnet__tick_embedded(loop, &srv->reserve_tick, tick_reserve, srv, &cnet__server_ref_ops);
}

static void on_connection(uv_stream_t *server, int status)
{
    cnet_server_t *srv = server->data;
    cnet_event_t ev;

    if (status < 0) {
        /* EMFILE reaches us only when libuv's reserve fd is gone too (libuv
         * normally accepts and closes the excess itself, as Node sees it):
         * shed_pending() closes what waits with ours. Reported as 'error'
         * (accept); the server keeps listening. */
        if (status == UV_EMFILE || status == UV_ENFILE)
            shed_pending(srv);
        cnet__errinfo_set(&srv->err, cnet__err_from_uv(status), "accept", NULL, -1, NULL,
                          CNET__MSG_PLAIN);
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_ERROR;
        ev.error = &srv->err.pub;
        server_emit(srv, &ev);
        return;
    }
    if (srv->flags & SRV_PAUSED) {
        /* Not taken: libuv keeps the fd and stops polling the listener, so
         * the next connections wait in the kernel's backlog (uv_accept() at
         * the end of the pause resumes polling). */
        srv->flags |= SRV_HELD;
        return;
    }
    accept_one(srv);
}

/* ---- pause(msecs) ----------------------------------------------------------- */

static void on_pause_end(uv_timer_t *t)
{
    cnet_server_t *srv = t->data;
    bool held = (srv->flags & SRV_HELD) != 0;

    srv->flags &= ~(SRV_PAUSED | SRV_HELD);
    if (held && (srv->flags & SRV_LISTENING)) {
        cnet__server_retain(srv);
        accept_one(srv); /* its uv_accept() makes libuv poll the listener again */
        cnet__server_release(srv);
    }
}

/* close() ends a pause; a held fd is closed with the listening handle by libuv. */
static void pause_stop(cnet_server_t *srv)
{
    if (srv->pause_timer)
        uv_timer_stop(srv->pause_timer); /* cannot fail */
    srv->flags &= ~(SRV_PAUSED | SRV_HELD);
}

/* (Re)starts the pause timer, made on first use; on_pause_end() accepts a held connection. */
static int pause_timer_start(cnet_server_t *srv, unsigned msecs)
{
    int err;

    if (!srv->pause_timer) {
        uv_timer_t *t = cnet__malloc(sizeof *t);
        if (!t)
            return CNET_ENOMEM;
        err = uv_timer_init(srv->loop->uv, t);
        if (err) {
            cnet__free(t);
            return cnet__err_from_uv(err);
        }
        /* Only the listening handle decides whether the loop stays alive. */
        uv_unref((uv_handle_t *)t);
        t->data = srv;
        srv->pause_timer = t;
    }
    err = uv_timer_start(srv->pause_timer, on_pause_end, msecs ? msecs : 1000, 0);
    return err ? cnet__err_from_uv(err) : 0;
}

int cnet_server_pause(cnet_server_t *srv, unsigned msecs)
{
    int err;

    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!(srv->flags & SRV_LISTENING))
        return CNET_ERR_SERVER_NOT_RUNNING;
    if (srv->flags & SRV_PAUSED)
        return 0; /* Node v0.6: "We're already paused." */
    if ((err = pause_timer_start(srv, msecs)) != 0)
        return err;
    srv->flags |= SRV_PAUSED;
    return 0;
}

bool cnet_server_is_paused(const cnet_server_t *srv)
{
    return srv && (srv->flags & SRV_PAUSED);
}

/* ---- listen --------------------------------------------------------------- */

static void tick_listening(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    if (srv->flags & SRV_LISTENING)
        emit_simple(srv, CNET_EVENT_LISTENING);
}

static void maybe_emit_close(cnet_server_t *srv);

/* After uv_close() of a handle on the group's socket (libuv closed our dup at once). */
static void share_put(cnet_server_t *srv)
{
    if (srv->share_ticket) {
        srv->loop->share->put(srv->loop->share->ctx, srv->share_ticket);
        srv->share_ticket = NULL;
    }
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
    maybe_emit_close(srv); /* a close() made meanwhile waited for the handle */
    cnet__server_release(srv);
}

/*
 * A failed bind/listen: the handle goes and the server may listen again. The
 * error is emitted from the close callback, so a listener that listens again
 * never re-initialises a handle libuv is still closing.
 */
static void listen_failed(cnet_server_t *srv, int code, const char *syscall)
{
    char buf[CNET_ADDRSTRLEN];

    srv->flags &= ~(SRV_LISTENING | SRV_BINDING);
    if (!(srv->flags & SRV_HANDLE)) {
        report_error(srv, code, syscall, CNET__MSG_WITH_TEXT);
        return;
    }
    cnet__errinfo_set(&srv->err, code, syscall, error_address(srv, buf, sizeof buf),
                      srv->path ? -1 : srv->bound.port, NULL, CNET__MSG_WITH_TEXT);
    srv->flags &= ~SRV_HANDLE;
    srv->flags |= SRV_HANDLE_CLOSING;
    cnet__server_retain(srv);
    uv_close(&srv->h.handle, on_failed_handle_closed);
    share_put(srv);
}

static void listen_on_handle(cnet_server_t *srv)
{
    int err;

    srv->h.handle.data = srv;
    reserve_open(srv->loop);
    err = uv_listen(&srv->h.stream, srv->backlog, on_connection);
    if (err) {
        /* libuv reports EADDRINUSE at listen(); Node calls it "listen" either way. */
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return;
    }
    srv->flags |= SRV_LISTENING;
    srv->flags &= ~SRV_BINDING;
    if (srv->flags & SRV_UNREF)
        uv_unref(&srv->h.handle);
    cnet__tick_embedded(srv->loop, &srv->listening_tick, tick_listening, srv,
                        &cnet__server_ref_ops);
}

/* Binds and listens on one TCP address; errors are reported as events. */
static void listen_tcp_addr(cnet_server_t *srv, const struct sockaddr *sa)
{
    unsigned flags = 0;
    struct sockaddr_storage ss;
    int len = sizeof ss, err;

    cnet__addr_from_sockaddr(sa, sizeof(struct sockaddr_storage), &srv->bound);
    /* reuse_port needs the socket before its bind: libuv 1.44 has no flag for it. */
    if (srv->lopts.reuse_port)
        err = uv_tcp_init_ex(srv->loop->uv, &srv->h.tcp, sa->sa_family);
    else
        err = uv_tcp_init(srv->loop->uv, &srv->h.tcp);
    if (err) {
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return;
    }
    srv->h.handle.data = srv;
    srv->flags |= SRV_HANDLE;
    /* Node passes ipv6Only only with a host: without one it listens dual-stack. */
    if (sa->sa_family == AF_INET6 && srv->lopts.ipv6_only && srv->host)
        flags |= UV_TCP_IPV6ONLY;
    if (srv->loop->share && !srv->lopts.exclusive && !srv->lopts.reuse_port) {
        /* A worker loop: the group's socket for this address, bound by the first asker. */
        const cnet__listen_share_t *sh = srv->loop->share;
        int fd = -1;
        err = sh->get(sh->ctx, sa, (flags & UV_TCP_IPV6ONLY) != 0, srv->backlog, &fd,
                      &srv->share_ticket);
        if (err) {
            listen_failed(srv, err, "listen");
            return;
        }
        if ((err = uv_tcp_open(&srv->h.tcp, fd)) != 0) {
            close(fd); /* not libuv's yet */
            listen_failed(srv, cnet__err_from_uv(err), "listen");
            return;
        }
        listen_on_handle(srv);
        if ((srv->flags & SRV_LISTENING) &&
            uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len) == 0)
            cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, &srv->bound);
        return;
    }
    if (srv->lopts.reuse_port) {
        uv_os_fd_t fd;
        int on = 1;
        if ((err = uv_fileno(&srv->h.handle, &fd)) != 0) {
            listen_failed(srv, cnet__err_from_uv(err), "listen");
            return;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
            listen_failed(srv, -errno, "listen");
            return;
        }
    }
    err = uv_tcp_bind(&srv->h.tcp, sa, flags);
    if (err) {
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return;
    }
    listen_on_handle(srv);
    if ((srv->flags & SRV_LISTENING) &&
        uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len) == 0)
        cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, &srv->bound);
}

/* listen() on an IP literal binds on a later tick, as Node's (its dns.lookup answers then). */
static void tick_bind(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    struct sockaddr_storage ss;

    if (!(srv->flags & SRV_BINDING) || srv->gai)
        return; /* closed meanwhile */
    cnet__addr_parse(srv->host, srv->lopts.port, &ss);
    listen_tcp_addr(srv, (struct sockaddr *)&ss);
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

static void on_chmod_failed_closed(uv_handle_t *h)
{
    cnet_server_t *srv = h->data;
    srv->flags &= ~SRV_HANDLE_CLOSING;
    cnet__server_release(srv);
}

/*
 * listen(path), at once as Node's. Bind errors are events; a failed chmod of
 * readableAll/writableAll is returned (Node throws it): the handle is closed
 * without events (libuv removes the file) and the server may listen again
 * once it is.
 */
static int listen_path(cnet_server_t *srv)
{
    int err = uv_pipe_init(srv->loop->uv, &srv->h.pipe, 0);
    int mode =
        (srv->lopts.readable_all ? UV_READABLE : 0) | (srv->lopts.writable_all ? UV_WRITABLE : 0);

    cnet__unix_to_address(srv->path, srv->path_len, &srv->bound);
    if (err) {
        listen_failed(srv, cnet__err_from_uv(err), "listen");
        return 0;
    }
    srv->h.handle.data = srv;
    srv->flags |= SRV_HANDLE | SRV_PIPE;
    /* An abstract name is bound by hand (libuv 1.44 takes NUL-terminated names only). */
    if (cnet__unix_is_abstract(srv->path, srv->path_len))
        err = cnet__unix_bind_abstract(&srv->h.pipe, srv->path, srv->path_len);
    else
        err = cnet__err_from_uv(uv_pipe_bind(&srv->h.pipe, srv->path));
    if (err) {
        listen_failed(srv, err, "listen");
        return 0;
    }
    /* Adds the bits to the file's mode (stat, |=, chmod), as Node's fchmod(). */
    if (mode && (err = uv_pipe_chmod(&srv->h.pipe, mode)) != 0) {
        srv->flags &= ~SRV_HANDLE;
        srv->flags |= SRV_HANDLE_CLOSING;
        cnet__server_retain(srv);
        uv_close(&srv->h.handle, on_chmod_failed_closed);
        return cnet__err_from_uv(err);
    }
    listen_on_handle(srv);
    return 0;
}

/* A fresh copy of the @p len bytes of @p src in @p *dst (NULL for NULL); false when out of
 * memory. */
static bool set_name(char **dst, const char *src, size_t len)
{
    char *copy = NULL;

    if (src && !(copy = cnet__unix_dup(src, len)))
        return false;
    cnet__free(*dst);
    *dst = copy;
    return true;
}

/*
 * listen({fd}), at once as node's setupListenHandle: the fd is ours from now
 * on (cnet.h), so every failure closes it: with the handle when libuv took
 * it, else here. An fd that is no TCP or Unix stream is node's UV_EINVAL.
 */
static void listen_fd(cnet_server_t *srv, int fd)
{
    int kind = cnet__fd_kind(fd), err;
    bool inited = false;
    uv_os_fd_t taken;
    struct sockaddr_storage ss;
    int len = sizeof ss;

    srv->bound = (cnet_address_t){.port = -1};
    err = kind == CNET__FD_OTHER ? CNET_EINVAL
                                 : cnet__fd_open(srv->loop->uv, &srv->h, fd, kind, &inited);
    if (inited) {
        srv->h.handle.data = srv;
        srv->flags |= SRV_HANDLE | (kind == CNET__FD_PIPE ? SRV_PIPE : 0);
    }
    if (err) {
        /* EEXIST: another handle of this loop has the fd; it is that one's to close. */
        if (err != CNET_EEXIST && (!inited || uv_fileno(&srv->h.handle, &taken) != 0))
            close(fd);
        listen_failed(srv, err, "listen");
        return;
    }
    listen_on_handle(srv);
    if (!(srv->flags & SRV_LISTENING))
        return;
    if (kind == CNET__FD_PIPE)
        srv->flags |= SRV_NO_NAME;
    else if (uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len) == 0)
        cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, &srv->bound);
}

/* A fresh copy of @p src in @p *dst (NULL for NULL); false when out of memory. */
static bool set_string(char **dst, const char *src)
{
    char *copy = NULL;

    if (src && !(copy = cnet__strdup(src)))
        return false;
    cnet__free(*dst);
    *dst = copy;
    return true;
}

static void on_signal_abort(cnet__abort_listener_t *l)
{
    cnet_server_close(l->obj, NULL, NULL); /* cannot fail without a callback */
}

int cnet_server_listen_opts(cnet_server_t *srv, const cnet_listen_opts_t *opts,
                            cnet_server_cb on_listening, void *arg)
{
    cnet_listen_opts_t copy, *o = &copy;
    uv_getaddrinfo_t *req = NULL;
    const char *host;
    size_t path_len = 0;
    int err;

    if (!srv || !opts)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = cnet__opts_load(&copy, sizeof copy, opts, CNET__LISTEN_OPTS_V1)) != 0)
        return err;
    if (srv->flags & SRV_DESTROYING)
        return CNET_ERR_SERVER_NOT_RUNNING;
    if (srv->flags & (SRV_LISTENING | SRV_BINDING | SRV_HANDLE | SRV_CLOSING | SRV_HANDLE_CLOSING))
        return CNET_ERR_SERVER_ALREADY_LISTEN;
    if (o->has_fd && o->fd < 0) /* node: neither a usable fd nor a port or path */
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->has_fd) { /* node looks at fd first: port, host and path are not looked at */
        o->port = 0;
        o->host = o->path = NULL;
    }
    /* Node validates options.port before looking at path. */
    if (!cnet__port_valid(o->port))
        return CNET_ERR_SOCKET_BAD_PORT;
    if (o->path && (err = cnet__unix_check(o->path, o->path_len, &path_len)) != 0)
        return err;
    if (!o->path && o->path_len)
        return CNET_ERR_INVALID_ARG_VALUE;
    /* Node: "can not set readableAll or writableAll to true when path is abstract". */
    if (o->path && cnet__unix_is_abstract(o->path, path_len) &&
        (o->readable_all || o->writable_all))
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->backlog < 0)
        return CNET_ERR_OUT_OF_RANGE;
    host = o->path || !o->host || !*o->host ? NULL : o->host; /* Node: a falsy host is none */

    /* Everything that may fail comes first: a failed call changes nothing. */
    if (host && !cnet_is_ip(host) && !(req = cnet__malloc(sizeof *req)))
        return CNET_ENOMEM;
    if (!set_name(&srv->path, o->path, path_len) || !set_string(&srv->host, host) ||
        (o->path && !set_name(&srv->pipe_name, o->path, path_len))) {
        cnet__free(req);
        return CNET_ENOMEM;
    }
    srv->path_len = path_len;
    if (o->path)
        srv->pipe_name_len = path_len;
    if (on_listening &&
        (err = cnet_server_once(srv, CNET_EVENT_LISTENING, on_listening, arg)) != 0) {
        cnet__free(req);
        return err;
    }
    srv->lopts = *o;
    srv->lopts.host = srv->host;
    srv->lopts.path = srv->path;
    srv->lopts.signal = NULL; /* not kept: srv->abort holds the signal */
    srv->backlog = o->backlog ? o->backlog : 511;
    srv->flags &= ~(SRV_PIPE | SRV_NO_NAME);
    memset(&srv->bound, 0, sizeof srv->bound);
    if (srv->path && (err = listen_path(srv)) != 0) {
        cnet_server_off(srv, CNET_EVENT_LISTENING, on_listening, arg);
        return err;
    }
    if (srv->flags & SRV_CLOSED) {
        srv->flags &= ~SRV_CLOSED;
        srv->refs++; /* alive again */
    }

    if (o->has_fd) {
        listen_fd(srv, o->fd); /* [fd] at once; a failure is an 'error' event */
    } else if (srv->path) {
        /* listened (or failed, reported as 'error') above */
    } else if (!srv->host) {
        /* No host: "::" dual-stack, or 0.0.0.0 where IPv6 is unavailable. At once, as Node. */
        struct sockaddr_storage ss;
        int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0)
            close(probe);
        cnet__addr_parse(probe >= 0 ? "::" : "0.0.0.0", o->port, &ss);
        listen_tcp_addr(srv, (struct sockaddr *)&ss);
    } else if (!req) {
        /* An IP literal: bound on a later tick; not listening until then. */
        srv->flags |= SRV_BINDING;
        cnet__tick_embedded(srv->loop, &srv->bind_tick, tick_bind, srv, &cnet__server_ref_ops);
    } else {
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        req->data = srv;
        err = uv_getaddrinfo(srv->loop->uv, req, on_listen_resolved, srv->host, NULL, &hints);
        if (err) {
            cnet__free(req);
            report_error(srv, cnet__err_from_uv(err), "getaddrinfo", CNET__MSG_PLAIN);
        } else {
            cnet__server_retain(srv);
            srv->gai = req;
            srv->flags |= SRV_BINDING;
        }
    }

    if (o->signal) {
        srv->abort.fn = on_signal_abort;
        srv->abort.obj = srv;
        if (cnet_abort_signal_is_aborted(o->signal))
            /* Node closes on the next tick; closing now gives the same events
             * (no 'listening'; a failed bind's 'error', then 'close'). */
            cnet_server_close(srv, NULL, NULL);
        else
            cnet__abort_listen(o->signal, &srv->abort);
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

int cnet_server_listen_fd(cnet_server_t *srv, int fd, cnet_server_cb on_listening, void *arg)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    o.has_fd = true;
    o.fd = fd;
    return cnet_server_listen_opts(srv, &o, on_listening, arg);
}

/* listen(handle): a duplicate of @p h's fd, so that each server closes only its own. */
static int listen_dup(cnet_server_t *srv, const uv_handle_t *h, cnet_server_cb on_listening,
                      void *arg)
{
    int fd, err;

    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (srv->flags & SRV_DESTROYING)
        return CNET_ERR_SERVER_NOT_RUNNING;
    if (srv->flags & (SRV_LISTENING | SRV_BINDING | SRV_HANDLE | SRV_CLOSING | SRV_HANDLE_CLOSING))
        return CNET_ERR_SERVER_ALREADY_LISTEN;
    if (!h)
        return CNET_ERR_INVALID_ARG_VALUE; /* node: no _handle, no fd, no port or path */
    if ((fd = cnet__fd_dup(h)) < 0)
        return fd;
    if ((err = cnet_server_listen_fd(srv, fd, on_listening, arg)) != 0)
        close(fd); /* refused: the duplicate is still ours */
    return err;
}

int cnet_server_listen_handle(cnet_server_t *srv, const cnet_server_t *other,
                              cnet_server_cb on_listening, void *arg)
{
    if (!other)
        return CNET_ERR_INVALID_ARG_TYPE;
    return listen_dup(srv, (other->flags & SRV_HANDLE) ? &other->h.handle : NULL, on_listening,
                      arg);
}

int cnet_server_listen_socket(cnet_server_t *srv, const cnet_socket_t *sock,
                              cnet_server_cb on_listening, void *arg)
{
    if (!sock)
        return CNET_ERR_INVALID_ARG_TYPE;
    return listen_dup(srv,
                      (sock->flags & (CNET__S_HANDLE | CNET__S_DESTROYED)) == CNET__S_HANDLE
                          ? &sock->h.handle
                          : NULL,
                      on_listening, arg);
}

/* ---- close ---------------------------------------------------------------- */

static void emit_close_now(cnet_server_t *srv)
{
    cnet_event_t ev;
    bool last;

    srv->close_pending--;
    last = srv->close_pending == 0;
    if (last) {
        srv->flags &= ~SRV_CLOSING;
        srv->flags |= SRV_CLOSED;
    }
    /* Node: once('close', dispose) of the listen signal's listener. */
    cnet__abort_unlisten(&srv->abort);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CLOSE;
    server_emit(srv, &ev);
    if (!last) {
        /* Another close() owes its own 'close': on the next tick, as Node's. */
        cnet__tick_embedded(srv->loop, &srv->close_tick, tick_close_fn, srv, &cnet__server_ref_ops);
        return;
    }
    /* A listener may have listened or closed again, which took a new alive
     * ref: the old one is dropped either way (else the server leaks). */
    if ((srv->flags & SRV_CLOSED) && (srv->flags & SRV_DESTROYING)) {
        /* destroy(): user retains no longer count. */
        srv->refs -= srv->user_retains;
        srv->user_retains = 0;
    }
    cnet__server_release(srv);
}

static bool drained(const cnet_server_t *srv)
{
    return !(srv->flags & (SRV_HANDLE | SRV_HANDLE_CLOSING)) && srv->connections == 0;
}

static void tick_close_fn(cnet__tick_t *t)
{
    cnet_server_t *srv = t->obj;
    if (srv->close_pending > 0 && drained(srv))
        emit_close_now(srv);
}

/* Node's _emitCloseIfDrained: 'close' once the handle is gone and no connection remains. */
static void maybe_emit_close(cnet_server_t *srv)
{
    if (srv->close_pending > 0 && drained(srv))
        cnet__tick_embedded(srv->loop, &srv->close_tick, tick_close_fn, srv, &cnet__server_ref_ops);
}

static void on_listener_closed(uv_handle_t *h)
{
    cnet_server_t *srv = h->data;
    srv->flags &= ~SRV_HANDLE_CLOSING;
    maybe_emit_close(srv);
    cnet__server_release(srv);
}

void cnet__server_hold(cnet_server_t *srv)
{
    srv->connections++;
}

void cnet__server_connection_closed(cnet_server_t *srv)
{
    srv->connections--;
    if (srv->connections == 0)
        srv->flags &= ~SRV_IPC_CLOSING;
    if (srv->connections == 0 && (srv->flags & SRV_CLOSING)) {
        srv->close_pending++;
        maybe_emit_close(srv);
    }
}

/* close(cb) on a server that is not listening: cb alone sees the error. */
typedef struct not_running_cb {
    cnet_server_cb cb;
    void *arg;
} not_running_cb_t;

static void call_not_running(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const not_running_cb_t *w = arg;
    cnet__errinfo_t err;
    cnet_event_t copy = *ev;

    cnet__errinfo_set(&err, CNET_ERR_SERVER_NOT_RUNNING, NULL, NULL, -1, NULL, CNET__MSG_PLAIN);
    copy.error = &err.pub;
    w->cb(srv, &copy, w->arg);
}

static int add_close_cb(cnet_server_t *srv, cnet_server_cb cb, void *arg, bool running)
{
    not_running_cb_t *w;
    int err;

    if (running) /* Node: once('close', cb), so removing (cb, arg) works too */
        return cnet_server_once(srv, CNET_EVENT_CLOSE, cb, arg);
    w = cnet__malloc(sizeof *w);
    if (!w)
        return CNET_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    err = cnet__emitter_add(&srv->em, CNET_EVENT_CLOSE, (cnet__any_cb)call_not_running, w,
                            cnet__free, true, false);
    if (err)
        cnet__free(w);
    return err;
}

int cnet_server_close(cnet_server_t *srv, cnet_server_cb on_close, void *arg)
{
    int err;

    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (on_close && (err = add_close_cb(srv, on_close, arg, srv->flags & SRV_LISTENING)) != 0)
        return err;
    if (srv->flags & SRV_CLOSED) {
        /* Closed and kept by a retain, or inside its last 'close': alive until this
         * close's 'close' (the emit that is running drops the old reference). */
        srv->flags &= ~SRV_CLOSED;
        srv->refs++;
    }
    srv->flags |= SRV_CLOSING;
    srv->flags &= ~(SRV_LISTENING | SRV_BINDING);
    pause_stop(srv);
    if (srv->gai) {
        /* A pending lookup: its callback sees gai changed and only frees. */
        uv_cancel((uv_req_t *)srv->gai);
        srv->gai = NULL;
    }
    if (srv->flags & SRV_HANDLE) {
        srv->flags &= ~SRV_HANDLE;
        srv->flags |= SRV_HANDLE_CLOSING;
        cnet__server_retain(srv);
        uv_close(&srv->h.handle, on_listener_closed);
        share_put(srv);
    }
    /* node: 'close' waits until the workers closed the connections sent to them. */
    if (srv->ipc_links && !(srv->flags & SRV_IPC_CLOSING) && cnet__ipc_server_closing(srv))
        srv->flags |= SRV_IPC_CLOSING;
    if (srv->connections == 0)
        srv->close_pending++; /* Node's _emitCloseIfDrained() at every close() */
    maybe_emit_close(srv);
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
    if (!(srv->flags & SRV_CLOSING))
        cnet_server_close(srv, NULL, NULL);
}

/* ---- accessors ------------------------------------------------------------ */

cnet_server_t *cnet__server_from_handle(uv_handle_t *h)
{
    cnet_server_t *srv = h->data;
    return srv && &srv->h.handle == h ? srv : NULL;
}

int cnet_server_address(const cnet_server_t *srv, cnet_address_t *out)
{
    if (!srv || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((srv->flags & (SRV_LISTENING | SRV_NO_NAME)) == SRV_LISTENING) {
        *out = srv->bound;
        return 0;
    }
    if (srv->pipe_name) {
        /* Node's address() falls back to _pipeName: set by listen(path), kept after close. */
        cnet__unix_to_address(srv->pipe_name, srv->pipe_name_len, out);
        return 0;
    }
    return CNET_ERR_SERVER_NOT_RUNNING;
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
    if (srv->ipc_links) /* node: the workers holding sent connections are asked too */
        return cnet__ipc_get_connections(srv, cb, arg);
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

int cnet_server_set_secure_context(cnet_server_t *srv, cnet_tls_context_t *ctx)
{
    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
#if !CNET_HAVE_TLS
    CNET__UNUSED(ctx);
    return CNET_ERR_NO_CRYPTO;
#else
    if (!ctx || !srv->opts.tls)
        return CNET_ERR_TLS_INVALID_CONTEXT; /* a plain server stays plain */
    if (srv->opts.alpn_callback && cnet__tls_context_has_alpn(ctx))
        return CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS;
    /* Accepted sockets hold their own reference: only new connections see the change. */
    cnet_tls_context_retain(ctx);
    cnet_tls_context_release(srv->opts.tls);
    srv->opts.tls = ctx;
    return 0;
#endif
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

/* ---- IPC: a listening socket received from another process (src/ipc/) ---------- */

int cnet__server_adopt_pending(cnet_server_t *srv, uv_pipe_t *ipc, bool pipe)
{
    struct sockaddr_storage ss;
    int len = sizeof ss, err;

    err = pipe ? uv_pipe_init(srv->loop->uv, &srv->h.pipe, 0)
               : uv_tcp_init(srv->loop->uv, &srv->h.tcp);
    if (err)
        return cnet__err_from_uv(err);
    srv->h.handle.data = srv;
    srv->flags |= SRV_HANDLE | (pipe ? SRV_PIPE : 0);
    srv->backlog = 511;
    err = uv_accept((uv_stream_t *)ipc, &srv->h.stream);
    if (err == 0) {
        reserve_open(srv->loop);
        err = uv_listen(&srv->h.stream, srv->backlog, on_connection);
    }
    if (err) {
        /* Closed without events: the server never listened (its owner releases it). */
        srv->flags &= ~SRV_HANDLE;
        srv->flags |= SRV_HANDLE_CLOSING;
        cnet__server_retain(srv);
        uv_close(&srv->h.handle, on_chmod_failed_closed);
        return cnet__err_from_uv(err);
    }
    srv->flags |= SRV_LISTENING;
    if (pipe) {
        char path[CNET_ADDRSTRLEN];
        size_t n = sizeof path;
        srv->bound = (cnet_address_t){.port = -1};
        if (uv_pipe_getsockname(&srv->h.pipe, path, &n) == 0 && n < sizeof path) {
            memcpy(srv->bound.address, path, n);
            srv->bound.address[n] = '\0';
        }
    } else if (uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
        cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, &srv->bound);
    }
    return 0;
}

struct cnet__ipc_link **cnet__server_ipc_links(cnet_server_t *srv)
{
    return &srv->ipc_links;
}

unsigned cnet__server_id(const cnet_server_t *srv)
{
    return srv->id;
}

int cnet__server_fileno(const cnet_server_t *srv, bool *tls)
{
    uv_os_fd_t fd;

    *tls = srv->opts.tls != NULL;
    if (!(srv->flags & SRV_LISTENING) || !(srv->flags & SRV_HANDLE))
        return CNET_ERR_SERVER_NOT_RUNNING;
    if (uv_fileno(&srv->h.handle, &fd) != 0)
        return CNET_ERR_SERVER_NOT_RUNNING;
    return fd;
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

uint64_t cnet_server_blocked_count(const cnet_server_t *srv)
{
    return srv ? srv->blocked : 0;
}
