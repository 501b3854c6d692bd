/*
 * src.pipe(dst): bytes read from src are written to dst. Backpressure as in
 * Node: when dst's write says "wait" (returns 1), src is paused until dst
 * emits 'drain', so memory stays bounded by dst's highWaterMark plus one
 * read. With end, src's 'end' ends dst. Either side closing undoes the pipe.
 * Errors are not forwarded (Node does not either): each side reports its own.
 *
 * The pipe's own bookkeeping lives in no listener the user could remove
 * (off_all(CLOSE) or off_all(DRAIN) would break it): the socket's close path
 * calls cnet__pipe_detach() and its 'drain' emission cnet__pipe_on_drain().
 */
#include "internal.h"

/* dst emitted 'drain': a source that its backpressure paused flows again. */
void cnet__pipe_on_drain(cnet_socket_t *dst)
{
    cnet_socket_t *src = dst->pipe_src;
    if (src && src->pipe_paused) {
        src->pipe_paused = false;
        cnet_socket_resume(src);
    }
}

/* @p s is closing: undo the pipes it is part of (either side). */
void cnet__pipe_detach(cnet_socket_t *s)
{
    if (s->pipe_dst)
        cnet_socket_unpipe(s);
    if (s->pipe_src)
        cnet_socket_unpipe(s->pipe_src);
}

void cnet__pipe_on_data(cnet_socket_t *src, const char *base, size_t len)
{
    cnet_socket_t *dst = src->pipe_dst;
    int r = cnet_socket_write(dst, base, len, NULL, NULL);

    if (r == 1) {
        src->pipe_paused = true;
        cnet_socket_pause(src);
    } else if (r < 0) {
        /* dst can take no more (ended or destroyed): stop feeding it. */
        cnet_socket_unpipe(src);
    }
}

void cnet__pipe_on_end(cnet_socket_t *src)
{
    cnet_socket_t *dst = src->pipe_dst;
    if (src->pipe_end && !(dst->flags & (CNET__S_DESTROYED | CNET__S_ENDING)))
        cnet_socket_end(dst, NULL, 0, NULL, NULL);
    cnet_socket_unpipe(src);
}

int cnet_socket_pipe(cnet_socket_t *src, cnet_socket_t *dst, bool end)
{
    if (!src || !dst)
        return CNET_ERR_INVALID_ARG_TYPE;
    /* src == dst is fine: the seeds' echo server is c.pipe(c). */
    if ((src->flags | dst->flags) & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (src->pipe_dst || dst->pipe_src)
        return CNET_ERR_STREAM_ALREADY_PIPED;
    src->pipe_dst = dst;
    src->pipe_end = end;
    dst->pipe_src = src;
    cnet__socket_retain(src);
    cnet__socket_retain(dst);
    /* Node's pipe() starts the flow. */
    cnet_socket_resume(src);
    return 0;
}

int cnet_socket_unpipe(cnet_socket_t *src)
{
    cnet_socket_t *dst;

    if (!src)
        return CNET_ERR_INVALID_ARG_TYPE;
    dst = src->pipe_dst;
    if (!dst)
        return 0;
    src->pipe_dst = NULL;
    dst->pipe_src = NULL;
    if (src->pipe_paused) {
        src->pipe_paused = false;
        cnet_socket_resume(src);
    }
    cnet__socket_release(dst);
    cnet__socket_release(src);
    return 0;
}
