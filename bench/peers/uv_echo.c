/*
 * uv_echo: an echo server on raw libuv, written the way a libuv expert would.
 *
 *   uv_echo HOST:PORT | [V6]:PORT | unix:PATH
 *
 * Echoes every byte, sends no greeting, sets TCP_NODELAY, runs until SIGTERM.
 * This is the baseline cnet's ratios are taken against ("raw libuv = 1.00"),
 * so it carries none of the abstraction cnet adds:
 *   - one read buffer shared by every connection of the loop (alloc_cb hands
 *     out the same 64 KiB each time; libuv reads one stream at a time);
 *   - uv_try_write() first, straight from that buffer; only the remainder is
 *     copied into a uv_write() request (libuv itself refuses try_write while
 *     a write is queued, which keeps the bytes in order);
 *   - reading stops while more than BACKLOG_LIMIT bytes are queued and
 *     resumes when the queue drains.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../bench_addr.h"

#define READ_BUF_SIZE (64 * 1024)
#define BACKLOG_LIMIT (1024 * 1024)

/* A uv_write() request carrying its own copy of the unsent bytes. */
struct write_req {
    uv_write_t req;
    char data[];
};

static char read_buf[READ_BUF_SIZE];
static bool is_tcp;

static void on_close(uv_handle_t *h)
{
    free(h);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* Safe to share: libuv pairs every alloc_cb with its read_cb before the next. */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void write_cb(uv_write_t *req, int status)
{
    uv_stream_t *s = req->handle;

    free(req);
    if (status != 0) {
        if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, on_close);
        return;
    }
    /* Reading was stopped at the limit: resume once the queue is small again. */
    if (s->data != NULL && s->write_queue_size < BACKLOG_LIMIT / 2 &&
        !uv_is_closing((uv_handle_t *)s)) {
        s->data = NULL;
        uv_read_start(s, alloc_cb, read_cb);
    }
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    uv_handle_t *h = (uv_handle_t *)req->handle;

    (void)status;
    free(req);
    if (!uv_is_closing(h))
        uv_close(h, on_close);
}

/* The peer is done sending: close once everything owed to it is written. */
static void on_eof(uv_stream_t *s)
{
    uv_shutdown_t *req;

    if (s->write_queue_size > 0) {
        req = malloc(sizeof(*req));
        if (req != NULL && uv_shutdown(req, s, shutdown_cb) == 0)
            return;
        free(req);
    }
    uv_close((uv_handle_t *)s, on_close);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    uv_buf_t rest;
    struct write_req *wr;
    int n;

    if (nread == 0)
        return; /* EAGAIN */
    if (nread < 0) {
        if (nread == UV_EOF)
            on_eof(s);
        else if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, on_close);
        return;
    }

    rest = uv_buf_init(buf->base, (unsigned)nread);
    n = uv_try_write(s, &rest, 1);
    if (n == nread)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n > 0) {
        rest.base += n;
        rest.len -= (unsigned)n;
    }
    wr = malloc(sizeof(*wr) + rest.len);
    if (wr == NULL) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    memcpy(wr->data, rest.base, rest.len);
    rest.base = wr->data;
    if (uv_write(&wr->req, s, &rest, 1, write_cb) != 0) {
        free(wr);
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (s->write_queue_size >= BACKLOG_LIMIT) {
        uv_read_stop(s);
        s->data = s; /* marks "reading stopped for back-pressure" */
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    uv_stream_t *client;

    if (status != 0)
        return;
    if (is_tcp) {
        uv_tcp_t *t = malloc(sizeof(*t));

        if (t == NULL || uv_tcp_init(server->loop, t) != 0) {
            free(t);
            return;
        }
        client = (uv_stream_t *)t;
    } else {
        uv_pipe_t *p = malloc(sizeof(*p));

        if (p == NULL || uv_pipe_init(server->loop, p, 0) != 0) {
            free(p);
            return;
        }
        client = (uv_stream_t *)p;
    }
    client->data = NULL;
    if (uv_accept(server, client) != 0) {
        uv_close((uv_handle_t *)client, on_close);
        return;
    }
    if (is_tcp)
        uv_tcp_nodelay((uv_tcp_t *)client, 1);
    if (uv_read_start(client, alloc_cb, read_cb) != 0)
        uv_close((uv_handle_t *)client, on_close);
}

int main(int argc, char **argv)
{
    struct bench_addr addr;
    uv_loop_t *loop = uv_default_loop();
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } server;
    int err;

    bench_addr_from_args(argc, argv, &addr);
    signal(SIGPIPE, SIG_IGN);

    is_tcp = addr.family != AF_UNIX;
    if (is_tcp) {
        uv_tcp_init(loop, &server.tcp);
        err = uv_tcp_bind(&server.tcp, (const struct sockaddr *)&addr.ss, 0);
    } else {
        uv_pipe_init(loop, &server.pipe, 0);
        err = uv_pipe_bind(&server.pipe, addr.path);
    }
    if (err == 0)
        err = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection);
    if (err != 0) {
        fprintf(stderr, "uv_echo: listen %s: %s\n", argv[1], uv_strerror(err));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
