/*
 * net.BlockList and net.SocketAddress (cnet.h section 8), and a server's
 * block_list option.
 *
 *  1. The case file tests/data/blocklist_cases.txt: operations with the
 *     answers node v20 gave (tests/node/blocklist_oracle.js wrote it from
 *     the operations `test_blocklist --gen-ops 3000 1` prints), replayed here.
 *  2. Live: random operations, answered by the `node` on PATH and by cnet,
 *     compared line by line (skipped without node). CNET_BLOCKLIST_SEED reruns.
 *  3. The C API's own edges (NULL, buffers, parse, references, threads).
 *  4. A server whose block_list denies its peer: 'drop' (reason "blockList")
 *     instead of 'connection', counted; a peer not denied is served.
 */
#include "harness.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* ---- one operation, run by cnet, answered as blocklist_oracle.js answers ---- */

static int fam_of(const char *f)
{
    if (strcmp(f, "ipv4") == 0)
        return 4;
    if (strcmp(f, "ipv6") == 0)
        return 6;
    return 0; /* "-": node's default */
}

static const char *fam_name(int f)
{
    return f == 4 ? "ipv4" : "ipv6";
}

static void answer_code(char *out, size_t size, int rc)
{
    if (rc == 0)
        snprintf(out, size, "ok");
    else
        snprintf(out, size, "err %s", cnet_err_name(rc));
}

/* Runs @p line (without its answer) on *bl and writes the answer. */
static void run_op(cnet_blocklist_t **bl, const char *line, char *out, size_t size)
{
    char buf[4096], *f[6] = {0};
    int n = 0;

    snprintf(buf, sizeof buf, "%s", line);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && n < 6;
         t = strtok_r(NULL, " ", &save))
        f[n++] = t;
    ASSERT(n >= 1);
    if (strcmp(f[0], "new") == 0) {
        cnet_blocklist_release(*bl);
        ASSERT_OK(cnet_blocklist_new(bl));
        snprintf(out, size, "ok");
    } else if (strcmp(f[0], "addAddress") == 0 && n == 3) {
        answer_code(out, size, cnet_blocklist_add_address(*bl, f[1], fam_of(f[2])));
    } else if (strcmp(f[0], "addRange") == 0 && n == 4) {
        answer_code(out, size, cnet_blocklist_add_range(*bl, f[1], f[2], fam_of(f[3])));
    } else if (strcmp(f[0], "addSubnet") == 0 && n == 4) {
        answer_code(out, size, cnet_blocklist_add_subnet(*bl, f[1], atoi(f[2]), fam_of(f[3])));
    } else if (strcmp(f[0], "check") == 0 && n == 3) {
        snprintf(out, size, "%s", cnet_blocklist_check(*bl, f[1], fam_of(f[2])) ? "true" : "false");
    } else if (strcmp(f[0], "rules") == 0) {
        size_t count = cnet_blocklist_rule_count(*bl), used = 0;
        out[0] = '\0';
        for (size_t i = 0; i < count; i++) {
            char rule[128];
            int len = cnet_blocklist_rule(*bl, i, rule, sizeof rule);
            ASSERT(len > 0);
            ASSERT_EQ(strlen(rule), len);
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "|" : "", rule);
            ASSERT(used < size);
        }
    } else if (strcmp(f[0], "sa") == 0 && n == 5) {
        cnet_socket_address_t a;
        int rc = cnet_socket_address_init(&a, strcmp(f[1], "-") ? f[1] : NULL, fam_of(f[2]),
                                          atoi(f[3]), (uint32_t)strtoul(f[4], NULL, 10));
        if (rc)
            answer_code(out, size, rc);
        else
            snprintf(out, size, "%s %d %s %u", a.address, a.port, fam_name(a.family),
                     (unsigned)a.flowlabel);
    } else {
        TEST_FAIL_("bad operation: %s", line);
    }
}

/* ---- random operations ------------------------------------------------------ */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static const char *const v4_pool[] = {
    "0.0.0.0",
    "1.2.3.4",
    "1.2.3.0",
    "1.2.3.255",
    "1.2.3.5",
    "10.0.0.1",
    "10.0.0.10",
    "127.0.0.1",
    "255.255.255.255",
    "192.168.0.1",
    /* invalid as IPv4 */
    "01.2.3.4",
    "1.2.3",
    "256.1.1.1",
    "zz",
    "::1",
    "1.2.3.4%eth0",
    "1.2.3.4.5",
    "1.2.3.04",
};
static const char *const v6_pool[] = {
    "::",
    "::1",
    "::ffff:1.2.3.4",
    "::ffff:1.2.3.0",
    "::ffff:1.2.3.255",
    "::ffff:0.0.0.0",
    "::ffff:255.255.255.255",
    "::ffff:102:304",
    "::1.2.3.4",
    "64:ff9b::1.2.3.4",
    "fe80::1%1",
    "fe80::1",
    "2001:db8::1",
    "2001:db8::",
    "2001:0db8:0000:0000:0000:0000:0000:0001",
    "ffff::",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    "1:0:2:3:4:5:6:7",
    "0:0:1::",
    /* invalid as IPv6 */
    ":::",
    "1.2.3.4",
    "fe80::1%",
    "2001:db8::g",
    "1::2::3",
};

/* An address: mostly from the pools (either family, so mismatches happen), else random. */
static const char *rand_addr(char *buf, size_t size)
{
    switch (rnd(6)) {
    case 0:
        snprintf(buf, size, "%u.%u.%u.%u", rnd(3), rnd(256), rnd(4), rnd(256));
        return buf;
    case 1:
        snprintf(buf, size, "::ffff:%u.%u.%u.%u", rnd(3), rnd(256), rnd(4), rnd(256));
        return buf;
    case 2:
        snprintf(buf, size, "%x:%x::%x", rnd(3), rnd(0x10000), rnd(0x10000));
        return buf;
    case 3:
    case 4:
        return v6_pool[rnd(sizeof v6_pool / sizeof *v6_pool)];
    default:
        return v4_pool[rnd(sizeof v4_pool / sizeof *v4_pool)];
    }
}

static const char *rand_fam(void)
{
    static const char *const f[] = {"-", "ipv4", "ipv6", "ipv6"};
    return f[rnd(4)];
}

static void rand_op(char *out, size_t size)
{
    char a[64], b[64];
    static const int prefixes[] = {-1, 0,  1,  8,   16,  24,  31,  32, 33,
                                   64, 80, 96, 100, 120, 127, 128, 129};
    static const int ports[] = {-1, 0, 80, 65535, 65536};
    static const char *const labels[] = {"0", "5", "1048575"};

    switch (rnd(16)) {
    case 0:
        snprintf(out, size, "new");
        break;
    case 1:
    case 2:
        snprintf(out, size, "addAddress %s %s", rand_addr(a, sizeof a), rand_fam());
        break;
    case 3:
    case 4:
        snprintf(out, size, "addRange %s %s %s", rand_addr(a, sizeof a), rand_addr(b, sizeof b),
                 rand_fam());
        break;
    case 5:
    case 6:
        snprintf(out, size, "addSubnet %s %d %s", rand_addr(a, sizeof a),
                 prefixes[rnd(sizeof prefixes / sizeof *prefixes)], rand_fam());
        break;
    case 7:
        snprintf(out, size, "rules");
        break;
    case 8:
        snprintf(out, size, "sa %s %s %d %s", rnd(4) ? rand_addr(a, sizeof a) : "-", rand_fam(),
                 ports[rnd(5)], labels[rnd(3)]);
        break;
    default:
        snprintf(out, size, "check %s %s", rand_addr(a, sizeof a), rand_fam());
        break;
    }
}

/* ---- comparing with node's answers ------------------------------------------ */

/* Replays "<op>\t<answer>" lines from @p f; returns the number of mismatches. */
static unsigned replay(FILE *f, const char *what, unsigned *lines)
{
    cnet_blocklist_t *bl = NULL;
    char line[4096], got[4096];
    unsigned bad = 0;

    ASSERT_OK(cnet_blocklist_new(&bl));
    *lines = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!line[0])
            continue;
        if (!tab)
            TEST_FAIL_("%s: a line without an answer: %s", what, line);
        *tab = '\0';
        run_op(&bl, line, got, sizeof got);
        (*lines)++;
        if (strcmp(got, tab + 1) != 0 && bad++ < 20)
            fprintf(stderr, "%s: %s\n    node: %s\n    cnet: %s\n", what, line, tab + 1, got);
    }
    cnet_blocklist_release(bl);
    return bad;
}

static void check_case_file(void)
{
    const char *path = CNET_TEST_SOURCE_DIR "/data/blocklist_cases.txt";
    FILE *f = fopen(path, "r");
    unsigned lines;

    if (!f)
        TEST_FAIL_("cannot open %s: %s", path, strerror(errno));
    unsigned bad = replay(f, "case file", &lines);
    fclose(f);
    printf("case file: %u operations, %u mismatches\n", lines, bad);
    ASSERT(lines >= 1000);
    ASSERT_EQ(0, bad);
}

static const char *oracle_path(void)
{
    return CNET_TEST_SOURCE_DIR "/node/blocklist_oracle.js";
}

static void live_differential(void)
{
    const char *env = getenv("CNET_BLOCKLIST_SEED");
    uint64_t seed =
        env ? strtoull(env, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    char dir[] = "/tmp/cnet-blocklist-XXXXXX", ops[64], ans[64], cmd[512], op[256];
    unsigned lines;

    rng = seed | 1;
    printf("live differential: seed %" PRIu64 " (rerun with CNET_BLOCKLIST_SEED=%" PRIu64 ")\n",
           seed, seed);
    if (!mkdtemp(dir))
        TEST_FAIL_("mkdtemp: %s", strerror(errno));
    snprintf(ops, sizeof ops, "%s/ops.txt", dir);
    snprintf(ans, sizeof ans, "%s/answers.txt", dir);
    FILE *f = fopen(ops, "w");
    ASSERT(f != NULL);
    for (int i = 0; i < 4000; i++) {
        rand_op(op, sizeof op);
        fprintf(f, "%s\n", op);
    }
    ASSERT_EQ(0, fclose(f));
    snprintf(cmd, sizeof cmd, "node %s %s > %s", oracle_path(), ops, ans);
    int status = system(cmd);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        TEST_FAIL_("`%s` failed (status %d)", cmd, status);
    f = fopen(ans, "r");
    ASSERT(f != NULL);
    unsigned bad = replay(f, "live", &lines);
    fclose(f);
    unlink(ops);
    unlink(ans);
    rmdir(dir);
    printf("live differential: %u operations, %u mismatches\n", lines, bad);
    ASSERT_EQ(4000, lines);
    if (bad)
        TEST_FAIL_("%u mismatches with seed %" PRIu64, bad, seed);
}

/* ---- the C API's own edges -------------------------------------------------- */

static void check_api_edges(void)
{
    cnet_blocklist_t *bl;
    cnet_socket_address_t a;
    char buf[128];

    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_blocklist_new(NULL));
    ASSERT_OK(cnet_blocklist_new(&bl));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_blocklist_add_address(NULL, "1.2.3.4", 4));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_blocklist_add_address(bl, NULL, 4));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_blocklist_add_range(bl, "1.2.3.4", NULL, 4));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_blocklist_add_subnet(bl, "1.2.3.4", 8, 5));
    ASSERT(!cnet_blocklist_check(NULL, "1.2.3.4", 4));
    ASSERT(!cnet_blocklist_check(bl, NULL, 4));
    ASSERT(!cnet_blocklist_check_address(bl, NULL));
    ASSERT_EQ(0, cnet_blocklist_rule_count(NULL));
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_blocklist_rule(bl, 0, buf, sizeof buf));

    /* the longest rule fits in 128 bytes; a short buffer is refused, not cut */
    ASSERT_OK(cnet_blocklist_add_range(bl, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
                                       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6));
    ASSERT_EQ(strlen("Range: IPv6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-"
                     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              cnet_blocklist_rule(bl, 0, buf, sizeof buf));
    ASSERT_ERR(CNET_ENOBUFS, cnet_blocklist_rule(bl, 0, buf, 20));
    ASSERT_EQ(0, buf[0]);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_blocklist_rule(bl, 0, NULL, 0));

    /* newest first; check_address sees the same rules */
    ASSERT_OK(cnet_blocklist_add_subnet(bl, "10.0.0.0", 8, 0));
    ASSERT(cnet_blocklist_rule(bl, 0, buf, sizeof buf) > 0);
    ASSERT(strcmp(buf, "Subnet: IPv4 10.0.0.0/8") == 0);
    ASSERT_OK(cnet_socket_address_init(&a, "::ffff:10.9.8.7", 6, 443, 0));
    ASSERT(cnet_blocklist_check_address(bl, &a));
    ASSERT_OK(cnet_socket_address_init(&a, "11.0.0.1", 4, 443, 0));
    ASSERT(!cnet_blocklist_check_address(bl, &a));

    /* references: the list lives until the last release */
    ASSERT(cnet_blocklist_retain(bl) == bl);
    cnet_blocklist_release(bl);
    ASSERT_EQ(2, cnet_blocklist_rule_count(bl));
    cnet_blocklist_release(bl);
    cnet_blocklist_release(NULL);

    /* SocketAddress: the bytes and the zone are kept, out is untouched on error */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_address_init(NULL, "1.2.3.4", 4, 0, 0));
    ASSERT_OK(cnet_socket_address_init(&a, "fe80::1%lo", 6, 1, 7));
    ASSERT_EQ(if_nametoindex("lo"), a.scope_id);
    ASSERT_EQ(7, a.flowlabel);
    ASSERT_EQ(0xfe, a.bytes[0]);
    ASSERT_EQ(1, a.bytes[15]);
    ASSERT_ERR(CNET_ERR_INVALID_ADDRESS, cnet_socket_address_init(&a, "1.2.3.4", 6, 0, 0));
    ASSERT(strcmp(a.address, "fe80::1") == 0);
    /* a flow label has 20 bits: node v20 aborts on a larger one, cnet refuses it */
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_address_init(&a, "::1", 6, 0, 0x100000));
    ASSERT_OK(cnet_socket_address_init(&a, "1.2.3.4", 4, 0, 9));
    ASSERT_EQ(0, a.flowlabel); /* node: IPv4 has no flow label */
    ASSERT(memcmp(a.bytes, "\1\2\3\4", 4) == 0);
}

static void check_parse(void)
{
    static const struct {
        const char *in;
        const char *address;
        int port, family;
    } ok[] = {
        {"1.2.3.4", "1.2.3.4", 0, 4},
        {"1.2.3.4:80", "1.2.3.4", 80, 4},
        {"1.2.3.4:65535", "1.2.3.4", 65535, 4},
        {"[::1]", "::1", 0, 6},
        {"[::1]:443", "::1", 443, 6},
        {"[0:0::1]:0", "::1", 0, 6},
        {"[::ffff:1.2.3.4]:9", "::ffff:1.2.3.4", 9, 6},
        {"[fe80::1%1]:5", "fe80::1", 5, 6},
    };
    static const char *const bad[] = {
        "",
        "::1",
        "[::1",
        "[::1]:",
        "[::1]x",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "1.2.3.4:-1",
        "1.2.3.4:8a",
        "1.2.3",
        "localhost:80",
        "[1.2.3.4]",
        "1.2.3.4:80/x",
        "[]:80",
        ":80",
        "1.2.3.4:000080",
    };
    cnet_socket_address_t a;

    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_address_parse(NULL, &a));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_address_parse("1.2.3.4", NULL));
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        memset(&a, 0xaa, sizeof a);
        if (cnet_socket_address_parse(ok[i].in, &a) != 0)
            TEST_FAIL_("parse(\"%s\") failed", ok[i].in);
        if (strcmp(a.address, ok[i].address) != 0 || a.port != ok[i].port ||
            a.family != ok[i].family)
            TEST_FAIL_("parse(\"%s\"): %s %d %d", ok[i].in, a.address, a.port, a.family);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cnet_socket_address_parse(bad[i], &a) != CNET_ERR_INVALID_ADDRESS)
            TEST_FAIL_("parse(\"%s\") was accepted", bad[i]);
}

/* Checks from two threads while the main thread adds rules (TSan's case too). */
static cnet_blocklist_t *shared_bl;
static void *checker(void *arg)
{
    unsigned hits = 0;
    for (int i = 0; i < 20000; i++)
        hits += cnet_blocklist_check(shared_bl, "10.1.2.3", 4);
    *(unsigned *)arg = hits;
    return NULL;
}

static void check_threads(void)
{
    pthread_t t[2];
    unsigned hits[2];

    ASSERT_OK(cnet_blocklist_new(&shared_bl));
    ASSERT_OK(cnet_blocklist_add_subnet(shared_bl, "10.0.0.0", 8, 4));
    for (int i = 0; i < 2; i++)
        ASSERT_EQ(0, pthread_create(&t[i], NULL, checker, &hits[i]));
    for (int i = 0; i < 2000; i++)
        ASSERT_OK(cnet_blocklist_add_address(shared_bl, "192.0.2.1", 4));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(0, pthread_join(t[i], NULL));
        ASSERT_EQ(20000, hits[i]); /* the first rule matched all along */
    }
    ASSERT_EQ(2001, cnet_blocklist_rule_count(shared_bl));
    cnet_blocklist_release(shared_bl);
}

/* ---- a server with a block list --------------------------------------------- */

typedef struct {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    int port;
    int connections, drops, closed;
    uint64_t blocked; /* cnet_server_blocked_count() when the clients are done */
    char drop_reason[32];
    char drop_remote[CNET_ADDRSTRLEN];
} srv_ctx_t;

static void srv_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srv_ctx_t *c = arg;
    (void)srv;
    c->connections++;
    cnet_socket_end(ev->connection, NULL, 0, NULL, NULL);
}

static void srv_drop(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srv_ctx_t *c = arg;
    (void)srv;
    c->drops++;
    snprintf(c->drop_reason, sizeof c->drop_reason, "%s", ev->reason ? ev->reason : "(null)");
    snprintf(c->drop_remote, sizeof c->drop_remote, "%s", ev->remote ? ev->remote->address : "");
}

static void client_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    srv_ctx_t *c = arg;
    (void)s;
    (void)ev;
    if (++c->closed == 2) {
        c->blocked = cnet_server_blocked_count(c->srv);
        cnet_server_close(c->srv, NULL, NULL);
    }
}

static void connect_from(srv_ctx_t *c, const char *host, const char *local)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;

    o.host = host;
    o.port = c->port;
    o.local_address = local;
    ASSERT_OK(cnet_create_connection(c->loop, &o, NULL, NULL, &s));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, client_close, c));
}

static void srv_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srv_ctx_t *c = arg;
    cnet_address_t addr;
    (void)ev;
    ASSERT_OK(cnet_server_address(srv, &addr));
    c->port = addr.port;
    connect_from(c, "127.0.0.1", "127.0.0.1"); /* denied */
    connect_from(c, "127.0.0.1", "127.0.0.2"); /* served */
}

static void check_server(const char *listen_host, const char *rule, int rule_family)
{
    srv_ctx_t c;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_blocklist_t *bl;

    memset(&c, 0, sizeof c);
    ASSERT_OK(cnet_loop_new(&c.loop));
    ASSERT_OK(cnet_blocklist_new(&bl));
    ASSERT_OK(cnet_blocklist_add_address(bl, rule, rule_family));
    so.block_list = bl;
    ASSERT_OK(cnet_server_new(c.loop, &so, &c.srv));
    cnet_blocklist_release(bl); /* the server holds its own reference */
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, srv_connection, &c));
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_DROP, srv_drop, &c));
    ASSERT_OK(cnet_server_listen(c.srv, 0, listen_host, srv_listening, &c));
    ASSERT_OK(cnet_loop_run(c.loop));
    ASSERT_EQ(1, c.connections);
    ASSERT_EQ(1, c.drops);
    ASSERT(strcmp(c.drop_reason, "blockList") == 0);
    ASSERT(strstr(c.drop_remote, "127.0.0.1") != NULL);
    ASSERT_EQ(1, c.blocked);
    ASSERT_OK(cnet_loop_close(c.loop));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "--gen-ops") == 0) {
        char op[256];
        rng = strtoull(argv[3], NULL, 0) | 1;
        for (int i = atoi(argv[2]); i > 0; i--) {
            rand_op(op, sizeof op);
            printf("%s\n", op);
        }
        return 0;
    }
    test_watchdog(30);

    test_set_phase("case file");
    check_case_file();
    test_set_phase("api edges");
    check_api_edges();
    test_set_phase("parse");
    check_parse();
    test_set_phase("threads");
    check_threads();
    test_set_phase("server, IPv4 rule");
    check_server("127.0.0.1", "127.0.0.1", 4);
    test_set_phase("server, mapped IPv6 rule, dual-stack listener");
    check_server(NULL, "::ffff:127.0.0.1", 6);

    if (!test_have_node()) {
        printf("SKIP live differential: node is not on PATH; the case file passed\n");
        return 0;
    }
    test_set_phase("live differential");
    live_differential();
    return 0;
}
