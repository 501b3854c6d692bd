/*
 * The socket's read-only properties from node's Readable/Writable and
 * net.Socket that need no state of their own (readableHighWaterMark,
 * writableCorked, writableEnded, writableFinished, readableEncoding,
 * socket.server, whether socket.timeout is set), and destroy(err) with a
 * message of the caller's.
 */
#include "internal.h"

#include <stdio.h>

size_t cnet_socket_readable_high_water_mark(const cnet_socket_t *s)
{
    /* One highWaterMark option sets both sides in node; cnet does not buffer reads. */
    return s ? s->hwm : 0;
}

unsigned cnet_socket_writable_corked(const cnet_socket_t *s)
{
    return s ? s->corked : 0;
}

bool cnet_socket_writable_ended(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_ENDING);
}

bool cnet_socket_writable_finished(const cnet_socket_t *s)
{
    return s && (s->flags & CNET__S_FINISHED);
}

const char *cnet_socket_readable_encoding(const cnet_socket_t *s)
{
    return s && s->decoding ? cnet__enc_name((cnet__enc_t)s->decoder.enc) : NULL;
}

cnet_server_t *cnet_socket_server(const cnet_socket_t *s)
{
    return s ? s->server : NULL;
}

bool cnet_socket_has_timeout(const cnet_socket_t *s)
{
    return s && s->timeout_set;
}

void cnet_socket_destroy_with_message(cnet_socket_t *s, int code, const char *message)
{
    if (!s || (s->flags & CNET__S_DESTROYED))
        return;
    if (code >= 0)
        code = CNET_ERR_INVALID_ARG_VALUE; /* as cnet_socket_destroy_with_error() */
    if (!s->err)
        s->err = cnet__calloc(1, sizeof *s->err);
    if (s->err) {
        cnet__errinfo_set(s->err, code, NULL, NULL, -1, NULL, CNET__MSG_PLAIN);
        if (message)
            snprintf(s->err->message, sizeof s->err->message, "%s", message);
    }
    /* Without memory for the message, the error still comes, with the code's own text. */
    cnet__socket_destroy(s, code, NULL);
}
