/*
 * The TLS engine: one SSL between two BIOs of our own, "wires" (ciphertext
 * in, ciphertext out), driven by its caller. This is what the socket's transport seam will
 * drive: libuv keeps the fd, the engine only turns bytes into bytes.
 *
 * Map:
 *   - creation: verify mode and SNI as node's TLSWrap sets them
 *   - the context's callbacks (ALPN selection, client hello = SNI, keylog,
 *     new session), which find their engine through the SSL's app data
 *   - the handshake and what happens when it completes: node's
 *     verifyError() and checkServerIdentity(), rejectUnauthorized
 *   - the wires: the BIOs' buffers (incoming bytes lent, not copied)
 *   - the byte path: feed, read, write, peek / consume / pull, shutdown, trim
 *   - accessors (getProtocol, getCipher, alpnProtocol, sessions ...)
 *
 * Verification follows node exactly: the verify callback accepts everything,
 * so the handshake completes, and the result is judged afterwards
 * (SSL_get_verify_result, then the host name for a client). A client never
 * asks OpenSSL to check the name; node's checkServerIdentity does it.
 *
 * Every entry point that calls OpenSSL empties the thread's error queue
 * first and leaves it empty, so one connection's errors never surface in
 * another's (peeking before clearing: ERR_clear_error() walks every slot).
 * Nothing here allocates per record: the wires' buffers and OpenSSL's own
 * are reused, and given back by cnet__tls_engine_trim().
 */
#include "tls/tls.h"

#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>

enum { ST_HANDSHAKE, ST_ESTABLISHED, ST_FAILED };
enum { SNI_NONE, SNI_ASKED, SNI_PENDING, SNI_ANSWERED };

/*
 * One direction of ciphertext: our own buffer behind a BIO (not a memory
 * BIO, which zeroes what it grows into, wipes what it frees and has to be
 * replaced to give its memory back). Bytes [head, head + len) of buf are
 * held; an incoming wire may also lend the caller's bytes (feed_lent), read
 * after the held ones, so the usual read is never copied here.
 */
typedef struct wire {
    char *buf;
    size_t head, len, cap;
    const char *lent;
    size_t lent_len;
} wire_t;

struct cnet__tls_engine {
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl; their data are in and out */
    wire_t in, out;
    cnet_tls_context_t *ctx;     /* retained */
    cnet_tls_context_t *sni_ctx; /* retained: the context SNI chose, or NULL */
    cnet__tls_error_t *err;      /* the last failure, allocated on the first */
    unsigned char *alpn;         /* our ALPN list when it replaces the context's (server) */
    size_t alpn_len;
    char *host;            /* client: the name checked against the certificate */
    char *servername;      /* client: the SNI name sent, or NULL */
    char *alpn_chosen;     /* the negotiated protocol, or NULL */
    SSL_SESSION *fresh;    /* client: the session of the last 'session' event */
    SSL_SESSION *queue[4]; /* client: sessions not yet taken, oldest first */
    unsigned queued;
    cnet__tls_sni_fn sni;
    cnet__tls_alpn_fn alpn_cb;
    cnet__tls_keylog_fn keylog;
    cnet__tls_identity_fn identity;
    void *hook_arg;
    int verify_error; /* authorizationError's code, or 0 */
    unsigned events;
    uint8_t state;
    uint8_t sni_state;
    bool is_server;
    bool request_cert;
    bool reject_unauthorized;
    bool authorized;
    bool shutdown_sent;
    bool eof;
};

/* ---- errors ----------------------------------------------------------------- */

/*
 * Empties the thread's error queue, as ERR_clear_error() does, at a fraction
 * of its cost when the queue is already empty (the usual case: clearing
 * walks all 16 slots, peeking only looks at the top).
 */
static inline void err_empty(void)
{
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

static cnet__tls_error_t *error_slot(cnet__tls_engine_t *e)
{
    if (!e->err)
        e->err = cnet__calloc(1, sizeof *e->err);
    return e->err;
}

/* A fatal OpenSSL failure: named as node names it; the engine stays failed. */
static int fail_ssl(cnet__tls_engine_t *e, int fallback)
{
    cnet__tls_error_t *slot = error_slot(e);
    int rc = cnet__tls_err_collect(CNET__TLS_NAMING_SSL, fallback, slot);
    e->state = ST_FAILED;
    return slot ? rc : CNET_ENOMEM;
}

/* A fatal failure of ours (a rejected certificate, a hook's error). */
static int fail_with(cnet__tls_engine_t *e, int code, const char *message, const char *reason,
                     const char *host)
{
    cnet__tls_error_t *slot = error_slot(e);
    err_empty();
    e->state = ST_FAILED;
    if (!slot)
        return CNET_ENOMEM;
    cnet__tls_error_set(slot, code, message, reason, host);
    return code;
}

/* What a failed SSL_* call means for us. */
static int status_of(cnet__tls_engine_t *e, int r)
{
    switch (SSL_get_error(e->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* a memory BIO never refuses, but keep the meaning */
        err_empty();
        return CNET__TLS_WANT_INPUT;
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
        err_empty();
        return CNET__TLS_PAUSED;
    case SSL_ERROR_ZERO_RETURN:
        err_empty();
        e->eof = true;
        return CNET_EOF;
    default:
        /* A hook's own error was recorded before OpenSSL failed on it. */
        if (e->state == ST_FAILED && e->err) {
            err_empty();
            return e->err->code;
        }
        return fail_ssl(e, CNET_ECONNRESET);
    }
}

/* ---- the context's callbacks --------------------------------------------------- */

static int accept_any(int preverify_ok, X509_STORE_CTX *store)
{
    /* node's VerifyCallback: never end the handshake here; verifyError() judges after. */
    return 1;
}

static cnet__tls_engine_t *engine_of(const SSL *ssl)
{
    return SSL_get_app_data(ssl);
}

/* The context whose settings apply now: the one SNI chose, else our own. */
static const cnet_tls_context_t *current_ctx(const cnet__tls_engine_t *e)
{
    return e->sni_ctx ? e->sni_ctx : e->ctx;
}

static void keylog_enable(cnet_tls_context_t *ctx);

static void apply_sni_ctx(cnet__tls_engine_t *e)
{
    if (e->sni_ctx && SSL_get_SSL_CTX(e->ssl) != e->sni_ctx->ssl_ctx) {
        if (e->keylog)
            keylog_enable(e->sni_ctx); /* lines come from the SSL's current context */
        SSL_set_SSL_CTX(e->ssl, e->sni_ctx->ssl_ctx);
    }
}

/* The host_name of the client's server_name extension (GetClientHelloServerName). */
static bool hello_servername(SSL *ssl, char *out, size_t size)
{
    const unsigned char *p;
    size_t rem, len;
    if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &rem) || rem <= 2)
        return false;
    len = ((size_t)p[0] << 8) | p[1];
    if (len + 2 != rem)
        return false;
    rem = len;
    if (rem == 0 || p[2] != TLSEXT_NAMETYPE_host_name)
        return false;
    rem--;
    if (rem <= 2)
        return false;
    len = ((size_t)p[3] << 8) | p[4];
    if (len + 2 > rem || len == 0 || len >= size || memchr(p + 5, '\0', len))
        return false;
    memcpy(out, p + 5, len);
    out[len] = '\0';
    return true;
}

/*
 * Server: node's SNICallback, which may answer later. The callback runs
 * before OpenSSL uses the ClientHello, so switching contexts here decides
 * the certificate. Returning RETRY suspends the handshake
 * (SSL_ERROR_WANT_CLIENT_HELLO_CB) until cnet__tls_engine_sni_done().
 */
static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    cnet__tls_engine_t *e = engine_of(ssl);
    char name[256];

    if (!e || !e->sni || e->sni_state == SNI_ANSWERED) {
        if (e)
            apply_sni_ctx(e);
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    if (e->sni_state == SNI_PENDING)
        return SSL_CLIENT_HELLO_RETRY;
    if (!hello_servername(ssl, name, sizeof name)) {
        e->sni_state = SNI_ANSWERED;
        return SSL_CLIENT_HELLO_SUCCESS;
    }
    e->sni_state = SNI_ASKED;
    int r = e->sni(e->hook_arg, e, name);
    if (r == CNET__TLS_PAUSED) {
        e->sni_state = SNI_PENDING;
        return SSL_CLIENT_HELLO_RETRY;
    }
    e->sni_state = SNI_ANSWERED;
    if (r < 0) {
        fail_with(e, r, NULL, NULL, NULL);
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    apply_sni_ctx(e);
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* Server: node's SelectALPNCallback, with a list or a callback. */
static int on_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    cnet__tls_engine_t *e = engine_of(ssl);
    const unsigned char *list;
    size_t len;

    if (!e)
        return SSL_TLSEXT_ERR_NOACK;
    if (e->alpn_cb) {
        /* The client's names, NUL-terminated, for the callback. */
        char buf[1024];
        const char *names[64];
        size_t count = 0, used = 0;
        const unsigned char *where[64];
        for (unsigned i = 0; i < inlen && count < CNET__ARRAY_SIZE(names);) {
            unsigned n = in[i];
            if (n == 0 || i + 1 + n > inlen || used + n + 1 > sizeof buf)
                break;
            memcpy(buf + used, in + i + 1, n);
            buf[used + n] = '\0';
            names[count] = buf + used;
            where[count++] = in + i;
            used += n + 1;
            i += 1 + n;
        }
        int idx = e->alpn_cb(e->hook_arg, e, names, count);
        if (idx < 0)
            return SSL_TLSEXT_ERR_ALERT_FATAL; /* all refused: no_application_protocol */
        if ((size_t)idx >= count) {
            fail_with(e, CNET_ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, NULL, NULL, NULL);
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
        *out = where[idx] + 1;
        *outlen = where[idx][0];
        return SSL_TLSEXT_ERR_OK;
    }
    list = e->alpn ? e->alpn : current_ctx(e)->alpn;
    len = e->alpn ? e->alpn_len : current_ctx(e)->alpn_len;
    if (!list)
        return SSL_TLSEXT_ERR_NOACK;
    /* Our order first; no common protocol is a fatal alert (RFC 7301 3.2), as in node. */
    if (SSL_select_next_proto((unsigned char **)out, outlen, list, (unsigned)len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

static void on_keylog(const SSL *ssl, const char *line)
{
    cnet__tls_engine_t *e = engine_of(ssl);
    if (e && e->keylog)
        e->keylog(e->hook_arg, e, line);
}

/* Client: a session that can be resumed ('session'). Keeping it returns 1. */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
    cnet__tls_engine_t *e = engine_of(ssl);
    if (!e || e->is_server)
        return 0;
    /* One 'session' per ticket (TLS 1.3 servers send two): queue a few, drop the oldest. */
    if (e->queued == CNET__ARRAY_SIZE(e->queue)) {
        SSL_SESSION_free(e->queue[0]);
        memmove(e->queue, e->queue + 1, (e->queued - 1) * sizeof e->queue[0]);
        e->queued--;
    }
    SSL_SESSION_up_ref(session);
    e->queue[e->queued++] = session;
    SSL_SESSION_free(e->fresh);
    e->fresh = session;
    e->events |= CNET__TLS_EV_SESSION;
    return 1;
}

/* The keylog callback on @p ctx, set once (see cnet__tls_engine_set_keylog). */
static void keylog_enable(cnet_tls_context_t *ctx)
{
    if (ctx && !atomic_load_explicit(&ctx->keylog_on, memory_order_acquire) &&
        !atomic_exchange_explicit(&ctx->keylog_on, true, memory_order_acq_rel))
        SSL_CTX_set_keylog_callback(ctx->ssl_ctx, on_keylog);
}

void cnet__tls_engine_set_keylog(cnet__tls_engine_t *e, cnet__tls_keylog_fn fn)
{
    e->keylog = fn;
    if (fn) {
        keylog_enable(e->ctx);
        keylog_enable(e->sni_ctx);
    }
}

void cnet__tls_engine_setup_ctx(SSL_CTX *ssl_ctx)
{
    SSL_CTX_set_client_hello_cb(ssl_ctx, on_client_hello, NULL);
    SSL_CTX_set_alpn_select_cb(ssl_ctx, on_alpn_select, NULL);
    SSL_CTX_sess_set_new_cb(ssl_ctx, on_new_session);
}

/* ---- the wires ------------------------------------------------------------ */

/* Appends @p n bytes; 0 or CNET_ENOMEM. */
static int wire_append(wire_t *w, const char *p, size_t n)
{
    /* Nothing to add (an empty feed): before the first bytes w->buf is NULL, and
     * NULL + 0 or memcpy(NULL, p, 0) is undefined behaviour (UBSan, fuzz_tls_server). */
    if (n == 0)
        return 0;
    if (w->len == 0)
        w->head = 0;
    if (n > w->cap - w->head - w->len) {
        if (n > SIZE_MAX / 2 - w->len)
            return CNET_ENOMEM;
        if (w->head) {
            memmove(w->buf, w->buf + w->head, w->len);
            w->head = 0;
        }
        if (n > w->cap - w->len) {
            size_t cap = w->cap ? w->cap : 1024;
            while (cap < w->len + n)
                cap *= 2;
            char *b = cnet__realloc(w->buf, cap);
            if (!b)
                return CNET_ENOMEM;
            w->buf = b;
            w->cap = cap;
        }
    }
    memcpy(w->buf + w->head + w->len, p, n);
    w->len += n;
    return 0;
}

static void wire_consume(wire_t *w, size_t n)
{
    w->head += n;
    w->len -= n;
    if (w->len == 0)
        w->head = 0;
}

static int wire_read(BIO *b, char *out, size_t cap, size_t *nread)
{
    wire_t *w = BIO_get_data(b);
    size_t n = 0;

    BIO_clear_retry_flags(b);
    if (w->len) {
        n = w->len < cap ? w->len : cap;
        memcpy(out, w->buf + w->head, n);
        wire_consume(w, n);
    } else if (w->lent_len) {
        n = w->lent_len < cap ? w->lent_len : cap;
        memcpy(out, w->lent, n);
        w->lent += n;
        w->lent_len -= n;
    }
    *nread = n;
    if (n == 0 && cap) {
        BIO_set_retry_read(b); /* empty means "wait for more", never EOF */
        return 0;
    }
    return 1;
}

static int wire_write(BIO *b, const char *in, size_t len, size_t *written)
{
    wire_t *w = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    *written = 0;
    if (wire_append(w, in, len) != 0)
        return 0; /* out of memory: a fatal error for OpenSSL */
    *written = len;
    return 1;
}

static long wire_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    wire_t *w = BIO_get_data(b);

    CNET__UNUSED(num);
    CNET__UNUSED(ptr);
    switch (cmd) {
    case BIO_CTRL_PENDING:
        return (long)(w->len + w->lent_len);
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    default: /* WPENDING, EOF (never: empty means wait) and the rest */
        return 0;
    }
}

static int wire_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD *cnet__tls_wire_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOURCE_SINK | 0x7f, "cnet wire");

    if (m && (!BIO_meth_set_read_ex(m, wire_read) || !BIO_meth_set_write_ex(m, wire_write) ||
              !BIO_meth_set_ctrl(m, wire_ctrl) || !BIO_meth_set_create(m, wire_create))) {
        BIO_meth_free(m);
        m = NULL;
    }
    err_empty();
    return m;
}

/* ---- creation ------------------------------------------------------------------- */

/* @p code, or CNET_ENOMEM when OpenSSL's queue says it ran out of memory (then a bad
 * argument is not the reason). Empties the queue. */
static int unless_oom(int code)
{
    unsigned long err;
    while ((err = ERR_get_error()) != 0)
        if (ERR_GET_REASON(err) == ERR_R_MALLOC_FAILURE)
            code = CNET_ENOMEM;
    return code;
}

static int setup(cnet__tls_engine_t *e, const cnet__tls_engine_opts_t *o)
{
    int rc;

    e->rbio = BIO_new(e->ctx->wire_method);
    e->wbio = BIO_new(e->ctx->wire_method);
    if (!e->rbio || !e->wbio) {
        BIO_free(e->rbio);
        BIO_free(e->wbio);
        e->rbio = e->wbio = NULL;
        return CNET_ENOMEM;
    }
    BIO_set_data(e->rbio, &e->in);
    BIO_set_data(e->wbio, &e->out);
    SSL_set_bio(e->ssl, e->rbio, e->wbio);
    if (!SSL_set_app_data(e->ssl, e)) /* the callbacks find the engine through it */
        return CNET_ENOMEM;

    if (e->is_server) {
        /* TLSWrap::SetVerifyMode: ask for a certificate only with requestCert. */
        int mode = SSL_VERIFY_NONE;
        if (e->request_cert)
            mode = SSL_VERIFY_PEER | (e->reject_unauthorized ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        SSL_set_verify(e->ssl, mode, accept_any);
        SSL_set_accept_state(e->ssl);
        if ((rc = cnet__tls_alpn_wire(o->alpn_protocols, &e->alpn, &e->alpn_len)))
            return rc;
        return 0;
    }

    /* Client: the server always sends a certificate; it is judged after the handshake. */
    SSL_set_verify(e->ssl, SSL_VERIFY_NONE, accept_any);
    SSL_set_connect_state(e->ssl);
    /* node: servername || host || "localhost" ("" sends no SNI and checks the host) */
    const char *name = o->servername && *o->servername ? o->servername
                       : o->host                       ? o->host
                                                       : "localhost";
    if (!(e->host = cnet__strdup(name)))
        return CNET_ENOMEM;
    if (o->servername && *o->servername && !cnet_is_ip(o->servername)) {
        if (!(e->servername = cnet__strdup(o->servername)))
            return CNET_ENOMEM;
        if (!SSL_set_tlsext_host_name(e->ssl, e->servername)) {
            /* A name over 255 bytes, else its copy failed (which OpenSSL 3.0 reports as an
             * internal error). */
            bool bad = ERR_GET_REASON(ERR_peek_error()) == SSL_R_SSL3_EXT_INVALID_SERVERNAME;
            ERR_clear_error();
            return bad ? CNET_ERR_INVALID_ARG_VALUE : CNET_ENOMEM;
        }
    }
    if (o->alpn_protocols) {
        unsigned char *wire;
        size_t len;
        if ((rc = cnet__tls_alpn_wire(o->alpn_protocols, &wire, &len)))
            return rc;
        rc = wire && SSL_set_alpn_protos(e->ssl, wire, (unsigned)len) != 0 ? CNET_ENOMEM : 0;
        cnet__free(wire);
        if (rc)
            return rc;
    }
    if (o->session && o->session_len) {
        const unsigned char *p = o->session;
        SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, (long)o->session_len);
        rc = s && SSL_set_session(e->ssl, s) == 1 ? 0 : unless_oom(CNET_ERR_INVALID_ARG_VALUE);
        SSL_SESSION_free(s);
        if (rc)
            return rc;
    }
    return 0;
}

int cnet__tls_engine_new(cnet_tls_context_t *ctx, const cnet__tls_engine_opts_t *o,
                         cnet__tls_engine_t **out)
{
    cnet__tls_engine_t *e;
    int rc;

    *out = NULL;
    if (!ctx || !o)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (o->session_len > LONG_MAX)
        return CNET_ERR_OUT_OF_RANGE;
    e = cnet__calloc(1, sizeof *e);
    if (!e)
        return CNET_ENOMEM;
    err_empty();
    e->ctx = cnet_tls_context_retain(ctx);
    e->is_server = o->is_server;
    e->request_cert = o->request_cert ? o->request_cert == CNET_TLS_ON : ctx->request_cert;
    e->reject_unauthorized =
        o->reject_unauthorized ? o->reject_unauthorized != CNET_TLS_OFF : ctx->reject_unauthorized;
    e->sni = o->sni;
    e->alpn_cb = o->alpn;
    if (o->keylog)
        cnet__tls_engine_set_keylog(e, o->keylog);
    e->identity = o->identity;
    e->hook_arg = o->hook_arg;
    e->ssl = SSL_new(ctx->ssl_ctx);
    rc = e->ssl ? setup(e, o) : CNET_ENOMEM;
    err_empty();
    if (rc) {
        cnet__tls_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void cnet__tls_engine_free(cnet__tls_engine_t *e)
{
    if (!e)
        return;
    SSL_free(e->ssl); /* and both BIOs */
    cnet__free(e->in.buf);
    cnet__free(e->out.buf);
    SSL_SESSION_free(e->fresh);
    for (unsigned i = 0; i < e->queued; i++)
        SSL_SESSION_free(e->queue[i]);
    cnet_tls_context_release(e->sni_ctx);
    cnet_tls_context_release(e->ctx);
    if (e->err) {
        cnet__tls_error_clear(e->err);
        cnet__free(e->err);
    }
    cnet__free(e->alpn);
    cnet__free(e->host);
    cnet__free(e->servername);
    cnet__free(e->alpn_chosen);
    cnet__free(e);
    err_empty();
}

/* ---- the handshake ------------------------------------------------------------ */

/* TLSWrap::VerifyError: the chain's result, or UNABLE_TO_GET_ISSUER_CERT without a certificate. */
static long verify_result(SSL *ssl)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
        X509_free(peer);
        return SSL_get_verify_result(ssl);
    }
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    const SSL_SESSION *s = SSL_get_session(ssl);
    if ((c && SSL_CIPHER_get_auth_nid(c) == NID_auth_psk) ||
        (s && SSL_SESSION_get_protocol_version(s) == TLS1_3_VERSION && SSL_session_reused(ssl)))
        return X509_V_OK;
    return X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
}

/* The peer's certificate against our host name (onConnectSecure). 0, or a failure recorded. */
static int check_host(cnet__tls_engine_t *e, cnet__tls_error_t *why)
{
    const cnet_tls_cert_t *cert = NULL;
    char *reason = NULL;
    int rc = cnet__tls_cert_from_ssl(e->ssl, e->identity != NULL, &cert);
    if (rc)
        return rc;
    if (e->identity && cert) { /* the user's checkServerIdentity, given getPeerCertificate(true) */
        char msg[256] = "";
        rc = e->identity(e->hook_arg, e, e->host, cert, msg, sizeof msg);
        msg[sizeof msg - 1] = '\0';
        cnet_tls_cert_free(cert);
        ERR_clear_error(); /* whatever the hook did with OpenSSL stays its own */
        if (rc > 0)
            rc = CNET_CERT_REJECTED;
        if (rc && cnet__tls_error_set(why, rc, msg[0] ? msg : NULL, NULL, NULL) != 0)
            rc = CNET_ENOMEM;
        return rc;
    }
    rc = cnet__tls_check_identity(e->host, cert ? &cert->subject : NULL,
                                  cert ? cert->subjectaltname : NULL, &reason);
    cnet_tls_cert_free(cert);
    if (rc == CNET_ERR_TLS_CERT_ALTNAME_INVALID) {
        size_t n = strlen(reason) + 64;
        char *msg = cnet__malloc(n);
        if (msg)
            snprintf(msg, n, "%s: %s", cnet_strerror(rc), reason);
        if (!msg || cnet__tls_error_set(why, rc, msg, reason, e->host) != 0)
            rc = CNET_ENOMEM;
        cnet__free(msg);
    } else if (rc) {
        cnet__tls_error_set(why, rc, NULL, NULL, NULL);
    }
    cnet__free(reason);
    return rc;
}

/*
 * The handshake is complete: decide authorized / authorizationError as
 * node's onConnectSecure (client) and onServerSocketSecure (server) do, and
 * refuse the connection when rejectUnauthorized says so.
 */
static int established(cnet__tls_engine_t *e)
{
    const unsigned char *alpn;
    unsigned alpn_len = 0;
    cnet__tls_error_t why = {0};
    int code = 0;
    bool judged = !e->is_server || e->request_cert;

    if (judged) {
        long v = verify_result(e->ssl);
        code = cnet__tls_verify_code(v);
        if (code)
            cnet__tls_error_set(&why, code, X509_verify_cert_error_string(v), NULL, NULL);
        else if (!e->is_server && !SSL_session_reused(e->ssl))
            code = check_host(e, &why);
        if (code == CNET_ENOMEM) {
            cnet__tls_error_clear(&why);
            return fail_with(e, CNET_ENOMEM, NULL, NULL, NULL);
        }
    }
    e->verify_error = code;
    e->authorized = judged && code == 0;
    if (code && e->reject_unauthorized) {
        cnet__tls_error_t *slot = error_slot(e);
        e->state = ST_FAILED;
        /* node emits 'session' only once verified */
        e->events &= ~(unsigned)CNET__TLS_EV_SESSION;
        for (unsigned i = 0; i < e->queued; i++)
            SSL_SESSION_free(e->queue[i]);
        e->queued = 0;
        if (!slot) {
            cnet__tls_error_clear(&why);
            return CNET_ENOMEM;
        }
        cnet__tls_error_clear(slot);
        *slot = why;
        return code;
    }
    if (code) { /* authorizationError, kept for the socket */
        cnet__tls_error_t *slot = error_slot(e);
        if (slot) {
            cnet__tls_error_clear(slot);
            *slot = why;
        } else {
            cnet__tls_error_clear(&why);
        }
    }
    SSL_get0_alpn_selected(e->ssl, &alpn, &alpn_len);
    if (alpn_len) {
        e->alpn_chosen = cnet__malloc(alpn_len + 1);
        if (!e->alpn_chosen)
            return fail_with(e, CNET_ENOMEM, NULL, NULL, NULL);
        memcpy(e->alpn_chosen, alpn, alpn_len);
        e->alpn_chosen[alpn_len] = '\0';
    }
    e->state = ST_ESTABLISHED;
    e->events |= CNET__TLS_EV_SECURE;
    return 0;
}

static int handshake(cnet__tls_engine_t *e)
{
    if (e->state == ST_ESTABLISHED)
        return 0;
    if (e->state == ST_FAILED)
        return e->err ? e->err->code : CNET_ENOMEM;
    if (e->eof)
        return CNET_EOF;
    if (e->sni_state == SNI_PENDING)
        return CNET__TLS_PAUSED;
    int r = SSL_do_handshake(e->ssl);
    if (r == 1)
        return established(e);
    return status_of(e, r);
}

int cnet__tls_engine_handshake(cnet__tls_engine_t *e)
{
    err_empty();
    int rc = handshake(e);
    err_empty();
    return rc;
}

/* ---- the byte path --------------------------------------------------------------- */

int cnet__tls_engine_feed(cnet__tls_engine_t *e, const void *data, size_t len)
{
    int rc = cnet__tls_engine_settle(e);
    return rc ? rc : wire_append(&e->in, data, len);
}

int cnet__tls_engine_feed_lent(cnet__tls_engine_t *e, const void *data, size_t len)
{
    if (e->in.len || e->in.lent_len)
        return cnet__tls_engine_feed(e, data, len);
    e->in.lent = data;
    e->in.lent_len = len;
    return 0;
}

int cnet__tls_engine_settle(cnet__tls_engine_t *e)
{
    wire_t *w = &e->in;
    int rc = 0;

    if (w->lent_len)
        rc = wire_append(w, w->lent, w->lent_len);
    w->lent = NULL;
    w->lent_len = 0;
    return rc;
}

int cnet__tls_engine_read(cnet__tls_engine_t *e, void *buf, size_t cap, size_t *nread)
{
    int rc, n;

    *nread = 0;
    err_empty();
    rc = handshake(e);
    if (rc)
        goto out;
    if (e->eof) {
        rc = CNET_EOF;
        goto out;
    }
    /* Record after record while they fit: one 'data' (and one echo, one send) per read of
     * ciphertext instead of one per record. A failure after some plaintext is recorded
     * (eof, or the failed state) and reported by the next call. */
    for (;;) {
        size_t room = cap - *nread;
        n = SSL_read(e->ssl, (char *)buf + *nread, room > INT_MAX ? INT_MAX : (int)room);
        if (n <= 0)
            break;
        *nread += (size_t)n;
        if (cap - *nread < CNET__TLS_RECORD_MAX)
            return 0; /* a success leaves the queue as it found it: empty */
    }
    rc = status_of(e, n);
    if (*nread) {
        err_empty();
        return 0;
    }
out:
    err_empty();
    return rc;
}

int cnet__tls_engine_write(cnet__tls_engine_t *e, const void *data, size_t len)
{
    const char *p = data;
    int rc = 0;

    if (e->state == ST_FAILED || e->shutdown_sent)
        return CNET_EPIPE;
    if (e->state != ST_ESTABLISHED)
        return CNET_ERR_TLS_INVALID_STATE;
    err_empty();
    while (len) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = SSL_write(e->ssl, p, chunk);
        if (n <= 0) {
            rc = status_of(e, n);
            if (rc > 0) /* cannot happen with a memory BIO; never report progress as success */
                rc = fail_ssl(e, CNET_EPIPE);
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (rc) /* a success leaves the queue as it found it: empty */
        err_empty();
    return rc;
}

size_t cnet__tls_engine_pending(const cnet__tls_engine_t *e)
{
    return e->out.len;
}

size_t cnet__tls_engine_peek(const cnet__tls_engine_t *e, const char **data)
{
    *data = e->out.len ? e->out.buf + e->out.head : NULL;
    return e->out.len;
}

void cnet__tls_engine_consume(cnet__tls_engine_t *e, size_t n)
{
    wire_consume(&e->out, n < e->out.len ? n : e->out.len);
}

size_t cnet__tls_engine_pull(cnet__tls_engine_t *e, void *buf, size_t cap)
{
    size_t n = e->out.len < cap ? e->out.len : cap;
    if (n) {
        memcpy(buf, e->out.buf + e->out.head, n);
        wire_consume(&e->out, n);
    }
    return n;
}

int cnet__tls_engine_shutdown(cnet__tls_engine_t *e)
{
    int rc = 0;
    if (e->shutdown_sent)
        return 0;
    if (e->state == ST_FAILED)
        return CNET_EPIPE;
    if (e->state != ST_ESTABLISHED)
        return CNET_ERR_TLS_INVALID_STATE;
    err_empty();
    /* 0: our close_notify is queued, the peer's not seen yet; 1: both done. */
    if (SSL_shutdown(e->ssl) < 0)
        rc = fail_ssl(e, CNET_EPIPE);
    else
        e->shutdown_sent = true;
    err_empty();
    return rc;
}

static void wire_trim(wire_t *w)
{
    if (w->len == 0 && w->lent_len == 0 && w->buf) {
        cnet__free(w->buf);
        w->buf = NULL;
        w->cap = w->head = 0;
    }
}

void cnet__tls_engine_trim(cnet__tls_engine_t *e)
{
    wire_trim(&e->in);
    wire_trim(&e->out);
}

/* ---- SNI ------------------------------------------------------------------------ */

int cnet__tls_engine_use_context(cnet__tls_engine_t *e, cnet_tls_context_t *ctx)
{
    if (!ctx)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!e->is_server)
        return CNET_ERR_TLS_SNI_FROM_SERVER;
    if (e->state != ST_HANDSHAKE)
        return CNET_ERR_TLS_INVALID_STATE;
    cnet_tls_context_retain(ctx);
    cnet_tls_context_release(e->sni_ctx);
    e->sni_ctx = ctx;
    /* Inside the hook, or while it is pending, the client hello callback applies it. */
    if (e->sni_state == SNI_NONE) {
        err_empty();
        apply_sni_ctx(e);
        err_empty();
    }
    return 0;
}

int cnet__tls_engine_sni_done(cnet__tls_engine_t *e, cnet_tls_context_t *ctx)
{
    if (e->sni_state != SNI_PENDING)
        return CNET_ERR_TLS_INVALID_STATE;
    if (ctx) {
        int rc = cnet__tls_engine_use_context(e, ctx);
        if (rc)
            return rc;
    }
    e->sni_state = SNI_ANSWERED;
    return 0;
}

/* ---- accessors ------------------------------------------------------------------ */

unsigned cnet__tls_engine_events(cnet__tls_engine_t *e)
{
    unsigned ev = e->events;
    e->events = 0;
    return ev;
}

const cnet__tls_error_t *cnet__tls_engine_error(const cnet__tls_engine_t *e)
{
    return e->err && e->err->message ? e->err : NULL;
}

bool cnet__tls_engine_is_established(const cnet__tls_engine_t *e)
{
    return e->state == ST_ESTABLISHED;
}

bool cnet__tls_engine_is_server(const cnet__tls_engine_t *e)
{
    return e->is_server;
}

bool cnet__tls_engine_authorized(const cnet__tls_engine_t *e)
{
    return e->authorized;
}

int cnet__tls_engine_authorization_error(const cnet__tls_engine_t *e)
{
    return e->verify_error;
}

const char *cnet__tls_engine_protocol(const cnet__tls_engine_t *e)
{
    return e->state == ST_ESTABLISHED ? SSL_get_version(e->ssl) : NULL;
}

int cnet__tls_engine_cipher(const cnet__tls_engine_t *e, const char **name,
                            const char **standard_name, const char **version)
{
    const SSL_CIPHER *c = e->state == ST_ESTABLISHED ? SSL_get_current_cipher(e->ssl) : NULL;
    if (!c)
        return CNET_ERR_TLS_INVALID_STATE;
    if (name)
        *name = SSL_CIPHER_get_name(c);
    if (standard_name)
        *standard_name = SSL_CIPHER_standard_name(c);
    if (version)
        *version = SSL_CIPHER_get_version(c);
    return 0;
}

const char *cnet__tls_engine_alpn_protocol(const cnet__tls_engine_t *e)
{
    return e->alpn_chosen;
}

const char *cnet__tls_engine_servername(const cnet__tls_engine_t *e)
{
    if (!e->is_server)
        return e->servername;
    return SSL_get_servername(e->ssl, TLSEXT_NAMETYPE_host_name);
}

bool cnet__tls_engine_session_reused(const cnet__tls_engine_t *e)
{
    return SSL_session_reused(e->ssl) == 1;
}

static int serialise(SSL_SESSION *s, unsigned char **out, size_t *out_len)
{
    int n;
    *out = NULL;
    *out_len = 0;
    if (!s)
        return 0;
    err_empty();
    n = i2d_SSL_SESSION(s, NULL);
    if (n > 0) {
        unsigned char *p = cnet__malloc((size_t)n);
        if (!p) {
            err_empty();
            return CNET_ENOMEM;
        }
        *out = p;
        *out_len = (size_t)i2d_SSL_SESSION(s, &p);
    }
    err_empty();
    return 0;
}

int cnet__tls_engine_get_session(const cnet__tls_engine_t *e, bool latest, unsigned char **out,
                                 size_t *out_len)
{
    return serialise(latest ? e->fresh : SSL_get_session(e->ssl), out, out_len);
}

int cnet__tls_engine_take_session(cnet__tls_engine_t *e, unsigned char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (e->queued == 0)
        return 0;
    int rc = serialise(e->queue[0], out, out_len);
    if (rc)
        return rc;
    SSL_SESSION_free(e->queue[0]);
    memmove(e->queue, e->queue + 1, (e->queued - 1) * sizeof e->queue[0]);
    e->queued--;
    return 0;
}

int cnet__tls_engine_peer_cert(const cnet__tls_engine_t *e, bool detailed,
                               const cnet_tls_cert_t **out)
{
    err_empty();
    int rc = cnet__tls_cert_from_ssl(e->ssl, detailed, out);
    err_empty();
    return rc;
}

SSL *cnet__tls_engine_ssl(const cnet__tls_engine_t *e)
{
    return e->ssl;
}
