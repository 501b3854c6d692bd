/*
 * One end of tests/test_netns.sh: a cnet server or client run inside a
 * network namespace, printing the events it sees so the script can check
 * them against node's.
 *
 *   netns_peer server HOST PORT [options]   accept one connection, then exit at its close
 *   netns_peer client HOST PORT [options]
 * Options:
 *   --keepalive MS     cnet_socket_set_keep_alive(true, MS) (server: on the accepted socket)
 *   --keepintvl S      TCP_KEEPINTVL and
 *   --keepcnt N        TCP_KEEPCNT on the fd: cnet (like node) has no option for these
 *                      (setKeepAlive fixes them at 1 s and 10), so the probes are shortened here
 *   --timeout MS       cnet_socket_set_timeout (client: connect's timeout_ms)
 *   --destroy-on-timeout   destroy the socket at 'timeout' (node's usual socket.destroy())
 *   --stream           write without end, at the pace 'drain' allows (a transfer in progress)
 *   --echo             server: echo what arrives
 *   --ping             client: send "ping\n", expect it back, then end
 * Prints "listening" (server), "receiving" once 64 KiB arrived, and at the end one line
 * "EVENTS <event> <event> ..." with error:CODE:SYSCALL and close:HAD_ERROR items.
 * Exits 0 once the socket closed; an alarm fails it after 20 s.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <cnet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct {
    unsigned keepalive_ms, timeout_ms;
    int keepintvl, keepcnt;
    bool destroy_on_timeout, stream, echo, ping;
} opt;

static char events[1024];
static cnet_server_t *server;
static uint64_t received, t0;
static bool said_receiving;
static char pong[16];
static size_t pong_len;
static char chunk[16384];

static void add_event(const char *item)
{
    size_t n = strlen(events);
    snprintf(events + n, sizeof events - n, "%s%s", n ? " " : "", item);
    fprintf(stderr, "netns_peer: +%llu ms %s\n",
            (unsigned long long)(cnet_loop_now(cnet_loop_default()) - t0), item);
}

/* cnet has no fd getter: the fd is the one whose endpoints are the socket's. */
static int find_fd(cnet_socket_t *s)
{
    cnet_address_t local, remote;
    if (cnet_socket_address(s, &local) || cnet_socket_remote_address(s, &remote))
        return -1;
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a, b;
        socklen_t la = sizeof a, lb = sizeof b;
        char sa[INET_ADDRSTRLEN], sb[INET_ADDRSTRLEN];
        if (getsockname(fd, (struct sockaddr *)&a, &la) || a.sin_family != AF_INET ||
            getpeername(fd, (struct sockaddr *)&b, &lb))
            continue;
        inet_ntop(AF_INET, &a.sin_addr, sa, sizeof sa);
        inet_ntop(AF_INET, &b.sin_addr, sb, sizeof sb);
        if (ntohs(a.sin_port) == local.port && ntohs(b.sin_port) == remote.port &&
            !strcmp(sa, local.address) && !strcmp(sb, remote.address))
            return fd;
    }
    return -1;
}

/* TCP_KEEPINTVL / TCP_KEEPCNT, once the socket has its fd. */
static void apply_fd_options(cnet_socket_t *s)
{
    if (opt.keepintvl || opt.keepcnt) {
        int fd = find_fd(s), idle = 0, intvl = 0, cnt = 0;
        socklen_t l = sizeof idle;
        if (fd < 0)
            exit(3);
        if ((opt.keepintvl &&
             setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &opt.keepintvl, sizeof opt.keepintvl)) ||
            (opt.keepcnt &&
             setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &opt.keepcnt, sizeof opt.keepcnt)))
            exit(3);
        getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
        getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &l);
        getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &l);
        fprintf(stderr, "netns_peer: keepalive idle %d s, interval %d s, count %d\n", idle, intvl,
                cnt);
    }
}

static void apply_options(cnet_socket_t *s)
{
    if (opt.keepalive_ms && cnet_socket_set_keep_alive(s, true, opt.keepalive_ms) != 0)
        exit(3);
    apply_fd_options(s);
    if (opt.timeout_ms && cnet_socket_set_timeout(s, opt.timeout_ms, NULL, NULL) != 0)
        exit(3);
}

static void stream_more(cnet_socket_t *s)
{
    while (cnet_socket_write(s, chunk, sizeof chunk, NULL, NULL) == 0)
        ;
}

static void sock_cb(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    char item[128];
    (void)arg;
    switch (ev->type) {
    case CNET_EVENT_CONNECT:
        add_event("connect");
        apply_fd_options(s);
        if (opt.stream)
            stream_more(s);
        if (opt.ping)
            cnet_socket_write_str(s, "ping\n");
        break;
    case CNET_EVENT_DRAIN:
        if (opt.stream)
            stream_more(s);
        break;
    case CNET_EVENT_DATA:
        received += ev->data.len;
        if (received >= 65536 && !said_receiving) {
            said_receiving = true;
            printf("receiving\n");
            fflush(stdout);
        }
        if (opt.echo)
            cnet_socket_write(s, ev->data.base, ev->data.len, NULL, NULL);
        if (opt.ping) {
            size_t n = ev->data.len < sizeof pong - 1 - pong_len ? ev->data.len
                                                                 : sizeof pong - 1 - pong_len;
            memcpy(pong + pong_len, ev->data.base, n);
            pong_len += n;
            pong[pong_len] = '\0';
            if (!strcmp(pong, "ping\n")) {
                add_event("pong");
                cnet_socket_end(s, NULL, 0, NULL, NULL);
            }
        }
        break;
    case CNET_EVENT_END:
        add_event("end");
        break;
    case CNET_EVENT_TIMEOUT:
        add_event("timeout");
        if (opt.destroy_on_timeout)
            cnet_socket_destroy(s);
        break;
    case CNET_EVENT_ERROR:
        snprintf(item, sizeof item, "error:%s:%s", cnet_err_name(ev->error->code),
                 ev->error->syscall ? ev->error->syscall : "-");
        add_event(item);
        fprintf(stderr, "netns_peer: error message: %s\n", ev->error->message);
        break;
    case CNET_EVENT_CLOSE:
        snprintf(item, sizeof item, "close:%d", ev->had_error);
        add_event(item);
        printf("EVENTS %s\n", events);
        fflush(stdout);
        if (server)
            cnet_server_close(server, NULL, NULL);
        break;
    default:
        break;
    }
}

static void watch(cnet_socket_t *s)
{
    static const cnet_event_type_t evs[] = {
        CNET_EVENT_CONNECT, CNET_EVENT_DRAIN, CNET_EVENT_DATA, CNET_EVENT_END,
        CNET_EVENT_TIMEOUT, CNET_EVENT_ERROR, CNET_EVENT_CLOSE};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        cnet_socket_on(s, evs[i], sock_cb, NULL);
}

static void on_connection(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)arg;
    watch(ev->connection);
    apply_options(ev->connection);
    add_event("connection");
    if (opt.stream)
        stream_more(ev->connection);
}

static void on_listening(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    (void)srv;
    (void)ev;
    (void)arg;
    printf("listening\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--keepalive"))
            opt.keepalive_ms = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--keepintvl"))
            opt.keepintvl = atoi(v), i++;
        else if (!strcmp(a, "--keepcnt"))
            opt.keepcnt = atoi(v), i++;
        else if (!strcmp(a, "--timeout"))
            opt.timeout_ms = (unsigned)atoi(v), i++;
        else if (!strcmp(a, "--destroy-on-timeout"))
            opt.destroy_on_timeout = true;
        else if (!strcmp(a, "--stream"))
            opt.stream = true;
        else if (!strcmp(a, "--echo"))
            opt.echo = true;
        else if (!strcmp(a, "--ping"))
            opt.ping = true;
        else
            return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(20);
    memset(chunk, 'x', sizeof chunk);
    t0 = cnet_loop_now(cnet_loop_default());
    const char *host = argv[2];
    int port = atoi(argv[3]);
    if (!strcmp(argv[1], "server")) {
        server = cnet_create_server(NULL, on_connection, NULL);
        if (!server || cnet_server_listen(server, port, host, on_listening, NULL) != 0)
            return 3;
    } else if (!strcmp(argv[1], "client")) {
        cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
        cnet_socket_t *s;
        co.port = port;
        co.host = host;
        co.timeout_ms = opt.timeout_ms; /* armed while connecting too, as node's */
        if (cnet_create_connection(NULL, &co, NULL, NULL, &s) != 0)
            return 3;
        watch(s);
        if (opt.keepalive_ms && cnet_socket_set_keep_alive(s, true, opt.keepalive_ms) != 0)
            return 3;
    } else {
        return 2;
    }
    return cnet_run() == 0 ? 0 : 1;
}
