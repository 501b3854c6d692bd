/*
 * Interop: cnet's TLS client against other servers on loopback, each
 * spawned on an ephemeral port of 127.0.0.1 with the certificates of
 * tests/tls_fixtures.h written to a temp dir: `openssl s_server` (TLS 1.2 and
 * 1.3, ALPN, -rev's reversed line as the round trip, close_notify seen as its
 * "CONNECTION CLOSED") and node's tls server (tests/node/tls_echo_server.js:
 * ALPN, SNI, an echo, 'end'). Each peer is skipped with a message when its
 * command is missing. (tests/test_tls_socket.c has the other direction:
 * `openssl s_client` and node's tls.connect against cnet's server.)
 */
#include <cnet/uv.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tls_fixtures.h"
#include "tls_pair.h"

extern char **environ;

static tls_pki_t pki;
static char dir[] = "/tmp/cnet_tls_interop_XXXXXX";
static char *ca_file, *key_file, *cert_file, *leaf_file, *inter_file;

/* ---- the peer process --------------------------------------------------------- */

typedef struct peer {
    pid_t pid;
    char out[512]; /* its stdout and stderr */
} peer_t;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *read_file(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

/* Spawns @p argv with its output in a file; returns the port it printed after @p marker. */
static int peer_start(peer_t *p, char *const argv[], const char *marker)
{
    posix_spawn_file_actions_t fa;
    snprintf(p->out, sizeof p->out, "%s/peer.out", dir);
    ASSERT_OK(posix_spawn_file_actions_init(&fa));
    ASSERT_OK(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0));
    ASSERT_OK(posix_spawn_file_actions_addopen(&fa, 1, p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    ASSERT_OK(posix_spawn_file_actions_adddup2(&fa, 1, 2));
    ASSERT_OK(posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ));
    ASSERT_OK(posix_spawn_file_actions_destroy(&fa));
    for (int i = 0; i < 1000; i++) { /* 10 s */
        const char *at = strstr(read_file(p->out), marker);
        if (at) {
            int port = atoi(at + strlen(marker));
            if (port > 0)
                return port;
        }
        sleep_ms(10);
    }
    TEST_FAIL_("the peer printed no port: %s", read_file(p->out));
    return -1;
}

/* Waits for the peer to exit (it serves one connection); kills it after 5 s. Its output. */
static const char *peer_finish(peer_t *p)
{
    int status;
    for (int i = 0; i < 500; i++) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid)
            return read_file(p->out);
        sleep_ms(10);
    }
    kill(p->pid, SIGKILL);
    ASSERT_EQ(p->pid, waitpid(p->pid, &status, 0));
    return read_file(p->out);
}

/* ---- cnet's client -------------------------------------------------------------- */

typedef struct client {
    const char *send, *expect; /* the line sent, the answer expected */
    char got[256];
    size_t got_len;
    test_log_t log;
    char proto[16], alpn[32];
    bool authorized;
    int err;
} client_t;

static void client_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    test_log_add(&c->log, cnet_event_name(ev->type));
    if (ev->type == CNET_EVENT_SECURE_CONNECT) {
        const char *a = cnet_socket_tls_alpn_protocol(s);
        c->authorized = cnet_socket_tls_authorized(s);
        snprintf(c->proto, sizeof c->proto, "%s", cnet_socket_tls_protocol(s));
        snprintf(c->alpn, sizeof c->alpn, "%s", a ? a : "");
        ASSERT(cnet_socket_write(s, c->send, strlen(c->send), NULL, NULL) >= 0);
    } else if (ev->type == CNET_EVENT_DATA) {
        ASSERT(c->got_len + ev->data.len < sizeof c->got);
        memcpy(c->got + c->got_len, ev->data.base, ev->data.len);
        c->got_len += ev->data.len;
        c->got[c->got_len] = '\0';
        if (c->got_len >= strlen(c->expect))
            ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL)); /* close_notify, then FIN */
    } else if (ev->type == CNET_EVENT_ERROR) {
        c->err = ev->error->code;
        fprintf(stderr, "client error %s: %s\n", cnet_err_name(ev->error->code),
                ev->error->message);
    }
}

/* Connects to 127.0.0.1:@p port as "localhost", offering h2 and http/1.1. */
static void client_run(client_t *c, int port)
{
    static const char *const alpn[] = {"h2", "http/1.1", NULL};
    cnet_tls_context_t *ctx = tls_ctx(NULL, NULL, pki.ca_cert, NULL);
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_tls_socket_opts_t to = CNET_TLS_SOCKET_OPTS_INIT;
    static const cnet_event_type_t evs[] = {
        CNET_EVENT_CONNECT, CNET_EVENT_SECURE_CONNECT, CNET_EVENT_DATA, CNET_EVENT_END,
        CNET_EVENT_FINISH,  CNET_EVENT_ERROR,          CNET_EVENT_CLOSE};
    cnet_loop_t *loop;
    cnet_socket_t *s;

    ASSERT_OK(cnet_loop_new(&loop));
    co.port = port;
    co.host = "127.0.0.1";
    to.servername = "localhost";
    to.alpn_protocols = alpn;
    ASSERT_OK(cnet_tls_connect(loop, &co, ctx, &to, NULL, NULL, &s));
    for (size_t i = 0; i < CNET__ARRAY_SIZE(evs); i++)
        ASSERT_OK(cnet_socket_on(s, evs[i], client_cb, c));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, (int)cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    cnet_tls_context_release(ctx);
}

/* ---- openssl s_server ------------------------------------------------------------ */

static void test_s_server(const char *version_flag, const char *proto)
{
    char *argv[] = {"openssl",  "s_server", "-accept",     "127.0.0.1:0",
                    "-naccept", "1",        "-key",        key_file,
                    "-cert",    leaf_file,  "-cert_chain", inter_file,
                    "-rev",     "-alpn",    "http/1.1",    (char *)version_flag,
                    NULL};
    client_t c;
    peer_t p;
    char want[64];

    test_set_phase(proto);
    memset(&c, 0, sizeof c);
    c.send = "interop-hello\n";
    c.expect = "olleh-poretni\n"; /* -rev answers each line reversed */
    client_run(&c, peer_start(&p, argv, "ACCEPT 127.0.0.1:"));
    const char *out = peer_finish(&p);
    if (getenv("TLS_TEST_VERBOSE"))
        fprintf(stderr, "[%s] %s\n%s\n", proto, test_log_str(&c.log), out);
    ASSERT_EQ(0, c.err);
    ASSERT(c.authorized); /* the chain and "localhost" verified */
    ASSERT_STR_EQ(proto, c.proto);
    ASSERT_STR_EQ("http/1.1", c.alpn);
    ASSERT_STR_EQ(c.expect, c.got);
    ASSERT(strstr(test_log_str(&c.log), "end") != NULL);
    ASSERT(strstr(test_log_str(&c.log), "close") != NULL);
    snprintf(want, sizeof want, "Protocol version: %s", proto);
    if (!strstr(out, want) || !strstr(out, "ALPN protocols selected: http/1.1"))
        TEST_FAIL_("s_server printed: %s", out);
    /* Our end() sent close_notify: s_server's SSL_read returned 0 (a bare FIN is an error). */
    if (!strstr(out, "CONNECTION CLOSED") || strstr(out, "unexpected eof"))
        TEST_FAIL_("no close_notify seen by s_server: %s", out);
}

/* ---- node's tls server -------------------------------------------------------------- */

static void test_node_server(const char *max_version)
{
    char script[512], want[128];
    snprintf(script, sizeof script, "%s/node/tls_echo_server.js", CNET_TEST_SOURCE_DIR);
    char *argv[] = {"node", script, key_file, cert_file, (char *)max_version, NULL};
    client_t c;
    peer_t p;

    test_set_phase(max_version);
    memset(&c, 0, sizeof c);
    c.send = "from-cnet";
    c.expect = "from-cnet";
    client_run(&c, peer_start(&p, argv, "PORT "));
    const char *out = peer_finish(&p);
    if (getenv("TLS_TEST_VERBOSE"))
        fprintf(stderr, "[node %s] %s\n%s\n", max_version, test_log_str(&c.log), out);
    ASSERT_EQ(0, c.err);
    ASSERT(c.authorized);
    ASSERT_STR_EQ(max_version, c.proto);
    ASSERT_STR_EQ("h2", c.alpn); /* node picks in its own order */
    ASSERT_STR_EQ("from-cnet", c.got);
    ASSERT(strstr(test_log_str(&c.log), "end") != NULL);
    snprintf(want, sizeof want, "node-secure %s h2 localhost", max_version);
    if (!strstr(out, want) || !strstr(out, "node-end"))
        TEST_FAIL_("node printed: %s", out);
}

int main(void)
{
    bool have_openssl, have_node;

    test_watchdog(60);
    signal(SIGPIPE, SIG_IGN);
    have_openssl = system("openssl version >/dev/null 2>&1") == 0;
    have_node = test_have_node();
    if (!have_openssl && !have_node) {
        printf("skip: neither the openssl command nor node is installed (interop peers)\n");
        return 77;
    }
    tls_pki_make(&pki);
    ASSERT(mkdtemp(dir) != NULL);
    ca_file = tls_write_file(dir, "ca.pem", pki.ca_cert);
    key_file = tls_write_file(dir, "key.pem", pki.leaf_key);
    cert_file = tls_write_file(dir, "chain.pem", pki.server_chain);
    leaf_file = tls_write_file(dir, "leaf.pem", pki.server_cert);
    inter_file = tls_write_file(dir, "inter.pem", pki.inter_cert);

    if (have_openssl) {
        test_s_server("-tls1_2", "TLSv1.2");
        test_s_server("-tls1_3", "TLSv1.3");
    } else {
        printf("skip: the openssl command is not installed (interop with s_server)\n");
    }
    if (have_node) {
        test_node_server("TLSv1.2");
        test_node_server("TLSv1.3");
    } else {
        printf("skip: node is not installed (interop with its tls server)\n");
    }

    char out[600];
    snprintf(out, sizeof out, "%s/peer.out", dir);
    unlink(out);
    unlink(ca_file);
    unlink(key_file);
    unlink(cert_file);
    unlink(leaf_file);
    unlink(inter_file);
    rmdir(dir);
    free(ca_file);
    free(key_file);
    free(cert_file);
    free(leaf_file);
    free(inter_file);
    tls_pki_free(&pki);
    printf("ok\n");
    return 0;
}
