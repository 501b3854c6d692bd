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
    e->pub.port = port;
    e->pub.address = NULL;
    e->pub.hostname = NULL;
    e->pub.local_address = NULL;
    e->pub.local_port = -1;
    if (address) {
        snprintf(e->address, sizeof e->address, "%s", address);
        e->pub.address = e->address;
        if (port >= 0)
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
