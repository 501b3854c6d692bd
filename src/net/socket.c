/*
 * Sockets: lifetime, events, state, options and the public socket API.
 *
 * Lifetime (docs/design.md): a socket holds one reference while alive; every
 * emit, queued tick, accepting-server link and user retain holds another.
 * destroy() only marks the socket, stops I/O and starts uv_close(); the
 * 'close' event is emitted from the close callback (or from a tick when
 * there is no handle), after which the "alive" reference is dropped and the
 * memory goes when the last reference does. Every path that emits checks
 * CNET__S_DESTROYED afterwards before touching I/O again.
 *
 * Sections: lifetime -> emitting -> destroy/close -> public API (state,
 * options, listeners). Addresses are in sockaddr.c, the onread read path in
 * onread.c, read-only properties in accessors.c.
 */
#include "internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* ---- lifetime ----------------------------------------------------------- */

int cnet__socket_alloc(cnet_loop_t *loop, const cnet_socket_opts_t *opts, cnet_socket_t **out)
{
    cnet_socket_t *s;
    int err;

    loop = cnet__loop_or_default(loop);
    if (!loop)
        return CNET_ENOMEM;
    s = cnet__calloc(1, sizeof *s);
    if (!s)
        return CNET_ENOMEM;
    s->loop = loop;
    s->refs = 1;
    s->id = ++loop->next_id;
    s->hwm = CNET__DEFAULT_HWM;
    s->fd = -1;
    if (opts) {
        if (opts->allow_half_open)
            s->flags |= CNET__S_HALF_OPEN;
        if (opts->high_water_mark)
            s->hwm = opts->high_water_mark;
    }
    if (opts && (err = cnet__onread_init(s, opts)) != 0) {
        cnet__free(s);
        return err;
    }
    loop->alive++;
    *out = s;
    return 0;
}

int cnet_socket_new(cnet_loop_t *loop, const cnet_socket_opts_t *opts, cnet_socket_t **out)
{
    cnet_socket_opts_t o;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (opts && (err = cnet__opts_load(&o, sizeof o, opts, CNET__SOCKET_OPTS_V1)) != 0)
        return err;
    if ((err = cnet__socket_alloc(loop, opts ? &o : NULL, out)) != 0)
        return err;
    /* [abort] options.signal (socket_abort.c) */
    if (opts && (err = cnet__socket_abort_attach(*out, o.signal)) != 0) {
        cnet__socket_release(*out);
        *out = NULL;
        return err;
    }
    /* [fd] new net.Socket({fd}) (src/ipc/fd.c), after the signal, which is the only
     * other thing that can fail: on error the fd is untouched. */
    if (opts && o.has_fd && (err = cnet__socket_open_fd(*out, &o)) != 0) {
        cnet__socket_destroy(*out, 0, NULL); /* nobody saw it: freed after its handle closed */
        *out = NULL;
    }
    return err;
}

void cnet__socket_retain(cnet_socket_t *s)
{
    s->refs++;
}

static void socket_free(cnet_socket_t *s)
{
    cnet_loop_t *loop = s->loop;

    cnet__emitter_free(&s->em);
    cnet__errinfo_free(s->err);
    cnet__free(s->attempted);
    if (s->framer) {
        cnet__framer_free(s->framer);
        cnet__free(s->framer);
    }
    cnet__onread_free(s);
    if (s->tls)
        cnet__tls_sock_free(s);
    cnet__socket_free_endpoints(s);
    loop->alive--;
    cnet__free(s);
}

void cnet__socket_release(cnet_socket_t *s)
{
    if (--s->refs == 0)
        socket_free(s);
}

static void ref_retain(void *obj)
{
    cnet__socket_retain(obj);
}

static void ref_release(void *obj)
{
    cnet__socket_release(obj);
}

const cnet__ref_ops_t cnet__socket_ref_ops = {ref_retain, ref_release};

void cnet_socket_retain(cnet_socket_t *s)
{
    if (s)
        cnet__socket_retain(s);
}

void cnet_socket_release(cnet_socket_t *s)
{
    if (s && s->refs > 0)
        cnet__socket_release(s);
}

/* ---- emitting ----------------------------------------------------------- */

static void invoke_socket(void *self, cnet__any_cb cb, const cnet_event_t *ev, void *arg)
{
    ((cnet_socket_cb)cb)(self, ev, arg);
}

void cnet__socket_emit(cnet_socket_t *s, const cnet_event_t *ev)
{
    size_t called;

    cnet__socket_retain(s);
    called = cnet__emit(&s->em, s, ev, invoke_socket);
    if (called == 0 && ev->type == CNET_EVENT_ERROR)
        cnet__log(CNET_LOG_WARN, "sock#%u unhandled 'error': %s", s->id,
                  ev->error ? ev->error->message : "?");
    cnet__socket_release(s);
}

void cnet__socket_emit_simple(cnet_socket_t *s, cnet_event_type_t type)
{
    cnet_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    cnet__socket_emit(s, &ev);
}

static void on_timeout(uv_timer_t *t);

/* Activity with a timeout set: one store, and a timer call only to re-arm after 'timeout'. */
void cnet__socket_touch_slow(cnet_socket_t *s)
{
    s->last_active = uv_now(s->loop->uv);
    if (s->timeout_ms && !(s->flags & CNET__S_TIMER_ARMED) && s->timer) {
        s->flags |= CNET__S_TIMER_ARMED;
        uv_timer_start(s->timer, on_timeout, s->timeout_ms, 0);
    }
}

/* ---- destroy and close -------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
    cnet__free(h);
}

static void stop_timer(cnet_socket_t *s)
{
    if (s->timer) {
        uv_close((uv_handle_t *)s->timer, on_timer_closed);
        s->timer = NULL;
    }
    s->flags &= ~CNET__S_TIMER_ARMED;
}

/*
 * The end of a socket's life: queued writes report ECANCELED, then 'error'
 * (if any), then 'close' — always last and exactly once.
 */
static void finish_close(cnet_socket_t *s)
{
    cnet_event_t ev;
    bool had_error = (s->flags & CNET__S_HAD_ERROR) != 0;
    cnet_server_t *srv = s->server;

    cnet__socket_retain(s);
    cnet__socket_abort_detach(s); /* [abort] an abort from now on does nothing */
    cnet__stream_report_cancelled(s);
    if (had_error && s->err) {
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_ERROR;
        ev.error = &s->err->pub;
        cnet__socket_emit(s, &ev);
    }
    s->flags |= CNET__S_CLOSED;
    cnet__pipe_detach(s); /* not a 'close' listener: off_all(CLOSE) cannot skip it */
    if (s->ipc)
        cnet__ipc_socket_closed(s); /* the sending process's getConnections() stops counting it */
    if (srv)
        cnet__server_connection_closed(srv);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CLOSE;
    ev.had_error = had_error;
    cnet__socket_emit(s, &ev);
    /* cnet_socket_server() answers through the 'close' listeners (node's socket.server). */
    if (srv) {
        s->server = NULL;
        cnet__server_release(srv);
    }
    /* Drop the "alive" reference: unless retained, the socket is gone after this. */
    cnet__socket_release(s);
    cnet__socket_release(s);
}

void cnet__socket_finish_close(cnet_socket_t *s)
{
    finish_close(s);
}

static void on_handle_closed(uv_handle_t *h)
{
    cnet_socket_t *s = h->data;
    finish_close(s);
}

static void tick_finish_close(cnet__tick_t *t)
{
    finish_close(t->obj);
}

/*
 * resetAndDestroy's close: SO_LINGER {1, 0}, then close, so the kernel sends
 * RST. libuv's uv_tcp_close_reset() refuses (UV_EINVAL) while a shutdown is
 * pending (after end(), or the auto-end after the peer's FIN); the handle
 * must close all the same, so then we set the option ourselves. The pending
 * shutdown is cancelled by the close, so no FIN goes out before the RST.
 */
static void close_reset(cnet_socket_t *s)
{
    struct linger l = {1, 0};
    uv_os_fd_t fd;
    int err;

    err = uv_tcp_close_reset(&s->h.tcp, on_handle_closed);
    if (err == 0)
        return;
    err = uv_fileno(&s->h.handle, &fd);
    if (err == 0 && setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) != 0)
        err = -errno;
    if (err)
        cnet__log(CNET_LOG_WARN, "sock#%u closes without RST: %s", s->id, cnet_err_name(err));
    uv_close(&s->h.handle, on_handle_closed);
}

void cnet__socket_destroy(cnet_socket_t *s, int code, const char *syscall)
{
    if (s->flags & CNET__S_DESTROYED)
        return;
    s->flags |= CNET__S_DESTROYED;
    s->flags &= ~(CNET__S_CONNECTING | CNET__S_READING);
    s->fd = -1;
    if (code < 0) {
        s->flags |= CNET__S_HAD_ERROR;
        if (!s->err)
            s->err = cnet__calloc(1, sizeof *s->err);
        if (s->err && s->err->pub.code == 0)
            cnet__errinfo_set(s->err, code, syscall, NULL, -1, NULL, CNET__MSG_PLAIN);
    }
    stop_timer(s);
    if (s->flags & CNET__S_TLS)
        cnet__tls_sock_destroyed(s);
    cnet__connect_cancel(s);
    cnet__stream_cancel_queued(s);
    if (s->flags & CNET__S_HANDLE) {
        s->flags &= ~CNET__S_HANDLE;
        if ((s->flags & CNET__S_RESET) && !(s->flags & CNET__S_PIPE))
            close_reset(s);
        else
            uv_close(&s->h.handle, on_handle_closed);
    } else if (s->flags & CNET__S_RETRY_CLOSING) {
        /* A handle is closing between connect attempts; its callback finishes. */
    } else {
        cnet__tick_embedded(s->loop, &s->close_tick, tick_finish_close, s, &cnet__socket_ref_ops);
    }
}

void cnet_socket_destroy(cnet_socket_t *s)
{
    if (s)
        cnet__socket_destroy(s, 0, NULL);
}

void cnet_socket_destroy_with_error(cnet_socket_t *s, int code)
{
    if (s)
        cnet__socket_destroy(s, code < 0 ? code : CNET_ERR_INVALID_ARG_VALUE, NULL);
}

/* Node's resetAndDestroy() on a connecting socket: once('connect', () => this._reset()). */
static void reset_on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    if (!(s->flags & CNET__S_DESTROYED)) {
        s->flags |= CNET__S_RESET;
        cnet__socket_destroy(s, 0, NULL);
    }
}

int cnet_socket_reset_and_destroy(cnet_socket_t *s)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (s->flags & CNET__S_PIPE)
        return CNET_ERR_INVALID_HANDLE_TYPE;
    if (s->flags & CNET__S_CONNECTING) {
        /* As Node: wait for the connection ('connect' listeners added before
         * this call run first), then reset it; 'ready' still follows. */
        return cnet_socket_once(s, CNET_EVENT_CONNECT, reset_on_connect, NULL);
    }
    if (!(s->flags & CNET__S_HANDLE)) {
        /* No handle (never connected): Node's destroy(new ERR_SOCKET_CLOSED()). */
        cnet__socket_destroy(s, CNET_ERR_SOCKET_CLOSED, NULL);
        return 0;
    }
    s->flags |= CNET__S_RESET;
    cnet__socket_destroy(s, 0, NULL);
    return 0;
}

/* Both directions are done: the readable side ended and 'finish' was emitted. */
void cnet__socket_maybe_close(cnet_socket_t *s)
{
    if ((s->flags & CNET__S_EOF) && (s->flags & CNET__S_FINISHED))
        cnet__socket_destroy(s, 0, NULL);
}

void cnet__socket_cache_fd(cnet_socket_t *s)
{
    uv_os_fd_t fd;
    s->fd = uv_fileno(&s->h.handle, &fd) == 0 ? fd : -1;
    cnet__socket_capture_endpoints(s);
}

/* ---- options applied when the handle exists ------------------------------ */

/*
 * setKeepAlive as node does it: the delay is truncated to whole seconds
 * (~~(ms / 1000)); under one second only SO_KEEPALIVE is set and the
 * system's TCP_KEEPIDLE (and interval and count) stay as they are. libuv
 * would try TCP_KEEPIDLE 0 and fail with EINVAL, so that case is ours.
 * From one second on, uv_tcp_keepalive sets TCP_KEEPIDLE to it, with
 * TCP_KEEPINTVL 1 and TCP_KEEPCNT 10, as node's libuv does.
 */
static int keep_alive_apply(cnet_socket_t *s, bool enable, unsigned secs)
{
    uv_os_fd_t fd;
    int on = 1, err;

    if (enable && secs == 0) {
        /* Also while connecting, when s->fd is not cached yet. */
        if ((err = uv_fileno(&s->h.handle, &fd)) != 0)
            return cnet__err_from_uv(err);
        return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) == 0 ? 0 : -errno;
    }
    return cnet__err_from_uv(uv_tcp_keepalive(&s->h.tcp, enable, secs));
}

void cnet__socket_apply_options(cnet_socket_t *s)
{
    /* The connection is up: onread's buffer function gives the first buffer (before 'connect'). */
    if (s->onread)
        cnet__onread_connected(s);
    if (!(s->flags & CNET__S_HANDLE) || (s->flags & CNET__S_PIPE))
        return;
    if (s->flags & CNET__S_NO_DELAY_SET)
        uv_tcp_nodelay(&s->h.tcp, (s->flags & CNET__S_NO_DELAY) != 0);
    /* As node's afterConnect, a failure here is not an error of the connection. */
    if ((s->flags & CNET__S_KEEP_ALIVE) && keep_alive_apply(s, true, s->keep_alive_delay_ms / 1000))
        cnet__log(CNET_LOG_DEBUG, "sock#%u setKeepAlive failed at connect", s->id);
    if (s->flags & CNET__S_UNREF)
        uv_unref(&s->h.handle);
}

int cnet_socket_set_no_delay(cnet_socket_t *s, bool enable)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    s->flags |= CNET__S_NO_DELAY_SET;
    if (enable)
        s->flags |= CNET__S_NO_DELAY;
    else
        s->flags &= ~CNET__S_NO_DELAY;
    if ((s->flags & CNET__S_HANDLE) && !(s->flags & CNET__S_PIPE))
        return cnet__err_from_uv(uv_tcp_nodelay(&s->h.tcp, enable));
    return 0;
}

int cnet_socket_set_keep_alive(cnet_socket_t *s, bool enable, unsigned initial_delay_ms)
{
    unsigned secs = initial_delay_ms / 1000;
    bool same;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    /* Node stores the delay in whole seconds too, and skips a call that changes nothing. */
    same = enable == ((s->flags & CNET__S_KEEP_ALIVE) != 0) &&
           (!enable || secs == s->keep_alive_delay_ms / 1000);
    if (enable)
        s->flags |= CNET__S_KEEP_ALIVE;
    else
        s->flags &= ~CNET__S_KEEP_ALIVE;
    s->keep_alive_delay_ms = secs * 1000;
    if ((s->flags & CNET__S_HANDLE) && !(s->flags & CNET__S_PIPE) && !same)
        return keep_alive_apply(s, enable, secs);
    return 0;
}

/* ---- setTimeout ----------------------------------------------------------- */

static void on_timeout(uv_timer_t *t)
{
    cnet_socket_t *s = t->data;
    uint64_t now = uv_now(s->loop->uv), idle = now - s->last_active;

    if (idle < s->timeout_ms) {
        /* There was activity since the timer was armed: wait for the rest. */
        uv_timer_start(t, on_timeout, s->timeout_ms - idle, 0);
        return;
    }
    /* Notify only; the next activity re-arms it (Node's behaviour). */
    s->flags &= ~CNET__S_TIMER_ARMED;
    cnet__socket_emit_simple(s, CNET_EVENT_TIMEOUT);
}

int cnet_socket_set_timeout(cnet_socket_t *s, unsigned ms, cnet_socket_cb cb, void *arg)
{
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (ms == 0) {
        /* Node: setTimeout(0, cb) disables the timeout and removes cb as a listener. */
        if (cb)
            cnet_socket_off(s, CNET_EVENT_TIMEOUT, cb, arg);
        s->timeout_ms = 0;
        s->timeout_set = true;
        if (s->timer)
            uv_timer_stop(s->timer);
        s->flags &= ~CNET__S_TIMER_ARMED;
        return 0;
    }
    /* Everything that can fail comes first: a failed call changes nothing. */
    if (!s->timer) {
        s->timer = cnet__malloc(sizeof *s->timer);
        if (!s->timer)
            return CNET_ENOMEM;
        uv_timer_init(s->loop->uv, s->timer);
        uv_unref((uv_handle_t *)s->timer); /* a timeout never keeps the process alive */
        s->timer->data = s;
    }
    if (cb && (err = cnet_socket_once(s, CNET_EVENT_TIMEOUT, cb, arg)) != 0)
        return err;
    s->timeout_ms = ms;
    s->timeout_set = true;
    s->last_active = uv_now(s->loop->uv);
    s->flags |= CNET__S_TIMER_ARMED;
    uv_timer_start(s->timer, on_timeout, ms, 0);
    return 0;
}

unsigned cnet_socket_get_timeout(const cnet_socket_t *s)
{
    return s ? s->timeout_ms : 0;
}

/* ---- misc accessors ----------------------------------------------------- */

int cnet_socket_set_high_water_mark(cnet_socket_t *s, size_t bytes)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    s->hwm = bytes;
    return 0;
}

size_t cnet_socket_get_high_water_mark(const cnet_socket_t *s)
{
    return s ? s->hwm : 0;
}

void cnet_socket_ref(cnet_socket_t *s)
{
    if (!s)
        return;
    s->flags &= ~CNET__S_UNREF;
    if (s->flags & CNET__S_HANDLE)
        uv_ref(&s->h.handle);
}

void cnet_socket_unref(cnet_socket_t *s)
{
    if (!s)
        return;
    s->flags |= CNET__S_UNREF;
    if (s->flags & CNET__S_HANDLE)
        uv_unref(&s->h.handle);
}

void cnet_socket_set_data(cnet_socket_t *s, void *data)
{
    if (s)
        s->data = data;
}

void *cnet_socket_get_data(const cnet_socket_t *s)
{
    return s ? s->data : NULL;
}

cnet_loop_t *cnet_socket_loop(const cnet_socket_t *s)
{
    return s ? s->loop : NULL;
}

/* ---- state -------------------------------------------------------------- */

bool cnet_socket_is_connecting(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_CONNECTING);
}

bool cnet_socket_is_pending(const cnet_socket_t *s)
{
    /* Node: !this._handle || this.connecting; destroy() drops the handle. */
    return !s || (s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING | CNET__S_DESTROYED)) !=
                     CNET__S_CONNECTED;
}

bool cnet_socket_is_destroyed(const cnet_socket_t *s)
{
    return !s || (s->flags & CNET__S_DESTROYED);
}

bool cnet_socket_is_writable(const cnet_socket_t *s)
{
    /* Node: writable until end() or destroy. A fresh socket is not writable until connect(). */
    return s && !(s->flags & (CNET__S_DESTROYED | CNET__S_ENDING)) &&
           (s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING));
}

bool cnet_socket_is_readable(const cnet_socket_t *s)
{
    return s && !(s->flags & (CNET__S_DESTROYED | CNET__S_EOF)) &&
           (s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING));
}

cnet_ready_state_t cnet_socket_ready_state(const cnet_socket_t *s)
{
    bool r, w;

    if (!s)
        return CNET_STATE_CLOSED;
    if (s->flags & CNET__S_CONNECTING)
        return CNET_STATE_OPENING;
    r = cnet_socket_is_readable(s);
    w = cnet_socket_is_writable(s);
    if (r && w)
        return CNET_STATE_OPEN;
    if (r)
        return CNET_STATE_READ_ONLY;
    if (w)
        return CNET_STATE_WRITE_ONLY;
    return CNET_STATE_CLOSED;
}

const char *cnet_ready_state_name(cnet_ready_state_t state)
{
    static const char *const names[] = {"opening", "open", "readOnly", "writeOnly", "closed"};
    return (unsigned)state < CNET__ARRAY_SIZE(names) ? names[state] : "closed";
}

size_t cnet_socket_writable_length(const cnet_socket_t *s)
{
    return s ? s->queued_bytes : 0;
}

bool cnet_socket_writable_need_drain(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_NEED_DRAIN);
}

uint64_t cnet_socket_bytes_read(const cnet_socket_t *s)
{
    return s ? s->bytes_read : 0;
}

uint64_t cnet_socket_bytes_written(const cnet_socket_t *s)
{
    return s ? s->bytes_written : 0;
}

/* ---- pause / resume ------------------------------------------------------- */

void cnet_socket_pause(cnet_socket_t *s)
{
    if (!s)
        return;
    s->flags |= CNET__S_PAUSED;
    cnet__stream_stop_reading(s);
}

void cnet_socket_resume(cnet_socket_t *s)
{
    /* With onread, a callback that returned false stopped reading without pausing (node). */
    if (!s || (!(s->flags & CNET__S_PAUSED) && !s->onread))
        return;
    s->flags &= ~CNET__S_PAUSED;
    cnet__stream_start_reading(s);
}

bool cnet_socket_is_paused(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_PAUSED);
}

/* ---- encoding and framing ------------------------------------------------ */

int cnet_socket_set_encoding(cnet_socket_t *s, const char *encoding)
{
    cnet__enc_t enc;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!encoding) {
        s->decoding = false;
        return 0;
    }
    if ((err = cnet__enc_parse(*encoding ? encoding : "utf8", &enc)) != 0) /* Node: "" is utf8 */
        return err;
    cnet__decoder_init(&s->decoder, enc);
    s->decoding = true;
    return 0;
}

int cnet_socket_set_framing(cnet_socket_t *s, const cnet_framing_opts_t *opts)
{
    cnet_framing_opts_t o;
    cnet__framer_t nf;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (opts && (err = cnet__opts_load(&o, sizeof o, opts, CNET__FRAMING_OPTS_V1)) != 0)
        return err;
    opts = opts ? &o : NULL;
    /*
     * The framer's storage lives as long as the socket and is swapped whole,
     * so a 'frame' listener may change it mid-feed. Most sockets never frame:
     * it is allocated on first use to keep idle connections small.
     */
    if ((err = cnet__framer_init(&nf, opts)) != 0)
        return err;
    if (!s->framer) {
        if (!cnet__framer_active(&nf))
            return 0;
        if (!(s->framer = cnet__malloc(sizeof *s->framer))) {
            cnet__framer_free(&nf);
            return CNET_ENOMEM;
        }
    } else {
        cnet__framer_free(s->framer);
    }
    *s->framer = nf;
    return 0;
}

/* ---- listeners ------------------------------------------------------------ */

static int add_listener(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg,
                        cnet_free_fn arg_free, bool once, bool prepend)
{
    int r;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    r = cnet__emitter_add(&s->em, (int)type, (cnet__any_cb)cb, arg, arg_free, once, prepend);
    if (r == 0 && type == CNET_EVENT_KEYLOG && (s->flags & CNET__S_TLS))
        cnet__tls_sock_keylog_listened(s); /* node's enableKeylogCallback on 'newListener' */
    return r;
}

int cnet_socket_on(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg)
{
    return add_listener(s, type, cb, arg, NULL, false, false);
}

int cnet_socket_on_ex(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg,
                      cnet_free_fn arg_free)
{
    return add_listener(s, type, cb, arg, arg_free, false, false);
}

int cnet_socket_once(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg)
{
    return add_listener(s, type, cb, arg, NULL, true, false);
}

int cnet_socket_prepend(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg)
{
    return add_listener(s, type, cb, arg, NULL, false, true);
}

int cnet_socket_prepend_once(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg)
{
    return add_listener(s, type, cb, arg, NULL, true, true);
}

int cnet_socket_off(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb, void *arg)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove(&s->em, (int)type, (cnet__any_cb)cb, arg);
    return 0;
}

int cnet_socket_off_all(cnet_socket_t *s, cnet_event_type_t type)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove_all(&s->em, (int)type);
    return 0;
}

size_t cnet_socket_listener_count(const cnet_socket_t *s, cnet_event_type_t type)
{
    return s ? cnet__emitter_count(&s->em, (int)type) : 0;
}

const char *cnet_event_name(cnet_event_type_t type)
{
    static const char *const names[] = {
#define CNET__EV_NAME(name, str) str,
        CNET_EVENT_MAP(CNET__EV_NAME)
#undef CNET__EV_NAME
    };
    return (unsigned)type < CNET__ARRAY_SIZE(names) ? names[type] : NULL;
}
