/* Socket addresses: formatting sockaddrs as Node does, parsing literals, path limits. */
#include "internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/un.h>

int cnet__addr_from_sockaddr(const struct sockaddr *sa, size_t salen, cnet_address_t *out)
{
    memset(out, 0, sizeof *out);
    switch (sa->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        uv_ip4_name(in, out->address, sizeof out->address);
        out->port = ntohs(in->sin_port);
        out->family = 4;
        return 0;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, out->address, sizeof out->address);
        out->port = ntohs(in6->sin6_port);
        out->family = 6;
        return 0;
    }
    case AF_UNIX: {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = salen > off ? salen - off : 0;
        /* A pathname socket: the path up to its NUL (getsockname may count the NUL or not). */
        if (n > sizeof out->address - 1)
            n = sizeof out->address - 1;
        memcpy(out->address, un->sun_path, n);
        out->address[strnlen(out->address, n)] = '\0';
        out->port = -1;
        out->family = 0;
        return 0;
    }
    default:
        return CNET_EAFNOSUPPORT;
    }
}

int cnet__addr_parse(const char *ip, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    switch (cnet_is_ip(ip)) {
    case 4:
        return uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) ? CNET_ERR_INVALID_IP_ADDRESS : 0;
    case 6:
        return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss) ? CNET_ERR_INVALID_IP_ADDRESS : 0;
    default:
        return CNET_ERR_INVALID_IP_ADDRESS;
    }
}

int cnet__addr_check_path(const char *path)
{
    struct sockaddr_un un;
    if (!path || !*path)
        return CNET_ERR_INVALID_ARG_VALUE;
    /* libuv would silently truncate; a path must fit with its NUL. */
    if (strlen(path) >= sizeof un.sun_path)
        return CNET_ENAMETOOLONG;
    return 0;
}
