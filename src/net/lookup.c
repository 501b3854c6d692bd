/*
 * Resolving the host of a connect: getaddrinfo on libuv's threadpool or the
 * user's resolver (the `lookup` option), then Node's handling of the answer:
 * the 'lookup' events, the checks of each address, and the hand-over to the
 * attempts in turn (the first, then the sequential fallback) or to Happy
 * Eyeballs.
 *
 * Node (lib/net.js lookupAndConnect) asks the lookup for one address, or
 * for all of them when autoSelectFamily applies (c->want_all); both
 * resolvers' answers become the same list of cnet_address_t (text and
 * family), so the rest does not know where an answer came from.
 *
 * Sections: the answer -> getaddrinfo -> custom resolvers -> starting.
 */
#include "net/connect.h"

#include <netdb.h>
#include <stdio.h>

/* ---- the answer --------------------------------------------------------- */

static void emit_lookup(cnet__connect_t *c, const cnet_error_t *err, const cnet_address_t *a)
{
    cnet_event_t ev;

    memset(&ev, 0, sizeof ev);
    ev.type = CNET_EVENT_LOOKUP;
    ev.host = c->host;
    ev.error = err;
    if (a) {
        ev.address = a->address;
        ev.family = a->family;
    }
    cnet__socket_emit(c->s, &ev);
}

/* Node's errors for an unusable address: ERR_INVALID_IP_ADDRESS, ERR_INVALID_ADDRESS_FAMILY. */
static void fail_address(cnet__connect_t *c, const cnet_address_t *a)
{
    cnet__errinfo_t *e = cnet__calloc(1, sizeof *e);
    const char *host = c->host_given ? c->host : NULL;

    if (e) {
        if (!a || !cnet_is_ip(a->address)) {
            cnet__errinfo_set(e, CNET_ERR_INVALID_IP_ADDRESS, NULL, NULL, -1, NULL,
                              CNET__MSG_PLAIN);
            snprintf(e->message, sizeof e->message, "Invalid IP address: %s",
                     a ? a->address : "undefined");
        } else {
            /* Node sets err.host (options.host) and err.port (options.port). */
            cnet__errinfo_set(e, CNET_ERR_INVALID_ADDRESS_FAMILY, NULL, NULL, c->port, host,
                              CNET__MSG_PLAIN);
            snprintf(e->message, sizeof e->message, "Invalid address family: %d %s:%d", a->family,
                     host ? host : "undefined", c->port);
        }
    }
    cnet__conn_fail(c, e);
}

static bool usable(const cnet_address_t *a)
{
    return cnet_is_ip(a->address) && (a->family == 4 || a->family == 6);
}

/*
 * Without Happy Eyeballs Node asks for one address and tries it; cnet keeps
 * the rest of the answer (getaddrinfo's every address, or several from a
 * custom resolver asked for one) as the sequential fallback (connect.c):
 * after the first, the usable ones in the answer's order.
 */
static void keep_fallbacks(cnet__connect_t *c)
{
    size_t k = 1;

    for (size_t i = 1; i < c->naddrs; i++)
        if (usable(&c->addrs[i]))
            c->addrs[k++] = c->addrs[i];
    c->naddrs = k;
    c->next = 1;
    c->seq = true;
}

/*
 * The lookup finished with @p code (0 or a negative code; @p e, owned, its
 * error) and c->addrs. Node emits 'lookup' for the one address it asked for
 * (even an unusable one), or, with autoSelectFamily, once per address
 * (stopping if a listener destroys the socket); an error gets one 'lookup'
 * carrying it, then 'error'. Without autoSelectFamily the first address is
 * checked and tried, the others are kept for the sequential fallback.
 */
static void answer(cnet__connect_t *c, int code, cnet__errinfo_t *e)
{
    cnet_socket_t *s = c->s;

    cnet__socket_retain(s);
    if (code < 0) {
        emit_lookup(c, e ? &e->pub : NULL, NULL);
        if (!(s->flags & CNET__S_DESTROYED)) {
            cnet__conn_fail(c, e);
            e = NULL;
        }
    } else if (!c->want_all) {
        const cnet_address_t *a = c->naddrs ? &c->addrs[0] : NULL;
        emit_lookup(c, NULL, a);
        if (s->flags & CNET__S_DESTROYED) {
            /* A 'lookup' listener destroyed the socket. */
        } else if (!a || !usable(a)) {
            fail_address(c, a); /* Node judges the first address alone */
        } else {
            c->target = *a;
            c->target.port = c->port;
            keep_fallbacks(c);
            cnet__conn_attempt(c);
        }
    } else {
        for (size_t i = 0; i < c->naddrs && !(s->flags & CNET__S_DESTROYED); i++)
            emit_lookup(c, NULL, &c->addrs[i]);
        if (!(s->flags & CNET__S_DESTROYED))
            cnet__he_start(c);
    }
    cnet__errinfo_free(e);
    cnet__socket_release(s);
}

/* Happy Eyeballs found no usable address: Node judges the first one. */
void cnet__lookup_fail_first(cnet__connect_t *c)
{
    fail_address(c, c->naddrs ? &c->addrs[0] : NULL);
}

/* ---- getaddrinfo ---------------------------------------------------------- */

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    cnet__connect_t *c = req->data;
    cnet__errinfo_t *e = NULL;
    const struct addrinfo *ai;
    int code = 0;
    size_t n = 0;

    if (!c->s)
        goto out; /* destroyed: this is the cancelled (or finished) lookup */
    c->state = CNET__CONN_IDLE;
    if (status == 0 && !res)
        status = UV_EAI_NONAME;
    if (status == 0) {
        for (ai = res; ai; ai = ai->ai_next)
            n++;
        c->addrs = cnet__calloc(n, sizeof *c->addrs);
        if (!c->addrs)
            status = UV_EAI_MEMORY;
    }
    if (status < 0) {
        /* Node: 'lookup' with the error, then 'error' "getaddrinfo ENOTFOUND host", 'close'. */
        code = cnet__err_from_uv(status);
        if ((e = cnet__calloc(1, sizeof *e)) != NULL)
            cnet__errinfo_set(e, code, "getaddrinfo", NULL, -1, c->host, CNET__MSG_PLAIN);
    } else {
        for (ai = res; ai; ai = ai->ai_next)
            if (cnet__addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &c->addrs[c->naddrs]) == 0)
                c->addrs[c->naddrs++].port = 0;
    }
    answer(c, code, e);
out:
    if (res)
        uv_freeaddrinfo(res);
    cnet__conn_release(c);
}

/* cnet.h's CNET_AI_* are Node's dns constants; the platform's values may differ. */
static int ai_flags(int hints)
{
    int f = 0;
    if (hints & CNET_AI_ADDRCONFIG)
        f |= AI_ADDRCONFIG;
    if (hints & CNET_AI_V4MAPPED)
        f |= AI_V4MAPPED;
    if (hints & CNET_AI_ALL)
        f |= AI_ALL;
    return f;
}

/* ---- custom resolvers ---------------------------------------------------- */

static cnet__connect_t *conn_of(const cnet_lookup_req_t *req)
{
    return (cnet__connect_t *)(void *)((char *)req - offsetof(cnet__connect_t, lk));
}

/* The answer's tick: cnet_lookup_done() never runs anything itself. */
static void tick_answered(cnet__tick_t *t)
{
    cnet__connect_t *c = t->obj;
    cnet__errinfo_t *e = NULL;
    int code = c->lk_status;

    if (!c->s || c->state != CNET__CONN_ANSWERED)
        return;
    c->state = CNET__CONN_IDLE;
    if (code < 0 && (e = cnet__calloc(1, sizeof *e)) != NULL)
        cnet__errinfo_set(e, code, NULL, NULL, -1, c->host, CNET__MSG_PLAIN);
    answer(c, code, e);
}

int cnet_lookup_done(cnet_lookup_req_t *req, int status, const cnet_address_t *addrs, size_t naddrs)
{
    cnet__connect_t *c;

    if (!req || (status >= 0 && naddrs > 0 && !addrs))
        return CNET_ERR_INVALID_ARG_TYPE;
    if (req->answered)
        return CNET_ERR_INVALID_ARG_VALUE; /* best effort: after the first call req may be gone */
    c = conn_of(req);
    req->answered = true;
    if (c->s && c->state == CNET__CONN_LOOKUP) {
        if (status >= 0 && naddrs > 0) {
            if ((c->addrs = cnet__malloc(naddrs * sizeof *c->addrs)) != NULL) {
                memcpy(c->addrs, addrs, naddrs * sizeof *c->addrs);
                c->naddrs = naddrs;
            } else {
                status = CNET_ENOMEM;
            }
        }
        c->lk_status = status < 0 ? status : 0;
        c->state = CNET__CONN_ANSWERED;
        cnet__tick_embedded(c->s->loop, &c->tick, tick_answered, c, &cnet__conn_ref_ops);
    }
    cnet__conn_release(c); /* the resolver's reference */
    return 0;
}

bool cnet_lookup_is_cancelled(const cnet_lookup_req_t *req)
{
    const cnet__connect_t *c = req ? conn_of(req) : NULL;
    return !c || !c->s || (c->s->flags & CNET__S_DESTROYED);
}

/* ---- starting ------------------------------------------------------------ */

int cnet__lookup_start(cnet__connect_t *c)
{
    cnet_lookup_info_t info;
    int hints = c->hints;

    /* Node adds dns.ADDRCONFIG when neither a family nor hints were given (not on Windows). */
    if (c->family != 4 && c->family != 6 && hints == 0)
        hints = CNET_AI_ADDRCONFIG;
    c->state = CNET__CONN_LOOKUP;
    if (c->custom) {
        memset(&info, 0, sizeof info);
        info.family = c->family;
        info.hints = hints;
        info.all = c->want_all;
        cnet__conn_retain(c); /* the resolver's, until cnet_lookup_done() */
        c->lookup(&c->lk, c->host, &info, c->lookup_arg);
        return 0;
    } else {
        struct addrinfo h;
        int err;

        memset(&h, 0, sizeof h);
        h.ai_family = c->family == 4 ? AF_INET : c->family == 6 ? AF_INET6 : AF_UNSPEC;
        h.ai_socktype = SOCK_STREAM;
        h.ai_flags = ai_flags(hints);
        c->gai.data = c;
        err = uv_getaddrinfo(c->s->loop->uv, &c->gai, on_resolved, c->host, NULL, &h);
        if (err) {
            c->state = CNET__CONN_IDLE;
            return cnet__err_from_uv(err);
        }
        cnet__conn_retain(c); /* the request's */
        return 0;
    }
}
