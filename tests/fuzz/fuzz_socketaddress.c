/*
 * net.SocketAddress: cnet_socket_address_parse() and _init()
 * (src/codec/socketaddress.c) under libFuzzer.
 *
 * Input: byte 0 picks the family given to init (0, 4, 6 or an invalid one),
 * bytes 1-2 a port (some out of range), byte 3 a flow label (some over 20
 * bits); the rest, up to a NUL, is the text for both calls.
 *
 * Invariants:
 *   - parse: success exactly when an independent reference split ("[v6]",
 *     "[v6]:port", "v4", "v4:port"; port 1-5 digits, <= 65535) finds an
 *     address that inet_pton() accepts (for IPv6, the text before '%': the
 *     zone is libuv's business, as in node, and so is its cutting of the
 *     address part at 39 bytes, see UV_V6_PART_MAX); then .address is inet_ntop()'s
 *     text of .bytes, and formatting the result as "addr:port" /
 *     "[addr]:port" parses back to the same family, bytes, port and text.
 *   - init: the error is the first of family, port, flow label, address in
 *     node's order, each with its documented code; on success the text
 *     inits again to the same bytes (idempotent) and is an IP of that family.
 */
#include "fuzz_common.h"
#include "internal.h"

#include <arpa/inet.h>

/*
 * Longest text libuv's uv_ip6_addr() looks at before a '%' (its buffer is
 * 40 bytes): longer address parts are cut there, so "<39 valid chars>1%x"
 * is accepted as node v20 accepts it too (new SocketAddress({address:
 * "0000:0000:0000:0000:0000:0000:0000:00001%x", family: "ipv6"}) is "::").
 */
#define UV_V6_PART_MAX 39

static bool ref_addr(int family, const char *host)
{
    unsigned char bin[16];
    char part[UV_V6_PART_MAX + 1];
    const char *pct;
    size_t n;

    if (family == 4)
        return inet_pton(AF_INET, host, bin) == 1;
    pct = strchr(host, '%');
    if (!pct)
        return inet_pton(AF_INET6, host, bin) == 1;
    n = (size_t)(pct - host);
    if (n > UV_V6_PART_MAX)
        n = UV_V6_PART_MAX;
    memcpy(part, host, n);
    part[n] = '\0';
    return inet_pton(AF_INET6, part, bin) == 1;
}

static bool ref_port(const char *p, int *port)
{
    size_t n = strspn(p, "0123456789");
    if (n == 0 || n > 5 || p[n] != '\0')
        return false;
    *port = atoi(p);
    return *port <= 65535;
}

/* The reference for cnet_socket_address_parse(): true and the parts on success. */
static bool ref_parse(const char *in, int *family, int *port)
{
    char host[256];
    const char *end, *rest;
    size_t n;

    *port = 0;
    if (in[0] == '[') {
        end = strchr(in, ']');
        if (!end)
            return false;
        n = (size_t)(end - in - 1);
        rest = end + 1;
        *family = 6;
        in++;
    } else {
        end = strchr(in, ':');
        n = end ? (size_t)(end - in) : strlen(in);
        rest = in + n;
        *family = 4;
    }
    /* Documented bound: the host part fits CNET_INET6_ADDRSTRLEN + 15 bytes. */
    if (n == 0 || n >= CNET_INET6_ADDRSTRLEN + 16)
        return false;
    memcpy(host, in, n);
    host[n] = '\0';
    if (*rest && (*rest != ':' || !ref_port(rest + 1, port)))
        return false;
    return ref_addr(*family, host);
}

static void check_canonical(const cnet_socket_address_t *a)
{
    char text[INET6_ADDRSTRLEN];

    FUZZ_CHECK(a->family == 4 || a->family == 6);
    FUZZ_CHECK(inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, text, sizeof text));
    FUZZ_CHECK(strcmp(text, a->address) == 0);
    FUZZ_CHECK(cnet_is_ip(a->address) == a->family);
    FUZZ_CHECK(a->port >= 0 && a->port <= 65535);
}

static void fuzz_parse(const char *text)
{
    cnet_socket_address_t a, b;
    char again[128];
    int family, port;
    bool want = ref_parse(text, &family, &port);
    int rc = cnet_socket_address_parse(text, &a);

    if ((rc == 0) != want) {
        fprintf(stderr, "parse(\"%s\") = %d, reference %s\n", text, rc, want ? "ok" : "error");
        abort();
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == CNET_ERR_INVALID_ADDRESS);
        return;
    }
    FUZZ_CHECK(a.family == family && a.port == port && a.flowlabel == 0);
    check_canonical(&a);
    snprintf(again, sizeof again, a.family == 6 ? "[%s]:%d" : "%s:%d", a.address, a.port);
    FUZZ_OK(cnet_socket_address_parse(again, &b));
    FUZZ_CHECK(b.family == a.family && b.port == a.port);
    FUZZ_CHECK(memcmp(a.bytes, b.bytes, 16) == 0);
    FUZZ_CHECK(strcmp(a.address, b.address) == 0);
}

static void fuzz_init(const char *text, int family, int port, uint32_t flowlabel, bool null_text)
{
    cnet_socket_address_t a, b;
    const char *addr = null_text ? NULL : text;
    int fam = family == 0 ? 4 : family, want;
    int rc = cnet_socket_address_init(&a, addr, family, port, flowlabel);

    if (family != 0 && family != 4 && family != 6)
        want = CNET_ERR_INVALID_ARG_VALUE;
    else if (port < 0 || port > 65535)
        want = CNET_ERR_SOCKET_BAD_PORT;
    else if (flowlabel > 0xfffff)
        want = CNET_ERR_OUT_OF_RANGE;
    else if (!addr) /* documented defaults: "127.0.0.1" and "::" */
        want = 0;
    else
        want = ref_addr(fam, addr) ? 0 : CNET_ERR_INVALID_ADDRESS;
    if (rc != want) {
        fprintf(stderr, "init(\"%s\", %d, %d, %u) = %d, reference %d\n", addr ? addr : "(null)",
                family, port, flowlabel, rc, want);
        abort();
    }
    if (rc != 0)
        return;
    check_canonical(&a);
    FUZZ_CHECK(a.family == fam && a.port == port);
    FUZZ_CHECK(a.flowlabel == (fam == 6 ? flowlabel : 0));
    if (!addr)
        FUZZ_CHECK(strcmp(a.address, fam == 4 ? "127.0.0.1" : "::") == 0);
    FUZZ_OK(cnet_socket_address_init(&b, a.address, fam, port, 0));
    FUZZ_CHECK(memcmp(a.bytes, b.bytes, 16) == 0 && strcmp(a.address, b.address) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int families[8] = {0, 4, 6, 4, 6, 5, -1, 46};
    static const int port_edges[4] = {-1, 65536, INT32_MAX, INT32_MIN};
    char *text;
    int family, port;
    uint32_t flowlabel;

    if (size < 4)
        return 0;
    family = families[data[0] & 7];
    port = (data[0] & 0x30) == 0x30 ? port_edges[(data[1] >> 6) & 3] : data[1] << 8 | data[2];
    flowlabel = data[3] & 0x80 ? 0xfffffu + (data[3] & 0x7f) : (uint32_t)data[3] << 12;
    text = malloc(size - 4 + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data + 4, size - 4);
    text[size - 4] = '\0';

    fuzz_parse(text);
    fuzz_init(text, family, port, flowlabel, (data[0] & 0xc0) == 0xc0);
    free(text);
    return 0;
}
