/*
 * test_chaos: a seeded random-operations contract test (issue 8, item 1.4).
 *
 * Each seed opens servers and clients on loopback only (127.0.0.1, ::1,
 * "localhost" and Unix sockets in a temporary directory) on the thread's
 * default loop. Then, from inside random event callbacks (and from a 1 ms
 * pulse timer when nothing else happens), it calls the whole public API of
 * cnet.h at random: write, write_str, write_ex (STATIC, TRANSIENT, a dispose
 * function), write_enc, write_frame; end with and without data and callback;
 * destroy, destroy_with_error, reset_and_destroy; pause/resume; set_timeout;
 * set_encoding; cork/uncork; pipe/unpipe; set_framing; listen, close, listen
 * again; connect again on a retained closed socket; on/once/prepend/off/
 * off_all of listeners; retain/release; and invalid arguments of every kind.
 * After --ops operations it destroys what is left, lets the loop drain and
 * checks, per seed (the name in brackets is what a failure prints):
 *
 *   [fresh-stack]    no callback runs inside the public call that caused it
 *                    (a depth counter around every call, as CALL() in
 *                    tests/socket_recorder.h)
 *   [close-once]     'close' exactly once per socket/server life, and last:
 *                    no event after 'close' (until a retained socket connects
 *                    again, or a retained server listens again)
 *   [callbacks]      every accepted write/end callback exactly once, in write
 *                    order per socket, before 'error' and 'close'; accepted
 *                    server close / getConnections callbacks exactly once
 *   [rejected]       a call that returned < 0 never calls back
 *   [dispose]        write_ex's dispose exactly once per buffer, also when the
 *                    call is rejected (and the buffer is poisoned once
 *                    disposed, so ASan catches a later read)
 *   [arg-free]       on_ex's arg_free exactly once, and no call after it
 *   [events]         per life: at most one connect/ready/end/finish/error;
 *                    'error' iff close(true); once destroyed nothing but
 *                    'error' and 'close'; no 'data' after 'end'; 'drain'
 *                    only after a write returned 1; 'timeout', 'frame' and
 *                    'lookup' only when asked for; a server's 'close' after
 *                    the 'close' of its connections, 'listening' before
 *                    'connection', no 'connection' after close(); one
 *                    'connectionAttempt' open at a time, each closed by its
 *                    'connectionAttemptFailed' (with an error),
 *                    'connectionAttemptTimeout' (only of the blackhole below)
 *                    or 'connect', none after 'connect' (after a destroy only a
 *                    Happy Eyeballs attempt's ECANCELED failure, as node);
 *                    'drop' only with maxConnections, with its endpoints and
 *                    reason; no socket event on a server and no server or
 *                    channel event on a socket
 *   [return-codes]   the documented codes of invalid arguments and states
 *   [nothing-alive]  after the drain: cnet_loop_alive() == 0,
 *                    cnet_loop_close() == 0, and every allocation cnet made is
 *                    freed (a counting allocator)
 *
 * The operations run inside every event cnet.h defines for sockets and servers
 * (issue 12: destroy / end / close / off / on from inside each), 'message' (a
 * channel's) aside; the last line of a run counts each event, so one that never
 * came shows as 0. 'connectionAttemptTimeout' comes from Happy Eyeballs connects
 * to [127.0.0.2, 127.0.0.1] through a custom lookup, where 127.0.0.2 at the
 * server's port is a listener with a full accept queue (it never answers).
 *
 * plus ASan/UBSan/LeakSanitizer in the sanitizer build (make asan, make
 * chaos). The PRNG is splitmix64; every object has its own stream derived
 * from the seed, so a seed replays the same choices as long as the kernel
 * delivers the same events (loopback makes that the usual case). A failure
 * prints the seed, the invariant, the last operations and a one-line repro:
 *
 *   test_chaos [--seeds N] [--first S] [--ops M] [--verbose] [--tls]
 *              [--skip-known[=LIST] | --no-skip-known] [--keep-going]
 *
 *   --seeds N       seeds to run (default 50; 5 when
 *                   CNET_TEST_TIMEOUT_MULTIPLIER is set, i.e. under valgrind)
 *   --first S       first seed (default 1); seeds S .. S+N-1 run
 *   --ops M         operations per seed (default 300)
 *   --verbose       print every operation and event
 *   --tls           TLS too (built with the TLS layer): TLS servers (some with a
 *                   short handshake timeout), cnet_tls_connect() clients (to TLS
 *                   and plain servers, some not verifying), set_secure() on
 *                   any socket as either side, the TLS accessors; the ops above
 *                   then also run inside 'secure', 'secureConnect', 'session',
 *                   'keylog', 'secureConnection' and 'tlsClientError', checked:
 *                   'secure' at most once per life and only on a TLS socket,
 *                   'secureConnect' only for cnet_tls_connect() after 'connect',
 *                   'secureConnection' after the socket's 'secure',
 *                   'tlsClientError' with a code for a destroyed socket of the
 *                   server, 'connection' of a TLS server is TLS
 *   --skip-known    avoid the operation patterns of known library defects
 *                   (LIST: comma-separated names, default all of them; the
 *                   default run skips CHAOS_SKIP_KNOWN_DEFAULT below):
 *     reset-after-end    reset_and_destroy() on a socket whose writable side
 *                        has ended (issue 8's defect 1: 'close' never comes)
 *     end-after-end      end() with data or a callback on a socket the library
 *                        already ended (auto-end after the peer's FIN, or
 *                        pipe(src, dst, true)): defect 2, the callback is lost
 *     end-after-own-end  the same after an end() of ours (defect 2's code path)
 *   and the defects this test found (tolerated where they cannot be avoided; all
 *   fixed now, with regression tests in test_write, test_pipe and test_server, so
 *   the default skips none of them):
 *     write-order        tolerate a write callback that overtakes the one of
 *                        an earlier write whose bytes the kernel took at once
 *     offall-piped       no off_all('close') on a piped socket (the pipe's own
 *                        'close' listeners go, and a piped socket that closes
 *                        is never freed)
 *     listen-error-after-close  tolerate a failed listen's 'error' after the
 *                        'close' of a close() made meanwhile
 *     unix-address-uninit  no address()/remote_address() on Unix sockets, no
 *                        maxConnections on Unix servers (uninitialised read)
 *     srv-close-early    no listen() on a server in the loop iteration of its
 *                        'close' (which can come before its listening handle
 *                        has closed; listening again then aborts in libuv)
 *                   CNET_CHAOS_SKIP_KNOWN=LIST in the environment sets the
 *                   default; --no-skip-known skips nothing.
 *   --keep-going    run every seed (each in a forked child) and list the
 *                   failing ones, instead of stopping at the first
 *
 * CTest runs the defaults; CI runs `make chaos SEEDS=300` (the ASan build);
 * `make chaos SEEDS=N` runs N seeds (default 1000) under ASan+UBSan. Under
 * --keep-going, the sanitizers' reports name the seed they come from.
 */
#include "harness.h"

#include <cnet/uv.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <uv.h>

#if CHAOS_TLS /* built with the TLS layer: certificates made in memory (tls_fixtures.h) */
#include "tls_fixtures.h"
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CHAOS_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define CHAOS_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CHAOS_POISON(p, n)   ((void)(p), (void)(n))
#define CHAOS_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Called by ASan/UBSan just before they end the process (absent otherwise). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/*
 * Which known-defect patterns the default run avoids (--skip-known=LIST
 * replaces this; the names are listed at the top of this file).
 *
 * MERGE NOTE: the chaos branch starts from a library that still has defects 1
 * and 2 of issue 8, so its default avoids their patterns and the suite stays
 * green. When merging the branch that fixes them, flip this one line to ""
 * (then the default CTest run and CI cover both patterns again):
 */
#define CHAOS_SKIP_DEFECTS_1_2 ""
/* Defects this test found, reported and not fixed yet: remove each as it is fixed
 * (write-order, offall-piped, listen-error-after-close and srv-close-early are). */
#define CHAOS_SKIP_REPORTED      ""
#define CHAOS_SKIP_KNOWN_DEFAULT CHAOS_SKIP_DEFECTS_1_2 CHAOS_SKIP_REPORTED

enum {
    KNOWN_RESET_AFTER_END = 1u << 0,   /* defect 1 */
    KNOWN_END_AFTER_END = 1u << 1,     /* defect 2 */
    KNOWN_END_AFTER_OWN_END = 1u << 5, /* defect 2's code path, after our own end() */
    KNOWN_WRITE_ORDER = 1u << 2,       /* found by this test, see the list above */
    KNOWN_OFFALL_PIPED = 1u << 3,
    KNOWN_LISTEN_ERROR_AFTER_CLOSE = 1u << 4,
    KNOWN_UNIX_ADDRESS_UNINIT = 1u << 6,
    KNOWN_SRV_CLOSE_EARLY = 1u << 7,
};

static const struct {
    const char *name;
    unsigned bit;
} known_patterns[] = {
    {"reset-after-end", KNOWN_RESET_AFTER_END},
    {"end-after-end", KNOWN_END_AFTER_END},
    {"end-after-own-end", KNOWN_END_AFTER_OWN_END},
    {"write-order", KNOWN_WRITE_ORDER},
    {"offall-piped", KNOWN_OFFALL_PIPED},
    {"listen-error-after-close", KNOWN_LISTEN_ERROR_AFTER_CLOSE},
    {"unix-address-uninit", KNOWN_UNIX_ADDRESS_UNINIT},
    {"srv-close-early", KNOWN_SRV_CLOSE_EARLY},
};

#define MAX_SOCKS      256 /* socket records per seed */
#define MAX_SRVS       12  /* server records per seed */
#define MAX_LIVE_SOCKS 16  /* open sockets at a time (clients + accepted) */
#define MAX_LIVE_SRVS  3
#define POOL_SIZE      (1u << 20)
#define RING_LINES     80
#define MAX_REPORTS    8 /* violations printed per seed */

/* ---- PRNG: splitmix64 ---------------------------------------------------- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rng_below(rng_t *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

static bool rng_chance(rng_t *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

static rng_t rng_derive(uint64_t seed, uint64_t stream)
{
    rng_t r = {seed * 0x2545f4914f6cdd1dull ^ (stream + 1) * 0x9e3779b97f4a7c15ull};
    rng_next(&r);
    return r;
}

/* ---- configuration and per-seed state -------------------------------------- */

static struct {
    unsigned seeds;
    uint64_t first;
    unsigned ops;
    bool verbose;
    bool keep_going;
    unsigned skip; /* KNOWN_* bits */
    const char *argv0;
    char dir[64]; /* temporary directory for Unix sockets */
    int closed_port;
    bool tls; /* --tls: TLS servers and clients among the plain ones */
    cnet_tls_context_t *server_ctx, *client_ctx, *lax_client_ctx;
} cfg;

typedef enum { EXP_NEVER, EXP_ONCE, EXP_AT_MOST_ONCE, EXP_ANY } expect_t;

typedef struct sockrec sockrec_t;
typedef struct srvrec srvrec_t;
typedef struct token token_t;

/* One callback (or listener, or arg_free) handed to the library. */
struct token {
    unsigned id, op;
    const char *what;
    expect_t expect;
    int calls;
    bool settled; /* its result is known (the call returned) */
    bool reported;
    sockrec_t *sock; /* write/end callbacks (ordered), socket listeners */
    srvrec_t *srv;   /* server listeners and callbacks */
    int ev_type;     /* listener tokens: the event type, else -1 */
    bool once;
    token_t *fifo_next; /* write/end callbacks in write order */
    bool in_fifo;
    /* on_ex */
    bool has_free, free_expected;
    int frees;
    const char *known; /* a known-defect pattern made this callback */
    bool fast;         /* write: the kernel took every byte in the call (callback on a tick) */
};

/* Buffers handed to write_ex with a dispose function. */
typedef struct {
    char *data;
    size_t len;
    unsigned op;
    int disposes;
} dispbuf_t;

struct sockrec {
    unsigned id;
    cnet_socket_t *s;
    rng_t rng;
    bool accepted;
    srvrec_t *server; /* the accepting server (first life only) */
    bool half_open;
    bool unix_sock; /* a Unix domain socket in this life */
    bool ever_framing, ever_timeout, ever_pipe_dst, ever_piped;
    bool tls, tls_connect; /* made TLS (set_secure, a TLS server); a TLS client (cnet_tls_connect,
                            * or set_secure as the client: tls.connect({socket})) */
    int my_retains;
    bool open;     /* the current life has not emitted 'close' */
    bool in_close; /* inside our 'close' listener: still valid */
    bool freed;    /* the library has freed it (or may have) */
    int life;
    /* per life */
    bool connecting; /* connect() accepted in this life */
    bool by_name;    /* ... with a host name (lookup) */
    bool ended_by_us;
    int n_connect, n_ready, n_end, n_finish, n_error, n_close;
    int n_secure, n_secure_connect;
    int n_attempts;    /* 'connectionAttempt' events this life */
    bool eyeballs;     /* this life's connect went through hole_lookup() */
    bool attempt_open; /* a 'connectionAttempt' without its failed/timeout/connect yet */
    bool drain_due;
    int last_ev;
    int told_destroyed; /* events after destroy reported (once per life) */
    token_t *fifo_head, *fifo_tail;
    unsigned k1_op;           /* op of a reset_and_destroy after end (defect 1 pattern) */
    unsigned offall_piped_op; /* op of an off_all('close') on a piped socket */
    char hist[240];
    size_t hlen;
};

struct srvrec {
    unsigned id;
    cnet_server_t *srv;
    rng_t rng;
    bool allow_half_open;
    bool tls;       /* a TLS server (tls.createServer) */
    bool ever_path; /* has listened on a Unix path */
    bool ever_max;  /* maxConnections was set > 0: 'drop' may come */
    int my_retains;
    bool destroyed;
    bool open, in_close, freed;
    int life;
    /* per life */
    bool closing;
    int listens_ok, n_listening;
    int port;                   /* TCP port while listening, else 0 */
    char path[CNET_ADDRSTRLEN]; /* Unix path while listening, else "" */
    unsigned close_iter;        /* loop iteration of the last 'close' (srv-close-early) */
    /* 'close' events owed beyond the one that ends a life: cnet.h, server_close(): "every
     * close() made when no connection is open is followed by its own 'close' event"; "A
     * server that already emitted 'close' and is kept by a retain is closed again the same
     * way". */
    int closes_due;
    char hist[240];
    size_t hlen;
};

static struct {
    uint64_t seed;
    cnet_loop_t *loop;
    rng_t rng;
    unsigned ops_done;
    bool draining, drain_timed_out;
    bool in_run; /* inside main's cnet_loop_run() */
    unsigned pulses, pulse_ops_mark, drain_pulse;
    uv_timer_t pulse;
    uv_prepare_t prep; /* counts loop iterations */
    unsigned iter;
    const char *crash_hint; /* a known pattern in progress, for the crash message */
    sockrec_t *socks[MAX_SOCKS];
    unsigned nsocks;
    srvrec_t *srvs[MAX_SRVS];
    unsigned nsrvs;
    token_t **tokens;
    size_t ntokens, captokens;
    dispbuf_t **disp;
    size_t ndisp, capdisp;
    long null_disposes_expected, null_disposes;
    unsigned violations;
    unsigned path_seq;
    long allocs_at_start;
} C;

/* Totals over all seeds, for the summary line. */
static struct {
    unsigned long ops, accepted, rejected, events, callbacks;
    unsigned long per_event[CNET_EVENT__COUNT];
} stats;

static int depth; /* > 0 inside a public call */
static long long api_ret_;
#define API(e) (depth++, api_ret_ = (long long)(e), depth--, api_ret_)
#define VAPI(e)  \
    do {         \
        depth++; \
        e;       \
        depth--; \
    } while (0)

static unsigned char pool[POOL_SIZE]; /* bytes to write; STATIC writes point here */

/* ---- counting allocator: every allocation cnet makes is freed --------------- */

static long allocs;

static void *count_malloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        allocs++;
    return p;
}

static void *count_calloc(size_t k, size_t n)
{
    void *p = calloc(k, n);
    if (p)
        allocs++;
    return p;
}

static void *count_realloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (p && !old)
        allocs++;
    return p;
}

static void count_free(void *p)
{
    if (p)
        allocs--;
    free(p);
}

/* ---- trace ring, violations, repro ------------------------------------------ */

static char ring[RING_LINES][200];
static unsigned ring_n;
static char repro[768];
static char phase[900];

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    va_list ap;
    char *line = ring[ring_n++ % RING_LINES];

    va_start(ap, fmt);
    vsnprintf(line, sizeof ring[0], fmt, ap);
    va_end(ap);
    if (cfg.verbose)
        fprintf(stderr, "  %s\n", line);
}

static void dump_ring(void)
{
    unsigned n = ring_n < RING_LINES ? ring_n : RING_LINES;
    if (cfg.verbose)
        return;
    fprintf(stderr, "chaos: the last %u operations and events:\n", n);
    for (unsigned i = ring_n - n; i < ring_n; i++)
        fprintf(stderr, "  %s\n", ring[i % RING_LINES]);
}

static void violation(const char *inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(const char *inv, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trace("VIOLATION [%s] %s", inv, msg);
    if (++C.violations > MAX_REPORTS)
        return;
    fprintf(stderr, "chaos: seed %llu: VIOLATION [%s] %s\n", (unsigned long long)C.seed, inv, msg);
    if (C.violations == 1)
        dump_ring();
}

static void on_fatal_signal(int sig)
{
    static const char pre[] = "\nchaos: crashed; ", hint[] = "chaos: known defect pattern seen: ";
    if (write(2, pre, sizeof pre - 1) < 0 || write(2, repro, strlen(repro)) < 0 ||
        write(2, "\n", 1) < 0)
        _exit(3);
    if (C.crash_hint && (write(2, hint, sizeof hint - 1) < 0 ||
                         write(2, C.crash_hint, strlen(C.crash_hint)) < 0 || write(2, "\n", 1) < 0))
        _exit(3);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_sanitizer_death(void)
{
    fprintf(stderr, "chaos: sanitizer report in seed %llu; %s\n", (unsigned long long)C.seed,
            repro);
}

static void skip_list(char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof known_patterns / sizeof known_patterns[0]; i++)
        if (cfg.skip & known_patterns[i].bit)
            len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s", len ? "," : "",
                                    known_patterns[i].name);
}

static void set_repro(uint64_t seed)
{
    char skips[256];
    skip_list(skips, sizeof skips);
    snprintf(repro, sizeof repro, "repro: %s --first %llu --seeds 1 --ops %u %s%s --verbose",
             cfg.argv0, (unsigned long long)seed, cfg.ops, skips[0] ? "--skip-known=" : "",
             skips[0] ? skips : "--no-skip-known");
    snprintf(phase, sizeof phase, "seed %llu (%s)", (unsigned long long)seed, repro);
    test_set_phase(phase);
}

/* Every callback starts here: it must run on a fresh stack. */
static void enter_cb(const char *what)
{
    stats.callbacks++;
    if (depth != 0)
        violation("fresh-stack", "%s ran inside a public call (depth %d)", what, depth);
}

static void hist_add(char *hist, size_t *hlen, size_t cap, const char *item)
{
    size_t n = strlen(item);
    if (*hlen + n + 2 >= cap) {
        /* keep the tail: drop the first half */
        size_t cut = *hlen / 2;
        memmove(hist, hist + cut, *hlen - cut + 1);
        *hlen -= cut;
        hist[0] = '~';
    }
    if (*hlen)
        hist[(*hlen)++] = ' ';
    memcpy(hist + *hlen, item, n + 1);
    *hlen += n;
}

static void sock_hist(sockrec_t *r, const char *item)
{
    hist_add(r->hist, &r->hlen, sizeof r->hist, item);
}

static void srv_hist(srvrec_t *r, const char *item)
{
    hist_add(r->hist, &r->hlen, sizeof r->hist, item);
}

/* ---- tokens -------------------------------------------------------------------- */

static token_t *tok_new(const char *what, sockrec_t *sock, srvrec_t *srv, int ev_type)
{
    token_t *t = calloc(1, sizeof *t);

    ASSERT(t != NULL);
    if (C.ntokens == C.captokens) {
        C.captokens = C.captokens ? C.captokens * 2 : 256;
        C.tokens = realloc(C.tokens, C.captokens * sizeof *C.tokens);
        ASSERT(C.tokens != NULL);
    }
    C.tokens[C.ntokens++] = t;
    t->id = (unsigned)C.ntokens;
    t->op = C.ops_done;
    t->what = what;
    t->sock = sock;
    t->srv = srv;
    t->ev_type = ev_type;
    t->expect = EXP_ANY; /* until the call returns */
    return t;
}

/* The call that took @p t returned @p ret: accepted (>= 0) or rejected. */
static void tok_settle(token_t *t, long long ret, expect_t if_accepted)
{
    if (!t)
        return;
    t->settled = true;
    t->expect = ret >= 0 ? if_accepted : EXP_NEVER;
    if (t->has_free)
        t->free_expected = ret >= 0;
    if (ret < 0 && t->calls)
        violation("rejected", "%s (tok#%u, op %u) was called although its call returned %lld %s",
                  t->what, t->id, t->op, ret, cnet_err_name((int)ret));
}

static void fifo_push(sockrec_t *r, token_t *t)
{
    t->in_fifo = true;
    t->fifo_next = NULL;
    if (r->fifo_tail)
        r->fifo_tail->fifo_next = t;
    else
        r->fifo_head = t;
    r->fifo_tail = t;
}

static void fifo_remove(sockrec_t *r, token_t *t)
{
    token_t **pp = &r->fifo_head, *prev = NULL;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->fifo_next;
    }
    if (!*pp)
        return;
    *pp = t->fifo_next;
    if (r->fifo_tail == t)
        r->fifo_tail = prev;
    t->in_fifo = false;
}

/* Callbacks a call returned with: counted, then checked against the expectation. */
static void tok_called(token_t *t)
{
    t->calls++;
    if (t->settled && t->expect == EXP_NEVER)
        violation("rejected", "%s (tok#%u, op %u) was called although its call was rejected",
                  t->what, t->id, t->op);
    else if (t->calls > 1 && (t->once || t->expect == EXP_ONCE || t->expect == EXP_AT_MOST_ONCE))
        violation("callbacks", "%s (tok#%u, op %u) called %d times", t->what, t->id, t->op,
                  t->calls);
    if (t->has_free && t->frees)
        violation("arg-free", "listener tok#%u (op %u) called after its arg_free ran", t->id,
                  t->op);
}

/* Listeners removed by off_all (ours or a pipe's) may now never run. */
static void tok_relax(sockrec_t *sock, srvrec_t *srv, int type)
{
    for (size_t i = 0; i < C.ntokens; i++) {
        token_t *t = C.tokens[i];
        if (t->ev_type < 0 || (sock && t->sock != sock) || (srv && t->srv != srv))
            continue;
        if (type == (int)CNET_EVENT_ALL || t->ev_type == type) {
            if (t->expect == EXP_ONCE)
                t->expect = EXP_AT_MOST_ONCE;
        }
    }
}

/* ---- records ------------------------------------------------------------------- */

static bool sock_usable(const sockrec_t *r)
{
    return r && r->s && !r->freed && (r->open || r->in_close || r->my_retains > 0);
}

static bool srv_usable(const srvrec_t *r)
{
    return r && r->srv && !r->freed && (r->open || r->in_close || r->my_retains > 0);
}

static unsigned live_socks(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < C.nsocks; i++)
        n += C.socks[i]->open;
    return n;
}

static unsigned live_srvs(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < C.nsrvs; i++)
        n += C.srvs[i]->open;
    return n;
}

static void sock_new_life(sockrec_t *r)
{
    r->life++;
    r->open = true;
    r->connecting = r->by_name = r->ended_by_us = false;
    r->n_connect = r->n_ready = r->n_end = r->n_finish = r->n_error = r->n_close = 0;
    r->n_secure = r->n_secure_connect = 0;
    r->n_attempts = 0;
    r->attempt_open = r->eyeballs = false;
    r->drain_due = false;
    r->last_ev = -1;
    r->told_destroyed = 0;
    r->fifo_head = r->fifo_tail = NULL;
}

static void sock_ev(cnet_socket_t *s, const cnet_event_t *ev, void *arg);
static void srv_ev(cnet_server_t *srv, const cnet_event_t *ev, void *arg);

/*
 * Our recorder listens to every event type and is always the first listener
 * (prepended; moved to the front again after any prepend of ours and re-added
 * right after an off_all), so it sees each event before any other listener
 * of the same emit can change what it checks against.
 */
static void sock_attach(sockrec_t *r, int type)
{
    for (int t = 0; t < CNET_EVENT__COUNT; t++)
        if (type == (int)CNET_EVENT_ALL || type == t) {
            (void)API(cnet_socket_off(r->s, (cnet_event_type_t)t, sock_ev, r));
            if (API(cnet_socket_prepend(r->s, (cnet_event_type_t)t, sock_ev, r)) != 0)
                violation("return-codes", "cnet_socket_prepend(%s) failed", cnet_event_name(t));
        }
}

static void srv_attach(srvrec_t *r, int type)
{
    for (int t = 0; t < CNET_EVENT__COUNT; t++)
        if (type == (int)CNET_EVENT_ALL || type == t) {
            (void)API(cnet_server_off(r->srv, (cnet_event_type_t)t, srv_ev, r));
            if (API(cnet_server_prepend(r->srv, (cnet_event_type_t)t, srv_ev, r)) != 0)
                violation("return-codes", "cnet_server_prepend(%s) failed", cnet_event_name(t));
        }
}

static sockrec_t *sock_record(cnet_socket_t *s, bool accepted, srvrec_t *server)
{
    sockrec_t *r;

    if (C.nsocks == MAX_SOCKS)
        return NULL;
    r = calloc(1, sizeof *r);
    ASSERT(r != NULL);
    r->id = C.nsocks;
    r->s = s;
    r->rng = rng_derive(C.seed, 1000 + r->id);
    r->accepted = accepted;
    r->server = server;
    C.socks[C.nsocks++] = r;
    sock_new_life(r);
    sock_attach(r, (int)CNET_EVENT_ALL);
    return r;
}

static srvrec_t *srv_record(cnet_server_t *srv, bool allow_half_open)
{
    srvrec_t *r;

    if (C.nsrvs == MAX_SRVS)
        return NULL;
    r = calloc(1, sizeof *r);
    ASSERT(r != NULL);
    r->id = C.nsrvs;
    r->srv = srv;
    r->rng = rng_derive(C.seed, 100 + r->id);
    r->allow_half_open = allow_half_open;
    r->open = true;
    r->life = 1;
    C.srvs[C.nsrvs++] = r;
    srv_attach(r, (int)CNET_EVENT_ALL);
    return r;
}

static sockrec_t *pick_sock(rng_t *g, sockrec_t *cur)
{
    sockrec_t *cand[MAX_SOCKS];
    unsigned n = 0;
    bool open_only = rng_chance(g, 75); /* mostly sockets that can still do something */

    if (sock_usable(cur) && rng_chance(g, 50))
        return cur;
    for (int pass = 0; pass < 2 && n == 0; pass++, open_only = false)
        for (unsigned i = 0; i < C.nsocks; i++)
            if (sock_usable(C.socks[i]) && (!open_only || C.socks[i]->open))
                cand[n++] = C.socks[i];
    return n ? cand[rng_below(g, n)] : NULL;
}

static srvrec_t *pick_srv(rng_t *g, srvrec_t *cur)
{
    srvrec_t *cand[MAX_SRVS];
    unsigned n = 0;

    if (srv_usable(cur) && rng_chance(g, 50))
        return cur;
    for (unsigned i = 0; i < C.nsrvs; i++)
        if (srv_usable(C.srvs[i]))
            cand[n++] = C.srvs[i];
    return n ? cand[rng_below(g, n)] : NULL;
}

/* The writable side has ended (by us, by auto-end after the peer's FIN, or by a pipe). */
static bool sock_ending(const sockrec_t *r)
{
    const cnet_socket_t *s = r->s;
    return !API(cnet_socket_is_destroyed(s)) && !API(cnet_socket_is_writable(s)) &&
           (API(cnet_socket_is_connecting(s)) || !API(cnet_socket_is_pending(s)));
}

static void sock_release_all(sockrec_t *r)
{
    while (r->my_retains > 0) {
        r->my_retains--;
        VAPI(cnet_socket_release(r->s));
    }
    if (!r->open && !r->in_close)
        r->freed = true;
}

static void srv_release_all(srvrec_t *r)
{
    while (r->my_retains > 0 && !r->destroyed) {
        r->my_retains--;
        VAPI(cnet_server_release(r->srv));
    }
    r->my_retains = 0;
    if (!r->open && !r->in_close)
        r->freed = true;
}

/* ---- random data ------------------------------------------------------------- */

static size_t rand_len(rng_t *g)
{
    unsigned k = rng_below(g, 100);
    if (k < 5)
        return 0;
    if (k < 55)
        return 1 + rng_below(g, 64);
    if (k < 85)
        return 65 + rng_below(g, 4032);
    if (k < 96)
        return 4096 + rng_below(g, 60 * 1024);
    return 256 * 1024 + rng_below(g, 512 * 1024);
}

static const unsigned char *pool_at(rng_t *g, size_t len)
{
    return pool + rng_below(g, (unsigned)(POOL_SIZE - len));
}

/* A heap copy, freed by the caller right after the call: a library that kept
 * the pointer of a copying write would read freed memory (ASan). */
static char *heap_copy(rng_t *g, size_t len)
{
    char *p = malloc(len ? len : 1);
    ASSERT(p != NULL);
    memcpy(p, pool_at(g, len), len);
    return p;
}

static const char *const encodings[] = {
    "utf8", "utf-8",   "UTF8", "ascii", "latin1", "binary", "base64", "base64url",
    "hex",  "utf16le", "ucs2", "ucs-2", "bogus",  "",       "utf9",   NULL,
};

/* 1: a valid name, 0: invalid, -1: either (Node takes "" as utf8; cnet may follow). */
static int encoding_class(const char *e)
{
    static const char *const ok[] = {"utf8",   "utf-8", "ascii",    "latin1",   "binary",
                                     "base64", "hex",   "utf16le",  "utf-16le", "ucs2",
                                     "ucs-2",  "UTF8",  "base64url"};
    if (!e || !*e)
        return -1;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(e, ok[i]) == 0)
            return 1;
    return 0;
}

static size_t rand_text(rng_t *g, char *out, size_t cap)
{
    static const char alpha[] = "0123456789abcdefABCDEF+/=-_ xyz\n";
    size_t n = rng_below(g, (unsigned)cap);
    for (size_t i = 0; i < n; i++) {
        if (rng_chance(g, 5) && i + 2 <= n) {
            out[i++] = (char)0xc3; /* é */
            out[i] = (char)0xa9;
        } else {
            out[i] = alpha[rng_below(g, sizeof alpha - 1)];
        }
    }
    out[n] = '\0';
    return n;
}

/* ---- callbacks ------------------------------------------------------------------ */

static void do_ops(rng_t *g, sockrec_t *cs, srvrec_t *cv, unsigned n);

/* Callback-driven chaos: most callbacks do a few random operations. */
static void maybe_ops(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    if (!C.draining && rng_chance(g, 55))
        do_ops(g, cs, cv, 1 + rng_below(g, 3));
}

static void write_cb(cnet_socket_t *s, int status, void *arg)
{
    token_t *t = arg;
    sockrec_t *r = t->sock;

    enter_cb(t->what);
    tok_called(t);
    if (!r) {
        violation("rejected", "%s tok#%u of an invalid call ran", t->what, t->id);
        return;
    }
    trace("cb %s tok#%u (op %u) sock#%u status=%s", t->what, t->id, t->op, r->id,
          status ? cnet_err_name(status) : "0");
    if (s != r->s)
        violation("callbacks", "%s tok#%u got socket %p, expected sock#%u", t->what, t->id,
                  (void *)s, r->id);
    if (!r->open && !r->in_close)
        violation("callbacks", "%s tok#%u (op %u) after 'close' of sock#%u", t->what, t->id, t->op,
                  r->id);
    else if (r->n_close || r->n_error)
        violation("callbacks", "%s tok#%u (op %u) after '%s' of sock#%u", t->what, t->id, t->op,
                  r->n_close ? "close" : "error", r->id);
    if (t->in_fifo) {
        if (r->fifo_head != t) {
            bool only_fast = true;
            for (token_t *x = r->fifo_head; x && x != t; x = x->fifo_next)
                only_fast &= x->fast;
            if (!only_fast || !(cfg.skip & KNOWN_WRITE_ORDER))
                violation("callbacks",
                          "%s tok#%u (op %u) out of order on sock#%u: %s tok#%u (op %u) was "
                          "accepted first and has not run%s",
                          t->what, t->id, t->op, r->id, r->fifo_head->what, r->fifo_head->id,
                          r->fifo_head->op,
                          only_fast ? "; known defect pattern: write-order (the earlier "
                                      "write's bytes were all sent in the call, its callback "
                                      "waits for a tick)"
                                    : "");
        }
        fifo_remove(r, t);
    }
    maybe_ops(&r->rng, r, NULL);
}

static void my_dispose(void *p)
{
    if (!p) {
        C.null_disposes++;
        return;
    }
    for (size_t i = C.ndisp; i-- > 0;) {
        dispbuf_t *d = C.disp[i];
        if (d->data == p) {
            if (++d->disposes > 1)
                violation("dispose", "buffer of op %u disposed %d times", d->op, d->disposes);
            else
                CHAOS_POISON(d->data, d->len ? d->len : 1);
            return;
        }
    }
    violation("dispose", "dispose called with a pointer never handed over (%p)", p);
}

static dispbuf_t *dispbuf_new(rng_t *g, size_t len)
{
    dispbuf_t *d = calloc(1, sizeof *d);

    ASSERT(d != NULL);
    d->data = heap_copy(g, len);
    d->len = len;
    d->op = C.ops_done;
    if (C.ndisp == C.capdisp) {
        C.capdisp = C.capdisp ? C.capdisp * 2 : 128;
        C.disp = realloc(C.disp, C.capdisp * sizeof *C.disp);
        ASSERT(C.disp != NULL);
    }
    C.disp[C.ndisp++] = d;
    return d;
}

/* Our extra listeners (on/once/prepend...): they count, check and do chaos too. */
static void xl_sock(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    token_t *t = arg;

    enter_cb(t->what);
    trace("xl sock%s%u tok#%u '%s'", t->sock ? "#" : "?", t->sock ? t->sock->id : 0, t->id,
          cnet_event_name(ev->type));
    tok_called(t);
    if (t->sock && s != t->sock->s)
        violation("events", "listener tok#%u got the wrong socket", t->id);
    if ((int)ev->type != t->ev_type)
        violation("events", "listener tok#%u for '%s' got '%s'", t->id,
                  cnet_event_name((cnet_event_type_t)t->ev_type), cnet_event_name(ev->type));
    if (t->sock && (sock_usable(t->sock) || t->sock->open))
        maybe_ops(&t->sock->rng, t->sock, NULL);
}

static void xl_srv(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    token_t *t = arg;

    enter_cb(t->what);
    trace("xl srv%s%u tok#%u '%s'", t->srv ? "#" : "?", t->srv ? t->srv->id : 0, t->id,
          cnet_event_name(ev->type));
    tok_called(t);
    if (t->srv && srv != t->srv->srv)
        violation("events", "listener tok#%u got the wrong server", t->id);
    if ((int)ev->type != t->ev_type)
        violation("events", "listener tok#%u for '%s' got '%s'", t->id,
                  cnet_event_name((cnet_event_type_t)t->ev_type), cnet_event_name(ev->type));
    if (t->srv && srv_usable(t->srv))
        maybe_ops(&t->srv->rng, NULL, t->srv);
}

static void xl_free(void *arg)
{
    token_t *t = arg;
    if (++t->frees > 1)
        violation("arg-free", "arg_free of tok#%u (op %u) ran %d times", t->id, t->op, t->frees);
    if (t->settled && !t->free_expected)
        violation("arg-free", "arg_free of rejected on_ex tok#%u (op %u) ran", t->id, t->op);
}

static void count_cb(cnet_server_t *srv, int err, size_t count, void *arg)
{
    token_t *t = arg;

    enter_cb(t->what);
    tok_called(t);
    if (!t->srv) {
        violation("rejected", "%s tok#%u of an invalid call ran", t->what, t->id);
        return;
    }
    trace("cb %s tok#%u (op %u) srv#%u err=%d count=%zu", t->what, t->id, t->op, t->srv->id, err,
          count);
    if (srv != t->srv->srv)
        violation("callbacks", "%s tok#%u got the wrong server", t->what, t->id);
    if (srv_usable(t->srv))
        maybe_ops(&t->srv->rng, NULL, t->srv);
}

/* ---- the recorders --------------------------------------------------------------- */

static void touch_bytes(const char *p, size_t n)
{
    volatile unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (unsigned char)p[i];
    (void)sum;
}

static void check_error_ev(const char *who, unsigned id, const cnet_event_t *ev)
{
    if (!ev->error || ev->error->code >= 0 || !ev->error->message) {
        violation("events", "%s#%u 'error' without a negative code and a message", who, id);
        return;
    }
    touch_bytes(ev->error->message, strlen(ev->error->message));
}

static void fifo_report(sockrec_t *r, const char *when)
{
    for (token_t *t = r->fifo_head; t; t = t->fifo_next) {
        if (t->reported)
            continue;
        t->reported = true;
        violation("callbacks", "%s tok#%u (op %u) accepted on sock#%u has not run by %s%s%s",
                  t->what, t->id, t->op, r->id, when,
                  t->known || r->k1_op ? "; known defect pattern: " : "",
                  t->known   ? t->known
                  : r->k1_op ? "reset-after-end (defect 1: the socket never closed)"
                             : "");
    }
}

static void sock_ev(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    sockrec_t *r = arg;
    const char *name = cnet_event_name(ev->type);
    char item[48];

    enter_cb(name ? name : "socket event");
    stats.events++;
    if ((unsigned)ev->type < CNET_EVENT__COUNT)
        stats.per_event[ev->type]++;
    if (ev->type == CNET_EVENT_ERROR && ev->error)
        snprintf(item, sizeof item, "error:%s", cnet_err_name(ev->error->code));
    else if (ev->type == CNET_EVENT_CLOSE)
        snprintf(item, sizeof item, "close(%s)", ev->had_error ? "true" : "false");
    else
        snprintf(item, sizeof item, "%s", name ? name : "?");
    if (ev->type != CNET_EVENT_DATA || !r->hlen || strcmp(r->hist + r->hlen - 4, "data") != 0)
        sock_hist(r, item);
    trace("ev sock#%u %s", r->id, item);
    if (s != r->s)
        violation("events", "sock#%u listener got another socket", r->id);
    if (!r->open) {
        violation("close-once", "sock#%u emitted '%s' after 'close' (life %d; events: %s)", r->id,
                  item, r->life, r->hist);
        return;
    }
    /* Once destroyed, only 'error' and 'close' (and 'ready' right after 'connect', and a Happy
     * Eyeballs attempt's 'connectionAttemptFailed' ECANCELED, as in Node). */
    if (ev->type != CNET_EVENT_ERROR && ev->type != CNET_EVENT_CLOSE &&
        !(ev->type == CNET_EVENT_READY && r->last_ev == CNET_EVENT_CONNECT) &&
        !(ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED && r->attempt_open && r->by_name &&
          ev->error && ev->error->code == CNET_ECANCELED) &&
        API(cnet_socket_is_destroyed(s)) && !r->told_destroyed++)
        violation("events", "sock#%u emitted '%s' after it was destroyed (events: %s)%s", r->id,
                  item, r->hist,
                  r->k1_op ? "; known defect pattern: reset-after-end (defect 1)" : "");
    r->last_ev = (int)ev->type;
    switch (ev->type) {
    case CNET_EVENT_LOOKUP:
        if (!r->by_name)
            violation("events", "sock#%u 'lookup' without a host name to look up", r->id);
        if (!ev->host)
            violation("events", "sock#%u 'lookup' without host", r->id);
        break;
    case CNET_EVENT_CONNECT:
        if (!r->connecting)
            violation("events", "sock#%u 'connect' without an accepted connect()", r->id);
        if (r->n_connect++)
            violation("events", "sock#%u second 'connect' in one life", r->id);
        if (!r->attempt_open)
            violation("events", "sock#%u 'connect' without a 'connectionAttempt' (events: %s)",
                      r->id, r->hist);
        r->attempt_open = false;
        break;
    case CNET_EVENT_CONNECTION_ATTEMPT:
        if (!r->connecting)
            violation("events", "sock#%u 'connectionAttempt' without an accepted connect()", r->id);
        if (r->n_connect)
            violation("events", "sock#%u 'connectionAttempt' after 'connect'", r->id);
        if (r->attempt_open)
            violation("events", "sock#%u 'connectionAttempt' while one is open (events: %s)", r->id,
                      r->hist);
        if (!ev->address)
            violation("events", "sock#%u 'connectionAttempt' without an address", r->id);
        else
            touch_bytes(ev->address, strlen(ev->address));
        r->n_attempts++;
        r->attempt_open = true;
        break;
    case CNET_EVENT_CONNECTION_ATTEMPT_FAILED:
    case CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT:
        if (!r->attempt_open)
            violation("events", "sock#%u '%s' without an open 'connectionAttempt' (events: %s)",
                      r->id, item, r->hist);
        if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED)
            check_error_ev("sock", r->id, ev);
        else if (!r->eyeballs || strcmp(ev->address ? ev->address : "", "127.0.0.2") != 0)
            violation("events", "sock#%u 'connectionAttemptTimeout' of %s, not the blackhole",
                      r->id, ev->address ? ev->address : "(none)");
        if (!ev->address)
            violation("events", "sock#%u '%s' without an address", r->id, item);
        r->attempt_open = false;
        break;
    case CNET_EVENT_READY:
        if (r->n_ready++ >= r->n_connect)
            violation("events", "sock#%u 'ready' without 'connect'", r->id);
        break;
    case CNET_EVENT_DATA:
        if (r->n_end)
            violation("events", "sock#%u 'data' after 'end'", r->id);
        if (ev->data.len == 0 || !ev->data.base)
            violation("events", "sock#%u empty 'data'", r->id);
        else
            touch_bytes(ev->data.base, ev->data.len);
        break;
    case CNET_EVENT_END:
        if (r->n_end++)
            violation("events", "sock#%u second 'end'", r->id);
        break;
    case CNET_EVENT_FINISH:
        if (r->n_finish++)
            violation("events", "sock#%u second 'finish'", r->id);
        break;
    case CNET_EVENT_DRAIN:
        if (!r->drain_due && !r->ever_pipe_dst)
            violation("events", "sock#%u 'drain' without a write that returned 1", r->id);
        r->drain_due = false;
        break;
    case CNET_EVENT_TIMEOUT:
        if (!r->ever_timeout)
            violation("events", "sock#%u 'timeout' without setTimeout", r->id);
        break;
    case CNET_EVENT_FRAME:
        if (!r->ever_framing)
            violation("events", "sock#%u 'frame' without framing", r->id);
        touch_bytes(ev->data.base, ev->data.len);
        break;
    case CNET_EVENT_ERROR:
        check_error_ev("sock", r->id, ev);
        if (r->n_error++)
            violation("events", "sock#%u second 'error' in one life", r->id);
        fifo_report(r, "'error'");
        break;
    case CNET_EVENT_CLOSE:
        if (ev->had_error != (r->n_error > 0))
            violation("events", "sock#%u close(had_error=%d) after %d 'error' events", r->id,
                      ev->had_error, r->n_error);
        fifo_report(r, "'close'");
        r->n_close++;
        r->open = false;
        r->in_close = true;
        break;
    case CNET_EVENT_SECURE:
        if (!r->tls)
            violation("events", "sock#%u 'secure' on a socket never made TLS", r->id);
        if (r->n_secure++)
            violation("events", "sock#%u second 'secure' in one life", r->id);
        break;
    case CNET_EVENT_SECURE_CONNECT:
        if (!r->tls_connect)
            violation("events", "sock#%u 'secureConnect' on a socket that is no TLS client", r->id);
        if (r->n_secure_connect++)
            violation("events", "sock#%u second 'secureConnect' in one life", r->id);
        if (!r->n_connect && !r->accepted) /* an accepted socket never has a 'connect' */
            violation("events", "sock#%u 'secureConnect' before 'connect'", r->id);
        break;
    case CNET_EVENT_SESSION:
    case CNET_EVENT_KEYLOG:
        if (!r->tls)
            violation("events", "sock#%u '%s' on a socket never made TLS", r->id, item);
        if (ev->data.len == 0 || !ev->data.base)
            violation("events", "sock#%u empty '%s'", r->id, item);
        else
            touch_bytes(ev->data.base, ev->data.len);
        break;
    case CNET_EVENT_LISTENING:
    case CNET_EVENT_CONNECTION:
    case CNET_EVENT_DROP:
    case CNET_EVENT_SECURE_CONNECTION:
    case CNET_EVENT_TLS_CLIENT_ERROR:
    case CNET_EVENT_MESSAGE: /* a channel's */
        violation("events", "sock#%u got server event '%s'", r->id, item);
        break;
    default:
        break; /* an event added after this test was written */
    }
    maybe_ops(&r->rng, r, NULL);
    if (ev->type == CNET_EVENT_CLOSE) {
        r->in_close = false;
        if (C.draining || (!r->open && r->my_retains == 0))
            sock_release_all(r); /* unless it connected again, it is gone after this emit */
    }
}

static void srv_ev(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srvrec_t *r = arg;
    const char *name = cnet_event_name(ev->type);
    cnet_address_t a;
    char item[48];
    sockrec_t *sr;

    enter_cb(name ? name : "server event");
    stats.events++;
    if ((unsigned)ev->type < CNET_EVENT__COUNT)
        stats.per_event[ev->type]++;
    if (ev->type == CNET_EVENT_ERROR && ev->error)
        snprintf(item, sizeof item, "error:%s", cnet_err_name(ev->error->code));
    else
        snprintf(item, sizeof item, "%s", name ? name : "?");
    srv_hist(r, item);
    trace("ev srv#%u %s", r->id, item);
    if (srv != r->srv)
        violation("events", "srv#%u listener got another server", r->id);
    if (ev->type == CNET_EVENT_CLOSE && r->closes_due > 0 && (!r->open || !r->closing)) {
        /* one owed by a close() of a closed (or not yet closing) server */
        r->closes_due--;
        r->close_iter = C.iter + 1;
        r->in_close = !r->open;
        maybe_ops(&r->rng, NULL, r);
        r->in_close = false;
        if (r->destroyed && !r->open && r->closes_due == 0) {
            r->my_retains = 0;
            r->freed = true;
        } else if (!r->open && (C.draining || r->my_retains == 0)) {
            srv_release_all(r);
        }
        return;
    }
    if (!r->open) {
        if (ev->type == CNET_EVENT_ERROR && ev->error && ev->error->syscall &&
            strcmp(ev->error->syscall, "listen") == 0 &&
            (cfg.skip & KNOWN_LISTEN_ERROR_AFTER_CLOSE))
            return;
        violation("close-once", "srv#%u emitted '%s' after 'close' (life %d; events: %s)%s", r->id,
                  item, r->life, r->hist,
                  ev->type == CNET_EVENT_ERROR
                      ? "; known defect pattern: listen-error-after-close (close() while a "
                        "failed listen's handle is still closing)"
                      : "");
        return;
    }
    switch (ev->type) {
    case CNET_EVENT_LISTENING:
        if (r->n_listening++ >= r->listens_ok)
            violation("events", "srv#%u 'listening' without an accepted listen()", r->id);
        if (API(cnet_server_address(srv, &a)) == 0) {
            r->port = a.port > 0 ? a.port : 0;
            snprintf(r->path, sizeof r->path, "%s", a.port < 0 ? a.address : "");
        }
        break;
    case CNET_EVENT_CONNECTION:
        if (!ev->connection) {
            violation("events", "srv#%u 'connection' without a socket", r->id);
            break;
        }
        if (r->closing)
            violation("events", "srv#%u 'connection' after close()", r->id);
        if (!r->n_listening)
            violation("events", "srv#%u 'connection' before 'listening'", r->id);
        sr = sock_record(ev->connection, true, r);
        if (!sr) {
            VAPI(cnet_socket_destroy(ev->connection)); /* out of records: not tracked */
            break;
        }
        sr->half_open = r->allow_half_open;
        sr->unix_sock = r->path[0] != '\0';
        sr->tls = r->tls;
        if (API(cnet_socket_is_tls(sr->s)) != r->tls)
            violation("events", "srv#%u 'connection' of a %s server: is_tls() is %d", r->id,
                      r->tls ? "TLS" : "plain", !r->tls);
        trace("   accepted as sock#%u", sr->id);
        if (C.draining || live_socks() > MAX_LIVE_SOCKS + 4) {
            VAPI(cnet_socket_destroy(sr->s));
            break;
        }
        maybe_ops(&sr->rng, sr, NULL);
        break;
    case CNET_EVENT_DROP:
        if (!r->ever_max)
            violation("events", "srv#%u 'drop' without maxConnections", r->id);
        if (!ev->reason || strcmp(ev->reason, "maxConnections") != 0)
            violation("events", "srv#%u 'drop' for %s", r->id, ev->reason ? ev->reason : "(none)");
        /* As node's: the local endpoint always; the remote one only while the peer
         * is still connected (a peer that reset before the drop has no name: node's
         * remoteAddress is then undefined). */
        if (!ev->local)
            violation("events", "srv#%u 'drop' without its local endpoint", r->id);
        break;
    case CNET_EVENT_SECURE_CONNECTION:
    case CNET_EVENT_TLS_CLIENT_ERROR: {
        sockrec_t *c = NULL;
        if (!r->tls)
            violation("events", "srv#%u '%s' from a plain server", r->id, item);
        for (unsigned i = 0; ev->connection && i < C.nsocks; i++)
            if (C.socks[i]->s == ev->connection && C.socks[i]->server == r && !C.socks[i]->freed)
                c = C.socks[i];
        if (!c && ev->connection && C.nsocks < MAX_SOCKS)
            violation("events", "srv#%u '%s' for a socket it did not accept", r->id, item);
        if (ev->type == CNET_EVENT_TLS_CLIENT_ERROR) {
            check_error_ev("srv", r->id, ev);
            if (c && c->open && !API(cnet_socket_is_destroyed(c->s)))
                violation("events", "srv#%u 'tlsClientError' for sock#%u, not destroyed", r->id,
                          c->id);
        } else if (c && c->n_secure != 1 && !API(cnet_socket_is_destroyed(c->s))) {
            violation("events", "srv#%u 'secureConnection' for sock#%u before its 'secure'", r->id,
                      c->id);
        }
        break;
    }
    case CNET_EVENT_ERROR:
        check_error_ev("srv", r->id, ev);
        break;
    case CNET_EVENT_CLOSE:
        for (unsigned i = 0; i < C.nsocks; i++)
            if (C.socks[i]->server == r && C.socks[i]->open && C.socks[i]->life == 1)
                violation("events", "srv#%u 'close' before the 'close' of its connection sock#%u",
                          r->id, C.socks[i]->id);
        r->open = false;
        r->in_close = true;
        r->port = 0;
        r->path[0] = '\0';
        r->close_iter = C.iter + 1; /* +1: 0 means never closed */
        break;
    case CNET_EVENT_LOOKUP:
    case CNET_EVENT_CONNECT:
    case CNET_EVENT_READY:
    case CNET_EVENT_DATA:
    case CNET_EVENT_END:
    case CNET_EVENT_FINISH:
    case CNET_EVENT_DRAIN:
    case CNET_EVENT_TIMEOUT:
    case CNET_EVENT_FRAME:
    case CNET_EVENT_CONNECTION_ATTEMPT:
    case CNET_EVENT_CONNECTION_ATTEMPT_FAILED:
    case CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT:
    case CNET_EVENT_SECURE:
    case CNET_EVENT_SECURE_CONNECT:
    case CNET_EVENT_SESSION:
    case CNET_EVENT_KEYLOG:
    case CNET_EVENT_MESSAGE:
        violation("events", "srv#%u got socket event '%s'", r->id, item);
        break;
    default:
        break; /* an event added after this test was written */
    }
    maybe_ops(&r->rng, NULL, r);
    if (ev->type == CNET_EVENT_CLOSE) {
        r->in_close = false;
        if (r->destroyed) {
            r->my_retains = 0; /* destroy(): freed after 'close' even if retained */
            if (!r->open && r->closes_due == 0)
                r->freed = true;
        } else if (C.draining || (!r->open && r->my_retains == 0)) {
            srv_release_all(r);
        }
    }
}

/* ---- operations: servers ----------------------------------------------------------- */

static void srv_new_life_on_listen(srvrec_t *r)
{
    if (!r->open) {
        r->open = true;
        r->life++;
        r->closing = false;
        r->listens_ok = r->n_listening = 0;
    }
    r->listens_ok++;
}

static void op_listen_on(rng_t *g, srvrec_t *r)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    char path[160], desc[200];
    token_t *t = NULL;
    long long ret;
    int expect = 1; /* 1: 0 or an error we cannot predict here */
    unsigned k = rng_below(g, 100);
    bool use_opts = rng_chance(g, 40);

    if (r->closes_due > 0)
        return; /* a 'close' still owed could not be told from the new life's */
    if (rng_chance(g, 30))
        t = tok_new("listen cb", NULL, r, CNET_EVENT_LISTENING);
    if (rng_chance(g, 10))
        o.backlog = (int)rng_below(g, 4);
    if (k < 45) {
        o.host = "127.0.0.1";
    } else if (k < 55) {
        o.host = "::1";
    } else if (k < 62) {
        o.host = "localhost";
    } else if (k < 85) {
        snprintf(path, sizeof path, "%s/s%u.sock", cfg.dir, C.path_seq++);
        o.path = path;
    } else if (k < 92) {
        /* somebody else's address: EADDRINUSE as an 'error' event */
        srvrec_t *other = pick_srv(g, NULL);
        o.host = "127.0.0.1";
        if (other && other->path[0]) {
            snprintf(path, sizeof path, "%s", other->path);
            o.path = path;
        } else if (other && other->port) {
            o.port = other->port;
        }
    } else {
        /* invalid arguments */
        unsigned v = rng_below(g, 5);
        use_opts = true;
        o.host = "127.0.0.1";
        if (v == 0) {
            o.port = rng_chance(g, 50) ? -1 : 65536;
            expect = CNET_ERR_SOCKET_BAD_PORT;
        } else if (v == 1) {
            memset(path, 'p', sizeof path - 1);
            path[sizeof path - 1] = '\0';
            o.path = path;
            expect = CNET_ENAMETOOLONG;
        } else if (v == 2) {
            o.backlog = -1; /* refused by cnet today, taken by node: either is fine */
        } else if (v == 3) {
            o.size = 0;
            expect = CNET_ERR_INVALID_ARG_VALUE;
        } else {
            ret = API(cnet_server_listen_opts(r->srv, NULL, t ? xl_srv : NULL, t));
            trace("#%u srv#%u listen_opts(NULL) -> %lld", C.ops_done, r->id, ret);
            if (ret != CNET_ERR_INVALID_ARG_TYPE)
                violation("return-codes", "listen_opts(NULL opts) returned %lld", ret);
            tok_settle(t, ret, EXP_AT_MOST_ONCE);
            return;
        }
    }
    if (t)
        t->once = true;
    if (r->close_iter && C.iter + 1 < r->close_iter + 2) {
        /* 'close' may have come before the listening handle finished closing */
        if (cfg.skip & KNOWN_SRV_CLOSE_EARLY) {
            tok_settle(t, -1, EXP_NEVER);
            return;
        }
        C.crash_hint = "srv-close-early (listen again in the loop iteration of the server's "
                       "'close', whose handle may still be closing)";
        trace("   (known defect pattern: srv-close-early on srv#%u)", r->id);
    }
    if (o.path && expect == 1 && (cfg.skip & KNOWN_UNIX_ADDRESS_UNINIT)) {
        /* 'drop' reads the peer address of the dropped (unnamed) Unix socket */
        (void)API(cnet_server_set_max_connections(r->srv, 0));
        r->ever_path = true;
    }
    if (use_opts)
        ret = API(cnet_server_listen_opts(r->srv, &o, t ? xl_srv : NULL, t));
    else if (o.path)
        ret = API(cnet_server_listen_path(r->srv, o.path, t ? xl_srv : NULL, t));
    else
        ret = API(cnet_server_listen(r->srv, o.port, o.host, t ? xl_srv : NULL, t));
    snprintf(desc, sizeof desc, "%s%s:%d", o.path ? "path " : "", o.path ? o.path : o.host, o.port);
    trace("#%u srv#%u listen %s -> %lld %s", C.ops_done, r->id, desc, ret,
          ret ? cnet_err_name((int)ret) : "");
    if (expect != 1 && ret != expect &&
        !(ret == CNET_ERR_SERVER_ALREADY_LISTEN || ret == CNET_ERR_SERVER_NOT_RUNNING))
        violation("return-codes", "srv#%u listen %s returned %lld %s, expected %s", r->id, desc,
                  ret, cnet_err_name((int)ret), cnet_err_name(expect));
    if (ret > 0)
        violation("return-codes", "listen returned %lld", ret);
    tok_settle(t, ret, EXP_AT_MOST_ONCE);
    if (ret == 0 && o.path)
        r->ever_path = true; /* address() gives the path from now on when not listening */
    if (ret == 0) {
        if (r->destroyed)
            violation("return-codes", "srv#%u listen accepted after cnet_server_destroy()", r->id);
        srv_new_life_on_listen(r);
        srv_hist(r, "listen()");
    }
}

static void op_new_server(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    cnet_server_opts_t o = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv = NULL;
    bool with_opts = rng_chance(g, 70);
    token_t *t = NULL;
    srvrec_t *r;
    long long ret;

    (void)cs;
    (void)cv;
    if (live_srvs() >= MAX_LIVE_SRVS || C.nsrvs >= MAX_SRVS)
        return;
    o.allow_half_open = rng_chance(g, 30);
    o.pause_on_connect = rng_chance(g, 15);
    o.no_delay = rng_chance(g, 30);
    o.keep_alive = rng_chance(g, 20);
    o.keep_alive_initial_delay_ms = rng_below(g, 3000);
    o.max_connections = rng_chance(g, 15) ? (int)rng_below(g, 3) : 0;
    o.high_water_mark = rng_chance(g, 30) ? (size_t)1 << rng_below(g, 14) : 0;
    if (cfg.tls && rng_chance(g, 60)) {
        o.tls = cfg.server_ctx; /* tls.createServer */
        with_opts = true;
        if (rng_chance(g, 15))
            o.handshake_timeout_ms = 1 + rng_below(g, 40); /* ERR_TLS_HANDSHAKE_TIMEOUT */
    }
    if (rng_chance(g, 20)) {
        t = tok_new("createServer listener", NULL, NULL, CNET_EVENT_CONNECTION);
        VAPI(srv = cnet_create_server(with_opts ? &o : NULL, xl_srv, t));
        ret = srv ? 0 : -1;
    } else {
        ret = API(cnet_server_new(rng_chance(g, 50) ? C.loop : NULL, with_opts ? &o : NULL, &srv));
    }
    trace("#%u new %sserver -> %lld", C.ops_done, with_opts && o.tls ? "TLS " : "", ret);
    if (ret != 0 || !srv) {
        violation("return-codes", "creating a server failed: %lld", ret);
        tok_settle(t, -1, EXP_ANY);
        return;
    }
    if (API(cnet_server_loop(srv)) != (long long)(intptr_t)C.loop)
        violation("return-codes", "cnet_server_loop() is not the default loop");
    r = srv_record(srv, with_opts && o.allow_half_open);
    ASSERT(r != NULL);
    r->tls = with_opts && o.tls;
    r->ever_max = with_opts && o.max_connections > 0;
    if (t) {
        t->srv = r;
        tok_settle(t, 0, EXP_ANY);
    }
    trace("   as srv#%u", r->id);
    if (rng_chance(g, 85))
        op_listen_on(g, r);
}

static void op_listen(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    srvrec_t *r = pick_srv(g, cv);
    (void)cs;
    if (r)
        op_listen_on(g, r);
}

static void op_server_close(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    srvrec_t *r = pick_srv(g, cv);
    token_t *t = NULL;
    long long ret, conns;
    bool was_open;

    (void)cs;
    if (!r)
        return;
    was_open = r->open; /* false inside its 'close' emit, unless it listened again there */
    if (rng_chance(g, 15)) {
        VAPI(cnet_server_destroy(r->srv));
        trace("#%u srv#%u destroy", C.ops_done, r->id);
        srv_hist(r, "destroy()");
        r->destroyed = true;
        if (!r->open && !r->in_close && r->closes_due == 0) {
            r->my_retains = 0;
            r->freed = true; /* closed and only kept by our retains: freed now */
        } else {
            r->closing = r->open;
        }
        return;
    }
    if (rng_chance(g, 50))
        t = tok_new("server close cb", NULL, r, CNET_EVENT_CLOSE);
    if (t)
        t->once = true;
    conns = API(cnet_server_connections(r->srv));
    ret = API(cnet_server_close(r->srv, t ? xl_srv : NULL, t));
    trace("#%u srv#%u close -> %lld %s", C.ops_done, r->id, ret,
          ret ? cnet_err_name((int)ret) : "");
    /* cnet.h: "@return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM" (a closed server's
     * ERR_SERVER_NOT_RUNNING goes to the callback only) */
    if (ret != 0)
        violation("return-codes", "srv#%u close() returned %lld", r->id, ret);
    tok_settle(t, ret, EXP_ONCE);
    if (ret == 0 && (!was_open || (r->closing && conns == 0)))
        r->closes_due++; /* a 'close' of its own, beyond the one that ends the life */
    if (ret == 0) {
        r->closing = true;
        srv_hist(r, "close()");
    }
}

static void op_server_misc(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    srvrec_t *r = pick_srv(g, cv);
    cnet_address_t a;
    token_t *t;
    long long ret;
    int max;

    (void)cs;
    if (!r)
        return;
    switch (rng_below(g, 9)) {
    case 0:
        max = (int)rng_below(g, 5) - 1;
        if (r->ever_path && max > 0 && (cfg.skip & KNOWN_UNIX_ADDRESS_UNINIT))
            max = 0; /* see op_listen_on() */
        ret = API(cnet_server_set_max_connections(r->srv, max));
        r->ever_max |= ret == 0 && max > 0;
        trace("#%u srv#%u set_max_connections(%d) -> %lld", C.ops_done, r->id, max, ret);
        /* node takes any number; cnet refuses a negative one today */
        if (max >= 0 ? ret != 0 : ret > 0)
            violation("return-codes", "set_max_connections(%d) returned %lld", max, ret);
        break;
    case 1:
        t = tok_new("getConnections cb", NULL, r, -1);
        ret = API(cnet_server_get_connections(r->srv, count_cb, t));
        trace("#%u srv#%u get_connections tok#%u -> %lld", C.ops_done, r->id, t->id, ret);
        tok_settle(t, ret, EXP_ONCE);
        break;
    case 2:
        ret = API(cnet_server_address(r->srv, &a));
        trace("#%u srv#%u address -> %lld", C.ops_done, r->id, ret);
        /* cnet.h: "a server that was ever asked to listen on a path gives that path
         * (family 0, port -1)" when not listening */
        if ((ret == 0) != (bool)API(cnet_server_is_listening(r->srv)) &&
            !(ret == 0 && r->ever_path && a.port == -1 && a.family == 0))
            violation("return-codes", "srv#%u address() and is_listening() disagree", r->id);
        (void)API(cnet_server_connections(r->srv));
        if (rng_chance(g, 25)) {
            /* server.pause(msecs): cnet.h: "@return 0, ..., CNET_ERR_SERVER_NOT_RUNNING (not
             * listening)"; short pauses, so a seed stays quick (close() ends a pause) */
            bool listening = API(cnet_server_is_listening(r->srv));
            unsigned ms = 1 + rng_below(g, 20);
            ret = API(cnet_server_pause(r->srv, ms));
            trace("#%u srv#%u pause(%u) -> %lld", C.ops_done, r->id, ms, ret);
            if (ret != (listening ? 0 : CNET_ERR_SERVER_NOT_RUNNING))
                violation("return-codes", "srv#%u pause() %s returned %lld", r->id,
                          listening ? "while listening" : "when not listening", ret);
            if (ret == 0 && !API(cnet_server_is_paused(r->srv)))
                violation("return-codes", "srv#%u not paused after pause()", r->id);
        }
        break;
    case 3:
        if (rng_chance(g, 50))
            VAPI(cnet_server_unref(r->srv));
        else
            VAPI(cnet_server_ref(r->srv));
        trace("#%u srv#%u ref/unref", C.ops_done, r->id);
        break;
    case 4:
    case 5:
        if (r->destroyed)
            break;
        if (r->my_retains == 0 || rng_chance(g, 60)) {
            VAPI(cnet_server_retain(r->srv));
            r->my_retains++;
            trace("#%u srv#%u retain (%d)", C.ops_done, r->id, r->my_retains);
        } else {
            VAPI(cnet_server_release(r->srv));
            r->my_retains--;
            trace("#%u srv#%u release (%d)", C.ops_done, r->id, r->my_retains);
            if (!r->open && !r->in_close && r->my_retains == 0)
                r->freed = true;
        }
        break;
    case 6:
        VAPI(cnet_server_set_data(r->srv, r));
        if ((void *)(intptr_t)API(cnet_server_get_data(r->srv)) != r)
            violation("return-codes", "srv#%u get_data() lost set_data()", r->id);
        break;
    default: {
        /* listener bookkeeping on the server */
        int type = (int)rng_below(g, CNET_EVENT__COUNT);
        size_t before = (size_t)API(cnet_server_listener_count(r->srv, (cnet_event_type_t)type));
        unsigned v = rng_below(g, 6);
        t = tok_new("server listener", NULL, r, type);
        if (v == 0 || v == 1) {
            ret = API(cnet_server_on(r->srv, (cnet_event_type_t)type, xl_srv, t));
        } else if (v == 2) {
            t->once = true;
            ret = API(cnet_server_once(r->srv, (cnet_event_type_t)type, xl_srv, t));
        } else if (v == 3) {
            ret = API(cnet_server_prepend(r->srv, (cnet_event_type_t)type, xl_srv, t));
            if (ret == 0)
                srv_attach(r, type); /* the recorder stays first */
        } else if (v == 4) {
            t->has_free = true;
            ret = API(cnet_server_on_ex(r->srv, (cnet_event_type_t)type, xl_srv, t, xl_free));
        } else {
            /* off_all of one type or of all: our recorder comes straight back */
            int which = rng_chance(g, 30) ? (int)CNET_EVENT_ALL : type;
            ret = API(cnet_server_off_all(r->srv, (cnet_event_type_t)which));
            trace("#%u srv#%u off_all(%s) -> %lld", C.ops_done, r->id,
                  which == (int)CNET_EVENT_ALL ? "ALL" : cnet_event_name(type), ret);
            if (ret != 0 || API(cnet_server_listener_count(r->srv, (cnet_event_type_t)type)) != 0)
                violation("return-codes", "srv#%u off_all left listeners (ret %lld)", r->id, ret);
            tok_relax(NULL, r, which);
            srv_attach(r, which);
            tok_settle(t, -1, EXP_NEVER);
            break;
        }
        trace("#%u srv#%u listener(%d) '%s' tok#%u -> %lld", C.ops_done, r->id, v,
              cnet_event_name(type), t->id, ret);
        tok_settle(t, ret, EXP_ANY);
        if (ret != 0 || API(cnet_server_listener_count(r->srv, (cnet_event_type_t)type)) !=
                            (long long)before + 1)
            violation("return-codes", "srv#%u adding a '%s' listener: ret %lld, count %zu -> %lld",
                      r->id, cnet_event_name(type), ret, before,
                      API(cnet_server_listener_count(r->srv, (cnet_event_type_t)type)));
        if (rng_chance(g, 30)) {
            (void)API(cnet_server_off(r->srv, (cnet_event_type_t)type, xl_srv, t));
            if (API(cnet_server_listener_count(r->srv, (cnet_event_type_t)type)) !=
                (long long)before)
                violation("return-codes", "srv#%u off() did not remove the listener", r->id);
            if (t->expect == EXP_ONCE)
                t->expect = EXP_AT_MOST_ONCE;
        }
        break;
    }
    }
}

/* ---- operations: creating and connecting sockets ---------------------------------- */

typedef struct {
    int port;
    const char *host;
    const char *path;
    char pathbuf[160];
    bool by_name;
    bool eyeballs; /* Happy Eyeballs through a blackhole: hole_lookup() */
    bool tls;      /* a TLS server */
    int expect;    /* 1: unknown (0 or an event later), else the code */
} target_t;

/*
 * 'connectionAttemptTimeout' on loopback: a listener on 127.0.0.2 at a server's port whose
 * accept queue is full never answers a SYN, so a Happy Eyeballs connect to
 * [127.0.0.2, 127.0.0.1] times out on the first attempt and reaches the server with the
 * second. The descriptors stay open until the process exits (like cfg.closed_port).
 */
static struct {
    int port;
} holes[64];
static unsigned nholes;

static bool hole_for(int port)
{
    struct sockaddr_in sa;
    int fd;

    for (unsigned i = 0; i < nholes; i++)
        if (holes[i].port == port)
            return true;
    if (nholes == sizeof holes / sizeof holes[0])
        return false;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(0x7f000002);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    for (int i = 0; i < 2; i++) { /* backlog 1 holds two: then Linux drops SYNs */
        int f = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f < 0 || connect(f, (struct sockaddr *)&sa, sizeof sa) != 0)
            TEST_FAIL_("blackhole connect: %s", strerror(errno));
    }
    holes[nholes++].port = port;
    return true;
}

static void hole_lookup(cnet_lookup_req_t *req, const char *host, const cnet_lookup_info_t *info,
                        void *arg)
{
    cnet_address_t a[2] = {{"127.0.0.2", 0, 4}, {"127.0.0.1", 0, 4}};
    (void)host;
    (void)info;
    (void)arg;
    if (API(cnet_lookup_done(req, 0, a, 2)) != 0)
        violation("return-codes", "cnet_lookup_done() refused an answer");
}

static void pick_target(rng_t *g, target_t *tg)
{
    srvrec_t *cand[MAX_SRVS];
    unsigned n = 0, k = rng_below(g, 100);

    memset(tg, 0, sizeof *tg);
    tg->expect = 1;
    for (unsigned i = 0; i < C.nsrvs; i++)
        if (srv_usable(C.srvs[i]) && C.srvs[i]->open && (C.srvs[i]->port || C.srvs[i]->path[0]))
            cand[n++] = C.srvs[i];
    if (k < 75 && n) {
        srvrec_t *s = cand[rng_below(g, n)];
        tg->tls = s->tls;
        if (s->path[0]) {
            snprintf(tg->pathbuf, sizeof tg->pathbuf, "%s", s->path);
            tg->path = tg->pathbuf;
        } else {
            tg->port = s->port;
            tg->host = "127.0.0.1";
            if (rng_chance(g, 15)) {
                tg->host = "localhost";
                tg->by_name = true;
            } else if (rng_chance(g, 8) && hole_for(s->port)) {
                tg->host = "hole.invalid"; /* never looked up: hole_lookup() answers */
                tg->by_name = tg->eyeballs = true;
            }
        }
    } else if (k < 85) {
        tg->port = cfg.closed_port;
        tg->host = "127.0.0.1";
    } else if (k < 90) {
        snprintf(tg->pathbuf, sizeof tg->pathbuf, "%s/missing.sock", cfg.dir);
        tg->path = tg->pathbuf;
    } else if (k < 93) {
        tg->port = cfg.closed_port;
        tg->host = "::1";
    } else {
        unsigned v = rng_below(g, 4);
        tg->host = "127.0.0.1";
        if (v == 0) {
            tg->port = rng_chance(g, 50) ? -1 : 65536;
            tg->expect = CNET_ERR_SOCKET_BAD_PORT;
        } else if (v == 1) {
            memset(tg->pathbuf, 'q', sizeof tg->pathbuf - 1);
            tg->pathbuf[sizeof tg->pathbuf - 1] = '\0';
            tg->path = tg->pathbuf;
            tg->expect = CNET_ENAMETOOLONG;
        } else if (v == 2) {
            /* refused by cnet today; node takes "" as localhost: either is fine */
            tg->host = "";
            tg->port = cfg.closed_port;
        } else {
            tg->port = cfg.closed_port;
            tg->expect = CNET_ERR_INVALID_IP_ADDRESS; /* via a bad local_address */
        }
    }
}

static void fill_connect_opts(rng_t *g, const target_t *tg, cnet_connect_opts_t *o)
{
    o->port = tg->port;
    o->host = tg->host;
    o->path = tg->path;
    if (tg->expect == CNET_ERR_INVALID_IP_ADDRESS)
        o->local_address = "not-an-ip";
    else if (!tg->path && tg->host && strcmp(tg->host, "127.0.0.1") == 0 && rng_chance(g, 10))
        o->local_address = "127.0.0.1";
    if (!tg->path && rng_chance(g, 10))
        o->family = tg->host && strcmp(tg->host, "::1") == 0 ? 6 : 4;
    if (rng_chance(g, 15))
        o->timeout_ms = 1 + rng_below(g, 30);
    o->no_delay = rng_chance(g, 30);
    o->keep_alive = rng_chance(g, 15);
    o->allow_half_open = rng_chance(g, 25);
    if (tg->eyeballs) {
        o->lookup = hole_lookup;
        o->family = 0;
        o->auto_select_family = 1;
        o->auto_select_family_attempt_timeout_ms = 10;
    }
}

/* The result of a connect() on record @p r (new or reused). */
static void connect_result(sockrec_t *r, long long ret, const target_t *tg,
                           const cnet_connect_opts_t *o, token_t *t, bool was_open,
                           bool was_started)
{
    if (tg->expect != 1 && ret >= 0)
        violation("return-codes", "connect with invalid arguments (expected %s) returned %lld",
                  cnet_err_name(tg->expect), ret);
    if (ret > 0)
        violation("return-codes", "connect returned %lld", ret);
    if (was_open && was_started && ret == 0)
        violation("return-codes", "sock#%u connect() accepted on a socket already started", r->id);
    tok_settle(t, ret, EXP_AT_MOST_ONCE);
    if (ret != 0)
        return;
    if (!was_open)
        sock_new_life(r);
    r->connecting = true;
    r->by_name = tg->by_name;
    r->eyeballs = tg->eyeballs;
    r->unix_sock = tg->path != NULL;
    if (o && o->timeout_ms)
        r->ever_timeout = true;
    if (o && o->allow_half_open)
        r->half_open = true;
    sock_hist(r, "connect()");
}

static long long do_connect(rng_t *g, sockrec_t *r, const target_t *tg, cnet_connect_opts_t *o,
                            token_t *t)
{
    unsigned v = rng_below(g, 3);
    cnet_socket_cb cb = t ? xl_sock : NULL;

    if (v == 0 || tg->expect == CNET_ERR_INVALID_IP_ADDRESS || (tg->host && !*tg->host) ||
        tg->eyeballs)
        return API(cnet_socket_connect_opts(r->s, o, cb, t));
    if (tg->path)
        return API(cnet_socket_connect_path(r->s, tg->path, cb, t));
    return API(cnet_socket_connect(r->s, tg->port, tg->host, cb, t));
}

static void op_new_client(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_opts_t so = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s = NULL;
    target_t tg;
    token_t *t = NULL;
    sockrec_t *r;
    long long ret;
    unsigned how = rng_below(g, 10);

    (void)cs;
    (void)cv;
    if (live_socks() >= MAX_LIVE_SOCKS || C.nsocks >= MAX_SOCKS - 48)
        return;
    pick_target(g, &tg);
    fill_connect_opts(g, &tg, &o);
    if (rng_chance(g, 60)) {
        t = tok_new("connect listener", NULL, NULL, CNET_EVENT_CONNECT);
        t->once = true;
    }
    if (how < 5) {
        /* new Socket(), then connect (or not yet) */
        so.allow_half_open = rng_chance(g, 25);
        so.high_water_mark = rng_chance(g, 30) ? (size_t)1 << rng_below(g, 16) : 0;
        ret = API(
            cnet_socket_new(rng_chance(g, 50) ? C.loop : NULL, rng_chance(g, 70) ? &so : NULL, &s));
        if (ret != 0 || !s) {
            violation("return-codes", "cnet_socket_new failed: %lld", ret);
            tok_settle(t, -1, EXP_NEVER);
            return;
        }
        r = sock_record(s, false, NULL);
        ASSERT(r != NULL);
        r->half_open = so.allow_half_open;
        if (t)
            t->sock = r;
        trace("#%u new socket sock#%u", C.ops_done, r->id);
        if (rng_chance(g, 8)) {
            tok_settle(t, -1, EXP_NEVER);
            return; /* left unconnected for now */
        }
        ret = do_connect(g, r, &tg, &o, t);
        trace("#%u sock#%u connect %s:%d%s -> %lld %s", C.ops_done, r->id,
              tg.path ? tg.path : tg.host, tg.port, o.local_address ? " (local)" : "", ret,
              ret ? cnet_err_name((int)ret) : "");
        connect_result(r, ret, &tg, &o, t, true, false);
        return;
    }
    if (cfg.tls && (tg.tls ? rng_chance(g, 85) : rng_chance(g, 10))) {
        /* tls.connect: a TLS server mostly, sometimes a plain one or a closed port */
        cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
        token_t *st = NULL;
        if (rng_chance(g, 20))
            to.servername = rng_chance(g, 50) ? "localhost" : "wrong.example.org";
        if (rng_chance(g, 20))
            to.reject_unauthorized = CNET_TLS_OFF;
        if (rng_chance(g, 30)) {
            st = tok_new("secureConnect listener", NULL, NULL, CNET_EVENT_SECURE_CONNECT);
            st->once = true;
        }
        ret = API(cnet_tls_connect(C.loop, &o,
                                   rng_chance(g, 10) ? cfg.lax_client_ctx : cfg.client_ctx,
                                   rng_chance(g, 70) ? &to : NULL, st ? xl_sock : NULL, st, &s));
        trace("#%u tls_connect %s:%d -> %lld %s", C.ops_done, tg.path ? tg.path : tg.host, tg.port,
              ret, ret ? cnet_err_name((int)ret) : "");
        if (ret == 0 && t && API(cnet_socket_once(s, CNET_EVENT_CONNECT, xl_sock, t)) != 0)
            violation("return-codes", "once('connect') on a TLS socket failed");
        if (ret != 0) {
            if (tg.expect == 1 && !(tg.host && !*tg.host))
                violation("return-codes", "tls_connect to %s:%d failed: %lld %s",
                          tg.path ? tg.path : tg.host, tg.port, ret, cnet_err_name((int)ret));
            else if (tg.expect != 1 && ret != tg.expect)
                violation("return-codes", "tls_connect returned %lld %s, expected %s", ret,
                          cnet_err_name((int)ret), cnet_err_name(tg.expect));
            if (s)
                violation("return-codes", "a failed tls_connect returned a socket");
            tok_settle(t, -1, EXP_NEVER);
            tok_settle(st, -1, EXP_NEVER);
            return;
        }
        r = sock_record(s, false, NULL);
        ASSERT(r != NULL);
        r->tls = r->tls_connect = true;
        if (t)
            t->sock = r;
        if (st) {
            st->sock = r;
            tok_settle(st, 0, EXP_AT_MOST_ONCE);
        }
        trace("   as sock#%u", r->id);
        connect_result(r, 0, &tg, &o, t, true, false);
        return;
    }
    if (how < 8 || tg.expect != 1 || tg.eyeballs) {
        ret = API(cnet_create_connection(rng_chance(g, 50) ? C.loop : NULL, &o, t ? xl_sock : NULL,
                                         t, &s));
    } else {
        if (tg.path)
            VAPI(s = cnet_connect_path(tg.path, t ? xl_sock : NULL, t));
        else
            VAPI(s = cnet_connect(tg.port, tg.host, t ? xl_sock : NULL, t));
        ret = s ? 0 : -1;
        o.timeout_ms = 0;
        o.allow_half_open = false;
    }
    trace("#%u create_connection %s:%d -> %lld %s", C.ops_done, tg.path ? tg.path : tg.host,
          tg.port, ret, ret ? cnet_err_name((int)ret) : "");
    if (ret != 0) {
        if (tg.expect == 1 && !(tg.host && !*tg.host))
            violation("return-codes", "create_connection to %s:%d failed: %lld",
                      tg.path ? tg.path : tg.host, tg.port, ret);
        else if (tg.expect != 1 && ret != tg.expect)
            violation("return-codes", "create_connection returned %lld %s, expected %s", ret,
                      cnet_err_name((int)ret), cnet_err_name(tg.expect));
        if (s)
            violation("return-codes", "a failed create_connection returned a socket");
        tok_settle(t, -1, EXP_NEVER);
        return;
    }
    if (tg.expect != 1)
        violation("return-codes", "create_connection with invalid arguments succeeded");
    r = sock_record(s, false, NULL);
    ASSERT(r != NULL);
    if (t)
        t->sock = r;
    trace("   as sock#%u", r->id);
    connect_result(r, 0, &tg, &o, t, true, false);
}

/* connect() on an existing socket: a retained closed one connects again; others refuse. */
static void op_connect_again(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    sockrec_t *cand[MAX_SOCKS], *r = NULL;
    unsigned n = 0;
    target_t tg;
    token_t *t = NULL;
    long long ret;
    bool was_open, was_started;

    (void)cv;
    for (unsigned i = 0; i < C.nsocks; i++)
        if (sock_usable(C.socks[i]) && !C.socks[i]->open)
            cand[n++] = C.socks[i];
    if (n && rng_chance(g, 70))
        r = cand[rng_below(g, n)];
    else
        r = pick_sock(g, cs);
    if (!r || (!r->open && live_socks() >= MAX_LIVE_SOCKS))
        return;
    pick_target(g, &tg);
    fill_connect_opts(g, &tg, &o);
    if (rng_chance(g, 50)) {
        t = tok_new("connect listener", r, NULL, CNET_EVENT_CONNECT);
        t->once = true;
    }
    was_open = r->open;
    was_started = r->connecting || r->accepted || r->life > 1;
    ret = do_connect(g, r, &tg, &o, t);
    trace("#%u sock#%u connect again %s:%d -> %lld %s", C.ops_done, r->id,
          tg.path ? tg.path : tg.host, tg.port, ret, ret ? cnet_err_name((int)ret) : "");
    if (!was_open && tg.expect == 1 && ret != 0 && !(tg.host && !*tg.host))
        violation("return-codes", "sock#%u: connect() on a retained closed socket returned %lld %s",
                  r->id, ret, cnet_err_name((int)ret));
    connect_result(r, ret, &tg, &o, t, was_open, was_started);
}

/* ---- operations: writing --------------------------------------------------------------- */

/* Whether a write of @p len bytes was taken by the kernel in the call (nothing queued). */
static bool sent_at_once(const sockrec_t *r, size_t len, size_t wl_before)
{
    return len > 0 && (size_t)API(cnet_socket_writable_length(r->s)) == wl_before;
}

static void after_write(sockrec_t *r, token_t *t, long long ret, const char *what)
{
    if (ret > 1)
        violation("return-codes", "sock#%u %s returned %lld", r->id, what, ret);
    if (ret < 0)
        stats.rejected++;
    else
        stats.accepted++;
    tok_settle(t, ret, EXP_ONCE);
    if (t && ret >= 0)
        fifo_push(r, t);
    if (ret == 1)
        r->drain_due = true;
}

static void op_write(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    size_t len, wl;
    token_t *t = NULL;
    char *tmp;
    long long ret;

    (void)cv;
    if (!r)
        return;
    len = rand_len(g);
    tmp = heap_copy(g, len);
    if (rng_chance(g, 60))
        t = tok_new("write cb", r, NULL, -1);
    wl = (size_t)API(cnet_socket_writable_length(r->s));
    ret = API(cnet_socket_write(r->s, tmp, len, t ? write_cb : NULL, t));
    free(tmp);
    if (t)
        t->fast = sent_at_once(r, len, wl);
    trace("#%u sock#%u write %zu%s%u -> %lld %s", C.ops_done, r->id, len, t ? " tok#" : " #",
          t ? t->id : 0, ret, ret < 0 ? cnet_err_name((int)ret) : "");
    after_write(r, t, ret, "write");
}

static void op_write_str(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    char text[200];
    long long ret;

    (void)cv;
    if (!r)
        return;
    rand_text(g, text, sizeof text);
    ret = API(cnet_socket_write_str(r->s, text));
    trace("#%u sock#%u write_str %zu -> %lld", C.ops_done, r->id, strlen(text), ret);
    after_write(r, NULL, ret, "write_str");
}

static void op_write_ex(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    cnet_buf_t bufs[6];
    char *tmp[6] = {0};
    size_t nbufs, total = 0, wl;
    unsigned mode = rng_below(g, 3), nulls = 0;
    cnet_free_fn dispose;
    bool bad = false, null_array = false;
    token_t *t = NULL;
    long long ret;
    static const char *const modes[] = {"TRANSIENT", "STATIC", "dispose"};

    (void)cv;
    if (!r)
        return;
    dispose = mode == 0 ? CNET_BUF_TRANSIENT : mode == 1 ? CNET_BUF_STATIC : my_dispose;
    nbufs = rng_below(g, 5);
    for (size_t i = 0; i < nbufs; i++) {
        size_t len = rng_chance(g, 70) ? rand_len(g) : rng_below(g, 16);
        if (rng_chance(g, 4)) {
            /* NULL base: fine with len 0, rejected otherwise */
            bufs[i].base = NULL;
            bufs[i].len = rng_chance(g, 50) ? 0 : 1 + rng_below(g, 8);
            bad |= bufs[i].len != 0;
            nulls++;
            continue;
        }
        bufs[i].len = len;
        total += len;
        if (mode == 0) {
            tmp[i] = heap_copy(g, len);
            bufs[i].base = tmp[i];
        } else if (mode == 1) {
            bufs[i].base = pool_at(g, len); /* lives as long as the process */
        } else {
            bufs[i].base = dispbuf_new(g, len)->data;
        }
    }
    if (nbufs == 0 && rng_chance(g, 30))
        null_array = true; /* bufs NULL with nbufs 0: an empty write */
    if (rng_chance(g, 3) && nbufs) {
        /* bufs NULL with nbufs > 0: rejected, nothing to dispose (we hand no buffers) */
        for (size_t i = 0; i < nbufs; i++)
            free(tmp[i]);
        ret = API(cnet_socket_write_ex(r->s, NULL, nbufs, CNET_BUF_TRANSIENT, write_cb,
                                       (t = tok_new("write_ex cb", r, NULL, -1))));
        trace("#%u sock#%u write_ex(NULL, %zu) -> %lld", C.ops_done, r->id, nbufs, ret);
        if (ret >= 0)
            violation("return-codes", "write_ex(NULL bufs, %zu) returned %lld", nbufs, ret);
        /* dispose mode buffers of this op were never handed over: "dispose" them ourselves */
        if (mode == 2)
            for (size_t i = 0; i < nbufs; i++)
                if (bufs[i].base)
                    my_dispose((void *)bufs[i].base);
        after_write(r, t, ret, "write_ex");
        return;
    }
    if (mode == 2)
        C.null_disposes_expected += nulls;
    if (rng_chance(g, 60))
        t = tok_new("write_ex cb", r, NULL, -1);
    wl = (size_t)API(cnet_socket_writable_length(r->s));
    ret = API(cnet_socket_write_ex(r->s, null_array ? NULL : bufs, nbufs, dispose,
                                   t ? write_cb : NULL, t));
    if (t)
        t->fast = sent_at_once(r, total, wl);
    for (size_t i = 0; i < nbufs; i++)
        free(tmp[i]);
    trace("#%u sock#%u write_ex %s %zu bufs %zu bytes%s%u -> %lld %s", C.ops_done, r->id,
          modes[mode], nbufs, total, t ? " tok#" : " #", t ? t->id : 0, ret,
          ret < 0 ? cnet_err_name((int)ret) : "");
    if (bad && ret >= 0)
        violation("return-codes", "write_ex with a NULL base and a length returned %lld", ret);
    after_write(r, t, ret, "write_ex");
}

static void op_write_enc(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    const char *enc = encodings[rng_below(g, sizeof encodings / sizeof encodings[0])];
    char text[300];
    size_t len, wl;
    token_t *t = NULL;
    long long ret;

    (void)cv;
    if (!r)
        return;
    len = rand_text(g, text, sizeof text);
    if (rng_chance(g, 50))
        t = tok_new("write_enc cb", r, NULL, -1);
    wl = (size_t)API(cnet_socket_writable_length(r->s));
    ret = API(cnet_socket_write_enc(r->s, text, len, enc, t ? write_cb : NULL, t));
    if (t)
        t->fast = (size_t)API(cnet_socket_writable_length(r->s)) == wl &&
                  API(cnet_socket_bytes_written(r->s)) > 0;
    trace("#%u sock#%u write_enc %s %zu%s%u -> %lld %s", C.ops_done, r->id, enc ? enc : "NULL", len,
          t ? " tok#" : " #", t ? t->id : 0, ret, ret < 0 ? cnet_err_name((int)ret) : "");
    if (ret >= 0 && encoding_class(enc) == 0)
        violation("return-codes", "write_enc with encoding \"%s\" returned %lld", enc, ret);
    if (ret == CNET_ERR_UNKNOWN_ENCODING && (!enc || encoding_class(enc) == 1))
        violation("return-codes", "write_enc(\"%s\") said unknown encoding", enc ? enc : "NULL");
    after_write(r, t, ret, "write_enc");
}

static void op_write_frame(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    size_t len = rng_chance(g, 50) ? rng_below(g, 12) : rand_len(g), wl;
    token_t *t = NULL;
    char *tmp;
    long long ret;

    (void)cv;
    if (!r)
        return;
    tmp = heap_copy(g, len);
    if (rng_chance(g, 50))
        t = tok_new("write_frame cb", r, NULL, -1);
    wl = (size_t)API(cnet_socket_writable_length(r->s));
    ret = API(cnet_socket_write_frame(r->s, tmp, len, t ? write_cb : NULL, t));
    free(tmp);
    if (t)
        t->fast = (size_t)API(cnet_socket_writable_length(r->s)) == wl &&
                  API(cnet_socket_bytes_written(r->s)) > 0;
    trace("#%u sock#%u write_frame %zu%s%u -> %lld %s", C.ops_done, r->id, len, t ? " tok#" : " #",
          t ? t->id : 0, ret, ret < 0 ? cnet_err_name((int)ret) : "");
    after_write(r, t, ret, "write_frame");
}

static void op_end(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    unsigned v = rng_below(g, 4);
    bool with_data = rng_chance(g, 45), with_cb = rng_chance(g, 55);
    const char *known = NULL;
    char text[100];
    size_t len = 0;
    token_t *t = NULL;
    char *tmp = NULL;
    long long ret;
    bool ending;

    (void)cv;
    if (!r)
        return;
    ending = sock_ending(r);
    if (v == 1)
        with_cb = false; /* end_str has no callback */
    if (ending && (with_data || with_cb)) {
        unsigned bit = r->ended_by_us ? KNOWN_END_AFTER_OWN_END : KNOWN_END_AFTER_END;
        if (cfg.skip & bit)
            with_data = with_cb = false; /* still a (no-op) second end() */
        else
            known = r->ended_by_us ? "end-after-own-end (defect 2's path: a second end() of ours)"
                                   : "end-after-end (defect 2: ended by the library)";
    }
    if (with_cb) {
        t = tok_new("end cb", r, NULL, -1);
        t->known = known;
    }
    switch (v) {
    case 0:
    case 3:
        len = with_data ? rand_len(g) : 0;
        tmp = with_data ? heap_copy(g, len) : NULL;
        ret = API(cnet_socket_end(r->s, tmp, len, t ? write_cb : NULL, t));
        free(tmp);
        break;
    case 1:
        if (with_data)
            len = rand_text(g, text, sizeof text);
        ret = API(cnet_socket_end_str(r->s, with_data ? text : NULL));
        break;
    default: {
        const char *enc = encodings[rng_below(g, sizeof encodings / sizeof encodings[0])];
        if (with_data)
            len = rand_text(g, text, sizeof text);
        ret = API(
            cnet_socket_end_enc(r->s, with_data ? text : NULL, len, enc, t ? write_cb : NULL, t));
        break;
    }
    }
    trace("#%u sock#%u end%s data=%zu%s%u%s -> %lld %s", C.ops_done, r->id,
          v == 1   ? "_str"
          : v == 2 ? "_enc"
                   : "",
          len, t ? " tok#" : " #", t ? t->id : 0, ending ? " (already ending)" : "", ret,
          ret < 0 ? cnet_err_name((int)ret) : "");
    if (ret > 0)
        violation("return-codes", "end returned %lld", ret);
    after_write(r, t, ret, "end");
    if (ret == 0) {
        if (!ending)
            r->ended_by_us = true;
        sock_hist(r, "end()");
        if (API(cnet_socket_is_writable(r->s)))
            violation("return-codes", "sock#%u writable right after end() returned 0", r->id);
    }
}

/* ---- operations: the rest of a socket's API --------------------------------------------- */

static void op_destroy(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    static const int codes[] = {
        CNET_ECONNRESET, CNET_ETIMEDOUT, CNET_ERR_INVALID_ARG_VALUE, CNET_EPIPE, 0, 7};
    sockrec_t *r = pick_sock(g, cs);
    unsigned v = rng_below(g, 10);
    long long ret;

    (void)cv;
    if (!r)
        return;
    /* A socket with a shutdown pending is where a reset is most interesting. */
    if (v < 8 && sock_ending(r) && rng_chance(g, 40))
        v = 8;
    if (v >= 8) {
        bool ending = sock_ending(r);
        bool destroyed = API(cnet_socket_is_destroyed(r->s));
        bool connecting = API(cnet_socket_is_connecting(r->s));
        if (ending && (cfg.skip & KNOWN_RESET_AFTER_END)) {
            v = 0;
        } else {
            if (ending)
                r->k1_op = C.ops_done;
            ret = API(cnet_socket_reset_and_destroy(r->s));
            trace("#%u sock#%u reset_and_destroy%s -> %lld %s", C.ops_done, r->id,
                  ending ? " (after end)" : "", ret, ret ? cnet_err_name((int)ret) : "");
            if (destroyed && ret != CNET_ERR_STREAM_DESTROYED && ret != CNET_ERR_INVALID_ARG_TYPE)
                violation("return-codes", "reset_and_destroy of a destroyed socket returned %lld",
                          ret);
            /* cnet.h: "On a socket still connecting, as Node: nothing happens until
             * 'connect' ..., then the socket is reset" */
            if (ret == 0 && !connecting && !API(cnet_socket_is_destroyed(r->s)))
                violation("return-codes", "sock#%u not destroyed after reset_and_destroy", r->id);
            /* cnet.h: "CNET_ERR_INVALID_HANDLE_TYPE (a Unix socket, also while connecting)" */
            if (!destroyed && r->unix_sock && r->open && ret != CNET_ERR_INVALID_HANDLE_TYPE)
                violation("return-codes", "reset_and_destroy of a Unix socket returned %lld", ret);
            if (ret == CNET_ERR_INVALID_HANDLE_TYPE && !r->unix_sock)
                violation("return-codes", "reset_and_destroy of a TCP socket returned %lld", ret);
            if (ret == 0)
                sock_hist(r, ending ? "reset()-after-end" : "reset()");
            return;
        }
    }
    if (v >= 5) {
        int code = codes[rng_below(g, sizeof codes / sizeof codes[0])];
        if (rng_chance(g, 30)) {
            /* cnet.h: "as cnet_socket_destroy_with_error()"; a code >= 0 becomes
             * CNET_ERR_INVALID_ARG_VALUE; NULL message: the code's own */
            const char *msg = rng_chance(g, 50) ? "chaos says so" : NULL;
            VAPI(cnet_socket_destroy_with_message(r->s, code, msg));
            trace("#%u sock#%u destroy_with_message(%d, %s)", C.ops_done, r->id, code,
                  msg ? msg : "NULL");
        } else {
            VAPI(cnet_socket_destroy_with_error(r->s, code));
            trace("#%u sock#%u destroy_with_error(%d)", C.ops_done, r->id, code);
        }
    } else {
        VAPI(cnet_socket_destroy(r->s));
        trace("#%u sock#%u destroy", C.ops_done, r->id);
    }
    sock_hist(r, "destroy()");
    if (!API(cnet_socket_is_destroyed(r->s)))
        violation("return-codes", "sock#%u not destroyed after destroy()", r->id);
}

static void op_flow(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    unsigned v = rng_below(g, 10);

    (void)cv;
    if (!r)
        return;
    if (v < 4) {
        VAPI(cnet_socket_pause(r->s));
        trace("#%u sock#%u pause", C.ops_done, r->id);
        if (!API(cnet_socket_is_paused(r->s)))
            violation("return-codes", "sock#%u not paused after pause()", r->id);
    } else if (v < 8) {
        VAPI(cnet_socket_resume(r->s));
        trace("#%u sock#%u resume", C.ops_done, r->id);
        if (API(cnet_socket_is_paused(r->s)))
            violation("return-codes", "sock#%u paused after resume()", r->id);
    } else if (v == 8) {
        VAPI(cnet_socket_cork(r->s));
        trace("#%u sock#%u cork", C.ops_done, r->id);
    } else {
        VAPI(cnet_socket_uncork(r->s));
        trace("#%u sock#%u uncork", C.ops_done, r->id);
    }
}

static void op_cork(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    (void)cv;
    if (!r)
        return;
    /* a corked burst, usually uncorked again in the same callback */
    VAPI(cnet_socket_cork(r->s));
    trace("#%u sock#%u cork (burst)", C.ops_done, r->id);
    for (unsigned i = rng_below(g, 4); i > 0; i--)
        op_write(g, r, NULL);
    if (rng_chance(g, 85)) {
        VAPI(cnet_socket_uncork(r->s));
        trace("#%u sock#%u uncork", C.ops_done, r->id);
    }
}

static void op_set_timeout(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    static const unsigned ms_values[] = {0, 1, 3, 10, 40};
    sockrec_t *r = pick_sock(g, cs);
    unsigned ms = ms_values[rng_below(g, 5)];
    token_t *t = NULL;
    long long ret;

    (void)cv;
    if (!r)
        return;
    if (rng_chance(g, 50)) {
        t = tok_new("setTimeout listener", r, NULL, CNET_EVENT_TIMEOUT);
        t->once = true;
    }
    ret = API(cnet_socket_set_timeout(r->s, ms, t ? xl_sock : NULL, t));
    trace("#%u sock#%u set_timeout(%u)%s%u -> %lld", C.ops_done, r->id, ms, t ? " tok#" : " #",
          t ? t->id : 0, ret);
    tok_settle(t, ret, EXP_AT_MOST_ONCE);
    if (ret == 0) {
        r->ever_timeout |= ms > 0 || t;
        if (API(cnet_socket_get_timeout(r->s)) != ms)
            violation("return-codes", "sock#%u get_timeout() is not %u", r->id, ms);
    } else if (ret != CNET_ERR_STREAM_DESTROYED) {
        violation("return-codes", "set_timeout returned %lld", ret);
    }
}

static void op_set_encoding(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    const char *enc = encodings[rng_below(g, sizeof encodings / sizeof encodings[0])];
    long long ret, want;

    (void)cv;
    if (!r)
        return;
    ret = API(cnet_socket_set_encoding(r->s, enc));
    trace("#%u sock#%u set_encoding(%s) -> %lld", C.ops_done, r->id, enc ? enc : "NULL", ret);
    want = !enc || encoding_class(enc) == 1 ? 0 : CNET_ERR_UNKNOWN_ENCODING;
    if (ret != want && encoding_class(enc) != -1)
        violation("return-codes", "set_encoding(\"%s\") returned %lld, expected %lld",
                  enc ? enc : "NULL", ret, want);
}

static void op_pipe(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *src = pick_sock(g, cs), *dst;
    bool end = rng_chance(g, 60);
    long long ret;

    (void)cv;
    if (!src)
        return;
    if (rng_chance(g, 25)) {
        ret = API(cnet_socket_unpipe(src->s));
        trace("#%u sock#%u unpipe -> %lld", C.ops_done, src->id, ret);
        if (ret != 0)
            violation("return-codes", "unpipe returned %lld", ret);
        return;
    }
    dst = rng_chance(g, 20) ? src : pick_sock(g, NULL);
    if (!dst)
        return;
    ret = API(cnet_socket_pipe(src->s, dst->s, end));
    trace("#%u sock#%u pipe -> sock#%u end=%d -> %lld %s", C.ops_done, src->id, dst->id, end, ret,
          ret ? cnet_err_name((int)ret) : "");
    if (ret != 0 && ret != CNET_ERR_STREAM_DESTROYED && ret != CNET_ERR_STREAM_ALREADY_PIPED)
        violation("return-codes", "pipe returned %lld %s", ret, cnet_err_name((int)ret));
    if (ret == 0) {
        dst->ever_pipe_dst = true;
        src->ever_piped = dst->ever_piped = true;
    }
}

static void op_set_framing(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    static const unsigned headers[] = {1, 2, 4, 8, 3, 0};
    sockrec_t *r = pick_sock(g, cs);
    cnet_framing_opts_t o = CNET_FRAMING_OPTS_INIT;
    long long ret, want = 0;
    bool null_opts = rng_chance(g, 8);

    (void)cv;
    if (!r)
        return;
    o.mode = (cnet_framing_mode_t)rng_below(g, 4);
    o.max_size = rng_chance(g, 40) ? 1 + rng_below(g, 64) : 0;
    switch (o.mode) {
    case CNET_FRAMING_LINES:
        if (rng_chance(g, 20)) {
            o.delimiter = "";
            want = CNET_ERR_INVALID_ARG_VALUE;
        } else if (rng_chance(g, 40)) {
            o.delimiter = "\r\n";
        }
        break;
    case CNET_FRAMING_LENGTH_PREFIXED:
        o.header_bytes = headers[rng_below(g, 6)];
        o.little_endian = rng_chance(g, 50);
        if (o.header_bytes == 3 || o.header_bytes == 0)
            want = CNET_ERR_INVALID_ARG_VALUE;
        break;
    case CNET_FRAMING_FIXED:
        o.record_size = rng_below(g, 9);
        if (o.record_size == 0)
            want = CNET_ERR_INVALID_ARG_VALUE;
        break;
    default:
        break;
    }
    if (rng_chance(g, 4)) {
        o.size = 0; /* a struct zeroed without the macro */
        want = CNET_ERR_INVALID_ARG_VALUE;
    }
    if (null_opts)
        want = 0;
    ret = API(cnet_socket_set_framing(r->s, null_opts ? NULL : &o));
    trace("#%u sock#%u set_framing mode=%d hdr=%u rec=%zu max=%zu%s -> %lld", C.ops_done, r->id,
          (int)o.mode, o.header_bytes, o.record_size, o.max_size, null_opts ? " (NULL)" : "", ret);
    if (ret != want)
        violation("return-codes", "set_framing returned %lld, expected %lld", ret, want);
    if (ret == 0 && !null_opts && o.mode != CNET_FRAMING_NONE)
        r->ever_framing = true;
}

static void op_sock_listeners(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    int type;
    unsigned v = rng_below(g, 10);
    token_t *t;
    long long ret;
    size_t before;

    (void)cv;
    if (!r)
        return;
    type = (int)rng_below(g, CNET_EVENT__COUNT);
    before = (size_t)API(cnet_socket_listener_count(r->s, (cnet_event_type_t)type));
    if (v == 9) {
        /* off_all of one type or all types; our recorder comes straight back. */
        int which = rng_chance(g, 30) ? (int)CNET_EVENT_ALL : type;
        bool pipe_close =
            r->ever_piped && (which == (int)CNET_EVENT_ALL || which == (int)CNET_EVENT_CLOSE);
        if (pipe_close && (cfg.skip & KNOWN_OFFALL_PIPED))
            which = (int)CNET_EVENT_DATA; /* a piped socket keeps its 'close' listeners */
        else if (pipe_close)
            r->offall_piped_op = C.ops_done;
        ret = API(cnet_socket_off_all(r->s, (cnet_event_type_t)which));
        trace("#%u sock#%u off_all(%s) -> %lld", C.ops_done, r->id,
              which == (int)CNET_EVENT_ALL ? "ALL" : cnet_event_name(type), ret);
        if (ret != 0 ||
            API(cnet_socket_listener_count(
                r->s, (cnet_event_type_t)(which == (int)CNET_EVENT_ALL ? type : which))) != 0)
            violation("return-codes", "sock#%u off_all left listeners (ret %lld)", r->id, ret);
        tok_relax(r, NULL, which);
        sock_attach(r, which);
        return;
    }
    t = tok_new("socket listener", r, NULL, type);
    switch (v) {
    case 0:
    case 1:
        ret = API(cnet_socket_on(r->s, (cnet_event_type_t)type, xl_sock, t));
        break;
    case 2:
        t->has_free = true;
        ret = API(cnet_socket_on_ex(r->s, (cnet_event_type_t)type, xl_sock, t, xl_free));
        break;
    case 3:
    case 4:
        t->once = true;
        ret = API(cnet_socket_once(r->s, (cnet_event_type_t)type, xl_sock, t));
        break;
    case 5:
        ret = API(cnet_socket_prepend(r->s, (cnet_event_type_t)type, xl_sock, t));
        if (ret == 0)
            sock_attach(r, type); /* the recorder stays first */
        break;
    case 6:
        t->once = true;
        ret = API(cnet_socket_prepend_once(r->s, (cnet_event_type_t)type, xl_sock, t));
        if (ret == 0)
            sock_attach(r, type);
        break;
    default:
        /* invalid: a bad type or a NULL callback */
        if (v == 7)
            ret = API(cnet_socket_on(r->s, (cnet_event_type_t)(CNET_EVENT__COUNT + 3), xl_sock, t));
        else
            ret = API(cnet_socket_once(r->s, (cnet_event_type_t)type, NULL, t));
        trace("#%u sock#%u invalid listener -> %lld", C.ops_done, r->id, ret);
        if (ret != (v == 7 ? CNET_ERR_INVALID_ARG_VALUE : CNET_ERR_INVALID_ARG_TYPE))
            violation("return-codes", "an invalid listener returned %lld", ret);
        tok_settle(t, ret, EXP_ANY);
        return;
    }
    trace("#%u sock#%u listener(%u) '%s' tok#%u -> %lld", C.ops_done, r->id, v,
          cnet_event_name(type), t->id, ret);
    tok_settle(t, ret, EXP_ANY);
    if (ret != 0 ||
        API(cnet_socket_listener_count(r->s, (cnet_event_type_t)type)) != (long long)before + 1)
        violation("return-codes", "sock#%u adding a '%s' listener: ret %lld, count %zu -> %lld",
                  r->id, cnet_event_name(type), ret, before,
                  API(cnet_socket_listener_count(r->s, (cnet_event_type_t)type)));
    if (rng_chance(g, 30)) {
        (void)API(cnet_socket_off(r->s, (cnet_event_type_t)type, xl_sock, t));
        trace("#%u sock#%u off tok#%u", C.ops_done, r->id, t->id);
        if (API(cnet_socket_listener_count(r->s, (cnet_event_type_t)type)) != (long long)before)
            violation("return-codes", "sock#%u off() did not remove the listener", r->id);
    }
}

static void op_sock_misc(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    cnet_address_t a;
    cnet_ready_state_t st;
    const char *stname;
    long long ret;
    size_t hwm;

    (void)cv;
    if (!r)
        return;
    switch (rng_below(g, 8)) {
    case 0:
    case 1:
        if (r->my_retains == 0 || rng_chance(g, 60)) {
            VAPI(cnet_socket_retain(r->s));
            r->my_retains++;
            trace("#%u sock#%u retain (%d)", C.ops_done, r->id, r->my_retains);
        } else {
            r->my_retains--;
            VAPI(cnet_socket_release(r->s));
            trace("#%u sock#%u release (%d)", C.ops_done, r->id, r->my_retains);
            if (!r->open && !r->in_close && r->my_retains == 0)
                r->freed = true;
        }
        break;
    case 2:
        ret = API(cnet_socket_set_no_delay(r->s, rng_chance(g, 50)));
        trace("#%u sock#%u set_no_delay -> %lld", C.ops_done, r->id, ret);
        ret = API(cnet_socket_set_keep_alive(r->s, rng_chance(g, 50), rng_below(g, 5000)));
        trace("#%u sock#%u set_keep_alive -> %lld", C.ops_done, r->id, ret);
        break;
    case 3:
        hwm = rng_chance(g, 20) ? 0 : (size_t)1 << rng_below(g, 17);
        ret = API(cnet_socket_set_high_water_mark(r->s, hwm));
        trace("#%u sock#%u set_high_water_mark(%zu) -> %lld", C.ops_done, r->id, hwm, ret);
        if (ret != 0 || (size_t)API(cnet_socket_get_high_water_mark(r->s)) != hwm)
            violation("return-codes", "sock#%u high water mark not kept", r->id);
        break;
    case 4:
        if (rng_chance(g, 50))
            VAPI(cnet_socket_unref(r->s));
        else
            VAPI(cnet_socket_ref(r->s));
        trace("#%u sock#%u ref/unref", C.ops_done, r->id);
        break;
    case 5:
        VAPI(cnet_socket_set_data(r->s, r));
        if ((void *)(intptr_t)API(cnet_socket_get_data(r->s)) != r)
            violation("return-codes", "sock#%u get_data() lost set_data()", r->id);
        if ((void *)(intptr_t)API(cnet_socket_loop(r->s)) != C.loop)
            violation("return-codes", "sock#%u cnet_socket_loop() is not the default loop", r->id);
        break;
    default:
        /* state queries: they must agree with each other */
        st = (cnet_ready_state_t)API(cnet_socket_ready_state(r->s));
        VAPI(stname = cnet_ready_state_name(st));
        if (!stname)
            violation("return-codes", "ready_state_name(%d) is NULL", (int)st);
        if (API(cnet_socket_is_destroyed(r->s)) && st != CNET_STATE_CLOSED)
            violation("return-codes", "sock#%u destroyed but readyState %s", r->id, stname);
        (void)API(cnet_socket_is_readable(r->s));
        (void)API(cnet_socket_writable_length(r->s));
        (void)API(cnet_socket_writable_need_drain(r->s));
        (void)API(cnet_socket_bytes_read(r->s));
        (void)API(cnet_socket_bytes_written(r->s));
        if (r->unix_sock && (cfg.skip & KNOWN_UNIX_ADDRESS_UNINIT))
            break; /* the address of an unnamed Unix socket reads uninitialised memory */
        ret = API(cnet_socket_address(r->s, &a));
        if (ret == 0 && a.family != 0 && a.family != 4 && a.family != 6)
            violation("return-codes", "sock#%u address() family %d", r->id, a.family);
        ret = API(cnet_socket_remote_address(r->s, &a));
        if (ret == 0 && a.family != 0 && a.family != 4 && a.family != 6)
            violation("return-codes", "sock#%u remote_address() family %d", r->id, a.family);
        trace("#%u sock#%u state %s", C.ops_done, r->id, stname ? stname : "?");
        break;
    }
}

/* ---- operations: invalid arguments and the loop ------------------------------------------ */

static void expect_code(const char *what, long long ret, long long want)
{
    if (ret != want)
        violation("return-codes", "%s returned %lld %s, expected %s", what, ret,
                  cnet_err_name((int)ret), cnet_err_name((int)want));
}

static void op_invalid(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    srvrec_t *sv = pick_srv(g, cv);
    cnet_socket_t *s = r ? r->s : NULL, *out = NULL;
    cnet_server_t *srvout = NULL;
    cnet_address_t a;
    token_t *t = tok_new("callback of an invalid call", r, sv, -1);
    long long ret = 0;
    unsigned v = rng_below(g, 24);
    char buf[8] = "abcdefg";

    switch (v) {
    case 0:
        ret = API(cnet_socket_write(NULL, buf, 3, write_cb, t));
        expect_code("write(NULL socket)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 1:
        if (!s)
            break;
        /* cnet.h: "CNET_ERR_STREAM_NULL_VALUES (@p data NULL with @p len > 0: Node's
         * write(null), refused whatever the socket's state)" */
        ret = API(cnet_socket_write(s, NULL, 3, write_cb, t));
        expect_code("write(NULL data, 3)", ret, CNET_ERR_STREAM_NULL_VALUES);
        break;
    case 2: {
        /* rejected write_ex with dispose: every buffer is still disposed */
        cnet_buf_t b[2];
        b[0].base = dispbuf_new(g, 5)->data;
        b[0].len = 5;
        b[1].base = dispbuf_new(g, 3)->data;
        b[1].len = 3;
        ret = API(cnet_socket_write_ex(NULL, b, 2, my_dispose, write_cb, t));
        expect_code("write_ex(NULL socket)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    }
    case 3:
        ret = API(cnet_socket_end(NULL, buf, 2, write_cb, t));
        expect_code("end(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 4:
        ret = API(cnet_socket_write_enc(NULL, "ab", 2, "hex", write_cb, t));
        expect_code("write_enc(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_write_frame(NULL, "ab", 2, write_cb, t));
        expect_code("write_frame(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        /* cnet.h: "NULL is CNET_ERR_STREAM_NULL_VALUES (Node's write(null))" */
        ret = API(cnet_socket_write_str(s, NULL));
        expect_code("write_str(NULL str)", ret,
                    s ? CNET_ERR_STREAM_NULL_VALUES : CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 5:
        ret = API(cnet_socket_set_timeout(NULL, 5, xl_sock, t));
        expect_code("set_timeout(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_set_encoding(NULL, "utf8"));
        expect_code("set_encoding(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_set_framing(NULL, NULL));
        expect_code("set_framing(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 6:
        ret = API(cnet_socket_pipe(NULL, s, true));
        expect_code("pipe(NULL, dst)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_pipe(s, NULL, true));
        expect_code("pipe(src, NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_unpipe(NULL));
        expect_code("unpipe(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_reset_and_destroy(NULL));
        expect_code("reset_and_destroy(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 7:
        /* void functions and predicates take NULL */
        VAPI(cnet_socket_destroy(NULL));
        VAPI(cnet_socket_destroy_with_error(NULL, CNET_EPIPE));
        VAPI(cnet_socket_pause(NULL));
        VAPI(cnet_socket_resume(NULL));
        VAPI(cnet_socket_cork(NULL));
        VAPI(cnet_socket_uncork(NULL));
        VAPI(cnet_socket_ref(NULL));
        VAPI(cnet_socket_unref(NULL));
        VAPI(cnet_socket_retain(NULL));
        VAPI(cnet_socket_release(NULL));
        VAPI(cnet_socket_set_data(NULL, buf));
        VAPI(cnet_server_destroy(NULL));
        VAPI(cnet_server_ref(NULL));
        VAPI(cnet_server_unref(NULL));
        VAPI(cnet_server_retain(NULL));
        VAPI(cnet_server_release(NULL));
        VAPI(cnet_server_set_data(NULL, buf));
        if (API(cnet_socket_get_data(NULL)) || API(cnet_server_get_data(NULL)) ||
            API(cnet_socket_is_paused(NULL)) || API(cnet_socket_is_connecting(NULL)) ||
            !API(cnet_socket_is_destroyed(NULL)) || API(cnet_socket_is_writable(NULL)) ||
            API(cnet_server_is_listening(NULL)) || API(cnet_socket_listener_count(NULL, 0)) ||
            API(cnet_socket_ready_state(NULL)) != CNET_STATE_CLOSED)
            violation("return-codes", "a predicate on NULL gave a non-default answer");
        break;
    case 8:
        ret = API(cnet_socket_on(NULL, CNET_EVENT_DATA, xl_sock, t));
        expect_code("on(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_off(NULL, CNET_EVENT_DATA, xl_sock, t));
        expect_code("off(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_off_all(NULL, CNET_EVENT_ALL));
        expect_code("off_all(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_on(NULL, CNET_EVENT_CLOSE, xl_srv, t));
        expect_code("server_on(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        if (sv) {
            ret = API(cnet_server_on(sv->srv, (cnet_event_type_t)-1, xl_srv, t));
            expect_code("server_on(bad type)", ret, CNET_ERR_INVALID_ARG_VALUE);
            ret = API(cnet_server_once(sv->srv, CNET_EVENT_CLOSE, NULL, t));
            expect_code("server_once(NULL cb)", ret, CNET_ERR_INVALID_ARG_TYPE);
        }
        break;
    case 9:
        if (!s)
            break;
        ret = API(cnet_socket_connect_opts(s, NULL, xl_sock, t));
        /* cnet.h: "CNET_ERR_MISSING_ARGS (@p opts NULL)" */
        expect_code("connect_opts(NULL opts)", ret, CNET_ERR_MISSING_ARGS);
        ret = API(cnet_socket_connect_path(s, NULL, xl_sock, t));
        expect_code("connect_path(NULL path)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_connect(NULL, 80, "127.0.0.1", xl_sock, t));
        expect_code("connect(NULL socket)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 10: {
        cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
        o.port = cfg.closed_port;
        o.host = "127.0.0.1";
        o.family = 5;
        ret = API(cnet_create_connection(C.loop, &o, NULL, NULL, &out));
        if (ret == 0 && out) {
            /* refused by cnet today; if a parity change takes it, it is one more socket */
            sockrec_t *nr = sock_record(out, false, NULL);
            if (nr)
                nr->connecting = true;
            else
                VAPI(cnet_socket_destroy(out));
        } else if (ret >= 0) {
            violation("return-codes", "create_connection(family 5) returned %lld", ret);
        }
        out = NULL;
        ret = API(cnet_create_connection(C.loop, NULL, xl_sock, t, &out));
        /* cnet.h: "CNET_ERR_MISSING_ARGS when @p opts is NULL" */
        expect_code("create_connection(NULL opts)", ret, CNET_ERR_MISSING_ARGS);
        ret = API(cnet_create_connection(C.loop, &o, xl_sock, t, NULL));
        expect_code("create_connection(NULL out)", ret, CNET_ERR_INVALID_ARG_TYPE);
        o.size = 0;
        o.family = 0;
        ret = API(cnet_create_connection(C.loop, &o, xl_sock, t, &out));
        expect_code("create_connection(size 0)", ret, CNET_ERR_INVALID_ARG_VALUE);
        if (out)
            violation("return-codes", "a failed create_connection set *out");
        VAPI(out = cnet_connect(70000, "127.0.0.1", xl_sock, t));
        if (out)
            violation("return-codes", "cnet_connect(70000) returned a socket");
        VAPI(out = cnet_connect_path(NULL, xl_sock, t));
        if (out)
            violation("return-codes", "cnet_connect_path(NULL) returned a socket");
        break;
    }
    case 11: {
        /* a newer program's struct: larger, with a non-zero field we do not know */
        struct {
            cnet_socket_opts_t o;
            char future[16];
        } big;
        memset(&big, 0, sizeof big);
        big.o.size = sizeof big;
        big.future[rng_below(g, 16)] = 1;
        ret = API(cnet_socket_new(C.loop, &big.o, &out));
        expect_code("socket_new(newer struct, unknown field set)", ret, CNET_ERR_INVALID_ARG_VALUE);
        ret = API(cnet_socket_new(C.loop, NULL, NULL));
        expect_code("socket_new(NULL out)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_new(C.loop, NULL, NULL));
        expect_code("server_new(NULL out)", ret, CNET_ERR_INVALID_ARG_TYPE);
        {
            cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
            so.size = 1;
            ret = API(cnet_server_new(C.loop, &so, &srvout));
            expect_code("server_new(size 1)", ret, CNET_ERR_INVALID_ARG_VALUE);
        }
        break;
    }
    case 12:
        ret = API(cnet_server_listen(NULL, 0, "127.0.0.1", xl_srv, t));
        expect_code("listen(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_listen_path(sv ? sv->srv : NULL, NULL, xl_srv, t));
        expect_code("listen_path(NULL path)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_close(NULL, xl_srv, t));
        expect_code("server_close(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_address(NULL, &a));
        expect_code("server_address(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 13:
        if (!sv)
            break;
        ret = API(cnet_server_get_connections(sv->srv, NULL, t));
        expect_code("get_connections(NULL cb)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_get_connections(NULL, count_cb, t));
        expect_code("get_connections(NULL server)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_set_max_connections(NULL, 1));
        expect_code("set_max_connections(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        if (API(cnet_server_address(sv->srv, NULL)) != CNET_ERR_INVALID_ARG_TYPE)
            violation("return-codes", "server_address(out NULL) accepted");
        break;
    case 14:
        /* the loop from inside a callback (not from main's first operations) */
        if (!C.in_run)
            break;
        expect_code("cnet_loop_run (nested)", API(cnet_loop_run(C.loop)), CNET_ERR_LOOP_BUSY);
        if (API(cnet_loop_run_nowait(C.loop)))
            violation("return-codes", "cnet_loop_run_nowait ran a loop that is running");
        expect_code("cnet_loop_close (running)", API(cnet_loop_close(C.loop)), CNET_ERR_LOOP_BUSY);
        expect_code("cnet_run (nested)", API(cnet_run()), CNET_ERR_LOOP_BUSY);
        expect_code("cnet_loop_run(NULL)", API(cnet_loop_run(NULL)), CNET_ERR_INVALID_ARG_TYPE);
        expect_code("cnet_loop_close(NULL)", API(cnet_loop_close(NULL)), CNET_ERR_INVALID_ARG_TYPE);
        if (API(cnet_loop_alive(C.loop)) < live_socks() + live_srvs())
            violation("return-codes", "cnet_loop_alive() is %lld with %u objects open",
                      API(cnet_loop_alive(C.loop)), live_socks() + live_srvs());
        (void)API(cnet_loop_now(C.loop));
        if (cnet_loop_default() != C.loop)
            violation("return-codes", "cnet_loop_default() changed during a run");
        break;
    case 15: {
        cnet_loop_t *other = NULL;
        ret = API(cnet_loop_new(&other));
        expect_code("cnet_loop_new", ret, 0);
        if (other)
            expect_code("cnet_loop_close(new loop)", API(cnet_loop_close(other)), 0);
        expect_code("cnet_loop_new(NULL)", API(cnet_loop_new(NULL)), CNET_ERR_INVALID_ARG_TYPE);
        break;
    }
    case 16: {
        int code = -(int)rng_below(g, 6000);
        const char *n1, *n2, *n3;
        VAPI(n1 = cnet_err_name(code));
        VAPI(n2 = cnet_strerror(code));
        VAPI(n3 = cnet_event_name((cnet_event_type_t)rng_below(g, 40)));
        (void)n3;
        if (!n1 || !n2)
            violation("return-codes", "cnet_err_name/strerror(%d) returned NULL", code);
        if (API(cnet_event_name((cnet_event_type_t)(CNET_EVENT__COUNT + 1))))
            violation("return-codes", "cnet_event_name(out of range) is not NULL");
        break;
    }
    case 17: {
        char text[64];
        rand_text(g, text, sizeof text);
        (void)API(cnet_is_ip(text));
        (void)API(cnet_is_ipv4(text));
        (void)API(cnet_is_ipv6(text));
        if (API(cnet_is_ip(NULL)) != 0 || API(cnet_is_ip("127.0.0.1")) != 4 ||
            API(cnet_is_ip("::1")) != 6)
            violation("return-codes", "cnet_is_ip disagrees with node");
        break;
    }
    case 18:
        if (!s)
            break;
        ret = API(cnet_socket_address(s, NULL));
        expect_code("address(out NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_remote_address(NULL, &a));
        expect_code("remote_address(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 19:
        if (!s)
            break;
        {
            /* write_frame with data that does not fit the mode: rejected, no callback */
            ret = API(cnet_socket_write_frame(s, NULL, 4, write_cb, t));
            if (ret >= 0)
                violation("return-codes", "write_frame(NULL, 4) returned %lld", ret);
        }
        break;
    case 20:
        ret = API(cnet_server_off_all(NULL, CNET_EVENT_ALL));
        expect_code("server_off_all(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_off(NULL, CNET_EVENT_CLOSE, xl_srv, t));
        expect_code("server_off(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_prepend(NULL, CNET_EVENT_CLOSE, xl_srv, t));
        expect_code("server_prepend(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_server_on_ex(NULL, CNET_EVENT_CLOSE, xl_srv, t, NULL));
        expect_code("server_on_ex(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 21:
        if (!s)
            break;
        ret = API(cnet_socket_set_high_water_mark(NULL, 5));
        expect_code("set_high_water_mark(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_set_no_delay(NULL, true));
        expect_code("set_no_delay(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        ret = API(cnet_socket_set_keep_alive(NULL, true, 0));
        expect_code("set_keep_alive(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    case 22:
        /* the end of a loop run: cnet_loop_run() returns, the main loop runs it again */
        if (rng_chance(g, 20)) {
            VAPI(cnet_loop_stop(C.loop));
            trace("#%u loop_stop", C.ops_done);
        }
        VAPI(cnet_loop_stop(NULL));
        break;
    default:
        ret = API(cnet_replace_allocator(NULL, realloc, calloc, free));
        expect_code("replace_allocator(NULL)", ret, CNET_ERR_INVALID_ARG_TYPE);
        break;
    }
    trace("#%u invalid-args case %u", C.ops_done, v);
    tok_settle(t, -1, EXP_NEVER);
}

/* ---- the operation table ----------------------------------------------------------------- */

/* ---- operations: TLS (--tls) ------------------------------------------------------------- */

/* The seeds' setSecure / new TLSSocket(socket): either side, on any socket. */
static void op_set_secure(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    cnet_tls_socket_opts_t o = CNET_TLS_SOCKET_OPTS_INIT;
    sockrec_t *r = pick_sock(g, cs);
    bool was_tls, destroyed;
    long long ret;

    (void)cv;
    if (!r)
        return;
    o.is_server = rng_chance(g, 50);
    if (rng_chance(g, 20))
        o.reject_unauthorized = CNET_TLS_OFF;
    was_tls = API(cnet_socket_is_tls(r->s));
    destroyed = API(cnet_socket_is_destroyed(r->s));
    bool with_opts = rng_chance(g, 80);
    ret = API(cnet_socket_set_secure(r->s, o.is_server ? cfg.server_ctx : cfg.client_ctx,
                                     with_opts ? &o : NULL));
    trace("#%u sock#%u set_secure(%s) -> %lld %s", C.ops_done, r->id,
          o.is_server ? "server" : "client", ret, ret ? cnet_err_name((int)ret) : "");
    if (ret == 0) {
        if (was_tls || destroyed)
            violation("return-codes", "sock#%u set_secure accepted on a %s socket", r->id,
                      was_tls ? "TLS" : "destroyed");
        r->tls = true;
        if (!with_opts || !o.is_server)
            r->tls_connect = true; /* a client: 'secureConnect' as tls.connect({socket}) */
        sock_hist(r, "set_secure()");
    } else if (ret != CNET_ERR_INVALID_ARG_VALUE && ret != CNET_ERR_SOCKET_CLOSED &&
               ret != CNET_ERR_STREAM_WRITE_AFTER_END && ret != CNET_ERR_STREAM_DESTROYED) {
        violation("return-codes", "sock#%u set_secure returned %lld %s", r->id, ret,
                  cnet_err_name((int)ret));
    } else if (ret == CNET_ERR_INVALID_ARG_VALUE && !was_tls) {
        violation("return-codes", "sock#%u set_secure: INVALID_ARG_VALUE on a plain socket", r->id);
    }
}

/* The TLSSocket accessors, on TLS and plain sockets alike. */
static void op_tls_misc(rng_t *g, sockrec_t *cs, srvrec_t *cv)
{
    sockrec_t *r = pick_sock(g, cs);
    const cnet_tls_cert_t *cert = NULL;
    const char *a = NULL, *b = NULL, *c = NULL;
    unsigned char *sess = NULL;
    size_t len = 0;
    long long ret;
    bool tls;

    (void)cv;
    if (!r)
        return;
    tls = API(cnet_socket_is_tls(r->s));
    if (tls && !r->tls)
        violation("return-codes", "sock#%u is_tls() on a socket never made TLS", r->id);
    (void)API(cnet_socket_tls_authorized(r->s));
    (void)API(cnet_socket_verify_peer(r->s));
    ret = API(cnet_socket_tls_authorization_error(r->s, rng_chance(g, 50) ? &a : NULL));
    if (ret > 0 || (ret == 0 && a))
        violation("return-codes", "sock#%u authorization_error %lld with message %s", r->id, ret,
                  a ? a : "(none)");
    if (a)
        touch_bytes(a, strlen(a));
    (void)API(cnet_socket_tls_protocol(r->s));
    ret = API(cnet_socket_tls_cipher(r->s, &a, &b, &c));
    if (ret != 0 && ret != CNET_ERR_TLS_INVALID_STATE)
        violation("return-codes", "sock#%u tls_cipher returned %lld", r->id, ret);
    (void)API(cnet_socket_tls_alpn_protocol(r->s));
    (void)API(cnet_socket_tls_servername(r->s));
    (void)API(cnet_socket_tls_session_reused(r->s));
    ret = API(cnet_socket_tls_get_session(r->s, &sess, &len));
    if (ret != 0 || (!tls && sess) || (sess && !len))
        violation("return-codes", "sock#%u get_session returned %lld (%zu bytes)", r->id, ret, len);
    if (sess)
        touch_bytes((const char *)sess, len);
    VAPI(cnet_tls_free(sess));
    ret = API(cnet_socket_tls_peer_certificate(r->s, rng_chance(g, 50), &cert));
    if (ret != 0 || (!tls && cert))
        violation("return-codes", "sock#%u peer_certificate returned %lld", r->id, ret);
    if (cert && cert->subject.text)
        touch_bytes(cert->subject.text, strlen(cert->subject.text));
    VAPI(cnet_tls_cert_free(cert));
}

typedef void (*op_fn)(rng_t *g, sockrec_t *cs, srvrec_t *cv);

static const struct {
    op_fn fn;
    unsigned weight;
} ops[] = {
    {op_new_client, 7},  {op_new_server, 2},  {op_listen, 2},        {op_server_close, 2},
    {op_server_misc, 4}, {op_write, 14},      {op_write_str, 2},     {op_write_ex, 8},
    {op_write_enc, 3},   {op_write_frame, 3}, {op_end, 6},           {op_destroy, 5},
    {op_flow, 5},        {op_cork, 2},        {op_set_timeout, 2},   {op_set_encoding, 2},
    {op_pipe, 3},        {op_set_framing, 2}, {op_connect_again, 3}, {op_sock_listeners, 4},
    {op_sock_misc, 5},   {op_invalid, 4},     {op_set_secure, 0},    {op_tls_misc, 0},
};

/* Weights of the TLS operations under --tls (0 otherwise). */
static unsigned op_weight(size_t i)
{
    if (ops[i].fn == op_set_secure)
        return cfg.tls ? 3 : 0;
    if (ops[i].fn == op_tls_misc)
        return cfg.tls ? 4 : 0;
    return ops[i].weight;
}

static void start_drain(const char *why);

static void do_ops(rng_t *g, sockrec_t *cs, srvrec_t *cv, unsigned n)
{
    static unsigned total_weight;

    if (!total_weight)
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            total_weight += op_weight(i);
    while (n-- > 0 && !C.draining) {
        unsigned w = rng_below(g, total_weight);
        size_t i = 0;
        while (w >= op_weight(i))
            w -= op_weight(i++);
        int d0 = depth;
        C.ops_done++;
        stats.ops++;
        ops[i].fn(g, cs, cv);
        if (depth != d0)
            TEST_FAIL_("test bug: op %zu left depth %d", i, depth);
        if (C.ops_done >= cfg.ops)
            start_drain("operation budget spent");
    }
}

/* ---- drain and the pulse ------------------------------------------------------------------ */

static void start_drain(const char *why)
{
    if (C.draining)
        return;
    C.draining = true;
    C.drain_pulse = C.pulses;
    trace("drain: %s", why);
    for (unsigned i = 0; i < C.nsocks; i++) {
        sockrec_t *r = C.socks[i];
        if (!sock_usable(r))
            continue;
        if (r->open) {
            VAPI(cnet_socket_destroy(r->s));
            trace("drain: sock#%u destroy", r->id);
        } else if (!r->in_close)
            sock_release_all(r); /* closed and only kept by us */
    }
    for (unsigned i = 0; i < C.nsrvs; i++) {
        srvrec_t *r = C.srvs[i];
        if (!srv_usable(r))
            continue;
        if (r->open && !r->closing) {
            long long ret = API(cnet_server_close(r->srv, NULL, NULL));
            trace("drain: srv#%u close -> %lld", r->id, ret);
            if (ret != 0)
                violation("return-codes", "srv#%u close() in the drain returned %lld", r->id, ret);
        } else if (!r->open && !r->in_close)
            srv_release_all(r);
    }
    uv_unref((uv_handle_t *)&C.pulse);
}

static bool all_closed(void)
{
    for (unsigned i = 0; i < C.nsocks; i++)
        if (C.socks[i]->open)
            return false;
    for (unsigned i = 0; i < C.nsrvs; i++)
        if (C.srvs[i]->open)
            return false;
    return true;
}

static void pulse_cb(uv_timer_t *timer)
{
    (void)timer;
    enter_cb("pulse timer");
    C.pulses++;
    if (!C.draining) {
        /* Nothing happened since the last pulse: move things along. */
        if (C.ops_done == C.pulse_ops_mark)
            do_ops(&C.rng, NULL, NULL, 1 + rng_below(&C.rng, 4));
        C.pulse_ops_mark = C.ops_done;
        if (C.pulses > 4000)
            start_drain("time budget spent");
        return;
    }
    if (all_closed()) {
        uv_timer_stop(&C.pulse);
        return;
    }
    if (C.pulses - C.drain_pulse > (unsigned)(3000 * test_timeout_multiplier())) {
        C.drain_timed_out = true;
        uv_timer_stop(&C.pulse);
        VAPI(cnet_loop_stop(C.loop));
    }
}

/* ---- one seed -------------------------------------------------------------------------------- */

static void describe_sock(const sockrec_t *r)
{
    const char *state = "?";
    char known[96] = "";

    if (!r->freed && r->s)
        VAPI(state = cnet_ready_state_name(cnet_socket_ready_state(r->s)));
    if (r->k1_op)
        snprintf(known, sizeof known,
                 "; known defect pattern: reset-after-end (defect 1), reset at op %u", r->k1_op);
    violation("close-once",
              "sock#%u never emitted 'close' (life %d, %s, %s%s, readyState %s; events: %s)%s",
              r->id, r->life, r->accepted ? "accepted" : "client",
              r->s && API(cnet_socket_is_destroyed(r->s)) ? "destroyed" : "not destroyed",
              r->half_open ? ", allowHalfOpen" : "", state, r->hist, known);
}

static void final_checks(void)
{
    bool leaks = false;

    for (unsigned i = 0; i < C.nsocks; i++) {
        sockrec_t *r = C.socks[i];
        if (r->open) {
            describe_sock(r);
            fifo_report(r, "the end of the seed");
            leaks = true;
        }
    }
    for (unsigned i = 0; i < C.nsrvs; i++) {
        srvrec_t *r = C.srvs[i];
        if (r->open) {
            violation("close-once", "srv#%u never emitted 'close' (life %d; events: %s)", r->id,
                      r->life, r->hist);
            leaks = true;
        }
    }
    for (size_t i = 0; i < C.ntokens; i++) {
        token_t *t = C.tokens[i];
        if (t->expect == EXP_ONCE && t->calls == 0 && !t->reported) {
            t->reported = true;
            violation("callbacks", "%s tok#%u (op %u) was accepted and never called%s%s", t->what,
                      t->id, t->op, t->known ? "; known defect pattern: " : "",
                      t->known ? t->known : "");
        }
    }
    /* What we still retain can go now. */
    for (unsigned i = 0; i < C.nsocks; i++)
        if (!C.socks[i]->freed && !C.socks[i]->open)
            sock_release_all(C.socks[i]);
    for (unsigned i = 0; i < C.nsrvs; i++)
        if (C.srvs[i]->closes_due > 0)
            violation("close-once", "srv#%u: %d 'close' events owed by close() never came",
                      C.srvs[i]->id, C.srvs[i]->closes_due);
    for (unsigned i = 0; i < C.nsrvs; i++)
        if (!C.srvs[i]->freed && !C.srvs[i]->open)
            srv_release_all(C.srvs[i]);
    for (size_t i = 0; i < C.ndisp; i++) {
        dispbuf_t *d = C.disp[i];
        if (d->disposes != 1 && !leaks)
            violation("dispose", "buffer of op %u (%zu bytes) disposed %d times", d->op, d->len,
                      d->disposes);
    }
    if (C.null_disposes != C.null_disposes_expected && !leaks)
        violation("dispose", "dispose(NULL) ran %ld times for %ld NULL bases", C.null_disposes,
                  C.null_disposes_expected);
    if (API(cnet_loop_alive(C.loop)) != 0) {
        char hint[160] = "";
        for (unsigned i = 0; i < C.nsocks && !hint[0]; i++)
            if (C.socks[i]->offall_piped_op)
                snprintf(hint, sizeof hint,
                         "; known defect pattern: offall-piped (off_all('close') on piped "
                         "sock#%u at op %u)",
                         C.socks[i]->id, C.socks[i]->offall_piped_op);
        violation("nothing-alive", "cnet_loop_alive() is %lld after the drain%s",
                  API(cnet_loop_alive(C.loop)), hint);
        leaks = true;
    }
    for (size_t i = 0; i < C.ntokens && !leaks; i++) {
        token_t *t = C.tokens[i];
        if (t->has_free && t->free_expected && t->frees != 1)
            violation("arg-free", "arg_free of tok#%u (op %u) ran %d times", t->id, t->op,
                      t->frees);
    }
}

static void prep_cb(uv_prepare_t *h)
{
    (void)h;
    C.iter++;
}

static void on_pulse_closed(uv_handle_t *h)
{
    (void)h;
}

static void seed_cleanup(void)
{
    for (unsigned i = 0; i < C.nsocks; i++)
        free(C.socks[i]);
    for (unsigned i = 0; i < C.nsrvs; i++)
        free(C.srvs[i]);
    for (size_t i = 0; i < C.ntokens; i++)
        free(C.tokens[i]);
    free(C.tokens);
    for (size_t i = 0; i < C.ndisp; i++) {
        CHAOS_UNPOISON(C.disp[i]->data, C.disp[i]->len ? C.disp[i]->len : 1);
        free(C.disp[i]->data);
        free(C.disp[i]);
    }
    free(C.disp);
}

/* Returns true when the seed passed. */
static bool run_seed(uint64_t seed)
{
    long long ret;
    int runs = 0;
    bool ok;

    memset(&C, 0, sizeof C);
    C.seed = seed;
    C.rng = rng_derive(seed, 0);
    set_repro(seed);
    test_watchdog(60);
    trace("seed %llu", (unsigned long long)seed);
    C.allocs_at_start = allocs;
    C.loop = cnet_loop_default();
    ASSERT(C.loop != NULL);
    ASSERT_EQ(0, uv_timer_init(cnet_loop_get_uv(C.loop), &C.pulse));
    ASSERT_EQ(0, uv_timer_start(&C.pulse, pulse_cb, 1, 1));
    ASSERT_EQ(0, uv_prepare_init(cnet_loop_get_uv(C.loop), &C.prep));
    ASSERT_EQ(0, uv_prepare_start(&C.prep, prep_cb));
    uv_unref((uv_handle_t *)&C.prep);

    /* A start: a server or two and some clients, from a fresh stack. */
    C.ops_done++;
    op_new_server(&C.rng, NULL, NULL);
    do_ops(&C.rng, NULL, NULL, 4);
    while (!C.drain_timed_out) {
        C.in_run = true;
        ret = cnet_loop_run(C.loop);
        C.in_run = false;
        if (ret != 0)
            violation("return-codes", "cnet_loop_run returned %lld", ret);
        /* Returned early (a cnet_loop_stop() of an operation)? Run on. */
        if (C.draining && !uv_loop_alive(cnet_loop_get_uv(C.loop)))
            break;
        if (++runs > 1000)
            start_drain("cnet_loop_run keeps returning");
    }
    if (C.drain_timed_out)
        violation("close-once", "the drain did not finish: objects still open after %u ms",
                  (unsigned)(3000 * test_timeout_multiplier()));
    uv_close((uv_handle_t *)&C.pulse, on_pulse_closed);
    uv_close((uv_handle_t *)&C.prep, on_pulse_closed);
    final_checks();
    /* Fails with ERR_LOOP_BUSY, changing nothing, while anything is alive. */
    ret = API(cnet_loop_close(C.loop));
    if (ret != 0)
        violation("nothing-alive", "cnet_loop_close() returned %lld %s", ret,
                  cnet_err_name((int)ret));
    else if (allocs != C.allocs_at_start)
        violation("nothing-alive", "%ld allocations of cnet not freed after cnet_loop_close()",
                  allocs - C.allocs_at_start);
    ok = C.violations == 0;
    if (!ok)
        fprintf(stderr, "chaos: seed %llu FAILED (%u violation%s, %u ops)\nchaos: %s\n",
                (unsigned long long)seed, C.violations, C.violations == 1 ? "" : "s", C.ops_done,
                repro);
    else if (cfg.verbose)
        fprintf(stderr, "chaos: seed %llu passed (%u ops, %u sockets, %u servers)\n",
                (unsigned long long)seed, C.ops_done, C.nsocks, C.nsrvs);
    seed_cleanup();
    return ok;
}

/* ---- main ------------------------------------------------------------------------------------ */

static int parse_skip(const char *list, unsigned *out)
{
    char buf[256], *save = NULL, *tok;

    *out = 0;
    if (!list || !*list || strcmp(list, "0") == 0 || strcmp(list, "none") == 0)
        return 0;
    if (strcmp(list, "1") == 0 || strcmp(list, "all") == 0) {
        for (size_t i = 0; i < sizeof known_patterns / sizeof known_patterns[0]; i++)
            *out |= known_patterns[i].bit;
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", list);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < sizeof known_patterns / sizeof known_patterns[0]; i++)
            if (strcmp(tok, known_patterns[i].name) == 0)
                break;
        if (i == sizeof known_patterns / sizeof known_patterns[0]) {
            fprintf(stderr, "test_chaos: unknown pattern '%s' in --skip-known\n", tok);
            return -1;
        }
        *out |= known_patterns[i].bit;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: test_chaos [--seeds N] [--first S] [--ops M] [--verbose] [--tls]\n"
                    "                  [--skip-known[=LIST] | --no-skip-known] [--keep-going]\n");
}

static void make_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(cfg.dir, sizeof cfg.dir, "%s/cnet-chaos-XXXXXX",
             base && *base && strlen(base) < 30 ? base : "/tmp");
    if (!mkdtemp(cfg.dir))
        TEST_FAIL_("mkdtemp(%s): %s", cfg.dir, strerror(errno));
}

static void remove_dir(void)
{
    char cmd[128];
    /* Socket files are unlinked by libuv on close; whatever a failed seed left goes too. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cfg.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_chaos: could not remove %s\n", cfg.dir);
}

/* A loopback port nobody listens on: bound, never listening (it stays bound). */
static int bound_closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    return ntohs(sa.sin_port);
}

static void chaos_logger(void *arg, cnet_log_level_t level, const char *msg)
{
    (void)arg;
    if (cfg.verbose)
        fprintf(stderr, "  log(%d): %s\n", (int)level, msg);
}

int main(int argc, char **argv)
{
    const char *env = getenv("CNET_CHAOS_SKIP_KNOWN");
    bool seeds_given = false;
    unsigned failed = 0, ran = 0;
    uint64_t failed_list[32];

    cfg.argv0 = argv[0];
    cfg.seeds = 50;
    cfg.first = 1;
    cfg.ops = 300;
    if (parse_skip(env ? env : CHAOS_SKIP_KNOWN_DEFAULT, &cfg.skip) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--seeds") == 0 && i + 1 < argc) {
            cfg.seeds = (unsigned)strtoul(argv[++i], NULL, 10);
            seeds_given = true;
        } else if (strcmp(a, "--first") == 0 && i + 1 < argc) {
            cfg.first = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--ops") == 0 && i + 1 < argc) {
            cfg.ops = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--verbose") == 0) {
            cfg.verbose = true;
        } else if (strcmp(a, "--keep-going") == 0) {
            cfg.keep_going = true;
        } else if (strcmp(a, "--skip-known") == 0) {
            parse_skip("all", &cfg.skip);
        } else if (strncmp(a, "--skip-known=", 13) == 0) {
            if (parse_skip(a + 13, &cfg.skip) != 0)
                return 2;
        } else if (strcmp(a, "--no-skip-known") == 0) {
            cfg.skip = 0;
        } else if (strcmp(a, "--tls") == 0) {
            cfg.tls = true;
        } else {
            usage();
            return 2;
        }
    }
    /* valgrind (scripts/valgrind.sh sets the multiplier): a few seeds only */
    if (!seeds_given && getenv("CNET_TEST_TIMEOUT_MULTIPLIER") && test_timeout_multiplier() > 1)
        cfg.seeds = 5;
    if (cfg.ops == 0)
        cfg.ops = 1;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGABRT, on_fatal_signal);
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGBUS, on_fatal_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_sanitizer_death);
    ASSERT_OK(cnet_replace_allocator(count_malloc, count_realloc, count_calloc, count_free));
    cnet_set_logger(chaos_logger, NULL, CNET_LOG_DEBUG);
    {
        rng_t pr = rng_derive(0x5eed, 7);
        for (size_t i = 0; i < POOL_SIZE; i += 8) {
            uint64_t v = rng_next(&pr);
            memcpy(pool + i, &v, 8);
        }
    }
    make_dir();
    cfg.closed_port = bound_closed_port();
    if (cfg.tls) {
#if CHAOS_TLS
        static tls_pki_t pki;
        cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
        char msg[256];
        tls_pki_make(&pki);
        o.key = pki.leaf_key;
        o.cert = pki.server_chain;
        ASSERT_OK(cnet_tls_context_new(&o, &cfg.server_ctx, msg, sizeof msg));
        o = (cnet_tls_context_opts_t)CNET_TLS_CONTEXT_OPTS_INIT;
        o.ca = pki.ca_cert;
        ASSERT_OK(cnet_tls_context_new(&o, &cfg.client_ctx, msg, sizeof msg));
        o.reject_unauthorized = CNET_TLS_OFF;
        o.ca = NULL;
        o.min_version = o.max_version = CNET_TLSV1_2;
        ASSERT_OK(cnet_tls_context_new(&o, &cfg.lax_client_ctx, msg, sizeof msg));
        tls_pki_free(&pki);
#else
        fprintf(stderr, "SKIP: --tls: test_chaos was built without TLS\n");
        return TEST_SKIP_CODE;
#endif
    }

    for (unsigned i = 0; i < cfg.seeds; i++) {
        uint64_t seed = cfg.first + i;
        bool ok;
        ran++;
        if (cfg.keep_going) {
            int status = 0;
            pid_t pid;
            fflush(stderr);
            pid = fork();
            ASSERT(pid >= 0);
            if (pid == 0)
                exit(run_seed(seed) ? 0 : 1); /* exit(): LeakSanitizer runs */
            ASSERT(waitpid(pid, &status, 0) == pid);
            ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 1))
                fprintf(stderr, "chaos: seed %llu died (status 0x%x)\n", (unsigned long long)seed,
                        status);
        } else {
            ok = run_seed(seed);
        }
        if (!ok) {
            if (failed < sizeof failed_list / sizeof failed_list[0])
                failed_list[failed] = seed;
            failed++;
            if (!cfg.keep_going)
                break;
        }
    }
    test_set_phase("done");
    alarm(0);
    remove_dir();
    cnet_tls_context_release(cfg.server_ctx);
    cnet_tls_context_release(cfg.client_ctx);
    cnet_tls_context_release(cfg.lax_client_ctx);
    {
        char skips[256];
        skip_list(skips, sizeof skips);
        fprintf(stderr, "chaos: %u %sseed%s from %llu, %u ops each, skip-known=%s: %s", ran,
                cfg.tls ? "TLS " : "", ran == 1 ? "" : "s", (unsigned long long)cfg.first, cfg.ops,
                skips[0] ? skips : "none", failed ? "FAILED" : "all passed");
        if (!cfg.keep_going)
            fprintf(stderr,
                    " (%lu ops: %lu writes accepted, %lu rejected; %lu events, %lu callbacks)",
                    stats.ops, stats.accepted, stats.rejected, stats.events, stats.callbacks);
        fputc('\n', stderr);
        if (!cfg.keep_going) { /* which events the ops ran inside (issue 12: every one) */
            fprintf(stderr, "chaos: events:");
            for (int t = 0; t < CNET_EVENT__COUNT; t++)
                fprintf(stderr, " %s=%lu", cnet_event_name((cnet_event_type_t)t),
                        stats.per_event[t]);
            fputc('\n', stderr);
        }
    }
    if (failed) {
        fprintf(stderr, "chaos: %u failing seed%s:", failed, failed == 1 ? "" : "s");
        for (unsigned i = 0; i < failed && i < sizeof failed_list / sizeof failed_list[0]; i++)
            fprintf(stderr, " %llu", (unsigned long long)failed_list[i]);
        fputc('\n', stderr);
        return 1;
    }
    return 0;
}
