/*
 * connect and listen option validation (cnet_create_connection,
 * cnet_server_listen_opts) under libFuzzer, through the public API on a
 * fresh loop per input.
 *
 * The input fills a cnet_connect_opts_t or a cnet_listen_opts_t field by
 * field: ports (valid, 0, negative, over 65535, INT_MIN/MAX), hosts, local
 * addresses, Unix paths (filesystem paths of any length in a private temp
 * dir, Linux abstract names, path_len 0 / exact / short / long / with a NUL
 * inside), family, timeouts, Happy Eyeballs settings, hints, onread fields,
 * backlog, flags, has_fd, an already aborted signal, and the struct's size
 * (older layouts, or a bigger struct whose unknown tail is zero or not).
 *
 * Invariants:
 *   - every call returns 0 or one of the codes its documentation lists;
 *   - a connect that started ends with 'close' (after 'error' if it
 *     failed, with a negative code), the loop runs dry by itself, and
 *     cnet_loop_close() then succeeds: nothing is left alive or leaked
 *     (LSan checks the rest);
 *   - a listen that succeeded is closed again the same way.
 *
 * Nothing leaves the machine: every connect carries a custom lookup that
 * answers from a fixed set of loopback addresses (or with an error), so no
 * name ever reaches getaddrinfo; a host or lookup answer from the input is
 * used only when it is not an IP literal (it is then a name for the custom
 * lookup, or an invalid address); every TCP connect goes to a port bound on
 * 127.0.0.1 and ::1 and never listening (refused at once); listens bind
 * loopback literals on port 0 only; Unix paths live in a private temp dir,
 * abstract names carry a per-process prefix.
 */
#include "fuzz_common.h"

#include <cnet.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK FUZZ_CHECK

/* ---- per-process setup -------------------------------------------------- */

static int closed_port; /* bound on 127.0.0.1 (and ::1 when have_v6), never listening */
static bool have_v6;
static char tmpdir[64];     /* private dir for filesystem paths */
static char abs_prefix[32]; /* "\0cnet-fuzz-<pid>-" without the NUL at [0] */

static void remove_tmpdir(void)
{
    rmdir(tmpdir);
}

static void setup(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    /* A port free on both loopbacks, so "::1" connects are refused too. */
    for (int tries = 0; tries < 100 && !closed_port; tries++) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in6 s6 = {
            .sin6_family = AF_INET6, .sin6_port = sa.sin_port, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        if (fd6 < 0) {
            closed_port = ntohs(sa.sin_port); /* no IPv6 at all */
        } else if (bind(fd6, (struct sockaddr *)&s6, sizeof s6) == 0) {
            closed_port = ntohs(sa.sin_port);
            have_v6 = true;
        } else if (errno == EADDRNOTAVAIL) {
            close(fd6);
            closed_port = ntohs(sa.sin_port);
        } else {
            close(fd6);
            close(fd); /* taken on ::1: try another */
        }
    }
    CHECK(closed_port > 0);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cnet-fuzz-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
    atexit(remove_tmpdir);
    snprintf(abs_prefix, sizeof abs_prefix, "cnet-fuzz-%d-", (int)getpid());
    cnet_set_default_auto_select_family(true);
}

/* ---- reading the input ------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n;
} in_t;

static unsigned byte(in_t *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint32_t u32(in_t *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | byte(in);
    return v;
}

/* A string of up to @p max bytes from the input (length byte first), NUL-terminated. */
static size_t text(in_t *in, char *buf, size_t max)
{
    size_t len = byte(in);
    if (len > max)
        len = max;
    if (len > in->n)
        len = in->n;
    memcpy(buf, in->p, len);
    buf[len] = '\0';
    in->p += len;
    in->n -= len;
    return len;
}

static int fuzz_port(in_t *in, bool listen)
{
    static const int odd[] = {0, -1, 65536, INT_MIN, INT_MAX, 70000};
    unsigned b = byte(in);
    if (b < 0xc0)
        return listen ? 0 : closed_port; /* a valid port, made harmless */
    return odd[b % (sizeof odd / sizeof odd[0])];
}

/* True for a text that is not an IP literal (so a name for the custom lookup). */
static bool is_name(const char *s)
{
    return cnet_is_ip(s) == 0;
}

static const char *loop6(void)
{
    return have_v6 ? "::1" : "127.0.0.1";
}

/*
 * A Unix path: in the temp dir (any length, no '/' from the input, so no
 * escape), an abstract name with this process's prefix, or an empty one.
 * Sets *len to the path_len to pass (0, exact, shorter, longer, or past a NUL).
 */
static const char *fuzz_path(in_t *in, char *buf, size_t cap, size_t *len)
{
    unsigned kind = byte(in), lenkind = byte(in);
    char name[300];
    size_t n = text(in, name, sizeof name - 1), total;

    for (size_t i = 0; i < n; i++)
        if (name[i] == '/')
            name[i] = '_';
    if ((kind & 3) == 0) {
        buf[0] = '\0';
        total = 0;
    } else if ((kind & 3) == 3) {
        /* Linux abstract name: NUL, the per-process prefix, the input's bytes (NULs too). */
        size_t pl = strlen(abs_prefix);
        buf[0] = '\0';
        memcpy(buf + 1, abs_prefix, pl);
        if (n > cap - 1 - pl)
            n = cap - 1 - pl;
        memcpy(buf + 1 + pl, name, n);
        total = 1 + pl + n;
        *len = lenkind & 1 ? total : 108; /* exact, or node v20's padded 108 bytes */
        if (lenkind & 2)
            *len = total + (lenkind >> 2); /* too long, maybe over sun_path */
        if (*len > cap)
            *len = cap;
        return buf;
    } else {
        total = (size_t)snprintf(buf, cap, "%s/%s", tmpdir, name);
        if (total >= cap)
            total = cap - 1;
        /* A long run of 'x' to reach (and pass) sun_path's 107 bytes. */
        if (kind & 4) {
            size_t extra = (kind >> 3) * 8;
            if (total + extra >= cap)
                extra = cap - 1 - total;
            memset(buf + total, 'x', extra);
            total += extra;
            buf[total] = '\0';
        }
    }
    switch (lenkind & 3) {
    case 0:
        *len = 0;
        break;
    case 1:
        *len = total;
        break;
    case 2:
        *len = total > 1 ? total - 1 : total;
        break;
    default:
        /* one past the end: path_len then covers the NUL (a NUL inside) */
        *len = total + 1 < cap ? total + 1 : total;
    }
    return buf;
}

/* ---- the custom lookup -------------------------------------------------- */

typedef struct {
    unsigned mode;
    char bogus[64]; /* a non-IP answer from the input */
} lookup_ctx_t;

static int lookups;

static void fake_lookup(cnet_lookup_req_t *req, const char *hostname,
                        const cnet_lookup_info_t *info, void *arg)
{
    lookup_ctx_t *lc = arg;
    cnet_address_t a[4];
    size_t n = 0;

    CHECK(hostname && !cnet_is_ip(hostname)); /* literals are never looked up */
    CHECK(info->family == 0 || info->family == 4 || info->family == 6);
    lookups++;
    memset(a, 0, sizeof a);
    if ((lc->mode & 7) == 7) {
        CHECK(cnet_lookup_done(req, CNET_ENOTFOUND, NULL, 0) == 0);
        return;
    }
    /* Each bit adds an answer; only loopback addresses or non-IPs. */
    if (lc->mode & 1) {
        snprintf(a[n].address, sizeof a[n].address, "127.0.0.1");
        a[n++].family = 4;
    }
    if (lc->mode & 2) {
        snprintf(a[n].address, sizeof a[n].address, "%s", loop6());
        a[n++].family = cnet_is_ip(loop6());
    }
    if (lc->mode & 8) {
        snprintf(a[n].address, sizeof a[n].address, "%s", is_name(lc->bogus) ? lc->bogus : "x");
        a[n++].family = lc->mode & 16 ? 4 : 6;
    }
    if (lc->mode & 32) { /* a loopback address with a wrong family */
        snprintf(a[n].address, sizeof a[n].address, "127.0.0.1");
        a[n++].family = lc->mode & 64 ? 6 : 5;
    }
    CHECK(cnet_lookup_done(req, 0, a, n) == 0);
}

/* ---- events ----------------------------------------------------------- */

typedef struct {
    int closes, errors, last_error;
} events_t;

static void on_sock_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    events_t *e = arg;
    (void)s;
    if (ev->type == CNET_EVENT_ERROR) {
        CHECK(ev->error && ev->error->code < 0);
        e->errors++;
        e->last_error = ev->error->code;
    } else if (ev->type == CNET_EVENT_CLOSE) {
        CHECK(e->closes == 0);
        CHECK(ev->had_error == (e->errors > 0));
        e->closes++;
    }
}

static void on_srv_event(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    events_t *e = arg;
    (void)srv;
    if (ev->type == CNET_EVENT_ERROR) {
        CHECK(ev->error && ev->error->code < 0);
        e->errors++;
    } else if (ev->type == CNET_EVENT_CLOSE) {
        e->closes++;
    }
}

static bool on_onread(cnet_socket_t *s, size_t n, char *buf, void *arg)
{
    (void)s;
    (void)buf;
    (void)n;
    (void)arg;
    return true;
}

static char *onread_fn(cnet_socket_t *s, size_t *len, void *arg)
{
    static char b[64];
    (void)s;
    (void)arg;
    *len = sizeof b;
    return b;
}

static bool one_of(int rc, const int *codes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rc == codes[i])
            return true;
    return false;
}

/* The struct's size: current, an older layout, or a newer one with a tail. */
static size_t fuzz_size(in_t *in, size_t cur, const size_t *older, size_t nolder)
{
    unsigned b = byte(in);
    if (b < 0xd0)
        return cur;
    if (b < 0xe8)
        return older[b % nolder];
    return cur + 8 + (b & 7) * 8; /* bigger: unknown fields */
}

/* ---- connect ---------------------------------------------------------- */

static void fuzz_connect(cnet_loop_t *loop, in_t *in, cnet_abort_signal_t *aborted)
{
    static const int documented[] = {
        0,
        CNET_ERR_MISSING_ARGS,
        CNET_ERR_INVALID_ARG_TYPE,
        CNET_ERR_SOCKET_BAD_PORT,
        CNET_ENAMETOOLONG,
        CNET_EINVAL,
        CNET_ERR_INVALID_IP_ADDRESS,
        CNET_ERR_INVALID_ARG_VALUE,
        CNET_ERR_OUT_OF_RANGE,
        CNET_ENOMEM,
    };
    static const int families[] = {0, 4, 6, 0, 5, -1};
    static const unsigned attempt[] = {0,       1, 9, 10, 250, INT32_MAX, (unsigned)INT32_MAX + 1,
                                       UINT_MAX};
    static const size_t older[] = {offsetof(cnet_connect_opts_t, auto_select_family),
                                   offsetof(cnet_connect_opts_t, onread_buffer),
                                   offsetof(cnet_connect_opts_t, signal),
                                   offsetof(cnet_connect_opts_t, path_len)};
    union {
        cnet_connect_opts_t o;
        unsigned char raw[sizeof(cnet_connect_opts_t) + 128];
    } u;
    cnet_connect_opts_t *o = &u.o;
    char host[80], local[80], path[400];
    static char onread_buf[64];
    lookup_ctx_t lc;
    events_t ev = {0, 0, 0};
    cnet_socket_t *s = NULL;
    unsigned flags, hk, lk;
    int rc;

    memset(&u, 0, sizeof u);
    *o = (cnet_connect_opts_t)CNET_CONNECT_OPTS_INIT;
    flags = byte(in);
    o->port = fuzz_port(in, false);
    hk = byte(in);
    text(in, host, sizeof host - 1);
    switch (hk & 7) {
    case 0:
        o->host = NULL; /* "localhost", looked up by fake_lookup */
        break;
    case 1:
        o->host = "127.0.0.1";
        break;
    case 2:
        o->host = loop6();
        break;
    case 3:
        o->host = "localhost";
        break;
    case 4:
        o->host = "";
        break;
    case 5:
        o->host = "::ffff:127.0.0.1";
        break;
    default:
        o->host = is_name(host) ? host : "127.0.0.1";
    }
    if (hk & 8)
        o->path = fuzz_path(in, path, sizeof path, &o->path_len);
    else if (hk & 16)
        o->path_len = byte(in); /* without a path: must be refused unless 0 */
    lk = byte(in);
    text(in, local, sizeof local - 1);
    switch (lk & 7) {
    case 1:
        o->local_address = "127.0.0.1";
        break;
    case 2:
        o->local_address = loop6();
        break;
    case 3:
        o->local_address = "0.0.0.0";
        break;
    case 4:
        o->local_address = local; /* any text: not an IP is refused, an IP only binds */
        break;
    default:
        o->local_address = NULL;
    }
    o->local_port = lk & 8 ? fuzz_port(in, true) : lk & 16 ? closed_port : 0;
    o->family = families[byte(in) % 6];
    o->timeout_ms = byte(in) & 1 ? u32(in) : 0;
    o->no_delay = flags & 1;
    o->keep_alive = flags & 2;
    o->keep_alive_initial_delay_ms = flags & 4 ? u32(in) : 0;
    o->allow_half_open = flags & 8;
    o->auto_select_family = (int)(byte(in) % 5) - 2; /* -2..2: two invalid */
    o->auto_select_family_attempt_timeout_ms = attempt[byte(in) & 7];
    o->hints = flags & 16 ? (int)u32(in) : 0;
    lc.mode = byte(in);
    text(in, lc.bogus, sizeof lc.bogus - 1);
    o->lookup = fake_lookup;
    o->lookup_arg = &lc;
    /* With a literal host (or a path) no lookup is needed: sometimes go without one. */
    if ((flags & 32) && (o->path || (o->host && !is_name(o->host))))
        o->lookup = NULL;
    unsigned r = byte(in);
    o->onread_buffer = r & 1 ? onread_buf : NULL;
    o->onread_buffer_len = r & 2 ? sizeof onread_buf : r & 4 ? 1 : 0;
    o->onread_buffer_fn = r & 8 ? onread_fn : NULL;
    o->onread = r & 16 ? on_onread : NULL;
    o->signal = flags & 64 ? aborted : NULL;
    o->size = fuzz_size(in, sizeof *o, older, 4);
    if (o->size > sizeof *o && (flags & 128))
        u.raw[sizeof *o + (byte(in) % (o->size - sizeof *o))] = 1;

    lookups = 0;
    rc = cnet_create_connection(loop, o, NULL, NULL, &s);
    if (!one_of(rc, documented, sizeof documented / sizeof documented[0])) {
        fprintf(stderr, "cnet_create_connection: undocumented %d (%s)\n", rc, cnet_strerror(rc));
        abort();
    }
    if (rc != 0) {
        CHECK(s == NULL); /* on failure nothing is created */
        CHECK(lookups == 0);
        return;
    }
    CHECK(s != NULL);
    cnet_socket_retain(s);
    CHECK(cnet_socket_on(s, CNET_EVENT_ERROR, on_sock_event, &ev) == 0);
    CHECK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_sock_event, &ev) == 0);
    /* Destroyed before anything happened, or left to fail (refused, ENOENT, a bad
     * lookup answer) or to be destroyed by the aborted signal. */
    if (lc.mode & 128)
        cnet_socket_destroy(s);
    cnet_loop_run(loop);
    CHECK(ev.closes == 1);
    cnet_socket_release(s);
}

/* ---- listen ----------------------------------------------------------- */

static void fuzz_listen(cnet_loop_t *loop, in_t *in, cnet_abort_signal_t *aborted)
{
    static const int documented[] = {
        0,
        CNET_ERR_SOCKET_BAD_PORT,
        CNET_ENAMETOOLONG,
        CNET_ERR_INVALID_ARG_VALUE,
        CNET_EINVAL,
        CNET_ERR_SERVER_ALREADY_LISTEN,
        CNET_ERR_INVALID_ARG_TYPE,
        CNET_ENOMEM,
        CNET_ERR_OUT_OF_RANGE, /* a negative backlog */
        /* readable_all / writable_all: the chmod's error */
        CNET_ENOENT,
        CNET_EPERM,
        CNET_EACCES,
    };
    static const size_t older[] = {
        offsetof(cnet_listen_opts_t, signal), offsetof(cnet_listen_opts_t, path_len),
        offsetof(cnet_listen_opts_t, reuse_port), offsetof(cnet_listen_opts_t, has_fd)};
    union {
        cnet_listen_opts_t o;
        unsigned char raw[sizeof(cnet_listen_opts_t) + 128];
    } u;
    cnet_listen_opts_t *o = &u.o;
    char host[80], path[400];
    cnet_server_t *srv;
    events_t ev = {0, 0, 0};
    unsigned flags, hk;
    int rc;

    memset(&u, 0, sizeof u);
    *o = (cnet_listen_opts_t)CNET_LISTEN_OPTS_INIT;
    flags = byte(in);
    o->port = fuzz_port(in, true);
    hk = byte(in);
    text(in, host, sizeof host - 1);
    switch (hk & 7) {
    case 0:
    case 1:
        o->host = "127.0.0.1";
        break;
    case 2:
        o->host = loop6();
        break;
    case 3:
        o->host = "::ffff:127.0.0.1";
        break;
    case 4:
        /* An IPv4 loopback literal from the input, else the plain one. */
        o->host = cnet_is_ipv4(host) && strncmp(host, "127.", 4) == 0 ? host : "127.0.0.1";
        break;
    default:
        o->host = NULL; /* only with a path (else it would be every interface) */
    }
    if (hk & 8 || !o->host) {
        o->path = fuzz_path(in, path, sizeof path, &o->path_len);
        if (!o->host && hk & 16)
            o->host = ""; /* "" is "no host" too, and a path wins anyway */
    } else if (hk & 32) {
        o->path_len = byte(in); /* without a path: refused unless 0 */
    }
    o->backlog = flags & 1 ? (int)u32(in) : 0;
    o->ipv6_only = flags & 2;
    o->readable_all = flags & 4;
    o->writable_all = flags & 8;
    o->reuse_port = flags & 16;
    o->exclusive = flags & 32;
    if (hk & 64) {
        o->has_fd = true;
        o->fd = hk & 128 ? -1 : 1 << 20; /* never a descriptor of this process */
    }
    o->signal = flags & 128 ? aborted : NULL;
    o->size = fuzz_size(in, sizeof *o, older, 4);
    if (o->size > sizeof *o && (byte(in) & 1))
        u.raw[sizeof *o + (byte(in) % (o->size - sizeof *o))] = 1;

    CHECK(cnet_server_new(loop, NULL, &srv) == 0);
    cnet_server_retain(srv);
    CHECK(cnet_server_on(srv, CNET_EVENT_ERROR, on_srv_event, &ev) == 0);
    CHECK(cnet_server_on(srv, CNET_EVENT_CLOSE, on_srv_event, &ev) == 0);
    rc = cnet_server_listen_opts(srv, o, NULL, NULL);
    if (!one_of(rc, documented, sizeof documented / sizeof documented[0])) {
        fprintf(stderr, "cnet_server_listen_opts: undocumented %d (%s)\n", rc, cnet_strerror(rc));
        abort();
    }
    if (rc == 0 && byte(in) & 1) {
        /* A second listen on a listening (or binding) server. */
        int again = cnet_server_listen_opts(srv, o, NULL, NULL);
        CHECK(one_of(again, documented, sizeof documented / sizeof documented[0]));
    }
    (void)cnet_server_close(srv, NULL, NULL);
    cnet_loop_run(loop);
    cnet_server_release(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_t in = {data, size};
    cnet_loop_t *loop;
    cnet_abort_controller_t *ac;
    unsigned what;

    setup();
    CHECK(cnet_loop_new(&loop) == 0);
    CHECK(cnet_abort_controller_new(&ac) == 0);
    cnet_abort_controller_abort(ac);
    what = byte(&in);
    if (what & 1)
        fuzz_connect(loop, &in, cnet_abort_controller_signal(ac));
    if (what & 2 || !(what & 1))
        fuzz_listen(loop, &in, cnet_abort_controller_signal(ac));
    cnet_loop_run(loop);
    CHECK(cnet_loop_alive(loop) == 0);
    CHECK(cnet_loop_close(loop) == 0);
    cnet_abort_controller_free(ac);
    return 0;
}
