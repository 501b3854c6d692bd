/*
 * TLS sockets: the TLS transport in a socket's byte path (issue 9).
 *
 * A TLS socket is a cnet_socket_t with CNET__S_TLS set and s->tls pointing
 * here; stream.c branches on that flag once per read and once per write and
 * calls in:
 *
 *   on_read(ciphertext)  feed() the engine, then read() plaintext into the
 *                        loop's shared read buffer (free again: feed copied)
 *                        and hand each chunk to cnet__stream_on_readable_data
 *                        (decoder, framing, pipe); then send what the engine
 *                        wrote (handshake messages, alerts, tickets).
 *   write(plaintext)     before 'secure': held (cnet__stream_hold); after:
 *                        encrypted and its ciphertext queued as one write
 *                        request carrying the user's callback.
 *   may_shutdown()       end(): close_notify is queued before libuv's FIN.
 *   on_eof()             a FIN: 'end' once established, else ECONNRESET.
 *
 * The state is allocated when a socket becomes TLS; plain sockets pay
 * nothing but the pointer.
 */
#include "tls.h"

#include <cnet/openssl.h>

#include <stdio.h>

#include "net/connect.h"

enum { ROLE_SOCKET, ROLE_CONNECT, ROLE_SERVER }; /* which events follow 'secure' */
/* A server's SNI question: not asked, the callback is running, waiting for its answer, done. */
enum { SNI_NONE, SNI_IN_CALLBACK, SNI_PENDING, SNI_ANSWERED };

typedef struct cnet__tls_sock {
    cnet__transport_t t; /* first: stream.c's part */
    cnet__tls_engine_t *engine;
    cnet_tls_context_t *ctx;
    cnet__tick_t pump_tick; /* resume(): plaintext the engine still holds */
    uv_timer_t *hs_timer;   /* server: the handshake timeout, until 'secure' or destroy */
    uint8_t role;
    bool is_server;
    bool started;      /* the handshake was started */
    bool established;  /* 'secure' came */
    bool close_notify; /* ours was queued */
    bool failed;       /* the engine failed: nothing more goes through it */
    char *servername;  /* client: the name given, or NULL (then the connect's host) */
    char *host;        /* client: the host connected to, or NULL */
    const char *const *alpn;
    unsigned char *session;
    size_t session_len;
    int reject_unauthorized, request_cert;
    /* Server: the SNI and ALPN callbacks (copied from the server's options at accept). */
    cnet_tls_sni_cb sni_cb;
    void *sni_arg;
    cnet_tls_alpn_cb alpn_cb;
    void *alpn_arg;
    uint8_t sni_state;
    int hook_code;  /* a callback's failure: reported instead of the engine's, with no alert */
    char *hook_msg; /* its message, or NULL for the code's */
    cnet_tls_check_server_identity_cb check_identity; /* client, or NULL */
    void *check_identity_arg;
} tls_sock_t;

static inline tls_sock_t *TS(const cnet_socket_t *s)
{
    return (tls_sock_t *)s->tls;
}

/* ---- failures ----------------------------------------------------------- */

/* Stores node's code and message as the socket's error, before destroying it. */
static void set_error(cnet_socket_t *s, int code, const char *message)
{
    if (!s->err)
        s->err = cnet__calloc(1, sizeof *s->err);
    if (!s->err)
        return; /* destroy still reports the code, with the table's text */
    if (s->err->pub.code)
        return;
    cnet__errinfo_set(s->err, code, NULL, NULL, -1, NULL, CNET__MSG_PLAIN);
    if (message)
        snprintf(s->err->message, sizeof s->err->message, "%s", message);
}

/* The server's 'tlsClientError' (connection: @p s) with node's code and message. */
static void emit_client_error(cnet_socket_t *s, cnet_server_t *srv, int code, const char *message)
{
    cnet__errinfo_t e;
    cnet_event_t ev;

    memset(&e, 0, sizeof e);
    cnet__errinfo_set(&e, code, NULL, NULL, -1, NULL, CNET__MSG_PLAIN);
    if (message)
        snprintf(e.message, sizeof e.message, "%s", message);
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_TLS_CLIENT_ERROR;
    ev.error = &e.pub;
    ev.connection = s;
    cnet__server_emit(srv, &ev);
}

/*
 * The handshake or the connection failed. A client socket gets 'error'
 * then 'close'; a socket of a TLS server closes quietly and its server
 * emits 'tlsClientError' (node's server does not fail the socket itself).
 */
static void fail(cnet_socket_t *s, int code, const char *message)
{
    tls_sock_t *ts = TS(s);
    cnet_server_t *srv = s->server;

    ts->failed = true;
    if (ts->role == ROLE_SERVER && srv && !ts->established) {
        cnet__server_retain(srv);
        cnet__socket_destroy(s, 0, NULL);
        emit_client_error(s, srv, code, message);
        cnet__server_release(srv);
        return;
    }
    set_error(s, code, message);
    cnet__socket_destroy(s, code, NULL);
}

static void fail_engine(cnet_socket_t *s, int code)
{
    const cnet__tls_error_t *e = cnet__tls_engine_error(TS(s)->engine);
    fail(s, e ? e->code : code, e ? e->message : NULL);
}

static void fail_unverified(cnet_socket_t *s, int code)
{
    tls_sock_t *ts = TS(s);

    cnet__socket_retain(s);
    ts->failed = true;
    if (ts->role != ROLE_SERVER)
        cnet__socket_emit_simple(s, CNET_EVENT_SECURE);
    if (!(s->flags & CNET__S_DESTROYED)) {
        ts->failed = false; /* fail() reports it */
        fail_engine(s, code);
    }
    cnet__socket_release(s);
}

/* ---- sending -------------------------------------------------------------- */

/* Room for the expansion of one record: header, type, tag or MAC and padding (TLS 1.3 and
 * AEAD suites take 22 to 29 bytes; CBC suites up to 5 + 16 + 48 + 256). */
#define TLS_RECORD_ROOM 384

/*
 * Sends the ciphertext the engine produced (our own: handshake messages,
 * alerts, close_notify, or what a write's reserved request could not hold)
 * as one write carrying @p cb: straight from the engine's buffer when the
 * kernel takes it (no copy, no request), else the rest is copied into the
 * queue. Negative: the socket was destroyed (out of memory, or the send failed).
 */
static int send_pending(cnet_socket_t *s, cnet_write_cb cb, void *arg)
{
    tls_sock_t *ts = TS(s);
    const char *p;
    size_t n = cnet__tls_engine_peek(ts->engine, &p);
    bool drain_before = (s->flags & CNET__S_NEED_DRAIN) != 0;
    int r;

    if (n == 0 && !cb)
        return 0;
    r = cnet__stream_write_wire(s, p, n, cb, arg);
    cnet__tls_engine_consume(ts->engine, n); /* sent, copied, or lost with the socket */
    if (r >= 0 && !cb && !drain_before)      /* our own bytes: no write returned 1 */
        s->flags &= ~CNET__S_NEED_DRAIN;
    return r;
}

int cnet__tls_sock_write(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                         cnet_free_fn dispose, cnet_write_cb cb, void *arg)
{
    tls_sock_t *ts = TS(s);
    size_t total = 0, room, n;
    bool drain_before = (s->flags & CNET__S_NEED_DRAIN) != 0;
    cnet__wreq_t *w;
    const char *p;
    int r;

    if (!ts->established || (ts->t.held_head && !ts->t.releasing))
        return cnet__stream_hold(s, bufs, nbufs, dispose, cb, arg);
    /*
     * The request that carries the ciphertext (and the callback) is reserved first, with room
     * for what the engine holds plus the records of this write: out of memory, the write is
     * refused with nothing changed; once the engine took the plaintext, the callback always
     * runs (with the error, if the socket fails). The ciphertext then goes to the kernel
     * straight from the engine's buffer; only what the kernel leaves is copied into the
     * request, and a request the kernel made useless is kept for the next write.
     */
    for (size_t i = 0; i < nbufs; i++)
        total += bufs[i].len;
    room = cnet__tls_engine_pending(ts->engine) + total +
           (total / CNET__TLS_RECORD_MAX + 1) * TLS_RECORD_ROOM;
    w = cnet__stream_reserve_wire(s, room);
    if (!w) {
        cnet__stream_dispose_bufs(bufs, nbufs, dispose);
        return CNET_ENOMEM;
    }
    r = 0;
    for (size_t i = 0; i < nbufs && r == 0; i++)
        if (bufs[i].len)
            r = cnet__tls_engine_write(ts->engine, bufs[i].base, bufs[i].len);
    cnet__stream_dispose_bufs(bufs, nbufs, dispose);
    if (r < 0) {
        /* Cannot happen before end() (writes are refused then): a failed engine, or out of
         * memory. The queued callback gets the error. */
        cnet__stream_send_reserved(s, w, NULL, 0, cb, arg);
        if (!(s->flags & CNET__S_DESTROYED))
            fail_engine(s, r);
        return 0;
    }
    n = cnet__tls_engine_peek(ts->engine, &p);
    if (n > room)
        n = room; /* more than the room (not expected): the rest follows in a request of its own */
    r = cnet__stream_send_reserved(s, w, p, n, cb, arg);
    cnet__tls_engine_consume(ts->engine, n); /* sent, copied, or lost with the socket */
    if (r < 0)
        return 0; /* destroyed: the callback gets the error */
    if (ts->t.releasing && !drain_before)
        s->flags &= ~CNET__S_NEED_DRAIN; /* its write returned 0 when it was held */
    if (cnet__tls_engine_pending(ts->engine) == 0)
        return r;
    n = (size_t)send_pending(s, NULL, NULL);
    return (int)n < 0 ? 0 : r | (int)n;
}

bool cnet__tls_sock_may_shutdown(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);

    if (ts->failed)
        return true;
    if (!ts->established || ts->t.held_head)
        return false; /* 'secure' releases the held writes and comes back here */
    if (ts->close_notify)
        return true;
    ts->close_notify = true;
    if (cnet__tls_engine_shutdown(ts->engine) != 0)
        return true;
    if (cnet__tls_engine_pending(ts->engine) == 0)
        return true;
    if (send_pending(s, NULL, NULL) < 0)
        return false; /* destroyed */
    /* Sent at once: FIN now; else its completion calls maybe_shutdown again. */
    return !s->wq_head && !s->inflight;
}

/* ---- receiving ------------------------------------------------------------ */

static void emit_bytes(cnet_socket_t *s, cnet_event_type_t type, const void *p, size_t len)
{
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.data.base = p;
    ev.data.len = len;
    cnet__socket_emit(s, &ev);
}

static void on_timer_closed(uv_handle_t *h)
{
    cnet__free(h);
}

static void stop_handshake_timer(tls_sock_t *ts)
{
    if (ts->hs_timer) {
        uv_close((uv_handle_t *)ts->hs_timer, on_timer_closed); /* stops it; cannot fail */
        ts->hs_timer = NULL;
    }
}

static void tick_hang_up(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    if (s->server)
        emit_client_error(s, s->server, CNET_ECONNRESET, "socket hang up");
}

/* A server connection's transport error before its handshake finished, as node's
 * onSocketTLSError reports it: the server's 'tlsClientError' with that error. */
static void tick_transport_error(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    cnet_event_t ev;

    if (!s->server || !s->err)
        return;
    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_TLS_CLIENT_ERROR;
    ev.error = &s->err->pub;
    ev.connection = s;
    cnet__server_emit(s->server, &ev);
}

void cnet__tls_sock_destroyed(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);

    stop_handshake_timer(ts);
    /* node's TLSWrap ignores a failed write once its shutdown began ("Ignoring error after
     * shutdown"): end()'s close_notify written into a connection the peer has reset is no
     * 'error', the socket just closes. Before, cnet emitted 'error' ECONNRESET "write"
     * (tests/test_fault_proxy.c: a RST that libuv reports as EOF, then the auto end()). */
    if (ts->close_notify && (s->flags & CNET__S_HAD_ERROR) && s->err && s->err->pub.syscall &&
        strcmp(s->err->pub.syscall, "write") == 0)
        s->flags &= ~CNET__S_HAD_ERROR;
    /* Destroyed with an error before the handshake finished (a RST: read or write
     * ECONNRESET, EPIPE; destroy_with_error): node's TLSSocket 'error' goes to the
     * server's onSocketTLSError, so the server emits 'tlsClientError' with it and the
     * socket closes without an 'error' of its own, as fail() does. Before, the socket
     * emitted 'error' and the server nothing (tests/test_fault_proxy.c, a reset after
     * the ClientHello). */
    if (ts->role == ROLE_SERVER && s->server && !ts->established && !ts->failed &&
        (s->flags & CNET__S_HAD_ERROR) && s->err) {
        ts->failed = true;
        s->flags &= ~CNET__S_HAD_ERROR;
        if (!cnet__tick(s->loop, tick_transport_error, s, &cnet__socket_ref_ops))
            cnet__log(CNET_LOG_ERROR, "sock#%u out of memory reporting tlsClientError", s->id);
        return;
    }
    /* node's onSocketClose: a server's connection destroyed without an error before its
     * handshake finished (from 'connection', an SNI or ALPN callback...) is a
     * 'tlsClientError' ECONNRESET "socket hang up", before the socket's 'close'. */
    if (ts->role == ROLE_SERVER && s->server && !ts->established && !ts->failed) {
        ts->failed = true;
        if (!cnet__tick(s->loop, tick_hang_up, s, &cnet__socket_ref_ops))
            cnet__log(CNET_LOG_ERROR, "sock#%u out of memory reporting tlsClientError", s->id);
    }
}

static void on_handshake_timeout(uv_timer_t *t)
{
    cnet_socket_t *s = t->data;

    stop_handshake_timer(TS(s));
    cnet__socket_retain(s);
    fail(s, CNET_ERR_TLS_HANDSHAKE_TIMEOUT, "TLS handshake timeout");
    cnet__socket_release(s);
}

/* 'session' for each session the engine holds. */
static void emit_sessions(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    unsigned char *sess;
    size_t len;
    int r = 0;

    while (!(s->flags & CNET__S_DESTROYED) &&
           (r = cnet__tls_engine_take_session(ts->engine, &sess, &len)) == 0 && sess) {
        emit_bytes(s, CNET_EVENT_SESSION, sess, len);
        cnet__free(sess);
    }
    /* Out of memory: a 'session' cannot be lost silently. */
    if (r < 0 && !(s->flags & CNET__S_DESTROYED))
        fail(s, r, NULL);
}

static void on_secure(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    cnet_server_t *srv = s->server;

    stop_handshake_timer(ts);
    ts->established = true;
    /* node's tls.connect listens to 'secure' first: 'secureConnect', then a session that came
     * within the handshake (TLS 1.2), come before the user's 'secure'. */
    if (ts->role == ROLE_CONNECT) {
        cnet__socket_emit_simple(s, CNET_EVENT_SECURE_CONNECT);
        emit_sessions(s);
    }
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__socket_emit_simple(s, CNET_EVENT_SECURE);
    if (s->flags & CNET__S_DESTROYED)
        return;
    if (ts->role == ROLE_SERVER && srv) {
        cnet_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = CNET_EVENT_SECURE_CONNECTION;
        ev.connection = s;
        cnet__server_retain(srv);
        cnet__server_emit(srv, &ev);
        cnet__server_release(srv);
    }
    if (s->flags & CNET__S_DESTROYED)
        return;
    cnet__stream_release_held(s);
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__stream_maybe_shutdown(s); /* end() before 'secure' */
}

static void handle_events(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    unsigned ev = cnet__tls_engine_events(ts->engine);

    if ((ev & CNET__TLS_EV_SECURE) && !(s->flags & CNET__S_DESTROYED))
        on_secure(s);
    if (ev & CNET__TLS_EV_SESSION)
        emit_sessions(s);
}

/* Plaintext out of the engine, until it wants input, the user pauses, or the end. */
static void pump(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    char *buf = s->loop->read_buf + CNET__READ_BUF_SIZE; /* read_buf holds the lent ciphertext */

    while (!(s->flags & (CNET__S_DESTROYED | CNET__S_PAUSED | CNET__S_EOF)) && !ts->failed) {
        size_t n = 0;
        int r = cnet__tls_engine_read(ts->engine, buf, CNET__PLAIN_BUF_SIZE, &n);

        if (r != 0 && (ts->hook_code || (s->flags & CNET__S_DESTROYED))) {
            /* An SNI or ALPN callback failed the handshake or destroyed the socket: as node's
             * destroy(err), nothing more is sent (not the engine's alert either). */
            if (!(s->flags & CNET__S_DESTROYED))
                fail(s, ts->hook_code, ts->hook_msg);
            return;
        }
        if (s->flags & CNET__S_DESTROYED)
            return; /* by the checkServerIdentity hook */

        if (s->flags & CNET__S_DESTROYED)
            return; /* by a 'keylog' listener, inside the read */
        if (r < 0 && r != CNET_EOF && SSL_is_init_finished(cnet__tls_engine_ssl(ts->engine))) {
            /* The peer was not verified (rejectUnauthorized): as node, 'secure' still comes
             * (a client's) and our last flight is not sent; the peer sees the connection close. */
            fail_unverified(s, r);
            return;
        }
        /* What the engine wrote (handshake, alerts) goes out before any event. */
        if (r != CNET_EOF && cnet__tls_engine_pending(ts->engine) &&
            send_pending(s, NULL, NULL) < 0)
            return;
        if (r < 0 && r != CNET_EOF) {
            fail_engine(s, r);
            return;
        }
        handle_events(s);
        if (s->flags & CNET__S_DESTROYED)
            return;
        if (r == 0 && n > 0) {
            cnet__stream_on_readable_data(s, buf, n);
            continue;
        }
        if (r == CNET_EOF) {
            cnet__stream_on_eof(s); /* the peer's close_notify: 'end' */
            return;
        }
        break; /* WANT_INPUT, or PAUSED (no SNI hook is installed) */
    }
    if (!(s->flags & CNET__S_DESTROYED) && ts->established && !s->wq_head && !s->inflight) {
        cnet__tls_engine_trim(ts->engine);
        cnet__stream_drop_spare(s);
    }
}

static void start_or_fail(cnet_socket_t *s);

void cnet__tls_sock_on_read(cnet_socket_t *s, const char *base, size_t len)
{
    tls_sock_t *ts = TS(s);
    int r;

    if (ts->failed)
        return;
    cnet__socket_retain(s);
    if (!ts->started) {
        /* set_secure() on a connected socket: the peer's hello came before our tick. */
        start_or_fail(s);
        if (s->flags & CNET__S_DESTROYED) {
            cnet__socket_release(s);
            return;
        }
    }
    /* libuv's buffer is lent to the engine for the pump; what a pause left unread is kept. */
    r = cnet__tls_engine_feed_lent(ts->engine, base, len);
    if (r == 0) {
        pump(s);
        r = cnet__tls_engine_settle(ts->engine);
    }
    if (r < 0 && !(s->flags & CNET__S_DESTROYED))
        cnet__socket_destroy(s, r, "read");
    cnet__socket_release(s);
}

void cnet__tls_sock_on_eof(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);

    if (ts->established || ts->failed || !ts->started) {
        cnet__stream_on_eof(s); /* a FIN without close_notify: 'end', as node */
        return;
    }
    cnet__stream_stop_reading(s);
    cnet__socket_retain(s);
    /* As node: the stream's 'end', then the failure of the handshake. */
    s->flags |= CNET__S_EOF;
    cnet__socket_emit_simple(s, CNET_EVENT_END);
    if (s->flags & CNET__S_DESTROYED)
        ;
    else if (ts->role == ROLE_SERVER)
        fail(s, CNET_ECONNRESET, "socket hang up");
    else
        fail(s, CNET_ECONNRESET,
             "Client network socket disconnected before secure TLS connection was established");
    cnet__socket_release(s);
}

static void tick_pump(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    if (!(s->flags & CNET__S_DESTROYED) && s->tls && TS(s)->started)
        pump(s);
}

void cnet__tls_sock_resumed(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    if (ts->started && !ts->failed)
        cnet__tick_embedded(s->loop, &ts->pump_tick, tick_pump, s, &cnet__socket_ref_ops);
}

/* ---- starting ------------------------------------------------------------- */

static void on_keylog(void *arg, cnet__tls_engine_t *e, const char *line)
{
    cnet_socket_t *s = arg;
    size_t n = strlen(line);
    char stackbuf[512], *p = n + 1 <= sizeof stackbuf ? stackbuf : cnet__malloc(n + 1);

    CNET__UNUSED(e);
    /* Destroyed by a 'keylog' listener: OpenSSL may log more lines within the same call. */
    if (!p || cnet__emitter_count(&s->em, CNET_EVENT_KEYLOG) == 0 ||
        (s->flags & CNET__S_DESTROYED)) {
        if (p != stackbuf)
            cnet__free(p);
        return;
    }
    memcpy(p, line, n);
    p[n] = '\n'; /* node's line ends with its newline */
    emit_bytes(s, CNET_EVENT_KEYLOG, p, n + 1);
    if (p != stackbuf)
        cnet__free(p);
}

/* Records a callback's failure; pump() reports it (fail()) once the engine call returns. */
static void set_hook_error(tls_sock_t *ts, int code, const char *message)
{
    if (ts->hook_code)
        return;
    ts->hook_code = code;
    ts->hook_msg = message ? cnet__strdup(message) : NULL; /* NULL: the code's message */
}

/* The engine's SNI hook: the user's SNICallback, answered now or later (cnet_tls_sni_done). */
static int on_sni(void *arg, cnet__tls_engine_t *e, const char *servername)
{
    cnet_socket_t *s = arg;
    tls_sock_t *ts = TS(s);

    CNET__UNUSED(e);
    ts->sni_state = SNI_IN_CALLBACK;
    ts->sni_cb(s, servername, ts->sni_arg);
    if ((s->flags & CNET__S_DESTROYED) || ts->hook_code)
        return CNET__TLS_PAUSED; /* pump() stops; an error goes out without an alert */
    if (ts->sni_state == SNI_ANSWERED)
        return 0; /* a context given was applied by cnet__tls_engine_use_context() */
    ts->sni_state = SNI_PENDING;
    return CNET__TLS_PAUSED;
}

/* The engine's ALPN hook: node's callALPNCallback. */
static int on_alpn(void *arg, cnet__tls_engine_t *e, const char *const *names, size_t count)
{
    cnet_socket_t *s = arg;
    tls_sock_t *ts = TS(s);
    const char *pick = ts->alpn_cb(s, cnet__tls_engine_servername(e), names, count, ts->alpn_arg);
    char msg[512];
    size_t used;

    if (!pick || (s->flags & CNET__S_DESTROYED))
        return -1; /* all refused: no_application_protocol (pump() sees a destroy first) */
    for (size_t i = 0; i < count; i++)
        if (strcmp(pick, names[i]) == 0)
            return (int)i;
    /* node throws ERR_TLS_ALPN_CALLBACK_INVALID_RESULT inside and destroys the socket with it */
    used = (size_t)snprintf(msg, sizeof msg,
                            "ALPN callback returned a value (%.200s) that did not match any of the "
                            "client's offered protocols (",
                            pick);
    for (size_t i = 0; i < count && used < sizeof msg; i++)
        used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s", i ? ", " : "", names[i]);
    if (used < sizeof msg)
        snprintf(msg + used, sizeof msg - used, ")");
    set_hook_error(ts, CNET_ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, msg);
    return (int)count;
}

void cnet__tls_sock_keylog_listened(cnet_socket_t *s)
{
    if (TS(s)->engine)
        cnet__tls_engine_set_keylog(TS(s)->engine, on_keylog);
    /* else start() sees the listener */
}

/* The user's checkServerIdentity, inside the engine's read (pump checks for a destroy after). */
static int on_check_identity(void *arg, cnet__tls_engine_t *e, const char *hostname,
                             const cnet_tls_cert_t *cert, char *message, size_t size)
{
    cnet_socket_t *s = arg;
    tls_sock_t *ts = TS(s);

    CNET__UNUSED(e);
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    return ts->check_identity(s, hostname, cert, message, size, ts->check_identity_arg);
}

/* Makes the engine and, for a client, queues the ClientHello. */
static int start(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);
    cnet__tls_engine_opts_t eo;
    const char *host = NULL;
    int r;

    memset(&eo, 0, sizeof eo);
    eo.is_server = ts->is_server;
    if (!eo.is_server)
        host = ts->host;
    eo.servername = ts->servername ? ts->servername : (host && !cnet_is_ip(host) ? host : NULL);
    eo.host = host;
    eo.request_cert = ts->request_cert;
    eo.reject_unauthorized = ts->reject_unauthorized;
    eo.alpn_protocols = ts->alpn;
    eo.session = ts->session;
    eo.session_len = ts->session_len;
    /* OpenSSL formats key-log lines only once asked to (a cost on every handshake). */
    eo.keylog = cnet__emitter_count(&s->em, CNET_EVENT_KEYLOG) ? on_keylog : NULL;
    eo.sni = ts->sni_cb ? on_sni : NULL;
    eo.alpn = ts->alpn_cb ? on_alpn : NULL;
    if (!eo.is_server && ts->check_identity)
        eo.identity = on_check_identity;
    eo.hook_arg = s;
    r = cnet__tls_engine_new(ts->ctx, &eo, &ts->engine);
    cnet__free(ts->session);
    ts->session = NULL;
    if (r < 0)
        return r;
    ts->started = true;
    if (eo.is_server)
        return 0;
    r = cnet__tls_engine_handshake(ts->engine);
    if (r < 0)
        return r;
    r = send_pending(s, NULL, NULL);
    return r < 0 ? r : 0;
}

static void start_or_fail(cnet_socket_t *s)
{
    int r = start(s);
    if (r < 0 && !(s->flags & CNET__S_DESTROYED)) {
        if (TS(s)->engine)
            fail_engine(s, r);
        else
            fail(s, r, NULL);
    }
}

void cnet__tls_sock_connected(cnet_socket_t *s)
{
    if (!TS(s)->started)
        start_or_fail(s);
}

static void tick_start(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;
    if ((s->flags & CNET__S_DESTROYED) || TS(s)->started)
        return;
    start_or_fail(s);
    if (!(s->flags & CNET__S_DESTROYED))
        pump(s); /* ciphertext that came with the plain data, if any */
}

void cnet__tls_sock_free(cnet_socket_t *s)
{
    tls_sock_t *ts = TS(s);

    /* A socket revived for a new connection drops its TLS state while a pump may still be
     * queued (the tick holds the socket, not this struct). */
    cnet__tick_cancel(s->loop, &ts->pump_tick);
    cnet__stream_drop_spare(s);
    cnet__tls_engine_free(ts->engine);
    cnet_tls_context_release(ts->ctx);
    cnet__free(ts->servername);
    cnet__free(ts->host);
    cnet__free(ts->session);
    cnet__free(ts->hook_msg);
    /* Held writes were moved to the cancelled list by destroy. */
    cnet__free(ts);
    s->tls = NULL;
}

static int attach(cnet_socket_t *s, cnet_tls_context_t *ctx, const cnet_tls_socket_opts_t *o,
                  int role)
{
    tls_sock_t *ts = cnet__calloc(1, sizeof *ts);

    if (!ts)
        return CNET_ENOMEM;
    ts->role = (uint8_t)role;
    ts->is_server = role == ROLE_SERVER || (o && o->is_server);
    ts->reject_unauthorized = o ? o->reject_unauthorized : 0;
    ts->request_cert = o ? o->request_cert : 0;
    ts->alpn = o ? o->alpn_protocols : NULL;
    ts->check_identity = o ? o->check_server_identity : NULL;
    ts->check_identity_arg = o ? o->check_server_identity_arg : NULL;
    if (o && o->servername && !(ts->servername = cnet__strdup(o->servername)))
        goto nomem;
    if (!ts->is_server && s->conn && s->conn->host && !(s->flags & CNET__S_PIPE) &&
        !(ts->host = cnet__strdup(s->conn->host)))
        goto nomem;
    if (o && o->session && o->session_len) {
        if (!(ts->session = cnet__malloc(o->session_len)))
            goto nomem;
        memcpy(ts->session, o->session, o->session_len);
        ts->session_len = o->session_len;
    }
    ts->ctx = cnet_tls_context_retain(ctx);
    s->tls = &ts->t;
    s->flags |= CNET__S_TLS;
    return 0;
nomem:
    cnet__free(ts->servername);
    cnet__free(ts->host);
    cnet__free(ts);
    return CNET_ENOMEM;
}

int cnet__tls_sock_accepted(cnet_socket_t *s, const cnet_server_opts_t *o)
{
    int r = attach(s, o->tls, NULL, ROLE_SERVER);
    unsigned timeout_ms = o->handshake_timeout_ms;
    tls_sock_t *ts;
    uv_timer_t *t;

    if (r == 0) {
        ts = TS(s);
        ts->sni_cb = o->sni_callback;
        ts->sni_arg = o->sni_arg;
        ts->alpn_cb = o->alpn_callback;
        ts->alpn_arg = o->alpn_arg;
    }
    if (r == 0 && (r = start(s)) == 0) {
        ts = TS(s);
        t = cnet__malloc(sizeof *t);
        if (!t)
            r = CNET_ENOMEM;
        else if ((r = uv_timer_init(s->loop->uv, t)) != 0)
            cnet__free(t), r = cnet__err_from_uv(r);
        else {
            t->data = s;
            ts->hs_timer = t;
            uv_unref((uv_handle_t *)t); /* the socket's handle keeps the loop alive */
            r = uv_timer_start(t, on_handshake_timeout, timeout_ms ? timeout_ms : 120000, 0);
            if (r) {
                stop_handshake_timer(ts);
                r = cnet__err_from_uv(r);
            }
        }
    }
    if (r < 0 && s->tls) {
        stop_handshake_timer(TS(s));
        s->flags &= ~CNET__S_TLS;
        cnet__tls_sock_free(s);
    }
    return r;
}

bool cnet__tls_context_has_alpn(const cnet_tls_context_t *ctx)
{
    return ctx && ctx->alpn;
}

int cnet_tls_sni_done(cnet_socket_t *s, cnet_tls_context_t *ctx, int err, const char *message)
{
    tls_sock_t *ts;
    int r;

    if (!s)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (err > 0)
        return CNET_ERR_INVALID_ARG_VALUE;
    ts = (s->flags & CNET__S_TLS) ? TS(s) : NULL;
    if (!ts || ts->sni_state == SNI_NONE)
        return CNET_ERR_TLS_INVALID_STATE;
    if (ts->sni_state == SNI_ANSWERED)
        return CNET_ERR_MULTIPLE_CALLBACK;
    if ((s->flags & CNET__S_DESTROYED) || ts->failed) {
        ts->sni_state = SNI_ANSWERED; /* node: destroy(ERR_SOCKET_CLOSED), a no-op by then */
        return CNET_ERR_SOCKET_CLOSED;
    }
    if (ts->sni_state == SNI_IN_CALLBACK) {
        /* Inside the callback: on_sni() returns to the engine, which applies the context. */
        if (err)
            set_hook_error(ts, err, message);
        else if (ctx && (r = cnet__tls_engine_use_context(ts->engine, ctx)) != 0)
            return r;
        ts->sni_state = SNI_ANSWERED;
        return 0;
    }
    /* Later: the handshake resumes, or fails (pump() finds the error), on a tick. */
    if (err)
        set_hook_error(ts, err, message);
    else if ((r = cnet__tls_engine_sni_done(ts->engine, ctx)) != 0)
        return r; /* the engine is paused for exactly this answer: cannot happen */
    ts->sni_state = SNI_ANSWERED;
    cnet__tick_embedded(s->loop, &ts->pump_tick, tick_pump, s, &cnet__socket_ref_ops);
    return 0;
}

/* First released layout of cnet_tls_socket_opts_t. */
#define TLS_SOCKET_OPTS_V1 CNET__OPTS_END(cnet_tls_socket_opts_t, request_cert)

static int secure(cnet_socket_t *s, cnet_tls_context_t *ctx, const cnet_tls_socket_opts_t *opts,
                  int role)
{
    cnet_tls_socket_opts_t o = CNET_TLS_SOCKET_OPTS_INIT;
    tls_sock_t *ts;
    int r;

    if (!s || !ctx)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (opts && (r = cnet__opts_load(&o, sizeof o, opts, TLS_SOCKET_OPTS_V1)) != 0)
        return r;
    if ((s->flags & CNET__S_TLS) || s->onread)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (role == ROLE_SOCKET && !o.is_server)
        role = ROLE_CONNECT; /* a client is tls.connect({socket}): 'secureConnect' too */
    if (s->flags & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (!(s->flags & (CNET__S_CONNECTED | CNET__S_CONNECTING)))
        return CNET_ERR_SOCKET_CLOSED;
    if (s->flags & CNET__S_ENDING)
        return CNET_ERR_STREAM_WRITE_AFTER_END;
    if ((r = attach(s, ctx, &o, role)) != 0)
        return r;
    ts = TS(s);
    if (s->flags & CNET__S_CONNECTED) {
        /* STARTTLS: the handshake starts on the next tick (no event inside this call). */
        cnet__tick_t *t = cnet__tick(s->loop, tick_start, s, &cnet__socket_ref_ops);
        if (!t) {
            s->flags &= ~CNET__S_TLS;
            cnet__tls_sock_free(s);
            return CNET_ENOMEM;
        }
        ts->started = false;
    }
    return 0;
}

int cnet_socket_set_secure(cnet_socket_t *s, cnet_tls_context_t *ctx,
                           const cnet_tls_socket_opts_t *opts)
{
    return secure(s, ctx, opts, ROLE_SOCKET);
}

int cnet_tls_connect(cnet_loop_t *loop, const cnet_connect_opts_t *copts, cnet_tls_context_t *ctx,
                     const cnet_tls_socket_opts_t *topts, cnet_socket_cb on_secure_cb, void *arg,
                     cnet_socket_t **out)
{
    cnet_socket_t *s;
    int r;

    if (!out || !ctx || !copts)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    if (copts->size >= CNET__OPTS_END(cnet_connect_opts_t, onread) && copts->onread)
        return CNET_ERR_INVALID_ARG_VALUE;
    if ((r = cnet_create_connection(loop, copts, NULL, NULL, &s)) != 0)
        return r;
    if ((r = secure(s, ctx, topts, ROLE_CONNECT)) != 0 ||
        (on_secure_cb &&
         (r = cnet_socket_once(s, CNET_EVENT_SECURE_CONNECT, on_secure_cb, arg)) != 0)) {
        cnet_socket_destroy(s);
        return r;
    }
    *out = s;
    return 0;
}

/* ---- accessors ------------------------------------------------------------ */

static const cnet__tls_engine_t *engine_of(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_TLS) ? TS(s)->engine : NULL;
}

bool cnet_socket_is_tls(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_TLS);
}

bool cnet_socket_tls_authorized(const cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e && TS(s)->established && cnet__tls_engine_authorized(e);
}

bool cnet_socket_verify_peer(const cnet_socket_t *s)
{
    return cnet_socket_tls_authorized(s);
}

SSL *cnet_socket_get_ssl(cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e ? cnet__tls_engine_ssl(e) : NULL;
}

int cnet_socket_tls_authorization_error(const cnet_socket_t *s, const char **message)
{
    const cnet__tls_engine_t *e = engine_of(s);
    int code = e ? cnet__tls_engine_authorization_error(e) : 0;

    if (message) {
        const cnet__tls_error_t *err = code ? cnet__tls_engine_error(e) : NULL;
        *message = err ? err->message : code ? cnet_strerror(code) : NULL;
    }
    return code;
}

const char *cnet_socket_tls_protocol(const cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e ? cnet__tls_engine_protocol(e) : NULL;
}

int cnet_socket_tls_cipher(const cnet_socket_t *s, const char **name, const char **standard_name,
                           const char **version)
{
    const cnet__tls_engine_t *e = engine_of(s);
    if (!e)
        return CNET_ERR_TLS_INVALID_STATE;
    return cnet__tls_engine_cipher(e, name, standard_name, version);
}

const char *cnet_socket_tls_alpn_protocol(const cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e ? cnet__tls_engine_alpn_protocol(e) : NULL;
}

const char *cnet_socket_tls_servername(const cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e ? cnet__tls_engine_servername(e) : NULL;
}

bool cnet_socket_tls_session_reused(const cnet_socket_t *s)
{
    const cnet__tls_engine_t *e = engine_of(s);
    return e && cnet__tls_engine_session_reused(e);
}

int cnet_socket_tls_get_session(const cnet_socket_t *s, unsigned char **out, size_t *out_len)
{
    const cnet__tls_engine_t *e = engine_of(s);

    if (!out || !out_len)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    *out_len = 0;
    return e ? cnet__tls_engine_get_session(e, false, out, out_len) : 0;
}

void cnet_tls_free(void *p)
{
    cnet__free(p);
}

int cnet_socket_tls_peer_certificate(const cnet_socket_t *s, bool detailed,
                                     const cnet_tls_cert_t **out)
{
    const cnet__tls_engine_t *e = engine_of(s);

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    *out = NULL;
    return e ? cnet__tls_engine_peer_cert(e, detailed, out) : 0;
}
