/*
 * IPC channels: framed messages over a connected Unix stream socket, and
 * servers and sockets passed with them to another process (node's
 * child.send(message, sendHandle) and process.on('message')).
 *
 * The channel is a libuv pipe, in IPC mode unless no_handles. A message is
 * a 12-byte header then its bytes, written with one uv_write2 that carries
 * the handle, if any: libuv attaches the fd (SCM_RIGHTS) to the first
 * sendmsg of the request, so the fd is attached to the buffer that starts
 * with the header. Linux hands the fd over in the recvmsg that reads the
 * first byte of that buffer (unix_stream_read_generic detaches a buffer's
 * fds on its first read), so when the parser reaches a header that says
 * "a handle comes with me", the fd is already pending on the pipe, in
 * order: the handle is adopted there (uv_accept into a fresh uv_tcp_t or
 * uv_pipe_t) and delivered with the message once its bytes are complete.
 * A handle adopted for a message the channel never completes is closed.
 *
 * Sending duplicates the fd being sent (F_DUPFD_CLOEXEC) onto a temporary
 * handle that lives until the write completes, so the object sent may be
 * destroyed or closed at any time: a sent socket is destroyed at once
 * (node's keepOpen false), its connection kept open by the duplicate until
 * the kernel holds it in the message, and a sent server keeps listening.
 *
 * Lifetime as a socket's: one alive reference, dropped after 'close'; every
 * emit and user retain holds another. libuv completes the writes of a
 * closing pipe (ECANCELED) before its close callback, so write requests
 * need no reference of their own.
 */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HDR_SIZE    12
#define HDR_MARK    0xCE
#define DEFAULT_MAX (64u * 1024 * 1024)

/*
 * Header: marker, kind, 2 zero bytes, the body's length, a key (big-endian).
 * The key of a socket is the id of the server that accepted it (0: none);
 * control frames (node's NODE_SOCKET_* messages) carry that key: the
 * sender's getConnections() asks the receiver how many of the sockets it
 * received from that server are still open, and its close() asks to be
 * told once none is.
 */
enum {
    KIND_NONE = 0,
    KIND_SOCKET = 1,
    KIND_SERVER = 2,
    KIND_GET_COUNT = 3,    /* node's NODE_SOCKET_GET_COUNT */
    KIND_COUNT = 4,        /* NODE_SOCKET_COUNT: a 4-byte count */
    KIND_NOTIFY_CLOSE = 5, /* NODE_SOCKET_NOTIFY_CLOSE */
    KIND_ALL_CLOSED = 6,   /* NODE_SOCKET_ALL_CLOSED */
};

/* A sending server's link to a channel it sent connections over (node's SocketListSend). */
typedef struct cnet__ipc_link {
    struct cnet__ipc_link *next_srv, *next_ch;
    cnet_server_t *srv;
    cnet_channel_t *ch;
} link_t;

/* The sockets received from one server of the peer still open (node's SocketListReceive). */
typedef struct cnet__ipc_track {
    struct cnet__ipc_track *next;
    cnet_channel_t *ch; /* NULL once the channel closed */
    int refs;           /* the channel's list, and each socket */
    uint32_t key, count;
    unsigned notify; /* NOTIFY_CLOSE requests waiting for count 0 */
} track_t;

/* A getConnections() or close() waiting for the workers' replies. */
typedef struct pending {
    cnet_server_t *srv; /* retained */
    cnet_count_cb cb;   /* NULL: close() */
    void *arg;
    int left, err;
    size_t total;
} pending_t;

typedef struct waiter {
    struct waiter *next;
    pending_t *p;
    uint32_t key;
    uint8_t kind; /* the reply awaited: KIND_COUNT or KIND_ALL_CLOSED */
} waiter_t;

enum {
    CH_OPEN = 1u << 0,       /* the pipe is initialised and not yet closing */
    CH_CONNECTING = 1u << 1, /* cnet_channel_connect() in progress */
    CH_CLOSING = 1u << 2,    /* close() called or the peer went: 'close' to come */
    CH_CLOSED = 1u << 3,     /* 'close' emitted */
    CH_IPC = 1u << 4,
    CH_UNREF = 1u << 5,
    CH_READING = 1u << 6,
};

struct cnet_channel_s {
    cnet__emitter_t em;
    cnet_loop_t *loop;
    int refs;
    uint32_t flags;
    unsigned id;
    uv_pipe_t pipe;
    uv_connect_t connect_req;
    size_t max;               /* max_message_size */
    cnet_server_opts_t sopts; /* for servers and sockets received */
    void *data;
    cnet__errinfo_t err;
    char *path; /* cnet_channel_connect()'s, for its error */
    /* The message being received. */
    unsigned char hdr[HDR_SIZE];
    size_t hdr_have;
    bool in_body;
    size_t body_len, body_have;
    char *body;             /* its bytes when they come in several reads */
    cnet_socket_t *rx_sock; /* the handle that came with it, adopted */
    cnet_server_t *rx_srv;
    uint32_t rx_key;
    unsigned rx_kind;
    link_t *links;                     /* servers that sent connections over us */
    track_t *tracks;                   /* connections received, by the peer's server */
    waiter_t *waiters, **waiters_tail; /* replies awaited, in request order */
};

/* One message in flight: its framed bytes and the duplicate of the fd sent. */
typedef struct send_req {
    uv_write_t w;
    uv_pipe_t tmp; /* the duplicated fd being sent, when has_tmp */
    bool has_tmp;
    bool ctl; /* a control frame: failures are nobody's 'error' */
    cnet_channel_t *ch;
    cnet_channel_send_cb cb;
    void *arg;
    size_t len;
    unsigned char bytes[]; /* header, then the message */
} send_req_t;

static void channel_close(cnet_channel_t *ch);
static int send_frame(cnet_channel_t *ch, const void *data, size_t len, unsigned kind, uint32_t key,
                      int fd, cnet_channel_send_cb cb, void *arg);
static void pending_done_one(pending_t *p);

/* ---- lifetime and emitting ------------------------------------------------------ */

static void channel_retain(cnet_channel_t *ch)
{
    ch->refs++;
}

static void channel_release(cnet_channel_t *ch)
{
    if (--ch->refs == 0) {
        cnet__emitter_free(&ch->em);
        cnet__free(ch->body);
        cnet__free(ch->path);
        ch->loop->alive--;
        cnet__free(ch);
    }
}

void cnet_channel_retain(cnet_channel_t *ch)
{
    if (ch)
        channel_retain(ch);
}

void cnet_channel_release(cnet_channel_t *ch)
{
    if (ch && ch->refs > 0)
        channel_release(ch);
}

static void invoke_channel(void *self, cnet__any_cb cb, const cnet_event_t *ev, void *arg)
{
    ((cnet_channel_cb)cb)(self, ev, arg);
}

static void channel_emit(cnet_channel_t *ch, const cnet_event_t *ev)
{
    size_t called;

    channel_retain(ch);
    called = cnet__emit(&ch->em, ch, ev, invoke_channel);
    if (called == 0 && ev->type == CNET_EVENT_ERROR)
        cnet__log(CNET_LOG_WARN, "chan#%u unhandled 'error': %s", ch->id, ev->error->message);
    channel_release(ch);
}

/* 'error' with @p code now (we are in a libuv callback). */
static void emit_error(cnet_channel_t *ch, int code, const char *syscall, const char *address)
{
    cnet_event_t ev;

    cnet__errinfo_set(&ch->err, code, syscall, address, -1, NULL, CNET__MSG_PLAIN);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_ERROR;
    ev.error = &ch->err.pub;
    channel_emit(ch, &ev);
}

/* ---- receiving -------------------------------------------------------------------- */

/* Closes what came with a message the channel will not complete. */
static void drop_rx_handles(cnet_channel_t *ch)
{
    cnet_socket_t *s = ch->rx_sock;
    cnet_server_t *srv = ch->rx_srv;

    ch->rx_sock = NULL;
    ch->rx_srv = NULL;
    if (s)
        cnet__socket_destroy(s, 0, NULL); /* nobody listens on it: freed after its close */
    if (srv)
        cnet_server_destroy(srv);
}

/* The socket pending on the pipe, as a connected cnet socket (what accept_one makes). */
static int adopt_socket(cnet_channel_t *ch, uv_handle_type type)
{
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s;
    int err;

    so.allow_half_open = ch->sopts.allow_half_open;
    so.high_water_mark = ch->sopts.high_water_mark;
    if ((err = cnet__socket_alloc(ch->loop, &so, &s)) != 0)
        return err;
    if (type == UV_NAMED_PIPE) {
        err = uv_pipe_init(ch->loop->uv, &s->h.pipe, 0);
        s->flags |= CNET__S_PIPE;
    } else {
        err = uv_tcp_init(ch->loop->uv, &s->h.tcp);
    }
    if (err) {
        cnet__socket_release(s);
        return cnet__err_from_uv(err);
    }
    s->h.handle.data = s;
    s->flags |= CNET__S_HANDLE;
    err = uv_accept((uv_stream_t *)&ch->pipe, &s->h.stream);
    if (err) {
        cnet__socket_destroy(s, 0, NULL);
        return cnet__err_from_uv(err);
    }
    s->flags |= CNET__S_CONNECTED | CNET__S_EVER_CONNECTED | CNET__S_CONNECT_STARTED;
    cnet__socket_cache_fd(s);
    if (ch->sopts.no_delay)
        cnet_socket_set_no_delay(s, true);
    if (ch->sopts.keep_alive)
        cnet_socket_set_keep_alive(s, true, ch->sopts.keep_alive_initial_delay_ms);
    if (ch->sopts.pause_on_connect)
        s->flags |= CNET__S_PAUSED;
    ch->rx_sock = s;
    if (ch->rx_key) {
        /* Counted for the peer's getConnections() until its 'close'. */
        track_t *t;
        for (t = ch->tracks; t && t->key != ch->rx_key; t = t->next)
            ;
        if (!t && (t = cnet__calloc(1, sizeof *t)) != NULL) {
            t->ch = ch;
            t->refs = 1;
            t->key = ch->rx_key;
            t->next = ch->tracks;
            ch->tracks = t;
        }
        if (t) {
            t->refs++;
            t->count++;
            s->ipc = t;
        }
    }
    return 0;
}

static int adopt_server(cnet_channel_t *ch, uv_handle_type type)
{
    cnet_server_opts_t so = ch->sopts;
    cnet_server_t *srv;
    int err;

    so.tls = NULL;
    if ((err = cnet_server_new(ch->loop, &so, &srv)) != 0)
        return err;
    if ((err = cnet__server_adopt_pending(srv, &ch->pipe, type == UV_NAMED_PIPE)) != 0) {
        cnet__server_release(srv);
        return err;
    }
    ch->rx_srv = srv;
    return 0;
}

/* A header is complete: check it and take the handle that came with it. */
static int on_header(cnet_channel_t *ch)
{
    const unsigned char *h = ch->hdr;
    unsigned kind = h[1];
    size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | (size_t)h[7];
    uv_handle_type type;

    if (h[0] != HDR_MARK || kind > KIND_ALL_CLOSED || h[2] || h[3])
        return CNET_EPROTO;
    if (len > ch->max || (kind >= KIND_GET_COUNT && len != (kind == KIND_COUNT ? 4u : 0u)))
        return len > ch->max ? CNET_ERR_FRAME_TOO_LARGE : CNET_EPROTO;
    ch->body_len = len;
    ch->body_have = 0;
    ch->rx_kind = kind;
    ch->rx_key = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
    if (kind != KIND_SOCKET && kind != KIND_SERVER)
        return 0;
    /* The fd came in the read that brought this header's first byte (or earlier). */
    if (!(ch->flags & CH_IPC) || uv_pipe_pending_count(&ch->pipe) == 0)
        return CNET_EPROTO;
    type = uv_pipe_pending_type(&ch->pipe);
    if (type != UV_TCP && type != UV_NAMED_PIPE)
        return CNET_EPROTO;
    return kind == KIND_SOCKET ? adopt_socket(ch, type) : adopt_server(ch, type);
}

static track_t *track_find(cnet_channel_t *ch, uint32_t key)
{
    track_t *t;
    for (t = ch->tracks; t && t->key != key; t = t->next)
        ;
    return t;
}

static void send_ctl(cnet_channel_t *ch, unsigned kind, uint32_t key, uint32_t count)
{
    unsigned char b[4] = {(unsigned char)(count >> 24), (unsigned char)(count >> 16),
                          (unsigned char)(count >> 8), (unsigned char)count};
    /* Lost only with the channel (or memory): the peer then counts it as done. */
    if (send_frame(ch, b, kind == KIND_COUNT ? 4 : 0, kind, key, -1, NULL, NULL) != 0)
        cnet__log(CNET_LOG_WARN, "chan#%u control message lost", ch->id);
}

/* The first request waiting for a @p kind reply for @p key, unlinked; NULL if none. */
static pending_t *waiter_take(cnet_channel_t *ch, unsigned kind, uint32_t key)
{
    waiter_t **pp, *w;
    pending_t *p;

    for (pp = &ch->waiters; (w = *pp) != NULL; pp = &w->next) {
        if (w->kind == kind && w->key == key) {
            *pp = w->next;
            if (ch->waiters_tail == &w->next)
                ch->waiters_tail = pp;
            p = w->p;
            cnet__free(w);
            return p;
        }
    }
    return NULL;
}

/* node's NODE_SOCKET_* messages, both directions. */
static void on_control(cnet_channel_t *ch, unsigned kind, uint32_t key, const char *body)
{
    track_t *t = track_find(ch, key);
    pending_t *p;

    switch (kind) {
    case KIND_GET_COUNT:
        send_ctl(ch, KIND_COUNT, key, t ? t->count : 0);
        break;
    case KIND_NOTIFY_CLOSE:
        if (t && t->count > 0)
            t->notify++;
        else
            send_ctl(ch, KIND_ALL_CLOSED, key, 0);
        break;
    case KIND_COUNT:
        if ((p = waiter_take(ch, KIND_COUNT, key)) != NULL) {
            const unsigned char *b = (const unsigned char *)body;
            p->total += (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
            pending_done_one(p);
        }
        break;
    case KIND_ALL_CLOSED:
        if ((p = waiter_take(ch, KIND_ALL_CLOSED, key)) != NULL)
            pending_done_one(p);
        break;
    }
}

/* A whole message: 'message', then the socket that came with it starts reading. */
static void deliver(cnet_channel_t *ch, const char *base, size_t len)
{
    cnet_socket_t *s = ch->rx_sock;
    cnet_server_t *srv = ch->rx_srv;
    cnet_event_t ev;

    if (ch->rx_kind >= KIND_GET_COUNT) {
        on_control(ch, ch->rx_kind, ch->rx_key, base);
        return;
    }
    ch->rx_sock = NULL;
    ch->rx_srv = NULL;
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_MESSAGE;
    ev.data.base = base;
    ev.data.len = len;
    ev.connection = s;
    ev.server = srv;
    if (s)
        cnet__socket_retain(s);
    channel_emit(ch, &ev);
    if (s) {
        cnet__stream_start_reading(s);
        cnet__socket_release(s);
    }
}

/* Parses @p len bytes of the stream; stops when the channel closes. 0 or an error. */
static int feed(cnet_channel_t *ch, const char *p, size_t len)
{
    int err;

    while (len > 0 && !(ch->flags & CH_CLOSING)) {
        if (!ch->in_body) {
            size_t n = HDR_SIZE - ch->hdr_have;
            if (n > len)
                n = len;
            memcpy(ch->hdr + ch->hdr_have, p, n);
            ch->hdr_have += n;
            p += n;
            len -= n;
            if (ch->hdr_have < HDR_SIZE)
                return 0;
            ch->hdr_have = 0;
            if ((err = on_header(ch)) != 0)
                return err;
            ch->in_body = true;
        }
        if (ch->body_have == 0 && len >= ch->body_len) {
            /* All here: delivered from the read buffer, no copy. */
            size_t n = ch->body_len;
            ch->in_body = false;
            deliver(ch, p, n);
            p += n;
            len -= n;
            continue;
        }
        if (len == 0)
            return 0; /* the header ended the read: the body comes next */
        /* Copied from here on (body_have > 0 keeps the no-copy path out until it is whole). */
        if (!ch->body && !(ch->body = cnet__malloc(ch->body_len)))
            return CNET_ENOMEM;
        {
            size_t n = ch->body_len - ch->body_have;
            if (n > len)
                n = len;
            memcpy(ch->body + ch->body_have, p, n);
            ch->body_have += n;
            p += n;
            len -= n;
        }
        if (ch->body_have == ch->body_len) {
            char *body = ch->body;
            ch->body = NULL;
            ch->in_body = false;
            ch->body_have = 0;
            deliver(ch, body, ch->body_len);
            cnet__free(body);
        }
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    cnet_channel_t *ch = h->data;
    CNET__UNUSED(suggested);
    buf->base = ch->loop->read_buf; /* as sockets: nothing is kept past the callback */
    buf->len = CNET__READ_BUF_SIZE;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    cnet_channel_t *ch = stream->data;
    int err;

    if (nread == 0)
        return;
    channel_retain(ch);
    if (nread > 0) {
        err = feed(ch, buf->base, (size_t)nread);
        if (err && !(ch->flags & CH_CLOSING)) {
            emit_error(ch, err, "read", NULL);
            channel_close(ch);
        }
    } else if (nread == UV_EOF || nread == UV_ECONNRESET) {
        channel_close(ch); /* the peer closed its end or exited: node's 'disconnect' */
    } else {
        emit_error(ch, cnet__err_from_uv((int)nread), "read", NULL);
        channel_close(ch);
    }
    channel_release(ch);
}

static int start_reading(cnet_channel_t *ch)
{
    int err = uv_read_start((uv_stream_t *)&ch->pipe, on_alloc, on_read);
    if (err == 0)
        ch->flags |= CH_READING;
    return cnet__err_from_uv(err);
}

/* ---- closing ---------------------------------------------------------------------- */

static void on_pipe_closed(uv_handle_t *h)
{
    cnet_channel_t *ch = h->data;
    cnet_event_t ev;
    waiter_t *w;

    ch->flags |= CH_CLOSED;
    /* Replies that will not come: node's ERR_CHILD_CLOSED_BEFORE_REPLY for
     * getConnections(), done for close(). (Here, not in close(): no callback
     * runs inside the call that closed.) */
    while ((w = ch->waiters) != NULL) {
        pending_t *p = w->p;
        ch->waiters = w->next;
        cnet__free(w);
        if (p->cb && !p->err)
            p->err = CNET_ERR_CHILD_CLOSED_BEFORE_REPLY;
        pending_done_one(p);
    }
    ch->waiters_tail = &ch->waiters;
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_CLOSE;
    channel_emit(ch, &ev);
    channel_release(ch); /* the alive reference */
}

static void track_release(track_t *t)
{
    if (--t->refs == 0)
        cnet__free(t);
}

/* The channel goes: servers stop polling it (node removes a worker at its 'exit'),
 * and the sockets received keep their counters alone. */
static void detach_links(cnet_channel_t *ch)
{
    link_t *l;
    track_t *t;

    while ((l = ch->links) != NULL) {
        link_t **pp = cnet__server_ipc_links(l->srv);
        while (*pp != l)
            pp = &(*pp)->next_srv;
        *pp = l->next_srv;
        ch->links = l->next_ch;
        cnet__free(l);
    }
    while ((t = ch->tracks) != NULL) {
        ch->tracks = t->next;
        t->ch = NULL;
        track_release(t);
    }
}

static void channel_close(cnet_channel_t *ch)
{
    if (ch->flags & CH_CLOSING)
        return;
    ch->flags |= CH_CLOSING;
    detach_links(ch);
    drop_rx_handles(ch);
    ch->flags &= ~CH_READING;
    /* libuv closes the fds still pending on the pipe, cancels the writes, then calls us. */
    uv_close((uv_handle_t *)&ch->pipe, on_pipe_closed);
    ch->flags &= ~CH_OPEN;
}

void cnet_channel_close(cnet_channel_t *ch)
{
    if (ch)
        channel_close(ch);
}

/* ---- opening ---------------------------------------------------------------------- */

static int channel_new(cnet_loop_t *loop, const cnet_channel_opts_t *opts, cnet_channel_t **out)
{
    cnet_channel_opts_t o = CNET_CHANNEL_OPTS_INIT;
    cnet_channel_t *ch;
    int err;

    if (opts && (err = cnet__opts_load(&o, sizeof o, opts, sizeof o)) != 0)
        return err;
    if (o.max_message_size > UINT32_MAX)
        return CNET_ERR_INVALID_ARG_VALUE;
    loop = cnet__loop_or_default(loop);
    if (!loop)
        return CNET_ENOMEM;
    ch = cnet__calloc(1, sizeof *ch);
    if (!ch)
        return CNET_ENOMEM;
    ch->sopts = (cnet_server_opts_t)CNET_SERVER_OPTS_INIT;
    if (o.server_opts && (err = cnet__opts_load(&ch->sopts, sizeof ch->sopts, o.server_opts,
                                                CNET__SERVER_OPTS_V1))) {
        cnet__free(ch);
        return err;
    }
    ch->sopts.tls = NULL; /* received servers and sockets are plain */
    ch->loop = loop;
    ch->refs = 1;
    ch->id = ++loop->next_id;
    ch->max = o.max_message_size ? o.max_message_size : DEFAULT_MAX;
    if (!o.no_handles)
        ch->flags |= CH_IPC;
    err = uv_pipe_init(loop->uv, &ch->pipe, (ch->flags & CH_IPC) ? 1 : 0);
    if (err) {
        cnet__free(ch);
        return cnet__err_from_uv(err);
    }
    ch->pipe.data = ch;
    ch->waiters_tail = &ch->waiters;
    ch->flags |= CH_OPEN;
    loop->alive++;
    *out = ch;
    return 0;
}

/* A channel that failed before anyone saw it: closed without events, freed after. */
static void on_failed_closed(uv_handle_t *h)
{
    channel_release(h->data);
}

static void discard(cnet_channel_t *ch)
{
    ch->flags |= CH_CLOSING;
    uv_close((uv_handle_t *)&ch->pipe, on_failed_closed);
}

static int check_fd(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(int), slen = sizeof ss;
    int type;

    if (fd < 0 || fcntl(fd, F_GETFD) == -1)
        return CNET_EBADF;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return errno == ENOTSOCK ? CNET_ENOTSOCK : -errno;
    if (type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&ss, &slen) != 0 ||
        ss.ss_family != AF_UNIX)
        return CNET_EINVAL;
    return 0;
}

int cnet_channel_open(cnet_loop_t *loop, int fd, const cnet_channel_opts_t *opts,
                      cnet_channel_t **out)
{
    cnet_channel_t *ch;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if ((err = check_fd(fd)) != 0)
        return err;
    if ((err = channel_new(loop, opts, &ch)) != 0)
        return err;
    err = uv_pipe_open(&ch->pipe, fd);
    if (err) {
        discard(ch); /* the fd was not taken: it stays the caller's */
        return cnet__err_from_uv(err);
    }
    /* Cannot fail: the handle is open and a socket is readable (uv_read_start's only
     * refusals are a closing or unreadable handle). */
    if ((err = start_reading(ch)) != 0)
        cnet__log(CNET_LOG_ERROR, "chan#%u cannot read: %s", ch->id, cnet_err_name(err));
    *out = ch;
    return 0;
}

int cnet_channel_pair(cnet_loop_t *loop, const cnet_channel_opts_t *opts, cnet_channel_t **out,
                      int *peer_fd)
{
    int sv[2], err;

    if (!out || !peer_fd)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    *peer_fd = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -errno;
    if ((err = cnet_channel_open(loop, sv[0], opts, out)) != 0) {
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    *peer_fd = sv[1];
    return 0;
}

static void on_connected(uv_connect_t *req, int status)
{
    cnet_channel_t *ch = req->data;
    int err = status;

    ch->flags &= ~CH_CONNECTING;
    if (ch->flags & CH_CLOSING)
        return; /* closed meanwhile: the close callback follows (ECANCELED) */
    channel_retain(ch);
    if (err == 0)
        err = start_reading(ch);
    if (err) {
        emit_error(ch, cnet__err_from_uv(err), "connect", ch->path);
        channel_close(ch);
    }
    channel_release(ch);
}

int cnet_channel_connect(cnet_loop_t *loop, const char *path, const cnet_channel_opts_t *opts,
                         cnet_channel_t **out)
{
    cnet_channel_t *ch;
    int err;

    if (!out || !path)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if ((err = cnet__addr_check_path(path)) != 0)
        return err;
    if ((err = channel_new(loop, opts, &ch)) != 0)
        return err;
    if (!(ch->path = cnet__strdup(path))) {
        discard(ch);
        return CNET_ENOMEM;
    }
    ch->connect_req.data = ch;
    ch->flags |= CH_CONNECTING;
    uv_pipe_connect(&ch->connect_req, &ch->pipe, path, on_connected); /* errors: the callback */
    *out = ch;
    return 0;
}

int cnet_channel_from_socket(cnet_socket_t *s, const cnet_channel_opts_t *opts,
                             cnet_channel_t **out)
{
    uv_os_fd_t fd;
    int dup_fd, err;

    if (!s || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & CNET__S_CONNECTED) || (s->flags & CNET__S_CONNECTING))
        return CNET_ERR_SOCKET_CLOSED;
    if (!(s->flags & CNET__S_PIPE) || (s->flags & CNET__S_TLS))
        return CNET_ERR_INVALID_HANDLE_TYPE;
    if (uv_fileno(&s->h.handle, &fd) != 0)
        return CNET_ERR_SOCKET_CLOSED;
    if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return -errno;
    if ((err = cnet_channel_open(s->loop, dup_fd, opts, out)) != 0) {
        close(dup_fd);
        return err;
    }
    cnet__socket_destroy(s, 0, NULL);
    return 0;
}

/* ---- the sending server's side: getConnections() and close() (node's SocketListSend) ---- */

/* The link of @p srv to @p ch, made on its first socket sent there; NULL: out of memory. */
static link_t *link_get(cnet_server_t *srv, cnet_channel_t *ch)
{
    link_t **head = cnet__server_ipc_links(srv), *l;

    for (l = *head; l; l = l->next_srv)
        if (l->ch == ch)
            return l;
    if (!(l = cnet__calloc(1, sizeof *l)))
        return NULL;
    l->srv = srv;
    l->ch = ch;
    l->next_srv = *head;
    *head = l;
    l->next_ch = ch->links;
    ch->links = l;
    return l;
}

void cnet__ipc_server_free(cnet_server_t *srv)
{
    link_t **head = cnet__server_ipc_links(srv), *l;

    while ((l = *head) != NULL) {
        link_t **pp = &l->ch->links;
        while (*pp != l)
            pp = &(*pp)->next_ch;
        *pp = l->next_ch;
        *head = l->next_srv;
        cnet__free(l);
    }
}

static void pending_finish(pending_t *p)
{
    cnet_server_t *srv = p->srv;

    if (p->cb)
        p->cb(srv, p->err, p->err ? 0 : cnet_server_connections(srv) + p->total, p->arg);
    else
        cnet__server_connection_closed(srv); /* the hold of close() */
    cnet__server_release(srv);
    cnet__free(p);
}

static void pending_done_one(pending_t *p)
{
    if (--p->left == 0)
        pending_finish(p);
}

static void tick_pending(cnet__tick_t *t)
{
    pending_finish(t->arg);
}

/* Sends a request of @p kind to every linked channel; returns how many went out. */
static int ask_links(cnet_server_t *srv, pending_t *p, unsigned kind, unsigned reply)
{
    link_t *l;
    int n = 0;

    for (l = *cnet__server_ipc_links(srv); l; l = l->next_srv) {
        waiter_t *w = cnet__malloc(sizeof *w);
        if (!w)
            continue;
        if (send_frame(l->ch, NULL, 0, kind, cnet__server_id(srv), -1, NULL, NULL) != 0) {
            cnet__free(w);
            continue;
        }
        w->next = NULL;
        w->p = p;
        w->key = cnet__server_id(srv);
        w->kind = (uint8_t)reply;
        *l->ch->waiters_tail = w;
        l->ch->waiters_tail = &w->next;
        n++;
    }
    return n;
}

int cnet__ipc_get_connections(cnet_server_t *srv, cnet_count_cb cb, void *arg)
{
    pending_t *p = cnet__calloc(1, sizeof *p);

    if (!p)
        return CNET_ENOMEM;
    p->srv = srv;
    p->cb = cb;
    p->arg = arg;
    cnet__server_retain(srv);
    p->left = ask_links(srv, p, KIND_GET_COUNT, KIND_COUNT);
    if (p->left == 0) {
        cnet__tick_t *t = cnet__tick(cnet_server_loop(srv), tick_pending, NULL, NULL);
        if (!t) {
            cnet__server_release(srv);
            cnet__free(p);
            return CNET_ENOMEM;
        }
        t->arg = p;
    }
    return 0;
}

bool cnet__ipc_server_closing(cnet_server_t *srv)
{
    pending_t *p = cnet__calloc(1, sizeof *p);

    if (!p)
        return false; /* 'close' then only waits for this process's connections */
    p->srv = srv;
    p->left = ask_links(srv, p, KIND_NOTIFY_CLOSE, KIND_ALL_CLOSED);
    if (p->left == 0) {
        cnet__free(p);
        return false;
    }
    cnet__server_retain(srv);
    cnet__server_hold(srv); /* node's _connections++ while the workers are polled */
    return true;
}

/* ---- the receiving side: a socket received from a peer's server closed -------------- */

void cnet__ipc_socket_closed(cnet_socket_t *s)
{
    track_t *t = s->ipc;

    s->ipc = NULL;
    if (--t->count == 0 && t->ch) {
        for (; t->notify > 0; t->notify--)
            send_ctl(t->ch, KIND_ALL_CLOSED, t->key, 0);
    }
    track_release(t);
}

/* ---- sending ---------------------------------------------------------------------- */

static void on_tmp_closed(uv_handle_t *h)
{
    cnet__free(h->data);
}

static void req_free(send_req_t *r)
{
    if (r->has_tmp)
        uv_close((uv_handle_t *)&r->tmp, on_tmp_closed); /* closes the duplicate */
    else
        cnet__free(r);
}

static void on_write(uv_write_t *w, int status)
{
    send_req_t *r = w->data;
    cnet_channel_t *ch = r->ch;

    channel_retain(ch);
    if (r->cb)
        r->cb(ch, cnet__err_from_uv(status), r->arg);
    else if (status < 0 && status != UV_ECANCELED && !r->ctl)
        emit_error(ch, cnet__err_from_uv(status), "write", NULL);
    req_free(r);
    channel_release(ch);
}

static int check_send(cnet_channel_t *ch, const void *data, size_t len)
{
    if (!ch)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!data && len > 0)
        return CNET_ERR_STREAM_NULL_VALUES;
    if (ch->flags & (CH_CLOSING | CH_CLOSED))
        return CNET_ERR_IPC_CHANNEL_CLOSED;
    if (len > ch->max)
        return CNET_ERR_FRAME_TOO_LARGE;
    return 0;
}

/*
 * Frames and writes one message, with a duplicate of @p fd when it is >= 0.
 * 0, or an error with nothing sent and nothing scheduled (the duplicate is
 * closed again).
 */
static int send_frame(cnet_channel_t *ch, const void *data, size_t len, unsigned kind, uint32_t key,
                      int fd, cnet_channel_send_cb cb, void *arg)
{
    send_req_t *r;
    uv_buf_t buf;
    int err, dup_fd;

    r = cnet__malloc(sizeof *r + HDR_SIZE + len);
    if (!r)
        return CNET_ENOMEM;
    r->w.data = r;
    r->ch = ch;
    r->cb = cb;
    r->arg = arg;
    r->len = len;
    r->has_tmp = false;
    r->ctl = kind >= KIND_GET_COUNT;
    r->bytes[8] = (unsigned char)(key >> 24);
    r->bytes[9] = (unsigned char)(key >> 16);
    r->bytes[10] = (unsigned char)(key >> 8);
    r->bytes[11] = (unsigned char)key;
    r->bytes[0] = HDR_MARK;
    r->bytes[1] = (unsigned char)kind;
    r->bytes[2] = r->bytes[3] = 0;
    r->bytes[4] = (unsigned char)(len >> 24);
    r->bytes[5] = (unsigned char)(len >> 16);
    r->bytes[6] = (unsigned char)(len >> 8);
    r->bytes[7] = (unsigned char)len;
    if (len)
        memcpy(r->bytes + HDR_SIZE, data, len);
    if (fd >= 0) {
        if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
            err = -errno;
            cnet__free(r);
            return err;
        }
        err = uv_pipe_init(ch->loop->uv, &r->tmp, 0);
        if (err) {
            close(dup_fd);
            cnet__free(r);
            return cnet__err_from_uv(err);
        }
        r->tmp.data = r;
        r->has_tmp = true;
        err = uv_pipe_open(&r->tmp, dup_fd);
        if (err) {
            close(dup_fd);
            req_free(r);
            return cnet__err_from_uv(err);
        }
    }
    buf = uv_buf_init((char *)r->bytes, (unsigned)(HDR_SIZE + len));
    {
        cnet__sigpipe_guard_t g; /* libuv may write at once */
        cnet__sigpipe_block(&g);
        err = uv_write2(&r->w, (uv_stream_t *)&ch->pipe, &buf, 1,
                        r->has_tmp ? (uv_stream_t *)&r->tmp : NULL, on_write);
        cnet__sigpipe_restore(&g);
    }
    if (err) {
        req_free(r);
        return cnet__err_from_uv(err);
    }
    return 0;
}

int cnet_channel_send(cnet_channel_t *ch, const void *data, size_t len, cnet_channel_send_cb cb,
                      void *arg)
{
    int err = check_send(ch, data, len);
    return err ? err : send_frame(ch, data, len, KIND_NONE, 0, -1, cb, arg);
}

int cnet_channel_send_socket(cnet_channel_t *ch, const void *data, size_t len, cnet_socket_t *s,
                             cnet_channel_send_cb cb, void *arg)
{
    cnet_server_t *srv;
    uv_os_fd_t fd;
    int err;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = check_send(ch, data, len)) != 0)
        return err;
    if (!(ch->flags & CH_IPC))
        return CNET_ERR_IPC_NO_HANDLES;
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & CNET__S_CONNECTED) || (s->flags & CNET__S_CONNECTING))
        return CNET_ERR_SOCKET_CLOSED;
    if (s->flags & CNET__S_TLS)
        return CNET_ERR_INVALID_HANDLE_TYPE;
    if (uv_fileno(&s->h.handle, &fd) != 0)
        return CNET_ERR_SOCKET_CLOSED;
    if (s->server && !link_get(s->server, ch))
        return CNET_ENOMEM;
    if ((err = send_frame(ch, data, len, KIND_SOCKET, s->server ? cnet__server_id(s->server) : 0,
                          fd, cb, arg)) != 0)
        return err;
    /* node: the server stops counting it at once (server._connections--). */
    if ((srv = s->server) != NULL) {
        s->server = NULL;
        cnet__server_connection_closed(srv);
        cnet__server_release(srv);
    }
    cnet__socket_destroy(s, 0, NULL); /* the duplicate keeps the connection */
    return 0;
}

int cnet_channel_send_server(cnet_channel_t *ch, const void *data, size_t len, cnet_server_t *srv,
                             cnet_channel_send_cb cb, void *arg)
{
    bool tls;
    int err, fd;

    if (!srv)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = check_send(ch, data, len)) != 0)
        return err;
    if (!(ch->flags & CH_IPC))
        return CNET_ERR_IPC_NO_HANDLES;
    if ((fd = cnet__server_fileno(srv, &tls)) < 0)
        return fd;
    if (tls)
        return CNET_ERR_INVALID_HANDLE_TYPE;
    return send_frame(ch, data, len, KIND_SERVER, 0, fd, cb, arg);
}

/* ---- accessors and listeners ------------------------------------------------------ */

bool cnet_channel_is_connected(const cnet_channel_t *ch)
{
    return ch && (ch->flags & CH_OPEN) && !(ch->flags & (CH_CLOSING | CH_CONNECTING));
}

bool cnet_channel_is_ipc(const cnet_channel_t *ch)
{
    return ch && (ch->flags & CH_IPC);
}

void cnet_channel_ref(cnet_channel_t *ch)
{
    if (!ch)
        return;
    ch->flags &= ~CH_UNREF;
    if (ch->flags & CH_OPEN)
        uv_ref((uv_handle_t *)&ch->pipe);
}

void cnet_channel_unref(cnet_channel_t *ch)
{
    if (!ch)
        return;
    ch->flags |= CH_UNREF;
    if (ch->flags & CH_OPEN)
        uv_unref((uv_handle_t *)&ch->pipe);
}

void cnet_channel_set_data(cnet_channel_t *ch, void *data)
{
    if (ch)
        ch->data = data;
}

void *cnet_channel_get_data(const cnet_channel_t *ch)
{
    return ch ? ch->data : NULL;
}

int cnet_channel_on(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb, void *arg)
{
    if (!ch)
        return CNET_ERR_INVALID_ARG_TYPE;
    return cnet__emitter_add(&ch->em, (int)type, (cnet__any_cb)cb, arg, NULL, false, false);
}

int cnet_channel_once(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb, void *arg)
{
    if (!ch)
        return CNET_ERR_INVALID_ARG_TYPE;
    return cnet__emitter_add(&ch->em, (int)type, (cnet__any_cb)cb, arg, NULL, true, false);
}

int cnet_channel_off(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb, void *arg)
{
    if (!ch)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove(&ch->em, (int)type, (cnet__any_cb)cb, arg);
    return 0;
}

int cnet_channel_off_all(cnet_channel_t *ch, cnet_event_type_t type)
{
    if (!ch)
        return CNET_ERR_INVALID_ARG_TYPE;
    cnet__emitter_remove_all(&ch->em, (int)type);
    return 0;
}
