/*
 * Unit tests for the encoding layer (src/codec/encoding.c): hand-picked cases for
 * every encoding in both directions. Every expected value was produced by
 * Node v20 itself (Buffer.from(str, enc) and StringDecoder), so a failure
 * here means cnet and Node disagree. tests/test_encoding_differential.c does
 * the same with random input.
 */
#include "codec/encoding.h"
#include "harness.h"

#include <stdint.h>

#define S(lit) lit, sizeof(lit) - 1
#define P(lit)               \
    {                        \
        lit, sizeof(lit) - 1 \
    }

/* Prints @p p as hex, for failure messages. */
static void dump(const char *label, const void *p, size_t n)
{
    const unsigned char *b = p;
    fprintf(stderr, "  %s (%zu bytes):", label, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %02x", b[i]);
    fputc('\n', stderr);
}

static void expect_bytes(const char *what, const void *want, size_t want_len, const void *got,
                         size_t got_len)
{
    if (want_len == got_len && (want_len == 0 || memcmp(want, got, want_len) == 0))
        return;
    fprintf(stderr, "mismatch in %s\n", what);
    dump("expected", want, want_len);
    dump("got     ", got, got_len);
    TEST_FAIL_("%s: output differs from Node", what);
}

/* ---- names --------------------------------------------------------------- */

static void test_parse(void)
{
    static const struct {
        const char *name;
        cnet__enc_t enc;
    } ok[] = {
        {"utf8", CNET__ENC_UTF8},
        {"UTF8", CNET__ENC_UTF8},
        {"utf-8", CNET__ENC_UTF8},
        {"UTF-8", CNET__ENC_UTF8},
        {"Utf-8", CNET__ENC_UTF8},
        {"utF8", CNET__ENC_UTF8},
        {"ascii", CNET__ENC_ASCII},
        {"ASCII", CNET__ENC_ASCII},
        {"latin1", CNET__ENC_LATIN1},
        {"LATIN1", CNET__ENC_LATIN1},
        {"binary", CNET__ENC_LATIN1},
        {"BINARY", CNET__ENC_LATIN1},
        {"base64", CNET__ENC_BASE64},
        {"BASE64", CNET__ENC_BASE64},
        {"base64url", CNET__ENC_BASE64URL},
        {"Base64Url", CNET__ENC_BASE64URL},
        {"hex", CNET__ENC_HEX},
        {"HEX", CNET__ENC_HEX},
        {"utf16le", CNET__ENC_UTF16LE},
        {"UTF16LE", CNET__ENC_UTF16LE},
        {"utf-16le", CNET__ENC_UTF16LE},
        {"uTf-16Le", CNET__ENC_UTF16LE},
        {"ucs2", CNET__ENC_UTF16LE},
        {"UCS2", CNET__ENC_UTF16LE},
        {"ucs-2", CNET__ENC_UTF16LE},
        {"UCS-2", CNET__ENC_UTF16LE},
    };
    /* All rejected by Node's Buffer.isEncoding(). */
    static const char *const bad[] = {
        "",           "utf 8",         "utf16",    "utf-16",        "ucs",      "latin-1",
        "iso-8859-1", "utf8 ",         " utf8",    "UTF_8",         "unicode",  "raw",
        "raws",       "buffer",        "base-64",  "hex ",          "utf-16be", "utf16be",
        "\xc4\xb0",   "lat\xc4\xb0n1", "utf8\xff", "b\xc4\xb1nary",
    };
    cnet__enc_t e;

    for (size_t i = 0; i < CNET__ARRAY_SIZE(ok); i++) {
        e = (cnet__enc_t)-1;
        ASSERT_OK(cnet__enc_parse(ok[i].name, &e));
        ASSERT_EQ(ok[i].enc, e);
    }
    for (size_t i = 0; i < CNET__ARRAY_SIZE(bad); i++)
        ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet__enc_parse(bad[i], &e));
    ASSERT_ERR(CNET_ERR_UNKNOWN_ENCODING, cnet__enc_parse(NULL, &e));

    /* Canonical names are what new StringDecoder(name).encoding reports. */
    ASSERT_STR_EQ("utf8", cnet__enc_name(CNET__ENC_UTF8));
    ASSERT_STR_EQ("ascii", cnet__enc_name(CNET__ENC_ASCII));
    ASSERT_STR_EQ("latin1", cnet__enc_name(CNET__ENC_LATIN1));
    ASSERT_STR_EQ("base64", cnet__enc_name(CNET__ENC_BASE64));
    ASSERT_STR_EQ("base64url", cnet__enc_name(CNET__ENC_BASE64URL));
    ASSERT_STR_EQ("hex", cnet__enc_name(CNET__ENC_HEX));
    ASSERT_STR_EQ("utf16le", cnet__enc_name(CNET__ENC_UTF16LE));
    for (int i = 0; i < CNET__ENC_COUNT; i++) {
        ASSERT_OK(cnet__enc_parse(cnet__enc_name((cnet__enc_t)i), &e));
        ASSERT_EQ(i, e);
    }
}

/* ---- strbuf -------------------------------------------------------------- */

static void test_strbuf(void)
{
    cnet__strbuf_t b = {0};

    cnet__strbuf_init(&b);
    ASSERT_EQ(0, b.len);
    ASSERT_OK(cnet__strbuf_append(&b, "ab", 2));
    ASSERT_OK(cnet__strbuf_append(&b, NULL, 0));
    ASSERT_OK(cnet__strbuf_append(&b, "c", 1));
    ASSERT_STR_EQ("abc", b.base);
    ASSERT_EQ(3, b.len);
    ASSERT(b.cap > b.len);
    cnet__strbuf_clear(&b);
    ASSERT_EQ(0, b.len);
    ASSERT_STR_EQ("", b.base);
    for (int i = 0; i < 10000; i++)
        ASSERT_OK(cnet__strbuf_append(&b, "xyz", 3));
    ASSERT_EQ(30000, b.len);
    ASSERT_EQ('\0', b.base[b.len]);
    ASSERT_ERR(CNET_ENOMEM, cnet__strbuf_reserve(&b, SIZE_MAX - 2));
    ASSERT_EQ(30000, b.len);
    cnet__strbuf_free(&b);
    ASSERT(b.base == NULL);
    ASSERT_EQ(0, b.len);
    ASSERT_EQ(0, b.cap);
    cnet__strbuf_free(&b); /* freeing twice is harmless */

    /* Every producer leaves a NUL-terminated string, even an empty one. */
    ASSERT_OK(cnet__enc_encode(CNET__ENC_HEX, "", 0, &b));
    ASSERT(b.base != NULL);
    ASSERT_STR_EQ("", b.base);
    cnet__strbuf_free(&b);
}

/* ---- encoder: Buffer.from(Buffer.from(in).toString('utf8'), enc) ---------- */

static const struct enc_case {
    cnet__enc_t enc;
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
} enc_cases[] = {
    /*
     * utf8: invalid input becomes U+FFFD per WHATWG maximal subpart (C0 80 is
     * two, F0 9F 98 one, ED A0 80 three); a literal U+FFFD stays.
     * ascii/latin1: the low byte of each UTF-16 code unit (U+20AC gives AC,
     * U+1F600 gives the surrogates' low bytes 3D 00, U+FFFD gives FD).
     * hex: stops at the first bad pair, drops an odd last digit; code units are
     * truncated to 8 bits first, so U+0130 U+0131 read as "01".
     * base64: both alphabets, junk skipped, the first '=' ends it, no padding
     * needed, 8-bit truncation again (U+0141 is 'A', U+013D is '=').
     */
    /* clang-format off */
    {CNET__ENC_UTF8, S(""), S("")},
    {CNET__ENC_UTF8, S("abc"), S("abc")},
    {CNET__ENC_UTF8, S("h\xc3\xa9llo"), S("h\xc3\xa9llo")},
    {CNET__ENC_UTF8, S("\xe2\x82\xac"), S("\xe2\x82\xac")},
    {CNET__ENC_UTF8, S("\xf0\x9f\x98\x80"), S("\xf0\x9f\x98\x80")},
    {CNET__ENC_UTF8, S("a\x00" "b"), S("a\x00" "b")},
    {CNET__ENC_UTF8, S("\xff"), S("\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xc0\x80"), S("\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xc1\xbf"), S("\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xe0\x80\x80"), S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xe0\xa0"), S("\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xed\xa0\x80"), S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xed\x9f\xbf"), S("\xed\x9f\xbf")},
    {CNET__ENC_UTF8, S("\xf0\x9f\x98"), S("\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xf0\x80\x80\x80"), S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xf4\x8f\xbf\xbf"), S("\xf4\x8f\xbf\xbf")},
    {CNET__ENC_UTF8, S("\xf4\x90\x80\x80"), S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xf5\x80"), S("\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("a\xe2\x82" "b"), S("a\xef\xbf\xbd" "b")},
    {CNET__ENC_UTF8, S("\xef\xbf\xbd"), S("\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\x80\x80"), S("\xef\xbf\xbd\xef\xbf\xbd")},
    {CNET__ENC_UTF8, S("\xe2\x82\xe2\x82\xac"), S("\xef\xbf\xbd\xe2\x82\xac")},
    {CNET__ENC_ASCII, S("abc"), S("abc")},
    {CNET__ENC_ASCII, S("\xc3\xa9"), S("\xe9")},
    {CNET__ENC_ASCII, S("\xe2\x82\xac"), S("\xac")},
    {CNET__ENC_ASCII, S("\xf0\x9f\x98\x80"), S("=\x00")},
    {CNET__ENC_ASCII, S("\xff"), S("\xfd")},
    {CNET__ENC_LATIN1, S("abc"), S("abc")},
    {CNET__ENC_LATIN1, S("\xc3\xa9\xc3\xbf"), S("\xe9\xff")},
    {CNET__ENC_LATIN1, S("\xe2\x82\xac"), S("\xac")},
    {CNET__ENC_LATIN1, S("\xf0\x9f\x98\x80"), S("=\x00")},
    {CNET__ENC_LATIN1, S("\xff"), S("\xfd")},
    {CNET__ENC_LATIN1, S("a\x00"), S("a\x00")},
    {CNET__ENC_UTF16LE, S("A"), S("A\x00")},
    {CNET__ENC_UTF16LE, S("\xc3\xa9"), S("\xe9\x00")},
    {CNET__ENC_UTF16LE, S("\xe2\x82\xac"), S("\xac ")},
    {CNET__ENC_UTF16LE, S("\xf0\x9f\x98\x80"), S("=\xd8\x00\xde")},
    {CNET__ENC_UTF16LE, S("\xff"), S("\xfd\xff")},
    {CNET__ENC_UTF16LE, S(""), S("")},
    {CNET__ENC_HEX, S("00ff"), S("\x00\xff")},
    {CNET__ENC_HEX, S("ABcd"), S("\xab\xcd")},
    {CNET__ENC_HEX, S("abc"), S("\xab")},
    {CNET__ENC_HEX, S("ab c"), S("\xab")},
    {CNET__ENC_HEX, S("zz"), S("")},
    {CNET__ENC_HEX, S("0g12"), S("")},
    {CNET__ENC_HEX, S("1"), S("")},
    {CNET__ENC_HEX, S(""), S("")},
    {CNET__ENC_HEX, S("\xc4\xb0\xc4\xb1"), S("\x01")},
    {CNET__ENC_HEX, S("a\xc4\xb0"), S("\xa0")},
    {CNET__ENC_HEX, S("12\xff" "34"), S("\x12")},
    {CNET__ENC_BASE64, S("QUJD"), S("ABC")},
    {CNET__ENC_BASE64, S("QUJDRA=="), S("ABCD")},
    {CNET__ENC_BASE64, S("QUJDRA"), S("ABCD")},
    {CNET__ENC_BASE64, S("QUJDREU="), S("ABCDE")},
    {CNET__ENC_BASE64, S("QUJDREU"), S("ABCDE")},
    {CNET__ENC_BASE64, S("QQ"), S("A")},
    {CNET__ENC_BASE64, S("Q"), S("")},
    {CNET__ENC_BASE64, S("QUJDR"), S("ABC")},
    {CNET__ENC_BASE64, S(" Q U\x09J\nD "), S("ABC")},
    {CNET__ENC_BASE64, S("QQ=QUJD"), S("A")},
    {CNET__ENC_BASE64, S("QUJD====QQ"), S("ABC")},
    {CNET__ENC_BASE64, S("===="), S("")},
    {CNET__ENC_BASE64, S("-_-_"), S("\xfb\xff\xbf")},
    {CNET__ENC_BASE64, S("+/+/"), S("\xfb\xff\xbf")},
    {CNET__ENC_BASE64, S("QR=="), S("A")},
    {CNET__ENC_BASE64, S("QUJD!QUJD"), S("ABCABC")},
    {CNET__ENC_BASE64, S("\xc5\x81\xc5\x81\xc5\x81\xc5\x81"), S("\x00\x00\x00")},
    {CNET__ENC_BASE64, S("QUJD\xc4\xbdQUJD"), S("ABC")},
    {CNET__ENC_BASE64, S("\xff\xffQUJD"), S("ABC")},
    {CNET__ENC_BASE64, S("/w=="), S("\xff")},
    {CNET__ENC_BASE64, S(""), S("")},
    {CNET__ENC_BASE64URL, S("-_-_"), S("\xfb\xff\xbf")},
    {CNET__ENC_BASE64URL, S("+/+/"), S("\xfb\xff\xbf")},
    {CNET__ENC_BASE64URL, S("QUJDRA"), S("ABCD")},
    {CNET__ENC_BASE64URL, S("QUJDRA=="), S("ABCD")},
    {CNET__ENC_BASE64URL, S("_w"), S("\xff")},
    /* clang-format on */
};

static void test_encode(void)
{
    cnet__strbuf_t out = {0};
    char what[64];

    for (size_t i = 0; i < CNET__ARRAY_SIZE(enc_cases); i++) {
        const struct enc_case *c = &enc_cases[i];
        snprintf(what, sizeof what, "encode case %zu (%s)", i, cnet__enc_name(c->enc));
        cnet__strbuf_clear(&out);
        ASSERT_OK(cnet__enc_encode(c->enc, c->in, c->in_len, &out));
        if (c->out_len != out.len || memcmp(c->out, out.base, out.len) != 0)
            dump("input", c->in, c->in_len);
        expect_bytes(what, c->out, c->out_len, out.base, out.len);
        ASSERT_EQ('\0', out.base[out.len]);
    }
    /* Appends, never overwrites. */
    cnet__strbuf_clear(&out);
    ASSERT_OK(cnet__enc_encode(CNET__ENC_HEX, "41", 2, &out));
    ASSERT_OK(cnet__enc_encode(CNET__ENC_BASE64, "Qg==", 4, &out));
    ASSERT_OK(cnet__enc_encode(CNET__ENC_UTF8, NULL, 0, &out));
    ASSERT_STR_EQ("AB", out.base);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__enc_encode((cnet__enc_t)99, "x", 1, &out));
    ASSERT_STR_EQ("AB", out.base);
    cnet__strbuf_free(&out);
}

/* ---- decoder: StringDecoder write()... then end() ------------------------- */

#define MAX_CHUNKS 4

struct piece {
    const char *p;
    size_t n;
};

static const struct dec_case {
    cnet__enc_t enc;
    int nchunks;
    struct piece chunks[MAX_CHUNKS];
    struct piece outs[MAX_CHUNKS + 1]; /* one per write, then end() */
} dec_cases[] = {
    /*
     * utf8: a character cut at a chunk edge is held and completed; a byte
     * that cannot continue it flushes the held bytes as U+FFFD; C0 and F5 are
     * held (lead bytes by bit pattern) but F8 is not; end() turns held bytes
     * into one U+FFFD per maximal subpart.
     * utf16le: an odd byte or a trailing high surrogate is held; a pair is
     * only joined within one write() result (see test_utf16le_splits); end()
     * drops an odd byte and replaces a held lone high surrogate.
     * base64: whole 3-byte groups per write, the rest padded at end();
     * base64url is never padded. ascii clears bit 7 (Node v20).
     */
    /* clang-format off */
    {CNET__ENC_UTF8, 1, {P("abc")},
     {P("abc"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xe2\x82"), P("\xac")},
     {P(""), P("\xe2\x82\xac"), P("")}},
    {CNET__ENC_UTF8, 3, {P("\xe2"), P("\x82"), P("\xac")},
     {P(""), P(""), P("\xe2\x82\xac"), P("")}},
    {CNET__ENC_UTF8, 1, {P("\xe2\x82")},
     {P(""), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF8, 1, {P("\xf0\x9f\x98\x80")},
     {P("\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF8, 4, {P("\xf0"), P("\x9f"), P("\x98"), P("\x80")},
     {P(""), P(""), P(""), P("\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xf0\x9f"), P("A")},
     {P(""), P("\xef\xbf\xbd" "A"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xf0\x9f\x98"), P("\x80\xf0\x9f")},
     {P(""), P("\xf0\x9f\x98\x80"), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF8, 1, {P("\xc0")},
     {P(""), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF8, 2, {P("\xc0"), P("\x80")},
     {P(""), P("\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xed\xa0"), P("\x80")},
     {P(""), P("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 1, {P("a\xff")},
     {P("a\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xf5"), P("\x80\x80\x80")},
     {P(""), P("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xf8"), P("\x80")},
     {P("\xef\xbf\xbd"), P("\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 1, {P("\x80\x80\x80\x80\x80")},
     {P("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xe0"), P("\x80" "A")},
     {P(""), P("\xef\xbf\xbd\xef\xbf\xbd" "A"), P("")}},
    {CNET__ENC_UTF8, 3, {P("\xc3"), P(""), P("\xa9")},
     {P(""), P(""), P("\xc3\xa9"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xe2\x82"), P("\xacx\xe2")},
     {P(""), P("\xe2\x82\xacx"), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF8, 2, {P("\xf0\x90"), P("\x80\xf0")},
     {P(""), P("\xef\xbf\xbd"), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF8, 1, {P("x\x80\x80\x80")},
     {P("x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 1, {P("\xe0\x80\x80\x80")},
     {P("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF8, 2, {P("\xf4\x90"), P("\x80\x80")},
     {P(""), P("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("A\x00")},
     {P("A"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("A")},
     {P(""), P("")}},
    {CNET__ENC_UTF16LE, 2, {P("A"), P("\x00")},
     {P(""), P("A"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("=\xd8\x00\xde")},
     {P("\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF16LE, 2, {P("=\xd8"), P("\x00\xde")},
     {P(""), P("\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF16LE, 3, {P("="), P("\xd8"), P("\x00\xde")},
     {P(""), P("\xef\xbf\xbd"), P("\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF16LE, 2, {P("="), P("\xd8\x00\xde")},
     {P(""), P("\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("=\xd8")},
     {P(""), P("\xef\xbf\xbd")}},
    {CNET__ENC_UTF16LE, 1, {P("\x00\xde")},
     {P("\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("=\xd8" "A\x00")},
     {P("\xef\xbf\xbd" "A"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("=\xd8\x00")},
     {P("\xef\xbf\xbd"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("A\x00" "B")},
     {P("A"), P("")}},
    {CNET__ENC_UTF16LE, 2, {P("\xac"), P(" ")},
     {P(""), P("\xe2\x82\xac"), P("")}},
    {CNET__ENC_UTF16LE, 1, {P("=\xd8=\xd8\x00\xde")},
     {P("\xef\xbf\xbd\xf0\x9f\x98\x80"), P("")}},
    {CNET__ENC_UTF16LE, 2, {P("=\xd8"), P("=")},
     {P(""), P(""), P("\xef\xbf\xbd")}},
    {CNET__ENC_BASE64, 1, {P("A")},
     {P(""), P("QQ==")}},
    {CNET__ENC_BASE64, 1, {P("AB")},
     {P(""), P("QUI=")}},
    {CNET__ENC_BASE64, 1, {P("ABC")},
     {P("QUJD"), P("")}},
    {CNET__ENC_BASE64, 4, {P("A"), P("B"), P("C"), P("D")},
     {P(""), P(""), P("QUJD"), P(""), P("RA==")}},
    {CNET__ENC_BASE64, 1, {P("\xfb\xff")},
     {P(""), P("+/8=")}},
    {CNET__ENC_BASE64, 2, {P("ABCD"), P("E")},
     {P("QUJD"), P(""), P("REU=")}},
    {CNET__ENC_BASE64, 1, {P("")},
     {P(""), P("")}},
    {CNET__ENC_BASE64URL, 1, {P("A")},
     {P(""), P("QQ")}},
    {CNET__ENC_BASE64URL, 1, {P("\xfb\xff")},
     {P(""), P("-_8")}},
    {CNET__ENC_BASE64URL, 2, {P("AB"), P("CDE")},
     {P(""), P("QUJD"), P("REU")}},
    {CNET__ENC_BASE64URL, 1, {P("\xfb\xff\xbf")},
     {P("-_-_"), P("")}},
    {CNET__ENC_HEX, 1, {P("\x00\xff\xab")},
     {P("00ffab"), P("")}},
    {CNET__ENC_HEX, 2, {P(""), P("\x01")},
     {P(""), P("01"), P("")}},
    {CNET__ENC_ASCII, 1, {P("\xe9" "A\xff\x80")},
     {P("iA\x7f\x00"), P("")}},
    {CNET__ENC_ASCII, 1, {P("\x00\x7f")},
     {P("\x00\x7f"), P("")}},
    {CNET__ENC_LATIN1, 1, {P("\xe9\xff\x00\x80")},
     {P("\xc3\xa9\xc3\xbf\x00\xc2\x80"), P("")}},
    /* clang-format on */
};

static void test_decode(void)
{
    cnet__strbuf_t out = {0};
    cnet__decoder_t d;
    char what[64];

    for (size_t i = 0; i < CNET__ARRAY_SIZE(dec_cases); i++) {
        const struct dec_case *c = &dec_cases[i];
        cnet__decoder_init(&d, c->enc);
        for (int k = 0; k <= c->nchunks; k++) {
            snprintf(what, sizeof what, "decode case %zu (%s) %s %d", i, cnet__enc_name(c->enc),
                     k < c->nchunks ? "write" : "end", k);
            cnet__strbuf_clear(&out);
            if (k < c->nchunks)
                ASSERT_OK(cnet__decoder_write(&d, c->chunks[k].p, c->chunks[k].n, &out));
            else
                ASSERT_OK(cnet__decoder_end(&d, &out));
            expect_bytes(what, c->outs[k].p, c->outs[k].n, out.base, out.len);
            ASSERT_EQ('\0', out.base[out.len]);
            ASSERT(d.buffered <= 4);
        }
        ASSERT_EQ(0, d.buffered);
        ASSERT_EQ(0, d.missing);
    }
    cnet__strbuf_free(&out);
}

/* Decodes @p s cut at the positions in @p cuts (ascending), concatenating every write and end. */
static void decode_split(cnet__enc_t enc, const unsigned char *s, size_t n, const size_t *cuts,
                         size_t ncuts, cnet__strbuf_t *out)
{
    cnet__decoder_t d;
    size_t at = 0;

    cnet__decoder_init(&d, enc);
    cnet__strbuf_clear(out);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        ASSERT_OK(cnet__decoder_write(&d, s + at, end - at, out));
        ASSERT(d.buffered + d.missing <= 4);
        at = end;
    }
    ASSERT_OK(cnet__decoder_end(&d, out));
}

/*
 * UTF-8 split anywhere, into two or three chunks, must decode exactly as the
 * whole does (Node holds and completes characters; a split never adds or
 * removes a U+FFFD), and the whole must equal the encoder's sanitising.
 */
static void test_utf8_splits(void)
{
    static const struct piece samples[] = {
        P("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!"),
        P("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"),
        P("\xe2\x82\xe2\x82\xac\xf0\x9f\x98\xc3"),
        P("\xed\xa0\x80\xed\xbf\xbf\xed\x9f\xbf"),
        P("\xc0\x80\xc1\xbf\xc2\x80\xdf\xbf"),
        P("\xe0\x80\x80\xe0\xa0\x80\xef\xbf\xbf"),
        P("\xf0\x8f\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xf4\x90\x80\x80"),
        P("\xf5\x80\x80\x80\xf8\x80\x80\x80\x80\xff\xfe"),
        P("\x80\x80\x80\x80\x80\xbf"
          "a\x80"),
        P("\xf0\x9f\x98\x41\xe2\x41\xc3"),
        P("\xef\xbf\xbd\xef\xbf\xbe\xef\xbf"),
    };
    cnet__strbuf_t whole = {0}, split = {0}, enc = {0};

    for (size_t s = 0; s < CNET__ARRAY_SIZE(samples); s++) {
        const unsigned char *p = (const unsigned char *)samples[s].p;
        size_t n = samples[s].n;
        decode_split(CNET__ENC_UTF8, p, n, NULL, 0, &whole);
        ASSERT_OK(cnet__enc_encode(CNET__ENC_UTF8, samples[s].p, n, &enc));
        expect_bytes("utf8 decode vs encode", enc.base, enc.len, whole.base, whole.len);
        cnet__strbuf_clear(&enc);
        for (size_t i = 0; i <= n; i++) {
            for (size_t j = i; j <= n; j++) {
                size_t cuts[2] = {i, j};
                decode_split(CNET__ENC_UTF8, p, n, cuts, 2, &split);
                if (whole.len != split.len || memcmp(whole.base, split.base, whole.len)) {
                    fprintf(stderr, "sample %zu cut at %zu and %zu\n", s, i, j);
                    expect_bytes("utf8 split", whole.base, whole.len, split.base, split.len);
                }
            }
        }
        /* Byte by byte. */
        {
            size_t cuts[64];
            for (size_t i = 0; i < n; i++)
                cuts[i] = i + 1;
            decode_split(CNET__ENC_UTF8, p, n, cuts, n, &split);
            expect_bytes("utf8 byte by byte", whole.base, whole.len, split.base, split.len);
        }
    }
    cnet__strbuf_free(&whole);
    cnet__strbuf_free(&split);
    cnet__strbuf_free(&enc);
}

/*
 * utf16le is the one encoding where Node's output depends on the split: a
 * pair is joined only when both halves end up in one write() result. These
 * are Node's results for U+1F600 (3D D8 00 DE) cut every possible way.
 */
static void test_utf16le_splits(void)
{
    static const unsigned char pair[] = {0x3d, 0xd8, 0x00, 0xde};
    static const struct {
        size_t cuts[3];
        size_t ncuts;
        bool joined;
    } cases[] = {
        {{0}, 0, true},  {{1}, 1, true},     {{2}, 1, true},    {{1, 2}, 2, false},
        {{3}, 1, false}, {{1, 3}, 2, false}, {{2, 3}, 2, true}, {{1, 2, 3}, 3, false},
    };
    cnet__strbuf_t out = {0};

    for (size_t i = 0; i < CNET__ARRAY_SIZE(cases); i++) {
        decode_split(CNET__ENC_UTF16LE, pair, sizeof pair, cases[i].cuts, cases[i].ncuts, &out);
        if (cases[i].joined)
            expect_bytes("utf16le joined pair", "\xf0\x9f\x98\x80", 4, out.base, out.len);
        else
            expect_bytes("utf16le split pair", "\xef\xbf\xbd\xef\xbf\xbd", 6, out.base, out.len);
    }

    /* Without surrogates, any split gives the whole. "Aé€" plus an odd byte. */
    static const unsigned char bmp[] = {0x41, 0x00, 0xe9, 0x00, 0xac, 0x20, 0x42};
    cnet__strbuf_t whole = {0};
    decode_split(CNET__ENC_UTF16LE, bmp, sizeof bmp, NULL, 0, &whole);
    expect_bytes("utf16le whole", "A\xc3\xa9\xe2\x82\xac", 6, whole.base, whole.len);
    for (size_t i = 0; i <= sizeof bmp; i++) {
        for (size_t j = i; j <= sizeof bmp; j++) {
            size_t cuts[2] = {i, j};
            decode_split(CNET__ENC_UTF16LE, bmp, sizeof bmp, cuts, 2, &out);
            expect_bytes("utf16le bmp split", whole.base, whole.len, out.base, out.len);
        }
    }
    cnet__strbuf_free(&whole);
    cnet__strbuf_free(&out);
}

/* base64 and base64url: splits only move where groups are emitted; padding comes at end(). */
static void test_base64_splits(void)
{
    static const unsigned char data[] = {0xfb, 0xff, 0xbf, 0x00, 'A', 'B', 0x80, 0x7f, 0xfe, 0x3e};
    static const char *const want_std[] = {
        "",         "+w==",         "+/8=",         "+/+/",         "+/+/AA==",        "+/+/AEE=",
        "+/+/AEFC", "+/+/AEFCgA==", "+/+/AEFCgH8=", "+/+/AEFCgH/+", "+/+/AEFCgH/+Pg=="};
    static const char *const want_url[] = {
        "",         "-w",         "-_8",         "-_-_",         "-_-_AA",        "-_-_AEE",
        "-_-_AEFC", "-_-_AEFCgA", "-_-_AEFCgH8", "-_-_AEFCgH_-", "-_-_AEFCgH_-Pg"};
    cnet__strbuf_t out = {0};

    for (size_t n = 0; n <= sizeof data; n++) {
        for (size_t i = 0; i <= n; i++) {
            for (size_t j = i; j <= n; j++) {
                size_t cuts[2] = {i, j};
                decode_split(CNET__ENC_BASE64, data, n, cuts, 2, &out);
                ASSERT_STR_EQ(want_std[n], out.base);
                decode_split(CNET__ENC_BASE64URL, data, n, cuts, 2, &out);
                ASSERT_STR_EQ(want_url[n], out.base);
            }
        }
    }
    cnet__strbuf_free(&out);
}

/* end() leaves a clean decoder; reset() drops held bytes silently. */
static void test_end_and_reset(void)
{
    cnet__strbuf_t out = {0};
    cnet__decoder_t d;

    cnet__decoder_init(&d, CNET__ENC_UTF8);
    ASSERT_OK(cnet__decoder_write(&d, "\xe2\x82", 2, &out));
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_STR_EQ("\xef\xbf\xbd", out.base);
    ASSERT_OK(cnet__decoder_end(&d, &out)); /* nothing held: nothing added */
    ASSERT_OK(cnet__decoder_write(&d, "\xac", 1, &out));
    ASSERT_STR_EQ("\xef\xbf\xbd\xef\xbf\xbd", out.base);

    cnet__strbuf_clear(&out);
    ASSERT_OK(cnet__decoder_write(&d, "a\xf0\x9f\x98", 4, &out));
    cnet__decoder_reset(&d);
    ASSERT_OK(cnet__decoder_write(&d, "\x80", 1, &out));
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_STR_EQ("a\xef\xbf\xbd", out.base);

    cnet__strbuf_clear(&out);
    cnet__decoder_init(&d, CNET__ENC_BASE64);
    ASSERT_OK(cnet__decoder_write(&d, "AB", 2, &out));
    cnet__decoder_reset(&d);
    ASSERT_OK(cnet__decoder_write(&d, "C", 1, &out));
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_STR_EQ("Qw==", out.base);

    /* The stateless encodings hold nothing even mid-"character". */
    cnet__strbuf_clear(&out);
    cnet__decoder_init(&d, CNET__ENC_LATIN1);
    ASSERT_OK(cnet__decoder_write(&d, "\xc3", 1, &out));
    ASSERT_EQ(0, d.buffered);
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_STR_EQ("\xc3\x83", out.base);
    cnet__strbuf_free(&out);
}

/* Large inputs exercise buffer growth and the ASCII fast path. */
static void test_large(void)
{
    size_t n = 1 << 20;
    char *big = cnet__malloc(n);
    cnet__strbuf_t out = {0}, out2 = {0};
    cnet__decoder_t d;

    ASSERT(big != NULL);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n / 2] = (char)0xff;
    ASSERT_OK(cnet__enc_encode(CNET__ENC_UTF8, big, n, &out));
    ASSERT_EQ(n + 2, out.len);
    ASSERT_MEM_EQ("\xef\xbf\xbd", out.base + n / 2, 3);

    cnet__decoder_init(&d, CNET__ENC_UTF8);
    for (size_t at = 0; at < n; at += 4093)
        ASSERT_OK(cnet__decoder_write(&d, big + at, (at + 4093 < n ? 4093 : n - at), &out2));
    ASSERT_OK(cnet__decoder_end(&d, &out2));
    expect_bytes("large utf8", out.base, out.len, out2.base, out2.len);

    cnet__strbuf_clear(&out);
    cnet__strbuf_clear(&out2);
    cnet__decoder_init(&d, CNET__ENC_BASE64);
    ASSERT_OK(cnet__decoder_write(&d, big, n, &out));
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_OK(cnet__enc_encode(CNET__ENC_BASE64, out.base, out.len, &out2));
    expect_bytes("large base64 round trip", big, n, out2.base, out2.len);

    cnet__free(big);
    cnet__strbuf_free(&out);
    cnet__strbuf_free(&out2);
}

/* ---- allocation failure: nothing appended, no state changed --------------- */

static int fail_allocs;

static void *failing_malloc(size_t n)
{
    return fail_allocs ? NULL : malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
    return fail_allocs ? NULL : realloc(p, n);
}

static void *failing_calloc(size_t c, size_t n)
{
    return fail_allocs ? NULL : calloc(c, n);
}

static void test_oom(void)
{
    cnet__strbuf_t out = {0};
    cnet__decoder_t d, saved;

    ASSERT_OK(cnet_replace_allocator(failing_malloc, failing_realloc, failing_calloc, free));
    ASSERT_OK(cnet__strbuf_append(&out, "x", 1));

    cnet__decoder_init(&d, CNET__ENC_UTF8);
    ASSERT_OK(cnet__decoder_write(&d, "\xe2\x82", 2, &out));
    saved = d;
    fail_allocs = 1;
    {
        static char chunk[256];
        memset(chunk, 'a', sizeof chunk);
        chunk[0] = (char)0xac;
        ASSERT_ERR(CNET_ENOMEM, cnet__decoder_write(&d, chunk, sizeof chunk, &out));
        ASSERT_MEM_EQ(&saved, &d, sizeof d);
        ASSERT_EQ(1, out.len);
        ASSERT_STR_EQ("x", out.base);
        ASSERT_ERR(CNET_ENOMEM, cnet__enc_encode(CNET__ENC_UTF16LE, chunk, sizeof chunk, &out));
        ASSERT_EQ(1, out.len);
        fail_allocs = 0;
        ASSERT_OK(cnet__decoder_write(&d, chunk, sizeof chunk, &out));
        ASSERT_MEM_EQ("x\xe2\x82\xac"
                      "aaa",
                      out.base, 7);
        ASSERT_EQ(1 + 3 + 255, out.len);
    }
    /* Ending with a held character when memory is short keeps it held. */
    cnet__strbuf_free(&out);
    ASSERT_OK(cnet__decoder_write(&d, "\xf0\x9f", 2, &out));
    cnet__strbuf_free(&out);
    fail_allocs = 1;
    ASSERT_ERR(CNET_ENOMEM, cnet__decoder_end(&d, &out));
    ASSERT_EQ(2, d.buffered);
    fail_allocs = 0;
    ASSERT_OK(cnet__decoder_end(&d, &out));
    ASSERT_STR_EQ("\xef\xbf\xbd", out.base);
    cnet__strbuf_free(&out);
    ASSERT_OK(cnet_replace_allocator(malloc, realloc, calloc, free));
}

int main(void)
{
    test_watchdog(30);
    test_set_phase("parse");
    test_parse();
    test_set_phase("strbuf");
    test_strbuf();
    test_set_phase("encode");
    test_encode();
    test_set_phase("decode");
    test_decode();
    test_set_phase("utf8 splits");
    test_utf8_splits();
    test_set_phase("utf16le splits");
    test_utf16le_splits();
    test_set_phase("base64 splits");
    test_base64_splits();
    test_set_phase("end and reset");
    test_end_and_reset();
    test_set_phase("large");
    test_large();
    test_set_phase("oom");
    test_oom();
    printf("ok: %zu encode cases, %zu decode cases\n", CNET__ARRAY_SIZE(enc_cases),
           CNET__ARRAY_SIZE(dec_cases));
    return 0;
}
