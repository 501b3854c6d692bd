/*
 * The framing engine (src/codec/framing.c) on its own, without sockets.
 *
 * The core check is split-independence: the same stream, fed whole, split at
 * every position (and every pair of positions for short streams), a byte at
 * a time and in many random chunkings, must give the same sequence of frames
 * and errors, and that sequence must match a naive reference parser. Each
 * chunk is fed from its own exact-size allocation so ASan catches any read
 * past a chunk or any pointer kept after feed returns.
 *
 * Map: 1. recorder and runners  2. reference parsers  3. tests  4. main
 */
#include "harness.h"

#include "codec/framing.h"

#include <stdint.h>

/* ---- 1. Recorder and runners ---------------------------------------------- */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A string literal as pointer and length, for data with NUL or CR bytes. */
#define S(lit) (lit), (sizeof(lit) - 1)

/*
 * A log of what the framer produced, binary-safe: "<len>:<bytes>\n" per
 * frame and "!<code>\n" for an error or a stop, so two runs compare with
 * one memcmp.
 */
typedef struct rec {
    char *log;
    size_t len, cap;
    size_t frames;
    size_t stop_at; /* return stop_rc when the frame count reaches this; 0: never */
    int stop_rc;
    const char *chunk; /* the chunk being fed, for the zero-copy check */
    size_t chunk_len;
    size_t in_chunk; /* frames that pointed into the chunk */
} rec_t;

static void rec_put(rec_t *r, const void *p, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->log = realloc(r->log, r->cap);
        ASSERT(r->log != NULL);
    }
    if (n)
        memcpy(r->log + r->len, p, n);
    r->len += n;
    r->log[r->len] = '\0';
}

static void rec_frame(rec_t *r, const char *p, size_t n)
{
    char num[32];

    snprintf(num, sizeof num, "%zu:", n);
    rec_put(r, num, strlen(num));
    rec_put(r, p, n);
    rec_put(r, "\n", 1);
}

static void rec_code(rec_t *r, int code)
{
    char num[32];

    snprintf(num, sizeof num, "!%d\n", code);
    rec_put(r, num, strlen(num));
}

static void rec_free(rec_t *r)
{
    free(r->log);
    memset(r, 0, sizeof *r);
}

static void rec_expect(const rec_t *r, const rec_t *want, const char *what)
{
    if (r->len != want->len || (r->len && memcmp(r->log, want->log, r->len) != 0))
        TEST_FAIL_("%s: frame sequences differ\n--- want\n%s--- got\n%s", what,
                   want->log ? want->log : "", r->log ? r->log : "");
}

static int on_frame(void *ctx, const char *frame, size_t len)
{
    rec_t *r = ctx;

    ASSERT(frame != NULL);
    if (r->chunk && frame >= r->chunk && frame + len <= r->chunk + r->chunk_len)
        r->in_chunk++;
    rec_frame(r, frame, len);
    r->frames++;
    if (r->stop_at && r->frames == r->stop_at)
        return r->stop_rc;
    return 0;
}

/* Feeds one chunk from its own allocation; returns feed's result. */
static int feed_copy(cnet__framer_t *f, rec_t *r, const char *p, size_t n)
{
    char *c = n ? malloc(n) : NULL;
    int rc;

    if (n)
        memcpy(c, p, n);
    r->chunk = c;
    r->chunk_len = n;
    rc = cnet__framer_feed(f, c, n, on_frame, r);
    r->chunk = NULL;
    free(c);
    return rc;
}

/*
 * Runs @p stream through a fresh framer, cut at the ascending offsets
 * cuts[0..ncuts), then ends it. Errors go into the log and stop the run.
 */
static void run_cuts(const cnet_framing_opts_t *o, const char *stream, size_t n, const size_t *cuts,
                     size_t ncuts, rec_t *r)
{
    cnet__framer_t f;
    size_t prev = 0, i;
    int rc = 0;

    ASSERT_OK(cnet__framer_init(&f, o));
    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t at = i < ncuts ? cuts[i] : n;
        rc = feed_copy(&f, r, stream + prev, at - prev);
        prev = at;
    }
    if (rc == 0)
        rc = cnet__framer_end(&f, on_frame, r);
    if (rc != 0)
        rec_code(r, rc);
    cnet__framer_free(&f);
}

static void run_whole(const cnet_framing_opts_t *o, const char *stream, size_t n, rec_t *r)
{
    run_cuts(o, stream, n, NULL, 0, r);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static size_t rng_below(size_t n)
{
    return n ? (size_t)(rng() % n) : 0;
}

/*
 * Asserts that every way of cutting @p stream gives @p want: every single
 * cut, every pair of cuts (short streams), a byte at a time, and
 * @p nrandom random chunkings.
 */
static void check_splits(const cnet_framing_opts_t *o, const char *stream, size_t n,
                         const rec_t *want, unsigned nrandom)
{
    size_t *cuts = malloc((n + 2) * sizeof *cuts);
    size_t i, j, k;
    rec_t r;

    ASSERT(cuts != NULL);
    memset(&r, 0, sizeof r);
    run_whole(o, stream, n, &r);
    rec_expect(&r, want, "whole");
    rec_free(&r);

    for (i = 0; i <= n; i++) {
        cuts[0] = i;
        run_cuts(o, stream, n, cuts, 1, &r);
        rec_expect(&r, want, "one cut");
        rec_free(&r);
    }
    if (n <= 64) {
        for (i = 0; i <= n; i++) {
            for (j = i; j <= n; j++) {
                cuts[0] = i;
                cuts[1] = j;
                run_cuts(o, stream, n, cuts, 2, &r);
                rec_expect(&r, want, "two cuts");
                rec_free(&r);
            }
        }
    }
    for (i = 0; i < n; i++)
        cuts[i] = i + 1;
    run_cuts(o, stream, n, cuts, n ? n - 1 : 0, &r);
    rec_expect(&r, want, "byte at a time");
    rec_free(&r);

    for (k = 0; k < nrandom; k++) {
        size_t nc = 0, at = 0, maxc = 1 + rng_below(n / 2 + 2);
        for (;;) {
            at += 1 + rng_below(maxc);
            if (at >= n)
                break;
            cuts[nc++] = at;
        }
        run_cuts(o, stream, n, cuts, nc, &r);
        rec_expect(&r, want, "random cuts");
        rec_free(&r);
    }
    free(cuts);
}

/* ---- 2. Reference parsers: whole stream, naive, obviously right ----------- */

static void ref_lines(const char *s, size_t n, const char *d, size_t dlen, size_t max, rec_t *r)
{
    size_t start = 0, i;

    for (i = 0; i + dlen <= n; i++) {
        if (memcmp(s + i, d, dlen) != 0)
            continue;
        if (i - start > max) {
            rec_code(r, CNET_ERR_LINE_TOO_LONG);
            return;
        }
        rec_frame(r, s + start, i - start);
        start = i + dlen;
        i = start - 1;
    }
    if (n - start > max)
        rec_code(r, CNET_ERR_LINE_TOO_LONG);
    else if (n > start)
        rec_frame(r, s + start, n - start);
}

/* hb 0 means FIXED with records of @p max bytes. */
static void ref_counted(const char *s, size_t n, unsigned hb, bool le, size_t max, rec_t *r)
{
    size_t pos = 0, i;

    while (pos < n) {
        uint64_t v = max;
        if (n - pos < hb) {
            rec_code(r, CNET_ERR_STREAM_PREMATURE_CLOSE);
            return;
        }
        if (hb) {
            v = 0;
            for (i = 0; i < hb; i++)
                v = (v << 8) | (unsigned char)s[pos + (le ? hb - 1 - i : i)];
            if (v > max) {
                rec_code(r, CNET_ERR_FRAME_TOO_LARGE);
                return;
            }
        }
        pos += hb;
        if (n - pos < v) {
            rec_code(r, CNET_ERR_STREAM_PREMATURE_CLOSE);
            return;
        }
        rec_frame(r, s + pos, (size_t)v);
        pos += (size_t)v;
    }
}

static cnet_framing_opts_t lines_opts(const char *delim, size_t max)
{
    cnet_framing_opts_t o = CNET_FRAMING_OPTS_INIT;

    o.mode = CNET_FRAMING_LINES;
    o.delimiter = delim;
    o.max_size = max;
    return o;
}

static cnet_framing_opts_t lp_opts(unsigned hb, bool le, size_t max)
{
    cnet_framing_opts_t o = CNET_FRAMING_OPTS_INIT;

    o.mode = CNET_FRAMING_LENGTH_PREFIXED;
    o.header_bytes = hb;
    o.little_endian = le;
    o.max_size = max;
    return o;
}

static cnet_framing_opts_t fixed_opts(size_t size)
{
    cnet_framing_opts_t o = CNET_FRAMING_OPTS_INIT;

    o.mode = CNET_FRAMING_FIXED;
    o.record_size = size;
    return o;
}

/* Builds the expected log from "len:bytes\n" text written by hand. */
static void want_str(rec_t *w, const char *text)
{
    memset(w, 0, sizeof *w);
    rec_put(w, text, strlen(text));
}

/* ---- 3. Tests ------------------------------------------------------------- */

static void test_invalid_opts(void)
{
    cnet_framing_opts_t o;
    cnet__framer_t f;
    unsigned bad_hb[] = {0, 3, 5, 6, 7, 9, 16};
    size_t i;

    test_set_phase("invalid options");
    memset(&f, 0, sizeof f);
    for (i = 0; i < ARRAY_SIZE(bad_hb); i++) {
        o = lp_opts(bad_hb[i], false, 0);
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__framer_init(&f, &o));
    }
    o = fixed_opts(0);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__framer_init(&f, &o));
    o = lines_opts("", 0);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__framer_init(&f, &o));
    o = lines_opts(NULL, 0);
    o.delimiter_len = 2;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__framer_init(&f, &o));
    o = lines_opts(NULL, 0);
    o.mode = (cnet_framing_mode_t)42;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet__framer_init(&f, &o));
    /* A failed init leaves the framer alone. */
    ASSERT(!cnet__framer_active(&f));
    ASSERT(f.buf == NULL && f.delim_heap == NULL);

    /* NULL and NONE give an idle framer that ignores input. */
    ASSERT_OK(cnet__framer_init(&f, NULL));
    ASSERT(!cnet__framer_active(&f));
    ASSERT_OK(cnet__framer_feed(&f, "abc\n", 4, on_frame, NULL));
    ASSERT_OK(cnet__framer_end(&f, on_frame, NULL));
    cnet__framer_free(&f);
    cnet__framer_free(&f); /* idempotent */

    /* The valid edges. */
    for (i = 1; i <= 8; i *= 2) {
        o = lp_opts((unsigned)i, i == 4, 0);
        ASSERT_OK(cnet__framer_init(&f, &o));
        ASSERT(cnet__framer_active(&f));
        cnet__framer_free(&f);
    }
    /* An explicit delimiter_len allows NUL bytes in the delimiter. */
    o = lines_opts("\0\0", 0);
    o.delimiter_len = 2;
    ASSERT_OK(cnet__framer_init(&f, &o));
    cnet__framer_free(&f);
}

static void test_lines_basic(void)
{
    cnet_framing_opts_t o = lines_opts(NULL, 0);
    cnet__framer_t f;
    rec_t r, w;

    test_set_phase("lines basic");
    memset(&r, 0, sizeof r);
    want_str(&w, "5:hello\n0:\n5:world\n4:tail\n");
    run_whole(&o, S("hello\n\nworld\ntail"), &r);
    rec_expect(&r, &w, "lines default");
    rec_free(&r);
    rec_free(&w);

    /* Zero copy: whole lines point into the chunk; a spanning one does not. */
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "a\nbb\nccc\ndd", 11));
    ASSERT_EQ(3, r.frames);
    ASSERT_EQ(3, r.in_chunk);
    ASSERT_EQ(2, f.len); /* only the partial "dd" was copied */
    ASSERT_OK(feed_copy(&f, &r, "d\ne\n", 4));
    ASSERT_EQ(5, r.frames);
    ASSERT_EQ(4, r.in_chunk); /* "ddd" came from the framer's buffer, "e" did not */
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(5, r.frames); /* nothing trailing: no empty last frame */
    cnet__framer_free(&f);
    want_str(&w, "1:a\n2:bb\n3:ccc\n3:ddd\n1:e\n");
    rec_expect(&r, &w, "zero copy run");
    rec_free(&r);
    rec_free(&w);

    /* "\r\n": a lone '\r' is data; the delimiter split across feeds. */
    o = lines_opts("\r\n", 0);
    want_str(&w, "3:a\rb\n0:\n2:cd\n3:ef\r\n");
    check_splits(&o, S("a\rb\r\n\r\ncd\r\nef\r"), &w, 200);
    rec_free(&w);

    /* A delimiter that overlaps itself, longer than the inline storage. */
    o = lines_opts("--boundary--", 0);
    want_str(&w, "3:one\n4:-two\n14:--boundary-thr\n0:\n1:-\n");
    check_splits(&o, S("one--boundary---two--boundary----boundary-thr--boundary----boundary---"),
                 &w, 200);
    rec_free(&w);

    o = lines_opts("aab", 0);
    want_str(&w, "1:x\n2:aa\n1:a\n");
    check_splits(&o, S("xaabaaaabaaab"), &w, 100);
    rec_free(&w);
}

static void test_lines_max(void)
{
    cnet_framing_opts_t o = lines_opts("\r\n", 3);
    cnet__framer_t f;
    rec_t r, w;

    test_set_phase("lines max_size");
    memset(&r, 0, sizeof r);

    /* Exactly max_size is fine whatever the split, even with "\r" held back. */
    want_str(&w, "3:abc\n3:def\n");
    check_splits(&o, "abc\r\ndef\r\n", 10, &w, 50);
    rec_free(&w);

    /* Reported as soon as the line is known too long, not at the delimiter. */
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "abc", 3));
    ASSERT_OK(feed_copy(&f, &r, "\r", 1)); /* may still be the delimiter */
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, feed_copy(&f, &r, "x", 1));
    ASSERT_EQ(0, r.frames);
    cnet__framer_free(&f);

    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, feed_copy(&f, &r, "ab\r\nabcd", 8));
    ASSERT_EQ(1, r.frames); /* "ab" came first */
    cnet__framer_free(&f);
    rec_free(&r);

    /* At end, a held-back "\r" that never became "\r\n" counts. */
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "abc\r", 4));
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(0, r.frames);
    cnet__framer_free(&f);
    rec_free(&r);

    /* The same as whole-stream sequences, against every split. */
    want_str(&w, "2:ab\n!-5151\n");
    check_splits(&o, "ab\r\nabcd\r\nx\r\n", 13, &w, 50);
    rec_free(&w);
    want_str(&w, "3:abc\n!-5151\n");
    check_splits(&o, "abc\r\nabc\r", 9, &w, 50);
    rec_free(&w);

    /* Default max_size is 1 MiB: 1 MiB passes, 1 MiB + 1 does not. */
    {
        size_t n = ((size_t)1 << 20) + 2;
        char *big = malloc(n);
        cnet_framing_opts_t d = lines_opts(NULL, 0);

        ASSERT(big != NULL);
        memset(big, 'x', n);
        big[n - 1] = '\n';
        ASSERT_OK(cnet__framer_init(&f, &d));
        ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, cnet__framer_feed(&f, big, n, on_frame, &r));
        cnet__framer_free(&f);
        ASSERT_OK(cnet__framer_init(&f, &d));
        ASSERT_OK(cnet__framer_feed(&f, big + 1, n - 1, on_frame, &r));
        ASSERT_EQ(1, r.frames);
        /* Spanning feeds: the 1 MiB line is assembled, the buffer given back after. */
        ASSERT_OK(cnet__framer_feed(&f, big + 1, 1000, on_frame, &r));
        ASSERT_OK(cnet__framer_feed(&f, big + 1001, n - 1001, on_frame, &r));
        ASSERT_EQ(2, r.frames);
        ASSERT(f.cap == 0 && f.buf == NULL);
        ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, cnet__framer_feed(&f, big, n - 1, on_frame, &r));
        cnet__framer_free(&f);
        free(big);
        rec_free(&r);
    }
}

static void test_lp_basic(void)
{
    static const unsigned hbs[] = {1, 2, 4, 8};
    size_t i;
    rec_t w;

    test_set_phase("length-prefixed basic");
    for (i = 0; i < ARRAY_SIZE(hbs); i++) {
        unsigned hb = hbs[i];
        int le;
        for (le = 0; le <= 1; le++) {
            /* frames "abc", "" (zero-length), "hello", "", then "xy" */
            static const char *payloads[] = {"abc", "", "hello", "", "xy"};
            char s[128];
            size_t n = 0, k, b;
            cnet_framing_opts_t o = lp_opts(hb, le, 0);

            for (k = 0; k < ARRAY_SIZE(payloads); k++) {
                size_t pl = strlen(payloads[k]);
                for (b = 0; b < hb; b++)
                    s[n + (le ? b : hb - 1 - b)] = (char)(b == 0 ? pl : 0);
                n += hb;
                memcpy(s + n, payloads[k], pl);
                n += pl;
            }
            want_str(&w, "3:abc\n0:\n5:hello\n0:\n2:xy\n");
            check_splits(&o, s, n, &w, 100);
            rec_free(&w);
        }
    }

    /*
     * Zero copy: whole frames point into the chunk, and so does a payload
     * whose header was split off into the previous chunk.
     */
    {
        cnet_framing_opts_t o = lp_opts(2, false, 0);
        cnet__framer_t f;
        rec_t r;

        memset(&r, 0, sizeof r);
        ASSERT_OK(cnet__framer_init(&f, &o));
        ASSERT_OK(feed_copy(&f, &r, S("\0\1a\0\0\0\2bc\0")));
        ASSERT_EQ(3, r.frames);
        ASSERT_EQ(3, r.in_chunk);
        ASSERT_OK(feed_copy(&f, &r, S("\3xyz\0\2p")));
        ASSERT_EQ(4, r.frames);
        ASSERT_EQ(4, r.in_chunk); /* "xyz" too, though its header was split */
        ASSERT_EQ(1, f.len);      /* only the partial payload "p" was copied */
        ASSERT_OK(feed_copy(&f, &r, S("q")));
        ASSERT_EQ(5, r.frames);
        ASSERT_EQ(4, r.in_chunk);
        ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
        cnet__framer_free(&f);
        want_str(&w, "1:a\n0:\n2:bc\n3:xyz\n2:pq\n");
        rec_expect(&r, &w, "zero copy run");
        rec_free(&w);
        rec_free(&r);
    }

    /* Byte order, with a multi-byte length: 0x0102 = 258. */
    {
        char s[2 + 258];
        cnet_framing_opts_t o = lp_opts(2, false, 0);
        rec_t r, ref;

        memset(&r, 0, sizeof r);
        memset(&ref, 0, sizeof ref);
        memset(s, 'p', sizeof s);
        s[0] = 1;
        s[1] = 2;
        run_whole(&o, s, sizeof s, &r);
        ASSERT_EQ(1, r.frames);
        ASSERT(strncmp(r.log, "258:", 4) == 0);
        rec_free(&r);
        /* Read little-endian, the same bytes say 0x0201 = 513: premature close. */
        o = lp_opts(2, true, 0);
        run_whole(&o, s, sizeof s, &r);
        want_str(&ref, "!-5122\n");
        rec_expect(&r, &ref, "little-endian 513");
        rec_free(&r);
        rec_free(&ref);
    }
}

static void test_lp_too_large(void)
{
    static const unsigned char huge[][8] = {
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        {0x80, 0, 0, 0, 0, 0, 0, 0},
        {0, 0, 0, 1, 0, 0, 0, 0},
        {0, 0, 0, 0, 0, 0x10, 0, 1}, /* 1 MiB + 1 */
    };
    cnet_framing_opts_t o = lp_opts(8, false, 0);
    cnet__framer_t f;
    size_t i, b;
    rec_t r, w;

    test_set_phase("length-prefixed too large");
    memset(&r, 0, sizeof r);
    for (i = 0; i < ARRAY_SIZE(huge); i++) {
        /* Rejected when the last header byte arrives, with no payload yet. */
        ASSERT_OK(cnet__framer_init(&f, &o));
        for (b = 0; b < 7; b++)
            ASSERT_OK(feed_copy(&f, &r, (const char *)&huge[i][b], 1));
        ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, feed_copy(&f, &r, (const char *)&huge[i][7], 1));
        ASSERT(f.buf == NULL); /* nothing was allocated for the claimed size */
        cnet__framer_free(&f);
        ASSERT_OK(cnet__framer_init(&f, &o));
        ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE,
                   feed_copy(&f, &r, (const char *)huge[i], sizeof huge[i]));
        cnet__framer_free(&f);
    }
    ASSERT_EQ(0, r.frames);

    /* max_size itself is allowed, one more is not; also little-endian. */
    {
        char s[8 + 16 + 8];
        memset(s, 'z', sizeof s);
        memset(s, 0, 8);
        s[0] = 16; /* little-endian 16 */
        memset(s + 24, 0, 8);
        s[24] = 17;
        o = lp_opts(8, true, 16);
        want_str(&w, "16:zzzzzzzzzzzzzzzz\n!-5150\n");
        check_splits(&o, s, sizeof s, &w, 100);
        rec_free(&w);
    }

    /* A claimed length is not allocated up front: only what arrives is. */
    o = lp_opts(4, false, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "\x00\x10\x00\x00zz", 6)); /* claims 1 MiB */
    ASSERT(f.cap < 4096);
    ASSERT_ERR(CNET_ERR_STREAM_PREMATURE_CLOSE, cnet__framer_end(&f, on_frame, &r));
    cnet__framer_free(&f);
    rec_free(&r);
}

static void test_fixed(void)
{
    cnet_framing_opts_t o = fixed_opts(4);
    cnet__framer_t f;
    rec_t r, w;

    test_set_phase("fixed");
    want_str(&w, "4:abcd\n4:efgh\n");
    check_splits(&o, "abcdefgh", 8, &w, 50);
    rec_free(&w);
    want_str(&w, "4:abcd\n4:efgh\n!-5122\n");
    check_splits(&o, "abcdefghij", 10, &w, 50);
    rec_free(&w);
    o = fixed_opts(1);
    want_str(&w, "1:a\n1:\n\n1:b\n");
    check_splits(&o, "a\nb", 3, &w, 10);
    rec_free(&w);

    /* Zero copy for whole records, max_size is ignored. */
    o = fixed_opts(3);
    o.max_size = 1;
    memset(&r, 0, sizeof r);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "aaabbbc", 7));
    ASSERT_EQ(2, r.in_chunk);
    ASSERT_OK(feed_copy(&f, &r, "cc", 2));
    ASSERT_EQ(3, r.frames);
    ASSERT_EQ(2, r.in_chunk);
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    cnet__framer_free(&f);
    rec_free(&r);
}

static void test_sticky_errors(void)
{
    cnet_framing_opts_t o = lp_opts(1, false, 4);
    cnet__framer_t f;
    rec_t r;

    test_set_phase("sticky errors");
    memset(&r, 0, sizeof r);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, feed_copy(&f, &r, "\x05hello", 6));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, feed_copy(&f, &r, "\x01x", 2));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, feed_copy(&f, &r, "", 0));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(0, r.frames);
    cnet__framer_free(&f);

    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "\003ab", 3));
    ASSERT_ERR(CNET_ERR_STREAM_PREMATURE_CLOSE, cnet__framer_end(&f, on_frame, &r));
    ASSERT_ERR(CNET_ERR_STREAM_PREMATURE_CLOSE, feed_copy(&f, &r, "c", 1));
    ASSERT_ERR(CNET_ERR_STREAM_PREMATURE_CLOSE, cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(0, r.frames);
    cnet__framer_free(&f);

    /* A partial header alone is premature too. */
    o = lp_opts(4, false, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "\0\0", 2));
    ASSERT_ERR(CNET_ERR_STREAM_PREMATURE_CLOSE, cnet__framer_end(&f, on_frame, &r));
    cnet__framer_free(&f);

    /* Lines: errors are sticky as well. */
    o = lines_opts(NULL, 2);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, feed_copy(&f, &r, "abc", 3));
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, feed_copy(&f, &r, "\n", 1));
    ASSERT_ERR(CNET_ERR_LINE_TOO_LONG, cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(0, r.frames);
    cnet__framer_free(&f);

    /* end() on a clean boundary succeeds and a new stream may follow. */
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(feed_copy(&f, &r, "ab", 2));
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    ASSERT_OK(feed_copy(&f, &r, "c\n", 2));
    ASSERT_EQ(2, r.frames);
    cnet__framer_free(&f);
    rec_free(&r);
}

/* Random streams over a tiny alphabet, against the reference parsers. */
static void test_differential(void)
{
    static const struct {
        const char *delim;
        size_t max;
    } lines_cfg[] = {
        /*
         * Self-overlapping delimiters are the hard case for a split search;
         * the last one is longer than the framer's inline storage.
         */
        {"\n", 0},  {"\r\n", 0}, {"aa", 6},      {"aba", 5},         {"abab", 0},
        {"aab", 4}, {"b", 3},    {"abaabab", 9}, {"ababababab", 12},
    };
    char s[160];
    size_t c, it, i;
    rec_t want;

    test_set_phase("differential lines");
    for (c = 0; c < ARRAY_SIZE(lines_cfg); c++) {
        cnet_framing_opts_t o = lines_opts(lines_cfg[c].delim, lines_cfg[c].max);
        size_t max = lines_cfg[c].max ? lines_cfg[c].max : (size_t)1 << 20;
        for (it = 0; it < 40; it++) {
            size_t n = rng_below(sizeof s);
            for (i = 0; i < n; i++)
                s[i] = "ab\r\n"[rng_below(it % 2 ? 2 : 4)];
            memset(&want, 0, sizeof want);
            ref_lines(s, n, lines_cfg[c].delim, strlen(lines_cfg[c].delim), max, &want);
            check_splits(&o, s, n, &want, 20);
            rec_free(&want);
        }
    }

    test_set_phase("differential counted");
    for (c = 0; c < 9; c++) {
        unsigned hb = c < 8 ? 1u << (c / 2) : 0;
        bool le = c % 2;
        size_t max = 1 + c * 3;
        cnet_framing_opts_t o = hb ? lp_opts(hb, le, max) : fixed_opts(max);
        for (it = 0; it < 40; it++) {
            size_t n = 0;
            /* Mostly well-formed frames with small lengths, sometimes junk. */
            while (n + 8 + max + 2 < sizeof s && rng_below(8) != 0) {
                size_t pl = rng_below(max + 2), b;
                if (hb) {
                    for (b = 0; b < hb; b++) {
                        unsigned char byte = (unsigned char)(b == 0 ? pl : 0);
                        if (rng_below(50) == 0)
                            byte = (unsigned char)rng();
                        s[n + (le ? b : hb - 1 - b)] = (char)byte;
                    }
                    n += hb;
                } else {
                    pl = rng_below(4) ? max : rng_below(max);
                }
                for (b = 0; b < pl; b++)
                    s[n++] = (char)('a' + rng_below(26));
            }
            memset(&want, 0, sizeof want);
            ref_counted(s, n, hb, le, max, &want);
            check_splits(&o, s, n, &want, 20);
            rec_free(&want);
        }
    }
}

static void test_stop_by_callback(void)
{
    cnet_framing_opts_t o = lines_opts(NULL, 0);
    cnet__framer_t f;
    rec_t r, w;

    test_set_phase("stop by callback");
    memset(&r, 0, sizeof r);
    r.stop_at = 2;
    r.stop_rc = 7;
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_EQ(7, cnet__framer_feed(&f, "a\nb\nc\nd", 7, on_frame, &r));
    ASSERT_EQ(2, r.frames);
    /* The rest of that chunk is dropped; the framer is at a boundary. */
    ASSERT_EQ(0, f.len);
    ASSERT_OK(cnet__framer_feed(&f, "e\nf", 3, on_frame, &r));
    ASSERT_EQ(3, r.frames);
    /* Stop on a frame assembled in the buffer, then at end. */
    r.stop_at = 4;
    r.stop_rc = 1;
    ASSERT_EQ(1, cnet__framer_feed(&f, "g\nh\n", 4, on_frame, &r));
    ASSERT_EQ(4, r.frames);
    ASSERT_OK(cnet__framer_feed(&f, "i", 1, on_frame, &r));
    r.stop_at = 5;
    r.stop_rc = 3;
    ASSERT_EQ(3, cnet__framer_end(&f, on_frame, &r));
    ASSERT_EQ(5, r.frames);
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    cnet__framer_free(&f);
    want_str(&w, "1:a\n1:b\n1:e\n2:fg\n1:i\n");
    rec_expect(&r, &w, "stop");
    rec_free(&w);
    rec_free(&r);

    /* Length-prefixed: stop after a zero-copy frame and after a buffered one. */
    o = lp_opts(1, false, 0);
    memset(&r, 0, sizeof r);
    r.stop_at = 1;
    r.stop_rc = 9;
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_EQ(9, cnet__framer_feed(&f, "\x01x\x01y", 4, on_frame, &r));
    ASSERT_OK(cnet__framer_feed(&f, "\x02z", 2, on_frame, &r));
    r.stop_at = 2;
    ASSERT_EQ(9, cnet__framer_feed(&f, "z\x01w", 3, on_frame, &r));
    ASSERT_OK(cnet__framer_end(&f, on_frame, &r));
    cnet__framer_free(&f);
    want_str(&w, "1:x\n2:zz\n");
    rec_expect(&r, &w, "stop lp");
    rec_free(&w);
    rec_free(&r);
}

/*
 * A 'frame' listener calling cnet_socket_set_framing(): the callback
 * re-initialises the framer it is called from, and the rest of the chunk is
 * parsed with the new options.
 */
typedef struct switcher {
    rec_t rec;
    cnet__framer_t *f;
    int action; /* 1: switch to LENGTH_PREFIXED on "BIN"; 2: free on "STOP" */
} switcher_t;

static int switch_frame(void *ctx, const char *frame, size_t len)
{
    switcher_t *sw = ctx;
    cnet_framing_opts_t o = lp_opts(1, false, 0);
    cnet__framer_t nf;

    rec_frame(&sw->rec, frame, len);
    sw->rec.frames++;
    if (sw->action == 1 && len == 3 && memcmp(frame, "BIN", 3) == 0) {
        /* The socket's way: build, then swap, so a failure keeps the old one. */
        ASSERT_OK(cnet__framer_init(&nf, &o));
        cnet__framer_free(sw->f);
        *sw->f = nf;
    } else if (sw->action == 2 && len == 4 && memcmp(frame, "STOP", 4) == 0) {
        cnet__framer_free(sw->f);
    }
    return 0;
}

static void test_reinit_in_callback(void)
{
    static const char stream[] = "hi\nBIN\n\x02ok\x00\x03xyz";
    cnet_framing_opts_t o = lines_opts(NULL, 0);
    size_t n = sizeof stream - 1, cut;
    cnet__framer_t f;
    switcher_t sw;
    rec_t w;

    test_set_phase("re-init inside the callback");
    want_str(&w, "2:hi\n3:BIN\n2:ok\n0:\n3:xyz\n");
    for (cut = 0; cut <= n; cut++) {
        memset(&sw, 0, sizeof sw);
        sw.f = &f;
        sw.action = 1;
        ASSERT_OK(cnet__framer_init(&f, &o));
        ASSERT_OK(cnet__framer_feed(&f, stream, cut, switch_frame, &sw));
        ASSERT_OK(cnet__framer_feed(&f, stream + cut, n - cut, switch_frame, &sw));
        ASSERT_OK(cnet__framer_end(&f, switch_frame, &sw));
        ASSERT_EQ(CNET_FRAMING_LENGTH_PREFIXED, f.mode);
        cnet__framer_free(&f);
        rec_expect(&sw.rec, &w, "switch");
        rec_free(&sw.rec);
    }
    rec_free(&w);

    /* Freed inside the callback (the frame came from the buffer): the rest is ignored. */
    memset(&sw, 0, sizeof sw);
    sw.f = &f;
    sw.action = 2;
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_OK(cnet__framer_feed(&f, "a\nST", 4, switch_frame, &sw));
    ASSERT_OK(cnet__framer_feed(&f, "OP\nlost\n", 8, switch_frame, &sw));
    ASSERT(!cnet__framer_active(&f));
    ASSERT_OK(cnet__framer_end(&f, switch_frame, &sw));
    want_str(&w, "1:a\n4:STOP\n");
    rec_expect(&sw.rec, &w, "free in callback");
    rec_free(&w);
    rec_free(&sw.rec);
    cnet__framer_free(&f);
}

static void encode_ok(const cnet__framer_t *f, const char *payload, size_t len,
                      const char *want_prefix, size_t want_prefix_len, const char *want_suffix,
                      size_t want_suffix_len)
{
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    const char *suffix;
    size_t pl, sl;

    ASSERT_OK(cnet__framer_encode(f, payload, len, prefix, &pl, &suffix, &sl));
    ASSERT_EQ(want_prefix_len, pl);
    if (pl)
        ASSERT_MEM_EQ(want_prefix, prefix, pl);
    ASSERT_EQ(want_suffix_len, sl);
    if (sl)
        ASSERT_MEM_EQ(want_suffix, suffix, sl);
}

static int encode_err(const cnet__framer_t *f, const char *payload, size_t len)
{
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    const char *suffix;
    size_t pl, sl;

    return cnet__framer_encode(f, payload, len, prefix, &pl, &suffix, &sl);
}

/* Encodes @p payload, feeds prefix + payload + suffix back, expects it whole. */
static void roundtrip(const cnet_framing_opts_t *o, const char *payload, size_t len)
{
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    const char *suffix;
    size_t pl, sl;
    cnet__framer_t f;
    char wire[64];
    rec_t r, w;

    ASSERT_OK(cnet__framer_init(&f, o));
    ASSERT_OK(cnet__framer_encode(&f, payload, len, prefix, &pl, &suffix, &sl));
    ASSERT(pl + len + sl <= sizeof wire);
    memcpy(wire, prefix, pl);
    memcpy(wire + pl, payload, len);
    memcpy(wire + pl + len, suffix, sl);
    memset(&w, 0, sizeof w);
    rec_frame(&w, payload, len);
    check_splits(o, wire, pl + len + sl, &w, 10);
    rec_free(&w);
    /* Two frames back to back come apart again too. */
    memset(&r, 0, sizeof r);
    memcpy(wire + pl + len + sl, wire, pl + len + sl);
    ASSERT_OK(feed_copy(&f, &r, wire, 2 * (pl + len + sl)));
    ASSERT_EQ(2, r.frames);
    cnet__framer_free(&f);
    rec_free(&r);
}

static void test_encode(void)
{
    cnet_framing_opts_t o;
    cnet__framer_t f;

    test_set_phase("encode");
    o = lp_opts(1, false, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, "abc", 3, "\x03", 1, NULL, 0);
    encode_ok(&f, NULL, 0, "\x00", 1, NULL, 0);
    ASSERT_OK(encode_err(&f, NULL, 255));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, encode_err(&f, NULL, 256)); /* header can't say it */
    cnet__framer_free(&f);

    o = lp_opts(2, false, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, NULL, 0x0102, "\x01\x02", 2, NULL, 0);
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, encode_err(&f, NULL, 0x10000));
    cnet__framer_free(&f);
    o = lp_opts(2, true, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, NULL, 0x0102, "\x02\x01", 2, NULL, 0);
    cnet__framer_free(&f);
    o = lp_opts(4, false, 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, NULL, 0x0a0b0c, "\x00\x0a\x0b\x0c", 4, NULL, 0);
    ASSERT_OK(encode_err(&f, NULL, (size_t)1 << 20));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, encode_err(&f, NULL, ((size_t)1 << 20) + 1));
    cnet__framer_free(&f);
    o = lp_opts(8, true, SIZE_MAX);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, NULL, 0x0a0b0c, "\x0c\x0b\x0a\x00\x00\x00\x00\x00", 8, NULL, 0);
    cnet__framer_free(&f);
    o = lp_opts(8, false, SIZE_MAX);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, NULL, 0x0a0b0c, "\x00\x00\x00\x00\x00\x0a\x0b\x0c", 8, NULL, 0);
    cnet__framer_free(&f);

    o = lines_opts("\r\n", 8);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, "hello", 5, NULL, 0, "\r\n", 2);
    encode_ok(&f, NULL, 0, NULL, 0, "\r\n", 2);
    encode_ok(&f, "a\r", 2, NULL, 0, "\r\n", 2); /* reads back as "a\r" */
    encode_ok(&f, "a\nb", 3, NULL, 0, "\r\n", 2);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "a\r\nb", 4));
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, encode_err(&f, "123456789", 9));
    cnet__framer_free(&f);
    o = lines_opts("aa", 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "xa", 2)); /* "xaaa" reads "x" */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "a", 1));
    encode_ok(&f, "ax", 2, NULL, 0, "aa", 2);
    cnet__framer_free(&f);
    o = lines_opts("--boundary--", 0);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, "x--", 3, NULL, 0, "--boundary--", 12);
    encode_ok(&f, "x--bound", 8, NULL, 0, "--boundary--", 12);
    /* "x--boundary" + "--boundary--" reads back as "x". */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "x--boundary", 11));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "x--boundary-", 12));
    cnet__framer_free(&f);

    o = fixed_opts(4);
    ASSERT_OK(cnet__framer_init(&f, &o));
    encode_ok(&f, "abcd", 4, NULL, 0, NULL, 0);
    ASSERT_ERR(CNET_ERR_FRAME_TOO_LARGE, encode_err(&f, "abcde", 5));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "abc", 3));
    cnet__framer_free(&f);

    ASSERT_OK(cnet__framer_init(&f, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, encode_err(&f, "x", 1));
    cnet__framer_free(&f);

    /* What encode accepts, feed returns unchanged. */
    o = lines_opts("\r\n", 0);
    roundtrip(&o, "a\r", 2);
    roundtrip(&o, "", 0);
    o = lines_opts("aab", 0);
    roundtrip(&o, "xaa", 3);
    roundtrip(&o, "aaaa", 4);
    o = lp_opts(2, true, 0);
    roundtrip(&o, "payload", 7);
    roundtrip(&o, "", 0);
    o = lp_opts(8, false, 0);
    roundtrip(&o, "p", 1);
    o = lines_opts("--boundary--", 0);
    roundtrip(&o, "x--", 3);
    roundtrip(&o, "x--bound", 8);
    o = fixed_opts(5);
    roundtrip(&o, "12345", 5);
}

/* A long frame arriving a byte at a time must cost linear time, not quadratic. */
static void test_trickle(void)
{
    size_t n = 300000, i;
    cnet_framing_opts_t o = lines_opts("\r\n", 0);
    cnet__framer_t f;
    char *s = malloc(n);
    rec_t r;

    test_set_phase("trickle");
    ASSERT(s != NULL);
    memset(&r, 0, sizeof r);
    for (i = 0; i < n; i++)
        s[i] = "ab\r"[i % 3];
    s[n - 2] = '\r';
    s[n - 1] = '\n';
    ASSERT_OK(cnet__framer_init(&f, &o));
    for (i = 0; i < n; i++)
        ASSERT_OK(cnet__framer_feed(&f, s + i, 1, on_frame, &r));
    ASSERT_EQ(1, r.frames);
    ASSERT_EQ(0, memcmp(r.log, "299998:", 7));
    cnet__framer_free(&f);
    rec_free(&r);

    o = lp_opts(4, false, 0);
    s[0] = 0; /* 299 000, big-endian */
    s[1] = (char)(299000 >> 16);
    s[2] = (char)(299000 >> 8 & 0xff);
    s[3] = (char)(299000 & 0xff);
    ASSERT_OK(cnet__framer_init(&f, &o));
    for (i = 0; i < 4 + 299000; i++)
        ASSERT_OK(cnet__framer_feed(&f, s + i, 1, on_frame, &r));
    ASSERT_EQ(1, r.frames);
    cnet__framer_free(&f);
    rec_free(&r);
    free(s);
}

/* ---- allocation failures: ENOMEM, sticky, nothing leaked ---------------- */

static long fail_after = -1; /* allocations left before failing; -1: never */

static int should_fail(void)
{
    if (fail_after < 0)
        return 0;
    return fail_after-- == 0;
}

static void *t_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

static void *t_calloc(size_t c, size_t n)
{
    return should_fail() ? NULL : calloc(c, n);
}

static void test_oom(void)
{
    cnet_framing_opts_t o = lines_opts("0123456789", 0); /* heap delimiter */
    cnet__framer_t f;
    rec_t r;
    long n;
    int done = 0;

    test_set_phase("out of memory");
    ASSERT_OK(cnet_replace_allocator(t_malloc, t_realloc, t_calloc, free));
    for (n = 0; !done; n++) {
        int rc;

        memset(&r, 0, sizeof r);
        memset(&f, 0, sizeof f);
        fail_after = n;
        rc = cnet__framer_init(&f, &o);
        if (rc == CNET_ENOMEM) {
            ASSERT(!cnet__framer_active(&f)); /* untouched */
            continue;
        }
        ASSERT_OK(rc);
        rc = cnet__framer_feed(&f, "abc", 3, on_frame, &r);
        if (rc == 0)
            rc = cnet__framer_feed(&f, "def01234", 8, on_frame, &r);
        if (rc == 0)
            rc = cnet__framer_feed(&f, "56789", 5, on_frame, &r);
        if (rc == CNET_ENOMEM) {
            /* Sticky: the stream lost bytes and must not go on. */
            ASSERT_ERR(CNET_ENOMEM, cnet__framer_feed(&f, "x", 1, on_frame, &r));
            ASSERT_ERR(CNET_ENOMEM, cnet__framer_end(&f, on_frame, &r));
        } else {
            ASSERT_OK(rc);
            ASSERT_EQ(1, r.frames);
            done = 1;
        }
        cnet__framer_free(&f);
        rec_free(&r);
    }
    ASSERT(n >= 3); /* the delimiter and the buffer were both allocations */
    fail_after = -1;
    ASSERT_OK(cnet_replace_allocator(malloc, realloc, calloc, free));
}

/* ---- 4. main ---------------------------------------------------------------- */

int main(void)
{
    test_watchdog(20);
    test_invalid_opts();
    test_lines_basic();
    test_lines_max();
    test_lp_basic();
    test_lp_too_large();
    test_fixed();
    test_sticky_errors();
    test_differential();
    test_stop_by_callback();
    test_reinit_in_callback();
    test_encode();
    test_trickle();
    test_oom();
    printf("ok\n");
    return 0;
}
