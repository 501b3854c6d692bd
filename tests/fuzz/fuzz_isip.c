/*
 * net.isIP / isIPv4 / isIPv6 (src/codec/ip.c) under libFuzzer, differential
 * against glibc's inet_pton() with node's documented differences applied
 * (see the rules at the top of ip.c):
 *   - IPv4: exactly inet_pton(AF_INET) (glibc's also refuses leading zeros,
 *     signs, spaces, short forms such as "1.2.3" or "0x7f.1").
 *   - IPv6: the text before the first '%' must be inet_pton(AF_INET6); a
 *     '%' must be followed by one or more of [0-9A-Za-z.:-] (node's zone id;
 *     inet_pton itself refuses every zone).
 *   - cnet_is_ip is 4, 6 or 0 accordingly, and never both.
 * Round trips: an accepted address printed by inet_ntop is accepted again
 * as the same family; a dotted quad is already in inet_ntop's form.
 * The input is used up to its first NUL (the API takes C strings).
 */
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <cnet.h>

static bool zone_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '.' || c == ':';
}

static bool ref_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static bool ref_ipv6(const char *s)
{
    struct in6_addr a;
    const char *pct = strchr(s, '%');
    size_t n = pct ? (size_t)(pct - s) : strlen(s);
    char addr[256];

    if (n >= sizeof addr)
        return false; /* longer than any IPv6 text */
    memcpy(addr, s, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET6, addr, &a) != 1)
        return false;
    if (pct) {
        if (pct[1] == '\0')
            return false;
        for (const char *z = pct + 1; *z; z++)
            if (!zone_char(*z))
                return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char text[INET6_ADDRSTRLEN];
    unsigned char bin[16];

    FUZZ_CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';

    bool v4 = cnet_is_ipv4(s), v6 = cnet_is_ipv6(s);
    int ip = cnet_is_ip(s);

    if (v4 != ref_ipv4(s) || v6 != ref_ipv6(s)) {
        fprintf(stderr, "input \"%s\": cnet v4=%d v6=%d, reference v4=%d v6=%d\n", s, v4, v6,
                ref_ipv4(s), ref_ipv6(s));
        abort();
    }
    FUZZ_CHECK(!(v4 && v6));
    FUZZ_CHECK(ip == (v4 ? 4 : v6 ? 6 : 0));

    if (v4) {
        FUZZ_CHECK(inet_pton(AF_INET, s, bin) == 1);
        FUZZ_CHECK(inet_ntop(AF_INET, bin, text, sizeof text) != NULL);
        FUZZ_CHECK(strcmp(text, s) == 0);
    } else if (v6) {
        char *pct = strchr(s, '%');
        if (pct)
            *pct = '\0';
        FUZZ_CHECK(inet_pton(AF_INET6, s, bin) == 1);
        FUZZ_CHECK(inet_ntop(AF_INET6, bin, text, sizeof text) != NULL);
        FUZZ_CHECK(cnet_is_ip(text) == 6);
        if (pct) {
            /* The zone is kept whatever the address part looks like. */
            *pct = '%';
            size_t n = strlen(text);
            char *z = malloc(n + strlen(pct) + 1);
            FUZZ_CHECK(z != NULL);
            memcpy(z, text, n);
            strcpy(z + n, pct);
            FUZZ_CHECK(cnet_is_ipv6(z) && cnet_is_ip(z) == 6);
            free(z);
        }
    }
    /* NULL is documented as "not an IP". */
    FUZZ_CHECK(cnet_is_ip(NULL) == 0 && !cnet_is_ipv4(NULL) && !cnet_is_ipv6(NULL));
    free(s);
    return 0;
}
