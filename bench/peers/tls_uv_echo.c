/*
 * tls_uv_echo: a TLS echo server on raw OpenSSL 3 and raw libuv, written the
 * way an expert in both would: the floor cnet's TLS server is measured against.
 *
 *   tls_uv_echo [--tls1.2] --cert CERT.pem --key KEY.pem HOST:PORT | [V6]:PORT | unix:PATH
 *
 * Echoes every byte of plaintext, sends no greeting, sets TCP_NODELAY, runs
 * until SIGTERM. TLS 1.2 and 1.3 (1.3 for a 1.3 client; --tls1.2 caps it),
 * OpenSSL's default ciphers and groups, session tickets on (two after a full
 * TLS 1.3 handshake, one after a resumed one, OpenSSL's default), no
 * server-side session cache (resumption is by ticket, so nothing is kept per
 * session), renegotiation refused. The same architecture as cnet's engine, one
 * SSL between two memory BIOs with libuv doing the I/O, with none of its
 * abstraction:
 *   - ciphertext in: libuv reads into one buffer shared by the loop, copied
 *     once into the connection's read BIO, then SSL_read() until it wants
 *     more, into one plaintext buffer shared by the loop; each record read is
 *     SSL_write()n back at once (the write BIO never blocks);
 *   - ciphertext out: uv_try_write() straight from the write BIO's memory
 *     (BIO_get_mem_data), which is then consumed in place with BIO_seek (no
 *     copy); only what the kernel did not take is copied into a uv_write();
 *   - back-pressure: reading stops while more than BACKLOG_LIMIT bytes are
 *     queued in libuv, and resumes when the queue is half as long;
 *   - memory: SSL_MODE_RELEASE_BUFFERS gives OpenSSL's record buffers back
 *     whenever they are empty; the two memory BIOs are replaced by empty ones
 *     once the handshake is done (what they grew to for the handshake's
 *     flights is freed) and, after bulk traffic, once the connection has been
 *     quiet for a sweep interval (1-2 s). An idle connection holds its uv_tcp_t,
 *     this struct, the SSL and the session: nothing that scales with traffic.
 * OpenSSL's per-thread error queue is emptied after every failure, so no
 * connection's error can be seen by another one's SSL_get_error().
 */
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../bench_tls_args.h"

#define READ_BUF_SIZE  (64 * 1024)
#define PLAIN_BUF_SIZE (16 * 1024) /* one TLS record of plaintext at most */
#define BACKLOG_LIMIT  (1024 * 1024)
#define TRIM_ABOVE     (16 * 1024) /* a BIO that grew beyond this is trimmed when quiet */
#define SWEEP_MS       1000

struct conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h; /* first: the handle's address is the connection's */
    SSL *ssl;
    BIO *rbio;                            /* ciphertext from the peer; owned by ssl */
    BIO *wbio;                            /* ciphertext to the peer; owned by ssl */
    struct conn *grown_next, *grown_prev; /* on the sweep list while a BIO is big */
    unsigned last_sweep;                  /* the sweep count at the last read */
    bool on_grown_list;
    bool secure;       /* the handshake is done */
    bool read_stopped; /* reading stopped for back-pressure */
    bool ending;       /* conn_end() ran: reading is over */
};

/* A uv_write() request carrying its own copy of the unsent bytes. */
struct write_req {
    uv_write_t req;
    char data[];
};

static char read_buf[READ_BUF_SIZE];
static char plain_buf[PLAIN_BUF_SIZE];
static bool is_tcp;
static SSL_CTX *ssl_ctx;
static uv_timer_t sweep_timer;
static unsigned sweep_count;
static struct conn *grown_head;

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- Memory ---------------------------------------------------------------- */

static BIO *new_mem_bio(void)
{
    BIO *b = BIO_new(BIO_s_mem());

    if (b != NULL)
        BIO_set_mem_eof_return(b, -1); /* empty means "wait for more", not EOF */
    return b;
}

/* The bytes of memory a BIO's buffer holds (used or not). */
static size_t bio_capacity(BIO *b)
{
    BUF_MEM *m = NULL;

    BIO_get_mem_ptr(b, &m);
    return m != NULL ? m->max : 0;
}

/* Replaces each empty BIO that holds a buffer by a new one without any. */
static void trim_bios(struct conn *c)
{
    BIO *b;

    if (BIO_ctrl_pending(c->rbio) == 0 && bio_capacity(c->rbio) > 0 &&
        (b = new_mem_bio()) != NULL) {
        SSL_set0_rbio(c->ssl, b); /* frees the old one */
        c->rbio = b;
    }
    if (BIO_ctrl_pending(c->wbio) == 0 && bio_capacity(c->wbio) > 0 &&
        (b = new_mem_bio()) != NULL) {
        SSL_set0_wbio(c->ssl, b);
        c->wbio = b;
    }
}

static void grown_remove(struct conn *c)
{
    if (!c->on_grown_list)
        return;
    if (c->grown_prev != NULL)
        c->grown_prev->grown_next = c->grown_next;
    else
        grown_head = c->grown_next;
    if (c->grown_next != NULL)
        c->grown_next->grown_prev = c->grown_prev;
    c->on_grown_list = false;
    if (grown_head == NULL)
        uv_timer_stop(&sweep_timer);
}

/* Trims the connections that grew a big BIO and have not read since the last sweep. */
static void sweep_cb(uv_timer_t *t)
{
    struct conn *c = grown_head, *next;

    (void)t;
    for (; c != NULL; c = next) {
        next = c->grown_next;
        if (c->last_sweep == sweep_count)
            continue; /* still busy */
        trim_bios(c);
        if (bio_capacity(c->rbio) <= TRIM_ABOVE && bio_capacity(c->wbio) <= TRIM_ABOVE)
            grown_remove(c);
    }
    sweep_count++;
}

static void note_growth(struct conn *c)
{
    if (c->on_grown_list ||
        (bio_capacity(c->rbio) <= TRIM_ABOVE && bio_capacity(c->wbio) <= TRIM_ABOVE))
        return;
    c->on_grown_list = true;
    c->grown_prev = NULL;
    c->grown_next = grown_head;
    if (grown_head != NULL)
        grown_head->grown_prev = c;
    else
        uv_timer_start(&sweep_timer, sweep_cb, SWEEP_MS, SWEEP_MS);
    grown_head = c;
}

/* ---- Closing ----------------------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
    struct conn *c = (struct conn *)h;

    grown_remove(c);
    SSL_free(c->ssl); /* also frees the BIOs */
    free(c);
}

static void conn_close(struct conn *c)
{
    if (!uv_is_closing(&c->h.handle))
        uv_close(&c->h.handle, on_close);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    struct conn *c = (struct conn *)req->handle;

    (void)status;
    free(req);
    conn_close(c);
}

/* Sends FIN once everything owed to the peer (close_notify included) is written, then closes. */
static void conn_end(struct conn *c)
{
    uv_shutdown_t *req;

    if (uv_is_closing(&c->h.handle) || c->ending)
        return;
    c->ending = true;
    c->read_stopped = false;
    uv_read_stop(&c->h.stream);
    if (c->h.stream.write_queue_size > 0) {
        req = malloc(sizeof(*req));
        if (req != NULL && uv_shutdown(req, &c->h.stream, shutdown_cb) == 0)
            return;
        free(req);
    }
    conn_close(c);
}

/* ---- Ciphertext out ------------------------------------------------------------ */

static void write_cb(uv_write_t *req, int status)
{
    struct conn *c = (struct conn *)req->handle;

    free(req);
    if (status != 0) {
        conn_close(c);
        return;
    }
    /* Reading was stopped at the limit: resume once the queue is small again. */
    if (c->read_stopped && c->h.stream.write_queue_size < BACKLOG_LIMIT / 2 &&
        !uv_is_closing(&c->h.handle)) {
        c->read_stopped = false;
        if (uv_read_start(&c->h.stream, alloc_cb, read_cb) != 0)
            conn_close(c);
    }
}

/*
 * Sends whatever the SSL wrote into the write BIO: straight from the BIO's
 * memory, then consumes it there. Returns false if the connection broke (it
 * is closing then).
 */
static bool flush(struct conn *c)
{
    struct write_req *wr;
    uv_buf_t rest;
    char *p;
    long len = BIO_get_mem_data(c->wbio, &p);
    int n;

    if (len <= 0)
        return true;
    rest = uv_buf_init(p, (unsigned)len);
    n = uv_try_write(&c->h.stream, &rest, 1); /* UV_EAGAIN while writes are queued */
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return false;
    }
    if (n > 0) {
        rest.base += n;
        rest.len -= (unsigned)n;
    }
    if (rest.len > 0) {
        wr = malloc(sizeof(*wr) + rest.len);
        if (wr == NULL) {
            conn_close(c);
            return false;
        }
        memcpy(wr->data, rest.base, rest.len);
        rest.base = wr->data;
        if (uv_write(&wr->req, &c->h.stream, &rest, 1, write_cb) != 0) {
            free(wr);
            conn_close(c);
            return false;
        }
        if (c->h.stream.write_queue_size >= BACKLOG_LIMIT && !c->read_stopped && !c->ending) {
            uv_read_stop(&c->h.stream);
            c->read_stopped = true;
        }
    }
    /* Everything is sent or copied: consume it in place (cheaper than BIO_read or BIO_reset). */
    BIO_seek(c->wbio, BIO_tell(c->wbio) + (int)len);
    return true;
}

/* ---- Ciphertext in ------------------------------------------------------------- */

/* A fatal TLS error: send the alert OpenSSL queued, if any, and close. */
static void conn_fail(struct conn *c)
{
    ERR_clear_error();
    if (flush(c))
        conn_close(c);
}

/*
 * Runs the SSL over what the read BIO holds: the handshake, then every
 * complete record, each echoed at once; then sends what it all wrote.
 */
static void process(struct conn *c)
{
    for (;;) {
        int n = SSL_read(c->ssl, plain_buf, sizeof(plain_buf));

        if (n > 0) {
            if (SSL_write(c->ssl, plain_buf, n) != n) { /* a memory BIO never blocks */
                conn_fail(c);
                return;
            }
            continue;
        }
        switch (SSL_get_error(c->ssl, n)) {
        case SSL_ERROR_WANT_READ:
            break;
        case SSL_ERROR_ZERO_RETURN: /* the peer's close_notify: answer it and end */
            SSL_shutdown(c->ssl);
            ERR_clear_error();
            if (flush(c))
                conn_end(c);
            return;
        default:
            conn_fail(c);
            return;
        }
        break;
    }
    if (!flush(c))
        return;
    if (!c->secure && SSL_is_init_finished(c->ssl)) {
        c->secure = true;
        trim_bios(c); /* the handshake's flights are sent: free what the BIOs grew to */
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* Safe to share: libuv pairs every alloc_cb with its read_cb before the next. */
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(read_buf, sizeof(read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)s;

    if (nread == 0)
        return; /* EAGAIN */
    if (nread < 0) {
        if (nread != UV_EOF) {
            conn_close(c);
            return;
        }
        /* EOF, with or without the peer's close_notify: send ours and end. */
        if (c->secure) {
            SSL_shutdown(c->ssl);
            ERR_clear_error();
            if (!flush(c))
                return;
        }
        conn_end(c);
        return;
    }
    c->last_sweep = sweep_count;
    if (BIO_write(c->rbio, buf->base, (int)nread) != (int)nread) {
        conn_close(c);
        return;
    }
    process(c);
    if (nread > TRIM_ABOVE / 2 && !uv_is_closing(&c->h.handle))
        note_growth(c); /* only bulk input can grow a BIO past TRIM_ABOVE */
}

/* ---- Accepting ------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    struct conn *c;
    int err;

    if (status != 0)
        return;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    err = is_tcp ? uv_tcp_init(server->loop, &c->h.tcp) : uv_pipe_init(server->loop, &c->h.pipe, 0);
    if (err != 0) {
        free(c);
        return;
    }
    c->ssl = SSL_new(ssl_ctx);
    c->rbio = new_mem_bio();
    c->wbio = new_mem_bio();
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        ERR_clear_error();
        conn_close(c);
        return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    c->last_sweep = sweep_count;
    if (uv_accept(server, &c->h.stream) != 0) {
        conn_close(c);
        return;
    }
    if (is_tcp)
        uv_tcp_nodelay(&c->h.tcp, 1);
    if (uv_read_start(&c->h.stream, alloc_cb, read_cb) != 0)
        conn_close(c);
}

static SSL_CTX *make_ctx(const struct bench_tls_args *a)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, a->tls12_only ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* Resumption by tickets only: no session is stored on the server. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, a->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, a->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int main(int argc, char **argv)
{
    struct bench_tls_args args;
    uv_loop_t *loop = uv_default_loop();
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } server;
    int err;

    bench_tls_args_from_args(argc, argv, &args);
    signal(SIGPIPE, SIG_IGN);

    ssl_ctx = make_ctx(&args);
    if (ssl_ctx == NULL) {
        char msg[256];

        ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
        fprintf(stderr, "tls_uv_echo: %s / %s: %s\n", args.cert_file, args.key_file, msg);
        return 1;
    }
    err = uv_timer_init(loop, &sweep_timer);
    is_tcp = args.addr.family != AF_UNIX;
    if (err == 0 && is_tcp) {
        err = uv_tcp_init(loop, &server.tcp);
        if (err == 0)
            err = uv_tcp_bind(&server.tcp, (const struct sockaddr *)&args.addr.ss, 0);
    } else if (err == 0) {
        err = uv_pipe_init(loop, &server.pipe, 0);
        if (err == 0)
            err = uv_pipe_bind(&server.pipe, args.addr.path);
    }
    if (err == 0)
        err = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection);
    if (err != 0) {
        fprintf(stderr, "tls_uv_echo: listen %s: %s\n", args.target, uv_strerror(err));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
