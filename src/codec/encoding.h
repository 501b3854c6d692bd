/*
 * The encoding layer behind cnet_socket_set_encoding() and
 * cnet_socket_write_enc(): Node's Buffer.from(string, enc) and Node's
 * StringDecoder, reproduced byte for byte. Pure functions over bytes with no
 * knowledge of sockets, so they can be tested against node and fuzzed alone.
 *
 * Text on the C side is always UTF-8. Where Node works on a JS string (a
 * sequence of UTF-16 code units), cnet works on the UTF-8 form of that string:
 *   - Encoder input: the bytes are first decoded as Node's
 *     Buffer.from(bytes).toString('utf8') would (WHATWG UTF-8 decoding: every
 *     maximal invalid subpart becomes U+FFFD), and that JS string is what gets
 *     encoded.
 *   - Decoder output: the JS string Node's StringDecoder returns, converted
 *     with Buffer.from(str, 'utf8'), i.e. a lone surrogate becomes U+FFFD.
 *     Each write() is converted on its own, exactly as a 'data' listener in
 *     Node would see it; so for utf16le a surrogate pair that Node returns
 *     split across two write() results comes out as two U+FFFD.
 *
 * Contract, in short:
 *   - Every function appends to a cnet__strbuf_t and keeps it NUL-terminated.
 *   - On CNET_ENOMEM nothing is appended and no state changes: the output
 *     room is reserved before the first byte is produced.
 *   - The decoder holds at most 4 bytes between writes and never allocates.
 */
#ifndef CNET_ENCODING_H
#define CNET_ENCODING_H

#include <cnet.h>

#include <stddef.h>

/* The encodings Node's Buffer.isEncoding() accepts, under their canonical names. */
typedef enum cnet__enc {
    CNET__ENC_UTF8,      /* "utf8", "utf-8" */
    CNET__ENC_ASCII,     /* "ascii" */
    CNET__ENC_LATIN1,    /* "latin1", "binary" */
    CNET__ENC_BASE64,    /* "base64" */
    CNET__ENC_BASE64URL, /* "base64url" */
    CNET__ENC_HEX,       /* "hex" */
    CNET__ENC_UTF16LE    /* "utf16le", "utf-16le", "ucs2", "ucs-2" */
} cnet__enc_t;

#define CNET__ENC_COUNT 7

/*
 * Parses an encoding name as Buffer.isEncoding() does: the names above, ASCII
 * case-insensitive, nothing else (not "", not "utf16", no spaces).
 * @return 0, or CNET_ERR_UNKNOWN_ENCODING (also for NULL).
 */
int cnet__enc_parse(const char *name, cnet__enc_t *out);

/* Node's canonical name ("utf8", "latin1", "utf16le"...); static, never NULL. */
const char *cnet__enc_name(cnet__enc_t enc);

/* ---- Growable output buffer ------------------------------------------------ */

/*
 * A byte buffer that is always NUL-terminated once it owns memory (the NUL is
 * not counted in len). Zero-initialised it is a valid empty buffer.
 */
typedef struct cnet__strbuf {
    char *base;
    size_t len;
    size_t cap; /* allocated bytes, including room for the NUL */
} cnet__strbuf_t;

void cnet__strbuf_init(cnet__strbuf_t *b);
/* Ensures room for @p extra more bytes (plus the NUL). 0 or CNET_ENOMEM. */
int cnet__strbuf_reserve(cnet__strbuf_t *b, size_t extra);
/* Appends @p n bytes. 0 or CNET_ENOMEM (then @p b is unchanged). */
int cnet__strbuf_append(cnet__strbuf_t *b, const void *data, size_t n);
/* Empties @p b but keeps its memory for reuse. */
void cnet__strbuf_clear(cnet__strbuf_t *b);
/* Frees the memory; @p b is then a valid empty buffer again. */
void cnet__strbuf_free(cnet__strbuf_t *b);

/* ---- Encoder: Buffer.from(string, enc) -------------------------------------- */

/*
 * Appends to @p out the bytes Node's Buffer.from(s, enc) produces, where s is
 * the JS string Buffer.from(str[0..len)).toString('utf8') gives. @p str may
 * contain NULs and invalid UTF-8; @p str may be NULL when @p len is 0.
 * @return 0, CNET_ENOMEM, or CNET_ERR_INVALID_ARG_VALUE for a bad @p enc.
 */
int cnet__enc_encode(cnet__enc_t enc, const char *str, size_t len, cnet__strbuf_t *out);

/* ---- Decoder: Node's StringDecoder ------------------------------------------ */

/*
 * Embeddable and small. Fields are private to encoding.c. A decoder needs no
 * cleanup: it owns no memory.
 */
typedef struct cnet__decoder {
    unsigned char enc;      /* cnet__enc_t */
    unsigned char buffered; /* bytes held in buf (Node's kBufferedBytes) */
    unsigned char missing;  /* bytes still wanted to finish them (kMissingBytes) */
    unsigned char buf[4];   /* the incomplete character (kIncompleteCharacters) */
} cnet__decoder_t;

/* Sets up @p d for @p enc with nothing held. */
void cnet__decoder_init(cnet__decoder_t *d, cnet__enc_t enc);

/*
 * decoder.write(bytes): appends the decoded text (UTF-8) to @p out. Bytes of
 * a character that may continue in the next chunk are held back, as Node
 * does. @p data may be NULL when @p len is 0.
 * @return 0 or CNET_ENOMEM (then neither @p d nor @p out changed).
 */
int cnet__decoder_write(cnet__decoder_t *d, const void *data, size_t len, cnet__strbuf_t *out);

/*
 * decoder.end(): appends what Node flushes for the held bytes (U+FFFD for a
 * truncated UTF-8 character, a lone high surrogate as U+FFFD, the padded
 * base64 of 1-2 bytes...) and forgets them. The decoder can be reused.
 * @return 0 or CNET_ENOMEM (then neither @p d nor @p out changed).
 */
int cnet__decoder_end(cnet__decoder_t *d, cnet__strbuf_t *out);

/* Drops any held bytes without output. */
void cnet__decoder_reset(cnet__decoder_t *d);

/* Last, so that internal.h (which embeds the types above) can include this file and vice versa. */
#include "internal.h"

#endif
