/*
 * Unix socket names: filesystem paths and Linux abstract names.
 *
 * A name is given as bytes and a length (cnet_listen_opts_t.path_len,
 * cnet_connect_opts_t.path_len). One starting with a NUL byte is a Linux
 * abstract name: it lives in no filesystem, disappears with its last
 * socket, and every byte after the NUL counts, NULs included. libuv 1.44
 * only takes NUL-terminated names (uv_pipe_bind2/connect2, which take a
 * length, came in 1.46), so for an abstract name the socket is made, bound
 * or connected here and handed to libuv with uv_pipe_open().
 *
 * The address length is exactly the name's (offsetof(sun_path) + len), as
 * bind(2) means it and as libuv >= 1.48, node >= 22, Python, Go and socat
 * use it. Node v20 (libuv 1.46) pads the name with NULs to the whole
 * sun_path instead; a cnet peer reaches such a name by passing the padded
 * 108 bytes as the name (docs/node-differences.md).
 *
 * Connecting does not block: on Linux a nonblocking AF_UNIX stream
 * connect(2) completes or fails at once (a full backlog is EAGAIN, which
 * libuv and so node report as the connect's error too); it never returns
 * EINPROGRESS.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cnet__unix_check(const char *path, size_t path_len, size_t *len)
{
    struct sockaddr_un un;

    if (!path)
        return CNET_ERR_INVALID_ARG_VALUE;
    if (path_len == 0) {
        /* A NUL-terminated path, as before path_len existed. */
        if (!*path)
            return CNET_ERR_INVALID_ARG_VALUE;
        path_len = strlen(path);
    } else if (path[0] != '\0' && memchr(path, '\0', path_len)) {
        return CNET_ERR_INVALID_ARG_VALUE; /* a path with a NUL inside names another file */
    }
    if (path[0] == '\0') {
#ifndef __linux__
        return CNET_EINVAL; /* abstract names are Linux only (libuv says EINVAL too) */
#endif
        if (path_len > sizeof un.sun_path)
            return CNET_ENAMETOOLONG;
    } else if (path_len >= sizeof un.sun_path) {
        /* libuv would silently truncate; a path must fit with its NUL. */
        return CNET_ENAMETOOLONG;
    }
    *len = path_len;
    return 0;
}

char *cnet__unix_dup(const char *name, size_t len)
{
    char *p = cnet__malloc(len + 1);

    if (p) {
        memcpy(p, name, len);
        p[len] = '\0';
    }
    return p;
}

void cnet__unix_display(const char *name, size_t len, char *out, size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        out[n++] = name[i] == '\0' ? '@' : name[i];
    out[n] = '\0';
}

void cnet__unix_to_address(const char *name, size_t len, cnet_address_t *out)
{
    memset(out, 0, sizeof *out);
    if (len > sizeof out->address - 1)
        len = sizeof out->address - 1;
    memcpy(out->address, name, len);
    out->port = -1;
    out->family = 0;
}

/* A new nonblocking AF_UNIX stream socket, or a negative code. */
static int unix_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    return fd < 0 ? -errno : fd;
}

static socklen_t fill_sockaddr(struct sockaddr_un *sa, const char *name, size_t len)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, len);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Hands @p fd to @p pipe (initialised, without an fd); closes it on failure. */
static int open_on_pipe(uv_pipe_t *pipe, int fd)
{
    int err = uv_pipe_open(pipe, fd);

    if (err) {
        close(fd);
        return cnet__err_from_uv(err);
    }
    return 0;
}

int cnet__unix_bind_abstract(uv_pipe_t *pipe, const char *name, size_t len)
{
    struct sockaddr_un sa;
    socklen_t salen = fill_sockaddr(&sa, name, len);
    int fd = unix_socket();

    if (fd < 0)
        return fd;
    if (bind(fd, (struct sockaddr *)&sa, salen) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return open_on_pipe(pipe, fd);
}

int cnet__unix_connect_abstract(uv_pipe_t *pipe, const char *name, size_t len)
{
    struct sockaddr_un sa;
    socklen_t salen = fill_sockaddr(&sa, name, len);
    int fd = unix_socket(), r;

    if (fd < 0)
        return fd;
    do
        r = connect(fd, (struct sockaddr *)&sa, salen);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        /* ECONNREFUSED (no such name), EAGAIN (full backlog), EACCES... as libuv reports them. */
        int err = -errno;
        close(fd);
        return err;
    }
    return open_on_pipe(pipe, fd);
}
