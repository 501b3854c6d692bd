/*
 * C side of the conformance suite (tests/conformance/README.md): the same
 * canonical lines common.js prints, one per observable event, so that
 * NAME.c and NAME.js produce identical traces for the same steps.
 */
#ifndef CNET_CONFORMANCE_H
#define CNET_CONFORMANCE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <cnet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One line: the parts joined by spaces (printf-style). */
static inline void conf_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static inline void conf_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* The bytes as common.js's esc() prints them: "text" with \" \\ \xNN escapes. */
static inline const char *conf_esc(const char *p, size_t n)
{
    static char out[4 * 4096 + 3];
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < sizeof out; i++) {
        unsigned char b = (unsigned char)p[i];
        if (b == '"' || b == '\\') {
            out[o++] = '\\';
            out[o++] = (char)b;
        } else if (b >= 0x20 && b < 0x7f) {
            out[o++] = (char)b;
        } else {
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", b);
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Node's "code syscall" pair of an error ('-' when absent). */
static inline const char *conf_err(const cnet_error_t *e)
{
    static char buf[128];
    if (!e)
        return "- -";
    snprintf(buf, sizeof buf, "%s %s", cnet_err_name(e->code), e->syscall ? e->syscall : "-");
    return buf;
}

enum { CONF_DATA_TEXT, CONF_DATA_LEN, CONF_DATA_NONE };

typedef struct conf_side {
    const char *name;
    int data_mode;
} conf_side_t;

static void conf_socket_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const conf_side_t *side = arg;
    (void)s;
    switch (ev->type) {
    case CNET_EVENT_LOOKUP: {
        char fam[16] = "-"; /* node: undefined with an error or an empty answer */
        if (ev->family)
            snprintf(fam, sizeof fam, "%d", ev->family);
        conf_log("%s lookup %s %s %s", side->name, ev->error ? cnet_err_name(ev->error->code) : "-",
                 ev->address ? ev->address : "-", fam);
        break;
    }
    case CNET_EVENT_DATA:
        if (side->data_mode == CONF_DATA_LEN)
            conf_log("%s data %zu", side->name, ev->data.len);
        else if (side->data_mode == CONF_DATA_TEXT)
            conf_log("%s data %s", side->name, conf_esc(ev->data.base, ev->data.len));
        break;
    case CNET_EVENT_ERROR:
        conf_log("%s error %s", side->name, conf_err(ev->error));
        break;
    case CNET_EVENT_CLOSE:
        conf_log("%s close %s", side->name, ev->had_error ? "true" : "false");
        break;
    default:
        conf_log("%s %s", side->name, cnet_event_name(ev->type));
    }
}

/* Prints every event of @p s as common.js's traceSocket does. @p side must outlive @p s. */
static inline void conf_trace_socket(cnet_socket_t *s, const conf_side_t *side)
{
    static const cnet_event_type_t types[] = {
        CNET_EVENT_LOOKUP, CNET_EVENT_CONNECT, CNET_EVENT_READY, CNET_EVENT_DATA,
        CNET_EVENT_END,    CNET_EVENT_FINISH,  CNET_EVENT_DRAIN, CNET_EVENT_TIMEOUT,
        CNET_EVENT_ERROR,  CNET_EVENT_CLOSE,
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cnet_socket_on(s, types[i], conf_socket_cb, (void *)side) != 0)
            abort();
}

typedef struct conf_server_side {
    const char *name;
    conf_side_t peer; /* how accepted sockets are traced; peer.name NULL: not traced */
} conf_server_side_t;

static void conf_server_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    const conf_server_side_t *side = arg;
    (void)srv;
    switch (ev->type) {
    case CNET_EVENT_ERROR:
        conf_log("%s error %s", side->name, conf_err(ev->error));
        break;
    case CNET_EVENT_CONNECTION:
        conf_log("%s connection", side->name);
        if (side->peer.name)
            conf_trace_socket(ev->connection, &side->peer);
        break;
    default:
        conf_log("%s %s", side->name, cnet_event_name(ev->type));
    }
}

/* Prints the server's events as common.js's traceServer does. */
static inline void conf_trace_server(cnet_server_t *srv, const conf_server_side_t *side)
{
    static const cnet_event_type_t types[] = {CNET_EVENT_LISTENING, CNET_EVENT_ERROR,
                                              CNET_EVENT_CLOSE, CNET_EVENT_DROP,
                                              CNET_EVENT_CONNECTION};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cnet_server_on(srv, types[i], conf_server_cb, (void *)side) != 0)
            abort();
}

/* Values that vary between runs (ports, temp paths), printed by name: conf_named("PORT", "4711").
 */
static struct {
    char value[128];
    const char *name;
} conf_names_[16];
static size_t conf_nnames_;

static inline void conf_named(const char *name, const char *value)
{
    if (conf_nnames_ < sizeof conf_names_ / sizeof conf_names_[0]) {
        snprintf(conf_names_[conf_nnames_].value, sizeof conf_names_[0].value, "%s", value);
        conf_names_[conf_nnames_++].name = name;
    }
}

static inline void conf_named_port(const char *name, int port)
{
    char v[16];
    snprintf(v, sizeof v, "%d", port);
    conf_named(name, v);
}

/* @p text with every named value replaced by its name (common.js's sub()), in @p out. */
static inline const char *conf_sub_into(char *out, size_t size, const char *text)
{
    char cur[1024], tmp[1024];
    size_t len;

    snprintf(cur, sizeof cur, "%s", text);
    for (size_t i = 0; i < conf_nnames_; i++) {
        const char *v = conf_names_[i].value, *q = cur;
        size_t o = 0, vl = strlen(v);
        if (!vl)
            continue;
        while (*q && o + 1 < sizeof tmp) {
            if (strncmp(q, v, vl) == 0) {
                size_t nl = strlen(conf_names_[i].name);
                if (o + nl + 1 >= sizeof tmp)
                    break;
                memcpy(tmp + o, conf_names_[i].name, nl);
                o += nl;
                q += vl;
            } else {
                tmp[o++] = *q++;
            }
        }
        tmp[o] = '\0';
        memcpy(cur, tmp, o + 1);
    }
    len = strlen(cur);
    if (len >= size)
        len = size - 1;
    memcpy(out, cur, len);
    out[len] = '\0';
    return out;
}

/* A field as common.js's opt() prints it: '-' when absent. */
static inline const char *conf_opt_(char *buf, size_t size, const char *s)
{
    return s ? conf_sub_into(buf, size, s) : "-";
}

static inline const char *conf_opt_int_(char *buf, size_t size, int v, int absent)
{
    char t[16];
    if (v == absent)
        return "-";
    snprintf(t, sizeof t, "%d", v);
    return conf_sub_into(buf, size, t);
}

/* common.js's errDetail(): an error in full, an aggregate with its attempts. */
static inline void conf_err_detail_into(char *out, size_t size, const cnet_error_t *e)
{
    char m[512], a[128], p[32], h[256], la[128], lp[32];
    int n = snprintf(out, size, "%s %s \"%s\" address=%s port=%s host=%s local=%s:%s",
                     cnet_err_name(e->code), e->syscall ? e->syscall : "-",
                     conf_sub_into(m, sizeof m, e->message), conf_opt_(a, sizeof a, e->address),
                     conf_opt_int_(p, sizeof p, e->port, -1), conf_opt_(h, sizeof h, e->hostname),
                     conf_opt_(la, sizeof la, e->local_address),
                     conf_opt_int_(lp, sizeof lp, e->local_port, -1));
    if (e->attempts && n > 0 && (size_t)n < size) {
        size_t o = (size_t)n;
        o += (size_t)snprintf(out + o, size - o, " attempts=[");
        for (size_t i = 0; i < e->nattempts && o < size; i++) {
            if (i)
                o += (size_t)snprintf(out + o, size - o, " | ");
            if (o < size)
                conf_err_detail_into(out + o, size - o, &e->attempts[i]);
            o += strlen(out + o);
        }
        if (o < size)
            snprintf(out + o, size - o, "]");
    }
}

static inline const char *conf_err_detail(const cnet_error_t *e)
{
    static char buf[4096];
    conf_err_detail_into(buf, sizeof buf, e);
    return buf;
}

static void conf_attempt_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    const conf_side_t *side = arg;
    char ab[128], pb[32], fb[16];
    const char *a = conf_opt_(ab, sizeof ab, ev->address);
    const char *p = conf_opt_int_(pb, sizeof pb, ev->port, -1);
    const char *f = conf_opt_int_(fb, sizeof fb, ev->family, 0);
    (void)s;
    if (ev->type == CNET_EVENT_CONNECTION_ATTEMPT_FAILED)
        conf_log("%s %s %s %s %s %s", side->name, cnet_event_name(ev->type), a, p, f,
                 conf_err(ev->error));
    else
        conf_log("%s %s %s %s %s", side->name, cnet_event_name(ev->type), a, p, f);
}

/* common.js's traceAttempts(): the connectionAttempt* events of @p s. */
static inline void conf_trace_attempts(cnet_socket_t *s, const conf_side_t *side)
{
    static const cnet_event_type_t types[] = {CNET_EVENT_CONNECTION_ATTEMPT,
                                              CNET_EVENT_CONNECTION_ATTEMPT_FAILED,
                                              CNET_EVENT_CONNECTION_ATTEMPT_TIMEOUT};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cnet_socket_on(s, types[i], conf_attempt_cb, (void *)side) != 0)
            abort();
}

/*
 * common.js's blackhole(): a loopback port whose connects never complete. A
 * socket listens with backlog 1 and never accepts; two blocking connects
 * fill its accept queue, so Linux drops further SYNs. Returns the port (the
 * sockets stay open until the process exits), or -1.
 */
static inline int conf_blackhole(const char *ip)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fam = strchr(ip, ':') ? AF_INET6 : AF_INET, fd = socket(fam, SOCK_STREAM, 0);

    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)fam;
    if (fam == AF_INET)
        inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr);
    else
        inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sizeof ss) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        int f = socket(fam, SOCK_STREAM, 0);
        if (f < 0 || connect(f, (struct sockaddr *)&ss, len) != 0)
            return -1;
    }
    return ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void conf_deadline_fired_(int sig)
{
    static const char msg[] = "DEADLINE\n";
    (void)sig;
    if (write(1, msg, sizeof msg - 1) < 0)
        _exit(2);
    _exit(2);
}

/* A hang fails fast (the same deadline as common.js's deadline()). */
static inline void conf_deadline(unsigned seconds)
{
    signal(SIGALRM, conf_deadline_fired_);
    alarm(seconds);
}

/* Checks a call that must succeed; a failure is printed as a trace line, so the diff shows it. */
#define CONF_OK(expr)                                                 \
    do {                                                              \
        int r_ = (expr);                                              \
        if (r_ != 0)                                                  \
            conf_log("CALL FAILED %s: %s", #expr, cnet_err_name(r_)); \
    } while (0)

#endif /* CNET_CONFORMANCE_H */
