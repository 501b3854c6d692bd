/*
 * The framing engine (src/codec/framing.c: lines, length-prefixed, fixed)
 * under libFuzzer. The input chooses every option and where the stream is
 * cut:
 *
 *   byte 0   mode: NONE, LINES, LENGTH_PREFIXED, FIXED or an unknown one
 *   byte 1   bits 0-2 header_bytes (1, 2, 4, 8, or invalid 0, 3, 5, 16),
 *            bit 3 little_endian, bits 4-5 max_size kind (default, small,
 *            SIZE_MAX, 65536), bit 6 delimiter NULL, bit 7 delimiter_len 0
 *            (strlen)
 *   byte 2   small max_size / record_size (0 stays 0: default or invalid)
 *   byte 3   delimiter length (0-15), then that many delimiter bytes
 *   next     k (0-15) and k chunk lengths (0-255, 0 is an empty feed),
 *            a frame index at which the callback stops feeding
 *   rest     the stream
 *
 * Invariants:
 *   - init refuses exactly the documented bad options, with
 *     CNET_ERR_INVALID_ARG_VALUE, leaving the framer untouched;
 *   - one-shot feed + end gives the frames and the error of an independent,
 *     deliberately naive reference parser of the whole stream;
 *   - the stream fed in the fuzzed chunks gives the same frames and error;
 *     errors are sticky (a later feed or end returns the same code and
 *     delivers nothing);
 *   - no frame is over max_size (LINES, LENGTH_PREFIXED) and every FIXED
 *     frame is record_size;
 *   - a callback returning nonzero stops the feed after that frame: the
 *     rest of the stream fed from that frame's end gives the rest of the frames;
 *   - encode is exact: it accepts a payload precisely when prefix + payload
 *     + suffix reads back as that one frame (and refuses with the documented
 *     code otherwise), checked on every frame and on a fuzzed payload.
 */
#include "fuzz_common.h"

#include "codec/framing.h"

#include <stdint.h>

typedef struct {
    size_t n, max_n;
    size_t *off; /* start of each frame in the log */
    size_t *len;
    size_t *end; /* reference only: stream offset just after the frame */
    char *log;   /* the frames' bytes, back to back */
    size_t log_len, log_cap;
    size_t stop_at; /* callback returns 1 on this frame (index), SIZE_MAX: never */
    size_t max_seen;
} frames_t;

/* Room for the frames of a stream of @p cap bytes: each frame consumes at least one. */
static void frames_init(frames_t *fr, size_t cap)
{
    memset(fr, 0, sizeof *fr);
    fr->max_n = cap + 2;
    fr->off = malloc(3 * fr->max_n * sizeof(size_t));
    FUZZ_CHECK(fr->off != NULL);
    fr->len = fr->off + fr->max_n;
    fr->end = fr->len + fr->max_n;
    fr->log_cap = cap ? cap : 1;
    fr->log = malloc(fr->log_cap);
    FUZZ_CHECK(fr->log != NULL);
    fr->stop_at = SIZE_MAX;
}

static void frames_free(frames_t *fr)
{
    free(fr->log);
    free(fr->off);
}

static void frames_add(frames_t *fr, const char *p, size_t len, size_t end)
{
    FUZZ_CHECK(fr->n < fr->max_n);
    FUZZ_CHECK(fr->log_len + len <= fr->log_cap);
    if (len)
        memcpy(fr->log + fr->log_len, p, len);
    fr->off[fr->n] = fr->log_len;
    fr->len[fr->n] = len;
    fr->end[fr->n] = end;
    fr->log_len += len;
    fr->n++;
    if (len > fr->max_seen)
        fr->max_seen = len;
}

static int on_frame(void *ctx, const char *frame, size_t len)
{
    frames_t *fr = ctx;
    size_t i = fr->n;

    FUZZ_CHECK(frame != NULL);
    frames_add(fr, frame, len, 0);
    return i == fr->stop_at ? 1 : 0;
}

/* Frames i.. of @p a equal frames j.. of @p b, to the end of both. */
static bool frames_tail_eq(const frames_t *a, size_t i, const frames_t *b, size_t j)
{
    if (a->n - i != b->n - j)
        return false;
    for (; i < a->n; i++, j++) {
        if (a->len[i] != b->len[j] ||
            memcmp(a->log + a->off[i], b->log + b->off[j], a->len[i]) != 0)
            return false;
    }
    return true;
}

typedef struct {
    int mode; /* as given, may be invalid */
    cnet_framing_opts_t opts;
    bool valid;
    size_t max;    /* effective max_size (LINES, LENGTH_PREFIXED) or record_size */
    const char *d; /* effective delimiter */
    size_t dlen;
    unsigned hb;
    bool le;
} config_t;

/* ---- the reference: whole stream at once, straight from the documentation ---- */

static const char *naive_find(const char *p, size_t n, const char *d, size_t dlen)
{
    for (size_t i = 0; i + dlen <= n; i++)
        if (memcmp(p + i, d, dlen) == 0)
            return p + i;
    return NULL;
}

static int reference(const config_t *c, const char *s, size_t n, frames_t *out)
{
    size_t pos = 0;

    switch (c->mode) {
    case CNET_FRAMING_LINES:
        for (;;) {
            const char *h = naive_find(s + pos, n - pos, c->d, c->dlen);
            size_t len = h ? (size_t)(h - (s + pos)) : n - pos;
            if (!h && len == 0)
                return 0;
            if (len > c->max)
                return CNET_ERR_LINE_TOO_LONG;
            frames_add(out, s + pos, len, h ? pos + len + c->dlen : n);
            if (!h)
                return 0; /* the trailing partial line, emitted at end */
            pos += len + c->dlen;
        }
    case CNET_FRAMING_LENGTH_PREFIXED:
        while (pos < n) {
            uint64_t v = 0;
            if (n - pos < c->hb)
                return CNET_ERR_STREAM_PREMATURE_CLOSE;
            for (unsigned i = 0; i < c->hb; i++) {
                unsigned char b = (unsigned char)s[pos + (c->le ? c->hb - 1 - i : i)];
                v = v << 8 | b;
            }
            if (v > (uint64_t)c->max)
                return CNET_ERR_FRAME_TOO_LARGE;
            if (n - pos - c->hb < v)
                return CNET_ERR_STREAM_PREMATURE_CLOSE;
            frames_add(out, s + pos + c->hb, (size_t)v, pos + c->hb + (size_t)v);
            pos += c->hb + (size_t)v;
        }
        return 0;
    case CNET_FRAMING_FIXED:
        while (n - pos >= c->max) {
            frames_add(out, s + pos, c->max, pos + c->max);
            pos += c->max;
        }
        return pos == n ? 0 : CNET_ERR_STREAM_PREMATURE_CLOSE;
    default:
        return 0;
    }
}

/* ---- running the engine -------------------------------------------------- */

/* Feeds @p s in the given chunks (the rest as the last one), then ends. */
static int run(const config_t *c, const char *s, size_t n, const uint8_t *cuts, size_t ncuts,
               frames_t *out)
{
    cnet__framer_t f;
    size_t pos = 0;
    int rc = 0;

    FUZZ_OK(cnet__framer_init(&f, &c->opts));
    for (size_t i = 0; i <= ncuts && rc == 0; i++) {
        size_t len = i < ncuts ? cuts[i] : n - pos;
        if (len > n - pos)
            len = n - pos;
        rc = cnet__framer_feed(&f, len ? s + pos : NULL, len, on_frame, out);
        pos += len;
    }
    if (rc == 0)
        rc = cnet__framer_end(&f, on_frame, out);
    if (rc < 0) {
        /* Sticky, and silent. */
        size_t before = out->n;
        FUZZ_CHECK(cnet__framer_feed(&f, "x\n", 2, on_frame, out) == rc);
        FUZZ_CHECK(cnet__framer_end(&f, on_frame, out) == rc);
        FUZZ_CHECK(out->n == before);
    }
    cnet__framer_free(&f);
    return rc;
}

/* True when @p payload framed by encode reads back as exactly that one frame. */
static bool reads_back(const config_t *c, const char *payload, size_t len)
{
    frames_t fr;
    size_t n = len + c->dlen + CNET__FRAMER_PREFIX_MAX;
    char *wire = malloc(n ? n : 1);
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    const char *suffix;
    size_t plen, slen;
    cnet__framer_t f;
    bool ok;

    FUZZ_CHECK(wire != NULL);
    FUZZ_OK(cnet__framer_init(&f, &c->opts));
    FUZZ_OK(cnet__framer_encode(&f, payload, len, prefix, &plen, &suffix, &slen));
    FUZZ_CHECK(plen <= CNET__FRAMER_PREFIX_MAX && slen <= c->dlen);
    memcpy(wire, prefix, plen);
    if (len)
        memcpy(wire + plen, payload, len);
    memcpy(wire + plen + len, suffix, slen);
    frames_init(&fr, plen + len + slen);
    ok = reference(c, wire, plen + len + slen, &fr) == 0 && fr.n == 1 && fr.len[0] == len &&
         memcmp(fr.log, payload, len) == 0;
    frames_free(&fr);
    cnet__framer_free(&f);
    free(wire);
    return ok;
}

static void check_encode(const config_t *c, const char *payload, size_t len)
{
    cnet__framer_t f;
    unsigned char prefix[CNET__FRAMER_PREFIX_MAX];
    const char *suffix;
    size_t plen, slen;
    int rc;

    FUZZ_OK(cnet__framer_init(&f, &c->opts));
    rc = cnet__framer_encode(&f, payload, len, prefix, &plen, &suffix, &slen);
    cnet__framer_free(&f);
    FUZZ_CHECK(suffix != NULL);
    switch (c->mode) {
    case CNET_FRAMING_LINES:
        if (len > c->max) {
            FUZZ_CHECK(rc == CNET_ERR_FRAME_TOO_LARGE);
            return;
        }
        break;
    case CNET_FRAMING_LENGTH_PREFIXED:
        if (len > c->max || (c->hb < 8 && (uint64_t)len >> (8 * c->hb))) {
            FUZZ_CHECK(rc == CNET_ERR_FRAME_TOO_LARGE);
            return;
        }
        break;
    case CNET_FRAMING_FIXED:
        FUZZ_CHECK(rc == (len > c->max   ? CNET_ERR_FRAME_TOO_LARGE
                          : len < c->max ? CNET_ERR_INVALID_ARG_VALUE
                                         : 0));
        break;
    default:
        FUZZ_CHECK(rc == CNET_ERR_INVALID_ARG_VALUE);
        return;
    }
    if (rc == 0)
        FUZZ_CHECK(reads_back(c, payload, len));
    else if (c->mode == CNET_FRAMING_LINES) {
        FUZZ_CHECK(rc == CNET_ERR_INVALID_ARG_VALUE);
        /* Refused only when the frame would not come back whole. */
        frames_t fr;
        size_t n = len + c->dlen;
        char *wire = malloc(n);
        FUZZ_CHECK(wire != NULL);
        memcpy(wire, payload, len);
        memcpy(wire + len, c->d, c->dlen);
        frames_init(&fr, n);
        FUZZ_CHECK(!(reference(c, wire, n, &fr) == 0 && fr.n == 1 && fr.len[0] == len));
        frames_free(&fr);
        free(wire);
    }
}

/* ---- options from the input ---------------------------------------------- */

static bool parse_config(const uint8_t **pp, size_t *left, config_t *c, char *delim)
{
    static const unsigned hbs[8] = {1, 2, 4, 8, 0, 3, 5, 16};
    static const int modes[8] = {CNET_FRAMING_NONE,
                                 CNET_FRAMING_LINES,
                                 CNET_FRAMING_LINES,
                                 CNET_FRAMING_LENGTH_PREFIXED,
                                 CNET_FRAMING_LENGTH_PREFIXED,
                                 CNET_FRAMING_FIXED,
                                 CNET_FRAMING_FIXED,
                                 7};
    const uint8_t *p = *pp;
    size_t dl;

    if (*left < 4)
        return false;
    memset(c, 0, sizeof *c);
    c->opts = (cnet_framing_opts_t)CNET_FRAMING_OPTS_INIT;
    c->mode = modes[p[0] & 7];
    c->opts.mode = (cnet_framing_mode_t)c->mode;
    c->opts.header_bytes = hbs[p[1] & 7];
    c->opts.little_endian = p[1] & 8;
    switch ((p[1] >> 4) & 3) {
    case 0:
        c->opts.max_size = 0;
        break;
    case 1:
        c->opts.max_size = p[2];
        break;
    case 2:
        c->opts.max_size = SIZE_MAX;
        break;
    default:
        c->opts.max_size = 65536;
    }
    c->opts.record_size = p[2];
    dl = p[3] & 15;
    if (*left - 4 < dl)
        return false;
    memcpy(delim, p + 4, dl);
    delim[dl] = '\0';
    c->opts.delimiter = p[1] & 0x40 ? NULL : delim;
    c->opts.delimiter_len = p[1] & 0x80 ? 0 : dl;
    *pp = p + 4 + dl;
    *left -= 4 + dl;

    /* The documented rules, independently. */
    c->hb = c->opts.header_bytes;
    c->le = c->opts.little_endian;
    c->max = c->opts.max_size ? c->opts.max_size : (size_t)1 << 20;
    switch (c->mode) {
    case CNET_FRAMING_NONE:
        c->valid = true;
        break;
    case CNET_FRAMING_LINES:
        if (!c->opts.delimiter) {
            c->valid = c->opts.delimiter_len == 0;
            c->d = "\n";
            c->dlen = 1;
        } else {
            c->d = delim;
            c->dlen = c->opts.delimiter_len ? c->opts.delimiter_len : strlen(delim);
            c->valid = c->dlen > 0;
        }
        break;
    case CNET_FRAMING_LENGTH_PREFIXED:
        c->valid = c->hb == 1 || c->hb == 2 || c->hb == 4 || c->hb == 8;
        break;
    case CNET_FRAMING_FIXED:
        c->valid = c->opts.record_size > 0;
        c->max = c->opts.record_size;
        break;
    default:
        c->valid = false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t c;
    char delim[16];
    cnet__framer_t f, before;
    const uint8_t *p = data, *cuts;
    size_t left = size, ncuts, stop;
    frames_t ref, one, chunked;
    int ref_rc, rc;

    if (!parse_config(&p, &left, &c, delim) || left < 2)
        return 0;
    ncuts = p[0] & 15;
    if (left < 2 + ncuts)
        return 0;
    cuts = p + 1;
    stop = p[1 + ncuts];
    p += 2 + ncuts;
    left -= 2 + ncuts;
    const char *s = (const char *)p;
    size_t n = left;

    /* init: exactly the documented refusals, and nothing touched on failure. */
    memset(&f, 0xA5, sizeof f);
    before = f;
    rc = cnet__framer_init(&f, &c.opts);
    if (!c.valid) {
        FUZZ_CHECK(rc == CNET_ERR_INVALID_ARG_VALUE);
        FUZZ_CHECK(memcmp(&f, &before, sizeof f) == 0);
        return 0;
    }
    FUZZ_OK(rc);
    FUZZ_CHECK(cnet__framer_active(&f) == (c.mode != CNET_FRAMING_NONE));
    cnet__framer_free(&f);

    frames_init(&ref, n);
    frames_init(&one, n);
    frames_init(&chunked, n);
    ref_rc = reference(&c, s, n, &ref);

    rc = run(&c, s, n, NULL, 0, &one);
    if (rc != ref_rc || !frames_tail_eq(&one, 0, &ref, 0)) {
        fprintf(stderr, "one-shot: rc %d (reference %d), %zu frames (reference %zu)\n", rc, ref_rc,
                one.n, ref.n);
        abort();
    }
    rc = run(&c, s, n, cuts, ncuts, &chunked);
    if (rc != ref_rc || !frames_tail_eq(&chunked, 0, &ref, 0)) {
        fprintf(stderr, "chunked: rc %d (reference %d), %zu frames (reference %zu)\n", rc, ref_rc,
                chunked.n, ref.n);
        abort();
    }
    if (c.mode == CNET_FRAMING_FIXED)
        for (size_t i = 0; i < ref.n; i++)
            FUZZ_CHECK(ref.len[i] == c.max);
    else
        FUZZ_CHECK(ref.max_seen <= c.max);

    /* Stopping at frame `stop`, then feeding on from the end of that frame. */
    if (stop < ref.n) {
        frames_t st;
        frames_init(&st, n);
        st.stop_at = stop;
        FUZZ_OK(cnet__framer_init(&f, &c.opts));
        rc = cnet__framer_feed(&f, s, n, on_frame, &st);
        if (rc == 0) /* the frame came from end(): the trailing line */
            rc = cnet__framer_end(&f, on_frame, &st);
        FUZZ_CHECK(rc == 1 && st.n == stop + 1);
        st.stop_at = SIZE_MAX;
        size_t from = ref.end[stop];
        rc = cnet__framer_feed(&f, n - from ? s + from : NULL, n - from, on_frame, &st);
        if (rc == 0)
            rc = cnet__framer_end(&f, on_frame, &st);
        FUZZ_CHECK(rc == ref_rc && frames_tail_eq(&st, 0, &ref, 0));
        cnet__framer_free(&f);
        frames_free(&st);
    }

    /* encode: on every frame (a few), and on a fuzzed payload. */
    for (size_t i = 0; i < ref.n && i < 8; i++)
        check_encode(&c, ref.log + ref.off[i], ref.len[i]);
    check_encode(&c, s, stop < n ? stop : n);

    frames_free(&ref);
    frames_free(&one);
    frames_free(&chunked);
    return 0;
}
