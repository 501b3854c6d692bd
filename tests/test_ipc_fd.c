/*
 * Existing descriptors (issue 10, item 1): listen on an fd made with
 * socket/bind/listen (TCP and Unix), on a regular file, a connected socket,
 * UDP, -1; sharing another server's listening socket (listen(handle)) and a
 * socket's (listen(socket)); wrapping connected fds as sockets
 * (new net.Socket({fd, readable, writable, allowHalfOpen})) from socketpair(2)
 * and TCP, with the half-open options; who closes the fd in each case.
 *
 * Each scenario runs its own loop and ends with cnet_loop_close() == 0, so
 * every object it made (also those of failed calls) was freed. Expected
 * behaviour is node v20's (tests/conformance/ipc_listen_fd, ipc_socket_fd).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* ---- helpers -------------------------------------------------------------- */

static cnet_loop_t *new_loop(void)
{
    cnet_loop_t *loop = NULL;
    ASSERT_OK(cnet_loop_new(&loop));
    return loop;
}

static void run_and_close(cnet_loop_t *loop)
{
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* A TCP socket bound to 127.0.0.1:0, listening when @p listening; its port in *port. */
static int tcp_fd(bool listening, int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof sa));
    if (listening)
        ASSERT_EQ(0, listen(fd, 16));
    ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sa, &len));
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A blocking connect to 127.0.0.1:port (completes before any accept). */
static int tcp_connect_fd(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ASSERT(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof sa));
    return fd;
}

static bool port_refuses(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
    return r != 0 && errno == ECONNREFUSED;
}

static void make_tmpdir(char *dir, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, size, "%s/cnet-ipcfd-XXXXXX", base && base[0] ? base : "/tmp");
    ASSERT(mkdtemp(dir) != NULL);
}

typedef struct ctx {
    test_log_t log;
    cnet_loop_t *loop;
    cnet_server_t *srv, *srv2;
    cnet_socket_t *a, *b;
    bool in_call;
    int fd;
    int port;
    int conns, conns2;
    int closes;
    bool fd_was_closed; /* checked inside the 'error' event */
    char msg[128];
} ctx_t;

static void log_fmt(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_fmt(ctx_t *c, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    test_log_add(&c->log, tmp);
}

/* The events of one side ("a:..."), in order: the two ends of a pair race in the kernel. */
static const char *side_str(const test_log_t *log, const char *prefix)
{
    static char out[4096];
    char copy[4096];
    size_t n = strlen(prefix), o = 0;

    snprintf(copy, sizeof copy, "%s", test_log_str(log));
    out[0] = '\0';
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save))
        if (strncmp(tok, prefix, n) == 0)
            o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", o ? " " : "", tok);
    return out;
}

typedef struct tagged {
    ctx_t *c;
    const char *tag;
} tagged_t;

static void sock_record(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    tagged_t *t = arg;
    ASSERT(!t->c->in_call);
    if (ev->type == CNET_EVENT_DATA)
        log_fmt(t->c, "%s:data:%.*s", t->tag, (int)ev->data.len, ev->data.base);
    else if (ev->type == CNET_EVENT_ERROR)
        log_fmt(t->c, "%s:error:%s", t->tag, cnet_err_name(ev->error->code));
    else if (ev->type == CNET_EVENT_CLOSE)
        log_fmt(t->c, "%s:close:%s", t->tag, ev->had_error ? "true" : "false");
    else
        log_fmt(t->c, "%s:%s", t->tag, cnet_event_name(ev->type));
    (void)s;
}

static void trace_sock(cnet_socket_t *s, tagged_t *t)
{
    static const cnet_event_type_t types[] = {
        CNET_EVENT_CONNECT, CNET_EVENT_READY, CNET_EVENT_DATA, CNET_EVENT_END,
        CNET_EVENT_FINISH,  CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        ASSERT_OK(cnet_socket_on(s, types[i], sock_record, t));
}

static void srv_record(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    tagged_t *t = arg;
    ASSERT(!t->c->in_call);
    if (ev->type == CNET_EVENT_ERROR) {
        log_fmt(t->c, "%s:error:%s", t->tag, cnet_err_name(ev->error->code));
        snprintf(t->c->msg, sizeof t->c->msg, "%s|%s|%s", ev->error->message,
                 ev->error->syscall ? ev->error->syscall : "-",
                 ev->error->address ? ev->error->address : "-");
        t->c->fd_was_closed = !fd_open(t->c->fd);
    } else if (ev->type != CNET_EVENT_CONNECTION) {
        log_fmt(t->c, "%s:%s", t->tag, cnet_event_name(ev->type));
    }
    (void)srv;
}

static void trace_srv(cnet_server_t *srv, tagged_t *t)
{
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_LISTENING, srv_record, t));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_ERROR, srv_record, t));
    ASSERT_OK(cnet_server_on(srv, CNET_EVENT_CLOSE, srv_record, t));
}

/* Accepted connections answer "hi" and end; the server closes after @c closes left. */
static void on_conn_hi(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    if (srv == c->srv)
        c->conns++;
    else
        c->conns2++;
    ASSERT_OK(cnet_socket_end_str(ev->connection, "hi"));
}

static void on_client_close_count(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    (void)s;
    (void)ev;
    if (--c->closes == 0) {
        cnet_server_close(c->srv, NULL, NULL);
        if (c->srv2)
            cnet_server_close(c->srv2, NULL, NULL);
    }
}

static cnet_socket_t *client_to(ctx_t *c, int port, const char *path)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s = NULL;
    o.port = port;
    o.host = "127.0.0.1";
    o.path = path;
    ASSERT_OK(cnet_create_connection(c->loop, &o, NULL, NULL, &s));
    ASSERT_OK(cnet_socket_on(s, CNET_EVENT_CLOSE, on_client_close_count, c));
    return s;
}

/* ---- listen({fd}) ----------------------------------------------------------- */

static void test_listen_fd_tcp(bool already_listening)
{
    ctx_t c = {0};
    tagged_t ts = {&c, "srv"}, tc = {&c, "cli"};
    cnet_address_t a;
    int port;

    test_set_phase(already_listening ? "listen_fd_tcp listening" : "listen_fd_tcp bound");
    c.loop = new_loop();
    c.fd = tcp_fd(already_listening, &port);
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    trace_srv(c.srv, &ts);
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    c.in_call = true;
    ASSERT_OK(cnet_server_listen_fd(c.srv, c.fd, NULL, NULL));
    c.in_call = false;
    /* At once, as node's: listening, with the fd's address; 'listening' comes later. */
    ASSERT(cnet_server_is_listening(c.srv));
    ASSERT_OK(cnet_server_address(c.srv, &a));
    ASSERT_STR_EQ("127.0.0.1", a.address);
    ASSERT_EQ(4, a.family);
    ASSERT_EQ(port, a.port);
    ASSERT_STR_EQ("", test_log_str(&c.log));
    /* A second listen is refused and does not touch the fd. */
    ASSERT_ERR(CNET_ERR_SERVER_ALREADY_LISTEN, cnet_server_listen_fd(c.srv, c.fd, NULL, NULL));
    c.closes = 1;
    c.a = client_to(&c, port, NULL);
    trace_sock(c.a, &tc);
    run_and_close(c.loop);
    ASSERT_STR_EQ("srv:listening cli:connect cli:ready cli:data:hi cli:end cli:finish "
                  "cli:close:false srv:close",
                  test_log_str(&c.log));
    ASSERT_EQ(1, c.conns);
    /* The server closed the fd: nothing listens on that port any more. */
    ASSERT(!fd_open(c.fd) || fcntl(c.fd, F_GETFD) == -1);
    ASSERT(port_refuses(port));
}

static void test_listen_fd_unix(void)
{
    ctx_t c = {0};
    tagged_t ts = {&c, "srv"}, tc = {&c, "cli"};
    struct sockaddr_un sa;
    char dir[100];
    cnet_address_t a;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;

    test_set_phase("listen_fd_unix");
    make_tmpdir(dir, sizeof dir);
    c.loop = new_loop();
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s.sock", dir);
    c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(c.fd >= 0);
    ASSERT_EQ(0, bind(c.fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    trace_srv(c.srv, &ts);
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    /* Through the options, with a bad port and a path that node would not look at. */
    lo.has_fd = true;
    lo.fd = c.fd;
    lo.port = 70000;
    lo.path = "/nonexistent/dir/x.sock";
    lo.backlog = 8;
    ASSERT_OK(cnet_server_listen_opts(c.srv, &lo, NULL, NULL));
    ASSERT(cnet_server_is_listening(c.srv));
    /* node's address() is null for a pipe it did not bind by name. */
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_address(c.srv, &a));
    c.closes = 1;
    c.a = client_to(&c, 0, sa.sun_path);
    trace_sock(c.a, &tc);
    run_and_close(c.loop);
    ASSERT_STR_EQ("srv:listening cli:connect cli:ready cli:data:hi cli:end cli:finish "
                  "cli:close:false srv:close",
                  test_log_str(&c.log));
    ASSERT(!fd_open(c.fd));
    unlink(sa.sun_path);
    rmdir(dir);
}

/* An fd that cannot listen: 'error' EINVAL (syscall listen, no address), no 'close'. */
static void expect_listen_einval(int fd, const char *phase)
{
    ctx_t c = {0};
    tagged_t ts = {&c, "srv"};
    cnet_address_t a;

    test_set_phase(phase);
    c.loop = new_loop();
    c.fd = fd;
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    trace_srv(c.srv, &ts);
    c.in_call = true;
    ASSERT_OK(cnet_server_listen_fd(c.srv, fd, NULL, NULL));
    c.in_call = false;
    ASSERT(!cnet_server_is_listening(c.srv));
    ASSERT_ERR(CNET_ERR_SERVER_NOT_RUNNING, cnet_server_address(c.srv, &a));
    ASSERT_OK(cnet_loop_run(c.loop));
    ASSERT_STR_EQ("srv:error:EINVAL", test_log_str(&c.log));
    ASSERT_STR_EQ("listen EINVAL: invalid argument|listen|-", c.msg);
    ASSERT(c.fd_was_closed); /* the fd was the server's: closed before the 'error' */
    /* The server may listen again. */
    ASSERT_OK(cnet_server_listen(c.srv, 0, "127.0.0.1", NULL, NULL));
    ASSERT_OK(cnet_server_close(c.srv, NULL, NULL));
    run_and_close(c.loop);
    ASSERT_STR_EQ("srv:error:EINVAL srv:close", test_log_str(&c.log));
}

static void test_listen_fd_errors(void)
{
    char dir[200], path[256];
    int fd, port, pair[2];
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;

    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/regular", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT(fd >= 0);
    expect_listen_einval(fd, "listen_fd regular file");
    unlink(path);
    rmdir(dir);

    expect_listen_einval(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "listen_fd udp");
    /* A connected TCP socket: listen(2) says EINVAL. */
    fd = tcp_fd(true, &port);
    {
        int cfd = tcp_connect_fd(port);
        expect_listen_einval(cfd, "listen_fd connected");
    }
    close(fd);
    /* A closed fd (uv_guess_handle: unknown); high, so that no loop reuses it. */
    ASSERT(!fd_open(900));
    expect_listen_einval(900, "listen_fd closed fd");

    /* -1 or another negative value: refused at once, nothing scheduled, nothing touched. */
    test_set_phase("listen_fd negative");
    loop = new_loop();
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_fd(srv, -1, NULL, NULL));
    lo.has_fd = true;
    lo.fd = -7;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_opts(srv, &lo, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_listen_fd(NULL, 3, NULL, NULL));
    ASSERT(!cnet_server_is_listening(srv));
    /* An fd of a socket pair (a Unix stream, not bound): listen(2) takes it on Linux?
     * Either way it ends in 'listening' or 'error', never in a crash or a leak. */
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair));
    ASSERT_OK(cnet_server_listen_fd(srv, pair[0], NULL, NULL));
    ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    close(pair[1]);
    run_and_close(loop);
    ASSERT(!fd_open(pair[0]));
}

/* ---- listen(handle): another server's listening socket ---------------------- */

static void test_listen_handle(void)
{
    ctx_t c = {0};
    tagged_t t1 = {&c, "a"}, t2 = {&c, "b"};
    cnet_address_t a1, a2;
    cnet_server_t *idle;

    test_set_phase("listen_handle");
    c.loop = new_loop();
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv2));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &idle));
    /* Not listening: node's "must have the property port or path". */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_handle(c.srv2, c.srv, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_listen_handle(c.srv2, NULL, NULL, NULL));
    ASSERT_OK(cnet_server_listen(c.srv, 0, NULL, NULL, NULL)); /* no host: bound at once */
    ASSERT_ERR(CNET_ERR_SERVER_ALREADY_LISTEN, cnet_server_listen_handle(c.srv, c.srv, NULL, NULL));
    trace_srv(c.srv, &t1);
    trace_srv(c.srv2, &t2);
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    ASSERT_OK(cnet_server_on(c.srv2, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    ASSERT_OK(cnet_server_listen_handle(c.srv2, c.srv, NULL, NULL));
    ASSERT(cnet_server_is_listening(c.srv2));
    ASSERT_OK(cnet_server_address(c.srv, &a1));
    ASSERT_OK(cnet_server_address(c.srv2, &a2));
    ASSERT_EQ(a1.port, a2.port);
    ASSERT_STR_EQ(a1.address, a2.address);
    c.port = a1.port;
    cnet_server_destroy(idle);
    /* Eight clients: every one is served, by one server or the other. */
    c.closes = 8;
    for (int i = 0; i < 8; i++)
        client_to(&c, c.port, NULL);
    run_and_close(c.loop);
    ASSERT_EQ(8, c.conns + c.conns2);
    /* Both close after the last client's close, in the order of that client's server. */
    ASSERT(strcmp("a:listening b:listening a:close b:close", test_log_str(&c.log)) == 0 ||
           strcmp("a:listening b:listening b:close a:close", test_log_str(&c.log)) == 0);
    ASSERT(port_refuses(c.port));
}

/* Closing the first server leaves the second listening on the shared socket. */
static void on_first_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    (void)srv;
    (void)ev;
    ASSERT(cnet_server_is_listening(c->srv2));
    c->srv = c->srv2; /* the client's close closes the one left */
    c->srv2 = NULL;
    c->closes = 1;
    client_to(c, c->port, NULL);
}

static void test_listen_handle_outlives(void)
{
    ctx_t c = {0};
    cnet_address_t a;

    test_set_phase("listen_handle outlives");
    c.loop = new_loop();
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv2));
    ASSERT_OK(cnet_server_listen(c.srv, 0, NULL, NULL, NULL));
    ASSERT_OK(cnet_server_address(c.srv, &a));
    c.port = a.port;
    ASSERT_OK(cnet_server_listen_handle(c.srv2, c.srv, NULL, NULL));
    ASSERT_OK(cnet_server_on(c.srv2, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    ASSERT_OK(cnet_server_close(c.srv, on_first_closed, &c));
    run_and_close(c.loop);
    ASSERT_EQ(1, c.conns); /* counted as c.srv, which is the second server by then */
    ASSERT_EQ(0, c.conns2);
    ASSERT(port_refuses(c.port));
}

/* listen({fd}) on the fd another server of this loop listens on: EEXIST, and that one's fd
 * is left alone (cnet_server_listen_handle() is the way to share it). */
static void test_listen_fd_in_use(void)
{
    ctx_t c = {0};
    tagged_t t2 = {&c, "b"};
    int fd, port;

    test_set_phase("listen_fd in use");
    c.loop = new_loop();
    fd = tcp_fd(true, &port);
    c.fd = fd;
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv2));
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_conn_hi, &c));
    ASSERT_OK(cnet_server_listen_fd(c.srv, fd, NULL, NULL));
    trace_srv(c.srv2, &t2);
    ASSERT_OK(cnet_server_listen_fd(c.srv2, fd, NULL, NULL));
    for (int i = 0; i < 3; i++)
        cnet_loop_run_nowait(c.loop);
    ASSERT_STR_EQ("b:error:EEXIST", test_log_str(&c.log));
    ASSERT(fd_open(fd));
    cnet_server_destroy(c.srv2);
    c.srv2 = NULL;
    c.closes = 1;
    client_to(&c, port, NULL); /* the first server still serves */
    run_and_close(c.loop);
    ASSERT_EQ(1, c.conns);
    ASSERT(!fd_open(fd));
}

/* listen(socket): a connected socket cannot listen (EINVAL), and stays usable. */
static void on_sock_srv_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    (void)srv;
    log_fmt(c, "s2:error:%s:%s", cnet_err_name(ev->error->code), ev->error->message);
    ASSERT(cnet_socket_write_str(c->a, "still") >= 0);
    ASSERT_OK(cnet_socket_end(c->a, NULL, 0, NULL, NULL));
}

static void on_echo_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg);
static void echo_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)arg;
    cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL);
}
static void on_echo_conn(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    ASSERT_OK(cnet_socket_on(ev->connection, CNET_EVENT_DATA, echo_data, NULL));
}

static void on_sock_connect(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    (void)ev;
    ASSERT_OK(cnet_server_listen_socket(c->srv2, s, NULL, NULL));
}

static void test_listen_socket(void)
{
    ctx_t c = {0};
    tagged_t tc = {&c, "cli"};
    cnet_socket_t *fresh;
    cnet_address_t a;

    test_set_phase("listen_socket");
    c.loop = new_loop();
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv2));
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_echo_conn, &c));
    ASSERT_OK(cnet_server_on(c.srv2, CNET_EVENT_ERROR, on_sock_srv_error, &c));
    ASSERT_OK(cnet_server_listen(c.srv, 0, NULL, NULL, NULL));
    ASSERT_OK(cnet_server_address(c.srv, &a));
    ASSERT_OK(cnet_socket_new(c.loop, NULL, &fresh));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_socket(c.srv2, fresh, NULL, NULL));
    ASSERT_ERR(CNET_ERR_INVALID_ARG_TYPE, cnet_server_listen_socket(c.srv2, NULL, NULL, NULL));
    cnet_socket_destroy(fresh);
    c.closes = 1;
    c.a = client_to(&c, a.port, NULL);
    ASSERT_OK(cnet_socket_on(c.a, CNET_EVENT_CONNECT, on_sock_connect, &c));
    trace_sock(c.a, &tc);
    run_and_close(c.loop);
    ASSERT_STR_EQ("cli:connect cli:ready s2:error:EINVAL:listen EINVAL: invalid argument "
                  "cli:finish cli:data:still cli:end cli:close:false",
                  test_log_str(&c.log));
}

/* ---- new net.Socket({fd}) ------------------------------------------------------ */

static cnet_socket_t *from_fd(ctx_t *c, int fd, bool no_read, bool no_write, bool half)
{
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s = NULL;
    o.has_fd = true;
    o.fd = fd;
    o.not_readable = no_read;
    o.not_writable = no_write;
    o.allow_half_open = half;
    ASSERT_OK(cnet_socket_new(c->loop, &o, &s));
    return s;
}

static void end_on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    cnet_socket_end_str(s, "pong");
}

static void test_socket_fd_socketpair(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"}, tb = {&c, "b"};
    int sv[2];
    cnet_address_t addr;

    test_set_phase("socket_fd socketpair");
    c.loop = new_loop();
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.in_call = true;
    c.a = from_fd(&c, sv[0], false, false, false);
    c.b = from_fd(&c, sv[1], false, false, false);
    c.in_call = false;
    /* Connected at once, as node's: no 'connect', open, not pending. */
    ASSERT(!cnet_socket_is_pending(c.a));
    ASSERT(!cnet_socket_is_connecting(c.a));
    ASSERT_EQ(CNET_STATE_OPEN, cnet_socket_ready_state(c.a));
    ASSERT_OK(cnet_socket_address(c.a, &addr)); /* an unnamed Unix end: an empty path */
    ASSERT_STR_EQ("", addr.address);
    ASSERT_EQ(0, addr.family);
    trace_sock(c.a, &ta);
    trace_sock(c.b, &tb);
    ASSERT_OK(cnet_socket_on(c.b, CNET_EVENT_DATA, end_on_data, NULL));
    ASSERT_EQ(0, cnet_socket_write_str(c.a, "ping"));
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:data:pong a:end a:finish a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("b:data:ping b:finish b:end b:close:false", side_str(&c.log, "b:"));
    ASSERT(!fd_open(sv[0]) && !fd_open(sv[1]));
}

static void on_srv_conn_keep(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    static tagged_t tp;
    (void)srv;
    tp = (tagged_t){c, "peer"};
    c->b = ev->connection;
    trace_sock(c->b, &tp);
    ASSERT_OK(cnet_socket_on(c->b, CNET_EVENT_DATA, end_on_data, NULL));
    cnet_server_close(srv, NULL, NULL);
}

static void test_socket_fd_tcp(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"};
    cnet_address_t srva, local, remote;
    int fd;

    test_set_phase("socket_fd tcp");
    c.loop = new_loop();
    ASSERT_OK(cnet_server_new(c.loop, NULL, &c.srv));
    ASSERT_OK(cnet_server_on(c.srv, CNET_EVENT_CONNECTION, on_srv_conn_keep, &c));
    ASSERT_OK(cnet_server_listen(c.srv, 0, NULL, NULL, NULL));
    ASSERT_OK(cnet_server_address(c.srv, &srva));
    fd = tcp_connect_fd(srva.port);
    c.a = from_fd(&c, fd, false, false, false);
    ASSERT_OK(cnet_socket_remote_address(c.a, &remote));
    ASSERT_STR_EQ("127.0.0.1", remote.address);
    ASSERT_EQ(srva.port, remote.port);
    ASSERT_EQ(4, remote.family);
    ASSERT_OK(cnet_socket_address(c.a, &local));
    ASSERT_STR_EQ("127.0.0.1", local.address);
    ASSERT(local.port > 0);
    trace_sock(c.a, &ta);
    ASSERT_EQ(0, cnet_socket_write_str(c.a, "ping"));
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:data:pong a:end a:finish a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("peer:data:ping peer:finish peer:end peer:close:false",
                  side_str(&c.log, "peer:"));
    ASSERT(!fd_open(fd));
}

/* readable: false. It writes, ends, and closes after 'finish', without 'end'. */
static void test_socket_fd_write_only(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"}, tb = {&c, "b"};
    int sv[2];

    test_set_phase("socket_fd write only");
    c.loop = new_loop();
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.a = from_fd(&c, sv[0], true, false, false);
    c.b = from_fd(&c, sv[1], false, false, false);
    ASSERT(!cnet_socket_is_readable(c.a));
    ASSERT(cnet_socket_is_writable(c.a));
    ASSERT_EQ(CNET_STATE_WRITE_ONLY, cnet_socket_ready_state(c.a));
    cnet_socket_resume(c.a); /* still never reads */
    trace_sock(c.a, &ta);
    trace_sock(c.b, &tb);
    ASSERT_OK(cnet_socket_end_str(c.a, "only-out"));
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:finish a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("b:data:only-out b:end b:finish b:close:false", side_str(&c.log, "b:"));
}

/* writable: false. Writes are refused, no FIN goes out; after the peer's 'end' it closes. */
static void test_socket_fd_read_only(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"}, tb = {&c, "b"};
    int sv[2];

    test_set_phase("socket_fd read only");
    c.loop = new_loop();
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.a = from_fd(&c, sv[0], false, true, false);
    c.b = from_fd(&c, sv[1], false, false, true);
    ASSERT(cnet_socket_is_readable(c.a));
    ASSERT(!cnet_socket_is_writable(c.a));
    ASSERT_EQ(CNET_STATE_READ_ONLY, cnet_socket_ready_state(c.a));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_write_str(c.a, "x"));
    ASSERT_ERR(CNET_ERR_STREAM_WRITE_AFTER_END, cnet_socket_end_str(c.a, "x"));
    ASSERT_OK(cnet_socket_end(c.a, NULL, 0, NULL, NULL)); /* node: end() again is a no-op */
    trace_sock(c.a, &ta);
    trace_sock(c.b, &tb);
    ASSERT_EQ(0, cnet_socket_write_str(c.b, "only-in"));
    ASSERT_OK(cnet_socket_end(c.b, NULL, 0, NULL, NULL));
    run_and_close(c.loop);
    /* b (allowHalfOpen) got no FIN from a before a closed: its 'end' comes with a's close. */
    ASSERT_STR_EQ("a:data:only-in a:end a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("b:finish b:end b:close:false", side_str(&c.log, "b:"));
}

/* Both false: nothing happens until destroy; allowHalfOpen keeps writing after 'end'. */
static void on_half_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)ev;
    (void)arg;
    ASSERT(cnet_socket_is_writable(s));
    ASSERT_OK(cnet_socket_end_str(s, "late"));
}

static void on_idle_destroy(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    ctx_t *c = arg;
    (void)s;
    (void)ev;
    cnet_socket_destroy(c->a);
}

static void test_socket_fd_half_open(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"}, tb = {&c, "b"};
    int sv[2];

    test_set_phase("socket_fd allowHalfOpen");
    c.loop = new_loop();
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.a = from_fd(&c, sv[0], false, false, true);
    c.b = from_fd(&c, sv[1], false, false, false);
    trace_sock(c.a, &ta);
    trace_sock(c.b, &tb);
    ASSERT_OK(cnet_socket_on(c.a, CNET_EVENT_END, on_half_end, NULL));
    ASSERT_OK(cnet_socket_end_str(c.b, "bye"));
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:data:bye a:end a:finish a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("b:finish b:data:late b:end b:close:false", side_str(&c.log, "b:"));

    test_set_phase("socket_fd neither");
    memset(&c, 0, sizeof c);
    c.loop = new_loop();
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.a = from_fd(&c, sv[0], true, true, false);
    c.b = from_fd(&c, sv[1], false, false, true);
    ASSERT_EQ(CNET_STATE_CLOSED, cnet_socket_ready_state(c.a));
    ta.c = tb.c = &c;
    trace_sock(c.a, &ta);
    trace_sock(c.b, &tb);
    ASSERT_OK(cnet_socket_on(c.b, CNET_EVENT_FINISH, on_idle_destroy, &c));
    ASSERT_OK(cnet_socket_end(c.b, NULL, 0, NULL, NULL));
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:close:false", side_str(&c.log, "a:"));
    ASSERT_STR_EQ("b:finish b:end b:close:false", side_str(&c.log, "b:"));
}

static int buffer_fn_calls;
static char onread_buf[64];
static char *buffer_fn(cnet_socket_t *s, size_t *len, void *arg)
{
    (void)s;
    (void)arg;
    buffer_fn_calls++;
    *len = sizeof onread_buf;
    return onread_buf;
}
static bool onread_fn(cnet_socket_t *s, size_t nread, char *buf, void *arg)
{
    ctx_t *c = arg;
    log_fmt(c, "onread:%.*s", (int)nread, buf);
    cnet_socket_destroy(s);
    return false;
}

static void test_socket_fd_errors(void)
{
    ctx_t c = {0};
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_socket_t *s = (cnet_socket_t *)&c, *first;
    char dir[200], path[256];
    int fd, sv[2];

    test_set_phase("socket_fd errors");
    c.loop = new_loop();
    o.has_fd = true;
    o.fd = -1;
    ASSERT_ERR(CNET_ERR_OUT_OF_RANGE, cnet_socket_new(c.loop, &o, &s));
    ASSERT(s == NULL);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/regular", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    o.fd = fd;
    ASSERT_ERR(CNET_ERR_INVALID_FD_TYPE, cnet_socket_new(c.loop, &o, &s));
    ASSERT(fd_open(fd)); /* refused: still the caller's */
    close(fd);
    unlink(path);
    rmdir(dir);
    ASSERT_ERR(CNET_ERR_INVALID_FD_TYPE, cnet_socket_new(c.loop, &o, &s)); /* closed now */
    o.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_ERR(CNET_ERR_INVALID_FD_TYPE, cnet_socket_new(c.loop, &o, &s));
    close(o.fd);
    ASSERT_STR_EQ("Unsupported fd type", cnet_strerror(CNET_ERR_INVALID_FD_TYPE));
    ASSERT_STR_EQ("ERR_INVALID_FD_TYPE", cnet_err_name(CNET_ERR_INVALID_FD_TYPE));

    /* The same fd twice on one loop: EEXIST, and the first socket keeps it. */
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    c.in_call = true;
    o.fd = sv[0];
    o.onread = onread_fn;
    o.onread_buffer_fn = buffer_fn;
    o.onread_arg = &c;
    ASSERT_OK(cnet_socket_new(c.loop, &o, &first));
    ASSERT_EQ(0, buffer_fn_calls); /* never inside the call */
    ASSERT_ERR(CNET_EEXIST, cnet_socket_new(c.loop, &o, &s));
    ASSERT(s == NULL);
    c.in_call = false;
    ASSERT(fd_open(sv[0]));
    ASSERT_EQ(4, write(sv[1], "data", 4));
    run_and_close(c.loop);
    ASSERT_EQ(2, buffer_fn_calls); /* once reading starts, once after the onread call */
    ASSERT_STR_EQ("onread:data", test_log_str(&c.log));
    ASSERT(!fd_open(sv[0]));
    close(sv[1]);
}

/* An already aborted signal: the socket takes the fd and is destroyed with ABORT_ERR. */
static void test_socket_fd_aborted(void)
{
    ctx_t c = {0};
    tagged_t ta = {&c, "a"};
    cnet_socket_opts_t o = CNET_SOCKET_OPTS_INIT;
    cnet_abort_controller_t *ac;
    int sv[2];

    test_set_phase("socket_fd aborted signal");
    c.loop = new_loop();
    ASSERT_OK(cnet_abort_controller_new(&ac));
    cnet_abort_controller_abort(ac);
    ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    o.has_fd = true;
    o.fd = sv[0];
    o.signal = cnet_abort_controller_signal(ac);
    ASSERT_OK(cnet_socket_new(c.loop, &o, &c.a));
    ASSERT(!fd_open(sv[0]));
    trace_sock(c.a, &ta);
    run_and_close(c.loop);
    ASSERT_STR_EQ("a:error:ABORT_ERR a:close:true", test_log_str(&c.log));
    cnet_abort_controller_free(ac);
    close(sv[1]);
}

int main(void)
{
    test_watchdog(20);
    test_listen_fd_tcp(true);
    test_listen_fd_tcp(false);
    test_listen_fd_unix();
    test_listen_fd_errors();
    test_listen_fd_in_use();
    test_listen_handle();
    test_listen_handle_outlives();
    test_listen_socket();
    test_socket_fd_socketpair();
    test_socket_fd_tcp();
    test_socket_fd_write_only();
    test_socket_fd_read_only();
    test_socket_fd_half_open();
    test_socket_fd_errors();
    test_socket_fd_aborted();
    fprintf(stderr, "test_ipc_fd: all scenarios passed\n");
    return 0;
}
