/*
 * The TLS engine: one SSL between two memory BIOs (ciphertext in, ciphertext
 * out), driven by its caller. This is what the socket's transport seam will
 * drive: libuv keeps the fd, the engine only turns bytes into bytes.
 *
 * Map:
 *   - creation: verify mode and SNI as node's TLSWrap sets them
 *   - the context's callbacks (ALPN selection, client hello = SNI, keylog,
 *     new session), which find their engine through the SSL's app data
 *   - the handshake and what happens when it completes: node's
 *     verifyError() and checkServerIdentity(), rejectUnauthorized
 *   - the byte path: feed, read, write, pull, shutdown, trim
 *   - accessors (getProtocol, getCipher, alpnProtocol, sessions ...)
 *
 * Verification follows node exactly: the verify callback accepts everything,
 * so the handshake completes, and the result is judged afterwards
 * (SSL_get_verify_result, then the host name for a client). A client never
 * asks OpenSSL to check the name; node's checkServerIdentity does it.
 *
 * Every entry point that calls OpenSSL empties the thread's error queue
 * first and leaves it empty, so one connection's errors never surface in
 * another's. Nothing here allocates per record: the BIOs' buffers and
 * OpenSSL's own are reused, and given back by cnet__tls_engine_trim().
 */
#include "tls/tls.h"

#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>

enum { ST_HANDSHAKE, ST_ESTABLISHED, ST_FAILED };
enum { SNI_NONE, SNI_ASKED, SNI_PENDING, SNI_ANSWERED };

struct cnet__tls_engine {
    SSL *ssl;
    BIO *rbio, *wbio;            /* owned by ssl */
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
    ERR_clear_error();
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
        ERR_clear_error();
        return CNET__TLS_WANT_INPUT;
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
        ERR_clear_error();
        return CNET__TLS_PAUSED;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        e->eof = true;
        return CNET_EOF;
    default:
        /* A hook's own error was recorded before OpenSSL failed on it. */
        if (e->state == ST_FAILED && e->err) {
            ERR_clear_error();
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

static void apply_sni_ctx(cnet__tls_engine_t *e)
{
    if (e->sni_ctx && SSL_get_SSL_CTX(e->ssl) != e->sni_ctx->ssl_ctx)
        SSL_set_SSL_CTX(e->ssl, e->sni_ctx->ssl_ctx);
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

void cnet__tls_engine_setup_ctx(SSL_CTX *ssl_ctx)
{
    SSL_CTX_set_client_hello_cb(ssl_ctx, on_client_hello, NULL);
    SSL_CTX_set_alpn_select_cb(ssl_ctx, on_alpn_select, NULL);
    SSL_CTX_set_keylog_callback(ssl_ctx, on_keylog);
    SSL_CTX_sess_set_new_cb(ssl_ctx, on_new_session);
}

/* ---- creation ------------------------------------------------------------------- */

static BIO *new_mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b)
        BIO_set_mem_eof_return(b, -1); /* empty means "wait for more", never EOF */
    return b;
}

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

    e->rbio = new_mem_bio();
    e->wbio = new_mem_bio();
    if (!e->rbio || !e->wbio) {
        BIO_free(e->rbio);
        BIO_free(e->wbio);
        e->rbio = e->wbio = NULL;
        return CNET_ENOMEM;
    }
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
    const char *name = o->servername ? o->servername : o->host ? o->host : "localhost";
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
    ERR_clear_error();
    e->ctx = cnet_tls_context_retain(ctx);
    e->is_server = o->is_server;
    e->request_cert = o->request_cert ? o->request_cert == CNET_TLS_ON : ctx->request_cert;
    e->reject_unauthorized =
        o->reject_unauthorized ? o->reject_unauthorized != CNET_TLS_OFF : ctx->reject_unauthorized;
    e->sni = o->sni;
    e->alpn_cb = o->alpn;
    e->keylog = o->keylog;
    e->hook_arg = o->hook_arg;
    e->ssl = SSL_new(ctx->ssl_ctx);
    rc = e->ssl ? setup(e, o) : CNET_ENOMEM;
    ERR_clear_error();
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
    ERR_clear_error();
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
    int rc = cnet__tls_cert_from_ssl(e->ssl, false, &cert);
    if (rc)
        return rc;
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
    ERR_clear_error();
    int rc = handshake(e);
    ERR_clear_error();
    return rc;
}

/* ---- the byte path --------------------------------------------------------------- */

int cnet__tls_engine_feed(cnet__tls_engine_t *e, const void *data, size_t len)
{
    const char *p = data;
    int rc = 0;
    ERR_clear_error();
    while (len) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int n = BIO_write(e->rbio, p, chunk);
        if (n <= 0) {
            rc = CNET_ENOMEM;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    ERR_clear_error();
    return rc;
}

int cnet__tls_engine_read(cnet__tls_engine_t *e, void *buf, size_t cap, size_t *nread)
{
    int rc, n;

    *nread = 0;
    ERR_clear_error();
    rc = handshake(e);
    if (rc)
        goto out;
    if (e->eof) {
        rc = CNET_EOF;
        goto out;
    }
    n = SSL_read(e->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0) {
        *nread = (size_t)n;
        rc = 0;
    } else {
        rc = status_of(e, n);
    }
out:
    ERR_clear_error();
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
    ERR_clear_error();
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
    ERR_clear_error();
    return rc;
}

size_t cnet__tls_engine_pending(const cnet__tls_engine_t *e)
{
    return BIO_ctrl_pending(e->wbio);
}

size_t cnet__tls_engine_pull(cnet__tls_engine_t *e, void *buf, size_t cap)
{
    ERR_clear_error();
    int n = BIO_read(e->wbio, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    ERR_clear_error();
    return n > 0 ? (size_t)n : 0;
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
    ERR_clear_error();
    /* 0: our close_notify is queued, the peer's not seen yet; 1: both done. */
    if (SSL_shutdown(e->ssl) < 0)
        rc = fail_ssl(e, CNET_EPIPE);
    else
        e->shutdown_sent = true;
    ERR_clear_error();
    return rc;
}

/* A memory BIO that holds nothing but has grown a buffer is replaced by a fresh one. */
static BIO *fresh_if_grown(BIO *b)
{
    BUF_MEM *mem = NULL;
    if (BIO_ctrl_pending(b) != 0)
        return NULL;
    BIO_get_mem_ptr(b, &mem);
    if (!mem || mem->max == 0)
        return NULL;
    return new_mem_bio();
}

void cnet__tls_engine_trim(cnet__tls_engine_t *e)
{
    BIO *b;
    ERR_clear_error();
    if ((b = fresh_if_grown(e->rbio))) {
        SSL_set0_rbio(e->ssl, b); /* frees the old one */
        e->rbio = b;
    }
    if ((b = fresh_if_grown(e->wbio))) {
        SSL_set0_wbio(e->ssl, b);
        e->wbio = b;
    }
    ERR_clear_error();
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
        ERR_clear_error();
        apply_sni_ctx(e);
        ERR_clear_error();
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
    ERR_clear_error();
    n = i2d_SSL_SESSION(s, NULL);
    if (n > 0) {
        unsigned char *p = cnet__malloc((size_t)n);
        if (!p) {
            ERR_clear_error();
            return CNET_ENOMEM;
        }
        *out = p;
        *out_len = (size_t)i2d_SSL_SESSION(s, &p);
    }
    ERR_clear_error();
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
    ERR_clear_error();
    int rc = cnet__tls_cert_from_ssl(e->ssl, detailed, out);
    ERR_clear_error();
    return rc;
}

SSL *cnet__tls_engine_ssl(const cnet__tls_engine_t *e)
{
    return e->ssl;
}
