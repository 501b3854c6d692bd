/*
 * src.pipe(dst): bytes read from src are written to dst. Backpressure as in
 * Node: when dst's write says "wait" (returns 1), src is paused until dst
 * emits 'drain', so memory stays bounded by dst's highWaterMark plus one
 * read. With end, src's 'end' ends dst. Either side closing undoes the pipe.
 * Errors are not forwarded (Node does not either): each side reports its own.
 */
#include "internal.h"

static void on_dst_drain(cnet_socket_t *dst, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *src = arg;
    if (src->pipe_paused) {
        src->pipe_paused = false;
        cnet_socket_resume(src);
    }
}

static void on_either_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *src = s->pipe_dst ? s : arg;
    cnet_socket_unpipe(src);
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
    int err;

    if (!src || !dst)
        return CNET_ERR_INVALID_ARG_TYPE;
    /* src == dst is fine: the seeds' echo server is c.pipe(c). */
    if ((src->flags | dst->flags) & CNET__S_DESTROYED)
        return CNET_ERR_STREAM_DESTROYED;
    if (src->pipe_dst || dst->pipe_src)
        return CNET_ERR_STREAM_ALREADY_PIPED;
    if ((err = cnet_socket_on(dst, CNET_EVENT_DRAIN, on_dst_drain, src)) != 0)
        return err;
    if ((err = cnet_socket_on(dst, CNET_EVENT_CLOSE, on_either_close, src)) != 0 ||
        (err = cnet_socket_on(src, CNET_EVENT_CLOSE, on_either_close, dst)) != 0) {
        cnet_socket_off(dst, CNET_EVENT_DRAIN, on_dst_drain, src);
        cnet_socket_off(dst, CNET_EVENT_CLOSE, on_either_close, src);
        return err;
    }
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
    cnet_socket_off(dst, CNET_EVENT_DRAIN, on_dst_drain, src);
    cnet_socket_off(dst, CNET_EVENT_CLOSE, on_either_close, src);
    cnet_socket_off(src, CNET_EVENT_CLOSE, on_either_close, dst);
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
