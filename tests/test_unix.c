/*
 * Unix sockets (issue 10, items 2 and 3): the socket API over filesystem
 * paths and Linux abstract names as over TCP (events, echo through pipe()
 * with backpressure, half-close, encodings, timeouts, framing, write
 * callbacks, destroy mid-write), the names' rules (path_len, exact length,
 * address(), readableAll refused, EAGAIN on a full backlog) and the peer
 * credentials (our own, a forked child's, the errors).
 */
#include "harness.h"
#include "socket_recorder.h"

#include <cnet/uv.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static char tmpdir[64];

/* ---- a server and a connected pair on a Unix name ---------------------- */

typedef struct uname {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    size_t len;
} uname_t;

static void make_name(uname_t *n, bool abstract, const char *tag)
{
    memset(n, 0, sizeof *n);
    if (abstract)
        n->len = 1 + (size_t)snprintf(n->path + 1, sizeof n->path - 1, "cnet-test-%d-%s",
                                      (int)getpid(), tag);
    else
        n->len = (size_t)snprintf(n->path, sizeof n->path, "%s/%s.sock", tmpdir, tag);
}

typedef struct upair {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_socket_t *client, *accepted;
    rec_t *crec, *arec;
    uname_t name;
    int listening, connected, accepted_n;
} upair_t;

static void run_until(cnet_loop_t *loop, const volatile int *flag)
{
    while (!*flag)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ((upair_t *)arg)->listening = 1;
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    upair_t *p = arg;
    if (!p->accepted) {
        p->accepted = ev->connection;
        cnet_socket_retain(p->accepted);
        rec_attach(p->accepted, p->arec);
        ASSERT_OK(cnet_socket_on(p->accepted, CNET_EVENT_FRAME, rec_cb, p->arec));
    }
    p->accepted_n++;
}

static void on_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ((upair_t *)arg)->connected = 1;
}

static void up_listen(upair_t *p, const cnet_server_opts_t *so, bool abstract, const char *tag)
{
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;

    memset(p, 0, sizeof *p);
    p->crec = rec_new();
    p->arec = rec_new();
    make_name(&p->name, abstract, tag);
    ASSERT_OK(cnet_loop_new(&p->loop));
    ASSERT_OK(cnet_server_new(p->loop, so, &p->srv));
    ASSERT_OK(cnet_server_on(p->srv, CNET_EVENT_CONNECTION, on_connection, p));
    lo.path = p->name.path;
    lo.path_len = p->name.len;
    ASSERT_OK(cnet_server_listen_opts(p->srv, &lo, on_listening, p));
    ASSERT(cnet_server_is_listening(p->srv)); /* a path binds at once, as in node */
    run_until(p->loop, &p->listening);
}

/* Connects p->client to p->name and waits for 'connect'. */
static void up_connect_client(upair_t *p, const cnet_socket_opts_t *copts, bool half_open)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;

    ASSERT_OK(cnet_socket_new(p->loop, copts, &p->client));
    cnet_socket_retain(p->client);
    rec_attach(p->client, p->crec);
    ASSERT_OK(cnet_socket_on(p->client, CNET_EVENT_FRAME, rec_cb, p->crec));
    co.path = p->name.path;
    co.path_len = p->name.len;
    co.allow_half_open = half_open;
    ASSERT_OK(cnet_socket_connect_opts(p->client, &co, on_connect, p));
    run_until(p->loop, &p->connected);
}

static void up_connect_only(upair_t *p)
{
    up_connect_client(p, NULL, false);
}

static void up_connect(upair_t *p, const cnet_socket_opts_t *copts, bool half_open)
{
    up_connect_client(p, copts, half_open);
    run_until(p->loop, &p->accepted_n);
}

static void up_close(upair_t *p)
{
    if (p->client)
        cnet_socket_destroy(p->client);
    if (p->accepted)
        cnet_socket_destroy(p->accepted);
    if (p->srv)
        cnet_server_destroy(p->srv);
    ASSERT_OK(cnet_loop_run(p->loop));
    cnet_socket_release(p->client);
    cnet_socket_release(p->accepted);
    ASSERT_OK(cnet_loop_run(p->loop));
    ASSERT_EQ(0, cnet_loop_alive(p->loop));
    ASSERT_OK(cnet_loop_close(p->loop));
    free(p->crec);
    free(p->arec);
    memset(p, 0, sizeof *p);
}

static void run_until_closed(upair_t *p)
{
    while (!p->crec->closes || !p->arec->closes)
        uv_run(cnet_loop_get_uv(p->loop), UV_RUN_ONCE);
}

static bool has(const rec_t *r, const char *item)
{
    return strstr(test_log_str(&r->log), item) != NULL;
}

/* The name as a cnet_address_t holds it: its bytes, up to the first NUL after the first byte. */
static void assert_is_name(const cnet_address_t *a, const uname_t *n)
{
    size_t len = n->path[0] ? strlen(n->path) : 1 + strlen(n->path + 1);
    ASSERT_EQ(-1, a->port);
    ASSERT_EQ(0, a->family);
    ASSERT_MEM_EQ(n->path, a->address, len);
    ASSERT_EQ(0, a->address[len]);
}

static void assert_unnamed(const cnet_address_t *a)
{
    ASSERT_EQ(-1, a->port);
    ASSERT_EQ(0, a->family);
    ASSERT_EQ(0, a->address[0]);
    ASSERT_EQ(0, a->address[1]);
}

/* ---- echo through pipe(), with backpressure, and the addresses ---------- */

static int write_status = 1, write_cbs, drains;

static void on_write(cnet_socket_t *s, int status, void *arg)
{
    write_status = status;
    write_cbs++;
    ASSERT_EQ(0, ((rec_t *)arg)->closes); /* before 'close' */
}

static void on_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    drains++;
}

static void test_echo(bool abstract)
{
    enum { N = 512 * 1024 };
    char *big = malloc(N);
    cnet_address_t a;
    upair_t p;
    int r;

    test_set_phase(abstract ? "echo (abstract)" : "echo (file)");
    for (size_t i = 0; i < N; i++)
        big[i] = (char)(i * 7 + i / 251);
    up_listen(&p, NULL, abstract, "echo");
    up_connect(&p, NULL, false);
    p.crec->no_data_log = true;
    ASSERT_OK(cnet_socket_pipe(p.accepted, p.accepted, true)); /* echo, ends when we end */

    ASSERT_OK(cnet_server_address(p.srv, &a));
    assert_is_name(&a, &p.name);
    ASSERT_OK(cnet_socket_remote_address(p.client, &a));
    assert_is_name(&a, &p.name);
    ASSERT_OK(cnet_socket_address(p.client, &a));
    assert_unnamed(&a);
    ASSERT_OK(cnet_socket_address(p.accepted, &a));
    assert_is_name(&a, &p.name);
    ASSERT_OK(cnet_socket_remote_address(p.accepted, &a));
    assert_unnamed(&a);
    ASSERT_EQ(CNET_STATE_OPEN, cnet_socket_ready_state(p.client));

    write_cbs = drains = 0;
    ASSERT_OK(cnet_socket_on(p.client, CNET_EVENT_DRAIN, on_drain, NULL));
    r = cnet_socket_write(p.client, big, N, on_write, p.crec);
    ASSERT_EQ(1, r); /* past the highWaterMark: wait for 'drain' */
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    run_until_closed(&p);

    ASSERT_EQ(1, write_cbs);
    ASSERT_EQ(0, write_status);
    ASSERT_EQ(0, drains); /* end() came after: no 'drain' (as node) */
    ASSERT_EQ(N, p.crec->data_len);
    ASSERT_MEM_EQ(big, p.crec->data, N);
    ASSERT_EQ(N, cnet_socket_bytes_written(p.client));
    ASSERT_EQ(N, cnet_socket_bytes_read(p.client));
    ASSERT_EQ(N, cnet_socket_bytes_read(p.accepted));
    ASSERT_STR_EQ("connect ready finish end close(false)", test_log_str(&p.crec->log));
    ASSERT(has(p.arec, "end") && has(p.arec, "finish") && has(p.arec, "close(false)"));
    ASSERT(!has(p.arec, "error"));
    /* Kept past 'close'. */
    ASSERT_OK(cnet_socket_remote_address(p.client, &a));
    assert_is_name(&a, &p.name);
    up_close(&p);
    free(big);
}

/* ---- half-close ---------------------------------------------------------- */

static void on_peer_end_write_late(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    if (ev->type != CNET_EVENT_END)
        return;
    ASSERT_EQ(CNET_STATE_WRITE_ONLY, cnet_socket_ready_state(s));
    ASSERT(cnet_socket_is_writable(s));
    ASSERT_EQ(0, CALL(cnet_socket_write_str(s, "late")));
    ASSERT_OK(CALL(cnet_socket_end_str(s, "!")));
}

static void test_half_close(bool abstract, bool half_open)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    upair_t p;

    test_set_phase(half_open ? "half-close, allowHalfOpen" : "half-close, auto end");
    so.allow_half_open = half_open;
    up_listen(&p, &so, abstract, "half");
    if (half_open)
        p.arec->hook = on_peer_end_write_late;
    up_connect(&p, NULL, true);
    ASSERT_OK(cnet_socket_write_str(p.client, "bye"));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    ASSERT_EQ(CNET_STATE_READ_ONLY, cnet_socket_ready_state(p.client));
    run_until_closed(&p);
    ASSERT_EQ(3, p.arec->data_len);
    ASSERT_MEM_EQ("bye", p.arec->data, 3);
    if (half_open) {
        ASSERT_EQ(5, p.crec->data_len);
        ASSERT_MEM_EQ("late!", p.crec->data, 5);
        ASSERT_STR_EQ("connect ready finish data end close(false)", test_log_str(&p.crec->log));
    } else {
        ASSERT_EQ(0, p.crec->data_len);
        ASSERT_STR_EQ("connect ready finish end close(false)", test_log_str(&p.crec->log));
    }
    ASSERT_STR_EQ("data end finish close(false)", test_log_str(&p.arec->log));
    up_close(&p);
}

/* ---- encodings, timeouts, framing ---------------------------------------- */

static void test_encodings(bool abstract)
{
    static const unsigned char bytes[] = {0xde, 0xad, 0xbe, 0xef};
    upair_t p;

    test_set_phase("encodings");
    up_listen(&p, NULL, abstract, "enc");
    up_connect(&p, NULL, false);
    ASSERT_OK(cnet_socket_set_encoding(p.accepted, "hex"));
    ASSERT_OK(cnet_socket_write(p.client, bytes, sizeof bytes, NULL, NULL));
    ASSERT_OK(cnet_socket_write_enc(p.client, "aGk=", 4, "base64", NULL, NULL)); /* "hi" */
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    run_until_closed(&p);
    ASSERT_EQ(12, p.arec->data_len);
    ASSERT_MEM_EQ("deadbeef6869", p.arec->data, 12);
    ASSERT_STR_EQ("hex", cnet_socket_readable_encoding(p.accepted));
    up_close(&p);
}

static int timeouts;

static void on_timeout(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    timeouts++;
    ASSERT(!cnet_socket_is_destroyed(s)); /* notify only */
}

static void test_timeout(bool abstract)
{
    upair_t p;

    test_set_phase("timeout");
    up_listen(&p, NULL, abstract, "timeout");
    up_connect(&p, NULL, false);
    timeouts = 0;
    ASSERT_OK(cnet_socket_set_timeout(p.accepted, 30, on_timeout, NULL));
    ASSERT_EQ(30, cnet_socket_get_timeout(p.accepted));
    while (!timeouts)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT(has(p.arec, "timeout"));
    ASSERT_OK(cnet_socket_write_str(p.accepted, "still open"));
    while (p.crec->data_len < 10)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    up_close(&p);
}

static void test_framing(bool abstract)
{
    cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;
    upair_t p;

    test_set_phase("framing");
    up_listen(&p, NULL, abstract, "frame");
    up_connect(&p, NULL, false);
    fo.mode = CNET_FRAMING_LENGTH_PREFIXED;
    fo.header_bytes = 2;
    ASSERT_OK(cnet_socket_set_framing(p.client, &fo));
    ASSERT_OK(cnet_socket_set_framing(p.accepted, &fo));
    p.arec->no_data_log = true;
    ASSERT_OK(cnet_socket_write_frame(p.client, "one", 3, NULL, NULL));
    ASSERT_OK(cnet_socket_write_frame(p.client, "", 0, NULL, NULL));
    ASSERT_OK(cnet_socket_write_frame(p.client, "three", 5, NULL, NULL));
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    run_until_closed(&p);
    ASSERT_STR_EQ("frame frame frame end finish close(false)", test_log_str(&p.arec->log));
    up_close(&p);
}

/* ---- destroy mid-write ---------------------------------------------------- */

static void test_destroy_mid_write(bool abstract)
{
    enum { N = 8 * 1024 * 1024 };
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    char *big = calloc(1, N);
    upair_t p;

    test_set_phase("destroy mid-write");
    so.pause_on_connect = true; /* nothing is read: the write stays queued */
    up_listen(&p, &so, abstract, "midwrite");
    up_connect(&p, NULL, false);
    write_cbs = 0;
    write_status = 1;
    ASSERT_EQ(1, cnet_socket_write(p.client, big, N, on_write, p.crec));
    for (int i = 0; i < 5; i++)
        cnet_loop_run_nowait(p.loop);
    ASSERT(cnet_socket_writable_length(p.client) > 0);
    ASSERT_EQ(0, write_cbs);
    cnet_socket_destroy(p.client);
    ASSERT_EQ(0, write_cbs); /* never inside the call */
    while (!p.crec->closes)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(1, write_cbs);
    ASSERT_EQ(CNET_ECANCELED, write_status);
    ASSERT_STR_EQ("connect ready close(false)", test_log_str(&p.crec->log));
    cnet_socket_resume(p.accepted); /* what got through, then the end */
    while (!p.arec->closes)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT(p.arec->data_len < N);
    ASSERT(has(p.arec, "end") && has(p.arec, "close(false)"));
    up_close(&p);
    free(big);
}

/* ---- names ------------------------------------------------------------------ */

static int listen_name(cnet_server_t *srv, const char *path, size_t len, bool readable_all)
{
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    lo.path = path;
    lo.path_len = len;
    lo.readable_all = readable_all;
    return cnet_server_listen_opts(srv, &lo, NULL, NULL);
}

static int connect_name(cnet_socket_t *s, const char *path, size_t len)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    co.path = path;
    co.path_len = len;
    return cnet_socket_connect_opts(s, &co, NULL, NULL);
}

/* Connects a recorded socket to @p path and runs until it closes; returns its recorder. */
static rec_t *try_connect(cnet_loop_t *loop, const char *path, size_t len)
{
    rec_t *r = rec_new();
    cnet_socket_t *s;

    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    rec_attach(s, r);
    r->destroy_on = CNET_EVENT_CONNECT + 1;
    ASSERT_OK(connect_name(s, path, len));
    while (!r->closes)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    return r;
}

typedef struct srv_err {
    int err_code;
    char err_syscall[32], err_address[128], err_msg[512];
} srv_err_t;

static void on_srv_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    srv_err_t *r = arg;
    r->err_code = ev->error->code;
    cpy(r->err_syscall, sizeof r->err_syscall, ev->error->syscall);
    cpy(r->err_address, sizeof r->err_address, ev->error->address);
    cpy(r->err_msg, sizeof r->err_msg, ev->error->message);
}

static void test_names(void)
{
    char path[300], padded[108];
    cnet_loop_t *loop = new_loop();
    cnet_server_t *srv;
    cnet_socket_t *s;
    cnet_address_t a;
    uname_t n;
    rec_t *r;
    struct stat st;

    test_set_phase("names: argument checks");
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    cnet_server_retain(srv); /* listened on again after each close */
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    {
        cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
        cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
        lo.path_len = 3; /* a length without a path */
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_opts(srv, &lo, NULL, NULL));
        co.port = 80;
        co.host = "127.0.0.1";
        co.path_len = 3;
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_connect_opts(s, &co, NULL, NULL));
    }
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, listen_name(srv, "a\0b", 3, false)); /* NUL inside */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, connect_name(s, "a\0b", 3));
    memset(path, 'x', sizeof path);
    path[0] = '\0';
    ASSERT_ERR(CNET_ENAMETOOLONG, listen_name(srv, path, 109, false)); /* > sun_path */
    ASSERT_ERR(CNET_ENAMETOOLONG, connect_name(s, path, 109));
    path[0] = 'x';
    ASSERT_ERR(CNET_ENAMETOOLONG, listen_name(srv, path, 108, false)); /* no room for the NUL */
    make_name(&n, true, "names");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, listen_name(srv, n.path, n.len, true));
    {
        cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
        lo.path = n.path;
        lo.path_len = n.len;
        lo.writable_all = true;
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_opts(srv, &lo, NULL, NULL));
    }
    ASSERT(!cnet_server_is_listening(srv));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_address(srv, &a)); /* nothing kept */
    cnet_socket_destroy(s);

    test_set_phase("names: an abstract name's length counts exactly");
    ASSERT_OK(listen_name(srv, n.path, n.len, false));
    ASSERT(cnet_server_is_listening(srv));
    memset(padded, 0, sizeof padded);
    memcpy(padded, n.path, n.len);
    r = try_connect(loop, padded, sizeof padded); /* node v20's padded form: another name */
    ASSERT_STR_EQ("error:ECONNREFUSED close(true)", test_log_str(&r->log));
    ASSERT_STR_EQ("connect", r->err_syscall);
    {
        char want[200];
        snprintf(want, sizeof want, "connect ECONNREFUSED @%s", n.path + 1);
        /* the padding shows as '@'s after the name */
        ASSERT(strncmp(r->err_msg, want, strlen(want)) == 0);
        ASSERT_EQ('@', r->err_msg[strlen(want)]);
    }
    free(r);
    r = try_connect(loop, n.path, n.len);
    ASSERT_STR_EQ("connect destroyed ready close(false)", test_log_str(&r->log));
    free(r);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_OK(cnet_server_address(srv, &a)); /* node's _pipeName, after close */
    assert_is_name(&a, &n);

    test_set_phase("names: node v20's padded form, reached by its 108 bytes");
    ASSERT_OK(listen_name(srv, padded, sizeof padded, false));
    ASSERT_OK(cnet_server_address(srv, &a));
    assert_is_name(&a, &n); /* the padding is not shown */
    r = try_connect(loop, padded, sizeof padded);
    ASSERT_STR_EQ("connect destroyed ready close(false)", test_log_str(&r->log));
    free(r);
    r = try_connect(loop, n.path, n.len);
    ASSERT_STR_EQ("error:ECONNREFUSED close(true)", test_log_str(&r->log));
    free(r);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    ASSERT_OK(cnet_loop_run(loop));

    test_set_phase("names: a name is free again after close; EADDRINUSE while taken");
    {
        cnet_server_t *other;
        srv_err_t *sr = calloc(1, sizeof *sr);
        ASSERT_OK(listen_name(srv, n.path, n.len, false)); /* the same name again */
        ASSERT_OK(cnet_server_new(loop, NULL, &other));
        ASSERT_OK(cnet_server_on(other, CNET_EVENT_ERROR, on_srv_error, sr));
        ASSERT_OK(listen_name(other, n.path, n.len, false));
        while (!sr->err_code)
            uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
        ASSERT_EQ(CNET_EADDRINUSE, sr->err_code);
        ASSERT_STR_EQ("listen", sr->err_syscall);
        snprintf(path, sizeof path, "@%s", n.path + 1);
        ASSERT_STR_EQ(path, sr->err_address);
        snprintf(path, sizeof path, "listen EADDRINUSE: address already in use @%s", n.path + 1);
        ASSERT_STR_EQ(path, sr->err_msg);
        cnet_server_destroy(other);
        ASSERT_OK(cnet_server_close(srv, NULL, NULL));
        ASSERT_OK(cnet_loop_run(loop));
        free(sr);
    }

    test_set_phase("names: a filesystem path given with a length; removed at close");
    make_name(&n, false, "names-file");
    memcpy(path, n.path, n.len);
    path[n.len] = 'Z'; /* not NUL-terminated: path_len says where it ends */
    ASSERT_OK(listen_name(srv, path, n.len, false));
    ASSERT_OK(stat(n.path, &st));
    ASSERT(S_ISSOCK(st.st_mode));
    ASSERT_OK(cnet_server_address(srv, &a));
    ASSERT_STR_EQ(n.path, a.address);
    r = try_connect(loop, n.path, 0);
    ASSERT_STR_EQ("connect destroyed ready close(false)", test_log_str(&r->log));
    free(r);
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT(stat(n.path, &st) != 0 && errno == ENOENT);

    cnet_server_release(srv); /* closed: this frees it */
    ASSERT_OK(cnet_loop_run(loop));
    end_loop(loop);
}

/* A full backlog: a nonblocking connect(2) is EAGAIN, reported as the connect's error. */
static void test_backlog_full(void)
{
    struct sockaddr_un sa;
    socklen_t salen;
    cnet_loop_t *loop = new_loop();
    uname_t n;
    rec_t *r;
    int lfd, fds[64], nf = 0;

    test_set_phase("abstract name: full backlog");
    make_name(&n, true, "backlog");
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, n.path, n.len);
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n.len);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(lfd >= 0);
    ASSERT_OK(bind(lfd, (struct sockaddr *)&sa, salen));
    ASSERT_OK(listen(lfd, 0)); /* never accepted */
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT(fd >= 0 && nf < 64);
        if (connect(fd, (struct sockaddr *)&sa, salen) != 0) {
            ASSERT_EQ(EAGAIN, errno);
            close(fd);
            break;
        }
        fds[nf++] = fd;
    }
    r = try_connect(loop, n.path, n.len);
    ASSERT_STR_EQ("error:EAGAIN close(true)", test_log_str(&r->log));
    ASSERT_STR_EQ("connect", r->err_syscall);
    free(r);
    while (nf > 0)
        close(fds[--nf]);
    close(lfd);
    end_loop(loop);
}

/* node v20 pads abstract names to all of sun_path: the padded 108 bytes reach its server. */
static void test_node_padded_interop(void)
{
    char cmd[512], line[64], padded[108];
    cnet_loop_t *loop;
    uname_t n;
    rec_t *r;
    FILE *node;

    test_set_phase("abstract name: a node v20 server, reached by the padded name");
    if (!test_have_node()) {
        fprintf(stderr, "SKIP (part): node is not installed\n");
        return;
    }
    make_name(&n, true, "node");
    snprintf(cmd, sizeof cmd,
             "node -e \"const s = require('net').createServer((c) => { c.end('from node'); "
             "s.close(); }).listen('\\\\0%s', () => console.log('ready'))\"",
             n.path + 1);
    node = popen(cmd, "r");
    ASSERT(node != NULL);
    ASSERT(fgets(line, sizeof line, node) != NULL);
    ASSERT_STR_EQ("ready\n", line);
    loop = new_loop();
    r = try_connect(loop, n.path, n.len); /* the exact name is not node v20's */
    ASSERT_STR_EQ("error:ECONNREFUSED close(true)", test_log_str(&r->log));
    free(r);
    memset(padded, 0, sizeof padded);
    memcpy(padded, n.path, n.len);
    r = rec_new();
    {
        cnet_socket_t *s;
        ASSERT_OK(cnet_socket_new(loop, NULL, &s));
        rec_attach(s, r);
        ASSERT_OK(connect_name(s, padded, sizeof padded));
        while (!r->closes)
            uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    }
    ASSERT_STR_EQ("connect ready data end finish close(false)", test_log_str(&r->log));
    ASSERT_EQ(9, r->data_len);
    ASSERT_MEM_EQ("from node", r->data, 9);
    free(r);
    ASSERT_EQ(0, pclose(node));
    end_loop(loop);
}

/* ---- peer credentials ------------------------------------------------------- */

static void assert_creds(cnet_socket_t *s, pid_t pid)
{
    cnet_peer_credentials_t c;
    ASSERT_OK(cnet_socket_peer_credentials(s, &c));
    ASSERT_EQ(pid, c.pid);
    ASSERT_EQ(geteuid(), c.uid);
    ASSERT_EQ(getegid(), c.gid);
}

static int creds_checked;

/* In the accepted socket's 'end': the peer has ended its side, we are still open. */
static void creds_at_end(rec_t *r, cnet_socket_t *s, const cnet_event_t *ev)
{
    if (ev->type == CNET_EVENT_END) {
        assert_creds(s, getpid());
        creds_checked++;
    }
}

static void test_peer_credentials(bool abstract)
{
    cnet_peer_credentials_t c;
    cnet_socket_t *fresh;
    upair_t p;

    test_set_phase("peer credentials: our own");
    creds_checked = 0;
    up_listen(&p, NULL, abstract, "cred");
    up_connect(&p, NULL, false);
    assert_creds(p.client, getpid());
    assert_creds(p.accepted, getpid());

    test_set_phase("peer credentials: errors");
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_peer_credentials(NULL, &c));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_socket_peer_credentials(p.client, NULL));
    ASSERT_OK(cnet_socket_new(p.loop, NULL, &fresh));
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_peer_credentials(fresh, &c));
    cnet_socket_destroy(fresh);

    test_set_phase("peer credentials: after the peer ended, then closed");
    p.arec->hook = creds_at_end;
    ASSERT_OK(cnet_socket_end(p.client, NULL, 0, NULL, NULL));
    run_until_closed(&p);
    ASSERT(has(p.arec, "end"));
    ASSERT_EQ(1, creds_checked);
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_socket_peer_credentials(p.client, &c));
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_socket_peer_credentials(p.accepted, &c));
    up_close(&p);

    test_set_phase("peer credentials: a forked child's pid");
    {
        int status, sync_pipe[2];
        pid_t child;
        char b;

        up_listen(&p, NULL, abstract, "cred-child");
        ASSERT_OK(pipe(sync_pipe));
        child = fork();
        ASSERT(child >= 0);
        if (child == 0) {
            /* Plain system calls only: connect, wait for the parent's word, exit. */
            struct sockaddr_un sa;
            int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            memset(&sa, 0, sizeof sa);
            sa.sun_family = AF_UNIX;
            memcpy(sa.sun_path, p.name.path, p.name.len);
            close(sync_pipe[1]);
            if (fd < 0 ||
                connect(fd, (struct sockaddr *)&sa,
                        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + p.name.len)) != 0)
                _exit(3);
            if (read(sync_pipe[0], &b, 1) < 0)
                _exit(4);
            _exit(0);
        }
        close(sync_pipe[0]);
        run_until(p.loop, &p.accepted_n);
        ASSERT_OK(cnet_socket_peer_credentials(p.accepted, &c));
        ASSERT_EQ(child, c.pid);
        ASSERT_EQ(geteuid(), c.uid);
        ASSERT_EQ(getegid(), c.gid);
        close(sync_pipe[1]); /* the child exits; its connection ends */
        ASSERT_EQ(child, waitpid(child, &status, 0));
        ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        while (!p.arec->closes)
            uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
        up_close(&p);
    }
}

static void test_peer_credentials_tcp(void)
{
    cnet_loop_t *loop = new_loop();
    srvctx_t sc;
    rec_t *r = rec_new();
    cnet_peer_credentials_t c;
    cnet_socket_t *s;

    test_set_phase("peer credentials: TCP is ENOTSUP");
    memset(&sc, 0, sizeof sc);
    srv_start(loop, &sc, NULL, NULL);
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    cnet_socket_retain(s);
    rec_attach(s, r);
    ASSERT_OK(cnet_socket_connect(s, sc.port, "127.0.0.1", NULL, NULL));
    ASSERT_ERR(CNET_ENOTCONN, cnet_socket_peer_credentials(s, &c)); /* still connecting */
    while (!has(r, "connect") || sc.nconn == 0)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
    ASSERT_ERR(CNET_ENOTSUP, cnet_socket_peer_credentials(s, &c));
    ASSERT_ERR(CNET_ENOTSUP, cnet_socket_peer_credentials(sc.conn[0], &c));
    cnet_socket_destroy(s);
    cnet_socket_destroy(sc.conn[0]);
    ASSERT_OK(cnet_server_close(sc.srv, NULL, NULL));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_ERR(CNET_ERR_SOCKET_CLOSED, cnet_socket_peer_credentials(s, &c)); /* retained */
    cnet_socket_release(s);
    srv_free(&sc);
    free(r);
    end_loop(loop);
}

/* ---- examples/unix_peercred_server ------------------------------------------- */

/* One line of the example's stdout (blocking; the watchdog bounds it). */
static void read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char ch;
    while (n + 1 < cap && read(fd, &ch, 1) == 1 && ch != '\n')
        buf[n++] = ch;
    buf[n] = '\0';
}

static void test_example(void)
{
    char exe[512], line[256], want[256];
    int out[2], status;
    pid_t child;
    uname_t n;
    upair_t p;

    test_set_phase("examples/unix_peercred_server");
    snprintf(exe, sizeof exe, "%s/examples/unix_peercred_server", CNET_TEST_BUILD_DIR);
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "SKIP (part): %s not built\n", exe);
        return;
    }
    make_name(&n, true, "example");
    ASSERT_OK(pipe(out));
    child = fork();
    ASSERT(child >= 0);
    if (child == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(exe, "unix_peercred_server", "--abstract", n.path + 1, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    read_line(out[0], line, sizeof line);
    snprintf(want, sizeof want, "listening on @%s", n.path + 1);
    ASSERT_STR_EQ(want, line);

    /* The same user: accepted, greeted with our pid, echoed. */
    memset(&p, 0, sizeof p);
    p.crec = rec_new();
    p.arec = rec_new();
    p.name = n;
    p.crec->no_data_log = true;
    ASSERT_OK(cnet_loop_new(&p.loop));
    up_connect_only(&p);
    snprintf(want, sizeof want, "welcome pid %d\n", (int)getpid());
    while (p.crec->data_len < strlen(want))
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_EQ(strlen(want), p.crec->data_len);
    ASSERT_MEM_EQ(want, p.crec->data, strlen(want));
    ASSERT_OK(cnet_socket_write_str(p.client, "ping"));
    while (p.crec->data_len < strlen(want) + 4)
        uv_run(cnet_loop_get_uv(p.loop), UV_RUN_ONCE);
    ASSERT_MEM_EQ("ping", p.crec->data + strlen(want), 4);
    read_line(out[0], line, sizeof line);
    snprintf(want, sizeof want, "accepted pid %d uid %u", (int)getpid(), (unsigned)geteuid());
    ASSERT_STR_EQ(want, line);
    up_close(&p);

    /* Another user (only root can become one here): refused, not a byte sent. */
    if (geteuid() == 0) {
        pid_t other = fork();
        ASSERT(other >= 0);
        if (other == 0) {
            struct sockaddr_un sa;
            char b;
            ssize_t r;
            int fd;
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(3);
            fd = socket(AF_UNIX, SOCK_STREAM, 0);
            memset(&sa, 0, sizeof sa);
            sa.sun_family = AF_UNIX;
            memcpy(sa.sun_path, n.path, n.len);
            if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
                                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n.len)))
                _exit(4);
            r = read(fd, &b, 1); /* EOF (or a reset): the server closed without a word */
            _exit(r == 0 || (r < 0 && errno == ECONNRESET) ? 0 : 5);
        }
        read_line(out[0], line, sizeof line);
        snprintf(want, sizeof want, "refused pid %d uid 65534", (int)other);
        ASSERT_STR_EQ(want, line);
        ASSERT_EQ(other, waitpid(other, &status, 0));
        ASSERT(WIFEXITED(status));
        ASSERT_EQ(0, WEXITSTATUS(status));
    } else {
        fprintf(stderr, "SKIP (part): refusing another user needs root to become one\n");
    }
    kill(child, SIGTERM);
    ASSERT_EQ(child, waitpid(child, &status, 0));
    close(out[0]);
}

int main(void)
{
    test_watchdog(30);
    (void)closed_port; /* socket_recorder.h's, unused here */
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cnet-test-unix-XXXXXX");
    ASSERT(mkdtemp(tmpdir) != NULL);

    for (int abstract = 0; abstract < 2; abstract++) {
#ifndef __linux__
        if (abstract)
            break;
#endif
        test_echo(abstract);
        test_half_close(abstract, true);
        test_half_close(abstract, false);
        test_encodings(abstract);
        test_timeout(abstract);
        test_framing(abstract);
        test_destroy_mid_write(abstract);
        test_peer_credentials(abstract);
    }
    test_peer_credentials_tcp();
#ifdef __linux__
    test_names();
    test_backlog_full();
    test_node_padded_interop();
    test_example();
#endif
    rmdir(tmpdir);
    return 0;
}
