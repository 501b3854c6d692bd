/*
 * Differential test of the encoding layer against Node itself.
 *
 * Generates thousands of random cases, biased toward the edges (UTF-8 edge
 * cases, encoded surrogates, overlongs, truncated characters, lone
 * continuation bytes, UTF-16 surrogates, base64 and hex junk), writes them to
 * one batch file, runs tests/node/encoding_oracle.js once over the batch and
 * requires cnet's output to be identical, byte for byte:
 *   P  encoding names          vs Buffer.isEncoding + StringDecoder.encoding
 *   E  cnet__enc_encode         vs Buffer.from(Buffer.from(bytes).toString(), enc)
 *   D  cnet__decoder_write/end  vs StringDecoder.write()... .end(), chunk by chunk
 *
 * Reproduce a run with CNET_ENCODING_SEED=<seed> (printed at start); scale
 * it with CNET_ENCODING_CASES=<n decoder cases>. Skips (77) without node.
 */
#include "codec/encoding.h"
#include "harness.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

#define MAX_SHOWN 10

/* ---- random numbers (splitmix64: tiny, seedable, good enough) ------------ */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static size_t rnd(size_t n)
{
    return n ? (size_t)(rng_next() % n) : 0;
}

static size_t rnd_range(size_t lo, size_t hi)
{
    return lo + rnd(hi - lo + 1);
}

/* ---- byte buffers ----------------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes_t;

static void put(bytes_t *b, unsigned c)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->p = realloc(b->p, b->cap);
        ASSERT(b->p != NULL);
    }
    b->p[b->len++] = (unsigned char)c;
}

static void put_cp(bytes_t *b, uint32_t cp)
{
    if (cp < 0x80) {
        put(b, cp);
    } else if (cp < 0x800) {
        put(b, 0xC0 | (cp >> 6));
        put(b, 0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(b, 0xE0 | (cp >> 12));
        put(b, 0x80 | ((cp >> 6) & 0x3F));
        put(b, 0x80 | (cp & 0x3F));
    } else {
        put(b, 0xF0 | (cp >> 18));
        put(b, 0x80 | ((cp >> 12) & 0x3F));
        put(b, 0x80 | ((cp >> 6) & 0x3F));
        put(b, 0x80 | (cp & 0x3F));
    }
}

static unsigned cont(void)
{
    return 0x80 + (unsigned)rnd(0x40);
}

/* One piece of text that stresses a UTF-8 decoder, valid or not. */
static void gen_utf8_atom(bytes_t *b)
{
    static const uint32_t edges[] = {0x80,   0x7FF,  0x800,   0xD7FF,  0xE000,   0xFEFF,
                                     0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF, 0x100};
    size_t n;

    switch (rnd(16)) {
    case 0:
    case 1:
    case 2:
        put(b, 0x20 + (unsigned)rnd(0x5F)); /* printable ASCII */
        break;
    case 3:
        put(b, (unsigned)rnd(0x20)); /* controls, NUL */
        break;
    case 4:
        put_cp(b, (uint32_t)rnd_range(0x80, 0x7FF));
        break;
    case 5: {
        uint32_t cp = (uint32_t)rnd_range(0x800, 0xFFFF);
        put_cp(b, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);
        break;
    }
    case 6:
        put_cp(b, (uint32_t)rnd_range(0x10000, 0x10FFFF));
        break;
    case 7:
        put_cp(b, edges[rnd(CNET__ARRAY_SIZE(edges))]);
        break;
    case 8: /* an encoded surrogate: ED A0..BF xx */
        put(b, 0xED);
        put(b, 0xA0 + (unsigned)rnd(0x20));
        put(b, cont());
        break;
    case 9: /* overlongs */
        switch (rnd(3)) {
        case 0:
            put(b, 0xC0 + (unsigned)rnd(2));
            put(b, cont());
            break;
        case 1:
            put(b, 0xE0);
            put(b, 0x80 + (unsigned)rnd(0x20));
            put(b, cont());
            break;
        default:
            put(b, 0xF0);
            put(b, 0x80 + (unsigned)rnd(0x10));
            put(b, cont());
            put(b, cont());
            break;
        }
        break;
    case 10: /* beyond U+10FFFF and bytes that never lead */
        if (rnd(2)) {
            put(b, 0xF4 + (unsigned)rnd(4));
            put(b, 0x90 + (unsigned)rnd(0x30));
            put(b, cont());
            put(b, cont());
        } else {
            put(b, 0xF8 + (unsigned)rnd(8));
        }
        break;
    case 11: /* lone continuation bytes */
        n = rnd_range(1, 5);
        while (n--)
            put(b, cont());
        break;
    case 12: { /* a truncated character */
        bytes_t t = {0};
        put_cp(&t, (uint32_t)rnd_range(0x80, 0x10FFFF)); /* 2 to 4 bytes */
        n = rnd_range(1, t.len - 1);
        for (size_t i = 0; i < n; i++)
            put(b, t.p[i]);
        free(t.p);
        break;
    }
    case 13:
        put(b, (unsigned)rnd(256));
        break;
    case 14: /* a real U+FFFD and a BOM */
        put_cp(b, rnd(2) ? 0xFFFD : 0xFEFF);
        break;
    default: /* a lead byte followed by something unexpected */
        put(b, 0xC2 + (unsigned)rnd(0x33));
        put(b, rnd(2) ? (unsigned)rnd(0x80) : 0xC0 + (unsigned)rnd(0x40));
        break;
    }
}

/* UTF-16LE code units with lone and paired surrogates, plus stray bytes. */
static void gen_utf16_atom(bytes_t *b)
{
    uint32_t u;

    switch (rnd(8)) {
    case 0:
    case 1:
        u = 0x20 + (uint32_t)rnd(0x5F);
        break;
    case 2:
        u = (uint32_t)rnd(0x10000);
        break;
    case 3:
        u = 0xD800 + (uint32_t)rnd(0x400); /* high */
        break;
    case 4:
        u = 0xDC00 + (uint32_t)rnd(0x400); /* low */
        break;
    case 5: /* a pair */
        u = 0xD800 + (uint32_t)rnd(0x400);
        put(b, u & 0xFF);
        put(b, u >> 8);
        u = 0xDC00 + (uint32_t)rnd(0x400);
        break;
    case 6:
        put(b, (unsigned)rnd(256)); /* shifts the alignment */
        return;
    default:
        u = 0xD800 + (uint32_t)rnd(0x800);
        break;
    }
    put(b, u & 0xFF);
    put(b, u >> 8);
}

/* Text for the hex encoder: digits, junk, and characters whose low byte is a digit. */
static void gen_hex_atom(bytes_t *b)
{
    static const char digits[] = "0123456789abcdefABCDEF";
    static const char junk[] = " \t\n=gGzZ-+xX";

    switch (rnd(12)) {
    case 9:
        put(b, (unsigned char)junk[rnd(sizeof junk - 1)]);
        break;
    case 10: /* U+0130..U+0139 ('0'..'9'), U+0141..U+0146 ('A'..'F'), U+0161..U+0166 */
        switch (rnd(3)) {
        case 0:
            put_cp(b, 0x130 + (uint32_t)rnd(10));
            break;
        case 1:
            put_cp(b, 0x141 + (uint32_t)rnd(6));
            break;
        default:
            put_cp(b, 0x161 + (uint32_t)rnd(6));
            break;
        }
        break;
    case 11:
        gen_utf8_atom(b);
        break;
    default:
        put(b, (unsigned char)digits[rnd(sizeof digits - 1)]);
        break;
    }
}

/* Text for the base64 decoder inside Buffer.from: both alphabets, '=', junk. */
static void gen_base64_atom(bytes_t *b)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
    static const char junk[] = " \t\r\n!.*~\\\"";

    switch (rnd(24)) {
    case 0:
        put(b, '=');
        break;
    case 1:
        put(b, (unsigned char)junk[rnd(sizeof junk - 1)]);
        break;
    case 2: /* low byte in the alphabet, or U+013D whose low byte is '=' */
        put_cp(b, rnd(4) ? 0x141 + (uint32_t)rnd(26) : 0x13D);
        break;
    case 3:
        gen_utf8_atom(b);
        break;
    default:
        put(b, (unsigned char)abc[rnd(sizeof abc - 1)]);
        break;
    }
}

/* ---- cases --------------------------------------------------------------- */

typedef struct tcase {
    char kind; /* 'P', 'E' or 'D' */
    cnet__enc_t enc;
    bytes_t data;
    size_t *cuts; /* D: ascending chunk boundaries */
    size_t ncuts;
} tcase_t;

static tcase_t *cases;
static size_t ncases, cases_cap;

static tcase_t *new_case(char kind, cnet__enc_t enc)
{
    if (ncases == cases_cap) {
        cases_cap = cases_cap ? cases_cap * 2 : 1024;
        cases = realloc(cases, cases_cap * sizeof *cases);
        ASSERT(cases != NULL);
    }
    tcase_t *c = &cases[ncases++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->enc = enc;
    c->data.cap = 64; /* never NULL, even for an empty case */
    c->data.p = malloc(c->data.cap);
    ASSERT(c->data.p != NULL);
    return c;
}

/* Mostly short inputs; some long enough for Node's other Buffer.from paths (>= 1024, 4096 chars).
 */
static size_t gen_len(void)
{
    size_t r = rnd(100);
    if (r < 70)
        return rnd_range(0, 24);
    if (r < 95)
        return rnd_range(25, 300);
    if (r < 98)
        return rnd_range(1000, 1500);
    return rnd_range(4000, 6000);
}

static void gen_decoder_case(void)
{
    cnet__enc_t enc = (cnet__enc_t)rnd(CNET__ENC_COUNT);
    tcase_t *c;
    size_t len, n;

    /* Weight the stateful decoders. */
    if (rnd(3) == 0)
        enc = rnd(2) ? CNET__ENC_UTF8 : CNET__ENC_UTF16LE;
    c = new_case('D', enc);
    len = gen_len() / 2;
    while (c->data.len < len) {
        if (enc == CNET__ENC_UTF16LE)
            gen_utf16_atom(&c->data);
        else if (enc == CNET__ENC_UTF8 || rnd(2))
            gen_utf8_atom(&c->data);
        else
            put(&c->data, (unsigned)rnd(256));
    }
    /* Chunks: often many small ones, so splits land inside characters; some empty. */
    n = rnd(4) == 0 ? 0 : rnd_range(1, c->data.len < 12 ? c->data.len + 1 : 12);
    c->cuts = malloc((n + 1) * sizeof *c->cuts);
    ASSERT(c->cuts != NULL);
    for (size_t i = 0; i < n; i++)
        c->cuts[i] = rnd(c->data.len + 1);
    for (size_t i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (size_t j = i; j > 0 && c->cuts[j - 1] > c->cuts[j]; j--) {
            size_t t = c->cuts[j];
            c->cuts[j] = c->cuts[j - 1];
            c->cuts[j - 1] = t;
        }
    c->ncuts = n;
}

static void gen_encoder_case(void)
{
    cnet__enc_t enc = (cnet__enc_t)rnd(CNET__ENC_COUNT);
    tcase_t *c = new_case('E', enc);
    size_t len = gen_len();
    int plain = rnd(4) == 0; /* sometimes plain edge-case text for every encoding */

    while (c->data.len < len) {
        if (plain)
            gen_utf8_atom(&c->data);
        else if (enc == CNET__ENC_HEX)
            gen_hex_atom(&c->data);
        else if (enc == CNET__ENC_BASE64 || enc == CNET__ENC_BASE64URL)
            gen_base64_atom(&c->data);
        else
            gen_utf8_atom(&c->data);
    }
}

static void gen_parse_case(void)
{
    static const char *const names[] = {"utf8",     "utf-8",  "ucs2",   "ucs-2",  "utf16le",
                                        "utf-16le", "latin1", "binary", "base64", "base64url",
                                        "hex",      "ascii",  "utf16",  "latin",  "buffer"};
    const char *src = names[rnd(CNET__ARRAY_SIZE(names))];
    tcase_t *c = new_case('P', CNET__ENC_UTF8);

    for (const char *p = src; *p; p++) {
        unsigned ch = (unsigned char)*p;
        if (ch >= 'a' && ch <= 'z' && rnd(3) == 0)
            ch -= 'a' - 'A';
        put(&c->data, ch);
    }
    switch (rnd(6)) {
    case 0: /* replace one character */
        c->data.p[rnd(c->data.len)] = (unsigned char)(rnd(2) ? 0x20 + rnd(0x5F) : rnd(256));
        break;
    case 1: /* drop the last character */
        c->data.len--;
        break;
    case 2: /* append one */
        put(&c->data, rnd(2) ? '-' : (unsigned)(0x20 + rnd(0x5F)));
        break;
    case 3: /* a non-ASCII letter: U+0130 'I with dot', U+0131 dotless i, U+212A Kelvin */
        put_cp(&c->data, rnd(3) == 0 ? 0x130 : rnd(2) ? 0x131 : 0x212A);
        break;
    default:
        break;
    }
    if (c->data.len == 0)
        put(&c->data, 'x');
    /* A NUL would end the C string early: the oracle and cnet must see the same name. */
    for (size_t i = 0; i < c->data.len; i++)
        if (c->data.p[i] == 0)
            c->data.p[i] = 'z';
}

/* ---- running cnet -------------------------------------------------------- */

static void hex_append(cnet__strbuf_t *s, const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;

    ASSERT_OK(cnet__strbuf_reserve(s, 2 * n));
    for (size_t i = 0; i < n; i++) {
        s->base[s->len++] = digits[b[i] >> 4];
        s->base[s->len++] = digits[b[i] & 15];
    }
    s->base[s->len] = '\0';
}

/* The case as the oracle reads it (one line, no newline). */
static void case_line(const tcase_t *c, cnet__strbuf_t *s)
{
    cnet__strbuf_clear(s);
    if (c->kind == 'P') {
        ASSERT_OK(cnet__strbuf_append(s, "P ", 2));
        hex_append(s, c->data.p, c->data.len);
        return;
    }
    ASSERT_OK(cnet__strbuf_append(s, c->kind == 'E' ? "E " : "D ", 2));
    ASSERT_OK(cnet__strbuf_append(s, cnet__enc_name(c->enc), strlen(cnet__enc_name(c->enc))));
    ASSERT_OK(cnet__strbuf_append(s, " ", 1));
    if (c->kind == 'E') {
        hex_append(s, c->data.p, c->data.len);
        return;
    }
    size_t at = 0;
    for (size_t i = 0; i <= c->ncuts; i++) {
        size_t end = i < c->ncuts ? c->cuts[i] : c->data.len;
        if (i)
            ASSERT_OK(cnet__strbuf_append(s, ",", 1));
        hex_append(s, c->data.p + at, end - at);
        at = end;
    }
}

/* cnet's answer, in the oracle's format. */
static void case_answer(const tcase_t *c, cnet__strbuf_t *s)
{
    cnet__strbuf_t out = {0};

    cnet__strbuf_clear(s);
    if (c->kind == 'P') {
        char name[64];
        cnet__enc_t e;
        size_t n = c->data.len < sizeof name - 1 ? c->data.len : sizeof name - 1;
        memcpy(name, c->data.p, n);
        name[n] = '\0';
        if (cnet__enc_parse(name, &e) == 0)
            ASSERT_OK(cnet__strbuf_append(s, cnet__enc_name(e), strlen(cnet__enc_name(e))));
        else
            ASSERT_OK(cnet__strbuf_append(s, "-", 1));
        return;
    }
    if (c->kind == 'E') {
        ASSERT_OK(cnet__enc_encode(c->enc, (const char *)c->data.p, c->data.len, &out));
        hex_append(s, out.base, out.len);
        cnet__strbuf_free(&out);
        return;
    }
    cnet__decoder_t d;
    size_t at = 0;
    cnet__decoder_init(&d, c->enc);
    for (size_t i = 0; i <= c->ncuts + 1; i++) {
        cnet__strbuf_clear(&out);
        if (i <= c->ncuts) {
            size_t end = i < c->ncuts ? c->cuts[i] : c->data.len;
            ASSERT_OK(cnet__decoder_write(&d, c->data.p + at, end - at, &out));
            at = end;
        } else {
            ASSERT_OK(cnet__decoder_end(&d, &out));
        }
        if (i)
            ASSERT_OK(cnet__strbuf_append(s, ",", 1));
        hex_append(s, out.base ? out.base : "", out.len);
    }
    cnet__strbuf_free(&out);
}

/* ---- main ---------------------------------------------------------------- */

static size_t env_size(const char *name, size_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, NULL, 0) : dflt;
}

int main(void)
{
    char dir[] = "/tmp/cnet_enc_diff_XXXXXX";
    char in_path[64], out_path[64], cmd[512];
    cnet__strbuf_t line = {0}, mine = {0};
    size_t n_dec, n_enc, n_parse, failures = 0, kinds[3] = {0};
    uint64_t seed;
    FILE *f;
    char *ans = NULL;
    size_t ans_cap = 0;

    test_watchdog(100);
    if (!test_have_node())
        RETURN_SKIP("node is not installed");

    seed = env_size("CNET_ENCODING_SEED", 0);
    if (seed == 0)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    rng_state = seed;
    n_dec = env_size("CNET_ENCODING_CASES", 20000);
    n_enc = n_dec * 2 / 3;
    n_parse = n_dec / 10;
    printf("seed=%" PRIu64 " (rerun with CNET_ENCODING_SEED=%" PRIu64 ")\n", seed, seed);
    fflush(stdout);

    test_set_phase("generate");
    for (size_t i = 0; i < n_dec; i++)
        gen_decoder_case();
    for (size_t i = 0; i < n_enc; i++)
        gen_encoder_case();
    for (size_t i = 0; i < n_parse; i++)
        gen_parse_case();

    test_set_phase("write batch");
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(in_path, sizeof in_path, "%s/cases.txt", dir);
    snprintf(out_path, sizeof out_path, "%s/answers.txt", dir);
    f = fopen(in_path, "w");
    ASSERT(f != NULL);
    for (size_t i = 0; i < ncases; i++) {
        case_line(&cases[i], &line);
        fwrite(line.base, 1, line.len, f);
        fputc('\n', f);
    }
    ASSERT_EQ(0, fclose(f));

    test_set_phase("run node");
    snprintf(cmd, sizeof cmd, "node '%s/node/encoding_oracle.js' '%s' '%s'", CNET_TEST_SOURCE_DIR,
             in_path, out_path);
    ASSERT_EQ(0, system(cmd));

    test_set_phase("compare");
    f = fopen(out_path, "r");
    ASSERT(f != NULL);
    for (size_t i = 0; i < ncases; i++) {
        const tcase_t *c = &cases[i];
        ssize_t n = getline(&ans, &ans_cap, f);
        if (n < 0)
            TEST_FAIL_("oracle gave %zu answers for %zu cases", i, ncases);
        if (n > 0 && ans[n - 1] == '\n')
            ans[--n] = '\0';
        kinds[c->kind == 'P' ? 0 : c->kind == 'E' ? 1 : 2]++;
        case_answer(c, &mine);
        if (strcmp(ans, mine.base) == 0)
            continue;
        if (++failures <= MAX_SHOWN) {
            case_line(c, &line);
            fprintf(stderr, "MISMATCH case %zu\n  case: %s\n  node: %s\n  cnet: %s\n", i, line.base,
                    ans, mine.base);
        }
    }
    fclose(f);
    free(ans);

    if (failures) {
        fprintf(stderr, "batch kept in %s\n", dir);
    } else {
        remove(in_path);
        remove(out_path);
        rmdir(dir);
    }
    for (size_t i = 0; i < ncases; i++) {
        free(cases[i].data.p);
        free(cases[i].cuts);
    }
    free(cases);
    cnet__strbuf_free(&line);
    cnet__strbuf_free(&mine);

    printf("%zu cases (%zu names, %zu encode, %zu decode), %zu mismatches, seed=%" PRIu64 "\n",
           ncases, kinds[0], kinds[1], kinds[2], failures, seed);
    if (failures)
        TEST_FAIL_("%zu cases differ from node (seed %" PRIu64 ")", failures, seed);
    return 0;
}
