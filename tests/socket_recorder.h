/*
 * Event recorder and test server shared by the socket tests (test_connect,
 * test_socket_lifecycle): fresh-stack tracking (in_call, CALL, VCALL), an
 * event recorder (rec_t: log, data, last 'error'/'lookup', hooks, destroy
 * inside an event), a retained test server whose accepted sockets are
 * recorded (srvctx_t, srv_start/srv_free), closed_port() and
 * new_loop()/end_loop(). Header-only (static functions); include after
 * harness.h.
 */
#ifndef CNET_TEST_SOCKET_RECORDER_H
#define CNET_TEST_SOCKET_RECORDER_H

#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- fresh-stack tracking ------------------------------------------------ */

static int in_call;
static int call_ret_;
#define CALL(e) (in_call++, call_ret_ = (int)(e), in_call--, call_ret_)
#define VCALL(e)   \
    do {           \
        in_call++; \
        e;         \
        in_call--; \
    } while (0)

/* ---- event recorder ------------------------------------------------------ */

typedef struct rec rec_t;
typedef void (*rec_hook)(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev);

struct rec {
    test_log_t log;
    bool last_data;
    bool no_data_log; /* keep 'data' out of the log (chunking varies) */
    char data[1 << 20];
    size_t data_len;
    int closes;
    bool had_error;
    /* last 'error' */
    int err_code;
    char err_syscall[32], err_address[128], err_host[256], err_msg[512];
    int err_port;
    /* 'lookup' */
    int lk_err;
    bool lk_has_err;
    char lk_address[64], lk_host[256];
    int lk_family;
    rec_hook hook;
    void *user;
    cnet_server_t *close_server; /* cnet_server_close() on our 'close' */
    int destroy_on;              /* destroy inside this event type + 1 (0: never) */
};

static void cpy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "(null)");
}

static void rec_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    rec_t *r = arg;
    char item[64];

    ASSERT_EQ(0, in_call);
    if (r->closes)
        TEST_FAIL_("event '%s' after 'close' (log: %s)", cnet_event_name(ev->type),
                   test_log_str(&r->log));
    switch (ev->type) {
    case CNET_EVENT_DATA:
        ASSERT(r->data_len + ev->data.len <= sizeof r->data);
        memcpy(r->data + r->data_len, ev->data.base, ev->data.len);
        r->data_len += ev->data.len;
        if (!r->last_data && !r->no_data_log)
            test_log_add(&r->log, "data");
        r->last_data = true;
        break;
    case CNET_EVENT_ERROR:
        ASSERT(ev->error != NULL);
        r->err_code = ev->error->code;
        cpy(r->err_syscall, sizeof r->err_syscall, ev->error->syscall);
        cpy(r->err_address, sizeof r->err_address, ev->error->address);
        cpy(r->err_host, sizeof r->err_host, ev->error->hostname);
        cpy(r->err_msg, sizeof r->err_msg, ev->error->message);
        r->err_port = ev->error->port;
        snprintf(item, sizeof item, "error:%s", cnet_err_name(ev->error->code));
        test_log_add(&r->log, item);
        break;
    case CNET_EVENT_CLOSE:
        r->closes++;
        r->had_error = ev->had_error;
        test_log_add(&r->log, ev->had_error ? "close(true)" : "close(false)");
        break;
    case CNET_EVENT_LOOKUP:
        r->lk_has_err = ev->error != NULL;
        r->lk_err = ev->error ? ev->error->code : 0;
        cpy(r->lk_address, sizeof r->lk_address, ev->address);
        cpy(r->lk_host, sizeof r->lk_host, ev->host);
        r->lk_family = ev->family;
        if (ev->error) {
            snprintf(item, sizeof item, "lookup:%s", cnet_err_name(ev->error->code));
            test_log_add(&r->log, item);
        } else {
            test_log_add(&r->log, "lookup");
        }
        break;
    default:
        test_log_add(&r->log, cnet_event_name(ev->type));
        break;
    }
    if (ev->type != CNET_EVENT_DATA)
        r->last_data = false;
    if (r->hook)
        r->hook(r, s, ev);
    if (r->destroy_on == (int)ev->type + 1) {
        VCALL(cnet_socket_destroy(s));
        test_log_add(&r->log, "destroyed");
    }
    if (ev->type == CNET_EVENT_CLOSE && r->close_server &&
        cnet_server_is_listening(r->close_server))
        ASSERT_OK(CALL(cnet_server_close(r->close_server, NULL, NULL)));
}

static void rec_attach(cnet_socket_t *s, rec_t *r)
{
    static const cnet_event_type_t types[] = {
        CNET_EVENT_LOOKUP, CNET_EVENT_CONNECT, CNET_EVENT_READY, CNET_EVENT_DATA,
        CNET_EVENT_END,    CNET_EVENT_FINISH,  CNET_EVENT_DRAIN, CNET_EVENT_TIMEOUT,
        CNET_EVENT_ERROR,  CNET_EVENT_CLOSE,
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        ASSERT_OK(CALL(cnet_socket_on(s, types[i], rec_cb, r)));
}

static rec_t *rec_new(void)
{
    rec_t *r = calloc(1, sizeof *r);
    ASSERT(r != NULL);
    return r;
}

/* ---- a test server ------------------------------------------------------- */

typedef struct srvctx srvctx_t;
struct srvctx {
    cnet_server_t *srv;
    int port;
    rec_t *rec[4];
    cnet_socket_t *conn[4];
    int nconn;
    int close_after; /* close the server after this many connections (0: never) */
    void (*on_conn)(srvctx_t *c, cnet_socket_t *s, int i);
    rec_hook hook;  /* installed on each accepted socket's recorder */
    int destroy_on; /* copied to each accepted socket's recorder */
    void *user;
    bool closed;
};

static void srv_conn_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srvctx_t *c = arg;
    int i = c->nconn++;

    ASSERT_EQ(0, in_call);
    ASSERT(i < 4);
    c->conn[i] = ev->connection;
    c->rec[i] = rec_new();
    c->rec[i]->hook = c->hook;
    c->rec[i]->user = c;
    c->rec[i]->destroy_on = c->destroy_on;
    test_log_add(&c->rec[i]->log, "connection");
    rec_attach(ev->connection, c->rec[i]);
    if (c->on_conn)
        c->on_conn(c, ev->connection, i);
    if (c->close_after && c->nconn == c->close_after)
        ASSERT_OK(CALL(cnet_server_close(srv, NULL, NULL)));
}

static void srv_close_cb(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srvctx_t *c = arg;
    (void)srv;
    (void)ev;
    ASSERT_EQ(0, in_call);
    c->closed = true;
}

/* A server on 127.0.0.1:0 (or @p path). The server is retained: srv_free() releases. */
static void srv_start(cnet_loop_t *loop, srvctx_t *c, const cnet_server_opts_t *opts,
                      const char *path)
{
    cnet_address_t a;

    ASSERT_OK(CALL(cnet_server_new(loop, opts, &c->srv)));
    cnet_server_retain(c->srv);
    ASSERT_OK(CALL(cnet_server_on(c->srv, CNET_EVENT_CONNECTION, srv_conn_cb, c)));
    ASSERT_OK(CALL(cnet_server_on(c->srv, CNET_EVENT_CLOSE, srv_close_cb, c)));
    if (path)
        ASSERT_OK(CALL(cnet_server_listen_path(c->srv, path, NULL, NULL)));
    else
        ASSERT_OK(CALL(cnet_server_listen(c->srv, 0, "127.0.0.1", NULL, NULL)));
    /* With a host the bind happens on a later tick, as in Node. */
    for (int i = 0; i < 100 && !cnet_server_is_listening(c->srv); i++)
        cnet_loop_run_nowait(loop);
    ASSERT_OK(cnet_server_address(c->srv, &a));
    c->port = a.port;
    if (!path)
        ASSERT(c->port > 0);
}

static void srv_free(srvctx_t *c)
{
    ASSERT(c->closed);
    cnet_server_release(c->srv);
    for (int i = 0; i < c->nconn; i++)
        free(c->rec[i]);
}

/*
 * A port nobody listens on: bound (so no other test under ctest -j can take
 * it) and never listening, so a connect to it is refused. The socket stays
 * open until the process exits.
 */
static int closed_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    return ntohs(sa.sin_port); /* fd stays bound on purpose */
}

/* A port that was free a moment ago (bound, then closed), for a local bind. */
static inline int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    close(fd);
    return ntohs(sa.sin_port);
}

static cnet_loop_t *new_loop(void)
{
    cnet_loop_t *loop;
    ASSERT_OK(cnet_loop_new(&loop));
    return loop;
}

static void end_loop(cnet_loop_t *loop)
{
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

#endif /* CNET_TEST_SOCKET_RECORDER_H */
