/*
 * cnet.h: Node.js `net` semantics for C, on libuv.
 *
 * This is the one public header and the reference documentation. Map:
 *   1. Conventions: errors, threading, lifetime (read these first)
 *   2. Error codes (one X-macro table)
 *   3. Events and the event struct
 *   4. Loop
 *   5. Servers (net.Server)
 *   6. Sockets (net.Socket): connect, write, end, destroy, flow control
 *   7. Encodings and framing helpers
 *   8. Addresses (net.isIP, ...)
 *   9. Allocator and logging
 *
 * 1. CONVENTIONS
 *
 * Errors. Functions that act return int: 0 on success, a negative CNET_E*
 * code on failure. The codes for system errors are -errno (the same values
 * libuv uses), the library's own codes sit below -5000. cnet_err_name() gives
 * Node's `err.code` string ("ECONNREFUSED", "ERR_SOCKET_BAD_PORT"),
 * cnet_strerror() a message. A call that returns an error schedules nothing:
 * no callback and no event will fire for it. Errors of the operation itself
 * (a refused connection, a failed DNS lookup, EADDRINUSE) are not returned:
 * the call returns 0 and the error arrives later as an 'error' event, exactly
 * as in Node.
 *
 * Callbacks never run inside the call that caused them. Any public function
 * may be called from inside any callback, including destroying the object
 * whose callback is running.
 *
 * Threading. Every object belongs to the thread that runs its loop and must
 * only be touched from that thread. Each thread has its own default loop.
 *
 * Lifetime. The library allocates every object and frees it itself: a socket
 * or server stays valid until the listeners of its 'close' event have
 * returned, then it is freed. To keep a pointer valid longer (to reconnect a
 * closed socket, or because you stored it), call cnet_socket_retain() and
 * later cnet_socket_release(). Calls on a closed, retained object return an
 * error (CNET_ERR_SOCKET_CLOSED, CNET_ERR_STREAM_DESTROYED); they never crash.
 *
 * Borrowed memory. Bytes and strings inside an event are valid only until the
 * listener returns. The library never keeps a pointer you pass unless the
 * function says so (write copies by default).
 *
 * Options structs and the ABI. Every options struct (cnet_*_opts_t) begins
 * with `size`, which its CNET_*_OPTS_INIT macro sets to the struct's size in
 * the header the program was built with; always start from that macro. The
 * library reads only the first `size` bytes, so a program built against an
 * older cnet.h keeps working with a newer libcnet.so.0: fields it does not
 * know take their defaults, and every field's zero value is its default.
 * A program built against a newer header on an older library works as long
 * as it leaves the newer fields zero; otherwise the call fails with
 * CNET_ERR_INVALID_ARG_VALUE rather than ignoring what was asked (the rule
 * of Linux's copy_struct_from_user). A size of 0 (a struct zeroed without the
 * macro) or one smaller than the first release's layout is
 * CNET_ERR_INVALID_ARG_VALUE. Structs the library fills or lends to you
 * (cnet_event_t, cnet_error_t) only ever grow at the end; cnet_address_t and
 * cnet_buf_t never change.
 *
 * SIGPIPE. cnet never raises SIGPIPE and never changes signal handlers: its
 * own writes use MSG_NOSIGNAL, and cnet_loop_run() blocks SIGPIPE in the
 * running thread only, discarding any SIGPIPE its writes cause.
 */
#ifndef CNET_H
#define CNET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnet/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CNET_EXTERN __attribute__((visibility("default")))
#else
#define CNET_EXTERN
#endif

/* The initialiser of every options struct: its size, every other field zero.
 * Designated in C, so -Wextra's missing-field-initializers stays quiet. */
#ifdef __cplusplus
#define CNET__OPTS_INIT(type) \
    {                         \
        sizeof(type)          \
    }
#else
#define CNET__OPTS_INIT(type) \
    {                         \
        .size = sizeof(type)  \
    }
#endif

/* Opaque handles. */
typedef struct cnet_loop_s cnet_loop_t;
typedef struct cnet_socket_s cnet_socket_t;
typedef struct cnet_server_s cnet_server_t;

/* Frees a user pointer handed to the library (listener args, zero-copy buffers). */
typedef void (*cnet_free_fn)(void *ptr);

/* ------------------------------------------------------------------------
 * 2. ERROR CODES
 *
 * Adding a code? Add it here only: the enum, cnet_err_name() and
 * cnet_strerror() are generated from this table, and docs/errors.md lists it.
 * ------------------------------------------------------------------------ */

/* System errors: value is -errno, as in libuv and Node's err.errno. */
#define CNET_ERRNO_MAP(X)                                              \
    X(EACCES, -EACCES, "permission denied")                            \
    X(EADDRINUSE, -EADDRINUSE, "address already in use")               \
    X(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")          \
    X(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")     \
    X(EAGAIN, -EAGAIN, "resource temporarily unavailable")             \
    X(EALREADY, -EALREADY, "connection already in progress")           \
    X(EBADF, -EBADF, "bad file descriptor")                            \
    X(EBUSY, -EBUSY, "resource busy or locked")                        \
    X(ECANCELED, -ECANCELED, "operation canceled")                     \
    X(ECONNABORTED, -ECONNABORTED, "software caused connection abort") \
    X(ECONNREFUSED, -ECONNREFUSED, "connection refused")               \
    X(ECONNRESET, -ECONNRESET, "connection reset by peer")             \
    X(EEXIST, -EEXIST, "file already exists")                          \
    X(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")              \
    X(EINTR, -EINTR, "interrupted system call")                        \
    X(EINVAL, -EINVAL, "invalid argument")                             \
    X(EIO, -EIO, "i/o error")                                          \
    X(EISCONN, -EISCONN, "socket is already connected")                \
    X(EMFILE, -EMFILE, "too many open files")                          \
    X(EMSGSIZE, -EMSGSIZE, "message too long")                         \
    X(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                    \
    X(ENETDOWN, -ENETDOWN, "network is down")                          \
    X(ENETUNREACH, -ENETUNREACH, "network is unreachable")             \
    X(ENFILE, -ENFILE, "file table overflow")                          \
    X(ENOBUFS, -ENOBUFS, "no buffer space available")                  \
    X(ENOENT, -ENOENT, "no such file or directory")                    \
    X(ENOMEM, -ENOMEM, "not enough memory")                            \
    X(ENOSPC, -ENOSPC, "no space left on device")                      \
    X(ENOSYS, -ENOSYS, "function not implemented")                     \
    X(ENOTCONN, -ENOTCONN, "socket is not connected")                  \
    X(ENOTDIR, -ENOTDIR, "not a directory")                            \
    X(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")           \
    X(ENOTSUP, -ENOTSUP, "operation not supported on socket")          \
    X(EPERM, -EPERM, "operation not permitted")                        \
    X(EPIPE, -EPIPE, "broken pipe")                                    \
    X(EPROTO, -EPROTO, "protocol error")                               \
    X(EPROTONOSUPPORT, -EPROTONOSUPPORT, "protocol not supported")     \
    X(ETIMEDOUT, -ETIMEDOUT, "connection timed out")

/* DNS and library errors: names are Node's err.code values. */
#define CNET_LIBERR_MAP(X)                                                             \
    X(EOF, -4095, "end of file")                                                       \
    X(ENOTFOUND, -5001, "host name not found")                                         \
    X(EAI_AGAIN, -5002, "temporary failure in name resolution")                        \
    X(EAI_FAIL, -5003, "permanent failure in name resolution")                         \
    X(EAI_FAMILY, -5004, "address family not supported by resolver")                   \
    X(EAI_MEMORY, -5005, "out of memory in resolver")                                  \
    X(EAI_SERVICE, -5006, "service not available for socket type")                     \
    X(EAI_BADFLAGS, -5007, "bad resolver flags")                                       \
    X(ERR_INVALID_ARG_TYPE, -5100, "an argument is NULL or of the wrong kind")         \
    X(ERR_INVALID_ARG_VALUE, -5101, "an argument has an invalid value")                \
    X(ERR_OUT_OF_RANGE, -5102, "a value is out of range")                              \
    X(ERR_MISSING_ARGS, -5103, "a required argument is missing")                       \
    X(ERR_SOCKET_BAD_PORT, -5110, "Port should be >= 0 and < 65536")                   \
    X(ERR_INVALID_IP_ADDRESS, -5111, "Invalid IP address")                             \
    X(ERR_SOCKET_CLOSED, -5112, "Socket is closed")                                    \
    X(ERR_SOCKET_CONNECTING, -5113, "socket is already connecting or connected")       \
    X(ERR_SOCKET_CLOSED_BEFORE_CONNECTION, -5114,                                      \
      "Socket closed before the connection was established")                           \
    X(ERR_INVALID_HANDLE_TYPE, -5115, "This handle type cannot be sent")               \
    X(ERR_INVALID_ADDRESS_FAMILY, -5116, "Invalid address family")                     \
    X(ERR_SOCKET_CONNECTION_TIMEOUT, -5117, "Socket connection timeout")               \
    X(ERR_STREAM_WRITE_AFTER_END, -5120, "write after end")                            \
    X(ERR_STREAM_DESTROYED, -5121, "Cannot call write after a stream was destroyed")   \
    X(ERR_STREAM_PREMATURE_CLOSE, -5122, "Premature close")                            \
    X(ERR_STREAM_ALREADY_PIPED, -5123, "stream is already piped")                      \
    X(ERR_STREAM_NULL_VALUES, -5124, "May not write null values to stream")            \
    X(ERR_STREAM_ALREADY_FINISHED, -5125,                                              \
      "Cannot call end after a stream "                                                \
      "was finished")                                                                  \
    X(ERR_SERVER_NOT_RUNNING, -5130, "Server is not running.")                         \
    X(ERR_SERVER_ALREADY_LISTEN, -5131,                                                \
      "Listen method has been called more than once without closing.")                 \
    X(ERR_UNKNOWN_ENCODING, -5140, "Unknown encoding")                                 \
    X(ERR_FRAME_TOO_LARGE, -5150, "frame exceeds the maximum size")                    \
    X(ERR_LINE_TOO_LONG, -5151, "line exceeds the maximum length")                     \
    X(ERR_LOOP_BUSY, -5160, "loop still has objects or handles")                       \
    X(ERR_WRONG_THREAD, -5161, "object used from a thread that does not own its loop") \
    X(ABORT_ERR, -5170, "The operation was aborted")                                   \
    X(UNKNOWN, -5999, "unknown error")

#define CNET_ERROR_MAP(X) CNET_ERRNO_MAP(X) CNET_LIBERR_MAP(X)

typedef enum {
#define CNET__ERR_ENUM(name, value, msg) CNET_##name = (value),
    CNET_ERROR_MAP(CNET__ERR_ENUM)
#undef CNET__ERR_ENUM
} cnet_errno_t;

/** Node's err.code for @p code ("ECONNREFUSED"); "UNKNOWN" for a code not in the table. Static. */
CNET_EXTERN const char *cnet_err_name(int code);
/** A message for @p code; never NULL, never allocated. */
CNET_EXTERN const char *cnet_strerror(int code);

/**
 * An error as Node reports it on its error objects: code plus the syscall,
 * address and port involved. Strings are borrowed (valid during the event).
 * @c message is Node's text, e.g. "connect ECONNREFUSED 127.0.0.1:1".
 */
typedef struct cnet_error {
    int code;             /* negative CNET_E* code */
    const char *syscall;  /* "connect", "getaddrinfo", "listen", "read", "write"... or NULL */
    const char *address;  /* IP address or socket path, or NULL */
    int port;             /* port, or -1 when not relevant */
    const char *hostname; /* host name for DNS errors, or NULL */
    const char *message;  /* full message, never NULL */
    /* Since 0.2: the local endpoint of a failed bind or connect with localAddress/localPort. */
    const char *local_address; /* or NULL */
    int local_port;            /* or -1 */
} cnet_error_t;

/* ------------------------------------------------------------------------
 * 3. EVENTS
 * ------------------------------------------------------------------------ */

/* Event names are Node's. Adding one? Update this map and docs/design.md. */
#define CNET_EVENT_MAP(X)       \
    X(LOOKUP, "lookup")         \
    X(CONNECT, "connect")       \
    X(READY, "ready")           \
    X(DATA, "data")             \
    X(END, "end")               \
    X(FINISH, "finish")         \
    X(DRAIN, "drain")           \
    X(TIMEOUT, "timeout")       \
    X(ERROR, "error")           \
    X(CLOSE, "close")           \
    X(LISTENING, "listening")   \
    X(CONNECTION, "connection") \
    X(DROP, "drop")             \
    X(FRAME, "frame")

typedef enum {
#define CNET__EV_ENUM(name, str) CNET_EVENT_##name,
    CNET_EVENT_MAP(CNET__EV_ENUM)
#undef CNET__EV_ENUM
        CNET_EVENT__COUNT /* grows with every new event: not part of the ABI */
} cnet_event_type_t;

/** off_all(CNET_EVENT_ALL): every type (a fixed value, unlike the count).
 */
#define CNET_EVENT_ALL ((cnet_event_type_t)0xffff)

/** Node's event name ("data"), or NULL for an invalid type. */
CNET_EXTERN const char *cnet_event_name(cnet_event_type_t type);

/** Maximum length of a formatted address (an IPv6 address or a socket path), with the NUL. */
#define CNET_ADDRSTRLEN 110

/** An endpoint, as Node's address() returns it. family is 4, 6, or 0 for a Unix socket path. */
typedef struct cnet_address {
    char address[CNET_ADDRSTRLEN];
    int port;
    int family;
} cnet_address_t;

/**
 * What a listener receives. Read-only and borrowed: valid until the listener
 * returns. Which fields are set depends on @c type:
 *   DATA        data.base/len: the bytes (or the decoded string, NUL-terminated,
 *               when an encoding is set; @c encoding names it).
 *   FRAME       data.base/len: one whole frame (see cnet_socket_set_framing).
 *   ERROR       error: what failed.
 *   CLOSE       had_error: true when the socket closed because of an error.
 *   LOOKUP      error (NULL on success), address, family, host.
 *   CONNECTION  connection: the new socket (owned by the library, see Lifetime).
 *   DROP        local, remote: the endpoints of the dropped connection.
 *   CLOSE (server) error: ERR_SERVER_NOT_RUNNING when cnet_server_close() was
 *               called on a server that was not listening, else NULL.
 */
typedef struct cnet_event {
    cnet_event_type_t type;
    struct {
        const char *base;
        size_t len;
    } data;
    const char *encoding;
    const cnet_error_t *error;
    bool had_error;
    cnet_socket_t *connection;
    const char *address;
    int family;
    const char *host;
    const cnet_address_t *local;
    const cnet_address_t *remote;
} cnet_event_t;

typedef void (*cnet_socket_cb)(cnet_socket_t *s, const cnet_event_t *ev, void *arg);
typedef void (*cnet_server_cb)(cnet_server_t *srv, const cnet_event_t *ev, void *arg);

/* ------------------------------------------------------------------------
 * 4. LOOP
 * ------------------------------------------------------------------------ */

/**
 * The calling thread's default loop, created on first use. Returns NULL only
 * when out of memory. Every constructor that takes a loop accepts NULL for it.
 */
CNET_EXTERN cnet_loop_t *cnet_loop_default(void);

/** A new loop with its own libuv loop. Free it with cnet_loop_close(). */
CNET_EXTERN int cnet_loop_new(cnet_loop_t **out);

/**
 * Runs @p loop until nothing ref'd remains: no listening server, open socket,
 * pending connect, lookup or timer that is ref'd (Node's exit rule).
 * Returns 0, or CNET_ERR_INVALID_ARG_TYPE for NULL.
 */
CNET_EXTERN int cnet_loop_run(cnet_loop_t *loop);

/** Runs one iteration without blocking; returns true while work remains. */
CNET_EXTERN bool cnet_loop_run_nowait(cnet_loop_t *loop);

/** Makes cnet_loop_run() return after the current iteration. */
CNET_EXTERN void cnet_loop_stop(cnet_loop_t *loop);

/**
 * Frees @p loop. Fails with CNET_ERR_LOOP_BUSY, changing nothing, while any
 * socket or server created on it is still alive. For an adopted libuv loop
 * (cnet/uv.h) only cnet's state is freed; the uv_loop_t is handed back open.
 */
CNET_EXTERN int cnet_loop_close(cnet_loop_t *loop);

/** Number of sockets and servers alive on @p loop (for leak checks). */
CNET_EXTERN size_t cnet_loop_alive(const cnet_loop_t *loop);

/** The loop's cached time in milliseconds (libuv's uv_now()). */
CNET_EXTERN uint64_t cnet_loop_now(const cnet_loop_t *loop);

/**
 * Runs the calling thread's default loop until nothing ref'd remains, then,
 * if no object is left on it, frees it (a later call creates a new one).
 * Like `node script.js`: returns 0 when the program is done.
 */
CNET_EXTERN int cnet_run(void);

/* ------------------------------------------------------------------------
 * 5. SERVERS
 * ------------------------------------------------------------------------ */

/** net.createServer() options. Start from CNET_SERVER_OPTS_INIT (see "Options structs"). */
typedef struct cnet_server_opts {
    size_t size;           /* sizeof the struct: set by CNET_SERVER_OPTS_INIT */
    bool allow_half_open;  /* accepted sockets: keep writable after peer's FIN */
    bool pause_on_connect; /* accepted sockets start paused */
    bool no_delay;         /* TCP_NODELAY on accepted sockets */
    bool keep_alive;       /* SO_KEEPALIVE on accepted sockets */
    unsigned keep_alive_initial_delay_ms;
    int max_connections;    /* 0: no limit (Node's maxConnections) */
    size_t high_water_mark; /* accepted sockets' write highWaterMark; 0: 16 KiB */
} cnet_server_opts_t;
#define CNET_SERVER_OPTS_INIT CNET__OPTS_INIT(cnet_server_opts_t)

/**
 * net.createServer(): a new server on @p loop (NULL: the thread's default).
 * Emits: 'listening', 'connection', 'drop', 'error', 'close'.
 * @return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE (out is NULL).
 */
CNET_EXTERN int cnet_server_new(cnet_loop_t *loop, const cnet_server_opts_t *opts,
                                cnet_server_t **out);

/**
 * net.createServer(options, connectionListener) on the default loop.
 * @p on_connection (may be NULL) is added as a 'connection' listener.
 * @return the server, or NULL when out of memory.
 */
CNET_EXTERN cnet_server_t *cnet_create_server(const cnet_server_opts_t *opts,
                                              cnet_server_cb on_connection, void *arg);

/** server.listen() options. */
typedef struct cnet_listen_opts {
    size_t size;       /* sizeof the struct: set by CNET_LISTEN_OPTS_INIT */
    int port;          /* 0: an OS-assigned port */
    const char *host;  /* NULL: "::" dual-stack, else 0.0.0.0; names are resolved */
    const char *path;  /* a Unix socket path instead of host/port */
    int backlog;       /* 0: 511 */
    bool ipv6_only;    /* with host "::": no IPv4 */
    bool readable_all; /* path: make the socket readable by all users */
    bool writable_all; /* path: make the socket writable by all users */
} cnet_listen_opts_t;
#define CNET_LISTEN_OPTS_INIT CNET__OPTS_INIT(cnet_listen_opts_t)

/**
 * server.listen(options, callback). @p on_listening (may be NULL) is added as
 * a once 'listening' listener. Errors of binding (EADDRINUSE, EACCES, a
 * failed lookup) arrive as an 'error' event and the server is not listening.
 * @return 0, or at once (scheduling nothing): CNET_ERR_SOCKET_BAD_PORT,
 *   CNET_ENAMETOOLONG (path longer than sun_path allows),
 *   CNET_ERR_SERVER_ALREADY_LISTEN, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_server_listen_opts(cnet_server_t *srv, const cnet_listen_opts_t *opts,
                                        cnet_server_cb on_listening, void *arg);
/** server.listen(port, host, callback); @p host may be NULL. See cnet_server_listen_opts(). */
CNET_EXTERN int cnet_server_listen(cnet_server_t *srv, int port, const char *host,
                                   cnet_server_cb on_listening, void *arg);
/** server.listen(path, callback) for a Unix domain socket. See cnet_server_listen_opts(). */
CNET_EXTERN int cnet_server_listen_path(cnet_server_t *srv, const char *path,
                                        cnet_server_cb on_listening, void *arg);

/**
 * server.close(callback): stop accepting. 'close' is emitted once every
 * connection has closed; @p on_close (may be NULL) is added as a once 'close'
 * listener. On a server that is not listening, 'close' still comes and its
 * event carries error ERR_SERVER_NOT_RUNNING, as Node passes it to the
 * callback. The server may listen again afterwards (from a 'close' listener,
 * or at any time if retained).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_SERVER_NOT_RUNNING (the server
 *   already emitted 'close' and is only kept by a retain: nothing is scheduled).
 */
CNET_EXTERN int cnet_server_close(cnet_server_t *srv, cnet_server_cb on_close, void *arg);

/**
 * Closes the server if needed and frees it after its 'close' event, even if
 * it is retained. Idempotent; NULL is a no-op. Connections stay open.
 */
CNET_EXTERN void cnet_server_destroy(cnet_server_t *srv);

/** server.address(): fills @p out. CNET_ERR_SERVER_NOT_RUNNING if not listening. */
CNET_EXTERN int cnet_server_address(const cnet_server_t *srv, cnet_address_t *out);
/** server.listening */
CNET_EXTERN bool cnet_server_is_listening(const cnet_server_t *srv);
/** The number of open connections (server.getConnections() without the callback). */
CNET_EXTERN size_t cnet_server_connections(const cnet_server_t *srv);

typedef void (*cnet_count_cb)(cnet_server_t *srv, int err, size_t count, void *arg);
/** server.getConnections(cb): @p cb runs on a later loop turn with the count. */
CNET_EXTERN int cnet_server_get_connections(cnet_server_t *srv, cnet_count_cb cb, void *arg);
/** server.maxConnections; 0 removes the limit. Excess connections are closed and reported by
 * 'drop'. */
CNET_EXTERN int cnet_server_set_max_connections(cnet_server_t *srv, int max);
/** server.ref() / unref(): whether a listening server keeps cnet_loop_run() going. */
CNET_EXTERN void cnet_server_ref(cnet_server_t *srv);
CNET_EXTERN void cnet_server_unref(cnet_server_t *srv);
/** Keeps @p srv allocated past its 'close' event until the matching release. */
CNET_EXTERN void cnet_server_retain(cnet_server_t *srv);
CNET_EXTERN void cnet_server_release(cnet_server_t *srv);
CNET_EXTERN void cnet_server_set_data(cnet_server_t *srv, void *data);
CNET_EXTERN void *cnet_server_get_data(const cnet_server_t *srv);
CNET_EXTERN cnet_loop_t *cnet_server_loop(const cnet_server_t *srv);

/* EventEmitter for servers; see the socket functions below for the rules. */
CNET_EXTERN int cnet_server_on(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                               void *arg);
CNET_EXTERN int cnet_server_on_ex(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                  void *arg, cnet_free_fn arg_free);
CNET_EXTERN int cnet_server_once(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                 void *arg);
CNET_EXTERN int cnet_server_prepend(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                    void *arg);
CNET_EXTERN int cnet_server_off(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                void *arg);
CNET_EXTERN int cnet_server_off_all(cnet_server_t *srv, cnet_event_type_t type);
CNET_EXTERN size_t cnet_server_listener_count(const cnet_server_t *srv, cnet_event_type_t type);

/* ------------------------------------------------------------------------
 * 6. SOCKETS
 * ------------------------------------------------------------------------ */

/** new net.Socket(options). */
typedef struct cnet_socket_opts {
    size_t size;            /* sizeof the struct: set by CNET_SOCKET_OPTS_INIT */
    bool allow_half_open;   /* stay writable after the peer's FIN until end() */
    size_t high_water_mark; /* write highWaterMark in bytes; 0: 16 KiB */
} cnet_socket_opts_t;
#define CNET_SOCKET_OPTS_INIT CNET__OPTS_INIT(cnet_socket_opts_t)

/**
 * new net.Socket(): an unconnected socket on @p loop (NULL: default loop).
 * It is freed after its 'close' event; a socket that is never connected is
 * freed by cnet_socket_destroy().
 * @return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE.
 */
CNET_EXTERN int cnet_socket_new(cnet_loop_t *loop, const cnet_socket_opts_t *opts,
                                cnet_socket_t **out);

/** socket.connect(options). family 0 lets the lookup choose, 4 or 6 forces it. */
typedef struct cnet_connect_opts {
    size_t size; /* sizeof the struct: set by CNET_CONNECT_OPTS_INIT */
    int port;
    const char *host;          /* NULL: "localhost" */
    const char *path;          /* a Unix socket path instead of host/port */
    const char *local_address; /* bind before connecting */
    int local_port;
    int family;          /* 0, 4 or 6 */
    unsigned timeout_ms; /* setTimeout() once created; 0: none */
    bool no_delay;
    bool keep_alive;
    unsigned keep_alive_initial_delay_ms;
    bool allow_half_open; /* net.connect() options carry it too */
} cnet_connect_opts_t;
#define CNET_CONNECT_OPTS_INIT CNET__OPTS_INIT(cnet_connect_opts_t)

/**
 * socket.connect(options, connectListener). Host names are resolved on
 * libuv's threadpool and reported by 'lookup' (not emitted for an IP
 * literal or a path); each resolved address is tried in turn. Then 'connect'
 * and 'ready', or 'error' and 'close'. @p on_connect (may be NULL) is added
 * as a once 'connect' listener. Writes made before the connection is up are
 * queued. A closed, retained socket may connect again.
 * @return 0, or at once: CNET_ERR_SOCKET_BAD_PORT, CNET_ENAMETOOLONG,
 *   CNET_ERR_INVALID_IP_ADDRESS (local_address), CNET_ERR_INVALID_ARG_VALUE
 *   (family), CNET_ERR_SOCKET_CONNECTING, CNET_ERR_STREAM_DESTROYED, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_connect_opts(cnet_socket_t *s, const cnet_connect_opts_t *opts,
                                         cnet_socket_cb on_connect, void *arg);
/** socket.connect(port, host, connectListener). See cnet_socket_connect_opts(). */
CNET_EXTERN int cnet_socket_connect(cnet_socket_t *s, int port, const char *host,
                                    cnet_socket_cb on_connect, void *arg);
/** socket.connect(path, connectListener). See cnet_socket_connect_opts(). */
CNET_EXTERN int cnet_socket_connect_path(cnet_socket_t *s, const char *path,
                                         cnet_socket_cb on_connect, void *arg);

/**
 * net.createConnection(options, connectListener): new socket + connect in
 * one call on @p loop (NULL: default). On failure nothing is created.
 */
CNET_EXTERN int cnet_create_connection(cnet_loop_t *loop, const cnet_connect_opts_t *opts,
                                       cnet_socket_cb on_connect, void *arg, cnet_socket_t **out);
/** net.connect(port, host, listener) on the default loop; NULL on any error. */
CNET_EXTERN cnet_socket_t *cnet_connect(int port, const char *host, cnet_socket_cb on_connect,
                                        void *arg);
/** net.connect(path, listener) on the default loop; NULL on any error. */
CNET_EXTERN cnet_socket_t *cnet_connect_path(const char *path, cnet_socket_cb on_connect,
                                             void *arg);

/* Writing. ---------------------------------------------------------------- */

typedef void (*cnet_write_cb)(cnet_socket_t *s, int status, void *arg);

/**
 * socket.write(data, callback). The bytes are copied (or sent at once if the
 * kernel takes them all), so @p data may be reused when this returns.
 * @p cb (may be NULL) runs on a later loop turn once the bytes are handed to
 * the kernel (status 0), or with a negative status if the socket is
 * destroyed or fails first; callbacks run in write order, before 'close'.
 * Writes before 'connect' are queued; if the socket is destroyed (or the
 * connect fails) before it connects, the first one's callback gets
 * CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION and the later ones the error that
 * destroyed the socket, or the same code without one (Node's codes). Once
 * connected, a write cancelled by destroy gets CNET_ECANCELED. @p len may be any size up to
 * SSIZE_MAX (4 GiB and more is sent whole). @p data NULL with @p len 0 is an
 * empty write. The accepted bytes count in cnet_socket_bytes_written() at once.
 * @return 0 when more may be written, 1 when the queue has reached the
 *   highWaterMark (Node's `false`: wait for 'drain', which then comes once),
 *   or at once, checked in this order: CNET_ERR_INVALID_ARG_TYPE (@p s NULL),
 *   CNET_ERR_STREAM_NULL_VALUES (@p data NULL with @p len > 0: Node's
 *   write(null), refused whatever the socket's state),
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_STREAM_WRITE_AFTER_END,
 *   CNET_ERR_SOCKET_CLOSED (never connected), CNET_ERR_OUT_OF_RANGE (@p len
 *   over SSIZE_MAX), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_write(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb,
                                  void *arg);
/** cnet_socket_write() of a NUL-terminated string, no callback; NULL is
 * CNET_ERR_STREAM_NULL_VALUES (Node's write(null)). */
CNET_EXTERN int cnet_socket_write_str(cnet_socket_t *s, const char *str);

/** One buffer of a vectored write. */
typedef struct cnet_buf {
    const void *base;
    size_t len;
} cnet_buf_t;

/* Ownership sentinels for cnet_socket_write_ex(), after SQLite. */
#define CNET_BUF_STATIC    ((cnet_free_fn)0)  /* caller keeps the bytes alive until cb */
#define CNET_BUF_TRANSIENT ((cnet_free_fn)-1) /* copy now */

/**
 * Vectored, optionally zero-copy write. The array of descriptors is always
 * copied. @p dispose decides who owns the bytes: CNET_BUF_TRANSIENT (copied
 * now), CNET_BUF_STATIC (not copied; they must stay valid until @p cb runs),
 * or a function the library calls exactly once on each bufs[i].base when it
 * no longer needs it — also when this call fails or the socket is destroyed.
 * Returns as cnet_socket_write(); a buffer with a NULL base and a length is
 * CNET_ERR_STREAM_NULL_VALUES, lengths summing past SSIZE_MAX or more than
 * UINT32_MAX buffers are CNET_ERR_OUT_OF_RANGE (@p bufs NULL with @p nbufs > 0
 * is CNET_ERR_INVALID_ARG_TYPE). On every error @p dispose has already run.
 */
CNET_EXTERN int cnet_socket_write_ex(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                                     cnet_free_fn dispose, cnet_write_cb cb, void *arg);

/**
 * socket.end(data, callback): write @p data (may be NULL/0), then half-close
 * (FIN) once every queued write is flushed and every write callback has run;
 * 'finish' follows. @p cb (may be NULL) runs with status 0 just before
 * 'finish', or with CNET_ECANCELED before 'close' if the socket is destroyed
 * first. No 'drain' is emitted after end().
 *
 * end() on a socket that is already ending — by an earlier end(), by the
 * library's own end after the peer's FIN (allowHalfOpen false), or by
 * cnet_socket_pipe() with end — is as in Node: without data (@p len 0) it
 * returns 0 and @p cb joins the callbacks run just before 'finish' (status
 * 0; each callback of every end() runs once, in call order), or gets
 * CNET_ECANCELED at destroy; once 'finish' has come, @p cb gets
 * CNET_ERR_STREAM_ALREADY_FINISHED on a later loop turn. With data it is
 * refused with CNET_ERR_STREAM_WRITE_AFTER_END (Node emits that error and
 * destroys the socket; here it is returned, nothing is scheduled and the
 * socket stays as it was). A returned 0 means @p cb will run exactly once.
 * @return 0, or at once: CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_STREAM_NULL_VALUES
 *   (@p data NULL with @p len > 0), CNET_ERR_STREAM_DESTROYED,
 *   CNET_ERR_SOCKET_CLOSED, CNET_ERR_STREAM_WRITE_AFTER_END, the errors of
 *   cnet_socket_write(), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_end(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb,
                                void *arg);
/** cnet_socket_end() with a NUL-terminated string (may be NULL). */
CNET_EXTERN int cnet_socket_end_str(cnet_socket_t *s, const char *str);

/**
 * socket.cork() / uncork(): while corked, writes are only queued; uncork()
 * (as many times as cork()) sends them together in one writev.
 */
CNET_EXTERN void cnet_socket_cork(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_uncork(cnet_socket_t *s);

/**
 * src.pipe(dst, {end}): every byte read from @p src is written to @p dst,
 * with backpressure: when dst's write returns 1, src is paused until dst's
 * 'drain'. With @p end, dst is ended (after its queue flushes) when src
 * emits 'end'. The pipe is undone when either side closes or dst refuses a
 * write; errors are not forwarded (as in Node: listen for 'error' on both).
 * Starts src flowing (resume).
 * A socket may be piped to itself (the seeds' echo server: c.pipe(c)).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE,
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_STREAM_ALREADY_PIPED, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_pipe(cnet_socket_t *src, cnet_socket_t *dst, bool end);
/** src.unpipe(): undoes cnet_socket_pipe(); a source paused by it is resumed. No-op if not piped.
 */
CNET_EXTERN int cnet_socket_unpipe(cnet_socket_t *src);

/* Ending the socket. --------------------------------------------------------- */

/**
 * socket.destroy(): close now. Queued writes are dropped and their callbacks
 * get CNET_ECANCELED (CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION while still
 * connecting, see cnet_socket_write()); 'close' (had_error false) follows on
 * a later turn. Safe
 * inside any callback, idempotent, NULL is a no-op.
 */
CNET_EXTERN void cnet_socket_destroy(cnet_socket_t *s);
/** socket.destroy(err): as cnet_socket_destroy(), then 'error' with @p code, then 'close'
 * (had_error true). */
CNET_EXTERN void cnet_socket_destroy_with_error(cnet_socket_t *s, int code);
/**
 * socket.resetAndDestroy(): destroy, closing with a TCP RST (SO_LINGER 0)
 * instead of a FIN, so the peer's next read fails with ECONNRESET (unless it
 * still had unread bytes: then the kernel reports them and an EOF, as in
 * Node). Also while a shutdown is pending (after end(), or the auto-end after
 * the peer's FIN): that shutdown is cancelled, the end() callbacks get
 * CNET_ECANCELED and 'close' comes (Node v20 emits 'error' EINVAL 'reset'
 * there and never closes the handle). On a socket still connecting, as Node:
 * nothing happens until 'connect' (its listeners added before this call run
 * first), then the socket is reset; 'ready' still follows, then 'close'. A
 * failed connect is reported as usual. The wait is, as in Node, a once
 * 'connect' listener: it counts in cnet_socket_listener_count(), and
 * removing every 'connect' listener (off_all) cancels the reset. On a socket that never connected
 * (no handle): Node's destroy(ERR_SOCKET_CLOSED), i.e. 'error'
 * ERR_SOCKET_CLOSED then 'close' (had_error true).
 * @return 0, or at once: CNET_ERR_INVALID_ARG_TYPE (NULL),
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_INVALID_HANDLE_TYPE (a Unix socket,
 *   also while connecting: Node throws), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_reset_and_destroy(cnet_socket_t *s);

/* Reading. ------------------------------------------------------------------ */

/** socket.pause(): stop 'data' events; unread bytes wait in the kernel, none is lost. */
CNET_EXTERN void cnet_socket_pause(cnet_socket_t *s);
/** socket.resume() */
CNET_EXTERN void cnet_socket_resume(cnet_socket_t *s);
/** socket.isPaused() */
CNET_EXTERN bool cnet_socket_is_paused(const cnet_socket_t *s);

/* Options. ------------------------------------------------------------------ */

/**
 * socket.setTimeout(ms): emit 'timeout' after @p ms without reads or writes.
 * Notify-only (the socket stays open), re-armed by any I/O; 0 disables.
 * @p cb (may be NULL) is added as a once 'timeout' listener.
 */
CNET_EXTERN int cnet_socket_set_timeout(cnet_socket_t *s, unsigned ms, cnet_socket_cb cb,
                                        void *arg);
/** socket.timeout: the current idle timeout in ms, 0 when none. */
CNET_EXTERN unsigned cnet_socket_get_timeout(const cnet_socket_t *s);
/** socket.setNoDelay(enable); applied at connect if called earlier. */
CNET_EXTERN int cnet_socket_set_no_delay(cnet_socket_t *s, bool enable);
/** socket.setKeepAlive(enable, initialDelay in ms); applied at connect if called earlier. */
CNET_EXTERN int cnet_socket_set_keep_alive(cnet_socket_t *s, bool enable,
                                           unsigned initial_delay_ms);
/** writableHighWaterMark: the write queue size at which write() returns 1. */
CNET_EXTERN int cnet_socket_set_high_water_mark(cnet_socket_t *s, size_t bytes);
CNET_EXTERN size_t cnet_socket_get_high_water_mark(const cnet_socket_t *s);
/** socket.ref() / unref(): whether this socket keeps cnet_loop_run() going. */
CNET_EXTERN void cnet_socket_ref(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_unref(cnet_socket_t *s);
/** Keeps @p s allocated past its 'close' event until the matching release. */
CNET_EXTERN void cnet_socket_retain(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_release(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_set_data(cnet_socket_t *s, void *data);
CNET_EXTERN void *cnet_socket_get_data(const cnet_socket_t *s);
CNET_EXTERN cnet_loop_t *cnet_socket_loop(const cnet_socket_t *s);

/* State. -------------------------------------------------------------------- */

typedef enum {
    CNET_STATE_OPENING,    /* connecting */
    CNET_STATE_OPEN,       /* readable and writable */
    CNET_STATE_READ_ONLY,  /* we have ended our side */
    CNET_STATE_WRITE_ONLY, /* the peer has ended its side */
    CNET_STATE_CLOSED
} cnet_ready_state_t;

/** socket.readyState */
CNET_EXTERN cnet_ready_state_t cnet_socket_ready_state(const cnet_socket_t *s);
/** Node's readyState string: "opening", "open", "readOnly", "writeOnly", "closed". */
CNET_EXTERN const char *cnet_ready_state_name(cnet_ready_state_t state);
CNET_EXTERN bool cnet_socket_is_connecting(const cnet_socket_t *s); /* socket.connecting */
/* socket.pending: not connected yet, or destroyed (Node: no handle, or connecting). */
CNET_EXTERN bool cnet_socket_is_pending(const cnet_socket_t *s);
CNET_EXTERN bool cnet_socket_is_destroyed(const cnet_socket_t *s); /* socket.destroyed */
CNET_EXTERN bool cnet_socket_is_writable(const cnet_socket_t *s);  /* socket.writable */
CNET_EXTERN bool cnet_socket_is_readable(const cnet_socket_t *s);  /* socket.readable */
/** socket.writableLength (= bufferSize): bytes queued and not yet taken by the kernel. */
CNET_EXTERN size_t cnet_socket_writable_length(const cnet_socket_t *s);
/** socket.writableNeedDrain: write() returned 1 and 'drain' has not come yet. */
CNET_EXTERN bool cnet_socket_writable_need_drain(const cnet_socket_t *s);
CNET_EXTERN uint64_t cnet_socket_bytes_read(const cnet_socket_t *s); /* socket.bytesRead */
/**
 * socket.bytesWritten: the bytes write() and end() accepted, including those
 * still queued (while connecting, corked, or waiting for the kernel), as
 * Node counts them; bytes of writes that later fail or are cancelled still
 * count. Encoded writes count their encoded bytes. Reset by a reconnect.
 */
CNET_EXTERN uint64_t cnet_socket_bytes_written(const cnet_socket_t *s);

/** socket.remoteAddress / remotePort / remoteFamily in one call. CNET_ENOTCONN if not connected. */
CNET_EXTERN int cnet_socket_remote_address(const cnet_socket_t *s, cnet_address_t *out);
/** socket.address() (localAddress / localPort / family). CNET_ENOTCONN if not connected. */
CNET_EXTERN int cnet_socket_address(const cnet_socket_t *s, cnet_address_t *out);

/* EventEmitter. --------------------------------------------------------------
 * Several listeners per event, called in the order added. An emit calls the
 * listeners registered when it began: one added during the emit is not called
 * in it, and one removed during it still is (Node's snapshot rule). A 'once'
 * listener is removed before it is called and never runs twice.
 * @p arg is passed back unchanged; with the _ex form, @p arg_free(arg) runs
 * when the listener is removed or the object is freed.
 * on/once/prepend return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE (NULL cb),
 * CNET_ERR_INVALID_ARG_VALUE (bad type). off removes the most recently added
 * listener matching cb and arg (Node's removeListener); it returns 0 whether
 * or not one matched. off_all removes every listener of @p type; pass
 * CNET_EVENT_ALL to remove all of every type.
 */
CNET_EXTERN int cnet_socket_on(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                               void *arg);
CNET_EXTERN int cnet_socket_on_ex(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                  void *arg, cnet_free_fn arg_free);
CNET_EXTERN int cnet_socket_once(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                 void *arg);
CNET_EXTERN int cnet_socket_prepend(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                    void *arg);
CNET_EXTERN int cnet_socket_prepend_once(cnet_socket_t *s, cnet_event_type_t type,
                                         cnet_socket_cb cb, void *arg);
CNET_EXTERN int cnet_socket_off(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                void *arg);
CNET_EXTERN int cnet_socket_off_all(cnet_socket_t *s, cnet_event_type_t type);
CNET_EXTERN size_t cnet_socket_listener_count(const cnet_socket_t *s, cnet_event_type_t type);

/* ------------------------------------------------------------------------
 * 7. ENCODINGS AND FRAMING
 * ------------------------------------------------------------------------ */

/**
 * socket.setEncoding(enc): 'data' events carry decoded strings (UTF-8 text
 * for "utf8"/"utf16le", one char per byte for "latin1"...), decoded with
 * Node's StringDecoder rules: characters split across reads are completed,
 * invalid bytes become U+FFFD where Node puts them, what is held back at
 * 'end' is flushed. NULL returns to raw bytes (beyond Node, whose
 * setEncoding(null) means utf8); "" means utf8, as in Node.
 * Names: utf8, utf-8, ascii, latin1, binary, base64, base64url, hex, utf16le,
 * utf-16le, ucs2, ucs-2 (case-insensitive, as Node).
 * @return 0, CNET_ERR_UNKNOWN_ENCODING.
 */
CNET_EXTERN int cnet_socket_set_encoding(cnet_socket_t *s, const char *encoding);

/**
 * socket.write(string, encoding, callback): encode @p str (UTF-8 text, @p len
 * bytes) as Node's Buffer.from(str, encoding) does, then write the bytes.
 * @p encoding NULL or "" means utf8, as in Node.
 * Returns as cnet_socket_write(), or CNET_ERR_UNKNOWN_ENCODING.
 */
CNET_EXTERN int cnet_socket_write_enc(cnet_socket_t *s, const char *str, size_t len,
                                      const char *encoding, cnet_write_cb cb, void *arg);
/** socket.end(string, encoding, callback); see cnet_socket_end() for an end() that comes again. */
CNET_EXTERN int cnet_socket_end_enc(cnet_socket_t *s, const char *str, size_t len,
                                    const char *encoding, cnet_write_cb cb, void *arg);

/*
 * Framing helpers (beyond Node). Opt-in per socket and layered on the byte
 * stream: once set, whole frames arrive as 'frame' events (the 'data' event
 * still fires with the raw bytes). No frame is split or lost across reads.
 * A frame over max_size is an error: the socket is destroyed with
 * CNET_ERR_FRAME_TOO_LARGE (length-prefixed, fixed) or CNET_ERR_LINE_TOO_LONG
 * (lines). At 'end', lines mode emits a trailing partial line as a last
 * frame; a partial length-prefixed or fixed frame at 'end' is dropped and
 * reported as 'error' CNET_ERR_STREAM_PREMATURE_CLOSE.
 */
typedef enum {
    CNET_FRAMING_NONE,
    CNET_FRAMING_LINES,           /* frames end with delimiter (not included in the frame) */
    CNET_FRAMING_LENGTH_PREFIXED, /* header of header_bytes holding the payload length */
    CNET_FRAMING_FIXED            /* records of exactly record_size bytes */
} cnet_framing_mode_t;

typedef struct cnet_framing_opts {
    size_t size; /* sizeof the struct: set by CNET_FRAMING_OPTS_INIT */
    cnet_framing_mode_t mode;
    const char *delimiter; /* LINES: NULL means "\n" */
    size_t delimiter_len;  /* LINES: 0 means strlen(delimiter) */
    size_t max_size;       /* LINES, LENGTH_PREFIXED: 0 means 1 MiB */
    unsigned header_bytes; /* LENGTH_PREFIXED: 1, 2, 4 or 8 */
    bool little_endian;    /* LENGTH_PREFIXED: header byte order (default big-endian) */
    size_t record_size;    /* FIXED: > 0 */
} cnet_framing_opts_t;
#define CNET_FRAMING_OPTS_INIT CNET__OPTS_INIT(cnet_framing_opts_t)

/**
 * Sets (or with mode NONE or @p opts NULL, removes) framing on @p s. Bytes
 * already buffered by a previous framing mode are discarded.
 * @return 0, CNET_ERR_INVALID_ARG_VALUE (bad header_bytes, zero record_size,
 *   empty delimiter), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_set_framing(cnet_socket_t *s, const cnet_framing_opts_t *opts);

/**
 * Writes one frame in the socket's framing: the length header then @p data
 * (LENGTH_PREFIXED), or @p data then the delimiter (LINES), or @p data that
 * must be exactly record_size bytes (FIXED). Returns as cnet_socket_write(),
 * or CNET_ERR_FRAME_TOO_LARGE / CNET_ERR_INVALID_ARG_VALUE (also when no
 * framing mode is set).
 */
CNET_EXTERN int cnet_socket_write_frame(cnet_socket_t *s, const void *data, size_t len,
                                        cnet_write_cb cb, void *arg);

/* ------------------------------------------------------------------------
 * 8. ADDRESSES
 * ------------------------------------------------------------------------ */

/** net.isIP(input): 4, 6, or 0. NULL gives 0. Matches Node v20 exactly. */
CNET_EXTERN int cnet_is_ip(const char *input);
/** net.isIPv4(input) */
CNET_EXTERN bool cnet_is_ipv4(const char *input);
/** net.isIPv6(input) */
CNET_EXTERN bool cnet_is_ipv6(const char *input);

/* ------------------------------------------------------------------------
 * 9. ALLOCATOR AND LOGGING
 * ------------------------------------------------------------------------ */

/**
 * Replaces the allocator for every allocation cnet makes (not libuv's: use
 * uv_replace_allocator for that). Call before creating any object. All four
 * must be given. Returns 0 or CNET_ERR_INVALID_ARG_TYPE.
 */
CNET_EXTERN int cnet_replace_allocator(void *(*malloc_fn)(size_t),
                                       void *(*realloc_fn)(void *, size_t),
                                       void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *));

typedef enum {
    CNET_LOG_ERROR,
    CNET_LOG_WARN,
    CNET_LOG_INFO,
    CNET_LOG_DEBUG,
    CNET_LOG_TRACE
} cnet_log_level_t;

/**
 * Installs a logger. The library never writes to stdout or stderr itself;
 * without a logger, messages are dropped. Messages of a level above
 * @p max_level are filtered before any formatting. Each message is one line
 * naming the object ("sock#42 ..."). @p fn NULL removes the logger.
 * An 'error' event with no listener is logged at CNET_LOG_WARN.
 */
CNET_EXTERN void cnet_set_logger(void (*fn)(void *arg, cnet_log_level_t level, const char *msg),
                                 void *arg, cnet_log_level_t max_level);

#ifdef __cplusplus
}
#endif
#endif /* CNET_H */
