/*
 * The state of one connect, shared by the three files that make it:
 *
 *   connect.c         the public calls, argument checks, the state's lifetime,
 *                     one connect(2) attempt (bind, 'connectionAttempt',
 *                     its callback) and the switch to a connected socket;
 *   lookup.c          resolving the host (getaddrinfo or a custom resolver),
 *                     validating the answer and the 'lookup' events;
 *   happy_eyeballs.c  several addresses: their order, one attempt after
 *                     another with a timeout each, and the AggregateError.
 *
 * Private to src/net/connect*.c, lookup.c and happy_eyeballs.c.
 */
#ifndef CNET_NET_CONNECT_H
#define CNET_NET_CONNECT_H

#include "internal.h"

/*
 * Where a connect is. An explicit state rather than flag bits, because the
 * callbacks of a lookup, a tick, a timer and a connect request can all be
 * pending around a destroy, and each must know what it still owns:
 *
 *   host name:   LOOKUP -> (ANSWERED ->) attempts      (ANSWERED: a custom
 *                                                      answer waits for its tick)
 *   IP literal:  START -> attempts                     (START: the tick that makes
 *                                                      the connect(2), as Node's nextTick)
 *   attempts:    IDLE -> ATTEMPT -> connected, or failed -> CLOSING -> IDLE -> ...
 *
 * Several attempts come from Happy Eyeballs (multi), or, without it, from the
 * sequential fallback (seq): the other addresses of the answer, each tried
 * after the previous attempt failed. Both go through the same CLOSING step.
 *
 * IDLE means nothing of ours is pending (we are inside an emit or between
 * steps). CLOSING: the handle of an abandoned or failed attempt is closing
 * (libuv frees it only in its close callback) and the next attempt waits for
 * that; a connect callback arriving then is the cancelled one and ignored.
 */
typedef enum {
    CNET__CONN_IDLE,
    CNET__CONN_LOOKUP,
    CNET__CONN_ANSWERED,
    CNET__CONN_START,
    CNET__CONN_ATTEMPT,
    CNET__CONN_CLOSING,
} cnet__conn_state_t;

/* The handle a custom resolver completes (cnet.h): lives inside its connect state. */
struct cnet_lookup_req {
    bool answered; /* cnet_lookup_done() was called */
};

/* Happy Eyeballs' list of attempted addresses, kept on the socket after the connect. */
typedef struct cnet__attempted {
    size_t n, cap;
    cnet_address_t addr[];
} cnet__attempted_t;

/*
 * Lifetime: libuv and the user's resolver still own their requests after a
 * destroy, so the state is reference counted: the socket's link (s->conn),
 * each pending request (getaddrinfo, custom lookup, connect), the queued tick
 * and the open timer each hold one. A destroy unlinks the socket (c->s =
 * NULL) and every callback that finds it unlinked only drops its reference.
 */
struct cnet__connect {
    cnet_socket_t *s; /* NULL once the socket let go of us */
    int refs;
    cnet__conn_state_t state;
    bool want_all;  /* Happy Eyeballs asked the lookup for every address */
    bool multi;     /* Happy Eyeballs is trying several addresses */
    bool seq;       /* no Happy Eyeballs: a failed attempt goes on with addrs[next] */
    bool announced; /* a path's 'connectionAttempt' was emitted */
    bool zombie;    /* destroyed mid-attempt: report the ECANCELED as Node does */
    bool timer_open;
    bool custom;     /* the host is resolved by a custom lookup */
    bool host_given; /* opts.host was set (Node's options.host, in messages) */
    char *host;      /* host name, IP literal or path */
    size_t path_len; /* a path's length (an abstract name's NULs count), else 0 */
    char *local_address;
    int port, family, hints, local_port;
    unsigned attempt_timeout; /* Happy Eyeballs, ms */
    cnet_lookup_fn lookup;
    void *lookup_arg;
    int early_code; /* a failure found inside connect(), reported by the tick */
    uv_getaddrinfo_t gai;
    uv_connect_t req;
    uv_timer_t timer;  /* Happy Eyeballs' attempt timeout */
    cnet__tick_t tick; /* START, ANSWERED, a path's announcement, an early failure */
    struct cnet_lookup_req lk;
    int lk_status;
    /* The lookup's answer; with Happy Eyeballs, then the order to try them in;
     * sequentially, the first then the usable others in the answer's order. */
    cnet_address_t *addrs;
    size_t naddrs, next;
    cnet_address_t target;   /* the attempt in progress (port -1, family 0: a path) */
    const char *bound_local; /* the attempt's local address when bound to local_port */
    cnet__errinfo_t **errs;  /* Happy Eyeballs: each failed attempt's error */
    size_t nerrs;
};

extern const cnet__ref_ops_t cnet__conn_ref_ops; /* for ticks that carry a connect state */
void cnet__conn_retain(cnet__connect_t *c);
void cnet__conn_release(cnet__connect_t *c);

/* connect.c */
cnet__errinfo_t *cnet__conn_error(int code, const char *syscall, const char *address, int port);
void cnet__conn_fail(cnet__connect_t *c, cnet__errinfo_t *e);
/* The error of a finished attempt at c->target, with Node's " - Local (...)" when bound. */
cnet__errinfo_t *cnet__conn_attempt_error(cnet__connect_t *c, int code);
void cnet__conn_attempt(cnet__connect_t *c);
void cnet__conn_close_attempt(cnet__connect_t *c);
void cnet__conn_emit_attempt(cnet__connect_t *c, cnet_event_type_t type, const cnet_error_t *err);

/* lookup.c: 0, or a code when getaddrinfo could not even start (the caller reports it). */
int cnet__lookup_start(cnet__connect_t *c);
void cnet__lookup_fail_first(cnet__connect_t *c); /* no usable address: judge the first */

/* happy_eyeballs.c */
void cnet__he_start(cnet__connect_t *c);
void cnet__he_next(cnet__connect_t *c);
void cnet__he_failed(cnet__connect_t *c, cnet__errinfo_t *e, bool emit);
void cnet__he_arm_timer(cnet__connect_t *c);
void cnet__he_stop_timer(cnet__connect_t *c);
void cnet__he_close_timer(cnet__connect_t *c);
bool cnet__he_default_enabled(void);
unsigned cnet__he_default_timeout(void);

#endif
