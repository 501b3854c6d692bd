/*
 * Loopback helpers shared by the socket tests: a per-scenario loop, a
 * server on 127.0.0.1 port 0 and a connected client/accepted pair.
 * Header-only (static functions); include after harness.h.
 */
#ifndef CNET_TEST_PAIR_HELPERS_H
#define CNET_TEST_PAIR_HELPERS_H

#include "harness.h"

#include <cnet/uv.h>
#include <signal.h>

/* Runs @p loop one blocking iteration at a time until *flag is set. */
static inline void run_until(cnet_loop_t *loop, const volatile int *flag)
{
    while (!*flag)
        uv_run(cnet_loop_get_uv(loop), UV_RUN_ONCE);
}

typedef struct pair {
    cnet_loop_t *loop;
    cnet_server_t *srv;
    cnet_socket_t *client;   /* our connecting side */
    cnet_socket_t *accepted; /* the server's side */
    int listening, connected, accepted_n;
    int port;
} pair_t;

static void pair_on_listening_(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pair_t *p = arg;
    cnet_address_t a;
    (void)ev;
    ASSERT_OK(cnet_server_address(srv, &a));
    p->port = a.port;
    p->listening = 1;
}

static void pair_on_connection_(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    pair_t *p = arg;
    (void)srv;
    if (!p->accepted) {
        p->accepted = ev->connection;
        cnet_socket_retain(p->accepted); /* released by pair_close() */
    }
    p->accepted_n++;
}

static void pair_on_connect_(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    pair_t *p = arg;
    (void)s;
    (void)ev;
    p->connected = 1;
}

/* A fresh loop with a listening server (accepted sockets use @p sopts). */
static inline void pair_listen(pair_t *p, const cnet_server_opts_t *sopts)
{
    memset(p, 0, sizeof *p);
    signal(SIGPIPE, SIG_IGN);
    ASSERT_OK(cnet_loop_new(&p->loop));
    ASSERT_OK(cnet_server_new(p->loop, sopts, &p->srv));
    ASSERT_OK(cnet_server_on(p->srv, CNET_EVENT_CONNECTION, pair_on_connection_, p));
    ASSERT_OK(cnet_server_listen(p->srv, 0, "127.0.0.1", pair_on_listening_, p));
    run_until(p->loop, &p->listening);
}

/* Connects a new client (created with @p copts) and waits for both ends. */
static inline void pair_connect(pair_t *p, const cnet_socket_opts_t *copts)
{
    ASSERT_OK(cnet_socket_new(p->loop, copts, &p->client));
    cnet_socket_retain(p->client); /* released by pair_close() */
    ASSERT_OK(cnet_socket_connect(p->client, p->port, "127.0.0.1", pair_on_connect_, p));
    run_until(p->loop, &p->connected);
    run_until(p->loop, &p->accepted_n);
}

static inline void pair_open(pair_t *p, const cnet_server_opts_t *sopts,
                             const cnet_socket_opts_t *copts)
{
    pair_listen(p, sopts);
    pair_connect(p, copts);
}

/* Destroys everything still open, runs the loop dry and closes it. The pair's
 * sockets are retained, so they may have closed already. */
static inline void pair_close(pair_t *p)
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
    memset(p, 0, sizeof *p);
}

#endif
