/*
 * libFuzzer target for the Buffer.from(string, enc) port (cnet__enc_encode).
 *
 * Input layout: byte 0 picks the encoding (value % 7, in cnet__enc_t order),
 * the rest is the "UTF-8" string, invalid bytes and NULs included.
 *
 * Invariants checked (Node's exact output is the differential test's job):
 *   - output NUL-terminated and within its size bound;
 *   - utf8: well-formed, idempotent, identity on well-formed input;
 *   - latin1 = ascii, one byte per UTF-16 code unit; utf16le decodes back to
 *     the sanitised string;
 *   - hex, base64, base64url: decoding the bytes to text and encoding that
 *     text again gives the same bytes; base64 and base64url accept the same
 *     input (Node uses one decoder for both); hex of plain hex digits is exact.
 */
#include "fuzz_common.h"

static void decode_whole(cnet__enc_t enc, const char *p, size_t n, cnet__strbuf_t *out)
{
    cnet__decoder_t d;

    cnet__strbuf_clear(out);
    cnet__decoder_init(&d, enc);
    FUZZ_OK(cnet__decoder_write(&d, p, n, out));
    FUZZ_OK(cnet__decoder_end(&d, out));
}

/* UTF-16 code units in well-formed UTF-8: one per character, two above U+FFFF. */
static size_t utf16_units(const cnet__strbuf_t *s)
{
    size_t units = 0;

    for (size_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->base[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

static bool all_below_256(const cnet__strbuf_t *s)
{
    for (size_t i = 0; i < s->len; i++)
        if ((unsigned char)s->base[i] > 0xC3)
            return false;
    return true;
}

static bool is_hex_digit(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnet__strbuf_t out = {0}, clean = {0}, tmp = {0}, again = {0};
    const char *s;
    size_t n;
    cnet__enc_t enc;

    if (size < 1)
        return 0;
    enc = (cnet__enc_t)(data[0] % CNET__ENC_COUNT);
    s = (const char *)data + 1;
    n = size - 1;

    FUZZ_OK(cnet__enc_encode(enc, s, n, &out));
    FUZZ_CHECK(out.base != NULL && out.base[out.len] == '\0');
    FUZZ_OK(cnet__enc_encode(CNET__ENC_UTF8, s, n, &clean)); /* the JS string, sanitised */
    FUZZ_CHECK(fuzz_valid_utf8(clean.base, clean.len));
    FUZZ_CHECK(clean.len <= 3 * n);
    if (fuzz_valid_utf8(s, n))
        FUZZ_CHECK(fuzz_mem_eq(&clean, s, n));

    switch (enc) {
    case CNET__ENC_UTF8:
        FUZZ_CHECK(fuzz_buf_eq(&out, &clean));
        FUZZ_OK(cnet__enc_encode(CNET__ENC_UTF8, out.base, out.len, &again));
        FUZZ_CHECK(fuzz_buf_eq(&again, &out));
        break;
    case CNET__ENC_ASCII:
    case CNET__ENC_LATIN1:
        FUZZ_CHECK(out.len == utf16_units(&clean));
        FUZZ_OK(cnet__enc_encode(enc == CNET__ENC_ASCII ? CNET__ENC_LATIN1 : CNET__ENC_ASCII, s, n,
                                 &again));
        FUZZ_CHECK(fuzz_buf_eq(&again, &out));
        if (all_below_256(&clean)) {
            decode_whole(CNET__ENC_LATIN1, out.base, out.len, &tmp);
            FUZZ_CHECK(fuzz_buf_eq(&tmp, &clean));
        }
        break;
    case CNET__ENC_UTF16LE:
        FUZZ_CHECK(out.len == 2 * utf16_units(&clean));
        decode_whole(CNET__ENC_UTF16LE, out.base, out.len, &tmp);
        FUZZ_CHECK(fuzz_buf_eq(&tmp, &clean));
        break;
    case CNET__ENC_HEX: {
        size_t digits = 0;
        FUZZ_CHECK(out.len <= n / 2);
        decode_whole(CNET__ENC_HEX, out.base, out.len, &tmp);
        FUZZ_OK(cnet__enc_encode(CNET__ENC_HEX, tmp.base, tmp.len, &again));
        FUZZ_CHECK(fuzz_buf_eq(&again, &out));
        while (digits < n && is_hex_digit((unsigned char)s[digits]))
            digits++;
        if (digits == n) {
            /* Plain hex digits: every pair decodes, an odd last digit is dropped. */
            FUZZ_CHECK(out.len == n / 2);
            for (size_t i = 0; i < tmp.len; i++) {
                char c = s[i];
                if (c >= 'A' && c <= 'F')
                    c = (char)(c - 'A' + 'a');
                FUZZ_CHECK(tmp.base[i] == c);
            }
        }
        break;
    }
    case CNET__ENC_BASE64:
    case CNET__ENC_BASE64URL:
        FUZZ_CHECK(out.len <= n * 3 / 4);
        FUZZ_OK(cnet__enc_encode(enc == CNET__ENC_BASE64 ? CNET__ENC_BASE64URL : CNET__ENC_BASE64,
                                 s, n, &again));
        FUZZ_CHECK(fuzz_buf_eq(&again, &out));
        decode_whole(enc, out.base, out.len, &tmp);
        cnet__strbuf_clear(&again);
        FUZZ_OK(cnet__enc_encode(enc, tmp.base, tmp.len, &again));
        FUZZ_CHECK(fuzz_buf_eq(&again, &out));
        break;
    }

    cnet__strbuf_free(&out);
    cnet__strbuf_free(&clean);
    cnet__strbuf_free(&tmp);
    cnet__strbuf_free(&again);
    return 0;
}
