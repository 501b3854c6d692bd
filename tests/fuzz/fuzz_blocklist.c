/*
 * net.SocketAddress and net.BlockList parsers and matching under libFuzzer.
 * The input is a list of NUL-separated operations; the first byte of each
 * picks the operation, the rest is its text. Invariants (beyond "no crash,
 * no sanitizer report"): a parsed address's text parses back to the same
 * bytes; an address just added as a rule is blocked; a subnet holds its own
 * network; rule texts fit the documented 128 bytes.
 */
#include "fuzz_common.h"
#include "internal.h"

static void one(cnet_blocklist_t *bl, unsigned char op, const char *text)
{
    cnet_socket_address_t a, b;
    int family = op & 1 ? 6 : 4;
    char rule[128];

    switch ((op >> 1) % 6) {
    case 0:
        if (cnet_socket_address_parse(text, &a) == 0) {
            FUZZ_OK(cnet_socket_address_init(&b, a.address, a.family, a.port, 0));
            FUZZ_CHECK(memcmp(a.bytes, b.bytes, 16) == 0);
            FUZZ_CHECK(strcmp(a.address, b.address) == 0);
        }
        break;
    case 1:
        if (cnet_socket_address_init(&a, text, family, op >> 4, 0) == 0) {
            FUZZ_OK(cnet_socket_address_init(&b, a.address, family, 0, 0));
            FUZZ_CHECK(memcmp(a.bytes, b.bytes, 16) == 0);
        }
        break;
    case 2:
        if (cnet_blocklist_add_address(bl, text, family) == 0) {
            FUZZ_CHECK(cnet_blocklist_check(bl, text, family));
            FUZZ_OK(cnet_socket_address_init(&a, text, family, 0, 0));
            FUZZ_CHECK(cnet_blocklist_check_address(bl, &a));
        }
        break;
    case 3: {
        int prefix = op >> 4; /* 0..15, scaled for IPv6 */
        if (family == 6)
            prefix *= 8;
        if (cnet_blocklist_add_subnet(bl, text, prefix, family) == 0)
            FUZZ_CHECK(cnet_blocklist_check(bl, text, family));
        break;
    }
    case 4: {
        /* "start end": a range over both halves of the text */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", text);
        char *sp = strchr(buf, ' ');
        if (sp) {
            *sp = '\0';
            if (cnet_blocklist_add_range(bl, buf, sp + 1, family) == 0) {
                FUZZ_CHECK(cnet_blocklist_check(bl, buf, family));
                FUZZ_CHECK(cnet_blocklist_check(bl, sp + 1, family));
            }
        }
        break;
    }
    default:
        (void)cnet_blocklist_check(bl, text, family);
        for (size_t i = 0, n = cnet_blocklist_rule_count(bl); i < n && i < 8; i++)
            FUZZ_CHECK(cnet_blocklist_rule(bl, i, rule, sizeof rule) > 0);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnet_blocklist_t *bl;
    char text[256];

    FUZZ_OK(cnet_blocklist_new(&bl));
    while (size > 0) {
        unsigned char op = data[0];
        size_t n = 1;
        while (n < size && data[n] != 0)
            n++;
        size_t len = n - 1 < sizeof text - 1 ? n - 1 : sizeof text - 1;
        memcpy(text, data + 1, len);
        text[len] = '\0';
        one(bl, op, text);
        data += n < size ? n + 1 : n;
        size -= n < size ? n + 1 : n;
    }
    cnet_blocklist_release(bl);
    return 0;
}
