/*
 * The TLS layer's private declarations (never installed). Only src/tls/
 * and, later, the socket's transport seam include this header; it is the one
 * place besides <cnet/openssl.h> where OpenSSL's headers appear, so the rest
 * of the library builds without them.
 *
 *   context.c  cnet_tls_context_t: options -> SSL_CTX (tls.createSecureContext)
 *   sslerr.c   OpenSSL's error queue -> node's err.code / err.message
 *   verify.c   X509_V_ERR_* -> node's codes; tls.checkServerIdentity()
 *   cert.c     X509 -> cnet_tls_cert_t (getPeerCertificate)
 *   engine.c   one SSL over two memory BIOs: the byte path of a TLS socket
 *
 * Rules every file keeps: OpenSSL's global state is never changed (no
 * OPENSSL_init_* with settings, no global callbacks, no allocator); each
 * function that calls OpenSSL starts with an empty error queue and leaves
 * it empty, so no error of one call or one connection leaks into another.
 */
#ifndef CNET_TLS_H
#define CNET_TLS_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>

#include "internal.h"

/* ---- context.c ----------------------------------------------------------- */

struct cnet_tls_context_s {
    atomic_int refs;
    SSL_CTX *ssl_ctx;
    unsigned char *alpn; /* ALPN list in wire format (length-prefixed names), or NULL */
    size_t alpn_len;
    bool request_cert;
    bool reject_unauthorized;
    BIO_METHOD *wire_method; /* the engines' BIOs (engine.c); read-only once made */
    atomic_bool keylog_on;   /* the SSL_CTX's keylog callback is set (once an engine wants it) */
};

/* First released layout of cnet_tls_context_opts_t (0.3.0). */
#define CNET__TLS_CONTEXT_OPTS_V1 CNET__OPTS_END(cnet_tls_context_opts_t, reject_unauthorized)

/*
 * Builds an ALPN wire list from a NULL-terminated array of names (node's
 * convertALPNProtocols). *out is NULL for an empty list.
 * Returns 0, CNET_ERR_INVALID_ARG_VALUE (empty name), CNET_ERR_OUT_OF_RANGE
 * (> 255 bytes), CNET_ENOMEM.
 */
int cnet__tls_alpn_wire(const char *const *names, unsigned char **out, size_t *out_len);

/* ---- sslerr.c ------------------------------------------------------------ */

/*
 * An error as node reports it: err.code, err.message, err.library and
 * err.reason, and for ERR_TLS_CERT_ALTNAME_INVALID err.host. Allocated only
 * when an error happens; the strings are owned by the struct.
 */
typedef struct cnet__tls_error {
    int code;         /* a cnet code; CNET_ERR_OSSL_UNLISTED when the table lacks the name */
    char name[96];    /* node's err.code ("ERR_SSL_WRONG_VERSION_NUMBER") */
    char library[64]; /* "SSL routines", or "" */
    char *message;    /* never NULL once set */
    char *reason;     /* OpenSSL's reason, or checkServerIdentity's; may be NULL */
    char *host;       /* may be NULL */
} cnet__tls_error_t;

/* How node names an OpenSSL error: crypto calls (createSecureContext:
 * "ERR_OSSL_PEM_NO_START_LINE") or a TLS connection ("ERR_SSL_..."). */
enum { CNET__TLS_NAMING_CRYPTO, CNET__TLS_NAMING_SSL };

/*
 * Takes the earliest error of the thread's OpenSSL queue (the one node
 * reports), names it, and empties the queue. Returns its cnet code, or
 * @p fallback when the queue was empty. @p out (may be NULL) is cleared and
 * filled; on allocation failure its message stays the static table text.
 */
int cnet__tls_err_collect(int naming, int fallback, cnet__tls_error_t *out);
/* Sets @p e from a cnet code and a message (copied); reason and host may be NULL. */
int cnet__tls_error_set(cnet__tls_error_t *e, int code, const char *message, const char *reason,
                        const char *host);
void cnet__tls_error_clear(cnet__tls_error_t *e);
/* The code of node's name @p name in the OpenSSL part of the table, or 0. */
int cnet__tls_err_lookup(const char *name);
/* Copies @p msg into a caller's buffer (may be NULL), always terminated. */
void cnet__tls_errmsg(char *buf, size_t size, const char *msg);

/* ---- verify.c ------------------------------------------------------------ */

/* Node's code for an X509_V_ERR_* result (0 for X509_V_OK, CNET_UNSPECIFIED when unnamed). */
int cnet__tls_verify_code(long x509_err);

/*
 * tls.checkServerIdentity() over what it reads of a certificate: the
 * subject's CN values and the subjectaltname string (NULL without one).
 * On a mismatch *reason is set to node's reason (allocated, cnet__free it;
 * NULL when out of memory). Returns 0, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
 * CNET_ERR_TLS_CERT_ALTNAME_FORMAT, CNET_ENOMEM.
 */
int cnet__tls_check_identity(const char *hostname, const cnet_tls_name_t *subject,
                             const char *subjectaltname, char **reason);

/* ---- cert.c -------------------------------------------------------------- */

/* A certificate without its chain. Returns 0 or CNET_ENOMEM. */
int cnet__tls_cert_from_x509(X509 *x509, const cnet_tls_cert_t **out);
/*
 * The peer's certificate of @p ssl, as node's getPeerCertificate(detailed):
 * with @p detailed, its issuers among what the peer sent, then from the
 * context's trust store. *out is NULL when the peer sent none.
 * Returns 0 or CNET_ENOMEM.
 */
int cnet__tls_cert_from_ssl(SSL *ssl, bool detailed, const cnet_tls_cert_t **out);

/* ---- engine.c ------------------------------------------------------------ */

/*
 * The engine: one SSL with a memory BIO for ciphertext in and one for
 * ciphertext out. It owns no socket and never calls back into one: the
 * caller (the socket's transport seam) feeds what the network delivered,
 * drives it, and sends what it produced; progress is polled with
 * cnet__tls_engine_events(). Every call drains OpenSSL's error queue.
 *
 *   client                                server
 *   handshake() -> pull ClientHello       feed(ClientHello); read() -> 0 bytes
 *   feed(...); read() -> ... EV_SECURE    pull ServerHello...; ... EV_SECURE
 *   write(plaintext); pull(ciphertext)    feed(ciphertext); read(plaintext)
 *   shutdown() -> pull close_notify       feed(close_notify); read() -> CNET_EOF
 */
typedef struct cnet__tls_engine cnet__tls_engine_t;

/* Results of the byte-path calls besides 0 and negative cnet codes. */
enum {
    CNET__TLS_WANT_INPUT = 1, /* nothing more until more ciphertext is fed */
    CNET__TLS_PAUSED = 2      /* waiting for the SNI hook's answer (cnet__tls_engine_sni_done) */
};

/* Bits returned (once each) by cnet__tls_engine_events(). */
enum {
    CNET__TLS_EV_SECURE = 1,  /* the handshake finished (and was accepted): 'secure' */
    CNET__TLS_EV_SESSION = 2, /* a client received sessions: cnet__tls_engine_take_session() */
};

/*
 * Server: the client asked for @p servername. Return 0 to go on (after
 * cnet__tls_engine_use_context() to switch to another certificate), or
 * CNET__TLS_PAUSED to answer later with cnet__tls_engine_sni_done() (node's
 * asynchronous SNICallback). A negative code fails the handshake with it.
 */
typedef int (*cnet__tls_sni_fn)(void *arg, cnet__tls_engine_t *e, const char *servername);
/*
 * Server: choose among the client's ALPN @p names (@p count of them).
 * Return an index into @p names, or -1 to refuse them all (a fatal
 * no_application_protocol alert, as node's ALPNCallback returning undefined).
 */
typedef int (*cnet__tls_alpn_fn)(void *arg, cnet__tls_engine_t *e, const char *const *names,
                                 size_t count);
/*
 * Client: checkServerIdentity(hostname, cert) replacing node's default, with
 * the detailed certificate. Return 0 to accept, or a negative code to reject,
 * with node's err.message in @p message (left empty: cnet_strerror(code)).
 * Runs inside cnet__tls_engine_read(), once the chain verified.
 */
typedef int (*cnet__tls_identity_fn)(void *arg, cnet__tls_engine_t *e, const char *hostname,
                                     const cnet_tls_cert_t *cert, char *message, size_t size);
/* A line of the NSS key log format, without its newline ('keylog'). */
typedef void (*cnet__tls_keylog_fn)(void *arg, cnet__tls_engine_t *e, const char *line);

typedef struct cnet__tls_engine_opts {
    bool is_server;
    /* Client: the SNI name, also the name checked against the certificate.
     * Not sent when it is an IP address (RFC 6066), but still checked. */
    const char *servername;
    /* Client: the name checked when servername is NULL; NULL: "localhost" (node). */
    const char *host;
    int request_cert;                  /* server: 0 takes the context's, else ON / OFF */
    int reject_unauthorized;           /* 0 takes the context's, else ON / OFF */
    const char *const *alpn_protocols; /* replaces the context's list, NULL-terminated */
    const void *session;               /* client: a session to resume (getSession's bytes) */
    size_t session_len;
    cnet__tls_sni_fn sni;       /* server, may be NULL */
    cnet__tls_alpn_fn alpn;     /* server, may be NULL: then the list decides */
    cnet__tls_keylog_fn keylog; /* may be NULL */
    void *hook_arg;
    /* Client, may be NULL: then tls.checkServerIdentity. */
    cnet__tls_identity_fn identity;
} cnet__tls_engine_opts_t;

/*
 * A new engine on @p ctx (retained). Returns 0, CNET_ERR_INVALID_ARG_VALUE
 * (a bad session or ALPN list), CNET_ERR_OUT_OF_RANGE, CNET_ENOMEM.
 */
int cnet__tls_engine_new(cnet_tls_context_t *ctx, const cnet__tls_engine_opts_t *opts,
                         cnet__tls_engine_t **out);
void cnet__tls_engine_free(cnet__tls_engine_t *e);

/* Ciphertext from the network; copied, so @p data may be reused. 0 or CNET_ENOMEM. */
int cnet__tls_engine_feed(cnet__tls_engine_t *e, const void *data, size_t len);
/*
 * The same without a copy: @p data is only lent, and must stay untouched
 * until cnet__tls_engine_settle(), which copies what the engine has not
 * read yet (a pause left it there). Nothing else may be fed in between.
 * 0 or CNET_ENOMEM (then the bytes are lost: a fatal error).
 */
int cnet__tls_engine_feed_lent(cnet__tls_engine_t *e, const void *data, size_t len);
int cnet__tls_engine_settle(cnet__tls_engine_t *e);
/*
 * Starts (client) or advances the handshake without reading application
 * data. Returns 0 once established, CNET__TLS_WANT_INPUT, CNET__TLS_PAUSED,
 * or a negative code (cnet__tls_engine_error() says more).
 */
int cnet__tls_engine_handshake(cnet__tls_engine_t *e);
/*
 * Plaintext out: advances the handshake first, then decrypts into @p buf
 * record after record while a whole one (CNET__TLS_RECORD_MAX) still fits.
 * Returns 0 with *nread > 0 (a failure or the end after it comes next call), CNET__TLS_WANT_INPUT
 * (*nread 0), CNET__TLS_PAUSED, CNET_EOF once the peer's close_notify arrived, or a negative code.
 * A failed verification with rejectUnauthorized is such a code (CNET_DEPTH_ZERO_SELF_SIGNED_CERT,
 * CNET_ERR_TLS_CERT_ALTNAME_INVALID).
 */
int cnet__tls_engine_read(cnet__tls_engine_t *e, void *buf, size_t cap, size_t *nread);
/* The most plaintext one TLS record carries. */
#define CNET__TLS_RECORD_MAX 16384
/*
 * Plaintext in: encrypted whole into the outgoing BIO (records of 16 KiB).
 * Only once established: before, CNET_ERR_TLS_INVALID_STATE. After
 * shutdown() or a fatal error, CNET_EPIPE. 0 or a negative code.
 */
int cnet__tls_engine_write(cnet__tls_engine_t *e, const void *data, size_t len);
/* Ciphertext waiting to be sent. */
size_t cnet__tls_engine_pending(const cnet__tls_engine_t *e);
/* Moves up to @p cap bytes of ciphertext to @p buf; returns how many. */
size_t cnet__tls_engine_pull(cnet__tls_engine_t *e, void *buf, size_t cap);
/* The ciphertext waiting to be sent, in place (valid until the next engine call),
 * and dropping the first @p n bytes of it once they are sent or copied. */
size_t cnet__tls_engine_peek(const cnet__tls_engine_t *e, const char **data);
void cnet__tls_engine_consume(cnet__tls_engine_t *e, size_t n);
/* Queues our close_notify (end()). Idempotent. 0 or a negative code. */
int cnet__tls_engine_shutdown(cnet__tls_engine_t *e);
/* Gives memory back while idle: OpenSSL's record buffers (SSL_MODE_RELEASE_BUFFERS)
 * and the buffers of the wires that hold nothing (a free() each, cheap enough to
 * call whenever the socket's queue empties). */
void cnet__tls_engine_trim(cnet__tls_engine_t *e);

/*
 * Installs (or replaces) the keylog hook after creation. OpenSSL formats
 * key-log lines only for a context whose callback is set, which costs every
 * handshake on it a few hundred sprintf calls, so it is set (for good, as
 * node's enableKeylogCallback does) only once an engine on it wants lines:
 * created with a keylog hook, or given one here.
 */
void cnet__tls_engine_set_keylog(cnet__tls_engine_t *e, cnet__tls_keylog_fn fn);

/* Events since the last call (CNET__TLS_EV_*), each reported once. When both
 * come together (a TLS 1.2 session arrives within the handshake), 'secure'
 * goes first: node emits 'session' only once the peer is verified. */
unsigned cnet__tls_engine_events(cnet__tls_engine_t *e);
/* The last failure (code, node's name and message), or NULL; on an engine
 * established with rejectUnauthorized off, the authorization error. */
const cnet__tls_error_t *cnet__tls_engine_error(const cnet__tls_engine_t *e);

/* Server, from the SNI hook or after it paused: serve @p ctx's certificate. */
int cnet__tls_engine_use_context(cnet__tls_engine_t *e, cnet_tls_context_t *ctx);
/* Server: the paused SNI hook's answer; @p ctx may be NULL (keep the current one). */
int cnet__tls_engine_sni_done(cnet__tls_engine_t *e, cnet_tls_context_t *ctx);

/* What the handshake negotiated (node's TLSSocket accessors). */
bool cnet__tls_engine_is_established(const cnet__tls_engine_t *e);
bool cnet__tls_engine_is_server(const cnet__tls_engine_t *e);
/* socket.authorized; authorizationError is its code (0 when authorized or not checked). */
bool cnet__tls_engine_authorized(const cnet__tls_engine_t *e);
int cnet__tls_engine_authorization_error(const cnet__tls_engine_t *e);
/* getProtocol(): "TLSv1.3"..., or NULL before the handshake. */
const char *cnet__tls_engine_protocol(const cnet__tls_engine_t *e);
/* getCipher(): name, standardName, version (static strings); 0 or CNET_ERR_TLS_INVALID_STATE. */
int cnet__tls_engine_cipher(const cnet__tls_engine_t *e, const char **name,
                            const char **standard_name, const char **version);
/* alpnProtocol: the negotiated name, or NULL (node's false). */
const char *cnet__tls_engine_alpn_protocol(const cnet__tls_engine_t *e);
/* servername: the client's SNI name (server) or the one we sent (client), or NULL. */
const char *cnet__tls_engine_servername(const cnet__tls_engine_t *e);
bool cnet__tls_engine_session_reused(const cnet__tls_engine_t *e);
/*
 * getSession() (@p latest false) or the session of the last 'session' event
 * (@p latest true), serialised; *out is allocated (cnet__free it), or NULL
 * when there is none. Returns 0 or CNET_ENOMEM.
 */
int cnet__tls_engine_get_session(const cnet__tls_engine_t *e, bool latest, unsigned char **out,
                                 size_t *out_len);
/*
 * The sessions of 'session' events, one per call, oldest first (a TLS 1.3
 * server sends two tickets; a few are kept). *out is NULL when none is left.
 * Returns 0 or CNET_ENOMEM.
 */
int cnet__tls_engine_take_session(cnet__tls_engine_t *e, unsigned char **out, size_t *out_len);
/* getPeerCertificate(detailed): a new certificate (cnet_tls_cert_free it), or NULL in *out. */
int cnet__tls_engine_peer_cert(const cnet__tls_engine_t *e, bool detailed,
                               const cnet_tls_cert_t **out);
/* The SSL (for <cnet/openssl.h> and white-box tests). */
SSL *cnet__tls_engine_ssl(const cnet__tls_engine_t *e);

/* Installs the engine's dispatchers (ALPN selection, client hello, keylog, new session) on a
 * context's SSL_CTX; context.c calls it once per context. */
void cnet__tls_engine_setup_ctx(SSL_CTX *ssl_ctx);
/* The engines' BIO type, one per context (BIO_meth_free it); NULL when out of memory. */
BIO_METHOD *cnet__tls_wire_method_new(void);

#endif
