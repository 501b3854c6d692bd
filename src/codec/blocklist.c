/*
 * net.BlockList: deny rules over IP addresses, matched as node matches them
 * (SocketAddressBlockList in node's src/node_sockaddr.cc, observed from
 * outside by tests/test_blocklist.c against node itself):
 *
 *   - every address is 4 or 16 bytes with its family;
 *   - equality and order across families go through the IPv4-mapped form
 *     (::ffff:a.b.c.d): an IPv6 address that is not mapped neither equals nor
 *     orders against an IPv4 one, so an IPv4 address is in an IPv6 range only
 *     when both ends are mapped addresses;
 *   - a subnet maps instead: an IPv4 address is in an IPv6 subnet when its
 *     mapped form is (so ::/0 and ::/80 hold every IPv4 address), and an
 *     IPv6 address is in an IPv4 subnet only when it is a mapped address.
 *
 * Rules live in an array, newest last; node lists them newest first. A
 * read-write lock lets many loops check while one thread adds rules.
 */
#include "codec/socketaddress.h"
#include "internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef enum { RULE_ADDRESS, RULE_RANGE, RULE_SUBNET } rule_kind_t;

typedef struct {
    int family;
    unsigned char b[16];
} ip_t;

typedef struct {
    rule_kind_t kind;
    ip_t a; /* the address, a range's start, a subnet's network */
    ip_t z; /* a range's end */
    int prefix;
} rule_t;

struct cnet_blocklist_s {
    atomic_uint refs;
    uv_rwlock_t lock;
    rule_t *rules;
    size_t n, cap;
};

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_mapped(const ip_t *ip)
{
    return ip->family == 6 && memcmp(ip->b, mapped_prefix, 12) == 0;
}

/* The IPv4 form of @p ip when it has one (an IPv4 or a mapped address). */
static bool as_v4(const ip_t *ip, unsigned char out[4])
{
    if (ip->family == 4) {
        memcpy(out, ip->b, 4);
        return true;
    }
    if (!is_mapped(ip))
        return false;
    memcpy(out, ip->b + 12, 4);
    return true;
}

/* <0, 0, >0, or 2 for "unordered" (an IPv6 address without an IPv4 form against IPv4). */
static int compare(const ip_t *x, const ip_t *y)
{
    unsigned char x4[4], y4[4];
    int c;

    if (x->family == y->family) {
        c = memcmp(x->b, y->b, x->family == 4 ? 4 : 16);
        return c < 0 ? -1 : c > 0;
    }
    if (!as_v4(x, x4) || !as_v4(y, y4))
        return 2;
    c = memcmp(x4, y4, 4);
    return c < 0 ? -1 : c > 0;
}

/* The first @p bits bits of @p x and @p y agree. */
static bool prefix_equal(const unsigned char *x, const unsigned char *y, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(x, y, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (x[whole] & mask) == (y[whole] & mask);
}

static bool in_subnet(const rule_t *r, const ip_t *ip)
{
    unsigned char v4[4], m[16];

    if (r->a.family == 4)
        return as_v4(ip, v4) && prefix_equal(r->a.b, v4, r->prefix);
    if (ip->family == 6)
        return prefix_equal(r->a.b, ip->b, r->prefix);
    memcpy(m, mapped_prefix, 12);
    memcpy(m + 12, ip->b, 4);
    return prefix_equal(r->a.b, m, r->prefix);
}

static bool matches(const rule_t *r, const ip_t *ip)
{
    int lo, hi;

    switch (r->kind) {
    case RULE_ADDRESS:
        return compare(&r->a, ip) == 0;
    case RULE_RANGE:
        lo = compare(ip, &r->a);
        hi = compare(ip, &r->z);
        return (lo == 0 || lo == 1) && hi <= 0;
    case RULE_SUBNET:
        return in_subnet(r, ip);
    }
    return false;
}

int cnet_blocklist_new(cnet_blocklist_t **out)
{
    cnet_blocklist_t *bl;

    if (!out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (!(bl = cnet__calloc(1, sizeof *bl)))
        return CNET_ENOMEM;
    if (uv_rwlock_init(&bl->lock) != 0) {
        cnet__free(bl);
        return CNET_ENOMEM;
    }
    atomic_init(&bl->refs, 1);
    *out = bl;
    return 0;
}

cnet_blocklist_t *cnet_blocklist_retain(cnet_blocklist_t *bl)
{
    if (bl)
        atomic_fetch_add_explicit(&bl->refs, 1, memory_order_relaxed);
    return bl;
}

void cnet_blocklist_release(cnet_blocklist_t *bl)
{
    if (!bl || atomic_fetch_sub_explicit(&bl->refs, 1, memory_order_acq_rel) != 1)
        return;
    uv_rwlock_destroy(&bl->lock);
    cnet__free(bl->rules);
    cnet__free(bl);
}

static int parse_ip(const char *text, int family, ip_t *out)
{
    uint32_t scope;

    if (!text)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((family = cnet__sockaddress_family(family)) < 0)
        return family;
    out->family = family;
    return cnet__sockaddress_bytes(family, text, out->b, &scope);
}

static int add_rule(cnet_blocklist_t *bl, const rule_t *r)
{
    int err = 0;

    uv_rwlock_wrlock(&bl->lock);
    if (bl->n == bl->cap) {
        size_t cap = bl->cap ? bl->cap * 2 : 8;
        rule_t *rules = cnet__realloc(bl->rules, cap * sizeof *rules);
        if (!rules)
            err = CNET_ENOMEM;
        else {
            bl->rules = rules;
            bl->cap = cap;
        }
    }
    if (!err)
        bl->rules[bl->n++] = *r;
    uv_rwlock_wrunlock(&bl->lock);
    return err;
}

int cnet_blocklist_add_address(cnet_blocklist_t *bl, const char *address, int family)
{
    rule_t r = {.kind = RULE_ADDRESS};
    int err;

    if (!bl)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = parse_ip(address, family, &r.a)) != 0)
        return err;
    return add_rule(bl, &r);
}

int cnet_blocklist_add_range(cnet_blocklist_t *bl, const char *start, const char *end, int family)
{
    rule_t r = {.kind = RULE_RANGE};
    int err;

    if (!bl)
        return CNET_ERR_INVALID_ARG_TYPE;
    if ((err = parse_ip(start, family, &r.a)) != 0 || (err = parse_ip(end, family, &r.z)) != 0)
        return err;
    if (compare(&r.a, &r.z) > 0)
        return CNET_ERR_INVALID_ARG_VALUE;
    return add_rule(bl, &r);
}

int cnet_blocklist_add_subnet(cnet_blocklist_t *bl, const char *network, int prefix, int family)
{
    rule_t r = {.kind = RULE_SUBNET, .prefix = prefix};
    int err;

    if (!bl)
        return CNET_ERR_INVALID_ARG_TYPE;
    /* node checks the family and the address first, then the prefix */
    if ((err = parse_ip(network, family, &r.a)) != 0)
        return err;
    if (prefix < 0 || prefix > (r.a.family == 4 ? 32 : 128))
        return CNET_ERR_OUT_OF_RANGE;
    return add_rule(bl, &r);
}

static bool check_ip(const cnet_blocklist_t *bl, const ip_t *ip)
{
    cnet_blocklist_t *m = (cnet_blocklist_t *)bl; /* the lock is not part of its value */
    bool hit = false;

    uv_rwlock_rdlock(&m->lock);
    for (size_t i = m->n; i-- > 0 && !hit;)
        hit = matches(&m->rules[i], ip);
    uv_rwlock_rdunlock(&m->lock);
    return hit;
}

bool cnet_blocklist_check(const cnet_blocklist_t *bl, const char *address, int family)
{
    ip_t ip;

    return bl && parse_ip(address, family, &ip) == 0 && check_ip(bl, &ip);
}

bool cnet_blocklist_check_address(const cnet_blocklist_t *bl, const cnet_socket_address_t *addr)
{
    ip_t ip;

    if (!bl || !addr || (addr->family != 4 && addr->family != 6))
        return false;
    ip.family = addr->family;
    memcpy(ip.b, addr->bytes, 16);
    return check_ip(bl, &ip);
}

bool cnet__blocklist_check_sockaddr(const cnet_blocklist_t *bl, const struct sockaddr *sa)
{
    ip_t ip;

    memset(&ip, 0, sizeof ip);
    if (sa->sa_family == AF_INET) {
        ip.family = 4;
        memcpy(ip.b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        ip.family = 6;
        memcpy(ip.b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        return false;
    }
    return check_ip(bl, &ip);
}

size_t cnet_blocklist_rule_count(const cnet_blocklist_t *bl)
{
    cnet_blocklist_t *m = (cnet_blocklist_t *)bl;
    size_t n;

    if (!bl)
        return 0;
    uv_rwlock_rdlock(&m->lock);
    n = m->n;
    uv_rwlock_rdunlock(&m->lock);
    return n;
}

int cnet_blocklist_rule(const cnet_blocklist_t *bl, size_t index, char *buf, size_t size)
{
    cnet_blocklist_t *m = (cnet_blocklist_t *)bl;
    char a[CNET_INET6_ADDRSTRLEN], z[CNET_INET6_ADDRSTRLEN];
    rule_t r;
    int n;

    if (!bl || !buf)
        return CNET_ERR_INVALID_ARG_TYPE;
    uv_rwlock_rdlock(&m->lock);
    n = index < m->n;
    if (n)
        r = m->rules[m->n - 1 - index];
    uv_rwlock_rdunlock(&m->lock);
    if (!n)
        return CNET_ERR_OUT_OF_RANGE;
    if (cnet__sockaddress_text(r.a.family, r.a.b, a, sizeof a) != 0 ||
        (r.kind == RULE_RANGE && cnet__sockaddress_text(r.z.family, r.z.b, z, sizeof z) != 0))
        return CNET_ERR_INVALID_ADDRESS; /* not reached: the bytes came from a parse */
    const char *fam = r.a.family == 4 ? "IPv4" : "IPv6";
    switch (r.kind) {
    case RULE_ADDRESS:
        n = snprintf(buf, size, "Address: %s %s", fam, a);
        break;
    case RULE_RANGE:
        n = snprintf(buf, size, "Range: %s %s-%s", fam, a, z);
        break;
    default:
        n = snprintf(buf, size, "Subnet: %s %s/%d", fam, a, r.prefix);
        break;
    }
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return CNET_ENOBUFS;
    }
    return n;
}
