/*
 * The fault proxy of fault_proxy.h: raw libuv on a thread of its own.
 *
 * Each accepted connection has two directions (client->server, server->
 * client). A direction reads its source into a queue of chunks (each with
 * the time it may leave: delay, rechunk's coalescing), and pump() writes
 * the queue to the destination in pieces whose size the faults choose,
 * stopping for stalls and fragment gaps. A direction holding too much stops
 * reading its source (so a slow receiver slows the sender, as TCP would).
 * A source's FIN is forwarded (shutdown) once its queue is written; a
 * connection closes when both directions have done so. A peer's RST or a
 * failed write resets the other side too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fault_proxy.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#define FP_HIGH (1u << 20) /* a direction stops reading above this many bytes pending */
#define FP_LOW  (256u << 10)
#define FP_NONE UINT64_MAX

typedef struct fp_chunk {
    struct fp_chunk *next;
    size_t len, off;
    uint64_t due; /* loop time at which it may be written */
    char data[];
} fp_chunk_t;

struct fp_conn;

typedef struct fp_dir {
    struct fp_conn *c;
    int idx; /* 0: client->server, 1: server->client */
    uv_stream_t *src, *dst;
    fp_chunk_t *head, *tail;
    size_t queued, inflight; /* bytes waiting, bytes in uv_writes */
    uint64_t taken;          /* bytes accepted into the queue */
    uint64_t forwarded;
    uint64_t limit;        /* forward at most this many bytes, then reset (FP_NONE: no limit) */
    bool reset_at_limit;   /* the limit was reached: reset once it is written */
    bool reset_past_limit; /* a byte past the limit resets (the server-flight stage) */
    uint64_t next_stall, hold_until;
    uint64_t frags;
    bool waiting_write; /* fragment: the previous byte's write has not completed */
    bool reading, eof, shut;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    unsigned char hdr[5]; /* client->server: the first TLS record's header */
    size_t hdr_len;
    char buf[65536];
} fp_dir_t;

typedef struct fp_conn {
    fault_proxy_t *p;
    struct fp_conn *next, *prev;
    uv_tcp_t client, upstream;
    uv_connect_t connect_req;
    fp_dir_t d[2];
    int open_handles, writes;
    bool has_upstream, closing;
} fp_conn_t;

typedef struct fp_write {
    uv_write_t req;
    fp_dir_t *d;
    size_t len;
    char data[];
} fp_write_t;

struct fault_proxy {
    fault_proxy_opts_t o;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop_async;
    uv_thread_t thread;
    uv_mutex_t mu;
    fault_proxy_stats_t st;
    fp_conn_t *conns;
    struct sockaddr_in target;
    int port;
    uint32_t rng;
    bool stopping;
};

#define STAT_ADD(p, field, n)      \
    do {                           \
        uv_mutex_lock(&(p)->mu);   \
        (p)->st.field += (n);      \
        uv_mutex_unlock(&(p)->mu); \
    } while (0)

static uint32_t fp_rand(fault_proxy_t *p)
{
    uint32_t x = p->rng; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return p->rng = x;
}

static void conn_close(fp_conn_t *c, bool rst);
static void pump(fp_dir_t *d);

static void conn_maybe_free(fp_conn_t *c)
{
    if (c->open_handles > 0 || c->writes > 0)
        return;
    for (int i = 0; i < 2; i++)
        while (c->d[i].head) {
            fp_chunk_t *h = c->d[i].head;
            c->d[i].head = h->next;
            free(h);
        }
    if (c->prev)
        c->prev->next = c->next;
    else
        c->p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    fp_conn_t *c = h->data;
    c->open_handles--;
    conn_maybe_free(c);
}

static void close_handle(fp_conn_t *c, uv_handle_t *h, bool rst)
{
    if (uv_is_closing(h))
        return;
    if (rst) {
        /* SO_LINGER 0: close(2) sends a RST instead of a FIN. */
        uv_os_fd_t fd;
        struct linger l = {1, 0};
        if (uv_fileno(h, &fd) == 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    h->data = c;
    uv_close(h, on_handle_closed);
}

/* Closes the connection, with RSTs when @p rst (else FINs were already forwarded). */
static void conn_close(fp_conn_t *c, bool rst)
{
    if (c->closing)
        return;
    c->closing = true;
    close_handle(c, (uv_handle_t *)&c->client, rst);
    if (c->has_upstream)
        close_handle(c, (uv_handle_t *)&c->upstream, rst);
    close_handle(c, (uv_handle_t *)&c->d[0].timer, false);
    close_handle(c, (uv_handle_t *)&c->d[1].timer, false);
}

static void fault_reset(fp_conn_t *c)
{
    if (c->closing)
        return;
    STAT_ADD(c->p, resets, 1);
    conn_close(c, true);
}

static void on_write(uv_write_t *req, int status)
{
    fp_write_t *w = (fp_write_t *)req;
    fp_dir_t *d = w->d;
    fp_conn_t *c = d->c;
    d->inflight -= w->len;
    c->writes--;
    free(w);
    if (c->closing) {
        conn_maybe_free(c);
        return;
    }
    if (status < 0) { /* the destination went away: the source learns it by a RST */
        conn_close(c, true);
        return;
    }
    d->waiting_write = false;
    pump(d);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    fp_dir_t *d = req->data;
    fp_conn_t *c = d->c;
    (void)status;
    d->shut = true;
    if (!c->closing && c->d[0].shut && c->d[1].shut)
        conn_close(c, false);
}

static void on_timer(uv_timer_t *t)
{
    pump(t->data);
}

/* Writes the next @p n queued bytes as one write. */
static int write_piece(fp_dir_t *d, size_t n)
{
    fp_conn_t *c = d->c;
    fp_write_t *w = malloc(sizeof *w + n);
    size_t got = 0, pieces = 0;
    if (!w)
        return UV_ENOMEM;
    while (got < n) {
        pieces++;
        fp_chunk_t *h = d->head;
        size_t k = h->len - h->off;
        if (k > n - got)
            k = n - got;
        memcpy(w->data + got, h->data + h->off, k);
        h->off += k;
        got += k;
        if (h->off == h->len) {
            d->head = h->next;
            if (!d->head)
                d->tail = NULL;
            free(h);
        }
    }
    bool cut = d->head && d->head->off > 0;
    w->d = d;
    w->len = n;
    d->queued -= n;
    d->inflight += n;
    d->forwarded += n;
    c->writes++;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    int rc = uv_write(&w->req, d->dst, &b, 1, on_write);
    if (rc < 0) {
        d->inflight -= n;
        c->writes--;
        free(w);
        return rc;
    }
    if (d->idx == 0)
        STAT_ADD(c->p, c2s, n);
    else
        STAT_ADD(c->p, s2c, n);
    STAT_ADD(c->p, writes, 1);
    if (pieces > 1)
        STAT_ADD(c->p, coalesced, 1);
    if (cut)
        STAT_ADD(c->p, split, 1);
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    fp_conn_t *c = h->data;
    fp_dir_t *d = (uv_handle_t *)&c->client == h ? &c->d[0] : &c->d[1];
    (void)suggested;
    *buf = uv_buf_init(d->buf, sizeof d->buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void read_start(fp_dir_t *d)
{
    if (!d->reading && !d->eof && !d->reset_at_limit && !d->c->closing) {
        d->src->data = d->c;
        if (uv_read_start(d->src, on_alloc, on_read) == 0)
            d->reading = true;
    }
}

static void read_stop(fp_dir_t *d)
{
    if (d->reading) {
        uv_read_stop(d->src);
        d->reading = false;
    }
}

static void pump(fp_dir_t *d)
{
    fp_conn_t *c = d->c;
    fault_proxy_t *p = c->p;
    const fault_proxy_opts_t *o = &p->o;
    if (c->closing)
        return;
    uint64_t now = uv_now(&p->loop);
    while (d->head && !d->waiting_write) {
        if (now < d->hold_until) {
            uv_timer_start(&d->timer, on_timer, d->hold_until - now, 0);
            break;
        }
        if (now < d->head->due) {
            uv_timer_start(&d->timer, on_timer, d->head->due - now, 0);
            break;
        }
        size_t n = d->head->len - d->head->off;
        if (o->fragment) {
            n = 1;
        } else if (o->rechunk) {
            size_t ready = 0;
            for (fp_chunk_t *h = d->head; h && h->due <= now; h = h->next)
                ready += h->len - h->off;
            /* A third of the time all that is ready (joined, up to 128 KiB), else a random
             * cut, short or anywhere. */
            switch (fp_rand(p) % 3) {
            case 0:
                n = ready < (128u << 10) ? ready : (128u << 10);
                break;
            case 1:
                n = 1 + fp_rand(p) % (ready < 4096 ? ready : 4096);
                break;
            default:
                n = 1 + fp_rand(p) % ready;
            }
        }
        if (o->stall_every && n > d->next_stall - d->forwarded)
            n = (size_t)(d->next_stall - d->forwarded);
        if (write_piece(d, n) < 0) {
            conn_close(c, true);
            return;
        }
        if (o->fragment) {
            d->waiting_write = true;
            if (o->fragment_gap_every && ++d->frags % o->fragment_gap_every == 0)
                d->hold_until = now + o->fragment_gap_ms;
        }
        if (o->stall_every && d->forwarded == d->next_stall) {
            d->hold_until = now + o->stall_ms;
            d->next_stall += o->stall_every;
            STAT_ADD(p, stalls, 1);
        }
    }
    if (d->queued + d->inflight < FP_LOW)
        read_start(d);
    if (d->queued == 0 && d->inflight == 0) {
        if (d->reset_at_limit)
            fault_reset(c);
        else if (d->eof && !d->shut && !d->shutdown_req.data) {
            d->shutdown_req.data = d;
            if (uv_shutdown(&d->shutdown_req, d->dst, on_shutdown) < 0)
                conn_close(c, true);
        }
    }
}

/* Client->server: learns the length of the first TLS record (the ClientHello). */
static void track_hello(fp_dir_t *d, const char *data, size_t n)
{
    fault_proxy_t *p = d->c->p;
    if (d->idx != 0 || d->hdr_len == 5)
        return;
    while (n > 0 && d->hdr_len < 5) {
        d->hdr[d->hdr_len++] = (unsigned char)*data++;
        n--;
    }
    if (d->hdr_len < 5)
        return;
    uint64_t len = 5 + ((uint64_t)d->hdr[3] << 8 | d->hdr[4]);
    uv_mutex_lock(&p->mu);
    p->st.hello_len = len;
    uv_mutex_unlock(&p->mu);
    if (p->o.reset == FP_RESET_AFTER_HELLO)
        d->limit = len;
    else if (p->o.reset == FP_RESET_AFTER_SERVER_FLIGHT) {
        d->limit = len;
        d->reset_past_limit = true;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    fp_conn_t *c = s->data;
    fp_dir_t *d = s == (uv_stream_t *)&c->client ? &c->d[0] : &c->d[1];
    fault_proxy_t *p = c->p;
    if (c->closing || nread == 0)
        return;
    if (nread < 0) {
        read_stop(d);
        if (nread != UV_EOF) { /* a RST (or another error): pass it on */
            conn_close(c, true);
            return;
        }
        d->eof = true;
        if ((p->o.reset == FP_RESET_AT_C2S_FIN && d->idx == 0) ||
            (p->o.reset == FP_RESET_AT_S2C_FIN && d->idx == 1)) {
            fault_reset(c);
            return;
        }
        pump(d);
        return;
    }
    track_hello(d, buf->base, (size_t)nread);
    size_t n = (size_t)nread;
    if (d->limit != FP_NONE) {
        uint64_t room = d->limit - d->taken;
        if (n > room) {
            if (d->reset_past_limit) {
                fault_reset(c);
                return;
            }
            n = (size_t)room;
        }
        if (!d->reset_past_limit && d->taken + n == d->limit) {
            d->reset_at_limit = true;
            read_stop(d);
        }
    }
    if (n > 0) {
        fp_chunk_t *h = malloc(sizeof *h + n);
        if (!h) {
            conn_close(c, true);
            return;
        }
        memcpy(h->data, buf->base, n);
        h->len = n;
        h->off = 0;
        h->next = NULL;
        h->due = uv_now(&p->loop) + p->o.delay_ms;
        if (p->o.rechunk)
            h->due += fp_rand(p) % 3; /* held up to 2 ms: later reads join it */
        if (d->tail)
            d->tail->next = h;
        else
            d->head = h;
        d->tail = h;
        d->queued += n;
        d->taken += n;
    }
    if (d->queued + d->inflight > FP_HIGH)
        read_stop(d);
    pump(d);
}

static void on_upstream(uv_connect_t *req, int status)
{
    fp_conn_t *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        STAT_ADD(c->p, upstream_err, 1);
        conn_close(c, true);
        return;
    }
    uv_tcp_nodelay(&c->upstream, 1);
    read_start(&c->d[0]);
    read_start(&c->d[1]);
}

static void dir_init(fp_conn_t *c, int idx, uv_stream_t *src, uv_stream_t *dst)
{
    fp_dir_t *d = &c->d[idx];
    const fault_proxy_opts_t *o = &c->p->o;
    d->c = c;
    d->idx = idx;
    d->src = src;
    d->dst = dst;
    d->limit = FP_NONE;
    if ((o->reset == FP_RESET_AFTER_C2S && idx == 0) ||
        (o->reset == FP_RESET_AFTER_S2C && idx == 1))
        d->limit = o->reset_after;
    d->next_stall = o->stall_every ? o->stall_every : FP_NONE;
    uv_timer_init(&c->p->loop, &d->timer);
    d->timer.data = d;
    c->open_handles++;
}

static void on_connection(uv_stream_t *server, int status)
{
    fault_proxy_t *p = server->data;
    if (status < 0)
        return;
    fp_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->p = p;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    uv_tcp_init(&p->loop, &c->client);
    c->client.data = c;
    c->open_handles++;
    uv_tcp_init(&p->loop, &c->upstream);
    c->upstream.data = c;
    c->open_handles++;
    c->has_upstream = true;
    dir_init(c, 0, (uv_stream_t *)&c->client, (uv_stream_t *)&c->upstream);
    dir_init(c, 1, (uv_stream_t *)&c->upstream, (uv_stream_t *)&c->client);
    STAT_ADD(p, accepted, 1);
    if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
        conn_close(c, false);
        return;
    }
    if (p->o.reset == FP_RESET_AT_ACCEPT) {
        fault_reset(c);
        return;
    }
    uv_tcp_nodelay(&c->client, 1);
    c->connect_req.data = c;
    if (uv_tcp_connect(&c->connect_req, &c->upstream, (const struct sockaddr *)&p->target,
                       on_upstream) < 0) {
        STAT_ADD(p, upstream_err, 1);
        conn_close(c, true);
    }
}

static void on_stop(uv_async_t *a)
{
    fault_proxy_t *p = a->data;
    p->stopping = true;
    uv_close((uv_handle_t *)&p->listener, NULL);
    uv_close((uv_handle_t *)&p->stop_async, NULL);
    for (fp_conn_t *c = p->conns; c; c = c->next)
        conn_close(c, true);
}

static void run(void *arg)
{
    fault_proxy_t *p = arg;
    uv_run(&p->loop, UV_RUN_DEFAULT);
}

fault_proxy_t *fault_proxy_start(const fault_proxy_opts_t *opts, int target_port)
{
    fault_proxy_t *p = calloc(1, sizeof *p);
    struct sockaddr_in any;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (!p)
        return NULL;
    if (opts)
        p->o = *opts;
    p->rng = p->o.seed ? p->o.seed : 1;
    uv_ip4_addr("127.0.0.1", target_port, &p->target);
    uv_ip4_addr("127.0.0.1", 0, &any);
    if (uv_loop_init(&p->loop) < 0) {
        free(p);
        return NULL;
    }
    uv_mutex_init(&p->mu);
    uv_tcp_init(&p->loop, &p->listener);
    p->listener.data = p;
    if (uv_tcp_bind(&p->listener, (const struct sockaddr *)&any, 0) < 0 ||
        uv_listen((uv_stream_t *)&p->listener, 128, on_connection) < 0 ||
        uv_tcp_getsockname(&p->listener, (struct sockaddr *)&ss, &len) < 0) {
        fprintf(stderr, "fault_proxy: cannot listen\n");
        abort();
    }
    p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    uv_async_init(&p->loop, &p->stop_async, on_stop);
    p->stop_async.data = p;
    if (uv_thread_create(&p->thread, run, p) < 0)
        abort();
    return p;
}

int fault_proxy_port(const fault_proxy_t *p)
{
    return p->port;
}

void fault_proxy_stats(fault_proxy_t *p, fault_proxy_stats_t *out)
{
    uv_mutex_lock(&p->mu);
    *out = p->st;
    uv_mutex_unlock(&p->mu);
}

void fault_proxy_stop(fault_proxy_t *p)
{
    uv_async_send(&p->stop_async);
    uv_thread_join(&p->thread);
    uv_run(&p->loop, UV_RUN_DEFAULT); /* nothing left; makes close safe */
    if (uv_loop_close(&p->loop) != 0) {
        fprintf(stderr, "fault_proxy: handles left open\n");
        abort();
    }
    uv_mutex_destroy(&p->mu);
    free(p);
}
