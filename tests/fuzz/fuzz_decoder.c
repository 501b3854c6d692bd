/*
 * libFuzzer target for the StringDecoder port (cnet__decoder_*).
 *
 * Input layout:
 *   byte 0       encoding (value % 7, in cnet__enc_t order)
 *   byte 1       number of cut points k (value % 16)
 *   next k bytes cut positions into the payload (value % (payload length + 1))
 *   rest         the payload, fed to the decoder once whole and once in chunks
 *
 * Invariants checked (Node's exact output is the differential test's job):
 *   - every write() and end() result is well-formed UTF-8, NUL-terminated;
 *   - the decoder never holds more than 4 bytes, stateless encodings none;
 *   - decoding in chunks gives what decoding whole gives; for utf16le only up
 *     to surrogate pairs, which Node joins only within one write() result;
 *   - per encoding, the output maps back to the payload through the encoder
 *     (latin1, hex, base64, base64url; utf8 and utf16le when nothing was
 *     replaced), and utf8 decoding agrees with the encoder's sanitising.
 */
#include "fuzz_common.h"

#define MAX_CUTS 16

static void check_state(const cnet__decoder_t *d, cnet__enc_t enc)
{
    FUZZ_CHECK(d->buffered <= 4);
    FUZZ_CHECK(d->buffered + d->missing <= 4);
    if (enc == CNET__ENC_ASCII || enc == CNET__ENC_LATIN1 || enc == CNET__ENC_HEX)
        FUZZ_CHECK(d->buffered == 0 && d->missing == 0);
}

static void check_piece(const cnet__strbuf_t *piece)
{
    FUZZ_CHECK(piece->base != NULL);
    FUZZ_CHECK(piece->base[piece->len] == '\0');
    FUZZ_CHECK(fuzz_valid_utf8(piece->base, piece->len));
}

/*
 * Decodes p[0..n) cut at cuts[0..ncuts) (ascending), appending everything to
 * @p all and checking each write() and end() result on its own.
 */
static void decode(cnet__enc_t enc, const unsigned char *p, size_t n, const size_t *cuts,
                   size_t ncuts, cnet__strbuf_t *all)
{
    cnet__strbuf_t piece = {0};
    cnet__decoder_t d;
    size_t at = 0;

    cnet__decoder_init(&d, enc);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        cnet__strbuf_clear(&piece);
        FUZZ_OK(cnet__decoder_write(&d, p + at, end - at, &piece));
        check_piece(&piece);
        check_state(&d, enc);
        if (enc == CNET__ENC_HEX)
            FUZZ_CHECK(piece.len == 2 * (end - at));
        if (enc == CNET__ENC_BASE64 || enc == CNET__ENC_BASE64URL)
            FUZZ_CHECK(piece.len % 4 == 0);
        FUZZ_OK(cnet__strbuf_append(all, piece.base, piece.len));
        at = end;
    }
    cnet__strbuf_clear(&piece);
    FUZZ_OK(cnet__decoder_end(&d, &piece));
    check_piece(&piece);
    FUZZ_CHECK(d.buffered == 0 && d.missing == 0);
    FUZZ_OK(cnet__strbuf_append(all, piece.base, piece.len));
    cnet__strbuf_free(&piece);
}

/* Every supplementary character (4 UTF-8 bytes) becomes two U+FFFD: a pair as Node splits it. */
static void split_pairs(const cnet__strbuf_t *in, cnet__strbuf_t *out)
{
    cnet__strbuf_clear(out);
    for (size_t i = 0; i < in->len;) {
        if ((unsigned char)in->base[i] >= 0xF0) {
            FUZZ_OK(cnet__strbuf_append(out, "\xef\xbf\xbd\xef\xbf\xbd", 6));
            i += 4;
        } else {
            FUZZ_OK(cnet__strbuf_append(out, in->base + i, 1));
            i++;
        }
    }
}

static void check_whole(cnet__enc_t enc, const unsigned char *p, size_t n,
                        const cnet__strbuf_t *whole)
{
    cnet__strbuf_t back = {0};

    switch (enc) {
    case CNET__ENC_UTF8:
        FUZZ_OK(cnet__enc_encode(CNET__ENC_UTF8, (const char *)p, n, &back));
        FUZZ_CHECK(fuzz_buf_eq(&back, whole));
        if (!fuzz_has_replacement(whole->base, whole->len))
            FUZZ_CHECK(fuzz_mem_eq(whole, p, n));
        break;
    case CNET__ENC_ASCII:
        FUZZ_CHECK(whole->len == n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK((unsigned char)whole->base[i] == (p[i] & 0x7F));
        break;
    case CNET__ENC_LATIN1:
    case CNET__ENC_HEX:
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        if (enc == CNET__ENC_HEX)
            FUZZ_CHECK(whole->len == 2 * n);
        if (enc == CNET__ENC_BASE64)
            FUZZ_CHECK(whole->len == (n + 2) / 3 * 4);
        if (enc == CNET__ENC_BASE64URL)
            FUZZ_CHECK(whole->len == (4 * n + 2) / 3);
        FUZZ_OK(cnet__enc_encode(enc, whole->base, whole->len, &back));
        FUZZ_CHECK(fuzz_mem_eq(&back, p, n));
        break;
    case CNET__ENC_UTF16LE:
        if (!fuzz_has_replacement(whole->base, whole->len)) {
            FUZZ_OK(cnet__enc_encode(CNET__ENC_UTF16LE, whole->base, whole->len, &back));
            FUZZ_CHECK(fuzz_mem_eq(&back, p, n & ~(size_t)1));
        }
        break;
    }
    cnet__strbuf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnet__strbuf_t whole = {0}, split = {0}, a = {0}, b = {0};
    size_t cuts[MAX_CUTS], ncuts, n;
    const unsigned char *p;
    cnet__enc_t enc;

    if (size < 2)
        return 0;
    enc = (cnet__enc_t)(data[0] % CNET__ENC_COUNT);
    ncuts = data[1] % MAX_CUTS;
    if (size < 2 + ncuts)
        return 0;
    p = data + 2 + ncuts;
    n = size - 2 - ncuts;
    for (size_t i = 0; i < ncuts; i++)
        cuts[i] = data[2 + i] % (n + 1);
    for (size_t i = 1; i < ncuts; i++) /* insertion sort: at most 15 */
        for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }

    decode(enc, p, n, NULL, 0, &whole);
    decode(enc, p, n, cuts, ncuts, &split);
    FUZZ_CHECK(fuzz_valid_utf8(whole.base, whole.len));
    if (enc == CNET__ENC_UTF16LE) {
        split_pairs(&whole, &a);
        split_pairs(&split, &b);
        FUZZ_CHECK(fuzz_buf_eq(&a, &b));
    } else {
        FUZZ_CHECK(fuzz_buf_eq(&whole, &split));
    }
    check_whole(enc, p, n, &whole);

    cnet__strbuf_free(&whole);
    cnet__strbuf_free(&split);
    cnet__strbuf_free(&a);
    cnet__strbuf_free(&b);
    return 0;
}
