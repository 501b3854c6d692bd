/*
 * Framing engine: turns a byte stream into frames (see framing.h for the
 * contract and cnet.h section 7 for the user-visible semantics).
 *
 * Map of this file:
 *   1. Helpers: delimiter access, buffer growth, sticky errors
 *   2. Setup: init, free
 *   3. LINES parsing
 *   4. LENGTH_PREFIXED and FIXED parsing (one "header + counted payload" path)
 *   5. feed, end
 *   6. encode (for write_frame)
 *
 * Design. This sits on the read hot path, so the common case copies nothing:
 * a frame that lies wholly inside the chunk being fed is handed to the
 * callback as a pointer into that chunk. Only a frame that spans chunks is
 * assembled in f->buf, which grows geometrically as bytes actually arrive
 * (never to a size a header merely claims, so a peer cannot make us allocate
 * max_size with a few bytes) and is capped by the mode's limit.
 *
 * Each "step" below consumes input up to and including at most one frame and
 * commits all framer state before calling the callback. The feed loop then
 * re-reads the framer, which is what lets a callback free or re-initialise
 * the framer in the middle of a chunk.
 */
#include "framing.h"
#include "internal.h"

#include <stdint.h>
#include <string.h>

#define FRAMER_DEFAULT_MAX ((size_t)1 << 20)

/* A buffer grown past this is given back once it is empty again. */
#define FRAMER_KEEP_CAP ((size_t)64 * 1024)
#define FRAMER_MIN_CAP  64

/* ---- 1. Helpers ----------------------------------------------------------- */

static const char *framer_delim(const cnet__framer_t *f)
{
    return f->delim_len <= CNET__FRAMER_INLINE_DELIM ? f->small : f->delim_heap;
}

static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/*
 * Errors are sticky: the stream is out of sync once a frame was rejected or
 * bytes could not be buffered, so nothing after that can be trusted. The
 * buffer is released at once; the owner is expected to tear down soon.
 */
static int framer_fail(cnet__framer_t *f, int err)
{
    cnet__free(f->buf);
    f->buf = NULL;
    f->len = 0;
    f->cap = 0;
    f->err = err;
    return err;
}

/*
 * Makes room for @p needed bytes in f->buf (needed <= limit). Doubles the
 * capacity so a frame trickling in byte by byte costs O(n) copies in total.
 */
static int framer_reserve(cnet__framer_t *f, size_t needed, size_t limit)
{
    size_t cap;
    char *p;

    if (needed <= f->cap)
        return 0;
    cap = f->cap > SIZE_MAX / 2 ? SIZE_MAX : f->cap * 2;
    if (cap < FRAMER_MIN_CAP)
        cap = FRAMER_MIN_CAP;
    if (cap < needed)
        cap = needed;
    if (cap > limit)
        cap = limit;
    p = cnet__realloc(f->buf, cap);
    if (p == NULL)
        return framer_fail(f, CNET_ENOMEM);
    f->buf = p;
    f->cap = cap;
    return 0;
}

/*
 * One huge frame should not pin its buffer for the socket's lifetime: once
 * the buffer is empty and large, give it back.
 */
static void framer_trim(cnet__framer_t *f)
{
    if (f->len == 0 && f->cap > FRAMER_KEEP_CAP) {
        cnet__free(f->buf);
        f->buf = NULL;
        f->cap = 0;
    }
}

/* Appends @p n bytes to f->buf, which may hold at most @p limit bytes. */
static int framer_append(cnet__framer_t *f, const char *p, size_t n, size_t limit)
{
    int err;

    if (n == 0)
        return 0;
    err = framer_reserve(f, f->len + n, limit);
    if (err)
        return err;
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

/* ---- 2. Setup ----------------------------------------------------------- */

int cnet__framer_init(cnet__framer_t *f, const cnet_framing_opts_t *opts)
{
    cnet__framer_t nf;
    const char *delim;
    size_t dlen;

    memset(&nf, 0, sizeof nf);
    if (opts == NULL || opts->mode == CNET_FRAMING_NONE) {
        *f = nf;
        return 0;
    }
    nf.mode = (unsigned char)opts->mode;
    nf.max_size = opts->max_size ? opts->max_size : FRAMER_DEFAULT_MAX;

    switch (opts->mode) {
    case CNET_FRAMING_LINES:
        delim = opts->delimiter;
        dlen = opts->delimiter_len;
        if (delim == NULL) {
            /* A length without bytes is a caller bug, not a request for "\n". */
            if (dlen != 0)
                return CNET_ERR_INVALID_ARG_VALUE;
            delim = "\n";
            dlen = 1;
        } else if (dlen == 0) {
            dlen = strlen(delim);
        }
        if (dlen == 0)
            return CNET_ERR_INVALID_ARG_VALUE;
        nf.delim_len = dlen;
        if (dlen <= CNET__FRAMER_INLINE_DELIM) {
            memcpy(nf.small, delim, dlen);
        } else {
            nf.delim_heap = cnet__malloc(dlen);
            if (nf.delim_heap == NULL)
                return CNET_ENOMEM;
            memcpy(nf.delim_heap, delim, dlen);
        }
        break;
    case CNET_FRAMING_LENGTH_PREFIXED:
        if (opts->header_bytes != 1 && opts->header_bytes != 2 && opts->header_bytes != 4 &&
            opts->header_bytes != 8)
            return CNET_ERR_INVALID_ARG_VALUE;
        nf.header_bytes = (unsigned char)opts->header_bytes;
        nf.little_endian = opts->little_endian;
        break;
    case CNET_FRAMING_FIXED:
        if (opts->record_size == 0)
            return CNET_ERR_INVALID_ARG_VALUE;
        /* The record size is the only size that matters; max_size is unused. */
        nf.max_size = opts->record_size;
        nf.need = opts->record_size;
        nf.have_len = true;
        break;
    default:
        return CNET_ERR_INVALID_ARG_VALUE;
    }
    *f = nf;
    return 0;
}

void cnet__framer_free(cnet__framer_t *f)
{
    cnet__free(f->buf);
    cnet__free(f->delim_heap);
    memset(f, 0, sizeof *f);
}

/* ---- 3. LINES ------------------------------------------------------------- */

/* First occurrence of the delimiter in p[0..n), or NULL. */
static const char *find_delim(const char *p, size_t n, const char *d, size_t dlen)
{
    const char *q;

    if (dlen == 1)
        return memchr(p, d[0], n);
    /* memchr on the first byte keeps the scan vectorised; memmem is not C11. */
    while (n >= dlen) {
        q = memchr(p, d[0], n - dlen + 1);
        if (q == NULL)
            return NULL;
        if (memcmp(q + 1, d + 1, dlen - 1) == 0)
            return q;
        n -= (size_t)(q + 1 - p);
        p = q + 1;
    }
    return NULL;
}

/*
 * Length of the longest proper suffix of p[0..n) that is a prefix of the
 * delimiter: bytes that may yet turn out to be the start of a delimiter.
 */
static size_t delim_tail(const char *p, size_t n, const char *d, size_t dlen)
{
    size_t s = dlen - 1 < n ? dlen - 1 : n;

    for (; s > 0; s--) {
        if (memcmp(p + n - s, d, s) == 0)
            return s;
    }
    return 0;
}

/*
 * Buffers the unterminated rest of a line. The limit is enforced as soon as
 * the line is known to be too long: bytes that could still be the start of
 * the delimiter do not count yet, so a line of exactly max_size is accepted
 * however its delimiter is split across reads.
 */
static int lines_buffer(cnet__framer_t *f, const char *p, size_t n)
{
    const char *d = framer_delim(f);
    size_t limit = add_sat(f->max_size, f->delim_len - 1);
    int err;

    if (f->len + n > limit)
        return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
    err = framer_append(f, p, n, limit);
    if (err)
        return err;
    if (f->len > f->max_size && f->len - delim_tail(f->buf, f->len, d, f->delim_len) > f->max_size)
        return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
    return 0;
}

/* Emits the line held in f->buf[0..n), after resetting to a frame boundary. */
static int lines_emit_buffered(cnet__framer_t *f, size_t n, cnet__frame_fn fn, void *ctx)
{
    f->len = 0;
    return fn(ctx, f->buf, n);
}

static int lines_step(cnet__framer_t *f, const char **pp, const char *end, cnet__frame_fn fn,
                      void *ctx)
{
    const char *p = *pp, *d = framer_delim(f), *hit;
    size_t n = (size_t)(end - p), dlen = f->delim_len, i, total;
    int err;

    if (f->len == 0) {
        /* Hot path: the whole line is in this chunk; pass it without a copy. */
        hit = find_delim(p, n, d, dlen);
        if (hit == NULL) {
            *pp = end;
            return lines_buffer(f, p, n);
        }
        if ((size_t)(hit - p) > f->max_size)
            return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
        *pp = hit + dlen;
        return fn(ctx, p, (size_t)(hit - p));
    }

    /*
     * A line is buffered. First look for a delimiter that starts in the
     * buffer and ends in this chunk, earliest start first. A candidate
     * starting at i needs dlen - (len - i) bytes of the chunk, more for
     * every later i: once the chunk is too short for one, it is too short
     * for all the rest, and too short to hold a whole delimiter.
     */
    for (i = f->len - (dlen - 1 < f->len ? dlen - 1 : f->len); i < f->len; i++) {
        size_t have = f->len - i, want = dlen - have;

        if (want > n) {
            *pp = end;
            return lines_buffer(f, p, n);
        }
        if (memcmp(f->buf + i, d, have) == 0 && memcmp(p, d + have, want) == 0) {
            if (i > f->max_size)
                return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
            *pp = p + want;
            return lines_emit_buffered(f, i, fn, ctx);
        }
    }

    /* Then a delimiter inside the chunk: the line is buffer + chunk head. */
    hit = find_delim(p, n, d, dlen);
    if (hit == NULL) {
        *pp = end;
        return lines_buffer(f, p, n);
    }
    total = f->len + (size_t)(hit - p);
    if (total > f->max_size)
        return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
    err = framer_append(f, p, (size_t)(hit - p), add_sat(f->max_size, dlen - 1));
    if (err)
        return err;
    *pp = hit + dlen;
    return lines_emit_buffered(f, total, fn, ctx);
}

/* ---- 4. LENGTH_PREFIXED and FIXED ------------------------------------------ */

/* FIXED is a counted frame with a zero-byte header and a constant length. */
static void counted_reset(cnet__framer_t *f)
{
    f->len = 0;
    f->hdr_len = 0;
    if (f->header_bytes) {
        f->have_len = false;
        f->need = 0;
    } else {
        f->have_len = true;
        f->need = f->max_size;
    }
}

static uint64_t header_decode(const unsigned char *h, unsigned n, bool little_endian)
{
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < n; i++)
        v = (v << 8) | h[little_endian ? n - 1 - i : i];
    return v;
}

static int counted_step(cnet__framer_t *f, const char **pp, const char *end, cnet__frame_fn fn,
                        void *ctx)
{
    const char *p = *pp;
    size_t n = (size_t)(end - p), hb = f->header_bytes, plen, take;
    uint64_t v;
    int err;

    /* Hot path: at a frame boundary with the whole frame in this chunk. */
    if (f->len == 0 && f->hdr_len == 0 && n >= hb) {
        plen = f->need;
        if (hb) {
            v = header_decode((const unsigned char *)p, (unsigned)hb, f->little_endian);
            if (v > (uint64_t)f->max_size)
                return framer_fail(f, CNET_ERR_FRAME_TOO_LARGE);
            plen = (size_t)v;
        }
        if (n - hb >= plen) {
            *pp = p + hb + plen;
            return fn(ctx, p + hb, plen);
        }
    }

    /* The header, which may arrive a byte at a time. */
    if (!f->have_len) {
        take = hb - f->hdr_len < n ? hb - f->hdr_len : n;
        memcpy(f->small + f->hdr_len, p, take);
        f->hdr_len = (unsigned char)(f->hdr_len + take);
        p += take;
        n -= take;
        *pp = p;
        if (f->hdr_len < hb)
            return 0;
        /* Rejected as soon as the header is read, before any payload. */
        v = header_decode((const unsigned char *)f->small, (unsigned)hb, f->little_endian);
        if (v > (uint64_t)f->max_size)
            return framer_fail(f, CNET_ERR_FRAME_TOO_LARGE);
        f->need = (size_t)v;
        f->have_len = true;
    }

    /* The payload: straight from the chunk if it is all there. */
    if (f->len == 0 && n >= f->need) {
        plen = f->need;
        counted_reset(f);
        *pp = p + plen;
        return fn(ctx, p, plen);
    }
    take = f->need - f->len < n ? f->need - f->len : n;
    err = framer_append(f, p, take, f->need);
    if (err)
        return err;
    *pp = p + take;
    if (f->len < f->need)
        return 0;
    plen = f->len;
    counted_reset(f);
    return fn(ctx, f->buf, plen);
}

/* ---- 5. feed, end ---------------------------------------------------------- */

int cnet__framer_feed(cnet__framer_t *f, const char *data, size_t len, cnet__frame_fn fn, void *ctx)
{
    const char *p, *end;
    int rc = 0;

    if (len == 0)
        return f->err;
    p = data;
    end = data + len;
    /*
     * Every step makes progress (it consumes at least one byte) and leaves
     * the framer consistent before calling fn; the mode is re-read each time
     * because fn may have changed it.
     */
    while (p < end && rc == 0) {
        if (f->err)
            return f->err;
        switch (f->mode) {
        case CNET_FRAMING_LINES:
            rc = lines_step(f, &p, end, fn, ctx);
            break;
        case CNET_FRAMING_LENGTH_PREFIXED:
        case CNET_FRAMING_FIXED:
            rc = counted_step(f, &p, end, fn, ctx);
            break;
        default:
            return 0;
        }
    }
    framer_trim(f);
    return rc;
}

int cnet__framer_end(cnet__framer_t *f, cnet__frame_fn fn, void *ctx)
{
    if (f->err)
        return f->err;
    switch (f->mode) {
    case CNET_FRAMING_LINES:
        if (f->len == 0)
            return 0;
        /* Held-back bytes that never became a delimiter belong to the line. */
        if (f->len > f->max_size)
            return framer_fail(f, CNET_ERR_LINE_TOO_LONG);
        return lines_emit_buffered(f, f->len, fn, ctx);
    case CNET_FRAMING_LENGTH_PREFIXED:
    case CNET_FRAMING_FIXED:
        if (f->len == 0 && f->hdr_len == 0)
            return 0;
        counted_reset(f);
        return framer_fail(f, CNET_ERR_STREAM_PREMATURE_CLOSE);
    default:
        return 0;
    }
}

/* ---- 6. encode -------------------------------------------------------------- */

/*
 * True if a reader would not get @p p[0..n) back as one line: the payload
 * contains the delimiter, or a delimiter starts in its tail and runs into
 * the appended delimiter (with "aa", "xa" + "aa" reads back as "x").
 */
static bool lines_ambiguous(const char *p, size_t n, const char *d, size_t dlen)
{
    size_t i = n > dlen - 1 ? n - (dlen - 1) : 0;

    if (n == 0)
        return false;
    if (find_delim(p, n, d, dlen) != NULL)
        return true;
    for (; i < n; i++) {
        size_t have = n - i;

        if (memcmp(p + i, d, have) == 0 && memcmp(d + have, d, dlen - have) == 0)
            return true;
    }
    return false;
}

int cnet__framer_encode(const cnet__framer_t *f, const void *payload, size_t len,
                        unsigned char *prefix, size_t *prefix_len, const char **suffix,
                        size_t *suffix_len)
{
    unsigned i, hb = f->header_bytes;
    uint64_t v = (uint64_t)len;

    /* Never NULL, so the caller may memcpy it even when it is empty. */
    *prefix_len = 0;
    *suffix = "";
    *suffix_len = 0;
    switch (f->mode) {
    case CNET_FRAMING_LINES:
        if (len > f->max_size)
            return CNET_ERR_FRAME_TOO_LARGE;
        if (lines_ambiguous(payload, len, framer_delim(f), f->delim_len))
            return CNET_ERR_INVALID_ARG_VALUE;
        *suffix = framer_delim(f);
        *suffix_len = f->delim_len;
        return 0;
    case CNET_FRAMING_LENGTH_PREFIXED:
        if (len > f->max_size || (hb < 8 && v >> (8 * hb) != 0))
            return CNET_ERR_FRAME_TOO_LARGE;
        for (i = 0; i < hb; i++) {
            unsigned char b = (unsigned char)(v >> (8 * i));
            prefix[f->little_endian ? i : hb - 1 - i] = b;
        }
        *prefix_len = hb;
        return 0;
    case CNET_FRAMING_FIXED:
        if (len > f->max_size)
            return CNET_ERR_FRAME_TOO_LARGE;
        if (len < f->max_size)
            return CNET_ERR_INVALID_ARG_VALUE;
        return 0;
    default:
        return CNET_ERR_INVALID_ARG_VALUE;
    }
}
