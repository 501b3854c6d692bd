/*
 * cnet_is_ip(), cnet_is_ipv4() and cnet_is_ipv6() against Node's net.isIP().
 *
 * 1. Case file: tests/data/isip_cases.txt holds about 2000 inputs with the
 *    answer Node gave when tests/node/gen_isip_cases.js wrote the file. This
 *    part needs no Node, so it runs everywhere.
 * 2. Live differential: fresh random inputs (valid addresses, then mutated)
 *    are classified by both this library and the `node` on PATH. The seed is
 *    printed; set CNET_ISIP_SEED to replay a failing run. Skipped, with a
 *    message, when node is missing.
 *
 * Both parts exchange inputs in the case file's escaped form: "\\", "\t",
 * "\n", "\r" and "\xHH" for other control and non-ASCII bytes.
 */
#include "harness.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#define CASE_FILE    CNET_TEST_SOURCE_DIR "/data/isip_cases.txt"
#define LIVE_INPUTS  2000
#define MAX_REPORTED 50

/* ---- escaping ------------------------------------------------------------ */

/* Writes at most @max input bytes of @s, escaped, noting how much was left out. */
static void write_escaped(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0' && max > 0; p++, max--) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\r')
            fputs("\\r", f);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    if (*p != '\0')
        fprintf(f, "...(%zu more bytes)", strlen((const char *)p));
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes @in into @out, which has room for strlen(in) + 1 bytes (decoding
 * never grows). False on a malformed escape or an escaped NUL, which a C
 * string could not carry.
 */
static bool unescape(const char *in, char *out)
{
    while (*in != '\0') {
        if (*in != '\\') {
            *out++ = *in++;
            continue;
        }
        in++;
        switch (*in) {
        case '\\':
            *out++ = '\\';
            in++;
            break;
        case 't':
            *out++ = '\t';
            in++;
            break;
        case 'n':
            *out++ = '\n';
            in++;
            break;
        case 'r':
            *out++ = '\r';
            in++;
            break;
        case 'x': {
            int hi = hex_value(in[1]);
            int lo = hi < 0 ? -1 : hex_value(in[2]);
            if (lo < 0 || (hi == 0 && lo == 0))
                return false;
            *out++ = (char)(hi * 16 + lo);
            in += 3;
            break;
        }
        default:
            return false;
        }
    }
    *out = '\0';
    return true;
}

/* ---- checking one input ---------------------------------------------------- */

/*
 * Compares all three functions with Node's isIP answer @expected and prints
 * the input on a mismatch. isIPv4 and isIPv6 are derived from isIP because
 * Node's isIP is literally "isIPv4 ? 4 : isIPv6 ? 6 : 0", and no string
 * passes both (an IPv6 address has a ':', a dotted quad cannot).
 */
static bool check_one(const char *what, const char *input, int expected, unsigned *reported)
{
    int ip = cnet_is_ip(input);
    bool v4 = cnet_is_ipv4(input);
    bool v6 = cnet_is_ipv6(input);

    if (ip == expected && v4 == (expected == 4) && v6 == (expected == 6))
        return true;
    if ((*reported)++ < MAX_REPORTED) {
        fprintf(stderr, "%s: mismatch for \"", what);
        write_escaped(stderr, input, 120);
        fprintf(stderr, "\": node isIP=%d, cnet_is_ip=%d is_ipv4=%d is_ipv6=%d\n", expected, ip, v4,
                v6);
    }
    return false;
}

static void check_null(void)
{
    ASSERT_EQ(0, cnet_is_ip(NULL));
    ASSERT(!cnet_is_ipv4(NULL));
    ASSERT(!cnet_is_ipv6(NULL));
}

/* ---- part 1: the case file ------------------------------------------------- */

static void check_case_file(void)
{
    FILE *f = fopen(CASE_FILE, "r");
    if (f == NULL)
        TEST_FAIL_("cannot open %s: %s", CASE_FILE, strerror(errno));

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0, cases = 0, failures = 0, reported = 0;

    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        /* Inputs escape '\r' and '\n', so a raw one can only be the line end
         * (a CRLF checkout on Windows included). */
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (line[0] == '#')
            continue;
        if (n < 2 || (line[0] != '0' && line[0] != '4' && line[0] != '6') || line[1] != '\t')
            TEST_FAIL_("%s:%u: malformed line", CASE_FILE, lineno);

        char *input = malloc((size_t)n);
        ASSERT(input != NULL);
        if (!unescape(line + 2, input))
            TEST_FAIL_("%s:%u: malformed escape", CASE_FILE, lineno);
        if (!check_one(CASE_FILE, input, line[0] - '0', &reported))
            failures++;
        cases++;
        free(input);
    }
    free(line);
    fclose(f);

    printf("case file: %u cases, %u mismatches\n", cases, failures);
    /* A truncated or emptied file must not pass quietly. */
    ASSERT(cases >= 1000);
    ASSERT_EQ(0, failures);
}

/* ---- part 2: random inputs, classified live by node ------------------------ */

/* splitmix64: seeded from the clock, replayable through CNET_ISIP_SEED. */
static uint64_t rng_state;

static uint32_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static size_t rand_below(size_t n)
{
    return n ? rng_next() % n : 0;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(arr)     ((arr)[rand_below(ARRAY_SIZE(arr))])

/* A generated input; edits that would overflow are silently cut short. */
struct text {
    char buf[512];
    size_t len;
};

static void text_insert(struct text *t, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at > t->len)
        at = t->len;
    if (t->len + n >= sizeof t->buf)
        return;
    memmove(t->buf + at + n, t->buf + at, t->len - at + 1);
    memcpy(t->buf + at, s, n);
    t->len += n;
}

static void text_append(struct text *t, const char *s)
{
    text_insert(t, t->len, s);
}

static void text_erase(struct text *t, size_t at, size_t n)
{
    if (at >= t->len)
        return;
    if (n > t->len - at)
        n = t->len - at;
    memmove(t->buf + at, t->buf + at + n, t->len - at - n + 1);
    t->len -= n;
}

static const char *const hex_digits[] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a",
    "b", "c", "d", "e", "f", "A", "B", "C", "D", "E", "F",
};

/*
 * Characters worth inserting: the grammar's own, near misses, whitespace,
 * controls, and whole UTF-8 sequences. (Byte edits may later split a UTF-8
 * sequence; Node then sees U+FFFD, which like any non-ASCII character
 * matches nothing, so both sides still agree on what it should.)
 */
static const char *const noise[] = {
    ":",
    ":",
    ":",
    ".",
    ".",
    "%",
    "0",
    "1",
    "2",
    "5",
    "9",
    "a",
    "f",
    "F",
    "g",
    "G",
    "z",
    " ",
    "\t",
    "\n",
    "\r",
    "-",
    "_",
    "/",
    "[",
    "]",
    "\\",
    "\x01",
    "\x7f",
    "\xc3\xa9",
    "\xc2\xa0",
    "\xef\xbc\x91",
    "\xf0\x9f\x98\x80",
};

static const char *const zones[] = {
    "eth0", "1", "lo", "en0.1", "a-b", ":", ".", "-", "x:y.z", "eth_0", "", "e%0", "e 0",
};

static const char *const tokens[] = {
    "1", "0", "ff", "FFFF", "12345", ":", "::", ".", "255", "256", "01", "%", "eth0",
};

static void rand_group(struct text *t)
{
    for (size_t n = 1 + rand_below(4); n > 0; n--)
        text_append(t, PICK(hex_digits));
}

static void rand_v4(struct text *t)
{
    for (int i = 0; i < 4; i++) {
        char octet[32];
        snprintf(octet, sizeof octet, "%s%zu", i ? "." : "",
                 rand_below(10) < 7 ? rand_below(256) : rand_below(1000));
        text_append(t, octet);
    }
}

/* Mostly valid: a dotted quad, or 8 (or 6 + dotted quad) groups, often with "::" and a zone. */
static void rand_address(struct text *t)
{
    t->len = 0;
    t->buf[0] = '\0';
    if (rand_below(3) == 0) {
        rand_v4(t);
        return;
    }
    bool tail = rand_below(4) == 0;
    size_t n = tail ? 6 : 8;
    size_t gap_from = n + 1, gap_to = n + 1; /* groups [gap_from, gap_to) become "::" */
    if (rand_below(4) != 0) {
        gap_from = rand_below(n + 1);
        gap_to = gap_from + 1 + rand_below(n);
        if (gap_to > n)
            gap_to = n;
    }
    bool need_colon = false;
    for (size_t i = 0; i <= n; i++) {
        if (i == gap_from) {
            text_append(t, "::");
            need_colon = false;
        }
        if (i >= gap_from && i < gap_to)
            continue;
        if (i == n && !tail)
            break;
        if (need_colon)
            text_append(t, ":");
        if (i == n)
            rand_v4(t);
        else
            rand_group(t);
        need_colon = true;
    }
    if (rand_below(5) == 0) {
        text_append(t, "%");
        text_append(t, PICK(zones));
    }
}

static void mutate(struct text *t)
{
    size_t at = rand_below(t->len + 1);
    char one[2] = {0, 0};

    switch (rand_below(11)) {
    case 0:
        text_insert(t, at, PICK(noise));
        break;
    case 1:
        text_erase(t, at, 1);
        break;
    case 2:
        text_erase(t, at, 1);
        text_insert(t, at, PICK(noise));
        break;
    case 3: { /* duplicate a slice */
        char slice[8] = {0};
        size_t len = 1 + rand_below(6);
        if (at < t->len) {
            if (len > t->len - at)
                len = t->len - at;
            memcpy(slice, t->buf + at, len);
            text_insert(t, at + len, slice);
        }
        break;
    }
    case 4: /* flip the case of one char */
        if (at < t->len) {
            char c = t->buf[at];
            if (c >= 'a' && c <= 'z')
                t->buf[at] = (char)(c - 'a' + 'A');
            else if (c >= 'A' && c <= 'Z')
                t->buf[at] = (char)(c - 'A' + 'a');
        }
        break;
    case 5:
        text_append(t, "%");
        text_append(t, PICK(zones));
        break;
    case 6: {
        static const char *const pieces[] = {"::", ":", ".", ":0:", "1.2.3.4"};
        text_insert(t, at, PICK(pieces));
        break;
    }
    case 7:
        text_erase(t, at, t->len);
        break;
    case 8:
        text_erase(t, 0, at);
        break;
    case 9: /* replace one char with a digit run, growing an octet or a group */
        one[0] = (char)('0' + rand_below(10));
        text_erase(t, at, 1);
        for (size_t k = 1 + rand_below(4); k > 0; k--)
            text_insert(t, at, one);
        break;
    default: {
        char *gap = strstr(t->buf, "::");
        static const char *const gaps[] = {":", ":::", "::0::", ":0:"};
        if (gap != NULL) {
            size_t pos = (size_t)(gap - t->buf);
            text_erase(t, pos, 2);
            text_insert(t, pos, PICK(gaps));
        }
        break;
    }
    }
}

static void rand_input(struct text *t)
{
    size_t kind = rand_below(10);

    if (kind < 2) {
        rand_address(t);
    } else if (kind < 3) {
        t->len = 0;
        t->buf[0] = '\0';
        for (size_t n = 1 + rand_below(12); n > 0; n--)
            text_append(t, PICK(tokens));
    } else {
        rand_address(t);
        for (size_t n = 1 + rand_below(3); n > 0; n--)
            mutate(t);
    }
}

/* Decodes the escaped lines of argv[2] and writes one isIP answer per line to argv[3]. */
static const char classify_js[] =
    "'use strict';\n"
    "const fs = require('fs');\n"
    "const net = require('net');\n"
    "const lines = fs.readFileSync(process.argv[2], 'latin1').split('\\n');\n"
    "lines.pop();\n"
    "const out = lines.map((e) => {\n"
    "    const bytes = [];\n"
    "    for (let i = 0; i < e.length; i++) {\n"
    "        if (e[i] !== '\\\\') { bytes.push(e.charCodeAt(i)); continue; }\n"
    "        const c = e[++i];\n"
    "        if (c === 'x') { bytes.push(parseInt(e.substr(i + 1, 2), 16)); i += 2; }\n"
    "        else bytes.push({ t: 9, n: 10, r: 13 }[c] || 92);\n"
    "    }\n"
    "    return net.isIP(Buffer.from(bytes).toString('utf8'));\n"
    "});\n"
    "fs.writeFileSync(process.argv[3], out.join('\\n') + '\\n');\n";

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        TEST_FAIL_("cannot create %s: %s", path, strerror(errno));
    fputs(data, f);
    ASSERT_EQ(0, fclose(f));
}

static void live_differential(void)
{
    const char *env = getenv("CNET_ISIP_SEED");
    uint64_t seed =
        env ? strtoull(env, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    rng_state = seed;
    printf("live differential: seed %" PRIu64 " (rerun with CNET_ISIP_SEED=%" PRIu64 ")\n", seed,
           seed);

    /* mkdtemp names are [A-Za-z0-9/], so the paths need no shell quoting. */
    char dir[] = "/tmp/cnet-isip-XXXXXX";
    char script[64], in_path[64], out_path[64], cmd[256];
    if (mkdtemp(dir) == NULL)
        TEST_FAIL_("mkdtemp: %s", strerror(errno));
    snprintf(script, sizeof script, "%s/classify.js", dir);
    snprintf(in_path, sizeof in_path, "%s/in.txt", dir);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    write_file(script, classify_js);

    static struct text inputs[LIVE_INPUTS];
    FILE *in = fopen(in_path, "w");
    if (in == NULL)
        TEST_FAIL_("cannot create %s: %s", in_path, strerror(errno));
    for (size_t i = 0; i < LIVE_INPUTS; i++) {
        rand_input(&inputs[i]);
        write_escaped(in, inputs[i].buf, SIZE_MAX);
        fputc('\n', in);
    }
    ASSERT_EQ(0, fclose(in));

    snprintf(cmd, sizeof cmd, "node %s %s %s", script, in_path, out_path);
    int status = system(cmd);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        TEST_FAIL_("`%s` failed (status %d)", cmd, status);

    FILE *out = fopen(out_path, "r");
    if (out == NULL)
        TEST_FAIL_("cannot open %s: %s", out_path, strerror(errno));
    unsigned failures = 0, reported = 0, valid = 0;
    char answer[16];
    for (size_t i = 0; i < LIVE_INPUTS; i++) {
        if (fgets(answer, sizeof answer, out) == NULL)
            TEST_FAIL_("node gave only %zu answers for %d inputs", i, LIVE_INPUTS);
        int expected = answer[0] - '0';
        if (expected != 0 && expected != 4 && expected != 6)
            TEST_FAIL_("unexpected answer from node: %s", answer);
        valid += expected != 0;
        if (!check_one("live", inputs[i].buf, expected, &reported))
            failures++;
    }
    fclose(out);
    unlink(script);
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);

    printf("live differential: %d inputs (%u valid), %u mismatches\n", LIVE_INPUTS, valid,
           failures);
    if (failures != 0)
        TEST_FAIL_("%u mismatches with seed %" PRIu64, failures, seed);
}

int main(void)
{
    /* Keep the seed and the summaries when a failure aborts with stdout in a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_watchdog(20);

    test_set_phase("null input");
    check_null();

    test_set_phase("case file");
    check_case_file();

    if (!test_have_node()) {
        printf("SKIP live differential (part 2): node is not on PATH; "
               "the case file (part 1) passed\n");
        return 0;
    }
    test_set_phase("live differential");
    live_differential();
    return 0;
}
