/*
 * node's onread option: reads go straight from the kernel into a buffer the
 * user supplied, with one callback per read, and nothing is copied. The
 * socket then reads with its own libuv callbacks (chosen in
 * cnet__stream_start_reading), so a plain socket's read path is untouched.
 *
 * As in node: 'data' is not emitted (so neither setEncoding nor framing nor
 * pipe() sees the bytes), 'end' and everything after it are as usual, and a
 * callback returning false stops reading (readStop, not pause(): isPaused()
 * stays false) until resume(). With a buffer function, the function is
 * called once the connection is up and again after every callback, and a
 * NULL answer keeps the current buffer.
 *
 * The user's code never runs inside libuv's alloc callback: a stop or a
 * close there would leave libuv calling a read callback it has cleared.
 */
#include "internal.h"

struct cnet__onread {
    char *buf; /* where the next read goes, or NULL before the first buffer */
    size_t len;
    cnet_onread_buffer_fn buffer_fn;
    cnet_onread_fn cb;
    void *arg;
};

int cnet__onread_init(cnet_socket_t *s, const cnet_socket_opts_t *o)
{
    cnet__onread_t *r;

    if (!o->onread && !o->onread_buffer && !o->onread_buffer_len && !o->onread_buffer_fn)
        return 0;
    /* A callback, and exactly one of a buffer (with its size) or a buffer function. */
    if (!o->onread)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (o->onread_buffer_fn ? (o->onread_buffer || o->onread_buffer_len)
                            : (!o->onread_buffer || !o->onread_buffer_len))
        return CNET_ERR_INVALID_ARG_VALUE;
    r = cnet__calloc(1, sizeof *r);
    if (!r)
        return CNET_ENOMEM;
    r->buf = o->onread_buffer;
    r->len = o->onread_buffer_len;
    r->buffer_fn = o->onread_buffer_fn;
    r->cb = o->onread;
    r->arg = o->onread_arg;
    s->onread = r;
    return 0;
}

void cnet__onread_free(cnet_socket_t *s)
{
    cnet__free(s->onread);
    s->onread = NULL;
}

void cnet__onread_opts_from_connect(cnet_socket_opts_t *so, const cnet_connect_opts_t *o)
{
    so->onread_buffer = o->onread_buffer;
    so->onread_buffer_len = o->onread_buffer_len;
    so->onread_buffer_fn = o->onread_buffer_fn;
    so->onread = o->onread;
    so->onread_arg = o->onread_arg;
}

/* Asks the buffer function for the next buffer; NULL (or a zero size) keeps the current one. */
static void next_buffer(cnet_socket_t *s)
{
    cnet__onread_t *r = s->onread;
    size_t len = 0;
    char *buf = r->buffer_fn(s, &len, r->arg);

    if (buf && len) {
        r->buf = buf;
        r->len = len;
    }
}

/* The connection is up (from a libuv callback, before 'connect'): the first buffer. */
void cnet__onread_connected(cnet_socket_t *s)
{
    if (!s->onread->buffer_fn)
        return;
    cnet__socket_retain(s);
    next_buffer(s);
    cnet__socket_release(s);
}

void cnet__onread_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    cnet_socket_t *s = h->data;

    CNET__UNUSED(suggested);
    /* No buffer (the function gave none yet): libuv reports UV_ENOBUFS to on_read. */
    buf->base = s->onread->buf;
    buf->len = s->onread->buf ? s->onread->len : 0;
}

void cnet__onread_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    cnet_socket_t *s = stream->data;
    cnet__onread_t *r = s->onread;
    bool more;

    if (nread > 0) {
        s->bytes_read += (uint64_t)nread;
        cnet__socket_touch(s);
        cnet__socket_retain(s);
        more = r->cb(s, (size_t)nread, buf->base, r->arg);
        /* Node asks for the next buffer even when the callback destroyed the socket. */
        if (r->buffer_fn)
            next_buffer(s);
        if (!more)
            cnet__stream_stop_reading(s);
        cnet__socket_release(s);
    } else if (nread == UV_EOF) {
        cnet__stream_on_eof(s);
    } else if (nread < 0) {
        cnet__socket_destroy(s, cnet__err_from_uv((int)nread), "read");
    }
}
