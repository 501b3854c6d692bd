/*
 * cnetcat's modes, on cnet's public API (and libuv for stdio and --exec):
 *
 *   connect       stdin -> socket, socket -> stdout. stdin's EOF half-closes
 *                 the socket (unless --no-shutdown); the peer's EOF ends ours
 *                 and cnetcat exits once stdout is flushed, as ncat does.
 *   listen (-l)   the same with the first client; the listener closes after
 *                 it unless -k, when every client gets stdin's bytes and
 *                 their bytes go to stdout.
 *   --broker      each client's bytes go to every other client; --chat
 *                 adds ncat's "<userN> " prefixes and announcements.
 *   --exec/-c     each connection gets its own child whose stdin and stdout
 *                 are the socket.
 *
 * Backpressure both ways: a socket's write returning 1 (highWaterMark)
 * pauses stdin until 'drain'; stdout's queue past its mark pauses every
 * socket until it drains. So a 1 GiB transfer runs in bounded memory.
 */
#include "cnetcat.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct conn {
    struct conn *prev, *next;
    cnet_socket_t *s;
    unsigned id;           /* chat: <userN> */
    bool write_blocked;    /* waiting for its 'drain' */
    bool ended;            /* we called end() */
    bool connected;
    char peer[CNET_ADDRSTRLEN + 8];
    uint64_t in, out;      /* bytes received from / sent to this peer */
    /* --exec */
    uv_process_t proc;
    uv_pipe_t child_in, child_out;
    bool have_child, child_out_open, child_in_open;
    unsigned child_handles; /* open libuv handles; the conn is freed when 0 and closed */
    bool closed;
} conn_t;

static struct {
    nc_opts_t o;
    cnet_loop_t *loop;
    uv_loop_t *uv;
    cnet_server_t *srv;
    cnet_tls_context_t *tls;
    conn_t *conns;
    size_t nconns;
    unsigned next_id;
    int exit_code;
    bool exiting, stdin_done, stdin_paused_by_drain, sockets_paused;
    unsigned blocked_writers;
    uint64_t start_ms, sent, received;
    uv_timer_t connect_timer, progress_timer;
    bool have_connect_timer, have_progress_timer, progress_shown;
} g;

static void conn_maybe_free(conn_t *c);

/* ---- exit ------------------------------------------------------------------- */

static void summary(void)
{
    if (g.o.verbose < 1)
        return;
    double secs = (double)(uv_hrtime() / 1000000 - g.start_ms) / 1000.0;
    double mb = (double)(g.sent + g.received) / 1e6;
    nc_log("%" PRIu64 " bytes sent, %" PRIu64 " bytes received in %.2f seconds (%.2f MB/s).",
           g.sent, g.received, secs, secs > 0 ? mb / secs : 0.0);
}

static void progress_clear(void)
{
    if (g.progress_shown)
        fputs("\r\033[K", stderr);
    g.progress_shown = false;
}

static void finish_exit(void *arg)
{
    (void)arg;
    progress_clear();
    summary();
    nc_stdio_close();
    if (g.have_progress_timer && !uv_is_closing((uv_handle_t *)&g.progress_timer))
        uv_close((uv_handle_t *)&g.progress_timer, NULL);
    if (g.have_connect_timer && !uv_is_closing((uv_handle_t *)&g.connect_timer))
        uv_close((uv_handle_t *)&g.connect_timer, NULL);
}

/* Stops everything; the loop then runs dry and main() returns @p code. */
static void nc_exit(int code)
{
    if (g.exiting)
        return;
    g.exiting = true;
    if (code > g.exit_code)
        g.exit_code = code;
    nc_stdin_stop();
    if (g.srv) {
        cnet_server_close(g.srv, NULL, NULL);
        g.srv = NULL;
    }
    for (conn_t *c = g.conns; c; c = c->next)
        cnet_socket_destroy(c->s);
    nc_stdout_flush(finish_exit, NULL);
}

/* ---- writing to sockets ----------------------------------------------------- */

static void resume_stdin_if_drained(void)
{
    if (g.blocked_writers == 0 && g.stdin_paused_by_drain) {
        g.stdin_paused_by_drain = false;
        nc_stdin_pause(false);
    }
}

static void on_sock_drain(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)s;
    (void)ev;
    if (c->write_blocked) {
        c->write_blocked = false;
        g.blocked_writers--;
        resume_stdin_if_drained();
    }
}

/* Sends @p len bytes to @p c; -C turns "\n" into "\r\n". */
static void conn_send(conn_t *c, const char *data, size_t len)
{
    int rc;

    if (c->ended || !c->s)
        return;
    if (g.o.crlf) {
        size_t start = 0;
        rc = 0;
        for (size_t i = 0; i < len && rc >= 0; i++) {
            if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
                rc = cnet_socket_write(c->s, data + start, i - start, NULL, NULL);
                if (rc >= 0)
                    rc = cnet_socket_write(c->s, "\r", 1, NULL, NULL);
                start = i;
            }
        }
        if (rc >= 0)
            rc = cnet_socket_write(c->s, data + start, len - start, NULL, NULL);
    } else {
        rc = cnet_socket_write(c->s, data, len, NULL, NULL);
    }
    if (rc < 0)
        return; /* the socket is going away; its 'error'/'close' say why */
    c->out += len;
    g.sent += len;
    nc_dump(data, len);
    if (rc == 1 && !c->write_blocked) {
        c->write_blocked = true;
        g.blocked_writers++;
    }
}

/* ---- stdin ------------------------------------------------------------------ */

static void conn_end(conn_t *c)
{
    if (c->ended)
        return;
    c->ended = true;
    cnet_socket_end(c->s, NULL, 0, NULL, NULL);
}

static void on_send_only_done(cnet_socket_t *s, int status, void *arg)
{
    (void)s;
    (void)status;
    (void)arg;
    nc_exit(g.exit_code); /* --send-only: quit once our data is out */
}

static void on_stdin(const char *data, size_t len, void *arg)
{
    (void)arg;
    if (!data) {
        g.stdin_done = true;
        if (g.o.keep_open && g.o.listen)
            return; /* ncat -k: clients stay connected after our EOF */
        for (conn_t *c = g.conns; c; c = c->next) {
            if (g.o.send_only) {
                c->ended = true;
                if (cnet_socket_end(c->s, NULL, 0, on_send_only_done, NULL) != 0)
                    nc_exit(g.exit_code);
            } else if (!g.o.no_shutdown) {
                conn_end(c);
            }
        }
        if (!g.conns && !g.o.listen)
            nc_exit(g.exit_code);
        return;
    }
    for (conn_t *c = g.conns; c; c = c->next)
        conn_send(c, data, len);
    if (g.blocked_writers > 0 && !g.stdin_paused_by_drain) {
        g.stdin_paused_by_drain = true;
        nc_stdin_pause(true);
    }
}

static void start_stdin(void)
{
    static bool started;
    int err;

    if (started || g.o.recv_only || g.o.broker || g.o.exec || g.o.sh_exec || g.o.zero_io)
        return;
    started = true;
    if ((err = nc_stdin_start(g.uv, on_stdin, NULL)) != 0) {
        nc_log("Cannot read stdin: %s.", uv_strerror(err));
        nc_exit(NC_EXIT_USAGE);
    }
}

/* ---- stdout ----------------------------------------------------------------- */

static void on_stdout_drain(void *arg)
{
    (void)arg;
    if (!g.sockets_paused)
        return;
    g.sockets_paused = false;
    for (conn_t *c = g.conns; c; c = c->next)
        cnet_socket_resume(c->s);
}

static void to_stdout(const char *data, size_t len)
{
    if (nc_stdout_write(data, len) && !g.sockets_paused) {
        g.sockets_paused = true;
        for (conn_t *c = g.conns; c; c = c->next)
            cnet_socket_pause(c->s);
    }
}

/* ---- --exec ----------------------------------------------------------------- */

static void child_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    c->child_handles--;
    conn_maybe_free(c);
}

static void child_close(conn_t *c, uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, child_handle_closed);
}

static void child_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void child_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = st->data;
    if (n > 0 && !c->closed)
        conn_send(c, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0) {
        /* the child closed its stdout: our side of the socket ends */
        child_close(c, (uv_handle_t *)&c->child_out);
        if (!c->closed)
            conn_end(c);
    }
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig)
{
    conn_t *c = p->data;
    (void)status;
    (void)sig;
    child_close(c, (uv_handle_t *)p);
}

typedef struct {
    uv_write_t w;
    char data[];
} child_write_t;

static void on_child_written(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static int spawn_child(conn_t *c)
{
    uv_process_options_t po;
    uv_stdio_container_t stdio[3];
    char *argv_sh[] = {"/bin/sh", "-c", (char *)g.o.sh_exec, NULL};
    char *words[64], *copy = NULL;
    int err, n = 0;

    memset(&po, 0, sizeof po);
    if (g.o.sh_exec) {
        po.file = "/bin/sh";
        po.args = argv_sh;
    } else {
        /* --exec: split on blanks, no shell (as ncat) */
        if (!(copy = strdup(g.o.exec)))
            return UV_ENOMEM;
        for (char *save = NULL, *t = strtok_r(copy, " \t", &save); t && n < 63;
             t = strtok_r(NULL, " \t", &save))
            words[n++] = t;
        words[n] = NULL;
        if (n == 0) {
            free(copy);
            return UV_EINVAL;
        }
        po.file = words[0];
        po.args = words;
    }
    uv_pipe_init(g.uv, &c->child_in, 0);
    uv_pipe_init(g.uv, &c->child_out, 0);
    c->child_in.data = c->child_out.data = c->proc.data = c;
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&c->child_in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&c->child_out;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    po.stdio = stdio;
    po.stdio_count = 3;
    po.exit_cb = on_child_exit;
    c->child_handles = 2;
    c->have_child = true;
    err = uv_spawn(g.uv, &c->proc, &po);
    free(copy);
    if (err) {
        /* libuv wants the process handle closed even when spawn failed */
        c->child_handles++;
        child_close(c, (uv_handle_t *)&c->proc);
        child_close(c, (uv_handle_t *)&c->child_in);
        child_close(c, (uv_handle_t *)&c->child_out);
        return err;
    }
    c->child_handles++;
    c->child_in_open = c->child_out_open = true;
    uv_read_start((uv_stream_t *)&c->child_out, child_alloc, child_on_read);
    return 0;
}

static void to_child(conn_t *c, const char *data, size_t len)
{
    child_write_t *w;
    if (!c->child_in_open || !(w = malloc(sizeof *w + len)))
        return;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->w, (uv_stream_t *)&c->child_in, &b, 1, on_child_written) != 0)
        free(w);
}

static void on_child_in_shutdown(uv_shutdown_t *req, int status)
{
    conn_t *c = req->data;
    (void)status;
    free(req);
    child_close(c, (uv_handle_t *)&c->child_in);
}

static void child_eof(conn_t *c)
{
    uv_shutdown_t *req;
    if (!c->child_in_open)
        return;
    c->child_in_open = false;
    if ((req = malloc(sizeof *req))) {
        req->data = c;
        if (uv_shutdown(req, (uv_stream_t *)&c->child_in, on_child_in_shutdown) == 0)
            return;
        free(req);
    }
    child_close(c, (uv_handle_t *)&c->child_in);
}

/* ---- connections ------------------------------------------------------------ */

static void conn_maybe_free(conn_t *c)
{
    if (c->closed && c->child_handles == 0)
        free(c);
}

static void broadcast(conn_t *from, const char *data, size_t len)
{
    for (conn_t *c = g.conns; c; c = c->next)
        if (c != from)
            conn_send(c, data, len);
}

static void chat_announce(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void chat_announce(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        broadcast(NULL, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_sock_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)s;
    c->in += ev->data.len;
    g.received += ev->data.len;
    if (g.o.send_only)
        return; /* ignored, as ncat's --send-only */
    if (c->have_child) {
        to_child(c, ev->data.base, ev->data.len);
        return;
    }
    if (g.o.chat) {
        char prefix[32];
        int n = snprintf(prefix, sizeof prefix, "<user%u> ", c->id);
        broadcast(c, prefix, (size_t)n);
        broadcast(c, ev->data.base, ev->data.len);
        return;
    }
    if (g.o.broker) {
        broadcast(c, ev->data.base, ev->data.len);
        return;
    }
    nc_dump(ev->data.base, ev->data.len);
    to_stdout(ev->data.base, ev->data.len);
}

static void on_sock_end(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)s;
    (void)ev;
    if (c->have_child) {
        child_eof(c); /* the child sees EOF; it ending its stdout ends ours */
        return;
    }
    if (g.o.keep_open && g.o.listen) {
        conn_end(c);
        return;
    }
    if (g.o.send_only && !g.stdin_done)
        return; /* --send-only ignores what comes back, its EOF too: we finish sending */
    /* ncat: the peer's EOF ends the session */
    nc_stdin_stop();
    conn_end(c);
}

static void on_sock_error(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    char buf[128];
    (void)s;
    if (g.o.listen && g.o.keep_open) {
        if (g.o.verbose)
            nc_log("Connection from %s: %s.", c->peer, nc_strerror(ev->error->code, buf, sizeof buf));
        return;
    }
    nc_log("%s.", nc_strerror(ev->error->code, buf, sizeof buf));
    if (g.exit_code < NC_EXIT_NET)
        g.exit_code = NC_EXIT_NET;
}

static void on_sock_timeout(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)ev;
    (void)c;
    if (!g.o.listen) {
        nc_log("Idle timeout expired (%" PRIu64 " ms).", g.o.idle_ms);
        g.exit_code = NC_EXIT_NET;
    }
    cnet_socket_destroy(s);
}

static void on_sock_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)s;
    (void)ev;
    if (c->write_blocked) {
        c->write_blocked = false;
        g.blocked_writers--;
        resume_stdin_if_drained();
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        g.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g.nconns--;
    if (g.o.verbose >= 2 && g.o.listen)
        nc_log("Connection from %s closed: %" PRIu64 " bytes received, %" PRIu64 " sent.", c->peer,
               c->in, c->out);
    if (g.o.chat)
        chat_announce("<announce> <user%u> is disconnected.\n", c->id);
    c->closed = true;
    c->s = NULL;
    if (c->have_child) {
        child_eof(c);
        if (c->child_out_open && !uv_is_closing((uv_handle_t *)&c->child_out))
            child_close(c, (uv_handle_t *)&c->child_out);
        if (!uv_is_closing((uv_handle_t *)&c->proc))
            uv_process_kill(&c->proc, SIGTERM);
    }
    conn_maybe_free(c);
    if (!(g.o.listen && g.o.keep_open))
        nc_exit(g.exit_code);
}

static conn_t *conn_add(cnet_socket_t *s)
{
    conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->s = s;
    c->id = g.next_id++;
    c->next = g.conns;
    if (g.conns)
        g.conns->prev = c;
    g.conns = c;
    g.nconns++;
    if (cnet_socket_on(s, CNET_EVENT_DATA, on_sock_data, c) || cnet_socket_on(s, CNET_EVENT_END, on_sock_end, c) ||
        cnet_socket_on(s, CNET_EVENT_ERROR, on_sock_error, c) ||
        cnet_socket_on(s, CNET_EVENT_DRAIN, on_sock_drain, c) ||
        cnet_socket_on(s, CNET_EVENT_CLOSE, on_sock_close, c) ||
        (g.o.idle_ms && cnet_socket_set_timeout(s, (unsigned)g.o.idle_ms, on_sock_timeout, c))) {
        /* out of memory for a listener: drop this connection */
        cnet_socket_destroy(s);
    }
    return c;
}

static void peer_text(cnet_socket_t *s, char *buf, size_t size)
{
    cnet_address_t a;
    if (cnet_socket_remote_address(s, &a) != 0)
        snprintf(buf, size, "unknown");
    else if (a.family == 0)
        snprintf(buf, size, "%s", a.address[0] ? a.address : "a Unix socket");
    else
        snprintf(buf, size, a.family == 6 ? "[%s]:%d" : "%s:%d", a.address, a.port);
}

/* ---- connect mode ----------------------------------------------------------- */

static void on_connect_timeout(uv_timer_t *t)
{
    (void)t;
    nc_log("TIMEOUT.");
    nc_exit(NC_EXIT_NET);
}

static void on_connected(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    conn_t *c = arg;
    (void)ev;
    c->connected = true;
    if (g.have_connect_timer)
        uv_timer_stop(&g.connect_timer);
    if (g.o.verbose) {
        char peer[CNET_ADDRSTRLEN + 8];
        if (g.o.path)
            snprintf(peer, sizeof peer, "%s", g.o.path);
        else
            peer_text(s, peer, sizeof peer);
        nc_log("Connected to %s.", peer);
        if (g.o.ssl) {
            const char *name, *std, *ver;
            if (cnet_socket_tls_cipher(s, &name, &std, &ver) == 0)
                nc_log("SSL connection: %s, %s.", ver, name);
        }
    }
    if (g.o.zero_io) {
        cnet_socket_destroy(s);
        return;
    }
    if (c->have_child == false && (g.o.exec || g.o.sh_exec)) {
        int err = spawn_child(c);
        if (err) {
            nc_log("Cannot execute %s: %s.", g.o.exec ? g.o.exec : g.o.sh_exec, uv_strerror(err));
            g.exit_code = NC_EXIT_USAGE;
            cnet_socket_destroy(s);
            return;
        }
    }
    start_stdin();
}

static int run_connect(void)
{
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *s;
    int err;

    co.host = g.o.host;
    co.port = g.o.port;
    co.path = g.o.path;
    co.family = g.o.family;
    co.local_address = g.o.source;
    co.local_port = g.o.source_port > 0 ? g.o.source_port : 0;
    if (g.o.source_port > 0 && !g.o.source)
        co.local_address = g.o.family == 6 ? "::" : "0.0.0.0";
    co.allow_half_open = true; /* cnetcat decides when to end */
    if (g.o.ssl) {
        cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
        if ((err = nc_tls_context(&g.o, &g.tls)) != 0)
            return NC_EXIT_USAGE;
        to.servername = g.o.ssl_servername;
        err = cnet_tls_connect(g.loop, &co, g.tls, &to, NULL, NULL, &s);
    } else {
        err = cnet_create_connection(g.loop, &co, NULL, NULL, &s);
    }
    if (err) {
        char buf[128];
        nc_log("%s.", nc_strerror(err, buf, sizeof buf));
        return NC_EXIT_USAGE;
    }
    conn_t *c = conn_add(s);
    if (!c) {
        cnet_socket_destroy(s);
        return NC_EXIT_USAGE;
    }
    snprintf(c->peer, sizeof c->peer, "%s", g.o.path ? g.o.path : g.o.host);
    cnet_socket_on(s, g.o.ssl ? CNET_EVENT_SECURE_CONNECT : CNET_EVENT_CONNECT, on_connected, c);
    if (g.o.wait_ms) {
        uv_timer_init(g.uv, &g.connect_timer);
        g.have_connect_timer = true;
        uv_timer_start(&g.connect_timer, on_connect_timeout, g.o.wait_ms, 0);
    }
    return -1;
}

/* ---- listen mode ------------------------------------------------------------ */

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_socket_t *s = ev->connection;
    char peer[CNET_ADDRSTRLEN + 8];
    (void)srv;
    (void)arg;

    peer_text(s, peer, sizeof peer);
    if (g.o.allow) {
        cnet_address_t a;
        if (cnet_socket_remote_address(s, &a) != 0 || a.family == 0 ||
            !cnet_blocklist_check(g.o.allow, a.address, a.family)) {
            if (g.o.verbose)
                nc_log("New connection from %s denied: not allowed.", peer);
            cnet_socket_destroy(s);
            return;
        }
    }
    if (g.o.verbose)
        nc_log("Connection from %s.", peer);
    conn_t *c = conn_add(s);
    if (!c) {
        cnet_socket_destroy(s);
        return;
    }
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->connected = true;
    if (!g.o.keep_open) {
        /* one client, as ncat without -k: stop listening */
        cnet_server_close(g.srv, NULL, NULL);
        g.srv = NULL;
    }
    if (g.sockets_paused)
        cnet_socket_pause(s);
    if (g.o.exec || g.o.sh_exec) {
        int err = spawn_child(c);
        if (err) {
            nc_log("Cannot execute %s: %s.", g.o.exec ? g.o.exec : g.o.sh_exec, uv_strerror(err));
            cnet_socket_destroy(s);
        }
        return;
    }
    if (g.o.chat) {
        char line[256];
        int n = snprintf(line, sizeof line, "<announce> %s is connected as <user%u>.\n", peer,
                         c->id);
        broadcast(c, line, (size_t)n);
        conn_send(c, line, (size_t)n);
        n = snprintf(line, sizeof line, "<announce> already connected: %s.\n",
                     g.nconns > 1 ? "others" : "nobody");
        conn_send(c, line, (size_t)n);
    }
    if (g.stdin_done && !g.o.keep_open && !g.o.no_shutdown)
        conn_end(c); /* stdin already ended: the client sees EOF at once */
    start_stdin();
}

static void on_drop(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    if (g.o.verbose && ev->remote)
        nc_log("New connection from %s denied: %s.", ev->remote->address,
               ev->reason && strcmp(ev->reason, "blockList") == 0 ? "denied"
                                                                   : "connection limit reached");
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cnet_address_t a;
    (void)ev;
    (void)arg;
    if (g.o.verbose && cnet_server_address(srv, &a) == 0) {
        if (a.family == 0)
            nc_log("Listening on %s", a.address);
        else
            nc_log(a.family == 6 ? "Listening on [%s]:%d" : "Listening on %s:%d", a.address,
                   a.port);
    }
}

static void on_server_error(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    char buf[128];
    (void)srv;
    (void)arg;
    nc_log("%s.", nc_strerror(ev->error->code, buf, sizeof buf));
    g.srv = NULL;
    nc_exit(NC_EXIT_USAGE);
}

static int run_listen(void)
{
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    int err;

    so.allow_half_open = true;
    so.max_connections = g.o.keep_open ? g.o.max_conns : 0;
    so.block_list = g.o.deny;
    if (g.o.ssl) {
        if (nc_tls_context(&g.o, &g.tls) != 0)
            return NC_EXIT_USAGE;
        so.tls = g.tls;
    }
    if ((err = cnet_server_new(g.loop, &so, &g.srv)) != 0)
        return NC_EXIT_USAGE;
    cnet_server_on(g.srv, g.o.ssl ? CNET_EVENT_SECURE_CONNECTION : CNET_EVENT_CONNECTION,
                   on_connection, NULL);
    cnet_server_on(g.srv, CNET_EVENT_DROP, on_drop, NULL);
    cnet_server_on(g.srv, CNET_EVENT_ERROR, on_server_error, NULL);
    lo.path = g.o.path;
    lo.port = g.o.path ? 0 : g.o.port;
    lo.host = g.o.host;
    if (!lo.host && !lo.path)
        lo.host = g.o.family == 4 ? "0.0.0.0" : g.o.family == 6 ? "::" : NULL;
    if ((err = cnet_server_listen_opts(g.srv, &lo, on_listening, NULL)) != 0) {
        char buf[128];
        nc_log("%s.", nc_strerror(err, buf, sizeof buf));
        return NC_EXIT_USAGE;
    }
    return -1;
}

/* ---- progress --------------------------------------------------------------- */

static void human(double v, char *buf, size_t size)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void on_progress(uv_timer_t *t)
{
    (void)t;
    uint64_t bytes = g.sent + g.received;
    double secs = (double)(uv_hrtime() / 1000000 - g.start_ms) / 1000.0;
    char b[32], r[32];

    if (secs < 1 || bytes < (1u << 20))
        return; /* a long transfer only */
    human((double)bytes, b, sizeof b);
    human(bytes / secs, r, sizeof r);
    fprintf(stderr, "\r\033[K%s  %s/s  %d:%02d", b, r, (int)secs / 60, (int)secs % 60);
    g.progress_shown = true;
}

static void start_progress(void)
{
    /* only on a terminal, and only for transfers (not an interactive session) */
    if (!isatty(2) || (isatty(0) && isatty(1)) || g.o.broker)
        return;
    uv_timer_init(g.uv, &g.progress_timer);
    g.have_progress_timer = true;
    uv_timer_start(&g.progress_timer, on_progress, 500, 500);
    uv_unref((uv_handle_t *)&g.progress_timer);
}

int main(int argc, char **argv)
{
    int rc = nc_parse_options(argc, argv, &g.o, NULL);
    if (rc >= 0)
        return rc;

    if ((rc = nc_dump_open(&g.o)) != 0) {
        nc_log("Unable to open output file: %s.", uv_strerror(rc));
        nc_free_options(&g.o);
        return NC_EXIT_USAGE;
    }
    g.loop = cnet_loop_default();
    g.uv = cnet_loop_get_uv(g.loop);
    g.start_ms = uv_hrtime() / 1000000;
    if (g.o.verbose)
        nc_log("Version %s ( cnet )", CNET_VERSION_STRING);
    if ((rc = nc_stdout_open(g.uv)) != 0) {
        nc_log("Cannot write stdout: %s.", uv_strerror(rc));
        return NC_EXIT_USAGE;
    }
    nc_stdout_on_drain(on_stdout_drain, NULL);
    start_progress();

    rc = g.o.listen ? run_listen() : run_connect();
    if (rc >= 0) {
        g.exit_code = rc;
        nc_exit(rc);
    }
    cnet_run();
    nc_dump_close();
    cnet_tls_context_release(g.tls);
    nc_free_options(&g.o);
    nc_stdio_free();
    return g.exit_code;
}
