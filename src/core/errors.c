/*
 * Error codes, names and messages, all generated from CNET_ERROR_MAP in
 * cnet.h, and Node-style error messages for events.
 */
#include "internal.h"

#include <stdio.h>

const char *cnet_err_name(int code)
{
    switch (code) {
#define CNET__ERR_NAME(name, value, msg) \
    case (value):                        \
        return #name;
        CNET_ERROR_MAP(CNET__ERR_NAME)
#undef CNET__ERR_NAME
    default:
        return "UNKNOWN";
    }
}

const char *cnet_strerror(int code)
{
    switch (code) {
#define CNET__ERR_MSG(name, value, msg) \
    case (value):                       \
        return msg;
        CNET_ERROR_MAP(CNET__ERR_MSG)
#undef CNET__ERR_MSG
    default:
        return "unknown error";
    }
}

/*
 * libuv uses -errno for system errors, as we do, but its own numbers for
 * getaddrinfo failures. Node reports EAI_NONAME and EAI_NODATA as ENOTFOUND.
 */
int cnet__err_from_uv(int uverr)
{
    switch (uverr) {
    case UV_EAI_NONAME:
    case UV_EAI_NODATA:
        return CNET_ENOTFOUND;
    case UV_EAI_AGAIN:
        return CNET_EAI_AGAIN;
    case UV_EAI_FAIL:
        return CNET_EAI_FAIL;
    case UV_EAI_FAMILY:
    case UV_EAI_ADDRFAMILY:
        return CNET_EAI_FAMILY;
    case UV_EAI_MEMORY:
        return CNET_EAI_MEMORY;
    case UV_EAI_SERVICE:
    case UV_EAI_SOCKTYPE:
        return CNET_EAI_SERVICE;
    case UV_EAI_BADFLAGS:
        return CNET_EAI_BADFLAGS;
    case UV_EAI_CANCELED:
        return CNET_ECANCELED;
    case UV_EOF:
        return CNET_EOF;
    default:
        return uverr;
    }
}

void cnet__errinfo_set(cnet__errinfo_t *e, int code, const char *syscall, const char *address,
                       int port, const char *hostname, int style)
{
    const char *name = cnet_err_name(code);
    char where[CNET_ADDRSTRLEN + 16] = "";

    e->pub.code = code;
    e->pub.syscall = syscall;
    e->pub.port = port > 0 ? port : -1; /* Node sets err.port only when it is truthy */
    e->pub.address = NULL;
    e->pub.hostname = NULL;
    e->pub.local_address = NULL;
    e->pub.local_port = -1;
    e->pub.attempts = NULL; /* owned storage, if any, stays with e until cnet__errinfo_free */
    e->pub.nattempts = 0;
    if (address) {
        snprintf(e->address, sizeof e->address, "%s", address);
        e->pub.address = e->address;
        if (port > 0) /* Node: "connect ECONNREFUSED 127.0.0.1" for port 0 */
            snprintf(where, sizeof where, " %s:%d", address, port);
        else
            snprintf(where, sizeof where, " %s", address);
    }
    if (hostname) {
        snprintf(e->hostname, sizeof e->hostname, "%s", hostname);
        e->pub.hostname = e->hostname;
        if (!address)
            snprintf(where, sizeof where, " %.100s", hostname);
    }
    /* Node: "connect ECONNREFUSED 127.0.0.1:1", "listen EADDRINUSE: address already in use ::1:80",
     * "getaddrinfo ENOTFOUND nosuch.invalid"; library errors carry their message. */
    if (!syscall)
        snprintf(e->message, sizeof e->message, "%s", cnet_strerror(code));
    else if (style == CNET__MSG_WITH_TEXT)
        snprintf(e->message, sizeof e->message, "%s %s: %s%s", syscall, name, cnet_strerror(code),
                 where);
    else
        snprintf(e->message, sizeof e->message, "%s %s%s", syscall, name, where);
    e->pub.message = e->message;
}

/* Node's ExceptionWithHostPort `additional`: "connect ECONNREFUSED 127.0.0.1:1 - Local
 * (0.0.0.0:5000)". */
void cnet__errinfo_set_local(cnet__errinfo_t *e, const char *local_address, int local_port)
{
    size_t n = strlen(e->message);

    snprintf(e->local_address, sizeof e->local_address, "%s", local_address);
    e->pub.local_address = e->local_address;
    e->pub.local_port = local_port;
    snprintf(e->message + n, sizeof e->message - n, " - Local (%s:%d)", local_address, local_port);
}

static void free_attempts(cnet__errinfo_t *e)
{
    for (size_t i = 0; i < e->nowned; i++)
        cnet__errinfo_free(e->attempts[i]);
    cnet__free(e->attempts);
    cnet__free(e->attempts_pub);
    e->attempts = NULL;
    e->attempts_pub = NULL;
    e->nowned = 0;
    e->pub.attempts = NULL;
    e->pub.nattempts = 0;
}

/*
 * Node's NodeAggregateError: code of the first error, an empty message, no
 * syscall. The public array is a copy of each attempt's pub, whose strings
 * point into that attempt's errinfo, which the aggregate keeps.
 */
void cnet__errinfo_set_aggregate(cnet__errinfo_t *e, cnet__errinfo_t **attempts, size_t n)
{
    cnet_error_t *pub = n ? cnet__malloc(n * sizeof *pub) : NULL;

    free_attempts(e);
    cnet__errinfo_set(e, n ? attempts[0]->pub.code : CNET_UNKNOWN, NULL, NULL, -1, NULL,
                      CNET__MSG_PLAIN);
    e->message[0] = '\0';
    if (!pub) {
        /* Out of memory (or nothing to list): the aggregate keeps its code, lists nothing. */
        for (size_t i = 0; i < n; i++)
            cnet__errinfo_free(attempts[i]);
        cnet__free(attempts);
        return;
    }
    for (size_t i = 0; i < n; i++)
        pub[i] = attempts[i]->pub;
    e->attempts = attempts;
    e->attempts_pub = pub;
    e->nowned = n;
    e->pub.attempts = pub;
    e->pub.nattempts = n;
}

void cnet__errinfo_free(cnet__errinfo_t *e)
{
    if (!e)
        return;
    free_attempts(e);
    cnet__free(e);
}
