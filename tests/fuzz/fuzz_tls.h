/*
 * The TLS fuzzers' shared driver (fuzz_tls_server.c, fuzz_tls_client.c): a
 * cnet TLS engine (src/tls/engine.c) driven as the socket layer drives it,
 * against a peer played by the fuzz input, with the engine's invariants
 * checked after every call.
 *
 * Input: byte 0 is a set of flags (FZ_F_*), the rest a list of operations.
 *   raw mode (flag bit 7 clear): the input is the peer. Operations:
 *     0x00 len16 bytes  feed `bytes` (big-endian len, at most 0x7fff) and pump
 *     0x01 n            write n*64+1 bytes of plaintext
 *     0x02              shutdown (close_notify)
 *     0x03              a new connection on the same context (a client
 *                       resumes the last session it received)
 *     0x04 n            trim (n even) or read with a buffer of n+1 bytes from now on
 *     others            treated as feed
 *   mitm mode (bit 7 set): a real OpenSSL peer talks to the engine in memory;
 *   each operation byte either mutates the next record in flight one way or
 *   the other (pass, drop, duplicate, split, flip a byte, truncate, inject,
 *   swap with the next) or makes one side act (write, close_notify, key
 *   update, renegotiation, a resumed connection). Once the input is used up
 *   an autopilot finishes the connection (data both ways, close_notify both
 *   ways); when no operation disturbed it, both sides must have connected and
 *   received every byte.
 *
 * Determinism: OpenSSL's RAND is replaced (in these fuzzers only) by a
 * counter-seeded generator, reset for every input, with one stream for the
 * engine and one for the peer; the certificates are made once with fixed
 * validity dates. So the same input always takes the same path, and a peer's
 * recorded bytes (CNET_FUZZ_TLS_RECORD=<dir>, see record_seeds()) replay
 * against the engine byte for byte: the seeds reach application data,
 * tickets, resumption and close_notify, not only the ClientHello.
 *
 * Invariants: results are only the documented ones (a named cnet code with
 * the engine's error set, WANT_INPUT, EOF); OpenSSL's error queue is empty
 * after every call; no plaintext before the handshake or after EOF or a
 * failure; a failure sticks (the same code again, writes EPIPE) and no
 * ciphertext follows it; buffers stay bounded (at most one record waits in
 * the incoming wire once the engine wants input); in mitm mode the
 * plaintext each side receives is a prefix of what the other wrote; no leak
 * (LeakSanitizer, per input).
 */
#ifndef CNET_FUZZ_TLS_H
#define CNET_FUZZ_TLS_H

#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_set_rand_method: the fuzzers' own RAND */

#include "fuzz_common.h" /* FUZZ_CHECK */
#include "tls/tls.h"
#include "tls_fixtures.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    FZ_F_VARIANT = 0x03,  /* which of the engine's contexts (fz_setup) */
    FZ_F_PEER12 = 0x04,   /* mitm: the peer stops at TLS 1.2 */
    FZ_F_PEERCERT = 0x08, /* mitm: the peer client sends a certificate / the peer server asks */
    FZ_F_HOOKS = 0x10,    /* server: SNI and ALPN hooks; client: checkServerIdentity hook */
    FZ_F_LENT = 0x20,     /* feed_lent + settle (the socket's way) instead of feed */
    FZ_F_PEERALPN = 0x40, /* mitm: the peer offers / accepts ALPN */
    FZ_F_MITM = 0x80,
};

enum { OP_FEED, OP_WRITE, OP_SHUTDOWN, OP_NEWCONN, OP_TUNE };

#define FZ_MAX_RECORD      (5 + 16384 + 2048) /* the largest record TLS 1.2 allows */
#define FZ_PLAIN_CAP       (1u << 20)         /* plaintext checked per connection, at most */
#define FZ_MAX_CONNECTIONS 4 /* handshakes are the cost of an input: a few per input */

/* ---- deterministic RAND ------------------------------------------------------ */

typedef struct fz_rng {
    uint64_t s;
} fz_rng_t;

static fz_rng_t fz_rng_init = {0x1234}, fz_rng_cnet, fz_rng_peer;
static fz_rng_t *fz_rng_cur = &fz_rng_init;

static int fz_rand_bytes(unsigned char *buf, int num)
{
    for (int i = 0; i < num; i++) {
        /* splitmix64: quality is irrelevant here, only repeatability */
        uint64_t z = (fz_rng_cur->s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        buf[i] = (unsigned char)(z ^ (z >> 31));
    }
    return 1;
}

static int fz_rand_status(void)
{
    return 1;
}

static const RAND_METHOD fz_rand_method = {
    NULL, fz_rand_bytes, NULL, NULL, fz_rand_bytes, fz_rand_status,
};

/* ---- a growable byte buffer ------------------------------------------------------- */

typedef struct fz_buf {
    unsigned char *p;
    size_t len, cap;
} fz_buf_t;

static void fz_buf_add(fz_buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        FUZZ_CHECK(b->p != NULL);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void fz_buf_drop(fz_buf_t *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void fz_buf_free(fz_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* The plaintext each side writes: byte k of a connection is fz_pattern(k, side). */
static unsigned char fz_pattern(uint64_t k, int side)
{
    return (unsigned char)((k * 131u + 7u) ^ (side ? 0x5a : 0));
}

/* ---- the fixtures, made once ------------------------------------------------------ */

typedef struct fz_world {
    bool is_server;              /* the engine's role */
    cnet_tls_context_t *ctx[4];  /* the engine's contexts, by FZ_F_VARIANT */
    cnet_tls_context_t *sni_ctx; /* server: what the SNI hook switches to */
    SSL_CTX *peer[2];            /* the peer's, [1] with a certificate / asking */
    char *ca, *server_key, *server_cert, *sni_cert, *client_key, *client_cert;
} fz_world_t;

static fz_world_t fz;

/* A certificate from tls_fixtures.h with fixed validity (2020..2099), re-signed: the
 * handshake's bytes must not depend on the day. */
static X509 *fz_cert(const tls_cert_spec_t *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
    X509 *x = tls_make_cert(spec, key, issuer, ikey);
    ASN1_TIME *t = ASN1_TIME_new();
    TLS_FIX_CHECK(t && ASN1_TIME_set_string(t, "20200101000000Z") && X509_set1_notBefore(x, t));
    TLS_FIX_CHECK(ASN1_TIME_set_string(t, "20991231000000Z") && X509_set1_notAfter(x, t));
    TLS_FIX_CHECK(X509_sign(x, issuer ? ikey : key, EVP_sha256()));
    ASN1_TIME_free(t);
    return x;
}

static void fz_make_pki(void)
{
    static const tls_attr_t ca_name[] = {{"CN", "cnet Fuzz CA", 0}, {0}};
    static const tls_attr_t host[] = {{"CN", "localhost", 0}, {0}};
    static const tls_attr_t client[] = {{"CN", "client", 0}, {0}};
    static const tls_san_t host_san[] = {
        {GEN_DNS, "localhost", 0}, {GEN_IPADD, "\x7f\x00\x00\x01", 4}, {0}};
    static const tls_san_t sni_san[] = {{GEN_DNS, "sni.example.com", 0}, {0}};
    EVP_PKEY *ca_key = tls_make_key(), *key = tls_make_key();
    tls_cert_spec_t s = {0};

    s.subject = ca_name;
    s.ca = 1;
    s.serial = 1;
    X509 *ca = fz_cert(&s, ca_key, NULL, NULL);
    memset(&s, 0, sizeof s);
    s.subject = host;
    s.san = host_san;
    s.serial = 2;
    X509 *srv = fz_cert(&s, key, ca, ca_key);
    s.san = sni_san;
    s.serial = 3;
    X509 *sni = fz_cert(&s, key, ca, ca_key);
    memset(&s, 0, sizeof s);
    s.subject = client;
    s.client_auth = 1;
    s.serial = 4;
    X509 *cli = fz_cert(&s, key, ca, ca_key);

    fz.ca = tls_cert_pem(ca);
    fz.server_key = tls_key_pem(key);
    fz.client_key = tls_key_pem(key);
    fz.server_cert = tls_cert_pem(srv);
    fz.sni_cert = tls_cert_pem(sni);
    fz.client_cert = tls_cert_pem(cli);
    X509_free(ca);
    X509_free(srv);
    X509_free(sni);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
}

static cnet_tls_context_t *fz_ctx(const char *key, const char *cert, const char *ca, int max,
                                  bool request, int reject, bool alpn)
{
    static const char *const protos[] = {"h2", "http/1.1", NULL};
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *c = NULL;
    char msg[256];
    o.key = key;
    o.cert = cert;
    o.ca = ca;
    o.max_version = max;
    o.request_cert = request;
    o.reject_unauthorized = reject;
    o.alpn_protocols = alpn ? protos : NULL;
    /* Recorded tickets stay resumable for years: the seeds keep resuming. */
    o.session_timeout = 10u * 365 * 86400;
    int rc = cnet_tls_context_new(&o, &c, msg, sizeof msg);
    if (rc) {
        fprintf(stderr, "cnet_tls_context_new: %s: %s\n", cnet_err_name(rc), msg);
        abort();
    }
    return c;
}

static void fz_peer_ctx_load(SSL_CTX *c, const char *cert, const char *key)
{
    BIO *b = BIO_new_mem_buf(cert, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    TLS_FIX_CHECK(x && k && SSL_CTX_use_certificate(c, x) && SSL_CTX_use_PrivateKey(c, k));
    X509_free(x);
    EVP_PKEY_free(k);
}

static int fz_accept_any(int ok, X509_STORE_CTX *store)
{
    (void)ok;
    (void)store;
    return 1;
}

/* Everything made once, with the RAND of init: the same in every run of a binary. */
static void fz_setup(bool is_server)
{
    RAND_set_rand_method(&fz_rand_method);
    fz_rng_cur = &fz_rng_init;
    fz.is_server = is_server;
    fz_make_pki();
    if (is_server) {
        /* 0 plain, 1 requestCert (verified against the CA), 2 TLS 1.2 at most, 3 ALPN */
        fz.ctx[0] = fz_ctx(fz.server_key, fz.server_cert, NULL, 0, false, 0, false);
        fz.ctx[1] = fz_ctx(fz.server_key, fz.server_cert, fz.ca, 0, true, 0, false);
        fz.ctx[2] = fz_ctx(fz.server_key, fz.server_cert, NULL, CNET_TLSV1_2, false, 0, false);
        fz.ctx[3] = fz_ctx(fz.server_key, fz.server_cert, NULL, 0, false, 0, true);
        /* trusts the CA: a server asking for certificates still verifies them after SNI */
        fz.sni_ctx = fz_ctx(fz.server_key, fz.sni_cert, fz.ca, 0, false, 0, false);
    } else {
        /* 0 verifying, 1 TLS 1.2 at most, 2 with a client certificate, 3 unverified + ALPN */
        fz.ctx[0] = fz_ctx(NULL, NULL, fz.ca, 0, false, 0, false);
        fz.ctx[1] = fz_ctx(NULL, NULL, fz.ca, CNET_TLSV1_2, false, 0, false);
        fz.ctx[2] = fz_ctx(fz.client_key, fz.client_cert, fz.ca, 0, false, 0, false);
        fz.ctx[3] = fz_ctx(NULL, NULL, NULL, 0, false, CNET_TLS_OFF, true);
    }
    for (int i = 0; i < 2; i++) {
        SSL_CTX *c = SSL_CTX_new(is_server ? TLS_client_method() : TLS_server_method());
        TLS_FIX_CHECK(c);
        SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
        /* A server that verifies cannot resume without one (an internal_error alert). */
        SSL_CTX_set_session_id_context(c, (const unsigned char *)"peer", 4);
        /* Sessions are kept by hand (client: TLS 1.3 tickets need the client mode on) or in
         * tickets (server): no state across inputs. */
        SSL_CTX_set_session_cache_mode(c, is_server ? SSL_SESS_CACHE_CLIENT |
                                                          SSL_SESS_CACHE_NO_INTERNAL_STORE
                                                    : SSL_SESS_CACHE_OFF);
        if (is_server) {
            if (i)
                fz_peer_ctx_load(c, fz.client_cert, fz.client_key);
        } else {
            fz_peer_ctx_load(c, fz.server_cert, fz.server_key);
            SSL_CTX_set_timeout(c, 10L * 365 * 86400);
            if (i)
                SSL_CTX_set_verify(c, SSL_VERIFY_PEER, fz_accept_any); /* asks, takes anything */
        }
        fz.peer[i] = c;
    }
    ERR_clear_error();
}

/* ---- the engine's side ------------------------------------------------------- */

typedef struct fz_cnet {
    cnet__tls_engine_t *e;
    unsigned flags;
    int fail_code;  /* the failure it reported, or 0 */
    bool eof, shut; /* the peer's close_notify came; we sent ours */
    int secure_count;
    size_t read_cap;   /* plaintext buffer per read() */
    uint64_t received; /* plaintext bytes this connection */
    uint64_t written;
    bool check_plain;       /* mitm: the plaintext is the peer's pattern */
    unsigned char *session; /* client: the last session received, for a resumed connection */
    size_t session_len;
    fz_buf_t out; /* mitm: ciphertext not yet delivered to the peer */
    bool keep_out;
    uint64_t out_hash;    /* every byte of ciphertext the engine produced */
    unsigned connections; /* new connections this input */
    size_t pending_limit;
} fz_cnet_t;

static int fz_sni(void *arg, cnet__tls_engine_t *e, const char *name)
{
    (void)arg;
    if (strcmp(name, "sni.example.com") == 0)
        return cnet__tls_engine_use_context(e, fz.sni_ctx);
    if (strcmp(name, "refused.example.com") == 0)
        return CNET_ECONNREFUSED; /* the hook's error fails the handshake */
    return 0;
}

static int fz_alpn(void *arg, cnet__tls_engine_t *e, const char *const *names, size_t count)
{
    (void)arg;
    (void)e;
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(names[i] != NULL && names[i][0] != '\0');
    return count ? (int)(count - 1) : -1;
}

static int fz_identity(void *arg, cnet__tls_engine_t *e, const char *host,
                       const cnet_tls_cert_t *cert, char *message, size_t size)
{
    (void)arg;
    (void)e;
    FUZZ_CHECK(host != NULL && cert != NULL);
    if (strcmp(host, "localhost") == 0)
        return 0;
    snprintf(message, size, "not %s", host);
    return CNET_ERR_TLS_CERT_ALTNAME_INVALID;
}

static void fz_cnet_open(fz_cnet_t *c, unsigned flags)
{
    cnet__tls_engine_opts_t o = {0};
    static const char *const offer[] = {"http/1.1", "h2", NULL};

    fz_rng_cur = &fz_rng_cnet;
    o.is_server = fz.is_server;
    if (fz.is_server) {
        if (flags & FZ_F_HOOKS) {
            o.sni = fz_sni;
            o.alpn = fz_alpn;
        }
    } else {
        o.servername = "localhost";
        if (flags & FZ_F_HOOKS)
            o.identity = fz_identity;
        if ((flags & FZ_F_VARIANT) == 3)
            o.alpn_protocols = offer;
        /* A resumed connection: the last session the previous one received. */
        o.session = c->session;
        o.session_len = c->session_len;
    }
    c->flags = flags;
    c->fail_code = 0;
    c->eof = c->shut = false;
    c->secure_count = 0;
    c->received = c->written = 0;
    c->pending_limit = 0;
    if (!c->read_cap)
        c->read_cap = 16384;
    FUZZ_CHECK(cnet__tls_engine_new(fz.ctx[flags & FZ_F_VARIANT], &o, &c->e) == 0);
    FUZZ_CHECK(ERR_peek_error() == 0);
}

static void fz_cnet_close(fz_cnet_t *c)
{
    fz_rng_cur = &fz_rng_cnet;
    cnet__tls_engine_free(c->e);
    c->e = NULL;
    FUZZ_CHECK(ERR_peek_error() == 0);
}

/* A negative result other than EOF: a named code, the engine's error says the same. */
static void fz_check_failure(fz_cnet_t *c, int rc)
{
    FUZZ_CHECK(rc < 0 && rc != CNET_EOF);
    FUZZ_CHECK(strcmp(cnet_err_name(rc), "UNKNOWN") != 0);
    const cnet__tls_error_t *err = cnet__tls_engine_error(c->e);
    FUZZ_CHECK(rc == CNET_ENOMEM || (err != NULL && err->code == rc && err->message != NULL));
    FUZZ_CHECK(!cnet__tls_engine_is_established(c->e));
    if (c->fail_code)
        FUZZ_CHECK(rc == c->fail_code); /* a failure sticks */
    c->fail_code = rc;
}

/* What the engine produced: hashed, kept for the peer (mitm), bounded. */
static void fz_cnet_collect(fz_cnet_t *c, bool failed_before)
{
    const char *p;
    size_t n = cnet__tls_engine_peek(c->e, &p);

    if (failed_before)
        FUZZ_CHECK(n == 0); /* nothing is sent after a fatal error (its alert came with it) */
    /* Handshake flights and alerts are a few KiB; writes add their records. */
    FUZZ_CHECK(n <= 65536 + c->pending_limit);
    for (size_t i = 0; i < n; i++)
        c->out_hash = (c->out_hash ^ (unsigned char)p[i]) * 0x100000001B3ull;
    if (c->keep_out)
        fz_buf_add(&c->out, p, n);
    cnet__tls_engine_consume(c->e, n);
    FUZZ_CHECK(cnet__tls_engine_pending(c->e) == 0);
    c->pending_limit = 0;
}

static void fz_cnet_events(fz_cnet_t *c)
{
    unsigned ev = cnet__tls_engine_events(c->e);
    if (ev & CNET__TLS_EV_SECURE) {
        c->secure_count++;
        FUZZ_CHECK(c->secure_count == 1);
    }
    if (ev & CNET__TLS_EV_SESSION) {
        FUZZ_CHECK(!fz.is_server);
        for (;;) {
            unsigned char *der;
            size_t len;
            FUZZ_CHECK(cnet__tls_engine_take_session(c->e, &der, &len) == 0);
            if (!der)
                break;
            FUZZ_CHECK(len > 0);
            cnet__free(c->session);
            c->session = der;
            c->session_len = len;
        }
    }
}

/* The socket's pump: plaintext out until the engine wants input, the end, or a failure. */
static void fz_cnet_pump(fz_cnet_t *c)
{
    unsigned char buf[16384];
    bool failed_before = c->fail_code != 0;
    size_t cap = c->read_cap < sizeof buf ? c->read_cap : sizeof buf;

    fz_rng_cur = &fz_rng_cnet;
    for (int rounds = 0;; rounds++) {
        size_t n = 0;
        int rc = cnet__tls_engine_read(c->e, buf, cap, &n);
        FUZZ_CHECK(ERR_peek_error() == 0);
        FUZZ_CHECK(n <= cap);
        fz_cnet_events(c);
        if (rc == 0) {
            FUZZ_CHECK(n > 0);
            FUZZ_CHECK(cnet__tls_engine_is_established(c->e) && !c->eof && !c->fail_code);
            if (c->check_plain)
                for (size_t i = 0; i < n && c->received + i < FZ_PLAIN_CAP; i++)
                    FUZZ_CHECK(buf[i] == fz_pattern(c->received + i, 1));
            c->received += n;
            FUZZ_CHECK(rounds < 100000);
            continue;
        }
        FUZZ_CHECK(n == 0);
        if (rc == CNET_EOF) {
            FUZZ_CHECK(!c->fail_code);
            c->eof = true;
        } else if (rc == CNET__TLS_WANT_INPUT) {
            FUZZ_CHECK(!c->eof && !c->fail_code);
            /* Whole records are taken as they come: less than one waits. */
            FUZZ_CHECK(BIO_ctrl_pending(SSL_get_rbio(cnet__tls_engine_ssl(c->e))) < FZ_MAX_RECORD);
        } else {
            FUZZ_CHECK(rc != CNET__TLS_PAUSED); /* only an SNI hook that defers pauses */
            fz_check_failure(c, rc);
        }
        break;
    }
    fz_cnet_collect(c, failed_before);
}

/* The peer's bytes arrive: fed (or lent, as the socket lends libuv's buffer) and pumped. */
static void fz_cnet_feed(fz_cnet_t *c, const unsigned char *p, size_t n)
{
    fz_rng_cur = &fz_rng_cnet;
    if (c->flags & FZ_F_LENT) {
        FUZZ_CHECK(cnet__tls_engine_feed_lent(c->e, p, n) == 0);
        fz_cnet_pump(c);
        FUZZ_CHECK(cnet__tls_engine_settle(c->e) == 0);
    } else {
        FUZZ_CHECK(cnet__tls_engine_feed(c->e, p, n) == 0);
        fz_cnet_pump(c);
    }
}

static void fz_cnet_write(fz_cnet_t *c, size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    bool failed_before = c->fail_code != 0;
    FUZZ_CHECK(p != NULL);
    for (size_t i = 0; i < len; i++)
        p[i] = fz_pattern(c->written + i, 0);
    fz_rng_cur = &fz_rng_cnet;
    int rc = cnet__tls_engine_write(c->e, p, len);
    free(p);
    FUZZ_CHECK(ERR_peek_error() == 0);
    if (c->fail_code || c->shut)
        FUZZ_CHECK(rc == CNET_EPIPE);
    else if (!cnet__tls_engine_is_established(c->e))
        FUZZ_CHECK(rc == CNET_ERR_TLS_INVALID_STATE);
    else if (rc != 0)
        fz_check_failure(c, rc);
    if (rc == 0) {
        c->written += len;
        c->pending_limit = len + (len / 16384 + 1) * 64;
    }
    fz_cnet_collect(c, failed_before);
}

static void fz_cnet_shutdown(fz_cnet_t *c)
{
    bool failed_before = c->fail_code != 0;
    bool was_established = cnet__tls_engine_is_established(c->e);
    fz_rng_cur = &fz_rng_cnet;
    int rc = cnet__tls_engine_shutdown(c->e);
    FUZZ_CHECK(ERR_peek_error() == 0);
    if (c->shut)
        FUZZ_CHECK(rc == 0); /* idempotent */
    else if (c->fail_code)
        FUZZ_CHECK(rc == CNET_EPIPE);
    else if (!was_established)
        FUZZ_CHECK(rc == CNET_ERR_TLS_INVALID_STATE);
    else if (rc != 0)
        fz_check_failure(c, rc);
    if (rc == 0)
        c->shut = true;
    fz_cnet_collect(c, failed_before);
}

static void fz_cnet_tune(fz_cnet_t *c, unsigned arg)
{
    if (arg % 2 == 0) {
        cnet__tls_engine_trim(c->e);
    } else {
        c->read_cap = arg + 1;
        fz_cnet_pump(c);
    }
}

/* A new connection: the client speaks first (its ClientHello goes out now). */
static void fz_cnet_start(fz_cnet_t *c, unsigned flags)
{
    fz_cnet_open(c, flags);
    if (!fz.is_server) {
        fz_rng_cur = &fz_rng_cnet;
        FUZZ_CHECK(cnet__tls_engine_handshake(c->e) == CNET__TLS_WANT_INPUT);
        FUZZ_CHECK(ERR_peek_error() == 0);
        FUZZ_CHECK(cnet__tls_engine_pending(c->e) > 0);
        fz_cnet_collect(c, false);
    }
}

static void fz_cnet_reset_input(fz_cnet_t *c)
{
    memset(c, 0, sizeof *c);
    fz_rng_cnet.s = 0xC4E7;
    fz_rng_peer.s = 0x9EE4;
    for (int i = 0; i < 4; i++)
        SSL_CTX_flush_sessions(fz.ctx[i]->ssl_ctx, 0); /* no state from earlier inputs */
}

static void fz_cnet_end(fz_cnet_t *c)
{
    if (c->e)
        fz_cnet_close(c);
    cnet__free(c->session);
    c->session = NULL;
    fz_buf_free(&c->out);
}

/* ---- the raw mode: the input is the peer ---------------------------------------- */

/* A recorder of the operations done on the engine, as a raw-mode input. */
static fz_buf_t *fz_rec;

static void fz_rec_op(unsigned op, const unsigned char *arg, size_t n)
{
    unsigned char b = (unsigned char)op;
    if (!fz_rec)
        return;
    fz_buf_add(fz_rec, &b, 1);
    if (op == OP_FEED) {
        unsigned char len[2] = {(unsigned char)(n >> 8), (unsigned char)n};
        FUZZ_CHECK(n <= 0x7fff);
        fz_buf_add(fz_rec, len, 2);
    }
    fz_buf_add(fz_rec, arg, n);
}

static void fz_run_raw(const uint8_t *data, size_t size, fz_cnet_t *c)
{
    size_t i = 1;
    fz_cnet_start(c, data[0]);
    while (i < size) {
        unsigned op = data[i++];
        switch (op) {
        case OP_WRITE:
            if (i < size)
                fz_cnet_write(c, (size_t)data[i++] * 64 + 1);
            break;
        case OP_SHUTDOWN:
            fz_cnet_shutdown(c);
            break;
        case OP_NEWCONN:
            if (++c->connections > FZ_MAX_CONNECTIONS)
                break;
            fz_cnet_close(c);
            fz_cnet_start(c, data[0]);
            break;
        case OP_TUNE:
            if (i < size)
                fz_cnet_tune(c, data[i++]);
            break;
        default: { /* OP_FEED, and any other byte */
            size_t n = 0;
            if (i + 2 <= size)
                n = (((size_t)data[i] << 8) | data[i + 1]) & 0x7fff;
            i = i + 2 <= size ? i + 2 : size;
            if (n > size - i)
                n = size - i;
            fz_cnet_feed(c, data + i, n);
            i += n;
        }
        }
    }
}

/* ---- the mitm mode: a real peer, the records in flight fuzzed ------------------ */

typedef struct fz_peer {
    SSL *ssl;
    BIO *in, *out;
    SSL_SESSION *session;
    bool failed, eof, shut;
    uint64_t received, written;
    fz_buf_t q; /* ciphertext on its way to the engine */
} fz_peer_t;

static void fz_peer_open(fz_peer_t *p, unsigned flags)
{
    fz_rng_cur = &fz_rng_peer;
    p->ssl = SSL_new(fz.peer[(flags & FZ_F_PEERCERT) ? 1 : 0]);
    p->in = BIO_new(BIO_s_mem());
    p->out = BIO_new(BIO_s_mem());
    FUZZ_CHECK(p->ssl && p->in && p->out);
    BIO_set_mem_eof_return(p->in, -1);
    SSL_set_bio(p->ssl, p->in, p->out);
    if (flags & FZ_F_PEER12)
        SSL_set_max_proto_version(p->ssl, TLS1_2_VERSION);
    if (fz.is_server) {
        SSL_set_connect_state(p->ssl);
        const char *name = (flags & FZ_F_HOOKS) ? "sni.example.com" : "localhost";
        SSL_set_tlsext_host_name(p->ssl, name); /* a macro: its argument unparenthesised */
        if (flags & FZ_F_PEERALPN)
            SSL_set_alpn_protos(p->ssl, (const unsigned char *)"\x02h2\x08http/1.1", 12);
        if (p->session)
            SSL_set_session(p->ssl, p->session);
    } else {
        SSL_set_accept_state(p->ssl);
    }
    p->failed = p->eof = p->shut = false;
    p->received = p->written = 0;
    ERR_clear_error();
}

static void fz_peer_close(fz_peer_t *p)
{
    fz_rng_cur = &fz_rng_peer;
    /* Freed without close_notify, OpenSSL marks the session not resumable: the peer's
     * next connection (OP resumed connection) should still resume it. */
    SSL_set_shutdown(p->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(p->ssl);
    p->ssl = NULL;
    fz_buf_free(&p->q);
    ERR_clear_error();
}

/* The peer reads what it can and queues what it writes. */
static void fz_peer_drive(fz_peer_t *p, bool check)
{
    unsigned char buf[16384];
    fz_rng_cur = &fz_rng_peer;
    while (!p->failed && !p->eof) {
        int n = SSL_read(p->ssl, buf, sizeof buf);
        if (n > 0) {
            if (check)
                for (int i = 0; i < n && p->received + (uint64_t)i < FZ_PLAIN_CAP; i++)
                    FUZZ_CHECK(buf[i] == fz_pattern(p->received + (uint64_t)i, 0));
            p->received += (uint64_t)n;
            continue;
        }
        int err = SSL_get_error(p->ssl, n);
        if (err == SSL_ERROR_ZERO_RETURN)
            p->eof = true;
        else if (err != SSL_ERROR_WANT_READ)
            p->failed = true;
        break;
    }
    ERR_clear_error();
    if (fz.is_server && SSL_is_init_finished(p->ssl)) {
        SSL_SESSION *s = SSL_get1_session(p->ssl);
        if (s && SSL_SESSION_is_resumable(s)) {
            SSL_SESSION_free(p->session);
            p->session = s;
        } else {
            SSL_SESSION_free(s);
        }
    }
    char *d;
    long n = BIO_get_mem_data(p->out, &d);
    if (n > 0) {
        fz_buf_add(&p->q, d, (size_t)n);
        (void)BIO_reset(p->out);
    }
}

static void fz_peer_write(fz_peer_t *p, size_t len)
{
    if (p->failed || p->shut || !SSL_is_init_finished(p->ssl))
        return;
    unsigned char *b = malloc(len);
    FUZZ_CHECK(b != NULL);
    for (size_t i = 0; i < len; i++)
        b[i] = fz_pattern(p->written + i, 1);
    fz_rng_cur = &fz_rng_peer;
    if (SSL_write(p->ssl, b, (int)len) == (int)len)
        p->written += len;
    else
        p->failed = true;
    free(b);
    ERR_clear_error();
    fz_peer_drive(p, true); /* its records join the queue */
}

/* The length of the record at the head of @p q (all of it when it is shorter). */
static size_t fz_record_len(const fz_buf_t *q)
{
    if (q->len < 5)
        return q->len;
    size_t n = 5 + (((size_t)q->p[3] << 8) | q->p[4]);
    return n < q->len ? n : q->len;
}

typedef struct fz_mitm {
    fz_cnet_t *c;
    fz_peer_t *p;
    const uint8_t *data;
    size_t size, i;
    bool disturbed;
} fz_mitm_t;

static unsigned fz_arg(fz_mitm_t *m)
{
    return m->i < m->size ? m->data[m->i++] : 0;
}

static void fz_to_cnet(fz_mitm_t *m, const unsigned char *b, size_t n)
{
    while (n) { /* a feed op holds at most 0x7fff bytes */
        size_t k = n < 0x7fff ? n : 0x7fff;
        fz_rec_op(OP_FEED, b, k);
        fz_cnet_feed(m->c, b, k);
        b += k;
        n -= k;
    }
}

static void fz_to_peer(fz_mitm_t *m, const unsigned char *b, size_t n)
{
    if (n) {
        BIO_write(m->p->in, b, (int)n);
        fz_peer_drive(m->p, true);
    }
}

/* Moves the next record of one direction, mutated by @p how (0: as it is). */
static void fz_move(fz_mitm_t *m, bool to_cnet, unsigned how)
{
    fz_buf_t *q = to_cnet ? &m->p->q : &m->c->out;
    void (*deliver)(fz_mitm_t *, const unsigned char *, size_t) = to_cnet ? fz_to_cnet : fz_to_peer;
    size_t n = fz_record_len(q);
    unsigned char tmp[FZ_MAX_RECORD + 512];

    if (n == 0)
        return;
    if (how)
        m->disturbed = true;
    if (n > sizeof tmp - 256)
        n = sizeof tmp - 256;
    memcpy(tmp, q->p, n);
    switch (how) {
    case 0: /* pass */
        fz_buf_drop(q, n);
        deliver(m, tmp, n);
        break;
    case 1: /* drop */
        fz_buf_drop(q, n);
        break;
    case 2: /* duplicate */
        fz_buf_drop(q, n);
        deliver(m, tmp, n);
        deliver(m, tmp, n);
        break;
    case 3: { /* split: the first k bytes now, the rest stays at the head */
        size_t k = fz_arg(m) % n;
        fz_buf_drop(q, k);
        deliver(m, tmp, k);
        break;
    }
    case 4: { /* flip a byte */
        size_t at = ((fz_arg(m) << 8) | fz_arg(m)) % n;
        tmp[at] ^= (unsigned char)(fz_arg(m) | 1);
        fz_buf_drop(q, n);
        deliver(m, tmp, n);
        break;
    }
    case 5: { /* truncate: the rest is lost */
        size_t k = fz_arg(m) % n;
        fz_buf_drop(q, n);
        deliver(m, tmp, k);
        break;
    }
    case 6: { /* inject bytes from the input before it */
        size_t k = fz_arg(m);
        if (k > m->size - m->i)
            k = m->size - m->i;
        deliver(m, m->data + m->i, k);
        m->i += k;
        break;
    }
    default: { /* swap with the next record */
        fz_buf_drop(q, n);
        size_t n2 = fz_record_len(q);
        if (n2 && n2 <= sizeof tmp - n) {
            unsigned char *second = tmp + n;
            memcpy(second, q->p, n2);
            fz_buf_drop(q, n2);
            deliver(m, second, n2);
        }
        deliver(m, tmp, n);
    }
    }
}

static bool fz_move_all(fz_mitm_t *m)
{
    bool moved = false;
    for (int rounds = 0; rounds < 1000 && (m->p->q.len || m->c->out.len); rounds++) {
        if (m->p->q.len)
            fz_move(m, true, 0);
        if (m->c->out.len)
            fz_move(m, false, 0);
        moved = true;
    }
    return moved;
}

static void fz_new_connection(fz_mitm_t *m)
{
    fz_rec_op(OP_NEWCONN, NULL, 0);
    fz_cnet_close(m->c);
    fz_peer_close(m->p);
    m->c->out.len = 0;
    fz_peer_open(m->p, m->c->flags);
    fz_cnet_start(m->c, m->c->flags);
    fz_peer_drive(m->p, true);
    m->disturbed = false;
}

static void fz_action(fz_mitm_t *m, unsigned what)
{
    fz_peer_t *p = m->p;
    switch (what % 10) {
    case 0: { /* the engine writes */
        unsigned char n = (unsigned char)fz_arg(m);
        fz_rec_op(OP_WRITE, &n, 1);
        fz_cnet_write(m->c, (size_t)n * 64 + 1);
        break;
    }
    case 1: /* the peer writes */
        fz_peer_write(p, (size_t)fz_arg(m) * 64 + 1);
        break;
    case 2:
        fz_rec_op(OP_SHUTDOWN, NULL, 0);
        fz_cnet_shutdown(m->c);
        break;
    case 3: /* the peer's close_notify */
        fz_rng_cur = &fz_rng_peer;
        if (!p->failed && !p->shut && SSL_is_init_finished(p->ssl) && SSL_shutdown(p->ssl) >= 0)
            p->shut = true;
        ERR_clear_error();
        fz_peer_drive(p, true);
        break;
    case 4: /* TLS 1.3 key update, asking the engine to update too */
        fz_rng_cur = &fz_rng_peer;
        if (!p->failed && !p->shut && SSL_is_init_finished(p->ssl) &&
            SSL_version(p->ssl) == TLS1_3_VERSION &&
            SSL_key_update(p->ssl, SSL_KEY_UPDATE_REQUESTED))
            SSL_do_handshake(p->ssl);
        ERR_clear_error();
        fz_peer_drive(p, true);
        break;
    case 5: /* TLS 1.2 renegotiation: the engine refuses it */
        fz_rng_cur = &fz_rng_peer;
        if (!p->failed && !p->shut && SSL_is_init_finished(p->ssl) &&
            SSL_version(p->ssl) == TLS1_2_VERSION && SSL_renegotiate(p->ssl)) {
            SSL_do_handshake(p->ssl);
            m->disturbed = true;
        }
        ERR_clear_error();
        fz_peer_drive(p, true);
        break;
    case 6:
        if (++m->c->connections <= FZ_MAX_CONNECTIONS)
            fz_new_connection(m);
        break;
    case 7: {
        unsigned char a = (unsigned char)fz_arg(m);
        fz_rec_op(OP_TUNE, &a, 1);
        fz_cnet_tune(m->c, a);
        break;
    }
    default:
        fz_move_all(m);
    }
}

/* After the input: data both ways, close_notify both ways, everything delivered. */
static void fz_autopilot(fz_mitm_t *m)
{
    unsigned char n = 15; /* 961 bytes each way */

    fz_move_all(m);
    fz_rec_op(OP_WRITE, &n, 1);
    fz_cnet_write(m->c, (size_t)n * 64 + 1);
    fz_peer_write(m->p, (size_t)n * 64 + 1);
    fz_move_all(m);
    fz_rec_op(OP_SHUTDOWN, NULL, 0);
    fz_cnet_shutdown(m->c);
    fz_action(m, 3);
    fz_move_all(m);
}

/* A configuration in which an undisturbed connection must succeed: all but a server that
 * requires a certificate from a peer without one. */
static bool fz_expect_success(unsigned flags)
{
    return !(fz.is_server && (flags & FZ_F_VARIANT) == 1 && !(flags & FZ_F_PEERCERT));
}

static void fz_run_mitm(const uint8_t *data, size_t size, fz_cnet_t *c)
{
    fz_peer_t p = {0};
    fz_mitm_t m = {c, &p, data, size, 1, false};

    c->keep_out = true;
    c->check_plain = true;
    fz_peer_open(&p, data[0]);
    fz_cnet_start(c, data[0]);
    fz_peer_drive(&p, true);
    for (int steps = 0; m.i < m.size && steps < 4096; steps++) {
        unsigned op = m.data[m.i++];
        if (op < 0x40)
            fz_move(&m, false, op & 7);
        else if (op < 0x80)
            fz_move(&m, true, op & 7);
        else
            fz_action(&m, op & 0x3f);
    }
    fz_autopilot(&m);
    /* Undisturbed, everything arrives: both connected, every byte, both closed. */
    if (!m.disturbed && fz_expect_success(c->flags)) {
        FUZZ_CHECK(cnet__tls_engine_is_established(c->e) && c->fail_code == 0);
        FUZZ_CHECK(SSL_is_init_finished(p.ssl) && !p.failed);
        FUZZ_CHECK(c->received == p.written);
        FUZZ_CHECK(p.received == c->written);
        FUZZ_CHECK(c->eof && p.eof);
    }
    fz_peer_close(&p);
    SSL_SESSION_free(p.session);
}

/* ---- the entry point and the seed recorder ------------------------------------- */

static void fz_run(const uint8_t *data, size_t size)
{
    fz_cnet_t c;
    if (size == 0)
        return;
    fz_cnet_reset_input(&c);
    if (data[0] & FZ_F_MITM)
        fz_run_mitm(data, size, &c);
    else
        fz_run_raw(data, size, &c);
    if (getenv("FZ_DEBUG"))
        fprintf(stderr, "%s: %s, %s, received %llu, eof %d, reused %d, fail %s\n",
                data[0] & FZ_F_MITM ? "mitm" : "raw", fz.is_server ? "server" : "client",
                cnet__tls_engine_protocol(c.e) ? cnet__tls_engine_protocol(c.e) : "-",
                (unsigned long long)c.received, c.eof, cnet__tls_engine_session_reused(c.e),
                c.fail_code ? cnet_err_name(c.fail_code) : "-");
    fz_cnet_end(&c);
    ERR_clear_error();
}

/*
 * Once at start: the fixtures, then one connection of each kind, which makes OpenSSL's
 * lazy one-time work (that draws random bytes on first use) happen before any input,
 * so that every input, the first one too, takes the same path each time.
 */
static void fz_init(bool is_server)
{
    fz_setup(is_server);
    for (unsigned f = 0; f < 0x80; f++) {
        uint8_t in = (uint8_t)(f | FZ_F_MITM);
        fz_run(&in, 1);
    }
    fz_rng_cur = &fz_rng_init;
}

/* Where a connection ended up (not its ciphertext, which holds the time in tickets). */
static uint64_t fz_outcome(const fz_cnet_t *c)
{
    uint64_t h = c->received * 31 + c->written;
    h = h * 31 + (uint64_t)(c->fail_code + 1000);
    h = h * 31 + (c->eof ? 1 : 0) + (c->shut ? 2 : 0) + (uint64_t)c->secure_count * 4;
    h = h * 31 + (cnet__tls_engine_is_established(c->e) ? 1 : 0);
    return h * 31 + (cnet__tls_engine_session_reused(c->e) ? 1 : 0);
}

/* A scenario recorded as seeds: the mitm input, and what the engine saw as a raw input. */
typedef struct fz_scenario {
    const char *name;
    unsigned flags;
    const char *ops; /* mitm operations, as C string bytes (may hold \0 only at the end) */
    size_t ops_len;
} fz_scenario_t;

static void fz_write_seed(const char *dir, const char *name, const fz_buf_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(b->p, 1, b->len, f) == b->len);
    FUZZ_CHECK(fclose(f) == 0);
}

/*
 * CNET_FUZZ_TLS_RECORD=<dir>: runs each scenario with a real peer, writes
 * <dir>/mitm-<name> (the mitm input) and <dir>/<name> (the peer's bytes as
 * the engine received them, a raw input), checks that the raw input replays
 * to the same end (bytes received, failure, close_notify, resumption), and exits.
 */
static void fz_record_seeds(const char *dir, const fz_scenario_t *list, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        const fz_scenario_t *s = &list[k];
        fz_buf_t mitm = {0}, raw = {0};
        unsigned char f = (unsigned char)(s->flags | FZ_F_MITM);
        fz_cnet_t c;
        uint64_t h1, h2;

        fz_buf_add(&mitm, &f, 1);
        fz_buf_add(&mitm, s->ops, s->ops_len);
        f = (unsigned char)(s->flags & ~FZ_F_MITM & (FZ_F_VARIANT | FZ_F_HOOKS | FZ_F_LENT));
        fz_buf_add(&raw, &f, 1);
        fz_rec = &raw;
        fz_cnet_reset_input(&c);
        fz_run_mitm(mitm.p, mitm.len, &c);
        h1 = fz_outcome(&c);
        fz_cnet_end(&c);
        fz_rec = NULL;

        fz_cnet_reset_input(&c);
        fz_run_raw(raw.p, raw.len, &c);
        h2 = fz_outcome(&c);
        fz_cnet_end(&c);
        char name[256];
        snprintf(name, sizeof name, "mitm-%s", s->name);
        fz_write_seed(dir, name, &mitm);
        fz_write_seed(dir, s->name, &raw);
        printf("%-24s raw %5zu bytes, replayed %s\n", s->name, raw.len,
               h1 == h2 ? "to the same end" : "DIFFERENTLY");
        FUZZ_CHECK(h1 == h2);
        fz_buf_free(&mitm);
        fz_buf_free(&raw);
    }
    exit(0);
}

#define FZ_SCENARIO(name, flags, ops)    \
    {                                    \
        name, flags, ops, sizeof ops - 1 \
    }

/* libFuzzer's entry points for the engine's role and the target's seed scenarios. */
#define FZ_TARGET(is_server, scenarios)                                              \
    int LLVMFuzzerInitialize(int *argc, char ***argv);                               \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                    \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                \
    {                                                                                \
        (void)argc;                                                                  \
        (void)argv;                                                                  \
        fz_init(is_server);                                                          \
        const char *dir = getenv("CNET_FUZZ_TLS_RECORD");                            \
        if (dir)                                                                     \
            fz_record_seeds(dir, scenarios, sizeof scenarios / sizeof scenarios[0]); \
        return 0;                                                                    \
    }                                                                                \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                     \
    {                                                                                \
        fz_run(data, size);                                                          \
        return 0;                                                                    \
    }

#endif
