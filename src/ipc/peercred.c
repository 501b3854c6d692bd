/*
 * Peer credentials of a Unix socket (beyond node): who is on the other end.
 *
 * Read on demand from the connected fd rather than at accept: the kernel
 * keeps them for the socket's whole life (also after the peer's FIN or
 * close), so storing them would only cost every connection memory and a
 * system call that most programs never need.
 */
#include "internal.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <sys/ucred.h>
#endif

static int read_credentials(int fd, cnet_peer_credentials_t *out)
{
#if defined(SO_PEERCRED) && defined(__linux__)
    struct ucred uc;
    socklen_t len = sizeof uc;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
        return -errno;
    out->pid = uc.pid;
    out->uid = uc.uid;
    out->gid = uc.gid;
    return 0;
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
    defined(__DragonFly__)
    uid_t uid;
    gid_t gid;

    if (getpeereid(fd, &uid, &gid) != 0)
        return -errno;
    out->pid = -1;
    out->uid = uid;
    out->gid = gid;
#if defined(__APPLE__) && defined(LOCAL_PEERPID)
    {
        pid_t pid;
        socklen_t len = sizeof pid;
        if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0)
            out->pid = pid;
    }
#endif
    return 0;
#else
    (void)fd;
    (void)out;
    return CNET_ENOSYS;
#endif
}

int cnet_socket_peer_credentials(const cnet_socket_t *s, cnet_peer_credentials_t *out)
{
    uv_os_fd_t fd;
    int err;

    if (!s || !out)
        return CNET_ERR_INVALID_ARG_TYPE;
    if (s->flags & (CNET__S_DESTROYED | CNET__S_CLOSED))
        return CNET_ERR_SOCKET_CLOSED;
    if (!(s->flags & CNET__S_CONNECTED) || !(s->flags & CNET__S_HANDLE))
        return CNET_ENOTCONN;
    if (!(s->flags & CNET__S_PIPE))
        return CNET_ENOTSUP;
    if ((err = uv_fileno(&s->h.handle, &fd)) != 0)
        return cnet__err_from_uv(err);
    memset(out, 0, sizeof *out);
    if ((err = read_credentials(fd, out)) != 0) {
        out->pid = -1;
        return err;
    }
    return 0;
}
