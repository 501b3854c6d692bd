/*
 * loadgen: the load generator behind bench/run.sh.
 *
 *   loadgen -m MODE [options] TARGET        TARGET: 127.0.0.1:PORT | [::1]:PORT | unix:PATH
 *
 * Modes (see bench/README.md for what each measures):
 *   pingpong  -c conns, -s size: each connection sends a message, waits for the
 *             whole echo, repeats. Round trips/s and their latency.
 *   stream    -c conns, -s message size, -w in-flight bytes per connection:
 *             keeps at most -w bytes sent but not yet echoed. MB/s.
 *   connect   -c concurrent slots: connect, send -s bytes, wait for the echo,
 *             close, start over. Connections/s and the cycle's latency.
 *   idle      -c conns: open them (each echoes one byte so the server has
 *             really accepted it), hold them -H seconds idle, sample the
 *             server's RSS, close. Bytes of server RSS per connection.
 *   wait      probe TARGET until one byte echoes back (-t seconds at most);
 *             exit 0 when it does, 1 otherwise. Prints nothing.
 *
 * Each run opens its connections, warms up for -W seconds, measures for -d
 * seconds, then stops and prints one JSON line on stdout (diagnostics go to
 * stderr). With -p PID, the server's CPU time (utime+stime from
 * /proc/PID/stat, plus its child processes', e.g. node cluster workers) is
 * sampled at both ends of the measured window and its RSS
 * (/proc/PID/statm) around the idle hold; with -C CORE also the softirq time
 * of the server's core and how much of the two cores other programs took.
 *
 * Design: one thread on raw level-triggered epoll, so the generator costs as
 * little as possible per message: one send() and one recv() per round trip,
 * EPOLLOUT only armed while a send is incomplete, one clock read per
 * timestamp. It runs pinned to its own core; its own CPU use is reported
 * (client_cpu_util) so a saturated generator is visible in the results.
 * Everything is bounded: setup has a timeout and an alarm() watchdog ends
 * the process if anything hangs.
 *
 * tls_loadgen is this file built with BENCH_TLS (and OpenSSL): the same
 * modes, every connection speaking TLS from the TCP connect on (see "TLS"
 * below). Built without it, loadgen has no TLS code at all, so the plain
 * scenarios measure exactly what they did before TLS existed.
 *
 * File map: histogram, /proc sampling, connections, TLS, per-mode handlers,
 * main loop, report, wait mode, main().
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include "bench_addr.h"

#define MAX_EVENTS           512
#define READ_BUF_SIZE        (256 * 1024)
#define MAX_PENDING_CONNECTS 256 /* connects in flight during setup: below any backlog */
#define MAX_ERRORS_SHOWN     5

enum mode { MODE_PINGPONG, MODE_STREAM, MODE_CONNECT, MODE_IDLE, MODE_WAIT };
static const char *const mode_names[] = {"pingpong", "stream", "connect", "idle", "wait"};

enum phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_HOLD, PH_DONE };

enum cstate { C_FREE, C_CONNECTING, C_OPEN, C_RETRY };

struct conn {
    int fd;
    enum cstate state;
    bool want_out;  /* EPOLLOUT is in the interest set */
    bool usable;    /* set up: carrying load (idle: its probe byte came back) */
    uint64_t t0;    /* ns: message start (pingpong) or connection start (connect) */
    size_t out_off; /* bytes of the current message already sent */
    size_t in_len;  /* bytes of the current echo received (message modes) */
    uint64_t sent;  /* stream: total bytes sent */
    uint64_t recvd; /* stream: total bytes received */
    uint64_t done;  /* stream: messages whose echo is complete */
    uint64_t *ts;   /* stream: start time of each message in flight (ring) */
    unsigned ts_head, ts_count, ts_cap;
#ifdef BENCH_TLS
    SSL *ssl;             /* from the TCP connect on; NULL before */
    SSL_SESSION *session; /* -r: the session this slot's last connection ended with */
    bool secure;          /* the handshake is done: the mode's traffic may start */
#endif
};

struct options {
    enum mode mode;
    const char *target;
    struct bench_addr addr;
    int conns;
    size_t size;
    size_t window;
    double duration, warmup, hold, timeout;
    pid_t pid;
    int cpu;      /* the server's core, for its softirq time in /proc/stat; -1: none */
    bool rst;     /* connect mode: close with RST (SO_LINGER 0), leaving no TIME_WAIT */
    bool verbose; /* print a progress line per second to stderr */
    bool resume;  /* TLS, connect mode: each slot offers its last connection's ticket (-r) */
    const char *label;
};

static struct options opt = {
    .mode = MODE_PINGPONG,
    .conns = 1,
    .size = 0,
    .window = 0,
    .duration = 5.0,
    .warmup = 1.0,
    .hold = 1.0,
    .timeout = 60.0,
    .pid = 0,
    .cpu = -1,
    .rst = false,
    .label = "",
};

/* ---- Latency histogram ----------------------------------------------------
 * Log-linear buckets (64 per power of two above 128 ns, exact below), so any
 * percentile is within 1.6% of the true value in constant memory.
 */
#define HIST_SUB     64
#define HIST_BUCKETS (128 + 40 * HIST_SUB)

static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_n;
static double hist_sum_ns;

static unsigned hist_index(uint64_t v)
{
    unsigned msb, shift, idx;

    if (v < 128)
        return (unsigned)v;
    msb = 63u - (unsigned)__builtin_clzll(v);
    shift = msb - 6;
    idx = 128 + (shift - 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static double hist_value(unsigned idx)
{
    unsigned shift, m;

    if (idx < 128)
        return idx;
    shift = (idx - 128) / HIST_SUB + 1;
    m = (idx - 128) % HIST_SUB + HIST_SUB;
    return ((double)m + 0.5) * (double)(1ull << shift);
}

static void hist_add(uint64_t ns)
{
    hist[hist_index(ns)]++;
    hist_n++;
    hist_sum_ns += (double)ns;
}

static void hist_reset(void)
{
    memset(hist, 0, sizeof(hist));
    hist_n = 0;
    hist_sum_ns = 0;
}

static double hist_percentile_us(double p)
{
    uint64_t rank, seen = 0;
    unsigned i;

    if (hist_n == 0)
        return NAN;
    rank = (uint64_t)ceil(p * (double)hist_n);
    if (rank == 0)
        rank = 1;
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen >= rank)
            return hist_value(i) / 1000.0;
    }
    return hist_value(HIST_BUCKETS - 1) / 1000.0;
}

/* ---- Time and /proc sampling ------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One process's CPU time (user + system, all threads) in µs, or -1. */
static double proc_cpu_us_one(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may contain spaces and ')': fields resume after the last ')'. */
    p = strrchr(buf, ')');
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Server CPU time in µs, or -1: the process's own (all threads) plus that of
 * its children (one level: node's cluster workers are processes forked by the
 * primary), from /proc/PID/task/TID/children.
 */
static double proc_cpu_us(pid_t pid)
{
    double total = proc_cpu_us_one(pid);
    char path[96];
    struct dirent *d;
    DIR *dir;

    if (total < 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if ((dir = opendir(path)) == NULL)
        return total;
    while ((d = readdir(dir)) != NULL) {
        FILE *f;
        int child;
        if (d->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)pid, d->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        while (fscanf(f, "%d", &child) == 1) {
            double c = proc_cpu_us_one((pid_t)child);
            if (c > 0)
                total += c;
        }
        fclose(f);
    }
    closedir(dir);
    return total;
}

/* Server resident set size in KiB, or -1. */
static long proc_rss_kb(pid_t pid)
{
    char path[64];
    long pages_total, pages_rss;
    FILE *f;
    int n;

    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fscanf(f, "%ld %ld", &pages_total, &pages_rss);
    fclose(f);
    if (n != 2)
        return -1;
    return pages_rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/*
 * Time one core spent in tasks (user + nice + system) and in interrupts
 * (irq + softirq), in µs; false if unreadable. The server's full cost is its
 * own CPU time plus the softirq time on its core: the kernel charges network
 * processing done in softirq to no process, and loopback delivers each packet
 * in softirq on the sender's core. "task" minus a process's own CPU time is
 * what other programs took from that core.
 */
static bool proc_core_us(int cpu, double *task_us, double *irq_us)
{
    char want[32], line[512];
    unsigned long long v[8] = {0};
    double tick = 1e6 / (double)sysconf(_SC_CLK_TCK);
    bool ok = false;
    FILE *f;
    int len;

    f = fopen("/proc/stat", "r");
    if (f == NULL)
        return false;
    len = snprintf(want, sizeof(want), "cpu%d ", cpu);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, want, (size_t)len) != 0)
            continue;
        /* user nice system idle iowait irq softirq steal */
        if (sscanf(line + len, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]) >= 7) {
            *task_us = (double)(v[0] + v[1] + v[2]) * tick;
            *irq_us = (double)(v[5] + v[6]) * tick;
            ok = true;
        }
        break;
    }
    fclose(f);
    return ok;
}

/* The one core this process is pinned to, or -1. */
static int pinned_cpu(void)
{
    cpu_set_t set;
    int i;

    if (sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) != 1)
        return -1;
    for (i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set))
            return i;
    return -1;
}

static double self_cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* ---- Run state ------------------------------------------------------------ */

static int epfd;
static struct conn *conns;
static struct conn **retry_list; /* connections waiting to reconnect */
static struct conn **retry_tmp;
static int retry_count;
static int next_open;   /* setup: the next connection to open */
static int in_progress; /* setup: opened (or waiting to retry) but not yet usable */
static int usable;      /* connections carrying load */
static char *msg;       /* the message every connection sends */
static char read_buf[READ_BUF_SIZE];
static enum phase phase;

static uint64_t ops;       /* completed operations inside the measured window */
static uint64_t bytes_in;  /* echoed bytes received inside the measured window */
static uint64_t errors;    /* connections lost or refused */
static uint64_t retries;   /* connects retried: EAGAIN (full unix backlog), EADDRNOTAVAIL */
static uint64_t completed; /* operations completed in any phase */

static bool measuring(void)
{
    return phase == PH_MEASURE;
}

#ifdef BENCH_TLS
static char tls_error[256]; /* OpenSSL's reason for the last TLS failure (errno 0) */
#endif

/* err is an errno value; 0 (tls_loadgen) means the TLS failure in tls_error. */
static void report_error(const char *what, int err)
{
    const char *why = strerror(err);

#ifdef BENCH_TLS
    if (err == 0)
        why = tls_error;
#endif
    errors++;
    if (errors <= MAX_ERRORS_SHOWN)
        fprintf(stderr, "loadgen: %s: %s\n", what, why);
    if (errors == MAX_ERRORS_SHOWN + 1)
        fprintf(stderr, "loadgen: (further errors not shown)\n");
}

/* ---- Connections ------------------------------------------------------- */

static void set_want_out(struct conn *c, bool want_out)
{
    struct epoll_event ev;

    if (c->want_out == want_out)
        return;
    c->want_out = want_out;
    ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c)
{
#ifdef BENCH_TLS
    SSL_free(c->ssl); /* sends nothing: a graceful close sent its close_notify before */
    c->ssl = NULL;
    c->secure = false;
#endif
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->state = C_FREE;
    c->want_out = false;
}

static void conn_retry_later(struct conn *c)
{
    conn_close(c);
    c->state = C_RETRY;
    retry_list[retry_count++] = c;
}

/*
 * A connection broke. Connect mode replaces it on the next loop turn (never
 * at once, so a dead server cannot make this recurse); the other modes lose
 * it, and the run reports the error.
 */
static void conn_failed(struct conn *c, const char *what, int err)
{
    report_error(what, err);
    if (opt.mode == MODE_CONNECT) {
        if (phase != PH_DONE) {
            conn_retry_later(c);
            return;
        }
    } else if (c->usable) {
        usable--;
    } else {
        in_progress--;
    }
    c->usable = false;
    conn_close(c);
}

static void on_open(struct conn *c);

/* ---- TLS (tls_loadgen) ------------------------------------------------------
 * The client side costs as little as OpenSSL allows: the socket BIO (no copy
 * through memory BIOs), read-ahead (one recv() takes every record that has
 * arrived), partial writes (SSL_write returns after each record, so a
 * blocked send is retried with the same bytes), no certificate verification
 * (the bench's own self-signed certificate; the server's signature over the
 * handshake is still checked, as TLS requires). Sessions: with -r, each
 * connect-mode slot offers the newest ticket its previous connection got,
 * so every ticket is used once, as RFC 8446 recommends and browsers do
 * (OpenSSL's client cache even enforces it: a TLS 1.3 session it resumed
 * is removed, and marked not resumable, once the handshake completes).
 */
#ifdef BENCH_TLS
static SSL_CTX *tls_ctx;
static uint64_t tls_handshakes;               /* handshakes completed in the measured window */
static uint64_t tls_resumed;                  /* ... of which resumed a session */
static char tls_protocol[32], tls_cipher[64]; /* of the first handshake */

/* Keeps OpenSSL's reason for report_error() and empties the error queue. */
static void tls_note_error(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();

    if (e != 0)
        ERR_error_string_n(e, tls_error, sizeof(tls_error));
    else
        snprintf(tls_error, sizeof(tls_error), "%s", fallback);
    ERR_clear_error();
}

/*
 * The errno-style result of a failed SSL_read_ex/SSL_write_ex: -1 with errno
 * EAGAIN (wait for the socket), 0 for the peer's close_notify or EOF, -1
 * with errno set (errno 0: a TLS error, see tls_error).
 */
static ssize_t tls_result(struct conn *c, int ret)
{
    int e = SSL_get_error(c->ssl, ret);

    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno != 0) {
            int err = errno;

            ERR_clear_error();
            errno = err;
            return -1;
        }
        return 0;
    default:
        tls_note_error("TLS error");
        errno = 0;
        return -1;
    }
}

static int tls_init(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        return -1;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /*
     * One suite per version, so every server negotiates the same whatever its
     * own preferences (node prefers AES-256 in TLS 1.3 and AES-128 in 1.2):
     * AES-128-GCM, with an X25519 key exchange, as browsers negotiate. P-256
     * is listed second only because TLS 1.2 allows an ECDSA P-256
     * certificate only to a client listing that curve.
     */
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") !=
            1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    if (opt.mode == MODE_STREAM)
        SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
    if (opt.mode == MODE_IDLE)
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);     /* thousands of idle clients */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* -r keeps sessions per slot */
    tls_ctx = ctx;
    return 0;
}

/* Advances the handshake; once it is done, the mode's traffic starts (on_open). */
static void tls_handshake(struct conn *c)
{
    int r;

    errno = 0;
    r = SSL_connect(c->ssl);

    if (r == 1) {
        c->secure = true;
        set_want_out(c, false);
        if (measuring()) {
            tls_handshakes++;
            tls_resumed += SSL_session_reused(c->ssl) ? 1 : 0;
        }
        if (tls_protocol[0] == '\0') {
            snprintf(tls_protocol, sizeof(tls_protocol), "%s", SSL_get_version(c->ssl));
            snprintf(tls_cipher, sizeof(tls_cipher), "%s", SSL_get_cipher_name(c->ssl));
        }
        on_open(c);
        return;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        set_want_out(c, false);
        break;
    case SSL_ERROR_WANT_WRITE:
        set_want_out(c, true);
        break;
    default:
        if (errno != 0 && ERR_peek_error() == 0)
            snprintf(tls_error, sizeof(tls_error), "%s", strerror(errno));
        else
            tls_note_error("handshake failed");
        ERR_clear_error();
        conn_failed(c, "TLS handshake", 0);
    }
}

static void tls_start(struct conn *c)
{
    c->ssl = SSL_new(tls_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        tls_note_error("SSL_new failed");
        conn_failed(c, "TLS setup", 0);
        return;
    }
    SSL_set_connect_state(c->ssl);
    if (opt.resume && c->session != NULL)
        SSL_set_session(c->ssl, c->session);
    tls_handshake(c);
}
#endif /* BENCH_TLS */

/* Sends bytes of plaintext: send(), or SSL_write over TLS. */
static ssize_t conn_send(struct conn *c, const char *p, size_t len)
{
#ifdef BENCH_TLS
    size_t n;
    int r;

    errno = 0;
    r = SSL_write_ex(c->ssl, p, len, &n);
    if (r == 1)
        return (ssize_t)n;
    if (tls_result(c, r) == 0) {
        errno = EPIPE;
        return -1;
    }
    return -1;
#else
    return send(c->fd, p, len, MSG_NOSIGNAL);
#endif
}

/* Receives bytes of plaintext: recv(), or SSL_read over TLS (0: the peer closed). */
static ssize_t conn_recv(struct conn *c, char *p, size_t cap)
{
#ifdef BENCH_TLS
    size_t n;
    int r;

    errno = 0;
    r = SSL_read_ex(c->ssl, p, cap, &n);
    if (r == 1)
        return (ssize_t)n;
    return tls_result(c, r);
#else
    return recv(c->fd, p, cap, 0);
#endif
}

/*
 * Starts a non-blocking connect. A full unix backlog (EAGAIN) or a momentary
 * lack of ephemeral ports (EADDRNOTAVAIL) is retried on the next loop turn;
 * anything else is an error.
 */
static void conn_open(struct conn *c)
{
    struct epoll_event ev;
    int one = 1;
    int fd = socket(opt.addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    c->out_off = c->in_len = 0;
    c->sent = c->recvd = c->done = 0;
    c->ts_head = c->ts_count = 0;
    c->want_out = false;
    c->usable = false;
    c->fd = fd;
    if (fd < 0) {
        conn_failed(c, "socket", errno);
        return;
    }
    if (opt.addr.family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (opt.mode == MODE_CONNECT)
        c->t0 = now_ns();
    if (connect(fd, (struct sockaddr *)&opt.addr.ss, opt.addr.sslen) == 0) {
        c->state = C_OPEN;
        ev.events = EPOLLIN;
    } else if (errno == EINPROGRESS) {
        c->state = C_CONNECTING;
        ev.events = EPOLLOUT;
    } else if (errno == EAGAIN || errno == EADDRNOTAVAIL) {
        retries++;
        conn_retry_later(c);
        return;
    } else {
        c->state = C_CONNECTING;
        conn_failed(c, "connect", errno);
        return;
    }
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_failed(c, "epoll_ctl", errno);
        return;
    }
    if (c->state == C_OPEN)
        on_open(c);
}

/* Sends the rest of the current message (message modes); false if the connection broke. */
static bool send_message(struct conn *c, size_t len)
{
    while (c->out_off < len) {
        ssize_t n = conn_send(c, msg + c->out_off, len - c->out_off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                set_want_out(c, true);
                return true;
            }
            conn_failed(c, "send", errno);
            return false;
        }
        c->out_off += (size_t)n;
    }
    set_want_out(c, false);
    return true;
}

static void start_message(struct conn *c)
{
    c->out_off = 0;
    c->in_len = 0;
    c->t0 = now_ns();
    send_message(c, opt.size);
}

/* Stream mode: send whole messages while the in-flight window allows. */
static void stream_send(struct conn *c)
{
    for (;;) {
        ssize_t n;

        if (c->out_off == 0) {
            if (c->sent - c->recvd + opt.size > opt.window)
                break;
            c->ts[(c->ts_head + c->ts_count) % c->ts_cap] = now_ns();
            c->ts_count++;
        }
        n = conn_send(c, msg + c->out_off, opt.size - c->out_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                set_want_out(c, true);
                return;
            }
            conn_failed(c, "send", errno);
            return;
        }
        c->out_off += (size_t)n;
        c->sent += (uint64_t)n;
        if (c->out_off == opt.size)
            c->out_off = 0;
    }
    set_want_out(c, false);
}

static void mark_usable(struct conn *c)
{
    c->usable = true;
    in_progress--;
    usable++;
}

/* The connect completed (tls_loadgen: and then the handshake). */
static void on_open(struct conn *c)
{
#ifdef BENCH_TLS
    if (!c->secure) {
        tls_start(c);
        return;
    }
#endif
    switch (opt.mode) {
    case MODE_PINGPONG:
        mark_usable(c);
        start_message(c);
        break;
    case MODE_STREAM:
        mark_usable(c);
        stream_send(c);
        break;
    case MODE_CONNECT:
        send_message(c, opt.size);
        break;
    case MODE_IDLE:
        send_message(c, 1); /* the probe byte: usable once it echoes back */
        break;
    case MODE_WAIT:
        break;
    }
}

/* A whole echo of a message-mode message arrived. */
static void on_message_done(struct conn *c)
{
    completed++;
    if (measuring()) {
        hist_add(now_ns() - c->t0);
        ops++;
        bytes_in += opt.size;
    }
    switch (opt.mode) {
    case MODE_PINGPONG:
        start_message(c);
        break;
    case MODE_CONNECT:
        /*
         * A graceful close leaves the client side in TIME_WAIT, which Linux
         * reuses on loopback (net.ipv4.tcp_tw_reuse = 2, the default); -R
         * resets instead, so the server sees ECONNRESET rather than EOF.
         */
        if (opt.rst) {
            struct linger lg = {1, 0};

            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
#ifdef BENCH_TLS
        else {
            SSL_shutdown(c->ssl); /* our close_notify; the server's is not waited for */
            ERR_clear_error();
        }
        if (opt.resume) {
            /* The tickets came before the echo: this is the newest one. */
            SSL_SESSION_free(c->session);
            c->session = SSL_get1_session(c->ssl);
        }
#endif
        conn_close(c);
        if (phase != PH_DONE)
            conn_open(c);
        break;
    case MODE_IDLE:
        mark_usable(c);
        break;
    default:
        break;
    }
}

/* Stream mode: account for received bytes, complete messages, refill the window. */
static void on_stream_bytes(struct conn *c, size_t n)
{
    c->recvd += n;
    if (measuring())
        bytes_in += n;
    /* Message k is complete once bytes up to (k + 1) * size have come back. */
    while (c->ts_count > 0 && c->recvd >= (c->done + 1) * opt.size) {
        if (measuring()) {
            hist_add(now_ns() - c->ts[c->ts_head]);
            ops++;
        }
        c->ts_head = (c->ts_head + 1) % c->ts_cap;
        c->ts_count--;
        c->done++;
    }
    stream_send(c);
}

/* One recv (or SSL_read); true if bytes came. */
static bool read_once(struct conn *c)
{
    size_t expect = opt.mode == MODE_IDLE ? 1 : opt.size;
    ssize_t n = conn_recv(c, read_buf, sizeof(read_buf));

    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            conn_failed(c, "recv", errno);
        return false;
    }
    if (n == 0) {
        conn_failed(c, "server closed the connection", ECONNRESET);
        return false;
    }
    if (opt.mode == MODE_STREAM) {
        on_stream_bytes(c, (size_t)n);
        return true;
    }
    if (c->in_len + (size_t)n > expect || memcmp(read_buf, msg + c->in_len, (size_t)n) != 0) {
        conn_failed(c, "echo mismatch", EPROTO);
        return false;
    }
    c->in_len += (size_t)n;
    if (c->in_len == expect)
        on_message_done(c);
    return true;
}

static void on_readable(struct conn *c)
{
#ifdef BENCH_TLS
    /*
     * SSL_read returns one record; others that read-ahead already took from
     * the socket raise no event. (A connect-mode connection replaced by
     * on_message_done is not yet secure, which ends the loop.)
     */
    while (read_once(c) && c->state == C_OPEN && c->secure && SSL_has_pending(c->ssl))
        ;
#else
    read_once(c);
#endif
}

static void on_connected(struct conn *c, uint32_t events)
{
    struct epoll_event ev;
    socklen_t len = sizeof(int);
    int err = 0;

    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EADDRNOTAVAIL || err == EAGAIN) {
        retries++;
        conn_retry_later(c);
        return;
    }
    if (err != 0) {
        conn_failed(c, "connect", err);
        return;
    }
    c->state = C_OPEN;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    on_open(c);
}

static void on_event(struct conn *c, uint32_t events)
{
    if (c->state == C_CONNECTING) {
        on_connected(c, events);
        return;
    }
    if (c->state != C_OPEN)
        return;
#ifdef BENCH_TLS
    if (!c->secure) {
        tls_handshake(c);
        return;
    }
#endif
    if (events & EPOLLOUT) {
        if (opt.mode == MODE_STREAM)
            stream_send(c);
        else
            send_message(c, opt.mode == MODE_IDLE ? 1 : opt.size);
        if (c->state != C_OPEN)
            return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
}

/* ---- Main loop ------------------------------------------------------------ */

static void run_retries(void)
{
    int i, n = retry_count;

    memcpy(retry_tmp, retry_list, (size_t)n * sizeof(*retry_tmp));
    retry_count = 0;
    for (i = 0; i < n; i++)
        if (retry_tmp[i]->state == C_RETRY)
            conn_open(retry_tmp[i]);
}

/* Setup: keep at most MAX_PENDING_CONNECTS connects in flight. */
static void open_more(void)
{
    while (next_open < opt.conns && in_progress < MAX_PENDING_CONNECTS) {
        in_progress++;
        conn_open(&conns[next_open++]);
    }
}

static bool setup_done(void)
{
    return next_open == opt.conns && in_progress == 0;
}

static uint64_t sec_ns(double s)
{
    return (uint64_t)(s * 1e9);
}

struct sample {
    uint64_t t;
    double server_cpu_us;  /* server process (all threads), -1 unknown */
    double server_irq_us;  /* server's core: irq + softirq */
    double server_task_us; /* server's core: in tasks */
    double client_cpu_us;  /* this process */
    double client_task_us; /* this process's core: in tasks */
};

static int client_cpu = -1; /* the core this process is pinned to, if any */

static void take_sample(struct sample *s)
{
    s->t = now_ns();
    s->server_cpu_us = opt.pid > 0 ? proc_cpu_us(opt.pid) : -1;
    s->server_irq_us = s->server_task_us = -1;
    s->client_task_us = -1;
    if (opt.cpu >= 0)
        proc_core_us(opt.cpu, &s->server_task_us, &s->server_irq_us);
    if (client_cpu >= 0) {
        double irq;

        proc_core_us(client_cpu, &s->client_task_us, &irq);
    }
    s->client_cpu_us = self_cpu_us();
}

struct results {
    uint64_t t_start, t_setup_done;
    struct sample m0, m1; /* measured window (idle: the hold) */
    long rss_before_kb, rss_after_kb;
    bool setup_timed_out;
};

static void run(struct results *r)
{
    struct epoll_event events[MAX_EVENTS];
    uint64_t deadline = 0;                /* end of the current timed phase */
    uint64_t next_tick = 0, last_ops = 0; /* -v progress */

    memset(r, 0, sizeof(*r));
    r->rss_before_kb = r->rss_after_kb = -1;
    if (opt.mode == MODE_IDLE && opt.pid > 0)
        r->rss_before_kb = proc_rss_kb(opt.pid);
    r->t_start = now_ns();

    if (opt.mode == MODE_CONNECT) {
        /* No setup: every slot cycles from the start, the warm-up absorbs ramp-up. */
        int i;

        for (i = 0; i < opt.conns; i++)
            conn_open(&conns[i]);
        r->t_setup_done = r->t_start;
        phase = PH_WARMUP;
        deadline = r->t_start + sec_ns(opt.warmup);
    } else {
        phase = PH_SETUP;
        deadline = r->t_start + sec_ns(opt.timeout);
        open_more();
    }

    while (phase != PH_DONE) {
        uint64_t now = now_ns();
        int i, n, timeout_ms;

        /* Phase changes happen between batches; the window is timed exactly. */
        if (phase == PH_SETUP && setup_done()) {
            r->t_setup_done = now;
            if (opt.mode == MODE_IDLE) {
                phase = PH_HOLD;
                take_sample(&r->m0);
                deadline = now + sec_ns(opt.hold);
            } else {
                phase = PH_WARMUP;
                deadline = now + sec_ns(opt.warmup);
            }
        } else if (now >= deadline) {
            switch (phase) {
            case PH_SETUP:
                r->setup_timed_out = true;
                fprintf(stderr, "loadgen: setup timed out (%d of %d connections up)\n", usable,
                        opt.conns);
                phase = PH_DONE;
                break;
            case PH_WARMUP:
                hist_reset();
                ops = bytes_in = 0;
                take_sample(&r->m0);
                phase = PH_MEASURE;
                deadline = r->m0.t + sec_ns(opt.duration);
                break;
            case PH_MEASURE:
            case PH_HOLD:
                take_sample(&r->m1);
                if (opt.mode == MODE_IDLE && opt.pid > 0)
                    r->rss_after_kb = proc_rss_kb(opt.pid);
                phase = PH_DONE;
                break;
            default:
                break;
            }
            continue;
        }
        if (opt.verbose && now >= next_tick) {
            fprintf(stderr, "loadgen: %.1fs phase %d usable %d window-ops %llu (+%llu)\n",
                    (double)(now - r->t_start) / 1e9, (int)phase, usable, (unsigned long long)ops,
                    (unsigned long long)(ops - last_ops));
            last_ops = ops;
            next_tick = now + 1000000000ull;
        }
        if (opt.mode != MODE_CONNECT && phase != PH_SETUP && usable == 0) {
            fprintf(stderr, "loadgen: every connection was lost\n");
            take_sample(&r->m1);
            phase = PH_DONE;
            break;
        }

        timeout_ms = (int)((deadline - now + 999999) / 1000000);
        if (timeout_ms > 100)
            timeout_ms = 100;
        if (retry_count > 0)
            timeout_ms = 1; /* let the backlog drain or ports free up, then retry */
        n = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms);
        for (i = 0; i < n; i++)
            on_event(events[i].data.ptr, events[i].events);
        if (retry_count > 0)
            run_retries();
        if (phase == PH_SETUP)
            open_more();
    }
}

/* ---- Report ----------------------------------------------------------------- */

static void print_num(const char *key, double v, int decimals)
{
    if (isnan(v))
        printf(",\"%s\":null", key);
    else
        printf(",\"%s\":%.*f", key, decimals, v);
}

static void print_json_string(const char *key, const char *s)
{
    printf(",\"%s\":\"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s >= 0x20)
            putchar(*s);
    }
    putchar('"');
}

/*
 * Share of the window that other programs ran on the server's or the
 * client's core (the larger of the two): a run with much of it was disturbed.
 */
static double foreign_util(const struct results *r, double window_s)
{
    double worst = NAN;

    if (r->m0.server_task_us >= 0 && r->m0.server_cpu_us >= 0 && r->m1.server_cpu_us >= 0) {
        double t = (r->m1.server_task_us - r->m0.server_task_us) -
                   (r->m1.server_cpu_us - r->m0.server_cpu_us);

        worst = t / (window_s * 1e6);
    }
    if (r->m0.client_task_us >= 0) {
        double t = (r->m1.client_task_us - r->m0.client_task_us) -
                   (r->m1.client_cpu_us - r->m0.client_cpu_us);

        if (isnan(worst) || t / (window_s * 1e6) > worst)
            worst = t / (window_s * 1e6);
    }
    if (!isnan(worst) && worst < 0)
        worst = 0; /* tick sampling jitter */
    return worst;
}

static void report(const struct results *r)
{
    bool windowed = r->m0.t > 0 && r->m1.t > r->m0.t; /* the window was entered */
    double window_s = windowed ? (double)(r->m1.t - r->m0.t) / 1e9 : NAN;
    bool timed = opt.mode != MODE_IDLE && windowed;
    double server_cpu = NAN, core_busy = NAN, client_util = NAN, noise = NAN;

    if (windowed) {
        client_util = (r->m1.client_cpu_us - r->m0.client_cpu_us) / (window_s * 1e6);
        if (r->m0.server_cpu_us >= 0 && r->m1.server_cpu_us >= 0)
            server_cpu = r->m1.server_cpu_us - r->m0.server_cpu_us;
        if (!isnan(server_cpu) && r->m0.server_irq_us >= 0 && r->m1.server_irq_us >= 0)
            core_busy = server_cpu + (r->m1.server_irq_us - r->m0.server_irq_us);
        noise = foreign_util(r, window_s);
    }

    printf("{\"mode\":\"%s\"", mode_names[opt.mode]);
    print_json_string("label", opt.label);
    print_json_string("target", opt.target);
    printf(",\"conns\":%d,\"size\":%zu", opt.conns, opt.size);
    print_num("window", opt.mode == MODE_STREAM ? (double)opt.window : NAN, 0);
    print_num("duration_s", window_s, 3);
    print_num("setup_s", r->t_setup_done ? (double)(r->t_setup_done - r->t_start) / 1e9 : NAN, 3);
    printf(",\"ops\":%llu", (unsigned long long)ops);
    print_num("ops_per_s", timed ? (double)ops / window_s : NAN, 1);
    print_num("mb_per_s", timed ? (double)bytes_in / window_s / 1e6 : NAN, 3);
    print_num("lat_p50_us", timed ? hist_percentile_us(0.50) : NAN, 1);
    print_num("lat_p99_us", timed ? hist_percentile_us(0.99) : NAN, 1);
    print_num("lat_mean_us", timed && hist_n ? hist_sum_ns / (double)hist_n / 1000.0 : NAN, 1);
    print_num("server_cpu_us_per_op", timed && ops ? server_cpu / (double)ops : NAN, 3);
    print_num("server_cpu_util", server_cpu / (window_s * 1e6), 3);
    print_num("server_core_us_per_op", timed && ops ? core_busy / (double)ops : NAN, 3);
    print_num("server_core_util", core_busy / (window_s * 1e6), 3);
    print_num("client_cpu_util", client_util, 3);
    print_num("foreign_util", noise, 3);
    print_num("rss_before_kb", r->rss_before_kb >= 0 ? (double)r->rss_before_kb : NAN, 0);
    print_num("rss_after_kb", r->rss_after_kb >= 0 ? (double)r->rss_after_kb : NAN, 0);
    print_num("rss_per_conn_b",
              r->rss_before_kb >= 0 && r->rss_after_kb >= 0 && usable > 0
                  ? (double)(r->rss_after_kb - r->rss_before_kb) * 1024.0 / usable
                  : NAN,
              0);
#ifdef BENCH_TLS
    print_json_string("tls_protocol", tls_protocol);
    print_json_string("tls_cipher", tls_cipher);
    printf(",\"tls_handshakes\":%llu,\"tls_resumed\":%llu", (unsigned long long)tls_handshakes,
           (unsigned long long)tls_resumed);
#endif
    printf(",\"usable\":%d,\"errors\":%llu,\"retries\":%llu}\n", usable, (unsigned long long)errors,
           (unsigned long long)retries);
    fflush(stdout);
}

/* ---- Wait mode -------------------------------------------------------------- */

/* One blocking probe with 1 s timeouts: connect, send a byte, read it back. */
static bool probe_once(void)
{
    struct timeval tv = {1, 0};
    char c = 'p';
    bool ok = false;
    int fd = socket(opt.addr.family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return false;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
#ifdef BENCH_TLS
    if (connect(fd, (struct sockaddr *)&opt.addr.ss, opt.addr.sslen) == 0) {
        SSL *ssl = SSL_new(tls_ctx);

        if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1 &&
            SSL_write(ssl, &c, 1) == 1 && SSL_read(ssl, &c, 1) == 1 && c == 'p') {
            ok = true;
            SSL_shutdown(ssl);
        }
        SSL_free(ssl);
        ERR_clear_error();
    }
#else
    if (connect(fd, (struct sockaddr *)&opt.addr.ss, opt.addr.sslen) == 0 &&
        send(fd, &c, 1, MSG_NOSIGNAL) == 1 && recv(fd, &c, 1, 0) == 1 && c == 'p')
        ok = true;
#endif
    close(fd);
    return ok;
}

static int wait_for_server(void)
{
    uint64_t end = now_ns() + sec_ns(opt.timeout);
    struct timespec pause = {0, 20 * 1000 * 1000};

    do {
        if (probe_once())
            return 0;
        nanosleep(&pause, NULL);
    } while (now_ns() < end);
    return 1;
}

/* ---- main -------------------------------------------------------------------- */

static void usage(int status)
{
    fprintf(stderr,
            "usage: loadgen -m MODE [options] TARGET\n"
            "  MODE     pingpong | stream | connect | idle | wait\n"
            "  TARGET   127.0.0.1:PORT | [::1]:PORT | unix:PATH (nothing else is accepted)\n"
            "  -c N     connections (connect: concurrent slots)        [1]\n"
            "  -s B     message size in bytes        [64; stream: 65536]\n"
            "  -w B     stream: in-flight bytes per connection   [4 x size]\n"
            "  -d S     measured seconds                               [5]\n"
            "  -W S     warm-up seconds                                [1]\n"
            "  -H S     idle: seconds to hold before sampling RSS      [1]\n"
            "  -t S     setup (wait: probing) timeout in seconds      [60]\n"
            "  -p PID   server process to sample (CPU, RSS)\n"
            "  -C CPU   the core the server is pinned to (its softirq time is sampled)\n"
            "  -R       connect: close with RST instead of FIN (no TIME_WAIT)\n"
#ifdef BENCH_TLS
            "  -r       TLS, connect: resume: each slot offers its last connection's ticket\n"
#endif
            "  -l TEXT  label copied into the JSON result\n"
            "  -v       progress line on stderr every second\n");
    exit(status);
}

static double parse_secs(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (*end != '\0' || !(v >= 0) || v > 3600)
        usage(2);
    return v;
}

static long parse_long(const char *s, long min, long max)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*end != '\0' || v < min || v > max)
        usage(2);
    return v;
}

static void parse_args(int argc, char **argv)
{
    char err[256];
    int ch, m;

    while ((ch = getopt(argc, argv, "m:c:s:w:d:W:H:t:p:C:Rrl:vh")) != -1) {
        switch (ch) {
        case 'm':
            for (m = 0; m <= MODE_WAIT; m++)
                if (strcmp(optarg, mode_names[m]) == 0)
                    break;
            if (m > MODE_WAIT)
                usage(2);
            opt.mode = (enum mode)m;
            break;
        case 'c':
            opt.conns = (int)parse_long(optarg, 1, 1000000);
            break;
        case 's':
            opt.size = (size_t)parse_long(optarg, 1, 64L << 20);
            break;
        case 'w':
            opt.window = (size_t)parse_long(optarg, 1, 1L << 30);
            break;
        case 'd':
            opt.duration = parse_secs(optarg);
            break;
        case 'W':
            opt.warmup = parse_secs(optarg);
            break;
        case 'H':
            opt.hold = parse_secs(optarg);
            break;
        case 't':
            opt.timeout = parse_secs(optarg);
            break;
        case 'p':
            opt.pid = (pid_t)parse_long(optarg, 1, 1L << 30);
            break;
        case 'C':
            opt.cpu = (int)parse_long(optarg, 0, 4095);
            break;
        case 'R':
            opt.rst = true;
            break;
        case 'r':
#ifndef BENCH_TLS
            fprintf(stderr, "loadgen: -r needs TLS (tls_loadgen)\n");
            exit(2);
#endif
            opt.resume = true;
            break;
        case 'l':
            opt.label = optarg;
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (optind != argc - 1)
        usage(2);
    opt.target = argv[optind];
    if (bench_addr_parse(opt.target, &opt.addr, err, sizeof(err)) != 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        exit(2);
    }
    if (opt.size == 0)
        opt.size = opt.mode == MODE_STREAM ? 65536 : 64;
    if (opt.window == 0)
        opt.window = 4 * opt.size;
    if (opt.window < opt.size) {
        fprintf(stderr, "loadgen: -w must be at least -s\n");
        exit(2);
    }
}

/* Makes room for every connection's descriptor (plus a margin) if the hard limit allows. */
static int raise_fd_limit(int need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= (rlim_t)need)
        return 0;
    if (rl.rlim_max < (rlim_t)need) {
        fprintf(stderr, "loadgen: need %d descriptors, hard limit is %llu (raise ulimit -Hn)\n",
                need, (unsigned long long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)need;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    struct results r;
    size_t i;
    int c;

    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    client_cpu = pinned_cpu();
#ifdef BENCH_TLS
    if (tls_init() != 0) {
        fprintf(stderr, "loadgen: cannot create the TLS context\n");
        return 1;
    }
#endif
    if (opt.mode == MODE_WAIT)
        return wait_for_server();

    /* The watchdog: whatever happens, the process ends. */
    alarm((unsigned)(opt.timeout + opt.warmup + opt.duration + opt.hold + 30));

    if (raise_fd_limit(opt.conns + 64) != 0)
        return 1;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    conns = calloc((size_t)opt.conns, sizeof(*conns));
    retry_list = calloc((size_t)opt.conns, sizeof(*retry_list));
    retry_tmp = calloc((size_t)opt.conns, sizeof(*retry_tmp));
    msg = malloc(opt.size);
    if (epfd < 0 || conns == NULL || retry_list == NULL || retry_tmp == NULL || msg == NULL) {
        fprintf(stderr, "loadgen: out of resources\n");
        return 1;
    }
    for (i = 0; i < opt.size; i++)
        msg[i] = (char)('a' + i % 26);
    for (c = 0; c < opt.conns; c++) {
        conns[c].fd = -1;
        if (opt.mode == MODE_STREAM) {
            conns[c].ts_cap = (unsigned)(opt.window / opt.size) + 1;
            conns[c].ts = calloc(conns[c].ts_cap, sizeof(uint64_t));
            if (conns[c].ts == NULL) {
                fprintf(stderr, "loadgen: out of memory\n");
                return 1;
            }
        }
    }

    run(&r);
    report(&r);

    for (c = 0; c < opt.conns; c++) {
        conn_close(&conns[c]);
        free(conns[c].ts);
#ifdef BENCH_TLS
        SSL_SESSION_free(conns[c].session);
#endif
    }
    free(conns);
    free(retry_list);
    free(retry_tmp);
    free(msg);
    close(epfd);
#ifdef BENCH_TLS
    SSL_CTX_free(tls_ctx);
#endif
    if (r.setup_timed_out)
        return 1;
    return (opt.mode == MODE_CONNECT ? completed == 0 : usable == 0) ? 1 : 0;
}
