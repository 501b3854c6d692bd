/*
 * The byte path of a socket: reading, the write queue, half-close.
 *
 * Reads land in the loop's one shared buffer and are lent to 'data'
 * listeners, so reading allocates nothing. Writes first try the kernel
 * directly (send with MSG_NOSIGNAL): when it takes everything, nothing is
 * copied or queued. What remains is queued (copied unless the caller chose
 * otherwise) and the whole queue goes to libuv as one uv_write, i.e. one
 * writev. Only one uv_write is in flight per socket; writes arriving
 * meanwhile wait for the next batch, which keeps callbacks in write order.
 *
 * This file is the only place that moves bytes between libuv and the
 * socket's stream semantics; a TLS layer would sit here.
 *
 * Sections: write requests -> writing -> shutdown -> reading -> public API.
 */
#include "internal.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>

/*
 * The most one write may carry: try_send() compares the kernel's ssize_t
 * answer with the total, and sendmsg() refuses iovecs summing past it.
 */
#define WRITE_MAX ((size_t)SSIZE_MAX)

/* libuv's uv_buf_t holds a size_t length on Unix (it is struct iovec), so a
 * buffer of 4 GiB or more fits whole; uv_buf_init() takes an unsigned int and
 * would cut it, which is why buffers are filled with buf_init() below. */
_Static_assert(sizeof(((uv_buf_t *)0)->len) == sizeof(size_t), "uv_buf_t.len narrower than size_t");

static inline uv_buf_t buf_init(const void *base, size_t len)
{
    uv_buf_t b;
    b.base = (char *)base;
    b.len = len;
    return b;
}

/* ---- write requests ----------------------------------------------------- */

struct cnet__wreq {
    cnet__wreq_t *next;
    cnet_write_cb cb;
    void *arg;
    cnet_free_fn dispose; /* NULL: nothing to release (static or inline copy) */
    void **orig;          /* original bases for dispose, or NULL */
    uint32_t nbufs;
    uint32_t first;  /* first buffer with bytes left */
    size_t len;      /* bytes left */
    size_t cap;      /* a wire request: the room of its inline bytes; else 0 */
    int status;      /* set when the write failed or was cancelled */
    uv_buf_t bufs[]; /* then orig[], then copied bytes */
};

struct cnet__wbatch {
    uv_write_t req;
    cnet_socket_t *s;
    cnet__wreq_t *head;
};

/* Releases the caller's buffers exactly once. */
static void wreq_dispose(cnet__wreq_t *w)
{
    if (w->dispose && w->orig) {
        for (uint32_t i = 0; i < w->nbufs; i++)
            w->dispose(w->orig[i]);
        w->dispose = NULL;
    }
}

static void dispose_bufs(const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose)
{
    if (dispose == CNET_BUF_STATIC || dispose == CNET_BUF_TRANSIENT)
        return;
    for (size_t i = 0; i < nbufs; i++)
        dispose((void *)bufs[i].base);
}

/*
 * Builds a request for the bytes of @p bufs from offset @p skip on. With
 * TRANSIENT they are copied into the request; otherwise referenced.
 */
static cnet__wreq_t *wreq_new(const cnet_buf_t *bufs, size_t nbufs, size_t skip,
                              cnet_free_fn dispose)
{
    bool copy = dispose == CNET_BUF_TRANSIENT;
    bool owned = !copy && dispose != CNET_BUF_STATIC;
    size_t total = 0, n = 0;
    cnet__wreq_t *w;
    char *p;

    for (size_t i = 0; i < nbufs; i++)
        total += bufs[i].len;
    total -= skip;
    if (copy) {
        /* One buffer holding the remaining bytes. */
        w = cnet__malloc(sizeof *w + sizeof(uv_buf_t) + total);
        if (!w)
            return NULL;
        p = (char *)(w->bufs + 1);
        for (size_t i = 0; i < nbufs; i++) {
            size_t len = bufs[i].len;
            const char *base = bufs[i].base;
            if (skip >= len) {
                skip -= len;
                continue;
            }
            memcpy(p + n, base + skip, len - skip);
            n += len - skip;
            skip = 0;
        }
        w->bufs[0] = buf_init(p, total);
        w->nbufs = 1;
        w->orig = NULL;
        w->dispose = NULL;
    } else {
        w = cnet__malloc(sizeof *w + nbufs * (sizeof(uv_buf_t) + sizeof(void *)));
        if (!w)
            return NULL;
        w->orig = owned ? (void **)(w->bufs + nbufs) : NULL;
        for (size_t i = 0; i < nbufs; i++) {
            size_t off = skip < bufs[i].len ? skip : bufs[i].len;
            skip -= off;
            w->bufs[i] = buf_init((const char *)bufs[i].base + off, bufs[i].len - off);
            if (owned)
                w->orig[i] = (void *)bufs[i].base;
        }
        w->nbufs = (uint32_t)nbufs;
        w->dispose = owned ? dispose : NULL;
    }
    w->next = NULL;
    w->first = 0;
    w->len = total;
    w->cap = 0;
    w->status = 0;
    return w;
}

static void enqueue(cnet_socket_t *s, cnet__wreq_t *w)
{
    if (s->wq_tail)
        s->wq_tail->next = w;
    else
        s->wq_head = w;
    s->wq_tail = w;
    s->queued_bytes += w->len;
}

/*
 * A finished request: a wire request becomes the transport's spare (the larger of two is
 * kept), so that steady TLS traffic reserves its requests without allocating; any other
 * is freed. The transport gives the spare back when it trims (cnet__stream_drop_spare).
 */
static void spare_put(cnet_socket_t *s, cnet__wreq_t *w)
{
    cnet__transport_t *t = s->tls;

    if (w->cap && t && !(s->flags & CNET__S_DESTROYED)) {
        if (t->spare && t->spare->cap >= w->cap) {
            cnet__free(w);
            return;
        }
        cnet__free(t->spare);
        t->spare = w;
        return;
    }
    cnet__free(w);
}

/* ---- writing ------------------------------------------------------------ */

static void emit_drain_if_due(cnet_socket_t *s)
{
    /* Node's afterWrite: no 'drain' once end() was called (!state.ending). */
    if ((s->flags & CNET__S_NEED_DRAIN) && s->queued_bytes == 0 &&
        !(s->flags & (CNET__S_DESTROYED | CNET__S_ENDING))) {
        s->flags &= ~CNET__S_NEED_DRAIN;
        cnet__socket_emit_simple(s, CNET_EVENT_DRAIN);
        if (s->pipe_src) /* after the listeners, as Node's pipe's own 'drain' listener */
            cnet__pipe_on_drain(s);
    }
}

static void batch_done(cnet__wbatch_t *b, int status)
{
    cnet_socket_t *s = b->s;
    int code = status ? cnet__err_from_uv(status) : 0;
    cnet__wreq_t *w, *next;

    s->inflight = NULL;
    cnet__socket_retain(s);
    for (w = b->head; w; w = next) {
        next = w->next;
        s->queued_bytes -= w->len;
        wreq_dispose(w);
        if (w->cb)
            w->cb(s, code, w->arg);
        spare_put(s, w);
    }
    cnet__free(b);
    if (!(s->flags & CNET__S_DESTROYED)) {
        if (code < 0) {
            cnet__socket_destroy(s, code, "write");
        } else {
            cnet__socket_touch(s);
            if (s->wq_head)
                cnet__stream_flush(s);
            else
                emit_drain_if_due(s);
            cnet__stream_maybe_shutdown(s);
        }
    }
    cnet__socket_release(s);
}

static void tick_batch_done(cnet__tick_t *t)
{
    batch_done(t->arg, t->code);
}

/*
 * A uv_write libuv completed. Callbacks of earlier fast-path writes may still
 * wait on ticks (sent_cb_ticks): libuv's pending phase runs before the check
 * phase that drains ticks, so this batch's callbacks would overtake them.
 * They are queued behind those ticks instead, which keeps write order; the
 * batch stays in flight meanwhile, so later writes queue behind it. Without
 * such ticks (the usual case) the callbacks run at once, as before.
 */
static void on_write_done(uv_write_t *req, int status)
{
    cnet__wbatch_t *b = (cnet__wbatch_t *)req;
    cnet_socket_t *s = b->s;

    if (s->sent_cb_ticks) {
        cnet__tick_t *t = cnet__tick(s->loop, tick_batch_done, s, &cnet__socket_ref_ops);
        if (t) {
            t->arg = b;
            t->code = status;
            return;
        }
        /* Out of memory: complete now (only the order can suffer). */
    }
    batch_done(b, status);
}

/*
 * Hands every queued request to libuv as one uv_write (one writev; libuv
 * itself splits what is over IOV_MAX into several writev calls). uv_write
 * counts buffers in an unsigned int, so a batch stops before a request that
 * would overflow it; the rest goes in the next batch.
 */
void cnet__stream_flush(cnet_socket_t *s)
{
    uv_buf_t stack[64], *bufs = stack;
    size_t n = 0, cap = CNET__ARRAY_SIZE(stack);
    cnet__sigpipe_guard_t g = {0};
    cnet__wbatch_t *b;
    cnet__wreq_t *w, *last = NULL;
    int err;

    if (!s->wq_head || s->inflight || s->corked ||
        (s->flags & (CNET__S_DESTROYED | CNET__S_CONNECTED | CNET__S_HANDLE)) !=
            (CNET__S_CONNECTED | CNET__S_HANDLE))
        return;
    for (w = s->wq_head; w; last = w, w = w->next) {
        size_t k = w->nbufs - w->first; /* a request has at most UINT32_MAX buffers */
        if (last && k > UINT_MAX - n)
            break;
        n += k;
    }
    if (n > cap) {
        bufs = cnet__malloc(n * sizeof *bufs);
        if (!bufs) {
            cnet__socket_destroy(s, CNET_ENOMEM, "write");
            return;
        }
    }
    n = 0;
    for (w = s->wq_head; w != last->next; w = w->next) {
        for (uint32_t i = w->first; i < w->nbufs; i++)
            if (w->bufs[i].len)
                bufs[n++] = w->bufs[i];
    }
    b = cnet__malloc(sizeof *b);
    if (!b) {
        if (bufs != stack)
            cnet__free(bufs);
        cnet__socket_destroy(s, CNET_ENOMEM, "write");
        return;
    }
    b->s = s;
    b->head = s->wq_head;
    s->wq_head = last->next;
    last->next = NULL;
    if (!s->wq_head)
        s->wq_tail = NULL;
    s->inflight = b;
    /* uv_write may write at once; outside cnet_loop_run SIGPIPE is not blocked yet. */
    if (!s->loop->in_run)
        cnet__sigpipe_block(&g);
    if (n == 0) {
        /* Only empty writes queued: still complete them through libuv, in order. */
        static char empty;
        bufs[0] = buf_init(&empty, 0);
        n = 1;
    }
    err = uv_write(&b->req, &s->h.stream, bufs, (unsigned)n, on_write_done);
    cnet__sigpipe_restore(&g);
    if (bufs != stack)
        cnet__free(bufs);
    if (err) {
        /* Put the requests back so destroy reports them, the first with the error. */
        s->inflight = NULL;
        for (w = b->head; w && w->next; w = w->next)
            ;
        if (w) {
            w->next = s->wq_head;
            if (!s->wq_head)
                s->wq_tail = w;
        }
        s->wq_head = b->head;
        s->wq_head->status = cnet__err_from_uv(err);
        cnet__free(b);
        cnet__socket_destroy(s, cnet__err_from_uv(err), "write");
    }
}

static void tick_write_done(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    if (t->cb) {
        s->sent_cb_ticks--;
        ((cnet_write_cb)t->cb)(s, 0, t->arg);
    }
    emit_drain_if_due(s);
    /* end() waited for this callback: write callbacks come before 'finish'. */
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__stream_maybe_shutdown(s);
}

/* Tries the kernel directly; returns bytes taken, or a negative code. */
static ssize_t try_send(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs)
{
    struct iovec iov[16];
    struct msghdr msg;
    ssize_t n;

    if (s->fd < 0 || nbufs > CNET__ARRAY_SIZE(iov))
        return 0;
    if (nbufs == 1) {
        do
            n = send(s->fd, bufs[0].base, bufs[0].len, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
    } else {
        for (size_t i = 0; i < nbufs; i++) {
            iov[i].iov_base = (void *)bufs[i].base;
            iov[i].iov_len = bufs[i].len;
        }
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = nbufs;
        do
            n = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
    }
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    return n;
}

/* The kernel took a whole write: what is left of it is its callback, on the next tick. */
static inline int sent_all(cnet_socket_t *s, cnet_write_cb cb, void *arg)
{
    cnet__socket_touch(s);
    if (s->queued_bytes >= s->hwm)
        s->flags |= CNET__S_NEED_DRAIN;
    /* The callback must not run inside write(): it runs on the next tick. */
    if (cb || (s->flags & CNET__S_NEED_DRAIN)) {
        cnet__tick_t *t = cnet__tick(s->loop, tick_write_done, s, &cnet__socket_ref_ops);
        if (!t)
            return CNET_ENOMEM; /* the bytes are sent; only the callback is lost */
        t->cb = (void *)cb;
        t->arg = arg;
        if (cb)
            s->sent_cb_ticks++;
    }
    return (s->flags & CNET__S_NEED_DRAIN) ? 1 : 0;
}

/*
 * The write path behind every public write; the caller has checked the state.
 * bytesWritten counts what write() accepted (Node's bytesWritten: sent or
 * still queued), so it is one add whichever way the bytes go.
 */
int cnet__stream_write(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose,
                       cnet_write_cb cb, void *arg)
{
    size_t total = 0;
    ssize_t sent = 0;
    cnet__wreq_t *w;

    for (size_t i = 0; i < nbufs; i++) {
        if (bufs[i].len > WRITE_MAX - total) {
            dispose_bufs(bufs, nbufs, dispose);
            return CNET_ERR_OUT_OF_RANGE;
        }
        total += bufs[i].len;
    }
    /* The transport seam: TLS encrypts (or holds) and queues the ciphertext. */
    if (s->flags & CNET__S_TLS) {
        s->bytes_written += total;
        return cnet__tls_sock_write(s, bufs, nbufs, dispose, cb, arg);
    }

    /* Fast path: nothing queued, connected, not corked: the kernel may take it all. */
    if (!s->wq_head && !s->inflight && !s->corked && total &&
        (s->flags & (CNET__S_CONNECTED | CNET__S_HANDLE)) == (CNET__S_CONNECTED | CNET__S_HANDLE)) {
        sent = try_send(s, bufs, nbufs);
        if (sent == (ssize_t)total) {
            s->bytes_written += total;
            dispose_bufs(bufs, nbufs, dispose);
            return sent_all(s, cb, arg);
        }
        if (sent > 0)
            cnet__socket_touch(s);
    }

    w = wreq_new(bufs, nbufs, sent > 0 ? (size_t)sent : 0, dispose);
    if (!w) {
        if (sent > 0)
            s->bytes_written += (uint64_t)sent; /* those went out all the same */
        dispose_bufs(bufs, nbufs, dispose);
        return CNET_ENOMEM;
    }
    w->cb = cb;
    w->arg = arg;
    enqueue(s, w);
    s->bytes_written += total;
    if (sent < 0) {
        /* The peer is gone (EPIPE, ECONNRESET): this write fails, the socket is destroyed. */
        w->status = (int)sent;
        cnet__socket_destroy(s, (int)sent, "write");
        return 0;
    }
    cnet__stream_flush(s);
    if (s->queued_bytes >= s->hwm) {
        s->flags |= CNET__S_NEED_DRAIN;
        return 1;
    }
    return 0;
}

/*
 * destroy(): queued writes will report ECANCELED (or their own error) before
 * 'close'. On a socket that never connected (a destroy while connecting, a
 * failed connect) Node's codes: ERR_SOCKET_CLOSED_BEFORE_CONNECTION for the
 * first write (the one Node holds for 'connect'), and for the writes behind
 * it the error that destroyed the socket, if any, else the same code.
 */
void cnet__stream_cancel_queued(cnet_socket_t *s)
{
    cnet__wreq_t *w = s->wq_head;
    int code = CNET_ECANCELED, rest = CNET_ECANCELED;

    if (s->tls && s->tls->held_head) {
        /* Writes held for the handshake come after what was queued for the wire. */
        if (s->wq_tail)
            s->wq_tail->next = s->tls->held_head;
        else
            s->wq_head = s->tls->held_head;
        s->wq_tail = s->tls->held_tail;
        s->tls->held_head = s->tls->held_tail = NULL;
        w = s->wq_head;
    }
    if (!w)
        return;
    if (!(s->flags & CNET__S_EVER_CONNECTED)) {
        code = rest = CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION;
        if ((s->flags & CNET__S_HAD_ERROR) && s->err && s->err->pub.code)
            rest = s->err->pub.code;
    }
    for (; w; w = w->next, code = rest) {
        s->queued_bytes -= w->len;
        if (!w->status)
            w->status = code;
    }
    /* Keep order: earlier cancelled batches first. */
    if (s->cancelled) {
        cnet__wreq_t *t = s->cancelled;
        while (t->next)
            t = t->next;
        t->next = s->wq_head;
    } else {
        s->cancelled = s->wq_head;
    }
    s->wq_head = s->wq_tail = NULL;
}

void cnet__stream_report_cancelled(cnet_socket_t *s)
{
    cnet__wreq_t *w;

    while ((w = s->cancelled) != NULL) {
        s->cancelled = w->next;
        wreq_dispose(w);
        if (w->cb)
            w->cb(s, w->status, w->arg);
        cnet__free(w);
    }
    if (s->end_cb && !(s->flags & CNET__S_FINISHED)) {
        cnet_write_cb cb = s->end_cb;
        s->end_cb = NULL;
        cb(s, CNET_ECANCELED, s->end_arg);
    }
}

/* ---- shutdown (end) ----------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
    cnet_socket_t *s = req->data;
    cnet_write_cb cb;

    cnet__free(req);
    if (s->flags & CNET__S_DESTROYED) {
        cnet__socket_release(s);
        return;
    }
    if (status < 0 && status != UV_ENOTCONN) {
        cnet__socket_destroy(s, cnet__err_from_uv(status), "shutdown");
        cnet__socket_release(s);
        return;
    }
    s->flags |= CNET__S_FINISHED;
    cb = s->end_cb;
    s->end_cb = NULL;
    if (cb)
        cb(s, 0, s->end_arg);
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__socket_emit_simple(s, CNET_EVENT_FINISH);
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__socket_maybe_close(s);
    cnet__socket_release(s);
}

/* After end(): once every write is flushed, send FIN. */
void cnet__stream_maybe_shutdown(cnet_socket_t *s)
{
    uv_shutdown_t *req;
    int err;

    if ((s->flags & (CNET__S_ENDING | CNET__S_SHUTDOWN | CNET__S_DESTROYED | CNET__S_CONNECTED |
                     CNET__S_HANDLE)) != (CNET__S_ENDING | CNET__S_CONNECTED | CNET__S_HANDLE) ||
        s->wq_head || s->inflight || s->sent_cb_ticks)
        return;
    if ((s->flags & CNET__S_TLS) && !cnet__tls_sock_may_shutdown(s))
        return; /* close_notify first, or the handshake is not done */
    req = cnet__malloc(sizeof *req);
    if (!req) {
        cnet__socket_destroy(s, CNET_ENOMEM, "shutdown");
        return;
    }
    s->flags |= CNET__S_SHUTDOWN;
    req->data = s;
    cnet__socket_retain(s);
    err = uv_shutdown(req, &s->h.stream, on_shutdown);
    if (err) {
        cnet__free(req);
        cnet__socket_release(s);
        cnet__socket_destroy(s, cnet__err_from_uv(err), "shutdown");
    }
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    cnet_socket_t *s = h->data;
    CNET__UNUSED(suggested);
    /* libuv reads one stream at a time and we never keep the bytes: one buffer serves all. */
    buf->base = s->loop->read_buf;
    buf->len = CNET__READ_BUF_SIZE;
}

/* The framer exists once set_framing() was called with a mode; NONE turns it off. */
static inline bool framing(const cnet_socket_t *s)
{
    return s->framer && cnet__framer_active(s->framer);
}

static const cnet__framer_t no_framing; /* mode NONE: write_frame() fails, as after set NONE */

static int on_frame(void *ctx, const char *frame, size_t len)
{
    cnet_socket_t *s = ctx;
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_FRAME;
    ev.data.base = frame;
    ev.data.len = len;
    cnet__socket_emit(s, &ev);
    return (s->flags & CNET__S_DESTROYED) ? 1 : 0;
}

static void emit_data(cnet_socket_t *s, const char *base, size_t len, const char *encoding)
{
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_DATA;
    ev.data.base = base;
    ev.data.len = len;
    ev.encoding = encoding;
    cnet__socket_emit(s, &ev);
}

/* Decodes (setEncoding) and emits bytes. The loop's text buffer is reused: no allocation per read.
 */
static void deliver(cnet_socket_t *s, const char *base, size_t len)
{
    cnet__strbuf_t *out = &s->loop->text;
    int err;

    if (!s->decoding) {
        emit_data(s, base, len, NULL);
        return;
    }
    cnet__strbuf_clear(out);
    err = cnet__decoder_write(&s->decoder, base, len, out);
    if (err) {
        cnet__socket_destroy(s, err, "read");
        return;
    }
    if (out->len) /* Node emits no empty strings */
        emit_data(s, out->base, out->len, cnet__enc_name((cnet__enc_t)s->decoder.enc));
}

void cnet__stream_on_readable_data(cnet_socket_t *s, const char *base, size_t len)
{
    int r;

    cnet__socket_retain(s);
    deliver(s, base, len);
    if (!(s->flags & CNET__S_DESTROYED) && framing(s)) {
        r = cnet__framer_feed(s->framer, base, len, on_frame, s);
        if (r < 0 && !(s->flags & CNET__S_DESTROYED))
            cnet__socket_destroy(s, r, "read");
    }
    if (!(s->flags & CNET__S_DESTROYED) && s->pipe_dst)
        cnet__pipe_on_data(s, base, len);
    cnet__socket_release(s);
}

void cnet__stream_on_eof(cnet_socket_t *s)
{
    cnet__stream_stop_reading(s);
    cnet__socket_retain(s);
    s->flags |= CNET__S_EOF;
    if (s->decoding) {
        cnet__strbuf_t *out = &s->loop->text;
        cnet__strbuf_clear(out);
        if (cnet__decoder_end(&s->decoder, out) == 0 && out->len)
            emit_data(s, out->base, out->len, cnet__enc_name((cnet__enc_t)s->decoder.enc));
    }
    if (!(s->flags & CNET__S_DESTROYED) && framing(s)) {
        int r = cnet__framer_end(s->framer, on_frame, s);
        if (r < 0 && !(s->flags & CNET__S_DESTROYED))
            cnet__socket_destroy(s, r, "read");
    }
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__socket_emit_simple(s, CNET_EVENT_END);
    if (!(s->flags & CNET__S_DESTROYED) && s->pipe_dst)
        cnet__pipe_on_end(s);
    if (!(s->flags & CNET__S_DESTROYED)) {
        /* allowHalfOpen false: our side ends too, once queued writes are flushed. */
        if (!(s->flags & CNET__S_HALF_OPEN) && !(s->flags & CNET__S_ENDING))
            cnet_socket_end(s, NULL, 0, NULL, NULL);
        cnet__socket_maybe_close(s);
    }
    cnet__socket_release(s);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    cnet_socket_t *s = stream->data;

    if (nread > 0) {
        s->bytes_read += (uint64_t)nread;
        cnet__socket_touch(s);
        if (s->flags & CNET__S_TLS) /* the transport seam: ciphertext into the engine */
            cnet__tls_sock_on_read(s, buf->base, (size_t)nread);
        else
            cnet__stream_on_readable_data(s, buf->base, (size_t)nread);
    } else if (nread == UV_EOF) {
        if (s->flags & CNET__S_TLS)
            cnet__tls_sock_on_eof(s);
        else
            cnet__stream_on_eof(s);
    } else if (nread < 0) {
        cnet__socket_destroy(s, cnet__err_from_uv((int)nread), "read");
    }
}

void cnet__stream_start_reading(cnet_socket_t *s)
{
    int err;

    if ((s->flags & (CNET__S_TLS | CNET__S_PAUSED)) == CNET__S_TLS)
        cnet__tls_sock_resumed(s); /* plaintext the engine still holds comes first */
    if ((s->flags & (CNET__S_HANDLE | CNET__S_CONNECTED | CNET__S_PAUSED | CNET__S_EOF |
                     CNET__S_DESTROYED | CNET__S_READING)) != (CNET__S_HANDLE | CNET__S_CONNECTED))
        return;
    /* onread reads into the user's buffer with its own callbacks (onread.c). */
    err = uv_read_start(&s->h.stream, s->onread ? cnet__onread_alloc : on_alloc,
                        s->onread ? cnet__onread_on_read : on_read);
    if (err == 0)
        s->flags |= CNET__S_READING;
    else
        cnet__socket_destroy(s, cnet__err_from_uv(err), "read");
}

void cnet__stream_stop_reading(cnet_socket_t *s)
{
    if (s->flags & CNET__S_READING) {
        s->flags &= ~CNET__S_READING;
        /* Cannot fail on Unix; if it ever does, the handle's close stops reading. */
        if (uv_read_stop(&s->h.stream) != 0)
            cnet__log(CNET_LOG_WARN, "sock#%u uv_read_stop failed", s->id);
    }
}

/* ---- public write API --------------------------------------------------- */

/* After the argument checks (a NULL value is refused before any state, as Node). */
static int check_writable(const cnet_socket_t *s)
{
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (s->flags & CNET__S_ENDING)
        return CNET_ERR_STREAM_WRITE_AFTER_END;
    if (!(s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING)))
        return CNET_ERR_SOCKET_CLOSED;
    return 0;
}

/* The most buffers one write_ex() takes: a request counts them in 32 bits and
 * must fit in memory with its descriptors (the bound on a 32-bit size_t). */
static inline size_t write_ex_max_bufs(void)
{
    size_t by_size = (SIZE_MAX - sizeof(cnet__wreq_t)) / (sizeof(uv_buf_t) + sizeof(void *));
    return by_size < UINT32_MAX ? by_size : UINT32_MAX;
}

int cnet_socket_write_ex(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                         cnet_free_fn dispose, cnet_write_cb cb, void *arg)
{
    int err = 0;

    if (!s || (nbufs && !bufs))
        err = CNET_ERR_INVALID_ARG_TYPE;
    else if (nbufs > write_ex_max_bufs())
        err = CNET_ERR_OUT_OF_RANGE;
    for (size_t i = 0; !err && i < nbufs; i++)
        if (!bufs[i].base && bufs[i].len)
            err = CNET_ERR_STREAM_NULL_VALUES;
    if (!err)
        err = check_writable(s);
    if (err) {
        if (bufs)
            dispose_bufs(bufs, nbufs, dispose);
        return err;
    }
    return cnet__stream_write(s, bufs, nbufs, dispose, cb, arg);
}

int cnet_socket_write(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb, void *arg)
{
    cnet_buf_t buf = {data, len};
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!data && len)
        return CNET_ERR_STREAM_NULL_VALUES;
    if ((err = check_writable(s)) != 0)
        return err;
    return cnet__stream_write(s, &buf, 1, CNET_BUF_TRANSIENT, cb, arg);
}

int cnet_socket_write_str(cnet_socket_t *s, const char *str)
{
    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!str)
        return CNET_ERR_STREAM_NULL_VALUES;
    return cnet_socket_write(s, str, strlen(str), NULL, NULL);
}

/* Node's normalizeEncoding: no name and "" both mean utf8. */
static const char *enc_or_utf8(const char *encoding)
{
    return encoding && *encoding ? encoding : "utf8";
}

int cnet_socket_write_enc(cnet_socket_t *s, const char *str, size_t len, const char *encoding,
                          cnet_write_cb cb, void *arg)
{
    cnet__strbuf_t out;
    cnet_buf_t buf;
    cnet__enc_t enc;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!str && len)
        return CNET_ERR_STREAM_NULL_VALUES;
    if ((err = check_writable(s)) != 0)
        return err;
    if (len > WRITE_MAX) /* before the encoder reads it */
        return CNET_ERR_OUT_OF_RANGE;
    if ((err = cnet__enc_parse(enc_or_utf8(encoding), &enc)) != 0)
        return err;
    cnet__strbuf_init(&out);
    if ((err = cnet__enc_encode(enc, str ? str : "", len, &out)) != 0) {
        cnet__strbuf_free(&out);
        return err;
    }
    if (out.len == 0) {
        cnet__strbuf_free(&out);
        buf.base = "";
        buf.len = 0;
        return cnet__stream_write(s, &buf, 1, CNET_BUF_TRANSIENT, cb, arg);
    }
    /* The encoded bytes are handed over, not copied again. */
    buf.base = out.base;
    buf.len = out.len;
    return cnet__stream_write(s, &buf, 1, cnet__free, cb, arg);
}

int cnet_socket_write_frame(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb,
                            void *arg)
{
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    size_t prefix_len = 0, suffix_len = 0;
    const char *suffix = "";
    cnet_buf_t bufs[3];
    size_t n = 0;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!data && len)
        return CNET_ERR_STREAM_NULL_VALUES;
    if ((err = check_writable(s)) != 0)
        return err;
    if (len > WRITE_MAX) /* before the framer scans it */
        return CNET_ERR_OUT_OF_RANGE;
    err = cnet__framer_encode(s->framer ? s->framer : &no_framing, data, len, prefix, &prefix_len,
                              &suffix, &suffix_len);
    if (err)
        return err;
    if (prefix_len)
        bufs[n++] = (cnet_buf_t){prefix, prefix_len};
    bufs[n++] = (cnet_buf_t){data, len};
    if (suffix_len)
        bufs[n++] = (cnet_buf_t){suffix, suffix_len};
    return cnet__stream_write(s, bufs, n, CNET_BUF_TRANSIENT, cb, arg);
}

/* ---- end ------------------------------------------------------------------ */

/*
 * end() callbacks after the first are chained: each runs exactly once, in
 * call order, with the same status (Node's kOnFinished list). The first needs
 * no memory; each later one costs a link until it has run.
 */
typedef struct end_link {
    cnet_write_cb first_cb, then_cb;
    void *first_arg, *then_arg;
} end_link_t;

static void end_link_run(cnet_socket_t *s, int status, void *arg)
{
    end_link_t l = *(end_link_t *)arg;

    cnet__free(arg);
    l.first_cb(s, status, l.first_arg);
    l.then_cb(s, status, l.then_arg);
}

/* Adds @p cb to run at 'finish' (status 0) or at destroy (CNET_ECANCELED). */
static int add_end_cb(cnet_socket_t *s, cnet_write_cb cb, void *arg)
{
    end_link_t *l;

    if (!cb)
        return 0;
    if (!s->end_cb) {
        s->end_cb = cb;
        s->end_arg = arg;
        return 0;
    }
    l = cnet__malloc(sizeof *l);
    if (!l)
        return CNET_ENOMEM;
    l->first_cb = s->end_cb;
    l->first_arg = s->end_arg;
    l->then_cb = cb;
    l->then_arg = arg;
    s->end_cb = end_link_run;
    s->end_arg = l;
    return 0;
}

static void tick_end_cb(cnet__tick_t *t)
{
    ((cnet_write_cb)t->cb)(t->obj, t->code, t->arg);
}

/*
 * end(cb) on a socket already ending (our end(), the auto-end after the
 * peer's FIN, pipe()'s end): as Node, @p cb joins the callbacks run at
 * 'finish'; once 'finish' has come it gets ERR_STREAM_ALREADY_FINISHED on
 * the next tick.
 */
static int end_again(cnet_socket_t *s, cnet_write_cb cb, void *arg)
{
    cnet__tick_t *t;

    if (!cb)
        return 0;
    if (!(s->flags & CNET__S_FINISHED))
        return add_end_cb(s, cb, arg);
    t = cnet__tick(s->loop, tick_end_cb, s, &cnet__socket_ref_ops);
    if (!t)
        return CNET_ENOMEM;
    t->cb = (void *)cb;
    t->arg = arg;
    t->code = CNET_ERR_STREAM_ALREADY_FINISHED;
    return 0;
}

static void do_end(cnet_socket_t *s, cnet_write_cb cb, void *arg)
{
    /* The first end(): the slot is free, so this needs no memory and cannot fail. */
    s->end_cb = cb;
    s->end_arg = arg;
    s->flags |= CNET__S_ENDING;
    s->corked = 0; /* Node: end() uncorks */
    cnet__stream_flush(s);
    cnet__stream_maybe_shutdown(s);
}

/* After the NULL-value check; 1 when already ending (the caller does end_again). */
static int check_endable(const cnet_socket_t *s)
{
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING)))
        return CNET_ERR_SOCKET_CLOSED;
    return (s->flags & CNET__S_ENDING) ? 1 : 0;
}

int cnet_socket_end(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb, void *arg)
{
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!data && len)
        return CNET_ERR_STREAM_NULL_VALUES;
    if ((err = check_endable(s)) < 0)
        return err;
    if (err == 1) /* data that can no longer be sent is refused, never dropped */
        return len ? CNET_ERR_STREAM_WRITE_AFTER_END : end_again(s, cb, arg);
    if (len && (err = cnet_socket_write(s, data, len, NULL, NULL)) < 0)
        return err;
    do_end(s, cb, arg);
    return 0;
}

int cnet_socket_end_str(cnet_socket_t *s, const char *str)
{
    return cnet_socket_end(s, str, str ? strlen(str) : 0, NULL, NULL);
}

int cnet_socket_end_enc(cnet_socket_t *s, const char *str, size_t len, const char *encoding,
                        cnet_write_cb cb, void *arg)
{
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!str && len)
        return CNET_ERR_STREAM_NULL_VALUES;
    if ((err = check_endable(s)) < 0)
        return err;
    if (err == 1)
        return len ? CNET_ERR_STREAM_WRITE_AFTER_END : end_again(s, cb, arg);
    if (len && (err = cnet_socket_write_enc(s, str, len, encoding, NULL, NULL)) < 0)
        return err;
    do_end(s, cb, arg);
    return 0;
}

void cnet_socket_cork(cnet_socket_t *s)
{
    if (s)
        s->corked++;
}

void cnet_socket_uncork(cnet_socket_t *s)
{
    if (s && s->corked && --s->corked == 0)
        cnet__stream_flush(s);
}

/* ---- the transport seam ---------------------------------------------------- */

void cnet__stream_dispose_bufs(const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose)
{
    dispose_bufs(bufs, nbufs, dispose);
}

int cnet__stream_hold(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose,
                      cnet_write_cb cb, void *arg)
{
    cnet__transport_t *t = s->tls;
    cnet__wreq_t *w = wreq_new(bufs, nbufs, 0, dispose);

    if (!w) {
        dispose_bufs(bufs, nbufs, dispose);
        return CNET_ENOMEM;
    }
    w->cb = cb;
    w->arg = arg;
    if (t->held_tail)
        t->held_tail->next = w;
    else
        t->held_head = w;
    t->held_tail = w;
    s->queued_bytes += w->len;
    if (s->queued_bytes >= s->hwm) {
        s->flags |= CNET__S_NEED_DRAIN;
        return 1;
    }
    return 0;
}

void cnet__stream_release_held(cnet_socket_t *s)
{
    cnet__wreq_t *w;

    while (s->tls && (w = s->tls->held_head) != NULL && !(s->flags & CNET__S_DESTROYED)) {
        cnet_buf_t stack[16], *bufs = stack;
        uint32_t n = 0;

        s->tls->held_head = w->next;
        if (!w->next)
            s->tls->held_tail = NULL;
        s->queued_bytes -= w->len;
        if (w->nbufs > CNET__ARRAY_SIZE(stack)) {
            bufs = cnet__malloc(w->nbufs * sizeof *bufs);
            if (!bufs) {
                wreq_dispose(w);
                if (w->cb)
                    w->cb(s, CNET_ENOMEM, w->arg);
                cnet__free(w);
                cnet__socket_destroy(s, CNET_ENOMEM, "write");
                return;
            }
        }
        for (uint32_t i = w->first; i < w->nbufs; i++)
            bufs[n++] = (cnet_buf_t){w->bufs[i].base, w->bufs[i].len};
        /* The engine copies the plaintext: our buffers are released right after. The
         * rest stays held meanwhile, so the transport must not hold this one again. */
        s->tls->releasing = true;
        int r = cnet__tls_sock_write(s, bufs, n, CNET_BUF_STATIC, w->cb, w->arg);
        if (s->tls)
            s->tls->releasing = false;
        if (bufs != stack)
            cnet__free(bufs);
        wreq_dispose(w);
        if (r < 0) {
            /* Refused (out of memory): this write fails, as above. */
            if (w->cb)
                w->cb(s, r, w->arg);
            cnet__free(w);
            cnet__socket_destroy(s, r, "write");
            return;
        }
        cnet__free(w);
    }
}

/* A wire request with room for @p cap bytes, unqueued, carrying nothing yet; NULL: no memory. */
static cnet__wreq_t *wire_new(size_t cap)
{
    cnet__wreq_t *w;

    if (cap > SIZE_MAX - sizeof *w - sizeof(uv_buf_t))
        return NULL;
    w = cnet__malloc(sizeof *w + sizeof(uv_buf_t) + cap);
    if (!w)
        return NULL;
    w->nbufs = 1;
    w->orig = NULL;
    w->dispose = NULL;
    w->cap = cap;
    return w;
}

/* Queues @p w carrying the @p len bytes at @p data (copied into it) and @p cb. */
static void wire_enqueue(cnet_socket_t *s, cnet__wreq_t *w, const char *data, size_t len,
                         cnet_write_cb cb, void *arg)
{
    char *dst = (char *)(w->bufs + 1);

    if (len)
        memcpy(dst, data, len);
    w->bufs[0] = buf_init(dst, len);
    w->next = NULL;
    w->first = 0;
    w->len = len;
    w->status = 0;
    w->cb = cb;
    w->arg = arg;
    enqueue(s, w);
}

/* Whether the kernel may be written to now: nothing queued, connected, not corked. */
static inline bool may_send_now(const cnet_socket_t *s)
{
    return !s->wq_head && !s->inflight && !s->corked &&
           (s->flags & (CNET__S_CONNECTED | CNET__S_HANDLE)) ==
               (CNET__S_CONNECTED | CNET__S_HANDLE);
}

cnet__wreq_t *cnet__stream_reserve_wire(cnet_socket_t *s, size_t len)
{
    cnet__transport_t *t = s->tls;
    cnet__wreq_t *w = t ? t->spare : NULL;

    if (w && w->cap >= len) {
        t->spare = NULL;
        return w;
    }
    return wire_new(len);
}

void cnet__stream_drop_spare(cnet_socket_t *s)
{
    if (s->tls) {
        cnet__free(s->tls->spare);
        s->tls->spare = NULL;
    }
}

/*
 * Queues in @p w what the kernel did not take of @p len bytes (@p sent: its answer to the
 * try, 0 if none was made), carrying @p cb, and flushes. As cnet__stream_send_reserved().
 */
static int wire_queue_rest(cnet_socket_t *s, cnet__wreq_t *w, const char *data, size_t len,
                           ssize_t sent, cnet_write_cb cb, void *arg)
{
    if (sent > 0) {
        cnet__socket_touch(s);
        data += sent;
        len -= (size_t)sent;
    }
    wire_enqueue(s, w, data, len, cb, arg);
    if (sent < 0) {
        /* The peer is gone (EPIPE, ECONNRESET): this write fails, the socket is destroyed. */
        w->status = (int)sent;
        cnet__socket_destroy(s, (int)sent, "write");
        return (int)sent;
    }
    cnet__stream_flush(s);
    if (s->queued_bytes >= s->hwm) {
        s->flags |= CNET__S_NEED_DRAIN;
        return 1;
    }
    return 0;
}

/* The kernel first when it may be written to now: its answer, or 0 when not tried. */
static ssize_t wire_try(cnet_socket_t *s, const char *data, size_t len)
{
    cnet_buf_t buf = {data, len};
    return len && may_send_now(s) ? try_send(s, &buf, 1) : 0;
}

int cnet__stream_send_reserved(cnet_socket_t *s, cnet__wreq_t *w, const char *data, size_t len,
                               cnet_write_cb cb, void *arg)
{
    ssize_t sent = wire_try(s, data, len);
    int r;

    if (len && sent == (ssize_t)len) {
        r = sent_all(s, cb, arg);
        if (r >= 0) {
            spare_put(s, w);
            return r;
        }
        /* No tick for the callback: the reservation carries it through libuv instead. */
        len = sent = 0;
    }
    return wire_queue_rest(s, w, data, len, sent, cb, arg);
}

int cnet__stream_write_wire(cnet_socket_t *s, const char *data, size_t len, cnet_write_cb cb,
                            void *arg)
{
    /* The plain write's fast path: the kernel may take it all, then nothing is copied. */
    ssize_t sent = wire_try(s, data, len);
    cnet__wreq_t *w;
    int r;

    if (len && sent == (ssize_t)len) {
        r = sent_all(s, cb, arg);
        if (r < 0)
            cnet__socket_destroy(s, r, "write");
        return r;
    }
    w = cnet__stream_reserve_wire(s, len - (sent > 0 ? (size_t)sent : 0));
    if (!w) {
        cnet__socket_destroy(s, CNET_ENOMEM, "write");
        return CNET_ENOMEM;
    }
    return wire_queue_rest(s, w, data, len, sent, cb, arg);
}
