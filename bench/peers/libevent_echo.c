/*
 * libevent_echo: an echo server on libevent's bufferevents (libevent 2.1).
 *
 *   libevent_echo HOST:PORT | [V6]:PORT | unix:PATH
 *
 * Echoes every byte, sends no greeting, sets TCP_NODELAY, runs until SIGTERM.
 * The idiomatic bufferevent echo: the read callback moves the input buffer's
 * chains onto the output buffer (evbuffer_add_buffer, no copy). Reading is
 * disabled while more than BACKLOG_LIMIT bytes wait to be sent and re-enabled
 * by the write low-watermark callback.
 *
 * The bufferevent limits are raised to 64 KiB per call, like the other peers'
 * buffers. Writes honour that, but libevent 2.1 still reads at most 4 KiB per
 * call (EVBUFFER_MAX_READ in buffer.c), one read per loop iteration: that,
 * not this program, is why its streaming numbers are low.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/tcp.h>
#include <signal.h>

#include "../bench_addr.h"

#define BACKLOG_LIMIT (1024 * 1024)

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct evbuffer *out = bufferevent_get_output(bev);

    (void)arg;
    evbuffer_add_buffer(out, bufferevent_get_input(bev));
    if (evbuffer_get_length(out) >= BACKLOG_LIMIT) {
        bufferevent_disable(bev, EV_READ);
        bufferevent_setwatermark(bev, EV_WRITE, BACKLOG_LIMIT / 2, 0);
    }
}

/* Runs when the output has drained below the low watermark (only set while paused). */
static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (!(bufferevent_get_enabled(bev) & EV_READ)) {
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_enable(bev, EV_READ);
    }
}

/* After the peer's EOF: the output has drained, so the connection is done. */
static void flushed_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    bufferevent_free(bev);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
        evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
        /* Close once everything owed to the peer is written. */
        bufferevent_disable(bev, EV_READ);
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        bufferevent_setcb(bev, NULL, flushed_cb, event_cb, NULL);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev;
    int one = 1;

    (void)salen;
    (void)arg;
    if (sa->sa_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    /* Up to 64 KiB per call (default 16 KiB); see the note at the top about reads. */
    bufferevent_set_max_single_read(bev, 65536);
    bufferevent_set_max_single_write(bev, 65536);
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, NULL);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int main(int argc, char **argv)
{
    struct bench_addr addr;
    struct event_base *base;
    struct evconnlistener *l;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;

    bench_addr_from_args(argc, argv, &addr);
    signal(SIGPIPE, SIG_IGN);

    base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "libevent_echo: event_base_new failed\n");
        return 1;
    }
    if (addr.family != AF_UNIX)
        flags |= LEV_OPT_REUSEABLE;
    l = evconnlistener_new_bind(base, on_accept, NULL, flags, SOMAXCONN,
                                (struct sockaddr *)&addr.ss, (int)addr.sslen);
    if (l == NULL) {
        fprintf(stderr, "libevent_echo: listen %s: %s\n", argv[1],
                evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return 1;
    }
    event_base_dispatch(base);
    evconnlistener_free(l);
    event_base_free(base);
    return 0;
}
