/*
 * Two TLS engines (src/tls/engine.c) wired to each other in memory: what
 * one produces is fed to the other in pieces of at most `chunk` bytes, and
 * both are driven until neither makes progress. White-box: tests that use it
 * include src/tls/tls.h.
 */
#ifndef CNET_TEST_TLS_PAIR_H
#define CNET_TEST_TLS_PAIR_H

#include "harness.h"
#include "tls/tls.h"

#include <openssl/err.h>

typedef struct tls_side {
    cnet__tls_engine_t *e;
    char *data; /* plaintext received */
    size_t len, cap;
    int status;      /* the last non-zero result of read(): WANT_INPUT, PAUSED, EOF, an error */
    unsigned events; /* every CNET__TLS_EV_* seen */
    int secure_count, session_count;
    /* Large transfers: check what arrives against a generator instead of keeping it. */
    int (*sink)(struct tls_side *side, const char *buf, size_t n);
    uint64_t sunk;
} tls_side_t;

typedef struct tls_pair {
    tls_side_t c, s;
    size_t chunk;     /* bytes moved per feed; 0: 16 KiB */
    size_t read_size; /* plaintext buffer per read(); 0: 16 KiB */
} tls_pair_t;

static inline void tls_side_keep(tls_side_t *side, const char *buf, size_t n)
{
    if (side->len + n + 1 > side->cap) {
        side->cap = (side->len + n + 1) * 2;
        side->data = realloc(side->data, side->cap);
        ASSERT(side->data != NULL);
    }
    memcpy(side->data + side->len, buf, n);
    side->len += n;
    side->data[side->len] = '\0';
}

static inline void tls_side_events(tls_side_t *side)
{
    unsigned ev = cnet__tls_engine_events(side->e);
    side->events |= ev;
    if (ev & CNET__TLS_EV_SECURE)
        side->secure_count++;
    if (ev & CNET__TLS_EV_SESSION) {
        unsigned char *der;
        size_t len;
        for (;;) {
            ASSERT_OK(cnet__tls_engine_take_session(side->e, &der, &len));
            if (!der)
                break;
            ASSERT(len > 0);
            side->session_count++;
            cnet__free(der);
        }
    }
}

/* Reads everything @p side can decrypt now; true if anything happened. */
static inline bool tls_side_drive(tls_pair_t *p, tls_side_t *side)
{
    char buf[16384];
    size_t cap = p->read_size && p->read_size < sizeof buf ? p->read_size : sizeof buf;
    bool progress = false;
    for (;;) {
        size_t n = 0;
        int rc = cnet__tls_engine_read(side->e, buf, cap, &n);
        ASSERT_EQ(0, ERR_peek_error()); /* every call leaves the queue empty */
        tls_side_events(side);
        if (rc == 0 && n > 0) {
            if (side->sink)
                ASSERT_OK(side->sink(side, buf, n));
            else
                tls_side_keep(side, buf, n);
            progress = true;
            continue;
        }
        if (rc != side->status)
            progress = true;
        side->status = rc;
        return progress;
    }
}

/* Moves what @p from produced to @p to, chunk by chunk. */
static inline bool tls_move(tls_pair_t *p, tls_side_t *from, tls_side_t *to)
{
    char buf[65536];
    size_t chunk = p->chunk && p->chunk < sizeof buf ? p->chunk : 16384;
    bool progress = false;
    while (cnet__tls_engine_pending(from->e) > 0) {
        size_t n = cnet__tls_engine_pull(from->e, buf, chunk);
        ASSERT(n > 0);
        ASSERT_OK(cnet__tls_engine_feed(to->e, buf, n));
        progress = true;
        /* The receiver decrypts as it goes, as a socket would after each read. */
        tls_side_drive(p, to);
    }
    return progress;
}

/* Drives both engines until nothing moves. */
static inline void tls_pump(tls_pair_t *p)
{
    for (int rounds = 0; rounds < 1000000; rounds++) {
        bool progress = false;
        progress |= tls_side_drive(p, &p->c);
        progress |= tls_move(p, &p->c, &p->s);
        progress |= tls_side_drive(p, &p->s);
        progress |= tls_move(p, &p->s, &p->c);
        if (!progress)
            return;
    }
    TEST_FAIL_("tls_pump: no end");
}

/* A client and a server engine on the given contexts. */
static inline void tls_pair_open(tls_pair_t *p, cnet_tls_context_t *cctx,
                                 const cnet__tls_engine_opts_t *copts, cnet_tls_context_t *sctx,
                                 const cnet__tls_engine_opts_t *sopts)
{
    cnet__tls_engine_opts_t co = {0}, so = {0};
    if (copts)
        co = *copts;
    if (sopts)
        so = *sopts;
    co.is_server = false;
    so.is_server = true;
    memset(&p->c, 0, sizeof p->c);
    memset(&p->s, 0, sizeof p->s);
    ASSERT_OK(cnet__tls_engine_new(cctx, &co, &p->c.e));
    ASSERT_OK(cnet__tls_engine_new(sctx, &so, &p->s.e));
    /* The client speaks first. */
    int rc = cnet__tls_engine_handshake(p->c.e);
    ASSERT_EQ(CNET__TLS_WANT_INPUT, rc);
    ASSERT(cnet__tls_engine_pending(p->c.e) > 0); /* the ClientHello */
}

static inline void tls_pair_close(tls_pair_t *p)
{
    cnet__tls_engine_free(p->c.e);
    cnet__tls_engine_free(p->s.e);
    free(p->c.data);
    free(p->s.data);
    memset(&p->c, 0, sizeof p->c);
    memset(&p->s, 0, sizeof p->s);
    ASSERT_EQ(0, ERR_peek_error());
}

/* A context from PEM strings (any may be NULL); aborts on failure. */
static inline cnet_tls_context_t *tls_ctx(const char *key, const char *cert, const char *ca,
                                          cnet_tls_context_opts_t *extra)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx = NULL;
    char msg[256];
    if (extra)
        o = *extra;
    o.key = key;
    o.cert = cert;
    o.ca = ca;
    int rc = cnet_tls_context_new(&o, &ctx, msg, sizeof msg);
    if (rc)
        TEST_FAIL_("cnet_tls_context_new: %s: %s", cnet_err_name(rc), msg);
    return ctx;
}

#endif
