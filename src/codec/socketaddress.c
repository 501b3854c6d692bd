/*
 * net.SocketAddress as a value type, and SocketAddress.parse().
 *
 * Node builds a SocketAddress with uv_ip4_addr() / uv_ip6_addr() and shows
 * .address through uv_inet_ntop(), so this file calls the same functions:
 * what node accepts (dotted quads without leading zeros, IPv6 with a
 * "%zone" that is kept out of the text) and how it prints ("::ffff:1.2.3.4",
 * RFC 5952 compression) come out identical by construction.
 * tests/test_blocklist.c compares both with node on many inputs.
 */
#include "codec/socketaddress.h"
#include "internal.h"

#include <string.h>

int cnet__sockaddress_bytes(int family, const char *address, unsigned char bytes[16],
                            uint32_t *scope_id)
{
    memset(bytes, 0, 16);
    *scope_id = 0;
    if (family == 4) {
        struct sockaddr_in sin;
        if (uv_ip4_addr(address, 0, &sin) != 0)
            return CNET_ERR_INVALID_ADDRESS;
        memcpy(bytes, &sin.sin_addr, 4);
        return 0;
    }
    struct sockaddr_in6 sin6;
    if (uv_ip6_addr(address, 0, &sin6) != 0)
        return CNET_ERR_INVALID_ADDRESS;
    memcpy(bytes, &sin6.sin6_addr, 16);
    *scope_id = sin6.sin6_scope_id;
    return 0;
}

int cnet__sockaddress_family(int family)
{
    if (family == 0)
        return 4;
    return family == 4 || family == 6 ? family : CNET_ERR_INVALID_ARG_VALUE;
}

int cnet__sockaddress_text(int family, const unsigned char bytes[16], char *buf, size_t size)
{
    return uv_inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes, buf, size) == 0
               ? 0
               : CNET_ERR_INVALID_ADDRESS;
}

int cnet_socket_address_init(cnet_socket_address_t *out, const char *address, int family, int port,
                             uint32_t flowlabel)
{
    cnet_socket_address_t a;
    int err;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((family = cnet__sockaddress_family(family)) < 0)
        return family;
    /* node validates the port before it looks at the address */
    if (port < 0 || port > 65535)
        return CNET_ERR_SOCKET_BAD_PORT;
    /* 20 bits (RFC 6437); node v20 checks for a uint32 and then aborts on more */
    if (flowlabel > 0xfffff)
        return CNET_ERR_OUT_OF_RANGE;
    if (!address)
        address = family == 4 ? "127.0.0.1" : "::";
    memset(&a, 0, sizeof a);
    if ((err = cnet__sockaddress_bytes(family, address, a.bytes, &a.scope_id)) != 0)
        return err;
    if ((err = cnet__sockaddress_text(family, a.bytes, a.address, sizeof a.address)) != 0)
        return err;
    a.family = family;
    a.port = port;
    a.flowlabel = family == 6 ? flowlabel : 0;
    *out = a;
    return 0;
}

/* A decimal port of 1 to 5 digits, 0..65535, and nothing after it. */
static int parse_port(const char *p, int *port)
{
    long v = 0;
    int n = 0;

    for (; *p >= '0' && *p <= '9'; p++, n++) {
        v = v * 10 + (*p - '0');
        if (n >= 5 || v > 65535)
            return -1;
    }
    if (n == 0 || *p)
        return -1;
    *port = (int)v;
    return 0;
}

int cnet_socket_address_parse(const char *input, cnet_socket_address_t *out)
{
    char host[CNET_INET6_ADDRSTRLEN + 16];
    const char *end, *rest;
    int family, port = 0;
    size_t n;

    if (!input || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (input[0] == '[') {
        if (!(end = strchr(input, ']')))
            return CNET_ERR_INVALID_ADDRESS;
        n = (size_t)(end - input - 1);
        memcpy(host, input + 1, n < sizeof host ? n : 0);
        rest = end + 1;
        family = 6;
    } else {
        end = strchr(input, ':');
        n = end ? (size_t)(end - input) : strlen(input);
        memcpy(host, input, n < sizeof host ? n : 0);
        rest = input + n;
        family = 4;
    }
    if (n == 0 || n >= sizeof host)
        return CNET_ERR_INVALID_ADDRESS;
    host[n] = '\0';
    if (*rest && (*rest != ':' || parse_port(rest + 1, &port) != 0))
        return CNET_ERR_INVALID_ADDRESS;
    return cnet_socket_address_init(out, host, family, port, 0) == 0 ? 0 : CNET_ERR_INVALID_ADDRESS;
}
