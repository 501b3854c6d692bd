/*
 * stdin and stdout on libuv, whatever they are: a terminal (uv_tty), a pipe
 * or a socket (uv_pipe / uv_tcp via uv_pipe_open's fd), or a regular file,
 * which epoll cannot watch: files are read and written with uv_fs_* on
 * libuv's threadpool, so the loop never blocks on a disk.
 *
 * stdout is a queue with a high-water mark: nc_stdout_write() says when the
 * caller should pause its sockets, and the drain callback resumes them.
 */
#include "cnetcat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_CHUNK   (64 * 1024)
#define OUT_HIGH   (1024 * 1024)

/* A terminal or a pipe (a socket on stdio is opened as a pipe too). */
typedef union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tty_t tty;
    uv_pipe_t pipe;
} stdio_handle_t;

/* ---- stdin ------------------------------------------------------------------ */

static struct {
    uv_loop_t *uv;
    nc_in_cb cb;
    void *arg;
    bool is_file, paused, reading, done, fs_busy;
    stdio_handle_t h;
    bool have_handle;
    uv_fs_t req;
    int64_t offset;
    char *buf;
} in;

static void in_finish(void)
{
    if (in.done)
        return;
    in.done = true;
    in.cb(NULL, 0, in.arg);
}

static void in_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = in.buf;
    buf->len = IN_CHUNK;
}

static void in_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)s;
    if (n > 0)
        in.cb(buf->base, (size_t)n, in.arg);
    else if (n < 0) {
        uv_read_stop(&in.h.stream);
        in.reading = false;
        in_finish();
    }
}

static void fs_read_next(void);

static void on_fs_read(uv_fs_t *req)
{
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    in.fs_busy = false;
    if (in.done)
        return;
    if (n <= 0) {
        in_finish();
        return;
    }
    in.offset += n;
    in.cb(in.buf, (size_t)n, in.arg);
    fs_read_next();
}

static void fs_read_next(void)
{
    if (in.paused || in.done || in.fs_busy)
        return;
    uv_buf_t b = uv_buf_init(in.buf, IN_CHUNK);
    in.fs_busy = true;
    if (uv_fs_read(in.uv, &in.req, 0, &b, 1, in.offset, on_fs_read) != 0) {
        in.fs_busy = false;
        in_finish();
    }
}

static void stream_resume(void)
{
    if (in.paused || in.done || in.reading)
        return;
    if (uv_read_start(&in.h.stream, in_alloc, in_on_read) == 0)
        in.reading = true;
    else
        in_finish();
}

int nc_stdin_start(uv_loop_t *uv, nc_in_cb cb, void *arg)
{
    int err = 0;

    memset(&in, 0, sizeof in);
    in.uv = uv;
    in.cb = cb;
    in.arg = arg;
    if (!(in.buf = malloc(IN_CHUNK)))
        return UV_ENOMEM;
    switch (uv_guess_handle(0)) {
    case UV_TTY:
        err = uv_tty_init(uv, &in.h.tty, 0, 1);
        break;
    case UV_NAMED_PIPE:
    case UV_TCP: /* a socket on stdin (inetd, socat): read it as a stream */
        if ((err = uv_pipe_init(uv, &in.h.pipe, 0)) == 0 && (err = uv_pipe_open(&in.h.pipe, 0)))
            uv_close(&in.h.handle, NULL);
        break;
    case UV_FILE:
        in.is_file = true;
        fs_read_next();
        return 0;
    default:
        /* closed or /dev/null-like: behave as an empty input */
        in.done = true;
        cb(NULL, 0, arg);
        return 0;
    }
    if (err)
        return err;
    in.have_handle = true;
    stream_resume();
    return 0;
}

void nc_stdin_pause(bool paused)
{
    in.paused = paused;
    if (in.done)
        return;
    if (in.is_file) {
        fs_read_next();
    } else if (in.have_handle) {
        if (paused && in.reading) {
            uv_read_stop(&in.h.stream);
            in.reading = false;
        } else if (!paused) {
            stream_resume();
        }
    }
}

void nc_stdin_stop(void)
{
    in.done = true;
    nc_stdin_pause(true);
    if (in.have_handle && !uv_is_closing(&in.h.handle))
        uv_close(&in.h.handle, NULL);
    in.have_handle = false;
}

/* ---- stdout ----------------------------------------------------------------- */

typedef struct chunk {
    struct chunk *next;
    size_t len;
    union {
        uv_write_t w;
        uv_fs_t fs;
    } req;
    char data[];
} chunk_t;

static struct {
    uv_loop_t *uv;
    bool is_file, have_handle, broken;
    stdio_handle_t h;
    size_t queued;
    chunk_t *head, *tail; /* files: written one at a time, in order */
    bool fs_busy;
    int64_t offset;
    void (*drain)(void *);
    void *drain_arg;
    bool want_drain;
    void (*flush)(void *);
    void *flush_arg;
} out;

static void out_done(size_t len)
{
    out.queued -= len;
    if (out.want_drain && out.queued < OUT_HIGH / 2) {
        out.want_drain = false;
        if (out.drain)
            out.drain(out.drain_arg);
    }
    if (out.queued == 0 && out.flush) {
        void (*fn)(void *) = out.flush;
        out.flush = NULL;
        fn(out.flush_arg);
    }
}

static void on_stream_written(uv_write_t *w, int status)
{
    chunk_t *c = w->data;
    if (status < 0)
        out.broken = true; /* EPIPE: the reader went away; later writes are dropped */
    size_t len = c->len;
    free(c);
    out_done(len);
}

static void fs_write_next(void);

static void on_fs_written(uv_fs_t *req)
{
    chunk_t *c = req->data;
    if (req->result < 0)
        out.broken = true;
    uv_fs_req_cleanup(req);
    out.fs_busy = false;
    out.offset = -1; /* append at the current position */
    out.head = c->next;
    if (!out.head)
        out.tail = NULL;
    size_t len = c->len;
    free(c);
    fs_write_next();
    out_done(len);
}

static void fs_write_next(void)
{
    if (out.fs_busy || !out.head)
        return;
    chunk_t *c = out.head;
    uv_buf_t b = uv_buf_init(c->data, (unsigned)c->len);
    c->req.fs.data = c;
    out.fs_busy = true;
    if (uv_fs_write(out.uv, &c->req.fs, 1, &b, 1, -1, on_fs_written) != 0) {
        /* cannot even queue it: drop it as a broken stdout */
        out.fs_busy = false;
        out.broken = true;
        out.head = c->next;
        if (!out.head)
            out.tail = NULL;
        free(c);
        out_done(b.len);
    }
}

int nc_stdout_open(uv_loop_t *uv)
{
    int err = 0;

    memset(&out, 0, sizeof out);
    out.uv = uv;
    switch (uv_guess_handle(1)) {
    case UV_TTY:
        err = uv_tty_init(uv, &out.h.tty, 1, 0);
        break;
    case UV_NAMED_PIPE:
    case UV_TCP:
        if ((err = uv_pipe_init(uv, &out.h.pipe, 0)) == 0 && (err = uv_pipe_open(&out.h.pipe, 1)))
            uv_close(&out.h.handle, NULL);
        break;
    default:
        /* a file, /dev/null or a character device: written on the threadpool */
        out.is_file = true;
        return 0;
    }
    if (err)
        return err;
    out.have_handle = true;
    return 0;
}

bool nc_stdout_write(const char *data, size_t len)
{
    chunk_t *c;

    if (len == 0 || out.broken)
        return false;
    if (!(c = malloc(sizeof *c + len))) {
        out.broken = true;
        return false;
    }
    memcpy(c->data, data, len);
    c->len = len;
    c->next = NULL;
    out.queued += len;
    if (out.is_file) {
        if (out.tail)
            out.tail->next = c;
        else
            out.head = c;
        out.tail = c;
        fs_write_next();
    } else {
        uv_buf_t b = uv_buf_init(c->data, (unsigned)len);
        c->req.w.data = c;
        if (uv_write(&c->req.w, &out.h.stream, &b, 1, on_stream_written) != 0) {
            out.broken = true;
            free(c);
            out.queued -= len;
            return false;
        }
    }
    if (out.queued >= OUT_HIGH) {
        out.want_drain = true;
        return true;
    }
    return false;
}

void nc_stdout_on_drain(void (*fn)(void *arg), void *arg)
{
    out.drain = fn;
    out.drain_arg = arg;
}

void nc_stdout_flush(void (*fn)(void *arg), void *arg)
{
    if (out.queued == 0) {
        fn(arg);
        return;
    }
    out.flush = fn;
    out.flush_arg = arg;
}

void nc_stdio_close(void)
{
    nc_stdin_stop();
    if (out.have_handle && !uv_is_closing(&out.h.handle))
        uv_close(&out.h.handle, NULL);
    out.have_handle = false;
}

void nc_stdio_free(void)
{
    free(in.buf);
    in.buf = NULL;
}
