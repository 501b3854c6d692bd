/*
 * Out of memory over plain TCP and Unix sockets (issue 12 item 1; TLS is
 * test_tls_oom.c): allocation N of a scenario fails, for N = 1, 2, ... until
 * a run sees no failure, and every run must end with success or a clean
 * error (a negative return or an 'error' event with a code of the table),
 * never a hang (a per-run deadline), a lost callback or a leak (the counting
 * allocator of tests/fail_alloc.h back at zero, cnet_loop_close() == 0).
 *
 * The scenario, on its own loop:
 *   server    allowHalfOpen, listen (TCP 127.0.0.1:0, or a path), getConnections
 *   client A  connect to "localhost" (a lookup; TCP) or the path; corked: write,
 *             write_str, write_ex (STATIC, TRANSIENT and a dispose function),
 *             write_enc (hex, base64), uncork; set_timeout (a long one)
 *   server A  set_framing(LINES), every 'frame' echoed with write_frame; at
 *             'end' (A's half-close) end("bye\n") back: half-close both ways
 *   client B  connected once A's echo came back; set_framing(LENGTH_PREFIXED),
 *             write_frame, then idles until a short set_timeout fires, then ends
 *   server B  pipe(B, B, end) (the echo server of the seeds); the server is
 *             closed with its connections active, getConnections once more
 *
 * A run may also complete despite its failure where cnet degrades on purpose
 * (a Unix socket's cached endpoint names: asked of the kernel instead).
 *
 * Then a regression (both transports): the socket of an accepted connection
 * cannot be allocated; the server reports 'error' ENOMEM (accept) and goes on
 * serving, that connection and the next (it used to stop polling for good).
 *
 * CNET_OOM_N=n runs from n on, CNET_OOM_ONLY=tcp|unix one transport, CNET_OOM_VERBOSE=1
 * prints each run's errors.
 * Under valgrind (CNET_TEST_TIMEOUT_MULTIPLIER) every k-th N only.
 */
#include "harness.h"

#include <cnet/uv.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <uv.h>

#include "fail_alloc.h"

enum { T_TCP, T_UNIX };
static const char *const transport_names[] = {"tcp", "unix"};
static char sock_path[256];

static const char echo_a[] = "a1\na2\na3\na4\na5\n";
static const char reply_a[] = "bye\n";
static const char msg_b[] = "pipe-me";
enum { BIG = 40001 };
static char big[BIG]; /* a line past the highWaterMark: the write queue, 'drain' */

typedef struct run {
    int transport;
    cnet_loop_t *loop;
    uv_timer_t deadline;
    cnet_server_t *srv;
    cnet_socket_t *a, *b, *sa, *sb; /* clients, the server's sides (retained) */
    bool srv_close_listened, srv_destroyed, hung, failing, srv_closing, srv_closed, a_closed,
        b_closed, sa_closed, sb_closed;
    bool a_end, b_end, a_had_error, b_had_error, b_timeout, sb_end;
    int errors, accepted, frames;
    int writes_ok, writes_cb, disposes_due, disposes, counts_ok, counts_cb;
    char got_a[sizeof echo_a + BIG + sizeof reply_a], got_b[16];
    size_t got_a_len, got_b_len;
} run_t;

static long n_enomem, n_other;

static void note_code(run_t *r, const char *what, int code)
{
    if (getenv("CNET_OOM_VERBOSE"))
        fprintf(stderr, "[%s] %s: %s\n", test_phase_, what, cnet_err_name(code));
    if (code >= 0 || !strcmp(cnet_err_name(code), "UNKNOWN"))
        TEST_FAIL_("[%s] %s: not an error code: %d", test_phase_, what, code);
    /* A misuse code would blame the caller for what memory did. */
    if (code == CNET_ERR_INVALID_ARG_VALUE || code == CNET_ERR_INVALID_ARG_TYPE ||
        code == CNET_ERR_OUT_OF_RANGE)
        TEST_FAIL_("[%s] %s: %s out of memory", test_phase_, what, cnet_err_name(code));
    if (code == CNET_ENOMEM)
        n_enomem++;
    else
        n_other++;
    r->errors++;
}

/* destroy() ignores our retain: the server is gone after its 'close'. */
static void destroy_server(run_t *r)
{
    r->srv_destroyed = true;
    cnet_server_destroy(r->srv);
}

/* Ends the run early: everything destroyed, the server closed. */
static void fail_all(run_t *r)
{
    r->failing = true;
    if (r->a)
        cnet_socket_destroy(r->a);
    if (r->b)
        cnet_socket_destroy(r->b);
    if (r->sa)
        cnet_socket_destroy(r->sa);
    if (r->sb)
        cnet_socket_destroy(r->sb);
    if (r->srv && !r->srv_closing) {
        r->srv_closing = true;
        if (cnet_server_close(r->srv, NULL, NULL) < 0)
            destroy_server(r);
    }
}

/* Notes a negative return and ends the run; returns true when @p rc failed. */
static bool failed(run_t *r, const char *what, int rc)
{
    if (rc >= 0)
        return false;
    note_code(r, what, rc);
    fail_all(r);
    return true;
}

static void on_deadline(uv_timer_t *t)
{
    run_t *r = t->data;
    r->hung = true;
    fail_all(r);
    if (r->srv)
        destroy_server(r);
}

static void write_done(cnet_socket_t *s, int status, void *arg)
{
    run_t *r = arg;
    (void)(s);
    if (status > 0)
        TEST_FAIL_("[%s] write callback with status %d", test_phase_, status);
    r->writes_cb++;
}

static run_t *dispose_run;

static void dispose(void *p)
{
    dispose_run->disposes++;
    free(p);
}

static void count_done(cnet_server_t *srv, int err, size_t count, void *arg)
{
    run_t *r = arg;
    (void)(srv);
    (void)(count);
    r->counts_cb++;
    if (err < 0)
        note_code(r, "getConnections callback", err);
}

static void get_connections(run_t *r)
{
    int rc = cnet_server_get_connections(r->srv, count_done, r);
    r->counts_ok += rc == 0;
    failed(r, "getConnections", rc);
}

/* Counts an accepted write (rc >= 0) and fails the run on a rejected one. */
static bool wrote(run_t *r, const char *what, int rc)
{
    r->writes_ok += rc >= 0;
    return !failed(r, what, rc);
}

static bool listen_to(run_t *r, cnet_socket_t *s, cnet_socket_cb cb, const cnet_event_type_t *evs,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (failed(r, "socket on", cnet_socket_on(s, evs[i], cb, r)))
            return false;
    return true;
}

/* ---- the clients ------------------------------------------------------------------ */

static void client_a_writes(run_t *r, cnet_socket_t *s)
{
    static const char static_part[] = "a3";
    const cnet_buf_t st = {static_part, 2}, tr = {"\n", 1};
    cnet_buf_t own;
    char *owned;
    bool ok;

    cnet_socket_cork(s);
    ok = wrote(r, "write", cnet_socket_write(s, "a1\n", 3, write_done, r)) &&
         wrote(r, "write_str", cnet_socket_write_str(s, "a2\n")) && (r->writes_ok--, true) &&
         wrote(r, "write_ex static",
               cnet_socket_write_ex(s, &st, 1, CNET_BUF_STATIC, write_done, r)) &&
         wrote(r, "write_ex transient",
               cnet_socket_write_ex(s, &tr, 1, CNET_BUF_TRANSIENT, write_done, r));
    if (ok) {
        /* The buffer is the library's from here: disposed exactly once, also on failure. */
        owned = malloc(2);
        memcpy(owned, "a4", 2);
        own = (cnet_buf_t){owned, 2};
        r->disposes_due++;
        ok = wrote(r, "write_ex owned", cnet_socket_write_ex(s, &own, 1, dispose, write_done, r));
    }
    ok = ok &&
         wrote(r, "write_enc hex", cnet_socket_write_enc(s, "0a6135", 6, "hex", write_done, r));
    ok = ok &&
         wrote(r, "write_enc base64", cnet_socket_write_enc(s, "Cg==", 4, "base64", write_done, r));
    ok = ok && wrote(r, "write big", cnet_socket_write(s, big, BIG, write_done, r));
    cnet_socket_uncork(s);
    if (ok && !failed(r, "set_timeout", cnet_socket_set_timeout(s, 60000, NULL, NULL)))
        failed(r, "set_encoding", cnet_socket_set_encoding(s, "utf8"));
}

static void start_client_b(run_t *r);

static void client_b_writes(run_t *r, cnet_socket_t *s)
{
    cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;

    fo.mode = CNET_FRAMING_LENGTH_PREFIXED;
    fo.header_bytes = 2;
    if (!failed(r, "set_framing b", cnet_socket_set_framing(s, &fo)) &&
        wrote(r, "write_frame b", cnet_socket_write_frame(s, msg_b, 7, write_done, r)))
        failed(r, "set_timeout b", cnet_socket_set_timeout(s, 10, NULL, NULL));
}

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    bool is_a = s == r->a;

    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        if (is_a)
            client_a_writes(r, s);
        else
            client_b_writes(r, s);
        break;
    case CNET_EVENT_FRAME: /* b's, length-prefixed: the pipe echoes header and payload */
        ASSERT(r->got_b_len + ev->data.len <= sizeof r->got_b);
        memcpy(r->got_b + r->got_b_len, ev->data.base, ev->data.len);
        r->got_b_len += ev->data.len;
        break;
    case CNET_EVENT_DATA:
        if (is_a) {
            ASSERT(r->got_a_len + ev->data.len <= sizeof r->got_a);
            memcpy(r->got_a + r->got_a_len, ev->data.base, ev->data.len);
            r->got_a_len += ev->data.len;
            if (r->got_a_len == sizeof echo_a - 1 + BIG &&
                !memcmp(r->got_a, echo_a, sizeof echo_a - 1) &&
                !memcmp(r->got_a + sizeof echo_a - 1, big, BIG)) {
                start_client_b(r);
                wrote(r, "end a", cnet_socket_end(s, NULL, 0, write_done, r));
            }
        }
        break;
    case CNET_EVENT_TIMEOUT:
        if (!is_a && !r->b_timeout) {
            r->b_timeout = true;
            failed(r, "end b", cnet_socket_end(s, NULL, 0, NULL, NULL));
        }
        break;
    case CNET_EVENT_END:
        *(is_a ? &r->a_end : &r->b_end) = true;
        break;
    case CNET_EVENT_ERROR:
        note_code(r, is_a ? "client a 'error'" : "client b 'error'", ev->error->code);
        fail_all(r);
        break;
    case CNET_EVENT_CLOSE:
        *(is_a ? &r->a_closed : &r->b_closed) = true;
        *(is_a ? &r->a_had_error : &r->b_had_error) = ev->had_error;
        /* A client that closes before its part is done stops the scenario. */
        if (!r->failing && (is_a ? !r->b : !r->b_end))
            fail_all(r);
        break;
    default:
        break;
    }
}

static const cnet_event_type_t client_evs[] = {CNET_EVENT_CONNECT, CNET_EVENT_DATA,
                                               CNET_EVENT_FRAME,   CNET_EVENT_TIMEOUT,
                                               CNET_EVENT_END,     CNET_EVENT_ERROR};

static cnet_socket_t *start_client(run_t *r, cnet_socket_t **slot)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_address_t a;
    int rc;

    if (r->transport == T_UNIX) {
        co.path = sock_path;
    } else {
        if (failed(r, "server address", cnet_server_address(r->srv, &a)))
            return NULL;
        co.port = a.port;
        co.host = "localhost"; /* a lookup */
        co.family = 4;
    }
    rc = cnet_create_connection(r->loop, &co, NULL, NULL, slot);
    if (failed(r, "create_connection", rc)) {
        ASSERT(*slot == NULL);
        return NULL;
    }
    cnet_socket_retain(*slot);
    if (failed(r, "client on(close)", cnet_socket_on(*slot, CNET_EVENT_CLOSE, client_cb, r))) {
        *(slot == &r->a ? &r->a_closed : &r->b_closed) = true; /* not listened to */
        return NULL;
    }
    if (!listen_to(r, *slot, client_cb, client_evs, sizeof client_evs / sizeof client_evs[0]))
        return NULL;
    return *slot;
}

static void start_client_b(run_t *r)
{
    if (!r->b)
        start_client(r, &r->b);
}

/* ---- the server ------------------------------------------------------------------- */

static void accepted_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    bool is_a = s == r->sa;

    switch (ev->type) {
    case CNET_EVENT_FRAME:
        r->frames++;
        wrote(r, "write_frame",
              cnet_socket_write_frame(s, ev->data.base, ev->data.len, write_done, r));
        break;
    case CNET_EVENT_END:
        if (is_a)
            wrote(r, "end", cnet_socket_end(s, reply_a, sizeof reply_a - 1, write_done, r));
        else
            r->sb_end = true;
        break;
    case CNET_EVENT_ERROR:
        note_code(r, "server socket 'error'", ev->error->code);
        fail_all(r);
        break;
    case CNET_EVENT_CLOSE:
        *(is_a ? &r->sa_closed : &r->sb_closed) = true;
        break;
    default:
        break;
    }
}

static void server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_FRAME, CNET_EVENT_END, CNET_EVENT_ERROR};
    cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;
    run_t *r = arg;
    cnet_socket_t *s = ev->connection;
    cnet_socket_t **slot;
    int rc;

    switch (ev->type) {
    case CNET_EVENT_CONNECTION:
        if (r->accepted >= 2)
            TEST_FAIL_("[%s] a third connection", test_phase_);
        slot = r->accepted++ ? &r->sb : &r->sa;
        *slot = s;
        cnet_socket_retain(s);
        if (failed(r, "accepted on(close)", cnet_socket_on(s, CNET_EVENT_CLOSE, accepted_cb, r))) {
            *(slot == &r->sa ? &r->sa_closed : &r->sb_closed) = true;
            return;
        }
        if (!listen_to(r, s, accepted_cb, evs, sizeof evs / sizeof evs[0]))
            return;
        if (slot == &r->sa) {
            fo.mode = CNET_FRAMING_LINES;
            failed(r, "set_framing", cnet_socket_set_framing(s, &fo));
            return;
        }
        if (failed(r, "pipe", cnet_socket_pipe(s, s, true)))
            return;
        /* Closed with its connections active: 'close' after theirs. */
        r->srv_closing = true;
        rc = cnet_server_close(srv, NULL, NULL);
        if (!failed(r, "server close", rc))
            get_connections(r);
        break;
    case CNET_EVENT_ERROR:
        /* Not the end: a server goes on after an error of accept (the connection waits). */
        note_code(r, "server 'error'", ev->error->code);
        if (!ev->error->syscall || strcmp(ev->error->syscall, "accept") != 0)
            fail_all(r);
        break;
    case CNET_EVENT_CLOSE:
        r->srv_closed = true;
        break;
    default:
        break;
    }
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    run_t *r = arg;
    (void)(srv);
    (void)(ev);
    get_connections(r);
    if (!r->failing)
        start_client(r, &r->a);
}

/* ---- one run ---------------------------------------------------------------------- */

static bool scenario_run(int transport)
{
    static const cnet_event_type_t sevs[] = {CNET_EVENT_CLOSE, CNET_EVENT_CONNECTION,
                                             CNET_EVENT_ERROR};
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    run_t r;
    int rc;

    memset(&r, 0, sizeof r);
    r.transport = transport;
    dispose_run = &r;
    rc = cnet_loop_new(&r.loop);
    if (rc < 0) {
        note_code(&r, "cnet_loop_new", rc);
        return false;
    }
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(r.loop), &r.deadline));
    r.deadline.data = &r;
    ASSERT_OK(
        uv_timer_start(&r.deadline, on_deadline, (uint64_t)(2000 * test_timeout_multiplier()), 0));
    uv_unref((uv_handle_t *)&r.deadline);
    so.allow_half_open = true;
    rc = cnet_server_new(r.loop, &so, &r.srv);
    if (rc < 0) {
        ASSERT(r.srv == NULL);
        note_code(&r, "cnet_server_new", rc);
    } else {
        cnet_server_retain(r.srv);
        for (size_t i = 0; i < sizeof sevs / sizeof sevs[0] && rc == 0; i++)
            if ((rc = cnet_server_on(r.srv, sevs[i], server_cb, &r)) == 0 && i == 0)
                r.srv_close_listened = true;
        if (rc == 0)
            rc = transport == T_UNIX ? cnet_server_listen_path(r.srv, sock_path, on_listening, &r)
                                     : cnet_server_listen(r.srv, 0, "127.0.0.1", on_listening, &r);
        if (rc < 0) {
            /* close() emits the server's 'close' even when it never listened */
            note_code(&r, "server on/listen", rc);
            fail_all(&r);
        }
    }
    ASSERT_OK(cnet_loop_run(r.loop));
    if (r.hung)
        TEST_FAIL_("[%s] hung: a %s%s, b %s%s, server sockets %d (%s, %s), server %s", test_phase_,
                   r.a ? "alive" : "none", r.a_closed ? " (closed)" : "", r.b ? "alive" : "none",
                   r.b_closed ? " (closed)" : "", r.accepted, r.sa_closed ? "closed" : "open",
                   r.sb_closed ? "closed" : "open", r.srv_closed ? "closed" : "open");
    uv_close((uv_handle_t *)&r.deadline, NULL);
    ASSERT_OK(cnet_loop_run(r.loop));
    if ((r.a && !r.a_closed) || (r.b && !r.b_closed))
        TEST_FAIL_("[%s] a client never emitted 'close'", test_phase_);
    if ((r.sa && !r.sa_closed) || (r.sb && !r.sb_closed))
        TEST_FAIL_("[%s] a server socket never emitted 'close'", test_phase_);
    if (r.srv && r.srv_closing && r.srv_close_listened && !r.srv_closed && !r.hung)
        TEST_FAIL_("[%s] the server never emitted 'close'", test_phase_);
    cnet_socket_release(r.a);
    cnet_socket_release(r.b);
    cnet_socket_release(r.sa);
    cnet_socket_release(r.sb);
    if (r.srv && !r.srv_destroyed)
        cnet_server_release(r.srv);
    ASSERT_OK(cnet_loop_run(r.loop));
    if (cnet_loop_alive(r.loop) != 0)
        TEST_FAIL_("[%s] %zu objects alive after the run", test_phase_, cnet_loop_alive(r.loop));
    if (r.writes_cb != r.writes_ok)
        TEST_FAIL_("[%s] %d writes accepted, %d callbacks", test_phase_, r.writes_ok, r.writes_cb);
    if (r.disposes != r.disposes_due)
        TEST_FAIL_("[%s] %d buffers given, %d disposed", test_phase_, r.disposes_due, r.disposes);
    if (r.counts_cb != r.counts_ok)
        TEST_FAIL_("[%s] %d getConnections accepted, %d callbacks", test_phase_, r.counts_ok,
                   r.counts_cb);
    ASSERT_OK(cnet_loop_close(r.loop));

    bool complete = r.got_a_len == sizeof echo_a + BIG + sizeof reply_a - 2 &&
                    !memcmp(r.got_a + sizeof echo_a - 1 + BIG, reply_a, sizeof reply_a - 1) &&
                    r.frames == 6 && r.a_end && r.a_closed && !r.a_had_error && r.got_b_len == 7 &&
                    !memcmp(r.got_b, msg_b, 7) && r.b_timeout && r.b_end && r.sb_end &&
                    r.b_closed && !r.b_had_error && r.sa_closed && r.sb_closed && r.srv_closed &&
                    r.counts_cb == 2;
    if (!complete && r.errors == 0)
        TEST_FAIL_("[%s] stopped without an error: a got %zu bytes (end %d, close %d/%d), frames "
                   "%d, b got %zu (timeout %d, end %d, close %d/%d), server sockets %d, server "
                   "close %d, counts %d",
                   test_phase_, r.got_a_len, r.a_end, r.a_closed, r.a_had_error, r.frames,
                   r.got_b_len, r.b_timeout, r.b_end, r.b_closed, r.b_had_error, r.accepted,
                   r.srv_closed, r.counts_cb);
    return complete && r.errors == 0;
}

/* Fails allocation N for N = first, first + stride, ... until a run sees no failure. */
static void oom_loop(int transport, long stride)
{
    long n = getenv("CNET_OOM_N") ? atol(getenv("CNET_OOM_N")) : 1, runs = 0, completed = 0;
    char phase[64];

    for (;; n += stride) {
        bool ok, hit;
        snprintf(phase, sizeof phase, "%s n=%ld", transport_names[transport], n);
        test_set_phase(phase);
        fail_alloc_arm(n);
        ok = scenario_run(transport);
        hit = fail_alloc_hit();
        fail_alloc_arm(0);
        if (fail_alloc_live() != 0)
            TEST_FAIL_("[%s] %ld allocations leaked", phase, fail_alloc_live());
        runs++;
        completed += ok && hit;
        if (ok && hit && getenv("CNET_OOM_VERBOSE"))
            fprintf(stderr, "[%s] completed despite the failure\n", phase);
        if (!hit) {
            if (!ok)
                TEST_FAIL_("[%s] no failure injected, yet it did not complete", phase);
            break;
        }
    }
    fprintf(stderr, "oom %-4s: %ld runs (every %ld%s allocation), %ld completed despite it\n",
            transport_names[transport], runs, stride, stride == 1 ? "st" : "th", completed);
}

/* ---- regression: out of memory at accept ----------------------------------------- */

typedef struct held {
    int errors, connections, listening, port;
    uv_timer_t deadline;
    bool hung;
} held_t;

static void held_srv(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    held_t *h = arg;
    cnet_address_t a;

    if (ev->type == CNET_EVENT_LISTENING) {
        ASSERT_OK(cnet_server_address(srv, &a));
        h->port = a.port;
        h->listening = 1;
    } else if (ev->type == CNET_EVENT_ERROR) {
        ASSERT_ERR(CNET_ENOMEM, ev->error->code);
        ASSERT_STR_EQ("accept", ev->error->syscall);
        h->errors++;
    } else if (ev->type == CNET_EVENT_CONNECTION) {
        h->connections++;
        cnet_socket_destroy(ev->connection);
    }
}

static void held_deadline(uv_timer_t *t)
{
    ((held_t *)t->data)->hung = true;
}

static int raw_connect(int transport, int port)
{
    int fd = socket(transport == T_UNIX ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;

    ASSERT(fd >= 0);
    if (transport == T_UNIX) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        ASSERT(strlen(sock_path) < sizeof sun.sun_path);
        memcpy(sun.sun_path, sock_path, strlen(sock_path));
        rc = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET};
        sin.sin_port = htons((uint16_t)port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
    }
    if (rc != 0)
        TEST_FAIL_("[%s] connect: %s", test_phase_, strerror(errno));
    return fd;
}

/*
 * The socket of an accepted connection cannot be allocated: the server reports 'error'
 * ENOMEM (accept) and keeps serving: that connection a moment later, and the next ones. It
 * used to return with the fd still held by libuv, which then never polled the listener again.
 */
static void test_accept_enomem(int transport)
{
    static const cnet_event_type_t evs[] = {CNET_EVENT_LISTENING, CNET_EVENT_ERROR,
                                            CNET_EVENT_CONNECTION};
    cnet_loop_t *loop;
    cnet_server_t *srv;
    held_t h = {0};
    int fd1, fd2;

    test_set_phase(transport == T_UNIX ? "accept enomem unix" : "accept enomem tcp");
    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        ASSERT_OK(cnet_server_on(srv, evs[i], held_srv, &h));
    if (transport == T_UNIX)
        ASSERT_OK(cnet_server_listen_path(srv, sock_path, NULL, NULL));
    else
        ASSERT_OK(cnet_server_listen(srv, 0, "127.0.0.1", NULL, NULL));
    while (!h.listening)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    ASSERT_OK(uv_timer_init(cnet_loop_get_uv(loop), &h.deadline));
    h.deadline.data = &h;
    ASSERT_OK(uv_timer_start(&h.deadline, held_deadline,
                             (uint64_t)(2000 * test_timeout_multiplier()), 0));

    fd1 = raw_connect(transport, h.port);
    fail_alloc_arm(1); /* the next allocation is the accepted socket's */
    while (!h.errors && !h.hung)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    ASSERT(fail_alloc_hit());
    fail_alloc_arm(0);
    ASSERT_EQ(1, h.errors);
    fd2 = raw_connect(transport, h.port);
    while (h.connections < 2 && !h.hung)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    if (h.connections < 2)
        TEST_FAIL_("[%s] %d of 2 connections served after the failure", test_phase_, h.connections);
    uv_close((uv_handle_t *)&h.deadline, NULL);
    cnet_server_destroy(srv);
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_loop_close(loop));
    close(fd1);
    close(fd2);
    ASSERT_EQ(0, fail_alloc_live());
}

int main(void)
{
    char dir[] = "/tmp/cnet-oom-XXXXXX";
    /* Under valgrind every run is ~50x slower: every 8th N there. */
    long stride = getenv("CNET_TEST_TIMEOUT_MULTIPLIER") ? 8 : 1;

    fail_alloc_install();
    test_watchdog(100);
    memset(big, 'x', BIG - 1);
    big[BIG - 1] = '\n';
    signal(SIGPIPE, SIG_IGN);
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(sock_path, sizeof sock_path, "%s/s.sock", dir);

    for (int t = T_TCP; t <= T_UNIX; t++) {
        const char *only = getenv("CNET_OOM_ONLY"); /* "tcp" or "unix" */
        char phase[32];
        if (only && strcmp(only, transport_names[t]) != 0)
            continue;
        snprintf(phase, sizeof phase, "%s clean", transport_names[t]);
        test_set_phase(phase);
        fail_alloc_arm(0);
        if (!scenario_run(t))
            TEST_FAIL_("[%s] did not complete", phase);
        ASSERT_EQ(0, fail_alloc_live());
        fprintf(stderr, "oom %-4s: %ld allocations per run\n", transport_names[t],
                fail_alloc_count());
        oom_loop(t, stride);
    }
    test_accept_enomem(T_TCP);
    test_accept_enomem(T_UNIX);
    fprintf(stderr, "oom: %ld runs ended in ENOMEM, %ld in another code\n", n_enomem, n_other);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
