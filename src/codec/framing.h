/*
 * The framing engine behind cnet_socket_set_framing() and
 * cnet_socket_write_frame(): a pure byte-stream parser with no knowledge of
 * sockets, so it can be tested (and fuzzed) on its own.
 *
 * Contract, in short:
 *   - cnet__framer_init() validates the options and copies the delimiter; on
 *     failure *f is left untouched, so a caller can build a new framer in a
 *     temporary and swap it in only on success.
 *   - cnet__framer_feed() hands every complete frame to a callback, in
 *     order. A frame lying wholly inside the fed chunk points into that chunk
 *     (zero copy); only a frame that spans chunks is assembled in the
 *     framer's own buffer. Frame bytes are valid only during the callback.
 *   - Errors are sticky: once feed or end has failed, every later feed and
 *     end returns the same code without calling the callback.
 *   - cnet__framer_end() flushes at end of stream: a trailing partial line is
 *     emitted (LINES), a partial frame is CNET_ERR_STREAM_PREMATURE_CLOSE
 *     (LENGTH_PREFIXED, FIXED). On success the framer is left at a frame boundary.
 *   - cnet__framer_encode() gives what write_frame puts around a payload.
 *
 * Re-entrancy: the callback may free or re-initialise the framer it is
 * called from (a 'frame' listener calling cnet_socket_set_framing()): feed
 * re-reads the framer's state after every callback, so the rest of the chunk
 * is parsed with the new options (or ignored after a plain free / mode NONE).
 * The memory holding the cnet__framer_t itself must stay valid until feed
 * returns, and the callback must not call feed or end on the same framer.
 */
#ifndef CNET_FRAMING_H
#define CNET_FRAMING_H

/* Only the public header: the engine knows nothing of libuv or sockets. */
#include <cnet.h>

#include <stdbool.h>
#include <stddef.h>

/* Longest prefix cnet__framer_encode() can produce (an 8-byte header). */
#define CNET__FRAMER_PREFIX_MAX 8

/* Delimiters up to this many bytes live inside the struct, not on the heap. */
#define CNET__FRAMER_INLINE_DELIM 8

/*
 * Embeddable; zero-initialised (or freed) it is a valid framer in mode NONE,
 * for which feed and end do nothing. A framer not inside feed or end may be
 * moved with a plain struct copy. Fields are private to framing.c.
 */
typedef struct cnet__framer {
    char *buf;          /* partial frame spanning chunks, or NULL */
    size_t len;         /* bytes in buf */
    size_t cap;         /* allocated size of buf */
    size_t max_size;    /* LINES: max line; LENGTH_PREFIXED: max payload; FIXED: record_size */
    size_t need;        /* LENGTH_PREFIXED, FIXED: payload length of the frame in progress */
    size_t delim_len;   /* LINES: delimiter length (>= 1) */
    char *delim_heap;   /* LINES: the delimiter when longer than CNET__FRAMER_INLINE_DELIM */
    int err;            /* sticky error, 0 if none */
    unsigned char mode; /* cnet_framing_mode_t */
    unsigned char header_bytes; /* LENGTH_PREFIXED: 1, 2, 4, 8; FIXED: 0 */
    unsigned char hdr_len;      /* LENGTH_PREFIXED: header bytes received so far */
    bool little_endian;         /* LENGTH_PREFIXED: header byte order */
    bool have_len;              /* LENGTH_PREFIXED, FIXED: need is known */
    /* LINES: the delimiter when short; LENGTH_PREFIXED: the partial header. */
    char small[CNET__FRAMER_INLINE_DELIM];
} cnet__framer_t;

/*
 * Called once per frame. @p frame is borrowed (valid until the callback
 * returns, or until it changes the framer) and may be any non-NULL pointer
 * when @p len is 0. Return 0 to continue, nonzero to stop feeding at once;
 * a positive value is best, as it cannot be mistaken for a framer error.
 */
typedef int (*cnet__frame_fn)(void *ctx, const char *frame, size_t len);

/*
 * Validates @p opts and sets up @p f. NULL or mode NONE gives an idle framer.
 * @return 0, CNET_ERR_INVALID_ARG_VALUE (unknown mode, header_bytes not 1, 2,
 *   4 or 8, record_size 0, empty delimiter, NULL delimiter with a nonzero
 *   delimiter_len), CNET_ENOMEM. On failure @p f is not touched.
 */
int cnet__framer_init(cnet__framer_t *f, const cnet_framing_opts_t *opts);

/* Releases what @p f owns and leaves it zeroed (mode NONE). Idempotent. */
void cnet__framer_free(cnet__framer_t *f);

/* True unless @p f is in mode NONE. */
static inline bool cnet__framer_active(const cnet__framer_t *f)
{
    return f->mode != CNET_FRAMING_NONE;
}

/*
 * Parses @p len bytes of @p data (which may be NULL when @p len is 0),
 * calling @p fn for every frame completed.
 * @return 0 when all bytes were consumed; the callback's nonzero value when
 *   it stopped feeding (the frame it got is consumed, the bytes after it are
 *   discarded, the framer is at a frame boundary and can be fed or freed);
 *   CNET_ERR_LINE_TOO_LONG, CNET_ERR_FRAME_TOO_LARGE or CNET_ENOMEM, which
 *   are sticky. Frames completed before an error have been delivered.
 */
int cnet__framer_feed(cnet__framer_t *f, const char *data, size_t len, cnet__frame_fn fn,
                      void *ctx);

/*
 * End of stream. LINES: a buffered partial line is emitted as a last frame
 * (CNET_ERR_LINE_TOO_LONG if it turned out longer than max_size).
 * LENGTH_PREFIXED, FIXED: a partial header or frame is dropped and
 * CNET_ERR_STREAM_PREMATURE_CLOSE returned (sticky).
 * @return 0, the callback's nonzero value, or an error as above.
 */
int cnet__framer_end(cnet__framer_t *f, cnet__frame_fn fn, void *ctx);

/*
 * What cnet_socket_write_frame() sends around a payload of @p len bytes:
 * @p prefix (CNET__FRAMER_PREFIX_MAX bytes of room) receives the header,
 * @p suffix is set to the delimiter (borrowed from @p f, valid until it is
 * changed or freed; "" when there is none, never NULL). Lengths are 0 when
 * there is nothing to add.
 * @p payload is read only in LINES mode and may be NULL when @p len is 0.
 * @return 0;
 *   CNET_ERR_FRAME_TOO_LARGE: @p len over max_size, over what header_bytes
 *   can express, or (FIXED) over record_size;
 *   CNET_ERR_INVALID_ARG_VALUE: mode NONE, FIXED with @p len under
 *   record_size, or a LINES payload that the reader would not get back as
 *   one line (it contains the delimiter, or its tail and the delimiter
 *   overlap into an earlier delimiter, e.g. "xa" + "aa").
 */
int cnet__framer_encode(const cnet__framer_t *f, const void *payload, size_t len,
                        unsigned char *prefix, size_t *prefix_len, const char **suffix,
                        size_t *suffix_len);

#endif
