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
#include <cnet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    case CNET_EVENT_LOOKUP:
        conf_log("%s lookup %s %s %d", side->name, ev->error ? cnet_err_name(ev->error->code) : "-",
                 ev->address ? ev->address : "-", ev->family);
        break;
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
