/*
 * A socket's endpoints: socket.address() and remoteAddress/Port/Family,
 * also after 'close'.
 *
 * Node caches remoteAddress lazily (the first read while connected sticks;
 * one never read before a reset or destroy() is undefined afterwards) and
 * forgets address() at destroy(). cnet keeps both for every socket that was
 * connected. They cannot be fetched at destroy time: the kernel answers
 * getpeername() with ENOTCONN once a TCP connection is reset or fully closed
 * (CLOSED, TIME_WAIT), which is how most connections end. So both are
 * captured once, when the connection is established, into two
 * sockaddr_in6-sized slots inside the socket (a pipe's paths, rarer and
 * longer, go to the heap). Queries then answer from that copy without a
 * system call, open or closed.
 */
#include "internal.h"

#include <sys/socket.h>
#include <sys/un.h>

/*
 * One end's path, by getsockname/getpeername on the fd rather than libuv's
 * uv_pipe_get*name: libuv 1.44 reads sun_path of an unnamed end that the
 * kernel left unwritten (valgrind reports it). An unnamed end (the usual
 * client), an abstract name's leading NUL aside, or a failure gives length 0.
 */
static size_t pipe_name(int fd, bool peer, char *out, size_t cap)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    size_t n;

    memset(&sa, 0, sizeof sa);
    if (fd < 0 || (peer ? getpeername(fd, (struct sockaddr *)&sa, &len)
                        : getsockname(fd, (struct sockaddr *)&sa, &len)) != 0)
        return 0;
    if (len <= offsetof(struct sockaddr_un, sun_path))
        return 0;
    n = len - offsetof(struct sockaddr_un, sun_path);
    if (sa.sun_path[0] != '\0')
        n = strnlen(sa.sun_path, n);
    if (n > cap)
        n = cap;
    memcpy(out, sa.sun_path, n);
    return n;
}

static void capture_pipe(cnet_socket_t *s)
{
    char local[CNET_ADDRSTRLEN], peer[CNET_ADDRSTRLEN];
    size_t nl, np;
    cnet__pipe_names_t *p;
    uv_os_fd_t fd;

    if (uv_fileno(&s->h.handle, &fd) != 0)
        fd = -1;
    nl = pipe_name(fd, false, local, sizeof local);
    np = pipe_name(fd, true, peer, sizeof peer);
    if (nl > CNET_ADDRSTRLEN - 1)
        nl = CNET_ADDRSTRLEN - 1;
    if (np > CNET_ADDRSTRLEN - 1)
        np = CNET_ADDRSTRLEN - 1;
    p = cnet__malloc(sizeof *p + nl + np);
    if (!p)
        return; /* queries fall back to asking the kernel while the socket is open */
    p->local_len = (uint8_t)nl;
    p->peer_len = (uint8_t)np;
    memcpy(p->names, local, nl);
    memcpy(p->names + nl, peer, np);
    s->ends.pipe = p;
    s->ends_kind = CNET__ENDS_PIPE;
}

static void capture_ip(cnet_socket_t *s)
{
    int len;

    len = sizeof s->ends.ip.local;
    if (uv_tcp_getsockname(&s->h.tcp, &s->ends.ip.local.sa, &len) != 0)
        s->ends.ip.local.sa.sa_family = AF_UNSPEC;
    len = sizeof s->ends.ip.peer;
    if (uv_tcp_getpeername(&s->h.tcp, &s->ends.ip.peer.sa, &len) != 0)
        s->ends.ip.peer.sa.sa_family = AF_UNSPEC; /* e.g. reset between accept and now */
    s->ends_kind = CNET__ENDS_IP;
}

void cnet__socket_free_endpoints(cnet_socket_t *s)
{
    if (s->ends_kind == CNET__ENDS_PIPE)
        cnet__free(s->ends.pipe);
    s->ends_kind = CNET__ENDS_NONE;
}

/* Once per connection, when it is up (after connect or accept). A reconnect replaces it. */
void cnet__socket_capture_endpoints(cnet_socket_t *s)
{
    cnet__socket_free_endpoints(s);
    if (!(s->flags & CNET__S_HANDLE))
        return;
    if (s->flags & CNET__S_PIPE)
        capture_pipe(s);
    else
        capture_ip(s);
}

static void fill_path(cnet_address_t *out, const char *path, size_t n)
{
    memset(out, 0, sizeof *out);
    memcpy(out->address, path, n < sizeof out->address ? n : sizeof out->address - 1);
    out->port = -1;
}

/* Asks the kernel: only while open, and only when the capture at connect failed. */
static int live_name(const cnet_socket_t *s, cnet_address_t *out, bool peer)
{
    struct sockaddr_storage ss;
    int len = sizeof ss, err;

    if (s->flags & CNET__S_PIPE) {
        char path[CNET_ADDRSTRLEN];
        size_t n = sizeof path;
        err = peer ? uv_pipe_getpeername(&s->h.pipe, path, &n)
                   : uv_pipe_getsockname(&s->h.pipe, path, &n);
        if (err)
            return cnet__err_from_uv(err);
        fill_path(out, path, n);
        return 0;
    }
    err = peer ? uv_tcp_getpeername(&s->h.tcp, (struct sockaddr *)&ss, &len)
               : uv_tcp_getsockname(&s->h.tcp, (struct sockaddr *)&ss, &len);
    if (err)
        return cnet__err_from_uv(err);
    return cnet__addr_from_sockaddr((struct sockaddr *)&ss, (size_t)len, out);
}

static int sock_name(const cnet_socket_t *s, cnet_address_t *out, bool peer)
{
    bool open;

    if (!s || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    open =
        (s->flags & (CNET__S_HANDLE | CNET__S_CONNECTED)) == (CNET__S_HANDLE | CNET__S_CONNECTED);
    /* Closed: only a socket that was connected has endpoints (a revived one, not yet again). */
    if (!open && (s->flags & (CNET__S_DESTROYED | CNET__S_EVER_CONNECTED)) !=
                     (CNET__S_DESTROYED | CNET__S_EVER_CONNECTED))
        return CNET_ENOTCONN;
    if (s->ends_kind == CNET__ENDS_PIPE) {
        const cnet__pipe_names_t *p = s->ends.pipe;
        if (peer)
            fill_path(out, p->names + p->local_len, p->peer_len);
        else
            fill_path(out, p->names, p->local_len);
        return 0;
    }
    if (s->ends_kind == CNET__ENDS_IP) {
        const cnet__sockaddr_t *sa = peer ? &s->ends.ip.peer : &s->ends.ip.local;
        if (sa->sa.sa_family != AF_UNSPEC)
            return cnet__addr_from_sockaddr(&sa->sa, sizeof *sa, out);
    }
    return open ? live_name(s, out, peer) : CNET_ENOTCONN;
}

int cnet_socket_remote_address(const cnet_socket_t *s, cnet_address_t *out)
{
    return sock_name(s, out, true);
}

int cnet_socket_address(const cnet_socket_t *s, cnet_address_t *out)
{
    return sock_name(s, out, false);
}
