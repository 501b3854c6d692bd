/*
 * epoll_echo: the reference echo server, raw edge-triggered epoll.
 *
 *   epoll_echo HOST:PORT | [V6]:PORT | unix:PATH
 *
 * Echoes every byte, sends no greeting, sets TCP_NODELAY, runs until SIGTERM.
 * It is the floor the other servers are compared against, so it does only
 * what a careful hand-written server does:
 *   - one epoll registration per socket for its whole life (EPOLLIN|EPOLLOUT|
 *     EPOLLET), so the hot path makes no epoll_ctl calls;
 *   - one shared read buffer; bytes are sent straight from it, and only what
 *     the kernel does not take is copied into a per-connection backlog;
 *   - a short read means the socket is drained (a later arrival raises a new
 *     edge), so no extra read() just to see EAGAIN; except after EPOLLRDHUP,
 *     when the FIN may already be queued behind the data and no new edge
 *     would announce it;
 *   - reading stops while a connection's backlog is over a limit and resumes
 *     when EPOLLOUT empties it, so a client that does not read cannot make
 *     the server buffer without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../bench_addr.h"

#define READ_BUF_SIZE (64 * 1024)
#define BACKLOG_LIMIT (1024 * 1024) /* stop reading above this many unsent bytes */
#define MAX_EVENTS    256

struct conn {
    int fd;
    bool rdhup;     /* EPOLLRDHUP seen: the FIN may sit behind unread data */
    bool eof;       /* read the FIN: close once the backlog is flushed */
    char *out;      /* bytes the kernel has not taken yet */
    size_t out_off; /* first unsent byte in out */
    size_t out_len; /* end of unsent bytes in out */
    size_t out_cap;
};

static char read_buf[READ_BUF_SIZE];
static int epfd;
static int listen_fd;

static void conn_close(struct conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c->out);
    free(c);
}

static size_t backlog(const struct conn *c)
{
    return c->out_len - c->out_off;
}

/* Appends bytes the kernel did not take; false when out of memory. */
static bool backlog_add(struct conn *c, const char *p, size_t n)
{
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n > c->out_cap) {
        size_t live = backlog(c);
        size_t cap = c->out_cap ? c->out_cap : 16384;
        char *nb;

        /* Slide unsent bytes to the front before growing. */
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, live);
            c->out_off = 0;
            c->out_len = live;
        }
        while (cap < live + n)
            cap *= 2;
        if (cap != c->out_cap) {
            nb = realloc(c->out, cap);
            if (nb == NULL)
                return false;
            c->out = nb;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return true;
}

/* Sends as much of the backlog as the kernel takes; -1 on a fatal error. */
static int flush_backlog(struct conn *c)
{
    while (backlog(c) > 0) {
        ssize_t n = send(c->fd, c->out + c->out_off, backlog(c), MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->out_off += (size_t)n;
    }
    return 0;
}

/* Echoes @n bytes: straight from @p if nothing is queued, else behind the queue. */
static int echo(struct conn *c, const char *p, size_t n)
{
    while (backlog(c) == 0 && n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    if (n > 0 && !backlog_add(c, p, n))
        return -1;
    return 0;
}

/*
 * Reads until the socket is drained or the backlog is full; -1 closes.
 * @until_eof: the peer has shut down, read on to the EOF.
 */
static int on_readable(struct conn *c, bool until_eof)
{
    while (!c->eof && backlog(c) < BACKLOG_LIMIT) {
        ssize_t n = read(c->fd, read_buf, sizeof(read_buf));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        if (n == 0) {
            c->eof = true;
            break;
        }
        if (echo(c, read_buf, (size_t)n) != 0)
            return -1;
        if ((size_t)n < sizeof(read_buf) && !until_eof)
            break; /* drained: the next arrival raises a new edge */
    }
    return 0;
}

static void on_conn_event(struct conn *c, uint32_t events)
{
    bool was_full = backlog(c) >= BACKLOG_LIMIT;

    if (events & EPOLLERR)
        goto close;
    if (events & (EPOLLRDHUP | EPOLLHUP))
        c->rdhup = true;
    if ((events & EPOLLOUT) && flush_backlog(c) != 0)
        goto close;
    /*
     * Read on EPOLLIN, and also when a full backlog has just drained: reading
     * stopped mid-stream then, so no new edge will announce the bytes waiting.
     */
    if ((events & (EPOLLIN | EPOLLHUP)) || (was_full && backlog(c) < BACKLOG_LIMIT)) {
        if (on_readable(c, c->rdhup) != 0)
            goto close;
    }
    if (c->eof && backlog(c) == 0)
        goto close;
    return;
close:
    conn_close(c);
}

static void on_accept(void)
{
    for (;;) {
        struct epoll_event ev;
        struct conn *c;
        int one = 1;
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                perror("epoll_echo: accept4");
            return; /* EAGAIN, or EMFILE and friends: try again on the next edge */
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on unix */
        c = calloc(1, sizeof(*c));
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            conn_close(c);
            continue;
        }
    }
}

int main(int argc, char **argv)
{
    struct bench_addr addr;
    struct epoll_event ev, events[MAX_EVENTS];
    int one = 1;

    bench_addr_from_args(argc, argv, &addr);
    signal(SIGPIPE, SIG_IGN);

    listen_fd = socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) {
        perror("epoll_echo: socket");
        return 1;
    }
    if (addr.family != AF_UNIX)
        setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(listen_fd, (struct sockaddr *)&addr.ss, addr.sslen) != 0 ||
        listen(listen_fd, SOMAXCONN) != 0) {
        perror("epoll_echo: bind/listen");
        return 1;
    }

    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        perror("epoll_echo: epoll_create1");
        return 1;
    }
    /* data.ptr NULL marks the listening socket. */
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = NULL;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
        perror("epoll_echo: epoll_ctl");
        return 1;
    }

    for (;;) {
        int i, n = epoll_wait(epfd, events, MAX_EVENTS, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_echo: epoll_wait");
            return 1;
        }
        for (i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL)
                on_accept();
            else
                on_conn_event(events[i].data.ptr, events[i].events);
        }
    }
}
