/*
 * Existing descriptors: node's new net.Socket({fd, readable, writable}) and
 * the handle half of listen({fd}) / listen(handle).
 *
 * TCP or Unix is told from the fd as node does (uv_guess_handle: fstat,
 * SO_TYPE, the family of getsockname), then the fd is opened on a libuv
 * handle. The rule of ownership (cnet.h): a call that returns an error has
 * not touched the fd; once it succeeds the fd is the object's, closed with
 * its handle.
 */
#include "internal.h"

#include <fcntl.h>
#include <unistd.h>

int cnet__fd_kind(int fd)
{
    if (fd < 0)
        return CNET__FD_OTHER;
    switch (uv_guess_handle(fd)) {
    case UV_TCP:
        return CNET__FD_TCP;
    case UV_NAMED_PIPE:
        return CNET__FD_PIPE;
    default:
        return CNET__FD_OTHER; /* a file, a tty, UDP, a closed fd: node's ERR_INVALID_FD_TYPE */
    }
}

typedef struct fd_search {
    int fd;
    bool found;
} fd_search_t;

static void find_fd(uv_handle_t *h, void *arg)
{
    fd_search_t *q = arg;
    uv_os_fd_t fd;

    if ((h->type == UV_TCP || h->type == UV_NAMED_PIPE) && !uv_is_closing(h) &&
        uv_fileno(h, &fd) == 0 && fd == q->fd)
        q->found = true;
}

int cnet__fd_open(uv_loop_t *loop, cnet__handle_t *h, int fd, int kind, bool *inited)
{
    fd_search_t q = {fd, false};
    int err;

    *inited = false;
    /* libuv's own EEXIST check sees only fds it polls already: a socket from
     * an fd whose reading has not started yet, or a second listen on one fd,
     * would go unnoticed, and the fd would be closed twice. Rare calls: a walk. */
    uv_walk(loop, find_fd, &q);
    if (q.found)
        return CNET_EEXIST;
    err = kind == CNET__FD_PIPE ? uv_pipe_init(loop, &h->pipe, 0) : uv_tcp_init(loop, &h->tcp);
    if (err)
        return cnet__err_from_uv(err);
    *inited = true;
    /* Fails before libuv takes the fd (EEXIST: the loop already watches it; the
     * O_NONBLOCK fcntl), so the fd is still the caller's then. */
    err = kind == CNET__FD_PIPE ? uv_pipe_open(&h->pipe, fd) : uv_tcp_open(&h->tcp, fd);
    return cnet__err_from_uv(err);
}

int cnet__fd_dup(const uv_handle_t *h)
{
    uv_os_fd_t fd;
    int copy;

    if (uv_fileno(h, &fd) != 0)
        return CNET_ERR_INVALID_ARG_VALUE;
    copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return copy >= 0 ? copy : -errno;
}

/* Reading starts on a tick, so onread's buffer function never runs inside cnet_socket_new(). */
static void tick_start(cnet__tick_t *t)
{
    cnet_socket_t *s = t->obj;

    if (s->flags & CNET__S_DESTROYED)
        return;
    if (s->onread)
        cnet__onread_connected(s);
    if (!(s->flags & CNET__S_DESTROYED))
        cnet__stream_start_reading(s);
}

int cnet__socket_open_fd(cnet_socket_t *s, const cnet_socket_opts_t *o)
{
    int kind, err;
    bool inited;

    if (o->fd < 0)
        return CNET_ERR_OUT_OF_RANGE; /* node's validateInt32(fd, 'fd', 0) */
    kind = cnet__fd_kind(o->fd);
    if (kind == CNET__FD_OTHER)
        return CNET_ERR_INVALID_FD_TYPE;
    if (s->flags & CNET__S_DESTROYED) {
        /* An already aborted signal destroyed it: the fd was given, so it goes too. */
        close(o->fd);
        return 0;
    }
    /* The tick first: once libuv has the fd nothing may fail. It does nothing
     * if the caller destroys s after a failed open. */
    if (!cnet__tick(s->loop, tick_start, s, &cnet__socket_ref_ops))
        return CNET_ENOMEM;
    err = cnet__fd_open(s->loop->uv, &s->h, o->fd, kind, &inited);
    if (inited) {
        s->h.handle.data = s;
        s->flags |= CNET__S_HANDLE | (kind == CNET__FD_PIPE ? CNET__S_PIPE : 0);
    }
    if (err)
        return err; /* the caller destroys s: the handle closes without the fd */
    s->flags |= CNET__S_CONNECTED | CNET__S_EVER_CONNECTED | CNET__S_CONNECT_STARTED;
    if (o->not_readable)
        s->flags |= CNET__S_EOF; /* node's readable: false: ended, never read, no 'end' */
    if (o->not_writable)         /* writable: false: finished, and no shutdown is ever sent */
        s->flags |= CNET__S_ENDING | CNET__S_SHUTDOWN | CNET__S_FINISHED;
    cnet__socket_cache_fd(s);
    return 0;
}
