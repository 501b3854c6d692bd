/*
 * Private declarations shared between the library's files. Never installed.
 * Internal symbols shared across files use the cnet__ prefix.
 *
 * Layers (bottom up): alloc/log/errors -> loop (ticks, shared read buffer)
 * -> emitter -> socket (lifecycle) + stream (byte path: read, write queue,
 * shutdown) + connect (DNS, connect attempts) -> server (listen, accept).
 * The byte path goes through stream.c only, so a TLS layer can later sit
 * between libuv and the socket's stream semantics.
 */
#ifndef CNET_INTERNAL_H
#define CNET_INTERNAL_H

#include <cnet.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <uv.h>

#include "codec/encoding.h"
#include "codec/framing.h"

/* ---- alloc.c: every allocation goes through the replaceable allocator ---- */
void *cnet__malloc(size_t n);
void *cnet__calloc(size_t count, size_t n);
void *cnet__realloc(void *p, size_t n);
void cnet__free(void *p);
char *cnet__strdup(const char *s);

#define CNET__UNUSED(x)     ((void)(x))
#define CNET__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- opts.c: options structs that grow between versions --------------- */

/*
 * Copies the caller's options struct @p src (which begins with its size)
 * into @p dst, our layout of @p dst_size bytes. @p min_size is the size of
 * the struct's first released layout. Returns 0 or CNET_ERR_INVALID_ARG_VALUE.
 */
int cnet__opts_load(void *dst, size_t dst_size, const void *src, size_t min_size);
/* The end of @p field in @p type: the first release's size when field was its last. */
#define CNET__OPTS_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
/* Sizes of the first released layouts (0.2.0); fields added since must come after. */
#define CNET__SERVER_OPTS_V1  CNET__OPTS_END(cnet_server_opts_t, high_water_mark)
#define CNET__LISTEN_OPTS_V1  CNET__OPTS_END(cnet_listen_opts_t, writable_all)
#define CNET__SOCKET_OPTS_V1  CNET__OPTS_END(cnet_socket_opts_t, high_water_mark)
#define CNET__CONNECT_OPTS_V1 CNET__OPTS_END(cnet_connect_opts_t, allow_half_open)
#define CNET__FRAMING_OPTS_V1 CNET__OPTS_END(cnet_framing_opts_t, record_size)

/* ---- errors.c ----------------------------------------------------------- */

/* Maps a libuv status to a cnet code (identical for errno codes, EAI_* renamed). */
int cnet__err_from_uv(int uverr);

/*
 * Error storage for an event, allocated only when an error happens so idle
 * sockets do not pay for it. cnet__errinfo_set() formats Node's message:
 * "<syscall> <CODE> <address>:<port>" (connect style) or with the libuv
 * message after the code (listen style, Node's uvExceptionWithHostPort);
 * like Node, ":<port>" and pub.port only when the port is > 0.
 * cnet__errinfo_set_local() appends Node's " - Local (addr:port)".
 * An aggregate (Happy Eyeballs' AggregateError) owns its attempts' errinfos:
 * free a heap errinfo with cnet__errinfo_free(), which frees them too. An
 * errinfo on the stack or embedded in a struct is never an aggregate.
 */
typedef struct cnet__errinfo {
    cnet_error_t pub;
    char address[CNET_ADDRSTRLEN];
    char hostname[256];
    char message[512];
    char local_address[CNET_ADDRSTRLEN];
    struct cnet__errinfo **attempts; /* aggregate only: each attempt's error (owned) */
    cnet_error_t *attempts_pub;      /* aggregate only: what pub.attempts points to */
    size_t nowned;                   /* aggregate only: entries of both arrays */
} cnet__errinfo_t;

enum { CNET__MSG_PLAIN, CNET__MSG_WITH_TEXT };
void cnet__errinfo_set(cnet__errinfo_t *e, int code, const char *syscall, const char *address,
                       int port, const char *hostname, int style);
void cnet__errinfo_set_local(cnet__errinfo_t *e, const char *local_address, int local_port);
/* Makes @p e the aggregate of @p n attempts (taking the array and each errinfo). */
void cnet__errinfo_set_aggregate(cnet__errinfo_t *e, cnet__errinfo_t **attempts, size_t n);
void cnet__errinfo_free(cnet__errinfo_t *e);

/* ---- log.c -------------------------------------------------------------- */
extern int cnet__log_level; /* messages above it are dropped before formatting */
void cnet__log_(cnet_log_level_t level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#define cnet__log(level, ...)                 \
    do {                                      \
        if ((int)(level) <= cnet__log_level)  \
            cnet__log_((level), __VA_ARGS__); \
    } while (0)

/* ---- loop.c ------------------------------------------------------------- */

/*
 * How a tick keeps its object alive: each object kind (socket, server, and
 * whatever TLS or IPC add) supplies its own retain/release, so the loop
 * never needs to know the kinds above it.
 */
typedef struct cnet__ref_ops {
    void (*retain)(void *obj);
    void (*release)(void *obj);
} cnet__ref_ops_t;

/* A deferred call, run on a later loop turn (Node's process.nextTick). */
typedef struct cnet__tick cnet__tick_t;
typedef void (*cnet__tick_fn)(cnet__tick_t *t);
struct cnet__tick {
    cnet__tick_t *next;
    cnet__tick_fn fn;
    void *obj;                  /* retained until fn has run, or NULL */
    const cnet__ref_ops_t *ops; /* how to retain/release obj (NULL: obj is not counted) */
    int code;
    void *cb;
    void *arg;
    size_t count;
    bool embedded; /* lives inside its object: never freed by the queue */
    bool queued;
};

#define CNET__READ_BUF_SIZE (64 * 1024)
/* read_buf is followed by this much room where TLS decrypts (the plaintext of
 * the records one read brings, up to four full ones, delivered as one 'data'),
 * so the ciphertext read into read_buf is lent, not copied. */
#define CNET__PLAIN_BUF_SIZE (64 * 1024)

/* A function posted to a loop from any thread (cnet_loop_post), queued under post_lock. */
typedef struct cnet__post cnet__post_t;
struct cnet__post {
    cnet__post_t *next;
    cnet_post_fn fn;
    void *arg;
    bool embedded; /* lives in its owner (workers.c): never freed by the queue */
};

/*
 * A group of loops that share listening sockets (src/ipc/workers.c, node's
 * cluster handles): a TCP listen() that is neither exclusive nor reuse_port
 * asks the loop's group for the socket bound to its address. get() gives a
 * dup of the group's socket (bound and listening on the first call for that
 * key) and a ticket, or a negative code; put() returns the ticket when the
 * server's handle closes (the last one closes the group's socket).
 */
typedef struct cnet__listen_share {
    int (*get)(void *ctx, const struct sockaddr *sa, bool ipv6_only, int backlog, int *fd,
               void **ticket);
    void (*put)(void *ctx, void *ticket);
    void *ctx;
} cnet__listen_share_t;

struct cnet_loop_s {
    uv_loop_t *uv;
    uv_loop_t uv_storage; /* used when the loop is ours */
    bool owned;           /* false: adopted with cnet_loop_from_uv() */
    bool is_default;
    size_t alive;        /* sockets and servers not yet freed */
    unsigned next_id;    /* for log lines: sock#N, srv#N */
    char *read_buf;      /* one buffer shared by every socket's reads */
    cnet__strbuf_t text; /* decoded text for 'data' with setEncoding, reused */
    cnet__tick_t *tick_head, *tick_tail;
    uv_idle_t tick_idle; /* keeps poll from blocking while ticks wait */
    uv_check_t tick_check;
    bool ticks_active;
    bool in_run;
    bool in_post;                      /* posted functions are running */
    const cnet__listen_share_t *share; /* the loop's worker group, or NULL */
    /* cnet_loop_post(): the only part of a loop other threads touch. */
    uv_mutex_t post_lock;
    uv_async_t post_async;               /* unref'd unless cnet__loop_hold() */
    cnet__post_t *post_head, *post_tail; /* under post_lock */
    bool post_closed;                    /* under post_lock: cnet_loop_close() ran */
    atomic_int xrefs;                    /* the struct's memory: 1 until close, + retains */
    /* A spare descriptor for EMFILE at accept when libuv's own is gone (net/server.c):
     * reserve_fd is open iff has_reserve (the struct is calloc'd: fd 0 is a real fd). */
    int reserve_fd;
    bool has_reserve;
};

/* Queues @p fn; @p obj is retained through @p ops until fn has run. */
cnet__tick_t *cnet__tick(cnet_loop_t *loop, cnet__tick_fn fn, void *obj,
                         const cnet__ref_ops_t *ops);
/* Queues a tick embedded in its object (no allocation, so it cannot fail); no-op if queued. */
/* Unqueues @p t if it is queued (its object's reference is released); no-op otherwise. */
void cnet__tick_cancel(cnet_loop_t *loop, cnet__tick_t *t);
void cnet__tick_embedded(cnet_loop_t *loop, cnet__tick_t *t, cnet__tick_fn fn, void *obj,
                         const cnet__ref_ops_t *ops);
cnet_loop_t *cnet__loop_or_default(cnet_loop_t *loop);
/* Queues an embedded post (cannot fail for lack of memory); 0 or CNET_ERR_LOOP_CLOSED. */
int cnet__loop_post_embedded(cnet_loop_t *loop, cnet__post_t *p);
/* Whether the loop's post handle keeps cnet_loop_run() going (workers: until stopped). */
void cnet__loop_hold(cnet_loop_t *loop, bool hold);

/* Blocks SIGPIPE in this thread around a write that libuv may make at once. */
typedef struct {
    bool active;
    bool was_pending;
    unsigned char oldmask[128]; /* sigset_t, kept opaque here */
} cnet__sigpipe_guard_t;
void cnet__sigpipe_block(cnet__sigpipe_guard_t *g);
void cnet__sigpipe_restore(cnet__sigpipe_guard_t *g);

/* ---- abort.c: AbortController / AbortSignal --------------------------- */

/*
 * An internal listener on a signal, stored in its owner's memory (so
 * listening never fails). fn runs once, inside cnet_abort_controller_abort(),
 * after the listener was unlinked; it may free the listener and do anything
 * a callback may. The signal is retained while the listener is linked.
 */
typedef struct cnet__abort_listener cnet__abort_listener_t;
struct cnet__abort_listener {
    cnet__abort_listener_t *prev, *next; /* in the signal's list */
    cnet_abort_signal_t *signal;         /* while linked, else NULL */
    void (*fn)(cnet__abort_listener_t *l);
    void *obj;                        /* the owner */
    cnet__abort_listener_t *next_own; /* the owner's own list (a socket may have two) */
};
/* Links @p l (fn and obj set) to @p sig, which must not be aborted; relinks if linked. */
void cnet__abort_listen(cnet_abort_signal_t *sig, cnet__abort_listener_t *l);
/* Unlinks @p l; a no-op when it is not linked (after it fired, or twice). */
void cnet__abort_unlisten(cnet__abort_listener_t *l);

/* ---- emitter.c ---------------------------------------------------------- */

typedef void (*cnet__any_cb)(void);

enum { CNET__L_ONCE = 1, CNET__L_FIRED = 2, CNET__L_REMOVED = 4 };

typedef struct cnet__listener {
    cnet__any_cb cb;
    void *arg;
    cnet_free_fn arg_free;
    struct cnet__listener *next_dead;
    uint8_t type;
    uint8_t flags;
} cnet__listener_t;

typedef struct cnet__emitter {
    cnet__listener_t **items;
    uint32_t n, cap;
    uint32_t depth;                    /* emits in progress */
    uint16_t count[CNET_EVENT__COUNT]; /* listeners per type: emit stops scanning early */
    cnet__listener_t *dead;            /* removed during an emit; freed at depth 0 */
} cnet__emitter_t;

/* Calls one listener with the right function type. */
typedef void (*cnet__invoke_fn)(void *self, cnet__any_cb cb, const cnet_event_t *ev, void *arg);

int cnet__emitter_add(cnet__emitter_t *em, int type, cnet__any_cb cb, void *arg,
                      cnet_free_fn arg_free, bool once, bool prepend);
void cnet__emitter_remove(cnet__emitter_t *em, int type, cnet__any_cb cb, void *arg);
void cnet__emitter_remove_all(cnet__emitter_t *em, int type);
size_t cnet__emitter_count(const cnet__emitter_t *em, int type);
/* Returns the number of listeners called. The caller must keep self alive. */
size_t cnet__emit(cnet__emitter_t *em, void *self, const cnet_event_t *ev, cnet__invoke_fn invoke);
void cnet__emitter_free(cnet__emitter_t *em);

/* ---- socket.c / stream.c / connect.c ------------------------------------ */

enum {
    CNET__S_CONNECTING = 1u << 0, /* lookup or connect in progress */
    CNET__S_CONNECTED = 1u << 1,  /* the handle is open and connected */
    CNET__S_READING = 1u << 2,    /* uv_read_start is active */
    CNET__S_PAUSED = 1u << 3,     /* user paused */
    CNET__S_ENDING = 1u << 4,     /* end() called: no more writes */
    CNET__S_SHUTDOWN = 1u << 5,   /* shutdown request sent */
    CNET__S_FINISHED = 1u << 6,   /* 'finish' emitted */
    CNET__S_EOF = 1u << 7,        /* peer's FIN seen, 'end' emitted */
    CNET__S_DESTROYED = 1u << 8,
    CNET__S_CLOSED = 1u << 9,     /* 'close' emitted */
    CNET__S_HALF_OPEN = 1u << 10, /* allowHalfOpen */
    CNET__S_NO_DELAY = 1u << 11,
    CNET__S_KEEP_ALIVE = 1u << 12,
    CNET__S_NEED_DRAIN = 1u << 13,
    CNET__S_UNREF = 1u << 14,
    CNET__S_HAD_ERROR = 1u << 15,
    CNET__S_HANDLE = 1u << 16, /* h is initialised and not yet closed */
    CNET__S_TIMER_ARMED = 1u << 17,
    CNET__S_EVER_CONNECTED = 1u << 18,
    CNET__S_PIPE = 1u << 19,  /* h is a uv_pipe_t */
    CNET__S_RESET = 1u << 20, /* close with RST */
    CNET__S_NO_DELAY_SET = 1u << 21,
    CNET__S_CONNECT_STARTED = 1u << 22, /* connect() was called at least once */
    CNET__S_RETRY_CLOSING = 1u << 23,   /* handle closing between two connect attempts */
    CNET__S_TLS = 1u << 24, /* the transport is TLS (s->tls): the byte path's one branch */
};

typedef struct cnet__wreq cnet__wreq_t;
typedef struct cnet__wbatch cnet__wbatch_t;
typedef struct cnet__connect cnet__connect_t;
typedef struct cnet__onread cnet__onread_t;

/*
 * The socket's transport (NULL: the plain libuv stream). Only TLS exists:
 * its state (src/tls/socket.c) begins with this, the part stream.c manages:
 * user writes held until the handshake is done.
 */
typedef struct cnet__transport {
    cnet__wreq_t *held_head, *held_tail;
    cnet__wreq_t *spare; /* a finished wire request kept for the next (stream.c) */
    bool releasing;      /* cnet__stream_release_held() is writing them, in order */
} cnet__transport_t;

/*
 * The endpoints of a connection, captured once when it is established
 * (cnet__socket_cache_fd), so that address() and remoteAddress still answer
 * after 'close': the kernel forgets a TCP peer as soon as the connection is
 * reset or fully closed (getpeername: ENOTCONN in CLOSED and TIME_WAIT).
 * Two sockaddr_in6-sized slots for TCP; a pipe's paths go to the heap.
 */
typedef union cnet__sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} cnet__sockaddr_t;

typedef struct cnet__pipe_names {
    uint8_t local_len, peer_len;
    char names[]; /* local_len bytes of the local path, then peer_len of the peer's */
} cnet__pipe_names_t;

enum { CNET__ENDS_NONE, CNET__ENDS_IP, CNET__ENDS_PIPE };

typedef union cnet__endpoints {
    struct {
        cnet__sockaddr_t local, peer; /* sa_family AF_UNSPEC where getsockname/peername failed */
    } ip;
    cnet__pipe_names_t *pipe;
} cnet__endpoints_t;

/* Any libuv stream a socket or server can sit on; the flags say which. */
typedef union cnet__handle {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} cnet__handle_t;

struct cnet_socket_s {
    /*
     * Hot: read on every message. Kept together, ahead of the libuv handle,
     * so that a message touches few cache lines of its socket beyond what
     * libuv itself touches (it matters with thousands of sockets per loop).
     */
    cnet__emitter_t em;
    cnet_loop_t *loop;
    int refs; /* 1 while alive + retains + emits + ticks */
    uint32_t flags;
    int fd; /* the connected stream's fd, or -1 */
    unsigned corked;
    cnet__wreq_t *wq_head, *wq_tail; /* queued, not yet handed to libuv */
    cnet__wbatch_t *inflight;        /* the one uv_write in progress */
    size_t queued_bytes;             /* writableLength */
    size_t hwm;
    uint64_t bytes_read, bytes_written;
    unsigned timeout_ms;     /* idle timeout: the timer is only re-armed lazily, */
    bool decoding;           /* so I/O costs one store of last_active */
    cnet__decoder_t decoder; /* setEncoding: valid when decoding */
    cnet__framer_t *framer;  /* framing helpers: allocated by the first set_framing */
    cnet_socket_t *pipe_dst; /* pipe(): where our data goes, or NULL */
    uint64_t last_active;
    /* The libuv handle, then what only connecting, closing and options use. */
    cnet__handle_t h;
    unsigned id;
    unsigned sent_cb_ticks; /* fast-path write callbacks still queued as ticks */
    cnet_server_t *server;  /* the server that accepted it (retained) */
    void *data;
    uv_timer_t *timer;
    unsigned keep_alive_delay_ms;
    bool pipe_end;           /* end dst when we end */
    bool pipe_paused;        /* paused by pipe() backpressure */
    bool timeout_set;        /* setTimeout() was called: node's socket.timeout !== undefined */
    uint8_t ends_kind;       /* what ends holds (CNET__ENDS_*), see sockaddr.c */
    cnet__connect_t *conn;   /* connect state while connecting */
    cnet__errinfo_t *err;    /* the error to report, if any */
    cnet__wreq_t *cancelled; /* writes failed by destroy, reported before close */
    cnet__tick_t close_tick; /* 'close' without a handle: must not need memory */
    cnet_write_cb end_cb;    /* end()'s callback: at 'finish', or ECANCELED */
    void *end_arg;
    cnet_socket_t *pipe_src;           /* pipe(): who writes into us, or NULL */
    struct cnet__attempted *attempted; /* Happy Eyeballs' attempted addresses, or NULL */
    cnet__onread_t *onread;            /* node's onread option (onread.c), or NULL */
    cnet__endpoints_t ends;        /* local and remote endpoints, kept past 'close' (sockaddr.c) */
    cnet__abort_listener_t *abort; /* AbortSignal listeners (socket_abort.c), until 'close' */
    cnet__transport_t *tls;        /* TLS state (src/tls/socket.c) when CNET__S_TLS, else NULL */
    struct cnet__ipc_track *ipc;   /* received from another process's server (src/ipc/), or NULL */
};

#define CNET__DEFAULT_HWM (16 * 1024)

/* Lifetime (socket.c). */
extern const cnet__ref_ops_t cnet__socket_ref_ops; /* for ticks that carry a socket */
void cnet__socket_retain(cnet_socket_t *s);
void cnet__socket_release(cnet_socket_t *s);
int cnet__socket_alloc(cnet_loop_t *loop, const cnet_socket_opts_t *opts, cnet_socket_t **out);
void cnet__socket_emit(cnet_socket_t *s, const cnet_event_t *ev);
void cnet__socket_emit_simple(cnet_socket_t *s, cnet_event_type_t type);
void cnet__socket_destroy(cnet_socket_t *s, int code, const char *syscall);
void cnet__socket_touch_slow(cnet_socket_t *s);
/* Any read or write counts as activity for setTimeout; free when no timeout is set. */
static inline void cnet__socket_touch(cnet_socket_t *s)
{
    if (s->timeout_ms)
        cnet__socket_touch_slow(s);
}
/* Caches the fd of a connected stream for the try-write fast path, and its endpoints. */
void cnet__socket_cache_fd(cnet_socket_t *s);
void cnet__socket_apply_options(cnet_socket_t *s);
void cnet__socket_maybe_close(cnet_socket_t *s);
void cnet__socket_finish_close(cnet_socket_t *s);

/* Byte path (stream.c). */
void cnet__stream_start_reading(cnet_socket_t *s);
void cnet__stream_stop_reading(cnet_socket_t *s);
void cnet__stream_flush(cnet_socket_t *s);
void cnet__stream_maybe_shutdown(cnet_socket_t *s);
void cnet__stream_cancel_queued(cnet_socket_t *s);
void cnet__stream_report_cancelled(cnet_socket_t *s);
int cnet__stream_write(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose,
                       cnet_write_cb cb, void *arg);
void cnet__stream_on_readable_data(cnet_socket_t *s, const char *base, size_t len);
void cnet__stream_on_eof(cnet_socket_t *s);
/* The transport seam (stream.c), for a transport that sits on the libuv stream. */
/* Holds a write (plaintext, copied unless dispose says otherwise) until the transport is ready;
 * returns 1 past the highWaterMark, 0, or CNET_ENOMEM. */
int cnet__stream_hold(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose,
                      cnet_write_cb cb, void *arg);
/* Writes the held writes again, in order, through cnet__tls_sock_write. */
void cnet__stream_release_held(cnet_socket_t *s);
/*
 * A request able to carry @p len bytes of wire data, reserved before the transport commits to
 * a write (so that out of memory refuses it with nothing changed): the transport's spare when
 * it is large enough, so steady traffic allocates nothing. NULL: out of memory. Not queued:
 * cnet__stream_send_reserved() takes it.
 */
cnet__wreq_t *cnet__stream_reserve_wire(cnet_socket_t *s, size_t len);
/* Sends @p len bytes (at most the size reserved) carrying @p cb through the reservation @p w:
 * straight to the kernel when nothing is queued (then @p w becomes the spare again), what the
 * kernel did not take copied into @p w and queued. Returns 1 past the highWaterMark, 0, or a
 * negative code once the socket was destroyed for it (a send error). */
int cnet__stream_send_reserved(cnet_socket_t *s, cnet__wreq_t *w, const char *data, size_t len,
                               cnet_write_cb cb, void *arg);
/* Frees the transport's spare request (trim, and the end of the transport). */
void cnet__stream_drop_spare(cnet_socket_t *s);
/* Sends @p len bytes of wire data carrying @p cb: straight to the kernel when nothing is queued
 * (as a plain write), the rest copied into the queue. Returns 1 past the highWaterMark, 0, or a
 * negative code once the socket was destroyed for it (out of memory, a send error). */
int cnet__stream_write_wire(cnet_socket_t *s, const char *data, size_t len, cnet_write_cb cb,
                            void *arg);
void cnet__stream_dispose_bufs(const cnet_buf_t *bufs, size_t nbufs, cnet_free_fn dispose);

/* TLS sockets (src/tls/socket.c; stubs in none.c). Called only when CNET__S_TLS is set. */
int cnet__tls_sock_write(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                         cnet_free_fn dispose, cnet_write_cb cb, void *arg);
void cnet__tls_sock_on_read(cnet_socket_t *s, const char *base, size_t len);
void cnet__tls_sock_on_eof(cnet_socket_t *s);
/* May libuv's shutdown (FIN) go out now? Sends close_notify first. */
bool cnet__tls_sock_may_shutdown(cnet_socket_t *s);
void cnet__tls_sock_connected(cnet_socket_t *s);
void cnet__tls_sock_resumed(cnet_socket_t *s);
/* A 'keylog' listener was added: the engine starts producing lines. */
void cnet__tls_sock_keylog_listened(cnet_socket_t *s);
void cnet__tls_sock_free(cnet_socket_t *s);
/* Server: makes an accepted socket TLS on @p o->tls, with @p o's handshake timeout and SNI
 * and ALPN callbacks. 0 or a negative code. */
int cnet__tls_sock_accepted(cnet_socket_t *s, const cnet_server_opts_t *o);
/* Whether @p ctx has an ALPN list of its own (alpn_protocols; false without TLS). */
bool cnet__tls_context_has_alpn(const cnet_tls_context_t *ctx);
/* destroy(): stops what the TLS state runs (the handshake timer). */
void cnet__tls_sock_destroyed(cnet_socket_t *s);

/* Endpoints kept past 'close' (sockaddr.c). */
void cnet__socket_capture_endpoints(cnet_socket_t *s);
void cnet__socket_free_endpoints(cnet_socket_t *s);

/* node's onread option (onread.c): reads go straight into the user's buffer. */
int cnet__onread_init(cnet_socket_t *s, const cnet_socket_opts_t *opts);
void cnet__onread_free(cnet_socket_t *s);
/* Once connected, from a libuv callback: the buffer function's first call. */
void cnet__onread_connected(cnet_socket_t *s);
/* Copies the onread fields of connect options into socket options (net.connect). */
void cnet__onread_opts_from_connect(cnet_socket_opts_t *so, const cnet_connect_opts_t *o);
void cnet__onread_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
void cnet__onread_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* pipe() (pipe.c). */
void cnet__pipe_on_data(cnet_socket_t *src, const char *base, size_t len);
void cnet__pipe_on_end(cnet_socket_t *src);
void cnet__pipe_detach(cnet_socket_t *s);
void cnet__pipe_on_drain(cnet_socket_t *dst);

/* AbortSignal of the socket and connect options (socket_abort.c). Attach: 0,
 * or CNET_ENOMEM (nothing changed); an aborted signal destroys @p s at once
 * with CNET_ABORT_ERR. Detach (at 'close'): drops every listener. */
int cnet__socket_abort_attach(cnet_socket_t *s, cnet_abort_signal_t *sig);
void cnet__socket_abort_detach(cnet_socket_t *s);

/* Connecting (connect.c, lookup.c, happy_eyeballs.c; their shared state is in net/connect.h). */
void cnet__connect_cancel(cnet_socket_t *s);
void cnet__connect_free(cnet_socket_t *s);

/* Existing descriptors (src/ipc/fd.c). */
enum { CNET__FD_OTHER, CNET__FD_TCP, CNET__FD_PIPE };
/* What @p fd is, as node's guessHandleType tells it: a TCP or Unix stream, or other. */
int cnet__fd_kind(int fd);
/* Inits @p h for @p kind and opens @p fd on it. *inited says whether h needs uv_close();
 * on failure libuv did not take the fd. */
int cnet__fd_open(uv_loop_t *loop, cnet__handle_t *h, int fd, int kind, bool *inited);
/* A close-on-exec duplicate of the handle's fd, or a negative code. */
int cnet__fd_dup(const uv_handle_t *h);
/* new net.Socket({fd}): opens o->fd on @p s (freshly allocated). On error the caller destroys
 * s and the fd is untouched. */
int cnet__socket_open_fd(cnet_socket_t *s, const cnet_socket_opts_t *o);

/* ---- server.c ----------------------------------------------------------- */
extern const cnet__ref_ops_t cnet__server_ref_ops; /* for ticks that carry a server */
void cnet__server_retain(cnet_server_t *srv);
void cnet__server_release(cnet_server_t *srv);
void cnet__server_connection_closed(cnet_server_t *srv);
void cnet__server_emit(cnet_server_t *srv, const cnet_event_t *ev);
/* The server whose listening handle @p h is, or NULL (workers.c's stop walks the handles). */
cnet_server_t *cnet__server_from_handle(uv_handle_t *h);
/* IPC (src/ipc/): makes @p srv (new, never listened) listen on the listening socket
 * pending on @p ipc (uv_accept into a uv_tcp_t, or a uv_pipe_t when @p pipe); no
 * 'listening' event. 0 or a negative code (then the server has no handle). */
int cnet__server_adopt_pending(cnet_server_t *srv, uv_pipe_t *ipc, bool pipe);
/* The listening fd of @p srv, or CNET_ERR_SERVER_NOT_RUNNING; *tls: a TLS server. */
int cnet__server_fileno(const cnet_server_t *srv, bool *tls);
/* The channels @p srv sent connections over (node's server._workers), NULL when none. */
struct cnet__ipc_link **cnet__server_ipc_links(cnet_server_t *srv);
unsigned cnet__server_id(const cnet_server_t *srv);
/* A hold on 'close' (node's _connections++ while the workers are polled); released by
 * cnet__server_connection_closed(). */
void cnet__server_hold(cnet_server_t *srv);

/* ---- ipc/channel.c: hooks of the layers below ----------------------------------- */
/* A socket received from another process's server closed (its 'close' is being emitted). */
void cnet__ipc_socket_closed(cnet_socket_t *s);
/* server.getConnections() of a server that sent connections to other processes. */
int cnet__ipc_get_connections(cnet_server_t *srv, cnet_count_cb cb, void *arg);
/* server.close() of such a server: asks each channel to report when its sockets closed;
 * true when it holds the server's 'close' (cnet__server_hold) until they answered. */
bool cnet__ipc_server_closing(cnet_server_t *srv);
/* The server is being freed: its links go. */
void cnet__ipc_server_free(cnet_server_t *srv);

/* ---- addresses (addr.c) ------------------------------------------------- */

/* Fills @p out from a sockaddr (AF_INET/AF_INET6/AF_UNIX); returns 0 or CNET_EAFNOSUPPORT. */
int cnet__addr_from_sockaddr(const struct sockaddr *sa, size_t salen, cnet_address_t *out);
/* Parses an IP literal and port into @p ss; returns 0, or CNET_ERR_INVALID_IP_ADDRESS. */
int cnet__addr_parse(const char *ip, int port, struct sockaddr_storage *ss);
/* Checks a Unix socket path: CNET_ENAMETOOLONG if it does not fit in sun_path. */
int cnet__addr_check_path(const char *path);
/* Node's port rule: an integer in 0..65535. */
static inline bool cnet__port_valid(int port)
{
    return port >= 0 && port <= 65535;
}

/* ---- ipc/unix.c: Unix socket names, Linux abstract names ------------------ */

/*
 * Checks a Unix socket name of @p path_len bytes (0: NUL-terminated) and
 * stores its length in @p *len: 0, CNET_ERR_INVALID_ARG_VALUE (empty, or a
 * filesystem path with a NUL inside), CNET_ENAMETOOLONG (no room in sun_path).
 * A name starting with a NUL byte is a Linux abstract name.
 */
int cnet__unix_check(const char *path, size_t path_len, size_t *len);
static inline bool cnet__unix_is_abstract(const char *name, size_t len)
{
    return len > 0 && name[0] == '\0';
}
/* A NUL-terminated heap copy of the @p len bytes of @p name, or NULL. */
char *cnet__unix_dup(const char *name, size_t len);
/* The name for messages: each NUL shown as '@' (as ss and /proc/net/unix do). */
void cnet__unix_display(const char *name, size_t len, char *out, size_t cap);
/* The name as an address: its bytes (an abstract name's leading NUL kept), port -1, family 0. */
void cnet__unix_to_address(const char *name, size_t len, cnet_address_t *out);
/* Binds / connects a new socket to an abstract name and opens it on @p pipe (initialised,
 * no fd yet). 0 or the system call's error (nothing is left open then). Never blocks. */
int cnet__unix_bind_abstract(uv_pipe_t *pipe, const char *name, size_t len);
int cnet__unix_connect_abstract(uv_pipe_t *pipe, const char *name, size_t len);

#endif
