/*
 * Encoding layer: Node's Buffer.from(string, enc) and StringDecoder, byte for
 * byte (see encoding.h for the contract, cnet.h section 7 for the user view).
 *
 * Map of this file:
 *   1. Names: parse, canonical name
 *   2. strbuf: the growable output buffer
 *   3. UTF-8: one WHATWG decoding step, sanitising, UTF-16 to UTF-8
 *   4. Encoder
 *   5. Decoder
 *
 * Design. Every producer first computes a worst-case output size, reserves
 * it once, and then writes through a plain pointer with no further checks.
 * That makes ENOMEM all-or-nothing (no half-appended output, no half-updated
 * decoder) and keeps the per-chunk hot path to at most one realloc.
 *
 * Node is the specification, including where it is odd; each oddity is
 * marked "Node:" below with the reason we copy it. The reference sources are
 * node/src/string_decoder.cc (DecodeData, FlushData), node/src/string_bytes.cc
 * and base64-inl.h (hex_decode, base64_decode) of Node v20, checked against
 * the real thing by tests/test_encoding_differential.c.
 */
#include "internal.h" /* includes encoding.h */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- 1. Names ----------------------------------------------------------------- */

static const char *const canonical_names[CNET__ENC_COUNT] = {
    [CNET__ENC_UTF8] = "utf8",           [CNET__ENC_ASCII] = "ascii",
    [CNET__ENC_LATIN1] = "latin1",       [CNET__ENC_BASE64] = "base64",
    [CNET__ENC_BASE64URL] = "base64url", [CNET__ENC_HEX] = "hex",
    [CNET__ENC_UTF16LE] = "utf16le",
};

/*
 * Every spelling Buffer.isEncoding() accepts, compared ASCII-case-insensitively.
 * Node lowercases with String.prototype.toLowerCase(), which is Unicode-aware,
 * but no non-ASCII character lowercases to a string made only of the ASCII
 * letters used here (U+0130 becomes "i" plus a combining dot, U+212A "k"), so
 * ASCII folding accepts exactly the same set.
 */
static const struct {
    const char *name;
    cnet__enc_t enc;
} encoding_names[] = {
    {"utf8", CNET__ENC_UTF8},           {"utf-8", CNET__ENC_UTF8},
    {"ascii", CNET__ENC_ASCII},         {"latin1", CNET__ENC_LATIN1},
    {"binary", CNET__ENC_LATIN1},       {"base64", CNET__ENC_BASE64},
    {"base64url", CNET__ENC_BASE64URL}, {"hex", CNET__ENC_HEX},
    {"utf16le", CNET__ENC_UTF16LE},     {"utf-16le", CNET__ENC_UTF16LE},
    {"ucs2", CNET__ENC_UTF16LE},        {"ucs-2", CNET__ENC_UTF16LE},
};

static bool ascii_case_equal(const char *a, const char *lower)
{
    for (; *a && *lower; a++, lower++) {
        char c = *a;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *lower)
            return false;
    }
    return *a == '\0' && *lower == '\0';
}

int cnet__enc_parse(const char *name, cnet__enc_t *out)
{
    if (name == NULL)
        return CNET_ERR_UNKNOWN_ENCODING;
    for (size_t i = 0; i < CNET__ARRAY_SIZE(encoding_names); i++) {
        if (ascii_case_equal(name, encoding_names[i].name)) {
            if (out)
                *out = encoding_names[i].enc;
            return 0;
        }
    }
    return CNET_ERR_UNKNOWN_ENCODING;
}

const char *cnet__enc_name(cnet__enc_t enc)
{
    if ((unsigned)enc >= CNET__ENC_COUNT)
        return "unknown";
    return canonical_names[enc];
}

/* ---- 2. strbuf ------------------------------------------------------------------ */

#define STRBUF_MIN_CAP 64

void cnet__strbuf_init(cnet__strbuf_t *b)
{
    b->base = NULL;
    b->len = 0;
    b->cap = 0;
}

int cnet__strbuf_reserve(cnet__strbuf_t *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - 1 - b->len)
        return CNET_ENOMEM;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    /* Doubling keeps a stream of small appends at O(n) copying in total. */
    cap = b->cap > SIZE_MAX / 2 ? SIZE_MAX : b->cap * 2;
    if (cap < STRBUF_MIN_CAP)
        cap = STRBUF_MIN_CAP;
    if (cap < need)
        cap = need;
    p = cnet__realloc(b->base, cap);
    if (p == NULL)
        return CNET_ENOMEM;
    b->base = p;
    b->cap = cap;
    b->base[b->len] = '\0';
    return 0;
}

int cnet__strbuf_append(cnet__strbuf_t *b, const void *data, size_t n)
{
    int err = cnet__strbuf_reserve(b, n);
    if (err)
        return err;
    if (n)
        memcpy(b->base + b->len, data, n);
    b->len += n;
    b->base[b->len] = '\0';
    return 0;
}

void cnet__strbuf_clear(cnet__strbuf_t *b)
{
    b->len = 0;
    if (b->base)
        b->base[0] = '\0';
}

void cnet__strbuf_free(cnet__strbuf_t *b)
{
    cnet__free(b->base);
    cnet__strbuf_init(b);
}

/*
 * Reserves @p extra bytes and returns where to write them; the producer then
 * hands the end pointer to strbuf_commit(). NULL means CNET_ENOMEM.
 */
static char *strbuf_start(cnet__strbuf_t *b, size_t extra)
{
    if (cnet__strbuf_reserve(b, extra))
        return NULL;
    return b->base + b->len;
}

static void strbuf_commit(cnet__strbuf_t *b, char *end)
{
    b->len = (size_t)(end - b->base);
    b->base[b->len] = '\0';
}

/* a * k + c, or SIZE_MAX on overflow (which no reserve can satisfy). */
static size_t worst_case(size_t a, size_t k, size_t c)
{
    if (a > (SIZE_MAX - c) / k)
        return SIZE_MAX;
    return a * k + c;
}

/* ---- 3. UTF-8 -------------------------------------------------------------------- */

#define REPLACEMENT 0xFFFDu
#define UTF8_ERROR  0x110000u /* not a code point: utf8_step() found an invalid subpart */

static char *put_replacement(char *o)
{
    *o++ = (char)0xEF;
    *o++ = (char)0xBF;
    *o++ = (char)0xBD;
    return o;
}

/* Encodes a code point that is not a surrogate. */
static char *put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/*
 * One step of the WHATWG UTF-8 decoder, which is what V8 (and so Node's
 * toString('utf8') and StringDecoder) implements. Decodes the character at
 * @p s (n >= 1) into *cp and returns how many bytes it used. An invalid or
 * truncated sequence gives UTF8_ERROR (to be replaced by one U+FFFD) for its
 * "maximal subpart": the bytes up to
 * (not including) the first one that cannot continue it, and that byte is
 * then decoded afresh. So E0 80 is two U+FFFD, but F0 9F 98 is one.
 */
static size_t utf8_step(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        *cp = UTF8_ERROR;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *cp = UTF8_ERROR;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

/* Length of the leading run of ASCII bytes, eight at a time where possible. */
static size_t ascii_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint64_t w;

    while (i + 8 <= n) {
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/*
 * Writes @p s with every invalid subpart replaced by U+FFFD: exactly the
 * bytes of Buffer.from(Buffer.from(s).toString('utf8')). At most 3n bytes.
 * Valid runs are copied wholesale; only errors cost extra work.
 */
static char *utf8_sanitize(char *o, const unsigned char *s, size_t n)
{
    size_t i = 0, run = 0;
    uint32_t cp;

    while (i < n) {
        size_t k = ascii_prefix(s + i, n - i);
        i += k;
        if (i >= n)
            break;
        k = utf8_step(s + i, n - i, &cp);
        if (cp == UTF8_ERROR) {
            memcpy(o, s + run, i - run);
            o += i - run;
            o = put_replacement(o);
            run = i + k;
        }
        i += k;
    }
    memcpy(o, s + run, n - run);
    return o + (n - run);
}

/*
 * Converts UTF-16LE code units to UTF-8 as Buffer.from(jsString, 'utf8')
 * does: pairs combine, a lone surrogate becomes U+FFFD. A high surrogate
 * ending the input is left in *pending_hi (0 if none), because the next piece
 * may belong to the same JS string; utf16_finish() settles it.
 */
static char *utf16_to_utf8(char *o, const unsigned char *p, size_t n, uint32_t *pending_hi)
{
    uint32_t hi = *pending_hi;

    for (size_t i = 0; i + 1 < n; i += 2) {
        uint32_t u = (uint32_t)p[i] | ((uint32_t)p[i + 1] << 8);
        if (hi) {
            if (u >= 0xDC00 && u <= 0xDFFF) {
                o = put_utf8(o, 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00));
                hi = 0;
                continue;
            }
            o = put_replacement(o);
            hi = 0;
        }
        if (u >= 0xD800 && u <= 0xDBFF)
            hi = u;
        else if (u >= 0xDC00 && u <= 0xDFFF)
            o = put_replacement(o);
        else
            o = put_utf8(o, u);
    }
    *pending_hi = hi;
    return o;
}

static char *utf16_finish(char *o, uint32_t *pending_hi)
{
    if (*pending_hi) {
        o = put_replacement(o);
        *pending_hi = 0;
    }
    return o;
}

/* ---- 4. Encoder ------------------------------------------------------------------ */

/*
 * Walks the UTF-16 code units of the JS string that str decodes to (section
 * 3): a character above U+FFFF gives two units, a replaced error one U+FFFD.
 */
typedef struct unit_iter {
    const unsigned char *s;
    size_t n;
    size_t i;
    uint32_t low; /* second unit of a pair still to hand out, or 0 */
} unit_iter_t;

static bool unit_next(unit_iter_t *it, uint32_t *unit)
{
    uint32_t cp;

    if (it->low) {
        *unit = it->low;
        it->low = 0;
        return true;
    }
    if (it->i >= it->n)
        return false;
    if (it->s[it->i] < 0x80) {
        *unit = it->s[it->i++];
        return true;
    }
    it->i += utf8_step(it->s + it->i, it->n - it->i, &cp);
    if (cp == UTF8_ERROR) {
        *unit = REPLACEMENT;
    } else if (cp >= 0x10000) {
        *unit = 0xD800 + ((cp - 0x10000) >> 10);
        it->low = 0xDC00 + (cp & 0x3FF);
    } else {
        *unit = cp;
    }
    return true;
}

/* Node: latin1 and ascii both write the low byte of each code unit. */
static char *encode_latin1(char *o, unit_iter_t *it)
{
    uint32_t u;

    while (unit_next(it, &u))
        *o++ = (char)(u & 0xFF);
    return o;
}

static char *encode_utf16le(char *o, unit_iter_t *it)
{
    uint32_t u;

    while (unit_next(it, &u)) {
        *o++ = (char)(u & 0xFF);
        *o++ = (char)(u >> 8);
    }
    return o;
}

static int unhex(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/*
 * Node (hex_decode): pairs of characters, stopping at the first pair that is
 * not two hex digits; an odd last character is ignored. Node reads each code
 * unit through static_cast<uint8_t>, so U+0130 counts as '0'. We copy that.
 */
static char *encode_hex(char *o, unit_iter_t *it)
{
    uint32_t a, b;

    while (unit_next(it, &a) && unit_next(it, &b)) {
        int ha = unhex(a & 0xFF), hb = unhex(b & 0xFF);
        if (ha < 0 || hb < 0)
            break;
        *o++ = (char)((ha << 4) | hb);
    }
    return o;
}

/* Node's unbase64 table accepts both alphabets whatever the encoding's name. */
static int unbase64(unsigned c)
{
    if (c >= 'A' && c <= 'Z')
        return (int)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (int)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (int)(c - '0' + 52);
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/*
 * Node (base64_decode, both the fast and the slow path taken together): any
 * character outside the alphabet is skipped, the first '=' ends decoding
 * wherever it is, and a trailing group of 2 or 3 characters yields 1 or 2
 * bytes (a lone last character yields nothing; unused bits are dropped
 * unchecked). Code units are truncated to 8 bits first, as in hex.
 */
static char *encode_base64(char *o, unit_iter_t *it)
{
    unsigned pos = 0, prev = 0;
    uint32_t u;

    while (unit_next(it, &u)) {
        unsigned c = u & 0xFF;
        int v = unbase64(c);
        if (v < 0) {
            if (c == '=')
                break;
            continue;
        }
        switch (pos) {
        case 1:
            *o++ = (char)(((prev & 0x3F) << 2) | ((unsigned)v >> 4));
            break;
        case 2:
            *o++ = (char)(((prev & 0x0F) << 4) | ((unsigned)v >> 2));
            break;
        case 3:
            *o++ = (char)(((prev & 0x03) << 6) | (unsigned)v);
            break;
        }
        prev = (unsigned)v;
        pos = (pos + 1) & 3;
    }
    return o;
}

int cnet__enc_encode(cnet__enc_t enc, const char *str, size_t len, cnet__strbuf_t *out)
{
    unit_iter_t it = {(const unsigned char *)str, len, 0, 0};
    size_t worst;
    char *o;

    /*
     * Every input byte yields at most one code unit (a 4-byte character gives
     * two), and an invalid byte at most one 3-byte U+FFFD in UTF-8.
     */
    switch (enc) {
    case CNET__ENC_UTF8:
        worst = worst_case(len, 3, 0);
        break;
    case CNET__ENC_ASCII:
    case CNET__ENC_LATIN1:
    case CNET__ENC_HEX:
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        worst = len;
        break;
    case CNET__ENC_UTF16LE:
        worst = worst_case(len, 2, 0);
        break;
    default:
        return CNET_ERR_INVALID_ARG_VALUE;
    }
    o = strbuf_start(out, worst);
    if (o == NULL)
        return CNET_ENOMEM;

    switch (enc) {
    case CNET__ENC_UTF8:
        if (len)
            o = utf8_sanitize(o, it.s, len);
        break;
    case CNET__ENC_ASCII:
    case CNET__ENC_LATIN1:
        o = encode_latin1(o, &it);
        break;
    case CNET__ENC_HEX:
        o = encode_hex(o, &it);
        break;
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        o = encode_base64(o, &it);
        break;
    case CNET__ENC_UTF16LE:
        o = encode_utf16le(o, &it);
        break;
    }
    strbuf_commit(out, o);
    return 0;
}

/* ---- 5. Decoder ------------------------------------------------------------------ */

static const char hex_digits[] = "0123456789abcdef";
static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* buf.toString('base64' | 'base64url'): only standard base64 is padded. */
static char *to_base64(char *o, const unsigned char *p, size_t n, bool url)
{
    const char *abc = url ? b64_url : b64_std;
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 0x3F];
        *o++ = abc[(v >> 6) & 0x3F];
        *o++ = abc[v & 0x3F];
    }
    if (n - i == 1) {
        *o++ = abc[p[i] >> 2];
        *o++ = abc[(p[i] & 0x03) << 4];
        if (!url) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)p[i] << 8) | p[i + 1];
        *o++ = abc[v >> 10];
        *o++ = abc[(v >> 4) & 0x3F];
        *o++ = abc[(v << 2) & 0x3F];
        if (!url)
            *o++ = '=';
    }
    return o;
}

/*
 * buf.toString(enc) for one complete piece, as UTF-8. @p pending_hi carries a
 * utf16le high surrogate between the pieces of one JS string (see
 * decoder_write_held()).
 */
static char *decode_piece(unsigned enc, char *o, const unsigned char *p, size_t n,
                          uint32_t *pending_hi)
{
    size_t i;

    switch (enc) {
    case CNET__ENC_UTF8:
        return utf8_sanitize(o, p, n);
    case CNET__ENC_UTF16LE:
        return utf16_to_utf8(o, p, n, pending_hi);
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        return to_base64(o, p, n, enc == CNET__ENC_BASE64URL);
    case CNET__ENC_LATIN1:
        for (i = 0; i < n; i++)
            o = put_utf8(o, p[i]);
        return o;
    case CNET__ENC_ASCII:
        /* Node v20: toString('ascii') clears the top bit (0xE9 gives 'i'). */
        for (i = 0; i < n; i++)
            *o++ = (char)(p[i] & 0x7F);
        return o;
    case CNET__ENC_HEX:
        for (i = 0; i < n; i++) {
            *o++ = hex_digits[p[i] >> 4];
            *o++ = hex_digits[p[i] & 0x0F];
        }
        return o;
    }
    return o;
}

/* Output bound for decoding @p n bytes (held ones included) in one call. */
static size_t decode_worst(unsigned enc, size_t n)
{
    switch (enc) {
    case CNET__ENC_UTF8:
        return worst_case(n, 3, 0); /* each byte at most one 3-byte U+FFFD */
    case CNET__ENC_UTF16LE:
        return worst_case(n / 2, 3, 3); /* a unit is at most 3 bytes, a pair 4 */
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        return worst_case(n / 3 + 1, 4, 0);
    case CNET__ENC_LATIN1:
    case CNET__ENC_HEX:
        return worst_case(n, 2, 0);
    default:
        return n;
    }
}

void cnet__decoder_init(cnet__decoder_t *d, cnet__enc_t enc)
{
    memset(d, 0, sizeof *d);
    d->enc = (unsigned char)enc;
}

void cnet__decoder_reset(cnet__decoder_t *d)
{
    d->buffered = 0;
    d->missing = 0;
}

/*
 * How many bytes at the end of @p p (n >= 1) start a character that the next
 * chunk may finish; sets d->missing to how many more it needs. Mirrors the
 * tail scan of Node's DecodeData.
 */
static size_t held_tail(cnet__decoder_t *d, const unsigned char *p, size_t n)
{
    size_t hold = 0;

    d->missing = 0;
    switch (d->enc) {
    case CNET__ENC_UTF8:
        if (!(p[n - 1] & 0x80))
            return 0;
        /*
         * Node: walk back over at most three continuation bytes to a lead
         * byte and hold the character if the lead promises more bytes than
         * are there. The lead test is by bit pattern only, so C0, C1 and
         * F5..F7 are held too (and become U+FFFD later), while F8..FF and
         * ASCII are not. Validity of the bytes is left to the UTF-8 decoder.
         */
        for (size_t i = n - 1;; i--) {
            unsigned want;
            hold++;
            if ((p[i] & 0xC0) == 0x80) {
                if (hold >= 4 || i == 0)
                    return 0;
                continue;
            }
            if ((p[i] & 0xE0) == 0xC0)
                want = 2;
            else if ((p[i] & 0xF0) == 0xE0)
                want = 3;
            else if ((p[i] & 0xF8) == 0xF0)
                want = 4;
            else
                return 0;
            if (hold >= want)
                return 0;
            d->missing = (unsigned char)(want - hold);
            return hold;
        }
    case CNET__ENC_UTF16LE:
        /* Node: an odd byte, or else a high surrogate (by its top byte). */
        if (n % 2 == 1)
            hold = 1;
        else if ((p[n - 1] & 0xFC) == 0xD8)
            hold = 2;
        d->missing = (unsigned char)hold;
        return hold;
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        hold = n % 3;
        d->missing = (unsigned char)(hold ? 3 - hold : 0);
        return hold;
    }
    return 0;
}

/*
 * Node's DecodeData for the encodings that hold bytes (utf8, utf16le,
 * base64, base64url): first finish the held character with the head of the
 * chunk (the "prepend"), then decode the body minus a tail that may start
 * the next character. Prepend and body form one JS string in Node, so a
 * utf16le high surrogate ending the prepend pairs with a low surrogate
 * starting the body; across write() calls nothing pairs.
 */
static char *decoder_write_held(cnet__decoder_t *d, char *o, const unsigned char *p, size_t n)
{
    uint32_t pending_hi = 0;
    size_t hold;

    if (d->missing > 0) {
        size_t found;

        if (d->enc == CNET__ENC_UTF8) {
            /*
             * Node: a byte that cannot continue the held character ends it
             * early; the held bytes go to the UTF-8 decoder as they are (and
             * become U+FFFD), and that byte starts the body.
             */
            for (size_t i = 0; i < n && i < d->missing; i++) {
                if ((p[i] & 0xC0) != 0x80) {
                    d->missing = 0;
                    memcpy(d->buf + d->buffered, p, i);
                    d->buffered = (unsigned char)(d->buffered + i);
                    p += i;
                    n -= i;
                    break;
                }
            }
        }
        found = n < d->missing ? n : d->missing;
        memcpy(d->buf + d->buffered, p, found);
        p += found;
        n -= found;
        d->missing = (unsigned char)(d->missing - found);
        d->buffered = (unsigned char)(d->buffered + found);
        if (d->missing == 0) {
            o = decode_piece(d->enc, o, d->buf, d->buffered, &pending_hi);
            d->buffered = 0;
        }
    }
    if (n > 0) {
        hold = held_tail(d, p, n);
        o = decode_piece(d->enc, o, p, n - hold, &pending_hi);
        memcpy(d->buf, p + n - hold, hold);
        d->buffered = (unsigned char)hold;
    }
    return utf16_finish(o, &pending_hi);
}

int cnet__decoder_write(cnet__decoder_t *d, const void *data, size_t len, cnet__strbuf_t *out)
{
    const unsigned char *p = data;
    uint32_t unused = 0;
    char *o = strbuf_start(out, decode_worst(d->enc, worst_case(len, 1, d->buffered)));

    if (o == NULL)
        return CNET_ENOMEM;
    if (len == 0) {
        /* Node: an empty chunk returns '' and leaves held bytes alone. */
        strbuf_commit(out, o);
        return 0;
    }
    switch (d->enc) {
    case CNET__ENC_UTF8:
    case CNET__ENC_UTF16LE:
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        o = decoder_write_held(d, o, p, len);
        break;
    default:
        /* ascii, latin1 and hex never split a character: no state at all. */
        o = decode_piece(d->enc, o, p, len, &unused);
        break;
    }
    strbuf_commit(out, o);
    return 0;
}

int cnet__decoder_end(cnet__decoder_t *d, cnet__strbuf_t *out)
{
    uint32_t pending_hi = 0;
    size_t n = d->buffered;
    char *o = strbuf_start(out, decode_worst(d->enc, n));

    if (o == NULL)
        return CNET_ENOMEM;
    /* Node (FlushData): an odd utf16le byte is dropped, not replaced. */
    if (d->enc == CNET__ENC_UTF16LE && n % 2 == 1)
        n--;
    if (n > 0) {
        o = decode_piece(d->enc, o, d->buf, n, &pending_hi);
        o = utf16_finish(o, &pending_hi);
    }
    cnet__decoder_reset(d);
    strbuf_commit(out, o);
    return 0;
}
