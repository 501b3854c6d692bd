/*
 * Out of memory over TLS (issue 9 item 6, issue 12 item 1): the allocation
 * N of a scenario fails, for N = 1, 2, ... until a run sees no failure, and
 * every run must end with a clean error or success: an 'error' or
 * 'tlsClientError' event, or a negative return with a code (ENOMEM or one
 * derived from OpenSSL's error queue), never a crash, a hang (a per-run
 * deadline), a lost event or a leak.
 *
 * Both allocators are counted and fail in turn: cnet's
 * (cnet_replace_allocator) and OpenSSL's, which this test binary (never the
 * library: it leaves OpenSSL's global state alone) routes through the same
 * counting allocator with CRYPTO_set_mem_functions() before any OpenSSL use.
 * Every allocation of the cnet side fails in turn; OpenSSL makes thousands
 * per handshake, so its side fails every STRIDE-th one (about 150 runs per
 * scenario, a different offset each; every one for the engine scenario; CNET_TLS_OOM_STRIDE=1 in
 * the environment tries every one, which takes minutes).
 *
 * Scenarios:
 *   context   cnet_tls_context_new() with key, certificate chain, CA and CRL
 *   full      TLS server + cnet_tls_connect() client on loopback: two writes
 *             before the handshake, getPeerCertificate(detailed) and
 *             getSession() in 'secureConnect', the echo (data both ways), the
 *             'session' events, end() (close_notify) on both sides, 'close'
 *   resume    the same, resuming a saved session
 *   mtls12    the same over TLS 1.2 with a client certificate
 *   engine    (white-box) a client engine with SNI, ALPN and a session, and
 *             a server engine, made and freed (every OpenSSL allocation)
 *
 * After each run the loop must be empty, both counters back at their
 * baseline (taken after warm-up runs, since OpenSSL keeps some global
 * state of its own until exit), and at the end ASan's leak checker agrees.
 */
#include <cnet/uv.h>
#include <execinfo.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <uv.h>

#include "tls_fixtures.h"
#include "tls_pair.h"

/* ---- the counting, failing allocator of both sides ------------------------ */

enum { SIDE_CNET, SIDE_OSSL, SIDES };

static atomic_long live[SIDES], seq[SIDES], fail_at[SIDES];
static atomic_int injected;

static int should_fail(int side)
{
    long n = atomic_fetch_add(&seq[side], 1) + 1, f = atomic_load(&fail_at[side]);
    if (f && n == f) {
        atomic_store(&injected, 1);
        return 1;
    }
    return 0;
}

static void *count_malloc(int side, size_t n)
{
    void *p = should_fail(side) ? NULL : malloc(n ? n : 1);
    if (p)
        atomic_fetch_add(&live[side], 1);
    return p;
}

static void *count_realloc(int side, void *old, size_t n)
{
    void *p;
    if (old && n == 0) {
        atomic_fetch_sub(&live[side], 1);
        free(old);
        return NULL;
    }
    if (should_fail(side))
        return NULL;
    p = realloc(old, n);
    if (p && !old)
        atomic_fetch_add(&live[side], 1);
    return p;
}

static void count_free(int side, void *p)
{
    if (p)
        atomic_fetch_sub(&live[side], 1);
    free(p);
}

static void *c_malloc(size_t n)
{
    void *p = count_malloc(SIDE_CNET, n);
    if (!p && getenv("CNET_TLS_OOM_BT")) {
        void *bt[16];
        backtrace_symbols_fd(bt, backtrace(bt, 16), 2);
    }
    return p;
}

static void *c_calloc(size_t c, size_t n)
{
    void *p = should_fail(SIDE_CNET) ? NULL : calloc(c ? c : 1, n ? n : 1);
    if (p)
        atomic_fetch_add(&live[SIDE_CNET], 1);
    return p;
}

static void *c_realloc(void *old, size_t n)
{
    return count_realloc(SIDE_CNET, old, n);
}

static void c_free(void *p)
{
    count_free(SIDE_CNET, p);
}

/*
 * CNET_TLS_OOM_TRACE=1: remember where OpenSSL made each live block, to
 * name a leaked one (a debugging aid; single-threaded use only).
 */
#define TRACE_SLOTS (1u << 20)
static struct trace {
    void *p;
    const char *file;
    int line;
    long seq;
} * trace;

static size_t trace_slot(void *p)
{
    size_t h = ((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull;
    return h & (TRACE_SLOTS - 1);
}

static void trace_add(void *p, const char *file, int line)
{
    if (!trace || !p)
        return;
    for (size_t i = trace_slot(p);; i = (i + 1) & (TRACE_SLOTS - 1))
        if (!trace[i].p || trace[i].p == (void *)1) {
            trace[i] = (struct trace){p, file, line, atomic_load(&seq[SIDE_OSSL])};
            return;
        }
}

static void trace_del(void *p)
{
    if (!trace || !p)
        return;
    for (size_t i = trace_slot(p); trace[i].p; i = (i + 1) & (TRACE_SLOTS - 1))
        if (trace[i].p == p) {
            trace[i].p = (void *)1; /* a tombstone */
            return;
        }
}

/*
 * OpenSSL's error queue keeps the text buffers of its slots for reuse
 * (err.c's err_clear_data), per thread until exit, and how many it holds
 * depends on which errors came: a cache, not a leak. Its blocks still fail
 * in turn but are not counted as live.
 */
static void *exempt[256];

static bool is_err_file(const char *file)
{
    return file && strstr(file, "crypto/err/") != NULL;
}

static bool exempt_take(void *p)
{
    for (size_t i = 0; p && i < sizeof exempt / sizeof exempt[0]; i++)
        if (exempt[i] == p) {
            exempt[i] = NULL;
            return true;
        }
    return false;
}

static void exempt_put(void *p)
{
    for (size_t i = 0; i < sizeof exempt / sizeof exempt[0]; i++)
        if (!exempt[i]) {
            exempt[i] = p;
            return;
        }
    TEST_FAIL_("too many blocks of OpenSSL's error queue");
}

static void *o_malloc(size_t n, const char *file, int line)
{
    void *p = count_malloc(SIDE_OSSL, n);
    if (!p && getenv("CNET_TLS_OOM_VERBOSE"))
        fprintf(stderr, "[%s] fails: %s:%d\n", test_phase_, file, line);
    if (!p && getenv("CNET_TLS_OOM_BT")) {
        void *bt[24];
        backtrace_symbols_fd(bt, backtrace(bt, 24), 2);
    }
    if (p && is_err_file(file)) {
        atomic_fetch_sub(&live[SIDE_OSSL], 1);
        exempt_put(p);
        return p;
    }
    trace_add(p, file, line);
    return p;
}

static void *o_realloc(void *old, size_t n, const char *file, int line)
{
    bool was_exempt = exempt_take(old);
    void *p;

    if (!old && is_err_file(file))
        return o_malloc(n, file, line);
    if (was_exempt)
        atomic_fetch_add(&live[SIDE_OSSL], 1); /* counted while it passes through */
    trace_del(old);
    p = count_realloc(SIDE_OSSL, old, n);
    if (!p && n && getenv("CNET_TLS_OOM_VERBOSE"))
        fprintf(stderr, "[%s] fails: %s:%d\n", test_phase_, file, line);
    if (!p && n && getenv("CNET_TLS_OOM_BT")) {
        void *bt[24];
        backtrace_symbols_fd(bt, backtrace(bt, 24), 2);
    }
    if (was_exempt) {
        void *kept = p ? p : (n ? old : NULL);
        if (kept) {
            atomic_fetch_sub(&live[SIDE_OSSL], 1);
            exempt_put(kept);
        }
        return p;
    }
    if (p)
        trace_add(p, file, line);
    else if (old && n)
        trace_add(old, file, line); /* a failed realloc keeps the block */
    return p;
}

static void o_free(void *p, const char *file, int line)
{
    CNET__UNUSED(file);
    CNET__UNUSED(line);
    if (exempt_take(p))
        atomic_fetch_add(&live[SIDE_OSSL], 1);
    trace_del(p);
    count_free(SIDE_OSSL, p);
}

/* Prints the blocks made since allocation @p since of the current run. */
static void trace_dump(long since)
{
    if (!trace)
        return;
    for (size_t i = 0; i < TRACE_SLOTS; i++)
        if (trace[i].p && trace[i].p != (void *)1 && trace[i].seq >= since)
            fprintf(stderr, "  live: %s:%d (allocation %ld of the run)\n", trace[i].file,
                    trace[i].line, trace[i].seq + 1);
}

/* ---- outcomes ----------------------------------------------------------------- */

static tls_pki_t pki;
static cnet_tls_context_t *server_ctx, *client_ctx, *mtls_server_ctx, *mtls_client_ctx;
static unsigned char *saved_session;
static size_t saved_session_len;
static int codes_seen[64], ncodes_seen;
static long n_enomem, n_other;

/* Every failure must carry a code of the table: ENOMEM, or one derived from OpenSSL. */
static void note_code(const char *what, int code)
{
    if (code >= 0 || !strcmp(cnet_err_name(code), "UNKNOWN"))
        TEST_FAIL_("[%s] %s: not an error code: %d (%s)", test_phase_, what, code,
                   cnet_err_name(code));
    /* A misuse code would blame the caller for what memory did. */
    if (code == CNET_ERR_INVALID_ARG_VALUE || code == CNET_ERR_INVALID_ARG_TYPE ||
        code == CNET_ERR_OUT_OF_RANGE)
        TEST_FAIL_("[%s] %s: %s out of memory", test_phase_, what, cnet_err_name(code));
    if (code == CNET_ENOMEM)
        n_enomem++;
    else
        n_other++;
    for (int i = 0; i < ncodes_seen; i++)
        if (codes_seen[i] == code)
            return;
    if (ncodes_seen < (int)(sizeof codes_seen / sizeof codes_seen[0]))
        codes_seen[ncodes_seen++] = code;
}

/* ---- the context scenario ------------------------------------------------------ */

/* Returns true when the context was built. */
static bool context_run(void)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx = NULL;
    char msg[256] = "";
    int r;

    o.key = pki.leaf_key;
    o.cert = pki.server_chain;
    o.ca = pki.ca_cert;
    o.crl = pki.crl;
    r = cnet_tls_context_new(&o, &ctx, msg, sizeof msg);
    if (r == 0) {
        ASSERT(ctx != NULL);
        cnet_tls_context_release(ctx);
        return true;
    }
    ASSERT(ctx == NULL);
    if (!msg[0])
        TEST_FAIL_("[%s] %s without a message", test_phase_, cnet_err_name(r));
    note_code("cnet_tls_context_new", r);
    return false;
}

/* ---- the engine scenario --------------------------------------------------------- */

/* A client engine (SNI, ALPN, a session to resume) and a server engine, made and freed
 * (white-box): what callbacks need (the SSL's app data) is there, or the call fails. */
static bool engine_run(void)
{
    static const char *const alpn[] = {"h2", "http/1.1", NULL};
    cnet__tls_engine_opts_t co = {0}, so = {0};
    cnet__tls_engine_t *e;
    bool ok = true;
    int rc;

    co.servername = "localhost";
    co.alpn_protocols = alpn;
    co.session = saved_session;
    co.session_len = saved_session_len;
    so.is_server = true;
    so.alpn_protocols = alpn;
    for (int i = 0; i < 2; i++) {
        rc = cnet__tls_engine_new(i ? server_ctx : client_ctx, i ? &so : &co, &e);
        ASSERT_EQ(0, ERR_peek_error());
        if (rc < 0) {
            ASSERT(e == NULL);
            note_code("cnet__tls_engine_new", rc);
            ok = false;
            continue;
        }
        if (SSL_get_app_data(cnet__tls_engine_ssl(e)) != e)
            TEST_FAIL_("[%s] an engine without its app data", test_phase_);
        cnet__tls_engine_free(e);
    }
    return ok;
}

/* ---- the socket scenario ----------------------------------------------------------- */

enum { V_FULL, V_RESUME, V_MTLS12 };

/* Every accepted write calls back exactly once, a refused one never. */
typedef struct writes {
    int accepted, called;
} writes_t;

static void write_done(cnet_socket_t *s, int status, void *arg)
{
    writes_t *w = arg;
    CNET__UNUSED(s);
    ASSERT(status <= 0);
    w->called++;
}

typedef struct run {
    writes_t writes;
    int variant;
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_socket_t *client, *accepted;
    uv_timer_t deadline;
    bool srv_close_listened, accepted_listened;
    bool hung, client_closed, client_had_error, srv_closing, srv_closed;
    bool secure, session, client_end, accepted_closed;
    int errors; /* error events, tlsClientError, negative returns */
    char echo[16];
    size_t echo_len;
} run_t;

static void run_error(run_t *r, const char *what, int code)
{
    if (getenv("CNET_TLS_OOM_VERBOSE"))
        fprintf(stderr, "[%s] %s: %s\n", test_phase_, what, cnet_err_name(code));
    note_code(what, code);
    r->errors++;
}

static void close_server(run_t *r)
{
    int rc;
    if (r->srv_closing || !r->srv)
        return;
    r->srv_closing = true;
    rc = cnet_server_close(r->srv, NULL, NULL);
    if (rc < 0) {
        run_error(r, "cnet_server_close", rc);
        cnet_server_destroy(r->srv);
    }
}

static void on_deadline(uv_timer_t *t)
{
    run_t *r = t->data;
    r->hung = true;
    if (r->client)
        cnet_socket_destroy(r->client);
    if (r->accepted)
        cnet_socket_destroy(r->accepted);
    if (r->srv)
        cnet_server_destroy(r->srv);
}

static void accepted_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    int rc;

    switch (ev->type) {
    case CNET_EVENT_DATA:
        rc = cnet_socket_write(s, ev->data.base, ev->data.len, write_done, &r->writes);
        r->writes.accepted += rc >= 0;
        if (rc < 0) {
            run_error(r, "server write", rc);
            cnet_socket_destroy(s);
        }
        break;
    case CNET_EVENT_ERROR:
        run_error(r, "server socket 'error'", ev->error->code);
        break;
    case CNET_EVENT_CLOSE:
        r->accepted_closed = true;
        break;
    default:
        break;
    }
}

static void server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    int rc;

    CNET__UNUSED(srv);
    switch (ev->type) {
    case CNET_EVENT_CONNECTION:
        if (r->accepted) {
            TEST_FAIL_("[%s] a second connection", test_phase_);
        }
        r->accepted = ev->connection;
        cnet_socket_retain(r->accepted);
        if ((rc = cnet_socket_on(ev->connection, CNET_EVENT_CLOSE, accepted_cb, r)) < 0 ||
            (r->accepted_listened = true,
             (rc = cnet_socket_on(ev->connection, CNET_EVENT_ERROR, accepted_cb, r)) < 0) ||
            (rc = cnet_socket_on(ev->connection, CNET_EVENT_DATA, accepted_cb, r)) < 0) {
            run_error(r, "server socket on", rc);
            cnet_socket_destroy(ev->connection);
        }
        break;
    case CNET_EVENT_TLS_CLIENT_ERROR:
        ASSERT(ev->error && ev->error->message && ev->error->message[0]);
        run_error(r, "tlsClientError", ev->error->code);
        break;
    case CNET_EVENT_ERROR:
        run_error(r, "server 'error'", ev->error->code);
        close_server(r);
        break;
    case CNET_EVENT_CLOSE:
        r->srv_closed = true;
        break;
    default:
        break;
    }
}

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    int rc;

    switch (ev->type) {
    case CNET_EVENT_SECURE_CONNECT: {
        const cnet_tls_cert_t *cert = NULL;
        unsigned char *sess = NULL;
        size_t len = 0;
        r->secure = true;
        rc = cnet_socket_tls_peer_certificate(s, true, &cert);
        if (rc < 0) {
            ASSERT(cert == NULL);
            run_error(r, "getPeerCertificate", rc);
        } else {
            /* A resumed client has no chain, so none (as node's getPeerCertificate()). */
            if (!cert && r->variant != V_RESUME)
                TEST_FAIL_("[%s] no peer certificate", test_phase_);
            ASSERT(!cert || cert->issuer_certificate != NULL);
            cnet_tls_cert_free(cert);
        }
        rc = cnet_socket_tls_get_session(s, &sess, &len);
        if (rc < 0)
            run_error(r, "getSession", rc);
        cnet_tls_free(sess);
        /* A failure on the server's side of the ticket makes a full handshake: fine. */
        if (r->variant == V_RESUME && !cnet_socket_tls_session_reused(s) &&
            !atomic_load(&fail_at[SIDE_CNET]) && !atomic_load(&fail_at[SIDE_OSSL]))
            TEST_FAIL_("[%s] the session was not reused", test_phase_);
        break;
    }
    case CNET_EVENT_SESSION:
        ASSERT(ev->data.len > 0);
        r->session = true;
        break;
    case CNET_EVENT_DATA:
        ASSERT(r->echo_len + ev->data.len <= 5);
        memcpy(r->echo + r->echo_len, ev->data.base, ev->data.len);
        r->echo_len += ev->data.len;
        if (r->echo_len == 5 && (rc = cnet_socket_end(s, NULL, 0, NULL, NULL)) < 0) {
            run_error(r, "client end", rc);
            cnet_socket_destroy(s);
        }
        break;
    case CNET_EVENT_END:
        r->client_end = true;
        break;
    case CNET_EVENT_ERROR:
        ASSERT(ev->error->message && ev->error->message[0]);
        if (getenv("CNET_TLS_OOM_VERBOSE"))
            fprintf(stderr, "  %s\n", ev->error->message);
        /* OpenSSL's own "malloc failure" is CNET_ENOMEM too. */
        if (strstr(ev->error->message, "malloc failure") && ev->error->code != CNET_ENOMEM)
            TEST_FAIL_("[%s] %s for \"%s\"", test_phase_, cnet_err_name(ev->error->code),
                       ev->error->message);
        run_error(r, "client 'error'", ev->error->code);
        break;
    case CNET_EVENT_CLOSE:
        r->client_closed = true;
        r->client_had_error = ev->had_error;
        close_server(r);
        break;
    default:
        break;
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
    cnet_address_t a;
    static const cnet_event_type_t evs[] = {CNET_EVENT_ERROR, CNET_EVENT_SECURE_CONNECT,
                                            CNET_EVENT_SESSION, CNET_EVENT_DATA, CNET_EVENT_END};
    int rc;

    CNET__UNUSED(ev);
    ASSERT_OK(cnet_server_address(srv, &a));
    co.port = a.port;
    co.host = "127.0.0.1";
    if (r->variant == V_RESUME) {
        to.session = saved_session;
        to.session_len = saved_session_len;
    }
    rc = cnet_tls_connect(r->loop, &co, r->variant == V_MTLS12 ? mtls_client_ctx : client_ctx, &to,
                          NULL, NULL, &r->client);
    if (rc < 0) {
        ASSERT(r->client == NULL);
        run_error(r, "cnet_tls_connect", rc);
        close_server(r);
        return;
    }
    cnet_socket_retain(r->client);
    if ((rc = cnet_socket_on(r->client, CNET_EVENT_CLOSE, client_cb, r)) < 0) {
        r->client_closed = true; /* not listened to */
        run_error(r, "client on(close)", rc);
        cnet_socket_destroy(r->client);
        close_server(r);
        return;
    }
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if ((rc = cnet_socket_on(r->client, evs[i], client_cb, r)) < 0) {
            run_error(r, "client on", rc);
            cnet_socket_destroy(r->client);
            return;
        }
    /* Two writes held until 'secure' (two once looped forever in their release). */
    rc = cnet_socket_write(r->client, "hel", 3, write_done, &r->writes);
    r->writes.accepted += rc >= 0;
    if (rc >= 0) {
        rc = cnet_socket_write(r->client, "lo", 2, write_done, &r->writes);
        r->writes.accepted += rc >= 0;
    }
    if (rc < 0) {
        run_error(r, "client write", rc);
        cnet_socket_destroy(r->client);
    }
}

/* One run; returns true when it completed (echo, sessions, both sides ended cleanly). */
static bool socket_run(int variant)
{
    static const cnet_event_type_t sevs[] = {CNET_EVENT_CLOSE, CNET_EVENT_ERROR,
                                             CNET_EVENT_CONNECTION, CNET_EVENT_TLS_CLIENT_ERROR};
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    run_t r;
    int rc;

    memset(&r, 0, sizeof r);
    r.variant = variant;
    rc = cnet_loop_new(&r.loop);
    if (rc < 0) {
        note_code("cnet_loop_new", rc);
        return false;
    }
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(r.loop), &r.deadline));
    r.deadline.data = &r;
    ASSERT_OK(
        uv_timer_start(&r.deadline, on_deadline, (uint64_t)(3000 * test_timeout_multiplier()), 0));
    uv_unref((uv_handle_t *)&r.deadline);
    so.tls = variant == V_MTLS12 ? mtls_server_ctx : server_ctx;
    rc = cnet_server_new(r.loop, &so, &r.srv);
    if (rc < 0) {
        ASSERT(r.srv == NULL);
        run_error(&r, "cnet_server_new", rc);
    } else {
        cnet_server_retain(r.srv);
        for (size_t i = 0; i < sizeof sevs / sizeof sevs[0] && rc == 0; i++)
            if ((rc = cnet_server_on(r.srv, sevs[i], server_cb, &r)) == 0 && i == 0)
                r.srv_close_listened = true;
        if (rc == 0)
            rc = cnet_server_listen(r.srv, 0, "127.0.0.1", on_listening, &r);
        if (rc < 0) {
            run_error(&r, "server on/listen", rc);
            close_server(&r);
        }
    }
    ASSERT_OK(cnet_loop_run(r.loop));
    if (r.hung)
        TEST_FAIL_("[%s] hung: client %s%s, server socket %s, server %s", test_phase_,
                   r.client ? "alive" : "none", r.client_closed ? " (closed)" : "",
                   r.accepted ? (r.accepted_closed ? "closed" : "alive") : "none",
                   r.srv_closed ? "closed" : "open");
    uv_close((uv_handle_t *)&r.deadline, NULL);
    ASSERT_OK(cnet_loop_run(r.loop));
    if (r.client && !r.client_closed)
        TEST_FAIL_("[%s] the client never emitted 'close'", test_phase_);
    if (r.accepted && r.accepted_listened && !r.accepted_closed)
        TEST_FAIL_("[%s] the server's socket never emitted 'close'", test_phase_);
    if (r.srv && !r.srv_closed && r.srv_closing && r.srv_close_listened)
        TEST_FAIL_("[%s] the server never emitted 'close'", test_phase_);
    cnet_socket_release(r.client);
    cnet_socket_release(r.accepted);
    if (r.srv)
        cnet_server_release(r.srv);
    ASSERT_OK(cnet_loop_run(r.loop));
    if (cnet_loop_alive(r.loop) != 0)
        TEST_FAIL_("[%s] %zu objects alive after the run", test_phase_, cnet_loop_alive(r.loop));
    if (r.writes.called != r.writes.accepted)
        TEST_FAIL_("[%s] %d writes accepted, %d callbacks", test_phase_, r.writes.accepted,
                   r.writes.called);
    ASSERT_OK(cnet_loop_close(r.loop));

    /* a resumed session gets no new ticket (as node: OpenSSL's renewal is turned off) */
    bool complete = r.echo_len == 5 && !memcmp(r.echo, "hello", 5) && r.secure &&
                    (r.session || variant == V_RESUME) && r.client_end && r.client_closed &&
                    !r.client_had_error && r.accepted_closed;
    if (!complete && r.errors == 0)
        TEST_FAIL_("[%s] stopped without an error: echo %zu, secure %d, session %d, end %d, "
                   "close %d (had_error %d), server socket closed %d",
                   test_phase_, r.echo_len, r.secure, r.session, r.client_end, r.client_closed,
                   r.client_had_error, r.accepted_closed);
    return complete && r.errors == 0;
}

/* ---- regression: a retained TLS socket connecting again ------------------------------ */

typedef struct revive {
    int port, closes, errors;
    bool tls_again;
} revive_t;

static void revive_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    revive_t *v = arg;
    if (ev->type == CNET_EVENT_ERROR) {
        ASSERT_ERR(CNET_ECONNREFUSED, ev->error->code);
        v->errors++;
        return;
    }
    if (++v->closes == 1) {
        /* The new life is plain; set_secure() makes it TLS again (and frees nothing twice). */
        ASSERT_OK(cnet_socket_connect(s, v->port, "127.0.0.1", NULL, NULL));
        ASSERT(!cnet_socket_is_tls(s));
        ASSERT_OK(cnet_socket_set_secure(s, client_ctx, NULL));
        v->tls_again = cnet_socket_is_tls(s);
    }
}

/* Found by test_chaos --tls: connecting a retained closed TLS socket again lost the TLS state
 * of the old life (the flag was cleared, the memory kept), and set_secure() leaked it. */
static void test_revive(void)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    long before = atomic_load(&live[SIDE_CNET]);
    revive_t v = {0};
    cnet_loop_t *loop;
    cnet_socket_t *s;

    test_set_phase("revive");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(fd >= 0);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa)); /* bound, never listening */
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    v.port = ntohs(sa.sin_port);
    ASSERT_OK(cnet_loop_new(&loop));
    co.port = v.port;
    co.host = "127.0.0.1";
    ASSERT_OK(cnet_tls_connect(loop, &co, client_ctx, NULL, NULL, NULL, &s));
    cnet_socket_retain(s);
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_ERROR, revive_cb, &v));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, revive_cb, &v));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(2, v.closes);
    ASSERT_EQ(2, v.errors);
    ASSERT(v.tls_again);
    cnet_socket_release(s);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    close(fd);
    ASSERT_EQ(before, atomic_load(&live[SIDE_CNET]));
}

/* ---- the loop ------------------------------------------------------------------ */

static const char *const scenario_names[] = {"full", "resume", "mtls12", "context", "engine"};
enum { SC_CONTEXT = 3, SC_ENGINE = 4, SC_COUNT };

static bool scenario_run(int sc)
{
    return sc == SC_CONTEXT ? context_run() : sc == SC_ENGINE ? engine_run() : socket_run(sc);
}

static long base[SIDES];

static void check_baseline(void)
{
    for (int side = 0; side < SIDES; side++)
        if (atomic_load(&live[side]) != base[side]) {
            if (side == SIDE_OSSL)
                trace_dump(0);
            TEST_FAIL_("[%s] %ld %s allocations leaked", test_phase_,
                       atomic_load(&live[side]) - base[side],
                       side == SIDE_CNET ? "cnet" : "OpenSSL");
        }
}

/* A run without failures; returns how many allocations of each side it made. */
static void clean_run(int sc, long counts[SIDES])
{
    char phase[64];
    snprintf(phase, sizeof phase, "%s clean", scenario_names[sc]);
    test_set_phase(phase);
    for (int side = 0; side < SIDES; side++)
        atomic_store(&seq[side], 0), atomic_store(&fail_at[side], 0);
    if (!scenario_run(sc))
        TEST_FAIL_("[%s] did not complete", phase);
    for (int side = 0; side < SIDES; side++)
        counts[side] = atomic_load(&seq[side]);
}

static int total_runs;

/* Fails allocation N of @p side for N = first, first + stride, ... until a run sees none. */
static void oom_loop(int sc, int side, long first, long stride)
{
    long n, runs = 0, completed = 0;
    char phase[96];

    if (getenv("CNET_TLS_OOM_N")) /* debugging: from this n on */
        first = atol(getenv("CNET_TLS_OOM_N"));
    for (n = first;; n += stride) {
        bool ok, hit;
        snprintf(phase, sizeof phase, "%s %s n=%ld", scenario_names[sc],
                 side == SIDE_CNET ? "cnet" : "openssl", n);
        test_set_phase(phase);
        for (int i = 0; i < SIDES; i++)
            atomic_store(&seq[i], 0), atomic_store(&fail_at[i], 0);
        atomic_store(&injected, 0);
        if (trace)
            memset(trace, 0, TRACE_SLOTS * sizeof *trace); /* only this run's blocks */
        atomic_store(&fail_at[side], n);
        ok = scenario_run(sc);
        atomic_store(&fail_at[side], 0);
        hit = atomic_load(&injected);
        check_baseline();
        runs++;
        completed += ok && hit;
        if (ok && hit && getenv("CNET_TLS_OOM_VERBOSE"))
            fprintf(stderr, "[%s] completed despite the failure\n", phase);
        if (!hit) {
            if (!ok)
                TEST_FAIL_("[%s] no failure injected, yet it did not complete", phase);
            break;
        }
    }
    total_runs += (int)runs;
    fprintf(stderr,
            "tls oom %-7s %-7s: %ld runs (every %ld%s allocation from %ld), %ld completed "
            "despite the failure\n",
            scenario_names[sc], side == SIDE_CNET ? "cnet" : "openssl", runs, stride,
            stride == 1 ? "st" : "th", first, completed);
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && atol(v) > 0 ? atol(v) : dflt;
}

static unsigned char *first_session;

static void save_session(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(s);
    CNET__UNUSED(arg);
    if (!first_session) {
        first_session = malloc(ev->data.len);
        memcpy(first_session, ev->data.base, ev->data.len);
        saved_session_len = ev->data.len;
    }
}

static void session_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    cnet_socket_t *c;
    CNET__UNUSED(ev);
    CNET__UNUSED(arg);
    ASSERT_OK(cnet_server_address(srv, &a));
    co.port = a.port;
    co.host = "127.0.0.1";
    ASSERT_OK(cnet_tls_connect(cnet_server_loop(srv), &co, client_ctx, NULL, NULL, NULL, &c));
    ASSERT_OK(cnet_socket_on(c, CNET_EVENT_SESSION, save_session, NULL));
    ASSERT_OK(cnet_socket_end(c, NULL, 0, NULL, NULL));
}

static void session_srv(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    CNET__UNUSED(ev);
    CNET__UNUSED(arg);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
}

/* A session of server_ctx to resume (outside the counted runs). */
static void make_session(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_loop_t *loop;
    cnet_server_t *srv;

    ASSERT_OK(cnet_loop_new(&loop));
    so.tls = server_ctx;
    ASSERT_OK(cnet_server_new(loop, &so, &srv));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CONNECTION, session_srv, NULL));
    ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", session_listening, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
    ASSERT(first_session != NULL);
    saved_session = first_session;
}

int main(int argc, char **argv)
{
    long stride = env_long("CNET_TLS_OOM_STRIDE", 0);
    const char *only = getenv("CNET_TLS_OOM_ONLY"); /* a scenario name: run only it */
    long counts[SC_COUNT][SIDES];

    CNET__UNUSED(argc);
    CNET__UNUSED(argv);
    if (getenv("CNET_TLS_OOM_TRACE"))
        trace = calloc(TRACE_SLOTS, sizeof *trace);
    /* Before anything touches OpenSSL (it refuses once it has allocated). */
    if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free)) {
        fprintf(stderr, "SKIP: CRYPTO_set_mem_functions refused (OpenSSL already allocated)\n");
        return TEST_SKIP_CODE;
    }
    ASSERT_OK(cnet_replace_allocator(c_malloc, c_realloc, c_calloc, c_free));
    test_watchdog(stride ? 3600 : 60); /* every allocation of OpenSSL: minutes */
    signal(SIGPIPE, SIG_IGN);

    tls_pki_make(&pki);
    server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, NULL, NULL);
    client_ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
    {
        cnet_tls_context_opts_t so = CNET_TLS_CONTEXT_OPTS_INIT, co = CNET_TLS_CONTEXT_OPTS_INIT;
        so.request_cert = true;
        co.max_version = CNET_TLSV1_2;
        mtls_server_ctx = tls_ctx(pki.leaf_key, pki.server_chain, pki.ca_cert, &so);
        co.key = NULL;
        mtls_client_ctx = NULL;
        {
            cnet_tls_context_opts_t o = co;
            char msg[256];
            o.key = pki.client_key;
            o.cert = pki.client_cert;
            o.ca = pki.ca_cert;
            int rc = cnet_tls_context_new(&o, &mtls_client_ctx, msg, sizeof msg);
            if (rc)
                TEST_FAIL_("client context: %s: %s", cnet_err_name(rc), msg);
        }
    }
    make_session();
    test_revive();

    /* Warm-up: OpenSSL fills its global caches (providers, algorithms, error strings). */
    for (int sc = 0; sc < SC_COUNT; sc++)
        for (int i = 0; i < 2; i++)
            clean_run(sc, counts[sc]);
    for (int side = 0; side < SIDES; side++)
        base[side] = atomic_load(&live[side]);

    for (int sc = 0; sc < SC_COUNT; sc++) {
        long s;
        if (only && strcmp(only, scenario_names[sc]) != 0)
            continue;
        clean_run(sc, counts[sc]);
        check_baseline();
        fprintf(stderr, "tls oom %-7s: %ld cnet allocations, %ld OpenSSL allocations per run\n",
                scenario_names[sc], counts[sc][SIDE_CNET], counts[sc][SIDE_OSSL]);
        oom_loop(sc, SIDE_CNET, 1, 1);
        /* About 150 runs of OpenSSL failures per scenario by default. */
        s = stride ? stride : sc == SC_ENGINE ? 1 : counts[sc][SIDE_OSSL] / 150 + 1;
        oom_loop(sc, SIDE_OSSL, s > 1 ? 1 + sc % s : 1, s);
    }
    fprintf(stderr, "tls oom: %d runs, %ld ended in ENOMEM, %ld in another code:", total_runs,
            n_enomem, n_other);
    for (int i = 0; i < ncodes_seen; i++)
        fprintf(stderr, " %s", cnet_err_name(codes_seen[i]));
    fputc('\n', stderr);

    cnet_tls_context_release(server_ctx);
    cnet_tls_context_release(client_ctx);
    cnet_tls_context_release(mtls_server_ctx);
    cnet_tls_context_release(mtls_client_ctx);
    free(saved_session);
    tls_pki_free(&pki);
    ASSERT_EQ(0, atomic_load(&live[SIDE_CNET]));
    printf("ok\n");
    return 0;
}
